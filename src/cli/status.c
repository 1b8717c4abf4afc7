/*
 * status.c - `hanipo status [-c FILE] [--json]`.
 *
 * Reads DATA_DIR/status.json, which the running sensor rewrites every 2 s
 * (src/core/status.c), and prints it as a table, or raw with --json.  The
 * exit status answers "is it running?" for scripts and monitoring: 0 when
 * the file is fresh (< 10 s old) and its pid is alive, 3 otherwise (the
 * message says which: no file, stale file, dead pid), like an LSB init
 * script's status action.  Output members beyond the common counters (an
 * output's own status() members) are printed generically as key=value;
 * members ending in _us are times and shown as an age.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <limits.h>
#include "cli/status.h"
#include "config.h"
#include "core/status.h"
#include "util.h"

#define ST_STALE_US (10LL * 1000000)
#define ST_NOT_RUNNING 3

static void st_usage(FILE *f)
{
    fprintf(f, "usage: hanipo status [-c FILE] [--json]\n"
               "  Health of the running sensor (DATA_DIR/status.json, refreshed every 2 s).\n"
               "  --json   print the raw document\n"
               "Exit status: 0 running, 3 not running or stale.\n");
}

/* "12.3 s ago", "4 min ago", "never" */
static void st_age(int64_t now_us, int64_t t_us, char *out, size_t len)
{
    double s = (double)(now_us - t_us) / 1e6;
    if (t_us <= 0)
        snprintf(out, len, "never");
    else if (s < 120)
        snprintf(out, len, "%.1f s ago", s);
    else if (s < 7200)
        snprintf(out, len, "%.0f min ago", s / 60);
    else
        snprintf(out, len, "%.1f h ago", s / 3600);
}

static long long st_int(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* Members an output reports besides the common counters. */
static void st_details(json_t *o, int64_t now_us)
{
    static const char *const common[] = { "name", "written", "shed", "errors", "queued", "inflight", "oldest_ms" };
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        bool skip = false;
        for (size_t i = 0; i < HP_ARRAY_LEN(common); i++)
            skip |= strcmp(k, common[i]) == 0;
        if (skip)
            continue;
        size_t kl = strlen(k);
        char age[32];
        if (kl > 3 && strcmp(k + kl - 3, "_us") == 0 && json_is_integer(v)) {
            st_age(now_us, json_integer_value(v), age, sizeof(age));
            printf(" %.*s=%s", (int)(kl - 3), k, age);
        } else if (json_is_string(v)) {
            printf(" %s=%s", k, json_string_value(v));   /* our own file; printed as text */
        } else {
            char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            printf(" %s=%s", k, t ? t : "?");
            free(t);
        }
    }
}

static void st_table(json_t *root, int64_t now_us)
{
    char up[32];
    json_t *pr = json_object_get(root, "paused_reason");
    st_age(now_us, st_int(root, "started_us"), up, sizeof(up));
    printf("sensor       %s (pid %lld, version %s)\n", json_string_value(json_object_get(root, "sensor")),
           st_int(root, "pid"), json_string_value(json_object_get(root, "version")));
    printf("started      %s\n", up);
    printf("connections  %lld active, %lld total\n", st_int(root, "connections_active"),
           st_int(root, "connections_total"));
    if (json_is_true(json_object_get(root, "disk_full"))) {
        char since[64];
        st_age(now_us, st_int(root, "disk_full_since_us"), since, sizeof(since));
        printf("disk         FULL since %s: events held in memory, written when space returns\n", since);
    }
    if (json_is_true(json_object_get(root, "accepting")))
        printf("accepting    yes\n");
    else
        printf("accepting    PAUSED (%s)\n", json_is_string(pr) ? json_string_value(pr) : "?");
    printf("\n%-12s %12s %10s %8s %8s  %s\n", "OUTPUT", "WRITTEN", "QUEUED", "SHED", "ERRORS", "DETAILS");
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(root, "outputs"), i, o) {
        /* QUEUED counts the batch the writer holds too: both wait for the receiver */
        printf("%-12s %12lld %10lld %8lld %8lld ", json_string_value(json_object_get(o, "name")),
               st_int(o, "written"), st_int(o, "queued") + st_int(o, "inflight"), st_int(o, "shed"),
               st_int(o, "errors"));
        if (st_int(o, "queued") || st_int(o, "oldest_ms"))   /* a pull output: how far behind */
            printf(" oldest=%.1fs", (double)st_int(o, "oldest_ms") / 1000);
        if (st_int(o, "inflight"))
            printf(" retrying=%lld", st_int(o, "inflight"));
        st_details(o, now_us);
        putchar('\n');
    }
}

/* 0 when the document describes a live, fresh sensor; else prints why and returns 3. */
static int st_judge(json_t *root, const char *path, int64_t now_us)
{
    long long pid = st_int(root, "pid");
    int64_t age = now_us - st_int(root, "now_us");
    if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
        fprintf(stderr, "hanipo: not running: pid %lld from %s is gone (the sensor died without "
                        "cleaning up)\n", pid, path);
        return ST_NOT_RUNNING;
    }
    if (age > ST_STALE_US) {
        fprintf(stderr, "hanipo: stale: %s was last updated %.0f s ago (sensor pid %lld hung?)\n",
                path, (double)age / 1e6, pid);
        return ST_NOT_RUNNING;
    }
    return 0;
}

static int st_show(const char *path, bool raw)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        if (errno == ENOENT || je.line == -1)
            fprintf(stderr, "hanipo: not running (no %s)\n", path);
        else
            fprintf(stderr, "hanipo: not running? %s is unreadable: %s\n", path, je.text);
        return ST_NOT_RUNNING;
    }
    int64_t now = hp_now_us();
    if (raw) {
        json_dumpf(root, stdout, JSON_COMPACT);
        putchar('\n');
    } else {
        st_table(root, now);
    }
    int rc = st_judge(root, path, now);
    json_decref(root);
    return rc;
}

int hp_cli_status(int argc, char **argv, const char *default_config)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *conf = default_config;
    bool raw = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': conf = optarg; break;
        case 'j': raw = true; break;
        case 'h': st_usage(stdout); return 0;
        default: st_usage(stderr); return EX_USAGE;
        }
    }
    if (optind < argc) {
        st_usage(stderr);
        return EX_USAGE;
    }
    char err[1024], path[PATH_MAX];
    struct hp_config *cfg = hp_config_load(conf, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "hanipo: %s\n", err);
        return EX_CONFIG;
    }
    snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, HP_STATUS_FILE);
    hp_config_free(cfg);
    return st_show(path, raw);
}
