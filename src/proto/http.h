/*
 * http.h - the web honeypot engine: HTTP/1.x and TLS on any port.
 *
 * Used two ways: as the protocol of [service NAME] sections with
 * protocol = http, and by the trap, which hands over any connection whose
 * first bytes are an HTTP request line or a TLS ClientHello
 * (hp_conn_handover).  Either way the engine needs its shared parts loaded
 * once before the sandbox: response rules, attack classification rules,
 * the TLS certificate.
 */
#ifndef HP_HTTP_H
#define HP_HTTP_H

#include <stddef.h>

struct hp_config;

extern const struct hp_proto hp_proto_http;

/* Load what every HTTP connection shares (idempotent).  Returns 0 / -1. */
int hp_http_engine_start(const struct hp_config *cfg, char *err, size_t errlen);

#endif
