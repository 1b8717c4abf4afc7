/*
 * main.c - the hanipo command line.
 *
 *   hanipo run [-c FILE]             run the sensor in the foreground
 *   hanipo check [-c FILE]           validate a configuration and exit
 *   hanipo payloads [-c FILE] ...    browse captured payloads (payloads.c)
 *   hanipo report [-c FILE] ...      rankings over a time range (report.c)
 *   hanipo status [-c FILE] [--json] health of the running sensor (status.c)
 *   hanipo dashboard --store URL ... the dashboard alone, e.g. over a fleet (dashboard.c)
 *   hanipo version | help
 *
 * Exit codes follow sysexits(3) where one fits: 0 success, 1 run-time
 * failure, 64 usage error, 78 configuration error.
 */
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "config.h"
#include "cli/clickhouse.h"
#include "cli/dashboard.h"
#include "cli/fingerprint.h"
#include "cli/geo.h"
#include "payloads.h"
#include "cli/report.h"
#include "cli/rollup.h"
#include "cli/status.h"
#include "proto.h"
#include "sensor.h"

static const char *default_config(void)
{
    /* A checkout runs with its own etc/; an installed sensor with /etc/hanipo. */
    return access("etc/hanipo.ini", R_OK) == 0 ? "etc/hanipo.ini" : "/etc/hanipo/hanipo.ini";
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hanipo COMMAND [OPTIONS]\n"
            "\n"
            "commands:\n"
            "  run [-c FILE]     run the sensor in the foreground (SIGTERM stops, SIGHUP reopens logs)\n"
            "  check [-c FILE]   validate the configuration and exit\n"
            "  payloads [-c FILE] [list|show SHA|search TEXT]\n"
            "                    browse captured payloads (hanipo payloads --help)\n"
            "  report [-c FILE] [--day D|--since T --until T] [--json|--csv|--markdown|--html] ...\n"
            "                    rankings of a day or range, abuse files (hanipo report --help)\n"
            "  status [-c FILE] [--json]\n"
            "                    health of the running sensor and its outputs (exit 3: not running)\n"
            "  rollup --rebuild [-c FILE]\n"
            "                    recompute the store's roll-up tables from its events\n"
            "  dashboard [-c FILE] [--store clickhouse://...] [--listen ADDR:PORT]\n"
            "                    the web dashboard without a sensor, e.g. over a fleet's ClickHouse\n"
            "  clickhouse init [-c FILE] [--cluster NAME]\n"
            "                    create the ClickHouse tables of [output clickhouse] (docs/fleet.md)\n"
            "  fingerprint FILE  JA3/JA4/JA3S/HASSH of the TCP flows in a pcap/pcapng file\n"
            "  geo IP...         country / ASN of addresses as events get them (hanipo geo --help)\n"
            "  version           print the version\n"
            "  help              this text\n"
            "\n"
            "The configuration defaults to ./etc/hanipo.ini when present, else /etc/hanipo/hanipo.ini.\n"
            "Exit status: 0 ok, 1 run-time failure, 64 usage error, 78 configuration error.\n");
}

static int load_config(int argc, char **argv, struct hp_config **out)
{
    const char *path = NULL;
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': path = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hanipo: unexpected argument '%s'\n", argv[optind]);
        return EX_USAGE;
    }
    if (!path)
        path = default_config();
    char err[1024];
    *out = hp_config_load(path, err, sizeof(err));
    if (!*out) {
        fprintf(stderr, "hanipo: %s\n", err);
        return EX_CONFIG;
    }
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    struct hp_config *cfg;
    int rc = load_config(argc, argv, &cfg);
    if (rc)
        return rc;
    if (cfg->nservices == 0) {             /* only a dashboard configuration may have none */
        fprintf(stderr, "hanipo: %s: no [service NAME] section: nothing to listen on\n", cfg->path);
        hp_config_free(cfg);
        return EX_CONFIG;
    }
    /* SQLite's temporary files (a dashboard query's sort or GROUP BY that
     * outgrows its cache) go to the data directory: once the sandbox is on,
     * the sensor may write nowhere else.  Read when SQLite initialises,
     * which has not happened yet. */
    setenv("SQLITE_TMPDIR", cfg->data_dir, 1);
    rc = hp_sensor_run(cfg);
    hp_config_free(cfg);
    return rc;
}

static int cmd_check(int argc, char **argv)
{
    struct hp_config *cfg;
    int rc = load_config(argc, argv, &cfg);
    if (rc)
        return rc;
    printf("%s: ok (%zu service(s), %zu output(s))\n", cfg->path, cfg->nservices, cfg->noutputs);
    hp_config_free(cfg);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EX_USAGE;
    }
    /* Before any other SQLite call: no memory statistics, which SQLite keeps
     * under a global mutex on every allocation (a few per cent of the event
     * writer's time; nothing here reads them). */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "payloads") == 0)
        return hp_cli_payloads(argc - 1, argv + 1, default_config());
    if (strcmp(cmd, "report") == 0)
        return hp_cli_report(argc - 1, argv + 1, default_config());
    if (strcmp(cmd, "status") == 0)
        return hp_cli_status(argc - 1, argv + 1, default_config());
    if (strcmp(cmd, "rollup") == 0)
        return hp_cli_rollup(argc - 1, argv + 1, default_config());
    if (strcmp(cmd, "dashboard") == 0)
        return hp_cli_dashboard(argc - 1, argv + 1, default_config());
    if (strcmp(cmd, "clickhouse") == 0)
        return hp_cli_clickhouse(argc - 1, argv + 1, default_config());
    if (strcmp(cmd, "fingerprint") == 0)
        return hp_cli_fingerprint(argc - 1, argv + 1);
    if (strcmp(cmd, "geo") == 0)
        return hp_cli_geo(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("hanipo %s\n", HP_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "hanipo: unknown command '%s' (try 'hanipo help')\n", cmd);
    return EX_USAGE;
}
