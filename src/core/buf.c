/*
 * buf.c - capped growable buffer.  See buf.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"

void hp_buf_init(struct hp_buf *b, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->cap = cap;
}

void hp_buf_free(struct hp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
    b->full = false;
}

void hp_buf_reset(struct hp_buf *b)
{
    b->len = 0;
    b->full = false;
}

/* Make room for extra more bytes plus a terminating NUL. */
bool hp_buf_reserve(struct hp_buf *b, size_t extra)
{
    if (b->full)
        return false;
    if (extra > b->cap - b->len) {
        b->full = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->alloc)
        return true;
    size_t n = b->alloc ? b->alloc : 256;
    while (n < need)
        n *= 2;
    if (n > b->cap + 1)
        n = b->cap + 1;
    uint8_t *p = realloc(b->data, n);
    if (!p) {
        b->full = true;
        return false;
    }
    b->data = p;
    b->alloc = n;
    return true;
}

bool hp_buf_put_slow(struct hp_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return !b->full;
    if (!hp_buf_reserve(b, n))
        return false;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

bool hp_buf_putc_slow(struct hp_buf *b, uint8_t c)
{
    return hp_buf_put(b, &c, 1);
}

bool hp_buf_puts(struct hp_buf *b, const char *s)
{
    return hp_buf_put(b, s, strlen(s));
}

/* One formatting pass when the result fits what is allocated (the usual
 * case); otherwise the length is known and a second pass writes it. */
bool hp_buf_vprintf(struct hp_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    size_t room = b->alloc > b->len ? b->alloc - b->len : 0;   /* with the NUL */
    if (b->full)
        return false;
    va_copy(ap2, ap);
    int n = vsnprintf(room ? (char *)b->data + b->len : NULL, room, fmt, ap2);
    va_end(ap2);
    if (n >= 0 && (size_t)n < room && (size_t)n <= b->cap - b->len) {
        b->len += (size_t)n;
        return true;
    }
    if (n < 0 || !hp_buf_reserve(b, (size_t)n))
        return false;
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return true;
}

bool hp_buf_printf(struct hp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = hp_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return ok;
}

void hp_buf_consume(struct hp_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

const char *hp_buf_cstr(struct hp_buf *b)
{
    static char empty[1];
    if (!b->data) {
        if (!hp_buf_reserve(b, 0))
            return empty;
    }
    b->data[b->len] = '\0';
    return (const char *)b->data;
}
