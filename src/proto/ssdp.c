/*
 * ssdp.c - SSDP, the discovery half of UPnP (UDP 1900).
 *
 * M-SEARCH requests whose search target (ST) this device matches (ssdp:all,
 * upnp:rootdevice, our uuid, our device type, for a router the IGD device
 * and service types) are answered with a LOCATION URL pointing at the
 * device description that the HTTP engine serves (data/http/responses.rules,
 * rules upnp-*: /rootDesc.xml for a router, /description.xml for a camera,
 * and the router's SOAP control URL /ctl/IPConn).  The LOCATION port is the
 * service's location_port key, by default the first TCP port of the first
 * protocol = http service of the configuration, else 80.
 *
 * The device is a per-sensor personality (hp_upnp_fact): a home router
 * (InternetGatewayDevice with WANIPConnection, miniupnpd style) or an IP
 * camera, with vendor, model, serial and uuid drawn once and kept in the
 * identity file (upnp_*), so the SSDP answer, the description XML and its
 * Server headers agree and stay the same across restarts.
 *
 * Size rule: M-SEARCH is the classic reflection vector, so the answer is
 * built in full, then without CACHE-CONTROL/EXT/DATE, then with ST and
 * LOCATION only (ssdp_build_reply levels); the first that fits the
 * datagram's reply budget (src/core/udp.c) is sent, else none.  Real
 * devices send one answer per matching type for ssdp:all; we send one.
 *
 * Every datagram is a command.input event (input: its first line, plus st,
 * man, mx, user_agent); NOTIFY datagrams also give ssdp.notify (nt, nts,
 * location, usn, server).  NOTIFY and responses are never answered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "config.h"
#include "conn.h"
#include "event.h"
#include "identity.h"
#include "proto.h"
#include "reader.h"
#include "ssdp.h"
#include "util.h"

struct ssdp_conf {
    uint16_t location_port;       /* 0: found at start() */
    char *personality;            /* NULL: the identity's (or drawn) */
};

/* ---- the personality ------------------------------------------------------ */

struct upnp_model {
    const char *kind, *manufacturer, *url, *model, *number, *description, *friendly, *server;
};

static const struct upnp_model upnp_models[] = {
    { "router", "ASUSTeK Computer Inc.", "http://www.asus.com/", "RT-AC68U", "3.0.0.4",
      "ASUS Wireless Router", "RT-AC68U", "AsusWRT/386 UPnP/1.1 MiniUPnPd/2.2.0" },
    { "router", "NETGEAR, Inc.", "http://www.netgear.com/", "R7000", "V1.0.11.116",
      "NETGEAR R7000 Nighthawk AC1900 Smart WiFi Router", "R7000 (Gateway)",
      "Linux/2.6.36.4brcmarm, UPnP/1.0, MiniUPnPd/1.9" },
    { "router", "TP-Link", "http://www.tp-link.com/", "Archer C7", "5.0",
      "AC1750 Wireless Dual Band Gigabit Router", "Archer C7", "Linux/3.3.8, UPnP/1.0, MiniUPnPd/1.9" },
    { "router", "D-Link", "http://www.dlink.com/", "DIR-842", "C2", "Wireless AC1200 Router",
      "D-Link DIR-842", "Linux/3.3.8, UPnP/1.0, MiniUPnPd/2.0" },
    { "camera", "HIKVISION", "http://www.hikvision.com/", "DS-2CD2142FWD-I", "V5.5.82",
      "IP Camera", "HIKVISION DS-2CD2142FWD-I", "Linux/3.0.8, UPnP/1.0, Portable SDK for UPnP devices/1.6.6" },
    { "camera", "Dahua", "http://www.dahuasecurity.com/", "IPC-HDW4431C-A", "2.800.0000000.16.R",
      "IPC", "IPC-HDW4431C-A", "Linux/3.10.0, UPnP/1.0, Portable SDK for UPnP devices/1.6.19" },
};

static const struct upnp_model *upnp_pick(const char *kind)
{
    size_t n = sizeof(upnp_models) / sizeof(upnp_models[0]), cand[8], nc = 0;
    for (size_t i = 0; i < n && nc < 8; i++)
        if (!kind || strcmp(upnp_models[i].kind, kind) == 0)
            cand[nc++] = i;
    if (!nc)
        return &upnp_models[0];
    return &upnp_models[cand[hp_random_u64() % nc]];
}

static void upnp_set(const char *key, const char *v, bool keep)
{
    char k[64];
    snprintf(k, sizeof(k), "upnp_%s", key);
    if (keep && hp_identity_get(k))
        return;
    hp_identity_set(k, v);
}

/* Draw what the identity does not hold yet.  A forced kind different from
 * the kept one redraws everything. */
static void upnp_draw(const char *force_kind)
{
    const char *kept = hp_identity_get("upnp_personality");
    bool keep = kept && (!force_kind || strcmp(kept, force_kind) == 0);
    const char *kind = force_kind ? force_kind : kept ? kept : (hp_random_u64() % 10 < 7 ? "router" : "camera");
    const struct upnp_model *m = upnp_pick(kind);
    const char *km = keep ? hp_identity_get("upnp_model_name") : NULL;
    for (size_t i = 0; km && i < sizeof(upnp_models) / sizeof(upnp_models[0]); i++)
        if (strcmp(upnp_models[i].model, km) == 0)
            m = &upnp_models[i];
    bool router = strcmp(m->kind, "router") == 0;
    uint8_t r[16];
    char uuid[48], serial[24], ext[20];
    hp_random_bytes(r, sizeof(r));
    snprintf(uuid, sizeof(uuid), "%02x%02x%02x%02x-%02x%02x-4%x%02x-%x%02x-%02x%02x%02x%02x%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6] & 15, r[7], 8 | (r[8] & 3), r[9], r[10], r[11], r[12],
             r[13], r[14], r[15]);
    snprintf(serial, sizeof(serial), "%02X%02X%02X%02X%02X%02X", r[10], r[11], r[12], r[13], r[14], r[15]);
    snprintf(ext, sizeof(ext), "100.%u.%u.%u", 64 + (r[0] & 63), r[1], 1 + r[2] % 254);
    upnp_set("personality", m->kind, keep);
    upnp_set("manufacturer", m->manufacturer, keep);
    upnp_set("manufacturer_url", m->url, keep);
    upnp_set("model_name", m->model, keep);
    upnp_set("model_number", m->number, keep);
    upnp_set("model_description", m->description, keep);
    upnp_set("friendly_name", m->friendly, keep);
    upnp_set("server", m->server, keep);
    upnp_set("device_type", router ? "urn:schemas-upnp-org:device:InternetGatewayDevice:1"
                                   : "urn:schemas-upnp-org:device:Basic:1", keep);
    upnp_set("desc_path", router ? "/rootDesc.xml" : "/description.xml", keep);
    upnp_set("uuid", uuid, keep);
    upnp_set("serial", serial, keep);
    upnp_set("external_ip", ext, keep);
}

const char *hp_upnp_fact(const char *key)
{
    static bool drawn;
    char k[64];
    snprintf(k, sizeof(k), "upnp_%s", key);
    const char *v = hp_identity_get(k);
    if (!v && !drawn) {
        drawn = true;
        upnp_draw(NULL);
        v = hp_identity_get(k);
    }
    return v ? v : "";
}

/* ---- parsing and answers ------------------------------------------------ */

static struct ssdp_str ss_trim(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return (struct ssdp_str){ p, n };
}

static bool ss_eq(struct ssdp_str s, const char *c)
{
    size_t n = strlen(c);
    return s.n == n && strncasecmp(s.p, c, n) == 0;
}

int ssdp_parse(const uint8_t *data, size_t len, struct ssdp_msg *m)
{
    struct hp_rd r;
    const uint8_t *line;
    size_t n;
    memset(m, 0, sizeof(*m));
    hp_rd_init(&r, data, len);
    if (!hp_rd_line(&r, 1024, &line, &n)) {
        line = hp_rd_ptr(&r);
        n = hp_rd_left(&r) < 1024 ? hp_rd_left(&r) : 1024;
        hp_rd_skip(&r, hp_rd_left(&r));
    }
    const char *l = (const char *)line;
    m->line = (struct ssdp_str){ l, n };
    const char *sp1 = n ? memchr(l, ' ', n) : NULL;
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - l)) : NULL;
    if (!sp1 || sp1 == l)
        return -1;
    if (n >= 5 && strncmp(l, "HTTP/", 5) == 0) {
        m->method = (struct ssdp_str){ l, (size_t)(sp1 - l) };     /* a response: the version */
    } else {
        if (!sp2 || n - (size_t)(sp2 + 1 - l) < 5 || strncasecmp(sp2 + 1, "HTTP/", 5) != 0)
            return -1;
        m->method = (struct ssdp_str){ l, (size_t)(sp1 - l) };
        m->uri = (struct ssdp_str){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
    }
    static const struct { const char *name; size_t off; } hdrs[] = {
        { "ST", offsetof(struct ssdp_msg, st) }, { "MAN", offsetof(struct ssdp_msg, man) },
        { "MX", offsetof(struct ssdp_msg, mx) }, { "NT", offsetof(struct ssdp_msg, nt) },
        { "NTS", offsetof(struct ssdp_msg, nts) }, { "LOCATION", offsetof(struct ssdp_msg, location) },
        { "USN", offsetof(struct ssdp_msg, usn) }, { "SERVER", offsetof(struct ssdp_msg, server) },
        { "USER-AGENT", offsetof(struct ssdp_msg, user_agent) }, { "HOST", offsetof(struct ssdp_msg, host) },
    };
    for (int i = 0; i < 64 && hp_rd_left(&r); i++) {
        if (!hp_rd_line(&r, 2048, &line, &n)) {
            line = hp_rd_ptr(&r);
            n = hp_rd_left(&r) < 2048 ? hp_rd_left(&r) : 2048;
            hp_rd_skip(&r, hp_rd_left(&r));
        }
        if (n == 0)
            break;
        m->nheaders++;
        const char *h = (const char *)line, *colon = memchr(h, ':', n);
        if (!colon)
            continue;
        struct ssdp_str name = ss_trim(h, (size_t)(colon - h));
        struct ssdp_str val = ss_trim(colon + 1, n - (size_t)(colon + 1 - h));
        for (size_t j = 0; j < sizeof(hdrs) / sizeof(hdrs[0]); j++) {
            struct ssdp_str *s = (struct ssdp_str *)((char *)m + hdrs[j].off);
            if (ss_eq(name, hdrs[j].name) && !s->p)
                *s = val;
        }
    }
    return 0;
}

/* The ST an answer carries, NULL when the device does not match st. */
static const char *ssdp_match(struct ssdp_str st, char *buf, size_t buflen)
{
    static const char *const igd[] = {
        "urn:schemas-upnp-org:device:InternetGatewayDevice:1", "urn:schemas-upnp-org:device:WANDevice:1",
        "urn:schemas-upnp-org:device:WANConnectionDevice:1", "urn:schemas-upnp-org:service:WANIPConnection:1",
        "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1",
        "urn:schemas-upnp-org:service:Layer3Forwarding:1",
    };
    if (ss_eq(st, "ssdp:all") || ss_eq(st, "upnp:rootdevice"))
        return "upnp:rootdevice";
    snprintf(buf, buflen, "uuid:%s", hp_upnp_fact("uuid"));
    if (ss_eq(st, buf))
        return buf;
    if (ss_eq(st, hp_upnp_fact("device_type")))
        return hp_upnp_fact("device_type");
    if (strcmp(hp_upnp_fact("personality"), "router") == 0)
        for (size_t i = 0; i < sizeof(igd) / sizeof(igd[0]); i++)
            if (ss_eq(st, igd[i]))
                return igd[i];
    return NULL;
}

size_t ssdp_build_reply(struct ssdp_str st, const char *location, int level, char *out, size_t cap)
{
    char stbuf[256], date[64] = "";
    const char *ast = ssdp_match(st, stbuf, sizeof(stbuf));
    if (!ast || cap == 0)
        return 0;
    const char *uuid = hp_upnp_fact("uuid");
    char usn[320];
    if (strncmp(ast, "uuid:", 5) == 0)
        snprintf(usn, sizeof(usn), "%s", ast);
    else
        snprintf(usn, sizeof(usn), "uuid:%s::%s", uuid, ast);
    int n;
    if (level == 0) {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        n = snprintf(out, cap,
                     "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nDATE: %s\r\nEXT:\r\nLOCATION: %s\r\n"
                     "SERVER: %s\r\nST: %s\r\nUSN: %s\r\n\r\n",
                     date, location, hp_upnp_fact("server"), ast, usn);
    } else if (level == 1) {
        n = snprintf(out, cap, "HTTP/1.1 200 OK\r\nLOCATION: %s\r\nSERVER: %s\r\nST: %s\r\nUSN: %s\r\n\r\n",
                     location, hp_upnp_fact("server"), ast, usn);
    } else {
        n = snprintf(out, cap, "HTTP/1.1 200 OK\r\nST:%s\r\nLOCATION:%s\r\n\r\n", ast, location);
    }
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* ---- the module ------------------------------------------------------------ */

static int ssdp_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct ssdp_conf *sc = hp_xcalloc(1, sizeof(*sc));
    svc->proto_conf = sc;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        uint64_t v;
        if (strcmp(kv->key, "location_port") == 0) {
            if (hp_parse_u64(kv->value, 1, 65535, &v) != 0) {
                snprintf(err, errlen, "%d: [service %s]: location_port: expected 1-65535, got '%s'", kv->line,
                         svc->name, kv->value);
                return -1;
            }
            sc->location_port = (uint16_t)v;
        } else if (strcmp(kv->key, "personality") == 0) {
            if (strcmp(kv->value, "router") != 0 && strcmp(kv->value, "camera") != 0) {
                snprintf(err, errlen, "%d: [service %s]: personality: expected router or camera, got '%s'",
                         kv->line, svc->name, kv->value);
                return -1;
            }
            free(sc->personality);
            sc->personality = hp_xstrdup(kv->value);
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol ssdp)", kv->line, kv->key,
                     svc->name);
            return -1;
        }
    }
    return 0;
}

static void ssdp_unconfigure(struct hp_service_cfg *svc)
{
    struct ssdp_conf *sc = svc->proto_conf;
    if (sc)
        free(sc->personality);
    free(sc);
    svc->proto_conf = NULL;
}

static int ssdp_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct ssdp_conf *sc = svc->proto_conf;
    const struct hp_proto *http = hp_proto_find("http");
    for (size_t i = 0; !sc->location_port && i < cfg->nservices; i++)
        if (cfg->services[i].proto == http && cfg->services[i].ntcp)
            sc->location_port = cfg->services[i].tcp_ports[0];
    if (!sc->location_port)
        sc->location_port = 80;
    upnp_draw(sc->personality);          /* drawn now: the identity file shows it from the start */
    return 0;
}

static void ev_s(struct hp_ev *ev, const char *key, struct ssdp_str s)
{
    if (s.p)
        hp_ev_bytes(ev, key, s.p, s.n < 512 ? s.n : 512);
}

static void ssdp_datagram(struct hp_udp_peer *p, const uint8_t *data, size_t len)
{
    const struct ssdp_conf *sc = p->cfg->proto_conf;
    struct ssdp_msg m;
    struct hp_ev ev;
    bool ok = ssdp_parse(data, len, &m) == 0;
    hp_ev_begin(&ev, &p->ctx, "command.input");
    ev_s(&ev, "input", m.line);
    if (ok) {
        ev_s(&ev, "command", m.method);
        ev_s(&ev, "st", m.st);
        ev_s(&ev, "man", m.man);
        ev_s(&ev, "mx", m.mx);
        ev_s(&ev, "user_agent", m.user_agent);
    } else {
        hp_ev_bool(&ev, "malformed", true);
    }
    hp_ev_uint(&ev, "size", len);
    hp_ev_emit(&ev);
    if (!ok)
        return;
    if (ss_eq(m.method, "NOTIFY")) {
        hp_ev_begin(&ev, &p->ctx, "ssdp.notify");
        ev_s(&ev, "nt", m.nt);
        ev_s(&ev, "nts", m.nts);
        ev_s(&ev, "location", m.location);
        ev_s(&ev, "usn", m.usn);
        ev_s(&ev, "server", m.server);
        hp_ev_emit(&ev);
        return;
    }
    if (!ss_eq(m.method, "M-SEARCH") || !m.st.p)
        return;
    char location[160], out[1024];
    const char *dst = p->ctx.dst_ip;
    bool v6 = strchr(dst, ':') != NULL;
    snprintf(location, sizeof(location), "http://%s%s%s:%u%s", v6 ? "[" : "", dst, v6 ? "]" : "",
             (unsigned)sc->location_port, hp_upnp_fact("desc_path"));
    size_t n = 0;
    for (int level = 0; level <= SSDP_LEVEL_MAX; level++) {
        n = ssdp_build_reply(m.st, location, level, out, sizeof(out));
        if (!n || n <= p->request_len)
            break;
    }
    if (n)
        hp_udp_reply(p, out, n);         /* refused and counted when still too large */
}

const struct hp_proto hp_proto_ssdp = {
    .name = "ssdp",
    .transports = HP_TRANSPORT_UDP,
    .default_udp_ports = "1900",
    .configure = ssdp_configure,
    .unconfigure = ssdp_unconfigure,
    .start = ssdp_start,
    .on_datagram = ssdp_datagram,
};
