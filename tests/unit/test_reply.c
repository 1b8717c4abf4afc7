/*
 * test_reply.c - unit tests for hp_reply_line (src/proto/reply.c): the
 * reply lines FTP and SMTP send from templates, as a client receives them.
 * Peer text in an argument never ends the line early; the line is cut to
 * the buffer and always ends in CRLF.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "proto/reply.h"

static void assert_line(const char *out, size_t n, const char *want)
{
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
}

static void test_arguments(void **state)
{
    (void)state;
    char out[HP_REPLY_MAX];
    size_t n = hp_reply_line(out, sizeof(out), "331 Please specify the password for {0}.", "bob", NULL, NULL);
    assert_line(out, n, "331 Please specify the password for bob.\r\n");
    n = hp_reply_line(out, sizeof(out), "220 {0} ESMTP {1} {2}", "mx", "Postfix", NULL);
    assert_line(out, n, "220 mx ESMTP Postfix \r\n");          /* a NULL argument is empty */
    n = hp_reply_line(out, sizeof(out), "{2}{1}{0} {3} {x", "a", "b", "c");
    assert_line(out, n, "cba {3} {x\r\n");                     /* only {0}..{2} are arguments */
}

static void test_hostile_argument(void **state)
{
    (void)state;
    char out[HP_REPLY_MAX];
    size_t n = hp_reply_line(out, sizeof(out), "250 Hello {0}", "evil\r\n250 AUTH\x7f\t", NULL, NULL);
    assert_line(out, n, "250 Hello evil??250 AUTH??\r\n");
    assert_null(memchr(out, '\n', n - 1));                      /* one line, one CRLF */
}

static void test_cut_to_fit(void **state)
{
    (void)state;
    static char big[3 * HP_REPLY_MAX];
    char out[HP_REPLY_MAX];
    memset(big, 'A', sizeof(big) - 1);
    size_t n = hp_reply_line(out, sizeof(out), "550 {0}: no such file", big, NULL, NULL);
    assert_true(n <= sizeof(out));
    assert_memory_equal(out + n - 2, "\r\n", 2);
    char tiny[3];
    n = hp_reply_line(tiny, sizeof(tiny), "200 OK", NULL, NULL, NULL);
    assert_line(tiny, n, "\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_hostile_argument),
        cmocka_unit_test(test_cut_to_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
