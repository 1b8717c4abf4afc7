/*
 * relit.h - literals one of which every match of a regular expression contains.
 *
 * The HTTP classifier and the response rules test dozens of PCRE2 patterns
 * on every request, and on an ordinary request nearly all of them fail.  A
 * call into PCRE2 costs a few hundred instructions even when it fails at
 * once; looking for a short literal the pattern cannot match without costs
 * a memchr.  hp_relit_from_pattern() reads the pattern text and keeps a set
 * of literals such that every match contains at least one of them: the
 * longest run of literal bytes of the pattern's top level, or one per
 * alternative where the pattern (or a group it cannot match without) is a
 * list of alternatives (relit.c says which constructs it understands; on
 * anything else it keeps less, or nothing).  hp_relit_in() says whether a
 * text could match.  It errs one way only: "no" means PCRE2 would say no;
 * "yes" means ask PCRE2.
 *
 * Literals are compared without regard to ASCII case, so they serve
 * caseless and case-sensitive patterns alike.  Patterns in UTF or UCP mode
 * fold beyond ASCII (caseless 'k' matches U+212A) and get no literal.
 */
#ifndef HP_RELIT_H
#define HP_RELIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP_RELIT_MAX 32           /* bytes kept of one literal */
#define HP_RELIT_ALTS 8           /* literals in a set */

struct hp_relit_one {
    uint8_t n;                    /* length, 1..HP_RELIT_MAX */
    uint8_t anchor;               /* index of the byte hp_relit_in() looks for first */
    uint8_t lit[HP_RELIT_MAX];    /* lower case (ASCII) */
};

struct hp_relit {
    uint8_t nalt;                 /* 0: nothing known, every text may match */
    uint8_t minlen;               /* the shortest literal's length: a shorter text cannot match */
    struct hp_relit_one alt[HP_RELIT_ALTS];
};

/* The literals of pattern pat[0..len); utf: the pattern is compiled in UTF or UCP mode. */
void hp_relit_from_pattern(struct hp_relit *l, const char *pat, size_t len, bool utf);

/* hp_relit_in() without its inline length test: the search itself. */
bool hp_relit_search(const struct hp_relit *l, const uint8_t *p, size_t n);

/* false only when p[0..n) contains none of the literals (in any ASCII case).
 * Inline so that the common answer, a text too short for any literal (most
 * rules name a path longer than a probe's "/"), costs a comparison and no
 * call: with some 300 classification rules that answer is most of them. */
static inline bool hp_relit_in(const struct hp_relit *l, const uint8_t *p, size_t n)
{
    if (l->nalt == 0)
        return true;
    if (n < l->minlen)
        return false;
    return hp_relit_search(l, p, n);
}

#endif
