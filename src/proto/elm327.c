/*
 * elm327.c - an ELM327 v1.5 OBD-II adapter on TCP (the Wi-Fi dongles' 35000)
 * with a running car behind it.  Valpot emulated the same thing.
 *
 * Input is lines ended by CR (LF is ignored, as are spaces and case, as
 * the adapter does); the command buffer holds 128 characters, a longer line
 * is answered "?" once its CR arrives.  A bare CR repeats the last command.
 * Every answer ends in an empty line and the '>' prompt; with ATE1 (the
 * default) the command is echoed first.
 *
 *   AT commands  ATZ / ATWS ("\r\rELM327 v1.5\r\r>"), ATI, AT@1, ATE, ATL,
 *                ATS, ATH (echo, linefeeds, spaces, headers: honoured in
 *                every later answer), ATSP / ATTP, ATDP, ATDPN, ATRV, ATD,
 *                ATCS, ATIGN and the many setters real adapters answer "OK"
 *                (ATAT, ATST, ATSH, ATCAF, ATM, ATPC, ...); others "?"
 *   mode 01      PIDs 00/20/40 (bitmaps), 01, 03-07, 0B-11, 13, 1C, 1F,
 *                21, 2F, 31, 33, 42, 46, 51 from an engine model driven by
 *                the wall clock: a drive cycle with speed, RPM through the
 *                gears, warm-up of the coolant after each start
 *   mode 03/04   the profile's stored code (or none); a clear is logged as
 *                elm327.clear_dtc and sticks for the connection
 *   mode 09      00, 02 (VIN), 04 (calibration id), 0A (ECU name), sent as
 *                ISO 15765 multi-frame answers the way the adapter prints
 *                them ("014\r0: 49 02 01 ...", or raw frames with ATH1)
 *   otherwise    "?" for what is not hex, "NO DATA" for silent ECUs,
 *                7F negative responses for diagnostic services
 *
 * The car is CAN 11-bit 500 kbit/s (protocol 6): the first request after
 * ATSP0 prints "SEARCHING..." and ATDP then says so; a forced other
 * protocol gets "UNABLE TO CONNECT".  The vehicle profile and its VIN
 * (valid check digit) are drawn at first start and kept in the identity
 * file as elm327_vehicle = "<profile>:<VIN>".  Every command line is one
 * command.input event.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "conn.h"
#include "elm327.h"
#include "event.h"
#include "identity.h"
#include "proto.h"
#include "util.h"

/* ---- vehicles and VINs ----------------------------------------------------------------- */

static const struct hp_elm_vehicle elm_vehicles[] = {
    { "ford_f150", "1FTFW1ET", "DEF", "FK", "ABCDE", "DFCU-14C204-ABA", 0x01, 0, 4 },
    { "honda_accord", "1HGCR2F3", "CDE", "A", "", "37805-5A2-A630", 0x01, 0, 3 },
    { "toyota_camry", "4T1BF1FK", "CDEF", "U", "", "34715000", 0x01, 0, 3 },
    { "chevy_silverado", "1GCVKREC", "EFG", "Z", "", "12653917", 0x01, 0x0171, 2 },
    { "vw_jetta", "3VWD17AJ", "EFG", "M", "", "03C906022BN", 0x06, 0x0420, 2 },
};

const struct hp_elm_vehicle *hp_elm_vehicles(size_t *n)
{
    *n = HP_ARRAY_LEN(elm_vehicles);
    return elm_vehicles;
}

const struct hp_elm_vehicle *hp_elm_vehicle_find(const char *name)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(elm_vehicles); i++)
        if (strcmp(elm_vehicles[i].name, name) == 0)
            return &elm_vehicles[i];
    return NULL;
}

static int elm_translit(char c)
{
    static const char *const letters = "ABCDEFGHJKLMNPRSTUVWXYZ";
    static const int vals[] = { 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9 };
    if (c >= '0' && c <= '9')
        return c - '0';
    const char *p = c ? strchr(letters, c) : NULL;
    return p ? vals[p - letters] : -1;
}

char hp_elm_vin_check(const char *vin)
{
    static const int w[17] = { 8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2 };
    if (!vin || strlen(vin) != 17)
        return 0;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        int v = elm_translit(vin[i]);
        if (v < 0)
            return 0;
        sum += v * w[i];
    }
    return sum % 11 == 10 ? 'X' : (char)('0' + sum % 11);
}

void hp_elm_vin_make(const struct hp_elm_vehicle *v, uint64_t seed, char out[18])
{
    uint64_t x = seed ^ 0x5DEECE66Dull;
    x ^= x >> 29, x *= 0xBF58476D1CE4E5B9ull, x ^= x >> 32;
    memcpy(out, v->vin_prefix, 8);
    out[8] = '0';
    out[9] = v->years[x % strlen(v->years)], x /= 7;
    out[10] = v->plants[x % strlen(v->plants)], x /= 5;
    size_t lead = strlen(v->serial_lead);
    for (int i = 11; i < 17; i++, x /= 10)
        out[i] = (char)('0' + x % 10);
    if (lead)
        out[11] = v->serial_lead[(seed >> 40) % lead];
    out[17] = 0;
    out[8] = hp_elm_vin_check(out);
}

/* ---- the engine ------------------------------------------------------------------------ */

struct elm_engine {
    double runtime;                    /* s since the engine started */
    double speed, rpm, coolant, intake, load, throttle, ambient, fuel, volt;
};

static double elm_wave(double t, double period) { return sin(2.0 * M_PI * t / period); }

/* A drive cycle: the engine restarts every 90 minutes, idles while warming,
 * then drives; RPM follows the speed through five gears. */
static void elm_engine(double t, struct elm_engine *e)
{
    static const double per_kmh[6] = { 0, 110, 62, 42, 32, 26 };
    e->runtime = fmod(t, 5400.0) + 45.0;
    double sp = 55 + 35 * elm_wave(t, 240) + 12 * elm_wave(t, 37) + 5 * elm_wave(t, 11);
    if (e->runtime < 120 || sp < 4)
        sp = 0;
    e->speed = sp;
    if (sp < 1)
        e->rpm = 760 + 25 * elm_wave(t, 5) + (e->runtime < 120 ? 250 * (1 - e->runtime / 120) : 0);
    else {
        int g = sp < 15 ? 1 : sp < 30 ? 2 : sp < 50 ? 3 : sp < 70 ? 4 : 5;
        e->rpm = 800 + sp * per_kmh[g] * 0.85 + 60 * elm_wave(t, 3);
    }
    e->coolant = 18 + 72 * (1 - exp(-e->runtime / 420)) + 1.5 * elm_wave(t, 90);
    e->ambient = 16 + 6 * elm_wave(t, 86400);
    e->intake = e->ambient + 9 + 3 * elm_wave(t, 600);
    e->load = sp < 1 ? 21 + 2 * elm_wave(t, 7) : 25 + sp * 0.35 + 10 * elm_wave(t, 29);
    e->throttle = sp < 1 ? 14.5 : 16 + sp * 0.22 + 7 * elm_wave(t, 37);
    e->fuel = 78 - 55 * fmod(t / 86400.0, 1.0);
    e->volt = 14.1 + 0.15 * elm_wave(t, 13);
}

static uint8_t elm_b(double v)
{
    return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)lrint(v);
}

static const uint8_t elm_pids[] = { 0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10,
                                    0x11, 0x13, 0x1C, 0x1F, 0x20, 0x21, 0x2F, 0x31, 0x33, 0x40, 0x42, 0x46,
                                    0x51 };

static bool elm_pid_known(unsigned pid)
{
    if (pid == 0)
        return true;
    for (size_t i = 0; i < sizeof(elm_pids); i++)
        if (elm_pids[i] == pid)
            return true;
    return false;
}

/* Mode 01 data bytes of a PID into d (at most 4); 0 if the ECU does not answer it. */
static size_t elm_mode01(const struct hp_elm_sess *s, unsigned pid, double t, uint8_t *d)
{
    struct elm_engine e;
    elm_engine(t, &e);
    bool mil = s->veh->dtc && !s->cleared;
    if (!elm_pid_known(pid))
        return 0;
    unsigned v;
    switch (pid) {
    case 0x00: case 0x20: case 0x40: {
        uint32_t bits = 0;
        for (size_t i = 0; i < sizeof(elm_pids); i++)
            if (elm_pids[i] > pid && elm_pids[i] <= pid + 0x20)
                bits |= 1u << (32 - (elm_pids[i] - pid));
        d[0] = (uint8_t)(bits >> 24), d[1] = (uint8_t)(bits >> 16), d[2] = (uint8_t)(bits >> 8), d[3] = (uint8_t)bits;
        return 4;
    }
    case 0x01: d[0] = mil ? 0x81 : 0x00, d[1] = 0x07, d[2] = 0xE5, d[3] = 0x00; return 4;
    case 0x03: d[0] = e.runtime < 120 ? 0x01 : 0x02, d[1] = 0; return 2;
    case 0x04: d[0] = elm_b(e.load * 255 / 100); return 1;
    case 0x05: d[0] = elm_b(e.coolant + 40); return 1;
    case 0x06: d[0] = elm_b(128 + 3 * elm_wave(t, 2.3)); return 1;
    case 0x07: d[0] = 126; return 1;
    case 0x0B: d[0] = elm_b(28 + e.load * 0.7); return 1;
    case 0x0C: v = (unsigned)lrint(e.rpm * 4); d[0] = (uint8_t)(v >> 8), d[1] = (uint8_t)v; return 2;
    case 0x0D: d[0] = elm_b(e.speed); return 1;
    case 0x0E: d[0] = elm_b((10 + e.speed / 10 + 64) * 2); return 1;
    case 0x0F: d[0] = elm_b(e.intake + 40); return 1;
    case 0x10: v = (unsigned)lrint(e.rpm * e.load / 1300 * 100); d[0] = (uint8_t)(v >> 8), d[1] = (uint8_t)v; return 2;
    case 0x11: d[0] = elm_b(e.throttle * 255 / 100); return 1;
    case 0x13: d[0] = 0x03; return 1;
    case 0x1C: d[0] = s->veh->obd_standard; return 1;
    case 0x1F: v = (unsigned)e.runtime; d[0] = (uint8_t)(v >> 8), d[1] = (uint8_t)v; return 2;
    case 0x21: d[0] = 0, d[1] = mil ? 0x2A : 0; return 2;
    case 0x2F: d[0] = elm_b(e.fuel * 255 / 100); return 1;
    case 0x31: v = 1200 + (unsigned)fmod(t / 3600.0 * 40, 20000); d[0] = (uint8_t)(v >> 8), d[1] = (uint8_t)v; return 2;
    case 0x33: d[0] = 101; return 1;
    case 0x42: v = (unsigned)lrint(e.volt * 1000); d[0] = (uint8_t)(v >> 8), d[1] = (uint8_t)v; return 2;
    case 0x46: d[0] = elm_b(e.ambient + 40); return 1;
    case 0x51: d[0] = 0x01; return 1;
    }
    return 0;
}

/* ---- answers ------------------------------------------------------------------------- */

/* One answer: lines, each ended by CR (CR LF with ATL1). */
struct elm_out {
    char b[1024];
    size_t len;
};

static void elm_raw(struct elm_out *o, const char *p, size_t n)
{
    if (n == 0)
        return;
    if (n > sizeof(o->b) - o->len)
        n = sizeof(o->b) - o->len;     /* not reached: answers are a few lines */
    memcpy(o->b + o->len, p, n);
    o->len += n;
}

static void elm_eol(const struct hp_elm_sess *s, struct elm_out *o)
{
    elm_raw(o, s->linefeed ? "\r\n" : "\r", s->linefeed ? 2 : 1);
}

static void elm_line(const struct hp_elm_sess *s, struct elm_out *o, const char *text)
{
    elm_raw(o, text, strlen(text));
    elm_eol(s, o);
}

/* Bytes as the adapter prints them: "41 0C 1A F8 " (ATS1) or "410C1AF8" (ATS0). */
static void elm_hex(const struct hp_elm_sess *s, struct elm_out *o, const uint8_t *p, size_t n)
{
    char b[4];
    for (size_t i = 0; i < n; i++) {
        snprintf(b, sizeof(b), s->spaces ? "%02X " : "%02X", p[i]);
        elm_raw(o, b, strlen(b));
    }
}

/* An ECU answer of n bytes from 7E8: one frame, or an ISO 15765 multi-frame
 * message (first frame 6 bytes, consecutive frames 7 each). */
static void elm_ecu(const struct hp_elm_sess *s, struct elm_out *o, const uint8_t *p, size_t n)
{
    const char *hdr = s->spaces ? "7E8 " : "7E8";
    if (n <= 7) {
        if (s->headers) {
            uint8_t pci = (uint8_t)n;
            elm_raw(o, hdr, strlen(hdr));
            elm_hex(s, o, &pci, 1);
        }
        elm_hex(s, o, p, n);
        elm_eol(s, o);
        return;
    }
    char b[16];
    if (s->headers) {
        uint8_t ff[2] = { (uint8_t)(0x10 | (n >> 8)), (uint8_t)n };
        elm_raw(o, hdr, strlen(hdr));
        elm_hex(s, o, ff, 2);
    } else {
        snprintf(b, sizeof(b), "%03zX", n);
        elm_line(s, o, b);
        elm_raw(o, s->spaces ? "0: " : "0:", s->spaces ? 3 : 2);
    }
    elm_hex(s, o, p, 6);
    elm_eol(s, o);
    unsigned seq = 1;
    for (size_t off = 6; off < n; off += 7, seq++) {
        size_t k = n - off < 7 ? n - off : 7;
        if (s->headers) {
            uint8_t cf = (uint8_t)(0x20 | (seq & 0x0F));
            elm_raw(o, hdr, strlen(hdr));
            elm_hex(s, o, &cf, 1);
        } else {
            snprintf(b, sizeof(b), s->spaces ? "%X: " : "%X:", seq & 0x0F);
            elm_raw(o, b, strlen(b));
        }
        elm_hex(s, o, p + off, k);
        elm_eol(s, o);
    }
}

static void elm_emit(struct hp_elm_sess *s, struct hp_ev *ev)
{
    if (s->emit)
        s->emit(ev);
    else
        hp_ev_emit(ev);
}

/* ---- AT commands ----------------------------------------------------------------------- */

static const char *elm_proto_name(char p)
{
    switch (p) {
    case '1': return "SAE J1850 PWM";
    case '2': return "SAE J1850 VPW";
    case '3': return "ISO 9141-2";
    case '4': return "ISO 14230-4 (KWP 5BAUD)";
    case '5': return "ISO 14230-4 (KWP FAST)";
    case '6': return "ISO 15765-4 (CAN 11/500)";
    case '7': return "ISO 15765-4 (CAN 29/500)";
    case '8': return "ISO 15765-4 (CAN 11/250)";
    case '9': return "ISO 15765-4 (CAN 29/250)";
    case 'A': return "SAE J1939 (CAN 29/250)";
    case 'B': return "USER1 (CAN 11/125)";
    case 'C': return "USER2 (CAN 11/50)";
    default: return "AUTO";
    }
}

static void elm_defaults(struct hp_elm_sess *s, bool full)
{
    if (full)
        s->echo = true, s->linefeed = false;
    s->spaces = true;
    s->headers = false;
    s->protocol = '0';
    s->searched = false;
}

static bool elm_is_hex(const char *p)
{
    for (; *p; p++)
        if (!isxdigit((unsigned char)*p))
            return false;
    return true;
}

/* Setters a real adapter takes with "OK": the prefix and how many hex digits follow (-1: any 0..8). */
static bool elm_ok_cmd(const char *c)
{
    static const struct { const char *p; int digits; } ok[] = {
        { "AT0", 0 }, { "AT1", 0 }, { "AT2", 0 }, { "AL", 0 }, { "NL", 0 }, { "AMC", 0 }, { "BI", 0 },
        { "CAF0", 0 }, { "CAF1", 0 }, { "CFC0", 0 }, { "CFC1", 0 }, { "CSM0", 0 }, { "CSM1", 0 },
        { "CEA", -1 }, { "CF", -1 }, { "CM", -1 }, { "CP", 2 }, { "CRA", -1 }, { "CV", 4 }, { "D0", 0 },
        { "D1", 0 }, { "FCSH", -1 }, { "FCSD", -1 }, { "FCSM", 1 }, { "IB10", 0 }, { "IB96", 0 },
        { "IIA", 2 }, { "JE", 0 }, { "JS", 0 }, { "KW0", 0 }, { "KW1", 0 }, { "LP", 0 }, { "M0", 0 },
        { "M1", 0 }, { "PC", 0 }, { "R0", 0 }, { "R1", 0 }, { "SH", -1 }, { "SR", 2 }, { "SS", 0 },
        { "ST", 2 }, { "SW", 2 }, { "TA", 2 }, { "V0", 0 }, { "V1", 0 }, { "WM", -1 }, { "AR", 0 },
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(ok); i++) {
        size_t pl = strlen(ok[i].p);
        if (strncmp(c, ok[i].p, pl) != 0)
            continue;
        const char *rest = c + pl;
        size_t rl = strlen(rest);
        if (!elm_is_hex(rest))
            continue;
        if (ok[i].digits >= 0 ? rl == (size_t)ok[i].digits : rl <= 8)
            return true;
    }
    return false;
}

/* Flags set by a trailing 0/1 digit: ATE, ATL, ATS, ATH. */
static bool elm_flag(const char *c, char letter, bool *flag)
{
    if (c[0] != letter || (c[1] != '0' && c[1] != '1') || c[2])
        return false;
    *flag = c[1] == '1';
    return true;
}

static void elm_at(struct hp_elm_sess *s, struct elm_out *o, const char *c, double t)
{
    char b[64];
    if (strcmp(c, "Z") == 0 || strcmp(c, "WS") == 0) {
        elm_defaults(s, c[0] == 'Z');
        elm_eol(s, o);
        elm_eol(s, o);
        elm_line(s, o, "ELM327 v1.5");
    } else if (strcmp(c, "I") == 0)
        elm_line(s, o, "ELM327 v1.5");
    else if (strcmp(c, "@1") == 0)
        elm_line(s, o, "OBDII to RS232 Interpreter");
    else if (strcmp(c, "D") == 0) {
        elm_defaults(s, false);
        elm_line(s, o, "OK");
    } else if (elm_flag(c, 'E', &s->echo) || elm_flag(c, 'L', &s->linefeed) ||
               elm_flag(c, 'S', &s->spaces) || elm_flag(c, 'H', &s->headers))
        elm_line(s, o, "OK");
    else if ((strncmp(c, "SP", 2) == 0 || strncmp(c, "TP", 2) == 0) &&
             (((c[2] == 'A') && c[3] && strchr("0123456789ABC", c[3]) && !c[4]) ||
              (c[2] && strchr("0123456789ABC", c[2]) && !c[3]))) {
        s->protocol = c[2] == 'A' && c[3] ? '0' : c[2];   /* ATSPAx: automatic, x first */
        s->searched = false;
        elm_line(s, o, "OK");
    } else if (strcmp(c, "DP") == 0) {
        if (s->protocol == '0')
            snprintf(b, sizeof(b), "%s", s->searched ? "AUTO, ISO 15765-4 (CAN 11/500)" : "AUTO");
        else
            snprintf(b, sizeof(b), "%s", elm_proto_name(s->protocol));
        elm_line(s, o, b);
    } else if (strcmp(c, "DPN") == 0) {
        snprintf(b, sizeof(b), "%s%c", s->protocol == '0' && s->searched ? "A" : "",
                 s->protocol == '0' && s->searched ? '6' : s->protocol);
        elm_line(s, o, b);
    } else if (strcmp(c, "RV") == 0) {
        struct elm_engine e;
        elm_engine(t, &e);
        snprintf(b, sizeof(b), "%.1fV", e.volt);
        elm_line(s, o, b);
    } else if (strcmp(c, "CS") == 0)
        elm_line(s, o, "T:00 R:00 ");
    else if (strcmp(c, "IGN") == 0)
        elm_line(s, o, "ON");
    else if (strcmp(c, "RD") == 0)
        elm_line(s, o, "00");
    else if (elm_ok_cmd(c))
        elm_line(s, o, "OK");
    else
        elm_line(s, o, "?");
}

/* ---- OBD requests ---------------------------------------------------------------------- */

static void elm_clear_event(struct hp_elm_sess *s)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "elm327.clear_dtc");
    if (s->veh->dtc && !s->cleared) {
        char code[8];
        snprintf(code, sizeof(code), "P%04X", s->veh->dtc);
        hp_ev_str(&ev, "cleared", code);
    }
    hp_ev_str(&ev, "vin", s->vin);
    elm_emit(s, &ev);
}

/* Mode 09: 00 bitmap, 02 VIN, 04 calibration id, 0A ECU name. */
static size_t elm_mode09(const struct hp_elm_sess *s, unsigned pid, uint8_t *d, size_t cap)
{
    d[0] = 0x49, d[1] = (uint8_t)pid;
    switch (pid) {
    case 0x00:
        d[2] = 0x54, d[3] = 0x40, d[4] = 0, d[5] = 0;   /* 02, 04, 06 (CVN, silent), 0A */
        return 6;
    case 0x02:
        d[2] = 1;
        memcpy(d + 3, s->vin, 17);
        return 20;
    case 0x04:
        d[2] = 1;
        memset(d + 3, 0, 16);
        memcpy(d + 3, s->veh->calibration, strnlen(s->veh->calibration, 16));
        return 19;
    case 0x0A: {
        static const char name[20] = "ECM\0-EngineControl";
        d[2] = 1;
        memcpy(d + 3, name, 20);
        return 23;
    }
    default:
        return 0;
    }
    (void)cap;
}

/* A hex request: mode, PIDs and an optional response-count digit. */
static void elm_obd(struct hp_elm_sess *s, struct elm_out *o, const char *c, double t)
{
    size_t n = strlen(c);
    if (!elm_is_hex(c) || n < 2 || n > 17) {
        elm_line(s, o, "?");
        return;
    }
    if (n % 2)
        n--;                           /* the last digit: how many answers to wait for */
    uint8_t req[8];
    size_t rn = n / 2;
    for (size_t i = 0; i < rn; i++) {
        unsigned v;
        sscanf(c + 2 * i, "%2x", &v);
        req[i] = (uint8_t)v;
    }
    if (s->protocol != '0' && s->protocol != '6') {
        elm_line(s, o, "UNABLE TO CONNECT");
        return;
    }
    if (s->protocol == '0' && !s->searched) {
        elm_line(s, o, "SEARCHING...");
        s->searched = true;
    }
    uint8_t d[32];
    size_t dn = 0;
    unsigned mode = req[0], pid = rn > 1 ? req[1] : 0x100;
    switch (mode) {
    case 0x01:
        if (rn == 2 && (dn = elm_mode01(s, pid, t, d + 2)) > 0)
            d[0] = 0x41, d[1] = (uint8_t)pid, dn += 2;
        break;
    case 0x03: case 0x07:
        if (rn == 1) {
            bool has = mode == 0x03 && s->veh->dtc && !s->cleared;
            d[0] = (uint8_t)(0x40 | mode), d[1] = has ? 1 : 0, dn = 2;
            if (has)
                d[2] = (uint8_t)(s->veh->dtc >> 8), d[3] = (uint8_t)s->veh->dtc, dn = 4;
        }
        break;
    case 0x04:
        if (rn == 1) {
            elm_clear_event(s);
            s->cleared = true;
            d[0] = 0x44, dn = 1;
        }
        break;
    case 0x09:
        if (rn == 2)
            dn = elm_mode09(s, pid, d, sizeof(d));
        break;
    default:
        if (mode >= 0x10) {            /* diagnostic services: a negative response */
            d[0] = 0x7F, d[1] = (uint8_t)mode, d[2] = mode == 0x22 ? 0x31 : 0x11, dn = 3;
        }
    }
    if (dn)
        elm_ecu(s, o, d, dn);
    else
        elm_line(s, o, "NO DATA");
}

/* ---- lines ----------------------------------------------------------------------------- */

static void elm_event(struct hp_elm_sess *s, const uint8_t *raw, size_t n, const char *cmd, bool overflow)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "command.input");
    hp_ev_bytes(&ev, "input", raw, n);
    hp_ev_str(&ev, "command", cmd);
    if (overflow)
        hp_ev_bool(&ev, "overflow", true);
    elm_emit(s, &ev);
}

/* One command line (without its CR): echo, answer, prompt. */
static void elm_command(struct hp_elm_sess *s, const uint8_t *raw, size_t n, bool overflow)
{
    static struct elm_out o;
    char c[HP_ELM_LINE_MAX + 1];
    size_t cl = 0;
    for (size_t i = 0; i < n && cl < HP_ELM_LINE_MAX; i++)
        if (raw[i] > 0x20 && raw[i] < 0x7F)
            c[cl++] = (char)toupper(raw[i]);
    c[cl] = 0;
    o.len = 0;
    if (s->echo) {
        elm_raw(&o, (const char *)raw, n);
        elm_eol(s, &o);
    }
    if (!cl && !overflow)
        memcpy(c, s->last, sizeof(c));          /* a bare CR repeats the last command */
    else if (!overflow)
        memcpy(s->last, c, cl + 1);
    s->lines++;
    elm_event(s, raw, n, overflow ? "" : c, overflow);
    double t = (double)(s->now_ms ? s->now_ms : hp_now_us() / 1000) / 1000.0;
    if (overflow)
        elm_line(s, &o, "?");
    else if (strncmp(c, "AT", 2) == 0)
        elm_at(s, &o, c + 2, t);
    else if (c[0])
        elm_obd(s, &o, c, t);
    elm_eol(s, &o);
    elm_raw(&o, ">", 1);
    s->out(s->out_arg, o.b, o.len);
}

void hp_elm_open(struct hp_elm_sess *s, const struct hp_elm_vehicle *veh, const char *vin,
                 const struct hp_evctx *ctx, hp_elm_emit_fn emit, hp_elm_out_fn out, void *arg)
{
    memset(s, 0, sizeof(*s));
    s->veh = veh;
    s->vin = vin;
    s->ctx = ctx;
    s->emit = emit;
    s->out = out;
    s->out_arg = arg;
    elm_defaults(s, true);
}

void hp_elm_input(struct hp_elm_sess *s, struct hp_rd *in)
{
    while (hp_rd_left(in) > 0) {
        long cr = hp_rd_find(in, "\r", 1);
        if (s->discarding) {
            if (cr < 0) {
                hp_rd_skip(in, hp_rd_left(in));
                return;
            }
            hp_rd_skip(in, (size_t)cr + 1);
            s->discarding = false;
            elm_command(s, (const uint8_t *)"", 0, true);
            continue;
        }
        /* LF is ignored: it is only dropped from what the line holds. */
        if (cr < 0) {
            if (hp_rd_left(in) > HP_ELM_LINE_MAX + 16) {
                hp_rd_skip(in, hp_rd_left(in));
                s->discarding = true;
            }
            return;                    /* the rest of the line stays buffered */
        }
        const uint8_t *p = hp_rd_bytes(in, (size_t)cr + 1);
        uint8_t line[HP_ELM_LINE_MAX];
        size_t n = 0;
        bool over = false;
        for (long i = 0; i < cr; i++) {
            if (p[i] == '\n')
                continue;
            if (n == sizeof(line)) {
                over = true;
                break;
            }
            line[n++] = p[i];
        }
        elm_command(s, line, over ? 0 : n, over);
    }
}

/* ---- the protocol module ---------------------------------------------------------------- */

struct elm_conf {
    const struct hp_elm_vehicle *veh;  /* configured (else the identity's) */
    char vin[18];                      /* after start() */
};

static int elm_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct elm_conf *ec = hp_xcalloc(1, sizeof(*ec));
    svc->proto_conf = ec;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        if (strcmp(kv->key, "vehicle") == 0) {
            ec->veh = hp_elm_vehicle_find(kv->value);
            if (!ec->veh) {
                snprintf(err, errlen, "%d: [service %s]: unknown elm327 vehicle '%s'", kv->line, svc->name,
                         kv->value);
                return -1;
            }
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol elm327)", kv->line, kv->key,
                     svc->name);
            return -1;
        }
    }
    return 0;
}

static void elm_unconfigure(struct hp_service_cfg *svc)
{
    free(svc->proto_conf);
    svc->proto_conf = NULL;
}

static const struct hp_elm_vehicle *elm_draw(void)
{
    unsigned total = 0;
    for (size_t i = 0; i < HP_ARRAY_LEN(elm_vehicles); i++)
        total += elm_vehicles[i].weight;
    unsigned r = (unsigned)(hp_random_u64() % total);
    for (size_t i = 0; i < HP_ARRAY_LEN(elm_vehicles); i++) {
        if (r < elm_vehicles[i].weight)
            return &elm_vehicles[i];
        r -= elm_vehicles[i].weight;
    }
    return &elm_vehicles[0];
}

/* elm327_vehicle = "<profile>:<VIN>", drawn at first start; a VIN whose
 * check digit does not hold (an edited file) is drawn again. */
static int elm_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct elm_conf *ec = svc->proto_conf;
    const char *kept = hp_identity_get("elm327_vehicle");
    char name[32] = "", vin[18] = "";
    const struct hp_elm_vehicle *v = NULL;
    if (kept && sscanf(kept, "%31[^:]:%17s", name, vin) == 2 && strlen(vin) == 17 &&
        hp_elm_vin_check(vin) == vin[8])
        v = hp_elm_vehicle_find(name);
    if (!v || (ec->veh && ec->veh != v)) {
        char line[64];
        v = ec->veh ? ec->veh : elm_draw();
        hp_elm_vin_make(v, hp_random_u64(), vin);
        snprintf(line, sizeof(line), "%s:%s", v->name, vin);
        hp_identity_set("elm327_vehicle", line);
    }
    ec->veh = v;
    memcpy(ec->vin, vin, sizeof(ec->vin));
    return 0;
}

static void elm_send(void *arg, const void *data, size_t len)
{
    hp_conn_send(arg, data, len);
}

static void elm_accept(struct hp_conn *c)
{
    const struct elm_conf *ec = hp_conn_service_cfg(c)->proto_conf;
    hp_elm_open(c->pstate, ec->veh, ec->vin, &c->ctx, NULL, elm_send, c);
}

static void elm_data(struct hp_conn *c, struct hp_rd *in)
{
    hp_elm_input(c->pstate, in);
}

const struct hp_proto hp_proto_elm327 = {
    .name = "elm327",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "35000",
    .conn_state_size = sizeof(struct hp_elm_sess),
    .default_max_input = 256 * 1024,
    .configure = elm_configure,
    .unconfigure = elm_unconfigure,
    .start = elm_start,
    .on_accept = elm_accept,
    .on_data = elm_data,
};
