/*
 * relay.h - the TCP relay of high-interaction services (see backend.h).
 *
 * A connection of a service with a backend, whose module does not proxy
 * itself (proto->own_backend), starts with this module instead of the
 * service's: it connects to the backend and copies bytes both ways,
 * recording them as proxy.data events.  When the backend cannot be used it
 * hands the connection, input buffered so far included, to the service's
 * own module (proxy.fallback).  The events are shared with the modules that
 * proxy themselves (http, ssh).
 */
#ifndef HP_RELAY_H
#define HP_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_conn;
struct hp_backend_cfg;

extern const struct hp_proto hp_proto_relay;

/* proxy.connect: result "ok" or a failure reason, with the connect time. */
void hp_proxy_ev_connect(struct hp_conn *c, const struct hp_backend_cfg *b, const char *result, int64_t ms);
/* proxy.fallback: the service's own module takes over; why: "budget",
 * "refused", "connect-refused", "connect-timeout", "connect-error", ... */
void hp_proxy_ev_fallback(struct hp_conn *c, const struct hp_backend_cfg *b, const char *why);

/* Transcript bounded by a backend's max_bytes: proxy.data chunks, then one
 * proxy.truncated. */
struct hp_transcript {
    uint64_t off_in, off_out;     /* stream offsets each way */
    uint64_t recorded;            /* bytes recorded, both directions */
    bool truncated;
};
void hp_proxy_record(struct hp_conn *c, struct hp_transcript *t, const struct hp_backend_cfg *b,
                     bool in, const uint8_t *data, size_t len);

#endif
