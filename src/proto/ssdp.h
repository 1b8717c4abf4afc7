/*
 * ssdp.h - SSDP (UPnP discovery) parsing and the per-sensor UPnP device
 * personality shared with the HTTP engine's {{upnp:KEY}} template.
 */
#ifndef HP_SSDP_H
#define HP_SSDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ssdp_str {
    const char *p;
    size_t n;
};

/* One SSDP datagram: an HTTP-like request (M-SEARCH, NOTIFY) or response.
 * Values point into the datagram. */
struct ssdp_msg {
    struct ssdp_str line, method, uri;
    struct ssdp_str st, man, mx, nt, nts, location, usn, server, user_agent, host;
    size_t nheaders;
};

/* 0, or -1 when the first line is not "TOKEN SP TARGET SP HTTP/x.y" (or a
 * status line).  Header lines without ':' are skipped; at most 64 lines. */
int ssdp_parse(const uint8_t *data, size_t len, struct ssdp_msg *m);

/* The M-SEARCH answer for a search target (the ST echoed, "upnp:rootdevice"
 * for ssdp:all), or 0 when this device does not match it.  level 0: all
 * headers; 1: without CACHE-CONTROL/EXT/DATE; 2: ST and LOCATION only.
 * location is the full URL.  Returns the length or 0 when it does not fit. */
#define SSDP_LEVEL_MAX 2
size_t ssdp_build_reply(struct ssdp_str st, const char *location, int level, char *out, size_t cap);

/* A fact of the per-sensor UPnP personality, drawn at first use and kept in
 * the identity as upnp_KEY: personality (router, camera), friendly_name,
 * manufacturer, manufacturer_url, model_name, model_number,
 * model_description, serial, uuid, server, device_type, desc_path,
 * external_ip, mac.  "" for an unknown key. */
const char *hp_upnp_fact(const char *key);

#endif
