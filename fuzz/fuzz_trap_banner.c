/*
 * fuzz_trap_banner.c - libFuzzer harness for the trap's built banners
 * (src/proto/trap_banner.c): the `banner_kind` value from the configuration
 * and the frame built for it.
 *
 * Input: any bytes, taken as the kind's name (up to the first NUL).
 * Checks: only "activemq" and "none" are kinds; the ActiveMQ frame reads
 * back whole with the bounds-checked reader: its size covers the rest, the
 * properties' length covers the map, and the twelve entries' names and
 * values end exactly at the end.
 * Seeds: fuzz/corpus/trap_banner/ (the two names and near misses).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "proto/trap_banner.h"
#include "reader.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void skip_utf(struct hp_rd *r)
{
    uint16_t n = hp_rd_u16be(r);
    CHECK(hp_rd_skip(r, n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[64];
    size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
    memcpy(name, data, n);
    name[n] = '\0';
    int k = hp_trap_banner_kind(name);
    CHECK(k == -1 || strcmp(name, "activemq") == 0 || strcmp(name, "none") == 0);
    if (k < 0)
        return 0;
    struct hp_buf b;
    hp_buf_init(&b, 64 * 1024);
    bool built = hp_trap_banner_build((enum hp_trap_banner_kind)k, &b);
    CHECK(built == (k == HP_TRAP_BANNER_ACTIVEMQ));
    if (built) {
        struct hp_rd r;
        hp_rd_init(&r, b.data, b.len);
        uint32_t size_field = hp_rd_u32be(&r);
        CHECK(size_field == b.len - 4);
        CHECK(hp_rd_u8(&r) == 1);
        CHECK(hp_rd_skip(&r, 8 + 4 + 1));
        uint32_t plen = hp_rd_u32be(&r);      /* read first: == does not order its operands */
        CHECK(plen == hp_rd_left(&r));
        uint32_t count = hp_rd_u32be(&r);
        CHECK(count == 12);
        for (uint32_t i = 0; i < count; i++) {
            skip_utf(&r);
            uint8_t t = hp_rd_u8(&r);
            if (t == 1)
                CHECK(hp_rd_skip(&r, 1));
            else if (t == 5)
                CHECK(hp_rd_skip(&r, 4));
            else if (t == 6)
                CHECK(hp_rd_skip(&r, 8));
            else {
                CHECK(t == 9);
                skip_utf(&r);
            }
        }
        CHECK(hp_rd_ok(&r) && hp_rd_left(&r) == 0);
    }
    hp_buf_free(&b);
    return 0;
}
