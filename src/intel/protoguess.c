/*
 * protoguess.c - label the first bytes of a connection with a protocol guess.
 *
 * Design
 * ------
 * The catch-all trap hands us whatever a peer sent first, usually only the
 * first read, so the input is often truncated.  We run a fixed table of
 * guessers (pg_guessers[] at the bottom), most specific first, and the
 * first one that claims the bytes wins:
 *
 *   1. binary protocols with a magic value and self-consistent length
 *      fields (TLS, TPKT/COTP, SMB, ADB, MongoDB, ...);
 *   2. weaker binary shapes that only make sense on one transport (NTP and
 *      DNS over UDP, DNS with its TCP length prefix);
 *   3. text request lines told apart by their version token: SIP/2.0,
 *      RTSP/1.0 and "* HTTP/1.1" (SSDP) before plain HTTP, because they all
 *      share methods such as OPTIONS and NOTIFY;
 *   4. loose keyword matchers last (inline redis, memcached, mail, AT
 *      commands), so they can never steal anything above.
 *
 * Each guesser gets its own copy of a reader over the whole input and may
 * consume it freely.  All peer bytes are read through hp_rd (reader.h); a
 * length field is never trusted: containers (a TLS record, a TPKT, a Mongo
 * message) are cut to min(claimed, present) so truncated captures parse as
 * far as they go, while values reported as details (SNI, cookie, user name)
 * are reported only when they are whole.  The exceptions are the request
 * line and banners that define the guess itself (http_uri, ssh_version),
 * which are reported as far as they go.
 *
 * Confidence is 90+ when the structure checks out (magic plus consistent
 * lengths, or a full request line with its version) and 50-85 when only a
 * prefix matched (truncated input) or the match is a keyword.
 *
 * Detail values point into the input, except for a few derived from a
 * single byte and reported as static text (modbus_function, smb_version,
 * snmp_version).  Nothing allocates; the cost is a few bounded scans, and
 * most guessers reject on their first byte.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdbool.h>
#include "reader.h"
#include "intel/protoguess.h"
#include "intel/quic.h"

#define PG_LINE_MAX     8192   /* longest text line we look at */
#define PG_MAX_HEADERS  64     /* header lines scanned per lookup */
#define PG_TCP          1u
#define PG_UDP          2u
#define PG_ANY          (PG_TCP | PG_UDP)

/* ---- result helpers ---------------------------------------------------- */

static void pg_reset(struct hp_guess *g)
{
    memset(g, 0, sizeof(*g));
    g->proto = "unknown";
}

/* Returns true so a guesser can end with "return pg_label(...)". */
static bool pg_label(struct hp_guess *g, const char *proto, int confidence)
{
    g->proto = proto;
    g->confidence = confidence;
    return true;
}

/* Empty or missing values carry no information and are skipped. */
static void pg_add(struct hp_guess *g, const char *key, const uint8_t *v, size_t n)
{
    if (!v || n == 0 || g->ndetails >= HP_GUESS_MAX_DETAILS)
        return;
    struct hp_guess_detail *d = &g->details[g->ndetails++];
    d->key = key;
    d->value = v;
    d->len = n > HP_GUESS_DETAIL_MAX ? HP_GUESS_DETAIL_MAX : n;
}

static void pg_add_static(struct hp_guess *g, const char *key, const char *s)
{
    pg_add(g, key, (const uint8_t *)s, strlen(s));
}

/* ---- character classes (ASCII only; the locale must not matter) --------- */

typedef bool (*pg_pred)(int c);

static int pg_lower(int c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }
static bool pg_is_digit(int c) { return c >= '0' && c <= '9'; }
static bool pg_is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static bool pg_is_alpha(int c) { return pg_is_upper(c) || (c >= 'a' && c <= 'z'); }
static bool pg_is_alnum(int c) { return pg_is_alpha(c) || pg_is_digit(c); }
static bool pg_is_hex(int c) { return pg_is_digit(c) || (pg_lower(c) >= 'a' && pg_lower(c) <= 'f'); }
static bool pg_is_ows(int c) { return c == ' ' || c == '\t'; }
static bool pg_is_print(int c) { return c >= 0x20 && c < 0x7f; }
static bool pg_is_nonzero(int c) { return c > 0; }
static bool pg_is_lower_word(int c) { return (c >= 'a' && c <= 'z') || c == '_'; }
static bool pg_is_method(int c) { return pg_is_upper(c) || pg_is_digit(c) || c == '-' || c == '_'; }
/* A request target or version token: anything but space and controls. */
static bool pg_is_token(int c) { return c > 0x20 && c != 0x7f; }
static bool pg_is_json_ws(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static bool pg_is_json_str(int c) { return c >= 0x20 && c != '"' && c != '\\'; }
static bool pg_is_imap_tag(int c) { return pg_is_alnum(c) || c == '.'; }
static bool pg_is_at_arg(int c) { return pg_is_hex(c) || c == ' '; }
static bool pg_is_obd(int c) { return pg_is_hex(c) || c == ' '; }

/* ---- reader helpers ----------------------------------------------------- */

/* Number of leading unread bytes satisfying ok(), at most max. */
static size_t pg_span(const struct hp_rd *r, pg_pred ok, size_t max)
{
    size_t n = 0;
    int c;
    while (n < max && (c = hp_rd_peek_u8(r, n)) >= 0 && ok(c))
        n++;
    return n;
}

/* Take the leading run of ok() bytes (NULL when there is none). */
static const uint8_t *pg_take(struct hp_rd *r, pg_pred ok, size_t max, size_t *n)
{
    *n = pg_span(r, ok, max);
    return *n ? hp_rd_bytes(r, *n) : NULL;
}

static void pg_skip_span(struct hp_rd *r, pg_pred ok, size_t max)
{
    hp_rd_skip(r, pg_span(r, ok, max));
}

/*
 * Carve a sub-reader of up to n bytes: a length field claims n, but the
 * capture may hold fewer.  Used for containers only, never for values.
 */
static void pg_sub_upto(struct hp_rd *r, size_t n, struct hp_rd *sub)
{
    size_t left = hp_rd_left(r);
    hp_rd_sub(r, n < left ? n : left, sub);
}

/* Case-insensitive "unread bytes start with s". */
static bool pg_prefix_ci(const struct hp_rd *r, const char *s)
{
    for (size_t i = 0; s[i]; i++) {
        int c = hp_rd_peek_u8(r, i);
        if (c < 0 || pg_lower(c) != pg_lower((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* Token (from hp_rd, n bytes) equals s; case-insensitively when ci. */
static bool pg_eq(const uint8_t *p, size_t n, const char *s, bool ci)
{
    for (size_t i = 0; i < n; i++) {
        if (!s[i])
            return false;
        int a = p[i], b = (unsigned char)s[i];
        if (ci ? pg_lower(a) != pg_lower(b) : a != b)
            return false;
    }
    return s[n] == '\0';
}

static bool pg_in_list(const uint8_t *p, size_t n, const char *const *list, bool ci)
{
    for (; *list; list++)
        if (pg_eq(p, n, *list, ci))
            return true;
    return false;
}

/* Token (n bytes) starts with s, case-insensitively. */
static bool pg_tok_prefix_ci(const uint8_t *p, size_t n, const char *s)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    return pg_prefix_ci(&r, s);
}

/* A NUL-terminated string; false (nothing consumed) when the NUL is absent. */
static bool pg_cstring(struct hp_rd *r, const uint8_t **p, size_t *n)
{
    long nul = hp_rd_find(r, "", 1);
    if (nul < 0)
        return false;
    *n = (size_t)nul;
    *p = hp_rd_bytes(r, *n);
    return hp_rd_skip(r, 1);
}

/*
 * The first line of the input, CR/LF stripped.  When no LF shows up within
 * PG_LINE_MAX the line is whatever is there and *complete is false.  rest
 * receives the bytes after the line.
 */
static void pg_first_line(const struct hp_rd *in, struct hp_rd *line, bool *complete,
                          struct hp_rd *rest)
{
    const uint8_t *p;
    size_t n;
    *rest = *in;
    *complete = hp_rd_line(rest, PG_LINE_MAX, &p, &n);
    if (!*complete) {
        size_t left = hp_rd_left(rest);
        n = left < PG_LINE_MAX ? left : PG_LINE_MAX;
        p = hp_rd_bytes(rest, n);
        hp_rd_init(line, p, n);
        if (n > 0 && hp_rd_peek_u8(line, n - 1) == '\r')
            n--;                    /* cut between CR and LF */
    }
    hp_rd_init(line, p, n);
}

/* Like pg_first_line but a bare CR also ends the line (AT commands). */
static bool pg_cr_line(const struct hp_rd *in, size_t max, struct hp_rd *line)
{
    struct hp_rd r = *in;
    size_t n = 0;
    int c = -1;
    while (n < max && (c = hp_rd_peek_u8(&r, n)) >= 0 && c != '\r' && c != '\n')
        n++;
    if (c != '\r' && c != '\n')
        return false;
    hp_rd_sub(&r, n, line);
    return true;
}

/* ---- text request lines (HTTP, SIP, RTSP, SSDP) ------------------------ */

struct pg_req {
    const uint8_t *method, *target, *version;
    size_t method_len, target_len, version_len;
    bool complete;                  /* the request line ended inside the buffer */
    struct hp_rd rest;              /* header lines and body */
};

/* "METHOD SP target [SP version]"; the line may be cut anywhere after "METHOD SP". */
static bool pg_parse_req(const struct hp_rd *in, struct pg_req *q)
{
    struct hp_rd line;
    memset(q, 0, sizeof(*q));
    if (!pg_is_upper(hp_rd_peek_u8(in, 0)))
        return false;               /* cheap reject before scanning for the LF */
    pg_first_line(in, &line, &q->complete, &q->rest);
    q->method = pg_take(&line, pg_is_method, 24, &q->method_len);
    if (!q->method || hp_rd_u8(&line) != ' ')
        return false;
    q->target = pg_take(&line, pg_is_token, PG_LINE_MAX, &q->target_len);
    if (!q->target)
        return false;
    if (hp_rd_left(&line) == 0)
        return true;                /* no version: HTTP/0.9 or cut in the target */
    if (hp_rd_u8(&line) != ' ')
        return false;
    q->version = pg_take(&line, pg_is_token, 16, &q->version_len);
    if (!q->version && q->complete)
        return false;               /* "GET / \r\n" */
    return hp_rd_left(&line) == 0;  /* nothing may follow the version */
}

enum { PG_V_BAD = -1, PG_V_NONE = 0, PG_V_PARTIAL = 1, PG_V_FULL = 2 };

/*
 * Check the version token against "NAME/d.d".  PARTIAL: the line was cut
 * inside the token and what is there agrees with the pattern.  HTTP/2 may
 * omit the minor version ("HTTP/2").
 */
static int pg_version(const struct pg_req *q, const char *name)
{
    size_t nl = strlen(name);
    struct hp_rd v;
    if (!q->version)
        return PG_V_NONE;
    hp_rd_init(&v, q->version, q->version_len);
    for (size_t i = 0; i < q->version_len; i++) {
        int c = hp_rd_peek_u8(&v, i);
        bool ok = i < nl ? c == name[i]
                : i == nl ? c == '/'
                : i == nl + 2 ? c == '.'
                : i == nl + 1 || i == nl + 3 ? pg_is_digit(c)
                : false;
        if (!ok)
            return PG_V_BAD;
    }
    if (q->version_len == nl + 4 || q->version_len == nl + 2)
        return q->complete || q->version_len == nl + 4 ? PG_V_FULL : PG_V_PARTIAL;
    return q->complete ? PG_V_BAD : PG_V_PARTIAL;
}

/* Value of the first complete header line called name (case-insensitive). */
static bool pg_header(const struct hp_rd *hdrs, const char *name,
                      const uint8_t **v, size_t *vlen)
{
    struct hp_rd r = *hdrs, line;
    const uint8_t *p;
    size_t n, nl = strlen(name);
    for (int i = 0; i < PG_MAX_HEADERS && hp_rd_line(&r, PG_LINE_MAX, &p, &n); i++) {
        if (n == 0)
            break;                  /* blank line: end of headers */
        hp_rd_init(&line, p, n);
        if (!pg_prefix_ci(&line, name) || hp_rd_peek_u8(&line, nl) != ':')
            continue;
        hp_rd_skip(&line, nl + 1);
        pg_skip_span(&line, pg_is_ows, n);
        size_t len = hp_rd_left(&line);
        while (len > 0 && pg_is_ows(hp_rd_peek_u8(&line, len - 1)))
            len--;
        *v = hp_rd_bytes(&line, len);
        *vlen = len;
        return len > 0;
    }
    return false;
}

static void pg_add_header(struct hp_guess *g, const char *key, const struct hp_rd *hdrs,
                          const char *name)
{
    const uint8_t *v;
    size_t n;
    if (pg_header(hdrs, name, &v, &n))
        pg_add(g, key, v, n);
}

/* The body: what follows the blank line, if the blank line is in the buffer. */
static bool pg_body(const struct hp_rd *hdrs, struct hp_rd *body)
{
    const uint8_t *p;
    size_t n;
    *body = *hdrs;
    for (int i = 0; i < PG_MAX_HEADERS; i++) {
        if (!hp_rd_line(body, PG_LINE_MAX, &p, &n))
            return false;
        if (n == 0)
            return true;
    }
    return false;
}

/* ---- JSON-RPC ------------------------------------------------------------ */

/*
 * Find "key" used as a key (followed by ':'); when v is given and the value
 * is a plain string, return it.  No JSON parser: a substring search is
 * enough to label, and strings with escapes are simply not reported.
 */
static bool pg_json_key(const struct hp_rd *in, const char *qkey, const uint8_t **v, size_t *vlen)
{
    struct hp_rd r = *in;
    size_t kl = strlen(qkey);
    long off;
    while ((off = hp_rd_find(&r, qkey, kl)) >= 0) {
        hp_rd_skip(&r, (size_t)off + kl);
        pg_skip_span(&r, pg_is_json_ws, PG_LINE_MAX);
        if (hp_rd_peek_u8(&r, 0) != ':')
            continue;               /* it was a value, not a key */
        hp_rd_skip(&r, 1);
        pg_skip_span(&r, pg_is_json_ws, PG_LINE_MAX);
        if (v && hp_rd_peek_u8(&r, 0) == '"') {
            hp_rd_skip(&r, 1);
            size_t n = pg_span(&r, pg_is_json_str, PG_LINE_MAX);
            if (hp_rd_peek_u8(&r, n) == '"') {
                *v = hp_rd_bytes(&r, n);
                *vlen = n;
            }
        }
        return true;
    }
    return false;
}

/* 0: not JSON-RPC-like; 1: an object with a "method" key; 2: with "jsonrpc". */
static int pg_jsonrpc(const struct hp_rd *in, const uint8_t **m, size_t *mlen)
{
    struct hp_rd r = *in;
    pg_skip_span(&r, pg_is_json_ws, PG_LINE_MAX);
    int c = hp_rd_peek_u8(&r, 0);
    if (c != '{' && c != '[')       /* an object, or a batch array of them */
        return 0;
    bool rpc = pg_json_key(&r, "\"jsonrpc\"", NULL, NULL);
    bool method = pg_json_key(&r, "\"method\"", m, mlen);
    return rpc ? 2 : method ? 1 : 0;
}

/* ---- guessers: binary ---------------------------------------------------- */

/* TLS ClientHello extensions we report: server_name (0) and ALPN (16). */
static void pg_tls_ext(uint16_t type, struct hp_rd *ext, struct hp_guess *g)
{
    struct hp_rd list, name;
    if (type == 0) {                /* ServerNameList: type(1) HostName<2> ... */
        hp_rd_sub16be(ext, &list);
        if (hp_rd_u8(&list) == 0 && hp_rd_sub16be(&list, &name))
            pg_add(g, "tls_sni", hp_rd_ptr(&name), hp_rd_left(&name));
    } else if (type == 16) {        /* ProtocolNameList<2> of ProtocolName<1> */
        hp_rd_sub16be(ext, &list);
        if (hp_rd_sub8(&list, &name))
            pg_add(g, "tls_alpn", hp_rd_ptr(&name), hp_rd_left(&name));
    }
}

/* ClientHello body after the handshake header (RFC 8446 4.1.2). */
static void pg_tls_hello(struct hp_rd *ch, struct hp_guess *g)
{
    struct hp_rd skip, exts, ext;
    hp_rd_skip(ch, 2 + 32);         /* legacy_version, random */
    hp_rd_sub8(ch, &skip);          /* legacy_session_id */
    hp_rd_sub16be(ch, &skip);       /* cipher_suites */
    hp_rd_sub8(ch, &skip);          /* legacy_compression_methods */
    size_t extlen = hp_rd_u16be(ch);
    if (!hp_rd_ok(ch))
        return;
    pg_sub_upto(ch, extlen, &exts);
    while (hp_rd_left(&exts) >= 4) {
        uint16_t type = hp_rd_u16be(&exts);
        if (!hp_rd_sub16be(&exts, &ext))
            return;                 /* cut inside this extension: report nothing of it */
        pg_tls_ext(type, &ext, g);
    }
}

/* Record: type 22, version 3.0-3.4, length; then handshake type 1. */
static bool guess_tls(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in, rec, ch;
    int minor = hp_rd_peek_u8(&r, 2);
    if (hp_rd_peek_u8(&r, 0) != 0x16 || hp_rd_peek_u8(&r, 1) != 0x03 || minor < 0 || minor > 4)
        return false;
    hp_rd_skip(&r, 3);
    if (hp_rd_left(&r) < 2)
        return pg_label(g, "tls", 50);
    size_t reclen = hp_rd_u16be(&r);
    if (reclen < 4 || reclen > 16384 + 2048)
        return false;               /* a handshake record is never that size */
    pg_label(g, "tls", 60);         /* record header only, until proven more */
    pg_sub_upto(&r, reclen, &rec);
    if (hp_rd_u8(&rec) != 1)
        return true;
    pg_label(g, "tls", 85);
    size_t hslen = hp_rd_u24be(&rec);
    int vmaj = hp_rd_peek_u8(&rec, 0), vmin = hp_rd_peek_u8(&rec, 1);
    if (!hp_rd_ok(&rec) || vmaj != 3 || vmin < 0 || vmin > 4 || hslen < 38)
        return true;
    pg_label(g, "tls", 95);
    /* A ClientHello may span records; we only look at the first one. */
    pg_sub_upto(&rec, hslen, &ch);
    pg_tls_hello(&ch, g);
    return true;
}

/* SSLv2-compatible CLIENT-HELLO (still sent by old scanners). */
static bool guess_sslv2(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in;
    uint8_t b0 = hp_rd_u8(&r), b1 = hp_rd_u8(&r), type = hp_rd_u8(&r);
    uint16_t ver = hp_rd_u16be(&r);
    size_t len = ((size_t)(b0 & 0x7f) << 8) | b1;
    if (!hp_rd_ok(&r) || !(b0 & 0x80) || type != 1 || len < 9)
        return false;
    if (ver != 0x0002 && (ver < 0x0300 || ver > 0x0303))
        return false;
    size_t cs = hp_rd_u16be(&r), sid = hp_rd_u16be(&r), chal = hp_rd_u16be(&r);
    if (!hp_rd_ok(&r))
        return pg_label(g, "tls", 60);
    if (cs == 0 || cs % 3 || (sid != 0 && sid != 16) || chal < 16 || chal > 32 ||
        len != 9 + cs + sid + chal)
        return false;
    return pg_label(g, "tls", 90);
}

/* DTLS record (RFC 6347 4.1): 22, {254,255|253}, epoch 0, seq48, length, ClientHello. */
static bool guess_dtls(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in;
    uint8_t type = hp_rd_u8(&r), maj = hp_rd_u8(&r), min = hp_rd_u8(&r);
    uint16_t epoch = hp_rd_u16be(&r);
    hp_rd_skip(&r, 6);
    size_t len = hp_rd_u16be(&r);
    if (!hp_rd_ok(&r) || type != 0x16 || maj != 0xfe || (min != 0xff && min != 0xfd) ||
        epoch != 0 || len < 12)
        return false;
    return pg_label(g, "dtls", hp_rd_peek_u8(&r, 0) == 1 ? 95 : 70);
}

/*
 * QUIC (RFC 9000 17.2): a long header (form and fixed bits set; a Version
 * Negotiation may clear the fixed bit), connection IDs of at most 20 bytes.
 * Strong for an Initial of a version src/intel/quic.c reads in a datagram of
 * 1200 bytes or more (what clients must send); weaker for other versions,
 * scanners' reserved ones (0x?a?a?a?a) included.
 */
static bool guess_quic(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_quic_head h;
    if (!hp_quic_peek(hp_rd_ptr(in), hp_rd_left(in), &h) || (!(hp_rd_ptr(in)[0] & 0x40) && h.version != 0))
        return false;
    /* other bytes with the top bit set (an NTP client's 0xe3) name no version of QUIC */
    bool reserved = (h.version & 0x0f0f0f0fu) == 0x0a0a0a0au, draft = (h.version >> 8) == 0xff0000u;
    if (h.version != 0 && !reserved && !draft && !hp_quic_version_known(h.version))
        return false;
    return pg_label(g, "quic", h.initial && hp_rd_left(in) >= 1200 ? 95 : hp_quic_version_known(h.version) ? 80 : 60);
}

/* "SSH-protoversion-softwareversion SP comments CR LF" (RFC 4253 4.2). */
static bool guess_ssh(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd line, rest, v;
    bool complete;
    if (!hp_rd_starts_with_str(in, "SSH-"))
        return false;
    pg_first_line(in, &line, &complete, &rest);
    v = line;
    hp_rd_skip(&v, 4);
    size_t maj = pg_span(&v, pg_is_digit, 3);
    hp_rd_skip(&v, maj);
    bool dot = hp_rd_u8(&v) == '.';
    size_t min = pg_span(&v, pg_is_digit, 3);
    hp_rd_skip(&v, min);
    bool strong = maj && dot && min && hp_rd_u8(&v) == '-';
    pg_label(g, "ssh", strong ? 95 : 70);
    pg_add(g, "ssh_version", hp_rd_ptr(&line), hp_rd_left(&line));
    return true;
}

/* An RDP cookie value: from after the prefix to CR LF, only when whole. */
static void pg_rdp_cookie(struct hp_rd *tpdu, size_t prefix, const char *key, struct hp_guess *g)
{
    hp_rd_skip(tpdu, prefix);
    long end = hp_rd_find(tpdu, "\r\n", 2);
    if (end >= 0)
        pg_add(g, key, hp_rd_ptr(tpdu), (size_t)end);
}

/*
 * COTP parameters of a CR (ISO 8073 13.3.4).  S7 clients send calling and
 * called TSAPs (0xC1, 0xC2) and usually a TPDU size (0xC0); RDP never does.
 * Returns 0 none, 1 a TSAP, 2 a TSAP plus the TPDU size parameter.
 */
static int pg_cotp_tsaps(struct hp_rd *vp)
{
    bool tsap = false, size = false;
    while (hp_rd_left(vp) > 0) {
        uint8_t code = hp_rd_u8(vp);
        if (code == 0xc1 || code == 0xc2)
            tsap = true;
        else if (code == 0xc0)
            size = true;
        else if (code < 0x80)
            break;                  /* not a parameter code at all */
        struct hp_rd val;
        if (!hp_rd_sub8(vp, &val))
            break;                  /* cut: judge on what we saw */
    }
    return tsap ? (size ? 2 : 1) : 0;
}

/* X.224 Connection Request: RDP (cookie, rdpNegReq) or S7 (TSAPs). */
static bool pg_cotp_cr(struct hp_rd *tpdu, struct hp_guess *g)
{
    hp_rd_skip(tpdu, 1 + 2 + 2 + 1);    /* CR|CDT, DST-REF, SRC-REF, class */
    if (!hp_rd_ok(tpdu))
        return pg_label(g, "rdp", 60);  /* cut in the fixed part */
    /* MS-RDPBCGR 2.2.1.1: optional routingToken or cookie, then rdpNegReq. */
    if (hp_rd_starts_with_str(tpdu, "Cookie: mstshash=")) {
        pg_rdp_cookie(tpdu, 17, "rdp_cookie", g);
        return pg_label(g, "rdp", 95);
    }
    if (hp_rd_starts_with_str(tpdu, "Cookie: msts=")) {
        pg_rdp_cookie(tpdu, 13, "rdp_token", g);
        return pg_label(g, "rdp", 95);
    }
    if (hp_rd_starts_with_str(tpdu, "Cookie: "))
        return pg_label(g, "rdp", 85);
    /* rdpNegReq: type 1, flags, length 8 (LE) */
    if (hp_rd_peek_u8(tpdu, 0) == 0x01 && hp_rd_peek_u8(tpdu, 2) == 0x08 &&
        hp_rd_peek_u8(tpdu, 3) == 0x00)
        return pg_label(g, "rdp", 95);
    if (hp_rd_left(tpdu) == 0)
        return pg_label(g, "rdp", 60);  /* bare CR: old RDP clients and probes */
    int tsaps = pg_cotp_tsaps(tpdu);
    if (tsaps)
        return pg_label(g, "s7", tsaps == 2 ? 95 : 90);
    return pg_label(g, "rdp", 50);
}

/*
 * TPKT (RFC 1006: 3, 0, length16 including itself) carrying COTP.  A CR
 * is RDP or S7; a DT TPDU (LI 2, 0xF0, EOT) whose payload starts with the
 * S7comm protocol id 0x32 (or S7comm-plus 0x72) is S7.
 */
static bool guess_cotp(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in, tpkt, tpdu;
    if (hp_rd_u8(&r) != 3 || hp_rd_u8(&r) != 0)
        return false;
    size_t len = hp_rd_u16be(&r);
    if (!hp_rd_ok(&r) || len < 7)
        return false;
    pg_sub_upto(&r, len - 4, &tpkt);
    size_t li = hp_rd_u8(&tpkt);
    int code = hp_rd_peek_u8(&tpkt, 0);
    if (code < 0 || li < 2 || li > len - 5)
        return false;               /* LI counts the bytes after itself */
    if ((code & 0xf0) == 0xe0 && li >= 6) {
        pg_sub_upto(&tpkt, li, &tpdu);
        return pg_cotp_cr(&tpdu, g);
    }
    if (code == 0xf0 && li == 2) {
        hp_rd_skip(&tpkt, 2);       /* DT, TPDU-NR/EOT */
        int pid = hp_rd_peek_u8(&tpkt, 0), rosctr = hp_rd_peek_u8(&tpkt, 1);
        if (pid == 0x32)            /* ROSCTR: job, ack, ack-data, userdata */
            return pg_label(g, "s7", (rosctr >= 1 && rosctr <= 3) || rosctr == 7 ? 95 : 80);
        if (pid == 0x72)
            return pg_label(g, "s7", 85);
    }
    return false;
}

/* NetBIOS session message (type 0, length24) holding an SMB1/SMB2 header. */
static bool guess_smb(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in;
    uint8_t type = hp_rd_u8(&r);
    uint32_t len = hp_rd_u24be(&r);
    const uint8_t *magic = hp_rd_bytes(&r, 4);
    if (!magic || type != 0 || len < 32)  /* 32: the SMB1 header; SMB2 has 64 */
        return false;
    if (pg_eq(magic, 4, "\xffSMB", false))
        pg_add_static(g, "smb_version", "1");
    else if (pg_eq(magic, 4, "\xfeSMB", false))
        pg_add_static(g, "smb_version", "2");
    else
        return false;
    return pg_label(g, "smb", 95);
}

/* A first-level encoded NetBIOS name (RFC 1001 14.1): 0x20, 32 x 'A'..'P', scope. */
static bool pg_nb_name(struct hp_rd *r, const char *key, struct hp_guess *g)
{
    if (hp_rd_u8(r) != 0x20)
        return false;
    size_t n = 0;
    int c;
    while (n < 32 && (c = hp_rd_peek_u8(r, n)) >= 'A' && c <= 'P')
        n++;
    if (n < 32) {                   /* fine if merely cut */
        bool cut = hp_rd_left(r) == n;
        hp_rd_skip(r, n);
        return cut;
    }
    pg_add(g, key, hp_rd_bytes(r, 32), 32);
    pg_skip_span(r, pg_is_nonzero, 255);   /* scope labels, if any */
    return hp_rd_left(r) == 0 || hp_rd_u8(r) == 0;
}

/* NetBIOS SESSION REQUEST (RFC 1002 4.3.2): 0x81, flags, length16, two names. */
static bool guess_netbios(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in, body;
    uint8_t type = hp_rd_u8(&r), flags = hp_rd_u8(&r);
    size_t len = hp_rd_u16be(&r);
    if (!hp_rd_ok(&r) || type != 0x81 || (flags & 0xfe) || len < 68 || len > 600)
        return false;
    if (hp_rd_left(&r) == 0)
        return pg_label(g, "netbios-ssn", 60);
    pg_sub_upto(&r, len, &body);
    if (!pg_nb_name(&body, "netbios_called", g))
        return false;
    if (hp_rd_left(&body) > 0 && !pg_nb_name(&body, "netbios_calling", g))
        return false;
    return pg_label(g, "netbios-ssn", 95);
}

/* TDS packet header (MS-TDS 2.2.3.1): PRELOGIN (0x12), EOM, length, ..., window 0. */
static bool guess_mssql(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in;
    uint8_t type = hp_rd_u8(&r), status = hp_rd_u8(&r);
    size_t len = hp_rd_u16be(&r);
    hp_rd_skip(&r, 3);              /* SPID, PacketID */
    uint8_t window = hp_rd_u8(&r);
    if (!hp_rd_ok(&r) || type != 0x12 || status != 0x01 || window != 0 ||
        len < 8 + 6 || len > 32768)
        return false;
    int token = hp_rd_peek_u8(&r, 0);   /* first PL_OPTION_TOKEN: VERSION .. or TERMINATOR */
    if (token < 0)
        return pg_label(g, "mssql", 75);
    if (token > 0x08 && token != 0xff)
        return false;
    return pg_label(g, "mssql", 95);
}

#define PG_ADB_CNXN 0x4e584e43u
static const uint32_t pg_adb_cmds[] = {
    PG_ADB_CNXN, 0x48545541 /* AUTH */, 0x4e45504f /* OPEN */, 0x59414b4f /* OKAY */,
    0x45534c43 /* CLSE */, 0x45545257 /* WRTE */, 0x434e5953 /* SYNC */, 0x534c5453 /* STLS */,
};

/* ADB amessage: six LE u32 (command, arg0, arg1, data_length, data_crc32, magic). */
static bool guess_adb(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in, payload;
    uint32_t cmd = hp_rd_u32le(&r);
    bool known = false;
    for (size_t i = 0; i < sizeof(pg_adb_cmds) / sizeof(pg_adb_cmds[0]); i++)
        known |= hp_rd_ok(&r) && cmd == pg_adb_cmds[i];
    if (!known)
        return false;
    hp_rd_skip(&r, 8);              /* arg0 (version), arg1 (maxdata) */
    size_t dlen = hp_rd_u32le(&r);
    hp_rd_skip(&r, 4);              /* data_crc32 (0 since protocol version 2) */
    uint32_t magic = hp_rd_u32le(&r);
    if (!hp_rd_ok(&r))
        return cmd == PG_ADB_CNXN ? pg_label(g, "adb", 60) : false;
    if (magic != (cmd ^ 0xffffffffu) || dlen > (1u << 20))
        return false;
    if (cmd == PG_ADB_CNXN) {
        /* "host::features=...", NUL-terminated by old clients only. */
        pg_sub_upto(&r, dlen, &payload);
        bool whole = hp_rd_left(&payload) == dlen;
        size_t n = pg_span(&payload, pg_is_nonzero, dlen);
        if (whole || hp_rd_peek_u8(&payload, n) == 0)
            pg_add(g, "adb_banner", hp_rd_ptr(&payload), n);
    }
    return pg_label(g, "adb", 95);
}

/* Bitcoin P2P message header: magic, command[12] NUL-padded, length, checksum. */
static bool guess_bitcoin(const struct hp_rd *in, struct hp_guess *g)
{
    static const uint32_t magics[] = {
        0xf9beb4d9 /* main */, 0x0b110907 /* testnet3 */, 0xfabfb5da /* regtest */,
        0x0a03cf40 /* signet */, 0x1c163f28 /* testnet4 */,
    };
    struct hp_rd r = *in, cmdr, payload;
    uint32_t magic = hp_rd_u32be(&r);
    bool known = false;
    for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
        known |= hp_rd_ok(&r) && magic == magics[i];
    if (!known)
        return false;
    if (!hp_rd_sub(&r, 12, &cmdr))
        return pg_label(g, "bitcoin", 70);
    const uint8_t *cmd = hp_rd_ptr(&cmdr);
    size_t cl = pg_span(&cmdr, pg_is_alpha, 12);
    hp_rd_skip(&cmdr, cl);
    if (cl == 0)
        return false;
    while (hp_rd_left(&cmdr) > 0)
        if (hp_rd_u8(&cmdr) != 0)
            return false;           /* padding must be all NUL */
    bool version = pg_eq(cmd, cl, "version", false);
    pg_label(g, "bitcoin", version ? 95 : 85);
    size_t plen = hp_rd_u32le(&r);
    hp_rd_skip(&r, 4);              /* checksum */
    if (!version || !hp_rd_ok(&r))
        return true;
    /* version payload: version, services, timestamp, addr_recv, addr_from, nonce */
    pg_sub_upto(&r, plen, &payload);
    hp_rd_skip(&payload, 4 + 8 + 8 + 26 + 26 + 8);
    uint8_t ualen = hp_rd_u8(&payload);     /* var_str; a UA is < 0xfd bytes */
    const uint8_t *ua = ualen < 0xfd ? hp_rd_bytes(&payload, ualen) : NULL;
    pg_add(g, "bitcoin_user_agent", ua, ualen);
    return true;
}

/* Java RMI transport header: "JRMI", version 2, protocol Stream/SingleOp/Multiplex. */
static bool guess_java_rmi(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in;
    if (!hp_rd_starts_with_str(&r, "JRMI"))
        return false;
    hp_rd_skip(&r, 4);
    uint16_t ver = hp_rd_u16be(&r);
    uint8_t proto = hp_rd_u8(&r);
    if (!hp_rd_ok(&r))
        return pg_label(g, "java-rmi", 80);
    return ver == 2 && proto >= 0x4b && proto <= 0x4d ? pg_label(g, "java-rmi", 95)
                                                     : pg_label(g, "java-rmi", 70);
}

/* RFB ProtocolVersion: "RFB 003.008\n" (RFC 6143 7.1.1), exactly 12 bytes. */
static bool guess_vnc(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in;
    if (!hp_rd_starts_with_str(&r, "RFB "))
        return false;
    const uint8_t *v = hp_rd_bytes(&r, 12);
    if (!v)
        return pg_label(g, "vnc", 70);
    struct hp_rd vr;
    hp_rd_init(&vr, v, 12);
    hp_rd_skip(&vr, 4);
    bool ok = pg_span(&vr, pg_is_digit, 3) == 3 && hp_rd_peek_u8(&vr, 3) == '.';
    hp_rd_skip(&vr, 4);
    ok = ok && pg_span(&vr, pg_is_digit, 3) == 3 && hp_rd_peek_u8(&vr, 3) == '\n';
    if (!ok)
        return false;
    pg_add(g, "vnc_version", v, 11);
    return pg_label(g, "vnc", 95);
}

/* MQTT variable byte integer (1..4 bytes). */
static bool pg_mqtt_varint(struct hp_rd *r, size_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t b = hp_rd_u8(r);
        if (!hp_rd_ok(r))
            return false;
        *v |= (size_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            return true;
    }
    return false;
}

static void pg_mqtt_skip_props(struct hp_rd *r, int level)
{
    size_t n;
    if (level == 5 && pg_mqtt_varint(r, &n))
        hp_rd_skip(r, n);
}

/* CONNECT payload (MQTT 3.1.1 3.1.3 / 5.0 3.1.3): client id, will, user name. */
static void pg_mqtt_payload(struct hp_rd *r, int level, uint8_t flags, struct hp_guess *g)
{
    struct hp_rd s;
    if (hp_rd_sub16be(r, &s))
        pg_add(g, "mqtt_client_id", hp_rd_ptr(&s), hp_rd_left(&s));
    if (flags & 0x04) {             /* will flag: properties, topic, payload */
        pg_mqtt_skip_props(r, level);
        hp_rd_sub16be(r, &s);
        hp_rd_sub16be(r, &s);
    }
    if ((flags & 0x80) && hp_rd_sub16be(r, &s))
        pg_add(g, "mqtt_username", hp_rd_ptr(&s), hp_rd_left(&s));
}

/* MQTT CONNECT: 0x10, remaining length, "MQTT" (level 4/5) or "MQIsdp" (level 3). */
static bool guess_mqtt(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in, body, name;
    size_t remlen;
    if (hp_rd_u8(&r) != 0x10 || !pg_mqtt_varint(&r, &remlen) || remlen < 10)
        return false;
    pg_sub_upto(&r, remlen, &body);
    if (!hp_rd_sub16be(&body, &name))
        return false;
    const uint8_t *p = hp_rd_ptr(&name);
    size_t n = hp_rd_left(&name);
    bool v31 = pg_eq(p, n, "MQIsdp", false);
    if (!v31 && !pg_eq(p, n, "MQTT", false))
        return false;
    int level = hp_rd_peek_u8(&body, 0);
    if (level < 0)
        return pg_label(g, "mqtt", 90);
    if (v31 ? level != 3 : (level != 4 && level != 5))
        return false;
    hp_rd_skip(&body, 1);
    uint8_t flags = hp_rd_u8(&body);
    hp_rd_skip(&body, 2);           /* keep alive */
    if (hp_rd_ok(&body) && (flags & 0x01))
        return false;               /* reserved flag must be zero */
    pg_mqtt_skip_props(&body, level);
    pg_mqtt_payload(&body, level, flags, g);
    return pg_label(g, "mqtt", 95);
}

/* First key of a BSON document: the command name in OP_MSG / OP_QUERY. */
static void pg_bson_first_key(struct hp_rd *r, struct hp_guess *g)
{
    const uint8_t *k;
    size_t n;
    hp_rd_skip(r, 4);               /* document length */
    if (hp_rd_u8(r) != 0 && hp_rd_ok(r) && pg_cstring(r, &k, &n))
        pg_add(g, "mongodb_command", k, n);
}

/* MongoDB MsgHeader (LE): messageLength, requestID, responseTo 0, opCode. */
static bool guess_mongodb(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in, body;
    size_t mlen = hp_rd_u32le(&r);
    hp_rd_skip(&r, 4);              /* requestID */
    uint32_t resp = hp_rd_u32le(&r), op = hp_rd_u32le(&r);
    if (!hp_rd_ok(&r) || mlen < 21 || mlen > 48u * 1024 * 1024 || resp != 0)
        return false;
    if (op != 2013 && op != 2004)   /* OP_MSG, OP_QUERY */
        return false;
    pg_label(g, "mongodb", mlen == hp_rd_left(in) ? 95 : 85);
    pg_sub_upto(&r, mlen - 16, &body);
    hp_rd_skip(&body, 4);           /* flagBits / flags */
    if (op == 2013) {
        if (hp_rd_u8(&body) == 0)   /* section kind 0: the body document */
            pg_bson_first_key(&body, g);
    } else {
        const uint8_t *coll;
        size_t n;
        if (pg_cstring(&body, &coll, &n) && hp_rd_skip(&body, 8)) {
            pg_bson_first_key(&body, g);
            pg_add(g, "mongodb_collection", coll, n);
        }
    }
    return true;
}

/* PostgreSQL StartupMessage and its SSL/GSSENC/Cancel siblings (protocol 3). */
static bool guess_postgres(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in, params;
    size_t len = hp_rd_u32be(&r);
    uint32_t code = hp_rd_u32be(&r);
    if (!hp_rd_ok(&r))
        return false;
    if (len == 8 && (code == 80877103 || code == 80877104))
        return pg_label(g, "postgres", 95);     /* SSLRequest, GSSENCRequest */
    if (len == 16 && code == 80877102)
        return pg_label(g, "postgres", 90);     /* CancelRequest */
    if (len == 296 && code == 0x00020000)
        return pg_label(g, "postgres", 85);     /* protocol 2 fixed-size startup */
    if ((code >> 16) != 3 || (code & 0xffff) > 2 || len < 8 + 1 || len > 10000)
        return false;
    pg_label(g, "postgres", 95);
    pg_sub_upto(&r, len - 8, &params);
    const uint8_t *k, *v;
    size_t kn, vn;
    for (int i = 0; i < 32 && pg_cstring(&params, &k, &kn) && kn > 0; i++) {
        if (!pg_cstring(&params, &v, &vn))
            break;
        if (pg_eq(k, kn, "user", false))
            pg_add(g, "pg_user", v, vn);
        else if (pg_eq(k, kn, "database", false))
            pg_add(g, "pg_database", v, vn);
        else if (pg_eq(k, kn, "application_name", false))
            pg_add(g, "pg_application", v, vn);
    }
    return true;
}

/* Memcached text command words that no other protocol uses. */
static const char *const pg_mc_words[] = {
    "stats", "version", "flush_all", "verbosity", "gets", "gat", "gats", "lru_crawler",
    "slabs", "mg", "ms", "md", "mn", "me", "ma", NULL,
};
/* Storage commands: "<cmd> <key> <flags> <exptime> <bytes> ..." (cas adds one). */
static const char *const pg_mc_storage[] = {
    "set", "add", "replace", "append", "prepend", "cas", NULL,
};

/* The numeric arguments of a storage command. */
static bool pg_mc_storage_args(struct hp_rd *line)
{
    if (hp_rd_u8(line) != ' ' || !pg_span(line, pg_is_token, 250))
        return false;
    pg_skip_span(line, pg_is_token, 250);   /* key */
    for (int i = 0; i < 3; i++) {
        if (hp_rd_u8(line) != ' ')
            return false;
        size_t n = pg_span(line, pg_is_digit, 20);
        if (!n)
            return false;
        hp_rd_skip(line, n);
    }
    return hp_rd_ok(line);
}

/* Memcached text protocol (case-sensitive lowercase commands, complete line). */
static bool pg_memcached_text(const struct hp_rd *in, struct hp_guess *g, int confidence)
{
    struct hp_rd line, rest;
    bool complete;
    size_t n;
    if (!pg_is_lower_word(hp_rd_peek_u8(in, 0)))
        return false;
    pg_first_line(in, &line, &complete, &rest);
    const uint8_t *w = pg_take(&line, pg_is_lower_word, 16, &n);
    int next = hp_rd_peek_u8(&line, 0);
    if (!complete || !w || (next != ' ' && next != -1))
        return false;
    if (!pg_in_list(w, n, pg_mc_words, false) &&
        !(pg_in_list(w, n, pg_mc_storage, false) && pg_mc_storage_args(&line)))
        return false;
    pg_add(g, "memcached_command", w, n);
    return pg_label(g, "memcached", confidence);
}

/* Memcached UDP frame header: request id, sequence 0, datagram count 1, reserved 0. */
static bool guess_memcached_udp(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in;
    hp_rd_skip(&r, 2);
    uint16_t seq = hp_rd_u16be(&r), total = hp_rd_u16be(&r), rsv = hp_rd_u16be(&r);
    if (!hp_rd_ok(&r) || seq != 0 || total != 1 || rsv != 0)
        return false;
    return pg_memcached_text(&r, g, 95);
}

/* Memcached binary request header: magic 0x80, opcode, key/extras/body lengths. */
static bool guess_memcached_bin(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in;
    uint8_t magic = hp_rd_u8(&r), op = hp_rd_u8(&r);
    size_t keylen = hp_rd_u16be(&r);
    size_t extlen = hp_rd_u8(&r);
    uint8_t dtype = hp_rd_u8(&r);
    hp_rd_skip(&r, 2);              /* vbucket */
    size_t body = hp_rd_u32be(&r);
    hp_rd_skip(&r, 12);             /* opaque, cas */
    if (!hp_rd_ok(&r) || magic != 0x80 || op > 0x48 || dtype != 0 ||
        body < keylen + extlen || body > (1u << 20))
        return false;
    return pg_label(g, "memcached", 85);
}

/* BER tag and definite length; the value is carved as far as it is present. */
static bool pg_ber(struct hp_rd *r, uint8_t *tag, size_t *len, struct hp_rd *val)
{
    hp_rd_init(val, NULL, 0);
    *tag = hp_rd_u8(r);
    size_t l = hp_rd_u8(r);
    if (l & 0x80) {
        size_t nb = l & 0x7f;
        if (nb == 0 || nb > 4)
            return false;           /* indefinite form is not allowed in DER/LDAP/SNMP */
        l = 0;
        while (nb--)
            l = (l << 8) | hp_rd_u8(r);
    }
    if (!hp_rd_ok(r))
        return false;
    *len = l;
    pg_sub_upto(r, l, val);
    return true;
}

/* A whole small BER INTEGER (1..4 bytes). */
static bool pg_ber_int(struct hp_rd *r, uint32_t *v)
{
    struct hp_rd val;
    uint8_t tag;
    size_t len;
    if (!pg_ber(r, &tag, &len, &val) || tag != 0x02 || len < 1 || len > 4 ||
        hp_rd_left(&val) != len)
        return false;
    *v = 0;
    while (hp_rd_left(&val))
        *v = (*v << 8) | hp_rd_u8(&val);
    return true;
}

/* SNMP message (RFC 3416 / 3412): SEQUENCE { version, community | v3 header, PDU }. */
static bool guess_snmp(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in, msg, comm;
    uint8_t tag;
    size_t len;
    uint32_t ver;
    if (!pg_ber(&r, &tag, &len, &msg) || tag != 0x30 || !pg_ber_int(&msg, &ver))
        return false;
    int next = hp_rd_peek_u8(&msg, 0);
    if (ver == 3 && next == 0x30) {
        pg_add_static(g, "snmp_version", "3");
        return pg_label(g, "snmp", 90);
    }
    if ((ver != 0 && ver != 1) || next != 0x04 || !pg_ber(&msg, &tag, &len, &comm))
        return false;
    pg_add_static(g, "snmp_version", ver == 0 ? "1" : "2c");
    if (hp_rd_left(&comm) == len)
        pg_add(g, "snmp_community", hp_rd_ptr(&comm), len);
    int pdu = hp_rd_peek_u8(&msg, 0);   /* GetRequest .. Report: 0xA0-0xA8 */
    return pg_label(g, "snmp", pdu >= 0xa0 && pdu <= 0xa8 ? 95 : 85);
}

/* LDAPMessage (RFC 4511 4.1.1): SEQUENCE { messageID, protocolOp [APPLICATION n] }. */
static bool guess_ldap(const struct hp_rd *in, struct hp_guess *g)
{
    /* request ops: bind, unbind, search, modify, add, del, modDN, compare, abandon, extended */
    static const uint8_t ops[] = { 0x42, 0x63, 0x66, 0x68, 0x4a, 0x6c, 0x6e, 0x50, 0x77 };
    struct hp_rd r = *in, msg, op, dn;
    uint8_t tag;
    size_t len;
    uint32_t id, ver;
    if (!pg_ber(&r, &tag, &len, &msg) || tag != 0x30 || !pg_ber_int(&msg, &id))
        return false;
    int optag = hp_rd_peek_u8(&msg, 0);
    if (optag == 0x60) {            /* BindRequest { version, name, authentication } */
        if (pg_ber(&msg, &tag, &len, &op) && pg_ber_int(&op, &ver) && hp_rd_peek_u8(&op, 0) == 0x04 &&
            pg_ber(&op, &tag, &len, &dn) && hp_rd_left(&dn) == len)
            pg_add(g, "ldap_bind_dn", hp_rd_ptr(&dn), len);
        return pg_label(g, "ldap", 95);
    }
    for (size_t i = 0; i < sizeof(ops); i++)
        if (optag == ops[i])
            return pg_label(g, "ldap", 85);
    return false;
}

/* Modbus function codes we accept, as decimal text (the detail value). */
static const char *const pg_modbus_fc[128] = {
    [1] = "1", [2] = "2", [3] = "3", [4] = "4", [5] = "5", [6] = "6", [7] = "7", [8] = "8",
    [11] = "11", [12] = "12", [15] = "15", [16] = "16", [17] = "17", [20] = "20",
    [21] = "21", [22] = "22", [23] = "23", [24] = "24", [43] = "43",
    /* user-defined ranges; 90 is Schneider UMAS, probed by scanners */
    [65] = "65", [66] = "66", [67] = "67", [68] = "68", [69] = "69", [70] = "70",
    [71] = "71", [72] = "72", [90] = "90", [100] = "100", [101] = "101", [102] = "102",
    [103] = "103", [104] = "104", [105] = "105", [106] = "106", [107] = "107",
    [108] = "108", [109] = "109", [110] = "110",
};

/* MBAP header: transaction id, protocol 0, length (unit id + PDU), unit id, function. */
static bool guess_modbus(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in;
    hp_rd_skip(&r, 2);
    uint16_t pid = hp_rd_u16be(&r);
    size_t len = hp_rd_u16be(&r);
    size_t after = hp_rd_left(&r);
    hp_rd_skip(&r, 1);              /* unit id */
    uint8_t fc = hp_rd_u8(&r);
    if (!hp_rd_ok(&r) || pid != 0 || len < 2 || len > 254 || fc >= 128 || !pg_modbus_fc[fc])
        return false;
    pg_add_static(g, "modbus_function", pg_modbus_fc[fc]);
    /* exact: one request; shorter: pipelined requests; longer: cut capture */
    return pg_label(g, "modbus", len == after ? 95 : len < after ? 80 : 70);
}

/* SOCKS4/4a request: 4, CONNECT|BIND, port, ip, userid NUL [, host NUL]. */
static bool guess_socks4(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in;
    uint8_t ver = hp_rd_u8(&r), cmd = hp_rd_u8(&r);
    uint16_t port = hp_rd_u16be(&r);
    uint32_t ip = hp_rd_u32be(&r);
    if (!hp_rd_ok(&r) || ver != 4 || (cmd != 1 && cmd != 2) || port == 0 || ip == 0)
        return false;
    size_t n = pg_span(&r, pg_is_print, 255);
    int end = hp_rd_peek_u8(&r, n);
    if (end < 0)
        return pg_label(g, "socks4", 60);   /* cut inside the user id */
    if (end != 0)
        return false;
    pg_add(g, "socks_user", hp_rd_bytes(&r, n), n);
    hp_rd_skip(&r, 1);
    const uint8_t *host;
    size_t hl;
    if (ip < 256 && pg_cstring(&r, &host, &hl))     /* 4a: 0.0.0.x means "host follows" */
        pg_add(g, "socks_host", host, hl);
    return pg_label(g, "socks4", 90);
}

/* SOCKS5 greeting (RFC 1928 3): 5, NMETHODS, METHODS; nothing else unless a request follows. */
static bool guess_socks5(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in;
    uint8_t ver = hp_rd_u8(&r), n = hp_rd_u8(&r);
    const uint8_t *methods = hp_rd_bytes(&r, n);
    if (!methods || ver != 5 || n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (methods[i] == 0xff)     /* "no acceptable methods" is a server reply */
            return false;
    if (hp_rd_left(&r) == 0)
        return pg_label(g, "socks5", 90);
    /* optimistic clients pipeline the request: 5, CONNECT|BIND|UDP, 0, ATYP */
    int cmd = hp_rd_peek_u8(&r, 1), atyp = hp_rd_peek_u8(&r, 3);
    if (hp_rd_peek_u8(&r, 0) == 5 && cmd >= 1 && cmd <= 3 && hp_rd_peek_u8(&r, 2) == 0 &&
        (atyp == 1 || atyp == 3 || atyp == 4))
        return pg_label(g, "socks5", 85);
    return false;
}

/* Telnet: IAC followed by SB, WILL, WONT, DO or DONT (RFC 854). */
static bool guess_telnet(const struct hp_rd *in, struct hp_guess *g)
{
    int cmd = hp_rd_peek_u8(in, 1);
    if (hp_rd_peek_u8(in, 0) != 0xff || cmd < 0xfa || cmd > 0xfe)
        return false;
    return pg_label(g, "telnet", hp_rd_left(in) >= 3 ? 90 : 70);
}

/*
 * NTP (RFC 5905): 48-byte client packet, mode 3; also the mode 6 control
 * and mode 7 private (monlist) requests used by amplification scanners.
 */
static bool guess_ntp(const struct hp_rd *in, struct hp_guess *g)
{
    int b0 = hp_rd_peek_u8(in, 0), b1 = hp_rd_peek_u8(in, 1), impl = hp_rd_peek_u8(in, 2);
    size_t len = hp_rd_left(in);
    if (b0 < 0)
        return false;
    int vn = (b0 >> 3) & 7, mode = b0 & 7;
    /* extension fields and MACs come in 4-byte multiples */
    if (mode == 3 && vn >= 1 && vn <= 4 && len >= 48 && len <= 1024 && len % 4 == 0)
        return pg_label(g, "ntp", len == 48 ? 95 : 75);
    if (mode == 6 && vn >= 2 && vn <= 4 && len >= 12 && (b1 & 0xe0) == 0 && (b1 & 0x1f) != 0)
        return pg_label(g, "ntp", 85);
    if (mode == 7 && (b0 & 0xc0) == 0 && vn >= 2 && vn <= 4 && len >= 8 &&
        (impl == 0 || impl == 2 || impl == 3))
        return pg_label(g, "ntp", 85);
    return false;
}

/*
 * A DNS query (RFC 1035 4.1): QR 0, opcode 0, no AA/TC, Z 0, RCODE 0,
 * QDCOUNT 1, no answers or authority, at most one additional (EDNS OPT).
 */
static bool pg_dns_query(struct hp_rd *r, struct hp_guess *g)
{
    hp_rd_skip(r, 2);               /* id */
    uint8_t f1 = hp_rd_u8(r), f2 = hp_rd_u8(r);
    uint16_t qd = hp_rd_u16be(r), an = hp_rd_u16be(r), ns = hp_rd_u16be(r), ar = hp_rd_u16be(r);
    if (!hp_rd_ok(r) || (f1 & 0xfe) || (f2 & 0x4f) || qd != 1 || an || ns || ar > 1)
        return false;
    size_t total = 0;
    for (;;) {                      /* QNAME labels; no compression in a query's question */
        uint8_t l = hp_rd_u8(r);
        if (!hp_rd_ok(r))
            return pg_label(g, "dns", 60);     /* cut inside the name */
        if (l == 0)
            break;
        total += l + 1u;
        if (l > 63 || total > 255)
            return false;
        if (!hp_rd_skip(r, l))
            return pg_label(g, "dns", 60);
    }
    uint16_t qtype = hp_rd_u16be(r), qclass = hp_rd_u16be(r);
    if (!hp_rd_ok(r))
        return pg_label(g, "dns", 70);
    if (qtype == 0 || (qclass != 1 && qclass != 3 && qclass != 4 && qclass != 254 && qclass != 255))
        return false;
    return pg_label(g, "dns", 95);
}

static bool guess_dns_udp(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in;
    return pg_dns_query(&r, g);
}

/* DNS over TCP: the same message behind a 2-byte length (RFC 1035 4.2.2). */
static bool guess_dns_tcp(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in, msg;
    size_t len = hp_rd_u16be(&r);
    if (!hp_rd_ok(&r) || len < 12 + 5)
        return false;
    pg_sub_upto(&r, len, &msg);
    return pg_dns_query(&msg, g);
}

/* ---- guessers: text ---------------------------------------------------- */

static const char *const pg_http_methods[] = {
    "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH",
    "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "SUBSCRIBE", "UNSUBSCRIBE", "NOTIFY",
    "PURGE", "DEBUG", "TRACK", "PRI", NULL,
};
static const char *const pg_sip_methods[] = {
    "REGISTER", "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "SUBSCRIBE", "NOTIFY",
    "PUBLISH", "INFO", "PRACK", "UPDATE", "MESSAGE", "REFER", NULL,
};
static const char *const pg_rtsp_methods[] = {
    "OPTIONS", "DESCRIBE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER",
    "SET_PARAMETER", "ANNOUNCE", "RECORD", "REDIRECT", "PLAY_NOTIFY", NULL,
};

/*
 * A request line in some HTTP-shaped protocol: the method is one of ours,
 * and either the version is "<name>/d.d" or, when the line is cut before
 * the version, the URI has one of our schemes.
 */
static int pg_req_match(const struct pg_req *q, const char *const *methods, const char *vname,
                        const char *const *schemes)
{
    if (!pg_in_list(q->method, q->method_len, methods, false))
        return 0;
    int v = pg_version(q, vname);
    if (v == PG_V_FULL)
        return 95;
    if (v == PG_V_BAD || (v == PG_V_NONE && q->complete))
        return 0;
    if (v == PG_V_PARTIAL && q->version_len >= strlen(vname))
        return 80;                  /* "SIP/2" cut short */
    for (; *schemes; schemes++)
        if (pg_tok_prefix_ci(q->target, q->target_len, *schemes))
            return 80;
    return 0;
}

static bool guess_sip(const struct hp_rd *in, struct hp_guess *g)
{
    static const char *const schemes[] = { "sip:", "sips:", "tel:", NULL };
    struct pg_req q;
    int conf;
    if (!pg_parse_req(in, &q) || !(conf = pg_req_match(&q, pg_sip_methods, "SIP", schemes)))
        return false;
    pg_add(g, "sip_method", q.method, q.method_len);
    pg_add(g, "sip_uri", q.target, q.target_len);
    pg_add_header(g, "sip_user_agent", &q.rest, "User-Agent");
    return pg_label(g, "sip", conf);
}

static bool guess_rtsp(const struct hp_rd *in, struct hp_guess *g)
{
    static const char *const schemes[] = { "rtsp://", "rtsps://", "rtspu://", NULL };
    struct pg_req q;
    int conf;
    if (!pg_parse_req(in, &q) || !(conf = pg_req_match(&q, pg_rtsp_methods, "RTSP", schemes)))
        return false;
    pg_add(g, "rtsp_method", q.method, q.method_len);
    pg_add(g, "rtsp_uri", q.target, q.target_len);
    pg_add_header(g, "rtsp_user_agent", &q.rest, "User-Agent");
    return pg_label(g, "rtsp", conf);
}

/* SSDP (UPnP 1.1 1.3): "M-SEARCH * HTTP/1.1" or "NOTIFY * HTTP/1.1", often over UDP. */
static bool guess_ssdp(const struct hp_rd *in, struct hp_guess *g)
{
    static const char *const methods[] = { "M-SEARCH", "NOTIFY", NULL };
    struct pg_req q;
    if (!pg_parse_req(in, &q) || !pg_in_list(q.method, q.method_len, methods, false) ||
        !pg_eq(q.target, q.target_len, "*", false))
        return false;
    int v = pg_version(&q, "HTTP");
    if (v == PG_V_BAD || (v == PG_V_NONE && q.complete))
        return false;
    pg_add(g, "ssdp_method", q.method, q.method_len);
    pg_add_header(g, "ssdp_st", &q.rest, "ST");
    pg_add_header(g, "ssdp_nt", &q.rest, "NT");
    pg_add_header(g, "ssdp_user_agent", &q.rest, "User-Agent");
    return pg_label(g, "ssdp", v == PG_V_FULL ? 95 : 80);
}

/*
 * HTTP request line (RFC 9112 3).  Details are capped at four: method and
 * URI always; then jsonrpc_method when the body is JSON-RPC (it says more
 * about the scan than the Host header, which is usually our own address),
 * then User-Agent, then Host.
 */
static bool guess_http(const struct hp_rd *in, struct hp_guess *g)
{
    struct pg_req q;
    struct hp_rd body;
    if (!pg_parse_req(in, &q))
        return false;
    bool known = pg_in_list(q.method, q.method_len, pg_http_methods, false);
    int v = pg_version(&q, "HTTP"), conf;
    if (v == PG_V_FULL)
        conf = known ? 95 : 80;     /* unknown methods still speak HTTP/1.x */
    else if (!known || v == PG_V_BAD)
        return false;
    else if (v == PG_V_PARTIAL)
        conf = 75;
    else if (q.complete)            /* HTTP/0.9: "GET /path" and nothing else */
        conf = q.target[0] == '/' ? 70 : 0;
    else
        conf = 60;                  /* cut inside the target */
    if (!conf)
        return false;
    pg_add(g, "http_method", q.method, q.method_len);
    pg_add(g, "http_uri", q.target, q.target_len);
    const uint8_t *m = NULL;
    size_t mlen = 0;
    if (q.complete && pg_body(&q.rest, &body) && pg_jsonrpc(&body, &m, &mlen))
        pg_add(g, "jsonrpc_method", m, mlen);
    pg_add_header(g, "http_user_agent", &q.rest, "User-Agent");
    pg_add_header(g, "http_host", &q.rest, "Host");
    return pg_label(g, "http", conf);
}

/* JSON-RPC straight on the socket (Ethereum nodes, Stratum mining pools, ...). */
static bool guess_jsonrpc(const struct hp_rd *in, struct hp_guess *g)
{
    const uint8_t *m = NULL;
    size_t mlen = 0;
    int k = pg_jsonrpc(in, &m, &mlen);
    if (!k)
        return false;
    pg_add(g, "jsonrpc_method", m, mlen);
    return pg_label(g, "jsonrpc", k == 2 ? 90 : 70);
}

/*
 * A RESP decimal followed by CR LF ("*3\r\n", "$4\r\n").  When the input
 * ends inside it, the reader is left in error so the caller can tell a cut
 * from junk.
 */
static bool pg_resp_num(struct hp_rd *r, char sigil, size_t *v)
{
    if (hp_rd_u8(r) != (uint8_t)sigil)
        return false;
    size_t n = pg_span(r, pg_is_digit, 9);
    *v = 0;
    for (size_t i = 0; i < n; i++)
        *v = *v * 10 + (size_t)(hp_rd_u8(r) - '0');
    if (n == 0) {
        if (hp_rd_left(r) == 0)
            hp_rd_skip(r, 1);       /* cut right after the sigil: flag it */
        return false;
    }
    return hp_rd_u8(r) == '\r' && hp_rd_u8(r) == '\n';
}

/* Redis RESP request: an array of bulk strings, "*N\r\n$len\r\nCMD\r\n...". */
static bool guess_redis_resp(const struct hp_rd *in, struct hp_guess *g)
{
    struct hp_rd r = *in;
    size_t n, blen;
    if (!pg_resp_num(&r, '*', &n) || n == 0 || n > 1024 * 1024)
        return false;
    if (hp_rd_left(&r) == 0)
        return pg_label(g, "redis", 60);
    if (hp_rd_peek_u8(&r, 0) != '$')
        return false;
    if (!pg_resp_num(&r, '$', &blen))   /* cut inside "$len\r\n" is fine, junk is not */
        return hp_rd_ok(&r) ? false : pg_label(g, "redis", 70);
    const uint8_t *cmd = hp_rd_bytes(&r, blen);
    if (!cmd)
        return pg_label(g, "redis", 85);
    pg_add(g, "redis_command", cmd, blen);
    return pg_label(g, "redis", 95);
}

static bool guess_memcached_text(const struct hp_rd *in, struct hp_guess *g)
{
    return pg_memcached_text(in, g, 80);
}

/* A first line "WORD[ args]": a keyword command of some line protocol. */
struct pg_cmd {
    const uint8_t *word, *arg;
    size_t wlen, alen;
    bool complete;
};

static bool pg_parse_cmd(const struct hp_rd *in, struct pg_cmd *c)
{
    struct hp_rd line, rest;
    memset(c, 0, sizeof(*c));
    if (!pg_is_alpha(hp_rd_peek_u8(in, 0)))
        return false;
    pg_first_line(in, &line, &c->complete, &rest);
    c->word = pg_take(&line, pg_is_alpha, 16, &c->wlen);
    int next = hp_rd_u8(&line);
    if (!hp_rd_ok(&line))
        return c->complete;         /* the whole line is the word */
    if (next != ' ')
        return false;
    c->alen = hp_rd_left(&line);
    c->arg = hp_rd_bytes(&line, c->alen);
    return true;
}

/* SMTP clients that speak first (the trap sends no 220 greeting). */
static bool guess_smtp(const struct hp_rd *in, struct hp_guess *g)
{
    static const char *const helo[] = { "EHLO", "HELO", "LHLO", NULL };
    struct pg_cmd c;
    if (!pg_parse_cmd(in, &c))
        return false;
    if (pg_in_list(c.word, c.wlen, helo, true)) {
        if (c.complete)
            pg_add(g, "smtp_helo", c.arg, c.alen);
        return pg_label(g, "smtp", 85);
    }
    if (pg_eq(c.word, c.wlen, "MAIL", true) && c.arg && pg_tok_prefix_ci(c.arg, c.alen, "FROM:"))
        return pg_label(g, "smtp", 75);
    return false;
}

/* IRC registration: "NICK x", "USER u m * :real name", "CAP LS [302]". */
static bool guess_irc(const struct hp_rd *in, struct hp_guess *g)
{
    struct pg_cmd c;
    if (!pg_parse_cmd(in, &c) || !c.arg)
        return false;
    if (pg_eq(c.word, c.wlen, "CAP", false) && pg_tok_prefix_ci(c.arg, c.alen, "LS"))
        return pg_label(g, "irc", 85);
    if (pg_eq(c.word, c.wlen, "NICK", false) && c.complete) {
        pg_add(g, "irc_nick", c.arg, c.alen);
        return pg_label(g, "irc", 80);
    }
    /* USER takes four parameters, the last one ":"-prefixed; FTP's USER takes one */
    struct hp_rd a;
    hp_rd_init(&a, c.arg, c.alen);
    if (pg_eq(c.word, c.wlen, "USER", false) && hp_rd_find(&a, " :", 2) > 0)
        return pg_label(g, "irc", 75);
    return false;
}

/* FTP client commands (also POP3's USER, which we cannot tell apart: call it ftp). */
static bool guess_ftp(const struct hp_rd *in, struct hp_guess *g)
{
    static const char *const bare[] = { "FEAT", "SYST", "PASV", "EPSV", NULL };
    static const char *const tls[] = { "TLS", "SSL", "TLS-C", "TLS-P", NULL };
    struct pg_cmd c;
    if (!pg_parse_cmd(in, &c) || !c.complete)
        return false;
    if (pg_eq(c.word, c.wlen, "USER", true) && c.arg) {
        struct hp_rd a;
        hp_rd_init(&a, c.arg, c.alen);
        if (hp_rd_find(&a, " ", 1) >= 0)
            return false;
        pg_add(g, "ftp_user", c.arg, c.alen);
        return pg_label(g, "ftp", 60);
    }
    if (pg_eq(c.word, c.wlen, "AUTH", true) && c.arg && pg_in_list(c.arg, c.alen, tls, true))
        return pg_label(g, "ftp", 70);
    if (!c.arg && pg_in_list(c.word, c.wlen, bare, true))
        return pg_label(g, "ftp", 60);
    return false;
}

/* POP3 commands no other line protocol has. */
static bool guess_pop3(const struct hp_rd *in, struct hp_guess *g)
{
    static const char *const bare[] = { "CAPA", "STLS", NULL };
    struct pg_cmd c;
    if (!pg_parse_cmd(in, &c) || !c.complete)
        return false;
    if ((!c.arg && pg_in_list(c.word, c.wlen, bare, true)) ||
        (c.arg && pg_eq(c.word, c.wlen, "APOP", true)))
        return pg_label(g, "pop3", 70);
    return false;
}

/* IMAP: "tag SP command" (RFC 9051 2.2.1). */
static bool guess_imap(const struct hp_rd *in, struct hp_guess *g)
{
    static const char *const cmds[] = {
        "CAPABILITY", "LOGIN", "AUTHENTICATE", "STARTTLS", "ID", "NOOP", "LOGOUT", "SELECT",
        "LIST", "ENABLE", NULL,
    };
    struct hp_rd r = *in;
    size_t n;
    if (!pg_take(&r, pg_is_imap_tag, 16, &n) || hp_rd_u8(&r) != ' ')
        return false;
    const uint8_t *cmd = pg_take(&r, pg_is_alpha, 16, &n);
    int next = hp_rd_peek_u8(&r, 0);
    if (!cmd || !pg_in_list(cmd, n, cmds, true) ||
        (next != ' ' && next != '\r' && next != '\n'))
        return false;
    pg_add(g, "imap_command", cmd, n);
    return pg_label(g, "imap", 80);
}

/* Redis inline commands: "PING\r\n", "CONFIG SET dir /tmp\r\n", ... (complete line). */
static bool guess_redis_inline(const struct hp_rd *in, struct hp_guess *g)
{
    static const char *const cmds[] = {
        "PING", "INFO", "AUTH", "CONFIG", "SET", "GET", "KEYS", "FLUSHALL", "FLUSHDB",
        "SLAVEOF", "REPLICAOF", "MODULE", "EVAL", "EVALSHA", "SCRIPT", "SAVE", "BGSAVE",
        "DBSIZE", "CLIENT", "SCAN", "DEL", "SELECT", "ECHO", "MONITOR", "COMMAND",
        "EXISTS", "DEBUG", "SHUTDOWN", "SYNC", "PSYNC", "CLUSTER", "ROLE", "QUIT", "SLOWLOG",
        "MEMORY", "ACL", "TYPE", "TTL", "EXPIRE", "LASTSAVE", "RANDOMKEY", "SETEX", "SETNX",
        "MGET", "MSET", "LPUSH", "RPUSH", "HSET", "HGETALL", "FUNCTION", "PUBLISH", NULL,
    };
    struct pg_cmd c;
    if (!pg_parse_cmd(in, &c) || !c.complete || !pg_in_list(c.word, c.wlen, cmds, true))
        return false;
    if (c.arg) {                    /* never an HTTP-style line that fell through */
        struct hp_rd a;
        hp_rd_init(&a, c.arg, c.alen);
        if (hp_rd_peek_u8(&a, 0) == '/' || hp_rd_find(&a, " HTTP/", 6) >= 0 ||
            hp_rd_find(&a, " RTSP/", 6) >= 0 || hp_rd_find(&a, " SIP/", 5) >= 0)
            return false;
    }
    pg_add(g, "redis_command", c.word, c.wlen);
    return pg_label(g, "redis", 75);
}

/*
 * ELM327 OBD-II adapters: "AT" commands ("ATZ", "AT SP 0", "ATE0") and
 * raw OBD requests in hex ("0100"), each ended by CR.  A command is "AT",
 * a known ELM command name, then only hex digits and spaces as arguments.
 */
static bool guess_elm327(const struct hp_rd *in, struct hp_guess *g)
{
    static const char *const at[] = {    /* longest first: the first prefix wins */
        "DPN", "CAF", "CRA", "BRD", "BRT", "PPS", "IIA", "DP", "SP", "TP", "RV", "WS",
        "ST", "SH", "PC", "MA", "BD", "CS", "FE", "LP", "KW", "IB", "SI", "FI", "CF",
        "CM", "AT", "@1", "@2", "Z", "I", "E", "L", "H", "S", "D", "M", "R", NULL,
    };
    struct hp_rd line, l;
    if (!pg_cr_line(in, 32, &line) || hp_rd_left(&line) < 2)
        return false;
    l = line;
    if (pg_prefix_ci(&l, "AT")) {
        hp_rd_skip(&l, 2);
        pg_skip_span(&l, pg_is_ows, 4);
        const char *const *p;
        for (p = at; *p && !pg_prefix_ci(&l, *p); p++)
            ;
        if (!*p)
            return false;
        hp_rd_skip(&l, strlen(*p));
        if (pg_span(&l, pg_is_at_arg, 32) != hp_rd_left(&l))
            return false;
        pg_add(g, "elm327_command", hp_rd_ptr(&line), hp_rd_left(&line));
        return pg_label(g, "elm327", 85);
    }
    /* OBD request: service 01..0A then PIDs, e.g. "0100", "010C", "09 02" */
    int d0 = hp_rd_peek_u8(&l, 0), d1 = pg_lower(hp_rd_peek_u8(&l, 1));
    if (d0 != '0' || !((d1 >= '1' && d1 <= '9') || d1 == 'a') || hp_rd_left(&l) < 4 ||
        pg_span(&l, pg_is_obd, 32) != hp_rd_left(&l))
        return false;
    pg_add(g, "elm327_command", hp_rd_ptr(&line), hp_rd_left(&line));
    return pg_label(g, "elm327", 65);
}

/* ---- the table ------------------------------------------------------------ */

/* Most specific first; the first guesser that claims the bytes wins. */
static const struct pg_guesser {
    bool (*fn)(const struct hp_rd *in, struct hp_guess *g);
    unsigned transports;
} pg_guessers[] = {
    /* binary, magic + consistent lengths */
    { guess_tls,            PG_ANY },
    { guess_sslv2,          PG_ANY },
    { guess_dtls,           PG_UDP },
    { guess_quic,           PG_UDP },
    { guess_ssh,            PG_ANY },
    { guess_cotp,           PG_ANY },   /* rdp, s7 */
    { guess_smb,            PG_ANY },
    { guess_netbios,        PG_ANY },
    { guess_mssql,          PG_ANY },
    { guess_adb,            PG_ANY },
    { guess_bitcoin,        PG_ANY },
    { guess_java_rmi,       PG_ANY },
    { guess_vnc,            PG_ANY },
    { guess_mqtt,           PG_ANY },
    { guess_mongodb,        PG_ANY },
    { guess_postgres,       PG_ANY },
    { guess_memcached_udp,  PG_UDP },
    { guess_memcached_bin,  PG_ANY },
    { guess_snmp,           PG_ANY },
    { guess_ldap,           PG_ANY },
    { guess_modbus,         PG_ANY },
    { guess_socks4,         PG_ANY },
    { guess_socks5,         PG_ANY },
    { guess_telnet,         PG_ANY },
    /* binary, weak on their own: only where the transport says so */
    { guess_ntp,            PG_UDP },
    { guess_dns_udp,        PG_UDP },
    { guess_dns_tcp,        PG_TCP },
    /* text: version token decides, then plain HTTP */
    { guess_sip,            PG_ANY },
    { guess_rtsp,           PG_ANY },
    { guess_ssdp,           PG_ANY },
    { guess_http,           PG_ANY },
    { guess_jsonrpc,        PG_ANY },
    { guess_redis_resp,     PG_ANY },
    /* text: keywords, loosest last */
    { guess_memcached_text, PG_ANY },
    { guess_smtp,           PG_ANY },
    { guess_irc,            PG_ANY },
    { guess_ftp,            PG_ANY },
    { guess_pop3,           PG_ANY },
    { guess_imap,           PG_ANY },
    { guess_redis_inline,   PG_ANY },
    { guess_elm327,         PG_ANY },
};

void hp_protoguess(const uint8_t *data, size_t len, enum hp_guess_transport t, struct hp_guess *out)
{
    struct hp_rd in;
    unsigned mask = t == HP_GUESS_UDP ? PG_UDP : PG_TCP;
    pg_reset(out);
    hp_rd_init(&in, data, len);
    if (hp_rd_left(&in) == 0) {
        pg_label(out, "empty", 100);
        return;
    }
    for (size_t i = 0; i < sizeof(pg_guessers) / sizeof(pg_guessers[0]); i++) {
        if (!(pg_guessers[i].transports & mask))
            continue;
        if (pg_guessers[i].fn(&in, out))
            return;
        pg_reset(out);              /* a guesser that declined may have left details */
    }
}

/* ---- HTTP request framing (used by the trap's 404 answer) ---- */

/*
 * Length of a complete HTTP request at the start of the input (headers plus
 * a Content-Length body, capped by what the chunk can hold), 0 if it is not
 * complete yet, -1 if the input is not an HTTP request.  *need gets the
 * whole request's length as soon as its head is in, 0 before.
 */
static long http_request_len(const uint8_t *data, size_t len, size_t cap, size_t *need)
{
    struct hp_guess g;
    *need = 0;
    hp_protoguess(data, len, HP_GUESS_TCP, &g);
    if (strcmp(g.proto, "http") != 0)   /* too early to tell, or not HTTP */
        return (len < 64 && !memchr(data, '\n', len)) ? 0 : -1;
    struct hp_rd rd;
    const uint8_t *line;
    size_t ll;
    uint64_t clen = 0;
    hp_rd_init(&rd, data, len);
    if (!hp_rd_line(&rd, len, &line, &ll))
        return 0;                          /* request line not complete */
    while (hp_rd_line(&rd, len, &line, &ll)) {
        if (ll == 0) {
            size_t hdr = hp_rd_pos(&rd);
            if (hdr >= cap)
                clen = 0;                  /* the head alone fills the chunk */
            else if (clen > cap - hdr)
                clen = cap - hdr;          /* answer once the chunk is full */
            *need = hdr + clen;
            return hdr + clen <= len ? (long)(hdr + clen) : 0;
        }
        if (ll > 15 && strncasecmp((const char *)line, "content-length:", 15) == 0) {
            char num[24];
            size_t k = 0;
            for (size_t i = 15; i < ll && k < sizeof(num) - 1; i++)
                if (line[i] >= '0' && line[i] <= '9')
                    num[k++] = (char)line[i];
            num[k] = '\0';
            clen = k ? strtoull(num, NULL, 10) : 0;
        }
    }
    return 0;
}

long hp_http_request_len(const uint8_t *data, size_t len, size_t cap)
{
    size_t need;
    return http_request_len(data, len, cap, &need);
}

/* Whether data[from - 2, len) holds an empty line ("\n\n" or "\n\r\n"): the
 * end of a head that was still open at from bytes. */
static bool http_blank_line(const uint8_t *data, size_t len, size_t from)
{
    for (size_t i = from > 2 ? from - 2 : 0; i + 1 < len; i++) {
        const uint8_t *nl = memchr(data + i, '\n', len - 1 - i);
        if (!nl)
            return false;
        i = (size_t)(nl - data);
        if (data[i + 1] == '\n' || (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n'))
            return true;
    }
    return false;
}

long hp_http_request_len_more(struct hp_http_framing *st, const uint8_t *data, size_t len, size_t cap)
{
    if (st->need && len < st->need)
        return 0;                          /* the head is in; the body is still coming */
    if (!st->need && st->looked && !http_blank_line(data, len, st->looked)) {
        st->looked = len;                  /* the head is still open */
        return 0;
    }
    size_t need = 0;
    long rl = http_request_len(data, len, cap, &need);
    if (rl == 0) {
        st->need = need;
        if (len >= 64 || memchr(data, '\n', len))
            st->looked = len;              /* an HTTP head for sure, not "too early to tell" */
    }
    return rl;
}

