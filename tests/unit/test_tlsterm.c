/*
 * test_tlsterm.c - unit tests for TLS termination (src/proto/tlsterm.c).
 *
 * The server side runs in-process against an OpenSSL client SSL object
 * over memory BIOs: every byte either side sends is moved by the test, so
 * the handshake, the data and the close are deterministic.  The client
 * verifies the generated certificate against itself as trust anchor with
 * its CN as host name, which checks the SAN too.
 *
 * Covered: TLS 1.3, 1.2 and 1.0 handshakes (the latter at security level
 * 0), ALPN http/1.1 chosen from "h2,http/1.1" and absent when not offered,
 * data both ways (a request, a 40 KB answer), plaintext bounded by the
 * caller's cap and continued with an empty feed, our ServerHello record
 * equal to the first bytes the client received, a HelloRetryRequest (for
 * a ClientHello edited to carry no key share) kept as such, the memory of
 * 20 idle connections after a 40 KB answer, close_notify both ways, plain HTTP, a
 * garbage stream and a garbage record failing on the first feed, no shared
 * cipher, the handshake input bound, writes before the handshake, a
 * ClientHello trickled in one-byte records gathered a few dozen times
 * (hp_tlsterm_conn_hello), not on every read.
 * Certificate: generated once and loaded unchanged on the next init, two
 * data dirs give different subjects and serials, CN = the identity's host
 * name, validity started 30-700 days ago and lasts 10 years, key 0600 and
 * directory 0700, a lone key file is an error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <cmocka.h>

#include "proto/tlsterm.h"
#include "proto/tlsterm_conn.h"
#include "conn.h"
#include "identity.h"
#include "buf.h"
#include "util.h"

static char g_dir[256];     /* data dir of the shared server context */

static void mkdata(char *out, size_t len)
{
    snprintf(out, len, "/tmp/hp-tlsterm-XXXXXX");
    assert_non_null(mkdtemp(out));
}

static void rmdata(const char *dir)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static int group_setup(void **state)
{
    char err[256];
    mkdata(g_dir, sizeof(g_dir));
    if (hp_tlsterm_init(g_dir, err, sizeof(err)) != 0) {
        fprintf(stderr, "init: %s\n", err);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    hp_tlsterm_shutdown();
    rmdata(g_dir);
    return 0;
}

/* ---- a client over memory BIOs ------------------------------------------------------------- */

struct client {
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio, *wbio;       /* rbio: bytes from the server; wbio: bytes to the server */
    uint8_t first[4096];    /* the first server flight as received */
    size_t firstlen;
};

static void cn_of_cert(const char *dir, char *cn, size_t len)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/tls/server.crt", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, (int)len) > 0);
    X509_free(x);
}

static void client_new(struct client *c, int minv, int maxv, const char *alpn, size_t alpnlen,
                       const char *ciphers)
{
    memset(c, 0, sizeof(*c));
    c->ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(c->ctx);
    SSL_CTX_set_security_level(c->ctx, 0);
    assert_int_equal(SSL_CTX_set_min_proto_version(c->ctx, minv), 1);
    assert_int_equal(SSL_CTX_set_max_proto_version(c->ctx, maxv), 1);
    if (ciphers)
        assert_int_equal(SSL_CTX_set_cipher_list(c->ctx, ciphers), 1);
    else
        assert_int_equal(SSL_CTX_set_cipher_list(c->ctx, "ALL:@SECLEVEL=0"), 1);
    /* trust exactly the generated certificate, and check the host name */
    char path[400], cn[128];
    snprintf(path, sizeof(path), "%s/tls/server.crt", g_dir);
    assert_int_equal(SSL_CTX_load_verify_locations(c->ctx, path, NULL), 1);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    c->ssl = SSL_new(c->ctx);
    assert_non_null(c->ssl);
    cn_of_cert(g_dir, cn, sizeof(cn));
    assert_int_equal(SSL_set1_host(c->ssl, cn), 1);
    if (alpn)
        assert_int_equal(SSL_set_alpn_protos(c->ssl, (const unsigned char *)alpn, (unsigned)alpnlen), 0);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(c->rbio, -1);
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_connect_state(c->ssl);
}

static void client_free(struct client *c)
{
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
}

/* Move the client's pending output into the server; server output back. */
static int pump(struct client *c, struct hp_tlsterm *t, struct hp_buf *plain, const char **why)
{
    uint8_t tmp[65536];
    int n = BIO_read(c->wbio, tmp, sizeof(tmp));
    struct hp_buf wire;
    hp_buf_init(&wire, 1 << 20);
    int rc = hp_tlsterm_feed(t, tmp, n > 0 ? (size_t)n : 0, plain, &wire, why);
    if (wire.len > 0) {
        if (c->firstlen == 0) {
            size_t k = wire.len < sizeof(c->first) ? wire.len : sizeof(c->first);
            memcpy(c->first, wire.data, k);
            c->firstlen = k;
        }
        assert_int_equal(BIO_write(c->rbio, wire.data, (int)wire.len), (int)wire.len);
    }
    hp_buf_free(&wire);
    return rc;
}

/* Run the handshake to completion; returns the server's last feed result. */
static int handshake(struct client *c, struct hp_tlsterm *t, const char **why)
{
    struct hp_buf plain;
    hp_buf_init(&plain, 65536);
    int rc = 0;
    for (int i = 0; i < 20; i++) {
        int r = SSL_do_handshake(c->ssl);
        if (r == 1 && hp_tlsterm_done(t))
            break;
        if (r != 1)
            assert_int_equal(SSL_get_error(c->ssl, r), SSL_ERROR_WANT_READ);
        rc = pump(c, t, &plain, why);
        if (rc != 0)
            break;
    }
    assert_int_equal(plain.len, 0);
    hp_buf_free(&plain);
    return rc;
}

/* Client sends data; the server decrypts it into plain. */
static void client_send(struct client *c, struct hp_tlsterm *t, const void *data, size_t len, struct hp_buf *plain)
{
    const char *why = NULL;
    assert_int_equal(SSL_write(c->ssl, data, (int)len), (int)len);
    assert_int_equal(pump(c, t, plain, &why), 0);
    assert_null(why);
}

/* Server encrypts data; the client reads it all back. */
static void server_send_check(struct client *c, struct hp_tlsterm *t, const uint8_t *data, size_t len)
{
    struct hp_buf wire;
    hp_buf_init(&wire, 1 << 20);
    assert_int_equal(hp_tlsterm_write(t, data, len, &wire), 0);
    assert_true(wire.len > len);
    assert_int_equal(BIO_write(c->rbio, wire.data, (int)wire.len), (int)wire.len);
    hp_buf_free(&wire);
    uint8_t *got = malloc(len);
    size_t have = 0;
    for (int i = 0; i < 1000 && have < len; i++) {
        int r = SSL_read(c->ssl, got + have, (int)(len - have));
        assert_true(r > 0);
        have += (size_t)r;
    }
    assert_int_equal(have, len);
    assert_memory_equal(got, data, len);
    free(got);
}

/* Our ServerHello record: a handshake record with a ServerHello in it,
 * lengths consistent, and exactly the first bytes the client received. */
static void check_server_hello(struct client *c, struct hp_tlsterm *t, uint16_t legacy_version)
{
    size_t len = 0;
    const uint8_t *sh = hp_tlsterm_server_hello(t, &len);
    assert_non_null(sh);
    assert_true(len > 5 + 4 + 2 + 32);
    assert_int_equal(sh[0], 22);
    assert_int_equal(((size_t)sh[3] << 8 | sh[4]) + 5, len);
    assert_int_equal(sh[5], 2);
    assert_int_equal(((size_t)sh[6] << 16 | (size_t)sh[7] << 8 | sh[8]) + 4, len - 5);
    assert_int_equal((uint16_t)(sh[9] << 8 | sh[10]), legacy_version);
    assert_true(c->firstlen >= len);
    assert_memory_equal(c->first, sh, len);
}

static void run_session(int version, const char *want_version)
{
    struct client c;
    client_new(&c, version, version, "\x02h2\x08http/1.1", 12, NULL);
    struct hp_tlsterm *t = hp_tlsterm_new();
    assert_non_null(t);
    assert_false(hp_tlsterm_done(t));
    assert_null(hp_tlsterm_version(t));
    size_t shl = 1;
    assert_null(hp_tlsterm_server_hello(t, &shl));
    assert_int_equal(shl, 0);

    const char *why = NULL;
    assert_int_equal(handshake(&c, t, &why), 0);
    assert_null(why);
    assert_true(hp_tlsterm_done(t));
    assert_int_equal(SSL_get_verify_result(c.ssl), X509_V_OK);
    assert_string_equal(hp_tlsterm_version(t), want_version);
    assert_string_equal(SSL_get_version(c.ssl), want_version);
    assert_string_equal(hp_tlsterm_cipher(t), SSL_get_cipher_name(c.ssl));
    assert_string_equal(hp_tlsterm_alpn(t), "http/1.1");
    check_server_hello(&c, t, version == TLS1_VERSION ? 0x0301 : 0x0303);

    /* a request in, an answer out */
    static const char req[] = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    struct hp_buf plain;
    hp_buf_init(&plain, 65536);
    client_send(&c, t, req, sizeof(req) - 1, &plain);
    assert_int_equal(plain.len, sizeof(req) - 1);
    assert_memory_equal(plain.data, req, sizeof(req) - 1);
    uint8_t *big = malloc(40000);
    for (size_t i = 0; i < 40000; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    server_send_check(&c, t, big, 40000);
    /* again, after the BIOs were replaced */
    hp_buf_reset(&plain);
    client_send(&c, t, big, 20000, &plain);
    assert_int_equal(plain.len, 20000);
    assert_memory_equal(plain.data, big, 20000);
    server_send_check(&c, t, (const uint8_t *)"HTTP/1.1 200 OK\r\n\r\n", 19);
    free(big);

    /* the client closes: 1, and our close_notify goes back */
    hp_buf_reset(&plain);
    assert_int_equal(SSL_shutdown(c.ssl), 0);
    assert_int_equal(pump(&c, t, &plain, &why), 1);
    struct hp_buf wire;
    hp_buf_init(&wire, 4096);
    hp_tlsterm_close(t, &wire);
    assert_true(wire.len > 0);
    assert_int_equal(BIO_write(c.rbio, wire.data, (int)wire.len), (int)wire.len);
    assert_int_equal(SSL_shutdown(c.ssl), 1);
    /* closed: no more writes, a second close sends nothing */
    hp_buf_reset(&wire);
    assert_int_equal(hp_tlsterm_write(t, "x", 1, &wire), -1);
    hp_tlsterm_close(t, &wire);
    assert_int_equal(wire.len, 0);
    hp_buf_free(&wire);
    hp_buf_free(&plain);
    hp_tlsterm_free(t);
    client_free(&c);
}

static void test_tls13(void **state)
{
    run_session(TLS1_3_VERSION, "TLSv1.3");
}

static void test_tls12(void **state)
{
    run_session(TLS1_2_VERSION, "TLSv1.2");
}

/* TLS 1.0 fails as with Debian's nginx on OpenSSL 3 at security level 2:
 * no signature algorithm is left for it, the server says internal_error. */
static void test_tls10_refused(void **state)
{
    (void)state;
    struct client c;
    client_new(&c, TLS1_VERSION, TLS1_VERSION, NULL, 0, NULL);   /* a client at security level 0 */
    struct hp_tlsterm *t = hp_tlsterm_new();
    const char *why = NULL;
    assert_int_not_equal(handshake(&c, t, &why), 0);
    assert_non_null(why);
    assert_false(hp_tlsterm_done(t));
    assert_null(hp_tlsterm_version(t));
    hp_tlsterm_free(t);
    client_free(&c);
}

/* Whether a ServerHello record (as hp_tlsterm_server_hello gives it) carries
 * extension 'type'.  Record(5) type(1) len(3) version(2) random(32) sid. */
static bool sh_has_ext(const uint8_t *sh, size_t len, unsigned type)
{
    size_t p = 5 + 4 + 2 + 32;
    assert_true(p < len);
    p += 1 + sh[p] + 2 + 1;                 /* session id, cipher, compression */
    assert_true(p + 2 <= len);
    size_t end = p + 2 + ((size_t)sh[p] << 8 | sh[p + 1]);
    assert_true(end <= len);
    for (p += 2; p + 4 <= end; p += 4 + ((size_t)sh[p + 2] << 8 | sh[p + 3]))
        if (((unsigned)sh[p] << 8 | sh[p + 1]) == type)
            return true;
    return false;
}

/* ALPN on the web server's connections as nginx 1.22 answers it: one of
 * http/1.1, http/1.0, http/0.9, or a fatal no_application_protocol alert
 * (h2 alone: nginx without http2 fails the handshake, it does not go on
 * without ALPN).  Other modules' connections go on without ALPN. */
static void alpn_case(bool nginx, const char *offer, size_t n, int want_rc, const char *want_alpn)
{
    struct client c;
    client_new(&c, TLS1_2_VERSION, TLS1_3_VERSION, offer, n, NULL);
    struct hp_tlsterm *t = hp_tlsterm_new();
    if (nginx)
        hp_tlsterm_as_nginx(t);
    const char *why = NULL;
    assert_int_equal(handshake(&c, t, &why), want_rc);
    if (want_rc == 0) {
        assert_string_equal(hp_tlsterm_alpn(t), want_alpn);
    } else {
        static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 120 };
        assert_int_equal(c.firstlen, sizeof(alert));
        assert_memory_equal(c.first, alert, sizeof(alert));
    }
    hp_tlsterm_free(t);
    client_free(&c);
}

static void test_nginx_alpn(void **state)
{
    alpn_case(true, "\x02h2", 3, -1, NULL);
    alpn_case(true, "\x06spdy/3", 7, -1, NULL);
    alpn_case(true, "\x02h2\x08http/1.0", 12, 0, "http/1.0");
    alpn_case(true, "\x08http/0.9", 9, 0, "http/0.9");
    alpn_case(true, "\x02h2\x08http/1.1", 12, 0, "http/1.1");
    alpn_case(false, "\x02h2", 3, 0, "");
    alpn_case(false, "\x08http/1.0", 9, 0, "");
}

/* SNI, any name: nginx's servername callback makes OpenSSL acknowledge it
 * with an empty server_name extension in the TLS 1.2 ServerHello (so JA3S
 * lists extension 0).  Other modules' connections do not. */
static void sni_case(bool nginx)
{
    struct client c;
    client_new(&c, TLS1_2_VERSION, TLS1_2_VERSION, NULL, 0, NULL);
    assert_int_equal(SSL_set_tlsext_host_name(c.ssl, "unknown.example"), 1);
    struct hp_tlsterm *t = hp_tlsterm_new();
    if (nginx)
        hp_tlsterm_as_nginx(t);
    const char *why = NULL;
    assert_int_equal(handshake(&c, t, &why), 0);
    size_t n = 0;
    const uint8_t *sh = hp_tlsterm_server_hello(t, &n);
    assert_non_null(sh);
    assert_int_equal(sh_has_ext(sh, n, 0), nginx);
    assert_true(sh_has_ext(sh, n, 0xff01));        /* renegotiation_info: the parser works */
    hp_tlsterm_free(t);
    client_free(&c);
}

static void test_nginx_sni(void **state)
{
    sni_case(true);
    sni_case(false);
}

/* nginx's default ssl_session_cache none: a TLS 1.2 client without tickets
 * gets a 32-byte session ID (never found again), not an empty one. */
static void test_session_id_offered(void **state)
{
    struct client c;
    client_new(&c, TLS1_2_VERSION, TLS1_2_VERSION, NULL, 0, NULL);
    SSL_set_options(c.ssl, SSL_OP_NO_TICKET);
    struct hp_tlsterm *t = hp_tlsterm_new();
    hp_tlsterm_as_nginx(t);
    const char *why = NULL;
    assert_int_equal(handshake(&c, t, &why), 0);
    size_t n = 0;
    const uint8_t *sh = hp_tlsterm_server_hello(t, &n);
    assert_true(sh && n > 5 + 4 + 2 + 32 + 1);
    assert_int_equal(sh[5 + 4 + 2 + 32], 32);
    assert_false(sh_has_ext(sh, n, 35));           /* no ticket promised */
    hp_tlsterm_free(t);
    client_free(&c);
}

/* The server closes first: the client sees close_notify. */
static void test_server_close(void **state)
{
    struct client c;
    client_new(&c, TLS1_2_VERSION, TLS1_3_VERSION, NULL, 0, NULL);
    struct hp_tlsterm *t = hp_tlsterm_new();
    const char *why = NULL;
    assert_int_equal(handshake(&c, t, &why), 0);
    assert_string_equal(hp_tlsterm_version(t), "TLSv1.3");
    assert_string_equal(hp_tlsterm_alpn(t), "");      /* none offered, none selected */
    struct hp_buf wire;
    hp_buf_init(&wire, 4096);
    hp_tlsterm_close(t, &wire);
    assert_true(wire.len > 0);
    assert_int_equal(BIO_write(c.rbio, wire.data, (int)wire.len), (int)wire.len);
    char buf[16];
    int r = SSL_read(c.ssl, buf, sizeof(buf));
    assert_int_equal(SSL_get_error(c.ssl, r), SSL_ERROR_ZERO_RETURN);
    hp_buf_free(&wire);
    hp_tlsterm_free(t);
    client_free(&c);
}

/* Plaintext stops at the caller's cap; the rest comes with empty feeds. */
static void test_plain_cap(void **state)
{
    struct client c;
    client_new(&c, TLS1_2_VERSION, TLS1_2_VERSION, NULL, 0, NULL);
    struct hp_tlsterm *t = hp_tlsterm_new();
    const char *why = NULL;
    assert_int_equal(handshake(&c, t, &why), 0);
    uint8_t data[1000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)i;
    struct hp_buf plain, wire;
    hp_buf_init(&plain, 100);
    hp_buf_init(&wire, 4096);
    client_send(&c, t, data, sizeof(data), &plain);
    assert_int_equal(plain.len, 100);
    assert_true(hp_buf_ok(&plain));
    size_t got = 100;
    assert_memory_equal(plain.data, data, 100);
    for (int i = 0; i < 20 && got < sizeof(data); i++) {
        hp_buf_reset(&plain);
        assert_int_equal(hp_tlsterm_feed(t, NULL, 0, &plain, &wire, &why), 0);
        assert_true(plain.len > 0 && plain.len <= 100);
        assert_memory_equal(plain.data, data + got, plain.len);
        got += plain.len;
    }
    assert_int_equal(got, sizeof(data));
    hp_buf_reset(&plain);
    assert_int_equal(hp_tlsterm_feed(t, NULL, 0, &plain, &wire, &why), 0);
    assert_int_equal(plain.len, 0);
    assert_int_equal(wire.len, 0);
    hp_buf_free(&plain);
    hp_buf_free(&wire);
    hp_tlsterm_free(t);
    client_free(&c);
}

/* Offset of the first key_share entry's group in a TLS 1.3 ClientHello
 * record (our own client's bytes, walked plainly); 0 when not found. */
static size_t key_share_group_off(const uint8_t *p, size_t n, size_t *extlen_off)
{
    size_t o = 5 + 4 + 2 + 32;
    if (o >= n)
        return 0;
    o += 1 + p[o];                                   /* session id */
    if (o + 2 > n)
        return 0;
    o += 2 + ((size_t)p[o] << 8 | p[o + 1]);         /* cipher suites */
    if (o >= n)
        return 0;
    o += 1 + p[o];                                   /* compression */
    *extlen_off = o;
    o += 2;                                          /* extensions length */
    while (o + 4 <= n) {
        size_t type = (size_t)p[o] << 8 | p[o + 1], len = (size_t)p[o + 2] << 8 | p[o + 3];
        if (type == 51)
            return o + 4 + 2 + 2 <= n ? o + 4 + 2 : 0;
        o += 4 + len;
    }
    return 0;
}

/* A ClientHello whose key share we cannot use gets a HelloRetryRequest,
 * which is kept as our ServerHello until a real one follows. */
static void test_hello_retry(void **state)
{
    struct client c;
    client_new(&c, TLS1_3_VERSION, TLS1_3_VERSION, NULL, 0, NULL);
    assert_int_equal(SSL_do_handshake(c.ssl), -1);
    uint8_t ch[4096];
    int n = BIO_read(c.wbio, ch, sizeof(ch));
    assert_true(n > 100);
    size_t el = 0, g = key_share_group_off(ch, (size_t)n, &el);
    assert_true(g > 0);
    /* drop the one key share: an empty client_shares list */
    size_t cut = 4 + ((size_t)ch[g + 2] << 8 | ch[g + 3]);
    assert_true(g + cut <= (size_t)n);
    memmove(ch + g, ch + g + cut, (size_t)n - g - cut);
    n -= (int)cut;
    size_t fix[4][2] = { { g - 2, 0 }, { g - 4, 2 }, { el, 0 }, { 3, 0 } };
    for (int i = 0; i < 4; i++) {
        size_t v = (size_t)ch[fix[i][0]] << 8 | ch[fix[i][0] + 1];
        v = i < 2 ? fix[i][1] : v - cut;
        ch[fix[i][0]] = (uint8_t)(v >> 8);
        ch[fix[i][0] + 1] = (uint8_t)v;
    }
    size_t hl = ((size_t)ch[6] << 16 | (size_t)ch[7] << 8 | ch[8]) - cut;   /* handshake length */
    ch[6] = (uint8_t)(hl >> 16);
    ch[7] = (uint8_t)(hl >> 8);
    ch[8] = (uint8_t)hl;
    struct hp_tlsterm *t = hp_tlsterm_new();
    struct hp_buf plain, wire;
    hp_buf_init(&plain, 4096);
    hp_buf_init(&wire, 65536);
    const char *why = NULL;
    int rc = hp_tlsterm_feed(t, ch, (size_t)n, &plain, &wire, &why);
    if (rc != 0)
        fprintf(stderr, "why: %s\n", why);
    assert_int_equal(rc, 0);
    assert_false(hp_tlsterm_done(t));
    size_t len = 0;
    const uint8_t *sh = hp_tlsterm_server_hello(t, &len);
    static const uint8_t hrr[4] = { 0xCF, 0x21, 0xAD, 0x74 };
    assert_non_null(sh);
    assert_true(len > 15 && wire.len >= len);
    assert_int_equal(sh[5], 2);
    assert_memory_equal(sh + 11, hrr, 4);
    assert_memory_equal(wire.data, sh, len);
    hp_buf_free(&plain);
    hp_buf_free(&wire);
    hp_tlsterm_free(t);
    client_free(&c);
}

static int feed_bytes(const void *p, size_t n, const char **why)
{
    struct hp_tlsterm *t = hp_tlsterm_new();
    assert_non_null(t);
    struct hp_buf plain, wire;
    hp_buf_init(&plain, 4096);
    hp_buf_init(&wire, 4096);
    int rc = hp_tlsterm_feed(t, p, n, &plain, &wire, why);
    assert_int_equal(plain.len, 0);
    /* after a failure everything fails */
    if (rc < 0) {
        const char *w2 = NULL;
        assert_int_equal(hp_tlsterm_feed(t, p, n, &plain, &wire, &w2), -1);
        assert_non_null(w2);
    }
    hp_buf_free(&plain);
    hp_buf_free(&wire);
    hp_tlsterm_free(t);
    return rc;
}

static void test_plain_http(void **state)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
    const char *why = NULL;
    assert_int_equal(feed_bytes(req, sizeof(req) - 1, &why), -1);
    assert_string_equal(why, "http request on https port");
}

static void test_garbage(void **state)
{
    uint8_t junk[4096];
    srand(7);
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)rand();
    const char *why = NULL;
    junk[0] = 0x01;
    assert_int_equal(feed_bytes(junk, sizeof(junk), &why), -1);
    assert_string_equal(why, "not a tls handshake");
    /* a handshake record header followed by junk: fails on the first feed */
    static const uint8_t hdr[5] = { 0x16, 0x03, 0x01, 0x00, 0x40 };
    memcpy(junk, hdr, sizeof(hdr));
    why = NULL;
    assert_int_equal(feed_bytes(junk, 5 + 0x40, &why), -1);
    assert_non_null(why);
    /* a record claiming 65535 bytes */
    junk[3] = 0xff;
    junk[4] = 0xff;
    why = NULL;
    assert_int_equal(feed_bytes(junk, 64, &why), -1);
    assert_non_null(why);
    /* an SSLv2-style header of junk */
    junk[0] = 0x80;
    junk[1] = 0x2e;
    junk[2] = 0x07;
    why = NULL;
    assert_int_equal(feed_bytes(junk, 0x30, &why), -1);
    assert_non_null(why);
}

/* Partial handshake records are fine; an endless one is not. */
static void test_handshake_bound(void **state)
{
    struct hp_tlsterm *t = hp_tlsterm_new();
    struct hp_buf plain, wire;
    hp_buf_init(&plain, 4096);
    hp_buf_init(&wire, 4096);
    const char *why = NULL;
    static const uint8_t hdr[5] = { 0x16, 0x03, 0x01, 0x40, 0x00 };   /* 16 KB record */
    assert_int_equal(hp_tlsterm_feed(t, hdr, 5, &plain, &wire, &why), 0);
    assert_int_equal(hp_tlsterm_feed(t, hdr, 1, &plain, &wire, &why), 0);   /* byte by byte is fine */
    uint8_t big[200000];
    memset(big, 0x41, sizeof(big));
    assert_int_equal(hp_tlsterm_feed(t, big, sizeof(big), &plain, &wire, &why), -1);
    assert_string_equal(why, "handshake too large");
    assert_int_equal(plain.len, 0);
    /* writes before (or without) a handshake are refused */
    assert_int_equal(hp_tlsterm_write(t, "x", 1, &wire), -1);
    hp_buf_free(&plain);
    hp_buf_free(&wire);
    hp_tlsterm_free(t);
}

static void test_no_shared_cipher(void **state)
{
    struct client c;
    client_new(&c, TLS1_2_VERSION, TLS1_2_VERSION, NULL, 0, "aNULL:@SECLEVEL=0");
    SSL_CTX_set_verify(c.ctx, SSL_VERIFY_NONE, NULL);
    SSL_set_verify(c.ssl, SSL_VERIFY_NONE, NULL);
    struct hp_tlsterm *t = hp_tlsterm_new();
    const char *why = NULL;
    assert_int_equal(SSL_do_handshake(c.ssl), -1);
    struct hp_buf plain;
    hp_buf_init(&plain, 4096);
    assert_int_equal(pump(&c, t, &plain, &why), -1);
    assert_string_equal(why, "no shared cipher");
    assert_true(c.firstlen > 0 && c.first[0] == 21);      /* an alert went back */
    assert_false(hp_tlsterm_done(t));
    hp_buf_free(&plain);
    hp_tlsterm_free(t);
    client_free(&c);
    ERR_clear_error();
}

/* An idle connection after a handshake and a 40 KB answer stays small:
 * the record buffers are released and the grown BIOs replaced.  (mallinfo2
 * counts nothing under ASan: then only the run itself is checked.) */
static void test_idle_memory(void **state)
{
    enum { N = 20 };
    struct hp_tlsterm *ts[N];
    static uint8_t big[40000];
    size_t before = mallinfo2().uordblks;
    for (int i = 0; i < N; i++) {
        struct client c;
        client_new(&c, TLS1_2_VERSION, TLS1_3_VERSION, NULL, 0, NULL);
        ts[i] = hp_tlsterm_new();
        const char *why = NULL;
        assert_int_equal(handshake(&c, ts[i], &why), 0);
        struct hp_buf plain;
        hp_buf_init(&plain, 65536);
        client_send(&c, ts[i], "GET / HTTP/1.1\r\n\r\n", 18, &plain);
        hp_buf_free(&plain);
        server_send_check(&c, ts[i], big, sizeof(big));
        client_free(&c);
    }
    size_t after = mallinfo2().uordblks;
    size_t per = after > before ? (after - before) / N : 0;
    fprintf(stderr, "idle TLS connection: ~%zu bytes\n", per);
    if (before != 0)
        assert_true(per < 24 * 1024);   /* ~17 KB measured; SSL_new alone is ~9 KB */
    for (int i = 0; i < N; i++)
        hp_tlsterm_free(ts[i]);
}

/* ---- the certificate ---------------------------------------------------------------------- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[3][8192];
    static int which;
    char *b = buf[which++ % 3];
    size_t n = fread(b, 1, sizeof(buf[0]) - 1, f);
    b[n] = '\0';
    fclose(f);
    return b;
}

static void test_cert_persistent(void **state)
{
    char err[256], path[400];
    char subj[512], serial[80];
    snprintf(subj, sizeof(subj), "%s", hp_tlsterm_cert_subject());
    snprintf(serial, sizeof(serial), "%s", hp_tlsterm_cert_serial());
    assert_true(strstr(subj, "/CN=") != NULL && strstr(subj, "/O=") != NULL && strstr(subj, "/C=") != NULL);
    assert_true(strlen(serial) >= 30);
    snprintf(path, sizeof(path), "%s/tls/server.crt", g_dir);
    char *crt1 = hp_xstrdup(slurp(path));
    snprintf(path, sizeof(path), "%s/tls/server.key", g_dir);
    char *key1 = hp_xstrdup(slurp(path));
    assert_non_null(strstr(key1, "PRIVATE KEY"));

    /* files: key 0600, directory 0700 */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s/tls", g_dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    /* a second init loads the same files */
    assert_int_equal(hp_tlsterm_init(g_dir, err, sizeof(err)), 0);
    assert_string_equal(hp_tlsterm_cert_subject(), subj);
    assert_string_equal(hp_tlsterm_cert_serial(), serial);
    snprintf(path, sizeof(path), "%s/tls/server.crt", g_dir);
    assert_string_equal(slurp(path), crt1);
    snprintf(path, sizeof(path), "%s/tls/server.key", g_dir);
    assert_string_equal(slurp(path), key1);
    free(crt1);
    free(key1);
}

/* Validity began 30-700 days ago and lasts ten years; SAN DNS = CN. */
static void test_cert_fields(void **state)
{
    char path[400], cn[128];
    snprintf(path, sizeof(path), "%s/tls/server.crt", g_dir);
    FILE *f = fopen(path, "r");
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    int days = 0, secs = 0;
    assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), NULL), 1);
    assert_true(days >= 30 && days <= 701);
    assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
    assert_int_equal(days, 3650);
    assert_int_equal(secs, 0);
    assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
    assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)) > 0);
    assert_int_equal(X509_check_host(x, cn, 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL), 1);
    EVP_PKEY *k = X509_get0_pubkey(x);
    assert_true(EVP_PKEY_get_bits(k) >= 2048);
    X509_free(x);
}

/* Two data dirs: different subjects and serials; with an identity loaded
 * the CN is its host name.  (Leaves the shared context re-initialised.) */
static void test_cert_per_sensor(void **state)
{
    char d1[256], d2[256], err[256];
    char s1[512], n1[80];
    mkdata(d1, sizeof(d1));
    mkdata(d2, sizeof(d2));
    assert_int_equal(hp_identity_load(d1, err, sizeof(err)), 0);
    assert_int_equal(hp_tlsterm_init(d1, err, sizeof(err)), 0);
    snprintf(s1, sizeof(s1), "%s", hp_tlsterm_cert_subject());
    snprintf(n1, sizeof(n1), "%s", hp_tlsterm_cert_serial());
    char want[200];
    snprintf(want, sizeof(want), "/CN=%s", hp_identity_get("hostname"));
    assert_non_null(strstr(s1, want));
    assert_int_equal(hp_identity_load(d2, err, sizeof(err)), 0);
    assert_int_equal(hp_tlsterm_init(d2, err, sizeof(err)), 0);
    assert_string_not_equal(hp_tlsterm_cert_subject(), s1);
    assert_string_not_equal(hp_tlsterm_cert_serial(), n1);
    rmdata(d1);
    rmdata(d2);
    assert_int_equal(hp_tlsterm_init(g_dir, err, sizeof(err)), 0);
}

/* No organisation a certificate may be given is a known default subject:
 * OpenSSL's and RHEL's prompt defaults and the stock certificates of other
 * honeypots are what detectors look for. */
static void test_cert_orgs_not_known_defaults(void **state)
{
    static const char *const bad[] = {
        "internet widgits", "default company", "some-state", "snake oil", "nepenthes",
        "carnivore", "dionaea", "cowrie", "honeypot", "localhost", "example.",
    };
    size_t n = 0;
    const char *const *orgs = hp_tlsterm_cert_orgs(&n);
    assert_true(n >= 16);
    for (size_t i = 0; i < n; i++) {
        char low[128];
        size_t j = 0;
        for (; orgs[i][j] && j < sizeof(low) - 1; j++)
            low[j] = (char)tolower((unsigned char)orgs[i][j]);
        low[j] = '\0';
        for (size_t k = 0; k < HP_ARRAY_LEN(bad); k++)
            if (strstr(low, bad[k]))
                fail_msg("organisation \"%s\" is a known default (%s)", orgs[i], bad[k]);
    }
}

/* A lone key (or certificate) is the operator's: an error, never replaced. */
static void test_cert_lone_file(void **state)
{
    char d[256], err[256], path[400];
    mkdata(d, sizeof(d));
    snprintf(path, sizeof(path), "%s/tls", d);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/tls/server.key", d);
    FILE *f = fopen(path, "w");
    fputs("not a key\n", f);
    fclose(f);
    err[0] = '\0';
    assert_int_equal(hp_tlsterm_init(d, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "server.crt"));
    assert_string_equal(slurp(path), "not a key\n");
    /* both present but garbage: an error too */
    snprintf(path, sizeof(path), "%s/tls/server.crt", d);
    f = fopen(path, "w");
    fputs("not a certificate\n", f);
    fclose(f);
    assert_int_equal(hp_tlsterm_init(d, err, sizeof(err)), -1);
    assert_true(hp_tlsterm_ready());           /* the previous context stays */
    rmdata(d);
}

/* A ClientHello trickled one byte per read, in records of one byte each,
 * is gathered again only when enough bytes came to complete it (a few dozen
 * times), not on every read: that was ~16000 gathers of up to 16 KB. */
static void test_conn_hello_trickled(void **state)
{
    (void)state;
    static uint8_t hello[4096], wire[6 * sizeof(hello)];
    size_t body = 2700, hl = 0;
    hello[hl++] = 1;
    hello[hl++] = 0;
    hello[hl++] = (uint8_t)(body >> 8);
    hello[hl++] = (uint8_t)body;
    hello[hl++] = 3;
    hello[hl++] = 3;
    memset(hello + hl, 0x11, 32);                      /* random */
    hl += 32;
    hello[hl++] = 0;                                   /* session id */
    memcpy(hello + hl, "\x00\x02\x13\x01\x01\x00", 6);   /* TLS_AES_128_GCM_SHA256, null compression */
    hl += 6;
    size_t extl = 4 + body - hl - 2;
    hello[hl++] = (uint8_t)(extl >> 8);
    hello[hl++] = (uint8_t)extl;
    hello[hl++] = 0;
    hello[hl++] = 21;                                  /* padding */
    hello[hl++] = (uint8_t)((extl - 4) >> 8);
    hello[hl++] = (uint8_t)(extl - 4);
    hl += extl - 4;
    assert_int_equal(hl, 4 + body);
    size_t wl = 0;
    for (size_t i = 0; i < hl; i++) {
        memcpy(wire + wl, "\x16\x03\x01\x00\x01", 5);
        wire[wl + 5] = hello[i];
        wl += 6;
    }
    static struct hp_conn c;
    snprintf(c.ctx.session, sizeof(c.ctx.session), "0123456789ab");
    c.ctx.protocol = "rdp";
    struct hp_tlsconn_hello st = { 0 };
    unsigned gathers = 0;
    for (size_t n = 1; n <= wl; n++) {
        struct hp_rd r;
        hp_rd_init(&r, wire, n);
        if (n >= st.retry_at)
            gathers++;
        bool done = hp_tlsterm_conn_hello(&c, &r, &st);
        assert_int_equal(done, n == wl);                /* not a byte late */
    }
    assert_true(st.seen);
    assert_true(gathers < 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls13),
        cmocka_unit_test(test_tls12),
        cmocka_unit_test(test_tls10_refused),
        cmocka_unit_test(test_nginx_alpn),
        cmocka_unit_test(test_nginx_sni),
        cmocka_unit_test(test_session_id_offered),
        cmocka_unit_test(test_server_close),
        cmocka_unit_test(test_plain_cap),
        cmocka_unit_test(test_hello_retry),
        cmocka_unit_test(test_plain_http),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_handshake_bound),
        cmocka_unit_test(test_conn_hello_trickled),
        cmocka_unit_test(test_no_shared_cipher),
        cmocka_unit_test(test_idle_memory),
        cmocka_unit_test(test_cert_persistent),
        cmocka_unit_test(test_cert_fields),
        cmocka_unit_test(test_cert_per_sensor),
        cmocka_unit_test(test_cert_lone_file),
        cmocka_unit_test(test_cert_orgs_not_known_defaults),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
