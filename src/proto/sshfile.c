/*
 * sshfile.c - SCP sink/source and SFTP v3 server over an SSH channel.
 *
 * Both speak to attacker-controlled bytes: everything is parsed through
 * hp_rd (or byte by byte for the SCP header lines, which are accumulated in
 * a capped hp_buf); no length from the wire indexes memory without being
 * checked against what is really there.
 *
 * SCP (OpenSSH scp.c, the remote end of "scp -O"):
 *   sink, "scp [-r] [-p] [-d] [-v] -t TARGET": the sink sends "\0", then
 *   reads records: "C<mode> <size> <name>\n" (ack "\0", then size bytes,
 *   then the client's one-byte status, then "\0"), "D<mode> 0 <name>\n"
 *   (-r; a nested sink, ack "\0"), "E\n" (end of a directory, ack "\0"),
 *   "T<mtime> <usec> <atime> <usec>\n" (-p, ack "\0"), "\1msg\n" (a client
 *   error, counted), "\2msg\n" (fatal).  Errors go to the client as
 *   "\1scp: MESSAGE\n"; protocol errors ("protocol error: ...") and bad names
 *   end the command with status 1, like OpenSSH.  At EOF the exit status is 1
 *   if there were errors, else 0.
 *   source, "scp -f PATH...": after the client's first byte, every path
 *   gets "\1scp: PATH: No such file or directory\n"; exit status 1.
 *
 * SFTP (draft-ietf-secsh-filexfer-02, as OpenSSH's sftp-server 9.x speaks
 * it): packets are uint32 length, byte type, uint32 id, fields; at most
 * 256 KiB (a longer one ends the server with status 11, like sftp-server).
 * A request whose fields run past its packet, or a name with an embedded NUL,
 * is fatal (status 255) as in sftp-server; unknown packet types get no reply
 * (sftp-server only logs them); unknown extended requests get
 * OP_UNSUPPORTED.  INIT answers VERSION 3 with OpenSSH 9's extension list,
 * all of them answered plausibly (limits@openssh.com with sftp-server's
 * numbers, so OpenSSH clients size their requests the same way).
 *
 * The fake file system: a static Debian 12 tree (/, /root, /tmp, /var/tmp,
 * /dev/shm, /usr/..., the /bin -> usr/bin style links), the user's home,
 * directories made with MKDIR and files uploaded during this SFTP session.
 * Paths are normalised lexically against the home directory (the working
 * directory of sftp-server); nothing here ever touches the real file system
 * except the payload store, which only sees hashes.
 *
 * Uploads: WRITE requests land in a per-handle buffer at their offsets (in
 * order or not; holes read as zeros).  At most max_file bytes are kept per
 * file and max_total per channel; the rest is acknowledged and dropped, and
 * the file is reported with "truncated": true.  CLOSE (or the end of the
 * session, for handles left open) stores the kept bytes and emits
 * session.file_upload.  Every path-based request is also logged as
 * client.sftp {op, path} (at most SFTP_MAX_OP_EVENTS per channel).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "sshfile.h"
#include "buf.h"
#include "event.h"
#include "reader.h"
#include "../capture/capture.h"
#include "../capture/store.h"

#define SFTP_MAX_MSG       (256 * 1024)
#define SFTP_MAX_HANDLES   16
#define SFTP_MAX_READ      32768       /* short reads are legal; keeps replies within channel windows */
#define SFTP_MAX_FILES     256         /* closed uploads remembered for stat / readdir */
#define SFTP_MAX_DIRS      256         /* directories made with MKDIR */
#define SFTP_MAX_DIRENTS   1024
#define SFTP_MAX_OP_EVENTS 1000
#define SCP_MAX_LINE       8192
#define SCP_MAX_DEPTH      64
#define SCP_MAX_RESP       2047        /* OpenSSH response() reads at most this much of a message */
#define FS_PATH_MAX        4096
#define FS_NAME_MAX        255
#define OUT_CAP            (512 * 1024)

enum {
    FXP_INIT = 1, FXP_VERSION = 2, FXP_OPEN = 3, FXP_CLOSE = 4, FXP_READ = 5, FXP_WRITE = 6,
    FXP_LSTAT = 7, FXP_FSTAT = 8, FXP_SETSTAT = 9, FXP_FSETSTAT = 10, FXP_OPENDIR = 11,
    FXP_READDIR = 12, FXP_REMOVE = 13, FXP_MKDIR = 14, FXP_RMDIR = 15, FXP_REALPATH = 16,
    FXP_STAT = 17, FXP_RENAME = 18, FXP_READLINK = 19, FXP_SYMLINK = 20,
    FXP_STATUS = 101, FXP_HANDLE = 102, FXP_DATA = 103, FXP_NAME = 104, FXP_ATTRS = 105,
    FXP_EXTENDED = 200, FXP_EXTENDED_REPLY = 201,
};
enum {
    FX_OK = 0, FX_EOF = 1, FX_NO_SUCH_FILE = 2, FX_PERMISSION_DENIED = 3, FX_FAILURE = 4,
    FX_BAD_MESSAGE = 5, FX_NO_CONNECTION = 6, FX_CONNECTION_LOST = 7, FX_OP_UNSUPPORTED = 8,
};
#define ATTR_SIZE        0x00000001u
#define ATTR_UIDGID      0x00000002u
#define ATTR_PERMISSIONS 0x00000004u
#define ATTR_ACMODTIME   0x00000008u
#define ATTR_EXTENDED    0x80000000u
#define FXF_READ   0x01u
#define FXF_WRITE  0x02u
#define FXF_APPEND 0x04u
#define FXF_CREAT  0x08u
#define FXF_TRUNC  0x10u
#define FXF_EXCL   0x20u

#define S_DIR  0040000u
#define S_REG  0100000u
#define S_LNK  0120000u
#define S_FMT  0170000u

enum kind { K_SCP_SINK, K_SCP_SOURCE, K_SFTP };
enum scp_state { SC_HDR, SC_DATA, SC_RESP, SC_RESP_MSG, SC_SRC_WAIT, SC_SRC_MSG };
enum { H_UNUSED = 0, H_FILE, H_DIR };

/* A file being received. */
struct upload {
    uint8_t *name;                /* as the client named it (event "filename") */
    size_t name_len;
    uint8_t *data;                /* the kept bytes */
    size_t len, alloc;
    uint64_t size;                /* logical size: highest byte written + 1 */
    bool truncated;               /* bytes were dropped (caps, lost connection) */
    bool active;
};

struct fattr {
    uint32_t flags;
    uint64_t size;
    uint32_t uid, gid, perm, atime, mtime, nlink;
};

struct dent {
    char *name;
    struct fattr a;
};

struct handle {
    int use;
    char *path;                   /* normalised */
    bool rd, wr, append;
    uint32_t perm;
    struct upload up;             /* wr */
    int fd;                       /* rd: the stored payload, or -1 */
    struct dent *ents;            /* dir */
    size_t nents, pos;
};

struct known_file {
    char *path;
    uint64_t size;
    uint32_t perm, mtime;
    char sha[HP_SHA256_HEX_LEN + 1];
    bool stored;
};

struct known_dir {
    char *path;
    uint32_t perm, mtime;
};

struct hp_sshfile {
    enum kind kind;
    struct hp_sshfile_params p;
    char *data_dir;
    char user[33];
    char home[48];
    uint32_t uid;
    size_t max_file, max_total, total;
    int64_t t0;
    bool started, done;
    struct hp_buf out;

    /* SCP */
    enum scp_state st;
    bool opt_r, opt_p, opt_d;
    char **args;
    int nargs;
    bool targisdir;
    struct hp_buf line;
    char *dirs[SCP_MAX_DEPTH + 1];  /* dirs[0]: the target; dirs[d]: the directory of nesting level d */
    int depth;
    bool first;
    int errs;
    struct upload cur;
    uint64_t remaining;
    int resp;
    size_t resp_len;

    /* SFTP */
    struct hp_buf in;
    bool init_done;
    struct handle h[SFTP_MAX_HANDLES];
    struct known_file files[SFTP_MAX_FILES];
    size_t nfiles;
    struct known_dir mdirs[SFTP_MAX_DIRS];
    size_t nmdirs;
    unsigned op_events;
};

/* ---- helpers ------------------------------------------------------------------------ */

static void *xrealloc_or_null(void *p, size_t n)
{
    return realloc(p, n ? n : 1);
}

static char *dupn(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static int64_t now_s(const struct hp_sshfile *f)
{
    return f->p.now ? f->p.now : (int64_t)time(NULL);
}

static void emit(struct hp_sshfile *f, struct hp_ev *ev)
{
    if (f->p.event_hook) {
        struct hp_event *e = hp_ev_finish(ev);
        if (e)
            f->p.event_hook(e, f->p.event_arg);
        return;
    }
    hp_ev_emit(ev);
}

static void out_write(struct hp_sshfile *f, const void *p, size_t n)
{
    if (!f->done && n && f->p.write)
        f->p.write(f->p.io, p, n);
}

static void finish_all(struct hp_sshfile *f);

static void do_exit(struct hp_sshfile *f, int status)
{
    if (f->done)
        return;
    finish_all(f);
    f->done = true;
    if (f->p.exit)
        f->p.exit(f->p.io, status);
}

/* ---- uploads -------------------------------------------------------------------------- */

static void up_init(struct upload *u, const void *name, size_t nlen)
{
    memset(u, 0, sizeof(*u));
    u->name = (uint8_t *)dupn(name, nlen);
    u->name_len = nlen;
    u->active = true;
}

static void up_release(struct upload *u)
{
    free(u->name);
    free(u->data);
    memset(u, 0, sizeof(*u));
}

/* How far this upload's kept bytes may reach. */
static size_t up_limit(const struct hp_sshfile *f, const struct upload *u)
{
    size_t room = f->max_total > f->total ? f->max_total - f->total : 0;
    size_t lim = u->len + room;
    if (lim < u->len)
        lim = SIZE_MAX;
    return lim < f->max_file ? lim : f->max_file;
}

/* Make the kept bytes reach 'end' (zero-filled), within the caps. */
static bool up_extend(struct hp_sshfile *f, struct upload *u, size_t end)
{
    if (end <= u->len)
        return true;
    if (end > u->alloc) {
        size_t lim = up_limit(f, u);
        size_t na = u->alloc ? u->alloc : 64 * 1024;
        while (na < end && na < lim)
            na = na > lim / 2 ? lim : na * 2;
        if (na < end)
            na = end;
        uint8_t *nd = xrealloc_or_null(u->data, na);
        if (!nd)
            return false;
        u->data = nd;
        u->alloc = na;
    }
    memset(u->data + u->len, 0, end - u->len);
    f->total += end - u->len;
    u->len = end;
    return true;
}

static void up_write(struct hp_sshfile *f, struct upload *u, uint64_t off, const uint8_t *p, size_t n)
{
    uint64_t end = off + n;
    if (end < off) {                          /* offset + length wraps */
        end = UINT64_MAX;
        u->truncated = true;
    }
    if (end > u->size)
        u->size = end;
    if (n == 0)
        return;
    size_t lim = up_limit(f, u);
    if (end > lim)
        u->truncated = true;
    if (off >= lim)
        return;
    size_t keep_end = end > lim ? lim : (size_t)end;
    if (!up_extend(f, u, keep_end)) {
        u->truncated = true;
        return;
    }
    memcpy(u->data + off, p, keep_end - (size_t)off);
}

/* ftruncate(): logical size set, kept bytes cut or zero-extended. */
static void up_resize(struct hp_sshfile *f, struct upload *u, uint64_t size)
{
    u->size = size;
    if (size < u->len) {
        u->len = (size_t)size;
        return;
    }
    size_t lim = up_limit(f, u);
    size_t want = size > lim ? lim : (size_t)size;
    if (size > lim)
        u->truncated = true;
    if (!up_extend(f, u, want))
        u->truncated = true;
}

/* Store the kept bytes and report the upload.  Returns the hash in sha (may be NULL). */
static bool up_finish(struct hp_sshfile *f, struct upload *u, const char *detail, char *sha_out)
{
    char sha[HP_SHA256_HEX_LEN + 1];
    int rc = hp_store_put(f->data_dir, u->data, u->len, sha);
    struct hp_ev ev;
    hp_ev_begin(&ev, f->p.ctx, "session.file_upload");
    hp_ev_bytes(&ev, "filename", u->name, u->name_len);
    hp_ev_uint(&ev, "size", u->size);
    hp_ev_str(&ev, "shasum", sha);
    if (rc == 0) {
        char outfile[16 + HP_SHA256_HEX_LEN];
        snprintf(outfile, sizeof(outfile), "payloads/%s", sha);
        hp_ev_str(&ev, "outfile", outfile);
    } else {
        hp_ev_bool(&ev, "store_failed", true);
    }
    hp_ev_str(&ev, "protocol_detail", detail);
    if (u->truncated || u->len < u->size) {
        hp_ev_bool(&ev, "truncated", true);
        hp_ev_uint(&ev, "stored_size", u->len);
    }
    emit(f, &ev);
    if (rc == 0) {                /* classified, indexed and mined like a download */
        char name[256];
        snprintf(name, sizeof(name), "%.*s", (int)(u->name_len < 255 ? u->name_len : 255), u->name);
        hp_capture_upload(f->p.ctx, sha, u->len, detail, name);
    }
    if (sha_out)
        memcpy(sha_out, sha, sizeof(sha));
    return rc == 0;
}

/* ---- the fake file system --------------------------------------------------------------- */

struct fs_static {
    const char *path;
    uint32_t mode;
    uint32_t nlink;
    uint32_t size;
    uint32_t age;                 /* seconds before the session started */
    const char *link;
};

#define DAY 86400u
#define OLD (41 * DAY)            /* the installation */
#define UPD (3 * DAY)             /* the last upgrade */
#define BOOT (2 * DAY + 4000)     /* the last boot */
/* A Debian 12 server, directories only (plus the merged-/usr links). */
static const struct fs_static fs_tree[] = {
    { "/", 040755, 18, 4096, OLD, NULL },
    { "/bin", 0120777, 1, 7, OLD, "usr/bin" },
    { "/boot", 040755, 3, 4096, 12 * DAY, NULL },
    { "/dev", 040755, 17, 3180, BOOT, NULL },
    { "/dev/shm", 041777, 2, 40, BOOT - 10, NULL },
    { "/etc", 040755, 74, 4096, UPD, NULL },
    { "/etc/apt", 040755, 8, 4096, UPD, NULL },
    { "/etc/cron.d", 040755, 2, 4096, OLD, NULL },
    { "/etc/cron.daily", 040755, 2, 4096, UPD, NULL },
    { "/etc/cron.hourly", 040755, 2, 4096, OLD, NULL },
    { "/etc/cron.monthly", 040755, 2, 4096, OLD, NULL },
    { "/etc/cron.weekly", 040755, 2, 4096, OLD, NULL },
    { "/etc/default", 040755, 2, 4096, UPD, NULL },
    { "/etc/init.d", 040755, 2, 4096, UPD, NULL },
    { "/etc/network", 040755, 7, 4096, OLD, NULL },
    { "/etc/profile.d", 040755, 2, 4096, OLD, NULL },
    { "/etc/security", 040755, 4, 4096, OLD, NULL },
    { "/etc/ssh", 040755, 4, 4096, OLD, NULL },
    { "/etc/systemd", 040755, 5, 4096, OLD, NULL },
    { "/etc/systemd/system", 040755, 12, 4096, UPD, NULL },
    { "/home", 040755, 2, 4096, OLD, NULL },
    { "/lib", 0120777, 1, 7, OLD, "usr/lib" },
    { "/lib64", 0120777, 1, 9, OLD, "usr/lib64" },
    { "/media", 040755, 2, 4096, OLD, NULL },
    { "/mnt", 040755, 2, 4096, OLD, NULL },
    { "/opt", 040755, 2, 4096, OLD, NULL },
    { "/proc", 040555, 163, 0, BOOT + 10, NULL },
    { "/root", 040700, 4, 4096, 9 * DAY, NULL },
    { "/root/.ssh", 040700, 2, 4096, 40 * DAY, NULL },
    { "/run", 040755, 21, 620, BOOT - 100, NULL },
    { "/run/lock", 041777, 2, 60, BOOT - 90, NULL },
    { "/run/sshd", 040755, 2, 40, BOOT - 80, NULL },
    { "/run/user", 040755, 2, 40, BOOT - 80, NULL },
    { "/sbin", 0120777, 1, 8, OLD, "usr/sbin" },
    { "/srv", 040755, 2, 4096, OLD, NULL },
    { "/sys", 040555, 13, 0, BOOT + 10, NULL },
    { "/tmp", 041777, 8, 4096, 5400, NULL },
    { "/usr", 040755, 14, 4096, OLD, NULL },
    { "/usr/bin", 040755, 2, 36864, UPD, NULL },
    { "/usr/games", 040755, 2, 4096, OLD, NULL },
    { "/usr/include", 040755, 3, 4096, OLD, NULL },
    { "/usr/lib", 040755, 61, 4096, UPD, NULL },
    { "/usr/lib/systemd", 040755, 8, 4096, UPD, NULL },
    { "/usr/lib/systemd/system", 040755, 20, 12288, UPD, NULL },
    { "/usr/lib64", 040755, 2, 4096, 12 * DAY, NULL },
    { "/usr/libexec", 040755, 4, 4096, OLD, NULL },
    { "/usr/local", 040755, 10, 4096, OLD, NULL },
    { "/usr/local/bin", 040755, 2, 4096, OLD, NULL },
    { "/usr/local/etc", 040755, 2, 4096, OLD, NULL },
    { "/usr/local/games", 040755, 2, 4096, OLD, NULL },
    { "/usr/local/include", 040755, 2, 4096, OLD, NULL },
    { "/usr/local/lib", 040755, 3, 4096, OLD, NULL },
    { "/usr/local/man", 0120777, 1, 9, OLD, "share/man" },
    { "/usr/local/sbin", 040755, 2, 4096, OLD, NULL },
    { "/usr/local/share", 040755, 4, 4096, OLD, NULL },
    { "/usr/local/src", 040755, 2, 4096, OLD, NULL },
    { "/usr/sbin", 040755, 2, 12288, UPD, NULL },
    { "/usr/share", 040755, 122, 4096, UPD, NULL },
    { "/usr/src", 040755, 2, 4096, OLD, NULL },
    { "/var", 040755, 11, 4096, 40 * DAY, NULL },
    { "/var/backups", 040755, 2, 4096, DAY - 20000, NULL },
    { "/var/cache", 040755, 10, 4096, UPD, NULL },
    { "/var/lib", 040755, 27, 4096, UPD, NULL },
    { "/var/local", 042775, 2, 4096, OLD, NULL },
    { "/var/lock", 0120777, 1, 9, 40 * DAY, "/run/lock" },
    { "/var/log", 040755, 9, 4096, BOOT - 200, NULL },
    { "/var/mail", 042775, 2, 4096, OLD, NULL },
    { "/var/opt", 040755, 2, 4096, OLD, NULL },
    { "/var/run", 0120777, 1, 4, 40 * DAY, "/run" },
    { "/var/spool", 040755, 4, 4096, 40 * DAY, NULL },
    { "/var/spool/cron", 040755, 3, 4096, OLD, NULL },
    { "/var/tmp", 041777, 6, 4096, BOOT - 300, NULL },
};

static bool sane_user(const char *u)
{
    size_t n = strlen(u);
    if (n == 0 || n > 32 || u[0] == '-' || u[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= 'A' && u[i] <= 'Z') || (u[i] >= '0' && u[i] <= '9') ||
              u[i] == '_' || u[i] == '-' || u[i] == '.'))
            return false;
    return true;
}

static bool is_root_user(const struct hp_sshfile *f)
{
    return f->uid == 0;
}

/*
 * Absolute, lexically normalised form of in[0..n) (relative paths are taken
 * from the home directory): empty and "." components dropped, ".." removes
 * one (never above "/").  -1 when the path or a component is too long
 * (ENAMETOOLONG for the real server).
 */
static int norm_path(const struct hp_sshfile *f, const char *in, size_t n, char out[FS_PATH_MAX])
{
    if (n >= FS_PATH_MAX)
        return -1;
    char tmp[FS_PATH_MAX + sizeof(f->home) + 2];
    size_t tl = 0;
    if (n == 0 || in[0] != '/') {
        size_t hl = strlen(f->home);
        memcpy(tmp, f->home, hl);
        tl = hl;
        tmp[tl++] = '/';
    }
    memcpy(tmp + tl, in, n);
    tl += n;
    size_t ol = 0;
    size_t i = 0;
    while (i < tl) {
        while (i < tl && tmp[i] == '/')
            i++;
        size_t start = i;
        while (i < tl && tmp[i] != '/')
            i++;
        size_t len = i - start;
        if (len == 0)
            break;
        if (len > FS_NAME_MAX)
            return -1;
        if (len == 1 && tmp[start] == '.')
            continue;
        if (len == 2 && tmp[start] == '.' && tmp[start + 1] == '.') {
            while (ol > 0 && out[ol - 1] != '/')
                ol--;
            if (ol > 0)
                ol--;
            continue;
        }
        if (ol + 1 + len >= FS_PATH_MAX)
            return -1;
        out[ol++] = '/';
        memcpy(out + ol, tmp + start, len);
        ol += len;
    }
    if (ol == 0)
        out[ol++] = '/';
    out[ol] = '\0';
    return 0;
}

/* Parent directory of a normalised path ("/" for "/" and "/x"). */
static void parent_of(const char *path, char out[FS_PATH_MAX])
{
    size_t n = strlen(path);
    while (n > 0 && path[n - 1] != '/')
        n--;
    if (n > 1)
        n--;                       /* drop the separator, keep "/" alone */
    if (n == 0)
        n = 1;
    memcpy(out, path, n);
    out[n] = '\0';
}

/* True if path lies strictly below dir (both normalised). */
static bool under(const char *path, const char *dir)
{
    size_t dl = strlen(dir);
    if (strcmp(dir, "/") == 0)
        return path[0] == '/' && path[1] != '\0';
    return strncmp(path, dir, dl) == 0 && path[dl] == '/' && path[dl + 1] != '\0';
}

static const struct fs_static *static_find(const char *path)
{
    for (size_t i = 0; i < sizeof(fs_tree) / sizeof(fs_tree[0]); i++)
        if (strcmp(fs_tree[i].path, path) == 0)
            return &fs_tree[i];
    return NULL;
}

/* A path whose first component is one of the top-level links, rewritten to
 * the link's target; false when there is nothing to rewrite. */
static bool rewrite_link(const char *path, char out[FS_PATH_MAX], bool whole_too)
{
    for (size_t i = 0; i < sizeof(fs_tree) / sizeof(fs_tree[0]); i++) {
        const struct fs_static *e = &fs_tree[i];
        if (!e->link)
            continue;
        size_t el = strlen(e->path);
        if (strncmp(path, e->path, el) != 0 || (path[el] != '/' && path[el] != '\0'))
            continue;
        if (path[el] == '\0' && !whole_too)
            return false;
        /* Relative targets are relative to the link's directory. */
        char dir[FS_PATH_MAX];
        parent_of(e->path, dir);
        int n = e->link[0] == '/' ? snprintf(out, FS_PATH_MAX, "%s%s", e->link, path + el)
                                  : snprintf(out, FS_PATH_MAX, "%s%s%s%s", dir, strcmp(dir, "/") ? "/" : "",
                                             e->link, path + el);
        return n > 0 && n < FS_PATH_MAX;
    }
    return false;
}

static void attr_dir(struct fattr *a, uint32_t mode, uint32_t nlink, uint64_t size, uint32_t uid, uint32_t mtime)
{
    a->flags = ATTR_SIZE | ATTR_UIDGID | ATTR_PERMISSIONS | ATTR_ACMODTIME;
    a->size = size;
    a->uid = a->gid = uid;
    a->perm = mode;
    a->atime = a->mtime = mtime;
    a->nlink = nlink;
}

static struct handle *open_writer(struct hp_sshfile *f, const char *path)
{
    for (int i = 0; i < SFTP_MAX_HANDLES; i++)
        if (f->h[i].use == H_FILE && f->h[i].wr && strcmp(f->h[i].path, path) == 0)
            return &f->h[i];
    return NULL;
}

static struct known_file *file_find(struct hp_sshfile *f, const char *path)
{
    for (size_t i = 0; i < f->nfiles; i++)
        if (strcmp(f->files[i].path, path) == 0)
            return &f->files[i];
    return NULL;
}

static struct known_dir *mdir_find(struct hp_sshfile *f, const char *path)
{
    for (size_t i = 0; i < f->nmdirs; i++)
        if (strcmp(f->mdirs[i].path, path) == 0)
            return &f->mdirs[i];
    return NULL;
}

/* Is there anything known below path (making it an implied directory)? */
static bool has_children(struct hp_sshfile *f, const char *path)
{
    for (size_t i = 0; i < f->nfiles; i++)
        if (under(f->files[i].path, path))
            return true;
    for (size_t i = 0; i < f->nmdirs; i++)
        if (under(f->mdirs[i].path, path))
            return true;
    for (int i = 0; i < SFTP_MAX_HANDLES; i++)
        if (f->h[i].use == H_FILE && f->h[i].wr && under(f->h[i].path, path))
            return true;
    return false;
}

enum { LK_NONE = 0, LK_DIR, LK_FILE, LK_LINK };

/*
 * What is at a normalised path.  follow: resolve a link in the last
 * component too (stat) or not (lstat); links in earlier components are
 * always resolved.  Fills *a; *link gets a link's target.
 */
static int lookup(struct hp_sshfile *f, const char *path, bool follow, struct fattr *a, const char **link)
{
    char alt[FS_PATH_MAX];
    uint32_t t0 = (uint32_t)f->t0;
    memset(a, 0, sizeof(*a));
    if (rewrite_link(path, alt, follow))
        return lookup(f, alt, follow, a, link);
    const struct fs_static *e = static_find(path);
    if (e) {
        attr_dir(a, e->mode, e->nlink, e->size, 0, t0 - e->age);
        if (e->link) {
            if (link)
                *link = e->link;
            return LK_LINK;
        }
        return LK_DIR;
    }
    if (strcmp(path, f->home) == 0) {
        attr_dir(a, 040700, 2, 4096, f->uid, t0 - 40 * DAY);
        return LK_DIR;
    }
    struct known_dir *d = mdir_find(f, path);
    if (d) {
        attr_dir(a, S_DIR | (d->perm & 07777), 2, 4096, f->uid, d->mtime);
        return LK_DIR;
    }
    struct handle *h = open_writer(f, path);
    if (h) {
        attr_dir(a, S_REG | (h->perm & 07777), 1, h->up.size, f->uid, (uint32_t)now_s(f));
        return LK_FILE;
    }
    struct known_file *kf = file_find(f, path);
    if (kf) {
        attr_dir(a, S_REG | (kf->perm & 07777), 1, kf->size, f->uid, kf->mtime);
        return LK_FILE;
    }
    if (has_children(f, path)) {
        attr_dir(a, 040755, 2, 4096, f->uid, t0);
        return LK_DIR;
    }
    return LK_NONE;
}

/* ---- output ------------------------------------------------------------------------------ */

static void o_begin(struct hp_sshfile *f, uint8_t type)
{
    hp_buf_reset(&f->out);
    hp_buf_put(&f->out, "\0\0\0\0", 4);
    hp_buf_putc(&f->out, type);
}

static void o_u32(struct hp_sshfile *f, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    hp_buf_put(&f->out, b, 4);
}

static void o_u64(struct hp_sshfile *f, uint64_t v)
{
    o_u32(f, (uint32_t)(v >> 32));
    o_u32(f, (uint32_t)v);
}

static void o_str(struct hp_sshfile *f, const void *p, size_t n)
{
    o_u32(f, (uint32_t)n);
    hp_buf_put(&f->out, p, n);
}

static void o_cstr(struct hp_sshfile *f, const char *s)
{
    o_str(f, s, strlen(s));
}

static void o_attr(struct hp_sshfile *f, const struct fattr *a)
{
    o_u32(f, a->flags);
    if (a->flags & ATTR_SIZE)
        o_u64(f, a->size);
    if (a->flags & ATTR_UIDGID) {
        o_u32(f, a->uid);
        o_u32(f, a->gid);
    }
    if (a->flags & ATTR_PERMISSIONS)
        o_u32(f, a->perm);
    if (a->flags & ATTR_ACMODTIME) {
        o_u32(f, a->atime);
        o_u32(f, a->mtime);
    }
}

static void o_send(struct hp_sshfile *f)
{
    if (!hp_buf_ok(&f->out) || f->out.len < 5)
        return;                    /* cannot happen: replies are far below OUT_CAP */
    uint32_t n = (uint32_t)(f->out.len - 4);
    f->out.data[0] = (uint8_t)(n >> 24);
    f->out.data[1] = (uint8_t)(n >> 16);
    f->out.data[2] = (uint8_t)(n >> 8);
    f->out.data[3] = (uint8_t)n;
    out_write(f, f->out.data, f->out.len);
}

static const char *status_msg(uint32_t st)
{
    static const char *const m[] = { "Success", "End of file", "No such file", "Permission denied", "Failure",
                                     "Bad message", "No connection", "Connection lost", "Operation unsupported" };
    return m[st < 8 ? st : 8];
}

static void send_status_msg(struct hp_sshfile *f, uint32_t id, uint32_t st, const char *msg)
{
    o_begin(f, FXP_STATUS);
    o_u32(f, id);
    o_u32(f, st);
    o_cstr(f, msg ? msg : status_msg(st));
    o_cstr(f, "");
    o_send(f);
}

static void send_status(struct hp_sshfile *f, uint32_t id, uint32_t st)
{
    send_status_msg(f, id, st, NULL);
}

static void send_handle(struct hp_sshfile *f, uint32_t id, int idx)
{
    uint8_t hb[4] = { 0, 0, 0, (uint8_t)idx };
    o_begin(f, FXP_HANDLE);
    o_u32(f, id);
    o_str(f, hb, 4);
    o_send(f);
}

static void send_attrs(struct hp_sshfile *f, uint32_t id, const struct fattr *a)
{
    o_begin(f, FXP_ATTRS);
    o_u32(f, id);
    o_attr(f, a);
    o_send(f);
}

/* NAME with one entry whose long name is the name and whose attributes are empty
 * (sftp-server's answer to REALPATH, READLINK, expand-path, home-directory). */
static void send_name1(struct hp_sshfile *f, uint32_t id, const char *name)
{
    o_begin(f, FXP_NAME);
    o_u32(f, id);
    o_u32(f, 1);
    o_cstr(f, name);
    o_cstr(f, name);
    o_u32(f, 0);
    o_send(f);
}

/* ---- ls -l style long names (sftp-common.c ls_file, as sftp-server builds them) ------------- */

static void strmode_bsd(uint32_t mode, char out[12])
{
    switch (mode & S_FMT) {
    case S_DIR: out[0] = 'd'; break;
    case S_LNK: out[0] = 'l'; break;
    case S_REG: out[0] = '-'; break;
    default: out[0] = '?'; break;
    }
    const char *rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++)
        out[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
    if (mode & 04000)
        out[3] = (mode & 0100) ? 's' : 'S';
    if (mode & 02000)
        out[6] = (mode & 0010) ? 's' : 'S';
    if (mode & 01000)
        out[9] = (mode & 0001) ? 't' : 'T';
    out[10] = ' ';
    out[11] = '\0';
}

static const char *uid_name(const struct hp_sshfile *f, uint32_t id, bool group)
{
    if (id == 0)
        return "root";
    if (id == f->uid)
        return f->user;
    if (id == 65534)
        return group ? "nogroup" : "nobody";
    return NULL;
}

static char *long_name(const struct hp_sshfile *f, const char *name, const struct fattr *a)
{
    char mode[12], tbuf[32], ubuf[16], gbuf[16];
    strmode_bsd(a->perm, mode);
    time_t mt = (time_t)a->mtime;
    struct tm tm;
    size_t sz = 0;
    if (gmtime_r(&mt, &tm)) {
        int64_t now = now_s(f);
        if (now - (365 * 24 * 60 * 60) / 2 < (int64_t)a->mtime && now >= (int64_t)a->mtime)
            sz = strftime(tbuf, sizeof(tbuf), "%b %e %H:%M", &tm);
        else
            sz = strftime(tbuf, sizeof(tbuf), "%b %e  %Y", &tm);
    }
    if (sz == 0)
        tbuf[0] = '\0';
    const char *u = uid_name(f, a->uid, false), *g = uid_name(f, a->gid, true);
    if (!u) {
        snprintf(ubuf, sizeof(ubuf), "%u", a->uid);
        u = ubuf;
    }
    if (!g) {
        snprintf(gbuf, sizeof(gbuf), "%u", a->gid);
        g = gbuf;
    }
    int ul = strlen(u) > 8 ? (int)strlen(u) : 8, gl = strlen(g) > 8 ? (int)strlen(g) : 8;
    char lc[12];
    snprintf(lc, sizeof(lc), "%u", a->nlink);
    size_t cap = strlen(name) + 192;
    char *s = malloc(cap);
    if (!s)
        abort();
    snprintf(s, cap, "%s %3s %-*s %-*s %8llu %s %s", mode, lc, ul, u, gl, g, (unsigned long long)a->size, tbuf,
             name);
    return s;
}

/* ---- events ----------------------------------------------------------------------------------- */

static void emit_op(struct hp_sshfile *f, const char *op, const uint8_t *path, size_t plen, const uint8_t *target,
                    size_t tlen, const char *flags)
{
    if (f->op_events >= SFTP_MAX_OP_EVENTS)
        return;
    f->op_events++;
    struct hp_ev ev;
    hp_ev_begin(&ev, f->p.ctx, "client.sftp");
    hp_ev_str(&ev, "op", op);
    hp_ev_bytes(&ev, "path", path, plen);
    if (target)
        hp_ev_bytes(&ev, "target", target, tlen);
    if (flags)
        hp_ev_str(&ev, "flags", flags);
    emit(f, &ev);
}

/* ---- SFTP: parsing ------------------------------------------------------------------------------ */

struct sstr {
    const char *p;
    size_t n;
};

static bool rd_str(struct hp_rd *r, struct sstr *s)
{
    struct hp_rd sub;
    if (!hp_rd_sub32be(r, &sub))
        return false;
    s->p = (const char *)hp_rd_ptr(&sub);
    s->n = hp_rd_left(&sub);
    return true;
}

/* sshbuf_get_cstring(): a string with no NUL except possibly a last one (dropped). */
static bool rd_cstr(struct hp_rd *r, struct sstr *s)
{
    if (!rd_str(r, s))
        return false;
    const char *z = s->n ? memchr(s->p, '\0', s->n) : NULL;
    if (z) {
        if (z != s->p + s->n - 1)
            return false;
        s->n--;
    }
    return true;
}

static bool rd_attr(struct hp_rd *r, struct fattr *a)
{
    memset(a, 0, sizeof(*a));
    a->flags = hp_rd_u32be(r);
    if (a->flags & ATTR_SIZE)
        a->size = hp_rd_u64be(r);
    if (a->flags & ATTR_UIDGID) {
        a->uid = hp_rd_u32be(r);
        a->gid = hp_rd_u32be(r);
    }
    if (a->flags & ATTR_PERMISSIONS)
        a->perm = hp_rd_u32be(r);
    if (a->flags & ATTR_ACMODTIME) {
        a->atime = hp_rd_u32be(r);
        a->mtime = hp_rd_u32be(r);
    }
    if (a->flags & ATTR_EXTENDED) {
        uint32_t count = hp_rd_u32be(r);
        for (uint32_t i = 0; i < count && hp_rd_ok(r); i++) {
            struct sstr t, d;
            if (!rd_cstr(r, &t) || !rd_str(r, &d))
                return false;
        }
    }
    return hp_rd_ok(r);
}

/* get_handle(): -1 for anything that is not an open handle of ours. */
static bool rd_handle(struct hp_sshfile *f, struct hp_rd *r, int *idx)
{
    struct sstr s;
    *idx = -1;
    if (!rd_str(r, &s))
        return false;
    if (s.n == 4) {
        uint32_t v = ((uint32_t)(uint8_t)s.p[0] << 24) | ((uint32_t)(uint8_t)s.p[1] << 16) |
                     ((uint32_t)(uint8_t)s.p[2] << 8) | (uint8_t)s.p[3];
        if (v < SFTP_MAX_HANDLES && f->h[v].use != H_UNUSED)
            *idx = (int)v;
    }
    return true;
}

static struct handle *file_handle(struct hp_sshfile *f, int idx)
{
    return (idx >= 0 && f->h[idx].use == H_FILE) ? &f->h[idx] : NULL;
}

/* ---- SFTP: handles ------------------------------------------------------------------------------- */

static int handle_new(struct hp_sshfile *f, int use, const char *path)
{
    for (int i = 0; i < SFTP_MAX_HANDLES; i++) {
        if (f->h[i].use == H_UNUSED) {
            memset(&f->h[i], 0, sizeof(f->h[i]));
            f->h[i].use = use;
            f->h[i].path = dupn(path, strlen(path));
            f->h[i].fd = -1;
            return i;
        }
    }
    return -1;
}

static void remember_file(struct hp_sshfile *f, const char *path, uint64_t size, uint32_t perm, const char *sha,
                          bool stored)
{
    struct known_file *kf = file_find(f, path);
    if (!kf) {
        if (f->nfiles >= SFTP_MAX_FILES)
            return;
        kf = &f->files[f->nfiles++];
        kf->path = dupn(path, strlen(path));
    }
    kf->size = size;
    kf->perm = perm;
    kf->mtime = (uint32_t)now_s(f);
    memcpy(kf->sha, sha, sizeof(kf->sha));
    kf->stored = stored;
}

static void forget_file(struct hp_sshfile *f, struct known_file *kf)
{
    free(kf->path);
    *kf = f->files[--f->nfiles];
}

/* Close a handle; a written file is stored and reported. */
static void handle_close(struct hp_sshfile *f, int idx)
{
    struct handle *h = &f->h[idx];
    if (h->use == H_FILE && h->wr && h->up.active) {
        char sha[HP_SHA256_HEX_LEN + 1];
        bool stored = up_finish(f, &h->up, "sftp", sha);
        remember_file(f, h->path, h->up.size, h->perm, sha, stored && !h->up.truncated && h->up.len == h->up.size);
    }
    up_release(&h->up);
    if (h->fd >= 0)
        close(h->fd);
    for (size_t i = 0; i < h->nents; i++)
        free(h->ents[i].name);
    free(h->ents);
    free(h->path);
    memset(h, 0, sizeof(*h));
    h->use = H_UNUSED;
    h->fd = -1;
}

static void finish_all(struct hp_sshfile *f)
{
    if (f->kind == K_SFTP) {
        for (int i = 0; i < SFTP_MAX_HANDLES; i++)
            if (f->h[i].use != H_UNUSED)
                handle_close(f, i);
    } else if (f->cur.active) {
        f->cur.truncated = true;       /* the connection ended inside the data */
        up_finish(f, &f->cur, "scp", NULL);
        up_release(&f->cur);
    }
}

/* ---- SFTP: requests -------------------------------------------------------------------------------- */

#define PARSE_ERR (-1)

/* Normalise a request path; on failure the request is answered as the
 * system call would fail: "" is ENOENT, an overlong path ENAMETOOLONG. */
static bool req_path(struct hp_sshfile *f, uint32_t id, const struct sstr *s, char out[FS_PATH_MAX])
{
    if (s->n == 0) {
        send_status(f, id, FX_NO_SUCH_FILE);
        return false;
    }
    if (norm_path(f, s->p, s->n, out) == 0)
        return true;
    send_status(f, id, FX_BAD_MESSAGE);
    return false;
}

/* The common prologue of a path request: read the name, log the operation and
 * normalise the path. TAKE_OK: go on; otherwise the handler's return value
 * (PARSE_ERR, or 0 once the failure has been answered). */
#define TAKE_OK 1

static int take_path(struct hp_sshfile *f, uint32_t id, struct hp_rd *r, const char *op, char path[FS_PATH_MAX])
{
    struct sstr name;
    if (!rd_cstr(r, &name))
        return PARSE_ERR;
    emit_op(f, op, (const uint8_t *)name.p, name.n, NULL, 0, NULL);
    if (!req_path(f, id, &name, path))
        return 0;
    return TAKE_OK;
}

static void flags_str(uint32_t pf, char *out, size_t cap)
{
    static const char *const names[] = { "READ", "WRITE", "APPEND", "CREATE", "TRUNCATE", "EXCL" };
    out[0] = '\0';
    for (int i = 0; i < 6; i++) {
        if (!(pf & (1u << i)))
            continue;
        if (out[0])
            strncat(out, ",", cap - strlen(out) - 1);
        strncat(out, names[i], cap - strlen(out) - 1);
    }
}

static int open_store_file(struct hp_sshfile *f, const struct known_file *kf)
{
    if (!kf->stored)
        return -1;
    char path[FS_PATH_MAX + 100];
    if (snprintf(path, sizeof(path), "%s/payloads/%s", f->data_dir, kf->sha) >= (int)sizeof(path))
        return -1;
    return open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

static int sftp_open(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    struct sstr name;
    struct fattr a;
    if (!rd_cstr(r, &name))
        return PARSE_ERR;
    uint32_t pf = hp_rd_u32be(r);
    if (!rd_attr(r, &a))
        return PARSE_ERR;
    char fl[64];
    flags_str(pf, fl, sizeof(fl));
    emit_op(f, "open", (const uint8_t *)name.p, name.n, NULL, 0, fl);
    char path[FS_PATH_MAX];
    if (!req_path(f, id, &name, path))
        return 0;
    struct fattr cur;
    int kind = lookup(f, path, true, &cur, NULL);
    if (pf & FXF_WRITE) {
        if (kind == LK_DIR) {
            send_status(f, id, FX_FAILURE);          /* EISDIR */
            return 0;
        }
        if (kind == LK_NONE && !(pf & FXF_CREAT)) {
            send_status(f, id, FX_NO_SUCH_FILE);
            return 0;
        }
        if (kind != LK_NONE && (pf & FXF_CREAT) && (pf & FXF_EXCL)) {
            send_status(f, id, FX_FAILURE);          /* EEXIST */
            return 0;
        }
        char rp[FS_PATH_MAX];
        const char *p = rewrite_link(path, rp, true) ? rp : path;
        int idx = handle_new(f, H_FILE, p);
        if (idx < 0) {
            send_status(f, id, FX_FAILURE);
            return 0;
        }
        struct handle *h = &f->h[idx];
        h->wr = true;
        h->rd = (pf & FXF_READ) != 0;
        h->append = (pf & FXF_APPEND) != 0;
        h->perm = kind == LK_FILE ? (cur.perm & 07777)
                                  : (((a.flags & ATTR_PERMISSIONS) ? a.perm : 0666) & 07777 & ~022u);
        up_init(&h->up, name.p, name.n);
        send_handle(f, id, idx);
        return 0;
    }
    if (kind == LK_NONE) {
        send_status(f, id, FX_NO_SUCH_FILE);
        return 0;
    }
    if (kind == LK_DIR) {
        send_status(f, id, FX_FAILURE);
        return 0;
    }
    char rp[FS_PATH_MAX];
    const char *p = rewrite_link(path, rp, true) ? rp : path;
    struct known_file *kf = file_find(f, p);
    int fd = kf ? open_store_file(f, kf) : -1;
    if (fd < 0) {
        send_status(f, id, kf ? FX_FAILURE : FX_PERMISSION_DENIED);
        return 0;
    }
    int idx = handle_new(f, H_FILE, p);
    if (idx < 0) {
        close(fd);
        send_status(f, id, FX_FAILURE);
        return 0;
    }
    f->h[idx].rd = true;
    f->h[idx].fd = fd;
    f->h[idx].perm = kf->perm;
    send_handle(f, id, idx);
    return 0;
}

static int sftp_close(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    int idx;
    if (!rd_handle(f, r, &idx))
        return PARSE_ERR;
    if (idx < 0) {
        send_status(f, id, FX_NO_SUCH_FILE);         /* handle_close(): ENOENT */
        return 0;
    }
    handle_close(f, idx);
    send_status(f, id, FX_OK);
    return 0;
}

/* Read up to n bytes at off from a readable file handle; -1 on error. */
static ssize_t handle_pread(struct handle *h, uint64_t off, uint8_t *buf, size_t n)
{
    if (h->wr) {
        if (off >= h->up.len)
            return 0;
        size_t take = h->up.len - (size_t)off < n ? h->up.len - (size_t)off : n;
        memcpy(buf, h->up.data + off, take);
        return (ssize_t)take;
    }
    if (off > (uint64_t)INT64_MAX)
        return 0;
    ssize_t got;
    do
        got = pread(h->fd, buf, n, (off_t)off);
    while (got < 0 && errno == EINTR);
    return got;
}

static int sftp_read(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    int idx;
    if (!rd_handle(f, r, &idx))
        return PARSE_ERR;
    uint64_t off = hp_rd_u64be(r);
    uint32_t len = hp_rd_u32be(r);
    if (!hp_rd_ok(r))
        return PARSE_ERR;
    struct handle *h = file_handle(f, idx);
    if (!h) {
        send_status(f, id, FX_FAILURE);
        return 0;
    }
    if (!h->rd) {
        send_status(f, id, FX_NO_SUCH_FILE);         /* EBADF on a write-only descriptor */
        return 0;
    }
    if (len > SFTP_MAX_READ)
        len = SFTP_MAX_READ;
    uint8_t buf[SFTP_MAX_READ];
    ssize_t got = len ? handle_pread(h, off, buf, len) : 0;
    if (got < 0) {
        send_status(f, id, FX_FAILURE);
        return 0;
    }
    if (got == 0) {
        send_status(f, id, FX_EOF);
        return 0;
    }
    o_begin(f, FXP_DATA);
    o_u32(f, id);
    o_str(f, buf, (size_t)got);
    o_send(f);
    return 0;
}

static int sftp_write(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    int idx;
    struct sstr data;
    if (!rd_handle(f, r, &idx))
        return PARSE_ERR;
    uint64_t off = hp_rd_u64be(r);
    if (!rd_str(r, &data))
        return PARSE_ERR;
    struct handle *h = file_handle(f, idx);
    if (!h) {
        send_status(f, id, FX_FAILURE);
        return 0;
    }
    if (!h->wr) {
        send_status(f, id, FX_NO_SUCH_FILE);         /* EBADF on a read-only descriptor */
        return 0;
    }
    up_write(f, &h->up, h->append ? h->up.size : off, (const uint8_t *)data.p, data.n);
    send_status(f, id, FX_OK);
    return 0;
}

static int sftp_stat(struct hp_sshfile *f, uint32_t id, struct hp_rd *r, bool follow)
{
    char path[FS_PATH_MAX];
    int rc = take_path(f, id, r, follow ? "stat" : "lstat", path);
    if (rc != TAKE_OK)
        return rc;
    struct fattr a;
    if (lookup(f, path, follow, &a, NULL) == LK_NONE) {
        send_status(f, id, FX_NO_SUCH_FILE);
        return 0;
    }
    send_attrs(f, id, &a);
    return 0;
}

static int sftp_fstat(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    int idx;
    if (!rd_handle(f, r, &idx))
        return PARSE_ERR;
    struct handle *h = file_handle(f, idx);
    struct fattr a;
    if (!h || lookup(f, h->path, true, &a, NULL) != LK_FILE) {
        send_status(f, id, FX_FAILURE);
        return 0;
    }
    send_attrs(f, id, &a);
    return 0;
}

/* Apply SETSTAT-style attributes to what is at path (already known to exist). */
static void apply_attr(struct hp_sshfile *f, const char *path, const struct fattr *a)
{
    struct handle *h = open_writer(f, path);
    struct known_file *kf = file_find(f, path);
    struct known_dir *kd = mdir_find(f, path);
    if (a->flags & ATTR_PERMISSIONS) {
        if (h)
            h->perm = a->perm & 07777;
        if (kf)
            kf->perm = a->perm & 07777;
        if (kd)
            kd->perm = a->perm & 07777;
    }
    if (a->flags & ATTR_ACMODTIME) {
        if (kf)
            kf->mtime = a->mtime;
        if (kd)
            kd->mtime = a->mtime;
    }
    if ((a->flags & ATTR_SIZE) && h)
        up_resize(f, &h->up, a->size);
    else if ((a->flags & ATTR_SIZE) && kf && a->size != kf->size) {
        kf->size = a->size;
        kf->stored = false;            /* its content is no longer what was stored */
    }
}

static int sftp_setstat(struct hp_sshfile *f, uint32_t id, struct hp_rd *r, const char *op, bool lset)
{
    struct sstr name;
    struct fattr a;
    if (!rd_cstr(r, &name) || !rd_attr(r, &a))
        return PARSE_ERR;
    emit_op(f, op, (const uint8_t *)name.p, name.n, NULL, 0, NULL);
    char path[FS_PATH_MAX];
    if (!req_path(f, id, &name, path))
        return 0;
    if (lset && (a.flags & ATTR_SIZE)) {
        send_status(f, id, FX_BAD_MESSAGE);          /* lsetstat cannot truncate */
        return 0;
    }
    struct fattr cur;
    int kind = lookup(f, path, !lset, &cur, NULL);
    if (kind == LK_NONE && (a.flags & (ATTR_SIZE | ATTR_UIDGID | ATTR_PERMISSIONS | ATTR_ACMODTIME))) {
        send_status(f, id, FX_NO_SUCH_FILE);
        return 0;
    }
    if (kind == LK_DIR && (a.flags & ATTR_SIZE)) {
        send_status(f, id, FX_FAILURE);              /* EISDIR */
        return 0;
    }
    char rp[FS_PATH_MAX];
    apply_attr(f, rewrite_link(path, rp, !lset) ? rp : path, &a);
    send_status(f, id, FX_OK);
    return 0;
}

static int sftp_fsetstat(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    int idx;
    struct fattr a;
    if (!rd_handle(f, r, &idx) || !rd_attr(r, &a))
        return PARSE_ERR;
    struct handle *h = file_handle(f, idx);
    if (!h) {
        send_status(f, id, FX_FAILURE);
        return 0;
    }
    if ((a.flags & ATTR_SIZE) && !h->wr) {
        send_status(f, id, FX_BAD_MESSAGE);          /* ftruncate on O_RDONLY: EINVAL */
        return 0;
    }
    if (h->wr) {
        if (a.flags & ATTR_PERMISSIONS)
            h->perm = a.perm & 07777;
        if (a.flags & ATTR_SIZE)
            up_resize(f, &h->up, a.size);
    } else {
        apply_attr(f, h->path, &a);
    }
    send_status(f, id, FX_OK);
    return 0;
}

static int dent_cmp_name(const struct dent *d, size_t n, const char *name, size_t nl)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(d[i].name) == nl && memcmp(d[i].name, name, nl) == 0)
            return (int)i;
    return -1;
}

/* Add the child of dir on the way to path (if path lies below dir). */
static void add_child(struct hp_sshfile *f, struct handle *h, const char *dir, const char *path)
{
    if (!under(path, dir) || h->nents >= SFTP_MAX_DIRENTS)
        return;
    const char *rest = path + (strcmp(dir, "/") == 0 ? 1 : strlen(dir) + 1);
    const char *slash = strchr(rest, '/');
    size_t nl = slash ? (size_t)(slash - rest) : strlen(rest);
    if (nl == 0 || dent_cmp_name(h->ents, h->nents, rest, nl) >= 0)
        return;
    char child[FS_PATH_MAX];
    int n = snprintf(child, sizeof(child), "%s%s%.*s", dir, strcmp(dir, "/") ? "/" : "", (int)nl, rest);
    if (n <= 0 || n >= (int)sizeof(child))
        return;
    struct fattr a;
    if (lookup(f, child, false, &a, NULL) == LK_NONE)
        return;
    h->ents[h->nents].name = dupn(rest, nl);
    h->ents[h->nents].a = a;
    h->nents++;
}

static int sftp_opendir(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    char path[FS_PATH_MAX];
    int rc = take_path(f, id, r, "opendir", path);
    if (rc != TAKE_OK)
        return rc;
    char rp[FS_PATH_MAX];
    const char *dir = rewrite_link(path, rp, true) ? rp : path;
    struct fattr a;
    int kind = lookup(f, dir, true, &a, NULL);
    if (kind != LK_DIR) {
        send_status(f, id, FX_NO_SUCH_FILE);         /* ENOENT / ENOTDIR */
        return 0;
    }
    int idx = handle_new(f, H_DIR, dir);
    if (idx < 0) {
        send_status(f, id, FX_FAILURE);
        return 0;
    }
    struct handle *h = &f->h[idx];
    h->ents = calloc(SFTP_MAX_DIRENTS, sizeof(*h->ents));
    if (!h->ents)
        abort();
    h->ents[0].name = dupn(".", 1);
    h->ents[0].a = a;
    char parent[FS_PATH_MAX];
    parent_of(dir, parent);
    h->ents[1].name = dupn("..", 2);
    lookup(f, parent, true, &h->ents[1].a, NULL);
    h->nents = 2;
    for (size_t i = 0; i < sizeof(fs_tree) / sizeof(fs_tree[0]); i++)
        add_child(f, h, dir, fs_tree[i].path);
    add_child(f, h, dir, f->home);
    for (size_t i = 0; i < f->nmdirs; i++)
        add_child(f, h, dir, f->mdirs[i].path);
    for (int i = 0; i < SFTP_MAX_HANDLES; i++)
        if (f->h[i].use == H_FILE && f->h[i].wr)
            add_child(f, h, dir, f->h[i].path);
    for (size_t i = 0; i < f->nfiles; i++)
        add_child(f, h, dir, f->files[i].path);
    send_handle(f, id, idx);
    return 0;
}

static int sftp_readdir(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    int idx;
    if (!rd_handle(f, r, &idx))
        return PARSE_ERR;
    if (idx < 0 || f->h[idx].use != H_DIR) {
        send_status(f, id, FX_FAILURE);
        return 0;
    }
    struct handle *h = &f->h[idx];
    if (h->pos >= h->nents) {
        send_status(f, id, FX_EOF);
        return 0;
    }
    size_t count = h->nents - h->pos;
    if (count > 100)
        count = 100;                               /* sftp-server sends at most 100 per reply */
    o_begin(f, FXP_NAME);
    o_u32(f, id);
    o_u32(f, (uint32_t)count);
    for (size_t i = 0; i < count; i++) {
        const struct dent *d = &h->ents[h->pos + i];
        char *ln = long_name(f, d->name, &d->a);
        o_cstr(f, d->name);
        o_cstr(f, ln);
        o_attr(f, &d->a);
        free(ln);
    }
    h->pos += count;
    o_send(f);
    return 0;
}

static int sftp_remove(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    char path[FS_PATH_MAX];
    int rc = take_path(f, id, r, "remove", path);
    if (rc != TAKE_OK)
        return rc;
    struct fattr a;
    int kind = lookup(f, path, false, &a, NULL);
    if (kind == LK_NONE) {
        send_status(f, id, FX_NO_SUCH_FILE);
        return 0;
    }
    if (kind == LK_DIR) {
        send_status(f, id, FX_FAILURE);              /* EISDIR */
        return 0;
    }
    struct known_file *kf = file_find(f, path);
    if (kf)
        forget_file(f, kf);
    send_status(f, id, FX_OK);                       /* an open file stays open, as on Unix */
    return 0;
}

static int sftp_mkdir(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    struct sstr name;
    struct fattr a;
    if (!rd_cstr(r, &name) || !rd_attr(r, &a))
        return PARSE_ERR;
    emit_op(f, "mkdir", (const uint8_t *)name.p, name.n, NULL, 0, NULL);
    char path[FS_PATH_MAX], parent[FS_PATH_MAX], rp[FS_PATH_MAX];
    if (!req_path(f, id, &name, path))
        return 0;
    const char *p = rewrite_link(path, rp, false) ? rp : path;
    struct fattr cur;
    if (lookup(f, p, false, &cur, NULL) != LK_NONE) {
        send_status(f, id, FX_FAILURE);              /* EEXIST */
        return 0;
    }
    parent_of(p, parent);
    int pk = lookup(f, parent, true, &cur, NULL);
    if (pk != LK_DIR) {
        send_status(f, id, FX_NO_SUCH_FILE);         /* ENOENT / ENOTDIR */
        return 0;
    }
    if (f->nmdirs >= SFTP_MAX_DIRS) {
        send_status(f, id, FX_FAILURE);              /* ENOSPC */
        return 0;
    }
    struct known_dir *d = &f->mdirs[f->nmdirs++];
    d->path = dupn(p, strlen(p));
    d->perm = ((a.flags & ATTR_PERMISSIONS) ? a.perm : 0777) & 07777 & ~022u;
    d->mtime = (uint32_t)now_s(f);
    send_status(f, id, FX_OK);
    return 0;
}

static int sftp_rmdir(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    char path[FS_PATH_MAX];
    int rc = take_path(f, id, r, "rmdir", path);
    if (rc != TAKE_OK)
        return rc;
    struct fattr a;
    int kind = lookup(f, path, false, &a, NULL);
    struct known_dir *d = mdir_find(f, path);
    if (kind == LK_NONE || kind == LK_FILE || kind == LK_LINK) {
        send_status(f, id, FX_NO_SUCH_FILE);         /* ENOENT / ENOTDIR */
        return 0;
    }
    if (!d || has_children(f, path)) {
        send_status(f, id, FX_FAILURE);              /* ENOTEMPTY / EBUSY */
        return 0;
    }
    free(d->path);
    *d = f->mdirs[--f->nmdirs];
    send_status(f, id, FX_OK);
    return 0;
}

static int sftp_realpath(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    struct sstr name;
    if (!rd_cstr(r, &name))
        return PARSE_ERR;
    emit_op(f, "realpath", (const uint8_t *)name.p, name.n, NULL, 0, NULL);
    if (name.n == 0)
        name.p = ".", name.n = 1;                     /* sftp-server: "" is "." */
    char path[FS_PATH_MAX], rp[FS_PATH_MAX];
    if (!req_path(f, id, &name, path))
        return 0;
    send_name1(f, id, rewrite_link(path, rp, true) ? rp : path);
    return 0;
}

/* rename / posix-rename / hardlink of what the session knows; the rest of the tree is static. */
static int sftp_rename(struct hp_sshfile *f, uint32_t id, struct hp_rd *r, const char *op)
{
    struct sstr from, to;
    if (!rd_cstr(r, &from) || !rd_cstr(r, &to))
        return PARSE_ERR;
    emit_op(f, op, (const uint8_t *)from.p, from.n, (const uint8_t *)to.p, to.n, NULL);
    char pf[FS_PATH_MAX], pt[FS_PATH_MAX];
    if (!req_path(f, id, &from, pf) || !req_path(f, id, &to, pt))
        return 0;
    bool posix = strcmp(op, "posix-rename") == 0, link = strcmp(op, "hardlink") == 0;
    struct fattr a, b;
    int kf_kind = lookup(f, pf, false, &a, NULL);
    int kt_kind = lookup(f, pt, false, &b, NULL);
    if (kf_kind == LK_NONE) {
        send_status(f, id, FX_NO_SUCH_FILE);
        return 0;
    }
    if (link && kf_kind == LK_DIR) {
        send_status(f, id, FX_PERMISSION_DENIED);    /* EPERM */
        return 0;
    }
    if (kt_kind != LK_NONE && (!posix || kt_kind == LK_DIR || kf_kind == LK_DIR)) {
        send_status(f, id, FX_FAILURE);              /* EEXIST / EISDIR / ENOTEMPTY */
        return 0;
    }
    if (strcmp(pf, pt) == 0) {
        send_status(f, id, FX_OK);
        return 0;
    }
    struct known_file *kf = file_find(f, pf);
    if (kf) {
        struct known_file old = *kf;
        struct known_file *dst = file_find(f, pt);
        if (dst)
            forget_file(f, dst);
        kf = file_find(f, pf);
        if (link)
            remember_file(f, pt, old.size, old.perm, old.sha, old.stored);
        else if (kf) {
            char *np = dupn(pt, strlen(pt));
            free(kf->path);
            kf->path = np;
        }
    }
    struct known_dir *kd = mdir_find(f, pf);
    if (kd && !link) {
        char *np = dupn(pt, strlen(pt));
        free(kd->path);
        kd->path = np;
    }
    send_status(f, id, FX_OK);
    return 0;
}

static int sftp_readlink(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    char path[FS_PATH_MAX];
    int rc = take_path(f, id, r, "readlink", path);
    if (rc != TAKE_OK)
        return rc;
    struct fattr a;
    const char *target = NULL;
    int kind = lookup(f, path, false, &a, &target);
    if (kind == LK_LINK && target)
        send_name1(f, id, target);
    else
        send_status(f, id, kind == LK_NONE ? FX_NO_SUCH_FILE : FX_BAD_MESSAGE);   /* EINVAL */
    return 0;
}

static int sftp_symlink(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    struct sstr from, to;
    if (!rd_cstr(r, &from) || !rd_cstr(r, &to))
        return PARSE_ERR;
    emit_op(f, "symlink", (const uint8_t *)from.p, from.n, (const uint8_t *)to.p, to.n, NULL);
    send_status(f, id, FX_OK);
    return 0;
}

static void send_statvfs(struct hp_sshfile *f, uint32_t id)
{
    uint64_t used_blocks = (f->total + 4095) / 4096;
    o_begin(f, FXP_EXTENDED_REPLY);
    o_u32(f, id);
    o_u64(f, 4096);                                   /* f_bsize */
    o_u64(f, 4096);                                   /* f_frsize */
    o_u64(f, 7669824);                                /* f_blocks: a 30 GB disk */
    o_u64(f, 5838113 - used_blocks);                  /* f_bfree */
    o_u64(f, 5444897 - used_blocks);                  /* f_bavail */
    o_u64(f, 1966080);                                /* f_files */
    o_u64(f, 1874306);                                /* f_ffree */
    o_u64(f, 1874306);                                /* f_favail */
    o_u64(f, 0x6b37c2f1a59e4d08ull);                  /* f_fsid */
    o_u64(f, 0);                                      /* flags: neither RDONLY nor NOSUID */
    o_u64(f, 255);                                    /* f_namemax */
    o_send(f);
}

static int ext_statvfs(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    char path[FS_PATH_MAX];
    int rc = take_path(f, id, r, "statvfs", path);
    if (rc != TAKE_OK)
        return rc;
    struct fattr a;
    if (lookup(f, path, true, &a, NULL) == LK_NONE)
        send_status(f, id, FX_NO_SUCH_FILE);
    else
        send_statvfs(f, id);
    return 0;
}

static int ext_fstatvfs(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    int idx;
    if (!rd_handle(f, r, &idx))
        return PARSE_ERR;
    if (!file_handle(f, idx))
        send_status(f, id, FX_FAILURE);
    else
        send_statvfs(f, id);
    return 0;
}

static int ext_fsync(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    int idx;
    if (!rd_handle(f, r, &idx))
        return PARSE_ERR;
    send_status(f, id, file_handle(f, idx) ? FX_OK : FX_NO_SUCH_FILE);
    return 0;
}

static int ext_limits(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    /* sftp-server's values (and RLIMIT_NOFILE 1024 - 5 open handles). */
    o_begin(f, FXP_EXTENDED_REPLY);
    o_u32(f, id);
    o_u64(f, SFTP_MAX_MSG);                           /* max-packet-length */
    o_u64(f, SFTP_MAX_MSG - 1024);                    /* max-read-length */
    o_u64(f, SFTP_MAX_MSG - 1024);                    /* max-write-length */
    o_u64(f, 1019);                                   /* max-open-handles */
    o_send(f);
    return 0;
}

static int ext_expand(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    struct sstr name;
    if (!rd_cstr(r, &name))
        return PARSE_ERR;
    emit_op(f, "expand-path", (const uint8_t *)name.p, name.n, NULL, 0, NULL);
    char tmp[FS_PATH_MAX + 64];
    struct sstr p = name;
    if (p.n == 0)
        p.p = ".", p.n = 1;
    if (name.n > 0 && name.p[0] == '~') {
        /* "~" and "~/x": the home directory (sftp-server's cwd); "~user[/x]": that user's. */
        size_t ul = 1;
        while (ul < name.n && name.p[ul] != '/')
            ul++;
        const char *home = NULL;
        if (ul == 1)
            home = f->home;
        else if (ul - 1 == 4 && memcmp(name.p + 1, "root", 4) == 0)
            home = "/root";
        else if (!is_root_user(f) && ul - 1 == strlen(f->user) && memcmp(name.p + 1, f->user, ul - 1) == 0)
            home = f->home;
        if (!home) {
            send_status_msg(f, id, FX_NO_SUCH_FILE, "no such user");
            return 0;
        }
        if (name.n - ul >= FS_PATH_MAX) {
            send_status(f, id, FX_BAD_MESSAGE);
            return 0;
        }
        int n = snprintf(tmp, sizeof(tmp), "%s%.*s", home, (int)(name.n - ul), name.p + ul);
        p.p = tmp;
        p.n = n > 0 ? (size_t)n : 0;
    }
    char path[FS_PATH_MAX], rp[FS_PATH_MAX];
    if (!req_path(f, id, &p, path))
        return 0;
    send_name1(f, id, rewrite_link(path, rp, true) ? rp : path);
    return 0;
}

static int ext_copy_data(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    int ri, wi;
    if (!rd_handle(f, r, &ri))
        return PARSE_ERR;
    uint64_t roff = hp_rd_u64be(r), rlen = hp_rd_u64be(r);
    if (!rd_handle(f, r, &wi))
        return PARSE_ERR;
    uint64_t woff = hp_rd_u64be(r);
    if (!hp_rd_ok(r))
        return PARSE_ERR;
    struct handle *rh = file_handle(f, ri), *wh = file_handle(f, wi);
    if (!rh || !wh || ri == wi || strcmp(rh->path, wh->path) == 0) {
        send_status(f, id, FX_FAILURE);
        return 0;
    }
    if (!rh->rd || !wh->wr) {
        send_status(f, id, FX_NO_SUCH_FILE);         /* EBADF */
        return 0;
    }
    bool until_eof = rlen == 0;
    uint8_t buf[SFTP_MAX_READ];
    uint32_t st = FX_OK;
    while (until_eof || rlen > 0) {
        size_t want = (!until_eof && rlen < sizeof(buf)) ? (size_t)rlen : sizeof(buf);
        ssize_t got = handle_pread(rh, roff, buf, want);
        if (got < 0) {
            st = FX_FAILURE;
            break;
        }
        if (got == 0) {
            st = until_eof ? FX_OK : FX_EOF;
            break;
        }
        up_write(f, &wh->up, wh->append ? wh->up.size : woff, buf, (size_t)got);
        roff += (uint64_t)got;
        woff += (uint64_t)got;
        if (!until_eof)
            rlen -= (uint64_t)got;
        if (wh->up.truncated)
            break;                 /* beyond the caps: nothing more would be kept */
    }
    send_status(f, id, st);
    return 0;
}

static int ext_home(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    struct sstr name;
    if (!rd_cstr(r, &name))
        return PARSE_ERR;
    emit_op(f, "home-directory", (const uint8_t *)name.p, name.n, NULL, 0, NULL);
    bool known = (name.n == 4 && memcmp(name.p, "root", 4) == 0) ||
                 (name.n == strlen(f->user) && memcmp(name.p, f->user, name.n) == 0);
    if (!known)
        send_status(f, id, FX_FAILURE);
    else
        send_name1(f, id, f->home);                   /* sftp-server answers with the session user's */
    return 0;
}

static int ext_users_groups(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    struct sstr uids, gids;
    if (!rd_str(r, &uids) || !rd_str(r, &gids))
        return PARSE_ERR;
    if (uids.n % 4 || gids.n % 4)
        return PARSE_ERR;                             /* "parse inner uid": fatal in sftp-server */
    struct hp_buf names;
    hp_buf_init(&names, OUT_CAP / 4);                 /* both lists fit one reply */
    o_begin(f, FXP_EXTENDED_REPLY);
    o_u32(f, id);
    for (int g = 0; g < 2; g++) {
        const struct sstr *ids = g ? &gids : &uids;
        hp_buf_reset(&names);
        struct hp_rd ir;
        hp_rd_init(&ir, ids->p, ids->n);
        while (hp_rd_left(&ir) >= 4) {
            const char *nm = uid_name(f, hp_rd_u32be(&ir), g);
            size_t nl = nm ? strlen(nm) : 0;
            uint8_t lb[4] = { 0, 0, 0, (uint8_t)nl };
            hp_buf_put(&names, lb, 4);
            hp_buf_put(&names, nm ? nm : "", nl);
        }
        if (!hp_buf_ok(&names)) {
            hp_buf_free(&names);
            send_status(f, id, FX_FAILURE);
            return 0;
        }
        o_str(f, names.data, names.len);
    }
    hp_buf_free(&names);
    o_send(f);
    return 0;
}

static int sftp_extended(struct hp_sshfile *f, uint32_t id, struct hp_rd *r)
{
    struct sstr req;
    if (!rd_cstr(r, &req))
        return PARSE_ERR;
#define IS(s) (req.n == sizeof(s) - 1 && memcmp(req.p, s, req.n) == 0)
    if (IS("posix-rename@openssh.com"))
        return sftp_rename(f, id, r, "posix-rename");
    if (IS("statvfs@openssh.com"))
        return ext_statvfs(f, id, r);
    if (IS("fstatvfs@openssh.com"))
        return ext_fstatvfs(f, id, r);
    if (IS("hardlink@openssh.com"))
        return sftp_rename(f, id, r, "hardlink");
    if (IS("fsync@openssh.com"))
        return ext_fsync(f, id, r);
    if (IS("lsetstat@openssh.com"))
        return sftp_setstat(f, id, r, "lsetstat", true);
    if (IS("limits@openssh.com"))
        return ext_limits(f, id, r);
    if (IS("expand-path@openssh.com"))
        return ext_expand(f, id, r);
    if (IS("copy-data"))
        return ext_copy_data(f, id, r);
    if (IS("home-directory"))
        return ext_home(f, id, r);
    if (IS("users-groups-by-id@openssh.com"))
        return ext_users_groups(f, id, r);
#undef IS
    emit_op(f, "extended", (const uint8_t *)req.p, req.n, NULL, 0, NULL);
    send_status(f, id, FX_OP_UNSUPPORTED);
    return 0;
}

static void sftp_version(struct hp_sshfile *f)
{
    static const char *const ext[][2] = {
        { "posix-rename@openssh.com", "1" }, { "statvfs@openssh.com", "2" }, { "fstatvfs@openssh.com", "2" },
        { "hardlink@openssh.com", "1" },     { "fsync@openssh.com", "1" },   { "lsetstat@openssh.com", "1" },
        { "limits@openssh.com", "1" },       { "expand-path@openssh.com", "1" }, { "copy-data", "1" },
        { "home-directory", "1" },           { "users-groups-by-id@openssh.com", "1" },
    };
    o_begin(f, FXP_VERSION);
    o_u32(f, 3);
    for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
        o_cstr(f, ext[i][0]);
        o_cstr(f, ext[i][1]);
    }
    o_send(f);
}

/* One complete packet (without its length). */
static void sftp_packet(struct hp_sshfile *f, const uint8_t *p, size_t n)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    uint8_t type = hp_rd_u8(&r);
    if (!hp_rd_ok(&r)) {
        do_exit(f, 255);
        return;
    }
    if (type == FXP_INIT) {
        hp_rd_u32be(&r);                               /* the client's version: 3 for every client */
        if (!hp_rd_ok(&r)) {
            do_exit(f, 255);
            return;
        }
        sftp_version(f);
        f->init_done = true;
        return;
    }
    uint32_t id = hp_rd_u32be(&r);
    if (!f->init_done || !hp_rd_ok(&r)) {
        do_exit(f, 255);                               /* "Received %u request before init" */
        return;
    }
    int rc = 0;
    switch (type) {
    case FXP_OPEN: rc = sftp_open(f, id, &r); break;
    case FXP_CLOSE: rc = sftp_close(f, id, &r); break;
    case FXP_READ: rc = sftp_read(f, id, &r); break;
    case FXP_WRITE: rc = sftp_write(f, id, &r); break;
    case FXP_LSTAT: rc = sftp_stat(f, id, &r, false); break;
    case FXP_FSTAT: rc = sftp_fstat(f, id, &r); break;
    case FXP_SETSTAT: rc = sftp_setstat(f, id, &r, "setstat", false); break;
    case FXP_FSETSTAT: rc = sftp_fsetstat(f, id, &r); break;
    case FXP_OPENDIR: rc = sftp_opendir(f, id, &r); break;
    case FXP_READDIR: rc = sftp_readdir(f, id, &r); break;
    case FXP_REMOVE: rc = sftp_remove(f, id, &r); break;
    case FXP_MKDIR: rc = sftp_mkdir(f, id, &r); break;
    case FXP_RMDIR: rc = sftp_rmdir(f, id, &r); break;
    case FXP_REALPATH: rc = sftp_realpath(f, id, &r); break;
    case FXP_STAT: rc = sftp_stat(f, id, &r, true); break;
    case FXP_RENAME: rc = sftp_rename(f, id, &r, "rename"); break;
    case FXP_READLINK: rc = sftp_readlink(f, id, &r); break;
    case FXP_SYMLINK: rc = sftp_symlink(f, id, &r); break;
    case FXP_EXTENDED: rc = sftp_extended(f, id, &r); break;
    default: break;                                    /* sftp-server: "Unknown message", no reply */
    }
    if (rc == PARSE_ERR)
        do_exit(f, 255);
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void sftp_input(struct hp_sshfile *f, const uint8_t *data, size_t len)
{
    struct hp_rd r;
    hp_rd_init(&r, data, len);
    while (!f->done && hp_rd_left(&r) > 0) {
        if (f->in.len == 0 && hp_rd_left(&r) >= 4) {
            /* Whole packets straight from the caller's bytes. */
            uint32_t plen = be32(hp_rd_ptr(&r));
            if (plen > SFTP_MAX_MSG) {
                do_exit(f, 11);                        /* sftp-server: "bad message" */
                return;
            }
            if (hp_rd_left(&r) - 4 >= plen) {
                struct hp_rd pkt;
                hp_rd_skip(&r, 4);
                hp_rd_sub(&r, plen, &pkt);
                sftp_packet(f, hp_rd_ptr(&pkt), plen);
                continue;
            }
        }
        /* A partial packet: gather it (never more than one packet is held). */
        size_t want = f->in.len < 4 ? 4 - f->in.len : 4 + (size_t)be32(f->in.data) - f->in.len;
        size_t take = hp_rd_left(&r) < want ? hp_rd_left(&r) : want;
        if (!hp_buf_put(&f->in, hp_rd_ptr(&r), take)) {
            do_exit(f, 255);
            return;
        }
        hp_rd_skip(&r, take);
        if (f->in.len < 4)
            continue;
        uint32_t plen = be32(f->in.data);
        if (plen > SFTP_MAX_MSG) {
            do_exit(f, 11);
            return;
        }
        if (f->in.len == 4 + (size_t)plen) {
            sftp_packet(f, f->in.data + 4, plen);
            hp_buf_reset(&f->in);
        }
    }
}

/* ---- SCP ----------------------------------------------------------------------------------------- */

/* run_err(): "\1scp: MESSAGE\n". */
static void scp_err(struct hp_sshfile *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void scp_err(struct hp_sshfile *f, const char *fmt, ...)
{
    char msg[SCP_MAX_LINE + 256];
    va_list ap;
    msg[0] = '\1';
    memcpy(msg + 1, "scp: ", 5);
    va_start(ap, fmt);
    int n = vsnprintf(msg + 6, sizeof(msg) - 7, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    size_t len = 6 + ((size_t)n < sizeof(msg) - 7 ? (size_t)n : sizeof(msg) - 8);
    msg[len++] = '\n';
    f->errs++;
    out_write(f, msg, len);
}

static void scp_screwup(struct hp_sshfile *f, const char *why)
{
    scp_err(f, "protocol error: %s", why);
    do_exit(f, 1);
}

static void scp_ack(struct hp_sshfile *f)
{
    out_write(f, "", 1);
}

static bool is_known_dir_scp(struct hp_sshfile *f, const char *target)
{
    char path[FS_PATH_MAX];
    struct fattr a;
    if (norm_path(f, target, strlen(target), path) != 0)
        return false;
    return lookup(f, path, true, &a, NULL) == LK_DIR;
}

/* Path of an entry received at the current level. */
static void scp_join(struct hp_sshfile *f, const char *name, char *out, size_t cap)
{
    const char *dir = f->dirs[f->depth];
    if (f->depth == 0 && !f->targisdir) {
        snprintf(out, cap, "%s", dir);
        return;
    }
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    snprintf(out, cap, "%.*s%s%s", (int)dl, dir, (dl == 1 && dir[0] == '/') ? "" : "/", name);
}

/* Saturating decimal, as strtoull. */
static const char *parse_ull(const char *s, unsigned long long *v)
{
    unsigned long long x = 0;
    bool over = false;
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s++ - '0');
        if (x > (~0ull - d) / 10)
            over = true;
        else
            x = x * 10 + d;
    }
    *v = over ? ~0ull : x;
    return s;
}

/* strtol for the microseconds: blanks, a sign, digits (-1 on overflow). */
static const char *parse_usec(const char *s, long *v)
{
    const char *start = s;
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (!(*s >= '0' && *s <= '9')) {
        *v = 0;
        return start;              /* no number: strtol leaves the pointer where it was */
    }
    unsigned long long x;
    s = parse_ull(s, &x);
    *v = x > 999999999ull ? 1000000000L : (long)x;
    if (neg)
        *v = -*v;
    return s;
}

static bool scp_time(const char *cp, const char **why)
{
    unsigned long long ull;
    long usec;
    cp++;
    if (!(*cp >= '0' && *cp <= '9'))
        return *why = "mtime.sec not present", false;
    cp = parse_ull(cp, &ull);
    if (*cp++ != ' ')
        return *why = "mtime.sec not delimited", false;
    cp = parse_usec(cp, &usec);
    if (*cp++ != ' ' || usec < 0 || usec > 999999)
        return *why = "mtime.usec not delimited", false;
    if (!(*cp >= '0' && *cp <= '9'))
        return *why = "atime.sec not present", false;
    cp = parse_ull(cp, &ull);
    if (*cp++ != ' ')
        return *why = "atime.sec not delimited", false;
    cp = parse_usec(cp, &usec);
    if (*cp++ != '\0' || usec < 0 || usec > 999999)
        return *why = "atime.usec not delimited", false;
    return true;
}

/* One header line (without its "\n"; NUL-terminated at its first NUL, like OpenSSH's C string). */
static void scp_record(struct hp_sshfile *f, const uint8_t *line, size_t n)
{
    bool first = f->first;
    f->first = false;
    if (line[0] == '\1' || line[0] == '\2') {
        if (line[0] == '\2')
            do_exit(f, 1);
        else
            f->errs++;
        return;
    }
    if (line[0] == 'E') {
        scp_ack(f);
        if (f->depth == 0) {
            do_exit(f, f->errs ? 1 : 0);
            return;
        }
        free(f->dirs[f->depth]);
        f->dirs[f->depth--] = NULL;
        return;
    }
    char buf[SCP_MAX_LINE + 1];
    size_t bl = strnlen((const char *)line, n);
    memcpy(buf, line, bl);
    buf[bl] = '\0';
    const char *why = NULL;
    if (buf[0] == 'T') {
        if (!scp_time(buf, &why)) {
            scp_screwup(f, why);
            return;
        }
        scp_ack(f);
        return;
    }
    if (buf[0] != 'C' && buf[0] != 'D') {
        if (first) {
            scp_err(f, "%s", buf);                    /* e.g. a shell's "No match." */
            do_exit(f, 1);
        } else {
            scp_screwup(f, "expected control record");
        }
        return;
    }
    const char *cp = buf + 1;
    for (; cp < buf + 5; cp++) {
        if (*cp < '0' || *cp > '7') {
            scp_screwup(f, "bad mode");
            return;
        }
    }
    if (*cp++ != ' ') {
        scp_screwup(f, "mode not delimited");
        return;
    }
    if (!(*cp >= '0' && *cp <= '9')) {
        scp_screwup(f, "size not present");
        return;
    }
    unsigned long long size;
    cp = parse_ull(cp, &size);
    if (*cp++ != ' ') {
        scp_screwup(f, "size not delimited");
        return;
    }
    if (size > (unsigned long long)INT64_MAX) {
        scp_screwup(f, "size out of range");
        return;
    }
    if (*cp == '\0' || strchr(cp, '/') != NULL || strcmp(cp, "..") == 0) {
        scp_err(f, "error: unexpected filename: %s", cp);
        do_exit(f, 1);
        return;
    }
    char np[FS_PATH_MAX * 2 + 8];
    scp_join(f, cp, np, sizeof(np));
    if (buf[0] == 'D') {
        if (!f->opt_r) {
            scp_screwup(f, "received directory without -r");
            return;
        }
        if (f->depth >= SCP_MAX_DEPTH) {
            scp_err(f, "%s: Too many levels of symbolic links", np);    /* ELOOP-like refusal */
            do_exit(f, 1);
            return;
        }
        if (strlen(cp) > FS_NAME_MAX || strlen(np) >= FS_PATH_MAX) {
            scp_err(f, "%s: File name too long", np);  /* mkdir() failed: the client skips the tree */
            return;
        }
        f->dirs[++f->depth] = dupn(np, strlen(np));
        f->first = true;
        scp_ack(f);                                    /* the nested sink's opening "\0" */
        return;
    }
    if (!np[0]) {
        scp_err(f, "%s: No such file or directory", np);
        return;
    }
    if (strlen(cp) > FS_NAME_MAX || strlen(np) >= FS_PATH_MAX) {
        scp_err(f, "%s: File name too long", np);
        return;
    }
    scp_ack(f);
    up_init(&f->cur, np, strlen(np));
    f->remaining = size;
    f->st = size ? SC_DATA : SC_RESP;
}

/* The client's status byte after a file's data has been read (response()). */
static void scp_file_done(struct hp_sshfile *f)
{
    up_finish(f, &f->cur, "scp", NULL);
    up_release(&f->cur);
}

static void scp_source_errors(struct hp_sshfile *f)
{
    for (int i = 0; i < f->nargs; i++) {
        char *name = f->args[i];
        size_t len = strlen(name);
        while (len > 1 && name[len - 1] == '/')
            len--;
        scp_err(f, "%.*s: No such file or directory", (int)len, name);
    }
    do_exit(f, f->errs ? 1 : 0);
}

static void scp_input(struct hp_sshfile *f, const uint8_t *data, size_t len)
{
    struct hp_rd r;
    hp_rd_init(&r, data, len);
    while (!f->done && hp_rd_left(&r) > 0) {
        switch (f->st) {
        case SC_HDR: {
            if (f->line.len == 0 && hp_rd_peek_u8(&r, 0) == '\n') {
                scp_screwup(f, "unexpected <newline>");
                return;
            }
            long nl = hp_rd_find(&r, "\n", 1);
            size_t take = nl < 0 ? hp_rd_left(&r) : (size_t)nl;
            if (f->line.len + take > SCP_MAX_LINE) {
                scp_screwup(f, "header line too long");
                return;
            }
            hp_buf_put(&f->line, hp_rd_ptr(&r), take);
            hp_rd_skip(&r, take);
            if (nl < 0)
                break;
            hp_rd_skip(&r, 1);
            scp_record(f, f->line.data, f->line.len);
            hp_buf_reset(&f->line);
            break;
        }
        case SC_DATA: {
            size_t take = hp_rd_left(&r);
            if ((uint64_t)take > f->remaining)
                take = (size_t)f->remaining;
            up_write(f, &f->cur, f->cur.size, hp_rd_ptr(&r), take);
            hp_rd_skip(&r, take);
            f->remaining -= take;
            if (f->remaining == 0)
                f->st = SC_RESP;
            break;
        }
        case SC_RESP: {
            uint8_t b = hp_rd_u8(&r);
            if (b == 0) {
                scp_file_done(f);
                scp_ack(f);
                f->st = SC_HDR;
            } else {
                f->resp = b;
                f->resp_len = 1;
                f->errs++;
                f->st = SC_RESP_MSG;
            }
            break;
        }
        case SC_RESP_MSG:
        case SC_SRC_MSG: {
            uint8_t b = hp_rd_u8(&r);
            f->resp_len++;
            if (b != '\n' && f->resp_len < SCP_MAX_RESP)
                break;
            if (f->st == SC_SRC_MSG) {
                if (f->resp == 1)
                    scp_source_errors(f);
                else
                    do_exit(f, 1);
                break;
            }
            scp_file_done(f);
            if (f->resp != 1) {
                do_exit(f, 1);                         /* fatal error from the client */
                break;
            }
            scp_ack(f);
            f->st = SC_HDR;
            break;
        }
        case SC_SRC_WAIT: {
            uint8_t b = hp_rd_u8(&r);
            if (b == 0) {
                scp_source_errors(f);
            } else {
                f->resp = b;
                f->resp_len = 1;
                f->st = SC_SRC_MSG;
            }
            break;
        }
        }
    }
}

static void scp_eof(struct hp_sshfile *f)
{
    switch (f->st) {
    case SC_HDR:
        if (f->line.len)
            scp_screwup(f, "lost connection");
        else
            do_exit(f, f->errs ? 1 : 0);
        break;
    case SC_DATA:
        /* The partial file is captured (truncated) by do_exit(). */
        scp_err(f, "Broken pipe");
        do_exit(f, 1);
        break;
    case SC_RESP:
    case SC_RESP_MSG:
        scp_file_done(f);                              /* all the data had arrived */
        do_exit(f, 1);                                 /* lostconn() */
        break;
    default:
        do_exit(f, 1);
        break;
    }
}

/* ---- SCP command lines ---------------------------------------------------------------------------- */

/* Split a command line like a shell would for simple words; false on any
 * shell syntax beyond blanks and quotes. */
static bool split_words(const char *s, char ***out, int *nout)
{
    char **v = NULL;
    int n = 0;
    size_t len = strlen(s);
    char *w = malloc(len + 1);
    if (!w)
        abort();
    size_t i = 0;
    bool ok = true;
    while (ok) {
        while (s[i] == ' ' || s[i] == '\t')
            i++;
        if (!s[i])
            break;
        size_t wl = 0;
        while (s[i] && s[i] != ' ' && s[i] != '\t') {
            char c = s[i];
            if (c == '\'') {
                const char *e = strchr(s + i + 1, '\'');
                if (!e) {
                    ok = false;
                    break;
                }
                size_t ql = (size_t)(e - (s + i + 1));
                memcpy(w + wl, s + i + 1, ql);
                wl += ql;
                i += ql + 2;
            } else if (c == '"') {
                const char *e = strchr(s + i + 1, '"');
                if (!e) {
                    ok = false;
                    break;
                }
                size_t ql = (size_t)(e - (s + i + 1));
                if (memchr(s + i + 1, '$', ql) || memchr(s + i + 1, '`', ql) || memchr(s + i + 1, '\\', ql)) {
                    ok = false;
                    break;
                }
                memcpy(w + wl, s + i + 1, ql);
                wl += ql;
                i += ql + 2;
            } else if (strchr(";&|<>()$`\\\n\r*?[{}#!", c)) {
                ok = false;
                break;
            } else {
                w[wl++] = c;
                i++;
            }
        }
        if (!ok)
            break;
        char **nv = realloc(v, sizeof(*v) * (size_t)(n + 1));
        if (!nv)
            abort();
        v = nv;
        v[n++] = dupn(w, wl);
    }
    free(w);
    if (!ok) {
        for (int k = 0; k < n; k++)
            free(v[k]);
        free(v);
        return false;
    }
    *out = v;
    *nout = n;
    return true;
}

static void free_words(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- construction ----------------------------------------------------------------------------------- */

static struct hp_sshfile *sf_new(const struct hp_sshfile_params *p, enum kind kind)
{
    struct hp_sshfile *f = calloc(1, sizeof(*f));
    if (!f)
        abort();
    f->kind = kind;
    f->p = *p;
    f->data_dir = dupn(p->data_dir ? p->data_dir : ".", strlen(p->data_dir ? p->data_dir : "."));
    f->p.data_dir = f->data_dir;
    const char *u = p->username;
    if (u && strcmp(u, "root") != 0 && sane_user(u)) {
        snprintf(f->user, sizeof(f->user), "%s", u);
        snprintf(f->home, sizeof(f->home), "/home/%s", u);
        f->uid = 1000;
    } else {
        snprintf(f->user, sizeof(f->user), "root");
        snprintf(f->home, sizeof(f->home), "/root");
        f->uid = 0;
    }
    f->p.username = f->user;
    f->max_file = p->max_file ? p->max_file : HP_SSHFILE_MAX_FILE_DEFAULT;
    f->max_total = p->max_total ? p->max_total : HP_SSHFILE_MAX_TOTAL_DEFAULT;
    f->t0 = now_s(f);
    hp_buf_init(&f->out, OUT_CAP);
    hp_buf_init(&f->line, SCP_MAX_LINE + 1);
    hp_buf_init(&f->in, 4 + SFTP_MAX_MSG);
    for (int i = 0; i < SFTP_MAX_HANDLES; i++)
        f->h[i].fd = -1;
    return f;
}

struct hp_sshfile *hp_scp_sink_new(const struct hp_sshfile_params *p, const char *cmdline)
{
    char **av;
    int ac;
    if (!cmdline || !split_words(cmdline, &av, &ac))
        return NULL;
    if (ac < 1) {
        free_words(av, ac);
        return NULL;
    }
    const char *a0 = av[0];
    size_t l0 = strlen(a0);
    if (!(strcmp(a0, "scp") == 0 || (l0 > 4 && strcmp(a0 + l0 - 4, "/scp") == 0))) {
        free_words(av, ac);
        return NULL;
    }
    /* OpenSSH's getopt string; options stop at the first operand or "--". */
    static const char flags[] = "12346ABCTdfOpqRrstv";
    static const char withargs[] = "DFJMPScilX";
    bool t = false, fl = false, r = false, pf = false, d = false, bad = false;
    int i = 1;
    for (; i < ac && !bad; i++) {
        const char *w = av[i];
        if (w[0] != '-' || w[1] == '\0')
            break;
        if (strcmp(w, "--") == 0) {
            i++;
            break;
        }
        for (const char *c = w + 1; *c; c++) {
            if (strchr(withargs, *c)) {
                if (c[1] == '\0')
                    i++;                               /* the argument is the next word */
                break;
            }
            if (!strchr(flags, *c)) {
                bad = true;
                break;
            }
            t |= *c == 't';
            fl |= *c == 'f';
            r |= *c == 'r';
            pf |= *c == 'p';
            d |= *c == 'd';
        }
    }
    if (bad || i > ac || (!t && !fl)) {
        free_words(av, ac);
        return NULL;
    }
    struct hp_sshfile *f = sf_new(p, fl ? K_SCP_SOURCE : K_SCP_SINK);
    f->opt_r = r;
    f->opt_p = pf;
    f->opt_d = d;
    f->nargs = ac - i;
    f->args = calloc((size_t)f->nargs + 1, sizeof(char *));
    if (!f->args)
        abort();
    for (int k = 0; k < f->nargs; k++) {
        const char *w = av[i + k];
        /* "~" and "~/x" as the shell would expand them. */
        if (w[0] == '~' && (w[1] == '\0' || w[1] == '/')) {
            size_t n = strlen(f->home) + strlen(w);
            f->args[k] = malloc(n + 1);
            if (!f->args[k])
                abort();
            snprintf(f->args[k], n + 1, "%s%s", f->home, w + 1);
        } else {
            f->args[k] = dupn(w, strlen(w));
        }
    }
    free_words(av, ac);
    if (f->kind == K_SCP_SINK && f->nargs == 1) {
        const char *targ = f->args[0];
        size_t tl = strlen(targ);
        f->dirs[0] = dupn(targ, tl);
        f->targisdir = f->opt_d || (tl > 0 && targ[tl - 1] == '/') || is_known_dir_scp(f, targ);
    }
    f->st = f->kind == K_SCP_SINK ? SC_HDR : SC_SRC_WAIT;
    f->first = true;
    return f;
}

struct hp_sshfile *hp_sftp_new(const struct hp_sshfile_params *p)
{
    return sf_new(p, K_SFTP);
}

/* ---- entry points --------------------------------------------------------------------------------------- */

void hp_sshfile_start(struct hp_sshfile *f)
{
    if (!f || f->started || f->done)
        return;
    f->started = true;
    if (f->kind != K_SCP_SINK)
        return;
    if (f->nargs != 1) {
        scp_err(f, "ambiguous target");
        do_exit(f, 1);
        return;
    }
    scp_ack(f);                                        /* the sink's opening "\0" */
}

void hp_sshfile_input(struct hp_sshfile *f, const void *data, size_t len)
{
    if (!f || f->done || !len)
        return;
    if (!f->started)
        hp_sshfile_start(f);
    if (f->done)
        return;
    if (f->kind == K_SFTP)
        sftp_input(f, data, len);
    else
        scp_input(f, data, len);
}

void hp_sshfile_eof(struct hp_sshfile *f)
{
    if (!f || f->done)
        return;
    if (!f->started)
        hp_sshfile_start(f);
    if (f->done)
        return;
    if (f->kind == K_SFTP)
        do_exit(f, 0);                                 /* sftp-server: "read eof", exit 0 */
    else
        scp_eof(f);
}

bool hp_sshfile_done(const struct hp_sshfile *f)
{
    return !f || f->done;
}

void hp_sshfile_free(struct hp_sshfile *f)
{
    if (!f)
        return;
    finish_all(f);
    for (size_t i = 0; i < f->nfiles; i++)
        free(f->files[i].path);
    for (size_t i = 0; i < f->nmdirs; i++)
        free(f->mdirs[i].path);
    for (int i = 0; i <= SCP_MAX_DEPTH; i++)
        free(f->dirs[i]);
    if (f->args)
        free_words(f->args, f->nargs);
    up_release(&f->cur);
    hp_buf_free(&f->out);
    hp_buf_free(&f->line);
    hp_buf_free(&f->in);
    free(f->data_dir);
    free(f);
}
