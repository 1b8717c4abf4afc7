/*
 * test_quic.c - QUIC Initial decryption (src/intel/quic.c) and the DTLS and
 * QUIC hello paths of src/intel/tlsfp.c.
 *
 * Expected values never come from this code: the Initial keys are RFC 9001
 * A.1's and RFC 9369 A.1's; the datagrams below are UDP payloads of the
 * FoxIO captures in ../shared/testdata/fingerprints/foxio-ja4/pcap (a
 * Chrome Initial to Google, one whose CRYPTO frames are split and shuffled
 * inside the packet, and a DTLS 1.0 ClientHello), with the JA3 / JA4 that
 * tshark 4.4.18 computed for them (tshark-4.4.18-reference.tsv, and for
 * the DTLS JA4 the README there).  Inputs sit against a PROT_NONE page.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intel/quic.h"
#include "intel/tlsfp.h"
#include "guard_page.h"
#include "unhex.h"
#include "cpu_time.h"
#include "quic_vectors.h"

static const char QUIC_SHUFFLED[] =
    "c30000000108fa29602f3c763cc7000044d04f4c7936f90e730faa682f2c436d4e63ee6603089fd7ea842abd44beaeb4"
    "c7c659deecabccaf08a1c135d4c549b05a370ede04c822eeb2294e4d7b11c695553d144ed5b3b0b641e8adcf086eef3b"
    "8c8bab4377c6b54bc2d63de8afe6f8a5a46f9d95d96041300245b6d9f552cc377a8197eb75f12187b207630343d518c4"
    "a3ca24c9d54b8b078478b1f7ae7c774e044bcf829ef9efc54328cf1f2f08e9b36bc4900bbdfb7e8bbd13e853ef32b44e"
    "9e999cb25f9b45a0638480f2c8cf4ff898f3d39aaeef9d901bfa1295cefbba2f2fffada4da3d6fffe1a1e64466aa11b2"
    "e93d15ba4477537eac3aa6405a742b3df40ee4de5404cb0aeae2b01dc513d3490146dbc9d4d263a9d2b4fbfc32b315c2"
    "4892fe045e6992849c185a04130242ff12833f4ec794321feb3c072d594fdbcc49b9fc75ceae45df68f5d27d6a90240b"
    "3394ee25193558b64d587605e4d3d337a18a3b2e878b24f95a04a7067b24ca0f07aa556484c826f76fb548d60b018bc5"
    "271e62f0e0b307fcfc03d24f659c2b9d240c0a5f0881bc6c89768a29d24b8e06389f7b37376b0630507cc01bd6cf0db6"
    "0b0a44eb758a70be69715021914ff4cd4bdf1aa01f3889a495f0ea06175c8aff31a1da5dc5836381f54036ccfe888a5c"
    "d7b382040972a2d2343a9340acb84e2f63afbfe107025ab613b895ca82e98dfafc748ef1755a1f2c6b9881e4e1bb95bb"
    "7cc9a7a75a25de58f24ce4f4e1a3027f815339f402763e4a7542abd074b344f870032b62cc1955f0774a85147397d23d"
    "29c6e2f4da593d5d14fd5748ef1793e777d5ba7d15b56a9038635e8fbe4e6ddc649736378a61b8657980a00324ddacdb"
    "a3fd6a2eefd342a7db0df257c454e5cdcceae920d2b706a4cb4b701f2eba9d966a079cb517b31312e8afe77ce9ab48bc"
    "8d2f8c4818994009ff1ab0d5cd88afbd9f949e6cbe27631206ff620863c1ea6d44509a403ff2291845661c764cf2e659"
    "7e5fd3fe63f5f654790e25731aa78f55d34c3a63ec041d2d7b8786cd4078a886929b876d15134ab4cd6ce73051b86742"
    "33e6f0d66aa62a7ebb7f6dce39fc2fa07fcb3b368c2aef6e323361ede30be5c7ab5109da362a69424fd2371be73db46c"
    "a417391a3975b32d60e854aaf407e2c6c08dee678715131372d271806d4ec3d8c25a29e6fb43037801f020df3dad5c3f"
    "a57ec6ecba2a783a6b01d9d167770baa57df1d54c7e82aeeccd2646b485ec60696f977ccadb09511d5034417ebcea4f7"
    "3628e2e46c3c0f28c176ec593928c9591a035a2f4c631b694b7f1a281e49344ebcbea3b4263a2b5300a47748b2579ef4"
    "985597ba647cb8e01fcdde69349522886a965a9f6dfd53f6ec3d2260de164c00111ee8823fc277491198b9608c2e5889"
    "58528d6b3ee7028331f89f1c8181730c782f51bdaf633ac008a58457da9718afad613e79edbcf3ab814d5075930631e7"
    "a40f11b6d3942b65097831ad6510e2ec19dd2261bc744e4b9941ffce13f88ac4fff33be6db27ef3ebab9b3b7f518d31d"
    "29b3ff34b4477bf099ae51257ea72c5aa6bfaa65204d34e313d35bfe566ad116eac99a18586cd5b9b5a47e2d6d923361"
    "fd082f94427e1f05cf85aabfb17e4021a42eaebe5dad49590f51075ef8128d5528fc2155919f7bdbad1b80b6ebc0b098"
    "163469a4f033adca62c8238dd0da1ba92e171e435afe20ef802035d6759c5ba50ab7b0f4fbdcc1801ebe9984e1545eda"
    "7c56"
    ;
static const char DTLS_HELLO[] =
    "16feff000000000000000000970100008b000000000000008bfeff0998ba991c8aaad305408542281890caf8cf1107e6"
    "ee7b9fe3521aa35a386ed500000058c014c00ac022c0210039003800880087c00fc00500350084c012c008c01cc01b00"
    "160013c00dc003000ac013c009c01fc01e00330032009a009900450044c00ec004002f00960041001500120009001400"
    "110008000600ff0100000900230000000f000101"
    ;

static void hexeq(const uint8_t *p, size_t n, const char *want)
{
    char got[2 * 32 + 1];
    for (size_t i = 0; i < n; i++)
        snprintf(got + 2 * i, 3, "%02x", p[i]);
    assert_string_equal(got, want);
}

static void test_initial_keys_rfc(void **state)
{
    static const uint8_t cid[] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };
    uint8_t key[16], iv[12], hp[16];

    assert_true(hp_quic_initial_keys(1, cid, sizeof(cid), false, key, iv, hp));
    hexeq(key, 16, "1f369613dd76d5467730efcbe3b1a22d");
    hexeq(iv, 12, "fa044b2f42a3fd3b46fb255c");
    hexeq(hp, 16, "9f50449e04a0e810283a1e9933adedd2");
    assert_true(hp_quic_initial_keys(1, cid, sizeof(cid), true, key, iv, hp));
    hexeq(key, 16, "cf3a5331653c364c88f0f379b6067e37");
    hexeq(iv, 12, "0ac1493ca1905853b0bba03e");
    hexeq(hp, 16, "c206b8d9b9f0f37644430b490eeaa314");
    assert_true(hp_quic_initial_keys(0x6b3343cf, cid, sizeof(cid), false, key, iv, hp));
    hexeq(key, 16, "8b1a0bc121284290a29e0971b5cd045d");
    hexeq(iv, 12, "91f73e2351d8fa91660e909f");
    hexeq(hp, 16, "45b95e15235d6f45a6b19cbcb0294ba9");
    assert_false(hp_quic_initial_keys(0xbabababa, cid, sizeof(cid), false, key, iv, hp));
    assert_true(hp_quic_version_known(0xff00001d));
    assert_false(hp_quic_version_known(0));
}

/* Decrypt one captured client datagram and fingerprint what its CRYPTO frames hold. */
static void quic_hello(const char *hex, struct hp_tls_hello *h)
{
    static uint8_t d[2048];
    static struct hp_quic_crypto cs;
    struct hp_quic_head head;
    size_t n = unhex(hex, d, sizeof(d));

    assert_true(hp_quic_peek(guarded(d, n), n, &head));
    assert_true(head.initial);
    assert_int_equal(head.version, 1);
    hp_quic_crypto_reset(&cs);
    assert_int_equal(hp_quic_datagram(guarded(d, n), n, false, head.dcid, head.dcid_len, &cs), 1);
    assert_int_equal(hp_tls_client_hello_msg(guarded(cs.data, cs.prefix), cs.prefix, HP_TLS_QUIC, h), 1);
}

static void test_quic_captured_initials(void **state)
{
    struct hp_tls_hello h;

    quic_hello(QUIC_GOOGLE, &h);
    assert_string_equal(h.ja3, "0cda1bd7f270e894ed5de2af2f06cb80");
    assert_string_equal(h.ja3_string, "771,4865-4866-4867,45-27-17513-13-43-0-10-57-16-51,29-23-24,");
    assert_string_equal(h.ja4, "q13d0310h3_55b375c5d22e_cd85d2d88918");
    assert_string_equal(h.sni, "www.google.com");
    assert_string_equal(h.alpn, "h3");
    assert_int_equal(h.record_version, 0);

    quic_hello(QUIC_SHUFFLED, &h);
    assert_string_equal(h.ja3, "410bc72d10506604b31a74b036fc4bab");
    assert_string_equal(h.ja4, "q13d0310h3_55b375c5d22e_cd85d2d88918");
    assert_string_equal(h.sni, "ogs.google.com");
}

/* The wrong keys, a flipped byte anywhere in the protected part, or the
 * server's direction: nothing authenticates and nothing is taken. */
static void test_quic_tampered(void **state)
{
    static uint8_t d[2048];
    static struct hp_quic_crypto cs;
    struct hp_quic_head head;
    size_t n = unhex(QUIC_GOOGLE, d, sizeof(d));

    assert_true(hp_quic_peek(d, n, &head));
    hp_quic_crypto_reset(&cs);
    assert_int_equal(hp_quic_datagram(d, n, true, head.dcid, head.dcid_len, &cs), 0);
    uint8_t other[HP_QUIC_CID_MAX];
    memcpy(other, head.dcid, head.dcid_len);
    other[0] ^= 1;
    assert_int_equal(hp_quic_datagram(d, n, false, other, head.dcid_len, &cs), 0);
    for (size_t at = 30; at < n; at += 97) {
        d[at] ^= 0x40;
        assert_int_equal(hp_quic_datagram(guarded(d, n), n, false, head.dcid, head.dcid_len, &cs), 0);
        d[at] ^= 0x40;
    }
    assert_int_equal(cs.prefix, 0);
    /* every cut of the datagram: never a read past it, never a hello */
    for (size_t len = 0; len < n; len += 7) {
        hp_quic_crypto_reset(&cs);
        int rc = hp_quic_datagram(guarded(d, len), len, false, head.dcid, head.dcid_len, &cs);
        assert_true(rc <= 0);
    }
}

static void test_quic_peek(void **state)
{
    static const uint8_t vn[] = { 0xc3, 0xba, 0xba, 0xba, 0xba, 2, 0xaa, 0xbb, 1, 0xcc };
    static const uint8_t shorthdr[] = { 0x40, 1, 2, 3, 4, 5, 6 };
    static const uint8_t bigcid[] = { 0xc0, 0, 0, 0, 1, 21 };
    struct hp_quic_head h;

    assert_true(hp_quic_peek(guarded(vn, sizeof(vn)), sizeof(vn), &h));
    assert_false(h.initial);
    assert_int_equal(h.version, 0xbabababa);
    assert_int_equal(h.dcid_len, 2);
    assert_int_equal(h.scid_len, 1);
    assert_int_equal(h.scid[0], 0xcc);
    assert_false(hp_quic_peek(guarded(shorthdr, sizeof(shorthdr)), sizeof(shorthdr), &h));
    assert_false(hp_quic_peek(guarded(bigcid, sizeof(bigcid)), sizeof(bigcid), &h));
    assert_false(hp_quic_peek(guarded(vn, 7), 7, &h));
}

static void test_dtls_hello(void **state)
{
    static uint8_t d[1024], frag[2048];
    struct hp_tls_hello h;
    size_t n = unhex(DTLS_HELLO, d, sizeof(d));

    assert_int_equal(hp_dtls_client_hello(guarded(d, n), n, &h), 1);
    assert_string_equal(h.ja3, "1f12ed4be0b680eb539364fa1b55b8d4");
    assert_string_equal(h.ja4, "dd1i440200_49bcda3e7ebf_18d1e47e0978");
    assert_int_equal(h.record_version, 0xfeff);
    /* not DTLS to the TLS parser, not TLS to the DTLS one */
    assert_int_equal(hp_tls_client_hello(guarded(d, n), n, &h), -1);

    /* The same message as two fragments, the second first, in two records. */
    size_t body = n - 13 - 12, half = body / 2, m = 0;
    const uint8_t *hs = d + 13;                  /* handshake header */
    for (int part = 1; part >= 0; part--) {
        size_t off = part ? half : 0, len = part ? body - half : half;
        memcpy(frag + m, d, 11);                 /* type, version, epoch, sequence */
        frag[m + 11] = (uint8_t)((12 + len) >> 8);
        frag[m + 12] = (uint8_t)(12 + len);
        memcpy(frag + m + 13, hs, 6);            /* type, length, message_seq */
        frag[m + 19] = (uint8_t)(off >> 16); frag[m + 20] = (uint8_t)(off >> 8); frag[m + 21] = (uint8_t)off;
        frag[m + 22] = (uint8_t)(len >> 16); frag[m + 23] = (uint8_t)(len >> 8); frag[m + 24] = (uint8_t)len;
        memcpy(frag + m + 25, hs + 12 + off, len);
        m += 25 + len;
        if (part)
            assert_int_equal(hp_dtls_client_hello(guarded(frag, m), m, &h), 0);
    }
    assert_int_equal(hp_dtls_client_hello(guarded(frag, m), m, &h), 1);
    assert_string_equal(h.ja4, "dd1i440200_49bcda3e7ebf_18d1e47e0978");
    /* every cut: more wanted or a no, never a read past the end */
    for (size_t len = 0; len < m; len++)
        assert_true(hp_dtls_client_hello(guarded(frag, len), len, &h) <= 0);
}

static void test_msg_bounds(void **state)
{
    static const uint8_t notch[] = { 2, 0, 0, 4, 3, 3, 0, 0 };
    static const uint8_t huge[] = { 1, 0xff, 0xff, 0xff };
    static const uint8_t cut[] = { 1, 0, 1, 0, 3, 3 };
    struct hp_tls_hello h;
    struct hp_tls_server_hello sh;

    assert_int_equal(hp_tls_client_hello_msg(guarded(notch, sizeof(notch)), sizeof(notch), HP_TLS_QUIC, &h), -1);
    assert_int_equal(hp_tls_client_hello_msg(guarded(huge, sizeof(huge)), sizeof(huge), HP_TLS_QUIC, &h), -1);
    assert_int_equal(hp_tls_client_hello_msg(guarded(cut, sizeof(cut)), sizeof(cut), HP_TLS_QUIC, &h), 0);
    assert_int_equal(hp_tls_client_hello_msg(guarded(cut, 2), 2, HP_TLS_QUIC, &h), 0);
    assert_int_equal(hp_tls_server_hello_msg(guarded(cut, sizeof(cut)), sizeof(cut), &sh), -1);
}

/* Every coalesced Initial costs a key derivation and two cipher set-ups
 * whatever its size: a datagram of a real hello followed by 64 KiB of
 * 29-byte Initials that do not authenticate took tens of ms (about 2,000 of
 * them); only the first packets of a datagram are walked now.  Nine copies
 * of a real Initial in one datagram: eight are read. */
static void test_quic_coalesced_bound(void **state)
{
    static uint8_t d[GUARD_SPAN];
    static struct hp_quic_crypto cs;
    struct hp_quic_head head;
    struct hp_tls_hello h;
    size_t one = unhex(QUIC_GOOGLE, d, sizeof(d)), n = one;

    while (n + 29 <= sizeof(d)) {
        static const uint8_t hdr[9] = { 0xc0, 0, 0, 0, 1, 0, 0, 0, 20 };  /* v1 Initial, no CIDs or token */
        memcpy(d + n, hdr, sizeof(hdr));
        memset(d + n + sizeof(hdr), 0x41, 20);
        n += 29;
    }
    assert_true(hp_quic_peek(d, n, &head));
    hp_quic_crypto_reset(&cs);
    double t0 = 1e3 * test_cpu_s();
    assert_int_equal(hp_quic_datagram(guarded(d, n), n, false, head.dcid, head.dcid_len, &cs), 1);
    double spent = 1e3 * test_cpu_s() - t0;
    assert_true(spent < 15.0);          /* the unbounded walk took about 30 ms */
    assert_int_equal(hp_tls_client_hello_msg(cs.data, cs.prefix, HP_TLS_QUIC, &h), 1);
    assert_string_equal(h.sni, "www.google.com");

    for (size_t i = 1; i < 9; i++)
        memcpy(d + i * one, d, one);
    hp_quic_crypto_reset(&cs);
    assert_int_equal(hp_quic_datagram(guarded(d, 9 * one), 9 * one, false, head.dcid, head.dcid_len, &cs), 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_keys_rfc),
        cmocka_unit_test(test_quic_captured_initials),
        cmocka_unit_test(test_quic_tampered),
        cmocka_unit_test(test_quic_peek),
        cmocka_unit_test(test_dtls_hello),
        cmocka_unit_test(test_msg_bounds),
        cmocka_unit_test(test_quic_coalesced_bound),
    };
    return cmocka_run_group_tests(tests, setup_guard, teardown_guard);
}
