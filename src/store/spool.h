/*
 * spool.h - a bounded, crash-safe disk queue of opaque records.
 *
 * The ClickHouse output (clickhouse.c) puts every batch here before it
 * returns, and ships records from here, oldest first, deleting them only
 * after the server acknowledged them.  One producer thread appends, one
 * consumer thread peeks and acknowledges; a mutex inside guards the segment
 * list, so the two may run at the same time.
 *
 * On disk: DIR/seg-<16 hex>.spool segment files, append-only, each a run of
 * records
 *
 *     "HPS1" | u32le payload length | u32le CRC-32 of payload | payload
 *
 * and DIR/ack, the consumer's position (segment number, offset, CRC).  A
 * segment is deleted once everything in it is acknowledged.  Opening replays
 * the segments: a record cut short by kill -9 or power loss (bad magic,
 * length past the end, CRC mismatch) ends its segment; the torn tail is
 * truncated away with a warning.  The ack file may lag behind what was really
 * acknowledged (it is not fsynced); the consumer therefore treats records
 * after a restart as "possibly sent" (see clickhouse.c).
 *
 * Bound: the bytes of all segment files, acknowledged parts included, never
 * exceed max_bytes; an append that would is refused (ENOSPC) and the caller
 * keeps the data.  fsync: with 'sync' every append is fdatasync()ed (power
 * loss safe); without, an append survives kill -9 but not a power cut.
 */
#ifndef HP_SPOOL_H
#define HP_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_buf;
struct hp_rd;
struct hp_spool;

#define HP_SPOOL_HDR 12
#define HP_SPOOL_REC_MAX (64u * 1024 * 1024)   /* a longer length is corruption */

/* Open (creating DIR if needed) and replay; 0 or -1 with a message in err. */
int hp_spool_open(struct hp_spool **sp, const char *dir, uint64_t max_bytes, bool sync,
                  char *err, size_t errlen);
void hp_spool_close(struct hp_spool *s);

/* Append one record; 0, or -1 with errno (ENOSPC when it would pass max_bytes,
 * EMSGSIZE when it never could). */
int hp_spool_append(struct hp_spool *s, const void *data, size_t len);

/*
 * The consumer reads ahead without acknowledging: hp_spool_rewind() goes back
 * to the oldest unacknowledged record, each hp_spool_next() copies the next
 * record's payload into out (replacing its contents) and sets *reclen to
 * its size on disk (header included).  next returns 1 for a record, 0 when
 * there is none, -1 on an error (a damaged record is reported and skipped:
 * calling again continues after it).
 */
void hp_spool_rewind(struct hp_spool *s);
int hp_spool_next(struct hp_spool *s, struct hp_buf *out, size_t *reclen);
/* Acknowledge the oldest records: their count and summed *reclen. */
int hp_spool_ack(struct hp_spool *s, uint64_t bytes, uint64_t records);

/* Unacknowledged bytes (headers included) and records. */
void hp_spool_backlog(struct hp_spool *s, uint64_t *bytes, uint64_t *records);

/*
 * Parse one record at the reader's position (the replay and fuzz entry
 * point): 1 with *payload and *len set and the reader advanced past it; 0 at a
 * clean end (nothing left); -1 for a torn or corrupt record (the reader is
 * left where the record started).
 */
int hp_spool_parse(struct hp_rd *r, const uint8_t **payload, size_t *len);
/* Encode a record header for a payload (12 bytes). */
void hp_spool_header(uint8_t hdr[HP_SPOOL_HDR], const void *payload, size_t len);

#endif
