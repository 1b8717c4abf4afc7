/*
 * flowfp.c - JA3 / JA4 / JA3S / HASSH / HASSHServer of every TCP flow in a
 * capture, and JA3 / JA4 / JA3S of QUIC and DTLS flows over UDP: the engine
 * of `hanipo fingerprint FILE` (src/cli/fingerprint.c reads the file with
 * libpcap and hands each frame here).
 *
 * Frames are decoded by link type (Ethernet with VLAN tags, Linux cooked
 * v1/v2, raw IP, BSD loopback; IPv4 and IPv6; MPLS and PPPoE; GRE, VXLAN,
 * Geneve, IP-in-IP and 6in4 tunnels).  Flows are keyed
 * by their 4-tuple, side "a" being the lower address:port.  Each direction is
 * reassembled only as far as a fingerprint needs: in-order bytes go straight
 * to an analyser, retransmitted bytes are trimmed against what was already
 * taken, and segments that arrive early wait in a short list until the gap
 * closes.  The analyser decides from the first bytes what the direction is:
 * a TLS handshake record (ClientHello or ServerHello, src/intel/tlsfp.h), an
 * SSH identification line (KEXINIT via src/intel/sshsniff.h), or neither, in
 * which case the direction is dropped at once.  A UDP flow is QUIC when its
 * first datagram is a long-header packet (the Initials are decrypted with
 * keys from the client's first Destination Connection ID, src/intel/quic.h)
 * and DTLS when it is a DTLS handshake record; its datagrams are each
 * direction's bytes, with no reassembly to do.  At most HP_TLS_HELLO_MAX
 * bytes are kept per direction, in a buffer that grows with what arrived,
 * and buffers are freed as soon as a direction is decided, so memory
 * follows the bytes of the undecided handshakes, not the size of the file.
 * A QUIC side's CRYPTO stream has a fixed size (18 KiB); it is freed once
 * the side is decided, and at most FP_QUIC_HELD are held at once.
 *
 * The capture is hostile input like any peer data: every header is read
 * through hp_rd.  Output is one JSON object per flow with a fingerprint, in
 * the order the flows were first seen, with the client as "src".  After the
 * client's first hello its direction is kept (for at most FP_RETRY_WAITING
 * flows at once) until it shows whether a second hello follows, the one a
 * HelloRetryRequest asks for (ja3_retry, ja4_retry).
 */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "json.h"
#include "reader.h"
#include "util.h"
#include "intel/flowfp.h"
#include "intel/fpnames.h"
#include "intel/quic.h"
#include "intel/sshsniff.h"
#include "intel/tlsfp.h"

#define FP_BUCKETS 65536
#define FP_MAX_FLOWS (1u << 20)      /* beyond this, new flows are ignored */
#define FP_MAX_PENDING 64            /* early segments held per direction */
#define FP_WINDOW (2 * HP_TLS_HELLO_MAX)   /* how far ahead an early segment may be */
#define FP_HASSH_STR_MAX 4096
#define FP_QUIC_DATAGRAMS 32         /* Initial datagrams looked at per direction */
#define FP_RETRY_WAITING 1024        /* client directions kept for a second hello at once */
#define FP_BUF_MIN 512               /* first size of a direction's buffer */
#define FP_QUIC_HELD 4096            /* QUIC CRYPTO streams held at once (18 KiB each) */

/* D_TLS_RETRY: the client's first hello is in; its bytes are kept until the
 * server's answer says whether a second one follows (a HelloRetryRequest). */
enum fp_dstate { D_NEW, D_TLS, D_TLS_RETRY, D_SSH, D_QUIC, D_DTLS, D_DONE };

struct fp_seg {
    uint32_t seq;
    size_t len;
    uint8_t *data;
};

struct fp_dir {
    enum fp_dstate state;
    bool seq_set, syn;
    bool preamble_done;              /* a proxy handshake was skipped already */
    uint32_t next;                   /* next sequence number wanted */
    uint8_t *buf;                    /* in-order prefix (TLS / undecided) */
    size_t len, cap;                 /* cap: buf's size, HP_TLS_HELLO_MAX at most */
    struct fp_seg *pending;          /* FP_MAX_PENDING, allocated on first need */
    size_t npending;
    struct hp_sshsniff *ssh;
    unsigned datagrams;              /* QUIC: datagrams seen */
    size_t retry_at;                 /* D_TLS_RETRY: where the second hello would start */
};

/* A QUIC flow's Initial keys and CRYPTO streams, freed once both hellos are in. */
struct fp_quic {
    uint8_t odcid[HP_QUIC_CID_MAX];  /* the client's first Destination Connection ID */
    size_t odcid_len;
    struct hp_quic_crypto *cs[2];    /* per side, while its hello is awaited */
};

struct fp_flow {
    struct hp_flowfp *ctx;
    struct fp_flow *hnext;           /* hash chain */
    struct fp_flow *onext;           /* first-seen order */
    int family;                      /* AF_INET / AF_INET6 */
    uint8_t proto;                   /* 6 TCP, 17 UDP */
    uint8_t ip[2][16];               /* side a, side b */
    uint16_t port[2];
    struct fp_dir dir[2];            /* dir[0]: a -> b */
    int syn_from;                    /* side that sent a bare SYN, -1 if none seen */
    int client;                      /* side found to be the client, -1 unknown */
    struct hp_tls_hello *ch, *ch2;   /* ch2: the ClientHello after a HelloRetryRequest */
    struct hp_tls_server_hello *sh;
    struct fp_quic *quic;
    /* SSH: a side's KEXINIT is hashed both ways ([0] client lists, [1]
     * server lists) because which side is the client may only be known
     * at the end (no SYN in the capture). */
    bool kex_seen[2];
    char kex_md5[2][2][33];
    char *kex_str[2][2];
};

struct hp_flowfp {
    struct fp_flow *buckets[FP_BUCKETS];
    struct fp_flow *first, *last;
    size_t nflows;
    size_t waiting;                  /* client directions in D_TLS_RETRY (each holds its buffer) */
    size_t quic_held;                /* QUIC CRYPTO streams allocated */
    uint64_t hash_key;               /* the flow hash's random basis */
    bool warned_full, warned_quic;
    int linktype;
    unsigned long packets, skipped;
};

/* ---- flow table -------------------------------------------------------------- */

/* FNV-1a with a random basis per table, folded: the packets of a capture
 * are the attackers' (spoofed SYNs cost nothing), and with a fixed basis
 * they could put every flow in one chain, each lookup walking all of them. */
static size_t fp_key_hash(uint64_t key, int family, uint8_t proto, const uint8_t ip[2][16], const uint16_t port[2])
{
    uint64_t h = (1469598103934665603ull ^ key ^ (uint64_t)family) * 1099511628211ull ^ proto;
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < 16; i++)
            h = (h ^ ip[s][i]) * 1099511628211ull;
        h = (h ^ (port[s] >> 8)) * 1099511628211ull;
        h = (h ^ (port[s] & 0xff)) * 1099511628211ull;
    }
    return (size_t)(h ^ (h >> 29) ^ (h >> 47));
}

/* Order the two endpoints so both directions find the same flow; *swapped
 * says whether the packet's source is side b. */
static void fp_canon(const uint8_t *sip, const uint8_t *dip, size_t alen, uint16_t sport, uint16_t dport,
                     uint8_t ip[2][16], uint16_t port[2], bool *swapped)
{
    int c = memcmp(sip, dip, alen);
    *swapped = c > 0 || (c == 0 && sport > dport);
    memset(ip, 0, 2 * 16);
    memcpy(ip[*swapped ? 1 : 0], sip, alen);
    memcpy(ip[*swapped ? 0 : 1], dip, alen);
    port[*swapped ? 1 : 0] = sport;
    port[*swapped ? 0 : 1] = dport;
}

static struct fp_flow *fp_lookup(struct hp_flowfp *c, int family, uint8_t proto, const uint8_t ip[2][16],
                                 const uint16_t port[2], bool create)
{
    size_t b = fp_key_hash(c->hash_key, family, proto, ip, port) % FP_BUCKETS;
    for (struct fp_flow *f = c->buckets[b]; f; f = f->hnext)
        if (f->family == family && f->proto == proto && f->port[0] == port[0] && f->port[1] == port[1] &&
            memcmp(f->ip, ip, sizeof(f->ip)) == 0)
            return f;
    if (!create)
        return NULL;
    if (c->nflows >= FP_MAX_FLOWS) {
        if (!c->warned_full)
            fprintf(stderr, "hanipo fingerprint: more than %u flows; later flows are ignored\n", FP_MAX_FLOWS);
        c->warned_full = true;
        return NULL;
    }
    struct fp_flow *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->ctx = c;
    f->family = family;
    f->proto = proto;
    memcpy(f->ip, ip, sizeof(f->ip));
    memcpy(f->port, port, sizeof(f->port));
    f->syn_from = f->client = -1;
    f->hnext = c->buckets[b];
    c->buckets[b] = f;
    if (c->last)
        c->last->onext = f;
    else
        c->first = f;
    c->last = f;
    c->nflows++;
    return f;
}

static void fp_dir_release(struct fp_dir *d)
{
    free(d->buf);
    d->buf = NULL;
    d->len = d->cap = 0;
    for (size_t i = 0; i < d->npending; i++)
        free(d->pending[i].data);
    free(d->pending);
    d->pending = NULL;
    d->npending = 0;
    if (d->ssh) {
        hp_sshsniff_free(d->ssh);
        free(d->ssh);
        d->ssh = NULL;
    }
}

/* Free the CRYPTO stream of each decided side, and the QUIC state once both are. */
static void fp_quic_settle(struct fp_flow *f)
{
    struct fp_quic *q = f->quic;
    if (!q)
        return;
    for (int s = 0; s < 2; s++) {
        if (q->cs[s] && f->dir[s].state == D_DONE) {
            free(q->cs[s]);
            q->cs[s] = NULL;
            f->ctx->quic_held--;
        }
    }
    if (f->dir[0].state == D_DONE && f->dir[1].state == D_DONE) {
        free(q);
        f->quic = NULL;
    }
}

static void fp_flow_free(struct fp_flow *f)
{
    for (int s = 0; s < 2; s++)
        if (f->dir[s].state == D_TLS_RETRY)
            f->ctx->waiting--;
    fp_dir_release(&f->dir[0]);
    fp_dir_release(&f->dir[1]);
    free(f->ch);
    free(f->ch2);
    free(f->sh);
    f->dir[0].state = f->dir[1].state = D_DONE;
    fp_quic_settle(f);
    for (int i = 0; i < 4; i++)
        free(f->kex_str[i / 2][i % 2]);
    free(f);
}

/* ---- analysers ------------------------------------------------------------------- */

static void fp_ssh_kexinit(struct fp_flow *f, int side, const struct hp_sshsniff *s)
{
    struct hp_buf b;

    f->kex_seen[side] = true;
    for (int server = 0; server < 2; server++) {
        hp_buf_init(&b, FP_HASSH_STR_MAX);
        hp_hassh(&s->kex, server, &b, f->kex_md5[side][server]);
        f->kex_str[side][server] = strdup(hp_buf_ok(&b) ? hp_buf_cstr(&b) : "");
        hp_buf_free(&b);
    }
}

static void fp_ssh_feed(struct fp_flow *f, int side, const uint8_t *p, size_t n)
{
    struct fp_dir *d = &f->dir[side];
    int got = hp_sshsniff_feed(d->ssh, p, n);

    if (got & HP_SNIFF_GOT_KEXINIT)
        fp_ssh_kexinit(f, side, d->ssh);
    if (d->ssh->state == HP_SNIFF_DONE || d->ssh->state == HP_SNIFF_FAILED) {
        d->state = D_DONE;
        fp_dir_release(d);
    }
}

static void fp_tls_retry_try(struct fp_flow *f, int side);

/* Try both hello parsers on what this direction has (TLS records, or DTLS
 * datagrams one after the other); decide if either can. */
static void fp_tls_try(struct fp_flow *f, int side)
{
    struct fp_dir *d = &f->dir[side];
    struct hp_tls_hello ch;
    struct hp_tls_server_hello sh;
    bool dtls = d->state == D_DTLS;
    size_t span = 0;
    int rc = f->ch ? -1 : dtls ? hp_dtls_client_hello(d->buf, d->len, &ch)
                               : hp_tls_client_hello_span(d->buf, d->len, &ch, &span);
    int rs = f->sh ? -1 : dtls ? hp_dtls_server_hello(d->buf, d->len, &sh) : hp_tls_server_hello(d->buf, d->len, &sh);

    if (rc == 1 && (f->ch = malloc(sizeof(*f->ch))) != NULL) {
        *f->ch = ch;
        f->client = side;
        if (!dtls && !(f->sh && !f->sh->hello_retry) && f->ctx->waiting < FP_RETRY_WAITING) {
            d->state = D_TLS_RETRY;      /* keep the bytes: the server may ask again */
            d->retry_at = span;
            f->ctx->waiting++;
            fp_tls_retry_try(f, side);
            return;
        }
    } else if (rs == 1 && (f->sh = malloc(sizeof(*f->sh))) != NULL) {
        *f->sh = sh;
        if (f->client < 0)
            f->client = !side;
        struct fp_dir *cd = &f->dir[!side];
        if (cd->state == D_TLS_RETRY)
            fp_tls_retry_try(f, !side);  /* the server has answered: a second hello, or none */
    } else if (rc != -1 || rs != -1) {
        if (d->len < HP_TLS_HELLO_MAX)
            return;                  /* wait for more */
    }
    d->state = D_DONE;
    fp_dir_release(d);
}

/*
 * The client's direction after its first hello: a second ClientHello there
 * (after the compatibility ChangeCipherSpec record, if any) is the one sent
 * again after a HelloRetryRequest.  Anything else after the first hello
 * (TLS 1.2's next handshake message, TLS 1.3's encrypted records), or a
 * server hello that is no HelloRetryRequest, ends the direction; a capture
 * without the server's side is read the same way.
 */
static void fp_tls_retry_try(struct fp_flow *f, int side)
{
    struct fp_dir *d = &f->dir[side];
    if (!(f->sh && !f->sh->hello_retry) && !f->ch2) {
        struct hp_rd r, rec;
        bool cut = false;
        hp_rd_init(&r, d->buf + d->retry_at, d->len - d->retry_at);
        while (!cut && hp_rd_peek_u8(&r, 0) == 20 && hp_rd_peek_u8(&r, 1) == 3) {      /* ChangeCipherSpec */
            struct hp_rd at = r;
            hp_rd_skip(&at, 3);
            if (hp_rd_sub16be(&at, &rec))
                r = at;
            else
                cut = true;          /* the hello cannot be there yet */
        }
        struct hp_tls_hello ch;
        int rc = hp_rd_left(&r) && !cut ? hp_tls_client_hello(hp_rd_ptr(&r), hp_rd_left(&r), &ch) : 0;
        if (rc == 0 && d->len < HP_TLS_HELLO_MAX)
            return;                  /* wait for more */
        if (rc == 1 && (f->ch2 = malloc(sizeof(*f->ch2))) != NULL)
            *f->ch2 = ch;
    }
    f->ctx->waiting--;
    d->state = D_DONE;
    fp_dir_release(d);
}

/* SOCKS5 (RFC 1928) after the greeting: VER CMD/REP RSV ATYP ADDR PORT. */
static bool fp_socks5_tail(struct hp_rd *r, bool request)
{
    uint8_t ver = hp_rd_u8(r), cmd = hp_rd_u8(r), rsv = hp_rd_u8(r), atyp = hp_rd_u8(r);
    size_t alen = atyp == 1 ? 4 : atyp == 4 ? 16 : atyp == 3 ? hp_rd_u8(r) : 0;
    if (ver != 5 || rsv != 0 || !alen || (request ? cmd < 1 || cmd > 3 : cmd > 8))
        return false;
    return hp_rd_skip(r, alen + 2);
}

/*
 * A proxy handshake in front of the TLS / SSH bytes (HTTP CONNECT and its
 * answer, SOCKS4/4a, SOCKS5 without authentication): how many bytes to
 * skip, 0 if this is none of them, -1 if more bytes are needed to tell.
 */
static long fp_preamble(const uint8_t *b, size_t n)
{
    struct hp_rd r;
    long end;

    hp_rd_init(&r, b, n);
    if (hp_rd_starts_with_str(&r, "CONNECT ") || hp_rd_starts_with_str(&r, "HTTP/1.")) {
        end = hp_rd_find(&r, "\r\n\r\n", 4);
        return end >= 0 ? end + 4 : n < HP_TLS_HELLO_MAX ? -1 : 0;
    }
    if (n < 2)
        return n ? -1 : 0;
    if (b[0] == 0 && b[1] >= 0x5a && b[1] <= 0x5d)          /* SOCKS4 reply */
        return n >= 8 ? 8 : -1;
    if (b[0] == 4 && (b[1] == 1 || b[1] == 2)) {             /* SOCKS4 request: user id, 4a host */
        hp_rd_skip(&r, 8);
        long u = hp_rd_find(&r, "", 1);
        if (u < 0 || u > 255)
            return u < 0 && n < 512 ? -1 : 0;
        hp_rd_skip(&r, (size_t)u + 1);
        if (b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] != 0) {
            long h = hp_rd_find(&r, "", 1);
            if (h < 0 || h > 255)
                return h < 0 && n < 1024 ? -1 : 0;
            hp_rd_skip(&r, (size_t)h + 1);
        }
        return hp_rd_ok(&r) ? (long)hp_rd_pos(&r) : 0;
    }
    if (b[0] == 5) {
        struct hp_rd c = r, s = r;
        hp_rd_skip(&c, 2 + (size_t)b[1]);                    /* greeting: VER NMETHODS METHODS */
        if (fp_socks5_tail(&c, true))
            return (long)hp_rd_pos(&c);
        hp_rd_skip(&s, 2);                                   /* choice: VER METHOD (0: none) */
        if (b[1] == 0 && fp_socks5_tail(&s, false))
            return (long)hp_rd_pos(&s);
        return n < 300 ? -1 : 0;
    }
    return 0;
}

/* Append to a direction's hello buffer (at most HP_TLS_HELLO_MAX; what does
 * not fit is dropped); false if it cannot be allocated.  The buffer doubles
 * as bytes arrive: a flow that sent a record header holds FP_BUF_MIN bytes,
 * not a whole hello's worth (a million such flows would take 16 GiB). */
static bool fp_dir_append(struct fp_dir *d, const uint8_t *p, size_t n)
{
    size_t take = HP_TLS_HELLO_MAX - d->len < n ? HP_TLS_HELLO_MAX - d->len : n;
    if (!d->buf || d->len + take > d->cap) {
        size_t cap = d->cap ? d->cap : FP_BUF_MIN;
        while (cap < d->len + take)
            cap *= 2;
        cap = cap < HP_TLS_HELLO_MAX ? cap : HP_TLS_HELLO_MAX;
        uint8_t *nb = realloc(d->buf, cap);
        if (!nb)
            return false;
        d->buf = nb;
        d->cap = cap;
    }
    if (take)
        memcpy(d->buf + d->len, p, take);
    d->len += take;
    return true;
}

/* In-order stream bytes of one direction. */
static void fp_deliver(struct fp_flow *f, int side, const uint8_t *p, size_t n)
{
    struct fp_dir *d = &f->dir[side];

    if (d->state == D_DONE || n == 0)
        return;
    if (d->state == D_SSH) {
        fp_ssh_feed(f, side, p, n);
        return;
    }
    if (!fp_dir_append(d, p, n)) {
        d->state = D_DONE;
        return;
    }
    if (d->state == D_NEW && !d->preamble_done && d->buf[0] != 0x16 && d->buf[0] != 'S') {
        long skip = fp_preamble(d->buf, d->len);
        if (skip < 0 && d->len < HP_TLS_HELLO_MAX)
            return;                  /* wait for the rest of the proxy handshake */
        if (skip > 0) {
            d->preamble_done = true;
            memmove(d->buf, d->buf + skip, d->len - (size_t)skip);
            d->len -= (size_t)skip;
            if (d->len == 0)
                return;
        }
    }
    if (d->state == D_TLS_RETRY) {
        fp_tls_retry_try(f, side);
        return;
    }
    if (d->state == D_NEW) {
        if (d->buf[0] == 0x16) {
            d->state = D_TLS;
        } else if (d->buf[0] == 'S') {
            if (d->len < 4 && memcmp(d->buf, "SSH-", d->len) == 0)
                return;
            if (d->len < 4 || memcmp(d->buf, "SSH-", 4) != 0) {
                d->state = D_DONE;
                fp_dir_release(d);
                return;
            }
            d->state = D_SSH;
            if (!(d->ssh = malloc(sizeof(*d->ssh)))) {
                d->state = D_DONE;
                fp_dir_release(d);
                return;
            }
            hp_sshsniff_init(d->ssh);
            /* the sniffer keeps its own copy from here on */
            uint8_t *held = d->buf;
            size_t hlen = d->len;
            d->buf = NULL;
            d->len = d->cap = 0;
            fp_ssh_feed(f, side, held, hlen);
            free(held);
            return;
        } else {
            d->state = D_DONE;
            fp_dir_release(d);
            return;
        }
    }
    fp_tls_try(f, side);
}

/* ---- TCP: just enough reassembly ----------------------------------------------------- */

/* Deliver what an early segment holds beyond d->next, if it now fits. */
static void fp_drain(struct fp_flow *f, int side)
{
    struct fp_dir *d = &f->dir[side];
    bool progress = true;

    while (progress && d->state != D_DONE) {
        progress = false;
        for (size_t i = 0; i < d->npending; i++) {
            struct fp_seg s = d->pending[i];
            int32_t diff = (int32_t)(s.seq - d->next);
            if (diff > 0)
                continue;
            d->pending[i] = d->pending[--d->npending];
            if ((size_t)-(int64_t)diff < s.len) {
                size_t skip = (size_t)-(int64_t)diff;
                d->next += (uint32_t)(s.len - skip);
                fp_deliver(f, side, s.data + skip, s.len - skip);
            }
            free(s.data);
            progress = true;
            break;
        }
    }
}

static void fp_segment(struct fp_flow *f, int side, uint32_t seq, uint8_t flags,
                       const uint8_t *p, size_t n)
{
    struct fp_dir *d = &f->dir[side];
    bool syn = flags & 0x02, ack = flags & 0x10;

    if (syn) {
        if (!ack && f->syn_from < 0)
            f->syn_from = side;
        if (!d->syn) {
            /* a capture that began mid-stream may have guessed wrong */
            d->syn = true;
            d->seq_set = true;
            d->next = seq + 1;
        }
        seq++;                                   /* data on a SYN (TFO) follows it */
    }
    if (d->state == D_DONE || n == 0)
        return;
    if (!d->seq_set) {
        d->seq_set = true;
        d->next = seq;
    }
    int32_t diff = (int32_t)(seq - d->next);
    if (diff <= 0) {
        size_t skip = (size_t)-(int64_t)diff;    /* retransmitted bytes */
        if (skip >= n)
            return;
        d->next += (uint32_t)(n - skip);
        fp_deliver(f, side, p + skip, n - skip);
        fp_drain(f, side);
    } else if (diff < FP_WINDOW && d->npending < FP_MAX_PENDING) {
        if (!d->pending && !(d->pending = calloc(FP_MAX_PENDING, sizeof(*d->pending))))
            return;
        uint8_t *copy = malloc(n);
        if (!copy)
            return;
        memcpy(copy, p, n);
        d->pending[d->npending++] = (struct fp_seg){ seq, n, copy };
    }
}

/* ---- UDP: QUIC and DTLS -------------------------------------------------------------- */

/* Look for a whole hello in a side's CRYPTO stream. */
static void fp_quic_try(struct fp_flow *f, int side)
{
    struct fp_dir *d = &f->dir[side];
    const struct hp_quic_crypto *cs = f->quic->cs[side];
    int rc = 0;

    if (side == f->client) {
        struct hp_tls_hello ch;
        rc = f->ch ? -1 : hp_tls_client_hello_msg(cs->data, cs->prefix, HP_TLS_QUIC, &ch);
        if (rc == 1 && (f->ch = malloc(sizeof(*f->ch))) != NULL)
            *f->ch = ch;
    } else {
        struct hp_tls_server_hello sh;
        rc = f->sh ? -1 : hp_tls_server_hello_msg(cs->data, cs->prefix, &sh);
        if (rc == 1 && (f->sh = malloc(sizeof(*f->sh))) != NULL)
            *f->sh = sh;
    }
    if (rc != 0 || cs->prefix >= HP_TLS_HELLO_MAX || d->datagrams >= FP_QUIC_DATAGRAMS)
        d->state = D_DONE;
    fp_quic_settle(f);
}

/* The side's CRYPTO stream, allocated at its first datagram; NULL (and the
 * side given up) when FP_QUIC_HELD are held already or memory is short. */
static struct hp_quic_crypto *fp_quic_stream(struct fp_flow *f, int side)
{
    struct fp_quic *q = f->quic;
    if (q->cs[side])
        return q->cs[side];
    if (f->ctx->quic_held >= FP_QUIC_HELD) {
        if (!f->ctx->warned_quic)
            fprintf(stderr, "hanipo fingerprint: more than %u QUIC handshakes unfinished at once; "
                    "later ones are ignored\n", FP_QUIC_HELD);
        f->ctx->warned_quic = true;
    } else if ((q->cs[side] = calloc(1, sizeof(*q->cs[side]))) != NULL) {
        f->ctx->quic_held++;
        return q->cs[side];
    }
    f->dir[side].state = D_DONE;
    fp_quic_settle(f);
    return NULL;
}

/*
 * One QUIC datagram.  The side whose Initial comes first is the client, and
 * its Destination Connection ID keys both directions.  A client Initial that
 * does not authenticate under those keys may follow a Retry, whose new
 * connection ID keys everything after it: the keys are then taken afresh.
 */
static void fp_quic(struct fp_flow *f, int side, const uint8_t *p, size_t n)
{
    struct hp_quic_head h;

    if (!hp_quic_peek(p, n, &h))
        return;
    if (!f->quic) {
        if (!h.initial || !(f->quic = calloc(1, sizeof(*f->quic)))) {
            f->dir[side].state = D_DONE;
            return;
        }
        f->client = side;
        memcpy(f->quic->odcid, h.dcid, h.dcid_len);
        f->quic->odcid_len = h.dcid_len;
    }
    struct hp_quic_crypto *cs = fp_quic_stream(f, side);
    if (!cs)
        return;
    struct fp_quic *q = f->quic;
    bool from_server = side != f->client;
    f->dir[side].datagrams++;
    int rc = hp_quic_datagram(p, n, from_server, q->odcid, q->odcid_len, cs);
    if (rc == 0 && !from_server && h.initial &&
        (h.dcid_len != q->odcid_len || memcmp(h.dcid, q->odcid, h.dcid_len) != 0)) {
        memcpy(q->odcid, h.dcid, h.dcid_len);
        q->odcid_len = h.dcid_len;
        for (int s = 0; s < 2; s++)
            if (q->cs[s])
                hp_quic_crypto_reset(q->cs[s]);
        hp_quic_datagram(p, n, false, q->odcid, q->odcid_len, cs);
    }
    fp_quic_try(f, side);
}

static void fp_udp_flow(struct hp_flowfp *c, int family, const uint8_t *sip, const uint8_t *dip,
                        uint16_t sport, uint16_t dport, const uint8_t *p, size_t n)
{
    uint8_t ip[2][16];
    uint16_t port[2];
    bool swapped;
    struct hp_quic_head h;

    fp_canon(sip, dip, family == AF_INET ? 4 : 16, sport, dport, ip, port, &swapped);
    bool dtls = n >= 13 && p[0] == 0x16 && p[1] == 0xfe;
    bool quic = n >= 7 && (p[0] & 0x80) && hp_quic_peek(p, n, &h) && h.version != 0;
    struct fp_flow *f = fp_lookup(c, family, 17, ip, port, quic || dtls);
    if (!f)
        return;
    int side = swapped ? 1 : 0;
    struct fp_dir *d = &f->dir[side];
    if (d->state == D_NEW) {
        struct fp_dir *other = &f->dir[!side];
        if (other->state == D_QUIC || (other->state == D_DONE && f->quic))
            d->state = D_QUIC;
        else
            d->state = quic ? D_QUIC : dtls ? D_DTLS : D_DONE;
    }
    if (d->state == D_QUIC) {
        fp_quic(f, side, p, n);
    } else if (d->state == D_DTLS) {
        if (fp_dir_append(d, p, n))
            fp_tls_try(f, side);
        else
            d->state = D_DONE;
    }
}

/* ---- packet decoding ----------------------------------------------------------------- */

static void fp_tcp(struct hp_flowfp *c, int family, const uint8_t *sip, const uint8_t *dip, struct hp_rd *r)
{
    uint16_t sport = hp_rd_u16be(r), dport = hp_rd_u16be(r);
    uint32_t seq = hp_rd_u32be(r);
    (void)hp_rd_u32be(r);                        /* ack */
    uint8_t off = hp_rd_u8(r), flags = hp_rd_u8(r);
    hp_rd_skip(r, 6);                            /* window, checksum, urgent */
    size_t hlen = (size_t)(off >> 4) * 4;
    if (!hp_rd_ok(r) || hlen < 20 || !hp_rd_skip(r, hlen - 20)) {
        c->skipped++;
        return;
    }
    uint8_t ip[2][16];
    uint16_t port[2];
    bool swapped;
    size_t alen = family == AF_INET ? 4 : 16;
    fp_canon(sip, dip, alen, sport, dport, ip, port, &swapped);
    /* flows are created only by packets that could start something */
    struct fp_flow *f = fp_lookup(c, family, 6, ip, port, true);
    if (f)
        fp_segment(f, swapped ? 1 : 0, seq, flags, hp_rd_ptr(r), hp_rd_left(r));
}

#define FP_TUNNEL_DEPTH 4

static void fp_ip(struct hp_flowfp *c, uint16_t ethertype, struct hp_rd *r, int depth);
static void fp_ether(struct hp_flowfp *c, struct hp_rd *r, int depth);

/* GRE (RFC 2784/2890, version 0): IPv4, IPv6 or Ethernet inside. */
static void fp_gre(struct hp_flowfp *c, struct hp_rd *r, int depth)
{
    uint16_t flags = hp_rd_u16be(r), proto = hp_rd_u16be(r);
    if ((flags & 7) != 0)
        return;                                  /* version 1 is PPTP's PPP */
    hp_rd_skip(r, ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + ((flags & 0x1000) ? 4 : 0));
    if (!hp_rd_ok(r))
        return;
    if (proto == 0x6558)
        fp_ether(c, r, depth + 1);
    else
        fp_ip(c, proto, r, depth + 1);
}

/* UDP: a tunnel (Geneve on 6081, VXLAN on 4789), or QUIC / DTLS. */
static void fp_udp(struct hp_flowfp *c, int family, const uint8_t *src, const uint8_t *dst, struct hp_rd *r, int depth)
{
    uint16_t sport = hp_rd_u16be(r);
    uint16_t dport = hp_rd_u16be(r);
    uint16_t ulen = hp_rd_u16be(r);
    hp_rd_skip(r, 2);
    if (!hp_rd_ok(r))
        return;
    if (dport == 6081 && depth < FP_TUNNEL_DEPTH) {
        uint8_t vo = hp_rd_u8(r);
        (void)hp_rd_u8(r);
        uint16_t proto = hp_rd_u16be(r);
        hp_rd_skip(r, 4 + (size_t)(vo & 0x3f) * 4);
        if (!hp_rd_ok(r) || (vo >> 6) != 0)
            return;
        if (proto == 0x6558)
            fp_ether(c, r, depth + 1);
        else
            fp_ip(c, proto, r, depth + 1);
    } else if (dport == 4789 && depth < FP_TUNNEL_DEPTH) {
        if (hp_rd_skip(r, 8))
            fp_ether(c, r, depth + 1);
    } else {
        /* the UDP length bounds the payload (a short frame's padding is not data) */
        size_t plen = ulen >= 8 && (size_t)ulen - 8 < hp_rd_left(r) ? (size_t)ulen - 8 : hp_rd_left(r);
        fp_udp_flow(c, family, src, dst, sport, dport, hp_rd_ptr(r), plen);
    }
}

static void fp_transport(struct hp_flowfp *c, int family, uint8_t proto, const uint8_t *src, const uint8_t *dst,
                         struct hp_rd *body, int depth)
{
    if (proto == 6)
        fp_tcp(c, family, src, dst, body);
    else if (proto == 47 && depth < FP_TUNNEL_DEPTH)
        fp_gre(c, body, depth);
    else if ((proto == 4 || proto == 41) && depth < FP_TUNNEL_DEPTH)
        fp_ip(c, proto == 4 ? 0x0800 : 0x86dd, body, depth + 1);    /* IP in IP, 6in4 */
    else if (proto == 17)
        fp_udp(c, family, src, dst, body, depth);
}

static void fp_ipv4(struct hp_flowfp *c, struct hp_rd *r, int depth)
{
    struct hp_rd ip, body;
    const uint8_t *start = hp_rd_ptr(r);
    size_t avail = hp_rd_left(r);
    uint8_t vihl = hp_rd_u8(r);
    (void)hp_rd_u8(r);
    uint16_t total = hp_rd_u16be(r);
    (void)hp_rd_u16be(r);
    uint16_t frag = hp_rd_u16be(r);
    (void)hp_rd_u8(r);
    uint8_t proto = hp_rd_u8(r);
    (void)hp_rd_u16be(r);
    const uint8_t *src = hp_rd_bytes(r, 4), *dst = hp_rd_bytes(r, 4);
    size_t hl = (size_t)(vihl & 15) * 4;

    if (!hp_rd_ok(r) || (vihl >> 4) != 4 || hl < 20 || total < hl || (frag & 0x3fff)) {
        c->skipped++;
        return;
    }
    /* Re-read from the start of the header, bounded by the IP total length
     * (an Ethernet trailer is not TCP payload). */
    hp_rd_init(&ip, start, avail);
    if (!hp_rd_sub(&ip, total < avail ? total : avail, &body) || !hp_rd_skip(&body, hl)) {
        c->skipped++;
        return;
    }
    fp_transport(c, AF_INET, proto, src, dst, &body, depth);
}

static void fp_ipv6(struct hp_flowfp *c, struct hp_rd *r, int depth)
{
    struct hp_rd body;
    uint32_t vtf = hp_rd_u32be(r);
    uint16_t plen = hp_rd_u16be(r);
    uint8_t next = hp_rd_u8(r);
    (void)hp_rd_u8(r);
    const uint8_t *src = hp_rd_bytes(r, 16), *dst = hp_rd_bytes(r, 16);

    if (!hp_rd_ok(r) || (vtf >> 28) != 6 || !hp_rd_sub(r, plen < hp_rd_left(r) ? plen : hp_rd_left(r), &body)) {
        c->skipped++;
        return;
    }
    for (int i = 0; i < 8 && (next == 0 || next == 43 || next == 60 || next == 44); i++) {
        uint8_t nh = hp_rd_u8(&body), elen = hp_rd_u8(&body);
        if (next == 0 || next == 43 || next == 60) {
            hp_rd_skip(&body, (size_t)elen * 8 + 6);
        } else if (next == 44) {                 /* fragment: only a whole datagram will do */
            uint16_t fo = hp_rd_u16be(&body);
            hp_rd_skip(&body, 4);
            if (fo & 0xfff9)
                break;
        } else {
            break;
        }
        next = nh;
    }
    if (!hp_rd_ok(&body)) {
        c->skipped++;
        return;
    }
    fp_transport(c, AF_INET6, next, src, dst, &body, depth);
}

/* The IP version of the first byte: 0x0800, 0x86dd or 0. */
static uint16_t fp_ip_version(const struct hp_rd *r)
{
    int v = hp_rd_peek_u8(r, 0);
    return v < 0 ? 0 : (v >> 4) == 4 ? 0x0800 : (v >> 4) == 6 ? 0x86dd : 0;
}

/* By EtherType: IPv4, IPv6, and what carriers put in front of them: an MPLS
 * label stack (IP follows the bottom label; no control word) and a PPPoE
 * session (DSL captures). */
static void fp_ip(struct hp_flowfp *c, uint16_t ethertype, struct hp_rd *r, int depth)
{
    if (ethertype == 0x8847 || ethertype == 0x8848) {
        for (int i = 0; i < 8; i++) {
            uint32_t label = hp_rd_u32be(r);
            if (!hp_rd_ok(r))
                return;
            if (label & 0x100) {                 /* bottom of stack */
                ethertype = fp_ip_version(r);
                break;
            }
        }
    } else if (ethertype == 0x8864) {
        hp_rd_skip(r, 6);                        /* ver/type, code, session id, length */
        uint16_t ppp = hp_rd_u16be(r);
        ethertype = ppp == 0x0021 ? 0x0800 : ppp == 0x0057 ? 0x86dd : 0;
    }
    if (!hp_rd_ok(r))
        return;
    if (ethertype == 0x0800)
        fp_ipv4(c, r, depth);
    else if (ethertype == 0x86dd)
        fp_ipv6(c, r, depth);
}

/* An Ethernet frame inside a tunnel (the link layer itself is hp_flowfp_packet's). */
static void fp_ether(struct hp_flowfp *c, struct hp_rd *r, int depth)
{
    hp_rd_skip(r, 12);
    uint16_t et = hp_rd_u16be(r);
    for (int i = 0; i < 2 && (et == 0x8100 || et == 0x88a8 || et == 0x9100); i++) {
        hp_rd_skip(r, 2);
        et = hp_rd_u16be(r);
    }
    if (hp_rd_ok(r))
        fp_ip(c, et, r, depth);
}

void hp_flowfp_packet(struct hp_flowfp *c, const uint8_t *pkt, size_t caplen)
{
    struct hp_rd r;
    uint16_t et;

    hp_rd_init(&r, pkt, caplen);
    c->packets++;
    switch (c->linktype) {
    case DLT_EN10MB:
        hp_rd_skip(&r, 12);
        et = hp_rd_u16be(&r);
        for (int i = 0; i < 2 && (et == 0x8100 || et == 0x88a8 || et == 0x9100); i++) {
            hp_rd_skip(&r, 2);
            et = hp_rd_u16be(&r);
        }
        break;
    case DLT_LINUX_SLL:
        hp_rd_skip(&r, 14);
        et = hp_rd_u16be(&r);
        break;
    case DLT_LINUX_SLL2:
        et = hp_rd_u16be(&r);
        hp_rd_skip(&r, 18);
        break;
    case DLT_NULL:
    case DLT_LOOP: {
        uint32_t fam = c->linktype == DLT_LOOP ? hp_rd_u32be(&r) : hp_rd_u32le(&r);
        if (c->linktype == DLT_NULL && fam > 0xffff)
            fam = __builtin_bswap32(fam);        /* written on a big-endian host */
        et = fam == 2 ? 0x0800 : (fam == 24 || fam == 28 || fam == 30) ? 0x86dd : 0;
        break;
    }
    case 12: case 14: case 101:                  /* DLT_RAW (both numbers), LINKTYPE_RAW */
    case DLT_IPV4:
    case DLT_IPV6:
        et = fp_ip_version(&r);
        break;
    default:
        et = 0;
    }
    if (!hp_rd_ok(&r) || !et) {
        c->skipped++;
        return;
    }
    fp_ip(c, et, &r, 0);
}

/* ---- output ------------------------------------------------------------------------------ */

static void fp_json_addr(struct hp_buf *b, const char *key, const struct fp_flow *f, int side)
{
    char ip[INET6_ADDRSTRLEN], s[INET6_ADDRSTRLEN + 8];
    inet_ntop(f->family, f->ip[side], ip, sizeof(ip));
    snprintf(s, sizeof(s), f->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, f->port[side]);
    hp_buf_printf(b, "\"%s\":", key);
    hp_json_str(b, s, strlen(s));
}

static void fp_json_kv(struct hp_buf *b, const char *key, const char *val)
{
    hp_buf_printf(b, ",\"%s\":", key);
    hp_json_str(b, val, strlen(val));
}

/* Which side is the client: the ClientHello says so, else the bare SYN, else
 * (SSH seen mid-stream) the side not on a well-known SSH port or the higher port. */
static int fp_client_side(const struct fp_flow *f)
{
    if (f->client >= 0)
        return f->client;
    if (f->syn_from >= 0)
        return f->syn_from;
    for (int s = 0; s < 2; s++)
        if (f->port[s] == 22 || f->port[s] == 2222)
            return !s;
    return f->port[0] > f->port[1] ? 0 : 1;
}

static void fp_print(const struct fp_flow *f, struct hp_buf *b, FILE *out)
{
    int cs = fp_client_side(f), ss = !cs;
    const char *name = NULL;
    bool client_fp = false;

    if (!f->ch && !f->sh && !f->kex_seen[0] && !f->kex_seen[1])
        return;
    hp_buf_reset(b);
    hp_buf_putc(b, '{');
    fp_json_addr(b, "src", f, cs);
    hp_buf_putc(b, ',');
    fp_json_addr(b, "dst", f, ss);
    if (f->proto == 17)
        fp_json_kv(b, "transport", f->quic || f->dir[0].datagrams || f->dir[1].datagrams ? "quic" : "dtls");
    if (f->ch) {
        fp_json_kv(b, "ja3", f->ch->ja3);
        fp_json_kv(b, "ja3_string", f->ch->ja3_string);
        fp_json_kv(b, "ja4", f->ch->ja4);
        if (f->ch->sni[0])
            fp_json_kv(b, "sni", f->ch->sni);
        if (f->ch->alpn[0])
            fp_json_kv(b, "alpn", f->ch->alpn);
        if (f->ch->versions[0])
            fp_json_kv(b, "tls_versions", f->ch->versions);
        if (f->ch2) {                    /* the hello sent again after a HelloRetryRequest */
            fp_json_kv(b, "ja3_retry", f->ch2->ja3);
            fp_json_kv(b, "ja3_retry_string", f->ch2->ja3_string);
            fp_json_kv(b, "ja4_retry", f->ch2->ja4);
        }
        name = hp_fpname(HP_FP_JA4, f->ch->ja4);
        if (!name)
            name = hp_fpname(HP_FP_JA3, f->ch->ja3);
        client_fp = true;
    }
    if (f->sh) {
        fp_json_kv(b, "ja3s", f->sh->ja3s);
        fp_json_kv(b, "ja3s_string", f->sh->ja3s_string);
    }
    if (f->kex_seen[cs] && f->kex_md5[cs][0][0]) {
        fp_json_kv(b, "hassh", f->kex_md5[cs][0]);
        fp_json_kv(b, "hassh_string", f->kex_str[cs][0] ? f->kex_str[cs][0] : "");
        if (!name)
            name = hp_fpname(HP_FP_HASSH, f->kex_md5[cs][0]);
        client_fp = true;
    }
    if (f->kex_seen[ss] && f->kex_md5[ss][1][0]) {
        const char *server = hp_fpname(HP_FP_HASSHSERVER, f->kex_md5[ss][1]);
        fp_json_kv(b, "hasshServer", f->kex_md5[ss][1]);
        fp_json_kv(b, "hasshServer_string", f->kex_str[ss][1] ? f->kex_str[ss][1] : "");
        if (server)
            fp_json_kv(b, "server", server);
    }
    if (client_fp)
        fp_json_kv(b, "client", name ? name : "unknown");
    hp_buf_puts(b, "}\n");
    if (hp_buf_ok(b))
        fwrite(b->data, 1, b->len, out);
}

/* ---- life cycle ---------------------------------------------------------------------- */

struct hp_flowfp *hp_flowfp_new(int linktype)
{
    struct hp_flowfp *c = calloc(1, sizeof(*c));
    if (c) {
        c->linktype = linktype;
        c->hash_key = hp_random_u64();
    }
    return c;
}

void hp_flowfp_finish(struct hp_flowfp *c, FILE *out)
{
    struct hp_buf b;

    if (!c)
        return;
    hp_buf_init(&b, 64 * 1024);
    for (struct fp_flow *f = c->first, *next; f; f = next) {
        next = f->onext;
        fp_print(f, &b, out);
        fp_flow_free(f);
    }
    hp_buf_free(&b);
    free(c);
}
