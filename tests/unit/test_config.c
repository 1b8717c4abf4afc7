/*
 * test_config.c - unit tests for configuration loading (src/core/config.c)
 * and the value parsers it uses (src/core/util.c).
 *
 * Covers hp_config_load_string on a full valid configuration ([sensor],
 * [limits], [output jsonl], [output sqlite], [service] with protocol trap and
 * all its keys, bind with IPv4 and [::1], tcp_ports with ranges and inih
 * continuation lines, udp_ports) checking every parsed field; the defaults;
 * every error case with its exact "NAME:LINE: message" (unknown section,
 * unknown key, bad number/size/duration, bad port, reversed range, duplicate
 * service, missing/unknown protocol, unknown or bad trap key, key outside a
 * section, syntax error, tcp and udp port conflicts, no service, bad bind
 * address, overlong lines); agreement with inih on continuation lines that
 * start with '[' and on a UTF-8 BOM; hp_config_load on a file;
 * hp_parse_ports, hp_parse_size and hp_parse_duration_ms.  Every config is
 * released with hp_config_free (the sanitizer build checks for leaks).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "proto.h"
#include "util.h"

/* ---- helpers ------------------------------------------------------------- */

/* A loadable configuration needs an enabled output; one is appended (after
 * the text, so line numbers in it do not move) unless the text has one. */
static struct hp_config *load_ok(const char *text)
{
    char err[512] = "";
    char *full;
    if (asprintf(&full, "%s%s", text, strstr(text, "[output ") ? "" : "\n[output jsonl]\n") < 0)
        fail_msg("asprintf");
    struct hp_config *c = hp_config_load_string(full, "t.ini", err, sizeof(err));
    free(full);
    if (!c)
        fail_msg("unexpected error: %s", err);
    return c;
}

/* Loading must fail with exactly this message. */
static void load_err(const char *text, const char *expect)
{
    char err[512];
    memset(err, 'X', sizeof(err));
    err[sizeof(err) - 1] = '\0';
    struct hp_config *c = hp_config_load_string(text, "t.ini", err, sizeof(err));
    if (c) {
        hp_config_free(c);
        fail_msg("loaded although it should fail with: %s", expect);
    }
    assert_string_equal(err, expect);
}

static void assert_ports(const uint16_t *p, size_t n, const uint16_t *expect, size_t nexpect)
{
    assert_int_equal(n, nexpect);
    for (size_t i = 0; i < n; i++)
        if (p[i] != expect[i])
            fail_msg("port %zu is %u, expected %u", i, p[i], expect[i]);
}

static void assert_kv(const struct hp_kv *kv, const char *key, const char *value, int line)
{
    assert_non_null(kv);
    assert_string_equal(kv->key, key);
    assert_string_equal(kv->value, value);
    assert_int_equal(kv->line, line);
}

#define SVC_OK "[service a]\nprotocol = trap\ntcp_ports = 1\n"

/* ---- a full valid configuration ---------------------------------------------- */

static const char full_cfg[] =
    "; hanipo test configuration\n"                       /* 1 */
    "# another comment style\n"                           /* 2 */
    "[sensor]\n"                                          /* 3 */
    "name = test-sensor\n"                                /* 4 */
    "data_dir = /tmp/hp data\n"                           /* 5 */
    "user = hpuser\n"                                     /* 6 */
    "log_file = /tmp/hp.log\n"                            /* 7 */
    "log_level = debug\n"                                 /* 8 */
    "retention_days = 7\n"                                /* 9 */
    "disk_floor = 1G\n"                                   /* 10 */
    "\n"                                                  /* 11 */
    "[limits]\n"                                          /* 12 */
    "max_connections = 100\n"                             /* 13 */
    "max_per_source = 5\n"                                /* 14 */
    "queue_events = 1000\n"                               /* 15 */
    "queue_bytes = 8M\n"                                  /* 16 */
    "stats_interval = 30s\n"                              /* 17 */
    "\n"                                                  /* 18 */
    "[output jsonl]\n"                                    /* 19 */
    "enabled = true\n"                                    /* 20 */
    "dir = /tmp/hp-log    ; inline comment\n"             /* 21 */
    "fsync = yes\n"                                       /* 22 */
    "\n"                                                  /* 23 */
    "[output sqlite]\n"                                   /* 24 */
    "enabled = off\n"                                     /* 25 */
    "path = /tmp/hp.sqlite\n"                             /* 26 */
    "\n"                                                  /* 27 */
    "[service web]\n"                                     /* 28 */
    "protocol = trap\n"                                   /* 29 */
    "bind = 127.0.0.1 [::1]\n"                            /* 30 */
    "bind = 0.0.0.0, ::\n"                                /* 31 */
    "tcp_ports = 8080 8000-8003, 80\n"                    /* 32 */
    "            9000 80\n"                               /* 33 */
    "\t65535\n"                                           /* 34 */
    "udp_ports = 161-162 53\n"                            /* 35 */
    "idle_timeout = 500ms\n"                              /* 36 */
    "max_duration = 2h\n"                                 /* 37 */
    "max_input = 512K\n"                                  /* 38 */
    "chunk_size = 4K\n"                                   /* 39 */
    "max_capture = 64M\n"                                 /* 40 */
    "flush_after = 2s\n"                                  /* 41 */
    "banner_delay = 1m\n"                                 /* 42 */
    "banner = SSH-2.0-OpenSSH_8.9\\r\\n\n"                /* 43 */
    "http_reply = false\n"                                /* 44 */
    "\n"                                                  /* 45 */
    "[service other]\n"                                   /* 46 */
    "protocol = trap\n"                                   /* 47 */
    "tcp_ports = 2323\n";                                 /* 48 */

static void test_full_config(void **state)
{
    (void)state;
    struct hp_config *c = load_ok(full_cfg);
    assert_string_equal(c->path, "t.ini");
    assert_string_equal(c->sensor_name, "test-sensor");
    assert_string_equal(c->data_dir, "/tmp/hp data");
    assert_string_equal(c->user, "hpuser");
    assert_string_equal(c->log_file, "/tmp/hp.log");
    assert_string_equal(c->log_level, "debug");
    assert_int_equal(c->retention_days, 7);
    assert_true(c->disk_floor == 1ull << 30);
    assert_int_equal(c->max_connections, 100);
    assert_int_equal(c->max_per_source, 5);
    assert_int_equal(c->queue_events, 1000);
    assert_int_equal(c->queue_bytes, 8u << 20);
    assert_int_equal(c->stats_interval_ms, 30000);

    assert_int_equal(c->noutputs, 2);
    assert_string_equal(c->outputs[0].name, "jsonl");
    assert_int_equal(c->outputs[0].line, 19);
    assert_true(c->outputs[0].enabled);
    assert_kv(c->outputs[0].opts, "dir", "/tmp/hp-log", 21);
    assert_kv(c->outputs[0].opts->next, "fsync", "yes", 22);
    assert_null(c->outputs[0].opts->next->next);
    assert_string_equal(c->outputs[1].name, "sqlite");
    assert_int_equal(c->outputs[1].line, 24);
    assert_false(c->outputs[1].enabled);
    assert_kv(c->outputs[1].opts, "path", "/tmp/hp.sqlite", 26);
    assert_null(c->outputs[1].opts->next);
    assert_ptr_equal(hp_kv_find(c->outputs[0].opts, "fsync"), c->outputs[0].opts->next);
    assert_null(hp_kv_find(c->outputs[0].opts, "enabled"));

    assert_int_equal(c->nservices, 2);
    struct hp_service_cfg *s = &c->services[0];
    assert_string_equal(s->name, "web");
    assert_int_equal(s->line, 28);
    assert_non_null(s->proto);
    assert_ptr_equal(s->proto, hp_proto_find("trap"));
    assert_string_equal(s->proto->name, "trap");
    assert_int_equal(s->nbind, 4);
    assert_string_equal(s->bind[0], "127.0.0.1");
    assert_string_equal(s->bind[1], "::1");        /* brackets removed */
    assert_string_equal(s->bind[2], "0.0.0.0");
    assert_string_equal(s->bind[3], "::");
    static const uint16_t tcp[] = { 80, 8000, 8001, 8002, 8003, 8080, 9000, 65535 };
    assert_ports(s->tcp_ports, s->ntcp, tcp, 8);
    static const uint16_t udp[] = { 53, 161, 162 };
    assert_ports(s->udp_ports, s->nudp, udp, 3);
    assert_int_equal(s->idle_timeout_ms, 500);
    assert_int_equal(s->max_duration_ms, 2 * 3600000);
    assert_int_equal(s->max_input, 512 * 1024);
    /* protocol keys are kept in order with their lines */
    const struct hp_kv *kv = s->opts;
    assert_kv(kv, "chunk_size", "4K", 39);
    assert_kv(kv = kv->next, "max_capture", "64M", 40);
    assert_kv(kv = kv->next, "flush_after", "2s", 41);
    assert_kv(kv = kv->next, "banner_delay", "1m", 42);
    assert_kv(kv = kv->next, "banner", "SSH-2.0-OpenSSH_8.9\\r\\n", 43);
    assert_kv(kv = kv->next, "http_reply", "false", 44);
    assert_null(kv->next);
    assert_non_null(s->proto_conf);               /* trap's configure ran */

    s = &c->services[1];
    assert_string_equal(s->name, "other");
    assert_int_equal(s->line, 46);
    assert_int_equal(s->nbind, 1);
    assert_string_equal(s->bind[0], "127.0.0.1");  /* default */
    static const uint16_t tcp2[] = { 2323 };
    assert_ports(s->tcp_ports, s->ntcp, tcp2, 1);
    assert_int_equal(s->nudp, 0);
    assert_null(s->opts);
    assert_non_null(s->proto_conf);
    hp_config_free(c);
}

static void test_defaults(void **state)
{
    (void)state;
    char host[256] = "hanipo";
    gethostname(host, sizeof(host) - 1);
    struct hp_config *c = load_ok(SVC_OK);
    assert_string_equal(c->sensor_name, host);
    assert_string_equal(c->data_dir, "/var/lib/hanipo");
    assert_string_equal(c->user, "nobody");
    assert_string_equal(c->log_file, "");
    assert_string_equal(c->log_level, "info");
    assert_int_equal(c->retention_days, 30);
    assert_true(c->disk_floor == 512ull << 20);
    assert_int_equal(c->max_connections, 4096);
    assert_int_equal(c->max_per_source, 64);
    assert_int_equal(c->queue_events, 65536);
    assert_true(c->queue_bytes == 64ull << 20);
    assert_int_equal(c->stats_interval_ms, 60000);
    assert_int_equal(c->noutputs, 1);          /* the [output jsonl] load_ok() appends */
    assert_true(c->outputs[0].enabled);
    assert_int_equal(c->nservices, 1);
    struct hp_service_cfg *s = &c->services[0];
    assert_int_equal(s->nbind, 1);
    assert_string_equal(s->bind[0], "127.0.0.1");
    assert_int_equal(s->idle_timeout_ms, 60000);
    assert_int_equal(s->max_duration_ms, 3600000);
    assert_int_equal(s->max_input, 1024 * 1024);
    assert_int_equal(s->nudp, 0);
    assert_null(s->opts);
    hp_config_free(c);

    /* an output section without keys is enabled by default */
    c = load_ok("[output jsonl]\n" SVC_OK);
    assert_int_equal(c->noutputs, 1);
    assert_true(c->outputs[0].enabled);
    assert_null(c->outputs[0].opts);
    hp_config_free(c);

    /* a UDP-only service is fine */
    c = load_ok("[service u]\nprotocol = trap\nudp_ports = 5353\n");
    assert_int_equal(c->services[0].ntcp, 0);
    assert_int_equal(c->services[0].nudp, 1);
    assert_int_equal(c->services[0].udp_ports[0], 5353);
    hp_config_free(c);

    /* "name: value" is accepted like "name = value"; values are trimmed */
    c = load_ok("[sensor]\nname:   spaced   \n" SVC_OK);
    assert_string_equal(c->sensor_name, "spaced");
    hp_config_free(c);
}

/* ---- [capture] ------------------------------------------------------------------------ */

static void test_capture_section(void **state)
{
    (void)state;
    struct hp_config *c = load_ok(SVC_OK);
    assert_true(c->capture.fetch);                          /* the defaults */
    assert_int_equal(c->capture.max_size, 20u << 20);
    assert_int_equal(c->capture.timeout_ms, 60000);
    assert_int_equal(c->capture.quota, 2ull << 30);
    assert_int_equal(c->capture.per_host, 32);
    assert_null(c->capture.allow);
    hp_config_free(c);
    c = load_ok("[capture]\nfetch = false\nmax_size = 1M\ntimeout = 5s\nconcurrency = 2\nqueue = 0\n"
                "dedup_window = 0\nretries = 3\nretry_delay = 500ms\nquota = 10M\ndepth = 0\n"
                "per_session = 5\nper_host = 7\nshell_wait = 2s\nallow = 127.0.0.1/32, 10.0.0.0/8 ::1\n"
                "yara_rules = /etc/hanipo/yara\n" SVC_OK);
    assert_false(c->capture.fetch);
    assert_int_equal(c->capture.max_size, 1u << 20);
    assert_int_equal(c->capture.timeout_ms, 5000);
    assert_int_equal(c->capture.concurrency, 2);
    assert_int_equal(c->capture.queue, 0);
    assert_int_equal(c->capture.dedup_window_ms, 0);
    assert_int_equal(c->capture.retries, 3);
    assert_int_equal(c->capture.retry_delay_ms, 500);
    assert_int_equal(c->capture.quota, 10u << 20);
    assert_int_equal(c->capture.depth, 0);
    assert_int_equal(c->capture.per_session, 5);
    assert_int_equal(c->capture.per_host, 7);
    assert_int_equal(c->capture.shell_wait_ms, 2000);
    assert_string_equal(c->capture.allow, "127.0.0.1/32, 10.0.0.0/8 ::1");
    assert_string_equal(c->capture.yara_rules, "/etc/hanipo/yara");
    hp_config_free(c);
    load_err("[capture]\nallow = 10.0.0.0/33\n" SVC_OK,
             "t.ini:2: allow: '10.0.0.0/33' is not an address or CIDR range");
    load_err("[capture]\nfetch = maybe\n" SVC_OK, "t.ini:2: fetch: expected true or false, got 'maybe'");
    load_err("[capture]\nconcurrency = 0\n" SVC_OK,
             "t.ini:2: concurrency: expected a whole number from 1 to 256, got '0'");
    load_err("[capture]\nmax_size = 12X\n" SVC_OK,
             "t.ini:2: max_size: expected a size such as 512K, 64M or 2G, got '12X'");
    load_err("[capture]\ndepth = 9\n" SVC_OK, "t.ini:2: depth: expected a whole number from 0 to 5, got '9'");
    load_err("[capture]\nfetchh = true\n" SVC_OK, "t.ini:2: unknown key 'fetchh' in [capture]");
}

/* ---- errors: each one names the file and the right line ------------------------ */

static void test_err_unknown_section(void **state)
{
    (void)state;
    load_err("[sensor]\nname = x\n[bogus]\nfoo = 1\n" SVC_OK,
             "t.ini:3: unknown section [bogus] (expected [sensor], [limits], [capture], [dashboard], [report], [output NAME] or [service NAME])");
    /* even an empty one */
    load_err(SVC_OK "\n[Sensor]\n",
             "t.ini:5: unknown section [Sensor] (expected [sensor], [limits], [capture], [dashboard], [report], [output NAME] or [service NAME])");
    load_err("[output json]\n" SVC_OK, "t.ini:1: [output json]: unknown output (known: jsonl, sqlite)");
    load_err("[output jsonl]\n[output jsonl]\n" SVC_OK, "t.ini:2: [output jsonl] appears twice");
    load_err("[service a b]\nprotocol = trap\n",
             "t.ini:1: [service a b]: a service name is 1-40 letters, digits, '-', '_' or '.'");
    load_err("[service ]\nprotocol = trap\n",
             "t.ini:1: [service ]: a service name is 1-40 letters, digits, '-', '_' or '.'");
    load_err("\n\n[service 012345678901234567890123456789012345678901234]\n",
             "t.ini:3: section name is too long");
}

static void test_err_unknown_key(void **state)
{
    (void)state;
    load_err("; c\n[sensor]\nname = x\nnmae = y\n" SVC_OK, "t.ini:4: unknown key 'nmae' in [sensor]");
    load_err("[limits]\n\nmax_conections = 5\n" SVC_OK, "t.ini:3: unknown key 'max_conections' in [limits]");
    load_err("[sensor]\nlog_level = verbose\n" SVC_OK,
             "t.ini:2: log_level: expected debug, info, warn or error, got 'verbose'");
    load_err("[sensor]\nname =\n" SVC_OK, "t.ini:2: name: must be 1 to 100 characters");
    load_err("[sensor]\ndata_dir =\n" SVC_OK, "t.ini:2: data_dir: must not be empty");
    load_err("[output sqlite]\nenabled = maybe\n" SVC_OK, "t.ini:2: enabled: expected true or false, got 'maybe'");
}

static void test_err_bad_number(void **state)
{
    (void)state;
    load_err("[limits]\nmax_connections = 12abc\n" SVC_OK,
             "t.ini:2: max_connections: expected a whole number from 1 to 1000000, got '12abc'");
    load_err("[limits]\nmax_connections = 0\n" SVC_OK,
             "t.ini:2: max_connections: expected a whole number from 1 to 1000000, got '0'");
    load_err("[limits]\nmax_per_source = 1000001\n" SVC_OK,
             "t.ini:2: max_per_source: expected a whole number from 1 to 1000000, got '1000001'");
    load_err("[limits]\nqueue_events = -20\n" SVC_OK,
             "t.ini:2: queue_events: expected a whole number from 16 to 10000000, got '-20'");
    load_err("[sensor]\nretention_days = 99999999999999999999999\n" SVC_OK,
             "t.ini:2: retention_days: expected a whole number from 0 to 36500, got '99999999999999999999999'");
}

static void test_err_bad_size(void **state)
{
    (void)state;
    load_err("[sensor]\n\ndisk_floor = 12X\n" SVC_OK,
             "t.ini:3: disk_floor: expected a size such as 512K, 64M or 2G, got '12X'");
    load_err("[limits]\nqueue_bytes = 1M\n" SVC_OK, "t.ini:2: queue_bytes: must be at least 2M");
    load_err(SVC_OK "max_input = 1.5M\n",
             "t.ini:4: max_input: expected a size such as 512K, 64M or 2G, got '1.5M'");
}

static void test_err_bad_duration(void **state)
{
    (void)state;
    load_err("[limits]\nstats_interval = 5 parsecs\n" SVC_OK,
             "t.ini:2: stats_interval: expected a duration such as 500ms, 30s, 5m or 1h, got '5 parsecs'");
    load_err(SVC_OK "idle_timeout = 1w\n",
             "t.ini:4: idle_timeout: expected a duration such as 500ms, 30s, 5m or 1h, got '1w'");
    load_err(SVC_OK "max_duration = s\n",
             "t.ini:4: max_duration: expected a duration such as 500ms, 30s, 5m or 1h, got 's'");
}

static void test_err_bad_port(void **state)
{
    (void)state;
    load_err("[service a]\nprotocol = trap\ntcp_ports = 80 70000\n",
             "t.ini:3: tcp_ports: bad port or range '70000'");
    load_err("[service a]\nprotocol = trap\nudp_ports = 53 90-80\n",
             "t.ini:3: udp_ports: bad port or range '90-80'");
    load_err("[service a]\nprotocol = trap\ntcp_ports = 0\n", "t.ini:3: tcp_ports: bad port or range '0'");
    /* on a continuation line, the continuation's own line is named */
    load_err("[service a]\nprotocol = trap\ntcp_ports = 80\n   81 http\n",
             "t.ini:4: tcp_ports: bad port or range 'http'");
}

static void test_err_duplicate_service(void **state)
{
    (void)state;
    load_err(SVC_OK "\n[service b]\nprotocol = trap\ntcp_ports = 2\n[service a]\nprotocol = trap\n",
             "t.ini:8: [service a] appears twice");
}

static void test_err_protocol(void **state)
{
    (void)state;
    load_err("[sensor]\nname = x\n[service a]\ntcp_ports = 1\n",
             "t.ini:3: [service a]: 'protocol' is required");
    load_err(SVC_OK "[service b]\n\n", "t.ini:4: [service b]: 'protocol' is required");
    /* the message lists the registered protocols, in registry order */
    size_t n;
    const struct hp_proto *const *all = hp_proto_all(&n);
    char known[512] = "", expect[700];
    for (size_t i = 0; i < n; i++) {
        strcat(known, i ? ", " : "");
        strcat(known, all[i]->name);
    }
    assert_string_equal(all[0]->name, "trap");
    snprintf(expect, sizeof(expect), "t.ini:2: protocol: unknown protocol 'sshd' (known: %s)", known);
    load_err("[service a]\nprotocol = sshd\ntcp_ports = 22\n", expect);
    snprintf(expect, sizeof(expect), "t.ini:2: protocol: unknown protocol 'Trap' (known: %s)", known);
    load_err("[service a]\nprotocol = Trap\n", expect);
}

static void test_err_trap_keys(void **state)
{
    (void)state;
    load_err("[service a]\nprotocol = trap\ntcp_ports = 1\nchunk_size = 1K\nbogus = 1\n",
             "t.ini:5: unknown key 'bogus' in [service a] (protocol trap)");
    /* the protocol is only known at the end of the section, the key's line is still named */
    load_err("[service a]\nbanerr = x\nprotocol = trap\ntcp_ports = 1\n",
             "t.ini:2: unknown key 'banerr' in [service a] (protocol trap)");
    load_err(SVC_OK "chunk_size = 100\n", "t.ini:4: [service a]: bad value for chunk_size: '100'");
    load_err(SVC_OK "chunk_size = 128K\n", "t.ini:4: [service a]: bad value for chunk_size: '128K'");
    load_err(SVC_OK "max_capture = lots\n", "t.ini:4: [service a]: bad value for max_capture: 'lots'");
    load_err(SVC_OK "flush_after = soon\n", "t.ini:4: [service a]: bad value for flush_after: 'soon'");
    load_err(SVC_OK "banner_delay = 3x\n", "t.ini:4: [service a]: bad value for banner_delay: '3x'");
    load_err(SVC_OK "http_reply = perhaps\n", "t.ini:4: [service a]: bad value for http_reply: 'perhaps'");
    /* every documented trap key is accepted, with boundary values */
    struct hp_config *c = load_ok(SVC_OK "chunk_size = 512\nmax_capture = 1\nflush_after = 0\n"
                                         "banner_delay = 10ms\nbanner = \\x00\\xff\nhttp_reply = on\n");
    assert_non_null(c->services[0].proto_conf);
    hp_config_free(c);
    c = load_ok(SVC_OK "chunk_size = 64K\n");
    hp_config_free(c);
}

static void test_err_outside_section(void **state)
{
    (void)state;
    load_err("name = x\n[sensor]\n" SVC_OK, "t.ini:1: key 'name' outside of any section");
    load_err("; comment\n\nname = x\n" SVC_OK, "t.ini:3: key 'name' outside of any section");
}

static void test_err_syntax(void **state)
{
    (void)state;
    load_err("[sensor]\nname = x\nthis is not ini\n" SVC_OK,
             "t.ini:3: syntax error (expected 'key = value' or '[section]')");
    load_err("[sensor]\n[limits\n" SVC_OK, "t.ini:2: syntax error (expected 'key = value' or '[section]')");
    /* an empty key is still a key, and is refused by name */
    load_err(SVC_OK "\n\n=5\n", "t.ini:6: unknown key '' in [service a] (protocol trap)");
}

static void test_err_port_conflict(void **state)
{
    (void)state;
    load_err("[service a]\nprotocol = trap\ntcp_ports = 80 81\n"
             "[service b]\nprotocol = trap\ntcp_ports = 81-90\n",
             "t.ini:4: [service b]: tcp port 81 is already used by [service a]");
    /* the lowest shared port is named, whatever the order in the file */
    load_err("[service a]\nprotocol = trap\ntcp_ports = 100 7 3\n"
             "[service b]\nprotocol = trap\ntcp_ports = 1000 1-5\n"
             "[service c]\nprotocol = trap\ntcp_ports = 100\n",
             "t.ini:4: [service b]: tcp port 3 is already used by [service a]");
    load_err("[service a]\nprotocol = trap\ntcp_ports = 1\n"
             "[service b]\nprotocol = trap\ntcp_ports = 2\n"
             "[service c]\nprotocol = trap\ntcp_ports = 2\n",
             "t.ini:7: [service c]: tcp port 2 is already used by [service b]");
    /* UDP too: a second UDP bind of the port would succeed (SO_REUSEADDR)
     * and one service would silently never receive a datagram */
    load_err("[service a]\nprotocol = trap\nudp_ports = 53\n"
             "[service b]\nprotocol = trap\nudp_ports = 50-60\n",
             "t.ini:4: [service b]: udp port 53 is already used by [service a]");
    /* the same number on different transports is fine */
    struct hp_config *c = load_ok("[service a]\nprotocol = trap\ntcp_ports = 53\n"
                                  "[service b]\nprotocol = trap\nudp_ports = 53\n");
    assert_int_equal(c->nservices, 2);
    hp_config_free(c);
    /* big disjoint ranges are checked without a quadratic blow-up */
    c = load_ok("[service a]\nprotocol = trap\ntcp_ports = 1-30000\nudp_ports = 1-30000\n"
                "[service b]\nprotocol = trap\ntcp_ports = 30001-65535\nudp_ports = 30001-65535\n");
    assert_int_equal(c->services[0].ntcp, 30000);
    assert_int_equal(c->services[1].nudp, 35535);
    hp_config_free(c);
}

static void test_err_no_outputs(void **state)
{
    (void)state;
    load_err(SVC_OK, "t.ini: no [output NAME] section is enabled: events would go nowhere");
    load_err("[output jsonl]\nenabled = false\n" SVC_OK,
             "t.ini: no [output NAME] section is enabled: events would go nowhere");
    load_err("[output jsonl]\nfrobble = 1\n" SVC_OK, "t.ini:2: unknown key 'frobble' in [output jsonl]");
    load_err("[output jsonl]\nfsync = maybe\n" SVC_OK, "t.ini:2: [output jsonl]: bad value for fsync: 'maybe'");
    load_err("[output sqlite]\npath =\n" SVC_OK, "t.ini:2: [output sqlite]: path must not be empty");
}

static void test_err_no_services(void **state)
{
    (void)state;
    /* a whole-file problem has no line: "NAME: message" */
    load_err("[sensor]\nname = x\n", "t.ini: no [service NAME] section: nothing to listen on");
    load_err("", "t.ini: no [service NAME] section: nothing to listen on");
    load_err("; only a comment\n", "t.ini: no [service NAME] section: nothing to listen on");
    /* a service must listen somewhere (trap has no default ports) */
    load_err("[sensor]\n[service a]\nprotocol = trap\n", "t.ini:2: [service a]: no tcp_ports or udp_ports given");
    load_err("[service a]\nprotocol = trap\ntcp_ports =\n", "t.ini:1: [service a]: no tcp_ports or udp_ports given");
}

static void test_err_bind(void **state)
{
    (void)state;
    load_err(SVC_OK "bind = 127.0.0.1 300.1.1.1\n", "t.ini:4: bind: '300.1.1.1' is not an IPv4 or IPv6 address");
    load_err(SVC_OK "bind = localhost\n", "t.ini:4: bind: 'localhost' is not an IPv4 or IPv6 address");
    load_err(SVC_OK "bind = [127.0.0.1\n", "t.ini:4: bind: '[127.0.0.1' is not an IPv4 or IPv6 address");
    load_err(SVC_OK "bind = ::1]\n", "t.ini:4: bind: '::1]' is not an IPv4 or IPv6 address");
    load_err(SVC_OK "bind = []\n", "t.ini:4: bind: '[]' is not an IPv4 or IPv6 address");
    load_err(SVC_OK "bind =\n", "t.ini:4: bind: no address given");
}

/* Lines longer than inih's buffer used to be split, the rest parsed as a line
 * of its own: a "key = value" at the end of a long comment took effect. */
static void test_err_long_line(void **state)
{
    (void)state;
    char text[1024], pad[300];
    /* a commented-out "user = root" past column 199 */
    memset(pad, 'x', 197);
    pad[197] = '\0';
    snprintf(text, sizeof(text), "[sensor]\n; %suser = root\n" SVC_OK, pad);
    load_err(text, "t.ini:2: line too long (at most 198 characters)");
    /* a long value */
    memset(pad, 'x', 250);
    pad[250] = '\0';
    snprintf(text, sizeof(text), SVC_OK "\nbanner = %s\ntcp_ports = 2\n", pad);
    load_err(text, "t.ini:5: line too long (at most 198 characters)");
    /* 198 characters plus the newline fit, and later line numbers are right */
    memset(pad, 'x', 189);
    pad[189] = '\0';
    snprintf(text, sizeof(text), SVC_OK "banner = %s\nbogus = 1\n", pad);
    load_err(text, "t.ini:5: unknown key 'bogus' in [service a] (protocol trap)");
    /* 199 characters: only as the last line without a newline */
    memset(pad, 'y', 190);
    pad[190] = '\0';
    snprintf(text, sizeof(text), "[output jsonl]\n" SVC_OK "banner = %s", pad);
    struct hp_config *c = load_ok(text);
    assert_int_equal(strlen(c->services[0].opts->value), 190);
    hp_config_free(c);
    snprintf(text, sizeof(text), SVC_OK "banner = %s\n", pad);
    load_err(text, "t.ini:4: line too long (at most 198 characters)");
}

/* The reader finds section headers itself; it must agree with inih. */
static void test_inih_agreement(void **state)
{
    (void)state;
    /* an indented "[::1]" after a key is a continuation of bind, not a section */
    struct hp_config *c = load_ok("[service a]\nprotocol = trap\nbind = 127.0.0.1\n       [::1]\ntcp_ports = 1\n");
    assert_int_equal(c->services[0].nbind, 2);
    assert_string_equal(c->services[0].bind[1], "::1");
    hp_config_free(c);
    /* even after blank and comment lines, as in inih */
    c = load_ok("[service a]\nprotocol = trap\nbind = 127.0.0.1\n\n; v6 too\n  [::1]\ntcp_ports = 1\n");
    assert_int_equal(c->services[0].nbind, 2);
    hp_config_free(c);
    /* an indented section header right after another header is a header */
    c = load_ok("[sensor]\n  [service a]\nprotocol = trap\ntcp_ports = 1\n");
    assert_int_equal(c->nservices, 1);
    hp_config_free(c);
    /* an indented "[service b]" after a key is a value, not a new service */
    load_err(SVC_OK "  [service b]\nprotocol = trap\n", "t.ini:4: tcp_ports: bad port or range '[service'");
    /* a UTF-8 byte order mark before the first section is skipped, as inih does */
    c = load_ok("\xEF\xBB\xBF[service a]\nprotocol = trap\ntcp_ports = 1\n");
    assert_string_equal(c->services[0].name, "a");
    hp_config_free(c);
    /* line numbers stay right across CRLF line ends */
    load_err("[sensor]\r\nname = x\r\n\r\nbad = 1\r\n", "t.ini:4: unknown key 'bad' in [sensor]");
}

static void test_config_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/hanipo-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(full_cfg, f);
    fclose(f);
    char err[512] = "";
    struct hp_config *c = hp_config_load(path, err, sizeof(err));
    if (!c)
        fail_msg("%s", err);
    assert_string_equal(c->path, path);
    assert_int_equal(c->nservices, 2);
    assert_int_equal(c->services[0].ntcp, 8);
    assert_int_equal(c->services[1].line, 46);
    hp_config_free(c);

    /* the file reader counts lines and refuses long ones just the same */
    char pad[260];
    memset(pad, 'x', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "[sensor]\nname = x\n; %s\n" SVC_OK, pad);
    fclose(f);
    c = hp_config_load(path, err, sizeof(err));
    assert_null(c);
    char expect[128];
    snprintf(expect, sizeof(expect), "%s:3: line too long (at most 198 characters)", path);
    assert_string_equal(err, expect);

    f = fopen(path, "w");
    fputs("[sensor]\nname = x\n\nbad = 1\n", f);
    fclose(f);
    c = hp_config_load(path, err, sizeof(err));
    assert_null(c);
    snprintf(expect, sizeof(expect), "%s:4: unknown key 'bad' in [sensor]", path);
    assert_string_equal(err, expect);
    unlink(path);

    c = hp_config_load(path, err, sizeof(err));
    assert_null(c);
    snprintf(expect, sizeof(expect), "%s: cannot open: No such file or directory", path);
    assert_string_equal(err, expect);
}

/* A short error buffer is filled safely and stays NUL-terminated. */
static void test_err_buffer_small(void **state)
{
    (void)state;
    char err[12];
    memset(err, 'X', sizeof(err));
    struct hp_config *c = hp_config_load_string("[bogus]\n", "t.ini", err, sizeof(err));
    assert_null(c);
    assert_string_equal(err, "t.ini:1: un");
    c = hp_config_load_string("[bogus]\n", "t.ini", NULL, 0);
    assert_null(c);
}

/* ---- value parsers ------------------------------------------------------------------ */

static void test_parse_ports(void **state)
{
    (void)state;
    uint16_t *p = NULL;
    size_t n = 99;
    char err[128] = "";
    assert_int_equal(hp_parse_ports("81 102 8000-8010, 9000", &p, &n, err, sizeof(err)), 0);
    static const uint16_t e1[] = { 81, 102, 8000, 8001, 8002, 8003, 8004, 8005, 8006, 8007, 8008, 8009, 8010, 9000 };
    assert_ports(p, n, e1, 14);
    free(p);

    assert_int_equal(hp_parse_ports("5,3,\t4 3-5,,5", &p, &n, err, sizeof(err)), 0);
    static const uint16_t e2[] = { 3, 4, 5 };
    assert_ports(p, n, e2, 3);
    free(p);

    assert_int_equal(hp_parse_ports("65535 1 7-7", &p, &n, err, sizeof(err)), 0);
    static const uint16_t e3[] = { 1, 7, 65535 };
    assert_ports(p, n, e3, 3);
    free(p);

    assert_int_equal(hp_parse_ports("1-65535", &p, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 65535);
    assert_int_equal(p[0], 1);
    assert_int_equal(p[65534], 65535);
    free(p);

    assert_int_equal(hp_parse_ports("", &p, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    free(p);

    static const char *const bad[][2] = {
        { "70000", "bad port or range '70000'" }, { "90-80", "bad port or range '90-80'" },
        { "0", "bad port or range '0'" }, { "65536", "bad port or range '65536'" },
        { "80-", "bad port or range '80-'" }, { "-80", "bad port or range '-80'" },
        { "8a", "bad port or range '8a'" }, { "80-90-100", "bad port or range '80-90-100'" },
        { "1 2 x", "bad port or range 'x'" }, { "80.5", "bad port or range '80.5'" },
        { "80-0x60", "bad port or range '80-0x60'" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint16_t *sentinel = (uint16_t *)&n;
        p = sentinel;
        err[0] = '\0';
        assert_int_equal(hp_parse_ports(bad[i][0], &p, &n, err, sizeof(err)), -1);
        assert_string_equal(err, bad[i][1]);
        assert_ptr_equal(p, sentinel);           /* untouched on error */
    }
}

static void test_parse_size(void **state)
{
    (void)state;
    static const struct { const char *s; uint64_t v; } ok[] = {
        { "512K", 512u << 10 }, { "64M", 64u << 20 }, { "2G", 2ull << 30 }, { "10", 10 },
        { "0", 0 }, { "1k", 1024 }, { "1kb", 1024 }, { "1KiB", 1024 }, { "3 M", 3u << 20 },
        { "5MB", 5u << 20 }, { "7b", 7 }, { "1gib", 1ull << 30 },
        { "18446744073709551615", UINT64_MAX }, { "17179869183G", 17179869183ull << 30 },
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 12345;
        if (hp_parse_size(ok[i].s, &v) != 0)
            fail_msg("'%s' refused", ok[i].s);
        assert_true(v == ok[i].v);
    }
    static const char *const bad[] = { "", "K", "-1", "1.5M", "1T", "12X", "5 5", "1MM",
                                       "18446744073709551616", "17179869184G", "16777216T", "0x10" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 12345;
        if (hp_parse_size(bad[i], &v) == 0)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(v, 12345);
    }
}

static void test_parse_duration(void **state)
{
    (void)state;
    static const struct { const char *s; uint64_t v; } ok[] = {
        { "500ms", 500 }, { "30s", 30000 }, { "5m", 300000 }, { "1h", 3600000 }, { "2d", 172800000 },
        { "10", 10000 }, { "0", 0 }, { "5min", 300000 }, { "1MS", 1 }, { "2 h", 7200000 },
        { "213503982334d", 213503982334ull * 86400000ull },
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 12345;
        if (hp_parse_duration_ms(ok[i].s, &v) != 0)
            fail_msg("'%s' refused", ok[i].s);
        assert_true(v == ok[i].v);
    }
    static const char *const bad[] = { "", "ms", "-1s", "1w", "1.5s", "5 parsecs", "1y", "10sec",
                                       "213503982335d", "18446744073709552s", "99999999999999999999" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 12345;
        if (hp_parse_duration_ms(bad[i], &v) == 0)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(v, 12345);
    }
}

/* [dashboard] store: a fleet's ClickHouse (never quoted back: it may hold a password); a
 * dashboard-only configuration (HP_CONFIG_NO_SERVICES) needs neither services nor outputs. */
static void test_dashboard_store(void **state)
{
    struct hp_config *c = load_ok(SVC_OK "[dashboard]\nstore = clickhouse://rep:pw@127.0.0.1:8123/fleet\n");
    assert_string_equal(c->dashboard.store, "clickhouse://rep:pw@127.0.0.1:8123/fleet");
    hp_config_free(c);
    c = load_ok(SVC_OK "[dashboard]\nstore = sqlite\n");
    assert_null(c->dashboard.store);
    hp_config_free(c);
    c = load_ok(SVC_OK);
    assert_null(c->dashboard.store);
    hp_config_free(c);
    char err[512];
    assert_null(hp_config_load_string(SVC_OK "[output jsonl]\n[dashboard]\nstore = clickhouse://u:secret@h/x;y\n",
                                      "t.ini", err, sizeof(err)));
    assert_null(strstr(err, "secret"));
    assert_null(hp_config_load_string("[dashboard]\nstore = clickhouse://h/fleet\n", "t.ini", err, sizeof(err)));
    c = hp_config_load_string_flags("[dashboard]\nstore = clickhouse://h/fleet\n", "t.ini", HP_CONFIG_NO_SERVICES,
                                    err, sizeof(err));
    assert_non_null(c);
    assert_int_equal(c->nservices, 0);
    hp_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_config),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_err_unknown_section),
        cmocka_unit_test(test_capture_section),
        cmocka_unit_test(test_err_unknown_key),
        cmocka_unit_test(test_err_bad_number),
        cmocka_unit_test(test_err_bad_size),
        cmocka_unit_test(test_err_bad_duration),
        cmocka_unit_test(test_err_bad_port),
        cmocka_unit_test(test_err_duplicate_service),
        cmocka_unit_test(test_err_protocol),
        cmocka_unit_test(test_err_trap_keys),
        cmocka_unit_test(test_err_outside_section),
        cmocka_unit_test(test_err_syntax),
        cmocka_unit_test(test_err_port_conflict),
        cmocka_unit_test(test_err_no_services),
        cmocka_unit_test(test_err_no_outputs),
        cmocka_unit_test(test_err_bind),
        cmocka_unit_test(test_err_long_line),
        cmocka_unit_test(test_inih_agreement),
        cmocka_unit_test(test_config_load_file),
        cmocka_unit_test(test_err_buffer_small),
        cmocka_unit_test(test_parse_ports),
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_dashboard_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
