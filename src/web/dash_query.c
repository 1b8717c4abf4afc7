/*
 * dash_query.c - the dashboard API's query-string parser.  See dash_query.h.
 *
 * The query string is attacker-reachable only after authentication, but it
 * is still parsed as hostile input: one pass over "name=value&..." pairs,
 * each name looked up in a fixed table, each value percent-decoded into a
 * bounded stack buffer and then checked by its own validator.  Nothing is
 * allocated; the result is a plain struct the API binds into SQL.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "json.h"
#include "util.h"
#include "web/dash_query.h"

static const char *const known_dims[] = {
    "eventid", "protocol", "port", "cc", "asn", "ip", "username", "password", "pair", "http_cred",
    "command", "url", "sha256", "uri", "ua", "class", "cve", "owasp", "ja3", "ja4", "hassh",
};

bool hp_dq_known_dim(const char *dim)
{
    for (size_t i = 0; i < sizeof(known_dims) / sizeof(known_dims[0]); i++)
        if (strcmp(dim, known_dims[i]) == 0)
            return true;
    return false;
}

int hp_dq_unescape(const char *src, size_t n, char *dst, size_t cap)
{
    size_t j = 0;
    if (cap == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '%') {
            if (n - i < 3)                        /* need two more bytes */
                return -1;
            int hi = hp_hexval((unsigned char)src[i + 1]), lo = hp_hexval((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == 0 || j + 1 >= cap)
            return -1;
        dst[j++] = (char)c;
    }
    dst[j] = '\0';
    return hp_utf8_valid(dst, j) ? 0 : -1;
}

/* Exactly 'len' digits at s -> value; -1 otherwise. */
static int digits(const char *s, int len, int *out)
{
    int v = 0;
    for (int i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int hp_dq_parse_time(const char *s, int64_t *us)
{
    size_t n = strlen(s);
    if (n == 0 || n > 20)
        return -1;
    if (strspn(s, "0123456789") == n) {           /* seconds since the epoch */
        uint64_t v;
        if (hp_parse_u64(s, 0, 253402300799ULL, &v) != 0)    /* up to 9999-12-31 */
            return -1;
        *us = (int64_t)v * 1000000;
        return 0;
    }
    int y, mo, d, h = 0, mi = 0, se = 0;
    if (n < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d))
        return -1;
    const char *p = s + 10;
    if (*p == 'T' || *p == ' ') {
        if (strlen(p) < 6 || digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi))
            return -1;
        p += 6;
        if (*p == ':') {
            if (digits(p + 1, 2, &se) || strlen(p) < 3)
                return -1;
            p += 3;
        }
    }
    if (*p == 'Z')
        p++;
    if (*p || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
                     .tm_sec = se };
    time_t t = timegm(&tm);
    if (t < 0 || tm.tm_mday != d)                 /* 2026-02-31 normalises to March: refuse */
        return -1;
    *us = (int64_t)t * 1000000;
    return 0;
}

/* ---- per-parameter validators ------------------------------------------ */

static bool charset_ok(const char *v, const char *allowed_extra, size_t maxlen)
{
    size_t n = strlen(v);
    if (n == 0 || n > maxlen)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr(allowed_extra, c)))
            return false;
    }
    return true;
}

static int set_text(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n >= cap)
        return -1;
    memcpy(dst, v, n + 1);
    return 0;
}

static int set_ip(struct hp_dq *q, const char *v)
{
    unsigned char tmp[16];
    if (strlen(v) >= sizeof(q->ip) ||
        (inet_pton(AF_INET, v, tmp) != 1 && inet_pton(AF_INET6, v, tmp) != 1))
        return -1;
    memcpy(q->ip, v, strlen(v) + 1);
    return 0;
}

static int set_cc(struct hp_dq *q, const char *v)
{
    if (strlen(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z')
        return -1;
    memcpy(q->cc, v, 3);
    return 0;
}

static int set_last(struct hp_dq *q, const char *v)
{
    uint64_t ms;
    if (hp_parse_duration_ms(v, &ms) != 0 || ms < 60000 || ms > (uint64_t)HP_DQ_MAX_RANGE_US / 1000)
        return -1;
    q->from_us = q->to_us - (int64_t)ms * 1000;
    return 0;
}

/* The table of parameters: name, bit, and how the value is taken. */
enum kind { K_IP, K_CC, K_PROTO, K_TEXT_U, K_TEXT_P, K_TEXT_C, K_DIM, K_T, K_OFFSET, K_LIMIT, K_FROM, K_TO,
            K_LAST, K_PORT, K_POS, K_SENSOR };
static const struct { const char *name; unsigned bit; enum kind kind; } params[] = {
    { "ip", HP_DQ_IP, K_IP }, { "cc", HP_DQ_CC, K_CC }, { "protocol", HP_DQ_PROTOCOL, K_PROTO },
    { "username", HP_DQ_USERNAME, K_TEXT_U }, { "password", HP_DQ_PASSWORD, K_TEXT_P },
    { "command", HP_DQ_COMMAND, K_TEXT_C }, { "dim", HP_DQ_DIM, K_DIM }, { "t", HP_DQ_T, K_T },
    { "offset", HP_DQ_OFFSET_B, K_OFFSET }, { "limit", HP_DQ_LIMIT, K_LIMIT }, { "from", HP_DQ_FROM, K_FROM },
    { "to", HP_DQ_TO, K_TO }, { "last", HP_DQ_LAST, K_LAST }, { "port", HP_DQ_PORT, K_PORT },
    { "pos", HP_DQ_POS, K_POS }, { "sensor", HP_DQ_SENSOR, K_SENSOR },
};

static int apply(struct hp_dq *q, enum kind kind, const char *v, int64_t *from, int64_t *to, char *last)
{
    uint64_t n;
    switch (kind) {
    case K_IP: return set_ip(q, v);
    case K_CC: return set_cc(q, v);
    case K_PROTO:
        if (!charset_ok(v, "_-", sizeof(q->protocol) - 1))
            return -1;
        memcpy(q->protocol, v, strlen(v) + 1);
        return 0;
    case K_TEXT_U: return set_text(q->username, sizeof(q->username), v);
    case K_TEXT_P: return set_text(q->password, sizeof(q->password), v);
    case K_TEXT_C: return set_text(q->command, sizeof(q->command), v);
    case K_SENSOR: return set_text(q->sensor, sizeof(q->sensor), v);
    case K_DIM:
        if (!charset_ok(v, "_", sizeof(q->dim) - 1) || !hp_dq_known_dim(v))
            return -1;
        memcpy(q->dim, v, strlen(v) + 1);
        return 0;
    case K_T:
        if (hp_parse_u64(v, 0, 253402300799ULL * 1000000, &n) != 0)
            return -1;
        q->t_us = (int64_t)n;
        return 0;
    case K_OFFSET: return hp_parse_u64(v, 0, HP_DQ_MAX_OFFSET, &q->offset);
    case K_LIMIT: return hp_parse_u64(v, 1, HP_DQ_MAX_LIMIT, &q->limit);
    case K_POS: return hp_parse_u64(v, 0, 1ULL << 40, &q->pos);
    case K_PORT:
        if (hp_parse_u64(v, 0, 65535, &n) != 0)
            return -1;
        q->port = (uint16_t)n;
        return 0;
    case K_FROM: return hp_dq_parse_time(v, from);
    case K_TO: return hp_dq_parse_time(v, to);
    case K_LAST:
        if (strlen(v) >= 16)
            return -1;
        memcpy(last, v, strlen(v) + 1);
        return 0;
    }
    return -1;
}

/* Settle the range once every parameter is known. */
static int finish_range(struct hp_dq *q, int64_t now_us, int64_t from, int64_t to, const char *last,
                        char *err, size_t errlen)
{
    if ((q->have & HP_DQ_LAST) && (q->have & (HP_DQ_FROM | HP_DQ_TO))) {
        snprintf(err, errlen, "give either last or from/to");
        return -1;
    }
    q->to_us = (q->have & HP_DQ_TO) ? to : now_us;
    if (q->have & HP_DQ_LAST) {
        if (set_last(q, last) != 0) {
            snprintf(err, errlen, "bad value for last (1m to 400d, e.g. 1h, 1d, 7d)");
            return -1;
        }
    } else if (q->have & HP_DQ_FROM) {
        q->from_us = from;
    } else {
        q->from_us = q->to_us - 86400LL * 1000000;
    }
    if (q->from_us >= q->to_us || q->to_us - q->from_us > HP_DQ_MAX_RANGE_US) {
        snprintf(err, errlen, "bad range: from must be before to, at most 400 days apart");
        return -1;
    }
    return 0;
}

int hp_dq_parse(const char *query, int64_t now_us, struct hp_dq *q, char *err, size_t errlen)
{
    char val[HP_DQ_TEXT * 3 + 1], last[16] = "";
    int64_t from = 0, to = 0;
    memset(q, 0, sizeof(*q));
    q->limit = 50;
    const char *p = query ? query : "";
    size_t total = strlen(p);
    if (total > 8192) {
        snprintf(err, errlen, "query string too long");
        return -1;
    }
    for (size_t guard = 0; *p && guard < 64; guard++) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t nlen = eq ? (size_t)(eq - p) : len;
        size_t i = 0;
        if (len == 0)
            goto next;
        for (; i < sizeof(params) / sizeof(params[0]); i++)
            if (strlen(params[i].name) == nlen && memcmp(params[i].name, p, nlen) == 0)
                break;
        if (i == sizeof(params) / sizeof(params[0])) {
            snprintf(err, errlen, "unknown parameter");
            return -1;
        }
        if (q->have & params[i].bit) {
            snprintf(err, errlen, "parameter %s given twice", params[i].name);
            return -1;
        }
        q->have |= params[i].bit;
        if (!eq || hp_dq_unescape(eq + 1, len - nlen - 1, val, sizeof(val)) != 0 || !val[0] ||
            apply(q, params[i].kind, val, &from, &to, last) != 0) {
            snprintf(err, errlen, "bad value for %s", params[i].name);
            return -1;
        }
    next:
        if (!amp)
            return finish_range(q, now_us, from, to, last, err, errlen);
        p = amp + 1;
    }
    if (*p) {
        snprintf(err, errlen, "too many parameters");
        return -1;
    }
    return finish_range(q, now_us, from, to, last, err, errlen);
}

int64_t hp_dq_bucket_minutes(const struct hp_dq *q)
{
    static const int64_t steps[] = { 1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080 };
    int64_t minutes = (q->to_us - q->from_us + 60000000LL - 1) / 60000000LL;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (minutes / steps[i] <= 180)
            return steps[i];
    return 10080;
}
