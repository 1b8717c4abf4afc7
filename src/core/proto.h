/*
 * proto.h - the protocol-module interface.
 *
 * Each protocol is one file in src/proto/ exporting one const struct
 * hp_proto, registered by one line in src/proto/registry.c.  The core owns
 * sockets, timeouts, caps and the session.connect / session.closed events; a
 * module only sees bytes and decides what to answer:
 *
 *   on_accept   a TCP connection was accepted (send a banner, arm a timer)
 *   on_data     new input is buffered; read it through the hp_rd reader and
 *               advance it past what was consumed - unconsumed bytes stay
 *               buffered and are offered again with the next input
 *   on_eof      the peer half-closed its side (buffered input still there)
 *   on_timer    the module's own timer (hp_conn_set_timer) fired
 *   on_close    the connection is going away; buffered input is still
 *               readable with hp_conn_input(), so nothing received is lost
 *   on_datagram one UDP datagram (UDP services)
 *
 * Per-connection module state of conn_state_size bytes is zeroed and
 * available as c->pstate.  Configuration keys of the module are validated
 * by configure() at load time (no I/O there); start() runs once at sensor
 * start-up, before privileges are dropped, for what needs files or keys
 * (host keys generated at first start, rule files), and stop() at exit.
 */
#ifndef HP_PROTO_H
#define HP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "reader.h"

struct hp_conn;
struct hp_config;
struct hp_service_cfg;
struct hp_udp_peer;

enum { HP_TRANSPORT_TCP = 1u, HP_TRANSPORT_UDP = 2u };

struct hp_proto {
    const char *name;
    unsigned transports;
    const char *default_tcp_ports;  /* used when a service names no ports */
    const char *default_udp_ports;
    size_t conn_state_size;
    uint64_t default_max_input;     /* a service's max_input unless it sets one (0: the core's 1 MiB) */
    /* With "backend =" in its service: true if the module proxies to
     * svc->backend itself (http, ssh); otherwise the core's TCP relay
     * (relay.c) carries the bytes and hands the connection to this module
     * only to fall back. */
    bool own_backend;

    /* Validate the protocol's keys (svc->opts) and build svc->proto_conf.
     * Return 0, or -1 with "LINE: message" style text in err (line from the kv). */
    int  (*configure)(struct hp_service_cfg *svc, char *err, size_t errlen);
    void (*unconfigure)(struct hp_service_cfg *svc);
    int  (*start)(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen);
    void (*stop)(struct hp_service_cfg *svc);

    void (*on_accept)(struct hp_conn *c);
    void (*on_data)(struct hp_conn *c, struct hp_rd *in);
    void (*on_eof)(struct hp_conn *c);
    void (*on_timer)(struct hp_conn *c);
    void (*on_close)(struct hp_conn *c);

    void (*on_datagram)(struct hp_udp_peer *p, const uint8_t *data, size_t len);
};

/* Registry (src/proto/registry.c). */
const struct hp_proto *hp_proto_find(const char *name);
const struct hp_proto *const *hp_proto_all(size_t *n);

#endif
