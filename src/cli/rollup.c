/*
 * rollup.c - `hanipo rollup --rebuild [-c FILE]` (see rollup.h).
 *
 * The rebuild runs in one write transaction: a sensor writing to the same
 * store waits (its batches are retried, nothing is lost) until it commits.
 */
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "config.h"
#include "rollup.h"
#include "store/rollup.h"
#include "util.h"

void hp_cli_db_path(const struct hp_config *cfg, char *path, size_t len)
{
    snprintf(path, len, "%s/hanipo.sqlite", cfg->data_dir);
    for (size_t i = 0; i < cfg->noutputs; i++) {
        if (strcmp(cfg->outputs[i].name, "sqlite") != 0)
            continue;
        const struct hp_kv *kv = hp_kv_find(cfg->outputs[i].opts, "path");
        if (kv && kv->value[0])
            snprintf(path, len, "%s", kv->value);
    }
}

static void ru_usage(FILE *f)
{
    fprintf(f, "usage: hanipo rollup --rebuild [-c FILE]\n"
               "Recompute the roll-up tables of the SQLite store from its events (reports and the\n"
               "dashboard read them).  Needed once for a store made before roll-ups existed.\n");
}

static void ru_progress(void *arg, int64_t done, int64_t total)
{
    if (*(int *)arg)
        fprintf(stderr, "\rrollup: %lld / %lld events", (long long)done, (long long)total);
}

int hp_cli_rollup(int argc, char **argv, const char *default_config)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "rebuild", no_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *conf = default_config;
    int ch, rebuild = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': conf = optarg; break;
        case 'r': rebuild = 1; break;
        case 'h': ru_usage(stdout); return 0;
        default: ru_usage(stderr); return EX_USAGE;
        }
    }
    if (!rebuild || optind < argc) {
        ru_usage(stderr);
        return EX_USAGE;
    }
    char err[1024], path[4096];
    struct hp_config *cfg = hp_config_load(conf, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "hanipo: %s\n", err);
        return EX_CONFIG;
    }
    hp_cli_db_path(cfg, path, sizeof(path));
    hp_config_free(cfg);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "hanipo: cannot open %s: %s\n", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return 1;
    }
    sqlite3_busy_timeout(db, 30000);
    int tty = isatty(STDERR_FILENO);
    int64_t t0 = hp_mono_ms();
    int rc = hp_rollup_rebuild(db, ru_progress, &tty, err, sizeof(err));
    sqlite3_close(db);
    if (tty)
        fputc('\n', stderr);
    if (rc != 0) {
        fprintf(stderr, "hanipo: rollup: %s\n", err);
        return 1;
    }
    fprintf(stderr, "rollup: rebuilt in %.1f s\n", (double)(hp_mono_ms() - t0) / 1000.0);
    return 0;
}
