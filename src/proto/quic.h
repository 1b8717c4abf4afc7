/*
 * quic.h - the quic service's handling of a client's Initial packets, for
 * the trap: a QUIC client on any UDP port gets tls.client_hello as on the
 * quic service's own port (TLS found by the trap on any TCP port goes to
 * the web engine the same way).
 */
#ifndef HP_PROTO_QUIC_H
#define HP_PROTO_QUIC_H

#include <stddef.h>
#include <stdint.h>
#include "conn.h"

/* If data is a client's Initial of a QUIC version we read: reassemble and
 * log its ClientHello (tls.client_hello, once per connection) and return
 * true.  False, with nothing logged, for anything else. */
bool hp_quic_client_initial(struct hp_udp_peer *p, const uint8_t *data, size_t len);

#endif
