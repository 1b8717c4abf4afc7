/*
 * fuzz_smb_rpc.c - what src/proto/smb_rpc.c reads from the peer: the
 * SPNEGO (DER) wrapping of session setup blobs (hp_smb_spnego_token) and
 * the DCE/RPC PDUs written to a named pipe (smb_pipe_write, answered
 * through smb_pipe_read).  fuzz_smb1.c / fuzz_smb2.c reach the pipe through
 * whole SMB exchanges and fuzz_smb_spnego.c the DER walk; this harness
 * drives the pipe directly and checks the answers as a client reads them.
 *
 * Input: byte 0 picks the pipe (srvsvc, samr, lsarpc, wkssvc); then records
 * of a 2-byte little-endian word and data: bit 15 clear, a write of that
 * many bytes (an RPC PDU); bit 15 set, a read of up to (word & 0x7fff)
 * bytes.  The pending answer is mirrored in the harness, and:
 *   - what is pending never exceeds SMB_PIPE_OUT_MAX (a client that writes
 *     and never reads must not make the sensor buffer without bound)
 *   - a write that is a DCE/RPC BIND / ALTER_CONTEXT / REQUEST PDU (version
 *     5.0/5.1, little-endian drep, frag_length within what was written)
 *     queues exactly one PDU (unless the pending cap is reached), anything
 *     else queues nothing; the PDU is version 5.0, its frag_length is its
 *     length, its call_id the request's, its type BIND_ACK / ALTER_RESP for a
 *     bind / alter and RESPONSE or FAULT for a request; a RESPONSE's
 *     alloc_hint is its stub length
 *   - reads return min(pending, asked) bytes, oldest first
 * Every write's bytes are also given to hp_smb_spnego_token (the token lies
 * in the input; a raw NTLMSSP message is its own token), and wrapped by the
 * harness in a negTokenInit and a negTokenResp (DER, long-form lengths):
 * the token found must be exactly the wrapped bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "event.h"
#include "proto/smb_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const struct hp_evctx fz_ctx = { .session = "000000000001", .protocol = "smb", .service = "smb",
                                        .transport = "tcp", .src_ip = "192.0.2.1", .dst_ip = "192.0.2.2",
                                        .src_port = 1, .dst_port = 445 };

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16; }

/* The pending answer as the harness expects it. */
static uint8_t mirror[SMB_PIPE_OUT_MAX * 2];
static size_t mirror_len;

static void der(struct hp_buf *out, uint8_t tag, const struct hp_buf *in)
{
    hp_buf_putc(out, tag);
    hp_der_len(out, in->len);
    hp_buf_put(out, in->data, in->len);
}

static void check_spnego(const uint8_t *p, size_t n)
{
    const uint8_t *tok;
    size_t tl;
    if (hp_smb_spnego_token(p, n, &tok, &tl) == 0) {
        CHECK(tok >= p && tok + tl <= p + n);
        if (n >= 8 && memcmp(p, "NTLMSSP\0", 8) == 0)
            CHECK(tok == p && tl == n);
    }
    static const uint8_t spnego_oid[] = { 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02 };
    static const uint8_t mech_types[] = { 0xa0, 0x0e, 0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04,
                                          0x01, 0x82, 0x37, 0x02, 0x02, 0x0a };
    static const uint8_t neg_state[] = { 0xa0, 0x03, 0x0a, 0x01, 0x01 };
    struct hp_buf a, b, c;
    hp_buf_init(&a, 1 << 20);
    hp_buf_init(&b, 1 << 20);
    hp_buf_init(&c, 1 << 20);
    for (int resp = 0; resp < 2; resp++) {
        hp_buf_reset(&a);
        hp_buf_reset(&b);
        hp_buf_reset(&c);
        hp_buf_put(&c, p, n);
        der(&a, 0x04, &c);                           /* OCTET STRING token */
        der(&b, 0xa2, &a);                           /* [2] mechToken / responseToken */
        hp_buf_reset(&a);
        if (resp)
            hp_buf_put(&a, neg_state, sizeof(neg_state));
        else
            hp_buf_put(&a, mech_types, sizeof(mech_types));
        hp_buf_put(&a, b.data, b.len);
        hp_buf_reset(&b);
        der(&b, 0x30, &a);                           /* SEQUENCE */
        hp_buf_reset(&a);
        der(&a, resp ? 0xa1 : 0xa0, &b);             /* negTokenResp / negTokenInit */
        if (!resp) {
            hp_buf_reset(&b);
            hp_buf_put(&b, spnego_oid, sizeof(spnego_oid));
            hp_buf_put(&b, a.data, a.len);
            hp_buf_reset(&a);
            der(&a, 0x60, &b);                       /* GSS-API InitialContextToken */
        }
        CHECK(hp_buf_ok(&a));
        CHECK(hp_smb_spnego_token(a.data, a.len, &tok, &tl) == 0);
        CHECK(tl == n && (n == 0 || memcmp(tok, p, n) == 0));
    }
    hp_buf_free(&a);
    hp_buf_free(&b);
    hp_buf_free(&c);
}

/* Is this write an RPC PDU the pipe answers?  Its type, else -1. */
static int rpc_type(const uint8_t *p, size_t n)
{
    if (n < 16 || p[0] != 5 || p[1] > 1 || p[4] != 0x10)
        return -1;
    uint16_t frag = le16(p + 8);
    if (frag < 16 || frag > n)
        return -1;
    return p[2] == 11 || p[2] == 14 || p[2] == 0 ? p[2] : -1;
}

static void check_write(struct hp_smb *s, struct smb_file *f, const uint8_t *p, size_t n)
{
    size_t before = f->pipe_len;
    CHECK(before == mirror_len);
    smb_pipe_write(s, f, p, n);
    CHECK(f->pipe_len <= SMB_PIPE_OUT_MAX);
    CHECK(f->pipe_len >= before && (before == 0 || memcmp(f->pipe_out, mirror, before) == 0));
    int type = rpc_type(p, n);
    if (type < 0 || f->pipe_len == before) {
        /* nothing queued: not RPC, or the answer would pass the cap */
        CHECK(f->pipe_len == before);
        if (type >= 0)
            CHECK(before > SMB_PIPE_OUT_MAX - 4096);
        return;
    }
    const uint8_t *q = f->pipe_out + before;
    size_t qn = f->pipe_len - before;
    CHECK(qn >= 24 && q[0] == 5 && q[1] == 0 && q[4] == 0x10);
    CHECK(le16(q + 8) == qn && le16(q + 10) == 0);
    CHECK(le32(q + 12) == le32(p + 12));                 /* call_id echoed */
    if (type == 11)
        CHECK(q[2] == 12);
    else if (type == 14)
        CHECK(q[2] == 15);
    else
        CHECK(q[2] == 2 || q[2] == 3);
    if (q[2] == 2)
        CHECK(le32(q + 16) == qn - 24);
    memcpy(mirror + mirror_len, q, qn);
    mirror_len += qn;
}

static void check_read(struct smb_file *f, size_t max)
{
    static uint8_t dst[0x8000];
    size_t want = mirror_len < max ? mirror_len : max;
    size_t got = smb_pipe_read(f, dst, max);
    CHECK(got == want && (got == 0 || memcmp(dst, mirror, got) == 0));
    memmove(mirror, mirror + got, mirror_len - got);
    mirror_len -= got;
    CHECK(f->pipe_len == mirror_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const pipes[] = { "srvsvc", "samr", "lsarpc", "wkssvc" };
    if (size < 1)
        return 0;
    struct hp_smb_opts o = { NULL, 64 * 1024 };
    struct hp_smb *s = hp_smb_new(&fz_ctx, &o);
    struct smb_file *f = smb_file_open(s, 1, pipes[data[0] % 4], true, false);
    CHECK(f);
    mirror_len = 0;
    data++;
    size--;
    for (int k = 0; k < 4096 && size >= 2; k++) {
        uint16_t w = le16(data);
        data += 2;
        size -= 2;
        if (w & 0x8000) {
            check_read(f, w & 0x7fff);
            continue;
        }
        size_t n = w < size ? w : size;
        uint8_t *m = malloc(n ? n : 1);              /* exact size: ASan sees overreads */
        memcpy(m, data, n);
        check_write(s, f, m, n);
        if (k < 4)
            check_spnego(m, n);
        free(m);
        data += n;
        size -= n;
    }
    hp_smb_free(s);
    return 0;
}
