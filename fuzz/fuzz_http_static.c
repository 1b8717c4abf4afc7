/*
 * fuzz_http_static.c - libFuzzer harness for nginx's conditional and range
 * answers (src/proto/http_static.c).
 *
 * Input: the values of Range, If-Range, If-None-Match, If-Modified-Since,
 * If-Match and If-Unmodified-Since, NUL-separated (an empty value: the
 * header is absent), then the page's body.  The page is answered as the
 * welcome page is (Content-Type, Last-Modified, ETag, Accept-Ranges), and
 * what comes out must be one of nginx's answers: 200 untouched, 304 with no
 * body, 412 or 416 with an error page, or 206 whose Content-Range names
 * bytes of the page that the body holds exactly (one part), or a
 * multipart/byteranges body no larger than its parts and their headers.
 * Seeds: fuzz/corpus/http_static/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/http_static.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const char *const names[] = { "Range", "If-Range", "If-None-Match", "If-Modified-Since", "If-Match",
                                     "If-Unmodified-Since" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hp_http_hdr h[6];
    size_t nh = 0;
    const uint8_t *p = data, *end = data + size;
    for (size_t i = 0; i < 6; i++) {
        const uint8_t *z = p < end ? memchr(p, 0, (size_t)(end - p)) : NULL;
        const uint8_t *e = z ? z : end;
        if (e > p)
            h[nh++] = (struct hp_http_hdr){ { (const uint8_t *)names[i], strlen(names[i]) }, { p, (size_t)(e - p) } };
        p = z ? z + 1 : end;
    }
    struct hp_http_view v;
    memset(&v, 0, sizeof(v));
    v.method = (struct hp_bytes){ (const uint8_t *)"GET", 3 };
    v.target = v.path = v.dpath = (struct hp_bytes){ (const uint8_t *)"/", 1 };
    v.version = (struct hp_bytes){ (const uint8_t *)"HTTP/1.1", 8 };
    v.headers = h;
    v.nheaders = nh;
    size_t plen = (size_t)(end - p);
    struct hp_buf hdrs, body;
    hp_buf_init(&hdrs, 64 * 1024);
    hp_buf_init(&body, 1u << 20);
    hp_buf_puts(&hdrs, "Content-Type: text/html\r\nLast-Modified: Tue, 11 Apr 2023 01:45:34 GMT\r\n"
                       "ETag: \"6434bbbe-267\"\r\nAccept-Ranges: bytes\r\n");
    hp_buf_put(&body, p, plen);
    int status = 200;
    hp_http_static(&v, &status, &hdrs, &body, "nginx");
    CHECK(hp_buf_ok(&hdrs) && hp_buf_ok(&body));
    const char *hs = hp_buf_cstr(&hdrs);
    switch (status) {
    case 200:
        CHECK(body.len == plen && (!plen || memcmp(body.data, p, plen) == 0));
        break;
    case 304:
        CHECK(body.len == 0 && !strstr(hs, "Content-Type"));
        break;
    case 412:
    case 416:
        CHECK(strstr(hs, "Content-Type: text/html\r\n") == hs && body.len > 0);
        break;
    case 206: {
        CHECK(!strstr(hs, "Accept-Ranges"));
        const char *cr = strstr(hs, "Content-Range: bytes ");
        if (cr) {                                   /* one part: exactly those bytes */
            unsigned long long a, b, total;
            CHECK(sscanf(cr, "Content-Range: bytes %llu-%llu/%llu", &a, &b, &total) == 3);
            CHECK(total == plen && a <= b && b < plen && body.len == b - a + 1);
            CHECK(memcmp(body.data, p + a, body.len) == 0);
        } else {
            CHECK(strstr(hs, "Content-Type: multipart/byteranges; boundary=") == hs);
            /* parts add up to at most the page; each has under 160 bytes of framing */
            CHECK(body.len <= plen + 1025 * 160);
        }
        break;
    }
    default:
        abort();
    }
    hp_buf_free(&hdrs);
    hp_buf_free(&body);
    return 0;
}
