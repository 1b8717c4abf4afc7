/*
 * util.h - small process-wide helpers: clocks, random identifiers, time text.
 */
#ifndef HP_UTIL_H
#define HP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <time.h>

#define HP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

int64_t hp_now_us(void);             /* wall clock, microseconds since the epoch */
int64_t hp_mono_ms(void);            /* monotonic clock, milliseconds */
/* "2026-11-22T00:37:12.123456Z" into out (>= 28 bytes); returns length. */
size_t hp_fmt_iso8601(int64_t ts_us, char *out, size_t outlen);
/* Decimal text of v into out (>= 21 bytes, NUL-terminated); returns length. */
size_t hp_fmt_u64(uint64_t v, char *out);
/* Dotted-quad text of an IPv4 address (4 bytes, network order) into out
 * (>= 16 bytes, NUL-terminated), as inet_ntop writes it; returns length. */
size_t hp_fmt_ipv4(const void *addr, char *out);
/* The signals that stop a process or reopen its logs: SIGTERM, SIGINT, SIGHUP. */
void hp_stop_signals(sigset_t *set);
/* Name the calling thread (what top -H and /proc/PID/task/TID/comm show),
 * cut to the kernel's 15 characters: the operator, and bench/http.sh, can
 * then tell which thread spends the CPU.  Best effort: errors are ignored. */
void hp_thread_name(const char *name);
/* The calling thread at SCHED_IDLE (true) or back at SCHED_OTHER; 0 or an errno value. */
int hp_thread_set_idle(bool idle);
/* UTC calendar day of a timestamp as "YYYY-MM-DD" (out >= 11 bytes). */
void hp_fmt_day(int64_t ts_us, char *out, size_t outlen);

/* Cryptographically random bytes (getrandom); aborts only if the kernel cannot provide them. */
void hp_random_bytes(void *out, size_t n);
uint64_t hp_random_u64(void);
/* The value of hex digit c (either case), or -1. */
int hp_hexval(int c);
/* One lenient %XX pass over p[0..n) into out[0..cap): a valid escape becomes its byte, anything
 * else is kept as it is, '+' becomes a space when plus (form encoding).  Stops when out is full;
 * returns the bytes written.  out may be p itself (the output never outgrows the input). */
size_t hp_pct_decode(const uint8_t *p, size_t n, bool plus, uint8_t *out, size_t cap);
/* n bytes as 2n lowercase hex digits plus NUL into out (out >= 2n + 1). */
void hp_hex(const void *p, size_t n, char *out);

/* Append s to the list arr[0..*n) unless an equal string is there, while *n < max
 * (a list of distinct result strings: attack classes, CVEs, rule names). */
void hp_strset_add(const char **arr, size_t *n, size_t max, const char *s);

/* n random lowercase hex characters plus NUL into out (out >= n + 1). */
void hp_random_hex(char *out, size_t n);

/* Parse helpers for configuration text; return 0 or -1. */
int hp_parse_bool(const char *s, int *out);
int hp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Sizes with optional K/M/G suffix (binary multiples). */
int hp_parse_size(const char *s, uint64_t *out);
/* Durations with optional ms/s/m/h/d suffix (default seconds) in milliseconds. */
int hp_parse_duration_ms(const char *s, uint64_t *out);
/* Decode C-style escapes (\r \n \t \\ \xHH) in a config string; caller frees. */
char *hp_unescape(const char *s, size_t *outlen);

struct sockaddr_storage;
/* Port of an IPv4/IPv6 socket address; whether it is 0.0.0.0 or ::. */
uint16_t hp_sockaddr_port(const struct sockaddr_storage *ss);
int hp_sockaddr_is_any(const struct sockaddr_storage *ss);

/* strdup that aborts on OOM (used for configuration, never for peer data). */
char *hp_xstrdup(const char *s);
void *hp_xcalloc(size_t n, size_t size);

#endif
