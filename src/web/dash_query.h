/*
 * dash_query.h - the dashboard API's query-string parser (docs/api.md).
 *
 * Every /api/ view takes its parameters from the query string; they are
 * parsed here, once, into a fixed struct: no parameter reaches SQL except
 * as a bound value, every value is bounded in length, every number in range,
 * and an unknown or repeated parameter is an error (400), so a typo never
 * silently widens a view.  Pure code without I/O: unit-tested and fuzzed
 * (fuzz/fuzz_dashboard_query.c).
 *
 * sensor=NAME narrows a view to one sensor of a fleet store (ClickHouse);
 * any UTF-8 text of at most 100 bytes, as [sensor] name allows, so it is a
 * value to quote, never to paste (web/dash_ch.c uses hp_chq_quote()).
 *
 * Time range: last=30m|1h|1d|7d|... (a duration, at most 400 days) or
 * from/to (seconds since the epoch, or ISO 8601 UTC "2026-12-04",
 * "2026-12-04T10:00", "2026-12-04T10:00:05Z"); default last=1d.  The range is
 * [from, to) in microseconds.
 */
#ifndef HP_DASH_QUERY_H
#define HP_DASH_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP_DQ_TEXT 256            /* longest search value, bytes (NUL excluded) */
#define HP_DQ_MAX_LIMIT 500
#define HP_DQ_MAX_OFFSET 100000
#define HP_DQ_SENSOR_MAX 100        /* as [sensor] name */
#define HP_DQ_MAX_RANGE_US (400LL * 86400 * 1000000)

/* Which parameters were given (bit per field). */
enum {
    HP_DQ_IP = 1 << 0, HP_DQ_CC = 1 << 1, HP_DQ_PROTOCOL = 1 << 2, HP_DQ_USERNAME = 1 << 3,
    HP_DQ_PASSWORD = 1 << 4, HP_DQ_COMMAND = 1 << 5, HP_DQ_DIM = 1 << 6, HP_DQ_T = 1 << 7,
    HP_DQ_OFFSET_B = 1 << 8, HP_DQ_LIMIT = 1 << 9, HP_DQ_FROM = 1 << 10, HP_DQ_TO = 1 << 11,
    HP_DQ_LAST = 1 << 12, HP_DQ_PORT = 1 << 13, HP_DQ_POS = 1 << 14, HP_DQ_SENSOR = 1 << 15,
};

struct hp_dq {
    unsigned have;                /* HP_DQ_* bits */
    int64_t from_us, to_us;       /* [from, to) */
    int64_t t_us;                 /* t: a session's start (session page hint) */
    uint64_t limit, offset;       /* rows: limit 1..500 (default 50), offset 0..100000 */
    uint64_t pos;                 /* pos: byte offset (hex view) */
    uint16_t port;
    char ip[64];                  /* an IPv4/IPv6 address, checked with inet_pton */
    char cc[3];                   /* two capital letters */
    char protocol[32];            /* [a-z0-9_-] */
    char dim[16];                 /* a rollup dimension name ([a-z0-9_]) */
    char username[HP_DQ_TEXT + 1];
    char password[HP_DQ_TEXT + 1];
    char command[HP_DQ_TEXT + 1];
    char sensor[HP_DQ_SENSOR_MAX + 1]; /* a sensor's name ([sensor] name: any text); fleet stores only */
};

/*
 * Parse query (the part after '?', may be NULL or "") at time now_us.
 * 0 on success; -1 with a short message in err (safe to show: it quotes
 * no parameter value, only names from a fixed list).
 */
int hp_dq_parse(const char *query, int64_t now_us, struct hp_dq *q, char *err, size_t errlen);

/* Percent-decode src[0..n) ('+' is a space) into dst (cap bytes incl. NUL).
 * -1 on a bad escape, a NUL byte, invalid UTF-8 or overflow. */
int hp_dq_unescape(const char *src, size_t n, char *dst, size_t cap);

/* "2026-12-04", "2026-12-04T10:00[:05][Z]" or whole seconds since the epoch -> µs; -1 bad. */
int hp_dq_parse_time(const char *s, int64_t *us);

/* A rollup dimension the API knows ("cc", "username", ...). */
bool hp_dq_known_dim(const char *dim);

/* Minutes per chart point for the range: at most ~180 points (the SQLite and
 * ClickHouse timelines bucket alike). */
int64_t hp_dq_bucket_minutes(const struct hp_dq *q);

#endif
