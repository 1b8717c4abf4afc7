/*
 * udp.c - UDP datagrams and UDP "sessions".
 *
 * UDP has no connections, so a session is a source address and port talking
 * to one service, grouped while it keeps sending within the service's
 * idle_timeout (the window).  A session gets session.connect with its first
 * datagram and session.closed when the window passes (or when the table is
 * full and it is the least recently active one).
 *
 * Every datagram costs the sender nothing and can be spoofed, so each
 * session has a token bucket: datagrams beyond UDP_RATE per second (burst
 * UDP_BURST) are counted, not processed, and the count is reported in
 * session.closed.  Replies (hp_udp_reply) may never be larger than the
 * datagram that caused them: no amplification.
 *
 * Reflection guard (issue #10).  The reply budget of a datagram
 * (peer.request_len) is its size times the service's udp_max_amplification
 * (default 1.0, never above HP_UDP_AMP_CAP).  Spoofed sources show up as
 * floods: the same payload again and again, or many short sessions (new
 * source ports) from one address.  A small direct-mapped table keyed by
 * (service, source address) counts, per udp_answer_window, new sessions and
 * repeats of the last payload hash; past GUARD_SESSIONS or GUARD_REPEATS the
 * source is "flooding" for a window and gets at most one reply per window
 * (budget 0 otherwise).  Nothing is dropped silently: the module still sees
 * and logs every datagram the token bucket lets through, and withheld
 * replies are counted in session.closed (replies_suppressed, flood) and in
 * the udp_suppressed counter.  A table collision only resets a source's
 * counts (bounded memory, at worst a few more small replies).
 * udp_answer_window = 0 turns the guard off.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "config.h"
#include "conn.h"
#include "event.h"
#include "intel/geo.h"
#include "log.h"
#include "proto.h"
#include "sensor.h"
#include "srcmap.h"
#include "util.h"

#define UDP_SESSIONS_MAX 8192
#define UDP_BATCH 32
#define UDP_RATE 50          /* datagrams per second per session */
#define UDP_BURST 100
#define GUARD_SLOTS 4096
#define GUARD_SESSIONS 16    /* new sessions per window from one address */
#define GUARD_REPEATS 3      /* identical datagrams per window from one address */

struct udp_guard {
    const struct hp_service *svc;
    uint8_t key[16];
    int64_t win_start, flood_until, last_answer;
    uint32_t sessions, same;
    uint64_t last_hash;
    bool answered;
};

struct udp_session {
    struct hp_udp_peer peer;      /* ctx holds the session id and addresses */
    uint8_t key[16];
    uint16_t port;
    int64_t start_ms, last_ms;
    double tokens;
    uint64_t datagrams, dropped, bytes_in;
    bool flood;                           /* the source looked spoofed at some point */
    struct udp_session *hnext;            /* hash chain */
    struct udp_session *lprev, *lnext;    /* LRU list, oldest first */
};

static struct udp_session *table[4096];
static struct udp_session *lru_head, *lru_tail;
static size_t nsessions;
static uint8_t rxbuf[65536];
static struct udp_guard guards[GUARD_SLOTS];

static uint64_t hash_key;     /* drawn at the first datagram */

/* FNV-1a with a per-process random basis: source addresses are the peer's
 * choice (spoofed at no cost over UDP), and with a basis they could compute
 * they would put every session in one chain, each datagram walking all
 * UDP_SESSIONS_MAX of them. */
static size_t udp_hash(const struct hp_service *svc, const uint8_t key[16], uint16_t port)
{
    if (!hash_key)
        hash_key = hp_random_u64() | 1;
    uint64_t h = (hash_key ^ (uint64_t)(uintptr_t)svc * 0x9E3779B97F4A7C15ull) ^ port;
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 31)) % HP_ARRAY_LEN(table);
}

static void lru_unlink(struct udp_session *u)
{
    if (u->lprev) u->lprev->lnext = u->lnext; else lru_head = u->lnext;
    if (u->lnext) u->lnext->lprev = u->lprev; else lru_tail = u->lprev;
    u->lprev = u->lnext = NULL;
}

static void lru_append(struct udp_session *u)
{
    u->lprev = lru_tail;
    u->lnext = NULL;
    if (lru_tail) lru_tail->lnext = u; else lru_head = u;
    lru_tail = u;
}

static void session_end(struct udp_session *u, const char *reason)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, &u->peer.ctx, "session.closed");
    hp_ev_double(&ev, "duration", (double)(u->last_ms - u->start_ms) / 1000.0);
    hp_ev_uint(&ev, "bytes_in", u->bytes_in);
    hp_ev_uint(&ev, "datagrams", u->datagrams);
    if (u->dropped)
        hp_ev_uint(&ev, "datagrams_dropped", u->dropped);
    hp_ev_uint(&ev, "replies", u->peer.replies);
    if (u->peer.replies_suppressed)
        hp_ev_uint(&ev, "replies_suppressed", u->peer.replies_suppressed);
    if (u->flood)
        hp_ev_bool(&ev, "flood", true);
    hp_ev_str(&ev, "reason", reason);
    hp_ev_emit(&ev);

    size_t b = udp_hash(u->peer.svc, u->key, u->port);
    for (struct udp_session **pp = &table[b]; *pp; pp = &(*pp)->hnext)
        if (*pp == u) {
            *pp = u->hnext;
            break;
        }
    lru_unlink(u);
    nsessions--;
    free(u);
}

/* Each service has its own window, so the whole list is scanned (at most
 * UDP_SESSIONS_MAX entries, once a second). */
void hp_udp_sweep(bool all)
{
    int64_t now = hp_mono_ms();
    for (struct udp_session *u = lru_head, *next; u; u = next) {
        next = u->lnext;
        if (all || now - u->last_ms >= (int64_t)u->peer.cfg->idle_timeout_ms)
            session_end(u, all ? "shutdown" : "idle_timeout");
    }
}

static void addr_str(const struct sockaddr_storage *ss, char *ip, size_t len, uint16_t *port)
{
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip, (socklen_t)len);
        else
            inet_ntop(AF_INET6, &in6->sin6_addr, ip, (socklen_t)len);
        *port = ntohs(in6->sin6_port);
    } else {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, ip, (socklen_t)len);
        *port = ntohs(in->sin_port);
    }
}

static struct udp_session *session_get(struct hp_service *svc, int fd, const struct sockaddr_storage *from,
                                       socklen_t fromlen, const char *dst_ip, uint16_t dst_port, bool *created)
{
    *created = false;
    uint8_t key[16];
    uint16_t sport;
    char sip[HP_IPSTR_LEN];
    hp_srcmap_key(from, key);
    addr_str(from, sip, sizeof(sip), &sport);
    size_t b = udp_hash(svc, key, sport);
    for (struct udp_session *u = table[b]; u; u = u->hnext)
        if (u->peer.svc == svc && u->port == sport && memcmp(u->key, key, 16) == 0)
            return u;

    if (nsessions >= UDP_SESSIONS_MAX)
        session_end(lru_head, "evicted");
    struct udp_session *u = hp_xcalloc(1, sizeof(*u));
    memcpy(u->key, key, 16);
    u->port = sport;
    u->peer.svc = svc;
    u->peer.cfg = svc->cfg;
    u->peer.fd = fd;
    u->peer.addr = *from;
    u->peer.addrlen = fromlen;
    hp_random_hex(u->peer.ctx.session, HP_SESSION_ID_LEN);
    u->peer.ctx.protocol = svc->proto->name;
    u->peer.ctx.service = svc->cfg->name;
    u->peer.ctx.transport = "udp";
    memcpy(u->peer.ctx.src_ip, sip, sizeof(sip));
    u->peer.ctx.src_port = sport;
    snprintf(u->peer.ctx.dst_ip, sizeof(u->peer.ctx.dst_ip), "%s", dst_ip);
    u->peer.ctx.dst_port = dst_port;
    u->start_ms = u->last_ms = hp_mono_ms();
    u->tokens = UDP_BURST;
    u->hnext = table[b];
    table[b] = u;
    lru_append(u);
    nsessions++;
    hp_sensor.n.udp_sessions++;
    *created = true;

    struct hp_ev ev;
    hp_ev_begin(&ev, &u->peer.ctx, "session.connect");
    hp_geo_ev_fields(&ev, u->peer.ctx.src_ip);  /* country / ASN, or src_special */
    hp_ev_emit(&ev);
    return u;
}

static uint64_t payload_hash(const uint8_t *d, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 1099511628211ull;
    return h;
}

/* Count the datagram against its source address; true while it floods. */
static struct udp_guard *guard_note(struct udp_session *u, bool created, const uint8_t *d, size_t n,
                                    int64_t now)
{
    uint64_t win = u->peer.cfg->udp_answer_window_ms;
    if (win == 0)
        return NULL;
    struct udp_guard *g = &guards[udp_hash(u->peer.svc, u->key, 0) % GUARD_SLOTS];
    if (g->svc != u->peer.svc || memcmp(g->key, u->key, 16) != 0) {
        memset(g, 0, sizeof(*g));
        g->svc = u->peer.svc;
        memcpy(g->key, u->key, 16);
        g->win_start = now;
    }
    if (now - g->win_start >= (int64_t)win) {
        g->win_start = now;
        g->sessions = g->same = 0;
    }
    uint64_t h = payload_hash(d, n);
    if (created)
        g->sessions++;
    if (h == g->last_hash && g->same) {
        g->same++;
    } else {
        g->last_hash = h;
        g->same = 1;
    }
    if (g->sessions > GUARD_SESSIONS || g->same > GUARD_REPEATS)
        g->flood_until = now + (int64_t)win;
    return g;
}

/* Reply budget of one datagram: its size times the amplification setting,
 * or 0 for a flooding source that already had its reply this window. */
static size_t reply_budget(struct udp_session *u, const struct udp_guard *g, size_t n, int64_t now)
{
    if (g && now < g->flood_until) {
        u->flood = true;
        if (g->answered && now - g->last_answer < (int64_t)u->peer.cfg->udp_answer_window_ms)
            return 0;
    }
    double amp = u->peer.cfg->udp_max_amplification;
    if (amp > HP_UDP_AMP_CAP)
        amp = HP_UDP_AMP_CAP;
    return (size_t)((double)n * amp);
}

/* Destination address of a datagram from IP_PKTINFO / IPV6_PKTINFO. */
static void dgram_dst(struct msghdr *mh, char *ip, size_t len)
{
    snprintf(ip, len, "unknown");
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
            inet_ntop(AF_INET, &pi.ipi_addr, ip, (socklen_t)len);
        } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi6;
            memcpy(&pi6, CMSG_DATA(cm), sizeof(pi6));
            inet_ntop(AF_INET6, &pi6.ipi6_addr, ip, (socklen_t)len);
        }
    }
}

void hp_udp_datagram(struct hp_service *svc, int fd, uint16_t listen_port)
{
    for (int i = 0; i < UDP_BATCH; i++) {
        struct sockaddr_storage from;
        char cbuf[256];
        struct iovec iov = { rxbuf, sizeof(rxbuf) };
        struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
                             .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
        if (n < 0)
            return;
        char dst[HP_IPSTR_LEN];
        dgram_dst(&mh, dst, sizeof(dst));
        hp_sensor.n.udp_datagrams++;
        bool created;
        struct udp_session *u = session_get(svc, fd, &from, mh.msg_namelen, dst, listen_port, &created);
        int64_t now = hp_mono_ms();
        u->tokens += (double)(now - u->last_ms) * UDP_RATE / 1000.0;
        if (u->tokens > UDP_BURST)
            u->tokens = UDP_BURST;
        u->last_ms = now;
        lru_unlink(u);
        lru_append(u);
        u->datagrams++;
        u->bytes_in += (uint64_t)n;
        if (u->tokens < 1.0) {
            u->dropped++;
            hp_sensor.n.udp_dropped++;
            continue;
        }
        u->tokens -= 1.0;
        struct udp_guard *g = guard_note(u, created, rxbuf, (size_t)n, now);
        u->peer.request_len = reply_budget(u, g, (size_t)n, now);
        uint64_t before = u->peer.replies;
        if (svc->proto->on_datagram)
            svc->proto->on_datagram(&u->peer, rxbuf, (size_t)n);
        if (g && u->peer.replies != before && now < g->flood_until) {
            g->answered = true;          /* the one reply of this window */
            g->last_answer = now;
        }
    }
}

int hp_udp_reply(struct hp_udp_peer *p, const void *data, size_t len)
{
    if (len > p->request_len) {    /* never amplify beyond the budget */
        p->replies_suppressed++;
        hp_sensor.n.udp_suppressed++;
        return -1;
    }
    ssize_t w = sendto(p->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&p->addr, p->addrlen);
    if (w != (ssize_t)len)
        return -1;
    p->replies++;
    return 0;
}
