/*
 * fuzz_mysql_query.c - what src/proto/mysql_query.c does with the SQL an
 * attacker sends after logging in: hp_my_query (normaliser, statement
 * dispatcher, multi-statements) and hp_my_literal (the literal decoder
 * behind INTO DUMPFILE).  fuzz_mysql.c reaches them through the whole
 * handshake; this harness starts logged in, so every input is a query.
 *
 * Byte 0 picks the flavour and the client's capabilities (multi-statements,
 * DEPRECATE_EOF); the rest is one COM_QUERY text, answered twice on the same
 * session (so SET @x / CREATE DATABASE / INSERT state is used by the second
 * answer).  Checked for each answer, as a client would read it:
 *   - there is an answer (a client waits for one forever otherwise), it is
 *     a well-formed run of packets with sequence ids 1, 2, 3...
 *   - it is a run of results, each an OK, an ERR, or a text result set
 *     (column count, that many column definitions, EOF unless DEPRECATE_EOF,
 *     rows, then EOF / OK-0xfe); every result but the last says
 *     SERVER_MORE_RESULTS_EXISTS, the last does not; an ERR ends the answer;
 *     without multi-statements there is exactly one result
 * And hp_my_literal on the input, plus round trips of the input's bytes
 * through the literal forms bots use to write files: 0x.., X'..',
 * '..' with escapes, unhex('..'), from_base64('..'), concat(..), char(..):
 * each must decode to exactly those bytes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "buf.h"
#include "event.h"
#include "proto/mysql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define ST_MORE 0x0008u

static struct hp_evctx ctx = { .session = "000000000001", .protocol = "mysql", .service = "f",
                               .transport = "tcp", .src_ip = "192.0.2.1", .dst_ip = "192.0.2.2",
                               .src_port = 1, .dst_port = 3306 };

struct pkt {
    const uint8_t *p;
    size_t n;
};

/* A length-encoded integer at p[0..n); false if it does not fit. */
static bool lenenc(const uint8_t *p, size_t n, size_t *used, uint64_t *v)
{
    if (n < 1 || p[0] == 0xfb || p[0] == 0xff)
        return false;
    size_t w = p[0] < 0xfb ? 0 : p[0] == 0xfc ? 2 : p[0] == 0xfd ? 3 : 8;
    if (n < 1 + w)
        return false;
    *v = w ? 0 : p[0];
    for (size_t i = 0; i < w; i++)
        *v |= (uint64_t)p[1 + i] << (8 * i);
    *used = 1 + w;
    return true;
}

/* The status flags of an OK (0x00 or 0xfe header) or EOF packet. */
static unsigned status_of(struct pkt k)
{
    uint64_t v;
    size_t u, off = 1;
    if (k.p[0] == 0xfe && k.n == 5)              /* EOF: warnings, status */
        return (unsigned)(k.p[3] | k.p[4] << 8);
    for (int i = 0; i < 2; i++) {                /* affected rows, last insert id */
        CHECK(lenenc(k.p + off, k.n - off, &u, &v));
        off += u;
    }
    CHECK(off + 2 <= k.n);
    return (unsigned)(k.p[off] | k.p[off + 1] << 8);
}

static void check_answer(const struct hp_buf *out, bool multi, bool deprecate_eof)
{
    static struct pkt pk[1 << 14];
    size_t np = 0, off = 0;
    CHECK(hp_buf_ok(out) && out->len > 0);
    while (off < out->len) {
        CHECK(off + 4 <= out->len && np < sizeof(pk) / sizeof(pk[0]));
        size_t n = out->data[off] | (size_t)out->data[off + 1] << 8 | (size_t)out->data[off + 2] << 16;
        CHECK(out->data[off + 3] == (uint8_t)(np + 1));
        CHECK(n > 0 && off + 4 + n <= out->len);
        pk[np++] = (struct pkt){ out->data + off + 4, n };
        off += 4 + n;
    }
    size_t i = 0, results = 0;
    while (i < np) {
        struct pkt first = pk[i++];
        unsigned st;
        results++;
        if (first.p[0] == 0xff) {
            CHECK(i == np);                          /* an error ends the batch */
            break;
        }
        if (first.p[0] == 0x00) {
            st = status_of(first);
        } else {
            uint64_t ncols;
            size_t u;
            CHECK(lenenc(first.p, first.n, &u, &ncols) && u == first.n && ncols > 0);
            CHECK(i + ncols <= np);
            for (uint64_t c = 0; c < ncols; c++, i++)
                CHECK(pk[i].n >= 4 && memcmp(pk[i].p, "\x03" "def", 4) == 0);
            if (!deprecate_eof) {
                CHECK(i < np && pk[i].p[0] == 0xfe && pk[i].n == 5);
                i++;
            }
            while (i < np && !(pk[i].p[0] == 0xfe && pk[i].n < 9))
                i++;                                 /* rows */
            CHECK(i < np);
            st = status_of(pk[i++]);
        }
        CHECK(((st & ST_MORE) != 0) == (i < np));
    }
    if (!multi)
        CHECK(results == 1);
}

static const char hexd[] = "0123456789abcdef";

static void put_hexstr(struct hp_buf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hp_buf_putc(b, (uint8_t)hexd[p[i] >> 4]);
        hp_buf_putc(b, (uint8_t)hexd[p[i] & 15]);
    }
}

static void put_sqlstr(struct hp_buf *b, const uint8_t *p, size_t n)
{
    hp_buf_putc(b, '\'');
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\'' || p[i] == '\\') {
            hp_buf_putc(b, '\\');
            hp_buf_putc(b, p[i]);
        } else if (p[i] == 0) {
            hp_buf_puts(b, "\\0");
        } else {
            hp_buf_putc(b, p[i]);
        }
    }
    hp_buf_putc(b, '\'');
}

/* expr must decode to exactly p[0..n). */
static void expect(const struct hp_my_sess *s, const struct hp_buf *expr, const uint8_t *p, size_t n)
{
    struct hp_buf out;
    CHECK(hp_buf_ok(expr));
    hp_buf_init(&out, 1 << 16);
    CHECK(hp_my_literal(s, (const char *)expr->data, expr->len, &out));
    CHECK(out.len == n && (n == 0 || memcmp(out.data, p, n) == 0));
    hp_buf_free(&out);
}

static void check_literals(const struct hp_my_sess *s, const uint8_t *p, size_t n)
{
    struct hp_buf e;
    if (n > 2048)
        n = 2048;
    hp_buf_init(&e, 1 << 16);
    if (n) {
        hp_buf_puts(&e, "0x");
        put_hexstr(&e, p, n);
        expect(s, &e, p, n);
    }
    hp_buf_reset(&e);
    hp_buf_puts(&e, "X'");
    put_hexstr(&e, p, n);
    hp_buf_putc(&e, '\'');
    expect(s, &e, p, n);

    hp_buf_reset(&e);
    put_sqlstr(&e, p, n);
    expect(s, &e, p, n);

    hp_buf_reset(&e);
    hp_buf_puts(&e, "unhex('");
    put_hexstr(&e, p, n);
    hp_buf_puts(&e, "')");
    expect(s, &e, p, n);

    hp_buf_reset(&e);
    hp_buf_puts(&e, "from_base64('");
    CHECK(hp_buf_reserve(&e, 4 * n / 3 + 8));
    e.len += (size_t)EVP_EncodeBlock(e.data + e.len, p, (int)n);
    hp_buf_puts(&e, "')");
    expect(s, &e, p, n);

    hp_buf_reset(&e);                             /* concat(0x<first half>, '<second half>') */
    size_t h = n / 2;
    hp_buf_puts(&e, "concat(X'");
    put_hexstr(&e, p, h);
    hp_buf_puts(&e, "', ");
    put_sqlstr(&e, p + h, n - h);
    hp_buf_putc(&e, ')');
    expect(s, &e, p, n);

    if (n && n <= 256) {
        hp_buf_reset(&e);
        hp_buf_puts(&e, "char(");
        for (size_t i = 0; i < n; i++)
            hp_buf_printf(&e, "%s%u", i ? "," : "", p[i]);
        hp_buf_putc(&e, ')');
        expect(s, &e, p, n);
    }
    hp_buf_free(&e);

    struct hp_buf out;                           /* and the input itself as an expression */
    hp_buf_init(&out, 1 << 16);
    hp_my_literal(s, (const char *)p, n, &out);
    CHECK(out.len <= out.cap);
    hp_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    static const char *const versions[] = { "5.7.44", "8.0.36", "5.5.5-10.11.6-MariaDB-0+deb12u1" };
    struct hp_my_conf cf = { 0 };
    hp_my_conf_version(&cf, versions[data[0] % 3]);
    cf.max_packet = 1 << 16;
    cf.max_auth = 4;
    struct hp_my_sess s;
    hp_my_sess_init(&s, &cf, &ctx);
    s.logged_in = true;
    s.client_caps = MY_CLIENT_PROTOCOL_41 | MY_CLIENT_SECURE_CONNECTION | MY_CLIENT_PLUGIN_AUTH;
    if (data[0] & 4)
        s.client_caps |= MY_CLIENT_MULTI_STATEMENTS;
    if (data[0] & 8)
        s.client_caps |= MY_CLIENT_DEPRECATE_EOF;
    if (data[0] & 16)
        snprintf(s.db, sizeof(s.db), "mysql");
    bool multi = (s.client_caps & MY_CLIENT_MULTI_STATEMENTS) != 0;
    bool deof = (s.client_caps & s.server_caps & MY_CLIENT_DEPRECATE_EOF) != 0;
    for (int round = 0; round < 2; round++) {
        hp_buf_reset(&s.out);
        s.seq = 1;
        hp_my_query(&s, data + 1, size - 1);
        check_answer(&s.out, multi, deof);
    }
    check_literals(&s, data + 1, size - 1);
    hp_my_sess_free(&s);
    free(cf.version);
    free(cf.comment);
    return 0;
}
