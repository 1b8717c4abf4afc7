/*
 * test_s7.c - unit tests for the S7comm session machine (src/proto/s7.c).
 *
 * nmap's s7-info dialogue byte for byte (its fixed offsets are where it
 * reads the module, firmware, names and serial), the identity drawn from a
 * seed (stable, the serial's shape), refused jobs, an unknown SZL, and the
 * malformed cases that make a CPU drop the connection.
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
#include "proto/s7.h"

static int nev;
static char evs[8][1024];
static uint8_t out[4096];
static size_t nout;

static int cap_emit(struct hp_ev *ev)
{
    struct hp_event *e = hp_ev_finish(ev);
    assert_non_null(e);
    if (nev < 8)
        snprintf(evs[nev], sizeof(evs[0]), "%.*s", (int)e->json_len, e->json);
    nev++;
    hp_event_unref(e);
    return 0;
}

static void cap_out(void *arg, const void *p, size_t n)
{
    assert_true(nout + n <= sizeof(out));
    memcpy(out + nout, p, n);
    nout += n;
}

static struct hp_evctx ctx = { .session = "0123456789ab", .protocol = "s7comm", .transport = "tcp" };

static size_t unhex(const char *h, uint8_t *o)
{
    size_t n = 0;
    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        o[n++] = (uint8_t)v;
    }
    return n;
}

static void send_hex(struct hp_s7_sess *s, const char *h)
{
    uint8_t b[512];
    size_t n = unhex(h, b);
    nout = 0;
    struct hp_rd rd;
    hp_rd_init(&rd, b, n);
    hp_s7_input(s, &rd);
}

static struct hp_s7_ident id;

static void open_plc(struct hp_s7_sess *s)
{
    nev = 0;
    hp_s7_ident_make(&id, hp_s7_profile_find("cpu315pn"), 42);
    hp_s7_open(s, &id, &ctx, cap_emit, cap_out, NULL);
}

static void connect_setup(struct hp_s7_sess *s)
{
    send_hex(s, "0300001611e00000001400c1020100c2020102c0010a");
    uint8_t cc[64];
    size_t n = unhex("0300001611d00014004400c0010ac1020100c2020102", cc);
    assert_int_equal(nout, n);
    assert_memory_equal(out, cc, n);
    send_hex(s, "0300001902f08032010000000000080000f0000001000101e0");
    n = unhex("0300001b02f080320300000000000800000000f0000001000100f0", cc);
    assert_int_equal(nout, n);
    assert_memory_equal(out, cc, n);
    assert_int_equal(s->pdu, 240);
}

static void test_ident(void **st)
{
    struct hp_s7_ident a, b;
    hp_s7_ident_make(&a, hp_s7_profile_find("cpu317pn"), 7);
    hp_s7_ident_make(&b, hp_s7_profile_find("cpu317pn"), 7);
    assert_memory_equal(&a, &b, sizeof(a));
    assert_int_equal(strlen(a.serial), 16);
    assert_memory_equal(a.serial, "S C-", 4);
    assert_true(a.serial[4] >= 'A' && a.serial[4] <= 'Z');
    assert_true(a.serial[5] >= '0' && a.serial[5] <= '9');
    assert_true(a.plant[0] != 0 && a.system_name[0] != 0 && a.module_name[0] != 0);
    hp_s7_ident_make(&b, hp_s7_profile_find("cpu317pn"), 8);
    assert_true(strcmp(a.serial, b.serial) != 0);
}

static void test_nmap_szl(void **st)
{
    struct hp_s7_sess s;
    open_plc(&s);
    connect_setup(&s);
    send_hex(&s, "0300002102f080320700000000000800080001120411440100ff09000400110001");
    assert_true(nout >= 125);
    assert_int_equal(out[2] << 8 | out[3], nout);
    assert_memory_equal(out + 43, "6ES7 315-2EH14-0AB0 ", 20);     /* nmap: Module at 44 */
    assert_memory_equal(out + 71, "6ES7 315-2EH14-0AB0 ", 20);     /* Basic Hardware at 72 */
    assert_int_equal(out[122], 3);                                 /* Version at 123.. */
    assert_int_equal(out[123], 2);
    assert_int_equal(out[124], 6);
    send_hex(&s, "0300002102f080320700000000000800080001120411440100ff090004001c0001");
    assert_true(nout >= 180 && nout <= 240 + 7);
    assert_string_equal((const char *)out + 43, id.system_name);   /* System Name at 44 */
    assert_string_equal((const char *)out + 77, id.module_name);   /* Module Type at 78 */
    assert_string_equal((const char *)out + 111, id.plant);        /* Plant at 112 */
    assert_string_equal((const char *)out + 145, "Original Siemens Equipment");
    assert_string_equal((const char *)out + 179, id.serial);       /* Serial at 180 */
    assert_null(s.close_reason);
    assert_int_equal(nev, 4);
    assert_non_null(strstr(evs[3], "\"input\":\"read_szl id=0x001C index=0x0001\""));
    /* One record: 0x011C index 5 (the serial). */
    send_hex(&s, "0300002102f080320700000000000800080001120411440100ff090004011c0005");
    assert_int_equal(out[40], 1);
    assert_string_equal((const char *)out + 43, id.serial);
}

static void test_errors(void **st)
{
    struct hp_s7_sess s;
    open_plc(&s);
    connect_setup(&s);
    /* An SZL the CPU does not serve: error 0xD401 in the parameters. */
    send_hex(&s, "0300002102f080320700000000000800080001120411440100ff09000404240000");
    assert_int_equal(out[27], 0xD4);
    assert_int_equal(out[28], 0x01);
    /* Write var M0.0 x1 byte: address out of range. */
    send_hex(&s, "0300002402f08032010000000500" "0e" "0005" "0501120a100200010000830000000004000801");
    assert_int_equal(out[8], 3);
    assert_int_equal(out[21], 0x05);
    /* CPU stop: 0x8104. */
    send_hex(&s, "0300002102f0803201000000030010000029000000000009505f50524f4752414d");
    assert_int_equal(out[17], 0x81);
    assert_int_equal(out[18], 0x04);
    assert_null(s.close_reason);
    assert_non_null(strstr(evs[nev - 1], "\"input\":\"plc_stop P_PROGRAM\""));
}

static void test_malformed(void **st)
{
    struct hp_s7_sess s;
    open_plc(&s);
    send_hex(&s, "0300001902f08032010000000000080000f0000001000101e0");   /* data before CR */
    assert_string_equal(s.close_reason, "s7_not_connected");
    assert_int_equal(nout, 0);
    open_plc(&s);
    send_hex(&s, "0400001611e00000001400c1020100c2020102c0010a");
    assert_string_equal(s.close_reason, "s7_bad_tpkt");
    open_plc(&s);
    send_hex(&s, "0300001611e00000001400c1020100c2020102c0010a");
    send_hex(&s, "0300002102f080320700000000000800080001120411440100ff09000400110001");
    assert_string_equal(s.close_reason, "s7_no_setup");
    open_plc(&s);
    connect_setup(&s);
    send_hex(&s, "0300001902f08032010000000000090000f0000001000101e0");   /* lengths do not add up */
    assert_string_equal(s.close_reason, "s7_bad_pdu");
    open_plc(&s);
    send_hex(&s, "0300000b06e00000000000");                                /* nmap TerminalServer */
    assert_string_equal(s.close_reason, "s7_no_tsap");
    assert_int_equal(nout, 0);
    assert_int_equal(nev, 1);
    /* A partial TPKT waits. */
    open_plc(&s);
    uint8_t b[8] = { 3, 0, 0, 22, 17, 0xE0 };
    struct hp_rd rd;
    hp_rd_init(&rd, b, 6);
    hp_s7_input(&s, &rd);
    assert_int_equal(hp_rd_pos(&rd), 0);
    assert_null(s.close_reason);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ident),
        cmocka_unit_test(test_nmap_szl),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
