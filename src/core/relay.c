/*
 * relay.c - the TCP relay of high-interaction services.  See relay.h.
 *
 *   accept --hp_backend_admit (budget, refusal)--> non-blocking connect
 *          (input is left buffered in the connection meanwhile)
 *   connected: client -> relay.bout -> backend,  backend -> hp_conn_send
 *   refused / timeout / policy / budget: proxy.fallback and
 *          hp_conn_switch(service's module), which sees every byte from
 *          the first.
 *
 * Back-pressure both ways with bounded buffers: while more than RELAY_HIGH
 * bytes wait for the backend, the client is not read; while more than
 * RELAY_HIGH wait for the client, the backend is not read (a module timer
 * polls the client's drain, the core has no "drained" callback).  The
 * service's idle timeout counts traffic in both directions, max_duration
 * and max_input apply as for any connection.
 *
 * Client bytes also go to the URL extractor, as the trap's do.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "backend.h"
#include "capture/capture.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "output.h"
#include "proto.h"
#include "relay.h"
#include "sensor.h"
#include "util.h"

#define RELAY_HIGH (128 * 1024)       /* queued bytes either way before pausing the source */
#define RELAY_CHUNK 16384
#define RELAY_POLL_MS 20              /* client drain check while the backend is paused */
#define RELAY_EV_MAX 16384            /* payload bytes per proxy.data event */

struct relay {
    int bfd;                          /* backend socket, -1 none */
    struct event *ev_bread, *ev_bwrite, *ev_ctimeout;
    struct evbuffer *bout;            /* to the backend */
    bool connected, backend_eof, client_eof, shut_wr, bread_paused, client_paused;
    int64_t connect_start_ms;
    uint64_t to_backend, from_backend;
    struct hp_transcript tr;
};

static const struct hp_backend_cfg *backend_of(const struct hp_conn *c)
{
    return hp_conn_service_cfg(c)->backend;
}

/* ---- events -------------------------------------------------------------------------- */

void hp_proxy_ev_connect(struct hp_conn *c, const struct hp_backend_cfg *b, const char *result, int64_t ms)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, &c->ctx, "proxy.connect");
    hp_ev_str(&ev, "backend", b->spec);
    hp_ev_str(&ev, "result", result);
    hp_ev_uint(&ev, "connect_ms", ms > 0 ? (uint64_t)ms : 0);
    hp_ev_emit(&ev);
}

void hp_proxy_ev_fallback(struct hp_conn *c, const struct hp_backend_cfg *b, const char *why)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, &c->ctx, "proxy.fallback");
    hp_ev_str(&ev, "backend", b ? b->spec : NULL);
    hp_ev_str(&ev, "reason", why);
    hp_ev_str(&ev, "fallback", hp_conn_service_cfg(c)->proto->name);
    hp_ev_emit(&ev);
}

void hp_proxy_record(struct hp_conn *c, struct hp_transcript *t, const struct hp_backend_cfg *b,
                     bool in, const uint8_t *data, size_t len)
{
    uint64_t *off = in ? &t->off_in : &t->off_out;
    size_t done = 0;
    while (done < len) {
        size_t n = len - done;
        if (n > RELAY_EV_MAX)
            n = RELAY_EV_MAX;
        if (t->recorded >= b->max_bytes) {
            if (!t->truncated) {
                struct hp_ev ev;
                t->truncated = true;
                hp_ev_begin(&ev, &c->ctx, "proxy.truncated");
                hp_ev_uint(&ev, "max_bytes", b->max_bytes);
                hp_ev_emit(&ev);
            }
            break;
        }
        if (n > b->max_bytes - t->recorded)
            n = (size_t)(b->max_bytes - t->recorded);
        struct hp_ev ev;
        hp_ev_begin(&ev, &c->ctx, "proxy.data");
        hp_ev_str(&ev, "direction", in ? "in" : "out");
        hp_ev_uint(&ev, "offset", *off + done);
        hp_ev_uint(&ev, "length", n);
        if (hp_output_disk_low())
            hp_ev_str(&ev, "payload_omitted", "disk_floor");
        else
            hp_ev_bytes(&ev, "payload", data + done, n);   /* text, plus payload_b64 unless UTF-8 */
        hp_ev_emit(&ev);
        t->recorded += n;
        done += n;
    }
    *off += len;
}

/* ---- teardown and fallback ------------------------------------------------------------ */

static void relay_release(struct relay *r)
{
    if (r->ev_bread)
        event_free(r->ev_bread);
    if (r->ev_bwrite)
        event_free(r->ev_bwrite);
    if (r->ev_ctimeout)
        event_free(r->ev_ctimeout);
    if (r->bout)
        evbuffer_free(r->bout);
    if (r->bfd >= 0)
        close(r->bfd);
    r->ev_bread = r->ev_bwrite = r->ev_ctimeout = NULL;
    r->bout = NULL;
    r->bfd = -1;
}

/* The service's own module takes over with everything the client sent. */
static void relay_fallback(struct hp_conn *c, const char *why)
{
    struct relay *r = c->pstate;
    hp_proxy_ev_fallback(c, backend_of(c), why);
    relay_release(r);
    hp_conn_pause_read(c, false);
    hp_conn_switch(c, hp_conn_service_cfg(c)->proto);   /* frees r */
}

/* ---- backend side ------------------------------------------------------------------------ */

static void relay_flush_client_input(struct hp_conn *c);

static void backend_maybe_shut(struct relay *r)
{
    if (r->client_eof && !r->shut_wr && r->connected && evbuffer_get_length(r->bout) == 0) {
        shutdown(r->bfd, SHUT_WR);
        r->shut_wr = true;
    }
}

static void relay_read_backend(struct hp_conn *c, struct relay *r)
{
    uint8_t buf[RELAY_CHUNK];
    if (hp_conn_pending_out(c) > RELAY_HIGH) {
        event_del(r->ev_bread);               /* the client reads slowly: wait for it */
        r->bread_paused = true;
        hp_conn_set_timer(c, RELAY_POLL_MS);
        return;
    }
    ssize_t n = recv(r->bfd, buf, sizeof(buf), 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            hp_conn_close(c, "backend_error");
        return;
    }
    if (n == 0) {
        r->backend_eof = true;
        event_del(r->ev_bread);
        hp_conn_close(c, "backend_closed");   /* after what is queued for the client */
        return;
    }
    hp_conn_touch(c);
    r->from_backend += (uint64_t)n;
    hp_proxy_record(c, &r->tr, backend_of(c), false, buf, (size_t)n);
    hp_conn_send(c, buf, (size_t)n);
}

static void relay_write_backend(struct hp_conn *c, struct relay *r)
{
    int n = evbuffer_write(r->bout, r->bfd);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
        hp_conn_close(c, "backend_error");
        return;
    }
    if (evbuffer_get_length(r->bout) == 0)
        event_del(r->ev_bwrite);
    if (r->client_paused && evbuffer_get_length(r->bout) < RELAY_HIGH / 2) {
        r->client_paused = false;
        hp_conn_pause_read(c, false);
        relay_flush_client_input(c);
    }
    backend_maybe_shut(r);
}

static void relay_connected(struct hp_conn *c, struct relay *r)
{
    int err = 0;
    socklen_t el = sizeof(err);
    if (getsockopt(r->bfd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        err = errno;
    int64_t ms = hp_mono_ms() - r->connect_start_ms;
    if (err) {
        const char *why = err == ECONNREFUSED ? "connect-refused" : "connect-error";
        hp_proxy_ev_connect(c, backend_of(c), why, ms);
        relay_fallback(c, why);
        return;
    }
    r->connected = true;
    evtimer_del(r->ev_ctimeout);
    hp_proxy_ev_connect(c, backend_of(c), "ok", ms);
    event_add(r->ev_bread, NULL);
    relay_flush_client_input(c);
    if (r->client_eof)
        backend_maybe_shut(r);
}

static void backend_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hp_conn *c = arg;
    struct relay *r = c->pstate;
    hp_conn_hold(c);
    if (c->flags & HP_CONN_CLOSING) {
        event_del(r->ev_bread);               /* nothing more can reach the client */
        event_del(r->ev_bwrite);
    } else if (!r->connected && (what & EV_WRITE)) {
        relay_connected(c, r);
    } else if (what & EV_READ) {
        relay_read_backend(c, r);
    } else if (what & EV_WRITE) {
        relay_write_backend(c, r);
    }
    hp_conn_release(c);
}

static void ctimeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hp_conn *c = arg;
    struct relay *r = c->pstate;
    hp_conn_hold(c);
    if (!r->connected && !(c->flags & HP_CONN_CLOSING)) {
        hp_proxy_ev_connect(c, backend_of(c), "connect-timeout", hp_mono_ms() - r->connect_start_ms);
        relay_fallback(c, "connect-timeout");
    }
    hp_conn_release(c);
}

/* ---- client side ---------------------------------------------------------------------------- */

/* Queue bytes for the backend; false (nothing taken) while the queue is full. */
static size_t relay_to_backend(struct hp_conn *c, struct relay *r, const uint8_t *p, size_t n)
{
    size_t q = evbuffer_get_length(r->bout);
    if (q >= RELAY_HIGH) {
        if (!r->client_paused) {
            r->client_paused = true;
            hp_conn_pause_read(c, true);
        }
        return 0;
    }
    if (n > RELAY_HIGH - q)
        n = RELAY_HIGH - q;
    evbuffer_add(r->bout, p, n);
    r->to_backend += n;
    hp_proxy_record(c, &r->tr, backend_of(c), true, p, n);
    hp_capture_scan(&c->ctx, p, n, "proxy");   /* exploits name their droppers' URLs */
    event_add(r->ev_bwrite, NULL);
    return n;
}

static void relay_flush_client_input(struct hp_conn *c)
{
    struct relay *r = c->pstate;
    size_t have;
    const uint8_t *p = hp_conn_input(c, &have);
    if (have) {
        size_t n = relay_to_backend(c, r, p, have);
        hp_conn_consume(c, n);
    }
}

static void relay_accept(struct hp_conn *c)
{
    struct relay *r = c->pstate;
    const struct hp_service_cfg *svc = hp_conn_service_cfg(c);
    const struct hp_backend_cfg *b = svc->backend;
    const char *why = NULL;
    r->bfd = -1;
    if (!hp_backend_admit(svc, &c->peer, &why)) {
        relay_fallback(c, why);
        return;
    }
    r->connect_start_ms = hp_mono_ms();
    r->bfd = hp_backend_connect(b, &why);
    if (r->bfd < 0) {
        hp_proxy_ev_connect(c, b, why, 0);
        relay_fallback(c, why);
        return;
    }
    struct event_base *base = hp_sensor.base;
    r->bout = evbuffer_new();
    r->ev_bread = event_new(base, r->bfd, EV_READ | EV_PERSIST, backend_cb, c);
    r->ev_bwrite = event_new(base, r->bfd, EV_WRITE | EV_PERSIST, backend_cb, c);
    r->ev_ctimeout = evtimer_new(base, ctimeout_cb, c);
    if (!r->bout || !r->ev_bread || !r->ev_bwrite || !r->ev_ctimeout) {
        relay_fallback(c, "no-memory");
        return;
    }
    struct timeval tv = { (time_t)(b->connect_timeout_ms / 1000), (suseconds_t)(b->connect_timeout_ms % 1000) * 1000 };
    evtimer_add(r->ev_ctimeout, &tv);
    event_add(r->ev_bwrite, NULL);            /* writable = connected (or failed) */
}

static void relay_data(struct hp_conn *c, struct hp_rd *in)
{
    struct relay *r = c->pstate;
    if (!r->connected)
        return;                               /* kept buffered until the backend answers */
    size_t n = relay_to_backend(c, r, hp_rd_ptr(in), hp_rd_left(in));
    hp_rd_skip(in, n);
}

static void relay_eof(struct hp_conn *c)
{
    struct relay *r = c->pstate;
    r->client_eof = true;
    backend_maybe_shut(r);
    if (r->connected && r->backend_eof)
        hp_conn_close(c, "eof");
}

static void relay_timer(struct hp_conn *c)
{
    struct relay *r = c->pstate;
    if (!r->bread_paused || r->bfd < 0)
        return;
    if (hp_conn_pending_out(c) > RELAY_HIGH / 2) {
        hp_conn_set_timer(c, RELAY_POLL_MS);
        return;
    }
    r->bread_paused = false;
    event_add(r->ev_bread, NULL);
}

static void relay_close(struct hp_conn *c)
{
    struct relay *r = c->pstate;
    if (!r)
        return;
    if (r->connected) {
        struct hp_ev ev;
        hp_ev_begin(&ev, &c->ctx, "proxy.closed");
        hp_ev_str(&ev, "backend", backend_of(c)->spec);
        hp_ev_uint(&ev, "bytes_to_backend", r->to_backend);
        hp_ev_uint(&ev, "bytes_from_backend", r->from_backend);
        hp_ev_bool(&ev, "transcript_truncated", r->tr.truncated);
        hp_ev_emit(&ev);
    }
    relay_release(r);
}

const struct hp_proto hp_proto_relay = {
    .name = "relay",
    .transports = HP_TRANSPORT_TCP,
    .conn_state_size = sizeof(struct relay),
    .on_accept = relay_accept,
    .on_data = relay_data,
    .on_eof = relay_eof,
    .on_timer = relay_timer,
    .on_close = relay_close,
};
