/*
 * rdp.c - protocol module "rdp": Windows Remote Desktop on 3389, as far as
 * Network Level Authentication, where the client's NTLM credentials come.
 *
 *   X.224 Connection Request (TPKT) -> rdp.connect_request: the cookie
 *       (mstshash=USER, which many scanners fill with a user name), a
 *       load-balancer routing token (msts=...), requested protocols.
 *   Negotiation answer, as a Windows server that requires NLA:
 *       CredSSP (HYBRID / HYBRID_EX) requested -> RDP_NEG_RSP selecting HYBRID
 *       TLS only requested                     -> RDP_NEG_FAILURE HYBRID_REQUIRED_BY_SERVER
 *       standard RDP security only requested   -> RDP_NEG_FAILURE SSL_REQUIRED_BY_SERVER
 *       no negotiation request (very old)      -> a bare Connection Confirm,
 *                                                 the next PDU closes
 *   TLS through tlsterm_conn.c (the ClientHello is fingerprinted: tls.client_hello)
 *   CredSSP TSRequest (DER) carrying NTLM (raw or SPNEGO-wrapped):
 *       NEGOTIATE    -> TSRequest with our CHALLENGE (ntlm.c: the sensor's
 *                       Windows names, which rdp-ntlm-info reads)
 *       AUTHENTICATE -> login.failed (user, domain, workstation, NetNTLMv2 as
 *                       a hashcat line), then TSRequest errorCode
 *                       STATUS_LOGON_FAILURE and close, as Windows does on a
 *                       wrong password.
 *
 * DER is read only through the hp_rd reader: every TLV length is checked
 * against its container; the TSRequest is capped at RDP_TSREQ_MAX.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "ntlm.h"
#include "proto.h"
#include "rdp.h"
#include "reader.h"
#include "tlsterm_conn.h"
#include "util.h"

#define RDP_CR_MAX       2048            /* a Connection Request TPKT */
#define RDP_TSREQ_MAX    (64 * 1024)     /* one CredSSP message */
#define RDP_PLAIN_MAX    (128 * 1024)
#define RDP_IDLE_MS      (30 * 1000)
#define RDP_MAX_ROUNDS   8               /* TSRequests per connection */
#define RDP_CREDSSP_VER  6
#define STATUS_LOGON_FAILURE 0xc000006du

enum { ST_CR, ST_LEGACY, ST_TLS, ST_DONE };

struct rdp_conn {
    int state;
    bool closing;
    struct hp_tlsconn_hello hello;
    bool server_hello_seen;
    struct hp_tlsterm *tls;
    struct hp_buf plain;
    uint32_t peer_version;
    unsigned rounds;
    bool spnego;                    /* the client wraps NTLM in SPNEGO */
    uint8_t chal[8];
    bool challenged;
};

/* ---- parsers ------------------------------------------------------------------------- */

/* Copy at most outlen-1 bytes of a text field, stopping at NUL. */
static void copy_text(char *out, size_t outlen, const uint8_t *p, size_t n)
{
    size_t k = 0;
    for (; k < n && k + 1 < outlen && p[k]; k++)
        out[k] = (char)p[k];
    out[k] = '\0';
}

long hp_rdp_parse_cr(const uint8_t *p, size_t n, struct hp_rdp_cr *out)
{
    struct hp_rd r;
    memset(out, 0, sizeof(*out));
    hp_rd_init(&r, p, n);
    if (n < 4)
        return n && p[0] != 3 ? -1 : 0;
    uint8_t ver = hp_rd_u8(&r);
    hp_rd_u8(&r);
    uint16_t tlen = hp_rd_u16be(&r);
    if (ver != 3 || tlen < 11 || tlen > RDP_CR_MAX)
        return -1;
    if (n < tlen)
        return 0;
    hp_rd_init(&r, p + 4, tlen - 4u);
    uint8_t li = hp_rd_u8(&r);
    uint8_t code = hp_rd_u8(&r);
    if (!hp_rd_ok(&r) || (code & 0xf0) != 0xe0 || li < 6)
        return -1;
    hp_rd_skip(&r, 5);             /* dst-ref, src-ref, class */
    /* the variable part ends where LI says (some clients send more after it) */
    struct hp_rd all = r, v;
    size_t var = li >= 6 ? (size_t)li - 6 : 0;
    if (!hp_rd_sub(&all, var <= hp_rd_left(&r) ? var : hp_rd_left(&r), &v))
        return -1;
    if (hp_rd_starts_with_str(&v, "Cookie: ")) {
        hp_rd_skip(&v, 8);
        long e = hp_rd_find(&v, "\r\n", 2);
        size_t clen = e >= 0 ? (size_t)e : hp_rd_left(&v);
        const uint8_t *ck = hp_rd_bytes(&v, clen);
        if (e >= 0)
            hp_rd_skip(&v, 2);
        copy_text(out->cookie, sizeof(out->cookie), ck, clen);
        if (clen > 9 && memcmp(ck, "mstshash=", 9) == 0)
            copy_text(out->username, sizeof(out->username), ck + 9, clen - 9);
        else if (clen > 5 && memcmp(ck, "msts=", 5) == 0)
            copy_text(out->routing_token, sizeof(out->routing_token), ck + 5, clen - 5);
    }
    if (hp_rd_left(&v) >= 8 && hp_rd_peek_u8(&v, 0) == 0x01) {
        hp_rd_u8(&v);
        out->neg_flags = hp_rd_u8(&v);
        hp_rd_u16le(&v);
        out->protocols = hp_rd_u32le(&v);
        out->has_neg = hp_rd_ok(&v);
        out->has_correlation = hp_rd_left(&v) >= 36 && hp_rd_peek_u8(&v, 0) == 0x06;
    }
    return tlen;
}

/* One DER TLV: tag and a sub-reader over its value. */
static bool der_tlv(struct hp_rd *r, uint8_t *tag, struct hp_rd *val)
{
    *tag = hp_rd_u8(r);
    uint8_t b = hp_rd_u8(r);
    size_t len = b;
    if (b & 0x80) {
        unsigned k = b & 0x7f;
        if (k < 1 || k > 3) {
            r->err = true;
            return false;
        }
        len = 0;
        for (unsigned i = 0; i < k; i++)
            len = (len << 8) | hp_rd_u8(r);
    }
    if (!hp_rd_ok(r))
        return false;
    return hp_rd_sub(r, len, val);
}

static bool der_uint(struct hp_rd *r, uint32_t *v)
{
    uint8_t tag;
    struct hp_rd val;
    if (!der_tlv(r, &tag, &val) || tag != 0x02 || hp_rd_left(&val) < 1 || hp_rd_left(&val) > 5)
        return false;
    uint32_t x = 0;
    while (hp_rd_left(&val))
        x = (x << 8) | hp_rd_u8(&val);
    *v = x;
    return true;
}

long hp_rdp_tsreq_len(const uint8_t *p, size_t n)
{
    if (n < 2)
        return n && p[0] != 0x30 ? -1 : 0;
    if (p[0] != 0x30)
        return -1;
    size_t hdr = 2, len = p[1];
    if (p[1] & 0x80) {
        unsigned k = p[1] & 0x7f;
        if (k < 1 || k > 3)
            return -1;
        if (n < 2 + k)
            return 0;
        len = 0;
        for (unsigned i = 0; i < k; i++)
            len = (len << 8) | p[2 + i];
        hdr += k;
    }
    if (hdr + len > RDP_TSREQ_MAX)
        return -1;
    return n < hdr + len ? 0 : (long)(hdr + len);
}

int hp_rdp_parse_tsreq(const uint8_t *p, size_t n, struct hp_rdp_tsreq *out)
{
    struct hp_rd r, seq;
    uint8_t tag;
    memset(out, 0, sizeof(*out));
    hp_rd_init(&r, p, n);
    if (!der_tlv(&r, &tag, &seq) || tag != 0x30)
        return -1;
    for (int i = 0; i < 16 && hp_rd_left(&seq); i++) {
        struct hp_rd f, s1, s2, s3, s4;
        uint8_t t1, t2, t3, t4;
        if (!der_tlv(&seq, &tag, &f))
            return -1;
        switch (tag) {
        case 0xa0:
            if (!der_uint(&f, &out->version))
                return -1;
            break;
        case 0xa1:                 /* NegoData: SEQUENCE OF SEQUENCE { [0] OCTET STRING } */
            if (!der_tlv(&f, &t1, &s1) || t1 != 0x30 || !der_tlv(&s1, &t2, &s2) || t2 != 0x30 ||
                !der_tlv(&s2, &t3, &s3) || t3 != 0xa0 || !der_tlv(&s3, &t4, &s4) || t4 != 0x04)
                return -1;
            out->token = hp_rd_ptr(&s4);
            out->token_len = hp_rd_left(&s4);
            break;
        case 0xa2:
            out->has_auth_info = true;
            break;
        case 0xa3:
            out->has_pubkey_auth = true;
            break;
        case 0xa4:
            out->has_error = der_uint(&f, &out->error_code);
            break;
        default:
            break;
        }
    }
    return 0;
}

/* ---- configuration ------------------------------------------------------------------------ */

static int rdp_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol rdp)", kv->line, kv->key, svc->name);
        return -1;
    }
    return 0;
}

static int rdp_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    (void)svc;
    struct hp_ntlm_identity id;
    hp_ntlm_identity(&id);         /* drawn at start, so restarts keep it */
    if (!hp_tlsterm_ready() && hp_tlsterm_init(cfg->data_dir, err, errlen) != 0)
        return -1;
    return 0;
}

/* ---- events ---------------------------------------------------------------------------------- */

static void ev_connect_request(struct hp_conn *c, const struct hp_rdp_cr *cr, const char *answer)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, &c->ctx, "rdp.connect_request");
    if (cr->cookie[0])
        hp_ev_bytes(&ev, "cookie", cr->cookie, strlen(cr->cookie));
    if (cr->username[0])
        hp_ev_bytes(&ev, "username", cr->username, strlen(cr->username));
    if (cr->routing_token[0])
        hp_ev_bytes(&ev, "routing_token", cr->routing_token, strlen(cr->routing_token));
    if (cr->has_neg) {
        hp_ev_uint(&ev, "requested_protocols", cr->protocols);
        hp_ev_arr_begin(&ev, "protocols");
        if (cr->protocols == 0)
            hp_ev_elem_str(&ev, "rdp");
        if (cr->protocols & HP_RDP_PROTO_SSL)
            hp_ev_elem_str(&ev, "ssl");
        if (cr->protocols & HP_RDP_PROTO_HYBRID)
            hp_ev_elem_str(&ev, "hybrid");
        if (cr->protocols & HP_RDP_PROTO_RDSTLS)
            hp_ev_elem_str(&ev, "rdstls");
        if (cr->protocols & HP_RDP_PROTO_HYBRID_EX)
            hp_ev_elem_str(&ev, "hybrid_ex");
        hp_ev_arr_end(&ev);
        hp_ev_uint(&ev, "neg_flags", cr->neg_flags);
    }
    hp_ev_str(&ev, "answer", answer);
    hp_ev_emit(&ev);
}

static void ev_negotiate(struct hp_conn *c, const struct hp_ntlm_negotiate *neg)
{
    struct rdp_conn *h = c->pstate;
    struct hp_ev ev;
    char flags[16];
    hp_ev_begin(&ev, &c->ctx, "rdp.ntlm_negotiate");
    hp_ev_uint(&ev, "credssp_version", h->peer_version);
    snprintf(flags, sizeof(flags), "0x%08x", (unsigned)neg->flags);
    hp_ev_str(&ev, "ntlm_flags", flags);
    if (neg->domain[0])
        hp_ev_bytes(&ev, "domain", neg->domain, strlen(neg->domain));
    if (neg->workstation[0])
        hp_ev_bytes(&ev, "workstation", neg->workstation, strlen(neg->workstation));
    if (neg->has_version) {
        char v[32];
        snprintf(v, sizeof(v), "%u.%u.%u", neg->os_major, neg->os_minor, neg->os_build);
        hp_ev_str(&ev, "client_os_version", v);
    }
    hp_ev_bool(&ev, "spnego", h->spnego);
    hp_ev_emit(&ev);
}

static void ev_login(struct hp_conn *c, const struct hp_ntlm_auth *a)
{
    struct rdp_conn *h = c->pstate;
    struct hp_ev ev;
    hp_ntlm_ev_login(&ev, &c->ctx, a, h->chal);
    hp_ev_emit(&ev);
}

/* ---- output ------------------------------------------------------------------------------------ */

static void finish(struct hp_conn *c, const char *reason)
{
    struct rdp_conn *h = c->pstate;
    if (h->closing)
        return;
    h->closing = true;
    if (h->tls)
        hp_tlsterm_conn_bye(c, h->tls);
    hp_conn_close(c, reason);
}

static void tls_send(struct hp_conn *c, const struct hp_buf *b)
{
    struct rdp_conn *h = c->pstate;
    hp_tlsterm_conn_send(c, h->tls, b->data, b->len);
}

/* DER: tag, length, content. */
static void der_put(struct hp_buf *out, uint8_t tag, const uint8_t *p, size_t n)
{
    hp_buf_putc(out, tag);
    hp_der_len(out, n);
    if (n)
        hp_buf_put(out, p, n);
}

static void der_put_buf(struct hp_buf *out, uint8_t tag, const struct hp_buf *in)
{
    der_put(out, tag, in->data ? in->data : (const uint8_t *)"", in->len);
}

/* TSRequest { version, negoTokens (when token), errorCode (when err) }. */
static void send_tsreq(struct hp_conn *c, const uint8_t *token, size_t tlen, uint32_t err)
{
    struct rdp_conn *h = c->pstate;
    struct hp_buf body, a, b, out;
    hp_buf_init(&body, RDP_TSREQ_MAX);
    hp_buf_init(&a, RDP_TSREQ_MAX);
    hp_buf_init(&b, RDP_TSREQ_MAX);
    hp_buf_init(&out, RDP_TSREQ_MAX);
    uint32_t ver = h->peer_version && h->peer_version < RDP_CREDSSP_VER ? h->peer_version : RDP_CREDSSP_VER;
    uint8_t vi[3] = { 0x02, 0x01, (uint8_t)ver };
    der_put(&body, 0xa0, vi, 3);
    if (token) {
        der_put(&a, 0x04, token, tlen);           /* OCTET STRING */
        der_put_buf(&b, 0xa0, &a);                /* [0] negoToken */
        hp_buf_reset(&a);
        der_put_buf(&a, 0x30, &b);                /* SEQUENCE */
        hp_buf_reset(&b);
        der_put_buf(&b, 0x30, &a);                /* SEQUENCE OF */
        der_put_buf(&body, 0xa1, &b);
    }
    if (err) {
        /* Windows writes the NTSTATUS as a 4-byte (negative) INTEGER */
        uint8_t ei[6] = { 0x02, 0x04, (uint8_t)(err >> 24), (uint8_t)(err >> 16), (uint8_t)(err >> 8), (uint8_t)err };
        der_put(&body, 0xa4, ei, 6);
    }
    der_put_buf(&out, 0x30, &body);
    if (hp_buf_ok(&out))
        tls_send(c, &out);
    hp_buf_free(&body);
    hp_buf_free(&a);
    hp_buf_free(&b);
    hp_buf_free(&out);
}

/* X.224 Connection Confirm, with a negotiation response or failure. */
static void send_cc(struct hp_conn *c, int neg_type, uint8_t flags, uint32_t value)
{
    uint8_t p[19] = { 0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00 };
    if (neg_type == 0) {
        p[3] = 0x0b;
        p[4] = 0x06;
        hp_conn_send(c, p, 11);
        return;
    }
    p[11] = (uint8_t)neg_type;
    p[12] = flags;
    p[13] = 0x08;
    p[14] = 0x00;
    p[15] = (uint8_t)value;
    p[16] = (uint8_t)(value >> 8);
    p[17] = (uint8_t)(value >> 16);
    p[18] = (uint8_t)(value >> 24);
    hp_conn_send(c, p, sizeof(p));
}

/* ---- phases ------------------------------------------------------------------------------------- */

static void on_cr(struct hp_conn *c, struct hp_rd *in)
{
    struct rdp_conn *h = c->pstate;
    struct hp_rdp_cr cr;
    long used = hp_rdp_parse_cr(hp_rd_ptr(in), hp_rd_left(in), &cr);
    if (used == 0)
        return;
    if (used < 0) {
        hp_rd_skip(in, hp_rd_left(in));
        finish(c, "rdp_not_x224");  /* Windows resets such connections */
        return;
    }
    hp_rd_skip(in, (size_t)used);
    if (!cr.has_neg) {
        ev_connect_request(c, &cr, "legacy");
        send_cc(c, 0, 0, 0);
        h->state = ST_LEGACY;
    } else if (cr.protocols & (HP_RDP_PROTO_HYBRID | HP_RDP_PROTO_HYBRID_EX)) {
        ev_connect_request(c, &cr, "hybrid");
        send_cc(c, 0x02, 0x1f, HP_RDP_PROTO_HYBRID);
        h->tls = hp_tlsterm_new();
        if (!h->tls) {
            finish(c, "tls_unavailable");
            return;
        }
        hp_buf_init(&h->plain, RDP_PLAIN_MAX);
        h->state = ST_TLS;
    } else if (cr.protocols & HP_RDP_PROTO_SSL) {
        ev_connect_request(c, &cr, "hybrid_required");
        send_cc(c, 0x03, 0, 5);    /* HYBRID_REQUIRED_BY_SERVER */
        h->state = ST_DONE;
        finish(c, "rdp_nla_required");
    } else {
        ev_connect_request(c, &cr, "ssl_required");
        send_cc(c, 0x03, 0, 1);    /* SSL_REQUIRED_BY_SERVER */
        h->state = ST_DONE;
        finish(c, "rdp_tls_required");
    }
}

static void on_negotiate(struct hp_conn *c, const uint8_t *msg, size_t n)
{
    struct rdp_conn *h = c->pstate;
    struct hp_ntlm_negotiate neg;
    if (hp_ntlm_parse_negotiate(msg, n, &neg) != 0) {
        finish(c, "rdp_bad_ntlm");
        return;
    }
    ev_negotiate(c, &neg);
    struct hp_ntlm_identity id;
    struct hp_buf ch, wrapped;
    hp_ntlm_identity(&id);
    hp_random_bytes(h->chal, sizeof(h->chal));
    h->challenged = true;
    hp_buf_init(&ch, 4096);
    hp_buf_init(&wrapped, 8192);
    hp_ntlm_build_challenge(&id, neg.flags, h->chal, hp_now_us(), &ch);
    if (h->spnego) {
        hp_spnego_wrap_ntlm(ch.data, ch.len, &wrapped);
        send_tsreq(c, wrapped.data, wrapped.len, 0);
    } else {
        send_tsreq(c, ch.data, ch.len, 0);
    }
    hp_buf_free(&ch);
    hp_buf_free(&wrapped);
}

static void on_tsreq(struct hp_conn *c, const uint8_t *p, size_t n)
{
    struct rdp_conn *h = c->pstate;
    struct hp_rdp_tsreq ts;
    if (++h->rounds > RDP_MAX_ROUNDS || hp_rdp_parse_tsreq(p, n, &ts) != 0 || !ts.token) {
        finish(c, "rdp_bad_credssp");
        return;
    }
    h->peer_version = ts.version;
    long at = hp_ntlm_find(ts.token, ts.token_len);
    if (at < 0) {
        finish(c, "rdp_not_ntlm");  /* Kerberos: no KDC here, Windows would fail it too */
        return;
    }
    const uint8_t *msg = ts.token + at;
    size_t mlen = ts.token_len - (size_t)at;
    int type = hp_ntlm_type(msg, mlen);
    if (type == HP_NTLM_NEGOTIATE && !h->challenged) {
        h->spnego = at > 0;
        on_negotiate(c, msg, mlen);
        return;
    }
    struct hp_ntlm_auth a;
    if (type != HP_NTLM_AUTHENTICATE || !h->challenged || hp_ntlm_parse_authenticate(msg, mlen, &a) != 0) {
        finish(c, "rdp_bad_ntlm");
        return;
    }
    ev_login(c, &a);
    if (h->peer_version >= 3)
        send_tsreq(c, NULL, 0, STATUS_LOGON_FAILURE);
    h->state = ST_DONE;
    finish(c, "login_failed");
}

/* Complete TSRequests out of the decrypted stream. */
static void process_plain(struct hp_conn *c)
{
    struct rdp_conn *h = c->pstate;
    while (!h->closing && h->plain.len) {
        long len = hp_rdp_tsreq_len(h->plain.data, h->plain.len);
        if (len < 0) {
            finish(c, "rdp_bad_credssp");
            return;
        }
        if (len == 0) {
            if (h->plain.len >= h->plain.cap)
                finish(c, "rdp_credssp_too_large");
            return;
        }
        on_tsreq(c, h->plain.data, (size_t)len);
        hp_buf_consume(&h->plain, (size_t)len);
    }
}

static void tls_data(struct hp_conn *c, struct hp_rd *in)
{
    struct rdp_conn *h = c->pstate;
    if (!hp_tlsterm_conn_hello(c, in, &h->hello))
        return;                    /* the ClientHello is not whole yet */
    const uint8_t *p = hp_rd_ptr(in);
    size_t n = hp_rd_left(in);
    hp_rd_skip(in, n);
    for (int round = 0; round < 16 && !h->closing; round++) {
        const char *why = NULL;
        int r = hp_tlsterm_conn_feed(c, h->tls, p, n, &h->plain, 4u << 20, &why);
        p = NULL;
        n = 0;
        if (r < 0) {
            h->closing = true;
            hp_tlsterm_conn_failed(c, why);
            return;
        }
        bool full = h->plain.len >= h->plain.cap;
        process_plain(c);
        if (r == 1) {
            finish(c, "tls_closed");
            return;
        }
        if (!full)
            return;
    }
}

/* ---- module callbacks ------------------------------------------------------------------------ */

static void rdp_accept(struct hp_conn *c)
{
    hp_conn_set_timer(c, RDP_IDLE_MS);
}

static void rdp_data(struct hp_conn *c, struct hp_rd *in)
{
    struct rdp_conn *h = c->pstate;
    if (h->closing || h->state == ST_DONE) {
        hp_rd_skip(in, hp_rd_left(in));
        return;
    }
    switch (h->state) {
    case ST_CR:
        on_cr(c, in);
        if (h->state == ST_TLS && hp_rd_left(in))
            tls_data(c, in);
        break;
    case ST_LEGACY:
        /* the MCS Connect Initial of standard RDP security: NLA is required */
        hp_rd_skip(in, hp_rd_left(in));
        finish(c, "rdp_legacy_security");
        break;
    case ST_TLS:
        tls_data(c, in);
        break;
    default:
        hp_rd_skip(in, hp_rd_left(in));
        break;
    }
}

static void rdp_eof(struct hp_conn *c)
{
    hp_conn_close(c, "eof");
}

static void rdp_timer(struct hp_conn *c)
{
    finish(c, "idle");
}

static void rdp_close(struct hp_conn *c)
{
    struct rdp_conn *h = c->pstate;
    if (!h)
        return;
    hp_tlsterm_free(h->tls);
    h->tls = NULL;
    hp_buf_free(&h->plain);
}

const struct hp_proto hp_proto_rdp = {
    .name = "rdp",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "3389",
    .conn_state_size = sizeof(struct rdp_conn),
    .default_max_input = 4ull << 20,
    .configure = rdp_configure,
    .start = rdp_start,
    .on_accept = rdp_accept,
    .on_data = rdp_data,
    .on_eof = rdp_eof,
    .on_timer = rdp_timer,
    .on_close = rdp_close,
};
