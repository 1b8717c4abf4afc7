/*
 * dash_ch.c - the dashboard's JSON views over a fleet's ClickHouse store
 * ([dashboard] store = clickhouse://..., or `hanipo dashboard --store`;
 * docs/api.md, docs/fleet.md).
 *
 * The views give the same JSON as the SQLite ones (dash_api.c), so the
 * front end draws both, plus what only a fleet has: every view covers every
 * sensor, takes sensor=NAME, and the overview adds per-sensor breakdowns
 * (events per sensor; source country x sensor country from [report]
 * sensor_country).  There are no roll-ups here: every view is a GROUP BY
 * over hanipo.events, reading the hot columns (store/chschema.h) when the
 * table has them; the table is sorted by (sensor, eventid, ts), and each
 * query names its event types and range, so it reads only those granules.
 *
 * Queries are built as text: ClickHouse 18.16 (Debian 12) has no query
 * parameters ({name:Type} arrived in 19.x).  So every value from the
 * request enters SQL in exactly one of two forms: a number formatted here
 * from an integer of struct hp_dq, or a string literal written by
 * hp_chq_quote(), which passes only letters, digits and " .:-_/@" and writes
 * every other byte as \xHH, so no value can end the literal (unit-tested in
 * test_chquery.c, fuzzed in fuzz_chquery.c).  Everything else is fixed text
 * chosen from tables in this file.
 *
 * Answers come back as TabSeparated through hp_chq_parse_tsv() (bounded,
 * fuzzed); every value is attacker-controlled and leaves only as a JSON
 * string built by jansson (text that is not UTF-8 is replaced by a marker).
 *
 * The HTTP requests to ClickHouse block, but only the dashboard's own thread
 * (dash.c): the honeypot's event loop never waits for them.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "buf.h"
#include "event.h"
#include "store/chquery.h"
#include "store/chschema.h"
#include "web/dash_int.h"

#define DCH_TIMEOUT_MS 30000L
#define DCH_SQL_MAX (256u << 10)
#define DCH_DAY_US 86400000000LL
#define DCH_MINUTE_US 60000000LL
#define DCH_SESSION_WINDOW_US 10800000000LL     /* a session's events after its start (3 h) */
#define DCH_SESSION_EVENTS_MAX 5000
#define DCH_EVENT_SHOW_MAX (64 * 1024)
#define DCH_CONNECT "eventid = 'session.connect'"
#define DCH_LOGINS "eventid IN ('login.success', 'login.failed')"

struct hp_dch {
    struct hp_chq_url url;
    struct hp_chq *conn;          /* libcurl handle, kept alive between queries */
    hp_chs_have have;             /* hot columns of the table */
    bool detected;
    char sc[8192];                /* the sensor's country as SQL (hp_chs_sensor_country) */
};

struct hp_dch *hp_dch_new(const char *store, const char *sensor_country, char *err, size_t errlen)
{
    struct hp_dch *c = calloc(1, sizeof(*c));
    struct hp_buf sc;
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    hp_buf_init(&sc, sizeof(c->sc) - 1);
    if (hp_chq_parse_url(store, &c->url, err, errlen) != 0 ||
        hp_chs_sensor_country(sensor_country, &sc, err, errlen) != 0 || !hp_buf_ok(&sc)) {
        if (!hp_buf_ok(&sc))
            snprintf(err, errlen, "[report] sensor_country too long");
        hp_buf_free(&sc);
        free(c);
        return NULL;
    }
    snprintf(c->sc, sizeof(c->sc), "%s", hp_buf_cstr(&sc));
    hp_buf_free(&sc);
    c->conn = hp_chq_open(&c->url, DCH_TIMEOUT_MS, err, errlen);
    if (!c->conn) {
        free(c);
        return NULL;
    }
    return c;
}

void hp_dch_free(struct hp_dch *c)
{
    if (!c)
        return;
    hp_chq_close(c->conn);
    free(c);
}

static json_t *dch_fail(int *status, int code, char *err, size_t errlen, const char *msg)
{
    *status = code;
    snprintf(err, errlen, "%s", msg);
    return NULL;
}

/* ---- SQL pieces ------------------------------------------------------------------------ */

/* A template's @J{field} -> the hot column or its expression; other text as is. */
static void dch_put(struct hp_dch *c, struct hp_buf *b, const char *t)
{
    while (*t) {
        const char *at = strstr(t, "@J{");
        const char *end = at ? strchr(at, '}') : NULL;
        if (!at || !end) {
            hp_buf_puts(b, t);
            return;
        }
        hp_buf_put(b, t, (size_t)(at - t));
        if (!hp_chs_field(b, at + 3, (size_t)(end - at - 3), c->have))
            hp_buf_puts(b, "@unknown-field");           /* a bug here: the query fails loudly */
        t = end + 1;
    }
}

/* The range (and the day column, for partition pruning) and the sensor filter. */
static void dch_range(struct hp_buf *b, const struct hp_dq *q, int64_t from_us, int64_t to_us)
{
    hp_buf_printf(b, " (ts >= %lld AND ts < %lld AND day >= toDate(%lld) AND day <= toDate(%lld))",
                  (long long)from_us, (long long)to_us, (long long)(from_us / DCH_DAY_US),
                  (long long)((to_us - 1) / DCH_DAY_US));
    if (q->have & HP_DQ_SENSOR) {
        hp_buf_puts(b, " AND sensor = ");
        hp_chq_quote(b, q->sensor, strlen(q->sensor));
    }
}

static void dch_where(struct hp_buf *b, const struct hp_dq *q)
{
    dch_range(b, q, q->from_us, q->to_us);
}

/* ---- running a query into JSON rows ------------------------------------------------------ */

/* Column kinds of an answer: 's' string (NULL stays null), 'i' integer, 't' time in µs -> s,
 * '-' skipped. */
struct dch_rows {
    const char *const *names;
    const char *kinds;
    size_t ncols;
    json_t *arr;
    bool bad;
};

static json_t *dch_cell(char kind, const struct hp_chq_cell *cell)
{
    if (!cell->s)
        return json_null();
    if (kind == 'i')
        return json_integer(strtoll(cell->s, NULL, 10));
    if (kind == 't')
        return json_integer(strtoll(cell->s, NULL, 10) / 1000000);
    json_t *j = json_stringn(cell->s, cell->n);
    return j ? j : json_string("\xEF\xBF\xBD(not UTF-8)");
}

static int dch_row(void *arg, size_t ncols, const struct hp_chq_cell *cells)
{
    struct dch_rows *r = arg;
    if (ncols != r->ncols) {
        r->bad = true;
        return -2;
    }
    json_t *o = json_object();
    for (size_t i = 0; i < ncols; i++)
        if (r->kinds[i] != '-')
            json_object_set_new(o, r->names[i], dch_cell(r->kinds[i], &cells[i]));
    json_array_append_new(r->arr, o);
    return 0;
}

/* Learn the table's hot columns once (a table made before them reads the JSON). */
static int dch_detect(struct hp_dch *c, int *status, char *err, size_t errlen)
{
    if (c->detected)
        return 0;
    char qerr[512];
    if (hp_chs_detect(c->conn, c->url.database, "events", &c->have, qerr, sizeof(qerr)) != 0) {
        *status = 503;
        snprintf(err, errlen, "ClickHouse store: %s", qerr);
        return -1;
    }
    c->detected = true;
    return 0;
}

/* Run sql (consumed) and give its rows as objects with the given names and kinds. */
static json_t *dch_query(struct hp_dch *c, struct hp_buf *sql, const char *const *names, const char *kinds,
                         int *status, char *err, size_t errlen)
{
    struct dch_rows r = { names, kinds, strlen(kinds), json_array(), false };
    char qerr[768];
    int rc = -1;
    if (!hp_buf_ok(sql))
        snprintf(qerr, sizeof(qerr), "query too long");
    else
        rc = hp_chq_query(c->conn, hp_buf_cstr(sql), dch_row, &r, qerr, sizeof(qerr));
    hp_buf_free(sql);
    if (rc != 0) {
        json_decref(r.arr);
        *status = 503;
        snprintf(err, errlen, "ClickHouse store: %s", r.bad ? "unexpected answer" : qerr);
        return NULL;
    }
    return r.arr;
}

static void dch_sql(struct hp_buf *b)
{
    hp_buf_init(b, DCH_SQL_MAX);
}

/* ---- rankings ------------------------------------------------------------------------------ */

/*
 * A ranking per dimension, the same names and meanings as the roll-ups'
 * (store/rollup.c): which events count, the key, what "ok" counts, and the
 * labels.  key2 makes a pair (username, password) ranking.
 */
struct dch_dim {
    const char *dim;
    const char *where;            /* which events (the range is added) */
    const char *key, *key2;
    const char *n;                /* the count (default count()) */
    const char *ok;               /* default 0 */
    const char *distinct;         /* default uniqExact(src_ip) */
    const char *distinct_name;    /* default "sources" */
    const char *la, *la_name, *lb, *lb_name;
    bool seen;                    /* first/last seen (in the range) */
};

#define OK_LOGIN "countIf(eventid = 'login.success')"
static const struct dch_dim dch_dims[] = {
    { "eventid", "1", "eventid", NULL, NULL, NULL, "uniqExactIf(src_ip, src_ip != '')", NULL, NULL, NULL, NULL, NULL, false },
    { "protocol", "protocol != ''", "protocol", NULL, NULL, "countIf(" DCH_CONNECT ")",
      "uniqExactIf(src_ip, src_ip != '')", NULL, NULL, NULL, NULL, NULL, false },
    { "port", DCH_CONNECT, "toString(dst_port)", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false },
    { "cc", DCH_CONNECT, "ifNull(@J{src_cc}, '')", NULL, NULL, NULL, NULL, NULL, "any(@J{src_country})", "name",
      NULL, NULL, false },
    { "asn", DCH_CONNECT, "ifNull(toString(@J{src_asn}), '')", NULL, NULL, NULL, NULL, NULL, "any(@J{src_as_org})",
      "org", NULL, NULL, false },
    { "ip", DCH_CONNECT " AND src_ip != ''", "src_ip", NULL, NULL, NULL, "uniqExact(dst_port)", "ports",
      "any(ifNull(@J{src_cc}, ''))", "cc", "any(ifNull(toString(@J{src_asn}), ''))", "asn", true },
    { "username", DCH_LOGINS " AND isNotNull(@J{username})", "@J{username}", NULL, NULL, OK_LOGIN, NULL, NULL,
      NULL, NULL, NULL, NULL, false },
    { "password", DCH_LOGINS " AND isNotNull(@J{password})", "@J{password}", NULL, NULL, OK_LOGIN, NULL, NULL,
      NULL, NULL, NULL, NULL, false },
    { "pair", DCH_LOGINS, "@J{username}", "@J{password}", NULL, OK_LOGIN, NULL, NULL, "any(@J{cred_device})",
      "device", "any(@J{cred_botnets})", "botnets", true },
    { "http_cred", "eventid = 'http.credentials'", "@J{username}", "@J{password}", NULL, NULL, NULL, NULL,
      "any(@J{cred_device})", "device", "any(@J{cred_botnets})", "botnets", false },
    { "command", "eventid = 'command.input' AND isNotNull(@J{input})", "@J{input}", NULL, NULL, NULL, NULL, NULL,
      NULL, NULL, NULL, NULL, false },
    /* every URL pointed at (the SQLite roll-up's "url": n attempts, ok fetched) */
    { "url", "eventid IN ('session.file_download', 'session.file_download.failed') AND isNotNull(@J{url})", "@J{url}",
      NULL, NULL, "countIf(eventid = 'session.file_download')", NULL, NULL,
      "any(@J{type})", "type", "any(@J{shasum})", "sha256", false },
    { "sha256", "eventid IN ('session.file_download', 'payload.new') AND isNotNull(@J{shasum})", "@J{shasum}", NULL,
      "countIf(eventid = 'session.file_download')", NULL, NULL, NULL, "any(@J{type})", "type", "any(@J{family})",
      "family", true },
    { "uri", "eventid = 'http.request' AND isNotNull(@J{uri})", "@J{uri}", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      NULL, NULL, false },
    { "ua", "eventid = 'http.request' AND isNotNull(@J{user_agent})", "@J{user_agent}", NULL, NULL, NULL, NULL, NULL,
      NULL, NULL, NULL, NULL, false },
    { "class", "eventid IN (" HP_ATTACK_EVENTS_SQL ")", "arrayJoin(@J{attack_classes})", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      NULL, NULL, false },
    { "cve", "eventid IN (" HP_ATTACK_EVENTS_SQL ")", "arrayJoin(@J{cves})", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      false },
    { "owasp", "eventid = 'http.request'", "arrayJoin(@J{owasp_iot})", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      NULL, false },
    { "ja3", "eventid = 'tls.client_hello' AND isNotNull(@J{ja3})", "@J{ja3}", NULL, NULL, NULL, NULL, NULL,
      "any(@J{client})", "client", NULL, NULL, true },
    { "ja4", "eventid = 'tls.client_hello' AND isNotNull(@J{ja4})", "@J{ja4}", NULL, NULL, NULL, NULL, NULL,
      "any(@J{client})", "client", NULL, NULL, true },
    { "hassh", "eventid = 'client.kex' AND isNotNull(@J{hassh})", "@J{hassh}", NULL, NULL, NULL, NULL, NULL,
      "any(@J{client})", "client", NULL, NULL, true },
};

static const struct dch_dim *dch_dim(const char *dim)
{
    for (size_t i = 0; i < sizeof(dch_dims) / sizeof(dch_dims[0]); i++)
        if (strcmp(dch_dims[i].dim, dim) == 0)
            return &dch_dims[i];
    return NULL;
}

/* Pair rankings: key as the roll-ups' JSON array text [username, password], and both fields. */
static void dch_pair_keys(json_t *arr)
{
    size_t i;
    json_t *row;
    json_array_foreach(arr, i, row) {
        json_t *k = json_pack("[OO]", json_object_get(row, "username"), json_object_get(row, "password"));
        char *s = k ? json_dumps(k, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        if (s)
            json_object_set_new(row, "key", json_string(s));
        free(s);
        json_decref(k);
    }
}

static json_t *dch_top(struct hp_dch *c, const char *dimname, const struct hp_dq *q, int64_t limit, int64_t offset,
                       int *status, char *err, size_t errlen)
{
    const struct dch_dim *d = dch_dim(dimname);
    if (!d)
        return dch_fail(status, 400, err, errlen, "no such dimension");
    const char *names[12];
    char kinds[13];
    size_t n = 0;
    struct hp_buf b;
    dch_sql(&b);
    hp_buf_puts(&b, "SELECT ");
    dch_put(c, &b, d->key);
    hp_buf_puts(&b, " AS k");
    names[n] = d->key2 ? "username" : "key", kinds[n++] = 's';
    if (d->key2) {
        hp_buf_puts(&b, ", ");
        dch_put(c, &b, d->key2);
        hp_buf_puts(&b, " AS k2");
        names[n] = "password", kinds[n++] = 's';
    }
    hp_buf_printf(&b, ", %s AS n, %s, ", d->n ? d->n : "count()", d->ok ? d->ok : "0");
    dch_put(c, &b, d->distinct ? d->distinct : "uniqExact(src_ip)");
    names[n] = "n", kinds[n++] = 'i';
    names[n] = "ok", kinds[n++] = 'i';
    names[n] = d->distinct_name ? d->distinct_name : "sources", kinds[n++] = 'i';
    if (d->la) {
        hp_buf_puts(&b, ", ");
        dch_put(c, &b, d->la);
        names[n] = d->la_name, kinds[n++] = 's';
    }
    if (d->lb) {
        hp_buf_puts(&b, ", ");
        dch_put(c, &b, d->lb);
        names[n] = d->lb_name, kinds[n++] = 's';
    }
    if (d->seen) {
        hp_buf_puts(&b, ", min(ts), max(ts)");
        names[n] = "first", kinds[n++] = 't';
        names[n] = "last", kinds[n++] = 't';
    }
    kinds[n] = '\0';
    hp_buf_puts(&b, " FROM events WHERE ");
    dch_put(c, &b, d->where);
    hp_buf_puts(&b, " AND");
    dch_where(&b, q);
    hp_buf_printf(&b, " GROUP BY k%s ORDER BY n DESC, k%s LIMIT %lld OFFSET %lld", d->key2 ? ", k2" : "",
                  d->key2 ? ", k2" : "", (long long)limit, (long long)offset);
    json_t *arr = dch_query(c, &b, names, kinds, status, err, errlen);
    if (arr && d->key2)
        dch_pair_keys(arr);
    if (arr)
        hp_dapi_name_rows(dimname, arr);
    return arr;
}

static json_t *dch_tops(struct hp_dch *c, const struct hp_dq *q, const char *const *dims, size_t n, int64_t limit,
                        int *status, char *err, size_t errlen)
{
    json_t *o = json_object();
    json_object_set_new(o, "from", json_integer(q->from_us / 1000000));
    json_object_set_new(o, "to", json_integer(q->to_us / 1000000));
    for (size_t i = 0; i < n; i++) {
        json_t *t = dch_top(c, dims[i], q, limit, 0, status, err, errlen);
        if (!t) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, dims[i], t);
    }
    return o;
}

/* ---- overview ---------------------------------------------------------------------------- */


/* {bucket, t: [...], series: {protocol: [n per t]}}, and the totals. */
static json_t *dch_timeline(struct hp_dch *c, const struct hp_dq *q, json_t *totals, int *status, char *err,
                            size_t errlen)
{
    static const char *const names[] = { "b", "protocol", "events", "connects", "logins" };
    int64_t step = hp_dq_bucket_minutes(q);
    int64_t lo = q->from_us / DCH_MINUTE_US / step * step, hi = (q->to_us + DCH_MINUTE_US - 1) / DCH_MINUTE_US;
    struct hp_buf b;
    dch_sql(&b);
    hp_buf_printf(&b, "SELECT intDiv(ts, %lld) * %lld AS b, protocol, count(), countIf(" DCH_CONNECT "),"
                      " countIf(startsWith(eventid, 'login.')) FROM events WHERE",
                  (long long)(step * DCH_MINUTE_US), (long long)step);
    dch_where(&b, q);
    hp_buf_puts(&b, " GROUP BY b, protocol ORDER BY b, protocol");
    json_t *rows = dch_query(c, &b, names, "isiii", status, err, errlen);
    if (!rows)
        return NULL;
    size_t npts = (size_t)((hi - lo + step - 1) / step);
    if (npts == 0)
        npts = 1;
    json_t *t = json_array(), *series = json_object();
    for (size_t i = 0; i < npts; i++)
        json_array_append_new(t, json_integer((lo + (int64_t)i * step) * 60));
    int64_t ev = 0, conn = 0, logins = 0;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        int64_t bk = json_integer_value(json_object_get(row, "b"));
        const char *proto = json_string_value(json_object_get(row, "protocol"));
        int64_t n = json_integer_value(json_object_get(row, "events"));
        ev += n;
        conn += json_integer_value(json_object_get(row, "connects"));
        logins += json_integer_value(json_object_get(row, "logins"));
        if (!proto || bk < lo || (size_t)((bk - lo) / step) >= npts)
            continue;
        json_t *ser = json_object_get(series, proto);
        if (!ser) {
            ser = json_array();
            for (size_t k = 0; k < npts; k++)
                json_array_append_new(ser, json_integer(0));
            if (json_object_set_new(series, proto, ser) != 0)
                continue;
        }
        json_array_set_new(ser, (size_t)((bk - lo) / step), json_integer(n));
    }
    json_decref(rows);
    json_object_set_new(totals, "events", json_integer(ev));
    json_object_set_new(totals, "connects", json_integer(conn));
    json_object_set_new(totals, "logins", json_integer(logins));
    return json_pack("{s:I, s:o, s:o}", "bucket", (json_int_t)(step * 60), "t", t, "series", series);
}

/* One number of a one-row answer. */
static json_t *dch_scalar(struct hp_dch *c, struct hp_buf *b, int *status, char *err, size_t errlen)
{
    static const char *const names[] = { "v" };
    json_t *rows = dch_query(c, b, names, "i", status, err, errlen);
    if (!rows)
        return NULL;
    json_t *v = json_object_get(json_array_get(rows, 0), "v");
    v = v ? json_incref(v) : json_integer(0);
    json_decref(rows);
    return v;
}

/* Per sensor: its country, events, connections, logins, sources. */
static json_t *dch_sensors(struct hp_dch *c, const struct hp_dq *q, int *status, char *err, size_t errlen)
{
    static const char *const names[] = { "sensor", "sensor_cc", "events", "connects", "logins", "sources" };
    struct hp_buf b;
    dch_sql(&b);
    hp_buf_printf(&b, "SELECT sensor, %s, count() AS e, countIf(" DCH_CONNECT "), countIf(startsWith(eventid, 'login.')),"
                      " uniqExactIf(src_ip, src_ip != '') FROM events WHERE", c->sc);
    dch_where(&b, q);
    hp_buf_puts(&b, " GROUP BY sensor ORDER BY e DESC, sensor LIMIT 1000");
    return dch_query(c, &b, names, "ssiiii", status, err, errlen);
}

/* Source country x sensor country (connections), as the fleet report's country_pairs. */
static json_t *dch_country_pairs(struct hp_dch *c, const struct hp_dq *q, int *status, char *err, size_t errlen)
{
    static const char *const names[] = { "cc", "sensor_cc", "connections", "sources", "sensors" };
    struct hp_buf b;
    dch_sql(&b);
    hp_buf_puts(&b, "SELECT ");
    dch_put(c, &b, "@J{src_cc}");
    hp_buf_printf(&b, " AS k, %s AS sc, count() AS n, uniqExact(src_ip), uniqExact(sensor) FROM events WHERE "
                      DCH_CONNECT " AND", c->sc);
    dch_where(&b, q);
    hp_buf_puts(&b, " GROUP BY k, sc ORDER BY n DESC, k NULLS FIRST, sc NULLS FIRST LIMIT 500");
    return dch_query(c, &b, names, "ssiii", status, err, errlen);
}

static json_t *dch_overview(struct hp_dch *c, const struct hp_dq *q, int *status, char *err, size_t errlen)
{
    json_t *totals = json_object();
    json_t *o = json_object();
    json_object_set_new(o, "from", json_integer(q->from_us / 1000000));
    json_object_set_new(o, "to", json_integer(q->to_us / 1000000));
    json_object_set_new(o, "fleet", json_true());
    json_object_set_new(o, "totals", totals);
    json_t *tl = dch_timeline(c, q, totals, status, err, errlen);
    if (!tl)
        goto fail;
    json_object_set_new(o, "timeline", tl);
    struct hp_buf b;
    dch_sql(&b);
    hp_buf_puts(&b, "SELECT uniqExact(src_ip) FROM events WHERE " DCH_CONNECT " AND src_ip != '' AND");
    dch_where(&b, q);
    json_t *src = dch_scalar(c, &b, status, err, errlen);
    if (!src)
        goto fail;
    json_object_set_new(totals, "sources", src);
    static const struct { const char *name, *dim; int64_t limit; } parts[] = {
        { "countries", "cc", 250 }, { "ports", "port", 20 }, { "protocols", "protocol", 20 },
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        json_t *t = dch_top(c, parts[i].dim, q, parts[i].limit, 0, status, err, errlen);
        if (!t)
            goto fail;
        json_object_set_new(o, parts[i].name, t);
    }
    json_t *s = dch_sensors(c, q, status, err, errlen);
    if (!s)
        goto fail;
    json_object_set_new(o, "sensors", s);
    json_t *cp = dch_country_pairs(c, q, status, err, errlen);
    if (!cp)
        goto fail;
    json_object_set_new(o, "country_pairs", cp);
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* ---- the ranking views ----------------------------------------------------------------------- */

static int64_t dch_limit(const struct hp_dq *q, int64_t dflt)
{
    return q->have & HP_DQ_LIMIT ? (int64_t)q->limit : dflt;
}

static json_t *dch_credentials(struct hp_dch *c, const struct hp_dq *q, int *status, char *err, size_t errlen)
{
    static const char *const dims[] = { "username", "password", "pair", "http_cred" };
    return dch_tops(c, q, dims, 4, dch_limit(q, 100), status, err, errlen);
}

static json_t *dch_web(struct hp_dch *c, const struct hp_dq *q, int *status, char *err, size_t errlen)
{
    static const char *const dims[] = { "uri", "class", "cve", "owasp", "ua", "url" };
    return dch_tops(c, q, dims, 6, dch_limit(q, 50), status, err, errlen);
}

static json_t *dch_fingerprints(struct hp_dch *c, const struct hp_dq *q, int *status, char *err, size_t errlen)
{
    static const char *const dims[] = { "ja3", "ja4", "hassh" };
    return dch_tops(c, q, dims, 3, dch_limit(q, 50), status, err, errlen);
}

static json_t *dch_topview(struct hp_dch *c, const struct hp_dq *q, int *status, char *err, size_t errlen)
{
    if (!(q->have & HP_DQ_DIM))
        return dch_fail(status, 400, err, errlen, "dim is required");
    json_t *t = dch_top(c, q->dim, q, (int64_t)q->limit, (int64_t)q->offset, status, err, errlen);
    if (!t)
        return NULL;
    return json_pack("{s:I, s:I, s:s, s:I, s:o}", "from", (json_int_t)(q->from_us / 1000000), "to",
                     (json_int_t)(q->to_us / 1000000), "dim", q->dim, "offset", (json_int_t)q->offset, "rows", t);
}

/* Payloads: the sha256 ranking; "stored" when this machine has the file (a central box usually not). */
static json_t *dch_payloads(struct hp_dch *c, const char *data_dir, const struct hp_dq *q, int *status, char *err,
                            size_t errlen)
{
    json_t *t = dch_top(c, "sha256", q, (int64_t)q->limit, (int64_t)q->offset, status, err, errlen);
    if (!t)
        return NULL;
    hp_dapi_mark_stored(t, data_dir);
    return json_pack("{s:I, s:I, s:I, s:o}", "from", (json_int_t)(q->from_us / 1000000), "to",
                     (json_int_t)(q->to_us / 1000000), "offset", (json_int_t)q->offset, "payloads", t);
}

/* ---- sessions ---------------------------------------------------------------------------- */

/* (sensor, session) of the events matching one search field, in the range and 3 h after it. */
static void dch_session_subquery(struct hp_dch *c, struct hp_buf *b, const struct hp_dq *q, const char *events,
                                 const char *field, const char *value, bool substring)
{
    hp_buf_puts(b, " AND (sensor, session) IN (SELECT sensor, session FROM events WHERE ");
    hp_buf_puts(b, events);
    hp_buf_puts(b, " AND");
    dch_range(b, q, q->from_us, q->to_us + DCH_SESSION_WINDOW_US);
    hp_buf_puts(b, substring ? " AND position(ifNull(" : " AND ");
    dch_put(c, b, field);
    hp_buf_puts(b, substring ? ", ''), " : " = ");
    hp_chq_quote(b, value, strlen(value));
    hp_buf_puts(b, substring ? ") > 0)" : ")");
}

static json_t *dch_sessions(struct hp_dch *c, const struct hp_dq *q, int *status, char *err, size_t errlen)
{
    static const char *const names[] = { "ts", "session", "protocol", "src_ip", "src_port", "dst_port", "cc",
                                         "service", "country", "as_org", "sensor" };
    static const char *const creds = "eventid IN ('login.success', 'login.failed', 'http.credentials')";
    struct hp_buf b;
    dch_sql(&b);
    hp_buf_puts(&b, "SELECT ts, session, protocol, src_ip, src_port, dst_port, ");
    dch_put(c, &b, "@J{src_cc}, visitParamExtractString(data, 'service'), @J{src_country}, @J{src_as_org}");
    hp_buf_puts(&b, ", sensor FROM events WHERE " DCH_CONNECT " AND");
    dch_where(&b, q);
    if (q->have & HP_DQ_IP) {
        hp_buf_puts(&b, " AND src_ip = ");
        hp_chq_quote(&b, q->ip, strlen(q->ip));
    }
    if (q->have & HP_DQ_PROTOCOL) {
        hp_buf_puts(&b, " AND protocol = ");
        hp_chq_quote(&b, q->protocol, strlen(q->protocol));
    }
    if (q->have & HP_DQ_CC) {
        hp_buf_puts(&b, " AND ");
        dch_put(c, &b, "@J{src_cc}");
        hp_buf_puts(&b, " = ");
        hp_chq_quote(&b, q->cc, strlen(q->cc));
    }
    if (q->have & HP_DQ_USERNAME)
        dch_session_subquery(c, &b, q, creds, "@J{username}", q->username, false);
    if (q->have & HP_DQ_PASSWORD)
        dch_session_subquery(c, &b, q, creds, "@J{password}", q->password, false);
    if (q->have & HP_DQ_COMMAND)
        dch_session_subquery(c, &b, q, "eventid IN ('command.input', 'command.failed')", "@J{input}", q->command,
                             true);
    hp_buf_printf(&b, " ORDER BY ts DESC, sensor, session LIMIT %llu OFFSET %llu",
                  (unsigned long long)q->limit + 1, (unsigned long long)q->offset);
    json_t *arr = dch_query(c, &b, names, "isssiisssss", status, err, errlen);
    if (!arr)
        return NULL;
    bool more = json_array_size(arr) > q->limit;
    if (more)
        json_array_remove(arr, q->limit);
    return json_pack("{s:I, s:I, s:I, s:b, s:o}", "from", (json_int_t)(q->from_us / 1000000), "to",
                     (json_int_t)(q->to_us / 1000000), "offset", (json_int_t)q->offset, "more", more, "sessions", arr);
}

/* The events of one session, oldest first (with sensor=, of that sensor's session of that id). */
static json_t *dch_session(struct hp_dch *c, const char *id, const struct hp_dq *q, int *status, char *err,
                           size_t errlen)
{
    static const char *const names[] = { "ts", "eventid", "data", "sensor" };
    if (!hp_dapi_is_hex(id, 12))
        return dch_fail(status, 400, err, errlen, "a session id is 12 hex digits");
    struct hp_buf b;
    dch_sql(&b);
    hp_buf_puts(&b, "SELECT ts, eventid, data, sensor FROM events WHERE session = ");
    hp_chq_quote(&b, id, 12);
    if (q->have & HP_DQ_T) {
        hp_buf_puts(&b, " AND");
        dch_range(&b, q, q->t_us - 1000000, q->t_us + DCH_SESSION_WINDOW_US);
    } else if (q->have & HP_DQ_SENSOR) {
        hp_buf_puts(&b, " AND sensor = ");
        hp_chq_quote(&b, q->sensor, strlen(q->sensor));
    }
    hp_buf_printf(&b, " ORDER BY ts, uid LIMIT %d", DCH_SESSION_EVENTS_MAX);
    json_t *rows = dch_query(c, &b, names, "isss", status, err, errlen);
    if (!rows)
        return NULL;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        const char *text = json_string_value(json_object_get(row, "data"));
        size_t len = text ? strlen(text) : 0;
        json_t *data = text && len <= DCH_EVENT_SHOW_MAX ? json_loadb(text, len, JSON_ALLOW_NUL, NULL) : NULL;
        if (!data)
            data = json_pack("{s:b, s:I}", "too_large_to_show", 1, "bytes", (json_int_t)len);
        json_object_set_new(row, "data", data);
    }
    if (json_array_size(rows) == 0) {
        json_decref(rows);
        return dch_fail(status, 404, err, errlen, "no such session in that window");
    }
    /* recordings stay on the sensor that made them */
    return json_pack("{s:s, s:b, s:o}", "session", id, "cast", 0, "events", rows);
}

/* ---- status and dispatch ----------------------------------------------------------------------- */

json_t *hp_dch_sensor_list(struct hp_dch *c, int *status, char *err, size_t errlen)
{
    static const char *const names[] = { "sensor" };
    if (dch_detect(c, status, err, errlen) != 0)
        return NULL;
    struct hp_buf b;
    dch_sql(&b);
    /* the sensors of the last 400 days (the dashboard's longest range): reads only the sensor column */
    hp_buf_puts(&b, "SELECT sensor FROM events WHERE day >= today() - 400 GROUP BY sensor ORDER BY sensor LIMIT 1000");
    json_t *rows = dch_query(c, &b, names, "s", status, err, errlen);
    if (!rows)
        return NULL;
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
        json_array_append(out, json_object_get(row, "sensor"));
    json_decref(rows);
    return out;
}

json_t *hp_dch_view(struct hp_dch *c, const char *data_dir, const char *view, const struct hp_dq *q, int *status,
                    char *err, size_t errlen)
{
    static const struct {
        const char *name;
        json_t *(*fn)(struct hp_dch *, const struct hp_dq *, int *, char *, size_t);
    } views[] = {
        { "overview", dch_overview }, { "credentials", dch_credentials }, { "sessions", dch_sessions },
        { "web", dch_web }, { "fingerprints", dch_fingerprints }, { "top", dch_topview },
    };
    *status = 200;
    if (dch_detect(c, status, err, errlen) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
        if (strcmp(view, views[i].name) == 0)
            return views[i].fn(c, q, status, err, errlen);
    if (strcmp(view, "payloads") == 0)
        return dch_payloads(c, data_dir, q, status, err, errlen);
    if (strncmp(view, "session/", 8) == 0)
        return dch_session(c, view + 8, q, status, err, errlen);
    return dch_fail(status, 404, err, errlen, "no such view");
}
