/*
 * fuzz_relit.c - libFuzzer harness for the required-literal shortcut
 * (src/core/relit.c), checked against PCRE2 itself.
 *
 * Input: one flag byte (bit 0: caseless), one byte of pattern length, the
 * pattern, then the subject.  When PCRE2 compiles the pattern and matches
 * the subject, hp_relit_in() must say the subject may match: a "no" there
 * would make the classifier and the response rules miss a request.  The
 * subject with the literal appended (in the case the flag's bit 1 picks)
 * must always be found (one of the set's literals: flag bits 2-7 pick it).
 * Seeds: fuzz/corpus/relit/ (patterns of the shipped rules with subjects
 * they match).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/relit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || (size_t)data[1] > size - 2)
        return 0;
    uint8_t flags = data[0];
    size_t plen = data[1];
    const char *pat = (const char *)data + 2;
    const uint8_t *subj = data + 2 + plen;
    size_t slen = size - 2 - plen;
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, plen, (flags & 1) ? PCRE2_CASELESS : 0, &ec, &eo, NULL);
    if (!re)
        return 0;
    uint32_t opts = 0;
    pcre2_pattern_info(re, PCRE2_INFO_ALLOPTIONS, &opts);
    struct hp_relit l;
    hp_relit_from_pattern(&l, pat, plen, (opts & (PCRE2_UTF | PCRE2_UCP)) != 0);
    if (l.nalt > HP_RELIT_ALTS)
        abort();
    for (int i = 0; i < l.nalt; i++)
        if (l.alt[i].n == 0 || l.alt[i].n > HP_RELIT_MAX || l.alt[i].anchor >= l.alt[i].n)
            abort();
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    pcre2_set_match_limit(mc, 100000);
    pcre2_set_depth_limit(mc, 1000);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    int rc = pcre2_match(re, subj, slen, 0, 0, md, mc);
    if (rc >= 0 && !hp_relit_in(&l, subj, slen))
        abort();                    /* PCRE2 matched a text the shortcut ruled out */
    /* the search itself: any one literal appended to the subject is found */
    const struct hp_relit_one *one = l.nalt ? &l.alt[(flags >> 2) % l.nalt] : NULL;
    size_t on = one ? one->n : 0;
    uint8_t *s2 = malloc(slen + on + 1);
    if (s2) {
        if (slen)
            memcpy(s2, subj, slen);
        for (size_t i = 0; i < on; i++) {
            uint8_t c = one->lit[i];
            s2[slen + i] = (flags & 2) && c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c;
        }
        if (!hp_relit_in(&l, s2, slen + on))
            abort();
        free(s2);
    }
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    pcre2_code_free(re);
    return 0;
}
