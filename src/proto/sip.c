/*
 * sip.c - a SIP registrar/PBX front as VoIP scanners meet it (UDP and TCP 5060).
 *
 * What it emulates: the SIP side of an Asterisk / FreePBX / Cisco box that
 * wants authentication for everything.
 *
 *   OPTIONS    200 OK with Allow/Supported/Accept/Contact and the per-sensor
 *              Server header (what svmap and nmap sip-methods print)
 *   REGISTER   without credentials: 401 with a Digest challenge (realm from
 *              the identity, a fresh random nonce) for an extension that
 *              exists (key extensions, else drawn per sensor as a range like
 *              100-119 and kept in the identity), 404 for any other user (as
 *              Asterisk with alwaysauthreject=no); with credentials: a
 *              login.failed event holding the challenge-response in
 *              crackable form (hashcat 11400), then 403 Forbidden
 *   INVITE     a sip.invite event (caller, callee, SDP c=/m= lines), then a
 *              407 Proxy-Authenticate challenge; with credentials the same
 *              login.failed + 403.  A call is never set up.
 *   ACK        nothing; BYE/CANCEL 481; other methods 501
 *
 * Every message is a command.input event (input: its first line).  User
 * agents of known scanners are named in the field "scanner".
 *
 * UDP replies obey the core's size rule (src/core/udp.c): the response is
 * built in full, then without the optional headers (Allow, Supported,
 * Accept, Contact), then without Server, then with compact header names
 * (v: f: t: i: l:) and a challenge without the default algorithm=MD5
 * (sip_build_reply levels 0-3); the first that fits the datagram's
 * reply budget is sent; when none fits nothing is sent (hp_udp_reply counts
 * the refusal).  A challenge is never sent without its WWW-Authenticate.
 * TCP has no such limit.  TCP framing: Content-Length bounded by
 * SIP_BODY_MAX, head by SIP_HEAD_MAX; a malformed message gets 400 and the
 * connection is closed; at most SIP_TCP_MSGS messages per connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "conn.h"
#include "event.h"
#include "identity.h"
#include "proto.h"
#include "sip_parse.h"
#include "util.h"

#define SIP_TCP_MSGS 256          /* messages one TCP connection may send */
#define SIP_REPLY_MAX 4096

struct sip_conf {
    char *server;                 /* NULL: the identity's */
    char *realm;
    uint16_t *ext;                /* extensions that exist (REGISTER gets 401, others 404) */
    size_t next;
};

struct sip_tcp {
    unsigned msgs;
    struct sip_stream framing;    /* what the buffered, incomplete message waits for */
};

struct sip_peer {                 /* where an answer goes */
    struct hp_conn *c;
    struct hp_udp_peer *p;
    const struct hp_evctx *ctx;
    const struct sip_conf *cf;
};

/* Real Server/User-Agent strings and the realm such a box uses by default. */
static const char *const sip_servers[][2] = {
    { "Asterisk PBX 13.38.3", "asterisk" },
    { "Asterisk PBX 16.28.0", "asterisk" },
    { "Asterisk PBX 18.20.2", "asterisk" },
    { "Asterisk PBX 20.5.2", "asterisk" },
    { "FPBX-15.0.37.4(16.25.0)", "asterisk" },
    { "FPBX-16.0.40.7(18.20.0)", "asterisk" },
    { "Cisco-SIPGateway/IOS-15.4.3.M6", "cisco" },
    { "Cisco-CUCM12.5", "cisco" },
};

static const char *sip_identity(const char *key)
{
    const char *v = hp_identity_get(key);
    if (v && *v)
        return v;
    size_t i = (size_t)(hp_random_u64() % (sizeof(sip_servers) / sizeof(sip_servers[0])));
    /* The same Asterisk branch as the sensor's AMI service, if it drew one first. */
    const char *ami = hp_identity_get("ami_asterisk_version");
    if (ami && *ami) {
        for (size_t k = 0; k < 4; k++)      /* the "Asterisk PBX" entries */
            if (atoi(sip_servers[k][0] + 13) == atoi(ami))
                i = k;
    }
    const char *host = hp_identity_get("hostname");
    hp_identity_set("sip_server", sip_servers[i][0]);
    /* Half of the Asterisk boxes had their realm set to the host name. */
    hp_identity_set("sip_realm", host && *host && (hp_random_u64() & 1) && sip_servers[i][1][0] == 'a'
                                     ? host : sip_servers[i][1]);
    v = hp_identity_get(key);
    return v ? v : sip_servers[i][strcmp(key, "sip_realm") == 0];
}

static const char *sip_server(const struct sip_conf *cf)
{
    return cf->server ? cf->server : sip_identity("sip_server");
}

static const char *sip_realm(const struct sip_conf *cf)
{
    return cf->realm ? cf->realm : sip_identity("sip_realm");
}

static int sip_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct sip_conf *cf = hp_xcalloc(1, sizeof(*cf));
    svc->proto_conf = cf;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        if (strcmp(kv->key, "server") == 0) {
            free(cf->server);
            cf->server = hp_xstrdup(kv->value);
        } else if (strcmp(kv->key, "extensions") == 0) {
            char msg[128];
            free(cf->ext);
            cf->ext = NULL;
            if (hp_parse_ports(kv->value, &cf->ext, &cf->next, msg, sizeof(msg)) != 0) {
                snprintf(err, errlen, "%d: [service %s]: extensions: %s", kv->line, svc->name, msg);
                return -1;
            }
        } else if (strcmp(kv->key, "realm") == 0) {
            free(cf->realm);
            cf->realm = hp_xstrdup(kv->value);
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol sip)", kv->line, kv->key,
                     svc->name);
            return -1;
        }
        if (strpbrk(kv->value, "\r\n\"")) {
            snprintf(err, errlen, "%d: [service %s]: bad value for %s", kv->line, svc->name, kv->key);
            return -1;
        }
    }
    return 0;
}

static void sip_unconfigure(struct hp_service_cfg *svc)
{
    struct sip_conf *cf = svc->proto_conf;
    if (cf) {
        free(cf->server);
        free(cf->realm);
        free(cf->ext);
        free(cf);
    }
    svc->proto_conf = NULL;
}

static int sip_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct sip_conf *cf = svc->proto_conf;
    (void)sip_realm(cf);                 /* drawn now: the identity file shows it from the start */
    if (!cf->ext) {
        const char *v = hp_identity_get("sip_extensions");
        char buf[32];
        if (!v) {
            static const unsigned bases[] = { 100, 200, 1000, 2000, 6000 };
            unsigned b = bases[hp_random_u64() % 5], n = 10 + (unsigned)(hp_random_u64() % 21);
            snprintf(buf, sizeof(buf), "%u-%u", b, b + n - 1);
            hp_identity_set("sip_extensions", buf);
            v = buf;
        }
        char msg[128];
        if (hp_parse_ports(v, &cf->ext, &cf->next, msg, sizeof(msg)) != 0) {
            snprintf(err, errlen, "identity sip_extensions: %s", msg);
            return -1;
        }
    }
    return 0;
}

/* ---- events ------------------------------------------------------------- */

static void ev_sipstr(struct hp_ev *ev, const char *key, struct sip_str s)
{
    if (s.p)
        hp_ev_bytes(ev, key, s.p, s.n < 1024 ? s.n : 1024);
}

static void ev_input(const struct hp_evctx *ctx, const struct sip_msg *m)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, ctx, "command.input");
    hp_ev_bytes(&ev, "input", m->line.p, m->line.n < 1024 ? m->line.n : 1024);
    if (!m->response) {
        ev_sipstr(&ev, "command", m->method);
        ev_sipstr(&ev, "uri", m->uri);
    }
    ev_sipstr(&ev, "from", m->from);
    ev_sipstr(&ev, "to", m->to);
    ev_sipstr(&ev, "call_id", m->call_id);
    ev_sipstr(&ev, "user_agent", m->user_agent);
    const char *sc = sip_scanner(m->user_agent);
    if (sc)
        hp_ev_str(&ev, "scanner", sc);
    hp_ev_emit(&ev);
}

static void ev_malformed(const struct hp_evctx *ctx, const uint8_t *d, size_t n)
{
    size_t l = 0;
    while (l < n && l < 256 && d[l] != '\r' && d[l] != '\n')
        l++;
    struct hp_ev ev;
    hp_ev_begin(&ev, ctx, "command.input");
    hp_ev_bytes(&ev, "input", d, l);
    hp_ev_bool(&ev, "malformed", true);
    hp_ev_uint(&ev, "size", n);
    hp_ev_emit(&ev);
}

/* SDP lines of one kind ('c' or 'm') as an array. */
static void ev_sdp(struct hp_ev *ev, const char *key, const struct sip_msg *m, char kind)
{
    struct hp_rd r;
    const uint8_t *line;
    size_t len;
    int shown = 0;
    hp_rd_init(&r, m->body, m->body_len);
    hp_ev_arr_begin(ev, key);
    for (int i = 0; i < 200 && hp_rd_left(&r); i++) {
        if (!hp_rd_line(&r, 1024, &line, &len)) {
            line = hp_rd_ptr(&r);
            len = hp_rd_left(&r) < 1024 ? hp_rd_left(&r) : 1024;
            hp_rd_skip(&r, hp_rd_left(&r));
        }
        if (len > 2 && line[0] == (uint8_t)kind && line[1] == '=' && shown++ < 16) {
            char buf[256];
            size_t n = len - 2 < sizeof(buf) - 1 ? len - 2 : sizeof(buf) - 1;
            memcpy(buf, line + 2, n);
            buf[n] = '\0';
            hp_ev_elem_str(ev, buf);
        }
    }
    hp_ev_arr_end(ev);
}

static void ev_invite(const struct hp_evctx *ctx, const struct sip_msg *m)
{
    struct hp_ev ev;
    char user[128];
    hp_ev_begin(&ev, ctx, "sip.invite");
    ev_sipstr(&ev, "from", m->from);
    ev_sipstr(&ev, "to", m->to);
    ev_sipstr(&ev, "request_uri", m->uri);
    sip_uri_user(sip_addr_uri(m->from), user, sizeof(user));
    hp_ev_str(&ev, "caller", user);
    sip_uri_user(m->uri, user, sizeof(user));
    if (!user[0])
        sip_uri_user(sip_addr_uri(m->to), user, sizeof(user));
    hp_ev_str(&ev, "callee", user);
    ev_sipstr(&ev, "call_id", m->call_id);
    ev_sipstr(&ev, "contact", m->contact);
    ev_sipstr(&ev, "user_agent", m->user_agent);
    const char *sc = sip_scanner(m->user_agent);
    if (sc)
        hp_ev_str(&ev, "scanner", sc);
    ev_sipstr(&ev, "content_type", m->content_type);
    if (m->body_len) {
        ev_sdp(&ev, "sdp_connection", m, 'c');
        ev_sdp(&ev, "sdp_media", m, 'm');
        hp_ev_bytes(&ev, "sdp", m->body, m->body_len < 2048 ? m->body_len : 2048);
    }
    hp_ev_emit(&ev);
}

static void ev_login(const struct sip_peer *to, const struct sip_msg *m, const struct sip_digest *d)
{
    struct hp_ev ev;
    char method[32], hc[1024];
    size_t mn = m->method.n < sizeof(method) - 1 ? m->method.n : sizeof(method) - 1;
    memcpy(method, m->method.p, mn);
    method[mn] = '\0';
    hp_ev_begin(&ev, to->ctx, "login.failed");
    ev_sipstr(&ev, "username", d->username);
    hp_ev_str(&ev, "method", "sip-digest");
    hp_ev_str(&ev, "sip_method", method);
    ev_sipstr(&ev, "realm", d->realm);
    ev_sipstr(&ev, "nonce", d->nonce);
    ev_sipstr(&ev, "uri", d->uri);
    ev_sipstr(&ev, "response", d->response);
    hp_ev_bytes(&ev, "algorithm", d->algorithm.p ? d->algorithm.p : "MD5", d->algorithm.p ? d->algorithm.n : 3);
    ev_sipstr(&ev, "qop", d->qop);
    ev_sipstr(&ev, "cnonce", d->cnonce);
    ev_sipstr(&ev, "nc", d->nc);
    if (sip_hashcat(d, method, to->ctx->dst_ip, to->ctx->src_ip, hc, sizeof(hc))) {
        hp_ev_str(&ev, "hash", hc);
        hp_ev_str(&ev, "hash_format", "hashcat:11400");
    }
    ev_sipstr(&ev, "user_agent", m->user_agent);
    const char *sc = sip_scanner(m->user_agent);
    if (sc)
        hp_ev_str(&ev, "scanner", sc);
    hp_ev_emit(&ev);
}

/* ---- answers -------------------------------------------------------------- */

static void sip_send(const struct sip_peer *to, const struct sip_msg *m, struct sip_reply *rp)
{
    char out[SIP_REPLY_MAX], tag[9], contact[96];
    hp_random_hex(tag, 8);
    rp->to_tag = tag;
    rp->server = sip_server(to->cf);
    rp->src_ip = to->ctx->src_ip;
    rp->src_port = to->ctx->src_port;
    if (rp->code == 200) {
        snprintf(contact, sizeof(contact), "<sip:%s:%u>", to->ctx->dst_ip, (unsigned)to->ctx->dst_port);
        rp->contact = contact;
    }
    if (to->c) {
        size_t n = sip_build_reply(m, rp, 0, out, sizeof(out));
        if (n)
            hp_conn_send(to->c, out, n);
        return;
    }
    size_t n = 0;
    for (int level = 0; level <= SIP_LEVEL_MAX; level++) {
        n = sip_build_reply(m, rp, level, out, sizeof(out));
        if (n && n <= to->p->request_len)
            break;
    }
    if (n)
        hp_udp_reply(to->p, out, n);     /* refused and counted when still too large */
}

static void sip_challenge(const struct sip_peer *to, const struct sip_msg *m, bool proxy)
{
    char nonce[9], auth[256], shrt[256];
    hp_random_hex(nonce, 8);
    snprintf(auth, sizeof(auth), "Digest algorithm=MD5, realm=\"%s\", nonce=\"%s\"", sip_realm(to->cf), nonce);
    snprintf(shrt, sizeof(shrt), "Digest realm=\"%s\", nonce=\"%s\"", sip_realm(to->cf), nonce);
    struct sip_reply rp = { .code = proxy ? 407 : 401,
                            .reason = proxy ? "Proxy Authentication Required" : "Unauthorized",
                            .auth_header = proxy ? "Proxy-Authenticate" : "WWW-Authenticate",
                            .auth_value = auth, .auth_short = shrt };
    sip_send(to, m, &rp);
}

static void sip_simple(const struct sip_peer *to, const struct sip_msg *m, int code, const char *reason)
{
    struct sip_reply rp = { .code = code, .reason = reason };
    if (code == 200 || code == 405 || code == 501) {
        rp.allow = "INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, SUBSCRIBE, NOTIFY, INFO, PUBLISH, MESSAGE";
        rp.supported = "replaces, timer";
    }
    if (code == 200)
        rp.accept = "application/sdp";
    sip_send(to, m, &rp);
}

/* Credentials in the request: logged, refused. */
static bool sip_auth(const struct sip_peer *to, const struct sip_msg *m)
{
    struct sip_digest d;
    struct sip_str a = m->authorization.p ? m->authorization : m->proxy_authorization;
    if (!a.p)
        return false;
    if (sip_digest_parse(a, &d))
        ev_login(to, m, &d);
    sip_simple(to, m, 403, "Forbidden");
    return true;
}

/* Does the REGISTER's To user exist on this PBX? */
static bool sip_known(const struct sip_conf *cf, const struct sip_msg *m)
{
    char user[16];
    sip_uri_user(sip_addr_uri(m->to), user, sizeof(user));
    uint64_t v;
    if (!user[0] || hp_parse_u64(user, 1, 65535, &v) != 0)
        return false;
    for (size_t i = 0; i < cf->next; i++)
        if (cf->ext[i] == v)
            return true;
    return false;
}

static void sip_answer(const struct sip_peer *to, const struct sip_msg *m)
{
    ev_input(to->ctx, m);
    if (m->response)
        return;                          /* a stray response: a real UAS ignores it */
    if (!m->via[0].p || !m->call_id.p || !m->cseq.p || !m->from.p || !m->to.p) {
        if (m->nvia)                    /* without Via there is nowhere to send it */
            sip_simple(to, m, 400, "Bad Request");
        return;
    }
    if (sip_str_eq(m->method, "OPTIONS")) {
        sip_simple(to, m, 200, "OK");
    } else if (sip_str_eq(m->method, "REGISTER")) {
        if (sip_auth(to, m))
            ;
        else if (sip_known(to->cf, m))
            sip_challenge(to, m, false);
        else
            sip_simple(to, m, 404, "Not Found");
    } else if (sip_str_eq(m->method, "INVITE")) {
        ev_invite(to->ctx, m);
        if (!sip_auth(to, m))
            sip_challenge(to, m, true);
    } else if (sip_str_eq(m->method, "ACK")) {
        /* no answer to an ACK */
    } else if (sip_str_eq(m->method, "BYE") || sip_str_eq(m->method, "CANCEL")) {
        sip_simple(to, m, 481, "Call/Transaction Does Not Exist");
    } else if (sip_str_eq(m->method, "SUBSCRIBE") || sip_str_eq(m->method, "MESSAGE") ||
               sip_str_eq(m->method, "NOTIFY") || sip_str_eq(m->method, "PUBLISH") ||
               sip_str_eq(m->method, "INFO") || sip_str_eq(m->method, "REFER")) {
        if (!sip_auth(to, m))
            sip_challenge(to, m, true);
    } else {
        sip_simple(to, m, 501, "Not Implemented");
    }
}

static void sip_datagram(struct hp_udp_peer *p, const uint8_t *data, size_t len)
{
    static struct sip_msg m;             /* 8 KiB arena: one thread, not on the stack */
    struct sip_peer to = { NULL, p, &p->ctx, p->cfg->proto_conf };
    struct hp_rd r;
    hp_rd_init(&r, data, len);
    if (sip_parse(&r, false, &m) != SIP_OK) {
        ev_malformed(&p->ctx, data, len);
        return;
    }
    sip_answer(&to, &m);
}

static void sip_data(struct hp_conn *c, struct hp_rd *in)
{
    static struct sip_msg m;
    struct sip_tcp *st = c->pstate;
    struct sip_peer to = { c, NULL, &c->ctx, hp_conn_service_cfg(c)->proto_conf };
    for (int i = 0; i < 32 && hp_rd_left(in); i++) {
        while (hp_rd_left(in) && (hp_rd_peek_u8(in, 0) == '\r' || hp_rd_peek_u8(in, 0) == '\n'))
            hp_rd_skip(in, 1);           /* RFC 5626 CRLF keep-alives */
        if (!hp_rd_left(in))
            return;
        const uint8_t *start = hp_rd_ptr(in);
        size_t avail = hp_rd_left(in);
        if (!sip_stream_ready(&st->framing, start, avail))
            return;
        int rc = sip_parse(in, true, &m);
        sip_stream_note(&st->framing, rc, &m, avail);
        if (rc == SIP_MORE)
            return;
        if (rc == SIP_BAD) {
            ev_malformed(&c->ctx, start, avail);
            hp_conn_send(c, "SIP/2.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 46);
            hp_rd_skip(in, hp_rd_left(in));
            hp_conn_close(c, "bad_request");
            return;
        }
        sip_answer(&to, &m);
        if (++st->msgs >= SIP_TCP_MSGS) {
            hp_rd_skip(in, hp_rd_left(in));
            hp_conn_close(c, "too_many_requests");
            return;
        }
    }
}

const struct hp_proto hp_proto_sip = {
    .name = "sip",
    .transports = HP_TRANSPORT_TCP | HP_TRANSPORT_UDP,
    .default_tcp_ports = "5060",
    .default_udp_ports = "5060",
    .conn_state_size = sizeof(struct sip_tcp),
    .default_max_input = 1024 * 1024,
    .configure = sip_configure,
    .unconfigure = sip_unconfigure,
    .start = sip_start,
    .on_data = sip_data,
    .on_datagram = sip_datagram,
};
