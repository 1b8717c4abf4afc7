/*
 * fuzz_memcached_common.h - what the memcached harnesses share
 * (fuzz_memcached_bin.c, _meta.c, _store.c, _stats.c): a session whose
 * answers are gathered in one buffer, its input fed in pieces as the core
 * feeds it, and the store's accounting checked against its items.
 * Header-only, static.
 */
#ifndef HP_FUZZ_MEMCACHED_COMMON_H
#define HP_FUZZ_MEMCACHED_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "event.h"
#include "fuzz_events.h"
#include "reader.h"
#include "../src/proto/memcached_int.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static struct hp_buf fmc_out;                   /* every answer of the session */
static struct hp_evctx fmc_ctx = { .session = "000000000005", .protocol = "memcached", .transport = "tcp",
                                   .src_ip = "192.0.2.1", .dst_ip = "192.0.2.2", .dst_port = 11211 };

static inline int fmc_collect(void *arg, const void *p, size_t n)
{
    (void)arg;
    CHECK(n > 0 && hp_buf_put(&fmc_out, p, n));
    return 0;
}

static inline void fmc_open(struct hp_mc_sess *s)
{
    static bool init;
    if (!init) {
        hp_mc_identity_init("1.6.18");
        hp_buf_init(&fmc_out, 64u << 20);
        init = true;
    }
    hp_buf_reset(&fmc_out);
    hp_mc_store_reset();
    hp_mc_open(s, &fmc_ctx, fuzz_drop_event, fmc_collect, NULL);
}

/* The store's counters are its items': bytes and count, values inside
 * their allocations, keys terminated (and unique: with all, as that costs
 * a pass per item). */
static inline void fmc_check_store(bool all)
{
    size_t bytes = 0, count = 0;
    for (size_t i = 0; i < MC_ITEMS; i++) {
        const struct mc_item *it = &mc_db.items[i];
        if (!it->used)
            continue;
        count++;
        bytes += it->len;
        CHECK(it->val && it->off <= it->cap && it->len <= it->cap - it->off);
        CHECK(it->len <= HP_MC_ITEM_MAX);
        CHECK(memchr(it->key, '\0', sizeof(it->key)) != NULL);
        for (size_t j = i + 1; all && j < MC_ITEMS; j++)
            CHECK(!mc_db.items[j].used || strcmp(mc_db.items[j].key, it->key) != 0);
    }
    CHECK(count == mc_db.count && bytes == mc_db.bytes && bytes <= MC_BYTES);
}

/* Feed in[0..n) in pieces of chunk bytes, unread bytes offered again with
 * the next piece; each_read runs after every read (NULL: none).  At most
 * 4096 reads: a megabyte data block a byte at a time tests nothing more
 * than one cut in a few places, and would take the run's time. */
static inline void fmc_feed(struct hp_mc_sess *s, const uint8_t *in, size_t n, size_t chunk,
                            void (*each_read)(struct hp_mc_sess *))
{
    if (n / chunk > 4096)
        chunk = n / 4096 + 1;
    uint8_t *buf = malloc(n + 1);
    size_t have = 0, off = 0;
    while (off < n && !s->close_reason) {
        size_t k = n - off < chunk ? n - off : chunk;
        memcpy(buf + have, in + off, k);
        have += k;
        off += k;
        struct hp_rd rd;
        hp_rd_init(&rd, buf, have);
        hp_mc_input(s, &rd);
        size_t used = hp_rd_pos(&rd);
        CHECK(used <= have);
        memmove(buf, buf + used, have - used);
        have -= used;
        fmc_check_store(false);
        if (each_read)
            each_read(s);
    }
    free(buf);
}

/* The usual run: data[0] picks the read size (1 + data[0] * step bytes),
 * frame() turns the rest into session input of at most cap bytes, which is
 * fed with each_read after every read, then the store is checked whole. */
static inline int fmc_run(const uint8_t *data, size_t size, size_t cap, size_t step,
                          void (*frame)(const uint8_t *, size_t, struct hp_buf *),
                          void (*each_read)(struct hp_mc_sess *))
{
    if (size < 1)
        return 0;
    struct hp_mc_sess s;
    fmc_open(&s);
    struct hp_buf in;
    hp_buf_init(&in, cap);
    frame(data + 1, size - 1, &in);
    fmc_feed(&s, in.data, in.len, 1 + (size_t)data[0] * step, each_read);
    fmc_check_store(true);
    hp_mc_close(&s);
    hp_buf_free(&in);
    return 0;
}

#endif
