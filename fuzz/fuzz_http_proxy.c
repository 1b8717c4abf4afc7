/*
 * fuzz_http_proxy.c - libFuzzer harness for src/proto/http_proxy.c, the
 * HTTP proxy mode's backend-facing code.
 *
 * Input: one control byte, then bytes.
 *   ctl & 1 == 0: the bytes are a backend's response.  Invariants of
 *     hp_http_resp_head_parse: 1 -> head_len <= len, status 100..999, the
 *     head ends in a blank line; the rewritten head (keep and close) parses
 *     again with the same status, framing and exactly one Connection header
 *     of ours; never more than HP_HTTP_RESP_HEAD_MAX bytes looked at; a
 *     prefix of a complete head never parses as complete with another length.
 *   ctl & 1 == 1: the bytes are a client's requests.  Every request the
 *     parser accepts is serialised for the backend (with and without
 *     X-Forwarded-For) and the result must parse again as one request with
 *     the same method, target and kept body, and no Transfer-Encoding; so
 *     must the copy http.c keeps and re-parses (for_backend false).
 * Seeds: fuzz/corpus/fuzz_http_proxy/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "proto/http_parse.h"
#include "proto/http_proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static bool same(struct hp_bytes a, struct hp_bytes b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static void response(const uint8_t *p, size_t n)
{
    struct hp_http_resp_head h;
    int r = hp_http_resp_head_parse(p, n, &h);
    CHECK(r >= -1 && r <= 1);
    if (r != 1)
        return;
    CHECK(h.head_len <= n && h.head_len <= HP_HTTP_RESP_HEAD_MAX);
    CHECK(h.status >= 100 && h.status <= 999);
    CHECK(h.head_len >= 2 && p[h.head_len - 1] == '\n');
    CHECK(!(h.has_length && h.chunked));
    for (int keep = 0; keep <= 1; keep++) {
        struct hp_buf out;
        struct hp_http_resp_head h2;
        hp_buf_init(&out, HP_HTTP_RESP_HEAD_MAX + 64);
        hp_http_resp_head_rewrite(p, h.head_len, keep, &out);
        CHECK(hp_buf_ok(&out));
        CHECK(hp_http_resp_head_parse(out.data, out.len, &h2) == 1);
        CHECK(h2.head_len == out.len && h2.status == h.status);
        CHECK(h2.has_length == h.has_length && h2.length == h.length && h2.chunked == h.chunked);
        const char *want = keep ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
        CHECK(out.len >= strlen(want) && memcmp(out.data + out.len - strlen(want), want, strlen(want)) == 0);
        hp_buf_free(&out);
    }
    (void)hp_http_resp_bodyless(&h, false);
}

static void requests(const uint8_t *p, size_t n)
{
    struct hp_http_parser *ps = hp_http_parser_new(4096);
    size_t off = 0;
    for (int i = 0; i < 16 && off < n; i++) {
        struct hp_http_req req;
        int st = 0;
        size_t used = 0;
        enum hp_http_status s = hp_http_parse(ps, p + off, n - off, &req, &st, &used);
        off += used;
        if (s != HP_HTTP_DONE)
            break;
        if (!req.version.n || req.major < 1)
            continue;                                  /* HTTP/0.x: never forwarded (http.c) */
        for (int x = 0; x <= 2; x++) {
            struct hp_buf out;
            hp_buf_init(&out, 4u << 20);
            hp_http_px_request(&req, x == 1 ? "203.0.113.1" : NULL, x < 2, &out);
            CHECK(hp_buf_ok(&out));
            struct hp_http_parser *p2 = hp_http_parser_new(out.len);
            struct hp_http_req r2;
            size_t u2 = 0;
            int st2 = 0;
            /* http.c re-parses its copy (x == 2) and relies on getting the request back */
            CHECK(hp_http_parse(p2, out.data, out.len, &r2, &st2, &u2) == HP_HTTP_DONE);
            CHECK(u2 == out.len);
            CHECK(same(r2.method, req.method) && same(r2.target, req.target));
            CHECK(same(r2.body, req.body));
            CHECK(!r2.chunked && (x == 2 || !r2.keep_alive));
            hp_http_parser_free(p2);
            hp_buf_free(&out);
        }
    }
    hp_http_parser_free(ps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        requests(data + 1, size - 1);
    else
        response(data + 1, size - 1);
    return 0;
}
