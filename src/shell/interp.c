/*
 * interp.c - the shell interpreter: runs parse.c's trees (see interp.h).
 *
 * Nothing is ever executed.  A line goes through the same steps as in a
 * real shell: it is parsed one complete command at a time (parse.c), and
 * each command is run by walking its tree.  Words are expanded when their
 * command runs, in POSIX order (expand.c); redirections are applied on top
 * of the command's streams (redir.c); the shell's own built-ins are in
 * builtin.c.  This file holds the rest: the interpreter's state and output,
 * variables, running commands and text, finding and running programs, what
 * programs see of the shell (cmd.h's sh_cmd_ops), and the interface.  The
 * four files share interp_int.h; everything else in them is static.
 *
 * Programs are C functions (cmd.h): the lookup is the shell's (functions,
 * built-ins, then $PATH in the vfs, where an entry's "applet" names the
 * program); a stage of a pipeline gets the previous stage's whole output
 * as stdin.  Subshells (pipeline stages, ( ), sh -c, command substitution)
 * run in the same process: variable changes are logged in an undo journal
 * and rolled back when the subshell ends, which costs only what the
 * subshell changed (a copy of every variable per subshell would let a
 * nested attacker multiply memory).
 *
 * Messages are bash 5.2's (login shell, "bash -c"), dash's for Debian's
 * /bin/sh, and busybox ash's, chosen by the personality and the way the
 * shell was started, byte for byte where checked: bots compare them.
 *
 * Bounds (all attacker-controlled): per top-level line 10,000 simple
 * commands, 1,000,000 steps, 1 MiB of output; 10,000 iterations per loop;
 * nesting of functions/eval/source/substitution 64; 256 variables of 64 KiB;
 * 4096 words / 1 MiB per argument list; 4096 glob results.  Past a line
 * bound the line stops with status 130 and the session goes on.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd_text.h"
#include "interp_int.h"
#include "persona.h"
#include "util.h"

/* ---- state ------------------------------------------------------------------ */

/* The structures are in interp_int.h (shared with expand.c, redir.c, builtin.c). */

/* Make room for one more element in a grown array (doubling, from 8); false
 * when max is reached or memory is short. */
bool it_grow(void **arr, size_t *cap, size_t n, size_t elem, size_t max)
{
    if (n < *cap)
        return true;
    if (n >= max)
        return false;
    size_t nc = *cap ? *cap * 2 : 8;
    if (nc > max)
        nc = max;
    void *na = realloc(*arr, nc * elem);
    if (!na)
        return false;
    *arr = na;
    *cap = nc;
    return true;
}

static int run_node(struct hp_interp *it, struct sh_node *n, struct iox *io);

/* ---- output ----------------------------------------------------------------- */

void it_io_put(struct hp_interp *it, struct iox *io, int fd, const void *p, size_t n)
{
    if (n == 0 || fd < 1 || fd > 2)
        return;
    struct sink *s = &io->fd[fd];
    switch (s->kind) {
    case K_TERM:
        if (it->out_bytes >= IT_OUT_MAX)
            return;
        if (n > IT_OUT_MAX - it->out_bytes)
            n = IT_OUT_MAX - it->out_bytes;
        it->out_bytes += n;
        if (s->term_fd == 2 && it->io.write_err)
            it->io.write_err(it->io.arg, p, n);
        else
            it->io.write(it->io.arg, p, n);
        break;
    case K_BUF:
        hp_buf_put(s->buf, p, n);
        break;
    case K_NULL:
        break;
    case K_FILE:
        sh_vfs_write(it->fs, s->path, p, n, SH_O_APPEND | SH_O_CREAT, 0666 & ~it->umask);
        break;
    }
}

void it_io_puts(struct hp_interp *it, struct iox *io, int fd, const char *s)
{
    it_io_put(it, io, fd, s, strlen(s));
}

void it_io_printf(struct hp_interp *it, struct iox *io, int fd, const char *fmt, ...)
{
    struct hp_buf b;
    hp_buf_init(&b, IT_VAL_MAX + 8192);
    va_list ap;
    va_start(ap, fmt);
    hp_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    it_io_put(it, io, fd, b.data, b.len);
    hp_buf_free(&b);
}

/* The shell's own message prefix ("-bash: ", "bash: line 3: ", "sh: 1: ", "-sh: "). */
static void shell_prefix(struct hp_interp *it, struct iox *io)
{
    switch (it->style) {
    case ST_BASH_I: it_io_puts(it, io, 2, "-bash: "); break;
    case ST_BASH_SCRIPT: it_io_printf(it, io, 2, "-bash: line %u: ", it->lineno); break;
    case ST_BASH_C: it_io_printf(it, io, 2, "%s: line %u: ", it->arg0, it->lineno); break;
    case ST_DASH: it_io_printf(it, io, 2, "%s: %u: ", it->arg0, it->lineno); break;
    case ST_ASH: it_io_puts(it, io, 2, "-sh: "); break;
    case ST_ASH_C: it_io_printf(it, io, 2, "%s: ", it->arg0); break;
    }
}

void it_shell_err(struct hp_interp *it, struct iox *io, const char *fmt, ...)
{
    struct hp_buf b;
    hp_buf_init(&b, IT_VAL_MAX + 8192);
    va_list ap;
    va_start(ap, fmt);
    hp_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    shell_prefix(it, io);
    it_io_put(it, io, 2, b.data, b.len);
    it_io_put(it, io, 2, "\n", 1);
    hp_buf_free(&b);
}

bool it_is_bashlike(const struct hp_interp *it)
{
    return it->style == ST_BASH_I || it->style == ST_BASH_SCRIPT || it->style == ST_BASH_C;
}

/* ---- variables and the undo journal ----------------------------------------------- */

struct var *it_var_find(struct hp_interp *it, const char *name)
{
    for (size_t i = 0; i < it->nvars; i++)
        if (strcmp(it->vars[i].name, name) == 0)
            return &it->vars[i];
    return NULL;
}

const char *it_var_get(struct hp_interp *it, const char *name)
{
    struct var *v = it_var_find(it, name);
    return v ? v->val : NULL;
}

static void undo_push(struct hp_interp *it, const char *name)
{
    struct var *v = it_var_find(it, name);
    if (it->nundo == it->capundo) {
        size_t nc = it->capundo ? it->capundo * 2 : 32;
        struct undo *nu = realloc(it->undo, nc * sizeof(*nu));
        if (!nu)
            return;
        it->undo = nu;
        it->capundo = nc;
    }
    struct undo *u = &it->undo[it->nundo++];
    u->name = hp_xstrdup(name);
    u->had = v != NULL;
    u->exported = v && v->exported;
    u->len = v ? v->len : 0;
    u->val = NULL;
    if (v) {
        u->val = malloc(v->len + 1);
        if (u->val) {
            memcpy(u->val, v->val, v->len + 1);
        } else {
            u->had = false;
        }
    }
}

/* Journal name's current value in scope k unless already journaled there. */
void it_undo_note(struct hp_interp *it, size_t k, const char *name)
{
    for (size_t i = it->scopes[k].undo_start; i < it->nundo; i++)
        if (strcmp(it->undo[i].name, name) == 0)
            return;
    undo_push(it, name);
}

/* Before a variable changes inside a subshell, remember its value. */
void it_undo_guard(struct hp_interp *it, const char *name)
{
    for (size_t k = it->nscopes; k-- > 0;)
        if (it->scopes[k].sub) {
            it_undo_note(it, k, name);
            return;
        }
}

bool it_name_valid(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' ||
              (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

/* Set without journaling (the journal's own restore and start-up). */
static void var_set_raw(struct hp_interp *it, const char *name, const char *val, size_t len, bool exported)
{
    if (len > IT_VAL_MAX || !it_name_valid(name, strlen(name)))
        return;
    struct var *v = it_var_find(it, name);
    if (!v) {
        if (it->nvars >= IT_VARS_MAX)
            return;
        struct var *nv = realloc(it->vars, (it->nvars + 1) * sizeof(*nv));
        if (!nv)
            return;
        it->vars = nv;
        v = &it->vars[it->nvars++];
        v->name = hp_xstrdup(name);
        v->val = NULL;
        v->exported = false;
    }
    char *nvv = malloc(len + 1);
    if (!nvv)
        return;
    memcpy(nvv, val, len);
    nvv[len] = '\0';
    free(v->val);
    v->val = nvv;
    v->len = len;
    v->exported |= exported;
}

static void var_unset_raw(struct hp_interp *it, const char *name)
{
    struct var *v = it_var_find(it, name);
    if (!v)
        return;
    free(v->name);
    free(v->val);
    *v = it->vars[--it->nvars];
}

void it_var_set(struct hp_interp *it, const char *name, const char *val, size_t len)
{
    it_undo_guard(it, name);
    var_set_raw(it, name, val, len, false);
}

void it_var_sets(struct hp_interp *it, const char *name, const char *val)
{
    it_var_set(it, name, val, strlen(val));
}

void it_var_unset(struct hp_interp *it, const char *name)
{
    it_undo_guard(it, name);
    var_unset_raw(it, name);
}

bool it_scope_push(struct hp_interp *it, bool sub)
{
    if (!it_grow((void **)&it->scopes, &it->capscopes, it->nscopes, sizeof(*it->scopes), IT_SCOPES_MAX))
        return false;
    it->scopes[it->nscopes].sub = sub;
    it->scopes[it->nscopes].undo_start = it->nundo;
    it->nscopes++;
    return true;
}

void it_scope_pop(struct hp_interp *it)
{
    if (it->nscopes == 0)
        return;
    size_t start = it->scopes[--it->nscopes].undo_start;
    while (it->nundo > start) {
        struct undo *u = &it->undo[--it->nundo];
        if (u->had) {
            var_set_raw(it, u->name, u->val, u->len, false);
            struct var *v = it_var_find(it, u->name);
            if (v)
                v->exported = u->exported;
        } else {
            var_unset_raw(it, u->name);
        }
        free(u->name);
        free(u->val);
    }
}

/* ---- positional parameters ------------------------------------------------------- */

void it_pos_free(char **pos, int n)
{
    for (int i = 0; i < n; i++)
        free(pos[i]);
    free(pos);
}

char **it_pos_dup(char *const *argv, int argc)
{
    char **p = hp_xcalloc((size_t)argc + 1, sizeof(*p));
    for (int i = 0; i < argc; i++)
        p[i] = hp_xstrdup(argv[i]);
    return p;
}

void it_pos_set(struct hp_interp *it, char *const *argv, int argc)
{
    char **np = it_pos_dup(argv, argc);
    it_pos_free(it->pos, it->npos);
    it->pos = np;
    it->npos = argc;
}

/* ---- time slices ------------------------------------------------------------------ */

/*
 * Sessions share the one network thread, and a line may interpret for up to
 * IT_LINE_MS (sed and awk loops, regexes, shell loops).  So that one
 * attacker's line does not hold every other session for that long, a line
 * pauses once it has had the CPU for IT_SLICE_MS: the shell (io.pause)
 * gives the event loop its turn and continues the line's fiber afterwards.
 * The time paused counts neither against the line's budget nor against its
 * running command's matching budget, which another session's command resets
 * meanwhile and which is therefore restored here.
 *
 * it_running is the interpreter whose line runs on this thread: lines of
 * different sessions interleave only at a pause or a fetch, and whoever
 * comes back from one sets it again.
 */
static _Thread_local struct hp_interp *it_running;

static void it_pause(struct hp_interp *it)
{
    if (!it->io.pause || it->abort)
        return;
    if (hp_mono_ms() - it->slice_ms < IT_SLICE_MS && !(it->io.hold && it->io.hold(it->io.arg)))
        return;
    int64_t re_left = txt_re_left();
    int64_t paused = it->io.pause(it->io.arg);
    it_running = it;
    txt_re_set_left(re_left);
    if (it->deadline_ms && paused > 0)
        it->deadline_ms += paused;
    it->slice_ms = hp_mono_ms();
}

bool sh_pause_point(void)
{
    struct hp_interp *it = it_running;
    if (!it)
        return true;
    it_pause(it);
    if (it->deadline_ms && hp_mono_ms() > it->deadline_ms)
        it->abort = true;
    return !it->abort;
}

/* ---- bounds ----------------------------------------------------------------------- */

/* One more piece of work on the line; false once a bound stops it.  The clock
 * is read every 1,024 steps (cheap), and by every simple command. */
bool it_step(struct hp_interp *it, unsigned long n)
{
    unsigned long before = it->steps;
    it->steps += n;
    if (it->steps > IT_STEPS_MAX)
        it->abort = true;
    else if ((before >> 10) != (it->steps >> 10)) {
        if (it->deadline_ms && hp_mono_ms() > it->deadline_ms)
            it->abort = true;
        else
            it_pause(it);
    }
    return !it->abort;
}

static bool stopped(const struct hp_interp *it)
{
    return it->abort || it->exiting || it->ended || it->brk || it->cont || it->returning;
}

/* ---- programs ------------------------------------------------------------------------------ */

static const struct sh_cmd_ops cmd_ops;

static int run_prog(struct hp_interp *it, const struct sh_cmd_def *d, const char *applet, int argc, char **argv,
                    struct iox *io)
{
    struct sh_cmd c;
    memset(&c, 0, sizeof(c));
    c.ops = &cmd_ops;
    c.it = it;
    c.argc = argc;
    c.argv = argv;
    c.applet = applet;
    if (io->in) {
        c.in = io->in->data ? io->in->data + io->in->pos : NULL;
        c.in_len = io->in->len - io->in->pos;
        if (!d->builtin)          /* echo, test, ... never read stdin: "while read" keeps it */
            io->in->pos = io->in->len;
    } else {
        c.in_tty = true;
    }
    c.out_tty = io->fd[1].kind == K_TERM && it->tty;   /* a pty: ssh without one is a pipe */
    c.width = it->width ? it->width : 80;
    c.height = it->height ? it->height : 24;
    c.persona = it->persona;
    c.fs = it->fs;
    c.sess = &it->sess;
    c.cwd = it->cwd;
    c.uid = it->uid;
    c.gid = it->gid;
    c.user = it->user;
    c.home = it->home;
    c.now_s = it->now_s;
    c.deadline_ms = it->deadline_ms;
    struct iox *save = it->cur_io;
    it->cur_io = io;
    int st = d->fn(&c);
    it->cur_io = save;
    return st & 255;
}

static void report_failed(struct hp_interp *it, int argc, char **argv)
{
    if (!it->io.failed)
        return;
    struct hp_buf b;
    hp_buf_init(&b, 64 * 1024);
    if (it->cur_simple) {             /* the words as typed */
        bool first = true;
        for (const struct sh_word *w = it->cur_simple->words; w; w = w->next) {
            if (!first)
                hp_buf_putc(&b, ' ');
            hp_buf_put(&b, w->text, w->len);
            first = false;
        }
        argc = 0;
    }
    for (int i = 0; i < argc; i++) {
        if (i)
            hp_buf_putc(&b, ' ');
        hp_buf_puts(&b, argv[i]);
    }
    it->io.failed(it->io.arg, b.data ? b.data : (const uint8_t *)"", b.len);
    hp_buf_free(&b);
}

/* Length of the valid UTF-8 sequence at s (1-4), 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char b = s[0];
    size_t len = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3
               : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((b == 0xE0 && s[1] < 0xA0) || (b == 0xED && s[1] >= 0xA0) ||
        (b == 0xF0 && s[1] < 0x90) || (b == 0xF4 && s[1] >= 0x90))
        return 0;
    return len;
}

/* A name as bash prints it in messages: $'...' when it has control bytes
 * or bytes that are not UTF-8 (those in octal, ESC as \E). */
static void quoted_name(struct hp_buf *b, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    bool plain = true;
    for (size_t i = 0, l; i < n && plain; i += l) {
        l = utf8_len(u + i, n - i);
        if (l == 0 || (l == 1 && (u[i] < 0x20 || u[i] == 0x7f)))
            plain = false;
    }
    if (plain) {
        hp_buf_puts(b, s);
        return;
    }
    hp_buf_puts(b, "$'");
    for (size_t i = 0, l; i < n; i += l) {
        static const char esc[] = "\a\b\x1b\f\n\r\t\v";
        static const char nam[] = "abEfnrtv";
        const char *e = strchr(esc, u[i]);
        l = utf8_len(u + i, n - i);
        if (l == 0)
            l = 1;
        if (e)
            hp_buf_printf(b, "\\%c", nam[e - esc]);
        else if (u[i] == '\'' || u[i] == '\\')
            hp_buf_printf(b, "\\%c", u[i]);
        else if (u[i] < 0x20 || u[i] == 0x7f || (u[i] >= 0x80 && utf8_len(u + i, n - i) == 0))
            hp_buf_printf(b, "\\%03o", u[i]);
        else
            hp_buf_put(b, u + i, l);
    }
    hp_buf_putc(b, '\'');
}

static int not_found(struct hp_interp *it, struct iox *io, int argc, char **argv, bool path)
{
    struct hp_buf b;
    hp_buf_init(&b, 64 * 1024);
    quoted_name(&b, argv[0]);
    const char *nm = hp_buf_cstr(&b);
    if (it_is_bashlike(it))
        it_shell_err(it, io, "%s: %s", nm, path ? "No such file or directory" : "command not found");
    else
        it_shell_err(it, io, "%s: not found", nm);
    hp_buf_free(&b);
    report_failed(it, argc, argv);
    return 127;
}

/* Find name in $PATH: its absolute path and stat.  0 or -ENOENT. */
int it_path_lookup(struct hp_interp *it, const char *name, char *out, size_t outlen, struct sh_stat *st)
{
    const char *path = it_var_get(it, "PATH");
    if (!path || !it->fs || !*name)
        return -ENOENT;
    size_t nl = strlen(name);
    for (const char *p = path; ; ) {
        const char *e = strchr(p, ':');
        size_t dl = e ? (size_t)(e - p) : strlen(p);
        char dir[IT_PATH_MAX];
        if (dl + nl + 2 < sizeof(dir)) {
            memcpy(dir, p, dl);
            dir[dl] = '\0';
            char rel[2 * IT_PATH_MAX + 2];
            snprintf(rel, sizeof(rel), "%s/%s", dl ? dir : ".", name);
            if (sh_vfs_abspath(it->cwd, rel, out, outlen) == 0 &&
                sh_vfs_stat(it->fs, out, true, st) == 0 && st->type == SH_FT_REG &&
                (st->mode & 0111))
                return 0;
        }
        if (!e)
            break;
        p = e + 1;
    }
    return -ENOENT;
}

static int run_script_text(struct hp_interp *it, const char *text, size_t len, const char *name, int argc,
                           char **argv, struct iox *io, enum style style);

/* An attacker's file run as a program. */
static int run_file(struct hp_interp *it, const char *abs, int argc, char **argv, struct iox *io)
{
    sh_vfs_capture(it->fs, abs);
    if (sh_vfs_access(it->fs, abs, 1) != 0) {
        it_shell_err(it, io, "%s: Permission denied", argv[0]);
        return 126;
    }
    struct hp_buf b;
    hp_buf_init(&b, SH_VFS_FILE_MAX);
    long r = sh_vfs_read(it->fs, abs, 0, 0, &b);
    int st = 0;
    if (r < 0) {
        it_shell_err(it, io, "%s: %s", argv[0], sh_strerror((int)r));
        st = 126;
    } else if (b.len >= 4 && memcmp(b.data, "\x7f" "ELF", 4) == 0) {
        unsigned m = 0;
        if (b.len >= 20)
            m = b.data[5] == 2 ? (unsigned)(b.data[18] << 8 | b.data[19]) : (unsigned)(b.data[19] << 8 | b.data[18]);
        if (it->persona && m == it->persona->elf_machine) {
            st = 0;
        } else if (it_is_bashlike(it)) {
            it_shell_err(it, io, "%s: cannot execute binary file: Exec format error", argv[0]);
            st = 126;
        } else {
            it_io_printf(it, io, 2, "%s: line 1: syntax error: unexpected word (expecting \")\")\n", argv[0]);
            st = 2;
        }
    } else if (b.len > 0) {
        const char *t = (const char *)b.data;
        bool shell = true;
        if (b.len > 2 && t[0] == '#' && t[1] == '!') {
            const char *nl = memchr(t, '\n', b.len);
            size_t ll = nl ? (size_t)(nl - t) : b.len;
            shell = false;
            static const char *const shells[] = { "sh", "bash", "ash", "dash", "busybox" };
            for (size_t k = 0; k < sizeof(shells) / sizeof(shells[0]); k++) {
                size_t sl = strlen(shells[k]);
                for (size_t i = 2; i + sl <= ll; i++)
                    if (memcmp(t + i, shells[k], sl) == 0 && t[i - 1] == '/' &&
                        (i + sl == ll || t[i + sl] == ' ' || t[i + sl] == '\r'))
                        shell = true;
            }
        }
        if (shell)
            st = run_script_text(it, t, b.len, argv[0], argc - 1, argv + 1, io,
                                 it->bash ? ST_BASH_C : ST_ASH_C);
    }
    hp_buf_free(&b);
    return st;
}

static int run_found(struct hp_interp *it, const char *abs, const struct sh_stat *st, int argc, char **argv,
                     struct iox *io)
{
    if (st->type == SH_FT_DIR) {
        it_shell_err(it, io, "%s: Is a directory", argv[0]);
        return 126;
    }
    if (!st->applet)
        return run_file(it, abs, argc, argv, io);
    const char *applet = st->applet;
    const char *base = strrchr(abs, '/');
    base = base ? base + 1 : abs;
    if (strcmp(applet, "busybox") == 0 && strcmp(base, "busybox") != 0)
        applet = base;                      /* a link to busybox runs the applet of its name */
    const struct sh_cmd_def *d = sh_cmd_find(applet);
    if (!d)
        return 0;                           /* in the image, not emulated: quiet success */
    return run_prog(it, d, d->name, argc, argv, io);
}

static int call_func(struct hp_interp *it, struct func *f, int argc, char **argv, struct iox *io);

/* Run an expanded command: functions, built-ins, programs; the "not found" path. */
int it_dispatch(struct hp_interp *it, int argc, char **argv, struct iox *io, bool funcs)
{
    const char *name = argv[0];
    if (!strchr(name, '/')) {
        struct func *f = funcs ? it_func_find(it, name) : NULL;
        if (f)
            return call_func(it, f, argc, argv, io);
        const struct builtin *b = bi_find(name);
        if (b)
            return b->fn(it, argc, argv, io);
        const struct sh_cmd_def *d = sh_cmd_find(name);
        if (d && d->builtin)
            return run_prog(it, d, d->name, argc, argv, io);
        char abs[IT_PATH_MAX];
        struct sh_stat st;
        if (it_path_lookup(it, name, abs, sizeof(abs), &st) == 0)
            return run_found(it, abs, &st, argc, argv, io);
        return not_found(it, io, argc, argv, false);
    }
    char abs[IT_PATH_MAX];
    struct sh_stat st;
    int e = sh_vfs_abspath(it->cwd, name, abs, sizeof(abs));
    if (e == 0 && it->fs)
        e = sh_vfs_stat(it->fs, abs, true, &st);
    if (e == -ENOENT || e == -ENOTDIR || !it->fs)
        return not_found(it, io, argc, argv, true);
    if (e < 0) {
        it_shell_err(it, io, "%s: %s", name, sh_strerror(e));
        return 126;
    }
    return run_found(it, abs, &st, argc, argv, io);
}

/* ---- functions ------------------------------------------------------------------------------- */

struct func *it_func_find(struct hp_interp *it, const char *name)
{
    for (size_t i = 0; i < it->nfuncs; i++)
        if (strcmp(it->funcs[i].name, name) == 0)
            return &it->funcs[i];
    return NULL;
}

static void func_define(struct hp_interp *it, const char *name, struct sh_node *body, struct sh_arena *a)
{
    struct func *f = it_func_find(it, name);
    if (!f) {
        if (!it_grow((void **)&it->funcs, &it->capfuncs, it->nfuncs, sizeof(*it->funcs), IT_FUNCS_MAX))
            return;
        f = &it->funcs[it->nfuncs++];
        f->name = hp_xstrdup(name);
    } else {
        sh_arena_unref(f->arena);
    }
    f->body = body;
    f->arena = a;
    sh_arena_ref(a);
}

void it_func_remove(struct hp_interp *it, const char *name)
{
    struct func *f = it_func_find(it, name);
    if (!f)
        return;
    free(f->name);
    sh_arena_unref(f->arena);
    *f = it->funcs[--it->nfuncs];
}

static int call_func(struct hp_interp *it, struct func *f, int argc, char **argv, struct iox *io)
{
    if (it->fdepth >= IT_DEPTH_MAX || !it_scope_push(it, false)) {
        it_shell_err(it, io, "%s: maximum function nesting level exceeded (%d)", argv[0], IT_DEPTH_MAX);
        it->abort = true;
        return 1;
    }
    it->fdepth++;
    struct sh_arena *a = f->arena;
    struct sh_node *body = f->body;
    sh_arena_ref(a);                        /* the function may redefine itself */
    char **save = it->pos;
    int nsave = it->npos;
    it->pos = it_pos_dup(argv + 1, argc - 1);
    it->npos = argc - 1;
    unsigned loops = it->loops;
    it->loops = 0;
    int st = run_node(it, body, io);
    if (it->returning) {
        it->returning = false;
        st = it->status;
    }
    it->loops = loops;
    it_pos_free(it->pos, it->npos);
    it->pos = save;
    it->npos = nsave;
    sh_arena_unref(a);
    it_scope_pop(it);
    it->fdepth--;
    return st;
}

/* ---- simple commands ----------------------------------------------------------------------------- */

static void job_line(struct hp_interp *it, struct iox *io)
{
    it->jobs++;
    it->lastbg = it->pid + 1 + (unsigned)(hp_random_u64() % 400);
    if (it->style == ST_BASH_I)
        it_io_printf(it, io, 2, "[%u] %u\n", it->jobs, it->lastbg);
}

/* The status of a command whose redirection failed: 2 in dash (Debian's sh),
 * 1 in bash and busybox ash. */
static int redir_failed(const struct hp_interp *it)
{
    return it->style == ST_DASH ? 2 : 1;
}

static int run_simple(struct hp_interp *it, struct sh_node *n, struct iox *io)
{
    if (++it->ncmds > IT_CMDS_MAX || (it->deadline_ms && hp_mono_ms() > it->deadline_ms)) {
        it->abort = true;
        return 130;
    }
    it_pause(it);
    it->lineno = n->line;
    struct strv args = { 0 };
    struct strv assigns = { 0 };
    bool err = false;
    int subst_status = -1;
    int save_status = it->status;
    for (struct sh_word *w = n->words; w && !it->abort; w = w->next) {
        if (w->assign) {
            size_t l;
            char *v = ex_string(it, io, w->text, w->len, false, &l, &err);
            if (v)
                ex_strv_add(&assigns, v, l);
            free(v);
        } else if (!ex_fields(it, io, w->text, w->len, &args)) {
            err = true;
        }
        if (it->status != save_status)
            subst_status = it->status;
    }
    if (it->abort || err) {
        ex_strv_free(&args);
        ex_strv_free(&assigns);
        return it->abort ? 130 : 1;
    }
    struct iox rio = *io;
    struct held h;
    memset(&h, 0, sizeof(h));
    int st = 0;
    if (args.n == 0) {
        for (size_t i = 0; i < assigns.n; i++) {
            char *eq = strchr(assigns.v[i], '=');
            if (!eq)
                continue;
            *eq = '\0';
            bool plus = eq > assigns.v[i] && eq[-1] == '+';
            if (plus) {
                eq[-1] = '\0';
                const char *old = it_var_get(it, assigns.v[i]);
                struct hp_buf b;
                hp_buf_init(&b, IT_VAL_MAX);
                hp_buf_puts(&b, old ? old : "");
                hp_buf_puts(&b, eq + 1);
                it_var_set(it, assigns.v[i], b.data ? (const char *)b.data : "", b.len);
                hp_buf_free(&b);
            } else {
                it_var_set(it, assigns.v[i], eq + 1, assigns.l[i] - (size_t)(eq + 1 - assigns.v[i]));
            }
        }
        st = rd_apply(it, n->redirs, &rio, &h) ? (subst_status >= 0 ? subst_status : 0) : redir_failed(it);
        rd_held_free(&h);
        ex_strv_free(&args);
        ex_strv_free(&assigns);
        return st;
    }
    if (it->io.command)
        it->io.command(it->io.arg, (int)args.n, args.v);
    if (!rd_apply(it, n->redirs, &rio, &h)) {
        rd_held_free(&h);
        ex_strv_free(&args);
        ex_strv_free(&assigns);
        return redir_failed(it);
    }
    /* A=b cmd: the assignment holds for this command only. */
    bool scoped = assigns.n > 0 && it_scope_push(it, true);
    for (size_t i = 0; i < assigns.n; i++) {
        char *eq = strchr(assigns.v[i], '=');
        if (eq) {
            *eq = '\0';
            it_var_set(it, assigns.v[i], eq + 1, strlen(eq + 1));
            struct var *v = it_var_find(it, assigns.v[i]);
            if (v)
                v->exported = true;
        }
    }
    const struct sh_node *save_simple = it->cur_simple;
    it->cur_simple = n;
    st = it_dispatch(it, (int)args.n, args.v, &rio, true);
    it->cur_simple = save_simple;
    if (scoped)
        it_scope_pop(it);
    rd_held_free(&h);
    ex_strv_free(&args);
    ex_strv_free(&assigns);
    return st;
}

/* ---- compound commands ----------------------------------------------------------------------------- */

/* Run in a subshell: variable, cwd and positional changes do not last. */
static int run_sub(struct hp_interp *it, struct sh_node *n, struct iox *io)
{
    if (!it_scope_push(it, true)) {
        it->abort = true;
        return 1;
    }
    char *cwd = hp_xstrdup(it->cwd);
    char **pos = it_pos_dup(it->pos, it->npos);
    int npos = it->npos;
    unsigned loops = it->loops;
    it->loops = 0;
    int st = run_node(it, n, io);
    if (it->exiting) {
        it->exiting = false;
        st = it->exit_status;
    }
    it->brk = it->cont = 0;
    it->returning = false;
    it->loops = loops;
    free(it->cwd);
    it->cwd = cwd;
    it_pos_free(it->pos, it->npos);
    it->pos = pos;
    it->npos = npos;
    it_scope_pop(it);
    return st;
}

static int run_pipe(struct hp_interp *it, struct sh_node *n, struct iox *io)
{
    struct sh_node *c = n->body;
    int st;
    if (!c->next) {
        st = run_node(it, c, io);
    } else {
        struct hp_buf bufs[2];
        struct input ins[2];
        hp_buf_init(&bufs[0], IT_PIPE_MAX);
        hp_buf_init(&bufs[1], IT_PIPE_MAX);
        int k = 0;
        struct input *in = io->in;
        st = 0;
        for (; c && !it->abort && !it->ended; c = c->next, k ^= 1) {
            struct iox sio = *io;
            sio.in = in;
            if (c->next) {
                hp_buf_reset(&bufs[k]);
                sio.fd[1].kind = K_BUF;
                sio.fd[1].buf = &bufs[k];
                if (c->flags & SH_F_PIPEERR)
                    sio.fd[2] = sio.fd[1];
            }
            st = run_sub(it, c, &sio);
            if (c->next) {
                ins[k].data = bufs[k].data;
                ins[k].len = bufs[k].len;
                ins[k].pos = 0;
                in = &ins[k];
            }
        }
        hp_buf_free(&bufs[0]);
        hp_buf_free(&bufs[1]);
    }
    if (n->flags & SH_F_BANG)
        st = !st;
    return st;
}

static int run_andor(struct hp_interp *it, struct sh_node *n, struct iox *io)
{
    int st = it->status;
    for (struct sh_node *p = n->body; p; p = p->next) {
        if (stopped(it))
            break;
        if ((p->flags & SH_F_AND) && st != 0)
            continue;
        if ((p->flags & SH_F_OR) && st == 0)
            continue;
        st = run_node(it, p, io);
        it->status = st;
    }
    return st;
}

static int run_list(struct hp_interp *it, struct sh_node *n, struct iox *io)
{
    int st = it->status;
    for (struct sh_node *p = n->body; p && !stopped(it); p = p->next) {
        st = run_node(it, p, io);
        if (p->flags & SH_F_ASYNC) {
            job_line(it, io);
            st = 0;
        }
        it->status = st;
    }
    return st;
}

/* break/continue bookkeeping after one iteration; true: leave the loop. */
static bool loop_after(struct hp_interp *it)
{
    if (it->brk) {
        it->brk--;
        return true;
    }
    if (it->cont) {
        it->cont--;
        if (it->cont)
            return true;              /* continue N>1 continues an outer loop */
    }
    return stopped(it);
}

static int run_while(struct hp_interp *it, struct sh_node *n, struct iox *io)
{
    int st = 0;
    it->loops++;
    for (unsigned k = 0; k < IT_LOOP_MAX && !stopped(it); k++) {
        if (!it_step(it, 1))
            break;
        int c = run_node(it, n->cond, io);
        if (stopped(it) && !it->brk && !it->cont)
            break;
        if (it->brk || it->cont) {
            if (loop_after(it))
                break;
            continue;
        }
        if ((c == 0) != (n->kind == SH_N_WHILE))
            break;
        st = run_node(it, n->body, io);
        if (loop_after(it))
            break;
    }
    it->loops--;
    return st;
}

static int run_for(struct hp_interp *it, struct sh_node *n, struct iox *io)
{
    struct strv items = { 0 };
    if (n->flags & SH_F_NOIN) {
        for (int i = 0; i < it->npos; i++)
            ex_strv_add(&items, it->pos[i], strlen(it->pos[i]));
    } else {
        for (struct sh_word *w = n->words; w; w = w->next)
            if (!ex_fields(it, io, w->text, w->len, &items)) {
                ex_strv_free(&items);
                return 1;
            }
    }
    int st = 0;
    it->loops++;
    for (size_t i = 0; i < items.n && i < IT_LOOP_MAX && !stopped(it); i++) {
        if (!it_step(it, 1))
            break;
        it_var_set(it, n->name, items.v[i], items.l[i]);
        st = run_node(it, n->body, io);
        if (loop_after(it))
            break;
    }
    it->loops--;
    ex_strv_free(&items);
    return st;
}

static int run_case(struct hp_interp *it, struct sh_node *n, struct iox *io)
{
    size_t sl;
    bool err = false;
    char *subj = ex_string(it, io, n->words->text, n->words->len, false, &sl, &err);
    if (!subj)
        return 1;
    int st = 0;
    for (struct sh_node *ci = n->body; ci && !stopped(it); ci = ci->next) {
        for (struct sh_word *p = ci->words; p; p = p->next) {
            size_t pl;
            char *pat = ex_string(it, io, p->text, p->len, true, &pl, &err);
            bool m = pat && it_step(it, 1) && sh_pattern_match(pat, pl, subj, sl, false);
            free(pat);
            if (m) {
                st = ci->body ? run_node(it, ci->body, io) : 0;
                free(subj);
                return st;
            }
        }
    }
    free(subj);
    return st;
}

static int run_dbrack(struct hp_interp *it, struct sh_node *n, struct iox *io)
{
    struct strv args = { 0 };
    ex_strv_add(&args, "[[", 2);
    bool err = false;
    bool pat_next = false;
    for (struct sh_word *w = n->words; w; w = w->next) {
        size_t l;
        char *v = ex_string(it, io, w->text, w->len, pat_next, &l, &err);
        if (v)
            ex_strv_add(&args, v, l);
        pat_next = (w->len == 2 && (memcmp(w->text, "==", 2) == 0 || memcmp(w->text, "!=", 2) == 0)) ||
                   (w->len == 1 && w->text[0] == '=');
        free(v);
    }
    ex_strv_add(&args, "]]", 2);
    const struct sh_cmd_def *d = sh_cmd_find("test");
    int st = err || !d ? 2 : run_prog(it, d, "[[", (int)args.n, args.v, io);
    ex_strv_free(&args);
    return st;
}

static int run_node(struct hp_interp *it, struct sh_node *n, struct iox *io)
{
    if (!n || stopped(it) || !it_step(it, 1))
        return it->abort ? 130 : it->status;
    struct iox rio;
    struct held h;
    bool redirected = n->redirs && n->kind != SH_N_SIMPLE && n->kind != SH_N_FUNC;
    if (redirected) {
        rio = *io;
        memset(&h, 0, sizeof(h));
        if (!rd_apply(it, n->redirs, &rio, &h)) {
            rd_held_free(&h);
            return redir_failed(it);
        }
        io = &rio;
    }
    int st = 0;
    switch (n->kind) {
    case SH_N_LIST: st = run_list(it, n, io); break;
    case SH_N_ANDOR: st = run_andor(it, n, io); break;
    case SH_N_PIPE: st = run_pipe(it, n, io); break;
    case SH_N_SIMPLE: st = run_simple(it, n, io); break;
    case SH_N_IF: {
        int c = run_node(it, n->cond, io);
        if (stopped(it))
            break;
        st = c == 0 ? run_node(it, n->body, io) : n->alt ? run_node(it, n->alt, io) : 0;
        break;
    }
    case SH_N_WHILE: case SH_N_UNTIL: st = run_while(it, n, io); break;
    case SH_N_FOR: st = run_for(it, n, io); break;
    case SH_N_CASE: st = run_case(it, n, io); break;
    case SH_N_BRACE: st = run_node(it, n->body, io); break;
    case SH_N_SUBSHELL: st = run_sub(it, n->body, io); break;
    case SH_N_FUNC: func_define(it, n->name, n->body, it->cur_arena); st = 0; break;
    case SH_N_DBRACK: st = run_dbrack(it, n, io); break;
    case SH_N_CASEITEM: break;
    }
    if (redirected)
        rd_held_free(&h);
    if (it->abort)
        st = 130;
    it->status = st;
    return st;
}

/* ---- running text --------------------------------------------------------------------------------- */

/* The text of line `line` of the text being run (for bash's echo of it). */
static void line_of(const char *text, size_t len, unsigned first, unsigned line, const char **s, size_t *n)
{
    size_t i = 0;
    for (unsigned l = first; l < line && i < len; l++) {
        const char *nl = memchr(text + i, '\n', len - i);
        i = nl ? (size_t)(nl - text) + 1 : len;
    }
    const char *nl = memchr(text + i, '\n', len - i);
    *s = text + i;
    *n = nl ? (size_t)(nl - (text + i)) : len - i;
}

static void syntax_error(struct hp_interp *it, struct iox *io, const struct sh_parse *p, const char *text,
                         size_t len, unsigned first)
{
    it->lineno = p->line;
    const char *ls;
    size_t ln;
    line_of(text, len, first, p->line, &ls, &ln);
    if (p->msg) {
        it_shell_err(it, io, "%s", p->tok);
        return;
    }
    switch (it->style) {
    case ST_BASH_I: case ST_BASH_SCRIPT: case ST_BASH_C:
        if (it->style == ST_BASH_C)
            it_io_printf(it, io, 2, "%s: -c: line %u: ", it->arg0, p->line);
        else
            shell_prefix(it, io);
        if (p->eof) {
            it_io_puts(it, io, 2, "syntax error: unexpected end of file\n");
            return;
        }
        it_io_printf(it, io, 2, "syntax error near unexpected token `%s'\n", p->tok);
        if (it->style == ST_BASH_I)
            return;
        if (it->style == ST_BASH_C)
            it_io_printf(it, io, 2, "%s: -c: line %u: `", it->arg0, p->line);
        else
            shell_prefix(it, io), it_io_puts(it, io, 2, "`");
        it_io_put(it, io, 2, ls, ln);
        it_io_puts(it, io, 2, "'\n");
        return;
    case ST_DASH:
        shell_prefix(it, io);
        if (p->eof)
            it_io_puts(it, io, 2, "Syntax error: end of file unexpected\n");
        else if (strcmp(p->tok, "newline") == 0)
            it_io_puts(it, io, 2, "Syntax error: newline unexpected\n");
        else
            it_io_printf(it, io, 2, "Syntax error: \"%s\" unexpected\n", p->tok);
        return;
    case ST_ASH: case ST_ASH_C:
        shell_prefix(it, io);
        if (p->eof)
            it_io_puts(it, io, 2, "syntax error: unexpected end of file\n");
        else if (strcmp(p->tok, "newline") == 0)
            it_io_puts(it, io, 2, "syntax error: unexpected newline\n");
        else
            it_io_printf(it, io, 2, "syntax error: unexpected \"%s\"\n", p->tok);
        return;
    }
}

/*
 * Parse and run text command by command.  Returns SH_PARSE_OK when all of
 * it ran, SH_PARSE_MORE (with *used the offset of the unfinished command)
 * when a construct is still open, SH_PARSE_ERROR after a syntax error.
 */
/* more (may be NULL): on SH_PARSE_MORE, the parse's account of what is open. */
static enum sh_parse_status run_text_at(struct hp_interp *it, const char *text, size_t len, bool final,
                                        unsigned first_line, struct iox *io, size_t *used, struct sh_parse *more)
{
    struct sh_parse_opts o = { .bash = it->bash, .final = final, .first_line = first_line };
    size_t pos = 0;
    *used = 0;
    while (pos < len && !stopped(it)) {
        struct sh_parse p;
        enum sh_parse_status s = sh_parse(text, len, pos, &o, &p);
        if (s == SH_PARSE_EMPTY)
            break;
        if (s == SH_PARSE_MORE) {
            *used = pos;
            if (more)
                *more = p;
            return s;
        }
        if (s == SH_PARSE_ERROR) {
            syntax_error(it, io, &p, text, len, first_line);
            it->status = 2;
            *used = len;
            return s;
        }
        struct sh_arena *save = it->cur_arena;
        it->cur_arena = p.arena;
        run_node(it, p.root, io);
        it->cur_arena = save;
        sh_arena_unref(p.arena);
        pos = p.end > pos ? p.end : len;
        sh_parse_advance(&o, text, pos);
    }
    *used = len;
    return SH_PARSE_OK;
}

int it_run_text(struct hp_interp *it, const char *text, size_t len, bool final, unsigned first_line,
                struct iox *io)
{
    size_t used;
    run_text_at(it, text, len, final, first_line, io, &used, NULL);
    return it->status;
}

/* A script in a child shell (sh -c, sh FILE, ./script): its own $0, $@, messages. */
static int run_script_text(struct hp_interp *it, const char *text, size_t len, const char *name, int argc,
                           char **argv, struct iox *io, enum style style)
{
    if (it->fdepth >= IT_DEPTH_MAX || !it_scope_push(it, true)) {
        it->abort = true;
        return 1;
    }
    it->fdepth++;
    char *cwd = hp_xstrdup(it->cwd);
    char **pos = it->pos;
    int npos = it->npos;
    char *arg0 = it->arg0;
    enum style ostyle = it->style;
    unsigned line = it->lineno, loops = it->loops;
    it->pos = it_pos_dup(argv, argc);
    it->npos = argc;
    it->arg0 = hp_xstrdup(name ? name : "sh");
    it->style = style;
    it->loops = 0;
    it->status = 0;
    it_run_text(it, text, len, true, 1, io);
    int st = it->status;
    if (it->exiting) {
        it->exiting = false;
        st = it->exit_status;
    }
    it->brk = it->cont = 0;
    it->returning = false;
    it_pos_free(it->pos, it->npos);
    free(it->arg0);
    it->pos = pos;
    it->npos = npos;
    it->arg0 = arg0;
    it->style = ostyle;
    it->lineno = line;
    it->loops = loops;
    free(it->cwd);
    it->cwd = cwd;
    it_scope_pop(it);
    it->fdepth--;
    it->status = st;
    return st;
}

/* ---- what programs see (cmd.h) ------------------------------------------------------------------ */

static struct iox *op_io(struct sh_cmd *c)
{
    static struct iox null_io = { .fd = { { K_NULL, NULL, NULL }, { K_NULL, NULL, NULL }, { K_NULL, NULL, NULL } } };
    return c->it->cur_io ? c->it->cur_io : &null_io;
}

static void op_write(struct sh_cmd *c, int fd, const void *data, size_t len)
{
    it_io_put(c->it, op_io(c), fd, data, len);
}

static const char *op_getenv(struct sh_cmd *c, const char *name)
{
    return it_var_get(c->it, name);
}

static void op_setenv(struct sh_cmd *c, const char *name, const char *value)
{
    if (value)
        it_var_sets(c->it, name, value);
    else
        it_var_unset(c->it, name);
}

static void op_environ(struct sh_cmd *c, struct hp_buf *out)
{
    struct hp_interp *it = c->it;
    for (size_t i = 0; i < it->nvars; i++)
        if (it->vars[i].exported)
            hp_buf_printf(out, "%s=%s\n", it->vars[i].name, it->vars[i].val);
}

static int op_which(struct sh_cmd *c, const char *name, char *out, size_t outlen)
{
    struct sh_stat st;
    if (strchr(name, '/')) {
        int e = sh_vfs_abspath(c->it->cwd, name, out, outlen);
        if (e == 0 && c->it->fs)
            e = sh_vfs_stat(c->it->fs, out, true, &st);
        return e == 0 && st.type == SH_FT_REG ? 0 : -ENOENT;
    }
    return it_path_lookup(c->it, name, out, outlen, &st);
}

static int op_run_argv(struct sh_cmd *c, int argc, char **argv)
{
    if (argc < 1 || !argv[0])
        return 0;
    if (c->it->io.command)
        c->it->io.command(c->it->io.arg, argc, argv);
    return it_dispatch(c->it, argc, argv, op_io(c), false);
}

static int op_run_script(struct sh_cmd *c, const uint8_t *text, size_t len, const char *name, int argc,
                         char **argv)
{
    struct hp_interp *it = c->it;
    const char *a = c->applet ? c->applet : "sh";
    enum style st = !it->bash ? ST_ASH_C : strcmp(a, "bash") == 0 ? ST_BASH_C : ST_DASH;
    if (!name)
        name = strcmp(a, "bash") == 0 ? "bash" : "sh";
    return run_script_text(it, (const char *)text, len, name, argc, argv, op_io(c), st);
}

static void op_logout(struct sh_cmd *c, int status)
{
    c->it->logout_req = true;
    c->it->exit_status = status;
}

static size_t op_history(struct sh_cmd *c, const char *const **lines)
{
    *lines = (const char *const *)c->it->hist;
    return c->it->nhist;
}

static enum sh_fetch_result op_fetch(struct sh_cmd *c, const char *tool, const char *url, const char *dest,
                                     struct hp_buf *body)
{
    struct hp_interp *it = c->it;
    if (!it->io.fetch)
        return SH_FETCH_UNREACHABLE;
    int64_t t0 = hp_mono_ms();
    int r = it->io.fetch(it->io.arg, tool, url, dest, body);
    it_running = it;                               /* other lines may have run meanwhile */
    if (it->deadline_ms)
        it->deadline_ms += hp_mono_ms() - t0;      /* waiting for the network is not interpreting */
    return (enum sh_fetch_result)r;
}

static void op_event(struct sh_cmd *c, const char *eventid, const char *key, const char *value)
{
    if (c->it->io.event)
        c->it->io.event(c->it->io.arg, eventid, key, value);
}

#define IT_STATE_MAX     64        /* facts kept per session for programs */
#define IT_STATE_VAL_MAX 4096

static char **state_find(struct hp_interp *it, const char *key)
{
    for (size_t i = 0; i < it->nstate; i++)
        if (strcmp(it->state[i], key) == 0)
            return &it->state[i];
    return NULL;
}

static const char *op_state_get(struct sh_cmd *c, const char *key)
{
    char **e = state_find(c->it, key);
    return e ? *e + strlen(*e) + 1 : NULL;
}

static void op_state_set(struct sh_cmd *c, const char *key, const char *value)
{
    struct hp_interp *it = c->it;
    char **e = state_find(it, key);
    if (!value) {
        if (e) {
            free(*e);
            *e = it->state[--it->nstate];
        }
        return;
    }
    size_t kl = strlen(key), vl = strnlen(value, IT_STATE_VAL_MAX);
    char *nv = malloc(kl + vl + 2);
    if (!nv)
        return;
    memcpy(nv, key, kl + 1);
    memcpy(nv + kl + 1, value, vl);
    nv[kl + 1 + vl] = '\0';
    if (e) {
        free(*e);
        *e = nv;
    } else if (it_grow((void **)&it->state, &it->capstate, it->nstate, sizeof(char *), IT_STATE_MAX)) {
        it->state[it->nstate++] = nv;
    } else {
        free(nv);                 /* past the bound: forgotten, the session goes on */
    }
}

static const struct sh_cmd_ops cmd_ops = {
    .write = op_write, .getenv = op_getenv, .setenv = op_setenv, .environ = op_environ,
    .which = op_which, .run_argv = op_run_argv, .run_script = op_run_script, .logout = op_logout,
    .history = op_history, .fetch = op_fetch, .event = op_event,
    .state_get = op_state_get, .state_set = op_state_set,
};

/* ---- the interface --------------------------------------------------------------------------------- */

static void hist_add(struct hp_interp *it, const uint8_t *line, size_t len)
{
    if (it->nhist == IT_HIST_MAX) {
        free(it->hist[0]);
        memmove(it->hist, it->hist + 1, (IT_HIST_MAX - 1) * sizeof(*it->hist));
        it->nhist--;
    }
    if (!it_grow((void **)&it->hist, &it->caphist, it->nhist, sizeof(*it->hist), IT_HIST_MAX))
        return;
    it->hist[it->nhist++] = strndup((const char *)line, len > 4096 ? 4096 : len);
    if (!it->hist[it->nhist - 1])
        it->nhist--;
}

static enum style style_of(const struct hp_interp *it, enum hp_interp_mode mode)
{
    if (!it->bash)
        return mode == HP_INTERP_EXEC ? ST_ASH_C : ST_ASH;
    return mode == HP_INTERP_INTERACTIVE ? ST_BASH_I : mode == HP_INTERP_SCRIPT ? ST_BASH_SCRIPT : ST_BASH_C;
}

/* The open construct is a here-document body and line is not its delimiter. */
static bool heredoc_goes_on(const struct hp_interp *it, const uint8_t *line, size_t len)
{
    if (!it->wait_delim[0])
        return false;
    size_t i = 0;
    if (it->wait_strip)
        while (i < len && line[i] == '\t')
            i++;
    size_t dl = strlen(it->wait_delim);
    return len - i != dl || memcmp(line + i, it->wait_delim, dl) != 0;
}

static bool interp_line(struct hp_interp *it, enum hp_interp_mode mode, unsigned lineno,
                        const uint8_t *line, size_t len)
{
    if (it->ended)
        return false;
    it->style = style_of(it, mode);
    free(it->arg0);
    it->arg0 = hp_xstrdup(mode == HP_INTERP_EXEC ? (it->bash ? "bash" : "sh") : (it->bash ? "-bash" : "-sh"));
    it->ncmds = it->steps = 0;
    it->deadline_ms = hp_mono_ms() + it->line_ms;
    it->out_bytes = 0;
    it->abort = false;
    it->now_s = hp_now_us() / 1000000;
    if (mode == HP_INTERP_INTERACTIVE)
        hist_add(it, line, len);
    bool again = it->incomplete;
    if (!again) {
        hp_buf_reset(&it->pending);
        it->pending_line = lineno ? lineno : 1;
        it->reparsed = 0;
    } else {
        hp_buf_putc(&it->pending, '\n');
    }
    hp_buf_put(&it->pending, line, len);
    struct iox io = { .fd = { { K_NULL, NULL, NULL }, { K_TERM, NULL, NULL, 1 }, { K_TERM, NULL, NULL, 2 } } };
    if (!hp_buf_ok(&it->pending)) {
        it->incomplete = false;
        it_shell_err(it, &io, "xmalloc: cannot allocate memory");
        hp_buf_reset(&it->pending);
        it->status = 2;
        return true;
    }
    /* A here-document body line other than its delimiter cannot end it: the
     * parse would say MORE again.  Not parsing the body again at each line
     * keeps an uploaded script of thousands of lines linear. */
    if (again && heredoc_goes_on(it, line, len))
        return true;
    it->incomplete = false;
    if (it->reparsed > IT_REPARSE_MAX) {  /* one more parse at most: under 256 KiB + IT_PENDING_MAX */
        it_shell_err(it, &io, "xmalloc: cannot allocate memory");
        hp_buf_reset(&it->pending);
        it->status = 2;
        return true;
    }
    if (again)
        it->reparsed += it->pending.len;  /* parsed again from its start: IT_REPARSE_MAX */
    size_t used;
    struct sh_parse more;
    enum sh_parse_status s = run_text_at(it, (const char *)it->pending.data, it->pending.len, false,
                                         it->pending_line, &io, &used, &more);
    it->wait_delim[0] = '\0';
    if (s == SH_PARSE_MORE) {
        memcpy(it->wait_delim, more.more_delim, sizeof(it->wait_delim));
        it->wait_strip = more.more_strip;
        unsigned skipped = 0;
        for (size_t i = 0; i < used; i++)
            skipped += it->pending.data[i] == '\n';
        hp_buf_consume(&it->pending, used);
        it->pending_line += skipped;
        it->incomplete = true;
    } else {
        hp_buf_reset(&it->pending);
    }
    if (s == SH_PARSE_ERROR && mode != HP_INTERP_INTERACTIVE)
        it->ended = true;
    if (it->abort && !it->exiting)
        it->status = 130;
    it->brk = it->cont = 0;
    it->returning = false;
    if (it->exiting) {
        it->exiting = false;
        it->status = it->exit_status;
        it->ended = true;
    }
    if (it->logout_req) {
        it->status = it->exit_status;
        it->ended = true;
    }
    if (it->ended)
        it->incomplete = false;
    return !it->ended;
}

bool hp_interp_line(struct hp_interp *it, enum hp_interp_mode mode, unsigned lineno,
                    const uint8_t *line, size_t len)
{
    it_running = it;
    bool more = interp_line(it, mode, lineno, line, len);   /* in the caller's slice: hp_interp_turn */
    it_running = NULL;
    return more;
}

static bool interp_eof(struct hp_interp *it, enum hp_interp_mode mode)
{
    if (it->ended || !it->incomplete)
        return !it->ended;
    it->style = style_of(it, mode);
    it->incomplete = false;
    struct iox io = { .fd = { { K_NULL, NULL, NULL }, { K_TERM, NULL, NULL, 1 }, { K_TERM, NULL, NULL, 2 } } };
    size_t used;
    it->abort = false;
    it->ncmds = it->steps = 0;
    it->deadline_ms = hp_mono_ms() + it->line_ms;
    enum sh_parse_status s = run_text_at(it, (const char *)it->pending.data, it->pending.len, true,
                                         it->pending_line, &io, &used, NULL);
    hp_buf_reset(&it->pending);
    if (s == SH_PARSE_ERROR && mode != HP_INTERP_INTERACTIVE)
        it->ended = true;
    if (it->exiting || it->logout_req) {
        it->exiting = false;
        it->status = it->exit_status;
        it->ended = true;
    }
    return !it->ended;
}

void hp_interp_turn(struct hp_interp *it)
{
    it->slice_ms = hp_mono_ms();
}

bool hp_interp_eof(struct hp_interp *it, enum hp_interp_mode mode)
{
    it_running = it;
    it->slice_ms = hp_mono_ms();
    bool more = interp_eof(it, mode);
    it_running = NULL;
    return more;
}

bool hp_interp_incomplete(const struct hp_interp *it)
{
    return it->incomplete;
}

int hp_interp_status(const struct hp_interp *it)
{
    return it->status;
}

void hp_interp_abort(struct hp_interp *it)
{
    if (it)
        it->deadline_ms = 1;
}

void hp_interp_set_size(struct hp_interp *it, unsigned width, unsigned height)
{
    it->width = !width ? 80 : width > HP_INTERP_COLS_MAX ? HP_INTERP_COLS_MAX : width;
    it->height = !height ? 24 : height > HP_INTERP_ROWS_MAX ? HP_INTERP_ROWS_MAX : height;
}

void hp_interp_set_status(struct hp_interp *it, int status)
{
    it->status = status;
    if (status == 130 && it->incomplete) {   /* ^C drops the open construct, as bash does */
        it->incomplete = false;
        hp_buf_reset(&it->pending);
    }
}

size_t hp_interp_prompt(const struct hp_interp *it, char *out, size_t outlen)
{
    size_t homel = strlen(it->home);
    const char *dir = it->cwd, *tilde = "";
    if (strncmp(it->cwd, it->home, homel) == 0 && (it->cwd[homel] == '\0' || it->cwd[homel] == '/') &&
        strcmp(it->home, "/") != 0) {
        tilde = "~";
        dir = it->cwd + homel;
    }
    char sign = it->uid == 0 ? '#' : '$';
    int n;
    if (it->bash)
        n = snprintf(out, outlen, "%s@%.*s:%s%s%c ", it->user, (int)strcspn(it->host, "."), it->host, tilde,
                     dir, sign);
    else
        n = snprintf(out, outlen, "%s%s %c ", tilde, dir, sign);
    if (n < 0)
        return 0;
    return (size_t)n < outlen ? (size_t)n : outlen ? outlen - 1 : 0;
}

static void capture_cb(void *arg, const char *path, const uint8_t *data, size_t len)
{
    struct hp_interp *it = arg;
    if (it->io.captured)
        it->io.captured(it->io.arg, path, data, len);
}

static void env_export(struct hp_interp *it, const char *name, const char *val)
{
    var_set_raw(it, name, val, strlen(val), true);
}

static void init_env(struct hp_interp *it, const struct hp_interp_sys *sys)
{
    char buf[256];
    if (it->bash) {
        env_export(it, "SHELL", "/bin/bash");
        env_export(it, "PWD", it->cwd);
        env_export(it, "LOGNAME", it->user);
        env_export(it, "XDG_SESSION_TYPE", "tty");
        env_export(it, "MOTD_SHOWN", "pam");
        env_export(it, "HOME", it->home);
        env_export(it, "LANG", "C.UTF-8");
        if (sys->client_ip && sys->protocol && strcmp(sys->protocol, "ssh") == 0) {
            unsigned port = 32768 + (unsigned)(hp_random_u64() % 28000);
            snprintf(buf, sizeof(buf), "%s %u %s 22", sys->client_ip, port, sys->ip ? sys->ip : "10.0.0.2");
            env_export(it, "SSH_CONNECTION", buf);
        }
        env_export(it, "XDG_SESSION_CLASS", "user");
        if (sys->term)
            env_export(it, "TERM", sys->term);
        env_export(it, "USER", it->user);
        env_export(it, "SHLVL", "1");
        snprintf(buf, sizeof(buf), "%u", 1 + (unsigned)(hp_random_u64() % 40));
        env_export(it, "XDG_SESSION_ID", buf);
        snprintf(buf, sizeof(buf), "/run/user/%u", it->uid);
        env_export(it, "XDG_RUNTIME_DIR", buf);
        if (sys->client_ip && sys->protocol && strcmp(sys->protocol, "ssh") == 0) {
            const char *conn = it_var_get(it, "SSH_CONNECTION");
            const char *sp = conn ? strchr(conn, ' ') : NULL;
            unsigned port = sp ? (unsigned)atoi(sp + 1) : 40000;
            snprintf(buf, sizeof(buf), "%s %u 22", sys->client_ip, port);
            env_export(it, "SSH_CLIENT", buf);
        }
        env_export(it, "PATH", it->uid == 0 ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                                             : "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games");
        snprintf(buf, sizeof(buf), "unix:path=/run/user/%u/bus", it->uid);
        env_export(it, "DBUS_SESSION_BUS_ADDRESS", buf);
        if (sys->tty) {
            snprintf(buf, sizeof(buf), "/dev/%s", sys->tty);
            if (sys->protocol && strcmp(sys->protocol, "ssh") == 0)
                env_export(it, "SSH_TTY", buf);
        }
        var_set_raw(it, "HOSTNAME", it->host, strlen(it->host), false);
    } else {
        env_export(it, "USER", it->user);
        env_export(it, "LOGNAME", it->user);
        env_export(it, "HOME", it->home);
        env_export(it, "PATH", "/bin:/sbin:/usr/bin:/usr/sbin");
        env_export(it, "SHELL", "/bin/sh");
        if (sys->term)
            env_export(it, "TERM", sys->term);
        env_export(it, "PWD", it->cwd);
    }
    var_set_raw(it, "PS1", it->bash ? "\\u@\\h:\\w\\$ " : "\\w \\$ ", it->bash ? 12 : 6, false);
    var_set_raw(it, "PS2", "> ", 2, false);
    var_set_raw(it, "IFS", " \t\n", 3, false);
}

static char *dup_or(const char *s, const char *dflt)
{
    return hp_xstrdup(s ? s : dflt);
}

struct hp_interp *hp_interp_new(const struct hp_interp_sys *sys, const struct hp_interp_io *io)
{
    struct hp_interp *it = hp_xcalloc(1, sizeof(*it));
    it->io = *io;
    it->persona = sys->persona ? sys->persona : hp_persona_get("debian");
    it->bash = !it->persona || it->persona->shell == HP_SH_BASH;
    it->user = dup_or(sys->user, "root");
    it->host = dup_or(sys->host, it->persona ? it->persona->hostname : "localhost");
    it->uid = strcmp(it->user, "root") == 0 ? 0 : 1000;
    if (it->uid == 0) {
        it->home = hp_xstrdup("/root");
    } else {
        size_t n = strlen(it->user) + 7;
        it->home = hp_xcalloc(1, n);
        snprintf(it->home, n, "/home/%s", it->user);
    }
    it->cwd = hp_xstrdup(it->home);
    it->client_ip = sys->client_ip ? hp_xstrdup(sys->client_ip) : NULL;
    it->local_ip = sys->ip ? hp_xstrdup(sys->ip) : NULL;
    it->tty = sys->tty ? hp_xstrdup(sys->tty) : NULL;
    it->protocol = dup_or(sys->protocol, "ssh");
    it->line_ms = sys->line_ms ? sys->line_ms : IT_LINE_MS;
    it->daemon = sys->daemon ? hp_xstrdup(sys->daemon) : NULL;
    it->shell_cmd = sys->shell_cmd ? hp_xstrdup(sys->shell_cmd) : NULL;
    hp_interp_set_size(it, sys->width, sys->height);
    it->pid = 1000 + (unsigned)(hp_random_u64() % 60000);
    it->umask = 022;
    it->arg0 = hp_xstrdup(it->bash ? "-bash" : "-sh");
    it->style = it->bash ? ST_BASH_I : ST_ASH;
    it->sess = (struct sh_session){ .client_ip = it->client_ip, .local_ip = it->local_ip, .tty = it->tty,
                                    .login_s = hp_now_us() / 1000000, .shell_pid = it->pid,
                                    .protocol = it->protocol, .daemon = it->daemon,
                                    .shell_cmd = it->shell_cmd };
    hp_buf_init(&it->pending, IT_PENDING_MAX);
    it->slice_ms = hp_mono_ms();
    struct sh_vfs_params vp = { .persona = it->persona, .source = sys->client_ip, .uid = it->uid,
                                .gid = it->uid, .user = it->user, .home = it->home, .shell_pid = it->pid,
                                .capture = capture_cb, .capture_arg = it };
    it->fs = it->persona ? sh_vfs_open(&vp) : NULL;
    if (it->fs && it->uid != 0) {       /* the machine's account for this name */
        char home[256];
        sh_vfs_whoami(it->fs, &it->uid, &it->gid, home, sizeof(home));
        free(it->home);
        it->home = hp_xstrdup(home);
        free(it->cwd);
        it->cwd = hp_xstrdup(home);
    }
    init_env(it, sys);
    return it;
}

void hp_interp_free(struct hp_interp *it)
{
    if (!it)
        return;
    if (it->fs)
        sh_vfs_close(it->fs);
    for (size_t i = 0; i < it->nvars; i++) {
        free(it->vars[i].name);
        free(it->vars[i].val);
    }
    free(it->vars);
    for (size_t i = 0; i < it->nfuncs; i++) {
        free(it->funcs[i].name);
        sh_arena_unref(it->funcs[i].arena);
    }
    for (size_t i = 0; i < it->nalias; i++) {
        free(it->alias_name[i]);
        free(it->alias_val[i]);
    }
    while (it->nscopes)
        it_scope_pop(it);
    free(it->undo);
    free(it->funcs);
    free(it->alias_name);
    free(it->alias_val);
    free(it->scopes);
    for (size_t i = 0; i < it->nhist; i++)
        free(it->hist[i]);
    free(it->hist);
    for (size_t i = 0; i < it->nstate; i++)
        free(it->state[i]);
    free(it->state);
    it_pos_free(it->pos, it->npos);
    hp_buf_free(&it->pending);
    free(it->arg0);
    free(it->user);
    free(it->host);
    free(it->home);
    free(it->cwd);
    free(it->client_ip);
    free(it->local_ip);
    free(it->tty);
    free(it->daemon);
    free(it->shell_cmd);
    free(it->protocol);
    free(it);
}
