/*
 * jsonscan.h - reading a few top-level members of an event's JSON, no tree.
 *
 * The SQLite writer counts every event into the roll-up tables (rollup.h),
 * and for the event types that feed rankings it needs a handful of fields
 * (username, uri, ja3, ...).  Building a jansson tree for that cost more
 * than the insert itself: an allocation per member, on the writer thread,
 * for every event.  This scanner walks the object once through the bounds-
 * checked reader (reader.h), remembers where the wanted members' values are,
 * and decodes only those, into caller buffers.  It never allocates.
 *
 * The web engine reads JSON login bodies with it too (proto/http_login.c).
 *
 * The input is normally our own builder's output, but roll-ups are also
 * rebuilt from rows on disk and login bodies come from attackers, so it is
 * treated as untrusted: malformed JSON
 * yields an error, never a read outside the input; nesting is limited to
 * HP_JSCAN_DEPTH levels.
 */
#ifndef HP_JSONSCAN_H
#define HP_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP_JSCAN_DEPTH 32

enum hp_jtype { HP_J_NONE, HP_J_STR, HP_J_NUM, HP_J_ARR, HP_J_OBJ, HP_J_TRUE, HP_J_FALSE, HP_J_NULL };

/* A value: its type and its raw text in the input (strings with their quotes). */
struct hp_jval {
    enum hp_jtype type;
    const char *p;
    size_t n;
};

/*
 * Find names[i] among the members of the top-level object and set vals[i]
 * (type HP_J_NONE when absent; the first occurrence wins).  Returns 0, or -1
 * if the input is not one well-formed JSON object (vals are then all NONE).
 */
int hp_jscan_members(const char *json, size_t len, const char *const *names, size_t nnames,
                     struct hp_jval *vals);

/*
 * The same, for JSON whose top-level members' keys are known to start at
 * keys[0..nkeys) (offsets of their opening quotes: the event builder's key
 * index, event.h): only the wanted members' values are read, the rest of the
 * text is never looked at.  An offset that does not lead to a key, ':' and a
 * value inside json[0..len) is an error (-1, vals all NONE), never a read
 * outside.  At most 16 names.
 */
int hp_jscan_members_at(const char *json, size_t len, const uint32_t *keys, size_t nkeys,
                        const char *const *names, size_t nnames, struct hp_jval *vals);

/*
 * Decode a string value into out (always NUL-terminated, cap >= 1), stopping
 * before a character that would not fit.  \u escapes become UTF-8 (a lone
 * surrogate becomes U+FFFD); \u0000 becomes a NUL byte.  Returns the bytes
 * written, without the terminator; 0 for a value that is not a string.
 */
size_t hp_jscan_str(const struct hp_jval *v, char *out, size_t cap);

/* True if v is an integer literal (-?[0-9]+, at most 20 characters). */
bool hp_jscan_is_int(const struct hp_jval *v);

/*
 * Step through an array's elements: start with *pos = 0; each call sets el
 * and returns true, false after the last (or for a value that is no array).
 */
bool hp_jscan_elem(const struct hp_jval *arr, size_t *pos, struct hp_jval *el);

#endif
