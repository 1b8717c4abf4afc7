/*
 * syslog.h - the [output syslog] message format, exposed for the unit tests.
 *
 * The transport (UDP, TCP, TLS) lives in syslog.c; what goes on the wire for
 * one event is decided here, by pure functions of the event and the options,
 * so tests can check the bytes without a network.
 */
#ifndef HP_SYSLOG_H
#define HP_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_buf;
struct hp_event;

/* What the header of every message carries (syslog.c fills it at open). */
struct hp_syslog_fmt {
    unsigned facility;            /* 0..23; local0 = 16 */
    char hostname[256];           /* RFC 5424 PRINTUSASCII, 1..255 */
    char app_name[49];            /* 1..48 */
    char procid[17];              /* our pid */
    bool octet_count;             /* RFC 6587 "LEN SP MSG" framing, else MSG LF */
    bool udp;                     /* no framing; one message per datagram */
    size_t udp_max;               /* largest datagram for udp */
};

/* Facility name ("local0", "user", ...) or number 0..23; 0 or -1. */
int hp_syslog_facility(const char *s, unsigned *out);
/* Severity for an event: warning (4) for login.success and command.input, else info (6). */
unsigned hp_syslog_severity(const char *eventid);
/* Copy s into out as RFC 5424 PRINTUSASCII (other bytes become '_'), at most cap-1
 * characters; "-" when s is empty. */
void hp_syslog_sanitize(const char *s, char *out, size_t cap);
/*
 * Append one framed message for e to out.  For UDP an event whose message
 * would exceed udp_max is replaced by a short JSON stub with its common
 * fields (timestamp, eventid, uid, sensor, session, src_ip) and
 * "syslog_truncated":true, "length":N, so the receiver still gets valid JSON
 * and can find the whole event by uid in the sensor's JSONL or SQLite.
 * Returns false if out is full.
 */
bool hp_syslog_message(const struct hp_syslog_fmt *f, const struct hp_event *e, struct hp_buf *out);

#endif
