/*
 * fuzz_litset.c - libFuzzer harness for the one-pass literal sets
 * (src/core/litset.c), checked against a plain search.
 *
 * Input: one byte giving the number of literals (taken modulo 64, at least
 * one), then each literal as a length byte (modulo 16, at least one) and its
 * bytes; the rest is the text.  The set must report exactly the literals the
 * text contains in any ASCII case: a literal missed would make the HTTP
 * classifier skip a rule without a trace, one reported in excess would only
 * cost time but is still a wrong answer.  The text is scanned twice, at two
 * alignments, because a SIMD scanner's faults depend on where the text lies.
 * Seeds: fuzz/corpus/litset/ (literals of the shipped rules with requests).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/litset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t want = data[0] % 64 + 1, at = 1, nlit = 0;
    const uint8_t *lit[64];
    size_t ln[64];
    struct hp_litset *s = hp_litset_new();
    if (!s)
        return 0;
    while (nlit < want && at < size) {
        size_t l = data[at] % 16 + 1;
        if (l > size - at - 1)
            break;
        int id = hp_litset_add(s, data + at + 1, l);
        if (id < 0 || (size_t)id > nlit)
            abort();                    /* ids are dense, duplicates get an old one */
        if ((size_t)id == nlit) {
            lit[nlit] = data + at + 1;
            ln[nlit++] = l;
        }
        at += 1 + l;
    }
    if (nlit == 0 || hp_litset_compile(s) < 0) {
        hp_litset_free(s);
        return 0;
    }
    const uint8_t *text = data + at;
    size_t n = size - at;
    uint8_t *copy = malloc(n + 1);
    uint64_t hits[2][1];
    if (!copy)
        abort();
    if (n)
        memcpy(copy + 1, text, n);
    if (!hp_litset_scan(s, text, n, hits[0]) || !hp_litset_scan(s, copy + 1, n, hits[1]))
        abort();
    for (size_t i = 0; i < nlit; i++) {
        bool want_hit = naive_in(text, n, lit[i], ln[i]);
        if (hp_litset_hit(hits[0], (int)i) != want_hit || hp_litset_hit(hits[1], (int)i) != want_hit)
            abort();
    }
    free(copy);
    hp_litset_free(s);
    return 0;
}
