/*
 * syslog_fmt.c - one event as one RFC 5424 message.  See syslog.h.
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG
 *
 * PRI = facility * 8 + severity; TIMESTAMP is the event's own time (UTC,
 * microseconds), not the sending time, so a backlog shipped after an outage
 * keeps its real times; MSGID is the eventid (a SIEM can filter on it
 * without parsing the JSON); STRUCTURED-DATA is "-"; MSG is the event JSON,
 * byte for byte, without a BOM (our JSON is valid UTF-8 and receivers that
 * keep the BOM would hand it to JSON parsers).
 *
 * Framing (RFC 6587): octet counting "LEN SP" before the message by default
 * (any byte may appear in MSG), or a trailing LF (non-transparent framing;
 * safe because the event JSON never contains a raw newline).  UDP sends one
 * message per datagram, unframed (RFC 5426).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "buf.h"
#include "event.h"
#include "jsonscan.h"
#include "syslog.h"
#include "util.h"

static const char *const facility_names[24] = {
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
    "uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

int hp_syslog_facility(const char *s, unsigned *out)
{
    for (unsigned i = 0; i < 24; i++) {
        if (strcasecmp(s, facility_names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    uint64_t v;
    if (hp_parse_u64(s, 0, 23, &v) != 0)
        return -1;
    *out = (unsigned)v;
    return 0;
}

unsigned hp_syslog_severity(const char *eventid)
{
    /* A successful login or a typed command is what an analyst alerts on. */
    if (strcmp(eventid, "login.success") == 0 || strcmp(eventid, "command.input") == 0)
        return 4;
    return 6;
}

void hp_syslog_sanitize(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; s[n] && n + 1 < cap; n++)
        out[n] = (s[n] > 32 && s[n] < 127) ? s[n] : '_';
    out[n] = '\0';
    if (n == 0 && cap >= 2)
        snprintf(out, cap, "-");
}

/* "<PRI>1 TS HOST APP PROCID MSGID - " */
static bool put_header(const struct hp_syslog_fmt *f, const struct hp_event *e, struct hp_buf *b)
{
    char ts[40], msgid[33];
    hp_fmt_iso8601(e->h.ts_us, ts, sizeof(ts));
    hp_syslog_sanitize(e->h.eventid ? e->h.eventid : "", msgid, sizeof(msgid));
    return hp_buf_printf(b, "<%u>1 %s %s %s %s %s - ", f->facility * 8 + hp_syslog_severity(msgid), ts,
                         f->hostname, f->app_name, f->procid, msgid);
}

/* The stub sent over UDP for an event too large for one datagram. */
static bool put_stub(const struct hp_event *e, struct hp_buf *b)
{
    static const char *const names[] = { "timestamp", "eventid", "uid", "sensor", "session", "src_ip" };
    struct hp_jval v[HP_ARRAY_LEN(names)];
    hp_jscan_members(e->json, e->json_len, names, HP_ARRAY_LEN(names), v);
    hp_buf_putc(b, '{');
    for (size_t i = 0; i < HP_ARRAY_LEN(names); i++) {
        if (v[i].type == HP_J_NONE)
            continue;
        hp_buf_printf(b, "\"%s\":", names[i]);
        hp_buf_put(b, v[i].p, v[i].n);       /* raw JSON value: stays valid */
        hp_buf_putc(b, ',');
    }
    return hp_buf_printf(b, "\"syslog_truncated\":true,\"length\":%zu}", e->json_len);
}

bool hp_syslog_message(const struct hp_syslog_fmt *f, const struct hp_event *e, struct hp_buf *out)
{
    size_t start = out->len;
    if (!f->octet_count || f->udp) {
        if (!put_header(f, e, out))
            return false;
        if (f->udp && out->len - start + e->json_len > f->udp_max) {
            put_stub(e, out);
            return hp_buf_ok(out);
        }
        hp_buf_put(out, e->json, e->json_len);
        if (!f->udp)
            hp_buf_putc(out, '\n');
        return hp_buf_ok(out);
    }
    /* Octet counting: the header's length is known only once it is printed. */
    struct hp_buf hdr;
    hp_buf_init(&hdr, 1024);
    bool ok = put_header(f, e, &hdr) &&
              hp_buf_printf(out, "%zu ", hdr.len + e->json_len) &&
              hp_buf_put(out, hdr.data, hdr.len) && hp_buf_put(out, e->json, e->json_len);
    hp_buf_free(&hdr);
    return ok;
}
