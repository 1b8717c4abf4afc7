/*
 * test_litset.c - the one-pass literal sets (src/core/litset.c).
 *
 * Ids and deduplication, the hits of a scan (any ASCII case, at the edges,
 * overlapping, NUL bytes, the empty text), and a long randomised comparison
 * with a plain search over texts at every alignment: a scanner that misses
 * a literal would make the classifier skip a rule without a word, which is
 * how Debian's vectorscan failed on this project's AVX-512 machine.  Built
 * without Hyperscan, compiling fails and every scan says so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/litset.h"

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* The plain answer: p[0..n) holds lit[0..ln) in any ASCII case. */
static bool naive_in(const uint8_t *p, size_t n, const uint8_t *lit, size_t ln)
{
    for (size_t i = 0; i + ln <= n; i++) {
        size_t k = 0;
        while (k < ln && lower(p[i + k]) == lower(lit[k]))
            k++;
        if (k == ln)
            return true;
    }
    return false;
}

static int add(struct hp_litset *s, const char *lit)
{
    return hp_litset_add(s, (const uint8_t *)lit, strlen(lit));
}

static void test_ids(void **state)
{
    (void)state;
    struct hp_litset *s = hp_litset_new();
    assert_non_null(s);
    assert_int_equal(add(s, "wget"), 0);
    assert_int_equal(add(s, "/cgi-bin/"), 1);
    assert_int_equal(add(s, "WGET"), 0);          /* the same literal in another case */
    assert_int_equal(add(s, "wGe"), 2);
    assert_int_equal(hp_litset_add(s, (const uint8_t *)"x", 0), -1);
    assert_int_equal(hp_litset_count(s), 3);
    assert_int_equal(hp_litset_words(s), 1);
    for (int i = 3; i < 70; i++) {
        char b[16];
        snprintf(b, sizeof(b), "lit%d", i);
        assert_int_equal(add(s, b), i);
    }
    assert_int_equal(hp_litset_words(s), 2);
#ifdef HP_HAVE_HYPERSCAN
    assert_int_equal(hp_litset_compile(s), 0);
    assert_int_equal(add(s, "late"), -1);         /* nothing is added once compiled */
#else
    uint64_t hits[2];
    assert_int_equal(hp_litset_compile(s), -1);
    assert_false(hp_litset_scan(s, (const uint8_t *)"wget", 4, hits));
#endif
    hp_litset_free(s);
    hp_litset_free(NULL);
}

#ifdef HP_HAVE_HYPERSCAN
static void test_hits(void **state)
{
    (void)state;
    struct hp_litset *s = hp_litset_new();
    assert_non_null(s);
    const char *lits[] = { "wget", "/cgi-bin/", "${ifs}", "bin", "a\0b", "%2e%2e", "z" };
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(hp_litset_add(s, (const uint8_t *)lits[i], i == 4 ? 3 : strlen(lits[i])), (int)i);
    assert_int_equal(hp_litset_compile(s), 0);
    uint64_t h[1] = { ~(uint64_t)0 };

    static const uint8_t t1[] = "GET /CGI-BIN/x;WgEt${IFS}http://a";
    assert_true(hp_litset_scan(s, t1, sizeof(t1) - 1, h));
    assert_true(hp_litset_hit(h, 0));
    assert_true(hp_litset_hit(h, 1));
    assert_true(hp_litset_hit(h, 2));
    assert_true(hp_litset_hit(h, 3));             /* inside /CGI-BIN/: overlapping hits count */
    assert_false(hp_litset_hit(h, 4));
    assert_false(hp_litset_hit(h, 5));
    assert_false(hp_litset_hit(h, 6));

    static const uint8_t t2[] = { 'a', 0, 'b', '%', '2', 'E', '%', '2', 'e', 'Z' };
    assert_true(hp_litset_scan(s, t2, sizeof(t2), h));   /* NUL inside, hits at both edges */
    assert_int_equal(h[0], (1u << 4) | (1u << 5) | (1u << 6));

    assert_true(hp_litset_scan(s, t2, 0, h));            /* the empty text: nothing, cleared */
    assert_int_equal(h[0], 0);
    hp_litset_free(s);
}

/* Random literals and texts over a small alphabet (so literals do occur),
 * each text scanned at every offset of a buffer: the set must give exactly
 * the plain search's answer for every literal. */
static void test_random_against_plain_search(void **state)
{
    (void)state;
    static const char alpha[] = "aAbB%2e/.$\0{}";
    srandom(12345);
    for (int round = 0; round < 40; round++) {
        struct hp_litset *s = hp_litset_new();
        assert_non_null(s);
        uint8_t lit[300][8];
        size_t ln[300], nlit = 0;
        size_t want = 20 + (size_t)(random() % 280);
        while (nlit < want) {
            ln[nlit] = 1 + (size_t)(random() % 7);
            for (size_t k = 0; k < ln[nlit]; k++)
                lit[nlit][k] = (uint8_t)alpha[random() % (sizeof(alpha) - 1)];
            int id = hp_litset_add(s, lit[nlit], ln[nlit]);
            assert_true(id >= 0);
            if ((size_t)id == nlit)
                nlit++;                          /* a duplicate gets an old id: not kept twice */
        }
        assert_int_equal(hp_litset_compile(s), 0);
        uint8_t buf[300 + 64];
        uint64_t h[5];
        for (int t = 0; t < 20; t++) {
            size_t n = (size_t)(random() % 300);
            uint8_t text[300];
            for (size_t k = 0; k < n; k++)
                text[k] = (uint8_t)alpha[random() % (sizeof(alpha) - 1)];
            for (size_t off = 0; off < 64; off++) {
                memcpy(buf + off, text, n);
                assert_true(hp_litset_scan(s, buf + off, n, h));
                for (size_t i = 0; i < nlit; i++)
                    if (hp_litset_hit(h, (int)i) != naive_in(text, n, lit[i], ln[i]))
                        fail_msg("round %d text %d offset %zu literal %zu: set says %d", round, t, off, i,
                                 hp_litset_hit(h, (int)i));
            }
        }
        hp_litset_free(s);
    }
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids),
#ifdef HP_HAVE_HYPERSCAN
        cmocka_unit_test(test_hits),
        cmocka_unit_test(test_random_against_plain_search),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
