/*
 * fuzz_memcached_meta.c - memcached's meta commands (src/proto/
 * memcached_meta.c: mn mg ms md ma me) with the verb, the key and ms's data
 * block supplied here, so that the fuzzer spends its bytes on flags.
 *
 * Byte 0 picks the size of the pieces the stream is fed in.  The rest is
 * lines (split at '\n'); a line's first byte b picks the verb (b % 6: mn
 * mg ms md ma me) and the key ("k0".."k7" from bits 3-5, or with bit 6 the
 * line gives its own); for ms the next byte is the data block's length (in
 * units of 4099 bytes with bit 7, to reach the item size limit), the block
 * (digits, so that ma finds numbers) following the line.  The rest of the
 * line is the flags.  Checked after every read: never more consumed than
 * given; the store's byte and item counts are its items'; the answers are
 * whole lines ending in CRLF, each beginning with a meta status (HD NS EX
 * NF EN VA MN ME) or an error, a VA's value exactly as long as it says.
 */
#include <stdio.h>
#include "fuzz_memcached_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The answers so far: whole lines with known heads, VA values whole. */
static void check_answers(struct hp_mc_sess *s)
{
    (void)s;
    static const char *const heads[] = { "HD", "NS", "EX", "NF", "EN", "VA", "MN", "ME", "ERROR",
                                         "CLIENT_ERROR", "SERVER_ERROR" };
    const char *o = (const char *)fmc_out.data;
    size_t off = 0, n = fmc_out.len;
    while (off < n) {
        const char *nl = memchr(o + off, '\n', n - off);
        CHECK(nl && nl > o + off && nl[-1] == '\r');
        size_t len = (size_t)(nl - (o + off)) - 1, w = strcspn(o + off, " \r");
        bool known = false;
        for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
            known |= w == strlen(heads[i]) && memcmp(o + off, heads[i], w) == 0;
        CHECK(known && w <= len);
        size_t next = (size_t)(nl - o) + 1;
        if (w == 2 && memcmp(o + off, "VA", 2) == 0) {
            unsigned long v = strtoul(o + off + 3, NULL, 10);
            CHECK(v <= n - next && n - next - v >= 2 && o[next + v] == '\r' && o[next + v + 1] == '\n');
            next += v + 2;
        }
        off = next;
    }
}

/* The lines of data[0..size) as meta commands in in. */
static void frame(const uint8_t *data, size_t size, struct hp_buf *in)
{
    static uint8_t digits[255 * 4099];
    if (!digits[0])
        for (size_t k = 0; k < sizeof(digits); k++)
            digits[k] = (uint8_t)('0' + k % 10);
    static const char *const verbs[] = { "mn", "mg", "ms", "md", "ma", "me" };
    size_t i = 0;
    while (i < size) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t end = nl ? (size_t)(nl - data) : size;
        uint8_t b = data[i++];
        const char *verb = verbs[b % 6];
        hp_buf_puts(in, verb);
        if (!(b & 0x40))
            hp_buf_printf(in, " k%d", (b >> 3) & 7);
        size_t blk = 0;
        if (verb[1] == 's') {
            blk = i < end ? data[i++] : 0;
            if (b & 0x80)
                blk *= 4099;
            hp_buf_printf(in, " %zu", blk);
        }
        if (i < end)
            hp_buf_putc(in, ' ');
        hp_buf_put(in, data + i, end - i);
        hp_buf_puts(in, "\r\n");
        if (verb[1] == 's') {
            hp_buf_put(in, digits, blk);
            hp_buf_puts(in, "\r\n");
        }
        i = end + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fmc_run(data, size, 64u << 20, 13, frame, check_answers);
}
