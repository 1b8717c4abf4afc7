/*
 * fuzz_modbus.c - the Modbus/TCP session machine (src/proto/modbus.c) on
 * arbitrary client bytes, delivered in pieces as the core would (unconsumed
 * bytes offered again with the next piece), with a stale-timer pass at the
 * end.  The first byte picks the profile and the chunk size.  Invariants:
 * never consumes more than given, every answer is one well-formed ADU
 * (length field matching, at most 260 bytes), nothing is answered after
 * the machine asked to close.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "fuzz_events.h"
#include "reader.h"
#include "proto/modbus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool closed;

static void check_out(void *arg, const void *p, size_t n)
{
    const uint8_t *b = p;
    if (closed || n < 9 || n > HP_MODBUS_ADU_MAX || (size_t)(b[4] << 8 | b[5]) != n - 6)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hp_evctx ctx = { .session = "000000000000", .protocol = "modbus", .transport = "tcp" };
    if (size < 1)
        return 0;
    size_t np;
    const struct hp_modbus_profile *prof = hp_modbus_profiles(&np);
    uint8_t ctl = data[0];
    data++, size--;
    struct hp_modbus_sess s;
    hp_modbus_open(&s, &prof[ctl % np], 0x1234, &ctx, fuzz_drop_event, check_out, NULL);
    s.now_ms = 1780000000000LL;
    closed = false;
    size_t chunk = 1 + (ctl >> 4) * 5;
    uint8_t *buf = malloc(size + 1);
    size_t have = 0, off = 0;
    while (off <= size) {
        size_t n = size - off < chunk ? size - off : chunk;
        memcpy(buf + have, data + off, n);
        have += n;
        off += n;
        struct hp_rd rd;
        hp_rd_init(&rd, buf, have);
        hp_modbus_input(&s, &rd, off >= size);
        size_t used = hp_rd_pos(&rd);
        if (used > have)
            abort();
        closed = s.close_reason != NULL;
        memmove(buf, buf + used, have - used);
        have -= used;
        if (off >= size)
            break;
    }
    free(buf);
    return 0;
}
