/*
 * smb_int.h - state and helpers shared by smb.c, smb1.c, smb2.c, smb_rpc.c.
 *
 * One struct hp_smb per connection, heap-allocated and bounded: a fixed
 * table of trees and open files, every captured file capped at max_file and
 * all of a connection's together (holes included) at 2 x max_file.
 */
#ifndef HP_SMB_INT_H
#define HP_SMB_INT_H

#include "smb.h"
#include "ntlm.h"
#include "reader.h"

#define SMB_MAX_TREES   16
#define SMB_MAX_FILES   32
#define SMB_MAX_ATTEMPTS 64
#define SMB_MAX_SHARES  8
#define SMB_NAME_MAX    256
#define SMB_PIPE_OUT_MAX (64 * 1024)

/* NTSTATUS values used. */
#define ST_OK                    0x00000000u
#define ST_MORE_PROCESSING       0xC0000016u
#define ST_NOT_IMPLEMENTED       0xC0000002u
#define ST_INVALID_HANDLE        0xC0000008u
#define ST_INVALID_PARAMETER     0xC000000Du
#define ST_NO_SUCH_FILE          0xC000000Fu
#define ST_INVALID_DEVICE_REQ    0xC0000010u
#define ST_ACCESS_DENIED         0xC0000022u
#define ST_OBJECT_NAME_NOT_FOUND 0xC0000034u
#define ST_LOGON_FAILURE         0xC000006Du
#define ST_NOT_SUPPORTED         0xC00000BBu
#define ST_BAD_NETWORK_NAME      0xC00000CCu
#define ST_PIPE_EMPTY            0xC00000D9u
#define ST_INSUFF_SERVER_RES     0xC0000205u
#define ST_NO_MORE_FILES         0x80000006u
#define ST_END_OF_FILE           0xC0000011u
#define ST_FS_DRIVER_REQUIRED    0xC000019Cu
#define ST_INVALID_INFO_CLASS    0xC0000003u
#define ST_USER_SESSION_DELETED  0xC0000203u
#define ST_NETWORK_NAME_DELETED  0xC00000C9u
#define ST_BUFFER_OVERFLOW       0x80000005u

enum { SMB_SHARE_DISK = 0, SMB_SHARE_IPC = 1 };

struct smb_share {
    const char *name;
    const char *remark;
    int kind;
    uint32_t type;               /* srvsvc STYPE_* */
};

struct smb_tree {
    bool used;
    uint32_t id;
    int share;                   /* index into the share table */
};

struct smb_file {
    bool used;
    bool pipe;
    bool dir;
    uint64_t id;                 /* SMB2 persistent/volatile id, SMB1 FID */
    uint32_t tid;
    char name[SMB_NAME_MAX];
    uint8_t *data;               /* written bytes, at most max_file */
    size_t len, alloc;
    uint64_t size;               /* highest offset written */
    bool written, cut;
    bool listed;                 /* directory: "." and ".." already returned */
    uint8_t *pipe_out;           /* pending DCE/RPC reply */
    size_t pipe_len;
};

struct hp_smb {
    const struct hp_evctx *ctx;
    struct hp_smb_opts o;
    int version;                 /* 0 undecided, 1 SMB1, 2 SMB2 */
    uint16_t dialect;            /* SMB2 dialect */
    bool smb1_ext;               /* SMB1 extended security */
    bool smb1_unicode;
    uint8_t chal[8];
    unsigned attempts;
    bool authed, guest;
    uint64_t session_id;
    uint16_t uid;
    char user[HP_NTLM_NAME_MAX], domain[HP_NTLM_NAME_MAX];
    char cli_os[128], cli_lanman[128];    /* SMB1 session setup strings */
    struct smb_tree trees[SMB_MAX_TREES];
    uint32_t next_tid;
    struct smb_file files[SMB_MAX_FILES];
    uint64_t next_fid;
    uint64_t kept;               /* file bytes kept over the connection, holes included */
    unsigned trans_count;        /* bounds event counts */
    bool ms17_logged, eb_sec_logged, eb_fea_logged, dp_ping_logged;
    /* DoublePulsar upload */
    uint32_t dp_sig, dp_key;
    uint8_t *dp_buf;
    size_t dp_len, dp_alloc;
    uint32_t dp_total;
    unsigned dp_chunks;
    bool dp_done;
};

/* Identity and shares (smb.c). */
struct smb_ident {
    struct hp_ntlm_identity ntlm;
    const char *os;              /* "Windows 7 Professional 7601 Service Pack 1" */
    const char *lanman;          /* "Windows 7 Professional 6.1" */
    char workgroup[16];          /* PrimaryDomain: the NetBIOS domain, or the workgroup name */
    uint8_t guid[16];
    int64_t boot_us;
};
void smb_ident(struct smb_ident *id);
size_t smb_shares(const struct smb_share **out);
int smb_share_find(const char *name);

/* Little-endian output helpers (smb.c). */
void smb_put16(struct hp_buf *b, uint16_t v);
void smb_put32(struct hp_buf *b, uint32_t v);
void smb_put64(struct hp_buf *b, uint64_t v);
void smb_set16(struct hp_buf *b, size_t at, uint16_t v);
void smb_set32(struct hp_buf *b, size_t at, uint32_t v);
void smb_utf16(struct hp_buf *b, const char *s, bool nul);
uint64_t smb_filetime(int64_t us);
/* Begin/finish an NBSS frame in 'out': returns the frame start. */
size_t smb_frame_begin(struct hp_buf *out);
void smb_frame_end(struct hp_buf *out, size_t start);

/* Sessions, trees, files (smb.c). */
struct smb_tree *smb_tree_add(struct hp_smb *s, int share);
struct smb_tree *smb_tree_get(struct hp_smb *s, uint32_t id);
void smb_tree_del(struct hp_smb *s, uint32_t id);
struct smb_file *smb_file_open(struct hp_smb *s, uint32_t tid, const char *name, bool pipe, bool dir);
struct smb_file *smb_file_get(struct hp_smb *s, uint64_t id);
void smb_file_write(struct hp_smb *s, struct smb_file *f, uint64_t off, const uint8_t *p, size_t n);
void smb_file_close(struct hp_smb *s, struct smb_file *f);

/* Authentication shared by both dialects (smb.c): blob is the NTLMSSP
 * message (unwrapped).  Returns the NTLM type handled, appends the
 * CHALLENGE to 'chal_out' for a NEGOTIATE. */
int smb_auth(struct hp_smb *s, const uint8_t *blob, size_t n, struct hp_buf *chal_out);
/* Basic-security (pre-NTLMSSP) SMB1 login with LM/NT responses. */
void smb_auth_basic(struct hp_smb *s, const char *user, const char *domain, const uint8_t *lm, size_t lmlen,
                    const uint8_t *nt, size_t ntlen, const char *os, const char *lanman);

/* Events (smb.c). */
void smb_ev_negotiate(struct hp_smb *s, int version, const char *const *dialects, size_t n, const char *chosen);
void smb_ev_tree(struct hp_smb *s, const char *path, const char *share, bool ok);
void smb_ev_pipe(struct hp_smb *s, const char *pipe, const char *op);
void smb_ev_simple(struct hp_smb *s, const char *eventid, const char *k, const char *v);

/* Named pipes and SPNEGO (smb_rpc.c). */
void smb_pipe_write(struct hp_smb *s, struct smb_file *f, const uint8_t *p, size_t n);
/* Take up to max bytes of the pending pipe reply. */
size_t smb_pipe_read(struct smb_file *f, uint8_t *dst, size_t max);
void smb_spnego_init(struct hp_buf *b);            /* negTokenInit of NEGOTIATE */
void smb_spnego_done(struct hp_buf *b);            /* negTokenResp accept-completed */

/* Dialect engines. */
int smb1_input(struct hp_smb *s, const uint8_t *msg, size_t n, struct hp_buf *out);
int smb2_input(struct hp_smb *s, const uint8_t *msg, size_t n, struct hp_buf *out);
/* An SMB1 NEGOTIATE that offers SMB2 gets an SMB2 answer (smb2.c). */
void smb2_negotiate_reply(struct hp_smb *s, uint16_t dialect, uint64_t mid, struct hp_buf *out);

#endif
