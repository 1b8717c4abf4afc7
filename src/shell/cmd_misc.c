/*
 * cmd_misc.c - the rest of what people type on a Debian 12 server (and
 * its busybox counterparts): expr, getent, the disk and mount tools (lsblk,
 * blkid, fdisk -l, findmnt, mountpoint), lsof, vmstat, lastlog,
 * journalctl, ssh-keygen, openssl, locale/timedatectl, small file tools
 * (mkfifo, unlink, truncate, install), process knobs (renice, ionice,
 * taskset, chroot, stdbuf), pagers and editors, the init-script helpers,
 * checksums (cksum, b2sum, base32) and a few more.
 *
 * A program the image holds but nobody emulates runs as a silent success,
 * which is a tell for anything that should print or fail; these fill the
 * gaps bots and curious operators hit.  Facts come from the personality
 * (mounts, processes, disks) and the vfs (/etc/passwd, /etc/group,
 * /etc/hosts), so getent, lsblk and df agree with each other.  Keys made
 * by ssh-keygen are well-formed OpenSSH files (ed25519 keys are real ones
 * from OpenSSL; RSA ones random bytes in a valid layout, never used), with
 * fingerprints computed over their blobs.  Texts: coreutils 9.1,
 * util-linux 2.38, procps-ng 4.0.2, systemd 252, OpenSSH 9.2p1, OpenSSL
 * 3.0; busybox applets on busybox personalities.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "cmd_fs.h"
#include "cmd_sys.h"
#include "cmd_text.h"
#include "buf.h"
#include "util.h"

#define MISC_DEPTH_MAX 256        /* expr parenthesis nesting */
#define LQ TXT_LQ
#define RQ TXT_RQ

/* ==== expr ====================================================================================== */

struct expr_st {
    struct sh_cmd *c;
    char **av;
    int ac, i;
    bool bb;
    int err;                      /* 0, 2 syntax/usage, 3 other */
    int depth;
};

/* Values are malloc'd strings; integers are strings that parse. */
static char *ex_str(const char *s) { return hp_xstrdup(s); }

static char *ex_strn(const char *s, size_t n)
{
    char *r = malloc(n + 1);
    if (!r)
        abort();
    memcpy(r, s, n);
    r[n] = '\0';
    return r;
}

static char *ex_num(long long v)
{
    char b[32];
    snprintf(b, sizeof(b), "%lld", v);
    return ex_str(b);
}

static bool ex_isint(const char *s, long long *v)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (!*p)
        return false;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    errno = 0;
    *v = strtoll(s, NULL, 10);
    return errno == 0;
}

static bool ex_null(const char *s)
{
    if (!*s)
        return true;
    const char *p = s + (*s == '-');
    if (!*p)
        return false;
    for (; *p; p++)
        if (*p != '0')
            return false;
    return true;
}

static void ex_fail(struct expr_st *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void ex_fail(struct expr_st *e, int code, const char *fmt, ...)
{
    if (e->err)
        return;
    e->err = code;
    if (e->bb) {
        sh_errf(e->c, "expr: %s\n", code == 2 && strstr(fmt, "syntax") ? "syntax error" : fmt);
        return;
    }
    struct hp_buf b;
    hp_buf_init(&b, 8192);
    hp_buf_puts(&b, "expr: ");
    va_list ap;
    va_start(ap, fmt);
    hp_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    hp_buf_putc(&b, '\n');
    sh_err(e->c, b.data, b.len);
    hp_buf_free(&b);
}

static const char *ex_peek(struct expr_st *e) { return e->i < e->ac ? e->av[e->i] : NULL; }

static bool ex_is(struct expr_st *e, const char *op)
{
    const char *t = ex_peek(e);
    return t && !strcmp(t, op);
}

static char *ex_or(struct expr_st *e);

/* "STRING : REGEX": the \( \) group, or the length of the anchored match. */
static char *ex_match(struct expr_st *e, const char *s, const char *pat)
{
    struct txt_re re;
    char err[256];
    if (txt_re_comp(&re, pat, strlen(pat), 0, err, sizeof(err)) != 0) {
        ex_fail(e, 2, "%s", err);
        return ex_str("");
    }
    regmatch_t m[2];
    bool sub = re.re.re_nsub > 0;
    char *r;
    if (txt_re_exec(&re, (const uint8_t *)s, strlen(s), 0, 2, m, 0) == 0 && m[0].rm_so == 0) {
        if (!sub)
            r = ex_num(m[0].rm_eo);
        else if (m[1].rm_so >= 0)
            r = ex_strn(s + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
        else
            r = ex_str("");
    } else {
        r = sub ? ex_str("") : ex_num(0);
    }
    txt_re_free(&re);
    return r;
}

static char *ex_primary(struct expr_st *e)
{
    const char *t = ex_peek(e);
    if (!t) {
        if (e->i > 0)
            ex_fail(e, 2, "syntax error: missing argument after " LQ "%s" RQ, e->av[e->i - 1]);
        else
            ex_fail(e, 2, "syntax error");
        return ex_str("");
    }
    if (++e->depth > MISC_DEPTH_MAX) {
        ex_fail(e, 2, "syntax error");
        return ex_str("");
    }
    char *r = NULL;
    e->i++;
    if (!strcmp(t, "(")) {
        r = ex_or(e);
        if (!ex_is(e, ")")) {
            if (ex_peek(e))
                ex_fail(e, 2, "syntax error: expecting ')' instead of " LQ "%s" RQ, ex_peek(e));
            else
                ex_fail(e, 2, "syntax error: expecting ')' after " LQ "%s" RQ, e->av[e->i - 1]);
        } else {
            e->i++;
        }
    } else if (!strcmp(t, "+") && ex_peek(e)) {
        r = ex_str(e->av[e->i++]);
    } else if (!strcmp(t, "length") && ex_peek(e)) {
        char *a = ex_primary(e);
        r = ex_num((long long)strlen(a));
        free(a);
    } else if ((!strcmp(t, "match") || !strcmp(t, "index")) && ex_peek(e)) {
        char *a = ex_primary(e), *b = ex_primary(e);
        if (t[0] == 'm') {
            r = ex_match(e, a, b);
        } else {
            size_t pos = strcspn(a, b);
            r = ex_num(a[pos] ? (long long)pos + 1 : 0);
        }
        free(a);
        free(b);
    } else if (!strcmp(t, "substr") && ex_peek(e)) {
        char *s = ex_primary(e), *p = ex_primary(e), *l = ex_primary(e);
        long long pos, len, n = (long long)strlen(s);
        if (!ex_isint(p, &pos) || !ex_isint(l, &len) || pos < 1 || len < 1 || pos > n)
            r = ex_str("");
        else
            r = ex_strn(s + pos - 1, (size_t)(len > n - pos + 1 ? n - pos + 1 : len));
        free(s);
        free(p);
        free(l);
    } else if (!strcmp(t, ")") || (!e->bb && (!strcmp(t, "|") || !strcmp(t, "&")))) {
        ex_fail(e, 2, "syntax error: unexpected argument " LQ "%s" RQ, t);
        r = ex_str("");
    } else {
        r = ex_str(t);
    }
    e->depth--;
    return r ? r : ex_str("");
}

static char *ex_colon(struct expr_st *e)
{
    char *l = ex_primary(e);
    while (!e->err && ex_is(e, ":")) {
        e->i++;
        char *r = ex_primary(e);
        char *m = ex_match(e, l, r);
        free(l);
        free(r);
        l = m;
    }
    return l;
}

/* Integer operators: * / % (mul) and + - (add). */
static char *ex_arith(struct expr_st *e, bool mul)
{
    char *l = mul ? ex_colon(e) : ex_arith(e, true);
    for (;;) {
        const char *t = ex_peek(e);
        if (e->err || !t || strlen(t) != 1 || !strchr(mul ? "*/%" : "+-", t[0]))
            return l;
        char op = t[0];
        e->i++;
        char *r = mul ? ex_colon(e) : ex_arith(e, true);
        long long a, b, v = 0;
        if (e->err) {
            free(r);
            return l;
        }
        if (!ex_isint(l, &a) || !ex_isint(r, &b)) {
            if (e->bb)
                ex_fail(e, 2, "non-numeric argument");
            else
                ex_fail(e, 2, "non-integer argument");
        } else if ((op == '/' || op == '%') && b == 0) {
            ex_fail(e, 2, "division by zero");
        } else if ((op == '+' && __builtin_add_overflow(a, b, &v)) ||
                   (op == '-' && __builtin_sub_overflow(a, b, &v)) ||
                   (op == '*' && __builtin_mul_overflow(a, b, &v)) || ((op == '/' || op == '%') && a == LLONG_MIN && b == -1)) {
            ex_fail(e, 3, "integer result too large");
        } else if (op == '/') {
            v = a / b;
        } else if (op == '%') {
            v = a % b;
        }
        free(l);
        free(r);
        l = ex_num(v);
    }
}

static int ex_cmp(const char *a, const char *b)
{
    long long x, y;
    if (ex_isint(a, &x) && ex_isint(b, &y))
        return x < y ? -1 : x > y;
    int r = strcoll(a, b);
    return r < 0 ? -1 : r > 0;
}

static char *ex_rel(struct expr_st *e)
{
    static const char *const ops[] = { "<", "<=", "=", "==", "!=", ">=", ">", NULL };
    char *l = ex_arith(e, false);
    for (;;) {
        const char *t = ex_peek(e);
        int k = -1;
        for (int i = 0; t && ops[i]; i++)
            if (!strcmp(t, ops[i]))
                k = i;
        if (e->err || k < 0)
            return l;
        e->i++;
        char *r = ex_arith(e, false);
        int c = ex_cmp(l, r);
        bool v = k == 0 ? c < 0 : k == 1 ? c <= 0 : k <= 3 ? c == 0 : k == 4 ? c != 0 : k == 5 ? c >= 0 : c > 0;
        free(l);
        free(r);
        l = ex_num(v);
    }
}

static char *ex_and(struct expr_st *e)
{
    char *l = ex_rel(e);
    while (!e->err && ex_is(e, "&")) {
        e->i++;
        char *r = ex_rel(e);
        bool v = !ex_null(l) && !ex_null(r);
        free(r);
        if (!v) {
            free(l);
            l = ex_num(0);
        }
    }
    return l;
}

static char *ex_or(struct expr_st *e)
{
    char *l = ex_and(e);
    while (!e->err && ex_is(e, "|")) {
        e->i++;
        char *r = ex_and(e);
        if (ex_null(l)) {
            free(l);
            l = ex_null(r) ? (free(r), ex_num(0)) : r;
        } else {
            free(r);
        }
    }
    return l;
}

static int cmd_expr(struct sh_cmd *c)
{
    struct expr_st e = { .c = c, .av = c->argv + 1, .ac = c->argc - 1, .bb = fs_bb(c) };
    if (!e.bb && e.ac == 1 && !strcmp(e.av[0], "--version")) {
        sys_gnu_version(c, "expr", "Mike Parker, James Youngman, and Paul Eggert");
        return 0;
    }
    if (!e.bb && e.ac == 1 && !strcmp(e.av[0], "--help")) {
        sh_outs(c, "Usage: expr EXPRESSION\n  or:  expr OPTION\n\n");
        return 0;
    }
    if (!e.bb && e.ac > 0 && !strcmp(e.av[0], "--"))
        e.av++, e.ac--;
    if (e.ac < 1) {
        if (e.bb)
            return sys_usage_bb(c, "expr", NULL, "EXPRESSION\n\nPrint the value of EXPRESSION to stdout");
        sh_errs(c, "expr: missing operand\nTry 'expr --help' for more information.\n");
        return 2;
    }
    txt_re_budget(c);
    char *r = ex_or(&e);
    if (!e.err && e.i < e.ac)
        ex_fail(&e, 2, "syntax error: unexpected argument " LQ "%s" RQ, e.av[e.i]);
    int rc = e.err ? e.err : ex_null(r) ? 1 : 0;
    if (!e.err)
        sh_outf(c, "%s\n", r);
    free(r);
    return rc;
}

/* ==== getent ============================================================================== */

/* Lines of a colon file whose first field (or third, numeric) is key. */
static int getent_colon(struct sh_cmd *c, const char *path, int nkeys, char **keys)
{
    struct hp_buf b;
    hp_buf_init(&b, SH_VFS_FILE_MAX);
    if (sys_read_file(c, path, &b) < 0) {
        hp_buf_free(&b);
        return 2;
    }
    const uint8_t *line;
    size_t pos = 0, n;
    bool nl;
    int rc = 0;
    if (nkeys == 0) {
        while (txt_line(b.data, b.len, &pos, &line, &n, &nl))
            if (n && line[0] != '#')
                sh_outf(c, "%.*s\n", (int)n, (const char *)line);
        hp_buf_free(&b);
        return 0;
    }
    for (int k = 0; k < nkeys; k++) {
        bool found = false;
        for (pos = 0; !found && txt_line(b.data, b.len, &pos, &line, &n, &nl);) {
            size_t f1 = 0;
            while (f1 < n && line[f1] != ':')
                f1++;
            bool hit = f1 == strlen(keys[k]) && memcmp(line, keys[k], f1) == 0;
            if (!hit && keys[k][0] >= '0' && keys[k][0] <= '9') {
                /* numeric key: the third field (uid or gid) */
                size_t f = 0, col = 0, s = 0;
                for (; f <= n && col < 3; f++)
                    if (f == n || line[f] == ':') {
                        if (++col == 3)
                            hit = f - s == strlen(keys[k]) && memcmp(line + s, keys[k], f - s) == 0;
                        s = f + 1;
                    }
            }
            if (hit) {
                sh_outf(c, "%.*s\n", (int)n, (const char *)line);
                found = true;
            }
        }
        if (!found)
            rc = 2;
    }
    hp_buf_free(&b);
    return rc;
}

/* /etc/hosts: "ADDR            NAMES" for a name or an address. */
static int getent_hosts(struct sh_cmd *c, int nkeys, char **keys)
{
    struct hp_buf b;
    hp_buf_init(&b, SH_VFS_FILE_MAX);
    sys_read_file(c, "/etc/hosts", &b);
    int rc = 0;
    for (int k = 0; k < (nkeys ? nkeys : 1); k++) {
        bool found = false;
        const uint8_t *line;
        size_t pos = 0, n;
        bool nl;
        while (txt_line(b.data, b.len, &pos, &line, &n, &nl) && !(found && nkeys)) {
            char l[1024], *save = NULL, *w[32];
            int nw = 0;
            snprintf(l, sizeof(l), "%.*s", (int)n, (const char *)line);
            l[strcspn(l, "#")] = '\0';
            for (char *t = strtok_r(l, " \t", &save); t && nw < 32; t = strtok_r(NULL, " \t", &save))
                w[nw++] = t;
            if (nw < 2 || (!nkeys && strchr(w[0], ':')))
                continue;
            bool hit = !nkeys || !strcmp(w[0], keys[k]);
            for (int i = 1; i < nw && !hit; i++)
                hit = !strcasecmp(w[i], keys[k]);
            if (!hit)
                continue;
            found = true;
            struct hp_buf o;
            hp_buf_init(&o, 2048);
            hp_buf_printf(&o, "%-15s", w[0]);
            for (int i = 1; i < nw; i++)
                hp_buf_printf(&o, " %s", w[i]);
            hp_buf_putc(&o, '\n');
            sh_out(c, o.data, o.len);
            hp_buf_free(&o);
        }
        if (nkeys && !found)
            rc = 2;
    }
    hp_buf_free(&b);
    return rc;
}

static int cmd_getent(struct sh_cmd *c)
{
    static const char *const known[] = { "ahosts", "ahostsv4", "ahostsv6", "aliases", "ethers", "group",
                                         "gshadow", "hosts", "initgroups", "netgroup", "networks", "passwd",
                                         "protocols", "rpc", "services", "shadow", NULL };
    if (c->argc > 1 && !strcmp(c->argv[1], "--version")) {
        sh_outs(c, "getent (Debian GLIBC 2.36-9+deb12u4) 2.36\n");
        return 0;
    }
    if (c->argc < 2) {
        sh_errs(c, "getent: wrong number of arguments\n"
                   "Try `getent --help' or `getent --usage' for more information.\n");
        return 1;
    }
    const char *db = c->argv[1];
    bool ok = false;
    for (size_t i = 0; known[i]; i++)
        ok |= !strcmp(known[i], db);
    if (!ok) {
        sh_errf(c, "Unknown database: %s\nTry `getent --help' or `getent --usage' for more information.\n", db);
        return 1;
    }
    int nk = c->argc - 2;
    char **keys = c->argv + 2;
    if (!strcmp(db, "passwd"))
        return getent_colon(c, "/etc/passwd", nk, keys);
    if (!strcmp(db, "group"))
        return getent_colon(c, "/etc/group", nk, keys);
    if (!strcmp(db, "shadow") || !strcmp(db, "gshadow")) {
        if (c->uid != 0)
            return nk ? 2 : 0;
        return getent_colon(c, db[0] == 's' ? "/etc/shadow" : "/etc/gshadow", nk, keys);
    }
    if (!strcmp(db, "hosts") || !strncmp(db, "ahosts", 6))
        return getent_hosts(c, nk, keys);
    return nk ? 2 : 0;
}

/* ==== disks and mounts ========================================================================= */

/* The Debian cloud image's disk: the root partition (the personality's),
 * BIOS boot 14 and EFI 15, GPT.  Sizes in 512-byte sectors. */
struct dk_part {
    int num;
    uint64_t start, end;
    const char *type, *mnt;
};

struct dk {
    char name[24];                /* "vda" */
    unsigned major;
    uint64_t sectors;
    struct dk_part p[3];
    char uuid_root[64], uuid_efi[64];
};

static bool dk_layout(struct sh_cmd *c, struct dk *d)
{
    const struct hp_mount *m;
    size_t n = hp_persona_mounts(c->persona, &m);
    const struct hp_mount *root = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(m[i].mountpoint, "/") && !strncmp(m[i].device, "/dev/", 5))
            root = &m[i];
    if (!root || c->persona->busybox)
        return false;
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", root->device + 5);
    d->name[strcspn(d->name, "0123456789")] = '\0';
    d->major = !strncmp(d->name, "sd", 2) ? 8 : !strncmp(d->name, "xvd", 3) ? 202 : 254;
    uint64_t gib = 2097152, need = root->size_kb * 2 + 262144 + 34;
    d->sectors = (need + gib - 1) / gib * gib;
    d->p[0] = (struct dk_part){ 1, 262144, d->sectors - 34, "Linux filesystem", "/" };
    d->p[1] = (struct dk_part){ 14, 2048, 8191, "BIOS boot", "" };
    d->p[2] = (struct dk_part){ 15, 8192, 262143, "EFI System", "/boot/efi" };
    /* UUIDs as /etc/fstab names them, so blkid and fstab agree */
    struct hp_buf b;
    hp_buf_init(&b, 65536);
    sys_read_file(c, "/etc/fstab", &b);
    const uint8_t *line;
    size_t pos = 0, ln;
    bool nl;
    while (txt_line(b.data, b.len, &pos, &line, &ln, &nl)) {
        char l[512], u[64], mp[256];
        snprintf(l, sizeof(l), "%.*s", (int)ln, (const char *)line);
        if (sscanf(l, "UUID=%63s %255s", u, mp) == 2)
            snprintf(!strcmp(mp, "/") ? d->uuid_root : d->uuid_efi, 64, "%s", u);
    }
    hp_buf_free(&b);
    return true;
}

/* util-linux size_to_human_string: "19.9G" (or "19.9 GiB" with iec). */
static void ul_human(uint64_t bytes, bool iec, char *out, size_t n)
{
    static const char letters[] = "BKMGTPE";
    int exp = 0;
    uint64_t v = bytes, frac = 0;
    while (v >= 1024 && exp < 6) {
        frac = v % 1024;
        v /= 1024;
        exp++;
    }
    unsigned dec = (unsigned)((frac * 10 + 512) / 1024);
    if (dec >= 10) {
        v++;
        dec = 0;
    }
    char unit[16];
    if (iec)
        snprintf(unit, sizeof(unit), exp ? " %ciB" : " B", letters[exp]);
    else
        snprintf(unit, sizeof(unit), "%c", letters[exp]);
    char num[48];
    if (dec)
        snprintf(num, sizeof(num), "%llu.%u", (unsigned long long)v, dec);
    else
        snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
    if (strlen(num) + strlen(unit) < n) {
        memcpy(out, num, strlen(num));
        memcpy(out + strlen(num), unit, strlen(unit) + 1);
    } else if (n) {
        out[0] = '\0';
    }
}

static void dk_id(const struct sh_cmd *c, const char *what, char *out, size_t n, bool upper)
{
    uint8_t md[32];
    char in[128];
    unsigned len = 0;
    snprintf(in, sizeof(in), "%llu:%s", (unsigned long long)c->persona->seed, what);
    EVP_Digest(in, strlen(in), md, &len, EVP_sha256(), NULL);
    snprintf(out, n, upper ? "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X"
                           : "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             md[0], md[1], md[2], md[3], md[4], md[5], 0x40 | (md[6] & 15), md[7], 0x80 | (md[8] & 0x3f), md[9],
             md[10], md[11], md[12], md[13], md[14], md[15]);
}

static int cmd_lsblk(struct sh_cmd *c)
{
    struct dk d;
    if (!dk_layout(c, &d))
        return 0;
    char size[4][32], name[4][48], majmin[4][32];
    int cells[4], nw = 4, sw = 4;
    for (int i = 0; i < 4; i++) {
        uint64_t sectors = i == 0 ? d.sectors : d.p[i - 1].end - d.p[i - 1].start + 1;
        int num = i == 0 ? 0 : d.p[i - 1].num;
        ul_human(sectors * 512, false, size[i], sizeof(size[i]));
        if (i == 0)
            snprintf(name[i], sizeof(name[i]), "%s", d.name);
        else
            snprintf(name[i], sizeof(name[i]), "%s%s%d", i == 3 ? "\xe2\x94\x94\xe2\x94\x80" : "\xe2\x94\x9c\xe2\x94\x80",
                     d.name, num);
        /* the tree glyphs are 2 cells but 6 bytes: widths count cells */
        cells[i] = (int)strlen(d.name) + (i ? 2 + (num > 9 ? 2 : 1) : 0);
        snprintf(majmin[i], sizeof(majmin[i]), "%3u:%-3d", d.major, num);
        nw = cells[i] > nw ? cells[i] : nw;
        sw = (int)strlen(size[i]) > sw ? (int)strlen(size[i]) : sw;
    }
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    hp_buf_printf(&b, "%-*s MAJ:MIN RM %*s RO TYPE MOUNTPOINTS\n", nw, "NAME", sw, "SIZE");
    for (int i = 0; i < 4; i++)
        hp_buf_printf(&b, "%s%*s %s  0 %*s  0 %s %s\n", name[i], nw - cells[i], "", majmin[i], sw, size[i],
                      i ? "part" : "disk", i ? d.p[i - 1].mnt : "");
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

static int cmd_blkid(struct sh_cmd *c)
{
    if (c->persona->busybox) {
        const struct hp_mount *m;
        size_t n = hp_persona_mounts(c->persona, &m);
        for (size_t i = 0; i < n; i++)
            if (!strncmp(m[i].device, "/dev/", 5))
                sh_outf(c, "%s: TYPE=\"%s\"\n", m[i].device, m[i].type);
        return 0;
    }
    struct dk d;
    if (c->uid != 0 || !dk_layout(c, &d))
        return 2;
    char pu[3][64];
    for (int i = 0; i < 3; i++) {
        char w[16];
        snprintf(w, sizeof(w), "part%d", d.p[i].num);
        dk_id(c, w, pu[i], sizeof(pu[i]), false);
    }
    sh_outf(c, "/dev/%s1: UUID=\"%s\" BLOCK_SIZE=\"4096\" TYPE=\"ext4\" PARTUUID=\"%s\"\n", d.name, d.uuid_root,
            pu[0]);
    sh_outf(c, "/dev/%s14: PARTUUID=\"%s\"\n", d.name, pu[1]);
    sh_outf(c, "/dev/%s15: SEC_TYPE=\"msdos\" UUID=\"%s\" BLOCK_SIZE=\"512\" TYPE=\"vfat\" PARTUUID=\"%s\"\n",
            d.name, d.uuid_efi, pu[2]);
    return 0;
}

static int cmd_fdisk(struct sh_cmd *c)
{
    bool list = false;
    for (int i = 1; i < c->argc; i++)
        if (!strcmp(c->argv[i], "-l") || !strcmp(c->argv[i], "--list"))
            list = true;
    struct dk d;
    bool have = dk_layout(c, &d);
    if (!list) {
        if (c->persona->busybox)
            return sys_usage_bb(c, "fdisk", NULL, "[-ul] [-C CYLINDERS] [-H HEADS] [-S SECTORS] [-b SSZ] DISK\n\n"
                                                  "Change partition table\n\n\t-u\t\tStart and End are in sectors "
                                                  "(instead of cylinders)\n\t-l\t\tShow partition table for each DISK, "
                                                  "then exit");
        if (c->argc < 2) {
            sh_errs(c, "Usage:\n fdisk [options] <disk>         change partition table\n"
                       " fdisk [options] -l [<disk>...] list partition table(s)\n\n"
                       "Display or manipulate a disk partition table.\n");
            return 1;
        }
    }
    if (c->uid != 0 || !have) {
        if (have && c->argc <= 2)
            sh_errf(c, "fdisk: cannot open /dev/%s: Permission denied\n", d.name);
        else if (c->argc > 2 || (!list && c->argc == 2))
            sh_errf(c, "fdisk: cannot open %s: %s\n", c->argv[c->argc - 1], have ? "Permission denied"
                                                                                   : "No such file or directory");
        return 1;
    }
    if (!list) {
        sh_outs(c, "\nWelcome to fdisk (util-linux 2.38.1).\nChanges will remain in memory only, until you decide "
                   "to write them.\nBe careful before using the write command.\n\n\nCommand (m for help): ");
        return 0;
    }
    char size[32], ident[64];
    dk_id(c, "disk", ident, sizeof(ident), true);
    ul_human(d.sectors * 512, true, size, sizeof(size));
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    hp_buf_printf(&b, "Disk /dev/%s: %s, %llu bytes, %llu sectors\n", d.name, size,
                  (unsigned long long)d.sectors * 512, (unsigned long long)d.sectors);
    if (d.major == 8)
        hp_buf_puts(&b, "Disk model: QEMU HARDDISK   \n");
    hp_buf_printf(&b, "Units: sectors of 1 * 512 = 512 bytes\nSector size (logical/physical): 512 bytes / 512 bytes\n"
                      "I/O size (minimum/optimal): 512 bytes / 512 bytes\nDisklabel type: gpt\n"
                      "Disk identifier: %s\n\n", ident);
    char st[3][24], en[3][24], se[3][24], sz[3][32];
    int w[4] = { 5, 3, 7, 4 };
    for (int i = 0; i < 3; i++) {
        snprintf(st[i], 24, "%llu", (unsigned long long)d.p[i].start);
        snprintf(en[i], 24, "%llu", (unsigned long long)d.p[i].end);
        snprintf(se[i], 24, "%llu", (unsigned long long)(d.p[i].end - d.p[i].start + 1));
        ul_human((d.p[i].end - d.p[i].start + 1) * 512, false, sz[i], 32);
        const char *f[4] = { st[i], en[i], se[i], sz[i] };
        for (int k = 0; k < 4; k++)
            if ((int)strlen(f[k]) > w[k])
                w[k] = (int)strlen(f[k]);
    }
    int dw = 5 + (int)strlen(d.name) + 2;
    hp_buf_printf(&b, "%-*s %*s %*s %*s %*s Type\n", dw, "Device", w[0], "Start", w[1], "End", w[2], "Sectors",
                  w[3], "Size");
    for (int i = 0; i < 3; i++) {
        char dev[48];
        snprintf(dev, sizeof(dev), "/dev/%s%d", d.name, d.p[i].num);
        hp_buf_printf(&b, "%-*s %*s %*s %*s %*s %s\n", dw, dev, w[0], st[i], w[1], en[i], w[2], se[i], w[3], sz[i],
                      d.p[i].type);
    }
    hp_buf_puts(&b, "\nPartition table entries are not in disk order.\n");
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

/* A text table as util-linux and lsof print them: columns as wide as
 * their widest cell (counted in cells, not bytes), one space apart, the
 * last one unpadded.  align: 'l' or 'r' per column. */
#define TBL_COLS 10
#define TBL_ROWS 2000

struct tbl {
    int ncol;
    const char *align;
    char **v;
    size_t n;                     /* cells */
};

static int tbl_cells(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static void tbl_row(struct tbl *t, const char *const *cells)
{
    if (t->n / (size_t)t->ncol >= TBL_ROWS)
        return;
    char **nv = realloc(t->v, (t->n + (size_t)t->ncol) * sizeof(*nv));
    if (!nv)
        return;
    t->v = nv;
    for (int i = 0; i < t->ncol; i++)
        t->v[t->n++] = hp_xstrdup(cells[i] ? cells[i] : "");
}

static void tbl_free(struct tbl *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

static void tbl_print(struct sh_cmd *c, struct tbl *t)
{
    int w[TBL_COLS] = { 0 };
    for (size_t i = 0; i < t->n; i++) {
        int k = (int)(i % (size_t)t->ncol), cl = tbl_cells(t->v[i]);
        w[k] = cl > w[k] ? cl : w[k];
    }
    struct hp_buf b;
    hp_buf_init(&b, 4u << 20);
    for (size_t i = 0; i < t->n; i++) {
        int k = (int)(i % (size_t)t->ncol), pad = w[k] - tbl_cells(t->v[i]);
        bool last = k == t->ncol - 1;
        if (t->align[k] == 'r')
            hp_buf_printf(&b, "%*s%s", pad, "", t->v[i]);
        else
            hp_buf_printf(&b, "%s%*s", t->v[i], last ? 0 : pad, "");
        hp_buf_putc(&b, last ? '\n' : ' ');
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    tbl_free(t);
}

/* The mount whose mount point most closely contains mount i (-1: none). */
static int fm_parent(const struct hp_mount *m, size_t n, size_t i)
{
    int best = -1;
    size_t bl = 0;
    for (size_t k = 0; k < n; k++) {
        if (k == i)
            continue;
        size_t l = strlen(m[k].mountpoint);
        bool inside = !strcmp(m[k].mountpoint, "/") ? strcmp(m[i].mountpoint, "/") != 0
                                                      : !strncmp(m[i].mountpoint, m[k].mountpoint, l) &&
                                                            m[i].mountpoint[l] == '/';
        if (inside && l >= bl && (best < 0 || l > bl || k < (size_t)best)) {
            best = (int)k;
            bl = l;
        }
    }
    return best;
}

static void fm_tree(const struct hp_mount *m, size_t n, int parent, const char *prefix, struct tbl *t, int depth)
{
    int kids[64], nk = 0;
    for (size_t i = 0; i < n && nk < 64; i++)
        if (fm_parent(m, n, i) == parent && (parent >= 0 || !strcmp(m[i].mountpoint, "/")))
            kids[nk++] = (int)i;
    if (parent < 0 && nk > 1)
        nk = 1;
    for (int k = 0; k < nk && depth < 8; k++) {
        const struct hp_mount *x = &m[kids[k]];
        char target[512], sub[256];
        bool last = k == nk - 1;
        snprintf(target, sizeof(target), "%s%s%s", prefix,
                 parent < 0 ? "" : last ? "\xe2\x94\x94\xe2\x94\x80" : "\xe2\x94\x9c\xe2\x94\x80", x->mountpoint);
        const char *row[4] = { target, x->device, x->type, x->options };
        tbl_row(t, row);
        snprintf(sub, sizeof(sub), "%s%s", prefix, parent < 0 ? "" : last ? "  " : "\xe2\x94\x82 ");
        fm_tree(m, n, kids[k], sub, t, depth + 1);
    }
}

static int cmd_findmnt(struct sh_cmd *c)
{
    const struct hp_mount *m;
    size_t n = hp_persona_mounts(c->persona, &m);
    bool heads = true, list = false;
    const char *want = NULL, *type = NULL;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (!strcmp(a, "-n") || !strcmp(a, "--noheadings"))
            heads = false;
        else if (!strcmp(a, "-l") || !strcmp(a, "--list"))
            list = true;
        else if ((!strcmp(a, "-t") || !strcmp(a, "--types")) && i + 1 < c->argc)
            type = c->argv[++i], list = true;
        else if (a[0] != '-')
            want = a;
    }
    struct tbl t = { .ncol = 4, .align = "llll" };
    if (heads) {
        static const char *const h[4] = { "TARGET", "SOURCE", "FSTYPE", "OPTIONS" };
        tbl_row(&t, h);
    }
    size_t rows = 0;
    if (!want && !list) {
        fm_tree(m, n, -1, "", &t, 0);
        rows = 1;
    } else {
        for (size_t i = 0; i < n; i++) {
            if (want && strcmp(m[i].mountpoint, want) && strcmp(m[i].device, want))
                continue;
            if (type && strcmp(m[i].type, type))
                continue;
            const char *row[4] = { m[i].mountpoint, m[i].device, m[i].type, m[i].options };
            tbl_row(&t, row);
            rows++;
        }
    }
    if (rows)
        tbl_print(c, &t);
    else
        tbl_free(&t);
    return rows ? 0 : 1;
}

static int cmd_mountpoint(struct sh_cmd *c)
{
    bool quiet = false, bb = fs_bb(c);
    const char *dir = NULL;
    for (int i = 1; i < c->argc; i++) {
        if (!strcmp(c->argv[i], "-q") || !strcmp(c->argv[i], "--quiet"))
            quiet = true;
        else if (c->argv[i][0] != '-' || !c->argv[i][1])
            dir = c->argv[i];
    }
    if (!dir) {
        if (bb)
            return sys_usage_bb(c, "mountpoint", NULL, "[-q] { [-dn] DIR | -x DEVICE }");
        sh_errs(c, "mountpoint: bad usage\nTry 'mountpoint --help' for more information.\n");
        return 1;
    }
    char p[FS_PATH_MAX], real[FS_PATH_MAX];
    struct sh_stat st;
    int e = fs_abs(c, dir, p);
    if (e == 0)
        e = sh_vfs_stat(c->fs, p, true, &st);
    if (e == 0)
        e = sh_vfs_realpath(c->fs, p, real, sizeof(real));
    if (e < 0) {
        if (!quiet)
            sh_errf(c, "mountpoint: %s: %s\n", dir, sh_strerror(e));
        return 1;
    }
    const struct hp_mount *m;
    size_t n = hp_persona_mounts(c->persona, &m);
    bool is = false;
    for (size_t i = 0; i < n; i++)
        is |= !strcmp(m[i].mountpoint, real);
    if (!quiet)
        sh_outf(c, "%s is %sa mountpoint\n", dir, is ? "" : "not ");
    return is ? 0 : bb ? 1 : 32;
}

/* ==== lsof, vmstat, lastlog, journalctl ========================================================== */

/* The executable behind a process's command line. */
static void proc_exe(const struct hp_proc *p, char *out, size_t n)
{
    const char *cmd = p->cmd;
    if (!strncmp(cmd, "sshd:", 5))
        cmd = "/usr/sbin/sshd";
    else if (cmd[0] == '-')
        cmd++;
    size_t k = strcspn(cmd, " ");
    if (cmd[0] == '/')
        snprintf(out, n, "%.*s", (int)k, cmd);
    else
        snprintf(out, n, "/usr/bin/%.*s", (int)k, cmd);
    if (!strcmp(out, "/sbin/init"))
        snprintf(out, n, "/usr/lib/systemd/systemd");
}

static int cmd_lsof(struct sh_cmd *c)
{
    bool inet = false, bb = fs_bb(c);
    for (int i = 1; i < c->argc; i++)
        if (!strncmp(c->argv[i], "-i", 2))
            inet = true;
    struct hp_proc *ps = NULL;
    size_t n = sys_procs(c, "lsof", &ps);
    struct tbl t = { .ncol = 9, .align = "lrlrlrrrl" };
    static const char *const head[9] = { "COMMAND", "PID", "USER", "FD", "TYPE", "DEVICE", "SIZE/OFF", "NODE", "NAME" };
    if (bb) {
        /* busybox lsof: "PID\tPROG\tFD" lines of /proc/PID/fd */
        for (size_t i = 0; i < n; i++) {
            if (!ps[i].vsz_kb || (c->uid != 0 && strcmp(ps[i].user, c->user)))
                continue;
            char exe[256];
            proc_exe(&ps[i], exe, sizeof(exe));
            if (!strncmp(exe, "/usr/bin/", 9) || !strncmp(exe, "/sbin/", 6) || !strncmp(exe, "/bin/", 5))
                snprintf(exe, sizeof(exe), "/bin/busybox");
            for (int fd = 0; fd < 3; fd++)
                sh_outf(c, "%u\t%s\t/dev/null\n", ps[i].pid, exe);
        }
        free(ps);
        return 0;
    }
    tbl_row(&t, head);
    char devroot[16];
    struct dk d;
    snprintf(devroot, sizeof(devroot), "%u,1", dk_layout(c, &d) ? d.major : 254u);
    for (size_t i = 0; i < n; i++) {
        const struct hp_proc *p = &ps[i];
        if (c->uid != 0 && strcmp(p->user, c->user))
            continue;
        char pid[16], comm[16], exe[256];
        snprintf(pid, sizeof(pid), "%u", p->pid);
        snprintf(comm, sizeof(comm), "%.9s", p->comm);
        if (inet) {
            bool listen = !strcmp(p->comm, "sshd") && p->ppid == 1, dh = !strcmp(p->comm, "dhclient");
            if (!listen && !dh)
                continue;
            const char *name = listen ? "*:ssh (LISTEN)" : "*:bootpc";
            const char *row[9] = { comm, pid, p->user, dh ? "9u" : "3u", "IPv4", dh ? "15912" : "17521", "0t0",
                                   dh ? "UDP" : "TCP", name };
            tbl_row(&t, row);
            if (listen) {
                const char *row6[9] = { comm, pid, p->user, "4u", "IPv6", "17523", "0t0", "TCP", name };
                tbl_row(&t, row6);
            }
            continue;
        }
        proc_exe(p, exe, sizeof(exe));
        bool kthread = p->vsz_kb == 0;
        char node[16];
        snprintf(node, sizeof(node), "%llu", (unsigned long long)(131000 + p->pid * 7 % 9000));
        const char *cwd[9] = { comm, pid, p->user, "cwd", "DIR", devroot, "4096", "2", "/" };
        const char *rtd[9] = { comm, pid, p->user, "rtd", "DIR", devroot, "4096", "2", "/" };
        tbl_row(&t, cwd);
        tbl_row(&t, rtd);
        if (kthread) {
            char nm[64];
            snprintf(nm, sizeof(nm), "/proc/%u/exe", p->pid);
            const char *txt[9] = { comm, pid, p->user, "txt", "unknown", "", "", "", nm };
            tbl_row(&t, txt);
        } else {
            const char *txt[9] = { comm, pid, p->user, "txt", "REG", devroot, "1265648", node, exe };
            const char *nul[9] = { comm, pid, p->user, "0r", "CHR", "1,3", "0t0", "4", "/dev/null" };
            tbl_row(&t, txt);
            tbl_row(&t, nul);
        }
    }
    free(ps);
    tbl_print(c, &t);
    return 0;
}

static int cmd_vmstat(struct sh_cmd *c)
{
    long delay = 0, count = 1;
    int nums = 0;
    for (int i = 1; i < c->argc; i++) {
        long v;
        if (c->argv[i][0] == '-') {
            if (!strcmp(c->argv[i], "-V") || !strcmp(c->argv[i], "--version")) {
                sh_outs(c, "vmstat from procps-ng 4.0.2\n");
                return 0;
            }
            continue;
        }
        if (!sh_parse_long(c->argv[i], &v) || v < 0) {
            sh_errf(c, "vmstat: failed to parse argument: '%s'\n", c->argv[i]);
            return 1;
        }
        if (nums++ == 0) {
            delay = v;
            count = v ? 10 : 1;
        } else {
            count = v;
        }
    }
    (void)delay;
    if (count > 10)
        count = 10;                       /* no waiting here: a few samples, then the line ends */
    struct hp_meminfo m;
    hp_persona_mem(c->persona, c->now_s, &m);
    unsigned load[3];
    hp_persona_load(c->persona, c->now_s, load);
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    hp_buf_puts(&b, "procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu-----\n"
                    " r  b   swpd   free   buff  cache   si   so    bi    bo   in   cs us sy id wa st\n");
    for (long i = 0; i < count; i++) {
        uint64_t seed = c->persona->seed + (uint64_t)i * 7919;
        unsigned us = i ? (unsigned)(seed % 2) : 0, sy = i ? (unsigned)(seed / 3 % 2) : 0;
        hp_buf_printf(&b, "%2u %2u %6llu %6llu %6llu %6llu %4u %4u %5u %5u %4u %4u %2u %2u %2u %2u %2u\n",
                      load[0] > 50 ? 1u : 0u, 0u, (unsigned long long)(m.swap_total - m.swap_free),
                      (unsigned long long)m.free, (unsigned long long)m.buffers, (unsigned long long)m.cached,
                      0u, 0u, i ? 0u : 5u + (unsigned)(seed % 20), i ? (unsigned)(seed % 40) : 9u + (unsigned)(seed % 9),
                      i ? 60u + (unsigned)(seed % 50) : 31u + (unsigned)(seed % 30),
                      i ? 100u + (unsigned)(seed % 90) : 55u + (unsigned)(seed % 40), us, sy, 100 - us - sy, 0u, 0u);
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

static int cmd_lastlog(struct sh_cmd *c)
{
    const char *only = NULL;
    for (int i = 1; i < c->argc; i++)
        if ((!strcmp(c->argv[i], "-u") || !strcmp(c->argv[i], "--user")) && i + 1 < c->argc)
            only = c->argv[++i];
    struct hp_buf pw, b;
    hp_buf_init(&pw, SH_VFS_FILE_MAX);
    hp_buf_init(&b, 1u << 20);
    sys_read_file(c, "/etc/passwd", &pw);
    hp_buf_puts(&b, "Username         Port     From             Latest\n");
    const uint8_t *line;
    size_t pos = 0, n;
    bool nl, any = false;
    while (txt_line(pw.data, pw.len, &pos, &line, &n, &nl)) {
        char user[64];
        size_t k = 0;
        while (k < n && line[k] != ':')
            k++;
        if (k == 0 || k >= sizeof(user))
            continue;
        snprintf(user, sizeof(user), "%.*s", (int)k, (const char *)line);
        if (only && strcmp(only, user))
            continue;
        any = true;
        if (!strcmp(user, c->user) && c->sess) {
            char when[64];
            struct tm tm;
            sys_gmtime(c->sess->login_s, &tm);
            strftime(when, sizeof(when), "%a %b %e %H:%M:%S +0000 %Y", &tm);
            hp_buf_printf(&b, "%-16s %-8.8s %-16s %s\n", user, sys_tty(c), sys_client_ip(c), when);
        } else {
            hp_buf_printf(&b, "%-16s                           **Never logged in**\n", user);
        }
    }
    int rc = 0;
    if (only && !any) {
        sh_errf(c, "lastlog: Unknown user or range: %s\n", only);
        rc = 1;
    } else {
        sh_out(c, b.data, b.len);
    }
    hp_buf_free(&pw);
    hp_buf_free(&b);
    return rc;
}

struct jr_entry {
    int64_t t;
    const char *ident;            /* "sshd" */
    unsigned pid;                 /* 0: none shown */
    const char *unit;             /* "ssh", "cron", ... */
    char msg[512];
};

static unsigned jr_pid(const struct hp_proc *ps, size_t n, const char *comm)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ps[i].comm, comm))
            return ps[i].pid;
    return 0;
}

/* The boot, the services starting, the session's own login and the hourly cron runs. */
static size_t jr_entries(struct sh_cmd *c, struct jr_entry *e, size_t max)
{
    const struct hp_proc *ps;
    size_t np = hp_persona_procs(c->persona, &ps), n = 0;
    int64_t boot = c->persona->boot_time;
    unsigned sshd = jr_pid(ps, np, "sshd"), cron = jr_pid(ps, np, "cron"), logind = jr_pid(ps, np, "systemd-logind");
#define JR(T, ID, PID, UNIT, ...) \
    do { \
        if (n < max) { \
            e[n] = (struct jr_entry){ .t = (T), .ident = (ID), .pid = (PID), .unit = (UNIT) }; \
            snprintf(e[n].msg, sizeof(e[n].msg), __VA_ARGS__); \
            n++; \
        } \
    } while (0)
    JR(boot, "kernel", 0, "kernel", "Linux version %s (debian-kernel@lists.debian.org) %s", c->persona->kernel_release,
       c->persona->kernel_version);
    JR(boot + 2, "systemd", 1, "init", "systemd 252.22-1~deb12u1 running in system mode (+PAM +AUDIT +SELINUX "
       "+APPARMOR +IMA +SMACK +SECCOMP +GCRYPT -GNUTLS +OPENSSL +ACL +BLKID +CURL +ELFUTILS +FIDO2 +IDN2 -IDN "
       "+IPTC +KMOD +LIBCRYPTSETUP +LIBFDISK +PCRE2 -PWQUALITY +P11KIT +QRENCODE +TPM2 +BZIP2 +LZ4 +XZ +ZLIB "
       "+ZSTD -BPF_FRAMEWORK -XKBCOMMON +UTMP +SYSVINIT default-hierarchy=unified)");
    JR(boot + 4, "systemd", 1, "cron", "Started cron.service - Regular background program processing daemon.");
    JR(boot + 4, "cron", cron, "cron", "(CRON) INFO (pidfile fd = 3)");
    JR(boot + 4, "cron", cron, "cron", "(CRON) INFO (Running @reboot jobs)");
    JR(boot + 5, "systemd-logind", logind, "systemd-logind", "New seat seat0.");
    JR(boot + 5, "systemd", 1, "systemd-logind", "Started systemd-logind.service - User Login Management.");
    JR(boot + 5, "sshd", sshd, "ssh", "Server listening on 0.0.0.0 port 22.");
    JR(boot + 5, "sshd", sshd, "ssh", "Server listening on :: port 22.");
    JR(boot + 5, "systemd", 1, "ssh", "Started ssh.service - OpenBSD Secure Shell server.");
    int64_t login = c->sess ? c->sess->login_s : c->now_s - 60;
    for (int64_t h = (boot / 3600 + 1) * 3600 + 17 * 60; h < login && n + 4 < max; h += 3600) {
        if (h < login - 6 * 3600)
            continue;                         /* only the last few hours */
        JR(h, "CRON", cron + 1000 + (unsigned)((h / 3600) % 20000), "cron",
           "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)");
        JR(h, "CRON", cron + 1001 + (unsigned)((h / 3600) % 20000), "cron",
           "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)");
        JR(h, "CRON", cron + 1000 + (unsigned)((h / 3600) % 20000), "cron",
           "pam_unix(cron:session): session closed for user root");
    }
    if (c->sess && !strcmp(c->sess->protocol ? c->sess->protocol : "ssh", "ssh")) {
        unsigned child = c->sess->shell_pid > 2 ? c->sess->shell_pid - 2 : 2000;
        JR(login, "sshd", child, "ssh", "Accepted password for %s from %s port %u ssh2", c->user, sys_client_ip(c),
           32768 + (unsigned)(c->sess->login_s % 28000));
        JR(login, "sshd", child, "ssh", "pam_unix(sshd:session): session opened for user %s(uid=%u) by (uid=0)",
           c->user, c->uid);
        JR(login, "systemd-logind", logind, "systemd-logind", "New session 1 of user %s.", c->user);
    }
#undef JR
    return n;
}

static int cmd_journalctl(struct sh_cmd *c)
{
    long lines = -1;
    const char *unit = NULL;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (!strcmp(a, "--version")) {
            sh_outs(c, "systemd 252 (252.22-1~deb12u1)\n+PAM +AUDIT +SELINUX +APPARMOR +IMA +SMACK +SECCOMP "
                       "+GCRYPT -GNUTLS +OPENSSL +ACL +BLKID +CURL +ELFUTILS +FIDO2 +IDN2 -IDN +IPTC +KMOD "
                       "+LIBCRYPTSETUP +LIBFDISK +PCRE2 -PWQUALITY +P11KIT +QRENCODE +TPM2 +BZIP2 +LZ4 +XZ +ZLIB "
                       "+ZSTD -BPF_FRAMEWORK -XKBCOMMON +UTMP +SYSVINIT default-hierarchy=unified\n");
            return 0;
        }
        if ((!strcmp(a, "-n") || !strcmp(a, "--lines")) && i + 1 < c->argc)
            a = c->argv[++i];
        else if (!strncmp(a, "--lines=", 8))
            a += 8;
        else if (!strncmp(a, "-n", 2) && a[2])
            a += 2;
        else if ((!strcmp(a, "-u") || !strcmp(a, "--unit")) && i + 1 < c->argc) {
            unit = c->argv[++i];
            continue;
        } else if (!strncmp(a, "--unit=", 7)) {
            unit = a + 7;
            continue;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--follow") || !strcmp(a, "-e") || !strcmp(a, "--pager-end")) {
            if (lines < 0)
                lines = 10;
            continue;
        } else {
            continue;
        }
        if (!sh_parse_long(a, &lines) || lines < 0) {
            sh_errf(c, "Failed to parse lines '%s'\n", a);
            return 1;
        }
    }
    if (c->uid != 0) {
        sh_errs(c, "Hint: You are currently not seeing messages from other users and the system.\n"
                   "      Users in groups 'adm', 'systemd-journal' can see all messages.\n"
                   "      Pass -q to turn off this notice.\n");
        sh_outs(c, "-- No entries --\n");
        return 0;
    }
    static struct jr_entry e[64];
    size_t n = jr_entries(c, e, 64), shown = 0;
    char u[64] = "";
    if (unit) {
        snprintf(u, sizeof(u), "%s", unit);
        char *dot = strstr(u, ".service");
        if (dot)
            *dot = '\0';
        if (!strcmp(u, "sshd"))
            strcpy(u, "ssh");
    }
    size_t match[64], nm = 0;
    for (size_t i = 0; i < n; i++)
        if (!unit || !strcmp(e[i].unit, u))
            match[nm++] = i;
    size_t from = lines >= 0 && (size_t)lines < nm ? nm - (size_t)lines : 0;
    struct hp_buf b;
    hp_buf_init(&b, 65536);
    for (size_t k = from; k < nm; k++) {
        const struct jr_entry *x = &e[match[k]];
        char when[32], host[64];
        struct tm tm;
        sys_gmtime(x->t, &tm);
        strftime(when, sizeof(when), "%b %d %H:%M:%S", &tm);
        snprintf(host, sizeof(host), "%.*s", (int)strcspn(c->persona->hostname, "."), c->persona->hostname);
        if (x->pid)
            hp_buf_printf(&b, "%s %s %s[%u]: %s\n", when, host, x->ident, x->pid, x->msg);
        else
            hp_buf_printf(&b, "%s %s %s: %s\n", when, host, x->ident, x->msg);
        shown++;
    }
    if (!shown)
        hp_buf_puts(&b, "-- No entries --\n");
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

/* ==== ssh-keygen ====================================================================================== */

static void kb_u32(struct hp_buf *b, uint32_t v)
{
    uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    hp_buf_put(b, x, 4);
}

static void kb_str(struct hp_buf *b, const void *p, size_t n)
{
    kb_u32(b, (uint32_t)n);
    hp_buf_put(b, p, n);
}

static void kb_cstr(struct hp_buf *b, const char *s) { kb_str(b, s, strlen(s)); }

/* An SSH mpint of n random bytes (top bit set when top, odd when odd). */
static void kb_rand_mpint(struct hp_buf *b, size_t n, bool top, bool odd)
{
    uint8_t *x = hp_xcalloc(1, n + 1);
    hp_random_bytes(x + 1, n);
    if (top)
        x[1] |= 0x80;
    if (odd)
        x[n] |= 1;
    bool lead = x[1] & 0x80;
    kb_str(b, lead ? x : x + 1, lead ? n + 1 : n);
    free(x);
}

static void b64_enc(struct hp_buf *out, const uint8_t *d, size_t n, bool pad)
{
    size_t cap = 4 * ((n + 2) / 3) + 1;
    char *t = hp_xcalloc(1, cap);
    int k = EVP_EncodeBlock((unsigned char *)t, d, (int)n);
    while (!pad && k > 0 && t[k - 1] == '=')
        k--;
    hp_buf_put(out, t, (size_t)k);
    free(t);
}

/* OpenSSH's drunken-bishop picture of a SHA-256 digest. */
static void kg_randomart(struct hp_buf *o, const uint8_t *dg, size_t n, const char *type, unsigned bits)
{
    enum { FX = 17, FY = 9 };
    static const char aug[] = " .o+=*BOX@%&#/^SE";
    const int len = (int)strlen(aug) - 1;
    int field[FX][FY];
    memset(field, 0, sizeof(field));
    int x = FX / 2, y = FY / 2;
    for (size_t i = 0; i < n; i++) {
        int in = dg[i];
        for (int b = 0; b < 4; b++) {
            x += (in & 1) ? 1 : -1;
            y += (in & 2) ? 1 : -1;
            x = x < 0 ? 0 : x > FX - 1 ? FX - 1 : x;
            y = y < 0 ? 0 : y > FY - 1 ? FY - 1 : y;
            if (field[x][y] < len - 2)
                field[x][y]++;
            in >>= 2;
        }
    }
    field[FX / 2][FY / 2] = len - 1;
    field[x][y] = len;
    char title[32];
    snprintf(title, sizeof(title), "[%s %u]", type, bits);
    int tl = (int)strlen(title), i;
    hp_buf_putc(o, '+');
    for (i = 0; i < (FX - tl) / 2; i++)
        hp_buf_putc(o, '-');
    hp_buf_puts(o, title);
    for (i += tl; i < FX; i++)
        hp_buf_putc(o, '-');
    hp_buf_puts(o, "+\n");
    for (int yy = 0; yy < FY; yy++) {
        hp_buf_putc(o, '|');
        for (int xx = 0; xx < FX; xx++)
            hp_buf_putc(o, (uint8_t)aug[field[xx][yy] < len ? field[xx][yy] : len]);
        hp_buf_puts(o, "|\n");
    }
    hp_buf_puts(o, "+----[SHA256]-----+\n");
}

struct kg_key {
    const char *name;             /* "ssh-rsa" */
    const char *label;            /* "RSA" */
    unsigned bits;
    struct hp_buf pub, priv;      /* blob; private section fields after the type */
};

static bool kg_make(const char *type, unsigned bits, struct kg_key *k)
{
    hp_buf_init(&k->pub, 8192);
    hp_buf_init(&k->priv, 16384);
    if (!strcmp(type, "ed25519")) {
        k->name = "ssh-ed25519", k->label = "ED25519", k->bits = 256;
        uint8_t pk[32], sk[64];
        size_t pl = 32, sl = 32;
        EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        if (!key || !EVP_PKEY_get_raw_public_key(key, pk, &pl) || !EVP_PKEY_get_raw_private_key(key, sk, &sl)) {
            EVP_PKEY_free(key);
            hp_random_bytes(pk, 32), hp_random_bytes(sk, 32);
        } else {
            EVP_PKEY_free(key);
        }
        memcpy(sk + 32, pk, 32);
        kb_cstr(&k->pub, k->name);
        kb_str(&k->pub, pk, 32);
        kb_str(&k->priv, pk, 32);
        kb_str(&k->priv, sk, 64);
        return true;
    }
    if (!strcmp(type, "ecdsa")) {
        static const char *const curves[3] = { "nistp256", "nistp384", "nistp521" };
        int ci = bits == 384 ? 1 : bits == 521 ? 2 : 0;
        static const char *const names[3] = { "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521" };
        static const size_t qlen[3] = { 65, 97, 133 }, dlen[3] = { 32, 48, 66 };
        k->name = names[ci], k->label = "ECDSA", k->bits = ci == 0 ? 256 : ci == 1 ? 384 : 521;
        uint8_t q[133];
        hp_random_bytes(q, sizeof(q));
        q[0] = 4;
        kb_cstr(&k->pub, k->name);
        kb_cstr(&k->pub, curves[ci]);
        kb_str(&k->pub, q, qlen[ci]);
        kb_cstr(&k->priv, curves[ci]);
        kb_str(&k->priv, q, qlen[ci]);
        kb_rand_mpint(&k->priv, dlen[ci], false, false);
        return true;
    }
    bool rsa = !strcmp(type, "rsa");
    if (!rsa && strcmp(type, "dsa"))
        return false;
    k->name = rsa ? "ssh-rsa" : "ssh-dss", k->label = rsa ? "RSA" : "DSA";
    k->bits = rsa ? (bits ? bits : 3072) : 1024;
    static const uint8_t e[3] = { 1, 0, 1 };
    struct hp_buf n;
    hp_buf_init(&n, 2048);
    kb_rand_mpint(&n, k->bits / 8, true, true);
    kb_cstr(&k->pub, k->name);
    if (rsa) {
        kb_str(&k->pub, e, 3);
        hp_buf_put(&k->pub, n.data, n.len);
        hp_buf_put(&k->priv, n.data, n.len);
        kb_str(&k->priv, e, 3);
        kb_rand_mpint(&k->priv, k->bits / 8, false, false);       /* d */
        kb_rand_mpint(&k->priv, k->bits / 16, false, false);      /* iqmp */
        kb_rand_mpint(&k->priv, k->bits / 16, true, true);        /* p */
        kb_rand_mpint(&k->priv, k->bits / 16, true, true);        /* q */
    } else {
        hp_buf_put(&k->pub, n.data, n.len);                         /* p */
        kb_rand_mpint(&k->pub, 20, true, true);                     /* q */
        kb_rand_mpint(&k->pub, 128, false, false);                  /* g */
        kb_rand_mpint(&k->pub, 128, false, false);                  /* y */
        hp_buf_put(&k->priv, k->pub.data + 4 + strlen(k->name), k->pub.len - 4 - strlen(k->name));
        kb_rand_mpint(&k->priv, 20, false, false);                  /* x */
    }
    hp_buf_free(&n);
    return true;
}

/* "-----BEGIN OPENSSH PRIVATE KEY-----" file (unencrypted). */
static void kg_private_file(struct kg_key *k, const char *comment, struct hp_buf *out)
{
    struct hp_buf b, s;
    hp_buf_init(&b, 32768);
    hp_buf_init(&s, 32768);
    uint32_t check;
    hp_random_bytes(&check, sizeof(check));
    kb_u32(&s, check);
    kb_u32(&s, check);
    kb_cstr(&s, k->name);
    hp_buf_put(&s, k->priv.data, k->priv.len);
    kb_cstr(&s, comment);
    for (uint8_t pad = 1; s.len % 8; pad++)
        hp_buf_putc(&s, pad);
    hp_buf_put(&b, "openssh-key-v1", 15);
    kb_cstr(&b, "none");
    kb_cstr(&b, "none");
    kb_cstr(&b, "");
    kb_u32(&b, 1);
    kb_str(&b, k->pub.data, k->pub.len);
    kb_str(&b, s.data, s.len);
    struct hp_buf t;
    hp_buf_init(&t, 65536);
    b64_enc(&t, b.data, b.len, true);
    hp_buf_puts(out, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    for (size_t i = 0; i < t.len; i += 70) {
        hp_buf_put(out, t.data + i, t.len - i > 70 ? 70 : t.len - i);
        hp_buf_putc(out, '\n');
    }
    hp_buf_puts(out, "-----END OPENSSH PRIVATE KEY-----\n");
    hp_buf_free(&t);
    hp_buf_free(&b);
    hp_buf_free(&s);
}

static void kg_fingerprint(const uint8_t *blob, size_t n, uint8_t dg[32], struct hp_buf *fp)
{
    unsigned len = 32;
    EVP_Digest(blob, n, dg, &len, EVP_sha256(), NULL);
    hp_buf_puts(fp, "SHA256:");
    b64_enc(fp, dg, 32, false);
}

/* -l / -y: the public key next to path (path.pub, or path itself). */
static int kg_show(struct sh_cmd *c, const char *file, bool print_pub)
{
    struct hp_buf b;
    hp_buf_init(&b, 1u << 20);
    char p[FS_PATH_MAX], pp[FS_PATH_MAX + 8];
    int e = fs_abs(c, file, p);
    snprintf(pp, sizeof(pp), "%s.pub", p);
    if (e == 0 && (print_pub || sys_read_file(c, pp, &b) < 0)) {
        hp_buf_reset(&b);
        e = print_pub ? sys_read_file(c, pp, &b) : sys_read_file(c, p, &b);
        if (print_pub && e < 0 && sys_read_file(c, p, &b) == 0)
            e = -EINVAL;
    }
    if (e < 0) {
        if (e == -EINVAL)
            sh_errf(c, "Load key \"%s\": invalid format\n", file);
        else
            sh_errf(c, "%s: %s\n", file, sh_strerror(e));
        hp_buf_free(&b);
        return 1;
    }
    char type[64] = "", data[16384] = "", comment[1024] = "";
    int k = sscanf(hp_buf_cstr(&b), "%63s %16383s %1023[^\n]", type, data, comment);
    uint8_t blob[12288];
    int bl = k >= 2 ? EVP_DecodeBlock(blob, (const unsigned char *)data, (int)strlen(data)) : -1;
    if (bl <= 0) {
        sh_errf(c, "%s is not a public key file.\n", file);
        hp_buf_free(&b);
        return 255;
    }
    if (print_pub) {
        sh_outf(c, "%s %s %s\n", type, data, comment);
        hp_buf_free(&b);
        return 0;
    }
    size_t pad = strlen(data) - strcspn(data, "=");
    bl -= (int)pad;
    uint8_t dg[32];
    struct hp_buf fp;
    hp_buf_init(&fp, 256);
    kg_fingerprint(blob, (size_t)bl, dg, &fp);
    unsigned bits = 256;
    const char *label = "ED25519";
    if (!strcmp(type, "ssh-rsa") || !strcmp(type, "ssh-dss")) {
        size_t off = 4 + (size_t)(blob[3]);                         /* past the type */
        if (!strcmp(type, "ssh-rsa") && off + 4 <= (size_t)bl)  /* past e */
            off += 4 + ((size_t)blob[off + 2] << 8 | blob[off + 3]);
        size_t nl = off + 4 <= (size_t)bl ? ((size_t)blob[off + 2] << 8 | blob[off + 3]) : 0;
        if (nl && off + 4 < (size_t)bl && blob[off + 4] == 0)
            nl--;
        bits = (unsigned)nl * 8;
        label = type[4] == 'r' ? "RSA" : "DSA";
    } else if (!strncmp(type, "ecdsa", 5)) {
        label = "ECDSA";
        bits = strstr(type, "384") ? 384 : strstr(type, "521") ? 521 : 256;
    }
    sh_outf(c, "%u %s %s (%s)\n", bits, hp_buf_cstr(&fp), comment[0] ? comment : "no comment", label);
    hp_buf_free(&fp);
    hp_buf_free(&b);
    return 0;
}

static int cmd_ssh_keygen(struct sh_cmd *c)
{
    const char *type = "rsa", *file = NULL, *pass = NULL, *comment = NULL;
    long bits = 0;
    bool quiet = false, list = false, pub = false;
    struct sys_getopt g;
    sys_getopt_init(&g, c->argc, c->argv, false);
    int o;
    while ((o = sys_getopt(&g, "ABHLMOQUXYcDeFgGhiKklmpqRrsTuVvyzZa:b:C:E:f:I:J:j:m:N:n:P:t:w:", NULL)) != -1) {
        switch (o) {
        case 't': type = g.optarg; break;
        case 'b':
            if (!sh_parse_long(g.optarg, &bits) || bits < 0 || bits > 16384) {
                sh_errf(c, "Bits has bad value %s (%s)\n", g.optarg, "invalid");
                return 255;
            }
            break;
        case 'f': file = g.optarg; break;
        case 'N': pass = g.optarg; break;
        case 'C': comment = g.optarg; break;
        case 'q': quiet = true; break;
        case 'l': list = true; break;
        case 'y': pub = true; break;
        case '?': case ':':
            sys_getopt_msg(c, "ssh-keygen", &g);
            sh_errs(c, "usage: ssh-keygen [-q] [-a rounds] [-b bits] [-C comment] [-f output_keyfile]\n"
                       "                  [-m format] [-N new_passphrase] [-O option]\n"
                       "                  [-t dsa | ecdsa | ecdsa-sk | ed25519 | ed25519-sk | rsa]\n"
                       "                  [-w provider] [-Z cipher]\n");
            return 255;
        default: break;
        }
    }
    char def[FS_PATH_MAX];
    if (list || pub) {
        if (!file) {
            snprintf(def, sizeof(def), "%s/.ssh/id_rsa", c->home ? c->home : "/root");
            sh_outf(c, "Enter file in which the key is (%s): ", def);
            file = def;
        }
        return kg_show(c, file, pub);
    }
    struct kg_key k;
    if (!strcmp(type, "rsa") && bits && bits < 1024) {
        sh_errf(c, "Invalid RSA key length: minimum is %d bits\n", 1024);
        return 255;
    }
    if (!kg_make(type, (unsigned)bits, &k)) {
        sh_errs(c, "unknown key type ");
        sh_errf(c, "%s\n", type);
        hp_buf_free(&k.pub);
        hp_buf_free(&k.priv);
        return 255;
    }
    const char *tshort = strcmp(type, "ecdsa") ? type : "ecdsa";
    struct hp_buf o_;
    hp_buf_init(&o_, 65536);
    if (!quiet)
        hp_buf_printf(&o_, "Generating public/private %s key pair.\n", tshort);
    int rc = 0;
    char path[FS_PATH_MAX], ppub[FS_PATH_MAX + 8];
    if (!file) {
        char base[32];
        snprintf(base, sizeof(base), "id_%s", !strcmp(type, "ecdsa") ? "ecdsa" : type);
        snprintf(def, sizeof(def), "%s/.ssh/%s", c->home ? c->home : "/root", base);
        hp_buf_printf(&o_, "Enter file in which to save the key (%s): \n", def);
        file = def;
        char dir[FS_PATH_MAX];
        snprintf(dir, sizeof(dir), "%s/.ssh", c->home ? c->home : "/root");
        struct sh_stat st;
        if (sh_vfs_stat(c->fs, dir, true, &st) < 0 && sh_vfs_mkdir(c->fs, dir, 0700) == 0)
            hp_buf_printf(&o_, "Created directory '%s'.\n", dir);
    }
    struct sh_stat st;
    if (fs_abs(c, file, path) < 0)
        rc = 1;
    else if (sh_vfs_stat(c->fs, path, true, &st) == 0) {
        hp_buf_printf(&o_, "%s already exists.\nOverwrite (y/n)? ", file);
        if (!c->in_len || (c->in[0] != 'y' && c->in[0] != 'Y'))
            rc = 1;
    }
    if (rc == 0 && !pass)
        hp_buf_puts(&o_, "Enter passphrase (empty for no passphrase): \nEnter same passphrase again: \n");
    if (rc == 0) {
        char cm[512];
        snprintf(cm, sizeof(cm), "%s@%s", c->user, c->persona->hostname);
        const char *cmt = comment ? comment : cm;
        struct hp_buf priv, pubf, fp;
        hp_buf_init(&priv, 65536);
        hp_buf_init(&pubf, 65536);
        hp_buf_init(&fp, 256);
        kg_private_file(&k, cmt, &priv);
        hp_buf_printf(&pubf, "%s ", k.name);
        b64_enc(&pubf, k.pub.data, k.pub.len, true);
        hp_buf_printf(&pubf, " %s\n", cmt);
        snprintf(ppub, sizeof(ppub), "%s.pub", path);
        int e = sys_write_file(c, path, priv.data, priv.len, 0600);
        if (e == 0)
            sh_vfs_chmod(c->fs, path, 0600);
        if (e == 0)
            e = sys_write_file(c, ppub, pubf.data, pubf.len, 0644);
        if (e < 0) {
            sh_out(c, o_.data, o_.len);
            hp_buf_reset(&o_);
            sh_errf(c, "Saving key \"%s\" failed: %s\n", file, sh_strerror(e));
            rc = 255;
        } else if (!quiet) {
            uint8_t dg[32];
            kg_fingerprint(k.pub.data, k.pub.len, dg, &fp);
            hp_buf_printf(&o_, "Your identification has been saved in %s\nYour public key has been saved in %s.pub\n"
                               "The key fingerprint is:\n%s %s\nThe key's randomart image is:\n",
                          file, file, hp_buf_cstr(&fp), cmt);
            kg_randomart(&o_, dg, 32, k.label, k.bits);
        }
        hp_buf_free(&priv);
        hp_buf_free(&pubf);
        hp_buf_free(&fp);
    }
    sh_out(c, o_.data, o_.len);
    hp_buf_free(&o_);
    hp_buf_free(&k.pub);
    hp_buf_free(&k.priv);
    return rc;
}

/* ==== openssl ======================================================================================= */

static const char crypt64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void c64(struct hp_buf *o, unsigned b2, unsigned b1, unsigned b0, int n)
{
    unsigned w = (b2 << 16) | (b1 << 8) | b0;
    while (n-- > 0) {
        hp_buf_putc(o, (uint8_t)crypt64[w & 0x3f]);
        w >>= 6;
    }
}

static void dg_add(EVP_MD_CTX *x, const void *p, size_t n) { EVP_DigestUpdate(x, p, n); }

/* FreeBSD/glibc MD5-crypt ("$1$"). */
static void md5crypt(const char *pw, const char *salt, struct hp_buf *o)
{
    size_t pl = strlen(pw), sl = strnlen(salt, 8);
    uint8_t fin[16], alt[16];
    EVP_MD_CTX *x = EVP_MD_CTX_new(), *y = EVP_MD_CTX_new();
    EVP_DigestInit_ex(y, EVP_md5(), NULL);
    dg_add(y, pw, pl), dg_add(y, salt, sl), dg_add(y, pw, pl);
    EVP_DigestFinal_ex(y, alt, NULL);
    EVP_DigestInit_ex(x, EVP_md5(), NULL);
    dg_add(x, pw, pl), dg_add(x, "$1$", 3), dg_add(x, salt, sl);
    for (size_t l = pl; l > 0; l -= l > 16 ? 16 : l)
        dg_add(x, alt, l > 16 ? 16 : l);
    for (size_t i = pl; i; i >>= 1)
        dg_add(x, (i & 1) ? "" : pw, 1);
    EVP_DigestFinal_ex(x, fin, NULL);
    for (int i = 0; i < 1000; i++) {
        EVP_DigestInit_ex(x, EVP_md5(), NULL);
        if (i & 1) dg_add(x, pw, pl); else dg_add(x, fin, 16);
        if (i % 3) dg_add(x, salt, sl);
        if (i % 7) dg_add(x, pw, pl);
        if (i & 1) dg_add(x, fin, 16); else dg_add(x, pw, pl);
        EVP_DigestFinal_ex(x, fin, NULL);
    }
    EVP_MD_CTX_free(x);
    EVP_MD_CTX_free(y);
    hp_buf_printf(o, "$1$%.*s$", (int)sl, salt);
    c64(o, fin[0], fin[6], fin[12], 4), c64(o, fin[1], fin[7], fin[13], 4), c64(o, fin[2], fin[8], fin[14], 4);
    c64(o, fin[3], fin[9], fin[15], 4), c64(o, fin[4], fin[10], fin[5], 4), c64(o, 0, 0, fin[11], 2);
}

/* Drepper's SHA-512-crypt ("$6$", 5000 rounds). */
static void sha512crypt(const char *pw, const char *salt, struct hp_buf *o)
{
    size_t pl = strlen(pw), sl = strnlen(salt, 16);
    uint8_t a[64], b[64], dp[64], ds[64];
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    EVP_DigestInit_ex(x, EVP_sha512(), NULL);
    dg_add(x, pw, pl), dg_add(x, salt, sl), dg_add(x, pw, pl);
    EVP_DigestFinal_ex(x, b, NULL);
    EVP_DigestInit_ex(x, EVP_sha512(), NULL);
    dg_add(x, pw, pl), dg_add(x, salt, sl);
    size_t cnt;
    for (cnt = pl; cnt > 64; cnt -= 64)
        dg_add(x, b, 64);
    dg_add(x, b, cnt);
    for (cnt = pl; cnt > 0; cnt >>= 1)
        if (cnt & 1) dg_add(x, b, 64); else dg_add(x, pw, pl);
    EVP_DigestFinal_ex(x, a, NULL);
    EVP_DigestInit_ex(x, EVP_sha512(), NULL);
    for (cnt = 0; cnt < pl; cnt++)
        dg_add(x, pw, pl);
    EVP_DigestFinal_ex(x, dp, NULL);
    EVP_DigestInit_ex(x, EVP_sha512(), NULL);
    for (cnt = 0; cnt < 16u + a[0]; cnt++)
        dg_add(x, salt, sl);
    EVP_DigestFinal_ex(x, ds, NULL);
    uint8_t *p = hp_xcalloc(1, pl + 1), s[16];
    for (cnt = 0; cnt < pl; cnt++)
        p[cnt] = dp[cnt % 64];
    for (cnt = 0; cnt < sl; cnt++)
        s[cnt] = ds[cnt];
    for (int r = 0; r < 5000; r++) {
        EVP_DigestInit_ex(x, EVP_sha512(), NULL);
        if (r & 1) dg_add(x, p, pl); else dg_add(x, a, 64);
        if (r % 3) dg_add(x, s, sl);
        if (r % 7) dg_add(x, p, pl);
        if (r & 1) dg_add(x, a, 64); else dg_add(x, p, pl);
        EVP_DigestFinal_ex(x, a, NULL);
    }
    EVP_MD_CTX_free(x);
    free(p);
    hp_buf_printf(o, "$6$%.*s$", (int)sl, salt);
    static const uint8_t ord[21][3] = { { 0, 21, 42 }, { 22, 43, 1 }, { 44, 2, 23 }, { 3, 24, 45 }, { 25, 46, 4 },
                                        { 47, 5, 26 }, { 6, 27, 48 }, { 28, 49, 7 }, { 50, 8, 29 }, { 9, 30, 51 },
                                        { 31, 52, 10 }, { 53, 11, 32 }, { 12, 33, 54 }, { 34, 55, 13 },
                                        { 56, 14, 35 }, { 15, 36, 57 }, { 37, 58, 16 }, { 59, 17, 38 },
                                        { 18, 39, 60 }, { 40, 61, 19 }, { 62, 20, 41 } };
    for (int i = 0; i < 21; i++)
        c64(o, a[ord[i][0]], a[ord[i][1]], a[ord[i][2]], 4);
    c64(o, 0, 0, a[63], 2);
}

static int ossl_passwd(struct sh_cmd *c, int argc, char **argv)
{
    int alg = 1;
    const char *salt = NULL;
    char *pws[64];
    int np = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-1")) alg = 1;
        else if (!strcmp(argv[i], "-6")) alg = 6;
        else if (!strcmp(argv[i], "-5") || !strcmp(argv[i], "-apr1") || !strcmp(argv[i], "-aixmd5")) alg = 1;
        else if (!strcmp(argv[i], "-salt") && i + 1 < argc) salt = argv[++i];
        else if (!strcmp(argv[i], "-stdin")) continue;
        else if (argv[i][0] == '-') {
            sh_errf(c, "passwd: Unknown option: %s\npasswd: Use -help for summary.\n", argv[i]);
            return 1;
        } else if (np < 64) pws[np++] = argv[i];
    }
    struct hp_buf in;
    hp_buf_init(&in, 1u << 20);
    if (np == 0) {
        if (c->in_tty) {
            sh_errs(c, "Password: \nVerifying - Password: \n");
            hp_buf_put(&in, "", 1);
            pws[np++] = (char *)in.data;
        } else {
            hp_buf_put(&in, c->in, c->in_len);
            hp_buf_putc(&in, 0);
            for (char *save = NULL, *t = strtok_r((char *)in.data, "\n", &save); t && np < 64; t = strtok_r(NULL, "\n", &save))
                pws[np++] = t;
        }
    }
    struct hp_buf o;
    hp_buf_init(&o, 65536);
    for (int i = 0; i < np; i++) {
        char s[17];
        if (salt) {
            snprintf(s, sizeof(s), "%s", salt);
        } else {
            uint8_t r[16];
            RAND_bytes(r, sizeof(r));
            for (int k = 0; k < 16; k++)
                s[k] = crypt64[r[k] % 64];
            s[16] = '\0';
        }
        if (alg == 6)
            sha512crypt(pws[i], s, &o);
        else
            md5crypt(pws[i], s, &o);
        hp_buf_putc(&o, '\n');
    }
    sh_out(c, o.data, o.len);
    hp_buf_free(&o);
    hp_buf_free(&in);
    return 0;
}

static int ossl_rand(struct sh_cmd *c, int argc, char **argv)
{
    int mode = 0;                 /* 0 raw, 1 hex, 2 base64 */
    long n = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-hex")) mode = 1;
        else if (!strcmp(argv[i], "-base64")) mode = 2;
        else if (!sh_parse_long(argv[i], &n) || n < 0) {
            sh_errf(c, "rand: Unknown option: %s\nrand: Use -help for summary.\n", argv[i]);
            return 1;
        }
    }
    if (n < 0) {
        sh_errs(c, "rand: No arguments given.\nrand: Use -help for summary.\n");
        return 1;
    }
    if (n > (1 << 20))
        n = 1 << 20;
    uint8_t *r = hp_xcalloc(1, (size_t)n + 1);
    RAND_bytes(r, (int)n);
    struct hp_buf o;
    hp_buf_init(&o, 4u << 20);
    if (mode == 1) {
        for (long i = 0; i < n; i++)
            hp_buf_printf(&o, "%02x", r[i]);
        hp_buf_putc(&o, '\n');
    } else if (mode == 2) {
        struct hp_buf t;
        hp_buf_init(&t, 4u << 20);
        b64_enc(&t, r, (size_t)n, true);
        for (size_t i = 0; i < t.len; i += 64) {
            hp_buf_put(&o, t.data + i, t.len - i > 64 ? 64 : t.len - i);
            hp_buf_putc(&o, '\n');
        }
        hp_buf_free(&t);
    } else {
        hp_buf_put(&o, r, (size_t)n);
    }
    sh_out(c, o.data, o.len);
    hp_buf_free(&o);
    free(r);
    return 0;
}

static int ossl_digest(struct sh_cmd *c, const char *alg, int argc, char **argv)
{
    static const struct { const char *opt, *label; const EVP_MD *(*md)(void); } mds[] = {
        { "md5", "MD5", EVP_md5 }, { "sha1", "SHA1", EVP_sha1 }, { "sha256", "SHA2-256", EVP_sha256 },
        { "sha512", "SHA2-512", EVP_sha512 }, { "sha384", "SHA2-384", EVP_sha384 }, { "sha224", "SHA2-224", EVP_sha224 },
    };
    int k = 2, nf = 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            for (int m = 0; m < 6; m++)
                if (!strcmp(argv[i] + 1, mds[m].opt))
                    k = m;
            continue;
        }
        nf++;
    }
    for (int m = 0; alg && m < 6; m++)
        if (!strcmp(alg, mds[m].opt))
            k = m;
    int rc = 0;
    for (int i = alg ? 1 : 1; i <= argc; i++) {
        const char *f = i < argc ? argv[i] : NULL;
        if (f && f[0] == '-')
            continue;
        if (!f && nf)
            break;
        struct hp_buf b;
        hp_buf_init(&b, SH_VFS_FILE_MAX);
        int e = fs_slurp(c, f, &b);
        if (e < 0) {
            sh_errf(c, "Could not open file or uri for loading file from %s\n", f ? f : "stdin");
            rc = 1;
        } else {
            uint8_t dg[64];
            unsigned len = 0;
            EVP_Digest(b.data, b.len, dg, &len, mds[k].md(), NULL);
            struct hp_buf o;
            hp_buf_init(&o, 512);
            hp_buf_printf(&o, "%s(%s)= ", mds[k].label, f ? f : "stdin");
            for (unsigned j = 0; j < len; j++)
                hp_buf_printf(&o, "%02x", dg[j]);
            hp_buf_putc(&o, '\n');
            sh_out(c, o.data, o.len);
            hp_buf_free(&o);
        }
        hp_buf_free(&b);
        if (!f)
            break;
    }
    return rc;
}

static int ossl_base64(struct sh_cmd *c, int argc, char **argv, bool enc_cmd)
{
    bool dec = false, one = false, b64 = !enc_cmd;
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-d")) dec = true;
        else if (!strcmp(a, "-e")) dec = false;
        else if (!strcmp(a, "-A")) one = true;
        else if (!strcmp(a, "-a") || !strcmp(a, "-base64")) b64 = true;
        else if (!strcmp(a, "-in") && i + 1 < argc) in = argv[++i];
        else if (!strcmp(a, "-out") && i + 1 < argc) out = argv[++i];
        else if (enc_cmd && a[0] == '-' && a[1]) {
            sh_errf(c, "enc: Unknown cipher: %s\nenc: Use -help for summary.\n", a + 1);
            return 1;
        }
    }
    if (!b64) {
        sh_errs(c, "enc: AEAD ciphers not supported\n");
        return 1;
    }
    struct hp_buf b, o;
    hp_buf_init(&b, SH_VFS_FILE_MAX);
    hp_buf_init(&o, SH_VFS_FILE_MAX + SH_VFS_FILE_MAX / 2);
    int e = fs_slurp(c, in, &b);
    if (e < 0) {
        sh_errf(c, "Can't open \"%s\" for reading, %s\n", in, sh_strerror(e));
        hp_buf_free(&b);
        hp_buf_free(&o);
        return 1;
    }
    if (dec) {
        char *clean = hp_xcalloc(1, b.len + 1);
        size_t n = 0;
        for (size_t i = 0; i < b.len; i++)
            if (!strchr(" \t\r\n", b.data[i]))
                clean[n++] = (char)b.data[i];
        uint8_t *d = hp_xcalloc(1, n + 4);
        int k = n % 4 == 0 ? EVP_DecodeBlock(d, (unsigned char *)clean, (int)n) : -1;
        if (k > 0) {
            size_t pad = n >= 2 ? (clean[n - 1] == '=') + (clean[n - 2] == '=') : 0;
            hp_buf_put(&o, d, (size_t)k - pad);
        }
        free(clean);
        free(d);
    } else {
        struct hp_buf t;
        hp_buf_init(&t, SH_VFS_FILE_MAX * 2);
        b64_enc(&t, b.data, b.len, true);
        for (size_t i = 0; i < t.len; i += one ? t.len : 64) {
            size_t k = one ? t.len : t.len - i > 64 ? 64 : t.len - i;
            hp_buf_put(&o, t.data + i, k);
            hp_buf_putc(&o, '\n');
        }
        hp_buf_free(&t);
    }
    int rc = 0;
    if (out) {
        char p[FS_PATH_MAX];
        if (fs_abs(c, out, p) < 0 || sys_write_file(c, p, o.data, o.len, 0644) < 0) {
            sh_errf(c, "Can't open \"%s\" for writing, Permission denied\n", out);
            rc = 1;
        }
    } else {
        sh_out(c, o.data, o.len);
    }
    hp_buf_free(&b);
    hp_buf_free(&o);
    return rc;
}

static int cmd_openssl(struct sh_cmd *c)
{
    if (c->argc < 2) {
        sh_outs(c, "OpenSSL> ");
        return 0;
    }
    const char *sub = c->argv[1];
    int ac = c->argc - 1;
    char **av = c->argv + 1;
    if (!strcmp(sub, "version")) {
        bool all = ac > 1 && !strcmp(av[1], "-a");
        sh_outs(c, "OpenSSL 3.0.15 3 Sep 2024 (Library: OpenSSL 3.0.15 3 Sep 2024)\n");
        if (all)
            sh_outs(c, "built on: Wed Sep 18 20:05:20 2024 UTC\nplatform: debian-amd64\n"
                       "OPENSSLDIR: \"/usr/lib/ssl\"\nENGINESDIR: \"/usr/lib/x86_64-linux-gnu/engines-3\"\n"
                       "MODULESDIR: \"/usr/lib/x86_64-linux-gnu/ossl-modules\"\nSeeding source: os-specific\n"
                       "CPUINFO: OPENSSL_ia32cap=0xfeda32035f8bffff:0x27ab\n");
        return 0;
    }
    if (!strcmp(sub, "rand"))
        return ossl_rand(c, ac, av);
    if (!strcmp(sub, "passwd"))
        return ossl_passwd(c, ac, av);
    if (!strcmp(sub, "base64"))
        return ossl_base64(c, ac, av, false);
    if (!strcmp(sub, "enc"))
        return ossl_base64(c, ac, av, true);
    if (!strcmp(sub, "dgst"))
        return ossl_digest(c, NULL, ac, av);
    static const char *const dg[] = { "md5", "sha1", "sha256", "sha512", "sha384", "sha224", NULL };
    for (int i = 0; dg[i]; i++)
        if (!strcmp(sub, dg[i]))
            return ossl_digest(c, sub, ac, av);
    sh_errf(c, "Invalid command '%s'; type \"help\" for a list.\n", sub);
    return 1;
}

/* ==== locale and time settings ================================================================== */

static int cmd_locale(struct sh_cmd *c)
{
    if (c->argc > 1 && (!strcmp(c->argv[1], "-a") || !strcmp(c->argv[1], "--all-locales"))) {
        sh_outs(c, "C\nC.utf8\nPOSIX\n");
        return 0;
    }
    const char *lang = sh_getenv(c, "LANG");
    const char *v = lang && *lang ? lang : "POSIX";
    static const char *const cats[] = { "LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE", "LC_MONETARY",
                                        "LC_MESSAGES", "LC_PAPER", "LC_NAME", "LC_ADDRESS", "LC_TELEPHONE",
                                        "LC_MEASUREMENT", "LC_IDENTIFICATION", NULL };
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    hp_buf_printf(&b, "LANG=%s\nLANGUAGE=\n", lang ? lang : "");
    for (size_t i = 0; cats[i]; i++)
        hp_buf_printf(&b, "%s=\"%s\"\n", cats[i], v);
    hp_buf_puts(&b, "LC_ALL=\n");
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

static int cmd_localectl(struct sh_cmd *c)
{
    if (c->argc > 1 && strcmp(c->argv[1], "status")) {
        if (!strcmp(c->argv[1], "list-locales")) {
            sh_outs(c, "C.UTF-8\n");
            return 0;
        }
        if (c->argv[1][0] != '-') {
            sh_errf(c, "Unknown command verb %s.\n", c->argv[1]);
            return 1;
        }
    }
    sh_outs(c, "System Locale: LANG=C.UTF-8\n    VC Keymap: (unset)\n   X11 Layout: (unset)\n");
    return 0;
}

static int cmd_timedatectl(struct sh_cmd *c)
{
    if (c->argc > 1 && strcmp(c->argv[1], "status")) {
        if (!strcmp(c->argv[1], "list-timezones")) {
            sh_outs(c, "Africa/Abidjan\nAmerica/New_York\nAsia/Shanghai\nEtc/UTC\nEurope/Berlin\nEurope/London\nUTC\n");
            return 0;
        }
        if (!strncmp(c->argv[1], "set-", 4) || !strcmp(c->argv[1], "timesync-status") || !strcmp(c->argv[1], "show"))
            return c->uid == 0 ? 0 : (sh_errs(c, "Failed to set time zone: Access denied\n"), 1);
        if (c->argv[1][0] != '-') {
            sh_errf(c, "Unknown command verb %s.\n", c->argv[1]);
            return 1;
        }
    }
    char t[64], r[64];
    struct tm tm;
    sys_gmtime(c->now_s, &tm);
    strftime(t, sizeof(t), "%a %Y-%m-%d %H:%M:%S", &tm);
    strftime(r, sizeof(r), "%Y-%m-%d %H:%M:%S", &tm);
    sh_outf(c, "               Local time: %s UTC\n           Universal time: %s UTC\n"
               "                 RTC time: %s\n                Time zone: Etc/UTC (UTC, +0000)\n"
               "System clock synchronized: yes\n              NTP service: active\n          RTC in local TZ: no\n",
            t, t, t);
    (void)r;
    return 0;
}

static int cmd_logname(struct sh_cmd *c)
{
    if (c->argc > 1)
        return sys_extra_operand(c, "logname", c->argv[1], 1);
    if (!c->sess || !c->sess->tty) {
        sh_errs(c, "logname: no login name\n");
        return 1;
    }
    sh_outf(c, "%s\n", c->user);
    return 0;
}

/* ==== small file tools ========================================================================== */

static int cmd_mkfifo(struct sh_cmd *c)
{
    bool bb = fs_bb(c);
    unsigned mode = 0666 & ~FS_UMASK;
    struct sys_getopt g;
    sys_getopt_init(&g, c->argc, c->argv, bb);
    int o;
    static const struct sys_longopt longs[] = { { "mode", 1, 'm' }, { NULL, 0, 0 } };
    while ((o = sys_getopt(&g, "m:Z", bb ? NULL : longs)) != -1) {
        if (o == 'm') {
            if (!fs_mode_parse(g.optarg, 0666, false, &mode)) {
                sh_errs(c, "mkfifo: invalid mode\n");
                return 1;
            }
        } else if (o != 'Z') {
            return fs_badopt(c, &g, "[-m MODE] NAME");
        }
    }
    if (g.noperands == 0)
        return bb ? sys_usage_bb(c, "mkfifo", NULL, "[-m MODE] NAME\n\nCreate named pipe\n\n\t-m MODE\tMode (default a=rw)")
                  : sys_missing_operand(c, "mkfifo", 1);
    int rc = 0;
    for (int i = 0; i < g.noperands; i++) {
        char p[FS_PATH_MAX];
        int e = fs_abs(c, g.operands[i], p);
        /* a fifo is an empty node: the vfs keeps it as an empty file with the mode asked */
        if (e == 0) {
            long w = sh_vfs_write(c->fs, p, "", 0, SH_O_CREAT | SH_O_EXCL, mode);
            e = w < 0 ? (int)w : 0;
        }
        if (e < 0) {
            struct hp_buf b;
            hp_buf_init(&b, FS_PATH_MAX + 64);
            fs_quote(&b, g.operands[i]);
            hp_buf_putc(&b, 0);
            sh_errf(c, bb ? "mkfifo: can't create fifo '%s': %s\n" : "mkfifo: cannot create fifo %s: %s\n",
                    bb ? g.operands[i] : (const char *)b.data, sh_strerror(e));
            hp_buf_free(&b);
            rc = 1;
        }
    }
    return rc;
}

static int cmd_unlink(struct sh_cmd *c)
{
    bool bb = fs_bb(c);
    int first = c->argc > 1 && !strcmp(c->argv[1], "--") ? 2 : 1;
    if (c->argc - first < 1)
        return bb ? sys_usage_bb(c, "unlink", NULL, "FILE\n\nDelete FILE by calling unlink()") : sys_missing_operand(c, "unlink", 1);
    if (c->argc - first > 1)
        return bb ? sys_usage_bb(c, "unlink", NULL, "FILE\n\nDelete FILE by calling unlink()")
                  : sys_extra_operand(c, "unlink", c->argv[first + 1], 1);
    char p[FS_PATH_MAX];
    int e = fs_abs(c, c->argv[first], p);
    if (e == 0)
        e = sh_vfs_unlink(c->fs, p);
    if (e < 0) {
        fs_perr(c, "cannot unlink", "can't remove file", c->argv[first], -e);
        return 1;
    }
    return 0;
}

/* "10K", "+1M", "-5" as truncate reads them. */
static bool trunc_size(const char *s, char *rel, uint64_t *out)
{
    *rel = (*s == '+' || *s == '-' || *s == '<' || *s == '>' || *s == '/' || *s == '%') ? *s++ : 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return false;
    static const char sfx[] = "KMGTPE";
    const char *p = *end ? strchr(sfx, *end) : NULL;
    if (*end && !p)
        return false;
    if (p) {
        bool si = end[1] == 'B';
        for (int i = 0; i <= p - sfx; i++)
            v = v > (1ULL << 50) ? UINT64_MAX / 2 : v * (si ? 1000 : 1024);
        if (end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))
            return false;
    }
    *out = v;
    return true;
}

static int cmd_truncate(struct sh_cmd *c)
{
    const char *size = NULL;
    bool nocreate = false;
    static const struct sys_longopt longs[] = { { "size", 1, 's' }, { "no-create", 0, 'c' },
                                                { "io-blocks", 0, 'o' }, { "reference", 1, 'r' }, { NULL, 0, 0 } };
    struct sys_getopt g;
    sys_getopt_init(&g, c->argc, c->argv, false);
    int o;
    while ((o = sys_getopt(&g, "s:cor:", longs)) != -1) {
        if (o == 's') size = g.optarg;
        else if (o == 'c') nocreate = true;
        else if (o != 'o' && o != 'r') return sys_usage_gnu(c, "truncate", &g, 1);
    }
    if (!size) {
        sh_errs(c, "truncate: you must specify either '--size' or '--reference'\n"
                   "Try 'truncate --help' for more information.\n");
        return 1;
    }
    char rel;
    uint64_t want;
    if (!trunc_size(size, &rel, &want)) {
        sh_errf(c, "truncate: Invalid number: " LQ "%s" RQ "\n", size);
        return 1;
    }
    if (g.noperands == 0)
        return sys_missing_operand(c, "truncate", 1);
    int rc = 0;
    for (int i = 0; i < g.noperands; i++) {
        char p[FS_PATH_MAX];
        struct hp_buf b;
        hp_buf_init(&b, SH_VFS_FILE_MAX);
        struct sh_stat st;
        int e = fs_abs(c, g.operands[i], p);
        bool exists = e == 0 && sh_vfs_stat(c->fs, p, true, &st) == 0;
        if (!exists && nocreate) {
            hp_buf_free(&b);
            continue;
        }
        if (exists && sh_vfs_read(c->fs, p, 0, 0, &b) < 0)
            hp_buf_reset(&b);
        uint64_t cur = b.len, n = want;
        if (rel == '+') n = cur + want;
        else if (rel == '-') n = cur > want ? cur - want : 0;
        else if (rel == '<') n = cur < want ? cur : want;
        else if (rel == '>') n = cur > want ? cur : want;
        else if (rel == '/' && want) n = cur / want * want;
        else if (rel == '%' && want) n = (cur + want - 1) / want * want;
        if (n > SH_VFS_FILE_MAX) {
            struct hp_buf q;
            hp_buf_init(&q, FS_PATH_MAX + 64);
            fs_quote(&q, g.operands[i]);
            hp_buf_putc(&q, 0);
            sh_errf(c, "truncate: failed to truncate %s at %llu bytes: File too large\n", (const char *)q.data,
                    (unsigned long long)n);
            hp_buf_free(&q);
            hp_buf_free(&b);
            rc = 1;
            continue;
        }
        if (n > cur) {
            if (!hp_buf_reserve(&b, (size_t)(n - cur))) {
                hp_buf_free(&b);
                rc = 1;
                continue;
            }
            memset(b.data + b.len, 0, (size_t)(n - cur));
        }
        b.len = (size_t)n;
        long w = e < 0 ? e : sh_vfs_write(c->fs, p, b.data, b.len, SH_O_CREAT | SH_O_TRUNC, 0644);
        if (w < 0) {
            fs_perr(c, "cannot open", "can't open", g.operands[i], (int)-w);
            rc = 1;
        }
        hp_buf_free(&b);
    }
    return rc;
}

/* mkdir -p. */
static int misc_mkdirs(struct sh_cmd *c, const char *path)
{
    char p[FS_PATH_MAX];
    snprintf(p, sizeof(p), "%s", path);
    size_t n = strlen(p);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char save = p[i];
        p[i] = '\0';
        int r = sh_vfs_mkdir(c->fs, p, 0755);
        p[i] = save;
        if (r < 0 && r != -EEXIST)
            return r;
    }
    return 0;
}

static int cmd_install(struct sh_cmd *c)
{
    bool dirs = false;
    unsigned mode = 0755;
    const char *target = NULL;
    static const struct sys_longopt longs[] = { { "directory", 0, 'd' }, { "mode", 1, 'm' }, { "owner", 1, 'o' },
                                                { "group", 1, 'g' }, { "target-directory", 1, 't' },
                                                { "strip", 0, 's' }, { "verbose", 0, 'v' }, { NULL, 0, 0 } };
    struct sys_getopt g;
    sys_getopt_init(&g, c->argc, c->argv, false);
    int o;
    while ((o = sys_getopt(&g, "bcCdDg:m:o:pst:TvS:Z", longs)) != -1) {
        switch (o) {
        case 'd': dirs = true; break;
        case 'm':
            if (!fs_mode_parse(g.optarg, 0755, false, &mode)) {
                sh_errf(c, "install: invalid mode " LQ "%s" RQ "\n", g.optarg);
                return 1;
            }
            break;
        case 't': target = g.optarg; break;
        case '?': case ':': return sys_usage_gnu(c, "install", &g, 1);
        default: break;
        }
    }
    if (g.noperands == 0) {
        sh_errs(c, "install: missing file operand\nTry 'install --help' for more information.\n");
        return 1;
    }
    int rc = 0;
    char p[FS_PATH_MAX];
    if (dirs) {
        for (int i = 0; i < g.noperands; i++) {
            if (fs_abs(c, g.operands[i], p) < 0 || misc_mkdirs(c, p) < 0) {
                fs_perr(c, "cannot create directory", NULL, g.operands[i], EACCES);
                rc = 1;
                continue;
            }
            sh_vfs_chmod(c->fs, p, mode);
        }
        return rc;
    }
    int nsrc = g.noperands - (target ? 0 : 1);
    const char *dst = target ? target : g.operands[g.noperands - 1];
    if (nsrc < 1) {
        sh_errf(c, "install: missing destination file operand after '%s'\n"
                   "Try 'install --help' for more information.\n", g.operands[0]);
        return 1;
    }
    char dp[FS_PATH_MAX];
    struct sh_stat st;
    bool into = fs_abs(c, dst, dp) == 0 && sh_vfs_stat(c->fs, dp, true, &st) == 0 && st.type == SH_FT_DIR;
    if (nsrc > 1 && !into) {
        sh_errf(c, "install: target '%s' is not a directory\n", dst);
        return 1;
    }
    for (int i = 0; i < nsrc; i++) {
        struct hp_buf b;
        hp_buf_init(&b, SH_VFS_FILE_MAX);
        int e = fs_slurp(c, g.operands[i], &b);
        if (e < 0) {
            fs_perr(c, "cannot stat", NULL, g.operands[i], -e);
            rc = 1;
        } else {
            char out[FS_PATH_MAX];
            if (into)
                fs_join(out, dp, fs_base(g.operands[i]));
            else
                snprintf(out, sizeof(out), "%s", dp);
            sh_vfs_unlink(c->fs, out);
            e = sys_write_file(c, out, b.data, b.len, mode);
            if (e == 0)
                sh_vfs_chmod(c->fs, out, mode);
            else {
                fs_perr(c, "cannot create regular file", NULL, into ? out : dst, -e);
                rc = 1;
            }
        }
        hp_buf_free(&b);
    }
    return rc;
}

static int cmd_chroot(struct sh_cmd *c)
{
    bool bb = fs_bb(c);
    int i = 1;
    while (i < c->argc && c->argv[i][0] == '-' && c->argv[i][1] && strcmp(c->argv[i], "--"))
        i++;
    if (i < c->argc && !strcmp(c->argv[i], "--"))
        i++;
    if (i >= c->argc) {
        if (bb)
            return sys_usage_bb(c, "chroot", NULL, "NEWROOT [PROG ARGS]\n\nRun PROG with root directory set to NEWROOT");
        sh_errs(c, "chroot: missing operand\nTry 'chroot --help' for more information.\n");
        return 125;
    }
    const char *dir = c->argv[i];
    char p[FS_PATH_MAX];
    struct sh_stat st;
    int e = fs_abs(c, dir, p);
    if (e == 0)
        e = sh_vfs_stat(c->fs, p, true, &st);
    if (e == 0 && st.type != SH_FT_DIR)
        e = -ENOTDIR;
    if (e == 0 && c->uid != 0)
        e = -EPERM;
    if (e < 0) {
        sh_errf(c, bb ? "chroot: can't change root directory to '%s': %s\n"
                      : "chroot: cannot change root directory to '%s': %s\n", dir, sh_strerror(e));
        return bb ? 1 : 125;
    }
    if (i + 1 >= c->argc)
        return 0;                 /* an interactive shell inside: this line ends here */
    char path[FS_PATH_MAX];
    if (sh_which(c, c->argv[i + 1], path, sizeof(path)) < 0) {
        sh_errf(c, bb ? "chroot: can't execute '%s': No such file or directory\n"
                      : "chroot: failed to run command " LQ "%s" RQ ": No such file or directory\n", c->argv[i + 1]);
        return 127;
    }
    return sh_run_argv(c, c->argc - i - 1, c->argv + i + 1);
}

/* ==== process knobs ============================================================================= */

static bool proc_exists(struct sh_cmd *c, long pid)
{
    struct hp_proc *ps = NULL;
    size_t n = sys_procs(c, NULL, &ps);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        found |= (long)ps[i].pid == pid;
    free(ps);
    return found;
}

static int cmd_renice(struct sh_cmd *c)
{
    long prio = 0, pid;
    int i = 1;
    bool have = false;
    if (i < c->argc && (!strcmp(c->argv[i], "-n") || !strcmp(c->argv[i], "--priority")) && i + 1 < c->argc)
        i++;
    if (i < c->argc && sh_parse_long(c->argv[i], &prio))
        have = true, i++;
    if (!have || i >= c->argc) {
        sh_errs(c, "renice: not enough arguments\nTry 'renice --help' for more information.\n");
        return 1;
    }
    int rc = 0;
    for (; i < c->argc; i++) {
        if (!strcmp(c->argv[i], "-p") || !strcmp(c->argv[i], "-g") || !strcmp(c->argv[i], "-u"))
            continue;
        if (!sh_parse_long(c->argv[i], &pid)) {
            sh_errf(c, "renice: bad process ID value: %s\n", c->argv[i]);   /* util-linux 2.38 */
            rc = 1;
        } else if (!proc_exists(c, pid)) {
            sh_errf(c, "renice: failed to get priority for %ld (process ID): No such process\n", pid);
            rc = 1;
        } else if (c->uid != 0 && prio < 0) {
            sh_errf(c, "renice: failed to set priority for %ld (process ID): Permission denied\n", pid);
            rc = 1;
        } else {
            sh_outf(c, "%ld (process ID) old priority 0, new priority %ld\n", pid, prio > 19 ? 19 : prio < -20 ? -20 : prio);
        }
    }
    return rc;
}

/* ionice and taskset either show or set a pid's setting, or run a command. */
static int cmd_ionice(struct sh_cmd *c)
{
    int i = 1;
    long pid = -1;
    bool set = false;
    for (; i < c->argc && c->argv[i][0] == '-'; i++) {
        const char *a = c->argv[i];
        if (!strcmp(a, "-p") && i + 1 < c->argc) {
            if (!sh_parse_long(c->argv[++i], &pid)) {
                sh_errf(c, "ionice: invalid PID argument: '%s'\n", c->argv[i]);
                return 1;
            }
        } else if ((!strcmp(a, "-c") || !strcmp(a, "-n")) && i + 1 < c->argc) {
            i++, set = true;
        } else if (!strncmp(a, "-c", 2) || !strncmp(a, "-n", 2) || !strcmp(a, "-t")) {
            set = true;
        }
    }
    if (i < c->argc)
        return sh_run_argv(c, c->argc - i, c->argv + i);
    if (pid >= 0 && !proc_exists(c, pid)) {
        sh_errf(c, "ionice: ioprio_get failed: No such process\n");
        return 1;
    }
    if (!set)
        sh_outs(c, "none: prio 4\n");
    return 0;
}

static int cmd_taskset(struct sh_cmd *c)
{
    bool pidmode = false, list = false;
    int i = 1;
    for (; i < c->argc && c->argv[i][0] == '-'; i++)
        for (const char *p = c->argv[i] + 1; *p; p++) {
            if (*p == 'p') pidmode = true;
            else if (*p == 'c') list = true;
            else if (*p != 'a') {
                sh_errf(c, "taskset: invalid option -- '%c'\nTry 'taskset --help' for more information.\n", *p);
                return 1;
            }
        }
    unsigned cores = c->persona->cpu_cores ? c->persona->cpu_cores : 1;
    if (i >= c->argc) {
        sh_errs(c, "Usage: taskset [options] [mask | cpu-list] [pid|cmd [args...]]\n\n");
        return 1;
    }
    if (pidmode) {
        long pid;
        const char *ps = c->argv[c->argc - 1];
        if (!sh_parse_long(ps, &pid)) {
            sh_errf(c, "taskset: invalid PID argument: '%s'\n", ps);
            return 1;
        }
        if (!proc_exists(c, pid)) {
            sh_errf(c, "taskset: failed to get pid %ld's affinity: No such process\n", pid);
            return 1;
        }
        if (c->argc - i >= 2)
            return 0;             /* setting: silent on success when -p is given a mask */
        if (list)
            sh_outf(c, cores > 1 ? "pid %ld's current affinity list: 0-%u\n" : "pid %ld's current affinity list: 0\n",
                    pid, cores - 1);
        else
            sh_outf(c, "pid %ld's current affinity mask: %llx\n", pid, (unsigned long long)((1ULL << (cores > 63 ? 63 : cores)) - 1));
        return 0;
    }
    if (i + 1 >= c->argc) {
        sh_errs(c, "Usage: taskset [options] [mask | cpu-list] [pid|cmd [args...]]\n\n");
        return 1;
    }
    return sh_run_argv(c, c->argc - i - 1, c->argv + i + 1);
}

static int cmd_stdbuf(struct sh_cmd *c)
{
    int i = 1;
    bool mode = false;
    for (; i < c->argc && c->argv[i][0] == '-'; i++) {
        const char *a = c->argv[i];
        if (strchr("ioe", a[1]) && a[1]) {
            mode = true;
            if (!a[2] && i + 1 < c->argc)
                i++;
        } else if (!strncmp(a, "--input=", 8) || !strncmp(a, "--output=", 9) || !strncmp(a, "--error=", 8)) {
            mode = true;
        }
    }
    if (i >= c->argc)
        return sys_missing_operand(c, "stdbuf", 125);
    if (!mode) {
        sh_errs(c, "stdbuf: you must specify a buffering mode option\nTry 'stdbuf --help' for more information.\n");
        return 125;
    }
    return sh_run_argv(c, c->argc - i, c->argv + i);
}

/* ==== finding things, reading and editing ===================================================== */

static int cmd_whereis(struct sh_cmd *c)
{
    static const char *const dirs[] = { "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/libexec", "/etc",
                                        "/usr/games", "/usr/local/bin", "/usr/local/sbin", "/usr/share", NULL };
    if (c->argc < 2) {
        sh_errs(c, "whereis: not enough arguments\nTry 'whereis --help' for more information.\n");
        return 1;
    }
    for (int i = 1; i < c->argc; i++) {
        const char *n = c->argv[i];
        if (n[0] == '-')
            continue;
        struct hp_buf b;
        hp_buf_init(&b, 8192);
        hp_buf_printf(&b, "%s:", n);
        for (size_t d = 0; dirs[d] && !strchr(n, '/'); d++) {
            char p[FS_PATH_MAX];
            struct sh_stat st;
            if (fs_join(p, dirs[d], n) == 0 && sh_vfs_stat(c->fs, p, false, &st) == 0)
                hp_buf_printf(&b, " %s", p);
        }
        hp_buf_putc(&b, '\n');
        sh_out(c, b.data, b.len);
        hp_buf_free(&b);
    }
    return 0;
}

/* Manual pages are not installed on this image (as on minimal cloud
 * builds): man says so for every page, and whereis lists none. */
static int cmd_man(struct sh_cmd *c)
{
    int n = 0;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] == '-' || (a[0] >= '1' && a[0] <= '9' && !a[1]))
            continue;
        sh_errf(c, "No manual entry for %s\n", a);
        n++;
    }
    if (!n) {
        sh_errs(c, "What manual page do you want?\nFor example, try 'man man'.\n");
        return 1;
    }
    return 16;
}

/* less, more, view-less pagers: no screen handling, they print like cat. */
static int cmd_pager(struct sh_cmd *c)
{
    const char *prog = fs_base(c->argc ? c->argv[0] : "less");
    bool more = strstr(prog, "more") != NULL, any = false;
    int rc = 0;
    for (int i = 1; i < c->argc; i++) {
        if (c->argv[i][0] == '-' && c->argv[i][1])
            continue;
        any = true;
        struct hp_buf b;
        hp_buf_init(&b, SH_VFS_FILE_MAX);
        int e = fs_slurp(c, c->argv[i], &b);
        if (e == 0) {
            char p[FS_PATH_MAX];
            struct sh_stat st;
            if (strcmp(c->argv[i], "-") && fs_abs(c, c->argv[i], p) == 0 && sh_vfs_stat(c->fs, p, true, &st) == 0 &&
                st.type == SH_FT_DIR)
                e = -EISDIR;
        }
        if (e == -EISDIR)
            sh_errf(c, more ? "\n*** %s: directory ***\n\n" : "%s is a directory\n", c->argv[i]);
        else if (e < 0)
            sh_errf(c, more ? "more: cannot open %s: %s\n" : "%s: %s\n", c->argv[i], sh_strerror(e));
        else
            sh_out(c, b.data, b.len);
        if (e < 0)
            rc = 1;
        hp_buf_free(&b);
    }
    if (!any) {
        if (c->in_tty) {
            if (more)
                sh_errs(c, "more: bad usage\nTry 'more --help' for more information.\n");
            else
                sh_errs(c, "Missing filename (\"less --help\" for help)\n");
            return 1;
        }
        sh_out(c, c->in, c->in_len);
    }
    return rc;
}

/* Editors: on the terminal they would take the screen; we draw nothing and
 * return as if the user quit at once.  Fed from a pipe they complain as the
 * real ones do. */
static int cmd_editor(struct sh_cmd *c)
{
    const char *a0 = fs_base(c->argc ? c->argv[0] : "vi");
    bool nano = strstr(a0, "nano") || !strcmp(a0, "editor");
    if (c->in_tty || fs_bb(c))
        return 0;
    if (nano) {
        sh_errs(c, "Too many errors from stdin\n");
        return 1;
    }
    if (!c->out_tty)
        sh_errs(c, "Vim: Warning: Output is not to a terminal\n");
    sh_errs(c, "Vim: Warning: Input is not from a terminal\n");
    return 1;
}

/* ==== init-script helpers ========================================================================= */

static bool initscript_exists(struct sh_cmd *c, const char *name)
{
    char p[FS_PATH_MAX];
    struct sh_stat st;
    if (strchr(name, '/') || snprintf(p, sizeof(p), "/etc/init.d/%s", name) >= (int)sizeof(p))
        return false;
    return sh_vfs_stat(c->fs, p, true, &st) == 0;
}

static int cmd_update_rc_d(struct sh_cmd *c)
{
    int i = 1;
    if (i < c->argc && !strcmp(c->argv[i], "-f"))
        i++;
    if (c->argc - i < 2) {
        sh_errs(c, "usage: update-rc.d [-f] <basename> remove\n"
                   "       update-rc.d [-f] <basename> defaults\n"
                   "       update-rc.d [-f] <basename> defaults-disabled\n"
                   "       update-rc.d <basename> disable|enable [S|2|3|4|5]\n"
                   "\t\t-f: force\n\n"
                   "The disable|enable API is not stable and might change in the future.\n");
        return 1;
    }
    if (strcmp(c->argv[i + 1], "remove") && !initscript_exists(c, c->argv[i])) {
        sh_errf(c, "update-rc.d: error: unable to read /etc/init.d/%s\n", c->argv[i]);
        return 1;
    }
    return 0;
}

static int cmd_invoke_rc_d(struct sh_cmd *c)
{
    int i = 1;
    while (i < c->argc && c->argv[i][0] == '-')
        i++;
    if (c->argc - i < 2) {
        sh_errs(c, "invoke-rc.d: not enough arguments\n");
        return 103;
    }
    const char *svc = c->argv[i];
    char unit[FS_PATH_MAX];
    struct sh_stat st;
    snprintf(unit, sizeof(unit), "/lib/systemd/system/%s.service", svc);
    if (!initscript_exists(c, svc) && sh_vfs_stat(c->fs, unit, true, &st) < 0) {
        sh_errf(c, "invoke-rc.d: unknown initscript, /etc/init.d/%s not found.\n", svc);
        return 100;
    }
    return 0;
}

static int run_parts_cb(void *arg, const char *name, const struct sh_stat *st)
{
    struct fs_names *l = arg;
    if (st->type != SH_FT_REG && st->type != SH_FT_LNK)
        return 0;
    for (const char *p = name; *p; p++)
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') && *p != '_' && *p != '-')
            return 0;
    return fs_names_fn(arg, name, st), l->n >= 256;
}

static int cmd_run_parts(struct sh_cmd *c)
{
    bool test = false, list = false;
    const char *dir = NULL;
    for (int i = 1; i < c->argc; i++) {
        if (!strcmp(c->argv[i], "--test"))
            test = true;
        else if (!strcmp(c->argv[i], "--list"))
            list = true;
        else if (c->argv[i][0] != '-')
            dir = c->argv[i];
    }
    if (!dir) {
        sh_errs(c, "run-parts: missing operand\nUsage: run-parts [OPTION]... DIRECTORY\n");
        return 1;
    }
    char p[FS_PATH_MAX];
    struct fs_names l = { 0 };
    int e = fs_abs(c, dir, p);
    long r = e < 0 ? e : sh_vfs_list(c->fs, p, run_parts_cb, &l);
    if (r < 0) {
        sh_errf(c, "run-parts: failed to open directory %s: %s\n", dir, sh_strerror((int)r));
        fs_names_free(&l);
        return 1;
    }
    int rc = 0;
    for (size_t i = 0; i < l.n; i++) {
        char f[FS_PATH_MAX];
        if (fs_join(f, dir, l.v[i]) < 0)
            continue;
        char abs_[FS_PATH_MAX];
        bool x = fs_abs(c, f, abs_) == 0 && sh_vfs_access(c->fs, abs_, 1) == 0;
        if (list || (test && x)) {
            sh_outf(c, "%s\n", f);
            continue;
        }
        if (!x || test)
            continue;
        char *av[2] = { f, NULL };
        int s = sh_run_argv(c, 1, av);
        if (s) {
            sh_errf(c, "run-parts: %s exited with return code %d\n", f, s);
            rc = 1;
        }
    }
    fs_names_free(&l);
    return rc;
}

static int cmd_start_stop_daemon(struct sh_cmd *c)
{
    bool start = false, stop = false, status = false, quiet = false;
    const char *name = NULL;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (!strcmp(a, "-S") || !strcmp(a, "--start")) start = true;
        else if (!strcmp(a, "-K") || !strcmp(a, "--stop")) stop = true;
        else if (!strcmp(a, "-T") || !strcmp(a, "--status")) status = true;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) quiet = true;
        else if ((!strcmp(a, "-n") || !strcmp(a, "--name") || !strcmp(a, "-x") || !strcmp(a, "--exec")) &&
                 i + 1 < c->argc)
            name = c->argv[++i];
        else if (!strcmp(a, "--")) break;
    }
    if (!start && !stop && !status) {
        if (fs_bb(c))
            return sys_usage_bb(c, "start-stop-daemon", NULL, "[OPTIONS] [-S|-K] ... [-- ARGS...]");
        sh_errs(c, "start-stop-daemon: need one of --start or --stop or --status\n"
                   "Try 'start-stop-daemon --help' for more information.\n");
        return 2;
    }
    if (stop) {
        if (!quiet && name)
            sh_outf(c, "No %s found running; none killed.\n", fs_base(name));
        return 1;
    }
    return status ? 3 : 0;
}

/* ==== checksums and encodings ===================================================================== */

/* POSIX cksum: CRC-32 (polynomial 0x04C11DB7, MSB first) over data and its length. */
static uint32_t cksum_crc(const uint8_t *d, size_t n)
{
    uint32_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint32_t)d[i] << 24;
        for (int k = 0; k < 8; k++)
            crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04C11DB7u : crc << 1;
    }
    for (size_t len = n; len; len >>= 8) {
        crc ^= (uint32_t)(len & 0xff) << 24;
        for (int k = 0; k < 8; k++)
            crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04C11DB7u : crc << 1;
    }
    return ~crc;
}

/* cksum and b2sum: one line per operand (stdin without one). */
static int sum_files(struct sh_cmd *c, bool blake)
{
    int rc = 0, n = 0;
    for (int i = 1; i <= c->argc; i++) {
        const char *f = i < c->argc ? c->argv[i] : NULL;
        if (f && f[0] == '-' && f[1])
            continue;
        if (!f && n)
            break;
        n++;
        struct hp_buf b;
        hp_buf_init(&b, SH_VFS_FILE_MAX);
        int e = fs_slurp(c, f, &b);
        if (e < 0) {
            fs_perr(c, NULL, NULL, f, -e);
            rc = 1;
        } else if (blake) {
            uint8_t dg[64];
            unsigned len = 0;
            EVP_Digest(b.data, b.len, dg, &len, EVP_blake2b512(), NULL);
            char hex[129];
            for (unsigned k = 0; k < len && k < 64; k++)
                snprintf(hex + 2 * k, 3, "%02x", dg[k]);
            sh_outf(c, "%s  %s\n", hex, f ? f : "-");
        } else {
            sh_outf(c, "%u %zu%s%s\n", cksum_crc(b.data, b.len), b.len, f ? " " : "", f ? f : "");
        }
        hp_buf_free(&b);
        if (!f)
            break;
    }
    return rc;
}

static int cmd_cksum(struct sh_cmd *c) { return sum_files(c, false); }
static int cmd_b2sum(struct sh_cmd *c) { return sum_files(c, true); }

static int cmd_base32(struct sh_cmd *c)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    bool dec = false;
    long wrap = 76;
    const char *file = NULL;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (!strcmp(a, "-d") || !strcmp(a, "--decode")) dec = true;
        else if (!strcmp(a, "-w") && i + 1 < c->argc) sh_parse_long(c->argv[++i], &wrap);
        else if (!strncmp(a, "-w", 2) && a[2]) sh_parse_long(a + 2, &wrap);
        else if (!strncmp(a, "--wrap=", 7)) sh_parse_long(a + 7, &wrap);
        else if (!strcmp(a, "-i") || !strcmp(a, "--ignore-garbage")) continue;
        else file = a;
    }
    struct hp_buf b, o;
    hp_buf_init(&b, SH_VFS_FILE_MAX);
    hp_buf_init(&o, SH_VFS_FILE_MAX * 2);
    int e = fs_slurp(c, file, &b), rc = 0;
    if (e < 0) {
        fs_perr(c, NULL, NULL, file, -e);
        rc = 1;
    } else if (dec) {
        uint64_t acc = 0;
        int bits = 0;
        for (size_t i = 0; i < b.len; i++) {
            uint8_t ch = b.data[i];
            if (ch == '\n' || ch == '=')
                continue;
            const char *p = ch ? strchr(al, ch) : NULL;
            if (!p) {
                sh_out(c, o.data, o.len);
                hp_buf_reset(&o);
                sh_errs(c, "base32: invalid input\n");
                rc = 1;
                break;
            }
            acc = (acc << 5) | (uint64_t)(p - al);
            bits += 5;
            if (bits >= 8) {
                bits -= 8;
                hp_buf_putc(&o, (uint8_t)(acc >> bits));
            }
        }
    } else {
        size_t col = 0;
        for (size_t i = 0; i < b.len; i += 5) {
            uint8_t blk[5] = { 0 };
            size_t k = b.len - i < 5 ? b.len - i : 5;
            memcpy(blk, b.data + i, k);
            uint64_t v = 0;
            for (int j = 0; j < 5; j++)
                v = (v << 8) | blk[j];
            static const int chars[6] = { 0, 2, 4, 5, 7, 8 };
            for (int j = 0; j < 8; j++) {
                char ch = j < chars[k] ? al[(v >> (35 - 5 * j)) & 31] : '=';
                hp_buf_putc(&o, (uint8_t)ch);
                if (wrap > 0 && ++col == (size_t)wrap) {
                    hp_buf_putc(&o, '\n');
                    col = 0;
                }
            }
        }
        if (col || wrap <= 0)
            hp_buf_putc(&o, '\n');
    }
    sh_out(c, o.data, o.len);
    hp_buf_free(&b);
    hp_buf_free(&o);
    return rc;
}

static int cmd_mcookie(struct sh_cmd *c)
{
    char hex[33];
    hp_random_hex(hex, sizeof(hex) - 1);     /* n hex digits, then the NUL */
    sh_outf(c, "%s\n", hex);
    return 0;
}

/* glibc's gethostid without /etc/hostid: the host name's address (127.0.1.1
 * from Debian's /etc/hosts) with its halves swapped. */
static int cmd_hostid(struct sh_cmd *c)
{
    if (c->argc > 1)
        return sys_extra_operand(c, "hostid", c->argv[1], 1);
    sh_outs(c, "007f0101\n");
    return 0;
}

static int cmd_lsusb(struct sh_cmd *c)
{
    (void)c;                      /* a KVM guest without a USB controller lists nothing */
    return 0;
}

const struct sh_cmd_def sh_cmds_misc[] = {
    { "expr", cmd_expr, false }, { "getent", cmd_getent, false }, { "lsblk", cmd_lsblk, false },
    { "blkid", cmd_blkid, false }, { "fdisk", cmd_fdisk, false }, { "findmnt", cmd_findmnt, false },
    { "mountpoint", cmd_mountpoint, false }, { "lsof", cmd_lsof, false }, { "vmstat", cmd_vmstat, false },
    { "lastlog", cmd_lastlog, false }, { "journalctl", cmd_journalctl, false },
    { "ssh-keygen", cmd_ssh_keygen, false }, { "openssl", cmd_openssl, false }, { "locale", cmd_locale, false },
    { "localectl", cmd_localectl, false }, { "timedatectl", cmd_timedatectl, false },
    { "logname", cmd_logname, false }, { "mkfifo", cmd_mkfifo, false }, { "unlink", cmd_unlink, false },
    { "truncate", cmd_truncate, false }, { "install", cmd_install, false }, { "chroot", cmd_chroot, false },
    { "renice", cmd_renice, false }, { "ionice", cmd_ionice, false }, { "taskset", cmd_taskset, false },
    { "stdbuf", cmd_stdbuf, false }, { "whereis", cmd_whereis, false }, { "man", cmd_man, false },
    { "less", cmd_pager, false }, { "more", cmd_pager, false }, { "pager", cmd_pager, false },
    { "sensible-pager", cmd_pager, false }, { "vi", cmd_editor, false }, { "vim", cmd_editor, false },
    { "view", cmd_editor, false }, { "nano", cmd_editor, false }, { "editor", cmd_editor, false },
    { "sensible-editor", cmd_editor, false }, { "update-rc.d", cmd_update_rc_d, false },
    { "invoke-rc.d", cmd_invoke_rc_d, false }, { "run-parts", cmd_run_parts, false },
    { "start-stop-daemon", cmd_start_stop_daemon, false }, { "lsusb", cmd_lsusb, false },
    { "cksum", cmd_cksum, false }, { "b2sum", cmd_b2sum, false }, { "base32", cmd_base32, false },
    { "mcookie", cmd_mcookie, false }, { "hostid", cmd_hostid, false },
    { NULL, NULL, false },
};
