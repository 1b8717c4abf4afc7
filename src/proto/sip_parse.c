/*
 * sip_parse.c - SIP message parsing and response building (see sip_parse.h).
 *
 * The parser follows RFC 3261 section 7 loosely, like a PBX that wants to
 * answer scanners rather than reject them: any token as the method, header
 * names compared case-insensitively, compact forms mapped, folded lines
 * joined with one space.  Every copy goes to the message's arena with a
 * bound; a header that no longer fits is dropped (the message still parses).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "sip_parse.h"

bool sip_str_eq(struct sip_str s, const char *c)
{
    size_t n = strlen(c);
    return s.n == n && (n == 0 || strncasecmp(s.p, c, n) == 0);
}

static struct sip_str trim(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return (struct sip_str){ p, n };
}

/* Copy to the arena; NULL when it is full. */
static char *arena_put(struct sip_msg *m, const char *p, size_t n)
{
    if (n > SIP_ARENA - m->arena_used)
        return NULL;
    char *d = m->arena + m->arena_used;
    if (n)
        memcpy(d, p, n);
    m->arena_used += n;
    return d;
}

static const char *const compact_names[][2] = {
    { "f", "From" }, { "t", "To" }, { "v", "Via" }, { "i", "Call-ID" }, { "m", "Contact" },
    { "l", "Content-Length" }, { "c", "Content-Type" }, { "k", "Supported" }, { "s", "Subject" },
    { "e", "Content-Encoding" }, { "o", "Event" }, { "u", "Allow-Events" }, { "r", "Refer-To" },
    { "b", "Referred-By" }, { "x", "Session-Expires" },
};

static struct sip_str long_name(struct sip_str name)
{
    if (name.n == 1)
        for (size_t i = 0; i < sizeof(compact_names) / sizeof(compact_names[0]); i++)
            if (tolower((unsigned char)name.p[0]) == compact_names[i][0][0])
                return (struct sip_str){ compact_names[i][1], strlen(compact_names[i][1]) };
    return name;
}

/* The field a header lands in, NULL for headers not kept. */
static struct sip_str *header_slot(struct sip_msg *m, struct sip_str name)
{
    static const struct { const char *n; size_t off; } map[] = {
        { "From", offsetof(struct sip_msg, from) },
        { "To", offsetof(struct sip_msg, to) },
        { "Call-ID", offsetof(struct sip_msg, call_id) },
        { "CSeq", offsetof(struct sip_msg, cseq) },
        { "Contact", offsetof(struct sip_msg, contact) },
        { "User-Agent", offsetof(struct sip_msg, user_agent) },
        { "Authorization", offsetof(struct sip_msg, authorization) },
        { "Proxy-Authorization", offsetof(struct sip_msg, proxy_authorization) },
        { "Content-Type", offsetof(struct sip_msg, content_type) },
        { "Max-Forwards", offsetof(struct sip_msg, max_forwards) },
    };
    if (sip_str_eq(name, "Via"))
        return m->nvia < SIP_VIA_MAX ? &m->via[m->nvia++] : NULL;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (sip_str_eq(name, map[i].n)) {
            struct sip_str *s = (struct sip_str *)((char *)m + map[i].off);
            return s->p ? NULL : s;          /* the first one counts */
        }
    return NULL;
}

static bool parse_first_line(struct sip_msg *m, const char *p, size_t n)
{
    const char *l = arena_put(m, p, n);
    if (!l || n == 0)
        return false;
    m->line = (struct sip_str){ l, n };
    if (n > 8 && strncmp(l, "SIP/2.0 ", 8) == 0) {
        m->response = true;
        int code = 0;
        size_t i = 8;
        for (; i < n && i < 11 && isdigit((unsigned char)l[i]); i++)
            code = code * 10 + (l[i] - '0');
        if (i != 11 || code < 100)
            return false;
        m->status = code;
        m->version = (struct sip_str){ l, 7 };
        return true;
    }
    const char *sp1 = memchr(l, ' ', n);
    if (!sp1 || sp1 == l)
        return false;
    size_t rest = n - (size_t)(sp1 + 1 - l);
    const char *sp2 = memchr(sp1 + 1, ' ', rest);
    if (!sp2 || sp2 == sp1 + 1)
        return false;
    m->method = (struct sip_str){ l, (size_t)(sp1 - l) };
    m->uri = (struct sip_str){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
    m->version = trim(sp2 + 1, n - (size_t)(sp2 + 1 - l));
    for (size_t i = 0; i < m->method.n; i++)
        if (!isgraph((unsigned char)m->method.p[i]))
            return false;
    return m->version.n >= 4 && strncasecmp(m->version.p, "SIP/", 4) == 0;
}

static bool parse_length(struct sip_str v, size_t *out)
{
    size_t n = 0;
    if (v.n == 0 || v.n > 9)
        return false;
    for (size_t i = 0; i < v.n; i++) {
        if (!isdigit((unsigned char)v.p[i]))
            return false;
        n = n * 10 + (size_t)(v.p[i] - '0');
    }
    *out = n;
    return true;
}

/* One header line (or continuation) into the message. */
static bool header_line(struct sip_msg *m, const char *p, size_t n, struct sip_str **last)
{
    if (n && (p[0] == ' ' || p[0] == '\t')) {
        /* Folding: the previous kept value is the arena's last copy, so the
         * continuation extends it in place. */
        struct sip_str c = trim(p, n);
        bool first = *last && (*last)->n == 0;   /* "To:" with the value on the next line: no leading blank */
        if (*last && (*last)->p + (*last)->n == m->arena + m->arena_used && c.n &&
            (first || arena_put(m, " ", 1)) && arena_put(m, c.p, c.n))
            (*last)->n += (first ? 0 : 1) + c.n;
        return true;
    }
    *last = NULL;
    m->nheaders++;
    const char *colon = memchr(p, ':', n);
    if (!colon)
        return false;
    struct sip_str name = long_name(trim(p, (size_t)(colon - p)));
    struct sip_str val = trim(colon + 1, n - (size_t)(colon + 1 - p));
    if (sip_str_eq(name, "Content-Length")) {
        if (!parse_length(val, &m->content_length))
            return false;
        m->has_content_length = true;
        return true;
    }
    if (m->nheaders > SIP_HDRS_MAX)
        return true;
    struct sip_str *slot = header_slot(m, name);
    if (!slot)
        return true;
    const char *d = arena_put(m, val.p, val.n);
    if (!d)
        return true;
    *slot = (struct sip_str){ d, val.n };
    *last = slot;
    return true;
}

int sip_parse(struct hp_rd *r, bool stream, struct sip_msg *m)
{
    struct hp_rd t = *r;
    const uint8_t *line;
    size_t len;
    memset(m, 0, offsetof(struct sip_msg, arena));
    for (int i = 0; i < 8 && hp_rd_left(&t) && (hp_rd_peek_u8(&t, 0) == '\r' || hp_rd_peek_u8(&t, 0) == '\n'); i++)
        hp_rd_skip(&t, 1);
    size_t start = hp_rd_pos(&t);
    if (!hp_rd_line(&t, SIP_LINE_MAX, &line, &len))
        return stream && hp_rd_left(&t) < SIP_LINE_MAX ? SIP_MORE : SIP_BAD;
    if (!parse_first_line(m, (const char *)line, len))
        return SIP_BAD;
    struct sip_str *last = NULL;
    bool ended = false;
    for (int i = 0; i < 1000; i++) {
        if (!hp_rd_line(&t, SIP_LINE_MAX, &line, &len)) {
            if (!stream) {               /* a datagram without the blank line: headers end here */
                if (hp_rd_left(&t) && !header_line(m, (const char *)hp_rd_ptr(&t), hp_rd_left(&t), &last))
                    return SIP_BAD;
                hp_rd_skip(&t, hp_rd_left(&t));
                ended = true;
                break;
            }
            return hp_rd_pos(&t) - start + hp_rd_left(&t) < SIP_HEAD_MAX ? SIP_MORE : SIP_BAD;
        }
        if (hp_rd_pos(&t) - start > SIP_HEAD_MAX)
            return SIP_BAD;
        if (len == 0) {
            ended = true;
            break;
        }
        if (!header_line(m, (const char *)line, len, &last))
            return SIP_BAD;
    }
    if (!ended)
        return SIP_BAD;
    if (m->has_content_length && m->content_length > SIP_BODY_MAX)
        return SIP_BAD;
    size_t want = m->has_content_length ? m->content_length : (stream ? 0 : hp_rd_left(&t));
    if (want > hp_rd_left(&t)) {
        if (stream) {
            m->need = hp_rd_pos(&t) - hp_rd_pos(r) + want;
            return SIP_MORE;
        }
        want = hp_rd_left(&t);           /* a datagram shorter than it claims */
    }
    m->body = hp_rd_bytes(&t, want);
    m->body_len = m->body ? want : 0;
    if (!stream)
        hp_rd_skip(&t, hp_rd_left(&t));
    *r = t;
    return SIP_OK;
}

static bool crossed(size_t before, size_t now, size_t limit)
{
    return before < limit && now >= limit;
}

bool sip_stream_ready(struct sip_stream *st, const uint8_t *p, size_t len)
{
    if (st->need)
        return len >= st->need;
    if (len <= st->seen)
        return false;
    return st->seen == 0 || memchr(p + st->seen, '\n', len - st->seen) || crossed(st->seen, len, SIP_LINE_MAX) ||
           crossed(st->seen, len, SIP_HEAD_MAX);
}

void sip_stream_note(struct sip_stream *st, int rc, const struct sip_msg *m, size_t len)
{
    if (rc == SIP_MORE) {
        st->seen = len;
        st->need = m->need;
    } else {
        st->seen = 0;
        st->need = 0;
    }
}

/* ---- Digest credentials ------------------------------------------------ */

bool sip_digest_parse(struct sip_str v, struct sip_digest *d)
{
    memset(d, 0, sizeof(*d));
    if (v.n < 7 || strncasecmp(v.p, "Digest", 6) != 0 || (v.p[6] != ' ' && v.p[6] != '\t'))
        return false;
    size_t i = 7, n = v.n;
    const char *p = v.p;
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
            i++;
        size_t ks = i;
        while (i < n && p[i] != '=' && p[i] != ',' && p[i] != ' ')
            i++;
        struct sip_str key = { p + ks, i - ks };
        while (i < n && p[i] == ' ')
            i++;
        if (i >= n || p[i] != '=') {
            i++;
            continue;
        }
        i++;
        while (i < n && p[i] == ' ')
            i++;
        struct sip_str val;
        if (i < n && p[i] == '"') {
            size_t vs = ++i;
            while (i < n && p[i] != '"')
                i += (p[i] == '\\' && i + 1 < n) ? 2 : 1;
            val = (struct sip_str){ p + vs, (i < n ? i : n) - vs };
            i++;
        } else {
            size_t vs = i;
            while (i < n && p[i] != ',')
                i++;
            val = trim(p + vs, i - vs);
        }
        static const struct { const char *k; size_t off; } f[] = {
            { "username", offsetof(struct sip_digest, username) },
            { "realm", offsetof(struct sip_digest, realm) },
            { "nonce", offsetof(struct sip_digest, nonce) },
            { "uri", offsetof(struct sip_digest, uri) },
            { "response", offsetof(struct sip_digest, response) },
            { "algorithm", offsetof(struct sip_digest, algorithm) },
            { "cnonce", offsetof(struct sip_digest, cnonce) },
            { "nc", offsetof(struct sip_digest, nc) },
            { "qop", offsetof(struct sip_digest, qop) },
            { "opaque", offsetof(struct sip_digest, opaque) },
        };
        for (size_t j = 0; j < sizeof(f) / sizeof(f[0]); j++)
            if (sip_str_eq(key, f[j].k)) {
                struct sip_str *s = (struct sip_str *)((char *)d + f[j].off);
                if (!s->p)
                    *s = val;
            }
    }
    return d->username.p && d->response.p;
}

static bool put(char **o, size_t *left, const char *p, size_t n)
{
    if (n >= *left)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '*' || (unsigned char)p[i] < 0x20 || p[i] == 0x7f)
            return false;                /* no field separator, no control bytes (NUL would cut the line) */
    memcpy(*o, p, n);
    *o += n;
    *left -= n;
    **o = '\0';
    return true;
}

static bool putc_star(char **o, size_t *left)
{
    if (*left < 2)
        return false;
    *(*o)++ = '*';
    **o = '\0';
    (*left)--;
    return true;
}

size_t sip_hashcat(const struct sip_digest *d, const char *method, const char *server_ip,
                   const char *client_ip, char *out, size_t outlen)
{
    if (outlen < 8 || !d->username.p || !d->response.p)
        return 0;
    /* uri "sip:resource;suffix" -> prefix, resource, suffix */
    struct sip_str uri = d->uri.p ? d->uri : (struct sip_str){ "", 0 };
    struct sip_str pre = { "", 0 }, res = uri, suf = { "", 0 };
    const char *c = memchr(uri.p, ':', uri.n);
    if (c) {
        pre = (struct sip_str){ uri.p, (size_t)(c - uri.p) };
        res = (struct sip_str){ c + 1, uri.n - pre.n - 1 };
    }
    const char *sc = res.n ? memchr(res.p, ';', res.n) : NULL;
    if (sc) {
        suf = (struct sip_str){ sc + 1, res.n - (size_t)(sc + 1 - res.p) };
        res.n = (size_t)(sc - res.p);
    }
    const struct sip_str empty = { "", 0 };
    struct sip_str parts[] = {
        { server_ip, strlen(server_ip) }, { client_ip, strlen(client_ip) }, d->username,
        d->realm.p ? d->realm : empty, { method, strlen(method) }, pre, res, suf,
        d->nonce.p ? d->nonce : empty, d->cnonce.p ? d->cnonce : empty, d->nc.p ? d->nc : empty,
        d->qop.p ? d->qop : empty, { "MD5", 3 }, d->response,
    };
    char *o = out;
    size_t left = outlen;
    if (!put(&o, &left, "$sip$", 5))
        return 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        if (!putc_star(&o, &left) || !put(&o, &left, parts[i].p, parts[i].n))
            return 0;
    return (size_t)(o - out);
}

/* ---- scanners and addresses ------------------------------------------- */

const char *sip_scanner(struct sip_str ua)
{
    static const char *const known[][2] = {
        { "friendly-scanner", "friendly-scanner" }, { "sipvicious", "sipvicious" },
        { "sipcli", "sipcli" }, { "VaxSIPUserAgent", "VaxSIPUserAgent" }, { "sipsak", "sipsak" },
        { "sip-scan", "sip-scan" }, { "sipscan", "sip-scan" }, { "iWar", "iwar" },
        { "sundayddr", "sundayddr" }, { "pplsip", "pplsip" }, { "SIVuS", "sivus" },
        { "smap", "smap" }, { "siparmyknife", "siparmyknife" }, { "Nmap NSE", "nmap" },
        { "sipptk", "sipptk" }, { "SIPp", "sipp" }, { "Cisco-SIPGateway/SCAN", "sip-scan" },
        { "Asterisk PBX (scanner)", "asterisk-scanner" }, { "voipscanner", "voipscanner" },
        { "sip-cli", "sipcli" },
    };
    if (!ua.p || !ua.n)
        return NULL;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        size_t kn = strlen(known[i][0]);
        for (size_t j = 0; j + kn <= ua.n; j++)
            if (strncasecmp(ua.p + j, known[i][0], kn) == 0)
                return known[i][1];
    }
    return NULL;
}

struct sip_str sip_addr_uri(struct sip_str v)
{
    if (!v.p)
        return (struct sip_str){ "", 0 };
    const char *lt = memchr(v.p, '<', v.n);
    if (lt) {
        size_t rest = v.n - (size_t)(lt + 1 - v.p);
        const char *gt = memchr(lt + 1, '>', rest);
        return (struct sip_str){ lt + 1, gt ? (size_t)(gt - lt - 1) : rest };
    }
    const char *sc = memchr(v.p, ';', v.n);       /* bare URI: parameters are the header's */
    return trim(v.p, sc ? (size_t)(sc - v.p) : v.n);
}

void sip_uri_user(struct sip_str uri, char *out, size_t outlen)
{
    out[0] = '\0';
    if (!uri.p || outlen == 0)
        return;
    const char *c = memchr(uri.p, ':', uri.n);
    if (!c)
        return;
    size_t rest = uri.n - (size_t)(c + 1 - uri.p);
    const char *at = memchr(c + 1, '@', rest);
    if (!at)
        return;
    size_t n = (size_t)(at - c - 1);
    const char *semi = memchr(c + 1, ';', n);   /* user;params@host */
    const char *colon = memchr(c + 1, ':', n);  /* user:password@host */
    if (semi)
        n = (size_t)(semi - c - 1);
    if (colon && (size_t)(colon - c - 1) < n)
        n = (size_t)(colon - c - 1);
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, c + 1, n);
    out[n] = '\0';
}

/* ---- responses --------------------------------------------------------- */

struct wr {
    char *o;
    size_t cap, len;
    bool over;
};

static void w_put(struct wr *w, const char *p, size_t n)
{
    if (w->over || n >= w->cap - w->len) {
        w->over = true;
        return;
    }
    memcpy(w->o + w->len, p, n);
    w->len += n;
}

static void w_str(struct wr *w, const char *s) { w_put(w, s, strlen(s)); }
static void w_sip(struct wr *w, struct sip_str s) { w_put(w, s.p, s.n); }

static void w_hdr(struct wr *w, const char *name, const char *v)
{
    if (!v)
        return;
    w_str(w, name);
    w_str(w, ": ");
    w_str(w, v);
    w_str(w, "\r\n");
}

/* The top Via with RFC 3581 rport filled in and received= added. */
static void w_top_via(struct wr *w, struct sip_str v, const struct sip_reply *rp, bool compact)
{
    const char *rport = NULL;
    for (size_t i = 0; i + 6 <= v.n; i++)
        if (strncasecmp(v.p + i, ";rport", 6) == 0 && (i + 6 == v.n || v.p[i + 6] == ';')) {
            rport = v.p + i + 6;
            break;
        }
    if (!rport || !rp->src_ip || compact) {
        w_sip(w, v);
        return;
    }
    char port[16];
    snprintf(port, sizeof(port), "=%u", (unsigned)rp->src_port);
    w_put(w, v.p, (size_t)(rport - v.p));
    w_str(w, port);
    w_put(w, rport, v.n - (size_t)(rport - v.p));
    w_str(w, ";received=");
    w_str(w, rp->src_ip);
}

size_t sip_build_reply(const struct sip_msg *m, const struct sip_reply *rp, int level, char *out, size_t cap)
{
    struct wr w = { out, cap, 0, false };
    bool c = level >= 3;                 /* compact header names (RFC 3261 7.3.3) */
    if (cap == 0)
        return 0;
    char status[64];
    snprintf(status, sizeof(status), "SIP/2.0 %d %s\r\n", rp->code, rp->reason);
    w_str(&w, status);
    for (size_t i = 0; i < m->nvia; i++) {
        w_str(&w, c ? "v: " : "Via: ");
        if (i == 0)
            w_top_via(&w, m->via[i], rp, c);
        else
            w_sip(&w, m->via[i]);
        w_str(&w, "\r\n");
    }
    if (m->from.p) {
        w_str(&w, c ? "f: " : "From: ");
        w_sip(&w, m->from);
        w_str(&w, "\r\n");
    }
    if (m->to.p) {
        w_str(&w, c ? "t: " : "To: ");
        w_sip(&w, m->to);
        bool tagged = false;
        for (size_t i = 0; i + 5 <= m->to.n && !tagged; i++)
            tagged = strncasecmp(m->to.p + i, ";tag=", 5) == 0;
        if (!tagged && rp->to_tag) {
            w_str(&w, ";tag=");
            w_str(&w, rp->to_tag);
        }
        w_str(&w, "\r\n");
    }
    if (m->call_id.p) {
        w_str(&w, c ? "i: " : "Call-ID: ");
        w_sip(&w, m->call_id);
        w_str(&w, "\r\n");
    }
    if (m->cseq.p) {
        w_str(&w, "CSeq: ");
        w_sip(&w, m->cseq);
        w_str(&w, "\r\n");
    }
    if (level < 2)
        w_hdr(&w, "Server", rp->server);
    if (level < 1) {
        w_hdr(&w, "Allow", rp->allow);
        w_hdr(&w, "Supported", rp->supported);
        w_hdr(&w, "Accept", rp->accept);
        w_hdr(&w, "Contact", rp->contact);
    }
    if (rp->auth_header && rp->auth_value)
        w_hdr(&w, rp->auth_header, c && rp->auth_short ? rp->auth_short : rp->auth_value);
    w_str(&w, c ? "l: 0\r\n\r\n" : "Content-Length: 0\r\n\r\n");
    return w.over ? 0 : w.len;
}
