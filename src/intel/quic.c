/*
 * quic.c - QUIC Initial packets: keys, header protection, decryption and the
 * CRYPTO stream (see quic.h).
 *
 * Keys (RFC 9001 5.2, RFC 9369 3.3): initial_secret = HKDF-Extract(salt of
 * the version, client's first DCID); the client's or server's secret is
 * HKDF-Expand-Label(initial_secret, "client in" / "server in"), and the
 * AES-128-GCM key, IV and header-protection key are expanded from it.  All
 * outputs are at most one SHA-256 block, so HKDF-Expand is one HMAC.
 *
 * Header protection (RFC 9001 5.4): 16 bytes sampled 4 bytes after the
 * packet number's start are encrypted with AES-128-ECB; the mask hides the
 * low bits of the first byte (which hold the packet number's length) and the
 * packet number.  The header with both restored is the AEAD's associated
 * data and the packet number, XORed into the IV, its nonce.
 *
 * The plaintext goes into a thread-local buffer (no allocation per packet);
 * frames are walked with hp_rd.  Only the frames an Initial may carry are
 * understood (PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE); anything else
 * ends the walk, keeping what came before.
 */
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "intel/quic.h"
#include "reader.h"

#define QUIC_V1 0x00000001u
#define QUIC_V2 0x6b3343cfu
#define QUIC_DATAGRAM_MAX 65536
#define QUIC_TAG 16
/* Packets walked per datagram.  A real one coalesces at most one per
 * encryption level (RFC 9000 12.2); every Initial costs a key derivation
 * and two cipher set-ups whatever its size, so 64 KiB of 29-byte Initials
 * would otherwise cost some 2,000 of each (tens of ms) per datagram. */
#define QUIC_COALESCED_MAX 8

struct quic_keys {
    uint8_t key[16], iv[12], hp[16];
};

/* What differs between the versions we read. */
struct quic_version {
    const uint8_t *salt;
    const char *key_label, *iv_label, *hp_label;
    unsigned initial_type;          /* long-header type bits of an Initial */
};

static const uint8_t salt_v1[20] = {
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a };
static const uint8_t salt_v2[20] = {
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
    0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 };
static const uint8_t salt_draft29[20] = {
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
    0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99 };

static bool quic_version_of(uint32_t v, struct quic_version *out)
{
    if (v == QUIC_V1)
        *out = (struct quic_version){ salt_v1, "quic key", "quic iv", "quic hp", 0 };
    else if (v == QUIC_V2)
        *out = (struct quic_version){ salt_v2, "quicv2 key", "quicv2 iv", "quicv2 hp", 1 };
    else if (v >= 0xff00001du && v <= 0xff000020u)   /* drafts 29-32 */
        *out = (struct quic_version){ salt_draft29, "quic key", "quic iv", "quic hp", 0 };
    else
        return false;
    return true;
}

bool hp_quic_version_known(uint32_t version)
{
    struct quic_version qv;
    return quic_version_of(version, &qv);
}

/* A variable-length integer (RFC 9000 16): two high bits give its size. */
static uint64_t rd_varint(struct hp_rd *r)
{
    uint8_t b = hp_rd_u8(r);
    unsigned len = 1u << (b >> 6);
    uint64_t v = b & 0x3f;
    for (unsigned i = 1; i < len; i++)
        v = (v << 8) | hp_rd_u8(r);
    return v;
}

/* ---- keys ---------------------------------------------------------------------- */

/* HKDF-Expand-Label(secret, label, "", len) for len <= 32: one HMAC block. */
static bool expand_label(const uint8_t secret[32], const char *label, uint8_t *out, size_t len)
{
    uint8_t info[2 + 1 + 6 + 32 + 1 + 1], md[32];
    size_t ll = strlen(label), n = 0;
    unsigned mdlen = 0;

    if (len > 32 || ll > 32)
        return false;
    info[n++] = 0;
    info[n++] = (uint8_t)len;
    info[n++] = (uint8_t)(6 + ll);
    memcpy(info + n, "tls13 ", 6);
    n += 6;
    memcpy(info + n, label, ll);
    n += ll;
    info[n++] = 0;                                   /* empty context */
    info[n++] = 1;                                   /* HKDF-Expand's block counter */
    if (!HMAC(EVP_sha256(), secret, 32, info, n, md, &mdlen) || mdlen != 32)
        return false;
    memcpy(out, md, len);
    return true;
}

static bool quic_keys(const struct quic_version *qv, const uint8_t *cid, size_t cidlen, bool server,
                      struct quic_keys *k)
{
    if (cidlen > HP_QUIC_CID_MAX)
        return false;
    uint8_t initial[32], secret[32];
    unsigned n = 0;

    if (!HMAC(EVP_sha256(), qv->salt, 20, cid, cidlen, initial, &n) || n != 32)
        return false;
    return expand_label(initial, server ? "server in" : "client in", secret, 32) &&
           expand_label(secret, qv->key_label, k->key, 16) &&
           expand_label(secret, qv->iv_label, k->iv, 12) &&
           expand_label(secret, qv->hp_label, k->hp, 16);
}

bool hp_quic_initial_keys(uint32_t version, const uint8_t *cid, size_t cidlen, bool server,
                          uint8_t key[16], uint8_t iv[12], uint8_t hp[16])
{
    struct quic_version qv;
    struct quic_keys k;

    if (!quic_version_of(version, &qv) || !quic_keys(&qv, cid, cidlen, server, &k))
        return false;
    memcpy(key, k.key, 16);
    memcpy(iv, k.iv, 12);
    memcpy(hp, k.hp, 16);
    return true;
}

static bool hp_mask(const uint8_t hpkey[16], const uint8_t sample[16], uint8_t mask[16])
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int n = 0;
    bool ok = x && EVP_EncryptInit_ex(x, EVP_aes_128_ecb(), NULL, hpkey, NULL) &&
              EVP_CIPHER_CTX_set_padding(x, 0) && EVP_EncryptUpdate(x, mask, &n, sample, 16) && n == 16;
    EVP_CIPHER_CTX_free(x);
    return ok;
}

static bool aead_open(const struct quic_keys *k, uint64_t pn, const uint8_t *aad, size_t aadlen,
                      const uint8_t *ct, size_t ctlen, uint8_t *out)
{
    uint8_t nonce[12];
    int n = 0, f = 0;

    if (ctlen < QUIC_TAG)
        return false;
    memcpy(nonce, k->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    bool ok = x && EVP_DecryptInit_ex(x, EVP_aes_128_gcm(), NULL, k->key, nonce) &&
              EVP_DecryptUpdate(x, NULL, &n, aad, (int)aadlen) &&
              EVP_DecryptUpdate(x, out, &n, ct, (int)(ctlen - QUIC_TAG)) &&
              EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, QUIC_TAG, (void *)(ct + ctlen - QUIC_TAG)) &&
              EVP_DecryptFinal_ex(x, out + n, &f) > 0;
    EVP_CIPHER_CTX_free(x);
    return ok;
}

/* ---- the CRYPTO stream ------------------------------------------------------------ */

void hp_quic_crypto_reset(struct hp_quic_crypto *cs)
{
    memset(cs->have, 0, sizeof(cs->have));
    cs->prefix = 0;
}

static void crypto_add(struct hp_quic_crypto *cs, uint64_t off, const uint8_t *p, size_t n)
{
    if (off >= HP_TLS_HELLO_MAX)
        return;
    if (n > HP_TLS_HELLO_MAX - off)
        n = HP_TLS_HELLO_MAX - (size_t)off;
    memcpy(cs->data + off, p, n);
    for (size_t i = (size_t)off; i < (size_t)off + n; i++)
        cs->have[i / 8] |= (uint8_t)(1u << (i % 8));
    while (cs->prefix < HP_TLS_HELLO_MAX && (cs->have[cs->prefix / 8] & (1u << (cs->prefix % 8))))
        cs->prefix++;
}

/* Walk an Initial's frames; CRYPTO data goes to cs. */
static void frames(struct hp_rd *r, struct hp_quic_crypto *cs)
{
    while (hp_rd_left(r)) {
        uint64_t type = rd_varint(r);
        if (type == 0x00 || type == 0x01) {          /* PADDING, PING */
            continue;
        } else if (type == 0x02 || type == 0x03) {   /* ACK */
            rd_varint(r);
            rd_varint(r);
            uint64_t ranges = rd_varint(r);
            rd_varint(r);
            for (uint64_t i = 0; i < ranges && hp_rd_left(r); i++) {
                rd_varint(r);
                rd_varint(r);
            }
            if (type == 0x03) {
                rd_varint(r);
                rd_varint(r);
                rd_varint(r);
            }
        } else if (type == 0x06) {                   /* CRYPTO */
            uint64_t off = rd_varint(r), len = rd_varint(r);
            const uint8_t *p = hp_rd_bytes(r, (size_t)len);
            if (!p)
                return;
            crypto_add(cs, off, p, (size_t)len);
        } else if (type == 0x1c || type == 0x1d) {   /* CONNECTION_CLOSE */
            rd_varint(r);
            if (type == 0x1c)
                rd_varint(r);
            hp_rd_skip(r, (size_t)rd_varint(r));
        } else {
            return;
        }
        if (!hp_rd_ok(r))
            return;
    }
}

/* ---- packets ------------------------------------------------------------------------ */

bool hp_quic_peek(const uint8_t *d, size_t n, struct hp_quic_head *h)
{
    struct hp_rd r;
    struct quic_version qv;

    memset(h, 0, sizeof(*h));
    hp_rd_init(&r, d, n);
    uint8_t first = hp_rd_u8(&r);
    h->version = hp_rd_u32be(&r);
    h->dcid_len = hp_rd_u8(&r);
    if (!hp_rd_ok(&r) || !(first & 0x80) || h->dcid_len > HP_QUIC_CID_MAX || !hp_rd_copy(&r, h->dcid, h->dcid_len))
        return false;
    h->scid_len = hp_rd_u8(&r);
    if (!hp_rd_ok(&r) || h->scid_len > HP_QUIC_CID_MAX || !hp_rd_copy(&r, h->scid, h->scid_len))
        return false;
    h->initial = h->version && (first & 0x40) && quic_version_of(h->version, &qv) &&
                 ((first >> 4) & 3) == qv.initial_type;
    return true;
}

/*
 * One long-header packet at the reader's position: decrypt it if it is an
 * Initial, and leave the reader after it.  1 decrypted, 0 skipped or not
 * authenticated, -1 when the rest of the datagram cannot be walked.
 */
static int one_packet(struct hp_rd *r, bool from_server, const uint8_t *odcid, size_t odcid_len,
                      struct hp_quic_crypto *cs)
{
    static _Thread_local uint8_t plain[QUIC_DATAGRAM_MAX], aad[QUIC_DATAGRAM_MAX];
    struct quic_version qv;
    struct quic_keys k;
    const uint8_t *start = hp_rd_ptr(r);
    size_t pkt_off = hp_rd_pos(r);
    uint8_t first = hp_rd_u8(r);
    uint32_t version = hp_rd_u32be(r);

    if (!hp_rd_ok(r) || !(first & 0x80) || version == 0 || !quic_version_of(version, &qv))
        return -1;
    hp_rd_skip(r, hp_rd_u8(r));                      /* DCID */
    hp_rd_skip(r, hp_rd_u8(r));                      /* SCID */
    unsigned type = (first >> 4) & 3;
    bool initial = type == qv.initial_type;
    if (type == (qv.initial_type + 3) % 4)           /* Retry: no length, the rest is its own */
        return -1;
    if (initial)
        hp_rd_skip(r, (size_t)rd_varint(r));         /* token */
    uint64_t len = rd_varint(r);
    size_t pn_off = hp_rd_pos(r) - pkt_off;          /* header bytes before the packet number */
    struct hp_rd pkt;
    if (!hp_rd_ok(r) || len > hp_rd_left(r) || !hp_rd_sub(r, (size_t)len, &pkt))
        return -1;
    if (!initial || len < 4 + 16)
        return 0;

    /* header protection: the sample starts 4 bytes into the packet number field */
    const uint8_t *pn_at = hp_rd_ptr(&pkt);
    uint8_t mask[16];
    if (!quic_keys(&qv, odcid, odcid_len, from_server, &k) || !hp_mask(k.hp, pn_at + 4, mask))
        return 0;
    size_t pnlen = (size_t)((first ^ mask[0]) & 0x03) + 1;
    memcpy(aad, start, pn_off + pnlen);
    aad[0] = (uint8_t)(first ^ (mask[0] & 0x0f));
    uint64_t pn = 0;
    for (size_t i = 0; i < pnlen; i++) {
        aad[pn_off + i] ^= mask[1 + i];
        pn = (pn << 8) | aad[pn_off + i];
    }
    if (!aead_open(&k, pn, aad, pn_off + pnlen, pn_at + pnlen, (size_t)len - pnlen, plain))
        return 0;
    struct hp_rd fr;
    hp_rd_init(&fr, plain, (size_t)len - pnlen - QUIC_TAG);
    frames(&fr, cs);
    return 1;
}

int hp_quic_datagram(const uint8_t *d, size_t n, bool from_server, const uint8_t *odcid, size_t odcid_len,
                     struct hp_quic_crypto *cs)
{
    struct hp_rd r;
    int done = 0;

    if (n > QUIC_DATAGRAM_MAX || odcid_len > HP_QUIC_CID_MAX || n == 0 || !(d[0] & 0x80))
        return -1;
    hp_rd_init(&r, d, n);
    /* coalesced packets (RFC 9000 12.2); the padding after them is zeros */
    for (int i = 0; i < QUIC_COALESCED_MAX && hp_rd_left(&r) && (hp_rd_peek_u8(&r, 0) & 0x80); i++) {
        int rc = one_packet(&r, from_server, odcid, odcid_len, cs);
        if (rc < 0)
            break;
        done += rc;
    }
    return done;
}
