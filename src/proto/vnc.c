/*
 * vnc.c - a VNC server (RFB 3.3 / 3.7 / 3.8) up to its password check.
 *
 * The server announces the version of its family (a per-sensor choice kept
 * in the identity file as vnc_server: TigerVNC, x11vnc, TightVNC - all
 * "RFB 003.008" - or an old 3.3 server), reads the client's version as the
 * real servers do (sscanf "RFB %03d.%03d\n") and speaks the lower of the two
 * as RFC 6143 says (3.3 for anything below 3.7, 3.8 for anything above).
 * VNC Authentication (type 2) is the only security type that reaches a
 * password: offered in a list to 3.7/3.8 clients (TigerVNC's list also has
 * VeNCrypt, type 19, negotiated up to its sub-type: plain VNC Authentication
 * goes on, TLS closes at the ClientHello), imposed on 3.3 clients.  The
 * 16-byte challenge is random per connection; the client's 16-byte DES
 * response is logged with the challenge (John the Ripper's "$vnc$*C*R"
 * format: hashcat has no VNC mode) and tried offline against the shipped
 * wordlist data/knowledge/vnc_passwords.txt, so that the password itself is
 * in the event whenever it is a common one (Heralding does the same).
 *
 * Every attempt fails: SecurityResult 1, with the family's reason string for
 * 3.8 clients (TigerVNC's "Authentication failure", held 100 ms as it does,
 * x11vnc's "password check failed!"), then the connection is closed, as the
 * real servers do.  RFB allows one password per connection, so one
 * connection is one login event.  There is no per-address lock-out
 * (TigerVNC's "Too many security failures" after 5 failures): hydra and
 * bots would only slow down and the honeypot wants their whole list.
 *
 * Malformed input (not an RFB version line, a security type that was not
 * offered) closes the connection without an answer, as TigerVNC and
 * libvncserver do; a major version other than 3 is answered per family
 * (TigerVNC refuses with a reason, x11vnc closes).  x11vnc waits 100 ms for
 * a client that speaks first and closes on anything but "RFB ".
 *
 * The session machine (struct hp_vnc_sess, vnc.h) is independent of the
 * connection so the unit tests and the fuzzer drive it directly; the module
 * at the end only passes bytes.  DES comes from libcrypto's low-level API
 * (deprecated in OpenSSL 3, but - unlike EVP des-ecb - it needs no legacy
 * provider loaded, which the sandboxed sensor could not do later).
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/des.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "conn.h"
#include "event.h"
#include "identity.h"
#include "intel/knowledge.h"
#include "proto.h"
#include "util.h"
#include "vnc.h"

/* ---- the wordlist ----------------------------------------------------------------- */

extern const char hp_vnc_words[], hp_vnc_words_end[];

__asm__("  .pushsection .rodata\n"
        "  .balign 16\n"
        "  .globl hp_vnc_words\n  .hidden hp_vnc_words\n"
        "  .globl hp_vnc_words_end\n  .hidden hp_vnc_words_end\n"
        "hp_vnc_words:\n"
        "  .incbin \"data/knowledge/vnc_passwords.txt\"\n"
        "hp_vnc_words_end:\n"
        "  .byte 0\n"
        "  .popsection\n");

#define VNC_WORDS_MAX 4096         /* candidates kept; the file has ~500 */

struct vnc_word {
    char pass[9];                  /* the 8 bytes that count, NUL-terminated */
    DES_key_schedule ks;
};

static struct vnc_word *vnc_words;
static size_t vnc_nwords;
static pthread_once_t vnc_once = PTHREAD_ONCE_INIT;

/* VNC feeds DES each key byte with its bits in the opposite order (an old
 * d3des quirk every implementation kept). */
static uint8_t vnc_bitrev(uint8_t b)
{
    b = (uint8_t)((b & 0xf0) >> 4 | (b & 0x0f) << 4);
    b = (uint8_t)((b & 0xcc) >> 2 | (b & 0x33) << 2);
    return (uint8_t)((b & 0xaa) >> 1 | (b & 0x55) << 1);
}

static void vnc_key(const void *pass, size_t plen, DES_key_schedule *ks)
{
    DES_cblock key;
    const uint8_t *p = pass;
    for (size_t i = 0; i < 8; i++)
        key[i] = i < plen ? vnc_bitrev(p[i]) : 0;
    DES_set_key_unchecked(&key, ks);
}

static void vnc_des(const uint8_t in[HP_VNC_CHALLENGE], DES_key_schedule *ks, uint8_t out[HP_VNC_CHALLENGE])
{
    for (size_t i = 0; i < HP_VNC_CHALLENGE; i += 8) {
        DES_cblock a, b;
        memcpy(a, in + i, 8);
        DES_ecb_encrypt(&a, &b, ks, DES_ENCRYPT);
        memcpy(out + i, b, 8);
    }
}

void hp_vnc_encrypt(const uint8_t challenge[HP_VNC_CHALLENGE], const void *pass, size_t plen,
                    uint8_t out[HP_VNC_CHALLENGE])
{
    DES_key_schedule ks;
    vnc_key(pass, plen, &ks);
    vnc_des(challenge, &ks, out);
}

static bool vnc_word_known(const char *p, size_t n)
{
    for (size_t i = 0; i < vnc_nwords; i++)
        if (strlen(vnc_words[i].pass) == n && memcmp(vnc_words[i].pass, p, n) == 0)
            return true;
    return false;
}

static void vnc_word_add(const char *p, size_t n)
{
    if (n > 8)
        n = 8;                     /* only 8 bytes reach DES */
    if (vnc_nwords >= VNC_WORDS_MAX || memchr(p, '\0', n) || vnc_word_known(p, n))
        return;
    struct vnc_word *w = &vnc_words[vnc_nwords++];
    memcpy(w->pass, p, n);
    w->pass[n] = '\0';
    vnc_key(w->pass, n, &w->ks);
}

/* Split the embedded text once: one password a line, '#' comments. */
static void vnc_words_load(void)
{
    vnc_words = hp_xcalloc(VNC_WORDS_MAX, sizeof(*vnc_words));
    vnc_word_add("", 0);           /* a server without a password set */
    const char *p = hp_vnc_words, *end = hp_vnc_words_end;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        size_t n = (size_t)(e - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n && p[0] != '#')
            vnc_word_add(p, n);
        p = e + 1;
    }
}

size_t hp_vnc_wordlist_size(void)
{
    pthread_once(&vnc_once, vnc_words_load);
    return vnc_nwords;
}

bool hp_vnc_crack(const uint8_t challenge[HP_VNC_CHALLENGE], const uint8_t response[HP_VNC_CHALLENGE],
                  char pass[9])
{
    pthread_once(&vnc_once, vnc_words_load);
    for (size_t i = 0; i < vnc_nwords; i++) {
        uint8_t got[HP_VNC_CHALLENGE];
        vnc_des(challenge, &vnc_words[i].ks, got);
        if (memcmp(got, response, HP_VNC_CHALLENGE) == 0) {
            memcpy(pass, vnc_words[i].pass, sizeof(vnc_words[i].pass));
            return true;
        }
    }
    return false;
}

/* ---- personalities ---------------------------------------------------------------- */

/* Reason strings as the servers send them to 3.8 clients on a wrong password
 * (TigerVNC 1.12: "Authentication failure"; libvncserver, hence x11vnc:
 * "password check failed!"; Xtightvnc: "Authentication failed").  3.3
 * servers (RealVNC 3.3.7, WinVNC, many embedded KVMs) have no reason.
 * TigerVNC's list is Xvnc's default, also what Debian's tigervncserver
 * starts when it listens beyond localhost (VeNCrypt 19, VNC Authentication);
 * it answers another major version with a refusal and holds a failed
 * SecurityResult 100 ms (all seen on 1.12.0).  x11vnc 0.9.16 closes on a
 * major version other than 3, and (libvncserver's WebSockets check) waits
 * 100 ms before its version for a client that speaks first: one that does
 * with anything but "RFB " (an HTTP request, a TLS ClientHello) is closed
 * without a banner. */
static const struct hp_vnc_pers vnc_pers[] = {
    { "tigervnc", "RFB 003.008\n", 8, "Authentication failure", 3, "\x02\x13\x02", HP_VNC_MAJOR_REFUSE, 100, 0 },
    { "x11vnc", "RFB 003.008\n", 8, "password check failed!", 3, "\x01\x02", HP_VNC_MAJOR_CLOSE, 0, 100 },
    { "tightvnc", "RFB 003.008\n", 8, "Authentication failed", 3, "\x01\x02", HP_VNC_MAJOR_MAP, 0, 0 },
    { "rfb33", "RFB 003.003\n", 3, NULL, 1, "\x01\x02", HP_VNC_MAJOR_MAP, 0, 0 },
};

const struct hp_vnc_pers *hp_vnc_pers_all(size_t *n)
{
    *n = HP_ARRAY_LEN(vnc_pers);
    return vnc_pers;
}

const struct hp_vnc_pers *hp_vnc_pers_find(const char *name)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(vnc_pers); i++)
        if (strcmp(vnc_pers[i].name, name) == 0)
            return &vnc_pers[i];
    return NULL;
}

/* The sensor's family: kept in the identity file, drawn on first start. */
static const struct hp_vnc_pers *vnc_pers_identity(void)
{
    const char *kept = hp_identity_get("vnc_server");
    const struct hp_vnc_pers *p = kept ? hp_vnc_pers_find(kept) : NULL;
    if (p)
        return p;
    unsigned total = 0;
    for (size_t i = 0; i < HP_ARRAY_LEN(vnc_pers); i++)
        total += vnc_pers[i].weight;
    unsigned r = (unsigned)(hp_random_u64() % total);
    p = &vnc_pers[0];
    for (size_t i = 0; i < HP_ARRAY_LEN(vnc_pers); i++) {
        if (r < vnc_pers[i].weight) {
            p = &vnc_pers[i];
            break;
        }
        r -= vnc_pers[i].weight;
    }
    hp_identity_set("vnc_server", p->name);
    return p;
}

/* ---- the session ------------------------------------------------------------------ */

bool hp_vnc_scan_version(const uint8_t *p, size_t n, int *major, int *minor)
{
    /* TigerVNC and libvncserver both sscanf the 12 bytes as a C string:
     * whitespace, signs, short numbers and a NUL after the minor all pass,
     * and so must they here.  The widths bound both numbers to -99..999. */
    char line[13];
    if (n != 12)
        return false;
    memcpy(line, p, 12);
    line[12] = '\0';
    return sscanf(line, "RFB %03d.%03d\n", major, minor) == 2;
}

int hp_vnc_parse_version(const uint8_t *p, size_t n, int server_minor)
{
    int major, minor;
    if (!hp_vnc_scan_version(p, n, &major, &minor))
        return -1;
    /* RFC 6143 7.1.1: below 3.7 means 3.3 (3.5 was never published, Apple
     * sends 3.889); a server answers the highest version both know. */
    int v = major > 3 ? 8 : major < 3 ? 3 : minor >= 8 ? 8 : minor == 7 ? 7 : 3;
    return v < server_minor ? v : server_minor;
}

static void out_put(struct hp_vnc_sess *s, const void *p, size_t n)
{
    if (n > sizeof(s->out) - s->outlen)
        n = sizeof(s->out) - s->outlen;
    memcpy(s->out + s->outlen, p, n);
    s->outlen += n;
}

static void out_u32(struct hp_vnc_sess *s, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    out_put(s, b, 4);
}

static void vnc_emit(struct hp_vnc_sess *s, struct hp_ev *ev)
{
    if (s->emit)
        s->emit(ev);
    else
        hp_ev_emit(ev);
}

static const char *vnc_vstr(int minor)
{
    return minor == 8 ? "3.8" : minor == 7 ? "3.7" : "3.3";
}

void hp_vnc_open(struct hp_vnc_sess *s, const struct hp_vnc_pers *pers, const struct hp_evctx *ctx,
                 bool crack, hp_vnc_emit_fn emit)
{
    memset(s, 0, sizeof(*s));
    s->pers = pers ? pers : &vnc_pers[0];
    s->ctx = ctx;
    s->crack = crack;
    s->emit = emit;
    if (s->pers->banner_wait_ms) {
        s->state = HP_VNC_WAIT;
        return;
    }
    s->state = HP_VNC_VERSION;
    out_put(s, s->pers->banner, 12);
}

void hp_vnc_timeout(struct hp_vnc_sess *s)
{
    s->outlen = 0;
    if (s->state != HP_VNC_WAIT || s->close_reason)
        return;
    s->state = HP_VNC_VERSION;
    out_put(s, s->pers->banner, 12);
}

/* A client that spoke before the banner: only an RFB version is answered
 * (libvncserver peeks at 4 bytes: "RFB " or the end of the connection). */
static void vnc_early(struct hp_vnc_sess *s, struct hp_rd *in)
{
    size_t n = hp_rd_left(in);
    const uint8_t *p = hp_rd_ptr(in);
    if (n >= 4 && memcmp(p, "RFB ", 4) == 0) {
        hp_vnc_timeout(s);
        return;
    }
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "vnc.client_version");
    hp_ev_bytes(&ev, "client_version", p, n < 12 ? n : 12);
    hp_ev_str(&ev, "server_version", vnc_vstr(s->pers->minor));
    vnc_emit(s, &ev);
    s->state = HP_VNC_DONE;
    s->close_reason = "vnc_bad_version";
}

static void vnc_challenge(struct hp_vnc_sess *s)
{
    hp_random_bytes(s->challenge, sizeof(s->challenge));
    out_put(s, s->challenge, sizeof(s->challenge));
    s->state = HP_VNC_RESPONSE;
}

/* TigerVNC's answer to a major version other than 3 (a 3.x failure
 * without SecurityResult: u8 0, then the reason), closing afterwards. */
static void vnc_refuse(struct hp_vnc_sess *s, int major, int minor)
{
    char msg[64];
    int n = snprintf(msg, sizeof(msg), "Client needs protocol version %d.%d, server has 3.%d", major, minor,
                     s->pers->minor);
    if (n < 0 || (size_t)n >= sizeof(msg))
        n = 0;
    static const uint8_t zero = 0;
    out_put(s, &zero, 1);
    out_u32(s, (uint32_t)n);
    out_put(s, msg, (size_t)n);
}

/* A client version that is not 3.x, for families that do not map it. */
static bool vnc_bad_major(struct hp_vnc_sess *s, const uint8_t *p)
{
    int major, minor;
    if (s->pers->bad_major == HP_VNC_MAJOR_MAP || !hp_vnc_scan_version(p, 12, &major, &minor) || major == 3)
        return false;
    if (s->pers->bad_major == HP_VNC_MAJOR_REFUSE)
        vnc_refuse(s, major, minor);
    s->state = HP_VNC_DONE;
    s->close_reason = "vnc_bad_version";
    return true;
}

static void vnc_version(struct hp_vnc_sess *s, const uint8_t *p)
{
    int v = hp_vnc_parse_version(p, 12, s->pers->minor);
    bool bad = vnc_bad_major(s, p);
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "vnc.client_version");
    hp_ev_bytes(&ev, "client_version", p, v < 0 || p[11] != '\n' ? 12 : 11);
    if (v >= 0 && !bad)
        hp_ev_str(&ev, "rfb_version", vnc_vstr(v));
    hp_ev_str(&ev, "server_version", vnc_vstr(s->pers->minor));
    vnc_emit(s, &ev);
    if (bad)
        return;
    if (v < 0) {
        s->state = HP_VNC_DONE;
        s->close_reason = "vnc_bad_version";
        return;
    }
    s->minor = v;
    if (v == 3) {                  /* the server decides: VNC Authentication */
        out_u32(s, 2);
        vnc_challenge(s);
        return;
    }
    out_put(s, s->pers->types, 1 + (size_t)(uint8_t)s->pers->types[0]);
    s->state = HP_VNC_SECTYPE;
}

static void vnc_login(struct hp_vnc_sess *s, const uint8_t *resp)
{
    char pass[9];
    bool found = s->crack && hp_vnc_crack(s->challenge, resp, pass);
    char ch[2 * HP_VNC_CHALLENGE + 1], rh[2 * HP_VNC_CHALLENGE + 1];
    char hash[sizeof(ch) + sizeof(rh) + 16];
    hp_hex(s->challenge, HP_VNC_CHALLENGE, ch);
    hp_hex(resp, HP_VNC_CHALLENGE, rh);
    snprintf(hash, sizeof(hash), "$vnc$*%s*%s", ch, rh);

    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "login.failed");
    hp_ev_str(&ev, "username", "");
    if (found)
        hp_ev_str(&ev, "password", pass);
    hp_ev_str(&ev, "method", "vnc");
    hp_ev_bool(&ev, "password_recovered", found);
    hp_ev_str(&ev, "challenge", ch);
    hp_ev_str(&ev, "response", rh);
    hp_ev_str(&ev, "hash", hash);
    hp_ev_str(&ev, "hash_format", "john:vnc");
    hp_ev_str(&ev, "rfb_version", vnc_vstr(s->minor));
    if (found)
        hp_knowledge_ev_cred(&ev, "", 0, pass, strlen(pass));
    vnc_emit(s, &ev);
}

static void vnc_fail(struct hp_vnc_sess *s, const char *reason)
{
    out_u32(s, 1);                 /* SecurityResult: failed */
    if (s->minor == 8 && reason) {
        size_t n = strlen(reason);
        out_u32(s, (uint32_t)n);
        out_put(s, reason, n);
    }
    s->state = HP_VNC_DONE;
    s->close_reason = "vnc_auth_failed";
    s->delay_ms = s->pers->fail_delay_ms;
}

static bool vnc_offered(const struct hp_vnc_sess *s, uint8_t type)
{
    const uint8_t *t = (const uint8_t *)s->pers->types;
    return type && memchr(t + 1, type, t[0]) != NULL;
}

static void vnc_sectype(struct hp_vnc_sess *s, uint8_t type)
{
    if (!vnc_offered(s, type)) {
        s->state = HP_VNC_DONE;    /* TigerVNC and libvncserver close without a word */
        s->close_reason = "vnc_bad_security_type";
    } else if (type == 19) {
        static const uint8_t ver[] = { 0, 2 };     /* VeNCrypt 0.2 */
        out_put(s, ver, sizeof(ver));
        s->state = HP_VNC_VC_VERSION;
    } else {
        vnc_challenge(s);
    }
}

/* TigerVNC's VeNCrypt: the client's version, then its sub-type among
 * TLSVnc (258) and plain VNC Authentication (2); the reasons as 1.12 says
 * them.  TLS itself is not spoken: the connection closes at the handshake. */
#define VNC_VC_FAIL "Authentication failure: "
static void vnc_vc_version(struct hp_vnc_sess *s, uint8_t major, uint8_t minor)
{
    static const uint8_t ok[] = { 0, 2, 0, 0, 1, 2, 0, 0, 0, 2 };
    static const uint8_t no = 0xff;
    if (major == 0 && minor == 2) {
        out_put(s, ok, sizeof(ok));
        s->state = HP_VNC_VC_SUBTYPE;
        return;
    }
    out_put(s, &no, 1);
    vnc_fail(s, major == 0 && minor < 2 ? VNC_VC_FAIL "The client cannot support the server's VeNCrypt version"
                                        : VNC_VC_FAIL "The client returned an unsupported VeNCrypt version");
}

static void vnc_vc_subtype(struct hp_vnc_sess *s, uint32_t sub)
{
    static const uint8_t tls_ok = 1;
    if (sub == 2) {
        vnc_challenge(s);
    } else if (sub == 258) {
        out_put(s, &tls_ok, 1);
        s->state = HP_VNC_TLS;
    } else {
        vnc_fail(s, VNC_VC_FAIL "No valid VeNCrypt sub-type");
    }
}

/* One step of the machine: false when it needs more input. */
static bool vnc_step(struct hp_vnc_sess *s, struct hp_rd *in)
{
    const uint8_t *p;
    switch (s->state) {
    case HP_VNC_WAIT:
        vnc_early(s, in);
        return true;
    case HP_VNC_VERSION:
        if (hp_rd_left(in) < 12)
            return false;          /* a partial version stays buffered */
        vnc_version(s, hp_rd_bytes(in, 12));
        return true;
    case HP_VNC_SECTYPE:
        if (hp_rd_left(in) < 1)
            return false;
        vnc_sectype(s, hp_rd_u8(in));
        return true;
    case HP_VNC_RESPONSE:
        if (hp_rd_left(in) < HP_VNC_CHALLENGE)
            return false;
        vnc_login(s, hp_rd_bytes(in, HP_VNC_CHALLENGE));
        vnc_fail(s, s->pers->fail_reason);
        return true;
    case HP_VNC_VC_VERSION:
        if (hp_rd_left(in) < 2)
            return false;
        p = hp_rd_bytes(in, 2);
        vnc_vc_version(s, p[0], p[1]);
        return true;
    case HP_VNC_VC_SUBTYPE:
        if (hp_rd_left(in) < 4)
            return false;
        vnc_vc_subtype(s, hp_rd_u32be(in));
        return true;
    case HP_VNC_TLS:
        if (hp_rd_left(in) < 1)
            return false;
        s->state = HP_VNC_DONE;    /* a ClientHello: no TLS here */
        s->close_reason = "vnc_tls_unsupported";
        return true;
    case HP_VNC_DONE:
        break;
    }
    hp_rd_skip(in, hp_rd_left(in));
    return false;
}

void hp_vnc_input(struct hp_vnc_sess *s, struct hp_rd *in)
{
    s->outlen = 0;
    s->delay_ms = 0;
    while (!s->close_reason)
        if (!vnc_step(s, in))
            return;
    hp_rd_skip(in, hp_rd_left(in));   /* closing: what follows is not read */
}

/* ---- the protocol module ---------------------------------------------------------- */

struct vnc_conf {
    const struct hp_vnc_pers *pers;   /* configured, or the identity's after start() */
    bool crack;
};

static int vnc_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct vnc_conf *vc = hp_xcalloc(1, sizeof(*vc));
    vc->crack = true;
    svc->proto_conf = vc;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        int bad = 0, b;
        if (strcmp(kv->key, "personality") == 0) {
            vc->pers = hp_vnc_pers_find(kv->value);
            bad = !vc->pers;
        } else if (strcmp(kv->key, "crack") == 0) {
            bad = hp_parse_bool(kv->value, &b);
            vc->crack = !bad && b;
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol vnc)", kv->line, kv->key,
                     svc->name);
            free(vc);
            svc->proto_conf = NULL;
            return -1;
        }
        if (bad) {
            snprintf(err, errlen, "%d: [service %s]: bad value for %s: '%s'", kv->line, svc->name, kv->key,
                     kv->value);
            free(vc);
            svc->proto_conf = NULL;
            return -1;
        }
    }
    return 0;
}

static void vnc_unconfigure(struct hp_service_cfg *svc)
{
    free(svc->proto_conf);
    svc->proto_conf = NULL;
}

static int vnc_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct vnc_conf *vc = svc->proto_conf;
    if (!vc->pers)
        vc->pers = vnc_pers_identity();
    hp_vnc_wordlist_size();        /* parse and schedule the keys before the first client */
    return 0;
}

static void vnc_flush(struct hp_conn *c, struct hp_vnc_sess *s)
{
    if (s->delay_ms) {             /* held: vnc_timer sends it */
        hp_conn_set_timer(c, s->delay_ms);
        s->delay_ms = 0;
        return;
    }
    if (s->outlen)
        hp_conn_send(c, s->out, s->outlen);
    s->outlen = 0;
    if (s->close_reason)
        hp_conn_close(c, s->close_reason);
}

static void vnc_accept(struct hp_conn *c)
{
    const struct vnc_conf *vc = hp_conn_service_cfg(c)->proto_conf;
    struct hp_vnc_sess *s = c->pstate;
    hp_vnc_open(s, vc->pers, &c->ctx, vc->crack, NULL);
    if (s->state == HP_VNC_WAIT)
        hp_conn_set_timer(c, s->pers->banner_wait_ms);
    vnc_flush(c, s);
}

static void vnc_data(struct hp_conn *c, struct hp_rd *in)
{
    struct hp_vnc_sess *s = c->pstate;
    if (s->close_reason) {         /* a held answer waits for its timer */
        hp_rd_skip(in, hp_rd_left(in));
        return;
    }
    if (s->state == HP_VNC_WAIT)
        hp_conn_set_timer(c, 0);   /* the client spoke first: no banner timer */
    hp_vnc_input(s, in);
    vnc_flush(c, s);
}

static void vnc_timer(struct hp_conn *c)
{
    struct hp_vnc_sess *s = c->pstate;
    if (s->state == HP_VNC_WAIT && !s->close_reason)
        hp_vnc_timeout(s);         /* nobody spoke first: the banner */
    vnc_flush(c, s);
}

const struct hp_proto hp_proto_vnc = {
    .name = "vnc",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "5900",
    .conn_state_size = sizeof(struct hp_vnc_sess),
    .default_max_input = 64 * 1024,
    .configure = vnc_configure,
    .unconfigure = vnc_unconfigure,
    .start = vnc_start,
    .on_accept = vnc_accept,
    .on_data = vnc_data,
    .on_timer = vnc_timer,
};
