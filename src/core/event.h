/*
 * event.h - one event model for every protocol.
 *
 * An event is a flat-ish JSON object whose first fields are common to all
 * protocols (see docs/events.md):
 *
 *   timestamp  UTC ISO 8601 with microseconds
 *   eventid    type, Cowrie's names without the "cowrie." prefix
 *   uid        unique event id: 16 hex digits of this run's id + "-" + sequence
 *   sensor     sensor name
 *   session    12 hex digits, shared by all events of one connection
 *   protocol, service, transport, src_ip, src_port, dst_ip, dst_port
 *
 * Events are built with a builder that writes JSON directly into a reusable
 * per-thread buffer (no intermediate tree), then frozen into an immutable,
 * reference-counted struct hp_event and handed to every output (output.h).
 * The builder keeps the JSON valid whatever happens: a field that would push
 * the event over HP_EVENT_MAX is left out and the event is marked
 * "truncated": true.  Byte strings that are not lossless UTF-8 text get a
 * "<key>_b64" companion with the raw bytes.
 *
 * One builder may be open per thread at a time.
 */
#ifndef HP_EVENT_H
#define HP_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define HP_EVENT_MAX (1024 * 1024)

/*
 * The event types that carry attack_classes and cves: the web engine's
 * requests, the trap's recognised payloads (data/trap/exploits.yar) and the
 * protocol modules' exploit events.  Reports, roll-ups and the dashboard
 * rank attack classes and CVEs over all of them; a module that gives a new
 * event type these fields adds it here (a SQL list, usable in IN (...)).
 */
#define HP_ATTACK_EVENTS_SQL \
    "'http.request','http.bad_request','trap.payload','smb.ms17_010_probe','smb.eternalblue','smb.doublepulsar'," \
    "'redis.eval','pgsql.copy_program','command.input'"
#define HP_SESSION_ID_LEN 12
#define HP_IPSTR_LEN 46

/* Who an event is about: filled once per connection and reused.  event.c
 * keeps the last rendering of these members per thread and reuses it when
 * they compare equal (ctx_cache_hit): a new member must be compared there. */
struct hp_evctx {
    char session[HP_SESSION_ID_LEN + 1];
    const char *protocol;     /* static or owned by the service */
    const char *service;
    const char *transport;    /* "tcp" / "udp" */
    char src_ip[HP_IPSTR_LEN];
    char dst_ip[HP_IPSTR_LEN];
    uint16_t src_port;
    uint16_t dst_port;
};

/* The common fields of an event, kept beside the JSON for outputs that
 * index them (SQLite columns, ClickHouse columns). */
struct hp_event_hdr {
    int64_t ts_us;
    uint64_t seq;
    const char *eventid;      /* static string */
    char session[HP_SESSION_ID_LEN + 1];
    char protocol[24];
    char src_ip[HP_IPSTR_LEN];
    uint16_t src_port;
    uint16_t dst_port;
};

/*
 * The key index: where each top-level member's key starts in json (the
 * offset of its opening quote), in order.  The builder records it as it
 * writes, so a reader that wants two members of a 2 KB event (the roll-ups)
 * goes straight to them instead of scanning the text.  NULL: no index (an
 * event built elsewhere, or one with more than HP_EV_KEYS members).
 */
#define HP_EV_KEYS 64

/* A frozen event, shared read-only between output threads. */
struct hp_event {
    int refs;                 /* atomic */
    struct hp_event_hdr h;
    const uint32_t *keys;     /* the key index, in the same allocation; or NULL */
    size_t nkeys;
    size_t json_len;          /* without trailing newline */
    char json[];
};

struct hp_event *hp_event_ref(struct hp_event *e);
void hp_event_unref(struct hp_event *e);

#define HP_EV_MAXDEPTH 8

struct hp_ev {
    struct hp_buf *b;
    struct hp_event_hdr meta; /* common fields for outputs */
    int depth;
    bool need_comma[HP_EV_MAXDEPTH];
    char closer[HP_EV_MAXDEPTH];
    bool truncated;
    int skip;                 /* >0: inside a container that did not fit */
    uint32_t keys[HP_EV_KEYS];/* the key index being built (struct hp_event) */
    size_t nkeys;             /* top-level members so far; above HP_EV_KEYS: no index */
    size_t key_at;            /* the field being written: its key's offset; SIZE_MAX: none */
};

/* Process-wide identity used in every event. */
void hp_event_set_sensor(const char *name);
const char *hp_event_sensor(void);
const char *hp_event_run_id(void);

void hp_ev_begin(struct hp_ev *ev, const struct hp_evctx *ctx, const char *eventid);
/* Same, for an event about something that began at ts_us (microseconds since
 * the epoch; 0: now) but is built afterwards, e.g. a command line's
 * command.input, which carries what the line ran. */
void hp_ev_begin_at(struct hp_ev *ev, const struct hp_evctx *ctx, const char *eventid, int64_t ts_us);
void hp_ev_str(struct hp_ev *ev, const char *key, const char *s);        /* NULL -> null */
void hp_ev_bytes(struct hp_ev *ev, const char *key, const void *s, size_t n);
void hp_ev_int(struct hp_ev *ev, const char *key, int64_t v);
void hp_ev_uint(struct hp_ev *ev, const char *key, uint64_t v);
void hp_ev_double(struct hp_ev *ev, const char *key, double v);
void hp_ev_bool(struct hp_ev *ev, const char *key, bool v);
/* Always base64, for binary payloads. */
void hp_ev_b64(struct hp_ev *ev, const char *key, const void *s, size_t n);
void hp_ev_obj_begin(struct hp_ev *ev, const char *key);
void hp_ev_obj_end(struct hp_ev *ev);
void hp_ev_arr_begin(struct hp_ev *ev, const char *key);
void hp_ev_arr_end(struct hp_ev *ev);
/* Array elements (key-less). */
void hp_ev_elem_str(struct hp_ev *ev, const char *s);
void hp_ev_elem_int(struct hp_ev *ev, int64_t v);
/* key: [list[0], ..., list[n-1]] (an empty array when n is 0). */
void hp_ev_strings(struct hp_ev *ev, const char *key, const char *const *list, size_t n);

/* Freeze without publishing (tests, fuzzers); caller unrefs. */
struct hp_event *hp_ev_finish(struct hp_ev *ev);
/* Freeze and hand to the outputs.  Returns 0, or -1 if the event had to be shed
 * (counted and logged by the output layer). */
int hp_ev_emit(struct hp_ev *ev);
/* Abandon a builder without emitting. */
void hp_ev_abort(struct hp_ev *ev);

#endif
