/*
 * fuzz_s7.c - the S7comm session machine (src/proto/s7.c) on arbitrary
 * client bytes, delivered in pieces as the core would.  The first byte picks
 * the profile, the identity seed and the chunk size.  Invariants: never
 * consumes more than given, every answer is one TPKT whose length field is
 * its size and at most HP_S7_TPKT_MAX, nothing is answered after close.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "fuzz_events.h"
#include "reader.h"
#include "proto/s7.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool closed;

static void check_out(void *arg, const void *p, size_t n)
{
    const uint8_t *b = p;
    if (closed || n < 7 || n > HP_S7_TPKT_MAX || b[0] != 3 || (size_t)(b[2] << 8 | b[3]) != n)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hp_evctx ctx = { .session = "000000000000", .protocol = "s7comm", .transport = "tcp" };
    if (size < 1)
        return 0;
    size_t np;
    const struct hp_s7_profile *prof = hp_s7_profiles(&np);
    uint8_t ctl = data[0];
    data++, size--;
    struct hp_s7_ident id;
    hp_s7_ident_make(&id, &prof[ctl % np], ctl);
    struct hp_s7_sess s;
    hp_s7_open(&s, &id, &ctx, fuzz_drop_event, check_out, NULL);
    closed = false;
    size_t chunk = 1 + (ctl >> 4) * 17;
    uint8_t *buf = malloc(size + 1);
    size_t have = 0, off = 0;
    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk;
        memcpy(buf + have, data + off, n);
        have += n;
        off += n;
        struct hp_rd rd;
        hp_rd_init(&rd, buf, have);
        hp_s7_input(&s, &rd);
        size_t used = hp_rd_pos(&rd);
        if (used > have)
            abort();
        closed = s.close_reason != NULL;
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    free(buf);
    return 0;
}
