/*
 * mysql_zip.c - the compressed protocol (CLIENT_COMPRESS) after the login.
 *
 * Every flavour announces CLIENT_COMPRESS, as the real servers do; a client
 * that sets it too (`mariadb --compress`, connectors with compress=true)
 * frames everything after the login's OK in compressed packets: a 7-byte
 * header (3-byte compressed length, a sequence id of its own, 3-byte
 * uncompressed length, 0 when the body is stored as it is), then a zlib
 * stream holding any number of ordinary packets, or a part of one.
 *
 * Input: each whole compressed packet is inflated into s->zin, bounded by
 * the uncompressed length it announces, which is itself bounded by
 * max_packet (a zlib bomb stops at that many bytes: inflate runs into a
 * fixed buffer and fails past it); whole packets in zin are then answered
 * as in the plain protocol; mysqld answers the first and drops the rest of
 * its read buffer, so does this.  Output: what the answer queued in s->out is
 * cut as MariaDB 10.11.19's net buffer cuts it (16 KiB, or the largest
 * packet read, rounded up to 4 KiB; a packet that does not fit fills the
 * buffer and the rest goes out on its own when longer than the buffer) and each piece is deflated at zlib's default level, or
 * stored when under MIN_COMPRESS_LENGTH (50) or when deflating does not
 * shrink it (net_serv.cc, my_compress).
 */
#include <string.h>
#include <zlib.h>
#include "mysql.h"
#include "reader.h"

#define MYZ_HDR 7
#define MYZ_MIN_COMPRESS 50             /* MIN_COMPRESS_LENGTH */
#define MYZ_MAX_CHUNK 0xffffffu         /* MAX_PACKET_LENGTH */

static uint32_t myz_u24(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static void myz_put_hdr(struct hp_buf *b, size_t clen, uint8_t seq, size_t ulen)
{
    uint8_t h[MYZ_HDR] = { (uint8_t)clen, (uint8_t)(clen >> 8), (uint8_t)(clen >> 16), seq,
                           (uint8_t)ulen, (uint8_t)(ulen >> 8), (uint8_t)(ulen >> 16) };
    hp_buf_put(b, h, MYZ_HDR);
}

/* One compressed packet around p[0..n) (n <= MYZ_MAX_CHUNK). */
static void myz_put_chunk(struct hp_my_sess *s, struct hp_buf *b, const uint8_t *p, size_t n)
{
    uint8_t seq = s->zseq++;
    if (n >= MYZ_MIN_COMPRESS) {
        uLongf zlen = compressBound((uLong)n);
        struct hp_buf z;
        hp_buf_init(&z, (size_t)zlen + 1);
        if (hp_buf_reserve(&z, (size_t)zlen) && compress(z.data, &zlen, p, (uLong)n) == Z_OK && zlen < n) {
            myz_put_hdr(b, zlen, seq, n);
            hp_buf_put(b, z.data, zlen);
            hp_buf_free(&z);
            return;
        }
        hp_buf_free(&z);
    }
    myz_put_hdr(b, n, seq, 0);
    hp_buf_put(b, p, n);
}

/* net_write_buff: append n bytes at *pos of the stream; a write that does
 * not fit fills the buffer (flushed), and a rest longer than the buffer is
 * flushed on its own.  *start is where the unflushed buffer begins. */
static void myz_write(struct hp_my_sess *s, struct hp_buf *b, const uint8_t *base, size_t *start, size_t *pos,
                      size_t n)
{
    size_t used = *pos - *start, room = s->znet;
    if (n > room - used) {
        if (used) {
            size_t fill = room - used;
            myz_put_chunk(s, b, base + *start, used + fill);
            *pos += fill;
            n -= fill;
            *start = *pos;
        }
        while (n > MYZ_MAX_CHUNK) {
            myz_put_chunk(s, b, base + *pos, MYZ_MAX_CHUNK);
            *pos += MYZ_MAX_CHUNK;
            n -= MYZ_MAX_CHUNK;
            *start = *pos;
        }
        if (n > room) {
            myz_put_chunk(s, b, base + *pos, n);
            *pos += n;
            *start = *pos;
            return;
        }
    }
    *pos += n;
}

/* Replace s->out[mark..] (plain packets) with its compressed framing. */
void hp_my_zip_wrap(struct hp_my_sess *s, size_t mark)
{
    if (s->out.len <= mark)
        return;
    const uint8_t *base = s->out.data + mark;
    size_t total = s->out.len - mark, start = 0, pos = 0;
    struct hp_buf b;
    hp_buf_init(&b, s->out.cap);
    while (pos + 4 <= total) {          /* header and payload are two writes, as my_net_write does */
        size_t len = myz_u24(base + pos);
        if (len > total - pos - 4)
            len = total - pos - 4;
        myz_write(s, &b, base, &start, &pos, 4);
        myz_write(s, &b, base, &start, &pos, len);
    }
    if (total > pos)
        pos = total;
    if (pos > start)
        myz_put_chunk(s, &b, base + start, pos - start);
    s->out.len = mark;
    hp_buf_put(&s->out, b.data, b.len);
    hp_buf_free(&b);
}

/* Inflate a zlib body into zin, at most ulen bytes (what the header
 * announced: mysqld's buffer is that long, more fails). */
static bool myz_inflate(struct hp_my_sess *s, const uint8_t *p, size_t n, size_t ulen)
{
    if (!hp_buf_reserve(&s->zin, ulen))
        return false;
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit(&z) != Z_OK)
        return false;
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = s->zin.data + s->zin.len;
    z.avail_out = (uInt)ulen;
    int rc = inflate(&z, Z_FINISH);
    size_t got = ulen - z.avail_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END)
        return false;
    s->zin.len += got;
    return true;
}

/* mysqld: the compressed sequence id out of order gets 1156 (seen on
 * 10.11.19: inner id the expected one; compressed id the expected one, 2
 * when a command was expected) and the connection closes. */
static void myz_fail(struct hp_my_sess *s, uint8_t inner, uint8_t zseq, unsigned code, const char *msg,
                     const char *reason)
{
    size_t mark = s->out.len;
    s->seq = inner;
    hp_my_err(s, code, "08S01", "%s", msg);
    s->zseq = zseq;
    hp_my_zip_wrap(s, mark);
    s->closing = true;
    s->close_reason = reason;
}

/* One whole compressed packet: its body into zin, then the first whole packet there. */
static void myz_packet(struct hp_my_sess *s, const uint8_t *h)
{
    size_t clen = myz_u24(h), ulen = myz_u24(h + 4);
    const uint8_t *body = h + MYZ_HDR;
    bool ok = ulen == 0 ? hp_buf_put(&s->zin, body, clen) : myz_inflate(s, body, clen, ulen);
    if (!ok) {                          /* mysqld drops a stream it cannot uncompress, silently */
        s->closing = true;
        s->close_reason = "bad_compression";
        return;
    }
    s->zseq = (uint8_t)(h[3] + 1);
    size_t mark = s->out.len;
    if (hp_my_plain(s, s->zin.data, s->zin.len, h[3]))
        hp_buf_reset(&s->zin);          /* one command per read: mysqld drops what came with it */
    hp_my_zip_wrap(s, mark);
}

size_t hp_my_zip_input(struct hp_my_sess *s, const uint8_t *p, size_t n)
{
    struct hp_rd in;
    hp_rd_init(&in, p, n);
    while (!s->closing && hp_rd_left(&in) >= MYZ_HDR) {
        const uint8_t *h = hp_rd_ptr(&in);
        size_t clen = myz_u24(h), ulen = myz_u24(h + 4);
        /* a new command starts at 0; a packet's rest, or the answer to
         * COM_CHANGE_USER's switch request, carries on from our last id */
        uint8_t want = s->zin.len || s->attempt_open ? s->zseq : 0;
        if (h[3] != want) {
            myz_fail(s, want, want ? want : 2, 1156, "Got packets out of order", "out_of_order");
            return n;
        }
        if (clen > s->cf->max_packet || ulen > s->cf->max_packet) {
            myz_fail(s, (uint8_t)(h[3] + 1), (uint8_t)(h[3] + 1), 1153,
                     "Got a packet bigger than 'max_allowed_packet' bytes", "packet_too_large");
            return n;
        }
        if (hp_rd_left(&in) < MYZ_HDR + clen)
            break;                      /* the header alone is looked at until the body is in */
        size_t big = clen > ulen ? clen : ulen;
        if (big >= s->znet)             /* net_realloc: the buffer grows to the packet, in IO_SIZE steps */
            s->znet = (uint32_t)((big + 4095) & ~(size_t)4095);
        myz_packet(s, h);
        hp_rd_skip(&in, MYZ_HDR + clen);
    }
    if (s->closing)
        return n;
    return hp_rd_pos(&in);
}
