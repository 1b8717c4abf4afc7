/*
 * dash_int.h - internals shared by the dashboard's files.
 *
 *   dash.c         thread, listener, authentication, static files, dispatch
 *   dash_api.c     the JSON views (SQL over the roll-ups and the events table)
 *   dash_stream.c  the live feed: output tap -> bounded ring -> SSE clients
 *   dash_zip.c     password-protected ("infected") zip of a payload
 *   dash_assets.c  the front end (web/) compiled into the binary
 *   dash_query.c   query-string parsing (dash_query.h)
 *   dash_ch.c      the same views over a fleet's ClickHouse store
 */
#ifndef HP_DASH_INT_H
#define HP_DASH_INT_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "web/dash_query.h"

struct evhttp_request;
struct hp_event;
struct hp_dash_stream;
struct event_base;

/* ---- API views (dash_api.c) ------------------------------------------------ */

/* Environment of a view: the store and where payloads/recordings live. */
struct hp_dapi_env {
    sqlite3 *db;                  /* read-only connection; NULL: no store */
    const char *data_dir;
};

/* Build the JSON of a view ("overview", "credentials", "sessions", "web",
 * "fingerprints", "payloads", "top", "session/<id>", "payload/<sha256>/hex").
 * NULL with *status (400, 404, 503) and a message in err on failure. */
json_t *hp_dapi_view(const struct hp_dapi_env *env, const char *view, const struct hp_dq *q, int *status,
                     char *err, size_t errlen);

/* The asciicast of a session (path from its log.closed event, checked to be
 * inside data_dir); malloc'd bytes, or NULL with *status. */
char *hp_dapi_cast(const struct hp_dapi_env *env, const char *session, const struct hp_dq *q, size_t *len,
                   int *status, char *err, size_t errlen);

/* A stored payload as a zip encrypted with the password "infected". */
unsigned char *hp_dapi_payload_zip(const struct hp_dapi_env *env, const char *sha256, size_t *len, int *status,
                                   char *err, size_t errlen);

/* True for 64 lowercase hex digits; for 12 (a session id) with n = 12. */
bool hp_dapi_is_hex(const char *s, size_t n);

/* Ranking rows of dimension dim: add what data/knowledge/ names a key by
 * ("name" of a CVE: "product: short name"; "service" of a port), the same
 * for the SQLite and the ClickHouse views. */
void hp_dapi_name_rows(const char *dim, json_t *rows);

/* Payload ranking rows ({"key": sha256, ...}): add "stored" (and "size")
 * for the files this machine's data_dir still holds. */
void hp_dapi_mark_stored(json_t *rows, const char *data_dir);

/* ---- the views over ClickHouse (dash_ch.c) ------------------------------------------------- */

struct hp_dch;
/* A fleet store (clickhouse://... as [report] store); sensor_country as [report] sensor_country.
 * Opens no connection yet.  NULL with err (never quoting the URL's credentials). */
struct hp_dch *hp_dch_new(const char *store, const char *sensor_country, char *err, size_t errlen);
void hp_dch_free(struct hp_dch *c);
/* As hp_dapi_view (session/<id>, overview, ... but no payload hex), every sensor, sensor= honoured. */
json_t *hp_dch_view(struct hp_dch *c, const char *data_dir, const char *view, const struct hp_dq *q, int *status,
                    char *err, size_t errlen);
/* The names of the sensors in the store, sorted. */
json_t *hp_dch_sensor_list(struct hp_dch *c, int *status, char *err, size_t errlen);

/* ---- zip (dash_zip.c) ------------------------------------------------------------- */

/* One file 'name' with data, deflated and encrypted with traditional PKWARE
 * encryption ("ZipCrypto", what malware repositories use with "infected").
 * malloc'd archive; NULL on failure. */
unsigned char *hp_zip_encrypted(const char *name, const void *data, size_t len, const char *password,
                                size_t *outlen);

/* ---- the live feed (dash_stream.c) ------------------------------------------------- */

struct hp_dash_stream *hp_stream_new(struct event_base *base);
void hp_stream_free(struct hp_dash_stream *s);
/* Take over an authenticated GET /api/stream request whose output headers are set (its
 * Content-Type included); false, req untouched, when CLIENTS_MAX browsers are watching. */
bool hp_stream_attach(struct hp_dash_stream *s, struct evhttp_request *req);
/* Are all the live-feed slots taken (attach would refuse)? */
bool hp_stream_full(struct hp_dash_stream *s);
/* A compact summary of an event for the feed (JSON text, malloc'd). */
char *hp_stream_summary(const char *json, size_t len);
void hp_stream_stats(struct hp_dash_stream *s, uint64_t *clients, uint64_t *dropped_ring,
                     uint64_t *dropped_slow, uint64_t *sent);

/* ---- embedded front end (dash_assets.c) ---------------------------------------------- */

struct hp_asset {
    const char *path;             /* "/", "/app.js", ... */
    const char *type;             /* Content-Type */
    const char *data;
    size_t len;
    bool public;                  /* served without authentication (login page, its CSS) */
};
const struct hp_asset *hp_asset_find(const char *path);

#endif
