/*
 * interp.c - the shell interpreter: runs parse.c's trees (see interp.h).
 *
 * Nothing is ever executed.  A line goes through the same steps as in a
 * real shell: it is parsed one complete command at a time (parse.c), and
 * each command is run by walking its tree.  Words are expanded when their
 * command runs, in POSIX order: tilde, parameters, command substitution
 * (the text goes through this same interpreter with stdout captured),
 * arithmetic, field splitting on $IFS (only bytes that came out of an
 * unquoted expansion split), pathname expansion against the session's
 * fake file system (vfs.h), quote removal.  Each byte of a word being built
 * carries a flag (quoted / from an expansion) so splitting and globbing
 * know which bytes they may touch.
 *
 * Programs are C functions (cmd.h): the lookup is the shell's (functions,
 * built-ins, then $PATH in the vfs, where an entry's "applet" names the
 * program); a stage of a pipeline gets the previous stage's whole output
 * as stdin.  Redirections read and write vfs files.  Subshells (pipeline
 * stages, ( ), sh -c) run in the same process: variable changes are logged
 * in an undo journal and rolled back when the subshell ends, which costs
 * only what the subshell changed (a copy of every variable per subshell
 * would let a nested attacker multiply memory).
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
#include "interp.h"
#include "parse.h"
#include "cmd.h"
#include "vfs.h"
#include "persona.h"
#include "buf.h"
#include "util.h"

#define IT_CMDS_MAX      10000
#define IT_STEPS_MAX     1000000
#define IT_LOOP_MAX      10000
#define IT_DEPTH_MAX     64
#define IT_OUT_MAX       (1u << 20)
#define IT_PIPE_MAX      (1u << 20)
#define IT_VARS_MAX      256
#define IT_VAL_MAX       (64u << 10)
#define IT_ARGS_MAX      4096
#define IT_ARGBYTES_MAX  (1u << 20)
#define IT_GLOB_MAX      4096
#define IT_PENDING_MAX   (1u << 20)
#define IT_HIST_MAX      500
#define IT_FUNCS_MAX     256
#define IT_ALIAS_MAX     64
#define IT_PATH_MAX      4096
#define IT_SCOPES_MAX    (2 * IT_DEPTH_MAX + 8)

/* ---- state ------------------------------------------------------------------ */

struct var {
    char *name;
    char *val;
    size_t len;
    bool exported;
};

struct func {
    char *name;
    struct sh_node *body;
    struct sh_arena *arena;
};

/* One entry of the undo journal: the value name had before a subshell or a
 * function's "local" changed it. */
struct undo {
    char *name;
    char *val;
    size_t len;
    bool had, exported;
};

struct scope {
    bool sub;                     /* subshell (everything rolls back) or function (locals) */
    size_t undo_start;
};

/* A command's standard input: shared so "while read" walks through it. */
struct input {
    const uint8_t *data;
    size_t len, pos;
};

enum sink_kind { K_TERM, K_BUF, K_NULL, K_FILE };

struct sink {
    enum sink_kind kind;
    struct hp_buf *buf;
    const char *path;
};

struct iox {
    struct sink fd[3];
    struct input *in;             /* NULL: the terminal (reads see EOF) */
};

/* How messages are prefixed (who is talking). */
enum style { ST_BASH_I, ST_BASH_SCRIPT, ST_BASH_C, ST_DASH, ST_ASH, ST_ASH_C };

struct hp_interp {
    struct hp_interp_io io;
    const struct hp_persona *persona;
    struct sh_vfs *fs;
    struct sh_session sess;
    char *user, *host, *home, *cwd, *client_ip, *local_ip, *tty, *protocol;
    unsigned uid, gid;
    unsigned width;
    bool bash;                    /* the login shell is bash (else busybox ash) */

    struct var *vars;
    size_t nvars;
    /* grown on demand: an idle session holds only what it used (10,000 idle ones) */
    struct func *funcs;
    size_t nfuncs, capfuncs;
    char **alias_name, **alias_val;
    size_t nalias, capalias;
    struct undo *undo;
    size_t nundo, capundo;
    struct scope *scopes;
    size_t nscopes, capscopes;

    char **pos;                   /* $1.. */
    int npos;
    char *arg0;                   /* $0 */

    int status;
    bool ended;                   /* the session is over */
    bool exiting;                 /* exit ran: unwind to the shell (or subshell) level */
    int exit_status;
    bool logout_req;
    int brk, cont;                /* pending break / continue levels */
    bool returning;
    unsigned loops;               /* loops around the current point (break's bound) */
    unsigned fdepth;              /* functions, eval, source, substitutions */

    enum style style;
    unsigned lineno;              /* line of the command for messages */
    const char *cur_text;         /* the text being run (syntax error echo) */
    size_t cur_len;
    unsigned cur_first;

    unsigned long ncmds, steps;
    size_t out_bytes;
    bool abort;                   /* a bound was hit: stop the line */

    struct hp_buf pending;
    unsigned pending_line;
    bool incomplete;

    char **hist;
    size_t nhist, caphist;

    unsigned pid, lastbg, jobs;
    unsigned umask;
    int64_t now_s;
    struct iox *cur_io;           /* the streams of the program running now (cmd ops) */
    struct sh_arena *cur_arena;   /* arena of the tree being run (function definitions keep it) */
    const struct sh_node *cur_simple; /* the simple command running (its source for command.failed) */
};

/* Make room for one more element in a grown array (doubling, from 8); false
 * when max is reached or memory is short. */
static bool grow(void **arr, size_t *cap, size_t n, size_t elem, size_t max)
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
static int run_text(struct hp_interp *it, const char *text, size_t len, bool final, unsigned first_line,
                    struct iox *io);

/* ---- output ----------------------------------------------------------------- */

static void io_put(struct hp_interp *it, struct iox *io, int fd, const void *p, size_t n)
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

static void io_puts(struct hp_interp *it, struct iox *io, int fd, const char *s)
{
    io_put(it, io, fd, s, strlen(s));
}

static void io_printf(struct hp_interp *it, struct iox *io, int fd, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void io_printf(struct hp_interp *it, struct iox *io, int fd, const char *fmt, ...)
{
    struct hp_buf b;
    hp_buf_init(&b, IT_VAL_MAX + 8192);
    va_list ap;
    va_start(ap, fmt);
    hp_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    io_put(it, io, fd, b.data, b.len);
    hp_buf_free(&b);
}

/* The shell's own message prefix ("-bash: ", "bash: line 3: ", "sh: 1: ", "-sh: "). */
static void shell_prefix(struct hp_interp *it, struct iox *io)
{
    switch (it->style) {
    case ST_BASH_I: io_puts(it, io, 2, "-bash: "); break;
    case ST_BASH_SCRIPT: io_printf(it, io, 2, "-bash: line %u: ", it->lineno); break;
    case ST_BASH_C: io_printf(it, io, 2, "%s: line %u: ", it->arg0, it->lineno); break;
    case ST_DASH: io_printf(it, io, 2, "%s: %u: ", it->arg0, it->lineno); break;
    case ST_ASH: io_puts(it, io, 2, "-sh: "); break;
    case ST_ASH_C: io_printf(it, io, 2, "%s: ", it->arg0); break;
    }
}

static void shell_err(struct hp_interp *it, struct iox *io, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void shell_err(struct hp_interp *it, struct iox *io, const char *fmt, ...)
{
    struct hp_buf b;
    hp_buf_init(&b, IT_VAL_MAX + 8192);
    va_list ap;
    va_start(ap, fmt);
    hp_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    shell_prefix(it, io);
    io_put(it, io, 2, b.data, b.len);
    io_put(it, io, 2, "\n", 1);
    hp_buf_free(&b);
}

static bool is_bashlike(const struct hp_interp *it)
{
    return it->style == ST_BASH_I || it->style == ST_BASH_SCRIPT || it->style == ST_BASH_C;
}

/* ---- variables and the undo journal ----------------------------------------------- */

static struct var *var_find(struct hp_interp *it, const char *name)
{
    for (size_t i = 0; i < it->nvars; i++)
        if (strcmp(it->vars[i].name, name) == 0)
            return &it->vars[i];
    return NULL;
}

static const char *var_get(struct hp_interp *it, const char *name)
{
    struct var *v = var_find(it, name);
    return v ? v->val : NULL;
}

static void undo_push(struct hp_interp *it, const char *name)
{
    struct var *v = var_find(it, name);
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
static void undo_note(struct hp_interp *it, size_t k, const char *name)
{
    for (size_t i = it->scopes[k].undo_start; i < it->nundo; i++)
        if (strcmp(it->undo[i].name, name) == 0)
            return;
    undo_push(it, name);
}

/* Before a variable changes inside a subshell, remember its value. */
static void undo_guard(struct hp_interp *it, const char *name)
{
    for (size_t k = it->nscopes; k-- > 0;)
        if (it->scopes[k].sub) {
            undo_note(it, k, name);
            return;
        }
}

static bool name_valid(const char *s, size_t n)
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
    if (len > IT_VAL_MAX || !name_valid(name, strlen(name)))
        return;
    struct var *v = var_find(it, name);
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
    struct var *v = var_find(it, name);
    if (!v)
        return;
    free(v->name);
    free(v->val);
    *v = it->vars[--it->nvars];
}

static void var_set(struct hp_interp *it, const char *name, const char *val, size_t len)
{
    undo_guard(it, name);
    var_set_raw(it, name, val, len, false);
}

static void var_sets(struct hp_interp *it, const char *name, const char *val)
{
    var_set(it, name, val, strlen(val));
}

static void var_unset(struct hp_interp *it, const char *name)
{
    undo_guard(it, name);
    var_unset_raw(it, name);
}

static bool scope_push(struct hp_interp *it, bool sub)
{
    if (!grow((void **)&it->scopes, &it->capscopes, it->nscopes, sizeof(*it->scopes), IT_SCOPES_MAX))
        return false;
    it->scopes[it->nscopes].sub = sub;
    it->scopes[it->nscopes].undo_start = it->nundo;
    it->nscopes++;
    return true;
}

static void scope_pop(struct hp_interp *it)
{
    if (it->nscopes == 0)
        return;
    size_t start = it->scopes[--it->nscopes].undo_start;
    while (it->nundo > start) {
        struct undo *u = &it->undo[--it->nundo];
        if (u->had) {
            var_set_raw(it, u->name, u->val, u->len, false);
            struct var *v = var_find(it, u->name);
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

static void pos_free(char **pos, int n)
{
    for (int i = 0; i < n; i++)
        free(pos[i]);
    free(pos);
}

static char **pos_dup(char *const *argv, int argc)
{
    char **p = hp_xcalloc((size_t)argc + 1, sizeof(*p));
    for (int i = 0; i < argc; i++)
        p[i] = hp_xstrdup(argv[i]);
    return p;
}

static void pos_set(struct hp_interp *it, char *const *argv, int argc)
{
    char **np = pos_dup(argv, argc);
    pos_free(it->pos, it->npos);
    it->pos = np;
    it->npos = argc;
}

/* ---- bounds ----------------------------------------------------------------------- */

static bool step(struct hp_interp *it, unsigned long n)
{
    it->steps += n;
    if (it->steps > IT_STEPS_MAX)
        it->abort = true;
    return !it->abort;
}

static bool stopped(const struct hp_interp *it)
{
    return it->abort || it->exiting || it->ended || it->brk || it->cont || it->returning;
}

/* ---- words being built --------------------------------------------------------------- */

#define M_QUOTED 1                /* from quotes: never split, never a glob character */
#define M_EXP    2                /* from an unquoted expansion: may split */

struct field {
    char *s;
    uint8_t *m;
    size_t len;
    bool quoted_any;              /* "" makes an (empty) field */
};

struct wb {
    struct hp_buf s, m;
    bool quoted_any;
    struct field *f;
    size_t nf, capf;
    bool full;
};

static void wb_init(struct wb *w)
{
    memset(w, 0, sizeof(*w));
    hp_buf_init(&w->s, IT_ARGBYTES_MAX);
    hp_buf_init(&w->m, IT_ARGBYTES_MAX);
}

static void wb_free(struct wb *w)
{
    hp_buf_free(&w->s);
    hp_buf_free(&w->m);
    for (size_t i = 0; i < w->nf; i++) {
        free(w->f[i].s);
        free(w->f[i].m);
    }
    free(w->f);
}

static void wb_put(struct wb *w, const void *p, size_t n, uint8_t mask)
{
    if (n == 0)
        return;
    if (!hp_buf_put(&w->s, p, n)) {
        w->full = true;
        return;
    }
    for (size_t i = 0; i < n; i++)
        hp_buf_putc(&w->m, mask);
}

static void wb_quoted(struct wb *w)
{
    w->quoted_any = true;
}

/* End the current raw field ("$@" breaks fields). */
static void wb_break(struct wb *w)
{
    if (w->nf >= IT_ARGS_MAX) {
        w->full = true;
        return;
    }
    if (w->nf == w->capf) {
        size_t nc = w->capf ? w->capf * 2 : 4;
        struct field *nf = realloc(w->f, nc * sizeof(*nf));
        if (!nf) {
            w->full = true;
            return;
        }
        w->f = nf;
        w->capf = nc;
    }
    struct field *f = &w->f[w->nf++];
    f->len = w->s.len;
    f->s = malloc(f->len + 1);
    f->m = malloc(f->len + 1);
    if (!f->s || !f->m) {
        free(f->s);
        free(f->m);
        w->nf--;
        w->full = true;
        return;
    }
    if (f->len) {
        memcpy(f->s, w->s.data, f->len);
        memcpy(f->m, w->m.data, f->len);
    }
    f->s[f->len] = '\0';
    f->quoted_any = w->quoted_any;
    hp_buf_reset(&w->s);
    hp_buf_reset(&w->m);
    w->quoted_any = false;
}

/* The result of expanding words: argv-style strings. */
struct strv {
    char **v;
    size_t *l;
    size_t n, cap, bytes;
    bool full;
};

static void strv_add(struct strv *sv, const char *s, size_t len)
{
    if (sv->n >= IT_ARGS_MAX || sv->bytes + len > IT_ARGBYTES_MAX) {
        sv->full = true;
        return;
    }
    if (sv->n + 1 >= sv->cap) {
        size_t nc = sv->cap ? sv->cap * 2 : 8;
        char **nv = realloc(sv->v, nc * sizeof(*nv));
        if (!nv) {
            sv->full = true;
            return;
        }
        sv->v = nv;
        size_t *nl = realloc(sv->l, nc * sizeof(*nl));
        if (!nl) {
            sv->full = true;
            return;
        }
        sv->l = nl;
        sv->cap = nc;
    }
    char *d = malloc(len + 1);
    if (!d) {
        sv->full = true;
        return;
    }
    memcpy(d, s, len);
    d[len] = '\0';
    sv->v[sv->n] = d;
    sv->l[sv->n++] = len;
    sv->v[sv->n] = NULL;
    sv->bytes += len;
}

static void strv_free(struct strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    free(sv->l);
    memset(sv, 0, sizeof(*sv));
}

/* ---- escapes ($'...', echo -e, printf) ---------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t put_utf8(uint8_t *o, uint32_t cp)
{
    if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) { o[0] = (uint8_t)(0xC0 | (cp >> 6)); o[1] = (uint8_t)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12)); o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F)); return 3;
    }
    if (cp > 0x10FFFF)
        cp = 0xFFFD;
    o[0] = (uint8_t)(0xF0 | (cp >> 18)); o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

static uint32_t digits(const char *s, size_t n, size_t max, int base, size_t *used)
{
    uint32_t v = 0;
    size_t i = 0;
    for (; i < n && i < max; i++) {
        int d = base == 8 ? (s[i] >= '0' && s[i] <= '7' ? s[i] - '0' : -1) : hexval((unsigned char)s[i]);
        if (d < 0)
            break;
        v = v * (uint32_t)base + (uint32_t)d;
    }
    *used = i;
    return v;
}

/* One ANSI-C escape after the backslash (for $'...'); returns input bytes used, 0: literal. */
static size_t ansi_escape(const char *s, size_t n, uint8_t out[4], size_t *outn)
{
    static const char from[] = "abefnrtvE\\'\"?";
    static const char to[] = "\a\b\x1b\f\n\r\t\v\x1b\\'\"?";
    size_t u;
    *outn = 0;
    if (n == 0)
        return 0;
    const char *p = s[0] ? strchr(from, s[0]) : NULL;
    if (p) {
        out[(*outn)++] = (uint8_t)to[p - from];
        return 1;
    }
    if (s[0] == 'x') {
        uint32_t v = digits(s + 1, n - 1, 2, 16, &u);
        if (!u)
            return 0;
        out[(*outn)++] = (uint8_t)v;
        return 1 + u;
    }
    if (s[0] == 'u' || s[0] == 'U') {
        uint32_t v = digits(s + 1, n - 1, s[0] == 'u' ? 4 : 8, 16, &u);
        if (!u)
            return 0;
        *outn = put_utf8(out, v);
        return 1 + u;
    }
    if (s[0] == 'c' && n >= 2) {
        out[(*outn)++] = (uint8_t)(s[1] & 0x1f);
        return 2;
    }
    if (s[0] >= '0' && s[0] <= '7') {
        out[(*outn)++] = (uint8_t)digits(s, n, 3, 8, &u);
        return u;
    }
    return 0;
}

/* ---- expansion ------------------------------------------------------------------------ */

enum xmode { X_FIELDS, X_STRING, X_PATTERN };

struct xctx {
    struct hp_interp *it;
    struct iox *io;
    enum xmode mode;
    struct wb *w;
    bool err;                     /* bad substitution / arithmetic error: the command fails */
};

static void expand_part(struct xctx *x, const char *s, size_t n, bool dq);
static bool arith_eval(struct hp_interp *it, struct iox *io, const char *s, size_t n, long long *out);

/* Expand s as one string (no splitting, no globbing) into a malloc'd string. */
static char *expand_string(struct hp_interp *it, struct iox *io, const char *s, size_t n, bool pattern,
                           size_t *outlen, bool *err)
{
    struct wb w;
    wb_init(&w);
    struct xctx x = { .it = it, .io = io, .mode = pattern ? X_PATTERN : X_STRING, .w = &w };
    expand_part(&x, s, n, false);
    char *r = malloc(w.s.len + 1);
    size_t len = w.s.len;
    if (r) {
        if (len)
            memcpy(r, w.s.data, len);
        r[len] = '\0';
    }
    if (err)
        *err |= x.err;
    if (outlen)
        *outlen = r ? len : 0;
    wb_free(&w);
    return r;
}

/* Put a value: in a pattern context quoted glob characters are escaped. */
static void put_val(struct xctx *x, const char *v, size_t n, bool quoted)
{
    if (x->mode == X_PATTERN && quoted) {
        for (size_t i = 0; i < n; i++) {
            if (strchr("*?[]\\", v[i]) && v[i])
                wb_put(x->w, "\\", 1, M_QUOTED);
            wb_put(x->w, v + i, 1, M_QUOTED);
        }
        return;
    }
    wb_put(x->w, v, n, quoted ? M_QUOTED : M_EXP);
}

static const char *ifs_of(struct hp_interp *it)
{
    const char *ifs = var_get(it, "IFS");
    return ifs ? ifs : " \t\n";
}

/* Command substitution: the text's stdout, trailing newlines removed. */
static void cmd_subst(struct xctx *x, const char *text, size_t n, bool quoted)
{
    struct hp_interp *it = x->it;
    if (it->fdepth >= IT_DEPTH_MAX || it->abort)
        return;
    struct hp_buf out;
    hp_buf_init(&out, IT_PIPE_MAX);
    struct iox sub = *x->io;
    sub.fd[1].kind = K_BUF;
    sub.fd[1].buf = &out;
    it->fdepth++;
    scope_push(it, true);
    char *save_cwd = hp_xstrdup(it->cwd);
    unsigned line = it->lineno;
    run_text(it, text, n, true, it->lineno, &sub);
    if (it->exiting) {
        it->exiting = false;
        it->status = it->exit_status;
    }
    it->brk = it->cont = 0;
    it->returning = false;
    it->lineno = line;
    free(it->cwd);
    it->cwd = save_cwd;
    scope_pop(it);
    it->fdepth--;
    size_t len = out.len;
    while (len > 0 && out.data[len - 1] == '\n')
        len--;
    put_val(x, (const char *)out.data, len, quoted);
    hp_buf_free(&out);
}

/* `...`: backslash keeps its meaning only before $ ` \ */
static void backquote(struct xctx *x, const char *s, size_t n, bool quoted)
{
    char *t = malloc(n + 1);
    if (!t)
        return;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '$' || s[i + 1] == '`' || s[i + 1] == '\\' ||
                                          (quoted && s[i + 1] == '"')))
            i++;
        t[o++] = s[i];
    }
    cmd_subst(x, t, o, quoted);
    free(t);
}

/* A parameter's value: *set false when unset.  buf holds numbers. */
static const char *param(struct hp_interp *it, const char *name, size_t n, bool *set, char *buf,
                         size_t buflen, size_t *len)
{
    *set = true;
    *len = 0;
    if (n == 1 || (n > 1 && name[0] >= '0' && name[0] <= '9')) {
        char c = name[0];
        if (c >= '0' && c <= '9') {
            long k = strtol(name, NULL, 10);
            if (k == 0) {
                *len = strlen(it->arg0);
                return it->arg0;
            }
            if (k > it->npos) {
                *set = false;
                return "";
            }
            *len = strlen(it->pos[k - 1]);
            return it->pos[k - 1];
        }
        switch (c) {
        case '?': snprintf(buf, buflen, "%d", it->status); break;
        case '$': snprintf(buf, buflen, "%u", it->pid); break;
        case '!':
            if (!it->lastbg) {
                *set = false;
                return "";
            }
            snprintf(buf, buflen, "%u", it->lastbg);
            break;
        case '#': snprintf(buf, buflen, "%d", it->npos); break;
        case '-':
            snprintf(buf, buflen, "%s", it->style == ST_BASH_I ? "himBHs" : it->bash ? "hB" : "");
            break;
        default: goto named;
        }
        *len = strlen(buf);
        return buf;
    }
named:
    if (n == 6 && memcmp(name, "RANDOM", 6) == 0 && it->bash) {
        snprintf(buf, buflen, "%u", (unsigned)(hp_random_u64() % 32768));
        *len = strlen(buf);
        return buf;
    }
    char nm[128];
    if (n >= sizeof(nm)) {
        *set = false;
        return "";
    }
    memcpy(nm, name, n);
    nm[n] = '\0';
    struct var *v = var_find(it, nm);
    if (!v) {
        *set = false;
        return "";
    }
    *len = v->len;
    return v->val;
}

/* "$@" / "$*" / $@ / $* */
static void put_positional(struct xctx *x, char which, bool quoted)
{
    struct hp_interp *it = x->it;
    const char *ifs = ifs_of(it);
    for (int i = 0; i < it->npos; i++) {
        if (i > 0) {
            if (which == '@' && (quoted || x->mode == X_FIELDS)) {
                if (x->mode == X_FIELDS) {
                    if (quoted)
                        wb_quoted(x->w);
                    wb_break(x->w);
                } else {
                    put_val(x, " ", 1, quoted);
                }
            } else if (ifs[0]) {
                put_val(x, ifs, 1, quoted);
            }
        }
        put_val(x, it->pos[i], strlen(it->pos[i]), quoted);
        if (quoted)
            wb_quoted(x->w);
    }
}

/* Remove the shortest/longest prefix/suffix matching pat. */
static void trim(const char *v, size_t n, const char *pat, size_t pl, bool suffix, bool longest,
                 size_t *from, size_t *to)
{
    *from = 0;
    *to = n;
    if (n > 4096 || pl > 4096) {
        return;                   /* O(n^2) matching: keep it small */
    }
    if (!suffix) {
        for (size_t k = 0; k <= n; k++) {
            size_t i = longest ? n - k : k;
            if (sh_pattern_match(pat, pl, v, i, false)) {
                *from = i;
                return;
            }
        }
    } else {
        for (size_t k = 0; k <= n; k++) {
            size_t i = longest ? k : n - k;
            if (sh_pattern_match(pat, pl, v + i, n - i, false)) {
                *to = i;
                return;
            }
        }
    }
}

static void replace(struct xctx *x, const char *v, size_t n, const char *pat, size_t pl, const char *rep,
                    size_t rl, bool all, bool quoted)
{
    struct hp_buf b;
    hp_buf_init(&b, IT_VAL_MAX);
    size_t i = 0;
    bool done = false;
    if (n > 4096 || pl == 0) {
        put_val(x, v, n, quoted);
        hp_buf_free(&b);
        return;
    }
    while (i < n) {
        size_t best = 0;
        bool found = false;
        if (!done) {
            for (size_t e = n; e > i; e--)
                if (sh_pattern_match(pat, pl, v + i, e - i, false)) {
                    best = e;
                    found = true;
                    break;
                }
        }
        if (found) {
            hp_buf_put(&b, rep, rl);
            i = best;
            if (!all)
                done = true;
            continue;
        }
        hp_buf_putc(&b, (uint8_t)v[i++]);
    }
    put_val(x, (const char *)b.data, b.len, quoted);
    hp_buf_free(&b);
}

/* ${...}: inner is the text between the braces. */
static void brace_param(struct xctx *x, const char *in, size_t n, bool quoted)
{
    struct hp_interp *it = x->it;
    char buf[32];
    bool len_op = false;
    size_t i = 0;
    if (n > 1 && in[0] == '#') {
        len_op = true;
        i = 1;
    }
    size_t ns = i;
    if (i < n && (in[i] == '_' || (in[i] | 32) >= 'a') && (in[i] | 32) <= 'z') {
        while (i < n && name_valid(in + ns, i - ns + 1))
            i++;
    } else if (i < n && in[i] >= '0' && in[i] <= '9') {
        while (i < n && in[i] >= '0' && in[i] <= '9')
            i++;
    } else if (i < n && strchr("?$!#@*-", in[i]) && in[i]) {
        i++;
    }
    if (i == ns) {
        if (len_op && n == 1) {
            ns = 0;
            i = 1;
            len_op = false;
        } else {
            char msg[80];
            snprintf(msg, sizeof(msg), "${%.*s}: bad substitution", (int)(n > 40 ? 40 : n), in);
            shell_err(it, x->io, "%s", msg);
            x->err = true;
            return;
        }
    }
    const char *name = in + ns;
    size_t nl = i - ns;
    bool set;
    size_t vl;
    const char *v = param(it, name, nl, &set, buf, sizeof(buf), &vl);
    bool at = nl == 1 && (name[0] == '@' || name[0] == '*');
    if (len_op) {
        if (i != n) {
            shell_err(it, x->io, "${%.*s}: bad substitution", (int)(n > 40 ? 40 : n), in);
            x->err = true;
            return;
        }
        snprintf(buf, sizeof(buf), "%zu", at ? (size_t)it->npos : vl);
        put_val(x, buf, strlen(buf), quoted);
        return;
    }
    if (i == n) {
        if (at)
            put_positional(x, name[0], quoted);
        else
            put_val(x, v, vl, quoted);
        return;
    }
    const char *op = in + i;
    size_t rest = n - i;
    bool colon = op[0] == ':' && rest > 1 && strchr("-=+?", op[1]);
    char o = colon ? op[1] : op[0];
    const char *word = op + (colon ? 2 : 1);
    size_t wl = rest - (colon ? 2 : 1);
    bool empty = !set || (colon && vl == 0);
    if (at && it->npos > 0)
        empty = false, set = true;
    switch (o) {
    case '-': case '=': case '+': case '?': {
        if ((o == '+') == empty) {
            if (at)
                put_positional(x, name[0], quoted);
            else
                put_val(x, v, vl, quoted);
            return;
        }
        size_t el;
        char *e = expand_string(it, x->io, word, wl, false, &el, &x->err);
        if (!e)
            return;
        if (o == '=') {
            char nm[128];
            if (nl < sizeof(nm) && name_valid(name, nl)) {
                memcpy(nm, name, nl);
                nm[nl] = '\0';
                var_set(it, nm, e, el);
            }
        }
        if (o == '?') {
            shell_err(it, x->io, "%.*s: %s", (int)nl, name, el ? e : "parameter null or not set");
            x->err = true;
            it->abort = !is_bashlike(it) || it->style != ST_BASH_I ? it->abort : it->abort;
        } else {
            put_val(x, e, el, quoted);
        }
        free(e);
        return;
    }
    case '#': case '%': {
        bool longest = wl > 0 && word[0] == o;
        if (longest) {
            word++;
            wl--;
        }
        size_t pl;
        char *pat = expand_string(it, x->io, word, wl, true, &pl, &x->err);
        if (!pat)
            return;
        size_t from, to;
        trim(v, vl, pat, pl, o == '%', longest, &from, &to);
        put_val(x, v + from, to - from, quoted);
        free(pat);
        return;
    }
    case '/': {
        bool all = wl > 0 && word[0] == '/';
        if (all) {
            word++;
            wl--;
        }
        size_t k = 0;
        while (k < wl && word[k] != '/') {
            if (word[k] == '\\')
                k++;
            k++;
        }
        if (k > wl)
            k = wl;
        size_t pl, rl = 0;
        char *pat = expand_string(it, x->io, word, k, true, &pl, &x->err);
        char *rep = k < wl ? expand_string(it, x->io, word + k + 1, wl - k - 1, false, &rl, &x->err) : NULL;
        if (pat)
            replace(x, v, vl, pat, pl, rep ? rep : "", rep ? rl : 0, all, quoted);
        free(pat);
        free(rep);
        return;
    }
    case ':': {
        const char *colon2 = memchr(word, ':', wl);
        long long off = 0, cnt = (long long)vl;
        size_t ol = colon2 ? (size_t)(colon2 - word) : wl;
        if (!arith_eval(it, x->io, word, ol, &off)) {
            x->err = true;
            return;
        }
        if (colon2 && !arith_eval(it, x->io, colon2 + 1, wl - ol - 1, &cnt)) {
            x->err = true;
            return;
        }
        if (off < 0)
            off += (long long)vl;
        if (off < 0 || off > (long long)vl)
            return;
        if (cnt < 0)
            cnt = (long long)vl - off + cnt;
        if (cnt < 0)
            cnt = 0;
        if (off + cnt > (long long)vl)
            cnt = (long long)vl - off;
        put_val(x, v + off, (size_t)cnt, quoted);
        return;
    }
    }
    shell_err(it, x->io, "${%.*s}: bad substitution", (int)(n > 40 ? 40 : n), in);
    x->err = true;
}

/* '$' at s[0]; returns bytes used. */
static size_t dollar(struct xctx *x, const char *s, size_t n, bool dq)
{
    struct hp_interp *it = x->it;
    if (n < 2)
        goto literal;
    if (s[1] == '\'' && !dq && it->bash) {
        size_t e = sh_scan_construct(s, n, true);
        if (!e)
            goto literal;
        for (size_t i = 2; i + 1 < e;) {
            if (s[i] != '\\') {
                put_val(x, s + i, 1, true);
                i++;
                continue;
            }
            uint8_t out[4];
            size_t on, u = ansi_escape(s + i + 1, e - 1 - (i + 1), out, &on);
            if (!u) {
                put_val(x, s + i, 1, true);
                i++;
                continue;
            }
            put_val(x, (const char *)out, on, true);
            i += 1 + u;
        }
        wb_quoted(x->w);
        return e;
    }
    if (s[1] == '(' || s[1] == '{') {
        size_t e = sh_scan_construct(s, n, it->bash);
        if (!e)
            goto literal;
        if (s[1] == '{') {
            brace_param(x, s + 2, e - 3, dq);
        } else if (e >= 5 && s[2] == '(' && s[e - 2] == ')') {
            long long v;
            size_t el;
            char *ex = expand_string(it, x->io, s + 3, e - 5, false, &el, &x->err);
            if (ex && arith_eval(it, x->io, ex, el, &v)) {
                char buf[32];
                snprintf(buf, sizeof(buf), "%lld", v);
                put_val(x, buf, strlen(buf), dq);
            } else {
                x->err = true;
            }
            free(ex);
        } else {
            cmd_subst(x, s + 2, e - 3, dq);
        }
        if (dq)
            wb_quoted(x->w);
        return e;
    }
    size_t e = 1;
    if (name_valid(s + 1, 1)) {
        while (e < n && name_valid(s + 1, e))
            e++;
    } else if (s[1] && strchr("?$!#@*-0123456789", s[1])) {
        e = 2;
    } else {
        goto literal;
    }
    if (e == 2 && (s[1] == '@' || s[1] == '*')) {
        put_positional(x, s[1], dq);
        return e;
    }
    char buf[32];
    bool set;
    size_t vl;
    const char *v = param(it, s + 1, e - 1, &set, buf, sizeof(buf), &vl);
    put_val(x, v, vl, dq);
    if (dq)
        wb_quoted(x->w);
    return e;
literal:
    put_val(x, "$", 1, dq);
    return 1;
}

static void tilde(struct xctx *x, const char *s, size_t n, size_t *used)
{
    size_t e = 1;
    while (e < n && s[e] != '/' && s[e] != ':')
        e++;
    *used = 0;
    if (e == 1) {
        const char *h = var_get(x->it, "HOME");
        h = h ? h : x->it->home;
        wb_put(x->w, h, strlen(h), M_QUOTED);
        *used = 1;
        return;
    }
    char name[64];
    if (e - 1 >= sizeof(name) || !name_valid(s + 1, 1))
        return;
    memcpy(name, s + 1, e - 1);
    name[e - 1] = '\0';
    const char *home = NULL;
    char hb[96];
    if (strcmp(name, "root") == 0) {
        home = "/root";
    } else if (strcmp(name, x->it->user) == 0) {
        home = x->it->home;
    } else if (strcmp(name, "+") == 0) {
        home = x->it->cwd;
    } else {
        return;
    }
    snprintf(hb, sizeof(hb), "%s", home);
    wb_put(x->w, hb, strlen(hb), M_QUOTED);
    *used = e;
}

static void expand_part(struct xctx *x, const char *s, size_t n, bool dq)
{
    size_t i = 0;
    if (!dq && n > 0 && s[0] == '~' && x->mode != X_PATTERN) {
        size_t u;
        tilde(x, s, n, &u);
        i = u;
    }
    while (i < n && !x->w->full && !x->it->abort) {
        char c = s[i];
        if (c == '\\') {
            if (i + 1 >= n) {
                put_val(x, "\\", 1, false);
                i++;
                continue;
            }
            char d = s[i + 1];
            if (d == '\n') {
                i += 2;
                continue;
            }
            if (dq && !strchr("$`\"\\", d)) {
                put_val(x, "\\", 1, true);
                i++;
                continue;
            }
            if (x->mode == X_PATTERN && !dq) {
                wb_put(x->w, s + i, 2, M_QUOTED);
            } else {
                put_val(x, &s[i + 1], 1, true);
            }
            i += 2;
            continue;
        }
        if (c == '\'' && !dq) {
            const char *e = memchr(s + i + 1, '\'', n - i - 1);
            size_t end = e ? (size_t)(e - s) : n;
            put_val(x, s + i + 1, end - i - 1, true);
            wb_quoted(x->w);
            i = e ? end + 1 : n;
            continue;
        }
        if (c == '"' && !dq) {
            size_t e = sh_scan_construct(s + i, n - i, x->it->bash);
            size_t end = e ? i + e - 1 : n;
            expand_part(x, s + i + 1, end - i - 1, true);
            wb_quoted(x->w);
            i = e ? end + 1 : n;
            continue;
        }
        if (c == '$') {
            i += dollar(x, s + i, n - i, dq);
            continue;
        }
        if (c == '`') {
            size_t e = sh_scan_construct(s + i, n - i, x->it->bash);
            if (!e) {
                put_val(x, "`", 1, dq);
                i++;
                continue;
            }
            backquote(x, s + i + 1, e - 2, dq);
            if (dq)
                wb_quoted(x->w);
            i += e;
            continue;
        }
        wb_put(x->w, &s[i], 1, dq ? M_QUOTED : 0);
        i++;
    }
}

/* ---- globbing -------------------------------------------------------------------------- */

struct globst {
    struct hp_interp *it;
    struct strv *out;
    size_t found;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_glob(const char *pat, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (pat[i] == '\\') {
            i++;
            continue;
        }
        if (pat[i] == '*' || pat[i] == '?' || pat[i] == '[')
            return true;
    }
    return false;
}

struct listst {
    const char *pat;
    size_t pl;
    char **names;
    size_t n, cap;
};

static int glob_list_cb(void *arg, const char *name, const struct sh_stat *st)
{
    struct listst *l = arg;
    (void)st;
    if (!sh_pattern_match(l->pat, l->pl, name, strlen(name), true))
        return 0;
    if (l->n >= IT_GLOB_MAX)
        return 1;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        char **nn = realloc(l->names, nc * sizeof(*nn));
        if (!nn)
            return 1;
        l->names = nn;
        l->cap = nc;
    }
    l->names[l->n++] = hp_xstrdup(name);
    return 0;
}

/* Unescape a pattern component (no glob characters in it). */
static size_t unescape(const char *p, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n)
            i++;
        out[o++] = p[i];
    }
    return o;
}

/* Expand pattern components from pat[pi..] under dir (as typed: prefix). */
static void glob_walk(struct globst *g, const char *prefix, const char *pat, size_t pl, unsigned depth)
{
    if (depth > 32 || g->found >= IT_GLOB_MAX || !step(g->it, 1))
        return;
    size_t e = 0;
    while (e < pl && pat[e] != '/')
        e++;
    size_t next = e;
    while (next < pl && pat[next] == '/')
        next++;
    size_t plen = strlen(prefix);
    char *path = malloc(plen + e + 2);
    if (!path)
        return;
    if (!has_glob(pat, e)) {
        memcpy(path, prefix, plen);
        size_t o = plen + unescape(pat, e, path + plen);
        if (next > e)
            path[o++] = '/';
        path[o] = '\0';
        if (next >= pl) {
            char abs[IT_PATH_MAX];
            struct sh_stat st;
            if (sh_vfs_abspath(g->it->cwd, path, abs, sizeof(abs)) == 0 &&
                sh_vfs_stat(g->it->fs, abs, false, &st) == 0) {
                strv_add(g->out, path, strlen(path));
                g->found++;
            }
        } else {
            glob_walk(g, path, pat + next, pl - next, depth + 1);
        }
        free(path);
        return;
    }
    char abs[IT_PATH_MAX];
    if (sh_vfs_abspath(g->it->cwd, plen ? prefix : ".", abs, sizeof(abs)) != 0) {
        free(path);
        return;
    }
    struct listst l = { .pat = pat, .pl = e };
    sh_vfs_list(g->it->fs, abs, glob_list_cb, &l);
    if (l.n > 1)
        qsort(l.names, l.n, sizeof(*l.names), cmp_str);
    for (size_t k = 0; k < l.n; k++) {
        size_t nl = strlen(l.names[k]);
        char *np = malloc(plen + nl + 2);
        if (np) {
            memcpy(np, prefix, plen);
            memcpy(np + plen, l.names[k], nl);
            size_t o = plen + nl;
            if (next > e)
                np[o++] = '/';
            np[o] = '\0';
            if (next >= pl) {
                if (next == e || true) {
                    struct sh_stat st;
                    char ab2[IT_PATH_MAX];
                    bool ok = true;
                    if (next > e)         /* a trailing slash: directories only */
                        ok = sh_vfs_abspath(g->it->cwd, np, ab2, sizeof(ab2)) == 0 &&
                             sh_vfs_stat(g->it->fs, ab2, true, &st) == 0 && st.type == SH_FT_DIR;
                    if (ok && g->found < IT_GLOB_MAX) {
                        strv_add(g->out, np, o);
                        g->found++;
                    }
                }
            } else {
                glob_walk(g, np, pat + next, pl - next, depth + 1);
            }
            free(np);
        }
        free(l.names[k]);
    }
    free(l.names);
    free(path);
}

/* Add one field to out: globbed if it has unquoted glob characters. */
static void field_out(struct hp_interp *it, struct strv *out, const char *s, const uint8_t *m, size_t n)
{
    bool glob = false;
    for (size_t i = 0; i < n; i++)
        if (!(m[i] & M_QUOTED) && (s[i] == '*' || s[i] == '?' || s[i] == '['))
            glob = true;
    if (glob && it->fs) {
        char *pat = malloc(2 * n + 1);
        if (pat) {
            size_t o = 0;
            for (size_t i = 0; i < n; i++) {
                if ((m[i] & M_QUOTED) && strchr("*?[]\\", s[i]) && s[i])
                    pat[o++] = '\\';
                pat[o++] = s[i];
            }
            struct globst g = { .it = it, .out = out };
            size_t before = out->n;
            const char *prefix = "";
            size_t skip = 0;
            if (o > 0 && pat[0] == '/') {
                prefix = "/";
                while (skip < o && pat[skip] == '/')
                    skip++;
            }
            glob_walk(&g, prefix, pat + skip, o - skip, 0);
            free(pat);
            if (out->n > before + 1) {
                qsort(out->v + before, out->n - before, sizeof(char *), cmp_str);
            }
            if (out->n > before) {
                for (size_t k = before; k < out->n; k++)
                    out->l[k] = strlen(out->v[k]);
                return;
            }
        }
    }
    strv_add(out, s, n);
}

/* Split a raw field on $IFS (only bytes from unquoted expansions) and glob the pieces. */
static void split_field(struct hp_interp *it, const struct field *f, struct strv *out)
{
    const char *ifs = ifs_of(it);
    size_t start = 0;
    bool have = f->quoted_any;        /* the current piece exists even if empty */
    for (size_t i = 0; i < f->len; i++) {
        if (!(f->m[i] & M_EXP) || !f->s[i] || !strchr(ifs, f->s[i]))
        {
            if (f->m[i] & M_QUOTED)
                have = true;
            if (!have && i == start)
                have = true;
            continue;
        }
        bool ws = f->s[i] == ' ' || f->s[i] == '\t' || f->s[i] == '\n';
        if (i > start || have || !ws)
            field_out(it, out, f->s + start, f->m + start, i - start);
        if (!ws) {
            /* a non-white delimiter: surrounding IFS white space belongs to it */
        }
        start = i + 1;
        have = false;
        while (ws && start < f->len && (f->m[start] & M_EXP) && strchr(" \t\n", f->s[start]) &&
               f->s[start] && strchr(ifs, f->s[start]))
            start++, i++;
    }
    if (f->len > start || have)
        field_out(it, out, f->s + start, f->m + start, f->len - start);
}

/* Expand a word to fields into out. */
static bool expand_fields(struct hp_interp *it, struct iox *io, const char *s, size_t n, struct strv *out)
{
    struct wb w;
    wb_init(&w);
    struct xctx x = { .it = it, .io = io, .mode = X_FIELDS, .w = &w };
    expand_part(&x, s, n, false);
    wb_break(&w);
    for (size_t i = 0; i < w.nf; i++)
        split_field(it, &w.f[i], out);
    bool ok = !x.err && !w.full && !out->full;
    if (w.full || out->full) {
        shell_err(it, io, "xmalloc: cannot allocate memory");
        it->abort = true;
    }
    wb_free(&w);
    return ok;
}

/* ---- arithmetic --------------------------------------------------------------------------- */

struct arith {
    struct hp_interp *it;
    struct iox *io;
    const char *s;
    size_t n, i;
    unsigned depth;
    bool err;
    bool noeval;                  /* inside the dead branch of && || ?: */
};

static long long a_expr(struct arith *a);

static void a_ws(struct arith *a)
{
    while (a->i < a->n && strchr(" \t\n", a->s[a->i]) && a->s[a->i])
        a->i++;
}

static bool a_op(struct arith *a, const char *op)
{
    a_ws(a);
    size_t l = strlen(op);
    if (a->n - a->i >= l && memcmp(a->s + a->i, op, l) == 0) {
        /* do not take "<" from "<=" or "<<", "&" from "&&", "=" from "==" */
        if (l == 1 && a->i + 1 < a->n && strchr("<>&|=", op[0]) && a->s[a->i + 1] == op[0])
            return false;
        if (l == 1 && a->i + 1 < a->n && strchr("<>!=", op[0]) && a->s[a->i + 1] == '=')
            return false;
        a->i += l;
        return true;
    }
    return false;
}

static void a_error(struct arith *a)
{
    if (!a->err) {
        a_ws(a);
        shell_err(a->it, a->io, "%.*s: syntax error: operand expected (error token is \"%.*s\")",
                  (int)(a->n > 200 ? 200 : a->n), a->s, (int)(a->n - a->i > 200 ? 200 : a->n - a->i),
                  a->s + a->i);
    }
    a->err = true;
}

static long long a_varval(struct arith *a, const char *name)
{
    const char *v = var_get(a->it, name);
    if (!v || !*v)
        return 0;
    if (a->depth > 16) {
        a->err = true;
        return 0;
    }
    struct arith sub = { .it = a->it, .io = a->io, .s = v, .n = strlen(v), .depth = a->depth + 1,
                         .noeval = a->noeval };
    long long r = a_expr(&sub);
    a_ws(&sub);
    if (sub.err || sub.i != sub.n)
        a->err = true;
    return r;
}

static void a_assign(struct arith *a, const char *name, long long v)
{
    if (a->noeval)
        return;
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", v);
    var_sets(a->it, name, buf);
}

static long long a_primary(struct arith *a)
{
    if (++a->depth > 64 || a->err) {
        a->err = true;
        return 0;
    }
    long long r = 0;
    a_ws(a);
    if (a->i >= a->n) {
        a_error(a);
    } else if (a_op(a, "(")) {
        r = a_expr(a);
        if (!a_op(a, ")"))
            a_error(a);
    } else if (a_op(a, "!")) {
        r = !a_primary(a);
    } else if (a_op(a, "~")) {
        r = ~a_primary(a);
    } else if (a_op(a, "-")) {
        r = -(unsigned long long)a_primary(a);
    } else if (a_op(a, "+")) {
        r = a_primary(a);
    } else if (a->s[a->i] >= '0' && a->s[a->i] <= '9') {
        char *end;
        const char *p = a->s + a->i;
        int base = 10;
        if (p[0] == '0' && a->i + 1 < a->n && (p[1] == 'x' || p[1] == 'X'))
            base = 16;
        else if (p[0] == '0')
            base = 8;
        unsigned long long u = strtoull(p, &end, base);
        r = (long long)u;
        a->i += (size_t)(end - p);
        if (a->i < a->n && (name_valid(a->s + a->i, 1) || (a->s[a->i] >= '0' && a->s[a->i] <= '9')))
            a_error(a);
    } else if (name_valid(a->s + a->i, 1)) {
        size_t st = a->i;
        while (a->i < a->n && name_valid(a->s + st, a->i - st + 1))
            a->i++;
        char name[128];
        size_t nl = a->i - st < sizeof(name) - 1 ? a->i - st : sizeof(name) - 1;
        memcpy(name, a->s + st, nl);
        name[nl] = '\0';
        if (a_op(a, "++")) {
            r = a_varval(a, name);
            a_assign(a, name, r + 1);
        } else if (a_op(a, "--")) {
            r = a_varval(a, name);
            a_assign(a, name, r - 1);
        } else if (a_op(a, "=")) {
            r = a_expr(a);
            a_assign(a, name, r);
        } else {
            static const char *const aops[] = { "+=", "-=", "*=", "/=", "%=" };
            size_t k = 0;
            while (k < 5 && !a_op(a, aops[k]))
                k++;
            r = a_varval(a, name);
            if (k < 5) {
                long long v = a_expr(a);
                if ((k == 3 || k == 4) && v == 0) {
                    a->err = true;
                    return 0;
                }
                r = k == 0 ? (long long)((unsigned long long)r + (unsigned long long)v)
                  : k == 1 ? (long long)((unsigned long long)r - (unsigned long long)v)
                  : k == 2 ? (long long)((unsigned long long)r * (unsigned long long)v)
                  : (r == LLONG_MIN && v == -1) ? r : k == 3 ? r / v : r % v;
                a_assign(a, name, r);
            }
        }
    } else {
        a_error(a);
    }
    a->depth--;
    return r;
}

/* Binary operators by precedence, lowest first (?: and assignment are above). */
static const char *const a_levels[][5] = {
    { "||", NULL }, { "&&", NULL }, { "|", NULL }, { "^", NULL }, { "&", NULL },
    { "==", "!=", NULL }, { "<=", ">=", "<", ">", NULL }, { "<<", ">>", NULL },
    { "+", "-", NULL }, { "*", "/", "%", NULL },
};

static long long a_binop(const char *op, long long l, long long r, bool *divz)
{
    unsigned long long ul = (unsigned long long)l, ur = (unsigned long long)r;
    switch (op[0]) {
    case '|': return op[1] ? (l || r) : (long long)(ul | ur);
    case '&': return op[1] ? (l && r) : (long long)(ul & ur);
    case '^': return (long long)(ul ^ ur);
    case '=': return l == r;
    case '!': return l != r;
    case '<': return op[1] == '=' ? l <= r : op[1] == '<' ? (long long)(ul << (ur & 63)) : l < r;
    case '>': return op[1] == '=' ? l >= r : op[1] == '>' ? l >> (ur & 63) : l > r;
    case '+': return (long long)(ul + ur);
    case '-': return (long long)(ul - ur);
    case '*': return (long long)(ul * ur);
    case '/': case '%':
        if (r == 0) {
            *divz = true;
            return 0;
        }
        if (l == LLONG_MIN && r == -1)
            return op[0] == '/' ? l : 0;
        return op[0] == '/' ? l / r : l % r;
    }
    return 0;
}

static long long a_level(struct arith *a, size_t lv)
{
    if (lv >= sizeof(a_levels) / sizeof(a_levels[0]))
        return a_primary(a);
    if (++a->depth > 200) {
        a->err = true;
        return 0;
    }
    long long l = a_level(a, lv + 1);
    for (int guard = 0; guard < 100000 && !a->err; guard++) {
        size_t k = 0;
        while (a_levels[lv][k] && !a_op(a, a_levels[lv][k]))
            k++;
        if (!a_levels[lv][k])
            break;
        const char *op = a_levels[lv][k];
        bool save = a->noeval;
        if ((op[0] == '|' && op[1] && l) || (op[0] == '&' && op[1] && !l))
            a->noeval = true;
        long long r = a_level(a, lv + 1);
        a->noeval = save;
        bool divz = false;
        l = a_binop(op, l, r, &divz);
        if (divz && !a->noeval) {
            if (!a->err)
                shell_err(a->it, a->io, "%.*s: division by 0 (error token is \"%lld\")",
                          (int)(a->n > 200 ? 200 : a->n), a->s, r);
            a->err = true;
        }
    }
    a->depth--;
    return l;
}

static long long a_expr(struct arith *a)
{
    long long c = a_level(a, 0);
    if (a_op(a, "?")) {
        bool save = a->noeval;
        a->noeval = save || !c;
        long long t = a_expr(a);
        a->noeval = save;
        if (!a_op(a, ":")) {
            a_error(a);
            return 0;
        }
        a->noeval = save || c;
        long long f = a_expr(a);
        a->noeval = save;
        return c ? t : f;
    }
    return c;
}

static bool arith_eval(struct hp_interp *it, struct iox *io, const char *s, size_t n, long long *out)
{
    struct arith a = { .it = it, .io = io, .s = s, .n = n };
    a_ws(&a);
    if (a.i == a.n) {
        *out = 0;
        return true;
    }
    *out = a_expr(&a);
    a_ws(&a);
    if (!a.err && a.i != a.n)
        a_error(&a);
    return !a.err;
}

/* ---- redirections -------------------------------------------------------------------------- */

/* Memory a command's redirections hold until it is done. */
struct held {
    struct hp_buf bufs[4];
    struct input ins[4];
    char *paths[8];
    unsigned nb, np;
};

static void held_free(struct held *h)
{
    for (unsigned i = 0; i < h->nb; i++)
        hp_buf_free(&h->bufs[i]);
    for (unsigned i = 0; i < h->np; i++)
        free(h->paths[i]);
}

static struct input *held_input(struct held *h, struct hp_buf **buf)
{
    if (h->nb >= 4)
        return NULL;
    *buf = &h->bufs[h->nb];
    hp_buf_init(*buf, SH_PARSE_HEREDOC + IT_VAL_MAX);
    struct input *in = &h->ins[h->nb++];
    memset(in, 0, sizeof(*in));
    return in;
}

static const char *held_path(struct held *h, const char *p)
{
    if (h->np >= 8)
        return NULL;
    return h->paths[h->np++] = hp_xstrdup(p);
}

/* Here-document body: $ ` \ expansions unless the delimiter was quoted. */
static void heredoc_text(struct hp_interp *it, struct iox *io, const struct sh_redir *r, struct hp_buf *out)
{
    const char *b = r->body ? r->body : "";
    if (r->quoted) {
        hp_buf_put(out, b, r->body_len);
        return;
    }
    struct wb w;
    wb_init(&w);
    struct xctx x = { .it = it, .io = io, .mode = X_STRING, .w = &w };
    /* like double quotes, but a '"' stays literal */
    size_t i = 0, n = r->body_len;
    while (i < n && !it->abort) {
        if (b[i] == '\\' && i + 1 < n && strchr("$`\\\n", b[i + 1])) {
            if (b[i + 1] != '\n')
                wb_put(&w, b + i + 1, 1, M_QUOTED);
            i += 2;
        } else if (b[i] == '$') {
            i += dollar(&x, b + i, n - i, true);
        } else if (b[i] == '`') {
            size_t e = sh_scan_construct(b + i, n - i, it->bash);
            if (!e) {
                wb_put(&w, "`", 1, M_QUOTED);
                i++;
            } else {
                backquote(&x, b + i + 1, e - 2, true);
                i += e;
            }
        } else {
            wb_put(&w, b + i, 1, M_QUOTED);
            i++;
        }
    }
    hp_buf_put(out, w.s.data ? w.s.data : (const uint8_t *)"", w.s.len);
    wb_free(&w);
}

static void redir_error(struct hp_interp *it, struct iox *io, const char *word, int err)
{
    shell_err(it, io, "%s: %s", word, sh_strerror(err));
}

/* Open a file for output: 0 or -errno. */
static int open_out(struct hp_interp *it, const char *abs, bool append)
{
    struct sh_stat st;
    if (sh_vfs_stat(it->fs, abs, true, &st) == 0 && st.type == SH_FT_DIR)
        return -EISDIR;
    long r = sh_vfs_write(it->fs, abs, "", 0, SH_O_CREAT | (append ? SH_O_APPEND : SH_O_TRUNC),
                          0666 & ~it->umask);
    return r < 0 ? (int)r : 0;
}

/* Apply redirections on top of base into io; false (message printed) on error. */
static bool apply_redirs(struct hp_interp *it, const struct sh_redir *r, struct iox *io, struct held *h)
{
    for (; r; r = r->next) {
        if (!step(it, 1))
            return false;
        int fd = r->fd;
        if (r->kind == SH_R_HEREDOC || r->kind == SH_R_HERESTR) {
            struct hp_buf *buf;
            struct input *in = held_input(h, &buf);
            if (!in)
                continue;
            if (r->kind == SH_R_HEREDOC) {
                heredoc_text(it, io, r, buf);
            } else {
                size_t l;
                char *s = expand_string(it, io, r->word->text, r->word->len, false, &l, NULL);
                if (s)
                    hp_buf_put(buf, s, l);
                hp_buf_putc(buf, '\n');
                free(s);
            }
            in->data = buf->data;
            in->len = buf->len;
            if (fd == 0)
                io->in = in;
            continue;
        }
        size_t wl;
        bool err = false;
        char *word = expand_string(it, io, r->word->text, r->word->len, false, &wl, &err);
        if (!word || err) {
            free(word);
            return false;
        }
        if (r->kind == SH_R_DUPOUT || r->kind == SH_R_DUPIN) {
            if ((wl == 1 && (word[0] >= '0' && word[0] <= '2')) || (wl == 1 && word[0] == '-')) {
                if (fd >= 1 && fd <= 2)
                    io->fd[fd] = word[0] == '-' ? (struct sink){ .kind = K_NULL } : word[0] == '0'
                                 ? (struct sink){ .kind = K_NULL } : io->fd[word[0] - '0'];
                free(word);
                continue;
            }
            if (wl > 0 && word[0] >= '0' && word[0] <= '9' && strspn(word, "0123456789") == wl) {
                if (fd >= 1 && fd <= 2)
                    io->fd[fd].kind = K_NULL;
                free(word);
                continue;                   /* 2>&3: a descriptor we do not track */
            }
            if (r->kind == SH_R_DUPIN) {
                shell_err(it, io, "%s: ambiguous redirect", word);
                free(word);
                return false;
            }
        }
        if (wl == 0) {
            shell_err(it, io, ": No such file or directory");
            free(word);
            return false;
        }
        char abs[IT_PATH_MAX];
        if (sh_vfs_abspath(it->cwd, word, abs, sizeof(abs)) != 0) {
            redir_error(it, io, word, ENAMETOOLONG);
            free(word);
            return false;
        }
        bool out = r->kind != SH_R_IN;
        if (r->kind == SH_R_IN || r->kind == SH_R_RDWR) {
            struct hp_buf *buf;
            struct input *in = held_input(h, &buf);
            long rr = -ENOENT;
            if (r->kind == SH_R_RDWR)
                open_out(it, abs, true);
            if (in) {
                rr = sh_vfs_read(it->fs, abs, 0, IT_PIPE_MAX, buf);
                in->data = buf->data;
                in->len = buf->len;
            }
            if (rr < 0) {
                redir_error(it, io, word, (int)-rr);
                free(word);
                return false;
            }
            if (fd == 0)
                io->in = in;
            out = false;
        }
        if (out) {
            struct sink s = { .kind = K_FILE };
            if (strcmp(abs, "/dev/null") == 0) {
                s.kind = K_NULL;
            } else if (strcmp(abs, "/dev/stdout") == 0 || strcmp(abs, "/dev/stderr") == 0) {
                s = io->fd[abs[5 + 4] == 'o' ? 1 : 2];
            } else {
                bool append = r->kind == SH_R_APPEND || r->kind == SH_R_ALLAPP;
                int e = open_out(it, abs, append);
                if (e < 0) {
                    redir_error(it, io, word, e);
                    free(word);
                    return false;
                }
                s.path = held_path(h, abs);
                if (!s.path)
                    s.kind = K_NULL;
            }
            if (r->kind == SH_R_ALL || r->kind == SH_R_ALLAPP || (r->kind == SH_R_DUPOUT && fd == 1)) {
                io->fd[1] = io->fd[2] = s;
            } else if (fd >= 1 && fd <= 2) {
                io->fd[fd] = s;
            }
        }
        free(word);
    }
    return true;
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
    c.out_tty = io->fd[1].kind == K_TERM;
    c.width = it->width ? it->width : 80;
    c.persona = it->persona;
    c.fs = it->fs;
    c.sess = &it->sess;
    c.cwd = it->cwd;
    c.uid = it->uid;
    c.gid = it->gid;
    c.user = it->user;
    c.home = it->home;
    c.now_s = it->now_s;
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
    if (is_bashlike(it))
        shell_err(it, io, "%s: %s", nm, path ? "No such file or directory" : "command not found");
    else
        shell_err(it, io, "%s: not found", nm);
    hp_buf_free(&b);
    report_failed(it, argc, argv);
    return 127;
}

/* Find name in $PATH: its absolute path and stat.  0 or -ENOENT. */
static int path_lookup(struct hp_interp *it, const char *name, char *out, size_t outlen, struct sh_stat *st)
{
    const char *path = var_get(it, "PATH");
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
        shell_err(it, io, "%s: Permission denied", argv[0]);
        return 126;
    }
    struct hp_buf b;
    hp_buf_init(&b, SH_VFS_FILE_MAX);
    long r = sh_vfs_read(it->fs, abs, 0, 0, &b);
    int st = 0;
    if (r < 0) {
        shell_err(it, io, "%s: %s", argv[0], sh_strerror((int)r));
        st = 126;
    } else if (b.len >= 4 && memcmp(b.data, "\x7f" "ELF", 4) == 0) {
        unsigned m = 0;
        if (b.len >= 20)
            m = b.data[5] == 2 ? (unsigned)(b.data[18] << 8 | b.data[19]) : (unsigned)(b.data[19] << 8 | b.data[18]);
        if (it->persona && m == it->persona->elf_machine) {
            st = 0;
        } else if (is_bashlike(it)) {
            shell_err(it, io, "%s: cannot execute binary file: Exec format error", argv[0]);
            st = 126;
        } else {
            io_printf(it, io, 2, "%s: line 1: syntax error: unexpected word (expecting \")\")\n", argv[0]);
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
        shell_err(it, io, "%s: Is a directory", argv[0]);
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

struct builtin {
    const char *name;
    int (*fn)(struct hp_interp *it, int argc, char **argv, struct iox *io);
};
static const struct builtin *builtin_find(const char *name);
static struct func *func_find(struct hp_interp *it, const char *name);
static int call_func(struct hp_interp *it, struct func *f, int argc, char **argv, struct iox *io);

/* Run an expanded command: functions, built-ins, programs; the "not found" path. */
static int dispatch(struct hp_interp *it, int argc, char **argv, struct iox *io, bool funcs)
{
    const char *name = argv[0];
    if (!strchr(name, '/')) {
        struct func *f = funcs ? func_find(it, name) : NULL;
        if (f)
            return call_func(it, f, argc, argv, io);
        const struct builtin *b = builtin_find(name);
        if (b)
            return b->fn(it, argc, argv, io);
        const struct sh_cmd_def *d = sh_cmd_find(name);
        if (d && d->builtin)
            return run_prog(it, d, d->name, argc, argv, io);
        char abs[IT_PATH_MAX];
        struct sh_stat st;
        if (path_lookup(it, name, abs, sizeof(abs), &st) == 0)
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
        shell_err(it, io, "%s: %s", name, sh_strerror(e));
        return 126;
    }
    return run_found(it, abs, &st, argc, argv, io);
}

/* ---- functions ------------------------------------------------------------------------------- */

static struct func *func_find(struct hp_interp *it, const char *name)
{
    for (size_t i = 0; i < it->nfuncs; i++)
        if (strcmp(it->funcs[i].name, name) == 0)
            return &it->funcs[i];
    return NULL;
}

static void func_define(struct hp_interp *it, const char *name, struct sh_node *body, struct sh_arena *a)
{
    struct func *f = func_find(it, name);
    if (!f) {
        if (!grow((void **)&it->funcs, &it->capfuncs, it->nfuncs, sizeof(*it->funcs), IT_FUNCS_MAX))
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

static void func_remove(struct hp_interp *it, const char *name)
{
    struct func *f = func_find(it, name);
    if (!f)
        return;
    free(f->name);
    sh_arena_unref(f->arena);
    *f = it->funcs[--it->nfuncs];
}

static int call_func(struct hp_interp *it, struct func *f, int argc, char **argv, struct iox *io)
{
    if (it->fdepth >= IT_DEPTH_MAX || !scope_push(it, false)) {
        shell_err(it, io, "%s: maximum function nesting level exceeded (%d)", argv[0], IT_DEPTH_MAX);
        it->abort = true;
        return 1;
    }
    it->fdepth++;
    struct sh_arena *a = f->arena;
    struct sh_node *body = f->body;
    sh_arena_ref(a);                        /* the function may redefine itself */
    char **save = it->pos;
    int nsave = it->npos;
    it->pos = pos_dup(argv + 1, argc - 1);
    it->npos = argc - 1;
    unsigned loops = it->loops;
    it->loops = 0;
    int st = run_node(it, body, io);
    if (it->returning) {
        it->returning = false;
        st = it->status;
    }
    it->loops = loops;
    pos_free(it->pos, it->npos);
    it->pos = save;
    it->npos = nsave;
    sh_arena_unref(a);
    scope_pop(it);
    it->fdepth--;
    return st;
}

/* ---- simple commands ----------------------------------------------------------------------------- */

static void job_line(struct hp_interp *it, struct iox *io)
{
    it->jobs++;
    it->lastbg = it->pid + 1 + (unsigned)(hp_random_u64() % 400);
    if (it->style == ST_BASH_I)
        io_printf(it, io, 2, "[%u] %u\n", it->jobs, it->lastbg);
}

static int run_simple(struct hp_interp *it, struct sh_node *n, struct iox *io)
{
    if (++it->ncmds > IT_CMDS_MAX) {
        it->abort = true;
        return 130;
    }
    it->lineno = n->line;
    struct strv args = { 0 };
    struct strv assigns = { 0 };
    bool err = false;
    int subst_status = -1;
    int save_status = it->status;
    for (struct sh_word *w = n->words; w && !it->abort; w = w->next) {
        if (w->assign) {
            size_t l;
            char *v = expand_string(it, io, w->text, w->len, false, &l, &err);
            if (v)
                strv_add(&assigns, v, l);
            free(v);
        } else if (!expand_fields(it, io, w->text, w->len, &args)) {
            err = true;
        }
        if (it->status != save_status)
            subst_status = it->status;
    }
    if (it->abort || err) {
        strv_free(&args);
        strv_free(&assigns);
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
                const char *old = var_get(it, assigns.v[i]);
                struct hp_buf b;
                hp_buf_init(&b, IT_VAL_MAX);
                hp_buf_puts(&b, old ? old : "");
                hp_buf_puts(&b, eq + 1);
                var_set(it, assigns.v[i], b.data ? (const char *)b.data : "", b.len);
                hp_buf_free(&b);
            } else {
                var_set(it, assigns.v[i], eq + 1, assigns.l[i] - (size_t)(eq + 1 - assigns.v[i]));
            }
        }
        st = apply_redirs(it, n->redirs, &rio, &h) ? (subst_status >= 0 ? subst_status : 0) : 1;
        held_free(&h);
        strv_free(&args);
        strv_free(&assigns);
        return st;
    }
    if (it->io.command)
        it->io.command(it->io.arg, (int)args.n, args.v);
    if (!apply_redirs(it, n->redirs, &rio, &h)) {
        held_free(&h);
        strv_free(&args);
        strv_free(&assigns);
        return 1;
    }
    /* A=b cmd: the assignment holds for this command only. */
    bool scoped = assigns.n > 0 && scope_push(it, true);
    for (size_t i = 0; i < assigns.n; i++) {
        char *eq = strchr(assigns.v[i], '=');
        if (eq) {
            *eq = '\0';
            var_set(it, assigns.v[i], eq + 1, strlen(eq + 1));
            struct var *v = var_find(it, assigns.v[i]);
            if (v)
                v->exported = true;
        }
    }
    const struct sh_node *save_simple = it->cur_simple;
    it->cur_simple = n;
    st = dispatch(it, (int)args.n, args.v, &rio, true);
    it->cur_simple = save_simple;
    if (scoped)
        scope_pop(it);
    held_free(&h);
    strv_free(&args);
    strv_free(&assigns);
    return st;
}

/* ---- compound commands ----------------------------------------------------------------------------- */

/* Run in a subshell: variable, cwd and positional changes do not last. */
static int run_sub(struct hp_interp *it, struct sh_node *n, struct iox *io)
{
    if (!scope_push(it, true)) {
        it->abort = true;
        return 1;
    }
    char *cwd = hp_xstrdup(it->cwd);
    char **pos = pos_dup(it->pos, it->npos);
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
    pos_free(it->pos, it->npos);
    it->pos = pos;
    it->npos = npos;
    scope_pop(it);
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
        if (!step(it, 1))
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
            strv_add(&items, it->pos[i], strlen(it->pos[i]));
    } else {
        for (struct sh_word *w = n->words; w; w = w->next)
            if (!expand_fields(it, io, w->text, w->len, &items)) {
                strv_free(&items);
                return 1;
            }
    }
    int st = 0;
    it->loops++;
    for (size_t i = 0; i < items.n && i < IT_LOOP_MAX && !stopped(it); i++) {
        if (!step(it, 1))
            break;
        var_set(it, n->name, items.v[i], items.l[i]);
        st = run_node(it, n->body, io);
        if (loop_after(it))
            break;
    }
    it->loops--;
    strv_free(&items);
    return st;
}

static int run_case(struct hp_interp *it, struct sh_node *n, struct iox *io)
{
    size_t sl;
    bool err = false;
    char *subj = expand_string(it, io, n->words->text, n->words->len, false, &sl, &err);
    if (!subj)
        return 1;
    int st = 0;
    for (struct sh_node *ci = n->body; ci && !stopped(it); ci = ci->next) {
        for (struct sh_word *p = ci->words; p; p = p->next) {
            size_t pl;
            char *pat = expand_string(it, io, p->text, p->len, true, &pl, &err);
            bool m = pat && step(it, 1) && sh_pattern_match(pat, pl, subj, sl, false);
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
    strv_add(&args, "[[", 2);
    bool err = false;
    bool pat_next = false;
    for (struct sh_word *w = n->words; w; w = w->next) {
        size_t l;
        char *v = expand_string(it, io, w->text, w->len, pat_next, &l, &err);
        if (v)
            strv_add(&args, v, l);
        pat_next = (w->len == 2 && (memcmp(w->text, "==", 2) == 0 || memcmp(w->text, "!=", 2) == 0)) ||
                   (w->len == 1 && w->text[0] == '=');
        free(v);
    }
    strv_add(&args, "]]", 2);
    const struct sh_cmd_def *d = sh_cmd_find("test");
    int st = err || !d ? 2 : run_prog(it, d, "[[", (int)args.n, args.v, io);
    strv_free(&args);
    return st;
}

static int run_node(struct hp_interp *it, struct sh_node *n, struct iox *io)
{
    if (!n || stopped(it) || !step(it, 1))
        return it->abort ? 130 : it->status;
    struct iox rio;
    struct held h;
    bool redirected = n->redirs && n->kind != SH_N_SIMPLE && n->kind != SH_N_FUNC;
    if (redirected) {
        rio = *io;
        memset(&h, 0, sizeof(h));
        if (!apply_redirs(it, n->redirs, &rio, &h)) {
            held_free(&h);
            return 1;
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
        held_free(&h);
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
        shell_err(it, io, "%s", p->tok);
        return;
    }
    switch (it->style) {
    case ST_BASH_I: case ST_BASH_SCRIPT: case ST_BASH_C:
        if (it->style == ST_BASH_C)
            io_printf(it, io, 2, "%s: -c: line %u: ", it->arg0, p->line);
        else
            shell_prefix(it, io);
        if (p->eof) {
            io_puts(it, io, 2, "syntax error: unexpected end of file\n");
            return;
        }
        io_printf(it, io, 2, "syntax error near unexpected token `%s'\n", p->tok);
        if (it->style == ST_BASH_I)
            return;
        if (it->style == ST_BASH_C)
            io_printf(it, io, 2, "%s: -c: line %u: `", it->arg0, p->line);
        else
            shell_prefix(it, io), io_puts(it, io, 2, "`");
        io_put(it, io, 2, ls, ln);
        io_puts(it, io, 2, "'\n");
        return;
    case ST_DASH:
        shell_prefix(it, io);
        if (p->eof)
            io_puts(it, io, 2, "Syntax error: end of file unexpected\n");
        else if (strcmp(p->tok, "newline") == 0)
            io_puts(it, io, 2, "Syntax error: newline unexpected\n");
        else
            io_printf(it, io, 2, "Syntax error: \"%s\" unexpected\n", p->tok);
        return;
    case ST_ASH: case ST_ASH_C:
        shell_prefix(it, io);
        if (p->eof)
            io_puts(it, io, 2, "syntax error: unexpected end of file\n");
        else if (strcmp(p->tok, "newline") == 0)
            io_puts(it, io, 2, "syntax error: unexpected newline\n");
        else
            io_printf(it, io, 2, "syntax error: unexpected \"%s\"\n", p->tok);
        return;
    }
}

/*
 * Parse and run text command by command.  Returns SH_PARSE_OK when all of
 * it ran, SH_PARSE_MORE (with *used the offset of the unfinished command)
 * when a construct is still open, SH_PARSE_ERROR after a syntax error.
 */
static enum sh_parse_status run_text_at(struct hp_interp *it, const char *text, size_t len, bool final,
                                        unsigned first_line, struct iox *io, size_t *used)
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
    }
    *used = len;
    return SH_PARSE_OK;
}

static int run_text(struct hp_interp *it, const char *text, size_t len, bool final, unsigned first_line,
                    struct iox *io)
{
    size_t used;
    run_text_at(it, text, len, final, first_line, io, &used);
    return it->status;
}

/* A script in a child shell (sh -c, sh FILE, ./script): its own $0, $@, messages. */
static int run_script_text(struct hp_interp *it, const char *text, size_t len, const char *name, int argc,
                           char **argv, struct iox *io, enum style style)
{
    if (it->fdepth >= IT_DEPTH_MAX || !scope_push(it, true)) {
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
    it->pos = pos_dup(argv, argc);
    it->npos = argc;
    it->arg0 = hp_xstrdup(name ? name : "sh");
    it->style = style;
    it->loops = 0;
    it->status = 0;
    run_text(it, text, len, true, 1, io);
    int st = it->status;
    if (it->exiting) {
        it->exiting = false;
        st = it->exit_status;
    }
    it->brk = it->cont = 0;
    it->returning = false;
    pos_free(it->pos, it->npos);
    free(it->arg0);
    it->pos = pos;
    it->npos = npos;
    it->arg0 = arg0;
    it->style = ostyle;
    it->lineno = line;
    it->loops = loops;
    free(it->cwd);
    it->cwd = cwd;
    scope_pop(it);
    it->fdepth--;
    it->status = st;
    return st;
}

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
    var_sets(it, "OLDPWD", it->cwd);
    free(it->cwd);
    it->cwd = hp_xstrdup(dir);
    var_sets(it, "PWD", it->cwd);
}

static int bi_cd(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    int i = 1;
    while (i < argc && (strcmp(argv[i], "-L") == 0 || strcmp(argv[i], "-P") == 0))
        i++;
    if (i < argc && strcmp(argv[i], "--") == 0)
        i++;
    if (argc - i > 1 && is_bashlike(it)) {
        shell_err(it, io, "cd: too many arguments");
        return 1;
    }
    const char *arg = i < argc ? argv[i] : var_get(it, "HOME");
    bool print = false;
    if (!arg) {
        shell_err(it, io, "cd: HOME not set");
        return 1;
    }
    if (strcmp(arg, "-") == 0) {
        arg = var_get(it, "OLDPWD");
        if (!arg) {
            shell_err(it, io, "cd: OLDPWD not set");
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
        if (is_bashlike(it) || it->style == ST_DASH)
            shell_err(it, io, "cd: %s: %s", arg, sh_strerror(e));
        else
            shell_err(it, io, "cd: can't cd to %s: %s", arg, sh_strerror(e));
        return it->style == ST_DASH || !is_bashlike(it) ? 2 : 1;
    }
    set_cwd(it, abs);
    if (print)
        io_printf(it, io, 1, "%s\n", abs);
    return 0;
}

static int bi_exit(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    int st = it->status;
    if (argc > 1) {
        long v;
        if (!sh_parse_long(argv[1], &v)) {
            if (is_bashlike(it)) {
                shell_err(it, io, "exit: %s: numeric argument required", argv[1]);
                st = 2;
            } else {
                shell_err(it, io, "exit: Illegal number: %s", argv[1]);
                return 2;
            }
        } else if (argc > 2 && is_bashlike(it)) {
            shell_err(it, io, "exit: too many arguments");
            return 1;
        } else {
            st = (int)(v & 255);
        }
    }
    if (it->style == ST_BASH_I && it->nscopes == 0)
        io_puts(it, io, 2, "logout\n");
    it->exiting = true;
    it->exit_status = st;
    return st;
}

static int bi_logout(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    if (it->style == ST_BASH_C || it->style == ST_DASH) {
        if (it->style == ST_DASH) {
            shell_err(it, io, "logout: not found");
            return 127;
        }
        shell_err(it, io, "logout: not login shell: use `exit'");
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
    io_put(it, io, 1, b.data, b.len);
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
        if (is_bashlike(it))
            print_vars(it, io, true, "declare -x ", true);
        else
            print_vars(it, io, true, "export ", false);
        return 0;
    }
    for (; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        size_t nl = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
        char name[128];
        if (nl >= sizeof(name) || !name_valid(argv[i], nl)) {
            if (is_bashlike(it))
                shell_err(it, io, "export: `%s': not a valid identifier", argv[i]);
            else
                shell_err(it, io, "export: %s: bad variable name", argv[i]);
            st = 1;
            continue;
        }
        memcpy(name, argv[i], nl);
        name[nl] = '\0';
        if (eq)
            var_sets(it, name, eq + 1);
        struct var *v = var_find(it, name);
        if (!v && !eq) {
            var_sets(it, name, "");     /* an exported, empty placeholder */
            v = var_find(it, name);
        }
        if (v) {
            undo_guard(it, name);
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
        if (!funcs && var_find(it, argv[i])) {
            var_unset(it, argv[i]);
            continue;
        }
        if (!vars)
            func_remove(it, argv[i]);
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
        pos_set(it, argv + i, argc - i);
    return 0;
}

static int bi_shift(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    long n = 1;
    if (argc > 1 && (!sh_parse_long(argv[1], &n) || n < 0)) {
        shell_err(it, io, "shift: %s: numeric argument required", argv[1]);
        return 1;
    }
    if (n > it->npos) {
        if (!is_bashlike(it)) {
            shell_err(it, io, "shift: can't shift that many");
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
    int st = run_text(it, s, len, true, line, io);
    it->lineno = line;
    it->fdepth--;
    free(s);
    return st;
}

static int bi_source(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    if (argc < 2) {
        if (is_bashlike(it)) {
            shell_err(it, io, "%s: filename argument required", argv[0]);
            io_printf(it, io, 2, "%s: usage: %s filename [arguments]\n", argv[0], argv[0]);
        }
        return 2;
    }
    char abs[IT_PATH_MAX];
    struct sh_stat st;
    int e = -ENOENT;
    if (!strchr(argv[1], '/'))
        e = path_lookup(it, argv[1], abs, sizeof(abs), &st);
    if (e != 0)
        e = sh_vfs_abspath(it->cwd, argv[1], abs, sizeof(abs));
    struct hp_buf b;
    hp_buf_init(&b, SH_VFS_FILE_MAX);
    long r = e == 0 && it->fs ? sh_vfs_read(it->fs, abs, 0, 0, &b) : -ENOENT;
    if (r < 0) {
        if (is_bashlike(it))
            shell_err(it, io, "%s: %s", argv[1], sh_strerror((int)r));
        else
            shell_err(it, io, "%s: can't open '%s'", argv[0], argv[1]);
        hp_buf_free(&b);
        return is_bashlike(it) ? 1 : 2;
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
        it->pos = pos_dup(argv + 2, argc - 2);
        it->npos = argc - 2;
    }
    unsigned line = it->lineno;
    it->status = 0;
    run_text(it, b.data ? (const char *)b.data : "", b.len, true, 1, io);
    int rs = it->status;
    if (it->returning)
        it->returning = false;
    if (pos) {
        pos_free(it->pos, it->npos);
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
    int st = dispatch(it, argc - 1, argv + 1, io, false);
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
                    shell_err(it, io, "read: -%c: option requires an argument", *o);
                    return 2;
                }
                if (*o == 'p' && !io->in)
                    io_puts(it, io, 2, val);
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
        var_set(it, "REPLY", s, n);
        hp_buf_free(&line);
        return got && complete ? 0 : 1;
    }
    const char *ifs = ifs_of(it);
    size_t p = 0;
    for (; i < argc; i++) {
        if (!name_valid(argv[i], strlen(argv[i]))) {
            shell_err(it, io, "read: `%s': not a valid identifier", argv[i]);
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
            var_set(it, argv[i], s + st, e - st);
        } else {
            while (p < n && !(s[p] && strchr(ifs, s[p])))
                p++;
            var_set(it, argv[i], s + st, p - st);
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
        shell_err(it, io, "return: %s: numeric argument required", argv[1]);
        v = 2;
    }
    if (it->fdepth == 0) {
        shell_err(it, io, "return: can only `return' from a function or sourced script");
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
        shell_err(it, io, "%s: %s: loop count out of range", argv[0], argv[1]);
        return 1;
    }
    if (it->loops == 0) {
        if (is_bashlike(it))
            shell_err(it, io, "%s: only meaningful in a `for', `while', or `until' loop", argv[0]);
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
        shell_err(it, io, "local: can only be used in a function");
        return 1;
    }
    int st = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-')
            continue;
        char *eq = strchr(argv[i], '=');
        size_t nl = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
        char name[128];
        if (nl >= sizeof(name) || !name_valid(argv[i], nl)) {
            shell_err(it, io, "%s: `%s': not a valid identifier", argv[0], argv[i]);
            st = 1;
            continue;
        }
        memcpy(name, argv[i], nl);
        name[nl] = '\0';
        if (infunc)
            undo_note(it, k - 1, name);
        if (eq)
            var_sets(it, name, eq + 1);
        else if (infunc || !var_find(it, name))
            var_sets(it, name, "");
        if (strcmp(argv[0], "export") == 0) {
            struct var *v = var_find(it, name);
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
                io_printf(it, io, 1, "alias %s='%s'\n", name, it->alias_val[i]);
            else
                io_printf(it, io, 1, "%s is aliased to `%s'\n", name, it->alias_val[i]);
            return true;
        }
    if (is_keyword(name) && (it->bash || strcmp(name, "[[") != 0)) {
        io_printf(it, io, 1, style == 1 ? "%s\n" : "%s is a shell keyword\n", name);
        return true;
    }
    if (func_find(it, name)) {
        io_printf(it, io, 1, style == 1 ? "%s\n" : "%s is a function\n", name);
        return true;
    }
    const struct sh_cmd_def *d = sh_cmd_find(name);
    if (builtin_find(name) || (d && d->builtin)) {
        io_printf(it, io, 1, style == 1 ? "%s\n" : "%s is a shell builtin\n", name);
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
        e = path_lookup(it, name, abs, sizeof(abs), &st);
    }
    if (e != 0)
        return false;
    io_printf(it, io, 1, style == 1 ? "%s\n" : "%s is %s\n", style == 1 ? abs : name, abs);
    return true;
}

static int bi_type(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    int st = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && i == 1 && argv[i][1])
            continue;
        if (!describe(it, io, argv[i], 0)) {
            if (is_bashlike(it))
                shell_err(it, io, "type: %s: not found", argv[i]);
            else
                io_printf(it, io, 1, "%s: not found\n", argv[i]);
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
                    shell_err(it, io, "command: %s: not found", argv[i]);
                st = 1;
            }
        return st;
    }
    return dispatch(it, argc - i, argv + i, io, false);
}

static int bi_alias(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    int st = 0;
    if (argc == 1) {
        for (size_t k = 0; k < it->nalias; k++)
            io_printf(it, io, 1, "alias %s='%s'\n", it->alias_name[k], it->alias_val[k]);
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
                io_printf(it, io, 1, "alias %s='%s'\n", it->alias_name[k], it->alias_val[k]);
            } else {
                shell_err(it, io, "alias: %s: not found", argv[i]);
                st = 1;
            }
            continue;
        }
        if (k == it->nalias) {
            if (nl == 0 || it->nalias >= IT_ALIAS_MAX)
                continue;
            size_t cap = it->capalias;
            if (!grow((void **)&it->alias_name, &cap, it->nalias, sizeof(char *), IT_ALIAS_MAX) ||
                !grow((void **)&it->alias_val, &it->capalias, it->nalias, sizeof(char *), IT_ALIAS_MAX))
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
            shell_err(it, io, "unalias: %s: not found", argv[i]);
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
    if (argc == 1 && is_bashlike(it))
        shell_err(it, io, "hash: hash table empty");
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
            io_printf(it, io, 1, "u=%s,g=%s,o=%s\n", b[0], b[1], b[2]);
        } else {
            io_printf(it, io, 1, "%04o\n", it->umask);
        }
        return 0;
    }
    char *end;
    unsigned long v = strtoul(argv[i], &end, 8);
    if (*end || v > 0777) {
        shell_err(it, io, "umask: %s: octal number out of range", argv[i]);
        return 1;
    }
    it->umask = (unsigned)v;
    return 0;
}

static int bi_times(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    (void)argc, (void)argv;
    io_puts(it, io, 1, "0m0.012s 0m0.004s\n0m0.001s 0m0.002s\n");
    return 0;
}

static int bi_let(struct hp_interp *it, int argc, char **argv, struct iox *io)
{
    long long v = 0;
    if (argc < 2) {
        shell_err(it, io, "let: expression expected");
        return 1;
    }
    for (int i = 1; i < argc; i++)
        if (!arith_eval(it, io, argv[i], strlen(argv[i]), &v))
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

static const struct builtin *builtin_find(const char *name)
{
    for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
        if (strcmp(builtins[i].name, name) == 0)
            return &builtins[i];
    return NULL;
}

/* ---- what programs see (cmd.h) ------------------------------------------------------------------ */

static struct iox *op_io(struct sh_cmd *c)
{
    static struct iox null_io = { .fd = { { K_NULL, NULL, NULL }, { K_NULL, NULL, NULL }, { K_NULL, NULL, NULL } } };
    return c->it->cur_io ? c->it->cur_io : &null_io;
}

static void op_write(struct sh_cmd *c, int fd, const void *data, size_t len)
{
    io_put(c->it, op_io(c), fd, data, len);
}

static const char *op_getenv(struct sh_cmd *c, const char *name)
{
    return var_get(c->it, name);
}

static void op_setenv(struct sh_cmd *c, const char *name, const char *value)
{
    if (value)
        var_sets(c->it, name, value);
    else
        var_unset(c->it, name);
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
    return path_lookup(c->it, name, out, outlen, &st);
}

static int op_run_argv(struct sh_cmd *c, int argc, char **argv)
{
    if (argc < 1 || !argv[0])
        return 0;
    if (c->it->io.command)
        c->it->io.command(c->it->io.arg, argc, argv);
    return dispatch(c->it, argc, argv, op_io(c), false);
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
    (void)body;
    if (c->it->io.download)
        c->it->io.download(c->it->io.arg, tool, url, dest, "not_fetched");
    return SH_FETCH_UNREACHABLE;
}

static void op_event(struct sh_cmd *c, const char *eventid, const char *key, const char *value)
{
    if (c->it->io.event)
        c->it->io.event(c->it->io.arg, eventid, key, value);
}

static const struct sh_cmd_ops cmd_ops = {
    .write = op_write, .getenv = op_getenv, .setenv = op_setenv, .environ = op_environ,
    .which = op_which, .run_argv = op_run_argv, .run_script = op_run_script, .logout = op_logout,
    .history = op_history, .fetch = op_fetch, .event = op_event,
};

/* ---- the interface --------------------------------------------------------------------------------- */

static void hist_add(struct hp_interp *it, const uint8_t *line, size_t len)
{
    if (it->nhist == IT_HIST_MAX) {
        free(it->hist[0]);
        memmove(it->hist, it->hist + 1, (IT_HIST_MAX - 1) * sizeof(*it->hist));
        it->nhist--;
    }
    if (!grow((void **)&it->hist, &it->caphist, it->nhist, sizeof(*it->hist), IT_HIST_MAX))
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

bool hp_interp_line(struct hp_interp *it, enum hp_interp_mode mode, unsigned lineno,
                    const uint8_t *line, size_t len)
{
    if (it->ended)
        return false;
    it->style = style_of(it, mode);
    free(it->arg0);
    it->arg0 = hp_xstrdup(mode == HP_INTERP_EXEC ? (it->bash ? "bash" : "sh") : (it->bash ? "-bash" : "-sh"));
    it->ncmds = it->steps = 0;
    it->out_bytes = 0;
    it->abort = false;
    it->now_s = hp_now_us() / 1000000;
    if (mode == HP_INTERP_INTERACTIVE)
        hist_add(it, line, len);
    if (!it->incomplete) {
        hp_buf_reset(&it->pending);
        it->pending_line = lineno ? lineno : 1;
    } else {
        hp_buf_putc(&it->pending, '\n');
    }
    hp_buf_put(&it->pending, line, len);
    struct iox io = { .fd = { { K_NULL, NULL, NULL }, { K_TERM, NULL, NULL }, { K_TERM, NULL, NULL } } };
    it->incomplete = false;
    if (!hp_buf_ok(&it->pending)) {
        shell_err(it, &io, "xmalloc: cannot allocate memory");
        hp_buf_reset(&it->pending);
        it->status = 2;
        return true;
    }
    size_t used;
    enum sh_parse_status s = run_text_at(it, (const char *)it->pending.data, it->pending.len, false,
                                         it->pending_line, &io, &used);
    if (s == SH_PARSE_MORE) {
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

bool hp_interp_eof(struct hp_interp *it, enum hp_interp_mode mode)
{
    if (it->ended || !it->incomplete)
        return !it->ended;
    it->style = style_of(it, mode);
    it->incomplete = false;
    struct iox io = { .fd = { { K_NULL, NULL, NULL }, { K_TERM, NULL, NULL }, { K_TERM, NULL, NULL } } };
    size_t used;
    it->abort = false;
    it->ncmds = it->steps = 0;
    enum sh_parse_status s = run_text_at(it, (const char *)it->pending.data, it->pending.len, true,
                                         it->pending_line, &io, &used);
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

bool hp_interp_incomplete(const struct hp_interp *it)
{
    return it->incomplete;
}

int hp_interp_status(const struct hp_interp *it)
{
    return it->status;
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
            const char *conn = var_get(it, "SSH_CONNECTION");
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
    it->width = sys->width ? sys->width : 80;
    it->pid = 1000 + (unsigned)(hp_random_u64() % 60000);
    it->umask = 022;
    it->arg0 = hp_xstrdup(it->bash ? "-bash" : "-sh");
    it->style = it->bash ? ST_BASH_I : ST_ASH;
    it->sess = (struct sh_session){ .client_ip = it->client_ip, .local_ip = it->local_ip, .tty = it->tty,
                                    .login_s = hp_now_us() / 1000000, .shell_pid = it->pid,
                                    .protocol = it->protocol };
    hp_buf_init(&it->pending, IT_PENDING_MAX);
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
        scope_pop(it);
    free(it->undo);
    free(it->funcs);
    free(it->alias_name);
    free(it->alias_val);
    free(it->scopes);
    for (size_t i = 0; i < it->nhist; i++)
        free(it->hist[i]);
    free(it->hist);
    pos_free(it->pos, it->npos);
    hp_buf_free(&it->pending);
    free(it->arg0);
    free(it->user);
    free(it->host);
    free(it->home);
    free(it->cwd);
    free(it->client_ip);
    free(it->local_ip);
    free(it->tty);
    free(it->protocol);
    free(it);
}
