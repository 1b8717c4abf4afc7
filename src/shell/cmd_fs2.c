/*
 * cmd_fs2.c - the second half of the file programs (see cmd_fs.c for the
 * design): touch, ln, chmod, chown, chgrp, basename, dirname, readlink,
 * realpath, mktemp, which, sync, the *sum programs, file, stat, dd, du,
 * find.  Split from cmd_fs.c only to keep each file readable; the helpers
 * they share are declared in cmd_fs.h.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/evp.h>
#include "cmd.h"
#include "cmd_sys.h"
#include "cmd_fs.h"
#include "buf.h"

/* ==== touch, ln ================================================================================ */

/* touch -t [[CC]YY]MMDDhhmm[.ss] and -d "@N" / "YYYY-MM-DD[ HH:MM[:SS]]" (UTC). */
static bool touch_time(const char *s, bool is_t, int64_t now, int64_t *out)
{
    struct tm tm;
    sys_gmtime(now, &tm);
    int Y = tm.tm_year + 1900, M = 0, D = 0, h = 0, mi = 0, se = 0;
    if (is_t) {
        size_t n = strspn(s, "0123456789");
        const char *dot = s + n;
        if ((*dot && (*dot != '.' || strlen(dot) != 3 || strspn(dot + 1, "0123456789") != 2)) ||
            (n != 8 && n != 10 && n != 12))
            return false;
        char b[16];
        memcpy(b, s, n);
        b[n] = '\0';
        const char *p = b;
        if (n == 12) {
            Y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
            p += 4;
        } else if (n == 10) {
            int yy = (p[0] - '0') * 10 + (p[1] - '0');
            Y = yy < 69 ? 2000 + yy : 1900 + yy;
            p += 2;
        }
        if (sscanf(p, "%2d%2d%2d%2d", &M, &D, &h, &mi) != 4)
            return false;
        if (*dot)
            se = atoi(dot + 1);
    } else if (s[0] == '@') {
        long v;
        if (!sh_parse_long(s + 1, &v))
            return false;
        *out = v;
        return true;
    } else if (!strcmp(s, "now") || !strcmp(s, "today")) {
        *out = now;
        return true;
    } else if (!strcmp(s, "yesterday")) {
        *out = now - 86400;
        return true;
    } else {
        int k = sscanf(s, "%d-%d-%d%*[ T]%d:%d:%d", &Y, &M, &D, &h, &mi, &se);
        if (k != 3 && k < 5)
            return false;
    }
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || se > 60 || Y < 1900 || Y > 9999)
        return false;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    *out = (int64_t)timegm(&tm);
    return true;
}

static int cmd_touch(struct sh_cmd *c)
{
    struct sys_getopt g;
    int o, rc = 0;
    bool nocreate = false, bb = fs_bb(c);
    int64_t t = c->now_s;
    static const struct sys_longopt lo[] = {
        { "no-create", 0, 'c' }, { "date", 1, 'd' }, { "reference", 1, 'r' }, { "time", 1, 'T' },
        { "no-dereference", 0, 'h' }, { NULL, 0, 0 },
    };
    static const char usage[] = "[-c] [-d DATE] [-t DATE] [-r FILE] FILE...\n\n"
        "Update the last-modified date on the given FILE[s]\n";
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "acd:fhmr:t:", bb ? NULL : lo)) != -1) {
        if (o == 'c')
            nocreate = true;
        else if (o == 'd' || o == 't') {
            if (!touch_time(g.optarg, o == 't', c->now_s, &t)) {
                if (bb)
                    sh_errf(c, "touch: invalid date '%s'\n", g.optarg);
                else
                    sh_errf(c, "touch: invalid date format '%s'\n", g.optarg);
                return 1;
            }
        } else if (o == 'r') {
            char p[FS_PATH_MAX];
            struct sh_stat st;
            int r = fs_abs(c, g.optarg, p);
            if (r == 0)
                r = sh_vfs_stat(c->fs, p, true, &st);
            if (r < 0) {
                fs_perr(c, "failed to get attributes of", NULL, g.optarg, r);
                return 1;
            }
            t = st.mtime;
        } else if (!strchr("afhmT", o) || o == '?')
            return fs_badopt(c, &g, usage);
    }
    if (g.noperands == 0)
        return fs_usage(c, "missing file operand", usage);
    for (int i = 0; i < g.noperands; i++) {
        char p[FS_PATH_MAX];
        struct sh_stat st;
        int r = fs_abs(c, g.operands[i], p);
        if (r == 0 && sh_vfs_stat(c->fs, p, true, &st) < 0) {
            if (nocreate)
                continue;
            long w = sh_vfs_write(c->fs, p, "", 0, SH_O_CREAT, 0666 & ~(unsigned)FS_UMASK);
            r = w < 0 ? (int)w : 0;
        }
        if (r == 0)
            r = sh_vfs_utime(c->fs, p, t);
        if (r < 0) {
            fs_perr(c, "cannot touch", NULL, g.operands[i], r);
            rc = 1;
        }
    }
    return rc;
}

static int cmd_ln(struct sh_cmd *c)
{
    struct sys_getopt g;
    int o, rc = 0;
    bool sym = false, force = false, noderef = false, notarget = false, bb = fs_bb(c);
    static const struct sys_longopt lo[] = {
        { "symbolic", 0, 's' }, { "force", 0, 'f' }, { "no-dereference", 0, 'n' },
        { "no-target-directory", 0, 'T' }, { "verbose", 0, 'v' }, { "interactive", 0, 'i' },
        { "relative", 0, 'r' }, { "backup", 2, 'b' }, { NULL, 0, 0 },
    };
    static const char usage[] = "[-sfnbtv] [-S SUF] TARGET... LINK|DIR\n\n"
        "Create a link LINK or DIR/TARGET to the specified TARGET(s)\n";
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "sfnTvirbL", bb ? NULL : lo)) != -1) {
        if (o == 's')
            sym = true;
        else if (o == 'f')
            force = true;
        else if (o == 'n')
            noderef = true;
        else if (o == 'T')
            notarget = true;
        else if (!strchr("virbL", o) || o == '?')
            return fs_badopt(c, &g, usage);
    }
    if (g.noperands == 0)
        return fs_usage(c, "missing file operand", usage);
    char dst[FS_PATH_MAX];
    bool into = false;
    int n = g.noperands;
    if (n == 1) {
        into = true;
        fs_abs(c, ".", dst);
    } else {
        struct sh_stat st;
        fs_abs(c, g.operands[n - 1], dst);
        into = !notarget && sh_vfs_stat(c->fs, dst, !noderef, &st) == 0 && st.type == SH_FT_DIR;
        if (n > 2 && !into) {
            sh_errf(c, bb ? "ln: '%s' is not a directory\n" : "ln: target '%s' is not a directory\n",
                    g.operands[n - 1]);
            return 1;
        }
    }
    const char *dshown = n == 1 ? "." : g.operands[n - 1];
    int nsrc = n == 1 ? 1 : n - 1;
    for (int i = 0; i < nsrc; i++) {
        const char *tgt = g.operands[i];
        char lp[FS_PATH_MAX], shown[FS_PATH_MAX], tp[FS_PATH_MAX];
        if (fs_dest(dst, dshown, into, tgt, lp, shown) < 0)
            continue;
        if (n == 1)
            snprintf(shown, sizeof(shown), "%s", fs_base(tgt));
        struct sh_stat st;
        int r = 0;
        if (!sym) {
            fs_abs(c, tgt, tp);
            r = sh_vfs_stat(c->fs, tp, true, &st);
            if (r < 0) {
                fs_perr(c, "failed to access", NULL, tgt, r);
                rc = 1;
                continue;
            }
            if (st.type == SH_FT_DIR) {
                sh_errf(c, "ln: %s: hard link not allowed for directory\n", tgt);
                rc = 1;
                continue;
            }
        }
        if (force && sh_vfs_stat(c->fs, lp, false, &st) == 0 && st.type != SH_FT_DIR)
            sh_vfs_unlink(c->fs, lp);
        r = sym ? sh_vfs_symlink(c->fs, tgt, lp) : sh_vfs_link(c->fs, tp, lp);
        if (r < 0) {
            if (bb)
                sh_errf(c, "ln: %s: %s\n", shown, sh_strerror(r));
            else
                fs_perr(c, sym ? "failed to create symbolic link" : "failed to create hard link", NULL,
                        shown, r);
            rc = 1;
        }
    }
    return rc;
}

/* ==== chmod, chown, chgrp ======================================================================== */

/* A name in /etc/passwd or /etc/group (or a number) to its id. */
static bool fs_lookup_id(struct sh_cmd *c, const char *file, const char *name, unsigned *id)
{
    long v;
    if (sh_parse_long(name, &v) && v >= 0 && v <= 0x7fffffff) {
        *id = (unsigned)v;
        return true;
    }
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    bool ok = false;
    if (c->fs && sh_vfs_read(c->fs, file, 0, 0, &b) >= 0) {
        const char *s = hp_buf_cstr(&b);
        size_t nl = strlen(name);
        while (s && *s) {
            const char *e = strchr(s, '\n');
            if (strncmp(s, name, nl) == 0 && s[nl] == ':') {
                const char *f = strchr(s + nl + 1, ':');
                if (f && (!e || f < e)) {
                    *id = (unsigned)strtoul(f + 1, NULL, 10);
                    ok = true;
                    break;
                }
            }
            s = e ? e + 1 : NULL;
        }
    }
    hp_buf_free(&b);
    return ok;
}

struct own_ctx {
    struct sh_cmd *c;
    bool rec, quiet, is_chmod, nofollow;
    const char *mode;             /* chmod */
    long uid, gid;                /* chown/chgrp: -1 keeps */
    unsigned visited;
    int rc;
};

static void own_apply(struct own_ctx *x, const char *p, const char *shown, int depth)
{
    struct sh_cmd *c = x->c;
    struct sh_stat st;
    if (x->visited++ >= FS_WALK_MAX)
        return;
    int r = sh_vfs_stat(c->fs, p, depth == 0 && !x->nofollow, &st);
    if (r < 0) {
        if (!x->quiet)
            fs_perr(c, "cannot access", NULL, shown, r);
        x->rc = 1;
        return;
    }
    if (st.type == SH_FT_LNK && depth > 0)
        return;                               /* -R does not follow links below the top */
    if (x->is_chmod) {
        unsigned m;
        fs_mode_parse(x->mode, st.mode, st.type == SH_FT_DIR, &m);
        r = sh_vfs_chmod(c->fs, p, m);
    } else
        r = sh_vfs_chown(c->fs, p, x->uid < 0 ? st.uid : (unsigned)x->uid, x->gid < 0 ? st.gid : (unsigned)x->gid);
    if (r < 0 && !x->quiet) {
        const char *what = x->is_chmod ? "changing permissions of" :
                           x->uid < 0 ? "changing group of" : "changing ownership of";
        if (fs_bb(c))
            fs_perr(c, NULL, NULL, shown, r);
        else
            fs_perr(c, what, NULL, shown, r);
        x->rc = 1;
    }
    if (x->rec && st.type == SH_FT_DIR && depth < FS_DEPTH_MAX) {
        struct fs_names l = { 0 };
        sh_vfs_list(c->fs, p, fs_names_fn, &l);
        for (size_t i = 0; i < l.n; i++) {
            char p1[FS_PATH_MAX], s1[FS_PATH_MAX];
            if (fs_join(p1, p, l.v[i]) == 0 && fs_join(s1, shown, l.v[i]) == 0)
                own_apply(x, p1, s1, depth + 1);
        }
        fs_names_free(&l);
    }
}

static bool chmod_is_mode_opt(const char *a)
{
    return a[0] == '-' && a[1] && strspn(a + 1, "rwxXstugoa+-=,01234567") == strlen(a + 1) &&
           strspn(a + 1, "rwxXst") > 0;
}

/* Options common to chmod/chown/chgrp; operands collected in order. */
static int own_parse(struct own_ctx *x, char **ops, int *nops)
{
    struct sh_cmd *c = x->c;
    *nops = 0;
    bool dashdash = false;
    for (int i = 1; i < c->argc && *nops < SYS_OPERANDS_MAX; i++) {
        const char *a = c->argv[i];
        if (dashdash || a[0] != '-' || !a[1] || (x->is_chmod && *nops == 0 && chmod_is_mode_opt(a))) {
            ops[(*nops)++] = c->argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            dashdash = true;
            continue;
        }
        if (!strcmp(a, "--recursive")) { x->rec = true; continue; }
        if (!strcmp(a, "--silent") || !strcmp(a, "--quiet")) { x->quiet = true; continue; }
        if (!strcmp(a, "--verbose") || !strcmp(a, "--changes") || !strncmp(a, "--reference", 11) ||
            !strcmp(a, "--no-dereference") || !strcmp(a, "--dereference"))
            continue;
        for (const char *p = a + 1; *p; p++) {
            if (*p == 'R')
                x->rec = true;
            else if (*p == 'f')
                x->quiet = true;
            else if (*p == 'h')
                x->nofollow = true;
            else if (!strchr("vcHLP", *p)) {
                if (fs_bb(c))
                    return sys_usage_bb(c, fs_prog(c), NULL, "[-Rcvf] MODE[,MODE]... FILE...\n");
                if (a[1] == '-')
                    sh_errf(c, "%s: unrecognized option '%s'\n", fs_prog(c), a);
                else
                    sh_errf(c, "%s: invalid option -- '%c'\n", fs_prog(c), *p);
                return fs_usage(c, NULL, NULL);
            }
        }
    }
    return 0;
}

static int own_run(struct own_ctx *x, char **ops, int nops)
{
    for (int i = 1; i < nops; i++) {
        char p[FS_PATH_MAX];
        if (fs_abs(x->c, ops[i], p) == 0)
            own_apply(x, p, ops[i], 0);
    }
    return x->rc;
}

static int own_missing(struct sh_cmd *c, char **ops, int nops, const char *usage)
{
    if (fs_bb(c))
        return sys_usage_bb(c, fs_prog(c), NULL, usage);
    if (nops == 0)
        sh_errf(c, "%s: missing operand\n", fs_prog(c));
    else
        sh_errf(c, "%s: missing operand after '%s'\n", fs_prog(c), ops[0]);
    return fs_usage(c, NULL, NULL);
}

static int cmd_chmod(struct sh_cmd *c)
{
    struct own_ctx x = { .c = c, .is_chmod = true };
    char *ops[SYS_OPERANDS_MAX];
    int nops;
    if (own_parse(&x, ops, &nops))
        return 1;
    if (nops < 2)
        return own_missing(c, ops, nops, "[-Rcvf] MODE[,MODE]... FILE...\n");
    unsigned m;
    if (!fs_mode_parse(ops[0], 0, false, &m)) {
        sh_errf(c, fs_bb(c) ? "chmod: invalid mode '%s'\n" : "chmod: invalid mode: '%s'\n", ops[0]);
        return fs_bb(c) ? 1 : fs_usage(c, NULL, NULL);
    }
    x.mode = ops[0];
    return own_run(&x, ops, nops);
}

/* chown/chgrp: "user", "user:group", "user.group", ":group", "user:". */
static int own_ids(struct own_ctx *x, const char *spec, bool group_only)
{
    struct sh_cmd *c = x->c;
    bool bb = fs_bb(c);
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", spec);
    char *gs = NULL;
    if (group_only)
        gs = buf;
    else {
        char *sep = strchr(buf, ':');
        if (!sep)
            sep = strchr(buf, '.');
        if (sep) {
            *sep = '\0';
            gs = sep + 1;
        }
    }
    unsigned id;
    x->uid = x->gid = -1;
    if (!group_only && buf[0]) {
        if (!fs_lookup_id(c, "/etc/passwd", buf, &id)) {
            if (bb)
                sh_errf(c, "%s: unknown user %s\n", fs_prog(c), buf);
            else
                sh_errf(c, "%s: invalid user: '%s'\n", fs_prog(c), spec);
            return 1;
        }
        x->uid = id;
    }
    if (gs && gs[0]) {
        if (!fs_lookup_id(c, "/etc/group", gs, &id)) {
            if (bb)
                sh_errf(c, "%s: unknown group %s\n", fs_prog(c), gs);
            else
                sh_errf(c, "%s: invalid group: '%s'\n", fs_prog(c), spec);
            return 1;
        }
        x->gid = id;
    }
    return 0;
}

static int cmd_chown_any(struct sh_cmd *c, bool grp)
{
    struct own_ctx x = { .c = c };
    char *ops[SYS_OPERANDS_MAX];
    int nops;
    if (own_parse(&x, ops, &nops))
        return 1;
    if (nops < 2)
        return own_missing(c, ops, nops, grp ? "[-RhLHPcvf]... GROUP FILE...\n"
                                             : "[-RhLHPcvf]... USER[:[GRP]] FILE...\n");
    if (own_ids(&x, ops[0], grp))
        return 1;
    return own_run(&x, ops, nops);
}

static int cmd_chown(struct sh_cmd *c) { return cmd_chown_any(c, false); }
static int cmd_chgrp(struct sh_cmd *c) { return cmd_chown_any(c, true); }

/* ==== basename, dirname, readlink, realpath, mktemp, which, sync ================================= */

static void fs_basename(const char *s, const char *suffix, struct hp_buf *o)
{
    size_t l = strlen(s);
    while (l > 1 && s[l - 1] == '/')
        l--;
    size_t b = l;
    while (b > 0 && s[b - 1] != '/')
        b--;
    if (l == 1 && s[0] == '/')
        b = 0;
    size_t n = l - b;
    if (suffix && *suffix) {
        size_t sl = strlen(suffix);
        if (n > sl && memcmp(s + l - sl, suffix, sl) == 0)
            n -= sl;
    }
    hp_buf_put(o, s + b, n);
    hp_buf_putc(o, '\n');
}

static int cmd_basename(struct sh_cmd *c)
{
    struct sys_getopt g;
    int o;
    bool multi = false, bb = fs_bb(c);
    const char *suffix = NULL;
    static const struct sys_longopt lo[] = {
        { "multiple", 0, 'a' }, { "suffix", 1, 's' }, { "zero", 0, 'z' }, { NULL, 0, 0 },
    };
    sys_getopt_init(&g, c->argc, c->argv, true);
    while ((o = sys_getopt(&g, "as:z", bb ? NULL : lo)) != -1) {
        if (o == 'a')
            multi = true;
        else if (o == 's')
            multi = true, suffix = g.optarg;
        else if (o != 'z')
            return fs_badopt(c, &g, "FILE [SUFFIX]\n\nStrip directory path and .SUFFIX from FILE\n");
    }
    if (g.noperands == 0)
        return fs_usage(c, "missing operand", "FILE [SUFFIX]\n\nStrip directory path and .SUFFIX from FILE\n");
    struct hp_buf out;
    hp_buf_init(&out, FS_OUT_MAX);
    if (multi)
        for (int i = 0; i < g.noperands; i++)
            fs_basename(g.operands[i], suffix, &out);
    else if (g.noperands > 2) {
        hp_buf_free(&out);
        if (bb)
            return fs_usage(c, NULL, "FILE [SUFFIX]\n\nStrip directory path and .SUFFIX from FILE\n");
        sh_errf(c, "basename: extra operand '%s'\n", g.operands[2]);
        return fs_usage(c, NULL, NULL);
    } else
        fs_basename(g.operands[0], g.noperands == 2 ? g.operands[1] : NULL, &out);
    sh_out(c, out.data, out.len);
    hp_buf_free(&out);
    return 0;
}

static int cmd_dirname(struct sh_cmd *c)
{
    struct sys_getopt g;
    int o;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "z", NULL)) != -1)
        if (o != 'z')
            return fs_badopt(c, &g, "FILENAME\n\nStrip non-directory suffix from FILENAME\n");
    if (g.noperands == 0)
        return fs_usage(c, "missing operand", "FILENAME\n\nStrip non-directory suffix from FILENAME\n");
    struct hp_buf out;
    hp_buf_init(&out, FS_OUT_MAX);
    for (int i = 0; i < g.noperands; i++) {
        const char *s = g.operands[i];
        size_t l = strlen(s);
        while (l > 1 && s[l - 1] == '/')
            l--;
        while (l > 0 && s[l - 1] != '/')
            l--;
        while (l > 1 && s[l - 1] == '/')
            l--;
        if (l == 0)
            hp_buf_puts(&out, ".");
        else
            hp_buf_put(&out, s, l);
        hp_buf_putc(&out, '\n');
    }
    sh_out(c, out.data, out.len);
    hp_buf_free(&out);
    return 0;
}

/* readlink -f / realpath of a path whose last components may be missing
 * (-m style for realpath -m); returns 0 or -errno. */
static int fs_canon(struct sh_cmd *c, const char *arg, char *out, bool last_may_miss)
{
    char p[FS_PATH_MAX];
    int r = fs_abs(c, arg, p);
    if (r < 0)
        return r;
    r = sh_vfs_realpath(c->fs, p, out, FS_PATH_MAX);
    if (r == 0 || !last_may_miss || r != -ENOENT)
        return r;
    /* the parent must exist; the last component may not (readlink -f) */
    char *s = strrchr(p, '/');
    if (!s)
        return r;
    char base[FS_PATH_MAX];
    snprintf(base, sizeof(base), "%s", s + 1);
    if (s == p)
        s[1] = '\0';
    else
        *s = '\0';
    char dir[FS_PATH_MAX];
    if ((r = sh_vfs_realpath(c->fs, p, dir, sizeof(dir))) < 0)
        return r;
    struct sh_stat st;
    if (sh_vfs_stat(c->fs, dir, true, &st) == 0 && st.type != SH_FT_DIR)
        return -ENOTDIR;
    return base[0] ? fs_join(out, dir, base) : (snprintf(out, FS_PATH_MAX, "%s", dir), 0);
}

static int cmd_readlink(struct sh_cmd *c)
{
    struct sys_getopt g;
    int o, rc = 0;
    bool canon = false, noline = false, quiet = true, verbose = false, bb = fs_bb(c);
    static const struct sys_longopt lo[] = {
        { "canonicalize", 0, 'f' }, { "canonicalize-existing", 0, 'e' }, { "canonicalize-missing", 0, 'm' },
        { "no-newline", 0, 'n' }, { "quiet", 0, 'q' }, { "silent", 0, 's' }, { "verbose", 0, 'v' },
        { "zero", 0, 'z' }, { NULL, 0, 0 },
    };
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "femnqsvz", bb ? NULL : lo)) != -1) {
        if (o == 'f' || o == 'e' || o == 'm')
            canon = true;
        else if (o == 'n')
            noline = true;
        else if (o == 'v')
            verbose = true, quiet = false;
        else if (o != 'q' && o != 's' && o != 'z')
            return fs_badopt(c, &g, "[-fnv] FILE\n\nDisplay the value of a symlink\n");
    }
    if (g.noperands == 0)
        return fs_usage(c, "missing operand", "[-fnv] FILE\n\nDisplay the value of a symlink\n");
    for (int i = 0; i < g.noperands; i++) {
        char out[FS_PATH_MAX], p[FS_PATH_MAX];
        int r = canon ? fs_canon(c, g.operands[i], out, true) : fs_abs(c, g.operands[i], p);
        if (!canon && r == 0)
            r = sh_vfs_readlink(c->fs, p, out, sizeof(out));
        if (r < 0) {
            if (verbose && !quiet)
                fs_perr(c, NULL, NULL, g.operands[i], r);
            rc = 1;
            continue;
        }
        sh_outs(c, out);
        if (!noline || g.noperands > 1)
            sh_outs(c, "\n");
    }
    return rc;
}

static int cmd_realpath(struct sh_cmd *c)
{
    struct sys_getopt g;
    int o, rc = 0;
    bool missing = false, quiet = false;
    static const struct sys_longopt lo[] = {
        { "canonicalize-existing", 0, 'e' }, { "canonicalize-missing", 0, 'm' }, { "quiet", 0, 'q' },
        { "no-symlinks", 0, 's' }, { "logical", 0, 'L' }, { "physical", 0, 'P' }, { "zero", 0, 'z' },
        { NULL, 0, 0 },
    };
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "emqsLPz", fs_bb(c) ? NULL : lo)) != -1) {
        if (o == 'm')
            missing = true;
        else if (o == 'q')
            quiet = true;
        else if (!strchr("esLPz", o) || o == '?')
            return fs_badopt(c, &g, "FILE...\n\nReturn the canonicalized absolute pathname\n");
    }
    if (g.noperands == 0)
        return fs_usage(c, "missing operand", "FILE...\n\nReturn the canonicalized absolute pathname\n");
    for (int i = 0; i < g.noperands; i++) {
        char out[FS_PATH_MAX];
        int r = fs_canon(c, g.operands[i], out, true);
        (void)missing;
        if (r < 0) {
            if (!quiet)
                sh_errf(c, "realpath: %s: %s\n", g.operands[i], sh_strerror(r));
            rc = 1;
            continue;
        }
        sh_outf(c, "%s\n", out);
    }
    return rc;
}

static int cmd_mktemp(struct sh_cmd *c)
{
    static unsigned counter;
    struct sys_getopt g;
    int o;
    bool dir = false, dry = false, quiet = false, tflag = false, bb = fs_bb(c);
    const char *pdir = NULL;
    static const struct sys_longopt lo[] = {
        { "directory", 0, 'd' }, { "dry-run", 0, 'u' }, { "quiet", 0, 'q' }, { "tmpdir", 2, 'p' },
        { "suffix", 1, 'S' }, { NULL, 0, 0 },
    };
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "duqp:t", bb ? NULL : lo)) != -1) {
        if (o == 'd')
            dir = true;
        else if (o == 'u')
            dry = true;
        else if (o == 'q')
            quiet = true;
        else if (o == 'p')
            pdir = g.optarg ? g.optarg : "/tmp";
        else if (o == 't')
            tflag = true;
        else if (o != 'S')
            return fs_badopt(c, &g, "[-dt] [-p DIR] [TEMPLATE]\n\nCreate a temporary file\n");
    }
    if (g.noperands > 1) {
        sh_errf(c, "mktemp: too many templates\n");
        return fs_usage(c, NULL, NULL);
    }
    const char *tmpl = g.noperands ? g.operands[0] : "tmp.XXXXXXXXXX";
    size_t tl = strlen(tmpl), nx = 0;
    while (nx < tl && tmpl[tl - 1 - nx] == 'X')
        nx++;
    if (nx < 3) {
        if (!quiet)
            sh_errf(c, bb ? "mktemp: %s: Invalid argument\n" : "mktemp: too few X's in template '%s'\n", tmpl);
        return 1;
    }
    const char *base = pdir;
    if (!base && (!g.noperands || tflag)) {
        base = sh_getenv(c, "TMPDIR");
        if (!base || !*base)
            base = "/tmp";
    }
    char name[FS_PATH_MAX], p[FS_PATH_MAX];
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t x = (c->persona ? c->persona->seed : 0) ^ (uint64_t)c->now_s * 0x9e3779b97f4a7c15ull ^ ++counter;
    for (int attempt = 0; attempt < 8; attempt++) {
        if (base)
            snprintf(name, sizeof(name), "%s/%s", base, tmpl);
        else
            snprintf(name, sizeof(name), "%s", tmpl);
        size_t nl = strlen(name);
        for (size_t i = nl - nx; i < nl; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            name[i] = al[x % 62];
        }
        if (fs_abs(c, name, p) < 0)
            return 1;
        if (dry)
            break;
        int r = dir ? sh_vfs_mkdir(c->fs, p, 0700)
                    : (int)sh_vfs_write(c->fs, p, "", 0, SH_O_CREAT | SH_O_EXCL, 0600);
        if (r == -EEXIST)
            continue;
        if (r < 0) {
            if (!quiet) {
                if (bb)
                    fs_perr(c, NULL, NULL, name, r);
                else
                    sh_errf(c, "mktemp: failed to create %s via template '%s': %s\n", dir ? "directory" : "file",
                            name, sh_strerror(r));
            }
            return 1;
        }
        break;
    }
    sh_outf(c, "%s\n", name);
    return 0;
}

static int cmd_which(struct sh_cmd *c)
{
    int rc = 0, i = 1;
    bool all = false;
    for (; i < c->argc && c->argv[i][0] == '-' && c->argv[i][1]; i++) {
        if (!strcmp(c->argv[i], "-a"))
            all = true;
        else if (!strcmp(c->argv[i], "--"))
            {
                i++;
                break;
            }
        else if (!fs_bb(c)) {
            sh_errf(c, "Illegal option %s\nUsage: /usr/bin/which [-as] args\n", c->argv[i]);
            return 2;
        }
    }
    if (i >= c->argc)
        return 1;
    (void)all;
    for (; i < c->argc; i++) {
        char out[FS_PATH_MAX];
        if (sh_which(c, c->argv[i], out, sizeof(out)) == 0 && out[0] == '/')
            sh_outf(c, "%s\n", out);
        else
            rc = 1;
    }
    return rc;
}

static int cmd_sync(struct sh_cmd *c)
{
    (void)c;
    return 0;
}

/* ==== md5sum, sha1sum, sha256sum, sha512sum ===================================================== */

static const EVP_MD *sum_md(const char *prog)
{
    if (!strcmp(prog, "md5sum"))
        return EVP_md5();
    if (!strcmp(prog, "sha1sum"))
        return EVP_sha1();
    if (!strcmp(prog, "sha224sum"))
        return EVP_sha224();
    if (!strcmp(prog, "sha384sum"))
        return EVP_sha384();
    if (!strcmp(prog, "sha512sum"))
        return EVP_sha512();
    return EVP_sha256();
}

static void sum_hex(const EVP_MD *md, const uint8_t *d, size_t n, char *hex)
{
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned hl = 0;
    if (!EVP_Digest(d, n, h, &hl, md, NULL))
        hl = 0;
    for (unsigned i = 0; i < hl; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    hex[2 * hl] = '\0';
}

static void sum_err(struct sh_cmd *c, const char *name, int err)
{
    if (fs_bb(c) && err != -EISDIR)
        fs_perr(c, NULL, "can't open", name, err);
    else
        fs_perr(c, NULL, NULL, name, err);
}

/* -c: lines "HASH  NAME" (or "HASH *NAME"). */
static int sum_check(struct sh_cmd *c, const EVP_MD *md, const char *list)
{
    struct hp_buf in, f;
    hp_buf_init(&in, SH_VFS_FILE_MAX);
    hp_buf_init(&f, SH_VFS_FILE_MAX);
    int r = fs_slurp(c, list, &in), bad = 0, missing = 0, ok = 0;
    if (r < 0) {
        sum_err(c, list ? list : "-", r);
        hp_buf_free(&in);
        hp_buf_free(&f);
        return 1;
    }
    const char *s = hp_buf_cstr(&in);
    size_t hl = (size_t)EVP_MD_size(md) * 2;
    for (unsigned lines = 0; s && *s && lines < FS_WALK_MAX; lines++) {
        const char *e = strchr(s, '\n');
        size_t ll = e ? (size_t)(e - s) : strlen(s);
        if (ll > hl + 2 && ll - hl - 2 < FS_PATH_MAX && s[hl] == ' ' && (s[hl + 1] == ' ' || s[hl + 1] == '*')) {
            char name[FS_PATH_MAX], hex[2 * EVP_MAX_MD_SIZE + 1];
            memcpy(name, s + hl + 2, ll - hl - 2);
            name[ll - hl - 2] = '\0';
            hp_buf_reset(&f);
            if ((r = fs_slurp(c, name, &f)) < 0) {
                sum_err(c, name, r);
                sh_outf(c, "%s: FAILED open or read\n", name);
                missing++;
            } else {
                sum_hex(md, f.data, f.len, hex);
                bool same = strncasecmp(hex, s, hl) == 0;
                sh_outf(c, "%s: %s\n", name, same ? "OK" : "FAILED");
                same ? ok++ : bad++;
            }
        }
        s = e ? e + 1 : NULL;
    }
    if (missing && !fs_bb(c))
        sh_errf(c, "%s: WARNING: %d listed file%s could not be read\n", fs_prog(c), missing, missing > 1 ? "s" : "");
    if (bad && !fs_bb(c))
        sh_errf(c, "%s: WARNING: %d computed checksum%s did NOT match\n", fs_prog(c), bad,
                bad > 1 ? "s" : "");
    if (!ok && !bad && !missing && !fs_bb(c))
        sh_errf(c, "%s: %s: no properly formatted checksum lines found\n", fs_prog(c), list ? list : "standard input");
    hp_buf_free(&in);
    hp_buf_free(&f);
    return bad || missing || (!ok && !bad) ? 1 : 0;
}

static int cmd_sum(struct sh_cmd *c)
{
    const EVP_MD *md = sum_md(fs_prog(c));
    struct sys_getopt g;
    int o, rc = 0;
    bool check = false;
    static const struct sys_longopt lo[] = {
        { "check", 0, 'c' }, { "binary", 0, 'b' }, { "text", 0, 't' }, { "quiet", 0, 'q' },
        { "status", 0, 's' }, { "strict", 0, 'S' }, { "warn", 0, 'w' }, { "tag", 0, 'T' }, { NULL, 0, 0 },
    };
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "cbtswz", fs_bb(c) ? NULL : lo)) != -1) {
        if (o == 'c')
            check = true;
        else if (!strchr("btswzqST", o) || o == '?')
            return fs_badopt(c, &g, "[-c[sw]] [FILE]...\n");
    }
    if (check)
        return sum_check(c, md, g.noperands ? g.operands[0] : NULL);
    char *dash = "-";
    char **ops = g.noperands ? g.operands : &dash;
    int n = g.noperands ? g.noperands : 1;
    struct hp_buf in;
    hp_buf_init(&in, SH_VFS_FILE_MAX);
    for (int i = 0; i < n; i++) {
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        hp_buf_reset(&in);
        int r = fs_slurp(c, ops[i], &in);
        if (r < 0) {
            sum_err(c, ops[i], r);
            rc = 1;
            continue;
        }
        sum_hex(md, in.data, in.len, hex);
        sh_outf(c, "%s  %s\n", hex, ops[i]);
    }
    hp_buf_free(&in);
    return rc;
}

/* ==== file ============================================================================================= */

static uint64_t elf_get(const uint8_t *d, size_t len, size_t off, int n, bool be)
{
    if (off > len || (size_t)n > len - off)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)d[off + (size_t)(be ? n - 1 - i : i)] << (8 * i);
    return v;
}

static const char *elf_machine(unsigned m)
{
    static const struct { unsigned m; const char *name; } t[] = {
        { 3, "Intel 80386" }, { 8, "MIPS, MIPS-I" }, { 20, "PowerPC or cisco 4500" },
        { 21, "64-bit PowerPC or cisco 7500" }, { 40, "ARM" }, { 62, "x86-64" }, { 183, "ARM aarch64" },
        { 2, "SPARC" }, { 42, "Renesas SH" }, { 243, "UCB RISC-V" }, { 4, "Motorola m68k, 68020" },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (t[i].m == m)
            return t[i].name;
    return "*unknown arch*";
}

static void file_elf(const uint8_t *d, size_t len, struct hp_buf *o)
{
    bool is64 = d[4] == 2, be = d[5] == 2;
    unsigned type = (unsigned)elf_get(d, len, 16, 2, be), mach = (unsigned)elf_get(d, len, 18, 2, be);
    uint64_t phoff = is64 ? elf_get(d, len, 32, 8, be) : elf_get(d, len, 28, 4, be);
    uint64_t shoff = is64 ? elf_get(d, len, 40, 8, be) : elf_get(d, len, 32, 4, be);
    unsigned phes = (unsigned)elf_get(d, len, is64 ? 54 : 42, 2, be), phn = (unsigned)elf_get(d, len, is64 ? 56 : 44, 2, be);
    unsigned shes = (unsigned)elf_get(d, len, is64 ? 58 : 46, 2, be), shn = (unsigned)elf_get(d, len, is64 ? 60 : 48, 2, be);
    bool interp = false, dyn = false, symtab = false;
    for (unsigned i = 0; i < phn && i < 256 && phoff < len; i++) {
        unsigned pt = (unsigned)elf_get(d, len, (size_t)phoff + (size_t)i * phes, 4, be);
        interp |= pt == 3;
        dyn |= pt == 2;
    }
    for (unsigned i = 0; i < shn && i < 1024 && shoff < len; i++)
        symtab |= elf_get(d, len, (size_t)shoff + (size_t)i * shes + 4, 4, be) == 2;
    const char *tname = type == 1 ? "relocatable" : type == 2 ? "executable" : type == 4 ? "core file"
                      : type == 3 ? (interp ? "pie executable" : "shared object") : "*unknown*";
    hp_buf_printf(o, "ELF %s-bit %s %s, %s, version %u (%s)", is64 ? "64" : "32", be ? "MSB" : "LSB", tname,
                  elf_machine(mach), d[6], d[7] == 3 ? "GNU/Linux" : "SYSV");
    if (type == 2 || type == 3)
        hp_buf_puts(o, interp || dyn ? ", dynamically linked" : ", statically linked");
    if (type != 1 && type != 4)
        hp_buf_puts(o, symtab ? ", not stripped" : ", stripped");
}

static void file_text(const uint8_t *d, size_t len, struct hp_buf *o)
{
    static const struct { const char *interp, *desc; } scripts[] = {
        { "bash", "Bourne-Again shell script" }, { "sh", "POSIX shell script" }, { "ash", "POSIX shell script" },
        { "python", "Python script" }, { "python3", "Python script" }, { "perl", "Perl script text" },
    };
    bool ascii = true, utf8 = true, crlf = false, nl = false;
    for (size_t i = 0; i < len; i++) {
        uint8_t ch = d[i];
        if (ch == '\n') {
            nl = true;
            crlf |= i > 0 && d[i - 1] == '\r';
        } else if (ch < 32 && !strchr("\t\r\f\b\033", ch))
            ascii = utf8 = false;
        else if (ch >= 128) {
            ascii = false;
            size_t k = (ch & 0xe0) == 0xc0 ? 1 : (ch & 0xf0) == 0xe0 ? 2 : (ch & 0xf8) == 0xf0 ? 3 : 9;
            if (k == 9 || i + k >= len + 0 || i + k > len)
                utf8 = false;
            for (size_t j = 1; utf8 && j <= k; j++)
                if (i + j >= len || (d[i + j] & 0xc0) != 0x80)
                    utf8 = false;
            if (utf8)
                i += k;
        }
    }
    if (!ascii && !utf8) {
        hp_buf_puts(o, "data");
        return;
    }
    const char *kind = ascii ? "ASCII text" : "Unicode text, UTF-8 text";
    if (len > 2 && d[0] == '#' && d[1] == '!') {
        const uint8_t *e = memchr(d, '\n', len);
        size_t ll = e ? (size_t)(e - d) : len;
        char line[256];
        ll -= 2;
        snprintf(line, sizeof(line), "%.*s", (int)(ll < 255 ? ll : 255), (const char *)d + 2);
        char *w = line + strspn(line, " "), *sp = strchr(w, ' ');
        const char *prog = strrchr(w, '/') ? strrchr(w, '/') + 1 : w;
        char pb[64];
        snprintf(pb, sizeof(pb), "%.*s", sp ? (int)(sp - prog) : 63, prog);
        if (!strcmp(pb, "env") && sp)
            snprintf(pb, sizeof(pb), "%.*s", (int)strcspn(sp + 1, " "), sp + 1);
        for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
            if (!strcmp(pb, scripts[i].interp)) {
                hp_buf_printf(o, "%s, %s executable", scripts[i].desc, kind);
                goto tail;
            }
        hp_buf_printf(o, "a %s script, %s executable", w, kind);
    } else
        hp_buf_puts(o, kind);
tail:
    if (crlf)
        hp_buf_puts(o, ", with CRLF line terminators");
    else if (!nl)
        hp_buf_puts(o, ", with no line terminators");
}

static void file_bytes(const uint8_t *d, size_t len, struct hp_buf *o)
{
    if (len == 0)
        hp_buf_puts(o, "empty");
    else if (len >= 52 && !memcmp(d, "\177ELF", 4))
        file_elf(d, len, o);
    else if (len >= 2 && d[0] == 0x1f && d[1] == 0x8b)
        hp_buf_puts(o, "gzip compressed data");
    else if (len >= 4 && !memcmp(d, "PK\003\004", 4))
        hp_buf_puts(o, "Zip archive data");
    else if (len >= 3 && !memcmp(d, "BZh", 3))
        hp_buf_puts(o, "bzip2 compressed data");
    else if (len >= 6 && !memcmp(d, "\3757zXZ\0", 6))
        hp_buf_puts(o, "XZ compressed data, checksum CRC64");
    else if (len >= 262 && !memcmp(d + 257, "ustar", 5))
        hp_buf_puts(o, "POSIX tar archive (GNU)");
    else
        file_text(d, len, o);
}

static int cmd_file(struct sh_cmd *c)
{
    struct sys_getopt g;
    int o;
    bool follow = false, brief = false;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "LhbzkNi", NULL)) != -1) {
        if (o == 'L')
            follow = true;
        else if (o == 'b')
            brief = true;
        else if (o == '?') {
            sh_errf(c, "file: invalid option -- '%c'\nUsage: file [-bcdEhikLlNnprsSvzZ0] [--apple] [--extension] "
                       "[--mime-encoding]\n            [--mime-type] [-e <testname>] [-F <separator>]  [-f <namefile>]\n"
                       "            [-m <magicfiles>] [-P <parameter=value>] [--exclude-quiet]\n"
                       "            <file> ...\n       file -C [-m <magicfiles>]\n       file [--help]\n", g.badc);
            return 1;
        }
    }
    if (g.noperands == 0) {
        sh_errs(c, "Usage: file [-bcdEhikLlNnprsSvzZ0] [--apple] [--extension] [--mime-encoding]\n"
                   "            [--mime-type] [-e <testname>] [-F <separator>]  [-f <namefile>]\n"
                   "            [-m <magicfiles>] [-P <parameter=value>] [--exclude-quiet]\n"
                   "            <file> ...\n       file -C [-m <magicfiles>]\n       file [--help]\n");
        return 1;
    }
    struct hp_buf o2, in;
    hp_buf_init(&o2, FS_OUT_MAX);
    hp_buf_init(&in, SH_VFS_FILE_MAX);
    for (int i = 0; i < g.noperands; i++) {
        const char *a = g.operands[i];
        char p[FS_PATH_MAX];
        struct sh_stat st;
        if (!brief)
            hp_buf_printf(&o2, "%s: ", a);
        int r = strcmp(a, "-") ? fs_abs(c, a, p) : 0;
        if (r == 0 && strcmp(a, "-"))
            r = sh_vfs_stat(c->fs, p, follow, &st);
        if (r < 0) {
            hp_buf_printf(&o2, "cannot open `%s' (%s)\n", a, sh_strerror(r));
            continue;
        }
        hp_buf_reset(&in);
        if (strcmp(a, "-") == 0) {
            hp_buf_put(&in, c->in, c->in_len);
            file_bytes(in.data, in.len, &o2);
        } else if (st.type == SH_FT_DIR)
            hp_buf_puts(&o2, st.mode & 01000 ? "sticky, directory" : "directory");
        else if (st.type == SH_FT_LNK) {
            char t[FS_PATH_MAX];
            if (sh_vfs_readlink(c->fs, p, t, sizeof(t)) < 0)
                t[0] = '\0';
            struct sh_stat ts;
            hp_buf_printf(&o2, "%ssymbolic link to %s", sh_vfs_stat(c->fs, p, true, &ts) < 0 ? "broken " : "", t);
        } else if (st.type == SH_FT_CHR || st.type == SH_FT_BLK)
            hp_buf_printf(&o2, "%s special (%u/%u)", st.type == SH_FT_CHR ? "character" : "block",
                          st.rdev_major, st.rdev_minor);
        else if (st.type == SH_FT_FIFO)
            hp_buf_puts(&o2, "fifo (named pipe)");
        else if (st.type == SH_FT_SOCK)
            hp_buf_puts(&o2, "socket");
        else if (sh_vfs_read(c->fs, p, 0, 1 << 20, &in) < 0)
            hp_buf_printf(&o2, "regular file, no read permission");
        else if (in.len == 0 && st.size > 0)
            hp_buf_puts(&o2, "empty");
        else
            file_bytes(in.data, in.len, &o2);
        hp_buf_putc(&o2, '\n');
    }
    sh_out(c, o2.data, o2.len);
    hp_buf_free(&o2);
    hp_buf_free(&in);
    return 0;
}

/* ==== stat ========================================================================================== */

static const char *stat_type(const struct sh_stat *st)
{
    switch (st->type) {
    case SH_FT_DIR: return "directory";
    case SH_FT_LNK: return "symbolic link";
    case SH_FT_CHR: return "character special file";
    case SH_FT_BLK: return "block special file";
    case SH_FT_FIFO: return "fifo";
    case SH_FT_SOCK: return "socket";
    default: return st->size ? "regular file" : "regular empty file";
    }
}

static void stat_time(int64_t t, bool bb, struct hp_buf *o)
{
    struct tm tm;
    sys_gmtime(t, &tm);
    hp_buf_printf(o, "%04d-%02d-%02d %02d:%02d:%02d.000000000%s", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, bb ? "" : " +0000");
}

static void stat_format(struct sh_cmd *c, const char *fmt, const char *name, const char *path,
                        const struct sh_stat *st, struct hp_buf *o)
{
    char u[64], g[64], mode[11];
    fs_owner(c, st->uid, st->gid, false, u, g, sizeof(u));
    fs_modestr(st, mode);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%' || !p[1]) {
            hp_buf_putc(o, (uint8_t)*p);
            continue;
        }
        switch (*++p) {
        case 's': hp_buf_printf(o, "%llu", (unsigned long long)st->size); break;
        case 'a': hp_buf_printf(o, "%o", st->mode & 07777); break;
        case 'A': hp_buf_puts(o, mode); break;
        case 'n': hp_buf_puts(o, name); break;
        case 'N':
            fs_quote(o, name);
            if (st->type == SH_FT_LNK) {
                char t[FS_PATH_MAX];
                if (sh_vfs_readlink(c->fs, path, t, sizeof(t)) >= 0) {
                    hp_buf_puts(o, " -> ");
                    fs_quote(o, t);
                }
            }
            break;
        case 'U': hp_buf_puts(o, u); break;
        case 'G': hp_buf_puts(o, g); break;
        case 'u': hp_buf_printf(o, "%u", st->uid); break;
        case 'g': hp_buf_printf(o, "%u", st->gid); break;
        case 'F': hp_buf_puts(o, stat_type(st)); break;
        case 'i': hp_buf_printf(o, "%llu", (unsigned long long)st->ino); break;
        case 'h': hp_buf_printf(o, "%u", st->nlink); break;
        case 'b': hp_buf_printf(o, "%llu", (unsigned long long)fs_blocks_k(st) * 2); break;
        case 'B': hp_buf_puts(o, "512"); break;
        case 'o': hp_buf_puts(o, "4096"); break;
        case 'f': hp_buf_printf(o, "%x", st->mode | (st->type == SH_FT_DIR ? 040000u : 0100000u)); break;
        case 'X': case 'Y': case 'Z': case 'W':
            hp_buf_printf(o, "%lld", (long long)st->mtime); break;
        case 'x': case 'y': case 'z': case 'w': stat_time(st->mtime, fs_bb(c), o); break;
        case 'd': hp_buf_puts(o, "2049"); break;
        case 'D': hp_buf_puts(o, "801"); break;
        case 't': hp_buf_printf(o, "%x", st->rdev_major); break;
        case 'T': hp_buf_printf(o, "%x", st->rdev_minor); break;
        case '%': hp_buf_putc(o, '%'); break;
        default: hp_buf_putc(o, '?'); break;
        }
    }
}

static void stat_default(struct sh_cmd *c, const char *name, const char *path, const struct sh_stat *st,
                         struct hp_buf *o)
{
    bool bb = fs_bb(c);
    char u[64], g[64], mode[11], b1[32], b2[32], b3[32];
    fs_owner(c, st->uid, st->gid, false, u, g, sizeof(u));
    fs_modestr(st, mode);
    hp_buf_puts(o, "  File: ");
    if (bb)
        hp_buf_printf(o, "%s", name);
    else
        hp_buf_puts(o, name);
    if (st->type == SH_FT_LNK) {
        char t[FS_PATH_MAX];
        if (sh_vfs_readlink(c->fs, path, t, sizeof(t)) >= 0)
            hp_buf_printf(o, " -> %s", t);
    }
    snprintf(b1, sizeof(b1), "%llu", (unsigned long long)st->size);
    snprintf(b2, sizeof(b2), "%llu", (unsigned long long)fs_blocks_k(st) * 2);
    hp_buf_printf(o, "\n  Size: %-10s\tBlocks: %-10s IO Block: %-6s %s\n", b1, b2, "4096", stat_type(st));
    snprintf(b3, sizeof(b3), "%llu", (unsigned long long)st->ino);
    snprintf(b1, sizeof(b1), "%u", st->nlink);
    if (st->type == SH_FT_CHR || st->type == SH_FT_BLK)
        hp_buf_printf(o, "Device: %s\tInode: %-11s Links: %-5s Device type: %x,%x\n", bb ? "5h/5d" : "5h/5d", b3, b1,
                      st->rdev_major, st->rdev_minor);
    else
        hp_buf_printf(o, "Device: %s\tInode: %-11s Links: %s\n", "801h/2049d", b3, b1);
    hp_buf_printf(o, "Access: (%04o/%s)  Uid: (%5u/%8s)   Gid: (%5u/%8s)\n", st->mode & 07777, mode, st->uid, u,
                  st->gid, g);
    static const char *lbl[] = { "Access: ", "Modify: ", "Change: " };
    for (int i = 0; i < 3; i++) {
        hp_buf_puts(o, lbl[i]);
        stat_time(st->mtime, bb, o);
        hp_buf_putc(o, '\n');
    }
    if (!bb) {
        hp_buf_puts(o, " Birth: ");
        stat_time(st->mtime, bb, o);
        hp_buf_putc(o, '\n');
    }
}

static int cmd_stat(struct sh_cmd *c)
{
    struct sys_getopt g;
    int o, rc = 0;
    bool follow = false, bb = fs_bb(c), printf_mode = false;
    const char *fmt = NULL;
    static const struct sys_longopt lo[] = {
        { "dereference", 0, 'L' }, { "format", 1, 'c' }, { "printf", 1, 'P' }, { "terse", 0, 't' },
        { "file-system", 0, 'f' }, { NULL, 0, 0 },
    };
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "Lc:tf", bb ? NULL : lo)) != -1) {
        if (o == 'L')
            follow = true;
        else if (o == 'c' || o == 'P') {
            fmt = g.optarg;
            printf_mode = o == 'P';
        } else if (o != 't' && o != 'f')
            return fs_badopt(c, &g, "[-ltf] [-c FMT] FILE...\n\nDisplay file status\n");
    }
    if (g.noperands == 0)
        return fs_usage(c, "missing operand", "[-ltf] [-c FMT] FILE...\n\nDisplay file status\n");
    struct hp_buf out;
    hp_buf_init(&out, FS_OUT_MAX);
    for (int i = 0; i < g.noperands; i++) {
        char p[FS_PATH_MAX];
        struct sh_stat st;
        int r = fs_abs(c, g.operands[i], p);
        if (r == 0)
            r = sh_vfs_stat(c->fs, p, follow, &st);
        if (r < 0) {
            sh_out(c, out.data, out.len);
            hp_buf_reset(&out);
            fs_perr(c, "cannot statx", "can't stat", g.operands[i], r);
            rc = 1;
            continue;
        }
        if (fmt) {
            stat_format(c, fmt, g.operands[i], p, &st, &out);
            if (!printf_mode)
                hp_buf_putc(&out, '\n');
        } else
            stat_default(c, g.operands[i], p, &st, &out);
    }
    sh_out(c, out.data, out.len);
    hp_buf_free(&out);
    return rc;
}

/* ==== dd ============================================================================================= */

/* dd numbers: N[c w b kB K MB M GB G] and products "2x512"; false on junk. */
static bool dd_num(const char *s, uint64_t *out)
{
    static const struct { const char *suf; uint64_t mul; } sfx[] = {
        { "", 1 }, { "c", 1 }, { "w", 2 }, { "b", 512 }, { "kB", 1000 }, { "K", 1024 }, { "k", 1024 },
        { "KiB", 1024 }, { "MB", 1000000 }, { "M", 1u << 20 }, { "MiB", 1u << 20 }, { "xM", 1u << 20 },
        { "GB", 1000000000 }, { "G", 1u << 30 }, { "GiB", 1u << 30 },
    };
    if (*s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return false;
    const char *x = strchr(end, 'x');
    char suf[8];
    size_t sl = x ? (size_t)(x - end) : strlen(end);
    if (sl >= sizeof(suf))
        return false;
    memcpy(suf, end, sl);
    suf[sl] = '\0';
    for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
        if (!strcmp(suf, sfx[i].suf)) {
            if (v > UINT64_MAX / sfx[i].mul)
                return false;
            v *= sfx[i].mul;
            if (x) {
                uint64_t w;
                if (!dd_num(x + 1, &w) || (w && v > UINT64_MAX / w))
                    return false;
                v *= w;
            }
            *out = v;
            return true;
        }
    return false;
}

/* "2.0 MB" style (GNU human, SI or IEC, one decimal under 10). */
static void dd_human(double v, bool iec, char *out, size_t n)
{
    static const char *si[] = { "", "kB", "MB", "GB", "TB" }, *bi[] = { "", "KiB", "MiB", "GiB", "TiB" };
    double base = iec ? 1024 : 1000;
    int u = 0;
    while (v >= base && u < 4) {
        v /= base;
        u++;
    }
    if (u == 0)
        snprintf(out, n, "%.0f %s", v, iec ? "B" : "B");
    else if (v < 10)
        snprintf(out, n, "%.1f %s", v, iec ? bi[u] : si[u]);
    else
        snprintf(out, n, "%.0f %s", v, iec ? bi[u] : si[u]);
}

static void dd_report(struct sh_cmd *c, uint64_t in_full, uint64_t in_part, uint64_t out_full, uint64_t out_part,
                      uint64_t bytes, bool noxfer)
{
    bool bb = fs_bb(c);
    sh_errf(c, "%llu+%llu records in\n%llu+%llu records out\n", (unsigned long long)in_full,
            (unsigned long long)in_part, (unsigned long long)out_full, (unsigned long long)out_part);
    if (noxfer)
        return;
    double secs = 0.000087 + (double)bytes / 1.1e9 + (double)((c->now_s % 97) * 3) / 1e6;
    double rate = (double)bytes / secs;
    char r[32], s1[32], s2[32];
    if (bb) {
        dd_human((double)bytes, true, s1, sizeof(s1));
        dd_human(rate, true, r, sizeof(r));
        char *sp;
        while ((sp = strchr(s1, ' ')) != NULL)
            memmove(sp, sp + 1, strlen(sp));
        while ((sp = strchr(r, ' ')) != NULL)
            memmove(sp, sp + 1, strlen(sp));
        sh_errf(c, "%llu bytes (%s) copied, %f seconds, %s/s\n", (unsigned long long)bytes, s1, secs, r);
        return;
    }
    dd_human(rate, false, r, sizeof(r));
    if (bytes == 0)
        snprintf(r, sizeof(r), "0.0 kB");
    if (bytes < 1000)
        sh_errf(c, "%llu byte%s copied, %g s, %s/s\n", (unsigned long long)bytes, bytes == 1 ? "" : "s", secs, r);
    else if (bytes < 1024) {
        dd_human((double)bytes, false, s1, sizeof(s1));
        sh_errf(c, "%llu bytes (%s) copied, %g s, %s/s\n", (unsigned long long)bytes, s1, secs, r);
    } else {
        dd_human((double)bytes, false, s1, sizeof(s1));
        dd_human((double)bytes, true, s2, sizeof(s2));
        sh_errf(c, "%llu bytes (%s, %s) copied, %g s, %s/s\n", (unsigned long long)bytes, s1, s2, secs, r);
    }
}

static int cmd_dd(struct sh_cmd *c)
{
    bool bb = fs_bb(c), notrunc = false, noxfer = false, quiet = false;
    const char *inf = NULL, *outf = NULL;
    uint64_t ibs = 512, obs = 512, count = UINT64_MAX, skip = 0, seek = 0;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i], *eq = strchr(a, '=');
        static const char *const keys[] = { "if", "of", "bs", "ibs", "obs", "count", "skip", "seek", "conv",
                                            "status", "iflag", "oflag", NULL };
        int k = -1;
        for (int j = 0; eq && keys[j]; j++)
            if (strlen(keys[j]) == (size_t)(eq - a) && !strncmp(a, keys[j], (size_t)(eq - a)))
                k = j;
        if (k < 0) {
            if (bb)
                return sys_usage_bb(c, "dd", NULL, "[if=FILE] [of=FILE] [ibs=N obs=N/bs=N] [count=N] "
                                                   "[skip=N] [seek=N]\n\t[conv=notrunc|noerror|sync|fsync] "
                                                   "[iflag=skip_bytes|fullblock|direct] [oflag=seek_bytes|append|direct]\n");
            sh_errf(c, "dd: unrecognized operand '%s'\nTry 'dd --help' for more information.\n", a);
            return 1;
        }
        const char *v = eq + 1;
        uint64_t n = 0;
        if (k >= 2 && k <= 7 && (!dd_num(v, &n) || ((k <= 4) && n == 0))) {
            sh_errf(c, bb ? "dd: invalid number '%s'\n" : "dd: invalid number: '%s'\n", v);
            return 1;
        }
        switch (k) {
        case 0: inf = v; break;
        case 1: outf = v; break;
        case 2: ibs = obs = n; break;
        case 3: ibs = n; break;
        case 4: obs = n; break;
        case 5: count = n; break;
        case 6: skip = n; break;
        case 7: seek = n; break;
        case 8: notrunc = strstr(v, "notrunc") != NULL; break;
        case 9: noxfer = !strcmp(v, "noxfer"); quiet = !strcmp(v, "none"); break;
        default: break;
        }
    }
    /* what is read: count blocks of ibs after skip blocks, capped */
    uint64_t want = count == UINT64_MAX || count > FS_DD_MAX / ibs + 1 ? FS_DD_MAX : count * ibs;
    if (want > FS_DD_MAX)
        want = FS_DD_MAX;
    uint64_t off = skip > FS_DD_MAX / ibs + 1 ? (uint64_t)FS_DD_MAX * 2 : skip * ibs;
    struct hp_buf in;
    hp_buf_init(&in, FS_DD_MAX + 1);
    if (!inf || !strcmp(inf, "-")) {
        if (off < c->in_len)
            hp_buf_put(&in, c->in + off, c->in_len - off < want ? c->in_len - off : want);
    } else {
        char p[FS_PATH_MAX];
        int r = fs_abs(c, inf, p);
        long n = r < 0 ? r : sh_vfs_read(c->fs, p, off, (size_t)want, &in);
        if (n < 0) {
            fs_perr(c, "failed to open", "can't open", inf, (int)n);
            hp_buf_free(&in);
            return 1;
        }
    }
    size_t len = in.len > want ? (size_t)want : in.len;
    int rc = 0;
    if (outf) {
        char p[FS_PATH_MAX];
        int r = fs_abs(c, outf, p);
        uint64_t at = seek > FS_DD_MAX / obs + 1 ? (uint64_t)FS_DD_MAX * 2 : seek * obs;
        struct hp_buf cur;
        hp_buf_init(&cur, SH_VFS_FILE_MAX);
        if (r == 0 && (at > 0 || notrunc))
            sh_vfs_read(c->fs, p, 0, 0, &cur);
        uint64_t end = at + len;
        if (r == 0 && end <= SH_VFS_FILE_MAX) {
            size_t keep = notrunc && cur.len > end ? cur.len : (size_t)end;
            if (cur.len < keep) {
                size_t z = keep - cur.len;
                if (hp_buf_reserve(&cur, z)) {
                    memset(cur.data + cur.len, 0, z);
                    cur.len += z;
                }
            }
            if (cur.len >= end) {
                if (len)                        /* empty input: in and cur may have no buffer */
                    memcpy(cur.data + at, in.data, len);
                cur.len = keep;
                long w = sh_vfs_write(c->fs, p, cur.data, cur.len, SH_O_CREAT | SH_O_TRUNC, 0644);
                r = w < 0 ? (int)w : 0;
            } else
                r = -EFBIG;
        } else if (r == 0)
            r = -EFBIG;
        hp_buf_free(&cur);
        if (r < 0) {
            fs_perr(c, "failed to open", "can't open", outf, r);
            hp_buf_free(&in);
            return 1;
        }
    } else
        sh_out(c, in.data, len);
    if (!quiet)
        dd_report(c, len / ibs, len % ibs ? 1 : 0, len / obs, len % obs ? 1 : 0, len, noxfer);
    hp_buf_free(&in);
    return rc;
}

/* ==== du ============================================================================================= */

struct du_ctx {
    struct sh_cmd *c;
    bool summary, human, all;
    unsigned visited;
    struct hp_buf *out;
};

static void du_line(struct du_ctx *x, uint64_t k, const char *shown)
{
    char b[32];
    if (x->human)
        fs_human(k * 1024, b, sizeof(b));
    else
        snprintf(b, sizeof(b), "%llu", (unsigned long long)k);
    hp_buf_printf(x->out, "%s\t%s\n", b, shown);
}

static uint64_t du_walk(struct du_ctx *x, const char *p, const char *shown, const struct sh_stat *st, int depth)
{
    uint64_t k = fs_blocks_k(st);
    if (x->visited++ >= FS_WALK_MAX)
        return k;
    if (st->type == SH_FT_DIR && depth < FS_DEPTH_MAX) {
        struct fs_names l = { 0 };
        sh_vfs_list(x->c->fs, p, fs_names_fn, &l);
        for (size_t i = 0; i < l.n; i++) {
            char p1[FS_PATH_MAX], s1[FS_PATH_MAX];
            struct sh_stat cs;
            if (fs_join(p1, p, l.v[i]) < 0 || fs_join(s1, shown, l.v[i]) < 0 ||
                sh_vfs_stat(x->c->fs, p1, false, &cs) < 0)
                continue;
            k += du_walk(x, p1, s1, &cs, depth + 1);
        }
        fs_names_free(&l);
        if (!x->summary || depth == 0)
            du_line(x, k, shown);
    } else if (depth == 0 || (x->all && !x->summary))
        du_line(x, k, shown);
    return k;
}

static int cmd_du(struct sh_cmd *c)
{
    struct sys_getopt g;
    int o, rc = 0;
    bool total = false;
    struct hp_buf out;
    struct du_ctx x = { .c = c, .out = &out };
    static const struct sys_longopt lo[] = {
        { "summarize", 0, 's' }, { "human-readable", 0, 'h' }, { "all", 0, 'a' }, { "total", 0, 'c' },
        { "max-depth", 1, 'd' }, { NULL, 0, 0 },
    };
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "shakcmxLd:", fs_bb(c) ? NULL : lo)) != -1) {
        if (o == 's')
            x.summary = true;
        else if (o == 'h')
            x.human = true;
        else if (o == 'a')
            x.all = true;
        else if (o == 'c')
            total = true;
        else if (!strchr("kmxLd", o) || o == '?')
            return fs_badopt(c, &g, "[-aHLdclsxhmk] [FILE]...\n\nSummarize disk space used for FILEs (or directories)\n");
    }
    char *dot = ".";
    char **ops = g.noperands ? g.operands : &dot;
    int n = g.noperands ? g.noperands : 1;
    uint64_t sum = 0;
    hp_buf_init(&out, FS_OUT_MAX);
    for (int i = 0; i < n; i++) {
        char p[FS_PATH_MAX];
        struct sh_stat st;
        int r = fs_abs(c, ops[i], p);
        if (r == 0)
            r = sh_vfs_stat(c->fs, p, false, &st);
        if (r < 0) {
            sh_out(c, out.data, out.len);
            hp_buf_reset(&out);
            fs_perr(c, "cannot access", NULL, ops[i], r);
            rc = 1;
            continue;
        }
        sum += du_walk(&x, p, ops[i], &st, 0);
    }
    if (total)
        du_line(&x, sum, "total");
    sh_out(c, out.data, out.len);
    hp_buf_free(&out);
    return rc;
}

/* ==== find ============================================================================================ */



enum fp_kind { FP_NAME, FP_INAME, FP_TYPE, FP_PERM, FP_SIZE, FP_EMPTY, FP_PATH, FP_PRINT, FP_EXEC, FP_DELETE,
               FP_OR, FP_TRUE };

struct fp {
    enum fp_kind k;
    bool neg;
    const char *arg;
    char perm_op;                 /* '=', '-', '/' */
    unsigned mode;
    char size_op;                 /* '=', '+', '-' */
    uint64_t size_n, size_unit;
    int exec_start, exec_end;     /* argv indexes of the command of -exec */
    bool exec_plus;
};

#define FP_MAX 64

struct find_ctx {
    struct sh_cmd *c;
    struct fp p[FP_MAX];
    int np;
    int mindepth, maxdepth;
    bool has_action;
    unsigned visited;
    struct hp_buf *out;
    struct fs_names plus, del;   /* -exec ... {} + paths; -delete paths */
    int rc;
};

static bool fp_test(struct find_ctx *x, const struct fp *p, const char *path, const char *name,
                    const struct sh_stat *st)
{
    switch (p->k) {
    case FP_NAME: return fnmatch(p->arg, name, 0) == 0;
    case FP_INAME: return fnmatch(p->arg, name, FNM_CASEFOLD) == 0;
    case FP_PATH: return fnmatch(p->arg, path, 0) == 0;
    case FP_TYPE: {
        static const char t[] = { [SH_FT_REG] = 'f', [SH_FT_DIR] = 'd', [SH_FT_LNK] = 'l', [SH_FT_CHR] = 'c',
                                  [SH_FT_BLK] = 'b', [SH_FT_FIFO] = 'p', [SH_FT_SOCK] = 's' };
        return strchr(p->arg, t[st->type]) != NULL;
    }
    case FP_PERM: {
        unsigned m = st->mode & 07777;
        return p->perm_op == '-' ? (m & p->mode) == p->mode : p->perm_op == '/' ? (p->mode == 0 || (m & p->mode))
                                                                               : m == p->mode;
    }
    case FP_SIZE: {
        uint64_t u = p->size_unit, v = u == 1 ? st->size : (st->size + u - 1) / u;
        return p->size_op == '+' ? v > p->size_n : p->size_op == '-' ? v < p->size_n : v == p->size_n;
    }
    case FP_EMPTY: return st->type == SH_FT_DIR ? false : st->type == SH_FT_REG && st->size == 0;
    case FP_PRINT: hp_buf_printf(x->out, "%s\n", path); return true;
    case FP_DELETE: fs_names_fn(&x->del, path, st); return true;
    case FP_EXEC: {
        struct sh_cmd *c = x->c;
        if (p->exec_plus) {
            fs_names_fn(&x->plus, path, st);
            return true;
        }
        int n = p->exec_end - p->exec_start;
        char **av = calloc((size_t)n + 1, sizeof(char *));
        char **own = calloc((size_t)n + 1, sizeof(char *));
        if (!av || !own) {
            free(av);
            free(own);
            return false;
        }
        for (int i = 0; i < n; i++) {
            const char *a = c->argv[p->exec_start + i], *b = strstr(a, "{}");
            if (b) {
                size_t need = strlen(a) + strlen(path) + 1;
                own[i] = malloc(need);
                if (own[i])
                    snprintf(own[i], need, "%.*s%s%s", (int)(b - a), a, path, b + 2);
                av[i] = own[i] ? own[i] : (char *)a;
            } else
                av[i] = (char *)a;
        }
        sh_out(c, x->out->data, x->out->len);
        hp_buf_reset(x->out);
        int r = sh_run_argv(c, n, av);
        for (int i = 0; i < n; i++)
            free(own[i]);
        free(own);
        free(av);
        return r == 0;
    }
    default: return true;
    }
}

/* OR of AND groups; a group matches when all its primaries do. */
static void find_eval(struct find_ctx *x, const char *path, const char *name, const struct sh_stat *st)
{
    bool group = true;
    for (int i = 0; i < x->np; i++) {
        if (x->p[i].k == FP_OR) {
            if (group)
                break;
            group = true;
            continue;
        }
        if (!group)
            continue;
        bool r = fp_test(x, &x->p[i], path, name, st);
        group = x->p[i].neg ? !r : r;
    }
    if (group && !x->has_action)
        hp_buf_printf(x->out, "%s\n", path);
}

static void find_walk(struct find_ctx *x, const char *p, const char *shown, const char *name, int depth)
{
    struct sh_cmd *c = x->c;
    struct sh_stat st;
    if (x->visited++ >= FS_WALK_MAX || !hp_buf_ok(x->out))
        return;
    int r = sh_vfs_stat(c->fs, p, false, &st);
    if (r < 0) {
        sh_out(c, x->out->data, x->out->len);
        hp_buf_reset(x->out);
        if (fs_bb(c))
            fs_perr(c, NULL, NULL, shown, r);
        else
            sh_errf(c, "find: '%s': %s\n", shown, sh_strerror(r));
        x->rc = 1;
        return;
    }
    if (depth >= x->mindepth)
        find_eval(x, shown, name, &st);
    if (st.type != SH_FT_DIR || depth >= x->maxdepth || depth >= FS_DEPTH_MAX)
        return;
    struct fs_names l = { 0 };
    long n = sh_vfs_list(c->fs, p, fs_names_fn, &l);
    if (n < 0) {
        sh_out(c, x->out->data, x->out->len);
        hp_buf_reset(x->out);
        sh_errf(c, fs_bb(c) ? "find: %s: %s\n" : "find: '%s': %s\n", shown, sh_strerror((int)n));
        x->rc = 1;
    }
    for (size_t i = 0; i < l.n; i++) {
        char p1[FS_PATH_MAX], s1[FS_PATH_MAX];
        if (fs_join(p1, p, l.v[i]) == 0 && fs_join(s1, shown, l.v[i]) == 0)
            find_walk(x, p1, s1, l.v[i], depth + 1);
    }
    fs_names_free(&l);
}

/* find's usage errors: GNU wording, or busybox's message and usage. */
static int find_bad(struct sh_cmd *c, const char *gnu_before, const char *arg, const char *gnu_after)
{
    if (fs_bb(c)) {
        if (strstr(gnu_before, "missing"))
            sh_errf(c, "find: '%s' requires an argument\n", arg);
        else
            sh_errf(c, "find: unrecognized: %s\n", arg);
        return sys_usage_bb(c, "find", NULL, "[-HL] [PATH]... [OPTIONS] [ACTIONS]\n");
    }
    sh_errf(c, "find: %s%s%s\n", gnu_before, arg, gnu_after);
    return 1;
}

static int find_parse(struct find_ctx *x, int i)
{
    struct sh_cmd *c = x->c;
    bool neg = false;
    for (; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (x->np >= FP_MAX - 1)
            return find_bad(c, "too many arguments: '", a, "'");
        struct fp *p = &x->p[x->np];
        memset(p, 0, sizeof(*p));
        if (!strcmp(a, "!") || !strcmp(a, "-not")) {
            neg = !neg;
            continue;
        }
        if (!strcmp(a, "-a") || !strcmp(a, "-and") || !strcmp(a, "(") || !strcmp(a, ")"))
            continue;
        if (!strcmp(a, "-o") || !strcmp(a, "-or")) {
            p->k = FP_OR;
            x->np++;
            continue;
        }
        if (!strcmp(a, "-xdev") || !strcmp(a, "-mount") || !strcmp(a, "-depth") || !strcmp(a, "-follow") ||
            !strcmp(a, "-noleaf") || !strcmp(a, "-true"))
            continue;
        static const char *const witharg[] = { "-name", "-iname", "-type", "-perm", "-size", "-maxdepth",
                                               "-mindepth", "-path", "-wholename", "-user", "-group", "-mtime",
                                               "-newer", "-uid", "-gid", "-mmin", "-regex", NULL };
        bool needs = false;
        for (int k = 0; witharg[k]; k++)
            needs |= !strcmp(a, witharg[k]);
        const char *v = needs ? (i + 1 < c->argc ? c->argv[++i] : NULL) : NULL;
        if (needs && !v)
            return find_bad(c, "missing argument to `", a, "'");
        p->neg = neg;
        neg = false;
        if (!strcmp(a, "-maxdepth") || !strcmp(a, "-mindepth")) {
            long d;
            if (!sh_parse_long(v, &d) || d < 0)
                return find_bad(c, "Expected a positive decimal integer argument to ", a, "");
            *(a[2] == 'a' ? &x->maxdepth : &x->mindepth) = d > 1000 ? 1000 : (int)d;
            continue;
        }
        if (!strcmp(a, "-name") || !strcmp(a, "-iname") || !strcmp(a, "-path") || !strcmp(a, "-wholename")) {
            if (strlen(v) > 1024)
                return find_bad(c, "pattern too long: '", "...", "'");
            p->k = a[1] == 'n' ? FP_NAME : a[1] == 'i' ? FP_INAME : FP_PATH;
            p->arg = v;
        } else if (!strcmp(a, "-type")) {
            if (strspn(v, "fdlcbps,") != strlen(v) || !*v)
                return find_bad(c, "Unknown argument to -type: ", v, "");
            p->k = FP_TYPE;
            p->arg = v;
        } else if (!strcmp(a, "-perm")) {
            const char *m = v;
            p->perm_op = (*m == '-' || *m == '/' || *m == '+') ? (*m == '+' ? '/' : *m) : '=';
            if (p->perm_op != '=')
                m++;
            if (!fs_mode_parse(m, 0, false, &p->mode))
                return find_bad(c, "invalid mode `", v, "'");
            p->k = FP_PERM;
        } else if (!strcmp(a, "-size")) {
            const char *s = v;
            p->size_op = (*s == '+' || *s == '-') ? *s++ : '=';
            char *end;
            p->size_n = strtoull(s, &end, 10);
            static const char units[] = "bcwkMG";
            static const uint64_t mul[] = { 512, 1, 2, 1024, 1u << 20, 1u << 30 };
            const char *u = *end ? strchr(units, *end) : units;
            if (end == s || !u || (*end && end[1]))
                return find_bad(c, "invalid -size type `", v, "'");
            p->size_unit = mul[u - units];
            p->k = FP_SIZE;
        } else if (!strcmp(a, "-empty"))
            p->k = FP_EMPTY;
        else if (!strcmp(a, "-print") || !strcmp(a, "-print0") || !strcmp(a, "-ls")) {
            p->k = FP_PRINT;
            x->has_action = true;
        } else if (!strcmp(a, "-delete")) {
            p->k = FP_DELETE;
            x->has_action = true;
        } else if (!strcmp(a, "-exec") || !strcmp(a, "-execdir") || !strcmp(a, "-ok")) {
            int j = i + 1;
            while (j < c->argc && strcmp(c->argv[j], ";") && !(strcmp(c->argv[j], "+") == 0 &&
                                                               !strcmp(c->argv[j - 1], "{}")))
                j++;
            if (j >= c->argc || j == i + 1)
                return find_bad(c, "missing argument to `", a, "'");
            p->k = FP_EXEC;
            p->exec_start = i + 1;
            p->exec_end = j;
            p->exec_plus = !strcmp(c->argv[j], "+");
            if (p->exec_plus)
                p->exec_end--;        /* the "{}" is replaced by every path */
            x->has_action = true;
            i = j;
        } else if (needs)
            p->k = FP_TRUE;           /* -user, -mtime, ... accepted, not evaluated */
        else
            return find_bad(c, "unknown predicate `", a, "'");
        x->np++;
    }
    return 0;
}

static void find_finish(struct find_ctx *x)
{
    struct sh_cmd *c = x->c;
    sh_out(c, x->out->data, x->out->len);
    hp_buf_reset(x->out);
    for (int i = 0; i < x->np; i++) {
        const struct fp *p = &x->p[i];
        if (p->k != FP_EXEC || !p->exec_plus || !x->plus.n)
            continue;
        int n = p->exec_end - p->exec_start;
        size_t total = (size_t)n + x->plus.n;
        char **av = calloc(total + 1, sizeof(char *));
        if (!av)
            break;
        for (int k = 0; k < n; k++)
            av[k] = c->argv[p->exec_start + k];
        for (size_t k = 0; k < x->plus.n; k++)
            av[(size_t)n + k] = x->plus.v[k];
        sh_run_argv(c, (int)total, av);
        free(av);
    }
    for (size_t k = x->del.n; k-- > 0;) {
        char ap[FS_PATH_MAX];
        struct sh_stat st;
        if (fs_abs(c, x->del.v[k], ap) < 0 || sh_vfs_stat(c->fs, ap, false, &st) < 0)
            continue;
        int r = st.type == SH_FT_DIR ? sh_vfs_rmdir(c->fs, ap) : sh_vfs_unlink(c->fs, ap);
        if (r < 0) {
            fs_perr(c, "cannot delete", NULL, x->del.v[k], r);
            x->rc = 1;
        }
    }
}

static int cmd_find(struct sh_cmd *c)
{
    struct hp_buf out;
    struct find_ctx *x = calloc(1, sizeof(*x));
    if (!x)
        return 1;
    x->c = c;
    x->out = &out;
    x->maxdepth = FS_DEPTH_MAX;
    int i = 1;
    while (i < c->argc && (!strcmp(c->argv[i], "-H") || !strcmp(c->argv[i], "-L") || !strcmp(c->argv[i], "-P")))
        i++;
    int first = i;
    while (i < c->argc && c->argv[i][0] != '-' && strcmp(c->argv[i], "!") && strcmp(c->argv[i], "("))
        i++;
    int nstart = i - first;
    if (find_parse(x, i)) {
        free(x);
        return 1;
    }
    hp_buf_init(&out, FS_OUT_MAX);
    for (int k = 0; k < (nstart ? nstart : 1); k++) {
        const char *s = nstart ? c->argv[first + k] : ".";
        char p[FS_PATH_MAX];
        if (fs_abs(c, s, p) == 0)
            find_walk(x, p, s, fs_base(s), 0);
    }
    find_finish(x);
    hp_buf_free(&out);
    fs_names_free(&x->plus);
    fs_names_free(&x->del);
    int rc = x->rc;
    free(x);
    return rc;
}

const struct sh_cmd_def sh_cmds_fs2[] = {
    { "basename", cmd_basename, false }, { "chgrp", cmd_chgrp, false }, { "chmod", cmd_chmod, false },
    { "chown", cmd_chown, false }, { "dd", cmd_dd, false }, { "dirname", cmd_dirname, false },
    { "du", cmd_du, false }, { "file", cmd_file, false }, { "find", cmd_find, false },
    { "ln", cmd_ln, false }, { "md5sum", cmd_sum, false }, { "mktemp", cmd_mktemp, false },
    { "readlink", cmd_readlink, false }, { "realpath", cmd_realpath, false },
    { "sha1sum", cmd_sum, false }, { "sha224sum", cmd_sum, false }, { "sha256sum", cmd_sum, false },
    { "sha384sum", cmd_sum, false }, { "sha512sum", cmd_sum, false }, { "stat", cmd_stat, false },
    { "sync", cmd_sync, false }, { "touch", cmd_touch, false }, { "which", cmd_which, false },
    { NULL, NULL, false },
};
