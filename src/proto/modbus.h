/*
 * modbus.h - the Modbus/TCP server's session machine, exposed for the unit
 * tests and the fuzzer; the protocol module (hp_proto_modbus) drives it from
 * the connection callbacks.  See modbus.c for the design and docs/modbus.md.
 */
#ifndef HP_PROTO_MODBUS_H
#define HP_PROTO_MODBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "reader.h"

struct hp_ev;
struct hp_evctx;

#define HP_MODBUS_PDU_MAX 253           /* Modbus Application Protocol V1.1b, 4.1 */
#define HP_MODBUS_ADU_MAX (7 + HP_MODBUS_PDU_MAX)

/* The four data tables of a Modbus device. */
enum hp_modbus_table { HP_MB_COILS, HP_MB_DISCRETE, HP_MB_HOLDING, HP_MB_INPUT };

/* A PLC family: what Read Device Identification and Report Server ID say. */
struct hp_modbus_profile {
    const char *name;                   /* "m340", ... (configuration and identity file) */
    const char *vendor;                 /* object 0x00 VendorName */
    const char *product_code;           /* object 0x01 ProductCode */
    const char *revision;               /* object 0x02 MajorMinorRevision */
    const char *vendor_url;             /* object 0x03 (regular level; NULL: basic only) */
    const char *product_name;           /* object 0x04 */
    const char *model_name;             /* object 0x05 */
    uint8_t server_id;                  /* first byte of the Report Server ID answer */
    bool server_id_supported;           /* false: function 17 is an illegal function */
    unsigned ncoils, ndiscrete, nholding, ninput;   /* table sizes (addresses 0..n-1) */
    unsigned weight;                    /* how often it is drawn for a new sensor */
};

/* Where events go (tests capture them; NULL: hp_ev_emit), where answers go. */
typedef int (*hp_modbus_emit_fn)(struct hp_ev *ev);
typedef void (*hp_modbus_out_fn)(void *arg, const void *data, size_t len);

struct hp_modbus_sess {
    const struct hp_modbus_profile *prof;
    const struct hp_evctx *ctx;
    hp_modbus_emit_fn emit;
    hp_modbus_out_fn out;
    void *out_arg;
    uint32_t seed;                      /* the sensor's process values differ from others' */
    int64_t now_ms;                     /* fixed clock for tests (0: the wall clock) */
    uint64_t requests;
    const char *close_reason;           /* non-NULL: close after the answers sent */
};

const struct hp_modbus_profile *hp_modbus_profiles(size_t *n);
const struct hp_modbus_profile *hp_modbus_profile_find(const char *name);

void hp_modbus_open(struct hp_modbus_sess *s, const struct hp_modbus_profile *prof, uint32_t seed,
                    const struct hp_evctx *ctx, hp_modbus_emit_fn emit, hp_modbus_out_fn out, void *arg);
/*
 * Answer every complete request in the reader (advanced past them).  A
 * partial request stays unconsumed, unless 'stale' says it has been waiting
 * (the module's timer): then it is answered as if zero-padded, as small
 * embedded stacks do (nmap's GenericLines probe is recognised that way).
 */
void hp_modbus_input(struct hp_modbus_sess *s, struct hp_rd *in, bool stale);

/* The value a table holds at an address at a time (ms since the epoch):
 * written values where a client wrote, else the simulated process. */
uint16_t hp_modbus_value(const struct hp_modbus_sess *s, enum hp_modbus_table t, unsigned addr, int64_t now_ms);
/* Forget every written value (tests). */
void hp_modbus_reset_writes(void);

#endif
