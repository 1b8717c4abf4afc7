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
    const char *bad[] = { "TO:<unclosed@x", "TO:", "FROM:<a@b>", "TO:<a\r@b>", "TO:<<a@b>>", "TO <a@b>" };
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

static void tap(struct hp_event *e, void *arg)
{
    (void)arg;
    const char *k = strstr(e->json, "\"sha256\":\"");
    if (strstr(e->json, "\"eventid\":\"smtp.message\"") && k)
        snprintf(msg_sha, sizeof(msg_sha), "%.64s", k + 10);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
