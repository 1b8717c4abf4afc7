/*
 * fuzz_elm327.c - the ELM327 session machine (src/proto/elm327.c) on
 * arbitrary client bytes, delivered in pieces as the core would.  The first
 * byte picks the vehicle, the clock and the chunk size.  Invariants: never
 * consumes more than given, never keeps more than a line's worth buffered
 * (the adapter's buffer bounds it), every answer ends in the '>' prompt and
 * stays small.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "fuzz_events.h"
#include "reader.h"
#include "proto/elm327.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_out(void *arg, const void *p, size_t n)
{
    const uint8_t *b = p;
    if (n < 1 || n > 1024 || b[n - 1] != '>')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hp_evctx ctx = { .session = "000000000000", .protocol = "elm327", .transport = "tcp" };
    if (size < 1)
        return 0;
    size_t nv;
    const struct hp_elm_vehicle *v = hp_elm_vehicles(&nv);
    uint8_t ctl = data[0];
    data++, size--;
    char vin[18];
    hp_elm_vin_make(&v[ctl % nv], ctl, vin);
    struct hp_elm_sess s;
    hp_elm_open(&s, &v[ctl % nv], vin, &ctx, fuzz_drop_event, check_out, NULL);
    s.now_ms = 1780000000000LL + (int64_t)ctl * 997000;
    size_t chunk = 1 + (ctl >> 4) * 9;
    uint8_t *buf = malloc(size + 1);
    size_t have = 0, off = 0;
    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk;
        memcpy(buf + have, data + off, n);
        have += n;
        off += n;
        struct hp_rd rd;
        hp_rd_init(&rd, buf, have);
        hp_elm_input(&s, &rd);
        size_t used = hp_rd_pos(&rd);
        if (used > have || have - used > HP_ELM_LINE_MAX + 16)
            abort();
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    free(buf);
    return 0;
}
