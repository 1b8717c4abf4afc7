/*
 * fuzz_memcached_store.c - memcached's item store (src/proto/
 * memcached_store.c) through its internal API (memcached_int.h), called
 * as the module's commands call it (the same item size rule before a
 * store or a join, numbers read before incr/decr).
 *
 * The input is a sequence of up to 512 operations, each an opcode byte and
 * its operands: set (of any value, or of a number), append, prepend, incr,
 * decr, touch, delete, flush, a fill of up to 64 other items (8 when they
 * are big), the live listing, on eight keys (k1..k7 and one of 250 bytes).
 * Sizes are picked near the item size limit of the key and flags
 * (the largest value kept, one byte more, 1 MiB) or small; expiry values
 * near the 30-day boundary (2591999, 2592000, 2592001), 0, negative, past
 * and future Unix times.  After every step: the store's byte and item
 * counts are its items', values lie inside their allocations, keys are
 * unique, and every one of the eight keys that is still found holds
 * the value a shadow copy says it should (items may go by eviction or
 * expiry, never change behind the commands' back): the key of the step
 * whole, the others at both ends, all whole at the end.
 */
#include <inttypes.h>
#include <stdio.h>
#include "fuzz_memcached_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NKEYS 8

static struct {
    bool have;
    uint8_t *v;
    size_t len;
} shadow[NKEYS];

static char keys[NKEYS][HP_MC_KEY_MAX + 1];
static uint8_t *fill;                       /* a value source of HP_MC_ITEM_MAX bytes */

struct ops {
    const uint8_t *p;
    size_t n;
};

static uint8_t next(struct ops *o)
{
    if (!o->n)
        return 0;
    o->n--;
    return *o->p++;
}

/* Largest value kept for key with flags (mc_item_total's rule). */
static size_t max_value(const char *key, uint32_t flags)
{
    return HP_MC_ITEM_MAX - (size_t)mc_item_total(strlen(key), flags, 0);
}

static size_t pick_size(struct ops *o, const char *key, uint32_t flags)
{
    uint8_t b = next(o);
    size_t lim = max_value(key, flags);
    const size_t sizes[8] = { 0, 1, 20, 4096, lim - 1, lim, lim + 1, HP_MC_ITEM_MAX };
    size_t n = sizes[b & 7];
    size_t d = b >> 3;                      /* 0..31 bytes less */
    return n > d ? n - d : 0;
}

static int64_t pick_exptime(struct ops *o)
{
    uint8_t b = next(o);
    int64_t now = mc_now();
    const int64_t t[8] = { 0, -1, 1, MC_REL_MAX - 1, MC_REL_MAX, MC_REL_MAX + 1, now - 5, now + 3600 };
    return t[b & 7];
}

static void shadow_set(int k, const uint8_t *v, size_t n)
{
    free(shadow[k].v);
    shadow[k].v = malloc(n ? n : 1);
    memcpy(shadow[k].v, v, n);
    shadow[k].len = n;
    shadow[k].have = true;
}

static void shadow_join(int k, const uint8_t *v, size_t n, bool append)
{
    uint8_t *j = malloc(shadow[k].len + n + 1);
    memcpy(j + (append ? 0 : n), shadow[k].v, shadow[k].len);
    memcpy(j + (append ? shadow[k].len : 0), v, n);
    free(shadow[k].v);
    shadow[k].v = j;
    shadow[k].len += n;
}

/* Every key found holds its shadow value; a key gone is gone from the
 * shadow.  Whole values are compared for the key of the step (touched; -1:
 * all), the others by length and their first and last 64 bytes. */
static void check_shadow(int touched)
{
    for (int k = 0; k < NKEYS; k++) {
        struct mc_item *it = mc_find(keys[k]);
        if (!it) {
            shadow[k].have = false;
            continue;
        }
        CHECK(shadow[k].have && it->len == shadow[k].len);
        const uint8_t *v = it->val + it->off, *w = shadow[k].v;
        size_t n = it->len, edge = n < 64 ? n : 64;
        if (touched < 0 || k == touched)
            CHECK(memcmp(v, w, n) == 0);
        else
            CHECK(memcmp(v, w, edge) == 0 && memcmp(v + n - edge, w + n - edge, edge) == 0);
    }
}

static void op_set(struct ops *o, int k)
{
    uint32_t flags = next(o) & 1 ? 0xdeadbeef : 0;
    size_t n = pick_size(o, keys[k], flags);
    int64_t exp = pick_exptime(o);
    size_t at = next(o) * 997u % 16;
    if (mc_item_total(strlen(keys[k]), flags, n) > HP_MC_ITEM_MAX) {
        mc_db.too_large++;                  /* refused, as memcached.c does; the old value stays */
        return;
    }
    struct mc_item *it = mc_find(keys[k]);
    if (mc_put(it, keys[k], flags, exp, fill + at, n))
        shadow_set(k, fill + at, n);
    else if (it)
        CHECK(0);                           /* a replacement always has its slot */
}

static void op_join(struct ops *o, int k, bool append)
{
    size_t n = pick_size(o, keys[k], 0) / (next(o) % 4 + 1);
    struct mc_item *it = mc_find(keys[k]);
    if (!it || mc_item_total(strlen(it->key), it->flags, it->len + n) > HP_MC_ITEM_MAX)
        return;
    const uint8_t *src = fill + (append ? 3 : 7);
    if (mc_join(it, src, n, append))
        shadow_join(k, src, n, append);
}

static void op_arith(struct ops *o, int k, bool incr)
{
    uint64_t delta = next(o);
    if (next(o) & 1)
        delta = UINT64_MAX - delta;
    struct mc_item *it = mc_find(keys[k]);
    uint64_t cur;
    if (!it || !mc_item_number(it, &cur))
        return;
    size_t old = it->len;
    cur = incr ? cur + delta : (delta > cur ? 0 : cur - delta);
    char num[24];
    int n = mc_arith_store(it, keys[k], cur, num);
    CHECK(n > 0 && (size_t)n < sizeof(num) && strlen(num) == (size_t)n);
    uint8_t want[128];
    size_t len = (size_t)n <= old ? old : (size_t)n;
    memset(want, ' ', sizeof(want));
    memcpy(want, num, (size_t)n);
    shadow_set(k, want, len);
}

static void op_fill(struct ops *o)
{
    static unsigned serial;
    unsigned count = next(o) % 64 + 1;
    size_t n = (size_t)next(o) << 12;       /* up to ~1 MiB each: the 4 MiB budget */
    if (n > 8192)
        count = count % 8 + 1;              /* eight of those reach it */
    for (unsigned i = 0; i < count; i++) {
        char key[32];
        snprintf(key, sizeof(key), "f%u", serial++);
        mc_put(mc_find(key), key, 0, 0, fill, n);
    }
}

static int step(struct ops *o)
{
    uint8_t b = next(o);
    int k = (b >> 4) & 7;
    switch (b & 15) {
    case 0: case 1: case 2: op_set(o, k); break;
    case 3: op_join(o, k, true); break;
    case 4: op_join(o, k, false); break;
    case 5: op_arith(o, k, true); break;
    case 6: op_arith(o, k, false); break;
    case 7: {
        int64_t e = pick_exptime(o);
        struct mc_item *it = mc_find(keys[k]);
        if (it)
            it->expires = mc_expires(e);
        break;
    }
    case 8: {
        struct mc_item *it = mc_find(keys[k]);
        if (it)
            mc_drop(it);
        break;
    }
    case 9: hp_mc_store_reset(); break;
    case 10: op_fill(o); break;
    case 11: {                              /* a numeric value for incr/decr */
        char num[24];
        int n = snprintf(num, sizeof(num), "%" PRIu64, (uint64_t)(next(o) * UINT64_C(0x0101010101010101)));
        if (mc_put(mc_find(keys[k]), keys[k], 0, 0, (const uint8_t *)num, (size_t)n))
            shadow_set(k, (const uint8_t *)num, (size_t)n);
        break;
    }
    default: {
        struct mc_live_list { struct mc_item *l[MC_ITEMS]; } *ll = malloc(sizeof(*ll));
        size_t n = mc_live(ll->l);
        CHECK(n <= mc_db.count);
        for (size_t i = 1; i < n; i++)
            CHECK(ll->l[i - 1]->seq > ll->l[i]->seq);
        free(ll);
    }
    }
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fill) {
        fill = malloc(HP_MC_ITEM_MAX + 16);
        for (size_t i = 0; i < HP_MC_ITEM_MAX + 16; i++)
            fill[i] = (uint8_t)('a' + i % 26);
        for (int k = 0; k < NKEYS - 1; k++)
            snprintf(keys[k], sizeof(keys[k]), "k%d", k + 1);
        memset(keys[NKEYS - 1], 'K', HP_MC_KEY_MAX);
    }
    hp_mc_store_reset();
    for (int k = 0; k < NKEYS; k++)
        shadow[k].have = false;
    struct ops o = { data, size };
    for (unsigned i = 0; o.n && i < 512; i++) {
        int k = step(&o);
        fmc_check_store(false);
        check_shadow(k);
    }
    fmc_check_store(true);
    check_shadow(-1);
    hp_mc_store_reset();
    return 0;
}
