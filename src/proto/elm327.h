/*
 * elm327.h - the ELM327 OBD-II adapter's session machine, exposed for the
 * unit tests and the fuzzer; the protocol module (hp_proto_elm327) drives it
 * from the connection callbacks.  See elm327.c for the design and
 * docs/elm327.md.
 */
#ifndef HP_PROTO_ELM327_H
#define HP_PROTO_ELM327_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "reader.h"

struct hp_ev;
struct hp_evctx;

#define HP_ELM_LINE_MAX 128            /* the adapter's command buffer */

/* A vehicle: how its VIN is built and what its engine ECU says. */
struct hp_elm_vehicle {
    const char *name;                  /* "ford_f150", ... */
    const char *vin_prefix;            /* WMI + VDS: the first 8 VIN characters */
    const char *years;                 /* model-year codes it is drawn from (position 10) */
    const char *plants;                /* plant codes (position 11) */
    const char *serial_lead;           /* letters the serial may start with ("" : digits only) */
    const char *calibration;           /* mode 09 PID 04 (at most 16 characters) */
    uint8_t obd_standard;              /* mode 01 PID 1C */
    uint16_t dtc;                      /* a stored trouble code (0: none), e.g. 0x0171 = P0171 */
    unsigned weight;
};

typedef int (*hp_elm_emit_fn)(struct hp_ev *ev);
typedef void (*hp_elm_out_fn)(void *arg, const void *data, size_t len);

struct hp_elm_sess {
    const struct hp_elm_vehicle *veh;
    const char *vin;                   /* 17 characters */
    const struct hp_evctx *ctx;
    hp_elm_emit_fn emit;
    hp_elm_out_fn out;
    void *out_arg;
    int64_t now_ms;                    /* fixed clock for tests (0: the wall clock) */
    bool echo, linefeed, spaces, headers;
    char protocol;                     /* '0'..'9', 'A'..'C' as set by ATSP ('0': automatic) */
    bool searched;                     /* the automatic search found the car's CAN bus */
    bool cleared;                      /* mode 04 ran: no stored code any more */
    bool discarding;                   /* an over-long line is being skipped to its CR */
    char last[HP_ELM_LINE_MAX + 1];    /* a bare CR repeats it */
    uint64_t lines;
    const char *close_reason;
};

const struct hp_elm_vehicle *hp_elm_vehicles(size_t *n);
const struct hp_elm_vehicle *hp_elm_vehicle_find(const char *name);
/* The ISO 3779 / FMVSS 115 check digit of a 17-character VIN ('0'-'9' or 'X'); 0 if invalid. */
char hp_elm_vin_check(const char *vin);
/* A VIN of the vehicle from a seed, check digit included (out >= 18 bytes). */
void hp_elm_vin_make(const struct hp_elm_vehicle *v, uint64_t seed, char out[18]);

void hp_elm_open(struct hp_elm_sess *s, const struct hp_elm_vehicle *veh, const char *vin,
                 const struct hp_evctx *ctx, hp_elm_emit_fn emit, hp_elm_out_fn out, void *arg);
/* Answer every CR-terminated line in the reader (advanced past them). */
void hp_elm_input(struct hp_elm_sess *s, struct hp_rd *in);

#endif
