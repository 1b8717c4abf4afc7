/*
 * fuzz_sshfile_common.h - what the SCP and SFTP harnesses share: the record of
 * one run, the event check, the session parameters, feeding the input whole
 * or in pseudo-random chunks, and comparing two runs.
 */
#ifndef HP_FUZZ_SSHFILE_COMMON_H
#define HP_FUZZ_SSHFILE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "event.h"
#include "proto/sshfile.h"
#include "../tests/unit/json_check.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct run {
    struct hp_buf out;
    int exits;
    int status;
    int events;
};

static inline void f_event(struct hp_event *e, void *arg)
{
    struct run *r = arg;
    CHECK(jc_valid(e->json, e->json_len));
    CHECK(jc_safe_text(e->json, e->json_len));
    r->events++;
    hp_event_unref(e);
}

/* Reset r and give the parameters every run has (root, no store directory);
 * the caller sets username and the caps where they differ. */
static inline struct hp_sshfile_params run_begin(struct run *r, void (*wr)(void *, const void *, size_t),
                                                 void (*ex)(void *, int))
{
    struct hp_sshfile_params prm = {
        .data_dir = "/nonexistent-fuzz",
        .username = "root",
        .write = wr,
        .exit = ex,
        .io = r,
        .event_hook = f_event,
        .event_arg = r,
        .now = 1700000000,
    };
    memset(r, 0, sizeof(*r));
    hp_buf_init(&r->out, 64u << 20);
    return prm;
}

/* Feed p whole, or in chunks of 1 to most bytes drawn by an xorshift from seed. */
static inline void feed(struct hp_sshfile *f, const uint8_t *p, size_t n, bool chunked, uint32_t seed, uint32_t most)
{
    if (!chunked) {
        hp_sshfile_input(f, p, n);
        return;
    }
    uint32_t x = seed;
    size_t off = 0;
    while (off < n) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t k = 1 + x % most;
        if (k > n - off)
            k = n - off;
        hp_sshfile_input(f, p + off, k);
        off += k;
    }
}

/* The whole and the chunked run must have written, emitted and exited alike. */
static inline void check_same(const struct run *a, const struct run *b)
{
    CHECK(a->out.len == b->out.len);
    CHECK(a->out.len == 0 || memcmp(a->out.data, b->out.data, a->out.len) == 0);
    CHECK(a->events == b->events);
    CHECK(a->status == b->status);
}

#endif
