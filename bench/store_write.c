/*
 * store_write.c - CPU per event of the SQLite store, apart from the network.
 *
 * bench/store.sh runs it.  It builds the events one HTTP connection leaves
 * in close mode (session.connect, http.request, session.closed, with the
 * fields and sizes bench/http.sh's requests give them) with the sensor's own
 * event builder, a batch at a time as the writer thread receives them, and
 * times only the write of each batch (CPU time of this thread: the store
 * runs on the caller's thread, as on the writer's).
 *
 *   store_write hanipo DIR BATCHES CONNS   the [output sqlite] ops as shipped:
 *                                          schema, indexes, roll-ups, one
 *                                          transaction per batch
 *   store_write bare DIR BATCHES CONNS     the reference: the same rows
 *                                          (eight columns, the event JSON) in
 *                                          a table without indexes or
 *                                          roll-ups, one prepared INSERT per
 *                                          row, one transaction per batch, the
 *                                          same WAL settings
 *
 * Prints "us_per_event=X us_per_conn=Y events=N".  The first two batches
 * warm the caches and are not counted.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "config.h"
#include "event.h"
#include "output.h"

extern const struct hp_output_ops hp_output_sqlite;

#define WARM_BATCHES 2

static double thread_cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The three events of connection number k, appended to evs. */
static size_t build_connection(struct hp_event **evs, unsigned k)
{
    struct hp_evctx c = { .protocol = "http", .service = "web", .transport = "tcp",
                          .src_ip = "127.0.0.1", .dst_ip = "127.0.0.1",
                          .src_port = (uint16_t)(30000 + k % 30000), .dst_port = 18080 };
    snprintf(c.session, sizeof(c.session), "%012x", k * 2654435761u);
    struct hp_ev ev;
    size_t n = 0;
    hp_ev_begin(&ev, &c, "session.connect");
    hp_ev_str(&ev, "src_special", "loopback");
    evs[n++] = hp_ev_finish(&ev);

    hp_ev_begin(&ev, &c, "http.request");
    hp_ev_str(&ev, "method", "GET");
    hp_ev_str(&ev, "uri", "/");
    hp_ev_str(&ev, "uri_decoded", "/");
    hp_ev_str(&ev, "version", "HTTP/1.1");
    hp_ev_str(&ev, "host", "127.0.0.1:18080");
    hp_ev_arr_begin(&ev, "headers");
    hp_ev_obj_begin(&ev, NULL);
    hp_ev_str(&ev, "name", "Host");
    hp_ev_str(&ev, "value", "127.0.0.1:18080");
    hp_ev_obj_end(&ev);
    hp_ev_obj_begin(&ev, NULL);
    hp_ev_str(&ev, "name", "Connection");
    hp_ev_str(&ev, "value", "close");
    hp_ev_obj_end(&ev);
    hp_ev_arr_end(&ev);
    hp_ev_uint(&ev, "body_size", 0);
    hp_ev_uint(&ev, "status", 200);
    hp_ev_str(&ev, "rule", "default");
    hp_ev_strings(&ev, "attack_classes", NULL, 0);
    hp_ev_strings(&ev, "cves", NULL, 0);
    hp_ev_bool(&ev, "tls", false);
    hp_ev_uint(&ev, "request_no", 1);
    hp_ev_str(&ev, "raw", "GET / HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nConnection: close\r\n\r\n");
    evs[n++] = hp_ev_finish(&ev);

    hp_ev_begin(&ev, &c, "session.closed");
    hp_ev_double(&ev, "duration", 0.001);
    hp_ev_uint(&ev, "bytes_in", 60);
    hp_ev_uint(&ev, "bytes_out", 857);
    hp_ev_str(&ev, "reason", "http_done");
    evs[n++] = hp_ev_finish(&ev);
    return n;
}

/* ---- the reference: the same rows, nothing else -------------------------------- */

struct bare {
    sqlite3 *db;
    sqlite3_stmt *ins;
};

static int bare_open(struct bare *b, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/bare.sqlite", dir);
    if (sqlite3_open(path, &b->db) != SQLITE_OK)
        return -1;
    const char *sql =
        "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        "PRAGMA wal_autocheckpoint=4096;"
        "CREATE TABLE events(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, eventid TEXT NOT NULL,"
        " session TEXT, protocol TEXT, src_ip TEXT, src_port INTEGER, dst_port INTEGER, data TEXT NOT NULL);";
    if (sqlite3_exec(b->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    return sqlite3_prepare_v2(b->db, "INSERT INTO events(ts,eventid,session,protocol,src_ip,src_port,dst_port,data)"
                              " VALUES(?,?,?,?,?,?,?,?)", -1, &b->ins, NULL) == SQLITE_OK ? 0 : -1;
}

static int bare_write(struct bare *b, struct hp_event *const *evs, size_t n)
{
    if (sqlite3_exec(b->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const struct hp_event *e = evs[i];
        sqlite3_bind_int64(b->ins, 1, e->h.ts_us);
        sqlite3_bind_text(b->ins, 2, e->h.eventid, -1, SQLITE_STATIC);
        sqlite3_bind_text(b->ins, 3, e->h.session, -1, SQLITE_STATIC);
        sqlite3_bind_text(b->ins, 4, e->h.protocol, -1, SQLITE_STATIC);
        sqlite3_bind_text(b->ins, 5, e->h.src_ip, -1, SQLITE_STATIC);
        sqlite3_bind_int(b->ins, 6, e->h.src_port);
        sqlite3_bind_int(b->ins, 7, e->h.dst_port);
        sqlite3_bind_text(b->ins, 8, e->json, (int)e->json_len, SQLITE_STATIC);
        if (sqlite3_step(b->ins) != SQLITE_DONE)
            return -1;
        sqlite3_reset(b->ins);
    }
    return sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* ---- main ----------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[1], "hanipo") && strcmp(argv[1], "bare"))) {
        fprintf(stderr, "usage: store_write hanipo|bare DIR BATCHES CONNS\n");
        return 64;
    }
    bool hanipo = strcmp(argv[1], "hanipo") == 0;
    const char *dir = argv[2];
    int batches = atoi(argv[3]), conns = atoi(argv[4]);
    if (batches <= WARM_BATCHES || conns <= 0) {
        fprintf(stderr, "store_write: BATCHES must exceed %d, CONNS be positive\n", WARM_BATCHES);
        return 64;
    }
    void *state = NULL;
    struct bare bare = { 0 };
    char err[512];
    if (hanipo) {
        char ini[4096 + 256];
        snprintf(ini, sizeof(ini), "[sensor]\nname = bench\ndata_dir = %s\n[output sqlite]\nenabled = true\n"
                 "[service web]\nprotocol = http\nbind = 127.0.0.1\ntcp_ports = 1\n", dir);
        struct hp_config *cfg = hp_config_load_string(ini, "store_write", err, sizeof(err));
        if (!cfg) {
            fprintf(stderr, "store_write: %s\n", err);
            return 1;
        }
        struct hp_output_cfg oc = { .name = "sqlite", .enabled = true };
        if (hp_output_sqlite.open(&state, cfg, &oc, err, sizeof(err)) != 0) {
            fprintf(stderr, "store_write: %s\n", err);
            return 1;
        }
    } else if (bare_open(&bare, dir) != 0) {
        fprintf(stderr, "store_write: %s\n", sqlite3_errmsg(bare.db));
        return 1;
    }
    struct hp_event **evs = calloc((size_t)conns * 3, sizeof(*evs));
    if (!evs)
        return 1;
    double spent = 0;
    long counted = 0;
    unsigned k = 1;
    for (int b = 0; b < batches; b++) {
        size_t n = 0;
        for (int i = 0; i < conns; i++)
            n += build_connection(evs + n, k++);
        double t0 = thread_cpu_s();
        int rc = hanipo ? hp_output_sqlite.write(state, evs, n) : bare_write(&bare, evs, n);
        double t1 = thread_cpu_s();
        if (rc != 0) {
            fprintf(stderr, "store_write: batch %d failed\n", b);
            return 1;
        }
        if (b >= WARM_BATCHES) {
            spent += t1 - t0;
            counted += (long)n;
        }
        for (size_t i = 0; i < n; i++)
            hp_event_unref(evs[i]);
    }
    printf("us_per_event=%.3f us_per_conn=%.3f events=%ld\n", spent / (double)counted * 1e6,
           spent / (double)counted * 3e6, counted);
    if (hanipo)
        hp_output_sqlite.close(state);
    else {
        sqlite3_finalize(bare.ins);
        sqlite3_close(bare.db);
    }
    free(evs);
    return 0;
}
