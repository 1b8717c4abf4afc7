/*
 * test_modbus.c - unit tests for the Modbus/TCP session machine (src/proto/modbus.c).
 *
 * The machine is driven without sockets: exact answer bytes for reads,
 * writes (and that they stick), Read Device Identification, the exception
 * codes in the specification's order (01 function, 03 quantity/value,
 * 02 address), nmap's service probes (an HTTP request, a stale partial
 * frame), pipelined and byte-by-byte input, and the events.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "event.h"
#include "reader.h"
#include "proto/modbus.h"

#define NOW 1780000000000LL

static char evs[16][2048];
static int nev;
static uint8_t out[4096];
static size_t nout;

static int cap_emit(struct hp_ev *ev)
{
    struct hp_event *e = hp_ev_finish(ev);
    assert_non_null(e);
    if (nev < 16)
        snprintf(evs[nev++], sizeof(evs[0]), "%.*s", (int)e->json_len, e->json);
    hp_event_unref(e);
    return 0;
}

static void cap_out(void *arg, const void *p, size_t n)
{
    assert_true(nout + n <= sizeof(out));
    memcpy(out + nout, p, n);
    nout += n;
}

static struct hp_evctx ctx = { .session = "0123456789ab", .protocol = "modbus", .service = "modbus",
                               .transport = "tcp", .src_ip = "192.0.2.1", .dst_ip = "192.0.2.2" };

static uint8_t pend[1024];
static size_t npend;

static void feed(struct hp_modbus_sess *s, const void *p, size_t n, bool stale)
{
    assert_true(npend + n <= sizeof(pend));
    memcpy(pend + npend, p, n);
    npend += n;
    struct hp_rd rd;
    hp_rd_init(&rd, pend, npend);
    hp_modbus_input(s, &rd, stale);
    size_t used = hp_rd_pos(&rd);
    memmove(pend, pend + used, npend - used);
    npend -= used;
}

static void open_m340(struct hp_modbus_sess *s)
{
    nev = 0, nout = 0, npend = 0;
    hp_modbus_reset_writes();
    hp_modbus_open(s, hp_modbus_profile_find("m340"), 0x1234, &ctx, cap_emit, cap_out, NULL);
    s->now_ms = NOW;
}

static void test_read_holding(void **st)
{
    struct hp_modbus_sess s;
    open_m340(&s);
    static const uint8_t req[] = { 0, 7, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10 };
    feed(&s, req, sizeof(req), false);
    assert_int_equal(nout, 9 + 20);
    static const uint8_t hdr[] = { 0, 7, 0, 0, 0, 23, 1, 3, 20 };
    assert_memory_equal(out, hdr, sizeof(hdr));
    for (unsigned i = 0; i < 10; i++) {
        uint16_t v = (uint16_t)(out[9 + 2 * i] << 8 | out[10 + 2 * i]);
        assert_int_equal(v, hp_modbus_value(&s, HP_MB_HOLDING, i, NOW));
    }
    uint16_t level = (uint16_t)(out[9] << 8 | out[10]);
    assert_true(level >= 1000 && level <= 4000);
    assert_int_equal(nev, 1);
    assert_non_null(strstr(evs[0], "\"input\":\"read_holding_registers unit=1 addr=0 count=10\""));
    /* The process moves: a minute later the level differs. */
    assert_int_not_equal(hp_modbus_value(&s, HP_MB_HOLDING, 0, NOW),
                         hp_modbus_value(&s, HP_MB_HOLDING, 0, NOW + 60000));
}

static void test_write_register(void **st)
{
    struct hp_modbus_sess s;
    open_m340(&s);
    static const uint8_t req[] = { 0, 1, 0, 0, 0, 6, 1, 6, 0, 40, 0x04, 0xD2 };
    feed(&s, req, sizeof(req), false);
    assert_int_equal(nout, sizeof(req));
    assert_memory_equal(out, req, sizeof(req));                 /* the echo */
    assert_int_equal(hp_modbus_value(&s, HP_MB_HOLDING, 40, NOW), 1234);
    assert_int_equal(nev, 2);
    assert_non_null(strstr(evs[0], "\"eventid\":\"modbus.write\""));
    assert_non_null(strstr(evs[0], "\"address\":40"));
    assert_non_null(strstr(evs[0], "\"values\":[1234]"));
    /* Write multiple coils: 10 coils from 20, two data bytes. */
    nout = 0;
    static const uint8_t wc[] = { 0, 2, 0, 0, 0, 9, 1, 15, 0, 20, 0, 10, 2, 0xCD, 0x01 };
    feed(&s, wc, sizeof(wc), false);
    static const uint8_t wca[] = { 0, 2, 0, 0, 0, 6, 1, 15, 0, 20, 0, 10 };
    assert_int_equal(nout, sizeof(wca));
    assert_memory_equal(out, wca, sizeof(wca));
    assert_int_equal(hp_modbus_value(&s, HP_MB_COILS, 20, NOW), 1);
    assert_int_equal(hp_modbus_value(&s, HP_MB_COILS, 21, NOW), 0);
    assert_int_equal(hp_modbus_value(&s, HP_MB_COILS, 28, NOW), 1);
    assert_non_null(strstr(evs[2], "\"values\":[1,0,1,1,0,0,1,1,1,0]"));
}

static void expect_exc(struct hp_modbus_sess *s, const uint8_t *req, size_t n, uint8_t fc, uint8_t code)
{
    nout = 0;
    feed(s, req, n, false);
    assert_int_equal(nout, 9);
    assert_int_equal(out[7], fc | 0x80);
    assert_int_equal(out[8], code);
    assert_int_equal(out[5], 3);
}

static void test_exceptions(void **st)
{
    struct hp_modbus_sess s;
    open_m340(&s);
    static const uint8_t umas[] = { 0, 1, 0, 0, 0, 4, 0, 90, 0, 2 };
    expect_exc(&s, umas, sizeof(umas), 90, 1);
    static const uint8_t far[] = { 0, 1, 0, 0, 0, 6, 1, 3, 0x07, 0xD0, 0, 2 };   /* 2000 > 1024 */
    expect_exc(&s, far, sizeof(far), 3, 2);
    static const uint8_t zero[] = { 0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 0 };
    expect_exc(&s, zero, sizeof(zero), 3, 3);
    static const uint8_t big[] = { 0, 1, 0, 0, 0, 6, 1, 4, 0x07, 0xD0, 0, 126 };  /* count first */
    expect_exc(&s, big, sizeof(big), 4, 3);
    static const uint8_t coil[] = { 0, 1, 0, 0, 0, 6, 1, 5, 0, 1, 0x12, 0x34 };
    expect_exc(&s, coil, sizeof(coil), 5, 3);
    static const uint8_t bc[] = { 0, 1, 0, 0, 0, 10, 1, 16, 0, 1, 0, 2, 3, 0, 1, 0 };
    expect_exc(&s, bc, sizeof(bc), 16, 3);
    static const uint8_t sid[] = { 0, 1, 0, 0, 0, 2, 1, 17 };     /* M340: no Report Server ID */
    expect_exc(&s, sid, sizeof(sid), 17, 1);
    assert_null(s.close_reason);
    assert_non_null(strstr(evs[1], "\"exception\":2"));
}

static void test_device_id(void **st)
{
    struct hp_modbus_sess s;
    open_m340(&s);
    static const uint8_t req[] = { 0, 5, 0, 0, 0, 5, 0xFF, 43, 14, 1, 0 };
    feed(&s, req, sizeof(req), false);
    static const uint8_t ans[] = { 0, 5, 0, 0, 0, 48, 0xFF, 43, 14, 1, 0x82, 0, 0, 3,
                                   0, 18, 'S', 'c', 'h', 'n', 'e', 'i', 'd', 'e', 'r', ' ',
                                   'E', 'l', 'e', 'c', 't', 'r', 'i', 'c',
                                   1, 12, 'B', 'M', 'X', ' ', 'P', '3', '4', ' ', '2', '0', '2', '0',
                                   2, 4, 'v', '2', '.', '7' };
    assert_int_equal(nout, sizeof(ans));
    assert_memory_equal(out, ans, sizeof(ans));
    /* Individual access to object 4; object 9 does not exist. */
    nout = 0;
    static const uint8_t one[] = { 0, 6, 0, 0, 0, 5, 1, 43, 14, 4, 4 };
    feed(&s, one, sizeof(one), false);
    assert_int_equal(out[13], 1);
    assert_int_equal(out[14], 4);
    assert_memory_equal(out + 16, "Modicon M340", 12);
    static const uint8_t none[] = { 0, 6, 0, 0, 0, 5, 1, 43, 14, 4, 9 };
    expect_exc(&s, none, sizeof(none), 43, 2);
    /* Report Server ID where the family has it. */
    hp_modbus_open(&s, hp_modbus_profile_find("ac500"), 1, &ctx, cap_emit, cap_out, NULL);
    nout = 0;
    static const uint8_t sid[] = { 0, 1, 0, 0, 0, 2, 1, 17 };
    feed(&s, sid, sizeof(sid), false);
    assert_int_equal(out[7], 17);
    assert_int_equal(out[9], 0x0A);
    assert_int_equal(out[10], 0xFF);
    assert_int_equal(out[8], nout - 9);
}

static void test_nmap_probes(void **st)
{
    struct hp_modbus_sess s;
    open_m340(&s);
    feed(&s, "GET / HTTP/1.0\r\n\r\n", 18, false);
    assert_int_equal(nout, 9);
    assert_memory_equal(out, "GET \0\x03H\xd4\x01", 9);
    assert_string_equal(s.close_reason, "modbus_bad_length");
    assert_int_equal(npend, 0);
    open_m340(&s);
    feed(&s, "\r\n\r\n", 4, false);
    assert_int_equal(nout, 0);
    assert_int_equal(npend, 4);
    feed(&s, "", 0, true);
    assert_int_equal(nout, 9);
    assert_memory_equal(out, "\r\n\r\n\0\x03\0\x80\x01", 9);
    assert_non_null(s.close_reason);
}

static void test_pieces(void **st)
{
    struct hp_modbus_sess s;
    open_m340(&s);
    static const uint8_t two[] = { 0, 1, 0, 0, 0, 6, 1, 1, 0, 0, 0, 4, 0, 2, 0, 0, 0, 6, 1, 2, 0, 0, 0, 7 };
    for (size_t i = 0; i < sizeof(two); i++)
        feed(&s, two + i, 1, false);
    assert_int_equal(nout, 10 + 10);
    assert_int_equal(out[7], 1);
    assert_int_equal(out[17], 2);
    assert_int_equal(nev, 2);
    assert_int_equal(npend, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_holding), cmocka_unit_test(test_write_register),
        cmocka_unit_test(test_exceptions),   cmocka_unit_test(test_device_id),
        cmocka_unit_test(test_nmap_probes),  cmocka_unit_test(test_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
