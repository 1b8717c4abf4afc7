/*
 * fuzz_quic.c - libFuzzer harness for QUIC Initial packets (src/intel/quic.c)
 * and the QUIC and DTLS hello paths of src/intel/tlsfp.c.
 *
 * Input: a mode byte, then records of a 2-byte little-endian length and
 * that many bytes (at most 8 records):
 *   mode 0  each record is a client datagram, keyed by the first one's DCID:
 *           header parsing, coalesced packets, failed authentication;
 *   mode 1  each record is the *plaintext* of a client Initial (its frames);
 *           the harness protects it as QUIC v1 or v2 would (AES-128-GCM,
 *           header protection), so the frame walker, the CRYPTO reassembly
 *           and the ClientHello parser see fuzzed content.  Every packet so
 *           built must authenticate;
 *   mode 2  the records, concatenated, are DTLS datagrams (fragment
 *           reassembly, the cookie);
 *   mode 3  the first record is one handshake message (QUIC's form).
 * Invariants: results in {-1, 0, 1}, the CRYPTO prefix within its buffer, a
 * JA4 of the fixed shape with the transport's first letter, strings
 * terminated.  Violations abort().
 * Seeds: fuzz/corpus/quic/ (captured Initials, their frames, DTLS hellos).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "intel/quic.h"
#include "intel/tlsfp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define MAX_RECORDS 8
#define MAX_PLAIN 1400

static void check_hello(const struct hp_tls_hello *h, char first)
{
    CHECK(memchr(h->ja3_string, 0, sizeof(h->ja3_string)));
    CHECK(memchr(h->sni, 0, sizeof(h->sni)));
    CHECK(memchr(h->alpn, 0, sizeof(h->alpn)));
    CHECK(strlen(h->ja3) == 32);
    CHECK(strlen(h->ja4) == 36 && h->ja4[0] == first && h->ja4[10] == '_' && h->ja4[23] == '_');
}

/* Protect plaintext frames as a client Initial packet (RFC 9001 5.3-5.4). */
static size_t protect(uint32_t version, const uint8_t *dcid, size_t dlen, uint32_t pn,
                      const uint8_t *plain, size_t plen, uint8_t *out)
{
    uint8_t key[16], iv[12], hp[16], mask[16];
    size_t n = 0;
    int l = 0;

    if (!hp_quic_initial_keys(version, dcid, dlen, false, key, iv, hp))
        return 0;
    out[n++] = (uint8_t)(version == 0x6b3343cfu ? 0xd3 : 0xc3);   /* Initial, 4-byte packet number */
    for (int i = 3; i >= 0; i--)
        out[n++] = (uint8_t)(version >> (8 * i));
    out[n++] = (uint8_t)dlen;
    memcpy(out + n, dcid, dlen);
    n += dlen;
    out[n++] = 0;                                    /* SCID */
    out[n++] = 0;                                    /* token */
    size_t len = 4 + plen + 16;
    out[n++] = (uint8_t)(0x40 | (len >> 8));
    out[n++] = (uint8_t)len;
    size_t pn_off = n;
    for (int i = 3; i >= 0; i--)
        out[n++] = (uint8_t)(pn >> (8 * i));
    for (int i = 0; i < 4; i++)
        iv[11 - i] ^= (uint8_t)(pn >> (8 * i));
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    CHECK(x && EVP_EncryptInit_ex(x, EVP_aes_128_gcm(), NULL, key, iv));
    CHECK(EVP_EncryptUpdate(x, NULL, &l, out, (int)n));
    CHECK(EVP_EncryptUpdate(x, out + n, &l, plain, (int)plen) && (size_t)l == plen);
    CHECK(EVP_EncryptFinal_ex(x, out + n + plen, &l));
    CHECK(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, out + n + plen));
    CHECK(EVP_EncryptInit_ex(x, EVP_aes_128_ecb(), NULL, hp, NULL) && EVP_CIPHER_CTX_set_padding(x, 0));
    CHECK(EVP_EncryptUpdate(x, mask, &l, out + pn_off + 4, 16) && l == 16);
    EVP_CIPHER_CTX_free(x);
    out[0] ^= mask[0] & 0x0f;
    for (int i = 0; i < 4; i++)
        out[pn_off + i] ^= mask[1 + i];
    return n + plen + 16;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hp_quic_crypto cs;
    static uint8_t joined[HP_TLS_HELLO_MAX], packet[MAX_PLAIN + 64];
    static const uint8_t dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };
    const uint8_t *rec[MAX_RECORDS];
    size_t rlen[MAX_RECORDS], nrec = 0, off = 1, jn = 0;
    struct hp_tls_hello h;
    struct hp_tls_server_hello sh;
    struct hp_quic_head head;

    if (size < 1)
        return 0;
    while (nrec < MAX_RECORDS && off + 2 <= size) {
        size_t l = (size_t)(data[off] | (data[off + 1] << 8));
        off += 2;
        if (l > size - off)
            l = size - off;
        rec[nrec] = data + off;
        rlen[nrec++] = l;
        off += l;
    }
    hp_quic_crypto_reset(&cs);
    switch (data[0] & 3) {
    case 0:
        if (nrec == 0 || !hp_quic_peek(rec[0], rlen[0], &head))
            break;
        for (size_t i = 0; i < nrec; i++) {
            int rc = hp_quic_datagram(rec[i], rlen[i], i & 1, head.dcid, head.dcid_len, &cs);
            CHECK(rc >= -1);
            CHECK(cs.prefix <= HP_TLS_HELLO_MAX);
        }
        break;
    case 1:
        for (size_t i = 0; i < nrec; i++) {
            size_t pl = rlen[i] < MAX_PLAIN ? rlen[i] : MAX_PLAIN;
            uint32_t version = (data[0] & 4) ? 0x6b3343cfu : 1u;
            size_t n = protect(version, dcid, sizeof(dcid), (uint32_t)i, rec[i], pl, packet);
            CHECK(n > 0);
            CHECK(hp_quic_datagram(packet, n, false, dcid, sizeof(dcid), &cs) == 1);
            CHECK(cs.prefix <= HP_TLS_HELLO_MAX);
        }
        break;
    case 2: {
        for (size_t i = 0; i < nrec; i++) {
            size_t take = rlen[i] < sizeof(joined) - jn ? rlen[i] : sizeof(joined) - jn;
            memcpy(joined + jn, rec[i], take);
            jn += take;
        }
        int rc = hp_dtls_client_hello(joined, jn, &h);
        CHECK(rc >= -1 && rc <= 1);
        if (rc == 1)
            check_hello(&h, 'd');
        rc = hp_dtls_server_hello(joined, jn, &sh);
        CHECK(rc >= -1 && rc <= 1);
        return 0;
    }
    default:
        if (nrec) {
            memcpy(cs.data, rec[0], rlen[0] < HP_TLS_HELLO_MAX ? rlen[0] : HP_TLS_HELLO_MAX);
            cs.prefix = rlen[0] < HP_TLS_HELLO_MAX ? rlen[0] : HP_TLS_HELLO_MAX;
        }
        break;
    }
    int rc = hp_tls_client_hello_msg(cs.data, cs.prefix, HP_TLS_QUIC, &h);
    CHECK(rc >= -1 && rc <= 1);
    if (rc == 1)
        check_hello(&h, 'q');
    rc = hp_tls_server_hello_msg(cs.data, cs.prefix, &sh);
    CHECK(rc >= -1 && rc <= 1);
    return 0;
}
