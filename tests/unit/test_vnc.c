/*
 * test_vnc.c - unit tests for the VNC session machine (src/proto/vnc.c).
 *
 * DES vectors were computed independently with the openssl command line
 * (legacy provider, des-ecb, key = the bit-reversed password).  The session
 * is driven without sockets: the exact bytes of each step for 3.3, 3.7 and
 * 3.8 clients against a 3.8 and a 3.3 server, input in one piece and byte by
 * byte, the login event's fields (captured through the emit hook), the
 * wordlist recovery, and the malformed cases (bad version, wrong type).
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
#include "proto/vnc.h"

static const uint8_t CHAL[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

static void unhex(const char *h, uint8_t *out)
{
    for (size_t i = 0; h[2 * i]; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

/* ---- captured events ---------------------------------------------------------- */

static char evs[8][2048];
static int nev;

static int cap_emit(struct hp_ev *ev)
{
    struct hp_event *e = hp_ev_finish(ev);
    assert_non_null(e);
    if (nev < 8)
        snprintf(evs[nev++], sizeof(evs[0]), "%.*s", (int)e->json_len, e->json);
    hp_event_unref(e);
    return 0;
}

static const char *find_ev(const char *id)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"eventid\":\"%s\"", id);
    for (int i = 0; i < nev; i++)
        if (strstr(evs[i], pat))
            return evs[i];
    return NULL;
}

static struct hp_evctx ctx = { .session = "0123456789ab", .protocol = "vnc", .service = "vnc",
                               .transport = "tcp", .src_ip = "192.0.2.1", .dst_ip = "192.0.2.2" };

/* Like the core: bytes left unconsumed are offered again with the next input. */
static uint8_t pend[256];
static size_t npend;

static void feed(struct hp_vnc_sess *s, const void *p, size_t n)
{
    assert_true(npend + n <= sizeof(pend));
    memcpy(pend + npend, p, n);
    npend += n;
    struct hp_rd rd;
    hp_rd_init(&rd, pend, npend);
    hp_vnc_input(s, &rd);
    size_t used = hp_rd_pos(&rd);
    assert_true(used <= npend);
    memmove(pend, pend + used, npend - used);
    npend -= used;
}

static void open_sess(struct hp_vnc_sess *s, const char *pers, bool crack)
{
    npend = 0;
    hp_vnc_open(s, pers ? hp_vnc_pers_find(pers) : NULL, &ctx, crack, cap_emit);
}

/* ---- crypto --------------------------------------------------------------------- */

static void test_encrypt_vectors(void **st)
{
    (void)st;
    struct { const char *pass, *resp; } v[] = {
        { "password", "b866924125c8eebb9debc1db61c538e2" },
        { "", "491e890de9ace932838a49792f2213f3" },
        { "vnc", "b2d1ae15eead77e6dfce92f7ff706d46" },
        { "password123", "b866924125c8eebb9debc1db61c538e2" },    /* only 8 bytes count */
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t want[16], got[16];
        unhex(v[i].resp, want);
        hp_vnc_encrypt(CHAL, v[i].pass, strlen(v[i].pass), got);
        assert_memory_equal(got, want, 16);
    }
}

static void test_crack(void **st)
{
    (void)st;
    assert_true(hp_vnc_wordlist_size() > 300);
    char pass[9];
    uint8_t r[16], chal[16];
    const char *known[] = { "password", "", "vnc", "raspberry", "12345678", "xc3511", "letmein" };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        for (int k = 0; k < 16; k++)
            chal[k] = (uint8_t)(i * 31 + (size_t)k * 7);
        hp_vnc_encrypt(chal, known[i], strlen(known[i]), r);
        assert_true(hp_vnc_crack(chal, r, pass));
        assert_int_equal(strncmp(pass, known[i], 8), 0);
    }
    hp_vnc_encrypt(CHAL, "Zq9!vX#2", 8, r);
    assert_false(hp_vnc_crack(CHAL, r, pass));
    /* A long list entry is found as its 8-byte prefix. */
    hp_vnc_encrypt(CHAL, "FELDTECH_VNC", 12, r);
    assert_true(hp_vnc_crack(CHAL, r, pass));
    assert_string_equal(pass, "FELDTECH");
}

/* ---- versions -------------------------------------------------------------------- */

static void test_versions(void **st)
{
    (void)st;
    struct { const char *v; int server, want; } t[] = {
        { "RFB 003.003\n", 8, 3 }, { "RFB 003.007\n", 8, 7 }, { "RFB 003.008\n", 8, 8 },
        { "RFB 003.005\n", 8, 3 }, { "RFB 003.889\n", 8, 8 }, { "RFB 004.001\n", 8, 8 },
        { "RFB 003.008\n", 3, 3 }, { "RFB 003.007\n", 3, 3 }, { "RFB 002.000\n", 8, 3 },
        { "GET / HTTP/1", 8, -1 }, { "rfb 003.008\n", 8, -1 }, { "RFB .003.008", 8, -1 },
        /* Read with sscanf "RFB %03d.%03d\n" as TigerVNC 1.12 and x11vnc 0.9.16 do:
         * both went on to the security handshake after these lines. */
        { "RFB 003.008\r", 8, 8 }, { "RFB 3.8\n\n\n\n\n", 8, 8 }, { "RFB 003.008\0", 8, 8 },
        { "RFB 03.008\n ", 8, 8 }, { "RFB 003.0a8\n", 8, 3 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        assert_int_equal(hp_vnc_parse_version((const uint8_t *)t[i].v, 12, t[i].server), t[i].want);
    assert_int_equal(hp_vnc_parse_version((const uint8_t *)"RFB 003.008\n", 11, 8), -1);
}

/* ---- sessions -------------------------------------------------------------------- */

static void session_38(bool bytewise)
{
    nev = 0;
    struct hp_vnc_sess s;
    open_sess(&s, "tigervnc", true);
    assert_int_equal(s.outlen, 12);
    assert_memory_equal(s.out, "RFB 003.008\n", 12);
    const char *v = "RFB 003.008\n";
    if (bytewise) {
        for (int i = 0; i < 12; i++) {
            feed(&s, v + i, 1);
            if (i < 11)
                assert_int_equal(s.outlen, 0);
        }
    } else {
        feed(&s, v, 12);
    }
    /* Xvnc's default list: VeNCrypt, VNC Authentication (TigerVNC 1.12). */
    assert_int_equal(s.outlen, 3);
    assert_memory_equal(s.out, "\x02\x13\x02", 3);
    feed(&s, "\x02", 1);
    assert_int_equal(s.outlen, 16);
    uint8_t chal[16], resp[16];
    memcpy(chal, s.out, 16);
    assert_memory_equal(s.challenge, chal, 16);
    hp_vnc_encrypt(chal, "raspberry", 9, resp);
    if (bytewise) {
        for (int i = 0; i < 15; i++)
            feed(&s, resp + i, 1);
        assert_null(s.close_reason);
        feed(&s, resp + 15, 1);
    } else {
        feed(&s, resp, 16);
    }
    /* TigerVNC 1.12.0's reason, held 100 ms (nmap/hydra-style wrong password). */
    static const char fail[] = "\0\0\0\1\0\0\0\x16" "Authentication failure";
    assert_int_equal(s.outlen, sizeof(fail) - 1);
    assert_memory_equal(s.out, fail, sizeof(fail) - 1);
    assert_string_equal(s.close_reason, "vnc_auth_failed");
    assert_int_equal(s.delay_ms, 100);
    const char *e = find_ev("login.failed");
    assert_non_null(e);
    assert_non_null(strstr(e, "\"password\":\"raspberr\""));
    assert_non_null(strstr(e, "\"password_recovered\":true"));
    assert_non_null(strstr(e, "\"method\":\"vnc\""));
    assert_non_null(strstr(e, "\"hash_format\":\"john:vnc\""));
    assert_non_null(strstr(e, "\"hash\":\"$vnc$*"));
    assert_non_null(strstr(e, "\"rfb_version\":\"3.8\""));
    assert_non_null(find_ev("vnc.client_version"));
    /* Input after the failure is dropped. */
    feed(&s, "xyz", 3);
    assert_int_equal(s.outlen, 0);
}

static void test_session_38(void **st)
{
    (void)st;
    session_38(false);
    session_38(true);
}

static void test_session_37_and_33(void **st)
{
    (void)st;
    struct hp_vnc_sess s;
    uint8_t resp[16];
    /* 3.7: the same list, a result without a reason. */
    nev = 0;
    open_sess(&s, "x11vnc", true);
    assert_int_equal(s.outlen, 0);           /* x11vnc waits 100 ms for a client speaking first */
    uint8_t all[12 + 1];
    memcpy(all, "RFB 003.007\n\x02", 13);
    feed(&s, all, 13);                       /* version and type in one segment, before the banner */
    assert_int_equal(s.outlen, 12 + 2 + 16);
    assert_memory_equal(s.out, "RFB 003.008\n\x01\x02", 14);
    assert_memory_equal(s.out + 14, s.challenge, 16);
    memset(resp, 0xaa, 16);
    feed(&s, resp, 16);
    assert_int_equal(s.delay_ms, 0);
    assert_int_equal(s.outlen, 4);
    assert_memory_equal(s.out, "\0\0\0\1", 4);
    const char *e = find_ev("login.failed");
    assert_non_null(e);
    assert_null(strstr(e, "\"password\""));
    assert_non_null(strstr(e, "\"password_recovered\":false"));
    assert_non_null(strstr(e, "\"response\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""));

    /* 3.3 client of a 3.8 server: type 2 imposed, challenge right after. */
    open_sess(&s, "tightvnc", true);
    feed(&s, "RFB 003.003\n", 12);
    assert_int_equal(s.outlen, 20);
    assert_memory_equal(s.out, "\0\0\0\2", 4);
    assert_memory_equal(s.out + 4, s.challenge, 16);
    hp_vnc_encrypt(s.challenge, "", 0, resp);
    nev = 0;
    feed(&s, resp, 16);
    assert_int_equal(s.outlen, 4);
    e = find_ev("login.failed");
    assert_non_null(strstr(e, "\"password\":\"\""));

    /* A 3.3 server speaks 3.3 to a 3.8 client. */
    open_sess(&s, "rfb33", false);
    assert_memory_equal(s.out, "RFB 003.003\n", 12);
    feed(&s, "RFB 003.008\n", 12);
    assert_int_equal(s.outlen, 20);
    assert_memory_equal(s.out, "\0\0\0\2", 4);
    hp_vnc_encrypt(s.challenge, "password", 8, resp);
    nev = 0;
    feed(&s, resp, 16);
    assert_memory_equal(s.out, "\0\0\0\1", 4);
    assert_int_equal(s.outlen, 4);
    e = find_ev("login.failed");
    assert_null(strstr(e, "\"password\""));      /* crack = false */
}

static void test_malformed(void **st)
{
    (void)st;
    struct hp_vnc_sess s;
    open_sess(&s, NULL, true);
    feed(&s, "GET / HTTP/1.0\r\n\r\n", 18);
    assert_string_equal(s.close_reason, "vnc_bad_version");
    assert_int_equal(s.outlen, 0);

    open_sess(&s, "tigervnc", true);
    feed(&s, "RFB 003.008\n\x01", 13);             /* "None" was not offered */
    assert_string_equal(s.close_reason, "vnc_bad_security_type");
    assert_int_equal(s.outlen, 3);                 /* the list went out, then nothing */

    /* A challenge and then silence: nothing is logged until 16 bytes arrive. */
    nev = 0;
    open_sess(&s, "tigervnc", true);
    feed(&s, "RFB 003.008\n\x02" "0123456789", 23);
    assert_null(s.close_reason);
    assert_null(find_ev("login.failed"));
    assert_int_equal(npend, 10);                   /* kept for the next segment */
}

/* A major version other than 3 (nmap-style "RFB 004.000", RFB 2.0, a sign):
 * TigerVNC 1.12.0 refuses with a reason, x11vnc 0.9.16 closes silently. */
static void test_bad_major(void **st)
{
    (void)st;
    struct hp_vnc_sess s;
    struct { const char *v, *want; } t[] = {
        { "RFB 004.000\n", "\0\0\0\0\x31" "Client needs protocol version 4.0, server has 3.8" },
        { "RFB 002.000\n", "\0\0\0\0\x31" "Client needs protocol version 2.0, server has 3.8" },
        { "RFB -03.008\n", "\0\0\0\0\x32" "Client needs protocol version -3.8, server has 3.8" },
        { "RFB 999.999\n", "\0\0\0\0\x35" "Client needs protocol version 999.999, server has 3.8" },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        nev = 0;
        open_sess(&s, "tigervnc", true);
        feed(&s, t[i].v, 12);
        size_t n = 5 + (uint8_t)t[i].want[4];
        assert_int_equal(s.outlen, n);
        assert_memory_equal(s.out, t[i].want, n);
        assert_string_equal(s.close_reason, "vnc_bad_version");
        const char *e = find_ev("vnc.client_version");
        assert_non_null(e);
        assert_null(strstr(e, "rfb_version"));
    }
    open_sess(&s, "x11vnc", true);
    hp_vnc_timeout(&s);
    assert_int_equal(s.outlen, 12);
    feed(&s, "RFB 004.000\n", 12);
    assert_int_equal(s.outlen, 0);
    assert_string_equal(s.close_reason, "vnc_bad_version");
}

/* TigerVNC 1.12.0's VeNCrypt (type 19), as nmap vnc-info walks it. */
static void test_vencrypt(void **st)
{
    (void)st;
    struct hp_vnc_sess s;
    nev = 0;
    open_sess(&s, "tigervnc", true);
    feed(&s, "RFB 003.008\n\x13", 13);
    assert_int_equal(s.outlen, 5);
    assert_memory_equal(s.out, "\x02\x13\x02\x00\x02", 5);
    feed(&s, "\0\2", 2);
    assert_int_equal(s.outlen, 10);            /* ok, 2 sub-types: TLSVnc (258), VncAuth (2) */
    assert_memory_equal(s.out, "\0\x02\0\0\1\2\0\0\0\2", 10);
    feed(&s, "\0\0\0\2", 4);                 /* plain VNC Authentication inside VeNCrypt */
    assert_int_equal(s.outlen, 16);
    uint8_t resp[16];
    memset(resp, 0x11, 16);
    feed(&s, resp, 16);
    assert_int_equal(s.outlen, 8 + 22);
    assert_memory_equal(s.out, "\0\0\0\1\0\0\0\x16" "Authentication failure", 30);
    assert_non_null(find_ev("login.failed"));

    open_sess(&s, "tigervnc", true);
    feed(&s, "RFB 003.008\n\x13\0\2\0\0\1\2", 19);   /* TLSVnc: accepted, TLS would follow */
    assert_int_equal(s.outlen, 3 + 2 + 10 + 1);
    assert_int_equal(s.out[15], 1);
    assert_null(s.close_reason);
    feed(&s, "\x16\x03\x01", 3);
    assert_string_equal(s.close_reason, "vnc_tls_unsupported");

    static const struct { const char *in; size_t n; const char *want; } bad[] = {
        { "\0\2\0\0\1\0", 6, "\0\0\0\1\0\0\0\x32" "Authentication failure: No valid VeNCrypt sub-type" },
        { "\0\1", 2, "\xff\0\0\0\1\0\0\0\x4f" "Authentication failure: The client cannot support the "
                       "server's VeNCrypt version" },
        { "\0\3", 2, "\xff\0\0\0\1\0\0\0\x4b" "Authentication failure: The client returned an "
                       "unsupported VeNCrypt version" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        open_sess(&s, "tigervnc", true);
        feed(&s, "RFB 003.008\n\x13", 13);
        feed(&s, bad[i].in, bad[i].n);
        size_t want = bad[i].n == 6 ? 10 + 8 + 0x32 : 1 + 8 + (uint8_t)bad[i].want[8];
        assert_int_equal(s.outlen, want);
        assert_memory_equal(s.out + s.outlen - (want - (bad[i].n == 6 ? 10 : 0)),
                            bad[i].want, want - (bad[i].n == 6 ? 10 : 0));
        assert_string_equal(s.close_reason, "vnc_auth_failed");
        assert_int_equal(s.delay_ms, 100);
    }
    /* VeNCrypt is TigerVNC's: x11vnc closes on type 19. */
    open_sess(&s, "x11vnc", true);
    feed(&s, "RFB 003.008\n\x13", 13);
    assert_string_equal(s.close_reason, "vnc_bad_security_type");
}

/* x11vnc 0.9.16 (libvncserver's WebSockets check): a client speaking first
 * with an HTTP request, a TLS ClientHello or 3 bytes gets no banner, only
 * the close; nobody speaking for 100 ms gets the banner. */
static void test_x11vnc_early(void **st)
{
    (void)st;
    struct hp_vnc_sess s;
    static const struct { const char *in; size_t n; } t[] = {
        { "GET / HTTP/1.0\r\n\r\n", 18 }, { "\x16\x03\x01\x00\x2f\x01", 6 }, { "RFB", 3 },
        { "hello world!\n", 13 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        nev = 0;
        open_sess(&s, "x11vnc", true);
        feed(&s, t[i].in, t[i].n);
        assert_int_equal(s.outlen, 0);
        assert_string_equal(s.close_reason, "vnc_bad_version");
        assert_non_null(find_ev("vnc.client_version"));
    }
    open_sess(&s, "x11vnc", true);
    hp_vnc_timeout(&s);
    assert_int_equal(s.outlen, 12);
    assert_memory_equal(s.out, "RFB 003.008\n", 12);
    hp_vnc_timeout(&s);                        /* only once */
    assert_int_equal(s.outlen, 0);
    feed(&s, "RFB 003.008\n", 12);
    assert_memory_equal(s.out, "\x01\x02", 2);
    /* TigerVNC speaks first. */
    open_sess(&s, "tigervnc", true);
    assert_int_equal(s.outlen, 12);
}

static void test_personalities(void **st)
{
    (void)st;
    size_t n;
    const struct hp_vnc_pers *p = hp_vnc_pers_all(&n);
    assert_true(n >= 4);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(strlen(p[i].banner), 12);
        assert_int_equal(hp_vnc_parse_version((const uint8_t *)p[i].banner, 12, 8), p[i].minor);
        assert_ptr_equal(hp_vnc_pers_find(p[i].name), &p[i]);
    }
    assert_null(hp_vnc_pers_find("realvnc-enterprise"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encrypt_vectors),
        cmocka_unit_test(test_crack),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_session_38),
        cmocka_unit_test(test_session_37_and_33),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bad_major),
        cmocka_unit_test(test_vencrypt),
        cmocka_unit_test(test_x11vnc_early),
        cmocka_unit_test(test_personalities),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
