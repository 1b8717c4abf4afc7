/*
 * vnc.h - the VNC (RFB) front-end's session machine, exposed for the unit
 * tests and the fuzzer; the protocol module (hp_proto_vnc) drives it from
 * the connection callbacks.  See vnc.c for the design and docs/vnc.md.
 */
#ifndef HP_PROTO_VNC_H
#define HP_PROTO_VNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "reader.h"

struct hp_ev;
struct hp_evctx;

#define HP_VNC_CHALLENGE 16
#define HP_VNC_OUT_MAX 128         /* the largest answer of one step (a VeNCrypt failure) */

/* What a family does with a client whose major version is not 3. */
enum hp_vnc_major {
    HP_VNC_MAJOR_MAP,              /* speak 3.3 (below) or 3.8 (above), as RFC 6143 says */
    HP_VNC_MAJOR_CLOSE,            /* close without a word (libvncserver) */
    HP_VNC_MAJOR_REFUSE,           /* "Client needs protocol version ..." (TigerVNC) */
};

/* A server family: what it announces and how it says no. */
struct hp_vnc_pers {
    const char *name;              /* "tigervnc", "x11vnc", "tightvnc", "rfb33" */
    const char *banner;            /* "RFB 003.008\n" (12 bytes) */
    int minor;                     /* 3, 7 or 8: the highest version it speaks */
    const char *fail_reason;       /* SecurityResult reason (3.8 clients) */
    unsigned weight;               /* how often it is drawn for a new sensor */
    const char *types;             /* 3.7/3.8 security type list: count, then types */
    enum hp_vnc_major bad_major;
    unsigned fail_delay_ms;        /* a failed SecurityResult is held this long */
    unsigned banner_wait_ms;       /* the version waits this long for a client speaking first */
};

/* Where events go (tests capture them; NULL: hp_ev_emit). */
typedef int (*hp_vnc_emit_fn)(struct hp_ev *ev);

enum hp_vnc_state {
    HP_VNC_WAIT,                                 /* banner_wait_ms: nothing sent yet */
    HP_VNC_VERSION, HP_VNC_SECTYPE, HP_VNC_RESPONSE,
    HP_VNC_VC_VERSION, HP_VNC_VC_SUBTYPE,        /* VeNCrypt (type 19) negotiation */
    HP_VNC_TLS,                                  /* VeNCrypt TLS accepted: the handshake would follow */
    HP_VNC_DONE,
};

struct hp_vnc_sess {
    const struct hp_vnc_pers *pers;
    const struct hp_evctx *ctx;
    hp_vnc_emit_fn emit;
    bool crack;
    enum hp_vnc_state state;
    int minor;                     /* negotiated: 3, 7 or 8 */
    uint8_t challenge[HP_VNC_CHALLENGE];
    uint8_t out[HP_VNC_OUT_MAX];   /* answer of the last step, sent by the caller */
    size_t outlen;
    const char *close_reason;      /* non-NULL: close after sending out */
    unsigned delay_ms;             /* non-zero: hold out that long before sending (and closing) */
};

/* The personalities, and one by name (NULL if unknown). */
const struct hp_vnc_pers *hp_vnc_pers_all(size_t *n);
const struct hp_vnc_pers *hp_vnc_pers_find(const char *name);

/* Start a session: the server's version string goes to s->out, unless the
 * family waits for the client first (state HP_VNC_WAIT: the caller arms a
 * banner_wait_ms timer and calls hp_vnc_timeout). */
void hp_vnc_open(struct hp_vnc_sess *s, const struct hp_vnc_pers *pers, const struct hp_evctx *ctx,
                 bool crack, hp_vnc_emit_fn emit);
/* The banner wait ran out: the version goes to s->out (nothing otherwise). */
void hp_vnc_timeout(struct hp_vnc_sess *s);
/* Consume what the client sent (the reader is advanced past it); the answer
 * is in s->out, and s->close_reason says whether to close afterwards. */
void hp_vnc_input(struct hp_vnc_sess *s, struct hp_rd *in);

/* The client's 12-byte ProtocolVersion read as the real servers read it:
 * sscanf "RFB %03d.%03d\n" (so "RFB 3.8\n\n\n\n\n" and a '\r' for the '\n'
 * pass); false if the bytes are not an RFB version. */
bool hp_vnc_scan_version(const uint8_t *p, size_t n, int *major, int *minor);
/* ... and as the version the server then speaks, given its own highest
 * minor: 3, 7 or 8 (a major other than 3 mapped as RFC 6143 says); -1 if
 * the bytes are not an RFB version. */
int hp_vnc_parse_version(const uint8_t *p, size_t n, int server_minor);
/* What a client with this password answers to the challenge (the DES of
 * the challenge keyed with the first 8 password bytes, bit-reversed). */
void hp_vnc_encrypt(const uint8_t challenge[HP_VNC_CHALLENGE], const void *pass, size_t plen,
                    uint8_t out[HP_VNC_CHALLENGE]);
/* Look for the password behind a response in the shipped wordlist.  On
 * success the (at most 8-byte) password is written NUL-terminated to pass
 * and true returned. */
bool hp_vnc_crack(const uint8_t challenge[HP_VNC_CHALLENGE], const uint8_t response[HP_VNC_CHALLENGE],
                  char pass[9]);
/* Distinct candidates in the wordlist (the empty password included). */
size_t hp_vnc_wordlist_size(void);

#endif
