/*
 * s7.h - the S7comm (ISO-on-TCP) server's session machine, exposed for the
 * unit tests and the fuzzer; the protocol module (hp_proto_s7comm) drives it
 * from the connection callbacks.  See s7.c for the design and docs/s7comm.md.
 */
#ifndef HP_PROTO_S7_H
#define HP_PROTO_S7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "reader.h"

struct hp_ev;
struct hp_evctx;

#define HP_S7_TPKT_MAX (1024 + 7)       /* a TPDU of 1024 bytes (COTP size 0x0A) and headers */

/* A CPU family. */
struct hp_s7_profile {
    const char *name;                  /* "cpu315pn", ... */
    const char *module_type;           /* "CPU 315-2 PN/DP" */
    const char *order;                 /* "6ES7 315-2EH14-0AB0" */
    uint8_t fw[3];                     /* firmware V3.2.6 */
    uint16_t pdu_max;                  /* the PDU size it offers (240 on S7-300) */
    unsigned weight;
};

/* One sensor's PLC: the profile and the names drawn for it. */
struct hp_s7_ident {
    const struct hp_s7_profile *prof;
    char system_name[25];              /* SZL 0x001C index 1 (24 characters) */
    char module_name[25];              /* index 2 */
    char plant[33];                    /* index 3 */
    char serial[25];                   /* index 5: "S C-X4U421302009" */
    char mmc_serial[33];               /* index 8: "MMC 267FF11F" */
};

typedef int (*hp_s7_emit_fn)(struct hp_ev *ev);
typedef void (*hp_s7_out_fn)(void *arg, const void *data, size_t len);

enum hp_s7_state { HP_S7_COTP, HP_S7_SETUP, HP_S7_READY, HP_S7_DONE };

struct hp_s7_sess {
    const struct hp_s7_ident *id;
    const struct hp_evctx *ctx;
    hp_s7_emit_fn emit;
    hp_s7_out_fn out;
    void *out_arg;
    enum hp_s7_state state;
    uint16_t pdu;                      /* negotiated PDU size */
    uint64_t requests;
    const char *close_reason;
};

const struct hp_s7_profile *hp_s7_profiles(size_t *n);
const struct hp_s7_profile *hp_s7_profile_find(const char *name);
/* Draw the names of a sensor's PLC from a seed (the same seed, the same names). */
void hp_s7_ident_make(struct hp_s7_ident *id, const struct hp_s7_profile *prof, uint64_t seed);

void hp_s7_open(struct hp_s7_sess *s, const struct hp_s7_ident *id, const struct hp_evctx *ctx,
                hp_s7_emit_fn emit, hp_s7_out_fn out, void *arg);
/* Answer every complete TPKT in the reader (advanced past them); a partial
 * one stays unconsumed.  s->close_reason set: close after the answers. */
void hp_s7_input(struct hp_s7_sess *s, struct hp_rd *in);

#endif
