/*
 * clickhouse.c - [output clickhouse]: events into a ClickHouse table, nothing lost.
 *
 * Two halves joined by a disk spool (spool.h):
 *
 *  - write() (the output's writer thread) turns a batch of events into
 *    RowBinary rows, one row per event with the common fields as columns
 *    and the whole event JSON as the string column 'data', and appends them
 *    to the spool as one record (a "batch", with its own id).  It returns as
 *    soon as the record is on disk, so an outage never stalls the sensor
 *    until the spool is full; then write() fails, the output's queue fills
 *    and the sensor stops accepting (output.h) - it slows down, never drops.
 *
 *  - a shipper thread sends spooled batches oldest first.  It gathers what
 *    has arrived within batch_delay (up to batch_size rows) into one
 *    INSERT, and acknowledges the records to the spool only after ClickHouse
 *    answered 200.  An INSERT of one block is atomic in ClickHouse.  At
 *    close it keeps shipping for up to min(timeout, 5 s) while that works;
 *    whatever is left waits in the spool for the next start.
 *
 * Retries are idempotent without server-side deduplication (the MergeTree of
 * Debian's ClickHouse 18.16 has none): every row carries its batch id.  When
 * the fate of an INSERT is unknown (a timeout, a cut connection, a restart
 * of the sensor whose ack file lags), the shipper first asks which of the
 * batches it is about to send are already in the table and skips those.
 * Batches are sent strictly in order, one INSERT at a time, so once a batch
 * is absent every later one is too, and the check is needed only until the
 * first INSERT after the uncertainty succeeds.
 *
 * Batch record (the spool payload), parsed through struct hp_rd:
 *   u8 version (1) | u8 id length | id | u8 sensor length | sensor |
 *   u32le rows | rows (RowBinary, in the table's column order)
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include "buf.h"
#include "clickhouse.h"
#include "clickhouse_conn.h"
#include "config.h"
#include "event.h"
#include "log.h"
#include "output.h"
#include "reader.h"
#include "spool.h"
#include "store/chschema.h"
#include "store/jsonscan.h"
#include "util.h"

#define REC_BODY_MAX (4u * 1024 * 1024)    /* start a new batch record past this */
#define INSERT_MAX (32u * 1024 * 1024)     /* bytes of rows in one INSERT */
#define IDS_MAX 4096                       /* batches in one INSERT */
#define SHIP_FULL_BYTES (4u * 1024 * 1024) /* backlog worth an INSERT without waiting */
#define BACKOFF_MAX_MS 30000

struct ch_out {
    struct hp_ch_cfg cfg;
    struct hp_spool *spool;
    char sensor[128];
    char run[17];
    uint64_t next_batch;
    struct hp_buf rec;                     /* writer: the record being built */
    struct hp_buf scratch;                 /* writer: hot values being decoded */
    _Atomic bool hot;                      /* the table takes the hot values (shipper found) */
    const struct hp_event *resume_batch;   /* a batch write() stored only part of */
    size_t resume_at;
    struct hp_ratelimit full_rl;
    /* shipper thread */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    bool data;                             /* write() spooled a batch */
    bool full;                             /* the spool holds a full INSERT's worth */
    int64_t drain_until_ms;                /* at close: ship what is left until then */
    /* status, read by other threads */
    _Atomic int64_t last_ok_us;
    _Atomic uint64_t errors, shipped_rows;
    _Atomic bool failing;
    pthread_mutex_t err_mu;
    char last_error[320];
};

/* ---- rows -------------------------------------------------------------- */

/* Append s as the body of a JSON string (for the status op's last_error). */
static void put_json_chars(struct hp_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        hp_buf_put(b, s + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            hp_buf_put(b, e, 2);
        } else {
            char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            hp_buf_put(b, e, 6);
        }
    }
    hp_buf_put(b, s + run, n - run);
}

static void put_le(struct hp_buf *b, uint64_t v, int bytes)
{
    uint8_t o[8];
    for (int i = 0; i < bytes; i++)
        o[i] = (uint8_t)(v >> (8 * i));
    hp_buf_put(b, o, (size_t)bytes);
}

/* A RowBinary length (of a String or an Array): LEB128. */
static void put_leb128(struct hp_buf *b, uint64_t x)
{
    uint8_t v[10];
    size_t k = 0;
    do {
        v[k] = (uint8_t)(x & 0x7f);
        x >>= 7;
        if (x)
            v[k] |= 0x80;
        k++;
    } while (x);
    hp_buf_put(b, v, k);
}

/* A RowBinary String: LEB128 length, then the bytes as they are. */
static void put_string(struct hp_buf *b, const char *s, size_t n)
{
    put_leb128(b, n);
    hp_buf_put(b, s, n);
}

/*
 * RowBinary rather than JSONEachRow: ClickHouse takes it several times
 * faster (no text parsing), and strings are length-prefixed bytes, so an
 * attacker's string needs no escaping at all.  Column order is the table's.
 */
void hp_ch_row(struct hp_buf *b, const struct hp_event *e, const char *sensor, const char *uid,
               const char *batch)
{
    int64_t ts = e->h.ts_us;
    int64_t day = ts >= 0 ? ts / 86400000000LL : 0;
    put_le(b, (uint64_t)ts, 8);
    put_le(b, (uint64_t)(day > 65535 ? 65535 : day), 2);
    put_string(b, sensor, strlen(sensor));
    put_string(b, uid, strlen(uid));
    const char *eid = e->h.eventid ? e->h.eventid : "";
    put_string(b, eid, strlen(eid));
    put_string(b, e->h.session, strnlen(e->h.session, sizeof(e->h.session)));
    put_string(b, e->h.protocol, strnlen(e->h.protocol, sizeof(e->h.protocol)));
    put_string(b, e->h.src_ip, strnlen(e->h.src_ip, sizeof(e->h.src_ip)));
    put_le(b, e->h.src_port, 2);
    put_le(b, e->h.dst_port, 2);
    put_string(b, batch, strlen(batch));
    put_string(b, e->json, e->json_len);
}

/* A string member decoded into the scratch buffer (room for the whole raw value:
 * decoding never lengthens it, so nothing is cut). */
static const char *hot_str(const struct hp_jval *v, struct hp_buf *scratch, size_t *n)
{
    hp_buf_reset(scratch);
    if (!hp_buf_reserve(scratch, v->n + 1)) {
        *n = 0;
        return "";
    }
    *n = hp_jscan_str(v, (char *)scratch->data, v->n + 1);
    return (const char *)scratch->data;
}

/* An element: a RowBinary String, or (joining, sep set) its bare bytes. */
static void hot_put(struct hp_buf *b, const char *s, size_t n, const char *sep)
{
    if (sep)
        hp_buf_put(b, s, n);
    else
        put_string(b, s, n);
}

/* The string elements of a list (a lone string counts as a list of one), each
 * passed to put(); their number.  Other elements are skipped, as the table's
 * DEFAULT expression skips them. */
static size_t hot_list(const struct hp_jval *v, struct hp_buf *b, struct hp_buf *scratch, const char *sep)
{
    size_t count = 0, pos = 0, n;
    struct hp_jval el;
    if (v->type == HP_J_STR) {
        const char *s = hot_str(v, scratch, &n);
        if (b)
            hot_put(b, s, n, sep);
        return 1;
    }
    while (hp_jscan_elem(v, &pos, &el)) {
        if (el.type != HP_J_STR)
            continue;
        if (b) {
            const char *s = hot_str(&el, scratch, &n);
            if (sep && count)
                hp_buf_puts(b, sep);
            hot_put(b, s, n, sep);
        }
        count++;
    }
    return count;
}

/*
 * The hot columns' values (store/chschema.h) in RowBinary, after hp_ch_row():
 * the sensor computes them from the event it just built, so ClickHouse does
 * not run the 22 DEFAULT expressions over the JSON of every row at INSERT
 * (about a quarter of its insert time, on the one box every sensor of a
 * fleet writes to).  Same values as the expressions: NULL for an absent
 * member, "" for a present member that is not a string, the string elements
 * of a list.  Only top-level members count (the expressions would also find
 * a nested one of that name; our events have none).
 */
void hp_ch_row_hot(struct hp_buf *b, const struct hp_event *e, struct hp_buf *scratch)
{
    const char *names[32] = { 0 };
    for (size_t i = 0; i < hp_chs_ncols; i++)
        names[i] = hp_chs_cols[i].name;
    struct hp_jval v[32];
    if (hp_jscan_members(e->json, e->json_len, names, hp_chs_ncols, v) != 0)
        memset(v, 0, sizeof(v));           /* all NONE: NULLs and empty lists */
    for (size_t i = 0; i < hp_chs_ncols; i++) {
        bool absent = v[i].type == HP_J_NONE;
        size_t n;
        const char *s;
        switch (hp_chs_cols[i].kind) {
        case HP_CHS_STR:
            hp_buf_putc(b, absent);
            if (!absent) {
                s = v[i].type == HP_J_STR ? hot_str(&v[i], scratch, &n) : (n = 0, "");
                put_string(b, s, n);
            }
            break;
        case HP_CHS_INT:
            hp_buf_putc(b, absent);
            if (!absent)
                put_le(b, (uint64_t)(hp_jscan_is_int(&v[i]) ? strtoll(v[i].p, NULL, 10) : 0), 8);
            break;
        case HP_CHS_LIST: {
            size_t count = absent ? 0 : hot_list(&v[i], NULL, scratch, NULL);
            put_leb128(b, count);
            if (count)
                hot_list(&v[i], b, scratch, NULL);
            break;
        }
        case HP_CHS_JOINED: {
            hp_buf_putc(b, absent);
            if (absent)
                break;
            struct hp_buf joined;
            hp_buf_init(&joined, e->json_len + 16);
            hot_list(&v[i], &joined, scratch, ", ");
            put_string(b, (const char *)joined.data, joined.len);
            hp_buf_free(&joined);
            break;
        }
        }
    }
}

const char *hp_ch_columns(bool hot)
{
    static char all[1024];
    static const char base[] =
        "ts, day, sensor, uid, eventid, session, protocol, src_ip, src_port, dst_port, batch, data";
    if (!hot)
        return base;
    if (!all[0]) {
        size_t at = (size_t)snprintf(all, sizeof(all), "%s", base);
        for (size_t i = 0; i < hp_chs_ncols && at < sizeof(all); i++)
            at += (size_t)snprintf(all + at, sizeof(all) - at, ", %s", hp_chs_cols[i].name);
    }
    return all;
}

/* ---- batch records ------------------------------------------------------ */

int hp_ch_batch_parse(const void *p, size_t n, struct hp_ch_batch *out)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    uint8_t ver = hp_rd_u8(&r);
    struct hp_rd id, sensor;
    if (!hp_rd_sub8(&r, &id) || !hp_rd_sub8(&r, &sensor))
        return -1;
    uint32_t rows = hp_rd_u32le(&r);
    if (!hp_rd_ok(&r) || hp_rd_left(&id) == 0 || hp_rd_left(&id) >= sizeof(out->id) ||
        hp_rd_left(&sensor) >= sizeof(out->sensor) || (ver != HP_CH_REC_BASE && ver != HP_CH_REC_HOT))
        return -1;
    /* The id goes into SQL: only the characters we make ids of. */
    for (size_t i = 0; i < hp_rd_left(&id); i++) {
        uint8_t c = hp_rd_ptr(&id)[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-'))
            return -1;
    }
    memcpy(out->id, hp_rd_ptr(&id), hp_rd_left(&id));
    out->id[hp_rd_left(&id)] = 0;
    memcpy(out->sensor, hp_rd_ptr(&sensor), hp_rd_left(&sensor));
    out->sensor[hp_rd_left(&sensor)] = 0;
    if (memchr(out->sensor, 0, hp_rd_left(&sensor)))
        return -1;
    out->version = ver;
    out->rows = rows;
    out->body = (const char *)hp_rd_ptr(&r);
    out->body_len = hp_rd_left(&r);
    return 0;
}

/* Start a record: header with a fresh id; the rows follow. */
static void rec_begin(struct ch_out *o, char *id, size_t idcap, bool hot)
{
    snprintf(id, idcap, "%s-%" PRIx64, o->run, o->next_batch++);
    size_t sl = strlen(o->sensor);
    hp_buf_reset(&o->rec);
    hp_buf_putc(&o->rec, hot ? HP_CH_REC_HOT : HP_CH_REC_BASE);
    hp_buf_putc(&o->rec, (uint8_t)strlen(id));
    hp_buf_puts(&o->rec, id);
    hp_buf_putc(&o->rec, (uint8_t)sl);
    hp_buf_put(&o->rec, o->sensor, sl);
    hp_buf_put(&o->rec, "\0\0\0\0", 4);     /* rows, set at the end */
}

static void rec_set_rows(struct ch_out *o, uint32_t rows)
{
    size_t at = 1 + 1 + o->rec.data[1] + 1 + o->rec.data[2 + o->rec.data[1]];
    for (int i = 0; i < 4; i++)
        o->rec.data[at + i] = (uint8_t)(rows >> (8 * i));
}

/* uid as event.c builds it: this run's id, '-', the sequence number. */
static void event_uid(const struct hp_event *e, char *uid)
{
    memcpy(uid, hp_event_run_id(), 16);
    uid[16] = '-';
    uid[17 + hp_fmt_u64(e->h.seq, uid + 17)] = 0;
}

static int ch_write(void *state, struct hp_event *const *evs, size_t n)
{
    struct ch_out *o = state;
    size_t i = (n && evs[0] == o->resume_batch) ? o->resume_at : 0;
    o->resume_batch = NULL;
    while (i < n) {
        char id[64], uid[48];
        bool hot = atomic_load(&o->hot);
        rec_begin(o, id, sizeof(id), hot);
        size_t k = i;
        while (k < n && k - i < o->cfg.batch_rows && o->rec.len < REC_BODY_MAX) {
            event_uid(evs[k], uid);
            hp_ch_row(&o->rec, evs[k], o->sensor, uid, id);
            if (hot)
                hp_ch_row_hot(&o->rec, evs[k], &o->scratch);
            k++;
        }
        rec_set_rows(o, (uint32_t)(k - i));
        if (!hp_buf_ok(&o->rec) || hp_spool_append(o->spool, o->rec.data, o->rec.len) != 0) {
            uint64_t nrl = hp_ratelimit_ok(&o->full_rl, 10000);
            if (nrl) {
                if (errno == ENOSPC)
                    hp_error("clickhouse: spool %s is full (spool_max %" PRIu64 " bytes): the sensor"
                             " holds events in its queue and slows down until ClickHouse takes"
                             " them [%" PRIu64 "x]", o->cfg.spool_dir, o->cfg.spool_max, nrl);
                else
                    hp_error("clickhouse: cannot append to spool %s: %s (events kept, will retry) [%"
                             PRIu64 "x]", o->cfg.spool_dir, strerror(errno), nrl);
            }
            o->resume_batch = evs[0];
            o->resume_at = i;
            return -1;
        }
        i = k;
    }
    uint64_t bb, br;
    hp_spool_backlog(o->spool, &bb, &br);
    pthread_mutex_lock(&o->mu);
    o->data = true;
    o->full = bb >= SHIP_FULL_BYTES;
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
    return 0;
}

/* ---- shipper ------------------------------------------------------------ */

struct ship {
    struct hp_ch_conn *conn;
    struct hp_buf rec, body, sql, resp;
    char ids[IDS_MAX][64];
    char sensors[IDS_MAX][128];
    uint8_t versions[IDS_MAX];
    bool layout_known;             /* the table's columns were asked since the last failure */
    size_t reclen[IDS_MAX];
    size_t body_at[IDS_MAX + 1];   /* where each batch's rows start in body */
    uint32_t rows[IDS_MAX];
    size_t n;
    bool unknown;                  /* the last INSERT's outcome is not known */
};

static void set_error(struct ch_out *o, const char *msg)
{
    atomic_fetch_add(&o->errors, 1);
    pthread_mutex_lock(&o->err_mu);
    snprintf(o->last_error, sizeof(o->last_error), "%s", msg);
    pthread_mutex_unlock(&o->err_mu);
}

/* Sleep up to ms, or until close() asks to finish, or until write() spools
 * a batch (wake_on_data) or the spool holds a full INSERT's worth.  After an
 * INSERT the shipper sleeps batch_delay so that batches gather into few
 * large INSERTs, but not longer than it takes a busy sensor to fill one:
 * waiting on then would only add latency (and, near ClickHouse's insert
 * rate, a backlog that never drains). */
static void ship_wait(struct ch_out *o, int64_t ms, bool wake_on_data)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&o->mu);
    while (!o->stopping && !o->full && !(wake_on_data && o->data))
        if (pthread_cond_timedwait(&o->cv, &o->mu, &ts) != 0)
            break;
    o->data = false;
    o->full = false;
    pthread_mutex_unlock(&o->mu);
}

/* Read ahead up to the INSERT limits; the number of batches gathered. */
static size_t ship_gather(struct ch_out *o, struct ship *s)
{
    s->n = 0;
    hp_buf_reset(&s->body);
    hp_spool_rewind(o->spool);
    uint64_t rows = 0;
    while (s->n < IDS_MAX && rows < o->cfg.batch_rows && s->body.len < INSERT_MAX) {
        size_t reclen;
        int r = hp_spool_next(o->spool, &s->rec, &reclen);
        if (r == 0)
            break;
        if (r < 0) {
            set_error(o, "spool read error");
            break;
        }
        struct hp_ch_batch b;
        if (hp_ch_batch_parse(s->rec.data, s->rec.len, &b) != 0) {
            /* CRC-valid but not ours: acknowledge it away, loudly, so it cannot block the rest. */
            hp_error("clickhouse: spool record of %zu bytes is not a batch; skipped", reclen);
            if (s->n == 0) {
                hp_spool_ack(o->spool, reclen, 1);
                continue;
            }
            break;
        }
        size_t i = s->n++;
        snprintf(s->ids[i], sizeof(s->ids[i]), "%s", b.id);
        snprintf(s->sensors[i], sizeof(s->sensors[i]), "%s", b.sensor);
        s->versions[i] = b.version;
        s->reclen[i] = reclen;
        s->rows[i] = b.rows;
        s->body_at[i] = s->body.len;
        hp_buf_put(&s->body, b.body, b.body_len);
        rows += b.rows;
    }
    s->body_at[s->n] = s->body.len;
    return s->n;
}

/* Which gathered batches are already in the table (a retry after an unknown
 * outcome): present[i] set.  0 or -1 (server unreachable). */
static int ship_check(struct ch_out *o, struct ship *s, bool *present, char *err, size_t errlen)
{
    hp_buf_reset(&s->sql);
    hp_buf_printf(&s->sql, "SELECT DISTINCT batch FROM %s.%s WHERE sensor = ", o->cfg.database,
                  o->cfg.table);
    hp_ch_sql_str(&s->sql, s->sensors[0], strlen(s->sensors[0]));
    hp_buf_puts(&s->sql, " AND batch IN (");
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            hp_buf_putc(&s->sql, ',');
        hp_ch_sql_str(&s->sql, s->ids[i], strlen(s->ids[i]));
    }
    hp_buf_puts(&s->sql, ") FORMAT TabSeparated");
    memset(present, 0, s->n * sizeof(*present));
    if (hp_ch_query(s->conn, hp_buf_cstr(&s->sql), NULL, NULL, 0, &s->resp, err, errlen) != 0)
        return -1;
    struct hp_rd r;
    hp_rd_init(&r, s->resp.data, s->resp.len);
    const uint8_t *line;
    size_t len;
    while (hp_rd_line(&r, 128, &line, &len))
        for (size_t i = 0; i < s->n; i++)
            if (strlen(s->ids[i]) == len && memcmp(s->ids[i], line, len) == 0)
                present[i] = true;
    return 0;
}

/* Batches of other sensors' names (a renamed sensor) or of the other row
 * layout go in their own INSERT. */
static void ship_cut(struct ship *s)
{
    for (size_t i = 1; i < s->n; i++)
        if (strcmp(s->sensors[i], s->sensors[0]) != 0 || s->versions[i] != s->versions[0]) {
            s->n = i;
            return;
        }
}

/* Whether a line "name\ttype\tdefault_kind" of system.columns is hot column i,
 * insertable: the type reports expect, a DEFAULT (or no) expression. */
static bool layout_line_ok(const uint8_t *line, size_t len, size_t i)
{
    struct hp_buf want;
    hp_buf_init(&want, 256);
    hp_buf_printf(&want, "%s\t", hp_chs_cols[i].name);
    hp_chs_type(&want, &hp_chs_cols[i]);
    hp_buf_putc(&want, '\t');
    bool ok = hp_buf_ok(&want) && len >= want.len && memcmp(line, want.data, want.len) == 0;
    if (ok) {
        size_t rest = len - want.len;
        ok = rest == 0 || (rest == 7 && memcmp(line + want.len, "DEFAULT", 7) == 0);
    }
    hp_buf_free(&want);
    return ok;
}

/* Ask the table whether it takes the hot values (every hot column a DEFAULT
 * column of the right type: made by this release's init) or computes them
 * itself (MATERIALIZED: an older init; ALIAS; or no hot columns at all).
 * Rows written from now on follow the answer. 0, or -1 (server unreachable). */
static int ship_layout(struct ch_out *o, struct ship *s, char *err, size_t errlen)
{
    hp_buf_reset(&s->sql);
    hp_buf_puts(&s->sql, "SELECT name, type, default_kind FROM system.columns WHERE database = ");
    hp_ch_sql_str(&s->sql, o->cfg.database, strlen(o->cfg.database));
    hp_buf_puts(&s->sql, " AND table = ");
    hp_ch_sql_str(&s->sql, o->cfg.table, strlen(o->cfg.table));
    hp_buf_puts(&s->sql, " FORMAT TabSeparated");
    if (hp_ch_query(s->conn, hp_buf_cstr(&s->sql), NULL, NULL, 0, &s->resp, err, errlen) != 0)
        return -1;
    uint32_t found = 0;
    struct hp_rd r;
    hp_rd_init(&r, s->resp.data, s->resp.len);
    const uint8_t *line;
    size_t len;
    while (hp_rd_line(&r, 1024, &line, &len))
        for (size_t i = 0; i < hp_chs_ncols; i++)
            if (layout_line_ok(line, len, i))
                found |= 1u << i;
    bool hot = found == (uint32_t)((1ull << hp_chs_ncols) - 1);
    if (atomic_exchange(&o->hot, hot) != hot || !s->layout_known)
        hp_info("clickhouse: %s.%s %s", o->cfg.database, o->cfg.table,
                hot ? "takes the hot columns' values: the sensor computes them"
                    : "computes its hot columns itself (an older table): rows without them");
    s->layout_known = true;
    return 0;
}

/* One round: 1 shipped something, 0 nothing to ship, -1 failed. */
static int ship_round(struct ch_out *o, struct ship *s)
{
    char err[300];
    if (ship_gather(o, s) == 0)
        return 0;
    if (!s->layout_known && ship_layout(o, s, err, sizeof(err)) != 0)
        goto fail;
    ship_cut(s);
    size_t from = 0;
    bool recheck = false;
    if (s->unknown) {
        bool present[IDS_MAX];
        if (ship_check(o, s, present, err, sizeof(err)) != 0)
            goto fail;
        uint64_t bytes = 0;
        while (from < s->n && present[from])
            bytes += s->reclen[from++];
        if (from) {
            hp_info("clickhouse: %zu batch(es) were already stored before the retry; not sent again", from);
            hp_spool_ack(o->spool, bytes, from);
        }
        for (size_t i = from; i < s->n; i++)
            if (present[i]) {  /* impossible when batches go in order; never send twice */
                s->n = i;
                recheck = true;
                break;
            }
        if (from == s->n)   /* all stored: later batches may be too (a stale ack file) */
            return 1;
    }
    char settings[] = "&insert_distributed_sync=1";
    hp_buf_reset(&s->sql);
    hp_buf_printf(&s->sql, "INSERT INTO %s.%s (%s) FORMAT RowBinary", o->cfg.database, o->cfg.table,
                  hp_ch_columns(s->versions[0] == HP_CH_REC_HOT));
    if (hp_ch_query(s->conn, hp_buf_cstr(&s->sql), settings, s->body.data + s->body_at[from],
                    s->body_at[s->n] - s->body_at[from], &s->resp, err, sizeof(err)) != 0) {
        s->unknown = true;
        s->layout_known = false;   /* a table made again, otherwise: ask before the retry */
        goto fail;
    }
    s->unknown = recheck;
    uint64_t bytes = 0, rows = 0;
    for (size_t i = from; i < s->n; i++) {
        bytes += s->reclen[i];
        rows += s->rows[i];
    }
    hp_spool_ack(o->spool, bytes, s->n - from);
    atomic_fetch_add(&o->shipped_rows, rows);
    atomic_store(&o->last_ok_us, hp_now_us());
    if (atomic_exchange(&o->failing, false)) {
        uint64_t bb, br;
        hp_spool_backlog(o->spool, &bb, &br);
        hp_info("clickhouse: shipping to %s works again; backlog %" PRIu64 " batches, %" PRIu64
                " bytes", o->cfg.url, br, bb);
    }
    return 1;
fail:
    set_error(o, err);
    atomic_store(&o->failing, true);
    return -1;
}

static void *ship_main(void *arg)
{
    struct ch_out *o = arg;
    hp_thread_name("ch-shipper");
    struct ship *s = hp_xcalloc(1, sizeof(*s));
    s->conn = hp_ch_conn_new(&o->cfg);
    hp_buf_init(&s->rec, HP_SPOOL_REC_MAX);
    hp_buf_init(&s->body, INSERT_MAX + HP_SPOOL_REC_MAX);
    hp_buf_init(&s->sql, 1024 * 1024);
    hp_buf_init(&s->resp, 1024 * 1024);
    s->unknown = true;     /* the previous run may have been cut off mid-INSERT */
    char lerr[300];
    if (s->conn)           /* so that rows carry the hot values from the start; else at the first INSERT */
        (void)ship_layout(o, s, lerr, sizeof(lerr));
    struct hp_ratelimit rl = { 0 };
    int64_t backoff = 1000;
    for (;;) {
        int r = s->conn ? ship_round(o, s) : -1;
        pthread_mutex_lock(&o->mu);
        bool draining = o->stopping;
        bool stop = draining && (r <= 0 || hp_mono_ms() >= o->drain_until_ms);
        pthread_mutex_unlock(&o->mu);
        if (stop)
            break;
        if (draining)
            continue;
        if (r < 0) {
            uint64_t bb, br;
            hp_spool_backlog(o->spool, &bb, &br);
            uint64_t nrl = hp_ratelimit_ok(&rl, 10000);
            if (nrl) {
                pthread_mutex_lock(&o->err_mu);
                hp_warn("clickhouse: cannot ship to %s: %s; %" PRIu64 " batches (%" PRIu64
                        " bytes) wait in the spool, retrying [%" PRIu64 "x]", o->cfg.url,
                        o->last_error, br, bb, nrl);
                pthread_mutex_unlock(&o->err_mu);
            }
            ship_wait(o, backoff, false);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        backoff = 1000;
        if (r == 1) {
            uint64_t bb, br;
            hp_spool_backlog(o->spool, &bb, &br);
            if (bb >= SHIP_FULL_BYTES)   /* a backlog: no need to wait for more */
                continue;
        }
        /* Let batches gather (or wait for the first one). */
        if (r == 0)
            ship_wait(o, 1000, true);                         /* idle: the next batch wakes us */
        else if (o->cfg.batch_delay_ms)
            ship_wait(o, (int64_t)o->cfg.batch_delay_ms, false);
    }
    hp_ch_conn_free(s->conn);
    hp_buf_free(&s->rec);
    hp_buf_free(&s->body);
    hp_buf_free(&s->sql);
    hp_buf_free(&s->resp);
    free(s);
    return NULL;
}

/* ---- output ops --------------------------------------------------------- */

static int ch_check(const struct hp_config *cfg, const struct hp_output_cfg *oc, char *err, size_t errlen)
{
    struct hp_ch_cfg c;
    return hp_ch_cfg_parse(&c, cfg, oc, false, err, errlen);
}

static int ch_open(void **state, const struct hp_config *cfg, const struct hp_output_cfg *oc,
                   char *err, size_t errlen)
{
    struct ch_out *o = hp_xcalloc(1, sizeof(*o));
    if (hp_ch_cfg_parse(&o->cfg, cfg, oc, true, err, errlen) != 0)
        goto fail;
    snprintf(o->sensor, sizeof(o->sensor), "%s", hp_event_sensor());
    memcpy(o->run, hp_event_run_id(), 16);
    if (hp_spool_open(&o->spool, o->cfg.spool_dir, o->cfg.spool_max, o->cfg.spool_fsync, err, errlen) != 0)
        goto fail;
    uint64_t bb, br;
    hp_spool_backlog(o->spool, &bb, &br);
    if (br)
        hp_info("clickhouse: %" PRIu64 " batches (%" PRIu64 " bytes) from before the restart wait in %s",
                br, bb, o->cfg.spool_dir);
    hp_buf_init(&o->rec, HP_SPOOL_REC_MAX);
    hp_buf_init(&o->scratch, HP_EVENT_MAX + 1);
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    pthread_mutex_init(&o->err_mu, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    *state = o;
    return 0;
fail:
    free(o);
    return -1;
}

static void ch_tick(void *state, int64_t now_us)
{
    struct ch_out *o = state;
    /* The shipper starts from the writer thread, after the sensor dropped privileges. */
    if (!o->started) {
        if (pthread_create(&o->thread, NULL, ship_main, o) == 0)
            o->started = true;
        else
            hp_error("clickhouse: cannot start the shipper thread (retrying)");
    }
}

static void ch_close(void *state)
{
    struct ch_out *o = state;
    if (o->started) {
        pthread_mutex_lock(&o->mu);
        o->stopping = true;
        o->drain_until_ms = hp_mono_ms() + (int64_t)(o->cfg.timeout_ms < 5000 ? o->cfg.timeout_ms : 5000);
        pthread_cond_signal(&o->cv);
        pthread_mutex_unlock(&o->mu);
        pthread_join(o->thread, NULL);
    }
    uint64_t bb, br;
    hp_spool_backlog(o->spool, &bb, &br);
    if (br)
        hp_info("clickhouse: %" PRIu64 " batches (%" PRIu64 " bytes) stay in %s for the next start",
                br, bb, o->cfg.spool_dir);
    hp_spool_close(o->spool);
    hp_buf_free(&o->rec);
    hp_buf_free(&o->scratch);
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->cv);
    pthread_mutex_destroy(&o->err_mu);
    free(o);
}

static void ch_status(void *state, struct hp_buf *out)
{
    struct ch_out *o = state;
    uint64_t bb, br;
    hp_spool_backlog(o->spool, &bb, &br);
    hp_buf_printf(out, "\"spool_bytes\":%" PRIu64 ",\"spool_batches\":%" PRIu64 ",\"last_ok_us\":%" PRId64
                  ",\"errors\":%" PRIu64 ",\"shipped\":%" PRIu64 ",\"last_error\":\"",
                  bb, br, atomic_load(&o->last_ok_us), atomic_load(&o->errors),
                  atomic_load(&o->shipped_rows));
    pthread_mutex_lock(&o->err_mu);
    put_json_chars(out, o->last_error, strlen(o->last_error));
    pthread_mutex_unlock(&o->err_mu);
    hp_buf_puts(out, "\",");
}

const struct hp_output_ops hp_output_clickhouse = {
    .name = "clickhouse",
    .keys = hp_ch_cfg_keys,
    .batch_delay_ms = 50,    /* write() only appends to the spool; the shipper batches INSERTs */
    .check = ch_check,
    .open = ch_open,
    .write = ch_write,
    .tick = ch_tick,
    .close = ch_close,
    .status = ch_status,
};
