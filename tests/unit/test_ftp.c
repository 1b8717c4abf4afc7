/*
 * test_ftp.c - unit tests for the FTP module's parsers and answer builders
 * (src/proto/ftp_parse.c) and its configuration keys (src/proto/ftp.c).
 *
 * Command splitting (verb case, cut verbs, arguments with trailing blanks),
 * PORT and EPRT (valid, out of range, junk, other delimiters, IPv6 and an
 * unknown family), the same-address check used against FTP bounce (IPv4
 * against IPv4-mapped IPv6), the listing lines of each style (vsftpd's
 * numeric ids and zero-padded day, names, DOS for Microsoft, old files with
 * the year, setuid/sticky letters), MLSD facts, MDTM, path arguments with
 * control bytes refused, and configure() accepting and refusing keys.
 *
 * Then the module itself over a socketpair (mod_fixture.h), claiming vsftpd
 * 3.0.3: every expected reply below is the byte-exact answer of the real
 * vsftpd 3.0.3-13+b2 (Debian 12, anonymous_enable=YES, a local user,
 * listen=YES) to the same probe, sent by a differential generator.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>
#include <event2/event.h>

#include "mod_fixture.h"
#include "output.h"
#include "buf.h"
#include "config.h"
#include "proto.h"
#include "proto/ftp_parse.h"
#include "shell/vfs.h"

static void split(const char *s, struct ftp_cmd *c)
{
    ftp_cmd_split((const uint8_t *)s, strlen(s), c);
}

static void test_split(void **st)
{
    (void)st;
    struct ftp_cmd c;
    split("user anonymous", &c);
    assert_string_equal(c.verb, "USER");
    assert_int_equal(c.arglen, 9);
    assert_memory_equal(c.arg, "anonymous", 9);
    split("STOR name with spaces  ", &c);
    assert_string_equal(c.verb, "STOR");
    assert_int_equal(c.arglen, strlen("name with spaces  "));
    split("PWD", &c);
    assert_string_equal(c.verb, "PWD");
    assert_null(c.arg);
    assert_int_equal(c.arglen, 0);
    split("ABCDEFGHIJKL x", &c);
    assert_true(c.verb_cut);
    assert_int_equal(strlen(c.verb), FTP_VERB_MAX - 1);
    split("", &c);
    assert_string_equal(c.verb, "");
    split("   noop", &c);
    assert_string_equal(c.verb, "NOOP");
}

static int port_of(const char *s, char *ip, unsigned *port)
{
    struct sockaddr_storage ss;
    int r = ftp_parse_port((const uint8_t *)s, strlen(s), &ss);
    if (r == 0) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, ip, 64);
        *port = ntohs(in->sin_port);
    }
    return r;
}

static void test_port(void **st)
{
    (void)st;
    char ip[64];
    unsigned port;
    assert_int_equal(port_of("10,1,2,3,4,5", ip, &port), 0);
    assert_string_equal(ip, "10.1.2.3");
    assert_int_equal(port, 4 * 256 + 5);
    assert_int_equal(port_of("127,0,0,1,255,255", ip, &port), 0);
    assert_int_equal(port, 65535);
    assert_int_equal(port_of("256,0,0,1,0,80", ip, &port), -1);
    assert_int_equal(port_of("1,2,3,4,5", ip, &port), -1);
    assert_int_equal(port_of("1,2,3,4,5,6,7", ip, &port), -1);
    assert_int_equal(port_of("1,2,3,4,5,x", ip, &port), -1);
    assert_int_equal(port_of("", ip, &port), -1);
    assert_int_equal(port_of("1111,2,3,4,5,6", ip, &port), -1);
}

static void test_eprt(void **st)
{
    (void)st;
    struct sockaddr_storage ss;
    const char *a = "|1|192.168.7.9|5282|";
    assert_int_equal(ftp_parse_eprt((const uint8_t *)a, strlen(a), &ss), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 5282);
    a = "!2!::1!40000!";
    assert_int_equal(ftp_parse_eprt((const uint8_t *)a, strlen(a), &ss), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    a = "|3|x|1|";
    assert_int_equal(ftp_parse_eprt((const uint8_t *)a, strlen(a), &ss), -2);
    const char *bad[] = { "", "|", "|1|", "|1|1.2.3.4|", "|1|1.2.3.4|0|", "|1|1.2.3.4|70000|",
                          "|1|999.1.1.1|21|", "|2|1.2.3.4|21|", "|1|1.2.3.4|21", " |1|1.2.3.4|21| " };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ftp_parse_eprt((const uint8_t *)bad[i], strlen(bad[i]), &ss) == 0, 0);
}

static void test_same_ip(void **st)
{
    (void)st;
    struct sockaddr_storage a, b, c;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&c, 0, sizeof(c));
    struct sockaddr_in *a4 = (struct sockaddr_in *)&a;
    a4->sin_family = AF_INET;
    inet_pton(AF_INET, "203.0.113.5", &a4->sin_addr);
    struct sockaddr_in6 *b6 = (struct sockaddr_in6 *)&b;
    b6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:203.0.113.5", &b6->sin6_addr);
    struct sockaddr_in6 *c6 = (struct sockaddr_in6 *)&c;
    c6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2001:db8::5", &c6->sin6_addr);
    assert_true(ftp_same_ip(&a, &b));
    assert_true(ftp_same_ip(&b, &a));
    assert_false(ftp_same_ip(&a, &c));
    assert_true(ftp_same_ip(&c, &c));
    uint32_t ip;
    assert_true(ftp_ipv4_of(&b, &ip));
    assert_int_equal(ip, 0xcb007105u);
    assert_false(ftp_ipv4_of(&c, &ip));
}

static void test_list_lines(void **st)
{
    (void)st;
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    struct sh_stat s = { .type = SH_FT_REG, .mode = 0644, .uid = 1000, .gid = 1000, .nlink = 1, .size = 123,
                         .mtime = 1764846000 /* 2025-12-04 11:00:00 UTC */ };
    int64_t now = 1764846000 + 86400;
    ftp_list_line(&b, FTP_LIST_UNIX_IDS, "a.txt", &s, "bob", "bob", now);
    assert_string_equal(hp_buf_cstr(&b), "-rw-r--r--    1 1000     1000          123 Dec 04 11:00 a.txt\r\n");
    hp_buf_reset(&b);
    ftp_list_line(&b, FTP_LIST_UNIX_NAMES, "a.txt", &s, "bob", "users", now);
    assert_string_equal(hp_buf_cstr(&b), "-rw-r--r--   1 bob      users         123 Dec  4 11:00 a.txt\r\n");
    hp_buf_reset(&b);
    ftp_list_line(&b, FTP_LIST_UNIX_NAMES, "old", &s, NULL, NULL, now + 400 * 86400);
    assert_string_equal(hp_buf_cstr(&b), "-rw-r--r--   1 1000     1000          123 Dec  4  2025 old\r\n");
    hp_buf_reset(&b);
    struct sh_stat d = { .type = SH_FT_DIR, .mode = 01777, .nlink = 4, .size = 4096, .mtime = 1764846000 + 3600 * 3 };
    ftp_list_line(&b, FTP_LIST_UNIX_IDS, "tmp", &d, NULL, NULL, now);
    assert_string_equal(hp_buf_cstr(&b), "drwxrwxrwt    4 0        0            4096 Dec 04 14:00 tmp\r\n");
    hp_buf_reset(&b);
    ftp_list_line(&b, FTP_LIST_DOS, "tmp", &d, NULL, NULL, now);
    assert_string_equal(hp_buf_cstr(&b), "12-04-25  02:00PM       <DIR>          tmp\r\n");
    hp_buf_reset(&b);
    ftp_list_line(&b, FTP_LIST_DOS, "a.txt", &s, NULL, NULL, now);
    assert_string_equal(hp_buf_cstr(&b), "12-04-25  11:00AM                  123 a.txt\r\n");
    hp_buf_reset(&b);
    struct sh_stat su = { .type = SH_FT_REG, .mode = 04755, .nlink = 1, .size = 1, .mtime = 0 };
    ftp_list_line(&b, FTP_LIST_UNIX_NAMES, "su", &su, "root", "root", now);
    assert_memory_equal(hp_buf_cstr(&b), "-rwsr-xr-x", 10);
    hp_buf_reset(&b);
    ftp_mlsd_line(&b, "a.txt", &s);
    assert_string_equal(hp_buf_cstr(&b),
                        "type=file;size=123;modify=20251204110000;UNIX.mode=0644;UNIX.uid=1000;UNIX.gid=1000; a.txt\r\n");
    char t[20];
    ftp_mdtm(0, t, sizeof(t));
    assert_string_equal(t, "19700101000000");
    hp_buf_free(&b);
}

static void test_arg_path(void **st)
{
    (void)st;
    char out[64];
    assert_true(ftp_arg_path((const uint8_t *)"a b.txt", 7, out, sizeof(out)));
    assert_string_equal(out, "a b.txt");
    assert_false(ftp_arg_path((const uint8_t *)"a\0b", 3, out, sizeof(out)));
    assert_false(ftp_arg_path((const uint8_t *)"a\rb", 3, out, sizeof(out)));
    char big[2000];
    memset(big, 'x', sizeof(big));
    assert_true(ftp_arg_path((const uint8_t *)big, sizeof(big), out, sizeof(out)));
    assert_int_equal(strlen(out), sizeof(out) - 1);
}

static int configure_with(const char *text, char *err, size_t errlen)
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
    char err[256];
    const struct hp_proto *p = hp_proto_find("ftp");
    assert_non_null(p);
    assert_string_equal(p->default_tcp_ports, "21");
    const char *head = "[sensor]\nname = t\ndata_dir = /tmp\n[output jsonl]\nenabled = true\n[service f]\nprotocol = ftp\n";
    char text[1024];
    snprintf(text, sizeof(text), "%sserver = proftpd\nversion = 1.3.8\naccept_after = 2\nanonymous = no\n"
             "pasv_ports = 40000-40100\npasv_address = 198.51.100.7\nmax_capture = 1M\ndata_timeout = 10s\n", head);
    int rc = configure_with(text, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "config error: %s\n", err);
    assert_int_equal(rc, 0);
    const char *bad[] = { "server = wu-ftpd\n", "pasv_ports = 10-20\n", "pasv_address = nowhere\n",
                          "max_auth_tries = 0\n", "colour = blue\n", "personality = windows\n" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "%s%s", head, bad[i]);
        err[0] = '\0';
        assert_int_equal(configure_with(text, err, sizeof(err)), -1);
        assert_true(err[0] != '\0');
    }
}


/* ---- the module claiming vsftpd 3.0.3, against the real server's bytes ---- */

static unsigned n_inputs;
static char last_input_verb[16];

static void tap(struct hp_event *e, void *arg)
{
    (void)arg;
    const char *v = strstr(e->json, "\"command\":\"");
    if (strstr(e->json, "\"eventid\":\"command.input\"")) {
        n_inputs++;
        snprintf(last_input_verb, sizeof(last_input_verb), "%.*s", v ? (int)strcspn(v + 11, "\"") : 0,
                 v ? v + 11 : "");
    }
}

#define VSFTPD "protocol = ftp\nserver = vsftpd\nversion = 3.0.3\n"

static void vs_open(struct mod *m, const char *extra)
{
    char svc[512];
    snprintf(svc, sizeof(svc), VSFTPD "%s", extra);
    mod_open(m, "ftp", svc);
    snprintf(m->c.ctx.src_ip, sizeof(m->c.ctx.src_ip), "127.0.0.1");
    m->svc.active = 1;
    uint8_t ans[64] = { 0 };
    mod_recv(m, ans, sizeof(ans) - 1);
    assert_string_equal((char *)ans, "220 (vsFTPd 3.0.3)\r\n");
}

/* Send one line (CRLF added), expect exactly 'want' back. */
static void ask(struct mod *m, const char *line, const char *want)
{
    char buf[8192];
    uint8_t ans[8192] = { 0 };
    snprintf(buf, sizeof(buf), "%s\r\n", line);
    mod_feed(m, buf, strlen(buf));
    mod_recv(m, ans, sizeof(ans) - 1);
    if (strcmp((char *)ans, want) != 0)
        fprintf(stderr, "%s -> %s (want %s)\n", line, (char *)ans, want);
    assert_string_equal((char *)ans, want);
}

static void test_vsftpd_prelogin(void **st)
{
    (void)st;
    struct mod m;
    vs_open(&m, "auth_fail_delay = 0\n");
    ask(&m, "OPTS UTF8 OFF", "501 Option not understood.\r\n");        /* only "UTF8 ON" is known */
    ask(&m, "OPTS", "501 Option not understood.\r\n");
    ask(&m, "opts utf8 on", "200 Always in UTF8 mode.\r\n");
    ask(&m, " USER x", "530 Please login with USER and PASS.\r\n");     /* no blank skipping: empty verb */
    ask(&m, "XYZWABCDEFGHIJ x", "530 Please login with USER and PASS.\r\n"); /* long verbs: 530, not 500 */
    ask(&m, "STAT", "530 Please login with USER and PASS.\r\n");
    ask(&m, "USER", "331 Please specify the password.\r\n");             /* an empty USER is no user */
    ask(&m, "PASS x", "503 Login with USER first.\r\n");
    mod_close(&m);
}

/* hydra/medusa: the real server answers a wrong password after ~3 s
 * (delay_failed_login + PAM); commands sent meanwhile wait behind it. */
static void test_vsftpd_fail_delay(void **st)
{
    (void)st;
    struct mod m;
    uint8_t ans[256] = { 0 };
    vs_open(&m, "");
    ask(&m, "USER root", "331 Please specify the password.\r\n");
    ask(&m, "PASS toor\r\nUSER root", "");
    m.p->on_timer(&m.c);
    mod_feed(&m, "", 0);                       /* the core offers the waiting input again */
    mod_recv(&m, ans, sizeof(ans) - 1);
    assert_string_equal((char *)ans, "530 Login incorrect.\r\n331 Please specify the password.\r\n");
    mod_close(&m);
}

static void test_vsftpd_anonymous(void **st)
{
    (void)st;
    struct mod m;
    vs_open(&m, "");
    ask(&m, "USER anonymous", "331 Please specify the password.\r\n");
    ask(&m, "PASS x@y", "230 Login successful.\r\n");
    /* nmap ftp-syst sends STAT after SYST */
    ask(&m, "STAT", "211-FTP server status:\r\n     Connected to 127.0.0.1\r\n     Logged in as ftp\r\n"
                    "     TYPE: ASCII\r\n     No session bandwidth limit\r\n     Session timeout in seconds is 300\r\n"
                    "     Control connection is plain text\r\n     Data connections will be plain text\r\n"
                    "     At session startup, client count was 1\r\n     vsFTPd 3.0.3 - secure, fast, stable\r\n"
                    "211 End of status\r\n");
    ask(&m, "STAT /nonexist", "213-Status follows:\r\n213 End of status\r\n");
    ask(&m, "SITE HELP", "550 Permission denied.\r\n");
    ask(&m, "SITE CPFR /etc/passwd", "550 Permission denied.\r\n");
    ask(&m, "PBSZ 0", "550 Permission denied.\r\n");
    ask(&m, "PROT P", "550 Permission denied.\r\n");
    ask(&m, "ACCT x", "502 ACCT not implemented.\r\n");
    ask(&m, "REIN", "502 REIN not implemented.\r\n");
    ask(&m, "SMNT x", "502 SMNT not implemented.\r\n");
    ask(&m, "USER ftp", "530 Can't change from guest user.\r\n");
    ask(&m, "OPTS UTF8 OFF", "501 Option not understood.\r\n");
    ask(&m, "EPSV 2", "522 Bad network protocol.\r\n");
    ask(&m, "EPRT |3|x|1|", "500 Bad EPRT protocol.\r\n");
    ask(&m, "EPRT |2|::1|4000|", "500 Bad EPRT protocol.\r\n");
    ask(&m, "EPRT", "500 Bad EPRT protocol.\r\n");
    ask(&m, "CWD", "550 Failed to change directory.\r\n");
    ask(&m, "REST -5", "350 Restart position accepted (0).\r\n");
    ask(&m, "REST 1234567890123456", "350 Restart position accepted (0).\r\n");
    ask(&m, " NOOP", "500 Unknown command.\r\n");
    mod_close(&m);
}

static void test_vsftpd_local_user(void **st)
{
    (void)st;
    struct mod m;
    vs_open(&m, "accept_after = 1\n");
    ask(&m, "USER ftpdiffu", "331 Please specify the password.\r\n");
    ask(&m, "PASS S3cretPw1", "230 Login successful.\r\n");
    ask(&m, "SITE HELP", "214 CHMOD UMASK HELP\r\n");
    ask(&m, "site help x", "214 CHMOD UMASK HELP\r\n");
    ask(&m, "SITE CPFR /etc/passwd", "500 Unknown SITE command.\r\n");   /* ProFTPD mod_copy probe */
    ask(&m, "SITE EXEC id", "500 Unknown SITE command.\r\n");
    ask(&m, "SITE", "500 Unknown SITE command.\r\n");
    ask(&m, "SITE CHMOD 755", "500 SITE CHMOD needs 2 arguments.\r\n");
    ask(&m, "SITE CHMOD 755 nonexist", "550 SITE CHMOD command failed.\r\n");
    ask(&m, "SITE UMASK", "200 Your current UMASK is 077\r\n");
    ask(&m, "SITE UMASK 7777", "200 UMASK set to 0777\r\n");
    ask(&m, "SITE UMASK abc", "200 UMASK set to 0\r\n");
    ask(&m, "SITE UMASK", "200 Your current UMASK is 0\r\n");
    ask(&m, "SITE UMASK 022", "200 UMASK set to 022\r\n");
    ask(&m, "USER ftpdiffu", "331 Any password will do.\r\n");
    ask(&m, "USER other", "530 Can't change to another user.\r\n");
    mod_close(&m);
}

/* Lines up to 4096 bytes ('\n' included) are one command; a longer one is
 * "500 Input line too long." and the end, and is still recorded. */
static void test_vsftpd_long_lines(void **st)
{
    (void)st;
    struct mod m;
    char line[4200];
    vs_open(&m, "");
    snprintf(line, sizeof(line), "NOOP %04089d", 0);                 /* 4094 + CRLF */
    ask(&m, line, "530 Please login with USER and PASS.\r\n");
    n_inputs = 0;
    /* the module closes the connection: give the fixture's one what hp_conn_close touches,
     * and keep it from being freed (as conn.c does while a callback runs) */
    m.c.ev_read = event_new(hp_sensor.base, -1, 0, NULL, NULL);
    m.c.busy++;
    snprintf(line, sizeof(line), "NOOP %04091d", 0);                 /* 4096, no '\n' yet */
    uint8_t ans[64] = { 0 };
    mod_feed(&m, line, strlen(line));
    mod_recv(&m, ans, sizeof(ans) - 1);
    assert_string_equal((char *)ans, "500 Input line too long.\r\n");
    assert_int_equal(n_inputs, 1);
    assert_string_equal(last_input_verb, "NOOP");
    assert_true(m.c.flags & HP_CONN_CLOSING);
    event_free(m.c.ev_read);
    mod_close(&m);
}

/* Debian 12's proftpd-core 1.3.8+dfsg-4+deb12u5 (default proftpd.conf, no
 * mod_tls): no version in the banner, unknown verbs (AUTH TLS from curl and
 * lftp included) are 500 before login too, and a few commands need no login. */
static void test_proftpd_prelogin(void **st)
{
    (void)st;
    struct mod m;
    uint8_t ans[128] = { 0 };
    mod_open(&m, "ftp", "protocol = ftp\nserver = proftpd\nversion = 1.3.8\n");
    snprintf(m.c.ctx.dst_ip, sizeof(m.c.ctx.dst_ip), "127.31.7.11");
    m.p->on_close(&m.c);                        /* accepted again, now that the local address is set */
    memset(m.c.pstate, 0, m.p->conn_state_size);
    mod_recv(&m, NULL, SIZE_MAX);
    m.p->on_accept(&m.c);
    mod_recv(&m, ans, sizeof(ans) - 1);
    assert_non_null(strstr((char *)ans, "220 ProFTPD Server (Debian) [127.31.7.11]\r\n"));
    ask(&m, "AUTH TLS", "500 AUTH not understood\r\n");
    ask(&m, "PBSZ 0", "500 PBSZ not understood\r\n");
    ask(&m, "FOO", "500 FOO not understood\r\n");
    ask(&m, " ", "500 Invalid command: try being more creative\r\n");
    ask(&m, "OPTS UTF8 ON", "200 UTF8 set to on\r\n");
    ask(&m, "OPTS utf8 off", "200 UTF8 set to off\r\n");
    ask(&m, "OPTS", "501 Invalid number of parameters\r\n");
    ask(&m, "OPTS UTF8", "501 'OPTS UTF8' not understood\r\n");
    ask(&m, "OPTS FOO", "500 OPTS FOO not understood\r\n");
    ask(&m, "CLNT x", "200 OK\r\n");
    ask(&m, "HOST example.com", "504 example.com: Unknown hostname provided\r\n");
    ask(&m, "HOST 127.31.7.11", "220 HOST command successful\r\n");
    ask(&m, "TYPE I", "200 Type set to I\r\n");
    ask(&m, "ACCT x", "502 ACCT command not implemented\r\n");
    ask(&m, "MODE S", "530 Please login with USER and PASS\r\n");
    ask(&m, "SITE CPFR /etc/passwd", "530 Please login with USER and PASS\r\n");   /* CVE-2015-3306 fixed */
    ask(&m, "USER", "500 USER: command requires a parameter\r\n");
    ask(&m, "PASS x", "503 Login with USER first\r\n");
    /* nmap ftp-syst's STAT after login (the real one names the client's reverse DNS name
     * first; an address without one is shown twice) */
    snprintf(m.c.ctx.src_ip, sizeof(m.c.ctx.src_ip), "203.0.113.5");
    ask(&m, "USER anonymous", "331 Anonymous login ok, send your complete email address as your password\r\n");
    mod_feed(&m, "PASS x\r\n", 8);
    mod_recv(&m, NULL, SIZE_MAX);                 /* welcome.msg first: test_proftpd_anonymous */
    ask(&m, "TYPE I", "200 Type set to I\r\n");
    ask(&m, "STAT", "211-Status of 'Debian'\r\n Connected from 203.0.113.5 (203.0.113.5)\r\n Logged in as ftp\r\n"
                    " TYPE: BINARY, STRUcture: File, Mode: Stream\r\n No data connection\r\n211 End of status\r\n");
    ask(&m, "STAT /etc", "450 /etc: No such file or directory\r\n");     /* chrooted */
    mod_close(&m);
}

#define PROFTPD "protocol = ftp\nserver = proftpd\nversion = 1.3.8\n"

static void pro_open(struct mod *m, const char *extra)
{
    char svc[512];
    snprintf(svc, sizeof(svc), PROFTPD "%s", extra);
    mod_open(m, "ftp", svc);
    snprintf(m->c.ctx.src_ip, sizeof(m->c.ctx.src_ip), "203.0.113.5");
    snprintf(m->c.ctx.dst_ip, sizeof(m->c.ctx.dst_ip), "192.0.2.7");
    mod_recv(m, NULL, SIZE_MAX);
}

/* Debian 12's proftpd-core 1.3.8+dfsg-4+deb12u5 after a local login: the
 * argument checks its handlers make first (501 Invalid number of
 * parameters, 500 'X' not understood), its own texts for TYPE (echoed as
 * sent), MODE, STRU, ALLO, ABOR, REST and SIZE (refused in ASCII mode),
 * EPSV ALL, CWD/CDUP, errors naming the argument as sent, a second login,
 * HELP VERB and long verbs named whole. */
static void test_proftpd_session(void **st)
{
    (void)st;
    struct mod m;
    pro_open(&m, "accept_after = 1\n");
    ask(&m, "USER alice", "331 Password required for alice\r\n");
    ask(&m, "PASS secret", "230 User alice logged in\r\n");
    ask(&m, "TYPE L 8", "200 Type set to L\r\n");          /* nmap/ftp clients */
    ask(&m, "type i", "200 Type set to i\r\n");
    ask(&m, "TYPE", "500 'TYPE' not understood\r\n");
    ask(&m, "TYPE X Y Z", "500 'TYPE X Y Z' not understood\r\n");
    ask(&m, "TYPE L", "504 TYPE not implemented for 'L' parameter\r\n");
    ask(&m, "TYPE a", "200 Type set to a\r\n");
    ask(&m, "SIZE /etc/passwd", "550 SIZE not allowed in ASCII mode\r\n");
    ask(&m, "REST 5", "501 REST: Resuming transfers not allowed in ASCII mode\r\n");
    ask(&m, "REST -1", "501 REST requires a value greater than or equal to 0\r\n");
    ask(&m, "REST", "500 'REST' not understood\r\n");
    ask(&m, "TYPE I", "200 Type set to I\r\n");
    ask(&m, "REST 5", "350 Restarting at 5. Send STORE or RETRIEVE to initiate transfer\r\n");
    ask(&m, "SIZE /nope", "550 /nope: No such file or directory\r\n");
    ask(&m, "SIZE /etc", "550 /etc: not a regular file\r\n");
    ask(&m, "MODE S", "200 Mode set to S\r\n");
    ask(&m, "MODE B", "504 'MODE B' unsupported transfer mode\r\n");
    ask(&m, "MODE", "501 'MODE' not understood\r\n");
    ask(&m, "STRU F", "200 Structure set to F\r\n");
    ask(&m, "STRU R", "504 'STRU R' unsupported structure type\r\n");
    ask(&m, "ALLO 100", "200 ALLO command successful\r\n");
    ask(&m, "ALLO 10 R 5", "200 ALLO command successful\r\n");
    ask(&m, "ALLO 1x", "504 1x: Invalid ALLO argument\r\n");
    ask(&m, "ALLO", "504 'ALLO' not understood\r\n");
    ask(&m, "ABOR", "226 Abort successful\r\n");
    ask(&m, "ABOR x", "500 'ABOR x' not understood\r\n");
    ask(&m, "PASV 1", "501 Invalid number of parameters\r\n");
    ask(&m, "EPSV 3", "522 Network protocol not supported, use (1,2)\r\n");
    ask(&m, "CWD", "501 Invalid number of parameters\r\n");
    ask(&m, "DELE", "501 Invalid number of parameters\r\n");
    ask(&m, "PORT", "501 Invalid number of parameters\r\n");
    ask(&m, "PWD x", "501 Invalid number of parameters\r\n");
    ask(&m, "FEAT x", "501 Invalid number of parameters\r\n");
    ask(&m, "CDUP x", "501 Invalid number of parameters\r\n");
    ask(&m, "RETR", "500 'RETR' not understood\r\n");
    ask(&m, "STOR", "500 'STOR' not understood\r\n");
    ask(&m, "CWD nope", "550 nope: No such file or directory\r\n");
    ask(&m, "DELE nope", "550 nope: No such file or directory\r\n");
    ask(&m, "RMD nope", "550 nope: No such file or directory\r\n");
    ask(&m, "CWD /tmp", "250 CWD command successful\r\n");
    ask(&m, "CDUP", "250 CDUP command successful\r\n");
    ask(&m, "XYZZYABCDEFGHIJKL x", "500 XYZZYABCDEFGHIJKL not understood\r\n");
    ask(&m, "HELP user", "214 Syntax: USER <sp> username\r\n");
    ask(&m, "HELP FOO", "502 Unknown command 'FOO'\r\n");
    ask(&m, "HELP SITE", "214-HELP\r\n CHGRP\r\n214 CHMOD\r\n");
    ask(&m, "USER alice", "230 User alice logged in\r\n");
    ask(&m, "USER bob", "501 Reauthentication not supported\r\n");
    ask(&m, "PASS x", "503 You are already logged in\r\n");
    ask(&m, "EPSV ALL", "200 EPSV ALL command successful\r\n");
    ask(&m, "PASV", "500 Illegal PASV command, EPSV ALL in effect\r\n");
    ask(&m, "PORT 127,0,0,1,200,10", "500 Illegal PORT command, EPSV ALL in effect\r\n");
    mod_close(&m);
}

/* SITE on 1.3.8: HELP and the unknown ones before login too, SITE EXEC
 * unknown, mod_copy's CPFR/CPTO (the CVE-2015-3306 probe) refused before
 * login and copying after it, the 503 and CHMOD's 500 written twice. */
static void test_proftpd_site(void **st)
{
    (void)st;
    struct mod m;
    char help[1024];
    pro_open(&m, "accept_after = 1\n");
    n_inputs = 0;
    snprintf(help, sizeof(help), "214-The following SITE commands are recognized (* =>'s unimplemented)\r\n"
             " CPFR <sp> pathname\r\n CPTO <sp> pathname\r\n UTIME <sp> YYYYMMDDhhmm[ss] <sp> path\r\n"
             " SYMLINK <sp> source <sp> destination\r\n RMDIR <sp> path\r\n MKDIR <sp> path\r\n"
             " The following SITE extensions are recognized:\r\n RATIO -- show all ratios in effect\r\n"
             " QUOTA\r\n HELP\r\n CHGRP\r\n CHMOD\r\n214 Direct comments to root@192.0.2.7\r\n");
    ask(&m, "SITE HELP", help);
    ask(&m, "SITE EXEC id", "500 'SITE EXEC' not understood\r\n");
    ask(&m, "SITE", "500 'SITE' requires parameters\r\n");
    ask(&m, "SITE CPFR /etc/passwd", "530 Please login with USER and PASS\r\n");
    ask(&m, "SITE CPTO /tmp/x", "503-Bad sequence of commands\r\n503 Bad sequence of commands\r\n");
    ask(&m, "SITE CHMOD 777 x", "530 Please login with USER and PASS\r\n530 Please login with USER and PASS\r\n");
    ask(&m, "USER alice", "331 Password required for alice\r\n");
    ask(&m, "PASS secret", "230 User alice logged in\r\n");
    ask(&m, "SITE help", help);
    ask(&m, "SITE CHMOD", "500-'SITE CHMOD' not understood\r\n500 SITE not understood\r\n");
    ask(&m, "SITE CHMOD 777", "500-'SITE CHMOD 777' not understood\r\n500 SITE not understood\r\n");
    ask(&m, "SITE CHMOD abc /etc/passwd", "550 'abc': invalid mode\r\n");
    ask(&m, "SITE CHMOD 777 nope", "550 nope: No such file or directory\r\n");
    ask(&m, "SITE a b c", "500 'SITE A' not understood\r\n");
    ask(&m, "SITE CPFR", "500 'SITE CPFR' not understood\r\n");
    ask(&m, "SITE CPTO", "500 'SITE CPTO' not understood\r\n503 Bad sequence of commands\r\n");
    ask(&m, "SITE CPFR /nope", "550 /nope: No such file or directory\r\n");
    ask(&m, "SITE CPFR /etc/passwd", "350 File or directory exists, ready for destination name\r\n");
    ask(&m, "NOOP", "200 NOOP command successful\r\n");
    ask(&m, "SITE CPTO /tmp/copied", "250 Copy successful\r\n");
    ask(&m, "SITE CPTO /tmp/again", "503-Bad sequence of commands\r\n503 Bad sequence of commands\r\n");
    ask(&m, "TYPE I", "200 Type set to I\r\n");
    uint8_t a1[64] = { 0 }, a2[64] = { 0 };
    mod_feed(&m, "SIZE /etc/passwd\r\n", 18);
    mod_recv(&m, a1, sizeof(a1) - 1);
    mod_feed(&m, "SIZE /tmp/copied\r\n", 18);
    mod_recv(&m, a2, sizeof(a2) - 1);
    assert_memory_equal(a1, "213 ", 4);
    assert_string_equal((char *)a1, (char *)a2);      /* the copy is there, whole */
    assert_int_equal(n_inputs, 24);                    /* every line recorded */
    mod_close(&m);
}

/* Debian's example <Anonymous> block: welcome.msg before the 230, and the
 * chroot's WRITE limit on SITE CPTO and CHMOD. */
static void test_proftpd_anonymous(void **st)
{
    (void)st;
    struct mod m;
    char ans[1024] = { 0 };
    pro_open(&m, "");
    ask(&m, "USER anonymous", "331 Anonymous login ok, send your complete email address as your password\r\n");
    mod_feed(&m, "PASS x@y\r\n", 10);
    mod_recv(&m, (uint8_t *)ans, sizeof(ans) - 1);
    static const char head[] = "230-Welcome, archive user anonymous@203.0.113.5 !\r\n \r\n The local time is: ";
    assert_memory_equal(ans, head, sizeof(head) - 1);
    const char *tail = strstr(ans, "\r\n \r\n This is an experimental FTP server.");
    assert_non_null(tail);
    assert_int_equal(tail - ans, sizeof(head) - 1 + 24);                 /* "Mon Dec 07 16:21:54 2026" */
    assert_string_equal(tail, "\r\n \r\n This is an experimental FTP server.  If you have any unusual problems,\r\n"
                              " please report them via e-mail to <root@192.0.2.7>.\r\n \r\n"
                              "230 Anonymous access granted, restrictions apply\r\n");
    ask(&m, "ALLO 100", "202 No storage allocation necessary\r\n");
    ask(&m, "USER ftp", "501 Reauthentication not supported\r\n");
    mod_close(&m);
}

/* hydra/medusa against 1.3.8: a wrong password's 530 comes after 2.0-2.4 s
 * (mod_delay and pam_unix), not at once. */
static void test_proftpd_fail_delay(void **st)
{
    (void)st;
    struct mod m;
    uint8_t ans[256] = { 0 };
    pro_open(&m, "");
    ask(&m, "USER root", "331 Password required for root\r\n");
    ask(&m, "PASS toor\r\nUSER root", "");
    m.p->on_timer(&m.c);
    mod_feed(&m, "", 0);
    mod_recv(&m, ans, sizeof(ans) - 1);
    assert_string_equal((char *)ans, "530 Login incorrect.\r\n331 Password required for root\r\n");
    mod_close(&m);
}

/* Input framing on 1.3.8: a tab ends the verb, a line over 4100 bytes gets
 * no reply (the session goes on), and an HTTP request, an SMTP greeting or
 * an SSH banner (scanners on port 21) ends the session without a word.
 * Every line is still recorded. */
static void test_proftpd_input(void **st)
{
    (void)st;
    struct mod m;
    char line[9000];
    uint8_t ans[64] = { 0 };
    pro_open(&m, "");
    n_inputs = 0;
    ask(&m, "NOOP\tx", "200 NOOP command successful\r\n");
    assert_string_equal(last_input_verb, "NOOP");
    snprintf(line, sizeof(line), "NOOP %04095d", 0);                 /* 4100 + CRLF: answered */
    ask(&m, line, "200 NOOP command successful\r\n");
    memset(line, 'x', 8000);                                          /* 8000, in two parts */
    memcpy(line, "NOOP ", 5);
    mod_feed(&m, line, 5000);
    mod_feed(&m, line + 5000, 3000);
    ask(&m, "\r\nNOOP", "200 NOOP command successful\r\n");
    assert_int_equal(n_inputs, 4);
    m.c.ev_read = event_new(hp_sensor.base, -1, 0, NULL, NULL);       /* as in test_vsftpd_long_lines */
    m.c.busy++;
    mod_feed(&m, "GET / HTTP/1.0\r\n", 16);
    assert_int_equal(mod_recv(&m, ans, sizeof(ans) - 1), 0);
    assert_int_equal(n_inputs, 5);
    assert_true(m.c.flags & HP_CONN_CLOSING);
    event_free(m.c.ev_read);
    mod_close(&m);
}

/* The verbs with their own answers, with odd arguments (none, blanks, over
 * the path limit), logged in, for both products: every line gets one whole
 * reply (run under ASan/UBSan by the sanitized build). */
static void test_odd_arguments(void **st)
{
    (void)st;
    static const char *const verbs[] = { "SITE", "SITE CHMOD", "SITE CHMOD 755", "SITE UMASK", "SITE HELP",
                                         "STAT", "STAT -la", "OPTS", "OPTS UTF8", "EPSV", "EPRT", "REST", "HOST",
                                         "USER", "CWD", "CLNT", "ACCT", "TYPE", "MODE", "STRU", "ALLO", "SIZE",
                                         "SITE CPFR", "SITE CPTO", "SITE CPFR /etc/passwd\r\nSITE CPTO", "HELP",
                                         "HELP SITE", "DELE", "RNFR", "ABOR", "PASS", "XYZZYABCDEFGHIJKLMNOP" };
    char big[700], line[1600];
    memset(big, '/', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    const char *args[] = { "", " ", "  x", big, "755 ", "1 ", "-5" };
    const char *svcs[] = { VSFTPD "accept_after = 1\n", "protocol = ftp\nserver = proftpd\nversion = 1.3.8\n" };
    for (size_t k = 0; k < 2; k++) {
        struct mod m;
        uint8_t ans[8192];
        mod_open(&m, "ftp", svcs[k]);
        mod_feed(&m, "USER anonymous\r\nPASS x\r\n", 24);
        mod_recv(&m, NULL, SIZE_MAX);
        for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
            for (size_t j = 0; j < sizeof(args) / sizeof(args[0]); j++) {
                snprintf(line, sizeof(line), "%s%s%s\r\n", verbs[i], args[j][0] ? " " : "", args[j]);
                mod_feed(&m, line, strlen(line));
                size_t n = mod_recv(&m, ans, sizeof(ans));
                assert_true(n >= 6 && n <= sizeof(ans));
                assert_memory_equal(ans + n - 2, "\r\n", 2);
            }
        mod_close(&m);
    }
}

int main(void)
{
    hp_sensor.base = event_base_new();
    hp_output_set_tap(tap, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_port),
        cmocka_unit_test(test_eprt),
        cmocka_unit_test(test_same_ip),
        cmocka_unit_test(test_list_lines),
        cmocka_unit_test(test_arg_path),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_vsftpd_prelogin),
        cmocka_unit_test(test_vsftpd_fail_delay),
        cmocka_unit_test(test_vsftpd_anonymous),
        cmocka_unit_test(test_vsftpd_local_user),
        cmocka_unit_test(test_vsftpd_long_lines),
        cmocka_unit_test(test_proftpd_prelogin),
        cmocka_unit_test(test_proftpd_session),
        cmocka_unit_test(test_proftpd_site),
        cmocka_unit_test(test_proftpd_anonymous),
        cmocka_unit_test(test_proftpd_fail_delay),
        cmocka_unit_test(test_proftpd_input),
        cmocka_unit_test(test_odd_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
