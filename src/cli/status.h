/*
 * status.h - `hanipo status`: the running sensor's health from DATA_DIR/status.json.
 */
#ifndef HP_CLI_STATUS_H
#define HP_CLI_STATUS_H

/* argv[0] is "status".  0 running, 3 not running or stale, 64 usage, 78 config. */
int hp_cli_status(int argc, char **argv, const char *default_config);

#endif
