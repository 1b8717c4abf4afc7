/*
 * cmd_textutil.c - the small text tools around grep and sed: xargs, nl,
 * strings, fold, paste, comm, expand, unexpand, tac, shuf and factor
 * (od, hexdump, xxd, cmp and diff are in cmd_dump.c).
 *
 * Bots use them to drive loops (`ls /tmp | xargs rm`, `find / -name x |
 * xargs cat`) and to look at what they found (`strings bin | grep`, `nl`).  Their
 * output is compared byte for byte with the real tools' (GNU coreutils
 * 9.1 and findutils 4.9 on the Debian
 * personality, busybox applets when c->persona->busybox), so layouts,
 * messages and exit statuses follow those tools exactly.
 *
 * Each program reads its inputs whole through cmd_text.h (the vfs and the
 * pipe already cap them), makes one pass, and writes through the buffered
 * writer.  Everything sized by the attacker has its own bound here: xargs
 * invocations and command lines, shuf's ranges, factor's numbers
 * (Pollard's rho, never a 2^32-step trial division).  xargs runs each command through
 * sh_run_argv, so lookups and "not found" behave as the shell's own.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cmd_text.h"
#include "cmd_sys.h"

/* ==== shared helpers (cmd_text.h, also used by cmd_dump.c) ============================================================== */

bool tu_bb(const struct sh_cmd *c) { return c->persona && c->persona->busybox; }

/* GNU quotef(): the name as typed unless the shell would need quotes. */
static const char *tu_quotef(const char *s, char *out, size_t n)
{
    bool plain = *s != '\0';
    for (const char *p = s; *p && plain; p++)
        plain = isalnum((unsigned char)*p) || strchr("._/+,-:@%^=", *p) || (unsigned char)*p >= 0x80;
    if (plain || !strchr(s, '\''))
        snprintf(out, n, plain ? "%s" : "'%s'", s);
    else
        snprintf(out, n, "\"%s\"", s);
    return out;
}

/* A file that cannot be read: "PROG: NAME: error" (GNU, busybox's
 * fopen_or_warn) or "PROG: can't open 'NAME': error" (busybox xfopen). */
void tu_ferr(struct sh_cmd *c, const char *prog, const char *name, int err, bool bb_xfopen)
{
    char q[512];
    if (tu_bb(c) && bb_xfopen)
        sh_errf(c, "%s: can't open '%s': %s\n", prog, name, sh_strerror(err));
    else
        sh_errf(c, "%s: %s: %s\n", prog, tu_bb(c) ? name : tu_quotef(name, q, sizeof(q)), sh_strerror(err));
}

/* A count or offset as GNU tools take them (0x.., 0.., suffixes b k m). */
bool tu_size(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s)
        return false;
    uint64_t mul = 1;
    if (*end) {
        static const char suf[] = "kKmMgG";
        if (strcmp(end, "b") == 0)
            mul = 512;
        else if (strchr(suf, *end) && (end[1] == '\0' || strcmp(end + 1, "iB") == 0))
            mul = 1ull << (10 * (1 + (int)((strchr(suf, *end) - suf) / 2)));
        else if (strchr(suf, *end) && strcmp(end + 1, "B") == 0)
            mul = *end == 'k' || *end == 'K' ? 1000 : *end == 'm' || *end == 'M' ? 1000000 : 1000000000;
        else
            return false;
    }
    if (mul > 1 && v > UINT64_MAX / mul)
        return false;
    *out = (uint64_t)v * mul;
    return true;
}


bool tu_split(const uint8_t *d, size_t len, size_t max, struct tu_lines *l)
{
    size_t cnt = 0;
    for (size_t i = 0; i < len; i++)
        cnt += d[i] == '\n';
    if (len && d[len - 1] != '\n')
        cnt++;
    memset(l, 0, sizeof(*l));
    l->last_nl = len == 0 || d[len - 1] == '\n';
    if (cnt > max)
        return false;
    l->p = calloc(cnt + 1, sizeof(*l->p));
    l->n = calloc(cnt + 1, sizeof(*l->n));
    if (!l->p || !l->n)
        return false;
    size_t pos = 0;
    const uint8_t *s;
    size_t n;
    bool nl;
    while (l->count < cnt && txt_line(d, len, &pos, &s, &n, &nl)) {
        l->p[l->count] = s;
        l->n[l->count++] = n;
    }
    return true;
}

void tu_lines_free(struct tu_lines *l)
{
    free(l->p);
    free(l->n);
    memset(l, 0, sizeof(*l));
}

/* ==== xargs ======================================================================= */

#define XA_RUNS_MAX 4096          /* invocations of one xargs */
#define XA_LINE_MAX (128u * 1024) /* bytes of one command line (GNU's default -s) */
#define XA_ITEMS_MAX 65536

struct xargs {
    struct sh_cmd *c;
    bool bb, trace, noempty, nul;
    int delim;                    /* -d: the separator byte; -1: blanks and quotes */
    const char *repl;             /* -I */
    long maxargs, maxlines;       /* -n, -L (0: unlimited) */
    size_t maxchars;              /* -s */
    char **items;
    unsigned *lines;              /* input line each item ended on (-L) */
    size_t nitems;
    struct hp_buf store;          /* items' bytes, NUL-terminated one after the other */
};

/* Append one finished item (store holds its bytes from start). */
static bool xa_item(struct xargs *x, size_t start, unsigned line)
{
    hp_buf_putc(&x->store, '\0');
    if (x->nitems >= XA_ITEMS_MAX)
        return false;
    x->items[x->nitems] = (char *)(uintptr_t)start;   /* an offset until the store stops growing */
    x->lines[x->nitems++] = line;
    return true;
}

/* Items of the input: by -0/-d separator, by line (-I), or blank-separated
 * with quotes and backslashes (the default); false on an unmatched quote. */
static bool xa_parse(struct xargs *x, const uint8_t *d, size_t len)
{
    size_t start = x->store.len;
    bool in = false;
    int q = 0;
    unsigned line = 0;
    for (size_t i = 0; i < len; i++) {
        int ch = d[i];
        if (x->delim >= 0) {
            if (ch == x->delim) {
                xa_item(x, start, line);
                start = x->store.len;
            } else
                hp_buf_putc(&x->store, (char)ch);
            continue;
        }
        if (q) {
            if (ch == q)
                q = 0;
            else if (ch == '\n')
                break;
            else
                hp_buf_putc(&x->store, (char)ch);
            continue;
        }
        bool sep = x->repl ? ch == '\n' : (ch == ' ' || ch == '\t' || ch == '\n');
        if (sep) {
            if (in && !xa_item(x, start, line))
                break;            /* full: the items so far still need their pointers below */
            start = x->store.len;
            in = false;
            line += ch == '\n';
            continue;
        }
        if (!in && x->repl && (ch == ' ' || ch == '\t'))
            continue;             /* -I: leading blanks are not part of the item */
        in = true;
        if (ch == '\'' || ch == '"')
            q = ch;
        else if (ch == '\\' && i + 1 < len)
            hp_buf_putc(&x->store, (char)d[++i]);
        else
            hp_buf_putc(&x->store, (char)ch);
    }
    if (q) {
        if (x->bb)
            sh_errf(x->c, "xargs: unmatched %s quote\n", q == '\'' ? "single" : "double");
        else
            sh_errf(x->c, "xargs: unmatched %s quote; by default quotes are special to xargs unless "
                          "you use the -0 option\n", q == '\'' ? "single" : "double");
        return false;
    }
    if (x->delim >= 0 ? x->store.len > start : in)
        xa_item(x, start, line);
    for (size_t k = 0; k < x->nitems; k++)
        x->items[k] = (char *)x->store.data + (uintptr_t)x->items[k];
    return true;
}

/* One argument of an -I command: arg with every repl replaced by item. */
static char *xa_replace(const char *arg, const char *repl, const char *item)
{
    struct hp_buf b;
    hp_buf_init(&b, XA_LINE_MAX);
    size_t rl = strlen(repl);
    for (const char *p = arg; *p;) {
        const char *h = rl ? strstr(p, repl) : NULL;
        if (!h) {
            hp_buf_puts(&b, p);
            break;
        }
        hp_buf_put(&b, p, (size_t)(h - p));
        hp_buf_puts(&b, item);
        p = h + rl;
    }
    char *s = strdup(hp_buf_cstr(&b));
    bool ok = hp_buf_ok(&b);
    hp_buf_free(&b);
    if (!ok) {
        free(s);
        return NULL;
    }
    return s;
}

/* Run one command line; returns xargs' verdict so far: 0 go on, or the
 * final status when xargs must stop (124 after a 255, 127 not found). */
static int xa_exec(struct xargs *x, int argc, char **argv, int *worst)
{
    char path[4096];
    if (x->trace) {
        struct hp_buf b;
        hp_buf_init(&b, XA_LINE_MAX + 4096);
        for (int k = 0; k < argc; k++) {
            char q[4096];
            if (x->bb && k)
                hp_buf_putc(&b, ' ');
            hp_buf_puts(&b, x->bb || strlen(argv[k]) > 4000 ? argv[k] : tu_quotef(argv[k], q, sizeof(q)));
            if (!x->bb)
                hp_buf_putc(&b, ' ');
        }
        hp_buf_putc(&b, '\n');
        sh_err(x->c, b.data, b.len);
        hp_buf_free(&b);
    }
    if (sh_which(x->c, argv[0], path, sizeof(path)) < 0) {
        sh_errf(x->c, "xargs: %s: No such file or directory\n", argv[0]);
        return 127;
    }
    int rc = sh_run_argv(x->c, argc, argv);
    if (rc == 255) {
        sh_errf(x->c, "xargs: %s: exited with status 255; aborting\n", argv[0]);
        return 124;
    }
    if (rc != 0 && *worst == 0)
        *worst = rc > 128 ? 125 : 123;
    return 0;
}

/* Build and run the command lines: initial args plus items, grouped by
 * -n/-L/-s, or one line per item with -I. */
static int xa_run(struct xargs *x, int nini, char **ini)
{
    char *defcmd[] = { (char *)"echo" };
    if (nini == 0) {
        nini = 1;
        ini = defcmd;
    }
    size_t inilen = 0;
    for (int k = 0; k < nini; k++)
        inilen += strlen(ini[k]) + 1;
    size_t maxc = x->maxchars ? x->maxchars : XA_LINE_MAX;
    char **argv = calloc((size_t)nini + x->nitems + 1, sizeof(char *));
    if (!argv)
        return 1;
    int worst = 0, runs = 0, stop = 0;
    size_t i = 0;
    if (x->nitems == 0 && !x->noempty && !x->repl) {
        memcpy(argv, ini, (size_t)nini * sizeof(char *));
        stop = xa_exec(x, nini, argv, &worst);
    }
    while (i < x->nitems && !stop && runs < XA_RUNS_MAX) {
        int argc = 0;
        runs++;
        if (x->repl) {
            bool ok = true;
            size_t total = 0;
            for (int k = 0; k < nini; k++) {
                argv[argc] = k == 0 ? ini[0] : xa_replace(ini[k], x->repl, x->items[i]);
                ok = ok && argv[argc];
                total += argv[argc] ? strlen(argv[argc]) + 1 : 0;
                argc++;
            }
            if (ok && total <= maxc)
                stop = xa_exec(x, argc, argv, &worst);
            else {
                sh_errs(x->c, "xargs: argument line too long\n");
                stop = 1;
            }
            for (int k = 1; k < argc; k++)
                free(argv[k]);
            i++;
            continue;
        }
        memcpy(argv, ini, (size_t)nini * sizeof(char *));
        argc = nini;
        size_t len = inilen, first = i;
        unsigned line0 = x->lines[i];
        while (i < x->nitems) {
            size_t l = strlen(x->items[i]) + 1;
            if (len + l > maxc)
                break;
            if (x->maxargs && (long)(i - first) >= x->maxargs)
                break;
            if (x->maxlines && x->lines[i] - line0 >= (unsigned long)x->maxlines)
                break;
            argv[argc++] = x->items[i++];
            len += l;
        }
        if (i == first) {
            sh_errs(x->c, "xargs: argument line too long\n");
            stop = 1;
            break;
        }
        stop = xa_exec(x, argc, argv, &worst);
    }
    free(argv);
    return stop ? stop : worst;
}

static const char xa_bb_usage[] =
    "[OPTIONS] [PROG ARGS]\n\nRun PROG on every item given by stdin\n\n"
    "\t-0\tInput is separated by NULs\n"
    "\t-a FILE\tRead from FILE instead of stdin\n"
    "\t-r\tDon't run command if input is empty\n"
    "\t-t\tPrint the command on stderr before execution\n"
    "\t-e[STR]\tSTR stops input processing\n"
    "\t-n N\tPass no more than N args to PROG\n"
    "\t-s N\tPass command line of no more than N bytes\n"
    "\t-I STR\tReplace STR within PROG ARGS with input line\n"
    "\t-x\tExit if size is exceeded";

/* -d's argument: one character or a C escape (\n, \t, \0, \x41, \101). */
static int xa_delim(const char *s)
{
    if (s[0] != '\\' || !s[1])
        return s[1] ? -1 : (unsigned char)s[0];
    static const char esc[] = "a\ab\bf\fn\nr\rt\tv\v\\\\";
    const char *e = strchr(esc, s[1]);
    if (e && (e - esc) % 2 == 0 && !s[2])
        return (unsigned char)e[1];
    char *end;
    long v = s[1] == 'x' ? strtol(s + 2, &end, 16) : strtol(s + 1, &end, 8);
    return *end || v < 0 || v > 255 ? -1 : (int)v;
}

/* GNU's option numbers: "xargs: invalid number "x" for -n option". */
static bool xa_num(struct xargs *x, const char *arg, char opt, long min, long *out)
{
    long v;
    if (x->bb) {
        if (!sh_parse_long(arg, &v) || v < min) {
            sh_errf(x->c, "xargs: invalid number '%s'\n", arg);
            return false;
        }
    } else if (!sh_parse_long(arg, &v)) {
        sh_errf(x->c, "xargs: invalid number \"%s\" for -%c option\n", arg, opt);
        sh_errs(x->c, "Try 'xargs --help' for more information.\n");
        return false;
    } else if (v < min) {
        sh_errf(x->c, "xargs: value %s for -%c option should be >= %ld\n", arg, opt, min);
        sh_errs(x->c, "Try 'xargs --help' for more information.\n");
        return false;
    }
    *out = v;
    return true;
}

enum { XO_HELP = 256, XO_VERSION };

static int cmd_xargs(struct sh_cmd *c)
{
    static const struct sys_longopt longs[] = {
        { "null", 0, '0' }, { "arg-file", 1, 'a' }, { "delimiter", 1, 'd' }, { "eof", 2, 'e' },
        { "replace", 2, 'i' }, { "max-lines", 2, 'l' }, { "max-args", 1, 'n' },
        { "max-procs", 1, 'P' }, { "interactive", 0, 'p' }, { "no-run-if-empty", 0, 'r' },
        { "max-chars", 1, 's' }, { "verbose", 0, 't' }, { "exit", 0, 'x' },
        { "help", 0, XO_HELP }, { "version", 0, XO_VERSION }, { NULL, 0, 0 },
    };
    struct xargs x = { .c = c, .bb = tu_bb(c), .delim = -1 };
    struct sys_getopt g;
    const char *file = NULL;
    long v;
    int o;
    /* options end at the command: "xargs grep -n x" gives -n to grep */
    sys_getopt_init(&g, c->argc, c->argv, true);
    while ((o = sys_getopt(&g, x.bb ? "0a:d:e::E:I:i::n:P:rs:tx" : "0a:d:E:e::I:i::L:l::n:P:prs:txX:",
                           x.bb ? NULL : longs)) != -1) {
        switch (o) {
        case '0': x.nul = true; x.delim = 0; break;
        case 'a': file = g.optarg; break;
        case 'd':
            x.delim = xa_delim(g.optarg);
            if (x.delim < 0) {
                sh_errf(c, "xargs: invalid input delimiter specification %s: the delimiter must be either "
                           "a single character or an escape sequence starting with \\.\n", g.optarg);
                return 1;
            }
            break;
        case 'E': case 'e': case 'p': case 'x': case 'X': break;
        case 'I': x.repl = g.optarg; break;
        case 'i': x.repl = g.optarg ? g.optarg : "{}"; break;
        case 'L': case 'l':
            v = 1;
            if (g.optarg && !xa_num(&x, g.optarg, (char)o, 1, &v))
                return 1;
            x.maxlines = v;
            break;
        case 'n':
            if (!xa_num(&x, g.optarg, 'n', 1, &v))
                return 1;
            x.maxargs = v;
            break;
        case 'P':
            if (!xa_num(&x, g.optarg, 'P', 0, &v))
                return 1;
            break;
        case 'r': x.noempty = true; break;
        case 's':
            if (!xa_num(&x, g.optarg, 's', 1, &v))
                return 1;
            x.maxchars = (size_t)v < XA_LINE_MAX ? (size_t)v : XA_LINE_MAX;
            break;
        case 't': x.trace = true; break;
        case XO_VERSION:
            sh_outs(c, "xargs (GNU findutils) 4.9.0\nCopyright (C) 2022 Free Software Foundation, Inc.\n"
                       "License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\n"
                       "This is free software: you are free to change and redistribute it.\n"
                       "There is NO WARRANTY, to the extent permitted by law.\n\n"
                       "Written by Eric B. Decker, James Youngman, and Kevin Dalley.\n");
            return 0;
        case XO_HELP:
            sh_outs(c, "Usage: xargs [OPTION]... COMMAND [INITIAL-ARGS]...\n"
                       "Run COMMAND with arguments INITIAL-ARGS and more arguments read from input.\n\n");
            return 0;
        default:
            return x.bb ? sys_usage_bb(c, "xargs", &g, xa_bb_usage) : sys_usage_gnu(c, "xargs", &g, 1);
        }
    }
    struct hp_buf in = { 0 };
    const uint8_t *d;
    size_t n;
    bool used = false;
    int r = txt_load(c, file ? file : "-", &used, &in, &d, &n);
    if (r < 0) {
        if (x.bb)
            sh_errf(c, "xargs: can't open '%s': %s\n", file, sh_strerror(r));
        else
            sh_errf(c, "xargs: %s: %s\n", file, sh_strerror(r));
        hp_buf_free(&in);
        return 1;
    }
    hp_buf_init(&x.store, 2 * n + 16);
    x.items = calloc(XA_ITEMS_MAX + 1, sizeof(char *));
    x.lines = calloc(XA_ITEMS_MAX + 1, sizeof(unsigned));
    int rc = 1;
    if (x.items && x.lines && xa_parse(&x, d, n))
        rc = xa_run(&x, g.noperands, g.operands);
    free(x.items);
    free(x.lines);
    hp_buf_free(&x.store);
    hp_buf_free(&in);
    return rc;
}

/* ==== nl, fold, tac, strings ====================================================== */

/* gnulib's xdectoimax: a decimal in [min, max], or "PROG: WHAT: 'ARG'" with
 * ": Numerical result out of range" when it parses but does not fit. */
static bool tu_gnu_num(struct sh_cmd *c, const char *prog, const char *what, const char *arg, long min,
                       long max, long *out)
{
    long v;
    char *end;
    errno = 0;
    v = strtol(arg, &end, 10);
    bool junk = end == arg || *end;
    if (!junk && !errno && v >= min && v <= max) {
        *out = v;
        return true;
    }
    sh_errf(c, "%s: %s: " TXT_LQ "%s" TXT_RQ "%s\n", prog, what, arg, junk ? "" : ": Numerical result out of range");
    return false;
}

/* Busybox's xatou_range message. */
static bool tu_bb_num(struct sh_cmd *c, const char *prog, const char *arg, long min, long max, long *out)
{
    long v;
    if (!sh_parse_long(arg, &v) || arg[0] == '-' || arg[0] == '+') {
        sh_errf(c, "%s: invalid number '%s'\n", prog, arg);
        return false;
    }
    if (v < min || v > max) {
        sh_errf(c, "%s: number %s is not in %ld..%ld range\n", prog, arg, min, max);
        return false;
    }
    *out = v;
    return true;
}

/* Load every operand (or stdin) into all; "PROG: NAME: error" for failures
 * (NAME quoted as GNU does when quote, else as given: base64, rev). */
int tu_cat(struct sh_cmd *c, const char *prog, char **ops, int nops, struct hp_buf *all, bool addnl, bool quote)
{
    int rc = 0;
    bool used = false;
    struct hp_buf b = { 0 };
    for (int k = 0; k < (nops ? nops : 1); k++) {
        const uint8_t *d;
        size_t n;
        int r = txt_load(c, nops ? ops[k] : "-", &used, &b, &d, &n);
        if (r < 0) {
            if (quote)
                tu_ferr(c, prog, ops[k], r, false);
            else
                sh_errf(c, "%s: %s: %s\n", prog, ops[k], sh_strerror(r));
            rc = 1;
            continue;
        }
        hp_buf_put(all, d, n);
        if (addnl && n && d[n - 1] != '\n')
            hp_buf_putc(all, '\n');
    }
    hp_buf_free(&b);
    return rc;
}

static int cmd_nl(struct sh_cmd *c)
{
    static const struct sys_longopt longs[] = {
        { "body-numbering", 1, 'b' }, { "number-width", 1, 'w' }, { "number-separator", 1, 's' },
        { "number-format", 1, 'n' }, { "starting-line-number", 1, 'v' }, { "line-increment", 1, 'i' },
        { "header-numbering", 1, 'h' }, { "footer-numbering", 1, 'f' }, { "join-blank-lines", 1, 'l' },
        { "section-delimiter", 1, 'd' }, { "no-renumber", 0, 'p' }, { "help", 0, XO_HELP },
        { "version", 0, XO_VERSION }, { NULL, 0, 0 },
    };
    char style = 't';
    const char *sep = "\t", *fmt = "rn", *bre = NULL;
    long width = 6, start = 1, incr = 1, tmp;
    struct sys_getopt g;
    int o;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "b:w:s:n:v:i:h:f:l:d:p", longs)) != -1) {
        switch (o) {
        case 'b':
            if (strcmp(g.optarg, "a") && strcmp(g.optarg, "t") && strcmp(g.optarg, "n") && g.optarg[0] != 'p') {
                sh_errf(c, "nl: invalid body numbering style: " TXT_LQ "%s" TXT_RQ "\n", g.optarg);
                return sys_usage_gnu(c, "nl", NULL, 1);
            }
            style = g.optarg[0];
            bre = style == 'p' ? g.optarg + 1 : NULL;
            break;
        case 'w':
            if (!tu_gnu_num(c, "nl", "invalid line number field width", g.optarg, 1, INT_MAX, &width))
                return 1;
            break;
        case 's': sep = g.optarg; break;
        case 'n':
            if (strcmp(g.optarg, "ln") && strcmp(g.optarg, "rn") && strcmp(g.optarg, "rz")) {
                sh_errf(c, "nl: invalid line numbering format: " TXT_LQ "%s" TXT_RQ "\n", g.optarg);
                return sys_usage_gnu(c, "nl", NULL, 1);
            }
            fmt = g.optarg;
            break;
        case 'v':
            if (!tu_gnu_num(c, "nl", "invalid starting line number", g.optarg, LONG_MIN, LONG_MAX, &start))
                return 1;
            break;
        case 'i':
            if (!tu_gnu_num(c, "nl", "invalid line number increment", g.optarg, LONG_MIN, LONG_MAX, &incr))
                return 1;
            break;
        case 'h': case 'f': case 'd': case 'p': break;
        case 'l':
            if (!tu_gnu_num(c, "nl", "invalid line number of blank lines", g.optarg, 1, LONG_MAX, &tmp))
                return 1;
            break;
        case XO_VERSION: sys_gnu_version(c, "nl", "Scott Bartram, and David MacKenzie"); return 0;
        case XO_HELP: sh_outs(c, "Usage: nl [OPTION]... [FILE]...\nWrite each FILE to standard output, "
                                 "with line numbers added.\n"); sys_gnu_help_tail(c, "nl"); return 0;
        default: return sys_usage_gnu(c, "nl", &g, 1);
        }
    }
    struct txt_re re = { 0 };
    char err[256];
    if (bre && txt_re_comp(&re, bre, strlen(bre), 0, err, sizeof(err)) != 0) {
        sh_errf(c, "nl: %s\n", err);
        return 1;
    }
    txt_re_budget(c);
    struct hp_buf all;
    hp_buf_init(&all, SH_VFS_FILE_MAX * 2);
    int rc = tu_cat(c, "nl", g.operands, g.noperands, &all, true, true);
    hp_buf_cstr(&all);            /* regexec's subjects end with a NUL (see txt_load) */
    struct txt_out out;
    txt_out_init(&out, c);
    size_t pos = 0, n;
    const uint8_t *line;
    bool nl;
    long num = start;
    int w = width > 4096 ? 4096 : (int)width;
    while (txt_line(all.data, all.len, &pos, &line, &n, &nl)) {
        bool on = style == 'a' || (style == 't' && n > 0) ||
                  (style == 'p' && txt_re_exec(&re, line, n, 0, 0, NULL, 0) == 0);
        if (on) {
            txt_printf(&out, fmt[0] == 'l' ? "%-*ld" : fmt[1] == 'z' ? "%0*ld" : "%*ld", w, num);
            txt_puts(&out, sep);
            num += incr;
        } else
            txt_printf(&out, "%*s", (int)(w + strlen(sep) > 8192 ? 8192 : w + strlen(sep)), "");
        txt_put(&out, line, n);
        txt_putc(&out, '\n');
    }
    txt_out_done(&out);
    txt_re_free(&re);
    hp_buf_free(&all);
    return rc;
}

/* ---- the per-file loop of fold, tac and strings -------------------------------- */

typedef void (*tu_each_fn)(struct txt_out *out, const char *name, const uint8_t *d, size_t n, void *arg);
typedef void (*tu_fail_fn)(struct sh_cmd *c, const char *name, int err);

/* Each operand (stdin when there is none, shown as stdin_name) loaded and
 * handed to fn; a file that cannot be read goes to fail after what was
 * printed so far, and makes the status 1. */
static int tu_each_file(struct sh_cmd *c, const struct sys_getopt *g, const char *stdin_name,
                        tu_each_fn fn, tu_fail_fn fail, void *arg)
{
    int rc = 0;
    bool used = false;
    struct hp_buf b = { 0 };
    struct txt_out out;
    txt_out_init(&out, c);
    for (int k = 0; k < (g->noperands ? g->noperands : 1); k++) {
        const uint8_t *d;
        size_t n;
        const char *name = g->noperands ? g->operands[k] : stdin_name;
        int r = txt_load(c, g->noperands ? g->operands[k] : "-", &used, &b, &d, &n);
        if (r < 0) {
            txt_flush(&out);
            fail(c, name, r);
            rc = 1;
            continue;
        }
        fn(&out, name, d, n, arg);
    }
    txt_out_done(&out);
    hp_buf_free(&b);
    return rc;
}

/* GNU fold's column after ch (tabs to the next multiple of 8). */
static size_t fold_col(size_t col, uint8_t ch, bool bytes)
{
    if (bytes)
        return col + 1;
    if (ch == '\b')
        return col ? col - 1 : 0;
    if (ch == '\r')
        return 0;
    if (ch == '\t')
        return col + 8 - col % 8;
    return col + 1;
}

/* fold.c's loop: a line buffer that is cut when the column passes width,
 * at the last blank with -s. */
static void fold_text(struct txt_out *out, const uint8_t *d, size_t len, size_t width, bool spaces, bool bytes)
{
    struct hp_buf lb;
    hp_buf_init(&lb, SH_VFS_FILE_MAX + 16);
    size_t col = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = d[i];
        if (ch == '\n') {
            txt_put(out, lb.data, lb.len);
            txt_putc(out, '\n');
            hp_buf_reset(&lb);
            col = 0;
            continue;
        }
        for (;;) {                /* at most twice: after a cut the char fits or starts the line */
            col = fold_col(col, ch, bytes);
            if (col <= width || lb.len == 0)
                break;
            size_t cut = lb.len;
            if (spaces)
                while (cut > 0 && lb.data[cut - 1] != ' ' && lb.data[cut - 1] != '\t')
                    cut--;
            if (!spaces || cut == 0)
                cut = lb.len;
            txt_put(out, lb.data, cut);
            txt_putc(out, '\n');
            hp_buf_consume(&lb, cut);
            col = 0;
            for (size_t k = 0; k < lb.len; k++)
                col = fold_col(col, lb.data[k], bytes);
        }
        hp_buf_putc(&lb, ch);
    }
    txt_put(out, lb.data, lb.len);
    hp_buf_free(&lb);
}

struct fold_opts {
    size_t width;
    bool spaces, bytes;
};

static void fold_one(struct txt_out *out, const char *name, const uint8_t *d, size_t n, void *arg)
{
    const struct fold_opts *fo = arg;
    (void)name;
    fold_text(out, d, n, fo->width, fo->spaces, fo->bytes);
}

static void fold_fail(struct sh_cmd *c, const char *name, int err) { tu_ferr(c, "fold", name, err, false); }

static int cmd_fold(struct sh_cmd *c)
{
    static const struct sys_longopt longs[] = {
        { "bytes", 0, 'b' }, { "spaces", 0, 's' }, { "width", 1, 'w' },
        { "help", 0, XO_HELP }, { "version", 0, XO_VERSION }, { NULL, 0, 0 },
    };
    bool bb = tu_bb(c), spaces = false, bytes = false;
    long width = 80;
    struct sys_getopt g;
    int o;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "bsw:", bb ? NULL : longs)) != -1) {
        switch (o) {
        case 'b': bytes = true; break;
        case 's': spaces = true; break;
        case 'w':
            if (bb ? !tu_bb_num(c, "fold", g.optarg, 1, 10000, &width)
                   : !tu_gnu_num(c, "fold", "invalid number of columns", g.optarg, 1, LONG_MAX - 16, &width))
                return 1;
            break;
        case XO_VERSION: sys_gnu_version(c, "fold", "David MacKenzie"); return 0;
        case XO_HELP: sh_outs(c, "Usage: fold [OPTION]... [FILE]...\nWrap input lines in each FILE, "
                                 "writing to standard output.\n"); sys_gnu_help_tail(c, "fold"); return 0;
        default:
            return bb ? sys_usage_bb(c, "fold", &g, "[-bs] [-w WIDTH] [FILE]...\n\nWrap input lines in FILEs "
                                                    "(or stdin), writing to stdout\n\n\t-b\tCount bytes rather "
                                                    "than columns\n\t-s\tBreak at spaces\n\t-w\tUse WIDTH "
                                                    "columns instead of 80")
                      : sys_usage_gnu(c, "fold", &g, 1);
        }
    }
    struct fold_opts fo = { (size_t)width, spaces, bytes };
    return tu_each_file(c, &g, "-", fold_one, fold_fail, &fo);
}

static void tac_one(struct txt_out *out, const char *name, const uint8_t *d, size_t n, void *arg)
{
    (void)name;
    (void)arg;
    size_t end = n;
    while (end > 0) {
        size_t s = end - 1;       /* the line ending at end (its '\n' included) */
        while (s > 0 && d[s - 1] != '\n')
            s--;
        txt_put(out, d + s, end - s);
        end = s;
    }
}

static void tac_fail_bb(struct sh_cmd *c, const char *name, int err) { tu_ferr(c, "tac", name, err, false); }

static void tac_fail_gnu(struct sh_cmd *c, const char *name, int err)
{
    if (err == -EISDIR)
        sh_errf(c, "tac: %s: read error: Is a directory\n", name);
    else
        sh_errf(c, "tac: failed to open '%s' for reading: %s\n", name, sh_strerror(err));
}

/* tac: lines of each file last first; a last line without '\n' is glued to
 * the one printed after it, as GNU and busybox do. */
static int cmd_tac(struct sh_cmd *c)
{
    static const struct sys_longopt longs[] = {
        { "before", 0, 'b' }, { "regex", 0, 'r' }, { "separator", 1, 's' },
        { "help", 0, XO_HELP }, { "version", 0, XO_VERSION }, { NULL, 0, 0 },
    };
    bool bb = tu_bb(c);
    struct sys_getopt g;
    int o;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, bb ? "" : "brs:", bb ? NULL : longs)) != -1) {
        switch (o) {
        case 'b': case 'r': case 's': break;
        case XO_VERSION: sys_gnu_version(c, "tac", "Jay Lepreau and David MacKenzie"); return 0;
        case XO_HELP: sh_outs(c, "Usage: tac [OPTION]... [FILE]...\nWrite each FILE to standard output, "
                                 "last line first.\n"); sys_gnu_help_tail(c, "tac"); return 0;
        default:
            return bb ? sys_usage_bb(c, "tac", &g, "[FILE]...\n\nConcatenate FILEs and print them in reverse")
                      : sys_usage_gnu(c, "tac", &g, 1);
        }
    }
    return tu_each_file(c, &g, "-", tac_one, bb ? tac_fail_bb : tac_fail_gnu, NULL);
}

struct strings_opts {
    size_t min;
    bool names;
};

static void strings_one(struct txt_out *out, const char *name, const uint8_t *d, size_t n, void *arg)
{
    const struct strings_opts *so = arg;
    size_t run = 0;
    for (size_t i = 0; i <= n; i++) {
        bool pr = i < n && ((d[i] >= 0x20 && d[i] < 0x7f) || d[i] == '\t');
        if (pr) {
            run++;
            continue;
        }
        if (run >= so->min) {
            if (so->names)
                txt_printf(out, "%s: ", name);
            txt_put(out, d + i - run, run);
            txt_putc(out, '\n');
        }
        run = 0;
    }
}

static void strings_fail(struct sh_cmd *c, const char *name, int err) { tu_ferr(c, "strings", name, err, false); }

/* busybox strings: runs of at least N printable bytes (and tabs). */
static int cmd_strings(struct sh_cmd *c)
{
    long min = 4;
    struct sys_getopt g;
    int o;
    bool names = false;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "afon:t:", NULL)) != -1) {
        switch (o) {
        case 'a': case 'o': case 't': break;
        case 'f': names = true; break;
        case 'n':
            if (!tu_bb_num(c, "strings", g.optarg, 1, INT_MAX, &min))
                return 1;
            break;
        default:
            return sys_usage_bb(c, "strings", &g, "[-fo] [-t o|d|x] [-n LEN] [FILE]...\n\n"
                                                  "Display printable strings in a binary file\n\n"
                                                  "\t-f\t\tPrecede strings with filenames\n"
                                                  "\t-o\t\tPrecede strings with octal offsets\n"
                                                  "\t-t o|d|x\tPrecede strings with offsets in base 8/10/16\n"
                                                  "\t-n LEN\t\tAt least LEN characters form a string (default 4)");
        }
    }
    struct strings_opts so = { (size_t)min, names };
    return tu_each_file(c, &g, "{stdin}", strings_one, strings_fail, &so);
}

/* ==== paste, comm ================================================================ */

#define PASTE_FILES_MAX 64

/* -d's list with \n \t \\ \0 (an empty delimiter); returns its length. */
static size_t paste_delims(const char *s, char *out, bool *empty, size_t max)
{
    size_t n = 0;
    for (; *s && n < max; s++) {
        char ch = *s;
        empty[n] = false;
        if (ch == '\\' && s[1]) {
            s++;
            ch = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s == '0' ? '\0' : *s;
            empty[n] = *s == '0';
        }
        out[n++] = ch;
    }
    return n;
}

static int cmd_paste(struct sh_cmd *c)
{
    static const struct sys_longopt longs[] = {
        { "delimiters", 1, 'd' }, { "serial", 0, 's' }, { "zero-terminated", 0, 'z' },
        { "help", 0, XO_HELP }, { "version", 0, XO_VERSION }, { NULL, 0, 0 },
    };
    const char *dl = "\t";
    bool serial = false;
    struct sys_getopt g;
    int o;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "d:sz", longs)) != -1) {
        switch (o) {
        case 'd': dl = g.optarg; break;
        case 's': serial = true; break;
        case 'z': break;
        case XO_VERSION: sys_gnu_version(c, "paste", "David M. Ihnat and David MacKenzie"); return 0;
        case XO_HELP: sh_outs(c, "Usage: paste [OPTION]... [FILE]...\nWrite lines consisting of the sequentially "
                                 "corresponding lines from\neach FILE, separated by TABs, to standard output.\n");
            sys_gnu_help_tail(c, "paste"); return 0;
        default: return sys_usage_gnu(c, "paste", &g, 1);
        }
    }
    char delims[256];
    bool empty[256];
    size_t nd = paste_delims(dl, delims, empty, sizeof(delims));
    if (nd == 0) {
        delims[0] = '\0';
        empty[0] = true;
        nd = 1;
    }
    int nf = g.noperands ? (g.noperands < PASTE_FILES_MAX ? g.noperands : PASTE_FILES_MAX) : 1;
    struct hp_buf bufs[PASTE_FILES_MAX];
    struct tu_lines lines[PASTE_FILES_MAX];
    memset(bufs, 0, sizeof(bufs));
    memset(lines, 0, sizeof(lines));
    bool used = false;
    for (int k = 0; k < nf; k++) {
        const uint8_t *d;
        size_t n;
        int r = txt_load(c, g.noperands ? g.operands[k] : "-", &used, &bufs[k], &d, &n);
        if (r < 0) {
            tu_ferr(c, "paste", g.operands[k], r, false);
            for (int j = 0; j <= k; j++) {
                hp_buf_free(&bufs[j]);
                tu_lines_free(&lines[j]);
            }
            return 1;
        }
        tu_split(d, n, SIZE_MAX, &lines[k]);
    }
    struct txt_out out;
    txt_out_init(&out, c);
    if (serial) {
        for (int k = 0; k < nf; k++) {
            for (size_t i = 0; i < lines[k].count; i++) {
                if (i && !empty[(i - 1) % nd])
                    txt_putc(&out, delims[(i - 1) % nd]);
                txt_put(&out, lines[k].p[i], lines[k].n[i]);
            }
            txt_putc(&out, '\n');
        }
    } else {
        for (size_t i = 0;; i++) {
            bool any = false;
            for (int k = 0; k < nf; k++)
                any = any || i < lines[k].count;
            if (!any)
                break;
            for (int k = 0; k < nf; k++) {
                if (i < lines[k].count)
                    txt_put(&out, lines[k].p[i], lines[k].n[i]);
                if (k + 1 < nf && !empty[k % nd])
                    txt_putc(&out, delims[k % nd]);
            }
            txt_putc(&out, '\n');
        }
    }
    txt_out_done(&out);
    for (int k = 0; k < nf; k++) {
        hp_buf_free(&bufs[k]);
        tu_lines_free(&lines[k]);
    }
    return 0;
}

static int tu_memcmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int r = memcmp(a, b, an < bn ? an : bn);
    return r ? r : an < bn ? -1 : an > bn;
}

static int cmd_comm(struct sh_cmd *c)
{
    static const struct sys_longopt longs[] = {
        { "check-order", 0, 'C' }, { "nocheck-order", 0, 'N' }, { "output-delimiter", 1, 'D' },
        { "total", 0, 'T' }, { "zero-terminated", 0, 'z' },
        { "help", 0, XO_HELP }, { "version", 0, XO_VERSION }, { NULL, 0, 0 },
    };
    bool bb = tu_bb(c), show[3] = { true, true, true };
    int check = bb ? 0 : -1;      /* -1: only once lines do not pair (GNU's default) */
    struct sys_getopt g;
    int o;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "123z", bb ? NULL : longs)) != -1) {
        switch (o) {
        case '1': case '2': case '3': show[o - '1'] = false; break;
        case 'C': check = 1; break;
        case 'N': check = 0; break;
        case 'D': case 'T': case 'z': break;
        case XO_VERSION: sys_gnu_version(c, "comm", "Richard M. Stallman and David MacKenzie"); return 0;
        case XO_HELP: sh_outs(c, "Usage: comm [OPTION]... FILE1 FILE2\nCompare sorted files FILE1 and FILE2 "
                                 "line by line.\n"); sys_gnu_help_tail(c, "comm"); return 0;
        default:
            return bb ? sys_usage_bb(c, "comm", &g, "[-123] FILE1 FILE2\n\nCompare FILE1 with FILE2\n\n"
                                                    "\t-1\tSuppress lines unique to FILE1\n"
                                                    "\t-2\tSuppress lines unique to FILE2\n"
                                                    "\t-3\tSuppress lines common to both files")
                      : sys_usage_gnu(c, "comm", &g, 1);
        }
    }
    if (g.noperands != 2) {
        if (bb)
            return sys_usage_bb(c, "comm", NULL, "[-123] FILE1 FILE2\n\nCompare FILE1 with FILE2\n\n"
                                                 "\t-1\tSuppress lines unique to FILE1\n"
                                                 "\t-2\tSuppress lines unique to FILE2\n"
                                                 "\t-3\tSuppress lines common to both files");
        if (g.noperands > 2)
            return sys_extra_operand(c, "comm", g.operands[2], 1);
        if (g.noperands == 1) {
            sh_errf(c, "comm: missing operand after " TXT_LQ "%s" TXT_RQ "\n", g.operands[0]);
            return sys_usage_gnu(c, "comm", NULL, 1);
        }
        return sys_missing_operand(c, "comm", 1);
    }
    struct hp_buf bufs[2] = { { 0 }, { 0 } };
    struct tu_lines l[2];
    memset(l, 0, sizeof(l));
    bool used = false;
    for (int k = 0; k < 2; k++) {
        const uint8_t *d;
        size_t n;
        int r = txt_load(c, g.operands[k], &used, &bufs[k], &d, &n);
        if (r < 0) {
            tu_ferr(c, "comm", g.operands[k], r, true);
            hp_buf_free(&bufs[0]);
            hp_buf_free(&bufs[1]);
            tu_lines_free(&l[0]);
            return 1;
        }
        tu_split(d, n, SIZE_MAX, &l[k]);
    }
    struct txt_out out;
    txt_out_init(&out, c);
    const char *pre[3] = { "", show[0] ? "\t" : "", show[0] && show[1] ? "\t\t" : show[0] || show[1] ? "\t" : "" };
    size_t i[2] = { 0, 0 };
    bool unpaired = false, warned[2] = { false, false }, disorder = false;
    while (i[0] < l[0].count || i[1] < l[1].count) {
        int col, r;
        if (i[0] >= l[0].count)
            r = 1;
        else if (i[1] >= l[1].count)
            r = -1;
        else
            r = tu_memcmp(l[0].p[i[0]], l[0].n[i[0]], l[1].p[i[1]], l[1].n[i[1]]);
        col = r < 0 ? 0 : r > 0 ? 1 : 2;
        int f = col == 2 ? 0 : col;
        if (show[col]) {
            txt_puts(&out, pre[col]);
            txt_put(&out, l[f].p[i[f]], l[f].n[i[f]]);
            txt_putc(&out, '\n');
        }
        unpaired = unpaired || col != 2;
        for (int k = 0; k < 2; k++) {
            if (col != 2 && k != col)
                continue;
            size_t j = i[k]++;
            bool bad = i[k] < l[k].count &&
                       tu_memcmp(l[k].p[j], l[k].n[j], l[k].p[i[k]], l[k].n[i[k]]) > 0;
            if (bad && check != 0 && (check == 1 || unpaired) && !warned[k]) {
                txt_flush(&out);
                sh_errf(c, "comm: file %d is not in sorted order\n", k + 1);
                warned[k] = disorder = true;
            }
        }
    }
    txt_out_done(&out);
    hp_buf_free(&bufs[0]);
    hp_buf_free(&bufs[1]);
    tu_lines_free(&l[0]);
    tu_lines_free(&l[1]);
    if (disorder) {
        sh_errs(c, "comm: input is not in sorted order\n");
        return 1;
    }
    return 0;
}

/* ==== expand, unexpand =========================================================== */

#define TABS_MAX 256

struct tabs {
    size_t stop[TABS_MAX];
    int n;                        /* 1: every stop[0] columns */
};

/* "-t 4" or "-t 4,8,12" (also "4 8"); false with GNU's message printed. */
static bool tabs_parse(struct sh_cmd *c, const char *prog, const char *s, struct tabs *t)
{
    t->n = 0;
    const char *p = s;
    while (*p) {
        if (*p == ',' || *p == ' ') {
            p++;
            continue;
        }
        char *end;
        errno = 0;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p || errno || v > 1u << 20) {
            sh_errf(c, "%s: tab size contains invalid character(s): " TXT_LQ "%s" TXT_RQ "\n", prog, p);
            return false;
        }
        if (v == 0) {
            sh_errf(c, "%s: tab size cannot be 0\n", prog);
            return false;
        }
        if (t->n && v <= t->stop[t->n - 1]) {
            sh_errf(c, "%s: tab sizes must be ascending\n", prog);
            return false;
        }
        if (t->n < TABS_MAX)
            t->stop[t->n++] = v;
        p = end;
    }
    if (t->n == 0)
        t->stop[t->n++] = 8;
    return true;
}

/* The next tab stop after col; 0 past the last stop of a list. */
static size_t tabs_next(const struct tabs *t, size_t col)
{
    if (t->n == 1)
        return col + t->stop[0] - col % t->stop[0];
    for (int k = 0; k < t->n; k++)
        if (t->stop[k] > col)
            return t->stop[k];
    return 0;
}

static void expand_line(struct txt_out *o, const uint8_t *s, size_t n, const struct tabs *t, bool initial)
{
    size_t col = 0;
    bool lead = true;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\t' && (lead || !initial)) {
            size_t next = tabs_next(t, col);
            next = next ? next : col + 1;
            for (; col < next; col++)
                txt_putc(o, ' ');
            continue;
        }
        lead = lead && s[i] == ' ';
        col = s[i] == '\b' ? (col ? col - 1 : 0) : col + 1;
        txt_putc(o, (char)s[i]);
    }
}

/* Runs of blanks that reach a tab stop become a tab (a lone space stays). */
static void unexpand_line(struct txt_out *o, const uint8_t *s, size_t n, const struct tabs *t, bool all)
{
    size_t col = 0, pend = 0, pstart = 0;
    bool lead = true;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = s[i];
        bool blank = (ch == ' ' || ch == '\t') && (lead || all);
        if (blank) {
            size_t next = tabs_next(t, col);
            if (pend == 0)
                pstart = i;
            pend++;
            if (ch == '\t')
                col = next ? next : col + 1;
            else
                col++;
            if (next && col == next) {
                if (pend > 1 || ch == '\t')
                    txt_putc(o, '\t');
                else
                    txt_putc(o, ' ');
                pend = 0;
            }
            continue;
        }
        if (pend)
            txt_put(o, s + pstart, pend);
        pend = 0;
        lead = false;
        col = ch == '\b' ? (col ? col - 1 : 0) : col + 1;
        txt_putc(o, (char)ch);
    }
    if (pend)
        txt_put(o, s + pstart, pend);
}

static int tabs_main(struct sh_cmd *c, bool un)
{
    static const struct sys_longopt longs[] = {
        { "initial", 0, 'i' }, { "tabs", 1, 't' }, { "all", 0, 'a' }, { "first-only", 0, 'F' },
        { "help", 0, XO_HELP }, { "version", 0, XO_VERSION }, { NULL, 0, 0 },
    };
    const char *prog = un ? "unexpand" : "expand";
    bool bb = tu_bb(c), initial = false, all = false;
    struct tabs t = { { 8 }, 1 };
    struct sys_getopt g;
    int o;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, un ? "at:" : "it:", bb ? NULL : longs)) != -1) {
        switch (o) {
        case 'i': initial = true; break;
        case 'a': all = true; break;
        case 'F': all = false; break;
        case 't':
            if (!tabs_parse(c, prog, g.optarg, &t))
                return 1;
            all = true;
            break;
        case XO_VERSION: sys_gnu_version(c, prog, "David MacKenzie"); return 0;
        case XO_HELP: sh_outf(c, "Usage: %s [OPTION]... [FILE]...\n", prog); sys_gnu_help_tail(c, prog); return 0;
        default:
            return bb ? sys_usage_bb(c, prog, &g, "[-i] [-t N] [FILE]...\n\nConvert tabs to spaces, writing "
                                                  "to stdout\n\n\t-i\tDon't convert tabs after non blanks\n"
                                                  "\t-t\tTabstops every N chars")
                      : sys_usage_gnu(c, prog, &g, 1);
        }
    }
    struct hp_buf all_in;
    hp_buf_init(&all_in, SH_VFS_FILE_MAX * 2);
    int rc = tu_cat(c, prog, g.operands, g.noperands, &all_in, false, true);
    struct txt_out out;
    txt_out_init(&out, c);
    size_t pos = 0, n;
    const uint8_t *line;
    bool nl;
    while (txt_line(all_in.data, all_in.len, &pos, &line, &n, &nl)) {
        if (un)
            unexpand_line(&out, line, n, &t, all);
        else
            expand_line(&out, line, n, &t, initial);
        if (nl)
            txt_putc(&out, '\n');
    }
    txt_out_done(&out);
    hp_buf_free(&all_in);
    return rc;
}

static int cmd_expand(struct sh_cmd *c) { return tabs_main(c, false); }
static int cmd_unexpand(struct sh_cmd *c) { return tabs_main(c, true); }

/* ==== shuf ======================================================================== */

#define SHUF_RANGE_MAX 1000000u           /* values of -i kept in memory */
#define SHUF_REPEAT_MAX 100000u           /* -r without -n */

/* xorshift64*, seeded from the machine, the session and a per-process
 * counter: two shufs in one session differ, as real ones do. */
static uint64_t shuf_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static uint64_t shuf_below(uint64_t *s, uint64_t n) { return n ? shuf_next(s) % n : 0; }

static int cmd_shuf(struct sh_cmd *c)
{
    static const struct sys_longopt longs[] = {
        { "echo", 0, 'e' }, { "input-range", 1, 'i' }, { "head-count", 1, 'n' }, { "output", 1, 'o' },
        { "random-source", 1, 'R' }, { "repeat", 0, 'r' }, { "zero-terminated", 0, 'z' },
        { "help", 0, XO_HELP }, { "version", 0, XO_VERSION }, { NULL, 0, 0 },
    };
    static uint64_t calls;
    bool echo = false, repeat = false, range = false;
    uint64_t lo = 0, hi = 0, count = UINT64_MAX, v;
    struct sys_getopt g;
    int o;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "ei:n:o:rz", longs)) != -1) {
        switch (o) {
        case 'e': echo = true; break;
        case 'i': {
            const char *dash = strchr(g.optarg, '-');
            char lo_s[32];
            size_t ll = dash ? (size_t)(dash - g.optarg) : 0;
            if (range) {
                sh_errs(c, "shuf: multiple -i options specified\n");
                return 1;
            }
            if (!dash || ll >= sizeof(lo_s) || (memcpy(lo_s, g.optarg, ll), lo_s[ll] = '\0', !tu_size(lo_s, &lo)) ||
                !tu_size(dash + 1, &hi) || hi + 1 < lo) {
                sh_errf(c, "shuf: invalid input range: " TXT_LQ "%s" TXT_RQ "\n", g.optarg);
                return 1;
            }
            range = true;
            break;
        }
        case 'n':
            if (!tu_size(g.optarg, &v)) {
                sh_errf(c, "shuf: invalid line count: " TXT_LQ "%s" TXT_RQ "\n", g.optarg);
                return 1;
            }
            count = v < count ? v : count;
            break;
        case 'r': repeat = true; break;
        case 'o': case 'z': case 'R': break;
        case XO_VERSION: sys_gnu_version(c, "shuf", "Paul Eggert"); return 0;
        case XO_HELP: sh_outs(c, "Usage: shuf [OPTION]... [FILE]\n  or:  shuf -e [OPTION]... [ARG]...\n"
                                 "  or:  shuf -i LO-HI [OPTION]...\n"); sys_gnu_help_tail(c, "shuf"); return 0;
        default: return sys_usage_gnu(c, "shuf", &g, 1);
        }
    }
    if (echo && range) {
        sh_errs(c, "shuf: cannot combine -e and -i options\n");
        return sys_usage_gnu(c, "shuf", NULL, 1);
    }
    if (range && g.noperands)
        return sys_extra_operand(c, "shuf", g.operands[0], 1);
    if (!echo && !range && g.noperands > 1)
        return sys_extra_operand(c, "shuf", g.operands[1], 1);
    uint64_t seed = (c->persona ? c->persona->seed : 0) ^ (uint64_t)c->now_s * 0x9E3779B97F4A7C15ULL ^
                    (c->sess ? c->sess->shell_pid : 0) ^ (++calls << 32);
    if (!seed)
        seed = 1;
    /* the items: argv (-e), numbers (-i) or input lines */
    struct hp_buf in = { 0 };
    struct tu_lines l = { 0 };
    size_t nitems;
    if (range)
        nitems = hi + 1 - lo > SHUF_RANGE_MAX ? SHUF_RANGE_MAX : (size_t)(hi + 1 - lo);
    else if (echo)
        nitems = (size_t)g.noperands;
    else {
        const uint8_t *d;
        size_t n;
        bool used = false;
        int r = txt_load(c, g.noperands ? g.operands[0] : "-", &used, &in, &d, &n);
        if (r < 0) {
            tu_ferr(c, "shuf", g.operands[0], r, false);
            hp_buf_free(&in);
            return 1;
        }
        tu_split(d, n, SIZE_MAX, &l);
        nitems = l.count;
    }
    size_t *idx = calloc(nitems + 1, sizeof(*idx));
    struct txt_out out;
    txt_out_init(&out, c);
    uint64_t outn = repeat ? (count == UINT64_MAX ? SHUF_REPEAT_MAX : count) : count < nitems ? count : nitems;
    if (repeat && outn > SHUF_REPEAT_MAX)
        outn = SHUF_REPEAT_MAX;
    if (repeat && nitems == 0 && outn) {
        sh_errs(c, "shuf: no lines to repeat\n");
        outn = 0;
    }
    for (size_t k = 0; idx && k < nitems; k++)
        idx[k] = k;
    for (uint64_t k = 0; idx && k < outn; k++) {
        size_t pick;
        if (repeat)
            pick = (size_t)shuf_below(&seed, nitems);
        else {
            size_t j = (size_t)k + (size_t)shuf_below(&seed, nitems - k);
            size_t t = idx[k];
            idx[k] = idx[j];
            idx[j] = t;
            pick = idx[k];
        }
        if (range)
            txt_printf(&out, "%" PRIu64 "\n", lo + (uint64_t)pick);
        else if (echo)
            txt_printf(&out, "%s\n", g.operands[pick]);
        else {
            txt_put(&out, l.p[pick], l.n[pick]);
            txt_putc(&out, '\n');
        }
    }
    txt_out_done(&out);
    free(idx);
    tu_lines_free(&l);
    hp_buf_free(&in);
    return repeat && nitems == 0 && count ? 1 : 0;
}

/* ==== factor ====================================================================== */

#define FACTOR_MAX 64

static uint64_t fa_mulmod(uint64_t a, uint64_t b, uint64_t m)
{
    return (uint64_t)((unsigned __int128)a * b % m);
}

static uint64_t fa_powmod(uint64_t a, uint64_t e, uint64_t m)
{
    uint64_t r = 1;
    for (a %= m; e; e >>= 1, a = fa_mulmod(a, a, m))
        if (e & 1)
            r = fa_mulmod(r, a, m);
    return r;
}

/* Deterministic Miller-Rabin for 64-bit numbers (these 12 bases suffice). */
static bool fa_prime(uint64_t n)
{
    static const uint64_t bases[] = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37 };
    if (n < 2)
        return false;
    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
        if (n % bases[i] == 0)
            return n == bases[i];
    uint64_t d = n - 1;
    int s = 0;
    while (!(d & 1)) {
        d >>= 1;
        s++;
    }
    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
        uint64_t x = fa_powmod(bases[i], d, n);
        if (x == 1 || x == n - 1)
            continue;
        bool comp = true;
        for (int r = 1; r < s && comp; r++) {
            x = fa_mulmod(x, x, n);
            comp = x != n - 1;
        }
        if (comp)
            return false;
    }
    return true;
}

static uint64_t fa_gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Pollard's rho (Brent's cycle): a non-trivial factor of the odd composite n. */
static uint64_t fa_rho(uint64_t n)
{
    for (uint64_t cst = 1; cst < 64; cst++) {
        uint64_t x = 2, y = 2, d = 1;
        for (unsigned steps = 0; d == 1 && steps < 2000000; steps++) {
            x = (fa_mulmod(x, x, n) + cst) % n;
            y = (fa_mulmod(y, y, n) + cst) % n;
            y = (fa_mulmod(y, y, n) + cst) % n;
            d = fa_gcd(x > y ? x - y : y - x, n);
        }
        if (d != 1 && d != n)
            return d;
    }
    return n;
}

static void fa_split(uint64_t n, uint64_t *f, int *nf)
{
    if (n == 1 || *nf >= FACTOR_MAX)
        return;
    if (fa_prime(n)) {
        f[(*nf)++] = n;
        return;
    }
    uint64_t d = fa_rho(n);
    if (d == n) {                 /* not split (never seen for 64-bit inputs): keep it whole */
        f[(*nf)++] = n;
        return;
    }
    fa_split(d, f, nf);
    fa_split(n / d, f, nf);
}

static int fa_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool fa_one(struct sh_cmd *c, struct txt_out *o, const char *s, size_t len)
{
    char num[64];
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    if (len && *s == '+')
        s++, len--;
    bool digits = len > 0;
    for (size_t i = 0; i < len; i++)
        digits = digits && isdigit((unsigned char)s[i]);
    if (!digits || len >= sizeof(num)) {
        txt_flush(o);
        if (digits)
            sh_errf(c, "factor: " TXT_LQ "%.*s" TXT_RQ " is too large\n", (int)(len > 200 ? 200 : len), s);
        else
            sh_errf(c, "factor: " TXT_LQ "%.*s" TXT_RQ " is not a valid positive integer\n",
                    (int)(len > 4096 ? 4096 : len), s);
        return false;
    }
    memcpy(num, s, len);
    num[len] = '\0';
    errno = 0;
    uint64_t n = strtoull(num, NULL, 10);
    if (errno) {
        txt_flush(o);
        sh_errf(c, "factor: " TXT_LQ "%s" TXT_RQ " is too large\n", num);
        return false;
    }
    uint64_t f[FACTOR_MAX], orig = n;
    int nf = 0;
    if (n < 2) {                  /* 0 and 1 have no prime factors */
        txt_printf(o, "%" PRIu64 ":\n", n);
        return true;
    }
    for (uint64_t p = 2; p < 1000 && n > 1 && nf < FACTOR_MAX; p += 1 + (p > 2))
        while (n % p == 0 && nf < FACTOR_MAX) {
            f[nf++] = p;
            n /= p;
        }
    fa_split(n, f, &nf);
    qsort(f, (size_t)nf, sizeof(f[0]), fa_cmp);
    txt_printf(o, "%" PRIu64 ":", orig);
    for (int i = 0; i < nf; i++)
        txt_printf(o, " %" PRIu64, f[i]);
    txt_putc(o, '\n');
    return true;
}

static int cmd_factor(struct sh_cmd *c)
{
    static const struct sys_longopt longs[] = {
        { "exponents", 0, 'h' }, { "help", 0, XO_HELP }, { "version", 0, XO_VERSION }, { NULL, 0, 0 },
    };
    struct sys_getopt g;
    int o;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "h", longs)) != -1) {
        switch (o) {
        case 'h': break;
        case XO_VERSION: sys_gnu_version(c, "factor", "Paul Rubin, Torbjorn Granlund, and Niels Moller"); return 0;
        case XO_HELP: sh_outs(c, "Usage: factor [OPTION]... [NUMBER]...\n"); sys_gnu_help_tail(c, "factor"); return 0;
        default: return sys_usage_gnu(c, "factor", &g, 1);
        }
    }
    struct txt_out out;
    txt_out_init(&out, c);
    int rc = 0;
    if (g.noperands) {
        for (int k = 0; k < g.noperands; k++)
            rc |= !fa_one(c, &out, g.operands[k], strlen(g.operands[k]));
    } else {
        const uint8_t *d = c->in ? c->in : (const uint8_t *)"";
        size_t i = 0, n = c->in_len, runs = 0;
        while (i < n && runs++ < 100000) {
            while (i < n && isspace(d[i]))
                i++;
            size_t s = i;
            while (i < n && !isspace(d[i]))
                i++;
            if (i > s)
                rc |= !fa_one(c, &out, (const char *)d + s, i - s);
        }
    }
    txt_out_done(&out);
    return rc;
}

/* ==== registry ===================================================================== */

const struct sh_cmd_def sh_cmds_textutil[] = {
    { "comm", cmd_comm, false },
    { "expand", cmd_expand, false },
    { "factor", cmd_factor, false },
    { "fold", cmd_fold, false },
    { "nl", cmd_nl, false },
    { "paste", cmd_paste, false },
    { "shuf", cmd_shuf, false },
    { "strings", cmd_strings, false },
    { "tac", cmd_tac, false },
    { "unexpand", cmd_unexpand, false },
    { "xargs", cmd_xargs, false },
    { NULL, NULL, false },
};
