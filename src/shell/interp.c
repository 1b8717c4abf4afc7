/*
 * interp.c - a small stand-in for bash: enough for bot sessions to progress.
 * See interp.h.  Nothing is ever executed; every command is answered here.
 *
 * A line is handled in three steps, like bash does it, so that a syntax
 * error stops the whole line before anything "runs":
 *   1. lex: words (delimited with their quotes and backslashes) and the
 *      operators ; & && || | |& and redirections;
 *   2. check: an operator where a command should be is a syntax error;
 *   3. run: and-or lists of pipelines of simple commands.  A command's
 *      words are expanded just before it runs ($VAR ${VAR} $? $$ $'...' ~,
 *      quote removal) into an arena, so "false; echo $?" says 1.  In a pipeline
 *      every stdout but the last goes into the pipe (discarded); stderr
 *      still reaches the terminal.  Redirections to a file discard the
 *      stream (there is no file system yet), 2>&1 / >&2 follow each other.
 * Built-ins: echo, cd, pwd, exit, logout, true, false, ':', export, unset,
 * plus answers for the utilities a bot asks first: uname, whoami, id,
 * hostname (also as /bin/X, /usr/bin/X).  Anything else is "command not
 * found" (127) and reported through io.failed for command.failed.
 *
 * Not here (issue 4): command substitution, globbing, word splitting of
 * expansions, here-documents, control structures, functions, a file system.
 *
 * Messages follow Debian 12's bash 5.2 and coreutils 9.1 in a UTF-8 locale,
 * byte for byte where we checked them, because scanners compare them.
 *
 * Bounds: words live in a capped arena (expansions cannot grow a line past
 * it), at most 64 variables of at most 4 KiB, paths of at most 4 KiB.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interp.h"
#include "buf.h"
#include "util.h"

#define IT_MAX_VARS     64
#define IT_VAR_NAME_MAX 64
#define IT_VAR_VAL_MAX  4096
#define IT_PATH_MAX     4096
#define IT_ARENA_EXTRA  (64 * 1024)

/* ---- state ------------------------------------------------------------------ */

struct var {
    char name[IT_VAR_NAME_MAX + 1];
    uint8_t *val;
    size_t len;
};

struct hp_interp {
    struct hp_interp_io io;
    char *user, *host, *release, *version, *machine, *home, *ip;
    char *cwd;                    /* malloc'd: sessions stay small (10,000 idle ones) */
    struct var *vars;             /* grown as variables are set, up to IT_MAX_VARS */
    size_t nvars, cap_vars;
    int status;
    bool ended;
    bool root;
    unsigned pid;
};

static struct var *var_find(struct hp_interp *it, const char *name, size_t n)
{
    for (size_t i = 0; i < it->nvars; i++)
        if (strlen(it->vars[i].name) == n && memcmp(it->vars[i].name, name, n) == 0)
            return &it->vars[i];
    return NULL;
}

/* Set a variable; silently ignored past the limits (the session goes on). */
static void var_set(struct hp_interp *it, const char *name, size_t n, const void *val, size_t len)
{
    if (n == 0 || n > IT_VAR_NAME_MAX || len > IT_VAR_VAL_MAX)
        return;
    struct var *v = var_find(it, name, n);
    if (!v) {
        if (it->nvars == IT_MAX_VARS)
            return;
        if (it->nvars == it->cap_vars) {
            size_t nc = it->cap_vars ? it->cap_vars * 2 : 16;
            struct var *nvv = realloc(it->vars, nc * sizeof(*nvv));
            if (!nvv)
                return;
            it->vars = nvv;
            it->cap_vars = nc;
        }
        v = &it->vars[it->nvars++];
        memcpy(v->name, name, n);
        v->name[n] = '\0';
        v->val = NULL;
    }
    uint8_t *nv = malloc(len + 1);
    if (!nv)
        return;
    memcpy(nv, val, len);
    nv[len] = '\0';
    free(v->val);
    v->val = nv;
    v->len = len;
}

static void var_sets(struct hp_interp *it, const char *name, const char *val)
{
    var_set(it, name, strlen(name), val, strlen(val));
}

static void var_unset(struct hp_interp *it, const char *name, size_t n)
{
    struct var *v = var_find(it, name, n);
    if (!v)
        return;
    free(v->val);
    *v = it->vars[--it->nvars];
}

/* ---- output ----------------------------------------------------------------- */

/* Where fd 1 and 2 of a command go. */
enum dest { D_TERM, D_NULL };

struct cmd {
    struct hp_interp *it;
    enum hp_interp_mode mode;
    unsigned lineno;
    bool subshell;              /* part of a multi-command pipeline */
    enum dest fd[3];
    size_t argc;
    const uint8_t **argv;
    size_t *argl;
};

static void c_write(struct cmd *c, int fd, const void *p, size_t n)
{
    if (c->fd[fd] == D_TERM && n)
        c->it->io.write(c->it->io.arg, p, n);
}

static void c_puts(struct cmd *c, int fd, const char *s)
{
    c_write(c, fd, s, strlen(s));
}

static void c_printf(struct cmd *c, int fd, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void c_printf(struct cmd *c, int fd, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    if ((size_t)n < sizeof(tmp)) {
        c_write(c, fd, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);      /* a long path or name */
    if (!big)
        return;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    c_write(c, fd, big, (size_t)n);
    free(big);
}

/* bash's own prefix for its messages in each mode. */
static void c_bash_prefix(struct cmd *c)
{
    switch (c->mode) {
    case HP_INTERP_INTERACTIVE: c_puts(c, 2, "-bash: "); break;
    case HP_INTERP_SCRIPT: c_printf(c, 2, "-bash: line %u: ", c->lineno); break;
    case HP_INTERP_EXEC: c_printf(c, 2, "bash: line %u: ", c->lineno); break;
    }
}

/* Length of the valid UTF-8 sequence at s (1-4), 0 if it is not one. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
    uint8_t b = s[0];
    size_t len = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((b == 0xE0 && s[1] < 0xA0) || (b == 0xED && s[1] >= 0xA0) ||
        (b == 0xF0 && s[1] < 0x90) || (b == 0xF4 && s[1] >= 0x90))
        return 0;               /* overlong, surrogate, above U+10FFFF */
    return len;
}

static bool name_plain(const uint8_t *s, size_t n)
{
    for (size_t i = 0, l; i < n; i += l) {
        l = utf8_len(s + i, n - i);
        if (l == 0 || (l == 1 && (s[i] < 0x20 || s[i] == 0x7f)))
            return false;
    }
    return true;
}

/* A command name as bash prints it: as is, or $'...' if it has control
 * bytes or bytes that are not UTF-8 (those as octal, ESC as \E). */
static void c_name(struct cmd *c, const uint8_t *s, size_t n)
{
    if (name_plain(s, n)) {
        c_write(c, 2, s, n);
        return;
    }
    c_puts(c, 2, "$'");
    for (size_t i = 0, l; i < n; i += l) {
        static const char esc[] = "\a\b\x1b\f\n\r\t\v";
        static const char nam[] = "abEfnrtv";
        const char *e = s[i] ? strchr(esc, s[i]) : NULL;
        l = utf8_len(s + i, n - i);
        if (l == 0)
            l = 1;
        if (e)
            c_printf(c, 2, "\\%c", nam[e - esc]);
        else if (s[i] == '\'' || s[i] == '\\')
            c_printf(c, 2, "\\%c", s[i]);
        else if (s[i] < 0x20 || s[i] == 0x7f || (s[i] >= 0x80 && utf8_len(s + i, n - i) == 0))
            c_printf(c, 2, "\\%03o", s[i]);
        else
            c_write(c, 2, &s[i], l);
    }
    c_puts(c, 2, "'");
}

static bool arg_is(const struct cmd *c, size_t i, const char *s)
{
    size_t n = strlen(s);
    return i < c->argc && c->argl[i] == n && memcmp(c->argv[i], s, n) == 0;
}

/* ---- escapes (echo -e and $'...') ------------------------------------------- */

static int hexval(uint8_t c)
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

/* Up to max digits of a number in base 8 or 16 from s; *used digits taken. */
static uint32_t digits(const uint8_t *s, size_t n, size_t max, int base, size_t *used)
{
    uint32_t v = 0;
    size_t i = 0;
    for (; i < n && i < max; i++) {
        int d = base == 8 ? (s[i] >= '0' && s[i] <= '7' ? s[i] - '0' : -1) : hexval(s[i]);
        if (d < 0)
            break;
        v = v * (uint32_t)base + (uint32_t)d;
    }
    *used = i;
    return v;
}

enum esc_kind { ESC_ECHO, ESC_ANSI };

/*
 * Decode one escape; s points after the backslash.  Writes up to 4 bytes to
 * out, returns the number of input bytes used (0: not an escape, the
 * backslash is literal).  *stop is set for echo's \c.
 */
static size_t decode_escape(const uint8_t *s, size_t n, enum esc_kind k, uint8_t out[4],
                            size_t *outn, bool *stop)
{
    static const char from[] = "abefnrtvE\\";
    static const char to[] = "\a\b\x1b\f\n\r\t\v\x1b\\";
    size_t u;
    *outn = 0;
    if (n == 0)
        return 0;
    const char *p = strchr(from, s[0]);
    if (s[0] && p) {
        out[(*outn)++] = (uint8_t)to[p - from];
        return 1;
    }
    switch (s[0]) {
    case 'c':
        if (k == ESC_ECHO) {
            *stop = true;
            return 1;
        }
        if (n < 2)
            return 0;
        out[(*outn)++] = s[1] & 0x1f;
        return 2;
    case 'x': {
        uint32_t v = digits(s + 1, n - 1, 2, 16, &u);
        if (!u)
            return 0;
        out[(*outn)++] = (uint8_t)v;
        return 1 + u;
    }
    case 'u': case 'U': {
        uint32_t v = digits(s + 1, n - 1, s[0] == 'u' ? 4 : 8, 16, &u);
        if (!u)
            return 0;
        *outn = put_utf8(out, v);
        return 1 + u;
    }
    case '\'': case '"': case '?':
        if (k != ESC_ANSI)
            return 0;
        out[(*outn)++] = s[0];
        return 1;
    }
    if (k == ESC_ECHO && s[0] == '0') {
        out[(*outn)++] = (uint8_t)digits(s + 1, n - 1, 3, 8, &u);
        return 1 + u;
    }
    if (k == ESC_ANSI && s[0] >= '0' && s[0] <= '7') {
        out[(*outn)++] = (uint8_t)digits(s, n, 3, 8, &u);
        return u;
    }
    return 0;
}

/* ---- lexer ------------------------------------------------------------------ */

enum tok_kind { T_WORD, T_SEMI, T_AMP, T_AND, T_OR, T_PIPE, T_REDIR, T_BAD };
enum redir_kind { R_OUT, R_IN, R_DUP, R_ALL };

struct tok {
    enum tok_kind kind;
    size_t off, len;            /* T_WORD: expanded bytes in the arena */
    size_t src, srcend;         /* span in the line */
    size_t name_len;            /* T_WORD: "NAME=" assignment when > 0 */
    enum redir_kind redir;
    int fd;                     /* T_REDIR: the redirected descriptor */
    bool target;                /* T_WORD: the target of the preceding redirection */
};

struct lex {
    struct hp_interp *it;
    enum hp_interp_mode mode;
    const uint8_t *s;
    size_t n, i;
    struct hp_buf arena;
    struct tok *toks;
    size_t ntok, cap;
    bool oom;
    bool dry;                   /* scanning only: no expansion output */
};

static struct tok *tok_push(struct lex *lx, enum tok_kind k, size_t src)
{
    if (lx->ntok == lx->cap) {
        size_t nc = lx->cap ? lx->cap * 2 : 16;
        struct tok *nt = realloc(lx->toks, nc * sizeof(*nt));
        if (!nt) {
            lx->oom = true;
            return NULL;
        }
        lx->toks = nt;
        lx->cap = nc;
    }
    struct tok *t = &lx->toks[lx->ntok++];
    memset(t, 0, sizeof(*t));
    t->kind = k;
    t->src = src;
    return t;
}

static bool is_blank(uint8_t c) { return c == ' ' || c == '\t'; }
static bool is_opchar(uint8_t c) { return c == ';' || c == '&' || c == '|' || c == '<' || c == '>'; }
static bool is_name0(uint8_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_name(uint8_t c) { return is_name0(c) || (c >= '0' && c <= '9'); }

static void put(struct lex *lx, const void *p, size_t n)
{
    if (!lx->dry)
        hp_buf_put(&lx->arena, p, n);
}

/* Value of a special parameter ($?, $$, $0 ...) or variable into the arena. */
static void expand_name(struct lex *lx, const uint8_t *name, size_t n)
{
    char tmp[24];
    struct hp_interp *it = lx->it;
    if (lx->dry)
        return;
    if (n == 1 && !is_name0(name[0])) {
        switch (name[0]) {
        case '?': snprintf(tmp, sizeof(tmp), "%d", it->status); break;
        case '$': snprintf(tmp, sizeof(tmp), "%u", it->pid); break;
        case '0': snprintf(tmp, sizeof(tmp), "%s", lx->mode == HP_INTERP_EXEC ? "bash" : "-bash"); break;
        case '#': snprintf(tmp, sizeof(tmp), "0"); break;
        case '-': snprintf(tmp, sizeof(tmp), "%s", lx->mode == HP_INTERP_INTERACTIVE ? "himBHs" : "hB"); break;
        default: tmp[0] = '\0'; break;       /* $1..$9 $@ $* $! */
        }
        put(lx, tmp, strlen(tmp));
        return;
    }
    struct var *v = var_find(it, (const char *)name, n);
    if (v)
        put(lx, v->val, v->len);
}

/* $'...': ANSI-C quoting.  lx->i is at the opening quote. */
static void lex_ansi(struct lex *lx)
{
    lx->i++;
    while (lx->i < lx->n && lx->s[lx->i] != '\'') {
        uint8_t c = lx->s[lx->i++], out[4];
        size_t on;
        bool stop = false;
        if (c != '\\') {
            put(lx, &c, 1);
            continue;
        }
        size_t u = decode_escape(lx->s + lx->i, lx->n - lx->i, ESC_ANSI, out, &on, &stop);
        if (u == 0) {
            put(lx, &c, 1);
            continue;
        }
        put(lx, out, on);
        lx->i += u;
    }
    if (lx->i < lx->n)
        lx->i++;
}

/* '$' at lx->i: expansion, or a literal '$'. */
static void lex_dollar(struct lex *lx, bool dquoted)
{
    const uint8_t *s = lx->s;
    size_t i = lx->i + 1, n = lx->n;
    if (i < n && s[i] == '{') {
        const uint8_t *close = memchr(s + i, '}', n - i);
        size_t len = close ? (size_t)(close - (s + i + 1)) : 0;
        if (close && len > 0) {
            expand_name(lx, s + i + 1, len);
            lx->i = (size_t)(close - s) + 1;
            return;
        }
    } else if (i < n && is_name0(s[i])) {
        size_t j = i;
        while (j < n && is_name(s[j]))
            j++;
        expand_name(lx, s + i, j - i);
        lx->i = j;
        return;
    } else if (i < n && strchr("?$#0123456789@*!-", s[i]) && s[i]) {
        expand_name(lx, s + i, 1);
        lx->i = i + 1;
        return;
    } else if (i < n && s[i] == '\'' && !dquoted) {
        lx->i = i;
        lex_ansi(lx);
        return;
    }
    put(lx, "$", 1);
    lx->i++;
}

static void lex_dquote(struct lex *lx)
{
    lx->i++;
    while (lx->i < lx->n && lx->s[lx->i] != '"') {
        uint8_t c = lx->s[lx->i];
        if (c == '\\' && lx->i + 1 < lx->n && strchr("$`\"\\", lx->s[lx->i + 1])) {
            put(lx, &lx->s[lx->i + 1], 1);
            lx->i += 2;
        } else if (c == '$') {
            lex_dollar(lx, true);
        } else {
            put(lx, &c, 1);
            lx->i++;
        }
    }
    if (lx->i < lx->n)
        lx->i++;
}

static void lex_squote(struct lex *lx)
{
    size_t start = ++lx->i;
    while (lx->i < lx->n && lx->s[lx->i] != '\'')
        lx->i++;
    put(lx, lx->s + start, lx->i - start);
    if (lx->i < lx->n)
        lx->i++;
}

/* '~' or "~/..." at the start of an unquoted word: $HOME. */
static bool lex_tilde(struct lex *lx)
{
    size_t i = lx->i;
    if (lx->s[i] != '~' || (i + 1 < lx->n && !is_blank(lx->s[i + 1]) && lx->s[i + 1] != '/' &&
                            !is_opchar(lx->s[i + 1])))
        return false;
    put(lx, lx->it->home, strlen(lx->it->home));
    lx->i++;
    return true;
}

/*
 * Scan one word from lx->i up to a blank or an operator, writing its
 * expansion to the arena unless lx->dry.  Returns the length of a leading
 * unquoted "NAME=" (an assignment), 0 if there is none.
 */
static size_t scan_word(struct lex *lx)
{
    size_t start = lx->i, name_len = 0;
    bool plain = !lex_tilde(lx);   /* only unquoted name characters so far */
    while (lx->i < lx->n) {
        uint8_t c = lx->s[lx->i];
        if (is_blank(c) || is_opchar(c))
            break;
        if (c == '=' && plain && lx->i > start && !name_len)
            name_len = lx->i - start;
        if (!is_name(c))
            plain = false;
        if (c == '\'') {
            lex_squote(lx);
        } else if (c == '"') {
            lex_dquote(lx);
        } else if (c == '$') {
            lex_dollar(lx, false);
        } else if (c == '\\') {
            if (lx->i + 1 < lx->n)
                put(lx, &lx->s[lx->i + 1], 1);
            lx->i += 2;
        } else {
            put(lx, &c, 1);
            lx->i++;
        }
    }
    if (lx->i > lx->n)
        lx->i = lx->n;
    return name_len;
}

/* Words are only delimited when the line is lexed; expand_tok() expands
 * them when their command runs, so "false; echo $?" sees the new status. */
static void lex_word(struct lex *lx)
{
    size_t start = lx->i;
    size_t name_len = scan_word(lx);
    struct tok *t = tok_push(lx, T_WORD, start);
    if (!t)
        return;
    t->srcend = lx->i;
    t->name_len = name_len;
}

static void expand_tok(struct lex *lx, struct tok *t)
{
    size_t save = lx->i;
    lx->i = t->src;
    lx->dry = false;
    t->off = lx->arena.len;
    scan_word(lx);
    t->len = lx->arena.len - t->off;
    lx->i = save;
    lx->dry = true;
}

static bool lex_starts(const struct lex *lx, const char *op)
{
    size_t n = strlen(op);
    return lx->n - lx->i >= n && memcmp(lx->s + lx->i, op, n) == 0;
}

struct opdef {
    const char *text;
    enum tok_kind kind;
    enum redir_kind redir;
    int fd;
};

/* Longest first within each leading character. */
static const struct opdef ops[] = {
    { ";;", T_BAD, 0, 0 }, { ";", T_SEMI, 0, 0 },
    { "&&", T_AND, 0, 0 }, { "&>>", T_REDIR, R_ALL, 1 }, { "&>", T_REDIR, R_ALL, 1 }, { "&", T_AMP, 0, 0 },
    { "||", T_OR, 0, 0 }, { "|&", T_PIPE, 0, 0 }, { "|", T_PIPE, 0, 0 },
    { ">>", T_REDIR, R_OUT, 1 }, { ">&", T_REDIR, R_DUP, 1 }, { ">|", T_REDIR, R_OUT, 1 },
    { ">", T_REDIR, R_OUT, 1 },
    { "<<<", T_REDIR, R_IN, 0 }, { "<<-", T_REDIR, R_IN, 0 }, { "<<", T_REDIR, R_IN, 0 },
    { "<&", T_REDIR, R_DUP, 0 }, { "<>", T_REDIR, R_IN, 0 }, { "<", T_REDIR, R_IN, 0 },
};

/* An operator at lx->i, optionally preceded by a descriptor number (2>). */
static void lex_op(struct lex *lx, int fd)
{
    size_t start = lx->i;
    while (lx->i < lx->n && lx->s[lx->i] >= '0' && lx->s[lx->i] <= '9')
        lx->i++;
    for (size_t k = 0; k < HP_ARRAY_LEN(ops); k++) {
        if (!lex_starts(lx, ops[k].text))
            continue;
        struct tok *t = tok_push(lx, ops[k].kind, start);
        if (!t)
            return;
        t->redir = ops[k].redir;
        t->fd = fd >= 0 ? fd : ops[k].fd;
        lx->i += strlen(ops[k].text);
        t->srcend = lx->i;
        return;
    }
    lx->i = start + 1;          /* not reached: callers only call at an operator */
}

/* Digits directly followed by '<' or '>': a descriptor number (returns it, or -1). */
static int lex_fdnum(const struct lex *lx)
{
    size_t j = lx->i;
    int v = 0;
    while (j < lx->n && lx->s[j] >= '0' && lx->s[j] <= '9' && v < 1000)
        v = v * 10 + (lx->s[j++] - '0');
    if (j == lx->i || j >= lx->n || (lx->s[j] != '<' && lx->s[j] != '>'))
        return -1;
    return v;
}

static bool lex_line(struct lex *lx)
{
    while (lx->i < lx->n && !lx->oom) {
        uint8_t c = lx->s[lx->i];
        int fd;
        if (is_blank(c))
            lx->i++;
        else if (c == '#')
            break;
        else if (is_opchar(c))
            lex_op(lx, -1);
        else if ((fd = lex_fdnum(lx)) >= 0)
            lex_op(lx, fd);
        else
            lex_word(lx);
    }
    return !lx->oom;
}

/* ---- syntax ----------------------------------------------------------------- */

static void syntax_error(struct cmd *c, const struct lex *lx, const uint8_t *tok, size_t toklen)
{
    const char *pre = c->mode == HP_INTERP_EXEC ? "bash: -c: " : "-bash: ";
    for (int round = 0; round < 2; round++) {
        c_puts(c, 2, pre);
        if (c->mode == HP_INTERP_EXEC)
            c_printf(c, 2, "line %u: ", c->lineno);
        if (round == 0) {
            c_puts(c, 2, "syntax error near unexpected token `");
            c_write(c, 2, tok, toklen);
            c_puts(c, 2, "'\n");
            if (c->mode == HP_INTERP_INTERACTIVE)
                return;        /* an interactive shell does not repeat the line */
        } else {
            c_puts(c, 2, "`");
            c_write(c, 2, lx->s, lx->n);
            c_puts(c, 2, "'\n");
        }
    }
}

static void eof_error(struct cmd *c)
{
    if (c->mode == HP_INTERP_EXEC)
        c_printf(c, 2, "bash: -c: line %u: syntax error: unexpected end of file\n", c->lineno + 1);
    else
        c_printf(c, 2, "-bash: line %u: syntax error: unexpected end of file\n", c->lineno + 1);
}

/* Returns true if the token list is a valid command line; marks redirection targets. */
static bool check_syntax(struct cmd *c, struct lex *lx)
{
    bool need_cmd = true;       /* at the start or after && || | */
    bool after_sep = false;     /* at the start or after ; & */
    for (size_t i = 0; i < lx->ntok; i++) {
        struct tok *t = &lx->toks[i];
        const uint8_t *txt = lx->s + t->src;
        size_t tl = t->srcend - t->src;
        switch (t->kind) {
        case T_WORD:
            need_cmd = after_sep = false;
            break;
        case T_REDIR:
            if (i + 1 >= lx->ntok || lx->toks[i + 1].kind != T_WORD) {
                if (i + 1 >= lx->ntok)
                    syntax_error(c, lx, (const uint8_t *)"newline", 7);
                else
                    syntax_error(c, lx, lx->s + lx->toks[i + 1].src,
                                 lx->toks[i + 1].srcend - lx->toks[i + 1].src);
                return false;
            }
            lx->toks[++i].target = true;
            need_cmd = after_sep = false;
            break;
        case T_SEMI: case T_AMP: case T_BAD:
            if (need_cmd || t->kind == T_BAD) {
                syntax_error(c, lx, txt, tl);
                return false;
            }
            need_cmd = true;
            after_sep = true;
            break;
        default:                /* && || | */
            if (need_cmd) {
                syntax_error(c, lx, txt, tl);
                return false;
            }
            need_cmd = true;
            after_sep = false;
            break;
        }
    }
    if (need_cmd && !after_sep && lx->ntok > 0 && c->mode != HP_INTERP_INTERACTIVE) {
        eof_error(c);           /* "a &&" at the end; an interactive bash would ask for more */
        return false;
    }
    return true;
}

/* ---- built-ins -------------------------------------------------------------- */

typedef int (*builtin_fn)(struct cmd *c);

static int bi_true(struct cmd *c) { (void)c; return 0; }
static int bi_false(struct cmd *c) { (void)c; return 1; }

static bool echo_opts(const uint8_t *a, size_t n, bool *nl, bool *esc)
{
    if (n < 2 || a[0] != '-')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!strchr("neE", a[i]) || !a[i])
            return false;
    for (size_t i = 1; i < n; i++) {
        if (a[i] == 'n') *nl = false;
        else if (a[i] == 'e') *esc = true;
        else *esc = false;
    }
    return true;
}

/* Writes one echo argument; false after \c. */
static bool echo_arg(struct cmd *c, const uint8_t *a, size_t n, bool esc)
{
    size_t i = 0, start = 0;
    while (esc && i < n) {
        if (a[i] != '\\') {
            i++;
            continue;
        }
        uint8_t out[4];
        size_t on;
        bool stop = false;
        size_t u = decode_escape(a + i + 1, n - i - 1, ESC_ECHO, out, &on, &stop);
        c_write(c, 1, a + start, i - start);
        if (stop)
            return false;
        if (u == 0) {
            start = i;
            i++;
            continue;
        }
        c_write(c, 1, out, on);
        i += 1 + u;
        start = i;
    }
    c_write(c, 1, a + start, n - start);
    return true;
}

static int bi_echo(struct cmd *c)
{
    bool nl = true, esc = false;
    size_t i = 1;
    while (i < c->argc && echo_opts(c->argv[i], c->argl[i], &nl, &esc))
        i++;
    for (size_t first = i; i < c->argc; i++) {
        if (i > first)
            c_write(c, 1, " ", 1);
        if (!echo_arg(c, c->argv[i], c->argl[i], esc))
            return 0;
    }
    if (nl)
        c_write(c, 1, "\n", 1);
    return 0;
}

static int bi_pwd(struct cmd *c)
{
    c_printf(c, 1, "%s\n", c->it->cwd);
    return 0;
}

/* Normalise path arg (absolute, or relative to cwd) into out; false if too long. */
static bool path_resolve(const char *cwd, const uint8_t *arg, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    if (n == 0 || arg[0] != '/') {
        o = strlen(cwd);
        if (o >= outlen)
            return false;
        memcpy(out, cwd, o);
    }
    if (o == 1)
        o = 0;                  /* "/" : components are appended as "/x" */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && arg[j] != '/')
            j++;
        size_t cl = j - i;
        if (cl == 2 && arg[i] == '.' && arg[i + 1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else if (cl > 0 && !(cl == 1 && arg[i] == '.')) {
            if (o + 1 + cl >= outlen)
                return false;
            out[o++] = '/';
            memcpy(out + o, arg + i, cl);
            o += cl;
        }
        i = j + 1;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return true;
}

static void set_cwd(struct hp_interp *it, const char *dir)
{
    var_sets(it, "OLDPWD", it->cwd);
    free(it->cwd);
    it->cwd = hp_xstrdup(dir);
    var_sets(it, "PWD", it->cwd);
}

static int bi_cd(struct cmd *c)
{
    struct hp_interp *it = c->it;
    char dir[IT_PATH_MAX + 1];
    const uint8_t *arg = (const uint8_t *)it->home;
    size_t n = strlen(it->home);
    bool print = false;
    if (c->argc > 2) {
        c_bash_prefix(c);
        c_puts(c, 2, "cd: too many arguments\n");
        return 1;
    }
    if (c->argc == 2) {
        arg = c->argv[1];
        n = strnlen((const char *)arg, c->argl[1]);     /* bash's strings end at NUL */
        if (n == 0)
            return 0;
    }
    if (c->argc == 2 && n == 1 && arg[0] == '-') {
        struct var *v = var_find(it, "OLDPWD", 6);
        if (!v) {
            c_bash_prefix(c);
            c_puts(c, 2, "cd: OLDPWD not set\n");
            return 1;
        }
        arg = v->val;
        n = strnlen((const char *)v->val, v->len);
        print = true;
    }
    if (!path_resolve(it->cwd, arg, n, dir, sizeof(dir))) {
        c_bash_prefix(c);
        c_puts(c, 2, "cd: ");
        c_write(c, 2, arg, n);
        c_puts(c, 2, ": File name too long\n");
        return 1;
    }
    if (c->subshell)
        return 0;
    set_cwd(it, dir);
    if (print)
        c_printf(c, 1, "%s\n", it->cwd);
    return 0;
}

/* exit [n]: the status is n & 255, or the last status. */
static int bi_exit(struct cmd *c)
{
    struct hp_interp *it = c->it;
    int st = it->status;
    if (c->argc > 1) {
        const uint8_t *a = c->argv[1];
        size_t n = c->argl[1], i = (n && (a[0] == '-' || a[0] == '+')) ? 1 : 0;
        long long v = 0;
        bool ok = i < n;
        for (; i < n && ok; i++) {
            ok = a[i] >= '0' && a[i] <= '9' && v < 1000000000000LL;
            v = v * 10 + (a[i] - '0');
        }
        if (!ok) {
            c_bash_prefix(c);
            c_puts(c, 2, "exit: ");
            c_write(c, 2, a, n);
            c_puts(c, 2, ": numeric argument required\n");
            st = 2;
        } else if (c->argc > 2) {
            c_bash_prefix(c);
            c_puts(c, 2, "exit: too many arguments\n");
            return 1;
        } else {
            st = (int)((a[0] == '-' ? -v : v) & 255);
        }
    }
    if (c->subshell)
        return st;
    if (c->mode == HP_INTERP_INTERACTIVE)
        c_puts(c, 2, "logout\n");
    it->ended = true;
    return st;
}

static int bi_logout(struct cmd *c)
{
    if (c->mode == HP_INTERP_EXEC) {      /* bash -c is not a login shell */
        c_bash_prefix(c);
        c_puts(c, 2, "logout: not login shell: use `exit'\n");
        return 1;
    }
    return bi_exit(c);
}

/* export/unset: assignments take effect, listings are not emulated. */
static int bi_export(struct cmd *c)
{
    for (size_t i = 1; i < c->argc; i++) {
        const uint8_t *eq = memchr(c->argv[i], '=', c->argl[i]);
        if (eq && !c->subshell)
            var_set(c->it, (const char *)c->argv[i], (size_t)(eq - c->argv[i]), eq + 1,
                    c->argl[i] - (size_t)(eq + 1 - c->argv[i]));
    }
    return 0;
}

static int bi_unset(struct cmd *c)
{
    for (size_t i = 1; i < c->argc && !c->subshell; i++)
        if (c->argv[i][0] != '-')
            var_unset(c->it, (const char *)c->argv[i], c->argl[i]);
    return 0;
}

/* coreutils' messages for a bad option / operand. */
static int util_usage(struct cmd *c, const char *prog, const uint8_t *a, size_t n, bool operand)
{
    if (operand) {
        c_printf(c, 2, "%s: extra operand \xe2\x80\x98", prog);
        c_write(c, 2, a, n);
        c_puts(c, 2, "\xe2\x80\x99\n");
    } else if (n > 2 && a[1] == '-') {
        c_printf(c, 2, "%s: unrecognized option '", prog);
        c_write(c, 2, a, n);
        c_puts(c, 2, "'\n");
    } else {
        c_printf(c, 2, "%s: invalid option -- '", prog);
        c_write(c, 2, a + 1, 1);
        c_puts(c, 2, "'\n");
    }
    c_printf(c, 2, "Try '%s --help' for more information.\n", prog);
    return 1;
}

enum { U_S = 1, U_N = 2, U_R = 4, U_V = 8, U_M = 16, U_P = 32, U_I = 64, U_O = 128 };

static const char uname_help[] =
    "Usage: uname [OPTION]...\n"
    "Print certain system information.  With no OPTION, same as -s.\n\n"
    "  -a, --all                print all information, in the following order,\n"
    "                             except omit -p and -i if unknown:\n"
    "  -s, --kernel-name        print the kernel name\n"
    "  -n, --nodename           print the network node hostname\n"
    "  -r, --kernel-release     print the kernel release\n"
    "  -v, --kernel-version     print the kernel version\n"
    "  -m, --machine            print the machine hardware name\n"
    "  -p, --processor          print the processor type (non-portable)\n"
    "  -i, --hardware-platform  print the hardware platform (non-portable)\n"
    "  -o, --operating-system   print the operating system\n"
    "      --help        display this help and exit\n"
    "      --version     output version information and exit\n\n"
    "GNU coreutils online help: <https://www.gnu.org/software/coreutils/>\n"
    "Report any translation bugs to <https://translationproject.org/team/>\n"
    "Full documentation <https://www.gnu.org/software/coreutils/uname>\n"
    "or available locally via: info '(coreutils) uname invocation'\n";

static const char uname_version[] =
    "uname (GNU coreutils) 9.1\n"
    "Copyright (C) 2022 Free Software Foundation, Inc.\n"
    "License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\n"
    "This is free software: you are free to change and redistribute it.\n"
    "There is NO WARRANTY, to the extent permitted by law.\n\n"
    "Written by David MacKenzie.\n";

static const struct { const char *name; unsigned flag; } uname_long[] = {
    { "--all", U_S | U_N | U_R | U_V | U_M | U_O }, { "--kernel-name", U_S }, { "--nodename", U_N },
    { "--kernel-release", U_R }, { "--kernel-version", U_V }, { "--machine", U_M },
    { "--processor", U_P }, { "--hardware-platform", U_I }, { "--operating-system", U_O },
};

/* Parse uname's arguments into flags; -1 after printing an error, -2 help/version done. */
static int uname_flags(struct cmd *c)
{
    static const char letters[] = "snrvmpio";
    unsigned f = 0;
    for (size_t i = 1; i < c->argc; i++) {
        const uint8_t *a = c->argv[i];
        size_t n = c->argl[i];
        if (n < 2 || a[0] != '-') {
            util_usage(c, "uname", a, n, true);
            return -1;
        }
        if (a[1] == '-') {
            if (arg_is(c, i, "--help") || arg_is(c, i, "--version")) {
                c_puts(c, 1, arg_is(c, i, "--help") ? uname_help : uname_version);
                return -2;
            }
            size_t k = 0;
            while (k < HP_ARRAY_LEN(uname_long) && !arg_is(c, i, uname_long[k].name))
                k++;
            if (k == HP_ARRAY_LEN(uname_long)) {
                util_usage(c, "uname", a, n, false);
                return -1;
            }
            f |= uname_long[k].flag;
            continue;
        }
        for (size_t j = 1; j < n; j++) {
            const char *p = a[j] ? strchr(letters, a[j]) : NULL;
            if (a[j] == 'a')
                f |= U_S | U_N | U_R | U_V | U_M | U_O;
            else if (p)
                f |= 1u << (p - letters);
            else {
                util_usage(c, "uname", a + j - 1, 2, false);
                return -1;
            }
        }
    }
    return (int)(f ? f : U_S);
}

static int bi_uname(struct cmd *c)
{
    struct hp_interp *it = c->it;
    int f = uname_flags(c);
    if (f == -2)
        return 0;
    if (f < 0)
        return 1;
    const char *parts[8] = { "Linux", it->host, it->release, it->version, it->machine,
                             "unknown", "unknown", "GNU/Linux" };
    bool first = true;
    for (int k = 0; k < 8; k++) {
        if (!(f & (1 << k)))
            continue;
        c_printf(c, 1, "%s%s", first ? "" : " ", parts[k]);
        first = false;
    }
    c_puts(c, 1, "\n");
    return 0;
}

static int bi_whoami(struct cmd *c)
{
    if (c->argc > 1)
        return util_usage(c, "whoami", c->argv[1], c->argl[1], c->argv[1][0] != '-' || c->argl[1] < 2);
    c_printf(c, 1, "%s\n", c->it->user);
    return 0;
}

static int bi_id(struct cmd *c)
{
    struct hp_interp *it = c->it;
    bool u = false, g = false, G = false, name = false;
    unsigned id = it->root ? 0 : 1000;
    for (size_t i = 1; i < c->argc; i++) {
        const uint8_t *a = c->argv[i];
        size_t n = c->argl[i];
        if (n >= 2 && a[0] == '-' && a[1] != '-') {
            for (size_t j = 1; j < n; j++) {
                if (a[j] == 'u') u = true;
                else if (a[j] == 'g') g = true;
                else if (a[j] == 'G') G = true;
                else if (a[j] == 'n') name = true;
                else if (a[j] != 'r' && a[j] != 'z') return util_usage(c, "id", a + j - 1, 2, false);
            }
        } else if (n >= 2 && a[0] == '-') {
            return util_usage(c, "id", a, n, false);
        } else if (!(n == strlen(it->user) && memcmp(a, it->user, n) == 0)) {
            c_puts(c, 2, "id: \xe2\x80\x98");
            c_write(c, 2, a, n);
            c_puts(c, 2, "\xe2\x80\x99: no such user\n");
            return 1;
        }
    }
    if (u || g || G) {
        if (name)
            c_printf(c, 1, "%s\n", it->user);
        else
            c_printf(c, 1, "%u\n", id);
        return 0;
    }
    c_printf(c, 1, "uid=%u(%s) gid=%u(%s) groups=%u(%s)\n", id, it->user, id, it->user, id, it->user);
    return 0;
}

static int bi_hostname(struct cmd *c)
{
    struct hp_interp *it = c->it;
    const char *dot = strchr(it->host, '.');
    if (c->argc == 1 || arg_is(c, 1, "-f") || arg_is(c, 1, "--fqdn") || arg_is(c, 1, "--long") ||
        arg_is(c, 1, "-A") || arg_is(c, 1, "-a")) {
        c_printf(c, 1, "%s\n", it->host);
    } else if (arg_is(c, 1, "-s") || arg_is(c, 1, "--short")) {
        c_printf(c, 1, "%.*s\n", dot ? (int)(dot - it->host) : (int)strlen(it->host), it->host);
    } else if (arg_is(c, 1, "-d") || arg_is(c, 1, "--domain")) {
        c_printf(c, 1, "%s\n", dot ? dot + 1 : "");
    } else if (arg_is(c, 1, "-i") || arg_is(c, 1, "--ip-address")) {
        c_puts(c, 1, "127.0.1.1\n");         /* Debian's /etc/hosts entry for the host name */
    } else if (arg_is(c, 1, "-I") || arg_is(c, 1, "--all-ip-addresses")) {
        c_printf(c, 1, "%s \n", it->ip);
    } else if (c->argv[1][0] != '-' && !it->root) {
        c_puts(c, 2, "hostname: you must be root to change the host name\n");
        return 1;
    } else if (c->argv[1][0] != '-') {
        return 0;                            /* root may set it; the prompt keeps the old one */
    } else {
        c_printf(c, 1, "%s\n", it->host);
    }
    return 0;
}

struct builtin {
    const char *name;
    builtin_fn fn;
    bool util;                  /* also found as /bin/NAME and /usr/bin/NAME */
};

static const struct builtin builtins[] = {
    { "echo", bi_echo, true }, { "cd", bi_cd, false }, { "pwd", bi_pwd, true },
    { "exit", bi_exit, false }, { "logout", bi_logout, false }, { "true", bi_true, true },
    { "false", bi_false, true }, { ":", bi_true, false }, { "export", bi_export, false },
    { "unset", bi_unset, false }, { "uname", bi_uname, true }, { "whoami", bi_whoami, true },
    { "id", bi_id, true }, { "hostname", bi_hostname, true },
};

static const struct builtin *builtin_find(const uint8_t *name, size_t n)
{
    static const char *const dirs[] = { "/bin/", "/usr/bin/" };
    for (size_t k = 0; k < HP_ARRAY_LEN(builtins); k++) {
        const struct builtin *b = &builtins[k];
        size_t bl = strlen(b->name);
        if (n == bl && memcmp(name, b->name, n) == 0)
            return b;
        for (size_t d = 0; b->util && d < HP_ARRAY_LEN(dirs); d++) {
            size_t dl = strlen(dirs[d]);
            if (n == dl + bl && memcmp(name, dirs[d], dl) == 0 && memcmp(name + dl, b->name, bl) == 0)
                return b;
        }
    }
    return NULL;
}

/* ---- running ---------------------------------------------------------------- */

static int not_found(struct cmd *c, const struct lex *lx, size_t from, size_t to)
{
    bool path = memchr(c->argv[0], '/', c->argl[0]) != NULL;
    c_bash_prefix(c);
    c_name(c, c->argv[0], c->argl[0]);
    c_puts(c, 2, path ? ": No such file or directory\n" : ": command not found\n");
    const struct tok *a = &lx->toks[from], *b = &lx->toks[to - 1];
    if (c->it->io.failed)
        c->it->io.failed(c->it->io.arg, lx->s + a->src, b->srcend - a->src);
    return 127;
}

/* The expanded bytes of a word (the arena has no memory before its first byte). */
static const uint8_t *word_ptr(const struct lex *lx, const struct tok *t)
{
    return lx->arena.data ? lx->arena.data + t->off : (const uint8_t *)"";
}

/* Apply the redirections of toks[from, to) to c->fd[]. */
static void apply_redirs(struct cmd *c, const struct lex *lx, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        const struct tok *t = &lx->toks[i];
        if (t->kind != T_REDIR || i + 1 >= to)
            continue;
        const struct tok *w = &lx->toks[i + 1];
        const uint8_t *tv = word_ptr(lx, w);
        if (t->redir == R_ALL) {
            c->fd[1] = c->fd[2] = D_NULL;
        } else if (t->redir == R_OUT && (t->fd == 1 || t->fd == 2)) {
            c->fd[t->fd] = D_NULL;
        } else if (t->redir == R_DUP && (t->fd == 1 || t->fd == 2) && w->len == 1 &&
                   (tv[0] == '1' || tv[0] == '2')) {
            c->fd[t->fd] = c->fd[tv[0] - '0'];
        } else if (t->redir == R_DUP && (t->fd == 1 || t->fd == 2) && w->len == 1 && tv[0] == '-') {
            c->fd[t->fd] = D_NULL;                  /* closed */
        } else if (t->redir == R_DUP && (t->fd == 1 || t->fd == 2)) {
            c->fd[t->fd] = D_NULL;                  /* >&file */
        }
    }
}

/* One simple command: toks[from, to). */
static int run_simple(struct cmd *c, struct lex *lx, size_t from, size_t to)
{
    struct hp_interp *it = c->it;
    size_t argc = 0, nassign = 0;
    hp_buf_reset(&lx->arena);   /* words live only while their command runs */
    for (size_t i = from; i < to; i++)
        if (lx->toks[i].kind == T_WORD)
            expand_tok(lx, &lx->toks[i]);
    c->argv = malloc((to - from) * sizeof(*c->argv));
    c->argl = malloc((to - from) * sizeof(*c->argl));
    if (!c->argv || !c->argl) {
        free(c->argv);
        free(c->argl);
        return 1;
    }
    for (size_t i = from; i < to; i++) {
        const struct tok *t = &lx->toks[i];
        if (t->kind != T_WORD || t->target)
            continue;
        if (argc == 0 && t->name_len) {
            nassign++;
            continue;
        }
        c->argv[argc] = word_ptr(lx, t);
        c->argl[argc++] = t->len;
    }
    c->argc = argc;
    apply_redirs(c, lx, from, to);
    int st = 0;
    if (argc == 0) {
        for (size_t i = from; i < to && nassign && !c->subshell; i++) {
            const struct tok *t = &lx->toks[i];
            if (t->kind == T_WORD && t->name_len && !t->target && t->len > t->name_len)
                var_set(it, (const char *)lx->s + t->src, t->name_len, word_ptr(lx, t) + t->name_len + 1,
                        t->len - t->name_len - 1);
        }
    } else {
        const struct builtin *b = builtin_find(c->argv[0], c->argl[0]);
        st = b ? b->fn(c) : not_found(c, lx, from, to);
    }
    free(c->argv);
    free(c->argl);
    c->argv = NULL;
    c->argl = NULL;
    return st;
}

static bool is_list_end(enum tok_kind k) { return k == T_SEMI || k == T_AMP || k == T_AND || k == T_OR; }

/* A pipeline starting at toks[*i]; *i is left at its terminator (or the end). */
static int run_pipeline(struct hp_interp *it, struct lex *lx, size_t *i,
                        enum hp_interp_mode mode, unsigned lineno)
{
    size_t start = *i, end = start, ncmd = 1;
    while (end < lx->ntok && !is_list_end(lx->toks[end].kind)) {
        if (lx->toks[end].kind == T_PIPE)
            ncmd++;
        end++;
    }
    *i = end;
    int st = 0;
    for (size_t from = start, k = 0; from < end; k++) {
        size_t to = from;
        while (to < end && lx->toks[to].kind != T_PIPE)
            to++;
        bool last = k + 1 == ncmd;
        struct cmd c = { .it = it, .mode = mode, .lineno = lineno, .subshell = ncmd > 1,
                         .fd = { D_TERM, last ? D_TERM : D_NULL, D_TERM } };
        if (to < end && lx->toks[to].srcend - lx->toks[to].src == 2)
            c.fd[2] = D_NULL;   /* "|&" (the only two-byte pipe): stderr goes into the pipe too */
        if (to > from)
            st = run_simple(&c, lx, from, to);
        from = to + 1;
        if (it->ended)
            break;
    }
    return st;
}

static void run_list(struct hp_interp *it, struct lex *lx, enum hp_interp_mode mode, unsigned lineno)
{
    enum tok_kind before = T_SEMI;
    size_t i = 0;
    while (i < lx->ntok && !it->ended) {
        bool run = before == T_AND ? it->status == 0 : before == T_OR ? it->status != 0 : true;
        if (run) {
            it->status = run_pipeline(it, lx, &i, mode, lineno);
        } else {
            while (i < lx->ntok && !is_list_end(lx->toks[i].kind))
                i++;
        }
        if (i < lx->ntok)       /* the terminator: ; & && || */
            before = lx->toks[i++].kind;
    }
}

bool hp_interp_line(struct hp_interp *it, enum hp_interp_mode mode, unsigned lineno,
                    const uint8_t *line, size_t len)
{
    if (it->ended)
        return false;
    struct lex lx = { .it = it, .mode = mode, .s = line, .n = len, .dry = true };
    hp_buf_init(&lx.arena, len * 2 + IT_ARENA_EXTRA);
    struct cmd c = { .it = it, .mode = mode, .lineno = lineno, .fd = { D_TERM, D_TERM, D_TERM } };
    if (!lex_line(&lx)) {
        c_bash_prefix(&c);
        c_puts(&c, 2, "xmalloc: cannot allocate memory\n");
        it->status = 2;
    } else if (!check_syntax(&c, &lx)) {
        it->status = 2;
        if (mode != HP_INTERP_INTERACTIVE)
            it->ended = true;   /* a script or bash -c stops at a syntax error */
    } else {
        run_list(it, &lx, mode, lineno);
    }
    free(lx.toks);
    hp_buf_free(&lx.arena);
    return !it->ended;
}

/* ---- life cycle --------------------------------------------------------------- */

int hp_interp_status(const struct hp_interp *it)
{
    return it->status;
}

void hp_interp_set_status(struct hp_interp *it, int status)
{
    it->status = status;
}

size_t hp_interp_prompt(const struct hp_interp *it, char *out, size_t outlen)
{
    size_t hl = strcspn(it->host, ".");
    size_t homel = strlen(it->home);
    const char *dir = it->cwd, *tilde = "";
    if (strncmp(it->cwd, it->home, homel) == 0 && (it->cwd[homel] == '\0' || it->cwd[homel] == '/') &&
        strcmp(it->home, "/") != 0) {
        tilde = "~";
        dir = it->cwd + homel;
    }
    int n = snprintf(out, outlen, "%s@%.*s:%s%s%c ", it->user, (int)hl, it->host, tilde, dir,
                     it->root ? '#' : '$');
    if (n < 0)
        return 0;
    return (size_t)n < outlen ? (size_t)n : outlen ? outlen - 1 : 0;
}

static char *dup_or_empty(const char *s)
{
    return hp_xstrdup(s ? s : "");
}

static void init_vars(struct hp_interp *it, const struct hp_interp_sys *sys)
{
    var_sets(it, "HOME", it->home);
    var_sets(it, "USER", it->user);
    var_sets(it, "LOGNAME", it->user);
    var_sets(it, "SHELL", "/bin/bash");
    var_sets(it, "PATH", it->root ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                                  : "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games");
    var_sets(it, "PWD", it->cwd);
    var_sets(it, "HOSTNAME", it->host);
    var_sets(it, "SHLVL", "1");
    var_sets(it, "LANG", "C.UTF-8");
    if (sys->term)
        var_sets(it, "TERM", sys->term);
}

struct hp_interp *hp_interp_new(const struct hp_interp_sys *sys, const struct hp_interp_io *io)
{
    struct hp_interp *it = hp_xcalloc(1, sizeof(*it));
    it->io = *io;
    it->user = dup_or_empty(sys->user);
    it->host = dup_or_empty(sys->host);
    it->release = dup_or_empty(sys->kernel_release);
    it->version = dup_or_empty(sys->kernel_version);
    it->machine = dup_or_empty(sys->machine);
    it->ip = dup_or_empty(sys->ip);
    it->root = strcmp(it->user, "root") == 0;
    if (it->root) {
        it->home = hp_xstrdup("/root");
    } else {
        size_t n = strlen(it->user) + 7;
        it->home = hp_xcalloc(1, n);
        snprintf(it->home, n, "/home/%s", it->user);
    }
    it->cwd = hp_xstrdup(it->home);
    it->pid = 1000 + (unsigned)(hp_random_u64() % 60000);
    init_vars(it, sys);
    return it;
}

void hp_interp_free(struct hp_interp *it)
{
    if (!it)
        return;
    for (size_t i = 0; i < it->nvars; i++)
        free(it->vars[i].val);
    free(it->vars);
    free(it->cwd);
    free(it->user);
    free(it->host);
    free(it->release);
    free(it->version);
    free(it->machine);
    free(it->ip);
    free(it->home);
    free(it);
}
