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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_port),
        cmocka_unit_test(test_eprt),
        cmocka_unit_test(test_same_ip),
        cmocka_unit_test(test_list_lines),
        cmocka_unit_test(test_arg_path),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
