/*
 * expand.c - word expansion for the interpreter (interp.c).
 *
 * Words are kept as their source text (parse.h) and expanded when their
 * command runs, in POSIX order: tilde, parameters, command substitution
 * (the text goes through the interpreter again, in a subshell scope, with
 * stdout captured), arithmetic, field splitting on $IFS (only bytes that
 * came out of an unquoted expansion split), pathname expansion against the
 * session's fake file system of vfs.h, quote removal.  Each byte of a word
 * being built carries a flag (quoted / from an expansion) so splitting and
 * globbing know which bytes they may touch.
 *
 * Three results are asked for: fields (a command's arguments: split and
 * globbed), one string (assignments, redirection targets, here-strings),
 * and a pattern (case, ${v#pat}: quoted glob characters come out escaped).
 * Here-document bodies expand like "..." except that '"' stays literal.
 * $'...' escapes and $(( )) arithmetic (long long, C's operators, bash's
 * messages) are here too.
 *
 * Bounds: 4096 words / 1 MiB per argument list; 4096 glob results, a
 * glob's walk at most 32 directories deep with each of its steps (and each
 * name of a directory it lists) counted in the line's budget; command
 * substitution counts toward the nesting of 64 (interp.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interp_int.h"
#include "persona.h"
#include "util.h"

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

void ex_strv_add(struct strv *sv, const char *s, size_t len)
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

void ex_strv_free(struct strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    free(sv->l);
    memset(sv, 0, sizeof(*sv));
}

/* ---- escapes ($'...', echo -e, printf) ---------------------------------------------- */

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
        int d = base == 8 ? (s[i] >= '0' && s[i] <= '7' ? s[i] - '0' : -1) : hp_hexval((unsigned char)s[i]);
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

/* Expand s as one string (no splitting, no globbing) into a malloc'd string. */
char *ex_string(struct hp_interp *it, struct iox *io, const char *s, size_t n, bool pattern,
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

const char *ex_ifs(struct hp_interp *it)
{
    const char *ifs = it_var_get(it, "IFS");
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
    it_scope_push(it, true);
    char *save_cwd = hp_xstrdup(it->cwd);
    unsigned line = it->lineno;
    it_run_text(it, text, n, true, it->lineno, &sub);
    if (it->exiting) {
        it->exiting = false;
        it->status = it->exit_status;
    }
    it->brk = it->cont = 0;
    it->returning = false;
    it->lineno = line;
    free(it->cwd);
    it->cwd = save_cwd;
    it_scope_pop(it);
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
    struct var *v = it_var_find(it, nm);
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
    const char *ifs = ex_ifs(it);
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
        while (i < n && it_name_valid(in + ns, i - ns + 1))
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
            it_shell_err(it, x->io, "%s", msg);
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
            it_shell_err(it, x->io, "${%.*s}: bad substitution", (int)(n > 40 ? 40 : n), in);
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
        char *e = ex_string(it, x->io, word, wl, false, &el, &x->err);
        if (!e)
            return;
        if (o == '=') {
            char nm[128];
            if (nl < sizeof(nm) && it_name_valid(name, nl)) {
                memcpy(nm, name, nl);
                nm[nl] = '\0';
                it_var_set(it, nm, e, el);
            }
        }
        if (o == '?') {
            it_shell_err(it, x->io, "%.*s: %s", (int)nl, name, el ? e : "parameter null or not set");
            x->err = true;
            it->abort = !it_is_bashlike(it) || it->style != ST_BASH_I ? it->abort : it->abort;
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
        char *pat = ex_string(it, x->io, word, wl, true, &pl, &x->err);
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
        char *pat = ex_string(it, x->io, word, k, true, &pl, &x->err);
        char *rep = k < wl ? ex_string(it, x->io, word + k + 1, wl - k - 1, false, &rl, &x->err) : NULL;
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
        if (!ex_arith(it, x->io, word, ol, &off)) {
            x->err = true;
            return;
        }
        if (colon2 && !ex_arith(it, x->io, colon2 + 1, wl - ol - 1, &cnt)) {
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
    it_shell_err(it, x->io, "${%.*s}: bad substitution", (int)(n > 40 ? 40 : n), in);
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
            char *ex = ex_string(it, x->io, s + 3, e - 5, false, &el, &x->err);
            if (ex && ex_arith(it, x->io, ex, el, &v)) {
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
    if (it_name_valid(s + 1, 1)) {
        while (e < n && it_name_valid(s + 1, e))
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
        const char *h = it_var_get(x->it, "HOME");
        h = h ? h : x->it->home;
        wb_put(x->w, h, strlen(h), M_QUOTED);
        *used = 1;
        return;
    }
    char name[64];
    if (e - 1 >= sizeof(name) || !it_name_valid(s + 1, 1))
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

/* Here-document body: $ ` \ expansions unless the delimiter was quoted. */
void ex_heredoc(struct hp_interp *it, struct iox *io, const struct sh_redir *r, struct hp_buf *out)
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

/* Drop the names collected: the line stopped, nothing more is walked. */
static void glob_list_drop(struct listst *l)
{
    for (size_t k = 0; k < l->n; k++)
        free(l->names[k]);
    l->n = 0;
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
    if (depth > 32 || g->found >= IT_GLOB_MAX || !it_step(g->it, 1))
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
                ex_strv_add(g->out, path, strlen(path));
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
    long listed = sh_vfs_list(g->it->fs, abs, glob_list_cb, &l);
    /* A listing costs as much as the directory is big (4,000 names and a
     * few links back to it: 1,024 listings between two looks at the clock
     * held the event loop 0.7 s): each name is a step. */
    if (listed > 0 && !it_step(g->it, (unsigned long)listed))
        glob_list_drop(&l);
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
                        ex_strv_add(g->out, np, o);
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
    ex_strv_add(out, s, n);
}

/* Split a raw field on $IFS (only bytes from unquoted expansions) and glob the pieces. */
static void split_field(struct hp_interp *it, const struct field *f, struct strv *out)
{
    const char *ifs = ex_ifs(it);
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
bool ex_fields(struct hp_interp *it, struct iox *io, const char *s, size_t n, struct strv *out)
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
        it_shell_err(it, io, "xmalloc: cannot allocate memory");
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
        it_shell_err(a->it, a->io, "%.*s: syntax error: operand expected (error token is \"%.*s\")",
                     (int)(a->n > 200 ? 200 : a->n), a->s, (int)(a->n - a->i > 200 ? 200 : a->n - a->i),
                     a->s + a->i);
    }
    a->err = true;
}

static long long a_varval(struct arith *a, const char *name)
{
    const char *v = it_var_get(a->it, name);
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
    it_var_sets(a->it, name, buf);
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
        if (a->i < a->n && (it_name_valid(a->s + a->i, 1) || (a->s[a->i] >= '0' && a->s[a->i] <= '9')))
            a_error(a);
    } else if (it_name_valid(a->s + a->i, 1)) {
        size_t st = a->i;
        while (a->i < a->n && it_name_valid(a->s + st, a->i - st + 1))
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
                it_shell_err(a->it, a->io, "%.*s: division by 0 (error token is \"%lld\")",
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

bool ex_arith(struct hp_interp *it, struct iox *io, const char *s, size_t n, long long *out)
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
