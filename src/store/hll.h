/*
 * hll.h - distinct counts that can be merged: exact when small, HyperLogLog
 * when large.
 *
 * Reports rank keys with "how many different sources": distinct source IPs
 * per username, per port, per country, over any range of days.  Keeping
 * every (key, day, source) would make those counts slow and the store big,
 * so each roll-up row carries a sketch of its sources instead.  A sketch is
 * a blob:
 *
 *   'S' + up to HP_HLL_SPARSE_MAX sorted 64-bit hashes   exact (up to hash collisions)
 *   'D' + 2^HP_HLL_P one-byte registers                  HyperLogLog, ~2.3 % error
 *
 * so small sets (every test, most keys) count exactly and large ones stay at
 * 2 KiB.  Sketches merge without loss (set union), which is what summing
 * hours into days and days into ranges needs.  SQLite gets three functions:
 * hll_union(a, b) (scalar), hll_merge(x) (aggregate, a sketch) and
 * hll_count(x) (aggregate: the distinct count of the union).
 */
#ifndef HP_HLL_H
#define HP_HLL_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#define HP_HLL_P 11
#define HP_HLL_REGS (1u << HP_HLL_P)
#define HP_HLL_SPARSE_MAX 128

struct hp_hll {
    uint8_t dense;                    /* 0: sparse hashes, 1: registers */
    uint16_t n;                       /* sparse: hashes in use */
    uint64_t *h;                      /* sparse: HP_HLL_SPARSE_MAX slots (unsorted) */
    uint8_t *reg;                     /* dense: HP_HLL_REGS registers */
};

uint64_t hp_hll_hash(const void *data, size_t len);
void hp_hll_add_hash(struct hp_hll *s, uint64_t h);
void hp_hll_add(struct hp_hll *s, const void *data, size_t len);
/* Merge a serialized sketch (ignored if malformed). */
void hp_hll_merge_blob(struct hp_hll *s, const void *blob, size_t len);
uint64_t hp_hll_count(const struct hp_hll *s);
/* Serialize into out (at least 1 + HP_HLL_REGS bytes); returns the length, 0 if empty. */
size_t hp_hll_blob(const struct hp_hll *s, uint8_t *out);
void hp_hll_free(struct hp_hll *s);

/* Register hll_union, hll_merge and hll_count on a connection.  0 / -1. */
int hp_hll_register(sqlite3 *db);

#endif
