/*
 * clickhouse.h - `hanipo clickhouse init`: create the ClickHouse database and
 * tables the [output clickhouse] writer fills (see clickhouse.c, docs/fleet.md).
 */
#ifndef HP_CLI_CLICKHOUSE_H
#define HP_CLI_CLICKHOUSE_H

/* argv[0] is "clickhouse".  0 ok, 1 failure, 64 usage, 78 config. */
int hp_cli_clickhouse(int argc, char **argv, const char *default_config);

#endif
