/*
 * fuzz_http_gzip.c - libFuzzer harness for nginx's gzip filter
 * (src/proto/http_gzip.c): the Accept-Encoding reader and the answer it
 * rewrites.
 *
 * Input: a flag byte (bit 0 a Via header, bit 1 HTTP/1.0, bits 2-3 the
 * status: 200, 404, 403 or 405), the Accept-Encoding value up to the first
 * NUL, then the rendered header lines up to the next NUL, then the body.
 * Invariants: a request that is not HTTP/1.1 or carries Via is never
 * accepted; an answer either stays as it was, or is chunked gzip that
 * inflates back to the body, with Transfer-Encoding and Content-Encoding
 * last of its headers and no Content-Length or Accept-Ranges left.
 * Seeds: fuzz/corpus/http_gzip/.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "proto/http_gzip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const uint8_t *field(const uint8_t **p, const uint8_t *end, size_t *n)
{
    const uint8_t *s = *p, *z = s < end ? memchr(s, 0, (size_t)(end - s)) : NULL;
    *n = (size_t)((z ? z : end) - s);
    *p = z ? z + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int statuses[] = { 200, 404, 403, 405 };
    static uint8_t back[1u << 17];
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1, *end = data + size;
    size_t aelen, hlen;
    const uint8_t *ae = field(&p, end, &aelen), *hl = field(&p, end, &hlen);
    size_t blen = (size_t)(end - p);
    struct hp_http_hdr h[2] = {
        { { (const uint8_t *)"Accept-Encoding", 15 }, { ae, aelen } },
        { { (const uint8_t *)"Via", 3 }, { (const uint8_t *)"1.1 x", 5 } },
    };
    struct hp_http_view v;
    memset(&v, 0, sizeof(v));
    v.headers = h;
    v.nheaders = (data[0] & 1) ? 2 : 1;
    int minor = (data[0] & 2) ? 0 : 1, status = statuses[(data[0] >> 2) & 3];
    bool ok = hp_http_gzip_accepted(&v, 1, minor);
    CHECK(!ok || (minor == 1 && !(data[0] & 1)));

    struct hp_buf hdrs, body;
    hp_buf_init(&hdrs, 64 * 1024);
    hp_buf_init(&body, 1u << 20);
    hp_buf_put(&hdrs, hl, hlen);
    hp_buf_put(&body, p, blen);
    hp_http_gzip(status, &hdrs, &body);
    CHECK(hp_buf_ok(&hdrs) && hp_buf_ok(&body));
    if (body.len == blen && (blen == 0 || memcmp(body.data, p, blen) == 0) && hdrs.len == hlen) {
        hp_buf_free(&hdrs);
        hp_buf_free(&body);
        return 0;                                /* left as it was */
    }
    const char *hs = hp_buf_cstr(&hdrs);
    size_t hn = strlen(hs);
    static const char tail[] = "Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n";
    CHECK(hn >= sizeof(tail) - 1 && strcmp(hs + hn - (sizeof(tail) - 1), tail) == 0);
    CHECK(status != 405 && blen >= 20);
    unsigned long n = 0;
    int used = 0;
    CHECK(sscanf((const char *)body.data, "%lx\r\n%n", &n, &used) == 1 && used > 2);
    CHECK((size_t)used + n + 7 == body.len && memcmp(body.data + used + n, "\r\n0\r\n\r\n", 7) == 0);
    z_stream z;
    memset(&z, 0, sizeof(z));
    CHECK(inflateInit2(&z, 16 + MAX_WBITS) == Z_OK);
    z.next_in = (Bytef *)body.data + used;
    z.avail_in = (uInt)n;
    z.next_out = back;
    z.avail_out = sizeof(back);
    CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END && z.total_out == blen && memcmp(back, p, blen) == 0);
    inflateEnd(&z);
    hp_buf_free(&hdrs);
    hp_buf_free(&body);
    return 0;
}
