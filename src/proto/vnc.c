/*
 * vnc.c - a VNC server (RFB 3.3 / 3.7 / 3.8) up to its password check.
 *
 * The server announces the version of its family (a per-sensor choice kept
 * in the identity file as vnc_server: TigerVNC, x11vnc, TightVNC - all
 * "RFB 003.008" - or an old 3.3 server), reads the client's version and
 * speaks the lower of the two as RFC 6143 says (3.3 for anything below 3.7,
 * 3.8 for anything above).  VNC Authentication (type 2) is the only security
 * type: offered in a list to 3.7/3.8 clients, imposed on 3.3 clients.  The
 * 16-byte challenge is random per connection; the client's 16-byte DES
 * response is logged with the challenge (John the Ripper's "$vnc$*C*R"
 * format: hashcat has no VNC mode) and tried offline against the shipped
 * wordlist data/knowledge/vnc_passwords.txt, so that the password itself is
 * in the event whenever it is a common one (Heralding does the same).
 *
 * Every attempt fails: SecurityResult 1, with the family's reason string for
 * 3.8 clients ("Authentication failed", x11vnc's "password check failed!"),
 * then the connection is closed, as the real servers do.  RFB allows one
 * password per connection, so one connection is one login event.  There is
 * no per-address lock-out ("Too many security failures"): hydra and bots
 * would only slow down and the honeypot wants their whole list.
 *
 * Malformed input (a version line that is not "RFB xxx.yyy\n", a security
 * type that was not offered) closes the connection without an answer, as
 * TigerVNC and libvncserver do.
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
 * (TigerVNC 1.x and Xtightvnc: "Authentication failed"; libvncserver, hence
 * x11vnc: "password check failed!").  3.3 servers (RealVNC 3.3.7, WinVNC,
 * many embedded KVMs) have no reason. */
static const struct hp_vnc_pers vnc_pers[] = {
    { "tigervnc", "RFB 003.008\n", 8, "Authentication failed", 3 },
    { "x11vnc", "RFB 003.008\n", 8, "password check failed!", 3 },
    { "tightvnc", "RFB 003.008\n", 8, "Authentication failed", 3 },
    { "rfb33", "RFB 003.003\n", 3, NULL, 1 },
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

static bool vnc_digits(const uint8_t *p, size_t n, unsigned *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        *v = *v * 10 + (unsigned)(p[i] - '0');
    }
    return true;
}

int hp_vnc_parse_version(const uint8_t *p, size_t n, int server_minor)
{
    unsigned major, minor;
    if (n != 12 || memcmp(p, "RFB ", 4) != 0 || p[7] != '.' || p[11] != '\n' ||
        !vnc_digits(p + 4, 3, &major) || !vnc_digits(p + 8, 3, &minor))
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
    s->state = HP_VNC_VERSION;
    out_put(s, s->pers->banner, 12);
}

static void vnc_challenge(struct hp_vnc_sess *s)
{
    hp_random_bytes(s->challenge, sizeof(s->challenge));
    out_put(s, s->challenge, sizeof(s->challenge));
    s->state = HP_VNC_RESPONSE;
}

static void vnc_version(struct hp_vnc_sess *s, const uint8_t *p)
{
    int v = hp_vnc_parse_version(p, 12, s->pers->minor);
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "vnc.client_version");
    hp_ev_bytes(&ev, "client_version", p, v < 0 ? 12 : 11);
    if (v >= 0)
        hp_ev_str(&ev, "rfb_version", vnc_vstr(v));
    hp_ev_str(&ev, "server_version", vnc_vstr(s->pers->minor));
    vnc_emit(s, &ev);
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
    static const uint8_t types[] = { 1, 2 };       /* count, VNC Authentication */
    out_put(s, types, sizeof(types));
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

static void vnc_fail(struct hp_vnc_sess *s)
{
    out_u32(s, 1);                 /* SecurityResult: failed */
    if (s->minor == 8 && s->pers->fail_reason) {
        size_t n = strlen(s->pers->fail_reason);
        out_u32(s, (uint32_t)n);
        out_put(s, s->pers->fail_reason, n);
    }
    s->state = HP_VNC_DONE;
    s->close_reason = "vnc_auth_failed";
}

void hp_vnc_input(struct hp_vnc_sess *s, struct hp_rd *in)
{
    s->outlen = 0;
    while (!s->close_reason) {
        const uint8_t *p;
        switch (s->state) {
        case HP_VNC_VERSION:
            if (hp_rd_left(in) < 12)
                return;            /* a partial version stays buffered */
            p = hp_rd_bytes(in, 12);
            vnc_version(s, p);
            break;
        case HP_VNC_SECTYPE:
            if (hp_rd_left(in) < 1)
                return;
            if (hp_rd_u8(in) != 2) {
                s->state = HP_VNC_DONE;
                s->close_reason = "vnc_bad_security_type";
                return;
            }
            vnc_challenge(s);
            break;
        case HP_VNC_RESPONSE:
            if (hp_rd_left(in) < HP_VNC_CHALLENGE)
                return;
            p = hp_rd_bytes(in, HP_VNC_CHALLENGE);
            vnc_login(s, p);
            vnc_fail(s);
            break;
        case HP_VNC_DONE:
            hp_rd_skip(in, hp_rd_left(in));
            return;
        }
    }
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
    vnc_flush(c, s);
}

static void vnc_data(struct hp_conn *c, struct hp_rd *in)
{
    struct hp_vnc_sess *s = c->pstate;
    hp_vnc_input(s, in);
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
};
