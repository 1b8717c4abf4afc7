/*
 * util.c - clocks, randomness, time formatting, config value parsing and thread names.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include "util.h"

int64_t hp_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t hp_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

size_t hp_fmt_u64(uint64_t v, char *out)
{
    char tmp[21];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

/* Every connection's two addresses: glibc's inet_ntop formats IPv4 with
 * sprintf, a tenth of the cost of a short HTTP request's parsing. */
size_t hp_fmt_ipv4(const void *addr, char *out)
{
    const uint8_t *a = addr;
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        if (i)
            out[n++] = '.';
        n += hp_fmt_u64(a[i], out + n);
    }
    out[n] = '\0';
    return n;
}

/*
 * Every event carries a timestamp, so this is on the hot path: the
 * "YYYY-MM-DDTHH:MM:SS" part is cached per thread for the current second
 * (gmtime_r takes glibc's time-zone lock), and only the microseconds are
 * written each time.
 */
size_t hp_fmt_iso8601(int64_t ts_us, char *out, size_t outlen)
{
    static _Thread_local int64_t cached_sec = -1;
    static _Thread_local char cached[64];
    int64_t sec = ts_us / 1000000;
    int us = (int)(ts_us % 1000000);
    if (outlen < 28 || ts_us < 0)
        return 0;
    if (sec != cached_sec) {
        time_t t = (time_t)sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(cached, sizeof(cached), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached_sec = sec;
    }
    memcpy(out, cached, 19);
    out[19] = '.';
    for (int i = 25; i >= 20; i--) {
        out[i] = (char)('0' + us % 10);
        us /= 10;
    }
    out[26] = 'Z';
    out[27] = '\0';
    return 27;
}

void hp_fmt_day(int64_t ts_us, char *out, size_t outlen)
{
    time_t sec = (time_t)(ts_us / 1000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    snprintf(out, outlen, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

void hp_thread_name(const char *name)
{
    char cut[16];
    snprintf(cut, sizeof(cut), "%s", name);
    pthread_setname_np(pthread_self(), cut);
}

int hp_thread_set_idle(bool idle)
{
    /* Leaving SCHED_IDLE needs RLIMIT_NICE >= 20 (privs.c raises it) or CAP_SYS_NICE. */
    struct sched_param sp = { 0 };
    return pthread_setschedparam(pthread_self(), idle ? SCHED_IDLE : SCHED_OTHER, &sp);
}

/* Random bytes come from a pool refilled by getrandom(), so a session id does
 * not cost a system call.  Only the network thread draws ids; the lock keeps
 * other threads safe anyway. */
static pthread_mutex_t rnd_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t rnd_pool[4096];
static size_t rnd_left;

void hp_random_bytes(void *out, size_t n)
{
    uint8_t *o = out;
    pthread_mutex_lock(&rnd_lock);
    while (n > 0) {
        if (rnd_left == 0) {
            size_t got = 0;
            while (got < sizeof(rnd_pool)) {
                ssize_t r = getrandom(rnd_pool + got, sizeof(rnd_pool) - got, 0);
                if (r < 0) {
                    if (errno == EINTR)
                        continue;
                    abort();
                }
                got += (size_t)r;
            }
            rnd_left = sizeof(rnd_pool);
        }
        size_t take = n < rnd_left ? n : rnd_left;
        memcpy(o, rnd_pool + sizeof(rnd_pool) - rnd_left, take);
        memset(rnd_pool + sizeof(rnd_pool) - rnd_left, 0, take);
        rnd_left -= take;
        o += take;
        n -= take;
    }
    pthread_mutex_unlock(&rnd_lock);
}

uint64_t hp_random_u64(void)
{
    uint64_t v;
    hp_random_bytes(&v, sizeof(v));
    return v;
}

void hp_strset_add(const char **arr, size_t *n, size_t max, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (arr[i] == s || strcmp(arr[i], s) == 0)
            return;
    if (*n < max)
        arr[(*n)++] = s;
}

void hp_hex(const void *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[b[i] >> 4];
        out[2 * i + 1] = hx[b[i] & 15];
    }
    out[2 * n] = '\0';
}

int hp_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t hp_pct_decode(const uint8_t *p, size_t n, bool plus, uint8_t *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o < cap; i++) {
        int hi = p[i] == '%' && i + 2 < n ? hp_hexval(p[i + 1]) : -1;
        int lo = hi >= 0 ? hp_hexval(p[i + 2]) : -1;
        if (lo >= 0) {
            out[o++] = (uint8_t)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = plus && p[i] == '+' ? ' ' : p[i];
        }
    }
    return o;
}

void hp_random_hex(char *out, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t raw[64];
    size_t i = 0;
    while (i < n) {
        size_t want = (n - i + 1) / 2;
        if (want > sizeof(raw))
            want = sizeof(raw);
        hp_random_bytes(raw, want);
        for (size_t k = 0; k < want && i < n; k++) {
            out[i++] = hex[raw[k] >> 4];
            if (i < n)
                out[i++] = hex[raw[k] & 15];
        }
    }
    out[n] = '\0';
}

int hp_parse_bool(const char *s, int *out)
{
    static const char *yes[] = { "1", "true", "yes", "on" };
    static const char *no[] = { "0", "false", "no", "off" };
    for (size_t i = 0; i < HP_ARRAY_LEN(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) { *out = 1; return 0; }
        if (strcasecmp(s, no[i]) == 0) { *out = 0; return 0; }
    }
    return -1;
}

int hp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')          /* digits only: no sign, no white space */
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Number followed by a suffix from a table of (suffix, multiplier). */
static int parse_scaled(const char *s, const char *const *suffix, const uint64_t *mult,
                        size_t nsuf, uint64_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < nsuf; i++) {
        if (strcasecmp(end, suffix[i]) == 0) {
            if (mult[i] && v > UINT64_MAX / mult[i])
                return -1;
            *out = v * mult[i];
            return 0;
        }
    }
    return -1;
}

int hp_parse_size(const char *s, uint64_t *out)
{
    static const char *const suf[] = { "", "b", "k", "kb", "kib", "m", "mb", "mib", "g", "gb", "gib" };
    static const uint64_t mul[] = { 1, 1, 1u << 10, 1u << 10, 1u << 10, 1u << 20, 1u << 20, 1u << 20,
                                    1ull << 30, 1ull << 30, 1ull << 30 };
    return parse_scaled(s, suf, mul, HP_ARRAY_LEN(suf), out);
}

int hp_parse_duration_ms(const char *s, uint64_t *out)
{
    static const char *const suf[] = { "", "ms", "s", "m", "min", "h", "d" };
    static const uint64_t mul[] = { 1000, 1, 1000, 60000, 60000, 3600000, 86400000 };
    return parse_scaled(s, suf, mul, HP_ARRAY_LEN(suf), out);
}

char *hp_unescape(const char *s, size_t *outlen)
{
    size_t n = strlen(s);
    char *o = malloc(n + 1);
    size_t j = 0;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 == n) {
            o[j++] = s[i];
            continue;
        }
        char e = s[++i];
        switch (e) {
        case 'r': o[j++] = '\r'; break;
        case 'n': o[j++] = '\n'; break;
        case 't': o[j++] = '\t'; break;
        case '0': o[j++] = '\0'; break;
        case '\\': o[j++] = '\\'; break;
        case 'x':
            if (i + 2 < n && hp_hexval(s[i + 1]) >= 0 && hp_hexval(s[i + 2]) >= 0) {
                o[j++] = (char)(hp_hexval(s[i + 1]) * 16 + hp_hexval(s[i + 2]));
                i += 2;
                break;
            }
            /* fall through */
        default:
            o[j++] = '\\';
            o[j++] = e;
        }
    }
    o[j] = '\0';
    if (outlen)
        *outlen = j;
    return o;
}

uint16_t hp_sockaddr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return 0;
}

int hp_sockaddr_is_any(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
    if (ss->ss_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
    return 1;
}

char *hp_xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        abort();
    return p;
}

void *hp_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

void hp_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
}
