/*
 * test_json.c - unit tests for JSON escaping (src/core/json.c) and the event
 * builder (src/core/event.c).
 *
 * json.c: hp_utf8_valid on the classic UTF-8 decoder stress cases (overlong
 * 2/3/4-byte forms, UTF-16 surrogates, code points above U+10FFFF, bytes that
 * never appear in UTF-8, truncated sequences, lone continuation bytes, valid
 * 2/3/4-byte characters and the boundaries of each range); the exact output
 * of hp_json_str for quotes, backslash, \n \r \t, NUL, other C0 controls,
 * DEL, U+2028/U+2029, valid multi-byte text, invalid bytes (-> \ufffd and
 * lossless = false) and every one of the 256 byte values; hp_json_str into a
 * capped buffer; base64 against the RFC 4648 section 10 vectors and across
 * hp_b64_put's internal 48 KiB blocks.
 *
 * event.c: events built with hp_ev_begin (NULL context and a filled
 * struct hp_evctx), every field type, objects and arrays, hp_ev_finish.  The
 * JSON is checked with the independent validator in json_check.h: common
 * fields present, exact and in order; "<key>_b64" with the exact base64 of
 * the raw bytes for text that is not lossless; a 2 MB field dropped with
 * "truncated":true and the JSON still valid; the exact HP_EVENT_MAX boundary;
 * containers that do not fit; every byte value round-tripping through the
 * event (decoded JSON string == input when lossless, _b64 == input when not).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "event.h"
#include "json.h"
#include "util.h"
#include "json_check.h"

/* ---- helpers ------------------------------------------------------------- */

#define S(lit) (lit), (sizeof(lit) - 1)

/* hp_json_str into a fresh buffer; returns a malloc'd C string of the output. */
static char *jstr(const void *s, size_t n, bool *lossless)
{
    struct hp_buf b;
    hp_buf_init(&b, 1 << 24);
    bool l = hp_json_str(&b, s, n);
    assert_true(hp_buf_ok(&b));
    if (lossless)
        *lossless = l;
    char *out = strdup(hp_buf_cstr(&b));
    hp_buf_free(&b);
    return out;
}

static void check_jstr(const void *s, size_t n, const char *expect, bool expect_lossless)
{
    bool lossless = !expect_lossless;
    char *out = jstr(s, n, &lossless);
    assert_string_equal(out, expect);
    assert_int_equal(lossless, expect_lossless);
    assert_true(jc_valid(out, strlen(out)));
    assert_true(jc_safe_text(out, strlen(out)));
    if (expect_lossless) {
        size_t dl;
        uint8_t *d = jc_decode_str(out, strlen(out), &dl);
        assert_non_null(d);
        assert_int_equal(dl, n);
        if (n)
            assert_memory_equal(d, s, n);
        free(d);
    }
    free(out);
}

static char *b64(const void *s, size_t n)
{
    struct hp_buf b;
    hp_buf_init(&b, 1 << 24);
    hp_b64_put(&b, s, n);
    assert_true(hp_buf_ok(&b));
    char *out = strdup(hp_buf_cstr(&b));
    hp_buf_free(&b);
    return out;
}

#define MAXM 64

struct parsed {
    struct hp_event *e;
    struct jc_member m[MAXM];
    int n;
};

/* Finish the builder, check the JSON is valid and safe, split the members. */
static void finish_parse(struct hp_ev *ev, struct parsed *p)
{
    p->e = hp_ev_finish(ev);
    assert_non_null(p->e);
    assert_int_equal(p->e->refs, 1);
    assert_int_equal(strlen(p->e->json), p->e->json_len);
    assert_true(p->e->json_len <= HP_EVENT_MAX);
    if (!jc_valid(p->e->json, p->e->json_len))
        fail_msg("invalid JSON (%zu bytes): %.300s", p->e->json_len, p->e->json);
    assert_true(jc_safe_text(p->e->json, p->e->json_len));
    p->n = jc_members(p->e->json, p->e->json_len, p->m, MAXM);
    assert_true(p->n > 0);
}

static const struct jc_member *member(const struct parsed *p, const char *key)
{
    return jc_find(p->m, p->n, key);
}

/* The value of member 'key' must be exactly 'text' (raw JSON). */
static void assert_raw(const struct parsed *p, const char *key, const char *text)
{
    const struct jc_member *m = member(p, key);
    if (!m)
        fail_msg("member '%s' missing in %.300s", key, p->e->json);
    if (m->vlen != strlen(text) || memcmp(m->val, text, m->vlen) != 0)
        fail_msg("member '%s' is %.*s, expected %s", key, (int)m->vlen, m->val, text);
}

/* The string member 'key' must decode to exactly these bytes. */
static void assert_str_bytes(const struct parsed *p, const char *key, const void *s, size_t n)
{
    const struct jc_member *m = member(p, key);
    if (!m)
        fail_msg("member '%s' missing", key);
    size_t dl;
    uint8_t *d = jc_decode_str(m->val, m->vlen, &dl);
    assert_non_null(d);
    assert_int_equal(dl, n);
    assert_memory_equal(d, s, n);
    free(d);
}

/* The string member 'key' holds base64 of exactly these bytes. */
static void assert_b64_of(const struct parsed *p, const char *key, const void *s, size_t n)
{
    char *ref = jc_b64(s, n);
    size_t rl = strlen(ref);
    char *q = malloc(rl + 3);
    q[0] = '"';
    memcpy(q + 1, ref, rl);
    q[rl + 1] = '"';
    q[rl + 2] = '\0';
    assert_raw(p, key, q);
    free(q);
    free(ref);
}

static void assert_key_order(const struct parsed *p, const char *const *keys, int nkeys)
{
    assert_true(p->n >= nkeys);
    for (int i = 0; i < nkeys; i++)
        if (strcmp(p->m[i].key, keys[i]) != 0)
            fail_msg("member %d is '%s', expected '%s'", i, p->m[i].key, keys[i]);
}

static void parsed_free(struct parsed *p)
{
    hp_event_unref(p->e);
    p->e = NULL;
}

/* ---- the validator itself must be able to fail ------------------------------ */

static void test_validator_self(void **state)
{
    (void)state;
    static const char *const good[] = {
        "{}", "[]", "0", "-0.5e+3", "\"\"", "{\"a\":[1,true,false,null,{\"b\":\"\\u00e9\\ud83d\\ude00\"}]}",
        " { \"a\" : 1 } ", "\"\xc3\xa9\"",
    };
    static const char *const bad[] = {
        "", "{", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{a:1}", "01", "1.", "-", "+1", "tru",
        "\"\x01\"", "\"\xff\"", "\"\xc0\x80\"", "\"\xed\xa0\x80\"", "\"\\ud800\"", "\"\\udc00\"",
        "\"\\ud800\\u0041\"", "\"\\x41\"", "\"\\u12g4\"", "\"abc", "{} {}", "[1,]", "{\"a\":1}}",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!jc_valid(good[i], strlen(good[i])))
            fail_msg("rejected valid %s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (jc_valid(bad[i], strlen(bad[i])))
            fail_msg("accepted invalid %s", bad[i]);
    assert_false(jc_safe_text(S("\"\x7f\"")));
    assert_false(jc_safe_text(S("\"\xe2\x80\xa8\"")));
    assert_true(jc_safe_text(S("\"\xe2\x80\xa7\"")));
    assert_false(jc_safe_text(S("\"\xc2\x9b\"")));
    assert_false(jc_safe_text(S("\"\xe2\x80\xae\"")));
    assert_true(jc_safe_text(S("\"\xc2\xa0\"")));
    size_t dl;
    uint8_t *d = jc_decode_str(S("\"a\\u0000\\ud83d\\ude00\\\"\""), &dl);
    assert_non_null(d);
    assert_int_equal(dl, 7);
    assert_memory_equal(d, "a\0\xf0\x9f\x98\x80\"", 7);
    free(d);
    char *r = jc_b64(S("foobar"));
    assert_string_equal(r, "Zm9vYmFy");
    free(r);
}

/* ---- hp_utf8_valid ------------------------------------------------------------ */

static void test_utf8_valid_ok(void **state)
{
    (void)state;
    assert_true(hp_utf8_valid("", 0));
    assert_true(hp_utf8_valid(NULL, 0));
    assert_true(hp_utf8_valid(S("plain ASCII ~\x7f")));
    assert_true(hp_utf8_valid(S("\0nul\0")));
    assert_true(hp_utf8_valid(S("\xc2\x80")));             /* U+0080 first 2-byte */
    assert_true(hp_utf8_valid(S("\xc3\xa9")));             /* é */
    assert_true(hp_utf8_valid(S("\xdf\xbf")));             /* U+07FF last 2-byte */
    assert_true(hp_utf8_valid(S("\xe0\xa0\x80")));         /* U+0800 first 3-byte */
    assert_true(hp_utf8_valid(S("\xe2\x82\xac")));         /* € */
    assert_true(hp_utf8_valid(S("\xed\x9f\xbf")));         /* U+D7FF just below surrogates */
    assert_true(hp_utf8_valid(S("\xee\x80\x80")));         /* U+E000 just above */
    assert_true(hp_utf8_valid(S("\xef\xbf\xbd")));         /* U+FFFD */
    assert_true(hp_utf8_valid(S("\xef\xbf\xbf")));         /* U+FFFF (noncharacter, still valid) */
    assert_true(hp_utf8_valid(S("\xf0\x90\x80\x80")));     /* U+10000 first 4-byte */
    assert_true(hp_utf8_valid(S("\xf0\x9d\x84\x9e")));     /* U+1D11E */
    assert_true(hp_utf8_valid(S("\xf4\x8f\xbf\xbf")));     /* U+10FFFF last */
    /* Kuhn's "kosme" */
    assert_true(hp_utf8_valid(S("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")));
    assert_true(hp_utf8_valid(S("a\xc3\xa9" "b\xe2\x82\xac" "c\xf0\x9f\x98\x80" "d")));
}

static void test_utf8_overlong(void **state)
{
    (void)state;
    assert_false(hp_utf8_valid(S("\xc0\x80")));            /* NUL, 2 bytes */
    assert_false(hp_utf8_valid(S("\xc0\xaf")));            /* '/' */
    assert_false(hp_utf8_valid(S("\xc1\xbf")));            /* U+007F, 2 bytes */
    assert_false(hp_utf8_valid(S("\xe0\x80\x80")));        /* NUL, 3 bytes */
    assert_false(hp_utf8_valid(S("\xe0\x80\xaf")));
    assert_false(hp_utf8_valid(S("\xe0\x9f\xbf")));        /* U+07FF, 3 bytes */
    assert_false(hp_utf8_valid(S("\xf0\x80\x80\x80")));    /* NUL, 4 bytes */
    assert_false(hp_utf8_valid(S("\xf0\x80\x80\xaf")));
    assert_false(hp_utf8_valid(S("\xf0\x8f\xbf\xbf")));    /* U+FFFF, 4 bytes */
    assert_false(hp_utf8_valid(S("\xf8\x80\x80\x80\xaf"))); /* 5-byte forms */
    assert_false(hp_utf8_valid(S("\xfc\x80\x80\x80\x80\xaf")));
    assert_false(hp_utf8_valid(S("ok\xc0\x80ok")));
}

static void test_utf8_surrogates(void **state)
{
    (void)state;
    assert_false(hp_utf8_valid(S("\xed\xa0\x80")));        /* U+D800 */
    assert_false(hp_utf8_valid(S("\xed\xad\xbf")));        /* U+DB7F */
    assert_false(hp_utf8_valid(S("\xed\xae\x80")));        /* U+DB80 */
    assert_false(hp_utf8_valid(S("\xed\xaf\xbf")));        /* U+DBFF */
    assert_false(hp_utf8_valid(S("\xed\xb0\x80")));        /* U+DC00 */
    assert_false(hp_utf8_valid(S("\xed\xbf\xbf")));        /* U+DFFF */
    assert_false(hp_utf8_valid(S("\xed\xa0\x80\xed\xb0\x80")));  /* CESU-8 pair */
}

static void test_utf8_out_of_range(void **state)
{
    (void)state;
    assert_false(hp_utf8_valid(S("\xf4\x90\x80\x80")));    /* U+110000 */
    assert_false(hp_utf8_valid(S("\xf4\xbf\xbf\xbf")));
    assert_false(hp_utf8_valid(S("\xf5\x80\x80\x80")));
    assert_false(hp_utf8_valid(S("\xf7\xbf\xbf\xbf")));    /* U+1FFFFF */
    assert_false(hp_utf8_valid(S("\xfe")));
    assert_false(hp_utf8_valid(S("\xff")));
    assert_false(hp_utf8_valid(S("\xfe\xfe\xff\xff")));
}

static void test_utf8_truncated(void **state)
{
    (void)state;
    assert_false(hp_utf8_valid(S("\x80")));                /* lone continuations */
    assert_false(hp_utf8_valid(S("\xbf")));
    assert_false(hp_utf8_valid(S("\x80\xbf\x80")));
    assert_false(hp_utf8_valid(S("\xc3")));                /* sequence cut at the end */
    assert_false(hp_utf8_valid(S("\xe2\x82")));
    assert_false(hp_utf8_valid(S("\xe2")));
    assert_false(hp_utf8_valid(S("\xf0\x9f\x98")));
    assert_false(hp_utf8_valid(S("\xf0\x9f")));
    assert_false(hp_utf8_valid(S("\xc3" "A")));            /* cut by an ASCII byte */
    assert_false(hp_utf8_valid(S("\xe2\x82" "A")));
    assert_false(hp_utf8_valid(S("\xf0\x9f\x98" "A")));
    assert_false(hp_utf8_valid(S("\xe1\x80\xc0")));        /* bad third byte */
    assert_false(hp_utf8_valid(S("\xc3\xc3\xa9")));        /* lead then a full sequence */
    assert_false(hp_utf8_valid(S("\xc3\xa9\xa9")));        /* one continuation too many */
    /* the length argument is respected: a valid sequence cut by n */
    assert_false(hp_utf8_valid("\xe2\x82\xac", 2));
    assert_true(hp_utf8_valid("\xe2\x82\xac", 3));
    assert_true(hp_utf8_valid("A\xff", 1));
}

/* ---- hp_json_str ----------------------------------------------------------------- */

static void test_json_str_escapes(void **state)
{
    (void)state;
    check_jstr(S(""), "\"\"", true);
    check_jstr(S("hello world"), "\"hello world\"", true);
    check_jstr(S("\""), "\"\\\"\"", true);
    check_jstr(S("\\"), "\"\\\\\"", true);
    check_jstr(S("a\"b\\c"), "\"a\\\"b\\\\c\"", true);
    check_jstr(S("\n\r\t"), "\"\\n\\r\\t\"", true);
    check_jstr(S("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "\"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n\"", true);
    check_jstr(S("</script>'"), "\"</script>'\"", true);   /* '/' and '\'' need no escape */
}

static void test_json_str_controls(void **state)
{
    (void)state;
    check_jstr(S("\0"), "\"\\u0000\"", true);
    check_jstr(S("a\0b"), "\"a\\u0000b\"", true);
    check_jstr(S("\x1b[31m"), "\"\\u001b[31m\"", true);
    check_jstr(S("\x01\x1f"), "\"\\u0001\\u001f\"", true);
    check_jstr(S("\b\f\v"), "\"\\u0008\\u000c\\u000b\"", true);
    check_jstr(S("\x7f"), "\"\\u007f\"", true);
    check_jstr(S("x\x7fy"), "\"x\\u007fy\"", true);
}

static void test_json_str_separators(void **state)
{
    (void)state;
    check_jstr(S("\xe2\x80\xa8"), "\"\\u2028\"", true);
    check_jstr(S("\xe2\x80\xa9"), "\"\\u2029\"", true);
    check_jstr(S("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c"), "\"a\\u2028b\\u2029c\"", true);
    /* neighbours are not escaped (U+2027, U+2030) */
    check_jstr(S("\xe2\x80\xa7\xe2\x80\xb0"), "\"\xe2\x80\xa7\xe2\x80\xb0\"", true);
    /* an incomplete separator is two invalid bytes */
    check_jstr(S("\xe2\x80"), "\"\\ufffd\\ufffd\"", false);
}

/* What a terminal decoding UTF-8 acts on or reorders: C1 controls (U+009B CSI, U+009D OSC, U+009C ST)
 * and the bidirectional controls are escaped, losslessly; their neighbours are not. */
static void test_json_str_terminal(void **state)
{
    (void)state;
    check_jstr(S("\xc2\x9b" "2J\xc2\x9d" "0;t\xc2\x9c"), "\"\\u009b2J\\u009d0;t\\u009c\"", true);
    check_jstr(S("\xc2\x80\xc2\x9f\xc2\xa0"), "\"\\u0080\\u009f\xc2\xa0\"", true);
    check_jstr(S("\xe2\x80\xae" "exe.txt"), "\"\\u202eexe.txt\"", true);
    check_jstr(S("\xd8\x9c\xe2\x80\x8e\xe2\x80\x8f\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9"),
               "\"\\u061c\\u200e\\u200f\\u202a\\u2066\\u2069\"", true);
    check_jstr(S("\xd8\x9b\xe2\x80\x8d\xe2\x80\x90\xe2\x81\xa5\xe2\x81\xaa"),
               "\"\xd8\x9b\xe2\x80\x8d\xe2\x80\x90\xe2\x81\xa5\xe2\x81\xaa\"", true);
}

static void test_json_str_utf8(void **state)
{
    (void)state;
    check_jstr(S("caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e\"", true);
    check_jstr(S("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"", true);
    check_jstr(S("\xef\xbf\xbd"), "\"\xef\xbf\xbd\"", true);  /* a real U+FFFD is lossless */
}

static void test_json_str_invalid(void **state)
{
    (void)state;
    check_jstr(S("\xff"), "\"\\ufffd\"", false);
    check_jstr(S("A\xc0\x80" "B"), "\"A\\ufffd\\ufffdB\"", false);
    check_jstr(S("\xe0\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\"", false);
    check_jstr(S("\xf0\x80\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", false);
    check_jstr(S("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"", false);
    check_jstr(S("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", false);
    check_jstr(S("\xe2\x82" "A"), "\"\\ufffd\\ufffdA\"", false);
    /* a valid sequence right after an invalid byte survives */
    check_jstr(S("\xc3\xc3\xa9\n"), "\"\\ufffd\xc3\xa9\\n\"", false);
    check_jstr(S("\x80\"\\"), "\"\\ufffd\\\"\\\\\"", false);
}

/* Independent expectation for one byte. */
static void expect_byte(unsigned v, char *out)
{
    if (v == '"')
        strcpy(out, "\"\\\"\"");
    else if (v == '\\')
        strcpy(out, "\"\\\\\"");
    else if (v == '\n')
        strcpy(out, "\"\\n\"");
    else if (v == '\r')
        strcpy(out, "\"\\r\"");
    else if (v == '\t')
        strcpy(out, "\"\\t\"");
    else if (v < 0x20 || v == 0x7f)
        sprintf(out, "\"\\u%04x\"", v);
    else if (v < 0x80)
        sprintf(out, "\"%c\"", (char)v);
    else
        strcpy(out, "\"\\ufffd\"");
}

static void test_json_str_every_byte(void **state)
{
    (void)state;
    for (unsigned v = 0; v < 256; v++) {
        uint8_t c = (uint8_t)v;
        char expect[16];
        expect_byte(v, expect);
        check_jstr(&c, 1, expect, v < 0x80);
    }
}

static void test_json_str_capped(void **state)
{
    (void)state;
    struct hp_buf b;
    hp_buf_init(&b, 10);
    char in[20];
    memset(in, 'a', sizeof(in));
    hp_json_str(&b, in, sizeof(in));
    assert_false(hp_buf_ok(&b));
    assert_int_equal(b.len, 0);              /* a plain string that does not fit is refused whole */
    hp_buf_reset(&b);
    /* escapes that would cross the cap are refused whole */
    hp_json_str(&b, S("abcdef\x01"));
    assert_false(hp_buf_ok(&b));
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.data, "\"abcdef", 7);
    hp_buf_reset(&b);
    hp_json_str(&b, S("abcdefg"));
    assert_true(hp_buf_ok(&b));
    assert_int_equal(b.len, 9);
    hp_buf_free(&b);
}

/* ---- base64 --------------------------------------------------------------------- */

static void test_b64_rfc4648(void **state)
{
    (void)state;
    static const char *const v[][2] = {
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char *out = b64(v[i][0], strlen(v[i][0]));
        assert_string_equal(out, v[i][1]);
        free(out);

        struct hp_buf b;
        char q[16];
        hp_buf_init(&b, 64);
        hp_json_b64(&b, v[i][0], strlen(v[i][0]));
        snprintf(q, sizeof(q), "\"%s\"", v[i][1]);
        assert_string_equal(hp_buf_cstr(&b), q);
        hp_buf_free(&b);
    }
    char *out = b64(S("\x00\xff\xfe\x3e\x3f"));
    assert_string_equal(out, "AP/+Pj8=");           /* uses '+' and '/', not URL-safe */
    free(out);
}

static void test_b64_large(void **state)
{
    (void)state;
    static const size_t sizes[] = { 49151, 49152, 49153, 98304, 98305, 200003 };
    uint8_t *data = malloc(200003);
    uint32_t x = 12345;
    for (size_t i = 0; i < 200003; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 16);
    }
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char *got = b64(data, sizes[i]);
        char *ref = jc_b64(data, sizes[i]);
        assert_int_equal(strlen(got), 4 * ((sizes[i] + 2) / 3));
        assert_string_equal(got, ref);
        free(got);
        free(ref);
    }
    free(data);
}

static void test_b64_capped(void **state)
{
    (void)state;
    struct hp_buf b;
    hp_buf_init(&b, 7);
    hp_b64_put(&b, S("foobar"));              /* needs 8 */
    assert_false(hp_buf_ok(&b));
    assert_int_equal(b.len, 0);
    hp_buf_reset(&b);
    hp_b64_put(&b, S("fooba"));               /* needs 8 too */
    assert_false(hp_buf_ok(&b));
    hp_buf_reset(&b);
    hp_b64_put(&b, S("foo"));
    assert_true(hp_buf_ok(&b));
    assert_string_equal(hp_buf_cstr(&b), "Zm9v");
    hp_buf_free(&b);
}

/* ---- events ----------------------------------------------------------------------- */

static const char *const base_keys[] = { "timestamp", "eventid", "uid", "sensor" };
/* hp_ev_double writes v >= 0 below 1e12 without printf: the text must be
 * printf's "%.6f" for durations and sizes of every magnitude (ties aside,
 * which measured values do not hit), and the printf path must take over
 * at the edges. */
static void test_event_double_as_printf(void **state)
{
    (void)state;
    static const double fixed[] = { 0.0, 1e-7, 4e-7, 6e-7, 0.000001, 0.001, 0.1, 0.25, 0.999999, 0.9999996,
                                    1.0, 59.999999, 3600.5, 86400.000001, 123456.789012, 999999999.999999,
                                    99999999999.0, 1e12, 1e12 + 0.5, 3e15, -0.0, -1.5, 1e300 };
    uint64_t x = 88172645463325252ULL;            /* xorshift: the same values on every run */
    for (size_t i = 0; i < 20000 + sizeof(fixed) / sizeof(fixed[0]); i++) {
        double v;
        if (i < sizeof(fixed) / sizeof(fixed[0])) {
            v = fixed[i];
        } else {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            v = (double)(x >> 11) / (double)(1ULL << 53) * (i % 2 ? 1.0 : 10000.0);
        }
        struct hp_ev ev;
        struct parsed p;
        char want[400];
        hp_ev_begin(&ev, NULL, "test.double");
        hp_ev_double(&ev, "d", v);
        finish_parse(&ev, &p);
        snprintf(want, sizeof(want), "%.6f", v);
        const struct jc_member *m = member(&p, "d");
        assert_non_null(m);
        if (m->vlen != strlen(want) || memcmp(m->val, want, m->vlen) != 0)
            fail_msg("%.17g: %.*s, printf %s", v, (int)m->vlen, m->val, want);
        parsed_free(&p);
    }
}

/* hp_buf_printf formats once into what is allocated, and again after
 * growing when that is too small; past the cap it appends nothing. */
static void test_buf_printf(void **state)
{
    (void)state;
    struct hp_buf b;
    char big[600];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    hp_buf_init(&b, 1000);
    assert_true(hp_buf_printf(&b, "%d-%s", 42, "a"));     /* nothing allocated yet: two passes */
    assert_true(hp_buf_printf(&b, "%s=%d;", "k", 7));     /* fits what is allocated: one pass */
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.data, "42-ak=7;", 8);
    assert_true(hp_buf_printf(&b, "[%s]", big));          /* beyond the allocation */
    assert_int_equal(b.len, 8 + 601);
    assert_memory_equal(b.data, "42-ak=7;[xxx", 12);
    assert_int_equal(b.data[b.len - 1], ']');
    assert_false(hp_buf_printf(&b, "%s", big));           /* would cross the cap of 1000 */
    assert_int_equal(b.len, 609);
    assert_false(hp_buf_ok(&b));
    hp_buf_free(&b);
}

/* hp_buf_put's inline fast path: appends within the allocation, the cap
 * and the sticky 'full' flag, and a zero-length put of a NULL pointer
 * (callers pass empty fields so), which must not reach memcpy: the
 * sanitizer build of this test fails if it does. */
static void test_buf_put(void **state)
{
    (void)state;
    struct hp_buf b;
    hp_buf_init(&b, 10);
    assert_true(hp_buf_put(&b, NULL, 0));                   /* nothing allocated yet */
    assert_true(hp_buf_put(&b, "abcd", 4));                 /* the slow path allocates */
    assert_true(hp_buf_put(&b, NULL, 0));                   /* allocated: the fast path */
    assert_true(hp_buf_put(&b, "efgh", 4));
    assert_int_equal(b.len, 8);
    assert_false(hp_buf_put(&b, "ijk", 3));                 /* past the cap of 10 */
    assert_int_equal(b.len, 8);
    assert_false(hp_buf_ok(&b));
    assert_false(hp_buf_put(&b, "i", 1));                   /* 'full' is sticky */
    assert_false(hp_buf_put(&b, NULL, 0));
    assert_memory_equal(b.data, "abcdefgh", 8);
    hp_buf_free(&b);
}

static const char *const ctx_keys[] = { "timestamp", "eventid", "uid", "sensor", "session", "protocol",
                                        "service", "transport", "src_ip", "src_port", "dst_ip", "dst_port" };

static void fill_ctx(struct hp_evctx *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    strcpy(ctx->session, "0123456789ab");
    ctx->protocol = "trap";
    ctx->service = "trap-main";
    ctx->transport = "tcp";
    strcpy(ctx->src_ip, "2001:db8::dead:beef");
    strcpy(ctx->dst_ip, "192.0.2.1");
    ctx->src_port = 65535;
    ctx->dst_port = 23;
}

static void check_timestamp_uid(const struct parsed *p)
{
    char ts[48], q[64];
    /* exact text of the event's own clock reading */
    hp_fmt_iso8601(p->e->h.ts_us, ts, sizeof(ts));
    snprintf(q, sizeof(q), "\"%s\"", ts);
    assert_raw(p, "timestamp", q);
    /* and the shape YYYY-MM-DDTHH:MM:SS.ffffffZ */
    const struct jc_member *m = member(p, "timestamp");
    assert_int_equal(m->vlen, 29);
    const char *shape = "\"dddd-dd-ddTdd:dd:dd.ddddddZ\"";
    for (size_t i = 0; i < m->vlen; i++) {
        if (shape[i] == 'd')
            assert_true(m->val[i] >= '0' && m->val[i] <= '9');
        else
            assert_int_equal(m->val[i], shape[i]);
    }
    snprintf(q, sizeof(q), "\"%s-%llu\"", hp_event_run_id(), (unsigned long long)p->e->h.seq);
    assert_raw(p, "uid", q);
    assert_int_equal(strlen(hp_event_run_id()), 16);
    assert_int_equal(strspn(hp_event_run_id(), "0123456789abcdef"), 16);
}

static void test_event_noctx(void **state)
{
    (void)state;
    struct hp_ev ev;
    struct parsed p;
    hp_event_set_sensor("unit-sensor");
    int64_t before = hp_now_us();
    hp_ev_begin(&ev, NULL, "test.noctx");
    finish_parse(&ev, &p);
    int64_t after = hp_now_us();
    assert_int_equal(p.n, 4);
    assert_key_order(&p, base_keys, 4);
    assert_true(p.e->h.ts_us >= before && p.e->h.ts_us <= after);
    check_timestamp_uid(&p);
    assert_raw(&p, "eventid", "\"test.noctx\"");
    assert_raw(&p, "sensor", "\"unit-sensor\"");
    assert_string_equal(p.e->h.eventid, "test.noctx");
    assert_string_equal(p.e->h.session, "");
    /* no "truncated" on a small event */
    assert_null(member(&p, "truncated"));
    uint64_t seq = p.e->h.seq;
    parsed_free(&p);

    /* sequence numbers increase by one */
    hp_ev_begin(&ev, NULL, "test.noctx");
    finish_parse(&ev, &p);
    assert_true(p.e->h.seq == seq + 1);
    check_timestamp_uid(&p);
    parsed_free(&p);
}

static void test_event_ctx(void **state)
{
    (void)state;
    struct hp_evctx ctx;
    struct hp_ev ev;
    struct parsed p;
    fill_ctx(&ctx);
    hp_event_set_sensor("sensor \"7\"");
    hp_ev_begin(&ev, &ctx, "session.connect");
    hp_ev_str(&ev, "extra", "x");
    finish_parse(&ev, &p);
    assert_int_equal(p.n, 13);
    assert_key_order(&p, ctx_keys, 12);
    assert_string_equal(p.m[12].key, "extra");
    check_timestamp_uid(&p);
    assert_raw(&p, "eventid", "\"session.connect\"");
    assert_raw(&p, "sensor", "\"sensor \\\"7\\\"\"");
    assert_raw(&p, "session", "\"0123456789ab\"");
    assert_raw(&p, "protocol", "\"trap\"");
    assert_raw(&p, "service", "\"trap-main\"");
    assert_raw(&p, "transport", "\"tcp\"");
    assert_raw(&p, "src_ip", "\"2001:db8::dead:beef\"");
    assert_raw(&p, "src_port", "65535");
    assert_raw(&p, "dst_ip", "\"192.0.2.1\"");
    assert_raw(&p, "dst_port", "23");
    assert_raw(&p, "extra", "\"x\"");
    /* metadata for the outputs */
    assert_string_equal(p.e->h.session, "0123456789ab");
    assert_string_equal(p.e->h.protocol, "trap");
    assert_string_equal(p.e->h.src_ip, "2001:db8::dead:beef");
    assert_int_equal(p.e->h.src_port, 65535);
    assert_int_equal(p.e->h.dst_port, 23);
    parsed_free(&p);

    /* optional context strings left NULL are omitted, the rest keep their order */
    ctx.protocol = NULL;
    ctx.service = NULL;
    hp_ev_begin(&ev, &ctx, "x");
    finish_parse(&ev, &p);
    static const char *const k2[] = { "timestamp", "eventid", "uid", "sensor", "session", "transport",
                                      "src_ip", "src_port", "dst_ip", "dst_port" };
    assert_int_equal(p.n, 10);
    assert_key_order(&p, k2, 10);
    assert_string_equal(p.e->h.protocol, "");
    parsed_free(&p);
    hp_event_set_sensor("unit-sensor");
}

/* The key index of a frozen event: each entry is where a top-level key's
 * opening quote is, in the order of the members. */
static void assert_key_index(const struct parsed *p)
{
    assert_int_equal(p->e->nkeys, (size_t)p->n);
    for (int i = 0; i < p->n; i++) {
        const char *at = p->e->json + p->e->keys[i];
        size_t kl = strlen(p->m[i].key);
        assert_int_equal(at[0], '"');
        if (strncmp(at + 1, p->m[i].key, kl) != 0 || at[kl + 1] != '"')
            fail_msg("key index entry %d points at '%.20s', expected '%s'", i, at, p->m[i].key);
    }
}

/* An event's context members are copied from the last context rendered by
 * the thread when the values are the same: every change of a value must
 * show, and the copy must carry a right key index. */
static void test_event_ctx_reuse(void **state)
{
    (void)state;
    struct hp_evctx ctx;
    struct hp_ev ev;
    struct parsed p;
    char proto[16] = "trap", service[16] = "trap-main";
    fill_ctx(&ctx);
    ctx.protocol = proto;
    ctx.service = service;
    for (int round = 0; round < 2; round++) {    /* rendered, then copied */
        hp_ev_begin(&ev, &ctx, "session.connect");
        hp_ev_str(&ev, "extra", "x");
        finish_parse(&ev, &p);
        assert_int_equal(p.n, 13);
        assert_key_order(&p, ctx_keys, 12);
        assert_raw(&p, "session", "\"0123456789ab\"");
        assert_raw(&p, "dst_port", "23");
        assert_raw(&p, "extra", "\"x\"");
        assert_key_index(&p);
        parsed_free(&p);
    }
    /* each value changed in turn, the same buffers reused (as modules do) */
    struct { const char *key, *want; } changes[] = {
        { "dst_port", "2323" }, { "protocol", "\"http\"" }, { "service", "\"web\"" },
        { "src_ip", "\"198.51.100.7\"" }, { "src_port", "1" }, { "dst_ip", "\"192.0.2.99\"" },
        { "session", "\"ba9876543210\"" }, { "transport", "\"udp\"" },
    };
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        const char *k = changes[i].key;
        if (!strcmp(k, "dst_port"))
            ctx.dst_port = 2323;
        else if (!strcmp(k, "protocol"))
            strcpy(proto, "http");
        else if (!strcmp(k, "service"))
            strcpy(service, "web");
        else if (!strcmp(k, "src_ip"))
            strcpy(ctx.src_ip, "198.51.100.7");
        else if (!strcmp(k, "src_port"))
            ctx.src_port = 1;
        else if (!strcmp(k, "dst_ip"))
            strcpy(ctx.dst_ip, "192.0.2.99");
        else if (!strcmp(k, "session"))
            strcpy(ctx.session, "ba9876543210");
        else
            ctx.transport = "udp";
        hp_ev_begin(&ev, &ctx, "x");
        finish_parse(&ev, &p);
        assert_raw(&p, k, changes[i].want);
        assert_key_index(&p);
        if (!strcmp(k, "protocol"))
            assert_string_equal(p.e->h.protocol, "http");
        parsed_free(&p);
    }
    /* a member that goes away, and one that comes back */
    ctx.service = NULL;
    hp_ev_begin(&ev, &ctx, "x");
    finish_parse(&ev, &p);
    assert_int_equal(p.n, 11);
    assert_null(member(&p, "service"));
    assert_key_index(&p);
    parsed_free(&p);
    ctx.service = service;
    hp_ev_begin(&ev, &ctx, "x");
    finish_parse(&ev, &p);
    assert_raw(&p, "service", "\"web\"");
    assert_key_index(&p);
    parsed_free(&p);
    /* without a context, then with the same one again */
    hp_ev_begin(&ev, NULL, "x");
    finish_parse(&ev, &p);
    assert_int_equal(p.n, 4);
    parsed_free(&p);
    hp_ev_begin(&ev, &ctx, "x");
    finish_parse(&ev, &p);
    assert_int_equal(p.n, 12);
    assert_raw(&p, "src_port", "1");
    assert_key_index(&p);
    parsed_free(&p);
}

/* The events of many connections interleaved (keep-alive clients taking
 * turns), more of them than the builder keeps renderings for: each event
 * carries its own connection's members, rendered or copied. */
static void test_event_ctx_interleaved(void **state)
{
    (void)state;
    enum { NCONN = 200 };
    static struct hp_evctx ctxs[NCONN];
    for (int i = 0; i < NCONN; i++) {
        fill_ctx(&ctxs[i]);
        snprintf(ctxs[i].session, sizeof(ctxs[i].session), "%012x", (unsigned)(i * 2654435761u));
        snprintf(ctxs[i].src_ip, sizeof(ctxs[i].src_ip), "198.51.100.%d", i % 250);
        ctxs[i].src_port = (uint16_t)(40000 + i);
        ctxs[i].dst_port = (uint16_t)(8000 + i % 3);
    }
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < NCONN; k++) {
            int i = (k * 7 + round * 13) % NCONN;   /* a different order each round */
            struct hp_ev ev;
            struct parsed p;
            char want[64];
            hp_ev_begin(&ev, &ctxs[i], "http.request");
            finish_parse(&ev, &p);
            snprintf(want, sizeof(want), "\"%s\"", ctxs[i].session);
            assert_raw(&p, "session", want);
            snprintf(want, sizeof(want), "\"%s\"", ctxs[i].src_ip);
            assert_raw(&p, "src_ip", want);
            snprintf(want, sizeof(want), "%d", 40000 + i);
            assert_raw(&p, "src_port", want);
            snprintf(want, sizeof(want), "%d", 8000 + i % 3);
            assert_raw(&p, "dst_port", want);
            assert_string_equal(p.e->h.session, ctxs[i].session);
            assert_key_index(&p);
            parsed_free(&p);
        }
    }
}

static void test_event_values(void **state)
{
    (void)state;
    struct hp_ev ev;
    struct parsed p;
    hp_ev_begin(&ev, NULL, "test.values");
    hp_ev_str(&ev, "s", "text \"q\"");
    hp_ev_str(&ev, "nul", NULL);
    hp_ev_int(&ev, "imin", INT64_MIN);
    hp_ev_int(&ev, "imax", INT64_MAX);
    hp_ev_int(&ev, "neg", -1);
    hp_ev_uint(&ev, "umax", UINT64_MAX);
    hp_ev_double(&ev, "d", 1.5);
    hp_ev_double(&ev, "dneg", -0.25);
    hp_ev_double(&ev, "nan", NAN);
    hp_ev_double(&ev, "inf", INFINITY);
    hp_ev_double(&ev, "ninf", -INFINITY);
    hp_ev_bool(&ev, "t", true);
    hp_ev_bool(&ev, "f", false);
    hp_ev_b64(&ev, "raw", S("foobar"));
    hp_ev_b64(&ev, "empty", "", 0);
    hp_ev_bytes(&ev, "nobytes", "", 0);
    hp_ev_obj_begin(&ev, "o");
    hp_ev_int(&ev, "a", 1);
    hp_ev_arr_begin(&ev, "l");
    hp_ev_elem_str(&ev, "x\n");
    hp_ev_elem_int(&ev, -7);
    hp_ev_obj_begin(&ev, NULL);
    hp_ev_obj_end(&ev);
    hp_ev_arr_begin(&ev, NULL);
    hp_ev_arr_end(&ev);
    hp_ev_arr_end(&ev);
    hp_ev_obj_end(&ev);
    hp_ev_arr_begin(&ev, "emptyarr");
    hp_ev_arr_end(&ev);
    hp_ev_str(&ev, "key\t\"\xff", "v");
    finish_parse(&ev, &p);
    assert_raw(&p, "s", "\"text \\\"q\\\"\"");
    assert_raw(&p, "nul", "null");
    assert_raw(&p, "imin", "-9223372036854775808");
    assert_raw(&p, "imax", "9223372036854775807");
    assert_raw(&p, "neg", "-1");
    assert_raw(&p, "umax", "18446744073709551615");
    assert_raw(&p, "d", "1.500000");
    assert_raw(&p, "dneg", "-0.250000");
    assert_raw(&p, "nan", "null");
    assert_raw(&p, "inf", "null");
    assert_raw(&p, "ninf", "null");
    assert_raw(&p, "t", "true");
    assert_raw(&p, "f", "false");
    assert_raw(&p, "raw", "\"Zm9vYmFy\"");
    assert_raw(&p, "empty", "\"\"");
    assert_raw(&p, "nobytes", "\"\"");
    assert_raw(&p, "o", "{\"a\":1,\"l\":[\"x\\n\",-7,{},[]]}");
    assert_raw(&p, "emptyarr", "[]");
    /* a key is escaped like any string (invalid bytes -> U+FFFD) */
    assert_raw(&p, "key\t\"\xef\xbf\xbd", "\"v\"");
    assert_null(member(&p, "nobytes_b64"));
    assert_null(member(&p, "truncated"));
    assert_int_equal(p.n, 4 + 19);
    parsed_free(&p);
}

static void test_event_bytes_b64(void **state)
{
    (void)state;
    struct hp_ev ev;
    struct parsed p;
    static const uint8_t bad[] = { 0xff, 0xfe, 'A', 0xc0, 0x80, 0x00 };
    static const uint8_t ctl[] = { 0x00, 0x1b, 0x7f, '"', '\\', 0xe2, 0x80, 0xa8 };
    hp_ev_begin(&ev, NULL, "test.b64");
    hp_ev_bytes(&ev, "payload", bad, sizeof(bad));
    hp_ev_bytes(&ev, "ctl", ctl, sizeof(ctl));
    hp_ev_bytes(&ev, "text", S("caf\xc3\xa9"));
    hp_ev_str(&ev, "strbad", "\xf0\x80\x80\x80z");
    finish_parse(&ev, &p);
    assert_raw(&p, "payload", "\"\\ufffd\\ufffdA\\ufffd\\ufffd\\u0000\"");
    assert_raw(&p, "payload_b64", "\"//5BwIAA\"");
    assert_b64_of(&p, "payload_b64", bad, sizeof(bad));
    /* the _b64 member comes right after its field */
    const struct jc_member *m = member(&p, "payload");
    assert_string_equal(m[1].key, "payload_b64");
    /* escaped but lossless: no _b64 */
    assert_raw(&p, "ctl", "\"\\u0000\\u001b\\u007f\\\"\\\\\\u2028\"");
    assert_str_bytes(&p, "ctl", ctl, sizeof(ctl));
    assert_null(member(&p, "ctl_b64"));
    assert_raw(&p, "text", "\"caf\xc3\xa9\"");
    assert_null(member(&p, "text_b64"));
    assert_raw(&p, "strbad", "\"\\ufffd\\ufffd\\ufffd\\ufffdz\"");
    assert_b64_of(&p, "strbad_b64", "\xf0\x80\x80\x80z", 5);
    assert_int_equal(p.n, 4 + 6);
    parsed_free(&p);

    /* inside an array (no key) there is no _b64 companion */
    hp_ev_begin(&ev, NULL, "test.b64arr");
    hp_ev_arr_begin(&ev, "a");
    hp_ev_elem_str(&ev, "\xff");
    hp_ev_arr_end(&ev);
    finish_parse(&ev, &p);
    assert_raw(&p, "a", "[\"\\ufffd\"]");
    assert_int_equal(p.n, 5);
    parsed_free(&p);
}

/* Every byte value, alone and all together, round-trips through an event. */
static void test_event_every_byte(void **state)
{
    (void)state;
    struct hp_ev ev;
    struct parsed p;
    for (unsigned v = 0; v < 256; v++) {
        uint8_t c = (uint8_t)v;
        hp_ev_begin(&ev, NULL, "test.byte");
        hp_ev_bytes(&ev, "b", &c, 1);
        finish_parse(&ev, &p);
        if (v < 0x80) {
            assert_str_bytes(&p, "b", &c, 1);
            assert_null(member(&p, "b_b64"));
            assert_int_equal(p.n, 5);
        } else {
            assert_raw(&p, "b", "\"\\ufffd\"");
            assert_b64_of(&p, "b_b64", &c, 1);
            assert_int_equal(p.n, 6);
        }
        parsed_free(&p);
    }

    uint8_t all[256], ascii[128];
    for (unsigned v = 0; v < 256; v++)
        all[v] = (uint8_t)v;
    memcpy(ascii, all, 128);
    hp_ev_begin(&ev, NULL, "test.allbytes");
    hp_ev_bytes(&ev, "ascii", ascii, sizeof(ascii));
    hp_ev_bytes(&ev, "all", all, sizeof(all));
    finish_parse(&ev, &p);
    assert_str_bytes(&p, "ascii", ascii, sizeof(ascii));
    assert_null(member(&p, "ascii_b64"));
    assert_b64_of(&p, "all_b64", all, sizeof(all));
    /* decoded text: the 128 ASCII bytes exactly, then one U+FFFD per high byte */
    uint8_t expect[128 + 128 * 3];
    memcpy(expect, all, 128);
    for (int i = 0; i < 128; i++)
        memcpy(expect + 128 + 3 * i, "\xef\xbf\xbd", 3);
    assert_str_bytes(&p, "all", expect, sizeof(expect));
    parsed_free(&p);

    /* every valid 2-byte sequence, and a sweep of 3- and 4-byte ones, are lossless */
    uint8_t *buf = malloc(200000);
    size_t n = 0;
    for (unsigned cp = 0x80; cp < 0x800; cp++)
        n += jc_put_utf8(buf + n, cp);
    for (unsigned cp = 0x800; cp < 0x10000; cp += 7)
        if (cp < 0xD800 || cp > 0xDFFF)
            n += jc_put_utf8(buf + n, cp);
    for (unsigned cp = 0x10000; cp <= 0x10FFFF; cp += 997)
        n += jc_put_utf8(buf + n, cp);
    n += jc_put_utf8(buf + n, 0x10FFFF);
    assert_true(hp_utf8_valid(buf, n));
    hp_ev_begin(&ev, NULL, "test.utf8");
    hp_ev_bytes(&ev, "u", buf, n);
    finish_parse(&ev, &p);
    assert_str_bytes(&p, "u", buf, n);
    assert_null(member(&p, "u_b64"));
    assert_null(member(&p, "truncated"));
    parsed_free(&p);
    free(buf);
}

static void test_event_2mb_dropped(void **state)
{
    (void)state;
    struct hp_evctx ctx;
    struct hp_ev ev;
    struct parsed p;
    size_t big = 2u * 1024 * 1024;
    uint8_t *data = malloc(big);
    memset(data, 'A', big);
    fill_ctx(&ctx);

    hp_ev_begin(&ev, &ctx, "test.big");
    hp_ev_str(&ev, "before", "1");
    hp_ev_bytes(&ev, "payload", data, big);
    hp_ev_str(&ev, "after", "2");
    finish_parse(&ev, &p);
    assert_key_order(&p, ctx_keys, 12);
    assert_null(member(&p, "payload"));
    assert_null(member(&p, "payload_b64"));
    assert_raw(&p, "before", "\"1\"");
    assert_raw(&p, "after", "\"2\"");
    assert_raw(&p, "truncated", "true");
    assert_int_equal(p.n, 12 + 3);
    assert_string_equal(p.m[p.n - 1].key, "truncated");   /* last */
    assert_true(p.e->json_len < 4096);
    parsed_free(&p);

    /* 2 MB of invalid bytes: both the text and the base64 are dropped */
    memset(data, 0xff, big);
    hp_ev_begin(&ev, &ctx, "test.bigbad");
    hp_ev_bytes(&ev, "payload", data, big);
    finish_parse(&ev, &p);
    assert_null(member(&p, "payload"));
    assert_null(member(&p, "payload_b64"));
    assert_raw(&p, "truncated", "true");
    assert_int_equal(p.n, 12 + 1);
    parsed_free(&p);

    /* text that fits (~0.9 MB of \ufffd escapes), its base64 does not */
    hp_ev_begin(&ev, NULL, "test.b64drop");
    hp_ev_bytes(&ev, "payload", data, 150000);
    finish_parse(&ev, &p);
    assert_non_null(member(&p, "payload"));
    assert_int_equal(member(&p, "payload")->vlen, 150000 * 6 + 2);
    assert_null(member(&p, "payload_b64"));
    assert_raw(&p, "truncated", "true");
    parsed_free(&p);

    /* a near-1 MB field that fits is kept whole, with no truncation */
    memset(data, 'z', big);
    hp_ev_begin(&ev, NULL, "test.fits");
    hp_ev_bytes(&ev, "payload", data, 1000000);
    finish_parse(&ev, &p);
    assert_str_bytes(&p, "payload", data, 1000000);
    assert_null(member(&p, "truncated"));
    parsed_free(&p);
    free(data);
}

/* The exact limit: a field may end at HP_EVENT_MAX - 64 bytes, not one byte later. */
static void test_event_boundary(void **state)
{
    (void)state;
    struct hp_ev ev;
    struct parsed p;
    uint8_t *data = malloc(HP_EVENT_MAX);
    memset(data, 'q', HP_EVENT_MAX);
    for (int extra = 0; extra <= 1; extra++) {
        hp_ev_begin(&ev, NULL, "test.edge");
        size_t cur = ev.b->len;
        /* ,"k":"<L bytes>" is 7 + L bytes */
        size_t L = HP_EVENT_MAX - 64 - cur - 7 + (size_t)extra;
        hp_ev_bytes(&ev, "k", data, L);
        if (!extra)
            assert_int_equal(ev.b->len, HP_EVENT_MAX - 64);
        else
            assert_int_equal(ev.b->len, cur);
        finish_parse(&ev, &p);
        if (!extra) {
            assert_int_equal(p.e->json_len, HP_EVENT_MAX - 64 + 1);
            assert_str_bytes(&p, "k", data, L);
            assert_null(member(&p, "truncated"));
        } else {
            assert_null(member(&p, "k"));
            assert_raw(&p, "truncated", "true");
        }
        parsed_free(&p);
    }

    /* at the limit, even the smallest field is refused, and closers still fit */
    hp_ev_begin(&ev, NULL, "test.edge2");
    hp_ev_obj_begin(&ev, "o");
    hp_ev_arr_begin(&ev, "a");
    hp_ev_obj_begin(&ev, NULL);
    size_t cur = ev.b->len;
    /* first member of the inner object: "k":"<L bytes>" is 6 + L bytes */
    hp_ev_bytes(&ev, "k", data, HP_EVENT_MAX - 64 - cur - 6);
    assert_int_equal(ev.b->len, HP_EVENT_MAX - 64);
    hp_ev_int(&ev, "x", 1);
    hp_ev_obj_begin(&ev, "deeper");
    hp_ev_int(&ev, "y", 2);
    hp_ev_obj_end(&ev);
    assert_int_equal(ev.b->len, HP_EVENT_MAX - 64);
    finish_parse(&ev, &p);
    assert_raw(&p, "truncated", "true");
    assert_int_equal(p.n, 4 + 2);
    const struct jc_member *o = member(&p, "o");
    assert_int_equal(o->vlen, HP_EVENT_MAX - 64 - (size_t)(o->val - p.e->json) + 3);
    assert_memory_equal(o->val + o->vlen - 3, "}]}", 3);
    parsed_free(&p);
    free(data);
}

static void test_event_containers_no_fit(void **state)
{
    (void)state;
    struct hp_ev ev;
    struct parsed p;
    uint8_t *data = malloc(HP_EVENT_MAX);
    memset(data, 'w', HP_EVENT_MAX);

    /* an object that does not fit is dropped with all its contents */
    hp_ev_begin(&ev, NULL, "test.nofit");
    /* leave 8 bytes: enough for ,"z":9 but not for the object's key */
    hp_ev_bytes(&ev, "fill", data, HP_EVENT_MAX - 64 - ev.b->len - 10 - 8);
    assert_int_equal(ev.b->len, HP_EVENT_MAX - 64 - 8);
    hp_ev_obj_begin(&ev, "obj_that_does_not_fit");
    hp_ev_int(&ev, "a", 1);
    hp_ev_arr_begin(&ev, "inner");
    hp_ev_elem_int(&ev, 2);
    hp_ev_obj_begin(&ev, NULL);
    hp_ev_str(&ev, "b", "c");
    hp_ev_obj_end(&ev);
    hp_ev_arr_end(&ev);
    hp_ev_obj_end(&ev);
    hp_ev_int(&ev, "z", 9);                   /* fits again after the dropped object */
    finish_parse(&ev, &p);
    assert_null(member(&p, "obj_that_does_not_fit"));
    assert_raw(&p, "z", "9");
    assert_raw(&p, "truncated", "true");
    assert_int_equal(p.n, 4 + 3);
    parsed_free(&p);

    /* a container that fits but whose contents do not: closed, still valid */
    hp_ev_begin(&ev, NULL, "test.partial");
    hp_ev_obj_begin(&ev, "o");
    hp_ev_int(&ev, "first", 1);
    hp_ev_arr_begin(&ev, "list");
    hp_ev_elem_str(&ev, "small");
    hp_ev_bytes(&ev, NULL, data, HP_EVENT_MAX);
    hp_ev_elem_int(&ev, 3);
    hp_ev_arr_end(&ev);
    hp_ev_bytes(&ev, "huge", data, HP_EVENT_MAX);
    hp_ev_int(&ev, "last", 4);
    hp_ev_obj_end(&ev);
    finish_parse(&ev, &p);
    assert_raw(&p, "o", "{\"first\":1,\"list\":[\"small\",3],\"last\":4}");
    assert_raw(&p, "truncated", "true");
    parsed_free(&p);

    /* containers left open (and one dropped while open) are closed by finish */
    hp_ev_begin(&ev, NULL, "test.open");
    hp_ev_obj_begin(&ev, "a");
    hp_ev_arr_begin(&ev, "b");
    hp_ev_obj_begin(&ev, NULL);
    hp_ev_bytes(&ev, "fill", data, HP_EVENT_MAX - 64 - ev.b->len - 12);
    hp_ev_arr_begin(&ev, "dropped");
    hp_ev_arr_begin(&ev, NULL);
    finish_parse(&ev, &p);
    assert_raw(&p, "truncated", "true");
    const struct jc_member *a = member(&p, "a");
    assert_non_null(a);
    assert_memory_equal(a->val + a->vlen - 3, "}]}", 3);
    parsed_free(&p);
    free(data);
}

static void test_event_depth(void **state)
{
    (void)state;
    struct hp_ev ev;
    struct parsed p;
    /* HP_EV_MAXDEPTH - 1 nested containers are allowed */
    hp_ev_begin(&ev, NULL, "test.depth");
    for (int i = 0; i < HP_EV_MAXDEPTH - 1; i++) {
        if (i == 0)
            hp_ev_obj_begin(&ev, "o");
        else if (i % 2)
            hp_ev_arr_begin(&ev, "a");        /* in an object: keyed */
        else
            hp_ev_obj_begin(&ev, NULL);       /* in an array: no key */
    }
    assert_int_equal(ev.depth, HP_EV_MAXDEPTH - 1);
    hp_ev_int(&ev, "leaf", 1);
    finish_parse(&ev, &p);
    assert_raw(&p, "o", "{\"a\":[{\"a\":[{\"a\":[{\"leaf\":1}]}]}]}");
    assert_null(member(&p, "truncated"));
    parsed_free(&p);
}

static void test_event_abort_and_refs(void **state)
{
    (void)state;
    struct hp_ev ev;
    struct parsed p;
    hp_ev_begin(&ev, NULL, "test.aborted");
    hp_ev_str(&ev, "x", "y");
    hp_ev_abort(&ev);
    /* the builder is free again and starts from scratch */
    hp_ev_begin(&ev, NULL, "test.after_abort");
    finish_parse(&ev, &p);
    assert_null(member(&p, "x"));
    assert_raw(&p, "eventid", "\"test.after_abort\"");
    assert_ptr_equal(hp_event_ref(p.e), p.e);
    assert_int_equal(p.e->refs, 2);
    hp_event_unref(p.e);
    assert_int_equal(p.e->refs, 1);
    hp_event_unref(p.e);          /* frees; ASan would report a double free or leak */
    hp_event_unref(NULL);
}

/* hp_fmt_ipv4 writes what inet_ntop writes: the edges and a spread of addresses. */
static void test_fmt_ipv4(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    for (int i = 0; i < 20000; i++) {
        uint8_t a[4];
        if (i < 256) {
            a[0] = (uint8_t)i, a[1] = (uint8_t)(255 - i), a[2] = (uint8_t)(i * 7), a[3] = (uint8_t)(i % 10);
        } else {
            seed = seed * 1103515245u + 12345u;
            memcpy(a, &seed, 4);
        }
        char want[INET_ADDRSTRLEN], got[16];
        assert_non_null(inet_ntop(AF_INET, a, want, sizeof(want)));
        size_t n = hp_fmt_ipv4(a, got);
        assert_string_equal(got, want);
        assert_int_equal(n, strlen(want));
    }
    char out[16];
    assert_int_equal(hp_fmt_ipv4((const uint8_t[]){ 255, 255, 255, 255 }, out), 15);
    assert_string_equal(out, "255.255.255.255");
    hp_fmt_ipv4((const uint8_t[]){ 0, 0, 0, 0 }, out);
    assert_string_equal(out, "0.0.0.0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validator_self),
        cmocka_unit_test(test_utf8_valid_ok),
        cmocka_unit_test(test_utf8_overlong),
        cmocka_unit_test(test_utf8_surrogates),
        cmocka_unit_test(test_utf8_out_of_range),
        cmocka_unit_test(test_utf8_truncated),
        cmocka_unit_test(test_json_str_escapes),
        cmocka_unit_test(test_json_str_controls),
        cmocka_unit_test(test_json_str_separators), cmocka_unit_test(test_json_str_terminal),
        cmocka_unit_test(test_json_str_utf8),
        cmocka_unit_test(test_json_str_invalid),
        cmocka_unit_test(test_json_str_every_byte),
        cmocka_unit_test(test_json_str_capped),
        cmocka_unit_test(test_b64_rfc4648),
        cmocka_unit_test(test_b64_large),
        cmocka_unit_test(test_b64_capped),
        cmocka_unit_test(test_event_noctx),
        cmocka_unit_test(test_event_ctx),
        cmocka_unit_test(test_event_ctx_reuse),
        cmocka_unit_test(test_event_ctx_interleaved),
        cmocka_unit_test(test_event_values), cmocka_unit_test(test_event_double_as_printf),
        cmocka_unit_test(test_buf_printf),
        cmocka_unit_test(test_buf_put),
        cmocka_unit_test(test_event_bytes_b64),
        cmocka_unit_test(test_event_every_byte),
        cmocka_unit_test(test_event_2mb_dropped),
        cmocka_unit_test(test_event_boundary),
        cmocka_unit_test(test_event_containers_no_fit),
        cmocka_unit_test(test_event_depth),
        cmocka_unit_test(test_event_abort_and_refs),
        cmocka_unit_test(test_fmt_ipv4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
