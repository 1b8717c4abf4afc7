/*
 * test_knowledge.c - src/intel/knowledge.c: the compiled-in credential, port
 * and CVE facts.
 *
 * Checks that every data line of data/knowledge/ (the three .tsv files) parses (the loader is
 * strict, and the line counts read here from the source files must equal
 * what it loaded), that Mirai's 62 scanner.c pairs are all there and marked,
 * the lookup precedence (pair, user with any password, password with any
 * user), ports by protocol, that every CVE named in data/http/classify.rules
 * has an entry, the event annotation, and the parser's errors on bad lines.
 * Run from the top of the tree (paths are relative, like the other tests).
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
#include "intel/knowledge.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* Data lines of a .tsv: not blank, not a comment. */
static size_t data_lines(const char *path)
{
    size_t len, n = 0;
    char *t = slurp(path, &len), *save = NULL;
    for (char *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        n += l[0] != '#' && l[0] != '\r';
    free(t);
    return n;
}

static bool has_botnet(const struct hp_cred_info *ci, const char *name)
{
    for (size_t i = 0; i < ci->nbotnets; i++)
        if (strcmp(ci->botnets[i], name) == 0)
            return true;
    return false;
}

static const struct hp_cred_info *cred(const char *u, const char *p)
{
    return hp_knowledge_cred(u, strlen(u), p, strlen(p));
}

static void test_init_and_every_line(void **state)
{
    char err[256] = "";
    struct hp_knowledge_stats st;

    assert_int_equal(hp_knowledge_init(err, sizeof(err)), 0);
    assert_int_equal(hp_knowledge_init(err, sizeof(err)), 0);      /* idempotent */
    hp_knowledge_get_stats(&st);
    assert_int_equal(st.cred_lines, data_lines("data/knowledge/credentials.tsv"));
    assert_int_equal(st.port_lines, data_lines("data/knowledge/ports.tsv"));
    assert_int_equal(st.cve_lines, data_lines("data/knowledge/cves.tsv"));
    assert_true(st.cred_lines >= 150 && st.port_lines >= 100 && st.cve_lines >= 80);
    assert_int_equal(st.creds, st.cred_lines - 1);   /* Mirai lists guest/12345 twice */
    assert_int_equal(st.ports, st.port_lines);
    assert_int_equal(st.cves, st.cve_lines);

    /* each file also passes the stand-alone checker */
    static const char *const names[] = { "credentials.tsv", "ports.tsv", "cves.tsv" };
    for (size_t i = 0; i < 3; i++) {
        char path[64];
        size_t len;
        snprintf(path, sizeof(path), "data/knowledge/%s", names[i]);
        char *t = slurp(path, &len);
        assert_int_equal(hp_knowledge_check(names[i], t, len, err, sizeof(err)), 0);
        free(t);
    }
}

/* Every line of the file marked "mirai" is one of scanner.c's 62 entries and
 * looks itself up with "mirai" in its botnets. */
static void test_mirai_table(void **state)
{
    size_t len, n = 0;
    char *t = slurp("data/knowledge/credentials.tsv", &len), *save = NULL;
    for (char *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *f[4], *s = l;
        if (l[0] == '#')
            continue;
        for (int i = 0; i < 4; i++) {
            f[i] = s;
            s = strchr(s, '\t');
            if (i < 3) {
                assert_non_null(s);
                *s++ = '\0';
            }
        }
        /* an empty password is the empty field (strtok_r would merge tabs, strchr does not) */
        if (strcmp(f[3], "mirai") != 0)
            continue;
        n++;
        const struct hp_cred_info *ci = cred(f[0], f[1]);
        assert_non_null(ci);
        assert_int_equal(ci->match, HP_CRED_PAIR);
        assert_true(has_botnet(ci, "mirai"));
    }
    free(t);
    assert_int_equal(n, 62);
}

static void test_cred_lookups(void **state)
{
    const struct hp_cred_info *ci;

    ci = cred("root", "xc3511");
    assert_non_null(ci);
    assert_non_null(strstr(ci->vendor, "Xiongmai"));
    assert_true(has_botnet(ci, "mirai"));
    assert_int_equal(ci->match, HP_CRED_PAIR);

    assert_non_null(strstr(cred("root", "7ujMko0admin")->vendor, "Dahua"));
    assert_non_null(strstr(cred("root", "Zte521")->vendor, "ZTE"));
    assert_non_null(strstr(cred("ubnt", "ubnt")->vendor, "Ubiquiti"));
    assert_non_null(strstr(cred("pi", "raspberry")->vendor, "Raspberry Pi"));
    assert_non_null(strstr(cred("telecomadmin", "admintelecom")->vendor, "Huawei"));
    assert_non_null(strstr(cred("admin", "CentryL1nk")->vendor, "ZyXEL"));
    assert_true(has_botnet(cred("admin", "CentryL1nk"), "mirai-variants"));
    assert_non_null(strstr(cred("root", "")->vendor, "Vivotek"));     /* empty password */
    assert_non_null(strstr(cred("Administrator", "meinsm")->vendor, "Mobotix"));
    assert_int_equal(cred("pi", "raspberry")->nbotnets, 0);            /* "-" */

    /* precedence: pair, then user with any password, then password with any user */
    ci = cred("PlcmSpIp", "PlcmSpIp");
    assert_int_equal(ci->match, HP_CRED_PAIR);
    ci = cred("PlcmSpIp", "whatever");
    assert_non_null(ci);
    assert_int_equal(ci->match, HP_CRED_USER);
    assert_non_null(strstr(ci->vendor, "Polycom"));
    ci = cred("someone", "xc3511");
    assert_non_null(ci);
    assert_int_equal(ci->match, HP_CRED_PASS);
    assert_non_null(strstr(ci->vendor, "Xiongmai"));
    assert_int_equal(ci->nbotnets, 0);
    ci = cred("pi", "CenturyL1nk");                 /* user entry beats password entry */
    assert_int_equal(ci->match, HP_CRED_USER);
    ci = cred("x", "CenturyL1nk");
    assert_int_equal(ci->match, HP_CRED_PASS);
    assert_non_null(strstr(ci->vendor, "ZyXEL"));

    /* unknown, case, lengths, NUL bytes, empty */
    assert_null(cred("root", "not-a-default-9f2c"));
    assert_null(cred("ROOT", "XC3511-"));
    assert_null(cred("root", "XC3511"));
    ci = hp_knowledge_cred("root\0", 5, "xc3511", 6);     /* not root's pair: the password entry */
    assert_int_equal(ci->match, HP_CRED_PASS);
    assert_null(hp_knowledge_cred("root", 4, "xc3511\0", 7));
    assert_null(cred("", ""));
    assert_null(cred("nobody-here", ""));
    assert_null(hp_knowledge_cred(NULL, 0, NULL, 0));
    char big[HP_KN_MAX_FIELD + 2];
    memset(big, 'a', sizeof(big));
    assert_null(hp_knowledge_cred(big, sizeof(big), "xc3511", 6));
    assert_null(hp_knowledge_cred("root", 4, big, sizeof(big)));
}

static bool has_campaign(const struct hp_port_info *pi, const char *name)
{
    for (size_t i = 0; i < pi->ncampaigns; i++)
        if (strcmp(pi->campaigns[i], name) == 0)
            return true;
    return false;
}

static void test_ports(void **state)
{
    const struct hp_port_info *pi;

    pi = hp_knowledge_port(52869, "tcp");
    assert_non_null(pi);
    assert_non_null(strstr(pi->service, "Realtek"));
    assert_true(has_campaign(pi, "satori"));
    pi = hp_knowledge_port(37215, "TCP");
    assert_non_null(strstr(pi->service, "Huawei"));
    assert_true(has_campaign(pi, "satori"));
    assert_non_null(strstr(hp_knowledge_port(5038, "tcp")->service, "Asterisk"));
    assert_non_null(strstr(hp_knowledge_port(7001, NULL)->service, "WebLogic"));
    assert_non_null(strstr(hp_knowledge_port(8545, "tcp")->service, "Ethereum"));
    assert_true(has_campaign(hp_knowledge_port(23, "tcp"), "mirai"));
    assert_true(has_campaign(hp_knowledge_port(2323, "tcp"), "mirai"));
    assert_true(has_campaign(hp_knowledge_port(5555, "tcp"), "adb.miner"));
    assert_non_null(hp_knowledge_port(6379, "tcp"));
    assert_non_null(hp_knowledge_port(2375, "tcp"));
    assert_non_null(hp_knowledge_port(7547, "tcp"));
    assert_non_null(hp_knowledge_port(37777, "tcp"));
    assert_non_null(hp_knowledge_port(9527, "tcp"));

    pi = hp_knowledge_port(53, NULL);               /* NULL: tcp first */
    assert_string_equal(pi->proto, "tcp");
    pi = hp_knowledge_port(1900, NULL);             /* then udp */
    assert_string_equal(pi->proto, "udp");
    assert_int_equal(pi->port, 1900);
    assert_null(hp_knowledge_port(1900, "tcp"));
    assert_null(hp_knowledge_port(23, "udp"));
    assert_null(hp_knowledge_port(23, "sctp"));
    assert_null(hp_knowledge_port(0, NULL));
    assert_null(hp_knowledge_port(65535, NULL));
    assert_int_equal(hp_knowledge_port(21, "tcp")->ncampaigns, 0);
}

static void test_cves(void **state)
{
    const struct hp_cve_info *ci = hp_knowledge_cve("CVE-2017-17215");
    assert_non_null(ci);
    assert_non_null(strstr(ci->product, "Huawei"));
    ci = hp_knowledge_cve("cve-2021-44228");
    assert_non_null(ci);
    assert_string_equal(ci->id, "CVE-2021-44228");
    assert_non_null(strstr(ci->name, "Log4Shell"));
    assert_null(hp_knowledge_cve("CVE-1999-0001"));
    assert_null(hp_knowledge_cve(""));
    assert_null(hp_knowledge_cve(NULL));
    assert_null(hp_knowledge_cve("CVE-2021-44228-and-a-very-long-tail-that-cannot-be-an-id"));
}

/* Every CVE id named in a file of rules has a cves.tsv entry; how many ids. */
static size_t rules_cves_known(const char *path)
{
    size_t len, n = 0;
    char *t = slurp(path, &len);
    for (char *p = t; (p = strstr(p, "CVE-")) != NULL;) {
        char id[40];
        size_t k = 0;
        while (k < sizeof(id) - 1 && (p[k] == '-' || (p[k] >= '0' && p[k] <= '9') || (k < 3))) {
            id[k] = p[k];
            k++;
        }
        id[k] = '\0';
        p += k;
        if (k < 13)                 /* "CVE-YYYY-N" in a comment's prose, e.g. the format line */
            continue;
        n++;
        if (!hp_knowledge_cve(id))
            fail_msg("%s (%s) has no line in data/knowledge/cves.tsv", id, path);
    }
    free(t);
    return n;
}

/* ... in the HTTP classification rules, the trap's exploit rules and the modules' events. */
static void test_classify_rules_cves(void **state)
{
    (void)state;
    assert_true(rules_cves_known("data/http/classify.rules") >= 20);
    assert_true(rules_cves_known("data/trap/exploits.yar") >= 15);
    /* and the modules that put CVEs on their own exploit events */
    static const char *const modules[] = { "src/proto/smb1.c", "src/proto/redis.c", "src/proto/pgsql.c",
                                           "src/proto/smtp.c" };
    for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
        assert_true(rules_cves_known(modules[i]) >= 1);
}

static char *event_json(const char *user, size_t ulen, const char *pass, size_t plen)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, NULL, "login.failed");
    hp_ev_bytes(&ev, "username", user, ulen);
    hp_knowledge_ev_cred(&ev, user, ulen, pass, plen);
    struct hp_event *e = hp_ev_finish(&ev);
    assert_non_null(e);
    char *s = strndup(e->json, e->json_len);
    hp_event_unref(e);
    return s;
}

static void test_event_annotation(void **state)
{
    char *j = event_json("root", 4, "xc3511", 6);
    assert_non_null(strstr(j, "\"cred_device\":\"Xiongmai"));
    assert_non_null(strstr(j, "\"cred_botnets\":[\"mirai\"]"));
    assert_non_null(strstr(j, "\"cred_match\":\"pair\""));
    free(j);
    j = event_json("x", 1, "PlcmSpIp", 8);
    assert_non_null(strstr(j, "\"cred_botnets\":[]"));
    assert_non_null(strstr(j, "\"cred_match\":\"password\""));
    free(j);
    j = event_json("nobody", 6, "unknown-pw-31", 13);
    assert_null(strstr(j, "cred_"));
    free(j);
}

struct bad {
    const char *file, *text, *msg;
};

static void test_parse_errors(void **state)
{
    static const struct bad bad[] = {
        { "credentials.tsv", "# c\nroot\txc3511\tX\n", "credentials.tsv:2: 3 TAB-separated fields, expected 4" },
        { "credentials.tsv", "root\txc3511\tX\tmirai\textra\n", "credentials.tsv:1: 5 TAB" },
        { "credentials.tsv", "*\t*\tX\t-\n", "both be '*'" },
        { "credentials.tsv", "\t*\tX\t-\n", "'*' password needs a user" },
        { "credentials.tsv", "*\t\tX\t-\n", "'*' user needs a password" },
        { "credentials.tsv", "a\tb\t\t-\n", "empty vendor/device" },
        { "credentials.tsv", "a\tb\tX\tMirai\n", "name 'Mirai'" },
        { "credentials.tsv", "a\tb\tX\tmirai,,x\n", "empty name" },
        { "credentials.tsv", "a\tb\tX\ta,b,c,d,e,f,g,h,i\n", "more than 8 names" },
        { "credentials.tsv", "a\\q\tb\tX\t-\n", "bad escape \\q" },
        { "credentials.tsv", "a\tb\\x4\tX\t-\n", "bad \\x escape" },
        { "credentials.tsv", "a\tb\tX\\x00\t-\n", "\\x00 is allowed only" },
        { "ports.tsv", "\n\n\n65536\ttcp\tX\t-\n", "ports.tsv:4: port '65536' is not in 1..65535" },
        { "ports.tsv", "0\ttcp\tX\t-\n", "not in 1..65535" },
        { "ports.tsv", "-1\ttcp\tX\t-\n", "not a number" },
        { "ports.tsv", "22x\ttcp\tX\t-\n", "not in 1..65535" },
        { "ports.tsv", "22\tsctp\tX\t-\n", "proto 'sctp'" },
        { "ports.tsv", "22\ttcp\t\t-\n", "empty service" },
        { "cves.tsv", "CVE-17-1\tP\tN\n", "not a CVE id" },
        { "cves.tsv", "CVE-2017-12x45\tP\tN\n", "not a CVE id" },
        { "cves.tsv", "CVE-2017-1234\tP\n", "2 TAB-separated fields, expected 3" },
        { "cves.tsv", "CVE-2017-1234\t\tN\n", "empty product" },
        { "nope.tsv", "", "not a knowledge file name" },
    };
    char err[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(hp_knowledge_check(bad[i].file, bad[i].text, strlen(bad[i].text), err, sizeof(err)), -1);
        if (!strstr(err, bad[i].msg))
            fail_msg("case %zu: error '%s', expected to contain '%s'", i, err, bad[i].msg);
    }
    /* valid: escapes, CRLF, a literal '*' password, repeated keys, an empty file */
    static const char *const good[][2] = {
        { "credentials.tsv", "# x\r\nroot\t\\*\tStar\t-\r\na\\tb\t\\x41\\\\\tY\ta.b-c,d_e\r\nroot\t\\*\tDup\t-\n" },
        { "ports.tsv", "22\ttcp\tSSH\t-\n22\tudp\tX\t-\n22\ttcp\tagain\t-" },
        { "cves.tsv", "cve-2017-1234\tP\tN\n" },
        { "cves.tsv", "" },
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (hp_knowledge_check(good[i][0], good[i][1], strlen(good[i][1]), err, sizeof(err)) != 0)
            fail_msg("good case %zu: %s", i, err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_and_every_line),
        cmocka_unit_test(test_mirai_table),
        cmocka_unit_test(test_cred_lookups),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_cves),
        cmocka_unit_test(test_classify_rules_cves),
        cmocka_unit_test(test_event_annotation),
        cmocka_unit_test(test_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
