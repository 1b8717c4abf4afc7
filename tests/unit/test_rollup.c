/*
 * test_rollup.c - what each event type contributes to the roll-up tables
 * (src/store/rollup.c).
 *
 * One event of every type that feeds a ranking, with every member its
 * handler reads, is counted and flushed into an in-memory store; then each
 * ranking key and label is looked for.  A member missing from a type's list
 * of wanted fields shows up here as a missing key or label.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>
#include "core/event.h"
#include "store/hll.h"
#include "store/rollup.h"

#define TS (1796400000LL * 1000000)           /* 2026-12-04 16:00:00 UTC */

static sqlite3 *db;
static bool via_index;       /* count live events with a key index, not rows */

/* The offsets of the top-level keys' opening quotes, as the event builder records them. */
static size_t top_keys(const char *j, uint32_t *keys)
{
    size_t n = 0;
    int depth = 0;
    bool in_str = false, expect_key = false;
    for (size_t i = 0; j[i]; i++) {
        char c = j[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            if (depth == 1 && expect_key)
                keys[n++] = (uint32_t)i;
            in_str = true;
            expect_key = false;
        } else if (c == '{' || c == '[') {
            depth++;
            expect_key = depth == 1;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == ',') {
            expect_key = depth == 1;
        }
    }
    return n;
}

static void add(struct hp_rollup *r, const char *eventid, const char *json)
{
    size_t jl = strlen(json);
    if (!via_index) {
        hp_rollup_add_row(r, TS, eventid, "ssh", "203.0.113.5", 22, json, jl);
        return;
    }
    static uint32_t keys[64];
    struct hp_event *e = calloc(1, sizeof(*e) + jl + 1);
    assert_non_null(e);
    e->refs = 1;
    e->h.ts_us = TS;
    e->h.eventid = eventid;
    strcpy(e->h.protocol, "ssh");
    strcpy(e->h.src_ip, "203.0.113.5");
    e->h.dst_port = 22;
    memcpy(e->json, json, jl + 1);
    e->json_len = jl;
    e->nkeys = top_keys(json, keys);
    e->keys = keys;
    hp_rollup_add(r, e);
    free(e);
}

static int count(const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

static void has(const char *dim, const char *key)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM rollup WHERE dim = '%s' AND key = '%s'", dim, key);
    if (count(sql) != 1)
        fail_msg("no %s ranking row for %s", dim, key);
}

/* The key's day row has the same count and distinct sources as its hour row. */
static void same_day(const char *dim, const char *key)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM rollup r JOIN rollup_day d ON d.dim = r.dim AND d.key = r.key"
             " AND d.day = r.hour / 24 AND d.n = r.n AND d.ok = r.ok AND d.src IS r.src"
             " WHERE r.dim = '%s' AND r.key = '%s'", dim, key);
    if (count(sql) != 1)
        fail_msg("no day row like the hour row for %s %s", dim, key);
}

static void label(const char *dim, const char *key, const char *a, const char *b)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM labels WHERE dim = '%s' AND key = '%s' AND a IS '%s'"
             " AND b IS %s%s%s", dim, key, a, b ? "'" : "", b ? b : "NULL", b ? "'" : "");
    if (count(sql) != 1)
        fail_msg("no %s label %s / %s for %s", dim, a, b ? b : "NULL", key);
}

static void test_every_ranking_type(void **state)
{
    (void)state;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, hp_rollup_schema_sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(hp_hll_register(db), 0);
    struct hp_rollup *r = hp_rollup_new();
    add(r, "session.connect", "{\"eventid\":\"session.connect\",\"src_cc\":\"JP\",\"src_country\":\"Japan\","
                              "\"src_asn\":64500,\"src_as_org\":\"Example AS\"}");
    add(r, "login.failed", "{\"eventid\":\"login.failed\",\"username\":\"root\",\"password\":\"xc3511\","
                           "\"cred_device\":\"XiongMai DVR\",\"cred_botnets\":[\"mirai\"]}");
    add(r, "http.credentials", "{\"eventid\":\"http.credentials\",\"username\":\"tomcat\",\"password\":\"s3cret\"}");
    add(r, "command.input", "{\"eventid\":\"command.input\",\"input\":\"uname -a\"}");
    add(r, "session.file_download", "{\"eventid\":\"session.file_download\",\"url\":\"http://198.51.100.9/x\","
                                    "\"shasum\":\"aa\",\"type\":\"ELF\",\"family\":\"mirai\"}");
    /* URLs pointed at but not fetched count as attempts (n), not as fetched (ok) */
    add(r, "session.file_download.failed", "{\"eventid\":\"session.file_download.failed\","
                                           "\"url\":\"http://198.51.100.9/x\",\"reason\":\"connect\"}");
    add(r, "session.file_download.failed", "{\"eventid\":\"session.file_download.failed\","
                                           "\"url\":\"http://198.51.100.10/dead\",\"reason\":\"disabled\"}");
    add(r, "payload.new", "{\"eventid\":\"payload.new\",\"shasum\":\"bb\",\"type\":\"script\",\"family\":\"gafgyt\"}");
    add(r, "http.request", "{\"eventid\":\"http.request\",\"uri\":\"/x\",\"user_agent\":\"curl/8\","
                           "\"attack_classes\":[\"rce\"],\"cves\":[\"CVE-2017-17215\"],\"owasp_iot\":\"I1\"}");
    add(r, "tls.client_hello", "{\"eventid\":\"tls.client_hello\",\"ja3\":\"j3\",\"ja4\":\"j4\",\"client\":\"curl\"}");
    add(r, "client.kex", "{\"eventid\":\"client.kex\",\"hassh\":\"hh\",\"client\":\"OpenSSH\"}");
    /* every other type of HP_ATTACK_EVENTS_SQL (event.h) counts its classes and CVEs */
    int nattack = 0;
    for (const char *p = HP_ATTACK_EVENTS_SQL; (p = strchr(p, '\'')) != NULL; p++) {
        const char *q = strchr(++p, '\'');
        assert_non_null(q);
        char id[64], json[256];
        snprintf(id, sizeof(id), "%.*s", (int)(q - p), p);
        p = q;
        if (strcmp(id, "http.request") == 0)
            continue;
        snprintf(json, sizeof(json), "{\"eventid\":\"%s\",\"attack_classes\":[\"class%d\"],"
                 "\"cves\":[\"CVE-2000-%04d\"]}", id, nattack, nattack);
        add(r, id, json);
        nattack++;
    }
    assert_true(nattack >= 6);
    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(hp_rollup_flush(r, db), 0);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    hp_rollup_free(r);

    same_day("username", "root");
    same_day("port", "22");
    same_day("cve", "CVE-2017-17215");
    has("cc", "JP");
    label("cc", "JP", "Japan", NULL);
    has("asn", "64500");
    label("asn", "64500", "Example AS", NULL);
    has("port", "22");
    label("ip", "203.0.113.5", "JP", "64500");
    has("username", "root");
    has("password", "xc3511");
    has("pair", "[\"root\",\"xc3511\"]");
    label("pair", "[\"root\",\"xc3511\"]", "XiongMai DVR", "mirai");     /* botnets, comma-joined */
    has("http_cred", "[\"tomcat\",\"s3cret\"]");
    has("command", "uname -a");
    has("url", "http://198.51.100.9/x");
    label("url", "http://198.51.100.9/x", "ELF", "aa");
    assert_int_equal(count("SELECT count(*) FROM rollup WHERE dim = 'url' AND key = 'http://198.51.100.9/x'"
                           " AND n = 2 AND ok = 1"), 1);
    assert_int_equal(count("SELECT count(*) FROM rollup WHERE dim = 'url' AND key = 'http://198.51.100.10/dead'"
                           " AND n = 1 AND ok = 0"), 1);
    same_day("url", "http://198.51.100.10/dead");
    label("sha256", "aa", "ELF", "mirai");
    label("sha256", "bb", "script", "gafgyt");
    has("uri", "/x");
    has("ua", "curl/8");
    has("class", "rce");
    has("cve", "CVE-2017-17215");
    has("owasp", "I1");
    for (int i = 0; i < nattack; i++) {
        char cls[32], cve[32];
        snprintf(cls, sizeof(cls), "class%d", i);
        snprintf(cve, sizeof(cve), "CVE-2000-%04d", i);
        has("class", cls);
        has("cve", cve);
    }
    has("ja3", "j3");
    has("ja4", "j4");
    label("ja3", "j3", "curl", NULL);
    has("hassh", "hh");
    label("hassh", "hh", "OpenSSH", NULL);
    sqlite3_close(db);
}

/* The same events as the sensor counts them: through their key index (event.h). */
static void test_every_ranking_type_indexed(void **state)
{
    via_index = true;
    test_every_ranking_type(state);
    via_index = false;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_ranking_type),
        cmocka_unit_test(test_every_ranking_type_indexed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
