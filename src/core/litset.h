/*
 * litset.h - which of many literals a text contains, in one pass.
 *
 * The HTTP classifier's rules each carry a few literals one of which every
 * match contains (relit.h), so that a text without them is ruled out
 * without a call into PCRE2.  Looking for each rule's literals in turn
 * costs a memchr per literal per rule: with 450 rules and a browser's
 * headers that is most of the classifier's time, and it grows with every
 * rule added.  A litset holds all the literals of one field at once and
 * says, in a single scan of the text, which of them it contains; a rule's
 * test is then a few bit tests.
 *
 * The scan is Hyperscan's literal matcher (Intel's libhyperscan, which
 * Debian builds for amd64), compiled once at start-up.  Literals match
 * without regard to ASCII case, as relit's do.  Where the sensor is built
 * without the library (other architectures), where it cannot run on the
 * CPU (no SSSE3) or cannot compile the set, hp_litset_compile() fails and
 * the caller keeps testing literals one at a time: slower, same answers.
 * Not vectorscan, the portable fork: Debian 12's 5.4.9 missed a literal
 * in 7 of 20 scans of one text on an AVX-512 machine (fuzz_webclass found
 * it; Intel's 5.4.0 found it every time), which here would mean rules
 * silently skipped.
 *
 * A set is used by one thread at a time (it holds its own scratch space).
 */
#ifndef HP_LITSET_H
#define HP_LITSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP_LITSET_MAX 8192        /* literals in one set */

struct hp_litset;

struct hp_litset *hp_litset_new(void);
void hp_litset_free(struct hp_litset *s);

/* Add a literal of 1..255 bytes; returns its id (an equal literal, in any
 * ASCII case, already added gives the same id), or -1 when full or out of
 * memory.  Only before hp_litset_compile(). */
int hp_litset_add(struct hp_litset *s, const uint8_t *lit, size_t n);

/* Build the matcher; 0, or -1 when it cannot be built here (the set then
 * scans nothing and the caller must fall back). */
int hp_litset_compile(struct hp_litset *s);

/* Literals added; 64-bit words a hit set needs. */
size_t hp_litset_count(const struct hp_litset *s);
size_t hp_litset_words(const struct hp_litset *s);

/* Set hits (hp_litset_words() words, cleared here first) to the literals
 * p[0..n) contains.  false when the set is not compiled or the scan failed:
 * the caller must then treat every literal as present. */
bool hp_litset_scan(struct hp_litset *s, const uint8_t *p, size_t n, uint64_t *hits);

static inline bool hp_litset_hit(const uint64_t *hits, int id)
{
    return (hits[(unsigned)id >> 6] >> ((unsigned)id & 63)) & 1;
}

#endif
