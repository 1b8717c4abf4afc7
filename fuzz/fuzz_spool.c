/*
 * fuzz_spool.c - libFuzzer harness for the disk spool's record parser
 * (src/store/spool.c) and the ClickHouse batch records inside it
 * (src/store/clickhouse.c).
 *
 * The input is the bytes of a segment file as a crash, a bad sector or a
 * hand edit might leave it.  Replay walks it record by record as
 * spool_replay() does.  Checked:
 *   - a parsed record lies inside the input, right after its 12-byte header,
 *     and re-encoding its header gives back the same bytes (CRC included);
 *   - parsing stops only at the end or at a record that fails (-1), which
 *     leaves the reader where that record started;
 *   - each payload given to the batch parser yields, if accepted, an id of
 *     [0-9a-f-] only (it goes into SQL), a NUL-free sensor and a body inside
 *     the payload.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "reader.h"
#include "store/clickhouse.h"
#include "store/spool.h"

static void check_batch(const uint8_t *p, size_t n)
{
    struct hp_ch_batch b;
    if (hp_ch_batch_parse(p, n, &b) != 0)
        return;
    size_t il = strlen(b.id);
    if (il == 0 || il >= sizeof(b.id) || strspn(b.id, "0123456789abcdef-") != il)
        abort();
    if (strlen(b.sensor) >= sizeof(b.sensor))
        abort();
    if (b.body < (const char *)p || b.body + b.body_len != (const char *)p + n)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hp_rd r;
    hp_rd_init(&r, data, size);
    for (;;) {
        size_t at = hp_rd_pos(&r);
        const uint8_t *p;
        size_t n;
        int rc = hp_spool_parse(&r, &p, &n);
        if (rc == 0) {
            if (at != size)
                abort();
            break;
        }
        if (rc < 0) {
            if (hp_rd_pos(&r) != at)
                abort();
            break;
        }
        if (p != data + at + HP_SPOOL_HDR || hp_rd_pos(&r) != at + HP_SPOOL_HDR + n)
            abort();
        uint8_t hdr[HP_SPOOL_HDR];
        hp_spool_header(hdr, p, n);
        if (memcmp(hdr, data + at, HP_SPOOL_HDR) != 0)
            abort();
        check_batch(p, n);
    }
    check_batch(data, size);   /* the batch parser on raw bytes too */
    return 0;
}
