/*
 * memcached_int.h - state and helpers shared by memcached.c (the module and
 * its ASCII commands), memcached_store.c (the items), memcached_stats.c
 * (stats and the key listings), memcached_bin.c (the binary protocol) and
 * memcached_meta.c (the meta commands).
 *
 * The store is one per sensor, as the real server's is, so it and its
 * counters are one global (mc_db); everything a connection holds is in its
 * struct hp_mc_sess (memcached.h).
 */
#ifndef HP_MEMCACHED_INT_H
#define HP_MEMCACHED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "memcached.h"

#define MC_ITEMS 256
#define MC_BYTES (4u << 20)
#define MC_MAX_TOKENS 24
#define MC_REL_MAX 2592000              /* 30 days: larger exptimes are Unix times */

/* ---- the store (memcached_store.c) ---- */

struct mc_item {
    bool used;
    char key[HP_MC_KEY_MAX + 1];
    uint32_t flags;
    int64_t expires;                    /* Unix seconds, 0: never */
    uint64_t cas;
    uint64_t seq;                       /* age: the smallest goes first when full */
    int64_t atime;                      /* Unix seconds of the last store or hit (metadump's la=) */
    bool fetched;                       /* read since stored (metadump's fetch=) */
    uint8_t *val;                       /* the allocation; the value is at val + off */
    size_t off;
    size_t len;
    size_t cap;                         /* bytes allocated at val (room on both sides of the value) */
};

struct mc_db {
    struct mc_item items[MC_ITEMS];
    size_t bytes, count;
    uint64_t seq, cas;
    uint64_t cmd_get, cmd_set, cmd_touch, cmd_flush, get_hits, get_misses, get_expired, delete_hits,
        delete_misses, incr_hits, incr_misses, decr_hits, decr_misses, cas_hits, cas_misses, cas_badval,
        touch_hits, touch_misses, total_items, curr_conns, total_conns, too_large;
    unsigned verbosity;                 /* `verbosity N`, shown by `stats settings` as the server's */
};
extern struct mc_db mc_db;

int64_t mc_now(void);
void mc_drop(struct mc_item *it);
struct mc_item *mc_find(const char *key);
int64_t mc_expires(int64_t exptime);
bool mc_put(struct mc_item *it, const char *key, uint32_t flags, int64_t exptime, const uint8_t *data, size_t len);
bool mc_join(struct mc_item *it, const uint8_t *data, size_t len, bool append);
uint64_t mc_item_total(size_t nkey, uint32_t flags, uint64_t bytes);
bool mc_item_number(const struct mc_item *it, uint64_t *out);
int mc_arith_store(struct mc_item *it, const char *key, uint64_t cur, char num[24]);
size_t mc_live(struct mc_item *list[MC_ITEMS]);
unsigned mc_slab_class(uint64_t total);

/* ---- the fake process (memcached.c) ---- */

struct mc_ident {
    char version[16];
    uint32_t pid;
    int64_t started;                    /* Unix time the fake process started */
};
extern struct mc_ident mc_id;

/* ---- answers, tokens and data blocks (memcached.c) ---- */

struct mc_tok {
    const char *p;
    size_t n;
};

void mc_send(struct hp_mc_sess *s, const struct hp_buf *b);
void mc_line(struct hp_mc_sess *s, const char *text);
void mc_emit(struct hp_mc_sess *s, struct hp_ev *ev);
bool mc_strtoull(const char *b, uint64_t *out);
bool mc_tok_is(const struct mc_tok *t, const char *word);
bool mc_tok_u64(const struct mc_tok *t, uint64_t *out);
bool mc_tok_u32(const struct mc_tok *t, uint32_t *out);
bool mc_tok_i32(const struct mc_tok *t, int32_t *out);
bool mc_tok_key(const struct mc_tok *t, char out[HP_MC_KEY_MAX + 1]);
void mc_swallow(struct hp_mc_sess *s, uint64_t n, const char *msg);
bool mc_blk_take(struct hp_mc_sess *s, uint64_t bytes);

/* ---- stats and listings (memcached_stats.c) ---- */

void mc_stats_general(struct hp_buf *o);
void mc_stats_settings(const struct hp_mc_sess *s, struct hp_buf *o);
void mc_stats_items(struct hp_buf *o);
void mc_stats_slabs(struct hp_buf *o);
void mc_cmd_stats(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok);
void mc_cmd_lru_crawler(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok);

/* ---- the binary protocol (memcached_bin.c) ---- */

/* One request; false when more input is needed or the connection closes. */
bool mc_bin_request(struct hp_mc_sess *s, struct hp_rd *in);
void mc_bin_stored(struct hp_mc_sess *s, const char *answer);
void mc_bin_error(struct hp_mc_sess *s, uint8_t op, uint16_t st, uint32_t opaque);

/* ---- the meta commands (memcached_meta.c) ---- */

void mc_meta_command(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok);
void mc_meta_stored(struct hp_mc_sess *s, const char *answer);

#endif
