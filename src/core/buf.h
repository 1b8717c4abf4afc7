/*
 * buf.h - a growable byte buffer with a hard cap, for building output.
 *
 * hp_buf is the writing counterpart of hp_rd: every append is checked against
 * a cap set at creation, so nothing the peer makes us produce (a JSON event,
 * a reply, a transcript) can grow without bound.  An append that would cross
 * the cap fails, sets the sticky 'full' flag and leaves the buffer unchanged;
 * callers test hp_buf_ok() once at the end.  Allocation failure is treated
 * the same way.
 */
#ifndef HP_BUF_H
#define HP_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdarg.h>
#include <string.h>

struct hp_buf {
    uint8_t *data;
    size_t len;
    size_t alloc;
    size_t cap;     /* hard limit on len */
    bool full;      /* sticky: an append was refused */
};

void hp_buf_init(struct hp_buf *b, size_t cap);
void hp_buf_free(struct hp_buf *b);
void hp_buf_reset(struct hp_buf *b);             /* len = 0, clears 'full', keeps memory */
static inline bool hp_buf_ok(const struct hp_buf *b) { return !b->full; }
bool hp_buf_reserve(struct hp_buf *b, size_t extra);
bool hp_buf_put_slow(struct hp_buf *b, const void *p, size_t n);
/* Inline for the same reason: the room test is a few instructions, the call
 * was most of the cost of the short appends events are made of. */
static inline bool hp_buf_put(struct hp_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return !b->full;                 /* p may be NULL then: no memcpy */
    /* room for n bytes and the NUL hp_buf_reserve() keeps, within the cap */
    if (!b->full && n < b->alloc - b->len && n <= b->cap - b->len) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        return true;
    }
    return hp_buf_put_slow(b, p, n);
}
bool hp_buf_putc_slow(struct hp_buf *b, uint8_t c);
/* One byte; inline because event and reply builders call it per character. */
static inline bool hp_buf_putc(struct hp_buf *b, uint8_t c)
{
    if (b->len + 1 < b->alloc && !b->full && b->len < b->cap) {
        b->data[b->len++] = c;
        return true;
    }
    return hp_buf_putc_slow(b, c);
}
/* Big-endian integers, as the binary protocols' frames carry them. */
static inline bool hp_buf_put_u16be(struct hp_buf *b, uint16_t v)
{
    uint8_t t[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    return hp_buf_put(b, t, 2);
}
static inline bool hp_buf_put_u32be(struct hp_buf *b, uint32_t v)
{
    uint8_t t[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    return hp_buf_put(b, t, 4);
}
bool hp_buf_puts(struct hp_buf *b, const char *s);
bool hp_buf_printf(struct hp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool hp_buf_vprintf(struct hp_buf *b, const char *fmt, va_list ap);
/* Drop the first n bytes (consumed input). */
void hp_buf_consume(struct hp_buf *b, size_t n);
/* NUL-terminate without counting the NUL in len; returns the data as a C string. */
const char *hp_buf_cstr(struct hp_buf *b);

#endif
