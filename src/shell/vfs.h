/*
 * vfs.h - the fake file system an emulated shell session sees.
 *
 * Two layers, so that a session costs only what the attacker changed:
 *
 *   base image   one per personality, read-only, shared by every session:
 *                directories, /etc files, /bin/busybox and its applet links
 *                or /usr/bin/<program>, /dev nodes, and "generated" files
 *                (/proc/cpuinfo, /proc/meminfo, /proc/uptime, ...) whose
 *                contents persona.c makes at read time.  Built once from
 *                data/shell/<personality>.fs (compiled into the binary).
 *   overlay      copy-on-write changes: files written, directories made,
 *                entries removed (whiteouts), modes changed.  An overlay
 *                belongs to a SOURCE (the attacker's address), not to a
 *                connection: concurrent sessions from one source see each
 *                other's files, and a source that comes back within the
 *                persistence time finds what it left (bots check that the
 *                file they dropped is still there).  Overlays are kept in a
 *                process-wide table, bounded in count and bytes (least
 *                recently used ones are dropped first), and forgotten
 *                `persist` seconds after their last session closed.
 *
 * Paths given to these functions are absolute (sh_vfs_abspath joins a
 * relative one with a working directory).  Symbolic links are followed as
 * the kernel does (at most 16 per lookup: ELOOP).  Every function returns 0
 * (or a count) on success and a negative errno on failure (-ENOENT,
 * -ENOTDIR, -EISDIR, -EEXIST, -ENOTEMPTY, -EACCES, -EPERM, -EINVAL,
 * -ENAMETOOLONG, -ELOOP, -EXDEV, -EBUSY, -EROFS, -ENOSPC when the
 * source's quota is used up), which commands turn into the real tools'
 * messages with strerror().  Permissions are checked against the session's
 * uid (root may do everything a real root may: /proc and /sys stay
 * read-only).
 *
 * Capture: every regular file the attacker creates or changes is "dirty"
 * until it is captured: handed to the capture callback (payload store +
 * session.file_upload event) when it is executed or sourced, when it is
 * removed or overwritten while dirty, and for all that remain when the
 * session closes.  So a dropper built with 100 `echo -ne ... >> .x` lines is
 * captured once, whole.
 *
 * Single-threaded: the event loop's thread only.
 */
#ifndef HP_VFS_H
#define HP_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_buf;
struct hp_persona;

enum sh_ftype { SH_FT_REG, SH_FT_DIR, SH_FT_LNK, SH_FT_CHR, SH_FT_BLK, SH_FT_FIFO, SH_FT_SOCK };

struct sh_stat {
    enum sh_ftype type;
    unsigned mode;                /* permission bits with setuid/setgid/sticky: 04755 */
    unsigned uid, gid;
    unsigned nlink;
    uint64_t size;                /* generated files: the size of their current text */
    int64_t mtime;                /* seconds since the epoch */
    unsigned rdev_major, rdev_minor;  /* SH_FT_CHR / SH_FT_BLK */
    uint64_t ino;                 /* stable per path */
    const char *applet;           /* an emulated program ("ls", "busybox", "sshd"): the command
                                   * table entry that runs when it is executed; NULL for data
                                   * files and for everything the attacker wrote */
};

/* open flags for sh_vfs_write */
#define SH_O_CREAT  0x1
#define SH_O_TRUNC  0x2
#define SH_O_APPEND 0x4
#define SH_O_EXCL   0x8
#define SH_O_SYSTEM 0x10          /* the machine's own change (login adds its user): no
                                   * read-only mount check, never captured */
#define SH_O_FETCHED 0x20         /* the whole file is a download the capture pipeline already
                                   * keeps: not captured again unless changed later */

/* Limits (defaults; sh_vfs_configure may change them). */
#define SH_VFS_FILE_MAX      (8u << 20)      /* bytes in one file */
#define SH_VFS_SOURCE_MAX    (32u << 20)     /* bytes of all files of one source */
#define SH_VFS_TOTAL_MAX     (256u << 20)    /* bytes of all overlays */
#define SH_VFS_SOURCES_MAX   4096            /* overlays kept */
#define SH_VFS_NODES_MAX     4096            /* entries changed by one source */
#define SH_VFS_READ_MAX      (1u << 20)      /* one read of an endless device (/dev/zero) */

struct sh_vfs;

/* Called with a dirty file's path (as created) and bytes; the vfs clears
 * the dirty mark after it returns. */
typedef void (*sh_vfs_capture_fn)(void *arg, const char *path, const uint8_t *data, size_t len);

struct sh_vfs_params {
    const struct hp_persona *persona;
    const char *source;           /* overlay key (the client's address); NULL: a private overlay
                                   * dropped with the session */
    unsigned uid, gid;            /* the session's user */
    const char *user, *home;      /* for a non-root user, home is created in the overlay */
    sh_vfs_capture_fn capture;    /* may be NULL */
    void *capture_arg;
    unsigned shell_pid;           /* added: $$, what /proc/self points to (0: one is drawn) */
};

/* Process-wide settings: persistence time in seconds (0: overlays die with
 * their last session) and the byte limits above (0 keeps a default). */
void sh_vfs_configure(uint64_t persist_s, uint64_t source_max, uint64_t total_max);

struct sh_vfs *sh_vfs_open(const struct sh_vfs_params *p);
/* The session's user as the machine knows it (from /etc/passwd; a user
 * the image lacks is added to it at open, as useradd would).  0. */
int sh_vfs_whoami(struct sh_vfs *v, unsigned *uid, unsigned *gid, char *home, size_t homelen);
/* Captures what is still dirty, then lets go of the overlay (kept for the
 * persistence time when it has a source). */
void sh_vfs_close(struct sh_vfs *v);

/* Join cwd and path lexically ("." and ".." folded, no symlink lookup) into
 * out.  0 or -ENAMETOOLONG. */
int sh_vfs_abspath(const char *cwd, const char *path, char *out, size_t outlen);
/* The canonical path with every symlink resolved (realpath, readlink -f). */
int sh_vfs_realpath(struct sh_vfs *v, const char *path, char *out, size_t outlen);

int sh_vfs_stat(struct sh_vfs *v, const char *path, bool follow, struct sh_stat *st);
/* Permission check as access(2): mode is a mask of 4 (read), 2 (write), 1 (execute). */
int sh_vfs_access(struct sh_vfs *v, const char *path, unsigned mode);

/* Append up to max bytes of the file from offset off to out (max 0: all,
 * capped at SH_VFS_READ_MAX for endless devices).  Directories: -EISDIR.
 * Returns the number of bytes appended. */
long sh_vfs_read(struct sh_vfs *v, const char *path, uint64_t off, size_t max, struct hp_buf *out);
/* Write len bytes: flags SH_O_*; mode for a new file (umask applied by the
 * caller).  /dev/null swallows, /dev/zero too; writing into /proc: -EACCES
 * or -EINVAL like the kernel.  Returns len or a negative errno. */
long sh_vfs_write(struct sh_vfs *v, const char *path, const void *data, size_t len, int flags, unsigned mode);

int sh_vfs_mkdir(struct sh_vfs *v, const char *path, unsigned mode);
int sh_vfs_rmdir(struct sh_vfs *v, const char *path);
int sh_vfs_unlink(struct sh_vfs *v, const char *path);
int sh_vfs_rename(struct sh_vfs *v, const char *from, const char *to);
int sh_vfs_symlink(struct sh_vfs *v, const char *target, const char *linkpath);
/* Added.  The machine's own layout (a front-end adding the paths its kind of
 * device has, e.g. ADB's /system/bin and /data): no read-only mount or
 * permission check.  Same returns as sh_vfs_mkdir / sh_vfs_symlink. */
int sh_vfs_mkdir_system(struct sh_vfs *v, const char *path, unsigned mode);
int sh_vfs_symlink_system(struct sh_vfs *v, const char *target, const char *linkpath);
/* Hard links are copies that share nothing afterwards (good enough for ln). */
int sh_vfs_link(struct sh_vfs *v, const char *from, const char *to);
int sh_vfs_readlink(struct sh_vfs *v, const char *path, char *out, size_t outlen);
int sh_vfs_chmod(struct sh_vfs *v, const char *path, unsigned mode);
int sh_vfs_chown(struct sh_vfs *v, const char *path, unsigned uid, unsigned gid);
int sh_vfs_utime(struct sh_vfs *v, const char *path, int64_t mtime);

/* Call fn for each entry of a directory (not "." and ".."), in name order.
 * fn returns nonzero to stop.  Returns the number of entries or -errno. */
typedef int (*sh_vfs_dir_fn)(void *arg, const char *name, const struct sh_stat *st);
long sh_vfs_list(struct sh_vfs *v, const char *path, sh_vfs_dir_fn fn, void *arg);

/* Capture one dirty file now (executed, sourced, moved away). */
void sh_vfs_capture(struct sh_vfs *v, const char *path);

/* Names for uid/gid from the image's /etc/passwd and /etc/group (and the
 * overlay's if rewritten); NULL when unknown. */
const char *sh_vfs_user_name(struct sh_vfs *v, unsigned uid);
const char *sh_vfs_group_name(struct sh_vfs *v, unsigned gid);

/* Statistics for tests and sensor.stats: overlays kept, bytes held. */
void sh_vfs_stats(size_t *sources, uint64_t *bytes);
/* Tests: drop every kept overlay and base image. */
void sh_vfs_reset(void);
/* Added.  Tests: the clock the vfs uses (seconds since the epoch); 0 restores the real one. */
void sh_vfs_test_clock(int64_t now_s);
/* Added.  The manifest data/shell/<name>.fs compiled into the binary (fsdata.c),
 * NUL-terminated; NULL for an unknown name. */
const char *sh_fsdata_image(const char *name, size_t *len);

#endif
