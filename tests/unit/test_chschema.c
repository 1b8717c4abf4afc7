/*
 * test_chschema.c - unit tests for the fleet table's hot columns (src/store/chschema.c):
 * a field reads its column only when the table has it and otherwise the very expression the
 * column is MATERIALIZED from; types per kind; unknown names refused; the sensor-country map
 * quotes every name and code (an injection-shaped sensor name stays inside its literal).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "store/chschema.h"

static void test_field(void **state)
{
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    int u = hp_chs_index("username", 8);
    assert_true(u >= 0);
    assert_true(hp_chs_field(&b, "username", 8, (hp_chs_have)1 << u));
    assert_string_equal(hp_buf_cstr(&b), "username");
    hp_buf_reset(&b);
    assert_true(hp_chs_field(&b, "username", 8, 0));
    assert_string_equal(hp_buf_cstr(&b),
                        "if(visitParamHas(data, 'username'), visitParamExtractString(data, 'username'), NULL)");
    /* the expression is what init makes the column from */
    struct hp_buf e;
    hp_buf_init(&e, 4096);
    hp_chs_expr(&e, &hp_chs_cols[u]);
    assert_string_equal(hp_buf_cstr(&e), hp_buf_cstr(&b));
    hp_buf_reset(&b);
    assert_true(hp_chs_field(&b, "src_asn", 7, 0));
    assert_non_null(strstr(hp_buf_cstr(&b), "visitParamExtractInt(data, 'src_asn')"));
    hp_buf_reset(&b);
    assert_true(hp_chs_field(&b, "cves", 4, 0));
    assert_string_equal(hp_buf_cstr(&b), "extractAll(visitParamExtractRaw(data, 'cves'), '\"([^\"\\\\\\\\]*)\"')");
    hp_buf_reset(&b);
    assert_true(hp_chs_field(&b, "cred_botnets", 12, 0));
    assert_non_null(strstr(hp_buf_cstr(&b), "arrayStringConcat("));
    /* not a hot column: nothing written */
    hp_buf_reset(&b);
    assert_false(hp_chs_field(&b, "data", 4, ~(hp_chs_have)0));
    assert_false(hp_chs_field(&b, "user", 4, ~(hp_chs_have)0));           /* a prefix of a name */
    assert_int_equal(b.len, 0);
    assert_int_equal(hp_chs_index("usernames", 9), -1);
    hp_buf_free(&b);
    hp_buf_free(&e);
}

static void test_types(void **state)
{
    struct hp_buf b;
    hp_buf_init(&b, 256);
    assert_true(hp_chs_ncols <= 32);
    for (size_t i = 0; i < hp_chs_ncols; i++) {
        hp_buf_reset(&b);
        hp_chs_type(&b, &hp_chs_cols[i]);
        const char *t = hp_buf_cstr(&b);
        switch (hp_chs_cols[i].kind) {
        case HP_CHS_STR: case HP_CHS_JOINED: assert_string_equal(t, "Nullable(String)"); break;
        case HP_CHS_INT: assert_string_equal(t, "Nullable(Int64)"); break;
        case HP_CHS_LIST: assert_string_equal(t, "Array(String)"); break;
        }
        /* names are plain identifiers: they enter SQL unquoted */
        for (const char *p = hp_chs_cols[i].name; *p; p++)
            assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
        assert_int_equal(hp_chs_index(hp_chs_cols[i].name, strlen(hp_chs_cols[i].name)), (int)i);
    }
    hp_buf_free(&b);
}

static void test_sensor_country(void **state)
{
    struct hp_buf b;
    char err[256];
    hp_buf_init(&b, 8192);
    assert_int_equal(hp_chs_sensor_country(NULL, &b, err, sizeof(err)), 0);
    assert_string_equal(hp_buf_cstr(&b), "CAST(NULL AS Nullable(String))");
    hp_buf_reset(&b);
    assert_int_equal(hp_chs_sensor_country("tokyo:JP  paris:FR", &b, err, sizeof(err)), 0);
    assert_string_equal(hp_buf_cstr(&b), "nullIf(transform(sensor, ['tokyo', 'paris'], ['JP', 'FR'], ''), '')");
    hp_buf_reset(&b);
    assert_int_equal(hp_chs_sensor_country("x')OR(1=1:JP", &b, err, sizeof(err)), 0);
    assert_string_equal(hp_buf_cstr(&b), "nullIf(transform(sensor, ['x\\x27\\x29OR\\x281\\x3D1'], ['JP'], ''), '')");
    hp_buf_reset(&b);
    assert_int_equal(hp_chs_sensor_country("tokyo", &b, err, sizeof(err)), -1);
    assert_int_equal(hp_chs_sensor_country("tokyo:JAPAN", &b, err, sizeof(err)), -1);
    assert_int_equal(hp_chs_sensor_country(":JP", &b, err, sizeof(err)), -1);
    hp_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_sensor_country),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
