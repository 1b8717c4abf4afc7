/*
 * persona.h - who the emulated machine is: one personality of the shell.
 *
 * A personality is a kind of device (a Debian server, a busybox router)
 * and the facts that make one such device: host name, kernel, CPU, memory,
 * MAC address, boot time, users.  Everything that a command, a /proc file
 * or the login banner says about the machine comes from here, so that
 * `uname -m`, /proc/cpuinfo, `busybox` and an ELF header agree, `free`
 * agrees with /proc/meminfo, and `ps` start times move with `uptime`.
 *
 * The facts are drawn once per sensor: a stable seed taken from the
 * sensor's generated identity (core/identity.h) picks among realistic
 * values, so two sensors differ but one sensor always answers the same.
 * No fixed identity lives in the code or in data/ (Cowrie's "svr04" and
 * fixed kernel strings are how scanners find Cowrie).
 *
 * Personalities are built on first use and live for the whole process
 * (read-only after that: every session of every service shares them).
 * The base file system of each personality is data/shell/<name>.fs
 * (see vfs.h); the generators below fill its dynamic files.
 */
#ifndef HP_PERSONA_H
#define HP_PERSONA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_buf;

enum hp_shell_flavour {
    HP_SH_BASH,                   /* GNU bash 5.2: "-bash: x: command not found" */
    HP_SH_ASH,                    /* busybox ash:  "-sh: x: not found" */
};

struct hp_persona {
    const char *name;             /* "debian" or "busybox" */
    enum hp_shell_flavour shell;
    bool busybox;                 /* userland is busybox applets (messages in busybox style),
                                   * otherwise GNU coreutils/procps/iproute2 */
    uint64_t seed;                /* stable per sensor and personality: derive further values from it */

    /* uname */
    char hostname[64];
    char kernel_release[64];      /* uname -r */
    char kernel_version[128];     /* uname -v */
    char machine[16];             /* uname -m: "x86_64", "armv7l", "mips" */
    char os_name[64];             /* uname -o style / PRETTY_NAME of os-release */

    /* executables: what an ELF for this machine looks like (./binary outcome) */
    uint16_t elf_machine;         /* EM_X86_64 (62), EM_ARM (40), EM_MIPS (8) */
    bool elf_64;
    bool big_endian;

    /* hardware */
    char cpu_model[96];           /* "model name" / "Processor" of /proc/cpuinfo */
    unsigned cpu_cores;
    unsigned cpu_mhz;
    uint64_t mem_kb;              /* MemTotal */
    uint64_t swap_kb;
    uint64_t disk_kb;             /* size of / */
    uint8_t mac[6];               /* first network interface */
    char ifname[16];              /* "eth0", "ens3", "br0" */

    int64_t boot_time;            /* seconds since the epoch; uptime = now - boot_time */

    /* busybox personalities */
    char busybox_banner[96];      /* "BusyBox v1.31.1 (2020-03-02 12:00:00 CST) multi-call binary." */
};

/* The personality called name ("debian", "busybox"), built on first use.
 * NULL for an unknown name.  Valid for the life of the process. */
const struct hp_persona *hp_persona_get(const char *name);
/* The names, for configuration errors: "debian, busybox". */
const char *hp_persona_names(void);
/* Tests: forget every built personality (the next get draws again from the
 * identity, which tests may have changed). */
void hp_persona_reset(void);

/* ---- dynamic facts: every command and /proc file reads them from here ---- */

/* Seconds since boot at wall-clock time now_s. */
uint64_t hp_persona_uptime(const struct hp_persona *p, int64_t now_s);

/* Memory as /proc/meminfo and free(1) report it, in KiB; it moves a little
 * with time like a live system's, always consistent within one call. */
struct hp_meminfo {
    uint64_t total, free, available, buffers, cached, shared, sreclaimable;
    uint64_t swap_total, swap_free;
};
void hp_persona_mem(const struct hp_persona *p, int64_t now_s, struct hp_meminfo *m);

/* Load averages (1, 5, 15 minutes) times 100, e.g. 3 = 0.03. */
void hp_persona_load(const struct hp_persona *p, int64_t now_s, unsigned load100[3]);

/* Mounted file systems, for df, mount and /proc/mounts. */
struct hp_mount {
    const char *device;           /* "/dev/vda1", "tmpfs", "proc" */
    const char *mountpoint;
    const char *type;             /* "ext4", "tmpfs", "squashfs" */
    const char *options;          /* "rw,relatime" */
    uint64_t size_kb, used_kb;    /* 0 size: not shown by df */
};
/* Returns the number of mounts; *out points into the personality. */
size_t hp_persona_mounts(const struct hp_persona *p, const struct hp_mount **out);

/* Processes, for ps, top, pidof, kill and /proc/<pid>. */
struct hp_proc {
    unsigned pid, ppid;
    const char *user;             /* "root" */
    const char *tty;              /* "?" or "pts/0" */
    const char *cmd;              /* full command line: "/usr/sbin/sshd -D" */
    const char *comm;             /* short name: "sshd" */
    char stat[8];                 /* "Ss", "S<", "I<" */
    uint64_t vsz_kb, rss_kb;
    uint64_t start_uptime_s;      /* started this many seconds after boot */
    uint64_t cpu_ticks;           /* cumulative CPU time in 1/100 s */
};
/* Returns the number of processes of the machine itself (the session's own
 * shell and commands are added by the callers); *out points into the
 * personality and is sorted by pid. */
size_t hp_persona_procs(const struct hp_persona *p, const struct hp_proc **out);

/* Generated text files (appended to out, "\n" line ends): /proc/cpuinfo,
 * /proc/meminfo, /proc/uptime, /proc/loadavg, /proc/version, /proc/mounts,
 * /proc/stat, /etc/os-release ...  Returns false for a name it does not
 * generate.  now_s is the wall clock in seconds. */
bool hp_persona_gen(const struct hp_persona *p, const char *name, int64_t now_s, struct hp_buf *out);

/* The busybox applets this personality has, NULL-terminated, sorted
 * (busybox --list; empty list for non-busybox personalities). */
const char *const *hp_persona_applets(const struct hp_persona *p);

#endif
