/*
 * test_jsonscan.c - unit tests for the event JSON scanner (src/store/jsonscan.c).
 *
 * Member lookup (found, absent, nested members not taken for top-level ones,
 * first occurrence wins), the raw text and type of each value, string
 * decoding (every escape, surrogate pairs, a lone surrogate, \u0000, cuts at
 * the buffer size that never split a character), integers, list elements,
 * and malformed input (torn, trailing bytes, too deep) refused whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "core/event.h"
#include "store/jsonscan.h"

static const char *const names[] = { "username", "cves", "asn", "x", "missing" };
enum { U, CVES, ASN, X, MISSING, NN };

static int scan(const char *json, struct hp_jval *v)
{
    return hp_jscan_members(json, strlen(json), names, NN, v);
}

static void test_members(void **state)
{
    struct hp_jval v[NN];
    const char *j = " {\"nested\":{\"username\":\"no\",\"x\":[1]},\"username\":\"root\",\"cves\":[\"CVE-1\", \"CVE-2\"],"
                    "\"asn\":4134,\"x\":true,\"username\":\"second\"}\n";
    assert_int_equal(scan(j, v), 0);
    assert_int_equal(v[U].type, HP_J_STR);
    assert_int_equal(v[U].n, 6);
    assert_memory_equal(v[U].p, "\"root\"", 6);                 /* top level, first one */
    assert_int_equal(v[CVES].type, HP_J_ARR);
    assert_memory_equal(v[CVES].p, "[\"CVE-1\", \"CVE-2\"]", v[CVES].n);
    assert_int_equal(v[ASN].type, HP_J_NUM);
    assert_true(hp_jscan_is_int(&v[ASN]));
    assert_int_equal(v[X].type, HP_J_TRUE);
    assert_int_equal(v[MISSING].type, HP_J_NONE);
    assert_int_equal(scan("{}", v), 0);
    assert_int_equal(v[U].type, HP_J_NONE);
}

static void test_elements(void **state)
{
    struct hp_jval v[NN], el;
    assert_int_equal(scan("{\"cves\":[ \"a\" ,null,{\"b\":[]},\"c\\n\" ]}", v), 0);
    size_t pos = 0;
    char out[16];
    const enum hp_jtype want[] = { HP_J_STR, HP_J_NULL, HP_J_OBJ, HP_J_STR };
    for (int i = 0; i < 4; i++) {
        assert_true(hp_jscan_elem(&v[CVES], &pos, &el));
        assert_int_equal(el.type, want[i]);
    }
    assert_int_equal(hp_jscan_str(&el, out, sizeof(out)), 2);
    assert_string_equal(out, "c\n");
    assert_false(hp_jscan_elem(&v[CVES], &pos, &el));
    assert_int_equal(scan("{\"cves\":[]}", v), 0);
    pos = 0;
    assert_false(hp_jscan_elem(&v[CVES], &pos, &el));
    pos = 0;
    assert_false(hp_jscan_elem(&v[U], &pos, &el));              /* absent: no elements */
}

static void test_decode(void **state)
{
    struct hp_jval v[NN];
    char out[64];
    assert_int_equal(scan("{\"username\":\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\\u00e9\\ud83d\\ude00\\u0000z\"}", v), 0);
    size_t n = hp_jscan_str(&v[U], out, sizeof(out));
    const char want[] = "a\"b\\c/d\be\ff\ng\rh\ti\xc3\xa9\xf0\x9f\x98\x80\0z";
    assert_int_equal(n, sizeof(want) - 1);
    assert_memory_equal(out, want, n);
    /* a lone surrogate, and a high one followed by an ordinary escape */
    assert_int_equal(scan("{\"username\":\"\\udc00\\ud800\\u0041\"}", v), 0);
    n = hp_jscan_str(&v[U], out, sizeof(out));
    assert_int_equal(n, 7);
    assert_memory_equal(out, "\xef\xbf\xbd\xef\xbf\xbd" "A", 7);
    /* cut before a character that does not fit: é (2 bytes) after "abc" in 5 */
    assert_int_equal(scan("{\"username\":\"abc\\u00e9d\"}", v), 0);
    assert_int_equal(hp_jscan_str(&v[U], out, 5), 3);
    assert_string_equal(out, "abc");
    assert_int_equal(hp_jscan_str(&v[U], out, 1), 0);
    assert_string_equal(out, "");
    /* not a string: nothing */
    assert_int_equal(scan("{\"username\":12}", v), 0);
    assert_int_equal(hp_jscan_str(&v[U], out, sizeof(out)), 0);
    assert_true(hp_jscan_is_int(&v[U]));
}

static void test_numbers(void **state)
{
    struct hp_jval v[NN];
    assert_int_equal(scan("{\"asn\":-7,\"x\":1.5e3,\"username\":123456789012345678901}", v), 0);
    assert_true(hp_jscan_is_int(&v[ASN]));
    assert_false(hp_jscan_is_int(&v[X]));
    assert_false(hp_jscan_is_int(&v[U]));                       /* 21 digits */
}

static void test_malformed(void **state)
{
    struct hp_jval v[NN];
    const char *bad[] = {
        "", "[]", "\"s\"", "{", "{\"username\":\"root\"", "{\"username\":\"root\"} x",
        "{\"username\" \"root\"}", "{\"username\":}", "{\"username\":\"a\\qb\"}", "{\"username\":\"a\\u12\"}",
        "{\"username\":\"tab\there\"}", "{\"x\":[1,]}", "{\"x\":tru}", "{,}", "{\"x\":1,}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(scan(bad[i], v), -1);
        for (int k = 0; k < NN; k++)
            assert_int_equal(v[k].type, HP_J_NONE);             /* nothing half-found */
    }
    char deep[200];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof(deep), "{\"x\":");
    for (int i = 0; i < HP_JSCAN_DEPTH + 1; i++)
        deep[n++] = '[';
    for (int i = 0; i < HP_JSCAN_DEPTH + 1; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    assert_int_equal(scan(deep, v), -1);
    /* one level less is fine */
    memmove(deep + 5, deep + 6, strlen(deep + 6) + 1);
    memmove(deep + 5 + HP_JSCAN_DEPTH, deep + 6 + HP_JSCAN_DEPTH, strlen(deep + 6 + HP_JSCAN_DEPTH) + 1);
    assert_int_equal(scan(deep, v), 0);
    assert_int_equal(v[X].type, HP_J_ARR);
}

/* Every top-level member of e, through its key index and by scanning, the same. */
static void same_both_ways(const struct hp_event *e, const char *const *kn, size_t nn)
{
    struct hp_jval a[16], b[16];
    assert_non_null(e->keys);
    assert_int_equal(hp_jscan_members(e->json, e->json_len, kn, nn, a), 0);
    assert_int_equal(hp_jscan_members_at(e->json, e->json_len, e->keys, e->nkeys, kn, nn, b), 0);
    for (size_t i = 0; i < nn; i++) {
        assert_int_equal(a[i].type, b[i].type);
        assert_ptr_equal(a[i].p, b[i].p);
        assert_int_equal(a[i].n, b[i].n);
    }
}

/* The event builder's key index (event.h) leads to the same values as a scan:
 * common fields, nested containers, a duplicate key (the first wins), a
 * container that did not fit, the "truncated" flag; with too many members
 * there is no index. */
static void test_key_index(void **state)
{
    (void)state;
    static const char *const kn[] = { "eventid", "src_ip", "username", "headers", "list", "x",
                                         "truncated", "dst_port", "big", "after", "nested" };
    const size_t nn = sizeof(kn) / sizeof(kn[0]);
    struct hp_evctx ctx = { .session = "abcdef012345", .protocol = "http", .src_ip = "192.0.2.1",
                            .dst_ip = "192.0.2.2", .src_port = 1, .dst_port = 80 };
    struct hp_ev ev;
    hp_ev_begin(&ev, &ctx, "login.failed");
    hp_ev_str(&ev, "username", "root");
    hp_ev_obj_begin(&ev, "headers");
    hp_ev_str(&ev, "x", "inner, not the top-level x");
    hp_ev_str(&ev, "username", "inner");
    hp_ev_obj_end(&ev);
    hp_ev_arr_begin(&ev, "list");
    hp_ev_elem_str(&ev, "a");
    hp_ev_arr_end(&ev);
    hp_ev_str(&ev, "username", "second");                   /* a duplicate: the first wins */
    hp_ev_int(&ev, "x", -5);
    struct hp_event *e = hp_ev_finish(&ev);
    assert_non_null(e);
    same_both_ways(e, kn, nn);
    struct hp_jval v[16];
    assert_int_equal(hp_jscan_members_at(e->json, e->json_len, e->keys, e->nkeys, kn, nn, v), 0);
    assert_int_equal(v[2].n, 6);                             /* "root" */
    assert_memory_equal(v[2].p, "\"root\"", 6);
    assert_int_equal(v[5].type, HP_J_NUM);                   /* the top-level x */
    for (size_t k = 0; k < e->nkeys; k++)
        assert_int_equal(e->json[e->keys[k]], '"');
    hp_event_unref(e);

    /* a container that does not fit is dropped, the flag is indexed too */
    static char big[HP_EVENT_MAX];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    hp_ev_begin(&ev, &ctx, "http.request");
    hp_ev_obj_begin(&ev, "nested");
    hp_ev_str(&ev, "big", big);
    hp_ev_obj_end(&ev);
    hp_ev_str(&ev, "big", big);
    hp_ev_str(&ev, "after", "yes");
    e = hp_ev_finish(&ev);
    assert_non_null(e);
    same_both_ways(e, kn, nn);
    assert_int_equal(hp_jscan_members_at(e->json, e->json_len, e->keys, e->nkeys, kn, nn, v), 0);
    assert_int_equal(v[6].type, HP_J_TRUE);                  /* "truncated" */
    assert_int_equal(v[9].type, HP_J_STR);                   /* "after" */
    hp_event_unref(e);

    /* more members than the index holds: no index, the scan still works */
    hp_ev_begin(&ev, &ctx, "session.closed");
    for (int i = 0; i < HP_EV_KEYS; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%d", i);
        hp_ev_int(&ev, k, i);
    }
    e = hp_ev_finish(&ev);
    assert_non_null(e);
    assert_null(e->keys);
    assert_int_equal(e->nkeys, 0);
    hp_event_unref(e);

    /* an offset that leads nowhere is an error, not a read outside */
    const char *j = "{\"username\":\"root\"}";
    uint32_t keys[] = { 1, 100 };
    assert_int_equal(hp_jscan_members_at(j, strlen(j), keys, 2, (const char *const[]){ "username", "x" }, 2, v), -1);
    assert_int_equal(v[0].type, HP_J_NONE);
    uint32_t mid[] = { 3 };                                   /* inside a key */
    assert_int_equal(hp_jscan_members_at(j, strlen(j), mid, 1, (const char *const[]){ "username" }, 1, v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_index),
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_elements),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
