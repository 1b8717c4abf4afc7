/*
 * fuzz_memcached_bin.c - memcached's binary protocol (src/proto/
 * memcached_bin.c) with the framing done here: every request starts with
 * the 0x80 magic and carries lengths that fit its opcode, so that the
 * fuzzer explores opcodes, extras, keys and values instead of being shut
 * out by "Invalid arguments" or the ASCII path.
 *
 * Byte 0 picks the size of the pieces the stream is fed in.  Then records:
 * the opcode (any byte); a control byte: bits 0-2 the key ("k0".."k6",
 * none for the keyless commands, or 7: a length byte and the key's bytes),
 * bit 3 a two-byte value length (else one), bit 4 an extras length from
 * the next byte instead of the opcode's own (8 for the storage commands,
 * 20 for incr/decr, 4 for touch and gat, 0 for flush or 4 with bit 6),
 * bit 5 a CAS from the next 8 bytes; the extras' bytes; the value's length
 * and bytes.  Header lengths are
 * computed from those.  Checked after every read: never more consumed than
 * given; the store's byte and item counts are its items' (after the input
 * keys are unique too); what was sent is a whole sequence of responses,
 * each with magic 0x81, the request's opcode and a total body length that
 * covers its extras and key.
 */
#include "fuzz_memcached_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t std_extlen(uint8_t op, bool alt)
{
    switch (op) {
    case 0x01: case 0x02: case 0x03: case 0x11: case 0x12: case 0x13:
        return 8;
    case 0x05: case 0x06: case 0x15: case 0x16:
        return 20;
    case 0x1c: case 0x1d: case 0x1e: case 0x23: case 0x24:
        return 4;
    case 0x08: case 0x18:
        return alt ? 4 : 0;
    default:
        return 0;
    }
}

/* The responses sent so far: whole, 0x81, lengths inside. */
static void check_responses(struct hp_mc_sess *s)
{
    (void)s;
    size_t off = 0;
    while (off < fmc_out.len) {
        CHECK(off + 24 <= fmc_out.len);
        const uint8_t *h = fmc_out.data + off;
        uint32_t kl = (uint32_t)h[2] << 8 | h[3], el = h[4];
        uint32_t bl = (uint32_t)h[8] << 24 | (uint32_t)h[9] << 16 | (uint32_t)h[10] << 8 | h[11];
        CHECK(h[0] == 0x81 && bl >= kl + el && bl <= fmc_out.len - off - 24);
        off += 24 + bl;
    }
}

static void put_be(struct hp_buf *b, uint64_t v, int n)
{
    while (n--)
        hp_buf_putc(b, (uint8_t)(v >> (8 * n)));
}

/* The records of data[0..size) as binary requests in in. */
static void frame(const uint8_t *data, size_t size, struct hp_buf *in)
{
    size_t i = 0;
    uint32_t opaque = 0;
    while (i + 2 <= size) {
        uint8_t op = data[i++], ctl = data[i++];
        char key[256];
        size_t kl;
        if ((ctl & 7) == 7) {
            kl = i < size ? data[i++] : 0;
            if (kl > size - i)
                kl = size - i;
            memcpy(key, data + i, kl);
            i += kl;
        } else {
            key[0] = 'k';
            key[1] = (char)('0' + (ctl & 7));
            kl = 2;
            if (op == 0x07 || op == 0x0a || op == 0x0b || op == 0x08 || op == 0x17 || op == 0x18)
                kl = 0;                 /* keyless commands */
        }
        size_t el = std_extlen(op, ctl & 0x40);
        if ((ctl & 0x10) && i < size)
            el = data[i++];
        uint64_t cas = 0;
        for (int k = 0; (ctl & 0x20) && k < 8 && i < size; k++)
            cas = cas << 8 | data[i++];
        uint8_t ext[256] = { 0 };
        size_t take = el < size - i ? el : size - i;
        memcpy(ext, data + i, take);
        i += take;
        size_t vl = i < size ? data[i++] : 0;
        if ((ctl & 0x08) && i < size)
            vl = vl << 8 | data[i++];
        if (vl > size - i)
            vl = size - i;
        hp_buf_putc(in, 0x80);
        hp_buf_putc(in, op);
        put_be(in, kl, 2);
        hp_buf_putc(in, (uint8_t)el);
        hp_buf_putc(in, 0);
        put_be(in, 0, 2);
        put_be(in, el + kl + vl, 4);
        put_be(in, opaque++, 4);
        put_be(in, cas, 8);
        hp_buf_put(in, ext, el);
        hp_buf_put(in, key, kl);
        hp_buf_put(in, data + i, vl);
        i += vl;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fmc_run(data, size, 16u << 20, 11, frame, check_responses);
}
