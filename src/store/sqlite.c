/*
 * sqlite.c - embedded SQLite store: every event as a row, common fields indexed.
 *
 * Schema (docs/events.md): events(id, ts, eventid, session, protocol, src_ip,
 * src_port, dst_port, data) where ts is microseconds since the epoch (UTC)
 * and data is the whole event JSON.  Indexes on ts, src_ip and (eventid, ts)
 * serve reports and the dashboard, two partial ones its credential searches
 * (sqlite.h).  Every index costs each insert a b-tree descent, so there are
 * no others: a random-keyed one such as session would dirty one page per
 * row and triple the cost of a batch (session lookups go through the time
 * index), and protocol or dst_port alone never select few enough rows to
 * pay for theirs (queries on them name an eventid and a time range).
 * Stores created by earlier versions keep the protocol and dst_port
 * indexes they have.
 *
 * One transaction per batch: the writer thread gathers events for
 * batch_delay_ms, then inserts them all and commits, so a busy sensor makes
 * few large transactions.  WAL with synchronous=NORMAL: a committed batch
 * survives kill -9.  A failed batch is rolled back and retried whole, so
 * rows are never duplicated or half-written.  Retention deletes old rows in
 * small chunks once an hour so readers are never blocked for long.
 *
 * Each batch also updates the roll-up tables (rollup.h) in the same
 * transaction, so the pre-counted answers reports and the dashboard read
 * can never disagree with the events they summarise.
 *
 * Where the events come from ('ingest', docs/config.md).  By default, with
 * the JSONL output on, the store reads what that output has written
 * (jsonl_follow.h) instead of a queue of its own: a pull output (output.h),
 * at idle priority, so under a burst the sensor serves at the rate of its
 * network thread and the store catches up after it.  Its place in the files
 * (day and offset) is committed in the same transaction as the rows, in
 * meta 'ingest_jsonl': after kill -9 it goes on from there, so rows are
 * neither lost nor doubled, and none waits in memory.  A store that has no
 * place yet starts at the end of the newest file.  With 'ingest = direct'
 * (or without JSONL) it takes events from its queue as any output does, and
 * forgets its place, so that following the files again later starts at
 * their end instead of storing the same events twice.
 */
#include <errno.h>
#include <stdatomic.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "event.h"
#include "log.h"
#include "output.h"
#include "hll.h"
#include "jsonl.h"
#include "jsonl_follow.h"
#include "rollup.h"
#include "sqlite.h"
#include "util.h"

/*
 * Rows per INSERT statement.  In stores created before 2026-12 the two
 * credential indexes are partial on an IN list (sqlite.h), which SQLite
 * evaluates through a temporary b-tree built once per execution of a
 * statement: one row per execution cost about 4 us per event in that
 * alone.  A statement of SQ_ROWS rows builds it once for all of them, and
 * binds and steps less in any store; the rest of a batch goes a row at a
 * time.
 */
#define SQ_ROWS 32
#define SQ_COLS 8
/* Ingesting the JSONL files: lines per transaction, and their bytes. */
#define SQ_PULL_LINES 2048
#define SQ_PULL_BYTES (4u << 20)

/* One row of the events table; empty strings are stored as NULL. */
struct sq_row {
    int64_t ts;
    const char *eventid, *session, *protocol, *src_ip;
    int src_port, dst_port;       /* only with a session; -1: NULL */
    const char *json;
    size_t len;
};

struct store_sqlite {
    sqlite3 *db;
    sqlite3_stmt *ins;            /* one row */
    sqlite3_stmt *ins_many;       /* SQ_ROWS rows */
    struct hp_rollup *rollup;     /* counts of the batch being written (rollup.h) */
    uint64_t retention_days;
    int64_t next_retention_us;
    struct hp_ratelimit err_rl;
    /* ingest = jsonl: the follower, the committed place, a batch's lines */
    bool pull;
    char jdir[PATH_MAX], jprefix[64];
    struct hp_jsonl_follow *follow;
    struct hp_jsonl_pos done;     /* committed with the rows */
    sqlite3_stmt *set_pos;
    struct hp_jsonl_row *rows;    /* SQ_PULL_LINES */
    size_t *line_at, *line_len;   /* where each row's line is in arena */
    struct hp_buf arena;
    _Atomic uint64_t skipped;     /* lines that were not events (reported) */
    struct hp_ratelimit skip_rl;
};

static const char *const schema_sql =
    /* 8 KiB pages (a new store only; an existing one keeps its size).  SQLite
     * writes the WAL one page per pwrite(), and an event row is 300-1000
     * bytes: with 4 KiB pages the writer spent about a third of its time in
     * those calls.  8 KiB pages halve them (inserts 15-25% cheaper; 16 KiB
     * pages save a little more).  The dashboard's random row reads take the
     * same time with 4, 8 or 16 KiB pages. */
    "PRAGMA page_size=8192;"
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    /* Temporary b-trees (a statement's IN lists, the retention's id list)
     * stay in memory: they are small, and a file for them would cost
     * system calls on every batch. */
    "PRAGMA temp_store=MEMORY;"
    /* Roll-up rows of the current hours and days stay in the cache. */
    "PRAGMA cache_size=-16384;"
    "CREATE TABLE IF NOT EXISTS events("
    " id INTEGER PRIMARY KEY,"
    " ts INTEGER NOT NULL,"
    " eventid TEXT NOT NULL,"
    " session TEXT,"
    " protocol TEXT,"
    " src_ip TEXT,"
    " src_port INTEGER,"
    " dst_port INTEGER,"
    " data TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_ts ON events(ts);"
    "CREATE INDEX IF NOT EXISTS events_src_ip ON events(src_ip);"
    "CREATE INDEX IF NOT EXISTS events_eventid_ts ON events(eventid, ts);"
    /* Credential searches (dashboard): partial, so only login rows pay for them. */
    "CREATE INDEX IF NOT EXISTS events_login_username ON events(json_extract(data, '$.username'), ts)"
    " WHERE " HP_SQ_LOGIN_WHERE ";"
    "CREATE INDEX IF NOT EXISTS events_login_password ON events(json_extract(data, '$.password'), ts)"
    " WHERE " HP_SQ_LOGIN_WHERE ";"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "INSERT OR IGNORE INTO meta VALUES('schema_version', '1');";

static int sq_exec(struct store_sqlite *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    if (hp_ratelimit_ok(&s->err_rl, 10000))
        hp_error("sqlite: %s", msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return -1;
}

static int sq_check(const struct hp_config *cfg, const struct hp_output_cfg *oc, char *err, size_t errlen)
{
    for (const struct hp_kv *kv = oc->opts; kv; kv = kv->next) {
        if (strcmp(kv->key, "path") == 0 && !kv->value[0]) {
            snprintf(err, errlen, "%s:%d: [output sqlite]: path must not be empty", cfg->path, kv->line);
            return -1;
        }
        if (strcmp(kv->key, "ingest") == 0 && strcmp(kv->value, "jsonl") != 0 && strcmp(kv->value, "direct") != 0) {
            snprintf(err, errlen, "%s:%d: [output sqlite]: ingest must be jsonl or direct, not '%s'", cfg->path,
                     kv->line, kv->value);
            return -1;
        }
    }
    return 0;
}

/* Fewer, larger checkpoints: a page changed by many batches is copied into
 * the database once.  The threshold is in pages; 32 MiB of WAL whatever the
 * store's page size (stores made before 8 KiB pages keep 4 KiB ones). */
static int sq_checkpoint_size(struct store_sqlite *s)
{
    sqlite3_stmt *st;
    int page = 4096;
    if (sqlite3_prepare_v2(s->db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0)
        page = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA wal_autocheckpoint=%d", (32 << 20) / page);
    return sq_exec(s, sql);
}

/* True if the query returns a row. */
static bool sq_any(struct store_sqlite *s, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return false;
    bool any = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return any;
}

/*
 * The roll-up tables.  A store that already has events but no roll-ups (made
 * by an older version) is marked incomplete: reports then read the events
 * table until `hanipo rollup --rebuild` has filled them.
 */
static int sq_rollup_schema(struct store_sqlite *s)
{
    bool had = sq_any(s, "SELECT 1 FROM sqlite_master WHERE name = 'rollup'");
    if (sq_exec(s, hp_rollup_schema_sql) != 0)
        return -1;
    if (had)
        return 0;
    bool events = sq_any(s, "SELECT 1 FROM events LIMIT 1");
    if (events)
        hp_warn("sqlite: this store has events but no roll-ups yet; reports read the events table"
                " (slower) until 'hanipo rollup --rebuild' has run");
    return sq_exec(s, events ? "INSERT OR REPLACE INTO meta VALUES('rollup_complete', '0')"
                             : "INSERT OR REPLACE INTO meta VALUES('rollup_complete', '1')");
}

/* INSERT INTO events(...) VALUES(?,...),... for rows rows. */
static int sq_prepare_insert(sqlite3 *db, int rows, sqlite3_stmt **st)
{
    static const char head[] = "INSERT INTO events(ts,eventid,session,protocol,src_ip,src_port,dst_port,data) VALUES";
    static const char row[] = "(?,?,?,?,?,?,?,?)";
    char sql[sizeof(head) + SQ_ROWS * sizeof(row)];
    size_t off = sizeof(head) - 1;
    memcpy(sql, head, off);
    for (int i = 0; i < rows && i < SQ_ROWS; i++) {
        if (i)
            sql[off++] = ',';
        memcpy(sql + off, row, sizeof(row) - 1);
        off += sizeof(row) - 1;
    }
    sql[off] = '\0';
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK ? 0 : -1;
}

static void sq_free(struct store_sqlite *s)
{
    sqlite3_finalize(s->ins);
    sqlite3_finalize(s->ins_many);
    sqlite3_finalize(s->set_pos);
    hp_rollup_free(s->rollup);
    sqlite3_close(s->db);
    hp_jsonl_follow_free(s->follow);
    free(s->rows);
    free(s->line_at);
    free(s->line_len);
    hp_buf_free(&s->arena);
    free(s);
}

/* "YYYY-MM-DD OFFSET" -> pos; false if malformed. */
static bool sq_parse_pos(const char *v, struct hp_jsonl_pos *pos)
{
    char day[11];
    unsigned long long off;
    char end;
    if (!v || sscanf(v, "%10s %llu%c", day, &off, &end) != 2 || strlen(day) != 10)
        return false;
    memcpy(pos->day, day, sizeof(day));
    pos->off = off;
    return true;
}

/* ingest = jsonl: where to begin (the committed place, else the end of the
 * newest file), the follower, and the batch's buffers. */
static int sq_pull_open(struct store_sqlite *s)
{
    sqlite3_stmt *st;
    const char *v = NULL;
    bool have = false;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'ingest_jsonl'", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = (const char *)sqlite3_column_text(st, 0);
    have = sq_parse_pos(v, &s->done);
    sqlite3_finalize(st);
    if (!have) {
        hp_jsonl_follow_end(s->jdir, s->jprefix, &s->done);
        hp_info("sqlite: storing the events of %s/%s-*.jsonl from %s%s%llu on", s->jdir, s->jprefix,
                s->done.day[0] ? s->done.day : "the first file", s->done.day[0] ? " offset " : ", offset ",
                (unsigned long long)s->done.off);
    }
    if (sqlite3_prepare_v3(s->db, "INSERT OR REPLACE INTO meta VALUES('ingest_jsonl', ?)", -1,
                           SQLITE_PREPARE_PERSISTENT, &s->set_pos, NULL) != SQLITE_OK)
        return -1;
    s->follow = hp_jsonl_follow_new(s->jdir, s->jprefix, &s->done);
    s->rows = calloc(SQ_PULL_LINES, sizeof(*s->rows));
    s->line_at = calloc(SQ_PULL_LINES, sizeof(*s->line_at));
    s->line_len = calloc(SQ_PULL_LINES, sizeof(*s->line_len));
    hp_buf_init(&s->arena, SQ_PULL_BYTES + HP_JSONL_LINE_MAX);
    return s->follow && s->rows && s->line_at && s->line_len ? 0 : -1;
}

static int sq_open(void **state, const struct hp_config *cfg, const struct hp_output_cfg *oc,
                   char *err, size_t errlen)
{
    char path[PATH_MAX];
    bool direct = false;
    snprintf(path, sizeof(path), "%s/hanipo.sqlite", cfg->data_dir);
    for (const struct hp_kv *kv = oc->opts; kv; kv = kv->next) {
        if (strcmp(kv->key, "path") == 0 && kv->value[0]) {
            snprintf(path, sizeof(path), "%s", kv->value);
        } else if (strcmp(kv->key, "ingest") == 0 && strcmp(kv->value, "jsonl") == 0) {
            direct = false;
        } else if (strcmp(kv->key, "ingest") == 0 && strcmp(kv->value, "direct") == 0) {
            direct = true;
        } else {
            snprintf(err, errlen, "%s:%d: [output sqlite]: bad key or value '%s'", cfg->path,
                     kv->line, kv->key);
            return -1;
        }
    }
    struct store_sqlite *s = hp_xcalloc(1, sizeof(*s));
    s->retention_days = cfg->retention_days;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: cannot open %s: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);   /* readers (reports) may hold the lock briefly */
    if (sq_exec(s, schema_sql) != 0 || sq_checkpoint_size(s) != 0 || sq_rollup_schema(s) != 0) {
        snprintf(err, errlen, "sqlite: cannot create schema in %s: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    if (hp_hll_register(s->db) != 0) {
        snprintf(err, errlen, "sqlite: cannot register functions");
        goto fail;
    }
    s->rollup = hp_rollup_new();
    if (sq_prepare_insert(s->db, 1, &s->ins) != 0 || sq_prepare_insert(s->db, SQ_ROWS, &s->ins_many) != 0) {
        snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(s->db));
        goto fail;
    }
    s->pull = !direct && hp_jsonl_location(cfg, s->jdir, sizeof(s->jdir), s->jprefix, sizeof(s->jprefix));
    if ((s->pull ? sq_pull_open(s) : sq_exec(s, "DELETE FROM meta WHERE key = 'ingest_jsonl'")) != 0) {
        snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(s->db));
        goto fail;
    }
    *state = s;
    return 0;
fail:
    sq_free(s);
    return -1;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v && v[0])
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_int_or_null(sqlite3_stmt *st, int i, int v)
{
    if (v >= 0)
        sqlite3_bind_int(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* Bind one row to parameters base+1 .. base+SQ_COLS. */
static void bind_row(sqlite3_stmt *st, int base, const struct sq_row *r)
{
    sqlite3_bind_int64(st, base + 1, r->ts);
    sqlite3_bind_text(st, base + 2, r->eventid, -1, SQLITE_STATIC);
    bind_text_or_null(st, base + 3, r->session);
    bind_text_or_null(st, base + 4, r->protocol);
    bind_text_or_null(st, base + 5, r->src_ip);
    bind_int_or_null(st, base + 6, r->session[0] ? r->src_port : -1);
    bind_int_or_null(st, base + 7, r->session[0] ? r->dst_port : -1);
    sqlite3_bind_text(st, base + 8, r->json, (int)r->len, SQLITE_STATIC);
}

/* Insert n rows (n == 1 or SQ_ROWS) with one statement, in their order. */
static int sq_insert(struct store_sqlite *s, const struct sq_row *rows, size_t n)
{
    sqlite3_stmt *st = n == SQ_ROWS ? s->ins_many : s->ins;
    for (size_t k = 0; k < n; k++)
        bind_row(st, (int)k * SQ_COLS, &rows[k]);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (hp_ratelimit_ok(&s->err_rl, 10000))
        hp_error("sqlite: insert failed: %s (batch kept, will retry)", sqlite3_errmsg(s->db));
    return -1;
}

static void row_of_event(const struct hp_event *e, struct sq_row *r)
{
    *r = (struct sq_row){ e->h.ts_us, e->h.eventid, e->h.session, e->h.protocol, e->h.src_ip,
                          e->h.src_port, e->h.dst_port, e->json, e->json_len };
}

/* Undo a failed batch: the whole transaction and the batch's roll-up counts
 * (the retry adds every event again).  errno tells the output layer whether
 * the disk is full (SQLITE_FULL), so it can report the condition. */
static int sq_fail(struct store_sqlite *s)
{
    int full = (sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_FULL;
    if (!sqlite3_get_autocommit(s->db))
        sq_exec(s, "ROLLBACK");
    hp_rollup_reset(s->rollup);
    errno = full ? ENOSPC : EIO;
    return -1;
}

/* The roll-ups of the transaction, and its commit. */
static int sq_commit(struct store_sqlite *s)
{
    if (hp_rollup_flush(s->rollup, s->db) != 0) {
        if (hp_ratelimit_ok(&s->err_rl, 10000))
            hp_error("sqlite: roll-up update failed: %s (batch kept, will retry)", sqlite3_errmsg(s->db));
        return sq_fail(s);
    }
    if (sq_exec(s, "COMMIT") != 0)
        return sq_fail(s);
    return 0;
}

static int sq_write(void *state, struct hp_event *const *evs, size_t n)
{
    struct store_sqlite *s = state;
    struct sq_row rows[SQ_ROWS];
    if (sq_exec(s, "BEGIN") != 0)
        return sq_fail(s);
    for (size_t i = 0; i < n;) {
        size_t k = n - i >= SQ_ROWS ? SQ_ROWS : 1;
        for (size_t j = 0; j < k; j++)
            row_of_event(evs[i + j], &rows[j]);
        if (sq_insert(s, rows, k) != 0)
            return sq_fail(s);
        for (size_t j = 0; j < k; j++)
            hp_rollup_add(s->rollup, evs[i + j]);
        i += k;
    }
    return sq_commit(s);
}

/* ---- ingest = jsonl ------------------------------------------------------------------ */

static bool sq_pos_eq(const struct hp_jsonl_pos *a, const struct hp_jsonl_pos *b)
{
    return a->off == b->off && strcmp(a->day, b->day) == 0;
}

/* Take up to a batch of lines from the files into the arena; *more: the batch
 * filled up (more lines may wait).  Lines that are not events are counted and
 * passed over.  0, or -1 on a read error with no line taken. */
static int sq_gather(struct store_sqlite *s, size_t *n, bool *more)
{
    const char *line;
    size_t len;
    *n = 0;
    *more = false;
    hp_buf_reset(&s->arena);
    while (*n < SQ_PULL_LINES && s->arena.len < SQ_PULL_BYTES) {
        int r = hp_jsonl_follow_next(s->follow, &line, &len);
        if (r < 0)
            return *n ? 0 : -1;
        if (r == 0)
            return 0;
        if (hp_jsonl_row(line, len, &s->rows[*n]) != 0) {
            uint64_t k = atomic_fetch_add(&s->skipped, 1) + 1;
            if (hp_ratelimit_ok(&s->skip_rl, 60000))
                hp_warn("sqlite: a line of %s/%s-*.jsonl is not an event; not stored (%llu so far)", s->jdir,
                        s->jprefix, (unsigned long long)k);
            continue;
        }
        s->line_at[*n] = s->arena.len;
        s->line_len[*n] = len;
        if (!hp_buf_put(&s->arena, line, len))
            return -1;            /* cannot happen: the arena holds a batch and a line */
        (*n)++;
    }
    *more = true;
    return 0;
}

/* Store rows [0, n) of the gathered batch and the place after them, in one transaction. */
static int sq_store_pulled(struct store_sqlite *s, size_t n, const struct hp_jsonl_pos *pos)
{
    struct sq_row rows[SQ_ROWS];
    char v[40];
    if (sq_exec(s, "BEGIN") != 0)
        return sq_fail(s);
    for (size_t i = 0; i < n;) {
        size_t k = n - i >= SQ_ROWS ? SQ_ROWS : 1;
        for (size_t j = 0; j < k; j++) {
            const struct hp_jsonl_row *r = &s->rows[i + j];
            rows[j] = (struct sq_row){ r->ts_us, r->eventid, r->session, r->protocol, r->src_ip, r->src_port,
                                       r->dst_port, (const char *)s->arena.data + s->line_at[i + j],
                                       s->line_len[i + j] };
        }
        if (sq_insert(s, rows, k) != 0)
            return sq_fail(s);
        for (size_t j = 0; j < k; j++) {
            const struct hp_jsonl_row *r = &s->rows[i + j];
            hp_rollup_add_row(s->rollup, r->ts_us, r->eventid, r->protocol[0] ? r->protocol : NULL, r->src_ip,
                              r->dst_port > 0 ? r->dst_port : 0, rows[j].json, rows[j].len);
        }
        i += k;
    }
    snprintf(v, sizeof(v), "%s %llu", pos->day, (unsigned long long)pos->off);
    sqlite3_bind_text(s->set_pos, 1, v, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s->set_pos);
    sqlite3_reset(s->set_pos);
    if (rc != SQLITE_DONE)
        return sq_fail(s);
    return sq_commit(s);
}

static int sq_pull(void *state, int64_t *lag_ms)
{
    struct store_sqlite *s = state;
    size_t n;
    bool more;
    struct hp_jsonl_pos pos;
    *lag_ms = 0;
    if (!s->follow && !(s->follow = hp_jsonl_follow_new(s->jdir, s->jprefix, &s->done))) {
        errno = ENOMEM;
        return -1;
    }
    if (sq_gather(s, &n, &more) != 0)
        return -1;
    hp_jsonl_follow_tell(s->follow, &pos);
    if (sq_pos_eq(&pos, &s->done))
        return 0;
    if (sq_store_pulled(s, n, &pos) != 0) {
        /* Read again from the committed place: the follower went past these lines. */
        int err = errno;
        hp_jsonl_follow_free(s->follow);
        s->follow = hp_jsonl_follow_new(s->jdir, s->jprefix, &s->done);
        errno = err;
        return -1;
    }
    s->done = pos;
    if (more && n)
        *lag_ms = (hp_now_us() - s->rows[n - 1].ts_us) / 1000;
    return (int)n;
}

static bool sq_pulls(void *state)
{
    return ((struct store_sqlite *)state)->pull;
}

static void sq_status(void *state, struct hp_buf *out)
{
    struct store_sqlite *s = state;
    hp_buf_printf(out, "\"ingest\":\"%s\",", s->pull ? "jsonl" : "direct");
    if (s->pull)
        hp_buf_printf(out, "\"not_events\":%llu,", (unsigned long long)atomic_load(&s->skipped));
}

/* Delete rows older than the retention period, a chunk at a time. */
static void sq_retention(struct store_sqlite *s, int64_t now_us)
{
    char sql[160];
    int64_t cutoff = now_us - (int64_t)s->retention_days * 86400 * 1000000;
    snprintf(sql, sizeof(sql),
             "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE ts < %lld LIMIT 10000)",
             (long long)cutoff);
    int total = 0;
    for (int round = 0; round < 1000; round++) {
        if (sq_exec(s, sql) != 0)
            break;
        int n = sqlite3_changes(s->db);
        total += n;
        if (n < 10000)
            break;
    }
    if (hp_rollup_expire(s->db, cutoff) != 0 && hp_ratelimit_ok(&s->err_rl, 10000))
        hp_error("sqlite: retention of roll-ups failed: %s", sqlite3_errmsg(s->db));
    if (total)
        hp_info("sqlite: retention: removed %d events older than %llu days", total,
                (unsigned long long)s->retention_days);
}

static void sq_tick(void *state, int64_t now_us)
{
    struct store_sqlite *s = state;
    if (s->retention_days && now_us >= s->next_retention_us) {
        sq_retention(s, now_us);
        s->next_retention_us = now_us + 3600LL * 1000000;
    }
}

static void sq_close(void *state)
{
    sq_free(state);
}

static const char *const sqlite_keys[] = { "path", "ingest", NULL };

const struct hp_output_ops hp_output_sqlite = {
    .name = "sqlite",
    .keys = sqlite_keys,
    .check = sq_check,
    .batch_delay_ms = 200,
    .open = sq_open,
    .write = sq_write,
    .tick = sq_tick,
    .close = sq_close,
    .status = sq_status,
    .pulls = sq_pulls,
    .pull = sq_pull,
};
