/*
 * conn.c - TCP connection lifecycle.  See conn.h.
 *
 * Life of a connection:
 *   accept -> conn_new (addresses, session id, caps) -> session.connect
 *   -> proto->on_accept -> [read -> proto->on_data]* -> hp_conn_close()
 *   -> flush pending output -> proto->on_close -> session.closed -> free.
 *
 * Every libevent callback brackets its work with conn_enter()/conn_leave():
 * while the connection is busy, hp_conn_close() only marks it, and the
 * last conn_leave() frees it.  So a module (or the core itself) may close
 * a connection anywhere and the code after it still sees valid memory.
 *
 * Timeouts use one timer per connection that is re-armed lazily: reads only
 * record the time of last activity, and the timer, when it fires, either
 * closes the connection or re-arms itself for the remaining time.  That keeps
 * the per-read cost at a clock read instead of a heap update.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "capture/upload.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "intel/geo.h"
#include "log.h"
#include "output.h"
#include "proto.h"
#include "relay.h"
#include "sensor.h"
#include "srcmap.h"
#include "util.h"

#define CONN_IN_MAX (128 * 1024)   /* unconsumed input a module may leave buffered */
#define READ_CHUNK 16384

static struct hp_ratelimit refuse_rl;

static void conn_free(struct hp_conn *c);
/* Connections parked by back-pressure (HP_CONN_PARKED), so that
 * hp_conns_unpark() walks the list only when there are some. */
static size_t conn_nparked;

static void conn_arm_idle(struct hp_conn *c);

/* ---- addresses -------------------------------------------------------------- */

/* Text form of an address; IPv4-mapped IPv6 is shown as plain IPv4. */
static void addr_to_str(const struct sockaddr_storage *ss, char *ip, size_t iplen, uint16_t *port)
{
    if (ss->ss_family == AF_INET && iplen >= 16) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        hp_fmt_ipv4(&in->sin_addr, ip);
        *port = ntohs(in->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && iplen >= 16)
            hp_fmt_ipv4(&in6->sin6_addr.s6_addr[12], ip);
        else
            inet_ntop(AF_INET6, &in6->sin6_addr, ip, (socklen_t)iplen);
        *port = ntohs(in6->sin6_port);
    } else {
        snprintf(ip, iplen, "unknown");
        *port = 0;
    }
}

/*
 * The destination the client really dialled.  With an nftables/iptables
 * REDIRECT or DNAT, conntrack knows the original destination
 * (SO_ORIGINAL_DST); otherwise it is the local address, which the kernel is
 * only asked for when the listener is bound to a wildcard address.
 */
static void conn_local_addr(struct hp_conn *c, const struct sockaddr_storage *peer,
                            const struct sockaddr_storage *local)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    bool v6 = peer->ss_family == AF_INET6;
    memset(&ss, 0, sizeof(ss));
    if (getsockopt(c->fd, v6 ? SOL_IPV6 : SOL_IP, v6 ? IP6T_SO_ORIGINAL_DST : SO_ORIGINAL_DST, &ss, &sl) == 0 &&
        ss.ss_family == peer->ss_family) {
        addr_to_str(&ss, c->ctx.dst_ip, sizeof(c->ctx.dst_ip), &c->ctx.dst_port);
        return;
    }
    sl = sizeof(ss);
    if (!hp_sockaddr_is_any(local))
        ss = *local;
    else if (getsockname(c->fd, (struct sockaddr *)&ss, &sl) != 0)
        ss = *local;
    addr_to_str(&ss, c->ctx.dst_ip, sizeof(c->ctx.dst_ip), &c->ctx.dst_port);
}

/* ---- events ------------------------------------------------------------------ */

static void emit_connect(struct hp_conn *c, uint16_t listen_port)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, &c->ctx, "session.connect");
    if (listen_port != c->ctx.dst_port)
        hp_ev_uint(&ev, "listen_port", listen_port);
    hp_geo_ev_fields(&ev, c->ctx.src_ip);      /* country / ASN, or src_special */
    hp_ev_emit(&ev);
}

static void emit_closed(struct hp_conn *c)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, &c->ctx, "session.closed");
    hp_ev_double(&ev, "duration", (double)(hp_mono_ms() - c->start_mono_ms) / 1000.0);
    hp_ev_uint(&ev, "bytes_in", c->bytes_in);
    hp_ev_uint(&ev, "bytes_out", c->bytes_out);
    hp_ev_str(&ev, "reason", c->close_reason ? c->close_reason : "closed");
    hp_ev_emit(&ev);
}

/* ---- teardown ------------------------------------------------------------------ */

/* Free now unless a callback is on the stack or output is pending. */
static void conn_maybe_free(struct hp_conn *c)
{
    if (!(c->flags & HP_CONN_CLOSING) || c->busy)
        return;
    if (c->out && evbuffer_get_length(c->out) > 0 && !(c->flags & HP_CONN_DEAD))
        return;       /* write callback finishes the job */
    conn_free(c);
}

static void conn_enter(struct hp_conn *c)
{
    c->busy++;
}

/* Bytes hp_conn_send_last held for a FIN that is not coming: out now.  Turning
 * TCP_CORK off pushes whatever the write queue holds, corked or not. */
static void conn_release_held(struct hp_conn *c)
{
    int off = 0;
    c->flags &= ~HP_CONN_HELD;
    setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
}

/* About to close with held bytes: shutdown() sends them with the FIN at
 * once.  close() alone would too, unless the peer sent more that nobody
 * read: then it answers with a reset, which drops what is held.  After the
 * shutdown the bytes are on their way, and a reset can only follow them, as
 * it would have without holding. */
static void conn_flush_held(struct hp_conn *c)
{
    if (c->flags & HP_CONN_HELD)
        shutdown(c->fd, SHUT_WR);
}

/* Last use of c in a callback: it may be freed here. */
static void conn_leave(struct hp_conn *c)
{
    c->busy--;
    if (!c->busy && (c->flags & HP_CONN_HELD) && !(c->flags & HP_CONN_CLOSING))
        conn_release_held(c);
    conn_maybe_free(c);
}

void hp_conn_close(struct hp_conn *c, const char *reason)
{
    if (!(c->flags & HP_CONN_CLOSING)) {
        c->flags |= HP_CONN_CLOSING;
        c->close_reason = reason;
        event_del(c->ev_read);
    }
    conn_maybe_free(c);
}

static void conn_free(struct hp_conn *c)
{
    struct hp_sensor *s = &hp_sensor;
    if (c->flags & HP_CONN_PARKED)
        conn_nparked--;
    c->busy++;                              /* on_close may call hp_conn_close */
    if (c->proto->on_close)
        c->proto->on_close(c);
    emit_closed(c);
    event_free(c->ev_read);
    event_free(c->ev_write);
    event_free(c->ev_idle);
    if (c->ev_timer)
        event_free(c->ev_timer);
    if (c->out)
        evbuffer_free(c->out);
    conn_flush_held(c);
    close(c->fd);
    hp_buf_free(&c->in);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->src->active--;
    hp_srcmap_put(c->src);
    c->svc->active--;
    s->active--;
    s->n.closed++;
    free(c->pstate);
    free(c);
    hp_listeners_check();
}

void hp_conn_close_all(const char *reason)
{
    while (hp_sensor.conns) {
        struct hp_conn *c = hp_sensor.conns;
        c->flags |= HP_CONN_DEAD;           /* do not wait for output */
        hp_conn_close(c, reason);
        if (hp_sensor.conns == c)           /* should not happen; avoid looping */
            conn_free(c);
    }
}

/* Call a module hook if it has one (callers hold conn_enter()). */
#define CONN_CALL(c, fn, ...)                                    \
    do {                                                         \
        if ((c)->proto->fn)                                      \
            (c)->proto->fn(__VA_ARGS__);                         \
    } while (0)

/* ---- output ------------------------------------------------------------------- */

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hp_conn *c = arg;
    conn_enter(c);
    int n = evbuffer_write(c->out, fd);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
        c->flags |= HP_CONN_DEAD;
        hp_conn_close(c, c->close_reason ? c->close_reason : "write_error");
    } else {
        if (n > 0)
            c->bytes_out += (uint64_t)n;
        if (evbuffer_get_length(c->out) == 0)
            event_del(c->ev_write);
    }
    conn_leave(c);
}

static int conn_send(struct hp_conn *c, const void *data, size_t len, int more)
{
    if (c->flags & HP_CONN_CLOSING)
        return -1;
    const char *p = data;
    if (!c->out || evbuffer_get_length(c->out) == 0) {
        ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT | more);
        if (more && w > 0)
            c->flags |= HP_CONN_HELD;
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            hp_conn_close(c, "write_error");
            return -1;
        }
        if (w > 0) {
            c->bytes_out += (uint64_t)w;
            p += w;
            len -= (size_t)w;
        }
        if (len == 0)
            return 0;
    }
    if (!c->out)
        c->out = evbuffer_new();
    if (!c->out || evbuffer_get_length(c->out) + len > HP_CONN_OUT_MAX) {
        c->flags |= HP_CONN_DEAD;
        hp_conn_close(c, "output_overflow");
        return -1;
    }
    evbuffer_add(c->out, p, len);
    event_add(c->ev_write, NULL);
    return 0;
}

int hp_conn_send(struct hp_conn *c, const void *data, size_t len)
{
    return conn_send(c, data, len, 0);
}

int hp_conn_send_last(struct hp_conn *c, const void *data, size_t len)
{
    return conn_send(c, data, len, MSG_MORE);
}

int hp_conn_printf(struct hp_conn *c, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    return hp_conn_send(c, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

void hp_conn_consume(struct hp_conn *c, size_t n)
{
    hp_buf_consume(&c->in, n);
}

const struct hp_service_cfg *hp_conn_service_cfg(const struct hp_conn *c)
{
    return c->svc->cfg;
}

/* ---- timers ------------------------------------------------------------------- */

static void conn_idle_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hp_conn *c = arg;
    const struct hp_service_cfg *cfg = c->svc->cfg;
    int64_t now = hp_mono_ms();
    conn_enter(c);
    if (c->flags & HP_CONN_PARKED)            /* waiting for the outputs, not idle */
        c->last_active_ms = now;
    if (c->flags & HP_CONN_CLOSING)           /* output never drained: give up on it */
        c->flags |= HP_CONN_DEAD;
    else if (cfg->max_duration_ms && now - c->start_mono_ms >= (int64_t)cfg->max_duration_ms)
        hp_conn_close(c, "max_duration");
    else if (now - c->last_active_ms >= (int64_t)cfg->idle_timeout_ms)
        hp_conn_close(c, "idle_timeout");
    else
        conn_arm_idle(c);
    conn_leave(c);
}

static void conn_arm_idle(struct hp_conn *c)
{
    const struct hp_service_cfg *cfg = c->svc->cfg;
    int64_t now = hp_mono_ms();
    int64_t due = c->last_active_ms + (int64_t)cfg->idle_timeout_ms;
    if (cfg->max_duration_ms && c->start_mono_ms + (int64_t)cfg->max_duration_ms < due)
        due = c->start_mono_ms + (int64_t)cfg->max_duration_ms;
    int64_t ms = due > now ? due - now : 0;
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
    event_add(c->ev_idle, &tv);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hp_conn *c = arg;
    if (c->flags & HP_CONN_CLOSING)
        return;
    conn_enter(c);
    CONN_CALL(c, on_timer, c);
    conn_leave(c);
}

void hp_conn_set_timer(struct hp_conn *c, uint64_t ms)
{
    if (!c->ev_timer) {
        if (!ms)
            return;
        c->ev_timer = evtimer_new(hp_sensor.base, conn_timer_cb, c);
    }
    if (!ms) {
        evtimer_del(c->ev_timer);
        return;
    }
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
    evtimer_add(c->ev_timer, &tv);
}

/* ---- input ------------------------------------------------------------------- */

/*
 * Input is read into one buffer shared by all connections (the loop is
 * single-threaded) and offered to the module from there; only what the
 * module leaves unconsumed is copied into the connection's own buffer.  An
 * idle connection therefore holds no input memory at all, which is most of
 * what 10,000 idle attackers would otherwise cost.
 */
static uint8_t conn_rxbuf[READ_CHUNK];

void hp_conn_handover(struct hp_conn *c, const struct hp_proto *to)
{
    if (c->ev_timer)
        evtimer_del(c->ev_timer);
    free(c->pstate);
    c->pstate = to->conn_state_size ? hp_xcalloc(1, to->conn_state_size) : NULL;
    c->proto = to;
    c->ctx.protocol = to->name;
    c->flags |= HP_CONN_SWITCHED;
    CONN_CALL(c, on_accept, c);
}

/* After a hand-over inside on_data, the new module gets what is buffered. */
static void conn_redeliver(struct hp_conn *c)
{
    for (int i = 0; i < 4 && (c->flags & HP_CONN_SWITCHED) && !(c->flags & HP_CONN_CLOSING); i++) {
        c->flags &= ~HP_CONN_SWITCHED;
        if (c->in.len == 0)
            return;
        struct hp_rd rd;
        hp_rd_init(&rd, c->in.data, c->in.len);
        CONN_CALL(c, on_data, c, &rd);
        if (c->proto->on_data)
            hp_buf_consume(&c->in, hp_rd_pos(&rd));
    }
}

/*
 * A module waited for more input than it may buffer (a Redis command or a
 * memcached value over CONN_IN_MAX, a message whose length field promises
 * more): what it could not take is kept as a payload (session.file_upload,
 * protocol_detail "input_overflow", classified and mined like any upload)
 * before the connection closes, so an oversized exploit or dropper is
 * evidence rather than lost.  Stored once per SHA-256, within the payload
 * quota.
 */
static void conn_overflow(struct hp_conn *c)
{
    if (c->in.len > 0 && !(c->flags & HP_CONN_CLOSING)) {
        struct hp_upload_info u = {
            .data_dir = hp_sensor.cfg ? hp_sensor.cfg->data_dir : NULL,
            .detail = "input_overflow",
            .size = c->in.len,
        };
        hp_upload_record(&c->ctx, &u, c->in.data, c->in.len, NULL);
    }
    hp_conn_close(c, "input_overflow");
}

static void conn_deliver(struct hp_conn *c, const uint8_t *fresh, size_t n)
{
    struct hp_rd rd;
    if (c->in.len == 0) {
        hp_rd_init(&rd, fresh, n);             /* common case: straight from the read */
        CONN_CALL(c, on_data, c, &rd);
        size_t used = c->proto->on_data ? hp_rd_pos(&rd) : 0;
        if (used < n && !hp_buf_put(&c->in, fresh + used, n - used))
            conn_overflow(c);
    } else {
        if (!hp_buf_put(&c->in, fresh, n)) {
            conn_overflow(c);
            return;
        }
        hp_rd_init(&rd, c->in.data, c->in.len);
        CONN_CALL(c, on_data, c, &rd);
        if (c->proto->on_data)
            hp_buf_consume(&c->in, hp_rd_pos(&rd));
    }
    conn_redeliver(c);
    if (c->in.len == 0 && c->in.alloc > 4096)
        hp_buf_free(&c->in);                   /* give idle memory back */
}

static void conn_read(struct hp_conn *c, int fd)
{
    const struct hp_service_cfg *cfg = c->svc->cfg;

    if (c->in.len >= c->in.cap) {
        conn_overflow(c);
        return;
    }
    size_t room = c->in.cap - c->in.len;
    if (room > sizeof(conn_rxbuf))
        room = sizeof(conn_rxbuf);
    ssize_t n = recv(fd, conn_rxbuf, room, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        c->flags |= HP_CONN_DEAD;
        hp_conn_close(c, errno == ECONNRESET ? "reset" : "read_error");
        return;
    }
    if (n == 0) {
        c->flags |= HP_CONN_EOF;
        event_del(c->ev_read);
        if (c->proto->on_eof)
            CONN_CALL(c, on_eof, c);
        else
            hp_conn_close(c, "eof");
        return;
    }
    c->last_active_ms = hp_mono_ms();
    c->reads++;
    uint64_t allowed = cfg->max_input > c->bytes_in ? cfg->max_input - c->bytes_in : 0;
    bool over = (uint64_t)n > allowed;
    if (over)
        n = (ssize_t)allowed;
    c->bytes_in += (uint64_t)n;
    conn_deliver(c, conn_rxbuf, (size_t)n);
    if (over && !(c->flags & HP_CONN_CLOSING))
        hp_conn_close(c, "max_input");
    else if (c->in.len >= c->in.cap && !(c->flags & HP_CONN_CLOSING))
        conn_overflow(c);
}

static bool conn_park(struct hp_conn *c)
{
    if (c->reads < HP_CONN_PARK_READS || !hp_output_pressing())
        return false;
    c->flags |= HP_CONN_PARKED;
    event_del(c->ev_read);
    conn_nparked++;
    hp_sensor.n.reads_parked++;
    hp_listeners_check();           /* pauses accepting and runs the resume timer */
    return true;
}

void hp_conns_unpark(void)
{
    if (!conn_nparked || hp_output_pressing())
        return;
    int64_t now = hp_mono_ms();
    for (struct hp_conn *c = hp_sensor.conns; c; c = c->next) {
        if (!(c->flags & HP_CONN_PARKED))
            continue;
        c->flags &= ~HP_CONN_PARKED;
        c->last_active_ms = now;    /* the wait was the sensor's, not the client's */
        if (!(c->flags & (HP_CONN_PAUSED | HP_CONN_CLOSING | HP_CONN_EOF)))
            event_add(c->ev_read, NULL);
    }
    conn_nparked = 0;
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hp_conn *c = arg;
    if (conn_park(c))
        return;
    conn_enter(c);
    conn_read(c, fd);
    conn_leave(c);
}

void hp_conn_switch(struct hp_conn *c, const struct hp_proto *to)
{
    conn_enter(c);
    hp_conn_handover(c, to);
    conn_redeliver(c);
    if ((c->flags & HP_CONN_EOF) && !(c->flags & HP_CONN_CLOSING)) {
        if (c->proto->on_eof)
            CONN_CALL(c, on_eof, c);
        else
            hp_conn_close(c, "eof");
    }
    conn_leave(c);
}

void hp_conn_hold(struct hp_conn *c)
{
    conn_enter(c);
}

void hp_conn_release(struct hp_conn *c)
{
    conn_leave(c);
}

void hp_conn_pause_read(struct hp_conn *c, bool pause)
{
    if (pause) {
        c->flags |= HP_CONN_PAUSED;
        event_del(c->ev_read);
    } else {
        c->flags &= ~HP_CONN_PAUSED;
        if (!(c->flags & (HP_CONN_CLOSING | HP_CONN_EOF | HP_CONN_PARKED)))
            event_add(c->ev_read, NULL);
    }
}

size_t hp_conn_pending_out(const struct hp_conn *c)
{
    return c->out ? evbuffer_get_length(c->out) : 0;
}

void hp_conn_touch(struct hp_conn *c)
{
    c->last_active_ms = hp_mono_ms();
}

/* ---- accept ------------------------------------------------------------------- */

static void refuse(struct hp_srcent *src, int fd)
{
    /* RST rather than FIN: no TIME_WAIT left behind by a flood. */
    struct linger lg = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
    src->refused++;
    hp_sensor.n.refused_per_source++;
    uint64_t k = hp_ratelimit_ok(&refuse_rl, 10000);
    if (k)
        hp_warn("per-source cap (%llu) reached: refused %llu connection(s) in the last interval "
                "(total %llu)", (unsigned long long)hp_sensor.cfg->max_per_source,
                (unsigned long long)k, (unsigned long long)hp_sensor.n.refused_per_source);
}

void hp_conn_accept(struct hp_service *svc, int fd, const struct sockaddr_storage *peer,
                    const struct sockaddr_storage *local)
{
    uint16_t listen_port = hp_sockaddr_port(local);
    struct hp_sensor *s = &hp_sensor;
    uint8_t key[16];

    hp_srcmap_key(peer, key);
    struct hp_srcent *src = hp_srcmap_get(key);
    if (src->active >= s->cfg->max_per_source) {
        refuse(src, fd);
        return;
    }

    struct hp_conn *c = hp_xcalloc(1, sizeof(*c));
    c->fd = fd;
    c->peer = *peer;
    c->svc = svc;
    c->proto = svc->proto;
    /* A service with a backend: the relay carries the bytes, and hands the
     * connection to the service's module only to fall back (relay.c). */
    if (svc->cfg->backend && !svc->proto->own_backend)
        c->proto = &hp_proto_relay;
    c->src = src;
    c->start_us = hp_now_us();
    c->start_mono_ms = c->last_active_ms = hp_mono_ms();
    hp_buf_init(&c->in, CONN_IN_MAX);
    hp_random_hex(c->ctx.session, HP_SESSION_ID_LEN);
    c->ctx.protocol = svc->proto->name;
    c->ctx.service = svc->cfg->name;
    c->ctx.transport = "tcp";
    addr_to_str(peer, c->ctx.src_ip, sizeof(c->ctx.src_ip), &c->ctx.src_port);
    conn_local_addr(c, peer, local);
    if (c->proto->conn_state_size)
        c->pstate = hp_xcalloc(1, c->proto->conn_state_size);
    /* TCP_NODELAY comes from the listener (listener.c). */
    c->ev_read = event_new(s->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
    c->ev_write = event_new(s->base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
    c->ev_idle = evtimer_new(s->base, conn_idle_cb, c);

    src->active++;
    svc->active++;
    s->active++;
    s->n.accepted++;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;

    conn_enter(c);
    emit_connect(c, listen_port);
    conn_arm_idle(c);
    CONN_CALL(c, on_accept, c);
    /* Clients that speak first (HTTP, exploits, scanners) have usually sent
     * their request by the time the connection is accepted: read it now
     * instead of after another trip through epoll.  Nothing there costs
     * one recv() that says EAGAIN.  The socket joins epoll only after it:
     * a request answered and closed at once (HTTP with Connection: close,
     * a scanner's probe) never costs the two epoll_ctl calls. */
    if (!(c->flags & (HP_CONN_CLOSING | HP_CONN_EOF)))
        conn_read(c, fd);
    if (!(c->flags & (HP_CONN_CLOSING | HP_CONN_EOF | HP_CONN_PAUSED)))
        event_add(c->ev_read, NULL);
    conn_leave(c);
}
