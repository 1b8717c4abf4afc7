/*
 * index.c - payload metadata index in SQLite (see index.h).
 *
 * Every statement is prepared once at open and kept in struct hp_index: the
 * capture worker records arrivals one at a time, and re-parsing SQL for each
 * would cost more than the insert.  Text is bound with SQLITE_TRANSIENT so
 * the caller's strings may go away as soon as a call returns.
 *
 * hp_index_record is one BEGIN IMMEDIATE transaction: read the previous
 * 'stored' flag (to answer is_new), upsert the payload row, append the
 * sources row, commit.  IMMEDIATE takes the write lock up front, so a
 * concurrent reader can never turn the upgrade into SQLITE_BUSY half-way.
 * Any failure rolls the whole arrival back: the counters never drift from
 * the sources rows.
 *
 * The database is opened with SQLITE_OPEN_NOFOLLOW: DATA_DIR is writable by
 * the sensor, and a planted symlink must not redirect our writes.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "index.h"

struct hp_index {
    sqlite3 *db;
    bool readonly;
    sqlite3_stmt *get_stored;   /* stored flag and size of one sha256 (no row: never seen) */
    sqlite3_stmt *upsert;       /* insert or update one payload row */
    sqlite3_stmt *add_source;   /* one sources row */
    sqlite3_stmt *sum_stored;   /* bytes currently stored */
    sqlite3_stmt *oldest;       /* eviction candidate */
    sqlite3_stmt *evict;        /* stored = 0 */
    /* Bytes stored, kept by the writer: summed once at open, then moved by
     * each arrival and eviction.  The quota check runs on every new file, and
     * re-summing would cost O(files stored) each time, O(n^2) over a full store
     * of small files.  A read-only handle sums afresh: another process writes. */
    uint64_t stored_bytes;
};

static const char *const schema_sql =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS payloads("
    " sha256 TEXT PRIMARY KEY, sha1 TEXT, md5 TEXT, size INTEGER,"
    " first_seen INTEGER, last_seen INTEGER,"
    " type TEXT, mime TEXT, kind TEXT, elf_arch TEXT, elf_bits INTEGER, elf_endian TEXT,"
    " interpreter TEXT, family TEXT, rule TEXT,"
    " seen INTEGER DEFAULT 1,"
    " stored INTEGER DEFAULT 1);"
    "CREATE TABLE IF NOT EXISTS sources("
    " sha256 TEXT, ts INTEGER, url TEXT, session TEXT, protocol TEXT, src_ip TEXT, how TEXT);"
    "CREATE INDEX IF NOT EXISTS sources_sha ON sources(sha256);"
    "CREATE INDEX IF NOT EXISTS payloads_last ON payloads(stored, last_seen);";

/* Parameters 1..17 in column order.  A classification field the classifier
 * could not fill ("" or NULL) keeps what an earlier arrival found. */
#define KEEP(c) c " = COALESCE(NULLIF(excluded." c ", ''), " c ")"
static const char *const upsert_sql =
    "INSERT INTO payloads(sha256, sha1, md5, size, first_seen, last_seen, type, mime, kind,"
    " elf_arch, elf_bits, elf_endian, interpreter, family, rule, seen, stored)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 1, 1)"
    " ON CONFLICT(sha256) DO UPDATE SET"
    " last_seen = excluded.last_seen, seen = seen + 1, stored = 1,"
    " size = excluded.size,"
    " sha1 = COALESCE(NULLIF(excluded.sha1, ''), sha1),"
    " md5 = COALESCE(NULLIF(excluded.md5, ''), md5),"
    " " KEEP("type") ", " KEEP("mime") ", " KEEP("kind") ", " KEEP("elf_arch") ","
    " elf_bits = COALESCE(NULLIF(excluded.elf_bits, 0), elf_bits),"
    " " KEEP("elf_endian") ", " KEEP("interpreter") ", " KEEP("family") ", " KEEP("rule");
#undef KEEP

static void ix_err(char *err, size_t errlen, const char *what, sqlite3 *db)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

static int ix_prepare(struct hp_index *ix, sqlite3_stmt **st, const char *sql, char *err, size_t errlen)
{
    if (sqlite3_prepare_v3(ix->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK)
        return 0;
    ix_err(err, errlen, "payload index: prepare", ix->db);
    return -1;
}

static int ix_prepare_all(struct hp_index *ix, char *err, size_t errlen)
{
    if (ix_prepare(ix, &ix->sum_stored,
                   "SELECT COALESCE(SUM(size), 0) FROM payloads WHERE stored = 1", err, errlen) ||
        ix_prepare(ix, &ix->oldest,
                   "SELECT sha256, size FROM payloads WHERE stored = 1"
                   " ORDER BY last_seen, first_seen, sha256 LIMIT 1", err, errlen))
        return -1;
    if (ix->readonly)
        return 0;
    if (ix_prepare(ix, &ix->get_stored, "SELECT stored, size FROM payloads WHERE sha256 = ?1", err, errlen) ||
        ix_prepare(ix, &ix->upsert, upsert_sql, err, errlen) ||
        ix_prepare(ix, &ix->add_source,
                   "INSERT INTO sources(sha256, ts, url, session, protocol, src_ip, how)"
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)", err, errlen) ||
        ix_prepare(ix, &ix->evict,
                   "UPDATE payloads SET stored = 0 WHERE sha256 = ?1 AND stored = 1", err, errlen))
        return -1;
    return 0;
}

/* SUM(size) of the stored rows: O(rows stored), so only at open (writer) or for a reader. */
static uint64_t ix_sum_stored(struct hp_index *ix)
{
    uint64_t total = 0;
    if (sqlite3_step(ix->sum_stored) == SQLITE_ROW) {
        sqlite3_int64 v = sqlite3_column_int64(ix->sum_stored, 0);
        total = v > 0 ? (uint64_t)v : 0;
    }
    sqlite3_reset(ix->sum_stored);
    return total;
}

struct hp_index *hp_index_open(const char *data_dir, bool readonly, char *err, size_t errlen)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s", data_dir, HP_INDEX_FILE);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        snprintf(err, errlen, "payload index: data_dir path too long");
        return NULL;
    }
    struct hp_index *ix = calloc(1, sizeof(*ix));
    if (!ix) {
        ix_err(err, errlen, "payload index", NULL);
        return NULL;
    }
    ix->readonly = readonly;
    int flags = SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX |
                (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path, &ix->db, flags, NULL) != SQLITE_OK) {
        char what[4200];
        snprintf(what, sizeof(what), "payload index: open %s", path);
        ix_err(err, errlen, what, ix->db);
        goto fail;
    }
    sqlite3_busy_timeout(ix->db, 5000);
    /* A read-only handle must not try to change the journal mode or create tables. */
    if (!readonly && sqlite3_exec(ix->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
        ix_err(err, errlen, "payload index: schema", ix->db);
        goto fail;
    }
    if (ix_prepare_all(ix, err, errlen))
        goto fail;
    if (!readonly)
        ix->stored_bytes = ix_sum_stored(ix);
    return ix;
fail:
    hp_index_close(ix);
    return NULL;
}

void hp_index_close(struct hp_index *ix)
{
    if (!ix)
        return;
    sqlite3_finalize(ix->get_stored);
    sqlite3_finalize(ix->upsert);
    sqlite3_finalize(ix->add_source);
    sqlite3_finalize(ix->sum_stored);
    sqlite3_finalize(ix->oldest);
    sqlite3_finalize(ix->evict);
    sqlite3_close(ix->db);
    free(ix);
}

struct sqlite3 *hp_index_db(struct hp_index *ix)
{
    return ix ? ix->db : NULL;
}

bool hp_index_sha256_ok(const char *s)
{
    if (!s)
        return false;
    for (int i = 0; i < 64; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;       /* also stops at a NUL before 64 */
    }
    return s[64] == '\0';
}

/* NULL stays NULL (an upload has no URL); anything else is data, bound as text. */
static int ix_bind_str(sqlite3_stmt *st, int i, const char *s)
{
    if (!s)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* Run a statement that returns no rows; reset it in any case. */
static int ix_step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Size as SQLite's signed 64-bit integer (no payload comes near the limit). */
static sqlite3_int64 ix_size(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)v;
}

static int ix_exec(struct hp_index *ix, const char *sql)
{
    return sqlite3_exec(ix->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Previous state of one sha256: 1 stored, 0 evicted, -2 never seen, -1 error;
 * *size its recorded size (0 when there is no row). */
static int ix_prev_state(struct hp_index *ix, const char *sha256, uint64_t *size)
{
    sqlite3_bind_text(ix->get_stored, 1, sha256, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(ix->get_stored);
    int state = -1;
    *size = 0;
    if (rc == SQLITE_ROW) {
        state = sqlite3_column_int(ix->get_stored, 0) ? 1 : 0;
        sqlite3_int64 v = sqlite3_column_int64(ix->get_stored, 1);
        *size = v > 0 ? (uint64_t)v : 0;
    } else if (rc == SQLITE_DONE)
        state = -2;
    sqlite3_reset(ix->get_stored);
    sqlite3_clear_bindings(ix->get_stored);
    return state;
}

static int ix_upsert(struct hp_index *ix, const struct hp_payload_meta *m)
{
    sqlite3_stmt *st = ix->upsert;
    ix_bind_str(st, 1, m->sha256);
    ix_bind_str(st, 2, m->sha1);
    ix_bind_str(st, 3, m->md5);
    sqlite3_bind_int64(st, 4, ix_size(m->size));
    sqlite3_bind_int64(st, 5, m->ts_us);
    ix_bind_str(st, 6, m->type);
    ix_bind_str(st, 7, m->mime);
    ix_bind_str(st, 8, m->kind);
    ix_bind_str(st, 9, m->elf_arch);
    sqlite3_bind_int(st, 10, m->elf_bits);
    ix_bind_str(st, 11, m->elf_endian);
    ix_bind_str(st, 12, m->interpreter);
    ix_bind_str(st, 13, m->family);
    ix_bind_str(st, 14, m->rule);
    return ix_step_done(st);
}

static int ix_add_source(struct hp_index *ix, const struct hp_payload_meta *m)
{
    sqlite3_stmt *st = ix->add_source;
    ix_bind_str(st, 1, m->sha256);
    sqlite3_bind_int64(st, 2, m->ts_us);
    ix_bind_str(st, 3, m->url);
    ix_bind_str(st, 4, m->session);
    ix_bind_str(st, 5, m->protocol);
    ix_bind_str(st, 6, m->src_ip);
    ix_bind_str(st, 7, m->how);
    return ix_step_done(st);
}

int hp_index_record(struct hp_index *ix, const struct hp_payload_meta *m, bool *is_new)
{
    if (!ix || ix->readonly || !m || !hp_index_sha256_ok(m->sha256))
        return -1;
    if (ix_exec(ix, "BEGIN IMMEDIATE"))
        return -1;
    uint64_t prev_size;
    int prev = ix_prev_state(ix, m->sha256, &prev_size);
    if (prev == -1 || ix_upsert(ix, m) || ix_add_source(ix, m) || ix_exec(ix, "COMMIT")) {
        ix_exec(ix, "ROLLBACK");
        return -1;
    }
    /* Committed: the row now counts m->size, instead of prev_size if it was stored. */
    ix->stored_bytes = ix->stored_bytes - (prev == 1 ? prev_size : 0) + (uint64_t)ix_size(m->size);
    if (is_new)
        *is_new = prev != 1;
    return 0;
}

uint64_t hp_index_stored_bytes(struct hp_index *ix)
{
    if (!ix)
        return 0;
    return ix->readonly ? ix_sum_stored(ix) : ix->stored_bytes;
}

int hp_index_oldest(struct hp_index *ix, char sha256[65], uint64_t *size)
{
    if (!ix)
        return -1;
    int ret = -1;
    if (sqlite3_step(ix->oldest) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(ix->oldest, 0);
        sqlite3_int64 v = sqlite3_column_int64(ix->oldest, 1);
        /* Only a well-formed hash ever leaves here: the caller unlinks by it. */
        if (s && hp_index_sha256_ok(s)) {
            memcpy(sha256, s, 65);
            if (size)
                *size = v > 0 ? (uint64_t)v : 0;
            ret = 0;
        }
    }
    sqlite3_reset(ix->oldest);
    return ret;
}

int hp_index_mark_evicted(struct hp_index *ix, const char *sha256)
{
    if (!ix || ix->readonly || !sha256)
        return -1;
    uint64_t size;
    if (ix_prev_state(ix, sha256, &size) != 1)
        return -1;                  /* unknown, already evicted, or error */
    ix_bind_str(ix->evict, 1, sha256);
    if (ix_step_done(ix->evict) || sqlite3_changes(ix->db) != 1)
        return -1;
    ix->stored_bytes -= size < ix->stored_bytes ? size : ix->stored_bytes;
    return 0;
}
