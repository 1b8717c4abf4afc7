/*
 * persona.c - the personalities of the emulated shell.  See persona.h.
 *
 * Design.  A personality is a kind (debian, busybox) plus facts drawn from
 * a per-sensor seed: FNV-1a of the sensor's identity host name and the
 * personality name, stretched with splitmix64 ("draw(p, salt)").  Every
 * choice is an index into a table of real values (Debian kernel builds,
 * cloud vCPU models, router/DVR boards), so nothing fixed identifies us and
 * two sensors differ while one sensor always answers the same.
 *
 * Time-dependent facts (uptime, memory, load) are pure functions of the
 * seed and the clock, so they need no state and agree between commands:
 * the boot time sits on a per-sensor grid (a "reboot" every 90 days at a
 * seeded phase), which keeps it stable across restarts of the sensor.
 *
 * Everything the vfs shows comes through hp_persona_gen(): generated files
 * by name ("cpuinfo", "meminfo", ...), manifest substitutions as "var:NAME"
 * (the data/shell manifests use @NAME@) and the busybox applet links as
 * "applet_links", so /proc, the /etc files and the commands cannot drift.
 *
 * A built personality is a struct persona_priv (public part first) that is
 * never written after hp_persona_get returns it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "buf.h"
#include "identity.h"
#include "util.h"
#include "shell/persona.h"

#define PERSONA_PROCS_MAX 96
#define PERSONA_MOUNTS_MAX 16
#define PERSONA_APPLETS_MAX 400

/* ---- seeded choices --------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t fnv64(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

/* A value in [0, n) for the choice called salt. */
static unsigned draw(uint64_t seed, const char *salt, unsigned n)
{
    return n ? (unsigned)(mix64(fnv64(seed, salt)) % n) : 0;
}

/* ---- tables of real values ---------------------------------------------------------- */

/* Real Debian 12 (bookworm) amd64 kernel builds: ABI name and uname -v. */
static const struct { const char *release, *version, *pkg; } debian_kernels[] = {
    { "6.1.0-18-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)", "6.1.76-1" },
    { "6.1.0-21-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1 (2024-05-03)", "6.1.90-1" },
    { "6.1.0-23-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.99-1 (2024-07-15)", "6.1.99-1" },
    { "6.1.0-25-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.106-3 (2024-08-26)", "6.1.106-3" },
    { "6.1.0-26-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1 (2024-09-30)", "6.1.112-1" },
    { "6.1.0-28-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)", "6.1.119-1" },
    { "6.1.0-31-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.128-1 (2025-02-07)", "6.1.128-1" },
    { "6.1.0-32-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.129-1 (2025-03-06)", "6.1.129-1" },
    { "6.1.0-33-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.133-1 (2025-04-10)", "6.1.133-1" },
    { "6.1.0-37-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.140-1 (2025-05-22)", "6.1.140-1" },
    { "6.1.0-38-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.147-1 (2025-08-02)", "6.1.147-1" },
    { "6.1.0-47-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.170-3 (2026-05-08)", "6.1.170-3" },
    { "6.1.0-50-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1 (2026-07-02)", "6.1.176-1" },
    { "6.1.0-53-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.187-1 (2026-09-07)", "6.1.187-1" },
};

static const char intel_flags[] =
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr "
    "sse sse2 ss syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology cpuid "
    "tsc_known_freq pni pclmulqdq vmx ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt "
    "tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch "
    "cpuid_fault invpcid_single pti ssbd ibrs ibpb stibp tpr_shadow vnmi flexpriority ept vpid "
    "ept_ad fsgsbase tsc_adjust bmi1 hle avx2 smep bmi2 erms invpcid rtm rdseed adx smap xsaveopt "
    "arat umip md_clear arch_capabilities";
static const char intel_bugs[] =
    "cpu_meltdown spectre_v1 spectre_v2 spec_store_bypass l1tf mds swapgs taa itlb_multihit "
    "mmio_stale_data retbleed gds";
static const char skylake_flags[] =
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr "
    "sse sse2 ss syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology cpuid "
    "tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt "
    "tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch "
    "cpuid_fault invpcid_single ssbd ibrs ibpb stibp ibrs_enhanced fsgsbase tsc_adjust bmi1 "
    "avx2 smep bmi2 erms invpcid mpx avx512f avx512dq rdseed adx smap clflushopt clwb avx512cd "
    "avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves arat pku ospke avx512_vnni md_clear "
    "arch_capabilities";
static const char skylake_bugs[] = "spectre_v1 spectre_v2 spec_store_bypass swapgs taa mmio_stale_data retbleed gds";
static const char amd_flags[] =
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr "
    "sse sse2 syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm rep_good nopl cpuid extd_apicid "
    "tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes "
    "xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse "
    "3dnowprefetch osvw topoext perfctr_core invpcid_single ssbd ibrs ibpb stibp vmmcall "
    "fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid rdseed adx smap clflushopt clwb sha_ni "
    "xsaveopt xsavec xgetbv1 xsaves clzero xsaveerptr wbnoinvd arat umip pku ospke vaes "
    "vpclmulqdq rdpid fsrm arch_capabilities";
static const char amd_bugs[] = "sysret_ss_attrs spectre_v1 spectre_v2 spec_store_bypass srso";

struct cpu_model {
    const char *model, *vendor, *flags, *bugs;
    unsigned family, model_no, stepping, cpuid_level, cache_kb;
    unsigned mhz_x1000;           /* cpu MHz * 1000 */
    const char *addr;             /* address sizes */
};

static const struct cpu_model debian_cpus[] = {
    { "Intel(R) Xeon(R) CPU E5-2650 v4 @ 2.20GHz", "GenuineIntel", intel_flags, intel_bugs,
      6, 79, 1, 13, 30720, 2199998, "40 bits physical, 48 bits virtual" },
    { "AMD EPYC 7543 32-Core Processor", "AuthenticAMD", amd_flags, amd_bugs,
      25, 1, 1, 16, 512, 2794748, "40 bits physical, 48 bits virtual" },
    { "Intel Xeon Processor (Skylake, IBRS)", "GenuineIntel", skylake_flags, skylake_bugs,
      6, 85, 4, 13, 16384, 2095076, "40 bits physical, 48 bits virtual" },
    { "DO-Regular", "GenuineIntel", intel_flags, intel_bugs,
      6, 63, 2, 13, 4096, 2494140, "40 bits physical, 48 bits virtual" },
    { "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz", "GenuineIntel", skylake_flags, skylake_bugs,
      6, 85, 7, 13, 36608, 2499998, "46 bits physical, 48 bits virtual" },
    { "AMD EPYC-Rome Processor", "AuthenticAMD", amd_flags, amd_bugs,
      23, 49, 0, 16, 512, 2445406, "40 bits physical, 48 bits virtual" },
    { "Intel(R) Xeon(R) Gold 6140 CPU @ 2.30GHz", "GenuineIntel", skylake_flags, skylake_bugs,
      6, 85, 4, 13, 25344, 2294608, "46 bits physical, 48 bits virtual" },
};

/* Virtual NIC OUIs of the hypervisors cloud servers run on. */
static const uint8_t vm_ouis[][3] = {
    { 0x52, 0x54, 0x00 },  /* QEMU/KVM */
    { 0xfa, 0x16, 0x3e },  /* OpenStack */
    { 0x00, 0x16, 0x3e },  /* Xen */
    { 0x96, 0x00, 0x02 },  /* Hetzner Cloud */
    { 0x02, 0x42, 0xac },  /* locally administered (AWS-like) */
    { 0x00, 0x50, 0x56 },  /* VMware */
};

static const char *const debian_ifnames[] = { "eth0", "ens3", "enp1s0", "ens18", "eth0" };
static const char *const admin_names[] = {
    "debian", "admin", "deploy", "sysadmin", "ops", "devops", "webadmin", "mark", "alex",
    "daniel", "martin", "thomas", "andrew", "kevin", "jan", "michael", "service", "support",
};
static const char *const debian_disks[] = { "/dev/vda1", "/dev/sda1", "/dev/xvda1", "/dev/vda1" };

/* Router, DVR and IP-camera boards as they answer on the Internet. */
struct board {
    const char *kind;             /* "dvr", "ipcam", "router" */
    const char *machine;          /* uname -m */
    uint16_t elf_machine;
    bool big_endian;
    const char *cpu_model;        /* Processor / cpu model line */
    const char *hardware;         /* Hardware / system type */
    const char *kernel_release;
    const char *kernel_version;
    const char *busybox;          /* banner */
    unsigned bogomips_x100;
    unsigned mem_mb[2];           /* range of RAM */
    unsigned cores;
    const char *const *hostnames;
    const char *ifname;
    const char *web;              /* process name of its web server */
    const char *web_cmd;
    const char *app;              /* its main application (NULL: none) */
    const char *app_cmd;
    const char *remote;           /* "telnetd" or "dropbear" */
    const char *remote_cmd;
    const uint8_t *oui;
    bool wget;                    /* has a wget applet */
    const char *rootdev, *roottype;
};

static const char *const dvr_hosts[] = { "dvrdvs", "LocalHost", "HI3520D", "(none)", "NVR", "DVR", NULL };
static const char *const cam_hosts[] = { "IPCamera", "(none)", "hi3518", "IPC", "Anyka", "localhost", NULL };
static const char *const rtr_hosts[] = { "OpenWrt", "router", "LEDE", "RT-N12", "ZXHN", "Router", "localhost", NULL };
static const char *const gw_hosts[] = { "TL-WR841N", "router", "Realtek", "RTL8196C", "AP", "Wireless", NULL };

static const uint8_t oui_hisi[3] = { 0x00, 0x12, 0x17 };      /* as XM/HiSilicon DVRs ship */
static const uint8_t oui_hik[3] = { 0x44, 0x19, 0xb6 };       /* Hangzhou Hikvision */
static const uint8_t oui_tplink[3] = { 0x50, 0xc7, 0xbf };    /* TP-LINK */
static const uint8_t oui_ralink[3] = { 0x00, 0x0c, 0x43 };    /* Ralink */
static const uint8_t oui_realtek[3] = { 0x00, 0xe0, 0x4c };   /* Realtek */

static const struct board boards[] = {
    { "dvr", "armv7l", 40, false, "ARMv7 Processor rev 0 (v7l)", "hi3520d",
      "3.0.8", "#1 Wed Jun 18 10:23:29 CST 2014",
      "BusyBox v1.16.1 (2014-05-23 01:24:01 CST) multi-call binary.", 119685,
      { 128, 256 }, 1, dvr_hosts, "eth0", "boa", "boa", "Sofia", "/var/Sofia",
      "telnetd", "/bin/telnetd", oui_hisi, true, "/dev/root", "cramfs" },
    { "ipcam", "armv7l", 40, false, "ARMv7 Processor rev 5 (v7l)", "hi3518ev200",
      "3.4.35", "#2 Thu Sep 17 15:12:47 CST 2015",
      "BusyBox v1.20.2 (2015-09-17 14:34:41 CST) multi-call binary.", 29792,
      { 64, 64 }, 1, cam_hosts, "eth0", "goahead", "/bin/goahead", "ipc_server", "./ipc_server",
      "telnetd", "telnetd", oui_hik, true, "/dev/root", "squashfs" },
    { "router", "mips", 8, false, "MIPS 1004Kc V2.15", "MediaTek MT7621 ver:1 eco:3",
      "4.14.171", "#0 SMP Thu Feb 27 21:05:12 2020",
      "BusyBox v1.30.1 () multi-call binary.", 58490,
      { 128, 256 }, 2, rtr_hosts, "br-lan", "uhttpd", "/usr/sbin/uhttpd -f -h /www -r OpenWrt -x /cgi-bin -t 60 -T 30 -k 20 -A 1 -n 3 -N 100 -R -p 0.0.0.0:80",
      NULL, NULL, "dropbear", "/usr/sbin/dropbear -F -P /var/run/dropbear.1.pid -p 22 -K 300 -T 3",
      oui_tplink, true, "/dev/root", "squashfs" },
    { "router", "mips", 8, false, "MIPS 24KEc V5.0", "Ralink SoC",
      "2.6.36", "#1 Tue Mar 11 17:38:25 CST 2014",
      "BusyBox v1.22.1 (2014-03-11 17:30:07 CST) multi-call binary.", 38912,
      { 32, 64 }, 1, gw_hosts, "br0", "httpd", "httpd", "cfmd", "cfmd",
      "telnetd", "telnetd", oui_ralink, false, "/dev/mtdblock2", "squashfs" },
    { "router", "mips", 8, false, "MIPS 24KEc V5.5", "MediaTek MT7628AN ver:1 eco:2",
      "3.10.14", "#1 Mon Aug 20 10:47:32 CST 2018",
      "BusyBox v1.24.1 (2018-08-20 10:32:16 CST) multi-call binary.", 38707,
      { 64, 128 }, 1, gw_hosts, "br0", "lighttpd", "lighttpd -f /etc/lighttpd.conf", "rtkmon", "rtkmon",
      "telnetd", "telnetd -l /bin/login", oui_realtek, true, "/dev/mtdblock3", "squashfs" },
    { "dvr", "armv7l", 40, false, "ARMv7 Processor rev 1 (v7l)", "Xilinx Zynq Platform",
      "3.10.0", "#14 SMP PREEMPT Fri Nov 24 17:16:42 CST 2017",
      "BusyBox v1.26.2 (2017-11-24 16:02:31 CST) multi-call binary.", 133333,
      { 256, 256 }, 2, dvr_hosts, "eth0", "httpd", "httpd -h /web", "dvr_app", "/app/dvr_app",
      "telnetd", "telnetd", oui_hisi, false, "/dev/mtdblock4", "squashfs" },
};

/* Every busybox applet we link, sorted, with its install directory. */
static const struct { const char *name; const char *dir; bool core; } bb_applets[] = {
    { "[", "/usr/bin", true }, { "[[", "/usr/bin", true }, { "addgroup", "/bin", false },
    { "adduser", "/bin", false }, { "arp", "/sbin", true }, { "arping", "/usr/bin", false },
    { "ash", "/bin", true }, { "awk", "/usr/bin", true }, { "base64", "/bin", false },
    { "basename", "/usr/bin", true }, { "blkid", "/sbin", false }, { "bunzip2", "/usr/bin", false },
    { "bzcat", "/usr/bin", false }, { "cal", "/usr/bin", false }, { "cat", "/bin", true },
    { "chgrp", "/bin", false }, { "chmod", "/bin", true }, { "chown", "/bin", true },
    { "chpasswd", "/usr/sbin", false }, { "chroot", "/usr/sbin", false },
    { "chvt", "/usr/bin", false }, { "cksum", "/usr/bin", false }, { "clear", "/usr/bin", true },
    { "cmp", "/usr/bin", false }, { "comm", "/usr/bin", false }, { "cp", "/bin", true },
    { "cpio", "/bin", false }, { "crond", "/usr/sbin", false }, { "crontab", "/usr/bin", false },
    { "cut", "/usr/bin", true }, { "date", "/bin", true }, { "dd", "/bin", true },
    { "deluser", "/bin", false }, { "devmem", "/sbin", false }, { "df", "/bin", true },
    { "diff", "/usr/bin", false }, { "dirname", "/usr/bin", true }, { "dmesg", "/bin", true },
    { "dnsdomainname", "/bin", false }, { "du", "/usr/bin", true },
    { "dumpleases", "/usr/bin", false }, { "echo", "/bin", true }, { "egrep", "/bin", true },
    { "eject", "/usr/bin", false }, { "env", "/usr/bin", true },
    { "ether-wake", "/usr/sbin", false }, { "expand", "/usr/bin", false },
    { "expr", "/usr/bin", true }, { "false", "/bin", true }, { "fdisk", "/sbin", false },
    { "fgrep", "/bin", true }, { "find", "/usr/bin", true },
    { "flash_eraseall", "/usr/sbin", false }, { "flock", "/usr/bin", false },
    { "fold", "/usr/bin", false }, { "free", "/usr/bin", true }, { "fsync", "/bin", false },
    { "ftpd", "/usr/sbin", false }, { "ftpget", "/usr/bin", false },
    { "ftpput", "/usr/bin", false }, { "fuser", "/usr/bin", false }, { "getopt", "/bin", false },
    { "getty", "/sbin", false }, { "grep", "/bin", true }, { "gunzip", "/bin", true },
    { "gzip", "/bin", true }, { "halt", "/sbin", true }, { "hdparm", "/sbin", false },
    { "head", "/usr/bin", true }, { "hexdump", "/usr/bin", false }, { "hostname", "/bin", true },
    { "httpd", "/usr/sbin", false }, { "hush", "/bin", false }, { "hwclock", "/sbin", false },
    { "id", "/usr/bin", true }, { "ifconfig", "/sbin", true }, { "ifdown", "/sbin", false },
    { "ifup", "/sbin", false }, { "inetd", "/usr/sbin", false }, { "init", "/sbin", true },
    { "insmod", "/sbin", true }, { "ionice", "/bin", false }, { "iostat", "/usr/bin", false },
    { "ip", "/sbin", false }, { "ipaddr", "/sbin", false }, { "ipcrm", "/usr/bin", false },
    { "ipcs", "/usr/bin", false }, { "iplink", "/sbin", false }, { "iproute", "/sbin", false },
    { "kill", "/bin", true }, { "killall", "/usr/bin", true }, { "klogd", "/sbin", true },
    { "last", "/usr/bin", false }, { "less", "/usr/bin", false }, { "linux32", "/bin", false },
    { "linux64", "/bin", false }, { "ln", "/bin", true }, { "logger", "/usr/bin", false },
    { "login", "/bin", true }, { "losetup", "/sbin", false }, { "ls", "/bin", true },
    { "lsmod", "/sbin", true }, { "lsof", "/usr/bin", false }, { "lsusb", "/usr/bin", false },
    { "lzcat", "/usr/bin", false }, { "makedevs", "/sbin", false }, { "md5sum", "/usr/bin", false },
    { "mdev", "/sbin", false }, { "mesg", "/usr/bin", false }, { "microcom", "/usr/bin", false },
    { "mkdir", "/bin", true }, { "mkfifo", "/usr/bin", false }, { "mknod", "/bin", true },
    { "mkswap", "/sbin", false }, { "mktemp", "/bin", false }, { "modprobe", "/sbin", false },
    { "more", "/bin", true }, { "mount", "/bin", true }, { "mountpoint", "/bin", false },
    { "mpstat", "/usr/bin", false }, { "mv", "/bin", true }, { "nameif", "/sbin", false },
    { "nc", "/usr/bin", false }, { "netstat", "/bin", true }, { "nice", "/bin", false },
    { "nmeter", "/usr/bin", false }, { "nohup", "/usr/bin", false },
    { "nslookup", "/usr/bin", false }, { "ntpd", "/usr/sbin", false }, { "od", "/usr/bin", false },
    { "passwd", "/usr/bin", true }, { "patch", "/usr/bin", false }, { "pgrep", "/usr/bin", false },
    { "pidof", "/bin", true }, { "ping", "/bin", true }, { "ping6", "/bin", false },
    { "pivot_root", "/sbin", false }, { "pkill", "/usr/bin", false }, { "pmap", "/usr/bin", false },
    { "poweroff", "/sbin", true }, { "printenv", "/usr/bin", false },
    { "printf", "/usr/bin", true }, { "ps", "/bin", true }, { "pstree", "/usr/bin", false },
    { "pwd", "/bin", true }, { "rdate", "/usr/sbin", false }, { "readlink", "/usr/bin", false },
    { "reboot", "/sbin", true }, { "renice", "/usr/bin", false }, { "reset", "/usr/bin", false },
    { "rev", "/bin", false }, { "rm", "/bin", true }, { "rmdir", "/bin", true },
    { "rmmod", "/sbin", true }, { "route", "/sbin", true }, { "run-parts", "/bin", false },
    { "script", "/usr/bin", false }, { "sed", "/bin", true }, { "seq", "/usr/bin", false },
    { "setsid", "/usr/bin", false }, { "sh", "/bin", true }, { "sha1sum", "/usr/bin", false },
    { "sha256sum", "/usr/bin", false }, { "sleep", "/bin", true }, { "sort", "/usr/bin", false },
    { "start-stop-daemon", "/sbin", false }, { "stat", "/bin", false },
    { "strings", "/usr/bin", false }, { "stty", "/bin", false }, { "su", "/bin", false },
    { "swapoff", "/sbin", false }, { "swapon", "/sbin", false }, { "sync", "/bin", true },
    { "sysctl", "/sbin", false }, { "syslogd", "/sbin", true }, { "tac", "/usr/bin", false },
    { "tail", "/usr/bin", true }, { "tar", "/bin", true }, { "taskset", "/usr/bin", false },
    { "tee", "/usr/bin", false }, { "telnet", "/usr/bin", true }, { "telnetd", "/usr/sbin", true },
    { "test", "/usr/bin", true }, { "tftp", "/usr/bin", true }, { "time", "/usr/bin", false },
    { "timeout", "/usr/bin", false }, { "top", "/usr/bin", true }, { "touch", "/bin", true },
    { "tr", "/usr/bin", true }, { "traceroute", "/usr/bin", false }, { "true", "/bin", true },
    { "tty", "/usr/bin", false }, { "udhcpc", "/sbin", true }, { "udhcpd", "/usr/sbin", false },
    { "umount", "/bin", true }, { "uname", "/bin", true }, { "uniq", "/usr/bin", false },
    { "unlink", "/usr/bin", false }, { "unxz", "/usr/bin", false }, { "unzip", "/usr/bin", false },
    { "uptime", "/usr/bin", true }, { "usleep", "/bin", true }, { "uudecode", "/usr/bin", false },
    { "uuencode", "/usr/bin", false }, { "vconfig", "/sbin", false }, { "vi", "/bin", true },
    { "watch", "/bin", false }, { "watchdog", "/sbin", false }, { "wc", "/usr/bin", true },
    { "wget", "/usr/bin", true }, { "which", "/usr/bin", true }, { "whoami", "/usr/bin", true },
    { "xargs", "/usr/bin", true }, { "xzcat", "/usr/bin", false }, { "yes", "/usr/bin", false },
    { "zcat", "/bin", false }, { "zcip", "/sbin", false },
};

/* ---- built personalities -------------------------------------------------------------- */

struct persona_priv {
    struct hp_persona pub;        /* first: callers see only this */
    const struct cpu_model *cpu;  /* debian */
    const struct board *board;    /* busybox */
    const char *kpkg;             /* Debian kernel package version */
    char admin[32];
    char machine_id[33];
    char rootdev[32];
    unsigned admin_uid;
    unsigned mem_used_pct;        /* baseline share of RAM in use */
    struct hp_mount mounts[PERSONA_MOUNTS_MAX];
    size_t nmounts;
    struct hp_proc procs[PERSONA_PROCS_MAX];
    size_t nprocs;
    char strs[4096];              /* strings the procs/mounts point to */
    size_t strs_len;
    const char *applets[PERSONA_APPLETS_MAX + 1];
};

static struct persona_priv *personas[2];
static const char *const persona_names[2] = { "debian", "busybox" };

static const struct persona_priv *priv(const struct hp_persona *p)
{
    return (const struct persona_priv *)p;
}

/* Copy s into the personality's string pool (truncated when it is full). */
static const char *pool(struct persona_priv *pp, const char *s)
{
    size_t n = strlen(s), room = sizeof(pp->strs) - pp->strs_len;
    if (room == 0)
        return "";
    if (n >= room)
        n = room - 1;
    char *d = pp->strs + pp->strs_len;
    memcpy(d, s, n);
    d[n] = '\0';
    pp->strs_len += n + 1;
    return d;
}

static void add_mount(struct persona_priv *pp, const char *dev, const char *mp, const char *type,
                      const char *opt, uint64_t size_kb, uint64_t used_kb)
{
    if (pp->nmounts >= PERSONA_MOUNTS_MAX)
        return;
    pp->mounts[pp->nmounts++] = (struct hp_mount){ pool(pp, dev), mp, type, opt, size_kb, used_kb };
}

/* A process; start is seconds after boot. */
static void add_proc(struct persona_priv *pp, unsigned pid, unsigned ppid, const char *user,
                     const char *cmd, const char *comm, const char *stat, uint64_t vsz, uint64_t rss,
                     uint64_t start, const char *tty)
{
    if (pp->nprocs >= PERSONA_PROCS_MAX)
        return;
    struct hp_proc *r = &pp->procs[pp->nprocs++];
    *r = (struct hp_proc){ .pid = pid, .ppid = ppid, .user = user, .tty = tty ? tty : "?",
                           .cmd = pool(pp, cmd), .comm = pool(pp, comm), .vsz_kb = vsz, .rss_kb = rss,
                           .start_uptime_s = start };
    snprintf(r->stat, sizeof(r->stat), "%s", stat);
    r->cpu_ticks = rss ? (mix64(pp->pub.seed ^ pid) % 400) + rss / 64 : mix64(pp->pub.seed + pid) % 50;
}

/* Debian 12 on a cloud VM: what ps -ef shows after boot (kernel threads elided to the
 * ones every such box has). */
static void debian_procs(struct persona_priv *pp)
{
    uint64_t s = pp->pub.seed;
    static const char *const kthreads[] = {
        "rcu_gp", "rcu_par_gp", "slub_flushwq", "netns", "kworker/0:0H-events_highpri",
        "mm_percpu_wq", "rcu_tasks_kthread", "rcu_tasks_rude_kthread", "rcu_tasks_trace_kthread",
        "ksoftirqd/0", "rcu_preempt", "migration/0", "idle_inject/0", "cpuhp/0", "kdevtmpfs",
        "inet_frag_wq", "kauditd", "khungtaskd", "oom_reaper", "writeback", "kcompactd0",
        "ksmd", "khugepaged", "kintegrityd", "kblockd", "blkcg_punt_bio", "tpm_dev_wq",
        "edac-poller", "devfreq_wq", "kworker/0:1H-kblockd", "kswapd0", "kthrotld",
        "acpi_thermal_pm", "mld", "ipv6_addrconf", "kstrp", "zswap-shrink", "kworker/u5:0",
        "ata_sff", "scsi_eh_0", "scsi_tmf_0", "jbd2/vda1-8", "ext4-rsv-conver",
    };
    add_proc(pp, 1, 0, "root", "/sbin/init", "systemd", "Ss", 102000 + s % 3000, 12000 + s % 900, 0, NULL);
    add_proc(pp, 2, 0, "root", "[kthreadd]", "kthreadd", "S", 0, 0, 0, NULL);
    unsigned pid = 3;
    for (size_t i = 0; i < HP_ARRAY_LEN(kthreads); i++) {
        char b[64];
        snprintf(b, sizeof(b), "[%s]", kthreads[i]);
        const char *st = strncmp(kthreads[i], "kworker", 7) == 0 || strstr(kthreads[i], "wq") ? "I<" : "S";
        add_proc(pp, pid, 2, "root", b, kthreads[i], st, 0, 0, 0, NULL);
        pid += 1 + (i > 14 ? (unsigned)(mix64(s + i) % 5) : 0);
    }
    unsigned p = 180 + (unsigned)(s % 60);
    add_proc(pp, p, 1, "root", "/lib/systemd/systemd-journald", "systemd-journald", "Ss", 49000, 14000 + s % 4000, 2, NULL);
    p += 30 + (unsigned)(s >> 8) % 10;
    add_proc(pp, p, 1, "root", "/lib/systemd/systemd-udevd", "systemd-udevd", "Ss", 25600, 6600, 2, NULL);
    p += 180 + (unsigned)(s >> 16) % 80;
    char dh[320];
    const char *ifn = pp->pub.ifname;
    snprintf(dh, sizeof(dh), "/sbin/dhclient -4 -v -i -pf /run/dhclient.%s.pid -lf /var/lib/dhcp/dhclient.%s.leases "
             "-I -df /var/lib/dhcp/dhclient6.%s.leases %s", ifn, ifn, ifn, ifn);
    add_proc(pp, p, 1, "root", dh, "dhclient", "Ss", 5900, 3800, 4, NULL);
    p += 70 + (unsigned)(s >> 20) % 30;
    add_proc(pp, p, 1, "root", "/usr/sbin/cron -f", "cron", "Ss", 6600, 2700, 5, NULL);
    add_proc(pp, p + 1, 1, "message+", "/usr/bin/dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only",
             "dbus-daemon", "Ss", 9000, 4800, 5, NULL);
    add_proc(pp, p + 4, 1, "root", "/usr/sbin/rsyslogd -n -iNONE", "rsyslogd", "Ssl", 222000, 5200, 5, NULL);
    add_proc(pp, p + 5, 1, "root", "/lib/systemd/systemd-logind", "systemd-logind", "Ss", 25300, 7700, 5, NULL);
    add_proc(pp, p + 12, 1, "root", "/sbin/agetty -o -p -- \\u --keep-baud 115200,57600,38400,9600 - vt220",
             "agetty", "Ss+", 5900, 1900, 6, "ttyS0");
    add_proc(pp, p + 13, 1, "root", "/sbin/agetty -o -p -- \\u --noclear - linux", "agetty", "Ss+", 5800, 1800, 6, "tty1");
    add_proc(pp, p + 16, 1, "root", "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups", "sshd", "Ss",
             15400, 9300, 6, NULL);
}

/* A busybox device: init, the daemons the firmware starts, its application. */
static void busybox_procs(struct persona_priv *pp)
{
    const struct board *b = pp->board;
    uint64_t s = pp->pub.seed;
    add_proc(pp, 1, 0, "root", "init", "init", "S", 1520, 560, 0, NULL);
    static const char *const kth[] = { "kthreadd", "ksoftirqd/0", "kworker/0:0", "kworker/u2:0",
                                       "khelper", "sync_supers", "bdi-default", "kblockd", "khubd",
                                       "kswapd0", "fsnotify_mark", "mtdblock0", "mtdblock1", "mtdblock2" };
    unsigned pid = 2;
    for (size_t i = 0; i < HP_ARRAY_LEN(kth); i++) {
        char n[48];
        snprintf(n, sizeof(n), "[%s]", kth[i]);
        add_proc(pp, pid, i ? 2 : 0, "root", n, kth[i], "SW", 0, 0, 0, NULL);
        pid += 1 + (i > 6 ? 2 : 0);
    }
    unsigned p = 60 + (unsigned)(s % 40);
    add_proc(pp, p, 1, "root", "/sbin/syslogd -n", "syslogd", "S", 1524, 480, 9, NULL);
    add_proc(pp, p + 2, 1, "root", "/sbin/klogd -n", "klogd", "S", 1524, 412, 9, NULL);
    add_proc(pp, p + 21, 1, "root", b->remote_cmd, b->remote, "S", 1528 + (strcmp(b->remote, "dropbear") ? 0 : 300), 520, 12, NULL);
    add_proc(pp, p + 30, 1, "root", "udhcpc -i eth0 -b -p /var/run/udhcpc.pid", "udhcpc", "S", 1532, 440, 14, NULL);
    add_proc(pp, p + 47, 1, "root", b->web_cmd, b->web, "S", 2400 + s % 900, 800, 16, NULL);
    if (b->app)
        add_proc(pp, p + 60, 1, "root", b->app_cmd, b->app, "S", 18000 + s % 40000, 4000 + s % 6000, 20, NULL);
    add_proc(pp, p + 80, 1, "root", "-/bin/sh", "sh", "S", 1532, 520, 22, "ttyS000");
}

static void debian_mounts(struct persona_priv *pp)
{
    const struct hp_persona *p = &pp->pub;
    uint64_t ram = p->mem_kb, disk = p->disk_kb;
    uint64_t used = disk / 100 * (6 + draw(p->seed, "disk-used", 14));
    char efi[32];
    snprintf(efi, sizeof(efi), "%.*s15", (int)(strlen(pp->rootdev) - 1), pp->rootdev);
    add_mount(pp, "sysfs", "/sys", "sysfs", "rw,nosuid,nodev,noexec,relatime", 0, 0);
    add_mount(pp, "proc", "/proc", "proc", "rw,nosuid,nodev,noexec,relatime", 0, 0);
    add_mount(pp, "udev", "/dev", "devtmpfs", "rw,nosuid,relatime,size=" "958888k,nr_inodes=239722,mode=755,inode64",
              ram / 2 - 4000, 0);
    add_mount(pp, "devpts", "/dev/pts", "devpts", "rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=000", 0, 0);
    add_mount(pp, "tmpfs", "/run", "tmpfs", "rw,nosuid,nodev,noexec,relatime,size=196852k,mode=755,inode64",
              ram / 10, 500 + p->seed % 400);
    add_mount(pp, pp->rootdev, "/", "ext4", "rw,relatime,discard,errors=remount-ro", disk, used);
    add_mount(pp, "tmpfs", "/dev/shm", "tmpfs", "rw,nosuid,nodev,inode64", ram / 2, 0);
    add_mount(pp, "tmpfs", "/run/lock", "tmpfs", "rw,nosuid,nodev,noexec,relatime,size=5120k,inode64", 5120, 0);
    add_mount(pp, efi, "/boot/efi", "vfat", "rw,relatime,fmask=0022,dmask=0022,codepage=437,iocharset=ascii,shortname=mixed,utf8,errors=remount-ro",
              126678, 12090);
}

static void busybox_mounts(struct persona_priv *pp)
{
    const struct board *b = pp->board;
    uint64_t ram = pp->pub.mem_kb;
    add_mount(pp, "rootfs", "/", "rootfs", "rw", 0, 0);
    add_mount(pp, b->rootdev, "/", b->roottype, "ro,relatime", 7680 + pp->pub.seed % 4096, 7680 + pp->pub.seed % 4096);
    add_mount(pp, "proc", "/proc", "proc", "rw,relatime", 0, 0);
    add_mount(pp, "sysfs", "/sys", "sysfs", "rw,relatime", 0, 0);
    add_mount(pp, "tmpfs", "/dev", "tmpfs", "rw,relatime", ram / 2, 0);
    add_mount(pp, "devpts", "/dev/pts", "devpts", "rw,relatime,mode=600", 0, 0);
    add_mount(pp, "tmpfs", "/tmp", "tmpfs", "rw,relatime", ram / 2, 60 + pp->pub.seed % 200);
    add_mount(pp, "tmpfs", "/var", "tmpfs", "rw,relatime", ram / 2, 120 + pp->pub.seed % 100);
    add_mount(pp, "/dev/mtdblock5", "/mnt/mtd", "jffs2", "rw,relatime", 3072, 412 + pp->pub.seed % 800);
}

static uint64_t identity_seed(const char *name)
{
    const char *host = hp_identity_get("hostname");
    uint64_t h = fnv64(0xcbf29ce484222325ull, host && host[0] ? host : "hanipo-test-seed");
    h = fnv64(h ^ 0x2f, name);
    return mix64(h);
}

/* Boot time on a per-sensor grid: uptime is between 3 and 93 days, and the same
 * boot time comes back after a restart of the sensor. */
static int64_t boot_time(uint64_t seed, int64_t now)
{
    const int64_t period = 90 * 86400, phase = (int64_t)(mix64(seed ^ 0xb007) % (uint64_t)period);
    int64_t k = now - phase;
    int64_t back = ((k % period) + period) % period;
    return now - back - 3 * 86400 - (int64_t)(seed % 7200);
}

static void build_debian(struct persona_priv *pp)
{
    struct hp_persona *p = &pp->pub;
    uint64_t s = p->seed;
    p->shell = HP_SH_BASH;
    p->busybox = false;
    const char *host = hp_identity_get("hostname");
    if (host && host[0])
        snprintf(p->hostname, sizeof(p->hostname), "%s", host);
    else
        snprintf(p->hostname, sizeof(p->hostname), "srv-%04x", (unsigned)(s >> 40) & 0xffff);
    size_t k = draw(s, "kernel", HP_ARRAY_LEN(debian_kernels));
    snprintf(p->kernel_release, sizeof(p->kernel_release), "%s", debian_kernels[k].release);
    snprintf(p->kernel_version, sizeof(p->kernel_version), "%s", debian_kernels[k].version);
    pp->kpkg = debian_kernels[k].pkg;
    snprintf(p->machine, sizeof(p->machine), "x86_64");
    snprintf(p->os_name, sizeof(p->os_name), "Debian GNU/Linux 12 (bookworm)");
    p->elf_machine = 62;
    p->elf_64 = true;
    pp->cpu = &debian_cpus[draw(s, "cpu", HP_ARRAY_LEN(debian_cpus))];
    snprintf(p->cpu_model, sizeof(p->cpu_model), "%s", pp->cpu->model);
    static const unsigned cores[] = { 1, 1, 2, 2, 2, 4 };
    p->cpu_cores = cores[draw(s, "cores", HP_ARRAY_LEN(cores))];
    p->cpu_mhz = pp->cpu->mhz_x1000 / 1000;
    static const unsigned gib[] = { 1, 2, 2, 4, 4, 8 };
    uint64_t g = gib[draw(s, "mem", HP_ARRAY_LEN(gib))];
    /* MemTotal: RAM less what the kernel and firmware keep (about 3-4 %). */
    p->mem_kb = g * 1048576 - g * 1048576 / 28 - draw(s, "memres", 2048) * 4;
    p->swap_kb = draw(s, "swap", 3) == 0 ? 1048572 : 0;
    static const unsigned disk_gb[] = { 25, 30, 40, 50, 60, 80, 100, 160 };
    p->disk_kb = (uint64_t)disk_gb[draw(s, "disk", HP_ARRAY_LEN(disk_gb))] * 1000000000 / 1024 / 100 * 97;
    const uint8_t *oui = vm_ouis[draw(s, "oui", HP_ARRAY_LEN(vm_ouis))];
    memcpy(p->mac, oui, 3);
    uint64_t m = mix64(s ^ 0x3ac);
    p->mac[3] = (uint8_t)m;
    p->mac[4] = (uint8_t)(m >> 8);
    p->mac[5] = (uint8_t)(m >> 16);
    snprintf(p->ifname, sizeof(p->ifname), "%s", debian_ifnames[draw(s, "ifname", HP_ARRAY_LEN(debian_ifnames))]);
    snprintf(pp->admin, sizeof(pp->admin), "%s", admin_names[draw(s, "admin", HP_ARRAY_LEN(admin_names))]);
    pp->admin_uid = 1000;
    snprintf(pp->rootdev, sizeof(pp->rootdev), "%s", debian_disks[draw(s, "disk-dev", HP_ARRAY_LEN(debian_disks))]);
    pp->mem_used_pct = 12 + draw(s, "mem-used", 20);
    debian_mounts(pp);
    debian_procs(pp);
}

static void build_busybox(struct persona_priv *pp)
{
    struct hp_persona *p = &pp->pub;
    uint64_t s = p->seed;
    const struct board *b = &boards[draw(s, "board", HP_ARRAY_LEN(boards))];
    pp->board = b;
    p->shell = HP_SH_ASH;
    p->busybox = true;
    size_t nh = 0;                /* the lists end with NULL */
    while (b->hostnames[nh] && nh < 16)
        nh++;
    /* Kept in the identity file, where the operator sees (and may edit) it. */
    const char *kept = hp_identity_get("busybox_hostname");
    snprintf(p->hostname, sizeof(p->hostname), "%s",
             kept && kept[0] ? kept : b->hostnames[draw(s, "host", (unsigned)(nh ? nh : 1))]);
    if (!kept)
        hp_identity_set("busybox_hostname", p->hostname);
    snprintf(p->kernel_release, sizeof(p->kernel_release), "%s", b->kernel_release);
    snprintf(p->kernel_version, sizeof(p->kernel_version), "%s", b->kernel_version);
    snprintf(p->machine, sizeof(p->machine), "%s", b->machine);
    snprintf(p->os_name, sizeof(p->os_name), "GNU/Linux");
    p->elf_machine = b->elf_machine;
    p->elf_64 = false;
    p->big_endian = b->big_endian;
    snprintf(p->cpu_model, sizeof(p->cpu_model), "%s", b->cpu_model);
    p->cpu_cores = b->cores;
    p->cpu_mhz = b->bogomips_x100 / 100 / (strncmp(b->machine, "mips", 4) == 0 ? 1 : 2) * 2;
    unsigned mb = b->mem_mb[0] == b->mem_mb[1] ? b->mem_mb[0]
                                               : (draw(s, "mem", 2) ? b->mem_mb[1] : b->mem_mb[0]);
    /* Boards keep part of RAM for video/firmware: MemTotal is well below RAM. */
    p->mem_kb = (uint64_t)mb * 1024 * (b->app ? 70 : 88) / 100 - draw(s, "memres", 512) * 4;
    p->swap_kb = 0;
    p->disk_kb = 0;
    memcpy(p->mac, b->oui, 3);
    uint64_t m = mix64(s ^ 0x3ac);
    p->mac[3] = (uint8_t)m;
    p->mac[4] = (uint8_t)(m >> 8);
    p->mac[5] = (uint8_t)(m >> 16);
    snprintf(p->ifname, sizeof(p->ifname), "%s", b->ifname);
    snprintf(p->busybox_banner, sizeof(p->busybox_banner), "%s", b->busybox);
    snprintf(pp->admin, sizeof(pp->admin), "%s", draw(s, "admin", 3) ? "admin" : "user");
    pp->admin_uid = 1000;
    pp->mem_used_pct = b->app ? 45 + draw(s, "mem-used", 20) : 25 + draw(s, "mem-used", 20);
    /* The applets of this board: every core applet, the others by draw (firmware
     * builders trim busybox to fit the flash), wget as the board has it. */
    size_t n = 0;
    for (size_t i = 0; i < HP_ARRAY_LEN(bb_applets) && n < PERSONA_APPLETS_MAX; i++) {
        const char *a = bb_applets[i].name;
        bool keep = bb_applets[i].core || draw(s, a, 3) != 0;
        if (strcmp(a, "wget") == 0)
            keep = b->wget;
        if (keep)
            pp->applets[n++] = a;
    }
    pp->applets[n] = NULL;
    busybox_mounts(pp);
    busybox_procs(pp);
}

static struct persona_priv *build(size_t idx)
{
    struct persona_priv *pp = hp_xcalloc(1, sizeof(*pp));
    pp->pub.name = persona_names[idx];
    pp->pub.seed = identity_seed(persona_names[idx]);
    pp->pub.boot_time = boot_time(pp->pub.seed, hp_now_us() / 1000000);
    uint64_t m = mix64(pp->pub.seed ^ 0x1d);
    snprintf(pp->machine_id, sizeof(pp->machine_id), "%016llx%016llx", (unsigned long long)m,
             (unsigned long long)mix64(m));
    if (idx == 0)
        build_debian(pp);
    else
        build_busybox(pp);
    return pp;
}

const struct hp_persona *hp_persona_get(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < HP_ARRAY_LEN(persona_names); i++) {
        if (strcmp(name, persona_names[i]) != 0)
            continue;
        if (!personas[i])
            personas[i] = build(i);
        return &personas[i]->pub;
    }
    return NULL;
}

const char *hp_persona_names(void)
{
    return "debian, busybox";
}

void hp_persona_reset(void)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(personas); i++) {
        free(personas[i]);
        personas[i] = NULL;
    }
}

/* ---- dynamic facts ----------------------------------------------------------------------- */

uint64_t hp_persona_uptime(const struct hp_persona *p, int64_t now_s)
{
    return now_s > p->boot_time ? (uint64_t)(now_s - p->boot_time) : 1;
}

/* A smooth wobble in [0, 1000): linear between seeded points every 'step' seconds. */
static unsigned wobble(uint64_t seed, int64_t now_s, int64_t step)
{
    int64_t k = now_s / step, f = now_s % step;
    if (f < 0) {
        f += step;
        k--;
    }
    unsigned a = (unsigned)(mix64(seed ^ (uint64_t)k) % 1000), b = (unsigned)(mix64(seed ^ (uint64_t)(k + 1)) % 1000);
    return (unsigned)(((int64_t)a * (step - f) + (int64_t)b * f) / step);
}

void hp_persona_mem(const struct hp_persona *p, int64_t now_s, struct hp_meminfo *m)
{
    const struct persona_priv *pp = priv(p);
    uint64_t t = p->mem_kb;
    unsigned w = wobble(p->seed ^ 0x6d656d, now_s, 600);
    uint64_t used = t * (pp->mem_used_pct * 10 + w / 25) / 1000;   /* +/- up to 4 % */
    uint64_t up = hp_persona_uptime(p, now_s);
    /* The page cache fills with uptime up to about half of what is not used. */
    uint64_t cache_max = (t - used) / 2;
    uint64_t cached = cache_max * (up > 86400 * 3 ? 1000 : 400 + up / 432) / 1000;
    cached = cached / 4 * 4;
    uint64_t buffers = (t / 60 + w * 8) / 4 * 4;
    if (used + cached + buffers > t)
        buffers = 0;
    m->total = t;
    m->buffers = buffers;
    m->cached = cached;
    m->free = t - used - cached - buffers;
    m->shared = p->busybox ? 0 : 1000 + (p->seed % 800) * 4;
    m->sreclaimable = p->busybox ? 0 : (t / 45) / 4 * 4;
    m->available = m->free + (m->cached + m->sreclaimable) * 9 / 10 + m->buffers;
    if (m->available > t)
        m->available = t;
    m->swap_total = p->swap_kb;
    m->swap_free = p->swap_kb ? p->swap_kb - (p->swap_kb / 1000) * (w % 7) : 0;
}

void hp_persona_load(const struct hp_persona *p, int64_t now_s, unsigned load100[3])
{
    unsigned base = p->busybox ? 8 : 2;
    load100[0] = base + wobble(p->seed ^ 1, now_s, 60) / 25;
    load100[1] = base + wobble(p->seed ^ 5, now_s, 300) / 40;
    load100[2] = base + wobble(p->seed ^ 15, now_s, 900) / 60;
}

size_t hp_persona_mounts(const struct hp_persona *p, const struct hp_mount **out)
{
    *out = priv(p)->mounts;
    return priv(p)->nmounts;
}

size_t hp_persona_procs(const struct hp_persona *p, const struct hp_proc **out)
{
    *out = priv(p)->procs;
    return priv(p)->nprocs;
}

const char *const *hp_persona_applets(const struct hp_persona *p)
{
    static const char *const none[] = { NULL };
    return p->busybox ? priv(p)->applets : none;
}

/* ---- generated text --------------------------------------------------------------------------- */

static void gen_cpuinfo_x86(const struct persona_priv *pp, struct hp_buf *o)
{
    const struct cpu_model *c = pp->cpu;
    unsigned n = pp->pub.cpu_cores;
    for (unsigned i = 0; i < n; i++) {
        hp_buf_printf(o, "processor\t: %u\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n"
                      "model name\t: %s\nstepping\t: %u\nmicrocode\t: 0x1\ncpu MHz\t\t: %u.%03u\n"
                      "cache size\t: %u KB\nphysical id\t: 0\nsiblings\t: %u\ncore id\t\t: %u\n"
                      "cpu cores\t: %u\napicid\t\t: %u\ninitial apicid\t: %u\nfpu\t\t: yes\n"
                      "fpu_exception\t: yes\ncpuid level\t: %u\nwp\t\t: yes\nflags\t\t: %s\n"
                      "bugs\t\t: %s\nbogomips\t: %u.%02u\nclflush size\t: 64\ncache_alignment\t: 64\n"
                      "address sizes\t: %s\npower management:\n\n",
                      i, c->vendor, c->family, c->model_no, c->model, c->stepping, c->mhz_x1000 / 1000,
                      c->mhz_x1000 % 1000, c->cache_kb, n, i, n, i, i, c->cpuid_level, c->flags, c->bugs,
                      c->mhz_x1000 * 2 / 1000, (c->mhz_x1000 * 2 % 1000) / 10, c->addr);
    }
}

static void gen_cpuinfo_arm(const struct persona_priv *pp, struct hp_buf *o)
{
    const struct board *b = pp->board;
    unsigned bm = b->bogomips_x100;
    hp_buf_printf(o, "Processor\t: %s\n", b->cpu_model);
    for (unsigned i = 0; i < pp->pub.cpu_cores; i++)
        hp_buf_printf(o, "processor\t: %u\nBogoMIPS\t: %u.%02u\n\n", i, bm / 100, bm % 100);
    bool v7 = strstr(b->cpu_model, "v7") != NULL;
    hp_buf_printf(o, "Features\t: %s\nCPU implementer\t: 0x41\nCPU architecture: 7\nCPU variant\t: 0x%x\n"
                  "CPU part\t: 0x%s\nCPU revision\t: %c\n\nHardware\t: %s\nRevision\t: 0000\n"
                  "Serial\t\t: 0000000000000000\n",
                  v7 ? "swp half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt" : "swp half thumb fastmult edsp java",
                  strstr(b->hardware, "Zynq") ? 3 : 0, strstr(b->hardware, "Zynq") ? "c09" : "c07",
                  b->cpu_model[strlen(b->cpu_model) - 6], b->hardware);
}

static void gen_cpuinfo_mips(const struct persona_priv *pp, struct hp_buf *o)
{
    const struct board *b = pp->board;
    unsigned bm = b->bogomips_x100;
    hp_buf_printf(o, "system type\t\t: %s\n", b->hardware);
    for (unsigned i = 0; i < pp->pub.cpu_cores; i++)
        hp_buf_printf(o, "machine\t\t\t: Unknown\nprocessor\t\t: %u\ncpu model\t\t: %s\nBogoMIPS\t\t: %u.%02u\n"
                      "wait instruction\t: yes\nmicrosecond timers\t: yes\ntlb_entries\t\t: 32\n"
                      "extra interrupt vector\t: yes\nhardware watchpoint\t: yes, count: 4, address/irw mask: [0x0ffc, 0x0ffc, 0x0ffb, 0x0ffb]\n"
                      "isa\t\t\t: mips1 mips2 mips32r1 mips32r2\nASEs implemented\t: mips16 dsp%s\n"
                      "shadow register sets\t: 1\nkscratch registers\t: 0\ncore\t\t\t: 0\n"
                      "VCED exceptions\t\t: not available\nVCEI exceptions\t\t: not available\n\n",
                      i, b->cpu_model, bm / 100, bm % 100, pp->pub.cpu_cores > 1 ? " mt" : "");
}

static void kb_line(struct hp_buf *o, const char *label, uint64_t kb)
{
    char l[24];
    snprintf(l, sizeof(l), "%s:", label);
    hp_buf_printf(o, "%-16s%8llu kB\n", l, (unsigned long long)kb);
}

static void gen_meminfo(const struct persona_priv *pp, int64_t now, struct hp_buf *o)
{
    struct hp_meminfo m;
    hp_persona_mem(&pp->pub, now, &m);
    uint64_t used = m.total - m.free - m.cached - m.buffers;
    uint64_t anon = used * 6 / 10, slab = m.sreclaimable + m.total / 120;
    kb_line(o, "MemTotal", m.total);
    kb_line(o, "MemFree", m.free);
    if (!pp->pub.busybox || strncmp(pp->pub.kernel_release, "2.", 2) != 0)
        kb_line(o, "MemAvailable", m.available);
    kb_line(o, "Buffers", m.buffers);
    kb_line(o, "Cached", m.cached);
    kb_line(o, "SwapCached", 0);
    kb_line(o, "Active", anon / 2 + m.cached / 2);
    kb_line(o, "Inactive", anon / 2 + m.cached / 2 + m.buffers);
    kb_line(o, "Active(anon)", anon / 2);
    kb_line(o, "Inactive(anon)", anon / 2);
    kb_line(o, "Active(file)", m.cached / 2);
    kb_line(o, "Inactive(file)", m.cached - m.cached / 2 + m.buffers);
    kb_line(o, "Unevictable", 0);
    kb_line(o, "Mlocked", 0);
    kb_line(o, "SwapTotal", m.swap_total);
    kb_line(o, "SwapFree", m.swap_free);
    if (!pp->pub.busybox) {
        kb_line(o, "Zswap", 0);
        kb_line(o, "Zswapped", 0);
    }
    kb_line(o, "Dirty", 16 + (uint64_t)now % 9 * 4);
    kb_line(o, "Writeback", 0);
    kb_line(o, "AnonPages", anon);
    kb_line(o, "Mapped", m.cached / 5);
    kb_line(o, "Shmem", m.shared);
    if (!pp->pub.busybox)
        kb_line(o, "KReclaimable", m.sreclaimable);
    kb_line(o, "Slab", slab);
    kb_line(o, "SReclaimable", m.sreclaimable);
    kb_line(o, "SUnreclaim", slab - m.sreclaimable);
    kb_line(o, "KernelStack", pp->pub.busybox ? 376 : 2000 + pp->pub.cpu_cores * 400);
    kb_line(o, "PageTables", used / 60);
    if (!pp->pub.busybox)
        kb_line(o, "SecPageTables", 0);
    kb_line(o, "NFS_Unstable", 0);
    kb_line(o, "Bounce", 0);
    kb_line(o, "WritebackTmp", 0);
    kb_line(o, "CommitLimit", m.total / 2 + m.swap_total);
    kb_line(o, "Committed_AS", used * 2);
    kb_line(o, "VmallocTotal", pp->pub.busybox ? 1040384 : 34359738367ull);
    kb_line(o, "VmallocUsed", pp->pub.busybox ? 4980 : 14000 + pp->pub.seed % 3000);
    kb_line(o, "VmallocChunk", pp->pub.busybox ? 1020124 : 0);
    if (pp->pub.busybox)
        return;
    kb_line(o, "Percpu", 1200 * pp->pub.cpu_cores);
    kb_line(o, "HardwareCorrupted", 0);
    kb_line(o, "AnonHugePages", 0);
    kb_line(o, "ShmemHugePages", 0);
    kb_line(o, "ShmemPmdMapped", 0);
    kb_line(o, "FileHugePages", 0);
    kb_line(o, "FilePmdMapped", 0);
    hp_buf_puts(o, "HugePages_Total:       0\nHugePages_Free:        0\nHugePages_Rsvd:        0\n"
                   "HugePages_Surp:        0\n");
    kb_line(o, "Hugepagesize", 2048);
    kb_line(o, "Hugetlb", 0);
    kb_line(o, "DirectMap4k", 100000 + pp->pub.seed % 60000);
    kb_line(o, "DirectMap2M", (m.total + 600000) / 2048 * 2048);
    kb_line(o, "DirectMap1G", 0);
}

static void gen_version(const struct persona_priv *pp, struct hp_buf *o)
{
    const struct hp_persona *p = &pp->pub;
    if (!p->busybox)
        hp_buf_printf(o, "Linux version %s (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0, "
                      "GNU ld (GNU Binutils for Debian) 2.40) %s\n", p->kernel_release, p->kernel_version);
    else
        hp_buf_printf(o, "Linux version %s (root@localhost.localdomain) (gcc version 4.4.1 (Hisilicon_v100(gcc4.4-290+uclibc_0.9.32.1+eabi+linuxpthread)) ) %s\n",
                      p->kernel_release, p->kernel_version);
}

static void gen_mounts(const struct persona_priv *pp, struct hp_buf *o)
{
    for (size_t i = 0; i < pp->nmounts; i++) {
        const struct hp_mount *m = &pp->mounts[i];
        hp_buf_printf(o, "%s %s %s %s 0 0\n", m->device, m->mountpoint, m->type, m->options);
    }
}

static void gen_stat(const struct persona_priv *pp, int64_t now, struct hp_buf *o)
{
    uint64_t up = hp_persona_uptime(&pp->pub, now) * 100;
    unsigned n = pp->pub.cpu_cores;
    uint64_t user = up / 200, sys = up / 400, idle = up * n - user - sys;
    hp_buf_printf(o, "cpu  %llu 0 %llu %llu 1200 0 %llu 0 0 0\n", (unsigned long long)user,
                  (unsigned long long)sys, (unsigned long long)idle, (unsigned long long)up / 2000);
    for (unsigned i = 0; i < n; i++)
        hp_buf_printf(o, "cpu%u %llu 0 %llu %llu %u 0 %llu 0 0 0\n", i, (unsigned long long)(user / n),
                      (unsigned long long)(sys / n), (unsigned long long)((idle) / n), 1200 / n,
                      (unsigned long long)up / 2000 / n);
    hp_buf_printf(o, "intr %llu\nctxt %llu\nbtime %lld\nprocesses %llu\nprocs_running 1\nprocs_blocked 0\n",
                  (unsigned long long)up * 3, (unsigned long long)up * 5, (long long)pp->pub.boot_time,
                  (unsigned long long)(up / 10000 + 2000));
}

static void mac_text(const struct hp_persona *p, char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", p->mac[0], p->mac[1], p->mac[2], p->mac[3],
             p->mac[4], p->mac[5]);
}

static void gen_net_dev(const struct persona_priv *pp, int64_t now, struct hp_buf *o)
{
    uint64_t up = hp_persona_uptime(&pp->pub, now);
    uint64_t rx = up * (2000 + pp->pub.seed % 3000), tx = rx / 3;
    hp_buf_puts(o, "Inter-|   Receive                                                |  Transmit\n"
                   " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n");
    hp_buf_printf(o, "%6s: %7llu %7llu    0    0    0     0          0         0 %8llu %7llu    0    0    0     0       0          0\n",
                  "lo", (unsigned long long)up * 40, (unsigned long long)up / 2, (unsigned long long)up * 40,
                  (unsigned long long)up / 2);
    hp_buf_printf(o, "%6s: %llu %llu    0 %4llu    0     0          0         0 %llu %llu    0    0    0     0       0          0\n",
                  pp->pub.ifname, (unsigned long long)rx, (unsigned long long)rx / 700,
                  (unsigned long long)(up / 3600), (unsigned long long)tx, (unsigned long long)tx / 300);
}

static void gen_net_route(const struct persona_priv *pp, struct hp_buf *o)
{
    uint8_t net3 = (uint8_t)(pp->pub.seed >> 24);
    const char *ifn = pp->pub.ifname;
    hp_buf_puts(o, "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n");
    if (pp->pub.busybox) {
        hp_buf_printf(o, "%s\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0                                                                               \n", ifn);
        hp_buf_printf(o, "%s\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                               \n", ifn);
    } else {
        hp_buf_printf(o, "%s\t00000000\t01%02X000A\t0003\t0\t0\t0\t00000000\t0\t0\t0                                                                               \n", ifn, net3);
        hp_buf_printf(o, "%s\t00%02X000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                               \n", ifn, net3);
    }
}

/* Listening sockets: ssh on debian; the remote shell and web server on devices. */
static void gen_net_tcp(const struct persona_priv *pp, struct hp_buf *o)
{
    unsigned ports[4], n = 0;
    if (pp->pub.busybox) {
        ports[n++] = 23;
        ports[n++] = 80;
        if (pp->board->app && strcmp(pp->board->kind, "dvr") == 0)
            ports[n++] = 34567;
        if (!strcmp(pp->board->remote, "dropbear"))
            ports[0] = 22;
    } else {
        ports[n++] = 22;
    }
    hp_buf_puts(o, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     \n");
    for (unsigned i = 0; i < n; i++)
        hp_buf_printf(o, "%4u: 00000000:%04X 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 %llu 1 0000000000000000 100 0 0 10 0                     \n",
                      i, ports[i], (unsigned long long)(10000 + (pp->pub.seed >> (i * 8)) % 20000));
}

static void gen_applet_links(const struct persona_priv *pp, struct hp_buf *o)
{
    for (const char *const *a = pp->applets; *a; a++)
        for (size_t i = 0; i < HP_ARRAY_LEN(bb_applets); i++)
            if (bb_applets[i].name == *a)
                hp_buf_printf(o, "%s/%s\n", bb_applets[i].dir, *a);
}

/* @NAME@ substitutions of the manifests: "var:NAME", no newline added. */
static bool gen_var(const struct persona_priv *pp, const char *v, struct hp_buf *o)
{
    const struct hp_persona *p = &pp->pub;
    char mac[18];
    if (!strcmp(v, "hostname"))
        return hp_buf_puts(o, p->hostname), true;
    if (!strcmp(v, "admin"))
        return hp_buf_puts(o, pp->admin), true;
    if (!strcmp(v, "admin_uid"))
        return hp_buf_printf(o, "%u", pp->admin_uid), true;
    if (!strcmp(v, "machine_id"))
        return hp_buf_puts(o, pp->machine_id), true;
    if (!strcmp(v, "kernel_release"))
        return hp_buf_puts(o, p->kernel_release), true;
    if (!strcmp(v, "kernel_pkg"))
        return hp_buf_puts(o, pp->kpkg ? pp->kpkg : p->kernel_release), true;
    if (!strcmp(v, "ifname"))
        return hp_buf_puts(o, p->ifname), true;
    if (!strcmp(v, "rootdev"))
        return hp_buf_puts(o, pp->rootdev[0] ? pp->rootdev : "/dev/root"), true;
    if (!strcmp(v, "mac"))
        return mac_text(p, mac), hp_buf_puts(o, mac), true;
    if (!strcmp(v, "hw"))
        return hp_buf_puts(o, pp->board ? pp->board->hardware : "pc"), true;
    if (!strcmp(v, "web"))
        return hp_buf_puts(o, pp->board ? pp->board->web : "nginx"), true;
    if (!strcmp(v, "gateway"))
        return hp_buf_printf(o, "10.%u.0.1", (unsigned)(uint8_t)(p->seed >> 24)), true;
    return false;
}

typedef void (*gen_simple_fn)(const struct persona_priv *pp, int64_t now, struct hp_buf *o);

static void g_cpuinfo(const struct persona_priv *pp, int64_t now, struct hp_buf *o)
{
    if (!pp->pub.busybox)
        gen_cpuinfo_x86(pp, o);
    else if (pp->pub.elf_machine == 40)
        gen_cpuinfo_arm(pp, o);
    else
        gen_cpuinfo_mips(pp, o);
}
static void g_meminfo(const struct persona_priv *pp, int64_t now, struct hp_buf *o) { gen_meminfo(pp, now, o); }
static void g_uptime(const struct persona_priv *pp, int64_t now, struct hp_buf *o)
{
    uint64_t up = hp_persona_uptime(&pp->pub, now);
    uint64_t idle = up * pp->pub.cpu_cores * 97 / 100;
    hp_buf_printf(o, "%llu.%02u %llu.%02u\n", (unsigned long long)up, (unsigned)(mix64((uint64_t)now) % 100),
                  (unsigned long long)idle, (unsigned)(mix64((uint64_t)now + 1) % 100));
}
static void g_loadavg(const struct persona_priv *pp, int64_t now, struct hp_buf *o)
{
    unsigned l[3];
    hp_persona_load(&pp->pub, now, l);
    unsigned last = pp->nprocs ? pp->procs[pp->nprocs - 1].pid + 40 + (unsigned)(hp_persona_uptime(&pp->pub, now) / 60 % 9000) : 1;
    hp_buf_printf(o, "%u.%02u %u.%02u %u.%02u 1/%zu %u\n", l[0] / 100, l[0] % 100, l[1] / 100, l[1] % 100,
                  l[2] / 100, l[2] % 100, pp->nprocs + 2, last);
}
static void g_version(const struct persona_priv *pp, int64_t now, struct hp_buf *o) { gen_version(pp, o); }
static void g_mounts(const struct persona_priv *pp, int64_t now, struct hp_buf *o) { gen_mounts(pp, o); }
static void g_stat(const struct persona_priv *pp, int64_t now, struct hp_buf *o) { gen_stat(pp, now, o); }
static void g_cmdline(const struct persona_priv *pp, int64_t now, struct hp_buf *o)
{
    if (pp->pub.busybox)
        hp_buf_printf(o, "mem=%lluM console=ttyAMA0,115200 root=/dev/mtdblock2 rootfstype=%s mtdparts=hi_sfc:256K(boot),1536K(kernel),5120K(rootfs),-(app)\n",
                      (unsigned long long)(pp->pub.mem_kb / 1024 + 1), pp->board->roottype);
    else
        hp_buf_printf(o, "BOOT_IMAGE=/boot/vmlinuz-%s root=UUID=%08llx-%04x-4%03x-a%03x-%012llx ro console=tty0 console=ttyS0,115200 earlyprintk=ttyS0,115200 consoleblank=0\n",
                      pp->pub.kernel_release, (unsigned long long)(pp->pub.seed >> 32),
                      (unsigned)(pp->pub.seed & 0xffff), (unsigned)(pp->pub.seed >> 16) & 0xfff,
                      (unsigned)(pp->pub.seed >> 28) & 0xfff, (unsigned long long)(mix64(pp->pub.seed) >> 16));
}
static void g_filesystems(const struct persona_priv *pp, int64_t now, struct hp_buf *o)
{
    hp_buf_puts(o, "nodev\tsysfs\nnodev\ttmpfs\nnodev\tbdev\nnodev\tproc\nnodev\tcgroup\nnodev\tcgroup2\n"
                   "nodev\tcpuset\nnodev\tdevtmpfs\nnodev\tdebugfs\nnodev\ttracefs\nnodev\tsecurityfs\n"
                   "nodev\tsockfs\nnodev\tbpf\nnodev\tpipefs\nnodev\tramfs\nnodev\thugetlbfs\nnodev\tdevpts\n");
    if (pp->pub.busybox)
        hp_buf_printf(o, "\t%s\nnodev\tjffs2\n", pp->board->roottype);
    else
        hp_buf_puts(o, "\text3\n\text2\n\text4\n\tvfat\nnodev\tmqueue\nnodev\tpstore\nnodev\tautofs\n");
}
static void g_net_dev(const struct persona_priv *pp, int64_t now, struct hp_buf *o) { gen_net_dev(pp, now, o); }
static void g_net_route(const struct persona_priv *pp, int64_t now, struct hp_buf *o) { gen_net_route(pp, o); }
static void g_net_tcp(const struct persona_priv *pp, int64_t now, struct hp_buf *o) { gen_net_tcp(pp, o); }
static void g_hostname(const struct persona_priv *pp, int64_t now, struct hp_buf *o) { hp_buf_printf(o, "%s\n", pp->pub.hostname); }
static void g_mac(const struct persona_priv *pp, int64_t now, struct hp_buf *o)
{
    char m[18];
    mac_text(&pp->pub, m);
    hp_buf_printf(o, "%s\n", m);
}
static void g_machine_id(const struct persona_priv *pp, int64_t now, struct hp_buf *o) { hp_buf_printf(o, "%s\n", pp->machine_id); }
static void g_applet_links(const struct persona_priv *pp, int64_t now, struct hp_buf *o) { gen_applet_links(pp, o); }
static void g_kernel_release(const struct persona_priv *pp, int64_t now, struct hp_buf *o) { hp_buf_printf(o, "%s\n", pp->pub.kernel_release); }
static void g_kernel_version(const struct persona_priv *pp, int64_t now, struct hp_buf *o) { hp_buf_printf(o, "%s\n", pp->pub.kernel_version); }
static void g_os_release(const struct persona_priv *pp, int64_t now, struct hp_buf *o)
{
    if (pp->pub.busybox)
        return;
    hp_buf_puts(o, "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
                   "VERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL=\"https://www.debian.org/\"\n"
                   "SUPPORT_URL=\"https://www.debian.org/support\"\nBUG_REPORT_URL=\"https://bugs.debian.org/\"\n");
}

static const struct { const char *name; gen_simple_fn fn; } gens[] = {
    { "applet_links", g_applet_links },
    { "cmdline", g_cmdline },
    { "cpuinfo", g_cpuinfo },
    { "filesystems", g_filesystems },
    { "hostname", g_hostname },
    { "kernel_release", g_kernel_release },
    { "kernel_version", g_kernel_version },
    { "loadavg", g_loadavg },
    { "mac", g_mac },
    { "machine_id", g_machine_id },
    { "meminfo", g_meminfo },
    { "mounts", g_mounts },
    { "net_dev", g_net_dev },
    { "net_route", g_net_route },
    { "net_tcp", g_net_tcp },
    { "os_release", g_os_release },
    { "stat", g_stat },
    { "uptime", g_uptime },
    { "version", g_version },
};

bool hp_persona_gen(const struct hp_persona *p, const char *name, int64_t now_s, struct hp_buf *out)
{
    if (!p || !name)
        return false;
    const struct persona_priv *pp = priv(p);
    if (strncmp(name, "var:", 4) == 0)
        return gen_var(pp, name + 4, out);
    for (size_t i = 0; i < HP_ARRAY_LEN(gens); i++) {
        if (strcmp(gens[i].name, name) == 0) {
            gens[i].fn(pp, now_s, out);
            return true;
        }
    }
    return false;
}
