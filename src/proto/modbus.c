/*
 * modbus.c - a Modbus/TCP server that looks like a small PLC.
 *
 * Every request is an MBAP header (transaction id, protocol id, length,
 * unit id) and a PDU (function code and data), read through hp_rd.  The
 * answer echoes the transaction and protocol ids and the unit; any unit id
 * is served, as PLCs with an Ethernet port do (only gateways answer 0x0B).
 *
 *   1/2/3/4     read coils / discrete inputs / holding / input registers:
 *               values from a simulated process (a pumping station: tank
 *               level, flow, pressure, temperatures, pump states, an hour
 *               counter) that changes slowly with the wall clock, plus what
 *               clients wrote (kept process-wide, like a real PLC's memory)
 *   5/6/15/16   writes, answered like the device (echo / address + count);
 *   22/23       mask write, read/write multiple: logged as modbus.write
 *   43/14       Read Device Identification from the per-sensor PLC profile
 *               (vendor, product code, revision; regular objects too)
 *   17          Report Server ID (where the family supports it)
 *   other       exception 01 (illegal function); an address outside the
 *               profile's tables 02; a bad count or value 03, the order
 *               the specification's state diagrams check them in.
 *
 * Every request is one command.input event ("read_holding_registers unit=1
 * addr=0 count=10").  The profile (Schneider Electric M340/M221, Siemens
 * SENTRON, ABB AC500, WAGO PFC200) is drawn at first start and kept in the
 * identity file as modbus_device = "<profile>:<seed>", the seed making this
 * sensor's process values differ from other sensors'.
 *
 * Framing: the declared length must be 2..254 (a 253-byte PDU plus the unit
 * id); a frame announcing more or less is answered with an exception built
 * from the bytes that are there, then the connection is closed (small stacks
 * answer that way, which is what nmap's service probes expect).  A partial
 * header left for a second is answered as if zero-padded, then dropped.
 *
 * The session machine is independent of the connection (out and emit hooks)
 * so the unit tests and the fuzzer drive it directly.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "conn.h"
#include "event.h"
#include "identity.h"
#include "modbus.h"
#include "proto.h"
#include "util.h"

/* ---- profiles --------------------------------------------------------------------- */

static const struct hp_modbus_profile mb_profiles[] = {
    { "m340", "Schneider Electric", "BMX P34 2020", "v2.7", "http://www.schneider-electric.com",
      "Modicon M340", "BMX P34 2020", 0x00, false, 1024, 512, 1024, 512, 4 },
    { "m340v3", "Schneider Electric", "BMX P34 2020", "v3.10", "http://www.schneider-electric.com",
      "Modicon M340", "BMX P34 2020", 0x00, false, 1024, 512, 1024, 512, 3 },
    { "m221", "Schneider Electric", "TM221CE24R", "V1.6.2.0", "http://www.schneider-electric.com",
      "Modicon M221", "TM221CE24R", 0x00, false, 512, 256, 1024, 256, 2 },
    { "pac3200", "Siemens", "7KM2112-0BA00-3AA0", "V2.4.2", "http://www.siemens.com/powermanagement",
      "SENTRON PAC3200", "PAC3200", 0x01, true, 256, 256, 1024, 1024, 2 },
    { "ac500", "ABB", "PM573-ETH", "V2.5.2", "http://www.abb.com/plc",
      "AC500", "PM573-ETH", 0x0A, true, 1024, 1024, 2048, 512, 2 },
    { "pfc200", "WAGO", "750-8202", "03.01.07(13)", "http://www.wago.com",
      "PFC200 CS 2ETH RS", "750-8202", 0xFA, true, 1024, 1024, 2048, 1024, 1 },
};

const struct hp_modbus_profile *hp_modbus_profiles(size_t *n)
{
    *n = HP_ARRAY_LEN(mb_profiles);
    return mb_profiles;
}

const struct hp_modbus_profile *hp_modbus_profile_find(const char *name)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(mb_profiles); i++)
        if (strcmp(mb_profiles[i].name, name) == 0)
            return &mb_profiles[i];
    return NULL;
}

/* ---- the simulated process ---------------------------------------------------------- */

#define MB_KEEP 2048                /* written values kept per table (addresses below) */

static uint16_t mb_hold_w[MB_KEEP];
static uint8_t mb_hold_set[MB_KEEP / 8];
static uint8_t mb_coil_w[MB_KEEP / 8];
static uint8_t mb_coil_set[MB_KEEP / 8];

void hp_modbus_reset_writes(void)
{
    memset(mb_hold_set, 0, sizeof(mb_hold_set));
    memset(mb_coil_set, 0, sizeof(mb_coil_set));
}

static bool mb_bit(const uint8_t *bits, unsigned i) { return (bits[i / 8] >> (i % 8)) & 1; }

static void mb_setbit(uint8_t *bits, unsigned i, bool v)
{
    if (v)
        bits[i / 8] = (uint8_t)(bits[i / 8] | (1u << (i % 8)));
    else
        bits[i / 8] = (uint8_t)(bits[i / 8] & ~(1u << (i % 8)));
}

/* A stable pseudo-random word for configuration registers (per sensor). */
static uint32_t mb_mix(uint32_t seed, uint32_t t, uint32_t a)
{
    uint32_t h = seed ^ (t * 0x9E3779B9u) ^ (a * 0x85EBCA6Bu);
    h ^= h >> 16;
    h *= 0x7FEB352Du;
    h ^= h >> 15;
    h *= 0x846CA68Bu;
    return h ^ (h >> 16);
}

static double mb_wave(double t, double period, double phase)
{
    return sin(2.0 * M_PI * (t / period + phase));
}

/* Pump 1 runs while the tank fills (about 40 % of a 30-minute cycle). */
static bool mb_pump(double t, double ph, int which)
{
    double w = mb_wave(t, 1800.0, ph);
    return which == 1 ? w > -0.2 : w > 0.85;
}

/* Register 0..15 of the holding table: the process image (scaled integers). */
static uint16_t mb_process(uint32_t seed, unsigned addr, double t)
{
    double ph = (double)(seed % 1000) / 1000.0;
    bool p1 = mb_pump(t, ph, 1), p2 = mb_pump(t, ph, 2);
    double v;
    switch (addr) {
    case 0: v = 2500 + 1200 * mb_wave(t, 1800.0, ph) + 150 * mb_wave(t, 170.0, ph); break;  /* level mm */
    case 1: v = p1 ? 1200 + 60 * mb_wave(t, 37.0, ph) + (p2 ? 900 : 0) : 0; break;          /* flow l/min */
    case 2: v = (p1 ? 420 : 180) + 12 * mb_wave(t, 23.0, ph); break;                         /* bar*100 */
    case 3: v = 150 + 30 * mb_wave(t, 86400.0, ph) + 3 * mb_wave(t, 300.0, ph); break;       /* water C*10 */
    case 4: v = 215 + 40 * mb_wave(t, 86400.0, ph + 0.25) + 4 * mb_wave(t, 600.0, ph); break; /* room C*10 */
    case 5: v = p1 ? 1478 + 4 * mb_wave(t, 11.0, ph) : 0; break;                             /* pump 1 rpm */
    case 6: v = p2 ? 1482 + 4 * mb_wave(t, 13.0, ph) : 0; break;                             /* pump 2 rpm */
    case 7: v = p1 ? 182 + 6 * mb_wave(t, 19.0, ph) : 0; break;                              /* A*10 */
    case 8: v = 3000 + (seed >> 8) % 6 * 100; break;                                         /* level setpoint */
    case 9: v = 0; break;                                                                    /* alarm word */
    case 10: case 11: {                                                                      /* hours, 32 bits */
        uint32_t h = 20000 + (seed >> 12) % 30000 + (uint32_t)(t / 3600.0) % 100000;
        return addr == 10 ? (uint16_t)(h >> 16) : (uint16_t)h;
    }
    case 12: v = 400 + 8 * mb_wave(t, 3600.0, ph); break;                                    /* supply V */
    case 13: v = 5000 + 2 * mb_wave(t, 7.0, ph); break;                                      /* Hz*100 */
    default: v = 0;
    }
    return v < 0 ? 0 : (uint16_t)(v > 65535 ? 65535 : v);
}

static bool mb_coil_sim(uint32_t seed, unsigned addr, double t)
{
    double ph = (double)(seed % 1000) / 1000.0;
    switch (addr) {
    case 0: return mb_pump(t, ph, 1);                       /* pump 1 run command */
    case 1: return mb_pump(t, ph, 2);                       /* pump 2 run command */
    case 2: return true;                                    /* automatic mode */
    case 3: return mb_pump(t, ph, 1);                       /* outlet valve open */
    default: return addr < 64 && (mb_mix(seed, 1, addr) & 7) == 0;
    }
}

uint16_t hp_modbus_value(const struct hp_modbus_sess *s, enum hp_modbus_table tab, unsigned addr, int64_t now_ms)
{
    double t = (double)now_ms / 1000.0;
    double ph = (double)(s->seed % 1000) / 1000.0;
    switch (tab) {
    case HP_MB_COILS:
        if (addr < MB_KEEP && mb_bit(mb_coil_set, addr))
            return mb_bit(mb_coil_w, addr);
        return mb_coil_sim(s->seed, addr, t);
    case HP_MB_DISCRETE:
        switch (addr) {
        case 0: return mb_pump(t, ph, 1);                   /* pump 1 running feedback */
        case 1: return mb_pump(t, ph, 2);
        case 2: case 3: return 0;                           /* pump faults */
        case 4: return mb_process(s->seed, 0, t) > 3600;    /* high level switch */
        case 5: return mb_process(s->seed, 0, t) > 800;     /* dry-run protection ok */
        case 6: return 1;                                   /* mains ok */
        default: return addr < 32 && (mb_mix(s->seed, 2, addr) & 3) == 0;
        }
    case HP_MB_HOLDING:
        if (addr < MB_KEEP && mb_bit(mb_hold_set, addr))
            return mb_hold_w[addr];
        if (addr < 16)
            return mb_process(s->seed, addr, t);
        if (addr < 100)                                     /* parameters: stable per sensor */
            return (uint16_t)(mb_mix(s->seed, 3, addr) % 1000);
        return 0;
    case HP_MB_INPUT:
        if (addr < 4) {                                     /* raw analog inputs, 0..27648 */
            static const uint32_t range[4] = { 5000, 3000, 1000, 1000 };
            uint32_t v = (uint32_t)mb_process(s->seed, addr, t) * 27648u / range[addr];
            return (uint16_t)(v > 27648 ? 27648 : v);
        }
        return 0;
    }
    return 0;
}

/* ---- requests --------------------------------------------------------------------- */

/* One request being answered: what the event says and what goes back. */
struct mb_req {
    struct hp_modbus_sess *s;
    uint16_t tid, pid;
    uint8_t unit, fc;
    struct hp_rd d;                     /* the PDU after the function code */
    char text[192];                     /* command.input's input */
    const char *name;
    int64_t addr, count;                /* -1: not applicable */
    uint8_t exc;                        /* exception code, 0: normal answer */
    uint8_t pdu[HP_MODBUS_PDU_MAX];     /* the answer's PDU after the function code */
    size_t len;
    int64_t now_ms;
};

static const char *mb_fname(uint8_t fc)
{
    switch (fc) {
    case 1: return "read_coils";
    case 2: return "read_discrete_inputs";
    case 3: return "read_holding_registers";
    case 4: return "read_input_registers";
    case 5: return "write_single_coil";
    case 6: return "write_single_register";
    case 7: return "read_exception_status";
    case 8: return "diagnostics";
    case 11: return "get_comm_event_counter";
    case 12: return "get_comm_event_log";
    case 15: return "write_multiple_coils";
    case 16: return "write_multiple_registers";
    case 17: return "report_server_id";
    case 20: return "read_file_record";
    case 21: return "write_file_record";
    case 22: return "mask_write_register";
    case 23: return "read_write_multiple_registers";
    case 24: return "read_fifo_queue";
    case 43: return "encapsulated_interface";
    case 90: return "schneider_umas";
    default: return NULL;
    }
}

static void mb_put(struct mb_req *r, const void *p, size_t n)
{
    if (n > sizeof(r->pdu) - r->len)
        n = sizeof(r->pdu) - r->len;   /* cannot happen with the counts checked below */
    memcpy(r->pdu + r->len, p, n);
    r->len += n;
}

static void mb_put16(struct mb_req *r, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    mb_put(r, b, 2);
}

static void mb_text(struct mb_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mb_text(struct mb_req *r, const char *fmt, ...)
{
    size_t used = strlen(r->text);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->text + used, sizeof(r->text) - used, fmt, ap);
    va_end(ap);
}

static unsigned mb_size(const struct hp_modbus_profile *p, enum hp_modbus_table t)
{
    switch (t) {
    case HP_MB_COILS: return p->ncoils;
    case HP_MB_DISCRETE: return p->ndiscrete;
    case HP_MB_HOLDING: return p->nholding;
    case HP_MB_INPUT: return p->ninput;
    }
    return 0;
}

/* Quantity, then address range: the order of the specification's diagrams. */
static bool mb_check(struct mb_req *r, enum hp_modbus_table t, unsigned addr, unsigned count, unsigned max)
{
    if (count < 1 || count > max) {
        r->exc = 3;
        return false;
    }
    if (addr + count > mb_size(r->s->prof, t)) {
        r->exc = 2;
        return false;
    }
    return true;
}

static void mb_emit(struct hp_modbus_sess *s, struct hp_ev *ev)
{
    if (s->emit)
        s->emit(ev);
    else
        hp_ev_emit(ev);
}

/* modbus.write: what a client changed (values as written, coils as 0/1). */
static void mb_ev_write(struct mb_req *r, unsigned addr, const uint16_t *vals, unsigned n, bool coils)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, r->s->ctx, "modbus.write");
    hp_ev_str(&ev, "function", r->name);
    hp_ev_uint(&ev, "function_code", r->fc);
    hp_ev_uint(&ev, "unit", r->unit);
    hp_ev_str(&ev, "table", coils ? "coils" : "holding_registers");
    hp_ev_uint(&ev, "address", addr);
    hp_ev_uint(&ev, "count", n);
    hp_ev_arr_begin(&ev, "values");
    for (unsigned i = 0; i < n; i++)
        hp_ev_elem_int(&ev, vals[i]);
    hp_ev_arr_end(&ev);
    mb_emit(r->s, &ev);
}

static void mb_store_regs(unsigned addr, const uint16_t *vals, unsigned n)
{
    for (unsigned i = 0; i < n && addr + i < MB_KEEP; i++) {
        mb_hold_w[addr + i] = vals[i];
        mb_setbit(mb_hold_set, addr + i, true);
    }
}

static void mb_store_coils(unsigned addr, const uint16_t *vals, unsigned n)
{
    for (unsigned i = 0; i < n && addr + i < MB_KEEP; i++) {
        mb_setbit(mb_coil_w, addr + i, vals[i] != 0);
        mb_setbit(mb_coil_set, addr + i, true);
    }
}

/* 1, 2: bits packed eight to a byte, lowest address in the lowest bit. */
static void mb_read_bits(struct mb_req *r, enum hp_modbus_table t)
{
    unsigned addr = hp_rd_u16be(&r->d), count = hp_rd_u16be(&r->d);
    r->addr = addr, r->count = count;
    mb_text(r, " addr=%u count=%u", addr, count);
    if (!hp_rd_ok(&r->d)) {
        r->exc = 3;
        return;
    }
    if (!mb_check(r, t, addr, count, 2000))
        return;
    uint8_t bytes[250] = { 0 };
    unsigned nb = (count + 7) / 8;
    for (unsigned i = 0; i < count; i++)
        if (hp_modbus_value(r->s, t, addr + i, r->now_ms))
            bytes[i / 8] = (uint8_t)(bytes[i / 8] | (1u << (i % 8)));
    uint8_t bc = (uint8_t)nb;
    mb_put(r, &bc, 1);
    mb_put(r, bytes, nb);
}

/* 3, 4 */
static void mb_read_regs(struct mb_req *r, enum hp_modbus_table t)
{
    unsigned addr = hp_rd_u16be(&r->d), count = hp_rd_u16be(&r->d);
    r->addr = addr, r->count = count;
    mb_text(r, " addr=%u count=%u", addr, count);
    if (!hp_rd_ok(&r->d)) {
        r->exc = 3;
        return;
    }
    if (!mb_check(r, t, addr, count, 125))
        return;
    uint8_t bc = (uint8_t)(2 * count);
    mb_put(r, &bc, 1);
    for (unsigned i = 0; i < count; i++)
        mb_put16(r, hp_modbus_value(r->s, t, addr + i, r->now_ms));
}

/* 5, 6: the answer echoes the request. */
static void mb_write_single(struct mb_req *r, bool coil)
{
    unsigned addr = hp_rd_u16be(&r->d), val = hp_rd_u16be(&r->d);
    r->addr = addr, r->count = 1;
    mb_text(r, " addr=%u value=%u", addr, coil ? (val == 0xFF00) : val);
    if (!hp_rd_ok(&r->d) || (coil && val != 0xFF00 && val != 0)) {
        r->exc = 3;
        return;
    }
    if (!mb_check(r, coil ? HP_MB_COILS : HP_MB_HOLDING, addr, 1, 1))
        return;
    uint16_t v = coil ? (val == 0xFF00) : (uint16_t)val;
    mb_ev_write(r, addr, &v, 1, coil);
    if (coil)
        mb_store_coils(addr, &v, 1);
    else
        mb_store_regs(addr, &v, 1);
    mb_put16(r, (uint16_t)addr);
    mb_put16(r, (uint16_t)val);
}

/* 15, 16: the byte count must match the quantity (else 03, as the spec says). */
static void mb_write_multi(struct mb_req *r, bool coils)
{
    unsigned addr = hp_rd_u16be(&r->d), count = hp_rd_u16be(&r->d), bc = hp_rd_u8(&r->d);
    r->addr = addr, r->count = count;
    mb_text(r, " addr=%u count=%u", addr, count);
    unsigned max = coils ? 1968 : 123;
    unsigned need = coils ? (count + 7) / 8 : 2 * count;
    const uint8_t *p = hp_rd_ok(&r->d) && bc == need ? hp_rd_bytes(&r->d, bc) : NULL;
    if (!p || count < 1 || count > max) {
        r->exc = 3;
        return;
    }
    if (!mb_check(r, coils ? HP_MB_COILS : HP_MB_HOLDING, addr, count, max))
        return;
    uint16_t vals[1968];
    for (unsigned i = 0; i < count; i++)
        vals[i] = coils ? (uint16_t)((p[i / 8] >> (i % 8)) & 1) : (uint16_t)(p[2 * i] << 8 | p[2 * i + 1]);
    mb_ev_write(r, addr, vals, count, coils);
    if (coils)
        mb_store_coils(addr, vals, count);
    else
        mb_store_regs(addr, vals, count);
    mb_put16(r, (uint16_t)addr);
    mb_put16(r, (uint16_t)count);
}

/* 22: result = (current AND and_mask) OR (or_mask AND NOT and_mask); echoes the request. */
static void mb_mask_write(struct mb_req *r)
{
    unsigned addr = hp_rd_u16be(&r->d), am = hp_rd_u16be(&r->d), om = hp_rd_u16be(&r->d);
    r->addr = addr, r->count = 1;
    mb_text(r, " addr=%u and=0x%04x or=0x%04x", addr, am, om);
    if (!hp_rd_ok(&r->d)) {
        r->exc = 3;
        return;
    }
    if (!mb_check(r, HP_MB_HOLDING, addr, 1, 1))
        return;
    uint16_t cur = hp_modbus_value(r->s, HP_MB_HOLDING, addr, r->now_ms);
    uint16_t v = (uint16_t)((cur & am) | (om & ~am));
    mb_ev_write(r, addr, &v, 1, false);
    mb_store_regs(addr, &v, 1);
    mb_put16(r, (uint16_t)addr);
    mb_put16(r, (uint16_t)am);
    mb_put16(r, (uint16_t)om);
}

/* 23: the write happens before the read. */
static void mb_read_write(struct mb_req *r)
{
    unsigned ra = hp_rd_u16be(&r->d), rc = hp_rd_u16be(&r->d);
    unsigned wa = hp_rd_u16be(&r->d), wc = hp_rd_u16be(&r->d), bc = hp_rd_u8(&r->d);
    r->addr = ra, r->count = rc;
    mb_text(r, " addr=%u count=%u write_addr=%u write_count=%u", ra, rc, wa, wc);
    const uint8_t *p = hp_rd_ok(&r->d) && bc == 2 * wc ? hp_rd_bytes(&r->d, bc) : NULL;
    if (!p || rc < 1 || rc > 125 || wc < 1 || wc > 121) {
        r->exc = 3;
        return;
    }
    if (!mb_check(r, HP_MB_HOLDING, wa, wc, 121) || !mb_check(r, HP_MB_HOLDING, ra, rc, 125))
        return;
    uint16_t vals[121];
    for (unsigned i = 0; i < wc; i++)
        vals[i] = (uint16_t)(p[2 * i] << 8 | p[2 * i + 1]);
    mb_ev_write(r, wa, vals, wc, false);
    mb_store_regs(wa, vals, wc);
    uint8_t b = (uint8_t)(2 * rc);
    mb_put(r, &b, 1);
    for (unsigned i = 0; i < rc; i++)
        mb_put16(r, hp_modbus_value(r->s, HP_MB_HOLDING, ra + i, r->now_ms));
}

/* The identification objects of a profile: basic 0..2, regular 3..5. */
static size_t mb_objects(const struct hp_modbus_profile *p, const char *obj[6])
{
    obj[0] = p->vendor, obj[1] = p->product_code, obj[2] = p->revision;
    if (!p->vendor_url)
        return 3;
    obj[3] = p->vendor_url, obj[4] = p->product_name, obj[5] = p->model_name;
    return 6;
}

/* 43 / 14: Read Device Identification (stream access 1-3, individual 4). */
static void mb_devid(struct mb_req *r)
{
    uint8_t mei = hp_rd_u8(&r->d);
    if (!hp_rd_ok(&r->d) || mei != 14) {
        r->name = "encapsulated_interface";
        mb_text(r, " mei=%u", mei);
        r->exc = hp_rd_ok(&r->d) ? 1 : 3;
        return;
    }
    r->name = "read_device_identification";
    unsigned code = hp_rd_u8(&r->d), id = hp_rd_u8(&r->d);
    memcpy(r->text, r->name, strlen(r->name) + 1);
    mb_text(r, " unit=%u code=%u object=%u", r->unit, code, id);
    if (!hp_rd_ok(&r->d) || code < 1 || code > 4) {
        r->exc = 3;
        return;
    }
    const char *obj[6];
    size_t n = mb_objects(r->s->prof, obj);
    size_t last = code == 1 ? 3 : n;  /* no extended objects: level 3 gives the regular ones */
    if (code == 4 && id >= n) {
        r->exc = 2;
        return;
    }
    if (code != 4 && id >= last)
        id = 0;                        /* spec: an unknown object restarts the stream at 0 */
    uint8_t hdr[5] = { 14, (uint8_t)code, (uint8_t)(n > 3 ? 0x82 : 0x81), 0, 0 };
    mb_put(r, hdr, 5);
    size_t from = id, to = code == 4 ? id + 1 : last;
    uint8_t cnt = (uint8_t)(to - from);
    mb_put(r, &cnt, 1);
    for (size_t i = from; i < to; i++) {
        size_t len = strlen(obj[i]);
        uint8_t oh[2] = { (uint8_t)i, (uint8_t)len };
        mb_put(r, oh, 2);
        mb_put(r, obj[i], len);
    }
}

/* 17: server id, run indicator (0xFF: running), then the product text. */
static void mb_server_id(struct mb_req *r)
{
    const struct hp_modbus_profile *p = r->s->prof;
    if (!p->server_id_supported) {
        r->exc = 1;
        return;
    }
    char txt[96];
    int n = snprintf(txt, sizeof(txt), "%s %s %s", p->product_name, p->product_code, p->revision);
    if (n < 0 || (size_t)n >= sizeof(txt))
        n = (int)sizeof(txt) - 1;
    uint8_t hdr[3] = { (uint8_t)(n + 2), p->server_id, 0xFF };
    mb_put(r, hdr, 3);
    mb_put(r, txt, (size_t)n);
}

static void mb_unknown(struct mb_req *r)
{
    size_t n = hp_rd_left(&r->d);
    const uint8_t *p = hp_rd_ptr(&r->d);
    if (n)
        mb_text(r, " data=");
    for (size_t i = 0; i < n && i < 32; i++)
        mb_text(r, "%02x", p[i]);
    r->exc = 1;
}

static void mb_dispatch(struct mb_req *r)
{
    switch (r->fc) {
    case 1: mb_read_bits(r, HP_MB_COILS); break;
    case 2: mb_read_bits(r, HP_MB_DISCRETE); break;
    case 3: mb_read_regs(r, HP_MB_HOLDING); break;
    case 4: mb_read_regs(r, HP_MB_INPUT); break;
    case 5: mb_write_single(r, true); break;
    case 6: mb_write_single(r, false); break;
    case 15: mb_write_multi(r, true); break;
    case 16: mb_write_multi(r, false); break;
    case 17: mb_server_id(r); break;
    case 22: mb_mask_write(r); break;
    case 23: mb_read_write(r); break;
    case 43: mb_devid(r); break;
    default: mb_unknown(r); break;   /* serial-line-only and vendor functions included */
    }
}

static void mb_ev_request(struct mb_req *r)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, r->s->ctx, "command.input");
    hp_ev_str(&ev, "input", r->text);
    hp_ev_str(&ev, "command", r->name);
    hp_ev_uint(&ev, "function_code", r->fc);
    hp_ev_uint(&ev, "unit", r->unit);
    hp_ev_uint(&ev, "transaction_id", r->tid);
    if (r->pid)
        hp_ev_uint(&ev, "protocol_id", r->pid);
    if (r->addr >= 0)
        hp_ev_int(&ev, "address", r->addr);
    if (r->count >= 0)
        hp_ev_int(&ev, "count", r->count);
    if (r->exc)
        hp_ev_uint(&ev, "exception", r->exc);
    mb_emit(r->s, &ev);
}

/* One request (header fields and the PDU after the function code): answer it. */
static void mb_request(struct hp_modbus_sess *s, uint16_t tid, uint16_t pid, uint8_t unit, uint8_t fc,
                       const uint8_t *data, size_t dlen)
{
    static struct mb_req r;            /* ~0.5 KiB; the machine is single-threaded */
    memset(&r, 0, sizeof(r));
    r.s = s, r.tid = tid, r.pid = pid, r.unit = unit, r.fc = fc;
    r.addr = r.count = -1;
    r.now_ms = s->now_ms ? s->now_ms : hp_now_us() / 1000;
    hp_rd_init(&r.d, data, dlen);
    r.name = mb_fname(fc);
    char fallback[32];
    if (!r.name) {
        snprintf(fallback, sizeof(fallback), "function_%u", fc);
        r.name = fallback;
    }
    mb_text(&r, "%s unit=%u", r.name, unit);
    mb_dispatch(&r);
    if (r.name == fallback)
        r.name = "unknown";
    s->requests++;
    mb_ev_request(&r);

    uint8_t out[HP_MODBUS_ADU_MAX];
    size_t plen = r.exc ? 1 : r.len;
    out[0] = (uint8_t)(tid >> 8), out[1] = (uint8_t)tid;
    out[2] = (uint8_t)(pid >> 8), out[3] = (uint8_t)pid;
    out[4] = (uint8_t)((plen + 2) >> 8), out[5] = (uint8_t)(plen + 2);
    out[6] = unit;
    out[7] = r.exc ? (uint8_t)(fc | 0x80) : fc;
    if (r.exc)
        out[8] = r.exc;
    else
        memcpy(out + 8, r.pdu, r.len);
    s->out(s->out_arg, out, 8 + plen);
}

void hp_modbus_open(struct hp_modbus_sess *s, const struct hp_modbus_profile *prof, uint32_t seed,
                    const struct hp_evctx *ctx, hp_modbus_emit_fn emit, hp_modbus_out_fn out, void *arg)
{
    memset(s, 0, sizeof(*s));
    s->prof = prof;
    s->seed = seed;
    s->ctx = ctx;
    s->emit = emit;
    s->out = out;
    s->out_arg = arg;
}

/* What is buffered but cannot be a well-formed frame (a bad length, or a
 * partial one gone stale): answered from the bytes there, zero-padded,
 * then the connection closes since the stream is out of step. */
static void mb_salvage(struct hp_modbus_sess *s, struct hp_rd *in, const char *why)
{
    uint8_t f[HP_MODBUS_ADU_MAX] = { 0 };
    size_t n = hp_rd_left(in);
    hp_rd_copy(in, f, n < sizeof(f) ? n : sizeof(f));
    size_t dlen = n > 8 ? (n < sizeof(f) ? n : sizeof(f)) - 8 : 0;
    mb_request(s, (uint16_t)(f[0] << 8 | f[1]), (uint16_t)(f[2] << 8 | f[3]), f[6], f[7], f + 8, dlen);
    hp_rd_skip(in, hp_rd_left(in));
    s->close_reason = why;
}

void hp_modbus_input(struct hp_modbus_sess *s, struct hp_rd *in, bool stale)
{
    while (!s->close_reason && hp_rd_left(in) > 0) {
        size_t left = hp_rd_left(in);
        int lh = hp_rd_peek_u8(in, 4), ll = hp_rd_peek_u8(in, 5);
        size_t len = lh < 0 || ll < 0 ? 0 : (size_t)(lh << 8 | ll);
        if (left >= 6 && (len < 2 || len > HP_MODBUS_PDU_MAX + 1)) {
            mb_salvage(s, in, "modbus_bad_length");
            return;
        }
        if (left < 8 || left < 6 + len) {
            if (stale)
                mb_salvage(s, in, "modbus_partial_frame");
            return;                    /* the rest of the frame stays buffered */
        }
        uint16_t tid = hp_rd_u16be(in), pid = hp_rd_u16be(in);
        hp_rd_skip(in, 2);
        uint8_t unit = hp_rd_u8(in), fc = hp_rd_u8(in);
        const uint8_t *data = hp_rd_bytes(in, len - 2);
        if (!hp_rd_ok(in))
            return;                    /* not reached: the length was checked above */
        mb_request(s, tid, pid, unit, fc, data, len - 2);
    }
    if (s->close_reason)
        hp_rd_skip(in, hp_rd_left(in));
}

/* ---- the protocol module ---------------------------------------------------------- */

#define MB_STALE_MS 1000               /* a partial frame this old is answered as it is */

struct mb_conf {
    const struct hp_modbus_profile *prof;   /* configured, or the identity's after start() */
    uint32_t seed;
};

static int mb_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct mb_conf *mc = hp_xcalloc(1, sizeof(*mc));
    svc->proto_conf = mc;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        if (strcmp(kv->key, "profile") == 0) {
            mc->prof = hp_modbus_profile_find(kv->value);
            if (!mc->prof) {
                snprintf(err, errlen, "%d: [service %s]: unknown modbus profile '%s'", kv->line, svc->name,
                         kv->value);
                return -1;
            }
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol modbus)", kv->line, kv->key,
                     svc->name);
            return -1;
        }
    }
    return 0;
}

static void mb_unconfigure(struct hp_service_cfg *svc)
{
    free(svc->proto_conf);
    svc->proto_conf = NULL;
}

static const struct hp_modbus_profile *mb_draw(void)
{
    unsigned total = 0;
    for (size_t i = 0; i < HP_ARRAY_LEN(mb_profiles); i++)
        total += mb_profiles[i].weight;
    unsigned r = (unsigned)(hp_random_u64() % total);
    for (size_t i = 0; i < HP_ARRAY_LEN(mb_profiles); i++) {
        if (r < mb_profiles[i].weight)
            return &mb_profiles[i];
        r -= mb_profiles[i].weight;
    }
    return &mb_profiles[0];
}

/* modbus_device = "<profile>:<8 hex digits of seed>", drawn at first start. */
static int mb_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct mb_conf *mc = svc->proto_conf;
    const char *kept = hp_identity_get("modbus_device");
    char name[32] = "";
    unsigned seed = 0;
    const struct hp_modbus_profile *p = NULL;
    if (kept && sscanf(kept, "%31[^:]:%8x", name, &seed) == 2)
        p = hp_modbus_profile_find(name);
    if (!p) {
        char v[64];
        p = mb_draw();
        seed = (unsigned)hp_random_u64();
        snprintf(v, sizeof(v), "%s:%08x", p->name, seed);
        hp_identity_set("modbus_device", v);
    }
    if (!mc->prof)
        mc->prof = p;
    mc->seed = seed;
    return 0;
}

static void mb_send(void *arg, const void *data, size_t len)
{
    hp_conn_send(arg, data, len);
}

static void mb_accept(struct hp_conn *c)
{
    const struct mb_conf *mc = hp_conn_service_cfg(c)->proto_conf;
    hp_modbus_open(c->pstate, mc->prof, mc->seed, &c->ctx, NULL, mb_send, c);
}

static void mb_after(struct hp_conn *c, struct hp_rd *in)
{
    struct hp_modbus_sess *s = c->pstate;
    if (s->close_reason) {
        hp_conn_close(c, s->close_reason);
        return;
    }
    hp_conn_set_timer(c, hp_rd_left(in) ? MB_STALE_MS : 0);
}

static void mb_data(struct hp_conn *c, struct hp_rd *in)
{
    hp_modbus_input(c->pstate, in, false);
    mb_after(c, in);
}

static void mb_timer(struct hp_conn *c)
{
    size_t n;
    const uint8_t *p = hp_conn_input(c, &n);
    struct hp_rd in;
    hp_rd_init(&in, p, n);
    hp_modbus_input(c->pstate, &in, true);
    hp_conn_consume(c, hp_rd_pos(&in));
    mb_after(c, &in);
}

const struct hp_proto hp_proto_modbus = {
    .name = "modbus",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "502",
    .conn_state_size = sizeof(struct hp_modbus_sess),
    .default_max_input = 256 * 1024,
    .configure = mb_configure,
    .unconfigure = mb_unconfigure,
    .start = mb_start,
    .on_accept = mb_accept,
    .on_data = mb_data,
    .on_timer = mb_timer,
};
