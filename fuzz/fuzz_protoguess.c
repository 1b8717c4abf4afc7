/*
 * fuzz_protoguess.c - libFuzzer harness for hp_protoguess().
 *
 * Runs the guesser over the input as TCP and as UDP and reads every byte of
 * every reported detail, so ASan flags any detail that points outside the
 * input (libFuzzer's input buffer is exactly size bytes).  The result
 * invariants are checked with abort() so a violation is a crash too.
 * Seeds: fuzz/corpus/protoguess/ (one first packet per protocol).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "intel/protoguess.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned fuzz_sink;     /* keeps the detail reads alive */

static void fuzz_check(const struct hp_guess *g, const uint8_t *data, size_t size)
{
    unsigned sum = 0;
    if (!g->proto || !g->proto[0] || g->confidence < 0 || g->confidence > 100 ||
        g->ndetails < 0 || g->ndetails > HP_GUESS_MAX_DETAILS)
        abort();
    if (size == 0 && strcmp(g->proto, "empty"))
        abort();
    for (size_t i = 0; g->proto[i]; i++)
        sum += (unsigned char)g->proto[i];
    for (int i = 0; i < g->ndetails; i++) {
        const struct hp_guess_detail *d = &g->details[i];
        if (!d->key || !d->value || d->len == 0 || d->len > HP_GUESS_DETAIL_MAX)
            abort();
        /* a few details are static text; all others must lie inside the input */
        int inside = size && d->value >= data && d->len <= size &&
                     (size_t)(d->value - data) <= size - d->len;
        if (!inside && strlen((const char *)d->value) != d->len)
            abort();
        for (size_t j = 0; j < d->len; j++)
            sum += d->value[j];
        for (size_t j = 0; d->key[j]; j++)
            sum += (unsigned char)d->key[j];
    }
    fuzz_sink += sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hp_guess g;
    hp_protoguess(data, size, HP_GUESS_TCP, &g);
    fuzz_check(&g, data, size);
    hp_protoguess(data, size, HP_GUESS_UDP, &g);
    fuzz_check(&g, data, size);
    return 0;
}
