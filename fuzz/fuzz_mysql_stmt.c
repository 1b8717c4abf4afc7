/*
 * fuzz_mysql_stmt.c - the MySQL look-alike's prepared statements
 * (src/proto/mysql_stmt.c) after a login, with the packet framing done
 * here so that the fuzzer explores the bodies of COM_STMT_* commands
 * rather than lengths and sequence ids.
 *
 * Byte 0: bit 0 asks for DEPRECATE_EOF at the login.  Then records: a kind
 * byte (its low 3 bits modulo 7: COM_STMT_PREPARE, _EXECUTE,
 * _SEND_LONG_DATA, _CLOSE, _RESET, _FETCH, or COM_QUERY; bit 6: the first
 * four body bytes are replaced by the last statement id given, so that
 * EXECUTE and FETCH meet a real statement; bit 7: a two-byte length
 * follows, else one), the length, the body.  Each record is one plain
 * packet with sequence id 0, fed whole.  Checked: every byte consumed, the
 * answer a whole number of packets whose sequence ids count 1, 2, 3...,
 * PREPARE/EXECUTE/RESET/FETCH/QUERY answered at least once while the
 * session stays open.
 */
#include "fuzz_mysql_login.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t cmds[] = { 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1c, 0x03 };

static void check_answer(const struct hp_my_sess *s, uint8_t cmd)
{
    size_t n = fuzz_my_packets(s->out.data, s->out.len), off = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(s->out.data[off + 3] == (uint8_t)(i + 1));
        off += 4 + (s->out.data[off] | (size_t)s->out.data[off + 1] << 8 | (size_t)s->out.data[off + 2] << 16);
    }
    if (!s->closing && cmd != 0x18 && cmd != 0x19)
        CHECK(n >= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct hp_my_conf cf = { 0 };
    struct hp_my_sess s;
    fuzz_my_login(&s, &cf, data[0] & 1 ? MY_CLIENT_DEPRECATE_EOF : 0);
    struct hp_buf body, in;
    hp_buf_init(&body, 1 << 17);
    hp_buf_init(&in, 1 << 17);
    size_t i = 1;
    while (i < size && !s.closing) {
        uint8_t k = data[i++];
        size_t len = i < size ? data[i++] : 0;
        if ((k & 0x80) && i < size)
            len = len << 8 | data[i++];
        if (len > size - i)
            len = size - i;
        uint8_t cmd = cmds[(k & 7) % 7];
        hp_buf_reset(&body);
        hp_buf_reset(&in);
        hp_buf_putc(&body, cmd);
        hp_buf_put(&body, data + i, len);
        if ((k & 0x40) && body.len >= 5) {
            uint32_t id = s.stmt_next;
            uint8_t le[4] = { (uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16), (uint8_t)(id >> 24) };
            memcpy(body.data + 1, le, 4);
        }
        i += len;
        fuzz_my_pkt(&in, 0, body.data, body.len);
        CHECK(hp_my_input(&s, in.data, in.len) == in.len);
        check_answer(&s, cmd);
        hp_buf_reset(&s.out);
    }
    hp_buf_free(&body);
    hp_buf_free(&in);
    fuzz_my_end(&s, &cf);
    return 0;
}
