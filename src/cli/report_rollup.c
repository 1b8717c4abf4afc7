/*
 * report_rollup.c - the report's sections answered from the roll-up tables.
 *
 * Each query here gives the same rows as its twin over the events table in
 * report.c, read from the counts the SQLite writer keeps (src/store/rollup.h)
 * instead of from every event's JSON: a ranking first sums the counts of
 * its dimension, keeps the top N, and only then merges the distinct-source
 * sketches and looks up the labels of those N keys.  Ranges of whole UTC
 * days read the day rows, other ranges of whole hours the hour rows; any
 * other range, and a store whose roll-ups are incomplete, is read from the
 * events table.  Distinct counts are exact up to 128 sources per row and
 * HyperLogLog estimates (about 2.3 %) beyond (src/store/hll.h).
 */
#include <sqlite3.h>
#include <stdbool.h>
#include <string.h>
#include "report.h"
#include "store/hll.h"

#define RH " hour >= ?1 / 3600000000 AND hour < ?2 / 3600000000 "
#define RD " day >= ?1 / 86400000000 AND day < ?2 / 86400000000 "
/* The top N keys of a dimension over the range, with their counts. */
#define TOP(T, R, dim, order) \
    "WITH top AS (SELECT key, sum(n) AS n, sum(ok) AS ok FROM " T " WHERE dim = '" dim "' AND" R \
    "GROUP BY key ORDER BY " order " LIMIT ?3) "
#define IPS(T, R, dim) "(SELECT hll_count(src) FROM " T " s WHERE s.dim = '" dim "' AND s.key = top.key AND" R ")"
#define LA(dim) "(SELECT a FROM labels l WHERE l.dim = '" dim "' AND l.key = top.key)"
#define LB(dim) "(SELECT b FROM labels l WHERE l.dim = '" dim "' AND l.key = top.key)"
/* "what, count, distinct sources" over one dimension. */
#define RANK(T, R, dim, what) \
    TOP(T, R, dim, "2 DESC, 1") "SELECT " what ", n, " IPS(T, R, dim) " FROM top ORDER BY 2 DESC, top.key"
#define FP(T, R, dim) \
    TOP(T, R, dim, "2 DESC, 1") "SELECT key, " LA(dim) ", n, " IPS(T, R, dim) " FROM top ORDER BY 3 DESC, 1"
/* A key that was a JSON number as a number again (ASNs); other text as it was. */
#define NUMKEY(k) "(SELECT CASE WHEN v GLOB '[0-9]*' THEN CAST(v AS INTEGER) ELSE nullif(v, '') END FROM (SELECT " k " AS v))"
/* A pair key is [user, pass] as JSON text, cut at HP_ROLLUP_KEY_MAX bytes like every key: a
 * long (or much-escaped) username leaves it no longer JSON, and json_extract() would then fail
 * the whole report.  Such a key is shown whole as the username. */
#define PAIR_USER "(CASE WHEN json_valid(key) THEN json_extract(key, '$[0]') ELSE key END)"
#define PAIR_PASS "(CASE WHEN json_valid(key) THEN json_extract(key, '$[1]') END)"
#define PAIR_ORDER "2 DESC, " PAIR_USER ", " PAIR_PASS
#define OWASP_NAME \
    "CASE key WHEN 'I1' THEN 'Weak, guessable, or hardcoded passwords'" \
    " WHEN 'I2' THEN 'Insecure network services' WHEN 'I3' THEN 'Insecure ecosystem interfaces'" \
    " WHEN 'I4' THEN 'Lack of secure update mechanism' WHEN 'I5' THEN 'Use of insecure or outdated components'" \
    " WHEN 'I6' THEN 'Insufficient privacy protection' WHEN 'I7' THEN 'Insecure data transfer and storage'" \
    " WHEN 'I8' THEN 'Lack of device management' WHEN 'I9' THEN 'Insecure default settings'" \
    " WHEN 'I10' THEN 'Lack of physical hardening' END"

/* Every section over table T (rows of range R; DAY: a row's UTC day number). */
#define RP_ROLLUP_DEFS(T, R, DAY) \
    { "protocols", \
      "SELECT key, sum(ok), hll_count(src), sum(n) FROM " T " WHERE dim = 'protocol' AND" R \
      "AND key != '' GROUP BY 1 ORDER BY 2 DESC, 4 DESC, 1" }, \
    { "eventids", "SELECT key, sum(n) FROM " T " WHERE dim = 'eventid' AND" R "GROUP BY 1 ORDER BY 2 DESC, 1" }, \
    { "daily", \
      "WITH RECURSIVE days(d) AS (SELECT ?1 / 86400000000 UNION ALL SELECT d + 1 FROM days" \
      "  WHERE (d + 1) * 86400000000 < ?2 AND d < ?1 / 86400000000 + 3660)," \
      " agg AS (SELECT " DAY " AS d, sum(CASE WHEN dim = 'connect' THEN n END) AS c," \
      "  hll_count(CASE WHEN dim = 'connect' THEN src END) AS ips," \
      "  sum(CASE WHEN dim = 'eventid' AND key IN ('login.success', 'login.failed') THEN n END) AS l," \
      "  sum(CASE WHEN dim = 'all' THEN n END) AS e" \
      "  FROM " T " WHERE dim IN ('connect', 'eventid', 'all') AND" R "GROUP BY 1)" \
      " SELECT date(days.d * 86400, 'unixepoch'), coalesce(c, 0), coalesce(ips, 0), coalesce(l, 0)," \
      " coalesce(e, 0) FROM days LEFT JOIN agg USING (d) ORDER BY days.d" }, \
    { "countries", \
      TOP(T, R, "cc", "2 DESC, 1") "SELECT nullif(key, ''), " LA("cc") ", n, " IPS(T, R, "cc") \
      " FROM top ORDER BY 3 DESC, 1" }, \
    { "asns", \
      TOP(T, R, "asn", "2 DESC, nullif(key, '') IS NOT NULL, CAST(key AS INTEGER)") \
      "SELECT " NUMKEY("key") ", " LA("asn") ", n, " IPS(T, R, "asn") \
      " FROM top ORDER BY 3 DESC, nullif(key, '') IS NOT NULL, CAST(key AS INTEGER)" }, \
    { "ips", \
      TOP(T, R, "ip", "2 DESC, 1") "SELECT rp_mip(key), nullif(" LA("ip") ", '')," \
      " " NUMKEY(LB("ip")) ", n, " IPS(T, R, "ip") " FROM top ORDER BY 4 DESC, top.key" }, \
    { "ports", \
      TOP(T, R, "port", "2 DESC, CAST(key AS INTEGER)") \
      "SELECT CAST(key AS INTEGER), n, " IPS(T, R, "port") "," \
      " (SELECT group_concat(d || ':' || c) FROM (SELECT " DAY " - ?1 / 86400000000 AS d, sum(n) AS c" \
      "   FROM " T " r WHERE r.dim = 'port' AND r.key = top.key AND" R "GROUP BY 1)), ''" \
      " FROM top ORDER BY 2 DESC, 1" }, \
    { "usernames", \
      TOP(T, R, "username", "2 DESC, 1") "SELECT key, n, ok, " IPS(T, R, "username") " FROM top ORDER BY 2 DESC, 1" }, \
    { "passwords", \
      TOP(T, R, "password", "2 DESC, 1") "SELECT key, n, ok, " IPS(T, R, "password") " FROM top ORDER BY 2 DESC, 1" }, \
    { "pairs", \
      TOP(T, R, "pair", "2 DESC, key") \
      "SELECT " PAIR_USER ", " PAIR_PASS ", n, ok, " LA("pair") "," \
      " nullif(" LB("pair") ", '') FROM top ORDER BY 3 DESC, 1, 2" }, \
    { "http_credentials", \
      TOP(T, R, "http_cred", PAIR_ORDER) \
      "SELECT rp_mtxt(" PAIR_USER "), rp_mtxt(" PAIR_PASS "), n, " \
      IPS(T, R, "http_cred") " FROM top ORDER BY 3 DESC, 1, 2" }, \
    { "commands", RANK(T, R, "command", "rp_mtxt(nullif(key, ''))") }, \
    { "downloads", \
      TOP(T, R, "url", "2 DESC, 1") "SELECT rp_mtxt(key), n, ok, " IPS(T, R, "url") ", " LA("url") ", " LB("url") \
      " FROM top ORDER BY 2 DESC, top.key" }, \
    { "payloads", \
      TOP(T, R, "sha256", "2 DESC, 1") "SELECT key, " LB("sha256") ", " LA("sha256") ", n, " \
      IPS(T, R, "sha256") " FROM top ORDER BY 4 DESC, 1" }, \
    { "http_paths", RANK(T, R, "uri", "rp_mtxt(nullif(key, ''))") }, \
    { "attack_classes", RANK(T, R, "class", "key") }, \
    { "cves", TOP(T, R, "cve", "2 DESC, 1") "SELECT key, '', n, " IPS(T, R, "cve") " FROM top ORDER BY 3 DESC, top.key" }, \
    { "owasp_iot", \
      "WITH top AS (SELECT key, sum(n) AS n FROM " T " WHERE dim = 'owasp' AND" R "GROUP BY key)" \
      " SELECT key, " OWASP_NAME ", n, " IPS(T, R, "owasp") " FROM top ORDER BY 3 DESC, 1" }, \
    { "user_agents", RANK(T, R, "ua", "rp_mtxt(nullif(key, ''))") }, \
    { "ja3", FP(T, R, "ja3") }, \
    { "ja4", FP(T, R, "ja4") }, \
    { "hassh", FP(T, R, "hassh") }, \
    { "new_vs_seen", \
      "WITH t(k, n, fresh) AS (" \
      " SELECT 1, (SELECT count(DISTINCT key) FROM " T " WHERE dim = 'src' AND" R ")," \
      "  (SELECT count(*) FROM first_seen WHERE dim = 'ip' AND ts >= ?1 AND ts < ?2)" \
      " UNION ALL SELECT 2, (SELECT count(DISTINCT key) FROM " T " WHERE dim = 'pair' AND" R ")," \
      "  (SELECT count(*) FROM first_seen WHERE dim = 'pair' AND ts >= ?1 AND ts < ?2)" \
      " UNION ALL SELECT 3, (SELECT count(DISTINCT key) FROM " T " WHERE dim = 'sha256' AND" R ")," \
      "  (SELECT count(*) FROM first_seen WHERE dim = 'sha256' AND ts >= ?1 AND ts < ?2))" \
      " SELECT k, n, fresh, n - fresh FROM t ORDER BY k" },

struct rp_rollup_def {
    const char *id, *sql;
};

static const struct rp_rollup_def rp_by_day[] = { RP_ROLLUP_DEFS("rollup_day", RD, "day") };
static const struct rp_rollup_def rp_by_hour[] = { RP_ROLLUP_DEFS("rollup", RH, "hour / 24") };

const char *hp_report_rollup_sql(const char *id, enum rp_rollup how)
{
    const struct rp_rollup_def *defs = how == RP_ROLLUP_DAY ? rp_by_day : rp_by_hour;
    size_t n = how == RP_ROLLUP_DAY ? sizeof(rp_by_day) / sizeof(rp_by_day[0])
                                    : sizeof(rp_by_hour) / sizeof(rp_by_hour[0]);
    if (how == RP_ROLLUP_NONE)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(defs[i].id, id) == 0)
            return defs[i].sql;
    return NULL;
}

enum rp_rollup hp_report_rollup_usable(sqlite3 *db, const struct rp_opts *o)
{
    if (o->no_rollup || o->since_us < 0 || o->since_us % 3600000000LL || o->until_us % 3600000000LL)
        return RP_ROLLUP_NONE;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'rollup_complete'", -1, &st, NULL) != SQLITE_OK)
        return RP_ROLLUP_NONE;
    bool ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    sqlite3_finalize(st);
    if (!ok || hp_hll_register(db) != 0)
        return RP_ROLLUP_NONE;
    if (o->since_us % 86400000000LL == 0 && o->until_us % 86400000000LL == 0)
        return RP_ROLLUP_DAY;
    return RP_ROLLUP_HOUR;
}
