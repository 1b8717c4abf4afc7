/*
 * smb2.c - SMB 2.0.2 / 2.1 as a Windows 7 / Server 2008 R2 file server
 * speaks it.
 *
 * The dialect is capped at 2.1: SMB 3.x would need the session key (secure
 * negotiate, signing) that a honeypot accepting any password cannot derive.
 * Compound requests are answered in one frame (related operations reuse the
 * FileId of the previous CREATE).  Reads and writes are capped at 64 KiB
 * (no LARGE_MTU), so a message never needs more than one credit.
 *
 * The file system is a facade: directories always exist and are empty,
 * files can be created and written (captured on CLOSE), opening an existing
 * file by name fails with OBJECT_NAME_NOT_FOUND.  IPC$ opens the usual
 * pipes; srvsvc is served by smb_rpc.c.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "smb_int.h"
#include "util.h"

#define S2_NEGOTIATE 0
#define S2_SESSION_SETUP 1
#define S2_LOGOFF 2
#define S2_TREE_CONNECT 3
#define S2_TREE_DISCONNECT 4
#define S2_CREATE 5
#define S2_CLOSE 6
#define S2_FLUSH 7
#define S2_READ 8
#define S2_WRITE 9
#define S2_LOCK 10
#define S2_IOCTL 11
#define S2_CANCEL 12
#define S2_ECHO 13
#define S2_QUERY_DIRECTORY 14
#define S2_CHANGE_NOTIFY 15
#define S2_QUERY_INFO 16
#define S2_SET_INFO 17

#define S2_MAX_IO 65536u
#define S2_MAX_COMPOUND 16

struct s2req {
    const uint8_t *msg;          /* this command's header */
    size_t n;                    /* its length */
    struct hp_rd body;           /* after the 64-byte header */
    uint16_t cmd, credits, charge;
    uint32_t flags, pid, tid;
    uint64_t mid, sid;
};

static const char *const s2_pipes[] = { "srvsvc", "wkssvc", "samr", "lsarpc", "netlogon", "browser",
                                        "spoolss", "winreg", "svcctl", "atsvc", "epmapper", "eventlog",
                                        "ntsvcs", "lsass", "protected_storage", "scerpc" };

static bool s2_pipe_known(const char *name)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(s2_pipes); i++)
        if (strcasecmp(name, s2_pipes[i]) == 0)
            return true;
    return false;
}

static size_t s2_hdr(struct hp_smb *s, const struct s2req *q, uint32_t status, struct hp_buf *out)
{
    size_t at = out->len;
    hp_buf_put(out, "\xfeSMB", 4);
    smb_put16(out, 64);
    smb_put16(out, q->charge);
    smb_put32(out, status);
    smb_put16(out, q->cmd);
    uint16_t cr = q->credits ? q->credits : 1;
    smb_put16(out, cr > 128 ? 128 : cr);
    smb_put32(out, 0x00000001u | (q->flags & 0x4u));     /* SERVER_TO_REDIR | RELATED */
    smb_put32(out, 0);                                   /* NextCommand, set by the caller */
    smb_put64(out, q->mid);
    smb_put32(out, q->pid);
    smb_put32(out, q->tid);
    smb_put64(out, q->cmd == S2_NEGOTIATE ? 0 : (q->sid ? q->sid : s->session_id));
    hp_buf_put(out, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    return at;
}

static void s2_error(struct hp_smb *s, const struct s2req *q, uint32_t status, struct hp_buf *out)
{
    s2_hdr(s, q, status, out);
    smb_put16(out, 9);
    smb_put16(out, 0);
    smb_put32(out, 0);
    hp_buf_putc(out, 0);
}

/* Body of an SMB2 NEGOTIATE response (after the header). */
static void s2_negotiate_body(struct hp_smb *s, uint16_t dialect, struct hp_buf *out)
{
    struct smb_ident id;
    smb_ident(&id);
    struct hp_buf blob;
    hp_buf_init(&blob, 1024);
    smb_spnego_init(&blob);
    smb_put16(out, 65);
    smb_put16(out, 0x0001);                              /* signing enabled, not required */
    smb_put16(out, dialect);
    smb_put16(out, 0);
    hp_buf_put(out, id.guid, 16);
    smb_put32(out, dialect == 0x0210 ? 0x00000003u : 0x00000001u);  /* DFS (+ LEASING on 2.1) */
    smb_put32(out, S2_MAX_IO);
    smb_put32(out, S2_MAX_IO);
    smb_put32(out, S2_MAX_IO);
    smb_put64(out, smb_filetime(hp_now_us()));
    smb_put64(out, smb_filetime(id.boot_us));
    smb_put16(out, 0x80);
    smb_put16(out, (uint16_t)blob.len);
    smb_put32(out, 0);
    hp_buf_put(out, blob.data, blob.len);
    hp_buf_free(&blob);
    (void)s;
}

void smb2_negotiate_reply(struct hp_smb *s, uint16_t dialect, uint64_t mid, struct hp_buf *out)
{
    struct s2req q;
    memset(&q, 0, sizeof(q));
    q.cmd = S2_NEGOTIATE;
    q.mid = mid;
    q.credits = 1;
    size_t fr = smb_frame_begin(out);
    s2_hdr(s, &q, ST_OK, out);
    s2_negotiate_body(s, dialect, out);
    smb_frame_end(out, fr);
}

static const char *dialect_name(uint16_t d, char *tmp, size_t n)
{
    snprintf(tmp, n, "%u.%u.%u", d >> 8, (d >> 4) & 0xf, d & 0xf);
    if (d == 0x02ff)
        snprintf(tmp, n, "2.???");
    return tmp;
}

static void s2_negotiate(struct hp_smb *s, const struct s2req *q, struct hp_buf *out)
{
    struct hp_rd r = q->body;
    hp_rd_skip(&r, 2);
    uint16_t count = hp_rd_u16le(&r);
    hp_rd_skip(&r, 2 + 2 + 4 + 16 + 8);
    char names[32][12];
    const char *list[32];
    size_t nl = 0;
    uint16_t best = 0;
    for (unsigned i = 0; i < count && i < 64 && hp_rd_ok(&r); i++) {
        uint16_t d = hp_rd_u16le(&r);
        if (!hp_rd_ok(&r))
            break;
        if (nl < 32) {
            list[nl] = dialect_name(d, names[nl], sizeof(names[nl]));
            nl++;
        }
        if ((d == 0x0202 || d == 0x0210) && d > best)
            best = d;
    }
    char tmp[12];
    smb_ev_negotiate(s, 2, list, nl, best ? dialect_name(best, tmp, sizeof(tmp)) : NULL);
    if (!best) {
        s2_error(s, q, ST_NOT_SUPPORTED, out);
        return;
    }
    s->version = 2;
    s->dialect = best;
    s2_hdr(s, q, ST_OK, out);
    s2_negotiate_body(s, best, out);
}

static void s2_session_setup(struct hp_smb *s, const struct s2req *q, struct hp_buf *out)
{
    struct hp_rd r = q->body;
    hp_rd_skip(&r, 2 + 1 + 1 + 4 + 4);
    uint16_t off = hp_rd_u16le(&r), len = hp_rd_u16le(&r);
    struct hp_rd m;
    hp_rd_init(&m, q->msg, q->n);
    const uint8_t *blob = hp_rd_skip(&m, off) ? hp_rd_bytes(&m, len) : NULL;
    const uint8_t *tok = NULL;
    size_t toklen = 0;
    if (!hp_rd_ok(&r) || !blob || hp_smb_spnego_token(blob, len, &tok, &toklen) != 0) {
        s2_error(s, q, ST_INVALID_PARAMETER, out);
        return;
    }
    bool spnego = tok != blob;
    struct hp_buf chal, wrapped;
    hp_buf_init(&chal, 4096);
    hp_buf_init(&wrapped, 4096);
    int t = smb_auth(s, tok, toklen, &chal);
    struct s2req a = *q;
    a.sid = s->session_id;
    if (t == HP_NTLM_NEGOTIATE) {
        if (spnego)
            hp_spnego_wrap_ntlm(chal.data, chal.len, &wrapped);
        else
            hp_buf_put(&wrapped, chal.data, chal.len);
        s2_hdr(s, &a, ST_MORE_PROCESSING, out);
        smb_put16(out, 9);
        smb_put16(out, 0);
    } else if (t == HP_NTLM_AUTHENTICATE) {
        if (spnego)
            smb_spnego_done(&wrapped);
        s2_hdr(s, &a, ST_OK, out);
        smb_put16(out, 9);
        smb_put16(out, s->guest ? 0x0001 : 0x0002);      /* IS_GUEST / IS_NULL */
    } else {
        s2_error(s, &a, ST_LOGON_FAILURE, out);
        hp_buf_free(&chal);
        hp_buf_free(&wrapped);
        return;
    }
    smb_put16(out, wrapped.len ? 0x48 : 0);
    smb_put16(out, (uint16_t)wrapped.len);
    hp_buf_put(out, wrapped.data ? wrapped.data : (const uint8_t *)"", wrapped.len);
    if (!wrapped.len)
        hp_buf_putc(out, 0);
    hp_buf_free(&chal);
    hp_buf_free(&wrapped);
}

/* UTF-16LE name at (off,len) of the message into UTF-8. */
static bool s2_name(const struct s2req *q, uint16_t off, uint16_t len, char *dst, size_t dlen)
{
    dst[0] = '\0';
    if (!len)
        return true;
    struct hp_rd m;
    hp_rd_init(&m, q->msg, q->n);
    const uint8_t *p = hp_rd_skip(&m, off) ? hp_rd_bytes(&m, len) : NULL;
    if (!p)
        return false;
    hp_utf16le_to_utf8(p, len, dst, dlen);
    return true;
}

static void s2_tree_connect(struct hp_smb *s, const struct s2req *q, struct hp_buf *out)
{
    struct hp_rd r = q->body;
    hp_rd_skip(&r, 4);
    uint16_t off = hp_rd_u16le(&r), len = hp_rd_u16le(&r);
    char path[SMB_NAME_MAX];
    if (!hp_rd_ok(&r) || !s2_name(q, off, len, path, sizeof(path))) {
        s2_error(s, q, ST_INVALID_PARAMETER, out);
        return;
    }
    const char *share = strrchr(path, '\\');
    share = share ? share + 1 : path;
    int idx = smb_share_find(share);
    struct smb_tree *t = idx >= 0 && s->authed ? smb_tree_add(s, idx) : NULL;
    smb_ev_tree(s, path, share, t != NULL);
    if (!t) {
        s2_error(s, q, s->authed ? ST_BAD_NETWORK_NAME : ST_ACCESS_DENIED, out);
        return;
    }
    const struct smb_share *tab;
    smb_shares(&tab);
    bool ipc = tab[idx].kind == SMB_SHARE_IPC;
    struct s2req a = *q;
    a.tid = t->id;
    s2_hdr(s, &a, ST_OK, out);
    smb_put16(out, 16);
    hp_buf_putc(out, ipc ? 2 : 1);
    hp_buf_putc(out, 0);
    smb_put32(out, ipc ? 0x30 : 0x00);
    smb_put32(out, 0);
    smb_put32(out, ipc ? 0x001f00a9u : 0x001f01ffu);
}

static struct smb_file *s2_fid(struct hp_smb *s, struct hp_rd *r, uint64_t *last)
{
    uint64_t p = hp_rd_u64le(r), v = hp_rd_u64le(r);
    if (p == UINT64_MAX && v == UINT64_MAX)
        p = *last;                                       /* related compound */
    (void)v;
    return hp_rd_ok(r) ? smb_file_get(s, p) : NULL;
}

static void s2_put_fid(struct hp_buf *out, uint64_t id)
{
    smb_put64(out, id);
    smb_put64(out, id ^ 0x0000000400000000ull);
}

static void s2_times(struct hp_buf *out)
{
    struct smb_ident id;
    smb_ident(&id);
    uint64_t created = smb_filetime(id.boot_us - 86400LL * 1000000 * 40);
    uint64_t now = smb_filetime(hp_now_us());
    smb_put64(out, created);
    smb_put64(out, now);
    smb_put64(out, now);
    smb_put64(out, now);
}

static void s2_create(struct hp_smb *s, const struct s2req *q, struct hp_buf *out, uint64_t *last)
{
    struct hp_rd r = q->body;
    hp_rd_skip(&r, 2 + 1 + 1 + 4 + 8 + 8);
    hp_rd_skip(&r, 4 + 4 + 4);                           /* access, attributes, share access */
    uint32_t disp = hp_rd_u32le(&r), opts = hp_rd_u32le(&r);
    uint16_t off = hp_rd_u16le(&r), len = hp_rd_u16le(&r);
    char name[SMB_NAME_MAX];
    if (!hp_rd_ok(&r) || !s2_name(q, off, len, name, sizeof(name))) {
        s2_error(s, q, ST_INVALID_PARAMETER, out);
        return;
    }
    struct smb_tree *t = smb_tree_get(s, q->tid);
    if (!t) {
        s2_error(s, q, ST_NETWORK_NAME_DELETED, out);
        return;
    }
    const struct smb_share *tab;
    smb_shares(&tab);
    bool ipc = tab[t->share].kind == SMB_SHARE_IPC;
    bool dir = !ipc && (name[0] == '\0' || (opts & 0x1));
    const char *base = name[0] == '\\' ? name + 1 : name;
    if (ipc) {
        smb_ev_pipe(s, base, "open");
        if (!s2_pipe_known(base)) {
            s2_error(s, q, ST_OBJECT_NAME_NOT_FOUND, out);
            return;
        }
    } else if (!dir && (disp == 1 || disp == 4)) {       /* OPEN / OVERWRITE of a file we never had */
        s2_error(s, q, ST_OBJECT_NAME_NOT_FOUND, out);
        return;
    }
    struct smb_file *f = smb_file_open(s, t->id, base, ipc, dir);
    if (!f) {
        s2_error(s, q, ST_INSUFF_SERVER_RES, out);
        return;
    }
    *last = f->id;
    s2_hdr(s, q, ST_OK, out);
    smb_put16(out, 89);
    hp_buf_putc(out, 0);
    hp_buf_putc(out, 0);
    smb_put32(out, dir || ipc || disp == 1 ? 1 : 2);     /* FILE_OPENED / FILE_CREATED */
    s2_times(out);
    smb_put64(out, ipc ? 4096 : 0);
    smb_put64(out, 0);
    smb_put32(out, ipc ? 0x80 : dir ? 0x10 : 0x20);
    smb_put32(out, 0);
    s2_put_fid(out, f->id);
    smb_put32(out, 0);
    smb_put32(out, 0);
}

static void s2_close(struct hp_smb *s, const struct s2req *q, struct hp_buf *out, uint64_t *last)
{
    struct hp_rd r = q->body;
    hp_rd_skip(&r, 2);
    uint16_t flags = hp_rd_u16le(&r);
    hp_rd_skip(&r, 4);
    struct smb_file *f = s2_fid(s, &r, last);
    if (!f) {
        s2_error(s, q, ST_INVALID_HANDLE, out);
        return;
    }
    uint64_t size = f->size;
    bool dir = f->dir;
    smb_file_close(s, f);
    s2_hdr(s, q, ST_OK, out);
    smb_put16(out, 60);
    smb_put16(out, flags & 1);
    smb_put32(out, 0);
    if (flags & 1) {
        s2_times(out);
        smb_put64(out, (size + 4095) & ~4095ull);
        smb_put64(out, size);
        smb_put32(out, dir ? 0x10 : 0x20);
    } else {
        hp_buf_put(out, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
                        "\0\0\0\0\0\0\0\0\0\0\0\0", 52);
    }
}

static void s2_write(struct hp_smb *s, const struct s2req *q, struct hp_buf *out, uint64_t *last)
{
    struct hp_rd r = q->body;
    hp_rd_skip(&r, 2);
    uint16_t doff = hp_rd_u16le(&r);
    uint32_t len = hp_rd_u32le(&r);
    uint64_t off = hp_rd_u64le(&r);
    struct smb_file *f = s2_fid(s, &r, last);
    struct hp_rd m;
    hp_rd_init(&m, q->msg, q->n);
    const uint8_t *data = hp_rd_skip(&m, doff) ? hp_rd_bytes(&m, len) : NULL;
    if (!f || !data || f->dir) {
        s2_error(s, q, !f ? ST_INVALID_HANDLE : f->dir ? ST_INVALID_DEVICE_REQ : ST_INVALID_PARAMETER, out);
        return;
    }
    if (f->pipe)
        smb_pipe_write(s, f, data, len);
    else
        smb_file_write(s, f, off, data, len);
    s2_hdr(s, q, ST_OK, out);
    smb_put16(out, 17);
    smb_put16(out, 0);
    smb_put32(out, len);
    smb_put32(out, 0);
    smb_put32(out, 0);
}

static void s2_read_reply(struct hp_smb *s, const struct s2req *q, struct smb_file *f, uint32_t max,
                          struct hp_buf *out)
{
    static uint8_t tmp[S2_MAX_IO];
    size_t n = smb_pipe_read(f, tmp, max < sizeof(tmp) ? max : sizeof(tmp));
    if (!n) {
        s2_error(s, q, ST_PIPE_EMPTY, out);
        return;
    }
    s2_hdr(s, q, f->pipe_len ? ST_BUFFER_OVERFLOW : ST_OK, out);
    smb_put16(out, 17);
    hp_buf_putc(out, 0x50);
    hp_buf_putc(out, 0);
    smb_put32(out, (uint32_t)n);
    smb_put32(out, (uint32_t)f->pipe_len);
    smb_put32(out, 0);
    hp_buf_put(out, tmp, n);
}

static void s2_read(struct hp_smb *s, const struct s2req *q, struct hp_buf *out, uint64_t *last)
{
    struct hp_rd r = q->body;
    hp_rd_skip(&r, 4);
    uint32_t len = hp_rd_u32le(&r);
    hp_rd_skip(&r, 8);
    struct smb_file *f = s2_fid(s, &r, last);
    if (!f) {
        s2_error(s, q, ST_INVALID_HANDLE, out);
        return;
    }
    if (!f->pipe) {
        s2_error(s, q, f->dir ? ST_INVALID_DEVICE_REQ : ST_END_OF_FILE, out);
        return;
    }
    s2_read_reply(s, q, f, len, out);
}

static void s2_ioctl(struct hp_smb *s, const struct s2req *q, struct hp_buf *out, uint64_t *last)
{
    struct hp_rd r = q->body;
    hp_rd_skip(&r, 4);
    uint32_t code = hp_rd_u32le(&r);
    struct hp_rd fr = r;
    hp_rd_skip(&r, 16);
    uint32_t ioff = hp_rd_u32le(&r), ilen = hp_rd_u32le(&r);
    hp_rd_skip(&r, 4 + 4 + 4);
    uint32_t maxout = hp_rd_u32le(&r);
    if (!hp_rd_ok(&r)) {
        s2_error(s, q, ST_INVALID_PARAMETER, out);
        return;
    }
    if (code != 0x0011C017u) {                           /* only FSCTL_PIPE_TRANSCEIVE */
        s2_error(s, q, code == 0x00060194u ? 0xC0000225u /* NOT_FOUND */ : ST_INVALID_DEVICE_REQ, out);
        return;
    }
    struct smb_file *f = s2_fid(s, &fr, last);
    struct hp_rd m;
    hp_rd_init(&m, q->msg, q->n);
    const uint8_t *in = hp_rd_skip(&m, ioff) ? hp_rd_bytes(&m, ilen) : NULL;
    if (!f || !f->pipe || !in) {
        s2_error(s, q, !f ? ST_INVALID_HANDLE : ST_INVALID_DEVICE_REQ, out);
        return;
    }
    smb_pipe_write(s, f, in, ilen);
    static uint8_t tmp[S2_MAX_IO];
    size_t n = smb_pipe_read(f, tmp, maxout < sizeof(tmp) ? maxout : sizeof(tmp));
    s2_hdr(s, q, f->pipe_len ? ST_BUFFER_OVERFLOW : ST_OK, out);
    smb_put16(out, 49);
    smb_put16(out, 0);
    smb_put32(out, code);
    s2_put_fid(out, f->id);
    smb_put32(out, 0x70);
    smb_put32(out, 0);
    smb_put32(out, 0x70);
    smb_put32(out, (uint32_t)n);
    smb_put32(out, 0);
    smb_put32(out, 0);
    hp_buf_put(out, tmp, n);
}

/* The info a QUERY_INFO asks for, or false when the class is not served. */
static bool s2_info(struct hp_smb *s, struct smb_file *f, uint8_t type, uint8_t cls, struct hp_buf *b)
{
    (void)s;
    uint64_t size = f->size, alloc = (f->size + 4095) & ~4095ull;
    uint32_t attrs = f->pipe ? 0x80 : f->dir ? 0x10 : 0x20;
    if (type == 1) {
        switch (cls) {
        case 4:                                          /* FileBasicInformation */
            s2_times(b);
            smb_put32(b, attrs);
            smb_put32(b, 0);
            return true;
        case 5:                                          /* FileStandardInformation */
            smb_put64(b, alloc);
            smb_put64(b, size);
            smb_put32(b, 1);
            hp_buf_putc(b, 0);
            hp_buf_putc(b, f->dir);
            smb_put16(b, 0);
            return true;
        case 6:                                          /* FileInternalInformation */
            smb_put64(b, 0x0001000000000400ull + f->id);
            return true;
        case 7:
            smb_put32(b, 0);
            return true;
        case 18:                                         /* FileAllInformation */
            s2_times(b);
            smb_put32(b, attrs);
            smb_put32(b, 0);
            smb_put64(b, alloc);
            smb_put64(b, size);
            smb_put32(b, 1);
            hp_buf_putc(b, 0);
            hp_buf_putc(b, f->dir);
            smb_put16(b, 0);
            smb_put64(b, 0x0001000000000400ull + f->id);
            smb_put32(b, 0);
            smb_put32(b, 0x001f01ff);
            smb_put64(b, 0);
            smb_put32(b, 0);
            smb_put32(b, 0);
            smb_put32(b, 2);
            smb_put16(b, '\\');
            return true;
        case 22:                                         /* FileStreamInformation */
            if (f->dir)
                return true;
            smb_put32(b, 0);
            smb_put32(b, 14);
            smb_put64(b, size);
            smb_put64(b, alloc);
            smb_utf16(b, "::$DATA", false);
            return true;
        case 34:                                         /* FileNetworkOpenInformation */
            s2_times(b);
            smb_put64(b, alloc);
            smb_put64(b, size);
            smb_put32(b, attrs);
            smb_put32(b, 0);
            return true;
        case 35:                                         /* FileAttributeTagInformation */
            smb_put32(b, attrs);
            smb_put32(b, 0);
            return true;
        }
        return false;
    }
    if (type == 2) {
        struct smb_ident id;
        smb_ident(&id);
        switch (cls) {
        case 1:                                          /* FileFsVolumeInformation */
            smb_put64(b, smb_filetime(id.boot_us - 86400LL * 1000000 * 300));
            smb_put32(b, (uint32_t)(id.guid[0] | id.guid[1] << 8 | id.guid[2] << 16 | (uint32_t)id.guid[3] << 24));
            smb_put32(b, 0);
            hp_buf_putc(b, 0);
            hp_buf_putc(b, 0);
            return true;
        case 3:                                          /* FileFsSizeInformation */
            smb_put64(b, 30146815);
            smb_put64(b, 11932417);
            smb_put32(b, 8);
            smb_put32(b, 512);
            return true;
        case 4:                                          /* FileFsDeviceInformation */
            smb_put32(b, 7);
            smb_put32(b, 0x20);
            return true;
        case 5:                                          /* FileFsAttributeInformation */
            smb_put32(b, 0x00c706ff);
            smb_put32(b, 255);
            smb_put32(b, 8);
            smb_utf16(b, "NTFS", false);
            return true;
        case 7:                                          /* FileFsFullSizeInformation */
            smb_put64(b, 30146815);
            smb_put64(b, 11932417);
            smb_put64(b, 11932417);
            smb_put32(b, 8);
            smb_put32(b, 512);
            return true;
        }
        return false;
    }
    if (type == 3) {                                     /* a DACL granting Everyone full control */
        static const uint8_t sd[] = { 1,    0,    0x04, 0x80, 0,    0,    0,    0,    0,    0, 0, 0,
                                      0,    0,    0,    0,    20,   0,    0,    0,    2,    0, 28, 0,
                                      1,    0,    0,    0,    0,    3,    20,   0,    0xff, 0x01, 0x1f, 0,
                                      1,    1,    0,    0,    0,    0,    0,    1,    0,    0, 0,  0 };
        hp_buf_put(b, sd, sizeof(sd));
        return true;
    }
    return false;
}

static void s2_query_info(struct hp_smb *s, const struct s2req *q, struct hp_buf *out, uint64_t *last)
{
    struct hp_rd r = q->body;
    hp_rd_skip(&r, 2);
    uint8_t type = hp_rd_u8(&r), cls = hp_rd_u8(&r);
    uint32_t maxlen = hp_rd_u32le(&r);
    hp_rd_skip(&r, 2 + 2 + 4 + 4 + 4);
    struct smb_file *f = s2_fid(s, &r, last);
    if (!f) {
        s2_error(s, q, ST_INVALID_HANDLE, out);
        return;
    }
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    if (!s2_info(s, f, type, cls, &b)) {
        s2_error(s, q, type == 1 || type == 2 ? ST_INVALID_INFO_CLASS : ST_NOT_SUPPORTED, out);
    } else if (b.len > maxlen) {
        s2_hdr(s, q, type == 3 ? 0xC0000023u : 0xC0000004u, out);   /* BUFFER_TOO_SMALL / INFO_LENGTH_MISMATCH */
        smb_put16(out, 9);
        smb_put16(out, 0);
        smb_put32(out, 4);
        smb_put32(out, (uint32_t)b.len);
    } else {
        s2_hdr(s, q, ST_OK, out);
        smb_put16(out, 9);
        smb_put16(out, 0x48);
        smb_put32(out, (uint32_t)b.len);
        hp_buf_put(out, b.data ? b.data : (const uint8_t *)"", b.len);
        if (!b.len)
            hp_buf_putc(out, 0);
    }
    hp_buf_free(&b);
}

/* One directory entry of the FileInformationClass asked for; false if not served. */
static bool s2_dirent(uint8_t cls, const char *name, struct hp_buf *b)
{
    static const uint8_t fixed[] = { [1] = 64, [2] = 68, [3] = 94, [12] = 12, [37] = 104, [38] = 80 };
    if (cls >= sizeof(fixed) || !fixed[cls])
        return false;
    size_t nl = strlen(name) * 2;
    smb_put32(b, 0);                                     /* NextEntryOffset, set by the caller */
    smb_put32(b, 0);
    if (cls == 12) {
        smb_put32(b, (uint32_t)nl);
    } else {
        s2_times(b);
        smb_put64(b, 0);
        smb_put64(b, 0);
        smb_put32(b, 0x10);
        smb_put32(b, (uint32_t)nl);
        if (cls != 1)
            smb_put32(b, 0);                             /* EaSize */
        if (cls == 3 || cls == 37) {
            hp_buf_putc(b, 0);
            hp_buf_putc(b, 0);
            for (int i = 0; i < 12; i++)
                smb_put16(b, 0);                         /* ShortName */
        }
        if (cls == 37 || cls == 38) {
            if (cls == 37)
                smb_put16(b, 0);
            else
                smb_put32(b, 0);
            smb_put64(b, 0x0001000000000005ull + strlen(name));
        }
    }
    smb_utf16(b, name, false);
    return true;
}

static void s2_query_directory(struct hp_smb *s, const struct s2req *q, struct hp_buf *out, uint64_t *last)
{
    struct hp_rd r = q->body;
    hp_rd_skip(&r, 2);
    uint8_t cls = hp_rd_u8(&r), flags = hp_rd_u8(&r);
    hp_rd_skip(&r, 4);
    struct smb_file *f = s2_fid(s, &r, last);
    if (!f || !f->dir) {
        s2_error(s, q, !f ? ST_INVALID_HANDLE : ST_INVALID_PARAMETER, out);
        return;
    }
    if (flags & 0x11)                                    /* RESTART_SCANS / REOPEN */
        f->listed = false;
    struct hp_buf b;
    hp_buf_init(&b, 1024);
    size_t first = 0;
    bool ok = !f->listed && s2_dirent(cls, ".", &b);
    if (ok) {
        while (b.len % 8)
            hp_buf_putc(&b, 0);
        first = b.len;
        if (!(flags & 0x02))                             /* not RETURN_SINGLE_ENTRY */
            s2_dirent(cls, "..", &b);
        if (b.len > first)
            smb_set32(&b, 0, (uint32_t)first);     /* "." links to ".." */
    }
    if (!ok) {
        s2_error(s, q, f->listed ? ST_NO_MORE_FILES : ST_INVALID_INFO_CLASS, out);
    } else {
        f->listed = true;
        s2_hdr(s, q, ST_OK, out);
        smb_put16(out, 9);
        smb_put16(out, 0x48);
        smb_put32(out, (uint32_t)b.len);
        hp_buf_put(out, b.data, b.len);
    }
    hp_buf_free(&b);
}

static void s2_simple(struct hp_smb *s, const struct s2req *q, uint16_t size, struct hp_buf *out)
{
    s2_hdr(s, q, ST_OK, out);
    smb_put16(out, size);
    smb_put16(out, 0);
}

static void s2_dispatch(struct hp_smb *s, const struct s2req *q, struct hp_buf *out, uint64_t *last)
{
    if (q->cmd > S2_NEGOTIATE && q->cmd != S2_SESSION_SETUP && q->cmd != S2_ECHO && !s->authed) {
        s2_error(s, q, ST_USER_SESSION_DELETED, out);
        return;
    }
    switch (q->cmd) {
    case S2_NEGOTIATE: s2_negotiate(s, q, out); break;
    case S2_SESSION_SETUP: s2_session_setup(s, q, out); break;
    case S2_LOGOFF: s->authed = false; s2_simple(s, q, 4, out); break;
    case S2_TREE_CONNECT: s2_tree_connect(s, q, out); break;
    case S2_TREE_DISCONNECT: smb_tree_del(s, q->tid); s2_simple(s, q, 4, out); break;
    case S2_CREATE: s2_create(s, q, out, last); break;
    case S2_CLOSE: s2_close(s, q, out, last); break;
    case S2_FLUSH: s2_simple(s, q, 4, out); break;
    case S2_READ: s2_read(s, q, out, last); break;
    case S2_WRITE: s2_write(s, q, out, last); break;
    case S2_LOCK: s2_simple(s, q, 4, out); break;
    case S2_IOCTL: s2_ioctl(s, q, out, last); break;
    case S2_ECHO: s2_simple(s, q, 4, out); break;
    case S2_QUERY_DIRECTORY: s2_query_directory(s, q, out, last); break;
    case S2_QUERY_INFO: s2_query_info(s, q, out, last); break;
    case S2_SET_INFO: s2_hdr(s, q, ST_OK, out); smb_put16(out, 2); break;
    default: s2_error(s, q, ST_NOT_SUPPORTED, out); break;
    }
}

int smb2_input(struct hp_smb *s, const uint8_t *msg, size_t n, struct hp_buf *out)
{
    size_t at = 0, prev_hdr = (size_t)-1;
    size_t fr = smb_frame_begin(out);
    uint64_t last = 0;
    for (int k = 0; k < S2_MAX_COMPOUND; k++) {
        struct hp_rd r;
        hp_rd_init(&r, msg + at, n - at);
        struct s2req q;
        memset(&q, 0, sizeof(q));
        if (!hp_rd_starts_with(&r, "\xfeSMB", 4))
            return -1;
        hp_rd_skip(&r, 4);
        uint16_t hs = hp_rd_u16le(&r);
        q.charge = hp_rd_u16le(&r);
        hp_rd_skip(&r, 4);
        q.cmd = hp_rd_u16le(&r);
        q.credits = hp_rd_u16le(&r);
        q.flags = hp_rd_u32le(&r);
        uint32_t next = hp_rd_u32le(&r);
        q.mid = hp_rd_u64le(&r);
        q.pid = hp_rd_u32le(&r);
        q.tid = hp_rd_u32le(&r);
        q.sid = hp_rd_u64le(&r);
        hp_rd_skip(&r, 16);
        if (!hp_rd_ok(&r) || hs != 64 || (next && (next < 64 || next > n - at)))
            return -1;
        q.msg = msg + at;
        q.n = next ? next : n - at;
        hp_rd_init(&q.body, q.msg + 64, q.n - 64);
        if (q.cmd == S2_CANCEL)
            break;                                       /* no reply */
        if (prev_hdr != (size_t)-1) {
            while ((out->len - fr - 4) % 8)
                hp_buf_putc(out, 0);
            smb_set32(out, prev_hdr + 20, (uint32_t)(out->len - prev_hdr));
        }
        prev_hdr = out->len;
        s2_dispatch(s, &q, out, &last);
        if (!next)
            break;
        at += next;
    }
    if (prev_hdr == (size_t)-1)
        out->len = fr;                                   /* nothing to answer */
    else
        smb_frame_end(out, fr);
    return 0;
}
