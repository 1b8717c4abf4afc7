/*
 * memcached_store.c - the items memcached's commands read and write.
 *
 * One store per sensor, shared by every connection (ASCII, binary and meta
 * alike) as the real server's is, so that a `set` on one connection is seen
 * by a `get` on another.  Bounded: MC_ITEMS items and MC_BYTES bytes of
 * values; when either is reached the oldest item (smallest seq) goes, as an
 * LRU evicts.  Expiry follows memcached: 0 never, up to 30 days relative
 * seconds, beyond that a Unix time, negative already expired; an expired
 * item is dropped when it is next looked up.
 *
 * Also here: the item size rule (mc_item_total: memcached's header, CAS, key,
 * value, CRLF and flags count against item_size_max), append/prepend in
 * place with room on both sides of the value (no copy of a 1 MiB value per
 * one-byte append), incr/decr's number reading and padding, and the slab
 * class stats and metadump print.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "memcached_int.h"
#include "util.h"

/* ---- the store ------------------------------------------------------------------------ */

struct mc_db mc_db;

int64_t mc_now(void)
{
    return hp_now_us() / 1000000;
}

void mc_drop(struct mc_item *it)
{
    mc_db.bytes -= it->len;
    mc_db.count--;
    free(it->val);
    memset(it, 0, sizeof(*it));
}

void hp_mc_store_reset(void)
{
    for (size_t i = 0; i < MC_ITEMS; i++)
        if (mc_db.items[i].used)
            mc_drop(&mc_db.items[i]);
}

struct mc_item *mc_find(const char *key)
{
    int64_t now = mc_now();
    for (size_t i = 0; i < MC_ITEMS; i++) {
        struct mc_item *it = &mc_db.items[i];
        if (!it->used || strcmp(it->key, key) != 0)
            continue;
        if (it->expires && it->expires <= now) {
            mc_db.get_expired++;
            mc_drop(it);
            return NULL;
        }
        return it;
    }
    return NULL;
}

int64_t mc_expires(int64_t exptime)
{
    if (exptime == 0)
        return 0;
    if (exptime < 0)
        return 1;                       /* already expired */
    return exptime <= MC_REL_MAX ? mc_now() + exptime : exptime;
}

/* Make room for len more bytes and one more item (oldest first); a free slot or NULL. */
static struct mc_item *mc_room(size_t len, const struct mc_item *keep)
{
    for (;;) {
        struct mc_item *free_slot = NULL, *oldest = NULL;
        for (size_t i = 0; i < MC_ITEMS; i++) {
            struct mc_item *it = &mc_db.items[i];
            if (!it->used) {
                if (!free_slot)
                    free_slot = it;
            } else if (it != keep && (!oldest || it->seq < oldest->seq)) {
                oldest = it;
            }
        }
        if (free_slot && mc_db.bytes + len <= MC_BYTES)
            return free_slot;
        if (!oldest)
            return NULL;
        mc_drop(oldest);
    }
}

/* Set key's value (a fresh copy of data); false when it cannot be kept. */
bool mc_put(struct mc_item *it, const char *key, uint32_t flags, int64_t exptime, const uint8_t *data,
                   size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return false;
    memcpy(copy, data, len);
    if (it) {
        mc_db.bytes -= it->len;
        free(it->val);
    } else {
        it = mc_room(len, NULL);
        if (!it) {
            free(copy);
            return false;
        }
        it->used = true;
        snprintf(it->key, sizeof(it->key), "%s", key);
        mc_db.count++;
    }
    if (mc_db.bytes + len > MC_BYTES)
        mc_room(len, it);
    it->val = copy;
    it->off = 0;
    it->len = len;
    it->cap = len ? len : 1;
    mc_db.bytes += len;
    it->flags = flags;
    it->expires = mc_expires(exptime);
    it->cas = ++mc_db.cas;
    it->seq = ++mc_db.seq;
    it->atime = mc_now();
    it->fetched = false;
    mc_db.total_items++;
    return true;
}

/* The size memcached's item of this key and value takes (item header, CAS,
 * key and its NUL, the value and its CRLF, the flags when not 0): an item
 * over item_size_max is "too large", so a value of 1 MiB is refused and the
 * largest one kept is 1 MiB minus 59 bytes and the key (memcached 1.6.18). */
uint64_t mc_item_total(size_t nkey, uint32_t flags, uint64_t bytes)
{
    return 48 + 8 + nkey + 1 + bytes + 2 + (flags ? 4 : 0);
}

/* Put the value in an allocation of cap bytes with the room this join
 * leaves split evenly before and after it (the new bytes' place kept on
 * their side), so that a run of appends or prepends writes into room
 * instead of moving the value. */
static bool mc_regap(struct mc_item *it, size_t cap, size_t add, bool append)
{
    size_t room = cap - it->len - add, at = room / 2 + (append ? 0 : add);
    uint8_t *v = cap == it->cap ? it->val : malloc(cap);
    if (!v)
        return false;
    memmove(v + at, it->val + it->off, it->len);
    if (v != it->val) {
        free(it->val);
        it->val = v;
        it->cap = cap;
    }
    it->off = at;
    return true;
}

/* append / prepend in place, with room kept on both sides of the value and
 * the allocation growing by doubling: joining into a fresh copy made every
 * one-byte append of a 1 MiB item copy it twice, and moving the value up
 * for every prepend (even of 0 bytes) cost 13 us per 20-byte command.  A
 * value is moved when one side runs out of room, which halves what is left
 * (or doubles the allocation).  Flags and expiry stay, as memcached keeps
 * them.  The caller keeps it->len + len within HP_MC_ITEM_MAX. */
bool mc_join(struct mc_item *it, const uint8_t *data, size_t len, bool append)
{
    size_t n = it->len + len;
    if (append ? it->off + n > it->cap : it->off < len) {
        size_t cap = n * 2 < HP_MC_ITEM_MAX ? n * 2 : HP_MC_ITEM_MAX;
        if (!mc_regap(it, cap > it->cap ? cap : it->cap, len, append))
            return false;
    }
    if (append) {
        memcpy(it->val + it->off + it->len, data, len);
    } else {
        it->off -= len;
        memcpy(it->val + it->off, data, len);
    }
    it->len = n;
    mc_db.bytes += len;
    it->cas = ++mc_db.cas;
    it->seq = ++mc_db.seq;
    mc_db.total_items++;
    if (mc_db.bytes > MC_BYTES)
        mc_room(0, it);                 /* older items go, this one stays */
    return true;
}

/* The item's value as memcached's strtoull reads it (leading blanks, a sign,
 * digits, then a blank or the value's end); a value too long to be a number
 * with little padding is not one here. */
bool mc_item_number(const struct mc_item *it, uint64_t *out)
{
    char b[128];
    if (it->len == 0 || it->len >= sizeof(b))
        return false;
    memcpy(b, it->val + it->off, it->len);
    b[it->len] = '\0';
    return mc_strtoull(b, out);
}

/* Store an incr/decr result (num: its digits; returns their count).  A
 * number no longer than the old value is written over it and padded with
 * blanks to its length (a decr, an incr that wraps, ma), as memcached does. */
int mc_arith_store(struct mc_item *it, const char *key, uint64_t cur, char num[24])
{
    char stored[128];
    int n = snprintf(num, 24, "%" PRIu64, cur);
    size_t len = (size_t)n <= it->len ? it->len : (size_t)n;
    memset(stored, ' ', sizeof(stored));
    memcpy(stored, num, (size_t)n);
    int64_t keep_exp = it->expires;
    if (mc_put(it, key, it->flags, 0, (const uint8_t *)stored, len))
        it->expires = keep_exp;
    return n;
}

static int mc_by_seq_desc(const void *a, const void *b)
{
    const struct mc_item *x = *(const struct mc_item *const *)a, *y = *(const struct mc_item *const *)b;
    return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

/* The live items, newest first; returns how many. */
size_t mc_live(struct mc_item *list[MC_ITEMS])
{
    size_t n = 0;
    int64_t now = mc_now();
    for (size_t i = 0; i < MC_ITEMS; i++) {
        struct mc_item *it = &mc_db.items[i];
        if (it->used && !(it->expires && it->expires <= now))
            list[n++] = it;
    }
    qsort(list, n, sizeof(list[0]), mc_by_seq_desc);
    return n;
}

/* The slab class of an item of total bytes: 96, then x1.25 rounded up to 8. */
unsigned mc_slab_class(uint64_t total)
{
    double size = 96;
    unsigned cls = 1;
    while (size < (double)total && cls < 63) {
        size *= 1.25;
        uint64_t s8 = (uint64_t)size;
        size = (double)(s8 % 8 ? s8 + 8 - s8 % 8 : s8);
        cls++;
    }
    return cls;
}
