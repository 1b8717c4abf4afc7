/*
 * test_mongodb.c - unit tests for the MongoDB emulation (src/proto/mongodb.c).
 *
 * BSON reader: well-formed documents and their elements, every kind of
 * malformation (lengths, missing NUL, unknown type, nesting past the cap),
 * the JSON rendering used in events.  Session (no socket, events from the
 * output tap): OP_QUERY isMaster answered with OP_REPLY and the claimed
 * maxWireVersion, OP_MSG with a kind 1 document sequence (an insert: the
 * mongodb.insert event carries the note), the CommandNotFound shape, a SCRAM
 * conversation failed with code 18 and logged with its username, PLAIN's
 * password, the HTTP answer on the driver port, a malformed message closing.
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
#include "reader.h"
#include "proto/mongodb.h"

static char *evs[256];
static size_t nevs;

static void tap(struct hp_event *e, void *arg)
{
    (void)arg;
    if (nevs < 256)
        evs[nevs++] = strndup(e->json, e->json_len);
}

static void evs_reset(void)
{
    for (size_t i = 0; i < nevs; i++)
        free(evs[i]);
    nevs = 0;
}

static const char *ev_find(const char *eventid, int nth)
{
    char pat[96];
    snprintf(pat, sizeof(pat), "\"eventid\":\"%s\"", eventid);
    for (size_t i = 0; i < nevs; i++)
        if (strstr(evs[i], pat) && nth-- == 0)
            return evs[i];
    return NULL;
}

/* ---- a tiny BSON writer for the tests ---- */

static void u32(struct hp_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    hp_buf_put(b, x, 4);
}

static size_t dbegin(struct hp_buf *b)
{
    size_t at = b->len;
    u32(b, 0);
    return at;
}

static void dend(struct hp_buf *b, size_t at)
{
    hp_buf_putc(b, 0);
    uint32_t n = (uint32_t)(b->len - at);
    memcpy(b->data + at, &n, 4);                /* little-endian host */
}

static void key(struct hp_buf *b, uint8_t t, const char *k)
{
    hp_buf_putc(b, t);
    hp_buf_put(b, k, strlen(k) + 1);
}

static void add_str(struct hp_buf *b, const char *k, const char *v)
{
    key(b, 0x02, k);
    u32(b, (uint32_t)strlen(v) + 1);
    hp_buf_put(b, v, strlen(v) + 1);
}

static void add_i32(struct hp_buf *b, const char *k, int32_t v)
{
    key(b, 0x10, k);
    u32(b, (uint32_t)v);
}

static void add_bin(struct hp_buf *b, const char *k, const void *p, size_t n)
{
    key(b, 0x05, k);
    u32(b, (uint32_t)n);
    hp_buf_putc(b, 0);
    hp_buf_put(b, p, n);
}

/* An OP_MSG with body doc (and an optional kind 1 sequence). */
static void opmsg(struct hp_buf *m, const struct hp_buf *body, const char *seqid, const struct hp_buf *seq)
{
    size_t at = m->len;
    u32(m, 0);
    u32(m, 7);
    u32(m, 0);
    u32(m, 2013);
    u32(m, 0);
    hp_buf_putc(m, 0);
    hp_buf_put(m, body->data, body->len);
    if (seqid) {
        hp_buf_putc(m, 1);
        u32(m, (uint32_t)(4 + strlen(seqid) + 1 + seq->len));
        hp_buf_put(m, seqid, strlen(seqid) + 1);
        hp_buf_put(m, seq->data, seq->len);
    }
    uint32_t n = (uint32_t)(m->len - at);
    memcpy(m->data + at, &n, 4);
}

/* ---- BSON reading ---- */

static void test_bson_reader(void **st)
{
    (void)st;
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    size_t d = dbegin(&b);
    add_str(&b, "find", "users");
    add_i32(&b, "limit", 5);
    key(&b, 0x03, "filter");
    size_t f = dbegin(&b);
    key(&b, 0x08, "ok");
    hp_buf_putc(&b, 1);
    dend(&b, f);
    key(&b, 0x04, "arr");
    size_t a = dbegin(&b);
    add_i32(&b, "0", 1);
    add_str(&b, "1", "t\"x\n");
    dend(&b, a);
    add_bin(&b, "payload", "abc", 3);
    dend(&b, d);
    assert_true(hp_bson_valid(b.data, b.len, HP_MONGO_MAX_DEPTH));
    struct hp_bson_el el;
    const char *s;
    size_t n;
    assert_true(hp_bson_find(b.data, b.len, "find", &el));
    assert_true(hp_bson_str(&el, &s, &n));
    assert_int_equal(n, 5);
    assert_memory_equal(s, "users", 5);
    assert_true(hp_bson_find(b.data, b.len, "limit", &el));
    assert_true(hp_bson_num(&el) == 5.0);
    assert_false(hp_bson_find(b.data, b.len, "nope", &el));
    struct hp_buf j;
    hp_buf_init(&j, 4096);
    hp_bson_json(b.data, b.len, &j, HP_MONGO_MAX_DEPTH);
    assert_string_equal(hp_buf_cstr(&j), "{\"find\":\"users\",\"limit\":5,\"filter\":{\"ok\":true},"
                                         "\"arr\":[1,\"t\\\"x\\n\"],\"payload\":{\"$binary\":{\"base64\":\"YWJj\","
                                         "\"subType\":\"00\"}}}");
    /* malformations: every truncation, a bad length, a missing NUL, an unknown type */
    for (size_t k = 0; k < b.len; k++)
        assert_false(hp_bson_valid(b.data, k, HP_MONGO_MAX_DEPTH));
    uint8_t *bad = malloc(b.len);
    memcpy(bad, b.data, b.len);
    bad[b.len - 1] = 1;
    assert_false(hp_bson_valid(bad, b.len, HP_MONGO_MAX_DEPTH));
    memcpy(bad, b.data, b.len);
    bad[4] = 0x42;                                /* type of the first element */
    assert_false(hp_bson_valid(bad, b.len, HP_MONGO_MAX_DEPTH));
    memcpy(bad, b.data, b.len);
    bad[13] = 0x7f;                               /* the string's length, far too long */
    assert_false(hp_bson_valid(bad, b.len, HP_MONGO_MAX_DEPTH));
    free(bad);
    /* nesting: 40 levels is more than the cap */
    hp_buf_reset(&b);
    size_t lv[40];
    for (int i = 0; i < 40; i++) {
        lv[i] = dbegin(&b);
        if (i < 39)
            key(&b, 0x03, "a");
    }
    for (int i = 39; i >= 0; i--)
        dend(&b, lv[i]);
    assert_true(hp_bson_valid(b.data, b.len, 64));
    assert_false(hp_bson_valid(b.data, b.len, HP_MONGO_MAX_DEPTH));
    hp_buf_free(&b);
    hp_buf_free(&j);
}

/* ---- sessions ---- */

struct sess {
    struct hp_mongo_conf conf;
    struct hp_evctx ctx;
    struct hp_mongo_sess *s;
    struct hp_buf out;
    bool closed;
};

static void sess_open(struct sess *t, const char *version)
{
    memset(t, 0, sizeof(*t));
    assert_int_equal(hp_mongo_set_version(version), 0);
    t->conf.version = (char *)version;
    t->ctx.protocol = "mongodb";
    snprintf(t->ctx.src_ip, sizeof(t->ctx.src_ip), "192.0.2.7");
    t->s = hp_mongo_sess_new(&t->conf, &t->ctx);
    hp_buf_init(&t->out, 8 * 1024 * 1024);
    evs_reset();
}

static void feed(struct sess *t, const void *in, size_t n)
{
    struct hp_rd r;
    hp_rd_init(&r, in, n);
    hp_buf_reset(&t->out);
    t->closed = hp_mongo_feed(t->s, &r, &t->out);
}

static void sess_close(struct sess *t)
{
    hp_mongo_sess_end(t->s);
    hp_mongo_sess_free(t->s);
    hp_buf_free(&t->out);
}

/* The reply document of an OP_MSG answer (after header, flags, kind). */
static const uint8_t *reply_doc(struct sess *t, size_t *len, int32_t want_op)
{
    assert_true(t->out.len > 21);
    uint32_t n, op;
    memcpy(&n, t->out.data, 4);
    memcpy(&op, t->out.data + 12, 4);
    assert_int_equal(n, t->out.len);
    assert_int_equal(op, want_op);
    size_t off = want_op == 1 ? 36 : 21;
    *len = t->out.len - off;
    assert_true(hp_bson_valid(t->out.data + off, *len, 64));
    return t->out.data + off;
}

static double reply_num(const uint8_t *d, size_t n, const char *k)
{
    struct hp_bson_el el;
    assert_true(hp_bson_find(d, n, k, &el));
    return hp_bson_num(&el);
}

static bool reply_str(const uint8_t *d, size_t n, const char *k, const char *want)
{
    struct hp_bson_el el;
    const char *s;
    size_t sl;
    return hp_bson_find(d, n, k, &el) && hp_bson_str(&el, &s, &sl) && sl == strlen(want) && !memcmp(s, want, sl);
}

static void test_opquery_ismaster(void **st)
{
    (void)st;
    struct sess t;
    sess_open(&t, "4.4.29");
    struct hp_buf q, m;
    hp_buf_init(&q, 4096);
    hp_buf_init(&m, 4096);
    size_t d = dbegin(&q);
    add_i32(&q, "isMaster", 1);
    dend(&q, d);
    size_t at = m.len;
    u32(&m, 0);
    u32(&m, 99);
    u32(&m, 0);
    u32(&m, 2004);
    u32(&m, 0);
    hp_buf_put(&m, "admin.$cmd", 11);
    u32(&m, 0);
    u32(&m, 1);
    hp_buf_put(&m, q.data, q.len);
    uint32_t n = (uint32_t)(m.len - at);
    memcpy(m.data, &n, 4);
    for (size_t k = 0; k < m.len; k++) {           /* a partial message waits */
        feed(&t, m.data, k);
        assert_int_equal(t.out.len, 0);
        assert_false(t.closed);
    }
    feed(&t, m.data, m.len);
    size_t dl;
    const uint8_t *r = reply_doc(&t, &dl, 1);
    uint32_t to;
    memcpy(&to, t.out.data + 8, 4);
    assert_int_equal(to, 99);
    assert_true(reply_num(r, dl, "ismaster") == 1);
    assert_true(reply_num(r, dl, "maxWireVersion") == 9);
    assert_true(reply_num(r, dl, "ok") == 1);
    const char *ci = ev_find("command.input", 0);
    assert_non_null(ci);
    assert_non_null(strstr(ci, "\"input\":\"isMaster {\\\"isMaster\\\":1}\""));
    assert_non_null(strstr(ci, "\"op\":\"OP_QUERY\""));
    sess_close(&t);
    hp_buf_free(&q);
    hp_buf_free(&m);
}

static void test_opmsg_insert_unknown(void **st)
{
    (void)st;
    struct sess t;
    sess_open(&t, "6.0.14");
    struct hp_buf body, seq, m;
    hp_buf_init(&body, 4096);
    hp_buf_init(&seq, 4096);
    hp_buf_init(&m, 8192);
    size_t d = dbegin(&body);
    add_str(&body, "insert", "README");
    add_str(&body, "$db", "shop");
    dend(&body, d);
    d = dbegin(&seq);
    add_str(&seq, "content", "Pay 0.01 BTC to bc1qexample");
    dend(&seq, d);
    opmsg(&m, &body, "documents", &seq);
    feed(&t, m.data, m.len);
    size_t dl;
    const uint8_t *r = reply_doc(&t, &dl, 2013);
    assert_true(reply_num(r, dl, "n") == 1);
    const char *ins = ev_find("mongodb.insert", 0);
    assert_non_null(ins);
    assert_non_null(strstr(ins, "\"database\":\"shop\",\"collection\":\"README\",\"count\":1"));
    assert_non_null(strstr(ins, "Pay 0.01 BTC to bc1qexample"));
    /* the note is found again */
    hp_buf_reset(&body);
    hp_buf_reset(&m);
    d = dbegin(&body);
    add_str(&body, "find", "README");
    add_str(&body, "$db", "shop");
    dend(&body, d);
    opmsg(&m, &body, NULL, NULL);
    feed(&t, m.data, m.len);
    r = reply_doc(&t, &dl, 2013);
    assert_non_null(memmem(r, dl, "bc1qexample", 11));
    /* unknown command: the real error shape */
    hp_buf_reset(&body);
    hp_buf_reset(&m);
    d = dbegin(&body);
    add_i32(&body, "frobnicate", 1);
    add_str(&body, "$db", "admin");
    dend(&body, d);
    opmsg(&m, &body, NULL, NULL);
    feed(&t, m.data, m.len);
    r = reply_doc(&t, &dl, 2013);
    assert_true(reply_num(r, dl, "ok") == 0);
    assert_true(reply_str(r, dl, "errmsg", "no such command: 'frobnicate'"));
    assert_true(reply_num(r, dl, "code") == 59);
    assert_true(reply_str(r, dl, "codeName", "CommandNotFound"));
    sess_close(&t);
    hp_buf_free(&body);
    hp_buf_free(&seq);
    hp_buf_free(&m);
}

static void sasl_msg(struct hp_buf *m, const char *cmd, const char *mech, const char *payload)
{
    struct hp_buf body;
    hp_buf_init(&body, 4096);
    size_t d = dbegin(&body);
    add_i32(&body, cmd, 1);
    if (mech)
        add_str(&body, "mechanism", mech);
    else
        add_i32(&body, "conversationId", 1);
    add_bin(&body, "payload", payload, strlen(payload));
    add_str(&body, "$db", "admin");
    dend(&body, d);
    hp_buf_reset(m);
    opmsg(m, &body, NULL, NULL);
    hp_buf_free(&body);
}

static void test_scram(void **st)
{
    (void)st;
    struct sess t;
    sess_open(&t, "5.0.26");
    struct hp_buf m;
    hp_buf_init(&m, 4096);
    sasl_msg(&m, "saslStart", "SCRAM-SHA-256", "n,,n=root,r=rOprNGfwEbeRWgbNEkqO");
    feed(&t, m.data, m.len);
    size_t dl;
    const uint8_t *r = reply_doc(&t, &dl, 2013);
    assert_true(reply_num(r, dl, "ok") == 1);
    assert_true(reply_num(r, dl, "conversationId") == 1);
    struct hp_bson_el el;
    const uint8_t *p = NULL;
    size_t pn = 0;
    assert_true(hp_bson_find(r, dl, "payload", &el) && hp_bson_bin(&el, &p, &pn));
    assert_true(pn > 30 && !memcmp(p, "r=rOprNGfwEbeRWgbNEkqO", 22));
    assert_non_null(memmem(p, pn, ",i=15000", 8));
    sasl_msg(&m, "saslContinue", NULL, "c=biws,r=rOprNGfwEbeRWgbNEkqOxyz,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    feed(&t, m.data, m.len);
    r = reply_doc(&t, &dl, 2013);
    assert_true(reply_num(r, dl, "ok") == 0);
    assert_true(reply_num(r, dl, "code") == 18);
    assert_true(reply_str(r, dl, "errmsg", "Authentication failed."));
    const char *lf = ev_find("login.failed", 0);
    assert_non_null(lf);
    assert_non_null(strstr(lf, "\"username\":\"root\",\"method\":\"scram-sha-256\""));
    assert_non_null(strstr(lf, "\"scram_proof\":\"dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=\""));
    assert_null(ev_find("login.failed", 1));
    /* a start never continued is logged when the connection ends */
    sasl_msg(&m, "saslStart", "SCRAM-SHA-1", "n,,n=a=2Cb,r=abc");
    feed(&t, m.data, m.len);
    assert_null(ev_find("login.failed", 1));
    hp_mongo_sess_end(t.s);
    lf = ev_find("login.failed", 1);
    assert_non_null(lf);
    assert_non_null(strstr(lf, "\"username\":\"a,b\",\"method\":\"scram-sha-1\""));
    sess_close(&t);
    /* PLAIN: refused like the community server, the password logged */
    sess_open(&t, "5.0.26");
    static const char plain[] = "\0alice\0hunter2";
    struct hp_buf body;
    hp_buf_init(&body, 4096);
    size_t d = dbegin(&body);
    add_i32(&body, "saslStart", 1);
    add_str(&body, "mechanism", "PLAIN");
    add_bin(&body, "payload", plain, sizeof(plain) - 1);
    add_str(&body, "$db", "$external");
    dend(&body, d);
    hp_buf_reset(&m);
    opmsg(&m, &body, NULL, NULL);
    feed(&t, m.data, m.len);
    r = reply_doc(&t, &dl, 2013);
    assert_true(reply_num(r, dl, "code") == 334);
    lf = ev_find("login.failed", 0);
    assert_non_null(lf);
    assert_non_null(strstr(lf, "\"username\":\"alice\",\"password\":\"hunter2\",\"method\":\"plain\""));
    sess_close(&t);
    hp_buf_free(&body);
    hp_buf_free(&m);
}

static void test_http_and_garbage(void **st)
{
    (void)st;
    struct sess t;
    sess_open(&t, "4.4.29");
    feed(&t, "GET / HTTP/1.0\r\n\r\n", 18);
    assert_true(t.closed);
    assert_non_null(strstr(hp_buf_cstr(&t.out), "It looks like you are trying to access MongoDB over HTTP on the native driver port.\n"));
    sess_close(&t);
    sess_open(&t, "4.4.29");
    feed(&t, "\r\n\r\n", 4);                          /* nmap's GenericLines: an absurd length */
    assert_true(t.closed);
    assert_int_equal(t.out.len, 0);
    sess_close(&t);
    sess_open(&t, "4.4.29");
    static const uint8_t junk[] = {20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xdd, 0x07, 0, 0, 0, 0, 0, 0};
    feed(&t, junk, sizeof(junk));                  /* OP_MSG without a body */
    assert_true(t.closed);
    sess_close(&t);
}

int main(void)
{
    hp_output_set_tap(tap, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bson_reader),
        cmocka_unit_test(test_opquery_ismaster),
        cmocka_unit_test(test_opmsg_insert_unknown),
        cmocka_unit_test(test_scram),
        cmocka_unit_test(test_http_and_garbage),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    evs_reset();
    return rc;
}
