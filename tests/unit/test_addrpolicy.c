/*
 * test_addrpolicy.c - the downloader's connect-time address policy
 * (src/capture/addrpolicy.c).
 *
 * Every case builds a real sockaddr with inet_pton, exactly as the
 * downloader gets it from getaddrinfo, and checks both the verdict and the
 * `why` string: the reason is logged, so a wrong label is a bug too.  IPv6
 * forms that embed an IPv4 address (mapped, NAT64, 6to4) must be judged by
 * the IPv4 address inside.  Then the allow list (which wins over the deny
 * table), the sensor's own addresses, the CIDR parser's errors, and a
 * family the policy does not know.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "capture/addrpolicy.h"

/* Verdict for one textual address (v4 or v6) under policy p. */
static bool check(const struct hp_addrpol *p, const char *addr, const char **why)
{
    struct sockaddr_in s4;
    struct sockaddr_in6 s6;
    memset(&s4, 0, sizeof(s4));
    memset(&s6, 0, sizeof(s6));
    if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1) {
        s4.sin_family = AF_INET;
        s4.sin_port = htons(80);
        return hp_addrpol_allows(p, (const struct sockaddr *)&s4, sizeof(s4), why);
    }
    if (inet_pton(AF_INET6, addr, &s6.sin6_addr) == 1) {
        s6.sin6_family = AF_INET6;
        s6.sin6_port = htons(80);
        return hp_addrpol_allows(p, (const struct sockaddr *)&s6, sizeof(s6), why);
    }
    fail_msg("test address '%s' does not parse", addr);
    return false;
}

/* Assert a verdict: expect_why NULL means "allowed". */
static void expect(const struct hp_addrpol *p, const char *addr, const char *expect_why)
{
    const char *why = "untouched";
    bool ok = check(p, addr, &why);
    if (!expect_why) {
        if (!ok)
            fail_msg("%s refused (%s), expected allowed", addr, why ? why : "(null)");
        assert_null(why);
        return;
    }
    if (ok)
        fail_msg("%s allowed, expected refused as %s", addr, expect_why);
    assert_non_null(why);
    if (strcmp(why, expect_why) != 0)
        fail_msg("%s refused as '%s', expected '%s'", addr, why, expect_why);
}

static void test_ipv4_table(void **state)
{
    (void)state;
    struct hp_addrpol p;
    char err[128];
    assert_int_equal(hp_addrpol_init(&p, NULL, err, sizeof(err)), 0);
    expect(&p, "127.0.0.1", "loopback");
    expect(&p, "127.0.0.2", "loopback");
    expect(&p, "10.0.0.1", "private");
    expect(&p, "172.16.5.4", "private");
    expect(&p, "172.31.255.255", "private");
    expect(&p, "172.32.0.1", NULL);          /* just outside 172.16/12 */
    expect(&p, "172.15.255.255", NULL);
    expect(&p, "192.168.1.1", "private");
    expect(&p, "100.64.0.1", "cgnat");
    expect(&p, "100.127.255.255", "cgnat");
    expect(&p, "100.128.0.1", NULL);         /* just outside 100.64/10 */
    expect(&p, "169.254.169.254", "link-local");
    expect(&p, "224.0.0.1", "multicast");
    expect(&p, "255.255.255.255", "reserved");
    expect(&p, "0.0.0.0", "reserved");
    expect(&p, "192.0.2.1", "reserved");
    expect(&p, "198.18.0.1", "reserved");
    expect(&p, "8.8.8.8", NULL);
    expect(&p, "1.2.3.4", NULL);
    hp_addrpol_free(&p);
}

static void test_ipv6_table(void **state)
{
    (void)state;
    struct hp_addrpol p;
    char err[128];
    assert_int_equal(hp_addrpol_init(&p, NULL, err, sizeof(err)), 0);
    expect(&p, "::1", "loopback");
    expect(&p, "::", "reserved");
    expect(&p, "fe80::1", "link-local");
    expect(&p, "fc00::1", "private");
    expect(&p, "fd12::1", "private");
    expect(&p, "ff02::1", "multicast");
    expect(&p, "2001:db8::1", "reserved");
    expect(&p, "2606:4700::1111", NULL);
    expect(&p, "2a00:1450:4001::1", NULL);
    hp_addrpol_free(&p);
}

/* IPv6 spellings of IPv4 addresses are judged as the IPv4 address. */
static void test_embedded_ipv4(void **state)
{
    (void)state;
    struct hp_addrpol p;
    char err[128];
    assert_int_equal(hp_addrpol_init(&p, NULL, err, sizeof(err)), 0);
    expect(&p, "::ffff:127.0.0.1", "loopback");
    expect(&p, "::ffff:10.1.2.3", "private");
    expect(&p, "::ffff:169.254.169.254", "link-local");
    expect(&p, "::ffff:8.8.8.8", NULL);
    expect(&p, "64:ff9b::a00:1", "private");          /* NAT64 of 10.0.0.1 */
    expect(&p, "64:ff9b::7f00:1", "loopback");        /* NAT64 of 127.0.0.1 */
    expect(&p, "64:ff9b::808:808", NULL);             /* NAT64 of 8.8.8.8 */
    expect(&p, "2002:7f00:1::1", "loopback");         /* 6to4 of 127.0.0.1 */
    expect(&p, "2002:a9fe:a9fe::1", "link-local");    /* 6to4 of 169.254.169.254 */
    expect(&p, "2002:808:808::1", NULL);              /* 6to4 of 8.8.8.8 */
    /* SIIT's IPv4-translated form ::ffff:0:a.b.c.d (RFC 2765): a translator
     * on the path would carry it to the IPv4 address, whatever that is */
    expect(&p, "::ffff:0:7f00:1", "reserved");
    expect(&p, "::ffff:0:a9fe:a9fe", "reserved");
    hp_addrpol_free(&p);
}

/* The allow list wins over the deny table, and only for what it covers. */
static void test_allow_list(void **state)
{
    (void)state;
    struct hp_addrpol p;
    char err[128];
    assert_int_equal(hp_addrpol_init(&p, "127.0.0.1/32, 10.0.0.0/8", err, sizeof(err)), 0);
    assert_int_equal(p.nallow, 2);
    expect(&p, "127.0.0.1", NULL);
    expect(&p, "127.0.0.2", "loopback");
    expect(&p, "10.9.9.9", NULL);
    expect(&p, "10.255.255.255", NULL);
    expect(&p, "11.0.0.1", NULL);                     /* public anyway */
    expect(&p, "192.168.1.1", "private");
    expect(&p, "::ffff:127.0.0.1", NULL);             /* same address, v6 spelling */
    expect(&p, "::ffff:10.1.2.3", NULL);
    expect(&p, "::1", "loopback");                    /* not covered by a v4 range */
    hp_addrpol_free(&p);
    assert_null(p.allow);
    assert_int_equal(p.nallow, 0);

    /* IPv6 ranges, space separated */
    assert_int_equal(hp_addrpol_init(&p, "::1 fd00::/8", err, sizeof(err)), 0);
    assert_int_equal(p.nallow, 2);
    expect(&p, "::1", NULL);
    expect(&p, "fd12::1", NULL);
    expect(&p, "fc00::1", "private");
    expect(&p, "127.0.0.1", "loopback");
    hp_addrpol_free(&p);
}

/* The sensor's own interface addresses are refused with their own reason,
 * and the allow list still wins over them. */
static void test_own_addresses(void **state)
{
    (void)state;
    struct hp_addrpol p;
    char err[128];
    assert_int_equal(hp_addrpol_init(&p, NULL, err, sizeof(err)), 0);
    hp_addrpol_add_own(&p);
    assert_true(p.nown >= 1);                         /* lo at least */
    for (size_t i = 0; i < p.nown; i++)
        assert_int_equal(p.own[i].bits, 128);
    expect(&p, "127.0.0.1", "own-address");
    expect(&p, "::ffff:127.0.0.1", "own-address");
    expect(&p, "127.0.0.2", "loopback");             /* lo holds 127.0.0.1 only */
    expect(&p, "8.8.8.8", NULL);
    hp_addrpol_free(&p);
    assert_null(p.own);
    assert_int_equal(p.nown, 0);

    assert_int_equal(hp_addrpol_init(&p, "127.0.0.1", err, sizeof(err)), 0);
    hp_addrpol_add_own(&p);
    expect(&p, "127.0.0.1", NULL);
    hp_addrpol_free(&p);

    /* a public own address, also in the IPv6 spellings judged by the IPv4
     * address they carry (a NAT64 gateway or 6to4 relay would bring the
     * connection back to the sensor) */
    assert_int_equal(hp_addrpol_init(&p, NULL, err, sizeof(err)), 0);
    assert_int_equal(hp_addrpol_parse("8.8.4.4", &p.own, &p.nown, err, sizeof(err)), 0);
    expect(&p, "8.8.4.4", "own-address");
    expect(&p, "::ffff:8.8.4.4", "own-address");
    expect(&p, "64:ff9b::808:404", "own-address");
    expect(&p, "2002:808:404::1", "own-address");
    expect(&p, "64:ff9b::808:808", NULL);
    expect(&p, "2002:808:808::1", NULL);
    hp_addrpol_free(&p);
}

static void expect_parse_error(const char *list)
{
    struct hp_cidr *c = (struct hp_cidr *)0x1;
    size_t n = 99;
    char err[128] = "";
    if (hp_addrpol_parse(list, &c, &n, err, sizeof(err)) != -1)
        fail_msg("'%s' parsed, expected an error", list);
    assert_null(c);
    assert_int_equal(n, 0);
    if (err[0] == '\0')
        fail_msg("'%s': no error message", list);
}

static void test_parse(void **state)
{
    (void)state;
    struct hp_cidr *c;
    size_t n;
    char err[128];
    static const uint8_t mapped_1234[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4 };

    expect_parse_error("10.0.0.0/33");
    expect_parse_error("1.2.3.4/");
    expect_parse_error("nonsense");
    expect_parse_error("::1/129");
    expect_parse_error("1.2.3.4/-1");
    expect_parse_error("1.2.3.4/8x");
    expect_parse_error("10.0.0.0/8, bogus");          /* a later bad token frees the earlier */
    expect_parse_error("1.2.3.4/99999999999999999999999");

    /* a token longer than the parser's buffer is an error, not an overflow */
    char longtok[200];
    memset(longtok, '1', sizeof(longtok) - 1);
    longtok[sizeof(longtok) - 1] = '\0';
    expect_parse_error(longtok);

    assert_int_equal(hp_addrpol_parse("", &c, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    free(c);
    assert_int_equal(hp_addrpol_parse(" ,, \t", &c, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    free(c);
    assert_int_equal(hp_addrpol_parse(NULL, &c, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    assert_null(c);

    assert_int_equal(hp_addrpol_parse("1.2.3.4", &c, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].bits, 128);
    assert_memory_equal(c[0].addr, mapped_1234, 16);
    free(c);

    assert_int_equal(hp_addrpol_parse("10.0.0.0/8 ::/0,fe80::/10", &c, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 3);
    assert_int_equal(c[0].bits, 96 + 8);
    assert_int_equal(c[1].bits, 0);
    assert_int_equal(c[2].bits, 10);
    free(c);

    /* hp_addrpol_init reports the parser's error */
    struct hp_addrpol p;
    err[0] = '\0';
    assert_int_equal(hp_addrpol_init(&p, "10.0.0.0/33", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "10.0.0.0/33"));
    hp_addrpol_free(&p);
}

/* Anything but a full sockaddr_in / sockaddr_in6 is refused. */
static void test_unsupported_family(void **state)
{
    (void)state;
    struct hp_addrpol p;
    char err[128];
    const char *why = NULL;
    assert_int_equal(hp_addrpol_init(&p, "0.0.0.0/0 ::/0", err, sizeof(err)), 0);

    struct sockaddr_un su;
    memset(&su, 0, sizeof(su));
    su.sun_family = AF_UNIX;
    strcpy(su.sun_path, "/tmp/x");
    assert_false(hp_addrpol_allows(&p, (const struct sockaddr *)&su, sizeof(su), &why));
    assert_string_equal(why, "unsupported-family");

    /* AF_INET with a truncated length */
    struct sockaddr_in s4;
    memset(&s4, 0, sizeof(s4));
    s4.sin_family = AF_INET;
    inet_pton(AF_INET, "8.8.8.8", &s4.sin_addr);
    why = NULL;
    assert_false(hp_addrpol_allows(&p, (const struct sockaddr *)&s4, 4, &why));
    assert_string_equal(why, "unsupported-family");
    assert_true(hp_addrpol_allows(&p, (const struct sockaddr *)&s4, sizeof(s4), &why));

    /* AF_INET6 with only a sockaddr_in's length */
    struct sockaddr_in6 s6;
    memset(&s6, 0, sizeof(s6));
    s6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2606:4700::1111", &s6.sin6_addr);
    assert_false(hp_addrpol_allows(&p, (const struct sockaddr *)&s6, sizeof(s4), &why));
    assert_string_equal(why, "unsupported-family");

    /* why may be NULL */
    assert_false(hp_addrpol_allows(&p, (const struct sockaddr *)&su, sizeof(su), NULL));
    hp_addrpol_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_table),
        cmocka_unit_test(test_ipv6_table),
        cmocka_unit_test(test_embedded_ipv4),
        cmocka_unit_test(test_allow_list),
        cmocka_unit_test(test_own_addresses),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_unsupported_family),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
