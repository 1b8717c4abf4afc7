/*
 * test_jsonl_follow.c - the SQLite store's ingest of the JSONL files
 * (src/store/jsonl_follow.c, the ingest = jsonl mode of src/store/sqlite.c).
 *
 * The follower returns whole lines only (a line still being written waits),
 * moves to the next day's file and passes over a torn tail left in the
 * earlier one, skips runs longer than any event, and starts a file again
 * when it was cut back below its place.  A line's columns come out as the
 * event builder put them in.  The store, driven through the output ops as
 * the sensor drives it, stores each line once: after closing and opening
 * again it goes on from its committed place, and after 'ingest = direct'
 * (which forgets that place) it starts at the end of the files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "event.h"
#include "output.h"
#include "util.h"
#include "store/jsonl_follow.h"

extern const struct hp_output_ops hp_output_jsonl;
extern const struct hp_output_ops hp_output_sqlite;

static char tmpdir[64];

static int setup(void **state)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/hp-follow-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

/* Remove every file of a directory, then the directory. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *de; (de = readdir(d));) {
        char p[512];
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (unlink(p) != 0)
            remove_dir(p);
    }
    closedir(d);
    rmdir(dir);
}

static int teardown(void **state)
{
    remove_dir(tmpdir);
    return 0;
}

static void append(const char *name, const char *text, size_t n)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "ab");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    fclose(f);
}

#define APPEND(name, s) append(name, s, strlen(s))

/* The next line as a string ("" when there is none; "ERR" on an error). */
static const char *next(struct hp_jsonl_follow *f)
{
    static char out[256];
    const char *line;
    size_t len;
    int r = hp_jsonl_follow_next(f, &line, &len);
    if (r <= 0)
        return r < 0 ? "ERR" : "";
    snprintf(out, sizeof(out), "%.*s", (int)len, line);
    return out;
}

static void test_follow_whole_lines(void **state)
{
    struct hp_jsonl_pos pos = { "2026-12-05", 0 }, at;
    struct hp_jsonl_follow *f = hp_jsonl_follow_new(tmpdir, "ev", &pos);
    assert_string_equal(next(f), "");                     /* no file yet */
    APPEND("ev-2026-12-05.jsonl", "one\ntwo\nthr");
    assert_string_equal(next(f), "one");
    assert_string_equal(next(f), "two");
    assert_string_equal(next(f), "");                     /* "thr" is being written */
    hp_jsonl_follow_tell(f, &at);
    assert_string_equal(at.day, "2026-12-05");
    assert_int_equal(at.off, 8);
    APPEND("ev-2026-12-05.jsonl", "ee\n");
    assert_string_equal(next(f), "three");
    assert_string_equal(next(f), "");
    hp_jsonl_follow_tell(f, &at);
    assert_int_equal(at.off, 14);
    hp_jsonl_follow_free(f);

    /* From a place in the middle: only what follows it. */
    pos.off = 4;
    f = hp_jsonl_follow_new(tmpdir, "ev", &pos);
    assert_string_equal(next(f), "two");
    hp_jsonl_follow_free(f);

    /* The end of the files is where a new store begins. */
    hp_jsonl_follow_end(tmpdir, "ev", &at);
    assert_string_equal(at.day, "2026-12-05");
    assert_int_equal(at.off, 14);
    hp_jsonl_follow_end(tmpdir, "nothing", &at);
    assert_string_equal(at.day, "");
    assert_int_equal(at.off, 0);
}

static void test_follow_next_day(void **state)
{
    struct hp_jsonl_pos pos = { "", 0 }, at;
    struct hp_jsonl_follow *f = hp_jsonl_follow_new(tmpdir, "ev", &pos);
    APPEND("ev-2026-12-05.jsonl", "a\ntorn");
    assert_string_equal(next(f), "a");                    /* the first file, from its start */
    assert_string_equal(next(f), "");
    APPEND("ev-2026-12-06.jsonl", "b\n");
    assert_string_equal(next(f), "b");                    /* "torn" never ends: passed over */
    assert_int_equal(hp_jsonl_follow_skipped(f), 4);
    hp_jsonl_follow_tell(f, &at);
    assert_string_equal(at.day, "2026-12-06");
    assert_int_equal(at.off, 2);

    /* Renamed away and made anew (logrotate's "create"): the rest of the old one, then the new one. */
    APPEND("ev-2026-12-06.jsonl", "c\n");
    char a[256], b[256];
    snprintf(a, sizeof(a), "%s/ev-2026-12-06.jsonl", tmpdir);
    snprintf(b, sizeof(b), "%s/ev-2026-12-06.jsonl.1", tmpdir);
    assert_int_equal(rename(a, b), 0);
    APPEND("ev-2026-12-06.jsonl.1", "d\n");
    APPEND("ev-2026-12-06.jsonl", "e\n");
    assert_string_equal(next(f), "c");
    assert_string_equal(next(f), "d");
    assert_string_equal(next(f), "e");
    assert_string_equal(next(f), "");
    hp_jsonl_follow_tell(f, &at);
    assert_string_equal(at.day, "2026-12-06");
    assert_int_equal(at.off, 2);
    hp_jsonl_follow_free(f);

    /* A place in a file that is gone (retention): the next file. */
    pos = (struct hp_jsonl_pos){ "2026-12-01", 1234 };
    f = hp_jsonl_follow_new(tmpdir, "ev", &pos);
    assert_string_equal(next(f), "a");
    hp_jsonl_follow_free(f);
}

static void test_follow_long_run_and_truncation(void **state)
{
    struct hp_jsonl_pos pos = { "2026-12-05", 0 };
    size_t big = HP_JSONL_LINE_MAX * 2 + 100;
    char *junk = malloc(big + 1);
    memset(junk, 'x', big);
    junk[big] = '\0';
    append("ev-2026-12-05.jsonl", junk, big);
    APPEND("ev-2026-12-05.jsonl", "\nafter\n");
    struct hp_jsonl_follow *f = hp_jsonl_follow_new(tmpdir, "ev", &pos);
    const char *got = next(f);
    for (int i = 0; i < 8 && !got[0]; i++)
        got = next(f);
    assert_string_equal(got, "after");
    assert_int_equal(hp_jsonl_follow_skipped(f), big + 1);
    /* A line that fits the buffer but is longer than any event: skipped too. */
    append("ev-2026-12-05.jsonl", junk, HP_JSONL_LINE_MAX + 10);
    APPEND("ev-2026-12-05.jsonl", "\nok\n");
    got = next(f);
    for (int i = 0; i < 8 && !got[0]; i++)
        got = next(f);
    assert_string_equal(got, "ok");
    assert_int_equal(hp_jsonl_follow_skipped(f), big + 1 + HP_JSONL_LINE_MAX + 11);
    free(junk);

    /* Cut back below the place (a power cut): on from its new end, never again from its start. */
    char p[256];
    snprintf(p, sizeof(p), "%s/ev-2026-12-05.jsonl", tmpdir);
    assert_int_equal(truncate(p, 0), 0);
    APPEND("ev-2026-12-05.jsonl", "old\n");
    assert_string_equal(next(f), "");
    APPEND("ev-2026-12-05.jsonl", "new\n");
    assert_string_equal(next(f), "new");
    /* A failed write the writer cut back, read half: read again as it is rewritten. */
    APPEND("ev-2026-12-05.jsonl", "hal");
    assert_string_equal(next(f), "");
    assert_int_equal(truncate(p, 8), 0);
    assert_string_equal(next(f), "");
    APPEND("ev-2026-12-05.jsonl", "whole\n");
    assert_string_equal(next(f), "whole");
    hp_jsonl_follow_free(f);
}

static void test_parse_ts(void **state)
{
    static const int64_t samples[] = { 0, 1, 999999, 1796428800LL * 1000000, 1796428800LL * 1000000 - 1,
                                       951782400LL * 1000000 + 123456 /* 2000-02-29 */,
                                       4102444799LL * 1000000 + 999999 };
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        char s[40];
        size_t n = hp_fmt_iso8601(samples[i], s, sizeof(s));
        assert_int_equal(n, 27);
        assert_true(hp_jsonl_parse_ts(s, n) == samples[i]);
    }
    const char *bad[] = { "2026-12-05T00:00:00.000000", "2026-12-05 00:00:00.000000Z", "2026-13-05T00:00:00.000000Z",
                          "2026-02-30T00:00:00.000000Z", "2026-12-05T24:00:00.000000Z", "2026-12-05T00:00:00.00000xZ",
                          "1969-12-31T23:59:59.999999Z", "+026-12-05T00:00:00.000000Z" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_true(hp_jsonl_parse_ts(bad[i], strlen(bad[i])) == -1);
}

static void test_row_columns(void **state)
{
    struct hp_evctx ctx = { .session = "a1b2c3d4e5f6", .protocol = "http", .service = "web", .transport = "tcp",
                            .src_ip = "203.0.113.9", .dst_ip = "10.0.0.1", .src_port = 40000, .dst_port = 8080 };
    struct hp_ev ev;
    hp_ev_begin_at(&ev, &ctx, "http.request", 1796428800LL * 1000000 + 42);
    hp_ev_str(&ev, "uri", "/\"session\":\"x\"");
    struct hp_event *e = hp_ev_finish(&ev);
    struct hp_jsonl_row r;
    assert_int_equal(hp_jsonl_row(e->json, e->json_len, &r), 0);
    assert_true(r.ts_us == e->h.ts_us);
    assert_string_equal(r.eventid, "http.request");
    assert_string_equal(r.session, e->h.session);
    assert_string_equal(r.protocol, "http");
    assert_string_equal(r.src_ip, "203.0.113.9");
    assert_int_equal(r.src_port, 40000);
    assert_int_equal(r.dst_port, 8080);
    hp_event_unref(e);

    hp_ev_begin_at(&ev, NULL, "sensor.stats", 1796428800LL * 1000000);
    e = hp_ev_finish(&ev);
    assert_int_equal(hp_jsonl_row(e->json, e->json_len, &r), 0);
    assert_string_equal(r.eventid, "sensor.stats");
    assert_string_equal(r.session, "");
    assert_int_equal(r.src_port, -1);
    hp_event_unref(e);

    const char *bad[] = { "", "{}", "[1]", "{\"eventid\":\"x\"}", "{\"timestamp\":\"2026-12-05T00:00:00.000000Z\"}",
                          "{\"timestamp\":\"2026-12-05T00:00:00.000000Z\",\"eventid\":\"\"}",
                          "{\"timestamp\":\"2026-12-05T00:00:00.000000Z\",\"eventid\":\"a\\u0000b\"}",
                          "{\"timestamp\":1,\"eventid\":\"x\"}",
                          "{\"timestamp\":\"2026-12-05T00:00:00.000000Z\",\"eventid\":\"x\"" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(hp_jsonl_row(bad[i], strlen(bad[i]), &r), -1);
    /* A port that is no port is left out, not wrapped. */
    const char *odd = "{\"timestamp\":\"2026-12-05T00:00:00.000000Z\",\"eventid\":\"x\",\"session\":\"s\","
                      "\"src_port\":70000,\"dst_port\":-1}";
    assert_int_equal(hp_jsonl_row(odd, strlen(odd), &r), 0);
    assert_int_equal(r.src_port, -1);
    assert_int_equal(r.dst_port, -1);
}

/* ---- the store ------------------------------------------------------------------------------ */

static struct hp_config *store_config(const char *ingest)
{
    char text[1024], err[256];
    snprintf(text, sizeof(text),
             "[sensor]\nname = t\ndata_dir = %s\n[output jsonl]\nenabled = true\n"
             "[output sqlite]\nenabled = true\ningest = %s\n[service trap]\nprotocol = trap\ntcp_ports = 1\n",
             tmpdir, ingest);
    struct hp_config *cfg = hp_config_load_string(text, "test.ini", err, sizeof(err));
    if (!cfg)
        fail_msg("%s", err);
    return cfg;
}

static void write_events(void *jsonl, int first, int n)
{
    struct hp_event *evs[16];
    for (int i = 0; i < n; i++) {
        struct hp_ev ev;
        hp_ev_begin_at(&ev, NULL, "test.event", hp_now_us());
        hp_ev_uint(&ev, "n", (uint64_t)(first + i));
        evs[i] = hp_ev_finish(&ev);
    }
    assert_int_equal(hp_output_jsonl.write(jsonl, evs, (size_t)n), 0);
    for (int i = 0; i < n; i++)
        hp_event_unref(evs[i]);
}

/* The "n" members of the rows, in id order, as "0 1 2". */
static void stored(char *out, size_t cap)
{
    char path[128];
    sqlite3 *db;
    sqlite3_stmt *st;
    snprintf(path, sizeof(path), "%s/hanipo.sqlite", tmpdir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT json_extract(data, '$.n') FROM events "
                                            "WHERE eventid = 'test.event' ORDER BY id", -1, &st, NULL), SQLITE_OK);
    out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t o = strlen(out);
        snprintf(out + o, cap - o, "%s%d", o ? " " : "", sqlite3_column_int(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void *open_output(const struct hp_output_ops *ops, const struct hp_config *cfg, const char *name)
{
    char err[256];
    void *st = NULL;
    for (size_t i = 0; i < cfg->noutputs; i++)
        if (strcmp(cfg->outputs[i].name, name) == 0 && ops->open(&st, cfg, &cfg->outputs[i], err, sizeof(err)) != 0)
            fail_msg("%s", err);
    assert_non_null(st);
    return st;
}

static void test_store_ingests_once(void **state)
{
    struct hp_config *cfg = store_config("jsonl");
    void *jl = open_output(&hp_output_jsonl, cfg, "jsonl");
    write_events(jl, 0, 3);                  /* before the store follows: not its to store */
    void *sq = open_output(&hp_output_sqlite, cfg, "sqlite");
    assert_true(hp_output_sqlite.pulls(sq));
    int64_t lag = -1;
    char got[256];
    assert_int_equal(hp_output_sqlite.pull(sq, &lag), 0);
    write_events(jl, 3, 4);
    assert_int_equal(hp_output_sqlite.pull(sq, &lag), 4);
    assert_int_equal(lag, 0);
    assert_int_equal(hp_output_sqlite.pull(sq, &lag), 0);
    stored(got, sizeof(got));
    assert_string_equal(got, "3 4 5 6");
    hp_output_sqlite.close(sq);

    /* Closed and opened again: on from the committed place. */
    write_events(jl, 7, 2);
    sq = open_output(&hp_output_sqlite, cfg, "sqlite");
    assert_int_equal(hp_output_sqlite.pull(sq, &lag), 2);
    assert_int_equal(hp_output_sqlite.pull(sq, &lag), 0);
    stored(got, sizeof(got));
    assert_string_equal(got, "3 4 5 6 7 8");
    hp_output_sqlite.close(sq);
    hp_config_free(cfg);

    /* 'ingest = direct' forgets the place: following again starts at the end. */
    cfg = store_config("direct");
    sq = open_output(&hp_output_sqlite, cfg, "sqlite");
    assert_false(hp_output_sqlite.pulls(sq));
    hp_output_sqlite.close(sq);
    hp_config_free(cfg);
    write_events(jl, 9, 1);
    cfg = store_config("jsonl");
    sq = open_output(&hp_output_sqlite, cfg, "sqlite");
    write_events(jl, 10, 1);
    assert_int_equal(hp_output_sqlite.pull(sq, &lag), 1);
    stored(got, sizeof(got));
    assert_string_equal(got, "3 4 5 6 7 8 10");
    hp_output_sqlite.close(sq);
    hp_output_jsonl.close(jl);
    hp_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_follow_whole_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_next_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_long_run_and_truncation, setup, teardown),
        cmocka_unit_test(test_parse_ts),
        cmocka_unit_test(test_row_columns),
        cmocka_unit_test_setup_teardown(test_store_ingests_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
