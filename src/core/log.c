/*
 * log.c - operational log for the operator.  See log.h.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "log.h"
#include "util.h"

static enum hp_log_level log_level = HP_LOG_INFO;
static int log_fd = 2;
static char log_path[4096];
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void hp_log_set_level(enum hp_log_level lvl)
{
    log_level = lvl;
}

int hp_log_parse_level(const char *s, enum hp_log_level *out)
{
    static const char *names[] = { "debug", "info", "warn", "error" };
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = (enum hp_log_level)i;
            return 0;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = HP_LOG_WARN;
        return 0;
    }
    return -1;
}

int hp_log_open(const char *path)
{
    if (!path || !*path || strcmp(path, "-") == 0) {
        log_path[0] = '\0';
        return 0;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    snprintf(log_path, sizeof(log_path), "%s", path);
    pthread_mutex_lock(&log_lock);
    if (log_fd != 2)
        close(log_fd);
    log_fd = fd;
    pthread_mutex_unlock(&log_lock);
    return 0;
}

void hp_log_reopen(void)
{
    if (log_path[0]) {
        char path[sizeof(log_path)];
        memcpy(path, log_path, sizeof(path));
        hp_log_open(path);
    }
}

void hp_log(enum hp_log_level lvl, const char *fmt, ...)
{
    static const char *tag[] = { "debug", "info", "warn", "error" };
    if (lvl < log_level)
        return;
    char line[2048];
    char ts[40];
    hp_fmt_iso8601(hp_now_us(), ts, sizeof(ts));
    int n = snprintf(line, sizeof(line), "%s hanipo[%d] %s: ", ts, (int)getpid(), tag[lvl]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    pthread_mutex_lock(&log_lock);
    ssize_t w = write(log_fd, line, len);
    (void)w;
    pthread_mutex_unlock(&log_lock);
}

uint64_t hp_ratelimit_ok(struct hp_ratelimit *rl, int64_t interval_ms)
{
    int64_t now = hp_mono_ms();
    if (rl->last_ms && now - rl->last_ms < interval_ms) {
        rl->suppressed++;
        return 0;
    }
    uint64_t n = rl->suppressed + 1;
    rl->last_ms = now;
    rl->suppressed = 0;
    return n;
}

void hp_log_escape(const void *data, size_t n, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *s = data;
    size_t j = 0;
    if (!outlen)
        return;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            if (j + 1 >= outlen)
                break;
            out[j++] = (char)c;
        } else {
            if (j + 4 >= outlen)
                break;
            out[j++] = '\\';
            out[j++] = 'x';
            out[j++] = hex[c >> 4];
            out[j++] = hex[c & 15];
        }
    }
    out[j] = '\0';
}
