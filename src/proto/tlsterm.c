/*
 * tlsterm.c - TLS termination with OpenSSL memory BIOs.  See tlsterm.h.
 *
 * Design.  Each connection has an SSL object between two memory BIOs:
 * hp_tlsterm_feed() writes the peer's ciphertext into the read BIO, drives
 * the handshake or SSL_read(), and drains the write BIO into the caller's
 * 'wire' buffer.  Nothing blocks and nothing touches a socket, so the
 * connection layer keeps its timeouts, caps and recording.
 *
 * Hostile peers: the first byte must start a TLS handshake record (or an
 * SSLv2-style ClientHello, which old scanners still send); anything else
 * fails at once with a reason the HTTP module can log ("http request on
 * https port").  The handshake may not take more than HS_MAX_IN bytes of
 * input, renegotiation is refused, no session is stored (tickets are
 * stateless; session IDs are offered but never found), and output is
 * bounded by the caller's buffer caps.  The OpenSSL error queue is
 * cleared before every operation, so one connection's failure never leaks
 * into another's reason.
 *
 * JA3S needs our ServerHello exactly as sent: the first flight(s) in the
 * write BIO are parsed as TLS records (via hp_rd) and the record carrying
 * the ServerHello is copied.  A TLS 1.3 HelloRetryRequest is a ServerHello
 * too; it is replaced by the real one when that follows.
 *
 * The certificate: generated at first start into DATA_DIR/tls (key 0600,
 * directory 0700), with a subject drawn from lists (CN = the sensor's
 * generated host name) and a validity that began a random 30-700 days ago,
 * so no two sensors share a certificate and none looks freshly minted.
 * Existing files are always loaded, never overwritten: an operator may put
 * a real certificate (chain) there.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tlsterm.h"
#include "identity.h"
#include "reader.h"
#include "util.h"

#define HS_MAX_IN      (128 * 1024)  /* ciphertext accepted before the handshake must be done */
#define SH_MAX         2048          /* our ServerHello record is ~100-300 bytes */
#define IO_CHUNK       16384         /* one TLS record's worth of plaintext */
#define SWAP_AFTER     8192          /* replace grown memory BIOs once this much went through */
#define MAX_LOOPS      4096          /* bound on SSL_read / drain iterations per call */

struct hp_tlsterm {
    SSL *ssl;
    uint8_t *sh;             /* our ServerHello record, as sent */
    size_t shlen;
    size_t hs_in;            /* ciphertext fed before the handshake completed */
    size_t bio_bytes;        /* bytes through the BIOs since they were last replaced */
    bool done;               /* handshake complete */
    bool failed;             /* fatal error: no more I/O */
    bool closed;             /* close_notify sent or received */
    bool sh_final;           /* sh holds a real ServerHello (not a HelloRetryRequest) */
    bool nginx;              /* the web server's: ALPN and SNI answered as nginx does */
    char alpn[32];
};

static SSL_CTX *g_ctx;
static char g_subject[512];
static char g_serial[80];

/* ---- certificate generation ------------------------------------------------------------ */

static unsigned tt_rnd(unsigned n)
{
    return (unsigned)(hp_random_u64() % n);
}

/* Organisation names of the kind found on self-signed certificates of small
 * company servers and appliances.  OpenSSL's and RHEL's prompt defaults
 * ("Internet Widgits Pty Ltd", "Default Company Ltd") are left out although
 * real servers carry them: honeypot detectors list them as the subject of
 * honeypots' stock certificates, and next to a random country they would not
 * even be plausible (the real ones come with AU / Some-State). */
static const char *const tt_orgs[] = {
    "Kestrel Systems", "Meadowlark Hosting", "Northfield IT Services", "Brightline Networks",
    "Kestrel Data GmbH", "Valemont Hosting", "Tandem Digital Ltd", "Riverside Web Solutions",
    "Orchard Systems Inc.", "Bluegate Communications", "Hartwell Consulting", "Pinecrest Software LLC",
    "Meridian Telecom", "Lakeshore Media", "Stonebridge Logistics", "Copperleaf Technologies",
    "Nordwind Informatik", "Silverline Security", "Embedded Web Server", "Network Video Recorder",
    "IP Camera", "Broadband Router", "Redwood Analytics", "Clearwater Services BV",
};
const char *const *hp_tlsterm_cert_orgs(size_t *n)
{
    *n = HP_ARRAY_LEN(tt_orgs);
    return tt_orgs;
}

static const char *const tt_countries[] = {
    "US", "US", "US", "DE", "GB", "NL", "FR", "CA", "AU", "SE", "PL", "CZ", "JP", "SG", "CH",
    "AT", "FI", "ES", "IT", "BR", "IE", "DK",
};

/* The CN: the generated host name when it is a plain DNS label sequence
 * (the identity file is operator-editable: never pass odd text on to the
 * extension syntax), else a host-like name of our own. */
static void tt_common_name(char *out, size_t len)
{
    const char *h = hp_identity_get("hostname");
    bool ok = h && *h && strlen(h) < 64;
    for (const char *p = h; ok && *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.'))
            ok = false;
    if (ok) {
        snprintf(out, len, "%s", h);
    } else {
        char hex[7];
        hp_random_hex(hex, 6);
        snprintf(out, len, "srv-%s", hex);
    }
}

static int tt_add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int rc = X509_add_ext(x, ext, -1) ? 0 : -1;
    X509_EXTENSION_free(ext);
    return rc;
}

/* A random positive 128-bit serial, as CAs and 'openssl req' produce. */
static int tt_set_serial(X509 *x)
{
    uint8_t b[16];
    hp_random_bytes(b, sizeof(b));
    b[0] &= 0x7f;
    b[0] |= 0x01;                     /* never zero, never a short serial */
    BIGNUM *bn = BN_bin2bn(b, sizeof(b), NULL);
    if (!bn)
        return -1;
    int rc = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ? 0 : -1;
    BN_free(bn);
    return rc;
}

static int tt_set_subject(X509 *x)
{
    char cn[80];
    tt_common_name(cn, sizeof(cn));
    X509_NAME *n = X509_get_subject_name(x);
    const char *c = tt_countries[tt_rnd(HP_ARRAY_LEN(tt_countries))];
    const char *o = tt_orgs[tt_rnd(HP_ARRAY_LEN(tt_orgs))];
    if (!X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)c, -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)o, -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0))
        return -1;
    if (!X509_set_issuer_name(x, n))
        return -1;
    char san[96];
    snprintf(san, sizeof(san), "DNS:%s", cn);
    if (tt_add_ext(x, NID_subject_key_identifier, "hash") < 0 ||
        tt_add_ext(x, NID_authority_key_identifier, "keyid:always") < 0 ||
        tt_add_ext(x, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
        tt_add_ext(x, NID_subject_alt_name, san) < 0)
        return -1;
    return 0;
}

/* Validity began 30-700 days ago (at a random second) and lasts ten years. */
static int tt_set_validity(X509 *x)
{
    time_t nb = time(NULL) - (time_t)(30 + tt_rnd(671)) * 86400 - (time_t)tt_rnd(86400);
    if (!ASN1_TIME_set(X509_getm_notBefore(x), nb))
        return -1;
    if (!ASN1_TIME_adj(X509_getm_notAfter(x), nb, 3650, 0))
        return -1;
    return 0;
}

static X509 *tt_make_cert(EVP_PKEY *key)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    if (!X509_set_version(x, X509_VERSION_3) || tt_set_serial(x) < 0 || tt_set_validity(x) < 0 ||
        !X509_set_pubkey(x, key) || tt_set_subject(x) < 0 || !X509_sign(x, key, EVP_sha256())) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* ---- files ------------------------------------------------------------------------------- */

/* Write a PEM file mode 0600 through a temporary renamed into place, so a
 * crash never leaves half a key behind. */
static int tt_write_pem(const char *path, EVP_PKEY *key, X509 *cert)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (fchmod(fd, 0600) < 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    int ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(f, cert);
    if (fclose(f) != 0 || !ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int tt_generate(const char *keypath, const char *crtpath, char *err, size_t errlen)
{
    /* RSA rather than P-256: TLS 1.0 clients and scanners without ECDSA
     * suites must still complete the handshake. */
    EVP_PKEY *key = EVP_RSA_gen(2048);
    if (!key) {
        snprintf(err, errlen, "tls: key generation failed");
        return -1;
    }
    X509 *cert = tt_make_cert(key);
    int rc = -1;
    if (!cert)
        snprintf(err, errlen, "tls: certificate generation failed");
    else if (tt_write_pem(keypath, key, NULL) < 0)
        snprintf(err, errlen, "tls: cannot write %s: %s", keypath, strerror(errno));
    else if (tt_write_pem(crtpath, NULL, cert) < 0)
        snprintf(err, errlen, "tls: cannot write %s: %s", crtpath, strerror(errno));
    else
        rc = 0;
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

static void tt_note_cert(SSL_CTX *ctx)
{
    X509 *x = SSL_CTX_get0_certificate(ctx);
    g_subject[0] = g_serial[0] = '\0';
    if (!x)
        return;
    X509_NAME_oneline(X509_get_subject_name(x), g_subject, sizeof(g_subject));
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    if (hex)
        snprintf(g_serial, sizeof(g_serial), "%s", hex);
    OPENSSL_free(hex);
    BN_free(bn);
}

/* ---- the context ------------------------------------------------------------------------- */

/* nginx 1.22's list without http2 (NGX_HTTP_ALPN_PROTOS), in its order. */
static const unsigned char tt_alpn_nginx[] = "\x08http/1.1\x08http/1.0\x08http/0.9";
static const unsigned char tt_alpn_ours[] = "\x08http/1.1";

static bool tt_is_nginx(SSL *ssl)
{
    const struct hp_tlsterm *t = SSL_get_app_data(ssl);
    return t && t->nginx;
}

/* The web server's connections answer as nginx 1.22 does (since 1.21.4):
 * one of its protocols, or a fatal no_application_protocol alert; going on
 * without ALPN instead is a tell.  Other modules (RDP, SMTP) select
 * http/1.1 when offered and otherwise go on without ALPN. */
static int tt_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                      unsigned int inlen, void *arg)
{
    bool ngx = tt_is_nginx(ssl);
    const unsigned char *srv = ngx ? tt_alpn_nginx : tt_alpn_ours;
    unsigned srvlen = ngx ? sizeof(tt_alpn_nginx) - 1 : sizeof(tt_alpn_ours) - 1;
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, srv, srvlen, in, inlen) == OPENSSL_NPN_NEGOTIATED && sel) {
        *out = sel;
        return SSL_TLSEXT_ERR_OK;
    }
    return ngx ? SSL_TLSEXT_ERR_ALERT_FATAL : SSL_TLSEXT_ERR_NOACK;
}

/* nginx has a servername callback that accepts every name (unknown ones go
 * to the default server), so OpenSSL acknowledges SNI: an empty server_name
 * extension in the TLS 1.2 ServerHello (part of JA3S) or in the TLS 1.3
 * EncryptedExtensions.  Without the callback there is none. */
static int tt_sni_cb(SSL *ssl, int *alert, void *arg)
{
    return tt_is_nginx(ssl) ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_NOACK;
}

/* nginx's ssl_session_id_context: SHA-1 over the module's context name and
 * the certificate's SHA-1 digest.  Its length shows in the size of every
 * session ticket. */
static bool tt_sid_ctx(SSL_CTX *ctx)
{
    X509 *x = SSL_CTX_get0_certificate(ctx);
    unsigned char d[EVP_MAX_MD_SIZE], out[EVP_MAX_MD_SIZE];
    unsigned dlen = 0, outlen = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = x && md && X509_digest(x, EVP_sha1(), d, &dlen) && EVP_DigestInit_ex(md, EVP_sha1(), NULL) &&
              EVP_DigestUpdate(md, "HTTP", 4) && EVP_DigestUpdate(md, d, dlen) &&
              EVP_DigestFinal_ex(md, out, &outlen) && SSL_CTX_set_session_id_context(ctx, out, outlen);
    EVP_MD_CTX_free(md);
    return ok;
}

static SSL_CTX *tt_make_ctx(const char *keypath, const char *crtpath, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "tls: SSL_CTX_new failed");
        return NULL;
    }
    /*
     * What Debian's nginx negotiates with its shipped nginx.conf
     * (ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3, ssl_prefer_server_ciphers
     * on, nginx's default ssl_ciphers HIGH:!aNULL:!MD5) on OpenSSL 3 at
     * Debian's security level 2: the same cipher for every offer, and TLS
     * 1.0 and 1.1 failing with an internal_error alert (no signature
     * algorithm is left for them).  Active TLS fingerprints (JARM) are built
     * from exactly these choices, so they must be nginx's.  Settings are
     * explicit so that another host's openssl.cnf changes nothing; the
     * ClientHello of a client that fails is fingerprinted all the same.
     */
    SSL_CTX_set_security_level(ctx, 2);
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) || !SSL_CTX_set_max_proto_version(ctx, 0) ||
        !SSL_CTX_set_cipher_list(ctx, "HIGH:!aNULL:!MD5")) {
        snprintf(err, errlen, "tls: cannot set protocol versions or ciphers");
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    /* nginx's default ssl_session_cache none: sessions "may be reused"
     * (a session ID in the ServerHello when no ticket is issued, and the
     * ID and context inside tickets) but none is stored, so no memory. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_AUTO_CLEAR |
                                            SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_cache_size(ctx, 1);
    /* nginx's ssl_session_timeout (5 minutes): the lifetime hint of its
     * session tickets, which clients see; OpenSSL's own default is 2 hours */
    SSL_CTX_set_timeout(ctx, 300);
    /* no SSL_CTX_set_dh_auto: nginx without ssl_dhparam offers no DHE */
    SSL_CTX_set_alpn_select_cb(ctx, tt_alpn_cb, NULL);
    SSL_CTX_set_tlsext_servername_callback(ctx, tt_sni_cb);
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx, crtpath) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, keypath, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1 ||
        !tt_sid_ctx(ctx)) {
        unsigned long e = ERR_peek_last_error();
        const char *r = ERR_reason_error_string(e);
        snprintf(err, errlen, "tls: cannot load %s / %s: %s", crtpath, keypath, r ? r : "bad key or certificate");
        ERR_clear_error();
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int hp_tlsterm_init(const char *data_dir, char *err, size_t errlen)
{
    char dir[4096], keypath[4150], crtpath[4150];
    snprintf(dir, sizeof(dir), "%s/tls", data_dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "tls: cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    (void)chmod(dir, 0700);      /* best effort: the directory may be the operator's */
    snprintf(keypath, sizeof(keypath), "%s/server.key", dir);
    snprintf(crtpath, sizeof(crtpath), "%s/server.crt", dir);
    struct stat st;
    bool have_key = stat(keypath, &st) == 0, have_crt = stat(crtpath, &st) == 0;
    /* Generate only when both are missing: a lone key or certificate is the
     * operator's and deserves an error, not silent replacement. */
    if (!have_key && !have_crt && tt_generate(keypath, crtpath, err, errlen) < 0)
        return -1;
    if (have_key != have_crt) {
        snprintf(err, errlen, "tls: %s is missing (delete both files to generate new ones)",
                 have_key ? crtpath : keypath);
        return -1;
    }
    SSL_CTX *ctx = tt_make_ctx(keypath, crtpath, err, errlen);
    if (!ctx)
        return -1;
    hp_tlsterm_shutdown();
    g_ctx = ctx;
    tt_note_cert(ctx);
    return 0;
}

void hp_tlsterm_shutdown(void)
{
    SSL_CTX_free(g_ctx);
    g_ctx = NULL;
    g_subject[0] = g_serial[0] = '\0';
}

bool hp_tlsterm_ready(void)
{
    return g_ctx != NULL;
}

const char *hp_tlsterm_cert_subject(void)
{
    return g_subject;
}

const char *hp_tlsterm_cert_serial(void)
{
    return g_serial;
}

/* ---- connections ------------------------------------------------------------------------- */

static bool tt_new_bios(struct hp_tlsterm *t)
{
    BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());
    if (!r || !w) {
        BIO_free(r);
        BIO_free(w);
        return false;
    }
    /* An empty read BIO means "want read", not EOF. */
    BIO_set_mem_eof_return(r, -1);
    SSL_set0_rbio(t->ssl, r);       /* frees the previous BIOs */
    SSL_set0_wbio(t->ssl, w);
    t->bio_bytes = 0;
    return true;
}

struct hp_tlsterm *hp_tlsterm_new(void)
{
    if (!g_ctx)
        return NULL;
    struct hp_tlsterm *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->ssl = SSL_new(g_ctx);
    if (!t->ssl || !tt_new_bios(t)) {
        SSL_free(t->ssl);
        free(t);
        return NULL;
    }
    SSL_set_app_data(t->ssl, t);
    SSL_set_accept_state(t->ssl);
    return t;
}

void hp_tlsterm_as_nginx(struct hp_tlsterm *t)
{
    t->nginx = true;
}

void hp_tlsterm_free(struct hp_tlsterm *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    free(t->sh);
    free(t);
}

/* SHA-256("HelloRetryRequest"): the random of a TLS 1.3 HelloRetryRequest (RFC 8446 4.1.3). */
static const uint8_t tt_hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

/* Look through a flight we are about to send for the record carrying our
 * ServerHello and keep a copy of it (record header included). */
static void tt_capture_server_hello(struct hp_tlsterm *t, const uint8_t *p, size_t n)
{
    struct hp_rd rd;
    hp_rd_init(&rd, p, n);
    for (int i = 0; i < 16 && hp_rd_left(&rd) >= 5; i++) {
        const uint8_t *rec = hp_rd_ptr(&rd);
        uint8_t type = hp_rd_u8(&rd);
        hp_rd_skip(&rd, 2);
        struct hp_rd body;
        if (!hp_rd_sub16be(&rd, &body))
            return;
        /* handshake record starting with a ServerHello (type 2) whose message fits */
        if (type != 22 || hp_rd_peek_u8(&body, 0) != 2)
            continue;
        size_t reclen = 5 + body.len;
        if (reclen > SH_MAX)
            return;
        uint8_t random[32];
        /* msg type(1) len(3) legacy_version(2) random(32) */
        bool hrr = hp_rd_peek(&body, 6, random, sizeof(random)) && memcmp(random, tt_hrr_random, 32) == 0;
        uint8_t *copy = malloc(reclen);
        if (!copy)
            return;
        memcpy(copy, rec, reclen);
        free(t->sh);
        t->sh = copy;
        t->shlen = reclen;
        t->sh_final = !hrr;
        return;
    }
}

/* Move everything OpenSSL wants to send into wire.  false when wire is full. */
static bool tt_drain(struct hp_tlsterm *t, struct hp_buf *wire)
{
    BIO *w = SSL_get_wbio(t->ssl);
    size_t pending = BIO_ctrl_pending(w);
    if (pending == 0)
        return true;
    if (!t->done && !t->sh_final) {
        char *p = NULL;
        long n = BIO_get_mem_data(w, &p);
        if (n > 0 && p)
            tt_capture_server_hello(t, (const uint8_t *)p, (size_t)n);
    }
    for (int i = 0; i < MAX_LOOPS && (pending = BIO_ctrl_pending(w)) > 0; i++) {
        size_t n = pending < IO_CHUNK ? pending : IO_CHUNK;
        if (!hp_buf_reserve(wire, n))
            return false;
        int r = BIO_read(w, wire->data + wire->len, (int)n);
        if (r <= 0)
            return false;
        wire->len += (size_t)r;
        t->bio_bytes += (size_t)r;
    }
    return true;
}

/* Replace the memory BIOs once they are empty and have carried a fair
 * amount: a mem BIO keeps its largest allocation, and an idle connection
 * should not hold on to the biggest response it ever sent. */
static void tt_maybe_shrink(struct hp_tlsterm *t)
{
    if (!t->done || t->bio_bytes < SWAP_AFTER)
        return;
    if (BIO_ctrl_pending(SSL_get_rbio(t->ssl)) != 0 || BIO_ctrl_pending(SSL_get_wbio(t->ssl)) != 0)
        return;
    (void)tt_new_bios(t);           /* on OOM the old ones simply stay */
}

/* Why the handshake or a read failed: static text for the event. */
static const char *tt_reason(int sslerr)
{
    if (sslerr != SSL_ERROR_SSL)
        return sslerr == SSL_ERROR_SYSCALL ? "tls i/o error" : "tls error";
    unsigned long e = ERR_peek_last_error();
    int reason = ERR_GET_REASON(e);
    switch (reason) {
    case SSL_R_NO_SHARED_CIPHER: return "no shared cipher";
    case SSL_R_HTTP_REQUEST: return "http request on https port";
    case SSL_R_HTTPS_PROXY_REQUEST: return "http proxy request on https port";
    case SSL_R_WRONG_VERSION_NUMBER: return "wrong version number";
    case SSL_R_UNSUPPORTED_PROTOCOL: return "unsupported protocol";
    case SSL_R_UNSUPPORTED_SSL_VERSION: return "unsupported protocol";
    case SSL_R_VERSION_TOO_LOW: return "version too low";
    case SSL_R_PACKET_LENGTH_TOO_LONG: return "record too long";
    case SSL_R_RECORD_LENGTH_MISMATCH: return "record length mismatch";
    case SSL_R_NO_SUITABLE_KEY_SHARE: return "no suitable key share";
    case SSL_R_NO_SHARED_GROUPS: return "no shared groups";
    case SSL_R_UNEXPECTED_MESSAGE: return "unexpected message";
    case SSL_R_UNEXPECTED_RECORD: return "unexpected record";
    case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC: return "bad record mac";
    case SSL_R_NO_RENEGOTIATION: return "renegotiation refused";
    default: break;
    }
    if (reason >= SSL_AD_REASON_OFFSET)
        return "peer sent alert";
    const char *s = ERR_reason_error_string(e);   /* OpenSSL's static string table */
    return s ? s : "handshake failure";
}

static int tt_fail(struct hp_tlsterm *t, struct hp_buf *wire, const char *why, const char **whyp)
{
    t->failed = true;
    (void)tt_drain(t, wire);        /* the alert OpenSSL queued, if any: worth sending */
    if (whyp)
        *whyp = why;
    ERR_clear_error();
    return -1;
}

/* The first byte of a connection must open a handshake record (22) or be
 * an SSLv2-format ClientHello (high bit set); plain HTTP is common enough
 * on TLS ports to be named. */
static const char *tt_first_byte_check(uint8_t b)
{
    if (b == 22 || (b & 0x80))
        return NULL;
    if (b >= 'A' && b <= 'Z')
        return "http request on https port";
    return "not a tls handshake";
}

static void tt_note_done(struct hp_tlsterm *t)
{
    const unsigned char *a = NULL;
    unsigned int alen = 0;
    t->done = true;
    SSL_get0_alpn_selected(t->ssl, &a, &alen);
    if (a && alen < sizeof(t->alpn)) {
        memcpy(t->alpn, a, alen);
        t->alpn[alen] = '\0';
    }
}

/* Decrypt what is buffered into plain, up to its cap.  0, 1 on close_notify, -1. */
static int tt_read(struct hp_tlsterm *t, struct hp_buf *plain, struct hp_buf *wire, const char **why)
{
    for (int i = 0; i < MAX_LOOPS; i++) {
        size_t room = plain->full ? 0 : plain->cap - plain->len;
        if (room == 0)
            break;                  /* the rest stays inside until the next call */
        size_t n = room < IO_CHUNK ? room : IO_CHUNK;
        if (!hp_buf_reserve(plain, n))
            return tt_fail(t, wire, "out of memory", why);
        int r = SSL_read(t->ssl, plain->data + plain->len, (int)n);
        if (r > 0) {
            plain->len += (size_t)r;
            continue;
        }
        int e = SSL_get_error(t->ssl, r);
        if (e == SSL_ERROR_WANT_READ)
            break;
        if (e == SSL_ERROR_ZERO_RETURN) {
            t->closed = true;
            return 1;
        }
        return tt_fail(t, wire, tt_reason(e), why);
    }
    return 0;
}

int hp_tlsterm_feed(struct hp_tlsterm *t, const uint8_t *in, size_t len, struct hp_buf *plain,
                    struct hp_buf *wire, const char **why)
{
    if (why)
        *why = NULL;
    if (t->failed)
        return tt_fail(t, wire, "tls connection failed", why);
    if (t->closed)
        return 1;
    ERR_clear_error();
    if (len > 0 && in) {
        if (!t->done) {
            const char *bad = t->hs_in == 0 ? tt_first_byte_check(in[0]) : NULL;
            if (bad)
                return tt_fail(t, wire, bad, why);
            if (len > HS_MAX_IN - t->hs_in)
                return tt_fail(t, wire, "handshake too large", why);
            t->hs_in += len;
        }
        size_t off = 0;
        for (int i = 0; off < len && i < MAX_LOOPS; i++) {
            size_t n = len - off < (size_t)INT32_MAX ? len - off : (size_t)INT32_MAX;
            int w = BIO_write(SSL_get_rbio(t->ssl), in + off, (int)n);
            if (w <= 0)
                return tt_fail(t, wire, "out of memory", why);
            off += (size_t)w;
            t->bio_bytes += (size_t)w;
        }
    }
    if (!t->done) {
        int r = SSL_do_handshake(t->ssl);
        if (r != 1) {
            int e = SSL_get_error(t->ssl, r);
            if (e != SSL_ERROR_WANT_READ)
                return tt_fail(t, wire, tt_reason(e), why);
            if (!tt_drain(t, wire))
                return tt_fail(t, wire, "output over cap", why);
            return 0;
        }
        tt_note_done(t);
    }
    int rc = tt_read(t, plain, wire, why);
    if (rc < 0)
        return rc;
    /* our handshake flight, TLS 1.3 tickets, KeyUpdate answers */
    if (!tt_drain(t, wire))
        return tt_fail(t, wire, "output over cap", why);
    tt_maybe_shrink(t);
    return rc;
}

int hp_tlsterm_write(struct hp_tlsterm *t, const void *data, size_t len, struct hp_buf *wire)
{
    if (!t->done || t->failed || t->closed)
        return -1;
    ERR_clear_error();
    const uint8_t *p = data;
    size_t off = 0;
    while (off < len) {
        size_t n = len - off < IO_CHUNK ? len - off : IO_CHUNK;
        int r = SSL_write(t->ssl, p + off, (int)n);
        if (r <= 0) {
            tt_fail(t, wire, "tls write failed", NULL);
            return -1;
        }
        off += (size_t)r;
        /* drain per record: the write BIO never holds more than one */
        if (!tt_drain(t, wire)) {
            tt_fail(t, wire, "output over cap", NULL);
            return -1;
        }
    }
    tt_maybe_shrink(t);
    return 0;
}

bool hp_tlsterm_done(const struct hp_tlsterm *t)
{
    return t->done;
}

const char *hp_tlsterm_version(const struct hp_tlsterm *t)
{
    return t->done ? SSL_get_version(t->ssl) : NULL;
}

const char *hp_tlsterm_cipher(const struct hp_tlsterm *t)
{
    return t->done ? SSL_get_cipher_name(t->ssl) : NULL;
}

const char *hp_tlsterm_alpn(const struct hp_tlsterm *t)
{
    return t->alpn;
}

const uint8_t *hp_tlsterm_server_hello(const struct hp_tlsterm *t, size_t *len)
{
    *len = t->sh ? t->shlen : 0;
    return t->sh;
}

void hp_tlsterm_close(struct hp_tlsterm *t, struct hp_buf *wire)
{
    if (!t->done || t->failed || SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN)
        return;
    ERR_clear_error();
    (void)SSL_shutdown(t->ssl);     /* 0: ours sent, theirs not awaited */
    t->closed = true;
    (void)tt_drain(t, wire);
    ERR_clear_error();
}
