/*
 * dashboard.h - `hanipo dashboard`: the web dashboard alone, without a sensor.
 */
#ifndef HP_CLI_DASHBOARD_H
#define HP_CLI_DASHBOARD_H

/* argv[0] is "dashboard".  Runs until SIGINT/SIGTERM: 0, 1 failure, 64 usage, 78 config. */
int hp_cli_dashboard(int argc, char **argv, const char *default_config);

#endif
