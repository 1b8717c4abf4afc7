/*
 * fuzz_http_rulesdata.c - libFuzzer harness for the embedded response data
 * (src/proto/http_rulesdata.c).
 *
 * Rule files name their body files (`file NAME`); an operator's rule file can
 * name anything, so the lookup by name must be total.  Input: a name (any
 * bytes, cut at the first NUL).  Invariants: an unknown name gives NULL; a
 * known one gives bytes that are readable in full (ASan checks), and the
 * built-in rule text is the same every time.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/http_rules_int.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[512];
    size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
    memcpy(name, data, n);
    name[n] = '\0';
    size_t len = 12345;
    const uint8_t *p = hp_httpdata_file(name, &len);
    if (p) {
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < len; i++)
            sum ^= p[i];
        (void)sum;
    }
    size_t rl1 = 0, rl2 = 0;
    const char *r1 = hp_httpdata_rules(&rl1), *r2 = hp_httpdata_rules(&rl2);
    CHECK(r1 == r2 && rl1 == rl2 && rl1 > 0);
    return 0;
}
