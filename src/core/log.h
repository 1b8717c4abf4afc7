/*
 * log.h - the sensor's own operational log (not events).
 *
 * Messages for the operator: start-up, configuration, caps reached, output
 * trouble.  Written to stderr, or to a file that SIGHUP reopens.  Anything in
 * a message that came from the network must first go through hp_log_escape
 * (the terminal is also attacker-reachable).  hp_log_ratelimited() lets hot
 * paths report a condition without flooding the log: it prints at most once
 * per interval per call site key and says how many were suppressed.
 */
#ifndef HP_LOG_H
#define HP_LOG_H

#include <stdint.h>
#include <stddef.h>

enum hp_log_level { HP_LOG_DEBUG, HP_LOG_INFO, HP_LOG_WARN, HP_LOG_ERROR };

void hp_log_set_level(enum hp_log_level lvl);
int  hp_log_parse_level(const char *s, enum hp_log_level *out);
int  hp_log_open(const char *path);  /* NULL or "" or "-": stderr */
void hp_log_reopen(void);
void hp_log(enum hp_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct hp_ratelimit {
    int64_t last_ms;
    uint64_t suppressed;
};
/* Returns the number of suppressed messages + 1 if the caller should log now, else 0. */
uint64_t hp_ratelimit_ok(struct hp_ratelimit *rl, int64_t interval_ms);

/* Make peer bytes safe for a terminal: printable ASCII kept, the rest as \xHH. */
void hp_log_escape(const void *s, size_t n, char *out, size_t outlen);

#define hp_debug(...) hp_log(HP_LOG_DEBUG, __VA_ARGS__)
#define hp_info(...)  hp_log(HP_LOG_INFO, __VA_ARGS__)
#define hp_warn(...)  hp_log(HP_LOG_WARN, __VA_ARGS__)
#define hp_error(...) hp_log(HP_LOG_ERROR, __VA_ARGS__)

#endif
