/*
 * status.h - the running sensor's health, in DATA_DIR/status.json for
 * `hanipo status` (src/cli/status.c) and monitoring scripts.
 */
#ifndef HP_STATUS_H
#define HP_STATUS_H

#include <stdint.h>

struct event_base;
struct hp_buf;
struct hp_config;

#define HP_STATUS_FILE "status.json"
#define HP_STATUS_INTERVAL_S 2

/* Write the file now and then every HP_STATUS_INTERVAL_S from a timer on the
 * network loop; 0 or -1 (the sensor runs on without it, the error is logged). */
int  hp_status_start(struct event_base *base, const struct hp_config *cfg);
/* Stop the timer and remove the file: a clean stop is "not running". */
void hp_status_stop(void);
/* The document itself (for tests): one JSON object. */
void hp_status_json(struct hp_buf *out, int64_t started_us);

#endif
