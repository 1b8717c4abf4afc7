/*
 * test_http_multipart.c - multipart/form-data parts (src/proto/http_multipart.c).
 *
 * The boundary from Content-Type (quoted, unquoted, refused), parts as curl
 * and browsers send them, LF-only bodies, a missing final boundary, a
 * preamble, escaped quotes in a filename, and the caps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/http_multipart.h"

static struct hp_bytes B(const char *s)
{
    return (struct hp_bytes){ (const uint8_t *)s, strlen(s) };
}

static bool eq(struct hp_bytes b, const char *s)
{
    return b.n == strlen(s) && memcmp(b.p, s, b.n) == 0;
}

struct seen {
    struct hp_mp_part parts[80];
    size_t n;
};

static bool collect(void *arg, const struct hp_mp_part *p)
{
    struct seen *s = arg;
    if (s->n < 80)
        s->parts[s->n++] = *p;
    return true;
}

static void test_boundary(void **st)
{
    struct hp_bytes b;
    assert_true(hp_mp_boundary(B("multipart/form-data; boundary=------------------------abc123"), &b));
    assert_true(eq(b, "------------------------abc123"));
    assert_true(hp_mp_boundary(B("Multipart/Form-Data;boundary=\"a b;c\"; charset=utf-8"), &b));
    assert_true(eq(b, "a b;c"));
    assert_true(hp_mp_boundary(B("multipart/form-data; charset=utf-8; boundary=XyZ; x=1"), &b));
    assert_true(eq(b, "XyZ"));
    assert_false(hp_mp_boundary(B("application/x-www-form-urlencoded"), &b));
    assert_false(hp_mp_boundary(B("multipart/form-data"), &b));
    assert_false(hp_mp_boundary(B("multipart/form-data; boundary="), &b));
    assert_false(hp_mp_boundary(B("multipart/form-data; boundary=\"unterminated"), &b));
    assert_false(hp_mp_boundary(B("multipart/form-data; xboundary=abc"), &b));
    char longb[300] = "multipart/form-data; boundary=";
    memset(longb + strlen(longb), 'a', 250);
    assert_false(hp_mp_boundary(B(longb), &b));
}

static void test_curl_upload(void **st)
{
    /* what curl -F 'f=@sh.php' -F 'submit=Upload' sends */
    const char *body =
        "--------------------------d74496d66958873e\r\n"
        "Content-Disposition: form-data; name=\"f\"; filename=\"sh.php\"\r\n"
        "Content-Type: application/octet-stream\r\n"
        "\r\n"
        "<?php system($_GET['c']); ?>\r\n"
        "\r\n"
        "--------------------------d74496d66958873e\r\n"
        "Content-Disposition: form-data; name=\"submit\"\r\n"
        "\r\n"
        "Upload\r\n"
        "--------------------------d74496d66958873e--\r\n";
    struct seen s = { .n = 0 };
    assert_int_equal(hp_mp_parse(B(body), B("------------------------d74496d66958873e"), collect, &s), 2);
    assert_true(eq(s.parts[0].name, "f") && s.parts[0].has_filename && eq(s.parts[0].filename, "sh.php"));
    assert_true(eq(s.parts[0].content_type, "application/octet-stream"));
    assert_true(eq(s.parts[0].data, "<?php system($_GET['c']); ?>\r\n"));
    assert_true(eq(s.parts[1].name, "submit") && !s.parts[1].has_filename && eq(s.parts[1].data, "Upload"));
}

static void test_lenient(void **st)
{
    /* LF only, a preamble, an escaped quote, no final delimiter, an empty filename */
    const char *body =
        "preamble\n--B\nContent-Disposition: form-data; name=\"a\"; filename=\"x\\\"y.sh\"\n\n#!/bin/sh\nid\n"
        "--B\nContent-Disposition: form-data; name=b; filename=\"\"\n\n\n--B\n"
        "content-disposition: form-data; name=\"c\"; filename=last.bin\n\nno end";
    struct seen s = { .n = 0 };
    assert_int_equal(hp_mp_parse(B(body), B("B"), collect, &s), 3);
    assert_true(eq(s.parts[0].filename, "x\\\"y.sh") && eq(s.parts[0].data, "#!/bin/sh\nid"));
    assert_true(eq(s.parts[1].name, "b") && s.parts[1].has_filename && s.parts[1].filename.n == 0);
    assert_int_equal(s.parts[1].data.n, 0);
    assert_true(eq(s.parts[2].filename, "last.bin") && eq(s.parts[2].data, "no end"));
}

static void test_caps_and_garbage(void **st)
{
    struct seen s = { .n = 0 };
    assert_int_equal(hp_mp_parse(B("no delimiter at all"), B("B"), collect, &s), 0);
    assert_int_equal(hp_mp_parse(B("--B--\r\n"), B("B"), collect, &s), 0);
    assert_int_equal(hp_mp_parse(B("--B\r\nContent-Disposition: form-data; name=a"), B("B"), collect, &s), 0);
    /* at most HP_MP_PARTS_MAX parts */
    size_t cap = 100 * 64 + 16;
    char *body = malloc(cap), *p = body;
    for (int i = 0; i < 100; i++)
        p += sprintf(p, "--B\r\nContent-Disposition: form-data; name=\"p%d\"\r\n\r\nv\r\n", i);
    strcpy(p, "--B--\r\n");
    s.n = 0;
    assert_int_equal(hp_mp_parse(B(body), B("B"), collect, &s), HP_MP_PARTS_MAX);
    free(body);
    /* part headers longer than HP_MP_HEAD_MAX end the parse */
    char *big = malloc(HP_MP_HEAD_MAX * 2 + 64);
    strcpy(big, "--B\r\nX-Pad: ");
    memset(big + strlen(big), 'a', HP_MP_HEAD_MAX * 2);
    strcpy(big + 12 + HP_MP_HEAD_MAX * 2, "\r\n\r\ndata\r\n--B--");
    s.n = 0;
    assert_int_equal(hp_mp_parse(B(big), B("B"), collect, &s), 0);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundary),
        cmocka_unit_test(test_curl_upload),
        cmocka_unit_test(test_lenient),
        cmocka_unit_test(test_caps_and_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
