/*
 * jsonl.c - JSON-lines output: one file per UTC day, whole lines or nothing.
 *
 * Files are <dir>/<prefix>-YYYY-MM-DD.jsonl.  A batch is written with
 * writev() straight from the events (no copy).  Durability after kill -9
 * comes from writing each batch as soon as the writer thread takes it (the
 * page cache survives the process); a short or failed write is undone with
 * ftruncate() back to the last whole line and the batch is retried, so a
 * reader never sees half a line and an event is never written twice.
 * 'fsync = true' adds fdatasync() every tick for power-loss durability.
 *
 * Retention: files older than [sensor] retention_days are deleted hourly.
 * SIGHUP (logrotate) sets a flag; the writer reopens the file before its next
 * write.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "config.h"
#include "event.h"
#include "jsonl.h"
#include "log.h"
#include "output.h"
#include "util.h"

#define IOV_BATCH 512     /* events per writev (two iovecs each) */

struct jsonl {
    char dir[PATH_MAX];
    char prefix[64];
    bool fsync;
    uint64_t retention_days;
    int fd;
    char day[11];          /* day of the open file */
    off_t size;            /* end of the last whole line */
    bool dirty;            /* written since last fdatasync */
    _Atomic bool reopen;
    /* A batch that failed part-way (at a day boundary) is retried from here. */
    const struct hp_event *resume_batch;
    size_t resume_at;
    int64_t next_retention_us;
    struct hp_ratelimit err_rl;
};

/*
 * A write cut short by SIGKILL or power loss can leave a partial last line
 * (Linux may stop a multi-page write at a page boundary on a fatal signal).
 * Before appending, cut the file back to its last newline so the new lines
 * do not glue onto the fragment.
 */
static void jsonl_repair_tail(struct jsonl *j, const char *path)
{
    char buf[4096];
    off_t end = j->size;
    while (end > 0) {
        size_t n = end > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)end;
        if (pread(j->fd, buf, n, end - (off_t)n) != (ssize_t)n)
            return;
        const char *nl = memrchr(buf, '\n', n);
        if (nl) {
            end -= (off_t)n - (nl - buf) - 1;
            break;
        }
        end -= (off_t)n;
    }
    if (end == j->size || ftruncate(j->fd, end) != 0)
        return;
    hp_warn("jsonl: %s ended with a partial line (%lld bytes, from an interrupted write); removed it",
            path, (long long)(j->size - end));
    j->size = end;
}

static int jsonl_open_day(struct jsonl *j, const char *day)
{
    char path[PATH_MAX + 100];
    if (j->fd >= 0)
        close(j->fd);
    snprintf(path, sizeof(path), "%s/%s-%s.jsonl", j->dir, j->prefix, day);
    j->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (j->fd < 0) {
        if (hp_ratelimit_ok(&j->err_rl, 10000))
            hp_error("jsonl: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    j->size = fstat(j->fd, &st) == 0 ? st.st_size : 0;
    memcpy(j->day, day, sizeof(j->day));
    jsonl_repair_tail(j, path);
    return 0;
}

static int jsonl_opt(struct jsonl *j, const struct hp_output_cfg *oc, const struct hp_config *cfg,
                     char *err, size_t errlen)
{
    snprintf(j->dir, sizeof(j->dir), "%s/log", cfg->data_dir);
    snprintf(j->prefix, sizeof(j->prefix), "events");
    for (const struct hp_kv *kv = oc->opts; kv; kv = kv->next) {
        int b;
        if (strcmp(kv->key, "dir") == 0) {
            snprintf(j->dir, sizeof(j->dir), "%s", kv->value);
        } else if (strcmp(kv->key, "prefix") == 0 && kv->value[0] && !strchr(kv->value, '/')) {
            snprintf(j->prefix, sizeof(j->prefix), "%s", kv->value);
        } else if (strcmp(kv->key, "fsync") == 0 && hp_parse_bool(kv->value, &b) == 0) {
            j->fsync = b;
        } else {
            snprintf(err, errlen, "%s:%d: [output jsonl]: bad value for %s: '%s'", cfg->path,
                     kv->line, kv->key, kv->value);
            return -1;
        }
    }
    return 0;
}

bool hp_jsonl_location(const struct hp_config *cfg, char *dir, size_t dircap, char *prefix, size_t prefixcap)
{
    char err[256];
    for (size_t i = 0; i < cfg->noutputs; i++) {
        const struct hp_output_cfg *oc = &cfg->outputs[i];
        if (!oc->enabled || strcmp(oc->name, "jsonl") != 0)
            continue;
        struct jsonl j;
        memset(&j, 0, sizeof(j));
        if (jsonl_opt(&j, oc, cfg, err, sizeof(err)) != 0)
            return false;
        snprintf(dir, dircap, "%s", j.dir);
        snprintf(prefix, prefixcap, "%s", j.prefix);
        return true;
    }
    return false;
}

static int jsonl_check(const struct hp_config *cfg, const struct hp_output_cfg *oc, char *err, size_t errlen)
{
    struct jsonl j;
    memset(&j, 0, sizeof(j));
    return jsonl_opt(&j, oc, cfg, err, errlen);
}

static int jsonl_open(void **state, const struct hp_config *cfg, const struct hp_output_cfg *oc,
                      char *err, size_t errlen)
{
    struct jsonl *j = hp_xcalloc(1, sizeof(*j));
    j->fd = -1;
    j->retention_days = cfg->retention_days;
    if (jsonl_opt(j, oc, cfg, err, errlen) != 0) {
        free(j);
        return -1;
    }
    if (mkdir(j->dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "jsonl: cannot create %s: %s", j->dir, strerror(errno));
        free(j);
        return -1;
    }
    char day[11];
    hp_fmt_day(hp_now_us(), day, sizeof(day));
    if (jsonl_open_day(j, day) != 0) {
        snprintf(err, errlen, "jsonl: cannot open a log file in %s: %s", j->dir, strerror(errno));
        free(j);
        return -1;
    }
    *state = j;
    return 0;
}

/* Days since the epoch (UTC): after 1970, two times share a day number exactly
 * when hp_fmt_day gives them one date (before, a date may span two numbers:
 * an extra cut, harmless). */
static int64_t utc_day(int64_t ts_us)
{
    int64_t sec = ts_us / 1000000 - (ts_us % 1000000 < 0);
    return sec / 86400 - (sec % 86400 < 0);
}

/* Write events [0, n) (all of one day) as whole lines; 0 or -1 (undone). */
static int jsonl_write_run(struct jsonl *j, struct hp_event *const *evs, size_t n)
{
    static const char nl = '\n';
    struct iovec iov[2 * IOV_BATCH];
    off_t start = j->size;

    for (size_t i = 0; i < n;) {
        size_t k = 0, want = 0;
        for (; k < IOV_BATCH && i + k < n; k++) {
            iov[2 * k] = (struct iovec){ evs[i + k]->json, evs[i + k]->json_len };
            iov[2 * k + 1] = (struct iovec){ (void *)&nl, 1 };
            want += evs[i + k]->json_len + 1;
        }
        struct iovec *v = iov;
        int vn = (int)(2 * k);
        while (want > 0) {
            ssize_t w = writev(j->fd, v, vn);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                int e = w < 0 ? errno : ENOSPC;    /* no progress: the file system is full */
                if (hp_ratelimit_ok(&j->err_rl, 10000))
                    hp_error("jsonl: write failed: %s (events kept, will retry)", strerror(e));
                if (ftruncate(j->fd, start) == 0)
                    j->size = start;
                errno = e;                /* for the output layer's disk-full report */
                return -1;
            }
            want -= (size_t)w;
            j->size += w;
            /* Advance past what was written. */
            while (vn > 0 && (size_t)w >= v->iov_len) {
                w -= (ssize_t)v->iov_len;
                v++;
                vn--;
            }
            if (vn > 0) {
                v->iov_base = (char *)v->iov_base + w;
                v->iov_len -= (size_t)w;
            }
        }
        i += k;
    }
    j->dirty = true;
    return 0;
}

static int jsonl_write(void *state, struct hp_event *const *evs, size_t n)
{
    struct jsonl *j = state;
    if (atomic_exchange(&j->reopen, false) && j->day[0])
        jsonl_open_day(j, j->day);
    /* Split the batch at day boundaries; skip runs a failed attempt already wrote. */
    size_t i = (n && evs[0] == j->resume_batch) ? j->resume_at : 0;
    j->resume_batch = NULL;
    while (i < n) {
        char day[11];
        hp_fmt_day(evs[i]->h.ts_us, day, sizeof(day));
        size_t k = i + 1;
        while (k < n && utc_day(evs[k]->h.ts_us) == utc_day(evs[i]->h.ts_us))
            k++;                       /* the run of one day, without formatting each date */
        if (((j->fd < 0 || strcmp(day, j->day) != 0) && jsonl_open_day(j, day) != 0) ||
            jsonl_write_run(j, evs + i, k - i) != 0) {
            j->resume_batch = evs[0];
            j->resume_at = i;
            return -1;
        }
        i = k;
    }
    return 0;
}

/* Delete day files older than the retention period. */
static void jsonl_retention(struct jsonl *j, int64_t now_us)
{
    if (!j->retention_days)
        return;
    char cutoff[11];
    hp_fmt_day(now_us - (int64_t)j->retention_days * 86400 * 1000000, cutoff, sizeof(cutoff));
    DIR *d = opendir(j->dir);
    if (!d)
        return;
    size_t plen = strlen(j->prefix);
    for (struct dirent *de; (de = readdir(d));) {
        const char *nm = de->d_name;
        if (strncmp(nm, j->prefix, plen) != 0 || nm[plen] != '-' || strlen(nm) != plen + 17 ||
            strcmp(nm + plen + 11, ".jsonl") != 0)
            continue;
        if (strncmp(nm + plen + 1, cutoff, 10) < 0) {
            char path[PATH_MAX + 300];
            snprintf(path, sizeof(path), "%s/%s", j->dir, nm);
            if (unlink(path) == 0)
                hp_info("jsonl: retention: removed %s", path);
        }
    }
    closedir(d);
}

static void jsonl_tick(void *state, int64_t now_us)
{
    struct jsonl *j = state;
    if (j->fsync && j->dirty && j->fd >= 0) {
        fdatasync(j->fd);
        j->dirty = false;
    }
    if (now_us >= j->next_retention_us) {
        jsonl_retention(j, now_us);
        j->next_retention_us = now_us + 3600LL * 1000000;
    }
}

static void jsonl_reopen(void *state)
{
    struct jsonl *j = state;
    atomic_store(&j->reopen, true);
}

static void jsonl_close(void *state)
{
    struct jsonl *j = state;
    if (j->fd >= 0) {
        fdatasync(j->fd);
        close(j->fd);
    }
    free(j);
}

static const char *const jsonl_keys[] = { "dir", "prefix", "fsync", NULL };

const struct hp_output_ops hp_output_jsonl = {
    .name = "jsonl",
    .keys = jsonl_keys,
    .check = jsonl_check,
    .batch_delay_ms = 10,     /* well inside the promised one second, one writev per batch */
    .open = jsonl_open,
    .write = jsonl_write,
    .tick = jsonl_tick,
    .reopen = jsonl_reopen,
    .close = jsonl_close,
};
