/*
 * test_chquery.c - unit tests for the ClickHouse query client's pieces that
 * need no server (src/store/chquery.c): store URLs (schemes, credentials
 * with percent escapes, IPv6 hosts, ports, TLS, refusals), the TabSeparated
 * answer parser (every escape, NULL, empty cells, a cut answer, too many
 * columns, a callback stopping the parse) and SQL string quoting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "store/chquery.h"

static void test_url(void **state)
{
    struct hp_chq_url u;
    char err[256];
    assert_int_equal(hp_chq_parse_url("clickhouse://127.0.0.1:18123/fleet", &u, err, sizeof(err)), 0);
    assert_false(u.https);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 18123);
    assert_string_equal(u.database, "fleet");
    assert_string_equal(u.user, "");

    assert_int_equal(hp_chq_parse_url("clickhouse://rep%40x:p%3Aw:d@@[::1]/?secure=1", &u, err, sizeof(err)), 0);
    assert_true(u.https);
    assert_string_equal(u.user, "rep@x");
    assert_string_equal(u.password, "p:w:d@");          /* the last '@' ends the credentials */
    assert_string_equal(u.host, "[::1]");
    assert_int_equal(u.port, 8443);
    assert_string_equal(u.database, "hanipo");

    assert_int_equal(hp_chq_parse_url("clickhouse+https://ch.example.org", &u, err, sizeof(err)), 0);
    assert_true(u.https);
    assert_int_equal(u.port, 8443);

    static const char *const bad[] = {
        "http://h/db", "clickhouse://", "clickhouse://h:0/db", "clickhouse://h:65536/db", "clickhouse://h:/db",
        "clickhouse://h/db-x", "clickhouse://h/db?secure=2", "clickhouse://u%0@h/db", "clickhouse://u%00@h/db",
        "clickhouse://h o/db", "clickhouse://[::1/db", "clickhouse://h/db#x", "clickhouse://h/db?x=1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (hp_chq_parse_url(bad[i], &u, err, sizeof(err)) != -1)
            fail_msg("accepted %s", bad[i]);
        assert_null(strstr(err, "p:w"));
    }
}

struct rows {
    int n;
    char text[16][64];
    size_t len[16];
    int nulls;
    int stop_at;
};

static int collect(void *arg, size_t ncols, const struct hp_chq_cell *cells)
{
    struct rows *r = arg;
    for (size_t i = 0; i < ncols && r->n < 16; i++, r->n++) {
        if (!cells[i].s) {
            r->nulls++;
            snprintf(r->text[r->n], sizeof(r->text[0]), "<NULL>");
            r->len[r->n] = 6;
            continue;
        }
        assert_int_equal(cells[i].s[cells[i].n], '\0');
        memcpy(r->text[r->n], cells[i].s, cells[i].n < 63 ? cells[i].n : 63);
        r->len[r->n] = cells[i].n;
    }
    return r->stop_at && r->n >= r->stop_at ? 7 : 0;
}

static void test_tsv(void **state)
{
    struct rows r = { 0 };
    const char *a = "ssh\t12\t\\N\n\t\\t\\n\\\\\\0\\x41\\'\\b\\f\\r\tz\n";
    assert_int_equal(hp_chq_parse_tsv(a, strlen(a), collect, &r), 0);
    assert_int_equal(r.n, 6);
    assert_string_equal(r.text[0], "ssh");
    assert_string_equal(r.text[1], "12");
    assert_int_equal(r.nulls, 1);
    assert_int_equal(r.len[3], 0);                              /* an empty cell is not NULL */
    assert_int_equal(r.len[4], 9);
    assert_memory_equal(r.text[4], "\t\n\\\0A'\b\f\r", 9);
    assert_string_equal(r.text[5], "z");

    memset(&r, 0, sizeof(r));
    assert_int_equal(hp_chq_parse_tsv("", 0, collect, &r), 0);
    assert_int_equal(r.n, 0);
    /* a cut answer, a bad escape, a dangling backslash, too many columns: refused */
    assert_int_equal(hp_chq_parse_tsv("a\t1\nb\t2", 8, collect, &r), -1);
    assert_int_equal(hp_chq_parse_tsv("\\x4g\n", 5, collect, &r), -1);
    assert_int_equal(hp_chq_parse_tsv("a\\\n", 3, collect, &r), -1);
    char wide[64] = "";
    for (int i = 0; i < HP_CHQ_MAX_COLS + 1; i++)
        strcat(wide, i ? "\t1" : "1");
    strcat(wide, "\n");
    assert_int_equal(hp_chq_parse_tsv(wide, strlen(wide), collect, &r), -1);
    /* the callback's value stops the parse */
    memset(&r, 0, sizeof(r));
    r.stop_at = 1;
    assert_int_equal(hp_chq_parse_tsv("a\nb\n", 4, collect, &r), 7);
    assert_int_equal(r.n, 1);
}

static void test_quote(void **state)
{
    struct hp_buf b;
    hp_buf_init(&b, 1024);
    hp_chq_quote(&b, "tokyo-1.a_b", 11);
    assert_string_equal(hp_buf_cstr(&b), "'tokyo-1.a_b'");
    hp_buf_reset(&b);
    hp_chq_quote(&b, "a'b\\c\0\n", 7);
    assert_string_equal(hp_buf_cstr(&b), "'a\\x27b\\x5Cc\\x00\\x0A'");
    hp_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_tsv),
        cmocka_unit_test(test_quote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
