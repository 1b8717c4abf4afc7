/*
 * clickhouse.c - `hanipo clickhouse init`: create the ClickHouse database and
 * table the [output clickhouse] writer fills (docs/fleet.md).
 *
 *   hanipo clickhouse init [-c FILE] [--print]
 *       one server: DATABASE.TABLE, a MergeTree partitioned by day
 *   hanipo clickhouse init [-c FILE] --cluster NAME [--replicated] [--shard URL]... [--print]
 *       a cluster: TABLE_local on every shard (MergeTree, or ReplicatedMergeTree
 *       with --replicated) and TABLE, a Distributed table over them, which the
 *       sensors write to and reports read.  The statements go ON CLUSTER
 *       (ClickHouse's distributed DDL, which needs ZooKeeper/Keeper); with
 *       --shard they are sent to each listed server instead, without ON CLUSTER.
 *
 * Server, credentials, database and table come from the configuration's
 * [output clickhouse] section (clickhouse_conn.h), so init creates exactly
 * what the sensor writes to.  Every statement is IF NOT EXISTS: running init
 * again is harmless.  The SQL is accepted by Debian's ClickHouse 18.16 and by
 * current releases alike.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <curl/curl.h>
#include "buf.h"
#include "cli/clickhouse.h"
#include "config.h"
#include "store/clickhouse_conn.h"

#define MAX_SHARDS 64

static const char *const columns =
    "(\n"
    "  ts Int64,\n"
    "  day Date,\n"
    "  sensor String,\n"
    "  uid String,\n"
    "  eventid String,\n"
    "  session String,\n"
    "  protocol String,\n"
    "  src_ip String,\n"
    "  src_port UInt16,\n"
    "  dst_port UInt16,\n"
    "  batch String,\n"
    "  data String\n"
    ")";

struct init_opts {
    const char *cluster;
    bool replicated;
    bool print;
    const char *shards[MAX_SHARDS];
    size_t nshards;
};

static void ch_usage(FILE *f)
{
    fprintf(f, "usage: hanipo clickhouse init [-c FILE] [--print]\n"
               "       hanipo clickhouse init [-c FILE] --cluster NAME [--replicated] [--shard URL]... [--print]\n"
               "Create the database and table [output clickhouse] writes to (docs/fleet.md).\n"
               "  --cluster NAME  a TABLE_local per shard and a Distributed TABLE over cluster NAME\n"
               "  --replicated    TABLE_local as ReplicatedMergeTree (macros {shard} and {replica})\n"
               "  --shard URL     send the statements to each server URL instead of ON CLUSTER\n"
               "  --print         print the statements; do not connect\n");
}

/* The statements, one per entry of out (each NUL-terminated, in order). */
static size_t init_sql(const struct hp_ch_cfg *c, const struct init_opts *o, bool on_cluster,
                       char sql[4][2048])
{
    char oc[200] = "";
    if (o->cluster && on_cluster)
        snprintf(oc, sizeof(oc), " ON CLUSTER %s", o->cluster);
    const char *part = "PARTITION BY day ORDER BY (sensor, ts, uid)";
    size_t n = 0;
    snprintf(sql[n++], sizeof(sql[0]), "CREATE DATABASE IF NOT EXISTS %s%s", c->database, oc);
    if (!o->cluster) {
        snprintf(sql[n++], sizeof(sql[0]), "CREATE TABLE IF NOT EXISTS %s.%s%s %s\nENGINE = MergeTree %s",
                 c->database, c->table, oc, columns, part);
        return n;
    }
    char engine[400];
    if (o->replicated)
        snprintf(engine, sizeof(engine),
                 "ReplicatedMergeTree('/clickhouse/tables/{shard}/%s/%s_local', '{replica}')",
                 c->database, c->table);
    else
        snprintf(engine, sizeof(engine), "MergeTree");
    snprintf(sql[n++], sizeof(sql[0]), "CREATE TABLE IF NOT EXISTS %s.%s_local%s %s\nENGINE = %s %s",
             c->database, c->table, oc, columns, engine, part);
    /* Sharded by batch: one INSERT of one batch lands whole on one shard, so
     * the writer's "is this batch already stored?" check stays exact. */
    snprintf(sql[n++], sizeof(sql[0]),
             "CREATE TABLE IF NOT EXISTS %s.%s%s AS %s.%s_local\n"
             "ENGINE = Distributed(%s, %s, %s_local, cityHash64(batch))",
             c->database, c->table, oc, c->database, c->table, o->cluster, c->database, c->table);
    return n;
}

static int run_on(struct hp_ch_cfg *c, const char *url, char sql[4][2048], size_t n)
{
    if (url) {
        if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
            strlen(url) >= sizeof(c->url)) {
            fprintf(stderr, "hanipo: clickhouse init: bad --shard URL '%s'\n", url);
            return EX_USAGE;
        }
        snprintf(c->url, sizeof(c->url), "%s", url);
    }
    struct hp_ch_conn *k = hp_ch_conn_new(c);
    if (!k) {
        fprintf(stderr, "hanipo: clickhouse init: cannot initialise libcurl\n");
        return 1;
    }
    char err[400];
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (hp_ch_query(k, sql[i], NULL, NULL, 0, NULL, err, sizeof(err)) != 0) {
            fprintf(stderr, "hanipo: clickhouse init: %s: %s\n  statement: %s\n", c->url, err, sql[i]);
            rc = 1;
        }
    }
    hp_ch_conn_free(k);
    if (rc == 0)
        printf("%s: %s.%s ready\n", c->url, c->database, c->table);
    return rc;
}

static int parse_args(int argc, char **argv, const char **conf, struct init_opts *o)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "cluster", required_argument, NULL, 'C' },
        { "replicated", no_argument, NULL, 'r' },
        { "shard", required_argument, NULL, 's' },
        { "print", no_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': *conf = optarg; break;
        case 'C': o->cluster = optarg; break;
        case 'r': o->replicated = true; break;
        case 'p': o->print = true; break;
        case 's':
            if (o->nshards == MAX_SHARDS)
                return -1;
            o->shards[o->nshards++] = optarg;
            break;
        case 'h': ch_usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (optind != argc || (o->cluster && !hp_ch_ident_ok(o->cluster)) ||
        (!o->cluster && (o->replicated || o->nshards)))
        return -1;
    return 0;
}

int hp_cli_clickhouse(int argc, char **argv, const char *default_config)
{
    if (argc < 2 || strcmp(argv[1], "init") != 0) {
        ch_usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : EX_USAGE;
    }
    const char *conf = default_config;
    struct init_opts o = { 0 };
    if (parse_args(argc - 1, argv + 1, &conf, &o) != 0) {
        ch_usage(stderr);
        return EX_USAGE;
    }
    char err[1024];
    struct hp_config *cfg = hp_config_load(conf, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "hanipo: %s\n", err);
        return EX_CONFIG;
    }
    const struct hp_output_cfg *oc = NULL;
    for (size_t i = 0; i < cfg->noutputs; i++)
        if (strcmp(cfg->outputs[i].name, "clickhouse") == 0)
            oc = &cfg->outputs[i];
    struct hp_ch_cfg c;
    int rc = hp_ch_cfg_parse(&c, cfg, oc, true, err, sizeof(err));
    hp_config_free(cfg);
    if (rc != 0) {
        fprintf(stderr, "hanipo: %s\n", err);
        return EX_CONFIG;
    }
    if (strlen(c.table) > 90) {
        fprintf(stderr, "hanipo: clickhouse init: table name too long for a _local companion\n");
        return EX_CONFIG;
    }
    char sql[4][2048];
    size_t n = init_sql(&c, &o, o.nshards == 0, sql);
    if (o.print) {
        for (size_t i = 0; i < n; i++)
            printf("%s;\n", sql[i]);
        return 0;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (o.nshards == 0)
        return run_on(&c, NULL, sql, n);
    for (size_t i = 0; i < o.nshards; i++)
        if ((rc = run_on(&c, o.shards[i], sql, n)) != 0)
            return rc;
    return 0;
}
