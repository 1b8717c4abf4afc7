/*
 * http.c - protocol module "http": the web honeypot engine on any port.
 *
 * Per connection:
 *
 *   bytes --(TLS? hp_tls_sniff)--> tlsterm_conn.c / tlsterm.c (OpenSSL, memory BIOs) --> plain
 *   plain --> http_parse.c (one request at a time, pipelining, chunked)
 *         --> view (intel/httpview.h: raw and decoded forms)
 *         --> webclass.c (attack classes, CVEs, injected commands)
 *         --> http_rules.c (the response: first matching rule)
 *         --> response (through TLS when there is TLS), http.request event,
 *             URLs of the request and of its injected commands to the capture
 *             pipeline, Basic credentials and login forms as http.credentials
 *             (http_login.c)
 *
 * Before the TLS handshake the raw ClientHello is fingerprinted (JA3, JA4,
 * SNI, ALPN: tls.client_hello) and our own ServerHello too (JA3S:
 * tls.server_hello).  A connection arrives here either from a service with
 * protocol = http, or from the trap (hp_conn_handover) with that service's
 * configuration - the engine's defaults apply then.
 *
 * Proxy mode (the service has "backend ="; docs/proxy.md): each request is
 * parsed, classified and logged as above, then sent to the backend on a
 * connection of its own (http_px_*, http_proxy.c) instead of being answered
 * by the rules, and the backend's response relayed back (http.response).
 * One request at a time: the next one is parsed only when the response is
 * complete, so keep-alive and pipelining cannot mix responses up.  When the
 * backend cannot be reached or the source's budget is spent, the request and
 * the rest of the connection are answered by the rules (proxy.fallback).
 *
 * Bounds: request heads 64 KiB (http_parse.h), bodies kept up to max_body
 * (1 MiB; the rest is read and dropped), requests per connection
 * (keepalive_requests, 100), plaintext buffered under TLS 1 MiB.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "backend.h"
#include "buf.h"
#include "capture/capture.h"
#include "capture/store.h"
#include "capture/upload.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "http.h"
#include "http_memo.h"
#include "http_inject.h"
#include "http_login.h"
#include "http_multipart.h"
#include "http_parse.h"
#include "http_proxy.h"
#include "http_rules.h"
#include "http_gzip.h"
#include "http_static.h"
#include "http_style.h"
#include "identity.h"
#include "reader.h"
#include "intel/tlsfp.h"
#include "intel/webclass.h"
#include "intel/knowledge.h"
#include "log.h"
#include "proto.h"
#include "relay.h"
#include "sensor.h"
#include "tlsterm_conn.h"
#include "util.h"

#define HTTP_RAW_MAX       (64 * 1024)     /* raw request bytes in an event */
#define HTTP_PREVIEW_MAX   1024            /* body preview in an event */
#define HTTP_PLAIN_MAX     (1024 * 1024)   /* decrypted input waiting to be parsed */
#define HTTP_SCAN_MAX      (256 * 1024)    /* request text handed to the URL extractor */
#define HTTP_MEMO_SLOTS    64              /* verdicts kept per rule set (http_memo.h) */

struct http_conf {
    char *server;                  /* Server header; "" for none */
    struct hp_webrules *rules;     /* NULL: the built-in rules */
    uint64_t max_body;
    uint64_t keepalive_requests;
    bool tls_auto;                 /* sniff each connection for a ClientHello */
    struct hp_http_memo *memo;     /* verdicts on requests seen before, for these rules (http_memo.h) */
};

struct http_px;

struct http_conn {
    struct hp_http_parser *parser;
    struct http_px *px;            /* proxy mode: the request at the backend (http_px_*) */
    bool px_busy;                  /* a request is at the backend: read no further request */
    bool px_off;                   /* fell back to the rule engine for the rest of the connection */
    bool px_admitted;              /* budget counted for this connection */
    bool eof_pending;              /* the client half-closed while px_busy */
    struct hp_tlsterm *tls;        /* non-NULL once the connection is TLS */
    struct hp_buf plain;           /* decrypted bytes not yet parsed */
    bool sniffed;
    struct hp_tlsconn_hello hello; /* tls.client_hello emitted */
    bool server_hello_seen;
    bool closing;
    int64_t linger_end;            /* lingering after a 413 until then (hp_mono_ms), 0 not */
    bool continued;                /* a 100 Continue went out for the request being read */
    unsigned nreq;
};

static struct {
    bool started;
    struct hp_webrules *builtin;
    struct http_conf defaults;
    char *data_dir;                /* where uploaded files are kept (hp_upload_record) */
} E;

/* ---- configuration -------------------------------------------------------------- */

/*
 * The Server header when a service sets none: drawn once per sensor from
 * what common servers really send and kept in the identity file, so sensors
 * do not share one banner and each keeps its own across restarts.
 */
static const char *sensor_server(void)
{
    /* nginx only: the error pages are nginx's, and must match the banner */
    static const char *const choices[] = {
        "nginx", "nginx/1.18.0 (Ubuntu)", "nginx/1.22.1", "nginx/1.24.0 (Ubuntu)", "nginx/1.14.2",
        "nginx/1.20.1", "nginx/1.26.0",
    };
    const char *v = hp_identity_get("http_server");
    if (v && v[0])
        return v;
    v = choices[hp_random_u64() % HP_ARRAY_LEN(choices)];
    hp_identity_set("http_server", v);
    return v;
}

/*
 * The rest of the web site's per-sensor facts, drawn at first start and kept
 * in the identity: when its files were written (the welcome page's
 * Last-Modified and ETag: a shared one would let a search engine group the
 * sensors), and the key of the rules' {{random_hex}} values (fake secrets
 * that must read the same after a restart).
 */
static void sensor_site(void)
{
    const char *t = hp_identity_get("http_site_time");
    long long when = t ? strtoll(t, NULL, 10) : 0;
    if (when <= 0) {
        /* written one to twenty-four months before the sensor first started */
        when = (long long)time(NULL) - 30 * 86400 - (long long)(hp_random_u64() % (700 * 86400));
        char num[24];
        snprintf(num, sizeof(num), "%lld", when);
        hp_identity_set("http_site_time", num);
    }
    hp_webrules_set_site_time(when);
    const char *key = hp_identity_get("http_secret");
    if (!key || strlen(key) < 32) {
        char hex[65];
        hp_random_hex(hex, 64);
        hp_identity_set("http_secret", hex);
        key = hp_identity_get("http_secret");
    }
    if (key)
        hp_webrules_set_secret(key, strlen(key));
}

static void conf_defaults(struct http_conf *hc)
{
    hc->server = NULL;             /* the sensor's own, chosen at start (sensor_server) */
    hc->max_body = 1024 * 1024;
    hc->keepalive_requests = 100;
    hc->tls_auto = true;
}

static int http_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct http_conf *hc = hp_xcalloc(1, sizeof(*hc));
    conf_defaults(hc);
    svc->proto_conf = hc;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        int bad = 0, b;
        if (strcmp(kv->key, "server") == 0) {
            free(hc->server);
            hc->server = hp_xstrdup(kv->value);
        } else if (strcmp(kv->key, "max_body") == 0) {
            bad = hp_parse_size(kv->value, &hc->max_body) || hc->max_body > (64u << 20);
        } else if (strcmp(kv->key, "keepalive_requests") == 0) {
            bad = hp_parse_u64(kv->value, 1, 100000, &hc->keepalive_requests);
        } else if (strcmp(kv->key, "tls") == 0) {
            bad = hp_parse_bool(kv->value, &b);
            hc->tls_auto = !bad && b;
        } else if (strcmp(kv->key, "rules") == 0 || strcmp(kv->key, "wowhoneypot_rules") == 0) {
            /* loaded at start(): files are read before the sandbox, not at configure time */
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol http)", kv->line, kv->key,
                     svc->name);
            return -1;
        }
        if (bad) {
            snprintf(err, errlen, "%d: [service %s]: bad value for %s: '%s'", kv->line, svc->name, kv->key,
                     kv->value);
            return -1;
        }
    }
    return 0;
}

static void http_unconfigure(struct hp_service_cfg *svc)
{
    struct http_conf *hc = svc->proto_conf;
    if (hc) {
        free(hc->server);
        hp_webrules_free(hc->rules);
        hp_http_memo_free(hc->memo);
    }
    free(hc);
    svc->proto_conf = NULL;
}

int hp_http_engine_start(const struct hp_config *cfg, char *err, size_t errlen)
{
    if (E.started)
        return 0;
    conf_defaults(&E.defaults);
    E.defaults.server = hp_xstrdup(sensor_server());
    sensor_site();
    E.builtin = hp_webrules_builtin(err, errlen);
    if (!E.builtin || hp_webclass_init(err, errlen) != 0 || hp_tlsterm_init(cfg->data_dir, err, errlen) != 0)
        return -1;
    free(E.data_dir);
    E.data_dir = hp_xstrdup(cfg->data_dir);
    E.defaults.memo = hp_http_memo_new(HTTP_MEMO_SLOTS);
    E.started = true;
    return 0;
}

/* A service's own rule file (rules = PATH) and WOWHoneypot rules (wowhoneypot_rules = XML [DIR]). */
static int http_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct http_conf *hc = svc->proto_conf;
    if (hp_http_engine_start(cfg, err, errlen) != 0)
        return -1;
    if (!hc->server)
        hc->server = hp_xstrdup(sensor_server());
    if (!hc->memo)
        hc->memo = hp_http_memo_new(HTTP_MEMO_SLOTS);
    const struct hp_kv *r = hp_kv_find(svc->opts, "rules");
    const struct hp_kv *w = hp_kv_find(svc->opts, "wowhoneypot_rules");
    if (r) {
        hc->rules = hp_webrules_load_file(r->value, NULL, err, errlen);
        if (!hc->rules)
            return -1;
    }
    if (w) {
        char xml[1024], dir[1024] = "";
        if (sscanf(w->value, "%1023s %1023s", xml, dir) < 1) {
            snprintf(err, errlen, "wowhoneypot_rules: expected FILE.xml [MRRDATA_DIR]");
            return -1;
        }
        if (!hc->rules && !(hc->rules = hp_webrules_load_text("", 0, "wowhoneypot", NULL, err, errlen)))
            return -1;
        if (hp_webrules_add_wow(hc->rules, xml, dir[0] ? dir : NULL, err, errlen) < 0)   /* else: how many */
            return -1;
    }
    return 0;
}

static void http_stop(struct hp_service_cfg *svc)
{
    (void)svc;
}

static const struct http_conf *conf_of(const struct hp_conn *c)
{
    const struct hp_service_cfg *cfg = hp_conn_service_cfg(c);
    if (c->svc && cfg->proto == &hp_proto_http && cfg->proto_conf)
        return cfg->proto_conf;
    return &E.defaults;            /* handed over by the trap */
}


/* ---- output ------------------------------------------------------------------------ */

/* Bytes to the client, through TLS when the connection has it. */
static void out_send(struct hp_conn *c, const void *data, size_t len)
{
    struct http_conn *h = c->pstate;
    if (h->tls)
        hp_tlsterm_conn_send(c, h->tls, data, len);
    else
        hp_conn_send(c, data, len);
}

/* The connection's last bytes (finish() follows before the callback returns):
 * in clear, the response and the FIN leave in one segment (hp_conn_send_last). */
static void out_send_last(struct hp_conn *c, const void *data, size_t len)
{
    if (((struct http_conn *)c->pstate)->tls)
        out_send(c, data, len);                 /* a close_notify comes before the FIN */
    else
        hp_conn_send_last(c, data, len);
}

static void finish(struct hp_conn *c, const char *reason)
{
    struct http_conn *h = c->pstate;
    h->closing = true;
    if (h->tls)
        hp_tlsterm_conn_bye(c, h->tls);
    hp_conn_close(c, reason);
}

/* ---- events ------------------------------------------------------------------------ */

static void ev_bytes(struct hp_ev *ev, const char *key, struct hp_bytes b)
{
    hp_ev_bytes(ev, key, b.p, b.n);
}

/* Headers in order, duplicates kept: [{"name":..,"value":..}, ...]. */
static void put_headers(struct hp_ev *ev, const struct hp_http_view *v)
{
    hp_ev_arr_begin(ev, "headers");
    for (size_t i = 0; i < v->nheaders; i++) {
        hp_ev_obj_begin(ev, NULL);
        ev_bytes(ev, "name", v->headers[i].name);
        ev_bytes(ev, "value", v->headers[i].value);
        hp_ev_obj_end(ev);
    }
    hp_ev_arr_end(ev);
}

static void put_header_value(struct hp_ev *ev, const struct hp_http_view *v, const char *name, const char *key)
{
    const struct hp_http_hdr *h = hp_http_view_header(v, name);
    if (h)
        ev_bytes(ev, key, h->value);
}

/* "injected": the simple commands of the injected text, as the shell parses them (never run). */
static void put_injected(struct hp_ev *ev, const struct hp_webclass *wc)
{
    if (!wc->commands_len)
        return;
    hp_ev_arr_begin(ev, "injected");
    hp_http_injected(ev, wc->commands, wc->commands_len);
    hp_ev_arr_end(ev);
}

struct reqinfo {                   /* what one request came to */
    const struct hp_http_req *req;
    const struct hp_http_view *v;
    const struct hp_webclass *wc;
    const struct hp_webresp *resp;
    int status;
    const uint8_t *raw;
    size_t raw_len;
    struct hp_buf *uri;            /* room for the decoded uri (empty) */
};

/* The classifier's verdict: attack_classes and cves always, the rest when present. */
static void put_verdict(struct hp_ev *ev, const struct hp_webclass *wc)
{
    hp_ev_strings(ev, "attack_classes", wc->classes, wc->nclasses);
    hp_ev_strings(ev, "cves", wc->cves, wc->ncves);
    if (wc->owasp_iot)
        hp_ev_str(ev, "owasp_iot", wc->owasp_iot);
    if (wc->nrules)
        hp_ev_strings(ev, "class_rules", wc->rules, wc->nrules);
    if (wc->commands_len) {
        hp_ev_bytes(ev, "commands", wc->commands, wc->commands_len);
        put_injected(ev, wc);
    }
}

static void emit_request(struct hp_conn *c, const struct reqinfo *ri)
{
    const struct hp_http_view *v = ri->v;
    struct http_conn *h = c->pstate;
    struct hp_ev ev;
    hp_ev_begin(&ev, &c->ctx, "http.request");
    ev_bytes(&ev, "method", v->method);
    ev_bytes(&ev, "uri", v->target);
    struct hp_buf *du = ri->uri;                /* the decoded uri: path ? query */
    hp_buf_put(du, v->dpath.p, v->dpath.n);
    if (v->query.n) {
        hp_buf_putc(du, '?');
        hp_buf_put(du, v->dquery.p, v->dquery.n);
    }
    hp_ev_bytes(&ev, "uri_decoded", du->data, du->len);
    ev_bytes(&ev, "version", v->version);
    put_header_value(&ev, v, "Host", "host");
    put_header_value(&ev, v, "User-Agent", "user_agent");
    put_headers(&ev, v);
    hp_ev_uint(&ev, "body_size", ri->req->body_len);
    if (v->body.n) {
        char sha[HP_SHA256_HEX_LEN + 1];
        hp_sha256_hex(v->body.p, v->body.n, sha);
        hp_ev_str(&ev, "body_sha256", sha);
        hp_ev_bytes(&ev, "body_preview", v->body.p, v->body.n < HTTP_PREVIEW_MAX ? v->body.n : HTTP_PREVIEW_MAX);
        if (ri->req->body_truncated)
            hp_ev_bool(&ev, "body_truncated", true);
    }
    if (ri->status)
        hp_ev_int(&ev, "status", ri->status);
    else
        hp_ev_str(&ev, "backend", hp_conn_service_cfg(c)->backend->spec);   /* http.response has the status */
    if (ri->resp)
        hp_ev_str(&ev, "rule", ri->resp->id);
    if (ri->resp && ri->resp->tags && ri->resp->tags[0])
        hp_ev_str(&ev, "tags", ri->resp->tags);
    put_verdict(&ev, ri->wc);
    hp_ev_bool(&ev, "tls", h->tls != NULL);
    hp_ev_uint(&ev, "request_no", h->nreq);
    hp_ev_bytes(&ev, "raw", ri->raw, ri->raw_len < HTTP_RAW_MAX ? ri->raw_len : HTTP_RAW_MAX);
    if (ri->raw_len > HTTP_RAW_MAX)
        hp_ev_bool(&ev, "raw_truncated", true);
    hp_ev_emit(&ev);
}

/* ---- credentials ---------------------------------------------------------------------- */

static void emit_credentials(struct hp_conn *c, const struct hp_http_login *l, const struct hp_http_view *v)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, &c->ctx, "http.credentials");
    hp_ev_str(&ev, "method", l->kind);
    hp_ev_bytes(&ev, "username", l->user, l->ulen);
    hp_ev_bytes(&ev, "password", l->pass, l->plen);
    ev_bytes(&ev, "uri", v->target);
    hp_knowledge_ev_cred(&ev, l->user, l->ulen, l->pass, l->plen);
    hp_ev_emit(&ev);
}

/* The file fields of an upload form (web shells, implants, firmware) are
 * kept by SHA-256 as session.file_upload, answered or relayed alike. */
static bool upload_part(void *arg, const struct hp_mp_part *p)
{
    struct hp_conn *c = arg;
    if (!p->has_filename || p->data.n == 0)
        return true;
    struct hp_upload_info ui = { .data_dir = E.data_dir, .filename = (const char *)p->filename.p,
                                 .filename_len = p->filename.n, .detail = "http", .size = p->data.n };
    hp_upload_record(&c->ctx, &ui, p->data.p, p->data.n, NULL);
    return true;
}

static void upload_parts(struct hp_conn *c, const struct hp_http_view *v)
{
    const struct hp_http_hdr *ct = hp_http_view_header(v, "Content-Type");
    struct hp_bytes boundary;
    if (ct && v->body.n && hp_mp_boundary(ct->value, &boundary))
        hp_mp_parse(v->body, boundary, upload_part, c);
}

/* The login a request carries (http_login.h): its Basic header, and a POSTed login form or JSON object. */
static void request_credentials(struct hp_conn *c, const struct hp_http_view *v)
{
    struct hp_http_login l;
    const struct hp_http_hdr *a = hp_http_view_header(v, "Authorization");
    if (a && hp_http_login_basic(a->value, &l))
        emit_credentials(c, &l, v);
    if (v->method.n == 4 && memcmp(v->method.p, "POST", 4) == 0 && hp_http_login_body(v->body, &l))
        emit_credentials(c, &l, v);
}

/* ---- one request ------------------------------------------------------------------------ */

/* As much of p[0..n) as the buffer's cap leaves room for, then a newline. */
static void put_capped(struct hp_buf *t, const uint8_t *p, size_t n)
{
    size_t room = t->cap - t->len > 1 ? t->cap - t->len - 1 : 0;
    hp_buf_put(t, p, n < room ? n : room);
    hp_buf_putc(t, '\n');
}

/* Bytes of raw up to and including the empty line that ends its head; all
 * of raw when it has none (a request cut short).  Empty lines before the
 * request line (which the parser skips, as nginx does) belong to the head:
 * they must not end it before its headers. */
static size_t head_end(const uint8_t *raw, size_t len)
{
    struct hp_rd r;
    hp_rd_init(&r, raw, len);
    for (int ch = hp_rd_peek_u8(&r, 0); ch == '\r' || ch == '\n'; ch = hp_rd_peek_u8(&r, 0))
        hp_rd_skip(&r, 1);
    size_t lead = hp_rd_pos(&r);
    long crlf = hp_rd_find(&r, "\r\n\r\n", 4), lf = hp_rd_find(&r, "\n\n", 2);
    size_t end = len;
    if (crlf >= 0)
        end = lead + (size_t)crlf + 4;
    if (lf >= 0 && lead + (size_t)lf + 2 < end)
        end = lead + (size_t)lf + 2;
    return end;
}

/*
 * URLs a request points at go to the capture pipeline (hp_capture_scan_request):
 * any URL in what the application reads (raw and decoded path and query,
 * body, and the commands the classifier found injected: "?page=http://...",
 * "wget http://..." in a form field), and only download tools' URLs in the
 * request line and headers (Shellshock's User-Agent), whose literal URLs are
 * Referers, crawlers' "+http://.../bot.html" and proxy probes' targets.
 */
static size_t scan_urls(struct hp_conn *c, const struct hp_http_view *v, const struct hp_webclass *wc,
                        const uint8_t *raw, size_t raw_len)
{
    struct hp_buf t;
    hp_buf_init(&t, HTTP_SCAN_MAX);
    hp_buf_put(&t, v->path.p, v->path.n);
    hp_buf_putc(&t, '?');
    put_capped(&t, v->query.p, v->query.n);
    hp_buf_put(&t, v->dpath.p, v->dpath.n);
    hp_buf_putc(&t, '?');
    put_capped(&t, v->dquery.p, v->dquery.n);
    put_capped(&t, v->body.p, v->body.n);
    if (v->dbody.p != v->body.p)
        put_capped(&t, v->dbody.p, v->dbody.n);
    put_capped(&t, (const uint8_t *)wc->commands, wc->commands_len);
    if (raw_len > HTTP_SCAN_MAX)
        raw_len = HTTP_SCAN_MAX;
    size_t found = hp_capture_scan_request(&c->ctx, raw, head_end(raw, raw_len), t.data, t.len, "http");
    hp_buf_free(&t);
    return found;
}

/* The same for a request known only as bytes (refused, cut short). */
static void scan_raw_urls(struct hp_conn *c, const uint8_t *raw, size_t len)
{
    if (len > HTTP_SCAN_MAX)
        len = HTTP_SCAN_MAX;
    size_t h = head_end(raw, len);
    hp_capture_scan_request(&c->ctx, raw, h, raw + h, len - h, "http");
}

static bool is_head(const struct hp_http_view *v)
{
    return v->method.n == 4 && memcmp(v->method.p, "HEAD", 4) == 0;
}

/* Does a block of "Name: value\r\n" lines have this header? */
static bool has_header(const char *lines, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = lines; p && *p; ) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':')
            return true;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return false;
}

/* The value of the first "NAME:" line of lines (blanks trimmed) copied to
 * out, or NULL when there is none or it is empty. */
static const char *header_value(const char *lines, const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    for (const char *p = lines; p && *p; ) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1, *e = p + len;
            while (v < e && (*v == ' ' || *v == '\t'))
                v++;
            while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if (e == v || (size_t)(e - v) >= outlen)
                return NULL;
            memcpy(out, v, (size_t)(e - v));
            out[e - v] = '\0';
            return out;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

/* Remove every "NAME:" line whose value is empty from the rendered headers: a
 * rule writes `header Server:` for a product that sends no Server header
 * (Elasticsearch, geth), which also stops the configured one being added. */
static void drop_empty_header(struct hp_buf *hdrs, const char *name)
{
    size_t n = strlen(name), w = 0;
    uint8_t *d = hdrs->data;
    if (!d)
        return;
    for (size_t r = 0; r < hdrs->len;) {
        const uint8_t *nl = memchr(d + r, '\n', hdrs->len - r);
        size_t end = nl ? (size_t)(nl - d) + 1 : hdrs->len, len = end - r;
        bool empty = len >= n + 1 && strncasecmp((const char *)d + r, name, n) == 0 && d[r + n] == ':';
        for (size_t i = r + n + 1; empty && i < end; i++)
            if (d[i] != ' ' && d[i] != '\t' && d[i] != '\r' && d[i] != '\n')
                empty = false;
        if (!empty) {
            memmove(d + w, d + r, len);
            w += len;
        }
        r = end;
    }
    hdrs->len = w;
}

static bool authorized(const struct hp_http_view *v)
{
    const struct hp_http_hdr *a = hp_http_view_header(v, "Authorization");
    return a && a->value.n > 6;
}

/* The answer is nginx's own site (a rule marked `static`: its welcome page,
 * its 404), not a device a rule imitates: then nginx's refusals apply. */
static bool nginx_site(const struct hp_webresp *r)
{
    return !r || r->nginx_static;
}

/* nginx answers "Expect: 100-continue" when it discards the body of a file
 * it serves (the static module, GET and HEAD), body or none, and never
 * before its refusals (404, 405, 400: they come first and close the matter). */
static bool nginx_continues(const struct hp_http_req *req, const struct hp_webresp *r, bool refused)
{
    return req->expect_continue && r && r->nginx_static && r->status < 400 && !refused;
}

/* nginx's static module: a file is served to GET and HEAD only, and a
 * missing one is 404 to POST too; any other method is 405.  Behind Debian's
 * "try_files $uri $uri/ =404" a missing one is 404 to every method.  0: served. */
static int nginx_static_refusal(const struct hp_webresp *r, const struct hp_http_view *v)
{
    struct hp_bytes m = v->method;
    if (!r || !r->nginx_static || (m.n == 3 && !memcmp(m.p, "GET", 3)) || (m.n == 4 && !memcmp(m.p, "HEAD", 4)))
        return 0;
    if (r->status == 404 && (r->nginx_try_files || (m.n == 4 && !memcmp(m.p, "POST", 4))))
        return 0;
    return 405;
}

static const struct hp_webresp *match_rules(const struct http_conf *hc, const struct hp_http_view *v)
{
    const struct hp_webresp *r = hc->rules ? hp_webrules_match(hc->rules, v) : NULL;
    return r ? r : hp_webrules_match(E.builtin, v);
}

static bool http_px_begin(struct hp_conn *c, const struct hp_http_req *req, const uint8_t *raw, size_t raw_len);
static void http_eof(struct hp_conn *c);

/*
 * The buffers a request is answered with: the view's decoded fields, the
 * rule's headers and body, the response, the event's decoded uri.  The
 * network thread answers one request at a time, so they are kept from one
 * request to the next: five malloc/free pairs and their growth per request
 * were a quarter of the instructions of a keep-alive request.  A buffer
 * that grew past REQBUF_KEEP is given back after its request, so one large
 * answer does not stay in memory.  A request answered while another is
 * (not done today) gets buffers of its own.
 */
#define REQBUF_KEEP (256 * 1024)

struct reqbufs {
    struct hp_buf scratch, hdrs, body, out, uri;
    bool busy;
};

static struct reqbufs req_bufs;

static void reqbufs_init(struct reqbufs *rb)
{
    hp_buf_init(&rb->scratch, 4u << 20);
    hp_buf_init(&rb->hdrs, 64 * 1024);
    hp_buf_init(&rb->body, 8u << 20);
    hp_buf_init(&rb->out, 16u << 20);
    hp_buf_init(&rb->uri, HTTP_RAW_MAX);
}

static struct reqbufs *reqbufs_take(struct reqbufs *own)
{
    struct reqbufs *rb = req_bufs.busy ? own : &req_bufs;
    if (rb == own || !rb->scratch.cap)
        reqbufs_init(rb);
    hp_buf_reset(&rb->scratch);
    hp_buf_reset(&rb->hdrs);
    hp_buf_reset(&rb->body);
    hp_buf_reset(&rb->out);
    hp_buf_reset(&rb->uri);
    rb->busy = true;
    return rb;
}

static void reqbufs_give(struct reqbufs *rb, const struct reqbufs *own)
{
    struct hp_buf *all[] = { &rb->scratch, &rb->hdrs, &rb->body, &rb->out, &rb->uri };
    for (size_t i = 0; i < HP_ARRAY_LEN(all); i++)
        if (rb == own || all[i]->alloc > REQBUF_KEEP)
            hp_buf_free(all[i]);
    rb->busy = false;
}

/* Answer one parsed request; false when the connection ends after it. */
static bool handle_request(struct hp_conn *c, const struct hp_http_req *req, const uint8_t *raw, size_t raw_len)
{
    const struct http_conf *hc = conf_of(c);
    struct http_conn *h = c->pstate;
    const char *server = hc->server && hc->server[0] ? hc->server : NULL;
    struct reqbufs own, *rb;
    struct hp_http_view v;
    struct hp_http_memo_key mk;
    struct hp_http_verdict fresh;
    bool continued = h->continued;              /* a 100 Continue went out already */
    h->continued = false;
    if (http_px_begin(c, req, raw, raw_len))
        return true;                            /* at the backend; the response comes later */
    h->nreq++;
    rb = reqbufs_take(&own);
    struct hp_buf *scratch = &rb->scratch, *hdrs = &rb->hdrs, *body = &rb->body, *out = &rb->out;
    hp_http_view_build(req, c->ctx.dst_port, h->tls != NULL, scratch, &v);
    if (server)
        v.server = (struct hp_bytes){ (const uint8_t *)server, strlen(server) };
    hp_http_memo_key(&mk, hc->memo, &v, raw, raw_len);
    const struct hp_http_verdict *vd = hp_http_memo_get(hc->memo, &mk);
    if (vd) {
        hp_sensor.n.http_reused++;              /* sensor.stats: how much of the traffic repeats */
    } else {                                    /* not seen lately: decide */
        hp_webclass_classify(&v, &fresh.wc);
        fresh.resp = match_rules(hc, &v);
        fresh.no_urls = false;
    }
    const struct hp_webclass *wc = vd ? &vd->wc : &fresh.wc;
    const struct hp_webresp *resp = vd ? vd->resp : fresh.resp;
    v.injected = (struct hp_bytes){ (const uint8_t *)wc->commands, wc->commands_len };   /* {{shell_output}} */
    bool keep = req->keep_alive && h->nreq < hc->keepalive_requests;
    int status = resp ? resp->status : 200;
    /* What nginx answers instead (a head too large, HTTP/1.1 without Host,
     * TRACE, ...) - unless a rule speaks for a device that answers such
     * requests (HG532's exploit has no Host). */
    bool ngx_refuses = req->nginx_status && nginx_site(resp);
    bool cont = nginx_continues(req, resp, ngx_refuses || nginx_static_refusal(resp, &v)) && !continued;
    if (ngx_refuses) {
        char page[1024];
        keep = false;
        hp_buf_puts(hdrs, "Content-Type: text/html\r\n");
        hp_buf_put(body, page, hp_http_error_page(req->nginx_status, server, page, sizeof(page)));
        status = req->nginx_status == HP_HTTP_HEADER_TOO_LARGE ? 400 : req->nginx_status;
    } else if (nginx_static_refusal(resp, &v)) {
        char page[1024];
        status = 405;                           /* the connection stays open, as nginx keeps it */
        hp_buf_puts(hdrs, "Content-Type: text/html\r\n");
        hp_buf_put(body, page, hp_http_error_page(status, server, page, sizeof(page)));
    } else if (resp && resp->auth_realm && !authorized(&v)) {
        char page[1024];
        status = 401;
        hp_buf_printf(hdrs, "WWW-Authenticate: Basic realm=\"%s\"\r\nContent-Type: text/html\r\n",
                      resp->auth_realm);
        hp_buf_put(body, page, hp_http_error_page(401, server, page, sizeof(page)));
    } else if (resp) {
        hp_webresp_render(resp, &v, server, hdrs, body);
        if (resp->nginx_static) {
            bool gz = hp_http_gzip_accepted(&v, req->major, req->minor);
            hp_http_static(&v, &status, hdrs, body, server, gz);   /* 304, 206, 416 as nginx */
            if (gz)
                hp_http_gzip(status, hdrs, body);                  /* as Debian's nginx.conf has it */
        }
    }
    const char *extra = hp_buf_cstr(hdrs);
    if (has_header(extra, "Server")) {
        server = NULL;                          /* the rule speaks for a device with its own (or none) */
        drop_empty_header(hdrs, "Server");
        extra = hp_buf_cstr(hdrs);
    }
    enum hp_http_style style = resp ? resp->style : HP_HTTP_STYLE_NGINX;
    keep = hp_http_style_keeps(style, keep);
    /* A product that refuses what nginx's rules let through (Go: no Host) */
    bool style_refuses = hp_http_style_refuses(out, style, req);
    if (style_refuses)
        keep = false, status = 400;
    void (*send)(struct hp_conn *, const void *, size_t) = keep ? out_send : out_send_last;
    if (style_refuses)
        send(c, out->data, out->len);
    /* HTTP/0.9: nginx and Apache send the body alone - but nginx's 400 for a
     * line it stopped reading before its end has a head ("get /", "GET *") */
    else if (!req->version.n && (!ngx_refuses || (req->nginx_status != 414 && hp_http_ngx_headless(req))))
        send(c, body->data, body->len);
    else {
        if (cont && style == HP_HTTP_STYLE_NGINX)
            hp_buf_puts(out, "HTTP/1.1 100 Continue\r\n\r\n");
        if (style == HP_HTTP_STYLE_NGINX)
            hp_http_response(out, status, server, extra, body->data, body->len, keep, is_head(&v));
        else                                    /* a product that is not nginx (http_style.h) */
            hp_http_style_response(out, style, status, req->minor, v.method, extra, body->data, body->len,
                                   keep, is_head(&v));
        send(c, out->data, out->len);
    }
    struct reqinfo ri = { .req = req, .v = &v, .wc = wc, .resp = resp, .status = status, .raw = raw,
                          .raw_len = raw_len, .uri = &rb->uri };
    emit_request(c, &ri);
    request_credentials(c, &v);
    upload_parts(c, &v);
    if (!vd) {
        fresh.no_urls = scan_urls(c, &v, wc, raw, raw_len) == 0;
        hp_http_memo_put(hc->memo, &mk, &fresh);
    } else if (!vd->no_urls) {
        scan_urls(c, &v, wc, raw, raw_len);     /* each session records its own finds */
    }
    reqbufs_give(rb, &own);
    return keep;
}

/* The product this port stands for when it is not nginx (a Go daemon on
 * 2375, Elasticsearch on 9200: http_style.h), else NULL. */
static const struct hp_webresp *port_style(const struct hp_conn *c)
{
    const struct http_conf *hc = conf_of(c);
    const struct hp_webresp *styled = hc->rules ? hp_webrules_port_style(hc->rules, c->ctx.dst_port) : NULL;
    return styled ? styled : hp_webrules_port_style(E.builtin, c->ctx.dst_port);
}

/* nginx answers 400 at the first byte of a request line it refuses, without
 * waiting for the line's end ("xyz", "GET *"); the bytes so far are recorded. */
static bool nginx_refused_early(const struct hp_conn *c, const uint8_t *p, size_t n)
{
    const struct http_conn *h = c->pstate;
    return !hp_http_parser_pending(h->parser) && hp_http_ngx_refuses_start(p, n) && !port_style(c);
}

/* nginx's lingering_timeout and lingering_time. */
#define HTTP_LINGER_MS 5000
#define HTTP_LINGER_TIME_MS 30000

/* After a 413 nginx does not close at once: what the client still sends
 * (the body) is read and dropped, and the connection closes (a FIN) once 5 s
 * passed without any, or the client closed, 30 s at most.  Closing at once
 * with that input unread makes the kernel reset the connection: the
 * client's next send fails, and the reset may destroy the answer before
 * the client read it. */
static void linger(struct hp_conn *c)
{
    struct http_conn *h = c->pstate;
    h->closing = true;
    h->linger_end = hp_mono_ms() + HTTP_LINGER_TIME_MS;
    hp_conn_set_timer(c, HTTP_LINGER_MS);
}

/* More input while lingering (already dropped): wait 5 s more, within the 30. */
static void linger_more(struct hp_conn *c)
{
    int64_t left = ((struct http_conn *)c->pstate)->linger_end - hp_mono_ms();
    if (left <= 0)
        hp_conn_close(c, "http_bad_request");
    else
        hp_conn_set_timer(c, left < HTTP_LINGER_MS ? (uint64_t)left : HTTP_LINGER_MS);
}

/* A request the parser refused: the error page a server sends, then close. */
static void bad_request(struct hp_conn *c, int status, const uint8_t *raw, size_t raw_len)
{
    const struct http_conf *hc = conf_of(c);
    const char *server = hc->server && hc->server[0] ? hc->server : NULL;
    struct hp_buf out;
    hp_buf_init(&out, 16384);
    /* nginx's 400 page, or the refusal of the product this port stands for */
    const struct hp_webresp *styled = port_style(c);
    if (styled) {
        char own[256];
        hp_http_style_refusal(&out, styled->style, status, raw, raw_len,
                              header_value(styled->headers, "Server", own, sizeof(own)));
    } else {
        char page[1024];
        size_t n = hp_http_error_page(status, server, page, sizeof(page));
        if (status == 400 && hp_http_ngx_headless_line(raw, raw_len))
            hp_buf_put(&out, page, n);                           /* HTTP/0.9: the page alone */
        else
            hp_http_response(&out, status, server, "Content-Type: text/html\r\n", page, n, false,
                             hp_http_ngx_head_only(raw, raw_len)); /* nginx sends no page to HEAD */
    }
    if (out.len)                                /* Python says nothing to blank lines alone */
        out_send_last(c, out.data, out.len);
    hp_buf_free(&out);
    /* Refused is not harmless: exploits for embedded servers that take any
     * request line put commands with blanks in the URL.  The pieces are
     * classified as a request's would be, and its commands scanned. */
    struct http_conn *h = c->pstate;
    struct hp_http_req req;
    struct hp_webclass wc = { .nclasses = 0 };
    struct hp_http_view v;
    struct reqbufs own, *rb = NULL;
    uint64_t cap = HP_HTTP_HEAD_MAX + hc->max_body;     /* what a parsed request may bring, no more */
    if (cap > HTTP_SCAN_MAX)
        cap = HTTP_SCAN_MAX;
    bool seen = hp_http_parse_loose(raw, raw_len < cap ? raw_len : (size_t)cap, &req);
    if (seen) {
        rb = reqbufs_take(&own);
        hp_http_view_build(&req, c->ctx.dst_port, h->tls != NULL, &rb->scratch, &v);
        if (server)
            v.server = (struct hp_bytes){ (const uint8_t *)server, strlen(server) };
        hp_webclass_classify(&v, &wc);
    }
    struct hp_ev ev;
    hp_ev_begin(&ev, &c->ctx, "http.bad_request");
    hp_ev_int(&ev, "status", status == HP_HTTP_HEADER_TOO_LARGE ? 400 : status);
    if (seen) {
        ev_bytes(&ev, "method", v.method);
        ev_bytes(&ev, "uri", v.target);
        put_verdict(&ev, &wc);
    }
    hp_ev_bytes(&ev, "raw", raw, raw_len < HTTP_RAW_MAX ? raw_len : HTTP_RAW_MAX);
    hp_ev_emit(&ev);
    if (seen) {
        scan_urls(c, &v, &wc, raw, raw_len);
        reqbufs_give(rb, &own);
    } else {
        scan_raw_urls(c, raw, raw_len);
    }
    if (status == 413 && !h->tls)
        linger(c);                          /* the body may still be coming */
    else
        finish(c, "http_bad_request");
}

/* A request that arrived over several reads: its head was copied by the
 * parser, so the raw bytes are rebuilt from the parsed fields. */
static void rebuild_raw(const struct hp_http_req *req, struct hp_buf *out)
{
    hp_buf_put(out, req->method.p, req->method.n);
    hp_buf_putc(out, ' ');
    hp_buf_put(out, req->target.p, req->target.n);
    if (req->version.n) {
        hp_buf_putc(out, ' ');
        hp_buf_put(out, req->version.p, req->version.n);
    }
    hp_buf_puts(out, "\r\n");
    for (size_t i = 0; i < req->nheaders; i++) {
        hp_buf_put(out, req->headers[i].name.p, req->headers[i].name.n);
        hp_buf_puts(out, ": ");
        hp_buf_put(out, req->headers[i].value.p, req->headers[i].value.n);
        hp_buf_puts(out, "\r\n");
    }
    hp_buf_puts(out, "\r\n");
    hp_buf_put(out, req->body.p, req->body.n);
}

/* Parse and answer every complete request in data; returns the bytes used. */
static size_t process(struct hp_conn *c, const uint8_t *data, size_t len)
{
    struct http_conn *h = c->pstate;
    size_t off = 0;
    while (off < len && !h->closing && !h->px_busy) {
        struct hp_http_req req;
        int status = 0;
        size_t used = 0;
        enum hp_http_status st = hp_http_parse(h->parser, data + off, len - off, &req, &status, &used);
        if (st == HP_HTTP_NEED_MORE) {
            if (!used && nginx_refused_early(c, data + off, len - off)) {
                bad_request(c, 400, data + off, len - off);
                return len;
            }
            off += used;                      /* a long body: the part the parser has taken */
            if (hp_http_parser_want_continue(h->parser)) {
                out_send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
                h->continued = true;
            }
            break;
        }
        if (st == HP_HTTP_ERROR) {
            bad_request(c, status, data + off, len - off);
            return len;
        }
        bool keep;
        if (used == req.raw_len) {
            keep = handle_request(c, &req, data + off, used);
        } else {
            struct hp_buf raw;
            hp_buf_init(&raw, HTTP_RAW_MAX + HP_HTTP_HEAD_MAX);
            rebuild_raw(&req, &raw);
            keep = handle_request(c, &req, raw.data, raw.len);
            hp_buf_free(&raw);
        }
        off += used;
        if (!keep) {
            finish(c, "http_done");
            return len;
        }
    }
    return off;
}

/* ---- TLS ---------------------------------------------------------------------------------- */

static void emit_server_hello(struct hp_conn *c, struct http_conn *h)
{
    size_t n = 0;
    const uint8_t *sh = hp_tlsterm_server_hello(h->tls, &n);
    struct hp_tls_server_hello s;
    if (!sh || hp_tls_server_hello(sh, n, &s) != 1)
        return;
    struct hp_ev ev;
    hp_ev_begin(&ev, &c->ctx, "tls.server_hello");
    hp_ev_str(&ev, "ja3s", s.ja3s);
    hp_ev_str(&ev, "ja3s_string", s.ja3s_string);
    hp_ev_str(&ev, "version", hp_tlsterm_version(h->tls));
    hp_ev_str(&ev, "cipher", hp_tlsterm_cipher(h->tls));
    if (hp_tlsterm_alpn(h->tls))
        hp_ev_str(&ev, "alpn", hp_tlsterm_alpn(h->tls));
    hp_ev_emit(&ev);
    h->server_hello_seen = true;
}

/* Ciphertext in; plaintext requests out.  When the plaintext buffer fills,
 * tlsterm keeps the rest: parse, then feed nothing to get more. */
static void tls_data(struct hp_conn *c, struct hp_rd *in)
{
    struct http_conn *h = c->pstate;
    const uint8_t *p = hp_rd_ptr(in), *fed = p;
    size_t n = hp_rd_left(in), fedn = n;
    hp_rd_skip(in, n);
    if (!h->plain.cap)
        hp_buf_init(&h->plain, HTTP_PLAIN_MAX);
    for (int round = 0; round < 64 && !h->closing; round++) {
        const char *why = NULL;
        int r = hp_tlsterm_conn_feed(c, h->tls, p, n, &h->plain, 32u << 20, &why);
        p = NULL;
        n = 0;
        if (!h->server_hello_seen && hp_tlsterm_done(h->tls))
            emit_server_hello(c, h);               /* version and cipher are known now */
        if (r < 0) {
            h->closing = true;
            /* an SSLv2-format hello has no tls.client_hello: its bytes go here */
            hp_tlsterm_conn_failed_raw(c, why, hp_tlsterm_done(h->tls) ? NULL : &h->hello, fed,
                                       round ? 0 : fedn);
            return;
        }
        bool full = h->plain.len >= h->plain.cap;
        if (h->plain.len) {
            size_t used = process(c, h->plain.data, h->plain.len);
            hp_buf_consume(&h->plain, used);
        }
        if (r == 1 && !h->closing) {
            finish(c, "tls_closed");
            return;
        }
        if (!full || h->plain.len >= h->plain.cap)
            return;                                  /* nothing held back, or no room made */
    }
}

/* ---- proxy mode ------------------------------------------------------------------------ */

#define PX_HIGH (128 * 1024)           /* response bytes queued for the client before pausing */
#define PX_CHUNK 16384
#define PX_POLL_MS 20

struct http_px {
    int fd;                            /* backend socket of the current request, -1 none */
    struct event *ev_r, *ev_w, *ev_t;
    struct evbuffer *bout;             /* request bytes for the backend */
    struct hp_buf copy;                /* the request, re-parsed once the backend answers */
    struct hp_buf head;                /* response head being collected */
    struct hp_http_resp_head rh;
    bool connected, head_done, client_keep, keep_req, head_req, read_paused;
    uint64_t body_bytes;               /* response body bytes relayed */
    int64_t t0;
};

static const struct hp_backend_cfg *px_backend(const struct hp_conn *c)
{
    const struct hp_service_cfg *cfg = hp_conn_service_cfg(c);
    return c->svc && cfg->proto == &hp_proto_http ? cfg->backend : NULL;
}

static void px_release(struct http_px *px)
{
    if (px->ev_r)
        event_free(px->ev_r);
    if (px->ev_w)
        event_free(px->ev_w);
    if (px->ev_t)
        event_free(px->ev_t);
    if (px->bout)
        evbuffer_free(px->bout);
    if (px->fd >= 0)
        close(px->fd);
    px->ev_r = px->ev_w = px->ev_t = NULL;
    px->bout = NULL;
    px->fd = -1;
}

static void px_free(struct http_conn *h)
{
    if (!h->px)
        return;
    px_release(h->px);
    hp_buf_free(&h->px->copy);
    hp_buf_free(&h->px->head);
    free(h->px);
    h->px = NULL;
}

/* Parse what is buffered now that the previous response is complete. */
static void px_resume(struct hp_conn *c)
{
    struct http_conn *h = c->pstate;
    if (h->closing || (c->flags & HP_CONN_CLOSING))
        return;
    if (h->tls) {
        struct hp_rd none;
        hp_rd_init(&none, "", 0);
        tls_data(c, &none);
    } else {
        size_t have;
        const uint8_t *p = hp_conn_input(c, &have);
        if (have)
            hp_conn_consume(c, process(c, p, have));
    }
    if (h->eof_pending && !h->px_busy && !h->closing && !(c->flags & HP_CONN_CLOSING))
        http_eof(c);
}

/* The request copy parsed again (it parsed before, so this gives the same request). */
static bool px_reparse(struct hp_conn *c, struct hp_http_parser **pp, struct hp_http_req *req)
{
    struct http_px *px = ((struct http_conn *)c->pstate)->px;
    int status = 0;
    size_t used = 0;
    *pp = hp_http_parser_new(px->copy.len);
    return hp_http_parse(*pp, px->copy.data, px->copy.len, req, &status, &used) == HP_HTTP_DONE;
}

/* The backend cannot serve the request: the rules answer it and the rest. */
static void px_fallback(struct hp_conn *c, const char *why)
{
    struct http_conn *h = c->pstate;
    struct hp_http_parser *p = NULL;
    struct hp_http_req req;
    hp_proxy_ev_fallback(c, px_backend(c), why);
    px_release(h->px);
    h->px_off = true;
    h->px_busy = false;
    bool keep = false;
    if (px_reparse(c, &p, &req))
        keep = handle_request(c, &req, h->px->copy.data, h->px->copy.len);
    hp_http_parser_free(p);
    if (!keep)
        finish(c, "http_done");
    else
        px_resume(c);
}

static void px_bad_gateway(struct hp_conn *c)
{
    const struct http_conf *hc = conf_of(c);
    const char *server = hc->server && hc->server[0] ? hc->server : NULL;
    char page[1024];
    size_t n = hp_http_error_page(502, server, page, sizeof(page));
    struct hp_buf out;
    hp_buf_init(&out, 8192);
    hp_http_response(&out, 502, server, "Content-Type: text/html\r\n", page, n, false, false);
    out_send(c, out.data, out.len);
    hp_buf_free(&out);
}

/* The response is over (or broken): log it, then the next request or the end. */
static void px_done(struct hp_conn *c, bool complete)
{
    struct http_conn *h = c->pstate;
    struct http_px *px = h->px;
    struct hp_ev ev;
    if (!px->head_done)
        px_bad_gateway(c);
    hp_ev_begin(&ev, &c->ctx, "http.response");
    hp_ev_str(&ev, "backend", px_backend(c)->spec);
    hp_ev_uint(&ev, "request_no", h->nreq);
    hp_ev_int(&ev, "status", px->head_done ? px->rh.status : 502);
    hp_ev_uint(&ev, "response_size", px->body_bytes);
    hp_ev_bool(&ev, "complete", complete && px->head_done);
    hp_ev_uint(&ev, "duration_ms", (uint64_t)(hp_mono_ms() - px->t0));
    hp_ev_emit(&ev);
    px_release(px);
    h->px_busy = false;
    if (!complete || !px->head_done || !px->client_keep)
        finish(c, "http_done");
    else
        px_resume(c);
}

/* Connected: the request is analysed and logged exactly as the rules path
 * would, then sent. */
static void px_forward(struct hp_conn *c)
{
    struct http_conn *h = c->pstate;
    struct http_px *px = h->px;
    const struct hp_backend_cfg *b = px_backend(c);
    struct hp_http_parser *p = NULL;
    struct hp_http_req req;
    if (!px_reparse(c, &p, &req)) {               /* cannot happen: it parsed before */
        hp_http_parser_free(p);
        px_done(c, false);
        return;
    }
    struct reqbufs own, *rb = reqbufs_take(&own);
    struct hp_buf fw;
    struct hp_http_view v;
    struct hp_webclass wc;
    h->nreq++;
    hp_http_view_build(&req, c->ctx.dst_port, h->tls != NULL, &rb->scratch, &v);
    hp_webclass_classify(&v, &wc);
    px->head_req = is_head(&v);
    struct reqinfo ri = { .req = &req, .v = &v, .wc = &wc, .raw = px->copy.data, .raw_len = px->copy.len,
                          .uri = &rb->uri };
    emit_request(c, &ri);
    request_credentials(c, &v);
    upload_parts(c, &v);
    scan_urls(c, &v, &wc, px->copy.data, px->copy.len);
    hp_buf_init(&fw, px->copy.len + 4096);
    hp_http_px_request(&req, b->xff ? c->ctx.src_ip : NULL, true, &fw);
    evbuffer_add(px->bout, fw.data, fw.len);
    hp_buf_free(&fw);
    reqbufs_give(rb, &own);
    hp_http_parser_free(p);
    event_add(px->ev_r, NULL);
    event_add(px->ev_w, NULL);
}

/* Response bytes: the head is parsed and rewritten, the body passed on. */
static void px_response(struct hp_conn *c, const uint8_t *data, size_t n)
{
    struct http_conn *h = c->pstate;
    struct http_px *px = h->px;
    const struct http_conf *hc = conf_of(c);
    if (!px->head_done) {
        if (!hp_buf_put(&px->head, data, n)) {
            px_done(c, false);                     /* head too long: 502 */
            return;
        }
        int r = hp_http_resp_head_parse(px->head.data, px->head.len, &px->rh);
        if (r == 0)
            return;
        if (r < 0) {
            px_done(c, false);
            return;
        }
        px->head_done = true;
        bool bodyless = hp_http_resp_bodyless(&px->rh, px->head_req);
        px->client_keep = px->keep_req && h->nreq < hc->keepalive_requests &&
                          px->rh.status >= 200 && (bodyless || px->rh.has_length);
        struct hp_buf out;
        hp_buf_init(&out, HP_HTTP_RESP_HEAD_MAX + 64);
        hp_http_resp_head_rewrite(px->head.data, px->rh.head_len, px->client_keep, &out);
        out_send(c, out.data, out.len);
        hp_buf_free(&out);
        data = px->head.data + px->rh.head_len;
        n = px->head.len - px->rh.head_len;
        if (bodyless) {
            px_done(c, true);
            return;
        }
    }
    if (px->rh.has_length) {
        uint64_t left = px->rh.length - px->body_bytes;
        if (n > left)
            n = (size_t)left;                      /* bytes past Content-Length are not the client's */
    }
    if (n)
        out_send(c, data, n);
    px->body_bytes += n;
    if (px->rh.has_length && px->body_bytes >= px->rh.length)
        px_done(c, true);
}

static void px_read(struct hp_conn *c, struct http_px *px)
{
    uint8_t buf[PX_CHUNK];
    if (hp_conn_pending_out(c) > PX_HIGH) {
        event_del(px->ev_r);                       /* the client reads slowly: wait */
        px->read_paused = true;
        hp_conn_set_timer(c, PX_POLL_MS);
        return;
    }
    ssize_t n = recv(px->fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {                                  /* EOF ends a response without a length */
        px_done(c, n == 0 && !px->rh.has_length);
        return;
    }
    hp_conn_touch(c);
    px_response(c, buf, (size_t)n);
}

static void px_connected(struct hp_conn *c, struct http_px *px)
{
    int err = 0;
    socklen_t el = sizeof(err);
    if (getsockopt(px->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        err = errno;
    const char *why = err == ECONNREFUSED ? "connect-refused" : "connect-error";
    hp_proxy_ev_connect(c, px_backend(c), err ? why : "ok", hp_mono_ms() - px->t0);
    if (err) {
        px_fallback(c, why);
        return;
    }
    px->connected = true;
    evtimer_del(px->ev_t);
    px_forward(c);
}

static void px_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hp_conn *c = arg;
    struct http_conn *h = c->pstate;
    struct http_px *px = h->px;
    hp_conn_hold(c);
    if ((c->flags & HP_CONN_CLOSING) || h->closing) {
        event_del(px->ev_r);                       /* nobody to answer any more */
        event_del(px->ev_w);
    } else if (!px->connected && (what & EV_WRITE)) {
        px_connected(c, px);
    } else if (what & EV_READ) {
        px_read(c, px);
    } else if (what & EV_WRITE) {
        if (evbuffer_write(px->bout, px->fd) < 0 && errno != EAGAIN && errno != EINTR)
            px_done(c, false);
        else if (evbuffer_get_length(px->bout) == 0)
            event_del(px->ev_w);
    }
    hp_conn_release(c);
}

static void px_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hp_conn *c = arg;
    struct http_conn *h = c->pstate;
    hp_conn_hold(c);
    if (h->px && !h->px->connected && h->px_busy && !(c->flags & HP_CONN_CLOSING) && !h->closing) {
        hp_proxy_ev_connect(c, px_backend(c), "connect-timeout", hp_mono_ms() - h->px->t0);
        px_fallback(c, "connect-timeout");
    }
    hp_conn_release(c);
}

/* Send this request to the backend?  True when it is on its way (answered
 * later), false when the rules answer it now (no backend, fallback). */
static bool http_px_begin(struct hp_conn *c, const struct hp_http_req *req, const uint8_t *raw, size_t raw_len)
{
    struct http_conn *h = c->pstate;
    const struct hp_backend_cfg *b = px_backend(c);
    const char *why = NULL;
    if (!b || h->px_off || !req->version.n || req->major < 1)   /* HTTP/0.x has no head to forward */
        return false;
    if (!h->px_admitted && !hp_backend_admit(hp_conn_service_cfg(c), &c->peer, &why)) {
        hp_proxy_ev_fallback(c, b, why);
        h->px_off = true;
        return false;
    }
    h->px_admitted = true;
    if (!h->px) {
        h->px = hp_xcalloc(1, sizeof(*h->px));
        h->px->fd = -1;
        hp_buf_init(&h->px->copy, HP_HTTP_HEAD_MAX * 2 + conf_of(c)->max_body);
        hp_buf_init(&h->px->head, HP_HTTP_RESP_HEAD_MAX);
    }
    struct http_px *px = h->px;
    hp_buf_reset(&px->copy);
    hp_buf_reset(&px->head);
    memset(&px->rh, 0, sizeof(px->rh));
    px->connected = px->head_done = px->client_keep = px->head_req = px->read_paused = false;
    px->body_bytes = 0;
    px->keep_req = req->keep_alive;
    if (raw_len == req->raw_len && !req->chunked && !req->body_truncated)
        hp_buf_put(&px->copy, raw, raw_len);       /* the bytes as sent */
    else
        hp_http_px_request(req, NULL, false, &px->copy);
    if (!hp_buf_ok(&px->copy)) {
        hp_proxy_ev_fallback(c, b, "request-too-large");
        return false;
    }
    px->t0 = hp_mono_ms();
    px->fd = hp_backend_connect(b, &why);
    if (px->fd < 0) {
        hp_proxy_ev_connect(c, b, why, 0);
        hp_proxy_ev_fallback(c, b, why);
        h->px_off = true;
        return false;
    }
    struct event_base *base = hp_sensor.base;
    px->bout = evbuffer_new();
    px->ev_r = event_new(base, px->fd, EV_READ | EV_PERSIST, px_cb, c);
    px->ev_w = event_new(base, px->fd, EV_WRITE | EV_PERSIST, px_cb, c);
    px->ev_t = evtimer_new(base, px_timeout_cb, c);
    if (!px->bout || !px->ev_r || !px->ev_w || !px->ev_t) {
        px_release(px);
        hp_proxy_ev_fallback(c, b, "no-memory");
        h->px_off = true;
        return false;
    }
    struct timeval tv = { (time_t)(b->connect_timeout_ms / 1000), (suseconds_t)(b->connect_timeout_ms % 1000) * 1000 };
    evtimer_add(px->ev_t, &tv);
    event_add(px->ev_w, NULL);                     /* writable = connected (or failed) */
    h->px_busy = true;
    return true;
}

static void http_timer(struct hp_conn *c)
{
    struct http_conn *h = c->pstate;
    if (h->linger_end) {
        hp_conn_close(c, "http_bad_request");      /* the client went quiet */
        return;
    }
    struct http_px *px = h->px;
    if (!px || !px->read_paused || px->fd < 0)
        return;
    if (hp_conn_pending_out(c) > PX_HIGH / 2) {
        hp_conn_set_timer(c, PX_POLL_MS);
        return;
    }
    px->read_paused = false;
    event_add(px->ev_r, NULL);
}

/* ---- module callbacks ------------------------------------------------------------------ */

static void http_accept(struct hp_conn *c)
{
    struct http_conn *h = c->pstate;
    h->parser = hp_http_parser_new(conf_of(c)->max_body);
}

static void http_data(struct hp_conn *c, struct hp_rd *in)
{
    struct http_conn *h = c->pstate;
    if (h->closing) {
        hp_rd_skip(in, hp_rd_left(in));
        if (h->linger_end)
            linger_more(c);
        return;
    }
    if (!h->sniffed) {
        if (hp_rd_left(in) < 6 && !(c->flags & HP_CONN_EOF) &&
            (hp_rd_peek_u8(in, 0) == 0x16 || (hp_rd_peek_u8(in, 0) & 0x80)))
            return;                                /* hp_tls_sniff decides on 6 (SSLv2: 5) bytes */
        h->sniffed = true;
        if (conf_of(c)->tls_auto && hp_tls_sniff(hp_rd_ptr(in), hp_rd_left(in)) && (h->tls = hp_tlsterm_new()))
            hp_tlsterm_as_nginx(h->tls);
    }
    if (h->tls) {
        if (!hp_tlsterm_conn_hello(c, in, &h->hello))
            return;                                /* the ClientHello is not whole yet */
        tls_data(c, in);
        return;
    }
    size_t used = process(c, hp_rd_ptr(in), hp_rd_left(in));
    hp_rd_skip(in, used);
}

static void http_eof(struct hp_conn *c)
{
    if (((struct http_conn *)c->pstate)->linger_end) {
        hp_conn_close(c, "http_bad_request");      /* the client closed too */
        return;
    }
    if (((struct http_conn *)c->pstate)->px_busy) {
        ((struct http_conn *)c->pstate)->eof_pending = true;   /* answered first, then closed */
        return;
    }
    size_t have;
    const uint8_t *p = hp_conn_input(c, &have);
    struct http_conn *h = c->pstate;
    if (have && !h->sniffed) {                     /* under the 6 bytes the TLS sniff waits for */
        h->sniffed = true;
        hp_conn_consume(c, process(c, p, have));
        if (h->closing)
            return;
        p = hp_conn_input(c, &have);
    }
    if (have && !h->tls && !h->closing) {          /* a request cut short is still recorded */
        struct hp_ev ev;
        hp_ev_begin(&ev, &c->ctx, "http.incomplete");
        hp_ev_bytes(&ev, "raw", p, have < HTTP_RAW_MAX ? have : HTTP_RAW_MAX);
        hp_ev_emit(&ev);
        scan_raw_urls(c, p, have);
        hp_conn_consume(c, have);
    }
    hp_conn_close(c, "eof");
}

/* A request whose head came but whose body did not: recorded as it stands. */
static void record_pending(struct hp_conn *c)
{
    struct http_conn *h = c->pstate;
    const struct hp_http_req *req = h->parser ? hp_http_parser_pending(h->parser) : NULL;
    if (!req)
        return;
    struct hp_buf raw;
    hp_buf_init(&raw, HTTP_RAW_MAX + HP_HTTP_HEAD_MAX);
    rebuild_raw(req, &raw);
    struct hp_ev ev;
    hp_ev_begin(&ev, &c->ctx, "http.incomplete");
    hp_ev_bytes(&ev, "raw", raw.data, raw.len < HTTP_RAW_MAX ? raw.len : HTTP_RAW_MAX);
    hp_ev_uint(&ev, "body_received", req->body.n);
    hp_ev_emit(&ev);
    scan_raw_urls(c, raw.data, raw.len);
    hp_buf_free(&raw);
}

static void http_close(struct hp_conn *c)
{
    struct http_conn *h = c->pstate;
    if (!h)
        return;
    if (!h->closing)
        record_pending(c);
    px_free(h);
    hp_http_parser_free(h->parser);
    hp_tlsterm_free(h->tls);
    hp_buf_free(&h->plain);
    h->parser = NULL;
    h->tls = NULL;
}

const struct hp_proto hp_proto_http = {
    .name = "http",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "80 8080",
    .conn_state_size = sizeof(struct http_conn),
    .default_max_input = 64ull << 20,
    .configure = http_configure,
    .unconfigure = http_unconfigure,
    .start = http_start,
    .stop = http_stop,
    .on_accept = http_accept,
    .on_data = http_data,
    .on_eof = http_eof,
    .on_timer = http_timer,
    .on_close = http_close,
    .own_backend = true,
};
