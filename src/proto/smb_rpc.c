/*
 * smb_rpc.c - what travels inside SMB session setup and named pipes.
 *
 * SPNEGO (RFC 4178): session setup blobs are DER; the NTLMSSP token is
 * found by walking negTokenInit [0] / negTokenResp [1] down to the
 * mechToken / responseToken OCTET STRING with a small DER reader on top of
 * hp_rd (every length is checked by hp_rd_sub).  A raw NTLMSSP message is
 * accepted as is (nmap and old clients send one).
 *
 * DCE/RPC over named pipes (MS-RPCE connection-oriented PDUs): BIND and
 * ALTER_CONTEXT are acknowledged for any interface with NDR transfer
 * syntax (so scanners proceed); REQUESTs on srvsvc answer NetShareEnumAll
 * (opnum 15) level 1 and NetShareGetInfo-less clients with the share
 * table; anything else gets an nca_s_op_rng_error fault.  Replies wait on
 * the pipe until the client reads them, at most SMB_PIPE_OUT_MAX bytes.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "smb_int.h"
#include "util.h"

/* ---- DER / SPNEGO --------------------------------------------------------------------- */

/* One TLV: tag and a sub-reader over its contents. */
static bool der_tlv(struct hp_rd *r, uint8_t *tag, struct hp_rd *val)
{
    *tag = hp_rd_u8(r);
    uint8_t l = hp_rd_u8(r);
    size_t len = l;
    if (l & 0x80) {
        unsigned nb = l & 0x7f;
        if (nb == 0 || nb > 4)
            return false;
        len = 0;
        for (unsigned i = 0; i < nb; i++)
            len = len << 8 | hp_rd_u8(r);
    }
    return hp_rd_ok(r) && hp_rd_sub(r, len, val);
}

/* Inside a SEQUENCE of [n] tagged fields: find [want] holding an OCTET STRING. */
static int spnego_seq_token(struct hp_rd *seq, uint8_t want, const uint8_t **tok, size_t *toklen)
{
    for (int guard = 0; guard < 16 && hp_rd_left(seq) > 0; guard++) {
        uint8_t tag;
        struct hp_rd v, os;
        if (!der_tlv(seq, &tag, &v))
            return -1;
        if (tag != want)
            continue;
        if (!der_tlv(&v, &tag, &os) || tag != 0x04)
            return -1;
        *tok = hp_rd_ptr(&os);
        *toklen = hp_rd_left(&os);
        return 0;
    }
    return -1;
}

int hp_smb_spnego_token(const uint8_t *p, size_t n, const uint8_t **tok, size_t *toklen)
{
    struct hp_rd r, v, seq;
    uint8_t tag;
    hp_rd_init(&r, p, n);
    if (hp_rd_starts_with(&r, "NTLMSSP\0", 8)) {
        *tok = p;
        *toklen = n;
        return 0;
    }
    if (!der_tlv(&r, &tag, &v))
        return -1;
    if (tag == 0x60) {                                  /* GSS-API InitialContextToken */
        uint8_t t2;
        struct hp_rd oid, init;
        if (!der_tlv(&v, &t2, &oid) || t2 != 0x06)
            return -1;
        if (!der_tlv(&v, &t2, &init) || t2 != 0xa0)
            return -1;
        if (!der_tlv(&init, &t2, &seq) || t2 != 0x30)
            return -1;
        return spnego_seq_token(&seq, 0xa2, tok, toklen);   /* mechToken */
    }
    if (tag == 0xa1) {                                  /* negTokenResp */
        if (!der_tlv(&v, &tag, &seq) || tag != 0x30)
            return -1;
        return spnego_seq_token(&seq, 0xa2, tok, toklen);   /* responseToken */
    }
    return -1;
}

static void der_wrap(struct hp_buf *out, uint8_t tag, const struct hp_buf *in)
{
    hp_buf_putc(out, tag);
    hp_der_len(out, in->len);
    if (in->len)
        hp_buf_put(out, in->data, in->len);
}

void smb_spnego_init(struct hp_buf *b)
{
    static const uint8_t ntlm_oid[] = { 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a };
    static const uint8_t spnego_oid[] = { 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02 };
    struct hp_buf a, c;
    hp_buf_init(&a, 512);
    hp_buf_init(&c, 512);
    hp_buf_put(&a, ntlm_oid, sizeof(ntlm_oid));
    der_wrap(&c, 0x30, &a);                             /* MechTypeList */
    hp_buf_reset(&a);
    der_wrap(&a, 0xa0, &c);                             /* [0] mechTypes */
    hp_buf_reset(&c);
    der_wrap(&c, 0x30, &a);                             /* NegTokenInit */
    hp_buf_reset(&a);
    der_wrap(&a, 0xa0, &c);                             /* [0] negTokenInit */
    hp_buf_reset(&c);
    hp_buf_put(&c, spnego_oid, sizeof(spnego_oid));
    hp_buf_put(&c, a.data, a.len);
    der_wrap(b, 0x60, &c);
    hp_buf_free(&a);
    hp_buf_free(&c);
}

void smb_spnego_done(struct hp_buf *b)
{
    static const uint8_t done[] = { 0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x00 };
    hp_buf_put(b, done, sizeof(done));
}

/* ---- DCE/RPC -------------------------------------------------------------------------- */

#define RPC_BIND 11
#define RPC_BIND_ACK 12
#define RPC_ALTER 14
#define RPC_ALTER_RESP 15
#define RPC_REQUEST 0
#define RPC_RESPONSE 2
#define RPC_FAULT 3

static const uint8_t ndr_syntax[20] = { 0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8,
                                        0x08, 0x00, 0x2b, 0x10, 0x48, 0x60, 0x02, 0x00, 0x00, 0x00 };

/* Queue a reply behind those not yet read.  The queue is bounded: a client
 * that keeps writing requests and never reads gets no more replies past
 * SMB_PIPE_OUT_MAX pending bytes (a real pipe would stall the writer). */
static void pipe_set(struct smb_file *f, struct hp_buf *b)
{
    if (!hp_buf_ok(b) || b->len > SMB_PIPE_OUT_MAX - f->pipe_len)
        return;
    uint8_t *n = realloc(f->pipe_out, f->pipe_len + b->len);
    if (!n)
        return;
    memcpy(n + f->pipe_len, b->data, b->len);
    f->pipe_out = n;
    f->pipe_len += b->len;
}

size_t smb_pipe_read(struct smb_file *f, uint8_t *dst, size_t max)
{
    size_t n = f->pipe_len < max ? f->pipe_len : max;
    if (n) {
        memcpy(dst, f->pipe_out, n);
        memmove(f->pipe_out, f->pipe_out + n, f->pipe_len - n);
        f->pipe_len -= n;
    }
    return n;
}

static void rpc_hdr(struct hp_buf *b, uint8_t type, uint32_t call_id)
{
    static const uint8_t h[8] = { 5, 0, 0, 3, 0x10, 0, 0, 0 };
    hp_buf_put(b, h, sizeof(h));
    b->data[b->len - 6] = type;
    smb_put16(b, 0);                 /* frag_len, set at the end */
    smb_put16(b, 0);                 /* auth_len */
    smb_put32(b, call_id);
}

static void rpc_bind_ack(struct hp_smb *s, struct smb_file *f, struct hp_rd *r, uint8_t type, uint32_t call_id)
{
    (void)s;
    uint16_t max_xmit = hp_rd_u16le(r);
    uint16_t max_recv = hp_rd_u16le(r);
    uint32_t assoc = hp_rd_u32le(r);
    uint8_t nctx = hp_rd_u8(r);
    hp_rd_skip(r, 3);
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    rpc_hdr(&b, type == RPC_BIND ? RPC_BIND_ACK : RPC_ALTER_RESP, call_id);
    smb_put16(&b, max_xmit > 4280 || !max_xmit ? 4280 : max_xmit);
    smb_put16(&b, max_recv > 4280 || !max_recv ? 4280 : max_recv);
    smb_put32(&b, assoc ? assoc : 0x00005c21u + (uint32_t)(hp_random_u64() % 0x3000));
    if (type == RPC_BIND) {
        char addr[64];   /* pipe names are short; longer ones are cut */
        snprintf(addr, sizeof(addr), "\\PIPE\\%.40s", f->name);
        smb_put16(&b, (uint16_t)(strlen(addr) + 1));
        hp_buf_put(&b, addr, strlen(addr) + 1);
    } else {
        smb_put16(&b, 0);
    }
    while (b.len % 4)
        hp_buf_putc(&b, 0);
    size_t at = b.len;
    hp_buf_putc(&b, 0);
    hp_buf_put(&b, "\0\0\0", 3);
    unsigned results = 0;
    for (unsigned i = 0; i < nctx && i < 16 && hp_rd_ok(r); i++) {
        hp_rd_skip(r, 2);                               /* context id */
        uint8_t ntrans = hp_rd_u8(r);
        hp_rd_skip(r, 1 + 20);                          /* abstract syntax */
        bool ndr = false, feat = false;
        for (unsigned k = 0; k < ntrans && hp_rd_ok(r); k++) {
            const uint8_t *ts = hp_rd_bytes(r, 20);
            if (ts && memcmp(ts, ndr_syntax, 20) == 0)
                ndr = true;
            else if (ts && memcmp(ts, "\x2c\x1c\xb7\x6c\x12\x98\x40\x45", 8) == 0)
                feat = true;                            /* bind time feature negotiation */
        }
        if (!hp_rd_ok(r))
            break;
        if (ndr) {
            smb_put16(&b, 0);
            smb_put16(&b, 0);
            hp_buf_put(&b, ndr_syntax, 20);
        } else {
            smb_put16(&b, feat ? 3 : 2);                /* negotiate_ack / provider rejection */
            smb_put16(&b, feat ? 3 : 2);
            hp_buf_put(&b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
        }
        results++;
    }
    if (at < b.len)
        b.data[at] = (uint8_t)results;
    smb_set16(&b, 8, (uint16_t)b.len);
    pipe_set(f, &b);
    hp_buf_free(&b);
}

static void ndr_str(struct hp_buf *b, const char *str)
{
    uint32_t n = (uint32_t)strlen(str) + 1;
    smb_put32(b, n);
    smb_put32(b, 0);
    smb_put32(b, n);
    smb_utf16(b, str, true);
    while (b->len % 4)
        hp_buf_putc(b, 0);
}

/* NetrShareEnum (opnum 15) response stub for level 1 (or an error for other levels). */
static void srvsvc_share_enum(struct hp_buf *b, struct hp_rd *stub)
{
    uint32_t ptr = hp_rd_u32le(stub);
    if (ptr) {                                          /* ServerName */
        hp_rd_skip(stub, 4 + 4);
        uint32_t actual = hp_rd_u32le(stub);
        hp_rd_skip(stub, (size_t)actual * 2);
        while (hp_rd_pos(stub) % 4 && hp_rd_left(stub))
            hp_rd_skip(stub, 1);
    }
    uint32_t level = hp_rd_u32le(stub);
    const struct smb_share *t;
    size_t n = smb_shares(&t);
    if (level != 1 || !hp_rd_ok(stub)) {
        smb_put32(b, level);
        smb_put32(b, level);
        smb_put32(b, 0);                                /* NULL container */
        smb_put32(b, 0);                                /* total entries */
        smb_put32(b, 0);                                /* resume handle NULL */
        smb_put32(b, 124);                              /* ERROR_INVALID_LEVEL */
        return;
    }
    smb_put32(b, 1);
    smb_put32(b, 1);
    smb_put32(b, 0x00020000);                           /* container referent */
    smb_put32(b, (uint32_t)n);
    smb_put32(b, 0x00020004);                           /* array referent */
    smb_put32(b, (uint32_t)n);                          /* conformance */
    for (size_t i = 0; i < n; i++) {
        smb_put32(b, 0x00020008 + (uint32_t)i * 8);
        smb_put32(b, t[i].type);
        smb_put32(b, 0x0002000c + (uint32_t)i * 8);
    }
    for (size_t i = 0; i < n; i++) {
        ndr_str(b, t[i].name);
        ndr_str(b, t[i].remark);
    }
    smb_put32(b, (uint32_t)n);                          /* TotalEntries */
    smb_put32(b, 0x00020000 + 8 * (uint32_t)n + 16);    /* ResumeHandle referent */
    smb_put32(b, 0);
    smb_put32(b, 0);                                    /* WERR_OK */
}

static void rpc_request(struct hp_smb *s, struct smb_file *f, struct hp_rd *r, uint32_t call_id)
{
    hp_rd_skip(r, 4);                                   /* alloc hint */
    uint16_t ctx_id = hp_rd_u16le(r);
    uint16_t opnum = hp_rd_u16le(r);
    struct hp_buf b;
    hp_buf_init(&b, SMB_PIPE_OUT_MAX);
    bool is_srvsvc = strcasecmp(f->name, "srvsvc") == 0;
    if (is_srvsvc && opnum == 15) {
        smb_ev_pipe(s, f->name, "NetShareEnumAll");
        rpc_hdr(&b, RPC_RESPONSE, call_id);
        smb_put32(&b, 0);                               /* alloc hint, set below */
        smb_put16(&b, ctx_id);
        smb_put16(&b, 0);
        srvsvc_share_enum(&b, r);
        smb_set32(&b, 16, (uint32_t)(b.len - 24));
    } else {
        char op[48];
        snprintf(op, sizeof(op), "opnum %u", opnum);
        smb_ev_pipe(s, f->name, op);
        rpc_hdr(&b, RPC_FAULT, call_id);
        smb_put32(&b, 32);
        smb_put16(&b, ctx_id);
        smb_put16(&b, 0);
        smb_put32(&b, 0x1c010002);                      /* nca_s_op_rng_error */
        smb_put32(&b, 0);
    }
    smb_set16(&b, 8, (uint16_t)b.len);
    pipe_set(f, &b);
    hp_buf_free(&b);
}

void smb_pipe_write(struct hp_smb *s, struct smb_file *f, const uint8_t *p, size_t n)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    uint8_t ver = hp_rd_u8(&r), minor = hp_rd_u8(&r), type = hp_rd_u8(&r);
    hp_rd_skip(&r, 1);                                  /* flags */
    uint8_t drep = hp_rd_u8(&r);
    hp_rd_skip(&r, 3);
    uint16_t frag = hp_rd_u16le(&r);
    hp_rd_skip(&r, 2);
    uint32_t call_id = hp_rd_u32le(&r);
    if (!hp_rd_ok(&r) || ver != 5 || minor > 1 || drep != 0x10 || frag < 16 || frag > n)
        return;                                         /* not DCE/RPC: swallowed like a real pipe */
    struct hp_rd body;
    hp_rd_init(&body, p + 16, (size_t)frag - 16);
    if (type == RPC_BIND || type == RPC_ALTER) {
        if (type == RPC_BIND)
            smb_ev_pipe(s, f->name, "bind");
        rpc_bind_ack(s, f, &body, type, call_id);
    } else if (type == RPC_REQUEST) {
        rpc_request(s, f, &body, call_id);
    }
}
