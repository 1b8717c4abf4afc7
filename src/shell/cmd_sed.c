/*
 * cmd_sed.c - sed: GNU sed 4.9 on the Debian personality, busybox sed on
 * busybox ones.  Split out of cmd_text.c (which keeps the other text
 * programs) because sed alone is a compiler and a small virtual machine:
 * a script is compiled once into an array of commands, blocks and
 * branches becoming jump indexes, then run one cycle per input line.
 *
 * Bots use it to edit what they drop (`sed -i 's/x/y/' /etc/...`) and to
 * cut machine facts out of /proc files, so the output and the compile
 * errors must be sed's own.  Input, output and regular expressions go
 * through the text programs' shared helpers (cmd_text.h): whole inputs,
 * a buffered writer, and guarded glibc regexes with a time budget.
 * Everything an attacker sizes is bounded here: commands per script, the
 * pattern and hold spaces, and the commands executed per run.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd_text.h"
#include "cmd_sys.h"

/*
 * A script is compiled once into an array of commands (blocks and branches
 * become jump indexes), then run over the input, one cycle per line, as
 * sed 4.9 does.  Everything is bounded: commands per script, the pattern
 * and hold spaces (8 MiB caps) and the commands executed per run (a `b`
 * loop ends).
 */
#define SED_CMDS_MAX 1024
#define SED_STEPS_MAX 5000000L
#define SED_SPACE_MAX (8u << 20)

enum sed_atype { SA_NONE, SA_LINE, SA_LAST, SA_RE, SA_STEP, SA_PLUS };

struct sed_addr {
    enum sed_atype t;
    long n, step;
    int re;                       /* index in sed.res; -1: the last regex used */
};

struct sed_cmd {
    struct sed_addr a1, a2;
    bool neg;
    char cmd;
    bool active;                  /* inside a range */
    long range_end;               /* SA_LINE/SA_PLUS second address: last line */
    int re;                       /* s: regex index (-1 last used) */
    char *wfile;                  /* s///w FILE */
    char *text;                   /* s: replacement; a/i/c: text; b/t/T/: label; w/r: file */
    size_t text_len;
    bool g, p, eval;
    long nth;
    int exit_code;
    int jump;                     /* b/t/T target, '{' end index */
    uint8_t ymap[256];
};

struct sed {
    struct sh_cmd *c;
    struct txt_out o;
    bool bb, quiet, ere, separate, posix;
    struct sed_cmd *cmds;
    int n;
    struct txt_re *res;
    int nres;
    int last_re;
    int blocks[64];
    int nblocks;
    /* error location */
    int expr_no;
    const char *file;
    /* run state */
    struct hp_buf ps, hs, append;
    bool chomped, missing_nl, quit, tflag;
    int exit_code;
    long lineno, steps;
    const uint8_t *in;
    size_t in_len, in_pos;
};

/* "sed: -e expression #1, char 5: unterminated `s' command" (GNU) or the
 * busybox wording; returns -1 for the caller to stop. */
static int sed_cerr(struct sed *s, size_t pos, const char *gnu, const char *bb)
{
    if (s->bb)
        sh_errf(s->c, "sed: %s\n", bb ? bb : gnu);
    else
        sh_errf(s->c, "sed: -e expression #%d, char %zu: %s\n", s->expr_no, pos, gnu);
    return -1;
}

struct sed_src {
    const char *p;
    size_t len, i;
};

static int sed_peek(struct sed_src *r) { return r->i < r->len ? (unsigned char)r->p[r->i] : -1; }
static int sed_get(struct sed_src *r) { return r->i < r->len ? (unsigned char)r->p[r->i++] : -1; }

static void sed_skip_ws(struct sed_src *r)
{
    while (r->i < r->len && (r->p[r->i] == ' ' || r->p[r->i] == '\t'))
        r->i++;
}

/* Read up to the unescaped delimiter into b: "\delim" is the delimiter,
 * "\n" a newline (in a regex), other escapes are kept for regcomp.  false
 * when the text ends first. */
static bool sed_delim(struct sed_src *r, int delim, struct hp_buf *b, bool regex)
{
    for (;;) {
        int ch = sed_get(r);
        if (ch < 0)
            return false;
        if (ch == delim)
            return true;
        if (ch == '\n' && regex)
            return false;
        if (ch == '\\') {
            int nx = sed_get(r);
            if (nx < 0)
                return false;
            if (nx == delim && delim != '&') {
                hp_buf_putc(b, (uint8_t)nx);
            } else if (nx == 'n' && regex) {
                hp_buf_putc(b, '\n');
            } else {
                hp_buf_putc(b, '\\');
                hp_buf_putc(b, (uint8_t)nx);
            }
            continue;
        }
        hp_buf_putc(b, (uint8_t)ch);
    }
}

static int sed_addre(struct sed *s, const struct hp_buf *b, int flags, size_t pos)
{
    if (b->len == 0)
        return -1;                /* the last regex used */
    if (s->nres >= SED_CMDS_MAX)
        return sed_cerr(s, pos, "too many regular expressions", NULL) - 1;
    char err[256];
    int fl = (s->ere ? REG_EXTENDED : 0) | flags;
    if (txt_re_comp(&s->res[s->nres], (const char *)b->data, b->len, fl, err, sizeof(err)) != 0)
        return sed_cerr(s, pos, err, err) - 1;
    return s->nres++;
}

/* One address; false with *bad set on an error (returned as -2 in re). */
static int sed_address(struct sed *s, struct sed_src *r, struct sed_addr *a)
{
    int ch = sed_peek(r);
    a->t = SA_NONE;
    if (ch >= '0' && ch <= '9') {
        long v = 0;
        while ((ch = sed_peek(r)) >= '0' && ch <= '9') {
            v = v < 100000000000L ? v * 10 + (ch - '0') : v;
            r->i++;
        }
        a->t = SA_LINE;
        a->n = v;
        if (sed_peek(r) == '~' && !s->bb) {
            r->i++;
            long st = 0;
            while ((ch = sed_peek(r)) >= '0' && ch <= '9') {
                st = st < 100000000L ? st * 10 + (ch - '0') : st;
                r->i++;
            }
            a->t = SA_STEP;
            a->step = st;
        }
        return 0;
    }
    if (ch == '$') {
        r->i++;
        a->t = SA_LAST;
        return 0;
    }
    if (ch == '/' || ch == '\\') {
        r->i++;
        int delim = ch == '\\' ? sed_get(r) : '/';
        struct hp_buf b;
        hp_buf_init(&b, TXT_RE_MAX + 8);
        if (delim < 0 || !sed_delim(r, delim, &b, true)) {
            hp_buf_free(&b);
            return sed_cerr(s, r->i, "unterminated address regex", "unmatched '/'");
        }
        int flags = 0;
        while ((ch = sed_peek(r)) == 'I' || ch == 'M') {
            flags |= ch == 'I' ? REG_ICASE : REG_NEWLINE;
            r->i++;
        }
        int re = sed_addre(s, &b, flags, r->i);
        hp_buf_free(&b);
        if (re < -1)
            return -1;
        a->t = SA_RE;
        a->re = re;
        return 0;
    }
    return 0;
}

/* The text of a, i, c: GNU one-liner ("a foo") or "a\" newline "text",
 * continued by backslash-newline. */
static int sed_text(struct sed *s, struct sed_src *r, struct sed_cmd *k)
{
    struct hp_buf b;
    hp_buf_init(&b, SED_SPACE_MAX);
    sed_skip_ws(r);
    if (sed_peek(r) == '\\') {
        r->i++;
        if (sed_peek(r) == '\n')
            r->i++;
        else
            sed_skip_ws(r);
    } else if (sed_peek(r) < 0 || s->posix)
        return sed_cerr(s, r->i, "expected \\ after `a', `c' or `i'", "missing text");
    for (;;) {
        int ch = sed_get(r);
        if (ch < 0 || ch == '\n')
            break;
        if (ch == '\\') {
            int nx = sed_get(r);
            if (nx < 0)
                break;
            hp_buf_putc(&b, (uint8_t)nx);
            continue;
        }
        hp_buf_putc(&b, (uint8_t)ch);
    }
    hp_buf_putc(&b, '\n');
    k->text = malloc(b.len + 1);
    if (k->text) {
        memcpy(k->text, b.data, b.len);
        k->text[b.len] = '\0';
        k->text_len = b.len;
    }
    hp_buf_free(&b);
    return 0;
}

/* A label or file name: to the end of the line (';' ends a label too, as in GNU). */
static char *sed_word(struct sed_src *r, bool semicolon_ends, size_t *len)
{
    sed_skip_ws(r);
    size_t st = r->i;
    while (r->i < r->len && r->p[r->i] != '\n' && !(semicolon_ends && r->p[r->i] == ';'))
        r->i++;
    size_t e = r->i;
    while (e > st && (r->p[e - 1] == ' ' || r->p[e - 1] == '\t'))
        e--;
    *len = e - st;
    return strndup(r->p + st, e - st);
}

static int sed_subst(struct sed *s, struct sed_src *r, struct sed_cmd *k)
{
    int delim = sed_get(r);
    if (delim < 0 || delim == '\n' || delim == '\\')
        return sed_cerr(s, r->i, "unterminated `s' command", "unmatched 's'");
    struct hp_buf re, rep;
    hp_buf_init(&re, TXT_RE_MAX + 8);
    hp_buf_init(&rep, 1u << 16);
    int rc = 0;
    if (!sed_delim(r, delim, &re, true) || !sed_delim(r, delim, &rep, false)) {
        rc = sed_cerr(s, r->i, "unterminated `s' command", "unmatched '/'");
        goto out;
    }
    int flags = 0, ch;
    k->nth = 1;
    bool nth_set = false;
    while ((ch = sed_peek(r)) >= 0 && ch != ';' && ch != '\n' && ch != '}' && ch != '#') {
        r->i++;
        if (ch == 'g')
            k->g = true;
        else if (ch == 'p')
            k->p = true;
        else if (ch == 'i' || ch == 'I')
            flags |= REG_ICASE;
        else if (ch == 'm' || ch == 'M')
            flags |= REG_NEWLINE;
        else if (ch == 'e')
            k->eval = true;
        else if (ch >= '0' && ch <= '9') {
            long v = ch - '0';
            while ((ch = sed_peek(r)) >= '0' && ch <= '9') {
                v = v < 100000000L ? v * 10 + (ch - '0') : v;
                r->i++;
            }
            if (v == 0) {
                rc = sed_cerr(s, r->i, "number option to `s' command may not be zero", NULL);
                goto out;
            }
            k->nth = v;
            nth_set = true;
        } else if (ch == 'w') {
            size_t wl;
            free(k->wfile);
            k->wfile = sed_word(r, false, &wl);
            break;
        } else if (ch == ' ' || ch == '\t')
            continue;
        else {
            rc = sed_cerr(s, r->i, "unknown option to `s'", "bad option in substitution expression");
            goto out;
        }
    }
    (void)nth_set;
    /* \N in the replacement must name a group of the regex */
    for (size_t j = 0; j + 1 < rep.len; j++) {
        if (rep.data[j] == '\\') {
            int d = rep.data[j + 1] - '0';
            if (d >= 1 && d <= 9 && re.len) {
                size_t groups = 0;
                for (size_t q = 0; q < re.len; q++)
                    if (s->ere ? (re.data[q] == '(' && (q == 0 || re.data[q - 1] != '\\'))
                               : (re.data[q] == '(' && q > 0 && re.data[q - 1] == '\\'))
                        groups++;
                if ((size_t)d > groups) {
                    char m[80];
                    snprintf(m, sizeof(m), "invalid reference \\%d on `s' command's RHS", d);
                    rc = sed_cerr(s, r->i, m, "invalid reference");
                    goto out;
                }
            }
            j++;
        }
    }
    k->re = sed_addre(s, &re, flags, r->i);
    if (k->re < -1) {
        rc = -1;
        goto out;
    }
    {
        k->text = malloc(rep.len + 1);
        if (k->text) {
            memcpy(k->text, rep.data ? rep.data : (uint8_t *)"", rep.len);
            k->text[rep.len] = '\0';
            k->text_len = rep.len;
        }
    }
out:
    hp_buf_free(&re);
    hp_buf_free(&rep);
    return rc;
}

static int sed_y(struct sed *s, struct sed_src *r, struct sed_cmd *k)
{
    int delim = sed_get(r);
    struct hp_buf a, b;
    hp_buf_init(&a, 4096);
    hp_buf_init(&b, 4096);
    int rc = 0;
    if (delim < 0 || !sed_delim(r, delim, &a, false) || !sed_delim(r, delim, &b, false))
        rc = sed_cerr(s, r->i, "unterminated `y' command", "unmatched 'y'");
    for (int q = 0; q < 256; q++)
        k->ymap[q] = (uint8_t)q;
    /* unescape "\\" and "\n" in both strings */
    struct hp_buf *v[2] = { &a, &b };
    for (int t = 0; t < 2 && !rc; t++) {
        size_t w = 0;
        for (size_t q = 0; q < v[t]->len; q++) {
            uint8_t ch = v[t]->data[q];
            if (ch == '\\' && q + 1 < v[t]->len) {
                ch = v[t]->data[++q];
                ch = ch == 'n' ? '\n' : ch == 't' ? '\t' : ch;
            }
            v[t]->data[w++] = ch;
        }
        v[t]->len = w;
    }
    if (!rc && a.len != b.len)
        rc = sed_cerr(s, r->i, "strings for `y' command are different lengths", NULL);
    for (size_t q = 0; !rc && q < a.len; q++)
        k->ymap[a.data[q]] = b.data[q];
    hp_buf_free(&a);
    hp_buf_free(&b);
    return rc;
}

/* What may follow a command: spaces, then ';', newline, '}' or '#'. */
static int sed_end_cmd(struct sed *s, struct sed_src *r)
{
    sed_skip_ws(r);
    int ch = sed_peek(r);
    if (ch < 0 || ch == '\n' || ch == ';') {
        if (ch >= 0)
            r->i++;
        return 0;
    }
    if (ch == '}' || ch == '#')
        return 0;
    r->i++;
    return sed_cerr(s, r->i, "extra characters after command", "extra characters after command");
}

static int sed_one(struct sed *s, struct sed_src *r)
{
    struct sed_cmd *k = &s->cmds[s->n];
    memset(k, 0, sizeof(*k));
    k->re = -1;
    k->a1.re = k->a2.re = -1;
    if (sed_address(s, r, &k->a1) < 0)
        return -1;
    if (k->a1.t != SA_NONE) {
        sed_skip_ws(r);
        if (sed_peek(r) == ',') {
            r->i++;
            sed_skip_ws(r);
            if (sed_peek(r) == '+' || sed_peek(r) == '~') {
                r->i++;
                struct sed_addr t;
                if (sed_address(s, r, &t) < 0 || t.t != SA_LINE)
                    return sed_cerr(s, r->i, "expected newer version of sed", NULL);
                k->a2.t = SA_PLUS;
                k->a2.n = t.n;
            } else if (sed_address(s, r, &k->a2) < 0)
                return -1;
            else if (k->a2.t == SA_NONE || k->a2.t == SA_STEP)
                return sed_cerr(s, r->i, "unexpected `,'", "unexpected ','");
        }
        if (k->a1.t == SA_LINE && k->a1.n == 0 && !(k->a2.t == SA_RE))
            return sed_cerr(s, r->i, "invalid usage of line address 0", NULL);
    }
    sed_skip_ws(r);
    while (sed_peek(r) == '!') {
        r->i++;
        k->neg = true;
        sed_skip_ws(r);
    }
    int ch = sed_get(r);
    if (ch < 0)
        return sed_cerr(s, r->i, "missing command", "missing command");
    k->cmd = (char)ch;
    bool one_addr = strchr("=aiqQrl", ch) != NULL && s->posix;
    if ((ch == 'q' || ch == 'Q' || ch == ':' || ch == '#') && k->a2.t != SA_NONE)
        one_addr = true;
    if (one_addr)
        return sed_cerr(s, r->i, "command only uses one address", NULL);
    if ((ch == ':' || ch == '#') && k->a1.t != SA_NONE)
        return sed_cerr(s, r->i, ch == ':' ? ": doesn't want any addresses"
                                           : "comments don't accept any addresses", NULL);
    int rc = 0;
    switch (ch) {
    case '{':
        if (s->nblocks >= 64)
            return sed_cerr(s, r->i, "too many `{'", NULL);
        s->blocks[s->nblocks++] = s->n;
        s->n++;
        return 0;
    case '}':
        if (s->nblocks == 0)
            return sed_cerr(s, r->i, "unexpected `}'", "unexpected }");
        if (k->a1.t != SA_NONE)
            return sed_cerr(s, r->i, "} doesn't want any addresses", NULL);
        s->cmds[s->blocks[--s->nblocks]].jump = s->n + 1;
        s->n++;
        return sed_end_cmd(s, r);
    case '#':
        while (r->i < r->len && r->p[r->i] != '\n')
            r->i++;
        return 0;
    case 's':
        rc = sed_subst(s, r, k);
        break;
    case 'y':
        rc = sed_y(s, r, k);
        break;
    case 'a': case 'i': case 'c':
        rc = sed_text(s, r, k);
        s->n += rc == 0;
        return rc;
    case ':':
        k->text = sed_word(r, true, &k->text_len);
        if (k->text_len == 0)
            return sed_cerr(s, r->i, "\":\" lacks a label", NULL);
        s->n++;
        return sed_end_cmd(s, r);
    case 'b': case 't': case 'T':
        k->text = sed_word(r, true, &k->text_len);
        break;
    case 'r': case 'R': case 'w': case 'W':
        k->text = sed_word(r, false, &k->text_len);
        break;
    case 'q': case 'Q': case 'l': case 'L': {
        sed_skip_ws(r);
        long v = 0;
        while ((ch = sed_peek(r)) >= '0' && ch <= '9') {
            v = v < 1000000 ? v * 10 + (ch - '0') : v;
            r->i++;
        }
        k->exit_code = (int)(v & 255);
        break;
    }
    case '=': case 'd': case 'D': case 'g': case 'G': case 'h': case 'H': case 'x': case 'n':
    case 'N': case 'p': case 'P': case 'z': case 'F': case 'e':
        break;
    default: {
        char m[64];
        snprintf(m, sizeof(m), "unknown command: `%c'", ch);
        char m2[64];
        snprintf(m2, sizeof(m2), "unsupported command %c", ch);
        return sed_cerr(s, r->i, m, m2);
    }
    }
    if (rc)
        return rc;
    s->n++;
    return sed_end_cmd(s, r);
}

/* Compile one -e expression (or the script operand, or a -f file). */
static int sed_compile(struct sed *s, const char *text, size_t len)
{
    struct sed_src r = { text, len, 0 };
    s->expr_no++;
    for (;;) {
        while (r.i < r.len && (strchr(" \t\n;", r.p[r.i]) != NULL))
            r.i++;
        if (r.i >= r.len)
            return 0;
        if (s->n >= SED_CMDS_MAX - 1)
            return sed_cerr(s, r.i, "too many commands", NULL);
        if (sed_one(s, &r) < 0)
            return -1;
    }
}

/* Resolve branch labels once everything is compiled. */
static int sed_link(struct sed *s)
{
    if (s->nblocks) {
        if (s->bb)
            sh_errs(s->c, "sed: unmatched '{'\n");
        else
            sh_errf(s->c, "sed: -e expression #%d, char 0: unmatched `{'\n", s->expr_no);
        return -1;
    }
    for (int i = 0; i < s->n; i++) {
        struct sed_cmd *k = &s->cmds[i];
        if (!strchr("btT", k->cmd))
            continue;
        k->jump = s->n;
        if (k->text_len == 0)
            continue;
        int j;
        for (j = 0; j < s->n; j++)
            if (s->cmds[j].cmd == ':' && strcmp(s->cmds[j].text, k->text) == 0)
                break;
        if (j == s->n) {
            if (s->bb)
                sh_errf(s->c, "sed: can't find label for jump to '%s'\n", k->text);
            else
                sh_errf(s->c, "sed: can't find label for jump to `%s'\n", k->text);
            return -1;
        }
        k->jump = j;
    }
    return 0;
}

/* ---- sed: running ---- */

static struct txt_re *sed_re(struct sed *s, int re)
{
    if (re >= 0)
        s->last_re = re;
    return s->last_re >= 0 ? &s->res[s->last_re] : NULL;
}

/* Read the next input line into ps (append: after a newline, for N). */
static bool sed_read(struct sed *s, bool append)
{
    const uint8_t *l;
    size_t n;
    bool nl;
    if (!txt_line(s->in, s->in_len, &s->in_pos, &l, &n, &nl))
        return false;
    if (!append)
        hp_buf_reset(&s->ps);
    else
        hp_buf_putc(&s->ps, '\n');
    hp_buf_put(&s->ps, l, n);
    s->chomped = nl;
    s->lineno++;
    return true;
}

static bool sed_is_last(struct sed *s) { return s->in_pos >= s->in_len; }

/* Output text; a line printed without its newline (the input's last line
 * had none) gets one before anything else is written, as GNU sed does. */
static void sed_emit(struct sed *s, const void *p, size_t n, bool nl)
{
    if (s->missing_nl) {
        txt_putc(&s->o, '\n');
        s->missing_nl = false;
    }
    txt_put(&s->o, p, n);
    if (nl)
        txt_putc(&s->o, '\n');
    else
        s->missing_nl = true;
}

static void sed_print_ps(struct sed *s, size_t n)
{
    sed_emit(s, s->ps.data, n, s->chomped || n < s->ps.len);
}

static bool sed_match1(struct sed *s, const struct sed_addr *a)
{
    switch (a->t) {
    case SA_NONE: return true;
    case SA_LINE: return s->lineno == a->n;
    case SA_LAST: return sed_is_last(s);
    case SA_STEP:
        return a->step <= 0 ? s->lineno == a->n
                            : s->lineno >= a->n && (s->lineno - a->n) % a->step == 0;
    case SA_RE: {
        struct txt_re *re = sed_re(s, a->re);
        hp_buf_cstr(&s->ps);
        return re && txt_re_exec(re, s->ps.data ? s->ps.data : (const uint8_t *)"", s->ps.len, 0, 0,
                                 NULL, 0) == 0;
    }
    case SA_PLUS: return false;
    }
    return false;
}

static bool sed_selected(struct sed *s, struct sed_cmd *k)
{
    bool m;
    if (k->a1.t == SA_NONE)
        m = true;
    else if (k->a2.t == SA_NONE)
        m = sed_match1(s, &k->a1);
    else if (k->active) {
        m = true;
        if (k->a2.t == SA_RE) {
            if (sed_match1(s, &k->a2))
                k->active = false;
        } else if (k->a2.t == SA_LAST) {
            if (sed_is_last(s))
                k->active = false;
        } else if (s->lineno >= k->range_end)
            k->active = false;
        if (k->active == false && k->a2.t != SA_RE && s->lineno > k->range_end && k->a2.t != SA_LAST)
            m = false;
    } else if ((k->a1.t == SA_LINE && k->a1.n == 0 && s->lineno == 1) || sed_match1(s, &k->a1)) {
        m = true;
        k->active = true;
        if (k->a2.t == SA_LINE) {
            k->range_end = k->a2.n;
            if (k->a2.n <= s->lineno)
                k->active = false;
        } else if (k->a2.t == SA_PLUS) {
            k->range_end = s->lineno + k->a2.n;
            if (k->a2.n == 0)
                k->active = false;
        } else if (k->a2.t == SA_LAST) {
            if (sed_is_last(s))
                k->active = false;
        } else if (k->a1.t == SA_LINE && k->a1.n == 0 && sed_match1(s, &k->a2))
            k->active = false;
    } else
        m = false;
    return m != k->neg;
}

/* Case conversion state of a GNU replacement (\U \L \u \l \E). */
static void sed_rep_put(struct hp_buf *b, const uint8_t *p, size_t n, int *mode, int *one)
{
    for (size_t i = 0; i < n; i++) {
        int ch = p[i];
        if (*one) {
            ch = *one == 'u' ? toupper(ch) : tolower(ch);
            *one = 0;
        } else if (*mode == 'U')
            ch = toupper(ch);
        else if (*mode == 'L')
            ch = tolower(ch);
        hp_buf_putc(b, (uint8_t)ch);
    }
}

static void sed_rep(struct sed *s, const struct sed_cmd *k, const uint8_t *src, const regmatch_t *m,
                    struct hp_buf *b)
{
    int mode = 0, one = 0;
    const uint8_t *t = (const uint8_t *)k->text;
    for (size_t i = 0; i < k->text_len; i++) {
        if (t[i] == '&') {
            sed_rep_put(b, src + m[0].rm_so, (size_t)(m[0].rm_eo - m[0].rm_so), &mode, &one);
            continue;
        }
        if (t[i] != '\\' || i + 1 >= k->text_len) {
            sed_rep_put(b, t + i, 1, &mode, &one);
            continue;
        }
        uint8_t ch = t[++i];
        if (ch >= '0' && ch <= '9') {
            const regmatch_t *g = &m[ch - '0'];
            if (g->rm_so >= 0)
                sed_rep_put(b, src + g->rm_so, (size_t)(g->rm_eo - g->rm_so), &mode, &one);
        } else if (!s->bb && (ch == 'U' || ch == 'L' || ch == 'E')) {
            mode = ch == 'E' ? 0 : ch;
            one = 0;
        } else if (!s->bb && (ch == 'u' || ch == 'l'))
            one = ch;
        else {
            uint8_t lit = ch == 'n' ? '\n' : ch == 't' ? '\t' : ch == 'r' ? '\r' : ch;
            sed_rep_put(b, &lit, 1, &mode, &one);
        }
    }
}

static bool sed_subst_run(struct sed *s, struct sed_cmd *k)
{
    struct txt_re *re = sed_re(s, k->re);
    if (!re)
        return false;
    struct hp_buf out;
    hp_buf_init(&out, SED_SPACE_MAX);
    hp_buf_cstr(&s->ps);
    const uint8_t *src = s->ps.data ? s->ps.data : (const uint8_t *)"";
    size_t len = s->ps.len, start = 0, copied = 0;
    long count = 0;
    bool done = false, prev_nonempty = false;
    size_t prev_end = (size_t)-1;
    while (start <= len && !done) {
        regmatch_t m[10];
        if (txt_re_exec(re, src, len, start, 10, m, 0) != 0)
            break;
        size_t so = (size_t)m[0].rm_so, eo = (size_t)m[0].rm_eo;
        if (so == eo && so == prev_end && prev_nonempty) {
            start = so + 1;       /* no empty match right after a match */
            prev_nonempty = false;
            continue;
        }
        count++;
        hp_buf_put(&out, src + copied, so - copied);
        if (count >= k->nth) {
            sed_rep(s, k, src, m, &out);
            done = !k->g;
        } else
            hp_buf_put(&out, src + so, eo - so);
        copied = eo;
        prev_end = eo;
        prev_nonempty = eo > so;
        start = eo > so ? eo : eo + 1;
        if (eo == so && so < len) {
            hp_buf_put(&out, src + so, 1);
            copied = so + 1;
        }
    }
    bool did = count >= k->nth;
    if (did) {
        if (copied < len)
            hp_buf_put(&out, src + copied, len - copied);
        hp_buf_reset(&s->ps);
        hp_buf_put(&s->ps, out.data, out.len);
    }
    hp_buf_free(&out);
    return did;
}

/* w FILE: appended through the vfs ("/dev/stdout" is the output). */
static void sed_wfile(struct sed *s, const char *name, const void *p, size_t n)
{
    if (strcmp(name, "/dev/stdout") == 0) {
        sed_emit(s, p, n, true);
        return;
    }
    char path[4096];
    if (!s->c->fs || sh_path(s->c, name, path, sizeof(path)) < 0)
        return;
    sh_vfs_write(s->c->fs, path, p, n, SH_O_CREAT | SH_O_APPEND, 0644);
    sh_vfs_write(s->c->fs, path, "\n", 1, SH_O_CREAT | SH_O_APPEND, 0644);
}

static void sed_flush_append(struct sed *s)
{
    if (s->append.len) {
        sed_emit(s, s->append.data, s->append.len - 1, true);
        hp_buf_reset(&s->append);
    }
}

static void sed_append_file(struct sed *s, const char *name)
{
    struct hp_buf b = { 0 };
    const uint8_t *d;
    size_t n;
    bool used = true;             /* r never reads stdin here */
    if (strcmp(name, "-") != 0 && txt_load(s->c, name, &used, &b, &d, &n) == 0 && n) {
        hp_buf_put(&s->append, d, n);
        if (d[n - 1] != '\n')
            hp_buf_putc(&s->append, '\n');
    }
    hp_buf_free(&b);
}

/* One cycle's commands; false when the run ends (q, Q, input exhausted by n/N). */
static bool sed_exec(struct sed *s)
{
    bool autoprint = !s->quiet;
    for (int pc = 0; pc < s->n;) {
        if (++s->steps > SED_STEPS_MAX) {
            s->quit = true;
            return false;
        }
        if ((s->steps & 1023) == 0 && !sh_pause_point()) {
            s->quit = true;       /* the line's time is up */
            return false;
        }
        struct sed_cmd *k = &s->cmds[pc];
        if (k->cmd == '}' || k->cmd == ':') {
            pc++;
            continue;
        }
        if (!sed_selected(s, k)) {
            pc = k->cmd == '{' ? k->jump : pc + 1;
            continue;
        }
        pc++;
        switch (k->cmd) {
        case '{': break;
        case '=': {
            char num[32];
            int n = snprintf(num, sizeof(num), "%ld", s->lineno);
            sed_emit(s, num, (size_t)n, true);
            break;
        }
        case 'a': hp_buf_put(&s->append, k->text, k->text_len); break;
        case 'i': sed_emit(s, k->text, k->text_len - 1, true); break;
        case 'c':
            if (k->a2.t == SA_NONE || !k->active || k->neg)
                sed_emit(s, k->text, k->text_len - 1, true);
            return true;
        case 'd': return true;
        case 'D': {
            const uint8_t *nl = s->ps.len ? memchr(s->ps.data, '\n', s->ps.len) : NULL;
            if (!nl)
                return true;
            hp_buf_consume(&s->ps, (size_t)(nl - s->ps.data) + 1);
            sed_flush_append(s);
            pc = 0;
            continue;
        }
        case 'e': break;          /* never executes anything */
        case 'F': sed_emit(s, "-", 1, true); break;
        case 'g': hp_buf_reset(&s->ps); hp_buf_put(&s->ps, s->hs.data, s->hs.len); break;
        case 'G': hp_buf_putc(&s->ps, '\n'); hp_buf_put(&s->ps, s->hs.data, s->hs.len); break;
        case 'h': hp_buf_reset(&s->hs); hp_buf_put(&s->hs, s->ps.data, s->ps.len); break;
        case 'H': hp_buf_putc(&s->hs, '\n'); hp_buf_put(&s->hs, s->ps.data, s->ps.len); break;
        case 'x': { struct hp_buf t = s->ps; s->ps = s->hs; s->hs = t; break; }
        case 'l': case 'L': case 'p': sed_print_ps(s, s->ps.len); break;
        case 'P': {
            const uint8_t *nl = s->ps.len ? memchr(s->ps.data, '\n', s->ps.len) : NULL;
            sed_emit(s, s->ps.data, nl ? (size_t)(nl - s->ps.data) : s->ps.len, true);
            break;
        }
        case 'n':
            if (sed_is_last(s)) {
                if (!s->posix && autoprint)
                    sed_print_ps(s, s->ps.len);
                s->quit = true;
                return false;
            }
            if (autoprint)
                sed_print_ps(s, s->ps.len);
            sed_flush_append(s);
            sed_read(s, false);
            break;
        case 'N':
            if (sed_is_last(s)) {
                if (!s->posix && autoprint)
                    sed_print_ps(s, s->ps.len);
                s->quit = true;
                return false;
            }
            sed_flush_append(s);
            sed_read(s, true);
            break;
        case 'q':
            if (autoprint)
                sed_print_ps(s, s->ps.len);
            sed_flush_append(s);
            s->exit_code = k->exit_code;
            s->quit = true;
            return false;
        case 'Q':
            s->exit_code = k->exit_code;
            s->quit = true;
            return false;
        case 'r': case 'R': sed_append_file(s, k->text); break;
        case 'w': case 'W': sed_wfile(s, k->text, s->ps.data, s->ps.len); break;
        case 's':
            if (sed_subst_run(s, k)) {
                s->tflag = true;
                if (k->p)
                    sed_print_ps(s, s->ps.len);
                if (k->wfile)
                    sed_wfile(s, k->wfile, s->ps.data, s->ps.len);
            }
            break;
        case 'y':
            for (size_t q = 0; q < s->ps.len; q++)
                s->ps.data[q] = k->ymap[s->ps.data[q]];
            break;
        case 'z': hp_buf_reset(&s->ps); break;
        case 'b': pc = k->jump; break;
        case 't': if (s->tflag) { s->tflag = false; pc = k->jump; } break;
        case 'T': if (!s->tflag) pc = k->jump; else s->tflag = false; break;
        default: break;
        }
    }
    if (autoprint)
        sed_print_ps(s, s->ps.len);
    return true;
}

/* Run the script over one stream (all inputs, or one file for -i/-s). */
static void sed_run(struct sed *s, const uint8_t *d, size_t len)
{
    s->in = d;
    s->in_len = len;
    s->in_pos = 0;
    while (!s->quit && sed_read(s, false)) {
        s->tflag = false;
        bool go = sed_exec(s);
        sed_flush_append(s);
        if (!go)
            break;
    }
}

static const char sed_usage_gnu[] =
    "Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...\n\n"
    "  -n, --quiet, --silent\n                 suppress automatic printing of pattern space\n"
    "      --debug\n                 annotate program execution\n"
    "  -e script, --expression=script\n                 add the script to the commands to be executed\n"
    "  -f script-file, --file=script-file\n"
    "                 add the contents of script-file to the commands to be executed\n"
    "  --follow-symlinks\n                 follow symlinks when processing in place\n"
    "  -i[SUFFIX], --in-place[=SUFFIX]\n"
    "                 edit files in place (makes backup if SUFFIX supplied)\n"
    "  -l N, --line-length=N\n"
    "                 specify the desired line-wrap length for the `l' command\n"
    "  --posix\n                 disable all GNU extensions.\n"
    "  -E, -r, --regexp-extended\n"
    "                 use extended regular expressions in the script\n"
    "                 (for portability use POSIX -E).\n"
    "  -s, --separate\n                 consider files as separate rather than as a single\n"
    "                 continuous long stream.\n"
    "      --sandbox\n                 operate in sandbox mode (disable e/r/w commands).\n"
    "  -u, --unbuffered\n"
    "                 load minimal amounts of data from the input files and flush\n"
    "                 the output buffers more often\n"
    "  -z, --null-data\n                 separate lines by NUL characters\n"
    "      --help     display this help and exit\n"
    "      --version  output version information and exit\n\n"
    "If no -e, --expression, -f, or --file option is given, then the first\n"
    "non-option argument is taken as the sed script to interpret.  All\n"
    "remaining arguments are names of input files; if no input files are\n"
    "specified, then the standard input is read.\n\n"
    "GNU sed home page: <https://www.gnu.org/software/sed/>.\n"
    "General help using GNU software: <https://www.gnu.org/gethelp/>.\n";

enum { SO_HELP = 256, SO_VERSION, SO_POSIX, SO_DEBUG, SO_SANDBOX, SO_FOLLOW };

static const struct sys_longopt sed_longs[] = {
    { "quiet", 0, 'n' }, { "silent", 0, 'n' }, { "expression", 1, 'e' }, { "file", 1, 'f' },
    { "in-place", 2, 'i' }, { "line-length", 1, 'l' }, { "posix", 0, SO_POSIX },
    { "regexp-extended", 0, 'E' }, { "separate", 0, 's' }, { "unbuffered", 0, 'u' },
    { "null-data", 0, 'z' }, { "help", 0, SO_HELP }, { "version", 0, SO_VERSION },
    { "debug", 0, SO_DEBUG }, { "sandbox", 0, SO_SANDBOX }, { "follow-symlinks", 0, SO_FOLLOW },
    { NULL, 0, 0 },
};

static int sed_usage(struct sed *s, const struct sys_getopt *go)
{
    if (s->bb)
        return sys_usage_bb(s->c, "sed", go, "[-i[SFX]] [-nrE] [-f FILE]... [-e CMD]... [FILE]...\n"
                                           "or: sed [-i[SFX]] [-nrE] CMD [FILE]...");
    if (go)
        sys_getopt_msg(s->c, "sed", go);
    sh_errs(s->c, sed_usage_gnu);
    return 1;
}

static void sed_free(struct sed *s)
{
    for (int i = 0; s->cmds && i <= s->n && i < SED_CMDS_MAX; i++) {   /* <=: one half-built */
        free(s->cmds[i].text);
        free(s->cmds[i].wfile);
    }
    for (int i = 0; i < s->nres; i++)
        txt_re_free(&s->res[i]);
    free(s->cmds);
    free(s->res);
    hp_buf_free(&s->ps);
    hp_buf_free(&s->hs);
    hp_buf_free(&s->append);
    txt_out_done(&s->o);
}

/* sed -i: each file on its own, output written back through the vfs. */
static int sed_inplace(struct sed *s, char **ops, int nops, const char *suffix)
{
    int rc = 0;
    for (int k = 0; k < nops && !s->quit; k++) {
        struct hp_buf b = { 0 };
        const uint8_t *d;
        size_t n;
        bool used = true;
        char path[4096];
        int r = sh_path(s->c, ops[k], path, sizeof(path));
        struct sh_stat st;
        if (r == 0 && s->c->fs && sh_vfs_stat(s->c->fs, path, true, &st) == 0 && st.type != SH_FT_REG) {
            txt_flush(&s->o);
            if (s->bb)
                sh_errf(s->c, "sed: couldn't edit %s: not a regular file\n", ops[k]);
            else
                sh_errf(s->c, "sed: couldn't edit %s: not a regular file\n", ops[k]);
            rc = 4;
            continue;
        }
        r = r < 0 ? r : txt_load(s->c, ops[k], &used, &b, &d, &n);
        if (r < 0) {
            txt_flush(&s->o);
            if (s->bb)
                sh_errf(s->c, "sed: can't open '%s': %s\n", ops[k], sh_strerror(r));
            else
                sh_errf(s->c, "sed: can't read %s: %s\n", ops[k], sh_strerror(r));
            rc = s->bb ? 1 : 2;
            hp_buf_free(&b);
            continue;
        }
        /* the output of this file goes to the file, not to stdout */
        txt_flush(&s->o);
        struct txt_out saved = s->o;
        hp_buf_init(&s->o.b, SH_VFS_FILE_MAX);
        s->o.c = NULL;
        s->lineno = 0;
        s->missing_nl = false;
        sed_run(s, d, n);
        if (suffix && *suffix) {
            char bak[4200];
            const char *slash = strrchr(path, '/');
            /* a suffix with a star: the star stands for the base name */
            size_t bl = 0;
            if (strchr(suffix, '*')) {
                size_t dl = (size_t)(slash - path + 1);
                memcpy(bak, path, dl);
                bl = dl;
                for (const char *q = suffix; *q && bl + 256 < sizeof(bak); q++) {
                    size_t add = *q == '*' ? strlen(slash + 1) : 1;
                    if (bl + add + 1 >= sizeof(bak))
                        break;
                    memcpy(bak + bl, *q == '*' ? slash + 1 : q, add);
                    bl += add;
                }
                bak[bl] = '\0';
            } else
                snprintf(bak, sizeof(bak), "%s%s", path, suffix);
            sh_vfs_write(s->c->fs, bak, d, n, SH_O_CREAT | SH_O_TRUNC, st.mode & 07777);
        }
        long w = sh_vfs_write(s->c->fs, path, s->o.b.data, s->o.b.len, SH_O_CREAT | SH_O_TRUNC, 0644);
        hp_buf_free(&s->o.b);
        s->o = saved;
        if (w < 0) {
            sh_errf(s->c, "sed: couldn't open temporary file %s: %s\n", path, sh_strerror((int)w));
            rc = 4;
        }
        hp_buf_free(&b);
    }
    return rc;
}

static int cmd_sed(struct sh_cmd *c)
{
    struct sed *s = calloc(1, sizeof(*s));
    if (!s)
        return 4;
    s->c = c;
    s->bb = c->persona && c->persona->busybox;
    s->last_re = -1;
    s->cmds = calloc(SED_CMDS_MAX, sizeof(*s->cmds));
    s->res = calloc(SED_CMDS_MAX, sizeof(*s->res));
    hp_buf_init(&s->ps, SED_SPACE_MAX);
    hp_buf_init(&s->hs, SED_SPACE_MAX);
    hp_buf_init(&s->append, SED_SPACE_MAX);
    txt_out_init(&s->o, c);
    txt_re_budget(c);
    int rc = 0;
    if (!s->cmds || !s->res) {
        sed_free(s);
        free(s);
        return 4;
    }
    /* options first: -E changes how every expression compiles */
    struct sys_getopt go;
    const char *exprs[64];
    bool expr_file[64];
    int nexpr = 0;
    bool inplace = false;
    const char *suffix = NULL;
    sys_getopt_init(&go, c->argc, c->argv, false);
    int ch;
    while ((ch = sys_getopt(&go, "nrEe:f:i::l:suz", s->bb ? NULL : sed_longs)) != -1) {
        switch (ch) {
        case 'n': s->quiet = true; break;
        case 'r': case 'E': s->ere = true; break;
        case 'e': case 'f':
            if (nexpr < 64) {
                expr_file[nexpr] = ch == 'f';
                exprs[nexpr++] = go.optarg;
            }
            break;
        case 'i':                 /* -i[SUFFIX]: optional, so only an attached suffix counts */
            inplace = true;
            if (go.optarg)
                suffix = go.optarg;
            break;
        case 's': s->separate = true; break;
        case SO_POSIX: s->posix = true; break;
        case SO_HELP: sh_outs(c, sed_usage_gnu); goto done;
        case SO_VERSION:
            sh_outs(c, "sed (GNU sed) 4.9\nPackaged by Debian\nCopyright (C) 2022 Free Software Foundation, Inc.\n"
                       "License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\n"
                       "This is free software: you are free to change and redistribute it.\n"
                       "There is NO WARRANTY, to the extent permitted by law.\n\n"
                       "Written by Jay Fenlason, Tom Lord, Ken Pizzini,\n"
                       "Paolo Bonzini, Jim Meyering, and Assaf Gordon.\n\n"
                       "This sed program was built with SELinux support.\n"
                       "SELinux is disabled on this system.\n\n"
                       "GNU sed home page: <https://www.gnu.org/software/sed/>.\n"
                       "General help using GNU software: <https://www.gnu.org/gethelp/>.\n"
                       "E-mail bug reports to: <bug-sed@gnu.org>.\n");
            goto done;
        case '?': case ':': rc = sed_usage(s, &go); goto done;
        default: break;
        }
    }
    char **ops = go.operands;
    int nops = go.noperands;
    if (nexpr == 0) {
        if (nops == 0) {
            rc = sed_usage(s, NULL);
            goto done;
        }
        exprs[nexpr] = ops[0];
        expr_file[nexpr++] = false;
        ops++;
        nops--;
    }
    for (int k = 0; k < nexpr; k++) {
        int r;
        if (expr_file[k]) {
            struct hp_buf b = { 0 };
            const uint8_t *d;
            size_t n;
            bool used = false;
            r = txt_load(c, exprs[k], &used, &b, &d, &n);
            if (r < 0) {
                sh_errf(c, "sed: couldn't open file %s: %s\n", exprs[k], sh_strerror(r));
                hp_buf_free(&b);
                rc = 1;
                goto done;
            }
            r = sed_compile(s, (const char *)d, n);
            hp_buf_free(&b);
        } else
            r = sed_compile(s, exprs[k], strlen(exprs[k]));
        if (r < 0) {
            rc = 1;
            goto done;
        }
    }
    if (sed_link(s) < 0) {
        rc = 1;
        goto done;
    }
    for (int i = 0; i < s->n; i++) {      /* w files are truncated before the run, as GNU does */
        const char *w = s->cmds[i].cmd == 'w' ? s->cmds[i].text : s->cmds[i].wfile;
        char path[4096];
        if (w && strcmp(w, "/dev/stdout") != 0 && c->fs && sh_path(c, w, path, sizeof(path)) == 0)
            sh_vfs_write(c->fs, path, "", 0, SH_O_CREAT | SH_O_TRUNC, 0644);
    }
    if (inplace) {
        if (nops == 0) {
            sh_errs(c, s->bb ? "sed: no files to edit\n" : "sed: no input files\n");
            rc = s->bb ? 1 : 1;
            goto done;
        }
        rc = sed_inplace(s, ops, nops, suffix);
        if (!rc)
            rc = s->exit_code;
        goto done;
    }
    /* all inputs as one stream ($ is the last line of the last file) */
    struct hp_buf all, b = { 0 };
    hp_buf_init(&all, SH_VFS_FILE_MAX * 2);
    bool used = false;
    for (int k = 0; k < (nops ? nops : 1); k++) {
        const uint8_t *d;
        size_t n;
        int r = txt_load(c, nops ? ops[k] : "-", &used, &b, &d, &n);
        if (r < 0) {
            if (s->bb)
                sh_errf(c, "sed: %s: %s\n", ops[k], sh_strerror(r));
            else if (r == -EISDIR)
                sh_errf(c, "sed: couldn't edit %s: not a regular file\n", ops[k]);
            else
                sh_errf(c, "sed: can't read %s: %s\n", ops[k], sh_strerror(r));
            rc = s->bb ? 1 : 2;
            continue;
        }
        if (all.len && all.data[all.len - 1] != '\n')
            hp_buf_putc(&all, '\n');
        hp_buf_put(&all, d, n);
    }
    hp_buf_free(&b);
    sed_run(s, all.data ? all.data : (const uint8_t *)"", all.len);
    hp_buf_free(&all);
    if (s->exit_code)
        rc = s->exit_code;
done:
    sed_free(s);
    free(s);
    return rc;
}

const struct sh_cmd_def sh_cmds_sed[] = {
    { "sed", cmd_sed, false },
    { NULL, NULL, false },
};
