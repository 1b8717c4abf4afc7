/*
 * json.h - writing hostile bytes into JSON without losing them.
 *
 * Attacker strings are data.  hp_json_str() writes any byte string as a JSON
 * string literal: quotes, backslashes, control characters, NUL, DEL, the
 * U+2028/U+2029 separators, the C1 controls and the bidirectional overrides
 * are escaped; other valid UTF-8 passes through; every byte
 * that is not part of a valid UTF-8 sequence is written as U+FFFD.  It returns
 * true when that text is an exact (lossless) rendering of the input.  When it
 * is not, callers also write the raw bytes in base64 (hp_json_b64), which is
 * what the event builder does with a "<key>_b64" field.
 */
#ifndef HP_JSON_H
#define HP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

/* True if the whole input is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool hp_utf8_valid(const void *s, size_t n);

/* Append "..." (with quotes). Returns true if the text is lossless. */
bool hp_json_str(struct hp_buf *b, const void *s, size_t n);
/* Append "..." containing standard base64 (RFC 4648, padded). */
void hp_json_b64(struct hp_buf *b, const void *s, size_t n);
/* Base64 into a buffer (no quotes). */
void hp_b64_put(struct hp_buf *b, const void *s, size_t n);

#endif
