/*
 * vfs.c - the fake file system of the emulated shell.  See vfs.h.
 *
 * Base image.  One per personality, parsed once from its manifest
 * (fsdata.c documents the format) into an array of compact nodes: names,
 * file bodies and link targets live in one string pool and are referred to
 * by offset; the children of a directory are a slice of one index array,
 * sorted by name, searched by bisection.  The image is never written after
 * it is built and every session of every source shares it.
 *
 * Overlay.  What a source changed, keyed by canonical path (no symlink in
 * it) in an open-addressing hash table: an entry is either a whiteout (the
 * base entry at that path is gone) or an object: a new file/dir/link, or
 * an attribute change of the base object underneath (`under`).  A regular
 * file's bytes are either owned by the entry or still read through a base
 * node (`cbase`: cp/mv/chmod of a base file copy nothing until written).
 * A directory made by the overlay is "opaque": it never shows base
 * children (a removed-then-remade /opt is empty).  Overlays live in a
 * process-wide LRU list keyed by personality and source, refcounted by
 * sessions, expired lazily `persist` seconds after their last session and
 * evicted (idle ones, least recently used first) when the byte or count
 * limits are reached.  A session itself is a small struct pointing at its
 * overlay, so a fresh session costs a few hundred bytes.
 *
 * Lookups walk a path component by component as the kernel does: search
 * permission on each directory, at most 16 symlinks (ELOOP), ".." at the
 * root stays there, names up to 255 and paths up to 4095 bytes.  /proc
 * numeric directories are virtual, made from hp_persona_procs() and the
 * session's shell pid; generated files are made by hp_persona_gen() at
 * read time, so files and commands agree.  Which file systems are read-only
 * (a router's squashfs root) comes from hp_persona_mounts(), like mount's
 * output.
 *
 * Every limit is explicit: per file, per source, total bytes, entries per
 * source, sources kept, recursion depth when moving a tree.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "util.h"
#include "shell/persona.h"
#include "shell/vfs.h"

#define VFS_PATH_MAX 4096         /* with the NUL, as PATH_MAX */
#define VFS_NAME_MAX 255
#define VFS_LINKS_MAX 16
#define VFS_TREE_DEPTH_MAX 64     /* rename/copy of a directory tree */
#define VFS_LINE_MAX 8192         /* one manifest line */
#define VFS_NONE ((uint32_t)-1)

/* ---- clock ---------------------------------------------------------------------------- */

static int64_t vfs_test_now;

void sh_vfs_test_clock(int64_t now_s)
{
    vfs_test_now = now_s;
}

static int64_t vfs_now(void)
{
    return vfs_test_now ? vfs_test_now : hp_now_us() / 1000000;
}

static uint64_t path_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

/* ---- base image ------------------------------------------------------------------------- */

enum bkind { BK_DIR, BK_DATA, BK_GEN, BK_EXEC, BK_LINK, BK_DEV };

struct bnode {
    uint32_t name, parent;
    uint32_t kids, nkids;         /* slice of image.kids */
    uint32_t data, len;           /* body, link target, generator or applet name */
    uint64_t size;                /* BK_EXEC: file size */
    uint32_t uid, gid;
    uint16_t mode, major, minor;
    uint8_t type, kind;
    uint8_t vol;                  /* on a kernel file system: times are the boot time */
};

struct image {
    const struct hp_persona *p;
    struct bnode *n;
    uint32_t nn, an;
    char *s;
    size_t slen, salloc;
    uint32_t *kids;
    uint32_t proc;                /* /proc */
    int64_t mtime;                /* when the system was installed */
    size_t bytes;                 /* memory held */
};

#define VFS_IMAGES_MAX 4
static struct image *images[VFS_IMAGES_MAX];

static const char *bname(const struct image *img, uint32_t k)
{
    return img->s + img->n[k].name;
}

static uint32_t img_str(struct image *img, const char *s, size_t n)
{
    if (img->slen + n + 1 > img->salloc) {
        size_t na = img->salloc ? img->salloc : 65536;
        while (na < img->slen + n + 1)
            na *= 2;
        char *ns = realloc(img->s, na);
        if (!ns)
            abort();
        img->s = ns;
        img->salloc = na;
    }
    uint32_t off = (uint32_t)img->slen;
    memcpy(img->s + off, s, n);
    img->s[off + n] = '\0';
    img->slen += n + 1;
    return off;
}

/* Build time only: children are not sorted yet, so a scan. */
static uint32_t img_find_build(const struct image *img, uint32_t parent, const char *name, size_t nl)
{
    for (uint32_t i = 1; i < img->nn; i++)
        if (img->n[i].parent == parent && strncmp(bname(img, i), name, nl) == 0 && bname(img, i)[nl] == '\0')
            return i;
    return VFS_NONE;
}

static uint32_t img_new(struct image *img, uint32_t parent, const char *name, size_t nl)
{
    if (img->nn == img->an) {
        uint32_t na = img->an ? img->an * 2 : 1024;
        struct bnode *nn = realloc(img->n, na * sizeof(*nn));
        if (!nn)
            abort();
        img->n = nn;
        img->an = na;
    }
    uint32_t k = img->nn++;
    img->n[k] = (struct bnode){ .name = img_str(img, name, nl), .parent = parent, .type = SH_FT_DIR,
                                .kind = BK_DIR, .mode = 0755 };
    return k;
}

/* The node for an absolute path, made (with its parents as 0755 root
 * directories) when missing.  VFS_NONE for a bad path. */
static uint32_t img_path(struct image *img, const char *path)
{
    if (path[0] != '/' || strlen(path) >= VFS_PATH_MAX)
        return VFS_NONE;
    uint32_t cur = 0;
    const char *s = path;
    while (*s) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        size_t nl = strcspn(s, "/");
        if (nl > VFS_NAME_MAX || (nl == 1 && s[0] == '.') || (nl == 2 && s[0] == '.' && s[1] == '.'))
            return VFS_NONE;
        if (img->n[cur].kind != BK_DIR)
            return VFS_NONE;
        uint32_t k = img_find_build(img, cur, s, nl);
        if (k == VFS_NONE)
            k = img_new(img, cur, s, nl);
        cur = k;
        s += nl;
    }
    return cur;
}

static bool parse_uint(const char *s, int base, unsigned long max, unsigned long *out)
{
    if (!s || !*s)
        return false;
    char *e;
    errno = 0;
    unsigned long v = strtoul(s, &e, base);
    if (*e || errno || v > max)
        return false;
    *out = v;
    return true;
}

/* Set mode, uid and gid from three fields (octal, decimal, decimal). */
static bool set_owner(struct bnode *n, char **f, unsigned dmode)
{
    unsigned long m = dmode, u = 0, g = 0;
    if (f[0] && (!parse_uint(f[0], 8, 07777, &m) || !parse_uint(f[1], 10, 65535, &u) ||
                 !parse_uint(f[2], 10, 65535, &g)))
        return false;
    n->mode = (uint16_t)m;
    n->uid = (uint32_t)u;
    n->gid = (uint32_t)g;
    return true;
}

/* Replace @NAME@ with the personality's var:NAME into out. */
static void subst(const struct hp_persona *p, const char *line, size_t len, struct hp_buf *out)
{
    for (size_t i = 0; i < len; i++) {
        if (line[i] == '@') {
            size_t j = i + 1;
            while (j < len && j - i <= 32 && ((line[j] >= 'a' && line[j] <= 'z') || line[j] == '_' ||
                                             (line[j] >= '0' && line[j] <= '9')))
                j++;
            if (j < len && line[j] == '@' && j > i + 1) {
                char var[48];
                snprintf(var, sizeof(var), "var:%.*s", (int)(j - i - 1), line + i + 1);
                if (hp_persona_gen(p, var, 0, out)) {
                    i = j;
                    continue;
                }
            }
        }
        hp_buf_putc(out, (uint8_t)line[i]);
    }
}

/* Split a line into at most max blank-separated fields (the last keeps the rest
 * when rest is true). */
static size_t split(char *s, char **f, size_t max, bool rest)
{
    size_t n = 0;
    while (*s && n < max) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        if (rest && n == max - 1) {
            f[n++] = s;
            break;
        }
        f[n++] = s;
        s += strcspn(s, " \t");
        if (*s)
            *s++ = '\0';
    }
    for (size_t i = n; i < max; i++)
        f[i] = NULL;
    return n;
}

static void img_link(struct image *img, const char *path, const char *target)
{
    uint32_t k = img_path(img, path);
    if (k == VFS_NONE || k == 0 || img->n[k].nkids)
        return;
    struct bnode *n = &img->n[k];
    n->type = SH_FT_LNK;
    n->kind = BK_LINK;
    n->mode = 0777;
    n->len = (uint32_t)strlen(target);
    n->data = img_str(img, target, n->len);
}

/* busybox applet links: /bin/x -> busybox, /sbin/x -> ../bin/busybox, ... */
static void img_applets(struct image *img)
{
    struct hp_buf b;
    hp_buf_init(&b, 1 << 16);
    hp_persona_gen(img->p, "applet_links", 0, &b);
    const char *s = hp_buf_cstr(&b);
    while (s && *s) {
        size_t l = strcspn(s, "\n");
        char path[256];
        if (l < sizeof(path)) {
            memcpy(path, s, l);
            path[l] = '\0';
            unsigned depth = 0;
            for (const char *q = path + 1; *q; q++)
                depth += *q == '/';
            const char *tg = depth == 1 && !strncmp(path, "/bin/", 5) ? "busybox"
                           : depth == 1 ? "../bin/busybox" : "../../bin/busybox";
            /* an explicit manifest entry wins */
            const char *slash = strrchr(path, '/');
            char dir[256];
            snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
            uint32_t d = img_path(img, dir[0] ? dir : "/");
            if (d != VFS_NONE && img_find_build(img, d, slash + 1, strlen(slash + 1)) == VFS_NONE)
                img_link(img, path, tg);
        }
        s += l;
        if (*s)
            s++;
    }
    hp_buf_free(&b);
}

/* One manifest entry; body is the text of a file (or NULL). */
static bool img_entry(struct image *img, char *line, const char *body, size_t blen)
{
    char *f[8];
    char kind = line[0];
    if (!kind || line[1] != ' ')
        return kind == 'a' && !line[1] ? (img_applets(img), true) : false;
    size_t nf = split(line + 2, f, kind == 'f' ? 6 : 7, kind == 'f');
    if (nf < 1)
        return false;
    if (kind == 'l') {
        const char *tg = nf >= 3 && !strcmp(f[1], "->") ? f[2] : f[1];
        if (!tg)
            return false;
        img_link(img, f[0], tg);
        return true;
    }
    uint32_t k = img_path(img, f[0]);
    if (k == VFS_NONE || (kind != 'd' && (k == 0 || img->n[k].nkids)))
        return false;
    struct bnode *n = &img->n[k];
    unsigned long a = 0, b = 0;
    switch (kind) {
    case 'd':
        n->type = SH_FT_DIR, n->kind = BK_DIR;
        return nf < 4 || set_owner(n, f + 1, 0755);
    case 'f':
        n->type = SH_FT_REG, n->kind = BK_DATA;
        if (!set_owner(n, nf >= 4 ? f + 1 : (char *[]){ NULL }, 0644))
            return false;
        if (body) {
            n->data = img_str(img, body, blen);
            n->len = (uint32_t)blen;
        } else if (nf >= 5) {
            n->len = (uint32_t)strlen(f[4]) + 1;
            n->data = img_str(img, f[4], n->len - 1);
            img->s[n->data + n->len - 1] = '\n';
        } else {
            n->data = img_str(img, "", 0);
            n->len = 0;
        }
        return true;
    case 'x':
        if (nf < 6 || !parse_uint(f[4], 10, 1ul << 30, &a))
            return false;
        n->type = SH_FT_REG, n->kind = BK_EXEC, n->size = a;
        n->data = strcmp(f[5], "-") ? img_str(img, f[5], strlen(f[5])) : img_str(img, "", 0);
        return set_owner(n, f + 1, 0755);
    case 'g':
        if (nf < 2)
            return false;
        n->type = SH_FT_REG, n->kind = BK_GEN;
        n->data = img_str(img, f[1], strlen(f[1]));
        return set_owner(n, nf >= 5 ? f + 2 : (char *[]){ NULL }, 0444);
    case 'c':
    case 'b':
        if (nf < 3 || !parse_uint(f[1], 10, 4095, &a) || !parse_uint(f[2], 10, 1048575, &b))
            return false;
        n->type = kind == 'c' ? SH_FT_CHR : SH_FT_BLK, n->kind = BK_DEV;
        n->major = (uint16_t)a, n->minor = (uint16_t)(b > 65535 ? 65535 : b);
        return set_owner(n, nf >= 6 ? f + 3 : (char *[]){ NULL }, 0660);
    default:
        return false;
    }
}

static const struct image *cmp_img;

static int kid_cmp(const void *a, const void *b)
{
    return strcmp(bname(cmp_img, *(const uint32_t *)a), bname(cmp_img, *(const uint32_t *)b));
}

/* Children slices sorted by name; file system flags. */
static void img_finish(struct image *img)
{
    img->kids = calloc(img->nn ? img->nn : 1, sizeof(uint32_t));
    uint32_t *count = calloc(img->nn, sizeof(uint32_t));
    if (!img->kids || !count)
        abort();
    for (uint32_t i = 1; i < img->nn; i++)
        count[img->n[i].parent]++;
    uint32_t off = 0;
    for (uint32_t i = 0; i < img->nn; i++) {
        img->n[i].kids = off;
        img->n[i].nkids = 0;
        off += count[i];
    }
    for (uint32_t i = 1; i < img->nn; i++) {
        struct bnode *p = &img->n[img->n[i].parent];
        img->kids[p->kids + p->nkids++] = i;
    }
    free(count);
    cmp_img = img;
    for (uint32_t i = 0; i < img->nn; i++)
        if (img->n[i].nkids > 1)
            qsort(img->kids + img->n[i].kids, img->n[i].nkids, sizeof(uint32_t), kid_cmp);
    cmp_img = NULL;
    img->proc = VFS_NONE;
    static const char *const vol[] = { "proc", "sys", "dev", "run" };
    for (uint32_t i = 0; i < img->nn; i++) {
        uint32_t top = i;
        while (top && img->n[top].parent != 0)
            top = img->n[top].parent;
        for (size_t j = 0; top && j < HP_ARRAY_LEN(vol); j++)
            if (!strcmp(bname(img, top), vol[j]))
                img->n[i].vol = 1;
        if (img->n[i].parent == 0 && i && !strcmp(bname(img, i), "proc"))
            img->proc = i;
    }
    /* read-only from here: give back the growth slack */
    char *ns = realloc(img->s, img->slen ? img->slen : 1);
    if (ns) {
        img->s = ns;
        img->salloc = img->slen;
    }
    struct bnode *nn = realloc(img->n, img->nn * sizeof(*nn));
    if (nn) {
        img->n = nn;
        img->an = img->nn;
    }
    img->bytes = sizeof(*img) + img->an * sizeof(struct bnode) + img->salloc + img->nn * sizeof(uint32_t);
}

static struct image *img_build(const struct hp_persona *p)
{
    struct image *img = hp_xcalloc(1, sizeof(*img));
    img->p = p;
    img_new(img, 0, "", 0);
    img->mtime = p->boot_time - 86400 * (40 + (int64_t)(p->seed % 300));
    size_t len = 0;
    const char *m = sh_fsdata_image(p->name, &len);
    struct hp_buf line, body;
    hp_buf_init(&line, VFS_LINE_MAX);
    hp_buf_init(&body, 1 << 20);
    const char *end = m ? m + len : NULL;
    for (const char *s = m; s && s < end;) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t l = nl ? (size_t)(nl - s) : (size_t)(end - s);
        const char *next = nl ? nl + 1 : end;
        hp_buf_reset(&line);
        subst(p, s, l, &line);
        char *t = (char *)hp_buf_cstr(&line);
        s = next;
        if (!t || !t[0] || t[0] == '#')
            continue;
        char *here = strstr(t, " <<");
        if (t[0] == 'f' && here && here[3]) {
            char tag[64];
            snprintf(tag, sizeof(tag), "%s", here + 3);
            *here = '\0';
            hp_buf_reset(&body);
            while (s < end) {
                nl = memchr(s, '\n', (size_t)(end - s));
                l = nl ? (size_t)(nl - s) : (size_t)(end - s);
                next = nl ? nl + 1 : end;
                if (l == strlen(tag) && !memcmp(s, tag, l)) {
                    s = next;
                    break;
                }
                subst(p, s, l, &body);
                hp_buf_putc(&body, '\n');
                s = next;
            }
            img_entry(img, t, (const char *)body.data ? (const char *)body.data : "", body.len);
        } else {
            img_entry(img, t, NULL, 0);
        }
    }
    hp_buf_free(&line);
    hp_buf_free(&body);
    img_finish(img);
    return img;
}

static void img_free(struct image *img)
{
    if (!img)
        return;
    free(img->n);
    free(img->s);
    free(img->kids);
    free(img);
}

static struct image *img_get(const struct hp_persona *p)
{
    for (size_t i = 0; i < VFS_IMAGES_MAX; i++)
        if (images[i] && images[i]->p == p)
            return images[i];
    for (size_t i = 0; i < VFS_IMAGES_MAX; i++)
        if (!images[i])
            return images[i] = img_build(p);
    return NULL;
}

/* Child of a base directory by bisection. */
static uint32_t img_child(const struct image *img, uint32_t dir, const char *name)
{
    const struct bnode *d = &img->n[dir];
    if (d->kind != BK_DIR)
        return VFS_NONE;
    size_t lo = 0, hi = d->nkids;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint32_t k = img->kids[d->kids + mid];
        int c = strcmp(bname(img, k), name);
        if (c == 0)
            return k;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return VFS_NONE;
}

/* ---- overlays ---------------------------------------------------------------------------- */

struct oent {
    char *path;
    bool whiteout, opaque, owned, dirty;
    uint8_t type;
    unsigned mode, uid, gid;
    int64_t mtime;
    uint32_t under;               /* base node at this path, VFS_NONE */
    uint32_t cbase;               /* content read through this base node when !owned */
    uint8_t *data;
    size_t len;
    char *target;                 /* symlink */
};

struct overlay {
    char *key;                    /* "persona\0source" */
    const struct image *img;
    struct oent **tab;
    size_t cap, count;
    uint64_t bytes;
    unsigned refs;
    int64_t idle_since;
    bool kept;                    /* in the process-wide list */
    struct overlay *prev, *next;
};

static struct {
    struct overlay *head, *tail;  /* most recently used first */
    size_t count;
    uint64_t bytes;
    uint64_t persist_s, source_max, total_max;
} ovls = { .persist_s = 3600, .source_max = SH_VFS_SOURCE_MAX, .total_max = SH_VFS_TOTAL_MAX };

static uint64_t oent_cost(const struct oent *e)
{
    return sizeof(*e) + strlen(e->path) + 1 + e->len + (e->target ? strlen(e->target) + 1 : 0);
}

static size_t ovl_slot(const struct overlay *o, const char *path)
{
    size_t i = (size_t)path_hash(path) & (o->cap - 1);
    while (o->tab[i] && strcmp(o->tab[i]->path, path) != 0)
        i = (i + 1) & (o->cap - 1);
    return i;
}

static struct oent *ovl_get(const struct overlay *o, const char *path)
{
    if (!o->cap)
        return NULL;
    return o->tab[ovl_slot(o, path)];
}

static void ovl_account(struct overlay *o, int64_t delta)
{
    o->bytes = (uint64_t)((int64_t)o->bytes + delta);
    if (o->kept)
        ovls.bytes = (uint64_t)((int64_t)ovls.bytes + delta);
}

static bool ovl_grow(struct overlay *o)
{
    size_t ncap = o->cap ? o->cap * 2 : 16;
    struct oent **nt = calloc(ncap, sizeof(*nt));
    if (!nt)
        return false;
    struct oent **old = o->tab;
    size_t ocap = o->cap;
    o->tab = nt;
    o->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i])
            o->tab[ovl_slot(o, old[i]->path)] = old[i];
    free(old);
    ovl_account(o, (int64_t)((ncap - ocap) * sizeof(*nt)));
    return true;
}

static void oent_free(struct oent *e)
{
    free(e->path);
    free(e->data);
    free(e->target);
    free(e);
}

/* Remove e from the table (backward-shift deletion) and free it. */
static void ovl_del(struct overlay *o, struct oent *e)
{
    size_t i = ovl_slot(o, e->path);
    if (o->tab[i] != e)
        return;
    ovl_account(o, -(int64_t)oent_cost(e));
    oent_free(e);
    o->tab[i] = NULL;
    o->count--;
    size_t j = i;
    for (;;) {
        j = (j + 1) & (o->cap - 1);
        if (!o->tab[j])
            break;
        size_t h = (size_t)path_hash(o->tab[j]->path) & (o->cap - 1);
        /* move it back if its home is not in (i, j] cyclically */
        if ((j > i && (h <= i || h > j)) || (j < i && (h <= i && h > j))) {
            o->tab[i] = o->tab[j];
            o->tab[j] = NULL;
            i = j;
        }
    }
}

static void ovl_evict_idle(struct overlay *keep);

/* Room for delta more bytes in o: -ENOSPC past the source or total quota
 * (idle overlays are evicted first to stay under the total). */
static int ovl_room(struct overlay *o, uint64_t delta)
{
    if (o->bytes + delta > ovls.source_max)
        return -ENOSPC;
    while (ovls.bytes + delta > ovls.total_max) {
        size_t before = ovls.count;
        ovl_evict_idle(o);
        if (ovls.count == before)
            return -ENOSPC;
    }
    return 0;
}

/* A new entry for path (which has none). */
static struct oent *ovl_add(struct overlay *o, const char *path, int *err)
{
    if (o->count >= SH_VFS_NODES_MAX) {
        *err = -ENOSPC;
        return NULL;
    }
    size_t pl = strlen(path);
    int r = ovl_room(o, sizeof(struct oent) + pl + 1 + (o->count + 1 > o->cap / 2 ? o->cap * sizeof(void *) + 128 : 0));
    if (r < 0) {
        *err = r;
        return NULL;
    }
    if ((o->count + 1) * 2 > o->cap && !ovl_grow(o)) {
        *err = -ENOSPC;
        return NULL;
    }
    struct oent *e = calloc(1, sizeof(*e));
    char *p = e ? strdup(path) : NULL;
    if (!p) {
        free(e);
        *err = -ENOSPC;
        return NULL;
    }
    e->path = p;
    e->under = e->cbase = VFS_NONE;
    o->tab[ovl_slot(o, path)] = e;
    o->count++;
    ovl_account(o, (int64_t)oent_cost(e));
    return e;
}

static void ovl_unlink_list(struct overlay *o)
{
    if (!o->kept)
        return;
    if (o->prev)
        o->prev->next = o->next;
    else
        ovls.head = o->next;
    if (o->next)
        o->next->prev = o->prev;
    else
        ovls.tail = o->prev;
    o->prev = o->next = NULL;
    ovls.count--;
    ovls.bytes -= o->bytes;
    o->kept = false;
}

static void ovl_push_front(struct overlay *o)
{
    o->prev = NULL;
    o->next = ovls.head;
    if (ovls.head)
        ovls.head->prev = o;
    ovls.head = o;
    if (!ovls.tail)
        ovls.tail = o;
    ovls.count++;
    ovls.bytes += o->bytes;
    o->kept = true;
}

static void ovl_destroy(struct overlay *o)
{
    ovl_unlink_list(o);
    for (size_t i = 0; i < o->cap; i++)
        if (o->tab[i])
            oent_free(o->tab[i]);
    free(o->tab);
    free(o->key);
    free(o);
}

/* Drop the least recently used idle overlay (not keep). */
static void ovl_evict_idle(struct overlay *keep)
{
    for (struct overlay *o = ovls.tail; o; o = o->prev) {
        if (o->refs == 0 && o != keep) {
            ovl_destroy(o);
            return;
        }
    }
}

/* Forget idle overlays whose persistence time is over. */
static void ovl_expire(void)
{
    int64_t now = vfs_now();
    struct overlay *o = ovls.tail;
    while (o) {
        struct overlay *prev = o->prev;
        if (o->refs == 0 && (ovls.persist_s == 0 || now - o->idle_since >= (int64_t)ovls.persist_s))
            ovl_destroy(o);
        o = prev;
    }
}

/* ---- sessions ----------------------------------------------------------------------------------- */

struct sh_vfs {
    const struct hp_persona *p;
    const struct image *img;
    struct overlay *ov;
    unsigned uid, gid, pid;
    sh_vfs_capture_fn capture;
    void *capture_arg;
    char uname[33], gname[33];    /* sh_vfs_user_name / group_name results */
    char home[256];               /* the session user's, from /etc/passwd */
};

void sh_vfs_configure(uint64_t persist_s, uint64_t source_max, uint64_t total_max)
{
    ovls.persist_s = persist_s;
    ovls.source_max = source_max ? source_max : SH_VFS_SOURCE_MAX;
    ovls.total_max = total_max ? total_max : SH_VFS_TOTAL_MAX;
}

void sh_vfs_stats(size_t *sources, uint64_t *bytes)
{
    ovl_expire();
    if (sources)
        *sources = ovls.count;
    if (bytes)
        *bytes = ovls.bytes;
}

void sh_vfs_reset(void)
{
    while (ovls.head)
        ovl_destroy(ovls.head);
    for (size_t i = 0; i < VFS_IMAGES_MAX; i++) {
        img_free(images[i]);
        images[i] = NULL;
    }
}

/* ---- references and lookup --------------------------------------------------------------------------- */

enum { V_NONE, V_PIDDIR, V_PIDFILE, V_SELF };

struct vref {
    uint32_t b;                   /* base node (when oe is NULL and virt is V_NONE) */
    struct oent *oe;
    uint8_t virt, sub;
    unsigned pid;
};

/* Files of a /proc/<pid> directory. */
static const struct { const char *name; uint8_t type; unsigned mode; } pidfiles[] = {
    { "cmdline", SH_FT_REG, 0444 }, { "comm", SH_FT_REG, 0644 }, { "cwd", SH_FT_LNK, 0777 },
    { "environ", SH_FT_REG, 0400 }, { "exe", SH_FT_LNK, 0777 },  { "fd", SH_FT_DIR, 0500 },
    { "mounts", SH_FT_REG, 0444 },  { "root", SH_FT_LNK, 0777 }, { "stat", SH_FT_REG, 0444 },
    { "status", SH_FT_REG, 0444 },
};

static const struct hp_proc *proc_find(const struct sh_vfs *v, unsigned pid)
{
    const struct hp_proc *ps;
    size_t n = hp_persona_procs(v->p, &ps);
    for (size_t i = 0; i < n; i++)
        if (ps[i].pid == pid)
            return &ps[i];
    return NULL;
}

static bool pid_exists(const struct sh_vfs *v, unsigned pid)
{
    return pid == v->pid || proc_find(v, pid) != NULL;
}

static bool parse_pid(const char *s, unsigned *pid)
{
    unsigned long x;
    if (s[0] < '1' || s[0] > '9' || strlen(s) > 7 || !parse_uint(s, 10, 4194304, &x))
        return false;
    *pid = (unsigned)x;
    return true;
}

static uint8_t ref_type(const struct sh_vfs *v, const struct vref *r)
{
    if (r->virt == V_PIDDIR)
        return SH_FT_DIR;
    if (r->virt == V_PIDFILE)
        return pidfiles[r->sub].type;
    if (r->virt == V_SELF)
        return SH_FT_LNK;
    if (r->oe)
        return r->oe->type;
    return v->img->n[r->b].type;
}

/* The base directory whose children show under r (VFS_NONE: none). */
static uint32_t ref_basedir(const struct vref *r)
{
    if (r->virt)
        return VFS_NONE;
    if (r->oe)
        return r->oe->type == SH_FT_DIR && !r->oe->opaque ? r->oe->under : VFS_NONE;
    return r->b;
}

static int join(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, VFS_PATH_MAX, "%s/%s", strcmp(dir, "/") ? dir : "", name);
    return n < 0 || n >= VFS_PATH_MAX ? -ENAMETOOLONG : 0;
}

static int lookup_child(struct sh_vfs *v, const struct vref *dir, const char *dirpath, const char *name,
                        struct vref *out, char *childpath)
{
    int r = join(childpath, dirpath, name);
    if (r < 0)
        return r;
    *out = (struct vref){ .b = VFS_NONE };
    if (dir->virt == V_PIDDIR) {
        for (size_t i = 0; i < HP_ARRAY_LEN(pidfiles); i++) {
            if (!strcmp(pidfiles[i].name, name)) {
                *out = (struct vref){ .b = VFS_NONE, .virt = V_PIDFILE, .sub = (uint8_t)i, .pid = dir->pid };
                return 0;
            }
        }
        return -ENOENT;
    }
    if (dir->virt)
        return -ENOTDIR;
    struct oent *e = ovl_get(v->ov, childpath);
    if (e) {
        if (e->whiteout)
            return -ENOENT;
        out->oe = e;
        return 0;
    }
    uint32_t bd = ref_basedir(dir);
    if (bd == VFS_NONE)
        return -ENOENT;
    uint32_t k = img_child(v->img, bd, name);
    if (k != VFS_NONE) {
        out->b = k;
        return 0;
    }
    unsigned pid;
    if (bd == v->img->proc && !strcmp(name, "self")) {
        *out = (struct vref){ .b = VFS_NONE, .virt = V_SELF, .pid = v->pid };
        return 0;
    }
    if (bd == v->img->proc && parse_pid(name, &pid) && pid_exists(v, pid)) {
        *out = (struct vref){ .b = VFS_NONE, .virt = V_PIDDIR, .pid = pid };
        return 0;
    }
    return -ENOENT;
}

/* The target text of a symlink reference into out (size VFS_PATH_MAX). */
static int ref_target(struct sh_vfs *v, const struct vref *r, char *out)
{
    if (r->virt == V_SELF) {
        snprintf(out, VFS_PATH_MAX, "%u", r->pid);
        return 0;
    }
    if (r->virt == V_PIDFILE) {
        const char *n = pidfiles[r->sub].name;
        const struct hp_proc *pr = proc_find(v, r->pid);
        if (!strcmp(n, "exe")) {
            if (r->pid == v->pid || !pr)
                snprintf(out, VFS_PATH_MAX, "%s", v->p->busybox ? "/bin/busybox" : "/usr/bin/bash");
            else if (pr->cmd[0] == '[')
                return -ENOENT;
            else if (v->p->busybox && pr->cmd[0] != '/')
                snprintf(out, VFS_PATH_MAX, "/bin/busybox");
            else {
                const char *c = strstr(pr->cmd, ": /") ? strstr(pr->cmd, ": /") + 2 : pr->cmd;
                if (!strcmp(pr->comm, "systemd"))
                    c = "/usr/lib/systemd/systemd";
                snprintf(out, VFS_PATH_MAX, "%.*s", (int)strcspn(c, " "), c);
                if (!strncmp(out, "/lib/", 5) || !strncmp(out, "/sbin/", 6)) {
                    char t[VFS_PATH_MAX];
                    snprintf(t, sizeof(t), "/usr%s", out);
                    memcpy(out, t, VFS_PATH_MAX);
                }
            }
            return 0;
        }
        snprintf(out, VFS_PATH_MAX, "/");
        return 0;
    }
    if (r->oe && r->oe->target) {
        snprintf(out, VFS_PATH_MAX, "%s", r->oe->target);
        return 0;
    }
    uint32_t b = r->oe ? r->oe->cbase : r->b;
    if (b == VFS_NONE || v->img->n[b].kind != BK_LINK)
        return -EINVAL;
    snprintf(out, VFS_PATH_MAX, "%s", v->img->s + v->img->n[b].data);
    return 0;
}

static int ref_stat(struct sh_vfs *v, const struct vref *r, const char *path, struct sh_stat *st);

/* Permission bits for the session's user: want is a mask of 4, 2, 1. */
static int check_perm(const struct sh_vfs *v, const struct sh_stat *st, unsigned want)
{
    if (v->uid == 0) {
        if ((want & 1) && st->type != SH_FT_DIR && !(st->mode & 0111))
            return -EACCES;
        return 0;
    }
    unsigned bits = v->uid == st->uid ? st->mode >> 6 : v->gid == st->gid ? st->mode >> 3 : st->mode;
    return ((bits & 7) & want) == want ? 0 : -EACCES;
}

#define W_FOLLOW 1
#define W_PARENT 2

struct walk {
    struct vref ref;
    char path[VFS_PATH_MAX];      /* canonical path of ref */
    char last[VFS_NAME_MAX + 1];  /* W_PARENT: the final name ("" for "/") */
    bool slash;                   /* the path ended with '/' */
};

/* The root: the base's, with its overlay entry when it has one (chmod /). */
static struct vref root_of(const struct sh_vfs *v)
{
    struct vref r = { .b = 0 };
    r.oe = ovl_get(v->ov, "/");
    return r;
}

/* Re-resolve a canonical path (no links in it) without checks: for "..". */
static void walk_canon(struct sh_vfs *v, const char *canon, struct vref *r)
{
    char cur[VFS_PATH_MAX], child[VFS_PATH_MAX], name[VFS_NAME_MAX + 1];
    *r = root_of(v);
    snprintf(cur, sizeof(cur), "/");
    const char *s = canon;
    while (*s) {
        while (*s == '/')
            s++;
        size_t l = strcspn(s, "/");
        if (!l || l > VFS_NAME_MAX)
            break;
        memcpy(name, s, l);
        name[l] = '\0';
        struct vref c;
        if (lookup_child(v, r, cur, name, &c, child) < 0)
            break;
        *r = c;
        memcpy(cur, child, sizeof(cur));
        s += l;
    }
}

static int walk(struct sh_vfs *v, const char *path, int flags, struct walk *w)
{
    char rest[2 * VFS_PATH_MAX], name[VFS_NAME_MAX + 1], child[VFS_PATH_MAX];
    size_t pl = strlen(path);
    if (pl >= VFS_PATH_MAX)
        return -ENAMETOOLONG;
    if (pl == 0)
        return -ENOENT;
    memcpy(rest, path, pl + 1);
    w->ref = root_of(v);
    snprintf(w->path, sizeof(w->path), "/");
    w->last[0] = '\0';
    w->slash = pl > 0 && path[pl - 1] == '/';
    unsigned links = 0;
    size_t pos = 0;
    for (;;) {
        while (rest[pos] == '/')
            pos++;
        if (!rest[pos])
            break;
        size_t l = strcspn(rest + pos, "/");
        if (l > VFS_NAME_MAX)
            return -ENAMETOOLONG;
        memcpy(name, rest + pos, l);
        name[l] = '\0';
        size_t after = pos + l, q = after;
        while (rest[q] == '/')
            q++;
        bool last = rest[q] == '\0', slash = last && after != q;
        struct sh_stat dst;
        int r = ref_stat(v, &w->ref, w->path, &dst);
        if (r < 0)
            return r;
        if (dst.type != SH_FT_DIR)
            return -ENOTDIR;
        if (v->uid && (r = check_perm(v, &dst, 1)) < 0)
            return r;
        if ((flags & W_PARENT) && last) {
            memcpy(w->last, name, l + 1);
            return 0;
        }
        pos = after;
        if (!strcmp(name, "."))
            continue;
        if (!strcmp(name, "..")) {
            char *sl = strrchr(w->path, '/');
            if (sl && sl != w->path)
                *sl = '\0';
            else
                snprintf(w->path, sizeof(w->path), "/");
            walk_canon(v, w->path, &w->ref);
            continue;
        }
        struct vref c;
        if ((r = lookup_child(v, &w->ref, w->path, name, &c, child)) < 0)
            return r;
        if (ref_type(v, &c) == SH_FT_LNK && (!last || (flags & W_FOLLOW) || slash)) {
            char tg[VFS_PATH_MAX];
            if (++links > VFS_LINKS_MAX)
                return -ELOOP;
            if ((r = ref_target(v, &c, tg)) < 0)
                return r;
            size_t tl = strlen(tg), rl = strlen(rest + pos);
            if (tl == 0)
                return -ENOENT;
            if (tl + 1 + rl >= VFS_PATH_MAX)
                return -ENAMETOOLONG;
            memmove(rest + tl, rest + pos, rl + 1);
            memcpy(rest, tg, tl);
            pos = 0;
            if (tg[0] == '/') {
                w->ref = root_of(v);
                snprintf(w->path, sizeof(w->path), "/");
            }
            continue;
        }
        w->ref = c;
        memcpy(w->path, child, sizeof(w->path));
    }
    if (flags & W_PARENT) {
        w->last[0] = '\0';        /* "/" or a path of only "." and "..": no final name */
        return 0;
    }
    if (w->slash && ref_type(v, &w->ref) != SH_FT_DIR)
        return -ENOTDIR;
    return 0;
}

/* ---- attributes and contents ------------------------------------------------------------------- */

/* The mount a canonical path is on (the last, longest match). */
static const struct hp_mount *mount_of(const struct sh_vfs *v, const char *path)
{
    const struct hp_mount *ms, *best = NULL;
    size_t n = hp_persona_mounts(v->p, &ms), bl = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(ms[i].mountpoint);
        bool match = l == 1 ? true
                            : !strncmp(path, ms[i].mountpoint, l) && (path[l] == '/' || path[l] == '\0');
        if (match && l >= bl) {
            best = &ms[i];
            bl = l;
        }
    }
    return best;
}

enum fsk { FS_RW, FS_RO, FS_PROC, FS_SYS };

static enum fsk fs_kind(const struct sh_vfs *v, const char *path)
{
    const struct hp_mount *m = mount_of(v, path);
    if (!m)
        return FS_RW;
    if (!strcmp(m->type, "proc"))
        return FS_PROC;
    if (!strcmp(m->type, "sysfs"))
        return FS_SYS;
    return !strncmp(m->options, "ro", 2) && (m->options[2] == ',' || !m->options[2]) ? FS_RO : FS_RW;
}

/* A may-modify check for a canonical path: 0, -EROFS, or -EACCES (/proc, /sys). */
static int fs_writable(const struct sh_vfs *v, const char *path)
{
    switch (fs_kind(v, path)) {
    case FS_RO:
        return -EROFS;
    case FS_PROC:
    case FS_SYS:
        return -EACCES;
    default:
        return 0;
    }
}

static void gen_text(const struct sh_vfs *v, uint32_t b, struct hp_buf *out)
{
    hp_persona_gen(v->p, v->img->s + v->img->n[b].data, vfs_now(), out);
}

static void pid_text(struct sh_vfs *v, const struct vref *r, struct hp_buf *out)
{
    const struct hp_proc *pr = proc_find(v, r->pid);
    const char *n = pidfiles[r->sub].name;
    const char *comm = pr ? pr->comm : v->p->busybox ? "sh" : "bash";
    const char *cmd = pr ? pr->cmd : v->p->busybox ? "-sh" : "-bash";
    if (!strcmp(n, "cmdline")) {
        if (cmd[0] == '[')
            return;
        for (const char *c = cmd; *c; c++)
            hp_buf_putc(out, *c == ' ' ? '\0' : (uint8_t)*c);
        hp_buf_putc(out, '\0');
    } else if (!strcmp(n, "mounts")) {
        hp_persona_gen(v->p, "mounts", vfs_now(), out);
    } else if (!strcmp(n, "comm")) {
        hp_buf_printf(out, "%.15s\n", comm);
    } else if (!strcmp(n, "status")) {
        const char *st = pr ? pr->stat : "S";
        unsigned ppid = pr ? pr->ppid : 1;
        unsigned uid = pr && pr->user && strcmp(pr->user, "root") ? 100 : (pr ? 0 : v->uid);
        hp_buf_printf(out, "Name:\t%.15s\nUmask:\t0022\nState:\t%c (%s)\nTgid:\t%u\nNgid:\t0\nPid:\t%u\nPPid:\t%u\n"
                      "TracerPid:\t0\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nFDSize:\t64\nGroups:\t\n",
                      comm, st[0], st[0] == 'R' ? "running" : st[0] == 'I' ? "idle" : "sleeping", r->pid,
                      r->pid, ppid, uid, uid, uid, uid, uid, uid, uid, uid);
        if (pr && !pr->vsz_kb)
            return;
        hp_buf_printf(out, "VmPeak:\t%8llu kB\nVmSize:\t%8llu kB\nVmRSS:\t%8llu kB\nThreads:\t1\n",
                      (unsigned long long)(pr ? pr->vsz_kb + 200 : 7400), (unsigned long long)(pr ? pr->vsz_kb : 7200),
                      (unsigned long long)(pr ? pr->rss_kb : 4000));
    } else if (!strcmp(n, "stat")) {
        hp_buf_printf(out, "%u (%.15s) %c %u %u %u 0 -1 4194560 0 0 0 0 %llu 0 0 0 20 0 1 0 %llu %llu %llu\n",
                      r->pid, comm, pr ? pr->stat[0] : 'S', pr ? pr->ppid : 1, r->pid, r->pid,
                      (unsigned long long)(pr ? pr->cpu_ticks : 1),
                      (unsigned long long)(pr ? pr->start_uptime_s * 100 : hp_persona_uptime(v->p, vfs_now()) * 100),
                      (unsigned long long)(pr ? pr->vsz_kb * 1024 : 7200 * 1024),
                      (unsigned long long)(pr ? pr->rss_kb / 4 : 1000));
    }
}

/* A pseudo-random byte stream for program bodies: stable per node. */
static uint8_t elf_byte(uint64_t seed, uint64_t i)
{
    uint64_t x = (seed ^ (i >> 3)) * 0x9e3779b97f4a7c15ull;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 32;
    uint8_t b = (uint8_t)(x >> ((i & 7) * 8));
    return (i / 64) % 5 == 0 ? 0 : b;    /* stretches of zeros as in real code */
}

/* The ELF header of a program of this machine into h (64 bytes). */
static size_t elf_header(const struct hp_persona *p, uint64_t size, uint8_t h[64])
{
    memset(h, 0, 64);
    bool be = p->big_endian, is64 = p->elf_64;
#define P16(o, v) do { uint16_t _v = (uint16_t)(v); h[(o) + (be ? 1 : 0)] = (uint8_t)_v; h[(o) + (be ? 0 : 1)] = (uint8_t)(_v >> 8); } while (0)
#define P32(o, v) do { uint32_t _v = (uint32_t)(v); for (int _i = 0; _i < 4; _i++) h[(o) + (be ? 3 - _i : _i)] = (uint8_t)(_v >> (8 * _i)); } while (0)
    h[0] = 0x7f, h[1] = 'E', h[2] = 'L', h[3] = 'F';
    h[4] = is64 ? 2 : 1;
    h[5] = be ? 2 : 1;
    h[6] = 1;
    P16(16, is64 ? 3 : 2);        /* Debian builds PIE (DYN); firmware EXEC */
    P16(18, p->elf_machine);
    P32(20, 1);
    if (is64) {
        P32(24, 0x6ab0);          /* e_entry (low half) */
        P32(32, 64);              /* e_phoff */
        P32(40, (uint32_t)(size > 2048 ? size - 2048 : 0));
        P16(52, 64);
        P16(54, 56);
        P16(56, 13);
        P16(58, 64);
        P16(60, 30);
        P16(62, 29);
        return 64;
    }
    P32(24, p->elf_machine == 8 ? 0x400630 : 0x8c70);
    P32(28, 52);
    P32(32, (uint32_t)(size > 1200 ? size - 1200 : 0));
    P32(36, p->elf_machine == 40 ? 0x05000002u : 0x70001007u);
    P16(40, 52);
    P16(42, 32);
    P16(44, p->elf_machine == 40 ? 8 : 7);
    P16(46, 40);
    P16(48, 27);
    P16(50, 26);
#undef P16
#undef P32
    return 52;
}

/* Contents of a base node into out from off, at most max bytes (0: all). */
static void base_read(struct sh_vfs *v, uint32_t b, const char *path, uint64_t off, size_t max, struct hp_buf *out)
{
    const struct bnode *n = &v->img->n[b];
    if (n->kind == BK_DATA || n->kind == BK_GEN) {
        struct hp_buf g;
        const uint8_t *d = (const uint8_t *)v->img->s + n->data;
        size_t len = n->len;
        if (n->kind == BK_GEN) {
            hp_buf_init(&g, 1 << 20);
            gen_text(v, b, &g);
            d = g.data;
            len = g.len;
        }
        if (off < len) {
            size_t k = len - (size_t)off;
            hp_buf_put(out, d + off, max && max < k ? max : k);
        }
        if (n->kind == BK_GEN)
            hp_buf_free(&g);
        return;
    }
    if (n->kind == BK_EXEC) {
        uint8_t h[64];
        size_t hl = elf_header(v->p, n->size, h);
        uint64_t seed = path_hash(path);
        uint64_t end = max && off + max < n->size ? off + max : n->size;
        for (uint64_t i = off; i < end && hp_buf_ok(out); i++)
            hp_buf_putc(out, i < hl ? h[i] : elf_byte(seed, i));
        return;
    }
    if (n->kind == BK_DEV && n->type == SH_FT_CHR && n->major == 1) {
        size_t want = max && max < SH_VFS_READ_MAX ? max : SH_VFS_READ_MAX;
        if (n->minor == 5 && hp_buf_reserve(out, want)) {
            memset(out->data + out->len, 0, want);
            out->len += want;
        } else if ((n->minor == 8 || n->minor == 9) && hp_buf_reserve(out, want)) {
            hp_random_bytes(out->data + out->len, want);
            out->len += want;
        }
    }
}

static uint64_t ref_size(struct sh_vfs *v, const struct vref *r, const char *path, uint8_t type)
{
    if (type == SH_FT_DIR)
        return 4096;
    if (r->virt == V_SELF)
        return 0;
    if (r->virt)
        return 0;
    if (r->oe && r->oe->owned)
        return r->oe->len;
    if (r->oe && r->oe->target)
        return strlen(r->oe->target);
    uint32_t b = r->oe ? r->oe->cbase : r->b;
    if (b == VFS_NONE)
        return 0;
    const struct bnode *n = &v->img->n[b];
    switch (n->kind) {
    case BK_DATA:
    case BK_LINK:
        return n->len;
    case BK_EXEC:
        return n->size;
    case BK_GEN: {
        enum fsk k = fs_kind(v, path);
        if (k == FS_PROC)
            return 0;
        if (k == FS_SYS)
            return 4096;
        struct hp_buf g;
        hp_buf_init(&g, 1 << 20);
        gen_text(v, b, &g);
        uint64_t s = g.len;
        hp_buf_free(&g);
        return s;
    }
    default:
        return 0;
    }
}

static int ref_stat(struct sh_vfs *v, const struct vref *r, const char *path, struct sh_stat *st)
{
    memset(st, 0, sizeof(*st));
    st->ino = 2 + path_hash(path) % 4000000;
    if (!strcmp(path, "/"))
        st->ino = 2;
    st->nlink = 1;
    if (r->virt) {
        st->type = ref_type(v, r);
        st->mode = r->virt == V_PIDDIR ? 0555 : r->virt == V_SELF ? 0777 : pidfiles[r->sub].mode;
        const struct hp_proc *pr = proc_find(v, r->pid);
        if (r->pid == v->pid || !pr) {
            st->uid = v->uid;
            st->gid = v->gid;
            st->mtime = vfs_now();
        } else {
            st->uid = st->gid = pr->user && strcmp(pr->user, "root") ? 100 : 0;
            st->mtime = v->p->boot_time + (int64_t)pr->start_uptime_s;
        }
        st->nlink = st->type == SH_FT_DIR ? 9 : 1;
        return 0;
    }
    const struct bnode *n = r->oe ? (r->oe->under != VFS_NONE ? &v->img->n[r->oe->under] : NULL) : &v->img->n[r->b];
    if (r->oe) {
        const struct oent *e = r->oe;
        st->type = e->type;
        st->mode = e->mode;
        st->uid = e->uid;
        st->gid = e->gid;
        st->mtime = e->mtime;
        if (!e->owned && e->cbase != VFS_NONE) {
            const struct bnode *c = &v->img->n[e->cbase];
            st->rdev_major = c->major;
            st->rdev_minor = c->minor;
            if (c->kind == BK_EXEC && v->img->s[c->data])
                st->applet = v->img->s + c->data;
        }
    } else {
        st->type = n->type;
        st->mode = n->mode;
        st->uid = n->uid;
        st->gid = n->gid;
        st->rdev_major = n->major;
        st->rdev_minor = n->minor;
        if (n->vol)
            st->mtime = v->p->boot_time + (int64_t)(path_hash(path) % 40);
        else
            st->mtime = v->img->mtime - (n->kind == BK_EXEC ? (int64_t)(path_hash(path) % (86400 * 300)) : 0);
        if (n->kind == BK_EXEC && v->img->s[n->data])
            st->applet = v->img->s + n->data;
    }
    if (st->type == SH_FT_DIR) {
        uint32_t bd = ref_basedir(r);
        st->nlink = 2;
        if (bd != VFS_NONE)
            for (uint32_t i = 0; i < v->img->n[bd].nkids; i++)
                st->nlink += v->img->n[v->img->kids[v->img->n[bd].kids + i]].kind == BK_DIR;
    }
    st->size = ref_size(v, r, path, (uint8_t)st->type);
    return 0;
}

/* walk() to path and stat what it reaches. */
static int walk_stat(struct sh_vfs *v, const char *path, int flags, struct walk *w, struct sh_stat *st)
{
    int r = walk(v, path, flags, w);
    return r < 0 ? r : ref_stat(v, &w->ref, w->path, st);
}

/* ---- sessions: open and close ---------------------------------------------------------------------- */

static void capture_entry(struct sh_vfs *v, struct oent *e)
{
    if (!e->dirty)
        return;
    e->dirty = false;
    if (v->capture && e->owned && e->len)
        v->capture(v->capture_arg, e->path, e->data, e->len);
}

static void capture_all(struct sh_vfs *v)
{
    struct overlay *o = v->ov;
    for (size_t i = 0; i < o->cap; i++)
        if (o->tab[i] && o->tab[i]->dirty)
            capture_entry(v, o->tab[i]);
}

static struct overlay *ovl_open(const struct image *img, const char *persona, const char *source)
{
    size_t pl = strlen(persona), sl = source ? strnlen(source, 256) : 0;
    if (source) {
        ovl_expire();
        for (struct overlay *o = ovls.head; o; o = o->next) {
            if (o->img == img && !strcmp(o->key, persona) && !strncmp(o->key + pl + 1, source, sl) &&
                o->key[pl + 1 + sl] == '\0') {
                ovl_unlink_list(o);
                ovl_push_front(o);
                o->refs++;
                return o;
            }
        }
        while (ovls.count >= SH_VFS_SOURCES_MAX) {
            size_t before = ovls.count;
            ovl_evict_idle(NULL);
            if (ovls.count == before)
                break;
        }
    }
    struct overlay *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->key = malloc(pl + sl + 2);
    if (!o->key) {
        free(o);
        return NULL;
    }
    memcpy(o->key, persona, pl + 1);
    memcpy(o->key + pl + 1, source ? source : "", sl);
    o->key[pl + 1 + sl] = '\0';
    o->img = img;
    o->refs = 1;
    o->bytes = sizeof(*o) + pl + sl + 2;
    if (source)
        ovl_push_front(o);
    return o;
}

static int do_mkdir(struct sh_vfs *v, const char *path, unsigned mode, bool check);

/* Field f (0-based) of a passwd line, copied into out. */
static bool pw_field(const char *line, size_t len, unsigned f, char *out, size_t outlen)
{
    size_t i = 0;
    for (unsigned k = 0; k < f; k++) {
        const char *c = memchr(line + i, ':', len - i);
        if (!c)
            return false;
        i = (size_t)(c - line) + 1;
    }
    const char *c = memchr(line + i, ':', len - i);
    size_t n = c ? (size_t)(c - line) - i : len - i;
    if (n >= outlen)
        return false;
    memcpy(out, line + i, n);
    out[n] = '\0';
    return true;
}

/*
 * The session's user as the machine knows it: from /etc/passwd when the
 * name is there; otherwise (a honeypot accepts names no real box has) the
 * account is added to /etc/passwd and /etc/group with the next free uid, as
 * useradd would have done, so that id, ls -l and ~ agree.  These writes are
 * the machine's own (SH_O_SYSTEM): never captured as the attacker's files.
 */
static void login_user(struct sh_vfs *v, const char *user, const char *home)
{
    struct hp_buf b;
    hp_buf_init(&b, 1u << 20);
    unsigned want_uid = v->uid, next = 1000;
    v->uid = 0;
    sh_vfs_read(v, "/etc/passwd", 0, 0, &b);
    bool found = false;
    for (size_t i = 0; i < b.len && !found;) {
        const char *line = (const char *)b.data + i;
        const char *nl = memchr(line, '\n', b.len - i);
        size_t n = nl ? (size_t)(nl - line) : b.len - i;
        char name[64], uid[16], gid[16], dir[256];
        if (pw_field(line, n, 0, name, sizeof(name)) && pw_field(line, n, 2, uid, sizeof(uid)) &&
            pw_field(line, n, 3, gid, sizeof(gid)) && pw_field(line, n, 5, dir, sizeof(dir))) {
            unsigned u = (unsigned)strtoul(uid, NULL, 10);
            if (strcmp(name, user) == 0) {
                want_uid = u;
                v->gid = (unsigned)strtoul(gid, NULL, 10);
                snprintf(v->home, sizeof(v->home), "%s", dir);
                found = true;
            } else if (u >= next && u < 60000) {
                next = u + 1;
            }
        }
        i += n + 1;
    }
    if (!found && want_uid != 0) {
        char line[512];
        want_uid = v->gid = next;
        snprintf(v->home, sizeof(v->home), "%s", home ? home : "/");
        int n = snprintf(line, sizeof(line), "%s:x:%u:%u:,,,:%s:%s\n", user, next, next, v->home,
                         v->p->busybox ? "/bin/sh" : "/bin/bash");
        if (n > 0 && (size_t)n < sizeof(line))
            sh_vfs_write(v, "/etc/passwd", line, (size_t)n, SH_O_APPEND | SH_O_SYSTEM, 0644);
        n = snprintf(line, sizeof(line), "%s:x:%u:\n", user, next);
        if (n > 0 && (size_t)n < sizeof(line))
            sh_vfs_write(v, "/etc/group", line, (size_t)n, SH_O_APPEND | SH_O_SYSTEM, 0644);
    }
    v->uid = want_uid;
    hp_buf_free(&b);
}

int sh_vfs_whoami(struct sh_vfs *v, unsigned *uid, unsigned *gid, char *home, size_t homelen)
{
    *uid = v->uid;
    *gid = v->gid;
    snprintf(home, homelen, "%s", v->home[0] ? v->home : v->uid ? "/" : "/root");
    return 0;
}

struct sh_vfs *sh_vfs_open(const struct sh_vfs_params *prm)
{
    const struct hp_persona *p = prm && prm->persona ? prm->persona : hp_persona_get("debian");
    struct image *img = p ? img_get(p) : NULL;
    if (!img)
        return NULL;
    struct sh_vfs *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->p = p;
    v->img = img;
    v->uid = prm ? prm->uid : 0;
    v->gid = prm ? prm->gid : 0;
    v->capture = prm ? prm->capture : NULL;
    v->capture_arg = prm ? prm->capture_arg : NULL;
    const struct hp_proc *ps;
    size_t n = hp_persona_procs(p, &ps);
    v->pid = prm && prm->shell_pid ? prm->shell_pid
                                   : (n ? ps[n - 1].pid : 300) + 400 + (unsigned)(p->seed % 1500);
    v->ov = ovl_open(img, p->name, prm ? prm->source : NULL);
    if (!v->ov) {
        free(v);
        return NULL;
    }
    if (prm && prm->user && strcmp(prm->user, "root") != 0)
        login_user(v, prm->user, prm->home);
    else if (v->uid == 0)
        snprintf(v->home, sizeof(v->home), "%s", "/root");
    if (v->uid && v->home[0] == '/') {
        struct sh_stat st;
        if (sh_vfs_stat(v, v->home, true, &st) == -ENOENT && do_mkdir(v, v->home, 0755, false) == 0) {
            struct walk w;
            if (walk(v, v->home, 0, &w) == 0 && w.ref.oe) {
                w.ref.oe->uid = v->uid;
                w.ref.oe->gid = v->gid;
            }
        }
    }
    return v;
}

void sh_vfs_close(struct sh_vfs *v)
{
    if (!v)
        return;
    capture_all(v);
    struct overlay *o = v->ov;
    if (o->refs)
        o->refs--;
    if (o->refs == 0) {
        o->idle_since = vfs_now();
        if (!o->kept)
            ovl_destroy(o);
        else
            ovl_expire();
    }
    free(v);
}

/* ---- path operations -------------------------------------------------------------------------------- */

int sh_vfs_abspath(const char *cwd, const char *path, char *out, size_t outlen)
{
    char buf[VFS_PATH_MAX];
    size_t n = 0;
    if (!path || !out || outlen == 0)
        return -EINVAL;
    const char *parts[2] = { path[0] == '/' ? "" : (cwd ? cwd : "/"), path };
    buf[0] = '\0';
    for (int pi = 0; pi < 2; pi++) {
        const char *s = parts[pi];
        while (*s) {
            while (*s == '/')
                s++;
            if (!*s)
                break;
            size_t l = strcspn(s, "/");
            if (l == 1 && s[0] == '.') {
                /* nothing */
            } else if (l == 2 && s[0] == '.' && s[1] == '.') {
                while (n > 0 && buf[n - 1] != '/')
                    n--;
                if (n > 0)
                    n--;
            } else {
                if (n + 1 + l >= sizeof(buf))
                    return -ENAMETOOLONG;
                buf[n++] = '/';
                memcpy(buf + n, s, l);
                n += l;
            }
            s += l;
        }
    }
    if (n == 0)
        buf[n++] = '/';
    if (n >= outlen)
        return -ENAMETOOLONG;
    memcpy(out, buf, n);
    out[n] = '\0';
    return 0;
}

int sh_vfs_realpath(struct sh_vfs *v, const char *path, char *out, size_t outlen)
{
    struct walk w;
    int r = walk(v, path, W_FOLLOW, &w);
    if (r < 0)
        return r;
    size_t l = strlen(w.path);
    if (l >= outlen)
        return -ENAMETOOLONG;
    memcpy(out, w.path, l + 1);
    return 0;
}

int sh_vfs_stat(struct sh_vfs *v, const char *path, bool follow, struct sh_stat *st)
{
    struct walk w;
    int r = walk(v, path, follow ? W_FOLLOW : 0, &w);
    if (r < 0)
        return r;
    r = ref_stat(v, &w.ref, w.path, st);
    /* busybox: /bin/ls -> busybox runs as "ls" (argv[0] dispatch) */
    if (r == 0 && follow && st->applet && !strcmp(st->applet, "busybox")) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        for (const char *const *a = hp_persona_applets(v->p); *a; a++)
            if (!strcmp(*a, base))
                st->applet = *a;
    }
    return r;
}

int sh_vfs_access(struct sh_vfs *v, const char *path, unsigned mode)
{
    struct sh_stat st;
    struct walk w;
    int r = walk_stat(v, path, W_FOLLOW, &w, &st);
    if (r < 0)
        return r;
    if ((mode & 2) && st.type != SH_FT_CHR && (r = fs_writable(v, w.path)) < 0)
        return r == -EACCES && v->uid == 0 && st.type == SH_FT_DIR ? 0 : r;
    return check_perm(v, &st, mode & 7);
}

/* ---- reading ---------------------------------------------------------------------------------------- */

long sh_vfs_read(struct sh_vfs *v, const char *path, uint64_t off, size_t max, struct hp_buf *out)
{
    struct walk w;
    struct sh_stat st;
    int r = walk_stat(v, path, W_FOLLOW, &w, &st);
    if (r < 0)
        return r;
    if (st.type == SH_FT_DIR)
        return -EISDIR;
    if ((r = check_perm(v, &st, 4)) < 0)
        return r;
    size_t before = out->len;
    if (w.ref.virt == V_PIDFILE) {
        struct hp_buf t;
        hp_buf_init(&t, 1 << 16);
        pid_text(v, &w.ref, &t);
        if (off < t.len) {
            size_t k = t.len - (size_t)off;
            hp_buf_put(out, t.data + off, max && max < k ? max : k);
        }
        hp_buf_free(&t);
    } else if (w.ref.oe && w.ref.oe->owned) {
        const struct oent *e = w.ref.oe;
        if (off < e->len) {
            size_t k = e->len - (size_t)off;
            hp_buf_put(out, e->data + off, max && max < k ? max : k);
        }
    } else {
        uint32_t b = w.ref.oe ? w.ref.oe->cbase : w.ref.b;
        if (b != VFS_NONE)
            base_read(v, b, w.path, off, max, out);
    }
    return (long)(out->len - before);
}

/* ---- changing ---------------------------------------------------------------------------------------- */

/* The overlay entry for the object at ref (made from the base object when
 * it has none): attributes are copied, contents stay in the base. */
static struct oent *own_entry(struct sh_vfs *v, struct walk *w, int *err)
{
    if (!w->ref.oe && !w->ref.virt)
        w->ref.oe = ovl_get(v->ov, w->path);  /* never two entries for one path */
    if (w->ref.oe)
        return w->ref.oe;
    if (w->ref.virt) {
        *err = -EPERM;
        return NULL;
    }
    const struct bnode *n = &v->img->n[w->ref.b];
    struct sh_stat st;
    ref_stat(v, &w->ref, w->path, &st);
    struct oent *e = ovl_add(v->ov, w->path, err);
    if (!e)
        return NULL;
    e->type = n->type;
    e->mode = n->mode;
    e->uid = n->uid;
    e->gid = n->gid;
    e->mtime = st.mtime;
    e->under = w->ref.b;
    e->cbase = w->ref.b;
    w->ref.oe = e;
    return e;
}

/* Make the file's bytes owned by its entry (copy on write). */
static int materialize(struct sh_vfs *v, struct oent *e, bool keep)
{
    if (e->owned)
        return 0;
    struct hp_buf b;
    hp_buf_init(&b, SH_VFS_FILE_MAX);
    if (keep && e->cbase != VFS_NONE)
        base_read(v, e->cbase, e->path, 0, 0, &b);
    int r = ovl_room(v->ov, b.len);
    if (r < 0 || !hp_buf_ok(&b)) {
        hp_buf_free(&b);
        return r < 0 ? r : -ENOSPC;
    }
    e->data = b.data;             /* the buffer's memory is handed over */
    e->len = b.len;
    e->owned = true;
    e->cbase = VFS_NONE;
    ovl_account(v->ov, (int64_t)e->len);
    return 0;
}

/* A new object at w->path/w->last in the overlay; reuses a whiteout there. */
static struct oent *create_entry(struct sh_vfs *v, const char *path, uint8_t type, unsigned mode, int *err)
{
    struct oent *e = ovl_get(v->ov, path);
    uint32_t under = VFS_NONE;
    if (e) {
        if (!e->whiteout) {
            *err = -EEXIST;
            return NULL;
        }
        under = e->under;
        ovl_del(v->ov, e);
    }
    e = ovl_add(v->ov, path, err);
    if (!e)
        return NULL;
    e->type = type;
    e->mode = mode & 07777;
    e->uid = v->uid;
    e->gid = v->gid;
    e->mtime = vfs_now();
    e->under = under;
    e->opaque = true;
    e->owned = type == SH_FT_REG;
    return e;
}

/* Undo create_entry after a later failure: what was there (a whiteout) stays. */
static void drop_new(struct sh_vfs *v, struct oent *e)
{
    if (e->under == VFS_NONE) {
        ovl_del(v->ov, e);
        return;
    }
    ovl_account(v->ov, -(int64_t)(e->len + (e->target ? strlen(e->target) + 1 : 0)));
    free(e->data);
    free(e->target);
    e->data = NULL;
    e->target = NULL;
    e->len = 0;
    e->owned = e->dirty = e->opaque = false;
    e->cbase = VFS_NONE;
    e->whiteout = true;
}

/* Checks to add or remove a name in the directory w->ref (at w->path). */
static int dir_modifiable(struct sh_vfs *v, struct walk *w)
{
    struct sh_stat dst;
    int r = ref_stat(v, &w->ref, w->path, &dst);
    if (r < 0)
        return r;
    if (dst.type != SH_FT_DIR)
        return -ENOTDIR;
    if ((r = fs_writable(v, w->path)) < 0)
        return r;
    if (w->ref.virt)
        return -EACCES;
    return check_perm(v, &dst, 3);
}

/* Sticky directories: only the owner of a file (or of the directory) removes it. */
static int sticky_ok(struct sh_vfs *v, struct walk *dir, const struct sh_stat *st)
{
    struct sh_stat dst;
    if (v->uid == 0 || ref_stat(v, &dir->ref, dir->path, &dst) < 0 || !(dst.mode & 01000))
        return 0;
    return st->uid == v->uid || dst.uid == v->uid ? 0 : -EPERM;
}

static int write_dev(const struct sh_stat *st)
{
    (void)st;
    return 0;                     /* null, zero, tty, console, watchdog: swallowed */
}

long sh_vfs_write(struct sh_vfs *v, const char *path, const void *data, size_t len, int flags, unsigned mode)
{
    struct walk w;
    char cur[VFS_PATH_MAX];
    int r;
    if (strlen(path) >= VFS_PATH_MAX)
        return -ENAMETOOLONG;
    snprintf(cur, sizeof(cur), "%s", path);
    for (unsigned hops = 0;; hops++) {
        r = walk(v, cur, W_FOLLOW, &w);
        if (r != -ENOENT || !(flags & SH_O_CREAT))
            break;
        /* Create: the parent must exist; a dangling symlink creates its target. */
        struct walk pw;
        if ((r = walk(v, cur, W_PARENT, &pw)) < 0)
            return r;
        if (!pw.last[0] || !strcmp(pw.last, ".") || !strcmp(pw.last, ".."))
            return -EISDIR;
        if (pw.slash)
            return -EISDIR;
        struct vref c;
        char child[VFS_PATH_MAX], tg[VFS_PATH_MAX];
        if (lookup_child(v, &pw.ref, pw.path, pw.last, &c, child) == 0 && ref_type(v, &c) == SH_FT_LNK) {
            if (hops >= VFS_LINKS_MAX)
                return -ELOOP;
            if ((r = ref_target(v, &c, tg)) < 0)
                return r;
            char np[VFS_PATH_MAX];
            if (tg[0] == '/')
                snprintf(np, sizeof(np), "%s", tg);
            else if (join(np, pw.path, tg) < 0)
                return -ENAMETOOLONG;
            memcpy(cur, np, sizeof(cur));
            continue;
        }
        if (!(flags & SH_O_SYSTEM) && (r = dir_modifiable(v, &pw)) < 0)
            return r == -EACCES && fs_kind(v, pw.path) == FS_PROC ? -ENOENT : r;
        if (len > SH_VFS_FILE_MAX)
            return -ENOSPC;
        if ((r = ovl_room(v->ov, len)) < 0)
            return r;
        struct oent *e = create_entry(v, child, SH_FT_REG, mode, &r);
        if (!e)
            return r;
        if (len) {
            e->data = malloc(len);
            if (!e->data) {
                drop_new(v, e);
                return -ENOSPC;
            }
            memcpy(e->data, data, len);
            e->len = len;
            ovl_account(v->ov, (int64_t)len);
        }
        e->dirty = !(flags & (SH_O_SYSTEM | SH_O_FETCHED));
        return (long)len;
    }
    if (r < 0)
        return r;
    if ((flags & SH_O_EXCL) && (flags & SH_O_CREAT))
        return -EEXIST;
    struct sh_stat st;
    if ((r = ref_stat(v, &w.ref, w.path, &st)) < 0)
        return r;
    if (st.type == SH_FT_DIR)
        return -EISDIR;
    if (st.type == SH_FT_CHR || st.type == SH_FT_BLK) {
        if ((r = check_perm(v, &st, 2)) < 0)
            return r;
        return write_dev(&st) < 0 ? -EIO : (long)len;
    }
    if (!(flags & SH_O_SYSTEM) && (r = fs_writable(v, w.path)) < 0)
        return r;
    if ((r = check_perm(v, &st, 2)) < 0)
        return r;
    struct oent *e = own_entry(v, &w, &r);
    if (!e)
        return r;
    bool trunc = flags & SH_O_TRUNC;
    if ((r = materialize(v, e, !trunc)) < 0)
        return r;
    size_t start = trunc ? 0 : (flags & SH_O_APPEND) ? e->len : 0;
    size_t newlen = trunc ? len : start + len > e->len ? start + len : e->len;
    if (newlen > SH_VFS_FILE_MAX)
        return -ENOSPC;
    size_t oldlen = e->len;
    if (newlen > oldlen && (r = ovl_room(v->ov, newlen - oldlen)) < 0)
        return r;
    if (trunc && e->dirty)
        capture_entry(v, e);          /* overwritten while dirty: keep what it was */
    if (newlen > oldlen || !e->data) {
        uint8_t *nd = realloc(e->data, newlen ? newlen : 1);
        if (!nd)
            return -ENOSPC;
        e->data = nd;
    }
    if (len)
        memcpy(e->data + start, data, len);
    e->len = newlen;
    ovl_account(v->ov, (int64_t)newlen - (int64_t)oldlen);
    e->mtime = vfs_now();
    if ((len || trunc) && !(flags & SH_O_SYSTEM))
        e->dirty = !(trunc && (flags & SH_O_FETCHED));
    return (long)len;
}

static int do_mkdir(struct sh_vfs *v, const char *path, unsigned mode, bool check)
{
    struct walk w;
    int r = walk(v, path, W_PARENT, &w);
    if (r < 0)
        return r;
    if (!w.last[0] || !strcmp(w.last, ".") || !strcmp(w.last, ".."))
        return -EEXIST;
    struct vref c;
    char child[VFS_PATH_MAX];
    if ((r = lookup_child(v, &w.ref, w.path, w.last, &c, child)) == 0)
        return -EEXIST;
    if (r != -ENOENT)
        return r;
    if (check && (r = dir_modifiable(v, &w)) < 0)
        return r == -EACCES && fs_kind(v, w.path) == FS_PROC ? -ENOENT : r;
    struct oent *e = create_entry(v, child, SH_FT_DIR, mode, &r);
    return e ? 0 : r;
}

int sh_vfs_mkdir(struct sh_vfs *v, const char *path, unsigned mode)
{
    return do_mkdir(v, path, mode, true);
}

/* Forget the object at path: a whiteout when the base has an entry there. */
static int remove_entry(struct sh_vfs *v, const char *path, const struct vref *ref)
{
    struct oent *e = ref->oe;
    uint32_t under = e ? e->under : ref->b;
    if (e) {
        capture_entry(v, e);
        drop_new(v, e);
        return 0;
    }
    int r;
    e = ovl_add(v->ov, path, &r);
    if (!e)
        return r;
    e->whiteout = true;
    e->under = under;
    return 0;
}

/* Is the directory at ref empty? */
static bool dir_empty(struct sh_vfs *v, const struct vref *ref, const char *path);

static int remove_common(struct sh_vfs *v, const char *path, bool dir)
{
    struct walk w;
    int r = walk(v, path, W_PARENT, &w);
    if (r < 0)
        return r;
    if (!w.last[0])
        return dir ? -EBUSY : -EISDIR;
    if (!strcmp(w.last, "."))
        return dir ? -EINVAL : -EISDIR;
    if (!strcmp(w.last, ".."))
        return dir ? -ENOTEMPTY : -EISDIR;
    struct vref c;
    char child[VFS_PATH_MAX];
    if ((r = lookup_child(v, &w.ref, w.path, w.last, &c, child)) < 0)
        return r;
    struct sh_stat st;
    if ((r = ref_stat(v, &c, child, &st)) < 0)
        return r;
    if (dir && st.type != SH_FT_DIR)
        return -ENOTDIR;
    if (!dir && st.type == SH_FT_DIR)
        return -EISDIR;
    enum fsk k = fs_kind(v, w.path);
    if (k == FS_PROC || k == FS_SYS || c.virt)
        return -EPERM;
    if ((r = dir_modifiable(v, &w)) < 0)
        return r;
    if ((r = sticky_ok(v, &w, &st)) < 0)
        return r;
    if (dir) {
        const struct hp_mount *ms;
        size_t n = hp_persona_mounts(v->p, &ms);
        for (size_t i = 0; i < n; i++)
            if (!strcmp(ms[i].mountpoint, child))
                return -EBUSY;
    }
    if (dir && !dir_empty(v, &c, child))
        return -ENOTEMPTY;
    return remove_entry(v, child, &c);
}

int sh_vfs_rmdir(struct sh_vfs *v, const char *path)
{
    return remove_common(v, path, true);
}

int sh_vfs_unlink(struct sh_vfs *v, const char *path)
{
    return remove_common(v, path, false);
}

/* ---- listing ---------------------------------------------------------------------------------------- */

struct dent {
    const char *name;
    struct vref ref;
};

static int dent_cmp(const void *a, const void *b)
{
    return strcmp(((const struct dent *)a)->name, ((const struct dent *)b)->name);
}

/* Every visible entry of a directory, sorted; *names holds pid names. */
static long collect(struct sh_vfs *v, const struct vref *dir, const char *path, struct dent **out, char **pidnames)
{
    size_t cap = 16, n = 0;
    struct dent *d = malloc(cap * sizeof(*d));
    *pidnames = NULL;
    if (!d)
        return -ENOMEM;
#define DADD(nm, rf) do { if (n == cap) { struct dent *nd_ = realloc(d, cap * 2 * sizeof(*d)); \
        if (!nd_) { free(d); return -ENOMEM; } d = nd_; cap *= 2; } d[n].name = (nm); d[n].ref = (rf); n++; } while (0)
    if (dir->virt == V_PIDDIR) {
        for (size_t i = 0; i < HP_ARRAY_LEN(pidfiles); i++)
            DADD(pidfiles[i].name, ((struct vref){ .b = VFS_NONE, .virt = V_PIDFILE, .sub = (uint8_t)i, .pid = dir->pid }));
    } else if (!dir->virt) {
        struct overlay *o = v->ov;
        size_t pl = strlen(path);
        size_t plen = pl == 1 ? 0 : pl;
        for (size_t i = 0; i < o->cap; i++) {
            struct oent *e = o->tab[i];
            if (!e || e->whiteout || strncmp(e->path, path, plen) || e->path[plen] != '/' ||
                strchr(e->path + plen + 1, '/') || !e->path[plen + 1])
                continue;
            DADD(e->path + plen + 1, ((struct vref){ .b = VFS_NONE, .oe = e }));
        }
        uint32_t bd = ref_basedir(dir);
        if (bd != VFS_NONE) {
            const struct bnode *bn = &v->img->n[bd];
            char child[VFS_PATH_MAX];
            for (uint32_t i = 0; i < bn->nkids; i++) {
                uint32_t k = v->img->kids[bn->kids + i];
                if (join(child, path, bname(v->img, k)) < 0 || ovl_get(o, child))
                    continue;     /* shown from the overlay, or removed */
                DADD(bname(v->img, k), ((struct vref){ .b = k }));
            }
            if (bd == v->img->proc) {
                const struct hp_proc *ps;
                size_t np = hp_persona_procs(v->p, &ps);
                char *names = calloc(np + 1, 12);
                if (!names) {
                    free(d);
                    return -ENOMEM;
                }
                *pidnames = names;
                DADD("self", ((struct vref){ .b = VFS_NONE, .virt = V_SELF, .pid = v->pid }));
                for (size_t i = 0; i <= np; i++) {
                    unsigned pid = i < np ? ps[i].pid : v->pid;
                    if (i == np && proc_find(v, pid))
                        break;
                    snprintf(names + i * 12, 12, "%u", pid);
                    DADD(names + i * 12, ((struct vref){ .b = VFS_NONE, .virt = V_PIDDIR, .pid = pid }));
                }
            }
        }
    }
#undef DADD
    qsort(d, n, sizeof(*d), dent_cmp);
    *out = d;
    return (long)n;
}

static bool dir_empty(struct sh_vfs *v, const struct vref *ref, const char *path)
{
    struct dent *d;
    char *pn;
    long n = collect(v, ref, path, &d, &pn);
    if (n < 0)
        return false;
    free(d);
    free(pn);
    return n == 0;
}

long sh_vfs_list(struct sh_vfs *v, const char *path, sh_vfs_dir_fn fn, void *arg)
{
    struct walk w;
    struct sh_stat st;
    int r = walk_stat(v, path, W_FOLLOW, &w, &st);
    if (r < 0)
        return r;
    if (st.type != SH_FT_DIR)
        return -ENOTDIR;
    if ((r = check_perm(v, &st, 4)) < 0)
        return r;
    struct dent *d;
    char *pn;
    long n = collect(v, &w.ref, w.path, &d, &pn);
    if (n < 0)
        return n;
    char child[VFS_PATH_MAX];
    for (long i = 0; i < n; i++) {
        struct sh_stat cs;
        if (join(child, w.path, d[i].name) < 0 || ref_stat(v, &d[i].ref, child, &cs) < 0)
            continue;
        if (fn && fn(arg, d[i].name, &cs))
            break;
    }
    free(d);
    free(pn);
    return n;
}

/* ---- links, renames, attributes ----------------------------------------------------------------------- */

int sh_vfs_readlink(struct sh_vfs *v, const char *path, char *out, size_t outlen)
{
    struct walk w;
    int r = walk(v, path, 0, &w);
    if (r < 0)
        return r;
    if (ref_type(v, &w.ref) != SH_FT_LNK)
        return -EINVAL;
    char tg[VFS_PATH_MAX];
    if ((r = ref_target(v, &w.ref, tg)) < 0)
        return r;
    if (!out || outlen == 0)
        return -EINVAL;
    size_t l = strlen(tg);
    if (l >= outlen)
        l = outlen - 1;
    memcpy(out, tg, l);
    out[l] = '\0';
    return (int)l;
}

/* Parent walk + checks for making a new name; child gets the new path. */
static int new_name_chk(struct sh_vfs *v, const char *path, struct walk *w, char *child, bool check);

static int new_name(struct sh_vfs *v, const char *path, struct walk *w, char *child)
{
    return new_name_chk(v, path, w, child, true);
}

/* check false: the machine's own change (sh_vfs_symlink_system), no mount or permission check. */
static int new_name_chk(struct sh_vfs *v, const char *path, struct walk *w, char *child, bool check)
{
    int r = walk(v, path, W_PARENT, w);
    if (r < 0)
        return r;
    if (!w->last[0] || !strcmp(w->last, ".") || !strcmp(w->last, ".."))
        return -EEXIST;
    struct vref c;
    if ((r = lookup_child(v, &w->ref, w->path, w->last, &c, child)) == 0)
        return -EEXIST;
    if (r != -ENOENT)
        return r;
    if (check && (r = dir_modifiable(v, w)) < 0)
        return r == -EACCES && fs_kind(v, w->path) == FS_PROC ? -ENOENT : r;
    return 0;
}

static int do_symlink(struct sh_vfs *v, const char *target, const char *linkpath, bool check);

int sh_vfs_symlink(struct sh_vfs *v, const char *target, const char *linkpath)
{
    return do_symlink(v, target, linkpath, true);
}

int sh_vfs_symlink_system(struct sh_vfs *v, const char *target, const char *linkpath)
{
    return do_symlink(v, target, linkpath, false);
}

int sh_vfs_mkdir_system(struct sh_vfs *v, const char *path, unsigned mode)
{
    return do_mkdir(v, path, mode, false);
}

static int do_symlink(struct sh_vfs *v, const char *target, const char *linkpath, bool check)
{
    struct walk w;
    char child[VFS_PATH_MAX];
    if (!target || !target[0])
        return -ENOENT;
    if (strlen(target) >= VFS_PATH_MAX)
        return -ENAMETOOLONG;
    int r = new_name_chk(v, linkpath, &w, child, check);
    if (r < 0)
        return r;
    if ((r = ovl_room(v->ov, strlen(target) + 1)) < 0)
        return r;
    struct oent *e = create_entry(v, child, SH_FT_LNK, 0777, &r);
    if (!e)
        return r;
    e->target = strdup(target);
    if (!e->target) {
        drop_new(v, e);
        return -ENOSPC;
    }
    ovl_account(v->ov, (int64_t)strlen(target) + 1);
    return 0;
}

/* Copy the object at src (ref) to a new entry at dst: attributes, contents
 * (base bytes by reference), and for a directory its whole tree. */
static int copy_tree(struct sh_vfs *v, const struct vref *src, const char *spath, const char *dst, unsigned depth)
{
    if (depth > VFS_TREE_DEPTH_MAX)
        return -ENOSPC;
    struct sh_stat st;
    int r = ref_stat(v, src, spath, &st);
    if (r < 0)
        return r;
    if (src->virt)
        return -EPERM;
    struct oent *e = create_entry(v, dst, (uint8_t)st.type, st.mode, &r);
    if (!e)
        return r;
    e->uid = st.uid;
    e->gid = st.gid;
    e->mtime = st.mtime;
    e->owned = false;
    const struct oent *so = src->oe;
    if (so && so->owned) {
        if ((r = ovl_room(v->ov, so->len)) < 0 || !(e->data = malloc(so->len ? so->len : 1))) {
            drop_new(v, e);
            return r < 0 ? r : -ENOSPC;
        }
        if (so->len)
            memcpy(e->data, so->data, so->len);
        e->len = so->len;
        e->owned = true;
        e->dirty = so->dirty;
        ovl_account(v->ov, (int64_t)e->len);
    } else if (so && so->target) {
        e->target = strdup(so->target);
        if (e->target)
            ovl_account(v->ov, (int64_t)strlen(e->target) + 1);
    } else {
        e->cbase = so ? so->cbase : src->b;
    }
    if (st.type != SH_FT_DIR)
        return 0;
    struct dent *d;
    char *pn;
    long n = collect(v, src, spath, &d, &pn);
    if (n < 0)
        return (int)n;
    char cs[VFS_PATH_MAX], cd[VFS_PATH_MAX];
    for (long i = 0; i < n && r == 0; i++) {
        if (join(cs, spath, d[i].name) < 0 || join(cd, dst, d[i].name) < 0)
            r = -ENAMETOOLONG;
        else
            r = copy_tree(v, &d[i].ref, cs, cd, depth + 1);
    }
    free(d);
    free(pn);
    return r;
}

/* Remove the object at path and everything under it. */
static int remove_tree(struct sh_vfs *v, const struct vref *ref, const char *path, unsigned depth)
{
    if (depth > VFS_TREE_DEPTH_MAX)
        return -ENOSPC;
    if (ref_type(v, ref) == SH_FT_DIR) {
        struct dent *d;
        char *pn;
        long n = collect(v, ref, path, &d, &pn);
        if (n < 0)
            return (int)n;
        char c[VFS_PATH_MAX];
        int r = 0;
        for (long i = 0; i < n && r == 0; i++)
            r = join(c, path, d[i].name) < 0 ? -ENAMETOOLONG : remove_tree(v, &d[i].ref, c, depth + 1);
        free(d);
        free(pn);
        if (r < 0)
            return r;
    }
    return remove_entry(v, path, ref);
}

int sh_vfs_rename(struct sh_vfs *v, const char *from, const char *to)
{
    struct walk fw, tw;
    char fchild[VFS_PATH_MAX], tchild[VFS_PATH_MAX];
    int r = walk(v, from, W_PARENT, &fw);
    if (r < 0)
        return r;
    if (!fw.last[0] || !strcmp(fw.last, ".") || !strcmp(fw.last, ".."))
        return -EBUSY;
    struct vref fc, tc;
    if ((r = lookup_child(v, &fw.ref, fw.path, fw.last, &fc, fchild)) < 0)
        return r;
    if ((r = walk(v, to, W_PARENT, &tw)) < 0)
        return r;
    if (!tw.last[0] || !strcmp(tw.last, ".") || !strcmp(tw.last, ".."))
        return -EBUSY;
    if ((r = join(tchild, tw.path, tw.last)) < 0)
        return r;
    if (!strcmp(fchild, tchild))
        return 0;
    size_t fl = strlen(fchild);
    if (!strncmp(tchild, fchild, fl) && tchild[fl] == '/')
        return -EINVAL;
    struct sh_stat fst, tst;
    if ((r = ref_stat(v, &fc, fchild, &fst)) < 0)
        return r;
    if (fc.virt || fs_kind(v, fw.path) == FS_PROC || fs_kind(v, fw.path) == FS_SYS)
        return -EPERM;
    if ((r = dir_modifiable(v, &fw)) < 0 || (r = dir_modifiable(v, &tw)) < 0)
        return r;
    if ((r = sticky_ok(v, &fw, &fst)) < 0)
        return r;
    const struct hp_mount *fm = mount_of(v, fchild), *tm = mount_of(v, tw.path);
    if (fm != tm && (!fm || !tm || strcmp(fm->mountpoint, tm->mountpoint)))
        return -EXDEV;
    if (lookup_child(v, &tw.ref, tw.path, tw.last, &tc, tchild) == 0) {
        if ((r = ref_stat(v, &tc, tchild, &tst)) < 0)
            return r;
        if (fst.type == SH_FT_DIR && tst.type != SH_FT_DIR)
            return -ENOTDIR;
        if (fst.type != SH_FT_DIR && tst.type == SH_FT_DIR)
            return -EISDIR;
        if (tst.type == SH_FT_DIR && !dir_empty(v, &tc, tchild))
            return -ENOTEMPTY;
        if ((r = remove_entry(v, tchild, &tc)) < 0)
            return r;
    }
    /* The dirty mark travels with the bytes: capture happens at the new name. */
    if ((r = copy_tree(v, &fc, fchild, tchild, 0)) < 0)
        return r;
    if (fc.oe)
        fc.oe->dirty = false;
    struct vref again;
    if (lookup_child(v, &fw.ref, fw.path, fw.last, &again, fchild) == 0) {
        if (again.oe && again.oe->type != SH_FT_DIR)
            again.oe->dirty = false;
        return remove_tree(v, &again, fchild, 0);
    }
    return 0;
}

int sh_vfs_link(struct sh_vfs *v, const char *from, const char *to)
{
    struct walk fw, tw;
    char child[VFS_PATH_MAX];
    int r = walk(v, from, 0, &fw);
    if (r < 0)
        return r;
    if (ref_type(v, &fw.ref) == SH_FT_DIR)
        return -EPERM;
    if (fw.ref.virt)
        return -EXDEV;
    if ((r = new_name(v, to, &tw, child)) < 0)
        return r;
    r = copy_tree(v, &fw.ref, fw.path, child, 0);
    struct oent *e = ovl_get(v->ov, child);
    if (r == 0 && e)
        e->dirty = false;         /* the same bytes as the original */
    return r;
}

/* Attribute changes: owner or root; /proc and /sys refuse. */
static int attr_entry(struct sh_vfs *v, const char *path, bool follow, bool owner_only, struct oent **out)
{
    struct walk w;
    struct sh_stat st;
    int r = walk(v, path, follow ? W_FOLLOW : 0, &w);
    if (r < 0)
        return r;
    if ((r = ref_stat(v, &w.ref, w.path, &st)) < 0)
        return r;
    if (v->uid && st.uid != v->uid && (owner_only || check_perm(v, &st, 2) < 0))
        return -EPERM;
    if (w.ref.virt)
        return -EPERM;
    if ((r = fs_writable(v, w.path)) < 0)
        return r == -EACCES ? -EPERM : r;
    *out = own_entry(v, &w, &r);
    return *out ? 0 : r;
}

int sh_vfs_chmod(struct sh_vfs *v, const char *path, unsigned mode)
{
    struct oent *e;
    int r = attr_entry(v, path, true, true, &e);
    if (r < 0)
        return r;
    e->mode = mode & 07777;
    return 0;
}

int sh_vfs_chown(struct sh_vfs *v, const char *path, unsigned uid, unsigned gid)
{
    if (v->uid != 0)
        return -EPERM;
    struct oent *e;
    int r = attr_entry(v, path, true, true, &e);
    if (r < 0)
        return r;
    if (uid != (unsigned)-1)
        e->uid = uid;
    if (gid != (unsigned)-1)
        e->gid = gid;
    return 0;
}

int sh_vfs_utime(struct sh_vfs *v, const char *path, int64_t mtime)
{
    struct oent *e;
    int r = attr_entry(v, path, true, false, &e);
    if (r < 0)
        return r;
    e->mtime = mtime;
    return 0;
}

void sh_vfs_capture(struct sh_vfs *v, const char *path)
{
    struct walk w;
    if (walk(v, path, W_FOLLOW, &w) == 0 && w.ref.oe)
        capture_entry(v, w.ref.oe);
}

/* ---- names -------------------------------------------------------------------------------------------- */

/* The name of id in a passwd/group style file (field 3 is the id). */
static const char *id_name(struct sh_vfs *v, const char *file, unsigned id, char *out, size_t outlen)
{
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    const char *res = NULL;
    if (sh_vfs_read(v, file, 0, 0, &b) >= 0) {
        const char *s = hp_buf_cstr(&b);
        while (s && *s) {
            size_t l = strcspn(s, "\n");
            const char *c1 = memchr(s, ':', l);
            const char *c2 = c1 ? memchr(c1 + 1, ':', l - (size_t)(c1 + 1 - s)) : NULL;
            unsigned long x;
            char num[16];
            if (c2) {
                size_t nl = strcspn(c2 + 1, ":\n");
                if (nl < sizeof(num)) {
                    memcpy(num, c2 + 1, nl);
                    num[nl] = '\0';
                    if (parse_uint(num, 10, 0xffffffffu, &x) && x == id && (size_t)(c1 - s) < outlen) {
                        memcpy(out, s, (size_t)(c1 - s));
                        out[c1 - s] = '\0';
                        res = out;
                        break;
                    }
                }
            }
            s += l;
            if (*s)
                s++;
        }
    }
    hp_buf_free(&b);
    return res;
}

const char *sh_vfs_user_name(struct sh_vfs *v, unsigned uid)
{
    return id_name(v, "/etc/passwd", uid, v->uname, sizeof(v->uname));
}

const char *sh_vfs_group_name(struct sh_vfs *v, unsigned gid)
{
    return id_name(v, "/etc/group", gid, v->gname, sizeof(v->gname));
}
