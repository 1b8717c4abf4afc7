/*
 * tlsterm.h - TLS termination for the HTTP module, with OpenSSL memory BIOs.
 *
 * The sensor's connection layer hands protocol modules raw TCP bytes; TLS
 * is a filter inside the module: ciphertext from the peer goes into
 * hp_tlsterm_feed(), which returns the decrypted application bytes and the
 * bytes to send back (handshake flights, alerts).  No socket is ever given
 * to OpenSSL, so the event loop, the limits and the recording stay ours.
 *
 * The certificate is per sensor and generated at first start (never a
 * fixed subject in the repository): DATA_DIR/tls/server.key and
 * server.crt, loaded again on later starts.  One global SSL_CTX accepts
 * TLS 1.0-1.3 at security level 0 so that old clients and scanners complete
 * the handshake (we want to see what they send next), and selects
 * "http/1.1" by ALPN when offered (the web server's connections: as nginx,
 * hp_tlsterm_as_nginx).
 *
 * Memory: an idle connection keeps only the SSL object (buffers released
 * with SSL_MODE_RELEASE_BUFFERS; the memory BIOs are replaced when they
 * grew) and the copy of our ServerHello record kept for JA3S.
 */
#ifndef HP_TLSTERM_H
#define HP_TLSTERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

struct hp_tlsterm;

/* Load or create (first start) DATA_DIR/tls/server.key + server.crt and
 * build the global SSL_CTX.  Call before the sandbox.  0, or -1 with err. */
int hp_tlsterm_init(const char *data_dir, char *err, size_t errlen);
void hp_tlsterm_shutdown(void);
/* Whether hp_tlsterm_init succeeded (and shutdown was not called). */
bool hp_tlsterm_ready(void);

/* A server-side TLS state for one connection; NULL before init or on OOM. */
struct hp_tlsterm *hp_tlsterm_new(void);
void hp_tlsterm_free(struct hp_tlsterm *t);
/* Before the first feed: the connection is the web server's, so ALPN and
 * SNI are answered as nginx 1.22 answers them (http/1.1, http/1.0 or
 * http/0.9, else a no_application_protocol alert; SNI acknowledged).
 * Others select http/1.1 when offered, else no ALPN, and ignore SNI. */
void hp_tlsterm_as_nginx(struct hp_tlsterm *t);

/* Feed ciphertext from the peer (in may be NULL when len is 0: continue
 * after the caller drained 'plain').  Decrypted bytes are appended to plain
 * up to its cap; what does not fit stays buffered inside and comes out on
 * the next call.  Bytes to send to the peer are appended to wire.
 * Returns 0 ok, 1 the peer closed TLS (close_notify), -1 fatal (handshake
 * failure, protocol error, or 'wire' full: *why = static text such as
 * "no shared cipher" or "http request on https port").  After -1 'wire'
 * may hold an alert worth sending before closing. */
int hp_tlsterm_feed(struct hp_tlsterm *t, const uint8_t *in, size_t len, struct hp_buf *plain,
                    struct hp_buf *wire, const char **why);
/* Encrypt application data for the peer into wire (only after the
 * handshake).  0, or -1 (not done, closed, or wire full). */
int hp_tlsterm_write(struct hp_tlsterm *t, const void *data, size_t len, struct hp_buf *wire);

/* After the handshake: negotiated version ("TLSv1.3"), cipher name, ALPN
 * ("" when none); NULL / "" before. */
bool hp_tlsterm_done(const struct hp_tlsterm *t);
const char *hp_tlsterm_version(const struct hp_tlsterm *t);
const char *hp_tlsterm_cipher(const struct hp_tlsterm *t);
const char *hp_tlsterm_alpn(const struct hp_tlsterm *t);
/* The raw bytes of our ServerHello record as sent (the first handshake
 * record of our first flight: 5-byte record header + ServerHello message,
 * for JA3S); NULL with *len 0 before it was sent. */
const uint8_t *hp_tlsterm_server_hello(const struct hp_tlsterm *t, size_t *len);

/* close_notify into wire (once; nothing after a fatal error). */
void hp_tlsterm_close(struct hp_tlsterm *t, struct hp_buf *wire);

/* The loaded certificate's subject ("/CN=.../O=.../C=..") and serial (hex),
 * for logs and tests; "" before init. */
const char *hp_tlsterm_cert_subject(void);
const char *hp_tlsterm_cert_serial(void);

/* The organisation names a generated certificate may carry (its O field),
 * so a test can hold the whole list against known-default subjects. */
const char *const *hp_tlsterm_cert_orgs(size_t *n);

#endif
