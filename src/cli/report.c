/*
 * report.c - `hanipo report`: the queries and the in-memory model.
 *
 * Each section is one SQL statement over the events table (see
 * docs/events.md), parameterised by ?1 = since, ?2 = until (microseconds,
 * half-open range) and ?3 = the number of rows wanted; fields that are not
 * columns are read with json_extract(data, ...) and lists (attack classes,
 * CVEs) are unnested with json_each.  The rows are copied into an rp_report
 * (report.h) and only then rendered (report_fmt.c): the model holds the raw
 * bytes, every writer escapes them for its own format.
 *
 * The database is opened read-only: a report can run while the sensor
 * writes (WAL gives us a consistent snapshot per statement).
 *
 * --mask-ips is applied twice: in SQL, through the functions rp_mip() and
 * rp_mtxt(), so that rows whose only difference was the masked part are
 * grouped together; and again over every text cell of the model, so that no
 * IPv4 literal survives in any section whatever its column.
 *
 * rp_mtxt() also cuts a text key at HP_ROLLUP_KEY_MAX bytes, as the roll-up
 * tables keep keys: a ranking read from the events table then gives the rows
 * the roll-ups give, a 5 kB request path included.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "event.h"
#include "intel/knowledge.h"
#include "report.h"
#include "rollup.h"
#include "store/rollup.h"
#include "term.h"
#include "util.h"

#define RP_DAY_US 86400000000LL
#define RP_CELL_MAX 65536           /* bytes kept of one attacker string */
#define RP_SERIES_MAX 400           /* days in a per-day series */
#define RP_OUT_CAP (256u << 20)

/* ---- masking ---------------------------------------------------------------- */

static int rp_isdigit(char c) { return c >= '0' && c <= '9'; }

/* Length of a dotted-quad IPv4 literal at s (each part 0-255, 1-3 digits), or 0.
 * *third is set to the offset of the third part. */
static size_t rp_ipv4_at(const char *s, size_t n, size_t *third)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= n || s[i] != '.')
                return 0;
            i++;
        }
        if (part == 2)
            *third = i;
        size_t start = i;
        unsigned v = 0;
        while (i < n && rp_isdigit(s[i]) && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (i < n && rp_isdigit(s[i])))
            return 0;
    }
    /* 1.2.3.4.5 is a version number, not an address */
    if (i + 1 < n && s[i] == '.' && rp_isdigit(s[i + 1]))
        return 0;
    return i;
}

size_t hp_report_mask_text(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0, i = 0;
    if (outlen == 0)
        return 0;
    while (i < n && o + 1 < outlen) {
        size_t third = 0, len = 0;
        int boundary = i == 0 || (!rp_isdigit(s[i - 1]) && s[i - 1] != '.');
        if (boundary && rp_isdigit(s[i]))
            len = rp_ipv4_at(s + i, n - i, &third);
        if (len) {
            /* keep a.b. and write x.x: never longer than the original */
            size_t keep = third;
            if (o + keep + 3 >= outlen)
                break;
            memcpy(out + o, s + i, keep);
            memcpy(out + o + keep, "x.x", 3);
            o += keep + 3;
            i += len;
            continue;
        }
        out[o++] = s[i++];
    }
    out[o] = '\0';
    return o;
}

size_t hp_report_mask_ip(const char *ip, size_t n, char *out, size_t outlen)
{
    char tmp[64];
    struct in6_addr a6;
    if (outlen == 0)
        return 0;
    if (n < sizeof(tmp) && memchr(ip, ':', n)) {
        memcpy(tmp, ip, n);
        tmp[n] = '\0';
        if (inet_pton(AF_INET6, tmp, &a6) == 1) {
            const uint8_t *b = a6.s6_addr;
            static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
            if (memcmp(b, mapped, 12) == 0)
                snprintf(out, outlen, "::ffff:%u.%u.x.x", b[12], b[13]);
            else
                snprintf(out, outlen, "%x:%x:x:x:x:x:x:x", (unsigned)(b[0] << 8 | b[1]),
                         (unsigned)(b[2] << 8 | b[3]));
            return strlen(out);
        }
    }
    return hp_report_mask_text(ip, n, out, outlen);
}

/* SQL: rp_mip(x) / rp_mtxt(x); masking when user data != NULL, and rp_mtxt
 * cuts its text at HP_ROLLUP_KEY_MAX bytes as the roll-ups do. */
static void rp_sql_mask(sqlite3_context *ctx, int argc, sqlite3_value **argv, int ip)
{
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
        sqlite3_result_value(ctx, argv[0]);
        return;
    }
    const char *s = (const char *)sqlite3_value_text(argv[0]);
    size_t n = (size_t)sqlite3_value_bytes(argv[0]);
    bool cut = !ip && n > HP_ROLLUP_KEY_MAX;
    if (cut)
        n = HP_ROLLUP_KEY_MAX;
    if (!sqlite3_user_data(ctx)) {
        if (cut)
            sqlite3_result_text(ctx, s, (int)n, SQLITE_TRANSIENT);
        else
            sqlite3_result_value(ctx, argv[0]);
        return;
    }
    char *out = sqlite3_malloc64(n + 64);
    if (!out) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    /* the length, not strlen: text after an attacker's NUL is kept */
    size_t len = ip ? hp_report_mask_ip(s, n, out, n + 64) : hp_report_mask_text(s, n, out, n + 64);
    sqlite3_result_text(ctx, out, (int)len, sqlite3_free);
}

static void rp_sql_mip(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    rp_sql_mask(ctx, argc, argv, 1);
}

static void rp_sql_mtxt(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    rp_sql_mask(ctx, argc, argv, 0);
}

/* ---- time ------------------------------------------------------------------- */

static int rp_num(const char **p, int digits, int lo, int hi, int *v)
{
    *v = 0;
    for (int i = 0; i < digits; i++) {
        if (!rp_isdigit(**p))
            return -1;
        *v = *v * 10 + (*(*p)++ - '0');
    }
    return *v < lo || *v > hi ? -1 : 0;
}

int hp_report_parse_time(const char *s, int64_t *us)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    const char *p = s;
    if (rp_num(&p, 4, 1970, 9999, &y) || *p++ != '-' || rp_num(&p, 2, 1, 12, &mo) ||
        *p++ != '-' || rp_num(&p, 2, 1, 31, &d))
        return -1;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (rp_num(&p, 2, 0, 23, &h) || *p++ != ':' || rp_num(&p, 2, 0, 59, &mi))
            return -1;
        if (*p == ':') {
            p++;
            if (rp_num(&p, 2, 0, 60, &sec))
                return -1;
        }
    }
    if (*p == 'Z')
        p++;
    if (*p)
        return -1;
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                     .tm_hour = h, .tm_min = mi, .tm_sec = sec };
    time_t t = timegm(&tm);
    struct tm back;
    if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d)
        return -1;                  /* 2026-02-30 */
    *us = (int64_t)t * 1000000;
    return 0;
}

/* ---- sections ------------------------------------------------------------------ */

#define RANGE " ts >= ?1 AND ts < ?2 "
#define CONNECT " eventid = 'session.connect' AND" RANGE
#define LOGINS " eventid IN ('login.success', 'login.failed') AND" RANGE
#define J(f) "json_extract(data, '$." f "')"
#define NUM(k, e, j) { k, e, j, true }
#define TXT(k, e, j) { k, e, j, false }
#define C_CONN NUM("connections", "Connections", "接続数")
#define C_EVENTS NUM("events", "Events", "イベント数")
#define C_IPS NUM("ips", "IPs", "IP数")
#define C_COUNT NUM("count", "Count", "件数")

enum rp_post { RP_POST_NONE, RP_POST_SERIES, RP_POST_WHAT, RP_POST_CVE, RP_POST_PORT };

struct rp_def {
    const char *id, *en, *ja;
    const char *sql;
    int ncols;
    struct rp_col cols[RP_MAX_COLS];
    enum rp_post post;              /* a column rewritten in C after the query */
    int post_col;
    enum rp_post post2;             /* a second one (ports: the per-day series and the service) */
    int post2_col;
};

/* A "what, count, distinct sources" ranking over one field of one event type. */
#define FIELD_RANK(expr, ev) \
    "SELECT " expr ", count(*), count(DISTINCT src_ip) FROM events WHERE eventid = '" ev "' AND" \
    RANGE "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?3"
/* A fingerprint with its client name. */
#define FP_RANK(f, ev) \
    "SELECT " J(f) ", max(" J("client") "), count(*), count(DISTINCT src_ip) FROM events" \
    " WHERE eventid = '" ev "' AND" RANGE "AND " J(f) " IS NOT NULL GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT ?3"

static const struct rp_def rp_defs[] = {
    { "protocols", "Totals per protocol", "プロトコル別の合計",
      "SELECT protocol, sum(eventid = 'session.connect'), count(DISTINCT src_ip), count(*) FROM events"
      " WHERE" RANGE "AND protocol IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 4 DESC, 1",
      4, { TXT("protocol", "Protocol", "プロトコル"), C_CONN, C_IPS, C_EVENTS } },
    { "eventids", "Totals per event type", "イベント種別ごとの合計",
      "SELECT eventid, count(*) FROM events WHERE" RANGE "GROUP BY 1 ORDER BY 2 DESC, 1",
      2, { TXT("eventid", "Event type", "イベント種別"), C_EVENTS } },
    { "daily", "Per day (UTC)", "日別 (UTC)",
      "WITH RECURSIVE days(d) AS (SELECT ?1 / 86400000000 UNION ALL SELECT d + 1 FROM days"
      "  WHERE (d + 1) * 86400000000 < ?2 AND d < ?1 / 86400000000 + 3660),"
      " agg AS (SELECT ts / 86400000000 AS d, sum(eventid = 'session.connect') AS c,"
      "  count(DISTINCT CASE WHEN eventid = 'session.connect' THEN src_ip END) AS ips,"
      "  sum(eventid IN ('login.success', 'login.failed')) AS l, count(*) AS e"
      "  FROM events WHERE" RANGE "GROUP BY 1)"
      " SELECT date(days.d * 86400, 'unixepoch'), coalesce(c, 0), coalesce(ips, 0), coalesce(l, 0),"
      " coalesce(e, 0) FROM days LEFT JOIN agg USING (d) ORDER BY days.d",
      5, { TXT("day", "Day", "日付"), C_CONN, C_IPS, NUM("logins", "Logins", "ログイン試行"), C_EVENTS } },
    { "countries", "Top source countries", "送信元の国",
      "SELECT " J("src_cc") ", max(" J("src_country") "), count(*), count(DISTINCT src_ip) FROM events"
      " WHERE" CONNECT "GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT ?3",
      4, { TXT("cc", "CC", "国コード"), TXT("country", "Country", "国"), C_CONN, C_IPS } },
    { "asns", "Top source ASNs", "送信元のAS",
      "SELECT " J("src_asn") ", max(" J("src_as_org") "), count(*), count(DISTINCT src_ip) FROM events"
      " WHERE" CONNECT "GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT ?3",
      4, { TXT("asn", "ASN", "AS番号"), TXT("as_org", "AS organisation", "AS組織"), C_CONN, C_IPS } },
    { "ips", "Top source IPs", "送信元IPアドレス",
      "SELECT rp_mip(src_ip), max(" J("src_cc") "), max(" J("src_asn") "), count(*),"
      " count(DISTINCT dst_port) FROM events WHERE" CONNECT "GROUP BY 1 ORDER BY 4 DESC, 1 LIMIT ?3",
      5, { TXT("ip", "IP", "IPアドレス"), TXT("cc", "CC", "国コード"), TXT("asn", "ASN", "AS番号"), C_CONN,
           NUM("ports", "Ports", "ポート数") } },
    { "ports", "Top destination ports", "宛先ポート",
      "WITH top AS (SELECT dst_port AS p, count(*) AS n, count(DISTINCT src_ip) AS ips FROM events"
      "  WHERE" CONNECT "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?3),"
      " per AS (SELECT dst_port AS p, ts / 86400000000 - ?1 / 86400000000 AS d, count(*) AS c FROM events"
      "  WHERE" CONNECT "AND dst_port IN (SELECT p FROM top) GROUP BY 1, 2)"
      " SELECT top.p, top.n, top.ips, (SELECT group_concat(d || ':' || c) FROM per WHERE per.p = top.p), ''"
      " FROM top ORDER BY top.n DESC, top.p",
      5, { NUM("port", "Port", "ポート"), C_CONN, C_IPS, TXT("per_day", "Per day", "日別"),
           TXT("service", "Usual service", "通常のサービス") },
      RP_POST_SERIES, 3, RP_POST_PORT, 4 },
    { "usernames", "Top usernames", "ユーザー名",
      "SELECT " J("username") ", count(*), sum(eventid = 'login.success'), count(DISTINCT src_ip)"
      " FROM events WHERE" LOGINS "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?3",
      4, { TXT("username", "Username", "ユーザー名"), NUM("attempts", "Attempts", "試行数"),
           NUM("successes", "Successes", "成功数"), C_IPS } },
    { "passwords", "Top passwords", "パスワード",
      "SELECT " J("password") ", count(*), sum(eventid = 'login.success'), count(DISTINCT src_ip)"
      " FROM events WHERE" LOGINS "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?3",
      4, { TXT("password", "Password", "パスワード"), NUM("attempts", "Attempts", "試行数"),
           NUM("successes", "Successes", "成功数"), C_IPS } },
    { "pairs", "Top username/password pairs", "ユーザー名とパスワードの組",
      "SELECT u, p, n, ok, dev, CASE WHEN b LIKE '[%' AND json_valid(b)"
      "  THEN (SELECT group_concat(value, ', ') FROM json_each(b)) ELSE b END FROM"
      " (SELECT " J("username") " AS u, " J("password") " AS p, count(*) AS n,"
      "  sum(eventid = 'login.success') AS ok, max(" J("cred_device") ") AS dev,"
      "  max(" J("cred_botnets") ") AS b FROM events WHERE" LOGINS "GROUP BY 1, 2"
      /* ties at the cut: by [user, pass] as JSON text, as the roll-up keys sort */
      "  ORDER BY 3 DESC, json_array(u, p) LIMIT ?3) ORDER BY 3 DESC, 1, 2",
      6, { TXT("username", "Username", "ユーザー名"), TXT("password", "Password", "パスワード"),
           NUM("attempts", "Attempts", "試行数"), NUM("successes", "Successes", "成功数"),
           TXT("device", "Device", "機器"), TXT("botnets", "Botnets", "ボットネット") } },
    { "http_credentials", "HTTP credentials", "HTTP認証情報",
      "SELECT rp_mtxt(" J("username") "), rp_mtxt(" J("password") "), count(*), count(DISTINCT src_ip)"
      " FROM events WHERE eventid = 'http.credentials' AND" RANGE "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT ?3",
      4, { TXT("username", "Username", "ユーザー名"), TXT("password", "Password", "パスワード"), C_COUNT,
           C_IPS } },
    { "commands", "Top commands", "コマンド",
      "SELECT rp_mtxt(" J("input") "), count(*), count(DISTINCT src_ip) FROM events"
      " WHERE eventid = 'command.input' AND" RANGE "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?3",
      3, { TXT("command", "Command", "コマンド"), C_COUNT, C_IPS } },
    /* Every URL attackers pointed at, fetched or not: hosts are often dead
     * by the time, and with [capture] fetch off none is fetched. */
    { "downloads", "Download URLs", "ダウンロードURL",
      "SELECT rp_mtxt(" J("url") "), count(*), sum(eventid = 'session.file_download'), count(DISTINCT src_ip),"
      " max(" J("type") "), max(" J("shasum") ") FROM events"
      " WHERE eventid IN ('session.file_download', 'session.file_download.failed') AND" RANGE
      "AND " J("url") " IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?3",
      6, { TXT("url", "URL", "URL"), NUM("attempts", "Attempts", "試行数"), NUM("fetched", "Fetched", "取得数"),
           C_IPS, TXT("type", "Type", "ファイル形式"), TXT("sha256", "SHA-256", "SHA-256") } },
    { "payloads", "Payloads", "検体",
      "SELECT " J("shasum") ", max(" J("family") "), max(" J("type") "),"
      " sum(eventid = 'session.file_download'), count(DISTINCT src_ip) FROM events"
      " WHERE eventid IN ('session.file_download', 'payload.new') AND" RANGE "AND " J("shasum") " IS NOT NULL"
      " GROUP BY 1 ORDER BY 4 DESC, 1 LIMIT ?3",
      5, { TXT("sha256", "SHA-256", "SHA-256"), TXT("family", "Family", "ファミリー"),
           TXT("type", "Type", "ファイル形式"), NUM("downloads", "Downloads", "取得数"), C_IPS } },
    { "http_paths", "HTTP paths", "HTTPパス",
      FIELD_RANK("rp_mtxt(" J("uri") ")", "http.request"),
      3, { TXT("uri", "Path", "パス"), NUM("requests", "Requests", "リクエスト数"), C_IPS } },
    /* HTTP requests, trap payloads and the modules' exploit events alike (event.h) */
    { "attack_classes", "Attack classes", "攻撃分類",
      "SELECT j.value, count(*), count(DISTINCT src_ip) FROM events, json_each(events.data, '$.attack_classes') j"
      " WHERE eventid IN (" HP_ATTACK_EVENTS_SQL ") AND" RANGE "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?3",
      3, { TXT("class", "Attack class", "攻撃分類"), NUM("attempts", "Attempts", "試行数"), C_IPS } },
    { "cves", "CVEs", "CVE",
      "SELECT j.value, '', count(*), count(DISTINCT src_ip) FROM events, json_each(events.data, '$.cves') j"
      " WHERE eventid IN (" HP_ATTACK_EVENTS_SQL ") AND" RANGE "GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT ?3",
      4, { TXT("cve", "CVE", "CVE"), TXT("vulnerability", "Vulnerability", "脆弱性"),
           NUM("attempts", "Attempts", "試行数"), C_IPS },
      RP_POST_CVE, 1 },
    { "owasp_iot", "OWASP IoT Top 10", "OWASP IoT Top 10",
      "SELECT j.value, CASE j.value WHEN 'I1' THEN 'Weak, guessable, or hardcoded passwords'"
      " WHEN 'I2' THEN 'Insecure network services' WHEN 'I3' THEN 'Insecure ecosystem interfaces'"
      " WHEN 'I4' THEN 'Lack of secure update mechanism' WHEN 'I5' THEN 'Use of insecure or outdated components'"
      " WHEN 'I6' THEN 'Insufficient privacy protection' WHEN 'I7' THEN 'Insecure data transfer and storage'"
      " WHEN 'I8' THEN 'Lack of device management' WHEN 'I9' THEN 'Insecure default settings'"
      " WHEN 'I10' THEN 'Lack of physical hardening' END, count(*), count(DISTINCT src_ip)"
      " FROM events, json_each(events.data, '$.owasp_iot') j WHERE eventid = 'http.request' AND" RANGE
      "GROUP BY 1 ORDER BY 3 DESC, 1",
      4, { TXT("id", "ID", "ID"), TXT("name", "Category", "カテゴリ"),
           NUM("requests", "Requests", "リクエスト数"), C_IPS } },
    { "user_agents", "HTTP user agents", "HTTPユーザーエージェント",
      FIELD_RANK("rp_mtxt(" J("user_agent") ")", "http.request"),
      3, { TXT("user_agent", "User agent", "ユーザーエージェント"), NUM("requests", "Requests", "リクエスト数"),
           C_IPS } },
    { "ja3", "TLS JA3", "TLS JA3", FP_RANK("ja3", "tls.client_hello"),
      4, { TXT("ja3", "JA3", "JA3"), TXT("client", "Client", "クライアント"), C_COUNT, C_IPS } },
    { "ja4", "TLS JA4", "TLS JA4", FP_RANK("ja4", "tls.client_hello"),
      4, { TXT("ja4", "JA4", "JA4"), TXT("client", "Client", "クライアント"), C_COUNT, C_IPS } },
    { "hassh", "SSH HASSH", "SSH HASSH", FP_RANK("hassh", "client.kex"),
      4, { TXT("hassh", "HASSH", "HASSH"), TXT("client", "Client", "クライアント"), C_COUNT, C_IPS } },
    { "new_vs_seen", "New vs. seen before", "新規と既知",
      "WITH ip_cur AS (SELECT DISTINCT src_ip AS v FROM events WHERE" RANGE "AND src_ip IS NOT NULL),"
      " cr_cur AS (SELECT DISTINCT " J("username") " AS u, " J("password") " AS p FROM events WHERE" LOGINS "),"
      " cr_old AS (SELECT DISTINCT " J("username") " AS u, " J("password") " AS p FROM events"
      "  WHERE eventid IN ('login.success', 'login.failed') AND ts < ?1),"
      " pl_cur AS (SELECT DISTINCT " J("shasum") " AS v FROM events"
      "  WHERE eventid IN ('session.file_download', 'payload.new') AND" RANGE "AND " J("shasum") " IS NOT NULL),"
      " pl_old AS (SELECT DISTINCT " J("shasum") " AS v FROM events"
      "  WHERE eventid IN ('session.file_download', 'payload.new') AND ts < ?1),"
      " t AS (SELECT 1 AS k, count(*) AS n, coalesce(sum(NOT EXISTS (SELECT 1 FROM events e"
      "   WHERE e.src_ip = ip_cur.v AND e.ts < ?1)), 0) AS fresh FROM ip_cur"
      "  UNION ALL SELECT 2, count(*), coalesce(sum((u, p) NOT IN (SELECT u, p FROM cr_old)), 0) FROM cr_cur"
      "  UNION ALL SELECT 3, count(*), coalesce(sum(v NOT IN (SELECT v FROM pl_old)), 0) FROM pl_cur)"
      " SELECT k, n, fresh, n - fresh FROM t ORDER BY k",
      4, { TXT("what", "What", "対象"), NUM("total", "Total", "合計"), NUM("new", "New", "新規"),
           NUM("seen_before", "Seen before", "既知") },
      RP_POST_WHAT, 0 },
};

#define RP_NDEFS (sizeof(rp_defs) / sizeof(rp_defs[0]))

/* ---- the model ------------------------------------------------------------------- */

static void rp_cell_set(struct rp_cell *c, const void *s, size_t n)
{
    free(c->s);
    if (n > RP_CELL_MAX)
        n = RP_CELL_MAX;
    c->s = hp_xcalloc(n + 1, 1);
    memcpy(c->s, s, n);
    c->s[n] = '\0';
    c->n = n;
}

/* "d:c,d:c" (day index: count) into "c0 c1 ... cN", one number per day of the range. */
static void rp_post_series(struct rp_cell *c, const struct rp_opts *o)
{
    int64_t ndays = (o->until_us - 1) / RP_DAY_US - o->since_us / RP_DAY_US + 1;
    if (ndays < 1)
        ndays = 1;
    if (ndays > RP_SERIES_MAX)
        ndays = RP_SERIES_MAX;
    int64_t counts[RP_SERIES_MAX] = { 0 };
    const char *p = c->s ? c->s : "";
    while (*p) {
        char *end;
        long long d = strtoll(p, &end, 10);
        if (*end != ':')
            break;
        long long n = strtoll(end + 1, &end, 10);
        if (d >= 0 && d < ndays)
            counts[d] = n;
        p = *end == ',' ? end + 1 : end;
        if (*end != ',')
            break;
    }
    struct hp_buf b;
    hp_buf_init(&b, RP_SERIES_MAX * 24);
    for (int64_t i = 0; i < ndays; i++)
        hp_buf_printf(&b, "%s%lld", i ? " " : "", (long long)counts[i]);
    rp_cell_set(c, b.data ? (const char *)b.data : "", b.len);
    hp_buf_free(&b);
}

static void rp_post_what(struct rp_cell *c, const struct rp_opts *o)
{
    static const char *const en[] = { "?", "Source IPs", "Credentials", "Payloads" };
    static const char *const ja[] = { "?", "送信元IP", "認証情報", "検体" };
    long k = c->s ? strtol(c->s, NULL, 10) : 0;
    if (k < 0 || k > 3)
        k = 0;
    const char *s = o->ja ? ja[k] : en[k];
    rp_cell_set(c, s, strlen(s));
}

/* The product and name data/knowledge/cves.tsv gives the row's CVE (column 0). */
static void rp_post_cve(struct rp_cell *c, const struct rp_cell *key)
{
    const struct hp_cve_info *ci = key->s ? hp_knowledge_cve(key->s) : NULL;
    char text[256];
    snprintf(text, sizeof(text), "%s%s%s", ci ? ci->product : "", ci ? ": " : "", ci ? ci->name : "");
    rp_cell_set(c, text, strlen(text));
}

/* What usually listens on the row's port (column 0), from data/knowledge/ports.tsv:
 * the TCP service, else the UDP one (connections of both are counted). */
static void rp_post_port(struct rp_cell *c, const struct rp_cell *key)
{
    const struct hp_port_info *pi = NULL;
    if (key->num > 0 && key->num < 65536) {
        pi = hp_knowledge_port((uint16_t)key->num, "tcp");
        if (!pi)
            pi = hp_knowledge_port((uint16_t)key->num, "udp");
    }
    const char *t = pi && pi->service ? pi->service : "";
    rp_cell_set(c, t, strlen(t));
}

static void rp_post(enum rp_post post, struct rp_cell *row, int col, const struct rp_opts *o)
{
    if (post == RP_POST_SERIES)
        rp_post_series(&row[col], o);
    else if (post == RP_POST_WHAT)
        rp_post_what(&row[col], o);
    else if (post == RP_POST_CVE)
        rp_post_cve(&row[col], &row[0]);
    else if (post == RP_POST_PORT)
        rp_post_port(&row[col], &row[0]);
}

static void rp_mask_cell(struct rp_cell *c)
{
    char *out = hp_xcalloc(c->n + 64, 1);
    size_t len = hp_report_mask_text(c->s, c->n, out, c->n + 64);
    rp_cell_set(c, out, len);                   /* not strlen: text after a NUL is kept */
    free(out);
}

/* ---- the model, shared with the ClickHouse backend (report_clickhouse.c) ---------- */

size_t hp_report_ndefs(void)
{
    return RP_NDEFS;
}

void hp_report_section_init(struct rp_section *sec, size_t i)
{
    const struct rp_def *d = &rp_defs[i];
    memset(sec, 0, sizeof(*sec));
    sec->id = d->id;
    sec->en = d->en;
    sec->ja = d->ja;
    sec->ncols = d->ncols;
    memcpy(sec->cols, d->cols, sizeof(sec->cols));
}

struct rp_cell *hp_report_row_add(struct rp_section *sec)
{
    /* capacity is 16, then doubles: grow when nrows reaches it */
    size_t n = sec->nrows;
    if (n == 0 || (n >= 16 && (n & (n - 1)) == 0)) {
        sec->cells = realloc(sec->cells, (n ? n * 2 : 16) * (size_t)sec->ncols * sizeof(*sec->cells));
        if (!sec->cells)
            abort();                /* top-N rows: tiny unless memory is already gone */
    }
    struct rp_cell *row = &sec->cells[sec->nrows * (size_t)sec->ncols];
    memset(row, 0, (size_t)sec->ncols * sizeof(*row));
    sec->nrows++;
    return row;
}

void hp_report_cell_set(struct rp_cell *c, const void *s, size_t n)
{
    rp_cell_set(c, s, n);
}

void hp_report_row_finish(const struct rp_section *sec, size_t i, struct rp_cell *row, const struct rp_opts *o)
{
    const struct rp_def *d = i < RP_NDEFS ? &rp_defs[i] : NULL;
    if (d) {
        rp_post(d->post, row, d->post_col, o);
        rp_post(d->post2, row, d->post2_col, o);
    }
    for (int k = 0; o->mask && k < sec->ncols; k++)
        if (row[k].s)
            rp_mask_cell(&row[k]);
}

static int rp_run_section(sqlite3 *db, size_t di, const struct rp_opts *o, enum rp_rollup rollup,
                          struct rp_section *sec, char *err, size_t errlen)
{
    const struct rp_def *d = &rp_defs[di];
    const char *sql = hp_report_rollup_sql(d->id, rollup) ? hp_report_rollup_sql(d->id, rollup) : d->sql;
    sqlite3_stmt *st = NULL;
    hp_report_section_init(sec, di);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "section %s: %s", d->id, sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, o->since_us);
    sqlite3_bind_int64(st, 2, o->until_us);
    sqlite3_bind_int64(st, 3, o->top);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct rp_cell *row = hp_report_row_add(sec);
        for (int i = 0; i < d->ncols; i++) {
            if (sqlite3_column_type(st, i) == SQLITE_NULL)
                continue;
            if (d->cols[i].numeric) {
                row[i].num = sqlite3_column_int64(st, i);
                continue;
            }
            const unsigned char *t = sqlite3_column_text(st, i);
            rp_cell_set(&row[i], t ? (const char *)t : "", (size_t)sqlite3_column_bytes(st, i));
        }
        hp_report_row_finish(sec, di, row, o);
    }
    if (rc != SQLITE_DONE)
        snprintf(err, errlen, "section %s: %s", d->id, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static double rp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int hp_report_build(sqlite3 *db, const struct rp_opts *o, struct rp_report *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    r->since_us = o->since_us;
    r->until_us = o->until_us;
    void *mask = o->mask ? (void *)1 : NULL;
    if (sqlite3_create_function(db, "rp_mip", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, mask, rp_sql_mip,
                                NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(db, "rp_mtxt", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, mask, rp_sql_mtxt,
                                NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot register functions: %s", sqlite3_errmsg(db));
        return -1;
    }
    r->sections = hp_xcalloc(RP_NDEFS, sizeof(*r->sections));
    enum rp_rollup rollup = hp_report_rollup_usable(db, o);
    double start = rp_now();
    for (size_t i = 0; i < RP_NDEFS; i++) {
        if (o->progress && rp_now() - start > 1.0)
            fprintf(stderr, "report: section %zu/%zu %s (%.1f s)\n", i + 1, (size_t)RP_NDEFS, rp_defs[i].id,
                    rp_now() - start);
        r->nsections++;
        double t0 = rp_now();
        if (rp_run_section(db, i, o, rollup, &r->sections[i], err, errlen) != 0) {
            hp_report_free(r);
            return -1;
        }
        if (getenv("HANIPO_REPORT_TIMING"))       /* which section is slow, for developers */
            fprintf(stderr, "report: %-18s %8.3f s (%s)\n", rp_defs[i].id, rp_now() - t0,
                    rollup == RP_ROLLUP_DAY ? "day roll-ups" : rollup == RP_ROLLUP_HOUR ? "hour roll-ups" : "events");
    }
    return 0;
}

void hp_report_free(struct rp_report *r)
{
    for (size_t i = 0; i < r->nsections; i++) {
        struct rp_section *s = &r->sections[i];
        for (size_t j = 0; j < s->nrows * (size_t)s->ncols; j++)
            free(s->cells[j].s);
        free(s->cells);
    }
    free(r->sections);
    memset(r, 0, sizeof(*r));
}

const struct rp_section *hp_report_section(const struct rp_report *r, const char *id)
{
    for (size_t i = 0; i < r->nsections; i++)
        if (strcmp(r->sections[i].id, id) == 0)
            return &r->sections[i];
    return NULL;
}

/* ---- command line ------------------------------------------------------------------ */

static void rp_usage(FILE *f)
{
    fprintf(f,
            "usage: hanipo report [-c FILE] [--since T] [--until T] [--day YYYY-MM-DD] [--top N]\n"
            "                     [--json|--csv|--markdown|--html] [--lang en|ja] [--mask-ips] [--abuse DIR]\n"
            "                     [--store clickhouse://[user[:password]@]host[:port]/database] [--sensor NAME]...\n"
            "\n"
            "  --since T, --until T  range [since, until), T = YYYY-MM-DD[THH:MM[:SS]]Z (UTC);\n"
            "                        --since alone ends now, --until alone starts a day earlier\n"
            "  --day D               the UTC day D (default: yesterday, UTC)\n"
            "  --top N               rows per ranking (default 10)\n"
            "  --json, --csv, --markdown, --html  output format (default: terminal tables; --html:\n"
            "                        one self-contained page with SVG charts)\n"
            "  --lang ja             Japanese titles and headings (default en)\n"
            "  --mask-ips            IPv4 a.b.x.x, IPv6 first 32 bits, also inside commands and URLs\n"
            "  --no-rollup           count from the events table even where the roll-up tables\n"
            "                        could answer (slower; to cross-check them)\n"
            "  --store URL           read the fleet's ClickHouse store instead of the SQLite one\n"
            "                        (clickhouse+https://... or ?secure=1 for TLS; default [report] store);\n"
            "                        adds the per-sensor sections\n"
            "  --sensor NAME         ClickHouse only: these sensors only (repeat, or a comma list)\n"
            "  --abuse DIR           instead: one text file per source ASN in DIR (addresses, first/last\n"
            "                        seen, counts, sample events), for abuse desks; never masked\n"
            "\n"
            "Reads DATA_DIR/hanipo.sqlite (or [output sqlite] path) read-only.\n"
            "Exit status: 0 ok, 1 no database or query failure, 64 usage error, 78 configuration error.\n");
}

struct rp_cli {
    const char *config, *since, *until, *day, *abuse, *store;
    char sensors[4096];             /* --sensor values, comma-joined */
};

static int rp_bad(const char *what)
{
    fprintf(stderr, "hanipo report: %s\n", what);
    return EX_USAGE;
}

static int rp_parse_args(int argc, char **argv, struct rp_cli *c, struct rp_opts *o)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' }, { "since", required_argument, NULL, 's' },
        { "until", required_argument, NULL, 'u' },  { "day", required_argument, NULL, 'd' },
        { "top", required_argument, NULL, 'n' },    { "json", no_argument, NULL, 'j' },
        { "csv", no_argument, NULL, 'C' },          { "markdown", no_argument, NULL, 'm' },
        { "lang", required_argument, NULL, 'l' },   { "mask-ips", no_argument, NULL, 'M' },
        { "html", no_argument, NULL, 'H' },         { "abuse", required_argument, NULL, 'A' },
        { "no-rollup", no_argument, NULL, 'R' },    { "help", no_argument, NULL, 'h' },
        { "store", required_argument, NULL, 'S' },  { "sensor", required_argument, NULL, 'E' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t n;
    int ch;
    o->top = 10;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:n:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': c->config = optarg; break;
        case 's': c->since = optarg; break;
        case 'u': c->until = optarg; break;
        case 'd': c->day = optarg; break;
        case 'n':
            if (hp_parse_u64(optarg, 1, 100000, &n))
                return rp_bad("--top wants a number from 1 to 100000");
            o->top = (int)n;
            break;
        case 'j': o->fmt = RP_JSON; break;
        case 'C': o->fmt = RP_CSV; break;
        case 'm': o->fmt = RP_MD; break;
        case 'H': o->fmt = RP_HTML; break;
        case 'A': c->abuse = optarg; break;
        case 'l':
            if (strcmp(optarg, "ja") != 0 && strcmp(optarg, "en") != 0)
                return rp_bad("--lang is en or ja");
            o->ja = strcmp(optarg, "ja") == 0;
            break;
        case 'M': o->mask = true; break;
        case 'R': o->no_rollup = true; break;
        case 'S': c->store = optarg; break;
        case 'E': {
            size_t have = strlen(c->sensors);
            if (!optarg[0] || have + strlen(optarg) + 2 > sizeof(c->sensors))
                return rp_bad("--sensor: empty name, or too many names");
            snprintf(c->sensors + have, sizeof(c->sensors) - have, "%s%s", have ? "," : "", optarg);
            break;
        }
        case 'h': rp_usage(stdout); exit(0);
        default: rp_usage(stderr); return EX_USAGE;
        }
    }
    if (optind < argc)
        return rp_bad("unexpected argument");
    return 0;
}

/* Resolve the range options into [since, until). */
static int rp_range(const struct rp_cli *c, struct rp_opts *o)
{
    /* to the microsecond, past it: "--since alone ends now" takes in the
     * events of the current second too (whole seconds left them out) */
    int64_t now = hp_now_us() + 1;
    if (c->day && (c->since || c->until))
        return rp_bad("--day excludes --since and --until");
    if (c->day) {
        if (strlen(c->day) != 10 || hp_report_parse_time(c->day, &o->since_us))
            return rp_bad("--day wants YYYY-MM-DD");
        o->until_us = o->since_us + RP_DAY_US;
    } else if (c->since || c->until) {
        if (c->since && hp_report_parse_time(c->since, &o->since_us))
            return rp_bad("--since wants YYYY-MM-DD[THH:MM[:SS]]Z");
        if (c->until && hp_report_parse_time(c->until, &o->until_us))
            return rp_bad("--until wants YYYY-MM-DD[THH:MM[:SS]]Z");
        if (!c->until)
            o->until_us = now;
        if (!c->since)
            o->since_us = o->until_us - RP_DAY_US;
    } else {
        o->until_us = now / RP_DAY_US * RP_DAY_US;      /* today 00:00 UTC */
        o->since_us = o->until_us - RP_DAY_US;
    }
    if (o->since_us >= o->until_us)
        return rp_bad("the range is empty (--since must be before --until)");
    return 0;
}

static int rp_width(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 100;
}

static int rp_run(const struct rp_opts *o, const char *path, const char *abuse)
{
    char esc[4 * 4096 + 1], err[1024];
    struct stat sb;
    hp_term_escape(path, strlen(path), esc, sizeof(esc));
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "hanipo report: no event database (%s missing)\n", esc);
        return 1;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        fprintf(stderr, "hanipo report: cannot open %s: %s\n", esc, sqlite3_errmsg(db));
        sqlite3_close(db);
        return 1;
    }
    sqlite3_busy_timeout(db, 5000);
    /* Every section reads the same rows again: a 32 MiB page cache saves
     * read() calls.  GROUP BY's temporary b-trees go to temporary files (not
     * temp_store = MEMORY, which grows with the range: 115 MB for a week of
     * 1 M events in one section alone). */
    sqlite3_exec(db, "PRAGMA cache_size = -32768", NULL, NULL, NULL);
    if (abuse) {
        int rc = hp_report_abuse(db, o, abuse, stdout, err, sizeof(err));
        if (rc != 0) {
            hp_term_escape(err, strlen(err), esc, sizeof(esc));
            fprintf(stderr, "hanipo report: %s\n", esc);
        }
        sqlite3_close(db);
        return rc ? 1 : 0;
    }
    struct rp_report r;
    if (hp_report_build(db, o, &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "hanipo report: %s\n", err);
        sqlite3_close(db);
        return 1;
    }
    sqlite3_close(db);
    struct hp_buf out;
    hp_buf_init(&out, RP_OUT_CAP);
    hp_report_write(&r, o, &out);
    hp_report_free(&r);
    int ret = 0;
    if (!hp_buf_ok(&out) || fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
        ret = 1;
    hp_buf_free(&out);
    return ret;
}

/* The same report from the fleet's ClickHouse store. */
static int rp_run_clickhouse(const struct rp_opts *o)
{
    char err[1024], esc[4 * 1024 + 1];
    struct rp_report r;
    if (hp_report_build_clickhouse(o, &r, err, sizeof(err)) != 0) {
        hp_term_escape(err, strlen(err), esc, sizeof(esc));
        fprintf(stderr, "hanipo report: %s\n", esc);
        return 1;
    }
    struct hp_buf out;
    hp_buf_init(&out, RP_OUT_CAP);
    hp_report_write(&r, o, &out);
    hp_report_free(&r);
    int ret = 0;
    if (!hp_buf_ok(&out) || fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
        ret = 1;
    hp_buf_free(&out);
    return ret;
}

int hp_cli_report(int argc, char **argv, const char *default_config)
{
    struct rp_cli c;
    struct rp_opts o;
    memset(&c, 0, sizeof(c));
    memset(&o, 0, sizeof(o));
    int rc = rp_parse_args(argc, argv, &c, &o);
    if (rc || (rc = rp_range(&c, &o)))
        return rc;
    o.width = rp_width();
    o.progress = true;
    char err[1024], path[4096];
    char store[2048] = "", smap[4096] = "";
    struct hp_config *cfg = hp_config_load(c.config ? c.config : default_config, err, sizeof(err));
    if (cfg) {
        hp_cli_db_path(cfg, path, sizeof(path));
        snprintf(store, sizeof(store), "%s", c.store ? c.store : cfg->report.store ? cfg->report.store : "");
        snprintf(smap, sizeof(smap), "%s", cfg->report.sensor_country ? cfg->report.sensor_country : "");
        hp_config_free(cfg);
    } else if (c.store && !c.config && strncmp(c.store, "clickhouse", 10) == 0) {
        snprintf(store, sizeof(store), "%s", c.store);   /* an analyst's machine: no sensor config needed */
    } else {
        fprintf(stderr, "hanipo: %s\n", err);
        return EX_CONFIG;
    }
    if (strlen(store) + 1 >= sizeof(store) || strlen(smap) + 1 >= sizeof(smap))
        return rp_bad("--store or [report] store/sensor_country too long");
    if (strncmp(store, "clickhouse", 10) == 0) {
        if (c.abuse)
            return rp_bad("--abuse reads the SQLite store only");
        o.store = store;
        o.sensors = c.sensors[0] ? c.sensors : NULL;
        o.sensor_country = smap;
        return rp_run_clickhouse(&o);
    }
    if (store[0] && strcmp(store, "sqlite") != 0)
        return rp_bad("--store is sqlite or clickhouse://[user[:password]@]host[:port]/database");
    if (c.sensors[0])
        return rp_bad("--sensor needs a ClickHouse store (--store clickhouse://...): a SQLite store holds one sensor");
    return rp_run(&o, path, c.abuse);
}
