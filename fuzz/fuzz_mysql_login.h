/*
 * fuzz_mysql_login.h - what fuzz_mysql_stmt.c and fuzz_mysql_zip.c share: a
 * MariaDB 10.11 session logged in with a fixed HandshakeResponse41 (as
 * libmariadb sends it) and the clear-password switch, the plain packet
 * check, and the framing of one plain packet.  Header-only, static.
 */
#ifndef HP_FUZZ_MYSQL_LOGIN_H
#define HP_FUZZ_MYSQL_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "event.h"
#include "../src/proto/mysql.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

#define FUZZ_MY_CAPS (MY_CLIENT_PROTOCOL_41 | MY_CLIENT_SECURE_CONNECTION | MY_CLIENT_PLUGIN_AUTH | \
                      MY_CLIENT_PLUGIN_AUTH_LENENC | MY_CLIENT_CONNECT_WITH_DB | MY_CLIENT_MULTI_STATEMENTS | \
                      MY_CLIENT_SESSION_TRACK)

static struct hp_evctx fuzz_my_ctx = { .session = "000000000004", .protocol = "mysql", .service = "f",
                                       .transport = "tcp", .src_ip = "192.0.2.1", .dst_ip = "192.0.2.2",
                                       .src_port = 1, .dst_port = 3306 };

static inline void fuzz_my_pkt(struct hp_buf *b, uint8_t seq, const void *p, size_t n)
{
    uint8_t h[4] = { (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), seq };
    hp_buf_put(b, h, 4);
    hp_buf_put(b, p, n);
}

/* out[0..len) is a whole number of plain packets; their count. */
static inline size_t fuzz_my_packets(const uint8_t *out, size_t len)
{
    size_t off = 0, k = 0;
    while (off < len) {
        CHECK(off + 4 <= len);
        off += 4 + (out[off] | (size_t)out[off + 1] << 8 | (size_t)out[off + 2] << 16);
        k++;
    }
    CHECK(off == len);
    return k;
}

/* Greet, answer with caps (extra: DEPRECATE_EOF, COMPRESS), then the clear
 * password: logged in, out emptied. */
static inline void fuzz_my_login(struct hp_my_sess *s, struct hp_my_conf *cf, uint32_t extra)
{
    hp_my_conf_version(cf, "5.5.5-10.11.6-MariaDB-0+deb12u1");
    cf->clear_password = true;
    cf->accept_after = 1;
    cf->max_packet = 1 << 20;
    cf->max_auth = 4;
    hp_my_sources_reset();
    hp_my_sess_init(s, cf, &fuzz_my_ctx);
    hp_my_greet(s);
    uint32_t caps = FUZZ_MY_CAPS | extra;
    struct hp_buf p, in;
    hp_buf_init(&p, 4096);
    hp_buf_init(&in, 4096);
    uint8_t h[32] = { (uint8_t)caps, (uint8_t)(caps >> 8), (uint8_t)(caps >> 16), (uint8_t)(caps >> 24),
                      0, 0, 0, 1, 0x2d };
    static const uint8_t rest[] = "admin\0\x14\x01\x02\x03\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0shop\0mysql_native_password";
    hp_buf_put(&p, h, 32);
    hp_buf_put(&p, rest, sizeof(rest));
    fuzz_my_pkt(&in, 1, p.data, p.len);
    CHECK(hp_my_input(s, in.data, in.len) == in.len);
    hp_buf_reset(&in);
    fuzz_my_pkt(&in, 3, "admin123", 9);
    CHECK(hp_my_input(s, in.data, in.len) == in.len);
    CHECK(s->logged_in && !s->closing);
    CHECK(s->compress == ((extra & MY_CLIENT_COMPRESS) != 0));
    hp_buf_reset(&s->out);
    hp_buf_free(&p);
    hp_buf_free(&in);
}

static inline void fuzz_my_end(struct hp_my_sess *s, struct hp_my_conf *cf)
{
    hp_my_gone(s);
    hp_my_sess_free(s);
    free(cf->version);
    free(cf->comment);
}

#endif
