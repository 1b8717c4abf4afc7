/*
 * dash_api.c - the dashboard's JSON views (docs/api.md).
 *
 * Ranges over many events are answered from the roll-up tables the SQLite
 * writer keeps (src/store/rollup.h): timeline per minute for the charts,
 * rollup (per hour) or rollup_day, first_seen and labels for every ranking,
 * with distinct sources from the rows' sketches (hll_count).  Rankings are
 * hour-aligned up to 48 hours (from is taken down to its hour, to up to the
 * next) and day-aligned (UTC) beyond.  Session lists, search and
 * the session page read the events table through its indexes (ts, src_ip,
 * protocol, (eventid, ts)); there is no index on session, so the session
 * page uses the start time the list gives it (t) to read a window of the
 * time index.
 *
 * Every value from the store is attacker-controlled.  It leaves here only
 * as a JSON string built by jansson (which escapes it and refuses invalid
 * UTF-8: such a value is replaced, never passed through), and only the
 * front end's text nodes ever display it.  SQL is fixed text with bound
 * parameters; the only variable part is a choice among fixed fragments.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "intel/knowledge.h"
#include "store/sqlite.h"
#include "web/dash_int.h"

#define HOUR_US 3600000000LL
#define MINUTE_US 60000000LL
#define SESSION_WINDOW_US (3 * HOUR_US)        /* events of a session after its start */
#define EVENT_SHOW_MAX (64 * 1024)             /* bigger events are summarised on the session page */
#define SESSION_EVENTS_MAX 5000
#define CAST_MAX (32u << 20)
#define PAYLOAD_ZIP_MAX (64u << 20)
#define HEX_CHUNK 4096

bool hp_dapi_is_hex(const char *s, size_t n)
{
    if (!s || strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

void hp_dapi_mark_stored(json_t *rows, const char *data_dir)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *sha = json_string_value(json_object_get(row, "key"));
        char path[PATH_MAX];
        struct stat sb;
        bool stored = false;
        if (hp_dapi_is_hex(sha, 64) && data_dir) {
            snprintf(path, sizeof(path), "%s/payloads/%s", data_dir, sha);
            stored = lstat(path, &sb) == 0 && S_ISREG(sb.st_mode);
        }
        json_object_set_new(row, "stored", json_boolean(stored));
        if (stored)
            json_object_set_new(row, "size", json_integer((json_int_t)sb.st_size));
    }
}

static json_t *fail(int *status, int code, char *err, size_t errlen, const char *msg)
{
    *status = code;
    snprintf(err, errlen, "%s", msg);
    return NULL;
}

/* A column as a JSON string; NULL stays null, text that is not UTF-8 is
 * replaced by a marker (the exact bytes are in the event's _b64 fields). */
static json_t *col_str(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return json_null();
    const char *s = (const char *)sqlite3_column_text(st, i);
    int n = sqlite3_column_bytes(st, i);
    json_t *j = s ? json_stringn(s, (size_t)n) : NULL;
    return j ? j : json_string("\xEF\xBF\xBD(not UTF-8)");
}

static json_t *col_int(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return json_null();
    return json_integer(sqlite3_column_int64(st, i));
}

static sqlite3_stmt *prepare(const struct hp_dapi_env *env, const char *sql, int *status, char *err,
                             size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (!env->db) {
        fail(status, 503, err, errlen, "no SQLite store: enable [output sqlite]");
        return NULL;
    }
    if (sqlite3_prepare_v2(env->db, sql, -1, &st, NULL) != SQLITE_OK) {
        /* A store written before the roll-ups existed has no such tables. */
        const char *m = sqlite3_errmsg(env->db);
        snprintf(err, errlen, "store not ready (%s): run 'hanipo rollup --rebuild'", m);
        *status = 503;
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Step to the end; -1 (status 500/503) when SQLite failed or the query was interrupted. */
static int step_failed(const struct hp_dapi_env *env, int rc, int *status, char *err, size_t errlen)
{
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return 0;
    *status = rc == SQLITE_INTERRUPT ? 503 : 500;
    snprintf(err, errlen, "query failed: %s", rc == SQLITE_INTERRUPT ? "took too long" : sqlite3_errmsg(env->db));
    return -1;
}

static int64_t hour_lo(const struct hp_dq *q)
{
    return q->from_us / HOUR_US;
}

static int64_t hour_hi(const struct hp_dq *q)
{
    return (q->to_us + HOUR_US - 1) / HOUR_US;
}

static void put_range(json_t *o, const struct hp_dq *q)
{
    json_object_set_new(o, "from", json_integer(q->from_us / 1000000));
    json_object_set_new(o, "to", json_integer(q->to_us / 1000000));
}

/* ---- rankings from the roll-ups ------------------------------------------ */

/* Short ranges (up to TOP_HOURS_MAX hours) rank from the hour rows, with the
 * distinct sources merged in the same pass; longer ones from the day rows
 * (keyed by key first: grouping needs no sort), the sources counted only for
 * the keys shown. */
#define TOP_HOURS_MAX 48
static const char top_hour_sql[] =
    "WITH t AS (SELECT key, sum(n) AS n, sum(ok) AS ok, hll_count(src) AS d FROM rollup"
    "  WHERE dim = ?1 AND hour >= ?2 AND hour < ?3 GROUP BY key ORDER BY n DESC, key LIMIT ?4 OFFSET ?5)"
    " SELECT t.key, t.n, t.ok, t.d, l.a, l.b, f.ts, f.last"
    " FROM t LEFT JOIN labels l ON l.dim = ?1 AND l.key = t.key"
    " LEFT JOIN first_seen f ON f.dim = ?1 AND f.key = t.key"
    " ORDER BY t.n DESC, t.key";
static const char top_day_sql[] =
    "WITH t AS (SELECT key, sum(n) AS n, sum(ok) AS ok FROM rollup_day"
    "  WHERE dim = ?1 AND day >= ?2 AND day < ?3 GROUP BY key ORDER BY n DESC, key LIMIT ?4 OFFSET ?5)"
    " SELECT t.key, t.n, t.ok,"
    "  (SELECT hll_count(src) FROM rollup_day s WHERE s.dim = ?1 AND s.key = t.key AND s.day >= ?2 AND s.day < ?3),"
    "  l.a, l.b, f.ts, f.last"
    " FROM t LEFT JOIN labels l ON l.dim = ?1 AND l.key = t.key"
    " LEFT JOIN first_seen f ON f.dim = ?1 AND f.key = t.key"
    " ORDER BY t.n DESC, t.key";

/* The buckets a ranking reads: hours, or days for long ranges. */
static bool use_days(const struct hp_dq *q, int64_t *lo, int64_t *hi)
{
    if (hour_hi(q) - hour_lo(q) <= TOP_HOURS_MAX) {
        *lo = hour_lo(q);
        *hi = hour_hi(q);
        return false;
    }
    *lo = hour_lo(q) / 24;
    *hi = (hour_hi(q) + 23) / 24;
    return true;
}

/* Label names per dimension (labels.a, labels.b), NULL: not used. */
static void label_names(const char *dim, const char **a, const char **b)
{
    static const struct { const char *dim, *a, *b; } names[] = {
        { "cc", "name", NULL }, { "asn", "org", NULL }, { "ip", "cc", "asn" },
        { "pair", "device", "botnets" }, { "http_cred", "device", "botnets" },
        { "sha256", "type", "family" }, { "url", "type", "sha256" },
        { "ja3", "client", NULL }, { "ja4", "client", NULL }, { "hassh", "client", NULL },
    };
    *a = *b = NULL;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(dim, names[i].dim) == 0) {
            *a = names[i].a;
            *b = names[i].b;
        }
}

/* Pair keys are JSON arrays [user, pass]: shown as two fields.  A key cut at
 * HP_ROLLUP_KEY_MAX (a long or much-escaped username) is no longer JSON: it
 * is shown whole as the username, as the report does, not as a blank row. */
static void split_pair(json_t *row, const char *key)
{
    json_t *arr = json_loads(key, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (json_is_array(arr) && json_array_size(arr) == 2) {
        json_object_set(row, "username", json_array_get(arr, 0));
        json_object_set(row, "password", json_array_get(arr, 1));
    } else {
        json_object_set(row, "username", json_object_get(row, "key"));
    }
    json_decref(arr);
}

/* botnets labels are JSON arrays as text: give them as arrays. */
static json_t *maybe_array(json_t *v)
{
    const char *s = json_string_value(v);
    if (s && s[0] == '[') {
        json_t *arr = json_loads(s, 0, NULL);
        if (json_is_array(arr)) {
            json_decref(v);
            return arr;
        }
        json_decref(arr);
    }
    return v;
}

void hp_dapi_name_rows(const char *dim, json_t *rows)
{
    bool cve = strcmp(dim, "cve") == 0, port = strcmp(dim, "port") == 0;
    size_t i;
    json_t *row;
    if (!cve && !port)
        return;
    json_array_foreach(rows, i, row) {
        const char *key = json_string_value(json_object_get(row, "key"));
        if (!key)
            continue;
        if (cve) {
            const struct hp_cve_info *ci = hp_knowledge_cve(key);
            if (ci)
                json_object_set_new(row, "name", json_sprintf("%s: %s", ci->product, ci->name));
            continue;
        }
        char *end;
        long p = strtol(key, &end, 10);
        if (*end || p <= 0 || p > 65535)
            continue;
        const struct hp_port_info *pi = hp_knowledge_port((uint16_t)p, "tcp");
        if (!pi)
            pi = hp_knowledge_port((uint16_t)p, "udp");
        if (pi && pi->service)
            json_object_set_new(row, "service", json_string(pi->service));
    }
}

/* One ranking: [{key, n, ok, distinct, <labels>, first, last}, ...]. */
static json_t *top(const struct hp_dapi_env *env, const char *dim, const struct hp_dq *q, int64_t limit,
                   int64_t offset, int *status, char *err, size_t errlen)
{
    int64_t lo, hi;
    bool days = use_days(q, &lo, &hi);
    sqlite3_stmt *st = prepare(env, days ? top_day_sql : top_hour_sql, status, err, errlen);
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, dim, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, lo);
    sqlite3_bind_int64(st, 3, hi);
    sqlite3_bind_int64(st, 4, limit);
    sqlite3_bind_int64(st, 5, offset);
    const char *la, *lb;
    label_names(dim, &la, &lb);
    bool pair = strcmp(dim, "pair") == 0 || strcmp(dim, "http_cred") == 0;
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = json_object();
        json_object_set_new(row, "key", col_str(st, 0));
        json_object_set_new(row, "n", col_int(st, 1));
        json_object_set_new(row, "ok", col_int(st, 2));
        json_object_set_new(row, strcmp(dim, "ip") == 0 ? "ports" : "sources", col_int(st, 3));
        if (la)
            json_object_set_new(row, la, maybe_array(col_str(st, 4)));
        if (lb)
            json_object_set_new(row, lb, maybe_array(col_str(st, 5)));
        if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
            json_object_set_new(row, "first", json_integer(sqlite3_column_int64(st, 6) / 1000000));
            json_object_set_new(row, "last", json_integer(sqlite3_column_int64(st, 7) / 1000000));
        }
        if (pair && sqlite3_column_text(st, 0))
            split_pair(row, (const char *)sqlite3_column_text(st, 0));
        json_array_append_new(arr, row);
    }
    sqlite3_finalize(st);
    if (step_failed(env, rc, status, err, errlen) != 0) {
        json_decref(arr);
        return NULL;
    }
    hp_dapi_name_rows(dim, arr);
    return arr;
}

/* Several rankings into one object; NULL (status set) if any failed. */
static json_t *tops(const struct hp_dapi_env *env, const struct hp_dq *q, const char *const *dims, size_t n,
                    int64_t limit, int *status, char *err, size_t errlen)
{
    json_t *o = json_object();
    put_range(o, q);
    for (size_t i = 0; i < n; i++) {
        json_t *t = top(env, dims[i], q, limit, 0, status, err, errlen);
        if (!t) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, dims[i], t);
    }
    return o;
}

/* ---- overview -------------------------------------------------------------------- */


/* {bucket, t: [...], series: {protocol: [n per t]}} */
static json_t *timeline(const struct hp_dapi_env *env, const struct hp_dq *q, json_t *totals, int *status,
                        char *err, size_t errlen)
{
    sqlite3_stmt *st = prepare(env,
        "SELECT minute / ?3 * ?3 AS b, protocol, sum(events), sum(connects), sum(logins) FROM timeline"
        " WHERE minute >= ?1 AND minute < ?2 GROUP BY b, protocol ORDER BY b, protocol", status, err, errlen);
    if (!st)
        return NULL;
    int64_t step = hp_dq_bucket_minutes(q);
    int64_t lo = q->from_us / MINUTE_US / step * step, hi = (q->to_us + MINUTE_US - 1) / MINUTE_US;
    sqlite3_bind_int64(st, 1, q->from_us / MINUTE_US);
    sqlite3_bind_int64(st, 2, hi);
    sqlite3_bind_int64(st, 3, step);
    size_t npts = (size_t)((hi - lo + step - 1) / step);
    if (npts == 0)
        npts = 1;
    json_t *t = json_array(), *series = json_object();
    for (size_t i = 0; i < npts; i++)
        json_array_append_new(t, json_integer((lo + (int64_t)i * step) * 60));
    int64_t ev = 0, conn = 0, logins = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t b = sqlite3_column_int64(st, 0);
        const char *proto = (const char *)sqlite3_column_text(st, 1);
        if (!proto || b < lo || (size_t)((b - lo) / step) >= npts)
            continue;
        json_t *ser = json_object_get(series, proto);
        if (!ser) {
            ser = json_array();
            for (size_t i = 0; i < npts; i++)
                json_array_append_new(ser, json_integer(0));
            if (json_object_set_new(series, proto, ser) != 0)      /* not UTF-8: cannot be a key */
                continue;
        }
        json_array_set_new(ser, (size_t)((b - lo) / step), json_integer(sqlite3_column_int64(st, 2)));
        ev += sqlite3_column_int64(st, 2);
        conn += sqlite3_column_int64(st, 3);
        logins += sqlite3_column_int64(st, 4);
    }
    sqlite3_finalize(st);
    if (step_failed(env, rc, status, err, errlen) != 0) {
        json_decref(t);
        json_decref(series);
        return NULL;
    }
    json_object_set_new(totals, "events", json_integer(ev));
    json_object_set_new(totals, "connects", json_integer(conn));
    json_object_set_new(totals, "logins", json_integer(logins));
    return json_pack("{s:I, s:o, s:o}", "bucket", (json_int_t)(step * 60), "t", t, "series", series);
}

static json_t *count_sources(const struct hp_dapi_env *env, const struct hp_dq *q, int *status, char *err,
                             size_t errlen)
{
    int64_t lo, hi;
    bool days = use_days(q, &lo, &hi);
    sqlite3_stmt *st = prepare(env, days ? "SELECT count(DISTINCT key) FROM rollup_day WHERE dim = 'ip'"
                                           " AND day >= ?1 AND day < ?2"
                                         : "SELECT count(DISTINCT key) FROM rollup WHERE dim = 'ip'"
                                           " AND hour >= ?1 AND hour < ?2", status, err, errlen);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, lo);
    sqlite3_bind_int64(st, 2, hi);
    int rc = sqlite3_step(st);
    json_t *n = rc == SQLITE_ROW ? json_integer(sqlite3_column_int64(st, 0)) : NULL;
    sqlite3_finalize(st);
    if (step_failed(env, rc, status, err, errlen) != 0)
        return NULL;
    return n;
}

static json_t *view_overview(const struct hp_dapi_env *env, const struct hp_dq *q, int *status, char *err,
                             size_t errlen)
{
    json_t *totals = json_object();
    json_t *tl = timeline(env, q, totals, status, err, errlen);
    json_t *src = tl ? count_sources(env, q, status, err, errlen) : NULL;
    json_t *cc = src ? top(env, "cc", q, 250, 0, status, err, errlen) : NULL;
    json_t *ports = cc ? top(env, "port", q, 20, 0, status, err, errlen) : NULL;
    json_t *protos = ports ? top(env, "protocol", q, 20, 0, status, err, errlen) : NULL;
    if (!protos) {
        json_decref(totals);
        json_decref(tl);
        json_decref(src);
        json_decref(cc);
        json_decref(ports);
        return NULL;
    }
    json_object_set_new(totals, "sources", src);
    json_t *o = json_object();
    put_range(o, q);
    json_object_set_new(o, "totals", totals);
    json_object_set_new(o, "timeline", tl);
    json_object_set_new(o, "countries", cc);
    json_object_set_new(o, "ports", ports);
    json_object_set_new(o, "protocols", protos);
    return o;
}

/* ---- the other ranking views ---------------------------------------------------- */

static json_t *view_credentials(const struct hp_dapi_env *env, const struct hp_dq *q, int *status, char *err,
                                size_t errlen)
{
    static const char *const dims[] = { "username", "password", "pair", "http_cred" };
    return tops(env, q, dims, 4, q->have & HP_DQ_LIMIT ? (int64_t)q->limit : 100, status, err, errlen);
}

static json_t *view_web(const struct hp_dapi_env *env, const struct hp_dq *q, int *status, char *err,
                        size_t errlen)
{
    static const char *const dims[] = { "uri", "class", "cve", "owasp", "ua", "url" };
    return tops(env, q, dims, 6, q->have & HP_DQ_LIMIT ? (int64_t)q->limit : 50, status, err, errlen);
}

static json_t *view_fingerprints(const struct hp_dapi_env *env, const struct hp_dq *q, int *status, char *err,
                                 size_t errlen)
{
    static const char *const dims[] = { "ja3", "ja4", "hassh" };
    return tops(env, q, dims, 3, q->have & HP_DQ_LIMIT ? (int64_t)q->limit : 50, status, err, errlen);
}

static json_t *view_top(const struct hp_dapi_env *env, const struct hp_dq *q, int *status, char *err,
                        size_t errlen)
{
    if (!(q->have & HP_DQ_DIM))
        return fail(status, 400, err, errlen, "dim is required");
    json_t *t = top(env, q->dim, q, (int64_t)q->limit, (int64_t)q->offset, status, err, errlen);
    if (!t)
        return NULL;
    json_t *o = json_object();
    put_range(o, q);
    json_object_set_new(o, "dim", json_string(q->dim));
    json_object_set_new(o, "offset", json_integer((json_int_t)q->offset));
    json_object_set_new(o, "rows", t);
    return o;
}

/* Payloads: the sha256 ranking, with whether (and how big) the file is still stored. */
static json_t *view_payloads(const struct hp_dapi_env *env, const struct hp_dq *q, int *status, char *err,
                             size_t errlen)
{
    json_t *t = top(env, "sha256", q, (int64_t)q->limit, (int64_t)q->offset, status, err, errlen);
    if (!t)
        return NULL;
    hp_dapi_mark_stored(t, env->data_dir);
    json_t *o = json_object();
    put_range(o, q);
    json_object_set_new(o, "offset", json_integer((json_int_t)q->offset));
    json_object_set_new(o, "payloads", t);
    return o;
}

/* ---- sessions ---------------------------------------------------------------------- */

#define JX(f) "json_extract(data, '$." f "')"

/* The search: fixed fragments chosen by which parameters are present.  The
 * credential tests are written exactly as the partial expression indexes a
 * store may have (json_extract(data, '$.username') over the login events,
 * in either of the two forms of sqlite.h), so SQLite can use them; without
 * them the login events of the range are read (about 0.6 s for 100k
 * logins). */
#define LOGIN_EVENTS HP_SQ_LOGIN_WHERE_V1 " AND " HP_SQ_LOGIN_WHERE
static void sessions_sql(const struct hp_dq *q, char *sql, size_t len)
{
    bool cred = q->have & (HP_DQ_USERNAME | HP_DQ_PASSWORD);
    /* The matching logins first (m); the connections are then read only
     * between the first and the last of them, so a rare credential does not
     * make the search walk every connection of the range. */
    snprintf(sql, len,
             "%s%s%s%s"
             "SELECT ts, session, protocol, src_ip, src_port, dst_port, " JX("src_cc") ", " JX("service") ","
             " " JX("src_country") ", " JX("src_as_org") " FROM events"
             " WHERE eventid = 'session.connect' AND ts >= ?1 AND ts < ?2%s%s%s%s%s"
             " ORDER BY ts DESC LIMIT ?9 OFFSET ?10",
             cred ? "WITH m AS MATERIALIZED (SELECT session, ts FROM events WHERE " LOGIN_EVENTS
                    " AND ts >= ?1 AND ts < ?2 + 10800000000" : "",
             q->have & HP_DQ_USERNAME ? " AND json_extract(data, '$.username') = ?6" : "",
             q->have & HP_DQ_PASSWORD ? " AND json_extract(data, '$.password') = ?7" : "",
             cred ? ") " : "",
             q->have & HP_DQ_IP ? " AND src_ip = ?3" : "",
             q->have & HP_DQ_PROTOCOL ? " AND protocol = ?4" : "",
             q->have & HP_DQ_CC ? " AND " JX("src_cc") " = ?5" : "",
             cred ? " AND ts >= (SELECT min(ts) FROM m) - 10800000000 AND ts <= (SELECT max(ts) FROM m)"
                    " AND session IN (SELECT session FROM m)" : "",
             q->have & HP_DQ_COMMAND
                 ? " AND session IN (SELECT session FROM events WHERE eventid IN ('command.input', 'command.failed')"
                   " AND ts >= ?1 AND ts < ?2 + 10800000000 AND (?13 IS NULL OR instr(data, ?13) > 0)"
                   " AND instr(" JX("input") ", ?8) > 0)"
                 : "");
}

/* Searching by command parses the JSON of every command event in the
 * range; a plain substring test on the stored text is far cheaper and rules
 * most rows out first.  Only for values whose JSON
 * form is the value itself (printable ASCII without '"' and '\\'), so the
 * test can never miss a match; json_extract() still decides. */
static void bind_needle(sqlite3_stmt *st, int idx, const char *field, const char *v)
{
    char needle[HP_DQ_TEXT + 32];
    for (const char *p = v; *p; p++)
        if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
            return;                                   /* stays NULL: no pre-filter */
    if (field)
        snprintf(needle, sizeof(needle), "\"%s\":\"%s\"", field, v);
    else
        snprintf(needle, sizeof(needle), "%s", v);
    sqlite3_bind_text(st, idx, needle, -1, SQLITE_TRANSIENT);
}

static json_t *view_sessions(const struct hp_dapi_env *env, const struct hp_dq *q, int *status, char *err,
                             size_t errlen)
{
    char sql[2048];
    sessions_sql(q, sql, sizeof(sql));
    sqlite3_stmt *st = prepare(env, sql, status, err, errlen);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, q->from_us);
    sqlite3_bind_int64(st, 2, q->to_us);
    if (q->have & HP_DQ_IP)
        sqlite3_bind_text(st, 3, q->ip, -1, SQLITE_STATIC);
    if (q->have & HP_DQ_PROTOCOL)
        sqlite3_bind_text(st, 4, q->protocol, -1, SQLITE_STATIC);
    if (q->have & HP_DQ_CC)
        sqlite3_bind_text(st, 5, q->cc, -1, SQLITE_STATIC);
    if (q->have & HP_DQ_USERNAME) {
        sqlite3_bind_text(st, 6, q->username, -1, SQLITE_STATIC);
    }
    if (q->have & HP_DQ_PASSWORD) {
        sqlite3_bind_text(st, 7, q->password, -1, SQLITE_STATIC);
    }
    if (q->have & HP_DQ_COMMAND) {
        sqlite3_bind_text(st, 8, q->command, -1, SQLITE_STATIC);
        bind_needle(st, 13, NULL, q->command);
    }
    sqlite3_bind_int64(st, 9, (int64_t)q->limit + 1);         /* one more: is there a next page? */
    sqlite3_bind_int64(st, 10, (int64_t)q->offset);
    json_t *arr = json_array();
    int rc;
    bool more = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (json_array_size(arr) == q->limit) {
            more = true;
            rc = SQLITE_DONE;
            break;
        }
        json_t *r = json_object();
        json_object_set_new(r, "ts", col_int(st, 0));
        json_object_set_new(r, "session", col_str(st, 1));
        json_object_set_new(r, "protocol", col_str(st, 2));
        json_object_set_new(r, "src_ip", col_str(st, 3));
        json_object_set_new(r, "src_port", col_int(st, 4));
        json_object_set_new(r, "dst_port", col_int(st, 5));
        json_object_set_new(r, "cc", col_str(st, 6));
        json_object_set_new(r, "service", col_str(st, 7));
        json_object_set_new(r, "country", col_str(st, 8));
        json_object_set_new(r, "as_org", col_str(st, 9));
        json_array_append_new(arr, r);
    }
    sqlite3_finalize(st);
    if (step_failed(env, rc, status, err, errlen) != 0) {
        json_decref(arr);
        return NULL;
    }
    json_t *o = json_object();
    put_range(o, q);
    json_object_set_new(o, "offset", json_integer((json_int_t)q->offset));
    json_object_set_new(o, "more", json_boolean(more));
    json_object_set_new(o, "sessions", arr);
    return o;
}

/* The events of one session, oldest first.  With t (its start, from the
 * list) only [t - 1 s, t + 3 h) of the time index is read. */
static sqlite3_stmt *session_stmt(const struct hp_dapi_env *env, const char *id, const struct hp_dq *q,
                                  bool cast_only, int *status, char *err, size_t errlen)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT ts, eventid, data FROM events WHERE session = ?1%s%s ORDER BY id LIMIT %d",
             q->have & HP_DQ_T ? " AND ts >= ?2 - 1000000 AND ts < ?2 + 10800000000" : "",
             cast_only ? " AND eventid = 'log.closed'" : "", SESSION_EVENTS_MAX);
    sqlite3_stmt *st = prepare(env, sql, status, err, errlen);
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    if (q->have & HP_DQ_T)
        sqlite3_bind_int64(st, 2, q->t_us);
    return st;
}

static json_t *view_session(const struct hp_dapi_env *env, const char *id, const struct hp_dq *q, int *status,
                            char *err, size_t errlen)
{
    if (!hp_dapi_is_hex(id, 12))
        return fail(status, 400, err, errlen, "a session id is 12 hex digits");
    sqlite3_stmt *st = session_stmt(env, id, q, false, status, err, errlen);
    if (!st)
        return NULL;
    json_t *arr = json_array();
    bool cast = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *eid = (const char *)sqlite3_column_text(st, 1);
        int len = sqlite3_column_bytes(st, 2);
        json_t *data = NULL;
        if (len <= EVENT_SHOW_MAX)
            data = json_loadb((const char *)sqlite3_column_text(st, 2), (size_t)len, JSON_ALLOW_NUL, NULL);
        /* JSON_ALLOW_NUL above: a NUL an attacker sent (\u0000 in the event) must not make
         * the event unreadable, which would hide it here as "too large" */
        if (!data)
            data = json_pack("{s:b, s:i}", "too_large_to_show", 1, "bytes", len);
        if (eid && strcmp(eid, "log.closed") == 0)
            cast = true;
        json_array_append_new(arr, json_pack("{s:o, s:o, s:o}", "ts", col_int(st, 0), "eventid", col_str(st, 1),
                                             "data", data));
    }
    sqlite3_finalize(st);
    if (step_failed(env, rc, status, err, errlen) != 0) {
        json_decref(arr);
        return NULL;
    }
    if (json_array_size(arr) == 0) {
        json_decref(arr);
        return fail(status, 404, err, errlen, "no such session in that window");
    }
    return json_pack("{s:s, s:b, s:o}", "session", id, "cast", cast, "events", arr);
}

/* Read a regular file of at most max bytes (no symlink as the last component). */
static char *read_file(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        return NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > max) {
        close(fd);
        return NULL;
    }
    char *buf = malloc((size_t)sb.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got != (size_t)sb.st_size) {
        free(buf);
        return NULL;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

char *hp_dapi_cast(const struct hp_dapi_env *env, const char *id, const struct hp_dq *q, size_t *len,
                   int *status, char *err, size_t errlen)
{
    if (!hp_dapi_is_hex(id, 12)) {
        fail(status, 400, err, errlen, "a session id is 12 hex digits");
        return NULL;
    }
    sqlite3_stmt *st = session_stmt(env, id, q, true, status, err, errlen);
    if (!st)
        return NULL;
    char want[PATH_MAX] = "";
    if (sqlite3_step(st) == SQLITE_ROW) {
        json_t *ev = json_loadb((const char *)sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2), 0,
                                NULL);
        const char *p = json_string_value(json_object_get(ev, "ttylog"));
        if (p && strlen(p) < sizeof(want))
            snprintf(want, sizeof(want), "%s", p);
        json_decref(ev);
    }
    sqlite3_finalize(st);
    /* The path comes from the store: serve it only if it resolves inside data_dir. */
    char real[PATH_MAX], root[PATH_MAX], rel[PATH_MAX * 2];
    if (want[0] && want[0] != '/')
        snprintf(rel, sizeof(rel), "%s/%s", env->data_dir, want);
    else
        snprintf(rel, sizeof(rel), "%s", want);
    size_t rl;
    if (!want[0] || !env->data_dir || !realpath(env->data_dir, root) || !realpath(rel, real) ||
        (rl = strlen(root), strncmp(real, root, rl) != 0) || real[rl] != '/') {
        fail(status, 404, err, errlen, "no recording for this session");
        return NULL;
    }
    char *buf = read_file(real, CAST_MAX, len);
    if (!buf)
        fail(status, 404, err, errlen, "recording missing or too large");
    return buf;
}

/* ---- payload bytes: hex view and encrypted zip (never the raw file) ---------------------- */

static int open_payload(const struct hp_dapi_env *env, const char *sha, struct stat *sb)
{
    char path[PATH_MAX];
    if (!hp_dapi_is_hex(sha, 64) || !env->data_dir)
        return -1;
    snprintf(path, sizeof(path), "%s/payloads/%s", env->data_dir, sha);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && (fstat(fd, sb) != 0 || !S_ISREG(sb->st_mode))) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static json_t *view_hex(const struct hp_dapi_env *env, const char *sha, const struct hp_dq *q, int *status,
                        char *err, size_t errlen)
{
    struct stat sb;
    unsigned char buf[HEX_CHUNK];
    int fd = open_payload(env, sha, &sb);
    if (fd < 0)
        return fail(status, 404, err, errlen, "payload not stored");
    ssize_t n = (uint64_t)sb.st_size > q->pos ? pread(fd, buf, sizeof(buf), (off_t)q->pos) : 0;
    close(fd);
    if (n < 0)
        return fail(status, 500, err, errlen, "cannot read the payload");
    json_t *rows = json_array();
    for (ssize_t off = 0; off < n; off += 16) {
        char hex[16 * 3 + 1], text[17];
        size_t h = 0, t = 0;
        for (ssize_t i = off; i < off + 16 && i < n; i++) {
            h += (size_t)snprintf(hex + h, sizeof(hex) - h, "%02x ", buf[i]);
            text[t++] = buf[i] >= 0x20 && buf[i] < 0x7f ? (char)buf[i] : '.';
        }
        if (h)
            hex[h - 1] = '\0';
        text[t] = '\0';
        json_array_append_new(rows, json_pack("{s:I, s:s, s:s}", "off", (json_int_t)(q->pos + (uint64_t)off),
                                              "hex", hex, "text", text));
    }
    return json_pack("{s:s, s:I, s:I, s:i, s:o}", "sha256", sha, "size", (json_int_t)sb.st_size, "pos",
                     (json_int_t)q->pos, "chunk", HEX_CHUNK, "rows", rows);
}

unsigned char *hp_dapi_payload_zip(const struct hp_dapi_env *env, const char *sha, size_t *len, int *status,
                                   char *err, size_t errlen)
{
    struct stat sb;
    int fd = open_payload(env, sha, &sb);
    if (fd < 0) {
        fail(status, 404, err, errlen, "payload not stored");
        return NULL;
    }
    close(fd);
    char path[PATH_MAX], name[80];
    size_t n;
    snprintf(path, sizeof(path), "%s/payloads/%s", env->data_dir, sha);
    char *data = read_file(path, PAYLOAD_ZIP_MAX, &n);
    if (!data) {
        fail(status, 413, err, errlen, "payload unreadable or too large");
        return NULL;
    }
    snprintf(name, sizeof(name), "%s.bin", sha);
    unsigned char *zip = hp_zip_encrypted(name, data, n, "infected", len);
    free(data);
    if (!zip)
        fail(status, 500, err, errlen, "cannot build the zip");
    return zip;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

json_t *hp_dapi_view(const struct hp_dapi_env *env, const char *view, const struct hp_dq *q, int *status,
                     char *err, size_t errlen)
{
    static const struct {
        const char *name;
        json_t *(*fn)(const struct hp_dapi_env *, const struct hp_dq *, int *, char *, size_t);
    } views[] = {
        { "overview", view_overview }, { "credentials", view_credentials }, { "sessions", view_sessions },
        { "web", view_web }, { "fingerprints", view_fingerprints }, { "payloads", view_payloads },
        { "top", view_top },
    };
    *status = 200;
    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
        if (strcmp(view, views[i].name) == 0)
            return views[i].fn(env, q, status, err, errlen);
    if (strncmp(view, "session/", 8) == 0)
        return view_session(env, view + 8, q, status, err, errlen);
    if (strncmp(view, "payload/", 8) == 0 && strlen(view) == 8 + 64 + 4 && strcmp(view + 72, "/hex") == 0) {
        char sha[65];
        memcpy(sha, view + 8, 64);
        sha[64] = '\0';
        return view_hex(env, sha, q, status, err, errlen);
    }
    return fail(status, 404, err, errlen, "no such view");
}
