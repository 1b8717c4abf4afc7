/*
 * fuzz_mysql.c - libFuzzer harness for the MySQL look-alike's session
 * engine (src/proto/mysql.c, mysql_query.c): the handshake response
 * parser, the auth switch, the command dispatcher, the statement
 * normaliser and the literal decoder behind INTO DUMPFILE.
 *
 * Byte 0 picks the flavour, accept_after (0 or 1, so that both the refusal
 * and the query paths are reached) and whether the clear-password switch is
 * asked for; the rest is the client's byte stream, fed in chunks whose sizes
 * come from the data.  Checked: the engine never claims more bytes than it
 * was given, what it sends is a well-formed sequence of packets, nothing is
 * consumed after it asked to close, compressed answers (CLIENT_COMPRESS)
 * inflate to what their headers say; and the whole input also goes through
 * hp_my_literal.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "buf.h"
#include "event.h"
#include "../src/proto/mysql.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hp_evctx ctx = { .session = "000000000001", .protocol = "mysql", .service = "f",
                               .transport = "tcp", .src_ip = "192.0.2.1", .dst_ip = "192.0.2.2",
                               .src_port = 1, .dst_port = 3306 };

static void check_packets(const struct hp_buf *out)
{
    size_t off = 0;
    while (off < out->len) {
        CHECK(off + 4 <= out->len);
        size_t n = out->data[off] | (size_t)out->data[off + 1] << 8 | (size_t)out->data[off + 2] << 16;
        off += 4 + n;
    }
    CHECK(off == out->len);
}

/* Compressed framing (CLIENT_COMPRESS after the login): 7-byte headers,
 * each body inflating to exactly the announced length, a whole number of
 * plain packets in all. */
static void check_compressed(const struct hp_buf *out)
{
    struct hp_buf plain;
    hp_buf_init(&plain, 64u << 20);
    size_t off = 0;
    while (off < out->len) {
        CHECK(off + 7 <= out->len);
        const uint8_t *h = out->data + off;
        size_t clen = h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16, ulen = h[4] | (size_t)h[5] << 8 | (size_t)h[6] << 16;
        CHECK(off + 7 + clen <= out->len);
        if (ulen == 0) {
            CHECK(hp_buf_put(&plain, h + 7, clen));
        } else {
            CHECK(ulen >= 50 && clen < ulen && hp_buf_reserve(&plain, ulen));
            uLongf got = ulen;
            CHECK(uncompress(plain.data + plain.len, &got, h + 7, clen) == Z_OK && got == ulen);
            plain.len += ulen;
        }
        off += 7 + clen;
    }
    check_packets(&plain);
    hp_buf_free(&plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const char *const versions[] = { "5.7.44", "8.0.36", "5.5.5-10.11.6-MariaDB-0+deb12u1" };
    struct hp_my_conf cf = { 0 };
    hp_my_conf_version(&cf, versions[data[0] % 3]);
    cf.accept_after = (data[0] >> 2) & 1;
    cf.clear_password = (data[0] >> 3) & 1;
    cf.max_packet = 1 << 16;
    cf.max_auth = 4;
    hp_my_sources_reset();
    struct hp_my_sess s;
    hp_my_sess_init(&s, &cf, &ctx);
    hp_my_greet(&s);
    check_packets(&s.out);
    hp_buf_reset(&s.out);

    const uint8_t *p = data + 1;
    size_t left = size - 1, pending = 0, step = 0;
    while (left > 0 && !s.closing) {
        size_t chunk = 1 + (p[0] * 7u + step++) % 97;
        if (chunk > left)
            chunk = left;
        pending += chunk;
        left -= chunk;
        bool was = s.compress;
        size_t used = hp_my_input(&s, p, pending);
        CHECK(used <= pending);
        p += used;
        pending -= used;
        if (was)
            check_compressed(&s.out);
        else if (!s.compress)
            check_packets(&s.out);          /* else: the login's OK, then compressed answers */
        hp_buf_reset(&s.out);
    }
    hp_my_gone(&s);

    struct hp_buf lit;
    hp_buf_init(&lit, 1 << 16);
    hp_my_literal(&s, (const char *)data + 1, size - 1, &lit);
    CHECK(lit.len <= lit.cap);
    hp_buf_free(&lit);
    hp_my_sess_free(&s);
    free(cf.version);
    free(cf.comment);
    return 0;
}
