/*
 * jsonl_follow.h - reading the JSONL output's day files behind its writer.
 *
 * The SQLite store's deferred ingest (sqlite.c, docs/config.md) takes its
 * events from what the JSONL output has already written, not from a queue
 * of its own: the network thread then hands each event to one writer only,
 * and SQLite's share of the work can wait for idle CPU without anything
 * waiting in memory (the lines are on disk, and a crash loses none of them).
 *
 * A follower reads DIR/PREFIX-YYYY-MM-DD.jsonl from a position (day, byte
 * offset), whole lines only: the JSONL writer appends whole lines with
 * writev(), so a line without its newline yet is one being written, and is
 * left for the next call.  At the end of a day's file it moves to the next
 * day's file once one exists.  The files are untrusted input (a torn write,
 * a hand-edited file): a line is at most HP_JSONL_LINE_MAX bytes, longer
 * runs are skipped and reported, and hp_jsonl_row() parses a line through
 * the bounds-checked JSON scanner (jsonscan.h).
 */
#ifndef HP_JSONL_FOLLOW_H
#define HP_JSONL_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "event.h"

#define HP_JSONL_LINE_MAX (HP_EVENT_MAX + 1)

/* A place in the day files: the byte offset in DIR/PREFIX-DAY.jsonl. */
struct hp_jsonl_pos {
    char day[11];                 /* "YYYY-MM-DD" */
    uint64_t off;
};

struct hp_jsonl_follow;

/* A follower from pos; NULL only if memory runs out. */
struct hp_jsonl_follow *hp_jsonl_follow_new(const char *dir, const char *prefix, const struct hp_jsonl_pos *pos);
void hp_jsonl_follow_free(struct hp_jsonl_follow *f);

/*
 * The next whole line (without its newline): 1 with *line and *len set (valid
 * until the next call), 0 when there is none yet, -1 on a read error (errno;
 * calling again retries).
 */
int hp_jsonl_follow_next(struct hp_jsonl_follow *f, const char **line, size_t *len);

/* The position after the last line next() returned. */
void hp_jsonl_follow_tell(const struct hp_jsonl_follow *f, struct hp_jsonl_pos *pos);

/* Lines skipped as too long, and bytes of torn lines passed over, so far. */
uint64_t hp_jsonl_follow_skipped(const struct hp_jsonl_follow *f);

/*
 * Where the writer is now: the end of the newest day file (day "" and offset
 * 0 when there is none).  A store that starts following begins here.
 */
void hp_jsonl_follow_end(const char *dir, const char *prefix, struct hp_jsonl_pos *pos);

/* The columns of one event line (sqlite.c's events table). */
struct hp_jsonl_row {
    int64_t ts_us;
    char eventid[64];
    char session[HP_SESSION_ID_LEN + 1];
    char protocol[24];
    char src_ip[HP_IPSTR_LEN];
    int src_port, dst_port;       /* -1: absent */
};

/*
 * Parse a line's columns: "timestamp" (the builder's form, 2026-12-07T21:11:29.389308Z),
 * "eventid", and, for connection events, "session", "protocol", "src_ip",
 * "src_port", "dst_port".  0, or -1 if the line is not an event object with
 * a valid timestamp and eventid.
 */
int hp_jsonl_row(const char *line, size_t len, struct hp_jsonl_row *row);

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" (exactly) -> microseconds since the epoch; -1 if malformed. */
int64_t hp_jsonl_parse_ts(const char *s, size_t n);

#endif
