/*
 * test_hll.c - the distinct-count sketches of the roll-up tables (src/store/hll.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "store/hll.h"

static void add_ips(struct hp_hll *s, int from, int to)
{
    char ip[32];
    for (int i = from; i < to; i++) {
        int n = snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        hp_hll_add(s, ip, (size_t)n);
    }
}

/* Small sets are exact, also after a round trip through the blob form. */
static void test_exact_small(void **state)
{
    (void)state;
    struct hp_hll a = { 0 }, b = { 0 };
    add_ips(&a, 0, 100);
    add_ips(&a, 50, 120);                      /* overlap: still 120 */
    assert_int_equal(hp_hll_count(&a), 120);
    uint8_t blob[1 + HP_HLL_REGS];
    size_t n = hp_hll_blob(&a, blob);
    assert_int_equal(blob[0], 'S');
    hp_hll_merge_blob(&b, blob, n);
    assert_int_equal(hp_hll_count(&b), 120);
    add_ips(&b, 120, 128);                     /* exactly the sparse limit */
    assert_int_equal(hp_hll_count(&b), 128);
    hp_hll_free(&a);
    hp_hll_free(&b);
}

static void near(uint64_t got, uint64_t want, double tol)
{
    double d = (double)got - (double)want;
    if (d < 0)
        d = -d;
    if (d > tol * (double)want)
        fail_msg("estimate %llu, true %llu", (unsigned long long)got, (unsigned long long)want);
}

/* Large sets are estimated; merging two halves gives the same as one sketch of the union. */
static void test_estimate_and_merge(void **state)
{
    (void)state;
    static const int sizes[] = { 200, 1000, 5000, 50000, 300000 };
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        struct hp_hll whole = { 0 }, lo = { 0 }, hi = { 0 }, merged = { 0 };
        add_ips(&whole, 0, sizes[k]);
        add_ips(&lo, 0, sizes[k] / 2 + 10);
        add_ips(&hi, sizes[k] / 2, sizes[k]);
        near(hp_hll_count(&whole), (uint64_t)sizes[k], 0.08);
        uint8_t blob[1 + HP_HLL_REGS];
        hp_hll_merge_blob(&merged, blob, hp_hll_blob(&lo, blob));
        hp_hll_merge_blob(&merged, blob, hp_hll_blob(&hi, blob));
        assert_int_equal(hp_hll_count(&merged), hp_hll_count(&whole));
        hp_hll_free(&whole);
        hp_hll_free(&lo);
        hp_hll_free(&hi);
        hp_hll_free(&merged);
    }
}

/* A damaged blob is ignored, never read past its end. */
static void test_bad_blobs(void **state)
{
    (void)state;
    struct hp_hll s = { 0 };
    static const uint8_t bad1[] = { 'S', 1, 2, 3 };                 /* not a multiple of 8 */
    static const uint8_t bad2[] = { 'D', 0, 0 };                    /* short registers */
    static const uint8_t bad3[] = { 'X' };
    hp_hll_merge_blob(&s, bad1, sizeof(bad1));
    hp_hll_merge_blob(&s, bad2, sizeof(bad2));
    hp_hll_merge_blob(&s, bad3, sizeof(bad3));
    hp_hll_merge_blob(&s, "", 0);
    assert_int_equal(hp_hll_count(&s), 0);
    hp_hll_free(&s);
}

/* The SQL functions: hll_count over the union of rows, hll_union of two. */
static void test_sql(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(hp_hll_register(db), 0);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(k, src BLOB)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *ins;
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t VALUES(?, ?)", -1, &ins, NULL), SQLITE_OK);
    for (int row = 0; row < 3; row++) {
        struct hp_hll s = { 0 };
        add_ips(&s, row * 30, row * 30 + 50);          /* 0-49, 30-79, 60-109: 110 distinct */
        uint8_t blob[1 + HP_HLL_REGS];
        size_t n = hp_hll_blob(&s, blob);
        sqlite3_bind_int(ins, 1, row);
        sqlite3_bind_blob(ins, 2, blob, (int)n, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
        hp_hll_free(&s);
    }
    sqlite3_finalize(ins);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT hll_count(src) FROM t),"
                                        " (SELECT hll_count(x) FROM (SELECT hll_union(a.src, b.src) AS x"
                                        "   FROM t a, t b WHERE a.k = 0 AND b.k = 1)),"
                                        " (SELECT hll_count(src) FROM t WHERE k > 9)",
                                        -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 110);
    assert_int_equal(sqlite3_column_int(q, 1), 80);
    assert_int_equal(sqlite3_column_int(q, 2), 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_small),
        cmocka_unit_test(test_estimate_and_merge),
        cmocka_unit_test(test_bad_blobs),
        cmocka_unit_test(test_sql),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
