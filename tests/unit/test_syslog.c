/*
 * test_syslog.c - the bytes of [output syslog] messages (src/store/syslog_fmt.c),
 * its configuration checks, and the status document (src/core/status.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "buf.h"
#include "config.h"
#include "event.h"
#include "status.h"
#include "store/syslog.h"

/* 2026-11-22T00:37:12.123456Z */
#define TS 1795307832123456LL

static struct hp_event *mk_event(const char *eventid, const char *json)
{
    size_t n = strlen(json);
    struct hp_event *e = calloc(1, sizeof(*e) + n + 1);
    e->refs = 1;
    e->h.ts_us = TS;
    e->h.eventid = eventid;
    e->json_len = n;
    memcpy(e->json, json, n + 1);
    return e;
}

static struct hp_syslog_fmt mk_fmt(void)
{
    struct hp_syslog_fmt f;
    memset(&f, 0, sizeof(f));
    f.facility = 16;
    snprintf(f.hostname, sizeof(f.hostname), "sensor-1");
    snprintf(f.app_name, sizeof(f.app_name), "hanipo");
    snprintf(f.procid, sizeof(f.procid), "42");
    f.octet_count = true;
    f.udp_max = 8192;
    return f;
}

#define EV_JSON "{\"eventid\":\"session.connect\",\"uid\":\"0011223344556677-9\",\"x\":\"a\\\"b \\u0001 h\xc3\xa9\"}"
#define HDR "<134>1 2026-11-22T00:37:12.123456Z sensor-1 hanipo 42 session.connect - "

/* Octet counting: "LEN SP" + header + the JSON byte for byte (no BOM). */
static void test_octet_counting(void **state)
{
    (void)state;
    struct hp_syslog_fmt f = mk_fmt();
    struct hp_event *e = mk_event("session.connect", EV_JSON);
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    assert_true(hp_syslog_message(&f, e, &b));
    char want[1024];
    snprintf(want, sizeof(want), "%zu %s%s", strlen(HDR) + strlen(EV_JSON), HDR, EV_JSON);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    /* two messages back to back: a receiver splits them by the counts */
    assert_true(hp_syslog_message(&f, e, &b));
    assert_int_equal(b.len, 2 * strlen(want));
    hp_buf_free(&b);
    free(e);
}

/* LF framing; warning severity for a successful login; facility local7; odd host names. */
static void test_lf_severity_facility(void **state)
{
    (void)state;
    struct hp_syslog_fmt f = mk_fmt();
    f.octet_count = false;
    assert_int_equal(hp_syslog_facility("local7", &f.facility), 0);
    assert_int_equal(f.facility, 23);
    hp_syslog_sanitize("my host\x01\xc3\xa9", f.hostname, sizeof(f.hostname));
    assert_string_equal(f.hostname, "my_host___");
    struct hp_event *e = mk_event("login.success", "{\"a\":1}");
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    assert_true(hp_syslog_message(&f, e, &b));
    const char *want = "<188>1 2026-11-22T00:37:12.123456Z my_host___ hanipo 42 login.success - {\"a\":1}\n";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    hp_buf_free(&b);
    free(e);
}

static void test_facility_and_sanitize(void **state)
{
    (void)state;
    unsigned v;
    assert_int_equal(hp_syslog_facility("LOCAL0", &v), 0);
    assert_int_equal(v, 16);
    assert_int_equal(hp_syslog_facility("3", &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(hp_syslog_facility("24", &v), -1);
    assert_int_equal(hp_syslog_facility("local8", &v), -1);
    assert_int_equal(hp_syslog_facility("", &v), -1);
    assert_int_equal(hp_syslog_severity("command.input"), 4);
    assert_int_equal(hp_syslog_severity("session.connect"), 6);
    char out[8];
    hp_syslog_sanitize("", out, sizeof(out));
    assert_string_equal(out, "-");
    hp_syslog_sanitize("abcdefghij", out, sizeof(out));
    assert_string_equal(out, "abcdefg");
}

/* UDP: no framing; an event too large for udp_max becomes a valid JSON stub with its uid. */
static void test_udp_stub(void **state)
{
    (void)state;
    struct hp_syslog_fmt f = mk_fmt();
    f.udp = true;
    f.udp_max = 600;
    char big[4096];
    int n = snprintf(big, sizeof(big), "{\"timestamp\":\"2026-11-22T00:37:12.123456Z\",\"eventid\":\"trap.payload\","
                     "\"uid\":\"0011223344556677-9\",\"sensor\":\"s\",\"session\":\"abcdefabcdef\",\"src_ip\":"
                     "\"192.0.2.1\",\"payload\":\"");
    memset(big + n, 'A', 3000);
    snprintf(big + n + 3000, sizeof(big) - (size_t)n - 3000, "\"}");
    struct hp_event *e = mk_event("trap.payload", big);
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    assert_true(hp_syslog_message(&f, e, &b));
    assert_true(b.len <= 600);
    assert_memory_equal(b.data, "<134>1 ", 7);
    const char *msg = memmem(b.data, b.len, " - {", 4);
    assert_non_null(msg);
    json_error_t je;
    json_t *j = json_loadb(msg + 3, b.len - (size_t)(msg + 3 - (const char *)b.data), 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "uid")), "0011223344556677-9");
    assert_string_equal(json_string_value(json_object_get(j, "session")), "abcdefabcdef");
    assert_true(json_is_true(json_object_get(j, "syslog_truncated")));
    assert_int_equal(json_integer_value(json_object_get(j, "length")), strlen(big));
    assert_null(json_object_get(j, "payload"));
    json_decref(j);
    /* a small event goes whole, unframed */
    struct hp_event *s = mk_event("session.connect", EV_JSON);
    hp_buf_reset(&b);
    assert_true(hp_syslog_message(&f, s, &b));
    assert_int_equal(b.len, strlen(HDR) + strlen(EV_JSON));
    hp_buf_free(&b);
    free(e);
    free(s);
}

static char *load_err(const char *text)
{
    static char err[512];
    char full[1024];
    snprintf(full, sizeof(full), "%s\n[service t]\nprotocol = trap\ntcp_ports = 10000\n", text);
    struct hp_config *c = hp_config_load_string(full, "t.ini", err, sizeof(err));
    if (c) {
        hp_config_free(c);
        return NULL;
    }
    return err;
}

/* Bad [output syslog] sections are refused at load time, with the line. */
static void test_config(void **state)
{
    (void)state;
    assert_null(load_err("[output syslog]\nhost = 127.0.0.1\ntransport = tls\nfacility = local3\n"));
    assert_null(load_err("[output syslog]\nhost = siem.example\nport = 1514\nframing = lf\nudp_max = 1400\n"));
    char *e = load_err("[output syslog]\nport = 514\n");
    assert_non_null(e);
    assert_non_null(strstr(e, "'host' is required"));
    e = load_err("[output syslog]\nhost = h\ntransport = relp\n");
    assert_non_null(e);
    assert_non_null(strstr(e, "t.ini:3"));
    assert_non_null(load_err("[output syslog]\nhost = h\nfacility = local9\n"));
    assert_non_null(load_err("[output syslog]\nhost = h\nport = 70000\n"));
    assert_non_null(load_err("[output syslog]\nhost = h\ncert_file = /c.pem\n"));
    assert_non_null(load_err("[output syslog]\nhost = h\nbogus = 1\n"));
}

/* The status document is one JSON object with the documented members. */
static void test_status_json(void **state)
{
    (void)state;
    struct hp_buf b;
    hp_buf_init(&b, 1 << 16);
    hp_status_json(&b, TS);
    json_error_t je;
    json_t *j = json_loadb((const char *)b.data, b.len, 0, &je);
    assert_non_null(j);
    static const char *const keys[] = { "pid", "sensor", "version", "started_us", "now_us", "connections_active",
                                        "connections_total", "accepting", "paused_reason", "outputs" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        assert_non_null(json_object_get(j, keys[i]));
    assert_int_equal(json_integer_value(json_object_get(j, "started_us")), TS);
    assert_true(json_is_array(json_object_get(j, "outputs")));
    json_decref(j);
    hp_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_octet_counting),
        cmocka_unit_test(test_lf_severity_facility),
        cmocka_unit_test(test_facility_and_sanitize),
        cmocka_unit_test(test_udp_stub),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_status_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
