/*
 * rdp.h - the parsers of the "rdp" module, exported for the unit tests and
 * the fuzz harness (the module itself is hp_proto_rdp).
 */
#ifndef HP_RDP_H
#define HP_RDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP_RDP_PROTO_SSL        0x1u
#define HP_RDP_PROTO_HYBRID     0x2u
#define HP_RDP_PROTO_RDSTLS     0x4u
#define HP_RDP_PROTO_HYBRID_EX  0x8u

struct hp_rdp_cr {
    char cookie[256];             /* the text after "Cookie: " (mstshash=... or msts=...) */
    char username[128];           /* mstshash value */
    char routing_token[256];      /* msts=... load-balancer token */
    bool has_neg;                 /* an RDP_NEG_REQ followed */
    uint8_t neg_flags;
    uint32_t protocols;           /* requestedProtocols */
    bool has_correlation;         /* RDP_NEG_CORRELATION_INFO */
};

/* One TPKT + X.224 Connection Request at the start of p.  Returns the
 * bytes it takes (> 0), 0 if more are needed, -1 if it is not one. */
long hp_rdp_parse_cr(const uint8_t *p, size_t n, struct hp_rdp_cr *out);

struct hp_rdp_tsreq {
    uint32_t version;
    const uint8_t *token;         /* first negoToken, into p */
    size_t token_len;
    bool has_auth_info, has_pubkey_auth;
    uint32_t error_code;
    bool has_error;
};

/* Length of the DER TSRequest at the start of p: > 0 when complete, 0 when
 * more bytes are needed, -1 when not a TSRequest. */
long hp_rdp_tsreq_len(const uint8_t *p, size_t n);
/* Parse a complete TSRequest.  0, or -1 if malformed. */
int hp_rdp_parse_tsreq(const uint8_t *p, size_t n, struct hp_rdp_tsreq *out);

#endif
