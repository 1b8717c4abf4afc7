/*
 * fuzz_mysql_zip.c - the MySQL look-alike's compressed protocol
 * (src/proto/mysql_zip.c) after a login with CLIENT_COMPRESS, with the
 * compressed framing done here so that the fuzzer reaches the inflater
 * and the plain packets inside rather than failing on headers.
 *
 * Byte 0: bit 0 asks for DEPRECATE_EOF too; the rest of it picks the size
 * of the pieces the stream is fed in.  Then records: a mode byte, a length
 * (bit 7 of the mode: two bytes, else one), an extra byte when the mode
 * wants one, and that many bytes.  Mode bits 0-1: 0 the bytes stored
 * (uncompressed length 0), 1 deflated here (zlib, the header announcing
 * their true length), 2 deflated with the length off by the extra byte
 * minus 128, 3 raw: the fuzzer's own header and body.  Bit 2: the bytes
 * are first framed as one plain packet with sequence id 0 (a command),
 * else taken as they are (plain headers of the fuzzer's).  Bits 3-4: the
 * compressed sequence id (0, 1, the next one due, the extra byte).
 * Checked after every piece: never more consumed than given; every
 * compressed packet sent has its 7-byte header and its body inside the
 * output, a body either stored or inflating to exactly the announced
 * length; what they carry is a whole number of plain packets.  The feed
 * stops once the session asked to close.
 */
#include <zlib.h>
#include "fuzz_mysql_login.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The compressed packets of out: headers, bodies, inflated lengths. */
static void check_compressed(const struct hp_buf *out)
{
    struct hp_buf plain;
    hp_buf_init(&plain, 64u << 20);
    size_t off = 0;
    while (off < out->len) {
        CHECK(off + 7 <= out->len);
        const uint8_t *h = out->data + off;
        size_t clen = h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16, ulen = h[4] | (size_t)h[5] << 8 | (size_t)h[6] << 16;
        CHECK(clen <= out->len - off - 7);
        if (ulen == 0) {
            CHECK(hp_buf_put(&plain, h + 7, clen));
        } else {
            CHECK(hp_buf_reserve(&plain, ulen));
            uLongf got = ulen;
            CHECK(uncompress(plain.data + plain.len, &got, h + 7, clen) == Z_OK && got == ulen);
            plain.len += ulen;
        }
        off += 7 + clen;
    }
    fuzz_my_packets(plain.data, plain.len);
    hp_buf_free(&plain);
}

static void zheader(struct hp_buf *b, size_t clen, uint8_t zseq, size_t ulen)
{
    uint8_t h[7] = { (uint8_t)clen, (uint8_t)(clen >> 8), (uint8_t)(clen >> 16), zseq,
                     (uint8_t)ulen, (uint8_t)(ulen >> 8), (uint8_t)(ulen >> 16) };
    hp_buf_put(b, h, 7);
}

/* One record as a compressed packet (or raw bytes) at the end of in. */
static void frame(struct hp_buf *in, uint8_t mode, const uint8_t *p, size_t n, uint8_t zseq, uint8_t skew)
{
    struct hp_buf plain;
    hp_buf_init(&plain, 1 << 18);
    if (mode & 4)
        fuzz_my_pkt(&plain, 0, p, n);
    else
        hp_buf_put(&plain, p, n);
    switch (mode & 3) {
    case 0:
        zheader(in, plain.len, zseq, 0);
        hp_buf_put(in, plain.data, plain.len);
        break;
    case 1:
    case 2: {
        uLongf zl = compressBound(plain.len);
        uint8_t *z = malloc(zl);
        CHECK(compress(z, &zl, plain.data, plain.len) == Z_OK);
        size_t ul = (mode & 3) == 1 ? plain.len : (plain.len + skew - 128) & 0xffffff;
        zheader(in, zl, zseq, ul);
        hp_buf_put(in, z, zl);
        free(z);
        break;
    }
    default:
        hp_buf_put(in, p, n);
    }
    hp_buf_free(&plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct hp_my_conf cf = { 0 };
    struct hp_my_sess s;
    fuzz_my_login(&s, &cf, MY_CLIENT_COMPRESS | (data[0] & 1 ? MY_CLIENT_DEPRECATE_EOF : 0));
    size_t chunk = 1 + (data[0] >> 1) * 5;
    struct hp_buf in;
    hp_buf_init(&in, 1 << 22);
    uint8_t next = 0;
    for (size_t i = 1; i < size;) {
        uint8_t mode = data[i++];
        size_t len = i < size ? data[i++] : 0;
        if ((mode & 0x80) && i < size)
            len = len << 8 | data[i++];
        uint8_t extra = 0;                  /* the fuzzer's sequence id or length skew */
        if (((mode >> 3 & 3) == 3 || (mode & 3) == 2) && i < size)
            extra = data[i++];
        if (len > size - i)
            len = size - i;
        static const uint8_t fixed[] = { 0, 1 };
        uint8_t zseq = (mode >> 3 & 3) < 2 ? fixed[mode >> 3 & 3] : (mode >> 3 & 3) == 2 ? next : extra;
        next = (uint8_t)(zseq + 1);
        frame(&in, mode, data + i, len, zseq, extra);
        i += len;
    }
    size_t off = 0, pending = 0;
    while (off + pending < in.len) {
        size_t n = in.len - off - pending < chunk ? in.len - off - pending : chunk;
        pending += n;
        size_t used = hp_my_input(&s, in.data + off, pending);
        CHECK(used <= pending);
        off += used;
        pending -= used;
        check_compressed(&s.out);
        hp_buf_reset(&s.out);
        if (s.closing)
            break;
    }
    hp_buf_free(&in);
    fuzz_my_end(&s, &cf);
    return 0;
}
