/*
 * reader.c - bounds-checked reads over peer bytes.  See reader.h.
 *
 * Invariant: off <= len always.  Every accessor first checks the sticky
 * error flag and the remaining length; on failure it sets err and returns
 * zero/NULL/false without moving the cursor.
 */
#include <string.h>
#include "reader.h"

void hp_rd_init(struct hp_rd *r, const void *data, size_t len)
{
    /* NULL data is an empty reader; point it at a real (empty) array so that
     * no accessor ever does arithmetic on a null pointer (undefined, even
     * with a zero offset) and zero-length takes succeed as on any reader. */
    static const uint8_t empty[1];
    r->data = data ? data : empty;
    r->len = data ? len : 0;
    r->off = 0;
    r->err = false;
}

/* Reserve n bytes: returns a pointer to them and advances, or fails. */
static const uint8_t *rd_take(struct hp_rd *r, size_t n)
{
    if (r->err || n > r->len - r->off) {
        r->err = true;
        return NULL;
    }
    const uint8_t *p = r->data + r->off;
    r->off += n;
    return p;
}

uint16_t hp_rd_u16be(struct hp_rd *r)
{
    const uint8_t *p = rd_take(r, 2);
    return p ? (uint16_t)((p[0] << 8) | p[1]) : 0;
}

uint16_t hp_rd_u16le(struct hp_rd *r)
{
    const uint8_t *p = rd_take(r, 2);
    return p ? (uint16_t)((p[1] << 8) | p[0]) : 0;
}

uint32_t hp_rd_u24be(struct hp_rd *r)
{
    const uint8_t *p = rd_take(r, 3);
    return p ? ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2] : 0;
}

uint32_t hp_rd_u32be(struct hp_rd *r)
{
    const uint8_t *p = rd_take(r, 4);
    return p ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3] : 0;
}

uint32_t hp_rd_u32le(struct hp_rd *r)
{
    const uint8_t *p = rd_take(r, 4);
    return p ? ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0] : 0;
}

uint64_t hp_rd_u64be(struct hp_rd *r)
{
    const uint8_t *p = rd_take(r, 8);
    uint64_t v = 0;
    for (int i = 0; p && i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

uint64_t hp_rd_u64le(struct hp_rd *r)
{
    const uint8_t *p = rd_take(r, 8);
    uint64_t v = 0;
    for (int i = 7; p && i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

const uint8_t *hp_rd_bytes(struct hp_rd *r, size_t n)
{
    return rd_take(r, n);
}

bool hp_rd_copy(struct hp_rd *r, void *dst, size_t n)
{
    const uint8_t *p = rd_take(r, n);
    if (!p)
        return false;
    if (n)
        memcpy(dst, p, n);
    return true;
}

bool hp_rd_skip(struct hp_rd *r, size_t n)
{
    return rd_take(r, n) != NULL;
}

bool hp_rd_sub(struct hp_rd *r, size_t n, struct hp_rd *sub)
{
    const uint8_t *p = rd_take(r, n);
    if (!p) {
        hp_rd_init(sub, NULL, 0);
        sub->err = true;
        return false;
    }
    hp_rd_init(sub, p, n);
    return true;
}

bool hp_rd_sub8(struct hp_rd *r, struct hp_rd *sub)
{
    size_t n = hp_rd_u8(r);
    return hp_rd_sub(r, r->err ? (size_t)-1 : n, sub);
}

bool hp_rd_sub16be(struct hp_rd *r, struct hp_rd *sub)
{
    size_t n = hp_rd_u16be(r);
    return hp_rd_sub(r, r->err ? (size_t)-1 : n, sub);
}

bool hp_rd_sub24be(struct hp_rd *r, struct hp_rd *sub)
{
    size_t n = hp_rd_u24be(r);
    return hp_rd_sub(r, r->err ? (size_t)-1 : n, sub);
}

bool hp_rd_sub32be(struct hp_rd *r, struct hp_rd *sub)
{
    size_t n = hp_rd_u32be(r);
    return hp_rd_sub(r, r->err ? (size_t)-1 : n, sub);
}

bool hp_rd_peek(const struct hp_rd *r, size_t off, void *dst, size_t n)
{
    size_t left = hp_rd_left(r);
    if (off > left || n > left - off)
        return false;
    if (n)
        memcpy(dst, r->data + r->off + off, n);
    return true;
}

bool hp_rd_starts_with(const struct hp_rd *r, const void *prefix, size_t n)
{
    return n <= hp_rd_left(r) && memcmp(r->data + r->off, prefix, n) == 0;
}

bool hp_rd_starts_with_str(const struct hp_rd *r, const char *prefix)
{
    return hp_rd_starts_with(r, prefix, strlen(prefix));
}

bool hp_rd_line(struct hp_rd *r, size_t max, const uint8_t **line, size_t *linelen)
{
    size_t left = hp_rd_left(r);
    size_t scan = left < max ? left : max;
    const uint8_t *start = r->data + r->off;
    const uint8_t *nl = scan ? memchr(start, '\n', scan) : NULL;
    if (!nl)
        return false;
    size_t n = (size_t)(nl - start);
    r->off += n + 1;
    if (n > 0 && start[n - 1] == '\r')
        n--;
    *line = start;
    *linelen = n;
    return true;
}

long hp_rd_find(const struct hp_rd *r, const void *needle, size_t nlen)
{
    size_t left = hp_rd_left(r);
    if (nlen == 0)
        return 0;
    if (nlen > left)
        return -1;
    const uint8_t *hay = r->data + r->off;
    if (nlen <= 8) {
        /* Parsers look for short separators ("://", "\r\n\r\n") whose first
         * byte is rare in the text: memchr to it, then compare, is several
         * times faster than glibc's memmem there, and with a needle this short
         * the worst case stays within 8 comparisons per byte. */
        const uint8_t *n0 = needle;
        for (const uint8_t *q = hay, *end = hay + left - nlen + 1; q < end; q++) {
            q = memchr(q, n0[0], (size_t)(end - q));
            if (!q)
                return -1;
            if (memcmp(q + 1, n0 + 1, nlen - 1) == 0)
                return (long)(q - hay);
        }
        return -1;
    }
    const uint8_t *p = memmem(hay, left, needle, nlen);
    return p ? (long)(p - hay) : -1;
}

size_t hp_rd_span(const struct hp_rd *r, const uint8_t stop[256])
{
    size_t left = hp_rd_left(r), i = 0;
    const uint8_t *p = r->data + r->off;
    while (i < left && !stop[p[i]])
        i++;
    return i;
}
