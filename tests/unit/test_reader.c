/*
 * test_reader.c - unit tests for the bounds-checked reader (src/core/reader.c).
 *
 * Covers every hp_rd accessor: exact big/little-endian values of the integer
 * reads, hp_rd_bytes/copy/skip, the sticky error after an over-read (later
 * reads return 0/NULL/false and the cursor does not move), sub-readers carved
 * by hp_rd_sub and the length-prefixed hp_rd_sub8/16be/24be/32be with lying
 * prefixes (longer than what is left, 0xFFFFFFFF), hp_rd_peek/peek_u8 and
 * starts_with at the boundaries, hp_rd_line with CRLF, LF, no terminator and
 * the max limit, hp_rd_find, and readers over empty input and NULL data.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "reader.h"

static const uint8_t seq[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                               0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10 };

/* Assert that r is in the error state and that every accessor now fails
 * without moving the cursor from 'pos'. */
static void assert_dead(struct hp_rd *r, size_t pos)
{
    uint8_t tmp[4] = { 0xAA, 0xAA, 0xAA, 0xAA };
    struct hp_rd sub;
    const uint8_t *line = NULL;
    size_t ll = 77;

    assert_false(hp_rd_ok(r));
    assert_int_equal(hp_rd_left(r), 0);
    assert_int_equal(hp_rd_u8(r), 0);
    assert_int_equal(hp_rd_u16be(r), 0);
    assert_int_equal(hp_rd_u16le(r), 0);
    assert_int_equal(hp_rd_u24be(r), 0);
    assert_int_equal(hp_rd_u32be(r), 0);
    assert_int_equal(hp_rd_u32le(r), 0);
    assert_true(hp_rd_u64be(r) == 0);
    assert_true(hp_rd_u64le(r) == 0);
    assert_null(hp_rd_bytes(r, 0));
    assert_null(hp_rd_bytes(r, 1));
    assert_false(hp_rd_copy(r, tmp, 1));
    assert_int_equal(tmp[0], 0xAA);           /* nothing copied */
    assert_false(hp_rd_skip(r, 0));
    assert_false(hp_rd_sub(r, 0, &sub));
    assert_false(hp_rd_ok(&sub));
    assert_int_equal(hp_rd_left(&sub), 0);
    assert_false(hp_rd_sub8(r, &sub));
    assert_false(hp_rd_sub16be(r, &sub));
    assert_false(hp_rd_sub24be(r, &sub));
    assert_false(hp_rd_sub32be(r, &sub));
    assert_false(hp_rd_peek(r, 0, tmp, 1));
    assert_int_equal(hp_rd_peek_u8(r, 0), -1);
    assert_false(hp_rd_starts_with(r, "\x01", 1));
    assert_false(hp_rd_line(r, 100, &line, &ll));
    assert_null(line);
    assert_int_equal(ll, 77);
    assert_int_equal(hp_rd_find(r, "\x01", 1), -1);
    assert_int_equal(hp_rd_pos(r), pos);
    assert_false(hp_rd_ok(r));
}

static void test_init(void **state)
{
    (void)state;
    struct hp_rd r;
    hp_rd_init(&r, seq, sizeof(seq));
    assert_true(hp_rd_ok(&r));
    assert_int_equal(hp_rd_left(&r), 16);
    assert_int_equal(hp_rd_pos(&r), 0);
    assert_ptr_equal(hp_rd_ptr(&r), seq);
}

static void test_u8(void **state)
{
    (void)state;
    struct hp_rd r;
    const uint8_t d[] = { 0x00, 0x7f, 0x80, 0xff };
    hp_rd_init(&r, d, sizeof(d));
    assert_int_equal(hp_rd_u8(&r), 0x00);
    assert_int_equal(hp_rd_u8(&r), 0x7f);
    assert_int_equal(hp_rd_u8(&r), 0x80);
    assert_int_equal(hp_rd_u8(&r), 0xff);
    assert_true(hp_rd_ok(&r));
    assert_int_equal(hp_rd_left(&r), 0);
    assert_int_equal(hp_rd_u8(&r), 0);
    assert_dead(&r, 4);
}

static void test_u16(void **state)
{
    (void)state;
    struct hp_rd r;
    const uint8_t d[] = { 0x12, 0x34, 0x12, 0x34, 0xff, 0xfe };
    hp_rd_init(&r, d, sizeof(d));
    assert_int_equal(hp_rd_u16be(&r), 0x1234);
    assert_int_equal(hp_rd_u16le(&r), 0x3412);
    assert_int_equal(hp_rd_u16be(&r), 0xfffe);
    assert_true(hp_rd_ok(&r));
    assert_int_equal(hp_rd_pos(&r), 6);

    /* one byte left: a 16-bit read fails and does not consume it */
    hp_rd_init(&r, d, 3);
    assert_int_equal(hp_rd_u16le(&r), 0x3412);
    assert_int_equal(hp_rd_u16be(&r), 0);
    assert_dead(&r, 2);
    hp_rd_init(&r, d, 1);
    assert_int_equal(hp_rd_u16le(&r), 0);
    assert_dead(&r, 0);
}

static void test_u24_u32(void **state)
{
    (void)state;
    struct hp_rd r;
    const uint8_t d[] = { 0xa1, 0xb2, 0xc3, 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef,
                          0x80, 0x00, 0x00, 0x01 };
    hp_rd_init(&r, d, sizeof(d));
    assert_int_equal(hp_rd_u24be(&r), 0xa1b2c3);
    assert_int_equal(hp_rd_u32be(&r), 0xdeadbeefu);
    assert_int_equal(hp_rd_u32le(&r), 0xefbeaddeu);
    assert_int_equal(hp_rd_u32be(&r), 0x80000001u);
    assert_int_equal(hp_rd_left(&r), 0);
    assert_true(hp_rd_ok(&r));

    hp_rd_init(&r, d, 2);
    assert_int_equal(hp_rd_u24be(&r), 0);
    assert_dead(&r, 0);
    hp_rd_init(&r, d, 3);
    assert_int_equal(hp_rd_u32le(&r), 0);
    assert_dead(&r, 0);
    hp_rd_init(&r, d, 7);
    assert_int_equal(hp_rd_u24be(&r), 0xa1b2c3);
    assert_int_equal(hp_rd_u32be(&r), 0xdeadbeefu);
    assert_int_equal(hp_rd_u32be(&r), 0);
    assert_dead(&r, 7);
}

static void test_u64(void **state)
{
    (void)state;
    struct hp_rd r;
    hp_rd_init(&r, seq, sizeof(seq));
    assert_true(hp_rd_u64be(&r) == 0x0102030405060708ull);
    assert_true(hp_rd_u64le(&r) == 0x100f0e0d0c0b0a09ull);
    assert_true(hp_rd_ok(&r));
    assert_int_equal(hp_rd_left(&r), 0);

    const uint8_t ff[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
    hp_rd_init(&r, ff, 8);
    assert_true(hp_rd_u64le(&r) == 0xfeffffffffffffffull);
    hp_rd_init(&r, ff, 8);
    assert_true(hp_rd_u64be(&r) == 0xfffffffffffffffeull);

    hp_rd_init(&r, seq, 7);
    assert_true(hp_rd_u64be(&r) == 0);
    assert_dead(&r, 0);
    hp_rd_init(&r, seq, 7);
    assert_true(hp_rd_u64le(&r) == 0);
    assert_dead(&r, 0);
}

static void test_sticky_error(void **state)
{
    (void)state;
    struct hp_rd r;
    hp_rd_init(&r, seq, 5);
    assert_int_equal(hp_rd_u32be(&r), 0x01020304u);
    assert_int_equal(hp_rd_pos(&r), 4);
    /* over-read: two bytes wanted, one left */
    assert_int_equal(hp_rd_u16be(&r), 0);
    assert_false(hp_rd_ok(&r));
    /* the remaining byte is there, but the reader is dead */
    assert_int_equal(hp_rd_u8(&r), 0);
    assert_dead(&r, 4);
}

static void test_bytes_copy_skip(void **state)
{
    (void)state;
    struct hp_rd r;
    uint8_t out[4];
    hp_rd_init(&r, seq, sizeof(seq));
    const uint8_t *p = hp_rd_bytes(&r, 3);
    assert_ptr_equal(p, seq);
    p = hp_rd_bytes(&r, 0);
    assert_ptr_equal(p, seq + 3);             /* zero bytes: valid pointer, no move */
    assert_int_equal(hp_rd_pos(&r), 3);
    assert_true(hp_rd_copy(&r, out, 4));
    assert_memory_equal(out, "\x04\x05\x06\x07", 4);
    assert_true(hp_rd_copy(&r, NULL, 0));
    assert_true(hp_rd_skip(&r, 5));
    assert_int_equal(hp_rd_pos(&r), 12);
    assert_ptr_equal(hp_rd_ptr(&r), seq + 12);
    assert_true(hp_rd_skip(&r, 0));
    assert_false(hp_rd_skip(&r, 5));          /* 4 left */
    assert_dead(&r, 12);

    hp_rd_init(&r, seq, sizeof(seq));
    assert_null(hp_rd_bytes(&r, 17));
    assert_dead(&r, 0);

    hp_rd_init(&r, seq, sizeof(seq));
    memset(out, 0xAA, sizeof(out));
    assert_true(hp_rd_skip(&r, 14));
    assert_false(hp_rd_copy(&r, out, 3));
    assert_memory_equal(out, "\xAA\xAA\xAA\xAA", 4);
    assert_dead(&r, 14);

    /* n = SIZE_MAX must not wrap the bounds check */
    hp_rd_init(&r, seq, sizeof(seq));
    assert_true(hp_rd_skip(&r, 1));
    assert_null(hp_rd_bytes(&r, (size_t)-1));
    assert_dead(&r, 1);
    hp_rd_init(&r, seq, sizeof(seq));
    assert_false(hp_rd_skip(&r, (size_t)-1));
    assert_dead(&r, 0);
}

static void test_sub(void **state)
{
    (void)state;
    struct hp_rd r, sub;
    hp_rd_init(&r, seq, sizeof(seq));
    assert_true(hp_rd_skip(&r, 2));
    assert_true(hp_rd_sub(&r, 5, &sub));
    assert_int_equal(hp_rd_pos(&r), 7);
    assert_int_equal(hp_rd_left(&sub), 5);
    assert_ptr_equal(hp_rd_ptr(&sub), seq + 2);
    assert_int_equal(hp_rd_u32be(&sub), 0x03040506u);
    /* the sub-reader's over-read does not affect the parent */
    assert_int_equal(hp_rd_u16be(&sub), 0);
    assert_false(hp_rd_ok(&sub));
    assert_true(hp_rd_ok(&r));
    assert_int_equal(hp_rd_u8(&r), 0x08);

    /* empty sub-reader */
    assert_true(hp_rd_sub(&r, 0, &sub));
    assert_true(hp_rd_ok(&sub));
    assert_int_equal(hp_rd_left(&sub), 0);
    assert_int_equal(hp_rd_pos(&r), 8);

    /* more than is left: fails, parent dead, sub dead and empty */
    assert_false(hp_rd_sub(&r, 9, &sub));
    assert_false(hp_rd_ok(&sub));
    assert_int_equal(hp_rd_left(&sub), 0);
    assert_int_equal(hp_rd_u8(&sub), 0);
    assert_dead(&r, 8);

    hp_rd_init(&r, seq, sizeof(seq));
    assert_false(hp_rd_sub(&r, (size_t)-1, &sub));
    assert_false(hp_rd_ok(&sub));
    assert_dead(&r, 0);
}

static void test_sub8(void **state)
{
    (void)state;
    struct hp_rd r, sub;
    const uint8_t d[] = { 3, 'a', 'b', 'c', 0, 5, 'x', 'y' };
    hp_rd_init(&r, d, sizeof(d));
    assert_true(hp_rd_sub8(&r, &sub));
    assert_int_equal(hp_rd_left(&sub), 3);
    assert_memory_equal(hp_rd_ptr(&sub), "abc", 3);
    assert_int_equal(hp_rd_pos(&r), 4);
    assert_true(hp_rd_sub8(&r, &sub));        /* zero-length record */
    assert_int_equal(hp_rd_left(&sub), 0);
    assert_true(hp_rd_ok(&sub));
    assert_int_equal(hp_rd_pos(&r), 5);
    /* prefix says 5, only 2 are left: the lie is refused */
    assert_false(hp_rd_sub8(&r, &sub));
    assert_false(hp_rd_ok(&sub));
    assert_int_equal(hp_rd_left(&sub), 0);
    assert_false(hp_rd_ok(&r));
    assert_int_equal(hp_rd_pos(&r), 6);       /* the prefix itself was consumed */
    assert_dead(&r, 6);

    /* no room for the prefix at all */
    hp_rd_init(&r, d, 0);
    assert_false(hp_rd_sub8(&r, &sub));
    assert_false(hp_rd_ok(&sub));
    assert_dead(&r, 0);
}

static void test_sub16_24(void **state)
{
    (void)state;
    struct hp_rd r, sub;
    const uint8_t d16[] = { 0x00, 0x02, 0xaa, 0xbb, 0xff, 0xff, 0x01 };
    hp_rd_init(&r, d16, sizeof(d16));
    assert_true(hp_rd_sub16be(&r, &sub));
    assert_int_equal(hp_rd_u16be(&sub), 0xaabb);
    assert_int_equal(hp_rd_left(&sub), 0);
    assert_false(hp_rd_sub16be(&r, &sub));    /* 0xffff > 1 left */
    assert_false(hp_rd_ok(&sub));
    assert_dead(&r, 6);

    hp_rd_init(&r, d16, 1);                   /* truncated prefix */
    assert_false(hp_rd_sub16be(&r, &sub));
    assert_dead(&r, 0);

    const uint8_t d24[] = { 0x00, 0x00, 0x01, 0x42, 0x00, 0x00, 0x02, 0x43 };
    hp_rd_init(&r, d24, sizeof(d24));
    assert_true(hp_rd_sub24be(&r, &sub));
    assert_int_equal(hp_rd_u8(&sub), 0x42);
    assert_int_equal(hp_rd_pos(&r), 4);
    assert_false(hp_rd_sub24be(&r, &sub));    /* says 2, 1 left */
    assert_false(hp_rd_ok(&sub));
    assert_dead(&r, 7);
}

static void test_sub32(void **state)
{
    (void)state;
    struct hp_rd r, sub;
    const uint8_t ok[] = { 0x00, 0x00, 0x00, 0x03, 'x', 'y', 'z', '!' };
    hp_rd_init(&r, ok, sizeof(ok));
    assert_true(hp_rd_sub32be(&r, &sub));
    assert_int_equal(hp_rd_left(&sub), 3);
    assert_memory_equal(hp_rd_ptr(&sub), "xyz", 3);
    assert_int_equal(hp_rd_u8(&r), '!');

    const uint8_t lie[] = { 0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c' };
    hp_rd_init(&r, lie, sizeof(lie));
    assert_false(hp_rd_sub32be(&r, &sub));
    assert_false(hp_rd_ok(&sub));
    assert_int_equal(hp_rd_left(&sub), 0);
    assert_int_equal(hp_rd_u8(&sub), 0);
    assert_dead(&r, 4);

    /* exactly one byte too long */
    const uint8_t off1[] = { 0x00, 0x00, 0x00, 0x04, 'a', 'b', 'c' };
    hp_rd_init(&r, off1, sizeof(off1));
    assert_false(hp_rd_sub32be(&r, &sub));
    assert_dead(&r, 4);

    /* prefix only, record bytes missing */
    hp_rd_init(&r, off1, 4);
    assert_false(hp_rd_sub32be(&r, &sub));
    assert_dead(&r, 4);

    /* exactly fits, to the last byte */
    const uint8_t fit[] = { 0x00, 0x00, 0x00, 0x03, 'a', 'b', 'c' };
    hp_rd_init(&r, fit, sizeof(fit));
    assert_true(hp_rd_sub32be(&r, &sub));
    assert_int_equal(hp_rd_left(&sub), 3);
    assert_int_equal(hp_rd_left(&r), 0);
    assert_true(hp_rd_ok(&r));
}

static void test_sub_nested(void **state)
{
    (void)state;
    /* A record inside a record, the inner prefix lying beyond the outer one
     * although the bytes exist in the parent buffer. */
    const uint8_t d[] = { 0x00, 0x03, 0x05, 'a', 'b', 'c', 'd', 'e', 'f' };
    struct hp_rd r, outer, inner;
    hp_rd_init(&r, d, sizeof(d));
    assert_true(hp_rd_sub16be(&r, &outer));
    assert_int_equal(hp_rd_left(&outer), 3);
    assert_false(hp_rd_sub8(&outer, &inner));
    assert_false(hp_rd_ok(&inner));
    assert_false(hp_rd_ok(&outer));
    assert_true(hp_rd_ok(&r));
    assert_int_equal(hp_rd_left(&r), 4);
    assert_int_equal(hp_rd_u8(&r), 'c');
}

static void test_peek(void **state)
{
    (void)state;
    struct hp_rd r;
    uint8_t out[4] = { 0 };
    hp_rd_init(&r, seq, 6);
    assert_true(hp_rd_skip(&r, 2));
    assert_true(hp_rd_peek(&r, 0, out, 4));
    assert_memory_equal(out, "\x03\x04\x05\x06", 4);
    assert_true(hp_rd_peek(&r, 3, out, 1));
    assert_int_equal(out[0], 0x06);
    memset(out, 0xAA, sizeof(out));
    assert_false(hp_rd_peek(&r, 3, out, 2));  /* one past the end */
    assert_false(hp_rd_peek(&r, 0, out, 5));
    assert_false(hp_rd_peek(&r, 5, out, 0));  /* offset past the end */
    assert_true(hp_rd_peek(&r, 4, out, 0));   /* offset == left, empty: fine */
    assert_false(hp_rd_peek(&r, (size_t)-1, out, 1));
    assert_false(hp_rd_peek(&r, 1, out, (size_t)-1));
    assert_memory_equal(out, "\xAA\xAA\xAA\xAA", 4);
    assert_int_equal(hp_rd_peek_u8(&r, 0), 0x03);
    assert_int_equal(hp_rd_peek_u8(&r, 3), 0x06);
    assert_int_equal(hp_rd_peek_u8(&r, 4), -1);
    assert_int_equal(hp_rd_peek_u8(&r, (size_t)-1), -1);
    /* peeks never consume nor set the error */
    assert_true(hp_rd_ok(&r));
    assert_int_equal(hp_rd_pos(&r), 2);

    const uint8_t hi[] = { 0xff };
    hp_rd_init(&r, hi, 1);
    assert_int_equal(hp_rd_peek_u8(&r, 0), 255);   /* not confused with -1 */
}

static void test_starts_with(void **state)
{
    (void)state;
    struct hp_rd r;
    const char *s = "GET / HTTP/1.0\r\n";
    hp_rd_init(&r, s, strlen(s));
    assert_true(hp_rd_starts_with_str(&r, "GET "));
    assert_true(hp_rd_starts_with_str(&r, ""));
    assert_true(hp_rd_starts_with_str(&r, s));
    assert_false(hp_rd_starts_with_str(&r, "GET / HTTP/1.0\r\n\r\n"));   /* longer than data */
    assert_false(hp_rd_starts_with_str(&r, "POST"));
    assert_false(hp_rd_starts_with_str(&r, "get "));
    assert_true(hp_rd_skip(&r, 4));
    assert_true(hp_rd_starts_with(&r, "/ H", 3));
    assert_false(hp_rd_starts_with(&r, "GET", 3));
    assert_true(hp_rd_ok(&r));
    assert_int_equal(hp_rd_pos(&r), 4);
}

static void test_line(void **state)
{
    (void)state;
    struct hp_rd r;
    const uint8_t *line;
    size_t ll;
    const char *s = "USER root\r\nPASS x\n\r\n\nlast";
    hp_rd_init(&r, s, strlen(s));

    assert_true(hp_rd_line(&r, 100, &line, &ll));
    assert_int_equal(ll, 9);
    assert_memory_equal(line, "USER root", 9);
    assert_int_equal(hp_rd_pos(&r), 11);      /* CR and LF consumed */

    assert_true(hp_rd_line(&r, 100, &line, &ll));
    assert_int_equal(ll, 6);
    assert_memory_equal(line, "PASS x", 6);
    assert_int_equal(hp_rd_pos(&r), 18);

    assert_true(hp_rd_line(&r, 100, &line, &ll));   /* "\r\n" -> empty line */
    assert_int_equal(ll, 0);
    assert_ptr_equal(line, (const uint8_t *)s + 18);
    assert_true(hp_rd_line(&r, 100, &line, &ll));   /* "\n" -> empty line */
    assert_int_equal(ll, 0);
    assert_int_equal(hp_rd_pos(&r), 21);

    /* no terminator: false, no error, nothing consumed */
    line = NULL;
    ll = 1234;
    assert_false(hp_rd_line(&r, 100, &line, &ll));
    assert_null(line);
    assert_int_equal(ll, 1234);
    assert_true(hp_rd_ok(&r));
    assert_int_equal(hp_rd_pos(&r), 21);
    assert_int_equal(hp_rd_left(&r), 4);
}

static void test_line_max(void **state)
{
    (void)state;
    struct hp_rd r;
    const uint8_t *line;
    size_t ll;
    const char *s = "abcde\nxy\n";
    hp_rd_init(&r, s, strlen(s));
    /* the terminator is byte 6: max 5 does not reach it */
    assert_false(hp_rd_line(&r, 5, &line, &ll));
    assert_true(hp_rd_ok(&r));
    assert_int_equal(hp_rd_pos(&r), 0);
    /* max 6 includes it */
    assert_true(hp_rd_line(&r, 6, &line, &ll));
    assert_int_equal(ll, 5);
    assert_memory_equal(line, "abcde", 5);
    assert_false(hp_rd_line(&r, 0, &line, &ll));
    assert_int_equal(hp_rd_pos(&r), 6);
    assert_true(hp_rd_line(&r, (size_t)-1, &line, &ll));
    assert_int_equal(ll, 2);
    assert_memory_equal(line, "xy", 2);
    assert_int_equal(hp_rd_left(&r), 0);
    assert_false(hp_rd_line(&r, 10, &line, &ll));
    assert_true(hp_rd_ok(&r));

    /* a lone "\r" before the terminator is stripped, but only one */
    const char *t = "a\r\r\n\rb\n";
    hp_rd_init(&r, t, strlen(t));
    assert_true(hp_rd_line(&r, 100, &line, &ll));
    assert_int_equal(ll, 2);
    assert_memory_equal(line, "a\r", 2);
    assert_true(hp_rd_line(&r, 100, &line, &ll));
    assert_int_equal(ll, 2);
    assert_memory_equal(line, "\rb", 2);

    /* NUL bytes inside a line are data */
    const uint8_t z[] = { 'a', 0, 'b', '\n' };
    hp_rd_init(&r, z, sizeof(z));
    assert_true(hp_rd_line(&r, 100, &line, &ll));
    assert_int_equal(ll, 3);
    assert_memory_equal(line, "a\0b", 3);
}

/* hp_rd_span: bytes before the first stop byte, from the cursor, never past the end. */
static void test_span(void **state)
{
    (void)state;
    static const uint8_t stop[256] = { ['"'] = 1, [0] = 1 };
    struct hp_rd r;
    const char s[] = "abc\"de\0f";
    hp_rd_init(&r, s, 3);                       /* "abc": no stop byte within the bounds */
    assert_int_equal(hp_rd_span(&r, stop), 3);
    hp_rd_init(&r, s, sizeof(s) - 1);
    assert_int_equal(hp_rd_span(&r, stop), 3);
    assert_int_equal(hp_rd_pos(&r), 0);          /* consumes nothing */
    assert_true(hp_rd_skip(&r, 4));
    assert_int_equal(hp_rd_span(&r, stop), 2);   /* "de", then NUL */
    assert_true(hp_rd_skip(&r, 4));
    assert_int_equal(hp_rd_left(&r), 0);
    assert_int_equal(hp_rd_span(&r, stop), 0);   /* at the end */
    hp_rd_init(&r, s, 2);
    assert_false(hp_rd_skip(&r, 3));             /* an error reader spans nothing */
    assert_int_equal(hp_rd_span(&r, stop), 0);
}

static void test_find(void **state)
{
    (void)state;
    struct hp_rd r;
    const char *s = "xx\r\n\r\nbody\r\n\r\n";
    hp_rd_init(&r, s, strlen(s));
    assert_int_equal(hp_rd_find(&r, "\r\n\r\n", 4), 2);
    assert_int_equal(hp_rd_find(&r, "body", 4), 6);
    assert_int_equal(hp_rd_find(&r, "xx", 2), 0);
    assert_int_equal(hp_rd_find(&r, "nope", 4), -1);
    assert_int_equal(hp_rd_find(&r, "", 0), 0);
    assert_int_equal(hp_rd_find(&r, s, strlen(s)), 0);
    assert_int_equal(hp_rd_find(&r, "xx\r\n\r\nbody\r\n\r\n!", strlen(s) + 1), -1);
    /* relative to the cursor */
    assert_true(hp_rd_skip(&r, 3));
    assert_int_equal(hp_rd_find(&r, "\r\n\r\n", 4), 7);
    assert_int_equal(hp_rd_find(&r, "xx", 2), -1);
    /* a needle straddling the end is not found */
    hp_rd_init(&r, s, strlen(s) - 1);
    assert_int_equal(hp_rd_find(&r, "\r\n\r\n", 4), 2);
    assert_true(hp_rd_skip(&r, 6));
    assert_int_equal(hp_rd_find(&r, "\r\n\r\n", 4), -1);
    assert_true(hp_rd_ok(&r));
    assert_int_equal(hp_rd_pos(&r), 6);
    /* needles of 1..10 bytes (both ways of searching) against glibc's memmem,
     * over texts of two letters where first bytes repeat and matches overlap */
    srandom(7);
    for (int t = 0; t < 20000; t++) {
        char hay[64], nd[10];
        size_t hn = (size_t)(random() % 64), nn = 1 + (size_t)(random() % 10);
        for (size_t i = 0; i < hn; i++)
            hay[i] = "ab"[random() % 2];
        for (size_t i = 0; i < nn; i++)
            nd[i] = "ab"[random() % 2];
        hp_rd_init(&r, hay, hn);
        const char *want = nn <= hn ? memmem(hay, hn, nd, nn) : NULL;
        assert_int_equal(hp_rd_find(&r, nd, nn), want ? (long)(want - hay) : -1);
    }
}

static void test_empty(void **state)
{
    (void)state;
    struct hp_rd r;
    const uint8_t *line = NULL;
    size_t ll = 5;
    uint8_t out = 0x55;
    hp_rd_init(&r, "", 0);
    assert_true(hp_rd_ok(&r));
    assert_int_equal(hp_rd_left(&r), 0);
    assert_false(hp_rd_line(&r, 100, &line, &ll));
    assert_int_equal(hp_rd_find(&r, "a", 1), -1);
    assert_int_equal(hp_rd_find(&r, "", 0), 0);
    assert_int_equal(hp_rd_peek_u8(&r, 0), -1);
    assert_true(hp_rd_peek(&r, 0, &out, 0));
    assert_true(hp_rd_starts_with(&r, "", 0));
    assert_false(hp_rd_starts_with(&r, "a", 1));
    assert_true(hp_rd_skip(&r, 0));
    assert_true(hp_rd_ok(&r));
    assert_int_equal(hp_rd_u8(&r), 0);
    assert_dead(&r, 0);
}

static void test_null_data(void **state)
{
    (void)state;
    struct hp_rd r, sub;
    const uint8_t *line = NULL;
    size_t ll = 5;
    uint8_t out = 0x55;
    /* NULL data: the length is ignored, the reader is empty */
    hp_rd_init(&r, NULL, 100);
    assert_true(hp_rd_ok(&r));
    assert_int_equal(hp_rd_left(&r), 0);
    assert_int_equal(hp_rd_pos(&r), 0);
    assert_false(hp_rd_line(&r, 100, &line, &ll));
    assert_int_equal(hp_rd_find(&r, "a", 1), -1);
    assert_int_equal(hp_rd_find(&r, "", 0), 0);
    assert_int_equal(hp_rd_peek_u8(&r, 0), -1);
    assert_false(hp_rd_peek(&r, 0, &out, 1));
    assert_true(hp_rd_peek(&r, 0, &out, 0));
    assert_int_equal(out, 0x55);
    assert_false(hp_rd_starts_with_str(&r, "a"));
    assert_true(hp_rd_starts_with(&r, "", 0));
    /* zero-length takes succeed as on any empty reader (they used to fail
     * without setting the error, after arithmetic on a null pointer) */
    assert_non_null(hp_rd_ptr(&r));
    assert_non_null(hp_rd_bytes(&r, 0));
    assert_true(hp_rd_skip(&r, 0));
    assert_true(hp_rd_copy(&r, &out, 0));
    assert_true(hp_rd_sub(&r, 0, &sub));
    assert_true(hp_rd_ok(&sub));
    assert_int_equal(hp_rd_left(&sub), 0);
    assert_true(hp_rd_ok(&r));
    assert_int_equal(hp_rd_u32be(&r), 0);
    assert_dead(&r, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_u8),
        cmocka_unit_test(test_u16),
        cmocka_unit_test(test_u24_u32),
        cmocka_unit_test(test_u64),
        cmocka_unit_test(test_sticky_error),
        cmocka_unit_test(test_bytes_copy_skip),
        cmocka_unit_test(test_sub),
        cmocka_unit_test(test_sub8),
        cmocka_unit_test(test_sub16_24),
        cmocka_unit_test(test_sub32),
        cmocka_unit_test(test_sub_nested),
        cmocka_unit_test(test_peek),
        cmocka_unit_test(test_starts_with),
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_line_max),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_span),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_null_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
