/*
 * s7.c - a Siemens S7-300 CPU as S7comm clients see it on ISO-on-TCP (102).
 *
 * Layers, each read through hp_rd: TPKT (RFC 1006: version 3, length),
 * COTP (ISO 8073 class 0: connection request / confirm, data TPDUs), S7comm
 * (protocol id 0x32, a header, parameters and data whose lengths must add up
 * to the TPDU exactly).  The dialogue a real CPU has:
 *
 *   COTP CR  -> CC echoing the TSAPs (any rack/slot is accepted; both are
 *               logged) and a TPDU size of at most 1024
 *   setup communication (job 0xF0) -> the PDU size: min(asked, profile's)
 *   userdata "read SZL" -> SZL 0x0011 / 0x0111 (module identification:
 *               order number, hardware, firmware) and 0x001C / 0x011C
 *               (component identification: system name, module name, plant
 *               identification, copyright "Original Siemens Equipment",
 *               serial number, module type, memory card serial), as many
 *               records as fit in the PDU; any other SZL id: error 0xD401
 *   read var / write var -> each item "object does not exist" (DB) or
 *               "address out of range"; download, upload, PLC control and
 *               stop -> header error 0x8104 (context not supported), which
 *               is what a CPU says to functions it will not run
 *
 * Anything malformed (bad TPKT version or length, lengths that do not add
 * up, a data TPDU before the connection or an S7 job before setup, TPDUs
 * split over several frames) closes the connection without an answer, as
 * the CPU's CP does.  Every request (the COTP connect included) is one
 * command.input event.
 *
 * The CPU family and the names are a per-sensor draw kept in the identity
 * file as s7_plc = "<profile>:<seed>": the names are derived from the seed,
 * so one short line keeps the whole PLC identity stable across restarts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "conn.h"
#include "event.h"
#include "identity.h"
#include "proto.h"
#include "s7.h"
#include "util.h"

/* ---- profiles and identities ---------------------------------------------------------- */

static const struct hp_s7_profile s7_profiles[] = {
    { "cpu315pn", "CPU 315-2 PN/DP", "6ES7 315-2EH14-0AB0", { 3, 2, 6 }, 240, 5 },
    { "cpu317pn", "CPU 317-2 PN/DP", "6ES7 317-2EK14-0AB0", { 3, 2, 8 }, 240, 2 },
    { "cpu314c", "CPU 314C-2 PN/DP", "6ES7 314-6EH04-0AB0", { 3, 3, 10 }, 240, 2 },
    { "cpu315dp", "CPU 315-2 DP", "6ES7 315-2AG10-0AB0", { 2, 6, 11 }, 240, 2 },
    { "cpu319", "CPU 319-3 PN/DP", "6ES7 318-3EL01-0AB0", { 3, 2, 8 }, 240, 1 },
};

const struct hp_s7_profile *hp_s7_profiles(size_t *n)
{
    *n = HP_ARRAY_LEN(s7_profiles);
    return s7_profiles;
}

const struct hp_s7_profile *hp_s7_profile_find(const char *name)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(s7_profiles); i++)
        if (strcmp(s7_profiles[i].name, name) == 0)
            return &s7_profiles[i];
    return NULL;
}

/* splitmix64: a reproducible stream from the seed. */
static uint64_t s7_next(uint64_t *st)
{
    uint64_t z = (*st += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned s7_pick(uint64_t *st, unsigned n) { return (unsigned)(s7_next(st) % n); }

void hp_s7_ident_make(struct hp_s7_ident *id, const struct hp_s7_profile *prof, uint64_t seed)
{
    static const char *const sites[] = { "Pumpstation", "PS", "Hochbehaelter", "Klaeranlage", "WWTP",
                                         "Kesselhaus", "Boiler House", "Line", "Linie", "Station",
                                         "Wasserwerk", "Substation", "Compressor", "Silo" };
    static const char *const where[] = { "Nord", "Sued", "Ost", "West", "North", "South", "East", "West",
                                         "Mitte", "Alt", "Neu", "Ring" };
    static const char *const systems[] = { "SIMATIC 300(1)", "SIMATIC 300(1)", "SIMATIC 300", "SIMATIC 300(2)",
                                           "S7-300 Station", "S7_300" };
    uint64_t st = seed;
    memset(id, 0, sizeof(*id));
    id->prof = prof;
    const char *site = sites[s7_pick(&st, HP_ARRAY_LEN(sites))];
    const char *loc = where[s7_pick(&st, HP_ARRAY_LEN(where))];
    unsigned num = 1 + s7_pick(&st, 12);
    switch (s7_pick(&st, 3)) {
    case 0: snprintf(id->plant, sizeof(id->plant), "%s %s", site, loc); break;
    case 1: snprintf(id->plant, sizeof(id->plant), "%s %u", site, num); break;
    default: snprintf(id->plant, sizeof(id->plant), "%s_%s_%u", site, loc, num); break;
    }
    if (s7_pick(&st, 3) == 0)
        snprintf(id->system_name, sizeof(id->system_name), "%.14s_%u", site, num);
    else
        snprintf(id->system_name, sizeof(id->system_name), "%s", systems[s7_pick(&st, HP_ARRAY_LEN(systems))]);
    if (s7_pick(&st, 4) == 0)
        snprintf(id->module_name, sizeof(id->module_name), "PLC_%u", num);
    else
        snprintf(id->module_name, sizeof(id->module_name), "%s", prof->module_type);
    /* "S C-" + letter digit letter, five digits, a year: the printed label's shape. */
    static const char al[] = "ABCDEFGHJKLMNPRSTUVWXYZ";
    char sn[16];
    sn[0] = al[s7_pick(&st, sizeof(al) - 1)];
    sn[1] = (char)('0' + s7_pick(&st, 10));
    sn[2] = al[s7_pick(&st, sizeof(al) - 1)];
    for (int i = 3; i < 8; i++)
        sn[i] = (char)('0' + s7_pick(&st, 10));
    snprintf(sn + 8, 8, "%04u", 2008 + s7_pick(&st, 8));
    snprintf(id->serial, sizeof(id->serial), "S C-%s", sn);
    snprintf(id->mmc_serial, sizeof(id->mmc_serial), "MMC %08X", (unsigned)s7_next(&st));
}

/* ---- answers --------------------------------------------------------------------------- */

/* One answer being built: TPKT and COTP headers are filled in by s7_send. */
struct s7_msg {
    uint8_t b[HP_S7_TPKT_MAX];
    size_t len;
};

static void s7_put(struct s7_msg *m, const void *p, size_t n)
{
    if (n > sizeof(m->b) - m->len)
        n = sizeof(m->b) - m->len;     /* not reached: answers are sized to the PDU */
    memcpy(m->b + m->len, p, n);
    m->len += n;
}

static void s7_u8(struct s7_msg *m, uint8_t v) { s7_put(m, &v, 1); }

static void s7_u16(struct s7_msg *m, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    s7_put(m, b, 2);
}

/* A fixed-width text field, padded with 'pad' (spaces in 0x0011, NULs in 0x001C). */
static void s7_text(struct s7_msg *m, const char *s, size_t width, uint8_t pad)
{
    size_t n = strlen(s);
    if (n > width)
        n = width;
    s7_put(m, s, n);
    for (size_t i = n; i < width; i++)
        s7_u8(m, pad);
}

static void s7_set16(struct s7_msg *m, size_t at, size_t v)
{
    m->b[at] = (uint8_t)(v >> 8);
    m->b[at + 1] = (uint8_t)v;
}

/* Start a DT TPDU: TPKT (length patched by s7_send) and COTP data, last unit. */
static void s7_begin(struct s7_msg *m)
{
    static const uint8_t hdr[7] = { 3, 0, 0, 0, 2, 0xF0, 0x80 };
    m->len = 0;
    s7_put(m, hdr, sizeof(hdr));
}

static void s7_send(struct hp_s7_sess *s, struct s7_msg *m)
{
    s7_set16(m, 2, m->len);
    s->out(s->out_arg, m->b, m->len);
}

/* S7 header of an answer; the parameter and data lengths are patched later (offsets 13, 15). */
static void s7_header(struct s7_msg *m, uint8_t rosctr, uint16_t ref, uint16_t err)
{
    s7_u8(m, 0x32);
    s7_u8(m, rosctr);
    s7_u16(m, 0);
    s7_u16(m, ref);
    s7_u16(m, 0);
    s7_u16(m, 0);
    if (rosctr == 2 || rosctr == 3)
        s7_u16(m, err);
}

static void s7_lengths(struct s7_msg *m, size_t param_at, size_t data_at)
{
    s7_set16(m, 13, data_at - param_at);
    s7_set16(m, 15, m->len - data_at);
}

/* ---- SZL records ------------------------------------------------------------------------ */

#define S7_SZL_HDR 8                   /* id, index, record length, count */

/* SZL 0x0011 record (28 bytes): index, order number (20), type, version words. */
static void s7_rec11(struct s7_msg *m, const struct hp_s7_ident *id, uint16_t idx)
{
    s7_u16(m, idx);
    switch (idx) {
    case 1: case 6:
        s7_text(m, id->prof->order, 20, ' ');
        s7_u16(m, 0);
        s7_u16(m, 0x0001);
        s7_u16(m, idx == 1 ? 0x0001 : 0x0000);
        break;
    case 7:                            /* firmware: 'V' major, minor, patch */
        s7_text(m, "", 20, ' ');
        s7_u16(m, 0);
        s7_u16(m, (uint16_t)(0x5600 | id->prof->fw[0]));
        s7_u16(m, (uint16_t)(id->prof->fw[1] << 8 | id->prof->fw[2]));
        break;
    default:                           /* 0x81: the boot loader */
        s7_text(m, "Boot Loader", 20, ' ');
        s7_u16(m, 0);
        s7_u16(m, 0x4127);
        s7_u16(m, 0x1202);
        break;
    }
}

static const uint16_t s7_idx11[] = { 1, 6, 7, 0x81 };
static const uint16_t s7_idx1c[] = { 1, 2, 3, 4, 5, 7, 8, 9, 10, 11 };

/* SZL 0x001C record (34 bytes): index and 32 bytes of text or words. */
static void s7_rec1c(struct s7_msg *m, const struct hp_s7_ident *id, uint16_t idx)
{
    s7_u16(m, idx);
    switch (idx) {
    case 1: s7_text(m, id->system_name, 32, 0); break;
    case 2: s7_text(m, id->module_name, 32, 0); break;
    case 3: s7_text(m, id->plant, 32, 0); break;
    case 4: s7_text(m, "Original Siemens Equipment", 32, 0); break;
    case 5: s7_text(m, id->serial, 32, 0); break;
    case 7: s7_text(m, id->prof->module_type, 32, 0); break;
    case 8: s7_text(m, id->mmc_serial, 32, 0); break;
    case 9:                            /* manufacturer 0x002A (Siemens), profile 0xF600 */
        s7_u16(m, 0x002A);
        s7_u16(m, 0xF600);
        s7_u16(m, 0x0001);
        s7_text(m, "", 26, 0);
        break;
    default: s7_text(m, "", 32, 0); break;   /* OEM id, location: empty */
    }
}

static bool s7_has(const uint16_t *set, size_t n, uint16_t idx)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == idx)
            return true;
    return false;
}

/*
 * The SZL answer's data after "FF 09 len": 0 if the id/index is not served.
 * 0x00xx: all records (as many as fit in 'room'); 0x01xx: the one at index.
 */
static size_t s7_szl(struct s7_msg *m, const struct hp_s7_ident *id, uint16_t szl, uint16_t idx, size_t room)
{
    bool all = (szl >> 8) == 0x00, one = (szl >> 8) == 0x01;
    unsigned low = szl & 0xFF;
    const uint16_t *set = low == 0x11 ? s7_idx11 : s7_idx1c;
    size_t nset = low == 0x11 ? HP_ARRAY_LEN(s7_idx11) : HP_ARRAY_LEN(s7_idx1c);
    size_t rl = low == 0x11 ? 28 : 34;
    if ((low != 0x11 && low != 0x1C) || (!all && !one) || (one && !s7_has(set, nset, idx)))
        return 0;
    size_t n = one ? 1 : nset;
    if (room < S7_SZL_HDR + rl)
        return 0;
    if (S7_SZL_HDR + n * rl > room)
        n = (room - S7_SZL_HDR) / rl;
    s7_u16(m, szl);
    s7_u16(m, idx);
    s7_u16(m, (uint16_t)rl);
    s7_u16(m, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        uint16_t x = one ? idx : set[i];
        if (low == 0x11)
            s7_rec11(m, id, x);
        else
            s7_rec1c(m, id, x);
    }
    return S7_SZL_HDR + n * rl;
}

/* ---- requests --------------------------------------------------------------------------- */

/* What command.input says about one request. */
struct s7_note {
    char text[256];
    const char *command;
    int szl_id, szl_index;             /* -1: none */
    int pdu_size;
    const char *error;                 /* what was answered when it was an error */
};

static void s7_textf(struct s7_note *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s7_textf(struct s7_note *n, const char *fmt, ...)
{
    size_t used = strlen(n->text);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->text + used, sizeof(n->text) - used, fmt, ap);
    va_end(ap);
}

static void s7_event(struct hp_s7_sess *s, const struct s7_note *n, const char *src_tsap, const char *dst_tsap)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "command.input");
    hp_ev_str(&ev, "input", n->text);
    hp_ev_str(&ev, "command", n->command);
    if (src_tsap) {
        hp_ev_str(&ev, "src_tsap", src_tsap);
        hp_ev_str(&ev, "dst_tsap", dst_tsap);
    }
    if (n->szl_id >= 0) {
        char b[16];
        snprintf(b, sizeof(b), "0x%04X", (unsigned)n->szl_id & 0xFFFF);
        hp_ev_str(&ev, "szl_id", b);
        snprintf(b, sizeof(b), "0x%04X", (unsigned)n->szl_index & 0xFFFF);
        hp_ev_str(&ev, "szl_index", b);
    }
    if (n->pdu_size)
        hp_ev_uint(&ev, "pdu_size", (uint64_t)n->pdu_size);
    if (n->error)
        hp_ev_str(&ev, "answer", n->error);
    s->requests++;
    if (s->emit)
        s->emit(&ev);
    else
        hp_ev_emit(&ev);
}

static void s7_fail(struct hp_s7_sess *s, const char *why)
{
    s->state = HP_S7_DONE;
    s->close_reason = why;
}

/* TSAP parameter value as hex text ("0102"), at most 8 bytes shown. */
static void s7_tsap(const uint8_t *p, size_t n, char *out, size_t outlen)
{
    out[0] = 0;
    for (size_t i = 0; i < n && i < 8 && 2 * i + 3 <= outlen; i++)
        snprintf(out + 2 * i, outlen - 2 * i, "%02x", p[i]);
}

/* COTP CR (after the type byte): answer CC echoing the TSAPs. */
static void s7_cotp_cr(struct hp_s7_sess *s, struct hp_rd *c)
{
    uint16_t dref = hp_rd_u16be(c), sref = hp_rd_u16be(c);
    uint8_t cls = hp_rd_u8(c);
    (void)dref;
    const uint8_t *src = NULL, *dst = NULL;
    size_t srcl = 0, dstl = 0;
    int tpdu = -1;
    while (hp_rd_ok(c) && hp_rd_left(c) > 0) {
        uint8_t code = hp_rd_u8(c);
        struct hp_rd v;
        if (!hp_rd_sub8(c, &v))
            break;
        if (code == 0xC1 && !src)
            srcl = hp_rd_left(&v), src = hp_rd_bytes(&v, srcl);
        else if (code == 0xC2 && !dst)
            dstl = hp_rd_left(&v), dst = hp_rd_bytes(&v, dstl);
        else if (code == 0xC0 && hp_rd_left(&v) == 1)
            tpdu = hp_rd_u8(&v);
    }
    if (!hp_rd_ok(c) || (cls >> 4) != 0) {
        s7_fail(s, "s7_bad_cotp");
        return;
    }
    char st[20], dt[20];
    s7_tsap(src, srcl, st, sizeof(st));
    s7_tsap(dst, dstl, dt, sizeof(dt));
    struct s7_note n = { .command = "cotp_connect", .szl_id = -1 };
    s7_textf(&n, "cotp_connect src_tsap=%s dst_tsap=%s", st, dt);
    if (tpdu >= 0)
        s7_textf(&n, " tpdu_size=%u", tpdu >= 7 && tpdu <= 13 ? 1u << tpdu : 0u);
    s7_event(s, &n, st, dt);
    if (!src || !dst) {
        s7_fail(s, "s7_no_tsap");      /* nothing to route the connection to */
        return;
    }

    struct s7_msg m;
    static const uint8_t tpkt[4] = { 3, 0, 0, 0 };
    m.len = 0;
    s7_put(&m, tpkt, 4);
    s7_u8(&m, 0);                      /* LI, patched */
    s7_u8(&m, 0xD0);
    s7_u16(&m, sref);
    s7_u16(&m, 0x0044);
    s7_u8(&m, 0);
    if (tpdu >= 0) {
        uint8_t t[3] = { 0xC0, 1, (uint8_t)(tpdu > 0x0A || tpdu < 7 ? 0x0A : tpdu) };
        s7_put(&m, t, 3);
    }
    if (src) {
        s7_u8(&m, 0xC1), s7_u8(&m, (uint8_t)srcl);
        s7_put(&m, src, srcl);
    }
    if (dst) {
        s7_u8(&m, 0xC2), s7_u8(&m, (uint8_t)dstl);
        s7_put(&m, dst, dstl);
    }
    m.b[4] = (uint8_t)(m.len - 5);
    s7_send(s, &m);
    s->state = HP_S7_SETUP;
}

/* Job 0xF0: setup communication. */
static void s7_setup(struct hp_s7_sess *s, uint16_t ref, struct hp_rd *par)
{
    hp_rd_skip(par, 2);                /* function, reserved */
    uint16_t caller = hp_rd_u16be(par), callee = hp_rd_u16be(par), pdu = hp_rd_u16be(par);
    if (!hp_rd_ok(par) || pdu < 64) {
        s7_fail(s, "s7_bad_setup");
        return;
    }
    (void)caller, (void)callee;
    s->pdu = pdu < s->id->prof->pdu_max ? pdu : s->id->prof->pdu_max;
    struct s7_note n = { .command = "setup_communication", .szl_id = -1, .pdu_size = pdu };
    s7_textf(&n, "setup_communication pdu_size=%u", pdu);
    s7_event(s, &n, NULL, NULL);
    struct s7_msg m;
    s7_begin(&m);
    s7_header(&m, 3, ref, 0);
    size_t pa = m.len;
    s7_u8(&m, 0xF0), s7_u8(&m, 0);
    s7_u16(&m, 1), s7_u16(&m, 1), s7_u16(&m, s->pdu);
    s7_lengths(&m, pa, m.len);
    s7_send(s, &m);
    s->state = HP_S7_READY;
}

static const char *s7_area(uint8_t a)
{
    switch (a) {
    case 0x81: return "I";
    case 0x82: return "Q";
    case 0x83: return "M";
    case 0x84: return "DB";
    case 0x1C: return "C";
    case 0x1D: return "T";
    case 0x80: return "P";
    default: return "?";
    }
}

/* Read var (0x04) / write var (0x05): items "S7ANY" 12 0A 10 type count db area address. */
static void s7_var(struct hp_s7_sess *s, uint16_t ref, uint8_t fn, struct hp_rd *par, struct hp_rd *data)
{
    hp_rd_skip(par, 1);
    unsigned nitems = hp_rd_u8(par);
    struct s7_note n = { .command = fn == 4 ? "read_var" : "write_var", .szl_id = -1 };
    s7_textf(&n, "%s", n.command);
    uint8_t codes[20];
    unsigned i;
    for (i = 0; i < nitems && i < 20; i++) {
        uint8_t spec = hp_rd_u8(par), ilen = hp_rd_u8(par);
        struct hp_rd it;
        if (!hp_rd_sub(par, ilen, &it) || spec != 0x12)
            break;
        uint8_t syn = hp_rd_u8(&it), type = hp_rd_u8(&it);
        unsigned cnt = hp_rd_u16be(&it), db = hp_rd_u16be(&it), area = hp_rd_u8(&it);
        uint32_t addr = hp_rd_u24be(&it);
        if (!hp_rd_ok(&it) || syn != 0x10) {
            s7_textf(&n, " item%u", i);
            codes[i] = 0x05;
            continue;
        }
        if (area == 0x84)
            s7_textf(&n, " DB%u.%u.%u", db, addr >> 3, addr & 7);
        else
            s7_textf(&n, " %s%u.%u", s7_area((uint8_t)area), addr >> 3, addr & 7);
        s7_textf(&n, "*%u/t%u", cnt, type);
        codes[i] = area == 0x84 ? 0x0A : 0x05;    /* object does not exist / address out of range */
    }
    if (!hp_rd_ok(par) || i == 0 || i != nitems) {
        s7_fail(s, "s7_bad_item");
        return;
    }
    if (fn == 5 && hp_rd_left(data)) {
        size_t dl = hp_rd_left(data);
        const uint8_t *d = hp_rd_ptr(data);
        s7_textf(&n, " data=");
        for (size_t k = 0; k < dl && k < 64; k++)
            s7_textf(&n, "%02x", d[k]);
    }
    n.error = codes[0] == 0x0A ? "object_does_not_exist" : "address_out_of_range";
    s7_event(s, &n, NULL, NULL);
    struct s7_msg m;
    s7_begin(&m);
    s7_header(&m, 3, ref, 0);
    size_t pa = m.len;
    s7_u8(&m, fn), s7_u8(&m, (uint8_t)nitems);
    size_t da = m.len;
    for (i = 0; i < nitems; i++) {
        s7_u8(&m, codes[i]);
        if (fn == 4)
            s7_u8(&m, 0), s7_u16(&m, 0);
    }
    s7_lengths(&m, pa, da);
    s7_send(s, &m);
}

/* The PI service or block name in a control / stop / transfer job: its printable tail. */
static void s7_name(const uint8_t *p, size_t n, char *out, size_t outlen)
{
    size_t end = n, start;
    while (end > 0 && (p[end - 1] < 0x21 || p[end - 1] > 0x7e))
        end--;
    start = end;
    while (start > 0 && p[start - 1] >= 0x21 && p[start - 1] <= 0x7e && end - start < 32)
        start--;
    snprintf(out, outlen, "%.*s", (int)(end - start), (const char *)p + start);
}

static const char *s7_jobname(uint8_t fn)
{
    switch (fn) {
    case 0x1A: return "request_download";
    case 0x1B: return "download_block";
    case 0x1C: return "download_ended";
    case 0x1D: return "start_upload";
    case 0x1E: return "upload";
    case 0x1F: return "end_upload";
    case 0x28: return "plc_control";
    case 0x29: return "plc_stop";
    default: return "job";
    }
}

/* Jobs the CPU refuses: header error class 0x81 code 0x04 (context not supported). */
static void s7_refuse(struct hp_s7_sess *s, uint16_t ref, uint8_t fn, struct hp_rd *par)
{
    char name[40];
    s7_name(hp_rd_ptr(par), hp_rd_left(par), name, sizeof(name));
    struct s7_note n = { .command = s7_jobname(fn), .szl_id = -1, .error = "0x8104" };
    s7_textf(&n, "%s", n.command);
    if (strcmp(n.command, "job") == 0)
        s7_textf(&n, " function=0x%02x", fn);
    if (name[0])
        s7_textf(&n, " %s", name);
    s7_event(s, &n, NULL, NULL);
    struct s7_msg m;
    s7_begin(&m);
    s7_header(&m, 3, ref, 0x8104);
    size_t pa = m.len;
    s7_u8(&m, fn);
    s7_lengths(&m, pa, m.len);
    s7_send(s, &m);
}

static const char *s7_group(unsigned g)
{
    switch (g) {
    case 1: return "programmer_commands";
    case 2: return "cyclic_data";
    case 3: return "block_functions";
    case 4: return "cpu_functions";
    case 5: return "security";
    case 6: return "pbc_bsend";
    case 7: return "time_functions";
    default: return "userdata";
    }
}

/* Userdata (ROSCTR 7): SZL reads are served, other groups get error 0x8104. */
static void s7_userdata(struct hp_s7_sess *s, uint16_t ref, struct hp_rd *par, struct hp_rd *data)
{
    uint8_t head[3] = { 0 };
    hp_rd_copy(par, head, 3);
    unsigned plen = hp_rd_u8(par), method = hp_rd_u8(par), tg = hp_rd_u8(par);
    unsigned sub = hp_rd_u8(par), seq = hp_rd_u8(par);
    if (!hp_rd_ok(par) || head[0] != 0 || head[1] != 1 || head[2] != 0x12 || (plen != 4 && plen != 8) ||
        method != 0x11 || (tg >> 4) != 4) {
        s7_fail(s, "s7_bad_userdata");
        return;
    }
    unsigned group = tg & 0x0F;
    struct s7_note n = { .command = s7_group(group), .szl_id = -1 };
    uint16_t err = 0;
    struct s7_msg m;
    s7_begin(&m);
    s7_header(&m, 7, ref, 0);
    size_t pa = m.len;
    uint8_t rp[8] = { 0, 1, 0x12, 8, 0x12, (uint8_t)(0x80 | group), (uint8_t)sub, (uint8_t)seq };
    s7_put(&m, rp, 8);
    s7_u16(&m, 0);                     /* data unit reference, last data unit */
    size_t errat = m.len;
    s7_u16(&m, 0);
    size_t da = m.len;
    if (group == 4 && sub == 1) {
        hp_rd_skip(data, 4);           /* return code, transport size, length */
        uint16_t szl = hp_rd_u16be(data), idx = hp_rd_u16be(data);
        n.command = "read_szl";
        n.szl_id = szl, n.szl_index = idx;
        s7_textf(&n, "read_szl id=0x%04X index=0x%04X", szl, idx);
        size_t room = s->pdu > 10 + 12 + 4 ? (size_t)s->pdu - (10 + 12 + 4) : 0;
        s7_u8(&m, 0xFF), s7_u8(&m, 0x09), s7_u16(&m, 0);
        size_t got = hp_rd_ok(data) ? s7_szl(&m, s->id, szl, idx, room) : 0;
        if (got)
            s7_set16(&m, da + 2, got);
        else {
            m.len = da;
            err = 0xD401;              /* the SZL id or index is not available */
        }
    } else {
        s7_textf(&n, "%s sub=%u", n.command, sub);
        err = 0x8104;
    }
    if (err) {
        char e[8];
        snprintf(e, sizeof(e), "0x%04X", err);
        n.error = e;
        s7_set16(&m, errat, err);
        s7_u8(&m, 0x0A), s7_u8(&m, 0), s7_u16(&m, 0);
        s7_event(s, &n, NULL, NULL);
    } else
        s7_event(s, &n, NULL, NULL);
    s7_lengths(&m, pa, da);
    s7_send(s, &m);
}

/* One S7comm PDU (the payload of a DT TPDU): the lengths must add up exactly. */
static void s7_pdu(struct hp_s7_sess *s, struct hp_rd *p)
{
    uint8_t proto = hp_rd_u8(p), rosctr = hp_rd_u8(p);
    hp_rd_skip(p, 2);
    uint16_t ref = hp_rd_u16be(p), plen = hp_rd_u16be(p), dlen = hp_rd_u16be(p);
    struct hp_rd par, data;
    if (!hp_rd_ok(p) || proto != 0x32 || (rosctr != 1 && rosctr != 7) || plen < 1 ||
        !hp_rd_sub(p, plen, &par) || !hp_rd_sub(p, dlen, &data) || hp_rd_left(p) != 0) {
        s7_fail(s, "s7_bad_pdu");
        return;
    }
    uint8_t fn = (uint8_t)hp_rd_peek_u8(&par, 0);
    if (s->state == HP_S7_SETUP && !(rosctr == 1 && fn == 0xF0)) {
        s7_fail(s, "s7_no_setup");     /* a CPU drops a client that skips setup */
        return;
    }
    if (rosctr == 7) {
        s7_userdata(s, ref, &par, &data);
        return;
    }
    switch (fn) {
    case 0xF0: s7_setup(s, ref, &par); break;
    case 0x04: case 0x05: s7_var(s, ref, fn, &par, &data); break;
    default: s7_refuse(s, ref, fn, &par); break;
    }
}

void hp_s7_open(struct hp_s7_sess *s, const struct hp_s7_ident *id, const struct hp_evctx *ctx,
                hp_s7_emit_fn emit, hp_s7_out_fn out, void *arg)
{
    memset(s, 0, sizeof(*s));
    s->id = id;
    s->ctx = ctx;
    s->emit = emit;
    s->out = out;
    s->out_arg = arg;
    s->state = HP_S7_COTP;
    s->pdu = 240;
}

/* One TPKT: COTP CR, DT (carrying S7comm) or DR. */
static void s7_tpkt(struct hp_s7_sess *s, struct hp_rd *tp)
{
    hp_rd_skip(tp, 4);
    struct hp_rd cotp;
    if (!hp_rd_sub8(tp, &cotp) || hp_rd_left(&cotp) < 1) {
        s7_fail(s, "s7_bad_cotp");
        return;
    }
    uint8_t type = hp_rd_u8(&cotp) & 0xF0;
    switch (type) {
    case 0xE0:
        if (s->state != HP_S7_COTP || hp_rd_left(tp) != 0) {
            s7_fail(s, "s7_bad_cotp");
            return;
        }
        s7_cotp_cr(s, &cotp);
        break;
    case 0xF0:
        if (s->state == HP_S7_COTP || (hp_rd_u8(&cotp) & 0x80) == 0 || !hp_rd_ok(&cotp)) {
            s7_fail(s, s->state == HP_S7_COTP ? "s7_not_connected" : "s7_segmented");
            return;
        }
        s7_pdu(s, tp);
        break;
    case 0x80:
        s7_fail(s, "s7_disconnect");
        break;
    default:
        s7_fail(s, "s7_bad_cotp");
    }
}

void hp_s7_input(struct hp_s7_sess *s, struct hp_rd *in)
{
    while (!s->close_reason && hp_rd_left(in) >= 4) {
        int ver = hp_rd_peek_u8(in, 0);
        size_t len = (size_t)hp_rd_peek_u8(in, 2) << 8 | (size_t)hp_rd_peek_u8(in, 3);
        if (ver != 3 || len < 7 || len > HP_S7_TPKT_MAX) {
            s7_fail(s, "s7_bad_tpkt");
            break;
        }
        if (hp_rd_left(in) < len)
            return;                    /* the rest of the TPKT stays buffered */
        struct hp_rd tp;
        hp_rd_sub(in, len, &tp);
        s7_tpkt(s, &tp);
    }
    if (s->close_reason)
        hp_rd_skip(in, hp_rd_left(in));
}

/* ---- the protocol module ------------------------------------------------------------------ */

struct s7_conf {
    const struct hp_s7_profile *prof;  /* configured (else the identity's) */
    char *plant;                       /* configured plant identification */
    struct hp_s7_ident id;             /* after start() */
};

static int s7_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct s7_conf *sc = hp_xcalloc(1, sizeof(*sc));
    svc->proto_conf = sc;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        if (strcmp(kv->key, "profile") == 0) {
            sc->prof = hp_s7_profile_find(kv->value);
            if (!sc->prof) {
                snprintf(err, errlen, "%d: [service %s]: unknown s7comm profile '%s'", kv->line, svc->name,
                         kv->value);
                return -1;
            }
        } else if (strcmp(kv->key, "plant") == 0) {
            if (strlen(kv->value) > 32) {
                snprintf(err, errlen, "%d: [service %s]: plant is at most 32 characters", kv->line, svc->name);
                return -1;
            }
            free(sc->plant);
            sc->plant = hp_xstrdup(kv->value);
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol s7comm)", kv->line, kv->key,
                     svc->name);
            return -1;
        }
    }
    return 0;
}

static void s7_unconfigure(struct hp_service_cfg *svc)
{
    struct s7_conf *sc = svc->proto_conf;
    if (sc)
        free(sc->plant);
    free(sc);
    svc->proto_conf = NULL;
}

static const struct hp_s7_profile *s7_draw(void)
{
    unsigned total = 0;
    for (size_t i = 0; i < HP_ARRAY_LEN(s7_profiles); i++)
        total += s7_profiles[i].weight;
    unsigned r = (unsigned)(hp_random_u64() % total);
    for (size_t i = 0; i < HP_ARRAY_LEN(s7_profiles); i++) {
        if (r < s7_profiles[i].weight)
            return &s7_profiles[i];
        r -= s7_profiles[i].weight;
    }
    return &s7_profiles[0];
}

/* s7_plc = "<profile>:<16 hex digits of seed>", drawn at first start. */
static int s7_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct s7_conf *sc = svc->proto_conf;
    const char *kept = hp_identity_get("s7_plc");
    char name[32] = "";
    unsigned long long seed = 0;
    const struct hp_s7_profile *p = NULL;
    if (kept && sscanf(kept, "%31[^:]:%16llx", name, &seed) == 2)
        p = hp_s7_profile_find(name);
    if (!p) {
        char v[64];
        p = s7_draw();
        seed = hp_random_u64();
        snprintf(v, sizeof(v), "%s:%016llx", p->name, seed);
        hp_identity_set("s7_plc", v);
    }
    hp_s7_ident_make(&sc->id, sc->prof ? sc->prof : p, seed);
    if (sc->plant)
        snprintf(sc->id.plant, sizeof(sc->id.plant), "%s", sc->plant);
    return 0;
}

static void s7_send_conn(void *arg, const void *data, size_t len)
{
    hp_conn_send(arg, data, len);
}

static void s7_accept(struct hp_conn *c)
{
    const struct s7_conf *sc = hp_conn_service_cfg(c)->proto_conf;
    hp_s7_open(c->pstate, &sc->id, &c->ctx, NULL, s7_send_conn, c);
}

static void s7_data(struct hp_conn *c, struct hp_rd *in)
{
    struct hp_s7_sess *s = c->pstate;
    hp_s7_input(s, in);
    if (s->close_reason)
        hp_conn_close(c, s->close_reason);
}

const struct hp_proto hp_proto_s7comm = {
    .name = "s7comm",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "102",
    .conn_state_size = sizeof(struct hp_s7_sess),
    .default_max_input = 256 * 1024,
    .configure = s7_configure,
    .unconfigure = s7_unconfigure,
    .start = s7_start,
    .on_accept = s7_accept,
    .on_data = s7_data,
};
