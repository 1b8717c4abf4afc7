/*
 * fuzz_vnc.c - the VNC session machine (src/proto/vnc.c) on arbitrary client
 * bytes, delivered in pieces as the core would (unconsumed bytes offered
 * again with the next piece).  The first byte picks the server family, the
 * crack switch, whether the banner wait runs out first and the chunk size.  Invariants: the machine never consumes
 * more than it was given, never answers more than HP_VNC_OUT_MAX bytes, and
 * once it asked to close it stays closed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "fuzz_events.h"
#include "reader.h"
#include "proto/vnc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hp_evctx ctx = { .session = "000000000000", .protocol = "vnc", .transport = "tcp" };
    if (size < 1)
        return 0;
    size_t npers;
    const struct hp_vnc_pers *pers = hp_vnc_pers_all(&npers);
    uint8_t ctl = data[0];
    data++, size--;
    struct hp_vnc_sess s;
    hp_vnc_open(&s, &pers[ctl % npers], &ctx, (ctl & 0x10) != 0, fuzz_drop_event);
    if (ctl & 0x08)
        hp_vnc_timeout(&s);        /* x11vnc: nobody spoke in 100 ms */
    size_t chunk = 1 + (ctl >> 5) * 3;
    uint8_t *buf = malloc(size + 1);
    size_t have = 0, off = 0;
    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk;
        memcpy(buf + have, data + off, n);
        have += n;
        off += n;
        bool was_closed = s.close_reason != NULL;
        struct hp_rd rd;
        hp_rd_init(&rd, buf, have);
        hp_vnc_input(&s, &rd);
        size_t used = hp_rd_pos(&rd);
        if (used > have || s.outlen > HP_VNC_OUT_MAX || (was_closed && (!s.close_reason || s.outlen)))
            abort();
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    free(buf);
    return 0;
}
