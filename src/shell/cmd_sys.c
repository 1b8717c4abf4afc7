/*
 * cmd_sys.c - what the machine says about itself and its sessions: uname,
 * arch, id, whoami, groups, w, who, users, last, uptime, hostname,
 * hostnamectl, lsb_release, date, clear, tty, stty, sleep; and the helpers
 * of cmd_sys.h shared with the other system and network families
 * (cmd_hw.c, cmd_proc.c, cmd_admin.c, cmd_script.c, cmd_net.c,
 * cmd_netinfo.c).
 *
 * Bots ask these first (uname -a; nproc; free -m; cat /proc/cpuinfo) and
 * compare the answers, so nothing here is invented per call: every number
 * comes from the personality (persona.h) or the session (c->sess), the same
 * functions that generate the /proc files.  Where a file is the source of
 * truth for the real tool (lscpu reads /proc/cpuinfo, hostnamectl
 * /etc/machine-id), we read the same file through the vfs.
 *
 * Layouts are those of Debian 12 (coreutils 9.1, procps-ng 4.0.2,
 * util-linux 2.38) or, when c->persona->busybox, of busybox 1.3x applets.
 * Times are UTC: the emulated machines run with TZ unset and /etc/localtime
 * pointing at UTC, which is what a cloud image does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cmd_sys.h"
#include "buf.h"

#define SYS_OUT_MAX (1u << 20)

/* ==== shared helpers (cmd_sys.h) ================================================== */

void sys_getopt_init(struct sys_getopt *g, int argc, char **argv, bool posix)
{
    memset(g, 0, sizeof(*g));
    g->argc = argc;
    g->argv = argv;
    g->idx = 1;
    g->posix = posix;
    g->rest = argc;
}

static void sys_add_operand(struct sys_getopt *g, char *a)
{
    if (g->noperands < SYS_OPERANDS_MAX)
        g->operands[g->noperands++] = a;
}

/* A long option: exact name, or an unambiguous prefix as glibc allows. */
static int sys_getopt_long(struct sys_getopt *g, char *a, const struct sys_longopt *longs)
{
    char *name = a + 2, *eq = strchr(name, '=');
    size_t n = eq ? (size_t)(eq - name) : strlen(name);
    const struct sys_longopt *hit = NULL;
    int hits = 0;
    for (const struct sys_longopt *l = longs; l && l->name; l++) {
        if (strncmp(l->name, name, n) != 0)
            continue;
        if (strlen(l->name) == n) {
            hit = l;
            hits = 1;
            break;
        }
        if (!hit || hit->val != l->val)
            hits++;
        hit = l;
    }
    g->bad = a;
    if (hits != 1) {
        g->badlong = true;
        return '?';
    }
    g->optarg = NULL;
    if (eq) {
        if (hit->has_arg == 0) {
            g->longarg_extra = true;
            g->bad = hit->name;
            return '?';
        }
        g->optarg = eq + 1;
    } else if (hit->has_arg == 1) {
        if (g->idx >= g->argc) {
            g->missing = true;
            g->bad = hit->name;
            g->badlong = true;
            return ':';
        }
        g->optarg = g->argv[g->idx++];
    }
    return hit->val;
}

int sys_getopt(struct sys_getopt *g, const char *shorts, const struct sys_longopt *longs)
{
    g->optarg = NULL;
    for (;;) {
        if (g->sub == 0) {
            if (g->idx >= g->argc)
                return -1;
            char *a = g->argv[g->idx];
            if (strcmp(a, "--") == 0) {
                g->idx++;
                if (g->posix)
                    g->rest = g->idx;
                for (; g->idx < g->argc; g->idx++)
                    sys_add_operand(g, g->argv[g->idx]);
                return -1;
            }
            if (a[0] != '-' || a[1] == '\0') {
                if (g->posix) {
                    g->rest = g->idx;
                    for (; g->idx < g->argc; g->idx++)
                        sys_add_operand(g, g->argv[g->idx]);
                    return -1;
                }
                sys_add_operand(g, a);
                g->idx++;
                continue;
            }
            g->idx++;
            if (a[1] == '-')
                return sys_getopt_long(g, a, longs);
            g->sub = 1;
        }
        char *a = g->argv[g->idx - 1];
        char ch = a[g->sub++];
        bool last = a[g->sub] == '\0';
        const char *p = ch && ch != ':' ? strchr(shorts, ch) : NULL;
        g->bad = a;
        g->badc = ch;
        if (!p) {
            if (last)
                g->sub = 0;
            return '?';
        }
        if (p[1] == ':') {
            /* an optional argument ("x::") is only ever the rest of the
             * bundle, as in glibc: "-i" then "foo" leaves foo an operand */
            if (!last)
                g->optarg = a + g->sub;
            else if (p[2] == ':')
                g->optarg = NULL;
            else if (g->idx < g->argc)
                g->optarg = g->argv[g->idx++];
            else {
                g->sub = 0;
                g->missing = true;
                return ':';
            }
            g->sub = 0;
            return ch;
        }
        if (last)
            g->sub = 0;
        return ch;
    }
}

void sys_getopt_msg(struct sh_cmd *c, const char *prog, const struct sys_getopt *g)
{
    if (g->longarg_extra)
        sh_errf(c, "%s: option '--%s' doesn't allow an argument\n", prog, g->bad);
    else if (g->missing && g->badlong)
        sh_errf(c, "%s: option '--%s' requires an argument\n", prog, g->bad);
    else if (g->missing)
        sh_errf(c, "%s: option requires an argument -- '%c'\n", prog, g->badc);
    else if (g->badlong) {
        const char *eq = strchr(g->bad, '=');
        sh_errf(c, "%s: unrecognized option '%.*s'\n", prog,
                eq ? (int)(eq - g->bad) : (int)strlen(g->bad), g->bad);
    } else
        sh_errf(c, "%s: invalid option -- '%c'\n", prog, g->badc);
}

int sys_usage_gnu(struct sh_cmd *c, const char *prog, const struct sys_getopt *g, int rc)
{
    if (g)
        sys_getopt_msg(c, prog, g);
    sh_errf(c, "Try '%s --help' for more information.\n", prog);
    return rc;
}

int sys_extra_operand(struct sh_cmd *c, const char *prog, const char *arg, int rc)
{
    sh_errf(c, "%s: extra operand \xe2\x80\x98%s\xe2\x80\x99\n", prog, arg);
    return sys_usage_gnu(c, prog, NULL, rc);
}

int sys_missing_operand(struct sh_cmd *c, const char *prog, int rc)
{
    sh_errf(c, "%s: missing operand\n", prog);
    return sys_usage_gnu(c, prog, NULL, rc);
}

const char *sys_bb_banner(const struct sh_cmd *c)
{
    const char *b = c->persona ? c->persona->busybox_banner : "";
    return b[0] ? b : "BusyBox v1.31.1 (2020-03-02 12:00:00 UTC) multi-call binary.";
}

int sys_usage_bb(struct sh_cmd *c, const char *applet, const struct sys_getopt *g, const char *usage)
{
    if (g && (g->badc || g->bad))
        sys_getopt_msg(c, applet, g);
    sh_errf(c, "%s\n\nUsage: %s %s\n", sys_bb_banner(c), applet, usage ? usage : "");
    return 1;
}

void sys_gmtime(int64_t t, struct tm *tm)
{
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, tm))
        memset(tm, 0, sizeof(*tm));
}

const char *sys_tty(const struct sh_cmd *c)
{
    return c->sess && c->sess->tty ? c->sess->tty : "pts/0";
}

const char *sys_client_ip(const struct sh_cmd *c)
{
    return c->sess && c->sess->client_ip ? c->sess->client_ip : "127.0.0.1";
}

const char *sys_local_ip(const struct sh_cmd *c)
{
    return c->sess && c->sess->local_ip ? c->sess->local_ip : "10.0.2.15";
}

unsigned sys_self_pid(struct sh_cmd *c)
{
    const char *const *lines;
    size_t n = sh_history(c, &lines);
    unsigned base = c->sess && c->sess->shell_pid ? c->sess->shell_pid : 1000;
    return base + 1 + (unsigned)(n % 20000) * 3;
}

void sys_uptime_line(struct sh_cmd *c, struct hp_buf *out)
{
    struct tm tm;
    sys_gmtime(c->now_s, &tm);
    uint64_t up = hp_persona_uptime(c->persona, c->now_s);
    unsigned days = (unsigned)(up / 86400), hours = (unsigned)(up / 3600 % 24),
             mins = (unsigned)(up / 60 % 60);
    unsigned load[3];
    hp_persona_load(c->persona, c->now_s, load);
    hp_buf_printf(out, " %02d:%02d:%02d up ", tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (days)
        hp_buf_printf(out, "%u %s, ", days, days != 1 ? "days" : "day");
    if (c->persona->busybox) {
        if (hours)
            hp_buf_printf(out, "%2u:%02u", hours, mins);
        else
            hp_buf_printf(out, "%u min", mins);
        hp_buf_printf(out, ",  load average: %u.%02u, %u.%02u, %u.%02u", load[0] / 100, load[0] % 100,
                      load[1] / 100, load[1] % 100, load[2] / 100, load[2] % 100);
        return;
    }
    if (hours)
        hp_buf_printf(out, "%2u:%02u, ", hours, mins);
    else
        hp_buf_printf(out, "%u min, ", mins);
    hp_buf_printf(out, "%2d %s, ", 1, "user");
    hp_buf_printf(out, " load average: %u.%02u, %u.%02u, %u.%02u", load[0] / 100, load[0] % 100,
                  load[1] / 100, load[1] % 100, load[2] / 100, load[2] % 100);
}

static int proc_cmp(const void *a, const void *b)
{
    const struct hp_proc *x = a, *y = b;
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/*
 * A one-shot's processes (shell.h hp_shell_oneshot): no login, so no sshd
 * and no -bash; the service's process (the daemon, "" none) runs "sh -c
 * TEXT", which runs the program - as a popen call or a ProcessBuilder does.
 */
static size_t oneshot_procs(struct sh_cmd *c, struct hp_proc *p, size_t k, uint64_t up, unsigned shell,
                            const char *self_cmd, struct hp_proc **out)
{
    const char *user = c->user ? c->user : "root";
    unsigned parent = 1;
    if (c->sess->daemon[0]) {
        struct hp_proc *d = &p[k++];
        static char comm[16];
        const char *cmd = c->sess->daemon, *sp = strchr(cmd, ' '), *end = sp ? sp : cmd + strlen(cmd);
        const char *slash = memchr(cmd, '/', (size_t)(end - cmd)) ? end : cmd;
        while (slash > cmd && slash[-1] != '/')
            slash--;
        snprintf(comm, sizeof(comm), "%.*s", (int)(end - slash), slash);
        *d = (struct hp_proc){ .pid = shell > 300 ? shell - 300 : shell + 3, .ppid = 1, .user = user, .tty = "?",
                               .cmd = cmd, .comm = comm, .vsz_kb = 215432, .rss_kb = 21344, .cpu_ticks = 40,
                               .start_uptime_s = up > 3600 ? up - 3600 : 0 };
        snprintf(d->stat, sizeof(d->stat), "Ssl");
        parent = d->pid;
    }
    struct hp_proc *s = &p[k++];
    *s = (struct hp_proc){ .pid = shell, .ppid = parent, .user = user, .tty = "?",
                           .cmd = c->sess->shell_cmd ? c->sess->shell_cmd : "sh -c", .comm = "sh",
                           .vsz_kb = 2576, .rss_kb = 924, .cpu_ticks = 0, .start_uptime_s = up };
    snprintf(s->stat, sizeof(s->stat), "S");
    if (self_cmd) {
        struct hp_proc *m = &p[k++];
        static char comm[16];
        const char *sp = strchr(self_cmd, ' ');
        snprintf(comm, sizeof(comm), "%.*s", sp ? (int)(sp - self_cmd) : (int)strlen(self_cmd), self_cmd);
        *m = (struct hp_proc){ .pid = sys_self_pid(c), .ppid = shell, .user = user, .tty = "?", .cmd = self_cmd,
                               .comm = comm, .vsz_kb = 11084, .rss_kb = 4504, .start_uptime_s = up };
        snprintf(m->stat, sizeof(m->stat), "R");
    }
    qsort(p, k, sizeof(*p), proc_cmp);
    *out = p;
    return k;
}

size_t sys_procs(struct sh_cmd *c, const char *self_cmd, struct hp_proc **out)
{
    const struct hp_proc *base;
    size_t n = hp_persona_procs(c->persona, &base);
    struct hp_proc *p = calloc(n + 4, sizeof(*p));
    if (!p) {
        *out = NULL;
        return 0;
    }
    memcpy(p, base, n * sizeof(*p));
    uint64_t up = hp_persona_uptime(c->persona, c->now_s);
    uint64_t login_up = up;
    if (c->sess && c->sess->login_s && c->sess->login_s <= c->now_s &&
        (uint64_t)(c->now_s - c->sess->login_s) <= up)
        login_up = up - (uint64_t)(c->now_s - c->sess->login_s);
    unsigned shell = c->sess && c->sess->shell_pid ? c->sess->shell_pid : 1000;
    if (c->sess && c->sess->daemon)
        return oneshot_procs(c, p, n, up, shell, self_cmd, out);
    const char *tty = sys_tty(c);
    bool bb = c->persona->busybox;
    bool telnet = c->sess && c->sess->protocol && strcmp(c->sess->protocol, "telnet") == 0;
    size_t k = n;
    /* The front-end process that owns the session, then the login shell. */
    /* busybox telnetd serves every session itself: the shell is its child */
    unsigned parent = 0;
    for (size_t i = 0; bb && i < n; i++)
        if (strcmp(base[i].comm, "telnetd") == 0 || strcmp(base[i].comm, "dropbear") == 0)
            parent = base[i].pid;
    struct hp_proc *f = &p[k];
    if (!parent)
        k++;
    f->pid = shell > 2 ? shell - 2 : shell + 3;
    f->ppid = n ? base[0].pid : 1;
    f->user = "root";
    f->tty = "?";
    static char sshd_cmd[64];
    snprintf(sshd_cmd, sizeof(sshd_cmd), "sshd: %s@%s", c->user ? c->user : "root", tty);
    if (bb || telnet) {
        f->cmd = bb ? "telnetd" : "/usr/sbin/in.telnetd";
        f->comm = bb ? "telnetd" : "in.telnetd";
    } else {
        f->cmd = sshd_cmd;
        f->comm = "sshd";
    }
    for (size_t i = 0; i < n; i++)          /* parent: the daemon itself when it runs */
        if (strcmp(base[i].comm, bb || telnet ? "telnetd" : "sshd") == 0) {
            f->ppid = base[i].pid;
            break;
        }
    snprintf(f->stat, sizeof(f->stat), "Ss");
    f->vsz_kb = bb ? 1504 : 17956;
    f->rss_kb = bb ? 412 : 10984;
    f->start_uptime_s = login_up;
    f->cpu_ticks = 3;
    struct hp_proc *s = &p[k++];
    memset(s, 0, sizeof(*s));
    s->pid = shell;
    s->ppid = parent ? parent : f->pid;
    s->user = c->user ? c->user : "root";
    s->tty = tty;
    s->cmd = bb ? "-sh" : "-bash";
    s->comm = bb ? "sh" : "bash";
    snprintf(s->stat, sizeof(s->stat), bb ? "S" : "Ss");
    s->vsz_kb = bb ? 1516 : 7236;
    s->rss_kb = bb ? 468 : 4032;
    s->start_uptime_s = login_up;
    s->cpu_ticks = 1;
    if (self_cmd) {
        struct hp_proc *m = &p[k++];
        m->pid = sys_self_pid(c);
        m->ppid = shell;
        m->user = s->user;
        m->tty = tty;
        m->cmd = self_cmd;
        const char *sp = strchr(self_cmd, ' ');
        static char comm[16];
        snprintf(comm, sizeof(comm), "%.*s", sp ? (int)(sp - self_cmd) : (int)strlen(self_cmd), self_cmd);
        m->comm = comm;
        snprintf(m->stat, sizeof(m->stat), bb ? "R" : "R+");
        m->vsz_kb = bb ? 1516 : 11084;
        m->rss_kb = bb ? 456 : 4504;
        m->start_uptime_s = up;
    }
    qsort(p, k, sizeof(*p), proc_cmp);
    *out = p;
    return k;
}

int sys_read_file(struct sh_cmd *c, const char *path, struct hp_buf *out)
{
    if (!c->fs)
        return -ENOENT;
    long r = sh_vfs_read(c->fs, path, 0, 0, out);
    hp_buf_cstr(out);
    return r < 0 ? (int)r : 0;
}

int sys_write_file(struct sh_cmd *c, const char *path, const void *data, size_t len, unsigned mode)
{
    if (!c->fs)
        return -EROFS;
    long r = sh_vfs_write(c->fs, path, data, len, SH_O_CREAT | SH_O_TRUNC, mode);
    return r < 0 ? (int)r : 0;
}

/* GNU --version text of a coreutils program. */
void sys_gnu_version(struct sh_cmd *c, const char *prog, const char *authors)
{
    sh_outf(c, "%s (GNU coreutils) 9.1\n"
               "Copyright (C) 2022 Free Software Foundation, Inc.\n"
               "License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\n"
               "This is free software: you are free to change and redistribute it.\n"
               "There is NO WARRANTY, to the extent permitted by law.\n\n"
               "Written by %s.\n", prog, authors);
}

void sys_gnu_help_tail(struct sh_cmd *c, const char *prog)
{
    sh_outf(c, "\nGNU coreutils online help: <https://www.gnu.org/software/coreutils/>\n"
               "Report any translation bugs to <https://translationproject.org/team/>\n"
               "Full documentation <https://www.gnu.org/software/coreutils/%s>\n"
               "or available locally via: info '(coreutils) %s invocation'\n", prog, prog);
}

/* ==== uname ============================================================================ */

enum { U_S = 1, U_N = 2, U_R = 4, U_V = 8, U_M = 16, U_P = 32, U_I = 64, U_O = 128, U_A = 256 };

static const char uname_help[] =
    "Usage: uname [OPTION]...\n"
    "Print certain system information.  With no OPTION, same as -s.\n\n"
    "  -a, --all                print all information, in the following order,\n"
    "                             except omit -p and -i if unknown:\n"
    "  -s, --kernel-name        print the kernel name\n"
    "  -n, --nodename           print the network node hostname\n"
    "  -r, --kernel-release     print the kernel release\n"
    "  -v, --kernel-version     print the kernel version\n"
    "  -m, --machine            print the machine hardware name\n"
    "  -p, --processor          print the processor type (non-portable)\n"
    "  -i, --hardware-platform  print the hardware platform (non-portable)\n"
    "  -o, --operating-system   print the operating system\n"
    "      --help        display this help and exit\n"
    "      --version     output version information and exit\n";

static const struct sys_longopt uname_long[] = {
    { "all", 0, 'a' }, { "kernel-name", 0, 's' }, { "nodename", 0, 'n' },
    { "kernel-release", 0, 'r' }, { "kernel-version", 0, 'v' }, { "machine", 0, 'm' },
    { "processor", 0, 'p' }, { "hardware-platform", 0, 'i' }, { "operating-system", 0, 'o' },
    { "help", 0, 'H' }, { "version", 0, 'V' }, { NULL, 0, 0 },
};

static int cmd_uname(struct sh_cmd *c)
{
    static const char letters[] = "snrvmpio";
    const struct hp_persona *p = c->persona;
    struct sys_getopt g;
    unsigned f = 0;
    int o;
    sys_getopt_init(&g, c->argc, c->argv, p->busybox);
    while ((o = sys_getopt(&g, "asnrvmpio", p->busybox ? NULL : uname_long)) != -1) {
        if (o == 'H') {
            sh_outs(c, uname_help);
            sys_gnu_help_tail(c, "uname");
            return 0;
        }
        if (o == 'V') {
            sys_gnu_version(c, "uname", "David MacKenzie");
            return 0;
        }
        if (o == '?' || o == ':')
            return p->busybox ? sys_usage_bb(c, "uname", &g, "[-amnrspvio]\n\nPrint system information\n\n"
                                             "\t-a\tPrint all\n\t-m\tMachine (hardware) type\n"
                                             "\t-n\tHostname\n\t-r\tKernel release\n\t-s\tKernel name (default)\n"
                                             "\t-p\tProcessor type\n\t-v\tKernel version\n"
                                             "\t-i\tThe hardware platform\n\t-o\tOS name")
                              : sys_usage_gnu(c, "uname", &g, 1);
        f |= o == 'a' ? U_A : 1u << (strchr(letters, o) - letters);
    }
    if (g.noperands > 0)
        return p->busybox ? sys_usage_bb(c, "uname", NULL, "[-amnrspvio]")
                          : sys_extra_operand(c, "uname", g.operands[0], 1);
    const char *parts[8] = { "Linux", p->hostname, p->kernel_release, p->kernel_version, p->machine,
                             "unknown", "unknown", "GNU/Linux" };
    if (f & U_A)
        f |= U_S | U_N | U_R | U_V | U_M | U_O;
    if (!f)
        f = U_S;
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    for (int k = 0; k < 8; k++) {
        if (!(f & (1u << k)))
            continue;
        if ((f & U_A) && (k == 5 || k == 6))
            continue;                 /* -a omits -p and -i when unknown */
        hp_buf_printf(&b, "%s%s", b.len ? " " : "", parts[k]);
    }
    hp_buf_putc(&b, '\n');
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

static int cmd_arch(struct sh_cmd *c)
{
    if (c->argc > 1 && !c->persona->busybox)
        return c->argv[1][0] == '-' ? sh_errf(c, "arch: invalid option -- '%c'\n", c->argv[1][1]),
               sys_usage_gnu(c, "arch", NULL, 1) : sys_extra_operand(c, "arch", c->argv[1], 1);
    sh_outf(c, "%s\n", c->persona->machine);
    return 0;
}

/* ==== users and groups ============================================================= */

static const char *grp_name(struct sh_cmd *c, unsigned gid)
{
    const char *n = c->fs ? sh_vfs_group_name(c->fs, gid) : NULL;
    if (n)
        return n;
    return gid == 0 ? "root" : c->user ? c->user : "user";
}

/* The groups /etc/group lists user in besides gid, as " gid(name)" (or
 * " gid" with -G, " name" with -Gn) in file order: id's supplementary
 * groups (the admin user's adm, sudo, ...; postgres's ssl-cert). */
static void grp_extra(struct sh_cmd *c, const char *user, unsigned gid, int form, struct hp_buf *out)
{
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    if (!c->fs || sh_vfs_read(c->fs, "/etc/group", 0, 0, &b) < 0) {
        hp_buf_free(&b);
        return;
    }
    size_t ul = strlen(user);
    for (const char *s = hp_buf_cstr(&b); *s;) {
        size_t l = strcspn(s, "\n");
        const char *f[4] = { s };                /* name:x:gid:members */
        size_t k = 1;
        for (size_t i = 0; i < l && k < 4; i++)
            if (s[i] == ':')
                f[k++] = s + i + 1;
        unsigned long g = k == 4 ? strtoul(f[2], NULL, 10) : gid;
        for (const char *m = k == 4 ? f[3] : s + l; g != gid && m < s + l;) {
            size_t ml = strcspn(m, ",\n");
            if (ml == ul && memcmp(m, user, ul) == 0) {
                int nl = (int)(f[1] - 1 - f[0]);
                if (form == 0)
                    hp_buf_printf(out, ",%lu(%.*s)", g, nl, f[0]);
                else if (form == 1)
                    hp_buf_printf(out, " %lu", g);
                else
                    hp_buf_printf(out, " %.*s", nl, f[0]);
                break;
            }
            m += ml + (m[ml] == ',');
            if (ml == 0)
                break;
        }
        s += l + (s[l] == '\n');
    }
    hp_buf_free(&b);
}

static int cmd_whoami(struct sh_cmd *c)
{
    if (c->argc > 1 && !c->persona->busybox) {
        if (strcmp(c->argv[1], "--help") == 0) {
            sh_outs(c, "Usage: whoami [OPTION]...\nPrint the user name associated with the current effective user ID.\n"
                       "Same as id -un.\n\n      --help        display this help and exit\n"
                       "      --version     output version information and exit\n");
            sys_gnu_help_tail(c, "whoami");
            return 0;
        }
        if (strcmp(c->argv[1], "--version") == 0) {
            sys_gnu_version(c, "whoami", "Richard Mlynarik");
            return 0;
        }
        if (c->argv[1][0] == '-' && c->argv[1][1]) {
            struct sys_getopt g;
            sys_getopt_init(&g, c->argc, c->argv, false);
            sys_getopt(&g, "", NULL);
            return sys_usage_gnu(c, "whoami", &g, 1);
        }
        return sys_extra_operand(c, "whoami", c->argv[1], 1);
    }
    sh_outf(c, "%s\n", c->user ? c->user : "root");
    return 0;
}

static int cmd_id(struct sh_cmd *c)
{
    bool u = false, gr = false, G = false, name = false;
    struct sys_getopt g;
    int o;
    sys_getopt_init(&g, c->argc, c->argv, c->persona->busybox);
    static const struct sys_longopt longs[] = {
        { "user", 0, 'u' }, { "group", 0, 'g' }, { "groups", 0, 'G' }, { "name", 0, 'n' },
        { "real", 0, 'r' }, { "zero", 0, 'z' }, { "context", 0, 'Z' }, { NULL, 0, 0 },
    };
    while ((o = sys_getopt(&g, "ugGnrzZa", c->persona->busybox ? NULL : longs)) != -1) {
        switch (o) {
        case 'u': u = true; break;
        case 'g': gr = true; break;
        case 'G': G = true; break;
        case 'n': name = true; break;
        case 'r': case 'z': case 'a': break;
        case 'Z':
            sh_errs(c, "id: --context (-Z) works only on an SELinux-enabled kernel\n");
            return 1;
        default:
            return c->persona->busybox ? sys_usage_bb(c, "id", &g, "[OPTIONS] [USER]") : sys_usage_gnu(c, "id", &g, 1);
        }
    }
    const char *user = c->user ? c->user : "root";
    if (g.noperands > 0 && strcmp(g.operands[0], user) != 0) {
        if (c->persona->busybox)
            sh_errf(c, "id: unknown user %s\n", g.operands[0]);
        else
            sh_errf(c, "id: \xe2\x80\x98%s\xe2\x80\x99: no such user\n", g.operands[0]);
        return 1;
    }
    if ((u + gr + G) > 1) {
        sh_errs(c, c->persona->busybox ? "id: -u, -g and -G are mutually exclusive\n"
                                       : "id: cannot print \"only\" of more than one choice\n");
        return 1;
    }
    const char *gname = grp_name(c, c->gid);
    if (u)
        name ? sh_outf(c, "%s\n", user) : sh_outf(c, "%u\n", c->uid);
    else if (gr)
        name ? sh_outf(c, "%s\n", gname) : sh_outf(c, "%u\n", c->gid);
    else if (name && !G) {
        sh_errs(c, "id: cannot print only names or real IDs in default format\n");
        return 1;
    } else {
        struct hp_buf extra;
        hp_buf_init(&extra, 4096);
        grp_extra(c, user, c->gid, G ? (name ? 2 : 1) : 0, &extra);
        if (G && name)
            sh_outf(c, "%s%s\n", gname, hp_buf_cstr(&extra));
        else if (G)
            sh_outf(c, "%u%s\n", c->gid, hp_buf_cstr(&extra));
        else
            sh_outf(c, "uid=%u(%s) gid=%u(%s) groups=%u(%s)%s\n", c->uid, user, c->gid, gname, c->gid, gname,
                    hp_buf_cstr(&extra));
        hp_buf_free(&extra);
    }
    return 0;
}

static int cmd_groups(struct sh_cmd *c)
{
    struct hp_buf extra;
    hp_buf_init(&extra, 4096);
    grp_extra(c, c->user ? c->user : "root", c->gid, 2, &extra);
    sh_outf(c, "%s%s\n", grp_name(c, c->gid), hp_buf_cstr(&extra));
    hp_buf_free(&extra);
    return 0;
}

/* ==== sessions: w, who, users, last, uptime ====================================== */

static int cmd_users(struct sh_cmd *c)
{
    sh_outf(c, "%s\n", c->user ? c->user : "root");
    return 0;
}

static int64_t login_time(const struct sh_cmd *c)
{
    return c->sess && c->sess->login_s ? c->sess->login_s : c->now_s;
}

static int cmd_who(struct sh_cmd *c)
{
    struct tm tm;
    sys_gmtime(login_time(c), &tm);
    bool bb = c->persona->busybox;
    if (c->argc > 1 && (strcmp(c->argv[1], "-b") == 0 || strcmp(c->argv[1], "-r") == 0)) {
        struct tm bt;
        sys_gmtime(c->persona->boot_time, &bt);
        if (strcmp(c->argv[1], "-b") == 0)
            sh_outf(c, "         system boot  %04d-%02d-%02d %02d:%02d\n", bt.tm_year + 1900, bt.tm_mon + 1,
                    bt.tm_mday, bt.tm_hour, bt.tm_min);
        else
            sh_outf(c, "         run-level 5  %04d-%02d-%02d %02d:%02d\n", bt.tm_year + 1900, bt.tm_mon + 1,
                    bt.tm_mday, bt.tm_hour, bt.tm_min);
        return 0;
    }
    if (bb) {
        sh_outs(c, "USER       TTY      IDLE      TIME            HOST\n");
        char when[32];
        strftime(when, sizeof(when), "%b %e %H:%M", &tm);
        sh_outf(c, "%-10s %-8s %-9s %-14s %s\n", c->user ? c->user : "root", sys_tty(c), ".", when,
                sys_client_ip(c));
        return 0;
    }
    bool heading = c->argc > 1 && (strcmp(c->argv[1], "-H") == 0 || strcmp(c->argv[1], "-a") == 0);
    if (heading)
        sh_outs(c, "NAME     LINE         TIME             COMMENT\n");
    sh_outf(c, "%-8s %-12s %04d-%02d-%02d %02d:%02d (%s)\n", c->user ? c->user : "root", sys_tty(c),
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, sys_client_ip(c));
    return 0;
}

static int cmd_w(struct sh_cmd *c)
{
    bool header = true, shortf = false;
    for (int i = 1; i < c->argc; i++) {
        if (c->argv[i][0] != '-')
            continue;
        if (strchr(c->argv[i], 'h'))
            header = false;
        if (strchr(c->argv[i], 's'))
            shortf = true;
    }
    struct hp_buf b;
    hp_buf_init(&b, 8192);
    if (header) {
        sys_uptime_line(c, &b);
        hp_buf_putc(&b, '\n');
        if (c->persona->busybox)
            hp_buf_puts(&b, "USER       TTY      IDLE      TIME            HOST\n");
        else if (shortf)
            hp_buf_puts(&b, "USER     TTY      FROM              IDLE WHAT\n");
        else
            hp_buf_puts(&b, "USER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT\n");
    }
    struct tm tm;
    sys_gmtime(login_time(c), &tm);
    const char *user = c->user ? c->user : "root";
    if (c->persona->busybox)
    {
        char when[32];
        strftime(when, sizeof(when), "%b %e %H:%M", &tm);
        hp_buf_printf(&b, "%-10s %-8s %-9s %-14s %s\n", user, sys_tty(c), ".", when, sys_client_ip(c));
    }
    else if (shortf)
        hp_buf_printf(&b, "%-9s%-9s%-16s  0.00s w\n", user, sys_tty(c), sys_client_ip(c));
    else
        hp_buf_printf(&b, "%-9s%-9s%-17s%02d:%02d    0.00s  0.01s  0.00s w\n", user, sys_tty(c),
                      sys_client_ip(c), tm.tm_hour, tm.tm_min);
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

static int cmd_uptime(struct sh_cmd *c)
{
    bool bb = c->persona->busybox;
    uint64_t up = hp_persona_uptime(c->persona, c->now_s);
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    const char *a = c->argc > 1 ? c->argv[1] : NULL;
    if (a && !bb && (strcmp(a, "-p") == 0 || strcmp(a, "--pretty") == 0)) {
        static const struct { uint64_t s; const char *one, *many; } u[] = {
            { 86400ull * 365, "year", "years" }, { 86400ull * 7, "week", "weeks" },
            { 86400, "day", "days" }, { 3600, "hour", "hours" }, { 60, "minute", "minutes" },
        };
        hp_buf_puts(&b, "up ");
        size_t start = b.len;
        uint64_t rest = up;
        for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
            uint64_t n = rest / u[i].s;
            rest %= u[i].s;
            if (n)
                hp_buf_printf(&b, "%s%llu %s", b.len > start ? ", " : "", (unsigned long long)n,
                              n == 1 ? u[i].one : u[i].many);
        }
        if (b.len == start)
            hp_buf_puts(&b, "0 minutes");
    } else if (a && (strcmp(a, "-s") == 0 || strcmp(a, "--since") == 0)) {
        struct tm tm;
        sys_gmtime(c->now_s - (int64_t)up, &tm);
        hp_buf_printf(&b, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                      tm.tm_hour, tm.tm_min, tm.tm_sec);
    } else if (a && !bb && (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0)) {
        hp_buf_puts(&b, "uptime from procps-ng 4.0.2");
    } else if (a && a[0] == '-' && strcmp(a, "--") != 0) {
        hp_buf_free(&b);
        if (bb)
            return sh_errf(c, "uptime: invalid option -- '%c'\n", a[1]), sys_usage_bb(c, "uptime", NULL, "[-s]");
        sh_errf(c, "uptime: invalid option -- '%c'\n\nUsage:\n uptime [options]\n\nOptions:\n"
                   " -p, --pretty   show uptime in pretty format\n"
                   " -h, --help     display this help and exit\n"
                   " -s, --since    system up since\n"
                   " -V, --version  output version information and exit\n\n"
                   "For more details see uptime(1).\n", a[1] == '-' ? '-' : a[1]);
        return 1;
    } else {
        sys_uptime_line(c, &b);
    }
    hp_buf_putc(&b, '\n');
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

/* Past logins: a per-sensor stable set of private admin addresses, spread
 * over the days before boot, most recent first, ending with wtmp begins. */
static int cmd_last(struct sh_cmd *c)
{
    const struct hp_persona *p = c->persona;
    uint64_t s = p->seed ? p->seed : 0x9e3779b97f4a7c15ull;
    struct hp_buf b;
    hp_buf_init(&b, 16384);
    struct tm tm;
    char when[32];
    const char *user = c->user ? c->user : "root";
    sys_gmtime(login_time(c), &tm);
    strftime(when, sizeof(when), "%a %b %e %H:%M", &tm);
    hp_buf_printf(&b, "%-8.8s %-12.12s %-16.16s %s   still logged in\n", user, sys_tty(c), sys_client_ip(c), when);
    sys_gmtime(p->boot_time, &tm);
    strftime(when, sizeof(when), "%a %b %e %H:%M", &tm);
    hp_buf_printf(&b, "%-8.8s %-12.12s %-16.16s %s   still running\n", "reboot", "system boot",
                  p->kernel_release, when);
    char admin[2][20];
    snprintf(admin[0], sizeof(admin[0]), "192.168.%u.%u", (unsigned)(s >> 8 & 0xff), 2 + (unsigned)(s >> 16) % 250);
    snprintf(admin[1], sizeof(admin[1]), "10.%u.%u.%u", (unsigned)(s >> 24 & 0xff), (unsigned)(s >> 32 & 0xff),
             2 + (unsigned)(s >> 40) % 250);
    int64_t t = p->boot_time;
    int64_t begins = p->boot_time - 86400 * (int64_t)(12 + (s >> 48) % 15);
    for (unsigned i = 0; i < 4; i++) {
        uint64_t r = s * (2 * i + 3) + i * 0x51ed27;
        t -= 3600 * (int64_t)(5 + (r >> 7) % 60) + (int64_t)((r >> 20) % 3600);
        if (t <= begins)
            break;
        int64_t dur = 60 * (int64_t)(3 + (r >> 33) % 90);
        struct tm t0, t1;
        char a[32];
        sys_gmtime(t, &t0);
        sys_gmtime(t + dur, &t1);
        strftime(a, sizeof(a), "%a %b %e %H:%M", &t0);
        hp_buf_printf(&b, "%-8.8s %-12.12s %-16.16s %s - %02d:%02d  (%02d:%02d)\n", "root", "pts/0",
                      admin[(r >> 11) & 1], a, t1.tm_hour, t1.tm_min, (int)(dur / 3600), (int)(dur / 60 % 60));
    }
    sys_gmtime(begins, &tm);
    strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm);
    hp_buf_printf(&b, "\nwtmp begins %s\n", when);
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

/* ==== host name and OS ============================================================= */

static int cmd_hostname(struct sh_cmd *c)
{
    const struct hp_persona *p = c->persona;
    const char *host = p->hostname;
    const char *dot = strchr(host, '.');
    const char *a = c->argc > 1 ? c->argv[1] : NULL;
    if (!a || strcmp(a, "-f") == 0 || strcmp(a, "--fqdn") == 0 || strcmp(a, "--long") == 0 ||
        strcmp(a, "-A") == 0 || strcmp(a, "-a") == 0 || strcmp(a, "--alias") == 0)
        sh_outf(c, "%s\n", host);
    else if (strcmp(a, "-s") == 0 || strcmp(a, "--short") == 0)
        sh_outf(c, "%.*s\n", dot ? (int)(dot - host) : (int)strlen(host), host);
    else if (strcmp(a, "-d") == 0 || strcmp(a, "--domain") == 0)
        sh_outf(c, "%s\n", dot ? dot + 1 : "");
    else if (strcmp(a, "-i") == 0 || strcmp(a, "--ip-address") == 0)
        sh_outs(c, p->busybox ? "127.0.0.1\n" : "127.0.1.1\n");
    else if (strcmp(a, "-I") == 0 || strcmp(a, "--all-ip-addresses") == 0)
        sh_outf(c, "%s \n", sys_local_ip(c));
    else if (a[0] == '-' && !p->busybox) {
        struct sys_getopt g;
        sys_getopt_init(&g, c->argc, c->argv, false);
        sys_getopt(&g, "", NULL);
        sys_getopt_msg(c, "hostname", &g);
        sh_errs(c, "Usage: hostname [-b] {hostname|-F file}         set host name (from file)\n"
                   "       hostname [-a|-A|-d|-f|-i|-I|-s|-y]       display formatted name\n"
                   "       hostname                                 display host name\n");
        return 1;
    } else if (a[0] == '-') {
        return sys_usage_bb(c, "hostname", NULL, "[OPTIONS] [HOSTNAME | -F FILE]");
    } else if (c->uid != 0) {
        sh_errs(c, p->busybox ? "hostname: sethostname: Operation not permitted\n"
                              : "hostname: you must be root to change the host name\n");
        return 1;
    }
    return 0;                     /* root may set it; the machine keeps its identity */
}

static int cmd_hostnamectl(struct sh_cmd *c)
{
    const struct hp_persona *p = c->persona;
    if (c->argc > 1 && strcmp(c->argv[1], "status") != 0) {
        if (strcmp(c->argv[1], "set-hostname") == 0 || strcmp(c->argv[1], "hostname") == 0)
            return 0;
        sh_errf(c, "Unknown command verb %s.\n", c->argv[1]);
        return 1;
    }
    struct hp_buf id;
    hp_buf_init(&id, 4096);
    char mid[40], bid[40];
    if (!hp_persona_gen(p, "var:machine_id", c->now_s, &id) || id.len < 32)
        sys_read_file(c, "/etc/machine-id", &id);
    snprintf(mid, sizeof(mid), "%.32s", id.len ? (const char *)hp_buf_cstr(&id) : "");
    snprintf(bid, sizeof(bid), "%016llx%016llx", (unsigned long long)(p->seed ^ (uint64_t)p->boot_time),
             (unsigned long long)((uint64_t)p->boot_time * 0xff51afd7ed558ccdull));
    hp_buf_free(&id);
    sh_outf(c, " Static hostname: %s\n       Icon name: computer-vm\n         Chassis: vm \xf0\x9f\x96\xb4\n"
               "      Machine ID: %s\n         Boot ID: %s\n  Virtualization: kvm\n"
               "Operating System: Debian GNU/Linux 12 (bookworm)\n          Kernel: Linux %s\n"
               "    Architecture: %s\n Hardware Vendor: QEMU\n  Hardware Model: Standard PC _i440FX + PIIX, 1996_\n"
               "Firmware Version: rel-1.16.2-0-gea1b7a073390-prebuilt.qemu.org\n",
            p->hostname, mid, bid, p->kernel_release, strcmp(p->machine, "x86_64") == 0 ? "x86-64" : p->machine);
    return 0;
}

static int cmd_lsb_release(struct sh_cmd *c)
{
    bool i = false, d = false, r = false, cn = false, s = false;
    for (int k = 1; k < c->argc; k++) {
        const char *a = c->argv[k];
        if (a[0] != '-')
            continue;
        if (strcmp(a, "--all") == 0) { i = d = r = cn = true; continue; }
        if (strcmp(a, "--short") == 0) { s = true; continue; }
        if (strcmp(a, "--id") == 0) { i = true; continue; }
        if (strcmp(a, "--description") == 0) { d = true; continue; }
        if (strcmp(a, "--release") == 0) { r = true; continue; }
        if (strcmp(a, "--codename") == 0) { cn = true; continue; }
        for (const char *q = a + 1; *q; q++) {
            switch (*q) {
            case 'a': i = d = r = cn = true; break;
            case 'i': i = true; break;
            case 'd': d = true; break;
            case 'r': r = true; break;
            case 'c': cn = true; break;
            case 's': s = true; break;
            case 'v': break;
            default:
                sh_errf(c, "Usage: lsb_release [options]\n\nlsb_release: error: no such option: -%c\n", *q);
                return 2;
            }
        }
    }
    bool any = i || d || r || cn;
    if (!any || (c->argc > 1 && strchr(c->argv[1], 'a')))
        sh_errs(c, "No LSB modules are available.\n");
    if (!any) {
        sh_outs(c, s ? "n/a\n" : "LSB Version:\tn/a\n");
        return 0;
    }
    static const char *const lbl[4] = { "Distributor ID:\t", "Description:\t", "Release:\t", "Codename:\t" };
    static const char *const val[4] = { "Debian", "Debian GNU/Linux 12 (bookworm)", "12", "bookworm" };
    bool on[4] = { i, d, r, cn };
    struct hp_buf b;
    hp_buf_init(&b, 1024);
    bool first = true;
    for (int k = 0; k < 4; k++) {
        if (!on[k])
            continue;
        if (s)
            hp_buf_printf(&b, "%s%s", first ? "" : " ", val[k]);
        else
            hp_buf_printf(&b, "%s%s\n", lbl[k], val[k]);
        first = false;
    }
    if (s)
        hp_buf_putc(&b, '\n');
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

/* ==== date ====================================================================== */

/* Parse the few -d forms bots use: @EPOCH, now, today, yesterday, tomorrow,
 * "N days ago", "+N days"/"N days". */
static bool date_parse(const char *s, int64_t now, int64_t *out)
{
    long v;
    char unit[16];
    int used = 0;
    if (s[0] == '@' && sh_parse_long(s + 1, &v)) {
        *out = v;
        return true;
    }
    if (!strcmp(s, "now") || !strcmp(s, "today") || !*s) { *out = now; return true; }
    if (!strcmp(s, "yesterday")) { *out = now - 86400; return true; }
    if (!strcmp(s, "tomorrow")) { *out = now + 86400; return true; }
    if (sscanf(s, "%ld %15s%n", &v, unit, &used) == 2 && v > -100000 && v < 100000) {
        static const struct { const char *u; int64_t s; } units[] = {
            { "sec", 1 }, { "second", 1 }, { "seconds", 1 }, { "min", 60 }, { "minute", 60 },
            { "minutes", 60 }, { "hour", 3600 }, { "hours", 3600 }, { "day", 86400 }, { "days", 86400 },
            { "week", 604800 }, { "weeks", 604800 },
        };
        for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++)
            if (!strcmp(unit, units[k].u)) {
                int64_t d = v * units[k].s;
                *out = strcmp(s + used, " ago") == 0 ? now - d : !s[used] ? now + d : now;
                return strcmp(s + used, " ago") == 0 || !s[used];
            }
    }
    return false;
}

static int cmd_date(struct sh_cmd *c)
{
    bool bb = c->persona->busybox;
    const char *fmt = NULL, *d = NULL;
    bool rfc = false;
    struct sys_getopt g;
    static const struct sys_longopt longs[] = {
        { "utc", 0, 'u' }, { "universal", 0, 'u' }, { "date", 1, 'd' }, { "rfc-email", 0, 'R' },
        { "set", 1, 's' }, { "iso-8601", 2, 'I' }, { "help", 0, 'H' }, { "version", 0, 'V' },
        { NULL, 0, 0 },
    };
    int o;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "ud:Rs:I::", longs)) != -1) {
        switch (o) {
        case 'u': break;
        case 'd': d = g.optarg; break;
        case 'R': rfc = true; break;
        case 's': d = g.optarg; break;
        case 'I': fmt = "+%Y-%m-%d"; break;
        case 'V': sys_gnu_version(c, "date", "David MacKenzie"); return 0;
        case 'H':
            if (!bb) {
                sh_outs(c, "Usage: date [OPTION]... [+FORMAT]\n  or:  date [-u|--utc|--universal] [MMDDhhmm[[CC]YY][.ss]]\n"
                           "Display date and time in the given FORMAT.\n");
                sys_gnu_help_tail(c, "date");
                return 0;
            }
            /* fallthrough */
        default:
            return bb ? sys_usage_bb(c, "date", &g, "[OPTIONS] [+FMT] [TIME]") : sys_usage_gnu(c, "date", &g, 1);
        }
    }
    for (int k = 0; k < g.noperands; k++) {
        if (g.operands[k][0] == '+' && !fmt)
            fmt = g.operands[k];
        else if (g.operands[k][0] == '+')
            return sys_extra_operand(c, "date", g.operands[k], 1);
        else if (!bb && c->uid != 0) {
            sh_errs(c, "date: cannot set date: Operation not permitted\n");
            return 1;
        }
    }
    int64_t t = c->now_s;
    if (d && !date_parse(d, c->now_s, &t)) {
        if (bb)
            sh_errf(c, "date: invalid date '%s'\n", d);
        else
            sh_errf(c, "date: invalid date \xe2\x80\x98%s\xe2\x80\x99\n", d);
        return 1;
    }
    struct tm tm;
    sys_gmtime(t, &tm);
    tm.tm_zone = "UTC";           /* what %Z says with TZ unset and /etc/localtime = UTC */
    const char *f = fmt ? fmt + 1 : rfc ? "%a, %d %b %Y %H:%M:%S %z" : "%a %b %e %H:%M:%S %Z %Y";
    if (strlen(f) > 1024) {
        sh_outs(c, "\n");
        return 0;
    }
    /* %N (nanoseconds) is GNU's own; the rest is strftime's.  The leading
     * space keeps an empty expansion apart from an error. */
    char ff[2100], out[8192];
    size_t w = 0;
    ff[w++] = ' ';
    for (const char *q = f; *q && w < sizeof(ff) - 12; q++) {
        if (q[0] == '%' && q[1] == 'N') {
            memcpy(ff + w, "000000000", 9);
            w += 9;
            q++;
        } else if (q[0] == '%' && q[1] == '%') {
            ff[w++] = '%';
            ff[w++] = '%';
            q++;
        } else
            ff[w++] = *q;
    }
    ff[w] = '\0';
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    size_t n = strftime(out, sizeof(out), ff, &tm);   /* the attacker's format is data for strftime */
#pragma GCC diagnostic pop
    if (n == 0)
        out[0] = ' ', n = 1;
    sh_out(c, out + 1, n - 1);
    sh_outs(c, "\n");
    return 0;
}

/* ==== kernel and terminal ============================================================ */

static int cmd_clear(struct sh_cmd *c)
{
    sh_outs(c, c->persona->busybox ? "\x1b[H\x1b[J" : "\x1b[H\x1b[2J\x1b[3J");
    return 0;
}

static int cmd_tty(struct sh_cmd *c)
{
    bool silent = c->argc > 1 && (strcmp(c->argv[1], "-s") == 0 || strcmp(c->argv[1], "--silent") == 0);
    if (!c->in_tty || !c->sess || !c->sess->tty) {
        if (!silent)
            sh_outs(c, "not a tty\n");
        return 1;
    }
    if (!silent)
        sh_outf(c, "/dev/%s\n", c->sess->tty);
    return 0;
}

static int cmd_stty(struct sh_cmd *c)
{
    if (!c->in_tty || !c->sess || !c->sess->tty) {
        sh_errs(c, c->persona->busybox ? "stty: standard input: Not a tty\n"
                                       : "stty: 'standard input': Inappropriate ioctl for device\n");
        return 1;
    }
    if (c->argc > 1 && strcmp(c->argv[1], "size") == 0) {
        sh_outf(c, "%u %u\n", c->height ? c->height : 24, c->width ? c->width : 80);
        return 0;
    }
    if (c->argc == 1)
        sh_outs(c, "speed 38400 baud; line = 0;\n-brkint -imaxbel iutf8\n");
    return 0;
}

/* sleep validates its operands like the real one and returns at once. */
static int cmd_sleep(struct sh_cmd *c)
{
    bool bb = c->persona->busybox;
    int n = 0;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (!bb && (strcmp(a, "--help") == 0 || strcmp(a, "--version") == 0)) {
            if (a[2] == 'v')
                sys_gnu_version(c, "sleep", "Jim Meyering and Paul Eggert");
            else
                sh_outs(c, "Usage: sleep NUMBER[SUFFIX]...\n  or:  sleep OPTION\n");
            return 0;
        }
        if (!strcmp(a, "--"))
            continue;
        char *end;
        double v = strtod(a, &end);
        if (end == a || v < 0 || (*end && (strchr("smhd", *end) == NULL || end[1])) || a[0] == ' ') {
            if (bb) {
                sh_errf(c, "sleep: invalid number '%s'\n", a);
                return 1;
            }
            if (a[0] == '-' && a[1] && !(a[1] >= '0' && a[1] <= '9') && a[1] != '.') {
                struct sys_getopt g;
                sys_getopt_init(&g, c->argc - i + 1, c->argv + i - 1, false);
                sys_getopt(&g, "", NULL);
                return sys_usage_gnu(c, "sleep", &g, 1);
            }
            sh_errf(c, "sleep: invalid time interval \xe2\x80\x98%s\xe2\x80\x99\n", a);
            return sys_usage_gnu(c, "sleep", NULL, 1);
        }
        n++;
    }
    if (n == 0)
        return bb ? sys_usage_bb(c, "sleep", NULL, "[N]...\n\nPause for a time equal to the total of the args given")
                  : sys_missing_operand(c, "sleep", 1);
    return 0;
}

const struct sh_cmd_def sh_cmds_sys[] = {
    { "arch", cmd_arch, false },
    { "clear", cmd_clear, false },
    { "date", cmd_date, false },
    { "groups", cmd_groups, false },
    { "hostname", cmd_hostname, false },
    { "hostnamectl", cmd_hostnamectl, false },
    { "id", cmd_id, false },
    { "last", cmd_last, false },
    { "lsb_release", cmd_lsb_release, false },
    { "sleep", cmd_sleep, false },
    { "stty", cmd_stty, false },
    { "tty", cmd_tty, false },
    { "uname", cmd_uname, false },
    { "uptime", cmd_uptime, false },
    { "users", cmd_users, false },
    { "w", cmd_w, false },
    { "who", cmd_who, false },
    { "whoami", cmd_whoami, false },
    { NULL, NULL, false },
};
