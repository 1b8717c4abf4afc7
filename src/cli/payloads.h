/*
 * payloads.h - `hanipo payloads`: browse the payload index (DATA_DIR/payloads.sqlite).
 */
#ifndef HP_CLI_PAYLOADS_H
#define HP_CLI_PAYLOADS_H

/* argv[0] is "payloads"; default_config is used when -c is not given.
 * Returns the exit status: 0 ok, 1 not found / no index, 64 usage, 78 configuration. */
int hp_cli_payloads(int argc, char **argv, const char *default_config);

#endif
