/*
 * fpnames.h - names of known clients (and SSH servers) by fingerprint.
 *
 * The lists are data/fingerprints/{ja3,ja4,hassh,hasshserver}.tsv
 * ("fingerprint<TAB>names", '#' comments carrying source and licence),
 * compiled in with .incbin and loaded into one hash table on first use.
 */
#ifndef HP_FPNAMES_H
#define HP_FPNAMES_H

#include <stddef.h>

enum hp_fp_kind { HP_FP_JA3, HP_FP_JA4, HP_FP_HASSH, HP_FP_HASSHSERVER, HP_FP_NKINDS };

/* The name(s) for fp (case-insensitive), or NULL.  Thread-safe; the string
 * lives as long as the process. */
const char *hp_fpname(enum hp_fp_kind kind, const char *fp);

/* How many entries of a kind were loaded (for tests and the docs). */
size_t hp_fpname_count(enum hp_fp_kind kind);

#endif
