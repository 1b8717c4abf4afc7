/*
 * tlsfp.c - JA3 / JA4 of a TLS ClientHello, JA3S of a ServerHello.
 *
 * Design: the stream prefix is first reduced to one handshake message by
 * concatenating the bodies of consecutive handshake records into a stack
 * buffer (a ClientHello with post-quantum key shares easily spans records,
 * and a record may also carry more than one message).  The message is then
 * walked once with the bounds-checked reader; the lists a fingerprint needs
 * (ciphers, extension types, groups, point formats, signature algorithms)
 * are kept as small arrays, and the strings are built from them at the end.
 * DTLS records are reduced the same way (its handshake fragments put back
 * in place), and QUIC hands over the message itself.
 *
 * The scratch space (about 100 KiB) is thread-local static rather than
 * stack or heap: the parsers never allocate and stay reentrant per thread.
 * Everything is bounded by HP_TLS_HELLO_MAX: the message, hence every list
 * in it.  The JA3 string is hashed in full even when the copy kept for the
 * caller has to be cut.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "intel/tlsfp.h"
#include "reader.h"

#define TLS_CT_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_HS_SERVER_HELLO 2
#define TLS_RECORD_MAX (16384 + 2048)   /* TLSCiphertext limit; plaintext is 16384 */

#define EXT_SNI 0x0000
#define EXT_GROUPS 0x000a
#define EXT_POINT_FORMATS 0x000b
#define EXT_SIG_ALGS 0x000d
#define EXT_ALPN 0x0010
#define EXT_SUPPORTED_VERSIONS 0x002b

/* A list of 16-bit values from the hello; at most one per two message bytes. */
#define LIST_MAX (HP_TLS_HELLO_MAX / 2)
struct u16list {
    uint16_t v[LIST_MAX];
    size_t n;
};

bool hp_tls_is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* ---- record layer ---------------------------------------------------------- */

/*
 * Collect the first handshake message of the stream into msg.  1 with *msglen
 * set (the body without the 4-byte header), 0 if the bytes end too early, -1
 * if this is not a handshake of the wanted type.
 */
static int tls_gather(const uint8_t *data, size_t len, uint8_t want,
                      uint8_t *msg, size_t *msglen, size_t *span)
{
    struct hp_rd r;
    size_t have = 0, need = 0;

    hp_rd_init(&r, data, len);
    for (;;) {
        if (hp_rd_left(&r) < 5)
            break;
        uint8_t type = hp_rd_u8(&r);
        uint16_t ver = hp_rd_u16be(&r);
        uint16_t rlen = hp_rd_u16be(&r);
        if (type != TLS_CT_HANDSHAKE || (ver >> 8) != 3 || rlen == 0 || rlen > TLS_RECORD_MAX)
            return -1;
        /* A record cut by the end of the data still contributes its start. */
        size_t rec_end = hp_rd_pos(&r) + rlen;
        size_t take = rlen < hp_rd_left(&r) ? rlen : hp_rd_left(&r);
        if (take > HP_TLS_HELLO_MAX - have)
            take = HP_TLS_HELLO_MAX - have;
        if (!hp_rd_copy(&r, msg + have, take))
            return -1;
        have += take;
        if (have >= 4 && need == 0) {
            if (msg[0] != want)
                return -1;
            need = 4 + (((size_t)msg[1] << 16) | ((size_t)msg[2] << 8) | msg[3]);
            if (need > HP_TLS_HELLO_MAX)
                return -1;
        }
        if (need && have >= need) {
            *msglen = need - 4;
            if (span)                         /* the end of the record that completed it */
                *span = rec_end < len ? rec_end : len;
            return 1;
        }
        if (take < rlen)
            break;              /* the data ended inside this record */
    }
    /* A first byte that cannot start a handshake record is a no at once. */
    if (len >= 1 && data[0] != TLS_CT_HANDSHAKE)
        return -1;
    if (len >= 2 && data[1] != 3)
        return -1;
    return len >= HP_TLS_HELLO_MAX ? -1 : 0;
}

/*
 * DTLS (RFC 6347 / 9147): records carry an epoch and a sequence number, and
 * handshake messages a 12-byte header whose fragment offset and length let
 * one message span records.  Collect the first message of the wanted type
 * (fragments in any order, duplicates allowed) into msg with a TLS-style
 * 4-byte header, so the same body parsers read it.  Same answers as
 * tls_gather; *record_version gets the first record's version.
 */
static int dtls_gather(const uint8_t *data, size_t len, uint8_t want, uint8_t *msg, size_t *msglen,
                       uint16_t *record_version)
{
    static _Thread_local uint8_t have[HP_TLS_HELLO_MAX / 8];   /* which body bytes arrived */
    struct hp_rd r, rec;
    size_t total = 0, got = 0;
    int seq = -1;

    hp_rd_init(&r, data, len);
    while (hp_rd_left(&r) >= 13) {
        uint8_t type = hp_rd_u8(&r);
        uint16_t ver = hp_rd_u16be(&r);
        hp_rd_skip(&r, 8);                           /* epoch, sequence number */
        if (type != TLS_CT_HANDSHAKE || (ver >> 8) != 0xfe)
            return -1;
        if (!hp_rd_sub16be(&r, &rec))
            break;                                   /* the data ends inside this record */
        if (seq < 0)
            *record_version = ver;
        while (hp_rd_left(&rec) >= 12) {
            uint8_t mtype = hp_rd_u8(&rec);
            uint32_t mlen = hp_rd_u24be(&rec);
            uint16_t mseq = hp_rd_u16be(&rec);
            uint32_t foff = hp_rd_u24be(&rec), flen = hp_rd_u24be(&rec);
            const uint8_t *frag = hp_rd_bytes(&rec, flen);
            if (!frag || (uint64_t)foff + flen > mlen)
                return -1;
            if (seq < 0) {
                if (mtype != want || mlen + 4 > HP_TLS_HELLO_MAX)
                    return -1;
                seq = mseq;
                total = mlen;
                memset(have, 0, sizeof(have));
                msg[0] = mtype;
                msg[1] = (uint8_t)(mlen >> 16);
                msg[2] = (uint8_t)(mlen >> 8);
                msg[3] = (uint8_t)mlen;
            }
            if (mtype != want || mseq != seq || mlen != total)
                continue;                            /* another message of the flight */
            memcpy(msg + 4 + foff, frag, flen);
            for (uint32_t i = foff; i < foff + flen; i++) {
                if (!(have[i / 8] & (1u << (i % 8))))
                    got++;
                have[i / 8] |= (uint8_t)(1u << (i % 8));
            }
            if (got == total) {
                *msglen = total;
                return 1;
            }
        }
    }
    if (len >= 1 && data[0] != TLS_CT_HANDSHAKE)
        return -1;
    if (len >= 2 && data[1] != 0xfe)
        return -1;
    return len >= HP_TLS_HELLO_MAX ? -1 : 0;
}

/* ---- small output helpers ------------------------------------------------------ */

struct sbuf {
    char *s;
    size_t cap, len;
    bool cut;
    EVP_MD_CTX *md;     /* if set, everything appended is also digested */
};

static void sb_init(struct sbuf *b, char *s, size_t cap, EVP_MD_CTX *md)
{
    b->s = s;
    b->cap = cap;
    b->len = 0;
    b->cut = false;
    b->md = md;
    s[0] = '\0';
}

static void sb_put(struct sbuf *b, const char *p, size_t n)
{
    if (b->md)
        EVP_DigestUpdate(b->md, p, n);
    size_t room = b->cap - 1 - b->len;
    if (n > room) {
        n = room;
        b->cut = true;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* How a value is written: JA3 decimal, JA4 hex, supported_versions 0x-hex. */
enum fmt { F_DEC, F_HEX4, F_0XHEX4 };

static void sb_fmt(struct sbuf *b, enum fmt f, unsigned v)
{
    char tmp[16];
    int n = f == F_DEC ? snprintf(tmp, sizeof(tmp), "%u", v)
          : f == F_HEX4 ? snprintf(tmp, sizeof(tmp), "%04x", v)
          : snprintf(tmp, sizeof(tmp), "0x%04x", v);
    if (n > 0)
        sb_put(b, tmp, (size_t)n);
}

/* Values joined by sep, formatted with fmt; GREASE already removed. */
static void sb_list(struct sbuf *b, const struct u16list *l, enum fmt fmt, const char *sep)
{
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            sb_put(b, sep, strlen(sep));
        sb_fmt(b, fmt, l->v[i]);
    }
}

static void hexdigest(EVP_MD_CTX *md, char *out, size_t hexchars)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    out[0] = '\0';
    if (!md || !EVP_DigestFinal_ex(md, d, &n) || (size_t)n * 2 < hexchars)
        return;
    for (size_t i = 0; i < hexchars; i++)
        out[i] = hex[(d[i / 2] >> ((i & 1) ? 0 : 4)) & 15];
    out[hexchars] = '\0';
}

static EVP_MD_CTX *md_new(const EVP_MD *type)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md && !EVP_DigestInit_ex(md, type, NULL)) {
        EVP_MD_CTX_free(md);
        md = NULL;
    }
    return md;
}

/* Read a list of 16-bit values from r (whole reader), GREASE dropped. */
static void read_u16list(struct hp_rd *r, struct u16list *l)
{
    l->n = 0;
    while (hp_rd_left(r) >= 2) {
        uint16_t v = hp_rd_u16be(r);
        if (!hp_tls_is_grease(v) && l->n < LIST_MAX)
            l->v[l->n++] = v;
    }
}

static int cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- ClientHello ---------------------------------------------------------------- */

/* Everything the fingerprints need from one ClientHello. */
struct chello {
    uint16_t version;
    struct u16list ciphers, exts, groups, sigalgs, versions;
    uint8_t pointfmt[256];
    size_t npointfmt;
    bool has_sni;
    const uint8_t *alpn1;       /* first ALPN value (into the message) */
    size_t alpn1_len;
};

/* Append peer bytes to a fixed C string, NUL bytes shown as '?', cut to fit. */
static void copy_peer(char *dst, size_t cap, size_t *len, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n && *len + 1 < cap; i++)
        dst[(*len)++] = p[i] ? (char)p[i] : '?';
    dst[*len] = '\0';
}

static void ext_sni(struct hp_rd *e, struct hp_tls_hello *out)
{
    struct hp_rd list, name;
    size_t n = 0;

    if (!hp_rd_sub16be(e, &list))
        return;
    while (hp_rd_left(&list) >= 3) {
        uint8_t type = hp_rd_u8(&list);
        if (!hp_rd_sub16be(&list, &name))
            return;
        if (type == 0) {
            copy_peer(out->sni, sizeof(out->sni), &n, hp_rd_ptr(&name), hp_rd_left(&name));
            return;
        }
    }
}

static void ext_alpn(struct hp_rd *e, struct chello *h, struct hp_tls_hello *out)
{
    struct hp_rd list, proto;
    size_t n = 0;

    if (!hp_rd_sub16be(e, &list))
        return;
    while (hp_rd_left(&list) >= 1) {
        if (!hp_rd_sub8(&list, &proto))
            return;
        if (!h->alpn1) {
            h->alpn1 = hp_rd_ptr(&proto);
            h->alpn1_len = hp_rd_left(&proto);
        }
        if (n)
            copy_peer(out->alpn, sizeof(out->alpn), &n, (const uint8_t *)",", 1);
        copy_peer(out->alpn, sizeof(out->alpn), &n, hp_rd_ptr(&proto), hp_rd_left(&proto));
    }
}

static void ext_one(uint16_t type, struct hp_rd *e, struct chello *h, struct hp_tls_hello *out)
{
    struct hp_rd sub;

    switch (type) {
    case EXT_SNI:
        h->has_sni = true;
        ext_sni(e, out);
        break;
    case EXT_ALPN:
        ext_alpn(e, h, out);
        break;
    case EXT_GROUPS:
        if (hp_rd_sub16be(e, &sub))
            read_u16list(&sub, &h->groups);
        break;
    case EXT_SIG_ALGS:
        if (hp_rd_sub16be(e, &sub))
            read_u16list(&sub, &h->sigalgs);
        break;
    case EXT_POINT_FORMATS:
        if (hp_rd_sub8(e, &sub))
            while (hp_rd_left(&sub) && h->npointfmt < sizeof(h->pointfmt))
                h->pointfmt[h->npointfmt++] = hp_rd_u8(&sub);
        break;
    case EXT_SUPPORTED_VERSIONS:
        if (hp_rd_sub8(e, &sub))
            read_u16list(&sub, &h->versions);
        break;
    default:
        break;
    }
}

/* Walk the ClientHello body; false if it is malformed before the extensions. */
static bool chello_parse(const uint8_t *msg, size_t len, bool dtls, struct chello *h, struct hp_tls_hello *out)
{
    struct hp_rd r, sub, exts;

    hp_rd_init(&r, msg, len);
    h->version = hp_rd_u16be(&r);
    hp_rd_skip(&r, 32);                              /* random */
    hp_rd_sub8(&r, &sub);                            /* legacy_session_id */
    if (dtls)
        hp_rd_sub8(&r, &sub);                        /* cookie (DTLS only) */
    if (!hp_rd_sub16be(&r, &sub))
        return false;
    read_u16list(&sub, &h->ciphers);
    if (!hp_rd_sub8(&r, &sub))                       /* compression methods */
        return false;
    if (hp_rd_left(&r) < 2)
        return true;                                 /* no extensions at all */
    if (!hp_rd_sub16be(&r, &exts))
        return false;
    while (hp_rd_left(&exts) >= 4) {
        uint16_t type = hp_rd_u16be(&exts);
        struct hp_rd e;
        if (!hp_rd_sub16be(&exts, &e))
            break;                                   /* keep what came before */
        if (hp_tls_is_grease(type))
            continue;
        if (h->exts.n < LIST_MAX)
            h->exts.v[h->exts.n++] = type;
        ext_one(type, &e, h, out);
    }
    return true;
}

void hp_ja4_alpn(const uint8_t *p, size_t n, char out[3])
{
    static const char hex[] = "0123456789abcdef";
    if (!p || n == 0) {
        memcpy(out, "00", 3);
        return;
    }
    uint8_t a = p[0], z = p[n - 1];
    bool alnum = ((a >= '0' && a <= '9') || (a >= 'a' && a <= 'z') || (a >= 'A' && a <= 'Z')) &&
                 ((z >= '0' && z <= '9') || (z >= 'a' && z <= 'z') || (z >= 'A' && z <= 'Z'));
    out[0] = alnum ? (char)a : hex[a >> 4];
    out[1] = alnum ? (char)z : hex[z & 15];
    out[2] = '\0';
}

static const char *ja4_version(uint16_t v)
{
    switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
    default: return "00";
    }
}

/* JA3: SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats. */
static void ja3_build(const struct chello *h, struct hp_tls_hello *out)
{
    EVP_MD_CTX *md = md_new(EVP_md5());
    struct sbuf b;

    sb_init(&b, out->ja3_string, sizeof(out->ja3_string), md);
    sb_fmt(&b, F_DEC, h->version);
    sb_put(&b, ",", 1);
    sb_list(&b, &h->ciphers, F_DEC, "-");
    sb_put(&b, ",", 1);
    sb_list(&b, &h->exts, F_DEC, "-");
    sb_put(&b, ",", 1);
    sb_list(&b, &h->groups, F_DEC, "-");
    sb_put(&b, ",", 1);
    for (size_t i = 0; i < h->npointfmt; i++) {
        if (i)
            sb_put(&b, "-", 1);
        sb_fmt(&b, F_DEC, h->pointfmt[i]);
    }
    out->ja3_truncated = b.cut;
    hexdigest(md, out->ja3, 32);
    EVP_MD_CTX_free(md);
}

/* The first 12 hex digits of SHA-256 over a list (and an optional second
 * list after '_'); twelve zeros when there is nothing to hash. */
static void ja4_hash(const struct u16list *l, const struct u16list *l2, char out[13])
{
    char dummy[1];
    struct sbuf b;
    EVP_MD_CTX *md;

    if (l->n == 0 && (!l2 || l2->n == 0)) {
        memcpy(out, "000000000000", 13);
        return;
    }
    md = md_new(EVP_sha256());
    sb_init(&b, dummy, sizeof(dummy), md);      /* digest only, nothing kept */
    sb_list(&b, l, F_HEX4, ",");
    if (l2 && l2->n) {
        sb_put(&b, "_", 1);
        sb_list(&b, l2, F_HEX4, ",");
    }
    hexdigest(md, out, 12);
    EVP_MD_CTX_free(md);
    if (!out[0])
        memcpy(out, "000000000000", 13);
}

/* JA4 (TLS client): <t|q|d><ver><d|i><nc><ne><alpn>_<ciphers>_<exts_sigalgs>. */
static void ja4_build(struct chello *h, enum hp_tls_transport tr, struct hp_tls_hello *out)
{
    uint16_t ver = h->version;
    char alpn[3], bh[13], ch[13];
    /* Big enough for any hello; per thread so the parser stays reentrant. */
    static _Thread_local struct u16list sorted_c, sorted_e;
    size_t ne;

    if (h->versions.n) {
        ver = 0;
        for (size_t i = 0; i < h->versions.n; i++)
            if (h->versions.v[i] > ver)
                ver = h->versions.v[i];
    }
    hp_ja4_alpn(h->alpn1, h->alpn1_len, alpn);

    sorted_c = h->ciphers;
    qsort(sorted_c.v, sorted_c.n, sizeof(uint16_t), cmp_u16);
    sorted_e.n = 0;
    for (size_t i = 0; i < h->exts.n; i++)
        if (h->exts.v[i] != EXT_SNI && h->exts.v[i] != EXT_ALPN)
            sorted_e.v[sorted_e.n++] = h->exts.v[i];
    qsort(sorted_e.v, sorted_e.n, sizeof(uint16_t), cmp_u16);
    ne = h->exts.n;

    ja4_hash(&sorted_c, NULL, bh);
    if (sorted_e.n == 0)
        memcpy(ch, "000000000000", 13);
    else
        ja4_hash(&sorted_e, &h->sigalgs, ch);
    snprintf(out->ja4, sizeof(out->ja4), "%c%s%c%02u%02u%s_%s_%s", (char)tr, ja4_version(ver),
             h->has_sni ? 'd' : 'i', (unsigned)(h->ciphers.n > 99 ? 99 : h->ciphers.n),
             (unsigned)(ne > 99 ? 99 : ne), alpn, bh, ch);
}

static void versions_string(const struct chello *h, struct hp_tls_hello *out)
{
    struct sbuf b;
    sb_init(&b, out->versions, sizeof(out->versions), NULL);
    sb_list(&b, &h->versions, F_0XHEX4, ",");
}

/* The fingerprints of one whole ClientHello body (after the message header). */
static int chello_finish(const uint8_t *body, size_t len, enum hp_tls_transport tr, uint16_t record_version,
                         struct hp_tls_hello *out)
{
    static _Thread_local struct chello h;

    memset(&h, 0, sizeof(h));
    if (!chello_parse(body, len, tr == HP_TLS_DTLS, &h, out)) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    out->record_version = record_version;
    out->hello_version = h.version;
    ja3_build(&h, out);
    ja4_build(&h, tr, out);
    versions_string(&h, out);
    return 1;
}

int hp_tls_client_hello(const uint8_t *data, size_t len, struct hp_tls_hello *out)
{
    return hp_tls_client_hello_span(data, len, out, NULL);
}

int hp_tls_client_hello_span(const uint8_t *data, size_t len, struct hp_tls_hello *out, size_t *span)
{
    static _Thread_local uint8_t msg[HP_TLS_HELLO_MAX];
    size_t mlen = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = tls_gather(data, len, TLS_HS_CLIENT_HELLO, msg, &mlen, span);
    if (rc != 1)
        return rc;
    return chello_finish(msg + 4, mlen, HP_TLS_TCP, (uint16_t)((data[1] << 8) | data[2]), out);
}

/* One handshake message of the wanted type with its 4-byte header: 1 with
 * its body, 0 while it is cut short, -1 for another type or a size over the cap. */
static int msg_body(const uint8_t *msg, size_t len, uint8_t want, const uint8_t **body, size_t *blen)
{
    struct hp_rd r;

    if (len >= 1 && msg[0] != want)
        return -1;
    hp_rd_init(&r, msg, len);
    hp_rd_skip(&r, 1);
    uint32_t mlen = hp_rd_u24be(&r);
    if (!hp_rd_ok(&r))
        return 0;
    if (mlen + 4 > HP_TLS_HELLO_MAX)
        return -1;
    if (hp_rd_left(&r) < mlen)
        return 0;
    *body = hp_rd_ptr(&r);
    *blen = mlen;
    return 1;
}

int hp_tls_client_hello_msg(const uint8_t *msg, size_t len, enum hp_tls_transport tr, struct hp_tls_hello *out)
{
    const uint8_t *body = NULL;
    size_t blen = 0;

    memset(out, 0, sizeof(*out));
    int rc = msg_body(msg, len, TLS_HS_CLIENT_HELLO, &body, &blen);
    return rc == 1 ? chello_finish(body, blen, tr, 0, out) : rc;
}

int hp_dtls_client_hello(const uint8_t *data, size_t len, struct hp_tls_hello *out)
{
    static _Thread_local uint8_t msg[HP_TLS_HELLO_MAX];
    size_t mlen = 0;
    uint16_t rv = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = dtls_gather(data, len, TLS_HS_CLIENT_HELLO, msg, &mlen, &rv);
    if (rc != 1)
        return rc;
    return chello_finish(msg + 4, mlen, HP_TLS_DTLS, rv, out);
}

/* ---- ServerHello ------------------------------------------------------------------ */

/* JA3S of one whole ServerHello body. */
static int shello_finish(const uint8_t *body, size_t mlen, struct hp_tls_server_hello *out)
{
    static _Thread_local struct u16list exts;
    struct hp_rd r, sub, ext;
    struct sbuf b;

    /* RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello with this random */
    static const uint8_t hrr_random[32] = {
        0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
        0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c };
    hp_rd_init(&r, body, mlen);
    out->version = hp_rd_u16be(&r);
    const uint8_t *random = hp_rd_bytes(&r, 32);
    out->hello_retry = random && memcmp(random, hrr_random, 32) == 0;
    hp_rd_sub8(&r, &sub);
    out->cipher = hp_rd_u16be(&r);
    (void)hp_rd_u8(&r);                              /* compression */
    if (!hp_rd_ok(&r)) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    out->selected_version = out->version;
    exts.n = 0;
    if (hp_rd_left(&r) >= 2 && hp_rd_sub16be(&r, &sub)) {
        while (hp_rd_left(&sub) >= 4) {
            uint16_t type = hp_rd_u16be(&sub);
            if (!hp_rd_sub16be(&sub, &ext))
                break;
            if (hp_tls_is_grease(type))
                continue;
            if (exts.n < LIST_MAX)
                exts.v[exts.n++] = type;
            if (type == EXT_SUPPORTED_VERSIONS && hp_rd_left(&ext) == 2)
                out->selected_version = hp_rd_u16be(&ext);
        }
    }
    EVP_MD_CTX *md = md_new(EVP_md5());
    sb_init(&b, out->ja3s_string, sizeof(out->ja3s_string), md);
    sb_fmt(&b, F_DEC, out->version);
    sb_put(&b, ",", 1);
    sb_fmt(&b, F_DEC, out->cipher);
    sb_put(&b, ",", 1);
    sb_list(&b, &exts, F_DEC, "-");
    hexdigest(md, out->ja3s, 32);
    EVP_MD_CTX_free(md);
    return 1;
}

int hp_tls_server_hello(const uint8_t *data, size_t len, struct hp_tls_server_hello *out)
{
    static _Thread_local uint8_t msg[HP_TLS_HELLO_MAX];
    size_t mlen = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = tls_gather(data, len, TLS_HS_SERVER_HELLO, msg, &mlen, NULL);
    return rc == 1 ? shello_finish(msg + 4, mlen, out) : rc;
}

int hp_tls_server_hello_msg(const uint8_t *msg, size_t len, struct hp_tls_server_hello *out)
{
    const uint8_t *body = NULL;
    size_t blen = 0;

    memset(out, 0, sizeof(*out));
    int rc = msg_body(msg, len, TLS_HS_SERVER_HELLO, &body, &blen);
    return rc == 1 ? shello_finish(body, blen, out) : rc;
}

int hp_dtls_server_hello(const uint8_t *data, size_t len, struct hp_tls_server_hello *out)
{
    static _Thread_local uint8_t msg[HP_TLS_HELLO_MAX];
    size_t mlen = 0;
    uint16_t rv = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = dtls_gather(data, len, TLS_HS_SERVER_HELLO, msg, &mlen, &rv);
    return rc == 1 ? shello_finish(msg + 4, mlen, out) : rc;
}
