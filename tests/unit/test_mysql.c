/*
 * test_mysql.c - the MySQL look-alike's session engine (src/proto/mysql.c,
 * mysql_query.c) driven without sockets: the greeting's layout, the
 * HandshakeResponse41 / 320 parser, the switch to mysql_clear_password, who
 * gets in (accept_after per source, then only the remembered pair, a
 * native-password scramble checked against it), the exact error packets,
 * result sets with and without CLIENT_DEPRECATE_EOF, the literal decoder
 * behind INTO DUMPFILE, oversize packets, and input fed byte by byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/sha.h>
#include <zlib.h>

#include "buf.h"
#include "event.h"
#include "output.h"
#include "proto/mysql.h"

static struct hp_evctx ctx = { .session = "000000000001", .protocol = "mysql", .service = "t",
                               .transport = "tcp", .src_ip = "10.0.0.1", .dst_ip = "10.0.0.2",
                               .src_port = 40000, .dst_port = 3306 };

static struct hp_my_conf conf(const char *version, uint64_t accept_after)
{
    struct hp_my_conf cf = { 0 };
    hp_my_conf_version(&cf, version);
    cf.clear_password = true;
    cf.accept_after = accept_after;
    cf.max_packet = 1 << 20;
    cf.max_auth = 8;
    return cf;
}

static void conf_free(struct hp_my_conf *cf)
{
    free(cf->version);
    free(cf->comment);
}

/* The i-th packet of out: payload pointer/len and sequence id. */
static const uint8_t *packet(const struct hp_buf *out, int i, size_t *len, uint8_t *seq)
{
    size_t off = 0;
    for (;;) {
        assert_true(off + 4 <= out->len);
        size_t n = out->data[off] | (size_t)out->data[off + 1] << 8 | (size_t)out->data[off + 2] << 16;
        assert_true(off + 4 + n <= out->len);
        if (i-- == 0) {
            *len = n;
            if (seq)
                *seq = out->data[off + 3];
            return out->data + off + 4;
        }
        off += 4 + n;
    }
}

static int npackets(const struct hp_buf *out)
{
    size_t off = 0;
    int k = 0;
    while (off + 4 <= out->len) {
        off += 4 + (out->data[off] | (size_t)out->data[off + 1] << 8 | (size_t)out->data[off + 2] << 16);
        k++;
    }
    assert_int_equal(off, out->len);
    return k;
}

static void put_pkt(struct hp_buf *b, uint8_t seq, const void *p, size_t n)
{
    uint8_t h[4] = { (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), seq };
    hp_buf_put(b, h, 4);
    hp_buf_put(b, p, n);
}

/* HandshakeResponse41 as libmariadb sends it. */
static void response41(struct hp_buf *b, uint32_t caps, const char *user, const uint8_t *resp, size_t rlen,
                       const char *db, const char *plugin, bool attrs)
{
    struct hp_buf p;
    hp_buf_init(&p, 4096);
    uint8_t h[32] = { (uint8_t)caps, (uint8_t)(caps >> 8), (uint8_t)(caps >> 16), (uint8_t)(caps >> 24),
                      0, 0, 0, 1, 0x2d };
    hp_buf_put(&p, h, 32);
    hp_buf_put(&p, user, strlen(user) + 1);
    if (caps & MY_CLIENT_PLUGIN_AUTH_LENENC) {
        hp_buf_putc(&p, (uint8_t)rlen);
    } else {
        hp_buf_putc(&p, (uint8_t)rlen);
    }
    hp_buf_put(&p, resp, rlen);
    if (db)
        hp_buf_put(&p, db, strlen(db) + 1);
    if (plugin)
        hp_buf_put(&p, plugin, strlen(plugin) + 1);
    if (attrs) {
        static const char a[] = "\x0c_client_name\x0alibmariadb\x0cprogram_name\x05mysql\x03_os\x05Linux";
        hp_buf_putc(&p, (uint8_t)(sizeof(a) - 1));
        hp_buf_put(&p, a, sizeof(a) - 1);
    }
    put_pkt(b, 1, p.data, p.len);
    hp_buf_free(&p);
}

#define CAPS_MARIADB (MY_CLIENT_PROTOCOL_41 | MY_CLIENT_SECURE_CONNECTION | MY_CLIENT_PLUGIN_AUTH | \
                      MY_CLIENT_PLUGIN_AUTH_LENENC | MY_CLIENT_CONNECT_ATTRS | MY_CLIENT_CONNECT_WITH_DB | \
                      MY_CLIENT_MULTI_STATEMENTS | MY_CLIENT_DEPRECATE_EOF | MY_CLIENT_SESSION_TRACK)

static void feed(struct hp_my_sess *s, const struct hp_buf *in)
{
    size_t used = hp_my_input(s, in->data, in->len);
    assert_int_equal(used, in->len);
}

static void test_greeting(void **st)
{
    (void)st;
    const char *versions[] = { "5.7.44", "8.0.36", "5.5.5-10.11.6-MariaDB-0+deb12u1" };
    for (size_t v = 0; v < 3; v++) {
        struct hp_my_conf cf = conf(versions[v], 3);
        struct hp_my_sess s;
        hp_my_sess_init(&s, &cf, &ctx);
        hp_my_greet(&s);
        size_t n;
        uint8_t seq;
        const uint8_t *p = packet(&s.out, 0, &n, &seq);
        assert_int_equal(seq, 0);
        assert_true(n < 256);                       /* nmap's match wants a one-byte length */
        assert_int_equal(p[0], 10);
        assert_string_equal((const char *)p + 1, versions[v]);
        const uint8_t *q = p + 1 + strlen(versions[v]) + 1;
        q += 4;                                     /* connection id */
        assert_memory_equal(q, s.scramble, 8);
        assert_int_equal(q[8], 0);
        uint32_t caps = (uint32_t)(q[9] | q[10] << 8) | (uint32_t)(q[14] | q[15] << 8) << 16;
        assert_false(caps & MY_CLIENT_SSL);
        assert_true(caps & MY_CLIENT_PLUGIN_AUTH);
        assert_int_equal(q[16], 21);
        assert_memory_equal(q + 27, s.scramble + 8, 12);
        assert_int_equal(q[39], 0);
        assert_string_equal((const char *)q + 40, "mysql_native_password");
        assert_int_equal((size_t)(q + 40 + 22 - p), n);
        for (int i = 0; i < 20; i++)
            assert_true(s.scramble[i] && s.scramble[i] < 0x80 && s.scramble[i] != '$');
        hp_my_sess_free(&s);
        conf_free(&cf);
    }
}

/* A session greeted and logged in through the clear-password switch. */
static void login(struct hp_my_sess *s, struct hp_my_conf *cf, const char *user, const char *pw, bool expect_ok)
{
    hp_my_sess_init(s, cf, &ctx);
    hp_my_greet(s);
    hp_buf_reset(&s->out);
    struct hp_buf in;
    hp_buf_init(&in, 1 << 16);
    uint8_t resp[20] = { 1, 2, 3 };
    response41(&in, CAPS_MARIADB, user, resp, 20, "shop", "mysql_native_password", true);
    feed(s, &in);
    size_t n;
    uint8_t seq;
    const uint8_t *p = packet(&s->out, 0, &n, &seq);
    assert_int_equal(seq, 2);
    assert_int_equal(n, 1 + sizeof("mysql_clear_password"));
    assert_int_equal(p[0], 0xfe);
    assert_string_equal((const char *)p + 1, "mysql_clear_password");
    assert_string_equal(s->user, user);
    assert_string_equal(s->db, "shop");
    assert_string_equal(s->client_app, "mysql");
    hp_buf_reset(&s->out);
    hp_buf_reset(&in);
    put_pkt(&in, 3, pw, strlen(pw) + 1);
    feed(s, &in);
    p = packet(&s->out, 0, &n, &seq);
    assert_int_equal(seq, 4);
    if (expect_ok) {
        assert_int_equal(p[0], 0x00);
        assert_true(s->logged_in);
        assert_false(s->closing);
    } else {
        assert_int_equal(p[0], 0xff);
        assert_int_equal(p[1] | p[2] << 8, 1045);
        char want[200];
        snprintf(want, sizeof(want), "#28000Access denied for user '%s'@'10.0.0.1' (using password: YES)", user);
        assert_int_equal(n - 3, strlen(want));
        assert_memory_equal(p + 3, want, strlen(want));
        assert_true(s->closing);
    }
    hp_buf_reset(&s->out);
    hp_buf_free(&in);
}

static void test_accept_after(void **st)
{
    (void)st;
    hp_my_sources_reset();
    struct hp_my_conf cf = conf("8.0.36", 3);
    struct hp_my_sess s;
    login(&s, &cf, "root", "a", false);
    hp_my_sess_free(&s);
    login(&s, &cf, "root", "b", false);
    hp_my_sess_free(&s);
    login(&s, &cf, "root", "c", true);            /* the third attempt */
    hp_my_sess_free(&s);
    login(&s, &cf, "root", "d", false);           /* from now on only root/c */
    hp_my_sess_free(&s);
    login(&s, &cf, "admin", "c", false);
    hp_my_sess_free(&s);
    login(&s, &cf, "root", "c", true);
    hp_my_sess_free(&s);

    /* A client without plugin auth: the native scramble is checked against "c". */
    for (int good = 0; good < 2; good++) {
        hp_my_sess_init(&s, &cf, &ctx);
        hp_my_greet(&s);
        hp_buf_reset(&s.out);
        uint8_t h1[20], h2[20], h3[20], cat[40], resp[20];
        const char *pw = good ? "c" : "x";
        SHA1((const uint8_t *)pw, 1, h1);
        SHA1(h1, 20, h2);
        memcpy(cat, s.scramble, 20);
        memcpy(cat + 20, h2, 20);
        SHA1(cat, 40, h3);
        for (int i = 0; i < 20; i++)
            resp[i] = h1[i] ^ h3[i];
        struct hp_buf in;
        hp_buf_init(&in, 4096);
        response41(&in, MY_CLIENT_PROTOCOL_41 | MY_CLIENT_SECURE_CONNECTION, "root", resp, 20, NULL, NULL, false);
        feed(&s, &in);
        size_t n;
        const uint8_t *p = packet(&s.out, 0, &n, NULL);
        assert_int_equal(p[0], good ? 0x00 : 0xff);
        hp_buf_free(&in);
        hp_my_sess_free(&s);
    }
    conf_free(&cf);
}

static void test_refused_switch_and_320(void **st)
{
    (void)st;
    hp_my_sources_reset();
    struct hp_my_conf cf = conf("5.7.44", 0);
    struct hp_my_sess s;
    hp_my_sess_init(&s, &cf, &ctx);
    hp_my_greet(&s);
    hp_buf_reset(&s.out);
    struct hp_buf in;
    hp_buf_init(&in, 4096);
    uint8_t resp[20] = { 9 };
    response41(&in, CAPS_MARIADB, "sa", resp, 20, NULL, "mysql_native_password", false);
    feed(&s, &in);
    assert_true(s.attempt_open);
    hp_my_gone(&s);                              /* the client closed instead of answering */
    assert_false(s.attempt_open);
    assert_int_equal(s.attempts, 1);
    hp_my_sess_free(&s);

    /* HandshakeResponse320: caps without PROTOCOL_41, user, old scramble, db. */
    hp_my_sess_init(&s, &cf, &ctx);
    hp_my_greet(&s);
    hp_buf_reset(&s.out);
    hp_buf_reset(&in);
    static const uint8_t r320[] = { 0x8d, 0x00, 0xff, 0xff, 0x00, 'b', 'o', 'b', 0, 'A', 'B', 'C', 'D', 'E',
                                    'F', 'G', 'H', 0, 't', 'e', 's', 't', 0 };
    put_pkt(&in, 1, r320, sizeof(r320));
    feed(&s, &in);
    assert_string_equal(s.user, "bob");
    assert_string_equal(s.db, "test");
    assert_int_equal(s.resp_len, 8);
    size_t n;
    const uint8_t *p = packet(&s.out, 0, &n, NULL);
    assert_int_equal(p[0], 0xff);
    assert_int_equal(p[1] | p[2] << 8, 1045);
    assert_int_not_equal(p[3], '#');             /* a 3.20 client gets no SQL state */
    hp_buf_free(&in);
    hp_my_sess_free(&s);
    conf_free(&cf);
}

static void test_bad_handshake_and_oversize(void **st)
{
    (void)st;
    struct hp_my_conf cf = conf("8.0.36", 1);
    struct hp_my_sess s;
    hp_my_sess_init(&s, &cf, &ctx);
    hp_my_greet(&s);
    hp_buf_reset(&s.out);
    struct hp_buf in;
    hp_buf_init(&in, 4096);
    /* An SSLRequest although SSL was not announced. */
    uint8_t ssl[32] = { 0x00, 0x8a, 0x00, 0x00 };
    ssl[1] |= MY_CLIENT_SSL >> 8;
    ssl[1] |= MY_CLIENT_PROTOCOL_41 >> 8;
    put_pkt(&in, 1, ssl, sizeof(ssl));
    feed(&s, &in);
    size_t n;
    const uint8_t *p = packet(&s.out, 0, &n, NULL);
    assert_int_equal(p[1] | p[2] << 8, 1043);
    assert_memory_equal(p + 3, "#08S01Bad handshake", 19);
    assert_true(s.closing);
    hp_my_sess_free(&s);

    hp_my_sess_init(&s, &cf, &ctx);
    hp_my_greet(&s);
    hp_buf_reset(&s.out);
    uint8_t big[4] = { 0x00, 0x00, 0x20, 0x01 };   /* 2 MiB > max_packet */
    assert_int_equal(hp_my_input(&s, big, 4), 4);
    p = packet(&s.out, 0, &n, NULL);
    assert_int_equal(p[1] | p[2] << 8, 1153);
    assert_true(s.closing);
    hp_buf_free(&in);
    hp_my_sess_free(&s);
    conf_free(&cf);
}

static void query(struct hp_my_sess *s, const char *q)
{
    struct hp_buf in;
    hp_buf_init(&in, 1 << 20);
    struct hp_buf p;
    hp_buf_init(&p, 1 << 20);
    hp_buf_putc(&p, 0x03);
    hp_buf_puts(&p, q);
    put_pkt(&in, 0, p.data, p.len);
    hp_buf_reset(&s->out);
    feed(s, &in);
    hp_buf_free(&in);
    hp_buf_free(&p);
}

/* The text of cell (row, col) of a result set in s->out (CLIENT_DEPRECATE_EOF on). */
static void cell(const struct hp_my_sess *s, int ncols, int row, int col, char *out, size_t outlen)
{
    size_t n;
    const uint8_t *p = packet(&s->out, 0, &n, NULL);
    assert_int_equal(p[0], ncols);
    p = packet(&s->out, 1 + ncols + row, &n, NULL);
    size_t off = 0;
    for (int c = 0;; c++) {
        assert_true(off < n);
        if (p[off] == 0xfb) {
            if (c == col) {
                snprintf(out, outlen, "NULL");
                return;
            }
            off++;
            continue;
        }
        size_t l = p[off];
        assert_true(l < 251);
        if (c == col) {
            snprintf(out, outlen, "%.*s", (int)l, (const char *)p + off + 1);
            return;
        }
        off += 1 + l;
    }
}

static unsigned err_code(const struct hp_my_sess *s, char *msg, size_t msglen)
{
    size_t n;
    const uint8_t *p = packet(&s->out, 0, &n, NULL);
    if (p[0] != 0xff)
        return 0;
    snprintf(msg, msglen, "%.*s", (int)(n - 9), (const char *)p + 9);
    return (unsigned)(p[1] | p[2] << 8);
}

static void test_queries(void **st)
{
    (void)st;
    hp_my_sources_reset();
    struct hp_my_conf cf = conf("5.5.5-10.11.6-MariaDB-0+deb12u1", 1);
    struct hp_my_sess s;
    login(&s, &cf, "root", "toor", true);
    char v[512], msg[512];

    query(&s, "select @@version_comment limit 1");
    cell(&s, 1, 0, 0, v, sizeof(v));
    assert_string_equal(v, "Debian 12");
    size_t n;
    uint8_t seq;
    const uint8_t *p = packet(&s.out, npackets(&s.out) - 1, &n, &seq);
    assert_int_equal(p[0], 0xfe);                /* DEPRECATE_EOF: an OK packet ends the set */
    assert_int_equal(n, 7);
    assert_int_equal(npackets(&s.out), 4);       /* count, column, row, end */

    query(&s, "SELECT VERSION(), user() AS u, database(), 42, 'x''y', /* c */ 0x4142");
    cell(&s, 6, 0, 0, v, sizeof(v));
    assert_string_equal(v, "10.11.6-MariaDB-0+deb12u1");
    cell(&s, 6, 0, 1, v, sizeof(v));
    assert_string_equal(v, "root@10.0.0.1");
    cell(&s, 6, 0, 2, v, sizeof(v));
    assert_string_equal(v, "shop");
    cell(&s, 6, 0, 3, v, sizeof(v));
    assert_string_equal(v, "42");
    cell(&s, 6, 0, 4, v, sizeof(v));
    assert_string_equal(v, "x'y");
    cell(&s, 6, 0, 5, v, sizeof(v));
    assert_string_equal(v, "AB");

    query(&s, "show databases");
    assert_int_equal(npackets(&s.out), 2 + 5 + 1);
    cell(&s, 1, 1, 0, v, sizeof(v));
    assert_string_equal(v, "mysql");

    query(&s, "SHOW VARIABLES LIKE 'secure_file%'");
    assert_int_equal(npackets(&s.out), 1 + 2 + 1 + 1);
    cell(&s, 2, 0, 0, v, sizeof(v));
    assert_string_equal(v, "secure_file_priv");

    query(&s, "use nosuch");
    assert_int_equal(err_code(&s, msg, sizeof(msg)), 1049);
    assert_string_equal(msg, "Unknown database 'nosuch'");
    query(&s, "CREATE DATABASE IF NOT EXISTS nosuch");
    assert_int_equal(err_code(&s, msg, sizeof(msg)), 0);
    query(&s, "use `nosuch`");
    assert_int_equal(err_code(&s, msg, sizeof(msg)), 0);
    assert_string_equal(s.db, "nosuch");
    query(&s, "select * from users");
    assert_int_equal(err_code(&s, msg, sizeof(msg)), 1146);
    assert_string_equal(msg, "Table 'nosuch.users' doesn't exist");

    query(&s, "hello world");
    assert_int_equal(err_code(&s, msg, sizeof(msg)), 1064);
    assert_string_equal(msg, "You have an error in your SQL syntax; check the manual that corresponds to your "
                             "MariaDB server version for the right syntax to use near 'hello world' at line 1");

    query(&s, "/*!40101 SET NAMES utf8mb4 */;");
    p = packet(&s.out, 0, &n, NULL);
    assert_int_equal(p[0], 0x00);

    query(&s, "set @a = concat('', 0x7f454c46)");
    query(&s, "SELECT @a INTO DUMPFILE '/usr/lib/mysql/plugin/udf.so'");
    p = packet(&s.out, 0, &n, NULL);
    assert_int_equal(p[0], 0x00);
    assert_int_equal(p[1], 1);                   /* 1 row affected */

    query(&s, "create function sys_eval returns string soname 'udf.so'");
    assert_int_equal(s.nudfs, 1);
    /* the UDF answers with the emulated shell's output (never run); sys_exec its status */
    query(&s, "select sys_eval(concat('echo ', 0x6869, '; whoami'))");
    cell(&s, 1, 0, 0, v, sizeof(v));
    assert_string_equal(v, "hi\nmysql\n");
    query(&s, "create function sys_exec returns integer soname 'udf.so'");
    query(&s, "select sys_exec('exit 3')");
    cell(&s, 1, 0, 0, v, sizeof(v));
    assert_string_equal(v, "3");
    query(&s, "select sys_eval(@nosuch)");       /* nothing to evaluate: NULL */
    cell(&s, 1, 0, 0, v, sizeof(v));
    assert_string_equal(v, "NULL");

    query(&s, "");
    assert_int_equal(err_code(&s, msg, sizeof(msg)), 1065);

    /* Multi-statements: SERVER_MORE_RESULTS_EXISTS on all but the last; an error ends the batch. */
    query(&s, "select 1; select 'a;b' ;");
    assert_int_equal(npackets(&s.out), 8);
    p = packet(&s.out, 3, &n, NULL);
    assert_true(p[0] == 0xfe && (p[3] & 0x08));
    p = packet(&s.out, 7, &n, NULL);
    assert_true(p[0] == 0xfe && !(p[3] & 0x08));
    query(&s, "drop database if exists x; bogus; select 3");
    assert_int_equal(npackets(&s.out), 2);
    p = packet(&s.out, 0, &n, NULL);
    assert_true(p[0] == 0x00 && (p[3] & 0x08));
    p = packet(&s.out, 1, &n, NULL);
    assert_int_equal(p[0], 0xff);
    /* An unterminated quote (found by fuzz_mysql_query): the statement runs
     * to the end and is answered; the client would wait forever otherwise. */
    query(&s, "select 'abc");
    assert_true(npackets(&s.out) >= 1);
    query(&s, "select 1; select 'abc");
    p = packet(&s.out, 3, &n, NULL);
    assert_true(p[0] == 0xfe && (p[3] & 0x08));     /* the first result says more follow */
    assert_true(npackets(&s.out) > 4);

    /* COM_QUIT */
    struct hp_buf in;
    hp_buf_init(&in, 64);
    put_pkt(&in, 0, "\x01", 1);
    hp_buf_reset(&s.out);
    feed(&s, &in);
    assert_true(s.closing);
    assert_int_equal(s.out.len, 0);
    hp_buf_free(&in);
    hp_my_sess_free(&s);
    conf_free(&cf);
}

static void test_literals(void **st)
{
    (void)st;
    struct hp_my_conf cf = conf("8.0.36", 1);
    struct hp_my_sess s;
    hp_my_sess_init(&s, &cf, &ctx);
    static const struct { const char *in; const char *out; size_t n; } t[] = {
        { "0x414243", "ABC", 3 },
        { "0x141", "\x01\x41", 2 },
        { "X'4142'", "AB", 2 },
        { "unhex('41424344')", "ABCD", 4 },
        { "UNHEX(\"4a\")", "J", 1 },
        { "concat('a', 0x62, \"c\")", "abc", 3 },
        { "from_base64('QUJD')", "ABC", 3 },
        { "from_base64('QQ==')", "A", 1 },
        { "char(72, 105)", "Hi", 2 },
        { "'a\\nb\\0'", "a\nb\0", 4 },
        { "binary 0x00ff", "\x00\xff", 2 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct hp_buf b;
        hp_buf_init(&b, 1 << 16);
        assert_true(hp_my_literal(&s, t[i].in, strlen(t[i].in), &b));
        assert_int_equal(b.len, t[i].n);
        assert_memory_equal(b.data, t[i].out, t[i].n);
        hp_buf_free(&b);
    }
    static const char *const bad[] = { "0xzz", "foo", "unhex('4')x", "concat(bar)", "" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hp_buf b;
        hp_buf_init(&b, 1 << 16);
        assert_false(hp_my_literal(&s, bad[i], strlen(bad[i]), &b));
        hp_buf_free(&b);
    }
    hp_my_sess_free(&s);
    conf_free(&cf);
}

/* User variables and the INSERTed blob together stay within max_packet: a
 * 16-way concat() of a variable with itself would otherwise take each of
 * them to the cap in four statements of a hundred bytes (8 variables and
 * the blob: nine times max_packet held per connection). */
static size_t held(const struct hp_my_sess *s)
{
    size_t n = s->last_blob.len;
    for (size_t i = 0; i < HP_MY_VARS_MAX; i++)
        n += s->vars[i].val.len;
    return n;
}

static void test_var_budget(void **st)
{
    (void)st;
    hp_my_sources_reset();
    struct hp_my_conf cf = conf("8.0.36", 1);
    struct hp_my_sess s;
    login(&s, &cf, "root", "toor", true);
    char q[512], msg[256];
    for (char v = 'a'; v < 'a' + HP_MY_VARS_MAX; v++) {
        snprintf(q, sizeof(q), "SET @%c = 0x41414141414141414141414141414141", v);
        query(&s, q);
        for (int round = 0; round < 4; round++) {
            int k = snprintf(q, sizeof(q), "SET @%c = concat(@%c", v, v);
            for (int i = 1; i < 16; i++)
                k += snprintf(q + k, sizeof(q) - (size_t)k, ",@%c", v);
            snprintf(q + k, sizeof(q) - (size_t)k, ")");
            query(&s, q);
            assert_int_equal(err_code(&s, msg, sizeof(msg)), 0);    /* SET still answers OK */
        }
    }
    assert_int_equal(s.vars[0].val.len, cf.max_packet);             /* the first one reached the cap */
    query(&s, "INSERT INTO t VALUES (@a)");
    assert_int_equal(err_code(&s, msg, sizeof(msg)), 0);
    assert_true(held(&s) <= cf.max_packet);
    hp_my_sess_free(&s);
    conf_free(&cf);
}

/* Events caught from the output tap: how many of a type since the last reset. */
static size_t n_upload, n_write, n_not_stored, n_stmt_exec;

static int n_login_failed;

static void tap(struct hp_event *e, void *arg)
{
    (void)arg;
    n_login_failed += strstr(e->json, "\"eventid\":\"login.failed\"") != NULL;
    n_upload += strstr(e->json, "\"eventid\":\"session.file_upload\"") != NULL;
    n_write += strstr(e->json, "\"eventid\":\"mysql.file_write\"") != NULL;
    n_not_stored += strstr(e->json, "\"not_stored\":true") != NULL;
    n_stmt_exec += strstr(e->json, "\"command\":\"COM_STMT_EXECUTE\"") != NULL;
}

/* INTO DUMPFILE writes what variables hold, not what the statement brings:
 * 64 of them per packet stored 64 x max_packet of new payloads.  Past the
 * session's budget (HP_MY_DUMP_FILES x max_packet) they are reported only. */
static void test_dump_budget(void **st)
{
    (void)st;
    hp_my_sources_reset();
    struct hp_my_conf cf = conf("8.0.36", 1);
    struct hp_my_sess s;
    login(&s, &cf, "root", "toor", true);
    char q[512], msg[256];
    query(&s, "SET @a = 0x41414141414141414141414141414141");
    for (int round = 0; round < 4; round++)
        query(&s, "SET @a = concat(@a,@a,@a,@a,@a,@a,@a,@a,@a,@a,@a,@a,@a,@a,@a,@a)");
    assert_int_equal(s.vars[0].val.len, cf.max_packet);
    n_upload = n_write = n_not_stored = 0;
    for (int i = 0; i < 10; i++) {
        snprintf(q, sizeof(q), "SELECT @a INTO DUMPFILE '/tmp/x%d'", i);
        query(&s, q);
        assert_int_equal(err_code(&s, msg, sizeof(msg)), 0);
    }
    assert_int_equal(n_write, 10);
    assert_int_equal(n_upload, HP_MY_DUMP_FILES);
    assert_int_equal(n_not_stored, 10 - HP_MY_DUMP_FILES);
    hp_my_sess_free(&s);
    conf_free(&cf);
}

/* The same client bytes fed whole and one byte at a time give the same answer. */
static void test_bytewise(void **st)
{
    (void)st;
    struct hp_buf in, whole;
    hp_buf_init(&in, 1 << 16);
    hp_buf_init(&whole, 1 << 16);
    for (int pass = 0; pass < 2; pass++) {
        hp_my_sources_reset();
        struct hp_my_conf cf = conf("8.0.36", 1);
        struct hp_my_sess s;
        hp_my_sess_init(&s, &cf, &ctx);
        memset(s.scramble, 'a', 20);
        hp_buf_reset(&in);
        uint8_t resp[20] = { 0 };
        response41(&in, CAPS_MARIADB, "root", resp, 20, NULL, "mysql_native_password", true);
        put_pkt(&in, 3, "pw", 3);
        put_pkt(&in, 0, "\x03select 1", 9);
        put_pkt(&in, 0, "\x0e", 1);
        size_t fed = 0, used = 0;
        if (pass == 0) {
            used = hp_my_input(&s, in.data, in.len);
        } else {
            for (fed = 1; fed <= in.len; fed++)
                used += hp_my_input(&s, in.data + used, fed - used);
        }
        assert_int_equal(used, in.len);
        if (pass == 0)
            hp_buf_put(&whole, s.out.data, s.out.len);
        else
            assert_true(s.out.len == whole.len && memcmp(s.out.data, whole.data, whole.len) == 0);
        hp_my_sess_free(&s);
        conf_free(&cf);
    }
    hp_buf_free(&in);
    hp_buf_free(&whole);
}

/* ---- MariaDB 10.11.19 (Debian 12, 1:10.11.19-0+deb12u1) as observed by a raw
 * differential run (/usr/bin/python3 sockets) against mariadbd with Debian's
 * character-set-server = utf8mb4; every expected byte string below is what
 * that server sent. ---- */

#define DEB12 "5.5.5-10.11.19-MariaDB-0+deb12u1"

/* The payload of packet i, which must be exactly want (n bytes) with sequence id seq. */
static void expect_pkt(const struct hp_buf *out, int i, uint8_t seq, const void *want, size_t n)
{
    size_t len;
    uint8_t sq;
    const uint8_t *p = packet(out, i, &len, &sq);
    if (len != n || sq != seq)
        fprintf(stderr, "packet %d seq %u: '%.*s'\n", i, sq, (int)len, (const char *)p);
    assert_int_equal(sq, seq);
    assert_int_equal(len, n);
    assert_memory_equal(p, want, n);
}
#define EXPECT_PKT(out, i, seq, lit) expect_pkt(out, i, seq, lit, sizeof(lit) - 1)

/* Probe "greeting": capabilities 0x81fff7fe (CAN_HANDLE_EXPIRED_PASSWORDS set),
 * extended capabilities 0x1d; before, 0x81bff7fe and 0x07 (COM_MULTI, gone). */
static void test_maria_greeting(void **st)
{
    (void)st;
    struct hp_my_conf cf = conf(DEB12, 3);
    struct hp_my_sess s;
    hp_my_sess_init(&s, &cf, &ctx);
    hp_my_greet(&s);
    size_t n;
    const uint8_t *p = packet(&s.out, 0, &n, NULL);
    uint8_t masked[128];
    assert_true(n <= sizeof(masked));
    memcpy(masked, p, n);
    size_t o = 1 + sizeof(DEB12);
    memset(masked + o, 'T', 4);                 /* thread id */
    memset(masked + o + 4, 'S', 8);             /* scramble, first part */
    memset(masked + o + 4 + 9 + 8 + 10, 'S', 12);
    static const char want[] = "\n" DEB12 "\0TTTTSSSSSSSS\0\xfe\xf7-\x02\x00\xff\x81\x15\0\0\0\0\0\0\x1d\0\0\0"
                               "SSSSSSSSSSSS\0mysql_native_password";
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(masked, want, sizeof(want));
    hp_my_sess_free(&s);
    conf_free(&cf);
    cf = conf("5.5.5-10.3.39-MariaDB-0+deb10u2", 3);   /* older releases keep their flags */
    hp_my_sess_init(&s, &cf, &ctx);
    assert_int_equal(s.server_caps, 0x81bff7feu);
    assert_int_equal(s.server_ext, 0x07u);
    hp_my_sess_free(&s);
    conf_free(&cf);
}

/* A HandshakeResponse41 with MariaDB extended capabilities in the last four
 * filler bytes (CLIENT_MYSQL clear), logged in through the clear-password switch. */
static void maria_login(struct hp_my_sess *s, struct hp_my_conf *cf, uint32_t ext)
{
    hp_my_sess_init(s, cf, &ctx);
    hp_my_greet(s);
    struct hp_buf in;
    hp_buf_init(&in, 4096);
    uint8_t resp[20] = { 1, 2, 3 };
    response41(&in, CAPS_MARIADB & ~MY_CLIENT_DEPRECATE_EOF, "admin", resp, 20, NULL, "mysql_native_password", false);
    uint8_t *e = in.data + 4 + 28;
    e[0] = (uint8_t)ext;
    feed(s, &in);
    hp_buf_reset(&in);
    put_pkt(&in, 3, "admin123", 9);
    feed(s, &in);
    assert_true(s->logged_in);
    hp_buf_reset(&s->out);
    hp_buf_free(&in);
}

/* Probe "select 1" after a login asking for EXTENDED_METADATA | CACHE_METADATA:
 * "metadata follows" after the column count, an empty extended-type field. */
static void test_maria_extended_metadata(void **st)
{
    (void)st;
    hp_my_sources_reset();
    struct hp_my_conf cf = conf(DEB12, 1);
    struct hp_my_sess s;
    maria_login(&s, &cf, 0x1d);
    query(&s, "select 1");
    assert_int_equal(npackets(&s.out), 5);
    EXPECT_PKT(&s.out, 0, 1, "\x01\x01");
    EXPECT_PKT(&s.out, 1, 2, "\x03" "def\0\0\0\x01" "1\0\0\x0c?\0\x01\0\0\0\x03\x81\0\0\0\0");
    EXPECT_PKT(&s.out, 2, 3, "\xfe\0\0\x02\0");
    EXPECT_PKT(&s.out, 3, 4, "\x01" "1");
    hp_my_sess_free(&s);
    maria_login(&s, &cf, 0);                    /* without: the plain layout */
    query(&s, "select 1");
    EXPECT_PKT(&s.out, 0, 1, "\x01");
    EXPECT_PKT(&s.out, 1, 2, "\x03" "def\0\0\0\x01" "1\0\x0c?\0\x01\0\0\0\x03\x81\0\0\0\0");
    hp_my_sess_free(&s);
    conf_free(&cf);
}

/* Probes garbage_http, com_query_prelogin, resp_seq5, "cmd seq5" after login:
 * a packet whose sequence id is not the expected one is ER_NET_PACKETS_OUT_OF_ORDER
 * with the expected id, and the connection closes (HTTP got 1153, a COM_QUERY
 * before the login "Bad handshake", a command after it was answered). */
static void test_maria_out_of_order(void **st)
{
    (void)st;
    hp_my_sources_reset();
    struct hp_my_conf cf = conf(DEB12, 1);
    struct hp_my_sess s;
    static const char http[] = "GET / HTTP/1.0\r\n\r\n";
    static const uint8_t query_pre[] = { 10, 0, 0, 0, 0x03, 's', 'e', 'l', 'e', 'c', 't', ' ', '1', ';' };
    const struct {
        const void *in;
        size_t n;
    } pre[] = { { http, sizeof(http) - 1 }, { query_pre, sizeof(query_pre) } };
    for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
        hp_my_sess_init(&s, &cf, &ctx);
        hp_my_greet(&s);
        hp_buf_reset(&s.out);
        assert_int_equal(hp_my_input(&s, pre[i].in, pre[i].n), pre[i].n);
        assert_int_equal(npackets(&s.out), 1);
        EXPECT_PKT(&s.out, 0, 1, "\xff\x84\x04#08S01Got packets out of order");
        assert_true(s.closing);
        hp_my_sess_free(&s);
    }
    maria_login(&s, &cf, 0);
    struct hp_buf in;
    hp_buf_init(&in, 64);
    put_pkt(&in, 5, "\x03select 1", 9);
    feed(&s, &in);
    assert_int_equal(npackets(&s.out), 1);
    EXPECT_PKT(&s.out, 0, 0, "\xff\x84\x04#08S01Got packets out of order");
    assert_true(s.closing);
    hp_my_sess_free(&s);

    /* Probes garbage_short_pkt / "P41 short" and "4 zero": "Bad handshake" with a
     * SQL state unless the client's first two bytes leave out PROTOCOL_41. */
    const struct {
        const char *p;
        size_t n;
        const char *want;
        size_t wn;
    } bad[] = { { "\x01\x02", 2, "\xff\x13\x04#08S01Bad handshake", 22 },
                { "\x00\x02\x00\x00\0\0\0\0\0\0\0\0\0\0", 14, "\xff\x13\x04#08S01Bad handshake", 22 },
                { "\0\0\0\0", 4, "\xff\x13\x04" "Bad handshake", 16 } };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hp_my_sess_init(&s, &cf, &ctx);
        hp_my_greet(&s);
        hp_buf_reset(&s.out);
        hp_buf_reset(&in);
        put_pkt(&in, 1, bad[i].p, bad[i].n);
        feed(&s, &in);
        expect_pkt(&s.out, 0, 2, bad[i].want, bad[i].wn);
        assert_true(s.closing);
        hp_my_sess_free(&s);
    }
    hp_buf_free(&in);
    conf_free(&cf);
}

/* Probes old320 and "no secure": a response without CLIENT_SECURE_CONNECTION is
 * refused with 1251 (SQL state 08004 only with PROTOCOL_41), still logged. */
static void test_maria_old_client(void **st)
{
    (void)st;
    hp_my_sources_reset();
    struct hp_my_conf cf = conf(DEB12, 1);
    struct hp_my_sess s;
    struct hp_buf in;
    hp_buf_init(&in, 4096);
    hp_my_sess_init(&s, &cf, &ctx);
    hp_my_greet(&s);
    hp_buf_reset(&s.out);
    uint8_t resp[20] = { 1, 2, 3 };
    response41(&in, MY_CLIENT_PROTOCOL_41, "admin", resp, 20, NULL, NULL, false);
    int before = n_login_failed;
    feed(&s, &in);
    EXPECT_PKT(&s.out, 0, 2, "\xff\xe3\x04#08004Client does not support authentication protocol requested by "
                             "server; consider upgrading MariaDB client");
    assert_true(s.closing);
    assert_false(s.logged_in);
    assert_int_equal(n_login_failed, before + 1);
    hp_my_sess_free(&s);

    hp_my_sess_init(&s, &cf, &ctx);
    hp_my_greet(&s);
    hp_buf_reset(&s.out);
    hp_buf_reset(&in);
    put_pkt(&in, 1, "\x05\x00\x00\x00\x01" "admin\0" "12345678", 19);
    feed(&s, &in);
    EXPECT_PKT(&s.out, 0, 2, "\xff\xe3\x04" "Client does not support authentication protocol requested by "
                             "server; consider upgrading MariaDB client");
    assert_int_equal(n_login_failed, before + 2);
    hp_my_sess_free(&s);

    /* Probe long_user: the name in "Access denied" stops at 128 characters. */
    hp_my_sources_reset();
    cf.accept_after = 0;
    char user[301];
    memset(user, 'u', 300);
    user[300] = '\0';
    hp_my_sess_init(&s, &cf, &ctx);
    hp_my_greet(&s);
    hp_buf_reset(&s.out);
    hp_buf_reset(&in);
    response41(&in, CAPS_MARIADB & ~(MY_CLIENT_PLUGIN_AUTH | MY_CLIENT_PLUGIN_AUTH_LENENC | MY_CLIENT_CONNECT_ATTRS),
               user, resp, 20, NULL, NULL, false);
    feed(&s, &in);
    char want[300];
    int k = snprintf(want, sizeof(want), "\xff\x15\x04#28000Access denied for user '%.128s'@'10.0.0.1' (using "
                     "password: YES)", user);
    expect_pkt(&s.out, 0, 2, want, (size_t)k);
    hp_my_sess_free(&s);
    hp_buf_free(&in);
    conf_free(&cf);
}

/* Probe "select @@version, version(), user(), 'abc', 123, -5, 12345678901,
 * database(), @@port, now(), connection_id(), @@secure_file_priv" (client
 * charset 45): each column definition as mariadbd sends it. */
static void test_maria_columns(void **st)
{
    (void)st;
    hp_my_sources_reset();
    struct hp_my_conf cf = conf(DEB12, 1);
    struct hp_my_sess s;
    maria_login(&s, &cf, 0);
    query(&s, "select @@version, version(), user(), 'abc', 123, -5, 12345678901, database(), @@port, now(), "
              "connection_id(), @@secure_file_priv, null");
    EXPECT_PKT(&s.out, 0, 1, "\x0d");
    EXPECT_PKT(&s.out, 1, 2, "\x03" "def\0\0\0\t@@version\0\x0c-\0h\0\0\0\xfd\0\0'\0\0");
    EXPECT_PKT(&s.out, 2, 3, "\x03" "def\0\0\0\tversion()\0\x0c-\0h\0\0\0\xfd\x01\0'\0\0");
    EXPECT_PKT(&s.out, 3, 4, "\x03" "def\0\0\0\x06user()\0\x0c-\0\0\x06\0\0\xfd\0\0'\0\0");
    EXPECT_PKT(&s.out, 4, 5, "\x03" "def\0\0\0\x03" "abc\0\x0c-\0\x0c\0\0\0\xfd\x01\0'\0\0");
    EXPECT_PKT(&s.out, 5, 6, "\x03" "def\0\0\0\x03" "123\0\x0c?\0\x03\0\0\0\x03\x81\0\0\0\0");
    EXPECT_PKT(&s.out, 6, 7, "\x03" "def\0\0\0\x02-5\0\x0c?\0\x02\0\0\0\x03\x81\0\0\0\0");
    EXPECT_PKT(&s.out, 7, 8, "\x03" "def\0\0\0\x0b" "12345678901\0\x0c?\0\x0b\0\0\0\x08\x81\0\0\0\0");
    EXPECT_PKT(&s.out, 8, 9, "\x03" "def\0\0\0\ndatabase()\0\x0c-\0\0\x01\0\0\xfd\0\0'\0\0");
    EXPECT_PKT(&s.out, 9, 10, "\x03" "def\0\0\0\x06@@port\0\x0c?\0\x15\0\0\0\x08\xa0\0\0\0\0");
    EXPECT_PKT(&s.out, 10, 11, "\x03" "def\0\0\0\x05now()\0\x0c?\0\x13\0\0\0\x0c\x81\0\0\0\0");
    EXPECT_PKT(&s.out, 11, 12, "\x03" "def\0\0\0\x0f" "connection_id()\0\x0c?\0\n\0\0\0\x03\xa1\0\0\0\0");
    EXPECT_PKT(&s.out, 12, 13, "\x03" "def\0\0\0\x12@@secure_file_priv\0\x0c-\0\0\0\0\0\xfd\0\0'\0\0");
    EXPECT_PKT(&s.out, 13, 14, "\x03" "def\0\0\0\x04" "NULL\0\x0c?\0\0\0\0\0\x06\x80\0\0\0\0");
    size_t n;
    const uint8_t *row = packet(&s.out, 15, &n, NULL);
    assert_int_equal(row[n - 2], 0xfb);         /* secure_file_priv: NULL, not '' */
    assert_int_equal(row[n - 1], 0xfb);

    /* Probe "show databases": information_schema.SCHEMATA, NO_INDEX_USED. */
    query(&s, "show databases");
    EXPECT_PKT(&s.out, 1, 2, "\x03" "def\x12information_schema\x08SCHEMATA\x08SCHEMATA\x08" "Database\x0bSCHEMA_NAME"
                             "\x0c-\0\0\x01\0\0\xfd\x01\x10\0\0\0");
    EXPECT_PKT(&s.out, 2, 3, "\xfe\0\0\"\0");
    EXPECT_PKT(&s.out, 3, 4, "\x12information_schema");
    /* Probe "show status like 'Uptime'": the status after the rows is plain. */
    query(&s, "show status like 'Uptime'");
    EXPECT_PKT(&s.out, 2, 3, "\x03" "def\x12information_schema\x0eSESSION_STATUS\x0eSESSION_STATUS\x05Value"
                             "\x0eVARIABLE_VALUE\x0c-\0\0@\0\0\xfd\x01\x10\0\0\0");
    EXPECT_PKT(&s.out, 3, 4, "\xfe\0\0\"\0");
    EXPECT_PKT(&s.out, 5, 6, "\xfe\0\0\x02\0");

    /* Probe "show grants": backticks and the password's hash (admin123). */
    query(&s, "show grants");
    EXPECT_PKT(&s.out, 3, 4, "\x7fGRANT ALL PRIVILEGES ON *.* TO `admin`@`%` IDENTIFIED BY PASSWORD "
                             "'*01A6717B58FF5C7EAFFF6CB7C96F7428EA65FE4C' WITH GRANT OPTION");

    /* Probe COM_STATISTICS: no "Flush tables" on MariaDB, the average is Questions / Uptime. */
    struct hp_buf in;
    hp_buf_init(&in, 64);
    put_pkt(&in, 0, "\x09", 1);
    hp_buf_reset(&s.out);
    feed(&s, &in);
    const uint8_t *p = packet(&s.out, 0, &n, NULL);
    char line[256];
    snprintf(line, sizeof(line), "%.*s", (int)n, (const char *)p);
    unsigned long long up, q;
    double avg;
    assert_int_equal(sscanf(line, "Uptime: %llu  Threads: 2  Questions: %llu  Slow queries: 0  Opens: 143  "
                            "Open tables: 62  Queries per second avg: %lf", &up, &q, &avg), 3);
    assert_true(avg > (double)q / (double)up - 0.001 && avg < (double)q / (double)up + 0.001);

    /* Probe COM_PROCESS_INFO: SHOW PROCESSLIST's nine MariaDB columns, Command "Processlist", Info NULL. */
    hp_buf_reset(&in);
    put_pkt(&in, 0, "\x0a", 1);
    hp_buf_reset(&s.out);
    feed(&s, &in);
    EXPECT_PKT(&s.out, 0, 1, "\x09");
    row = packet(&s.out, 11, &n, NULL);
    assert_non_null(memmem(row, n, "\x0bProcesslist\x01" "0\x08starting\xfb\x05" "0.000", 29));
    hp_buf_free(&in);
    hp_my_sess_free(&s);
    conf_free(&cf);
}

#define SYNTAX(near) "\xff\x28\x04#42000You have an error in your SQL syntax; check the manual that corresponds " \
                     "to your MariaDB server version for the right syntax to use near '" near "' at line 1"

/* Probes on mariadbd 10.11.19 (Debian 12): a select list with an operand
 * after a star or a second operand after an alias was echoed as a column
 * ("select * frm users" answered a row "* frm users"); the grammar refuses
 * it with 1064 near the operand.  "expr alias" without AS names the column. */
static void test_maria_select_syntax(void **st)
{
    (void)st;
    hp_my_sources_reset();
    struct hp_my_conf cf = conf(DEB12, 1);
    struct hp_my_sess s;
    maria_login(&s, &cf, 0);
    query(&s, "select * frm users");
    EXPECT_PKT(&s.out, 0, 1, SYNTAX("frm users"));
    assert_false(s.closing);
    query(&s, "select 1 frm users");
    EXPECT_PKT(&s.out, 0, 1, SYNTAX("users"));
    query(&s, "select * frm users, x");
    EXPECT_PKT(&s.out, 0, 1, SYNTAX("frm users, x"));
    query(&s, "select 1 2");
    EXPECT_PKT(&s.out, 0, 1, SYNTAX("2"));
    query(&s, "select version() v extra");
    EXPECT_PKT(&s.out, 0, 1, SYNTAX("extra"));
    query(&s, "select 1 a b, 2");
    EXPECT_PKT(&s.out, 0, 1, SYNTAX("b, 2"));
    query(&s, "select t.* x");
    EXPECT_PKT(&s.out, 0, 1, SYNTAX("x"));
    query(&s, "select 1 as a b");
    EXPECT_PKT(&s.out, 0, 1, SYNTAX("b"));
    query(&s, "select 1 as x, * frm users");
    EXPECT_PKT(&s.out, 0, 1, SYNTAX("* frm users"));
    query(&s, "select a b");
    EXPECT_PKT(&s.out, 0, 1, "\xff\x1e\x04#42S22Unknown column 'a' in 'SELECT'");
    query(&s, "select ABC, 1");
    EXPECT_PKT(&s.out, 0, 1, "\xff\x1e\x04#42S22Unknown column 'ABC' in 'SELECT'");
    query(&s, "select 1 a");            /* an implicit alias heads the column */
    EXPECT_PKT(&s.out, 1, 2, "\x03" "def\0\0\0\x01" "a\0\x0c?\0\x01\0\0\0\x03\x81\0\0\0\0");
    EXPECT_PKT(&s.out, 3, 4, "\x01" "1");
    query(&s, "select 'x' y");
    EXPECT_PKT(&s.out, 1, 2, "\x03" "def\0\0\0\x01" "y\0\x0c-\0\x04\0\0\0\xfd\x01\0'\0\0");
    query(&s, "select 1 'lbl'");
    EXPECT_PKT(&s.out, 1, 2, "\x03" "def\0\0\0\x03" "lbl\0\x0c?\0\x01\0\0\0\x03\x81\0\0\0\0");
    query(&s, "select 1 + 2");          /* operators: not judged, answered as before */
    assert_int_equal(s.out.data[4], 0x01);
    hp_my_sess_free(&s);
    conf_free(&cf);
}

/* Probes on mariadbd 10.11.19: KILL and COM_PROCESS_KILL of another id got
 * an OK / "Unknown command" where the server says 1094; its own id: 1927
 * and the connection ends (KILL QUERY: 1317); a short COM_PROCESS_KILL
 * reads on past the payload. */
static void test_maria_kill(void **st)
{
    (void)st;
    hp_my_sources_reset();
    struct hp_my_conf cf = conf(DEB12, 1);
    struct hp_my_sess s;
    maria_login(&s, &cf, 0);
    query(&s, "kill 5");
    EXPECT_PKT(&s.out, 0, 1, "\xff\x46\x04#HY000Unknown thread id: 5");
    query(&s, "KILL QUERY 5");
    EXPECT_PKT(&s.out, 0, 1, "\xff\x46\x04#HY000Unknown thread id: 5");
    query(&s, "kill soft query 5");
    EXPECT_PKT(&s.out, 0, 1, "\xff\x46\x04#HY000Unknown thread id: 5");
    query(&s, "kill -1");
    EXPECT_PKT(&s.out, 0, 1, "\xff\x46\x04#HY000Unknown thread id: 18446744073709551615");
    query(&s, "kill '7'");
    EXPECT_PKT(&s.out, 0, 1, "\xff\x46\x04#HY000Unknown thread id: 7");
    query(&s, "kill abc");
    EXPECT_PKT(&s.out, 0, 1, "\xff\x1e\x04#42S22Unknown column 'abc' in 'KILL'");
    query(&s, "kill query id 5");
    EXPECT_PKT(&s.out, 0, 1, "\xff\xa5\x07#HY000Unknown query id: 5");
    query(&s, "kill 5 5");
    EXPECT_PKT(&s.out, 0, 1, SYNTAX("5"));
    query(&s, "kill");
    EXPECT_PKT(&s.out, 0, 1, SYNTAX(""));
    query(&s, "kill user foo");
    EXPECT_PKT(&s.out, 0, 1, "\0\0\0\x02\0\0\0");
    struct hp_buf in;
    hp_buf_init(&in, 64);
    put_pkt(&in, 0, "\x0c\x05\0\0\0", 5);
    hp_buf_reset(&s.out);
    feed(&s, &in);
    EXPECT_PKT(&s.out, 0, 1, "\xff\x46\x04#HY000Unknown thread id: 5");
    hp_buf_reset(&in);
    put_pkt(&in, 0, "\x0c\x05\0", 3);
    hp_buf_reset(&s.out);
    feed(&s, &in);
    EXPECT_PKT(&s.out, 0, 1, "\xff\x46\x04#HY000Unknown thread id: 16777221");
    char q[64];
    snprintf(q, sizeof(q), "kill query %u", s.conn_id);
    query(&s, q);
    EXPECT_PKT(&s.out, 0, 1, "\xff\x25\x05#70100Query execution was interrupted");
    assert_false(s.closing);
    snprintf(q, sizeof(q), "kill %u", s.conn_id);
    query(&s, q);
    EXPECT_PKT(&s.out, 0, 1, "\xff\x87\x07#70100Connection was killed");
    assert_true(s.closing);
    hp_buf_free(&in);
    hp_my_sess_free(&s);
    conf_free(&cf);
}

/* ---- the compressed protocol (mysql_zip.c) ---- */

/* A login with CLIENT_COMPRESS (and DEPRECATE_EOF, as the mariadb CLI). */
static void maria_zlogin(struct hp_my_sess *s, struct hp_my_conf *cf)
{
    hp_my_sess_init(s, cf, &ctx);
    hp_my_greet(s);
    struct hp_buf in;
    hp_buf_init(&in, 4096);
    uint8_t resp[20] = { 1, 2, 3 };
    response41(&in, CAPS_MARIADB | MY_CLIENT_COMPRESS, "admin", resp, 20, NULL, "mysql_native_password", false);
    feed(s, &in);
    hp_buf_reset(&in);
    hp_buf_reset(&s->out);
    put_pkt(&in, 3, "admin123", 9);
    feed(s, &in);
    assert_true(s->logged_in);
    EXPECT_PKT(&s->out, 0, 4, "\0\0\0\x02\0\0\0");     /* the OK itself is not compressed */
    hp_buf_reset(&s->out);
    hp_buf_free(&in);
}

/* A compressed packet (zseq) around plain packet (seq 0) cmd[0..n): stored
 * under 50 bytes as libmariadb does, else deflated. */
static void zpkt(struct hp_buf *b, uint8_t zseq, const void *plain, size_t n)
{
    if (n < 50) {
        uint8_t h[7] = { (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), zseq, 0, 0, 0 };
        hp_buf_put(b, h, 7);
        hp_buf_put(b, plain, n);
        return;
    }
    uLongf zl = compressBound(n);
    uint8_t *z = malloc(zl);
    assert_int_equal(compress(z, &zl, plain, n), Z_OK);
    uint8_t h[7] = { (uint8_t)zl, (uint8_t)(zl >> 8), (uint8_t)(zl >> 16), zseq,
                     (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16) };
    hp_buf_put(b, h, 7);
    hp_buf_put(b, z, zl);
    free(z);
}

static void zquery(struct hp_my_sess *s, uint8_t zseq, const char *q)
{
    struct hp_buf plain, in;
    hp_buf_init(&plain, 1 << 20);
    hp_buf_init(&in, 1 << 20);
    hp_buf_putc(&plain, 0x03);
    hp_buf_puts(&plain, q);
    put_pkt(&in, 0, plain.data, plain.len);
    hp_buf_reset(&plain);
    zpkt(&plain, zseq, in.data, in.len);
    hp_buf_reset(&s->out);
    feed(s, &plain);
    hp_buf_free(&plain);
    hp_buf_free(&in);
}

#define EXPECT_OUT(s, lit) do {                                            \
        assert_int_equal((s)->out.len, sizeof(lit) - 1);                  \
        assert_memory_equal((s)->out.data, lit, sizeof(lit) - 1);         \
    } while (0)

/* `mariadb --compress` (CLIENT_COMPRESS set by both sides) got its login
 * recorded and then no answer: hanipo read the compressed header as a plain
 * one.  Every answer below is mariadbd 10.11.19 (Debian 12)'s, byte for
 * byte: stored under 50 bytes or when deflating does not shrink it
 * (select @@version_comment), deflated at zlib's default level otherwise;
 * the compressed id answers the client's + 1, the plain ids count on from
 * it (a command split over two compressed packets is answered from 2). */
static void test_maria_compress(void **st)
{
    (void)st;
    hp_my_sources_reset();
    struct hp_my_conf cf = conf(DEB12, 1);
    struct hp_my_sess s;
    maria_zlogin(&s, &cf);
    assert_true(s.compress);

    struct hp_buf in;
    hp_buf_init(&in, 1 << 20);
    zpkt(&in, 0, "\x01\0\0\0\x0e", 5);                  /* COM_PING */
    feed(&s, &in);
    EXPECT_OUT(&s, "\x0b\0\0\x01\0\0\0" "\x07\0\0\x01\0\0\0\x02\0\0\0");

    zquery(&s, 0, "select 1");
    EXPECT_OUT(&s, "\x31\0\0\x01\0\0\0" "\x01\0\0\x01\x01" "\x17\0\0\x02\x03" "def\0\0\0\x01" "1\0\x0c?\0\x01\0\0\0"
                   "\x03\x81\0\0\0\0" "\x02\0\0\x03\x01" "1" "\x07\0\0\x04\xfe\0\0\x02\0\0\0");

    zquery(&s, 0, "select @@version_comment limit 1");
    EXPECT_OUT(&s, "\x49\0\0\x01\0\0\0" "\x01\0\0\x01\x01" "\x27\0\0\x02\x03" "def\0\0\0\x11@@version_comment\0"
                   "\x0c-\0\x24\0\0\0\xfd\0\0\x27\0\0" "\x0a\0\0\x03\x09" "Debian 12" "\x07\0\0\x04\xfe\0\0\x02\0\0\0");

    char lit[120];
    snprintf(lit, sizeof(lit), "select \"%0*d\"", 100, 0);
    memset(lit + 8, 'a', 100);
    zquery(&s, 0, lit);
    EXPECT_OUT(&s, "\x3a\0\0\x01\xf7\0\0" "\x78\x9c\x63\x64\x60\x60\x64\xac\x62\x60\x60\x62\x4e\x49\x4d\x63\x60\x60\x48"
                   "\x49\xa4\x03\x60\xe0\xd1\x65\x98\xc0\xc8\xc0\xf0\x97\x91\x41\x9d\x81\x21\x95\x81\x81\x99\x2e\xd6"
                   "\xb2\x33\x30\xb0\xfc\x03\x7a\x15\xe8\x4d\x00\x12\x83\x51\xa4");

    /* Probe: "select 1" split over compressed packets 0 and 1. */
    hp_buf_reset(&in);
    zpkt(&in, 0, "\x09\0\0\0\x03", 5);
    zpkt(&in, 1, "select 1", 8);
    hp_buf_reset(&s.out);
    feed(&s, &in);
    EXPECT_OUT(&s, "\x31\0\0\x02\0\0\0" "\x01\0\0\x02\x01" "\x17\0\0\x03\x03" "def\0\0\0\x01" "1\0\x0c?\0\x01\0\0\0"
                   "\x03\x81\0\0\0\0" "\x02\0\0\x04\x01" "1" "\x07\0\0\x05\xfe\0\0\x02\0\0\0");

    /* Probe: select '<16200 x q>': the net buffer's 16 KiB, then the rest
     * (SHA-1 of mariadbd's whole answer). */
    char *big = malloc(16300);
    snprintf(big, 16300, "select '%0*d'", 16200, 0);
    memset(big + 8, 'q', 16200);
    zquery(&s, 0, big);
    uint8_t h[20];
    char hex[41];
    SHA1(s.out.data, s.out.len, h);
    for (int i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    assert_string_equal(hex, "7b8b1fffd31de7083445e8b3bcbb810fdc4805ce");
    free(big);

    /* COM_CHANGE_USER under compression: the switch request goes compressed
     * and its answer carries on the compressed ids. */
    struct hp_buf cu;
    hp_buf_init(&cu, 1024);
    hp_buf_put(&cu, "\x11" "admin\0\x14", 8);
    uint8_t r20[20] = { 0 };
    hp_buf_put(&cu, r20, 20);
    hp_buf_put(&cu, "\0\x2d\0mysql_native_password", 25);    /* with its NUL */
    hp_buf_reset(&in);
    uint8_t h4[4] = { (uint8_t)cu.len, 0, 0, 0 };
    hp_buf_put(&in, h4, 4);
    hp_buf_put(&in, cu.data, cu.len);
    hp_buf_reset(&cu);
    zpkt(&cu, 0, in.data, in.len);
    hp_buf_reset(&s.out);
    feed(&s, &cu);
    EXPECT_OUT(&s, "\x1a\0\0\x01\0\0\0" "\x16\0\0\x01\xfemysql_clear_password\0");
    hp_buf_reset(&cu);
    zpkt(&cu, 2, "\x09\0\0\x02" "admin123\0", 13);
    hp_buf_reset(&s.out);
    feed(&s, &cu);
    EXPECT_OUT(&s, "\x0b\0\0\x03\0\0\0" "\x07\0\0\x03\0\0\0\x02\0\0\0");
    assert_true(s.logged_in);
    hp_buf_free(&cu);

    /* Probe: a compressed id of 5 where 0 was due: 1156, plain id 0, compressed id 2, closed. */
    hp_buf_reset(&in);
    zpkt(&in, 5, "\x01\0\0\0\x0e", 5);
    hp_buf_reset(&s.out);
    feed(&s, &in);
    EXPECT_OUT(&s, "\x25\0\0\x02\0\0\0" "\x21\0\0\0\xff\x84\x04#08S01Got packets out of order");
    assert_true(s.closing);
    hp_buf_free(&in);
    hp_my_sess_free(&s);
    conf_free(&cf);
}

/* A zlib bomb: a body announcing max_packet bytes and inflating to twice
 * that is cut there (the connection buffer never holds more than its cap)
 * and the connection is dropped, as mysqld drops a body it cannot
 * uncompress.  An announced length above max_allowed_packet gets 1153
 * first (10.11.19 with max_allowed_packet = 4 MiB, ulen 0x200000 for a
 * COM_PING body).  Fed a byte at a time, a compressed packet is answered
 * once, when its last byte is in. */
static void test_maria_compress_bounds(void **st)
{
    (void)st;
    hp_my_sources_reset();
    struct hp_my_conf cf = conf(DEB12, 1);
    struct hp_my_sess s;
    maria_zlogin(&s, &cf);
    size_t nb = 2 * cf.max_packet;
    uint8_t *zeros = calloc(1, nb);
    uLongf zl = compressBound(nb);
    uint8_t *z = malloc(zl + 7);
    assert_int_equal(compress(z + 7, &zl, zeros, nb), Z_OK);
    size_t ul = cf.max_packet;
    uint8_t h[7] = { (uint8_t)zl, (uint8_t)(zl >> 8), (uint8_t)(zl >> 16), 0,
                     (uint8_t)ul, (uint8_t)(ul >> 8), (uint8_t)(ul >> 16) };
    memcpy(z, h, 7);
    assert_int_equal(hp_my_input(&s, z, zl + 7), zl + 7);
    assert_true(s.closing);
    assert_int_equal(s.out.len, 0);
    assert_true(s.zin.alloc <= s.zin.cap + 1);
    assert_true(s.zin.cap <= 2 * cf.max_packet + 8);
    hp_my_sess_free(&s);

    maria_zlogin(&s, &cf);
    ul = cf.max_packet + 1;
    uint8_t big[7] = { 5, 0, 0, 0, (uint8_t)ul, (uint8_t)(ul >> 8), (uint8_t)(ul >> 16) };
    assert_int_equal(hp_my_input(&s, big, 7), 7);
    EXPECT_OUT(&s, "\x40\0\0\x01\0\0\0" "\x3c\0\0\x01\xff\x81\x04#08S01Got a packet bigger than 'max_allowed_packet' bytes");
    assert_true(s.closing);
    hp_my_sess_free(&s);

    maria_zlogin(&s, &cf);
    struct hp_buf in;
    hp_buf_init(&in, 1024);
    zpkt(&in, 0, "\x01\0\0\0\x0e", 5);
    for (size_t i = 1; i < in.len; i++) {
        assert_int_equal(hp_my_input(&s, in.data, i), 0);
        assert_int_equal(s.out.len, 0);
    }
    feed(&s, &in);
    EXPECT_OUT(&s, "\x0b\0\0\x01\0\0\0" "\x07\0\0\x01\0\0\0\x02\0\0\0");
    hp_buf_free(&in);
    hp_my_sess_free(&s);
    free(zeros);
    free(z);
    conf_free(&cf);
}

/* ---- prepared statements (mysql_stmt.c), bytes from mariadbd 10.11.19 ---- */

static void stmt_cmd(struct hp_my_sess *s, const void *p, size_t n)
{
    struct hp_buf in;
    hp_buf_init(&in, 1 << 20);
    put_pkt(&in, 0, p, n);
    hp_buf_reset(&s->out);
    feed(s, &in);
    hp_buf_free(&in);
}
#define STMT(s, lit) stmt_cmd(s, lit, sizeof(lit) - 1)

#define COL_Q "\x03" "def\0\0\0\x01?\0\x0c"
#define PARAM_DEF COL_Q "\x3f\0\0\0\0\0\x06\x80\0\0\0\0"

/* select ?, select @@version: PREPARE OK, the '?' definitions, the columns,
 * EOFs; EXECUTE with an integer, a string, NULL, unbound types reused;
 * an unknown id; CLOSE; RESET. */
static void test_maria_stmt(void **st)
{
    (void)st;
    hp_my_sources_reset();
    struct hp_my_conf cf = conf(DEB12, 1);
    struct hp_my_sess s;
    maria_login(&s, &cf, 0);
    STMT(&s, "\x16select ?");
    assert_int_equal(npackets(&s.out), 5);
    EXPECT_PKT(&s.out, 0, 1, "\0\x01\0\0\0\x01\0\x01\0\0\0\0");
    EXPECT_PKT(&s.out, 1, 2, PARAM_DEF);
    EXPECT_PKT(&s.out, 2, 3, "\xfe\0\0\x02\0");
    EXPECT_PKT(&s.out, 3, 4, PARAM_DEF);
    EXPECT_PKT(&s.out, 4, 5, "\xfe\0\0\x02\0");
    STMT(&s, "\x16select @@version");
    assert_int_equal(npackets(&s.out), 3);
    EXPECT_PKT(&s.out, 0, 1, "\0\x02\0\0\0\x01\0\0\0\0\0\0");
    EXPECT_PKT(&s.out, 1, 2, "\x03" "def\0\0\0\x09@@version\0\x0c\x2d\0\x68\0\0\0\xfd\0\0\x27\0\0");
    STMT(&s, "\x17\x01\0\0\0\0\x01\0\0\0\0\x01\x03\0\x07\0\0\0");
    assert_int_equal(npackets(&s.out), 5);
    EXPECT_PKT(&s.out, 0, 1, "\x01");
    EXPECT_PKT(&s.out, 1, 2, COL_Q "\x3f\0\x0b\0\0\0\x03\x81\0\0\0\0");
    EXPECT_PKT(&s.out, 2, 3, "\xfe\0\0\x02\0");
    EXPECT_PKT(&s.out, 3, 4, "\0\0\x07\0\0\0");
    EXPECT_PKT(&s.out, 4, 5, "\xfe\0\0\x02\0");
    STMT(&s, "\x17\x01\0\0\0\0\x01\0\0\0\0\x01\xfd\0\x03" "abc");
    EXPECT_PKT(&s.out, 1, 2, COL_Q "\x2d\0\x0c\0\0\0\xfd\x01\0\x27\0\0");
    EXPECT_PKT(&s.out, 3, 4, "\0\0\x03" "abc");
    STMT(&s, "\x17\x01\0\0\0\0\x01\0\0\0\0\0\x03xyz");    /* types of the last EXECUTE */
    EXPECT_PKT(&s.out, 3, 4, "\0\0\x03xyz");
    STMT(&s, "\x17\x01\0\0\0\0\x01\0\0\0\x01\x01\x03\0");   /* NULL */
    EXPECT_PKT(&s.out, 1, 2, COL_Q "\x3f\0\0\0\0\0\x03\x80\0\0\0\0");
    EXPECT_PKT(&s.out, 3, 4, "\0\x04");
    STMT(&s, "\x17\x01\0\0\0\0\x01\0\0\0\0\x01\xfd\0\x09" "abc");  /* runs past the packet: empty */
    EXPECT_PKT(&s.out, 1, 2, COL_Q "\x2d\0\0\0\0\0\xfd\x01\0\x27\0\0");
    EXPECT_PKT(&s.out, 3, 4, "\0\0\0");
    STMT(&s, "\x17\x02\0\0\0\0\x01\0\0\0");
    EXPECT_PKT(&s.out, 3, 4, "\0\0\x1a" "10.11.19-MariaDB-0+deb12u1");
    STMT(&s, "\x17\x63\0\0\0\0\x01\0\0\0");
    EXPECT_PKT(&s.out, 0, 1, "\xff\xdb\x04#HY000Unknown prepared statement handler (99) given to mysqld_stmt_execute");
    STMT(&s, "\x17\x01\0\0\0");
    EXPECT_PKT(&s.out, 0, 1, "\xff\xba\x04#HY000Incorrect arguments to mysqld_stmt_execute");
    STMT(&s, "\x1a\x01\0\0\0");
    EXPECT_PKT(&s.out, 0, 1, "\0\0\0\x02\0\0\0");
    STMT(&s, "\x1a\x63\0\0\0");
    EXPECT_PKT(&s.out, 0, 1, "\xff\xdb\x04#HY000Unknown prepared statement handler (99) given to mysqld_stmt_reset");
    STMT(&s, "\x19\x01\0\0\0");
    assert_int_equal(s.out.len, 0);
    STMT(&s, "\x17\x01\0\0\0\0\x01\0\0\0");
    EXPECT_PKT(&s.out, 0, 1, "\xff\xdb\x04#HY000Unknown prepared statement handler (1) given to mysqld_stmt_execute");
    hp_my_sess_free(&s);
    conf_free(&cf);
}

/* EXECUTE of `select ?` with one parameter of the given type and value:
 * the column definition and the binary row MariaDB sends. */
static void stmt_typed(struct hp_my_sess *s, uint16_t type, const void *val, size_t vlen,
                       const void *def, size_t dlen, const void *row, size_t rlen)
{
    uint8_t p[256] = { 0x17, 0x01, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0x01, (uint8_t)type, (uint8_t)(type >> 8) };
    assert_true(14 + vlen <= sizeof(p));
    memcpy(p + 14, val, vlen);
    stmt_cmd(s, p, 14 + vlen);
    assert_int_equal(npackets(&s->out), 5);
    expect_pkt(&s->out, 1, 2, def, dlen);
    expect_pkt(&s->out, 3, 4, row, rlen);
}
#define TYPED(s, t, val, def, row) \
    stmt_typed(s, t, val, sizeof(val) - 1, COL_Q def, sizeof(COL_Q def) - 1, row, sizeof(row) - 1)

/* Each common parameter type as MariaDB types and returns it; long data in
 * two parts (then forgotten); a cursor and its FETCH. */
static void test_maria_stmt_types(void **st)
{
    (void)st;
    hp_my_sources_reset();
    struct hp_my_conf cf = conf(DEB12, 1);
    struct hp_my_sess s;
    maria_login(&s, &cf, 0);
    STMT(&s, "\x16select ?");
    TYPED(&s, 0x01, "\xfe", "\x3f\0\x04\0\0\0\x01\x81\0\0\0\0", "\0\0\xfe");
    TYPED(&s, 0x8001, "\xfe", "\x3f\0\x04\0\0\0\x01\xa1\0\0\0\0", "\0\0\xfe");
    TYPED(&s, 0x02, "\xfd\xff", "\x3f\0\x06\0\0\0\x02\x81\0\0\0\0", "\0\0\xfd\xff");
    TYPED(&s, 0x08, "\xfb\xff\xff\xff\xff\xff\xff\xff", "\x3f\0\x15\0\0\0\x08\x81\0\0\0\0",
          "\0\0\xfb\xff\xff\xff\xff\xff\xff\xff");
    TYPED(&s, 0x8008, "\xff\xff\xff\xff\xff\xff\xff\xff", "\x3f\0\x15\0\0\0\x08\xa1\0\0\0\0",
          "\0\0\xff\xff\xff\xff\xff\xff\xff\xff");
    TYPED(&s, 0x05, "\0\0\0\0\0\0\xf8\x3f", "\x3f\0\x17\0\0\0\x05\x81\0\x1f\0\0", "\0\0\0\0\0\0\0\0\xf8\x3f");
    TYPED(&s, 0x04, "\0\0\x20\x40", "\x3f\0\x17\0\0\0\x04\x81\0\x1f\0\0", "\0\0\0\0\x20\x40");
    TYPED(&s, 0x0a, "\x04\xe8\x07\x03\x0f", "\x3f\0\x0a\0\0\0\x0a\x81\0\0\0\0", "\0\0\x04\xe8\x07\x03\x0f");
    TYPED(&s, 0x0c, "\x07\xe8\x07\x03\x0f\x0a\x0b\x0c", "\x3f\0\x13\0\0\0\x0c\x81\0\0\0\0",
          "\0\0\x07\xe8\x07\x03\x0f\x0a\x0b\x0c");
    TYPED(&s, 0x0b, "\x08\0\x01\0\0\0\x02\x03\x04", "\x3f\0\x17\0\0\0\x0b\x81\0\0\0\0",
          "\0\0\x08\0\x01\0\0\0\x02\x03\x04");
    TYPED(&s, 0xfc, "\x03" "a\0b", "\x3f\0\x03\0\0\0\xfc\x81\0\x27\0\0", "\0\0\x03" "a\0b");
    TYPED(&s, 0xfe, "\x02xy", "\x2d\0\x08\0\0\0\xfe\x01\0\x27\0\0", "\0\0\x02xy");
    TYPED(&s, 0xf6, "\x04" "1.25", "\x3f\0\x05\0\0\0\xf6\x81\0\x02\0\0", "\0\0\x04" "1.25");
    /* SEND_LONG_DATA: no reply; the parts make the value, then they are gone */
    STMT(&s, "\x18\x01\0\0\0\0\0hel");
    assert_int_equal(s.out.len, 0);
    STMT(&s, "\x18\x01\0\0\0\0\0lo");
    assert_int_equal(s.out.len, 0);
    STMT(&s, "\x18\x01\0\0\0\x05\0ignored");               /* no such parameter */
    STMT(&s, "\x18\x09\0\0\0\0\0ignored");                 /* no such statement */
    assert_int_equal(s.out.len, 0);
    TYPED(&s, 0xfc, "", "\x3f\0\x05\0\0\0\xfc\x81\0\x27\0\0", "\0\0\x05hello");
    TYPED(&s, 0xfd, "\x02hi", "\x2d\0\x08\0\0\0\xfd\x01\0\x27\0\0", "\0\0\x02hi");
    /* a cursor: the columns now, the row at FETCH */
    STMT(&s, "\x17\x01\0\0\0\x01\x01\0\0\0\0\x01\x03\0\x07\0\0\0");
    assert_int_equal(npackets(&s.out), 3);
    EXPECT_PKT(&s.out, 1, 2, "\x03" "def\0\0\0\x01?\x01?\x0c\x3f\0\x0b\0\0\0\x03\x01\0\0\0\0");
    EXPECT_PKT(&s.out, 2, 3, "\xfe\0\0\x42\0");
    STMT(&s, "\x1c\x01\0\0\0\x0a\0\0\0");
    assert_int_equal(npackets(&s.out), 2);
    EXPECT_PKT(&s.out, 0, 1, "\0\0\x07\0\0\0");
    EXPECT_PKT(&s.out, 1, 2, "\xfe\0\0\x82\0");
    assert_int_equal(s.long_total, 0);                  /* the cursor's rows are gone with it */
    STMT(&s, "\x1c\x63\0\0\0\x0a\0\0\0");
    EXPECT_PKT(&s.out, 0, 1, "\xff\xdb\x04#HY000Unknown prepared statement handler (99) given to mysqld_stmt_fetch");
    /* an aliased '?': the parameter and the column are named after it, the type is the value's */
    STMT(&s, "\x16SELECT ? AS a, ? AS b");
    assert_int_equal(npackets(&s.out), 7);
    EXPECT_PKT(&s.out, 0, 1, "\0\x02\0\0\0\x02\0\x02\0\0\0\0");
    EXPECT_PKT(&s.out, 1, 2, "\x03" "def\0\0\0\x01" "a\0\x0c\x3f\0\0\0\0\0\x06\x80\0\0\0\0");
    EXPECT_PKT(&s.out, 2, 3, "\x03" "def\0\0\0\x01" "b\0\x0c\x3f\0\0\0\0\0\x06\x80\0\0\0\0");
    EXPECT_PKT(&s.out, 4, 5, "\x03" "def\0\0\0\x01" "a\0\x0c\x3f\0\0\0\0\0\x06\x80\0\0\0\0");
    STMT(&s, "\x17\x02\0\0\0\0\x01\0\0\0\0\x01\x08\0\x08\0\x05\0\0\0\0\0\0\0\x05\0\0\0\0\0\0\0");
    assert_int_equal(npackets(&s.out), 6);
    EXPECT_PKT(&s.out, 2, 3, "\x03" "def\0\0\0\x01" "b\0\x0c\x3f\0\x15\0\0\0\x08\x81\0\0\0\0");
    EXPECT_PKT(&s.out, 4, 5, "\0\0\x05\0\0\0\0\0\0\0\x05\0\0\0\0\0\0\0");
    hp_my_sess_free(&s);
    conf_free(&cf);
}

/* Errors at PREPARE (the parser's, one statement only, no database), the
 * caps (1390, 1461), long data budget, and each EXECUTE a command.input
 * with the values in place that reaches the text path's INTO DUMPFILE. */
static void test_maria_stmt_bounds(void **st)
{
    (void)st;
    hp_my_sources_reset();
    struct hp_my_conf cf = conf(DEB12, 1);
    struct hp_my_sess s;
    maria_login(&s, &cf, 0);
    STMT(&s, "\x16selec x");
    EXPECT_PKT(&s.out, 0, 1, SYNTAX("selec x"));
    STMT(&s, "\x16select 1; select 2");
    EXPECT_PKT(&s.out, 0, 1, SYNTAX("select 2"));
    s.db[0] = 0;                                        /* maria_login leaves the plugin name there */
    STMT(&s, "\x16insert into t values (?)");
    EXPECT_PKT(&s.out, 0, 1, "\xff\x16\x04#3D000No database selected");
    STMT(&s, "\x16select 'a?b', ? -- ?\n");
    EXPECT_PKT(&s.out, 0, 1, "\0\x01\0\0\0\x02\0\x01\0\0\0\0");
    EXPECT_PKT(&s.out, 3, 4, "\x03" "def\0\0\0\x03" "a?b\0\x0c\x2d\0\x0c\0\0\0\xfd\x01\0\x27\0\0");
    struct hp_buf q;
    hp_buf_init(&q, 1 << 20);
    hp_buf_puts(&q, "\x16select ?");
    for (int i = 0; i < HP_MY_STMT_PARAMS; i++)
        hp_buf_puts(&q, ",?");
    stmt_cmd(&s, q.data, q.len);
    EXPECT_PKT(&s.out, 0, 1, "\xff\x6e\x05#HY000Prepared statement contains too many placeholders");
    hp_buf_free(&q);
    for (int i = 1; i < HP_MY_STMTS_MAX; i++) {         /* the a?b one is the first */
        STMT(&s, "\x16select 1");
        assert_int_equal(s.out.data[4], 0);
    }
    STMT(&s, "\x16select 1");
    EXPECT_PKT(&s.out, 0, 1, "\xff\xb5\x05#42000Can't create more than max_prepared_stmt_count statements (current value: 16382)");
    STMT(&s, "\x19\x02\0\0\0");
    STMT(&s, "\x16select ? into dumpfile '/tmp/x'");
    assert_int_equal(s.out.data[4], 0);
    uint32_t id = s.out.data[5];
    /* long data: at most max_packet per statement */
    uint8_t *big = malloc(cf.max_packet + 16);
    memset(big, 'A', cf.max_packet + 16);
    memcpy(big, "\x18\0\0\0\0\0\0", 7);
    big[1] = (uint8_t)id;
    stmt_cmd(&s, big, cf.max_packet - 64);
    stmt_cmd(&s, big, 7 + 100);
    assert_int_equal(s.out.len, 0);
    assert_true(s.long_total <= cf.max_packet);
    free(big);
    n_stmt_exec = n_write = 0;
    uint8_t ex[16] = { 0x17, (uint8_t)id, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0xfc, 0 };
    stmt_cmd(&s, ex, 14);
    assert_int_equal(n_stmt_exec, 1);
    assert_int_equal(n_write, 1);
    assert_int_equal(s.long_total, 0);                  /* long data serves one EXECUTE */
    hp_my_sess_free(&s);
    conf_free(&cf);
}

int main(void)
{
    hp_output_set_tap(tap, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greeting),
        cmocka_unit_test(test_accept_after),
        cmocka_unit_test(test_refused_switch_and_320),
        cmocka_unit_test(test_bad_handshake_and_oversize),
        cmocka_unit_test(test_queries),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_bytewise),
        cmocka_unit_test(test_var_budget),
        cmocka_unit_test(test_dump_budget),
        cmocka_unit_test(test_maria_greeting),
        cmocka_unit_test(test_maria_extended_metadata),
        cmocka_unit_test(test_maria_out_of_order),
        cmocka_unit_test(test_maria_old_client),
        cmocka_unit_test(test_maria_columns),
        cmocka_unit_test(test_maria_compress),
        cmocka_unit_test(test_maria_select_syntax),
        cmocka_unit_test(test_maria_kill),
        cmocka_unit_test(test_maria_compress_bounds),
        cmocka_unit_test(test_maria_stmt),
        cmocka_unit_test(test_maria_stmt_types),
        cmocka_unit_test(test_maria_stmt_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
