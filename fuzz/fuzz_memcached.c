/*
 * fuzz_memcached.c - the memcached session machine (src/proto/memcached.c)
 * on arbitrary client bytes, delivered in pieces as the core would.  The
 * first byte picks the chunk size.  Invariants: never consumes more than
 * given, never leaves more than HP_MC_LINE_MAX unread unless it is a
 * multiget line (data blocks are taken as they come), nothing is written
 * after the session asked to close, and every ASCII answer ends in CRLF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "fuzz_events.h"
#include "reader.h"
#include "proto/memcached.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int closed;
static struct hp_mc_sess *cur;

static int check_out(void *arg, const void *p, size_t n)
{
    const uint8_t *b = p;
    if (closed || n < 2)
        abort();
    if (!cur->binary && (b[n - 2] != '\r' || b[n - 1] != '\n'))
        abort();
    if (cur->binary && b[0] != 0x81)
        abort();
    return 0;
}

/* After at most 100 blanks, "get " or "gets ": a multiget may wait for its LF. */
static int multiget(const uint8_t *b, size_t n)
{
    size_t i = 0;
    while (i < n && i <= 100 && b[i] == ' ')
        i++;
    return i <= 100 && ((n - i >= 4 && memcmp(b + i, "get ", 4) == 0) || (n - i >= 5 && memcmp(b + i, "gets ", 5) == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hp_evctx ctx = { .session = "000000000000", .protocol = "memcached", .transport = "tcp",
                                   .src_ip = "192.0.2.1", .dst_ip = "192.0.2.2", .dst_port = 11211 };
    static int init;
    if (!init) {
        hp_mc_identity_init("1.6.18");
        init = 1;
    }
    if (size < 1)
        return 0;
    size_t chunk = 1 + (size_t)data[0] * 7;
    data++, size--;
    struct hp_mc_sess s;
    closed = 0;
    hp_mc_open(&s, &ctx, fuzz_drop_event, check_out, NULL);
    cur = &s;
    uint8_t *buf = malloc(size + 1);
    size_t have = 0, off = 0;
    while (off < size && !s.close_reason) {
        size_t n = size - off < chunk ? size - off : chunk;
        memcpy(buf + have, data + off, n);
        have += n;
        off += n;
        struct hp_rd rd;
        hp_rd_init(&rd, buf, have);
        hp_mc_input(&s, &rd);
        size_t used = hp_rd_pos(&rd);
        if (used > have)
            abort();
        size_t left = have - used;
        if (!s.close_reason && left > HP_MC_LINE_MAX && !multiget(buf + used, left))
            abort();
        if (s.close_reason)
            closed = 1;
        memmove(buf, buf + used, left);
        have = left;
    }
    hp_mc_close(&s);
    free(buf);
    hp_mc_store_reset();
    return 0;
}
