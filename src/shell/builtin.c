/*
 * builtin.c - the shell's built-ins (cd, exit, export, set, eval, source,
 * read, local, type, alias, umask, ...).
 *
 * They are the commands that change or look into the shell itself, so they
 * run inside the interpreter with its state (interp_int.h); programs (cmd.h)
 * only see the shell through sh_cmd_ops.  Other commands bash counts as
 * built-ins (echo, printf, test, ...) are programs marked "builtin" in
 * cmd.h's table.  The lookup (it_dispatch in interp.c) tries functions,
 * then this table (bi_find), then those programs, then $PATH.
 *
 * Their output and messages are bash's, dash's or busybox ash's, chosen by
 * the interpreter's message style, byte for byte where checked.  What they
 * read or store is bounded like the rest of the interpreter (variables,
 * aliases, the nesting of eval and source).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interp_int.h"
#include "persona.h"
#include "util.h"

/* ---- built-ins ------------------------------------------------------------------------------------ */

static bool fs_dir(struct hp_interp *it, const char *abs, int *err)
{
    struct sh_stat st;
    *err = it->fs ? sh_vfs_stat(it->fs, abs, true, &st) : -ENOENT;
    if (*err == 0 && st.type != SH_FT_DIR)
        *err = -ENOTDIR;
    if (*err == 0 && sh_vfs_access(it->fs, abs, 1) != 0)
        *err = -EACCES;
    return *err == 0;
}

static void set_cwd(struct hp_interp *it, const char *dir)
{
    it_var_sets(it, "OLDPWD", it->cwd);
    free(it->cwd);
    it->cwd = hp_xstrdup(dir);
    it_var_sets(it, "PWD", it->cwd);
}

static int bi_cd(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    int i = 1;
    while (i < argc && (strcmp(argv[i], "-L") == 0 || strcmp(argv[i], "-P") == 0))
        i++;
    if (i < argc && strcmp(argv[i], "--") == 0)
        i++;
    if (argc - i > 1 && it_is_bashlike(it)) {
        it_shell_err(it, io, "cd: too many arguments");
        return 1;
    }
    const char *arg = i < argc ? argv[i] : it_var_get(it, "HOME");
    bool print = false;
    if (!arg) {
        it_shell_err(it, io, "cd: HOME not set");
        return 1;
    }
    if (strcmp(arg, "-") == 0) {
        arg = it_var_get(it, "OLDPWD");
        if (!arg) {
            it_shell_err(it, io, "cd: OLDPWD not set");
            return 1;
        }
        print = true;
    }
    if (!*arg)
        return 0;
    char abs[IT_PATH_MAX];
    int e = sh_vfs_abspath(it->cwd, arg, abs, sizeof(abs));
    if (e == 0)
        fs_dir(it, abs, &e);
    if (e != 0) {
        if (it_is_bashlike(it) || it->style == ST_DASH)
            it_shell_err(it, io, "cd: %s: %s", arg, sh_strerror(e));
        else
            it_shell_err(it, io, "cd: can't cd to %s: %s", arg, sh_strerror(e));
        return it->style == ST_DASH || !it_is_bashlike(it) ? 2 : 1;
    }
    set_cwd(it, abs);
    if (print)
        it_io_printf(it, io, 1, "%s\n", abs);
    return 0;
}

static int bi_exit(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    int st = it->status;
    if (argc > 1) {
        long v;
        if (!sh_parse_long(argv[1], &v)) {
            if (it_is_bashlike(it)) {
                it_shell_err(it, io, "exit: %s: numeric argument required", argv[1]);
                st = 2;
            } else {
                it_shell_err(it, io, "exit: Illegal number: %s", argv[1]);
                return 2;
            }
        } else if (argc > 2 && it_is_bashlike(it)) {
            it_shell_err(it, io, "exit: too many arguments");
            return 1;
        } else {
            st = (int)(v & 255);
        }
    }
    if (it->style == ST_BASH_I && it->nscopes == 0)
        it_io_puts(it, io, 2, "logout\n");
    it->exiting = true;
    it->exit_status = st;
    return st;
}

static int bi_logout(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    if (it->style == ST_BASH_C || it->style == ST_DASH) {
        if (it->style == ST_DASH) {
            it_shell_err(it, io, "logout: not found");
            return 127;
        }
        it_shell_err(it, io, "logout: not login shell: use `exit'");
        return 1;
    }
    return bi_exit(it, argc, argv, io);
}

/* A value as bash's declare -p / set print it. */
static void print_quoted(struct hp_buf *b, const char *v, bool dq)
{
    bool plain = *v != '\0';
    for (const char *p = v; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("_/.:-,+@%=", *p)))
            plain = false;
    if (dq) {
        hp_buf_putc(b, '"');
        for (const char *p = v; *p; p++) {
            if (strchr("\"\\$`", *p))
                hp_buf_putc(b, '\\');
            hp_buf_putc(b, (uint8_t)*p);
        }
        hp_buf_putc(b, '"');
        return;
    }
    if (plain) {
        hp_buf_puts(b, v);
        return;
    }
    hp_buf_putc(b, '\'');
    for (const char *p = v; *p; p++) {
        if (*p == '\'')
            hp_buf_puts(b, "'\\''");
        else
            hp_buf_putc(b, (uint8_t)*p);
    }
    hp_buf_putc(b, '\'');
}

static int cmp_var(const void *a, const void *b)
{
    return strcmp((*(struct var *const *)a)->name, (*(struct var *const *)b)->name);
}

/* Variables sorted by name; exported only when asked. */
static void print_vars(struct hp_interp *it, struct iox *io, bool exported, const char *prefix, bool dq)
{
    struct var **vs = hp_xcalloc(it->nvars + 1, sizeof(*vs));
    size_t n = 0;
    for (size_t i = 0; i < it->nvars; i++)
        if (!exported || it->vars[i].exported)
            vs[n++] = &it->vars[i];
    qsort(vs, n, sizeof(*vs), cmp_var);
    struct hp_buf b;
    hp_buf_init(&b, IT_OUT_MAX);
    for (size_t i = 0; i < n; i++) {
        hp_buf_printf(&b, "%s%s=", prefix, vs[i]->name);
        print_quoted(&b, vs[i]->val, dq);
        hp_buf_putc(&b, '\n');
    }
    it_io_put(it, io, 1, b.data, b.len);
    hp_buf_free(&b);
    free(vs);
}

static int bi_export(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    int st = 0, i = 1;
    bool unexport = false;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strchr(argv[i], 'n'))
            unexport = true;
    }
    if (i >= argc) {
        if (it_is_bashlike(it))
            print_vars(it, io, true, "declare -x ", true);
        else
            print_vars(it, io, true, "export ", false);
        return 0;
    }
    for (; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        size_t nl = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
        char name[128];
        if (nl >= sizeof(name) || !it_name_valid(argv[i], nl)) {
            if (it_is_bashlike(it))
                it_shell_err(it, io, "export: `%s': not a valid identifier", argv[i]);
            else
                it_shell_err(it, io, "export: %s: bad variable name", argv[i]);
            st = 1;
            continue;
        }
        memcpy(name, argv[i], nl);
        name[nl] = '\0';
        if (eq)
            it_var_sets(it, name, eq + 1);
        struct var *v = it_var_find(it, name);
        if (!v && !eq) {
            it_var_sets(it, name, "");     /* an exported, empty placeholder */
            v = it_var_find(it, name);
        }
        if (v) {
            it_undo_guard(it, name);
            v->exported = !unexport;
        }
    }
    return st;
}

static int bi_unset(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    bool funcs = false, vars = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strchr(argv[i], 'f'))
            funcs = true;
        if (strchr(argv[i], 'v'))
            vars = true;
    }
    for (; i < argc; i++) {
        if (!funcs && it_var_find(it, argv[i])) {
            it_var_unset(it, argv[i]);
            continue;
        }
        if (!vars)
            it_func_remove(it, argv[i]);
    }
    (void)io;
    return 0;
}

static int bi_set(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    if (argc == 1) {
        print_vars(it, io, false, "", false);
        return 0;
    }
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if ((argv[i][0] == '-' || argv[i][0] == '+') && argv[i][1]) {
            if (strcmp(argv[i] + 1, "o") == 0 && i + 1 < argc)
                i++;
            continue;               /* -e -x -u ... accepted, not emulated */
        }
        if (strcmp(argv[i], "-") == 0) {
            i++;
            break;
        }
        break;
    }
    if (i < argc || (i > 1 && strcmp(argv[i - 1], "--") == 0))
        it_pos_set(it, argv + i, argc - i);
    return 0;
}

static int bi_shift(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    long n = 1;
    if (argc > 1 && (!sh_parse_long(argv[1], &n) || n < 0)) {
        it_shell_err(it, io, "shift: %s: numeric argument required", argv[1]);
        return 1;
    }
    if (n > it->npos) {
        if (!it_is_bashlike(it)) {
            it_shell_err(it, io, "shift: can't shift that many");
            return 2;
        }
        return 1;
    }
    for (long k = 0; k < n; k++)
        free(it->pos[k]);
    memmove(it->pos, it->pos + n, (size_t)(it->npos - n + 1) * sizeof(*it->pos));
    it->npos -= (int)n;
    return 0;
}

static char *join_args(int argc, char **argv, size_t *len)
{
    struct hp_buf b;
    hp_buf_init(&b, IT_ARGBYTES_MAX + IT_ARGS_MAX);
    for (int i = 0; i < argc; i++) {
        if (i)
            hp_buf_putc(&b, ' ');
        hp_buf_puts(&b, argv[i]);
    }
    char *s = malloc(b.len + 1);
    if (s) {
        if (b.len)
            memcpy(s, b.data, b.len);
        s[b.len] = '\0';
    }
    *len = b.len;
    hp_buf_free(&b);
    return s;
}

static int bi_eval(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    if (argc < 2)
        return 0;
    if (it->fdepth >= IT_DEPTH_MAX) {
        it->abort = true;
        return 1;
    }
    size_t len;
    char *s = join_args(argc - 1, argv + 1, &len);
    if (!s)
        return 1;
    it->fdepth++;
    unsigned line = it->lineno;
    it->status = 0;
    int st = it_run_text(it, s, len, true, line, io);
    it->lineno = line;
    it->fdepth--;
    free(s);
    return st;
}

static int bi_source(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    if (argc < 2) {
        if (it_is_bashlike(it)) {
            it_shell_err(it, io, "%s: filename argument required", argv[0]);
            it_io_printf(it, io, 2, "%s: usage: %s filename [arguments]\n", argv[0], argv[0]);
        }
        return 2;
    }
    char abs[IT_PATH_MAX];
    struct sh_stat st;
    int e = -ENOENT;
    if (!strchr(argv[1], '/'))
        e = it_path_lookup(it, argv[1], abs, sizeof(abs), &st);
    if (e != 0)
        e = sh_vfs_abspath(it->cwd, argv[1], abs, sizeof(abs));
    struct hp_buf b;
    hp_buf_init(&b, SH_VFS_FILE_MAX);
    long r = e == 0 && it->fs ? sh_vfs_read(it->fs, abs, 0, 0, &b) : -ENOENT;
    if (r < 0) {
        if (it_is_bashlike(it))
            it_shell_err(it, io, "%s: %s", argv[1], sh_strerror((int)r));
        else
            it_shell_err(it, io, "%s: can't open '%s'", argv[0], argv[1]);
        hp_buf_free(&b);
        return it_is_bashlike(it) ? 1 : 2;
    }
    sh_vfs_capture(it->fs, abs);
    if (it->fdepth >= IT_DEPTH_MAX) {
        hp_buf_free(&b);
        it->abort = true;
        return 1;
    }
    it->fdepth++;
    char **pos = NULL;
    int npos = 0;
    if (argc > 2) {
        pos = it->pos;
        npos = it->npos;
        it->pos = it_pos_dup(argv + 2, argc - 2);
        it->npos = argc - 2;
    }
    unsigned line = it->lineno;
    it->status = 0;
    it_run_text(it, b.data ? (const char *)b.data : "", b.len, true, 1, io);
    int rs = it->status;
    if (it->returning)
        it->returning = false;
    if (pos) {
        it_pos_free(it->pos, it->npos);
        it->pos = pos;
        it->npos = npos;
    }
    it->lineno = line;
    it->fdepth--;
    hp_buf_free(&b);
    return rs;
}

static int bi_exec(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    if (argc < 2)
        return 0;                   /* exec 2>/dev/null: accepted */
    int st = it_dispatch(it, argc - 1, argv + 1, io, false);
    it->exiting = true;
    it->exit_status = st;
    return st;
}

/* One line from in (-r: raw); false at end of input with nothing read. */
static bool read_line(struct input *in, bool raw, long nchars, struct hp_buf *out, bool *complete)
{
    *complete = false;
    if (!in || in->pos >= in->len)
        return false;
    while (in->pos < in->len) {
        uint8_t c = in->data[in->pos++];
        if (c == '\n') {
            *complete = true;
            break;
        }
        if (c == '\\' && !raw) {
            if (in->pos >= in->len)
                break;
            c = in->data[in->pos++];
            if (c == '\n')
                continue;
        }
        hp_buf_putc(out, c);
        if (nchars > 0 && (long)out->len >= nchars) {
            *complete = true;
            break;
        }
    }
    return true;
}

static int bi_read(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    bool raw = false;
    long nchars = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        for (const char *o = argv[i] + 1; *o; o++) {
            if (*o == 'r') {
                raw = true;
            } else if (strchr("pntdau", *o)) {
                const char *val = o[1] ? o + 1 : i + 1 < argc ? argv[++i] : NULL;
                if (!val) {
                    it_shell_err(it, io, "read: -%c: option requires an argument", *o);
                    return 2;
                }
                if (*o == 'p' && !io->in)
                    it_io_puts(it, io, 2, val);
                if (*o == 'n' || *o == 'N')
                    sh_parse_long(val, &nchars);
                break;
            }
        }
    }
    struct hp_buf line;
    hp_buf_init(&line, IT_VAL_MAX);
    bool complete;
    bool got = read_line(io->in, raw, nchars, &line, &complete);
    const char *s = line.data ? (const char *)line.data : "";
    size_t n = line.len;
    if (i >= argc) {
        it_var_set(it, "REPLY", s, n);
        hp_buf_free(&line);
        return got && complete ? 0 : 1;
    }
    const char *ifs = ex_ifs(it);
    size_t p = 0;
    for (; i < argc; i++) {
        if (!it_name_valid(argv[i], strlen(argv[i]))) {
            it_shell_err(it, io, "read: `%s': not a valid identifier", argv[i]);
            hp_buf_free(&line);
            return 1;
        }
        while (p < n && strchr(" \t\n", s[p]) && s[p] && strchr(ifs, s[p]))
            p++;
        size_t st = p;
        if (i == argc - 1) {
            size_t e = n;
            while (e > st && strchr(" \t\n", s[e - 1]) && s[e - 1] && strchr(ifs, s[e - 1]))
                e--;
            it_var_set(it, argv[i], s + st, e - st);
        } else {
            while (p < n && !(s[p] && strchr(ifs, s[p])))
                p++;
            it_var_set(it, argv[i], s + st, p - st);
            if (p < n)
                p++;
        }
    }
    hp_buf_free(&line);
    return got && complete ? 0 : 1;
}

static int bi_return(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    long v = it->status;
    if (argc > 1 && !sh_parse_long(argv[1], &v)) {
        it_shell_err(it, io, "return: %s: numeric argument required", argv[1]);
        v = 2;
    }
    if (it->fdepth == 0) {
        it_shell_err(it, io, "return: can only `return' from a function or sourced script");
        return 1;
    }
    it->returning = true;
    it->status = (int)(v & 255);
    return it->status;
}

static int loop_ctl(struct hp_interp *it, int argc, char **argv, struct iox *io, bool brk)
{
    long n = 1;
    if (argc > 1 && (!sh_parse_long(argv[1], &n) || n < 1)) {
        it_shell_err(it, io, "%s: %s: loop count out of range", argv[0], argv[1]);
        return 1;
    }
    if (it->loops == 0) {
        if (it_is_bashlike(it))
            it_shell_err(it, io, "%s: only meaningful in a `for', `while', or `until' loop", argv[0]);
        return 0;
    }
    if (n > (long)it->loops)
        n = it->loops;
    if (brk)
        it->brk = (int)n;
    else
        it->cont = (int)n;
    return 0;
}

static int bi_break(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    return loop_ctl(it, argc, argv, io, true);
}

static int bi_continue(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    return loop_ctl(it, argc, argv, io, false);
}

static int bi_local(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    size_t k = it->nscopes;
    while (k > 0 && it->scopes[k - 1].sub)
        k--;
    bool infunc = k > 0 && strcmp(argv[0], "local") == 0;
    if (strcmp(argv[0], "local") == 0 && !infunc) {
        it_shell_err(it, io, "local: can only be used in a function");
        return 1;
    }
    int st = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            continue;
        char *eq = strchr(argv[i], '=');
        size_t nl = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
        char name[128];
        if (nl >= sizeof(name) || !it_name_valid(argv[i], nl)) {
            it_shell_err(it, io, "%s: `%s': not a valid identifier", argv[0], argv[i]);
            st = 1;
            continue;
        }
        memcpy(name, argv[i], nl);
        name[nl] = '\0';
        if (infunc)
            it_undo_note(it, k - 1, name);
        if (eq)
            it_var_sets(it, name, eq + 1);
        else if (infunc || !it_var_find(it, name))
            it_var_sets(it, name, "");
        if (strcmp(argv[0], "export") == 0) {
            struct var *v = it_var_find(it, name);
            if (v)
                v->exported = true;
        }
    }
    return st;
}

static const char *const keywords[] = {
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do", "done",
    "in", "function", "{", "}", "!", "[[", "]]", "select", "time", NULL,
};

static bool is_keyword(const char *s)
{
    for (size_t i = 0; keywords[i]; i++)
        if (strcmp(keywords[i], s) == 0)
            return true;
    return false;
}

/* type / command -v / command -V for one name; false when not found. */
static bool describe(struct hp_interp *it, struct iox *io, const char *name, int style)
{
    /* style: 0 type, 1 command -v */
    for (size_t i = 0; i < it->nalias; i++)
        if (strcmp(it->alias_name[i], name) == 0) {
            if (style == 1)
                it_io_printf(it, io, 1, "alias %s='%s'\n", name, it->alias_val[i]);
            else
                it_io_printf(it, io, 1, "%s is aliased to `%s'\n", name, it->alias_val[i]);
            return true;
        }
    if (is_keyword(name) && (it->bash || strcmp(name, "[[") != 0)) {
        it_io_printf(it, io, 1, style == 1 ? "%s\n" : "%s is a shell keyword\n", name);
        return true;
    }
    if (it_func_find(it, name)) {
        it_io_printf(it, io, 1, style == 1 ? "%s\n" : "%s is a function\n", name);
        return true;
    }
    const struct sh_cmd_def *d = sh_cmd_find(name);
    if (bi_find(name) || (d && d->builtin)) {
        it_io_printf(it, io, 1, style == 1 ? "%s\n" : "%s is a shell builtin\n", name);
        return true;
    }
    char abs[IT_PATH_MAX];
    struct sh_stat st;
    int e = -ENOENT;
    if (strchr(name, '/')) {
        e = sh_vfs_abspath(it->cwd, name, abs, sizeof(abs));
        if (e == 0 && it->fs)
            e = sh_vfs_stat(it->fs, abs, true, &st);
        if (e == 0 && (st.type != SH_FT_REG || !(st.mode & 0111)))
            e = -ENOENT;
        if (e == 0)
            snprintf(abs, sizeof(abs), "%s", name);
    } else {
        e = it_path_lookup(it, name, abs, sizeof(abs), &st);
    }
    if (e != 0)
        return false;
    it_io_printf(it, io, 1, style == 1 ? "%s\n" : "%s is %s\n", style == 1 ? abs : name, abs);
    return true;
}

static int bi_type(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    int st = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && i == 1 && argv[i][1])
            continue;
        if (!describe(it, io, argv[i], 0)) {
            if (it_is_bashlike(it))
                it_shell_err(it, io, "type: %s: not found", argv[i]);
            else
                it_io_printf(it, io, 1, "%s: not found\n", argv[i]);
            st = 1;
        }
    }
    return st;
}

static int bi_command(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    int i = 1, mode = -1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strchr(argv[i], 'v'))
            mode = 1;
        else if (strchr(argv[i], 'V'))
            mode = 0;
    }
    if (i >= argc)
        return 0;
    if (mode >= 0) {
        int st = 0;
        for (; i < argc; i++)
            if (!describe(it, io, argv[i], mode)) {
                if (mode == 0)
                    it_shell_err(it, io, "command: %s: not found", argv[i]);
                st = 1;
            }
        return st;
    }
    return it_dispatch(it, argc - i, argv + i, io, false);
}

static int bi_alias(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    int st = 0;
    if (argc == 1) {
        for (size_t k = 0; k < it->nalias; k++)
            it_io_printf(it, io, 1, "alias %s='%s'\n", it->alias_name[k], it->alias_val[k]);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        size_t nl = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
        size_t k = 0;
        while (k < it->nalias && !(strlen(it->alias_name[k]) == nl && memcmp(it->alias_name[k], argv[i], nl) == 0))
            k++;
        if (!eq) {
            if (k < it->nalias) {
                it_io_printf(it, io, 1, "alias %s='%s'\n", it->alias_name[k], it->alias_val[k]);
            } else {
                it_shell_err(it, io, "alias: %s: not found", argv[i]);
                st = 1;
            }
            continue;
        }
        if (k == it->nalias) {
            if (nl == 0 || it->nalias >= IT_ALIAS_MAX)
                continue;
            size_t cap = it->capalias;
            if (!it_grow((void **)&it->alias_name, &cap, it->nalias, sizeof(char *), IT_ALIAS_MAX) ||
                !it_grow((void **)&it->alias_val, &it->capalias, it->nalias, sizeof(char *), IT_ALIAS_MAX))
                continue;
            it->alias_name[k] = strndup(argv[i], nl);
            it->alias_val[k] = NULL;
            it->nalias++;
        }
        free(it->alias_val[k]);
        it->alias_val[k] = strndup(eq + 1, 4096);
    }
    return st;
}

static int bi_unalias(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    int st = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-a") == 0) {
            while (it->nalias) {
                it->nalias--;
                free(it->alias_name[it->nalias]);
                free(it->alias_val[it->nalias]);
            }
            continue;
        }
        size_t k = 0;
        while (k < it->nalias && strcmp(it->alias_name[k], argv[i]) != 0)
            k++;
        if (k == it->nalias) {
            it_shell_err(it, io, "unalias: %s: not found", argv[i]);
            st = 1;
            continue;
        }
        free(it->alias_name[k]);
        free(it->alias_val[k]);
        it->nalias--;
        it->alias_name[k] = it->alias_name[it->nalias];
        it->alias_val[k] = it->alias_val[it->nalias];
    }
    return st;
}

static int bi_nop(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    (void)it, (void)argc, (void)argv, (void)io;
    return 0;
}

static int bi_hash(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    if (argc == 1 && it_is_bashlike(it))
        it_shell_err(it, io, "hash: hash table empty");
    return 0;
}

static int bi_umask(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    int i = 1;
    bool sym = false;
    if (i < argc && strcmp(argv[i], "-S") == 0) {
        sym = true;
        i++;
    }
    if (i >= argc) {
        if (sym) {
            unsigned m = ~it->umask & 0777;
            char b[3][8];
            for (int k = 0; k < 3; k++) {
                unsigned v = (m >> (6 - 3 * k)) & 7;
                snprintf(b[k], sizeof(b[k]), "%s%s%s", v & 4 ? "r" : "", v & 2 ? "w" : "", v & 1 ? "x" : "");
            }
            it_io_printf(it, io, 1, "u=%s,g=%s,o=%s\n", b[0], b[1], b[2]);
        } else {
            it_io_printf(it, io, 1, "%04o\n", it->umask);
        }
        return 0;
    }
    char *end;
    unsigned long v = strtoul(argv[i], &end, 8);
    if (*end || v > 0777) {
        it_shell_err(it, io, "umask: %s: octal number out of range", argv[i]);
        return 1;
    }
    it->umask = (unsigned)v;
    return 0;
}

static int bi_times(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    (void)argc, (void)argv;
    it_io_puts(it, io, 1, "0m0.012s 0m0.004s\n0m0.001s 0m0.002s\n");
    return 0;
}

static int bi_let(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    long long v = 0;
    if (argc < 2) {
        it_shell_err(it, io, "let: expression expected");
        return 1;
    }
    for (int i = 1; i < argc; i++)
        if (!ex_arith(it, io, argv[i], strlen(argv[i]), &v))
            return 1;
    return v == 0;
}

static int bi_colon(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    return bi_nop(it, argc, argv, io);
}

static int bi_jobs(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    return bi_nop(it, argc, argv, io);
}

static const struct builtin builtins[] = {
    { ".", bi_source }, { ":", bi_colon }, { "alias", bi_alias }, { "break", bi_break },
    { "cd", bi_cd }, { "command", bi_command }, { "continue", bi_continue }, { "declare", bi_local },
    { "eval", bi_eval }, { "exec", bi_exec }, { "exit", bi_exit }, { "export", bi_export },
    { "hash", bi_hash }, { "jobs", bi_jobs }, { "let", bi_let }, { "local", bi_local },
    { "logout", bi_logout }, { "read", bi_read }, { "readonly", bi_local }, { "return", bi_return },
    { "set", bi_set }, { "shift", bi_shift }, { "source", bi_source }, { "times", bi_times },
    { "trap", bi_nop }, { "type", bi_type }, { "typeset", bi_local }, { "umask", bi_umask },
    { "unalias", bi_unalias }, { "unset", bi_unset }, { "wait", bi_nop },
};

const struct builtin *bi_find(const char *name)
{
    for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    return NULL;
}
