/*
 * fuzz_http_static.c - libFuzzer harness for nginx's conditional and range
 * answers (src/proto/http_static.c).
 *
 * Input: the values of Range, If-Range, If-None-Match, If-Modified-Since,
 * If-Match, If-Unmodified-Since, Accept-Encoding and Via, NUL-separated (an
 * empty value: the header is absent), then the page's body.  When the
 * request accepts gzip (src/proto/http_gzip.c), no range is served and the
 * answer is gzipped: the chunked body must inflate back to the page.  The page is answered as the
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
#include <zlib.h>
#include "proto/http_gzip.h"
#include "proto/http_static.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const char *const names[] = { "Range", "If-Range", "If-None-Match", "If-Modified-Since", "If-Match",
                                     "If-Unmodified-Since", "Accept-Encoding", "Via" };
#define NNAMES (sizeof(names) / sizeof(names[0]))

/* A gzipped answer: "SIZE\r\n" GZIP "\r\n0\r\n\r\n" that inflates to the page. */
static void check_gzip(struct hp_buf *hdrs, const struct hp_buf *body, const uint8_t *page, size_t plen)
{
    static uint8_t back[1u << 20];
    const char *hs = hp_buf_cstr(hdrs);
    CHECK(strstr(hs, "Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n") && !strstr(hs, "Accept-Ranges"));
    unsigned long n = 0;
    int used = 0;
    CHECK(sscanf((const char *)body->data, "%lx\r\n%n", &n, &used) == 1 && used > 2);
    CHECK((size_t)used + n + 7 == body->len && memcmp(body->data + used + n, "\r\n0\r\n\r\n", 7) == 0);
    z_stream z;
    memset(&z, 0, sizeof(z));
    CHECK(inflateInit2(&z, 16 + MAX_WBITS) == Z_OK);
    z.next_in = (Bytef *)body->data + used;
    z.avail_in = (uInt)n;
    z.next_out = back;
    z.avail_out = sizeof(back);
    CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END);
    CHECK(z.total_out == plen && memcmp(back, page, plen) == 0);
    inflateEnd(&z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hp_http_hdr h[NNAMES];
    size_t nh = 0;
    const uint8_t *p = data, *end = data + size;
    for (size_t i = 0; i < NNAMES; i++) {
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
    bool gz = hp_http_gzip_accepted(&v, 1, 1);
    hp_http_static(&v, &status, &hdrs, &body, "nginx", gz);
    CHECK(hp_buf_ok(&hdrs) && hp_buf_ok(&body));
    CHECK(!gz || status != 206);
    if (gz && status == 200 && plen >= 20 && plen <= 64 * 1024) {
        hp_http_gzip(status, &hdrs, &body);
        check_gzip(&hdrs, &body, p, plen);
        hp_buf_free(&hdrs);
        hp_buf_free(&body);
        return 0;
    }
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
