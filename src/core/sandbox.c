/*
 * sandbox.c - the seccomp allowlist and the Landlock file-system confinement.
 *
 * Two independent layers, both applied by sensor.c during start-up:
 *
 * 1. Landlock (hp_sandbox_fs), applied BEFORE the first thread exists (the
 *    output writers, the dashboard, the downloader): Landlock restricts the
 *    calling thread and what it creates later, and this kernel API has no way
 *    to restrict threads that already run.  Everything opened after this
 *    point (outputs, keys, GeoIP databases, rule files) must therefore lie in
 *    the allowed hierarchies:
 *      read+write  data_dir, the log file's directory (SIGHUP reopens a new
 *                  file there after logrotate), and where each output writes
 *                  (jsonl dir, sqlite path, clickhouse spool_dir: a
 *                  directory, or a file's directory since SQLite creates
 *                  -wal/-shm beside its file);
 *      read        /etc (resolv.conf, ssl, localtime, passwd), /usr/share and
 *                  /usr/lib (magic, zoneinfo, locale, gconv, ssl, NSS
 *                  modules), /proc/self, /sys/devices/system/cpu (glibc's
 *                  CPU count), /dev/urandom, /dev/random, and every absolute
 *                  path in the configuration (GeoIP databases, an output's
 *                  CA or password file, YARA rule directory, dashboard assets, service
 *                  files such as a user database, with their directory:
 *                  rule files name sibling files);
 *      write       /dev/null.
 *    Nothing may be executed anywhere.  Rules apply to whole hierarchies, so
 *    files created later under data_dir can be opened.  Best effort: on a
 *    kernel without Landlock a warning is logged once and start-up goes on.
 *    The rights handled follow the kernel's ABI: REFER from ABI 2, TRUNCATE
 *    from ABI 3 (an unhandled right is simply not restricted).
 *
 * 2. seccomp (hp_sandbox_syscalls), applied after root is dropped, to every
 *    thread at once (TSYNC).  In 'strict' mode it is an ALLOWLIST: the
 *    default action is EPERM (not kill: a syscall a library needs on a rare
 *    path must degrade into an error the caller handles, not crash the
 *    sensor; nothing is logged per call).  The list was derived by running
 *    the sensor under strace -f through the ssh, telnet, shell, http, tls,
 *    capture, fp, smb, dashboard, status, fleetops, syslog and clickhouse
 *    integration cases, release and ASan builds, then reviewed by hand.
 *    Argument filters where they are cheap and exact:
 *      socket      AF_UNIX, AF_INET, AF_INET6, AF_NETLINK (getaddrinfo) only;
 *      clone       no namespace flags (no CLONE_NEW*): threads only;
 *      clone3      ENOSYS (its flags are behind a pointer, which seccomp cannot
 *                  read): glibc falls back to clone;
 *      prctl       only the options glibc, libraries and sanitizers use;
 *      ioctl       FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, TCGETS, TIOCGWINSZ;
 *    Outside the list, among others: execve, execveat, ptrace (ASan builds
 *    keep it: LeakSanitizer stops the world with it at exit), mount,
 *    personality, chroot, setuid & co (root is already gone), bpf, keyctl,
 *    module loading, reboot, kexec.
 *    'denylist' mode keeps the former filter (allow all but a deny-list),
 *    for a platform whose libraries need something the allowlist lacks;
 *    'off' installs no filter (no_new_privs stays).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <termios.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "config.h"
#include "log.h"
#include "sandbox.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#define SB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_ASAN 1
#endif
#endif

int hp_sandbox_parse(const char *s, enum hp_sandbox_mode *mode)
{
    if (strcmp(s, "strict") == 0)
        *mode = HP_SANDBOX_STRICT;
    else if (strcmp(s, "denylist") == 0)
        *mode = HP_SANDBOX_DENYLIST;
    else if (strcmp(s, "off") == 0)
        *mode = HP_SANDBOX_OFF;
    else
        return -1;
    return 0;
}

/* ---- Landlock --------------------------------------------------------------------------- */

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

#define LL_READ_FILE  (LANDLOCK_ACCESS_FS_READ_FILE)
#define LL_READ       (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_WRITE_FILE (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)
/* Everything but executing and device nodes. */
#define LL_RW (LL_READ | LL_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
               LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
               LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER)
#define LL_ALL_V1 ((1ULL << 13) - 1)

struct ll {
    int fd;                 /* the ruleset */
    uint64_t handled;       /* rights this kernel knows (and we restrict) */
    size_t nrules;
};

/* Allow 'access' below path (a directory) or on it (a file: file rights only).
 * A missing path is skipped: it cannot be opened later either. */
static void ll_allow(struct ll *l, const char *path, uint64_t access)
{
    if (!path || !*path || strcmp(path, "-") == 0)
        return;
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return;
    }
    if (!S_ISDIR(st.st_mode))
        access &= LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                  LANDLOCK_ACCESS_FS_EXECUTE;
    struct landlock_path_beneath_attr pb = { .allowed_access = access & l->handled, .parent_fd = fd };
    if (pb.allowed_access &&
        syscall(SYS_landlock_add_rule, l->fd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) == 0)
        l->nrules++;
    else if (pb.allowed_access)
        hp_warn("sandbox: landlock rule for %s: %s", path, strerror(errno));
    close(fd);
}

/* A path that is a directory, or else its parent directory (a file to be
 * created, or one with siblings such as SQLite's -wal); for a path that does
 * not exist yet (mkdir -p later), its nearest existing ancestor.  A relative
 * path without a slash lives in the working directory. */
static void ll_allow_dir_of(struct ll *l, const char *path, uint64_t access)
{
    struct stat st;
    if (!path || !*path || strcmp(path, "-") == 0)
        return;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    while (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        char *slash = strrchr(dir, '/');
        if (!slash) {
            snprintf(dir, sizeof(dir), ".");
            break;
        }
        if (slash == dir) {
            slash[1] = '\0';
            break;
        }
        *slash = '\0';
    }
    ll_allow(l, dir, access);
}

/* A file to read, with its directory (a database replaced by a rename, rule
 * files naming their siblings); or a directory.  Read rights only. */
static void ll_allow_read_path(struct ll *l, const char *path)
{
    struct stat st;
    if (path && path[0] == '/' && stat(path, &st) == 0 && !S_ISDIR(st.st_mode))
        ll_allow_dir_of(l, path, LL_READ);
    else
        ll_allow(l, path, LL_READ);
}

/* Output keys naming where the output writes (jsonl dir, sqlite path,
 * clickhouse spool_dir); any other path of an output (a CA or password file)
 * is only read. */
static bool ll_output_write_key(const char *key)
{
    return strcmp(key, "dir") == 0 || strcmp(key, "path") == 0 || strcmp(key, "spool_dir") == 0;
}

/* Every absolute path among an option's words ("FILE.xml DIR" is two): read
 * rights (a file with its directory: rule files name their siblings), or for
 * an output's write keys every right under the directory (its files may not
 * exist yet). */
static void ll_allow_kv(struct ll *l, const struct hp_kv *kv, bool output)
{
    for (; kv; kv = kv->next) {
        const char *v = kv->value;
        bool write = output && ll_output_write_key(kv->key);
        if (write && v && *v) {
            ll_allow_dir_of(l, v, LL_RW);       /* relative paths too: they are the output's */
            continue;
        }
        while (v && *v) {
            size_t n = strcspn(v, " \t");
            if (v[0] == '/' && n < 4096) {
                char word[4096];
                memcpy(word, v, n);
                word[n] = '\0';
                ll_allow_read_path(l, word);
            }
            v += n;
            v += strspn(v, " \t");
        }
    }
}

static void ll_rules(struct ll *l, const struct hp_config *cfg)
{
    static const char *const ro[] = {
        "/etc", "/usr/share", "/usr/lib", "/usr/lib64", "/usr/local/share", "/usr/local/lib",
        "/proc/self", "/sys/devices/system/cpu", "/dev/urandom", "/dev/random",
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(ro); i++)
        ll_allow(l, ro[i], LL_READ);
    ll_allow(l, "/dev/null", LL_READ_FILE | LL_WRITE_FILE);
    ll_allow(l, cfg->data_dir, LL_RW);
    ll_allow_dir_of(l, cfg->log_file, LL_RW);         /* "" or "-": standard error */
    for (size_t i = 0; i < cfg->noutputs; i++)
        if (cfg->outputs[i].enabled)
            ll_allow_kv(l, cfg->outputs[i].opts, true);
    ll_allow_read_path(l, cfg->geoip_country);
    ll_allow_read_path(l, cfg->geoip_asn);
    ll_allow_read_path(l, cfg->geoip_city);
    ll_allow(l, cfg->capture.yara_rules, LL_READ);
    if (cfg->dashboard.enabled)
        ll_allow(l, cfg->dashboard.assets, LL_READ);
    for (size_t i = 0; i < cfg->nservices; i++)
        ll_allow_kv(l, cfg->services[i].opts, false);
}

/* Threads of this process now (Landlock will not reach the others). */
static int ll_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *de; (de = readdir(d));)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

int hp_sandbox_fs(const struct hp_config *cfg, char *err, size_t errlen)
{
    if (cfg->sandbox != HP_SANDBOX_STRICT)
        return 0;
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 1) {
        hp_warn("sandbox: this kernel has no Landlock (%s): files are confined by permissions only",
                strerror(errno));
        return 0;
    }
    struct ll l = { .fd = -1, .handled = LL_ALL_V1 };
    if (abi >= 2)
        l.handled |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        l.handled |= LANDLOCK_ACCESS_FS_TRUNCATE;
    struct landlock_ruleset_attr ra = { .handled_access_fs = l.handled };
    l.fd = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0);
    if (l.fd < 0) {
        snprintf(err, errlen, "sandbox: landlock_create_ruleset: %s", strerror(errno));
        return -1;
    }
    ll_rules(&l, cfg);
    /* no_new_privs is a precondition of restrict_self without CAP_SYS_ADMIN;
     * hp_privs_drop() sets it again later (idempotent). */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(SYS_landlock_restrict_self, l.fd, 0) != 0) {
        snprintf(err, errlen, "sandbox: landlock_restrict_self: %s", strerror(errno));
        close(l.fd);
        return -1;
    }
    close(l.fd);
    int nt = ll_threads();
    if (nt > 1)      /* a start-up change that created a thread too early: say so */
        hp_warn("sandbox: %d threads were already running: only this one and its later threads are confined", nt);
    hp_info("sandbox: landlock ABI %ld, %zu rule(s): writes only under %s", abi, l.nrules, cfg->data_dir);
    return 0;
}

/* ---- seccomp ---------------------------------------------------------------------------- */

/* Allowed without argument checks.  Grouped by what needs them. */
static const char *const sc_allow[] = {
    /* memory */
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync", "mincore", "membarrier",
    /* files and descriptors (where is Landlock's job) */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
    "open", "openat", "close", "close_range", "lseek", "fstat", "stat", "lstat", "newfstatat", "statx",
    "fstatfs", "statfs", "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents",
    "getdents64", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2",
    "link", "linkat", "ftruncate", "fsync", "fdatasync", "fallocate", "fadvise64", "fcntl", "flock",
    "dup", "dup2", "dup3", "pipe", "pipe2", "fchmod", "fchown", "sendfile", "getcwd", "umask",
    "utimensat", "futimesat", "sync_file_range",
    /* events, time */
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "poll",
    "ppoll", "select", "pselect6", "eventfd", "eventfd2", "timerfd_create", "timerfd_settime",
    "timerfd_gettime", "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep",
    "clock_nanosleep",
    /* network (socket() itself below, with its domain checked) */
    "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname", "getpeername",
    "setsockopt", "getsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
    "shutdown",
    /* threads, signals */
    "futex", "set_robust_list", "get_robust_list", "rseq", "set_tid_address", "exit", "exit_group",
    "gettid", "getpid", "getppid", "tgkill", "tkill", "sched_yield", "sched_getaffinity",
    "sched_getparam", "sched_getscheduler", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
    "rt_sigtimedwait", "sigaltstack", "restart_syscall", "getrandom",
    /* identity and limits (reading only: setuid & co are not here) */
    "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid", "getresgid", "uname", "sysinfo",
    "getrlimit", "prlimit64", "getrusage", "times",
#ifdef SB_ASAN
    /* LeakSanitizer at exit: a tracer task stops the world with ptrace */
    "ptrace", "wait4", "waitid", "process_vm_readv", "sched_setaffinity", "arch_prctl",
#endif
};

/* ioctl: non-blocking mode, close-on-exec, bytes readable, terminal size and
 * mode (isatty); nothing that can push input into a terminal (TIOCSTI) or
 * reach a device. */
static const unsigned long sc_ioctl_ops[] = { FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, TCGETS, TIOCGWINSZ };

static const int sc_socket_domains[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };

static const int sc_prctl_ops[] = {
    PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, PR_SET_VMA, PR_GET_NO_NEW_PRIVS, PR_GET_SECCOMP,
#ifdef SB_ASAN
    PR_SET_DUMPABLE, PR_SET_PTRACER,
#endif
};

#define SB_CLONE_NS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
                     CLONE_NEWNET | CLONE_NEWCGROUP)

/* The former deny-list ('denylist' mode). */
static const char *const sc_deny[] = {
    "execve", "execveat",
#ifndef SB_ASAN
    "ptrace", "process_vm_readv", "process_vm_writev",
#endif
    "mount", "umount2", "pivot_root", "chroot", "reboot", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "swapon", "swapoff", "bpf",
    "keyctl", "add_key", "request_key", "personality", "userfaultfd", "perf_event_open",
    "open_by_handle_at", "setns", "unshare", "acct", "settimeofday", "clock_settime",
};

static int sc_add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned nargs,
                  const struct scmp_arg_cmp *args, char *err, size_t errlen)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0;                 /* not on this architecture */
    int rc = seccomp_rule_add_array(ctx, action, nr, nargs, args);
    if (rc != 0 && rc != -EEXIST) {
        snprintf(err, errlen, "seccomp: cannot add rule for %s: %s", name, strerror(-rc));
        return -1;
    }
    return 0;
}

static int sc_strict_rules(scmp_filter_ctx ctx, char *err, size_t errlen)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(sc_allow); i++)
        if (sc_add(ctx, SCMP_ACT_ALLOW, sc_allow[i], 0, NULL, err, errlen) != 0)
            return -1;
    for (size_t i = 0; i < HP_ARRAY_LEN(sc_socket_domains); i++) {
        struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sc_socket_domains[i]);
        if (sc_add(ctx, SCMP_ACT_ALLOW, "socket", 1, &a, err, errlen) != 0)
            return -1;
    }
    for (size_t i = 0; i < HP_ARRAY_LEN(sc_ioctl_ops); i++) {
        struct scmp_arg_cmp a = SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)sc_ioctl_ops[i]);
        if (sc_add(ctx, SCMP_ACT_ALLOW, "ioctl", 1, &a, err, errlen) != 0)
            return -1;
    }
    for (size_t i = 0; i < HP_ARRAY_LEN(sc_prctl_ops); i++) {
        struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sc_prctl_ops[i]);
        if (sc_add(ctx, SCMP_ACT_ALLOW, "prctl", 1, &a, err, errlen) != 0)
            return -1;
    }
    /* Pull outputs go to SCHED_IDLE and back to SCHED_OTHER (output.c);
     * no other policy, so never a real-time one even when running as root. */
    static const int sched_policies[] = { SCHED_OTHER, SCHED_IDLE };
    for (size_t i = 0; i < HP_ARRAY_LEN(sched_policies); i++) {
        struct scmp_arg_cmp a = SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)sched_policies[i]);
        if (sc_add(ctx, SCMP_ACT_ALLOW, "sched_setscheduler", 1, &a, err, errlen) != 0)
            return -1;
    }
    struct scmp_arg_cmp no_ns = SCMP_A0(SCMP_CMP_MASKED_EQ, (scmp_datum_t)SB_CLONE_NS, 0);
    if (sc_add(ctx, SCMP_ACT_ALLOW, "clone", 1, &no_ns, err, errlen) != 0 ||
        sc_add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, err, errlen) != 0)
        return -1;
    return 0;
}

int hp_sandbox_syscalls(const struct hp_config *cfg, char *err, size_t errlen)
{
    if (cfg->sandbox == HP_SANDBOX_OFF) {
        hp_warn("sandbox: off ([sensor] sandbox = off): no seccomp filter");
        return 0;
    }
    bool strict = cfg->sandbox == HP_SANDBOX_STRICT;
    scmp_filter_ctx ctx = seccomp_init(strict ? SCMP_ACT_ERRNO(EPERM) : SCMP_ACT_ALLOW);
    if (!ctx) {
        snprintf(err, errlen, "seccomp_init failed");
        return -1;
    }
    int rc = 0;
    if (strict)
        rc = sc_strict_rules(ctx, err, errlen);
    else
        for (size_t i = 0; rc == 0 && i < HP_ARRAY_LEN(sc_deny); i++)
            rc = sc_add(ctx, SCMP_ACT_ERRNO(EPERM), sc_deny[i], 0, NULL, err, errlen);
    if (rc == 0) {
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
        int lrc = seccomp_load(ctx);
        if (lrc != 0) {
            snprintf(err, errlen, "seccomp_load: %s", strerror(-lrc));
            rc = -1;
        }
    }
    seccomp_release(ctx);
    if (rc == 0)
        hp_info("sandbox: seccomp %s in every thread", strict ? "allowlist" : "deny-list");
    return rc;
}
