/*
 * test_tlsfp.c - JA3 / JA3S / JA4 and the fingerprint name tables.
 *
 * Expected values never come from this code: they are the spec vectors of
 * salesforce/ja3 and FoxIO's JA4.md (../shared/testdata/fingerprints/
 * spec-vectors.tsv: ClientHellos are built here from those lists) and the
 * values tshark 4.4.18 computed for real hellos from the FoxIO captures
 * (tshark-4.4.18-reference.tsv; the bytes below are those frames' TCP
 * payloads).  Hellos are also fed split across records and byte by byte,
 * and hostile inputs sit against a PROT_NONE page so an overread faults.
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

#include "intel/tlsfp.h"
#include "intel/fpnames.h"
#include "guard_page.h"
#include "unhex.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- real hellos (tshark reference rows in the comments) ------------------------ */

/* tls-non-ascii-alpn.pcapng frame 1: JA3 1c258ebef8eee2dfa3df6d8d07285af9,
 * JA4 t13d1516bd_8daaf6152771_e5627efa2ab1 (first ALPN value 0xBA 0xAD). */
static const char CH_NONASCII_ALPN[] =
    "1603010200010001fc03030f9e38acb9a54a7c6e00e29a70ac2feee180ff76d7f25dca84932a66a42d1e5a20bc58b92f"
    "865e6b9aa4a6371cadcb0afe1da1c0f705209a11d52357f56d5dd9620020aaaa130113021303c02bc02fc02cc030cca9"
    "cca8c013c014009c009d002f0035010001939a9a0000ff010001000033002b00290a0a000100001d0020cf55af2603e9"
    "2f59eb321779706a18fa6b96b16c16404c2264ed687a59401878002d0002010100050005010000000044690005000302"
    "6832000d00120010040308040401050308050501080606010010000e000c02baad08687474702f312e3100230000001b"
    "0003020002002b0007060a0a0304030300000022002000001d636c69656e7473657276696365732e676f6f676c656170"
    "69732e636f6d00120000000a000a00080a0a001d0017001800170000000b000201006a6a000100001500ba0000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000000000000000"
    ;
/* frame 2, the ServerHello record only: JA3S eb1d94daa7e0344597e756a1fb6e7054 "771,4865,51-43" */
static const char SH_NONASCII_ALPN[] =
    "160303007a020000760303897c232e3ee313314f2b662307ff4f7e2cf1caeec1b27711bca77f469519168520bc58b92f"
    "865e6b9aa4a6371cadcb0afe1da1c0f705209a11d52357f56d5dd962130100002e00330024001d002076b8b7ed0f96b6"
    "3a773d85ab6f3a87a151c130529785b41a4defb53184055957002b00020304"
    ;
/* latest.pcapng frame 75 (TLS 1.2, no ALPN): JA3 a0e9f5d64349fb13191bc781f81f42e1,
 * JA4 t12d190800_d83cc789557e_7af1ed941c26 */
static const char CH_LATEST_75[] =
    "16030300b8010000b4030364960ddb84e92e8d5a9be477e2f7112257269dc742143793732813c25ec65af0000026c02c"
    "c02bc030c02fc024c023c028c027c00ac009c014c013009d009c003d003c0035002f000a010000650000001b00190000"
    "16646973636f766572792e63656d2e636c6f75642e7573000500050100000000000a00080006001d00170018000b0002"
    "0100000d001a00180804080508060401050102010403050302030202060106030023000000170000ff01000100"
    ;

/* ---- building ClientHellos from lists ---------------------------------------------- */

struct wb {
    uint8_t b[HP_TLS_HELLO_MAX + 64];
    size_t n;
};

static void w8(struct wb *w, unsigned v) { assert_true(w->n < sizeof(w->b)); w->b[w->n++] = (uint8_t)v; }
static void w16(struct wb *w, unsigned v) { w8(w, v >> 8); w8(w, v & 0xff); }
static void wbytes(struct wb *w, const void *p, size_t n)
{
    assert_true(w->n + n <= sizeof(w->b));
    if (n)
        memcpy(w->b + w->n, p, n);
    w->n += n;
}
/* Patch a 16-bit (or 24-bit) length at off to cover everything after it. */
static void wlen16(struct wb *w, size_t off) { size_t l = w->n - off - 2; w->b[off] = (uint8_t)(l >> 8); w->b[off + 1] = (uint8_t)l; }

struct ext { unsigned type; const uint8_t *body; size_t len; };

/* One handshake record holding a ClientHello. */
static void build_hello(struct wb *w, unsigned version, const unsigned *ciphers, size_t nc,
                        const struct ext *exts, size_t ne)
{
    size_t rec, hs, cl, el;
    w->n = 0;
    w8(w, 22); w16(w, 0x0301); rec = w->n; w16(w, 0);
    w8(w, 1); hs = w->n; w8(w, 0); w16(w, 0);
    w16(w, version);
    for (int i = 0; i < 32; i++) w8(w, i);
    w8(w, 0);                                   /* session id */
    cl = w->n; w16(w, 0);
    for (size_t i = 0; i < nc; i++) w16(w, ciphers[i]);
    wlen16(w, cl);
    w8(w, 1); w8(w, 0);                         /* compression: null */
    if (exts) {
        el = w->n; w16(w, 0);
        for (size_t i = 0; i < ne; i++) {
            w16(w, exts[i].type); w16(w, (unsigned)exts[i].len);
            wbytes(w, exts[i].body, exts[i].len);
        }
        wlen16(w, el);
    }
    wlen16(w, rec);
    size_t l = w->n - hs - 3;
    w->b[hs] = (uint8_t)(l >> 16); w->b[hs + 1] = (uint8_t)(l >> 8); w->b[hs + 2] = (uint8_t)l;
}

static int parse(const uint8_t *p, size_t n, struct hp_tls_hello *h)
{
    return hp_tls_client_hello(guarded(p, n), n, h);
}

/* ---- JA3 spec vectors ---------------------------------------------------------------- */

static const uint8_t SNI_EXAMPLE[] = { 0, 14, 0, 0, 11, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm' };
static const uint8_t GROUPS_232425[] = { 0, 6, 0, 23, 0, 24, 0, 25 };
static const uint8_t PF_0[] = { 1, 0 };

static void test_ja3_readme_vector(void **state)
{
    static const unsigned c[] = { 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4 };
    struct ext e[] = { { 0, SNI_EXAMPLE, sizeof(SNI_EXAMPLE) }, { 10, GROUPS_232425, sizeof(GROUPS_232425) },
                       { 11, PF_0, sizeof(PF_0) } };
    struct wb w;
    struct hp_tls_hello h;

    build_hello(&w, 769, c, NELEM(c), e, NELEM(e));
    assert_int_equal(parse(w.b, w.n, &h), 1);
    assert_string_equal(h.ja3_string, "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0");
    assert_string_equal(h.ja3, "ada70206e40642a3e4461f35503241d5");
    assert_false(h.ja3_truncated);
    assert_string_equal(h.sni, "example.com");
    assert_int_equal(h.hello_version, 769);
    assert_int_equal(h.record_version, 0x0301);
}

/* GREASE anywhere changes nothing (RFC 8701 values are dropped by the spec). */
static void test_ja3_grease_ignored(void **state)
{
    static const unsigned c[] = { 0x0a0a, 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4, 0xfafa };
    static const uint8_t groups[] = { 0, 8, 0x3a, 0x3a, 0, 23, 0, 24, 0, 25 };
    struct ext e[] = { { 0x1a1a, NULL, 0 }, { 0, SNI_EXAMPLE, sizeof(SNI_EXAMPLE) },
                       { 10, groups, sizeof(groups) }, { 11, PF_0, sizeof(PF_0) }, { 0xeaea, PF_0, 1 } };
    struct wb w;
    struct hp_tls_hello h;

    build_hello(&w, 769, c, NELEM(c), e, NELEM(e));
    assert_int_equal(parse(w.b, w.n, &h), 1);
    assert_string_equal(h.ja3, "ada70206e40642a3e4461f35503241d5");
}

/* No extensions at all: the empty fields keep their commas. */
static void test_ja3_no_extensions(void **state)
{
    static const unsigned c[] = { 4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99 };
    struct wb w;
    struct hp_tls_hello h;

    build_hello(&w, 769, c, NELEM(c), NULL, 0);
    assert_int_equal(parse(w.b, w.n, &h), 1);
    assert_string_equal(h.ja3_string, "769,4-5-10-9-100-98-3-6-19-18-99,,,");
    assert_string_equal(h.ja3, "de350869b8c85de67a350c8d186f11e6");
    /* JA4: TLS 1.0, no SNI, 11 ciphers, no extensions, no ALPN; the cipher
     * hash is sha256("0003,0004,...,0064")[:12] (computed with sha256sum) */
    assert_string_equal(h.ja4, "t10i110000_3609b414f052_000000000000");
}

/* ---- JA4 spec vectors (JA4.md worked example) -------------------------------------------- */

static const unsigned JA4_CIPHERS[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
                                        0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035 };
static const uint8_t SIGALGS[] = { 0, 16, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03,
                                   0x08, 0x05, 0x05, 0x01, 0x08, 0x06, 0x06, 0x01 };
static const uint8_t ALPN_H2[] = { 0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
static const uint8_t VERSIONS_13_12[] = { 6, 0x5a, 0x5a, 0x03, 0x04, 0x03, 0x03 };

/* The extension order of JA4.md's JA4_o example; with_sig selects whether
 * signature_algorithms (0x000d) carries its list. */
static size_t ja4_example_exts(struct ext *e, bool with_sig)
{
    static const unsigned order[] = { 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d,
                                      0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015 };
    size_t n = 0;
    for (size_t i = 0; i < NELEM(order); i++) {
        e[n] = (struct ext){ order[i], NULL, 0 };
        if (order[i] == 0x0000) { e[n].body = SNI_EXAMPLE; e[n].len = sizeof(SNI_EXAMPLE); }
        if (order[i] == 0x0010) { e[n].body = ALPN_H2; e[n].len = sizeof(ALPN_H2); }
        if (order[i] == 0x002b) { e[n].body = VERSIONS_13_12; e[n].len = sizeof(VERSIONS_13_12); }
        if (order[i] == 0x000d) {
            static const uint8_t none[] = { 0, 0 };
            e[n].body = with_sig ? SIGALGS : none;
            e[n].len = with_sig ? sizeof(SIGALGS) : sizeof(none);
        }
        n++;
    }
    return n;
}

static void test_ja4_worked_example(void **state)
{
    struct ext e[20];
    size_t ne = ja4_example_exts(e, true);
    struct wb w;
    struct hp_tls_hello h;

    build_hello(&w, 0x0303, JA4_CIPHERS, NELEM(JA4_CIPHERS), e, ne);
    assert_int_equal(parse(w.b, w.n, &h), 1);
    assert_string_equal(h.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
    assert_string_equal(h.alpn, "h2,http/1.1");
    assert_string_equal(h.versions, "0x0304,0x0303");
}

/* Without signature algorithms the extension hash has no trailing '_'. */
static void test_ja4_no_sigalgs(void **state)
{
    struct ext e[20];
    size_t ne = ja4_example_exts(e, false);
    struct wb w;
    struct hp_tls_hello h;

    /* 0x000d is there but empty: the vector's 14 extensions and no '_' */
    build_hello(&w, 0x0303, JA4_CIPHERS, NELEM(JA4_CIPHERS), e, ne);
    assert_int_equal(parse(w.b, w.n, &h), 1);
    assert_string_equal(h.ja4, "t13d1516h2_8daaf6152771_6d807ffa2a79");
}

static void test_ja4_alpn_table(void **state)
{
    static const struct { const char *in; size_t n; const char *out; } v[] = {
        { "\xab", 1, "ab" }, { "\x20", 1, "20" }, { "\xab\xcd", 2, "ad" }, { "\x20\x61", 2, "21" },
        { "\x30\xab", 2, "3b" }, { "\x61\x20", 2, "60" }, { "\x30\x31\xab\xcd", 4, "3d" },
        { "\x30\xab\xcd\x31", 4, "01" }, { "h2", 2, "h2" }, { "http/1.1", 8, "h1" }, { "", 0, "00" },
        { "x", 1, "xx" },
    };
    char out[3];
    for (size_t i = 0; i < NELEM(v); i++) {
        hp_ja4_alpn((const uint8_t *)v[i].in, v[i].n, out);
        assert_string_equal(out, v[i].out);
    }
    hp_ja4_alpn(NULL, 0, out);
    assert_string_equal(out, "00");
}

/* ---- real hellos -------------------------------------------------------------------------- */

static void test_real_client_hellos(void **state)
{
    static uint8_t b[4096];
    struct hp_tls_hello h;
    size_t n = unhex(CH_NONASCII_ALPN, b, sizeof(b));

    assert_int_equal(parse(b, n, &h), 1);
    assert_string_equal(h.ja3, "1c258ebef8eee2dfa3df6d8d07285af9");
    assert_string_equal(h.ja3_string, "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,"
                                      "65281-51-45-5-17513-13-16-35-27-43-0-18-10-23-11-21,29-23-24,0");
    assert_string_equal(h.ja4, "t13d1516bd_8daaf6152771_e5627efa2ab1");
    assert_string_equal(h.sni, "clientservices.googleapis.com");
    assert_string_equal(h.alpn, "\xba\xad,http/1.1");

    n = unhex(CH_LATEST_75, b, sizeof(b));
    assert_int_equal(parse(b, n, &h), 1);
    assert_string_equal(h.ja3, "a0e9f5d64349fb13191bc781f81f42e1");
    assert_string_equal(h.ja4, "t12d190800_d83cc789557e_7af1ed941c26");
    assert_string_equal(h.sni, "discovery.cem.cloud.us");
    assert_string_equal(h.alpn, "");
}

static void test_real_server_hello(void **state)
{
    static uint8_t b[4096];
    struct hp_tls_server_hello s;
    struct hp_tls_hello h;
    size_t n = unhex(SH_NONASCII_ALPN, b, sizeof(b));

    assert_int_equal(hp_tls_server_hello(guarded(b, n), n, &s), 1);
    assert_string_equal(s.ja3s, "eb1d94daa7e0344597e756a1fb6e7054");
    assert_string_equal(s.ja3s_string, "771,4865,51-43");
    assert_int_equal(s.selected_version, 0x0304);
    /* each parser refuses the other's message */
    assert_int_equal(parse(b, n, &h), -1);
    n = unhex(CH_LATEST_75, b, sizeof(b));
    assert_int_equal(hp_tls_server_hello(guarded(b, n), n, &s), -1);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(hp_tls_server_hello(guarded(b, i), i, &s), i >= 9 ? -1 : 0);
}

/* The span of a hello's records, and a HelloRetryRequest told from a ServerHello (RFC 8446 4.1.3). */
static void test_span_and_retry(void **state)
{
    static uint8_t b[4096];
    struct hp_tls_hello h;
    struct hp_tls_server_hello sh;
    size_t span = 0, n = unhex(CH_LATEST_75, b, sizeof(b));

    b[n] = 0x14;                                     /* a ChangeCipherSpec record after it */
    memcpy(b + n + 1, "\x03\x03\x00\x01\x01", 5);
    assert_int_equal(hp_tls_client_hello_span(guarded(b, n + 6), n + 6, &h, &span), 1);
    assert_int_equal(span, n);
    n = unhex(SH_NONASCII_ALPN, b, sizeof(b));
    assert_int_equal(hp_tls_server_hello(guarded(b, n), n, &sh), 1);
    assert_false(sh.hello_retry);
    static const uint8_t hrr[32] = {
        0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
        0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c };
    memcpy(b + 11, hrr, sizeof(hrr));                /* record 5 + handshake 4 + version 2 */
    assert_int_equal(hp_tls_server_hello(guarded(b, n), n, &sh), 1);
    assert_true(sh.hello_retry);
    assert_string_equal(sh.ja3s, "eb1d94daa7e0344597e756a1fb6e7054");
}

/* ---- framing: prefixes, records, hostile input ---------------------------------------------- */

/* Every proper prefix asks for more; the whole answers. */
static void test_prefixes(void **state)
{
    static uint8_t b[4096];
    struct hp_tls_hello h;
    size_t n = unhex(CH_NONASCII_ALPN, b, sizeof(b));

    for (size_t i = 0; i < n; i++)
        assert_int_equal(parse(b, i, &h), 0);
    assert_int_equal(parse(b, n, &h), 1);
    /* bytes after the hello (the next record) change nothing */
    memset(b + n, 0x17, 40);
    assert_int_equal(parse(b, n + 40, &h), 1);
    assert_string_equal(h.ja4, "t13d1516bd_8daaf6152771_e5627efa2ab1");
}

/* The same hello cut into handshake records of 1..200 bytes. */
static void test_split_records(void **state)
{
    static uint8_t b[4096], r[16384];
    struct hp_tls_hello h;
    size_t n = unhex(CH_NONASCII_ALPN, b, sizeof(b));
    const uint8_t *msg = b + 5;
    size_t mlen = n - 5;

    for (size_t piece = 1; piece <= 200; piece += 7) {
        size_t rn = 0;
        for (size_t off = 0; off < mlen; off += piece) {
            size_t k = mlen - off < piece ? mlen - off : piece;
            r[rn++] = 22; r[rn++] = 3; r[rn++] = 1; r[rn++] = (uint8_t)(k >> 8); r[rn++] = (uint8_t)k;
            memcpy(r + rn, msg + off, k);
            rn += k;
        }
        assert_int_equal(parse(r, rn, &h), 1);
        assert_string_equal(h.ja3, "1c258ebef8eee2dfa3df6d8d07285af9");
        assert_string_equal(h.ja4, "t13d1516bd_8daaf6152771_e5627efa2ab1");
        assert_int_equal(parse(r, rn - 1, &h), 0);
    }
}

static void test_not_tls(void **state)
{
    struct hp_tls_hello h;
    static const struct { const char *s; size_t n; } v[] = {
        { "GET / HTTP/1.1\r\n", 16 }, { "SSH-2.0-x\r\n", 11 }, { "\x16\x02", 2 }, { "\x17\x03\x03\x00\x10", 5 },
        { "\x16\x03\x01\x00\x00", 5 },                       /* empty record */
        { "\x16\x03\x01\x00\x04\x02\x00\x00\x00", 9 },       /* a ServerHello */
    };
    for (size_t i = 0; i < NELEM(v); i++)
        assert_int_equal(parse((const uint8_t *)v[i].s, v[i].n, &h), -1);
    /* a hello that claims more than the parser will ever look at */
    assert_int_equal(parse((const uint8_t *)"\x16\x03\x01\x40\x00\x01\x01\x00\x00", 9, &h), -1);
    /* a stream that never finishes the hello is given up at HP_TLS_HELLO_MAX */
    static uint8_t big[HP_TLS_HELLO_MAX + 16];
    memset(big, 0, sizeof(big));
    memcpy(big, "\x16\x03\x01\x3f\xf0\x01\x00\x3f\xf0", 9);
    assert_int_equal(parse(big, 5000, &h), 0);
    assert_int_equal(parse(big, sizeof(big), &h), -1);
}

/* Damaged hellos: every one-byte change and every cut must stay in bounds. */
static void test_mutations(void **state)
{
    static uint8_t b[4096], m[4096];
    struct hp_tls_hello h;
    struct hp_tls_server_hello s;
    size_t n = unhex(CH_NONASCII_ALPN, b, sizeof(b));

    srand(7);
    for (size_t i = 0; i < n; i++) {
        static const uint8_t vals[] = { 0x00, 0xff, 0x01, 0x80, 0x7f };
        for (size_t k = 0; k < NELEM(vals) + 1; k++) {
            memcpy(m, b, n);
            m[i] = k < NELEM(vals) ? vals[k] : (uint8_t)rand();
            int rc = parse(m, n, &h);
            assert_true(rc >= -1 && rc <= 1);
            if (rc == 1) {
                assert_int_equal(strlen(h.ja3), 32);
                assert_true(strlen(h.ja4) >= 36);
            }
            rc = hp_tls_server_hello(guarded(m, n), n, &s);
            assert_true(rc >= -1 && rc <= 1);
        }
    }
}

/* A hello of thousands of ciphers: the JA3 copy is cut, its hash is not. */
static void test_long_ja3(void **state)
{
    static unsigned c[4000];
    static struct wb w;
    struct hp_tls_hello h;

    for (size_t i = 0; i < NELEM(c); i++)
        c[i] = 0x1000 + (unsigned)i;
    build_hello(&w, 0x0303, c, NELEM(c), NULL, 0);
    assert_int_equal(parse(w.b, w.n, &h), 1);
    assert_true(h.ja3_truncated);
    assert_int_equal(strlen(h.ja3_string), sizeof(h.ja3_string) - 1);
    assert_int_equal(strlen(h.ja3), 32);
    assert_memory_equal(h.ja4, "t12i990000_", 11);
}

/* ---- names ----------------------------------------------------------------------------- */

static void test_fpnames(void **state)
{
    /* first rows of the salesforce lists (data/fingerprints/) */
    assert_string_equal(hp_fpname(HP_FP_JA3, "61d50e7771aee7f2f4b89a7200b4d45e"), "AcroCEF");
    assert_string_equal(hp_fpname(HP_FP_JA3, "61D50E7771AEE7F2F4B89A7200B4D45E"), "AcroCEF");
    assert_string_equal(hp_fpname(HP_FP_JA3, "eb149984fc9c44d85ed7f12c90d818be"), "Amazon Music,Dreamweaver,Spotify");
    assert_non_null(strstr(hp_fpname(HP_FP_HASSH, "e22efe3cde8b396b874c3f13fdb6c61a"), "dropbear 2018.76"));
    assert_null(hp_fpname(HP_FP_HASSHSERVER, "e22efe3cde8b396b874c3f13fdb6c61a"));
    assert_null(hp_fpname(HP_FP_JA3, "00000000000000000000000000000000"));
    assert_null(hp_fpname(HP_FP_JA3, ""));
    assert_null(hp_fpname(HP_FP_JA3, NULL));
    assert_null(hp_fpname(HP_FP_NKINDS, "x"));
    char longkey[200];
    memset(longkey, 'a', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    assert_null(hp_fpname(HP_FP_JA4, longkey));
    assert_true(hp_fpname_count(HP_FP_JA3) >= 150);
    assert_true(hp_fpname_count(HP_FP_HASSH) >= 20);
    /* ja4.tsv: a row of FoxIO's mapping, and a measured row that names FoxIO's entry after its own */
    assert_string_equal(hp_fpname(HP_FP_JA4, "t12d210700_76e208dd3e22_16bbda4055b2"),
                        "Cobalt Strike v4.9.1 beacon, Windows 10 winhttp (FoxIO)");
    const char *go = hp_fpname(HP_FP_JA4, "t13d190900_9dc949149365_97f8aa674fd9");
    assert_non_null(go);
    assert_true(strncmp(go, "Go 1.19 net/http", 16) == 0 && strstr(go, "Sliver Agent") != NULL);
    assert_true(hp_fpname_count(HP_FP_JA4) >= 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ja3_readme_vector),
        cmocka_unit_test(test_ja3_grease_ignored),
        cmocka_unit_test(test_ja3_no_extensions),
        cmocka_unit_test(test_ja4_worked_example),
        cmocka_unit_test(test_ja4_no_sigalgs),
        cmocka_unit_test(test_ja4_alpn_table),
        cmocka_unit_test(test_real_client_hellos),
        cmocka_unit_test(test_span_and_retry),
        cmocka_unit_test(test_real_server_hello),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_split_records),
        cmocka_unit_test(test_not_tls),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_long_ja3),
        cmocka_unit_test(test_fpnames),
    };
    return cmocka_run_group_tests(tests, setup_guard, teardown_guard);
}
