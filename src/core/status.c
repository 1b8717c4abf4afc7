/*
 * status.c - DATA_DIR/status.json, rewritten every 2 s by the network thread.
 *
 * The sensor has no control socket: its state is published as a small file
 * that `hanipo status`, monitoring checks and humans read.  The file is
 * written to a temporary name and renamed over the old one, so a reader
 * sees either the previous or the new document, never half of one.  It is
 * 0640 like the event logs (it names the outputs and their receivers' health,
 * nothing more).  The reader judges freshness from "now_us" and the pid: a
 * sensor killed with -9 leaves a file that goes stale; a clean stop removes it.
 *
 * Accepting is reported from the same two conditions listener.c pauses on
 * (the global connection cap, output back-pressure).
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buf.h"
#include "config.h"
#include "json.h"
#include "log.h"
#include "output.h"
#include "sensor.h"
#include "status.h"
#include "util.h"

#define STATUS_MAX (256 * 1024)

static struct event *status_timer;
static int64_t status_started_us;
static char status_path[PATH_MAX];
static char status_tmp[PATH_MAX];
static struct hp_ratelimit status_rl;

static const char *pause_reason(const struct hp_config *cfg)
{
    if (hp_sensor.active >= cfg->max_connections)
        return "max_connections";
    if (hp_output_congested())
        return "outputs";
    return NULL;
}

void hp_status_json(struct hp_buf *out, int64_t started_us)
{
    const struct hp_config *cfg = hp_sensor.cfg;
    const char *why = cfg ? pause_reason(cfg) : NULL;
    hp_buf_printf(out, "{\"pid\":%ld,\"sensor\":", (long)getpid());
    const char *name = cfg && cfg->sensor_name ? cfg->sensor_name : "";
    hp_json_str(out, name, strlen(name));
    hp_buf_printf(out, ",\"version\":\"%s\",\"started_us\":%lld,\"now_us\":%lld,"
                  "\"connections_active\":%llu,\"connections_total\":%llu,\"accepting\":%s,\"paused_reason\":",
                  HP_VERSION, (long long)started_us, (long long)hp_now_us(),
                  (unsigned long long)hp_sensor.active, (unsigned long long)hp_sensor.n.accepted,
                  why ? "false" : "true");
    hp_buf_puts(out, why ? (strcmp(why, "outputs") == 0 ? "\"outputs\"" : "\"max_connections\"") : "null");
    int64_t full = hp_output_disk_full_since();
    hp_buf_printf(out, ",\"disk_full\":%s,\"disk_full_since_us\":%lld,\"disk_full_episodes\":%llu",
                  full ? "true" : "false", (long long)full, (unsigned long long)hp_output_disk_full_episodes());
    hp_buf_puts(out, ",\"outputs\":");
    hp_outputs_status_json(out);
    hp_buf_puts(out, "}\n");
}

/*
 * Disk full: a new temporary file needs blocks the disk no longer has, but
 * status.json already owns its blocks (the document is a few KiB and about
 * the same size each time).  Overwrite it in place, padded with spaces to
 * its old length (JSON allows trailing white space; it may grow into the
 * rest of its last block, which is allocated already), so the condition can
 * still be read by `hanipo status`.  A reader may then, rarely, see a mix of
 * two documents and try again; that is the price of reporting at all.
 */
static int status_write_in_place(const struct hp_buf *b)
{
    int fd = open(status_path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    int rc = -1;
    /* up to the end of its last allocated block: growing into it takes no space */
    if (fstat(fd, &st) == 0 && (b->len <= (size_t)st.st_size || b->len <= (size_t)st.st_blocks * 512)) {
        char pad[256];
        memset(pad, ' ', sizeof(pad));
        rc = pwrite(fd, b->data, b->len, 0) == (ssize_t)b->len ? 0 : -1;
        for (off_t at = (off_t)b->len; rc == 0 && at < st.st_size;) {
            size_t k = (size_t)(st.st_size - at) < sizeof(pad) ? (size_t)(st.st_size - at) : sizeof(pad);
            if (pwrite(fd, pad, k, at) != (ssize_t)k)
                rc = -1;
            at += (off_t)k;
        }
    }
    close(fd);
    return rc;
}

static int status_write(void)
{
    struct hp_buf b;
    hp_buf_init(&b, STATUS_MAX);
    hp_status_json(&b, status_started_us);
    int rc = -1;
    int fd = open(status_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd >= 0 && hp_buf_ok(&b) && write(fd, b.data, b.len) == (ssize_t)b.len)
        rc = 0;
    int e = errno;
    if (fd >= 0 && close(fd) != 0)
        rc = -1;
    if (rc == 0 && rename(status_tmp, status_path) != 0)
        rc = -1;
    if (rc != 0 && (e == ENOSPC || e == EDQUOT) && hp_buf_ok(&b)) {
        unlink(status_tmp);
        rc = status_write_in_place(&b);
    }
    if (rc != 0 && hp_ratelimit_ok(&status_rl, 60000))
        hp_error("status: cannot write %s: %s", status_path, hp_buf_ok(&b) ? strerror(errno) : "too large");
    hp_buf_free(&b);
    return rc;
}

static void status_cb(evutil_socket_t fd, short what, void *arg)
{
    status_write();
}

int hp_status_start(struct event_base *base, const struct hp_config *cfg)
{
    status_started_us = hp_now_us();
    snprintf(status_path, sizeof(status_path), "%s/%s", cfg->data_dir, HP_STATUS_FILE);
    snprintf(status_tmp, sizeof(status_tmp), "%s/.%s.tmp", cfg->data_dir, HP_STATUS_FILE);
    status_timer = event_new(base, -1, EV_PERSIST, status_cb, NULL);
    struct timeval tv = { HP_STATUS_INTERVAL_S, 0 };
    if (!status_timer || event_add(status_timer, &tv) != 0)
        return -1;
    return status_write();
}

void hp_status_stop(void)
{
    if (!status_timer)
        return;
    event_free(status_timer);
    status_timer = NULL;
    unlink(status_path);
    unlink(status_tmp);
}
