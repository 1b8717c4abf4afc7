/*
 * litset.c - which of many literals a text contains, in one pass (litset.h).
 *
 * The literals are kept lower-cased (ASCII) and deduplicated through a small
 * open-addressing table while they are added, then handed to Hyperscan's
 * hs_compile_lit_multi() as one block-mode database: each literal caseless,
 * reported once per scan (HS_FLAG_SINGLEMATCH), its id its index here.  The
 * scan's callback only sets bits, so a scan costs Hyperscan's pass over the
 * text plus one call per distinct literal found, however many literals the
 * set holds and however often the text repeats them.  Everything is
 * allocated before the first scan; a scan allocates nothing and makes no
 * system call (the sensor scans inside its seccomp sandbox).
 */
#include <stdlib.h>
#include <string.h>

#include "litset.h"

#ifdef HP_HAVE_HYPERSCAN
#include <hs/hs.h>
#else
/* Built without Hyperscan (Debian has it for amd64 only): the sets keep
 * their literals and ids, compile fails, and callers test literals one at
 * a time.  These stand-ins keep the rest of this file free of #ifdefs. */
typedef struct hs_database hs_database_t;
typedef struct hs_scratch hs_scratch_t;
static void hs_free_scratch(hs_scratch_t *s) { (void)s; }
static void hs_free_database(hs_database_t *d) { (void)d; }
#endif

#define LS_HASH_SLOTS (2 * HP_LITSET_MAX)   /* power of two, never more than half full */

struct ls_lit {
    uint8_t n;
    uint8_t b[255];
};

struct hp_litset {
    struct ls_lit *lit;
    size_t nlit, cap;
    int32_t *slot;                 /* hash -> literal index + 1, 0 when free */
    hs_database_t *db;
    hs_scratch_t *scratch;
};

static uint8_t ls_lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static uint32_t ls_hash(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;      /* FNV-1a over the lower-cased bytes */
    for (size_t i = 0; i < n; i++)
        h = (h ^ ls_lower(p[i])) * 16777619u;
    return h;
}

struct hp_litset *hp_litset_new(void)
{
    struct hp_litset *s = calloc(1, sizeof(*s));
    if (s && !(s->slot = calloc(LS_HASH_SLOTS, sizeof(*s->slot)))) {
        free(s);
        return NULL;
    }
    return s;
}

void hp_litset_free(struct hp_litset *s)
{
    if (!s)
        return;
    hs_free_scratch(s->scratch);
    hs_free_database(s->db);
    free(s->lit);
    free(s->slot);
    free(s);
}

static bool ls_equal(const struct ls_lit *l, const uint8_t *p, size_t n)
{
    if (l->n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (l->b[i] != ls_lower(p[i]))
            return false;
    return true;
}

int hp_litset_add(struct hp_litset *s, const uint8_t *lit, size_t n)
{
    if (!s || s->db || n == 0 || n > sizeof(s->lit->b))
        return -1;
    uint32_t h = ls_hash(lit, n) & (LS_HASH_SLOTS - 1);
    while (s->slot[h]) {
        if (ls_equal(&s->lit[s->slot[h] - 1], lit, n))
            return s->slot[h] - 1;
        h = (h + 1) & (LS_HASH_SLOTS - 1);
    }
    if (s->nlit == HP_LITSET_MAX)
        return -1;
    if (s->nlit == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        struct ls_lit *l = realloc(s->lit, cap * sizeof(*l));
        if (!l)
            return -1;
        s->lit = l;
        s->cap = cap;
    }
    struct ls_lit *l = &s->lit[s->nlit];
    l->n = (uint8_t)n;
    for (size_t i = 0; i < n; i++)
        l->b[i] = ls_lower(lit[i]);
    s->slot[h] = (int32_t)++s->nlit;
    return (int)(s->nlit - 1);
}

#ifdef HP_HAVE_HYPERSCAN
int hp_litset_compile(struct hp_litset *s)
{
    if (!s || s->db)
        return -1;
    if (s->nlit == 0 || hs_valid_platform() != HS_SUCCESS)
        return -1;
    const char **expr = calloc(s->nlit, sizeof(*expr));
    unsigned *flags = calloc(s->nlit, sizeof(*flags));
    unsigned *ids = calloc(s->nlit, sizeof(*ids));
    size_t *lens = calloc(s->nlit, sizeof(*lens));
    int rc = -1;
    if (expr && flags && ids && lens) {
        for (size_t i = 0; i < s->nlit; i++) {
            expr[i] = (const char *)s->lit[i].b;
            flags[i] = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
            ids[i] = (unsigned)i;
            lens[i] = s->lit[i].n;
        }
        hs_compile_error_t *err = NULL;
        if (hs_compile_lit_multi(expr, flags, ids, lens, (unsigned)s->nlit, HS_MODE_BLOCK, NULL,
                                 &s->db, &err) == HS_SUCCESS &&
            hs_alloc_scratch(s->db, &s->scratch) == HS_SUCCESS)
            rc = 0;
        hs_free_compile_error(err);
    }
    if (rc < 0) {
        hs_free_database(s->db);
        s->db = NULL;
    }
    free(expr);
    free(flags);
    free(ids);
    free(lens);
    return rc;
}
#else
int hp_litset_compile(struct hp_litset *s)
{
    (void)s;
    return -1;
}
#endif

size_t hp_litset_count(const struct hp_litset *s)
{
    return s ? s->nlit : 0;
}

size_t hp_litset_words(const struct hp_litset *s)
{
    return s ? (s->nlit + 63) / 64 : 0;
}

#ifdef HP_HAVE_HYPERSCAN
static int ls_on_match(unsigned int id, unsigned long long from, unsigned long long to,
                       unsigned int flags, void *ctx)
{
    uint64_t *hits = ctx;
    hits[id >> 6] |= (uint64_t)1 << (id & 63);
    return 0;                      /* go on: every literal present is wanted */
}
#endif

bool hp_litset_scan(struct hp_litset *s, const uint8_t *p, size_t n, uint64_t *hits)
{
    if (!s || !s->db)
        return false;
#ifdef HP_HAVE_HYPERSCAN
    memset(hits, 0, hp_litset_words(s) * sizeof(*hits));
    if (n == 0)
        return true;
    if (n > 0xffffffffu)           /* hs_scan takes an unsigned int; no text here is that long */
        return false;
    return hs_scan(s->db, (const char *)p, (unsigned)n, 0, s->scratch, ls_on_match, hits) == HS_SUCCESS;
#else
    (void)p;
    (void)n;
    (void)hits;
    return false;
#endif
}
