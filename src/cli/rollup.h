/*
 * rollup.h - `hanipo rollup --rebuild`: recompute the SQLite store's roll-up
 * tables (src/store/rollup.h) from its events, for a store written before
 * roll-ups existed or filled by another program (bench/report_gen.py).
 */
#ifndef HP_CLI_ROLLUP_H
#define HP_CLI_ROLLUP_H

#include <stddef.h>

struct hp_config;

/* argv[0] is "rollup".  0 ok, 1 failure, 64 usage, 78 config. */
int hp_cli_rollup(int argc, char **argv, const char *default_config);
/* The SQLite store's file: [output sqlite] path, else DATA_DIR/hanipo.sqlite. */
void hp_cli_db_path(const struct hp_config *cfg, char *path, size_t len);

#endif
