/*
 * rollup.h - pre-aggregated counts kept beside the SQLite events table.
 *
 * Reports and the dashboard ask the same questions over and over: top
 * countries, ports, credentials, commands, paths, fingerprints per range.
 * Answering them from the events table means parsing every event's JSON;
 * over millions of events that takes minutes.  So the SQLite writer keeps,
 * in the same transaction as the events themselves, small tables that hold
 * the answers already counted:
 *
 *   timeline(minute, protocol, events, connects, logins)
 *   rollup(dim, hour, key, n, ok, src)       counts per dimension, key and hour
 *   rollup_day(dim, key, day, n, ok, src)    the same per UTC day
 *   first_seen(dim, key, ts, last)           first and last time seen
 *   labels(dim, key, a, b)                   names that go with a key
 *
 * n counts events, ok successful logins, and src is a sketch of the key's
 * distinct sources (hll.h; for dimension 'ip': its destination ports).
 * Hour rows serve short ranges (the dashboard), day rows long ones; day
 * rows are keyed by key first, so a ranking over a week reads each key's
 * few rows in order and needs no sort before grouping.
 *
 * docs/events.md lists the dimensions.  A batch of events is first counted
 * in memory (a burst from one source becomes one row update, not thousands),
 * then merged with one upsert per distinct row.  Keys are cut at
 * HP_ROLLUP_KEY_MAX bytes.  Hour-aligned ranges can be answered from these
 * tables alone; meta 'rollup_complete' says whether they cover every event
 * (a store created before roll-ups existed needs `hanipo rollup --rebuild`).
 */
#ifndef HP_ROLLUP_H
#define HP_ROLLUP_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#define HP_ROLLUP_KEY_MAX 1024
#define HP_ROLLUP_HOUR_US 3600000000LL

struct hp_rollup;
struct hp_event;

/* The tables (CREATE ... IF NOT EXISTS). */
extern const char hp_rollup_schema_sql[];

struct hp_rollup *hp_rollup_new(void);
void hp_rollup_free(struct hp_rollup *r);
/* Count one event (in memory). */
void hp_rollup_add(struct hp_rollup *r, const struct hp_event *e);
void hp_rollup_add_row(struct hp_rollup *r, int64_t ts_us, const char *eventid, const char *protocol,
                       const char *src_ip, int dst_port, const char *json, size_t json_len);
/* Distinct rows counted so far (flush when large). */
size_t hp_rollup_pending(const struct hp_rollup *r);
/* Merge the counts into db (inside the caller's transaction) and reset.  0 / -1. */
int hp_rollup_flush(struct hp_rollup *r, sqlite3 *db);
/* Forget the counts (after a failed transaction was rolled back). */
void hp_rollup_reset(struct hp_rollup *r);

/* Recompute every roll-up from the events table (empties them first).  progress
 * (may be NULL) is called now and then with the rows done.  0, or -1 with err. */
int hp_rollup_rebuild(sqlite3 *db, void (*progress)(void *arg, int64_t done, int64_t total), void *arg,
                      char *err, size_t errlen);
/* Delete roll-up rows before cutoff_us (retention). */
int hp_rollup_expire(sqlite3 *db, int64_t cutoff_us);

#endif
