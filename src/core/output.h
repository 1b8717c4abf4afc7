/*
 * output.h - event outputs and the queue between the network loop and them.
 *
 * Outputs never run on the network loop.  Each enabled output gets its own
 * writer thread and its own bounded queue of event references; hp_output_
 * publish() pushes an event to every queue.  Writers take whole batches, so
 * a slow disk costs one syscall per batch, not per event.
 *
 * Back-pressure: when any queue is half full (its high-water mark), or its
 * oldest event has waited 500 ms, the listeners stop accepting
 * (hp_output_congested() turns true) until all queues drain below the
 * low-water marks; past 3/4 of a queue, open connections that keep sending
 * stop being read too (hp_output_pressing(), conn.h); so an overloaded
 * sensor slows down instead of losing events, and what is queued (lost on a crash) stays bounded in time.  Only if a queue is completely full does the publisher wait (a
 * bounded time) and then shed the event; every shed event is counted per
 * output and reported in the log and in the sensor.stats / sensor.stop
 * events.
 *
 * An output is a struct hp_output_ops: open (in the main thread, before
 * privileges are dropped, so files can be created), write (a batch, in the
 * writer thread), tick (about every 200 ms in the writer thread: flush,
 * commit, retention), reopen (SIGHUP), close (flush everything).
 *
 * Pull outputs.  An output may instead take its events from what another
 * output has written (pulls() true after open): the SQLite store ingesting
 * the JSONL files (sqlite.c).  It has no queue, so it never pauses the
 * listeners, sheds or holds events in memory; its thread is woken after
 * every batch another output wrote and runs at SCHED_IDLE, using CPU that
 * nothing else wants, until what it has not stored yet is PULL_URGENT_MS
 * old (output.c): then at normal priority again (where RLIMIT_NICE allows,
 * privs.c), so a sensor that is busy for long still fills it.  At shutdown it stops after the queue outputs,
 * once it has everything they wrote.
 */
#ifndef HP_OUTPUT_H
#define HP_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_buf;
struct hp_event;
struct hp_config;
struct hp_output_cfg;

struct hp_output_ops {
    const char *name;
    /* Wait this long after the first queued event to gather a larger batch
     * (one transaction per batch for databases); 0 writes at once. */
    unsigned batch_delay_ms;
    /* Keys an [output NAME] section may set besides 'enabled' (NULL-terminated);
     * checked when the configuration is loaded, values checked by open(). */
    const char *const *keys;
    /* Validate the values at load time (no I/O); 0 or -1 with "FILE:LINE: ..." in err. */
    int  (*check)(const struct hp_config *cfg, const struct hp_output_cfg *ocfg, char *err, size_t errlen);
    /* Validate keys and open; 0 or -1 with message in err. */
    int  (*open)(void **state, const struct hp_config *cfg, const struct hp_output_cfg *ocfg,
                 char *err, size_t errlen);
    /* Write a batch; return 0, or -1 if nothing could be written (will be retried). */
    int  (*write)(void *state, struct hp_event *const *evs, size_t n);
    void (*tick)(void *state, int64_t now_us);
    void (*reopen)(void *state);
    void (*close)(void *state);
    /* Optional: health beyond the queue counters, for `hanipo status`:
     * append JSON object members without braces, each followed by a comma
     * ("spool_bytes":123,"last_ok_us":...,).  Called from another thread
     * than the writer: read atomics (or take the output's own lock) only. */
    void (*status)(void *state, struct hp_buf *out);
    /* Pull outputs (see above): after open(), whether this instance pulls;
     * then pull() stores what is new (a batch at most) and returns how many
     * events it stored (0: nothing new), or -1 with errno (retried, as a
     * failed write); *lag_ms is how long the oldest event it has not stored
     * has waited (0 when it has everything). */
    bool (*pulls)(void *state);
    int  (*pull)(void *state, int64_t *lag_ms);
};

/* Registry of output kinds (src/store/). */
const struct hp_output_ops *hp_output_find(const char *name);

/* Start the enabled outputs of cfg; 0 or -1 with err. */
int  hp_outputs_start(const struct hp_config *cfg, char *err, size_t errlen);
/* Drain every queue, close outputs, join threads. */
void hp_outputs_stop(void);
/* Publish (takes one reference; the caller's reference is consumed). */
int  hp_output_publish(struct hp_event *e);
bool hp_output_congested(void);
/* An output's queue is over 3/4 full (back under 1/2 to clear): open
 * connections that keep sending are parked (conn.h) before events are shed. */
bool hp_output_pressing(void);
void hp_outputs_reopen(void);
/* Whether the disk floor was crossed (payload bytes should not be written).
 * Outputs that watch the disk report it with hp_output_note_disk(). */
bool hp_output_disk_low(void);
void hp_output_note_disk(bool low);
/* Disk full: when an output's write failed for want of space (ENOSPC,
 * EDQUOT, or almost no free space left), the time it began (hp_now_us), 0
 * when every output writes again; and how many times that happened.  While
 * an output fails its events stay queued in memory (up to [limits]
 * queue_events / queue_bytes, then shed and counted), accepting goes on,
 * and the failed batch is retried until space returns. */
int64_t hp_output_disk_full_since(void);
uint64_t hp_output_disk_full_episodes(void);

/* An in-process subscriber (the dashboard's live feed): called by
 * hp_output_publish() on the publishing thread, for every event, before the
 * outputs' queues; it must be quick and take its own reference.  One tap at
 * a time; NULL removes it.  Events published while it is being removed may
 * still reach it (the caller of set_tap(NULL) waits for that). */
typedef void (*hp_output_tap_fn)(struct hp_event *e, void *arg);
void hp_output_set_tap(hp_output_tap_fn fn, void *arg);

struct hp_output_stats {
    const char *name;
    uint64_t written;
    uint64_t shed;
    uint64_t errors;
    uint64_t queued;
};
size_t hp_outputs_stats(struct hp_output_stats *out, size_t max);
/* For `hanipo status`: a JSON array with one object per output: its status()
 * members, then name, written, shed, errors, queued, inflight (events of the
 * batch the writer is trying to write) and oldest_ms (how long the oldest
 * queued event has waited).  Safe from any thread. */
void hp_outputs_status_json(struct hp_buf *out);

#endif
