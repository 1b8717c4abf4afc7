/*
 * test_index.c - unit tests for the payload metadata index
 * (src/capture/index.c) in a fresh temporary data_dir.
 *
 * Three payloads recorded (one of them twice): is_new flags, seen counts,
 * first_seen kept / last_seen moved, stored_bytes, sources row counts;
 * eviction order (last_seen, then first_seen, then sha256); mark_evicted
 * then a new arrival: is_new again, stored=1; hostile strings (quotes, SQL
 * fragments, multi-byte and non-UTF-8 bytes, a 10 KB URL) round-trip exactly;
 * classification kept when a later arrival knows less; bad sha256 refused;
 * a read-only handle reads but cannot write; stored_bytes is a running
 * total on the writer's handle (no SQL per call, whatever the store holds),
 * right through arrivals, repeats, evictions and a reopen.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <cmocka.h>

#include "capture/index.h"

static char dir[64];

static void rm_dir(void)
{
    static const char *const names[] = { "payloads.sqlite", "payloads.sqlite-wal", "payloads.sqlite-shm" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char p[128];
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

static int setup(void **state)
{
    strcpy(dir, "/tmp/hp_index_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char err[256];
    struct hp_index *ix = hp_index_open(dir, false, err, sizeof(err));
    if (!ix) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    *state = ix;
    return 0;
}

static int teardown(void **state)
{
    hp_index_close(*state);
    rm_dir();
    return 0;
}

/* A sha256-shaped name: 64 copies of one hex digit. */
static void fake_sha(char out[65], char c)
{
    memset(out, c, 64);
    out[64] = '\0';
}

static struct hp_payload_meta meta(char c, uint64_t size, int64_t ts)
{
    struct hp_payload_meta m;
    memset(&m, 0, sizeof(m));
    fake_sha(m.sha256, c);
    memset(m.sha1, c, 40);
    memset(m.md5, c, 32);
    m.size = size;
    m.ts_us = ts;
    m.url = "http://203.0.113.9/x.sh";
    m.session = "s1";
    m.protocol = "ssh";
    m.src_ip = "203.0.113.9";
    m.how = "wget";
    m.type = "ELF 32-bit";
    m.mime = "application/x-executable";
    m.kind = "elf";
    m.elf_arch = "arm";
    m.elf_endian = "le";
    m.interpreter = "";
    m.family = "mirai";
    m.rule = "Mirai_A";
    m.elf_bits = 32;
    return m;
}

/* One integer from a query with one text parameter. */
static sqlite3_int64 q_int(struct hp_index *ix, const char *sql, const char *arg)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(hp_index_db(ix), sql, -1, &st, NULL), SQLITE_OK);
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    sqlite3_int64 v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* One text column (copied into out) from a query with one text parameter. */
static void q_text(struct hp_index *ix, const char *sql, const char *arg, char *out, size_t cap)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(hp_index_db(ix), sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    int n = sqlite3_column_bytes(st, 0);
    assert_non_null(t);
    assert_true((size_t)n < cap);
    memcpy(out, t, (size_t)n);
    out[n] = '\0';
    sqlite3_finalize(st);
}

static void test_record_counts(void **state)
{
    struct hp_index *ix = *state;
    bool is_new = false;
    struct hp_payload_meta a = meta('a', 100, 1000), b = meta('b', 20, 2000), c = meta('c', 3, 3000);
    assert_int_equal(hp_index_record(ix, &a, &is_new), 0);
    assert_true(is_new);
    assert_int_equal(hp_index_record(ix, &b, &is_new), 0);
    assert_true(is_new);
    assert_int_equal(hp_index_record(ix, &c, &is_new), 0);
    assert_true(is_new);
    struct hp_payload_meta a2 = meta('a', 100, 5000);
    a2.url = NULL;              /* an upload this time */
    a2.how = "scp";
    is_new = true;
    assert_int_equal(hp_index_record(ix, &a2, &is_new), 0);
    assert_false(is_new);

    assert_int_equal(q_int(ix, "SELECT seen FROM payloads WHERE sha256=?", a.sha256), 2);
    assert_int_equal(q_int(ix, "SELECT seen FROM payloads WHERE sha256=?", b.sha256), 1);
    assert_int_equal(q_int(ix, "SELECT first_seen FROM payloads WHERE sha256=?", a.sha256), 1000);
    assert_int_equal(q_int(ix, "SELECT last_seen FROM payloads WHERE sha256=?", a.sha256), 5000);
    assert_int_equal(q_int(ix, "SELECT count(*) FROM sources WHERE sha256=?", a.sha256), 2);
    assert_int_equal(q_int(ix, "SELECT count(*) FROM sources WHERE sha256=?", c.sha256), 1);
    assert_int_equal(q_int(ix, "SELECT count(*) FROM sources WHERE url IS NULL AND how=?", "scp"), 1);
    assert_int_equal(q_int(ix, "SELECT count(*) FROM payloads WHERE stored=1", NULL), 3);
    assert_int_equal(hp_index_stored_bytes(ix), 123);
}

static void test_oldest_and_evict(void **state)
{
    struct hp_index *ix = *state;
    char sha[65], want[65];
    uint64_t size = 0;
    bool is_new;
    assert_int_equal(hp_index_oldest(ix, sha, &size), -1);      /* empty */
    assert_int_equal(hp_index_stored_bytes(ix), 0);

    /* b and d end with last_seen=2000; d was first seen earlier, so it goes before b. */
    struct hp_payload_meta a = meta('a', 100, 1000), b = meta('b', 20, 1500), c = meta('c', 3, 3000);
    struct hp_payload_meta d = meta('d', 7, 1200), e = meta('e', 9, 1200);
    assert_int_equal(hp_index_record(ix, &a, &is_new), 0);
    assert_int_equal(hp_index_record(ix, &d, &is_new), 0);
    assert_int_equal(hp_index_record(ix, &e, &is_new), 0);
    assert_int_equal(hp_index_record(ix, &b, &is_new), 0);
    assert_int_equal(hp_index_record(ix, &c, &is_new), 0);
    b.ts_us = 2000;
    d.ts_us = 2000;
    assert_int_equal(hp_index_record(ix, &b, &is_new), 0);
    assert_int_equal(hp_index_record(ix, &d, &is_new), 0);
    /* a (1000) first, then e (1200), d (2000, first 1200), b (2000, first 1500), c. */
    const char order[] = "aedbc";
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(hp_index_oldest(ix, sha, &size), 0);
        fake_sha(want, order[i]);
        assert_string_equal(sha, want);
        assert_int_equal(hp_index_mark_evicted(ix, sha), 0);
        assert_int_equal(hp_index_mark_evicted(ix, sha), -1);   /* already evicted */
    }
    assert_int_equal(hp_index_oldest(ix, sha, &size), -1);
    assert_int_equal(hp_index_stored_bytes(ix), 0);

    /* Evicted, then it arrives again: new again, stored, the record kept. */
    a.ts_us = 9000;
    is_new = false;
    assert_int_equal(hp_index_record(ix, &a, &is_new), 0);
    assert_true(is_new);
    assert_int_equal(q_int(ix, "SELECT stored FROM payloads WHERE sha256=?", a.sha256), 1);
    assert_int_equal(q_int(ix, "SELECT seen FROM payloads WHERE sha256=?", a.sha256), 2);
    assert_int_equal(q_int(ix, "SELECT first_seen FROM payloads WHERE sha256=?", a.sha256), 1000);
    assert_int_equal(hp_index_stored_bytes(ix), 100);
    assert_int_equal(hp_index_oldest(ix, sha, &size), 0);
    assert_string_equal(sha, a.sha256);
    assert_int_equal(size, 100);
    assert_int_equal(q_int(ix, "SELECT count(*) FROM payloads", NULL), 5);
}

static void test_hostile_strings(void **state)
{
    struct hp_index *ix = *state;
    bool is_new;
    size_t ulen = 10 * 1024;
    char *url = malloc(ulen + 1);
    assert_non_null(url);
    const char head[] = "http://x/'); DROP TABLE payloads; --\"";
    memcpy(url, head, sizeof(head) - 1);
    for (size_t i = sizeof(head) - 1; i < ulen; i++)
        url[i] = (char)('a' + i % 26);
    url[ulen] = '\0';
    /* NUL-free but not all valid UTF-8: multi-byte text, ESC, a lone 0xff. */
    const char *family = "fam\xc3\xa9ly '\" \xe2\x80\xae \x1b[31m \xff\xfe %_\\";
    struct hp_payload_meta m = meta('f', 42, 77);
    m.url = url;
    m.family = family;
    m.session = "s'; --";
    m.interpreter = "/bin/sh\x7f";
    assert_int_equal(hp_index_record(ix, &m, &is_new), 0);
    assert_true(is_new);

    char *out = malloc(ulen + 1);
    assert_non_null(out);
    q_text(ix, "SELECT url FROM sources WHERE sha256=?", m.sha256, out, ulen + 1);
    assert_string_equal(out, url);
    q_text(ix, "SELECT family FROM payloads WHERE sha256=?", m.sha256, out, ulen + 1);
    assert_string_equal(out, family);
    q_text(ix, "SELECT session FROM sources WHERE sha256=?", m.sha256, out, ulen + 1);
    assert_string_equal(out, "s'; --");
    q_text(ix, "SELECT interpreter FROM payloads WHERE sha256=?", m.sha256, out, ulen + 1);
    assert_string_equal(out, "/bin/sh\x7f");
    assert_int_equal(q_int(ix, "SELECT count(*) FROM payloads", NULL), 1);
    free(out);
    free(url);
}

static void test_classification_kept(void **state)
{
    struct hp_index *ix = *state;
    bool is_new;
    struct hp_payload_meta m = meta('1', 5, 10);
    assert_int_equal(hp_index_record(ix, &m, &is_new), 0);
    /* A later arrival whose classification failed keeps what was known... */
    m.ts_us = 20;
    m.family = "";
    m.kind = NULL;
    m.elf_bits = 0;
    m.rule = "Newer_Rule";      /* ...and what it does know replaces the old. */
    assert_int_equal(hp_index_record(ix, &m, &is_new), 0);
    char out[64];
    q_text(ix, "SELECT family FROM payloads WHERE sha256=?", m.sha256, out, sizeof(out));
    assert_string_equal(out, "mirai");
    q_text(ix, "SELECT kind FROM payloads WHERE sha256=?", m.sha256, out, sizeof(out));
    assert_string_equal(out, "elf");
    q_text(ix, "SELECT rule FROM payloads WHERE sha256=?", m.sha256, out, sizeof(out));
    assert_string_equal(out, "Newer_Rule");
    assert_int_equal(q_int(ix, "SELECT elf_bits FROM payloads WHERE sha256=?", m.sha256), 32);
}

static void test_bad_sha_refused(void **state)
{
    struct hp_index *ix = *state;
    bool is_new;
    struct hp_payload_meta m = meta('a', 5, 10);
    m.sha256[10] = 'A';                 /* uppercase: not what store.c names files */
    assert_int_equal(hp_index_record(ix, &m, &is_new), -1);
    m = meta('a', 5, 10);
    m.sha256[63] = '\0';                /* short */
    assert_int_equal(hp_index_record(ix, &m, &is_new), -1);
    m = meta('a', 5, 10);
    memcpy(m.sha256, "../../../etc/passwd", 19);
    assert_int_equal(hp_index_record(ix, &m, &is_new), -1);
    assert_int_equal(q_int(ix, "SELECT count(*) FROM payloads", NULL), 0);
    assert_int_equal(q_int(ix, "SELECT count(*) FROM sources", NULL), 0);
    assert_int_equal(hp_index_mark_evicted(ix, "nope"), -1);
}

static void test_readonly(void **state)
{
    struct hp_index *ix = *state;
    bool is_new;
    struct hp_payload_meta m = meta('7', 11, 10);
    assert_int_equal(hp_index_record(ix, &m, &is_new), 0);
    char err[256];
    struct hp_index *ro = hp_index_open(dir, true, err, sizeof(err));
    assert_non_null(ro);
    assert_int_equal(hp_index_stored_bytes(ro), 11);
    char sha[65];
    uint64_t size;
    assert_int_equal(hp_index_oldest(ro, sha, &size), 0);
    assert_string_equal(sha, m.sha256);
    assert_int_equal(hp_index_record(ro, &m, &is_new), -1);
    assert_int_equal(hp_index_mark_evicted(ro, m.sha256), -1);
    hp_index_close(ro);

    /* A read-only open of a missing database fails (and creates nothing). */
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/nodir", dir);
    assert_null(hp_index_open(missing, true, err, sizeof(err)));
    assert_int_equal(access(missing, F_OK), -1);
}

static int count_vm_steps(void *arg)
{
    (*(unsigned long *)arg)++;
    return 0;
}

/* A distinct sha256-shaped name per i. */
static void num_sha(char out[65], unsigned i)
{
    memset(out, '0', 64);
    char tail[17];
    snprintf(tail, sizeof(tail), "%016x", i);
    memcpy(out + 48, tail, 16);
    out[64] = '\0';
}

/* The quota check asks stored_bytes on every new file: it must not re-sum a
 * store of many small files each time (O(n^2) over n downloads).  Counted in
 * SQLite VM steps, which the old SUM(size) paid once per stored row. */
static void test_stored_bytes_running_total(void **state)
{
    struct hp_index *ix = *state;
    enum { N = 2000 };
    bool is_new;
    uint64_t want = 0;
    assert_int_equal(sqlite3_exec(hp_index_db(ix), "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    for (unsigned i = 0; i < 3; i++) {
        struct hp_payload_meta m = meta('a', 10 + i % 7, 1000 + i);
        num_sha(m.sha256, i);
        assert_int_equal(hp_index_record(ix, &m, &is_new), -1);   /* inside our BEGIN: refused */
    }
    assert_int_equal(sqlite3_exec(hp_index_db(ix), "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(hp_index_stored_bytes(ix), 0);                /* failures move nothing */
    for (unsigned i = 0; i < N; i++) {
        struct hp_payload_meta m = meta('a', 10 + i % 7, 1000 + i);
        num_sha(m.sha256, i);
        assert_int_equal(hp_index_record(ix, &m, &is_new), 0);
        want += m.size;
    }
    unsigned long steps = 0;
    sqlite3_progress_handler(hp_index_db(ix), 1, count_vm_steps, &steps);
    assert_int_equal(hp_index_stored_bytes(ix), want);
    sqlite3_progress_handler(hp_index_db(ix), 0, NULL, NULL);
    assert_true(steps < 50);

    /* A repeat (same size, then a new size) counts its bytes once. */
    struct hp_payload_meta m = meta('a', 10, 9000);
    num_sha(m.sha256, 0);
    assert_int_equal(hp_index_record(ix, &m, &is_new), 0);
    assert_false(is_new);
    assert_int_equal(hp_index_stored_bytes(ix), want);
    m.size = 25;
    assert_int_equal(hp_index_record(ix, &m, &is_new), 0);
    want += 15;
    assert_int_equal(hp_index_stored_bytes(ix), want);

    /* Evictions take their bytes off, once; an evicted file arriving again adds them back. */
    char sha[65];
    uint64_t size;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hp_index_oldest(ix, sha, &size), 0);
        assert_int_equal(hp_index_mark_evicted(ix, sha), 0);
        assert_int_equal(hp_index_mark_evicted(ix, sha), -1);
        want -= size;
        assert_int_equal(hp_index_stored_bytes(ix), want);
    }
    assert_int_equal(hp_index_record(ix, &m, &is_new), 0);
    assert_int_equal(hp_index_stored_bytes(ix), want);             /* m was stored all along */
    assert_int_equal(q_int(ix, "SELECT SUM(size) FROM payloads WHERE stored = 1", NULL), (sqlite3_int64)want);

    /* Reopened: the total is summed once again from the rows. */
    char err[256];
    hp_index_close(ix);
    ix = *state = hp_index_open(dir, false, err, sizeof(err));
    assert_non_null(ix);
    assert_int_equal(hp_index_stored_bytes(ix), want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oldest_and_evict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_classification_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_sha_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stored_bytes_running_total, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
