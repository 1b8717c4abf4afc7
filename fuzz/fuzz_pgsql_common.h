/*
 * fuzz_pgsql_common.h - what the PostgreSQL harnesses past the login share
 * (fuzz_pgsql_ext.c, fuzz_pgsql_txn.c): framing a typed message, checking
 * that an answer is a sequence of well-formed backend messages (ReadyForQuery
 * 5 bytes with status I, T or E), and the startup + cleartext password that
 * log a session in (pg_fuzz_open / pg_fuzz_close).  Each harness keeps its
 * own event context.
 */
#ifndef FUZZ_PGSQL_COMMON_H
#define FUZZ_PGSQL_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "event.h"
#include "../src/proto/pgsql.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static inline void be32(struct hp_buf *b, uint32_t v)
{
    uint8_t t[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    hp_buf_put(b, t, 4);
}

static inline void typed(struct hp_buf *b, char type, const void *body, size_t n)
{
    hp_buf_putc(b, (uint8_t)type);
    be32(b, (uint32_t)n + 4);
    hp_buf_put(b, body, n);
}

/* Every message of out: a known backend type and a length inside out. */
static inline void check_messages(const struct hp_buf *out)
{
    static const char types[] = "RSKZENCDTIn12356stAGHWcdV";
    size_t off = 0;
    while (off < out->len) {
        CHECK(off + 5 <= out->len);
        const uint8_t *m = out->data + off;
        uint32_t len = (uint32_t)m[1] << 24 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 8 | m[4];
        CHECK(len >= 4 && len <= out->len - off - 1);
        CHECK(m[0] != 0 && strchr(types, m[0]) != NULL);
        if (m[0] == 'Z')
            CHECK(len == 5 && (m[5] == 'I' || m[5] == 'T' || m[5] == 'E'));
        off += 1 + len;
    }
}

/* The startup and the password: the session is then logged in. */
static inline void login(struct hp_pg_sess *s, struct hp_buf *in)
{
    static const uint8_t kv[] = "user\0postgres\0database\0postgres\0application_name\0psql\0";
    struct hp_buf body;
    hp_buf_init(&body, 256);
    be32(&body, 3u << 16);
    hp_buf_put(&body, kv, sizeof(kv));
    be32(in, (uint32_t)body.len + 4);
    hp_buf_put(in, body.data, body.len);
    hp_buf_free(&body);
    typed(in, 'p', "secretpw", 9);
    CHECK(hp_pg_input(s, in->data, in->len) == in->len);
    CHECK(!s->closing);
    check_messages(&s->out);
    hp_buf_reset(in);
}

/* A logged-in session of the release flag picks (bit 0: 15.18, else 13.8),
 * with its input buffer; pg_fuzz_close frees all three. */
static inline void pg_fuzz_open(struct hp_pg_conf *cf, struct hp_pg_sess *s, struct hp_buf *in, uint8_t flag,
                                const struct hp_evctx *ctx)
{
    memset(cf, 0, sizeof(*cf));
    hp_pg_conf_version(cf, flag & 1 ? "15.18 (Debian 15.18-0+deb12u1)" : "13.8 (Debian 13.8-0+deb11u1)");
    cf->accept_after = 1;
    cf->max_query = 1 << 16;
    hp_pg_sources_reset();
    hp_pg_sess_init(s, cf, ctx);
    hp_buf_init(in, 1u << 20);
    login(s, in);
}

static inline void pg_fuzz_close(struct hp_pg_conf *cf, struct hp_pg_sess *s, struct hp_buf *in)
{
    hp_buf_free(in);
    hp_pg_sess_free(s);
    free(cf->version);
}

#endif
