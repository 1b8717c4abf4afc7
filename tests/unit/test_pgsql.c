/*
 * test_pgsql.c - the PostgreSQL look-alike's session engine (src/proto/pgsql.c)
 * without sockets: SSLRequest / GSSENCRequest refused with 'N', the
 * StartupMessage parameters, the cleartext and MD5 password requests, the
 * exact FATAL 28P01 after a wrong password, the "unsupported frontend
 * protocol" error nmap identifies releases by, a missing user name, a bad
 * startup length, login after accept_after with the ParameterStatus set,
 * simple queries, and input fed byte by byte; the bounds on what Query
 * messages can make it do (statements per message and per connection, the
 * text kept per event), each one recorded in the events.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "event.h"
#include "output.h"
#include "proto/pgsql.h"

static struct hp_evctx ctx = { .session = "000000000002", .protocol = "postgresql", .service = "t",
                               .transport = "tcp", .src_ip = "10.0.0.9", .dst_ip = "10.0.0.2",
                               .src_port = 40000, .dst_port = 5432 };

static struct hp_pg_conf conf(bool md5, uint64_t accept_after)
{
    struct hp_pg_conf cf = { 0 };
    hp_pg_conf_version(&cf, "13.8 (Debian 13.8-0+deb11u1)");
    cf.md5 = md5;
    cf.accept_after = accept_after;
    cf.max_query = 1 << 20;
    return cf;
}

static void be32(struct hp_buf *b, uint32_t v)
{
    uint8_t t[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    hp_buf_put(b, t, 4);
}

static void startup(struct hp_buf *b, const char *const *kv, size_t n)
{
    struct hp_buf body;
    hp_buf_init(&body, 4096);
    be32(&body, 3u << 16);
    for (size_t i = 0; i < n; i++)
        hp_buf_put(&body, kv[i], strlen(kv[i]) + 1);
    hp_buf_putc(&body, 0);
    be32(b, (uint32_t)body.len + 4);
    hp_buf_put(b, body.data, body.len);
    hp_buf_free(&body);
}

static void typed(struct hp_buf *b, char type, const char *text)
{
    hp_buf_putc(b, (uint8_t)type);
    be32(b, (uint32_t)strlen(text) + 5);
    hp_buf_put(b, text, strlen(text) + 1);
}

/* Message types of s->out in order ("RSSSKZ" ...). */
static void types(const struct hp_buf *out, char *t, size_t tlen)
{
    size_t off = 0, k = 0;
    while (off + 5 <= out->len && k < tlen - 1) {
        t[k++] = (char)out->data[off];
        uint32_t len = (uint32_t)out->data[off + 1] << 24 | (uint32_t)out->data[off + 2] << 16 |
                       (uint32_t)out->data[off + 3] << 8 | out->data[off + 4];
        off += 1 + len;
    }
    assert_int_equal(off, out->len);
    t[k] = '\0';
}

/* A field of the first ErrorResponse. */
static const char *field(const struct hp_buf *out, char f)
{
    assert_int_equal(out->data[0], 'E');
    const char *p = (const char *)out->data + 5;
    while (*p) {
        if (*p == f)
            return p + 1;
        p += strlen(p) + 1;
    }
    return NULL;
}

static const char *const params[] = { "user", "postgres", "database", "prod", "application_name", "psql",
                                      "client_encoding", "UTF8" };

static void test_ssl_startup_fail(void **st)
{
    (void)st;
    hp_pg_sources_reset();
    struct hp_pg_conf cf = conf(false, 0);
    struct hp_pg_sess s;
    hp_pg_sess_init(&s, &cf, &ctx);
    struct hp_buf in;
    hp_buf_init(&in, 4096);
    be32(&in, 8);
    be32(&in, 80877103);
    assert_int_equal(hp_pg_input(&s, in.data, in.len), 8);
    assert_int_equal(s.out.len, 1);
    assert_int_equal(s.out.data[0], 'N');
    hp_buf_reset(&s.out);
    hp_buf_reset(&in);
    startup(&in, params, 8);
    assert_int_equal(hp_pg_input(&s, in.data, in.len), in.len);
    assert_string_equal(s.user, "postgres");
    assert_string_equal(s.db, "prod");
    assert_string_equal(s.app, "psql");
    assert_int_equal(s.out.len, 9);
    assert_memory_equal(s.out.data, "R\0\0\0\x08\0\0\0\x03", 9);
    hp_buf_reset(&s.out);
    hp_buf_reset(&in);
    typed(&in, 'p', "hunter2");
    assert_int_equal(hp_pg_input(&s, in.data, in.len), in.len);
    char t[32];
    types(&s.out, t, sizeof(t));
    assert_string_equal(t, "E");
    assert_string_equal(field(&s.out, 'S'), "FATAL");
    assert_string_equal(field(&s.out, 'V'), "FATAL");
    assert_string_equal(field(&s.out, 'C'), "28P01");
    assert_string_equal(field(&s.out, 'M'), "password authentication failed for user \"postgres\"");
    assert_string_equal(field(&s.out, 'R'), "auth_failed");
    assert_true(s.closing);
    hp_buf_free(&in);
    hp_pg_sess_free(&s);
    free(cf.version);
}

static void test_md5_and_errors(void **st)
{
    (void)st;
    struct hp_pg_conf cf = conf(true, 0);
    struct hp_pg_sess s;
    hp_pg_sess_init(&s, &cf, &ctx);
    struct hp_buf in;
    hp_buf_init(&in, 4096);
    startup(&in, params, 2);
    hp_pg_input(&s, in.data, in.len);
    assert_int_equal(s.out.len, 13);
    assert_memory_equal(s.out.data, "R\0\0\0\x0c\0\0\0\x05", 9);
    assert_memory_equal(s.out.data + 9, s.salt, 4);
    assert_string_equal(s.db, "postgres");       /* database defaults to the user */
    hp_pg_sess_free(&s);

    /* nmap's SMB probe read as a startup packet. */
    hp_pg_sess_init(&s, &cf, &ctx);
    static const uint8_t smb[] = "\0\0\0\xa4\xff\x53\x4d\x42\x72\0\0\0\0\x08\x01\x40";
    hp_buf_reset(&in);
    hp_buf_put(&in, smb, sizeof(smb) - 1);
    static uint8_t pad[0xa4];
    hp_buf_put(&in, pad, 0xa4 - (sizeof(smb) - 1));
    assert_int_equal(hp_pg_input(&s, in.data, in.len), in.len);
    assert_string_equal(field(&s.out, 'C'), "0A000");
    assert_string_equal(field(&s.out, 'M'), "unsupported frontend protocol 65363.19778: server supports 2.0 to 3.0");
    assert_string_equal(field(&s.out, 'F'), "postmaster.c");
    assert_string_equal(field(&s.out, 'L'), "2133");
    assert_string_equal(field(&s.out, 'R'), "ProcessStartupPacket");
    assert_true(s.closing);
    hp_pg_sess_free(&s);

    /* No user name. */
    hp_pg_sess_init(&s, &cf, &ctx);
    hp_buf_reset(&in);
    startup(&in, params + 2, 2);
    hp_pg_input(&s, in.data, in.len);
    assert_string_equal(field(&s.out, 'C'), "28000");
    hp_pg_sess_free(&s);

    /* A length below 8: closed without an answer. */
    hp_pg_sess_init(&s, &cf, &ctx);
    assert_int_equal(hp_pg_input(&s, (const uint8_t *)"\0\0\0\x04xxxx", 8), 8);
    assert_true(s.closing);
    assert_int_equal(s.out.len, 0);
    hp_pg_sess_free(&s);
    hp_buf_free(&in);
    free(cf.version);
}

static void session(struct hp_buf *out_whole, bool bytewise)
{
    hp_pg_sources_reset();
    struct hp_pg_conf cf = conf(false, 1);
    struct hp_pg_sess s;
    hp_pg_sess_init(&s, &cf, &ctx);
    s.pid = 4242;
    s.key = 7;
    struct hp_buf in;
    hp_buf_init(&in, 4096);
    startup(&in, params, 8);
    typed(&in, 'p', "pw");
    typed(&in, 'Q', "select version(); SELECT 1; create table t(x text); copy t from program 'id'");
    typed(&in, 'Q', " ; ");
    typed(&in, 'Q', "bogus");
    typed(&in, 'X', "");
    size_t used = 0;
    if (bytewise)
        for (size_t fed = 1; fed <= in.len; fed++)
            used += hp_pg_input(&s, in.data + used, fed - used);
    else
        used = hp_pg_input(&s, in.data, in.len);
    assert_int_equal(used, in.len);
    assert_true(s.closing);
    if (!bytewise) {
        char t[64];
        types(&s.out, t, sizeof(t));
        assert_string_equal(t, "RRSSSSSSSSSSSKZTDCTDCCCZIZEZ");
        assert_non_null(memmem(s.out.data, s.out.len, "server_version\0" "13.8 (Debian 13.8-0+deb11u1)", 44));
        assert_non_null(memmem(s.out.data, s.out.len, "CREATE TABLE", 12));
        assert_non_null(memmem(s.out.data, s.out.len, "syntax error at or near \"bogus\"", 31));
        hp_buf_put(out_whole, s.out.data, s.out.len);
    } else {
        assert_true(s.out.len == out_whole->len && memcmp(s.out.data, out_whole->data, s.out.len) == 0);
    }
    hp_buf_free(&in);
    hp_pg_sess_free(&s);
    free(cf.version);
}

static void test_login_and_queries(void **st)
{
    (void)st;
    struct hp_buf whole;
    hp_buf_init(&whole, 1 << 16);
    session(&whole, false);
    session(&whole, true);
    hp_buf_free(&whole);
}

/* command.input events caught from the output tap, and how many said they were cut. */
static size_t n_cmd, n_stmts_cut, n_input_cut;

static void tap(struct hp_event *e, void *arg)
{
    (void)arg;
    if (!strstr(e->json, "\"eventid\":\"command.input\""))
        return;
    n_cmd++;
    n_stmts_cut += strstr(e->json, "\"statements_truncated\":true") != NULL;
    n_input_cut += strstr(e->json, "\"input_truncated\":true") != NULL;
}

static void logged_in(struct hp_pg_sess *s, const struct hp_pg_conf *cf)
{
    hp_pg_sources_reset();
    hp_pg_sess_init(s, cf, &ctx);
    struct hp_buf in;
    hp_buf_init(&in, 4096);
    startup(&in, params, 8);
    typed(&in, 'p', "pw");
    assert_int_equal(hp_pg_input(s, in.data, in.len), in.len);
    assert_false(s->closing);
    hp_buf_reset(&s->out);
    hp_buf_free(&in);
}

static size_t count_type(const struct hp_buf *out, char type)
{
    char t[8192];
    size_t k = 0;
    types(out, t, sizeof(t));
    for (size_t i = 0; t[i]; i++)
        k += t[i] == type;
    return k;
}

/*
 * A Query of 100 statements: 64 answered (as mysql.c's multi-statements)
 * and the cut said in the last event.  A connection answered every Query
 * it was sent, each up to 64 command events and 64 answers: 1000
 * statements per connection now (mssql.c's 1000 batches), an empty query
 * counting one, then it is closed.  A statement over 64 KiB is kept cut,
 * with its length.
 */
static void test_statement_bounds(void **st)
{
    (void)st;
    struct hp_pg_conf cf = conf(false, 1);
    struct hp_pg_sess s;
    struct hp_buf q, in;
    hp_buf_init(&q, 1 << 20);
    hp_buf_init(&in, 4 << 20);
    logged_in(&s, &cf);
    for (int i = 0; i < 100; i++)
        hp_buf_puts(&q, "select 1;");
    hp_buf_putc(&q, 0);
    typed(&in, 'Q', (const char *)q.data);
    n_cmd = n_stmts_cut = 0;
    assert_int_equal(hp_pg_input(&s, in.data, in.len), in.len);
    assert_int_equal(n_cmd, 64);
    assert_int_equal(n_stmts_cut, 1);
    assert_int_equal(count_type(&s.out, 'C'), 64);
    assert_int_equal(count_type(&s.out, 'Z'), 1);
    /* 14 more messages of 64 make 960 statements, 40 empty queries the 1000 */
    hp_buf_reset(&s.out);
    for (int i = 0; i < 14; i++)
        assert_int_equal(hp_pg_input(&s, in.data, in.len), in.len);
    assert_false(s.closing);
    hp_buf_reset(&s.out);
    hp_buf_reset(&in);
    for (int i = 0; i < 100; i++)
        typed(&in, 'Q', "");
    assert_int_equal(hp_pg_input(&s, in.data, in.len), in.len);
    assert_true(s.closing);
    assert_string_equal(s.close_reason, "too_many_queries");
    assert_int_equal(count_type(&s.out, 'I'), 40);
    assert_int_equal(n_cmd, 960);
    hp_pg_sess_free(&s);

    /* the budget spent in the middle of a Query: the cut is recorded there */
    logged_in(&s, &cf);
    hp_buf_reset(&in);
    typed(&in, 'Q', (const char *)q.data);
    for (int i = 0; i < 15; i++)
        hp_pg_input(&s, in.data, in.len);
    assert_false(s.closing);
    n_cmd = n_stmts_cut = 0;
    hp_buf_reset(&s.out);
    assert_int_equal(hp_pg_input(&s, in.data, in.len), in.len);
    assert_int_equal(n_cmd, 1000 - 15 * 64);
    assert_int_equal(n_stmts_cut, 1);
    assert_true(s.closing);
    assert_int_equal(count_type(&s.out, 'Z'), 1);
    hp_pg_sess_free(&s);

    /* one statement of 100 KB: 64 KiB of it in the event, marked */
    logged_in(&s, &cf);
    hp_buf_reset(&q);
    hp_buf_puts(&q, "select '");
    for (int i = 0; i < 100000; i++)
        hp_buf_putc(&q, 'x');
    hp_buf_puts(&q, "'");
    hp_buf_putc(&q, 0);
    hp_buf_reset(&in);
    typed(&in, 'Q', (const char *)q.data);
    n_cmd = n_input_cut = 0;
    assert_int_equal(hp_pg_input(&s, in.data, in.len), in.len);
    assert_int_equal(n_cmd, 1);
    assert_int_equal(n_input_cut, 1);
    hp_pg_sess_free(&s);
    hp_buf_free(&q);
    hp_buf_free(&in);
    free(cf.version);
}

int main(void)
{
    hp_output_set_tap(tap, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ssl_startup_fail),
        cmocka_unit_test(test_md5_and_errors),
        cmocka_unit_test(test_login_and_queries),
        cmocka_unit_test(test_statement_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
