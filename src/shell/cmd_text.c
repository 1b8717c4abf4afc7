/*
 * cmd_text.c - the text programs: grep (egrep, fgrep), cut, tr, sort,
 * uniq, base64, tee, seq, yes, rev (sed is in cmd_sed.c, awk in
 * cmd_awk.c, xargs, od, diff and the other small tools in cmd_textutil.c).
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
 * buffer; counts they give (seq, yes) are bounded here
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
#include "util.h"

#define TXT_OUT_CHUNK (64u * 1024)
#define TXT_LOAD_MAX (SH_VFS_FILE_MAX + 1)
#define TXT_RE_BUDGET_NS (250000000LL)    /* matching time of one command (its line's pauses excluded) */

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

/* ---- guarded regular expressions ---- */

static struct timespec re_deadline;

static int64_t txt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void txt_re_budget(const struct sh_cmd *c)
{
    int64_t now = txt_now_ns(), budget = TXT_RE_BUDGET_NS;
    if (c->deadline_ms) {                 /* never past the line's own end */
        int64_t left = (c->deadline_ms - hp_mono_ms()) * 1000000LL;
        if (left < budget)
            budget = left > 0 ? left : 0;
    }
    int64_t d = now + budget;
    re_deadline.tv_sec = (time_t)(d / 1000000000LL);
    re_deadline.tv_nsec = (long)(d % 1000000000LL);
}

int64_t txt_re_left(void)
{
    if (re_deadline.tv_sec == 0)
        return -1;
    int64_t left = (int64_t)re_deadline.tv_sec * 1000000000LL + re_deadline.tv_nsec - txt_now_ns();
    return left > 0 ? left : 0;
}

void txt_re_set_left(int64_t left_ns)
{
    if (left_ns < 0) {
        re_deadline.tv_sec = 0;
        re_deadline.tv_nsec = 0;
        return;
    }
    int64_t d = txt_now_ns() + left_ns;
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

#define TXT_RE_NODES_MAX 20000.0
#define TXT_RE_WINDOW 4096         /* bytes of subject one regexec sees (txt_re_exec) */
#define TXT_RE_GROUPS_MAX 64

/* A repetition's bound ("{3}", "{2,5}", "{4,}") at p: the larger number. */
static double txt_re_bound(const char *p, const char *end)
{
    double v = 0, best = 0;
    for (; p < end && *p != '}'; p++) {
        if (isdigit((unsigned char)*p)) {
            v = v * 10 + (*p - '0');
            if (v > 1e9)
                v = 1e9;
        } else {
            best = v > best ? v : best;
            v = 0;
        }
    }
    return v > best ? v : best;
}

/* An interval's body at p[at]: digits, then a '}' somewhere after. */
static bool txt_re_interval(const char *p, size_t n, size_t at)
{
    return at < n && isdigit((unsigned char)p[at]) && memchr(p + at, '}', n - at) != NULL;
}

/*
 * How big glibc's parse tree gets once repetitions are expanded.  regcomp
 * copies the operand of x+ (as x x*) and of x{n,m} (m copies), so stacked
 * or nested repetitions multiply: (a+)+ and a++ double the operand at each
 * '+', and "(a++++...+|b)" with forty of them asked glibc for gigabytes
 * (found by fuzz_cmd_text).  Each group level keeps the sum of its atoms
 * and the size of its last one, which a following operator copies.
 */
static double txt_re_nodes(const char *p, size_t n, bool ere)
{
    double sum[TXT_RE_GROUPS_MAX + 1], last[TXT_RE_GROUPS_MAX + 1];
    int d = 0;
    sum[0] = last[0] = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        bool esc = c == '\\' && i + 1 < n;
        char e = esc ? p[i + 1] : 0;
        if ((ere && c == '(') || (!ere && esc && e == '(')) {
            if (d == TXT_RE_GROUPS_MAX)
                return TXT_RE_NODES_MAX + 1;
            sum[++d] = 0;
            last[d] = 0;
        } else if (d > 0 && ((ere && c == ')') || (!ere && esc && e == ')'))) {
            double g = sum[d--] + 1;
            sum[d] += g;
            last[d] = g;
        } else if ((ere && c == '+') || (!ere && esc && e == '+')) {
            sum[d] += last[d];                         /* x+ is x x* */
            last[d] *= 2;
        } else if (((ere && c == '{') || (!ere && esc && e == '{')) && txt_re_interval(p, n, i + (esc ? 2 : 1))) {
            double k = txt_re_bound(p + i + 1, p + n);
            sum[d] += last[d] * k;
            last[d] *= k + 1;
            i = (size_t)((const char *)memchr(p + i, '}', n - i) - p);   /* on its '}' */
            esc = false;
        } else if (c == '[') {                         /* a bracket expression is one node */
            size_t j = i + 1;
            if (j < n && p[j] == '^')
                j++;
            if (j < n && p[j] == ']')
                j++;
            while (j < n && p[j] != ']')
                j++;
            i = j < n ? j : n;
            sum[d] += 1;
            last[d] = 1;
            continue;
        } else if (!((ere && (c == '*' || c == '?' || c == '|')) || (!ere && c == '*') ||
                     (esc && (e == '?' || e == '|')))) {
            sum[d] += 1;                               /* an atom */
            last[d] = 1;
        }
        if (sum[d] > TXT_RE_NODES_MAX || last[d] > TXT_RE_NODES_MAX)
            return TXT_RE_NODES_MAX + 1;
        if (esc)
            i++;
    }
    while (d > 0) {                                    /* unclosed: regcomp refuses it anyway */
        double g = sum[d--] + 1;
        sum[d] += g;
    }
    return sum[0];
}

/* What makes glibc's compiler or matcher blow up: nested counted
 * repetitions multiply the automaton ({255}{255}{255}) and repetitions
 * copy their operand (txt_re_nodes), back-references make matching
 * exponential.  Count them conservatively. */
static int txt_re_guard(const char *p, size_t n, int cflags, unsigned *backrefs)
{
    if (txt_re_nodes(p, n, (cflags & REG_EXTENDED) != 0) > TXT_RE_NODES_MAX)
        return REG_ESIZE;
    bool ere = (cflags & REG_EXTENDED) != 0;
    double product = 1;
    *backrefs = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n) {
            char ch = p[i + 1];
            if (ch >= '1' && ch <= '9')
                (*backrefs)++;
            if (!ere && ch == '{')
                product *= txt_re_bound(p + i + 2, p + n) + 1.0;
            i++;
            continue;
        }
        if (ere && p[i] == '{' && i + 1 < n && isdigit((unsigned char)p[i + 1]))
            product *= txt_re_bound(p + i + 1, p + n) + 1.0;
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
    if (!sh_pause_point() || !r->ok || from > len || txt_re_expired())
        return REG_NOMATCH;
    /* Back-references: only short subjects (exponential matcher). */
    if (r->backrefs && len - from > (r->backrefs > 1 ? 16u : 48u))
        return REG_NOMATCH;
    if (nm == 0) {
        m = one;
        nm = 1;
    }
    /* glibc retries the automaton at every start position, each run as far
     * as it stays alive: one call costs up to the square of the subject
     * ('[a-z]+c' on a 100 KB line of 'a' ran 16 s in one regexec, beyond
     * every check).  So a long subject is searched in overlapping windows,
     * the budget checked between them; a match longer than half a window
     * that starts past 'from' is cut at a window's end, and '$' matches
     * only at the real end.
     * A match at 'from' itself is one run over the whole subject (glibc's
     * re_search with no range), so '^...$' and the like stay exact. */
    if (len - from > TXT_RE_WINDOW &&
        re_search(&r->re, (const char *)s, (regoff_t)len, (regoff_t)from, 0, NULL) == (regoff_t)from) {
        m[0].rm_so = (regoff_t)from;
        m[0].rm_eo = (regoff_t)len;
        int rc = regexec(&r->re, (const char *)s, nm, m, eflags | REG_STARTEND);
        if (rc != REG_NOMATCH)
            return rc;              /* (eflags such as REG_NOTBOL, which re_search ignores, can refuse it) */
    }
    for (size_t at = from;; at += TXT_RE_WINDOW / 2) {
        size_t end = len - at > TXT_RE_WINDOW ? at + TXT_RE_WINDOW : len;
        m[0].rm_so = (regoff_t)at;
        m[0].rm_eo = (regoff_t)end;
        int rc = regexec(&r->re, (const char *)s, nm, m, eflags | REG_STARTEND | (end < len ? REG_NOTEOL : 0));
        /* A match in the window's second half that reaches its end may go on
         * past it: the next window, which starts half a window later, holds
         * it from its first half. */
        if (rc == 0 && end < len && (size_t)m[0].rm_so >= at + TXT_RE_WINDOW / 2 && (size_t)m[0].rm_eo == end)
            rc = REG_NOMATCH;
        if (rc != REG_NOMATCH || end == len || !sh_pause_point() || txt_re_expired())
            return rc;
    }
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
        sys_getopt_msg(c, "grep", go);
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
    txt_re_budget(c);
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

/* ==== small filters: base64, tee, rev, yes, seq ================================== */

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
    if (tu_cat(c, "base64", go.operands, go.noperands, &in, false, false)) {
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
    int rc = tu_cat(c, "rev", c->argv + 1, c->argc - 1, &in, false, false);
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
        /* a number can print 300 digits ("seq 1e300 1e300" never advances):
         * 100,000 of them held the event loop for 0.7 s */
        if ((count & 1023) == 1023 && !sh_pause_point())
            break;
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
    { "seq", cmd_seq, false },
    { "sort", cmd_sort, false },
    { "tee", cmd_tee, false },
    { "tr", cmd_tr, false },
    { "uniq", cmd_uniq, false },
    { "yes", cmd_yes, false },
    { NULL, NULL, false },
};
