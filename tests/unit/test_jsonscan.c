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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_elements),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
