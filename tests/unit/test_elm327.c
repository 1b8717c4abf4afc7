/*
 * test_elm327.c - unit tests for the ELM327 session machine (src/proto/elm327.c).
 *
 * VIN check digits against published examples, generated VINs, the data
 * sheet's dialogue with exact bytes (echo, linefeeds, spaces, headers), the
 * multi-frame VIN in both formats, the engine moving with the clock, and
 * the line discipline (LF ignored, CR repeats, buffer overflow, partial lines).
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
#include "proto/elm327.h"

#define NOW 1780000000000LL

static int nev;
static char lastev[1024];
static char out[8192];
static size_t nout;

static int cap_emit(struct hp_ev *ev)
{
    struct hp_event *e = hp_ev_finish(ev);
    assert_non_null(e);
    snprintf(lastev, sizeof(lastev), "%.*s", (int)e->json_len, e->json);
    nev++;
    hp_event_unref(e);
    return 0;
}

static void cap_out(void *arg, const void *p, size_t n)
{
    assert_true(nout + n < sizeof(out));
    memcpy(out + nout, p, n);
    nout += n;
    out[nout] = 0;
}

static struct hp_evctx ctx = { .session = "0123456789ab", .protocol = "elm327", .transport = "tcp" };
static char pend[1024];
static size_t npend;

static const char *say(struct hp_elm_sess *s, const char *text)
{
    size_t n = strlen(text);
    assert_true(npend + n <= sizeof(pend));
    memcpy(pend + npend, text, n);
    npend += n;
    nout = 0;
    out[0] = 0;
    struct hp_rd rd;
    hp_rd_init(&rd, pend, npend);
    hp_elm_input(s, &rd);
    size_t used = hp_rd_pos(&rd);
    memmove(pend, pend + used, npend - used);
    npend -= used;
    return out;
}

static const char *VIN = "1HGCM82633A004352";

static void open_car(struct hp_elm_sess *s)
{
    nev = 0, npend = 0;
    hp_elm_open(s, hp_elm_vehicle_find("honda_accord"), VIN, &ctx, cap_emit, cap_out, NULL);
    s->now_ms = NOW;
}

static void test_vin(void **st)
{
    assert_int_equal(hp_elm_vin_check("1HGCM82633A004352"), '3');
    assert_int_equal(hp_elm_vin_check("1M8GDM9AXKP042788"), 'X');
    assert_int_equal(hp_elm_vin_check("11111111111111111"), '1');
    assert_int_equal(hp_elm_vin_check("1HGCM82633A00435"), 0);
    assert_int_equal(hp_elm_vin_check("1HGCM82633A00435I"), 0);   /* I, O, Q are not used */
    size_t n;
    const struct hp_elm_vehicle *v = hp_elm_vehicles(&n);
    for (size_t i = 0; i < n; i++) {
        for (uint64_t seed = 1; seed < 200; seed += 13) {
            char vin[18];
            hp_elm_vin_make(&v[i], seed * 0x9E3779B97F4A7C15ull, vin);
            assert_int_equal(strlen(vin), 17);
            assert_memory_equal(vin, v[i].vin_prefix, 8);
            assert_int_equal(hp_elm_vin_check(vin), vin[8]);
        }
    }
}

static void test_datasheet(void **st)
{
    struct hp_elm_sess s;
    open_car(&s);
    assert_string_equal(say(&s, "ATZ\r"), "ATZ\r\r\rELM327 v1.5\r\r>");
    assert_string_equal(say(&s, "ATE0\r"), "ATE0\rOK\r\r>");
    assert_string_equal(say(&s, "atl1\r"), "OK\r\n\r\n>");
    assert_string_equal(say(&s, "AT L0\r"), "OK\r\r>");
    assert_string_equal(say(&s, "ATSP0\r"), "OK\r\r>");
    assert_string_equal(say(&s, "0100\r"), "SEARCHING...\r41 00 BE 3F A0 13 \r\r>");
    assert_string_equal(say(&s, "ATDPN\r"), "A6\r\r>");
    assert_string_equal(say(&s, "0120\r"), "41 20 80 02 A0 01 \r\r>");
    assert_string_equal(say(&s, "01 1C\r"), "41 1C 01 \r\r>");
    assert_string_equal(say(&s, "0102\r"), "NO DATA\r\r>");
    assert_string_equal(say(&s, "ATI\r"), "ELM327 v1.5\r\r>");
    assert_string_equal(say(&s, "AT@1\r"), "OBDII to RS232 Interpreter\r\r>");
    assert_string_equal(say(&s, "ATST FF\r"), "OK\r\r>");
    assert_string_equal(say(&s, "ATXYZ\r"), "?\r\r>");
    assert_string_equal(say(&s, "ATSPA\r"), "OK\r\r>");              /* protocol A: J1939 */
    assert_string_equal(say(&s, "ATDP\r"), "SAE J1939 (CAN 29/250)\r\r>");
    assert_string_equal(say(&s, "0100\r"), "UNABLE TO CONNECT\r\r>");
    assert_string_equal(say(&s, "ATSPA6\r"), "OK\r\r>");
    assert_string_equal(say(&s, "ATDP\r"), "AUTO\r\r>");
    assert_string_equal(say(&s, "HELLO\r"), "?\r\r>");
    assert_string_equal(say(&s, "03\r"), "SEARCHING...\r43 00 \r\r>");   /* a new search */
    assert_string_equal(say(&s, "0902\r"),
                        "014\r0: 49 02 01 31 48 47 \r1: 43 4D 38 32 36 33 33 \r2: 41 30 30 34 33 35 32 \r\r>");
    assert_string_equal(say(&s, "ATS0\r"), "OK\r\r>");
    assert_string_equal(say(&s, "ATH1\r"), "OK\r\r>");
    assert_string_equal(say(&s, "0902\r"),
                        "7E81014490201314847\r7E821434D3832363333\r7E82241303034333532\r\r>");
    assert_string_equal(say(&s, "011C\r"), "7E803411C01\r\r>");
    assert_string_equal(say(&s, "221234\r"), "7E8037F2231\r\r>");
    assert_non_null(strstr(lastev, "\"input\":\"221234\""));
}

static void test_engine_moves(void **st)
{
    struct hp_elm_sess s;
    open_car(&s);
    say(&s, "ATE0\r");
    char a[64], b[64];
    snprintf(a, sizeof(a), "%s", say(&s, "010C\r"));
    s.now_ms = NOW + 3000;
    snprintf(b, sizeof(b), "%s", say(&s, "010C\r"));
    assert_int_equal(strncmp(a, "SEARCHING...\r41 0C ", 19), 0);
    assert_int_equal(strncmp(b, "41 0C ", 6), 0);
    unsigned x, y;
    assert_int_equal(sscanf(b + 6, "%2x %2x", &x, &y), 2);
    unsigned rpm = (x * 256 + y) / 4;
    assert_true(rpm >= 600 && rpm <= 6000);
    assert_true(strcmp(a + 13, b) != 0);
    /* Coolant is warm an hour into a drive. */
    snprintf(a, sizeof(a), "%s", say(&s, "0105\r"));
    assert_int_equal(sscanf(a, "41 05 %2x", &x), 1);
    assert_true(x >= 40 && x <= 40 + 110);
}

static void test_lines(void **st)
{
    struct hp_elm_sess s;
    open_car(&s);
    assert_string_equal(say(&s, "ATE"), "");               /* partial: nothing yet */
    assert_string_equal(say(&s, "0\n\r"), "ATE0\rOK\r\r>");  /* LF ignored */
    char rv[32];
    snprintf(rv, sizeof(rv), "%s", say(&s, "\nATRV\r"));
    assert_true(strlen(rv) == 8 && rv[0] == '1' && rv[2] == '.' && strcmp(rv + 4, "V\r\r>") == 0);
    assert_string_equal(say(&s, "\r"), rv);                  /* a bare CR repeats */
    char big[400];
    memset(big, '0', sizeof(big) - 2);
    big[sizeof(big) - 2] = '\r';
    big[sizeof(big) - 1] = 0;
    assert_string_equal(say(&s, big), "?\r\r>");
    assert_int_equal(npend, 0);
    assert_string_equal(say(&s, "04\r"), "SEARCHING...\r44 \r\r>");
    assert_non_null(strstr(lastev, "\"eventid\":\"elm327.clear_dtc\""));
    assert_non_null(strstr(lastev, "\"vin\":\"1HGCM82633A004352\""));
    assert_null(s.close_reason);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vin),
        cmocka_unit_test(test_datasheet),
        cmocka_unit_test(test_engine_moves),
        cmocka_unit_test(test_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
