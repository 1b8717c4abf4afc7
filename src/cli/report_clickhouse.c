/*
 * report_clickhouse.c - `hanipo report --store clickhouse://...`: the report's
 * sections from the fleet's ClickHouse table (hanipo.events, docs/fleet.md),
 * plus per-sensor breakdowns.
 *
 * Every section of the SQLite report (report.c) has a twin query here that
 * gives the same columns in the same order with the same ordering rules
 * (count descending, ties by value, NULLs first), so the model (report.h)
 * and every format writer are shared.  The queries are written for the
 * oldest ClickHouse we support (Debian 12's 18.16) and work on current
 * releases: event fields are written @J{name} and read from the table's hot
 * columns (filled at INSERT, store/chschema.h) when it has them, or
 * else from the JSON text with the same visitParamExtract* expressions the
 * columns are made of (JSONExtract* arrived in 19.x), so a table made before
 * the hot columns gives the same report, only slower.  Distinct sources with
 * uniqExact.
 *
 * A query is a template with a few @-placeholders filled in per report:
 *   @R    the range (ts, and day for partition pruning) and the sensor filter
 *   @B    "before the range" with the sensor filter (new vs. seen before)
 *   @N    rows per ranking          @D  the first day's number (per-day series)
 *   @MA( ... @MB)  a text key: cut at HP_ROLLUP_KEY_MAX bytes, as the SQLite
 *                  roll-ups keep keys; with --mask-ips its IPv4 literals
 *                  become a.b.x.x in SQL too, so rows that differ only there
 *                  are grouped (as rp_mtxt does)
 *   @IP   src_ip, or its /16 (IPv4) or /32 (IPv6) when masking
 *   @SC   the sensor's country, from [report] sensor_country
 *   @J{f} the event field f: its hot column, or its JSON expression
 * Values from the command line and the configuration enter SQL only through
 * hp_chq_quote(); nothing from the events ever does.
 *
 * Per-sensor sections (ClickHouse only; a SQLite store holds one sensor):
 *   sensors           events, connections, sources, logins per sensor
 *   sensor_countries  source country x sensor (with the sensor's country)
 *   country_pairs     source country x sensor country (sensor countries from
 *                     [report] sensor_country = NAME:CC ..., docs/report.md)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "event.h"
#include "report.h"
#include "store/chquery.h"
#include "store/chschema.h"
#include "store/rollup.h"
#include "util.h"

#define CH_DAY_US 86400000000LL
#define CH_TIMEOUT_MS 600000L                   /* one query over 100 M rows takes seconds */
#define CH_MAX_SENSORS 256

/* A field of the event JSON: NULL when absent (json_extract gives NULL there). */
#define CH_JS(f) "@J{" f "}"
#define CH_JN(f) "@J{" f "}"
/* The string elements of a JSON list field (a string scalar counts as one element). */
#define CH_JL(f) "@J{" f "}"
#define CH_MT(x) "@MA(" x "@MB)"
#define CH_CONNECT " eventid = 'session.connect' AND @R "
#define CH_LOGINS " eventid IN ('login.success', 'login.failed') AND @R "
#define CH_OK " countIf(eventid = 'login.success') "
#define CH_FIELD_RANK(expr, ev) \
    "SELECT " expr " AS k, count() AS c, uniqExact(src_ip) FROM events WHERE eventid = '" ev "' AND @R" \
    " GROUP BY k ORDER BY c DESC, k NULLS FIRST LIMIT @N"
#define CH_FP_RANK(f, ev) \
    "SELECT " CH_JS(f) " AS k, max(" CH_JS("client") "), count() AS c, uniqExact(src_ip) FROM events WHERE eventid = '" \
    ev "' AND @R AND isNotNull(@J{" f "}) GROUP BY k ORDER BY c DESC, k LIMIT @N"
#define CH_CRED_RANK(f) \
    "SELECT " CH_JS(f) " AS k, count() AS c," CH_OK ", uniqExact(src_ip) FROM events WHERE" CH_LOGINS \
    "GROUP BY k ORDER BY c DESC, k NULLS FIRST LIMIT @N"
#define CH_OWASP(k) \
    "multiIf(" k " = 'I1', 'Weak, guessable, or hardcoded passwords', " k " = 'I2', 'Insecure network services'," \
    " " k " = 'I3', 'Insecure ecosystem interfaces', " k " = 'I4', 'Lack of secure update mechanism'," \
    " " k " = 'I5', 'Use of insecure or outdated components', " k " = 'I6', 'Insufficient privacy protection'," \
    " " k " = 'I7', 'Insecure data transfer and storage', " k " = 'I8', 'Lack of device management'," \
    " " k " = 'I9', 'Insecure default settings', " k " = 'I10', 'Lack of physical hardening', NULL)"
#define CH_PAYLOAD_EVENTS " eventid IN ('session.file_download', 'payload.new') "

enum ch_post { CH_POST_NONE, CH_POST_DAILY, CH_POST_IP };

struct ch_def {
    const char *id;
    const char *sql;
    enum ch_post post;
};

static const struct ch_def ch_defs[] = {
    { "protocols",
      "SELECT protocol, countIf(eventid = 'session.connect') AS c, uniqExactIf(src_ip, src_ip != ''), count() AS e"
      " FROM events WHERE @R AND protocol != '' GROUP BY protocol ORDER BY c DESC, e DESC, protocol" },
    { "eventids", "SELECT eventid, count() AS c FROM events WHERE @R GROUP BY eventid ORDER BY c DESC, eventid" },
    /* the days without events are added in C (ch_daily) */
    { "daily",
      "SELECT intDiv(ts, 86400000000) AS d, countIf(eventid = 'session.connect'),"
      " uniqExactIf(src_ip, eventid = 'session.connect'), countIf(eventid IN ('login.success', 'login.failed')),"
      " count() FROM events WHERE @R GROUP BY d ORDER BY d",
      CH_POST_DAILY },
    { "countries",
      "SELECT " CH_JS("src_cc") " AS k, max(" CH_JS("src_country") "), count() AS c, uniqExact(src_ip) FROM events"
      " WHERE" CH_CONNECT "GROUP BY k ORDER BY c DESC, k NULLS FIRST LIMIT @N" },
    { "asns",
      "SELECT " CH_JN("src_asn") " AS k, max(" CH_JS("src_as_org") "), count() AS c, uniqExact(src_ip) FROM events"
      " WHERE" CH_CONNECT "GROUP BY k ORDER BY c DESC, k NULLS FIRST LIMIT @N" },
    { "ips",
      "SELECT @IP AS k, max(" CH_JS("src_cc") "), max(" CH_JN("src_asn") "), count() AS c, uniqExact(dst_port) FROM events"
      " WHERE" CH_CONNECT "GROUP BY k ORDER BY c DESC, k LIMIT @N",
      CH_POST_IP },
    /* per (port, day) first, then per port: the day counts and the merged distinct-source states */
    { "ports",
      "SELECT p, sum(c) AS n, uniqExactMerge(s), arrayStringConcat(groupArray(concat(toString(d), ':', toString(c))), ','), ''"
      " FROM (SELECT dst_port AS p, intDiv(ts, 86400000000) - @D AS d, count() AS c, uniqExactState(src_ip) AS s"
      "  FROM events WHERE" CH_CONNECT "GROUP BY p, d) GROUP BY p ORDER BY n DESC, p LIMIT @N" },
    { "usernames", CH_CRED_RANK("username") },
    { "passwords", CH_CRED_RANK("password") },
    { "pairs",
      "SELECT u, p, n, ok, dev, b FROM (SELECT " CH_JS("username") " AS u, " CH_JS("password") " AS p, count() AS n,"
      CH_OK "AS ok, max(" CH_JS("cred_device") ") AS dev,"
      " max(@J{cred_botnets}) AS b"
      " FROM events WHERE" CH_LOGINS "GROUP BY u, p ORDER BY n DESC, u NULLS FIRST, p NULLS FIRST LIMIT @N)"
      " ORDER BY n DESC, u NULLS FIRST, p NULLS FIRST" },
    { "http_credentials",
      "SELECT " CH_MT(CH_JS("username")) " AS u, " CH_MT(CH_JS("password")) " AS p, count() AS c, uniqExact(src_ip) FROM events"
      " WHERE eventid = 'http.credentials' AND @R GROUP BY u, p ORDER BY c DESC, u NULLS FIRST, p NULLS FIRST LIMIT @N" },
    { "commands", CH_FIELD_RANK(CH_MT(CH_JS("input")), "command.input") },
    { "downloads",
      "SELECT " CH_MT(CH_JS("url")) " AS k, count() AS c, countIf(eventid = 'session.file_download'), uniqExact(src_ip),"
      " max(" CH_JS("type") "), max(" CH_JS("shasum") ") FROM events"
      " WHERE eventid IN ('session.file_download', 'session.file_download.failed') AND @R AND isNotNull(@J{url})"
      " GROUP BY k ORDER BY c DESC, k NULLS FIRST LIMIT @N" },
    { "payloads",
      "SELECT " CH_JS("shasum") " AS k, max(" CH_JS("family") "), max(" CH_JS("type") "),"
      " countIf(eventid = 'session.file_download') AS c, uniqExact(src_ip) FROM events WHERE" CH_PAYLOAD_EVENTS
      "AND @R AND isNotNull(@J{shasum}) GROUP BY k ORDER BY c DESC, k LIMIT @N" },
    { "http_paths", CH_FIELD_RANK(CH_MT(CH_JS("uri")), "http.request") },
    { "attack_classes",
      "SELECT arrayJoin(" CH_JL("attack_classes") ") AS k, count() AS c, uniqExact(src_ip) FROM events"
      " WHERE eventid IN (" HP_ATTACK_EVENTS_SQL ") AND @R GROUP BY k ORDER BY c DESC, k LIMIT @N" },
    { "cves",
      "SELECT k, '', c, ips FROM (SELECT arrayJoin(" CH_JL("cves") ") AS k, count() AS c, uniqExact(src_ip) AS ips"
      " FROM events WHERE eventid IN (" HP_ATTACK_EVENTS_SQL ") AND @R GROUP BY k) ORDER BY c DESC, k LIMIT @N" },
    { "owasp_iot",
      "SELECT k, " CH_OWASP("k") ", c, ips FROM (SELECT arrayJoin(" CH_JL("owasp_iot") ") AS k, count() AS c,"
      " uniqExact(src_ip) AS ips FROM events WHERE eventid = 'http.request' AND @R GROUP BY k) ORDER BY c DESC, k" },
    { "user_agents", CH_FIELD_RANK(CH_MT(CH_JS("user_agent")), "http.request") },
    { "ja3", CH_FP_RANK("ja3", "tls.client_hello") },
    { "ja4", CH_FP_RANK("ja4", "tls.client_hello") },
    { "hassh", CH_FP_RANK("hassh", "client.kex") },
    { "new_vs_seen",
      "SELECT k, n, f, n - f FROM ("
      " SELECT 1 AS k, uniqExact(src_ip) AS n,"
      "  uniqExactIf(src_ip, src_ip GLOBAL NOT IN (SELECT src_ip FROM events WHERE @B)) AS f"
      "  FROM events WHERE @R AND src_ip != ''"
      " UNION ALL SELECT 2 AS k, uniqExact(u, p) AS n, uniqExactIf(u, p, (u, p) GLOBAL NOT IN"
      "  (SELECT ifNull(" CH_JS("username") ", ''), ifNull(" CH_JS("password") ", '') FROM events"
      "   WHERE eventid IN ('login.success', 'login.failed') AND @B)) AS f"
      "  FROM (SELECT ifNull(" CH_JS("username") ", '') AS u, ifNull(" CH_JS("password") ", '') AS p FROM events WHERE"
      CH_LOGINS ")"
      " UNION ALL SELECT 3 AS k, uniqExact(v) AS n, uniqExactIf(v, v GLOBAL NOT IN"
      "  (SELECT ifNull(@J{shasum}, '') FROM events WHERE" CH_PAYLOAD_EVENTS "AND @B)) AS f"
      "  FROM (SELECT ifNull(@J{shasum}, '') AS v FROM events WHERE" CH_PAYLOAD_EVENTS
      "AND @R AND isNotNull(@J{shasum}))"
      ") ORDER BY k" },
};

#define CH_NDEFS (sizeof(ch_defs) / sizeof(ch_defs[0]))

/* ---- the per-sensor sections ------------------------------------------------------- */

#define CH_NUM(k, e, j) { k, e, j, true }
#define CH_TXT(k, e, j) { k, e, j, false }

static const struct ch_fleet {
    struct rp_section sec;          /* id, titles, columns */
    const char *sql;
} ch_fleet[] = {
    { { "sensors", "Per sensor", "センサー別", 6,
        { CH_TXT("sensor", "Sensor", "センサー"), CH_TXT("sensor_cc", "Sensor CC", "センサー国"),
          CH_NUM("connections", "Connections", "接続数"), CH_NUM("ips", "IPs", "IP数"),
          CH_NUM("logins", "Logins", "ログイン試行"), CH_NUM("events", "Events", "イベント数") }, 0, NULL },
      "SELECT sensor, @SC AS sc, countIf(eventid = 'session.connect'), uniqExactIf(src_ip, src_ip != ''),"
      " countIf(eventid IN ('login.success', 'login.failed')), count() AS e FROM events WHERE @R"
      " GROUP BY sensor ORDER BY e DESC, sensor" },
    { { "sensor_countries", "Source country per sensor", "センサー別の送信元の国", 5,
        { CH_TXT("cc", "CC", "国コード"), CH_TXT("sensor", "Sensor", "センサー"),
          CH_TXT("sensor_cc", "Sensor CC", "センサー国"), CH_NUM("connections", "Connections", "接続数"),
          CH_NUM("ips", "IPs", "IP数") }, 0, NULL },
      "SELECT " CH_JS("src_cc") " AS k, sensor, @SC AS sc, count() AS c, uniqExact(src_ip) FROM events WHERE" CH_CONNECT
      "GROUP BY k, sensor ORDER BY c DESC, k NULLS FIRST, sensor LIMIT @N" },
    { { "country_pairs", "Source country x sensor country", "送信元の国とセンサー国", 5,
        { CH_TXT("cc", "CC", "国コード"), CH_TXT("sensor_cc", "Sensor CC", "センサー国"),
          CH_NUM("connections", "Connections", "接続数"), CH_NUM("ips", "IPs", "IP数"),
          CH_NUM("sensors", "Sensors", "センサー数") }, 0, NULL },
      "SELECT " CH_JS("src_cc") " AS k, @SC AS sc, count() AS c, uniqExact(src_ip), uniqExact(sensor) FROM events"
      " WHERE" CH_CONNECT "GROUP BY k, sc ORDER BY c DESC, k NULLS FIRST, sc NULLS FIRST LIMIT @N" },
};

#define CH_NFLEET (sizeof(ch_fleet) / sizeof(ch_fleet[0]))

/* ---- templates --------------------------------------------------------------------- */

struct ch_ctx {
    const struct rp_opts *o;
    char range[8192], before[8192], sc[8192];
    struct hp_chq *conn;
    hp_chs_have have;               /* the hot columns the table has */
    struct rp_section *sec;
    size_t defi;                    /* index in the SQLite report's sections, or (size_t)-1 */
    enum ch_post post;
    /* daily: the rows by day number, filled in by ch_daily */
    int64_t first_day, ndays;
    int64_t (*days)[4];
};

static double ch_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void ch_day_str(int64_t day, char *out, size_t len)
{
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d", &tm);
}

/* "sensor IN ('a', 'b')" for o->sensors (comma list), or "1". -1 on a bad name. */
static int ch_sensor_filter(const char *list, struct hp_buf *b, char *err, size_t errlen)
{
    if (!list || !*list) {
        hp_buf_puts(b, "1");
        return 0;
    }
    hp_buf_puts(b, "sensor IN (");
    int n = 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        while (len && (*p == ' ')) {
            p++;
            len--;
        }
        size_t tl = len;
        while (tl && p[tl - 1] == ' ')
            tl--;
        if (tl == 0 || tl > 200 || ++n > CH_MAX_SENSORS) {
            snprintf(err, errlen, "--sensor: empty, too long, or more than %d names", CH_MAX_SENSORS);
            return -1;
        }
        hp_buf_puts(b, n > 1 ? ", " : "");
        hp_chq_quote(b, p, tl);
        p += len;
        if (*p == ',')
            p++;
    }
    hp_buf_putc(b, ')');
    return 0;
}

#define IP_MASKED \
    "if(position(src_ip, ':') > 0, cutIPv6(toFixedString(IPv6StringToNum(src_ip), 16), 12, 2)," \
    " replaceRegexpOne(src_ip, '^([0-9]+\\\\.[0-9]+)\\\\.[0-9]+\\\\.[0-9]+$', '\\\\1.0.0'))"
#define TXT_MASK_ARGS ", '\\\\b([0-9]{1,3}\\\\.[0-9]{1,3})\\\\.[0-9]{1,3}\\\\.[0-9]{1,3}\\\\b', '\\\\1.x.x')"

/* Fill the placeholders of a template into out. */
static void ch_expand(const struct ch_ctx *x, const char *t, struct hp_buf *out)
{
    bool mask = x->o->mask;
    while (*t) {
        const char *at = strchr(t, '@');
        if (!at) {
            hp_buf_puts(out, t);
            break;
        }
        hp_buf_put(out, t, (size_t)(at - t));
        t = at;
        if (strncmp(t, "@R", 2) == 0) {
            hp_buf_puts(out, x->range);
            t += 2;
        } else if (strncmp(t, "@B", 2) == 0) {
            hp_buf_puts(out, x->before);
            t += 2;
        } else if (strncmp(t, "@N", 2) == 0) {
            hp_buf_printf(out, "%d", x->o->top);
            t += 2;
        } else if (strncmp(t, "@D", 2) == 0) {
            hp_buf_printf(out, "%lld", (long long)(x->o->since_us / CH_DAY_US));
            t += 2;
        } else if (strncmp(t, "@MA(", 4) == 0) {
            hp_buf_puts(out, mask ? "replaceRegexpAll(substring(" : "substring(");
            t += 4;
        } else if (strncmp(t, "@MB)", 4) == 0) {
            hp_buf_printf(out, ", 1, %d)%s", HP_ROLLUP_KEY_MAX, mask ? TXT_MASK_ARGS : "");
            t += 4;
        } else if (strncmp(t, "@IP", 3) == 0) {
            hp_buf_puts(out, mask ? IP_MASKED : "src_ip");
            t += 3;
        } else if (strncmp(t, "@SC", 3) == 0) {
            hp_buf_puts(out, x->sc);
            t += 3;
        } else if (strncmp(t, "@J{", 3) == 0 && strchr(t, '}')) {
            size_t n = (size_t)(strchr(t, '}') - (t + 3));
            if (!hp_chs_field(out, t + 3, n, x->have))
                hp_buf_puts(out, "@unknown-field");   /* a bug in a template: the query fails loudly */
            t += 3 + n + 1;
        } else {
            hp_buf_putc(out, '@');
            t++;
        }
    }
}

/* ---- rows ---------------------------------------------------------------------------- */

static int ch_row(void *arg, size_t ncols, const struct hp_chq_cell *cells)
{
    struct ch_ctx *x = arg;
    if (x->post == CH_POST_DAILY) {
        if (ncols != 5 || !cells[0].s)
            return -2;
        int64_t d = strtoll(cells[0].s, NULL, 10) - x->first_day;
        for (int i = 0; d >= 0 && d < x->ndays && i < 4; i++)
            x->days[d][i] = cells[i + 1].s ? strtoll(cells[i + 1].s, NULL, 10) : 0;
        return 0;
    }
    if (ncols != (size_t)x->sec->ncols)
        return -2;
    struct rp_cell *row = hp_report_row_add(x->sec);
    for (size_t i = 0; i < ncols; i++) {
        if (!cells[i].s)
            continue;
        if (x->sec->cols[i].numeric)
            row[i].num = strtoll(cells[i].s, NULL, 10);
        else
            hp_report_cell_set(&row[i], cells[i].s, cells[i].n);
    }
    if (x->post == CH_POST_IP && x->o->mask && row[0].s) {
        char out[128];
        size_t len = hp_report_mask_ip(row[0].s, row[0].n, out, sizeof(out));
        hp_report_cell_set(&row[0], out, len);
    }
    hp_report_row_finish(x->sec, x->defi, row, x->o);
    return 0;
}

/* daily: one row per UTC day of the range, zeros included (as report.c's recursive CTE). */
static void ch_daily(struct ch_ctx *x)
{
    for (int64_t d = 0; d < x->ndays; d++) {
        struct rp_cell *row = hp_report_row_add(x->sec);
        char day[16];
        ch_day_str(x->first_day + d, day, sizeof(day));
        hp_report_cell_set(&row[0], day, strlen(day));
        for (int i = 0; i < 4; i++)
            row[i + 1].num = x->days[d][i];
        hp_report_row_finish(x->sec, x->defi, row, x->o);
    }
}

static int ch_run(struct ch_ctx *x, const char *id, const char *tmpl, char *err, size_t errlen)
{
    struct hp_buf sql;
    char qerr[768];
    hp_buf_init(&sql, 1 << 20);
    ch_expand(x, tmpl, &sql);
    double t0 = ch_now();
    int rc = hp_buf_ok(&sql) ? hp_chq_query(x->conn, hp_buf_cstr(&sql), ch_row, x, qerr, sizeof(qerr)) : -1;
    if (getenv("HANIPO_REPORT_TIMING"))           /* which section is slow, for developers */
        fprintf(stderr, "report: %-18s %8.3f s (clickhouse)\n", id, ch_now() - t0);
    if (rc == -2)
        snprintf(err, errlen, "section %s: ClickHouse answered with the wrong number of columns", id);
    else if (rc != 0)
        snprintf(err, errlen, "section %s: %s", id, hp_buf_ok(&sql) ? qerr : "query too long");
    hp_buf_free(&sql);
    return rc ? -1 : 0;
}

static const struct ch_def *ch_find(const char *id)
{
    for (size_t i = 0; i < CH_NDEFS; i++)
        if (strcmp(ch_defs[i].id, id) == 0)
            return &ch_defs[i];
    return NULL;
}

/* The range and filter strings of a report. */
static int ch_prepare(struct ch_ctx *x, const struct rp_opts *o, char *err, size_t errlen)
{
    struct hp_buf f, sc;
    char d0[16], d1[16];
    int rc = 0;
    hp_buf_init(&f, sizeof(x->range) - 512);
    hp_buf_init(&sc, sizeof(x->sc));
    if (ch_sensor_filter(o->sensors, &f, err, errlen) != 0 || hp_chs_sensor_country(o->sensor_country, &sc, err, errlen))
        rc = -1;
    else if (!hp_buf_ok(&f) || !hp_buf_ok(&sc)) {
        snprintf(err, errlen, "--sensor or [report] sensor_country too long");
        rc = -1;
    }
    if (rc == 0) {
        ch_day_str(o->since_us / CH_DAY_US, d0, sizeof(d0));
        ch_day_str((o->until_us - 1) / CH_DAY_US, d1, sizeof(d1));
        snprintf(x->range, sizeof(x->range),
                 "(ts >= %lld AND ts < %lld AND day >= toDate('%s') AND day <= toDate('%s') AND %s)",
                 (long long)o->since_us, (long long)o->until_us, d0, d1, hp_buf_cstr(&f));
        snprintf(x->before, sizeof(x->before), "(ts < %lld AND day <= toDate('%s') AND %s)", (long long)o->since_us,
                 d0, hp_buf_cstr(&f));
        snprintf(x->sc, sizeof(x->sc), "%s", hp_buf_cstr(&sc));
    }
    hp_buf_free(&f);
    hp_buf_free(&sc);
    return rc;
}

int hp_report_build_clickhouse(const struct rp_opts *o, struct rp_report *r, char *err, size_t errlen)
{
    struct hp_chq_url url;
    struct ch_ctx x;
    memset(r, 0, sizeof(*r));
    memset(&x, 0, sizeof(x));
    r->since_us = o->since_us;
    r->until_us = o->until_us;
    x.o = o;
    if (hp_chq_parse_url(o->store, &url, err, errlen) != 0 || ch_prepare(&x, o, err, errlen) != 0)
        return -1;
    x.conn = hp_chq_open(&url, CH_TIMEOUT_MS, err, errlen);
    if (!x.conn)
        return -1;
    if (hp_chs_detect(x.conn, url.database, "events", &x.have, err, errlen) != 0) {
        hp_chq_close(x.conn);
        return -1;
    }
    x.first_day = o->since_us / CH_DAY_US;
    x.ndays = (o->until_us - 1) / CH_DAY_US - x.first_day + 1;
    if (x.ndays > 3661)
        x.ndays = 3661;                             /* as report.c's day series */
    x.days = hp_xcalloc((size_t)x.ndays, sizeof(*x.days));
    size_t nsql = hp_report_ndefs();
    r->sections = hp_xcalloc(nsql + CH_NFLEET, sizeof(*r->sections));
    int rc = 0;
    double start = ch_now();
    for (size_t i = 0; rc == 0 && i < nsql + CH_NFLEET; i++) {
        struct rp_section *sec = &r->sections[i];
        const char *tmpl;
        r->nsections++;
        if (i < nsql) {
            hp_report_section_init(sec, i);
            const struct ch_def *d = ch_find(sec->id);
            if (!d) {
                snprintf(err, errlen, "section %s has no ClickHouse query", sec->id);
                rc = -1;
                break;
            }
            tmpl = d->sql;
            x.post = d->post;
            x.defi = i;
        } else {
            *sec = ch_fleet[i - nsql].sec;
            tmpl = ch_fleet[i - nsql].sql;
            x.post = CH_POST_NONE;
            x.defi = (size_t)-1;
        }
        x.sec = sec;
        if (o->progress && ch_now() - start > 1.0)
            fprintf(stderr, "report: section %zu/%zu %s (%.1f s)\n", i + 1, nsql + CH_NFLEET, sec->id, ch_now() - start);
        rc = ch_run(&x, sec->id, tmpl, err, errlen);
        if (rc == 0 && x.post == CH_POST_DAILY)
            ch_daily(&x);
    }
    free(x.days);
    hp_chq_close(x.conn);
    if (rc != 0)
        hp_report_free(r);
    return rc;
}
