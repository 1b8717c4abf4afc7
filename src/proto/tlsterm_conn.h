/*
 * tlsterm_conn.h - a tlsterm (tlsterm.h) over one connection: the glue
 * that HTTP (TLS sniffed on any port), RDP (TLS inside X.224) and SMTP
 * (STARTTLS) share, so that the TLS events and the wire handling are the
 * same in every module.
 *
 *   hp_tlsterm_conn_hello   fingerprint the ClientHello before OpenSSL
 *                           sees it: tls.client_hello (JA3, JA4, SNI, ...)
 *   hp_tlsterm_conn_feed    ciphertext in, plaintext out, and what TLS
 *                           answers (handshake, alerts) sent to the peer
 *   hp_tlsterm_conn_failed  tls.failed and close the connection
 *   hp_tlsterm_conn_send    application bytes to the peer, encrypted
 *   hp_tlsterm_conn_bye     close_notify, before the module closes
 *   hp_tls_ev_hello_fields  tls.client_hello's fields, for a module that
 *                           builds the event itself (QUIC, over UDP)
 *
 * The module keeps the loop around hp_tlsterm_conn_feed: what it does with
 * the plaintext, and when, is its own (see http.c tls_data).
 */
#ifndef HP_TLSTERM_CONN_H
#define HP_TLSTERM_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "conn.h"
#include "event.h"
#include "intel/tlsfp.h"
#include "reader.h"
#include "tlsterm.h"

/* Where a connection is with the ClientHello at the start of its input
 * (zeroed with the connection state). */
struct hp_tlsconn_hello {
    bool seen;                    /* parsed (tls.client_hello emitted), or given up */
    bool parsed;                  /* tls.client_hello emitted */
    size_t retry_at;              /* input length before which it cannot be whole */
};

/* While st->seen is false: parse the ClientHello at the start of 'in' (not
 * consumed) and emit tls.client_hello.  Returns false while more bytes are
 * needed (a hello cut short under HP_TLS_HELLO_MAX), else true and
 * st->seen is set (also when the bytes were no ClientHello: OpenSSL will
 * say).  A hello cut short is gathered again only once enough bytes came
 * to possibly complete it, not on every read. */
bool hp_tlsterm_conn_hello(struct hp_conn *c, const struct hp_rd *in, struct hp_tlsconn_hello *st);

/* hp_tlsterm_feed, with the bytes for the peer (at most wire_max per
 * call) sent on c, also after a failure (an alert).  Returns its result:
 * 0 ok, 1 the peer closed TLS, -1 fatal with *why. */
int hp_tlsterm_conn_feed(struct hp_conn *c, struct hp_tlsterm *t, const uint8_t *in, size_t len,
                         struct hp_buf *plain, size_t wire_max, const char **why);

/* Log tls.failed (reason: why, or "handshake failed") and close c with
 * reason "tls_failed". */
void hp_tlsterm_conn_failed(struct hp_conn *c, const char *why);
/* The same, with the bytes whose feed failed as "raw" (at most 4 KiB) when
 * st says no ClientHello was fingerprinted (an SSLv2-format hello, a
 * malformed one): what the client sent stays in the record. */
void hp_tlsterm_conn_failed_raw(struct hp_conn *c, const char *why, const struct hp_tlsconn_hello *st,
                                const uint8_t *raw, size_t len);

/* Encrypt len bytes for the peer and send them on c. */
void hp_tlsterm_conn_send(struct hp_conn *c, struct hp_tlsterm *t, const void *data, size_t len);

/* The fields of tls.client_hello (ja3, ja3_string, ja4, client, sni, alpn,
 * versions, record_version, hello_version) added to an event being built. */
void hp_tls_ev_hello_fields(struct hp_ev *ev, const struct hp_tls_hello *th);

/* Send close_notify on c (once; nothing after a fatal error). */
void hp_tlsterm_conn_bye(struct hp_conn *c, struct hp_tlsterm *t);

#endif
