/*
 * spool.c - a bounded, crash-safe disk queue of opaque records.  See spool.h.
 *
 * The producer appends to the newest segment with one writev(); a short or
 * failed write is cut back with ftruncate(), so a segment only ever holds
 * whole records (or, after kill -9 mid-write, one torn tail that replay
 * removes).  The consumer reads the oldest segment with pread() through its
 * own descriptor; the mutex is held only to read or change the segment list
 * and counters, never while the consumer reads, so appends and shipping
 * overlap.
 *
 * Segments are small next to the bound (an eighth of it, at most 8 MiB) so
 * acknowledged data is given back to the disk soon.  Record bytes read back
 * from disk are untrusted (a torn write, a bad sector, a hand-edited file):
 * they are parsed only through hp_spool_parse(), on a struct hp_rd.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>
#include "buf.h"
#include "log.h"
#include "reader.h"
#include "spool.h"
#include "util.h"

#define SEG_MAX (8u * 1024 * 1024)
#define SEG_MIN (64u * 1024)
#define ACK_LEN 20

static const uint8_t spool_magic[4] = { 'H', 'P', 'S', '1' };

struct seg {
    uint64_t no;
    uint64_t size;       /* end of the last whole record */
};

struct hp_spool {
    char dir[PATH_MAX];
    uint64_t max_bytes, seg_max;
    bool sync;
    pthread_mutex_t mu;
    struct seg *segs;    /* oldest first */
    size_t nsegs, capsegs;
    int wfd;             /* the newest segment, for appends */
    uint64_t total;      /* bytes of all segment files */
    uint64_t rd_off;     /* consumer position in segs[0] */
    uint64_t backlog_bytes, backlog_records;
    uint64_t pk_no, pk_off; /* consumer's read-ahead position (not yet acknowledged) */
    int rfd;             /* consumer's descriptor on segs[0] */
    uint64_t rfd_no;
    int ackfd;
};

static uint32_t spool_crc(const void *p, size_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

static void put_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static void put_u64le(uint8_t *p, uint64_t v)
{
    put_u32le(p, (uint32_t)v);
    put_u32le(p + 4, (uint32_t)(v >> 32));
}

void hp_spool_header(uint8_t hdr[HP_SPOOL_HDR], const void *payload, size_t len)
{
    memcpy(hdr, spool_magic, 4);
    put_u32le(hdr + 4, (uint32_t)len);
    put_u32le(hdr + 8, spool_crc(payload, len));
}

int hp_spool_parse(struct hp_rd *r, const uint8_t **payload, size_t *len)
{
    if (hp_rd_left(r) == 0 && hp_rd_ok(r))
        return 0;
    struct hp_rd rec = *r;
    const uint8_t *magic = hp_rd_bytes(&rec, 4);
    uint32_t n = hp_rd_u32le(&rec);
    uint32_t crc = hp_rd_u32le(&rec);
    if (!hp_rd_ok(&rec) || memcmp(magic, spool_magic, 4) != 0 || n > HP_SPOOL_REC_MAX)
        return -1;
    const uint8_t *p = hp_rd_bytes(&rec, n);
    if (!p || spool_crc(p, n) != crc)
        return -1;
    *payload = p;
    *len = n;
    *r = rec;
    return 1;
}

static void seg_path(const struct hp_spool *s, uint64_t no, char *out, size_t cap)
{
    snprintf(out, cap, "%s/seg-%016" PRIx64 ".spool", s->dir, no);
}

static int mkdir_p(const char *dir)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

static void segs_push(struct hp_spool *s, uint64_t no, uint64_t size)
{
    if (s->nsegs == s->capsegs) {
        s->capsegs = s->capsegs ? 2 * s->capsegs : 16;
        struct seg *n = hp_xcalloc(s->capsegs, sizeof(*n));
        if (s->nsegs)
            memcpy(n, s->segs, s->nsegs * sizeof(*n));
        free(s->segs);
        s->segs = n;
    }
    s->segs[s->nsegs++] = (struct seg){ no, size };
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Segment numbers present in the directory, sorted. */
static int list_segments(struct hp_spool *s, uint64_t **nos, size_t *n)
{
    DIR *d = opendir(s->dir);
    if (!d)
        return -1;
    size_t cap = 0;
    *nos = NULL;
    *n = 0;
    for (struct dirent *de; (de = readdir(d));) {
        unsigned long long no;
        char tail[8];
        if (strlen(de->d_name) != 4 + 16 + 6 || sscanf(de->d_name, "seg-%16llx%7s", &no, tail) != 2 ||
            strcmp(tail, ".spool") != 0)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            uint64_t *m = hp_xcalloc(cap, sizeof(*m));
            if (*n)
                memcpy(m, *nos, *n * sizeof(*m));
            free(*nos);
            *nos = m;
        }
        (*nos)[(*n)++] = no;
    }
    closedir(d);
    if (*n > 1)
        qsort(*nos, *n, sizeof(**nos), cmp_u64);
    return 0;
}

static int read_file(const char *path, uint8_t **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *len = (size_t)st.st_size;
    *data = hp_xcalloc(1, *len ? *len : 1);
    size_t got = 0;
    while (got < *len) {
        ssize_t r = pread(fd, *data + got, *len - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return 0;
}

/* The saved consumer position; false if there is none or it is damaged. */
static bool ack_load(struct hp_spool *s, uint64_t *no, uint64_t *off)
{
    uint8_t b[ACK_LEN];
    if (pread(s->ackfd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
        return false;
    struct hp_rd r;
    hp_rd_init(&r, b, sizeof(b));
    *no = hp_rd_u64le(&r);
    *off = hp_rd_u64le(&r);
    uint32_t crc = hp_rd_u32le(&r);
    return hp_rd_ok(&r) && crc == spool_crc(b, 16);
}

static void ack_save(struct hp_spool *s)
{
    uint8_t b[ACK_LEN];
    put_u64le(b, s->nsegs ? s->segs[0].no : 0);
    put_u64le(b + 8, s->rd_off);
    put_u32le(b + 16, spool_crc(b, 16));
    if (pwrite(s->ackfd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
        hp_warn("spool: cannot save the position in %s/ack: %s (records may be checked again)",
                s->dir, strerror(errno));
}

/*
 * Replay one segment: keep its whole records, cut a torn tail.  Records at
 * or after start_off (when the segment is the acknowledged one) count as
 * backlog.  *start_ok tells whether start_off fell on a record boundary.
 */
static int replay_segment(struct hp_spool *s, uint64_t no, uint64_t start_off, bool *start_ok)
{
    char path[PATH_MAX + 64];
    seg_path(s, no, path, sizeof(path));
    uint8_t *data;
    size_t len;
    if (read_file(path, &data, &len) != 0)
        return -1;
    struct hp_rd r;
    hp_rd_init(&r, data, len);
    const uint8_t *p;
    size_t n;
    *start_ok = start_off == 0;
    for (;;) {
        size_t at = hp_rd_pos(&r);
        if (at == start_off)
            *start_ok = true;
        if (hp_spool_parse(&r, &p, &n) != 1)
            break;
        if (at >= start_off) {
            s->backlog_records++;
            s->backlog_bytes += HP_SPOOL_HDR + n;
        }
    }
    size_t good = hp_rd_pos(&r);
    free(data);
    if (good < len) {
        hp_warn("spool: %s: %zu bytes after offset %zu are not a whole record (a write cut short"
                " by a crash); removed them", path, len - good, good);
        if (truncate(path, (off_t)good) != 0) {
            hp_error("spool: cannot truncate %s: %s", path, strerror(errno));
            return -1;
        }
    }
    segs_push(s, no, good);
    s->total += good;
    return 0;
}

static int spool_replay(struct hp_spool *s)
{
    uint64_t *nos, ack_no = 0, ack_off = 0;
    size_t n;
    if (list_segments(s, &nos, &n) != 0)
        return -1;
    bool have_ack = ack_load(s, &ack_no, &ack_off);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (have_ack && nos[i] < ack_no) {
            /* Acknowledged before a crash cut the cleanup short. */
            char path[PATH_MAX + 64];
            seg_path(s, nos[i], path, sizeof(path));
            unlink(path);
            continue;
        }
        bool is_ack = have_ack && nos[i] == ack_no;
        bool start_ok;
        rc = replay_segment(s, nos[i], is_ack ? ack_off : 0, &start_ok);
        if (rc == 0 && is_ack) {
            if (start_ok) {
                s->rd_off = ack_off;
            } else {
                hp_warn("spool: %s/ack points inside a record; shipping this segment from its start",
                        s->dir);
                s->backlog_records = 0;
                s->backlog_bytes = 0;
                s->nsegs--;
                s->total -= s->segs[s->nsegs].size;
                rc = replay_segment(s, nos[i], 0, &start_ok);
            }
        }
    }
    free(nos);
    return rc;
}

static int open_wfd(struct hp_spool *s)
{
    char path[PATH_MAX + 64];
    seg_path(s, s->segs[s->nsegs - 1].no, path, sizeof(path));
    if (s->wfd >= 0)
        close(s->wfd);
    s->wfd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    return s->wfd < 0 ? -1 : 0;
}

int hp_spool_open(struct hp_spool **sp, const char *dir, uint64_t max_bytes, bool sync,
                  char *err, size_t errlen)
{
    struct hp_spool *s = hp_xcalloc(1, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "%s", dir);
    s->max_bytes = max_bytes;
    s->seg_max = max_bytes / 8 > SEG_MAX ? SEG_MAX : max_bytes / 8 < SEG_MIN ? SEG_MIN : max_bytes / 8;
    s->sync = sync;
    s->wfd = s->rfd = s->ackfd = -1;
    pthread_mutex_init(&s->mu, NULL);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/ack", dir);
    if (mkdir_p(dir) != 0 || (s->ackfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0) {
        snprintf(err, errlen, "spool: cannot use %s: %s", dir, strerror(errno));
        goto fail;
    }
    if (spool_replay(s) != 0) {
        snprintf(err, errlen, "spool: cannot read %s: %s", dir, strerror(errno));
        goto fail;
    }
    if (s->nsegs == 0)
        segs_push(s, 1, 0);
    if (open_wfd(s) != 0) {
        snprintf(err, errlen, "spool: cannot open a segment in %s: %s", dir, strerror(errno));
        goto fail;
    }
    *sp = s;
    return 0;
fail:
    hp_spool_close(s);
    return -1;
}

void hp_spool_close(struct hp_spool *s)
{
    if (!s)
        return;
    if (s->wfd >= 0) {
        if (s->sync)
            fdatasync(s->wfd);
        close(s->wfd);
    }
    if (s->rfd >= 0)
        close(s->rfd);
    if (s->ackfd >= 0)
        close(s->ackfd);
    pthread_mutex_destroy(&s->mu);
    free(s->segs);
    free(s);
}

/* Start a new segment after the newest; lock held. */
static int rotate(struct hp_spool *s)
{
    if (s->sync)
        fdatasync(s->wfd);
    segs_push(s, s->segs[s->nsegs - 1].no + 1, 0);
    if (open_wfd(s) == 0)
        return 0;
    s->nsegs--;
    open_wfd(s);
    return -1;
}

/* Write the whole record at the end of the newest segment, or nothing. */
static int write_record(struct hp_spool *s, const uint8_t *hdr, const void *data, size_t len)
{
    struct seg *last = &s->segs[s->nsegs - 1];
    struct iovec iov[2] = { { (void *)hdr, HP_SPOOL_HDR }, { (void *)data, len } };
    size_t want = HP_SPOOL_HDR + len, done = 0;
    while (done < want) {
        ssize_t w = pwritev(s->wfd, iov, 2, (off_t)(last->size + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            if (ftruncate(s->wfd, (off_t)last->size) != 0)
                hp_error("spool: cannot undo a partial write: %s", strerror(errno));
            errno = e;
            return -1;
        }
        done += (size_t)w;
        for (int i = 0; i < 2; i++) {   /* skip what was written */
            size_t k = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;
            iov[i].iov_base = (char *)iov[i].iov_base + k;
            iov[i].iov_len -= k;
            w -= (ssize_t)k;
        }
    }
    if (s->sync && fdatasync(s->wfd) != 0)
        return -1;
    return 0;
}

int hp_spool_append(struct hp_spool *s, const void *data, size_t len)
{
    uint64_t need = HP_SPOOL_HDR + (uint64_t)len;
    if (len > HP_SPOOL_REC_MAX || need > s->max_bytes) {
        errno = EMSGSIZE;
        return -1;
    }
    uint8_t hdr[HP_SPOOL_HDR];
    hp_spool_header(hdr, data, len);
    pthread_mutex_lock(&s->mu);
    int rc = -1;
    if (s->total + need > s->max_bytes) {
        errno = ENOSPC;
        goto out;
    }
    if (s->segs[s->nsegs - 1].size >= s->seg_max && rotate(s) != 0)
        goto out;
    if (write_record(s, hdr, data, len) != 0)
        goto out;
    s->segs[s->nsegs - 1].size += need;
    s->total += need;
    s->backlog_bytes += need;
    s->backlog_records++;
    rc = 0;
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Drop the oldest segment when it is read to its end and a newer one exists; lock held. */
static void drop_read_segments(struct hp_spool *s)
{
    while (s->nsegs > 1 && s->rd_off >= s->segs[0].size) {
        char path[PATH_MAX + 64];
        seg_path(s, s->segs[0].no, path, sizeof(path));
        if (unlink(path) != 0 && errno != ENOENT)
            hp_warn("spool: cannot remove %s: %s", path, strerror(errno));
        s->total -= s->segs[0].size;
        memmove(s->segs, s->segs + 1, (s->nsegs - 1) * sizeof(*s->segs));
        s->nsegs--;
        s->rd_off = 0;
        ack_save(s);
    }
}

static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* A record that does not parse where the list says one is: the rest of the
 * segment is lost (loudly); appends continue in a fresh segment. */
static void cut_damaged(struct hp_spool *s, uint64_t no, uint64_t off)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nsegs; i++) {
        struct seg *g = &s->segs[i];
        if (g->no != no || off >= g->size)
            continue;
        uint64_t lost = g->size - off;
        hp_error("spool: %s/seg-%016" PRIx64 ".spool is damaged at offset %" PRIu64
                 "; the %" PRIu64 " bytes after it cannot be shipped", s->dir, no, off, lost);
        g->size = off;
        s->total -= lost;
        s->backlog_bytes -= lost < s->backlog_bytes ? lost : s->backlog_bytes;
        if (i == s->nsegs - 1)
            rotate(s);
        break;
    }
    pthread_mutex_unlock(&s->mu);
}

void hp_spool_rewind(struct hp_spool *s)
{
    pthread_mutex_lock(&s->mu);
    s->pk_no = s->segs[0].no;
    s->pk_off = s->rd_off;
    pthread_mutex_unlock(&s->mu);
}

/* Where the next unread record is: false when there is none; lock held. */
static bool peek_position(struct hp_spool *s, uint64_t *no, uint64_t *off, uint64_t *size)
{
    size_t i = 0;
    while (i < s->nsegs && s->segs[i].no != s->pk_no)
        i++;
    if (i == s->nsegs) {      /* never rewound, or its segment is gone */
        i = 0;
        s->pk_no = s->segs[0].no;
        s->pk_off = s->rd_off;
    }
    while (s->pk_off >= s->segs[i].size) {
        if (i + 1 == s->nsegs)
            return false;
        i++;
        s->pk_no = s->segs[i].no;
        s->pk_off = 0;
    }
    *no = s->pk_no;
    *off = s->pk_off;
    *size = s->segs[i].size;
    return true;
}

int hp_spool_next(struct hp_spool *s, struct hp_buf *out, size_t *reclen)
{
    uint64_t no, off, size;
    pthread_mutex_lock(&s->mu);
    bool any = peek_position(s, &no, &off, &size);
    pthread_mutex_unlock(&s->mu);
    if (!any)
        return 0;
    if (s->rfd < 0 || s->rfd_no != no) {
        char path[PATH_MAX + 64];
        seg_path(s, no, path, sizeof(path));
        if (s->rfd >= 0)
            close(s->rfd);
        s->rfd = open(path, O_RDONLY | O_CLOEXEC);
        s->rfd_no = no;
        if (s->rfd < 0)
            return -1;
    }
    uint8_t hdr[HP_SPOOL_HDR];
    if (size - off < HP_SPOOL_HDR || pread_all(s->rfd, hdr, sizeof(hdr), off) != 0)
        goto damaged;
    struct hp_rd r;
    hp_rd_init(&r, hdr, sizeof(hdr));
    hp_rd_skip(&r, 4);
    uint32_t n = hp_rd_u32le(&r);
    if (memcmp(hdr, spool_magic, 4) != 0 || n > size - off - HP_SPOOL_HDR)
        goto damaged;
    hp_buf_reset(out);
    if (!hp_buf_reserve(out, HP_SPOOL_HDR + n) || !hp_buf_put(out, hdr, HP_SPOOL_HDR))
        return -1;
    if (pread_all(s->rfd, out->data + HP_SPOOL_HDR, n, off + HP_SPOOL_HDR) != 0)
        return -1;
    out->len = HP_SPOOL_HDR + n;
    /* Check the whole record the way replay does. */
    const uint8_t *p;
    size_t plen;
    hp_rd_init(&r, out->data, out->len);
    if (hp_spool_parse(&r, &p, &plen) != 1)
        goto damaged;
    hp_buf_consume(out, HP_SPOOL_HDR);
    *reclen = HP_SPOOL_HDR + n;
    pthread_mutex_lock(&s->mu);
    s->pk_off = off + HP_SPOOL_HDR + n;
    pthread_mutex_unlock(&s->mu);
    return 1;
damaged:
    cut_damaged(s, no, off);
    return -1;
}

int hp_spool_ack(struct hp_spool *s, uint64_t bytes, uint64_t records)
{
    pthread_mutex_lock(&s->mu);
    s->backlog_bytes -= bytes <= s->backlog_bytes ? bytes : s->backlog_bytes;
    s->backlog_records -= records <= s->backlog_records ? records : s->backlog_records;
    while (bytes > 0) {
        uint64_t left = s->segs[0].size - s->rd_off;
        if (bytes < left || s->nsegs == 1) {
            s->rd_off += bytes < left ? bytes : left;
            break;
        }
        bytes -= left;
        s->rd_off = s->segs[0].size;
        drop_read_segments(s);
    }
    ack_save(s);
    drop_read_segments(s);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void hp_spool_backlog(struct hp_spool *s, uint64_t *bytes, uint64_t *records)
{
    pthread_mutex_lock(&s->mu);
    *bytes = s->backlog_bytes;
    *records = s->backlog_records;
    pthread_mutex_unlock(&s->mu);
}
