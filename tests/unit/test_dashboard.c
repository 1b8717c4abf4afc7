/*
 * test_dashboard.c - the dashboard's query parser, JSON views, zip and feed summaries.
 *
 * The views run against an in-memory SQLite store with the events table and
 * the roll-up tables filled by hand, so the JSON they build (and the SQL
 * behind it) is checked without a sensor.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "config.h"
#include "store/hll.h"
#include "store/rollup.h"
#include "store/sqlite.h"
#include "web/dash_int.h"
#include "web/dash_query.h"

#define NOW (1796400000LL * 1000000)           /* 2026-12-04 16:00:00 UTC */
#define H 3600000000LL

static int parse(const char *qs, struct hp_dq *q)
{
    char err[200];
    return hp_dq_parse(qs, NOW, q, err, sizeof(err));
}

static void test_defaults_and_last(void **state)
{
    struct hp_dq q;
    assert_int_equal(parse(NULL, &q), 0);
    assert_int_equal(q.to_us, NOW);
    assert_int_equal(q.from_us, NOW - 24 * H);
    assert_int_equal(q.limit, 50);
    assert_int_equal(parse("", &q), 0);
    assert_int_equal(parse("last=1h", &q), 0);
    assert_int_equal(q.from_us, NOW - H);
    assert_int_equal(parse("last=7d&limit=500&offset=100", &q), 0);
    assert_int_equal(q.from_us, NOW - 7 * 24 * H);
    assert_int_equal(q.limit, 500);
    assert_int_equal(q.offset, 100);
    assert_int_equal(parse("last=30m&", &q), 0);
    assert_int_equal(parse("&&last=1h", &q), 0);
}

static void test_from_to(void **state)
{
    struct hp_dq q;
    assert_int_equal(parse("from=2026-12-01&to=2026-12-02T12:30", &q), 0);
    assert_int_equal(q.from_us, 1796083200LL * 1000000);
    assert_int_equal(q.to_us, (1796083200LL + 86400 + 12 * 3600 + 1800) * 1000000);
    assert_int_equal(parse("from=1796083200&to=2026-12-01T00:00:10Z", &q), 0);
    assert_int_equal(q.to_us - q.from_us, 10 * 1000000);
    assert_int_equal(parse("from=2026-12-03T23%3A00", &q), 0);        /* percent-encoded ':' */
    assert_int_equal(q.to_us, NOW);
    int64_t us;
    assert_int_equal(hp_dq_parse_time("2026-02-31", &us), -1);
    assert_int_equal(hp_dq_parse_time("2026-13-01", &us), -1);
    assert_int_equal(hp_dq_parse_time("2026-12-01T25:00", &us), -1);
    assert_int_equal(hp_dq_parse_time("2026-12-01x", &us), -1);
    assert_int_equal(hp_dq_parse_time("1969-12-31", &us), -1);
    assert_int_equal(hp_dq_parse_time("", &us), -1);
    assert_int_equal(hp_dq_parse_time("99999999999999999999", &us), -1);
}

static void test_errors(void **state)
{
    static const char *const bad[] = {
        "nope=1", "last=1h&last=1d", "last=1y", "last=10s", "last=401d", "last=1h&from=2026-12-01",
        "from=2026-12-05&to=2026-12-04", "from=2024-01-01&to=2026-01-01", "limit=0", "limit=501",
        "offset=100001", "ip=1.2.3", "ip=", "cc=xx", "cc=USA", "protocol=SSH", "protocol=a%20b",
        "dim=nope", "dim=", "username=a%00b", "username=%ff", "username=%4", "username=%zz", "t=-1",
        "port=65536", "last", "=1h",
    };
    struct hp_dq q;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i], &q) == 0)
            fail_msg("accepted: %s", bad[i]);
    }
    char longq[9000];
    memset(longq, 'a', sizeof(longq) - 1);
    longq[sizeof(longq) - 1] = '\0';
    assert_int_equal(parse(longq, &q), -1);
    char longu[1000] = "username=";
    memset(longu + 9, 'u', 300);
    assert_int_equal(parse(longu, &q), -1);                              /* over 256 bytes */
}

static void test_values(void **state)
{
    struct hp_dq q;
    assert_int_equal(parse("username=%3Cimg+src%3Dx%3E&password=%22%3E&command=wget+http%3A%2F%2Fx&ip=2001:db8::1"
                           "&cc=CN&protocol=telnet&dim=pair&t=1796400000000000&port=23", &q), 0);
    assert_string_equal(q.username, "<img src=x>");
    assert_string_equal(q.password, "\">");
    assert_string_equal(q.command, "wget http://x");
    assert_string_equal(q.ip, "2001:db8::1");
    assert_string_equal(q.cc, "CN");
    assert_string_equal(q.protocol, "telnet");
    assert_string_equal(q.dim, "pair");
    assert_int_equal(q.t_us, 1796400000000000LL);
    assert_int_equal(q.port, 23);
    assert_true(q.have & HP_DQ_USERNAME);
    assert_false(q.have & HP_DQ_LAST);
    assert_string_equal((parse("username=%C3%A9t%C3%A9", &q), q.username), "\xC3\xA9t\xC3\xA9");
    /* sensor: any text of a sensor's name (1-100 bytes), kept byte for byte to be quoted later */
    assert_int_equal(parse("sensor=tokyo-1", &q), 0);
    assert_true(q.have & HP_DQ_SENSOR);
    assert_string_equal(q.sensor, "tokyo-1");
    assert_int_equal(parse("sensor=%27)%20OR%201%3D1%20--%5C", &q), 0);
    assert_string_equal(q.sensor, "') OR 1=1 --\\");
    char longname[140] = "sensor=";
    memset(longname + 7, 'a', 101);
    assert_int_equal(parse(longname, &q), -1);
    longname[7 + 100] = '\0';
    assert_int_equal(parse(longname, &q), 0);
    assert_int_equal(parse("sensor=", &q), -1);
    assert_int_equal(parse("sensor=a&sensor=b", &q), -1);
    assert_int_equal(parse("sensor=%00", &q), -1);
}

/* ---- views over a small store ------------------------------------------------------------ */

static sqlite3 *store_new(void)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "CREATE TABLE events(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, eventid TEXT NOT NULL, session TEXT,"
        " protocol TEXT, src_ip TEXT, src_port INTEGER, dst_port INTEGER, data TEXT NOT NULL);", NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, hp_rollup_schema_sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(hp_hll_register(db), 0);
    char sql[4096];
    int64_t minute = (NOW - 30 * 60000000LL) / 60000000, hour = NOW / H - 1, ts = NOW - 30 * 60000000LL;
    snprintf(sql, sizeof(sql),
        "INSERT INTO timeline VALUES(%lld, 'telnet', 5, 2, 3), (%lld, 'http', 1, 1, 0);"
        "INSERT INTO rollup VALUES('cc', %lld, 'CN', 4, 0, NULL), ('ip', %lld, '203.0.113.5', 5, 0, NULL),"
        " ('pair', %lld, '[\"<img>\",\"x\\\"y\"]', 3, 1, NULL), ('username', %lld, CAST(X'ff41' AS TEXT), 1, 0, NULL),"
        " ('pair', %lld, '[\"AAAAAAAAAAAAAAAAAAAAAAA', 1, 0, NULL),"
        " ('username', %lld, '<img>', 3, 1, NULL), ('port', %lld, '23', 5, 0, NULL);"
        "INSERT INTO rollup_day SELECT dim, key, hour / 24, n, ok, src FROM rollup;"
        "INSERT INTO labels VALUES('cc', 'CN', 'China', NULL), ('pair', '[\"<img>\",\"x\\\"y\"]', 'Dev', '[\"mirai\"]');"
        "INSERT INTO first_seen VALUES('pair', '[\"<img>\",\"x\\\"y\"]', %lld, %lld);"
        "INSERT INTO events(ts, eventid, session, protocol, src_ip, src_port, dst_port, data) VALUES"
        " (%lld, 'session.connect', 'aaaaaaaaaaaa', 'telnet', '203.0.113.5', 5555, 23,"
        "  '{\"eventid\":\"session.connect\",\"src_cc\":\"CN\",\"service\":\"telnet\"}'),"
        " (%lld, 'login.failed', 'aaaaaaaaaaaa', 'telnet', '203.0.113.5', 5555, 23,"
        "  '{\"eventid\":\"login.failed\",\"username\":\"<img>\",\"password\":\"x\"}');",
        (long long)minute, (long long)minute, (long long)hour, (long long)hour, (long long)hour, (long long)hour,
        (long long)hour,
        (long long)hour, (long long)hour, (long long)ts, (long long)ts,
        (long long)ts, (long long)ts + 1000);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s", msg);
    /* country CN: two distinct sources, as a sketch */
    struct hp_hll h = { 0 };
    uint8_t blob[1 + HP_HLL_REGS];
    hp_hll_add(&h, "203.0.113.5", 11);
    hp_hll_add(&h, "203.0.113.6", 11);
    size_t bl = hp_hll_blob(&h, blob);
    hp_hll_free(&h);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE rollup SET src = ?1 WHERE dim = 'cc'", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, blob, (int)bl, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_exec(db, "UPDATE rollup_day SET src = (SELECT src FROM rollup r WHERE r.dim = 'cc')"
                                      " WHERE dim = 'cc'", NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static json_t *view(sqlite3 *db, const char *name, const char *qs, int *status)
{
    struct hp_dq q;
    char err[300];
    struct hp_dapi_env env = { db, "/nonexistent" };
    assert_int_equal(parse(qs, &q), 0);
    return hp_dapi_view(&env, name, &q, status, err, sizeof(err));
}

static void test_overview(void **state)
{
    sqlite3 *db = store_new();
    int st;
    json_t *o = view(db, "overview", "last=1d", &st);
    assert_non_null(o);
    json_t *tot = json_object_get(o, "totals");
    assert_int_equal(json_integer_value(json_object_get(tot, "events")), 6);
    assert_int_equal(json_integer_value(json_object_get(tot, "logins")), 3);
    assert_int_equal(json_integer_value(json_object_get(tot, "sources")), 1);
    json_t *cc = json_array_get(json_object_get(o, "countries"), 0);
    assert_string_equal(json_string_value(json_object_get(cc, "key")), "CN");
    assert_string_equal(json_string_value(json_object_get(cc, "name")), "China");
    assert_int_equal(json_integer_value(json_object_get(cc, "sources")), 2);
    json_t *tl = json_object_get(o, "timeline");
    json_t *tel = json_object_get(json_object_get(tl, "series"), "telnet");
    assert_int_equal(json_array_size(tel), json_array_size(json_object_get(tl, "t")));
    json_int_t sum = 0;
    size_t i;
    json_t *v;
    json_array_foreach(tel, i, v) sum += json_integer_value(v);
    assert_int_equal(sum, 5);
    assert_true(json_array_size(json_object_get(tl, "t")) <= 181);
    json_decref(o);
    /* a week: the day rows answer, same counts */
    o = view(db, "overview", "last=7d", &st);
    assert_non_null(o);
    cc = json_array_get(json_object_get(o, "countries"), 0);
    assert_int_equal(json_integer_value(json_object_get(cc, "n")), 4);
    assert_int_equal(json_integer_value(json_object_get(cc, "sources")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "totals"), "sources")), 1);
    json_decref(o);
    sqlite3_close(db);
}

static void test_credentials_and_top(void **state)
{
    sqlite3 *db = store_new();
    int st;
    json_t *o = view(db, "credentials", "last=1d", &st);
    assert_non_null(o);
    json_t *p = json_array_get(json_object_get(o, "pair"), 0);
    assert_string_equal(json_string_value(json_object_get(p, "username")), "<img>");
    assert_string_equal(json_string_value(json_object_get(p, "password")), "x\"y");
    assert_string_equal(json_string_value(json_object_get(p, "device")), "Dev");
    assert_string_equal(json_string_value(json_array_get(json_object_get(p, "botnets"), 0)), "mirai");
    assert_int_equal(json_integer_value(json_object_get(p, "ok")), 1);
    assert_int_equal(json_integer_value(json_object_get(p, "first")), (NOW - 30 * 60000000LL) / 1000000);
    /* a pair key cut at HP_ROLLUP_KEY_MAX is no longer JSON: shown whole as the username */
    json_t *cut = json_array_get(json_object_get(o, "pair"), 1);
    assert_non_null(json_string_value(json_object_get(cut, "username")));
    assert_memory_equal(json_string_value(json_object_get(cut, "username")), "[\"AAAA", 6);
    /* a key that is not UTF-8 is replaced, the answer stays valid JSON */
    json_t *u = json_object_get(o, "username");
    assert_int_equal(json_array_size(u), 2);
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(u, 1), "key")), "not UTF-8"));
    char *text = json_dumps(o, 0);
    assert_non_null(text);
    free(text);
    json_decref(o);
    assert_null(view(db, "top", "last=1d", &st));
    assert_int_equal(st, 400);
    o = view(db, "top", "last=1d&dim=port", &st);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(o, "rows"), 0), "key")),
                        "23");
    /* what data/knowledge/ports.tsv says listens there */
    assert_non_null(strstr(json_string_value(json_object_get(json_array_get(json_object_get(o, "rows"), 0),
                                                             "service")), "Telnet"));
    json_decref(o);
    /* CVE rows are named from cves.tsv, unknown ids are not */
    json_t *rows = json_pack("[{s:s},{s:s},{s:s}]", "key", "CVE-2017-17215", "key", "CVE-1999-0001", "key", "x");
    hp_dapi_name_rows("cve", rows);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "name")),
                        "Huawei HG532: UPnP DeviceUpgrade command injection");
    assert_null(json_object_get(json_array_get(rows, 1), "name"));
    assert_null(json_object_get(json_array_get(rows, 2), "name"));
    json_decref(rows);
    /* the rankings are hour-aligned: a range ending before that hour sees nothing */
    o = view(db, "top", "dim=port&from=2026-12-01&to=2026-12-02", &st);
    assert_int_equal(json_array_size(json_object_get(o, "rows")), 0);
    json_decref(o);
    sqlite3_close(db);
}

static void test_sessions(void **state)
{
    sqlite3 *db = store_new();
    int st;
    json_t *o = view(db, "sessions", "last=1d&username=%3Cimg%3E", &st);
    assert_non_null(o);
    json_t *s = json_array_get(json_object_get(o, "sessions"), 0);
    assert_string_equal(json_string_value(json_object_get(s, "session")), "aaaaaaaaaaaa");
    assert_string_equal(json_string_value(json_object_get(s, "cc")), "CN");
    json_decref(o);
    static const char *const none[] = { "last=1d&username=other", "last=1d&cc=US", "last=1d&ip=192.0.2.1",
                                        "last=1d&protocol=ssh", "last=1d&command=wget", "last=1d&offset=1" };
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        o = view(db, "sessions", none[i], &st);
        assert_non_null(o);
        assert_int_equal(json_array_size(json_object_get(o, "sessions")), 0);
        json_decref(o);
    }
    o = view(db, "sessions", "last=1d&limit=1&ip=203.0.113.5&cc=CN&protocol=telnet", &st);
    assert_int_equal(json_array_size(json_object_get(o, "sessions")), 1);
    assert_false(json_is_true(json_object_get(o, "more")));
    json_decref(o);
    o = view(db, "session/aaaaaaaaaaaa", "", &st);
    assert_non_null(o);
    assert_int_equal(json_array_size(json_object_get(o, "events")), 2);
    assert_false(json_is_true(json_object_get(o, "cast")));
    json_decref(o);
    char tq[64];
    snprintf(tq, sizeof(tq), "t=%lld", (long long)(NOW - 30 * 60000000LL));
    o = view(db, "session/aaaaaaaaaaaa", tq, &st);
    assert_int_equal(json_array_size(json_object_get(o, "events")), 2);
    json_decref(o);
    assert_null(view(db, "session/bbbbbbbbbbbb", "", &st));
    assert_int_equal(st, 404);
    assert_null(view(db, "session/AAAA'--", "", &st));
    assert_int_equal(st, 400);
    assert_null(view(db, "nope", "", &st));
    assert_int_equal(st, 404);
    assert_null(view(db, "payload/../../etc/passwd/hex", "", &st));
    assert_int_equal(st, 404);
    sqlite3_close(db);
}

/* The credential search must reach the partial index whatever form a store
 * has it in (sqlite.h): the statement the view runs is caught with a trace
 * callback and its plan asked for. */
static int catch_sessions_sql(unsigned type, void *ctx, void *p, void *x)
{
    (void)type;
    (void)x;
    const char *sql = sqlite3_sql((sqlite3_stmt *)p);
    if (sql && strstr(sql, "json_extract(data, '$.username') = ?6"))
        snprintf(ctx, 4096, "%s", sql);
    return 0;
}

static int plan_row(void *ctx, int n, char **v, char **col)
{
    (void)col;
    if (n >= 4 && v[3] && strstr(v[3], "events_login_username"))
        *(bool *)ctx = true;
    return 0;
}

static bool search_uses_login_index(const char *index_where)
{
    sqlite3 *db = store_new();
    char sql[4096] = "";
    if (index_where) {
        snprintf(sql, sizeof(sql),
                 "CREATE INDEX events_login_username ON events(json_extract(data, '$.username'), ts) WHERE %s;",
                 index_where);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    }
    sql[0] = '\0';
    assert_int_equal(sqlite3_trace_v2(db, SQLITE_TRACE_STMT, catch_sessions_sql, sql), SQLITE_OK);
    int st;
    json_t *o = view(db, "sessions", "last=1d&username=%3Cimg%3E", &st);
    assert_non_null(o);
    assert_int_equal(json_array_size(json_object_get(o, "sessions")), 1);
    json_decref(o);
    assert_true(sql[0] != '\0');
    char eqp[4200];
    snprintf(eqp, sizeof(eqp), "EXPLAIN QUERY PLAN %s", sql);
    bool used = false;
    assert_int_equal(sqlite3_exec(db, eqp, plan_row, &used, NULL), SQLITE_OK);
    sqlite3_close(db);
    return used;
}

static void test_sessions_login_index(void **state)
{
    (void)state;
    assert_true(search_uses_login_index(HP_SQ_LOGIN_WHERE));       /* stores of now */
    assert_true(search_uses_login_index(HP_SQ_LOGIN_WHERE_V1));    /* older stores */
    assert_false(search_uses_login_index(NULL));                   /* the check can fail */
    assert_false(search_uses_login_index("eventid = 'login.failed'"));
}

static void test_no_store(void **state)
{
    int st;
    assert_null(view(NULL, "overview", "", &st));
    assert_int_equal(st, 503);
    sqlite3 *db;
    sqlite3_open(":memory:", &db);                 /* no roll-up tables: not ready */
    assert_null(view(db, "overview", "", &st));
    assert_int_equal(st, 503);
    sqlite3_close(db);
}

/* ---- zip, feed summaries ----------------------------------------------------------------------- */

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_zip(void **state)
{
    static const char data[] = "MZ this would be malware <script>";
    size_t len;
    unsigned char *z = hp_zip_encrypted("x.bin", data, sizeof(data) - 1, "infected", &len);
    assert_non_null(z);
    assert_int_equal(rd32(z), 0x04034b50u);
    assert_int_equal(z[6] & 1, 1);                                    /* encrypted */
    assert_int_equal(rd32(z + 22), sizeof(data) - 1);                 /* uncompressed size */
    assert_int_equal(rd32(z + len - 22), 0x06054b50u);
    assert_null(memmem(z, len, "malware", 7));                        /* not readable in the archive */
    free(z);
    assert_null(hp_zip_encrypted("", data, 1, "infected", &len));
}

static void test_summary(void **state)
{
    static const char login[] = "{\"timestamp\":\"2026-12-04T16:00:00.000000Z\",\"eventid\":\"login.failed\","
                                "\"session\":\"aaaaaaaaaaaa\",\"src_ip\":\"203.0.113.5\",\"dst_port\":23,"
                                "\"username\":\"<img src=x>\",\"password\":\"p\",\"data\":\"dropped\"}";
    char *s = hp_stream_summary(login, sizeof(login) - 1);
    assert_non_null(s);
    json_t *j = json_loads(s, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "detail")), "<img src=x> / p");
    assert_null(json_object_get(j, "data"));
    assert_int_equal(json_integer_value(json_object_get(j, "dst_port")), 23);
    json_decref(j);
    free(s);
    /* a long multi-byte value is cut at a character boundary */
    char big[4000];
    int n = snprintf(big, sizeof(big), "{\"eventid\":\"command.input\",\"input\":\"");
    for (int i = 0; i < 500; i++)
        n += snprintf(big + n, sizeof(big) - (size_t)n, "\xC3\xA9");
    snprintf(big + n, sizeof(big) - (size_t)n, "\"}");
    s = hp_stream_summary(big, strlen(big));
    assert_non_null(s);
    j = json_loads(s, 0, NULL);
    assert_non_null(j);
    assert_true(strlen(json_string_value(json_object_get(j, "detail"))) <= 300);
    json_decref(j);
    free(s);
    assert_null(hp_stream_summary("not json", 8));
    assert_null(hp_stream_summary("[1]", 3));
    /* a NUL in a value (an SSH or Redis password may hold one; the event has it as \u0000)
     * does not hide the event from the feed, and the text after it is shown too */
    static const char nul[] = "{\"eventid\":\"login.failed\",\"username\":\"admin\",\"password\":\"a\\u0000b\"}";
    s = hp_stream_summary(nul, sizeof(nul) - 1);
    assert_non_null(s);
    j = json_loads(s, JSON_ALLOW_NUL, NULL);
    assert_int_equal(json_string_length(json_object_get(j, "detail")), 11);
    assert_memory_equal(json_string_value(json_object_get(j, "detail")), "admin / a\0b", 11);
    json_decref(j);
    free(s);
}

/* An event with a NUL in a value is shown on the session page, not passed off as too large. */
static void test_session_nul(void **state)
{
    sqlite3 *db = store_new();
    int st;
    assert_int_equal(sqlite3_exec(db, "INSERT INTO events(ts, eventid, session, protocol, src_ip, src_port, dst_port, data)"
                                      " VALUES (1, 'login.failed', 'cccccccccccc', 'redis', '203.0.113.5', 5555, 6379,"
                                      " '{\"eventid\":\"login.failed\",\"username\":\"admin\",\"password\":\"a\\u0000b\"}')",
                                  NULL, NULL, NULL), SQLITE_OK);
    json_t *o = view(db, "session/cccccccccccc", "", &st);
    assert_non_null(o);
    json_t *data = json_object_get(json_array_get(json_object_get(o, "events"), 0), "data");
    assert_null(json_object_get(data, "too_large_to_show"));
    assert_int_equal(json_string_length(json_object_get(data, "password")), 3);
    json_decref(o);
    /* ... and a pair key holding one is still split into its username and password */
    char sql[256];
    snprintf(sql, sizeof(sql), "INSERT INTO rollup VALUES('pair', %lld, '[\"n\\u0000ul\",\"p\"]', 9, 0, NULL)",
             (long long)(NOW / H - 1));
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    o = view(db, "top", "last=1d&dim=pair", &st);
    assert_non_null(o);
    json_t *row = json_array_get(json_object_get(o, "rows"), 0);
    assert_int_equal(json_string_length(json_object_get(row, "username")), 4);
    assert_string_equal(json_string_value(json_object_get(row, "password")), "p");
    json_decref(o);
    sqlite3_close(db);
}

/* ---- [dashboard] in the configuration ---------------------------------------------------------- */

static struct hp_config *conf(const char *dash, char *err, size_t errlen)
{
    char text[1024];
    snprintf(text, sizeof(text), "[output jsonl]\n[service t]\nprotocol = trap\ntcp_ports = 2323\n[dashboard]\n%s", dash);
    return hp_config_load_string(text, "t.ini", err, errlen);
}

static void test_config(void **state)
{
    char err[300];
    struct hp_config *c = conf("enabled = true\nbind = ::1\nport = 9999\npassword = longenough\ntls = true\n", err,
                               sizeof(err));
    assert_non_null(c);
    assert_true(c->dashboard.enabled && c->dashboard.tls);
    assert_string_equal(c->dashboard.bind, "::1");
    assert_int_equal(c->dashboard.port, 9999);
    assert_string_equal(c->dashboard.password, "longenough");
    hp_config_free(c);
    c = conf("", err, sizeof(err));                      /* defaults */
    assert_non_null(c);
    assert_false(c->dashboard.enabled);
    assert_string_equal(c->dashboard.bind, "127.0.0.1");
    assert_int_equal(c->dashboard.port, 8787);
    hp_config_free(c);
    static const char *const bad[][2] = {
        { "enabled = true\nport = 2323\n", "t.ini:5: [dashboard]: port 2323 is used by [service t]" },
        { "port = 0\n", "t.ini:6: port: expected a whole number from 1 to 65535, got '0'" },
        { "password = short\n", "t.ini:6: password: at least 8 characters (or empty: the token only)" },
        { "bind = localhost\n", "t.ini:6: bind: 'localhost' is not an IPv4 or IPv6 address" },
        { "tls = maybe\n", "t.ini:6: tls: expected true or false, got 'maybe'" },
        { "colour = red\n", "t.ini:6: unknown key 'colour' in [dashboard]" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_null(conf(bad[i][0], err, sizeof(err)));
        assert_string_equal(err, bad[i][1]);
    }
    /* a disabled dashboard may name any port */
    c = conf("enabled = false\nport = 2323\n", err, sizeof(err));
    assert_non_null(c);
    hp_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_last), cmocka_unit_test(test_from_to), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_values), cmocka_unit_test(test_overview), cmocka_unit_test(test_credentials_and_top),
        cmocka_unit_test(test_sessions), cmocka_unit_test(test_sessions_login_index),
        cmocka_unit_test(test_no_store), cmocka_unit_test(test_zip),
        cmocka_unit_test(test_summary), cmocka_unit_test(test_session_nul), cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
