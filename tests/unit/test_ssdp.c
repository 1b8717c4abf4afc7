/*
 * test_ssdp.c - unit tests for the SSDP parser and M-SEARCH answers
 * (src/proto/ssdp.c) and the UPnP personality shared with the HTTP rules.
 *
 * Parsing M-SEARCH / NOTIFY / responses / junk; which search targets the
 * router personality answers; the answer at each size level, the smallest
 * still carrying ST and LOCATION; the personality facts being consistent
 * (router: IGD device type and /rootDesc.xml) and stable between calls; and
 * the {{upnp:KEY}} template expanding in a response rule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "identity.h"
#include "proto/ssdp.h"

static bool eq(struct ssdp_str s, const char *c)
{
    return s.p && s.n == strlen(c) && memcmp(s.p, c, s.n) == 0;
}

static int parse(const char *s, struct ssdp_msg *m)
{
    return ssdp_parse((const uint8_t *)s, strlen(s), m);
}

static void test_parse(void **state)
{
    (void)state;
    struct ssdp_msg m;
    assert_int_equal(parse("M-SEARCH * HTTP/1.1\r\nHost:239.255.255.250:1900\r\nST:upnp:rootdevice\r\n"
                           "Man:\"ssdp:discover\"\r\nMX:3\r\n\r\n", &m), 0);
    assert_true(eq(m.method, "M-SEARCH"));
    assert_true(eq(m.uri, "*"));
    assert_true(eq(m.st, "upnp:rootdevice"));
    assert_true(eq(m.man, "\"ssdp:discover\""));
    assert_true(eq(m.mx, "3"));
    assert_int_equal(parse("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n"
                           "LOCATION: http://x/d.xml\r\nbad line\r\nUSN: uuid:1", &m), 0);
    assert_true(eq(m.nts, "ssdp:alive"));
    assert_true(eq(m.location, "http://x/d.xml"));
    assert_true(eq(m.usn, "uuid:1"));
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nST: x\r\n\r\n", &m), 0);
    assert_int_equal(parse("", &m), -1);
    assert_int_equal(parse("\x16\x03\x01 junk", &m), -1);
    assert_int_equal(parse("M-SEARCH *\r\n\r\n", &m), -1);
    assert_int_equal(parse("M-SEARCH * FTP/1.0\r\n\r\n", &m), -1);
}

static struct ssdp_str S(const char *s)
{
    return (struct ssdp_str){ s, strlen(s) };
}

static void test_reply(void **state)
{
    (void)state;
    hp_identity_set("upnp_personality", "router");
    hp_identity_set("upnp_device_type", "urn:schemas-upnp-org:device:InternetGatewayDevice:1");
    hp_identity_set("upnp_uuid", "11111111-2222-4333-8444-555555555555");
    hp_identity_set("upnp_server", "Linux/3.3.8, UPnP/1.0, MiniUPnPd/1.9");
    const char *loc = "http://192.0.2.1:80/rootDesc.xml";
    char out[1024];
    size_t n0 = ssdp_build_reply(S("ssdp:all"), loc, 0, out, sizeof(out));
    assert_true(n0 > 0);
    out[n0] = '\0';
    assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\n"));
    assert_non_null(strstr(out, "LOCATION: http://192.0.2.1:80/rootDesc.xml\r\n"));
    assert_non_null(strstr(out, "ST: upnp:rootdevice\r\nUSN: uuid:11111111-2222-4333-8444-555555555555::upnp:rootdevice\r\n\r\n"));
    size_t n1 = ssdp_build_reply(S("upnp:rootdevice"), loc, 1, out, sizeof(out));
    size_t n2 = ssdp_build_reply(S("upnp:rootdevice"), loc, 2, out, sizeof(out));
    assert_true(n0 > n1 && n1 > n2 && n2 > 0);
    out[n2] = '\0';
    assert_string_equal(out, "HTTP/1.1 200 OK\r\nST:upnp:rootdevice\r\nLOCATION:http://192.0.2.1:80/rootDesc.xml\r\n\r\n");
    assert_true(ssdp_build_reply(S("urn:schemas-upnp-org:service:WANIPConnection:1"), loc, 2, out, sizeof(out)) > 0);
    assert_true(ssdp_build_reply(S("uuid:11111111-2222-4333-8444-555555555555"), loc, 1, out, sizeof(out)) > 0);
    out[0] = '\0';
    assert_int_equal(ssdp_build_reply(S("urn:schemas-upnp-org:device:MediaRenderer:1"), loc, 0, out, sizeof(out)), 0);
    assert_int_equal(ssdp_build_reply(S("upnp:rootdevice"), loc, 2, out, 20), 0);
}

static void test_personality(void **state)
{
    (void)state;
    const char *a = hp_upnp_fact("friendly_name");
    assert_true(a[0] != '\0');
    assert_string_equal(hp_upnp_fact("friendly_name"), a);
    assert_string_equal(hp_upnp_fact("no_such_key"), "");
    assert_true(strlen(hp_upnp_fact("serial")) == 12);
    assert_true(strncmp(hp_upnp_fact("external_ip"), "100.", 4) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_reply),
        cmocka_unit_test(test_personality),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
