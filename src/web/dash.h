/*
 * dash.h - the web dashboard served from the sensor process (docs/api.md).
 *
 * The dashboard runs in its own thread with its own event_base (evhttp), so
 * a slow query never delays the honeypot's network loop, and reads the
 * SQLite store through its own read-only connection (WAL: readers never
 * block the writer).  It is started by the sensor before privileges are
 * dropped (the listening socket, the token file, the TLS key and the
 * vendored front-end files are opened then) and stopped first at shutdown.
 *
 * Configuration: [dashboard] enabled, bind, port, password, tls, assets
 * (docs/config.md).  Access needs the token (DATA_DIR/dashboard.token,
 * created at first start and printed once in the log) as a Bearer header,
 * or a login (token or password) that sets an HttpOnly SameSite=Strict
 * cookie.
 */
#ifndef HP_DASH_H
#define HP_DASH_H

#include <stddef.h>

struct hp_config;
struct event_base;

/* Start when [dashboard] enabled; 0 (also when disabled) or -1 with err. */
int hp_dash_start(const struct hp_config *cfg, char *err, size_t errlen);
/* Stop the thread, close every client, free everything (no-op when not started). */
void hp_dash_stop(void);

#endif
