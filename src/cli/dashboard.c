/*
 * dashboard.c - `hanipo dashboard`: serve only the web dashboard, for a
 * central analysis machine that runs no sensor (docs/fleet.md, docs/api.md).
 *
 *   hanipo dashboard --store clickhouse://... [--listen ADDR:PORT] [-c FILE]
 *
 * It is the sensor's own dashboard (src/web/dash.c: same thread, token,
 * login, TLS, front end) started on its own: the configuration supplies
 * [sensor] data_dir (where dashboard.token lives), [dashboard] and [report]
 * sensor_country, and needs no [service]; --store and --listen override
 * [dashboard] store, bind and port.  Without -c and without a default
 * configuration file, the built-in defaults apply (data_dir /var/lib/hanipo).
 *
 * The main thread only waits for SIGINT/SIGTERM (blocked before the
 * dashboard's thread starts, so that thread never receives them), then stops
 * the dashboard and exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "cli/dashboard.h"
#include "config.h"
#include "event.h"
#include "log.h"
#include "store/chquery.h"
#include "util.h"
#include "web/dash.h"

static void dash_usage(FILE *f)
{
    fprintf(f, "usage: hanipo dashboard [--store clickhouse://[user[:password]@]host[:port]/database]\n"
               "                        [--listen ADDR:PORT] [-c FILE]\n"
               "Serve the web dashboard without a sensor (docs/api.md); over a ClickHouse store it\n"
               "covers every sensor of the fleet.  Stops on SIGINT or SIGTERM.\n"
               "  --store URL         [dashboard] store (a URL with a password is visible to ps:\n"
               "                      prefer [dashboard] store in a file only you can read)\n"
               "  --listen ADDR:PORT  [dashboard] bind and port ([::1]:8787 for IPv6)\n"
               "  -c FILE             configuration: [sensor] data_dir, [dashboard], [report] sensor_country\n");
}

/* "127.0.0.1:8787", "[::1]:8787" -> addr, port.  -1 when malformed. */
static int parse_listen(const char *s, char *addr, size_t addrlen, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    const char *a = s, *ae = colon;
    unsigned char tmp[16];
    if (!colon)
        return -1;
    if (*s == '[') {
        if (colon == s || colon[-1] != ']')
            return -1;
        a = s + 1;
        ae = colon - 1;
    }
    size_t n = (size_t)(ae - a);
    if (n == 0 || n >= addrlen)
        return -1;
    memcpy(addr, a, n);
    addr[n] = '\0';
    if (inet_pton(AF_INET, addr, tmp) != 1 && inet_pton(AF_INET6, addr, tmp) != 1)
        return -1;
    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || p == 0 || p > 65535)
        return -1;
    *port = (uint16_t)p;
    return 0;
}

static struct hp_config *dash_config(const char *path, bool given, char *err, size_t errlen)
{
    if (given || access(path, R_OK) == 0)
        return hp_config_load_flags(path, HP_CONFIG_NO_SERVICES, err, errlen);
    return hp_config_load_string_flags("", "(defaults)", HP_CONFIG_NO_SERVICES, err, errlen);
}

int hp_cli_dashboard(int argc, char **argv, const char *default_config)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "store", required_argument, NULL, 's' },
        { "listen", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *conf = default_config, *store = NULL, *listen = NULL;
    bool given = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': conf = optarg; given = true; break;
        case 's': store = optarg; break;
        case 'l': listen = optarg; break;
        case 'h': dash_usage(stdout); return 0;
        default: dash_usage(stderr); return EX_USAGE;
        }
    }
    if (optind != argc) {
        dash_usage(stderr);
        return EX_USAGE;
    }
    char addr[64], err[1024];
    uint16_t port = 0;
    struct hp_chq_url u;
    if (listen && parse_listen(listen, addr, sizeof(addr), &port) != 0) {
        fprintf(stderr, "hanipo: dashboard: --listen wants ADDR:PORT (127.0.0.1:8787, [::1]:8787)\n");
        return EX_USAGE;
    }
    if (store && hp_chq_parse_url(store, &u, err, sizeof(err)) != 0) {
        fprintf(stderr, "hanipo: dashboard: --store: %s\n", err);
        return EX_USAGE;
    }
    struct hp_config *cfg = dash_config(conf, given, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "hanipo: %s\n", err);
        return EX_CONFIG;
    }
    struct hp_dashboard_cfg *dc = &cfg->dashboard;
    dc->enabled = true;
    if (store) {
        free(dc->store);
        dc->store = hp_xstrdup(store);
    }
    if (listen) {
        free(dc->bind);
        dc->bind = hp_xstrdup(addr);
        dc->port = port;
    }
    enum hp_log_level lvl;
    if (hp_log_parse_level(cfg->log_level, &lvl) == 0)
        hp_log_set_level(lvl);
    hp_event_set_sensor(cfg->sensor_name);
    if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "hanipo: dashboard: cannot create %s: %s\n", cfg->data_dir, strerror(errno));
        hp_config_free(cfg);
        return 1;
    }
    sigset_t set;
    hp_stop_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (hp_dash_start(cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "hanipo: %s\n", err);
        hp_config_free(cfg);
        return 1;
    }
    int sig = 0;
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
        ;                                  /* nothing to reopen: logs go to stderr or log_file as is */
    hp_info("dashboard: signal %d, stopping", sig);
    hp_dash_stop();
    hp_config_free(cfg);
    return 0;
}
