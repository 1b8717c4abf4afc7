/*
 * tlsfp.h - TLS handshake fingerprints: JA3 and JA4 of a ClientHello, JA3S
 * of a ServerHello.
 *
 * The parsers take the bytes from the start of one direction of a TCP
 * stream (TLS records as they came, possibly several; a hello may span
 * records), the datagrams of a DTLS flow, or, for QUIC, the handshake
 * message itself (the CRYPTO stream that src/intel/quic.c decrypts), and
 * never allocate.  They say whether the hello is complete, more
 * bytes are needed, or the stream is not a TLS hello at all, so a caller can
 * feed a growing buffer and stop at the first definite answer.
 *
 * JA3 / JA3S follow salesforce/ja3 (BSD-3-Clause): decimal fields, GREASE
 * values (RFC 8701) removed.  JA4 follows FoxIO's JA4.md for the TLS client
 * fingerprint only (BSD-3-Clause); the other JA4+ methods are under FoxIO's
 * non-commercial licence and are deliberately not implemented.
 */
#ifndef HP_TLSFP_H
#define HP_TLSFP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest handshake message (and stream prefix) the parsers look at. */
#define HP_TLS_HELLO_MAX 16384

/* How the hello travelled: the first character of its JA4. */
enum hp_tls_transport { HP_TLS_TCP = 't', HP_TLS_QUIC = 'q', HP_TLS_DTLS = 'd' };

struct hp_tls_hello {
    char ja3[33];                 /* MD5 hex of the full JA3 string */
    char ja3_string[2048];        /* the JA3 string, cut at 2047 bytes if longer */
    bool ja3_truncated;
    char ja4[64];                 /* e.g. t13d1516h2_8daaf6152771_e5627efa2ab1 */
    char sni[256];                /* server_name (host_name) as sent, "" if none; may hold any byte but NUL */
    char alpn[128];               /* protocols comma-separated, cut to fit */
    uint16_t record_version, hello_version;   /* record_version 0 for QUIC (no records) */
    char versions[128];           /* supported_versions, "0x0304,0x0303" (GREASE removed) */
};

struct hp_tls_server_hello {
    char ja3s[33];
    char ja3s_string[512];
    uint16_t version;             /* legacy_version of the ServerHello */
    uint16_t selected_version;    /* supported_versions extension, else = version */
    uint16_t cipher;
    bool hello_retry;             /* a HelloRetryRequest (RFC 8446 4.1.3): a second ClientHello follows */
};

/* Returns 1 when a complete ClientHello was parsed into *out, 0 when more
 * bytes are needed (only while len < HP_TLS_HELLO_MAX), -1 when the bytes are
 * not a TLS ClientHello (or a malformed one). */
int hp_tls_client_hello(const uint8_t *data, size_t len, struct hp_tls_hello *out);

/* The same, and *span (when 1 is returned) the bytes of the stream the
 * hello's records take: a second ClientHello (after a HelloRetryRequest)
 * starts there, perhaps behind a ChangeCipherSpec record. */
int hp_tls_client_hello_span(const uint8_t *data, size_t len, struct hp_tls_hello *out, size_t *span);

/* The same for a ServerHello (JA3S). */
int hp_tls_server_hello(const uint8_t *data, size_t len, struct hp_tls_server_hello *out);

/* The same from one handshake message, its 4-byte header first (a QUIC
 * CRYPTO stream carries no records); tr gives the JA4's first character. */
int hp_tls_client_hello_msg(const uint8_t *msg, size_t len, enum hp_tls_transport tr, struct hp_tls_hello *out);
int hp_tls_server_hello_msg(const uint8_t *msg, size_t len, struct hp_tls_server_hello *out);

/* The same from DTLS records (the datagrams of one direction, concatenated):
 * handshake fragments are reassembled, the ClientHello's cookie skipped. */
int hp_dtls_client_hello(const uint8_t *data, size_t len, struct hp_tls_hello *out);
int hp_dtls_server_hello(const uint8_t *data, size_t len, struct hp_tls_server_hello *out);

/* True for the RFC 8701 GREASE values 0x0a0a, 0x1a1a, ... 0xfafa. */
bool hp_tls_is_grease(uint16_t v);

/* The two characters JA4 takes from the first ALPN value (JA4.md rules):
 * first and last byte if both are ASCII alphanumeric, else the first
 * byte's high nibble and the last byte's low nibble in hex; "00" if empty. */
void hp_ja4_alpn(const uint8_t *p, size_t n, char out[3]);

#endif
