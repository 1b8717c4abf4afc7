/*
 * conn.h - one accepted TCP connection (or one UDP peer) and its session.
 *
 * The core creates a struct hp_conn per accepted socket, emits
 * session.connect, reads input into a capped buffer and hands it to the
 * protocol module, writes what the module sends, enforces the idle timeout,
 * the input cap and the maximum duration, and finally emits session.closed
 * (duration, bytes each way, reason) and frees everything.
 *
 * Modules never close sockets or free connections themselves: they call
 * hp_conn_close(), which is safe from inside any callback; the connection is
 * torn down once the callback returns and pending output is flushed.
 */
#ifndef HP_CONN_H
#define HP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "buf.h"
#include "event.h"

struct event;
struct evbuffer;
struct hp_service;
struct hp_srcent;
struct hp_proto;

#define HP_CONN_OUT_MAX (256 * 1024)     /* pending output per connection */

struct hp_conn {
    struct hp_evctx ctx;          /* common event fields */
    struct hp_service *svc;
    const struct hp_proto *proto;
    void *pstate;                 /* module state (proto->conn_state_size bytes) */
    int fd;
    struct sockaddr_storage peer;
    struct event *ev_read;
    struct event *ev_write;
    struct event *ev_idle;        /* idle / max-duration timer */
    struct event *ev_timer;       /* module timer, created on first use */
    struct hp_buf in;             /* unconsumed input */
    struct evbuffer *out;         /* pending output, created on first use */
    struct hp_srcent *src;        /* per-source accounting */
    int64_t start_us;
    int64_t start_mono_ms;
    int64_t last_active_ms;
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint32_t reads;               /* successful reads (back-pressure parks busy connections only) */
    const char *close_reason;
    unsigned flags;
    unsigned busy;                /* >0 while the core is inside a callback for it */
    struct hp_conn *prev, *next;  /* all live connections */
};

enum {
    HP_CONN_EOF      = 1u << 0,   /* peer half-closed */
    HP_CONN_CLOSING  = 1u << 1,   /* close requested, flushing output */
    HP_CONN_DEAD     = 1u << 3,   /* do not wait for pending output */
    HP_CONN_SWITCHED = 1u << 4,   /* hp_conn_handover happened during this callback */
    HP_CONN_PAUSED   = 1u << 5,   /* the module paused reading (hp_conn_pause_read) */
    HP_CONN_HELD     = 1u << 6,   /* hp_conn_send_last left bytes in the kernel for the FIN */
    HP_CONN_PARKED   = 1u << 7,   /* reading stopped by the outputs' back-pressure (hp_conns_unpark) */
};

/*
 * Back-pressure on connections already open.  Accepting pauses while an
 * output is congested (listener.c), but a keep-alive client goes on sending
 * requests, each an event: a connection whose socket becomes readable while
 * an output's queue is over 3/4 full (hp_output_pressing) is parked (its
 * read event removed, so the client waits on TCP flow control) instead of
 * filling the queues until events are shed.  Only a connection read
 * HP_CONN_PARK_READS times already is parked: the heavy producers (a
 * keep-alive flood, a session pasting a megabyte of commands) wait, while
 * a client that has just arrived is still answered (with accepting paused,
 * there are few of those).  hp_conns_unpark() resumes them all once no
 * output is pressing; hp_listeners_check() calls it.  A parked connection
 * is not closed as idle.
 */
#define HP_CONN_PARK_READS 8
void hp_conns_unpark(void);

/* Queue bytes to the peer.  Returns 0, or -1 if the connection is closing or
 * its pending output would exceed HP_CONN_OUT_MAX (the connection is closed). */
int  hp_conn_send(struct hp_conn *c, const void *data, size_t len);
/*
 * hp_conn_send for the last bytes of a connection: the caller closes it
 * (hp_conn_close) before it returns to the event loop.  The kernel holds the
 * bytes (MSG_MORE) until close() queues the FIN, which then leaves in the
 * same TCP segment: one packet fewer, for the sensor and for the peer, on
 * every connection that ends with a short answer (HTTP Connection: close,
 * where it gives about 5% more connections per second).  Should the caller
 * not close after all, the held bytes are pushed out when its callback
 * returns, so nothing waits.  The connection ends with shutdown(SHUT_WR)
 * before close(): close() alone would reset the connection, dropping the
 * held bytes, if the peer had sent more that nobody read.
 */
int  hp_conn_send_last(struct hp_conn *c, const void *data, size_t len);
int  hp_conn_printf(struct hp_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Close after pending output is written. reason: short static string for session.closed. */
void hp_conn_close(struct hp_conn *c, const char *reason);
/*
 * Hand the connection to another protocol module (the trap's catch-all
 * ports pass HTTP and TLS to the HTTP module).  Called from on_data without
 * consuming anything: the old module's state is dropped (its on_close is not
 * called), the new one's is zeroed, events from now on carry to->name as
 * their protocol, to->on_accept runs, and the buffered input is offered to
 * to->on_data at once.  The service (ports, limits, timeouts) stays.
 */
void hp_conn_handover(struct hp_conn *c, const struct hp_proto *to);
/* hp_conn_handover outside on_data (a backend callback of the relay): the
 * new module gets on_accept, then the buffered input at once, then on_eof
 * if the peer has already half-closed. */
void hp_conn_switch(struct hp_conn *c, const struct hp_proto *to);
/* For callbacks of a module's own events (a backend socket): bracket the
 * work with hold/release so that hp_conn_close() inside cannot free c
 * under the caller; release may free it. */
void hp_conn_hold(struct hp_conn *c);
void hp_conn_release(struct hp_conn *c);
/* Stop / resume reading from the peer (back-pressure of a proxy). */
void hp_conn_pause_read(struct hp_conn *c, bool pause);
/* Bytes queued for the peer and not written yet. */
size_t hp_conn_pending_out(const struct hp_conn *c);
/* Count activity for the idle timeout (traffic the core does not see). */
void hp_conn_touch(struct hp_conn *c);
/* Arm (ms > 0) or cancel (ms == 0) the module's one-shot timer. */
void hp_conn_set_timer(struct hp_conn *c, uint64_t ms);
/* Input left unconsumed by earlier on_data calls (for timers, on_eof,
 * on_close).  Inside on_data, the reader covers all unconsumed bytes. */
static inline const uint8_t *hp_conn_input(const struct hp_conn *c, size_t *len)
{
    *len = c->in.len;
    return c->in.data;
}
/* Drop n bytes of unconsumed input (modules that consume outside on_data). */
void hp_conn_consume(struct hp_conn *c, size_t n);
/* Service configuration of this connection. */
const struct hp_service_cfg *hp_conn_service_cfg(const struct hp_conn *c);

/* A UDP datagram's peer, for on_datagram. */
struct hp_udp_peer {
    struct hp_evctx ctx;          /* session groups a source's datagrams within a window */
    struct hp_service *svc;
    const struct hp_service_cfg *cfg;
    int fd;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    size_t request_len;           /* reply budget: a reply may never exceed this (the request's
                                   * size times udp_max_amplification; 0 while the source floods
                                   * and has had its one reply of the window) */
    uint64_t replies;             /* replies sent in this session */
    uint64_t replies_suppressed;  /* replies refused by the size rule or the flood guard */
};
/* Reply to a datagram; refused (returns -1, counted) if over p->request_len. */
int hp_udp_reply(struct hp_udp_peer *p, const void *data, size_t len);

#endif
