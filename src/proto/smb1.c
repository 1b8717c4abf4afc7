/*
 * smb1.c - SMB1 (NT LM 0.12) as an unpatched Windows 7 / 2008 R2 answers it.
 *
 * Served: NEGOTIATE (extended security with a SPNEGO hint, or the basic
 * challenge form nmap's smbbasic uses), SESSION_SETUP_ANDX (NTLMSSP raw or
 * in SPNEGO, and LM/NT challenge-response), TREE_CONNECT_ANDX, NT_CREATE_ANDX,
 * WRITE_ANDX / READ_ANDX / CLOSE, TRANSACTION (named pipe transact and the
 * MS17-010 PEEK_NMPIPE check), TRANSACTION2 (DoublePulsar), NT_TRANSACT and
 * TRANSACTION2_SECONDARY (EternalBlue stages, logged), ECHO, LOGOFF.
 * AndX chains are not followed: the first command is answered.
 *
 * MS17-010: a TRANS PEEK_NMPIPE on FID 0 gets STATUS_INSUFF_SERVER_RESOURCES,
 * the answer of an unpatched srv.sys (patched hosts say ACCESS_DENIED or
 * INVALID_HANDLE).
 *
 * DoublePulsar (public descriptions: Countercept, zerosum0x0, nmap's
 * smb-double-pulsar-backdoor): the implant hooks TRANS2 SESSION_SETUP.  The
 * opcode is the byte sum of the Timeout field (0x23 ping, 0xc8 exec, 0x77
 * kill); an infected host answers STATUS_NOT_IMPLEMENTED with MID + 0x10 and,
 * for a ping, a signature from which the 4-byte XOR key is derived.  Exec
 * requests carry 12 XOR-encoded parameter bytes (total size, chunk size,
 * offset) and an XOR-encoded chunk; the reassembled buffer is a kernel
 * shellcode followed by the DLL to inject, which is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "smb_int.h"
#include "util.h"
#include "capture/capture.h"
#include "capture/store.h"

#define S1_NEGOTIATE 0x72
#define S1_SESSION_SETUP 0x73
#define S1_LOGOFF 0x74
#define S1_TREE_CONNECT 0x75
#define S1_TREE_DISCONNECT 0x71
#define S1_NT_CREATE 0xa2
#define S1_CLOSE 0x04
#define S1_READ_ANDX 0x2e
#define S1_WRITE_ANDX 0x2f
#define S1_TRANS 0x25
#define S1_TRANS2 0x32
#define S1_TRANS2_SECONDARY 0x33
#define S1_NT_TRANS 0xa0
#define S1_ECHO 0x2b

#define F2_UNICODE 0x8000
#define F2_EXTSEC 0x0800

struct s1req {
    const uint8_t *msg;
    size_t n;
    uint8_t cmd, flags;
    uint16_t flags2, pidhigh, tid, pid, uid, mid;
    uint8_t wc;
    struct hp_rd words;
    struct hp_rd bytes;          /* over msg; hp_rd_pos() is the offset in the message */
};

static bool s1_parse(const uint8_t *msg, size_t n, struct s1req *q)
{
    struct hp_rd r;
    memset(q, 0, sizeof(*q));
    hp_rd_init(&r, msg, n);
    hp_rd_skip(&r, 4);
    q->cmd = hp_rd_u8(&r);
    hp_rd_skip(&r, 4);
    q->flags = hp_rd_u8(&r);
    q->flags2 = hp_rd_u16le(&r);
    q->pidhigh = hp_rd_u16le(&r);
    hp_rd_skip(&r, 8 + 2);
    q->tid = hp_rd_u16le(&r);
    q->pid = hp_rd_u16le(&r);
    q->uid = hp_rd_u16le(&r);
    q->mid = hp_rd_u16le(&r);
    q->wc = hp_rd_u8(&r);
    if (!hp_rd_sub(&r, (size_t)q->wc * 2, &q->words))
        return false;
    uint16_t bc = hp_rd_u16le(&r);
    if (!hp_rd_ok(&r))
        return false;
    size_t boff = hp_rd_pos(&r);
    if (bc > n - boff)
        bc = (uint16_t)(n - boff);                       /* Windows tolerates short byte counts */
    hp_rd_init(&q->bytes, msg, boff + bc);
    hp_rd_skip(&q->bytes, boff);
    q->msg = msg;
    q->n = n;
    return true;
}

/* Reply header; returns where it starts. */
static size_t s1_hdr(struct hp_smb *s, const struct s1req *q, uint8_t cmd, uint32_t status, struct hp_buf *out)
{
    size_t at = out->len;
    hp_buf_put(out, "\xffSMB", 4);
    hp_buf_putc(out, cmd);
    smb_put32(out, status);
    /* As Windows: the reply bit plus the client's case/canonical bits, and flags2 with long
     * names and NT status plus what the client asked of Unicode, extended security and EAs.
     * (A fixed 0x98 / 0x4003 matched no Windows signature of nmap -sV: its probe sends 0x08 /
     * 0x4001 and Windows answers 0x88 / 0x4001.) */
    hp_buf_putc(out, (uint8_t)(0x80 | (q->flags & 0x18)));
    smb_put16(out, (uint16_t)(0x4001 | (q->flags2 & (F2_UNICODE | F2_EXTSEC | 0x0002))));
    smb_put16(out, q->pidhigh);
    hp_buf_put(out, "\0\0\0\0\0\0\0\0\0\0", 10);
    smb_put16(out, q->tid);
    smb_put16(out, q->pid);
    smb_put16(out, s->authed || cmd == S1_SESSION_SETUP ? s->uid : q->uid);
    smb_put16(out, q->mid);
    return at;
}

static void s1_error(struct hp_smb *s, const struct s1req *q, uint32_t status, struct hp_buf *out)
{
    s1_hdr(s, q, q->cmd, status, out);
    hp_buf_putc(out, 0);
    smb_put16(out, 0);
}

/* Start the byte section: returns where ByteCount is, to be fixed by s1_bc_end. */
static size_t s1_bc_begin(struct hp_buf *out)
{
    size_t at = out->len;
    smb_put16(out, 0);
    return at;
}

static void s1_bc_end(struct hp_buf *out, size_t at)
{
    smb_set16(out, at, (uint16_t)(out->len - at - 2));
}

/* Pad so the next byte is at an even offset from the SMB header at 'hdr'. */
static void s1_align(struct hp_buf *out, size_t hdr)
{
    if ((out->len - hdr) & 1)
        hp_buf_putc(out, 0);
}

static void s1_str_out(struct hp_buf *out, size_t hdr, bool unicode, const char *str)
{
    if (unicode) {
        s1_align(out, hdr);
        smb_utf16(out, str, true);
    } else {
        hp_buf_put(out, str, strlen(str) + 1);
    }
}

/* A NUL-terminated string from the byte section (UTF-16 aligned, or OEM). */
static void s1_str_in(struct hp_rd *r, bool unicode, char *dst, size_t dlen)
{
    dst[0] = '\0';
    if (unicode) {
        if (hp_rd_pos(r) & 1)
            hp_rd_skip(r, 1);
        const uint8_t *p = hp_rd_ptr(r);
        size_t left = hp_rd_left(r), k = 0;
        while (k + 1 < left && (p[k] || p[k + 1]))
            k += 2;
        hp_utf16le_to_utf8(p, k, dst, dlen);
        hp_rd_skip(r, k + 2 <= left ? k + 2 : left);
    } else {
        const uint8_t *p = hp_rd_ptr(r);
        size_t left = hp_rd_left(r), k = 0;
        while (k < left && p[k])
            k++;
        size_t c = k < dlen - 1 ? k : dlen - 1;
        memcpy(dst, p, c);
        dst[c] = '\0';
        hp_rd_skip(r, k < left ? k + 1 : left);
    }
}

/* ---- NEGOTIATE ------------------------------------------------------------------------ */

/* Returns true when the answer went out as an SMB2 frame. */
static bool s1_negotiate(struct hp_smb *s, const struct s1req *q, struct hp_buf *out, size_t fr)
{
    struct hp_rd r = q->bytes;
    char names[32][32];
    const char *list[32];
    size_t nl = 0;
    int ntlm = -1, smb2any = -1, smb2002 = -1;
    for (int i = 0; i < 64 && hp_rd_left(&r) > 0; i++) {
        if (hp_rd_u8(&r) != 0x02)
            break;
        char d[32];
        s1_str_in(&r, false, d, sizeof(d));
        if (strcmp(d, "NT LM 0.12") == 0)
            ntlm = i;
        else if (strcmp(d, "SMB 2.???") == 0)
            smb2any = i;
        else if (strcmp(d, "SMB 2.002") == 0)
            smb2002 = i;
        if (nl < 32) {
            snprintf(names[nl], sizeof(names[nl]), "%s", d);
            list[nl] = names[nl];
            nl++;
        }
    }
    if (smb2any >= 0 || smb2002 >= 0) {
        smb_ev_negotiate(s, 1, list, nl, smb2any >= 0 ? "SMB 2.???" : "SMB 2.002");
        out->len = fr;                                   /* the answer is an SMB2 frame */
        if (smb2002 >= 0 && smb2any < 0) {
            s->version = 2;
            s->dialect = 0x0202;
        }
        smb2_negotiate_reply(s, smb2any >= 0 ? 0x02ff : 0x0202, 0, out);
        return true;
    }
    smb_ev_negotiate(s, 1, list, nl, ntlm >= 0 ? "NT LM 0.12" : NULL);
    size_t hdr = s1_hdr(s, q, S1_NEGOTIATE, ST_OK, out);
    if (ntlm < 0) {
        hp_buf_putc(out, 1);
        smb_put16(out, 0xffff);
        smb_put16(out, 0);
        return false;
    }
    s->version = 1;
    s->smb1_ext = (q->flags2 & F2_EXTSEC) != 0;
    s->smb1_unicode = (q->flags2 & F2_UNICODE) != 0;
    struct smb_ident id;
    smb_ident(&id);
    hp_buf_putc(out, 17);
    smb_put16(out, (uint16_t)ntlm);
    hp_buf_putc(out, 0x03);                              /* user level, encrypted passwords */
    smb_put16(out, 50);
    smb_put16(out, 1);
    smb_put32(out, 16644);
    smb_put32(out, 65536);
    smb_put32(out, 0);
    /* Windows 7 / 2008 R2 capabilities (no raw mode), as nmap's signatures for them have it */
    smb_put32(out, s->smb1_ext ? 0x8001f3fcu : 0x0001f3fcu);
    smb_put64(out, smb_filetime(hp_now_us()));
    smb_put16(out, 0);                                   /* UTC */
    hp_buf_putc(out, s->smb1_ext ? 0 : 8);
    size_t bc = s1_bc_begin(out);
    if (s->smb1_ext) {
        hp_buf_put(out, id.guid, 16);
        smb_spnego_init(out);
    } else {
        hp_random_bytes(s->chal, sizeof(s->chal));
        hp_buf_put(out, s->chal, 8);
        smb_utf16(out, id.workgroup, true);
        smb_utf16(out, id.ntlm.nb_computer, true);
    }
    s1_bc_end(out, bc);
    (void)hdr;
    return false;
}

/* ---- SESSION_SETUP_ANDX --------------------------------------------------------------- */

static void s1_setup_tail(struct hp_smb *s, struct hp_buf *out, size_t hdr, bool unicode)
{
    struct smb_ident id;
    smb_ident(&id);
    s1_str_out(out, hdr, unicode, id.os);
    s1_str_out(out, hdr, unicode, id.lanman);
    s1_str_out(out, hdr, unicode, id.workgroup);
    (void)s;
}

static void s1_session_setup_ext(struct hp_smb *s, const struct s1req *q, struct hp_buf *out)
{
    struct hp_rd w = q->words;
    hp_rd_skip(&w, 4 + 2 + 2 + 2 + 4);
    uint16_t bloblen = hp_rd_u16le(&w);
    struct hp_rd b = q->bytes;
    const uint8_t *blob = hp_rd_bytes(&b, bloblen);
    bool unicode = (q->flags2 & F2_UNICODE) != 0;
    if (hp_rd_left(&b)) {
        s1_str_in(&b, unicode, s->cli_os, sizeof(s->cli_os));
        s1_str_in(&b, unicode, s->cli_lanman, sizeof(s->cli_lanman));
    }
    const uint8_t *tok = NULL;
    size_t toklen = 0;
    if (!hp_rd_ok(&w) || !blob || hp_smb_spnego_token(blob, bloblen, &tok, &toklen) != 0) {
        s1_error(s, q, ST_INVALID_PARAMETER, out);
        return;
    }
    bool spnego = tok != blob;
    struct hp_buf chal, wrapped;
    hp_buf_init(&chal, 4096);
    hp_buf_init(&wrapped, 4096);
    int t = smb_auth(s, tok, toklen, &chal);
    uint32_t status = ST_OK;
    if (t == HP_NTLM_NEGOTIATE) {
        status = ST_MORE_PROCESSING;
        if (spnego)
            hp_spnego_wrap_ntlm(chal.data, chal.len, &wrapped);
        else
            hp_buf_put(&wrapped, chal.data, chal.len);
    } else if (t == HP_NTLM_AUTHENTICATE) {
        if (spnego)
            smb_spnego_done(&wrapped);
    } else {
        s1_error(s, q, ST_LOGON_FAILURE, out);
        hp_buf_free(&chal);
        hp_buf_free(&wrapped);
        return;
    }
    size_t hdr = s1_hdr(s, q, S1_SESSION_SETUP, status, out);
    hp_buf_putc(out, 4);
    hp_buf_putc(out, 0xff);
    hp_buf_putc(out, 0);
    smb_put16(out, 0);
    smb_put16(out, t == HP_NTLM_AUTHENTICATE && s->guest ? 1 : 0);
    smb_put16(out, (uint16_t)wrapped.len);
    size_t bc = s1_bc_begin(out);
    hp_buf_put(out, wrapped.data ? wrapped.data : (const uint8_t *)"", wrapped.len);
    s1_setup_tail(s, out, hdr, unicode);
    s1_bc_end(out, bc);
    hp_buf_free(&chal);
    hp_buf_free(&wrapped);
}

static void s1_session_setup_basic(struct hp_smb *s, const struct s1req *q, struct hp_buf *out)
{
    struct hp_rd w = q->words;
    hp_rd_skip(&w, 4 + 2 + 2 + 2 + 4);
    uint16_t lmlen = hp_rd_u16le(&w), ntlen = hp_rd_u16le(&w);
    hp_rd_skip(&w, 4);
    uint32_t caps = hp_rd_u32le(&w);
    struct hp_rd b = q->bytes;
    const uint8_t *lm = hp_rd_bytes(&b, lmlen);
    const uint8_t *nt = hp_rd_bytes(&b, ntlen);
    if (!hp_rd_ok(&w) || !hp_rd_ok(&b)) {
        s1_error(s, q, ST_INVALID_PARAMETER, out);
        return;
    }
    bool unicode = (q->flags2 & F2_UNICODE) || (caps & 0x4);
    char user[HP_NTLM_NAME_MAX], dom[HP_NTLM_NAME_MAX];
    s1_str_in(&b, unicode, user, sizeof(user));
    s1_str_in(&b, unicode, dom, sizeof(dom));
    s1_str_in(&b, unicode, s->cli_os, sizeof(s->cli_os));
    s1_str_in(&b, unicode, s->cli_lanman, sizeof(s->cli_lanman));
    smb_auth_basic(s, user, dom, lm, lmlen, nt, ntlen, NULL, NULL);
    size_t hdr = s1_hdr(s, q, S1_SESSION_SETUP, ST_OK, out);
    hp_buf_putc(out, 3);
    hp_buf_putc(out, 0xff);
    hp_buf_putc(out, 0);
    smb_put16(out, 0);
    smb_put16(out, s->guest ? 1 : 0);
    size_t bc = s1_bc_begin(out);
    s1_setup_tail(s, out, hdr, (q->flags2 & F2_UNICODE) != 0);
    s1_bc_end(out, bc);
}

/* ---- trees and files ------------------------------------------------------------------ */

static void s1_tree_connect(struct hp_smb *s, const struct s1req *q, struct hp_buf *out)
{
    struct hp_rd w = q->words;
    hp_rd_skip(&w, 4);
    uint16_t flags = hp_rd_u16le(&w), pwlen = hp_rd_u16le(&w);
    struct hp_rd b = q->bytes;
    hp_rd_skip(&b, pwlen);
    char path[SMB_NAME_MAX];
    s1_str_in(&b, (q->flags2 & F2_UNICODE) != 0, path, sizeof(path));
    if (!hp_rd_ok(&w)) {
        s1_error(s, q, ST_INVALID_PARAMETER, out);
        return;
    }
    const char *share = strrchr(path, '\\');
    share = share ? share + 1 : path;
    int idx = smb_share_find(share);
    struct smb_tree *t = idx >= 0 ? smb_tree_add(s, idx) : NULL;
    smb_ev_tree(s, path, share, t != NULL);
    if (!t) {
        s1_error(s, q, ST_BAD_NETWORK_NAME, out);
        return;
    }
    const struct smb_share *tab;
    smb_shares(&tab);
    bool ipc = tab[idx].kind == SMB_SHARE_IPC;
    struct s1req a = *q;
    a.tid = (uint16_t)t->id;
    size_t hdr = s1_hdr(s, &a, S1_TREE_CONNECT, ST_OK, out);
    bool ext = (flags & 0x8) != 0;
    hp_buf_putc(out, ext ? 7 : 3);
    hp_buf_putc(out, 0xff);
    hp_buf_putc(out, 0);
    smb_put16(out, 0);
    smb_put16(out, 0x0001);
    if (ext) {
        smb_put32(out, ipc ? 0x001f00a9u : 0x001f01ffu);
        smb_put32(out, 0);
    }
    size_t bc = s1_bc_begin(out);
    hp_buf_put(out, ipc ? "IPC" : "A:", ipc ? 4 : 3);
    s1_str_out(out, hdr, (q->flags2 & F2_UNICODE) != 0, ipc ? "" : "NTFS");
    s1_bc_end(out, bc);
}

static void s1_nt_create(struct hp_smb *s, const struct s1req *q, struct hp_buf *out)
{
    struct hp_rd w = q->words;
    hp_rd_skip(&w, 4 + 1 + 2 + 4 + 4 + 4 + 8 + 4 + 4);
    uint32_t disp = hp_rd_u32le(&w), opts = hp_rd_u32le(&w);
    struct hp_rd b = q->bytes;
    char name[SMB_NAME_MAX];
    s1_str_in(&b, (q->flags2 & F2_UNICODE) != 0, name, sizeof(name));
    struct smb_tree *t = smb_tree_get(s, q->tid);
    if (!hp_rd_ok(&w) || !t) {
        s1_error(s, q, t ? ST_INVALID_PARAMETER : ST_INVALID_HANDLE, out);
        return;
    }
    const struct smb_share *tab;
    smb_shares(&tab);
    bool ipc = tab[t->share].kind == SMB_SHARE_IPC;
    const char *base = name[0] == '\\' ? name + 1 : name;
    if (ipc && strncasecmp(base, "PIPE\\", 5) == 0)
        base += 5;
    bool dir = !ipc && (base[0] == '\0' || (opts & 0x1));
    if (ipc)
        smb_ev_pipe(s, base, "open");
    if (ipc ? base[0] == '\0' : (!dir && (disp == 1 || disp == 4))) {
        s1_error(s, q, ST_OBJECT_NAME_NOT_FOUND, out);
        return;
    }
    struct smb_file *f = smb_file_open(s, t->id, base, ipc, dir);
    if (!f) {
        s1_error(s, q, ST_INSUFF_SERVER_RES, out);
        return;
    }
    struct smb_ident id;
    smb_ident(&id);
    uint64_t ft = smb_filetime(hp_now_us());
    s1_hdr(s, q, S1_NT_CREATE, ST_OK, out);
    hp_buf_putc(out, 34);
    hp_buf_putc(out, 0xff);
    hp_buf_putc(out, 0);
    smb_put16(out, 0);
    hp_buf_putc(out, 0);                                 /* no oplock */
    smb_put16(out, (uint16_t)f->id);
    smb_put32(out, dir || ipc || disp == 1 ? 1 : 2);
    smb_put64(out, smb_filetime(id.boot_us));
    smb_put64(out, ft);
    smb_put64(out, ft);
    smb_put64(out, ft);
    smb_put32(out, ipc ? 0x80 : dir ? 0x10 : 0x20);
    smb_put64(out, ipc ? 4096 : 0);
    smb_put64(out, 0);
    smb_put16(out, ipc ? 2 : 0);
    smb_put16(out, ipc ? 0x05ff : 0);
    hp_buf_putc(out, dir);
    smb_put16(out, 0);
}

static void s1_write(struct hp_smb *s, const struct s1req *q, struct hp_buf *out)
{
    struct hp_rd w = q->words;
    hp_rd_skip(&w, 4);
    uint16_t fid = hp_rd_u16le(&w);
    uint64_t off = hp_rd_u32le(&w);
    hp_rd_skip(&w, 4 + 2 + 2);
    uint32_t len = (uint32_t)hp_rd_u16le(&w) << 16;
    len |= hp_rd_u16le(&w);
    uint16_t doff = hp_rd_u16le(&w);
    if (q->wc == 14)
        off |= (uint64_t)hp_rd_u32le(&w) << 32;
    struct smb_file *f = smb_file_get(s, fid);
    struct hp_rd m;
    hp_rd_init(&m, q->msg, q->n);
    const uint8_t *data = hp_rd_skip(&m, doff) ? hp_rd_bytes(&m, len) : NULL;
    if (!hp_rd_ok(&w) || !f || !data || f->dir) {
        s1_error(s, q, !f ? ST_INVALID_HANDLE : ST_INVALID_PARAMETER, out);
        return;
    }
    if (f->pipe)
        smb_pipe_write(s, f, data, len);
    else
        smb_file_write(s, f, off, data, len);
    s1_hdr(s, q, S1_WRITE_ANDX, ST_OK, out);
    hp_buf_putc(out, 6);
    hp_buf_putc(out, 0xff);
    hp_buf_putc(out, 0);
    smb_put16(out, 0);
    smb_put16(out, (uint16_t)len);
    smb_put16(out, f->pipe ? 0xffff : 0);
    smb_put16(out, (uint16_t)(len >> 16));
    smb_put16(out, 0);
    smb_put16(out, 0);
}

static void s1_read(struct hp_smb *s, const struct s1req *q, struct hp_buf *out)
{
    struct hp_rd w = q->words;
    hp_rd_skip(&w, 4);
    uint16_t fid = hp_rd_u16le(&w);
    hp_rd_skip(&w, 4);
    uint16_t max = hp_rd_u16le(&w);
    struct smb_file *f = smb_file_get(s, fid);
    if (!hp_rd_ok(&w) || !f) {
        s1_error(s, q, ST_INVALID_HANDLE, out);
        return;
    }
    if (!f->pipe) {
        s1_error(s, q, ST_END_OF_FILE, out);
        return;
    }
    static uint8_t tmp[65536];
    size_t n = smb_pipe_read(f, tmp, max);
    s1_hdr(s, q, S1_READ_ANDX, f->pipe_len ? ST_BUFFER_OVERFLOW : ST_OK, out);
    hp_buf_putc(out, 12);
    hp_buf_putc(out, 0xff);
    hp_buf_putc(out, 0);
    smb_put16(out, 0);
    smb_put16(out, 0xffff);
    smb_put16(out, 0);
    smb_put16(out, 0);
    smb_put16(out, (uint16_t)n);
    smb_put16(out, 60);
    smb_put16(out, 0);
    hp_buf_put(out, "\0\0\0\0\0\0\0\0", 8);
    smb_put16(out, (uint16_t)(n + 1));
    hp_buf_putc(out, 0);
    hp_buf_put(out, tmp, n);
}

static void s1_close(struct hp_smb *s, const struct s1req *q, struct hp_buf *out)
{
    struct hp_rd w = q->words;
    uint16_t fid = hp_rd_u16le(&w);
    struct smb_file *f = smb_file_get(s, fid);
    if (!hp_rd_ok(&w) || !f) {
        s1_error(s, q, ST_INVALID_HANDLE, out);
        return;
    }
    smb_file_close(s, f);
    s1_error(s, q, ST_OK, out);
}

/* ---- transactions --------------------------------------------------------------------- */

struct s1trans {
    uint16_t tpc, tdc, pc, poff, dc, doff;
    uint32_t timeout;
    uint8_t setup_count;
    uint16_t setup[4];
    const uint8_t *param, *data;
};

static bool s1_trans_parse(const struct s1req *q, struct s1trans *t)
{
    struct hp_rd w = q->words;
    memset(t, 0, sizeof(*t));
    t->tpc = hp_rd_u16le(&w);
    t->tdc = hp_rd_u16le(&w);
    hp_rd_skip(&w, 2 + 2 + 1 + 1 + 2);
    t->timeout = hp_rd_u32le(&w);
    hp_rd_skip(&w, 2);
    t->pc = hp_rd_u16le(&w);
    t->poff = hp_rd_u16le(&w);
    t->dc = hp_rd_u16le(&w);
    t->doff = hp_rd_u16le(&w);
    t->setup_count = hp_rd_u8(&w);
    hp_rd_skip(&w, 1);
    for (unsigned i = 0; i < t->setup_count && i < 4; i++)
        t->setup[i] = hp_rd_u16le(&w);
    if (!hp_rd_ok(&w))
        return false;
    struct hp_rd m;
    hp_rd_init(&m, q->msg, q->n);
    if (t->pc && (!hp_rd_skip(&m, t->poff) || !(t->param = hp_rd_bytes(&m, t->pc))))
        return false;
    hp_rd_init(&m, q->msg, q->n);
    if (t->dc && (!hp_rd_skip(&m, t->doff) || !(t->data = hp_rd_bytes(&m, t->dc))))
        return false;
    return true;
}

static void s1_trans(struct hp_smb *s, const struct s1req *q, struct hp_buf *out)
{
    struct s1trans t;
    if (!s1_trans_parse(q, &t)) {
        s1_error(s, q, ST_INVALID_PARAMETER, out);
        return;
    }
    if (t.setup_count >= 2 && t.setup[0] == 0x23) {      /* PEEK_NMPIPE */
        if (t.setup[1] == 0) {
            if (!s->ms17_logged) {
                s->ms17_logged = true;
                struct hp_ev ev;
                hp_ev_begin(&ev, s->ctx, "smb.ms17_010_probe");
                hp_ev_str(&ev, "answer", "STATUS_INSUFF_SERVER_RESOURCES");
                hp_ev_strings(&ev, "attack_classes", (const char *[]){ "recon" }, 1);
                hp_ev_strings(&ev, "cves", (const char *[]){ "CVE-2017-0143" }, 1);
                hp_ev_emit(&ev);
            }
            s1_error(s, q, ST_INSUFF_SERVER_RES, out);
            return;
        }
    }
    struct smb_file *f = t.setup_count >= 2 ? smb_file_get(s, t.setup[1]) : NULL;
    if (t.setup_count >= 2 && t.setup[0] == 0x26 && f && f->pipe) {   /* TRANSACT_NMPIPE */
        if (t.data)
            smb_pipe_write(s, f, t.data, t.dc);
        static uint8_t tmp[65536];
        size_t n = smb_pipe_read(f, tmp, sizeof(tmp) < 16384 ? sizeof(tmp) : 16384);
        s1_hdr(s, q, S1_TRANS, f->pipe_len ? ST_BUFFER_OVERFLOW : ST_OK, out);
        hp_buf_putc(out, 10);
        smb_put16(out, 0);
        smb_put16(out, (uint16_t)n);
        smb_put16(out, 0);
        smb_put16(out, 0);
        smb_put16(out, 56);
        smb_put16(out, 0);
        smb_put16(out, (uint16_t)n);
        smb_put16(out, 56);
        smb_put16(out, 0);
        hp_buf_putc(out, 0);
        hp_buf_putc(out, 0);
        smb_put16(out, (uint16_t)(n + 1));
        hp_buf_putc(out, 0);
        hp_buf_put(out, tmp, n);
        return;
    }
    s1_error(s, q, t.setup_count >= 2 && !f ? ST_INVALID_HANDLE : ST_NOT_SUPPORTED, out);
}

uint32_t hp_smb_dp_key(uint32_t sig)
{
    uint32_t x = (2 * sig) ^ ((((sig & 0xff00) | (sig << 16)) << 8) | (((sig >> 16) | (sig & 0xff0000)) >> 8));
    return x;
}

uint8_t hp_smb_dp_opcode(uint32_t t)
{
    return (uint8_t)(t + (t >> 8) + (t >> 16) + (t >> 24));
}

long hp_smb_find_pe(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 64 <= n; i++) {
        if (p[i] != 'M' || p[i + 1] != 'Z')
            continue;
        struct hp_rd r;
        hp_rd_init(&r, p + i, n - i);
        hp_rd_skip(&r, 0x3c);
        uint32_t lfanew = hp_rd_u32le(&r);
        if (!hp_rd_ok(&r) || lfanew < 0x40 || lfanew > 0x1000 || lfanew + 4 > n - i)
            continue;
        if (memcmp(p + i + lfanew, "PE\0\0", 4) == 0)
            return (long)i;
    }
    return -1;
}

/* Bytes of the PE image at p (headers and the furthest section's raw
 * data), so the shellcode's trailing bytes are not kept with the DLL; n
 * when the headers do not say. */
static size_t pe_size(const uint8_t *p, size_t n)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    hp_rd_skip(&r, 0x3c);
    uint32_t lfanew = hp_rd_u32le(&r);
    hp_rd_init(&r, p, n);
    if (!hp_rd_ok(&r) || !hp_rd_skip(&r, (size_t)lfanew + 6))
        return n;
    uint16_t nsec = hp_rd_u16le(&r);
    hp_rd_skip(&r, 12);
    uint16_t optsz = hp_rd_u16le(&r);
    hp_rd_skip(&r, 2);
    struct hp_rd opt;
    if (!hp_rd_sub(&r, optsz, &opt) || !hp_rd_skip(&opt, 60))
        return n;
    size_t end = hp_rd_u32le(&opt);                     /* SizeOfHeaders */
    for (unsigned i = 0; i < nsec && i < 96; i++) {
        hp_rd_skip(&r, 16);
        uint32_t rawsz = hp_rd_u32le(&r), rawptr = hp_rd_u32le(&r);
        hp_rd_skip(&r, 16);
        if (hp_rd_ok(&r) && rawsz && (uint64_t)rawptr + rawsz > end)
            end = (size_t)rawptr + rawsz;
    }
    return hp_rd_ok(&r) && end > 0 && end <= n ? end : n;
}

static void dp_event(struct hp_smb *s, const char *op, const char *sha, const char *kind)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "smb.doublepulsar");
    hp_ev_str(&ev, "operation", op);
    hp_ev_strings(&ev, "attack_classes", (const char *[]){ "rce" }, 1);   /* the NSA implant, no CVE */
    if (!strcmp(op, "exec")) {
        hp_ev_uint(&ev, "payload_size", s->dp_total);
        hp_ev_uint(&ev, "chunks", s->dp_chunks);
    }
    if (sha)
        hp_ev_str(&ev, "sha256", sha);
    if (kind)
        hp_ev_str(&ev, "payload", kind);
    hp_ev_emit(&ev);
}

/* The whole XOR-decoded upload arrived: keep the DLL it carries. */
static void dp_finish(struct hp_smb *s)
{
    s->dp_done = true;
    long pe = hp_smb_find_pe(s->dp_buf, s->dp_len);
    const uint8_t *p = pe >= 0 ? s->dp_buf + pe : s->dp_buf;
    size_t n = pe >= 0 ? pe_size(p, s->dp_len - (size_t)pe) : s->dp_len;
    char sha[HP_SHA256_HEX_LEN + 1] = "";
    bool stored = s->o.data_dir && hp_store_put(s->o.data_dir, p, n, sha) == 0;
    if (!stored)
        hp_sha256_hex(p, n, sha);
    dp_event(s, "exec", sha, pe >= 0 ? "pe" : "shellcode");
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "session.file_download");
    hp_ev_str(&ev, "url", "smb://doublepulsar");
    hp_ev_str(&ev, "found_in", "smb");
    hp_ev_str(&ev, "tool", "doublepulsar");
    hp_ev_str(&ev, "outcome", "received");
    hp_ev_str(&ev, "shasum", sha);
    if (stored) {
        char outf[80];
        snprintf(outf, sizeof(outf), "payloads/%s", sha);
        hp_ev_str(&ev, "outfile", outf);
    }
    hp_ev_uint(&ev, "size", n);
    hp_ev_str(&ev, "protocol_detail", "smb-doublepulsar");
    hp_ev_emit(&ev);
    if (stored)
        hp_capture_upload(s->ctx, sha, n, "smb-doublepulsar", "doublepulsar.dll");
}

static void dp_exec(struct hp_smb *s, const struct s1trans *t)
{
    if (s->dp_done || !t->param || t->pc < 12)
        return;
    uint32_t k = s->dp_key;
    struct hp_rd r;
    hp_rd_init(&r, t->param, 12);
    uint32_t total = hp_rd_u32le(&r) ^ k, chunk = hp_rd_u32le(&r) ^ k, off = hp_rd_u32le(&r) ^ k;
    if (!s->dp_total) {
        if (total == 0 || total > s->o.max_file)
            return;                                      /* over the cap: not kept */
        s->dp_total = total;
        s->dp_buf = calloc(1, total);
        if (!s->dp_buf) {
            s->dp_total = 0;
            return;
        }
    }
    if (chunk > t->dc)
        chunk = t->dc;
    /* Chunks come in order (resends overlap): a chunk past a gap would let
     * one request at total - chunk complete, hash and store total bytes of
     * zeros. */
    if (!t->data || off >= s->dp_total || off > s->dp_len || chunk > s->dp_total - off || s->dp_chunks >= 100000)
        return;
    uint8_t kb[4] = { (uint8_t)k, (uint8_t)(k >> 8), (uint8_t)(k >> 16), (uint8_t)(k >> 24) };
    for (uint32_t i = 0; i < chunk; i++)
        s->dp_buf[off + i] = t->data[i] ^ kb[i % 4];
    s->dp_chunks++;
    if (off + chunk > s->dp_len)
        s->dp_len = off + chunk;
    if (s->dp_len >= s->dp_total)
        dp_finish(s);
}

static void s1_trans2(struct hp_smb *s, const struct s1req *q, struct hp_buf *out)
{
    struct s1trans t;
    if (!s1_trans_parse(q, &t)) {
        s1_error(s, q, ST_INVALID_PARAMETER, out);
        return;
    }
    if (t.setup_count < 1 || t.setup[0] != 0x000e) {    /* only SESSION_SETUP matters */
        s1_error(s, q, ST_NOT_SUPPORTED, out);
        return;
    }
    uint8_t op = hp_smb_dp_opcode(t.timeout);
    struct s1req a = *q;
    a.mid = (uint16_t)(q->mid + 0x10);                   /* "infected" */
    if (op == 0x23) {
        if (!s->dp_ping_logged) {
            s->dp_ping_logged = true;
            dp_event(s, "ping", NULL, NULL);
        }
        s->dp_key = hp_smb_dp_key(s->dp_sig);
        size_t hdr = s1_hdr(s, &a, S1_TRANS2, ST_NOT_IMPLEMENTED, out);
        smb_set32(out, hdr + 14, s->dp_sig);
        hp_buf_putc(out, 0);
        smb_put16(out, 0);
        return;
    }
    if (op == 0xc8) {
        if (!s->dp_key)
            s->dp_key = hp_smb_dp_key(s->dp_sig);
        dp_exec(s, &t);
    } else if (op == 0x77) {
        dp_event(s, "kill", NULL, NULL);
    } else {
        a.mid = q->mid;
    }
    s1_error(s, &a, ST_NOT_IMPLEMENTED, out);
}

static void s1_eternalblue(struct hp_smb *s, const char *stage, bool *logged, uint32_t total)
{
    if (*logged)
        return;
    *logged = true;
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "smb.eternalblue");
    hp_ev_str(&ev, "stage", stage);
    hp_ev_uint(&ev, "total_data", total);
    hp_ev_strings(&ev, "attack_classes", (const char *[]){ "rce" }, 1);
    hp_ev_strings(&ev, "cves", (const char *[]){ "CVE-2017-0144" }, 1);
    hp_ev_emit(&ev);
}

static bool s1_nt_trans(struct hp_smb *s, const struct s1req *q, struct hp_buf *out)
{
    struct hp_rd w = q->words;
    hp_rd_skip(&w, 1 + 2 + 4);
    uint32_t tdc = hp_rd_u32le(&w);
    hp_rd_skip(&w, 4 + 4 + 4 + 4 + 4);
    uint32_t dc = hp_rd_u32le(&w);
    if (hp_rd_ok(&w) && tdc >= 0x10000)                  /* the oversized FEA list of EternalBlue */
        s1_eternalblue(s, "nt_trans_fea", &s->eb_fea_logged, tdc);
    if (hp_rd_ok(&w) && dc < tdc) {                      /* interim response: send the rest */
        s1_error(s, q, ST_OK, out);
        return true;
    }
    s1_error(s, q, ST_NOT_SUPPORTED, out);
    return true;
}

static void s1_echo(struct hp_smb *s, const struct s1req *q, struct hp_buf *out)
{
    struct hp_rd w = q->words;
    uint16_t count = hp_rd_u16le(&w);
    if (!hp_rd_ok(&w) || count == 0)
        return;
    struct hp_rd b = q->bytes;
    size_t n = hp_rd_left(&b);
    for (uint16_t i = 1; i <= count && i <= 4; i++) {
        s1_hdr(s, q, S1_ECHO, ST_OK, out);
        hp_buf_putc(out, 1);
        smb_put16(out, i);
        smb_put16(out, (uint16_t)n);
        hp_buf_put(out, hp_rd_ptr(&b), n);
        if (i < count && i < 4)
            break;                                       /* one frame per call: first echo only */
    }
}

static void s1_andx_empty(struct hp_smb *s, const struct s1req *q, struct hp_buf *out)
{
    s1_hdr(s, q, q->cmd, ST_OK, out);
    hp_buf_putc(out, 2);
    hp_buf_putc(out, 0xff);
    hp_buf_putc(out, 0);
    smb_put16(out, 0);
    smb_put16(out, 0);
}

int smb1_input(struct hp_smb *s, const uint8_t *msg, size_t n, struct hp_buf *out)
{
    struct s1req q;
    if (!s1_parse(msg, n, &q))
        return -1;
    size_t fr = smb_frame_begin(out);
    bool authed_cmd = q.cmd != S1_NEGOTIATE && q.cmd != S1_SESSION_SETUP && q.cmd != S1_ECHO;
    if (q.cmd != S1_NEGOTIATE && s->version != 1) {
        out->len = fr;
        return -1;                                       /* SMB1 before NEGOTIATE: dropped */
    }
    if (authed_cmd && !s->authed) {
        s1_error(s, &q, ST_ACCESS_DENIED, out);
        smb_frame_end(out, fr);
        return 0;
    }
    switch (q.cmd) {
    case S1_NEGOTIATE:
        if (s->version == 1) {
            out->len = fr;
            return -1;                                   /* second NEGOTIATE: Windows disconnects */
        }
        if (s1_negotiate(s, &q, out, fr))
            return 0;                                    /* answered in SMB2 (already framed) */
        break;
    case S1_SESSION_SETUP:
        if (q.wc == 12)
            s1_session_setup_ext(s, &q, out);
        else if (q.wc == 13)
            s1_session_setup_basic(s, &q, out);
        else
            s1_error(s, &q, ST_INVALID_PARAMETER, out);
        break;
    case S1_LOGOFF: s->authed = false; s1_andx_empty(s, &q, out); break;
    case S1_TREE_CONNECT: s1_tree_connect(s, &q, out); break;
    case S1_TREE_DISCONNECT: smb_tree_del(s, q.tid); s1_error(s, &q, ST_OK, out); break;
    case S1_NT_CREATE: s1_nt_create(s, &q, out); break;
    case S1_CLOSE: s1_close(s, &q, out); break;
    case S1_READ_ANDX: s1_read(s, &q, out); break;
    case S1_WRITE_ANDX: s1_write(s, &q, out); break;
    case S1_TRANS: s1_trans(s, &q, out); break;
    case S1_TRANS2: s1_trans2(s, &q, out); break;
    case S1_NT_TRANS: s1_nt_trans(s, &q, out); break;
    case S1_TRANS2_SECONDARY:
        s1_eternalblue(s, "trans2_secondary", &s->eb_sec_logged, 0);
        break;                                           /* secondaries get no answer */
    case S1_ECHO: s1_echo(s, &q, out); break;
    default: s1_error(s, &q, ST_NOT_IMPLEMENTED, out); break;
    }
    if (out->len == fr + 4)
        out->len = fr;
    else
        smb_frame_end(out, fr);
    return 0;
}
