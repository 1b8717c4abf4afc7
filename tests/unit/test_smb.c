/*
 * test_smb.c - unit tests for the SMB engine (src/proto/smb*.c), driven
 * without a socket through hp_smb_input(); events are caught with the
 * output tap.
 *
 * SPNEGO token extraction (raw, negTokenInit, negTokenResp, hostile
 * lengths); the DoublePulsar key/opcode arithmetic and PE location; SMB2
 * NEGOTIATE picking 2.1; the SMB1 path nmap's smb-vuln-ms17-010 takes
 * (basic-security anonymous login, IPC$, PEEK_NMPIPE on FID 0 ->
 * STATUS_INSUFF_SERVER_RESOURCES); an SMB2 NTLM login + CREATE/WRITE/CLOSE
 * captured with the right sha256; one-byte writes past holes in many files
 * held to the connection's budget; srvsvc bind + NetShareEnumAll; a
 * DoublePulsar upload completed only by in-order chunks; garbage.
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
#include "event.h"
#include "output.h"
#include "proto/smb.h"
#include "proto/smb_int.h"

static char *evs[256];
static size_t nevs;

static void tap(struct hp_event *e, void *arg)
{
    (void)arg;
    if (nevs < 256)
        evs[nevs++] = strndup(e->json, e->json_len);
}

static void evs_reset(void)
{
    for (size_t i = 0; i < nevs; i++)
        free(evs[i]);
    nevs = 0;
}

static const char *ev_find(const char *id)
{
    char pat[96];
    snprintf(pat, sizeof(pat), "\"eventid\":\"%s\"", id);
    for (size_t i = 0; i < nevs; i++)
        if (strstr(evs[i], pat))
            return evs[i];
    return NULL;
}

static struct hp_evctx ctx = { .session = "000000000001", .protocol = "smb", .service = "smb", .transport = "tcp" };

static void p16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void p32(uint8_t *p, uint32_t v) { p16(p, (uint16_t)v); p16(p + 2, (uint16_t)(v >> 16)); }
static uint32_t g32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Feed one message; the reply (first NBSS frame payload) is left in out. */
static const uint8_t *feed(struct hp_smb *s, const uint8_t *m, size_t n, struct hp_buf *out)
{
    hp_buf_reset(out);
    assert_int_equal(hp_smb_input(s, m, n, out), 0);
    assert_true(out->len >= 4 + 32);
    return out->data + 4;
}

/* ---- SPNEGO and helpers ---- */

static void test_spnego(void **st)
{
    (void)st;
    const uint8_t *tok;
    size_t tl;
    static const uint8_t raw[] = "NTLMSSP\0\1\0\0\0";
    assert_int_equal(hp_smb_spnego_token(raw, sizeof(raw) - 1, &tok, &tl), 0);
    assert_ptr_equal(tok, raw);
    /* negTokenInit: 60 L 06 06 <spnego> a0 L 30 L a0 L 30 L 06 0a <ntlm> a2 L 04 L token */
    static const uint8_t init[] = { 0x60, 0x28, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02, 0xa0, 0x1e,
                                    0x30, 0x1c, 0xa0, 0x0e, 0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04,
                                    0x01, 0x82, 0x37, 0x02, 0x02, 0x0a, 0xa2, 0x0a, 0x04, 0x08, 'N', 'T',
                                    'L', 'M', 'S', 'S', 'P', 0 };
    assert_int_equal(hp_smb_spnego_token(init, sizeof(init), &tok, &tl), 0);
    assert_int_equal(tl, 8);
    assert_memory_equal(tok, "NTLMSSP", 8);
    static const uint8_t resp[] = { 0xa1, 0x0e, 0x30, 0x0c, 0xa2, 0x0a, 0x04, 0x08, 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0 };
    assert_int_equal(hp_smb_spnego_token(resp, sizeof(resp), &tok, &tl), 0);
    assert_int_equal(tl, 8);
    uint8_t bad[sizeof(init)];
    memcpy(bad, init, sizeof(init));
    bad[33] = 0x7f;                                     /* OCTET STRING longer than the input */
    assert_int_equal(hp_smb_spnego_token(bad, sizeof(bad), &tok, &tl), -1);
    static const uint8_t longlen[] = { 0xa1, 0x85, 1, 2, 3, 4, 5 };
    assert_int_equal(hp_smb_spnego_token(longlen, sizeof(longlen), &tok, &tl), -1);
    for (size_t n = 0; n < sizeof(init); n++)          /* every truncation fails cleanly */
        assert_int_equal(hp_smb_spnego_token(init, n, &tok, &tl), -1);
}

static void test_doublepulsar_math(void **st)
{
    (void)st;
    assert_int_equal(hp_smb_dp_key(0x11223344u), 0x66774499u);
    assert_int_equal(hp_smb_dp_opcode(0x23), 0x23);
    assert_int_equal(hp_smb_dp_opcode(0x01020304u), 0x0a);
    assert_int_equal(hp_smb_dp_opcode(0x00c80000u), 0xc8);
    uint8_t buf[600];
    memset(buf, 0x90, sizeof(buf));
    buf[10] = 'M';
    buf[11] = 'Z';                                      /* no PE header behind it */
    assert_int_equal(hp_smb_find_pe(buf, sizeof(buf)), -1);
    buf[100] = 'M';
    buf[101] = 'Z';
    p32(buf + 100 + 0x3c, 0x80);
    memcpy(buf + 100 + 0x80, "PE\0\0", 4);
    assert_int_equal(hp_smb_find_pe(buf, sizeof(buf)), 100);
    assert_int_equal(hp_smb_find_pe(buf, 150), -1);    /* header cut off */
}

/* ---- SMB2 ---- */

static size_t s2_hdr(uint8_t *m, uint16_t cmd, uint64_t mid, uint32_t tid)
{
    memset(m, 0, 64);
    memcpy(m, "\xfeSMB", 4);
    p16(m + 4, 64);
    p16(m + 12, cmd);
    p16(m + 14, 1);
    p32(m + 24, (uint32_t)mid);
    p32(m + 36, tid);
    return 64;
}

static void test_smb2_negotiate(void **st)
{
    (void)st;
    evs_reset();
    struct hp_smb_opts o = { NULL, 0 };
    struct hp_smb *s = hp_smb_new(&ctx, &o);
    struct hp_buf out;
    hp_buf_init(&out, 1 << 20);
    uint8_t m[128];
    size_t n = s2_hdr(m, 0, 0, 0);
    memset(m + n, 0, 36);
    p16(m + n, 36);
    p16(m + n + 2, 3);
    n += 36;
    p16(m + n, 0x0202);
    p16(m + n + 2, 0x0210);
    p16(m + n + 4, 0x0311);
    n += 6;
    const uint8_t *r = feed(s, m, n, &out);
    assert_memory_equal(r, "\xfeSMB", 4);
    assert_int_equal(g32(r + 8), 0);
    assert_int_equal(g16(r + 64), 65);
    assert_int_equal(g16(r + 64 + 4), 0x0210);
    const char *e = ev_find("smb.negotiate");
    assert_non_null(e);
    assert_non_null(strstr(e, "\"dialect\":\"2.1.0\""));
    assert_non_null(strstr(e, "\"3.1.1\""));
    /* a session setup with no NTLMSSP inside is refused, not crashed on */
    n = s2_hdr(m, 1, 1, 0);
    memset(m + n, 0, 24);
    p16(m + n, 25);
    p16(m + n + 12, 88);
    p16(m + n + 14, 4);
    memcpy(m + n + 24, "\x60\x02\x06\x00", 4);
    r = feed(s, m, n + 28, &out);
    assert_int_not_equal(g32(r + 8), 0);
    hp_buf_free(&out);
    hp_smb_free(s);
}

/* NTLMSSP NEGOTIATE / AUTHENTICATE (NTLMv1-sized responses) for user "u", domain "D". */
static size_t ntlm_negotiate(uint8_t *p)
{
    memset(p, 0, 32);
    memcpy(p, "NTLMSSP", 8);
    p32(p + 8, 1);
    p32(p + 12, 0x00088207u);
    return 32;
}

static size_t ntlm_auth(uint8_t *p)
{
    memset(p, 0, 200);
    memcpy(p, "NTLMSSP", 8);
    p32(p + 8, 3);
    size_t at = 64;
    struct { size_t len; const char *data; } f[6] = {
        { 24, "LLLLLLLLLLLLLLLLLLLLLLLL" }, { 24, "NNNNNNNNNNNNNNNNNNNNNNNN" },
        { 2, "D\0" }, { 2, "u\0" }, { 4, "W\0S\0" }, { 0, "" } };
    for (int i = 0; i < 6; i++) {
        p16(p + 12 + 8 * i, (uint16_t)f[i].len);
        p16(p + 14 + 8 * i, (uint16_t)f[i].len);
        p32(p + 16 + 8 * i, (uint32_t)at);
        memcpy(p + at, f[i].data, f[i].len);
        at += f[i].len;
    }
    p32(p + 60, 0x00008201u);
    return at;
}

static size_t s2_session_setup(uint8_t *m, uint64_t mid, const uint8_t *tok, size_t tl)
{
    size_t n = s2_hdr(m, 1, mid, 0);
    memset(m + n, 0, 24);
    p16(m + n, 25);
    p16(m + n + 12, 88);
    p16(m + n + 14, (uint16_t)tl);
    memcpy(m + 88, tok, tl);
    return 88 + tl;
}

static size_t s2_utf16(uint8_t *p, const char *s)
{
    size_t k = 0;
    for (; *s; s++, k += 2) {
        p[k] = (uint8_t)*s;
        p[k + 1] = 0;
    }
    return k;
}

static uint32_t s2_tree(struct hp_smb *s, struct hp_buf *out, const char *path)
{
    uint8_t m[256];
    size_t n = s2_hdr(m, 3, 3, 0);
    memset(m + n, 0, 8);
    p16(m + n, 9);
    p16(m + n + 4, 72);
    size_t pl = s2_utf16(m + 72, path);
    p16(m + n + 6, (uint16_t)pl);
    const uint8_t *r = feed(s, m, 72 + pl, out);
    assert_int_equal(g32(r + 8), 0);
    return g32(r + 36);
}

static uint64_t s2_create(struct hp_smb *s, struct hp_buf *out, uint32_t tid, const char *name)
{
    uint8_t m[256];
    size_t n = s2_hdr(m, 5, 4, tid);
    memset(m + n, 0, 56);
    p16(m + n, 57);
    p32(m + n + 36, 5);                                 /* OVERWRITE_IF */
    p16(m + n + 44, 120);
    size_t nl = s2_utf16(m + 120, name);
    p16(m + n + 46, (uint16_t)nl);
    const uint8_t *r = feed(s, m, 120 + nl, out);
    assert_int_equal(g32(r + 8), 0);
    return (uint64_t)g32(r + 64 + 64) | (uint64_t)g32(r + 64 + 68) << 32;
}

static void s2_write(struct hp_smb *s, struct hp_buf *out, uint32_t tid, uint64_t fid, const void *d, size_t len,
                     uint32_t off)
{
    uint8_t m[512];
    size_t n = s2_hdr(m, 9, 5, tid);
    memset(m + n, 0, 48);
    p16(m + n, 49);
    p16(m + n + 2, 112);
    p32(m + n + 4, (uint32_t)len);
    p32(m + n + 8, off);
    p32(m + n + 16, (uint32_t)fid);
    p32(m + n + 20, (uint32_t)(fid >> 32));
    p32(m + n + 24, (uint32_t)fid);
    memcpy(m + 112, d, len);
    const uint8_t *r = feed(s, m, 112 + len, out);
    assert_int_equal(g32(r + 8), 0);
}

static const uint8_t *s2_read(struct hp_smb *s, struct hp_buf *out, uint32_t tid, uint64_t fid)
{
    uint8_t m[128];
    size_t n = s2_hdr(m, 8, 6, tid);
    memset(m + n, 0, 49);
    p16(m + n, 49);
    p32(m + n + 4, 4280);
    p32(m + n + 16, (uint32_t)fid);
    p32(m + n + 20, (uint32_t)(fid >> 32));
    return feed(s, m, n + 49, out);
}

static void s2_close(struct hp_smb *s, struct hp_buf *out, uint32_t tid, uint64_t fid)
{
    uint8_t m[128];
    size_t n = s2_hdr(m, 6, 7, tid);
    memset(m + n, 0, 24);
    p16(m + n, 24);
    p32(m + n + 8, (uint32_t)fid);
    p32(m + n + 12, (uint32_t)(fid >> 32));
    const uint8_t *r = feed(s, m, n + 24, out);
    assert_int_equal(g32(r + 8), 0);
}

static struct hp_smb *s2_login(struct hp_buf *out)
{
    struct hp_smb_opts o = { NULL, 1024 };
    struct hp_smb *s = hp_smb_new(&ctx, &o);
    uint8_t m[512], t[256];
    size_t n = s2_hdr(m, 0, 0, 0);
    memset(m + n, 0, 36);
    p16(m + n, 36);
    p16(m + n + 2, 1);
    p16(m + n + 36, 0x0202);
    feed(s, m, n + 38, out);
    size_t tl = ntlm_negotiate(t);
    const uint8_t *r = feed(s, m, s2_session_setup(m, 1, t, tl), out);
    assert_int_equal(g32(r + 8), 0xC0000016u);
    assert_memory_equal(r + 64 + 8, "NTLMSSP", 8);      /* raw in, raw out */
    tl = ntlm_auth(t);
    r = feed(s, m, s2_session_setup(m, 2, t, tl), out);
    assert_int_equal(g32(r + 8), 0);
    assert_int_equal(g16(r + 66), 1);                   /* guest */
    return s;
}

static void test_smb2_login_write(void **st)
{
    (void)st;
    evs_reset();
    struct hp_buf out;
    hp_buf_init(&out, 1 << 20);
    struct hp_smb *s = s2_login(&out);
    const char *e = ev_find("login.success");
    assert_non_null(e);
    assert_non_null(strstr(e, "\"username\":\"u\""));
    assert_non_null(strstr(e, "\"domain\":\"D\""));
    assert_non_null(strstr(e, "\"hash_format\":\"hashcat:5500\""));
    uint32_t tid = s2_tree(s, &out, "\\\\host\\Users");
    uint64_t fid = s2_create(s, &out, tid, "dir\\x.exe");
    s2_write(s, &out, tid, fid, "hello", 5, 0);
    s2_close(s, &out, tid, fid);
    e = ev_find("smb.file_write");
    assert_non_null(e);
    /* sha256("hello") */
    assert_non_null(strstr(e, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
    assert_non_null(strstr(e, "\"filename\":\"dir\\\\x.exe\""));
    assert_non_null(ev_find("session.file_upload"));
    /* the size cap (1024 here) cuts the kept bytes, not the reported size */
    evs_reset();
    fid = s2_create(s, &out, tid, "big.bin");
    static uint8_t big[300];
    memset(big, 'A', sizeof(big));
    for (int i = 0; i < 5; i++)
        s2_write(s, &out, tid, fid, big, sizeof(big), (uint32_t)(i * 300));
    s2_close(s, &out, tid, fid);
    e = ev_find("session.file_upload");
    assert_non_null(e);
    assert_non_null(strstr(e, "\"stored_size\":1024"));
    /* the share root lists "." and ".." once, then STATUS_NO_MORE_FILES */
    uint64_t dir = s2_create(s, &out, tid, "");
    for (int round = 0; round < 2; round++) {
        uint8_t m[128];
        size_t n = s2_hdr(m, 14, 8, tid);
        memset(m + n, 0, 33);
        p16(m + n, 33);
        m[n + 2] = 37;                                  /* FileIdBothDirectoryInformation */
        p32(m + n + 8, (uint32_t)dir);
        p32(m + n + 12, (uint32_t)(dir >> 32));
        p32(m + n + 28, 65536);
        const uint8_t *r = feed(s, m, n + 33, &out);
        assert_int_equal(g32(r + 8), round ? 0x80000006u : 0);
        if (!round)
            assert_int_equal(g32(r + 68), 104 + 8 + 104 + 4);   /* ".": 106 -> 112, "..": 108 */
    }
    hp_buf_free(&out);
    hp_smb_free(s);
}

/* Holes count against the connection's budget (2 x max_file, 1024 here): one
 * byte at max_file - 1 in each of 16 open files kept 16 x max_file of zeros. */
static void test_smb2_sparse_budget(void **st)
{
    (void)st;
    evs_reset();
    struct hp_buf out;
    hp_buf_init(&out, 1 << 20);
    struct hp_smb *s = s2_login(&out);
    uint32_t tid = s2_tree(s, &out, "\\\\host\\Users");
    for (int i = 0; i < 16; i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%d.bin", i);
        uint64_t fid = s2_create(s, &out, tid, name);
        s2_write(s, &out, tid, fid, "x", 1, 1023);
    }
    size_t kept = 0;
    for (size_t i = 0; i < SMB_MAX_FILES; i++)
        if (s->files[i].used) {
            kept += s->files[i].len;
            assert_true(s->files[i].size == 1024);       /* the size the peer wrote is still reported */
        }
    assert_true(kept <= 2 * 1024);
    hp_buf_free(&out);
    hp_smb_free(s);
    evs_reset();
}

static void test_smb2_srvsvc(void **st)
{
    (void)st;
    evs_reset();
    struct hp_buf out;
    hp_buf_init(&out, 1 << 20);
    struct hp_smb *s = s2_login(&out);
    uint32_t tid = s2_tree(s, &out, "\\\\host\\IPC$");
    uint64_t fid = s2_create(s, &out, tid, "srvsvc");
    /* bind: srvsvc v3.0 with NDR */
    uint8_t b[72] = { 5, 0, 11, 3, 0x10, 0, 0, 0, 72, 0, 0, 0, 1, 0, 0, 0, 0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0,
                      1, 0, 0, 0, 0, 0, 1, 0,
                      0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01, 0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88,
                      3, 0, 0, 0,
                      0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60,
                      2, 0, 0, 0 };
    s2_write(s, &out, tid, fid, b, sizeof(b), 0);
    const uint8_t *r = s2_read(s, &out, tid, fid);
    assert_int_equal(g32(r + 8), 0);
    const uint8_t *pdu = r + 0x50;
    assert_int_equal(pdu[2], 12);                       /* bind_ack */
    /* NetShareEnumAll level 1: NULL server name, level 1, container, max len, resume */
    uint8_t q[24 + 28];
    memset(q, 0, sizeof(q));
    memcpy(q, "\x05\x00\x00\x03\x10\x00\x00\x00", 8);
    p16(q + 8, sizeof(q));
    p32(q + 12, 2);
    p16(q + 22, 15);
    p32(q + 28, 1);
    p32(q + 32, 1);
    p32(q + 36, 0x20000);
    s2_write(s, &out, tid, fid, q, sizeof(q), 0);
    r = s2_read(s, &out, tid, fid);
    assert_int_equal(g32(r + 8), 0);
    pdu = r + 0x50;
    assert_int_equal(pdu[2], 2);                        /* response */
    size_t len = g32(r + 64 + 4);
    static const uint8_t ipc[] = { 'I', 0, 'P', 0, 'C', 0, '$', 0 };
    assert_non_null(memmem(pdu, len, ipc, sizeof(ipc)));
    assert_int_equal(g32(pdu + len - 4), 0);            /* WERR_OK */
    const char *e = ev_find("smb.pipe");
    assert_non_null(e);
    assert_non_null(strstr(e, "srvsvc"));
    /* Requests written and never read: the pending replies stay bounded
     * (found by fuzz_smb_rpc; it grew by ~400 bytes per 52-byte write). */
    for (int i = 0; i < 400; i++)
        s2_write(s, &out, tid, fid, q, sizeof(q), 0);
    struct smb_file *f = smb_file_get(s, fid);
    assert_non_null(f);
    assert_true(f->pipe_len > 0 && f->pipe_len <= SMB_PIPE_OUT_MAX);
    hp_buf_free(&out);
    hp_smb_free(s);
}

/* ---- SMB1: the MS17-010 check as nmap sends it ---- */

static size_t s1_msg(uint8_t *m, uint8_t cmd, uint16_t tid, uint16_t uid, const uint8_t *w, size_t wl,
                     const uint8_t *d, size_t dl)
{
    memset(m, 0, 32);
    memcpy(m, "\xffSMB", 4);
    m[4] = cmd;
    m[9] = 0x18;
    p16(m + 10, 0x4001);
    p16(m + 24, tid);
    p16(m + 28, uid);
    p16(m + 30, 7);
    m[32] = (uint8_t)(wl / 2);
    if (wl)
        memcpy(m + 33, w, wl);
    p16(m + 33 + wl, (uint16_t)dl);
    if (dl)
        memcpy(m + 35 + wl, d, dl);
    return 35 + wl + dl;
}

static void test_smb1_ms17_010(void **st)
{
    (void)st;
    evs_reset();
    struct hp_smb_opts o = { NULL, 0 };
    struct hp_smb *s = hp_smb_new(&ctx, &o);
    struct hp_buf out;
    hp_buf_init(&out, 1 << 20);
    uint8_t m[512], w[64];
    static const uint8_t dial[] = "\x02PC NETWORK PROGRAM 1.0\0\x02NT LM 0.12";
    const uint8_t *r = feed(s, m, s1_msg(m, 0x72, 0, 0, NULL, 0, dial, sizeof(dial)), &out);
    assert_int_equal(r[4], 0x72);
    assert_int_equal(r[32], 17);
    assert_int_equal(g16(r + 33), 1);                   /* "NT LM 0.12" is index 1 */
    assert_int_equal(r[33 + 33], 8);                    /* challenge length (basic security) */
    memset(w, 0, 26);
    w[0] = 0xff;
    w[14] = 1;                                          /* 1-byte OEM password */
    r = feed(s, m, s1_msg(m, 0x73, 0, 0, w, 26, (const uint8_t *)"\0\0\0\0\0", 5), &out);
    assert_int_equal(g32(r + 5), 0);
    uint16_t uid = g16(r + 28);
    const char *e = ev_find("login.success");
    assert_non_null(e);
    memset(w, 0, 8);
    w[0] = 0xff;
    w[6] = 1;
    static const uint8_t path[] = "\0\\\\10.0.0.1\\IPC$\0?????";
    r = feed(s, m, s1_msg(m, 0x75, 0, uid, w, 8, path, sizeof(path)), &out);
    assert_int_equal(g32(r + 5), 0);
    uint16_t tid = g16(r + 24);
    assert_true(tid != 0);
    /* TRANS with setup PEEK_NMPIPE (0x23), FID 0 */
    memset(w, 0, 32);
    p16(w + 4, 0xffff);
    p16(w + 6, 0xffff);
    p16(w + 20, 0x4a);
    p16(w + 24, 0x4a);
    w[26] = 2;
    p16(w + 28, 0x23);
    r = feed(s, m, s1_msg(m, 0x25, tid, uid, w, 32, (const uint8_t *)"\\PIPE\\", 7), &out);
    assert_int_equal(r[4], 0x25);
    assert_int_equal(g32(r + 5), 0xC0000205u);
    const char *probe = ev_find("smb.ms17_010_probe");
    assert_non_null(probe);
    /* ranked with the other exploit attempts (event.h HP_ATTACK_EVENTS_SQL) */
    assert_non_null(strstr(probe, "\"attack_classes\":[\"recon\"],\"cves\":[\"CVE-2017-0143\"]"));
    /* before login: refused */
    struct hp_smb *s2 = hp_smb_new(&ctx, &o);
    assert_int_equal(hp_smb_input(s2, m, s1_msg(m, 0x25, tid, uid, w, 32, NULL, 0), &out), -1);
    hp_smb_free(s2);
    hp_buf_free(&out);
    hp_smb_free(s);
}

/* NEGOTIATE (NT LM 0.12) and a basic-security login; returns the UID. */
static uint16_t s1_login(struct hp_smb *s, uint8_t *m, struct hp_buf *out)
{
    uint8_t w[32];
    static const uint8_t dial[] = "\x02NT LM 0.12";
    feed(s, m, s1_msg(m, 0x72, 0, 0, NULL, 0, dial, sizeof(dial)), out);
    memset(w, 0, 26);
    w[0] = 0xff;
    w[14] = 1;
    const uint8_t *r = feed(s, m, s1_msg(m, 0x73, 0, 0, w, 26, (const uint8_t *)"\0\0\0\0\0", 5), out);
    assert_int_equal(g32(r + 5), 0);
    return g16(r + 28);
}

/* One DoublePulsar exec request: TRANS2 SESSION_SETUP, Timeout bytes summing
 * to 0xc8, XOR-encoded (total, chunk, offset) and a chunk of n bytes. */
static void s1_dp_exec(struct hp_smb *s, uint8_t *m, struct hp_buf *out, uint16_t uid, uint32_t total,
                       uint32_t off, const uint8_t *chunk, uint32_t n)
{
    uint32_t k = hp_smb_dp_key(s->dp_sig);
    uint8_t w[30], d[3 + 12 + 64];
    memset(w, 0, sizeof(w));
    p16(w + 0, 12);
    p16(w + 2, (uint16_t)n);
    p32(w + 12, 0xc8);                                  /* Timeout: opcode 0xc8 (exec) */
    p16(w + 18, 12);
    p16(w + 20, 68);                                    /* after the header, words, count, 3 pad */
    p16(w + 22, (uint16_t)n);
    p16(w + 24, 80);
    w[26] = 1;
    p16(w + 28, 0x000e);                                /* SESSION_SETUP */
    memset(d, 0, sizeof(d));
    p32(d + 3, total ^ k);
    p32(d + 7, n ^ k);
    p32(d + 11, off ^ k);
    for (uint32_t i = 0; i < n; i++)
        d[15 + i] = chunk[i] ^ (uint8_t)(k >> (8 * (i % 4)));
    feed(s, m, s1_msg(m, 0x32, 0, uid, w, sizeof(w), d, 15 + n), out);
}

/* A DoublePulsar upload completes only when its bytes came: one chunk at the
 * end of a 1 MiB "total" hashed and reported 1 MiB of zeros as the payload. */
static void test_doublepulsar_gap(void **st)
{
    (void)st;
    struct hp_smb_opts o = { NULL, 1u << 20 };
    struct hp_buf out;
    hp_buf_init(&out, 1 << 20);
    uint8_t m[512], chunk[16];
    memset(chunk, 0xcc, sizeof(chunk));
    evs_reset();
    struct hp_smb *s = hp_smb_new(&ctx, &o);
    uint16_t uid = s1_login(s, m, &out);
    s1_dp_exec(s, m, &out, uid, 1u << 20, (1u << 20) - 16, chunk, 16);
    assert_null(ev_find("smb.doublepulsar"));
    assert_null(ev_find("session.file_download"));
    hp_smb_free(s);
    /* in order (a resend overlapping) it completes */
    evs_reset();
    s = hp_smb_new(&ctx, &o);
    uid = s1_login(s, m, &out);
    s1_dp_exec(s, m, &out, uid, 32, 16, chunk, 16);
    s1_dp_exec(s, m, &out, uid, 32, 0, chunk, 16);
    s1_dp_exec(s, m, &out, uid, 32, 8, chunk, 16);
    assert_null(ev_find("smb.doublepulsar"));
    s1_dp_exec(s, m, &out, uid, 32, 16, chunk, 16);
    const char *e = ev_find("smb.doublepulsar");
    assert_non_null(e);
    assert_non_null(strstr(e, "\"payload_size\":32"));
    assert_non_null(strstr(e, "\"chunks\":3"));
    hp_smb_free(s);
    hp_buf_free(&out);
    evs_reset();
}

static void test_garbage(void **st)
{
    (void)st;
    struct hp_smb_opts o = { NULL, 4096 };
    struct hp_buf out;
    hp_buf_init(&out, 1 << 20);
    srand(7);
    for (int round = 0; round < 2000; round++) {
        struct hp_smb *s = hp_smb_new(&ctx, &o);
        uint8_t m[300];
        size_t n = (size_t)(rand() % (int)sizeof(m));
        for (size_t i = 0; i < n; i++)
            m[i] = (uint8_t)rand();
        if (n >= 4)
            memcpy(m, round & 1 ? "\xfeSMB" : "\xffSMB", 4);
        if (n > 12 && (round & 2))
            m[round & 1 ? 12 : 4] = (uint8_t)(round & 1 ? 0 : 0x72);
        hp_buf_reset(&out);
        (void)hp_smb_input(s, m, n, &out);
        (void)hp_smb_input(s, m, n, &out);
        hp_smb_free(s);
    }
    hp_buf_free(&out);
    evs_reset();
}

int main(void)
{
    hp_output_set_tap(tap, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spnego),
        cmocka_unit_test(test_doublepulsar_math),
        cmocka_unit_test(test_smb2_negotiate),
        cmocka_unit_test(test_smb2_login_write),
        cmocka_unit_test(test_smb2_sparse_budget),
        cmocka_unit_test(test_smb2_srvsvc),
        cmocka_unit_test(test_smb1_ms17_010),
        cmocka_unit_test(test_doublepulsar_gap),
        cmocka_unit_test(test_garbage),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    evs_reset();
    return rc;
}
