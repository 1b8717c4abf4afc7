/*
 * cmd_shell.c - programs that are also shell built-ins, and the shells
 * themselves (see cmd.h).
 *
 * echo, printf, test/[, true, false and pwd exist both as bash built-ins
 * and as files (/bin/echo, busybox applets); they behave the same here
 * (bash's built-in flavour: bots run them as built-ins).  test also serves
 * bash's [[ ]] (argv[0] "[[", last argument "]]"), where == and != match
 * patterns and && || ( ) combine.  sh, bash, ash and dash hand their text
 * (-c STRING, a script file, or stdin) back to the interpreter through
 * sh_run_script, so a downloaded bins.sh is interpreted, never executed.
 *
 * Everything here is bounded by its inputs: printf reuses its format at
 * most as many times as it has arguments (and once with none).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "parse.h"
#include "buf.h"
#include "util.h"

/* ---- escapes ---------------------------------------------------------------------- */

/*
 * One escape after a backslash for echo -e / printf %b (zero_octal: \0NNN)
 * or printf's format (\NNN).  Appends to out; returns bytes used after the
 * backslash (0: not an escape); *stop for \c.
 */
static bool busybox_octal;         /* set around a busybox echo -e (single-threaded) */

static size_t shell_escape(const char *s, size_t n, bool zero_octal, struct hp_buf *out, bool *stop)
{
    static const char from[] = "abefnrtvE\\";
    static const char to[] = "\a\b\x1b\f\n\r\t\v\x1b\\";
    if (n == 0)
        return 0;
    const char *p = s[0] ? strchr(from, s[0]) : NULL;
    if (p) {
        hp_buf_putc(out, (uint8_t)to[p - from]);
        return 1;
    }
    if (s[0] == 'c') {
        *stop = true;
        return 1;
    }
    if ((s[0] == 'u' || s[0] == 'U') && n > 1 && hp_hexval((unsigned char)s[1]) >= 0) {
        uint32_t v = 0;
        size_t i = 1, max = s[0] == 'u' ? 5 : 9;
        for (; i < n && i < max && hp_hexval((unsigned char)s[i]) >= 0; i++)
            v = v * 16 + (uint32_t)hp_hexval((unsigned char)s[i]);
        if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            v = 0xFFFD;
        if (v < 0x80) {
            hp_buf_putc(out, (uint8_t)v);
        } else if (v < 0x800) {
            hp_buf_putc(out, (uint8_t)(0xC0 | (v >> 6)));
            hp_buf_putc(out, (uint8_t)(0x80 | (v & 0x3F)));
        } else if (v < 0x10000) {
            hp_buf_putc(out, (uint8_t)(0xE0 | (v >> 12)));
            hp_buf_putc(out, (uint8_t)(0x80 | ((v >> 6) & 0x3F)));
            hp_buf_putc(out, (uint8_t)(0x80 | (v & 0x3F)));
        } else {
            hp_buf_putc(out, (uint8_t)(0xF0 | (v >> 18)));
            hp_buf_putc(out, (uint8_t)(0x80 | ((v >> 12) & 0x3F)));
            hp_buf_putc(out, (uint8_t)(0x80 | ((v >> 6) & 0x3F)));
            hp_buf_putc(out, (uint8_t)(0x80 | (v & 0x3F)));
        }
        return i;
    }
    if (s[0] == 'x') {
        unsigned v = 0;
        size_t i = 1;
        for (; i < n && i < 3 && hp_hexval((unsigned char)s[i]) >= 0; i++)
            v = v * 16 + (unsigned)hp_hexval((unsigned char)s[i]);
        if (i == 1)
            return 0;
        hp_buf_putc(out, (uint8_t)v);
        return i;
    }
    /* busybox's echo takes both \NNN and \0NNN (a leading 0 before octal digits is skipped) */
    bool bb = busybox_octal && s[0] >= '0' && s[0] <= '7';
    size_t start = bb ? (s[0] == '0' && n > 1 && s[1] >= '0' && s[1] <= '7' ? 1 : 0)
                      : zero_octal ? (s[0] == '0' ? 1 : 0) : 0;
    if (!bb && zero_octal && s[0] != '0')
        return 0;
    if (!bb && !zero_octal && !(s[0] >= '0' && s[0] <= '7'))
        return 0;
    unsigned v = 0;
    size_t i = start;
    for (; i < n && i < start + 3 && s[i] >= '0' && s[i] <= '7'; i++)
        v = v * 8 + (unsigned)(s[i] - '0');
    hp_buf_putc(out, (uint8_t)v);
    return i;
}

/* Decode backslash escapes of s into out; false after \c. */
static bool decode(const char *s, size_t n, bool zero_octal, struct hp_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            hp_buf_putc(out, (uint8_t)s[i]);
            continue;
        }
        bool stop = false;
        size_t u = shell_escape(s + i + 1, n - i - 1, zero_octal, out, &stop);
        if (stop)
            return false;
        if (u == 0)
            hp_buf_putc(out, '\\');
        i += u;
    }
    return true;
}

/* ---- echo -------------------------------------------------------------------------------- */

static bool echo_opts(const char *a, bool *nl, bool *esc)
{
    if (a[0] != '-' || !a[1])
        return false;
    for (const char *p = a + 1; *p; p++)
        if (!strchr("neE", *p))
            return false;
    for (const char *p = a + 1; *p; p++) {
        if (*p == 'n')
            *nl = false;
        else
            *esc = *p == 'e';
    }
    return true;
}

static int cmd_echo(struct sh_cmd *c)
{
    bool nl = true, esc = false;
    int i = 1;
    while (i < c->argc && echo_opts(c->argv[i], &nl, &esc))
        i++;
    struct hp_buf out;
    hp_buf_init(&out, 4u << 20);
    bool go = true;
    for (int first = i; i < c->argc && go; i++) {
        if (i > first)
            hp_buf_putc(&out, ' ');
        if (esc) {
            busybox_octal = c->persona && c->persona->busybox;
            go = decode(c->argv[i], strlen(c->argv[i]), true, &out);
            busybox_octal = false;
        }
        else
            hp_buf_puts(&out, c->argv[i]);
    }
    if (nl && go)
        hp_buf_putc(&out, '\n');
    sh_out(c, out.data, out.len);
    hp_buf_free(&out);
    return 0;
}

/* ---- printf ------------------------------------------------------------------------------- */

struct pf {
    struct sh_cmd *c;
    int argi;
    int status;
    struct hp_buf out;
};

static const char *pf_next(struct pf *p)
{
    return p->argi < p->c->argc ? p->c->argv[p->argi++] : NULL;
}

static long long pf_num(struct pf *p, const char *a)
{
    if (!a || !*a)
        return 0;
    if (a[0] == '\'' || a[0] == '"')
        return (unsigned char)a[1];
    char *end;
    errno = 0;
    long long v = strtoll(a, &end, 0);
    if (*end || end == a || errno) {
        const char *pn = p->c->persona && p->c->persona->busybox ? "printf" : "-bash: printf";
        sh_errf(p->c, "%s: %s: invalid number\n", pn, a);
        p->status = 1;
    }
    return v;
}

/* %q: bash's shell quoting. */
static void pf_quote(struct hp_buf *o, const char *s)
{
    if (!*s) {
        hp_buf_puts(o, "''");
        return;
    }
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("_/.:-,+@%=", *s)))
            hp_buf_putc(o, '\\');
        hp_buf_putc(o, (uint8_t)*s);
    }
}

/* The conversion specs handed to hp_buf_printf are built here from checked
 * flags, width and precision and a fixed conversion letter. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

/* One conversion at fmt[*i] ('%' seen); false when \c in %b stops all output. */
static bool pf_conv(struct pf *p, const char *fmt, size_t n, size_t *i)
{
    size_t st = *i;
    size_t j = st + 1;
    while (j < n && strchr("-+ #0", fmt[j]) && fmt[j])
        j++;
    char spec[64];
    size_t sl = 0;
    spec[sl++] = '%';
    for (size_t k = st + 1; k < j && sl < 10; k++)
        spec[sl++] = fmt[k];
    int width = -1, prec = -1;
    if (j < n && fmt[j] == '*') {
        width = (int)pf_num(p, pf_next(p));
        j++;
    } else {
        while (j < n && fmt[j] >= '0' && fmt[j] <= '9') {
            width = (width < 0 ? 0 : width) * 10 + (fmt[j++] - '0');
            if (width > 100000)
                width = 100000;
        }
    }
    if (j < n && fmt[j] == '.') {
        j++;
        prec = 0;
        if (j < n && fmt[j] == '*') {
            prec = (int)pf_num(p, pf_next(p));
            j++;
        } else {
            while (j < n && fmt[j] >= '0' && fmt[j] <= '9') {
                prec = prec * 10 + (fmt[j++] - '0');
                if (prec > 100000)
                    prec = 100000;
            }
        }
    }
    while (j < n && strchr("hlLqjzt", fmt[j]) && fmt[j] && fmt[j] != 'q')
        j++;
    if (j >= n) {
        hp_buf_put(&p->out, fmt + st, n - st);
        *i = n;
        return true;
    }
    char conv = fmt[j];
    *i = j + 1;
    if (width > 100000 || width < -100000)
        width = 0;
    if (width >= 0)
        sl += (size_t)snprintf(spec + sl, sizeof(spec) - sl, "%d", width);
    if (prec >= 0)
        sl += (size_t)snprintf(spec + sl, sizeof(spec) - sl, ".%d", prec);
    const char *a;
    switch (conv) {
    case '%':
        hp_buf_putc(&p->out, '%');
        return true;
    case 's': case 'b': case 'q': {
        a = pf_next(p);
        struct hp_buf tmp;
        hp_buf_init(&tmp, 4u << 20);
        bool go = true;
        if (conv == 'b')
            go = decode(a ? a : "", a ? strlen(a) : 0, true, &tmp);
        else if (conv == 'q')
            pf_quote(&tmp, a ? a : "");
        else
            hp_buf_puts(&tmp, a ? a : "");
        spec[sl++] = 's';
        spec[sl] = '\0';
        hp_buf_printf(&p->out, spec, hp_buf_cstr(&tmp));
        hp_buf_free(&tmp);
        return go;
    }
    case 'c':
        a = pf_next(p);
        spec[sl++] = 'c';
        spec[sl] = '\0';
        if (a && *a)
            hp_buf_printf(&p->out, spec, a[0]);
        else if (width > 1)
            hp_buf_printf(&p->out, "%*s", width - 1, "");
        return true;
    case 'd': case 'i': case 'o': case 'u': case 'x': case 'X': {
        long long v = pf_num(p, pf_next(p));
        spec[sl++] = 'l';
        spec[sl++] = 'l';
        spec[sl++] = conv;
        spec[sl] = '\0';
        hp_buf_printf(&p->out, spec, v);
        return true;
    }
    case 'f': case 'e': case 'g': case 'E': case 'G': case 'F': {
        a = pf_next(p);
        double v = a ? strtod(a, NULL) : 0;
        spec[sl++] = conv;
        spec[sl] = '\0';
        hp_buf_printf(&p->out, spec, v);
        return true;
    }
    }
    sh_errf(p->c, "%s: `%c': invalid format character\n",
            p->c->persona && p->c->persona->busybox ? "printf" : "-bash: printf", conv);
    p->status = 1;
    *i = n;
    return false;
}

static int cmd_printf(struct sh_cmd *c)
{
    int first = 1;
    if (first < c->argc && strcmp(c->argv[first], "--") == 0)
        first++;
    if (first >= c->argc) {
        if (c->persona && c->persona->busybox)
            sh_errs(c, "Usage: printf FORMAT [ARG]...\n");
        else
            sh_errs(c, "printf: usage: printf [-v var] format [arguments]\n");
        return c->persona && c->persona->busybox ? 1 : 2;
    }
    struct pf p = { .c = c, .argi = first + 1 };
    hp_buf_init(&p.out, 4u << 20);
    const char *fmt = c->argv[first];
    size_t n = strlen(fmt);
    bool go = true;
    for (int round = 0; go && round < 4096; round++) {
        int before = p.argi;
        for (size_t i = 0; i < n && go;) {
            if (fmt[i] == '%') {
                go = pf_conv(&p, fmt, n, &i);
            } else if (fmt[i] == '\\') {
                bool stop = false;
                size_t u = shell_escape(fmt + i + 1, n - i - 1, false, &p.out, &stop);
                if (stop)
                    go = false;
                if (u == 0)
                    hp_buf_putc(&p.out, '\\');
                i += 1 + u;
            } else {
                hp_buf_putc(&p.out, (uint8_t)fmt[i++]);
            }
        }
        if (p.argi >= c->argc || p.argi == before)
            break;
    }
    sh_out(c, p.out.data, p.out.len);
    hp_buf_free(&p.out);
    return p.status;
}

/* ---- test, [ and [[ --------------------------------------------------------------------------- */

struct tst {
    struct sh_cmd *c;
    char **a;
    int n, i;
    bool dbrack;
    bool err;
    unsigned depth;
};

static bool t_stat(struct tst *t, const char *arg, bool follow, struct sh_stat *st)
{
    char abs[4096];
    if (!t->c->fs || sh_path(t->c, arg, abs, sizeof(abs)) != 0)
        return false;
    return sh_vfs_stat(t->c->fs, abs, follow, st) == 0;
}

static bool t_access(struct tst *t, const char *arg, unsigned mode)
{
    char abs[4096];
    if (!t->c->fs || sh_path(t->c, arg, abs, sizeof(abs)) != 0)
        return false;
    return sh_vfs_access(t->c->fs, abs, mode) == 0;
}

static bool t_int(struct tst *t, const char *s, long long *v)
{
    char *end;
    while (*s == ' ' || *s == '\t')
        s++;
    errno = 0;
    *v = strtoll(s, &end, 10);
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end || end == s || errno) {
        if (!t->err) {
            if (t->c->persona && t->c->persona->busybox)
                sh_errf(t->c, "sh: %s: bad number\n", s);
            else
                sh_errf(t->c, "-bash: %s: %s: integer expression expected\n", t->a[0], s);
        }
        t->err = true;
        return false;
    }
    return true;
}

static bool t_unary(struct tst *t, char op, const char *arg)
{
    struct sh_stat st;
    switch (op) {
    case 'z': return !*arg;
    case 'n': return *arg != '\0';
    case 'e': case 'a': return t_stat(t, arg, true, &st);
    case 'f': return t_stat(t, arg, true, &st) && st.type == SH_FT_REG;
    case 'd': return t_stat(t, arg, true, &st) && st.type == SH_FT_DIR;
    case 'L': case 'h': return t_stat(t, arg, false, &st) && st.type == SH_FT_LNK;
    case 'b': return t_stat(t, arg, true, &st) && st.type == SH_FT_BLK;
    case 'c': return t_stat(t, arg, true, &st) && st.type == SH_FT_CHR;
    case 'p': return t_stat(t, arg, true, &st) && st.type == SH_FT_FIFO;
    case 'S': return t_stat(t, arg, true, &st) && st.type == SH_FT_SOCK;
    case 's': return t_stat(t, arg, true, &st) && st.size > 0;
    case 'r': return t_access(t, arg, 4);
    case 'w': return t_access(t, arg, 2);
    case 'x': return t_access(t, arg, 1);
    case 'u': return t_stat(t, arg, true, &st) && (st.mode & 04000);
    case 'g': return t_stat(t, arg, true, &st) && (st.mode & 02000);
    case 'k': return t_stat(t, arg, true, &st) && (st.mode & 01000);
    case 'O': return t_stat(t, arg, true, &st) && st.uid == t->c->uid;
    case 'G': return t_stat(t, arg, true, &st) && st.gid == t->c->gid;
    case 't': return false;
    }
    return false;
}

static bool is_unary(const char *s)
{
    return s[0] == '-' && s[1] && !s[2] && strchr("zneafdLhbcpSsrwxugkOGt", s[1]);
}

static const char *const binops[] = { "=", "==", "!=", "-eq", "-ne", "-lt", "-gt", "-le", "-ge",
                                      "<", ">", "-nt", "-ot", "-ef", "=~", NULL };

static bool is_binop(const char *s)
{
    for (size_t k = 0; binops[k]; k++)
        if (strcmp(binops[k], s) == 0)
            return true;
    return false;
}

static bool t_binary(struct tst *t, const char *l, const char *op, const char *r)
{
    long long a, b;
    if (strcmp(op, "=") == 0 || strcmp(op, "==") == 0 || strcmp(op, "!=") == 0) {
        bool eq = t->dbrack ? sh_pattern_match(r, strlen(r), l, strlen(l), false) : strcmp(l, r) == 0;
        return op[0] == '!' ? !eq : eq;
    }
    if (strcmp(op, "<") == 0)
        return strcmp(l, r) < 0;
    if (strcmp(op, ">") == 0)
        return strcmp(l, r) > 0;
    if (strcmp(op, "=~") == 0)
        return strstr(l, r) != NULL;      /* a plain substring: regex is not emulated */
    if (op[1] == 'n' || op[1] == 'o' || (op[1] == 'e' && op[2] == 'f')) {
        struct sh_stat x, y;
        bool hx = t_stat(t, l, true, &x), hy = t_stat(t, r, true, &y);
        if (op[1] == 'e')
            return hx && hy && x.ino == y.ino;
        if (op[1] == 'n')
            return hx && (!hy || x.mtime > y.mtime);
        return hy && (!hx || x.mtime < y.mtime);
    }
    if (!t_int(t, l, &a) || !t_int(t, r, &b))
        return false;
    switch (op[1] << 8 | op[2]) {
    case 'e' << 8 | 'q': return a == b;
    case 'n' << 8 | 'e': return a != b;
    case 'l' << 8 | 't': return a < b;
    case 'g' << 8 | 't': return a > b;
    case 'l' << 8 | 'e': return a <= b;
    case 'g' << 8 | 'e': return a >= b;
    }
    return false;
}

static bool t_or(struct tst *t);

static const char *t_peek(struct tst *t, int k)
{
    return t->i + k < t->n ? t->a[t->i + k] : NULL;
}

static bool is_and(struct tst *t, const char *s)
{
    return s && (t->dbrack ? strcmp(s, "&&") == 0 : strcmp(s, "-a") == 0);
}

static bool is_or(struct tst *t, const char *s)
{
    return s && (t->dbrack ? strcmp(s, "||") == 0 : strcmp(s, "-o") == 0);
}

static bool t_prim(struct tst *t)
{
    if (++t->depth > 200 || t->err) {
        t->err = true;
        return false;
    }
    const char *a = t_peek(t, 0);
    bool r = false;
    if (!a) {
        t->err = true;
    } else if (strcmp(a, "!") == 0) {
        t->i++;
        r = !t_prim(t);
    } else if (strcmp(a, "(") == 0) {
        t->i++;
        r = t_or(t);
        if (t_peek(t, 0) && strcmp(t_peek(t, 0), ")") == 0)
            t->i++;
        else
            t->err = true;
    } else if (t_peek(t, 1) && is_binop(t_peek(t, 1)) && t_peek(t, 2)) {
        r = t_binary(t, a, t_peek(t, 1), t_peek(t, 2));
        t->i += 3;
    } else if (is_unary(a) && t_peek(t, 1)) {
        r = t_unary(t, a[1], t_peek(t, 1));
        t->i += 2;
    } else {
        r = *a != '\0';
        t->i++;
    }
    t->depth--;
    return r;
}

static bool t_and(struct tst *t)
{
    bool r = t_prim(t);
    while (!t->err && is_and(t, t_peek(t, 0))) {
        t->i++;
        bool x = t_prim(t);
        r = r && x;
    }
    return r;
}

static bool t_or(struct tst *t)
{
    bool r = t_and(t);
    while (!t->err && is_or(t, t_peek(t, 0))) {
        t->i++;
        bool x = t_and(t);
        r = r || x;
    }
    return r;
}

static int cmd_test(struct sh_cmd *c)
{
    const char *a0 = c->argv[0];
    bool bb = c->persona && c->persona->busybox;
    struct tst t = { .c = c, .a = c->argv + 1, .n = c->argc - 1 };
    if (strcmp(a0, "[") == 0 || strcmp(a0, "[[") == 0) {
        const char *close = a0[1] ? "]]" : "]";
        if (t.n < 1 || strcmp(t.a[t.n - 1], close) != 0) {
            if (bb)
                sh_errf(c, "sh: missing ]\n");
            else
                sh_errf(c, "-bash: [: missing `]'\n");
            return 2;
        }
        t.n--;
        t.dbrack = a0[1] == '[';
    }
    if (t.n == 0)
        return 1;
    bool r;
    /* POSIX rules by argument count keep "[ -n ]" and "[ = ]" right */
    if (t.n == 1) {
        r = t.a[0][0] != '\0';
    } else if (t.n == 2 && strcmp(t.a[0], "!") == 0) {
        r = t.a[1][0] == '\0';
    } else if (t.n == 2 && is_unary(t.a[0])) {
        r = t_unary(&t, t.a[0][1], t.a[1]);
    } else if (t.n == 3 && is_binop(t.a[1])) {
        r = t_binary(&t, t.a[0], t.a[1], t.a[2]);
    } else {
        r = t_or(&t);
        if (!t.err && t.i < t.n) {
            if (!bb)
                sh_errf(c, "-bash: %s: too many arguments\n", a0);
            else
                sh_errf(c, "sh: %s: unknown operand\n", t.a[t.i]);
            return 2;
        }
    }
    if (t.err)
        return 2;
    return r ? 0 : 1;
}

/* ---- small ones ------------------------------------------------------------------------------- */

static int cmd_true(struct sh_cmd *c)
{
    (void)c;
    return 0;
}

static int cmd_false(struct sh_cmd *c)
{
    (void)c;
    return 1;
}

static int cmd_pwd(struct sh_cmd *c)
{
    sh_outf(c, "%s\n", c->cwd ? c->cwd : "/");
    return 0;
}

/* ---- the shells ------------------------------------------------------------------------------- */

static int cmd_sh(struct sh_cmd *c)
{
    int i = 1;
    const char *cstr = NULL;
    for (; i < c->argc && c->argv[i][0] == '-' && c->argv[i][1]; i++) {
        if (strcmp(c->argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strchr(c->argv[i], 'c')) {
            if (i + 1 >= c->argc) {
                sh_errf(c, "%s: -c: option requires an argument\n", c->applet ? c->applet : "sh");
                return 2;
            }
            cstr = c->argv[++i];
            i++;
            break;
        }
        if (strcmp(c->argv[i], "-s") == 0)
            break;                        /* read stdin */
    }
    if (cstr) {
        const char *name = i < c->argc ? c->argv[i] : NULL;
        int rest = i < c->argc ? c->argc - i - 1 : 0;
        return sh_run_script(c, (const uint8_t *)cstr, strlen(cstr), name, rest,
                             rest > 0 ? c->argv + i + 1 : NULL);
    }
    if (i < c->argc && strcmp(c->argv[i], "-s") != 0) {
        const char *file = c->argv[i];
        char abs[4096];
        struct hp_buf b;
        hp_buf_init(&b, SH_VFS_FILE_MAX);
        long r = -ENOENT;
        if (c->fs && sh_path(c, file, abs, sizeof(abs)) == 0)
            r = sh_vfs_read(c->fs, abs, 0, 0, &b);
        if (r < 0) {
            const char *a = c->applet ? c->applet : "sh";
            if (c->persona && c->persona->busybox)
                sh_errf(c, "%s: can't open '%s'\n", a, file);
            else if (strcmp(a, "bash") == 0)
                sh_errf(c, "bash: %s: %s\n", file, sh_strerror((int)r));
            else
                sh_errf(c, "%s: 0: cannot open %s: %s\n", a, file,
                        r == -ENOENT ? "No such file" : sh_strerror((int)r));
            hp_buf_free(&b);
            return r == -ENOENT && !(c->persona && c->persona->busybox) ? 127 : 2;
        }
        sh_vfs_capture(c->fs, abs);
        int st = sh_run_script(c, b.data ? b.data : (const uint8_t *)"", b.len, file, c->argc - i - 1,
                               c->argv + i + 1);
        hp_buf_free(&b);
        return st;
    }
    if (c->in_len == 0)
        return 0;
    /* `| sh`: the script is stdin; its own commands see stdin consumed */
    uint8_t *text = malloc(c->in_len);
    if (!text)
        return 2;
    memcpy(text, c->in, c->in_len);
    size_t len = c->in_len;
    c->in_len = 0;
    int st = sh_run_script(c, text, len, NULL, 0, NULL);
    free(text);
    return st;
}

const struct sh_cmd_def sh_cmds_shell[] = {
    { "[", cmd_test, true },
    { "ash", cmd_sh, false },
    { "bash", cmd_sh, false },
    { "dash", cmd_sh, false },
    { "echo", cmd_echo, true },
    { "false", cmd_false, true },
    { "printf", cmd_printf, true },
    { "pwd", cmd_pwd, true },
    { "sh", cmd_sh, false },
    { "test", cmd_test, true },
    { "true", cmd_true, true },
    { NULL, NULL, false },
};
