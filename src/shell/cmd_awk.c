/*
 * cmd_awk.c - awk, as mawk 1.3.4 (Debian 12's awk) and busybox awk run
 * the programs bots and operators type: `awk '{print $2}'`, `awk -F:
 * '{print $1}' /etc/passwd`, `awk '{s+=$1} END {print s}'`, `free -m |
 * awk 'NR==2{printf "%.2f%%", $3*100/$2}'`.
 *
 * A small tree-walking interpreter: the program is tokenized, parsed by
 * recursive descent into nodes, then run record by record.  Every string
 * and node lives in one arena freed when the command ends, which keeps
 * the evaluator free of ownership bookkeeping; the arena is capped, as are
 * the steps executed (a `while (1)` ends), the recursion depth of the
 * parser and the number of fields and array elements.  Regular
 * expressions are glibc ERE through the guard of cmd_text.h.  No function
 * definitions, getline or pipes: the system function and "cmd" | getline never run
 * anything.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd_text.h"
#include "cmd_sys.h"

#define AWK_ARENA_MAX (64u << 20)
#define AWK_STEPS_MAX 20000000L
#define AWK_DEPTH_MAX 200
#define AWK_FIELDS_MAX 32768
#define AWK_VARS_MAX 512

/* ---- arena ---- */

struct awk_blk {
    struct awk_blk *next;
    size_t used, size;
    max_align_t data[];
};

struct awk;
static void *awk_alloc(struct awk *a, size_t n);

/* ---- values ---- */

enum { AV_NUM = 1, AV_STR = 2, AV_STRNUM = 3 };

struct awk_val {
    int t;
    double n;
    const char *s;
    size_t len;
};

struct awk_ent {
    const char *key;
    size_t klen;
    struct awk_val v;
    struct awk_ent *next;
};

struct awk_map {
    struct awk_ent **b;
    size_t nb, n;
};

struct awk_var {
    const char *name;
    struct awk_val v;
    struct awk_map *map;
};

/* ---- nodes ---- */

enum awk_op {
    N_NUM, N_STR, N_RE, N_VAR, N_FIELD, N_INDEX, N_ASSIGN, N_COND, N_OR, N_AND, N_IN, N_MATCH,
    N_NOMATCH, N_LT, N_LE, N_NE, N_EQ, N_GT, N_GE, N_CAT, N_ADD, N_SUB, N_MUL, N_DIV, N_MOD, N_POW,
    N_NEG, N_PLUS, N_NOT, N_PREINC, N_PREDEC, N_POSTINC, N_POSTDEC, N_CALL, N_GROUP,
    /* statements */
    S_PRINT, S_PRINTF, S_IF, S_WHILE, S_DO, S_FOR, S_FORIN, S_BLOCK, S_NEXT, S_EXIT, S_BREAK,
    S_CONTINUE, S_DELETE, S_EXPR, S_GETLINE,
};

struct awk_node {
    enum awk_op op;
    int sub;                      /* assignment operator / builtin id / redirection kind */
    struct awk_node *a, *b, *c, *d;
    struct awk_node *next;        /* lists: statements, arguments */
    double num;
    const char *str;
    size_t len;
    int var;
    struct txt_re *re;
};

struct awk_rule {
    int kind;                     /* 0 pattern/action, 1 BEGIN, 2 END */
    struct awk_node *pat, *pat2, *action;
    bool in_range;
    struct awk_rule *next;
};

/* ---- tokens ---- */

enum awk_tok {
    T_EOF, T_NL, T_LBRACE, T_RBRACE, T_LPAREN, T_RPAREN, T_LBRACKET, T_RBRACKET, T_SEMI, T_COMMA,
    T_NUM, T_STR, T_ERE, T_NAME, T_FUNC_NAME, T_BUILTIN, T_DOLLAR, T_ASSIGN, T_QUEST, T_COLON,
    T_OR, T_AND, T_IN, T_MATCH, T_NOMATCH, T_LT, T_LE, T_NE, T_EQ, T_GT, T_GE, T_APPEND, T_PIPE,
    T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT, T_CARET, T_NOT, T_INC, T_DEC, T_BEGIN, T_END,
    T_IF, T_ELSE, T_WHILE, T_FOR, T_DO, T_BREAK, T_CONTINUE, T_NEXT, T_EXIT, T_PRINT, T_PRINTF,
    T_DELETE, T_GETLINE, T_FUNCTION, T_RETURN, T_BAD,
};

enum awk_bi {
    B_LENGTH, B_SUBSTR, B_INDEX, B_SPLIT, B_SUB, B_GSUB, B_MATCH, B_SPRINTF, B_TOLOWER, B_TOUPPER,
    B_INT, B_SQRT, B_EXP, B_LOG, B_SIN, B_COS, B_ATAN2, B_RAND, B_SRAND, B_SYSTEM, B_CLOSE, B_FFLUSH,
};

static const struct { const char *name; int tok; int bi; } awk_words[] = {
    { "BEGIN", T_BEGIN, 0 }, { "END", T_END, 0 }, { "if", T_IF, 0 }, { "else", T_ELSE, 0 },
    { "while", T_WHILE, 0 }, { "for", T_FOR, 0 }, { "do", T_DO, 0 }, { "break", T_BREAK, 0 },
    { "continue", T_CONTINUE, 0 }, { "next", T_NEXT, 0 }, { "exit", T_EXIT, 0 },
    { "print", T_PRINT, 0 }, { "printf", T_PRINTF, 0 }, { "delete", T_DELETE, 0 },
    { "getline", T_GETLINE, 0 }, { "function", T_FUNCTION, 0 }, { "func", T_FUNCTION, 0 },
    { "return", T_RETURN, 0 }, { "in", T_IN, 0 },
    { "length", T_BUILTIN, B_LENGTH }, { "substr", T_BUILTIN, B_SUBSTR },
    { "index", T_BUILTIN, B_INDEX }, { "split", T_BUILTIN, B_SPLIT }, { "sub", T_BUILTIN, B_SUB },
    { "gsub", T_BUILTIN, B_GSUB }, { "match", T_BUILTIN, B_MATCH },
    { "sprintf", T_BUILTIN, B_SPRINTF }, { "tolower", T_BUILTIN, B_TOLOWER },
    { "toupper", T_BUILTIN, B_TOUPPER }, { "int", T_BUILTIN, B_INT }, { "sqrt", T_BUILTIN, B_SQRT },
    { "exp", T_BUILTIN, B_EXP }, { "log", T_BUILTIN, B_LOG }, { "sin", T_BUILTIN, B_SIN },
    { "cos", T_BUILTIN, B_COS }, { "atan2", T_BUILTIN, B_ATAN2 }, { "rand", T_BUILTIN, B_RAND },
    { "srand", T_BUILTIN, B_SRAND }, { "system", T_BUILTIN, B_SYSTEM },
    { "close", T_BUILTIN, B_CLOSE }, { "fflush", T_BUILTIN, B_FFLUSH },
};

/* Special variables, at fixed indexes. */
enum { V_NR, V_NF, V_FNR, V_FS, V_OFS, V_ORS, V_RS, V_FILENAME, V_SUBSEP, V_RSTART, V_RLENGTH,
       V_CONVFMT, V_OFMT, V_ENVIRON, V_NSPECIAL };
static const char *const awk_special[] = { "NR", "NF", "FNR", "FS", "OFS", "ORS", "RS", "FILENAME",
                                           "SUBSEP", "RSTART", "RLENGTH", "CONVFMT", "OFMT",
                                           "ENVIRON" };

struct awk {
    struct sh_cmd *c;
    struct txt_out o;
    bool bb;
    struct awk_blk *arena;
    size_t arena_total;
    bool oom;
    /* lexer */
    const char *src;
    size_t len, pos;
    int line;
    enum awk_tok tok;
    int tok_bi;
    const char *tok_s;
    size_t tok_len;
    double tok_n;
    bool regex_ok;                /* a '/' here starts a regex */
    int depth;
    bool err;
    /* program */
    struct awk_rule *rules, *rules_tail;
    struct awk_var vars[AWK_VARS_MAX];
    int nvars;
    /* running */
    const char *rec;              /* $0 */
    size_t rec_len;
    struct awk_val *fields;       /* $1..$NF, index 0 unused */
    int nf;
    bool fields_ok;               /* fields split from rec */
    long steps;
    bool next, exiting, brk, cont;
    int exit_code;
    bool fatal;
    unsigned rand_seed;
    struct txt_re *regs[256];     /* compiled here: regfree'd at the end */
    int nregs;
    const char *re_text[256];
    size_t re_len[256];
    const char *opened[16];
    int nopened;
    double prev_seed;
};

static void *awk_alloc(struct awk *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->arena || a->arena->used + n > a->arena->size) {
        size_t sz = n > 60000 ? n : 60000;
        if (a->arena_total + sz > AWK_ARENA_MAX) {
            a->oom = a->fatal = true;
            return NULL;
        }
        struct awk_blk *b = malloc(sizeof(*b) + sz);
        if (!b) {
            a->oom = a->fatal = true;
            return NULL;
        }
        b->next = a->arena;
        b->used = 0;
        b->size = sz;
        a->arena = b;
        a->arena_total += sz;
    }
    void *p = (char *)a->arena->data + a->arena->used;
    a->arena->used += n;
    return p;
}

static void *awk_zalloc(struct awk *a, size_t n)
{
    void *p = awk_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

static const char *awk_strdup(struct awk *a, const char *s, size_t n)
{
    char *p = awk_alloc(a, n + 1);
    if (!p)
        return "";
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static void awk_arena_free(struct awk *a)
{
    while (a->arena) {
        struct awk_blk *n = a->arena->next;
        free(a->arena);
        a->arena = n;
    }
}

/* ---- values ---- */

static struct awk_val awk_num(double n) { return (struct awk_val){ AV_NUM, n, NULL, 0 }; }

static struct awk_val awk_str(const char *s, size_t n) { return (struct awk_val){ AV_STR, 0, s, n }; }

/* A string that looks like a number compares as one (fields, -v, split). */
static bool awk_looks_num(const char *s, size_t n, double *out)
{
    size_t i = 0;
    while (i < n && isspace((unsigned char)s[i]))
        i++;
    if (i == n)
        return false;
    char buf[64];
    size_t k = n - i;
    if (k >= sizeof(buf))
        return false;
    memcpy(buf, s + i, k);
    buf[k] = '\0';
    if (strpbrk(buf, "xXnNiI"))   /* no hex, nan, inf in mawk's sense */
        return false;
    char *end;
    double v = strtod(buf, &end);
    if (end == buf)
        return false;
    while (*end && isspace((unsigned char)*end))
        end++;
    if (*end)
        return false;
    *out = v;
    return true;
}

static struct awk_val awk_strnum(const char *s, size_t n)
{
    struct awk_val v = awk_str(s, n);
    double d;
    if (awk_looks_num(s, n, &d)) {
        v.t = AV_STRNUM;
        v.n = d;
    }
    return v;
}

/* double -> long without undefined behaviour (NaN: 0, clamped). */
static long awk_clamp(double d)
{
    if (isnan(d))
        return 0;
    if (d >= 1e15)
        return 1000000000000000L;
    if (d <= -1e15)
        return -1000000000000000L;
    return (long)d;
}

static double awk_tonum(const struct awk_val *v)
{
    if (v->t & AV_NUM)
        return v->n;
    if (!v->s)
        return 0;
    char buf[64];
    size_t k = v->len < sizeof(buf) - 1 ? v->len : sizeof(buf) - 1;
    memcpy(buf, v->s, k);
    buf[k] = '\0';
    const char *p = buf;
    while (isspace((unsigned char)*p))
        p++;
    const char *q = p + (*p == '-' || *p == '+');
    if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
        return 0;                 /* mawk reads "0x1A" as 0 */
    if (!isdigit((unsigned char)*q) && *q != '.')
        return 0;                 /* no "inf", "nan" */
    return strtod(p, NULL);
}

/* Formats built here or checked by awk_format are the only non-literal
 * ones (OFMT/CONVFMT are used only when they hold a '%'). */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

/* OFMT/CONVFMT are attacker text: accept one floating conversion only
 * ("%.6g", "%5.2f"), with no other '%' and bounded width. */
static bool awk_fmt_ok(const char *f, size_t len)
{
    if (len > 24)
        return false;
    const char *p = strchr(f, '%');
    if (!p)
        return false;
    p++;
    while (*p && strchr("-+ #0", *p))
        p++;
    int digits = 0;
    while (isdigit((unsigned char)*p) && digits++ < 3)
        p++;
    if (*p == '.') {
        p++;
        digits = 0;
        while (isdigit((unsigned char)*p) && digits++ < 2)
            p++;
    }
    if (!*p || !strchr("eEfFgG", *p))
        return false;
    return strchr(p + 1, '%') == NULL;
}

static void awk_fmtnum(char *out, size_t n, double d, const char *fmt)
{
    if (fabs(d) < 1e16 && d == (double)(long long)d)
        snprintf(out, n, "%lld", (long long)d);
    else if (isnan(d))
        snprintf(out, n, "%s", signbit(d) ? "-nan" : "nan");
    else if (isinf(d))
        snprintf(out, n, "%s", d < 0 ? "-inf" : "inf");
    else
        snprintf(out, n, fmt, d);
}

static const char *awk_tostr(struct awk *a, const struct awk_val *v, size_t *len, bool output)
{
    if (v->t & AV_STR) {
        *len = v->len;
        return v->s ? v->s : "";
    }
    char buf[64];
    const struct awk_val *f = &a->vars[output ? V_OFMT : V_CONVFMT].v;
    const char *fmt = f->t & AV_STR && f->s && awk_fmt_ok(f->s, f->len) ? f->s : "%.6g";
    awk_fmtnum(buf, sizeof(buf), v->n, fmt);
    *len = strlen(buf);
    return awk_strdup(a, buf, *len);
}

static bool awk_true(const struct awk_val *v)
{
    if (v->t == AV_NUM || v->t == AV_STRNUM)
        return v->n != 0;
    return v->len != 0;
}

/* ---- variables and arrays ---- */

static int awk_var(struct awk *a, const char *name, size_t n)
{
    for (int i = 0; i < a->nvars; i++)
        if (strlen(a->vars[i].name) == n && memcmp(a->vars[i].name, name, n) == 0)
            return i;
    if (a->nvars >= AWK_VARS_MAX) {
        a->err = true;
        return 0;
    }
    a->vars[a->nvars].name = awk_strdup(a, name, n);
    a->vars[a->nvars].v = awk_str("", 0);
    a->vars[a->nvars].v.t = AV_STRNUM;
    return a->nvars++;
}

static size_t awk_hash(const char *s, size_t n)
{
    size_t h = 5381;
    for (size_t i = 0; i < n; i++)
        h = h * 33 + (unsigned char)s[i];
    return h;
}

static struct awk_val *awk_elem(struct awk *a, struct awk_map *m, const char *k, size_t kn, bool create)
{
    if (m->nb) {
        for (struct awk_ent *e = m->b[awk_hash(k, kn) % m->nb]; e; e = e->next)
            if (e->klen == kn && memcmp(e->key, k, kn) == 0)
                return &e->v;
    }
    if (!create)
        return NULL;
    if (m->n >= m->nb * 2) {
        size_t nb = m->nb ? m->nb * 4 : 64;
        struct awk_ent **b = awk_zalloc(a, nb * sizeof(*b));
        if (!b)
            return NULL;
        for (size_t i = 0; i < m->nb; i++)
            for (struct awk_ent *e = m->b[i], *nx; e; e = nx) {
                nx = e->next;
                size_t h = awk_hash(e->key, e->klen) % nb;
                e->next = b[h];
                b[h] = e;
            }
        m->b = b;
        m->nb = nb;
    }
    struct awk_ent *e = awk_zalloc(a, sizeof(*e));
    if (!e)
        return NULL;
    e->key = awk_strdup(a, k, kn);
    e->klen = kn;
    e->v = awk_str("", 0);
    e->v.t = AV_STRNUM;
    size_t h = awk_hash(k, kn) % m->nb;
    e->next = m->b[h];
    m->b[h] = e;
    m->n++;
    return &e->v;
}

static void awk_delete(struct awk_map *m, const char *k, size_t kn)
{
    if (!m->nb)
        return;
    for (struct awk_ent **pp = &m->b[awk_hash(k, kn) % m->nb]; *pp; pp = &(*pp)->next)
        if ((*pp)->klen == kn && memcmp((*pp)->key, k, kn) == 0) {
            *pp = (*pp)->next;
            m->n--;
            return;
        }
}

static struct awk_map *awk_map_of(struct awk *a, int var)
{
    struct awk_var *v = &a->vars[var];
    if (!v->map)
        v->map = awk_zalloc(a, sizeof(*v->map));
    return v->map;
}

/* ---- lexer ---- */

static int awk_ch(struct awk *a) { return a->pos < a->len ? (unsigned char)a->src[a->pos] : -1; }

/* A string or regex literal body with awk escapes; the token text is
 * unescaped for strings, kept for regexes (regcomp reads the escapes). */
static void awk_lex_quoted(struct awk *a, int end, bool regex)
{
    struct hp_buf b;
    hp_buf_init(&b, 1u << 20);
    for (;;) {
        int ch = awk_ch(a);
        if (ch < 0 || ch == '\n') {
            a->tok = T_BAD;
            hp_buf_free(&b);
            return;
        }
        a->pos++;
        if (ch == end)
            break;
        if (ch == '\\' && a->pos < a->len) {
            int nx = (unsigned char)a->src[a->pos++];
            if (regex) {
                if (nx == '/')
                    hp_buf_putc(&b, '/');
                else {
                    hp_buf_putc(&b, '\\');
                    hp_buf_putc(&b, (uint8_t)nx);
                }
                continue;
            }
            static const char from[] = "ntrabfv\\\"/", to[] = "\n\t\r\a\b\f\v\\\"/";
            const char *f = strchr(from, nx);
            if (f && nx)
                hp_buf_putc(&b, (uint8_t)to[f - from]);
            else if (nx >= '0' && nx <= '7') {
                int v = nx - '0';
                for (int k = 0; k < 2 && awk_ch(a) >= '0' && awk_ch(a) <= '7'; k++)
                    v = v * 8 + (a->src[a->pos++] - '0');
                hp_buf_putc(&b, (uint8_t)v);
            } else if (nx == '\n')
                continue;
            else {
                hp_buf_putc(&b, '\\');
                hp_buf_putc(&b, (uint8_t)nx);
            }
            continue;
        }
        hp_buf_putc(&b, (uint8_t)ch);
    }
    a->tok = regex ? T_ERE : T_STR;
    a->tok_s = awk_strdup(a, b.data ? (const char *)b.data : "", b.len);
    a->tok_len = b.len;
    hp_buf_free(&b);
}

static const struct { const char *s; enum awk_tok t; int sub; } awk_ops[] = {
    { "+=", T_ASSIGN, N_ADD }, { "-=", T_ASSIGN, N_SUB }, { "*=", T_ASSIGN, N_MUL },
    { "/=", T_ASSIGN, N_DIV }, { "%=", T_ASSIGN, N_MOD }, { "^=", T_ASSIGN, N_POW },
    { "||", T_OR, 0 }, { "&&", T_AND, 0 }, { "!~", T_NOMATCH, 0 }, { "<=", T_LE, 0 },
    { "!=", T_NE, 0 }, { "==", T_EQ, 0 }, { ">=", T_GE, 0 }, { ">>", T_APPEND, 0 },
    { "++", T_INC, 0 }, { "--", T_DEC, 0 }, { "**", T_CARET, 0 },
    { "{", T_LBRACE, 0 }, { "}", T_RBRACE, 0 }, { "(", T_LPAREN, 0 }, { ")", T_RPAREN, 0 },
    { "[", T_LBRACKET, 0 }, { "]", T_RBRACKET, 0 }, { ";", T_SEMI, 0 }, { ",", T_COMMA, 0 },
    { "=", T_ASSIGN, 0 }, { "?", T_QUEST, 0 }, { ":", T_COLON, 0 }, { "~", T_MATCH, 0 },
    { "<", T_LT, 0 }, { ">", T_GT, 0 }, { "|", T_PIPE, 0 }, { "+", T_PLUS, 0 },
    { "-", T_MINUS, 0 }, { "*", T_STAR, 0 }, { "/", T_SLASH, 0 }, { "%", T_PERCENT, 0 },
    { "^", T_CARET, 0 }, { "!", T_NOT, 0 }, { "$", T_DOLLAR, 0 },
};

static void awk_next(struct awk *a)
{
    for (;;) {
        int ch = awk_ch(a);
        if (ch == ' ' || ch == '\t' || ch == '\r')
            a->pos++;
        else if (ch == '\\' && a->pos + 1 < a->len && a->src[a->pos + 1] == '\n') {
            a->pos += 2;
            a->line++;
        } else if (ch == '#') {
            while (a->pos < a->len && a->src[a->pos] != '\n')
                a->pos++;
        } else
            break;
    }
    a->tok_s = a->src + a->pos;
    a->tok_len = 0;
    int ch = awk_ch(a);
    bool regex_ok = a->regex_ok;
    a->regex_ok = false;
    if (ch < 0) {
        a->tok = T_EOF;
        return;
    }
    if (ch == '\n') {
        a->pos++;
        a->line++;
        a->tok = T_NL;
        a->regex_ok = true;
        return;
    }
    if (isdigit(ch) || (ch == '.' && a->pos + 1 < a->len && isdigit((unsigned char)a->src[a->pos + 1]))) {
        char buf[64];
        size_t k = 0;
        while (a->pos < a->len && k < sizeof(buf) - 1 &&
               (isalnum((unsigned char)a->src[a->pos]) || a->src[a->pos] == '.' ||
                ((a->src[a->pos] == '-' || a->src[a->pos] == '+') && k &&
                 (buf[k - 1] == 'e' || buf[k - 1] == 'E'))))
            buf[k++] = a->src[a->pos++];
        buf[k] = '\0';
        a->tok_n = strtod(buf, NULL);
        a->tok = T_NUM;
        return;
    }
    if (isalpha(ch) || ch == '_') {
        size_t st = a->pos;
        while (a->pos < a->len && (isalnum((unsigned char)a->src[a->pos]) || a->src[a->pos] == '_'))
            a->pos++;
        a->tok_s = a->src + st;
        a->tok_len = a->pos - st;
        a->tok = T_NAME;
        for (size_t i = 0; i < sizeof(awk_words) / sizeof(awk_words[0]); i++)
            if (strlen(awk_words[i].name) == a->tok_len && memcmp(awk_words[i].name, a->tok_s, a->tok_len) == 0) {
                a->tok = awk_words[i].tok;
                a->tok_bi = awk_words[i].bi;
            }
        if (a->tok == T_NAME && awk_ch(a) == '(')
            a->tok = T_FUNC_NAME;
        a->regex_ok = a->tok != T_NAME && a->tok != T_FUNC_NAME && a->tok != T_BUILTIN;
        return;
    }
    if (ch == '"') {
        a->pos++;
        awk_lex_quoted(a, '"', false);
        return;
    }
    if (ch == '/' && regex_ok) {
        a->pos++;
        awk_lex_quoted(a, '/', true);
        return;
    }
    for (size_t i = 0; i < sizeof(awk_ops) / sizeof(awk_ops[0]); i++) {
        size_t n = strlen(awk_ops[i].s);
        if (a->pos + n <= a->len && memcmp(a->src + a->pos, awk_ops[i].s, n) == 0) {
            a->pos += n;
            a->tok = awk_ops[i].t;
            a->tok_bi = awk_ops[i].sub;
            a->tok_len = n;
            /* after these, a '/' is a regex, not a division */
            a->regex_ok = !(a->tok == T_RPAREN || a->tok == T_RBRACKET || a->tok == T_DOLLAR ||
                            a->tok == T_INC || a->tok == T_DEC);
            return;
        }
    }
    a->pos++;
    a->tok_len = 1;
    a->tok = T_BAD;
}

/* ---- parser ---- */

static void awk_syntax(struct awk *a)
{
    if (a->err)
        return;
    a->err = true;
    char near[64];
    size_t n = a->tok_len ? a->tok_len : 1;
    if (a->tok == T_EOF)
        snprintf(near, sizeof(near), "end of file");
    else if (a->tok == T_NL)
        snprintf(near, sizeof(near), "end of line");
    else if (a->tok == T_STR)
        snprintf(near, sizeof(near), "\"%.*s\"", (int)(n < 40 ? n : 40), a->tok_s);
    else
        snprintf(near, sizeof(near), "%.*s", (int)(n < 40 ? n : 40), a->tok_s);
    if (a->bb)
        sh_errf(a->c, "awk: cmd. line:%d: Unexpected token\n", a->line);
    else
        sh_errf(a->c, "mawk: line %d: syntax error at or near %s\n", a->line, near);
}

static bool awk_accept(struct awk *a, enum awk_tok t)
{
    if (a->tok != t)
        return false;
    awk_next(a);
    return true;
}

static void awk_expect(struct awk *a, enum awk_tok t)
{
    if (!awk_accept(a, t))
        awk_syntax(a);
}

static void awk_opt_nl(struct awk *a)
{
    while (a->tok == T_NL)
        awk_next(a);
}

static struct awk_node *awk_node(struct awk *a, enum awk_op op, struct awk_node *l, struct awk_node *r)
{
    struct awk_node *n = awk_zalloc(a, sizeof(*n));
    if (!n) {
        a->err = true;
        static struct awk_node dummy;
        memset(&dummy, 0, sizeof(dummy));
        return &dummy;
    }
    n->op = op;
    n->a = l;
    n->b = r;
    return n;
}

static struct awk_node *awk_expr(struct awk *a, bool no_gt, bool no_in);
static struct awk_node *awk_unary(struct awk *a);

static struct awk_node *awk_re_node(struct awk *a, const char *s, size_t n)
{
    struct awk_node *r = awk_node(a, N_RE, NULL, NULL);
    r->re = a->nregs < 256 ? awk_zalloc(a, sizeof(*r->re)) : NULL;
    char err[256];
    if (!r->re) {
        a->err = true;
        return r;
    }
    a->re_text[a->nregs] = awk_strdup(a, s, n);
    a->re_len[a->nregs] = n;
    a->regs[a->nregs++] = r->re;
    if (txt_re_comp(r->re, s, n, REG_EXTENDED, err, sizeof(err)) != 0) {
        if (!a->err) {
            if (a->bb)
                sh_errf(a->c, "awk: cmd. line:%d: %s\n", a->line, err);
            else
                sh_errf(a->c, "mawk: line %d: regular expression compile failed (%s)\n%.*s\n", a->line,
                        err, (int)n, s);
        }
        a->err = true;
    }
    return r;
}

/* Arguments of a call: "(" [expr {"," expr}] ")". */
static struct awk_node *awk_args(struct awk *a)
{
    struct awk_node *head = NULL, **tail = &head;
    awk_expect(a, T_LPAREN);
    if (a->tok == T_RPAREN) {
        awk_next(a);
        return NULL;
    }
    while (!a->err) {
        awk_opt_nl(a);
        *tail = awk_expr(a, false, false);
        tail = &(*tail)->next;
        if (a->tok != T_COMMA)
            break;
        awk_next(a);
    }
    awk_expect(a, T_RPAREN);
    return head;
}

static bool awk_is_lvalue(const struct awk_node *n)
{
    return n->op == N_VAR || n->op == N_FIELD || n->op == N_INDEX;
}

static struct awk_node *awk_primary(struct awk *a)
{
    struct awk_node *n;
    switch (a->tok) {
    case T_NUM:
        n = awk_node(a, N_NUM, NULL, NULL);
        n->num = a->tok_n;
        awk_next(a);
        return n;
    case T_STR:
        n = awk_node(a, N_STR, NULL, NULL);
        n->str = a->tok_s;
        n->len = a->tok_len;
        awk_next(a);
        return n;
    case T_ERE:
        n = awk_re_node(a, a->tok_s, a->tok_len);
        awk_next(a);
        return n;
    case T_SLASH:                 /* a regex where the lexer guessed a division */
        a->pos -= a->tok_len;
        a->pos++;
        awk_lex_quoted(a, '/', true);
        if (a->tok != T_ERE) {
            awk_syntax(a);
            return awk_node(a, N_NUM, NULL, NULL);
        }
        return awk_primary(a);
    case T_DOLLAR: {
        awk_next(a);
        struct awk_node *e;
        if (a->tok == T_INC || a->tok == T_DEC || a->tok == T_MINUS) {
            e = awk_primary(a);
        } else
            e = awk_primary(a);
        return awk_node(a, N_FIELD, e, NULL);
    }
    case T_NOT: case T_MINUS: case T_PLUS: {
        enum awk_tok t = a->tok;
        awk_next(a);
        struct awk_node *e = awk_unary(a);
        return awk_node(a, t == T_NOT ? N_NOT : t == T_MINUS ? N_NEG : N_PLUS, e, NULL);
    }
    case T_INC: case T_DEC: {
        enum awk_tok t = a->tok;
        awk_next(a);
        struct awk_node *e = awk_primary(a);
        if (!awk_is_lvalue(e))
            awk_syntax(a);
        return awk_node(a, t == T_INC ? N_PREINC : N_PREDEC, e, NULL);
    }
    case T_LPAREN: {
        awk_next(a);
        n = awk_expr(a, false, false);
        if (a->tok == T_COMMA) {  /* (i, j) in arr, or print (a, b) */
            struct awk_node **tail = &n->next;
            while (awk_accept(a, T_COMMA)) {
                *tail = awk_expr(a, false, false);
                tail = &(*tail)->next;
            }
        }
        awk_expect(a, T_RPAREN);
        return awk_node(a, N_GROUP, n, NULL);
    }
    case T_BUILTIN: {
        n = awk_node(a, N_CALL, NULL, NULL);
        n->sub = a->tok_bi;
        awk_next(a);
        if (a->tok == T_LPAREN)
            n->a = awk_args(a);
        else if (n->sub != B_LENGTH)
            awk_syntax(a);
        return n;
    }
    case T_NAME: case T_FUNC_NAME: {
        n = awk_node(a, N_VAR, NULL, NULL);
        n->var = awk_var(a, a->tok_s, a->tok_len);
        bool call = a->tok == T_FUNC_NAME;
        awk_next(a);
        if (call) {               /* user functions are not supported */
            awk_syntax(a);
            return n;
        }
        if (a->tok == T_LBRACKET) {
            awk_next(a);
            struct awk_node *k = awk_expr(a, false, false), **tail = &k->next;
            while (awk_accept(a, T_COMMA)) {
                *tail = awk_expr(a, false, false);
                tail = &(*tail)->next;
            }
            awk_expect(a, T_RBRACKET);
            struct awk_node *x = awk_node(a, N_INDEX, k, NULL);
            x->var = n->var;
            return x;
        }
        return n;
    }
    case T_GETLINE:
        awk_next(a);
        return awk_node(a, N_NUM, NULL, NULL);    /* getline: always "no more input" */
    default:
        awk_syntax(a);
        awk_next(a);
        return awk_node(a, N_NUM, NULL, NULL);
    }
}

static struct awk_node *awk_postfix(struct awk *a)
{
    struct awk_node *n = awk_primary(a);
    if (awk_is_lvalue(n) && (a->tok == T_INC || a->tok == T_DEC)) {
        n = awk_node(a, a->tok == T_INC ? N_POSTINC : N_POSTDEC, n, NULL);
        awk_next(a);
    }
    return n;
}

static struct awk_node *awk_power(struct awk *a)
{
    struct awk_node *n = awk_postfix(a);
    if (a->tok == T_CARET) {
        awk_next(a);
        n = awk_node(a, N_POW, n, awk_unary(a));
    }
    return n;
}

static struct awk_node *awk_unary(struct awk *a)
{
    if (++a->depth > AWK_DEPTH_MAX) {
        awk_syntax(a);
        return awk_node(a, N_NUM, NULL, NULL);
    }
    struct awk_node *n;
    if (a->tok == T_NOT || a->tok == T_MINUS || a->tok == T_PLUS) {
        enum awk_tok t = a->tok;
        awk_next(a);
        n = awk_node(a, t == T_NOT ? N_NOT : t == T_MINUS ? N_NEG : N_PLUS, awk_unary(a), NULL);
    } else
        n = awk_power(a);
    a->depth--;
    return n;
}

static struct awk_node *awk_mul(struct awk *a)
{
    struct awk_node *n = awk_unary(a);
    while (!a->err && (a->tok == T_STAR || a->tok == T_SLASH || a->tok == T_PERCENT)) {
        enum awk_op op = a->tok == T_STAR ? N_MUL : a->tok == T_SLASH ? N_DIV : N_MOD;
        awk_next(a);
        n = awk_node(a, op, n, awk_unary(a));
    }
    return n;
}

static struct awk_node *awk_add(struct awk *a)
{
    struct awk_node *n = awk_mul(a);
    while (!a->err && (a->tok == T_PLUS || a->tok == T_MINUS)) {
        enum awk_op op = a->tok == T_PLUS ? N_ADD : N_SUB;
        awk_next(a);
        n = awk_node(a, op, n, awk_mul(a));
    }
    return n;
}

static bool awk_starts_expr(enum awk_tok t)
{
    return t == T_NUM || t == T_STR || t == T_NAME || t == T_FUNC_NAME || t == T_BUILTIN ||
           t == T_DOLLAR || t == T_NOT || t == T_LPAREN || t == T_INC || t == T_DEC || t == T_MINUS;
}

static struct awk_node *awk_cat(struct awk *a, bool no_in)
{
    struct awk_node *n = awk_add(a);
    while (!a->err && awk_starts_expr(a->tok) && a->tok != T_MINUS && !(no_in && a->tok == T_IN))
        n = awk_node(a, N_CAT, n, awk_add(a));
    return n;
}

static struct awk_node *awk_rel(struct awk *a, bool no_gt, bool no_in)
{
    struct awk_node *n = awk_cat(a, no_in);
    static const struct { enum awk_tok t; enum awk_op op; } rels[] = {
        { T_LT, N_LT }, { T_LE, N_LE }, { T_NE, N_NE }, { T_EQ, N_EQ }, { T_GT, N_GT }, { T_GE, N_GE },
    };
    for (size_t i = 0; i < sizeof(rels) / sizeof(rels[0]); i++)
        if (a->tok == rels[i].t && !(no_gt && a->tok == T_GT)) {
            awk_next(a);
            return awk_node(a, rels[i].op, n, awk_cat(a, no_in));
        }
    return n;
}

static struct awk_node *awk_match(struct awk *a, bool no_gt, bool no_in)
{
    struct awk_node *n = awk_rel(a, no_gt, no_in);
    while (!a->err && (a->tok == T_MATCH || a->tok == T_NOMATCH)) {
        enum awk_op op = a->tok == T_MATCH ? N_MATCH : N_NOMATCH;
        awk_next(a);
        n = awk_node(a, op, n, awk_rel(a, no_gt, no_in));
    }
    return n;
}

static struct awk_node *awk_in(struct awk *a, bool no_gt, bool no_in)
{
    struct awk_node *n = awk_match(a, no_gt, no_in);
    while (!a->err && !no_in && a->tok == T_IN) {
        awk_next(a);
        if (a->tok != T_NAME) {
            awk_syntax(a);
            break;
        }
        struct awk_node *x = awk_node(a, N_IN, n->op == N_GROUP ? n->a : n, NULL);
        x->var = awk_var(a, a->tok_s, a->tok_len);
        awk_next(a);
        n = x;
    }
    return n;
}

static struct awk_node *awk_and(struct awk *a, bool no_gt, bool no_in)
{
    struct awk_node *n = awk_in(a, no_gt, no_in);
    while (!a->err && a->tok == T_AND) {
        awk_next(a);
        awk_opt_nl(a);
        n = awk_node(a, N_AND, n, awk_in(a, no_gt, no_in));
    }
    return n;
}

static struct awk_node *awk_or(struct awk *a, bool no_gt, bool no_in)
{
    struct awk_node *n = awk_and(a, no_gt, no_in);
    while (!a->err && a->tok == T_OR) {
        awk_next(a);
        awk_opt_nl(a);
        n = awk_node(a, N_OR, n, awk_and(a, no_gt, no_in));
    }
    return n;
}

static struct awk_node *awk_expr(struct awk *a, bool no_gt, bool no_in)
{
    if (++a->depth > AWK_DEPTH_MAX) {
        awk_syntax(a);
        return awk_node(a, N_NUM, NULL, NULL);
    }
    struct awk_node *n = awk_or(a, no_gt, no_in);
    if (a->tok == T_QUEST) {
        awk_next(a);
        awk_opt_nl(a);
        struct awk_node *x = awk_node(a, N_COND, n, awk_expr(a, no_gt, no_in));
        awk_opt_nl(a);
        awk_expect(a, T_COLON);
        awk_opt_nl(a);
        x->c = awk_expr(a, no_gt, no_in);
        n = x;
    } else if (a->tok == T_ASSIGN && awk_is_lvalue(n)) {
        int sub = a->tok_bi;
        awk_next(a);
        awk_opt_nl(a);
        n = awk_node(a, N_ASSIGN, n, awk_expr(a, no_gt, no_in));
        n->sub = sub;
    }
    a->depth--;
    return n;
}

static struct awk_node *awk_stmt(struct awk *a);

/* A statement ends at ';', a newline, or before '}' / end of text. */
static void awk_end_simple(struct awk *a)
{
    if (a->tok == T_SEMI || a->tok == T_NL)
        awk_next(a);
    else if (a->tok != T_RBRACE && a->tok != T_EOF)
        awk_syntax(a);
}

static struct awk_node *awk_block(struct awk *a)
{
    struct awk_node *b = awk_node(a, S_BLOCK, NULL, NULL), **tail = &b->a;
    awk_expect(a, T_LBRACE);
    while (!a->err && a->tok != T_RBRACE && a->tok != T_EOF) {
        if (a->tok == T_NL || a->tok == T_SEMI) {
            awk_next(a);
            continue;
        }
        *tail = awk_stmt(a);
        tail = &(*tail)->next;
    }
    awk_expect(a, T_RBRACE);
    return b;
}

/* The body of if/while/for: a statement after optional newlines. */
static struct awk_node *awk_body(struct awk *a)
{
    awk_opt_nl(a);
    if (a->tok == T_SEMI) {
        awk_next(a);
        return awk_node(a, S_BLOCK, NULL, NULL);
    }
    return awk_stmt(a);
}

static struct awk_node *awk_print(struct awk *a)
{
    struct awk_node *n = awk_node(a, a->tok == T_PRINT ? S_PRINT : S_PRINTF, NULL, NULL);
    awk_next(a);
    struct awk_node **tail = &n->a;
    if (a->tok != T_SEMI && a->tok != T_NL && a->tok != T_RBRACE && a->tok != T_GT &&
        a->tok != T_APPEND && a->tok != T_PIPE && a->tok != T_EOF) {
        for (;;) {
            struct awk_node *e = awk_expr(a, true, false);
            if (e->op == N_GROUP && e->a && e->a->next)   /* print (a, b) */
                e = e->a;
            *tail = e;
            while (*tail)
                tail = &(*tail)->next;
            if (a->tok != T_COMMA || a->err)
                break;
            awk_next(a);
            awk_opt_nl(a);
        }
    }
    if (a->tok == T_GT || a->tok == T_APPEND || a->tok == T_PIPE) {
        n->sub = a->tok;
        awk_next(a);
        n->b = awk_cat(a, false);
    }
    awk_end_simple(a);
    return n;
}

static struct awk_node *awk_stmt(struct awk *a)
{
    struct awk_node *n;
    if (++a->depth > AWK_DEPTH_MAX) {
        awk_syntax(a);
        return awk_node(a, S_BLOCK, NULL, NULL);
    }
    switch (a->tok) {
    case T_LBRACE:
        n = awk_block(a);
        break;
    case T_PRINT: case T_PRINTF:
        n = awk_print(a);
        break;
    case T_IF:
        awk_next(a);
        awk_expect(a, T_LPAREN);
        n = awk_node(a, S_IF, awk_expr(a, false, false), NULL);
        awk_expect(a, T_RPAREN);
        n->b = awk_body(a);
        {
            size_t save = a->pos;
            enum awk_tok st = a->tok;
            const char *ss = a->tok_s;
            size_t sl = a->tok_len;
            int line = a->line;
            while (a->tok == T_NL || a->tok == T_SEMI)
                awk_next(a);
            if (a->tok == T_ELSE) {
                awk_next(a);
                n->c = awk_body(a);
            } else {              /* not an else: put the separators back */
                a->pos = save;
                a->tok = st;
                a->tok_s = ss;
                a->tok_len = sl;
                a->line = line;
            }
        }
        break;
    case T_WHILE:
        awk_next(a);
        awk_expect(a, T_LPAREN);
        n = awk_node(a, S_WHILE, awk_expr(a, false, false), NULL);
        awk_expect(a, T_RPAREN);
        if (a->tok == T_SEMI) {
            awk_next(a);
            n->b = awk_node(a, S_BLOCK, NULL, NULL);
        } else
            n->b = awk_body(a);
        break;
    case T_DO:
        awk_next(a);
        n = awk_node(a, S_DO, NULL, awk_body(a));
        while (a->tok == T_NL || a->tok == T_SEMI)
            awk_next(a);
        awk_expect(a, T_WHILE);
        awk_expect(a, T_LPAREN);
        n->a = awk_expr(a, false, false);
        awk_expect(a, T_RPAREN);
        awk_end_simple(a);
        break;
    case T_FOR:
        awk_next(a);
        awk_expect(a, T_LPAREN);
        if (a->tok == T_NAME) {   /* for (k in arr)? */
            size_t save = a->pos;
            const char *ks = a->tok_s;
            size_t kl = a->tok_len;
            awk_next(a);
            if (a->tok == T_IN) {
                awk_next(a);
                n = awk_node(a, S_FORIN, NULL, NULL);
                n->num = awk_var(a, ks, kl);
                n->var = awk_var(a, a->tok_s, a->tok_len);
                awk_expect(a, T_NAME);
                awk_expect(a, T_RPAREN);
                n->b = awk_body(a);
                break;
            }
            a->pos = save - kl;
            a->regex_ok = false;
            awk_next(a);
        }
        n = awk_node(a, S_FOR, NULL, NULL);
        if (a->tok != T_SEMI)
            n->a = awk_expr(a, false, false);
        awk_expect(a, T_SEMI);
        awk_opt_nl(a);
        if (a->tok != T_SEMI)
            n->b = awk_expr(a, false, false);
        awk_expect(a, T_SEMI);
        awk_opt_nl(a);
        if (a->tok != T_RPAREN)
            n->c = awk_expr(a, false, false);
        awk_expect(a, T_RPAREN);
        n->d = awk_body(a);
        break;
    case T_NEXT: case T_BREAK: case T_CONTINUE:
        n = awk_node(a, a->tok == T_NEXT ? S_NEXT : a->tok == T_BREAK ? S_BREAK : S_CONTINUE, NULL, NULL);
        awk_next(a);
        awk_end_simple(a);
        break;
    case T_EXIT:
        awk_next(a);
        n = awk_node(a, S_EXIT, NULL, NULL);
        if (a->tok != T_SEMI && a->tok != T_NL && a->tok != T_RBRACE && a->tok != T_EOF)
            n->a = awk_expr(a, false, false);
        awk_end_simple(a);
        break;
    case T_DELETE:
        awk_next(a);
        n = awk_node(a, S_DELETE, NULL, NULL);
        n->var = awk_var(a, a->tok_s, a->tok_len);
        awk_expect(a, T_NAME);
        if (awk_accept(a, T_LBRACKET)) {
            n->a = awk_expr(a, false, false);
            struct awk_node **tail = &n->a->next;
            while (awk_accept(a, T_COMMA)) {
                *tail = awk_expr(a, false, false);
                tail = &(*tail)->next;
            }
            awk_expect(a, T_RBRACKET);
        }
        awk_end_simple(a);
        break;
    case T_SEMI:
        awk_next(a);
        n = awk_node(a, S_BLOCK, NULL, NULL);
        break;
    default:
        n = awk_node(a, S_EXPR, awk_expr(a, false, false), NULL);
        awk_end_simple(a);
        break;
    }
    a->depth--;
    return n;
}

static void awk_add_rule(struct awk *a, struct awk_rule *r)
{
    if (a->rules_tail)
        a->rules_tail->next = r;
    else
        a->rules = r;
    a->rules_tail = r;
}

static int awk_parse(struct awk *a)
{
    a->line = 1;
    a->regex_ok = true;
    awk_next(a);
    while (!a->err && a->tok != T_EOF) {
        if (a->tok == T_NL || a->tok == T_SEMI) {
            awk_next(a);
            continue;
        }
        struct awk_rule *r = awk_zalloc(a, sizeof(*r));
        if (!r)
            return -1;
        if (a->tok == T_BEGIN || a->tok == T_END) {
            r->kind = a->tok == T_BEGIN ? 1 : 2;
            awk_next(a);
            awk_opt_nl(a);
            if (a->tok != T_LBRACE) {
                awk_syntax(a);
                break;
            }
            r->action = awk_block(a);
        } else if (a->tok == T_FUNCTION) {
            awk_syntax(a);
            break;
        } else {
            if (a->tok != T_LBRACE) {
                r->pat = awk_expr(a, false, false);
                if (awk_accept(a, T_COMMA)) {
                    awk_opt_nl(a);
                    r->pat2 = awk_expr(a, false, false);
                }
            }
            if (a->tok == T_LBRACE)
                r->action = awk_block(a);
            else if (a->tok != T_NL && a->tok != T_SEMI && a->tok != T_EOF)
                awk_syntax(a);
        }
        awk_add_rule(a, r);
    }
    return a->err ? -1 : 0;
}

/* ---- records and fields ---- */

static void awk_set_nf(struct awk *a, int nf)
{
    a->nf = nf;
    a->vars[V_NF].v = awk_num(nf);
}

/* Split rec into fields by FS: " " (runs of blanks), one other character
 * (literally), or a regular expression. */
static int awk_split(struct awk *a, const char *s, size_t n, const struct awk_val *fs,
                     struct awk_val **out)
{
    size_t fl;
    const char *f = awk_tostr(a, fs, &fl, false);
    struct awk_val *v = awk_alloc(a, sizeof(*v) * (n / 2 + 3 < AWK_FIELDS_MAX ? n / 2 + 3 : AWK_FIELDS_MAX));
    int k = 0, max = (int)(n / 2 + 2 < AWK_FIELDS_MAX - 1 ? n / 2 + 2 : AWK_FIELDS_MAX - 1);
    *out = v;
    if (!v)
        return 0;
    size_t i = 0;
    if (fl == 1 && f[0] == ' ') {
        while (k < max) {
            while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n'))
                i++;
            if (i >= n)
                break;
            size_t st = i;
            while (i < n && !(s[i] == ' ' || s[i] == '\t' || s[i] == '\n'))
                i++;
            v[++k] = awk_strnum(awk_strdup(a, s + st, i - st), i - st);
        }
        return k;
    }
    if (n == 0)
        return 0;
    if (fl == 1 && f[0] != '\\') {
        size_t st = 0;
        for (i = 0; i <= n && k < max; i++)
            if (i == n || s[i] == f[0]) {
                v[++k] = awk_strnum(awk_strdup(a, s + st, i - st), i - st);
                st = i + 1;
            }
        return k;
    }
    struct txt_re re;
    char err[128];
    if (txt_re_comp(&re, f, fl, REG_EXTENDED, err, sizeof(err)) != 0) {
        v[++k] = awk_strnum(awk_strdup(a, s, n), n);
        return k;
    }
    size_t st = 0, from = 0;
    while (k < max - 1) {
        regmatch_t m[1];
        if (txt_re_exec(&re, (const uint8_t *)s, n, from, 1, m, 0) != 0)
            break;
        if (m[0].rm_eo == m[0].rm_so) {
            from = (size_t)m[0].rm_so + 1;
            if (from > n)
                break;
            continue;
        }
        v[++k] = awk_strnum(awk_strdup(a, s + st, (size_t)m[0].rm_so - st), (size_t)m[0].rm_so - st);
        st = from = (size_t)m[0].rm_eo;
    }
    v[++k] = awk_strnum(awk_strdup(a, s + st, n - st), n - st);
    txt_re_free(&re);
    return k;
}

static void awk_fields(struct awk *a)
{
    if (a->fields_ok)
        return;
    a->fields_ok = true;
    int nf = awk_split(a, a->rec, a->rec_len, &a->vars[V_FS].v, &a->fields);
    awk_set_nf(a, nf);
}

static void awk_set_record(struct awk *a, const char *s, size_t n)
{
    a->rec = s;
    a->rec_len = n;
    a->fields_ok = false;
    awk_fields(a);
}

/* $0 from the fields joined by OFS (after $k = v or NF = n). */
static void awk_rebuild(struct awk *a)
{
    struct hp_buf b;
    hp_buf_init(&b, 16u << 20);
    size_t ol;
    const char *ofs = awk_tostr(a, &a->vars[V_OFS].v, &ol, false);
    for (int i = 1; i <= a->nf; i++) {
        size_t l;
        const char *s = awk_tostr(a, &a->fields[i], &l, true);
        if (i > 1)
            hp_buf_put(&b, ofs, ol);
        hp_buf_put(&b, s, l);
    }
    a->rec = awk_strdup(a, b.data ? (const char *)b.data : "", b.len);
    a->rec_len = b.len;
    hp_buf_free(&b);
}

static struct awk_val *awk_field_ref(struct awk *a, long i, bool write)
{
    awk_fields(a);
    if (i < 0 || i >= AWK_FIELDS_MAX) {
        if (!a->fatal) {
            if (a->bb)
                sh_errf(a->c, "awk: cmd. line:1: Access to negative field\n");
            else
                sh_errf(a->c, "mawk: run time error: negative field index $%ld\n", i);
        }
        a->fatal = true;
        a->exit_code = 2;
        return NULL;
    }
    if (i > a->nf && write) {
        struct awk_val *nv = awk_alloc(a, sizeof(*nv) * (size_t)(i + 1));
        if (!nv)
            return NULL;
        for (int k = 1; k <= a->nf; k++)
            nv[k] = a->fields[k];
        for (long k = a->nf + 1; k <= i; k++)
            nv[k] = awk_str("", 0);
        a->fields = nv;
        awk_set_nf(a, (int)i);
    }
    return i <= a->nf ? &a->fields[i] : NULL;
}

/* ---- output ---- */

static struct awk_val awk_eval(struct awk *a, struct awk_node *n);

/* print > "file" goes through the vfs: the first ">" write of a run
 * truncates, later ones append, as an open file would. */
static void awk_write(struct awk *a, struct awk_node *p, const char *s, size_t n)
{
    if (!p->b) {
        txt_put(&a->o, s, n);
        return;
    }
    if (p->sub == T_PIPE)         /* print | "cmd": never runs anything */
        return;
    struct awk_val fv = awk_eval(a, p->b);
    size_t fl;
    const char *f = awk_tostr(a, &fv, &fl, false);
    if (strcmp(f, "/dev/stdout") == 0 || strcmp(f, "-") == 0) {
        txt_put(&a->o, s, n);
        return;
    }
    if (strcmp(f, "/dev/stderr") == 0) {
        txt_flush(&a->o);
        sh_err(a->c, s, n);
        return;
    }
    char path[4096];
    if (!a->c->fs || sh_path(a->c, f, path, sizeof(path)) < 0)
        return;
    int flags = SH_O_CREAT | SH_O_APPEND;
    bool seen = false;
    for (int i = 0; i < a->nopened; i++)
        if (strcmp(a->opened[i], path) == 0)
            seen = true;
    if (!seen) {
        if (p->sub == T_GT)
            flags = SH_O_CREAT | SH_O_TRUNC;
        if (a->nopened < 16)
            a->opened[a->nopened++] = awk_strdup(a, path, strlen(path));
    }
    sh_vfs_write(a->c->fs, path, s, n, flags, 0644);
}

/* ---- evaluation ---- */

/* The array subscript: expressions joined by SUBSEP. */
static const char *awk_key(struct awk *a, struct awk_node *k, size_t *len)
{
    struct awk_val v = awk_eval(a, k);
    const char *s = awk_tostr(a, &v, len, false);
    if (!k->next)
        return s;
    struct hp_buf b;
    hp_buf_init(&b, 1u << 20);
    hp_buf_put(&b, s, *len);
    for (k = k->next; k; k = k->next) {
        size_t sl, l;
        const char *sep = awk_tostr(a, &a->vars[V_SUBSEP].v, &sl, false);
        v = awk_eval(a, k);
        s = awk_tostr(a, &v, &l, false);
        hp_buf_put(&b, sep, sl);
        hp_buf_put(&b, s, l);
    }
    const char *r = awk_strdup(a, b.data ? (const char *)b.data : "", b.len);
    *len = b.len;
    hp_buf_free(&b);
    return r;
}

/* Where an lvalue lives (NULL: a field out of range that was not created). */
static struct awk_val *awk_lref(struct awk *a, struct awk_node *n, long *field)
{
    *field = -1;
    if (n->op == N_VAR)
        return &a->vars[n->var].v;
    if (n->op == N_INDEX) {
        size_t kl;
        const char *k = awk_key(a, n->a, &kl);
        struct awk_map *m = awk_map_of(a, n->var);
        return m ? awk_elem(a, m, k, kl, true) : NULL;
    }
    struct awk_val iv = awk_eval(a, n->a);
    *field = awk_clamp(awk_tonum(&iv));
    if (*field == 0)
        return NULL;
    return awk_field_ref(a, *field, true);
}

static void awk_assigned(struct awk *a, struct awk_node *n, long field, struct awk_val v)
{
    if (n->op == N_FIELD && field == 0) {
        size_t l;
        const char *s = awk_tostr(a, &v, &l, false);
        awk_set_record(a, s, l);
    } else if (n->op == N_FIELD)
        awk_rebuild(a);
    else if (n->op == N_VAR && n->var == V_NF) {
        awk_fields(a);
        long nf = awk_clamp(awk_tonum(&v));
        if (nf < 0 || nf >= AWK_FIELDS_MAX)
            nf = 0;
        if (nf > a->nf)
            awk_field_ref(a, nf, true);
        awk_set_nf(a, (int)nf);
        awk_rebuild(a);
    }
}

static struct awk_val awk_store(struct awk *a, struct awk_node *n, struct awk_val v)
{
    long field;
    if (v.t & AV_STR)
        v.s = awk_strdup(a, v.s ? v.s : "", v.len);
    if (n->op == N_FIELD || (n->op == N_VAR && n->var == V_NF)) {
        struct awk_val iv = n->op == N_FIELD ? awk_eval(a, n->a) : awk_num(0);
        field = n->op == N_FIELD ? awk_clamp(awk_tonum(&iv)) : -1;
        if (field > 0) {
            struct awk_val *p = awk_field_ref(a, field, true);
            if (p)
                *p = v;
        } else if (n->op == N_VAR)
            a->vars[V_NF].v = v;
        awk_assigned(a, n, field, v);
        return v;
    }
    struct awk_val *p = awk_lref(a, n, &field);
    if (p)
        *p = v;
    return v;
}

static double awk_arith(struct awk *a, int op, double x, double y)
{
    switch (op) {
    case N_ADD: return x + y;
    case N_SUB: return x - y;
    case N_MUL: return x * y;
    case N_DIV:
    case N_MOD:
        if (y == 0) {
            if (!a->fatal)
                sh_errf(a->c, a->bb ? "awk: cmd. line:1: Division by zero\n"
                                    : "mawk: division by zero%s\n", op == N_MOD ? " in %" : "");
            a->fatal = true;
            a->exit_code = 2;
            return 0;
        }
        return op == N_DIV ? x / y : fmod(x, y);
    case N_POW: return pow(x, y);
    }
    return 0;
}

static int awk_compare(struct awk *a, struct awk_val *x, struct awk_val *y)
{
    if ((x->t == AV_NUM || x->t == AV_STRNUM) && (y->t == AV_NUM || y->t == AV_STRNUM))
        return x->n < y->n ? -1 : x->n > y->n;
    size_t xl, yl;
    const char *xs = awk_tostr(a, x, &xl, false), *ys = awk_tostr(a, y, &yl, false);
    int r = memcmp(xs, ys, xl < yl ? xl : yl);
    return r ? r : xl < yl ? -1 : xl > yl;
}

/* A regex operand: a /literal/ or a dynamic one from a string. */
static struct txt_re *awk_dyn_re(struct awk *a, struct awk_node *n)
{
    if (n->op == N_RE)
        return n->re;
    struct awk_val v = awk_eval(a, n);
    size_t l;
    const char *s = awk_tostr(a, &v, &l, false);
    /* the same text compiles once (a loop over records calls this often) */
    for (int i = a->nregs - 1; i >= 0; i--)
        if (a->re_len[i] == l && memcmp(a->re_text[i], s, l) == 0 && a->regs[i]->ok)
            return a->regs[i];
    if (a->nregs >= 256) {        /* full: recycle the oldest dynamic slot */
        txt_re_free(a->regs[255]);
        a->nregs = 255;
    }
    struct txt_re *re = awk_zalloc(a, sizeof(*re));
    char err[128];
    if (!re)
        return NULL;
    a->re_text[a->nregs] = awk_strdup(a, s, l);
    a->re_len[a->nregs] = l;
    a->regs[a->nregs++] = re;
    if (txt_re_comp(re, s, l, REG_EXTENDED, err, sizeof(err)) != 0) {
        if (!a->fatal)
            sh_errf(a->c, a->bb ? "awk: cmd. line:1: %s\n"
                                : "mawk: run time error: regular expression compile failed (%s)\n", err);
        a->fatal = true;
        a->exit_code = 2;
        return NULL;
    }
    return re;
}

static bool awk_re_match(struct awk *a, struct txt_re *re, const struct awk_val *v, regmatch_t *m)
{
    size_t l;
    const char *s = awk_tostr(a, v, &l, false);
    return re && txt_re_exec(re, (const uint8_t *)s, l, 0, 1, m, 0) == 0;
}

/* printf/sprintf: each conversion handed to snprintf with a checked spec. */
static void awk_format(struct awk *a, struct hp_buf *b, const char *f, size_t fl, struct awk_node *args)
{
    for (size_t i = 0; i < fl && hp_buf_ok(b);) {
        if (f[i] != '%') {
            hp_buf_putc(b, (uint8_t)f[i++]);
            continue;
        }
        if (i + 1 < fl && f[i + 1] == '%') {
            hp_buf_putc(b, '%');
            i += 2;
            continue;
        }
        char spec[64];
        size_t k = 0;
        spec[k++] = f[i++];
        while (i < fl && strchr("-+ #0", f[i]) && k < 20)
            spec[k++] = f[i++];
        for (int part = 0; part < 2; part++) {
            if (part == 1) {
                if (i < fl && f[i] == '.')
                    spec[k++] = f[i++];
                else
                    break;
            }
            if (i < fl && f[i] == '*') {
                struct awk_val v = args ? awk_eval(a, args) : awk_num(0);
                args = args ? args->next : NULL;
                long w = awk_clamp(awk_tonum(&v));
                w = w > 4096 ? 4096 : w < -4096 ? -4096 : w;
                k += (size_t)snprintf(spec + k, sizeof(spec) - k, "%ld", w);
                i++;
            } else {
                size_t st = i;
                while (i < fl && isdigit((unsigned char)f[i]))
                    i++;
                long w = i > st ? strtol(f + st, NULL, 10) : -1;
                if (w > 4096)
                    w = 4096;
                if (w >= 0)
                    k += (size_t)snprintf(spec + k, sizeof(spec) - k, "%ld", w);
            }
        }
        while (i < fl && (f[i] == 'l' || f[i] == 'h'))
            i++;
        if (i >= fl) {
            hp_buf_put(b, spec, k);
            break;
        }
        char conv = f[i++];
        struct awk_val v = args ? awk_eval(a, args) : awk_str("", 0);
        args = args ? args->next : NULL;
        char out[8192];
        int n = 0;
        if (strchr("diouxXc", conv)) {
            if (conv == 'c') {
                spec[k++] = 'c';
                spec[k] = '\0';
                int ch;
                if (v.t == AV_NUM)
                    ch = (int)awk_clamp(awk_tonum(&v));
                else {
                    size_t l;
                    const char *s = awk_tostr(a, &v, &l, false);
                    ch = l ? (unsigned char)s[0] : 0;
                }
                n = snprintf(out, sizeof(out), spec, ch);
            } else {
                memcpy(spec + k, "ll", 2);
                k += 2;
                spec[k++] = conv == 'i' ? 'd' : conv;
                spec[k] = '\0';
                double d = awk_tonum(&v);
                long long x = isnan(d) ? 0 : d >= 9.2e18 ? LLONG_MAX : d <= -9.2e18 ? LLONG_MIN : (long long)d;
                n = snprintf(out, sizeof(out), spec, x);
            }
        } else if (strchr("eEfFgG", conv)) {
            spec[k++] = conv;
            spec[k] = '\0';
            n = snprintf(out, sizeof(out), spec, awk_tonum(&v));
        } else if (conv == 's') {
            spec[k++] = 's';
            spec[k] = '\0';
            size_t l;
            const char *s = awk_tostr(a, &v, &l, false);
            if (k == 2) {         /* plain %s: any length */
                hp_buf_put(b, s, l);
                continue;
            }
            char *z = strndup(s, l < 65536 ? l : 65536);
            n = z ? snprintf(out, sizeof(out), spec, z) : 0;
            free(z);
        } else {
            hp_buf_put(b, spec, k);
            hp_buf_putc(b, (uint8_t)conv);
            continue;
        }
        if (n > 0)
            hp_buf_put(b, out, (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1);
    }
}

static int awk_nargs(struct awk_node *n)
{
    int k = 0;
    for (; n; n = n->next)
        k++;
    return k;
}

/* sub/gsub: replace in the target lvalue ($0 when absent); & is the match. */
static double awk_sub(struct awk *a, struct awk_node *args, bool global)
{
    struct txt_re *re = awk_dyn_re(a, args);
    struct awk_val rv = awk_eval(a, args->next);
    size_t rl;
    const char *rep = awk_tostr(a, &rv, &rl, false);
    struct awk_node *target = args->next->next;
    struct awk_node dollar0 = { .op = N_FIELD };
    struct awk_node zero = { .op = N_NUM, .num = 0 };
    dollar0.a = &zero;
    if (!target)
        target = &dollar0;
    struct awk_val tv = awk_eval(a, target);
    size_t tl;
    const char *t = awk_tostr(a, &tv, &tl, false);
    struct hp_buf b;
    hp_buf_init(&b, 16u << 20);
    size_t start = 0, copied = 0;
    double count = 0;
    while (re && start <= tl) {
        regmatch_t m[1];
        if (txt_re_exec(re, (const uint8_t *)t, tl, start, 1, m, 0) != 0)
            break;
        size_t so = (size_t)m[0].rm_so, eo = (size_t)m[0].rm_eo;
        hp_buf_put(&b, t + copied, so - copied);
        for (size_t i = 0; i < rl; i++) {
            if (rep[i] == '\\' && i + 1 < rl && (rep[i + 1] == '&' || rep[i + 1] == '\\'))
                hp_buf_putc(&b, (uint8_t)rep[++i]);
            else if (rep[i] == '&')
                hp_buf_put(&b, t + so, eo - so);
            else
                hp_buf_putc(&b, (uint8_t)rep[i]);
        }
        count++;
        copied = eo;
        if (eo == so) {
            if (so < tl)
                hp_buf_putc(&b, (uint8_t)t[so]);
            copied = so + 1;
            start = so + 1;
        } else
            start = eo;
        if (!global)
            break;
    }
    if (count > 0) {
        if (copied < tl)
            hp_buf_put(&b, t + copied, tl - copied);
        if (awk_is_lvalue(target))
            awk_store(a, target, awk_str(b.data ? (const char *)b.data : "", b.len));
    }
    hp_buf_free(&b);
    return count;
}

static struct awk_val awk_call(struct awk *a, struct awk_node *n)
{
    struct awk_node *x = n->a;
    int na = awk_nargs(x);
    struct awk_val v = x ? (x->op == N_RE ? awk_num(0) : awk_eval(a, x)) : awk_num(0);
    size_t l = 0;
    const char *s;
    switch (n->sub) {
    case B_LENGTH:
        if (!x) {
            awk_fields(a);
            return awk_num((double)a->rec_len);
        }
        if (x->op == N_VAR && a->vars[x->var].map)
            return awk_num((double)a->vars[x->var].map->n);
        awk_tostr(a, &v, &l, false);
        return awk_num((double)l);
    case B_SUBSTR: {
        s = awk_tostr(a, &v, &l, false);
        struct awk_val pv = x && x->next ? awk_eval(a, x->next) : awk_num(1);
        double st = round(awk_tonum(&pv)), len = 1e18;
        if (na > 2) {
            struct awk_val lv = awk_eval(a, x->next->next);
            len = round(awk_tonum(&lv));
        }
        double from = st < 1 ? 1 : st, to = st + len;     /* [from, to) in 1-based */
        if (to > (double)l + 1)
            to = (double)l + 1;
        if (isnan(from) || isnan(to) || to <= from)
            return awk_str("", 0);
        return awk_str(s + (size_t)from - 1, (size_t)(to - from));
    }
    case B_INDEX: {
        s = awk_tostr(a, &v, &l, false);
        struct awk_val tv = x && x->next ? awk_eval(a, x->next) : awk_str("", 0);
        size_t tl;
        const char *t = awk_tostr(a, &tv, &tl, false);
        const char *p = tl == 0 ? s : memmem(s, l, t, tl);
        return awk_num(p ? (double)(p - s + 1) : 0);
    }
    case B_SPLIT: {
        if (na < 2 || x->next->op != N_VAR)
            return awk_num(0);
        s = awk_tostr(a, &v, &l, false);
        struct awk_val fs = a->vars[V_FS].v;
        if (na > 2) {
            struct awk_node *fn = x->next->next;
            fs = fn->op == N_RE ? awk_str("", 0) : awk_eval(a, fn);
            if (fn->op == N_RE) {   /* split(s, arr, /re/): the regex's own text is gone; use it */
                fs = awk_str(" ", 1);
                struct awk_map *m = awk_map_of(a, x->next->var);
                if (m)
                    memset(m, 0, sizeof(*m));
                int k = 0;
                size_t st = 0, from = 0;
                while (m && fn->re && k < AWK_FIELDS_MAX) {
                    regmatch_t mm[1];
                    if (txt_re_exec(fn->re, (const uint8_t *)s, l, from, 1, mm, 0) != 0 ||
                        mm[0].rm_eo == mm[0].rm_so)
                        break;
                    char key[24];
                    int kl = snprintf(key, sizeof(key), "%d", ++k);
                    struct awk_val *e = awk_elem(a, m, key, (size_t)kl, true);
                    if (e)
                        *e = awk_strnum(s + st, (size_t)mm[0].rm_so - st);
                    st = from = (size_t)mm[0].rm_eo;
                }
                if (m && l) {
                    char key[24];
                    int kl = snprintf(key, sizeof(key), "%d", ++k);
                    struct awk_val *e = awk_elem(a, m, key, (size_t)kl, true);
                    if (e)
                        *e = awk_strnum(s + st, l - st);
                }
                return awk_num(l ? k : 0);
            }
        }
        struct awk_val *f;
        int k = awk_split(a, s, l, &fs, &f);
        struct awk_map *m = awk_map_of(a, x->next->var);
        if (!m)
            return awk_num(0);
        memset(m, 0, sizeof(*m));
        for (int i = 1; i <= k; i++) {
            char key[24];
            int kl = snprintf(key, sizeof(key), "%d", i);
            struct awk_val *e = awk_elem(a, m, key, (size_t)kl, true);
            if (e)
                *e = f[i];
        }
        return awk_num(k);
    }
    case B_SUB: case B_GSUB:
        if (na < 2)
            return awk_num(0);
        return awk_num(awk_sub(a, x, n->sub == B_GSUB));
    case B_MATCH: {
        if (na < 2)
            return awk_num(0);
        regmatch_t m[1];
        struct txt_re *re = awk_dyn_re(a, x->next);
        bool hit = awk_re_match(a, re, &v, m);
        double st = hit ? (double)m[0].rm_so + 1 : 0, ln = hit ? (double)(m[0].rm_eo - m[0].rm_so) : -1;
        a->vars[V_RSTART].v = awk_num(st);
        a->vars[V_RLENGTH].v = awk_num(ln);
        return awk_num(st);
    }
    case B_SPRINTF: {
        struct hp_buf b;
        hp_buf_init(&b, 1u << 20);
        s = awk_tostr(a, &v, &l, false);
        awk_format(a, &b, s, l, x ? x->next : NULL);
        struct awk_val r = awk_str(awk_strdup(a, b.data ? (const char *)b.data : "", b.len), b.len);
        hp_buf_free(&b);
        return r;
    }
    case B_TOLOWER: case B_TOUPPER: {
        s = awk_tostr(a, &v, &l, false);
        char *p = awk_alloc(a, l + 1);
        if (!p)
            return awk_str("", 0);
        for (size_t i = 0; i < l; i++)
            p[i] = (char)(n->sub == B_TOLOWER ? tolower((unsigned char)s[i]) : toupper((unsigned char)s[i]));
        p[l] = '\0';
        return awk_str(p, l);
    }
    case B_INT: return awk_num(trunc(awk_tonum(&v)));
    case B_SQRT: return awk_num(sqrt(awk_tonum(&v)));
    case B_EXP: return awk_num(exp(awk_tonum(&v)));
    case B_LOG: return awk_num(log(awk_tonum(&v)));
    case B_SIN: return awk_num(sin(awk_tonum(&v)));
    case B_COS: return awk_num(cos(awk_tonum(&v)));
    case B_ATAN2: {
        struct awk_val y = x && x->next ? awk_eval(a, x->next) : awk_num(0);
        return awk_num(atan2(awk_tonum(&v), awk_tonum(&y)));
    }
    case B_RAND:
        a->rand_seed = a->rand_seed * 1103515245u + 12345u;
        return awk_num((double)((a->rand_seed >> 1) & 0x7fffffff) / 2147483648.0);
    case B_SRAND: {
        double prev = a->prev_seed;
        a->prev_seed = x ? awk_tonum(&v) : (double)a->c->now_s;
        a->rand_seed = (unsigned)awk_clamp(a->prev_seed);
        return awk_num(prev);
    }
    case B_SYSTEM:                /* the emulated shell runs it (and logs it); nothing real */
        txt_flush(&a->o);
        s = awk_tostr(a, &v, &l, false);
        return awk_num(sh_run_script(a->c, (const uint8_t *)s, l, "sh", 0, NULL));
    default:
        return awk_num(0);
    }
}

static struct awk_val awk_eval(struct awk *a, struct awk_node *n)
{
    if (a->fatal || ++a->steps > AWK_STEPS_MAX) {
        a->fatal = true;
        return awk_num(0);
    }
    if ((a->steps & 1023) == 0 && !sh_pause_point()) {
        a->fatal = true;          /* the line's time is up */
        return awk_num(0);
    }
    struct awk_val x, y;
    long field;
    switch (n->op) {
    case N_NUM: return awk_num(n->num);
    case N_STR: return awk_str(n->str, n->len);
    case N_RE: {
        awk_fields(a);
        struct awk_val r = awk_str(a->rec, a->rec_len);
        regmatch_t m[1];
        return awk_num(awk_re_match(a, n->re, &r, m));
    }
    case N_GROUP: return awk_eval(a, n->a);
    case N_VAR:
        if (n->var == V_NF)
            awk_fields(a);
        return a->vars[n->var].v;
    case N_FIELD: {
        x = awk_eval(a, n->a);
        field = awk_clamp(awk_tonum(&x));
        if (field == 0) {
            awk_fields(a);
            return awk_strnum(a->rec, a->rec_len);
        }
        struct awk_val *p = awk_field_ref(a, field, false);
        return p ? *p : awk_str("", 0);
    }
    case N_INDEX: {
        size_t kl;
        const char *k = awk_key(a, n->a, &kl);
        struct awk_map *m = awk_map_of(a, n->var);
        struct awk_val *p = m ? awk_elem(a, m, k, kl, true) : NULL;
        return p ? *p : awk_str("", 0);
    }
    case N_IN: {
        size_t kl;
        const char *k = awk_key(a, n->a, &kl);
        struct awk_map *m = awk_map_of(a, n->var);
        return awk_num(m && awk_elem(a, m, k, kl, false) != NULL);
    }
    case N_ASSIGN:
        y = awk_eval(a, n->b);
        if (n->sub) {
            x = awk_eval(a, n->a);
            y = awk_num(awk_arith(a, n->sub, awk_tonum(&x), awk_tonum(&y)));
        }
        return awk_store(a, n->a, y);
    case N_COND:
        x = awk_eval(a, n->a);
        return awk_eval(a, awk_true(&x) ? n->b : n->c);
    case N_OR:
        x = awk_eval(a, n->a);
        if (awk_true(&x))
            return awk_num(1);
        y = awk_eval(a, n->b);
        return awk_num(awk_true(&y));
    case N_AND:
        x = awk_eval(a, n->a);
        if (!awk_true(&x))
            return awk_num(0);
        y = awk_eval(a, n->b);
        return awk_num(awk_true(&y));
    case N_MATCH: case N_NOMATCH: {
        x = awk_eval(a, n->a);
        regmatch_t m[1];
        bool hit = awk_re_match(a, awk_dyn_re(a, n->b), &x, m);
        return awk_num(hit == (n->op == N_MATCH));
    }
    case N_LT: case N_LE: case N_NE: case N_EQ: case N_GT: case N_GE: {
        x = awk_eval(a, n->a);
        y = awk_eval(a, n->b);
        int c = awk_compare(a, &x, &y);
        bool r = n->op == N_LT ? c < 0 : n->op == N_LE ? c <= 0 : n->op == N_NE ? c != 0
               : n->op == N_EQ ? c == 0 : n->op == N_GT ? c > 0 : c >= 0;
        return awk_num(r);
    }
    case N_CAT: {
        x = awk_eval(a, n->a);
        y = awk_eval(a, n->b);
        size_t xl, yl;
        const char *xs = awk_tostr(a, &x, &xl, false), *ys = awk_tostr(a, &y, &yl, false);
        if (xl + yl > (16u << 20)) {
            a->fatal = true;
            return awk_str("", 0);
        }
        char *p = awk_alloc(a, xl + yl + 1);
        if (!p)
            return awk_str("", 0);
        memcpy(p, xs, xl);
        memcpy(p + xl, ys, yl);
        p[xl + yl] = '\0';
        return awk_str(p, xl + yl);
    }
    case N_ADD: case N_SUB: case N_MUL: case N_DIV: case N_MOD: case N_POW:
        x = awk_eval(a, n->a);
        y = awk_eval(a, n->b);
        return awk_num(awk_arith(a, n->op, awk_tonum(&x), awk_tonum(&y)));
    case N_NEG: x = awk_eval(a, n->a); return awk_num(-awk_tonum(&x));
    case N_PLUS: x = awk_eval(a, n->a); return awk_num(awk_tonum(&x));
    case N_NOT: x = awk_eval(a, n->a); return awk_num(!awk_true(&x));
    case N_PREINC: case N_PREDEC: case N_POSTINC: case N_POSTDEC: {
        x = awk_eval(a, n->a);
        double d = awk_tonum(&x);
        double nd = d + (n->op == N_PREINC || n->op == N_POSTINC ? 1 : -1);
        awk_store(a, n->a, awk_num(nd));
        return awk_num(n->op == N_PREINC || n->op == N_PREDEC ? nd : d);
    }
    case N_CALL: return awk_call(a, n);
    default: return awk_num(0);
    }
}

/* ---- statements ---- */

static void awk_exec(struct awk *a, struct awk_node *n)
{
    for (; n && !a->fatal && !a->next && !a->exiting && !a->brk && !a->cont; n = n->next) {
        if (++a->steps > AWK_STEPS_MAX) {
            a->fatal = true;
            return;
        }
        if ((a->steps & 1023) == 0 && !sh_pause_point()) {
            a->fatal = true;
            return;
        }
        struct awk_val v;
        switch (n->op) {
        case S_BLOCK: awk_exec(a, n->a); break;
        case S_EXPR: awk_eval(a, n->a); break;
        case S_PRINT: {
            struct hp_buf b;
            hp_buf_init(&b, 16u << 20);
            if (!n->a) {
                awk_fields(a);
                hp_buf_put(&b, a->rec, a->rec_len);
            }
            for (struct awk_node *e = n->a; e; e = e->next) {
                size_t l;
                v = awk_eval(a, e);
                const char *s = awk_tostr(a, &v, &l, true);
                if (e != n->a) {
                    size_t ol;
                    const char *ofs = awk_tostr(a, &a->vars[V_OFS].v, &ol, false);
                    hp_buf_put(&b, ofs, ol);
                }
                hp_buf_put(&b, s, l);
            }
            size_t rl;
            const char *ors = awk_tostr(a, &a->vars[V_ORS].v, &rl, false);
            hp_buf_put(&b, ors, rl);
            if (!a->fatal)
                awk_write(a, n, b.data ? (const char *)b.data : "", b.len);
            hp_buf_free(&b);
            break;
        }
        case S_PRINTF: {
            if (!n->a)
                break;
            struct hp_buf b;
            hp_buf_init(&b, 16u << 20);
            v = awk_eval(a, n->a);
            size_t l;
            const char *f = awk_tostr(a, &v, &l, false);
            awk_format(a, &b, f, l, n->a->next);
            if (!a->fatal)
                awk_write(a, n, b.data ? (const char *)b.data : "", b.len);
            hp_buf_free(&b);
            break;
        }
        case S_IF:
            v = awk_eval(a, n->a);
            awk_exec(a, awk_true(&v) ? n->b : n->c);
            break;
        case S_WHILE: case S_DO: case S_FOR:
            if (n->op == S_FOR && n->a)
                awk_eval(a, n->a);
            for (bool first = true; !a->fatal; first = false) {
                struct awk_node *cond = n->op == S_FOR ? n->b : n->a;
                if (!(n->op == S_DO && first) && cond) {
                    v = awk_eval(a, cond);
                    if (!awk_true(&v))
                        break;
                }
                awk_exec(a, n->op == S_FOR ? n->d : n->b);
                a->cont = false;
                if (a->brk || a->next || a->exiting) {
                    a->brk = false;
                    break;
                }
                if (n->op == S_FOR && n->c)
                    awk_eval(a, n->c);
            }
            break;
        case S_FORIN: {
            struct awk_map *m = awk_map_of(a, n->var);
            if (!m || !m->n)
                break;
            /* the keys first: the body may change the array */
            size_t nk = m->n, k = 0;
            struct awk_ent **keys = awk_alloc(a, nk * sizeof(*keys));
            for (size_t i = 0; keys && i < m->nb; i++)
                for (struct awk_ent *e = m->b[i]; e && k < nk; e = e->next)
                    keys[k++] = e;
            for (size_t i = 0; keys && i < k && !a->fatal; i++) {
                a->vars[(int)n->num].v = awk_strnum(keys[i]->key, keys[i]->klen);
                awk_exec(a, n->b);
                a->cont = false;
                if (a->brk || a->next || a->exiting) {
                    a->brk = false;
                    break;
                }
            }
            break;
        }
        case S_NEXT: a->next = true; break;
        case S_EXIT:
            if (n->a) {
                v = awk_eval(a, n->a);
                a->exit_code = (int)(awk_clamp(awk_tonum(&v)) & 255);
            }
            a->exiting = true;
            break;
        case S_BREAK: a->brk = true; break;
        case S_CONTINUE: a->cont = true; break;
        case S_DELETE: {
            struct awk_map *m = awk_map_of(a, n->var);
            if (!m)
                break;
            if (!n->a) {
                memset(m, 0, sizeof(*m));
                break;
            }
            size_t kl;
            const char *k = awk_key(a, n->a, &kl);
            awk_delete(m, k, kl);
            break;
        }
        default: break;
        }
    }
}

/* ---- running ---- */

static void awk_set_str_var(struct awk *a, int var, const char *s)
{
    a->vars[var].v = awk_str(s, strlen(s));
}

/* "name=value" operands and -v: value with awk escapes, numeric if it looks so. */
static bool awk_assign_arg(struct awk *a, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !(isalpha((unsigned char)arg[0]) || arg[0] == '_'))
        return false;
    for (const char *p = arg; p < eq; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return false;
    const char *save_src = a->src;
    size_t save_len = a->len, save_pos = a->pos;
    /* unescape through the string lexer: wrap the value as a literal */
    struct hp_buf b;
    hp_buf_init(&b, 1u << 20);
    for (const char *p = eq + 1; *p; p++) {
        if (*p == '"' || *p == '\n')
            hp_buf_putc(&b, '\\');
        hp_buf_putc(&b, (uint8_t)*p);
    }
    hp_buf_putc(&b, '"');
    a->src = b.data ? (const char *)b.data : "\"";
    a->len = b.len;
    a->pos = 0;
    awk_lex_quoted(a, '"', false);
    int var = awk_var(a, arg, (size_t)(eq - arg));
    a->vars[var].v = a->tok == T_STR ? awk_strnum(a->tok_s, a->tok_len) : awk_str("", 0);
    hp_buf_free(&b);
    a->src = save_src;
    a->len = save_len;
    a->pos = save_pos;
    return true;
}

static void awk_rules(struct awk *a, int kind)
{
    for (struct awk_rule *r = a->rules; r && !a->fatal && !a->exiting; r = r->next) {
        if (r->kind != kind)
            continue;
        if (kind == 0) {
            bool sel;
            if (!r->pat)
                sel = true;
            else if (r->pat2) {
                struct awk_val v;
                if (!r->in_range) {
                    v = awk_eval(a, r->pat);
                    r->in_range = awk_true(&v);
                }
                sel = r->in_range;
                if (r->in_range) {
                    v = awk_eval(a, r->pat2);
                    if (awk_true(&v))
                        r->in_range = false;
                }
            } else {
                struct awk_val v = awk_eval(a, r->pat);
                sel = awk_true(&v);
            }
            if (!sel)
                continue;
            if (!r->action) {
                awk_fields(a);
                txt_put(&a->o, a->rec, a->rec_len);
                size_t rl;
                const char *ors = awk_tostr(a, &a->vars[V_ORS].v, &rl, false);
                txt_put(&a->o, ors, rl);
                continue;
            }
        }
        awk_exec(a, r->action);
        if (a->next) {
            a->next = false;
            break;
        }
    }
}

static void awk_input(struct awk *a, const uint8_t *d, size_t len)
{
    size_t rl;
    const char *rs = awk_tostr(a, &a->vars[V_RS].v, &rl, false);
    char sep = rl ? rs[0] : '\n';
    size_t pos = 0;
    a->vars[V_FNR].v = awk_num(0);
    while (pos < len && !a->fatal && !a->exiting) {
        const uint8_t *e = memchr(d + pos, sep, len - pos);
        size_t n = e ? (size_t)(e - (d + pos)) : len - pos;
        a->vars[V_NR].v = awk_num(awk_tonum(&a->vars[V_NR].v) + 1);
        a->vars[V_FNR].v = awk_num(awk_tonum(&a->vars[V_FNR].v) + 1);
        a->rec = (const char *)d + pos;
        a->rec_len = n;
        a->fields_ok = false;
        pos += n + (e != NULL);
        awk_rules(a, 0);
        /* what one record allocated is garbage now, except the program's
         * own values: the arena keeps growing, capped */
    }
    /* END still sees the last record: keep it past the input's buffer */
    if (a->rec >= (const char *)d && a->rec <= (const char *)d + len)
        a->rec = awk_strdup(a, a->rec, a->rec_len);
}

static int awk_usage(struct awk *a)
{
    if (a->bb)
        return sys_usage_bb(a->c, "awk", NULL, "[OPTIONS] [AWK_PROGRAM] [FILE]...");
    sh_errs(a->c, "usage: mawk [-F value] [-v var=value] [--] 'program text' [file ...]\n"
                  "usage: mawk [-F value] [-v var=value] [-f program-file] [--] [file ...]\n");
    return 2;
}

static void awk_init_vars(struct awk *a)
{
    for (int i = 0; i < V_NSPECIAL; i++)
        awk_var(a, awk_special[i], strlen(awk_special[i]));
    awk_set_str_var(a, V_FS, " ");
    awk_set_str_var(a, V_OFS, " ");
    awk_set_str_var(a, V_ORS, "\n");
    awk_set_str_var(a, V_RS, "\n");
    awk_set_str_var(a, V_SUBSEP, "\034");
    awk_set_str_var(a, V_CONVFMT, "%.6g");
    awk_set_str_var(a, V_OFMT, "%.6g");
    awk_set_str_var(a, V_FILENAME, "");
    a->vars[V_NR].v = awk_num(0);
    a->vars[V_NF].v = awk_num(0);
    a->vars[V_FNR].v = awk_num(0);
    a->vars[V_RSTART].v = awk_num(0);
    a->vars[V_RLENGTH].v = awk_num(-1);
    a->rec = "";
    a->fields_ok = true;
    a->fields = NULL;
}

static int awk_run(struct awk *a, char **ops, int nops)
{
    int rc = 0;
    awk_rules(a, 1);
    bool has_main = false;
    for (struct awk_rule *r = a->rules; r; r = r->next)
        has_main |= r->kind != 1;
    bool stdin_used = false;
    if (has_main && !a->exiting && !a->fatal) {
        int files = 0;
        for (int k = 0; k < nops && !a->exiting && !a->fatal; k++) {
            if (awk_assign_arg(a, ops[k]))
                continue;
            files++;
            struct hp_buf b = { 0 };
            const uint8_t *d;
            size_t n;
            int r = txt_load(a->c, ops[k], &stdin_used, &b, &d, &n);
            if (r < 0) {
                txt_flush(&a->o);
                if (a->bb)
                    sh_errf(a->c, "awk: %s: %s\n", ops[k], sh_strerror(r));
                else
                    sh_errf(a->c, "mawk: cannot open %s (%s)\n", ops[k], sh_strerror(r));
                hp_buf_free(&b);
                rc = 2;
                if (!a->bb)
                    return rc;
                continue;
            }
            awk_set_str_var(a, V_FILENAME, awk_strdup(a, ops[k], strlen(ops[k])));
            awk_input(a, d, n);
            hp_buf_free(&b);
        }
        if (files == 0) {
            struct hp_buf b = { 0 };
            const uint8_t *d;
            size_t n;
            txt_load(a->c, "-", &stdin_used, &b, &d, &n);
            awk_input(a, d, n);
            hp_buf_free(&b);
        }
    }
    if (!a->fatal) {
        a->exiting = false;
        awk_rules(a, 2);
    }
    if (a->oom && !a->bb)
        sh_errs(a->c, "mawk: out of memory\n");
    return a->exit_code ? a->exit_code : rc;
}

static int cmd_awk(struct sh_cmd *c)
{
    struct awk *a = calloc(1, sizeof(*a));
    if (!a)
        return 2;
    a->c = c;
    a->bb = c->persona && c->persona->busybox;
    txt_out_init(&a->o, c);
    txt_re_budget(c);
    awk_init_vars(a);
    int rc = 0, i = 1;
    const char *prog = NULL, *progfile = NULL;
    struct hp_buf pf = { 0 };
    for (; i < c->argc; i++) {
        const char *s = c->argv[i];
        if (strcmp(s, "--") == 0) {
            i++;
            break;
        }
        if (s[0] != '-' || s[1] == '\0')
            break;
        char opt = s[1];
        const char *arg = s[2] ? s + 2 : NULL;
        if (opt == 'F' || opt == 'v' || opt == 'f' || opt == 'W') {
            if (!arg && i + 1 < c->argc)
                arg = c->argv[++i];
            if (!arg) {
                if (a->bb)
                    rc = sys_usage_bb(c, "awk", NULL, "[OPTIONS] [AWK_PROGRAM] [FILE]...");
                else {
                    sh_errf(c, "mawk: option requires an argument -- %c\n", opt);
                    rc = awk_usage(a);
                }
                goto out;
            }
        }
        if (opt == 'F') {
            const char *fs = strcmp(arg, "t") == 0 ? "\t" : arg;
            struct hp_buf b;
            hp_buf_init(&b, 8192);
            hp_buf_puts(&b, "FS=");
            hp_buf_puts(&b, fs);
            awk_assign_arg(a, hp_buf_cstr(&b));
            a->vars[V_FS].v.t = AV_STR;
            hp_buf_free(&b);
        } else if (opt == 'v') {
            if (!awk_assign_arg(a, arg)) {
                sh_errf(c, a->bb ? "awk: unexpected token\n"
                                 : "mawk: improper assignment: -v %s\n", arg);
                rc = 2;
                goto out;
            }
        } else if (opt == 'f')
            progfile = arg;
        else if (opt == 'W' || strcmp(s, "--version") == 0) {
            if (arg && strncmp(arg, "v", 1) != 0)
                continue;
            sh_outs(c, "mawk 1.3.4 20200120\nCopyright 2008-2019,2020, Thomas E. Dickey\n"
                       "Copyright 1991-1996,2014, Michael D. Brennan\n\n"
                       "random-funcs:       srandom/random\nregex-funcs:        internal\n"
                       "compiled limits:\nsprintf buffer      8192\nmaximum-integer     2147483647\n");
            goto out;
        } else {
            if (a->bb)
                rc = sys_usage_bb(c, "awk", NULL, "[OPTIONS] [AWK_PROGRAM] [FILE]...");
            else {
                sh_errf(c, "mawk: not an option: %s\n", s);
                rc = 2;
            }
            goto out;
        }
    }
    if (progfile) {
        const uint8_t *d;
        size_t n;
        bool used = false;
        int r = txt_load(c, progfile, &used, &pf, &d, &n);
        if (r < 0) {
            sh_errf(c, a->bb ? "awk: can't open '%s': %s\n" : "mawk: couldn't open file %s (%s)\n",
                    progfile, sh_strerror(r));
            rc = 2;
            goto out;
        }
        prog = (const char *)d;
        a->len = n;
    } else if (i < c->argc) {
        prog = c->argv[i++];
        a->len = strlen(prog);
    } else {
        rc = awk_usage(a);
        goto out;
    }
    a->src = prog;
    if (awk_parse(a) < 0) {
        rc = 2;
        goto out;
    }
    rc = awk_run(a, c->argv + i, c->argc - i);
out:
    for (int k = 0; k < a->nregs; k++)
        txt_re_free(a->regs[k]);
    txt_out_done(&a->o);
    hp_buf_free(&pf);
    awk_arena_free(a);
    free(a);
    return rc;
}

const struct sh_cmd_def sh_cmds_awk[] = {
    { "awk", cmd_awk, false },
    { "mawk", cmd_awk, false },
    { "nawk", cmd_awk, false },
    { NULL, NULL, false },
};
