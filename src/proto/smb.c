/*
 * smb.c - the "smb" module: an unpatched-looking Windows file server on
 * TCP 445 (direct hosting) and 139 (NetBIOS session service).
 *
 * Framing: every SMB message travels in a 4-byte NBSS header (type, 17-bit
 * length).  On 139 a client first sends a SESSION REQUEST (0x81) naming the
 * server; it gets a POSITIVE SESSION RESPONSE whatever the called name is,
 * as Windows does for *SMBSERVER.  Keep-alives (0x85) are ignored.
 *
 * The engine (struct hp_smb, smb.h) decides SMB1 vs SMB2 from the first
 * message: an SMB1 NEGOTIATE offering "SMB 2.???" / "SMB 2.002" is answered
 * in SMB2 (as Windows 7 does), one offering only "NT LM 0.12" stays SMB1
 * (nmap's scripts, EternalBlue, WannaCry).
 *
 * Accept rule for logins: every NTLM AUTHENTICATE is accepted - the worm
 * and scanner traffic this module exists for proceeds to tree connects and
 * writes only after a successful session setup.  Since the session key of
 * a real password cannot be derived, sessions are granted as guest (SMB2
 * IS_GUEST / SMB1 Action guest bit): clients then do not sign, as against a
 * Windows host with the guest account enabled.  An empty user name is an
 * anonymous (null) session.  Each attempt is one login event with the
 * NetNTLMv1/v2 response as a hashcat line.
 *
 * Identity: the NetBIOS/DNS names and the OS build come from hp_ntlm_identity
 * (keys windows_hostname, windows_domain, windows_build shared with MSSQL and
 * RDP); if no build was drawn yet this module draws 6.1.7601 (Windows 7 SP1 /
 * Server 2008 R2 SP1, the MS17-010 population).  smb_os (edition string),
 * smb_guid, smb_boot and smb_shares are drawn once and persisted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "smb_int.h"
#include "conn.h"
#include "config.h"
#include "identity.h"
#include "proto.h"
#include "util.h"
#include "capture/upload.h"
#include "capture/capture.h"

#define SMB_DEFAULT_MAX_FILE (32u * 1024 * 1024)
#define SMB_MSG_MAX (1u << 20)             /* largest message accepted (we grant 64 KiB I/O) */

/* ---- little-endian output ------------------------------------------------------------ */

void smb_put16(struct hp_buf *b, uint16_t v)
{
    uint8_t w[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    hp_buf_put(b, w, 2);
}

void smb_put32(struct hp_buf *b, uint32_t v)
{
    uint8_t w[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    hp_buf_put(b, w, 4);
}

void smb_put64(struct hp_buf *b, uint64_t v)
{
    smb_put32(b, (uint32_t)v);
    smb_put32(b, (uint32_t)(v >> 32));
}

void smb_set16(struct hp_buf *b, size_t at, uint16_t v)
{
    if (at + 2 <= b->len) {
        b->data[at] = (uint8_t)v;
        b->data[at + 1] = (uint8_t)(v >> 8);
    }
}

void smb_set32(struct hp_buf *b, size_t at, uint32_t v)
{
    if (at + 4 <= b->len)
        for (int i = 0; i < 4; i++)
            b->data[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}

void smb_utf16(struct hp_buf *b, const char *s, bool nul)
{
    hp_utf8_to_utf16le(b, s, strlen(s));
    if (nul)
        smb_put16(b, 0);
}

uint64_t smb_filetime(int64_t us)
{
    return (uint64_t)(us + 11644473600LL * 1000000LL) * 10u;
}

size_t smb_frame_begin(struct hp_buf *out)
{
    size_t at = out->len;
    smb_put32(out, 0);
    return at;
}

void smb_frame_end(struct hp_buf *out, size_t start)
{
    if (start + 4 > out->len)
        return;
    size_t n = out->len - start - 4;
    if (n > 0xffffff)
        n = 0xffffff;
    out->data[start] = 0;
    out->data[start + 1] = (uint8_t)(n >> 16);
    out->data[start + 2] = (uint8_t)(n >> 8);
    out->data[start + 3] = (uint8_t)n;
}

/* ---- identity ------------------------------------------------------------------------- */

struct smb_os {
    const char *build;           /* windows_build it fits */
    const char *os, *lanman;
};

static const struct smb_os smb_oses[] = {
    { "6.1.7601", "Windows 7 Professional 7601 Service Pack 1", "Windows 7 Professional 6.1" },
    { "6.1.7601", "Windows 7 Ultimate 7601 Service Pack 1", "Windows 7 Ultimate 6.1" },
    { "6.1.7601", "Windows 7 Enterprise 7601 Service Pack 1", "Windows 7 Enterprise 6.1" },
    { "6.1.7601", "Windows Server 2008 R2 Standard 7601 Service Pack 1", "Windows Server 2008 R2 Standard 6.1" },
    { "6.1.7601", "Windows Server 2008 R2 Enterprise 7601 Service Pack 1",
      "Windows Server 2008 R2 Enterprise 6.1" },
    { "10.0.14393", "Windows Server 2016 Standard 14393", "Windows Server 2016 Standard 6.3" },
    { "10.0.14393", "Windows Server 2016 Datacenter 14393", "Windows Server 2016 Datacenter 6.3" },
    { "10.0.17763", "Windows Server 2019 Standard 17763", "Windows Server 2019 Standard 6.3" },
    { "10.0.20348", "Windows Server 2022 Standard 20348", "Windows Server 2022 Standard 6.3" },
};

static const char *const smb_share_pool[] = { "Public", "Shared", "Data", "Scans", "Backup", "Software",
                                              "Transfer", "Finance" };

static struct smb_share smb_share_tab[SMB_MAX_SHARES];
static char smb_share_names[SMB_MAX_SHARES][32];
static size_t smb_nshares;

static const struct smb_os *smb_os_pick(void)
{
    const char *build = hp_identity_get("windows_build");
    const char *host = hp_identity_get("windows_hostname");
    if ((!build || !*build || !strcmp(build, "6.1.7601")) && (!host || !*host)) {
        /* Windows 7 / 2008 R2 setup names a machine WIN-<11 random characters> */
        static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        char name[16] = "WIN-";
        for (int i = 4; i < 15; i++)
            name[i] = al[hp_random_u64() % (sizeof(al) - 1)];
        name[15] = '\0';
        hp_identity_set("windows_hostname", name);
    }
    if (!build || !*build) {
        hp_identity_set("windows_build", "6.1.7601");
        build = hp_identity_get("windows_build");
        if (!build)
            build = "6.1.7601";
    }
    const char *os = hp_identity_get("smb_os");
    for (size_t i = 0; os && i < HP_ARRAY_LEN(smb_oses); i++)
        if (strcmp(os, smb_oses[i].os) == 0 && strcmp(build, smb_oses[i].build) == 0)
            return &smb_oses[i];
    size_t fit[HP_ARRAY_LEN(smb_oses)], nfit = 0;
    for (size_t i = 0; i < HP_ARRAY_LEN(smb_oses); i++)
        if (strcmp(build, smb_oses[i].build) == 0)
            fit[nfit++] = i;
    const struct smb_os *pick = nfit ? &smb_oses[fit[hp_random_u64() % nfit]] : &smb_oses[7];
    hp_identity_set("smb_os", pick->os);
    return pick;
}

static void smb_shares_load(void)
{
    const char *list = hp_identity_get("smb_shares");
    char drawn[128];
    if (!list || !*list) {
        /* Users is on every Windows 7+ host; 1-2 operator shares are drawn, Public most often */
        size_t a = hp_random_u64() % 2 ? 0 : hp_random_u64() % HP_ARRAY_LEN(smb_share_pool);
        size_t b = hp_random_u64() % HP_ARRAY_LEN(smb_share_pool);
        if (b == a || hp_random_u64() % 2)
            snprintf(drawn, sizeof(drawn), "Users,%s", smb_share_pool[a]);
        else
            snprintf(drawn, sizeof(drawn), "Users,%s,%s", smb_share_pool[a], smb_share_pool[b]);
        hp_identity_set("smb_shares", drawn);
        list = hp_identity_get("smb_shares");
        if (!list)
            list = "Users,Public";
    }
    smb_nshares = 0;
    static const struct smb_share fixed[] = {
        { "IPC$", "Remote IPC", SMB_SHARE_IPC, 0x80000003u },
        { "ADMIN$", "Remote Admin", SMB_SHARE_DISK, 0x80000000u },
        { "C$", "Default share", SMB_SHARE_DISK, 0x80000000u },
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(fixed); i++)
        smb_share_tab[smb_nshares++] = fixed[i];
    const char *p = list;
    while (*p && smb_nshares < SMB_MAX_SHARES) {
        size_t n = strcspn(p, ",");
        if (n > 0 && n < sizeof(smb_share_names[0])) {
            memcpy(smb_share_names[smb_nshares], p, n);
            smb_share_names[smb_nshares][n] = '\0';
            smb_share_tab[smb_nshares] = (struct smb_share){ smb_share_names[smb_nshares], "", SMB_SHARE_DISK, 0 };
            smb_nshares++;
        }
        p += n;
        if (*p == ',')
            p++;
    }
}

size_t smb_shares(const struct smb_share **out)
{
    if (!smb_nshares)
        smb_shares_load();
    *out = smb_share_tab;
    return smb_nshares;
}

int smb_share_find(const char *name)
{
    const struct smb_share *t;
    size_t n = smb_shares(&t);
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(t[i].name, name) == 0)
            return (int)i;
    return -1;
}

void smb_ident(struct smb_ident *id)
{
    const struct smb_os *os = smb_os_pick();
    hp_ntlm_identity(&id->ntlm);
    const char *wg = hp_identity_get("windows_domain");
    snprintf(id->workgroup, sizeof(id->workgroup), "%.15s",
             id->ntlm.joined ? id->ntlm.nb_domain : wg && *wg ? wg : "WORKGROUP");
    id->os = os->os;
    id->lanman = os->lanman;
    const char *g = hp_identity_get("smb_guid");
    bool ok = g && strlen(g) == 32;
    for (int i = 0; ok && i < 16; i++) {
        int hi = hp_hexval(g[2 * i]), lo = hp_hexval(g[2 * i + 1]);
        if (hi < 0 || lo < 0)
            ok = false;
        else
            id->guid[i] = (uint8_t)(hi << 4 | lo);
    }
    if (!ok) {
        char hex[33];
        hp_random_hex(hex, 32);
        hex[32] = '\0';
        hp_identity_set("smb_guid", hex);
        for (int i = 0; i < 16; i++)
            id->guid[i] = (uint8_t)(hp_hexval(hex[2 * i]) << 4 | hp_hexval(hex[2 * i + 1]));
    }
    const char *bt = hp_identity_get("smb_boot");
    long long boot = bt ? atoll(bt) : 0;
    if (boot <= 0) {
        /* up for 3 to 60 days when first seen: an unpatched box that is rarely rebooted */
        boot = hp_now_us() / 1000000 - 3 * 86400 - (long long)(hp_random_u64() % (57 * 86400));
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%lld", boot);
        hp_identity_set("smb_boot", tmp);
    }
    id->boot_us = (int64_t)boot * 1000000;
}

/* ---- events --------------------------------------------------------------------------- */

void smb_ev_negotiate(struct hp_smb *s, int version, const char *const *dialects, size_t n, const char *chosen)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "smb.negotiate");
    hp_ev_int(&ev, "smb_version", version);
    hp_ev_arr_begin(&ev, "dialects");
    for (size_t i = 0; i < n && i < 64; i++)
        hp_ev_elem_str(&ev, dialects[i]);
    hp_ev_arr_end(&ev);
    hp_ev_str(&ev, "dialect", chosen);
    hp_ev_emit(&ev);
}

void smb_ev_tree(struct hp_smb *s, const char *path, const char *share, bool ok)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "smb.tree_connect");
    hp_ev_bytes(&ev, "path", path, strlen(path));
    hp_ev_bytes(&ev, "share", share, strlen(share));
    hp_ev_bool(&ev, "ok", ok);
    hp_ev_bytes(&ev, "username", s->user, strlen(s->user));
    hp_ev_emit(&ev);
}

void smb_ev_pipe(struct hp_smb *s, const char *pipe, const char *op)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "smb.pipe");
    hp_ev_bytes(&ev, "pipe", pipe, strlen(pipe));
    hp_ev_str(&ev, "operation", op);
    hp_ev_emit(&ev);
}

void smb_ev_simple(struct hp_smb *s, const char *eventid, const char *k, const char *v)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, eventid);
    if (k)
        hp_ev_str(&ev, k, v);
    hp_ev_emit(&ev);
}

/* ---- authentication ------------------------------------------------------------------- */

static void ev_login(struct hp_smb *s, const struct hp_ntlm_auth *a, const char *method, const char *os,
                     const char *lanman)
{
    char line[HP_NTLM_HASHCAT_MAX];
    const char *fmt = NULL;
    size_t n = hp_ntlm_hashcat(a, s->chal, line, sizeof(line), &fmt);
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "login.success");
    hp_ev_bytes(&ev, "username", a->user, strlen(a->user));
    hp_ev_bytes(&ev, "domain", a->domain, strlen(a->domain));
    if (a->workstation[0])
        hp_ev_bytes(&ev, "workstation", a->workstation, strlen(a->workstation));
    hp_ev_str(&ev, "method", method);
    if (n) {
        hp_ev_str(&ev, "hash", line);
        hp_ev_str(&ev, "hash_format", fmt);
    }
    if (os && *os)
        hp_ev_bytes(&ev, "client_os", os, strlen(os));
    if (lanman && *lanman)
        hp_ev_bytes(&ev, "client_lanman", lanman, strlen(lanman));
    hp_ev_bool(&ev, "anonymous", a->anonymous);
    hp_ev_bool(&ev, "guest", !a->anonymous);
    hp_ev_uint(&ev, "attempt", s->attempts);
    hp_ev_str(&ev, "smb_dialect", s->version == 2 ? "SMB2" : "NT LM 0.12");
    hp_ev_emit(&ev);
}

static void smb_login(struct hp_smb *s, const struct hp_ntlm_auth *a, const char *method, const char *os,
                      const char *lanman)
{
    if (!os)
        os = s->cli_os;
    if (!lanman)
        lanman = s->cli_lanman;
    if (s->attempts < SMB_MAX_ATTEMPTS) {
        s->attempts++;
        ev_login(s, a, method, os, lanman);
    }
    s->authed = true;
    s->guest = !a->anonymous;
    snprintf(s->user, sizeof(s->user), "%s", a->user);
    snprintf(s->domain, sizeof(s->domain), "%s", a->domain);
}

int smb_auth(struct hp_smb *s, const uint8_t *blob, size_t n, struct hp_buf *chal_out)
{
    int t = hp_ntlm_type(blob, n);
    if (t == HP_NTLM_NEGOTIATE) {
        struct hp_ntlm_negotiate neg;
        if (hp_ntlm_parse_negotiate(blob, n, &neg) != 0)
            return -1;
        struct smb_ident id;
        smb_ident(&id);
        hp_random_bytes(s->chal, sizeof(s->chal));
        if (hp_ntlm_build_challenge(&id.ntlm, neg.flags, s->chal, hp_now_us(), chal_out) != 0)
            return -1;
        return t;
    }
    if (t == HP_NTLM_AUTHENTICATE) {
        struct hp_ntlm_auth a;
        if (hp_ntlm_parse_authenticate(blob, n, &a) != 0)
            return -1;
        smb_login(s, &a, "ntlmssp", NULL, NULL);
        return t;
    }
    return -1;
}

void smb_auth_basic(struct hp_smb *s, const char *user, const char *domain, const uint8_t *lm, size_t lmlen,
                    const uint8_t *nt, size_t ntlen, const char *os, const char *lanman)
{
    struct hp_ntlm_auth a;
    memset(&a, 0, sizeof(a));
    snprintf(a.user, sizeof(a.user), "%s", user);
    snprintf(a.domain, sizeof(a.domain), "%s", domain);
    a.lm = lm;
    a.lm_len = lmlen;
    a.nt = nt;
    a.nt_len = ntlen;
    a.anonymous = !user[0] && ntlen == 0;
    smb_login(s, &a, "ntlm", os, lanman);
}

/* ---- trees and files ------------------------------------------------------------------ */

struct smb_tree *smb_tree_add(struct hp_smb *s, int share)
{
    for (size_t i = 0; i < SMB_MAX_TREES; i++) {
        struct smb_tree *t = &s->trees[i];
        if (!t->used) {
            t->used = true;
            t->share = share;
            t->id = ++s->next_tid;
            if (s->version == 1)
                t->id = (t->id & 0x7fff) ? (t->id & 0x7fff) : 1;   /* SMB1 TIDs are 16-bit */
            return t;
        }
    }
    return NULL;
}

struct smb_tree *smb_tree_get(struct hp_smb *s, uint32_t id)
{
    for (size_t i = 0; i < SMB_MAX_TREES; i++)
        if (s->trees[i].used && s->trees[i].id == id)
            return &s->trees[i];
    return NULL;
}

void smb_tree_del(struct hp_smb *s, uint32_t id)
{
    struct smb_tree *t = smb_tree_get(s, id);
    if (!t)
        return;
    for (size_t i = 0; i < SMB_MAX_FILES; i++)
        if (s->files[i].used && s->files[i].tid == id)
            smb_file_close(s, &s->files[i]);
    t->used = false;
}

struct smb_file *smb_file_open(struct hp_smb *s, uint32_t tid, const char *name, bool pipe, bool dir)
{
    for (size_t i = 0; i < SMB_MAX_FILES; i++) {
        struct smb_file *f = &s->files[i];
        if (!f->used) {
            memset(f, 0, sizeof(*f));
            f->used = true;
            f->pipe = pipe;
            f->dir = dir;
            f->tid = tid;
            f->id = ++s->next_fid;
            if (s->version == 1)
                f->id = 0x4000 + (f->id & 0x3fff);          /* SMB1 FIDs are 16-bit, never 0 */
            snprintf(f->name, sizeof(f->name), "%s", name);
            return f;
        }
    }
    return NULL;
}

struct smb_file *smb_file_get(struct hp_smb *s, uint64_t id)
{
    for (size_t i = 0; i < SMB_MAX_FILES; i++)
        if (s->files[i].used && s->files[i].id == id)
            return &s->files[i];
    return NULL;
}

/* How far this file's kept bytes may reach: max_file, and what is left of
 * the connection's budget of 2 x max_file.  Holes count as kept bytes (they
 * are zero-filled): without the budget, one-byte writes at max_file - 1 to
 * SMB_MAX_FILES open files made a few hundred bytes of requests hold (and
 * then store) SMB_MAX_FILES x max_file bytes of zeros. */
static uint64_t smb_file_lim(const struct hp_smb *s, const struct smb_file *f)
{
    uint64_t budget = 2 * s->o.max_file;
    uint64_t room = budget > s->kept ? budget - s->kept : 0;
    uint64_t lim = f->len + room;
    return lim < s->o.max_file ? lim : s->o.max_file;
}

void smb_file_write(struct hp_smb *s, struct smb_file *f, uint64_t off, const uint8_t *p, size_t n)
{
    f->written = true;
    if (off + n > f->size && off < UINT64_MAX - n)
        f->size = off + n;
    uint64_t lim = smb_file_lim(s, f);
    if (off >= lim) {
        f->cut = true;
        return;
    }
    size_t keep = n;
    if (off + keep > lim) {
        keep = (size_t)(lim - off);
        f->cut = true;
    }
    if (keep == 0)
        return;                                   /* zero-length write: nothing to keep */
    size_t end = (size_t)off + keep;
    if (end > f->alloc) {
        size_t na = f->alloc ? f->alloc : 65536;
        while (na < end)
            na *= 2;
        if (na > s->o.max_file)
            na = (size_t)s->o.max_file;
        uint8_t *nd = realloc(f->data, na);
        if (!nd) {
            f->cut = true;
            return;
        }
        f->data = nd;
        f->alloc = na;
    }
    if (off > f->len)
        memset(f->data + f->len, 0, (size_t)off - f->len);
    memcpy(f->data + off, p, keep);
    if (end > f->len) {
        s->kept += end - f->len;
        f->len = end;
    }
}

static const char *tree_share_name(struct hp_smb *s, uint32_t tid)
{
    struct smb_tree *t = smb_tree_get(s, tid);
    const struct smb_share *tab;
    size_t n = smb_shares(&tab);
    return t && t->share >= 0 && (size_t)t->share < n ? tab[t->share].name : "";
}

void smb_file_close(struct hp_smb *s, struct smb_file *f)
{
    if (f->written && !f->pipe) {
        char sha[HP_SHA256_HEX_LEN + 1] = "";
        const char *share = tree_share_name(s, f->tid);
        struct hp_upload_info u = { s->o.data_dir, f->name, strlen(f->name), "smb", f->size };
        hp_upload_record(s->ctx, &u, f->data ? f->data : (const uint8_t *)"", f->len, sha);
        struct hp_ev ev;
        hp_ev_begin(&ev, s->ctx, "smb.file_write");
        hp_ev_bytes(&ev, "filename", f->name, strlen(f->name));
        hp_ev_bytes(&ev, "share", share, strlen(share));
        hp_ev_uint(&ev, "size", f->size);
        hp_ev_str(&ev, "sha256", sha);
        hp_ev_bool(&ev, "truncated_file", f->cut);
        hp_ev_bytes(&ev, "username", s->user, strlen(s->user));
        hp_ev_emit(&ev);
    }
    free(f->data);
    free(f->pipe_out);
    memset(f, 0, sizeof(*f));
}

/* ---- engine --------------------------------------------------------------------------- */

struct hp_smb *hp_smb_new(const struct hp_evctx *ctx, const struct hp_smb_opts *o)
{
    struct hp_smb *s = hp_xcalloc(1, sizeof(*s));
    s->ctx = ctx;
    s->o = *o;
    if (!s->o.max_file)
        s->o.max_file = SMB_DEFAULT_MAX_FILE;
    s->session_id = (hp_random_u64() & 0x0000ffffffffffffull) | 0x0000040000000001ull;
    s->uid = (uint16_t)(0x0800 + hp_random_u64() % 0x7000);
    hp_random_bytes(&s->dp_sig, sizeof(s->dp_sig));
    return s;
}

void hp_smb_free(struct hp_smb *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < SMB_MAX_FILES; i++)
        if (s->files[i].used)
            smb_file_close(s, &s->files[i]);
    free(s->dp_buf);
    free(s);
}

int hp_smb_input(struct hp_smb *s, const uint8_t *msg, size_t n, struct hp_buf *out)
{
    if (n >= 4 && msg[0] == 0xFE && memcmp(msg + 1, "SMB", 3) == 0)
        return s->version == 1 ? -1 : smb2_input(s, msg, n, out);
    if (n >= 4 && msg[0] == 0xFF && memcmp(msg + 1, "SMB", 3) == 0)
        return s->version == 2 ? -1 : smb1_input(s, msg, n, out);
    return -1;                                    /* Windows drops anything else */
}

/* ---- the module ----------------------------------------------------------------------- */

struct smb_conf {
    uint64_t max_file;
    const char *data_dir;
};

struct smb_cstate {
    struct hp_smb *s;
    bool dead;
};

static int smb_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct smb_conf *sc = hp_xcalloc(1, sizeof(*sc));
    sc->max_file = SMB_DEFAULT_MAX_FILE;
    svc->proto_conf = sc;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        if (strcmp(kv->key, "max_file") == 0) {
            if (hp_parse_size(kv->value, &sc->max_file) != 0 || sc->max_file < 1 ||
                sc->max_file > 256ull * 1024 * 1024) {
                snprintf(err, errlen, "%d: [service %s]: bad value for max_file: '%s' (1 .. 256M)", kv->line,
                         svc->name, kv->value);
                return -1;
            }
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol smb)", kv->line, kv->key,
                     svc->name);
            return -1;
        }
    }
    return 0;
}

static void smb_unconfigure(struct hp_service_cfg *svc)
{
    free(svc->proto_conf);
    svc->proto_conf = NULL;
}

static int smb_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct smb_conf *sc = svc->proto_conf;
    (void)err;
    (void)errlen;
    sc->data_dir = cfg->data_dir;
    struct smb_ident id;
    smb_ident(&id);                   /* draw the identity now, so restarts keep it */
    const struct smb_share *t;
    smb_nshares = 0;
    smb_shares(&t);
    return 0;
}

static struct hp_smb *conn_smb(struct hp_conn *c)
{
    struct smb_cstate *cs = c->pstate;
    if (!cs->s) {
        const struct smb_conf *sc = hp_conn_service_cfg(c)->proto_conf;
        struct hp_smb_opts o = { sc ? sc->data_dir : NULL, sc ? sc->max_file : 0 };
        cs->s = hp_smb_new(&c->ctx, &o);
    }
    return cs->s;
}

static void smb_on_accept(struct hp_conn *c)
{
    (void)conn_smb(c);
}

static void smb_on_data(struct hp_conn *c, struct hp_rd *in)
{
    struct smb_cstate *cs = c->pstate;
    struct hp_smb *s = conn_smb(c);
    struct hp_buf out;
    hp_buf_init(&out, 2u * 1024 * 1024);
    while (!cs->dead && hp_rd_left(in) >= 4) {
        struct hp_rd peek = *in;
        uint8_t type = hp_rd_u8(&peek);
        uint32_t len = hp_rd_u24be(&peek);          /* 24-bit on 445, 17-bit NBSS on 139 */
        if (len > SMB_MSG_MAX) {
            cs->dead = true;
            break;
        }
        if (hp_rd_left(&peek) < len)
            break;                                  /* partial frame: wait */
        hp_rd_skip(in, 4);
        const uint8_t *msg = hp_rd_bytes(in, len);
        if (type == 0x81) {                         /* session request (port 139) */
            static const uint8_t ok[4] = { 0x82, 0, 0, 0 };
            hp_buf_put(&out, ok, sizeof(ok));
        } else if (type == 0x00) {
            if (hp_smb_input(s, msg, len, &out) != 0)
                cs->dead = true;
        } else if (type != 0x85) {
            cs->dead = true;                        /* not an NBSS message */
        }
        if (out.len > 128 * 1024 || !hp_buf_ok(&out))
            break;
    }
    if (out.len)
        hp_conn_send(c, out.data, out.len);
    hp_buf_free(&out);
    if (cs->dead)
        hp_conn_close(c, "protocol");
}

static void smb_on_close(struct hp_conn *c)
{
    struct smb_cstate *cs = c->pstate;
    hp_smb_free(cs->s);
    cs->s = NULL;
}

const struct hp_proto hp_proto_smb = {
    .name = "smb",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "445 139",
    .conn_state_size = sizeof(struct smb_cstate),
    .default_max_input = 96ull * 1024 * 1024,
    .configure = smb_configure,
    .unconfigure = smb_unconfigure,
    .start = smb_start,
    .on_accept = smb_on_accept,
    .on_data = smb_on_data,
    .on_close = smb_on_close,
};
