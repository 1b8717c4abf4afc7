/*
 * test_login.c - unit tests for the login helpers the protocol modules share:
 * src/proto/login.c (the accept_after rule and the login event's shared
 * fields) and src/proto/login_gate.c (per source: the Nth attempt gets in,
 * then only that pair), and the NTLM login event of src/proto/ntlm.c.
 *
 * The events are built and frozen (hp_ev_finish), then read back with the
 * independent JSON reader of json_check.h: field names, order of the shared
 * fields, values and the _b64 companion of a password that is not UTF-8.
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
#include "json_check.h"
#include "proto/login.h"
#include "proto/login_gate.h"
#include "proto/ntlm.h"

#define MAXM 40

static const struct hp_evctx ctx = { .session = "0123456789ab", .protocol = "ftp", .service = "ftp",
                                     .transport = "tcp", .src_ip = "203.0.113.7", .dst_ip = "198.51.100.1",
                                     .src_port = 40000, .dst_port = 21 };

/* The frozen event's members; *json keeps the text they point into. */
static int members(struct hp_ev *ev, struct hp_event **json, struct jc_member *m)
{
    *json = hp_ev_finish(ev);
    assert_non_null(*json);
    assert_true(jc_valid((*json)->json, (*json)->json_len));
    int n = jc_members((*json)->json, (*json)->json_len, m, MAXM);
    assert_true(n > 0);
    return n;
}

static int find(const struct jc_member *m, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (strcmp(m[i].key, key) == 0)
            return i;
    return -1;
}

/* The member's value is exactly the JSON text 'lit' ("\"x\"", "3", "true"). */
static void assert_val(const struct jc_member *m, int n, const char *key, const char *lit)
{
    int i = find(m, n, key);
    assert_true(i >= 0);
    assert_int_equal(m[i].vlen, strlen(lit));
    assert_memory_equal(m[i].val, lit, m[i].vlen);
}

static void test_nth(void **state)
{
    (void)state;
    assert_false(hp_login_nth(1, 0));         /* 0: never */
    assert_false(hp_login_nth(1000, 0));
    assert_false(hp_login_nth(2, 3));
    assert_true(hp_login_nth(3, 3));
    assert_true(hp_login_nth(4, 3));          /* and every attempt after */
    assert_true(hp_login_nth(1, 1));
}

static void test_event_shared_fields(void **state)
{
    (void)state;
    const struct hp_login l = { "root", 4, "toor", 4, "plain", 2 };
    struct hp_ev ev;
    struct hp_event *e;
    struct jc_member m[MAXM];
    hp_login_ev_begin(&ev, &ctx, false, &l);
    hp_ev_str(&ev, "server", "vsftpd");
    int n = members(&ev, &e, m);
    assert_val(m, n, "eventid", "\"login.failed\"");
    assert_val(m, n, "username", "\"root\"");
    assert_val(m, n, "password", "\"toor\"");
    assert_val(m, n, "method", "\"plain\"");
    assert_val(m, n, "attempt", "2");
    /* the shared fields in this order, the module's own after them */
    int u = find(m, n, "username");
    assert_string_equal(m[u + 1].key, "password");
    assert_string_equal(m[u + 2].key, "method");
    assert_string_equal(m[u + 3].key, "attempt");
    assert_string_equal(m[u + 4].key, "server");
    hp_event_unref(e);

    hp_login_ev_begin(&ev, &ctx, true, &l);
    n = members(&ev, &e, m);
    assert_val(m, n, "eventid", "\"login.success\"");
    hp_event_unref(e);
}

static void test_event_binary_password(void **state)
{
    (void)state;
    static const uint8_t pw[] = { 'a', 0xff, 0x00, 'b' };
    const struct hp_login l = { "u\"x", 3, pw, sizeof(pw), "telnet", 1 };
    struct hp_ev ev;
    struct hp_event *e;
    struct jc_member m[MAXM];
    hp_login_ev_begin(&ev, &ctx, false, &l);
    int n = members(&ev, &e, m);
    assert_true(jc_safe_text(e->json, e->json_len));
    int i = find(m, n, "username");
    size_t ul;
    uint8_t *u = jc_decode_str(m[i].val, m[i].vlen, &ul);
    assert_non_null(u);
    assert_int_equal(ul, 3);
    assert_memory_equal(u, "u\"x", 3);
    free(u);
    i = find(m, n, "password_b64");
    assert_true(i >= 0);                      /* the exact bytes survive */
    size_t bl;
    uint8_t *b = jc_decode_str(m[i].val, m[i].vlen, &bl);
    char *want = jc_b64(pw, sizeof(pw));
    assert_non_null(b);
    assert_non_null(want);
    assert_int_equal(bl, strlen(want));
    assert_memory_equal(b, want, bl);
    free(b);
    free(want);
    hp_event_unref(e);
}

/* ---- the per-source gate ------------------------------------------------------------------- */

static struct hp_login_gate gate_a, gate_b;

static enum hp_login_verdict try_(struct hp_login_gate *g, const char *ip, uint64_t after, const char *user,
                                  const char *pass, const struct hp_login_src **prev)
{
    return hp_login_gate_try(g, ip, after, user, pass, pass ? strlen(pass) : 0, prev);
}

static void test_gate_nth_then_pair(void **state)
{
    (void)state;
    const struct hp_login_src *e = NULL;
    hp_login_gate_reset(&gate_a);
    assert_int_equal(try_(&gate_a, "192.0.2.1", 3, "root", "a", &e), HP_LOGIN_REFUSE);
    assert_int_equal(try_(&gate_a, "192.0.2.1", 3, "admin", "b", &e), HP_LOGIN_REFUSE);
    /* another source counts on its own */
    assert_int_equal(try_(&gate_a, "192.0.2.2", 3, "x", "y", &e), HP_LOGIN_REFUSE);
    assert_int_equal(try_(&gate_a, "192.0.2.1", 3, "sa", "Passw0rd", &e), HP_LOGIN_ACCEPT);
    assert_int_equal(try_(&gate_a, "192.0.2.1", 3, "other", "z", &e), HP_LOGIN_KNOWN);
    assert_non_null(e);
    assert_string_equal(e->user, "sa");       /* the accepted pair, for the module to compare */
    assert_true(e->pass_known);
    assert_int_equal(e->plen, 8);
    assert_memory_equal(e->pass, "Passw0rd", 8);
    assert_int_equal(try_(&gate_a, "192.0.2.2", 3, "x", "y", &e), HP_LOGIN_REFUSE);
    assert_int_equal(try_(&gate_a, "192.0.2.2", 3, "x", "y", &e), HP_LOGIN_ACCEPT);
}

static void test_gate_never_and_separate(void **state)
{
    (void)state;
    const struct hp_login_src *e = NULL;
    hp_login_gate_reset(&gate_a);
    hp_login_gate_reset(&gate_b);
    for (int i = 0; i < 20; i++)
        assert_int_equal(try_(&gate_a, "192.0.2.9", 0, "root", "root", &e), HP_LOGIN_REFUSE);
    assert_int_equal(try_(&gate_b, "192.0.2.1", 1, "u", "p", &e), HP_LOGIN_ACCEPT);
    /* in through gate_b is not in through gate_a */
    assert_int_equal(try_(&gate_a, "192.0.2.1", 2, "u", "p", &e), HP_LOGIN_REFUSE);
}

static void test_gate_unknown_password(void **state)
{
    (void)state;
    const struct hp_login_src *e = NULL;
    hp_login_gate_reset(&gate_a);
    assert_int_equal(try_(&gate_a, "192.0.2.3", 1, "u", NULL, &e), HP_LOGIN_ACCEPT);
    assert_false(e->pass_known);              /* a hashed response: nothing to keep */
    static char big[HP_LOGIN_PASS_MAX + 2];
    memset(big, 'p', sizeof(big) - 1);
    assert_int_equal(try_(&gate_a, "192.0.2.4", 1, "u", big, &e), HP_LOGIN_ACCEPT);
    assert_false(e->pass_known);              /* too long to keep whole: not kept at all */
    big[HP_LOGIN_PASS_MAX] = '\0';
    assert_int_equal(try_(&gate_a, "192.0.2.5", 1, "u", big, &e), HP_LOGIN_ACCEPT);
    assert_true(e->pass_known);
    assert_int_equal(e->plen, HP_LOGIN_PASS_MAX);
}

/* A full gate forgets a source to make room: the newcomer counts from 1. */
static void test_gate_full(void **state)
{
    (void)state;
    const struct hp_login_src *e = NULL;
    char ip[HP_IPSTR_LEN];
    hp_login_gate_reset(&gate_a);
    for (int i = 0; i < HP_LOGIN_GATE_SRCS; i++) {
        snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 256, i % 256);
        assert_int_equal(try_(&gate_a, ip, 2, "u", "p", &e), HP_LOGIN_REFUSE);
    }
    assert_int_equal(try_(&gate_a, "198.51.100.99", 2, "u", "p", &e), HP_LOGIN_REFUSE);
    assert_int_equal(e->attempts, 1);
    assert_int_equal(try_(&gate_a, "198.51.100.99", 2, "u", "p", &e), HP_LOGIN_ACCEPT);
    int kept = 0;
    for (int i = 0; i < HP_LOGIN_GATE_SRCS; i++)
        kept += gate_a.src[i].ip[0] != '\0';
    assert_int_equal(kept, HP_LOGIN_GATE_SRCS);
}

/* ---- NTLM -------------------------------------------------------------------------------- */

static void test_ntlm_event(void **state)
{
    (void)state;
    static const uint8_t chal[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    struct hp_ntlm_auth a;
    memset(&a, 0, sizeof(a));
    snprintf(a.user, sizeof(a.user), "alice");
    snprintf(a.domain, sizeof(a.domain), "CORP");
    uint8_t lm[24], nt[24];
    memset(lm, 0x11, sizeof(lm));
    memset(nt, 0x22, sizeof(nt));
    a.lm = lm;
    a.lm_len = 24;
    a.nt = nt;
    a.nt_len = 24;
    struct hp_ev ev;
    struct hp_event *e;
    struct jc_member m[MAXM];
    hp_ntlm_ev_login(&ev, &ctx, &a, chal);
    int n = members(&ev, &e, m);
    assert_val(m, n, "eventid", "\"login.failed\"");
    assert_val(m, n, "username", "\"alice\"");
    assert_val(m, n, "domain", "\"CORP\"");
    assert_val(m, n, "workstation", "\"\"");  /* logged even when the client sent none */
    assert_val(m, n, "method", "\"ntlm\"");
    assert_val(m, n, "hash_format", "\"hashcat:5500\"");
    assert_val(m, n, "hash", "\"alice::CORP:111111111111111111111111111111111111111111111111:"
                             "222222222222222222222222222222222222222222222222:0102030405060708\"");
    assert_val(m, n, "anonymous", "false");
    hp_event_unref(e);

    a.anonymous = true;                       /* nothing to crack: no hash fields */
    hp_ntlm_ev_login(&ev, &ctx, &a, chal);
    n = members(&ev, &e, m);
    assert_int_equal(find(m, n, "hash"), -1);
    assert_int_equal(find(m, n, "hash_format"), -1);
    assert_val(m, n, "anonymous", "true");
    hp_event_unref(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nth),
        cmocka_unit_test(test_event_shared_fields),
        cmocka_unit_test(test_event_binary_password),
        cmocka_unit_test(test_gate_nth_then_pair),
        cmocka_unit_test(test_gate_never_and_separate),
        cmocka_unit_test(test_gate_unknown_password),
        cmocka_unit_test(test_gate_full),
        cmocka_unit_test(test_ntlm_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
