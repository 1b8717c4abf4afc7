/*
 * cmd_fs.c - the file programs of the emulated shell: ls, cat, cp, mv, rm,
 * mkdir, rmdir, touch, ln, chmod, chown, chgrp, dd, head, tail, wc, the
 * *sum programs, stat, find, du, basename, dirname, readlink, realpath,
 * mktemp, file, which, sync.
 *
 * Design.  Every program is a C function over the fake file system of vfs.h:
 * nothing here touches the real one.  Bots compare what these print with
 * what a real box prints, so the messages are the real tools' ones, byte
 * for byte, in two styles chosen by c->persona->busybox: GNU coreutils 9.1
 * ("rm: cannot remove 'x': No such file or directory") and busybox applets
 * ("rm: can't remove 'x': No such file or directory").  Style differences
 * are kept in small tables or a single fs_bb() test next to each message,
 * rather than in two copies of each program.
 *
 * The programs are split over cmd_fs.c (ls, cat, head, tail, wc, cp, mv,
 * rm, rmdir, mkdir) and cmd_fs2.c (the rest); the helpers they share, all
 * prefixed fs_, are declared in cmd_fs.h.
 *
 * Option parsing reuses the glibc-like getopt of cmd_sys.h (bundles,
 * permuted operands, long options), so usage errors read as the real ones.
 *
 * Bounds: attacker input decides sizes and counts, so every walk is capped
 * (FS_DEPTH_MAX levels, FS_WALK_MAX entries per command), outputs go
 * through capped hp_bufs, dd copies at most FS_DD_MAX bytes, and nothing
 * ever loops on an attacker number without a cap of its own.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cmd.h"
#include "cmd_sys.h"
#include "buf.h"
#include "cmd_fs.h"


bool fs_bb(const struct sh_cmd *c)
{
    return c->persona && c->persona->busybox;
}

/* The name the program prints for itself (as sh_errmsg does). */
const char *fs_prog(const struct sh_cmd *c)
{
    if (c->applet && c->applet[0])
        return c->applet;
    const char *a0 = c->argc > 0 && c->argv[0] ? c->argv[0] : "sh";
    const char *s = strrchr(a0, '/');
    return s ? s + 1 : a0;
}

/* GNU's shell-escape quoting of a file name in messages: 'x', or "x'y"
 * when the name holds a single quote. */
void fs_quote(struct hp_buf *b, const char *s)
{
    if (strchr(s, '\'')) {
        hp_buf_putc(b, '"');
        hp_buf_puts(b, s);
        hp_buf_putc(b, '"');
        return;
    }
    hp_buf_putc(b, '\'');
    hp_buf_puts(b, s);
    hp_buf_putc(b, '\'');
}

/* "PROG: WHAT 'path': strerror" (GNU) or "PROG: BBWHAT 'path': strerror"
 * (busybox; a NULL bbwhat gives busybox's bare "PROG: path: strerror"). */
void fs_perr(struct sh_cmd *c, const char *what, const char *bbwhat, const char *path, int err)
{
    struct hp_buf b;
    hp_buf_init(&b, 3 * FS_PATH_MAX);
    hp_buf_printf(&b, "%s: ", fs_prog(c));
    if (fs_bb(c)) {
        if (bbwhat) {
            hp_buf_printf(&b, "%s%s'", bbwhat, *bbwhat ? " " : "");
            hp_buf_puts(&b, path);
            hp_buf_puts(&b, "'");
        } else
            hp_buf_puts(&b, path);
    } else if (what) {
        hp_buf_printf(&b, "%s ", what);
        fs_quote(&b, path);
    } else
        hp_buf_puts(&b, path);
    if (err)
        hp_buf_printf(&b, ": %s", sh_strerror(err));
    hp_buf_putc(&b, '\n');
    sh_err(c, b.data, b.len);
    hp_buf_free(&b);
}

/* GNU "PROG: missing operand" style usage errors; busybox prints its usage. */
int fs_usage(struct sh_cmd *c, const char *gnu_msg, const char *bb_usage)
{
    if (fs_bb(c))
        return sys_usage_bb(c, fs_prog(c), NULL, bb_usage);
    if (gnu_msg)
        sh_errf(c, "%s: %s\n", fs_prog(c), gnu_msg);
    sh_errf(c, "Try '%s --help' for more information.\n", fs_prog(c));
    return 1;
}

int fs_badopt(struct sh_cmd *c, const struct sys_getopt *g, const char *bb_usage)
{
    if (fs_bb(c))
        return sys_usage_bb(c, fs_prog(c), g, bb_usage);
    return sys_usage_gnu(c, fs_prog(c), g, 1);
}

/* An operand to an absolute path; -ENAMETOOLONG otherwise. */
int fs_abs(struct sh_cmd *c, const char *arg, char *out)
{
    return sh_path(c, arg, out, FS_PATH_MAX);
}

/* The whole of a file operand ("-": stdin) into out; 0 or -errno. */
int fs_slurp(struct sh_cmd *c, const char *arg, struct hp_buf *out)
{
    if (!arg || strcmp(arg, "-") == 0) {
        if (c->in_len)
            hp_buf_put(out, c->in, c->in_len);
        return 0;
    }
    char p[FS_PATH_MAX];
    int r = fs_abs(c, arg, p);
    if (r < 0)
        return r;
    if (!c->fs)
        return -ENOENT;
    long n = sh_vfs_read(c->fs, p, 0, 0, out);
    return n < 0 ? (int)n : 0;
}

const char *fs_base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s && s[1] ? s + 1 : p;
}

/* Join dir and name with one '/'. */
int fs_join(char *out, const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    int n = snprintf(out, FS_PATH_MAX, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
    return n < 0 || n >= FS_PATH_MAX ? -ENAMETOOLONG : 0;
}

/* "drwxr-xr-x" */
void fs_modestr(const struct sh_stat *st, char out[11])
{
    static const char types[] = { [SH_FT_REG] = '-', [SH_FT_DIR] = 'd', [SH_FT_LNK] = 'l',
                                  [SH_FT_CHR] = 'c', [SH_FT_BLK] = 'b', [SH_FT_FIFO] = 'p',
                                  [SH_FT_SOCK] = 's' };
    unsigned m = st->mode;
    out[0] = types[st->type];
    const char *rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++)
        out[1 + i] = (m & (0400u >> i)) ? rwx[i] : '-';
    if (m & 04000)
        out[3] = (m & 0100) ? 's' : 'S';
    if (m & 02000)
        out[6] = (m & 010) ? 's' : 'S';
    if (m & 01000)
        out[9] = (m & 01) ? 't' : 'T';
    out[10] = '\0';
}

/* 1 KiB blocks a file occupies (the vfs has no st_blocks: 4 KiB pages). */
uint64_t fs_blocks_k(const struct sh_stat *st)
{
    if (st->type == SH_FT_DIR)
        return 4;
    if (st->type != SH_FT_REG)
        return 0;
    return (st->size + 4095) / 4096 * 4;
}

/* GNU -h: "4.0K", "12K", "1.5M"; busybox: "4.0K", "12.0K" style. */
void fs_human(uint64_t v, char *out, size_t n)
{
    static const char units[] = "KMGTPE";
    if (v < 1024) {
        snprintf(out, n, "%llu", (unsigned long long)v);
        return;
    }
    double d = (double)v;
    int u = -1;
    while (d >= 1024 && u < 5) {
        d /= 1024;
        u++;
    }
    if (d < 10) {
        double r = (double)(long)(d * 10);
        if (r < d * 10)
            r += 1;                       /* GNU rounds up */
        r /= 10;
        if (r >= 10)
            snprintf(out, n, "%.0f%c", r, units[u]);
        else
            snprintf(out, n, "%.1f%c", r, units[u]);
    } else {
        double r = (double)(long)d;
        if (r < d)
            r += 1;
        if (r >= 1024 && u < 5)
            snprintf(out, n, "1.0%c", units[u + 1]);
        else
            snprintf(out, n, "%.0f%c", r, units[u]);
    }
}

/* User and group names as ls prints them (numbers when unknown). */
void fs_owner(struct sh_cmd *c, unsigned uid, unsigned gid, bool numeric, char *u, char *g, size_t n)
{
    const char *un = numeric || !c->fs ? NULL : sh_vfs_user_name(c->fs, uid);
    const char *gn = numeric || !c->fs ? NULL : sh_vfs_group_name(c->fs, gid);
    if (un)
        snprintf(u, n, "%s", un);
    else
        snprintf(u, n, "%u", uid);
    if (gn)
        snprintf(g, n, "%s", gn);
    else
        snprintf(g, n, "%u", gid);
}

/* ls -l dates: "Dec  4 13:40" within six months, else "Jan  1  2025". */
static void fs_lsdate(int64_t t, int64_t now, char *out, size_t n)
{
    static const char *mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    sys_gmtime(t, &tm);
    int64_t six = 31556952 / 2;
    if (t > now - six && t <= now + 60)
        snprintf(out, n, "%s %2d %02d:%02d", mon[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min);
    else
        snprintf(out, n, "%s %2d  %d", mon[tm.tm_mon % 12], tm.tm_mday, tm.tm_year + 1900);
}

/* ==== ls ================================================================================== */

enum { LS_LONG = 1, LS_ALL = 2, LS_ALMOST = 4, LS_HUMAN = 8, LS_ONE = 16, LS_DIR = 32, LS_REC = 64,
       LS_TIME = 128, LS_REV = 256, LS_SIZE = 512, LS_INODE = 1024, LS_NUM = 2048, LS_CLASS = 4096,
       LS_COLOR = 8192, LS_COLS = 16384, LS_NOSORT = 32768, LS_DEREF = 65536 };

struct ls_ent {
    char *name;                   /* as shown */
    char *path;                   /* absolute, for recursion and readlink */
    struct sh_stat st;
    bool target_ok;               /* a symlink whose target exists (colour) */
};

struct ls_ctx {
    struct sh_cmd *c;
    unsigned f;
    struct hp_buf out;
    unsigned visited;
    bool colored;                 /* a colour sequence was written (GNU resets once) */
    int rc;
};

struct ls_list {
    struct ls_ent *v;
    size_t n, cap;
    struct ls_ctx *ls;
};

static void ls_list_free(struct ls_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].path);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static int ls_add(struct ls_list *l, const char *name, const char *path, const struct sh_stat *st)
{
    if (l->ls->visited++ >= FS_WALK_MAX)
        return 1;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 32;
        struct ls_ent *nv = realloc(l->v, nc * sizeof(*nv));
        if (!nv)
            return 1;
        l->v = nv;
        l->cap = nc;
    }
    struct ls_ent *e = &l->v[l->n];
    memset(e, 0, sizeof(*e));
    e->name = strdup(name);
    e->path = strdup(path);
    if (!e->name || !e->path) {
        free(e->name);
        free(e->path);
        return 1;
    }
    e->st = *st;
    l->n++;
    return 0;
}

static unsigned ls_sort_flags;

static int ls_cmp(const void *a, const void *b)
{
    const struct ls_ent *x = a, *y = b;
    int r = 0;
    if (ls_sort_flags & LS_SIZE)
        r = x->st.size > y->st.size ? -1 : x->st.size < y->st.size ? 1 : 0;
    else if (ls_sort_flags & LS_TIME)
        r = x->st.mtime > y->st.mtime ? -1 : x->st.mtime < y->st.mtime ? 1 : 0;
    if (r == 0)
        r = strcmp(x->name, y->name);
    return (ls_sort_flags & LS_REV) ? -r : r;
}

static void ls_sort(struct ls_ctx *ls, struct ls_list *l)
{
    if ((ls->f & LS_NOSORT) || l->n < 2)
        return;
    ls_sort_flags = ls->f;
    qsort(l->v, l->n, sizeof(l->v[0]), ls_cmp);
}

/* The colour of an entry as Debian's dircolors sets LS_COLORS; NULL: none. */
static const char *ls_color(const struct ls_ent *e)
{
    static const struct { const char *ext, *col; } exts[] = {
        { ".tar", "01;31" }, { ".tgz", "01;31" }, { ".gz", "01;31" }, { ".zip", "01;31" },
        { ".bz2", "01;31" }, { ".xz", "01;31" }, { ".7z", "01;31" }, { ".rar", "01;31" },
        { ".deb", "01;31" }, { ".rpm", "01;31" }, { ".jar", "01;31" }, { ".zst", "01;31" },
        { ".jpg", "01;35" }, { ".jpeg", "01;35" }, { ".png", "01;35" }, { ".gif", "01;35" },
        { ".mp3", "00;36" }, { ".wav", "00;36" }, { ".flac", "00;36" },
    };
    const struct sh_stat *st = &e->st;
    switch (st->type) {
    case SH_FT_DIR:
        if ((st->mode & 01002) == 01002)
            return "30;42";
        if (st->mode & 01000)
            return "37;44";
        if (st->mode & 02)
            return "34;42";
        return "01;34";
    case SH_FT_LNK: return e->target_ok ? "01;36" : "40;31;01";
    case SH_FT_FIFO: return "40;33";
    case SH_FT_SOCK: return "01;35";
    case SH_FT_CHR: case SH_FT_BLK: return "40;33;01";
    default: break;
    }
    if (st->mode & 04000)
        return "37;41";
    if (st->mode & 02000)
        return "30;43";
    if (st->mode & 0111)
        return "01;32";
    size_t nl = strlen(e->name);
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        size_t el = strlen(exts[i].ext);
        if (nl > el && strcmp(e->name + nl - el, exts[i].ext) == 0)
            return exts[i].col;
    }
    return NULL;
}

static char ls_classchar(const struct sh_stat *st)
{
    switch (st->type) {
    case SH_FT_DIR: return '/';
    case SH_FT_LNK: return '@';
    case SH_FT_FIFO: return '|';
    case SH_FT_SOCK: return '=';
    case SH_FT_REG: return (st->mode & 0111) ? '*' : 0;
    default: return 0;
    }
}

/* The name (coloured, classified) into out; returns its printed width. */
static size_t ls_name(struct ls_ctx *ls, const struct ls_ent *e, bool in_long)
{
    struct hp_buf *o = &ls->out;
    const char *col = (ls->f & LS_COLOR) ? ls_color(e) : NULL;
    size_t w = strlen(e->name);
    if (col) {
        bool bb = fs_bb(ls->c);
        if (!ls->colored && !bb)
            hp_buf_puts(o, "\033[0m");
        ls->colored = true;
        if (bb)
            hp_buf_printf(o, "\033[%sm", col[0] == '0' && col[1] == '1' ? "1;34" : col);
        else
            hp_buf_printf(o, "\033[%sm", col);
        hp_buf_puts(o, e->name);
        hp_buf_puts(o, "\033[0m");
    } else
        hp_buf_puts(o, e->name);
    if ((ls->f & LS_CLASS) && !(in_long && e->st.type == SH_FT_LNK)) {
        char k = ls_classchar(&e->st);
        if (k) {
            hp_buf_putc(o, (uint8_t)k);
            w++;
        }
    }
    return w;
}

static int ls_numw(uint64_t v)
{
    int w = 1;
    while (v >= 10) {
        v /= 10;
        w++;
    }
    return w;
}

static void ls_sizestr(struct ls_ctx *ls, const struct sh_stat *st, char *out, size_t n)
{
    if (ls->f & LS_HUMAN)
        fs_human(st->size, out, n);
    else
        snprintf(out, n, "%llu", (unsigned long long)st->size);
}

static void ls_long(struct ls_ctx *ls, struct ls_list *l)
{
    struct sh_cmd *c = ls->c;
    bool bb = fs_bb(c);
    int wl = 1, wu = 1, wg = 1, ws = 1, wi = 1, wmaj = 0, wmin = 0;
    char u[64], g[64], sz[32];
    for (size_t i = 0; i < l->n; i++) {
        const struct sh_stat *st = &l->v[i].st;
        fs_owner(c, st->uid, st->gid, ls->f & LS_NUM, u, g, sizeof(u));
        wl = ls_numw(st->nlink) > wl ? ls_numw(st->nlink) : wl;
        wu = (int)strlen(u) > wu ? (int)strlen(u) : wu;
        wg = (int)strlen(g) > wg ? (int)strlen(g) : wg;
        wi = ls_numw(st->ino) > wi ? ls_numw(st->ino) : wi;
        if (st->type == SH_FT_CHR || st->type == SH_FT_BLK) {
            wmaj = ls_numw(st->rdev_major) > wmaj ? ls_numw(st->rdev_major) : wmaj;
            wmin = ls_numw(st->rdev_minor) > wmin ? ls_numw(st->rdev_minor) : wmin;
        } else {
            ls_sizestr(ls, st, sz, sizeof(sz));
            ws = (int)strlen(sz) > ws ? (int)strlen(sz) : ws;
        }
    }
    if (wmaj && wmaj + 2 + wmin > ws)
        ws = wmaj + 2 + wmin;
    if (wmaj && ws > wmaj + 2 + wmin)
        wmaj = ws - 2 - wmin;
    for (size_t i = 0; i < l->n; i++) {
        const struct ls_ent *e = &l->v[i];
        const struct sh_stat *st = &e->st;
        char mode[11], date[32];
        fs_modestr(st, mode);
        fs_owner(c, st->uid, st->gid, ls->f & LS_NUM, u, g, sizeof(u));
        fs_lsdate(st->mtime, c->now_s, date, sizeof(date));
        if (ls->f & LS_INODE)
            hp_buf_printf(&ls->out, "%*llu ", bb ? 8 : wi, (unsigned long long)st->ino);
        if (bb)
            hp_buf_printf(&ls->out, "%-10s %4u %-8.8s %-8.8s ", mode, st->nlink, u, g);
        else
            hp_buf_printf(&ls->out, "%s %*u %-*s %-*s ", mode, wl, st->nlink, wu, u, wg, g);
        if ((st->type == SH_FT_CHR || st->type == SH_FT_BLK) && bb)
            hp_buf_printf(&ls->out, "%4u, %3u ", st->rdev_major, st->rdev_minor);
        else if (st->type == SH_FT_CHR || st->type == SH_FT_BLK)
            hp_buf_printf(&ls->out, "%*u, %*u ", wmaj, st->rdev_major, wmin, st->rdev_minor);
        else {
            ls_sizestr(ls, st, sz, sizeof(sz));
            hp_buf_printf(&ls->out, "%*s ", bb ? 9 : ws, sz);
        }
        hp_buf_printf(&ls->out, "%s ", date);
        ls_name(ls, e, true);
        if (st->type == SH_FT_LNK && c->fs) {
            char t[FS_PATH_MAX];
            if (sh_vfs_readlink(c->fs, e->path, t, sizeof(t)) >= 0)
                hp_buf_printf(&ls->out, " -> %s", t);
        }
        hp_buf_putc(&ls->out, '\n');
    }
}

/* Short listing: one per line, or columns on a terminal (GNU fits the most
 * columns whose widths fit the line; busybox uses one width for all).
 * GNU's fit is a pass over the names per column count tried, up to a third
 * of the width: the width is bounded (HP_INTERP_COLS_MAX, 170 passes). */
static void ls_short(struct ls_ctx *ls, struct ls_list *l)
{
    struct sh_cmd *c = ls->c;
    size_t n = l->n;
    if (n == 0)
        return;
    size_t *w = calloc(n, sizeof(*w));
    if (!w)
        return;
    size_t extra = (ls->f & LS_CLASS) ? 1 : 0;
    int wi = 1;
    for (size_t i = 0; i < n; i++) {
        w[i] = strlen(l->v[i].name) + (extra && ls_classchar(&l->v[i].st) ? 1 : 0);
        if (ls_numw(l->v[i].st.ino) > wi)
            wi = ls_numw(l->v[i].st.ino);
        if (ls->f & LS_INODE)
            w[i] += (size_t)wi + 1;
    }
    size_t width = c->width ? c->width : 80;
    size_t ncols = 1, *colw = NULL;
    if ((ls->f & LS_COLS) && !(ls->f & LS_ONE)) {
        size_t maxc = width / 3 ? width / 3 : 1;
        if (maxc > n)
            maxc = n;
        colw = calloc(maxc, sizeof(*colw));
        size_t *tmp = calloc(maxc, sizeof(*tmp));
        if (colw && tmp) {
            if (fs_bb(c)) {
                size_t m = 0;
                for (size_t i = 0; i < n; i++)
                    m = w[i] > m ? w[i] : m;
                ncols = width / (m + 2) ? width / (m + 2) : 1;
                ncols = ncols > maxc ? maxc : ncols;
                size_t rows = (n + ncols - 1) / ncols;
                ncols = (n + rows - 1) / rows;
                for (size_t k = 0; k < ncols; k++)
                    colw[k] = m + 2;
            } else {
                for (size_t nc = maxc; nc >= 1; nc--) {
                    size_t rows = (n + nc - 1) / nc, line = 0;
                    memset(tmp, 0, nc * sizeof(*tmp));
                    for (size_t i = 0; i < n; i++) {
                        size_t col = i / rows;
                        size_t real = w[i] + (col == nc - 1 ? 0 : 2);
                        if (tmp[col] < real) {
                            line += real - tmp[col];
                            tmp[col] = real;
                        }
                    }
                    if (line < width || nc == 1) {
                        ncols = (n + rows - 1) / rows;
                        memcpy(colw, tmp, nc * sizeof(*tmp));
                        break;
                    }
                }
            }
        }
        free(tmp);
    }
    size_t rows = (n + ncols - 1) / ncols;
    for (size_t r = 0; r < rows; r++) {
        for (size_t k = 0; k < ncols; k++) {
            size_t i = k * rows + r;
            if (i >= n)
                break;
            if (ls->f & LS_INODE)
                hp_buf_printf(&ls->out, "%*llu ", wi, (unsigned long long)l->v[i].st.ino);
            ls_name(ls, &l->v[i], false);
            bool last = k + 1 == ncols || (k + 1) * rows + r >= n;
            if (!last && colw)
                for (size_t p = w[i]; p < colw[k]; p++)
                    hp_buf_putc(&ls->out, ' ');
        }
        hp_buf_putc(&ls->out, '\n');
    }
    free(colw);
    free(w);
}

static void ls_print(struct ls_ctx *ls, struct ls_list *l)
{
    ls_sort(ls, l);
    if (ls->f & LS_LONG)
        ls_long(ls, l);
    else
        ls_short(ls, l);
}

struct ls_collect {
    struct ls_list *l;
    const char *dir;
};

static int ls_collect_fn(void *arg, const char *name, const struct sh_stat *st)
{
    struct ls_collect *cc = arg;
    struct ls_ctx *ls = cc->l->ls;
    if (name[0] == '.' && !(ls->f & (LS_ALL | LS_ALMOST)))
        return 0;
    char p[FS_PATH_MAX];
    if (fs_join(p, cc->dir, name) < 0)
        return 0;
    struct sh_stat t;
    if (ls_add(cc->l, name, p, st))
        return 1;
    struct ls_ent *e = &cc->l->v[cc->l->n - 1];
    if (st->type == SH_FT_LNK)
        e->target_ok = sh_vfs_stat(ls->c->fs, p, true, &t) == 0;
    return 0;
}

static uint64_t ls_total(const struct ls_list *l)
{
    uint64_t t = 0;
    for (size_t i = 0; i < l->n; i++)
        t += fs_blocks_k(&l->v[i].st);
    return t;
}

/* List one directory (its header when asked), then recurse for -R. */
static void ls_dir(struct ls_ctx *ls, const char *shown, const char *path, bool header, bool first,
                   int depth, bool cmdline)
{
    struct sh_cmd *c = ls->c;
    struct ls_list l = { .ls = ls };
    if (header) {
        if (!first)
            hp_buf_putc(&ls->out, '\n');
        hp_buf_printf(&ls->out, "%s:\n", shown);
    }
    if (ls->f & LS_ALL) {
        struct sh_stat st;
        char up[FS_PATH_MAX];
        if (sh_vfs_stat(c->fs, path, true, &st) == 0)
            ls_add(&l, ".", path, &st);
        if (fs_join(up, path, "..") == 0 && sh_vfs_abspath("/", up, up, sizeof(up)) == 0 &&
            sh_vfs_stat(c->fs, up, true, &st) == 0)
            ls_add(&l, "..", up, &st);
    }
    struct ls_collect cc = { &l, path };
    long r = sh_vfs_list(c->fs, path, ls_collect_fn, &cc);
    if (r < 0) {
        fs_perr(c, "cannot open directory", "can't open", shown, (int)r);
        ls->rc = cmdline && !fs_bb(c) ? 2 : 1;
        ls_list_free(&l);
        return;
    }
    if (ls->f & LS_LONG)
        hp_buf_printf(&ls->out, "total %llu\n", (unsigned long long)ls_total(&l));
    ls_print(ls, &l);
    if ((ls->f & LS_REC) && depth < FS_DEPTH_MAX) {
        for (size_t i = 0; i < l.n; i++) {
            const struct ls_ent *e = &l.v[i];
            if (e->st.type != SH_FT_DIR || !strcmp(e->name, ".") || !strcmp(e->name, ".."))
                continue;
            char sub[FS_PATH_MAX];
            if (fs_join(sub, shown, e->name) < 0)
                continue;
            ls_dir(ls, sub, e->path, true, false, depth + 1, false);
            if (ls->visited >= FS_WALK_MAX || !hp_buf_ok(&ls->out))
                break;
        }
    }
    ls_list_free(&l);
}

static const struct sys_longopt ls_long_opts[] = {
    { "all", 0, 'a' }, { "almost-all", 0, 'A' }, { "human-readable", 0, 'h' },
    { "directory", 0, 'd' }, { "recursive", 0, 'R' }, { "reverse", 0, 'r' }, { "inode", 0, 'i' },
    { "numeric-uid-gid", 0, 'n' }, { "classify", 2, 'F' }, { "color", 2, 'K' }, { "colour", 2, 'K' },
    { "dereference", 0, 'L' }, { "help", 0, 'H' }, { "version", 0, 'V' }, { NULL, 0, 0 },
};

static const char ls_bb_usage[] = "[-1AaCxdLHRFplinshrSXvctu] [-w WIDTH] [FILE]...\n\n"
    "List directory contents\n";

/* --color=WHEN: 1 always, 0 never, 2 auto, -1 invalid. */
static int ls_when(const char *a)
{
    static const struct { const char *w; int v; } t[] = {
        { "always", 1 }, { "yes", 1 }, { "force", 1 }, { "never", 0 }, { "no", 0 }, { "none", 0 },
        { "auto", 2 }, { "tty", 2 }, { "if-tty", 2 },
    };
    if (!a)
        return 1;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(a, t[i].w) == 0)
            return t[i].v;
    return -1;
}

static int ls_opts(struct sh_cmd *c, struct sys_getopt *g, unsigned *f)
{
    bool bb = fs_bb(c);
    int o;
    *f = c->out_tty ? LS_COLS : 0;
    while ((o = sys_getopt(g, "laAh1dRtrSinFCLUcux", ls_long_opts)) != -1) {
        switch (o) {
        case 'l': *f |= LS_LONG; break;
        case 'a': *f |= LS_ALL; *f &= ~(unsigned)LS_ALMOST; break;
        case 'A': *f |= LS_ALMOST; *f &= ~(unsigned)LS_ALL; break;
        case 'h': *f |= LS_HUMAN; break;
        case '1': *f |= LS_ONE; *f &= ~(unsigned)LS_LONG; break;
        case 'd': *f |= LS_DIR; break;
        case 'R': *f |= LS_REC; break;
        case 't': *f |= LS_TIME; break;
        case 'r': *f |= LS_REV; break;
        case 'S': *f |= LS_SIZE; break;
        case 'i': *f |= LS_INODE; break;
        case 'n': *f |= LS_NUM | LS_LONG; break;
        case 'F': *f |= LS_CLASS; break;
        case 'C': case 'x': *f |= LS_COLS; *f &= ~(unsigned)(LS_ONE | LS_LONG); break;
        case 'L': *f |= LS_DEREF; break;
        case 'U': *f |= LS_NOSORT; break;
        case 'c': case 'u': break;
        case 'K': {
            int w = ls_when(g->optarg);
            if (w < 0) {
                sh_errf(c, "ls: invalid argument '%s' for '--color'\nValid arguments are:\n"
                           "  - 'always', 'yes', 'force'\n  - 'never', 'no', 'none'\n"
                           "  - 'auto', 'tty', 'if-tty'\nUsage: ls [OPTION]... [FILE]...\n"
                           "Try 'ls --help' for more information.\n", g->optarg);
                return 2;
            }
            if (w == 1 || (w == 2 && c->out_tty))
                *f |= LS_COLOR;
            else
                *f &= ~(unsigned)LS_COLOR;
            break;
        }
        case 'H':
            sh_outs(c, "Usage: ls [OPTION]... [FILE]...\n"
                       "List information about the FILEs (the current directory by default).\n"
                       "Sort entries alphabetically if none of -cftuvSUX nor --sort is specified.\n");
            return -1;
        case 'V':
            sh_outs(c, "ls (GNU coreutils) 9.1\nCopyright (C) 2022 Free Software Foundation, Inc.\n"
                       "License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\n"
                       "This is free software: you are free to change and redistribute it.\n"
                       "There is NO WARRANTY, to the extent permitted by law.\n\n"
                       "Written by Richard M. Stallman and David MacKenzie.\n");
            return -1;
        default:
            if (bb)
                return sys_usage_bb(c, "ls", g, ls_bb_usage);
            return sys_usage_gnu(c, "ls", g, 2);
        }
    }
    return 0;
}

static int cmd_ls(struct sh_cmd *c)
{
    struct sys_getopt g;
    unsigned f;
    sys_getopt_init(&g, c->argc, c->argv, false);
    int r = ls_opts(c, &g, &f);
    if (r)
        return r < 0 ? 0 : r;
    struct ls_ctx ls = { .c = c, .f = f };
    hp_buf_init(&ls.out, FS_OUT_MAX);
    char *dot = ".";
    char **ops = g.noperands ? g.operands : &dot;
    int nops = g.noperands ? g.noperands : 1;
    struct ls_list files = { .ls = &ls }, dirs = { .ls = &ls };
    bool follow = (f & LS_DEREF) || !(f & (LS_LONG | LS_DIR | LS_CLASS));
    for (int i = 0; i < nops; i++) {
        char p[FS_PATH_MAX];
        struct sh_stat st;
        int e = fs_abs(c, ops[i], p);
        if (e == 0)
            e = c->fs ? sh_vfs_stat(c->fs, p, follow, &st) : -ENOENT;
        if (e == 0 && !follow && st.type == SH_FT_LNK && !(f & LS_DIR) && !(f & LS_LONG)) {
            struct sh_stat t;
            if (sh_vfs_stat(c->fs, p, true, &t) == 0 && t.type == SH_FT_DIR)
                st = t;
        }
        if (e < 0) {
            fs_perr(c, "cannot access", NULL, ops[i], e);
            ls.rc = fs_bb(c) ? 1 : 2;
            continue;
        }
        struct ls_list *dst = st.type == SH_FT_DIR && !(f & LS_DIR) ? &dirs : &files;
        ls_add(dst, ops[i], p, &st);
        if (st.type == SH_FT_LNK)
            dst->v[dst->n - 1].target_ok = sh_vfs_stat(c->fs, p, true, &st) == 0;
    }
    if (files.n)
        ls_print(&ls, &files);
    ls_sort(&ls, &dirs);
    bool header = files.n + dirs.n > 1 || ls.rc || (f & LS_REC);
    for (size_t i = 0; i < dirs.n; i++)
        ls_dir(&ls, dirs.v[i].name, dirs.v[i].path, header, i == 0 && files.n == 0, 0, true);
    sh_out(c, ls.out.data, ls.out.len);
    hp_buf_free(&ls.out);
    ls_list_free(&files);
    ls_list_free(&dirs);
    return ls.rc;
}

/* ==== cat, head, tail, wc ============================================================ */

/* An input operand that could not be read: the tool's message. */
enum fs_rd { RD_CAT, RD_HEAD, RD_WC };

static void fs_read_err(struct sh_cmd *c, enum fs_rd kind, const char *name, int err)
{
    bool bb = fs_bb(c);
    if (bb) {
        if (err == -EISDIR && kind == RD_CAT)
            sh_errf(c, "%s: read error: %s\n", fs_prog(c), sh_strerror(err));
        else
            fs_perr(c, NULL, kind == RD_WC ? NULL : "can't open", name, err);
        return;
    }
    if (kind != RD_HEAD) {
        fs_perr(c, NULL, NULL, name, err);
        return;
    }
    if (err == -EISDIR) {
        fs_perr(c, "error reading", NULL, name, err);
        return;
    }
    struct hp_buf b;
    hp_buf_init(&b, 2 * FS_PATH_MAX);
    hp_buf_printf(&b, "%s: cannot open ", fs_prog(c));
    fs_quote(&b, name);
    hp_buf_printf(&b, " for reading: %s\n", sh_strerror(err));
    sh_err(c, b.data, b.len);
    hp_buf_free(&b);
}

/* cat -v notation of one byte. */
static void cat_vis(struct hp_buf *o, uint8_t ch)
{
    if (ch >= 128) {
        hp_buf_puts(o, "M-");
        ch -= 128;
    }
    if (ch < 32) {
        hp_buf_putc(o, '^');
        hp_buf_putc(o, (uint8_t)(ch + 64));
    } else if (ch == 127)
        hp_buf_puts(o, "^?");
    else
        hp_buf_putc(o, ch);
}

enum { CAT_N = 1, CAT_B = 2, CAT_E = 4, CAT_T = 8, CAT_V = 16, CAT_S = 32 };

struct cat_state {
    unsigned f;
    unsigned long line;
    bool at_bol;
    int blanks;
};

static void cat_emit(struct cat_state *s, struct hp_buf *o, const uint8_t *d, size_t n)
{
    if (!s->f) {
        hp_buf_put(o, d, n);
        return;
    }
    for (size_t i = 0; i < n && hp_buf_ok(o); i++) {
        uint8_t ch = d[i];
        if (s->at_bol) {
            if (ch == '\n' && (s->f & CAT_S) && ++s->blanks > 1)
                continue;
            if (ch != '\n')
                s->blanks = 0;
            if ((s->f & CAT_N) && !((s->f & CAT_B) && ch == '\n'))
                hp_buf_printf(o, "%6lu\t", ++s->line);
            else if ((s->f & CAT_B) && ch != '\n')
                hp_buf_printf(o, "%6lu\t", ++s->line);
        }
        s->at_bol = ch == '\n';
        if (ch == '\n') {
            if (s->f & CAT_E)
                hp_buf_putc(o, '$');
            hp_buf_putc(o, '\n');
        } else if (ch == '\t' && (s->f & CAT_T))
            hp_buf_puts(o, "^I");
        else if ((s->f & CAT_V) && ch != '\t' && (ch < 32 || ch >= 127))
            cat_vis(o, ch);
        else
            hp_buf_putc(o, ch);
    }
}

static const struct sys_longopt cat_long[] = {
    { "number", 0, 'n' }, { "number-nonblank", 0, 'b' }, { "show-ends", 0, 'E' },
    { "show-tabs", 0, 'T' }, { "show-nonprinting", 0, 'v' }, { "show-all", 0, 'A' },
    { "squeeze-blank", 0, 's' }, { NULL, 0, 0 },
};

static int cmd_cat(struct sh_cmd *c)
{
    struct sys_getopt g;
    struct cat_state s = { .at_bol = true };
    int o, rc = 0;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "nbETvAsetu", fs_bb(c) ? NULL : cat_long)) != -1) {
        switch (o) {
        case 'n': s.f |= CAT_N; break;
        case 'b': s.f |= CAT_B | CAT_N; break;
        case 'E': s.f |= CAT_E; break;
        case 'T': s.f |= CAT_T; break;
        case 'v': s.f |= CAT_V; break;
        case 'A': s.f |= CAT_V | CAT_E | CAT_T; break;
        case 'e': s.f |= CAT_V | CAT_E; break;
        case 't': s.f |= CAT_V | CAT_T; break;
        case 's': s.f |= CAT_S; break;
        case 'u': break;
        default: return fs_badopt(c, &g, "[-nbvteA] [FILE]...\n\nPrint FILEs to stdout\n");
        }
    }
    char *dash = "-";
    char **ops = g.noperands ? g.operands : &dash;
    int n = g.noperands ? g.noperands : 1;
    struct hp_buf in, out;
    hp_buf_init(&in, SH_VFS_FILE_MAX);
    hp_buf_init(&out, FS_OUT_MAX);
    for (int i = 0; i < n; i++) {
        hp_buf_reset(&in);
        int r = fs_slurp(c, ops[i], &in);
        if (r < 0) {
            sh_out(c, out.data, out.len);
            hp_buf_reset(&out);
            fs_read_err(c, RD_CAT, ops[i], r);
            rc = 1;
            continue;
        }
        cat_emit(&s, &out, in.data, in.len);
    }
    sh_out(c, out.data, out.len);
    hp_buf_free(&in);
    hp_buf_free(&out);
    return rc;
}

/* A count for head/tail: digits with an optional GNU suffix (b, K/k, M, G,
 * kB, MB, GB); false on junk or overflow. */
static bool fs_count(const char *s, uint64_t *out)
{
    static const struct { const char *suf; uint64_t mul; } sfx[] = {
        { "", 1 }, { "b", 512 }, { "K", 1024 }, { "k", 1024 }, { "KiB", 1024 }, { "kB", 1000 },
        { "M", 1u << 20 }, { "MiB", 1u << 20 }, { "MB", 1000000 }, { "G", 1u << 30 },
        { "GiB", 1u << 30 }, { "GB", 1000000000 },
    };
    if (!s || *s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        if (v > UINT64_MAX / 10 - 10)
            v = UINT64_MAX / 16;          /* GNU saturates huge counts */
        else
            v = v * 10 + (uint64_t)(*s - '0');
        s++;
    }
    for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
        if (strcmp(s, sfx[i].suf) == 0) {
            *out = v > UINT64_MAX / sfx[i].mul ? UINT64_MAX / 16 : v * sfx[i].mul;
            return true;
        }
    return false;
}

/* head -N / tail -N / tail +N as the first argument: rewrite into -n. */
static char **fs_obsolete_count(struct sh_cmd *c, int *argc, bool plus, char *buf, size_t n)
{
    char **v = c->argv;
    if (c->argc < 2 || !((v[1][0] == '-' || (plus && v[1][0] == '+')) && v[1][1] >= '0' && v[1][1] <= '9'))
        return NULL;
    size_t len = strspn(v[1] + 1, "0123456789");
    const char *rest = v[1] + 1 + len;
    if (*rest && strcmp(rest, "f") != 0 && strcmp(rest, "c") != 0 && strcmp(rest, "l") != 0)
        return NULL;
    char **nv = calloc((size_t)c->argc + 3, sizeof(char *));
    if (!nv)
        return NULL;
    snprintf(buf, n, "%s%.*s", v[1][0] == '+' ? "+" : "", (int)len, v[1] + 1);
    nv[0] = v[0];
    nv[1] = *rest == 'c' ? "-c" : "-n";
    nv[2] = buf;
    int k = 3;
    if (*rest == 'f')
        nv[k++] = "-f";
    for (int i = 2; i < c->argc; i++)
        nv[k++] = v[i];
    nv[k] = NULL;
    *argc = k;
    return nv;
}

struct ht_opts {
    bool bytes, from_start, all_but, quiet, verbose;
    uint64_t n;
};

/* Parse "N", "-N" (head: all but) or "+N" (tail: from N). */
static bool ht_num(const char *a, bool tail, struct ht_opts *h)
{
    h->from_start = h->all_but = false;
    if (*a == '+' && tail) {
        h->from_start = true;
        a++;
    } else if (*a == '-') {
        if (!tail)
            h->all_but = true;
        a++;
    } else if (*a == '+')
        a++;
    return fs_count(a, &h->n);
}

/* The part of d that head/tail keep. */
static void ht_cut(const struct ht_opts *h, bool tail, const uint8_t *d, size_t len, size_t *off, size_t *n)
{
    *off = 0;
    *n = len;
    if (h->bytes) {
        uint64_t k = h->n;
        if (!tail && !h->all_but)
            *n = k < len ? k : len;
        else if (!tail)
            *n = k < len ? len - k : 0;
        else if (h->from_start) {
            *off = k ? (k - 1 < len ? k - 1 : len) : 0;
            *n = len - *off;
        } else {
            *off = k < len ? len - k : 0;
            *n = len - *off;
        }
        return;
    }
    /* count lines: positions after each '\n' */
    if (!tail && !h->all_but) {
        uint64_t seen = 0;
        size_t i = 0;
        while (i < len && seen < h->n) {
            const uint8_t *nl = memchr(d + i, '\n', len - i);
            i = nl ? (size_t)(nl - d) + 1 : len;
            seen++;
        }
        *n = h->n ? i : 0;
        return;
    }
    if (tail && h->from_start) {
        uint64_t skip = h->n ? h->n - 1 : 0, seen = 0;
        size_t i = 0;
        while (i < len && seen < skip) {
            const uint8_t *nl = memchr(d + i, '\n', len - i);
            i = nl ? (size_t)(nl - d) + 1 : len;
            seen++;
        }
        *off = i;
        *n = len - i;
        return;
    }
    /* the last k lines (a final line without '\n' counts as one) */
    size_t end = len;
    uint64_t k = h->n, seen = 0;
    size_t i = end;
    if (i > 0 && d[i - 1] == '\n')
        i--;
    while (i > 0 && seen < k) {
        if (d[i - 1] == '\n') {
            seen++;
            if (seen == k)
                break;
        }
        i--;
    }
    if (k == 0)
        i = len;
    if (tail) {
        *off = i;
        *n = len - i;
    } else
        *n = i;
}

static const struct sys_longopt ht_long[] = {
    { "lines", 1, 'n' }, { "bytes", 1, 'c' }, { "quiet", 0, 'q' }, { "silent", 0, 'q' },
    { "verbose", 0, 'v' }, { "follow", 2, 'f' }, { "retry", 0, 'F' }, { "sleep-interval", 1, 's' },
    { "pid", 1, 'p' }, { NULL, 0, 0 },
};

static int cmd_headtail(struct sh_cmd *c, bool tail)
{
    struct ht_opts h = { .n = 10 };
    char nbuf[64];
    int argc = c->argc;
    char **nv = fs_obsolete_count(c, &argc, tail, nbuf, sizeof(nbuf));
    struct sys_getopt g;
    int o, rc = 0;
    bool bb = fs_bb(c);
    sys_getopt_init(&g, argc, nv ? nv : c->argv, false);
    while ((o = sys_getopt(&g, tail ? "n:c:qvfFs:" : "n:c:qv", bb ? NULL : ht_long)) != -1) {
        if (o == 'n' || o == 'c') {
            h.bytes = o == 'c';
            if (!ht_num(g.optarg, tail, &h)) {
                if (bb)
                    sh_errf(c, "%s: invalid number '%s'\n", fs_prog(c), g.optarg);
                else
                    sh_errf(c, "%s: invalid number of %s: '%s'\n", fs_prog(c), h.bytes ? "bytes" : "lines",
                            g.optarg);
                free(nv);
                return 1;
            }
        } else if (o == 'q')
            h.quiet = true, h.verbose = false;
        else if (o == 'v')
            h.verbose = true, h.quiet = false;
        else if (o == 'f' || o == 'F' || o == 's' || o == 'p')
            continue;                   /* -f: nothing more ever arrives */
        else {
            free(nv);
            return fs_badopt(c, &g, tail ? "[OPTIONS] [FILE]...\n\nPrint last 10 lines of FILEs (or stdin) to stdout.\n"
                                         : "[OPTIONS] [FILE]...\n\nPrint first 10 lines of FILEs to stdout\n");
        }
    }
    char *dash = "-";
    char **ops = g.noperands ? g.operands : &dash;
    int n = g.noperands ? g.noperands : 1;
    bool headers = h.verbose || (n > 1 && !h.quiet);
    struct hp_buf in, out;
    hp_buf_init(&in, SH_VFS_FILE_MAX);
    hp_buf_init(&out, FS_OUT_MAX);
    bool first = true;
    for (int i = 0; i < n; i++) {
        hp_buf_reset(&in);
        int r = fs_slurp(c, ops[i], &in);
        if (r < 0) {
            sh_out(c, out.data, out.len);
            hp_buf_reset(&out);
            fs_read_err(c, bb && !tail ? RD_WC : RD_HEAD, ops[i], r);
            rc = 1;
            continue;
        }
        if (headers)
            hp_buf_printf(&out, "%s==> %s <==\n", first ? "" : "\n",
                          strcmp(ops[i], "-") ? ops[i] : "standard input");
        first = false;
        size_t off, len;
        ht_cut(&h, tail, in.data, in.len, &off, &len);
        if (len)                  /* in.data is NULL for an empty input */
            hp_buf_put(&out, in.data + off, len);
    }
    sh_out(c, out.data, out.len);
    hp_buf_free(&in);
    hp_buf_free(&out);
    free(nv);
    return rc;
}

static int cmd_head(struct sh_cmd *c) { return cmd_headtail(c, false); }
static int cmd_tail(struct sh_cmd *c) { return cmd_headtail(c, true); }

/* ---- wc ---- */

enum { WC_L, WC_W, WC_M, WC_C, WC_LL, WC_N };

struct wc_row {
    uint64_t v[WC_N];
    const char *name;
    bool failed;
};

static void wc_count(const uint8_t *d, size_t n, uint64_t v[WC_N])
{
    bool inword = false;
    uint64_t col = 0;
    memset(v, 0, sizeof(uint64_t) * WC_N);
    v[WC_C] = n;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = d[i];
        if ((ch & 0xc0) != 0x80)
            v[WC_M]++;
        if (ch == '\n') {
            v[WC_L]++;
            if (col > v[WC_LL])
                v[WC_LL] = col;
            col = 0;
        } else if (ch == '\t')
            col = (col + 8) & ~7ull;
        else if ((ch & 0xc0) != 0x80 && ch >= 32)
            col++;
        bool sp = ch == ' ' || (ch >= '\t' && ch <= '\r');
        if (sp)
            inword = false;
        else if (!inword && ch >= 32 && ch != 127) {
            inword = true;
            v[WC_W]++;
        }
    }
    if (col > v[WC_LL])
        v[WC_LL] = col;
}

static void wc_print(struct sh_cmd *c, struct hp_buf *o, const struct wc_row *r, const bool show[WC_N], int width)
{
    bool first = true;
    for (int k = 0; k < WC_N; k++) {
        if (!show[k])
            continue;
        hp_buf_printf(o, first ? "%*llu" : " %*llu", width, (unsigned long long)r->v[k]);
        first = false;
    }
    if (r->name)
        hp_buf_printf(o, " %s", r->name);
    hp_buf_putc(o, '\n');
    (void)c;
}

static const struct sys_longopt wc_long[] = {
    { "lines", 0, 'l' }, { "words", 0, 'w' }, { "chars", 0, 'm' }, { "bytes", 0, 'c' },
    { "max-line-length", 0, 'L' }, { NULL, 0, 0 },
};

static int cmd_wc(struct sh_cmd *c)
{
    bool show[WC_N] = { false }, any = false, bb = fs_bb(c);
    struct sys_getopt g;
    int o, rc = 0;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "lwmcL", bb ? NULL : wc_long)) != -1) {
        const char *p = strchr("lwmcL", o);
        if (o == '?' || o == ':' || !p)
            return fs_badopt(c, &g, "[-cmlwL] [FILE]...\n\nCount lines, words, and bytes for FILEs (or stdin)\n");
        show[p - "lwmcL" == 4 ? WC_LL : p - "lwmcL" == 3 ? WC_C : p - "lwmcL" == 2 ? WC_M
             : p - "lwmcL" == 1 ? WC_W : WC_L] = true;
        any = true;
    }
    if (!any)
        show[WC_L] = show[WC_W] = show[WC_C] = true;
    int n = g.noperands ? g.noperands : 1;
    struct wc_row *rows = calloc((size_t)n + 1, sizeof(*rows));
    if (!rows)
        return 1;
    struct hp_buf in;
    hp_buf_init(&in, SH_VFS_FILE_MAX);
    bool nonreg = false;
    uint64_t regtotal = 0;
    struct wc_row tot = { .name = "total" };
    for (int i = 0; i < n; i++) {
        const char *arg = g.noperands ? g.operands[i] : NULL;
        rows[i].name = arg;
        hp_buf_reset(&in);
        int r = fs_slurp(c, arg, &in);
        if (r < 0 && r != -EISDIR) {
            rows[i].failed = true;
            fs_read_err(c, RD_WC, arg, r);
            rc = 1;
            continue;
        }
        if (r == -EISDIR) {
            fs_read_err(c, RD_WC, arg, r);
            rc = 1;
            nonreg = true;
        }
        if (!arg || !strcmp(arg, "-"))
            nonreg = true;
        else
            regtotal += in.len;
        wc_count(in.data, in.len, rows[i].v);
        for (int k = 0; k < WC_N; k++)
            tot.v[k] += rows[i].v[k];
    }
    hp_buf_free(&in);
    int nshow = 0;
    for (int k = 0; k < WC_N; k++)
        nshow += show[k];
    int width = 1;
    if (bb)
        width = (n == 1 && nshow == 1) ? 1 : 9;
    else if (!(n == 1 && nshow == 1)) {
        for (uint64_t t = regtotal; t >= 10; t /= 10)
            width++;
        if (nonreg && width < 7)
            width = 7;
        if (rows[0].failed)
            width = 1;
    }
    struct hp_buf out;
    hp_buf_init(&out, FS_OUT_MAX);
    for (int i = 0; i < n; i++)
        if (!rows[i].failed)
            wc_print(c, &out, &rows[i], show, width);
    if (n > 1)
        wc_print(c, &out, &tot, show, width);
    sh_out(c, out.data, out.len);
    hp_buf_free(&out);
    free(rows);
    return rc;
}

/* ==== cp, mv ================================================================================ */


struct cp_ctx {
    struct sh_cmd *c;
    bool rec, preserve, noderef, force, noclobber;
    unsigned visited;
    int rc;
};

static void cp_err(struct sh_cmd *c, const char *gnu, const char *bb, const char *path, int err)
{
    fs_perr(c, gnu, bb, path, err);
}

static int cp_attrs(struct cp_ctx *x, const char *dst, const struct sh_stat *st)
{
    if (!x->preserve)
        return 0;
    sh_vfs_chmod(x->c->fs, dst, st->mode & 07777);
    sh_vfs_chown(x->c->fs, dst, st->uid, st->gid);
    sh_vfs_utime(x->c->fs, dst, st->mtime);
    return 0;
}

static int cp_one(struct cp_ctx *x, const char *src, const char *dst, const char *shown_src,
                  const char *shown_dst, int depth);

static void cp_tree(struct cp_ctx *x, const char *src, const char *dst, const char *ssrc,
                    const char *sdst, const struct sh_stat *st, int depth)
{
    struct sh_cmd *c = x->c;
    struct sh_stat dt;
    size_t sl = strlen(src);
    if (strncmp(dst, src, sl) == 0 && (dst[sl] == '/' || dst[sl] == '\0')) {
        if (fs_bb(c))
            sh_errf(c, "%s: can't copy a directory into itself\n", fs_prog(c));
        else
            sh_errf(c, "%s: cannot copy a directory, '%s', into itself, '%s'\n", fs_prog(c), ssrc, sdst);
        x->rc = 1;
        return;
    }
    int r = sh_vfs_stat(c->fs, dst, true, &dt);
    if (r == 0 && dt.type != SH_FT_DIR) {
        sh_errf(c, "%s: cannot overwrite non-directory '%s' with directory '%s'\n", fs_prog(c), sdst, ssrc);
        x->rc = 1;
        return;
    }
    if (r < 0 && (r = sh_vfs_mkdir(c->fs, dst, (st->mode & 0777) | 0700)) < 0) {
        cp_err(c, "cannot create directory", "can't create directory", sdst, r);
        x->rc = 1;
        return;
    }
    struct fs_names d = { 0 };
    long n = sh_vfs_list(c->fs, src, fs_names_fn, &d);
    if (n < 0) {
        cp_err(c, "cannot access", "can't open", ssrc, (int)n);
        x->rc = 1;
    }
    for (size_t i = 0; i < d.n; i++) {
        char s1[FS_PATH_MAX], d1[FS_PATH_MAX], s2[FS_PATH_MAX], d2[FS_PATH_MAX];
        if (fs_join(s1, src, d.v[i]) == 0 && fs_join(d1, dst, d.v[i]) == 0 &&
            fs_join(s2, ssrc, d.v[i]) == 0 && fs_join(d2, sdst, d.v[i]) == 0 &&
            depth < FS_DEPTH_MAX && x->visited < FS_WALK_MAX)
            cp_one(x, s1, d1, s2, d2, depth + 1);
    }
    fs_names_free(&d);
    cp_attrs(x, dst, st);
}

/* Copy src (absolute) to dst (absolute, the final name). */
static int cp_one(struct cp_ctx *x, const char *src, const char *dst, const char *shown_src,
                  const char *shown_dst, int depth)
{
    struct sh_cmd *c = x->c;
    struct sh_stat st, dt;
    x->visited++;
    bool follow = !(x->noderef || (x->rec && depth > 0));
    int r = sh_vfs_stat(c->fs, src, follow, &st);
    if (r < 0) {
        cp_err(c, "cannot stat", "can't stat", shown_src, r);
        return x->rc = 1;
    }
    if (st.type == SH_FT_DIR) {
        if (!x->rec) {
            if (fs_bb(c))
                sh_errf(c, "%s: omitting directory '%s'\n", fs_prog(c), shown_src);
            else
                sh_errf(c, "%s: -r not specified; omitting directory '%s'\n", fs_prog(c), shown_src);
            return x->rc = 1;
        }
        cp_tree(x, src, dst, shown_src, shown_dst, &st, depth);
        return x->rc;
    }
    bool exists = sh_vfs_stat(c->fs, dst, true, &dt) == 0;
    if (exists && dt.ino == st.ino && dt.type == st.type) {
        sh_errf(c, "%s: '%s' and '%s' are the same file\n", fs_prog(c), shown_src, shown_dst);
        return x->rc = 1;
    }
    if (exists && x->noclobber)
        return 0;
    if (st.type == SH_FT_LNK) {
        char t[FS_PATH_MAX];
        if ((r = sh_vfs_readlink(c->fs, src, t, sizeof(t))) >= 0) {
            if (exists || sh_vfs_stat(c->fs, dst, false, &dt) == 0)
                sh_vfs_unlink(c->fs, dst);
            r = sh_vfs_symlink(c->fs, t, dst);
        }
        if (r < 0) {
            cp_err(c, "cannot create symbolic link", "can't create symlink", shown_dst, r);
            return x->rc = 1;
        }
        return 0;
    }
    struct hp_buf b;
    hp_buf_init(&b, SH_VFS_FILE_MAX);
    long n = sh_vfs_read(c->fs, src, 0, 0, &b);
    if (n < 0) {
        cp_err(c, "cannot open", "can't open", shown_src, (int)n);
        hp_buf_free(&b);
        return x->rc = 1;
    }
    unsigned mode = (st.mode & 0777) & ~(unsigned)FS_UMASK;
    long w = sh_vfs_write(c->fs, dst, b.data, b.len, SH_O_CREAT | SH_O_TRUNC, mode);
    if (w < 0 && x->force && exists) {
        sh_vfs_unlink(c->fs, dst);
        w = sh_vfs_write(c->fs, dst, b.data, b.len, SH_O_CREAT | SH_O_TRUNC, mode);
    }
    hp_buf_free(&b);
    if (w < 0) {
        if (exists && !fs_bb(c))
            cp_err(c, "cannot create regular file", NULL, shown_dst, (int)w);
        else
            cp_err(c, "cannot create regular file", "can't create", shown_dst, (int)w);
        return x->rc = 1;
    }
    cp_attrs(x, dst, &st);
    return 0;
}

/* Operands of cp/mv/ln: the destination and whether it is a directory to
 * put the sources in.  Prints the usage errors; returns -1 on one. */
static int fs_target(struct sh_cmd *c, struct sys_getopt *g, bool one_ok, char *dst, bool *into)
{
    int n = g->noperands;
    bool bb = fs_bb(c);
    if (n == 0)
        return fs_usage(c, "missing file operand", "[OPTIONS] SOURCE... DEST\n"), -1;
    if (n == 1 && !one_ok) {
        if (bb)
            return fs_usage(c, NULL, "[OPTIONS] SOURCE... DEST\n"), -1;
        sh_errf(c, "%s: missing destination file operand after '%s'\n", fs_prog(c), g->operands[0]);
        return fs_usage(c, NULL, NULL), -1;
    }
    const char *d = n == 1 ? "." : g->operands[n - 1];
    struct sh_stat st;
    if (fs_abs(c, d, dst) < 0)
        return -1;
    *into = sh_vfs_stat(c->fs, dst, true, &st) == 0 && st.type == SH_FT_DIR;
    if (n > 2 && !*into) {
        if (bb)
            sh_errf(c, "%s: '%s' is not a directory\n", fs_prog(c), d);
        else
            sh_errf(c, "%s: target '%s' is not a directory\n", fs_prog(c), d);
        return -1;
    }
    return 0;
}

/* The final absolute and shown destination of one source. */
int fs_dest(const char *dst, const char *shown_dir, bool into, const char *src, char *out, char *shown)
{
    if (!into) {
        snprintf(out, FS_PATH_MAX, "%s", dst);
        snprintf(shown, FS_PATH_MAX, "%s", shown_dir);
        return 0;
    }
    char tmp[FS_PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", src);
    size_t l = strlen(tmp);
    while (l > 1 && tmp[l - 1] == '/')
        tmp[--l] = '\0';
    const char *b = fs_base(tmp);
    if (fs_join(out, dst, b) < 0 || fs_join(shown, shown_dir, b) < 0)
        return -ENAMETOOLONG;
    return 0;
}

static const struct sys_longopt cp_long[] = {
    { "recursive", 0, 'r' }, { "force", 0, 'f' }, { "archive", 0, 'a' }, { "preserve", 2, 'p' },
    { "no-dereference", 0, 'P' }, { "dereference", 0, 'L' }, { "no-clobber", 0, 'n' },
    { "interactive", 0, 'i' }, { "verbose", 0, 'v' }, { "update", 2, 'u' }, { NULL, 0, 0 },
};

static int cmd_cp(struct sh_cmd *c)
{
    struct cp_ctx x = { .c = c };
    struct sys_getopt g;
    int o;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "rRfpadPLnivuHs", fs_bb(c) ? NULL : cp_long)) != -1) {
        switch (o) {
        case 'r': case 'R': x.rec = true; break;
        case 'f': x.force = true; break;
        case 'p': x.preserve = true; break;
        case 'a': x.rec = x.preserve = x.noderef = true; break;
        case 'd': case 'P': x.noderef = true; break;
        case 'n': x.noclobber = true; break;
        case 'L': case 'H': case 'i': case 'v': case 'u': case 's': break;
        default: return fs_badopt(c, &g, "[-arPLHpfinlsTu] SOURCE... DEST\n");
        }
    }
    char dst[FS_PATH_MAX];
    bool into;
    if (fs_target(c, &g, false, dst, &into) < 0)
        return 1;
    const char *dshown = g.operands[g.noperands - 1];
    for (int i = 0; i < g.noperands - 1; i++) {
        char src[FS_PATH_MAX], d1[FS_PATH_MAX], shown[FS_PATH_MAX];
        if (fs_abs(c, g.operands[i], src) < 0 || fs_dest(dst, dshown, into, g.operands[i], d1, shown) < 0)
            continue;
        cp_one(&x, src, d1, g.operands[i], shown, 0);
    }
    return x.rc;
}

static int cmd_mv(struct sh_cmd *c)
{
    struct sys_getopt g;
    int o, rc = 0;
    bool noclobber = false, bb = fs_bb(c);
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "fintvuT", bb ? NULL : cp_long)) != -1) {
        if (o == 'n')
            noclobber = true;
        else if (!strchr("fitvuT", o) || o == '?')
            return fs_badopt(c, &g, "[-finT] SOURCE DEST\nor: mv [-fin] SOURCE... DIRECTORY\n");
    }
    char dst[FS_PATH_MAX];
    bool into;
    if (fs_target(c, &g, false, dst, &into) < 0)
        return 1;
    const char *dshown = g.operands[g.noperands - 1];
    for (int i = 0; i < g.noperands - 1; i++) {
        char src[FS_PATH_MAX], d1[FS_PATH_MAX], shown[FS_PATH_MAX];
        struct sh_stat st;
        if (fs_abs(c, g.operands[i], src) < 0 || fs_dest(dst, dshown, into, g.operands[i], d1, shown) < 0)
            continue;
        int r = sh_vfs_stat(c->fs, src, false, &st);
        if (r < 0) {
            fs_perr(c, "cannot stat", "can't rename", g.operands[i], r);
            rc = 1;
            continue;
        }
        if (noclobber && sh_vfs_stat(c->fs, d1, false, &st) == 0)
            continue;
        if (strcmp(src, d1) == 0) {
            sh_errf(c, "%s: '%s' and '%s' are the same file\n", fs_prog(c), g.operands[i], shown);
            rc = 1;
            continue;
        }
        if ((r = sh_vfs_rename(c->fs, src, d1)) < 0) {
            if (r == -EINVAL && !bb)
                sh_errf(c, "mv: cannot move '%s' to a subdirectory of itself, '%s'\n", g.operands[i], shown);
            else if (bb)
                fs_perr(c, NULL, "can't rename", g.operands[i], r);
            else {
                struct hp_buf b;
                hp_buf_init(&b, 3 * FS_PATH_MAX);
                hp_buf_puts(&b, "mv: cannot move ");
                fs_quote(&b, g.operands[i]);
                hp_buf_puts(&b, " to ");
                fs_quote(&b, shown);
                hp_buf_printf(&b, ": %s\n", sh_strerror(r));
                sh_err(c, b.data, b.len);
                hp_buf_free(&b);
            }
            rc = 1;
        }
    }
    return rc;
}

/* ==== rm, rmdir, mkdir ====================================================================== */

struct rm_ctx {
    struct sh_cmd *c;
    bool force, rec, dirs;
    unsigned visited;
    int rc;
};

int fs_names_fn(void *arg, const char *name, const struct sh_stat *st)
{
    struct fs_names *l = arg;
    (void)st;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        char **nv = realloc(l->v, nc * sizeof(*nv));
        if (!nv)
            return 1;
        l->v = nv;
        l->cap = nc;
    }
    if (!(l->v[l->n] = strdup(name)))
        return 1;
    l->n++;
    return l->n >= FS_WALK_MAX;
}

void fs_names_free(struct fs_names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static void rm_fail(struct rm_ctx *x, const char *shown, int err)
{
    fs_perr(x->c, "cannot remove", "can't remove", shown, err);
    x->rc = 1;
}

static void rm_path(struct rm_ctx *x, const char *p, const char *shown, int depth)
{
    struct sh_cmd *c = x->c;
    struct sh_stat st;
    if (x->visited++ >= FS_WALK_MAX)
        return;
    int r = sh_vfs_stat(c->fs, p, false, &st);
    if (r < 0) {
        if (!(x->force && r == -ENOENT))
            rm_fail(x, shown, r);
        return;
    }
    if (st.type != SH_FT_DIR) {
        if ((r = sh_vfs_unlink(c->fs, p)) < 0)
            rm_fail(x, shown, r);
        return;
    }
    if (!x->rec) {
        if (x->dirs && (r = sh_vfs_rmdir(c->fs, p)) == 0)
            return;
        if (fs_bb(c)) {
            sh_errf(c, "rm: '%s' is a directory\n", shown);
            x->rc = 1;
        } else
            rm_fail(x, shown, x->dirs ? r : -EISDIR);
        return;
    }
    struct fs_names l = { 0 };
    long n = sh_vfs_list(c->fs, p, fs_names_fn, &l);
    if (n < 0) {
        rm_fail(x, shown, (int)n);
        return;
    }
    for (size_t i = 0; i < l.n && depth < FS_DEPTH_MAX; i++) {
        char p1[FS_PATH_MAX], s1[FS_PATH_MAX];
        if (fs_join(p1, p, l.v[i]) == 0 && fs_join(s1, shown, l.v[i]) == 0)
            rm_path(x, p1, s1, depth + 1);
    }
    fs_names_free(&l);
    if ((r = sh_vfs_rmdir(c->fs, p)) < 0 && !(x->force && r == -ENOENT))
        rm_fail(x, shown, r);
}

static const struct sys_longopt rm_long[] = {
    { "force", 0, 'f' }, { "recursive", 0, 'r' }, { "dir", 0, 'd' }, { "interactive", 2, 'i' },
    { "verbose", 0, 'v' }, { "no-preserve-root", 0, 'N' }, { "preserve-root", 2, 'P' },
    { "one-file-system", 0, 'o' }, { NULL, 0, 0 },
};

static int cmd_rm(struct sh_cmd *c)
{
    struct rm_ctx x = { .c = c };
    struct sys_getopt g;
    int o;
    bool preserve = true, bb = fs_bb(c);
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "frRdivI", bb ? NULL : rm_long)) != -1) {
        switch (o) {
        case 'f': x.force = true; break;
        case 'r': case 'R': x.rec = true; break;
        case 'd': x.dirs = true; break;
        case 'N': preserve = false; break;
        case 'i': case 'v': case 'I': case 'P': case 'o': break;
        default: return fs_badopt(c, &g, "[-irf] FILE...\n\nRemove (unlink) FILEs\n");
        }
    }
    if (g.noperands == 0) {
        if (x.force)
            return 0;
        return fs_usage(c, "missing operand", "[-irf] FILE...\n\nRemove (unlink) FILEs\n");
    }
    for (int i = 0; i < g.noperands; i++) {
        const char *a = g.operands[i];
        char p[FS_PATH_MAX];
        const char *b = fs_base(a);
        if (strcmp(b, ".") == 0 || strcmp(b, "..") == 0) {
            if (bb)
                sh_errf(c, "rm: can't remove '.' or '..'\n");
            else
                sh_errf(c, "rm: refusing to remove '.' or '..' directory: skipping '%s'\n", a);
            x.rc = 1;
            continue;
        }
        if (fs_abs(c, a, p) < 0)
            continue;
        if (strcmp(p, "/") == 0 && x.rec && preserve && !bb) {
            sh_errf(c, "rm: it is dangerous to operate recursively on '/'\n"
                       "rm: use --no-preserve-root to override this failsafe\n");
            x.rc = 1;
            continue;
        }
        rm_path(&x, p, a, 0);
    }
    return x.rc;
}

static int cmd_rmdir(struct sh_cmd *c)
{
    struct sys_getopt g;
    int o, rc = 0;
    bool parents = false, ignore = false, bb = fs_bb(c);
    static const struct sys_longopt lo[] = {
        { "parents", 0, 'p' }, { "ignore-fail-on-non-empty", 0, 'I' }, { "verbose", 0, 'v' }, { NULL, 0, 0 },
    };
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "pv", bb ? NULL : lo)) != -1) {
        if (o == 'p')
            parents = true;
        else if (o == 'I')
            ignore = true;
        else if (o != 'v')
            return fs_badopt(c, &g, "[-p] DIRECTORY...\n\nRemove DIRECTORY if it is empty\n");
    }
    if (g.noperands == 0)
        return fs_usage(c, "missing operand", "[-p] DIRECTORY...\n\nRemove DIRECTORY if it is empty\n");
    for (int i = 0; i < g.noperands; i++) {
        char shown[FS_PATH_MAX];
        snprintf(shown, sizeof(shown), "%s", g.operands[i]);
        for (int k = 0; k < FS_DEPTH_MAX * 4; k++) {
            char p[FS_PATH_MAX];
            if (fs_abs(c, shown, p) < 0)
                break;
            int r = sh_vfs_rmdir(c->fs, p);
            if (r < 0) {
                if (!(ignore && r == -ENOTEMPTY)) {
                    fs_perr(c, "failed to remove", "", shown, r);
                    rc = 1;
                }
                break;
            }
            char *s = strrchr(shown, '/');
            if (!parents || !s || s == shown)
                break;
            while (s > shown && *s == '/')
                *s-- = '\0';
        }
    }
    return rc;
}

/* ==== modes: chmod's octal and symbolic forms (also mkdir -m) ================================= */

/* Apply "u+x,go-w", "755", "a=rwx", "+x" to old; false when invalid. */
bool fs_mode_parse(const char *s, unsigned old, bool isdir, unsigned *out)
{
    if (*s >= '0' && *s <= '7') {
        unsigned v = 0;
        for (const char *p = s; *p; p++) {
            if (*p < '0' || *p > '7' || v > 07777)
                return false;
            v = v * 8 + (unsigned)(*p - '0');
        }
        if (v > 07777)
            return false;
        /* GNU keeps a directory's setuid/setgid bits unless given 5 digits */
        *out = isdir && strlen(s) < 5 ? v | (old & 06000) : v;
        return true;
    }
    unsigned m = old;
    const char *p = s;
    for (;;) {
        unsigned who = 0;
        for (; *p && strchr("ugoa", *p); p++)
            who |= *p == 'u' ? 04700 : *p == 'g' ? 02070 : *p == 'o' ? 01007 : 07777;
        if (!*p || !strchr("+-=", *p))
            return false;
        while (*p && strchr("+-=", *p)) {
            char op = *p++;
            unsigned bits = 0;
            if (*p && strchr("ugo", *p)) {
                unsigned src = *p == 'u' ? (m >> 6) & 7 : *p == 'g' ? (m >> 3) & 7 : m & 7;
                bits = src * 0111;
                p++;
            } else {
                for (; *p && strchr("rwxXst", *p); p++) {
                    switch (*p) {
                    case 'r': bits |= 0444; break;
                    case 'w': bits |= 0222; break;
                    case 'x': bits |= 0111; break;
                    case 'X': if (isdir || (m & 0111)) bits |= 0111; break;
                    case 's': bits |= 06000; break;
                    case 't': bits |= 01000; break;
                    }
                }
            }
            unsigned mask = who ? who : (07777 & ~(unsigned)FS_UMASK);
            if (!who && op == '=')
                mask = 07777;
            if (op == '+')
                m |= bits & mask;
            else if (op == '-')
                m &= ~(bits & mask);
            else {
                unsigned clear = who ? who & 0777 : 0777;
                if (who & 04000 || !who)
                    clear |= isdir ? 0 : 06000;
                m = (m & ~clear) | (bits & mask);
            }
        }
        if (*p == '\0')
            break;
        if (*p != ',')
            return false;
        p++;
    }
    *out = m & 07777;
    return true;
}

/* ==== mkdir ================================================================================= */

static int mkdir_p(struct sh_cmd *c, const char *p, unsigned mode)
{
    char cur[FS_PATH_MAX];
    size_t len = strlen(p);
    if (len >= sizeof(cur))
        return -ENAMETOOLONG;
    memcpy(cur, p, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (cur[i] != '/' && cur[i] != '\0')
            continue;
        char save = cur[i];
        cur[i] = '\0';
        struct sh_stat st;
        int r = sh_vfs_stat(c->fs, cur, true, &st);
        if (r == 0 && st.type != SH_FT_DIR) {
            cur[i] = save;
            return -ENOTDIR;
        }
        if (r < 0 && (r = sh_vfs_mkdir(c->fs, cur, save ? 0755 : mode)) < 0 && r != -EEXIST) {
            cur[i] = save;
            return r;
        }
        cur[i] = save;
    }
    return 0;
}

static int cmd_mkdir(struct sh_cmd *c)
{
    struct sys_getopt g;
    int o, rc = 0;
    bool parents = false, bb = fs_bb(c);
    const char *mstr = NULL;
    static const struct sys_longopt lo[] = {
        { "parents", 0, 'p' }, { "mode", 1, 'm' }, { "verbose", 0, 'v' }, { NULL, 0, 0 },
    };
    static const char usage[] = "[-m MODE] [-p] DIRECTORY...\n\nCreate DIRECTORY\n";
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "pm:vZ", bb ? NULL : lo)) != -1) {
        if (o == 'p')
            parents = true;
        else if (o == 'm')
            mstr = g.optarg;
        else if (o != 'v' && o != 'Z')
            return fs_badopt(c, &g, usage);
    }
    unsigned mode = 0777 & ~(unsigned)FS_UMASK;
    if (mstr && !fs_mode_parse(mstr, 0777 & ~(unsigned)FS_UMASK, true, &mode)) {
        if (bb)
            sh_errf(c, "mkdir: invalid mode '%s'\n", mstr);
        else
            sh_errf(c, "mkdir: invalid mode '%s'\n", mstr);
        return 1;
    }
    if (g.noperands == 0)
        return fs_usage(c, "missing operand", usage);
    for (int i = 0; i < g.noperands; i++) {
        char p[FS_PATH_MAX];
        int r = fs_abs(c, g.operands[i], p);
        if (r == 0)
            r = parents ? mkdir_p(c, p, mode) : sh_vfs_mkdir(c->fs, p, mode);
        if (r == 0 && mstr)
            sh_vfs_chmod(c->fs, p, mode);
        if (r < 0) {
            fs_perr(c, "cannot create directory", "can't create directory", g.operands[i], r);
            rc = 1;
        }
    }
    return rc;
}

const struct sh_cmd_def sh_cmds_fs[] = {
    { "cat", cmd_cat, false }, { "cp", cmd_cp, false }, { "head", cmd_head, false },
    { "ls", cmd_ls, false }, { "mkdir", cmd_mkdir, false }, { "mv", cmd_mv, false },
    { "rm", cmd_rm, false }, { "rmdir", cmd_rmdir, false }, { "tail", cmd_tail, false },
    { "wc", cmd_wc, false },
    { NULL, NULL, false },
};
