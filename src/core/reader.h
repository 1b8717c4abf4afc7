/*
 * reader.h - the one bounds-checked way to read bytes that came from the network.
 *
 * Every parser in hanipo reads peer data through a struct hp_rd, in the spirit
 * of OpenSSH's sshbuf: a cursor over a borrowed, immutable byte range.  Each
 * accessor checks the remaining length before touching memory; the first
 * failure sets a sticky error flag, after which every accessor fails and
 * returns zeroes.  A parser can therefore read a whole header and test
 * hp_rd_ok() once, and can never index past the end because a peer-sent
 * length said so: lengths taken from the wire are passed to hp_rd_bytes() /
 * hp_rd_sub(), which refuse them if they exceed what is really there.
 *
 * The reader never allocates and never copies; pointers it returns point into
 * the caller's buffer and live as long as that buffer does.
 */
#ifndef HP_READER_H
#define HP_READER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct hp_rd {
    const uint8_t *data;
    size_t len;
    size_t off;
    bool err;
};

void hp_rd_init(struct hp_rd *r, const void *data, size_t len);

static inline size_t hp_rd_left(const struct hp_rd *r) { return r->err ? 0 : r->len - r->off; }
static inline bool hp_rd_ok(const struct hp_rd *r) { return !r->err; }
static inline size_t hp_rd_pos(const struct hp_rd *r) { return r->off; }
/* Pointer to the unread bytes (hp_rd_left() of them). */
static inline const uint8_t *hp_rd_ptr(const struct hp_rd *r) { return r->data + r->off; }

/* One byte: inline, as the byte-at-a-time scanners (JSON, HTTP, shell) call
 * it for every character; the same checks as every other accessor. */
static inline uint8_t hp_rd_u8(struct hp_rd *r)
{
    if (r->err || r->off >= r->len) {
        r->err = true;
        return 0;
    }
    return r->data[r->off++];
}

uint16_t hp_rd_u16be(struct hp_rd *r);
uint16_t hp_rd_u16le(struct hp_rd *r);
uint32_t hp_rd_u24be(struct hp_rd *r);
uint32_t hp_rd_u32be(struct hp_rd *r);
uint32_t hp_rd_u32le(struct hp_rd *r);
uint64_t hp_rd_u64be(struct hp_rd *r);
uint64_t hp_rd_u64le(struct hp_rd *r);

/* Take n bytes; returns a pointer to them or NULL (and sets the error). */
const uint8_t *hp_rd_bytes(struct hp_rd *r, size_t n);
/* Copy n bytes out; false on short input. */
bool hp_rd_copy(struct hp_rd *r, void *dst, size_t n);
bool hp_rd_skip(struct hp_rd *r, size_t n);
/* Carve a sub-reader of n bytes (e.g. a length-prefixed record) and advance. */
bool hp_rd_sub(struct hp_rd *r, size_t n, struct hp_rd *sub);
/* Length-prefixed sub-readers: the prefix is read, then checked against what is left. */
bool hp_rd_sub8(struct hp_rd *r, struct hp_rd *sub);
bool hp_rd_sub16be(struct hp_rd *r, struct hp_rd *sub);
bool hp_rd_sub24be(struct hp_rd *r, struct hp_rd *sub);
bool hp_rd_sub32be(struct hp_rd *r, struct hp_rd *sub);

/* Peek without consuming; false if fewer than n bytes are left. */
bool hp_rd_peek(const struct hp_rd *r, size_t off, void *dst, size_t n);
/* The byte at off past the cursor, -1 when out of range. */
static inline int hp_rd_peek_u8(const struct hp_rd *r, size_t off)
{
    size_t left = hp_rd_left(r);
    return off < left ? r->data[r->off + off] : -1;
}
/* True if the unread bytes start with the given prefix (no error on mismatch). */
bool hp_rd_starts_with(const struct hp_rd *r, const void *prefix, size_t n);
bool hp_rd_starts_with_str(const struct hp_rd *r, const char *prefix);

/*
 * Take one line ending in "\n" (an optional preceding "\r" is stripped from
 * the returned length).  Returns false, without error and without consuming,
 * when no terminator is present within max bytes: the caller decides whether
 * that means "wait for more" or "line too long".
 */
bool hp_rd_line(struct hp_rd *r, size_t max, const uint8_t **line, size_t *linelen);
/* Offset of the first occurrence of needle in the unread bytes, or -1. */
long hp_rd_find(const struct hp_rd *r, const void *needle, size_t nlen);
/* How many of the unread bytes come before the first one whose stop[] entry
 * is nonzero (all of them when none is): strcspn with a table, bounded by
 * the reader.  Consumes nothing. */
size_t hp_rd_span(const struct hp_rd *r, const uint8_t stop[256]);

#endif
