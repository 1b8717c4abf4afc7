/*
 * test_http_style.c - unit tests for answers in the manner of other servers
 * (src/proto/http_style.c) and the rules' `style` directive.
 *
 * Covers: each style's status line, header order and the headers its server
 * adds (Go sorts the handler's headers and echoes HTTP/1.0; Netty writes a
 * lower-case content-length and no Date; WebLogic puts Connection, Date and
 * Content-Length first; Python speaks HTTP/1.0 with Server and Date first;
 * plain puts the rule's Server first); HEAD and bodyless statuses; each
 * style's refusal of a request it cannot parse, byte for byte where the
 * server's answer is fixed (Go, Python); Go's refusal of HTTP/1.1 without
 * Host, which the parser lets through; Python's HTTP/0.9 answers (the
 * page alone) and its repr() of what it quotes; the `style` directive and
 * its errors; and the port lookup a refusal uses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/http_parse.h"
#include "proto/http_rules.h"
#include "proto/http_style.h"

static const struct hp_bytes GET = { (const uint8_t *)"GET", 3 };

/* The answer with its Date header's value replaced by "X". */
static char *undated(struct hp_buf *b)
{
    static char s[16384];
    size_t n = b->len < sizeof(s) - 1 ? b->len : sizeof(s) - 1;
    if (n)
        memcpy(s, b->data, n);                /* an empty answer may have no buffer at all */
    s[n] = '\0';
    char *d = strstr(s, "Date: ");
    if (d) {
        char *e = strstr(d, "\r\n");
        assert_non_null(e);
        memmove(d + 7, e, strlen(e) + 1);
        d[6] = 'X';
    }
    return s;
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static char *answer(enum hp_http_style st, int status, int minor, const char *hdrs, const char *body, bool keep,
                    bool head)
{
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    hp_http_style_response(&b, st, status, minor, GET, hdrs, body, strlen(body), keep, head);
    char *s = undated(&b);
    hp_buf_free(&b);
    return s;
}

static char *refusal(enum hp_http_style st, int status, const char *raw, const char *server)
{
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    hp_http_style_refusal(&b, st, status, (const uint8_t *)raw, strlen(raw), server);
    char *s = undated(&b);
    hp_buf_free(&b);
    return s;
}

static void test_go_answers(void **state)
{
    (void)state;
    /* Handler headers in key order, then Date and Content-Length. */
    assert_string_equal(answer(HP_HTTP_STYLE_GO, 200, 1, "Ostype: linux\r\nApi-Version: 1.41\r\n"
                               "Content-Type: application/json\r\n", "{}", true, false),
                        "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n"
                        "Ostype: linux\r\nDate: X\r\nContent-Length: 2\r\n\r\n{}");
    /* HTTP/1.0 in, HTTP/1.0 out, no Connection: close. */
    assert_string_equal(answer(HP_HTTP_STYLE_GO, 404, 0, "Content-Type: text/plain; charset=utf-8\r\n",
                               "404 page not found\n", false, false),
                        "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nDate: X\r\n"
                        "Content-Length: 19\r\n\r\n404 page not found\n");
    /* Values of one name keep their order (MinIO's two Vary lines). */
    assert_string_equal(answer(HP_HTTP_STYLE_GO, 403, 1, "Vary: Origin\r\nServer: MinIO\r\nVary: Accept-Encoding\r\n"
                               "Accept-Ranges: bytes\r\nVary: X\r\n", "", true, false),
                        "HTTP/1.1 403 Forbidden\r\nAccept-Ranges: bytes\r\nServer: MinIO\r\nVary: Origin\r\n"
                        "Vary: Accept-Encoding\r\nVary: X\r\nDate: X\r\nContent-Length: 0\r\n\r\n");
    /* HTTP/1.1 closing: Connection before Date; HEAD: no body. */
    assert_string_equal(answer(HP_HTTP_STYLE_GO, 200, 1, "Vary: Origin\r\n", "x", false, true),
                        "HTTP/1.1 200 OK\r\nVary: Origin\r\nConnection: close\r\nDate: X\r\nContent-Length: 1\r\n\r\n");
    /* 204: no Content-Length, no body. */
    assert_string_equal(answer(HP_HTTP_STYLE_GO, 204, 1, "", "", true, false),
                        "HTTP/1.1 204 No Content\r\nDate: X\r\n\r\n");
}

static void test_other_answers(void **state)
{
    (void)state;
    assert_string_equal(answer(HP_HTTP_STYLE_NETTY, 200, 0, "X-elastic-product: Elasticsearch\r\n"
                               "content-type: application/json; charset=UTF-8\r\n", "{}", true, false),
                        "HTTP/1.0 200 OK\r\nX-elastic-product: Elasticsearch\r\n"
                        "content-type: application/json; charset=UTF-8\r\ncontent-length: 2\r\n\r\n{}");
    assert_string_equal(answer(HP_HTTP_STYLE_WEBLOGIC, 404, 0, "Content-Type: text/html; charset=UTF-8\r\n",
                               "nf", false, false),
                        "HTTP/1.1 404 Not Found\r\nConnection: close\r\nDate: X\r\nContent-Length: 2\r\n"
                        "Content-Type: text/html; charset=UTF-8\r\n\r\nnf");
    assert_string_equal(answer(HP_HTTP_STYLE_PYTHON, 404, 1, "Server: SimpleHTTP/0.6 Python/3.11.2\r\n"
                               "Content-Type: text/html;charset=utf-8\r\n", "p", true, false),
                        "HTTP/1.0 404 File not found\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\nDate: X\r\n"
                        "Connection: close\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: 1\r\n\r\np");
    assert_string_equal(answer(HP_HTTP_STYLE_PLAIN, 401, 1, "WWW-Authenticate: Basic realm=\"x\"\r\n"
                               "Server: GoAhead-Webs\r\n", "a", true, false),
                        "HTTP/1.1 401 Unauthorized\r\nServer: GoAhead-Webs\r\nDate: X\r\nContent-Length: 1\r\n"
                        "Connection: keep-alive\r\nWWW-Authenticate: Basic realm=\"x\"\r\n\r\na");
    /* Python closes after every answer; the others keep what they were given. */
    assert_false(hp_http_style_keeps(HP_HTTP_STYLE_PYTHON, true));
    assert_true(hp_http_style_keeps(HP_HTTP_STYLE_GO, true));
    assert_false(hp_http_style_keeps(HP_HTTP_STYLE_GO, false));
}

static void test_python_unsupported_method(void **state)
{
    (void)state;
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    struct hp_bytes post = { (const uint8_t *)"PO'ST", 5 };
    hp_http_style_response(&b, HP_HTTP_STYLE_PYTHON, 501, 1, post, "Server: SimpleHTTP/0.6 Python/3.11.2\r\n",
                           "", 0, true, false);
    char *s = undated(&b);
    hp_buf_free(&b);
    assert_non_null(strstr(s, "HTTP/1.0 501 Unsupported method (\"PO'ST\")\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\n"
                              "Date: X\r\nConnection: close\r\nContent-Type: text/html;charset=utf-8\r\n"));
    assert_non_null(strstr(s, "<p>Message: Unsupported method (\"PO'ST\").</p>"));
    assert_non_null(strstr(s, "<p>Error code explanation: 501 - Server does not support this operation.</p>"));
}

static void test_go_refusals(void **state)
{
    (void)state;
    assert_string_equal(refusal(HP_HTTP_STYLE_GO, 400, "OPTIONS / RTSP/1.0\r\n\r\n", NULL),
                        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        "Connection: close\r\n\r\n400 Bad Request");
    assert_string_equal(refusal(HP_HTTP_STYLE_GO, HP_HTTP_HEADER_TOO_LARGE, "GET / HTTP/1.1\r\n", NULL),
                        "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        "Connection: close\r\n\r\n431 Request Header Fields Too Large");
    assert_string_equal(refusal(HP_HTTP_STYLE_GO, 501, "", NULL),
                        "HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        "Connection: close\r\n\r\nUnsupported transfer encoding");
}

/* Whether style st refuses raw (one whole request) after the parser took it; its answer in ans. */
static bool refuses(enum hp_http_style st, const char *raw, char *ans, size_t cap)
{
    struct hp_http_parser *p = hp_http_parser_new(4096);
    struct hp_http_req req;
    int status = 0;
    size_t used = 0;
    assert_int_equal(hp_http_parse(p, (const uint8_t *)raw, strlen(raw), &req, &status, &used), HP_HTTP_DONE);
    struct hp_buf b;
    hp_buf_init(&b, 1 << 16);
    bool r = hp_http_style_refuses(&b, st, &req);
    snprintf(ans, cap, "%.*s", (int)b.len, b.len ? (const char *)b.data : "");
    hp_buf_free(&b);
    hp_http_parser_free(p);
    return r;
}

/* Go's net/http refuses HTTP/1.1 without Host (nmap's docker probe is one);
 * an empty Host, HTTP/1.0 and CONNECT it serves, and no other style refuses. */
static void test_go_missing_host(void **state)
{
    (void)state;
    char ans[512];
    assert_true(refuses(HP_HTTP_STYLE_GO, "GET /version HTTP/1.1\r\n\r\n", ans, sizeof(ans)));
    assert_string_equal(ans, "HTTP/1.1 400 Bad Request: missing required Host header\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
                             "400 Bad Request: missing required Host header");
    assert_true(refuses(HP_HTTP_STYLE_GO, "POST /containers/create HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
                        ans, sizeof(ans)));
    assert_false(refuses(HP_HTTP_STYLE_GO, "GET /version HTTP/1.1\r\nhost: x\r\n\r\n", ans, sizeof(ans)));
    assert_string_equal(ans, "");
    assert_false(refuses(HP_HTTP_STYLE_GO, "GET /version HTTP/1.1\r\nHost:\r\n\r\n", ans, sizeof(ans)));
    assert_false(refuses(HP_HTTP_STYLE_GO, "GET /version HTTP/1.0\r\n\r\n", ans, sizeof(ans)));
    assert_false(refuses(HP_HTTP_STYLE_GO, "CONNECT a:443 HTTP/1.1\r\n\r\n", ans, sizeof(ans)));
    assert_false(refuses(HP_HTTP_STYLE_NETTY, "GET / HTTP/1.1\r\n\r\n", ans, sizeof(ans)));
    assert_false(refuses(HP_HTTP_STYLE_NGINX, "GET / HTTP/1.1\r\n\r\n", ans, sizeof(ans)));
}

static void test_python_refusals(void **state)
{
    (void)state;
    /* A bad version: request_version is still HTTP/0.9, the page goes alone. */
    char *s = refusal(HP_HTTP_STYLE_PYTHON, 400, "\r\nOPTIONS / RTSP/1.0\r\n\r\n", "SimpleHTTP/0.6 Python/3.11.2");
    assert_true(starts(s, "<!DOCTYPE HTML>\n"));
    assert_non_null(strstr(s, "<p>Message: Bad request version ('RTSP/1.0').</p>"));
    /* HTTP/2.0: 505, also alone. */
    s = refusal(HP_HTTP_STYLE_PYTHON, 505, "GET / HTTP/2.0\r\n\r\n", NULL);
    assert_non_null(strstr(s, "<p>Error code: 505</p>\n        <p>Message: Invalid HTTP version (2.0).</p>"));
    assert_null(strstr(s, "HTTP/1.0 505"));
    /* Four words with a good version: the whole answer, repr() escaping. */
    s = refusal(HP_HTTP_STYLE_PYTHON, 400, "GET /a b\\<\x01 HTTP/1.0\r\n\r\n", "SimpleHTTP/0.6 Python/3.11.2");
    assert_non_null(strstr(s, "HTTP/1.0 400 Bad request syntax ('GET /a b\\\\<\\x01 HTTP/1.0')\r\n"
                              "Server: SimpleHTTP/0.6 Python/3.11.2\r\nDate: X\r\nConnection: close\r\n"));
    assert_non_null(strstr(s, "<p>Message: Bad request syntax ('GET /a b\\\\&lt;\\x01 HTTP/1.0').</p>"));
    /* Two words, not GET: HTTP/0.9's complaint. */
    s = refusal(HP_HTTP_STYLE_PYTHON, 400, "POST /\r\n\r\n", NULL);
    assert_non_null(strstr(s, "<p>Message: Bad HTTP/0.9 request type ('POST').</p>"));
    /* Nothing but blank lines: Python closes without a word. */
    assert_string_equal(refusal(HP_HTTP_STYLE_PYTHON, 400, "\r\n\r\n", NULL), "");
}

static void test_other_refusals(void **state)
{
    (void)state;
    char *s = refusal(HP_HTTP_STYLE_NETTY, 400, "x", NULL);
    assert_true(starts(s, "HTTP/1.1 400 Bad Request\r\nX-elastic-product: Elasticsearch\r\n"
                           "content-type: application/json; charset=UTF-8\r\ncontent-length: "));
    assert_non_null(strstr(s, "\r\n\r\n{\"error\":{\"root_cause\":[{\"type\":\"illegal_argument_exception\""));
    s = refusal(HP_HTTP_STYLE_WEBLOGIC, 400, "x", NULL);
    assert_true(starts(s, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nDate: X\r\nContent-Length: "));
    assert_non_null(strstr(s, "<TITLE>Error 400--Bad Request</TITLE>"));
    s = refusal(HP_HTTP_STYLE_PLAIN, 400, "x", "JAWS/1.0");
    assert_true(starts(s, "HTTP/1.1 400 Bad Request\r\nServer: JAWS/1.0\r\nDate: X\r\n"));
    assert_non_null(strstr(s, "\r\n\r\n<html><body><h1>400 Bad Request</h1></body></html>"));
    assert_null(strstr(s, "nginx"));
    /* nginx: its own page, with the configured Server. */
    s = refusal(HP_HTTP_STYLE_NGINX, 400, "x", "nginx/1.24.0 (Ubuntu)");
    assert_non_null(strstr(s, "<hr><center>nginx/1.24.0 (Ubuntu)</center>"));
}

static void test_style_directive(void **state)
{
    (void)state;
    static const char text[] =
        "rule a\n  match port 9200\n  match path ^/x$\n  style netty\nend\n"
        "rule b\n  match port 2375 9201\n  style go\nend\n"
        "rule c\n  match port 9202\nend\n";
    char err[256];
    struct hp_webrules *r = hp_webrules_load_text(text, sizeof(text) - 1, "t.rules", NULL, err, sizeof(err));
    assert_non_null(r);
    const struct hp_webresp *p = hp_webrules_port_style(r, 9200);
    assert_non_null(p);
    assert_string_equal(p->id, "a");
    assert_int_equal(p->style, HP_HTTP_STYLE_NETTY);
    p = hp_webrules_port_style(r, 9201);
    assert_non_null(p);
    assert_int_equal(p->style, HP_HTTP_STYLE_GO);
    assert_null(hp_webrules_port_style(r, 9202));         /* no style: nginx's refusal */
    assert_null(hp_webrules_port_style(r, 80));
    hp_webrules_free(r);
    static const char bad[] = "rule a\n  style apache\nend\n";
    assert_null(hp_webrules_load_text(bad, sizeof(bad) - 1, "t.rules", NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "t.rules:2: style must be one of"));
    assert_int_equal(hp_http_style_parse("weblogic", 8), HP_HTTP_STYLE_WEBLOGIC);
    assert_int_equal(hp_http_style_parse("go", 1), -1);
    assert_string_equal(hp_http_style_name(HP_HTTP_STYLE_PYTHON), "python");
}

/* The shipped personalities carry their styles. */
static void test_shipped_ports(void **state)
{
    (void)state;
    char err[256];
    struct hp_webrules *r = hp_webrules_builtin(err, sizeof(err));
    assert_non_null(r);
    static const struct { uint16_t port; enum hp_http_style st; } want[] = {
        { 2375, HP_HTTP_STYLE_GO }, { 10250, HP_HTTP_STYLE_GO }, { 8545, HP_HTTP_STYLE_GO },
        { 9000, HP_HTTP_STYLE_GO }, { 9200, HP_HTTP_STYLE_NETTY }, { 7001, HP_HTTP_STYLE_WEBLOGIC },
        { 8000, HP_HTTP_STYLE_PYTHON }, { 60001, HP_HTTP_STYLE_PLAIN }, { 37215, HP_HTTP_STYLE_PLAIN },
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct hp_webresp *p = hp_webrules_port_style(r, want[i].port);
        assert_non_null(p);
        assert_int_equal(p->style, want[i].st);
    }
    assert_null(hp_webrules_port_style(r, 80));
    assert_null(hp_webrules_port_style(r, 10080));
    hp_webrules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_go_answers),
        cmocka_unit_test(test_other_answers),
        cmocka_unit_test(test_python_unsupported_method),
        cmocka_unit_test(test_go_refusals),
        cmocka_unit_test(test_go_missing_host),
        cmocka_unit_test(test_python_refusals),
        cmocka_unit_test(test_other_refusals),
        cmocka_unit_test(test_style_directive),
        cmocka_unit_test(test_shipped_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
