/*
 * index.h - metadata index of captured payloads: DATA_DIR/payloads.sqlite.
 *
 * The payload bytes live in DATA_DIR/payloads/<sha256> (store.h); this index
 * keeps what we know about each of them (hashes, size, classification, when
 * and how often it arrived) and one 'sources' row per arrival (URL, session,
 * protocol, source address, how it came in).  A record outlives its file:
 * eviction only clears 'stored', so `hanipo payloads` can still tell the
 * operator what was seen.
 *
 * Threading: one writer (the capture worker thread) owns a read-write
 * handle; the CLI opens its own read-only handle.  WAL mode lets the CLI read
 * while the sensor writes; busy_timeout (5 s) absorbs checkpoints.
 *
 * Every string here may come from an attacker (URLs, interpreter names taken
 * from a shebang, ...): they are only ever bound as parameters, never put
 * into SQL text.
 */
#ifndef HP_INDEX_H
#define HP_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sqlite3;

#define HP_INDEX_FILE "payloads.sqlite"

/* What the capture worker knows about one arrival. */
struct hp_payload_meta {
    char sha256[65], sha1[41], md5[33];
    uint64_t size;
    int64_t ts_us;
    const char *url;          /* NULL for uploads */
    const char *session, *protocol, *src_ip, *how;   /* how: "wget", "scp", "sftp", "shell", "mined", ... */
    /* classification (from classify.h; may be "" when unknown) */
    const char *type, *mime, *kind, *elf_arch, *elf_endian, *interpreter, *family, *rule;
    int elf_bits;
};

struct hp_index;

/* Open (readonly=false: create if missing, with the schema) DATA_DIR/payloads.sqlite.
 * Returns NULL and a message in err on failure. */
struct hp_index *hp_index_open(const char *data_dir, bool readonly, char *err, size_t errlen);
void hp_index_close(struct hp_index *ix);

/* Record one arrival: insert or update payloads (first_seen kept, last_seen =
 * ts, seen+1, stored=1, classification refreshed: a field the classifier left
 * empty keeps its previous value), add a sources row.  *is_new (may be NULL)
 * = true when the sha256 was not in the index before, or had been evicted.
 * m->sha256 must be 64 lowercase hex digits (it names a file).  One
 * transaction.  Returns 0 / -1 (read-only handle, bad sha256, SQL error). */
int hp_index_record(struct hp_index *ix, const struct hp_payload_meta *m, bool *is_new);

/* Bytes of payloads currently stored (sum of size where stored=1); 0 on error.
 * O(1) on the writer's handle (a running total: summed at open, then kept by
 * hp_index_record and hp_index_mark_evicted, the only writers); a read-only
 * handle sums the rows on each call, as the sensor writes under it. */
uint64_t hp_index_stored_bytes(struct hp_index *ix);

/* Oldest stored payload by last_seen (ties: first_seen, then sha256): fills
 * sha256/size; returns 0, or -1 when none (or on error).  The caller unlinks
 * the file and calls hp_index_mark_evicted. */
int hp_index_oldest(struct hp_index *ix, char sha256[65], uint64_t *size);

/* stored=0 for sha256.  Returns 0, or -1 when unknown / already evicted / error. */
int hp_index_mark_evicted(struct hp_index *ix, const char *sha256);

/* The underlying connection, for read-only queries (the CLI's list/search). */
struct sqlite3 *hp_index_db(struct hp_index *ix);

/* True if s is exactly 64 lowercase hex digits. */
bool hp_index_sha256_ok(const char *s);

#endif
