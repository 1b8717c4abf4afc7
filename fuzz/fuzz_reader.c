/*
 * fuzz_reader.c - libFuzzer harness for the bounds-checked reader (src/core/reader.c).
 *
 * Input: byte 0 is the length P of a program, bytes 1..P are the program,
 * the rest is the buffer the readers read.  Each program step picks an
 * accessor (and its arguments) and runs it on the innermost of a stack of
 * readers (the root plus sub-readers carved with hp_rd_sub*).  Every reader
 * has a shadow model (position, error flag) and each result is compared with
 * a reference computed directly from the buffer: exact integer values, the
 * pointers returned, copied and peeked bytes, lines and find offsets.  After
 * every step: pos <= len, hp_rd_left/hp_rd_ok/hp_rd_ptr agree with the model,
 * and once the error flag is set every read returns zero without moving.
 * The buffer is the fuzzer's own allocation, so any over-read hits ASan.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "reader.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define MAXR 6

struct model {
    struct hp_rd r;
    const uint8_t *base;     /* what the reader reads (never NULL) */
    size_t len, pos;
    bool err;
};

struct prog {
    const uint8_t *p;
    size_t n;
};

static uint8_t arg8(struct prog *pg)
{
    if (!pg->n)
        return 0;
    pg->n--;
    return *pg->p++;
}

static size_t left_of(const struct model *m)
{
    return m->err ? 0 : m->len - m->pos;
}

/* A size argument, biased towards the interesting boundaries. */
static size_t arg_size(struct prog *pg, const struct model *m)
{
    uint8_t b = arg8(pg);
    switch (b) {
    case 0xff: return SIZE_MAX;
    case 0xfe: return left_of(m) + 1;
    case 0xfd: return left_of(m);
    case 0xfc: return left_of(m) ? left_of(m) - 1 : 0;
    case 0xfb: return (size_t)0xffffffffu;
    default: return b;
    }
}

static void check_model(const struct model *m)
{
    CHECK(m->pos <= m->len);
    CHECK(hp_rd_pos(&m->r) == m->pos);
    CHECK(m->r.len == m->len);
    CHECK(m->r.off <= m->r.len);
    CHECK(hp_rd_ok(&m->r) == !m->err);
    CHECK(hp_rd_left(&m->r) == left_of(m));
    if (m->len)
        CHECK(hp_rd_ptr(&m->r) == m->base + m->pos);
}

/* Reference for taking n bytes: true (and advance) or set the error. */
static bool ref_take(struct model *m, size_t n, size_t *at)
{
    if (m->err || n > m->len - m->pos) {
        m->err = true;
        return false;
    }
    *at = m->pos;
    m->pos += n;
    return true;
}

static uint64_t ref_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t ref_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

/* Integer read of width w, big- or little-endian, through the real accessor. */
static void op_int(struct model *m, int kind)
{
    static const size_t width[] = { 1, 2, 2, 3, 4, 4, 8, 8 };
    static const bool be[] = { true, true, false, true, true, false, true, false };
    size_t w = width[kind], at = 0;
    uint64_t got;
    switch (kind) {
    case 0: got = hp_rd_u8(&m->r); break;
    case 1: got = hp_rd_u16be(&m->r); break;
    case 2: got = hp_rd_u16le(&m->r); break;
    case 3: got = hp_rd_u24be(&m->r); break;
    case 4: got = hp_rd_u32be(&m->r); break;
    case 5: got = hp_rd_u32le(&m->r); break;
    case 6: got = hp_rd_u64be(&m->r); break;
    default: got = hp_rd_u64le(&m->r); break;
    }
    uint64_t want = 0;
    if (ref_take(m, w, &at))
        want = be[kind] ? ref_be(m->base + at, w) : ref_le(m->base + at, w);
    CHECK(got == want);
}

/* Carve a sub-reader; prefix 0 = explicit n, else prefix width 1/2/3/4. */
static bool op_sub(struct model *m, int prefix, size_t n, struct model *sub)
{
    bool ok;
    size_t at = 0, want_n = n;
    bool ref_ok = true;
    switch (prefix) {
    case 0: ok = hp_rd_sub(&m->r, n, &sub->r); break;
    case 1: ok = hp_rd_sub8(&m->r, &sub->r); break;
    case 2: ok = hp_rd_sub16be(&m->r, &sub->r); break;
    case 3: ok = hp_rd_sub24be(&m->r, &sub->r); break;
    default: ok = hp_rd_sub32be(&m->r, &sub->r); break;
    }
    if (prefix) {
        if (ref_take(m, (size_t)prefix, &at))
            want_n = (size_t)ref_be(m->base + at, (size_t)prefix);
        else
            ref_ok = false;
    }
    if (ref_ok)
        ref_ok = ref_take(m, want_n, &at);
    CHECK(ok == ref_ok);
    if (ok) {
        sub->base = m->base + at;
        sub->len = want_n;
    } else {
        sub->base = sub->r.data;             /* a dead reader reads nothing */
        sub->len = 0;
    }
    sub->pos = 0;
    sub->err = !ok;
    CHECK(sub->r.len == sub->len);
    if (ok)
        CHECK(sub->r.data == sub->base);
    return ok;
}

static void op_line(struct model *m, size_t max)
{
    const uint8_t *line = (const uint8_t *)"sentinel";
    size_t ll = 12345;
    bool ok = hp_rd_line(&m->r, max, &line, &ll);
    size_t left = left_of(m), scan = left < max ? left : max;
    size_t i;
    for (i = 0; i < scan; i++)
        if (m->base[m->pos + i] == '\n')
            break;
    if (i == scan) {
        CHECK(!ok);
        CHECK(ll == 12345);                   /* outputs untouched */
        return;
    }
    CHECK(ok);
    size_t want = i;
    if (want > 0 && m->base[m->pos + want - 1] == '\r')
        want--;
    CHECK(line == m->base + m->pos);
    CHECK(ll == want);
    m->pos += i + 1;
}

static void op_find(struct model *m, const uint8_t *needle, size_t nlen)
{
    long got = hp_rd_find(&m->r, needle, nlen);
    long want = -1;
    size_t left = left_of(m);
    if (nlen == 0) {
        want = 0;
    } else if (nlen <= left) {
        for (size_t i = 0; i + nlen <= left; i++)
            if (memcmp(m->base + m->pos + i, needle, nlen) == 0) {
                want = (long)i;
                break;
            }
    }
    CHECK(got == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t plen = data[0];
    if (plen > size - 1)
        plen = size - 1;
    struct prog pg = { data + 1, plen };
    const uint8_t *buf = data + 1 + plen;
    size_t blen = size - 1 - plen;

    struct model st[MAXR];
    int top = 0;
    memset(st, 0, sizeof(st));
    /* an empty buffer is read through a NULL-data reader */
    hp_rd_init(&st[0].r, blen ? buf : NULL, blen ? blen : 1234);
    st[0].base = blen ? buf : st[0].r.data;
    st[0].len = blen;
    check_model(&st[0]);

    uint8_t tmp[256];
    int steps = 0;
    while (pg.n > 0 && steps++ < 512) {
        struct model *m = &st[top];
        uint8_t op = arg8(&pg);
        bool was_err = m->err;
        size_t was_pos = m->pos;
        switch (op % 16) {
        case 0: case 1:
            op_int(m, arg8(&pg) & 7);
            break;
        case 2: {
            size_t n = arg_size(&pg, m), at = 0;
            const uint8_t *p = hp_rd_bytes(&m->r, n);
            bool ok = ref_take(m, n, &at);
            CHECK(ok == (p != NULL));
            if (ok)
                CHECK(p == m->base + at);
            break;
        }
        case 3: {
            size_t n = arg_size(&pg, m), at = 0;
            if (n > sizeof(tmp) && n <= left_of(m))
                n = sizeof(tmp);                     /* stay inside tmp on success */
            memset(tmp, 0xA5, sizeof(tmp));
            bool ok = hp_rd_copy(&m->r, tmp, n);
            CHECK(ok == ref_take(m, n, &at));
            if (ok && n)
                CHECK(memcmp(tmp, m->base + at, n) == 0);
            if (!ok)
                CHECK(tmp[0] == 0xA5);
            break;
        }
        case 4: {
            size_t n = arg_size(&pg, m), at = 0;
            CHECK(hp_rd_skip(&m->r, n) == ref_take(m, n, &at));
            break;
        }
        case 5: {                                    /* push a sub-reader */
            int prefix = arg8(&pg) % 5;
            size_t n = prefix ? 0 : arg_size(&pg, m);
            if (top + 1 >= MAXR) {
                struct model scratch;
                memset(&scratch, 0, sizeof(scratch));
                op_sub(m, prefix, n, &scratch);
                check_model(&scratch);
            } else {
                op_sub(m, prefix, n, &st[top + 1]);
                top++;
                check_model(&st[top]);
            }
            break;
        }
        case 6:                                      /* pop */
            if (top > 0)
                top--;
            break;
        case 7: {
            size_t off = arg_size(&pg, m), n = arg_size(&pg, m);
            size_t left = left_of(m);
            bool want = off <= left && n <= left - off;
            if (want && n > sizeof(tmp))
                n = sizeof(tmp), want = off <= left && n <= left - off;
            memset(tmp, 0xA5, sizeof(tmp));
            bool ok = hp_rd_peek(&m->r, off, tmp, n);
            CHECK(ok == want);
            if (ok && n)
                CHECK(memcmp(tmp, m->base + m->pos + off, n) == 0);
            break;
        }
        case 8: {
            size_t off = arg_size(&pg, m);
            int got = hp_rd_peek_u8(&m->r, off);
            int want = off < left_of(m) ? m->base[m->pos + off] : -1;
            CHECK(got == want);
            break;
        }
        case 9: {                                    /* starts_with a prefix from the program */
            size_t n = arg8(&pg) % 8;
            if (n > pg.n)
                n = pg.n;
            bool want = n <= left_of(m) && memcmp(m->base + m->pos, pg.p, n) == 0;
            CHECK(hp_rd_starts_with(&m->r, pg.p, n) == want);
            pg.p += n;
            pg.n -= n;
            break;
        }
        case 10: {                                   /* starts_with a prefix of the data itself */
            size_t n = arg_size(&pg, m);
            if (n > left_of(m))
                n = left_of(m);
            CHECK(hp_rd_starts_with(&m->r, m->base + m->pos, n));
            char s[8] = "";
            size_t k = n < 7 ? n : 7;
            memcpy(s, m->base + m->pos, k);
            if (!memchr(s, 0, k))
                CHECK(hp_rd_starts_with_str(&m->r, s));
            break;
        }
        case 11: case 12:
            op_line(m, arg_size(&pg, m));
            break;
        case 13: {                                   /* find a needle from the program */
            size_t n = arg8(&pg) % 6;
            if (n > pg.n)
                n = pg.n;
            op_find(m, pg.p, n);
            pg.p += n;
            pg.n -= n;
            break;
        }
        case 14: {                                   /* find a needle taken from the data */
            size_t off = arg8(&pg), n = arg8(&pg) % 8;
            if (off < left_of(m) && n <= left_of(m) - off) {
                memcpy(tmp, m->base + m->pos + off, n);
                op_find(m, tmp, n);
                long f = hp_rd_find(&m->r, tmp, n);
                CHECK(f >= 0 && (size_t)f <= off);
            } else {
                op_find(m, (const uint8_t *)"\r\n\r\n", 4);
            }
            break;
        }
        default:
            /* force the error with an impossible read, then check it sticks */
            CHECK(hp_rd_bytes(&m->r, SIZE_MAX) == NULL);
            m->err = true;
            break;
        }
        /* once dead, a reader stays dead and does not move */
        if (was_err) {
            CHECK(m->err);
            CHECK(m->pos == was_pos);
        }
        for (int i = 0; i <= top; i++)
            check_model(&st[i]);
        if (m->err) {
            CHECK(hp_rd_u32be(&m->r) == 0);
            CHECK(hp_rd_u8(&m->r) == 0);
            CHECK(hp_rd_u64le(&m->r) == 0);
            CHECK(hp_rd_bytes(&m->r, 0) == NULL);
            CHECK(!hp_rd_skip(&m->r, 0));
            CHECK(hp_rd_peek_u8(&m->r, 0) == -1);
            CHECK(hp_rd_pos(&m->r) == m->pos);
            CHECK(!hp_rd_ok(&m->r));
        }
    }
    return 0;
}
