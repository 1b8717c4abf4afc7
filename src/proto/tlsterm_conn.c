/*
 * tlsterm_conn.c - a tlsterm over one connection (see tlsterm_conn.h).
 *
 * Every output goes through a bounded hp_buf: a handshake flight or an
 * encrypted reply never grows past its cap (the write fails instead).
 */
#include <string.h>
#include "event.h"
#include "intel/fpnames.h"
#include "intel/tlsfp.h"
#include "tlsterm_conn.h"

/* Room for TLS record headers, MACs and padding around len plaintext bytes. */
#define TLSCONN_SEND_SLACK (64u * 1024)
#define TLSCONN_BYE_MAX 4096
#define TLSCONN_RAW_MAX 4096          /* bytes of a hello that was no fingerprintable ClientHello */

void hp_tls_ev_hello_fields(struct hp_ev *ev, const struct hp_tls_hello *th)
{
    /* JA4 first: it sorts what Chrome permutes, so it names more clients (as hanipo fingerprint does) */
    const char *name4 = hp_fpname(HP_FP_JA4, th->ja4);
    const char *name3 = hp_fpname(HP_FP_JA3, th->ja3);
    hp_ev_str(ev, "ja3", th->ja3);
    hp_ev_str(ev, "ja3_string", th->ja3_string);
    hp_ev_str(ev, "ja4", th->ja4);
    hp_ev_str(ev, "client", name4 ? name4 : name3 ? name3 : "unknown");
    if (th->sni[0])
        hp_ev_bytes(ev, "sni", th->sni, strlen(th->sni));
    if (th->alpn[0])
        hp_ev_bytes(ev, "alpn", th->alpn, strlen(th->alpn));
    hp_ev_str(ev, "versions", th->versions);
    hp_ev_int(ev, "record_version", th->record_version);
    hp_ev_int(ev, "hello_version", th->hello_version);
}

static void tlsconn_ev_hello(struct hp_conn *c, const struct hp_tls_hello *th)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, &c->ctx, "tls.client_hello");
    hp_tls_ev_hello_fields(&ev, th);
    hp_ev_emit(&ev);
}

/*
 * The fewest bytes a ClientHello cut short (handshake records at the start
 * of 'in', whose headers hp_tls_client_hello has checked) still needs: one
 * per handshake byte not here yet.  Gathering it again only then bounds the
 * work of a hello trickled one byte per read, in records of one byte each,
 * to a few dozen gathers rather than one (of up to HP_TLS_HELLO_MAX bytes)
 * on every read.
 */
static size_t tlsconn_hello_missing(const struct hp_rd *in)
{
    struct hp_rd r = *in, rec;
    uint8_t hs[4];
    size_t have = 0;
    while (hp_rd_left(&r) >= 5) {
        hp_rd_skip(&r, 3);                        /* type, version */
        uint16_t rlen = hp_rd_u16be(&r);
        size_t take = rlen < hp_rd_left(&r) ? rlen : hp_rd_left(&r);
        hp_rd_sub(&r, take, &rec);
        for (; have < 4 && hp_rd_left(&rec); have++)
            hs[have] = hp_rd_u8(&rec);
        have += hp_rd_left(&rec);
    }
    if (have < 4)
        return 4 - have;
    size_t need = 4 + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3]);
    return need > have ? need - have : 1;
}

bool hp_tlsterm_conn_hello(struct hp_conn *c, const struct hp_rd *in, struct hp_tlsconn_hello *st)
{
    if (st->seen)
        return true;
    size_t len = hp_rd_left(in);
    if (len < st->retry_at && len < HP_TLS_HELLO_MAX)
        return false;
    struct hp_tls_hello th;
    int r = hp_tls_client_hello(hp_rd_ptr(in), len, &th);
    if (r == 0 && len < HP_TLS_HELLO_MAX) {
        st->retry_at = len + tlsconn_hello_missing(in);
        return false;
    }
    if (r == 1)
        tlsconn_ev_hello(c, &th);
    st->parsed = r == 1;
    st->seen = true;
    return true;
}

int hp_tlsterm_conn_feed(struct hp_conn *c, struct hp_tlsterm *t, const uint8_t *in, size_t len,
                         struct hp_buf *plain, size_t wire_max, const char **why)
{
    struct hp_buf wire;
    hp_buf_init(&wire, wire_max);
    int r = hp_tlsterm_feed(t, in, len, plain, &wire, why);
    if (wire.len)
        hp_conn_send(c, wire.data, wire.len);    /* an alert too, before closing */
    hp_buf_free(&wire);
    return r;
}

void hp_tlsterm_conn_failed_raw(struct hp_conn *c, const char *why, const struct hp_tlsconn_hello *st,
                                const uint8_t *raw, size_t len)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, &c->ctx, "tls.failed");
    hp_ev_str(&ev, "reason", why ? why : "handshake failed");
    if (st && !st->parsed && raw && len)
        hp_ev_bytes(&ev, "raw", raw, len < TLSCONN_RAW_MAX ? len : TLSCONN_RAW_MAX);
    hp_ev_emit(&ev);
    hp_conn_close(c, "tls_failed");
}

void hp_tlsterm_conn_failed(struct hp_conn *c, const char *why)
{
    hp_tlsterm_conn_failed_raw(c, why, NULL, NULL, 0);
}

void hp_tlsterm_conn_send(struct hp_conn *c, struct hp_tlsterm *t, const void *data, size_t len)
{
    struct hp_buf wire;
    hp_buf_init(&wire, len + TLSCONN_SEND_SLACK);
    hp_tlsterm_write(t, data, len, &wire);
    if (wire.len)
        hp_conn_send(c, wire.data, wire.len);
    hp_buf_free(&wire);
}

void hp_tlsterm_conn_bye(struct hp_conn *c, struct hp_tlsterm *t)
{
    struct hp_buf wire;
    hp_buf_init(&wire, TLSCONN_BYE_MAX);
    hp_tlsterm_close(t, &wire);
    if (wire.len)
        hp_conn_send(c, wire.data, wire.len);
    hp_buf_free(&wire);
}
