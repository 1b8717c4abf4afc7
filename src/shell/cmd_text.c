/*
 * cmd_text.c - the text programs: grep (egrep, fgrep), sed, cut, tr, sort,
 * uniq, base64, tee, xargs, seq, yes, rev, nl, fold, paste, comm, cmp,
 * diff, od, hexdump, xxd, strings (awk is in cmd_awk.c).
 *
 * Bots pipe machine facts through these (`cat /proc/cpuinfo | grep name |
 * wc -l`, `free -m | grep Mem | awk ...`, `echo ... | base64 -d | sh`) and
 * compare the answers, so the output and every message must be the real
 * tool's: GNU coreutils 9.1, grep 3.8 and sed 4.9 on the Debian
 * personality, busybox applets when c->persona->busybox.
 *
 * Every program reads its inputs whole (the vfs and the pipe cap them),
 * works on them in one pass or an O(n log n) sort, and writes through a
 * buffered writer (cmd_text.h).  Nothing an attacker types sizes a stack
 * buffer; counts they give (seq, yes, xargs -n, fold -w) are bounded here
 * as well as by the interpreter's output cap.  Option parsing is the
 * glibc-like getopt of cmd_sys.h, so usage errors read like the real ones.
 */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cmd_text.h"
#include "cmd_sys.h"

#define TXT_OUT_CHUNK (64u * 1024)
#define TXT_LOAD_MAX (SH_VFS_FILE_MAX + 1)
#define TXT_RE_BUDGET_NS (2000000000LL)   /* matching time of one command */

/* ==== shared helpers (cmd_text.h) ================================================= */

void txt_out_init(struct txt_out *o, struct sh_cmd *c)
{
    o->c = c;
    hp_buf_init(&o->b, TXT_OUT_CHUNK * 2);
}

void txt_flush(struct txt_out *o)
{
    if (!o->c)
        return;
    sh_out(o->c, o->b.data, o->b.len);
    hp_buf_reset(&o->b);
}

void txt_put(struct txt_out *o, const void *p, size_t n)
{
    const uint8_t *s = p;
    if (!o->c) {                  /* collecting (sed -i): no flushing */
        hp_buf_put(&o->b, s, n);
        return;
    }
    while (n) {
        size_t room = TXT_OUT_CHUNK - (o->b.len < TXT_OUT_CHUNK ? o->b.len : TXT_OUT_CHUNK);
        if (room == 0) {
            txt_flush(o);
            continue;
        }
        size_t k = n < room ? n : room;
        hp_buf_put(&o->b, s, k);
        s += k;
        n -= k;
    }
}

void txt_putc(struct txt_out *o, char ch) { txt_put(o, &ch, 1); }
void txt_puts(struct txt_out *o, const char *s) { txt_put(o, s, strlen(s)); }

void txt_printf(struct txt_out *o, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(tmp)) {
        txt_put(o, tmp, (size_t)n);
        return;
    }
    struct hp_buf b;
    hp_buf_init(&b, (size_t)n + 1);
    va_start(ap, fmt);
    hp_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    txt_put(o, b.data, b.len);
    hp_buf_free(&b);
}

void txt_out_done(struct txt_out *o)
{
    txt_flush(o);
    hp_buf_free(&o->b);
}

int txt_load(struct sh_cmd *c, const char *name, bool *stdin_used, struct hp_buf *b,
             const uint8_t **data, size_t *len)
{
    hp_buf_free(b);
    hp_buf_init(b, TXT_LOAD_MAX);
    *data = (const uint8_t *)"";
    *len = 0;
    if (!name || strcmp(name, "-") == 0) {
        /* copied, so that every subject handed to regexec is NUL-terminated
         * (glibc stops at REG_STARTEND's end; sanitizers' interceptors do not) */
        if (!*stdin_used && c->in && c->in_len) {
            hp_buf_put(b, c->in, c->in_len);
            hp_buf_cstr(b);
            *data = b->data ? b->data : (const uint8_t *)"";
            *len = b->len;
        }
        *stdin_used = true;
        return 0;
    }
    char path[4096];
    if (sh_path(c, name, path, sizeof(path)) < 0)
        return -ENAMETOOLONG;
    if (!c->fs)
        return -ENOENT;
    struct sh_stat st;
    int r = sh_vfs_stat(c->fs, path, true, &st);
    if (r < 0)
        return r;
    if (st.type == SH_FT_DIR)
        return -EISDIR;
    long n = sh_vfs_read(c->fs, path, 0, 0, b);
    if (n < 0)
        return (int)n;
    hp_buf_cstr(b);
    *data = b->data ? b->data : (const uint8_t *)"";
    *len = b->len;
    return 0;
}

bool txt_line(const uint8_t *d, size_t len, size_t *pos, const uint8_t **line, size_t *n, bool *nl)
{
    if (*pos >= len)
        return false;
    const uint8_t *s = d + *pos;
    const uint8_t *e = memchr(s, '\n', len - *pos);
    *line = s;
    if (e) {
        *n = (size_t)(e - s);
        *nl = true;
        *pos += *n + 1;
    } else {
        *n = len - *pos;
        *nl = false;
        *pos = len;
    }
    return true;
}

/* glibc getopt's complaint, for tools that add their own usage lines. */
static void txt_optmsg(struct sh_cmd *c, const char *prog, const struct sys_getopt *g)
{
    if (g->longarg_extra)
        sh_errf(c, "%s: option '--%s' doesn't allow an argument\n", prog, g->bad);
    else if (g->missing && g->badlong)
        sh_errf(c, "%s: option '--%s' requires an argument\n", prog, g->bad);
    else if (g->missing)
        sh_errf(c, "%s: option requires an argument -- '%c'\n", prog, g->badc);
    else if (g->badlong) {
        const char *eq = strchr(g->bad, '=');
        sh_errf(c, "%s: unrecognized option '%.*s'\n", prog,
                eq ? (int)(eq - g->bad) : (int)strlen(g->bad), g->bad);
    } else
        sh_errf(c, "%s: invalid option -- '%c'\n", prog, g->badc);
}

/* ---- guarded regular expressions ---- */

static struct timespec re_deadline;

static int64_t txt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void txt_re_budget(void)
{
    int64_t d = txt_now_ns() + TXT_RE_BUDGET_NS;
    re_deadline.tv_sec = (time_t)(d / 1000000000LL);
    re_deadline.tv_nsec = (long)(d % 1000000000LL);
}

static bool txt_re_expired(void)
{
    if (re_deadline.tv_sec == 0)
        return false;
    int64_t d = (int64_t)re_deadline.tv_sec * 1000000000LL + re_deadline.tv_nsec;
    return txt_now_ns() > d;
}

/* What makes glibc's compiler or matcher blow up: nested counted
 * repetitions multiply the automaton ({255}{255}{255}), back-references
 * make matching exponential.  Count both conservatively. */
static int txt_re_guard(const char *p, size_t n, int cflags, unsigned *backrefs)
{
    bool ere = (cflags & REG_EXTENDED) != 0;
    double product = 1;
    *backrefs = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n) {
            char ch = p[i + 1];
            if (ch >= '1' && ch <= '9')
                (*backrefs)++;
            if (!ere && ch == '{') {
                long v = strtol(p + i + 2 < p + n ? p + i + 2 : "", NULL, 10);
                const char *comma = memchr(p + i, ',', n - i);
                long v2 = comma && comma + 1 < p + n ? strtol(comma + 1, NULL, 10) : 0;
                product *= (double)((v > v2 ? v : v2) + 1);
            }
            i++;
            continue;
        }
        if (ere && p[i] == '{' && i + 1 < n && isdigit((unsigned char)p[i + 1])) {
            long v = strtol(p + i + 1, NULL, 10);
            const char *comma = memchr(p + i, ',', n - i);
            long v2 = comma && comma + 1 < p + n ? strtol(comma + 1, NULL, 10) : 0;
            product *= (double)((v > v2 ? v : v2) + 1);
        }
    }
    if (product > 20000)
        return REG_ESIZE;
    if (*backrefs > 3)
        return REG_ESUBREG;
    return 0;
}

int txt_re_comp(struct txt_re *r, const char *pat, size_t len, int cflags, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    int rc;
    if (len > TXT_RE_MAX)
        rc = REG_ESIZE;
    else if (memchr(pat, '\0', len))
        rc = REG_BADPAT;
    else
        rc = txt_re_guard(pat, len, cflags, &r->backrefs);
    if (rc) {
        snprintf(err, errlen, "%s", rc == REG_ESIZE ? "Regular expression too big"
                                    : rc == REG_ESUBREG ? "Invalid back reference"
                                                        : "Invalid regular expression");
        return rc;
    }
    char *z = malloc(len + 1);
    if (!z) {
        snprintf(err, errlen, "Memory exhausted");
        return REG_ESPACE;
    }
    memcpy(z, pat, len);
    z[len] = '\0';
    rc = regcomp(&r->re, z, cflags);
    free(z);
    if (rc) {
        regerror(rc, &r->re, err, errlen);
        return rc;
    }
    r->ok = true;
    return 0;
}

int txt_re_exec(struct txt_re *r, const uint8_t *s, size_t len, size_t from, size_t nm,
                regmatch_t *m, int eflags)
{
    regmatch_t one[1];
    if (!r->ok || from > len || txt_re_expired())
        return REG_NOMATCH;
    /* Back-references: only short subjects (exponential matcher). */
    if (r->backrefs && len - from > (r->backrefs > 1 ? 16u : 48u))
        return REG_NOMATCH;
    if (nm == 0) {
        m = one;
        nm = 1;
    }
    m[0].rm_so = (regoff_t)from;
    m[0].rm_eo = (regoff_t)len;
    return regexec(&r->re, (const char *)s, nm, m, eflags | REG_STARTEND);
}

void txt_re_free(struct txt_re *r)
{
    if (r->ok)
        regfree(&r->re);
    r->ok = false;
}

/* ==== grep ====================================================================== */

#define GREP_PATS_MAX 256
#define GREP_FILES_MAX 5000
#define GREP_DEPTH_MAX 32

enum { GO_COLOR = 256, GO_LABEL, GO_INCLUDE, GO_EXCLUDE, GO_HELP, GO_VERSION, GO_BINFILES, GO_NULL_DATA };

struct grep {
    struct sh_cmd *c;
    struct txt_out o;
    bool bb;
    bool i, v, cnt, only, num, list, list_non, quiet, nomsg, word, line, text, null_after;
    int with_name;                /* -1 default, 0 -h, 1 -H */
    int mode;                     /* 'G', 'E', 'F' */
    int recurse;                  /* 0, 1 (-r), 2 (-R) */
    long max;                     /* -m; -1 none */
    long after, before;           /* -A -B */
    const char *label;
    struct txt_re pats[GREP_PATS_MAX];
    size_t npats;
    bool matched, error, stop, implicit;
    unsigned files;
    bool stdin_used;
};

static bool grep_wordc(uint8_t ch) { return isalnum(ch) || ch == '_'; }

/* Append one pattern (-F ones become BRE with every special escaped). */
static int grep_add(struct grep *g, const char *p, size_t n)
{
    if (g->npats >= GREP_PATS_MAX)
        return 0;
    struct hp_buf b;
    hp_buf_init(&b, TXT_RE_MAX * 2 + 16);
    if (g->mode == 'F') {
        for (size_t k = 0; k < n; k++) {
            if (strchr("\\.[]*^$", p[k]))
                hp_buf_putc(&b, '\\');
            hp_buf_putc(&b, (uint8_t)p[k]);
        }
    } else
        hp_buf_put(&b, p, n);
    char err[256];
    int fl = (g->mode == 'E' ? REG_EXTENDED : 0) | (g->i ? REG_ICASE : 0) | REG_NEWLINE;
    int rc = txt_re_comp(&g->pats[g->npats], b.data ? (const char *)b.data : "", b.len, fl, err,
                         sizeof(err));
    hp_buf_free(&b);
    if (rc) {
        sh_errmsg(g->c, "%s", err);
        return -1;
    }
    g->npats++;
    return 0;
}

/* Patterns are newline-separated lists (grep -e 'a\nb' is two). */
static int grep_add_list(struct grep *g, const char *p, size_t n)
{
    size_t pos = 0;
    const uint8_t *l;
    size_t ln;
    bool nl;
    if (n == 0)
        return grep_add(g, "", 0);
    while (txt_line((const uint8_t *)p, n, &pos, &l, &ln, &nl))
        if (grep_add(g, (const char *)l, ln) < 0)
            return -1;
    return 0;
}

/* The leftmost match of any pattern in [from, n) meeting -w / -x. */
static bool grep_find(struct grep *g, const uint8_t *s, size_t n, size_t from, size_t *so, size_t *eo)
{
    bool found = false;
    for (size_t k = 0; k < g->npats; k++) {
        size_t start = from;
        while (start <= n) {
            regmatch_t m[1];
            if (txt_re_exec(&g->pats[k], s, n, start, 1, m, 0) != 0)
                break;
            size_t a = (size_t)m[0].rm_so, b = (size_t)m[0].rm_eo;
            bool good = true;
            if (g->line)
                good = a == 0 && b == n;
            else if (g->word)
                good = (a == 0 || !grep_wordc(s[a - 1])) && (b == n || !grep_wordc(s[b])) && b > a;
            if (good) {
                if (!found || a < *so || (a == *so && b > *eo)) {
                    *so = a;
                    *eo = b;
                    found = true;
                }
                break;
            }
            if (g->line)
                break;
            start = a + 1;
        }
    }
    return found;
}

static void grep_prefix(struct grep *g, const char *name, long lineno, char sep)
{
    if (g->with_name == 1) {
        txt_puts(&g->o, name);
        txt_putc(&g->o, sep);
    }
    if (g->num)
        txt_printf(&g->o, "%ld%c", lineno, sep);
}

/* Search one input; name is what the prefixes and messages show. */
static void grep_buffer(struct grep *g, const char *name, const uint8_t *d, size_t len)
{
    bool binary = !g->text && memchr(d, '\0', len) != NULL;
    bool out_lines = !g->quiet && !g->cnt && !g->list && !g->list_non;
    long count = 0, lineno = 0, last_printed = 0, after_left = 0;
    size_t pos = 0, lstart = 0;
    const uint8_t *l;
    size_t n;
    bool nl;
    (void)lstart;
    while (!g->stop && (g->max < 0 || count < g->max) && txt_line(d, len, &pos, &l, &n, &nl)) {
        lineno++;
        size_t so = 0, eo = 0;
        bool hit = grep_find(g, l, n, 0, &so, &eo) != g->v;
        if (!hit) {
            if (after_left > 0 && out_lines && !binary) {
                after_left--;
                grep_prefix(g, name, lineno, '-');
                txt_put(&g->o, l, n);
                txt_putc(&g->o, '\n');
                last_printed = lineno;
            }
            continue;
        }
        count++;
        g->matched = true;
        if (g->quiet) {
            g->stop = true;
            break;
        }
        if (g->list || g->list_non)
            break;
        if (!out_lines || binary)
            continue;
        if (g->before > 0 || g->after > 0) {
            if (last_printed && lineno - last_printed > 1 + g->before)
                txt_puts(&g->o, "--\n");
            /* lines before: walk back over at most before lines */
            long want = g->before;
            if (last_printed && lineno - 1 - last_printed < want)
                want = lineno - 1 - last_printed;
            if (want > lineno - 1)
                want = lineno - 1;
            const uint8_t *p = l;
            long got = 0;
            while (got < want && p > d) {
                const uint8_t *q = p - 1;         /* the '\n' ending the previous line */
                while (q > d && q[-1] != '\n')
                    q--;
                p = q;
                got++;
            }
            for (long k = got; k > 0; k--) {
                const uint8_t *e = memchr(p, '\n', (size_t)(l - p));
                grep_prefix(g, name, lineno - k, '-');
                txt_put(&g->o, p, (size_t)(e - p));
                txt_putc(&g->o, '\n');
                p = e + 1;
            }
            after_left = g->after;
        }
        last_printed = lineno;
        if (g->only) {
            if (g->v)
                continue;
            size_t from = 0;
            while (from <= n && grep_find(g, l, n, from, &so, &eo)) {
                if (eo > so) {
                    grep_prefix(g, name, lineno, ':');
                    txt_put(&g->o, l + so, eo - so);
                    txt_putc(&g->o, '\n');
                    from = eo;
                } else
                    from = so + 1;
            }
            continue;
        }
        grep_prefix(g, name, lineno, ':');
        txt_put(&g->o, l, n);
        txt_putc(&g->o, '\n');
    }
    if (g->cnt) {
        if (g->with_name == 1) {
            txt_puts(&g->o, name);
            txt_putc(&g->o, ':');
        }
        txt_printf(&g->o, "%ld\n", count);
    }
    if ((g->list && count) || (g->list_non && !count)) {
        txt_puts(&g->o, name);
        txt_putc(&g->o, '\n');
    }
    if (binary && count && out_lines) {
        txt_flush(&g->o);
        if (g->bb)
            txt_printf(&g->o, "Binary file %s matches\n", name);
        else
            sh_errf(g->c, "grep: %s: binary file matches\n", name);
    }
}

static void grep_fail(struct grep *g, const char *name, int err)
{
    g->error = true;
    if (g->nomsg)
        return;
    txt_flush(&g->o);
    sh_errf(g->c, "grep: %s: %s\n", name, sh_strerror(err));
}

struct grep_walk {
    struct grep *g;
    const char *dir;              /* as shown */
    unsigned depth;
    char **names;
    size_t n, cap;
};

static void grep_path(struct grep *g, const char *name, bool top, unsigned depth);

static int grep_walk_cb(void *arg, const char *name, const struct sh_stat *st)
{
    struct grep_walk *w = arg;
    (void)st;
    if (w->n >= 4096)
        return 1;
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 32;
        char **nn = realloc(w->names, nc * sizeof(*nn));
        if (!nn)
            return 1;
        w->names = nn;
        w->cap = nc;
    }
    w->names[w->n] = strdup(name);
    if (w->names[w->n])
        w->n++;
    return 0;
}

static void grep_dir(struct grep *g, const char *name, const char *path, unsigned depth)
{
    if (depth >= GREP_DEPTH_MAX)
        return;
    struct grep_walk w = { .g = g, .dir = name, .depth = depth };
    long r = sh_vfs_list(g->c->fs, path, grep_walk_cb, &w);
    if (r < 0)
        grep_fail(g, name, (int)r);
    for (size_t k = 0; k < w.n; k++) {
        if (!g->stop && g->files < GREP_FILES_MAX) {
            char sub[4096];
            bool dot = g->implicit && depth == 0;
            int m = dot ? snprintf(sub, sizeof(sub), "%s", w.names[k])
                        : snprintf(sub, sizeof(sub), "%s%s%s", name,
                                   name[strlen(name) - 1] == '/' ? "" : "/", w.names[k]);
            if (m > 0 && (size_t)m < sizeof(sub))
                grep_path(g, sub, false, depth + 1);
        }
        free(w.names[k]);
    }
    free(w.names);
}

static void grep_path(struct grep *g, const char *name, bool top, unsigned depth)
{
    struct hp_buf b = { 0 };
    const uint8_t *d;
    size_t len;
    g->files++;
    if (strcmp(name, "-") != 0 && g->recurse) {
        char path[4096];
        struct sh_stat st;
        if (sh_path(g->c, name, path, sizeof(path)) == 0 && g->c->fs &&
            sh_vfs_stat(g->c->fs, path, top || g->recurse == 2, &st) == 0) {
            if (st.type == SH_FT_DIR) {
                grep_dir(g, name, path, depth);
                return;
            }
            if (st.type == SH_FT_LNK || (!top && st.type != SH_FT_REG))
                return;
        }
    }
    int r = txt_load(g->c, name, &g->stdin_used, &b, &d, &len);
    if (r < 0)
        grep_fail(g, name, r);
    else
        grep_buffer(g, strcmp(name, "-") == 0 ? (g->label ? g->label : "(standard input)") : name, d,
                    len);
    hp_buf_free(&b);
}

static const struct sys_longopt grep_longs[] = {
    { "extended-regexp", 0, 'E' }, { "fixed-strings", 0, 'F' }, { "basic-regexp", 0, 'G' },
    { "perl-regexp", 0, 'P' }, { "regexp", 1, 'e' }, { "file", 1, 'f' },
    { "ignore-case", 0, 'i' }, { "no-ignore-case", 0, 'Y' }, { "word-regexp", 0, 'w' },
    { "line-regexp", 0, 'x' }, { "no-messages", 0, 's' }, { "invert-match", 0, 'v' },
    { "version", 0, GO_VERSION }, { "help", 0, GO_HELP }, { "max-count", 1, 'm' },
    { "byte-offset", 0, 'b' }, { "line-number", 0, 'n' }, { "with-filename", 0, 'H' },
    { "no-filename", 0, 'h' }, { "label", 1, GO_LABEL }, { "only-matching", 0, 'o' },
    { "quiet", 0, 'q' }, { "silent", 0, 'q' }, { "binary-files", 1, GO_BINFILES },
    { "text", 0, 'a' }, { "recursive", 0, 'r' }, { "dereference-recursive", 0, 'R' },
    { "include", 1, GO_INCLUDE }, { "exclude", 1, GO_EXCLUDE }, { "exclude-dir", 1, GO_EXCLUDE },
    { "files-without-match", 0, 'L' }, { "files-with-matches", 0, 'l' }, { "count", 0, 'c' },
    { "null", 0, 'Z' }, { "null-data", 0, GO_NULL_DATA }, { "color", 2, GO_COLOR },
    { "colour", 2, GO_COLOR }, { "before-context", 1, 'B' }, { "after-context", 1, 'A' },
    { "context", 1, 'C' }, { "initial-tab", 0, 'T' }, { "line-buffered", 0, 'U' },
    { NULL, 0, 0 },
};

static int grep_usage(struct sh_cmd *c, struct grep *g, const struct sys_getopt *go)
{
    if (g->bb) {
        sys_usage_bb(c, "grep", go, "[-HhnlLoqvsrRiwFE] [-m N] [-A|B|C N] { PATTERN | -e PATTERN... "
                                   "| -f FILE... } [FILE]...");
        return 2;
    }
    if (go && (go->badc || go->bad))
        txt_optmsg(c, "grep", go);
    sh_errs(c, "Usage: grep [OPTION]... PATTERNS [FILE]...\n"
               "Try 'grep --help' for more information.\n");
    return 2;
}

static bool grep_num(struct sh_cmd *c, const char *a, long *out, const char *what)
{
    if (!sh_parse_long(a, out) || *out < 0) {
        sh_errf(c, "grep: %s: invalid %s argument\n", a, what);
        return false;
    }
    return true;
}

static void grep_cleanup(struct grep *g)
{
    for (size_t k = 0; k < g->npats; k++)
        txt_re_free(&g->pats[k]);
    txt_out_done(&g->o);
}

static int grep_main(struct sh_cmd *c, int mode)
{
    struct grep *g = calloc(1, sizeof(*g));
    if (!g)
        return 2;
    g->c = c;
    g->bb = c->persona && c->persona->busybox;
    g->with_name = -1;
    g->mode = mode;
    g->max = -1;
    txt_out_init(&g->o, c);
    txt_re_budget();
    const char *pe[GREP_PATS_MAX];
    int npe = 0;
    const char *pf[16];
    int npf = 0;
    struct sys_getopt go;
    sys_getopt_init(&go, c->argc, c->argv, false);
    int ch, rc = 0;
    const char *shorts = g->bb ? "HhnlLoqvsrRiwFEe:f:m:A:B:C:cxaIZz" : "EFGPe:f:iyYwxsvVm:bnHhoqaIrRLlcZzTUA:B:C:";
    while ((ch = sys_getopt(&go, shorts, g->bb ? NULL : grep_longs)) != -1) {
        switch (ch) {
        case 'E': g->mode = 'E'; break;
        case 'F': g->mode = 'F'; break;
        case 'G': g->mode = 'G'; break;
        case 'P': g->mode = 'E'; break;
        case 'e': if (npe < GREP_PATS_MAX) pe[npe++] = go.optarg; break;
        case 'f': if (npf < 16) pf[npf++] = go.optarg; break;
        case 'i': case 'y': g->i = true; break;
        case 'Y': g->i = false; break;
        case 'w': g->word = true; break;
        case 'x': g->line = true; break;
        case 's': g->nomsg = true; break;
        case 'v': g->v = true; break;
        case 'm': if (!grep_num(c, go.optarg, &g->max, "max count")) rc = 2; break;
        case 'A': if (!grep_num(c, go.optarg, &g->after, "context length")) rc = 2; break;
        case 'B': if (!grep_num(c, go.optarg, &g->before, "context length")) rc = 2; break;
        case 'C':
            if (!grep_num(c, go.optarg, &g->after, "context length"))
                rc = 2;
            g->before = g->after;
            break;
        case 'n': g->num = true; break;
        case 'H': g->with_name = 1; break;
        case 'h': g->with_name = 0; break;
        case 'o': g->only = true; break;
        case 'q': g->quiet = true; break;
        case 'a': g->text = true; break;
        case 'r': g->recurse = 1; break;
        case 'R': g->recurse = 2; break;
        case 'L': g->list_non = true; g->list = false; break;
        case 'l': g->list = true; g->list_non = false; break;
        case 'c': g->cnt = true; break;
        case GO_LABEL: g->label = go.optarg; break;
        case GO_VERSION:
            sh_outs(c, "grep (GNU grep) 3.8\nCopyright (C) 2022 Free Software Foundation, Inc.\n"
                       "License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\n"
                       "This is free software: you are free to change and redistribute it.\n"
                       "There is NO WARRANTY, to the extent permitted by law.\n\n"
                       "Written by Mike Haertel and others; see\n"
                       "<https://git.sv.gnu.org/cgit/grep.git/tree/AUTHORS>.\n");
            grep_cleanup(g);
            free(g);
            return 0;
        case GO_HELP:
            sh_outs(c, "Usage: grep [OPTION]... PATTERNS [FILE]...\n"
                       "Search for PATTERNS in each FILE.\n"
                       "Example: grep -i 'hello world' menu.h main.c\n"
                       "PATTERNS can contain multiple patterns separated by newlines.\n");
            grep_cleanup(g);
            free(g);
            return 0;
        case '?': case ':':
            rc = grep_usage(c, g, &go);
            grep_cleanup(g);
            free(g);
            return rc;
        default: break;           /* accepted and ignored: -b -I -Z -T -U --color ... */
        }
        if (rc) {
            grep_cleanup(g);
            free(g);
            return rc;
        }
    }
    char **ops = go.operands;
    int nops = go.noperands;
    if (npe == 0 && npf == 0) {
        if (nops == 0) {
            rc = grep_usage(c, g, NULL);
            grep_cleanup(g);
            free(g);
            return rc;
        }
        if (grep_add_list(g, ops[0], strlen(ops[0])) < 0)
            rc = 2;
        ops++;
        nops--;
    }
    for (int k = 0; k < npe && !rc; k++)
        if (grep_add_list(g, pe[k], strlen(pe[k])) < 0)
            rc = 2;
    for (int k = 0; k < npf && !rc; k++) {
        struct hp_buf b = { 0 };
        const uint8_t *d;
        size_t len;
        int r = txt_load(c, pf[k], &g->stdin_used, &b, &d, &len);
        if (r < 0) {
            sh_errf(c, "grep: %s: %s\n", pf[k], sh_strerror(r));
            rc = 2;
        } else if (len && grep_add_list(g, (const char *)d, len - (d[len - 1] == '\n')) < 0)
            rc = 2;
        hp_buf_free(&b);
    }
    if (rc) {
        grep_cleanup(g);
        free(g);
        return rc;
    }
    if (g->with_name < 0)
        g->with_name = nops > 1 || (g->recurse && !(nops == 1 && strcmp(ops[0], "-") == 0) &&
                                    !(nops == 0 && g->bb));
    if (nops == 0) {
        if (g->recurse && !g->bb) {
            g->implicit = true;
            grep_path(g, ".", true, 0);
        } else
            grep_path(g, "-", true, 0);
    }
    for (int k = 0; k < nops && !g->stop; k++)
        grep_path(g, ops[k], true, 0);
    rc = g->error && !(g->quiet && g->matched) ? 2 : g->matched ? 0 : 1;
    grep_cleanup(g);
    free(g);
    return rc;
}

static int cmd_grep(struct sh_cmd *c) { return grep_main(c, 'G'); }
static int cmd_egrep(struct sh_cmd *c) { return grep_main(c, 'E'); }
static int cmd_fgrep(struct sh_cmd *c) { return grep_main(c, 'F'); }

/* ==== sed ======================================================================= */

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
        txt_optmsg(s->c, "sed", go);
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
    txt_re_budget();
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
    while ((ch = sys_getopt(&go, "nrEe:f:il:suz", s->bb ? NULL : sed_longs)) != -1) {
        switch (ch) {
        case 'n': s->quiet = true; break;
        case 'r': case 'E': s->ere = true; break;
        case 'e': case 'f':
            if (nexpr < 64) {
                expr_file[nexpr] = ch == 'f';
                exprs[nexpr++] = go.optarg;
            }
            break;
        case 'i':                 /* -i[SUFFIX]: the rest of the bundle (glibc's optional argument) */
            inplace = true;
            if (go.optarg)
                suffix = go.optarg;
            else if (go.sub) {
                suffix = go.argv[go.idx - 1] + go.sub;
                go.sub = 0;
            }
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

/* ==== small filters: base64, tee, rev, yes, seq ================================== */

/* Each operand (or stdin) whole, for programs that concatenate their inputs;
 * "PROG: NAME: error" on failure (GNU and busybox agree for these). */
static int txt_cat_inputs(struct sh_cmd *c, const char *prog, char **ops, int nops, struct hp_buf *all)
{
    int rc = 0;
    bool used = false;
    struct hp_buf b = { 0 };
    for (int k = 0; k < (nops ? nops : 1); k++) {
        const uint8_t *d;
        size_t n;
        int r = txt_load(c, nops ? ops[k] : "-", &used, &b, &d, &n);
        if (r < 0) {
            sh_errf(c, "%s: %s: %s\n", prog, ops[k], sh_strerror(r));
            rc = 1;
            continue;
        }
        hp_buf_put(all, d, n);
    }
    hp_buf_free(&b);
    return rc;
}

static const char b64_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_val(uint8_t ch)
{
    const char *p = ch ? strchr(b64_alpha, ch) : NULL;
    return p ? (int)(p - b64_alpha) : -1;
}

static int cmd_base64(struct sh_cmd *c)
{
    bool bb = c->persona && c->persona->busybox, dec = false, ign = false;
    long wrap = 76;
    static const struct sys_longopt longs[] = { { "decode", 0, 'd' }, { "ignore-garbage", 0, 'i' },
                                                { "wrap", 1, 'w' }, { NULL, 0, 0 } };
    struct sys_getopt go;
    sys_getopt_init(&go, c->argc, c->argv, false);
    int ch;
    while ((ch = sys_getopt(&go, "diw:", bb ? NULL : longs)) != -1) {
        if (ch == 'd')
            dec = true;
        else if (ch == 'i')
            ign = true;
        else if (ch == 'w') {
            if (!sh_parse_long(go.optarg, &wrap) || wrap < 0) {
                sh_errf(c, "base64: invalid wrap size: " TXT_LQ "%s" TXT_RQ "\n", go.optarg);
                return 1;
            }
        } else if (bb)
            return sys_usage_bb(c, "base64", &go, "[-d] [-w COL] [FILE]");
        else
            return sys_usage_gnu(c, "base64", &go, 1);
    }
    if (go.noperands > 1) {
        if (bb)
            return sys_usage_bb(c, "base64", NULL, "[-d] [-w COL] [FILE]");
        return sys_extra_operand(c, "base64", go.operands[1], 1);
    }
    struct hp_buf in;
    hp_buf_init(&in, SH_VFS_FILE_MAX * 2);
    if (txt_cat_inputs(c, "base64", go.operands, go.noperands, &in)) {
        hp_buf_free(&in);
        return 1;
    }
    struct txt_out o;
    txt_out_init(&o, c);
    int rc = 0;
    if (dec) {
        unsigned acc = 0;
        int bits = 0, pad = 0;
        for (size_t i = 0; i < in.len; i++) {
            uint8_t x = in.data[i];
            if (x == '\n' || (bb && (x == ' ' || x == '\r' || x == '\t')))
                continue;
            if (x == '=') {
                pad++;
                continue;
            }
            int v = b64_val(x);
            if (v < 0 || pad) {
                if (ign && v < 0)
                    continue;
                rc = 1;
                break;
            }
            acc = (acc << 6) | (unsigned)v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                txt_putc(&o, (char)((acc >> bits) & 0xff));
            }
        }
        if (rc == 0 && bits >= 6 && !bb)
            rc = 1;               /* a lone trailing character */
        txt_flush(&o);
        if (rc)
            sh_errs(c, "base64: invalid input\n");
    } else {
        size_t col = 0;
        for (size_t i = 0; i < in.len; i += 3) {
            uint32_t v = (uint32_t)in.data[i] << 16;
            size_t n = in.len - i < 3 ? in.len - i : 3;
            if (n > 1)
                v |= (uint32_t)in.data[i + 1] << 8;
            if (n > 2)
                v |= in.data[i + 2];
            char q[4] = { b64_alpha[v >> 18], b64_alpha[(v >> 12) & 63],
                          n > 1 ? b64_alpha[(v >> 6) & 63] : '=', n > 2 ? b64_alpha[v & 63] : '=' };
            for (int k = 0; k < 4; k++) {
                txt_putc(&o, q[k]);
                if (wrap && ++col == (size_t)wrap) {
                    txt_putc(&o, '\n');
                    col = 0;
                }
            }
        }
        if (col || (in.len == 0 && 0))
            txt_putc(&o, '\n');
    }
    txt_out_done(&o);
    hp_buf_free(&in);
    return rc;
}

static int cmd_tee(struct sh_cmd *c)
{
    bool append = false;
    static const struct sys_longopt longs[] = { { "append", 0, 'a' }, { "ignore-interrupts", 0, 'i' },
                                                { NULL, 0, 0 } };
    struct sys_getopt go;
    sys_getopt_init(&go, c->argc, c->argv, false);
    int ch, rc = 0;
    bool bb = c->persona && c->persona->busybox;
    while ((ch = sys_getopt(&go, "aip", bb ? NULL : longs)) != -1) {
        if (ch == 'a')
            append = true;
        else if (ch == '?' || ch == ':')
            return bb ? sys_usage_bb(c, "tee", &go, "[-ai] [FILE]...") : sys_usage_gnu(c, "tee", &go, 1);
    }
    for (int k = 0; k < go.noperands; k++) {
        char path[4096];
        long r = sh_path(c, go.operands[k], path, sizeof(path));
        if (r == 0)
            r = c->fs ? sh_vfs_write(c->fs, path, c->in ? c->in : (const uint8_t *)"", c->in_len,
                                     SH_O_CREAT | (append ? SH_O_APPEND : SH_O_TRUNC), 0644)
                      : -EROFS;
        if (r < 0) {
            sh_errf(c, "tee: %s: %s\n", go.operands[k], sh_strerror((int)r));
            rc = 1;
        }
    }
    sh_out(c, c->in, c->in_len);
    return rc;
}

static int cmd_rev(struct sh_cmd *c)
{
    struct hp_buf in;
    hp_buf_init(&in, SH_VFS_FILE_MAX * 2);
    int rc = txt_cat_inputs(c, "rev", c->argv + 1, c->argc - 1, &in);
    struct txt_out o;
    txt_out_init(&o, c);
    size_t pos = 0, n;
    const uint8_t *l;
    bool nl;
    while (txt_line(in.data, in.len, &pos, &l, &n, &nl)) {
        for (size_t i = n; i > 0; i--)
            txt_putc(&o, (char)l[i - 1]);
        if (nl)
            txt_putc(&o, '\n');
    }
    txt_out_done(&o);
    hp_buf_free(&in);
    return rc;
}

/* yes: bounded by the interpreter's output cap; stop at 1 MiB ourselves. */
static int cmd_yes(struct sh_cmd *c)
{
    struct hp_buf line;
    hp_buf_init(&line, 1u << 16);
    for (int k = 1; k < c->argc; k++) {
        if (k > 1)
            hp_buf_putc(&line, ' ');
        hp_buf_puts(&line, c->argv[k]);
    }
    if (c->argc < 2)
        hp_buf_putc(&line, 'y');
    hp_buf_putc(&line, '\n');
    struct txt_out o;
    txt_out_init(&o, c);
    for (size_t total = 0; total < (1u << 20); total += line.len)
        txt_put(&o, line.data, line.len);
    txt_out_done(&o);
    hp_buf_free(&line);
    return 0;
}

#define SEQ_MAX 100000L

static int cmd_seq(struct sh_cmd *c)
{
    const char *sep = "\n";
    bool eqw = false;
    int i = 1;
    for (; i < c->argc && c->argv[i][0] == '-' && !isdigit((unsigned char)c->argv[i][1]) &&
           c->argv[i][1] != '.'; i++) {
        if (strcmp(c->argv[i], "-s") == 0 && i + 1 < c->argc)
            sep = c->argv[++i];
        else if (strncmp(c->argv[i], "-s", 2) == 0)
            sep = c->argv[i] + 2;
        else if (strcmp(c->argv[i], "-w") == 0)
            eqw = true;
        else if (strcmp(c->argv[i], "--") == 0) {
            i++;
            break;
        } else {
            struct sys_getopt go = { .badc = c->argv[i][1], .bad = c->argv[i] };
            return sys_usage_gnu(c, "seq", &go, 1);
        }
    }
    int n = c->argc - i;
    if (n < 1)
        return sys_missing_operand(c, "seq", 1);
    if (n > 3)
        return sys_extra_operand(c, "seq", c->argv[i + 3], 1);
    double v[3];
    int prec = 0;
    for (int k = 0; k < n; k++) {
        char *end;
        v[k] = strtod(c->argv[i + k], &end);
        if (*end || end == c->argv[i + k] || isnan(v[k])) {
            sh_errf(c, "seq: invalid floating point argument: " TXT_LQ "%s" TXT_RQ "\n", c->argv[i + k]);
            return sys_usage_gnu(c, "seq", NULL, 1);
        }
        const char *dot = strchr(c->argv[i + k], '.');
        if (dot && k < 2 && (int)strlen(dot + 1) > prec)
            prec = (int)strlen(dot + 1);
    }
    double first = n > 1 ? v[0] : 1, inc = n > 2 ? v[1] : 1, last = v[n - 1];
    if (inc == 0) {
        sh_errf(c, "seq: invalid Zero increment value: " TXT_LQ "%s" TXT_RQ "\n", c->argv[i + 1]);
        return sys_usage_gnu(c, "seq", NULL, 1);
    }
    if (prec > 20)
        prec = 20;
    int width = 0;
    if (eqw) {
        char t[64];
        width = snprintf(t, sizeof(t), "%.*f", prec, first);
        int w2 = snprintf(t, sizeof(t), "%.*f", prec, last);
        width = w2 > width ? w2 : width;
    }
    struct txt_out o;
    txt_out_init(&o, c);
    long count = 0;
    for (double x = first; (inc > 0 ? x <= last : x >= last) && count < SEQ_MAX; count++) {
        if (count)
            txt_puts(&o, sep);
        txt_printf(&o, eqw ? "%0*.*f" : "%*.*f", width, prec, x);
        x = first + (double)(count + 1) * inc;
    }
    if (count)
        txt_putc(&o, '\n');
    txt_out_done(&o);
    return 0;
}

/* ==== tr ======================================================================= */

/* Expand a tr set (ranges, classes, escapes) into out; returns its length
 * or -1 with an error printed. */
static int tr_set(struct sh_cmd *c, const char *s, uint8_t *out, size_t max)
{
    static const struct { const char *name; int (*fn)(int); } classes[] = {
        { "alnum", isalnum }, { "alpha", isalpha }, { "blank", isblank }, { "cntrl", iscntrl },
        { "digit", isdigit }, { "graph", isgraph }, { "lower", islower }, { "print", isprint },
        { "punct", ispunct }, { "space", isspace }, { "upper", isupper }, { "xdigit", isxdigit },
    };
    size_t n = 0;
    for (size_t i = 0; s[i] && n < max;) {
        if (s[i] == '[' && s[i + 1] == ':') {
            const char *e = strstr(s + i + 2, ":]");
            bool found = false;
            for (size_t k = 0; e && k < sizeof(classes) / sizeof(classes[0]); k++)
                if ((size_t)(e - (s + i + 2)) == strlen(classes[k].name) &&
                    strncmp(s + i + 2, classes[k].name, strlen(classes[k].name)) == 0) {
                    for (int ch = 0; ch < 256 && n < max; ch++)
                        if (classes[k].fn(ch))
                            out[n++] = (uint8_t)ch;
                    i = (size_t)(e - s) + 2;
                    found = true;
                }
            if (found)
                continue;
            if (e) {
                sh_errf(c, "tr: invalid character class " TXT_LQ "%.*s" TXT_RQ "\n", (int)(e - s - i - 2), s + i + 2);
                return -1;
            }
        }
        int ch = (unsigned char)s[i++];
        if (ch == '\\' && s[i]) {
            int nx = (unsigned char)s[i++];
            const char *from = "nrtabfv\\", *to = "\n\r\t\a\b\f\v\\";
            const char *f = strchr(from, nx);
            if (nx >= '0' && nx <= '7') {
                ch = nx - '0';
                for (int k = 0; k < 2 && s[i] >= '0' && s[i] <= '7'; k++)
                    ch = ch * 8 + (s[i++] - '0');
                ch &= 255;
            } else
                ch = f ? to[f - from] : nx;
        }
        if (s[i] == '-' && s[i + 1]) {
            int hi = (unsigned char)s[i + 1];
            size_t skip = 2;
            if (hi == '\\' && s[i + 2]) {
                hi = (unsigned char)s[i + 2];
                skip = 3;
            }
            if (hi < ch) {
                sh_errf(c, "tr: range-endpoints of " TXT_LQ "%c-%c" TXT_RQ " are in reverse collating sequence order\n",
                        ch, hi);
                return -1;
            }
            for (int x = ch; x <= hi && n < max; x++)
                out[n++] = (uint8_t)x;
            i += skip;
            continue;
        }
        out[n++] = (uint8_t)ch;
    }
    return (int)n;
}

static int cmd_tr(struct sh_cmd *c)
{
    bool del = false, sq = false, comp = false, bb = c->persona && c->persona->busybox;
    static const struct sys_longopt longs[] = { { "delete", 0, 'd' }, { "squeeze-repeats", 0, 's' },
                                                { "complement", 0, 'c' }, { "truncate-set1", 0, 't' },
                                                { NULL, 0, 0 } };
    struct sys_getopt go;
    sys_getopt_init(&go, c->argc, c->argv, false);
    int ch;
    while ((ch = sys_getopt(&go, "dscCt", bb ? NULL : longs)) != -1) {
        if (ch == 'd')
            del = true;
        else if (ch == 's')
            sq = true;
        else if (ch == 'c' || ch == 'C')
            comp = true;
        else if (ch == '?' || ch == ':')
            return bb ? sys_usage_bb(c, "tr", &go, "[-cds] STRING1 [STRING2]") : sys_usage_gnu(c, "tr", &go, 1);
    }
    int need = del && sq ? 2 : (del || sq) ? 1 : 2;
    if (go.noperands < need || (go.noperands < 1)) {
        if (bb)
            return sys_usage_bb(c, "tr", NULL, "[-cds] STRING1 [STRING2]");
        if (go.noperands == 0)
            return sys_missing_operand(c, "tr", 1);
        sh_errf(c, "tr: missing operand after " TXT_LQ "%s" TXT_RQ "\n", go.operands[go.noperands - 1]);
        sh_errs(c, del ? "" : "Two strings must be given when translating.\n");
        return sys_usage_gnu(c, "tr", NULL, 1);
    }
    int maxops = del && !sq ? 1 : 2;
    if (go.noperands > maxops && !bb)
        return sys_extra_operand(c, "tr", go.operands[maxops], 1);
    uint8_t s1[4096], s2[4096];
    int n1 = tr_set(c, go.operands[0], s1, sizeof(s1));
    int n2 = go.noperands > 1 ? tr_set(c, go.operands[1], s2, sizeof(s2)) : 0;
    if (n1 < 0 || n2 < 0)
        return 1;
    bool in1[256] = { false };
    for (int k = 0; k < n1; k++)
        in1[s1[k]] = true;
    if (comp)
        for (int k = 0; k < 256; k++)
            in1[k] = !in1[k];
    int map[256];
    for (int k = 0; k < 256; k++)
        map[k] = k;
    bool translate = !del && n2 > 0;
    if (translate) {
        if (comp) {
            for (int k = 0; k < 256; k++)
                if (in1[k])
                    map[k] = s2[n2 - 1];
        } else
            for (int k = 0; k < n1; k++)
                map[s1[k]] = s2[k < n2 ? k : n2 - 1];
    }
    bool sqset[256] = { false };
    if (sq) {
        if (go.noperands > 1 && (translate || del))
            for (int k = 0; k < n2; k++)
                sqset[s2[k]] = true;
        else
            memcpy(sqset, in1, sizeof(sqset));
    }
    struct txt_out o;
    txt_out_init(&o, c);
    int last = -1;
    for (size_t i = 0; i < c->in_len; i++) {
        int x = c->in[i];
        if (del && in1[x])
            continue;
        x = map[x];
        if (sq && sqset[x] && x == last)
            continue;
        last = x;
        txt_putc(&o, (char)x);
    }
    txt_out_done(&o);
    return 0;
}

/* ==== cut ====================================================================== */

#define CUT_RANGES_MAX 256

struct cut_range { long lo, hi; };

/* "1,3-5,7-" into ranges; false on a bad list (message printed). */
static bool cut_list(struct sh_cmd *c, const char *s, struct cut_range *r, int *n)
{
    *n = 0;
    const char *p = s;
    while (*p && *n < CUT_RANGES_MAX) {
        long lo = 1, hi = LONG_MAX;
        char *e;
        if (isdigit((unsigned char)*p)) {
            lo = strtol(p, &e, 10);
            p = e;
            hi = lo;
        }
        if (*p == '-') {
            p++;
            hi = LONG_MAX;
            if (isdigit((unsigned char)*p)) {
                hi = strtol(p, &e, 10);
                p = e;
            }
        }
        if (lo == 0 || hi == 0) {
            sh_errs(c, c->persona && c->persona->busybox ? "cut: fields and positions are numbered from 1\n"
                                                          : "cut: fields and positions are numbered from 1\n");
            return false;
        }
        if (lo > hi || (*p && *p != ',')) {
            sh_errs(c, lo > hi ? "cut: invalid decreasing range\n" : "cut: invalid field value\n");
            return false;
        }
        r[(*n)++] = (struct cut_range){ lo, hi };
        if (*p == ',')
            p++;
    }
    return *n > 0;
}

static bool cut_sel(const struct cut_range *r, int n, long i, bool comp)
{
    for (int k = 0; k < n; k++)
        if (i >= r[k].lo && i <= r[k].hi)
            return !comp;
    return comp;
}

static int cmd_cut(struct sh_cmd *c)
{
    bool bb = c->persona && c->persona->busybox, only = false, comp = false;
    char mode = 0, delim = '\t';
    const char *list = NULL, *odelim = NULL;
    static const struct sys_longopt longs[] = {
        { "bytes", 1, 'b' }, { "characters", 1, 'c' }, { "fields", 1, 'f' }, { "delimiter", 1, 'd' },
        { "only-delimited", 0, 's' }, { "complement", 0, 'C' }, { "output-delimiter", 1, 'O' },
        { NULL, 0, 0 } };
    struct sys_getopt go;
    sys_getopt_init(&go, c->argc, c->argv, false);
    int ch;
    while ((ch = sys_getopt(&go, "b:c:f:d:sn", bb ? NULL : longs)) != -1) {
        switch (ch) {
        case 'b': case 'c': case 'f':
            if (mode) {
                sh_errs(c, "cut: only one type of list may be specified\n");
                return bb ? 1 : sys_usage_gnu(c, "cut", NULL, 1);
            }
            mode = (char)ch;
            list = go.optarg;
            break;
        case 'd':
            if (strlen(go.optarg) > 1) {
                sh_errs(c, "cut: the delimiter must be a single character\n");
                return bb ? 1 : sys_usage_gnu(c, "cut", NULL, 1);
            }
            delim = go.optarg[0] ? go.optarg[0] : '\0';
            break;
        case 's': only = true; break;
        case 'C': comp = true; break;
        case 'O': odelim = go.optarg; break;
        case 'n': break;
        default:
            return bb ? sys_usage_bb(c, "cut", &go, "[OPTIONS] [FILE]...") : sys_usage_gnu(c, "cut", &go, 1);
        }
    }
    if (!mode) {
        if (bb)
            return sys_usage_bb(c, "cut", NULL, "[OPTIONS] [FILE]...");
        sh_errs(c, "cut: you must specify a list of bytes, characters, or fields\n");
        return sys_usage_gnu(c, "cut", NULL, 1);
    }
    struct cut_range r[CUT_RANGES_MAX];
    int nr;
    if (!cut_list(c, list, r, &nr))
        return bb ? 1 : sys_usage_gnu(c, "cut", NULL, 1);
    char od[2] = { delim, '\0' };
    if (!odelim)
        odelim = od;
    size_t odl = odelim == od ? 1 : strlen(odelim);
    struct txt_out o;
    txt_out_init(&o, c);
    struct hp_buf b = { 0 };
    bool used = false;
    int rc = 0;
    for (int k = 0; k < (go.noperands ? go.noperands : 1); k++) {
        const uint8_t *d;
        size_t len;
        int e = txt_load(c, go.noperands ? go.operands[k] : "-", &used, &b, &d, &len);
        if (e < 0) {
            txt_flush(&o);
            sh_errf(c, "cut: %s: %s\n", go.operands[k], sh_strerror(e));
            rc = 1;
            continue;
        }
        size_t pos = 0, n;
        const uint8_t *l;
        bool nl;
        while (txt_line(d, len, &pos, &l, &n, &nl)) {
            if (mode != 'f') {
                bool first = true;
                for (size_t i = 0; i < n; i++)
                    if (cut_sel(r, nr, (long)i + 1, comp)) {
                        if (odelim != od && !first && !cut_sel(r, nr, (long)i, comp))
                            txt_put(&o, odelim, odl);
                        txt_putc(&o, (char)l[i]);
                        first = false;
                    }
                txt_putc(&o, '\n');
                continue;
            }
            if (!memchr(l, delim, n)) {
                if (!only) {
                    txt_put(&o, l, n);
                    txt_putc(&o, '\n');
                }
                continue;
            }
            size_t st = 0;
            long f = 1;
            bool first = true;
            for (size_t i = 0; i <= n; i++) {
                if (i < n && l[i] != (uint8_t)delim)
                    continue;
                if (cut_sel(r, nr, f, comp)) {
                    if (!first)
                        txt_put(&o, odelim, odl);
                    txt_put(&o, l + st, i - st);
                    first = false;
                }
                f++;
                st = i + 1;
            }
            txt_putc(&o, '\n');
        }
    }
    hp_buf_free(&b);
    txt_out_done(&o);
    return rc;
}

/* ==== sort, uniq =================================================================== */

struct sort_opt {
    bool num, rev, uniq, fold, human;
    long key1, key2;              /* 0: the whole line */
    int tab;                      /* -1: blanks */
};

struct sort_line { const uint8_t *p; size_t n; };

static const struct sort_opt *sort_cur;

/* The key of a line: fields key1..key2 (1-based), by -t or blank runs. */
static void sort_key(const struct sort_line *l, const uint8_t **kp, size_t *kn)
{
    const struct sort_opt *o = sort_cur;
    *kp = l->p;
    *kn = l->n;
    if (!o->key1)
        return;
    size_t i = 0, st = 0, end = l->n;
    long f = 1;
    while (f < o->key1 && i < l->n) {
        if (o->tab >= 0) {
            while (i < l->n && l->p[i] != o->tab)
                i++;
            if (i < l->n)
                i++;
        } else {
            while (i < l->n && isblank(l->p[i]))
                i++;
            while (i < l->n && !isblank(l->p[i]))
                i++;
        }
        f++;
    }
    st = f == o->key1 ? i : l->n;
    if (o->key2) {
        size_t j = st;
        for (long g = o->key1; g <= o->key2 && j < l->n; g++) {
            if (o->tab >= 0) {
                if (g > o->key1)
                    j++;
                while (j < l->n && l->p[j] != o->tab)
                    j++;
            } else {
                while (j < l->n && isblank(l->p[j]))
                    j++;
                while (j < l->n && !isblank(l->p[j]))
                    j++;
            }
        }
        end = j;
    }
    *kp = l->p + st;
    *kn = end - st;
}

static double sort_num(const uint8_t *p, size_t n, bool human)
{
    char buf[64];
    size_t i = 0;
    while (i < n && isblank(p[i]))
        i++;
    size_t k = 0;
    while (i < n && k < sizeof(buf) - 1 && (isdigit(p[i]) || p[i] == '.' || (k == 0 && p[i] == '-')))
        buf[k++] = (char)p[i++];
    buf[k] = '\0';
    double v = strtod(buf, NULL);
    if (human && i < n) {
        const char *suf = strchr("KMGTPEZY", toupper(p[i]));
        if (suf && p[i])
            v *= pow(1024, (double)(suf - "KMGTPEZY" + 1));
    }
    return v;
}

static int sort_cmp_key(const struct sort_line *a, const struct sort_line *b)
{
    const struct sort_opt *o = sort_cur;
    const uint8_t *ka, *kb;
    size_t na, nb;
    sort_key(a, &ka, &na);
    sort_key(b, &kb, &nb);
    if (o->num || o->human) {
        double x = sort_num(ka, na, o->human), y = sort_num(kb, nb, o->human);
        return x < y ? -1 : x > y;
    }
    for (size_t i = 0; i < na && i < nb; i++) {
        int x = ka[i], y = kb[i];
        if (o->fold) {
            x = toupper(x);
            y = toupper(y);
        }
        if (x != y)
            return x - y;
    }
    return na < nb ? -1 : na > nb;
}

static int sort_cmp(const void *pa, const void *pb)
{
    const struct sort_line *a = pa, *b = pb;
    int r = sort_cmp_key(a, b);
    if (r == 0 && !sort_cur->uniq) {  /* last resort: the whole line, bytewise */
        size_t m = a->n < b->n ? a->n : b->n;
        r = memcmp(a->p, b->p, m);
        if (!r)
            r = a->n < b->n ? -1 : a->n > b->n;
    }
    return sort_cur->rev ? -r : r;
}

static int cmd_sort(struct sh_cmd *c)
{
    bool bb = c->persona && c->persona->busybox;
    struct sort_opt so = { .tab = -1 };
    const char *outfile = NULL;
    static const struct sys_longopt longs[] = {
        { "numeric-sort", 0, 'n' }, { "reverse", 0, 'r' }, { "unique", 0, 'u' }, { "key", 1, 'k' },
        { "field-separator", 1, 't' }, { "human-numeric-sort", 0, 'h' }, { "ignore-case", 0, 'f' },
        { "output", 1, 'o' }, { NULL, 0, 0 } };
    struct sys_getopt go;
    sys_getopt_init(&go, c->argc, c->argv, false);
    int ch;
    while ((ch = sys_getopt(&go, "nruk:t:hfo:bdsgVMRcmS:T:", bb ? NULL : longs)) != -1) {
        switch (ch) {
        case 'n': case 'g': so.num = true; break;
        case 'r': so.rev = true; break;
        case 'u': so.uniq = true; break;
        case 'h': so.human = true; break;
        case 'f': so.fold = true; break;
        case 'o': outfile = go.optarg; break;
        case 't':
            if (strlen(go.optarg) != 1) {
                sh_errf(c, "sort: multi-character tab " TXT_LQ "%s" TXT_RQ "\n", go.optarg);
                return 2;
            }
            so.tab = (unsigned char)go.optarg[0];
            break;
        case 'k': {
            char *e;
            so.key1 = strtol(go.optarg, &e, 10);
            if (*e == '.')
                strtol(e + 1, &e, 10);
            while (*e && isalpha((unsigned char)*e)) {
                if (*e == 'n')
                    so.num = true;
                else if (*e == 'r')
                    so.rev = true;
                else if (*e == 'h')
                    so.human = true;
                e++;
            }
            so.key2 = *e == ',' ? strtol(e + 1, NULL, 10) : 0;
            if (so.key1 <= 0) {
                sh_errf(c, "sort: field number is zero: invalid field specification " TXT_LQ "%s" TXT_RQ "\n",
                        go.optarg);
                return 2;
            }
            break;
        }
        case '?': case ':':
            if (bb)
                return sys_usage_bb(c, "sort", &go, "[-nrugMcszbdfiokt] [-o FILE] [-k START[.OFS][OPTS][,END[.OFS][OPTS]] [-t CHAR] [FILE]...");
            sys_usage_gnu(c, "sort", &go, 2);
            return 2;
        default: break;
        }
    }
    struct hp_buf in;
    hp_buf_init(&in, SH_VFS_FILE_MAX * 2);
    bool used = false;
    struct hp_buf b = { 0 };
    for (int k = 0; k < (go.noperands ? go.noperands : 1); k++) {
        const uint8_t *d;
        size_t n;
        int e = txt_load(c, go.noperands ? go.operands[k] : "-", &used, &b, &d, &n);
        if (e < 0) {
            if (bb)
                sh_errf(c, "sort: %s: %s\n", go.operands[k], sh_strerror(e));
            else
                sh_errf(c, "sort: %s %s: %s\n", e == -EISDIR ? "read failed:" : "cannot read:",
                        go.operands[k], sh_strerror(e));
            hp_buf_free(&b);
            hp_buf_free(&in);
            return 2;
        }
        hp_buf_put(&in, d, n);
        if (n && d[n - 1] != '\n')
            hp_buf_putc(&in, '\n');
    }
    hp_buf_free(&b);
    size_t cap = 0, nl = 0;
    for (size_t i = 0; i < in.len; i++)
        cap += in.data[i] == '\n';
    struct sort_line *lines = calloc(cap + 1, sizeof(*lines));
    size_t pos = 0, n;
    const uint8_t *l;
    bool hasnl;
    while (lines && txt_line(in.data, in.len, &pos, &l, &n, &hasnl) && nl <= cap)
        lines[nl++] = (struct sort_line){ l, n };
    sort_cur = &so;
    if (lines)
        qsort(lines, nl, sizeof(*lines), sort_cmp);
    struct txt_out o;
    txt_out_init(&o, c);
    if (outfile)
        o.c = NULL;
    for (size_t i = 0; i < nl; i++) {
        if (so.uniq && i && sort_cmp_key(&lines[i - 1], &lines[i]) == 0)
            continue;
        txt_put(&o, lines[i].p, lines[i].n);
        txt_putc(&o, '\n');
    }
    int rc = 0;
    if (outfile) {
        char path[4096];
        long r = sh_path(c, outfile, path, sizeof(path));
        if (r == 0)
            r = c->fs ? sh_vfs_write(c->fs, path, o.b.data, o.b.len, SH_O_CREAT | SH_O_TRUNC, 0644) : -EROFS;
        if (r < 0) {
            sh_errf(c, "sort: open failed: %s: %s\n", outfile, sh_strerror((int)r));
            rc = 2;
        }
    }
    txt_out_done(&o);
    free(lines);
    hp_buf_free(&in);
    return rc;
}

static bool uniq_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, bool icase)
{
    if (an != bn)
        return false;
    if (!icase)
        return memcmp(a, b, an) == 0;
    return strncasecmp((const char *)a, (const char *)b, an) == 0 || (an == 0);
}

static int cmd_uniq(struct sh_cmd *c)
{
    bool bb = c->persona && c->persona->busybox, cnt = false, dups = false, uniq = false, icase = false;
    static const struct sys_longopt longs[] = { { "count", 0, 'c' }, { "repeated", 0, 'd' },
                                                { "unique", 0, 'u' }, { "ignore-case", 0, 'i' },
                                                { NULL, 0, 0 } };
    struct sys_getopt go;
    sys_getopt_init(&go, c->argc, c->argv, false);
    int ch;
    while ((ch = sys_getopt(&go, "cdui", bb ? NULL : longs)) != -1) {
        if (ch == 'c')
            cnt = true;
        else if (ch == 'd')
            dups = true;
        else if (ch == 'u')
            uniq = true;
        else if (ch == 'i')
            icase = true;
        else
            return bb ? sys_usage_bb(c, "uniq", &go, "[-cdui] [INPUT [OUTPUT]]") : sys_usage_gnu(c, "uniq", &go, 1);
    }
    if (go.noperands > 2)
        return bb ? sys_usage_bb(c, "uniq", NULL, "[-cdui] [INPUT [OUTPUT]]")
                  : sys_extra_operand(c, "uniq", go.operands[2], 1);
    struct hp_buf b = { 0 };
    const uint8_t *d;
    size_t len;
    bool used = false;
    int e = txt_load(c, go.noperands ? go.operands[0] : "-", &used, &b, &d, &len);
    if (e < 0) {
        sh_errf(c, "uniq: %s: %s\n", go.operands[0], sh_strerror(e));
        hp_buf_free(&b);
        return 1;
    }
    struct txt_out o;
    txt_out_init(&o, c);
    size_t pos = 0, n, pn = 0;
    const uint8_t *l, *prev = NULL;
    bool nl;
    long run = 0;
    for (;;) {
        bool more = txt_line(d, len, &pos, &l, &n, &nl);
        if (prev && (!more || !uniq_eq(prev, pn, l, n, icase))) {
            if ((!dups || run > 1) && (!uniq || run == 1)) {
                if (cnt)
                    txt_printf(&o, "%7ld ", run);
                txt_put(&o, prev, pn);
                txt_putc(&o, '\n');
            }
            prev = NULL;
        }
        if (!more)
            break;
        if (!prev) {
            prev = l;
            pn = n;
            run = 0;
        }
        run++;
    }
    txt_out_done(&o);
    hp_buf_free(&b);
    return 0;
}

const struct sh_cmd_def sh_cmds_text[] = {
    { "base64", cmd_base64, false },
    { "cut", cmd_cut, false },
    { "egrep", cmd_egrep, false },
    { "fgrep", cmd_fgrep, false },
    { "grep", cmd_grep, false },
    { "rev", cmd_rev, false },
    { "sed", cmd_sed, false },
    { "seq", cmd_seq, false },
    { "sort", cmd_sort, false },
    { "tee", cmd_tee, false },
    { "tr", cmd_tr, false },
    { "uniq", cmd_uniq, false },
    { "yes", cmd_yes, false },
    { NULL, NULL, false },
};
