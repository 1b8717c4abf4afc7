/*
 * clickhouse.c - `hanipo clickhouse init`: create the ClickHouse database and
 * table the [output clickhouse] writer fills (docs/fleet.md).
 *
 *   hanipo clickhouse init [-c FILE] [--print]
 *       one server: DATABASE.TABLE, a MergeTree partitioned by day
 *   hanipo clickhouse init [-c FILE] --cluster NAME [--replicated] [--shard URL]... [--print]
 *       a cluster: TABLE_local on every shard (MergeTree, or ReplicatedMergeTree
 *       with --replicated) and TABLE, a Distributed table over them, which the
 *       sensors write to and reports read (its hot columns are ALIAS columns,
 *       see hot_column()).  The statements go ON CLUSTER
 *       (ClickHouse's distributed DDL, which needs ZooKeeper/Keeper); with
 *       --shard they are sent to each listed server instead, without ON CLUSTER.
 *
 * The table: the common fields as columns, the whole event as JSON text in
 * `data`, and the hot fields reports and the dashboard group by as DEFAULT
 * columns: the sensors send their values, others get them computed from
 * `data` at INSERT (store/chschema.h, hot_column()).  Sorted by (sensor,
 * eventid, ts): nearly every query of a report or the dashboard selects one
 * or a few event types over a time range, and the writer's retry check
 * selects one sensor, so all of them read only their own granules.
 *
 * Upgrading: a table made by an older release (ORDER BY (sensor, ts, uid),
 * no hot columns, or MATERIALIZED ones) gets the missing hot columns added
 * and the others made DEFAULT by running init again (ALTER TABLE ... ADD /
 * MODIFY COLUMN; 18.16 has no ADD COLUMN IF NOT EXISTS, so init asks
 * system.columns what is there).  Its old rows compute them when
 * read until their parts are merged; the sort key cannot change in place
 * (docs/fleet.md: copy into a new table for that).
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
#include "store/chschema.h"
#include "store/clickhouse_conn.h"

#define MAX_SHARDS 64

/* The common fields as columns; the hot columns (store/chschema.h) follow. */
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
    "  data String";

#define MAX_STMTS 4
#define STMT_MAX 16384

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

/* One hot column's definition: a DEFAULT column, so the sensors of this
 * release send its value (computed from the event they just built, which
 * spreads the work over the fleet instead of the one ClickHouse box) and
 * anything else that inserts rows without it (an older sensor, a bulk load
 * of JSONL) gets it computed from `data`.  The Distributed table of a
 * cluster has the same DEFAULT columns: it forwards the values it is given or
 * computes, and the shards take values for DEFAULT columns.  (Tables of
 * earlier releases have MATERIALIZED or, on a Distributed table, ALIAS hot
 * columns; the sensors see that and send rows without them, docs/fleet.md.) */
static void hot_column(struct hp_buf *b, const struct hp_chs_col *c)
{
    hp_buf_printf(b, "%s ", c->name);
    hp_chs_type(b, c);
    hp_buf_puts(b, " DEFAULT ");
    hp_chs_expr(b, c);
}

/* "(common columns, hot columns)" for CREATE TABLE. */
static void table_columns(struct hp_buf *b)
{
    hp_buf_puts(b, columns);
    for (size_t i = 0; i < hp_chs_ncols; i++) {
        hp_buf_puts(b, ",\n  ");
        hot_column(b, &hp_chs_cols[i]);
    }
    hp_buf_puts(b, "\n)");
}

/* The statements, one per entry of out (each NUL-terminated, in order). */
static size_t init_sql(const struct hp_ch_cfg *c, const struct init_opts *o, bool on_cluster,
                       char sql[MAX_STMTS][STMT_MAX])
{
    char oc[200] = "";
    if (o->cluster && on_cluster)
        snprintf(oc, sizeof(oc), " ON CLUSTER %s", o->cluster);
    const char *part = "PARTITION BY day ORDER BY (sensor, eventid, ts)";
    struct hp_buf cols;
    hp_buf_init(&cols, STMT_MAX / 2);
    table_columns(&cols);
    size_t n = 0;
    snprintf(sql[n++], STMT_MAX, "CREATE DATABASE IF NOT EXISTS %s%s", c->database, oc);
    if (!o->cluster) {
        snprintf(sql[n++], STMT_MAX, "CREATE TABLE IF NOT EXISTS %s.%s%s %s\nENGINE = MergeTree %s",
                 c->database, c->table, oc, hp_buf_cstr(&cols), part);
        hp_buf_free(&cols);
        return n;
    }
    char engine[400];
    if (o->replicated)
        snprintf(engine, sizeof(engine),
                 "ReplicatedMergeTree('/clickhouse/tables/{shard}/%s/%s_local', '{replica}')",
                 c->database, c->table);
    else
        snprintf(engine, sizeof(engine), "MergeTree");
    snprintf(sql[n++], STMT_MAX, "CREATE TABLE IF NOT EXISTS %s.%s_local%s %s\nENGINE = %s %s",
             c->database, c->table, oc, hp_buf_cstr(&cols), engine, part);
    hp_buf_reset(&cols);
    table_columns(&cols);
    /* Sharded by batch: one INSERT of one batch lands whole on one shard, so
     * the writer's "is this batch already stored?" check stays exact. */
    snprintf(sql[n++], STMT_MAX,
             "CREATE TABLE IF NOT EXISTS %s.%s%s %s\n"
             "ENGINE = Distributed(%s, %s, %s_local, cityHash64(batch))",
             c->database, c->table, oc, hp_buf_cstr(&cols), o->cluster, c->database, c->table);
    hp_buf_free(&cols);
    return n;
}

/* Bring database.table's hot columns to this release (a table of an older one):
 * ADD the missing ones, MODIFY the MATERIALIZED or ALIAS ones into DEFAULT
 * columns (a metadata change: no row is rewritten). */
static int add_missing(struct hp_ch_conn *k, const struct hp_ch_cfg *c, const char *table, const char *oc)
{
    struct hp_buf q, resp;
    char err[400];
    int rc = 0;
    hp_buf_init(&q, STMT_MAX);
    hp_buf_init(&resp, 1 << 20);
    hp_buf_puts(&q, "SELECT name, default_kind FROM system.columns WHERE database = ");
    hp_ch_sql_str(&q, c->database, strlen(c->database));
    hp_buf_puts(&q, " AND table = ");
    hp_ch_sql_str(&q, table, strlen(table));
    hp_buf_puts(&q, " FORMAT TabSeparated");
    if (hp_ch_query(k, hp_buf_cstr(&q), NULL, NULL, 0, &resp, err, sizeof(err)) != 0) {
        fprintf(stderr, "hanipo: clickhouse init: %s: %s\n", c->url, err);
        rc = 1;
    }
    for (size_t i = 0; rc == 0 && i < hp_chs_ncols; i++) {
        const char *name = hp_chs_cols[i].name, *have = (const char *)hp_buf_cstr(&resp);
        size_t nl = strlen(name);
        const char *kind = NULL;             /* the column's default_kind, if it exists */
        for (const char *p = have; *p; p += strcspn(p, "\n"), p += *p == '\n')
            if (strncmp(p, name, nl) == 0 && p[nl] == '\t')
                kind = p + nl + 1;
        if (kind && strncmp(kind, "DEFAULT", 7) == 0 && (kind[7] == '\n' || kind[7] == '\0'))
            continue;
        hp_buf_reset(&q);
        hp_buf_printf(&q, "ALTER TABLE %s.%s%s %s COLUMN ", c->database, table, oc, kind ? "MODIFY" : "ADD");
        hot_column(&q, &hp_chs_cols[i]);
        if (hp_ch_query(k, hp_buf_cstr(&q), NULL, NULL, 0, NULL, err, sizeof(err)) != 0) {
            fprintf(stderr, "hanipo: clickhouse init: %s: %s\n  statement: %s\n", c->url, err, hp_buf_cstr(&q));
            rc = 1;
        } else {
            printf("%s: %s.%s: %s column %s\n", c->url, c->database, table, kind ? "made DEFAULT the" : "added",
                   name);
        }
    }
    hp_buf_free(&q);
    hp_buf_free(&resp);
    return rc;
}

static int run_on(struct hp_ch_cfg *c, const struct init_opts *o, const char *url, char sql[MAX_STMTS][STMT_MAX],
                  size_t n)
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
    /* then the hot columns an older table lacks: the local tables first, the Distributed one after */
    char local[200], oc[200] = "";
    snprintf(local, sizeof(local), "%s_local", c->table);
    if (o->cluster && !url)
        snprintf(oc, sizeof(oc), " ON CLUSTER %s", o->cluster);
    if (rc == 0 && o->cluster)
        rc = add_missing(k, c, local, oc);
    if (rc == 0)
        rc = add_missing(k, c, c->table, oc);
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
    static char sql[MAX_STMTS][STMT_MAX];
    size_t n = init_sql(&c, &o, o.nshards == 0, sql);
    if (o.print) {
        for (size_t i = 0; i < n; i++)
            printf("%s;\n", sql[i]);
        return 0;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (o.nshards == 0)
        return run_on(&c, &o, NULL, sql, n);
    for (size_t i = 0; i < o.nshards; i++)
        if ((rc = run_on(&c, &o, o.shards[i], sql, n)) != 0)
            return rc;
    return 0;
}
