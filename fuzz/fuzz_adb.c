/*
 * fuzz_adb.c - libFuzzer harness for the ADB wire format (src/proto/adb_msg.c).
 *
 * The input is a stream of ADB messages as a client would send them.  Byte 0
 * picks the options (checksum checked or not, the max payload bound); the rest
 * is parsed message by message as the module does, and each message's data
 * goes through the parsers the module would hand it to: OPEN payloads to the
 * service classifier, WRTE payloads to the sync unit parser and to the shell
 * v2 packet parser.  Checked:
 *   - a parsed message never exceeds the bound, its magic is right, and
 *     rebuilding it gives back the same bytes (checksum included when checked);
 *   - PARTIAL never consumes; the stream fed again in random-sized chunks
 *     (appended to a buffer, parsed as far as possible each time) yields the
 *     same messages at the same offsets;
 *   - service arguments point inside the payload; sync units and v2 packets
 *     stay within their bounds and inside the data.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "reader.h"
#include "proto/adb.h"

#define MAX_MSGS 4096

static void check_service(const struct hp_adb_msg *m)
{
    struct hp_adb_service s;
    hp_adb_service_parse(m->data, m->len, &s);
    if (s.arg && (s.arg < m->data || s.arg + s.arg_len > m->data + m->len))
        abort();
    if (s.term && (s.term < m->data || s.term + s.term_len > m->data + m->len))
        abort();
    if (!hp_adb_service_kind_name(s.kind))
        abort();
}

static void check_units(const struct hp_adb_msg *m)
{
    struct hp_rd r;
    struct hp_adb_sync_unit u;
    hp_rd_init(&r, m->data, m->len);
    for (int i = 0; i < 100000; i++) {
        size_t before = hp_rd_pos(&r);
        int rc = hp_adb_sync_parse(&r, &u);
        if (rc != HP_ADB_OK) {
            if (hp_rd_pos(&r) != before)
                abort();
            break;
        }
        if (u.data && (u.arg > HP_ADB_SYNC_DATA_MAX || u.data + u.arg > m->data + m->len))
            abort();
    }
    uint8_t id;
    const uint8_t *d;
    uint32_t n;
    hp_rd_init(&r, m->data, m->len);
    for (int i = 0; i < 100000; i++) {
        size_t before = hp_rd_pos(&r);
        int rc = hp_adb_sh2_parse(&r, &id, &d, &n);
        if (rc != HP_ADB_OK) {
            if (hp_rd_pos(&r) != before)
                abort();
            break;
        }
        if (n > HP_ADB_SH_PACKET_MAX || (n && d + n > m->data + m->len))
            abort();
    }
}

/* Parse as far as possible; record the end offset of each message. */
static size_t parse_all(const uint8_t *p, size_t n, uint32_t maxp, bool chk, size_t *ends, size_t nends,
                        bool deep)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    size_t k = 0;
    while (k < nends) {
        struct hp_adb_msg m;
        enum hp_adb_msg_err e;
        size_t before = hp_rd_pos(&r);
        int rc = hp_adb_msg_parse(&r, maxp, chk, &m, &e);
        if (rc != HP_ADB_OK) {
            if (hp_rd_pos(&r) != before)
                abort();
            if ((rc == HP_ADB_BAD) != (e != HP_ADB_E_NONE))
                abort();
            break;
        }
        if (m.len > maxp || m.magic != (m.cmd ^ 0xffffffffu) || hp_rd_pos(&r) != before + 24 + m.len)
            abort();
        if (deep) {
            struct hp_buf b;
            hp_buf_init(&b, 24 + (size_t)m.len);
            hp_adb_msg_build(&b, m.cmd, m.arg0, m.arg1, m.data, m.len, true);
            if (b.len != 24 + m.len || memcmp(b.data + 24, m.data, m.len) != 0 ||
                (chk && memcmp(b.data, p + before, 24) != 0))
                abort();
            hp_buf_free(&b);
            char name[12];
            hp_adb_cmd_name(m.cmd, name);
            if (m.cmd == HP_ADB_OPEN)
                check_service(&m);
            else if (m.cmd == HP_ADB_WRTE)
                check_units(&m);
        }
        ends[k++] = hp_rd_pos(&r);
    }
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    bool chk = opt & 1;
    static const uint32_t bounds[4] = { 4096, 256 * 1024, HP_ADB_PAYLOAD_MAX, 64 };
    uint32_t maxp = bounds[(opt >> 1) & 3];
    static size_t whole[MAX_MSGS], part[MAX_MSGS];
    size_t nw = parse_all(p, n, maxp, chk, whole, MAX_MSGS, true);
    /* chunked: the buffer grows by pseudo-random steps; consumed messages are dropped as the module does */
    uint32_t seed = 2166136261u ^ opt;
    size_t have = 0, base = 0, np = 0;
    while (have < n && np < MAX_MSGS) {
        seed = seed * 1103515245u + 12345u;
        size_t step = 1 + (seed >> 16) % 97;
        have = have + step < n ? have + step : n;
        size_t ends[64];
        size_t k = parse_all(p + base, have - base, maxp, chk, ends, 64, false);
        for (size_t i = 0; i < k && np < MAX_MSGS; i++)
            part[np++] = base + ends[i];
        if (k)
            base += ends[k - 1];
    }
    if (np < nw && have == n)
        abort();
    for (size_t i = 0; i < np && i < nw; i++)
        if (part[i] != whole[i])
            abort();
    return 0;
}
