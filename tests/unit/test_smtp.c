/*
 * test_smtp.c - unit tests for the SMTP module's parsers (src/proto/smtp_parse.c)
 * and its configuration keys (src/proto/smtp.c).
 *
 * Command splitting, MAIL FROM / RCPT TO paths (angle brackets, bare, null
 * path, source routes, parameters, quoted local parts, malformed ones),
 * domains, base64 both ways (padding, junk, room), AUTH PLAIN splitting,
 * the DATA terminator and dot-unstuffing, header lookup with folding and
 * the end of the header section, and configure() accepting and refusing keys.
 * smtp_line's search that goes on where the last one stopped, and the
 * module itself over a socketpair: a DATA body trickled one byte per
 * read costs its length, not its length squared, and gives the message a
 * whole feed gives.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>

#include "buf.h"
#include "config.h"
#include "conn.h"
#include "cpu_time.h"
#include "mod_fixture.h"
#include "event.h"
#include "output.h"
#include "proto.h"
#include "reader.h"
#include "sensor.h"
#include "proto/smtp_parse.h"

static void test_split(void **st)
{
    (void)st;
    struct smtp_cmd c;
    smtp_cmd_split((const uint8_t *)"mail FROM:<a@b>", 15, &c);
    assert_string_equal(c.verb, "MAIL");
    assert_int_equal(c.arglen, 10);
    smtp_cmd_split((const uint8_t *)"STARTTLS", 8, &c);
    assert_string_equal(c.verb, "STARTTLS");
    assert_null(c.arg);
    smtp_cmd_split((const uint8_t *)"AUTH\tPLAIN x", 12, &c);
    assert_string_equal(c.verb, "AUTH");
    assert_memory_equal(c.arg, "PLAIN x", 7);
}

static int path(const char *arg, const char *kw, char *addr, const char **params)
{
    const uint8_t *p = NULL;
    size_t pl = 0;
    int r = smtp_parse_path((const uint8_t *)arg, strlen(arg), kw, addr, SMTP_ADDR_MAX + 1, &p, &pl);
    static char pbuf[256];
    snprintf(pbuf, sizeof(pbuf), "%.*s", (int)pl, p ? (const char *)p : "");
    if (params)
        *params = pbuf;
    return r;
}

static void test_paths(void **st)
{
    (void)st;
    char a[SMTP_ADDR_MAX + 1];
    const char *params;
    assert_int_equal(path("FROM:<spam@example.net> SIZE=1234 BODY=8BITMIME", "FROM:", a, &params), 0);
    assert_string_equal(a, "spam@example.net");
    assert_string_equal(params, "SIZE=1234 BODY=8BITMIME");
    assert_int_equal(path("from: <x@y>", "FROM:", a, NULL), 0);
    assert_string_equal(a, "x@y");
    assert_int_equal(path("FROM:<>", "FROM:", a, NULL), 0);
    assert_string_equal(a, "");
    assert_int_equal(path("TO:bare@host.tld", "TO:", a, NULL), 0);
    assert_string_equal(a, "bare@host.tld");
    assert_int_equal(path("TO:<@relay1,@relay2:user@dest.org>", "TO:", a, NULL), 0);
    assert_string_equal(a, "user@dest.org");
    assert_int_equal(path("TO:<\"a b>c\"@q.org>", "TO:", a, NULL), 0);
    assert_string_equal(a, "\"a b>c\"@q.org");
    /* "<a b@c>", "<a@>", "<@>": Postfix 3.7.11 answers 501 5.1.3 / 5.1.7 (bad address syntax) */
    const char *bad[] = { "TO:<unclosed@x", "TO:", "FROM:<a@b>", "TO:<a\r@b>", "TO:<<a@b>>", "TO <a@b>",
                          "TO:<a b@c>", "TO:<a@>", "TO:<@>" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(path(bad[i], "TO:", a, NULL), -1);
    char big[600];
    memset(big, 'a', sizeof(big));
    memcpy(big, "TO:<", 4);
    big[sizeof(big) - 2] = '>';
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(path(big, "TO:", a, NULL), -1);
}

static void test_domains(void **st)
{
    (void)st;
    assert_string_equal(smtp_addr_domain("a@b@example.com"), "example.com");
    assert_null(smtp_addr_domain("postmaster"));
    assert_null(smtp_addr_domain("x@"));
    assert_true(smtp_domain_eq("Example.COM.", "example.com"));
    assert_false(smtp_domain_eq("example.co", "example.com"));
}

static void test_base64(void **st)
{
    (void)st;
    uint8_t out[64];
    const char *in = "AGJvYgBzZWNyZXQx";
    long n = smtp_b64_decode((const uint8_t *)in, strlen(in), out, sizeof(out));
    assert_int_equal(n, 12);
    assert_memory_equal(out, "\0bob\0secret1", 12);
    assert_int_equal(smtp_b64_decode((const uint8_t *)"Ym9i", 4, out, sizeof(out)), 3);
    assert_int_equal(smtp_b64_decode((const uint8_t *)"Ym9", 3, out, sizeof(out)), 2);
    assert_int_equal(smtp_b64_decode((const uint8_t *)"=", 1, out, sizeof(out)), 0);
    assert_int_equal(smtp_b64_decode((const uint8_t *)"Ym 9i", 5, out, sizeof(out)), -1);
    assert_int_equal(smtp_b64_decode((const uint8_t *)"Yg==Yg", 6, out, sizeof(out)), -1);
    assert_int_equal(smtp_b64_decode((const uint8_t *)"Ym9iYm9i", 8, out, 5), -1);
    char enc[32];
    assert_true(smtp_b64_encode("Username:", 9, enc, sizeof(enc)));
    assert_string_equal(enc, "VXNlcm5hbWU6");
    assert_true(smtp_b64_encode("ab", 2, enc, sizeof(enc)));
    assert_string_equal(enc, "YWI=");
    assert_false(smtp_b64_encode("abcdef", 6, enc, 8));
}

static void test_plain(void **st)
{
    (void)st;
    struct smtp_plain p;
    assert_true(smtp_auth_plain((const uint8_t *)"zid\0user\0pw", 11, &p));
    assert_int_equal(p.authzidlen, 3);
    assert_int_equal(p.userlen, 4);
    assert_memory_equal(p.user, "user", 4);
    assert_int_equal(p.passlen, 2);
    assert_memory_equal(p.pass, "pw", 2);
    assert_true(smtp_auth_plain((const uint8_t *)"\0u\0", 3, &p));
    assert_int_equal(p.passlen, 0);
    assert_false(smtp_auth_plain((const uint8_t *)"user\0pw", 7, &p));
    assert_false(smtp_auth_plain((const uint8_t *)"a\0b\0c\0d", 7, &p));
    assert_false(smtp_auth_plain((const uint8_t *)"", 0, &p));
}

static void test_data_lines(void **st)
{
    (void)st;
    const uint8_t *o;
    size_t n;
    assert_true(smtp_data_line((const uint8_t *)".", 1, &o, &n));
    assert_false(smtp_data_line((const uint8_t *)"..", 2, &o, &n));
    assert_int_equal(n, 1);
    assert_memory_equal(o, ".", 1);
    assert_false(smtp_data_line((const uint8_t *)"..x", 3, &o, &n));
    assert_memory_equal(o, ".x", 2);
    assert_false(smtp_data_line((const uint8_t *)"text", 4, &o, &n));
    assert_int_equal(n, 4);
    assert_false(smtp_data_line((const uint8_t *)"", 0, &o, &n));
    assert_int_equal(n, 0);
}

static void test_line(void **st)
{
    (void)st;
    struct hp_rd r;
    const uint8_t *l;
    size_t n, seen = 0;
    hp_rd_init(&r, "abc", 3);
    assert_false(smtp_line(&r, 100, &seen, &l, &n));
    assert_int_equal(seen, 3);
    assert_int_equal(hp_rd_pos(&r), 0);
    hp_rd_init(&r, "abcd\r\nrest", 10);          /* the same start, more bytes */
    assert_true(smtp_line(&r, 100, &seen, &l, &n));
    assert_int_equal(n, 4);
    assert_memory_equal(l, "abcd", 4);
    assert_int_equal(seen, 0);
    assert_int_equal(hp_rd_pos(&r), 6);
    assert_false(smtp_line(&r, 100, &seen, &l, &n));
    assert_int_equal(seen, 4);
    /* bytes already searched are not searched again (the caller vouches for them) */
    seen = 3;
    hp_rd_init(&r, "a\nbcdef", 7);
    assert_false(smtp_line(&r, 100, &seen, &l, &n));
    assert_int_equal(seen, 7);
    /* at most max bytes; a seen beyond what is there is not trusted */
    seen = 0;
    hp_rd_init(&r, "aaaa\n", 5);
    assert_false(smtp_line(&r, 4, &seen, &l, &n));
    assert_int_equal(seen, 4);
    seen = 9;
    assert_true(smtp_line(&r, 5, &seen, &l, &n));
    assert_int_equal(n, 4);
    assert_int_equal(seen, 0);
}

static void test_header(void **st)
{
    (void)st;
    const char *m = "From: a@b\r\nsubject: Hello\r\n\tworld\r\nX: y\r\n\r\nSubject: not this\r\n";
    char out[64];
    assert_true(smtp_header((const uint8_t *)m, strlen(m), "Subject", out, sizeof(out)));
    assert_string_equal(out, "Hello world");
    assert_true(smtp_header((const uint8_t *)m, strlen(m), "X", out, sizeof(out)));
    assert_string_equal(out, "y");
    assert_false(smtp_header((const uint8_t *)m, strlen(m), "Date", out, sizeof(out)));
    const char *m2 = "Subject: cut";
    assert_true(smtp_header((const uint8_t *)m2, strlen(m2), "Subject", out, 4));
    assert_string_equal(out, "cut");
    assert_false(smtp_header((const uint8_t *)"\r\nSubject: x\r\n", 14, "Subject", out, sizeof(out)));
}

static int load(const char *text, char *err, size_t errlen)
{
    struct hp_config *cfg = hp_config_load_string(text, "t.ini", err, errlen);
    if (!cfg)
        return -1;
    hp_config_free(cfg);
    return 0;
}

static void test_config(void **st)
{
    (void)st;
    char err[256], text[1024];
    const struct hp_proto *p = hp_proto_find("smtp");
    assert_non_null(p);
    assert_string_equal(p->default_tcp_ports, "25");
    const char *head = "[sensor]\nname = t\ndata_dir = /tmp\n[output jsonl]\nenabled = true\n[service s]\nprotocol = smtp\n";
    snprintf(text, sizeof(text), "%sserver = sendmail\nhostname = mx1.example.org\ndomains = example.org example.net\n"
             "open_relay = false\nmax_message = 2M\nmax_rcpt = 5\naccept_after = 3\ntls = false\n", head);
    int rc = load(text, err, sizeof(err));
    if (rc)
        fprintf(stderr, "config error: %s\n", err);
    assert_int_equal(rc, 0);
    const char *bad[] = { "server = qmail\n", "max_message = 10\n", "max_rcpt = 0\n", "hostname = a b\n",
                          "relay = yes\n", "open_relay = maybe\n" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "%s%s", head, bad[i]);
        assert_int_equal(load(text, err, sizeof(err)), -1);
    }
}

/* ---- the module over a socketpair (mod_fixture.h) ---- */

static char msg_sha[80];
static unsigned relay_events, cmd_events;

static void tap(struct hp_event *e, void *arg)
{
    (void)arg;
    const char *k = strstr(e->json, "\"sha256\":\"");
    if (strstr(e->json, "\"eventid\":\"smtp.message\"") && k)
        snprintf(msg_sha, sizeof(msg_sha), "%.64s", k + 10);
    if (strstr(e->json, "\"eventid\":\"smtp.relay_attempt\""))
        relay_events++;
    if (strstr(e->json, "\"eventid\":\"command.input\""))
        cmd_events++;
}

/* A transaction with body (ending in the terminator), fed whole or one
 * byte per read: the CPU the body took, the message's SHA-256 in sha. */
static double mod_message(const uint8_t *body, size_t n, bool trickle, char *sha, size_t shalen)
{
    struct mod m;
    mod_open(&m, "smtp", "protocol = smtp\nserver = postfix\nhostname = mx.example.org\ntls = false\n"
                     "max_message = 4M\n");
    static const char head[] = "EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n";
    mod_feed(&m, head, strlen(head));
    mod_recv(&m, NULL, SIZE_MAX);
    msg_sha[0] = '\0';
    double t0 = test_cpu_s();
    if (trickle)
        for (size_t i = 0; i < n; i++)
            mod_feed(&m, body + i, 1);
    else
        mod_feed(&m, body, n);
    double cpu = test_cpu_s() - t0;
    assert_int_equal(m.in.len, 0);
    assert_int_equal(strlen(msg_sha), 64);
    snprintf(sha, shalen, "%s", msg_sha);
    mod_close(&m);
    return cpu;
}

/*
 * A body line without CRLF sent one byte per segment: every read searched
 * the whole buffered line again for its end (up to SMTP_DATA_LINE, 64 KiB),
 * 2 GiB of memchr per 64 KiB piece.  glibc's memchr is fast enough that
 * this cost "only" about 9 times what the same bytes in short lines cost
 * (0.72 s against 0.08 s for 2.5 MB here); now the two cost the same.  The
 * messages are those a whole feed gives.
 */
static void test_module_trickled_data(void **st)
{
    (void)st;
    static uint8_t lng[5 << 19], shrt[5 << 19];
    memset(lng, 'a', sizeof(lng));
    memcpy(lng + 100000, "\r\n..x\r\n", 7);              /* a dot-stuffed line between two long ones */
    memcpy(lng + sizeof(lng) - 5, "\r\n.\r\n", 5);
    for (size_t i = 0; i < sizeof(shrt); i++)
        shrt[i] = i % 80 == 78 ? '\r' : i % 80 == 79 ? '\n' : 'b';
    memcpy(shrt + sizeof(shrt) - 5, "\r\n.\r\n", 5);
    char whole[80], trickled[80];
    mod_message(lng, sizeof(lng), false, whole, sizeof(whole));
    double cpu_long = mod_message(lng, sizeof(lng), true, trickled, sizeof(trickled));
    assert_string_equal(whole, trickled);
    mod_message(shrt, sizeof(shrt), false, whole, sizeof(whole));
    double cpu_short = mod_message(shrt, sizeof(shrt), true, trickled, sizeof(trickled));
    assert_string_equal(whole, trickled);
    assert_true(cpu_long < 3 * cpu_short + 0.05);
}

/* ---- the Postfix personality against the real one ---- */

/*
 * Each dialogue below was sent, on a fresh connection, to Postfix 3.7.11
 * (Debian 12, postfix 3.7.11-0+deb12u1, Debian's main.cf: compatibility
 * 3.6, smtpd_relay_restrictions ... defer_unauth_destination, Cyrus SASL
 * PLAIN LOGIN; myhostname mx.example.org) and the answers after the banner
 * are its bytes, except that STARTTLS is missing from EHLO here (no TLS in
 * unit tests).  The probes are what nmap (smtp-commands, smtp-open-relay,
 * -sV's GetRequest), hydra and spam bots send; every one of them was
 * answered otherwise before, which tells a scanner that this is no Postfix.
 */
#define PF_BANNER "220 mx.example.org ESMTP Postfix (Debian/GNU)\r\n"
#define PF_EHLO "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n" \
                "250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n" \
                "250 CHUNKING\r\n"

/* in fed whole to a Postfix with open_relay = false; what it answered
 * after the banner in out (cut at QID, the random queue id); closed: it
 * hung up. */
static void pf_dialogue(const char *in, size_t inlen, char *out, size_t outlen, bool *closed)
{
    struct mod m;
    static uint8_t ans[1 << 16];
    mod_open(&m, "smtp", "protocol = smtp\nserver = postfix\nhostname = mx.example.org\nopen_relay = false\n");
    struct event_base *base = event_base_new();
    m.c.ev_read = event_new(base, -1, 0, NULL, NULL);   /* hp_conn_close takes it off the loop */
    m.c.busy = 1;                                       /* and frees nothing: mod_close does */
    mod_feed(&m, in, inlen);
    size_t n = mod_recv(&m, ans, sizeof(ans) - 1);
    ans[n] = '\0';
    assert_true(n >= strlen(PF_BANNER));
    assert_memory_equal(ans, PF_BANNER, strlen(PF_BANNER));
    snprintf(out, outlen, "%s", (const char *)ans + strlen(PF_BANNER));
    *closed = (m.c.flags & HP_CONN_CLOSING) != 0;
    event_free(m.c.ev_read);
    m.c.ev_read = NULL;
    event_base_free(base);
    mod_close(&m);
}

static void pf_expect(const char *in, const char *want, bool want_closed)
{
    char out[1 << 16];
    bool closed;
    pf_dialogue(in, strlen(in), out, sizeof(out), &closed);
    if (strcmp(out, want) != 0 || closed != want_closed)
        fprintf(stderr, "probe %s\n  got  %s\n  want %s\n", in, out, want);
    assert_string_equal(out, want);
    assert_int_equal(closed, want_closed);
}

/* EHLO (nmap smtp-commands): Postfix 3.4+ ends with CHUNKING, and takes BDAT */
static void test_postfix_ehlo_bdat(void **st)
{
    (void)st;
    pf_expect("EHLO client.example\r\n", PF_EHLO, false);
    char out[4096];
    bool closed;
    msg_sha[0] = '\0';
    static const char two[] = "EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<root@mx.example.org>\r\n"
                              "BDAT 7\r\nhello\r\nBDAT 0 LAST\r\n";
    pf_dialogue(two, strlen(two), out, sizeof(out), &closed);
    const char *want = PF_EHLO "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: 7 bytes\r\n250 2.0.0 Ok: 7 bytes queued as ";
    assert_memory_equal(out, want, strlen(want));
    assert_int_equal(strlen(msg_sha), 64);                  /* the message is kept: smtp.message */
    /* a last chunk without CRLF: Postfix counts the CRLF it adds */
    static const char one[] = "EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<root@mx.example.org>\r\nBDAT 5 LAST\r\nhello";
    pf_dialogue(one, strlen(one), out, sizeof(out), &closed);
    want = PF_EHLO "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: 7 bytes queued as ";
    assert_memory_equal(out, want, strlen(want));
    /* chunks without their LAST are kept as a message cut short, as DATA's */
    msg_sha[0] = '\0';
    static const char cut[] = "EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<root@mx.example.org>\r\nBDAT 3\r\nabc";
    pf_dialogue(cut, strlen(cut), out, sizeof(out), &closed);
    assert_int_equal(strlen(msg_sha), 64);
    pf_expect("EHLO x\r\nBDAT 3\r\nabcNOOP\r\n", PF_EHLO "503 5.5.1 Error: need RCPT command\r\n250 2.0.0 Ok\r\n", false);
    pf_expect("EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<root@mx.example.org>\r\nBDAT x\r\n",
              PF_EHLO "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n521 5.5.4 Syntax: BDAT count [LAST]\r\n", true);
    pf_expect("EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<root@mx.example.org>\r\nBDAT 3\r\nabcDATA\r\n",
              PF_EHLO "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: 3 bytes\r\n503 5.5.1 Error: DATA after BDAT\r\n", false);
}

/* HELP and EXPN are no Postfix commands (nmap smtp-commands sends HELP);
 * HTTP (nmap -sV's GetRequest) and TLS bytes are smtpd_forbidden_commands;
 * an empty line is bad syntax */
static void test_postfix_unknown_forbidden(void **st)
{
    (void)st;
    pf_expect("HELP\r\nEXPN root\r\nFOO bar\r\n\r\n",
              "500 5.5.2 Error: command not recognized\r\n500 5.5.2 Error: command not recognized\r\n"
              "500 5.5.2 Error: command not recognized\r\n500 5.5.2 Error: bad syntax\r\n", false);
    const char *forbidden[] = { "GET / HTTP/1.0\r\n\r\n", "post / HTTP/1.0\r\n", "CONNECT 1.2.3.4:25 HTTP/1.0\r\n",
                                "123 foo\r\n", "\x16\x03\x01 x\r\n" };
    for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
        cmd_events = 0;
        pf_expect(forbidden[i], "221 2.7.0 Error: I can break rules, too. Goodbye.\r\n", true);
        assert_int_equal(cmd_events, 1);            /* the request line is still recorded */
    }
}

/* smtpd_helo_required = no: MAIL and AUTH before EHLO are taken; DATA
 * looks at the recipients first */
static void test_postfix_order(void **st)
{
    (void)st;
    pf_expect("MAIL FROM:<a@b.example>\r\n", "250 2.1.0 Ok\r\n", false);
    pf_expect("AUTH LOGIN\r\nYQ==\r\nYQ==\r\n", "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n"
              "535 5.7.8 Error: authentication failed: authentication failure\r\n", false);
    pf_expect("DATA\r\n", "503 5.5.1 Error: need RCPT command\r\n", false);
    pf_expect("EHLO x\r\nMAIL FROM:<a@b.example>\r\nDATA\r\n",
              PF_EHLO "250 2.1.0 Ok\r\n554 5.5.1 Error: no valid recipients\r\n", false);
}

/* MAIL FROM / RCPT TO variants of spam bots and checkers */
static void test_postfix_paths(void **st)
{
    (void)st;
    pf_expect("EHLO x\r\nMAIL FROM:\r\nMAIL TO:<a@b>\r\nMAIL FROM:<a@b.example> FOO=bar\r\n"
              "MAIL FROM:<a@b.example> SIZE=abc\r\nMAIL FROM:<a@>\r\nMAIL FROM:<@>\r\nMAIL FROM:<a b@c>\r\n"
              "MAIL FROM:<a@b.example> SIZE=999999999\r\nMAIL FROM:<a@b.example> BODY=8BITMIME SMTPUTF8\r\n"
              "RCPT TO:\r\nRCPT TO:<root@mx.example.org> FOO=1\r\nRCPT TO:<root@mx.example.org> NOTIFY=NEVER\r\n",
              PF_EHLO "501 5.5.4 Syntax: MAIL FROM:<address>\r\n501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
              "555 5.5.4 Unsupported option: FOO=bar\r\n501 5.5.4 Bad message size syntax\r\n"
              "501 5.1.7 Bad sender address syntax\r\n501 5.1.7 Bad sender address syntax\r\n"
              "501 5.1.7 Bad sender address syntax\r\n552 5.3.4 Message size exceeds fixed limit\r\n"
              "250 2.1.0 Ok\r\n501 5.5.4 Syntax: RCPT TO:<address>\r\n555 5.5.4 Unsupported option: FOO=1\r\n"
              "250 2.1.5 Ok\r\n", false);
}

/* nmap smtp-open-relay's tricks: all refused as Debian's Postfix does
 * (defer_unauth_destination: 454), each one an smtp.relay_attempt */
static void test_postfix_relay(void **st)
{
    (void)st;
    relay_events = 0;
    pf_expect("EHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<victim@gmail.com>\r\n"
              "RCPT TO:<victim%gmail.com@mx.example.org>\r\nRCPT TO:<victim@gmail.com@mx.example.org>\r\n"
              "RCPT TO:<@mx.example.org:victim@gmail.com>\r\nRCPT TO:<nmap.scanme.org!relaytest@mx.example.org>\r\n"
              "RCPT TO:<nmap.scanme.org!relaytest>\r\nRCPT TO:<root@mx.example.org>\r\n",
              PF_EHLO "250 2.1.0 Ok\r\n454 4.7.1 <victim@gmail.com>: Relay access denied\r\n"
              "454 4.7.1 <victim%gmail.com@mx.example.org>: Relay access denied\r\n"
              "454 4.7.1 <victim@gmail.com@mx.example.org>: Relay access denied\r\n"
              "454 4.7.1 <victim@gmail.com>: Relay access denied\r\n"
              "454 4.7.1 <nmap.scanme.org!relaytest@mx.example.org>: Relay access denied\r\n"
              "454 4.7.1 <nmap.scanme.org!relaytest>: Relay access denied\r\n250 2.1.5 Ok\r\n", false);
    assert_int_equal(relay_events, 6);
}

/* arguments where Postfix wants none or one, AUTH's Cyrus SASL texts,
 * ETRN, XCLIENT, and a line past line_length_limit (cut, its rest dropped) */
static void test_postfix_syntax(void **st)
{
    (void)st;
    pf_expect("EHLO x\r\nRSET x\r\nSTARTTLS foo\r\nVRFY\r\nVRFY a b\r\nAUTH\r\nAUTH CRAM-MD5\r\nAUTH PLAIN !!!!\r\n"
              "AUTH LOGIN\r\n!!!\r\nETRN\r\nETRN @x.org\r\nXCLIENT NAME=x\r\nNOOP hello\r\n",
              PF_EHLO "501 5.5.4 Syntax: RSET\r\n501 5.5.4 Syntax: STARTTLS\r\n"
              "501 5.5.4 Syntax: VRFY address [SMTPUTF8]\r\n501 5.1.3 Bad recipient address syntax\r\n"
              "501 5.5.4 Syntax: AUTH mechanism\r\n535 5.7.8 Error: authentication failed: no mechanism available\r\n"
              "535 5.7.8 Error: authentication failed: bad protocol / cancel\r\n334 VXNlcm5hbWU6\r\n"
              "535 5.7.8 Error: authentication failed: another step is needed in authentication\r\n"
              "500 Syntax: ETRN domain\r\n459 <x.org>: service unavailable\r\n"
              "550 5.7.0 Error: insufficient authorization\r\n250 2.0.0 Ok\r\n", false);
    static char lng[2200];
    memset(lng, 'a', sizeof(lng));
    memcpy(lng, "EHLO x\r\nNOOP ", 13);
    memcpy(lng + sizeof(lng) - 9, "\r\nNOOP\r\n", 9);
    char out[4096];
    bool closed;
    pf_dialogue(lng, sizeof(lng) - 1, out, sizeof(out), &closed);
    assert_string_equal(out, PF_EHLO "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
}

/* Exim 4.96 (Debian 12, exim4-daemon-light 4.96-15+deb12u11) refuses a HELO
 * name that is no host name ("EHLO a b c", what some bots send); hanipo's
 * Exim greeted it */
static void test_exim_helo_syntax(void **st)
{
    (void)st;
    const char *in[] = { "EHLO a b c\r\n", "EHLO <>!@#\r\n", "HELO x_y\r\n" };
    const char *want[] = { "501 Syntactically invalid EHLO argument(s)\r\n", "501 Syntactically invalid EHLO argument(s)\r\n",
                           "501 Syntactically invalid HELO argument(s)\r\n" };
    for (size_t i = 0; i < 4; i++) {
        struct mod m;
        char ans[4096];
        mod_open(&m, "smtp", "protocol = smtp\nserver = exim\nversion = 4.96\nhostname = mx.example.org\ntls = false\n");
        size_t n = mod_recv(&m, (uint8_t *)ans, sizeof(ans) - 1);
        ans[n] = '\0';
        assert_non_null(strstr(ans, "220 mx.example.org ESMTP Exim 4.96 "));
        const char *line = i < 3 ? in[i] : "EHLO [1.2.3.4]\r\n";
        mod_feed(&m, line, strlen(line));
        n = mod_recv(&m, (uint8_t *)ans, sizeof(ans) - 1);
        ans[n] = '\0';
        if (i < 3)
            assert_string_equal(ans, want[i]);
        else
            assert_non_null(strstr(ans, "250-mx.example.org Hello [1.2.3.4] ["));
        mod_close(&m);
    }
}

int main(void)
{
    hp_output_set_tap(tap, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_domains),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_data_lines),
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_module_trickled_data),
        cmocka_unit_test(test_postfix_ehlo_bdat),
        cmocka_unit_test(test_postfix_unknown_forbidden),
        cmocka_unit_test(test_postfix_order),
        cmocka_unit_test(test_postfix_paths),
        cmocka_unit_test(test_postfix_relay),
        cmocka_unit_test(test_postfix_syntax),
        cmocka_unit_test(test_exim_helo_syntax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
