/*
 * fuzz_http_parse.c - libFuzzer harness for the HTTP/1.x request parser and view.
 *
 * Input: two control bytes, then the bytes a client sent on one connection.
 *   - ctl[0] seeds a small PRNG that cuts the stream into pieces (0: one
 *     piece); ctl[1] picks max_body (0, 16, 1024 or 65536).
 *   - The pieces are fed the way src/proto/http.c does: an input buffer that
 *     grows, hp_http_parse() until it stops returning DONE, the used bytes
 *     dropped after each call.  Invariants: used <= len; ERROR uses all;
 *     every DONE request's fields are readable in full (ASan checks), body
 *     within max_body, head_len <= raw_len, and the raw_len of the requests
 *     plus what errors dropped plus what is left add up to the input.
 *   - The same stream parsed in one piece must give the same requests and
 *     the same error: the result must not depend on how TCP cut the stream.
 *   - Each request's view is built and its decoded fields checked.
 *   - The whole input split loosely, as a refused request is for its
 *     classification (hp_http_parse_loose), from an allocation of exactly its
 *     size: every piece inside it, the head and body adding up to it, and its
 *     view built.
 * Seeds: fuzz/corpus/http_parse/ (real requests and exploits, chunked bodies, refused ones).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct outcome {
    int nreq;
    int error;
    uint64_t raw_sum;
    uint64_t body_sum;   /* sum of body_len */
    uint32_t hash;       /* over targets and kept bodies */
};

static volatile uint8_t sink;

static void touch(struct hp_bytes b)
{
    uint8_t x = 0;
    for (size_t i = 0; i < b.n; i++)
        x ^= b.p[i];
    sink ^= x;
}

static uint32_t hash_bytes(uint32_t h, struct hp_bytes b)
{
    for (size_t i = 0; i < b.n; i++)
        h = (h ^ b.p[i]) * 16777619u;
    return h;
}

static void check_req(const struct hp_http_req *r, size_t max_body, struct hp_buf *scratch)
{
    CHECK(r->nheaders <= HP_HTTP_MAX_HEADERS);
    CHECK(r->body.n <= max_body);
    CHECK(r->body_len >= r->body.n);
    CHECK(r->body_truncated == (r->body_len > r->body.n));
    CHECK(r->head_len <= r->raw_len);
    CHECK(r->method.n > 0 && r->target.n > 0 && r->target.n <= HP_HTTP_URI_MAX);
    CHECK(r->major == 1 || (r->major == 0 && (r->version.n == 0 || r->version.n >= 8)));
    touch(r->method);
    touch(r->target);
    touch(r->version);
    touch(r->body);
    for (size_t i = 0; i < r->nheaders; i++) {
        CHECK(r->headers[i].name.n > 0);
        touch(r->headers[i].name);
        touch(r->headers[i].value);
    }
    struct hp_http_view v;
    hp_http_view_build(r, 80, false, scratch, &v);
    CHECK(v.dpath.n <= v.path.n && v.dquery.n <= v.query.n && v.dbody.n <= v.body.n);
    CHECK(v.path.n + v.query.n <= v.target.n);
    touch(v.dpath);
    touch(v.dquery);
    touch(v.dbody);
    touch(v.npath);
    CHECK(v.npath.n <= v.path.n + 1 && (v.npath.n == 0 || v.npath.p[0] == '/'));
}

static void run(const uint8_t *in, size_t n, uint8_t seed, size_t max_body, struct outcome *o)
{
    struct hp_http_parser *p = hp_http_parser_new(max_body);
    struct hp_http_req *req = malloc(sizeof(*req));
    uint8_t *buf = malloc(n + 1);
    struct hp_buf scratch;
    uint32_t x = seed;
    size_t have = 0, off = 0;
    CHECK(p && req && buf);
    hp_buf_init(&scratch, 1 << 16);
    memset(o, 0, sizeof(*o));
    o->hash = 2166136261u;
    while (off < n && !o->error) {
        size_t k = n - off;
        if (seed) {
            x = x * 1103515245u + 12345u;
            size_t want = 1 + (x >> 16) % 64;
            k = want < k ? want : k;
        }
        memcpy(buf + have, in + off, k);
        have += k;
        off += k;
        for (int guard = 0; guard < 100000; guard++) {
            int status = 0;
            size_t used = 0;
            enum hp_http_status st = hp_http_parse(p, buf, have, req, &status, &used);
            CHECK(used <= have);
            if (st == HP_HTTP_DONE) {
                check_req(req, max_body, &scratch);
                o->nreq++;
                o->raw_sum += req->raw_len;
                o->body_sum += req->body_len;
                o->hash = hash_bytes(hash_bytes(o->hash, req->target), req->body);
            } else if (st == HP_HTTP_ERROR) {
                CHECK(used == have);
                CHECK(status >= 400 && status <= 505);
                o->error = status;
            } else {
                const struct hp_http_req *pend = hp_http_parser_pending(p);
                if (pend)
                    CHECK(pend->body.n <= max_body);
            }
            memmove(buf, buf + used, have - used);
            have -= used;
            if (st != HP_HTTP_DONE || have == 0)
                break;
        }
    }
    if (!o->error)
        CHECK(o->raw_sum + have <= n);
    hp_buf_free(&scratch);
    free(buf);
    free(req);
    hp_http_parser_free(p);
}

static bool inside(struct hp_bytes b, const uint8_t *base, size_t n)
{
    return b.n == 0 || (b.p >= base && b.p + b.n <= base + n);
}

static void check_loose(const uint8_t *in, size_t n)
{
    uint8_t *copy = malloc(n ? n : 1);
    struct hp_http_req *r = malloc(sizeof(*r));
    CHECK(copy && r);
    memcpy(copy, in, n);
    if (hp_http_parse_loose(copy, n, r)) {
        CHECK(r->method.n > 0 && r->method.n <= 32 && r->target.n > 0);
        CHECK(inside(r->method, copy, n) && inside(r->target, copy, n) && inside(r->version, copy, n));
        CHECK(r->version.n == 0 || r->version.n == 8);
        CHECK(r->nheaders <= HP_HTTP_MAX_HEADERS);
        for (size_t i = 0; i < r->nheaders; i++)
            CHECK(inside(r->headers[i].name, copy, n) && inside(r->headers[i].value, copy, n));
        CHECK(inside(r->body, copy, n) && r->body_len == r->body.n);
        CHECK(r->raw_len == n && r->head_len + r->body.n == n);
        struct hp_buf scratch;
        hp_buf_init(&scratch, 1 << 16);
        struct hp_http_view v;
        hp_http_view_build(r, 80, false, &scratch, &v);
        CHECK(v.path.n + v.query.n <= v.target.n);
        touch(v.dpath);
        touch(v.dquery);
        touch(v.dbody);
        hp_buf_free(&scratch);
    }
    free(r);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t bodies[4] = { 0, 16, 1024, 65536 };
    if (size < 2 || size > (1u << 20))
        return 0;
    size_t max_body = bodies[data[1] & 3];
    struct outcome split, whole;
    run(data + 2, size - 2, data[0], max_body, &split);
    run(data + 2, size - 2, 0, max_body, &whole);
    CHECK(split.nreq == whole.nreq && split.error == whole.error && split.raw_sum == whole.raw_sum &&
          split.body_sum == whole.body_sum && split.hash == whole.hash);

    check_loose(data + 2, size - 2);
    hp_http_sniff(data, size);
    hp_tls_sniff(data, size);
    char page[1024];
    CHECK(hp_http_error_page(400 + data[0] % 110, size > 2 ? "nginx" : NULL, page, 1 + data[1] % 1024) <= 1023);
    return 0;
}
