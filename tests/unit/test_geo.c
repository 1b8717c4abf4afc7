/*
 * test_geo.c - GeoIP / ASN enrichment (src/intel/geo.c) and the address
 * labels it shares with the downloader (hp_addr_special in
 * src/capture/addrpolicy.c).
 *
 * The ASN range file is written here byte by byte from the format that
 * tools/geoip_asn.py documents, independently of the reader, so the reader
 * is checked against the specification: range edges, IPv4 given as
 * ::ffff:a.b.c.d, the build date, UTF-8-safe truncation of long names, and
 * every kind of damage (magic, sizes, order, name offsets, final NUL) being
 * refused.  Country lookups need an mmdb, which only a writer we do not
 * have could make: those cases use the databases tools/geoip.sh installs and
 * are skipped when they are absent (the integration tests compare many more
 * addresses with mmdblookup).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/addrpolicy.h"
#include "event.h"
#include "intel/geo.h"
#include "json.h"

struct range {
    const char *start, *end;
    uint32_t asn;
    const char *org;
};

static const struct range v4[] = {
    { "1.0.0.0", "1.0.0.255", 13335, "Cloudflare, Inc." },
    { "1.0.4.0", "1.0.7.255", 38803, "Gtelecom Pty Ltd" },
    { "8.8.8.0", "8.8.8.255", 15169, "Google LLC" },
    { "9.9.9.9", "9.9.9.9", 19281, "" },
    { "223.255.255.0", "223.255.255.255", 4200000000u, "Long" },
};
static const struct range v6[] = {
    { "2001:4860::", "2001:4860:ffff:ffff:ffff:ffff:ffff:ffff", 15169, "Google LLC" },
    { "2a03:2880::", "2a03:2880:ffff:ffff:ffff:ffff:ffff:ffff", 32934, NULL /* the long name */ },
};
#define EPOCH 1781722800ull   /* 2026-06-17 19:00 UTC */

static char long_name[401];   /* 200 x U+00E9, two bytes each */

static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Build the file image; returns its size.  img must hold 64 KiB. */
static size_t build(uint8_t *img)
{
    size_t n4 = sizeof(v4) / sizeof(v4[0]), n6 = sizeof(v6) / sizeof(v6[0]);
    size_t off4 = 64, off6 = off4 + n4 * 16, offs = off6 + n6 * 40, slen = 1;
    uint8_t *str = img + offs;
    memset(img, 0, 65536);
    str[0] = '\0';
    for (size_t i = 0; i < n4 + n6; i++) {
        const struct range *r = i < n4 ? &v4[i] : &v6[i - n4];
        const char *org = r->org ? r->org : long_name;
        uint32_t name = 0;
        if (org[0]) {
            name = (uint32_t)slen;
            memcpy(str + slen, org, strlen(org) + 1);
            slen += strlen(org) + 1;
        }
        uint8_t *rec = i < n4 ? img + off4 + i * 16 : img + off6 + (i - n4) * 40;
        size_t k = i < n4 ? 4 : 16;
        int af = i < n4 ? AF_INET : AF_INET6;
        assert_int_equal(inet_pton(af, r->start, rec), 1);
        assert_int_equal(inet_pton(af, r->end, rec + k), 1);
        le32(rec + 2 * k, r->asn);
        le32(rec + 2 * k + 4, name);
    }
    memcpy(img, "HPASNDB1", 8);
    le32(img + 8, 64);
    le32(img + 12, (uint32_t)n4);
    le32(img + 16, (uint32_t)n6);
    le32(img + 20, (uint32_t)slen);
    le32(img + 24, (uint32_t)EPOCH);
    le32(img + 28, (uint32_t)(EPOCH >> 32));
    le32(img + 32, (uint32_t)off4);
    le32(img + 36, (uint32_t)off6);
    le32(img + 40, (uint32_t)offs);
    return offs + slen;
}

static char path[64];

static void write_file(const uint8_t *img, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(img, 1, n, f), n);
    fclose(f);
}

static int setup(void **state)
{
    for (int i = 0; i < 200; i++)
        memcpy(long_name + 2 * i, "\xc3\xa9", 2);
    snprintf(path, sizeof(path), "/tmp/hanipo-test-geo-%d.bin", (int)getpid());
    static uint8_t img[65536];
    write_file(img, build(img));
    return 0;
}

static int teardown(void **state)
{
    hp_geo_close();
    unlink(path);
    return 0;
}

static void test_special(void **state)
{
    static const struct { const char *ip, *want; } t[] = {
        { "10.1.2.3", "private" },      { "192.168.0.1", "private" },   { "172.31.255.255", "private" },
        { "127.0.0.1", "loopback" },    { "::1", "loopback" },          { "::ffff:127.0.0.2", "loopback" },
        { "169.254.169.254", "link-local" }, { "fe80::1", "link-local" }, { "100.64.0.1", "cgnat" },
        { "224.0.0.1", "multicast" },   { "ff02::1", "multicast" },     { "240.0.0.1", "reserved" },
        { "255.255.255.255", "reserved" }, { "0.0.0.0", "reserved" },   { "2001:db8::1", "reserved" },
        { "fd00::1", "private" },       { "2002:0a00:0001::1", "private" }, { "64:ff9b::7f00:1", "loopback" },
        { "8.8.8.8", NULL },            { "2001:4860:4860::8888", NULL }, { "172.32.0.1", NULL },
        { "", "invalid" },              { "1.2.3", "invalid" },          { "10.0.0.0/8", "invalid" },
        { "fe80::1%eth0", "invalid" },  { "::ffff:1.2.3.4.5", "invalid" },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const char *got = hp_addr_special(t[i].ip);
        if (!t[i].want != !got || (got && strcmp(got, t[i].want) != 0))
            fail_msg("%s: got %s, want %s", t[i].ip, got ? got : "NULL", t[i].want ? t[i].want : "NULL");
        struct hp_geo g;
        hp_geo_lookup(t[i].ip, &g);          /* no database needed for the labels */
        assert_true(!g.special == !t[i].want);
        if (g.special) {
            assert_string_equal(g.special, t[i].want);
            assert_string_equal(g.cc, "");
            assert_int_equal(g.asn, 0);
        }
    }
    assert_string_equal(hp_addr_special(NULL), "invalid");
}

static void test_country_names(void **state)
{
    assert_string_equal(hp_geo_country_name("US"), "United States");
    assert_string_equal(hp_geo_country_name("jp"), "Japan");
    assert_string_equal(hp_geo_country_name("De"), "Germany");
    assert_string_equal(hp_geo_country_name("XK"), "Kosovo");
    assert_string_equal(hp_geo_country_name("ZW"), "Zimbabwe");
    assert_string_equal(hp_geo_country_name("AD"), "Andorra");
    assert_null(hp_geo_country_name("ZZ"));
    assert_null(hp_geo_country_name("U"));
    assert_null(hp_geo_country_name("USA"));
    assert_null(hp_geo_country_name(""));
    assert_null(hp_geo_country_name("1A"));
    assert_null(hp_geo_country_name(NULL));
}

static void expect_asn(const char *ip, uint32_t asn, const char *org)
{
    struct hp_geo g;
    hp_geo_lookup(ip, &g);
    assert_null(g.special);
    if (g.asn != asn)
        fail_msg("%s: asn %u, want %u", ip, g.asn, asn);
    assert_string_equal(g.as_org, org);
    assert_string_equal(g.cc, "");            /* no country database open */
}

static void test_asn_file(void **state)
{
    char err[512];
    assert_int_equal(hp_geo_open(NULL, path, NULL, err, sizeof(err)), 0);
    assert_string_equal(hp_geo_asn_build_date(), "2026-06-17");
    assert_null(hp_geo_build_date());
    assert_null(hp_geo_city_build_date());
    assert_false(hp_geo_have_city());
    expect_asn("1.0.0.0", 13335, "Cloudflare, Inc.");
    expect_asn("1.0.0.255", 13335, "Cloudflare, Inc.");
    expect_asn("1.0.1.0", 0, "");
    expect_asn("1.0.3.255", 0, "");
    expect_asn("1.0.4.0", 38803, "Gtelecom Pty Ltd");
    expect_asn("1.0.7.255", 38803, "Gtelecom Pty Ltd");
    expect_asn("1.0.8.0", 0, "");
    expect_asn("8.8.8.8", 15169, "Google LLC");
    expect_asn("::ffff:8.8.8.8", 15169, "Google LLC");
    expect_asn("9.9.9.8", 0, "");
    expect_asn("9.9.9.9", 19281, "");         /* a range without a name */
    expect_asn("9.9.9.10", 0, "");
    expect_asn("223.255.255.255", 4200000000u, "Long");
    expect_asn("2001:4860:4860::8888", 15169, "Google LLC");
    expect_asn("2001:4860:ffff:ffff:ffff:ffff:ffff:ffff", 15169, "Google LLC");
    expect_asn("2001:4861::", 0, "");
    expect_asn("2001:485f:ffff:ffff:ffff:ffff:ffff:ffff", 0, "");
    expect_asn("2c0f::1", 0, "");
    expect_asn("1.1.1.1", 0, "");
    /* a name longer than the field is cut on a character boundary and stays UTF-8 */
    struct hp_geo g;
    hp_geo_lookup("2a03:2880:f12f:83:face:b00c::25de", &g);
    assert_int_equal(g.asn, 32934);
    assert_int_equal(strlen(g.as_org), 126);
    assert_true(hp_utf8_valid(g.as_org, strlen(g.as_org)));
    hp_geo_close();
    assert_null(hp_geo_asn_build_date());
    expect_asn("8.8.8.8", 0, "");
}

/* Damage one copy of the image and check that it is refused as a whole. */
static void refused(const uint8_t *img, size_t n, const char *what)
{
    char err[512] = "";
    write_file(img, n);
    if (hp_geo_open(NULL, path, NULL, err, sizeof(err)) != -1)
        fail_msg("%s: accepted", what);
    assert_non_null(strstr(err, path));
    assert_null(hp_geo_asn_build_date());
    expect_asn("8.8.8.8", 0, "");
}

static void test_asn_damaged(void **state)
{
    static uint8_t good[65536], img[65536];
    size_t n = build(good);
    memcpy(img, good, n);
    img[0] = 'X';
    refused(img, n, "magic");
    refused(good, n - 1, "truncated");
    refused(good, 10, "short header");
    memcpy(img, good, n);
    img[n] = 'x';
    refused(img, n + 1, "trailing byte");
    memcpy(img, good, n);
    img[n - 1] = 'x';                          /* last name without its NUL */
    refused(img, n, "no final NUL");
    memcpy(img, good, n);
    le32(img + 12, 6);                          /* n4 disagrees with the offsets */
    refused(img, n, "count");
    memcpy(img, good, n);
    memcpy(img + 64, good + 64 + 16, 16);       /* two IPv4 records swapped: out of order */
    memcpy(img + 64 + 16, good + 64, 16);
    refused(img, n, "order");
    memcpy(img, good, n);
    memcpy(img + 64 + 16 + 4, img + 64 + 16, 4); /* end = start of the record: fine */
    write_file(img, n);
    assert_int_equal(hp_geo_open(NULL, path, NULL, NULL, 0), 0);
    memcpy(img, good, n);
    img[64 + 16] = 0;                           /* second range now starts at 0.0.4.0, inside the first */
    img[64 + 16 + 1] = 0;
    refused(img, n, "overlap");
    memcpy(img, good, n);
    le32(img + 64 + 12, 60000);                  /* name offset outside the string table */
    refused(img, n, "name offset");
    /* the last v4 range's end below its start */
    memcpy(img, good, n);
    img[64 + 4 * 16 + 4] = 0;
    refused(img, n, "end before start");
    hp_geo_close();
    /* missing files are not errors: that part is simply off */
    assert_int_equal(hp_geo_open("/nonexistent/c.mmdb", "/nonexistent/a.bin", NULL, NULL, 0), 0);
    assert_null(hp_geo_build_date());
    /* a file that is not an mmdb is */
    char err[512];
    write_file(good, n);
    assert_int_equal(hp_geo_open(path, NULL, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "country"));
    write_file(good, build(img));
}

static bool has(const struct hp_event *e, const char *frag)
{
    return strstr(e->json, frag) != NULL;
}

static void test_event_fields(void **state)
{
    assert_int_equal(hp_geo_open(NULL, path, NULL, NULL, 0), 0);
    struct hp_ev ev;
    hp_ev_begin(&ev, NULL, "session.connect");
    hp_geo_ev_fields(&ev, "127.0.0.1");
    struct hp_event *e = hp_ev_finish(&ev);
    assert_true(has(e, "\"src_special\":\"loopback\""));
    assert_false(has(e, "src_asn"));
    hp_event_unref(e);

    hp_ev_begin(&ev, NULL, "session.connect");
    hp_geo_ev_fields(&ev, "8.8.8.8");
    e = hp_ev_finish(&ev);
    assert_true(has(e, "\"src_asn\":15169,\"src_as_org\":\"Google LLC\""));
    assert_false(has(e, "src_special"));
    assert_false(has(e, "src_cc"));          /* no country database */
    assert_false(has(e, "src_city"));
    hp_event_unref(e);

    hp_ev_begin(&ev, NULL, "session.connect");
    hp_geo_ev_fields(&ev, "9.9.9.9");        /* ASN without a name: no empty src_as_org */
    e = hp_ev_finish(&ev);
    assert_true(has(e, "\"src_asn\":19281"));
    assert_false(has(e, "src_as_org"));
    hp_event_unref(e);
    hp_geo_close();
}

/* The installed databases (tools/geoip.sh), when present. */
static void test_installed(void **state)
{
    char c[4096], a[4096];
    hp_geo_default_path("country.mmdb", c, sizeof(c));
    hp_geo_default_path("asn.bin", a, sizeof(a));
    if (access(c, R_OK) != 0 || access(a, R_OK) != 0) {
        print_message("installed GeoIP databases not found (%s): skipped\n", c);
        skip();
    }
    char err[512];
    assert_int_equal(hp_geo_open(c, a, NULL, err, sizeof(err)), 0);
    const char *d = hp_geo_build_date();
    assert_non_null(d);
    assert_int_equal(strlen(d), 10);
    assert_true(d[4] == '-' && d[7] == '-' && strncmp(d, "20", 2) == 0);
    struct hp_geo g;
    hp_geo_lookup("8.8.8.8", &g);
    assert_string_equal(g.cc, "US");
    assert_string_equal(g.country, "United States");
    assert_int_equal(g.asn, 15169);
    hp_geo_lookup("2001:4860:4860::8888", &g);
    assert_string_equal(g.cc, "US");
    assert_int_equal(g.asn, 15169);
    hp_geo_lookup("1.1.1.1", &g);
    assert_int_equal(g.asn, 13335);
    assert_int_equal(strlen(g.cc), 2);
    assert_non_null(hp_geo_country_name(g.cc));
    hp_geo_lookup("::ffff:1.1.1.1", &g);
    assert_int_equal(g.asn, 13335);
    hp_geo_lookup("10.0.0.1", &g);
    assert_string_equal(g.special, "private");
    assert_string_equal(g.cc, "");
    hp_geo_close();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_special),
        cmocka_unit_test(test_country_names),
        cmocka_unit_test(test_asn_file),
        cmocka_unit_test(test_asn_damaged),
        cmocka_unit_test(test_event_fields),
        cmocka_unit_test(test_installed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
