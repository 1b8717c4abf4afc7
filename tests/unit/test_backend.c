/*
 * test_backend.c - unit tests for the backend keys of services
 * (src/core/backend.c through hp_config_load_string), the refusal rules
 * (loopback, unspecified, link-local, multicast, reserved, own interface
 * addresses, the dashboard's address, [sensor] management; private and CGNAT
 * allowed; IPv4-mapped IPv6 judged by the IPv4 inside), the per-source daily
 * budget (per service, per source, 0 = unlimited) and the pure HTTP proxy
 * helpers (src/proto/http_proxy.c: response heads, rewritten heads, the
 * request sent to the backend).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backend.h"
#include "config.h"
#include "proto/http_parse.h"
#include "proto/http_proxy.h"

static struct hp_config *load(const char *svc_extra, const char *sensor_extra, char *err, size_t errlen)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "[sensor]\ndata_dir = /tmp/x\n%s\n[service web]\nprotocol = http\ntcp_ports = 18099\n%s\n[output jsonl]\n",
             sensor_extra, svc_extra);
    return hp_config_load_string(text, "t.ini", err, errlen);
}

static void expect_err(const char *svc_extra, const char *sensor_extra, const char *needle)
{
    char err[512] = "";
    struct hp_config *c = load(svc_extra, sensor_extra, err, sizeof(err));
    if (c) {
        hp_config_free(c);
        fail_msg("loaded although it should fail with '%s' (%s)", needle, svc_extra);
    }
    if (!strstr(err, needle))
        fail_msg("error '%s' does not contain '%s'", err, needle);
}

static void test_keys_defaults(void **state)
{
    (void)state;
    char err[512] = "";
    struct hp_config *c = load("backend = 10.1.2.3:8080", "", err, sizeof(err));
    if (!c)
        fail_msg("%s", err);
    const struct hp_backend_cfg *b = c->services[0].backend;
    assert_non_null(b);
    assert_string_equal(b->spec, "10.1.2.3:8080");
    assert_int_equal(b->addr.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&b->addr)->sin_port), 8080);
    assert_int_equal(b->connect_timeout_ms, HP_BACKEND_DEFAULT_TIMEOUT_MS);
    assert_int_equal(b->budget, HP_BACKEND_DEFAULT_BUDGET);
    assert_int_equal(b->max_bytes, HP_BACKEND_DEFAULT_MAX_BYTES);
    assert_null(b->user);
    assert_false(b->xff);
    assert_null(c->services[0].opts);             /* the module never sees backend keys */
    hp_config_free(c);

    c = load("backend = [fd00::5]:22\nbackend_timeout = 500ms\nbackend_budget = 0\nbackend_user = root\n"
             "backend_password = s3cret\nbackend_max_bytes = 64K\nbackend_xff = true", "", err, sizeof(err));
    if (!c)
        fail_msg("%s", err);
    b = c->services[0].backend;
    assert_int_equal(b->addr.ss_family, AF_INET6);
    assert_int_equal(b->connect_timeout_ms, 500);
    assert_int_equal(b->budget, 0);
    assert_string_equal(b->user, "root");
    assert_string_equal(b->password, "s3cret");
    assert_int_equal(b->max_bytes, 64 * 1024);
    assert_true(b->xff);
    hp_config_free(c);

    c = load("", "", err, sizeof(err));
    assert_non_null(c);
    assert_null(c->services[0].backend);
    hp_config_free(c);
}

static void test_key_errors(void **state)
{
    (void)state;
    expect_err("backend = 10.1.2.3", "", "t.ini:7: '10.1.2.3': expected HOST:PORT");
    expect_err("backend = 10.1.2.3:0", "", "port from 1 to 65535");
    expect_err("backend = fd00::1:80", "", "in brackets");
    expect_err("backend = [fd00::1]80", "", "expected [IPV6]:PORT");
    expect_err("backend = 10.1.2.3:80\nbackend_timeout = 5ms", "", "backend_timeout: expected a duration");
    expect_err("backend = 10.1.2.3:80\nbackend_budget = -1", "", "backend_budget:");
    expect_err("backend = 10.1.2.3:80\nbackend_xff = maybe", "", "backend_xff:");
    expect_err("backend_budget = 3", "", "t.ini:4: [service web]: backend_* keys without 'backend = HOST:PORT'");
    expect_err("backend = 10.1.2.3:80", "management = 10.1.0.0/16, nonsense", "management: 'nonsense'");
    char err[512];
    struct hp_config *c = hp_config_load_string("[sensor]\ndata_dir = /tmp/x\n[service s]\nprotocol = ssdp\n"
                                                "udp_ports = 1900\nbackend = 10.1.2.3:1900\n[output jsonl]\n",
                                                "t.ini", err, sizeof(err));
    assert_null(c);
    assert_string_equal(err, "t.ini:6: [service s]: backend needs tcp_ports (UDP is never proxied)");
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct { const char *spec, *why; } bad[] = {
        { "127.0.0.1:80", "loopback" },       { "127.8.9.10:80", "loopback" },
        { "[::1]:80", "loopback" },           { "[::ffff:127.0.0.1]:80", "loopback" },
        { "0.0.0.0:80", "unspecified" },      { "[::]:80", "unspecified" },
        { "169.254.169.254:80", "link-local" }, { "[fe80::1]:80", "link-local" },
        { "224.0.0.1:80", "multicast" },      { "[ff02::1]:80", "multicast" },
        { "255.255.255.255:80", "reserved" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char svc[128], needle[128];
        snprintf(svc, sizeof(svc), "backend = %s", bad[i].spec);
        snprintf(needle, sizeof(needle), "t.ini:7: [service web]: backend %s refused: %s address", bad[i].spec, bad[i].why);
        expect_err(svc, "", needle);
    }
    expect_err("backend = 10.9.8.7:80", "management = 10.9.0.0/16", "refused: management address");
    char err[512];
    struct hp_config *c = load("backend = 100.64.1.2:80", "management = 10.9.0.0/16", err, sizeof(err));
    assert_non_null(c);                            /* CGNAT and other private ranges are fine */
    hp_config_free(c);
    /* the dashboard's own address */
    c = hp_config_load_string("[sensor]\ndata_dir = /tmp/x\n[dashboard]\nenabled = true\nbind = 10.20.30.40\n"
                              "[service web]\nprotocol = http\ntcp_ports = 18099\nbackend = 10.20.30.40:80\n"
                              "[output jsonl]\n", "t.ini", err, sizeof(err));
    assert_null(c);
    assert_non_null(strstr(err, "refused: dashboard address"));
}

static void test_addr_allowed_runtime(void **state)
{
    (void)state;
    char err[512];
    struct hp_config *c = load("backend = 10.1.2.3:80", "management = 192.168.50.0/24", err, sizeof(err));
    assert_non_null(c);
    struct sockaddr_in sin = { .sin_family = AF_INET };
    const char *why;
    inet_pton(AF_INET, "192.168.50.9", &sin.sin_addr);
    assert_false(hp_backend_addr_allowed((struct sockaddr *)&sin, sizeof(sin), &why));
    assert_string_equal(why, "management");
    inet_pton(AF_INET, "192.168.51.9", &sin.sin_addr);
    assert_true(hp_backend_addr_allowed((struct sockaddr *)&sin, sizeof(sin), &why));
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    assert_false(hp_backend_addr_allowed((struct sockaddr *)&sin, sizeof(sin), &why));
    assert_string_equal(why, "loopback");
    hp_config_free(c);
}

static void test_budget(void **state)
{
    (void)state;
    char err[512];
    struct hp_config *c = load("backend = 10.1.2.3:80\nbackend_budget = 2", "", err, sizeof(err));
    assert_non_null(c);
    hp_backend_reset_budgets();
    struct sockaddr_storage a = { 0 }, b = { 0 };
    struct sockaddr_in *ai = (struct sockaddr_in *)&a, *bi = (struct sockaddr_in *)&b;
    ai->sin_family = bi->sin_family = AF_INET;
    inet_pton(AF_INET, "198.51.100.1", &ai->sin_addr);
    inet_pton(AF_INET, "198.51.100.2", &bi->sin_addr);
    const char *why = NULL;
    assert_true(hp_backend_admit(&c->services[0], &a, &why));
    assert_true(hp_backend_admit(&c->services[0], &a, &why));
    assert_false(hp_backend_admit(&c->services[0], &a, &why));
    assert_string_equal(why, "budget");
    assert_true(hp_backend_admit(&c->services[0], &b, &why));   /* another source has its own */
    c->services[0].backend->budget = 0;                          /* 0: unlimited */
    for (int i = 0; i < 100; i++)
        assert_true(hp_backend_admit(&c->services[0], &a, &why));
    hp_backend_reset_budgets();
    c->services[0].backend->budget = 2;
    assert_true(hp_backend_admit(&c->services[0], &a, &why));
    hp_config_free(c);
}

static void test_resp_head(void **state)
{
    (void)state;
    struct hp_http_resp_head h;
    const char *r1 = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 12\r\nConnection: close\r\n\r\nhello world!";
    assert_int_equal(hp_http_resp_head_parse((const uint8_t *)r1, strlen(r1), &h), 1);
    assert_int_equal(h.status, 200);
    assert_true(h.has_length);
    assert_int_equal(h.length, 12);
    assert_int_equal(h.head_len, strlen(r1) - 12);
    assert_int_equal(hp_http_resp_head_parse((const uint8_t *)r1, 30, &h), 0);   /* need more */
    const char *r2 = "HTTP/1.1 200 OK\nTransfer-Encoding: gzip, chunked\nContent-Length: 5\n\n";
    assert_int_equal(hp_http_resp_head_parse((const uint8_t *)r2, strlen(r2), &h), 1);
    assert_true(h.chunked);
    assert_false(h.has_length);                    /* chunked wins: no length to trust */
    const char *r3 = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n";
    assert_int_equal(hp_http_resp_head_parse((const uint8_t *)r3, strlen(r3), &h), 1);
    assert_false(h.has_length);
    assert_int_equal(hp_http_resp_head_parse((const uint8_t *)"SSH-2.0-x\r\n\r\n", 13, &h), -1);
    assert_int_equal(hp_http_resp_head_parse((const uint8_t *)"HTTP/1.1 2000 OK\r\n\r\n", 20, &h), -1);
    assert_int_equal(hp_http_resp_head_parse((const uint8_t *)"HTTP/1.1 200 OK\r\nnocolon\r\n\r\n", 28, &h), -1);
    h.status = 204;
    assert_true(hp_http_resp_bodyless(&h, false));
    h.status = 200;
    assert_false(hp_http_resp_bodyless(&h, false));
    assert_true(hp_http_resp_bodyless(&h, true));

    struct hp_buf out;
    hp_buf_init(&out, 4096);
    hp_http_resp_head_rewrite((const uint8_t *)r1, strlen(r1) - 12, true, &out);
    assert_string_equal(hp_buf_cstr(&out),
                        "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\n");
    hp_buf_free(&out);
}

static void test_px_request(void **state)
{
    (void)state;
    const char *raw = "POST /x?a=1 HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n"
                      "X-Forwarded-For: 1.1.1.1\r\nExpect: 100-continue\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    struct hp_http_parser *p = hp_http_parser_new(1024);
    struct hp_http_req req;
    int st = 0;
    size_t used = 0;
    assert_int_equal(hp_http_parse(p, (const uint8_t *)raw, strlen(raw), &req, &st, &used), HP_HTTP_DONE);
    struct hp_buf out;
    hp_buf_init(&out, 4096);
    hp_http_px_request(&req, "203.0.113.5", true, &out);
    assert_string_equal(hp_buf_cstr(&out), "POST /x?a=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                        "X-Forwarded-For: 203.0.113.5\r\nConnection: close\r\n\r\nabc");
    hp_buf_reset(&out);
    hp_http_px_request(&req, NULL, false, &out);   /* a copy keeps Connection and the client's XFF */
    assert_string_equal(hp_buf_cstr(&out), "POST /x?a=1 HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n"
                        "X-Forwarded-For: 1.1.1.1\r\nContent-Length: 3\r\n\r\nabc");
    hp_buf_free(&out);
    hp_http_parser_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_defaults),
        cmocka_unit_test(test_key_errors),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_addr_allowed_runtime),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_resp_head),
        cmocka_unit_test(test_px_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
