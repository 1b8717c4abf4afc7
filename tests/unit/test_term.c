/*
 * test_term.c - unit tests for hp_term_escape (src/cli/term.c), the
 * terminal-safe rendering of hostile strings used by `hanipo payloads`.
 *
 * The CLI sources are not part of libhanipo.a, so the one file under test is
 * compiled into this binary directly.  Covered: printable ASCII and valid
 * UTF-8 kept; C0 controls, ESC, DEL, backslash, C1 controls (as UTF-8), bidi
 * overrides and invalid / overlong / surrogate / truncated sequences escaped
 * as \xNN; truncation never splits a character or an escape.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cli/term.c"

static void check(const char *in, size_t n, const char *want)
{
    char out[256];
    size_t done = hp_term_escape(in, n, out, sizeof(out));
    assert_int_equal(done, n);
    assert_string_equal(out, want);
}

static void test_kept(void **state)
{
    check("http://x/a?b=c d", 16, "http://x/a?b=c d");
    check("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80", 14, "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80");
    check("", 0, "");
}

static void test_escaped(void **state)
{
    check("\x1b[2J\a\r\n\t", 8, "\\x1b[2J\\x07\\x0d\\x0a\\x09");
    check("a\x7f\\b", 4, "a\\x7f\\x5cb");
    check("\0z", 2, "\\x00z");
    check("\xc2\x9b" "1m", 4, "\\xc2\\x9b1m");                      /* C1 CSI */
    check("\xe2\x80\xae" "gpj.exe", 10, "\\xe2\\x80\\xaegpj.exe");   /* RLO */
    check("\xe2\x81\xa6x", 4, "\\xe2\\x81\\xa6x");                  /* LRI */
    check("\xd8\x9c" "1.2", 5, "\\xd8\\x9c1.2");                       /* ALM, the third bidi mark */
    check("\xff\xfe", 2, "\\xff\\xfe");
    check("\xc0\xaf", 2, "\\xc0\\xaf");                             /* overlong '/' */
    check("\xe0\x80\xaf", 3, "\\xe0\\x80\\xaf");                    /* overlong */
    check("\xed\xa0\x80", 3, "\\xed\\xa0\\x80");                    /* surrogate */
    check("\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80");           /* > U+10FFFF */
    check("ab\xe2\x82", 4, "ab\\xe2\\x82");                         /* cut sequence */
}

static void test_truncation(void **state)
{
    char out[8];
    /* 7 bytes of room (plus the NUL): "abc" + one \xNN fill it; "d" no longer fits. */
    size_t done = hp_term_escape("abc\x1b" "def", 7, out, sizeof(out));
    assert_int_equal(done, 4);
    assert_string_equal(out, "abc\\x1b");
    /* An escape that would not fit whole is left out whole. */
    done = hp_term_escape("abcd\x1b", 5, out, sizeof(out));
    assert_int_equal(done, 4);
    assert_string_equal(out, "abcd");
    /* A multi-byte character is not split either. */
    done = hp_term_escape("abcde\xe6\x97\xa5", 8, out, sizeof(out));
    assert_int_equal(done, 5);
    assert_string_equal(out, "abcde");
    done = hp_term_escape("abc", 3, out, 1);
    assert_int_equal(done, 0);
    assert_string_equal(out, "");
    assert_int_equal(hp_term_escape("abc", 3, out, 0), 0);
    /* 4n + 1 is always enough. */
    char big[4 * 5 + 1];
    assert_int_equal(hp_term_escape("\x01\x02\x03\x04\x05", 5, big, sizeof(big)), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept),
        cmocka_unit_test(test_escaped),
        cmocka_unit_test(test_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
