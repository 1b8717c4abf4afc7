/*
 * fuzz_adb_msg.c - the ADB wire parsers of src/proto/adb_msg.c, called
 * directly (fuzz_adb.c runs the whole session engine; this harness checks
 * what adb.h promises of each parser).
 *
 * Byte 0 picks the parser options (max payload 4096 or 1 MiB, checksum
 * checked or not); the rest is parsed four ways, each on its own reader:
 *   hp_adb_msg_parse    a stream of messages: OK consumes exactly 24 + len
 *                       bytes with len <= max payload, the magic matches,
 *                       the checksum too when asked; rebuilding the message
 *                       with hp_adb_msg_build gives the consumed bytes back;
 *                       PARTIAL and BAD leave the reader untouched, and
 *                       PARTIAL only when the announced message is really
 *                       longer than what is there
 *   hp_adb_service_parse every OPEN payload seen, and the raw input: the
 *                       argument and TERM lie inside the name, the argument
 *                       follows the first ':'
 *   hp_adb_sync_parse   a sync stream: same consumption and limits, path
 *                       and DATA lengths within their caps
 *   hp_adb_sh2_parse    a shell v2 stream: round trip with hp_adb_sh2_build
 * and hp_adb_cmd_name gives a NUL-terminated name for every command.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "reader.h"
#include "proto/adb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void check_service(const uint8_t *name, size_t len)
{
    struct hp_adb_service s;
    hp_adb_service_parse(name, len, &s);
    CHECK(hp_adb_service_kind_name(s.kind) != NULL);
    const uint8_t *colon = len ? memchr(name, ':', len) : NULL;
    if (s.arg) {
        CHECK(colon && s.arg == colon + 1 && s.arg + s.arg_len <= name + len);
    } else {
        CHECK(s.arg_len == 0 && colon == NULL);    /* only trailing NULs are dropped */
    }
    if (s.term)
        CHECK(s.kind == HP_ADB_SVC_SHELL && s.term >= name && s.term + s.term_len <= name + len &&
              s.term_len > 0);
    if (s.v2 || s.pty != HP_ADB_PTY_AUTO || s.term)
        CHECK(s.kind == HP_ADB_SVC_SHELL);
    if (s.kind == HP_ADB_SVC_SHELL)
        CHECK(len >= 5 && memcmp(name, "shell", 5) == 0);
}

static void check_msgs(const uint8_t *p, size_t n, uint32_t max, bool sum)
{
    struct hp_rd r;
    struct hp_buf b;
    hp_rd_init(&r, p, n);
    hp_buf_init(&b, HP_ADB_PAYLOAD_MAX + 64);
    for (int i = 0; i < 64; i++) {
        struct hp_adb_msg m;
        enum hp_adb_msg_err err = HP_ADB_E_NONE;
        size_t before = hp_rd_pos(&r), left = hp_rd_left(&r);
        int rc = hp_adb_msg_parse(&r, max, sum, &m, &err);
        if (rc != HP_ADB_OK) {
            CHECK(hp_rd_pos(&r) == before && hp_rd_ok(&r));
            if (rc == HP_ADB_PARTIAL) {
                CHECK(err == HP_ADB_E_NONE);
                CHECK(left < HP_ADB_HDR_LEN || HP_ADB_HDR_LEN + (size_t)le32(p + before + 12) > left);
            } else {
                CHECK(rc == HP_ADB_BAD && err != HP_ADB_E_NONE);
                CHECK(err != HP_ADB_E_LENGTH || le32(p + before + 12) > max);
            }
            break;
        }
        CHECK(err == HP_ADB_E_NONE);
        CHECK(hp_rd_pos(&r) == before + HP_ADB_HDR_LEN + m.len && m.len <= max);
        CHECK(m.magic == (m.cmd ^ 0xffffffffu));
        CHECK(m.len == 0 || (m.data == p + before + HP_ADB_HDR_LEN));
        CHECK(!sum || hp_adb_checksum(m.data, m.len) == m.check);
        /* rebuild: the same bytes (check is 0 or the sum, as hosts send it) */
        if (m.check == 0 || m.check == hp_adb_checksum(m.data, m.len)) {
            hp_buf_reset(&b);
            hp_adb_msg_build(&b, m.cmd, m.arg0, m.arg1, m.data, m.len, m.check != 0);
            CHECK(hp_buf_ok(&b) && b.len == HP_ADB_HDR_LEN + m.len);
            CHECK(memcmp(b.data, p + before, b.len) == 0);
        }
        char name[12];
        memset(name, 'x', sizeof(name));
        hp_adb_cmd_name(m.cmd, name);
        CHECK(memchr(name, 0, sizeof(name)) != NULL);
        if (m.cmd == HP_ADB_OPEN)
            check_service(m.data, m.len);
    }
    hp_buf_free(&b);
}

static void check_sync(const uint8_t *p, size_t n)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    for (int i = 0; i < 64; i++) {
        struct hp_adb_sync_unit u;
        size_t before = hp_rd_pos(&r), left = hp_rd_left(&r);
        int rc = hp_adb_sync_parse(&r, &u);
        if (rc != HP_ADB_OK) {
            CHECK(hp_rd_pos(&r) == before && hp_rd_ok(&r));
            CHECK(rc == HP_ADB_BAD || left < 8 || 8 + (size_t)le32(p + before + 4) > left);
            break;
        }
        size_t used = hp_rd_pos(&r) - before;
        if (u.data) {
            CHECK(used == 8 + u.arg && u.data == p + before + 8);
            CHECK(u.arg <= (u.id == HP_ADB_ID('D', 'A', 'T', 'A') ? HP_ADB_SYNC_DATA_MAX : HP_ADB_SYNC_PATH_MAX));
        } else {
            CHECK(used == 8);
            CHECK(u.arg == 0 || u.id == HP_ADB_ID('D', 'O', 'N', 'E') || u.id == HP_ADB_ID('Q', 'U', 'I', 'T'));
        }
    }
}

static void check_sh2(const uint8_t *p, size_t n)
{
    struct hp_rd r;
    struct hp_buf b;
    hp_rd_init(&r, p, n);
    hp_buf_init(&b, HP_ADB_SH_PACKET_MAX + 16);
    for (int i = 0; i < 64; i++) {
        uint8_t id;
        const uint8_t *d = NULL;
        uint32_t len;
        size_t before = hp_rd_pos(&r);
        int rc = hp_adb_sh2_parse(&r, &id, &d, &len);
        if (rc != HP_ADB_OK) {
            CHECK(hp_rd_pos(&r) == before && hp_rd_ok(&r));
            break;
        }
        CHECK(len <= HP_ADB_SH_PACKET_MAX && hp_rd_pos(&r) == before + 5 + len);
        hp_buf_reset(&b);
        hp_adb_sh2_build(&b, id, d, len);
        CHECK(b.len == 5 + (size_t)len && memcmp(b.data, p + before, b.len) == 0);
    }
    hp_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint32_t max = (data[0] & 1) ? HP_ADB_PAYLOAD_MAX : HP_ADB_PAYLOAD_V1;
    bool sum = (data[0] & 2) != 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    check_msgs(p, n, max, sum);
    check_sync(p, n);
    check_sh2(p, n);
    check_service(p, n);
    return 0;
}
