/*
 * trap.c - the catch-all trap: accept on any port, record what arrives.
 *
 * Honeytrap's job.  The trap answers nothing by default (a silent open port
 * is what most services look like before the client speaks); it may send a
 * configured banner after the client has been silent for banner_delay, for
 * ports whose real service speaks first.
 *
 * What the client sends is recorded as trap.payload events, each holding one
 * chunk of the stream: a chunk ends when it reaches chunk_size (64 KiB),
 * when the client pauses for flush_after, when it half-closes, or when the
 * connection ends.  The first chunk carries a protocol guess made from the
 * bytes alone (src/intel/protoguess.c); every chunk is matched against the
 * exploit rules of data/trap/exploits.yar (src/intel/payloadclass.c), which
 * give it attack classes and CVEs as the web engine gives HTTP requests
 * theirs.  Bytes past max_capture are counted
 * (session.closed has bytes_in) but not recorded.  A chunk being gathered is
 * simply left unconsumed in the core's input buffer, so the trap keeps no
 * buffer of its own.
 *
 * A datagram that is a QUIC client's Initial also gets the quic service's
 * tls.client_hello (src/proto/quic.c), once per QUIC connection.
 *
 * A connection whose first bytes are an HTTP request line or a TLS
 * ClientHello is handed to the HTTP engine (src/proto/http.c) as it is, so
 * web exploits get the web honeypot on whatever port they arrive
 * (handover = http tls, the default; none keeps everything here).  With
 * the hand-over off, a request that is plainly HTTP gets a minimal, generic
 * 404 once its headers (and a Content-Length body) are in, so that scanners
 * and curl see a server and move on (http_reply = false turns this off).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "config.h"
#include "conn.h"
#include "event.h"
#include "output.h"
#include "capture/capture.h"
#include "http.h"
#include "http_parse.h"
#include "proto.h"
#include "quic.h"
#include "trap_banner.h"
#include "util.h"
#include "../intel/payloadclass.h"
#include "../intel/protoguess.h"

struct trap_conf {
    uint64_t chunk_size;
    uint64_t max_capture;
    uint64_t flush_after_ms;
    uint64_t banner_delay_ms;
    char *banner;
    size_t banner_len;
    enum hp_trap_banner_kind banner_kind; /* built at the first connection (trap_banner.h) */
    bool http_reply;
    bool to_http;             /* hand HTTP requests to the HTTP engine (handover = http) */
    bool to_tls;              /* hand TLS ClientHellos to it (handover = tls) */
};

struct trap_conn {
    uint64_t recorded;        /* bytes already emitted as trap.payload */
    bool banner_sent;
    bool limit_noted;
    bool timer_is_banner;
    bool http_done;           /* first request answered (or not HTTP) */
    bool sniffed;             /* the first bytes were looked at for a hand-over */
    uint8_t reply_tries;      /* early looks for a handshake an exploit rule answers */
    uint32_t clean_len;       /* the first clean_len bytes matched no exploit rule (early look) */
    struct hp_http_framing http;  /* how far the request to answer has been read */
};

/* "http tls" (the default), "http", "tls" or "none". */
static int parse_handover(const char *v, struct trap_conf *tc)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", v);
    tc->to_http = tc->to_tls = false;
    char *save = NULL;
    for (char *w = strtok_r(buf, " ,", &save); w; w = strtok_r(NULL, " ,", &save)) {
        if (strcmp(w, "http") == 0)
            tc->to_http = true;
        else if (strcmp(w, "tls") == 0)
            tc->to_tls = true;
        else if (strcmp(w, "none") != 0)
            return 1;
    }
    return 0;
}

static int trap_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct trap_conf *tc = hp_xcalloc(1, sizeof(*tc));
    tc->chunk_size = 64 * 1024;
    tc->max_capture = 1024 * 1024;
    tc->flush_after_ms = 2000;
    tc->banner_delay_ms = 3000;
    tc->http_reply = true;
    tc->to_http = tc->to_tls = true;
    svc->proto_conf = tc;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        int bad = 0, b;
        if (strcmp(kv->key, "http_reply") == 0) {
            bad = hp_parse_bool(kv->value, &b);
            tc->http_reply = !bad && b;
        } else if (strcmp(kv->key, "handover") == 0) {
            bad = parse_handover(kv->value, tc);
        } else if (strcmp(kv->key, "chunk_size") == 0)
            bad = hp_parse_size(kv->value, &tc->chunk_size) || tc->chunk_size < 512 ||
                  tc->chunk_size > 64 * 1024;
        else if (strcmp(kv->key, "max_capture") == 0)
            bad = hp_parse_size(kv->value, &tc->max_capture) || tc->max_capture < 1;
        else if (strcmp(kv->key, "flush_after") == 0)
            bad = hp_parse_duration_ms(kv->value, &tc->flush_after_ms);
        else if (strcmp(kv->key, "banner_delay") == 0)
            bad = hp_parse_duration_ms(kv->value, &tc->banner_delay_ms);
        else if (strcmp(kv->key, "banner") == 0) {
            free(tc->banner);
            tc->banner = hp_unescape(kv->value, &tc->banner_len);
        } else if (strcmp(kv->key, "banner_kind") == 0) {
            int k = hp_trap_banner_kind(kv->value);
            bad = k < 0;
            tc->banner_kind = k < 0 ? HP_TRAP_BANNER_NONE : (enum hp_trap_banner_kind)k;
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol trap)", kv->line,
                     kv->key, svc->name);
            return -1;
        }
        if (bad) {
            snprintf(err, errlen, "%d: [service %s]: bad value for %s: '%s'", kv->line, svc->name,
                     kv->key, kv->value);
            return -1;
        }
    }
    if (tc->banner_kind != HP_TRAP_BANNER_NONE && tc->banner_len) {
        snprintf(err, errlen, "[service %s]: banner and banner_kind exclude each other", svc->name);
        return -1;
    }
    return 0;
}

static void trap_unconfigure(struct hp_service_cfg *svc)
{
    struct trap_conf *tc = svc->proto_conf;
    if (tc)
        free(tc->banner);
    free(tc);
    svc->proto_conf = NULL;
}

static int trap_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    const struct trap_conf *tc = svc->proto_conf;
    if (hp_payloadclass_init(cfg->capture.yara_rules, err, errlen) != 0)
        return -1;
    if (tc->to_http || tc->to_tls)
        return hp_http_engine_start(cfg, err, errlen);
    return 0;
}

static const struct trap_conf *conf_of(const struct hp_conn *c)
{
    return hp_conn_service_cfg(c)->proto_conf;
}

/* Write one trap.payload event with the given bytes (peer data), matched
 * against the exploit rules into *pcl (unless known_clean: an early look at
 * these very bytes matched nothing).  pcl->reply stays set only when
 * may_reply (TCP, the first chunk, no banner sent): the caller sends it, and
 * the event names the rule that gave it. */
static void emit_payload(const struct hp_evctx *ctx, uint64_t offset, const uint8_t *data,
                         size_t len, size_t datagram_len, enum hp_guess_transport t,
                         struct hp_payloadclass *pcl, bool may_reply, bool known_clean)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, ctx, "trap.payload");
    hp_ev_uint(&ev, "offset", offset);
    hp_ev_uint(&ev, "length", len);
    if (datagram_len > len)           /* a datagram cut at max_capture */
        hp_ev_uint(&ev, "datagram_length", datagram_len);
    if (offset == 0) {
        struct hp_guess g;
        hp_protoguess(data, len, t, &g);
        hp_ev_str(&ev, "proto_guess", g.proto);
        hp_ev_int(&ev, "guess_confidence", g.confidence);
        for (int i = 0; i < g.ndetails; i++)
            hp_ev_bytes(&ev, g.details[i].key, g.details[i].value, g.details[i].len);
    }
    if (known_clean)
        memset(pcl, 0, sizeof(*pcl));   /* these very bytes were matched already */
    else
        hp_payloadclass_scan(data, len, pcl);
    if (pcl->nrules) {                /* exploit recognition (data/trap/exploits.yar) */
        hp_ev_strings(&ev, "attack_classes", pcl->classes, pcl->nclasses);
        hp_ev_strings(&ev, "cves", pcl->cves, pcl->ncves);
        hp_ev_strings(&ev, "class_rules", pcl->rules, pcl->nrules);
    }
    if (!may_reply)
        pcl->reply = NULL;            /* only a first TCP chunk is answered; UDP never (no amplification) */
    if (pcl->reply)
        hp_ev_str(&ev, "reply_rule", pcl->reply_rule);
    if (hp_output_disk_low())
        hp_ev_str(&ev, "payload_omitted", "disk_floor");
    else
        hp_ev_bytes(&ev, "payload", data, len);
    hp_ev_emit(&ev);
    hp_capture_scan(ctx, data, len, "trap");   /* exploits name their droppers' URLs */
}

/* Record n bytes of the stream as one chunk (within max_capture); the
 * caller consumes them. */
static void trap_record(struct hp_conn *c, const uint8_t *data, size_t n)
{
    const struct trap_conf *tc = conf_of(c);
    struct trap_conn *t = c->pstate;
    if (n == 0)
        return;
    size_t rec = n;
    if (t->recorded >= tc->max_capture)
        rec = 0;
    else if (t->recorded + rec > tc->max_capture)
        rec = (size_t)(tc->max_capture - t->recorded);
    if (rec > 0) {
        struct hp_payloadclass pcl;
        bool first = t->recorded == 0 && !t->banner_sent;
        emit_payload(&c->ctx, t->recorded, data, rec, 0, HP_GUESS_TCP, &pcl, first,
                     t->recorded == 0 && rec == t->clean_len);
        t->recorded += rec;
        if (pcl.reply)
            hp_conn_send(c, pcl.reply, pcl.reply_len);
    }
    if (rec < n && !t->limit_noted) {
        struct hp_ev ev;
        t->limit_noted = true;
        hp_ev_begin(&ev, &c->ctx, "trap.capture_limit");
        hp_ev_uint(&ev, "max_capture", tc->max_capture);
        hp_ev_emit(&ev);
    }
}

/* Record and drop everything buffered between callbacks (pause, EOF, close). */
static void trap_flush_buffered(struct hp_conn *c)
{
    size_t have;
    const uint8_t *data = hp_conn_input(c, &have);
    trap_record(c, data, have);
    hp_conn_consume(c, have);
}

static void http_answer(struct hp_conn *c, struct hp_rd *in, size_t reqlen)
{
    static const char body[] = "<html>\r\n<head><title>404 Not Found</title></head>\r\n"
                               "<body>\r\n<h1>Not Found</h1>\r\n</body>\r\n</html>\r\n";
    char date[64], hdr[256];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int n = snprintf(hdr, sizeof(hdr),
                     "HTTP/1.1 404 Not Found\r\nDate: %s\r\nContent-Type: text/html\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n", date, sizeof(body) - 1);
    trap_record(c, hp_rd_ptr(in), reqlen);
    hp_rd_skip(in, reqlen);
    hp_conn_send(c, hdr, (size_t)n);
    hp_conn_send(c, body, sizeof(body) - 1);
    hp_conn_close(c, "http_reply");
}

/* A built banner is made at the first connection, not at configuration:
 * it reads the sensor's personality, which needs the identity loaded. */
static void trap_build_banner(struct trap_conf *tc)
{
    struct hp_buf b;
    hp_buf_init(&b, 64 * 1024);
    if (hp_trap_banner_build(tc->banner_kind, &b) && b.len) {
        tc->banner = hp_xcalloc(1, b.len);
        memcpy(tc->banner, b.data, b.len);
        tc->banner_len = b.len;
    }
    hp_buf_free(&b);
    tc->banner_kind = HP_TRAP_BANNER_NONE;     /* once, whatever came of it */
}

static void trap_accept(struct hp_conn *c)
{
    /* the service's own conf: built once on the network thread, then read */
    struct trap_conf *tc = (struct trap_conf *)conf_of(c);
    struct trap_conn *t = c->pstate;
    if (tc->banner_kind != HP_TRAP_BANNER_NONE)
        trap_build_banner(tc);
    if (tc->banner_len) {
        t->timer_is_banner = true;
        hp_conn_set_timer(c, tc->banner_delay_ms ? tc->banner_delay_ms : 1);
    }
}

/* Web traffic on a catch-all port goes to the HTTP engine, whatever the port. */
static bool trap_handover(struct hp_conn *c, struct hp_rd *in)
{
    const struct trap_conf *tc = conf_of(c);
    struct trap_conn *t = c->pstate;
    if (t->sniffed || t->recorded > 0 || (!tc->to_http && !tc->to_tls))
        return false;
    if (hp_rd_left(in) < 8 && !(c->flags & HP_CONN_EOF))
        return false;                         /* a few more bytes decide (or the flush timer does) */
    t->sniffed = true;
    const uint8_t *p = hp_rd_ptr(in);
    size_t n = hp_rd_left(in);
    if ((tc->to_http && hp_http_sniff(p, n)) || (tc->to_tls && hp_tls_sniff(p, n))) {
        hp_conn_handover(c, &hp_proto_http);
        return true;
    }
    return false;
}

/*
 * A handshake the real service answers at once (WebLogic's T3 HELO, JDWP's
 * echo; the "reply" metas of data/trap/exploits.yar): recorded as its own
 * chunk and answered now, not after flush_after, because the client waits
 * for the answer before it sends its exploit.  Only the first bytes of a
 * connection, a few times and a few KiB at most, are looked at this way.
 */
#define TRAP_HANDSHAKE_MAX 4096
#define TRAP_HANDSHAKE_TRIES 8

static bool trap_handshake(struct hp_conn *c, struct hp_rd *in)
{
    struct trap_conn *t = c->pstate;
    size_t n = hp_rd_left(in);
    if (t->recorded || t->banner_sent || t->reply_tries >= TRAP_HANDSHAKE_TRIES || n == 0 ||
        n > TRAP_HANDSHAKE_MAX || !hp_payloadclass_has_replies())
        return false;
    t->reply_tries++;
    struct hp_payloadclass pcl;
    hp_payloadclass_scan(hp_rd_ptr(in), n, &pcl);
    if (!pcl.reply) {
        /* the chunk these bytes begin is matched again when it is recorded,
         * unless it is exactly them and they matched nothing */
        t->clean_len = pcl.nrules ? 0 : (uint32_t)n;
        return false;
    }
    trap_record(c, hp_rd_ptr(in), n);         /* records the chunk and sends the reply */
    hp_rd_skip(in, n);
    hp_conn_set_timer(c, 0);
    return true;
}

static void trap_data(struct hp_conn *c, struct hp_rd *in)
{
    const struct trap_conf *tc = conf_of(c);
    struct trap_conn *t = c->pstate;
    if (trap_handover(c, in))
        return;                               /* nothing consumed: the HTTP engine gets it all */
    /* The reader covers every unconsumed byte; what is not skipped stays buffered. */
    if (tc->http_reply && !t->http_done && t->recorded == 0) {
        /* asked again on every arrival: hp_http_request_len_more() keeps it linear */
        long rl = hp_http_request_len_more(&t->http, hp_rd_ptr(in), hp_rd_left(in), tc->chunk_size);
        if (rl > 0) {
            t->http_done = true;
            http_answer(c, in, (size_t)rl);
            return;
        }
        if (rl < 0 || hp_rd_left(in) >= tc->chunk_size)
            t->http_done = true;
    }
    if (trap_handshake(c, in))
        return;
    while (hp_rd_left(in) >= tc->chunk_size) {
        trap_record(c, hp_rd_ptr(in), tc->chunk_size);
        hp_rd_skip(in, tc->chunk_size);
    }
    size_t have = hp_rd_left(in);
    /* A client that spoke first gets no banner; a pause flushes the chunk. */
    t->timer_is_banner = false;
    hp_conn_set_timer(c, have ? tc->flush_after_ms : 0);
}

static void trap_timer(struct hp_conn *c)
{
    const struct trap_conf *tc = conf_of(c);
    struct trap_conn *t = c->pstate;
    if (t->timer_is_banner && !t->banner_sent) {
        t->banner_sent = true;
        t->timer_is_banner = false;
        hp_conn_send(c, tc->banner, tc->banner_len);
        return;
    }
    trap_flush_buffered(c);
}

static void trap_eof(struct hp_conn *c)
{
    trap_flush_buffered(c);
    hp_conn_close(c, "eof");
}

static void trap_close(struct hp_conn *c)
{
    trap_flush_buffered(c);
}

static void trap_datagram(struct hp_udp_peer *p, const uint8_t *data, size_t len)
{
    const struct trap_conf *tc = p->cfg->proto_conf;
    size_t rec = len < tc->max_capture ? len : (size_t)tc->max_capture;
    struct hp_payloadclass pcl;
    emit_payload(&p->ctx, 0, data, rec, len, HP_GUESS_UDP, &pcl, false, false);
    hp_quic_client_initial(p, data, len);          /* a QUIC client: its hello too */
}

const struct hp_proto hp_proto_trap = {
    .name = "trap",
    .transports = HP_TRANSPORT_TCP | HP_TRANSPORT_UDP,
    .default_tcp_ports = NULL,
    .conn_state_size = sizeof(struct trap_conn),
    .configure = trap_configure,
    .unconfigure = trap_unconfigure,
    .start = trap_start,
    .on_accept = trap_accept,
    .on_data = trap_data,
    .on_eof = trap_eof,
    .on_timer = trap_timer,
    .on_close = trap_close,
    .on_datagram = trap_datagram,
};
