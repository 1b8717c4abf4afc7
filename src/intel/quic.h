/*
 * quic.h - read a QUIC connection's Initial packets far enough for the TLS
 * fingerprints: the client's ClientHello (JA3, JA4 "q...") and the server's
 * ServerHello (JA3S).
 *
 * QUIC carries TLS handshake messages in CRYPTO frames inside Initial
 * packets, encrypted with keys anyone can derive from the client's first
 * Destination Connection ID (RFC 9001 section 5.2): confidentiality against
 * nobody, integrity against accidents.  A passive reader (hanipo fingerprint)
 * and the live quic service both derive them, remove header protection,
 * decrypt each Initial, and put the CRYPTO frames of one direction back in
 * order (clients split and shuffle them on purpose).  When the stream holds a
 * whole message at offset 0, src/intel/tlsfp.h fingerprints it.
 *
 * Versions read: QUIC v1 (RFC 9000), v2 (RFC 9369) and the drafts 29-32
 * that older clients still send.  Every datagram is hostile input: headers
 * are read through hp_rd, lengths checked against what is there, and a
 * packet that fails authentication is ignored.
 */
#ifndef HP_QUIC_H
#define HP_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "intel/tlsfp.h"

#define HP_QUIC_CID_MAX 20

/* The first CRYPTO bytes of one direction, reassembled. */
struct hp_quic_crypto {
    uint8_t data[HP_TLS_HELLO_MAX];
    uint8_t have[HP_TLS_HELLO_MAX / 8];    /* which bytes arrived */
    size_t prefix;                         /* bytes in order from offset 0 */
};

/* What the first packet of a datagram says. */
struct hp_quic_head {
    uint32_t version;
    bool initial;                          /* an Initial of a version we can read */
    uint8_t dcid[HP_QUIC_CID_MAX], scid[HP_QUIC_CID_MAX];
    size_t dcid_len, scid_len;
};

/* True if d starts with a QUIC long header (any version, 0 included: a
 * Version Negotiation); *h filled.  Nothing is decrypted. */
bool hp_quic_peek(const uint8_t *d, size_t n, struct hp_quic_head *h);

/* True for the versions whose Initial keys hp_quic_datagram can derive. */
bool hp_quic_version_known(uint32_t version);

/*
 * Decrypt the Initial packets in one datagram (its first eight coalesced
 * packets are walked; other packet types skipped) with the keys of the
 * client's original Destination Connection ID odcid, for the side that sent
 * it, and add their CRYPTO frames to cs.  Returns how many Initial packets
 * were decrypted (0 when none authenticated), -1 when the datagram is not a
 * QUIC long-header packet at all.
 */
int hp_quic_datagram(const uint8_t *d, size_t n, bool from_server, const uint8_t *odcid, size_t odcid_len,
                     struct hp_quic_crypto *cs);

/* The AES-128-GCM key, IV and header-protection key of the client's (or the
 * server's) Initial packets for a version and original DCID; false for a
 * version we cannot read. */
bool hp_quic_initial_keys(uint32_t version, const uint8_t *cid, size_t cidlen, bool server,
                          uint8_t key[16], uint8_t iv[12], uint8_t hp[16]);

/* Reset a direction's stream to empty. */
void hp_quic_crypto_reset(struct hp_quic_crypto *cs);

#endif
