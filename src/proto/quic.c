/*
 * quic.c - QUIC on UDP (HTTP/3's port): fingerprint every client's
 * ClientHello (JA3, JA4 "q13...", SNI, ALPN) and record every other
 * datagram.
 *
 * A client's Initial packets are decrypted with the keys its own first
 * Destination Connection ID gives (src/intel/quic.h); their CRYPTO frames
 * are put back in order in a slot keyed by (service, source address and
 * port, that connection ID), because a ClientHello with post-quantum key
 * shares spans two Initials.  When the stream holds the whole hello:
 * tls.client_hello, with the same fields as over TCP plus quic_version,
 * and the slot keeps only "done" so the client's retransmissions are
 * counted, not logged again.  QUIC_SLOTS slots, each buffer allocated while
 * a hello is incomplete and freed once it is not; the least recently used
 * slot gives way.
 *
 * Answers.  A long-header packet of a version we do not read gets a
 * Version Negotiation packet listing QUIC v1 and v2, as a real server
 * sends (scanners probe with reserved versions to find QUIC servers), only
 * for datagrams of at least 1200 bytes (RFC 9000 6 and 14.1) and always
 * smaller than the request.  An Initial gets no answer: the handshake is not
 * emulated, so the client sees a server that drops it and retransmits.
 *
 * Every datagram that is not part of a hello (another packet type, an
 * unknown version, not QUIC at all) is a quic.packet event: its size, the
 * long header's version and connection IDs if there is one, and its first
 * bytes in hex.
 *
 * The trap calls hp_quic_client_initial() (quic.h) for the Initials it
 * receives on any UDP port; those share the slots, keyed by the trap's
 * service.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conn.h"
#include "event.h"
#include "intel/quic.h"
#include "intel/tlsfp.h"
#include "proto.h"
#include "quic.h"
#include "tlsterm_conn.h"
#include "util.h"

#define QUIC_SLOTS 32
#define QUIC_MIN_INITIAL 1200         /* smallest datagram a client's Initial may travel in */
#define QUIC_PREVIEW 64               /* bytes of a quic.packet shown in hex */
#define QUIC_SLOT_DATAGRAMS 16        /* an incomplete hello gives up after this many */

struct quic_slot {
    bool used, done;
    const void *svc;
    char src_ip[HP_IPSTR_LEN];
    uint16_t src_port;
    uint8_t odcid[HP_QUIC_CID_MAX];
    size_t odcid_len;
    int64_t last_us;
    unsigned datagrams;
    struct hp_quic_crypto *cs;        /* while the hello is incomplete */
};

static struct quic_slot slots[QUIC_SLOTS];

/* The slot of this client's connection, or a fresh one (the least recently used). */
static struct quic_slot *slot_for(const struct hp_udp_peer *p, const struct hp_quic_head *h)
{
    struct quic_slot *lru = &slots[0];
    for (size_t i = 0; i < QUIC_SLOTS; i++) {
        struct quic_slot *s = &slots[i];
        if (s->used && s->svc == p->cfg && s->src_port == p->ctx.src_port && s->odcid_len == h->dcid_len &&
            memcmp(s->odcid, h->dcid, h->dcid_len) == 0 && strcmp(s->src_ip, p->ctx.src_ip) == 0)
            return s;
        if (!s->used || (lru->used && s->last_us < lru->last_us))
            lru = s;
    }
    free(lru->cs);
    memset(lru, 0, sizeof(*lru));
    lru->used = true;
    lru->svc = p->cfg;
    snprintf(lru->src_ip, sizeof(lru->src_ip), "%s", p->ctx.src_ip);
    lru->src_port = p->ctx.src_port;
    memcpy(lru->odcid, h->dcid, h->dcid_len);
    lru->odcid_len = h->dcid_len;
    return lru;
}

static void ev_cid(struct hp_ev *ev, const char *key, const uint8_t *cid, size_t n)
{
    char hex[2 * HP_QUIC_CID_MAX + 1];
    hp_hex(cid, n, hex);
    hp_ev_str(ev, key, hex);
}

static void ev_version(struct hp_ev *ev, uint32_t v)
{
    char s[16];
    snprintf(s, sizeof(s), "0x%08x", (unsigned)v);
    hp_ev_str(ev, "quic_version", s);
}

static void quic_ev_hello(struct hp_udp_peer *p, const struct hp_quic_head *h, const struct hp_tls_hello *th)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, &p->ctx, "tls.client_hello");
    hp_tls_ev_hello_fields(&ev, th);
    ev_version(&ev, h->version);
    ev_cid(&ev, "dcid", h->dcid, h->dcid_len);
    hp_ev_emit(&ev);
}

static void quic_ev_packet(struct hp_udp_peer *p, const uint8_t *data, size_t len, const struct hp_quic_head *h,
                           const char *what)
{
    struct hp_ev ev;
    char hex[2 * QUIC_PREVIEW + 1];
    size_t n = len < QUIC_PREVIEW ? len : QUIC_PREVIEW;

    hp_ev_begin(&ev, &p->ctx, "quic.packet");
    hp_ev_str(&ev, "kind", what);
    hp_ev_uint(&ev, "size", len);
    if (h) {
        ev_version(&ev, h->version);
        ev_cid(&ev, "dcid", h->dcid, h->dcid_len);
        ev_cid(&ev, "scid", h->scid, h->scid_len);
    }
    hp_hex(data, n, hex);
    hp_ev_str(&ev, "preview_hex", hex);
    hp_ev_emit(&ev);
}

/* Version Negotiation (RFC 9000 17.2.1): the client's connection IDs swapped. */
static void quic_negotiate(struct hp_udp_peer *p, const uint8_t *data, size_t len, const struct hp_quic_head *h)
{
    uint8_t out[1 + 4 + 2 + 2 * HP_QUIC_CID_MAX + 8];
    size_t n = 0;

    if (len < QUIC_MIN_INITIAL)
        return;
    out[n++] = (uint8_t)(0x80 | (data[0] & 0x7f));   /* the unused bits: anything; echoing them is common */
    memset(out + n, 0, 4);
    n += 4;
    out[n++] = (uint8_t)h->scid_len;
    memcpy(out + n, h->scid, h->scid_len);
    n += h->scid_len;
    out[n++] = (uint8_t)h->dcid_len;
    memcpy(out + n, h->dcid, h->dcid_len);
    n += h->dcid_len;
    static const uint8_t versions[8] = { 0x6b, 0x33, 0x43, 0xcf, 0x00, 0x00, 0x00, 0x01 };
    memcpy(out + n, versions, sizeof(versions));
    n += sizeof(versions);
    hp_udp_reply(p, out, n);                         /* refused and counted if over budget */
}

/* A client Initial: add it to its slot; log the hello once it is whole. */
static void quic_initial(struct hp_udp_peer *p, const uint8_t *data, size_t len, const struct hp_quic_head *h)
{
    struct quic_slot *s = slot_for(p, h);
    s->last_us = hp_now_us();
    if (s->done)
        return;                                      /* a retransmission of a hello already logged */
    if (!s->cs && !(s->cs = calloc(1, sizeof(*s->cs)))) {
        quic_ev_packet(p, data, len, h, "initial");
        return;
    }
    s->datagrams++;
    int rc = hp_quic_datagram(data, len, false, s->odcid, s->odcid_len, s->cs);
    struct hp_tls_hello th;
    int hr = rc > 0 ? hp_tls_client_hello_msg(s->cs->data, s->cs->prefix, HP_TLS_QUIC, &th) : 0;
    if (hr == 1)
        quic_ev_hello(p, h, &th);
    else if (rc <= 0 || hr < 0 || s->datagrams >= QUIC_SLOT_DATAGRAMS)
        quic_ev_packet(p, data, len, h, rc <= 0 ? "initial_undecryptable" : "initial_no_hello");
    if (hr != 0 || s->datagrams >= QUIC_SLOT_DATAGRAMS) {
        s->done = true;
        free(s->cs);
        s->cs = NULL;
    }
}

bool hp_quic_client_initial(struct hp_udp_peer *p, const uint8_t *data, size_t len)
{
    struct hp_quic_head h;

    if (!hp_quic_peek(data, len, &h) || !h.initial)
        return false;
    quic_initial(p, data, len, &h);
    return true;
}

static void quic_datagram(struct hp_udp_peer *p, const uint8_t *data, size_t len)
{
    struct hp_quic_head h;

    if (!hp_quic_peek(data, len, &h)) {
        quic_ev_packet(p, data, len, NULL, len && (data[0] & 0x80) ? "malformed" : "short_header");
        return;
    }
    if (h.initial) {
        quic_initial(p, data, len, &h);
    } else if (h.version && !hp_quic_version_known(h.version)) {
        quic_ev_packet(p, data, len, &h, "unknown_version");
        quic_negotiate(p, data, len, &h);
    } else {
        quic_ev_packet(p, data, len, &h, h.version ? "long_header" : "version_negotiation");
    }
}

/* At exit: every slot, the trap's included (stop runs only at shutdown). */
static void quic_stop(struct hp_service_cfg *svc)
{
    (void)svc;
    for (size_t i = 0; i < QUIC_SLOTS; i++) {
        free(slots[i].cs);
        memset(&slots[i], 0, sizeof(slots[i]));
    }
}

const struct hp_proto hp_proto_quic = {
    .name = "quic",
    .transports = HP_TRANSPORT_UDP,
    .default_udp_ports = "443",
    .stop = quic_stop,
    .on_datagram = quic_datagram,
};
