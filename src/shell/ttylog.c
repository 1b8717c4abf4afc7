/*
 * ttylog.c - asciicast v2 session recordings.  See ttylog.h.
 *
 * File layout (what asciinema 2.2 reads; `asciinema play/cat FILE`):
 *   {"version": 2, "width": 80, "height": 24, "timestamp": 1700000000, "env": {"SHELL": "/bin/bash", "TERM": "xterm"}}
 *   [0.512345, "o", "root@host:~# "]
 *   [1.002000, "i", "l"]
 *   [3.100000, "r", "120x40"]
 * Times are seconds since the open on the monotonic clock, 6 decimals.
 * Every line is one JSON value ended by "\n"; strings go through
 * hp_json_str, so control bytes are escaped and nothing but "\n" ends a line.
 *
 * A UTF-8 character split across two writes would become two U+FFFD; the
 * incomplete tail of each chunk is held back (per direction, at most 3
 * bytes) and put in front of the next one.  Large writes are recorded as
 * several lines of at most 64 KiB of input each.
 *
 * Size cap: before a line is added we check that it, plus room for a final
 * notice line, stays within max_bytes (0: no cap).  The first line that does
 * not fit is replaced by that notice (an "o" event, so a player shows it)
 * and recording stops.  A write error also stops recording (logged once);
 * close returns the bytes that really are in the file.
 *
 * The size in the header and in "r" events is the terminal the emulated
 * shell lays out for: what the client announced, at most 512 x 256 (a
 * Telnet NAWS or SSH pty-req of 65535 x 65535 would have a player draw a
 * terminal that size); the client.size event keeps the announced one.
 *
 * Files: dir/<session>.cast, mode 0640, created exclusively (O_EXCL,
 * O_NOFOLLOW) in a directory created with 0750 if missing; the session name
 * must be a plain file name ([A-Za-z0-9._-], no leading '.').
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "ttylog.h"
#include "shell.h"
#include "buf.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define TTYLOG_FLUSH_AT  (64 * 1024)
#define TTYLOG_PIECE     (64 * 1024)     /* input bytes per event line */
#define TTYLOG_RESERVE   160             /* room kept for the final notice line */
#define TTYLOG_TERM_MAX  256

struct hp_ttylog {
    int fd;
    char *path;
    struct hp_buf buf;          /* lines not yet written */
    struct hp_buf line;         /* the line being built */
    struct hp_buf chunk;        /* held-back tail + the piece being recorded */
    uint64_t max_bytes;
    uint64_t size;              /* bytes written + buffered */
    uint64_t written;           /* bytes in the file */
    int64_t t0_us;
    bool full;                  /* the cap was reached: nothing more is recorded */
    bool failed;                /* a write failed: nothing more is written */
    uint8_t tail[2][4];         /* incomplete UTF-8 at the end of the last 'o' / 'i' chunk */
    size_t ntail[2];
};

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- file -------------------------------------------------------------------- */

static bool session_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 128 || s[0] == '.')
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* mkdir -p with mode 0750 for the parts that are missing. */
static int mkdirs(const char *dir)
{
    char tmp[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char c = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
            return -1;
        tmp[i] = c;
    }
    return 0;
}

static void write_all(struct hp_ttylog *t, const uint8_t *p, size_t n)
{
    while (n > 0 && !t->failed) {
        ssize_t w = write(t->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            hp_warn("ttylog %s: write failed: %s; recording stopped", t->path,
                    w < 0 ? strerror(errno) : "no progress");
            t->failed = true;
            return;
        }
        t->written += (uint64_t)w;
        p += w;
        n -= (size_t)w;
    }
}

static void flush(struct hp_ttylog *t)
{
    write_all(t, t->buf.data, t->buf.len);
    hp_buf_reset(&t->buf);
}

/* Queue a finished line (t->line). */
static void queue_line(struct hp_ttylog *t)
{
    if (t->buf.len + t->line.len > TTYLOG_FLUSH_AT)
        flush(t);
    if (t->line.len >= TTYLOG_FLUSH_AT)
        write_all(t, t->line.data, t->line.len);
    else
        hp_buf_put(&t->buf, t->line.data, t->line.len);
    t->size += t->line.len;
}

/* ---- lines ---------------------------------------------------------------- */

/* "[12.345678, "k", " into t->line (the text and "]\n" follow). */
static void line_begin(struct hp_ttylog *t, char kind)
{
    int64_t us = mono_us() - t->t0_us;
    if (us < 0)
        us = 0;
    hp_buf_reset(&t->line);
    hp_buf_printf(&t->line, "[%" PRId64 ".%06d, \"%c\", ", us / 1000000, (int)(us % 1000000), kind);
}

static void line_end(struct hp_ttylog *t)
{
    hp_buf_puts(&t->line, "]\n");
}

/* The notice that replaces the first line past the cap; recording stops. */
static void stop_at_cap(struct hp_ttylog *t)
{
    char msg[128];
    int n = snprintf(msg, sizeof(msg), "\r\n[recording stopped: size limit of %" PRIu64 " bytes]\r\n",
                     t->max_bytes);
    line_begin(t, 'o');
    hp_json_str(&t->line, msg, n > 0 ? (size_t)n : 0);
    line_end(t);
    queue_line(t);
    t->full = true;
}

/* Add t->line if it fits under the cap (with the notice's room). */
static void add_line(struct hp_ttylog *t)
{
    if (!hp_buf_ok(&t->line))
        return;
    if (t->max_bytes && t->size + t->line.len + TTYLOG_RESERVE > t->max_bytes) {
        stop_at_cap(t);
        return;
    }
    queue_line(t);
}

/* Length of an incomplete UTF-8 sequence at the end of p[0, n) (0 if none). */
static size_t utf8_tail(const uint8_t *p, size_t n)
{
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        uint8_t b = p[n - back];
        if ((b & 0xC0) == 0x80)
            continue;           /* continuation: look further back */
        size_t need = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xC2 && b <= 0xDF ? 2 : 0;
        return need > back ? back : 0;
    }
    return 0;
}

/* Record one piece (at most TTYLOG_PIECE bytes) of direction d. */
static void record_piece(struct hp_ttylog *t, char kind, int d, const uint8_t *p, size_t n, bool last)
{
    hp_buf_reset(&t->chunk);
    hp_buf_put(&t->chunk, t->tail[d], t->ntail[d]);
    hp_buf_put(&t->chunk, p, n);
    size_t keep = last ? utf8_tail(t->chunk.data, t->chunk.len) : 0;
    size_t len = t->chunk.len - keep;
    memcpy(t->tail[d], t->chunk.data + len, keep);
    t->ntail[d] = keep;
    if (len == 0)
        return;
    line_begin(t, kind);
    hp_json_str(&t->line, t->chunk.data, len);
    line_end(t);
    add_line(t);
}

/* ---- interface -------------------------------------------------------------- */

static unsigned clamp_size(unsigned v, unsigned max)
{
    return v > max ? max : v;
}

static bool write_header(struct hp_ttylog *t, unsigned w, unsigned h, const char *term)
{
    w = clamp_size(w, HP_SHELL_COLS_MAX);
    h = clamp_size(h, HP_SHELL_ROWS_MAX);
    hp_buf_reset(&t->line);
    hp_buf_printf(&t->line, "{\"version\": 2, \"width\": %u, \"height\": %u, \"timestamp\": %" PRId64
                  ", \"env\": {\"SHELL\": \"/bin/bash\"", w ? w : 80, h ? h : 24, hp_now_us() / 1000000);
    if (term) {
        hp_buf_puts(&t->line, ", \"TERM\": ");
        hp_json_str(&t->line, term, strnlen(term, TTYLOG_TERM_MAX));
    }
    hp_buf_puts(&t->line, "}}\n");
    if (!hp_buf_ok(&t->line))
        return false;
    queue_line(t);
    return true;
}

struct hp_ttylog *hp_ttylog_open(const char *dir, const char *session, unsigned width, unsigned height,
                                 const char *term, uint64_t max_bytes)
{
    if (!dir || !dir[0] || !session_ok(session) || mkdirs(dir) < 0)
        return NULL;
    size_t plen = strlen(dir) + strlen(session) + 7;
    char *path = malloc(plen);
    if (!path)
        return NULL;
    snprintf(path, plen, "%s/%s.cast", dir, session);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0) {
        free(path);
        return NULL;
    }
    struct hp_ttylog *t = hp_xcalloc(1, sizeof(*t));
    t->fd = fd;
    t->path = path;
    t->max_bytes = max_bytes;
    t->t0_us = mono_us();
    hp_buf_init(&t->buf, TTYLOG_FLUSH_AT);
    hp_buf_init(&t->line, 8 * TTYLOG_PIECE + 1024);     /* worst case: every byte escaped */
    hp_buf_init(&t->chunk, TTYLOG_PIECE + 8);
    write_header(t, width, height, term);
    return t;
}

void hp_ttylog_write(struct hp_ttylog *t, char kind, const void *data, size_t len)
{
    if (!t || (kind != 'o' && kind != 'i') || !data)
        return;
    const uint8_t *p = data;
    int d = kind == 'o' ? 0 : 1;
    while (len > 0 && !t->full && !t->failed) {
        size_t n = len < TTYLOG_PIECE ? len : TTYLOG_PIECE;
        record_piece(t, kind, d, p, n, true);
        p += n;
        len -= n;
    }
}

void hp_ttylog_resize(struct hp_ttylog *t, unsigned width, unsigned height)
{
    if (!t || t->full || t->failed)
        return;
    char sz[32];
    int n = snprintf(sz, sizeof(sz), "%ux%u", clamp_size(width, HP_SHELL_COLS_MAX),
                     clamp_size(height, HP_SHELL_ROWS_MAX));
    line_begin(t, 'r');
    hp_json_str(&t->line, sz, (size_t)n);
    line_end(t);
    add_line(t);
}

uint64_t hp_ttylog_close(struct hp_ttylog *t, char **path_out)
{
    if (path_out)
        *path_out = NULL;
    if (!t)
        return 0;
    for (int d = 0; d < 2 && !t->full && !t->failed; d++)
        if (t->ntail[d])        /* an unfinished character at the end: recorded as U+FFFD */
            record_piece(t, d ? 'i' : 'o', d, (const uint8_t *)"", 0, false);
    flush(t);
    uint64_t size = t->written;
    close(t->fd);
    if (path_out)
        *path_out = t->path;
    else
        free(t->path);
    hp_buf_free(&t->buf);
    hp_buf_free(&t->line);
    hp_buf_free(&t->chunk);
    free(t);
    return size;
}
