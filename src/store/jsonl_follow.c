/*
 * jsonl_follow.c - reading the JSONL output's day files behind its writer.
 * See jsonl_follow.h.
 *
 * One buffer of twice the longest line: bytes [at, len) are read but not yet
 * returned, starting at file offset base + at.  When no newline is left in
 * them, the rest moves to the front and pread() fills the buffer up; a full
 * buffer without a newline is a run longer than any line the writer makes,
 * skipped up to its next newline.  At the end of a file the follower looks
 * for the next day's file (a directory scan, only then): the writer opens a
 * day's file when the first event of that day comes, so once a later file
 * exists, nothing more goes into the earlier ones but an event published
 * across midnight out of time order, which is not waited for.  A file that
 * logrotate renamed away is read to its end, then the new one of the same
 * name from its start; the committed place names a file by its day, so a
 * crash in between may go on at that offset of the new file (a torn first
 * line, reported and passed over, or its end if it is shorter).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "jsonl_follow.h"
#include "jsonscan.h"
#include "log.h"
#include "util.h"

#define FOLLOW_BUF (2 * (size_t)HP_JSONL_LINE_MAX)

struct hp_jsonl_follow {
    char dir[4096];
    char prefix[64];
    struct hp_jsonl_pos pos;      /* after the last line returned */
    int fd;                       /* on pos.day's file, or -1 */
    char *buf;
    size_t at, len;               /* unreturned bytes: buf[at, len) */
    uint64_t base;                /* file offset of buf[0] */
    bool skipping;                /* inside an over-long run: drop up to its newline */
    uint64_t skipped;
    struct hp_ratelimit warn_rl;
};

static void follow_path(const struct hp_jsonl_follow *f, const char *day, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s-%s.jsonl", f->dir, f->prefix, day);
}

/* "PREFIX-YYYY-MM-DD.jsonl" -> day; false for any other name. */
static bool day_of_name(const char *name, const char *prefix, char day[11])
{
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl) != 0 || name[pl] != '-' || strlen(name) != pl + 17 ||
        strcmp(name + pl + 11, ".jsonl") != 0)
        return false;
    const char *d = name + pl + 1;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? d[i] != '-' : (d[i] < '0' || d[i] > '9'))
            return false;
    memcpy(day, d, 10);
    day[10] = '\0';
    return true;
}

/* The first day file after `after` ("": the first of all), or with last the
 * newest of all; false if there is none. */
static bool find_day(const char *dir, const char *prefix, const char *after, bool last, char out[11])
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    char day[11];
    for (struct dirent *de; (de = readdir(d));) {
        if (!day_of_name(de->d_name, prefix, day) || (!last && strcmp(day, after) <= 0))
            continue;
        if (!found || (last ? strcmp(day, out) > 0 : strcmp(day, out) < 0)) {
            memcpy(out, day, sizeof(day));
            found = true;
        }
    }
    closedir(d);
    return found;
}

void hp_jsonl_follow_end(const char *dir, const char *prefix, struct hp_jsonl_pos *pos)
{
    memset(pos, 0, sizeof(*pos));
    if (!find_day(dir, prefix, "", true, pos->day))
        return;
    char path[4096 + 100];
    snprintf(path, sizeof(path), "%s/%s-%s.jsonl", dir, prefix, pos->day);
    struct stat st;
    if (stat(path, &st) == 0)
        pos->off = (uint64_t)st.st_size;
}

struct hp_jsonl_follow *hp_jsonl_follow_new(const char *dir, const char *prefix, const struct hp_jsonl_pos *pos)
{
    struct hp_jsonl_follow *f = calloc(1, sizeof(*f));
    if (!f || !(f->buf = malloc(FOLLOW_BUF))) {
        free(f);
        return NULL;
    }
    snprintf(f->dir, sizeof(f->dir), "%s", dir);
    snprintf(f->prefix, sizeof(f->prefix), "%s", prefix);
    f->pos = *pos;
    f->pos.day[10] = '\0';
    f->fd = -1;
    f->base = pos->off;
    return f;
}

void hp_jsonl_follow_free(struct hp_jsonl_follow *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    free(f->buf);
    free(f);
}

void hp_jsonl_follow_tell(const struct hp_jsonl_follow *f, struct hp_jsonl_pos *pos)
{
    *pos = f->pos;
}

uint64_t hp_jsonl_follow_skipped(const struct hp_jsonl_follow *f)
{
    return f->skipped;
}

/* Start reading the file of day `day` at offset off. */
static void follow_switch(struct hp_jsonl_follow *f, const char *day, uint64_t off)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    memcpy(f->pos.day, day, 11);
    f->pos.off = off;
    f->base = off;
    f->at = f->len = 0;
    f->skipping = false;
}

/*
 * Nothing more in this file for now.  Move to the next day's file if there
 * is one; what is left unfinished here then never ends (a torn write) and
 * is passed over.  True if it moved.
 */
static bool follow_next_file(struct hp_jsonl_follow *f)
{
    char day[11];
    if (!find_day(f->dir, f->prefix, f->pos.day, false, day))
        return false;
    size_t torn = f->len - f->at;
    if (torn) {
        f->skipped += torn;
        if (hp_ratelimit_ok(&f->warn_rl, 60000))
            hp_warn("jsonl follow: %s-%s.jsonl ends with %zu bytes of an unfinished line; passed over",
                    f->prefix, f->pos.day, torn);
    }
    follow_switch(f, day, 0);
    return true;
}

/*
 * The day's file was renamed away and a new one made under its name
 * (logrotate's "create", then SIGHUP: the writer reopens by name before its
 * next write): once the old one is read to its end, go on in the new one.
 * True if it moved.
 */
static bool follow_rotated(struct hp_jsonl_follow *f)
{
    char path[sizeof(f->dir) + 100];
    struct stat now, ours;
    follow_path(f, f->pos.day, path, sizeof(path));
    if (stat(path, &now) != 0 || fstat(f->fd, &ours) != 0 || (now.st_ino == ours.st_ino && now.st_dev == ours.st_dev))
        return false;
    if (f->len > f->at) {
        f->skipped += f->len - f->at;
        if (hp_ratelimit_ok(&f->warn_rl, 60000))
            hp_warn("jsonl follow: a renamed %s-%s.jsonl ends with %zu bytes of an unfinished line; passed over",
                    f->prefix, f->pos.day, f->len - f->at);
    }
    follow_switch(f, f->pos.day, 0);
    return true;
}

/* Open pos.day's file if needed; 1 open, 0 not there (yet), -1 error. */
static int follow_open(struct hp_jsonl_follow *f)
{
    if (f->fd >= 0)
        return 1;
    if (!f->pos.day[0]) {         /* no file yet when following began: the first one */
        char day[11];
        if (!find_day(f->dir, f->prefix, "", false, day))
            return 0;
        follow_switch(f, day, 0);
    }
    char path[sizeof(f->dir) + 100];
    follow_path(f, f->pos.day, path, sizeof(path));
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd >= 0)
        return 1;
    if (errno != ENOENT)
        return -1;
    return 0;
}

/* Read more after buf[len); >0 bytes read, 0 at the end of the file, -1 error. */
static ssize_t follow_fill(struct hp_jsonl_follow *f)
{
    if (f->at > 0) {
        memmove(f->buf, f->buf + f->at, f->len - f->at);
        f->base += f->at;
        f->len -= f->at;
        f->at = 0;
    }
    if (f->len == FOLLOW_BUF)
        return 1;                 /* full: the caller skips an over-long run */
    for (;;) {
        ssize_t n = pread(f->fd, f->buf + f->len, FOLLOW_BUF - f->len, (off_t)(f->base + f->len));
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0)
            f->len += (size_t)n;
        if (n == 0) {
            struct stat st;
            if (fstat(f->fd, &st) != 0 || (uint64_t)st.st_size >= f->base + f->len)
                return 0;
            if ((uint64_t)st.st_size >= f->base + f->at) {
                f->len = f->at;   /* the writer cut back a failed write: read it again */
                return 0;
            }
            /* Shorter than what was stored (a power cut took what the page
             * cache held, or a hand or copytruncate cut it): going back to
             * its start would store lines twice, so go on at its end. */
            if (hp_ratelimit_ok(&f->warn_rl, 60000))
                hp_warn("jsonl follow: %s-%s.jsonl is shorter (%lld bytes) than what was stored from it"
                        " (%llu); going on at its end", f->prefix, f->pos.day, (long long)st.st_size,
                        (unsigned long long)(f->base + f->at));
            follow_switch(f, f->pos.day, (uint64_t)st.st_size);
            return -2;
        }
        return n;
    }
}

int hp_jsonl_follow_next(struct hp_jsonl_follow *f, const char **line, size_t *len)
{
    for (int rounds = 0; rounds < 64; rounds++) {
        int o = follow_open(f);
        if (o < 0)
            return -1;
        if (o == 0) {
            if (follow_next_file(f))
                continue;
            return 0;
        }
        char *nl = memchr(f->buf + f->at, '\n', f->len - f->at);
        if (nl) {
            size_t n = (size_t)(nl - (f->buf + f->at));
            const char *p = f->buf + f->at;
            f->at += n + 1;
            f->pos.off = f->base + f->at;
            if (f->skipping || n > HP_JSONL_LINE_MAX) {   /* the end of an over-long run, or a line too long */
                if (!f->skipping && hp_ratelimit_ok(&f->warn_rl, 60000))
                    hp_warn("jsonl follow: %s-%s.jsonl: a line of %zu bytes, longer than any event; skipped",
                            f->prefix, f->pos.day, n);
                f->skipping = false;
                f->skipped += n + 1;
                continue;
            }
            *line = p;
            *len = n;
            return 1;
        }
        if (f->len - f->at == FOLLOW_BUF || (f->skipping && f->len > f->at)) {
            /* No newline in a whole buffer: not a line the writer made. */
            if (!f->skipping && hp_ratelimit_ok(&f->warn_rl, 60000))
                hp_warn("jsonl follow: %s-%s.jsonl: a run of over %zu bytes without a newline at offset %llu;"
                        " skipped", f->prefix, f->pos.day, (size_t)HP_JSONL_LINE_MAX,
                        (unsigned long long)(f->base + f->at));
            f->skipping = true;
            f->skipped += f->len - f->at;
            f->at = f->len;
        }
        ssize_t r = follow_fill(f);
        if (r == -2)
            continue;
        if (r < 0)
            return -1;
        if (r == 0) {
            if (follow_rotated(f) || follow_next_file(f))
                continue;
            return 0;
        }
    }
    return 0;                     /* a long run of skipping: the next call goes on */
}

/* ---- one line's columns ---------------------------------------------------------- */

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t hp_jsonl_parse_ts(const char *s, size_t n)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, mo, d, h, mi, sec, us;
    if (n != 27 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[19] != '.' || s[26] != 'Z')
        return -1;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
        !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec) || !digits(s + 20, 6, &us))
        return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
        return -1;
    int64_t days = days_from_civil(y, mo, d);
    return ((days * 86400 + h * 3600 + mi * 60 + sec) * 1000000) + us;
}

/* A port member: an integer 0..65535, else -1. */
static int port_of(const struct hp_jval *v)
{
    if (v->type != HP_J_NUM || !hp_jscan_is_int(v) || v->n > 5)
        return -1;
    int p = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (v->p[i] < '0' || v->p[i] > '9')
            return -1;
        p = p * 10 + (v->p[i] - '0');
    }
    return p <= 65535 ? p : -1;
}

int hp_jsonl_row(const char *line, size_t len, struct hp_jsonl_row *row)
{
    static const char *const names[] = { "timestamp", "eventid", "session", "protocol", "src_ip",
                                         "src_port", "dst_port" };
    struct hp_jval v[7];
    char ts[32];
    memset(row, 0, sizeof(*row));
    row->src_port = row->dst_port = -1;
    if (hp_jscan_members(line, len, names, 7, v) != 0 || v[0].type != HP_J_STR || v[1].type != HP_J_STR)
        return -1;
    size_t tn = hp_jscan_str(&v[0], ts, sizeof(ts));
    if ((row->ts_us = hp_jsonl_parse_ts(ts, tn)) < 0)
        return -1;
    size_t en = hp_jscan_str(&v[1], row->eventid, sizeof(row->eventid));
    if (en == 0 || strlen(row->eventid) != en)
        return -1;
    hp_jscan_str(&v[2], row->session, sizeof(row->session));
    hp_jscan_str(&v[3], row->protocol, sizeof(row->protocol));
    hp_jscan_str(&v[4], row->src_ip, sizeof(row->src_ip));
    row->src_port = port_of(&v[5]);
    row->dst_port = port_of(&v[6]);
    return 0;
}
