/*
 * dash_stream.c - the live feed: new events to browsers as Server-Sent Events.
 *
 * The output layer calls a tap (output.h) for every event, on whichever
 * thread published it.  The tap only takes a reference and pushes it into a
 * bounded ring (under a mutex held for a few instructions); when the ring is
 * full the oldest event is dropped and counted, so a stalled dashboard never
 * slows the sensor.  Nothing is queued while no browser is watching.
 *
 * Every 250 ms the dashboard thread empties the ring, turns each event into
 * a short summary (the feed shows a line per event, not megabyte-sized raw
 * requests) and writes it to every client.  A client whose connection has
 * more than CLIENT_BACKLOG bytes unsent is skipped for that event and the
 * drop is counted: one slow browser costs memory bounded by the backlog and
 * delays no one else.  A comment line every 15 s keeps proxies from closing
 * idle streams and lets a closed browser be noticed.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "output.h"
#include "util.h"
#include "web/dash_int.h"

#define RING 2048
#define CLIENTS_MAX 32
#define CLIENT_BACKLOG (512 * 1024)
#define DETAIL_MAX 300
#define HEARTBEAT_TICKS 60                 /* 60 x 250 ms */

struct sse_client {
    struct evhttp_request *req;
    struct hp_dash_stream *s;
    struct sse_client *next;
};

struct hp_dash_stream {
    pthread_mutex_t mu;
    struct hp_event *ring[RING];
    size_t head, count;
    atomic_uint nclients;                  /* read by the tap without the lock */
    uint64_t dropped_ring;
    struct event *tick;
    unsigned ticks;
    struct sse_client *clients;
    uint64_t dropped_slow, sent;
};

static void tap(struct hp_event *e, void *arg)
{
    struct hp_dash_stream *s = arg;
    if (atomic_load_explicit(&s->nclients, memory_order_relaxed) == 0 ||
        strcmp(e->h.eventid, "sensor.stats") == 0)
        return;
    struct hp_event *old = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->count == RING) {
        old = s->ring[s->head];
        s->head = (s->head + 1) % RING;
        s->count--;
        s->dropped_ring++;
    }
    s->ring[(s->head + s->count) % RING] = hp_event_ref(e);
    s->count++;
    pthread_mutex_unlock(&s->mu);
    if (old)
        hp_event_unref(old);
}

/* Cut a UTF-8 string at a character boundary, at most max bytes. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* A string's length: a value may hold a NUL (\u0000), and what follows it is shown too. */
static size_t jlen(json_t *o, const char *k)
{
    return json_string_length(json_object_get(o, k));
}

char *hp_stream_summary(const char *json, size_t len)
{
    /* JSON_ALLOW_NUL: an attacker's NUL (an SSH or Redis password may hold one) must not
     * make the event unreadable, which would hide it from the feed */
    json_t *ev = json_loadb(json, len, JSON_ALLOW_NUL, NULL);
    if (!json_is_object(ev)) {
        json_decref(ev);
        return NULL;
    }
    const char *eid = jstr(ev, "eventid");
    const char *k1 = NULL, *k2 = NULL;          /* the fields shown as the detail */
    if (!eid) {
        eid = "";
    } else if (!strncmp(eid, "login.", 6) || !strcmp(eid, "http.credentials")) {
        k1 = "username";
        k2 = "password";
    } else if (!strncmp(eid, "command.", 8)) {
        k1 = "input";
    } else if (!strcmp(eid, "http.request")) {
        k1 = "method";
        k2 = "uri";
    } else if (!strcmp(eid, "tls.client_hello")) {
        k1 = "sni";
        k2 = "ja4";
    } else if (!strncmp(eid, "session.file_", 13)) {
        k1 = "url";
    } else if (!strcmp(eid, "trap.payload")) {
        k1 = "proto_guess";
    } else if (!strcmp(eid, "session.closed")) {
        k1 = "reason";
    }
    const char *d1 = k1 ? jstr(ev, k1) : NULL, *d2 = k2 ? jstr(ev, k2) : NULL;
    char detail[2 * DETAIL_MAX + 4] = "";
    size_t n = 0;
    if (d1) {
        n = utf8_cut(d1, jlen(ev, k1), DETAIL_MAX);
        memcpy(detail, d1, n);
    }
    if (d2) {
        size_t m = utf8_cut(d2, jlen(ev, k2), DETAIL_MAX);
        memcpy(detail + n, " / ", 3);
        memcpy(detail + n + 3, d2, m);
        n += 3 + m;
    }
    detail[n] = '\0';
    json_t *sum = json_object();
    static const char *const keep[] = { "timestamp", "eventid", "session", "protocol", "src_ip", "src_cc",
                                        "dst_port" };
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        json_t *v = json_object_get(ev, keep[i]);
        if (v)
            json_object_set(sum, keep[i], v);
    }
    if (n)
        json_object_set_new(sum, "detail", json_stringn(detail, n));
    char *out = json_dumps(sum, JSON_COMPACT);
    json_decref(sum);
    json_decref(ev);
    return out;
}

static void client_remove(struct hp_dash_stream *s, struct sse_client *c)
{
    for (struct sse_client **pp = &s->clients; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    atomic_fetch_sub(&s->nclients, 1);
    free(c);
}

/* A request whose connection failed mid-stream is orphaned by evhttp (its
 * connection pointer is cleared) and left for us to free, which
 * evhttp_send_reply_end() does when there is no connection. */
static void client_drop(struct hp_dash_stream *s, struct sse_client *c)
{
    if (!evhttp_request_get_connection(c->req))
        evhttp_send_reply_end(c->req);
    client_remove(s, c);
}

static void on_close(struct evhttp_connection *conn, void *arg)
{
    struct sse_client *c = arg;
    client_drop(c->s, c);
}

static bool client_backlogged(struct sse_client *c)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(c->req);
    struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
    return bev && evbuffer_get_length(bufferevent_get_output(bev)) > CLIENT_BACKLOG;
}

static void broadcast(struct hp_dash_stream *s, const char *data, size_t len)
{
    for (struct sse_client *c = s->clients, *next; c; c = next) {
        next = c->next;
        if (!evhttp_request_get_connection(c->req)) {    /* closed without telling us */
            client_drop(s, c);
            continue;
        }
        if (client_backlogged(c)) {
            s->dropped_slow++;
            continue;
        }
        struct evbuffer *b = evbuffer_new();
        evbuffer_add(b, data, len);
        evhttp_send_reply_chunk(c->req, b);
        evbuffer_free(b);
        s->sent++;
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hp_dash_stream *s = arg;
    struct hp_event *batch[RING];
    size_t n = 0;
    pthread_mutex_lock(&s->mu);
    while (s->count) {
        batch[n++] = s->ring[s->head];
        s->head = (s->head + 1) % RING;
        s->count--;
    }
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < n; i++) {
        char *sum = s->clients ? hp_stream_summary(batch[i]->json, batch[i]->json_len) : NULL;
        if (sum) {
            /* JSON text from jansson has no raw newline: one "data:" line per event */
            size_t l = strlen(sum);
            char *msg = malloc(l + 9);
            if (msg) {
                memcpy(msg, "data: ", 6);
                memcpy(msg + 6, sum, l);
                memcpy(msg + 6 + l, "\n\n", 3);
                broadcast(s, msg, l + 8);
                free(msg);
            }
            free(sum);
        }
        hp_event_unref(batch[i]);
    }
    if (++s->ticks % HEARTBEAT_TICKS == 0 && s->clients)
        broadcast(s, ":\n\n", 3);
}

struct hp_dash_stream *hp_stream_new(struct event_base *base)
{
    struct hp_dash_stream *s = hp_xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    s->tick = event_new(base, -1, EV_PERSIST, tick_cb, s);
    struct timeval tv = { 0, 250000 };
    event_add(s->tick, &tv);
    hp_output_set_tap(tap, s);
    return s;
}

void hp_stream_free(struct hp_dash_stream *s)
{
    if (!s)
        return;
    hp_output_set_tap(NULL, NULL);          /* returns once no publisher is inside tap() */
    event_free(s->tick);
    while (s->clients) {
        struct sse_client *c = s->clients;
        struct evhttp_connection *conn = evhttp_request_get_connection(c->req);
        if (conn)
            evhttp_connection_set_closecb(conn, NULL, NULL);
        evhttp_send_reply_end(c->req);       /* ends the stream, or frees an orphaned request */
        client_remove(s, c);
    }
    for (size_t i = 0; i < s->count; i++)
        hp_event_unref(s->ring[(s->head + i) % RING]);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

bool hp_stream_full(struct hp_dash_stream *s)
{
    return atomic_load(&s->nclients) >= CLIENTS_MAX;
}

bool hp_stream_attach(struct hp_dash_stream *s, struct evhttp_request *req)
{
    if (hp_stream_full(s))
        return false;
    evhttp_send_reply_start(req, 200, "OK");
    struct sse_client *c = hp_xcalloc(1, sizeof(*c));
    c->req = req;
    c->s = s;
    c->next = s->clients;
    s->clients = c;
    atomic_fetch_add(&s->nclients, 1);
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_close, c);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "retry: 3000\n\n");
    evhttp_send_reply_chunk(req, b);
    evbuffer_free(b);
    return true;
}

void hp_stream_stats(struct hp_dash_stream *s, uint64_t *clients, uint64_t *dropped_ring, uint64_t *dropped_slow,
                     uint64_t *sent)
{
    *clients = atomic_load(&s->nclients);
    pthread_mutex_lock(&s->mu);
    *dropped_ring = s->dropped_ring;
    pthread_mutex_unlock(&s->mu);
    *dropped_slow = s->dropped_slow;
    *sent = s->sent;
}
