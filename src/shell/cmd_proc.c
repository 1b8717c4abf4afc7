/*
 * cmd_proc.c - processes and running other programs: ps, top, pidof, pgrep,
 * kill, killall, pkill, env, printenv, nohup, timeout, nice, setsid, sudo,
 * su, watch, ulimit, history, reboot/shutdown/halt/poweroff/init, busybox.
 *
 * The process table is the personality's (persona.h) plus the session's
 * own: its sshd or telnetd child, the login shell ($$) and the command
 * itself (sys_procs in cmd_sys.c), so `ps`, `top`, `pidof` and `kill` agree
 * with each other and with $$.  Start times are boot time plus each
 * process's start offset, so they move with uptime.
 *
 * Programs that run another program (sudo, env, nohup, timeout, busybox
 * APPLET) go back through the interpreter (sh_run_argv / sh_run_applet /
 * sh_run_script) so that lookup, "not found" and events stay the shell's;
 * only the wrapper's own messages are printed here.  Nothing is started and
 * nothing waits: sleep, timeout and watch return at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "cmd_sys.h"
#include "buf.h"

#define PROC_OUT_MAX (1u << 20)

/* The name a program was called by (links such as pidof -> killall5). */
static const char *argv0_base(const struct sh_cmd *c)
{
    const char *a0 = c->argc > 0 ? c->argv[0] : "";
    const char *s = strrchr(a0, '/');
    return s ? s + 1 : a0;
}

/* ==== time columns ================================================================ */

static int64_t proc_start(const struct sh_cmd *c, const struct hp_proc *p)
{
    return c->persona->boot_time + (int64_t)p->start_uptime_s;
}

/* procps' START/STIME: HH:MM today, MonDD this year, else the year. */
static void proc_stime(const struct sh_cmd *c, const struct hp_proc *p, char *out, size_t n)
{
    int64_t st = proc_start(c, p);
    struct tm tm;
    sys_gmtime(st, &tm);
    if (c->now_s - st < 86400)
        strftime(out, n, "%H:%M", &tm);
    else if (c->now_s - st < 86400 * 365)
        strftime(out, n, "%b%d", &tm);
    else
        strftime(out, n, "%Y", &tm);
}

/* cumulative CPU time as [DD-]HH:MM:SS (ps -ef, ps -e) */
static void proc_time_long(const struct hp_proc *p, char *out, size_t n)
{
    uint64_t s = p->cpu_ticks / 100;
    if (s >= 86400)
        snprintf(out, n, "%llu-%02u:%02u:%02u", (unsigned long long)(s / 86400), (unsigned)(s / 3600 % 24),
                 (unsigned)(s / 60 % 60), (unsigned)(s % 60));
    else
        snprintf(out, n, "%02u:%02u:%02u", (unsigned)(s / 3600), (unsigned)(s / 60 % 60), (unsigned)(s % 60));
}

/* M:SS (ps aux) */
static void proc_time_short(const struct hp_proc *p, char *out, size_t n)
{
    uint64_t s = p->cpu_ticks / 100;
    snprintf(out, n, "%llu:%02u", (unsigned long long)(s / 60), (unsigned)(s % 60));
}

static double proc_pcpu(const struct sh_cmd *c, const struct hp_proc *p)
{
    uint64_t up = hp_persona_uptime(c->persona, c->now_s);
    uint64_t el = up > p->start_uptime_s ? up - p->start_uptime_s : 1;
    double v = (double)p->cpu_ticks / (double)el;      /* ticks/s = percent */
    return v > 99.9 ? 99.9 : v;
}

static double proc_pmem(const struct sh_cmd *c, const struct hp_proc *p)
{
    return c->persona->mem_kb ? (double)p->rss_kb * 100.0 / (double)c->persona->mem_kb : 0.0;
}

/* ==== ps ======================================================================= */

enum ps_col { PC_PID, PC_PPID, PC_USER, PC_UID, PC_COMM, PC_ARGS, PC_CMD, PC_PCPU, PC_PMEM, PC_STAT,
              PC_TTY, PC_TIME, PC_ETIME, PC_VSZ, PC_RSS, PC_START, PC_STIME, PC_NI, PC_PRI };

static const struct {
    const char *name;
    enum ps_col col;
    const char *head;
    int width;                    /* > 0 right-aligned, < 0 left-aligned */
} ps_cols[] = {
    { "pid", PC_PID, "PID", 7 }, { "ppid", PC_PPID, "PPID", 7 }, { "user", PC_USER, "USER", -8 },
    { "euser", PC_USER, "EUSER", -8 }, { "uname", PC_USER, "USER", -8 }, { "uid", PC_UID, "UID", 5 },
    { "comm", PC_COMM, "COMMAND", -15 }, { "ucomm", PC_COMM, "COMMAND", -15 },
    { "args", PC_ARGS, "COMMAND", -27 }, { "command", PC_ARGS, "COMMAND", -27 },
    { "cmd", PC_CMD, "CMD", -27 }, { "%cpu", PC_PCPU, "%CPU", 4 }, { "pcpu", PC_PCPU, "%CPU", 4 },
    { "%mem", PC_PMEM, "%MEM", 4 }, { "pmem", PC_PMEM, "%MEM", 4 }, { "stat", PC_STAT, "STAT", -4 },
    { "s", PC_STAT, "S", -1 }, { "tty", PC_TTY, "TT", -8 }, { "tname", PC_TTY, "TTY", -8 },
    { "time", PC_TIME, "TIME", 8 }, { "cputime", PC_TIME, "TIME", 8 }, { "etime", PC_ETIME, "ELAPSED", 11 },
    { "vsz", PC_VSZ, "VSZ", 6 }, { "vsize", PC_VSZ, "VSZ", 6 }, { "rss", PC_RSS, "RSS", 5 },
    { "rssize", PC_RSS, "RSS", 5 }, { "start", PC_START, "STARTED", 8 }, { "lstart", PC_START, "STARTED", 8 },
    { "stime", PC_STIME, "STIME", -5 }, { "start_time", PC_STIME, "START", -5 }, { "ni", PC_NI, "NI", 3 },
    { "nice", PC_NI, "NI", 3 }, { "pri", PC_PRI, "PRI", 3 },
};

#define PS_MAXCOLS 24

struct ps_fmt {
    int ncols;
    int idx[PS_MAXCOLS];
    bool head[PS_MAXCOLS];        /* "pid=" hides the header */
    char *headtext[PS_MAXCOLS];   /* "pid=ID" renames it */
};

/* -o LIST: comma or blank separated names, NAME=HEADER. false on an unknown one. */
static bool ps_parse_fmt(struct ps_fmt *f, char *list, const char **bad)
{
    for (char *save = NULL, *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        char *eq = strchr(t, '=');
        if (eq)
            *eq = '\0';
        size_t k = 0;
        while (k < sizeof(ps_cols) / sizeof(ps_cols[0]) && strcasecmp(ps_cols[k].name, t) != 0)
            k++;
        if (k == sizeof(ps_cols) / sizeof(ps_cols[0])) {
            *bad = t;
            return false;
        }
        if (f->ncols < PS_MAXCOLS) {
            f->idx[f->ncols] = (int)k;
            f->head[f->ncols] = !eq || eq[1];
            f->headtext[f->ncols] = eq && eq[1] ? eq + 1 : NULL;
            f->ncols++;
        }
        if (eq)
            break;                /* the header of "x=..." takes the rest */
    }
    return true;
}

static void ps_cell(struct sh_cmd *c, const struct hp_proc *p, enum ps_col col, char *out, size_t n)
{
    switch (col) {
    case PC_PID: snprintf(out, n, "%u", p->pid); break;
    case PC_PPID: snprintf(out, n, "%u", p->ppid); break;
    case PC_USER: snprintf(out, n, "%s", p->user); break;
    case PC_UID: snprintf(out, n, "%u", strcmp(p->user, "root") == 0 ? 0 : c->uid); break;
    case PC_COMM: snprintf(out, n, "%s", p->comm); break;
    case PC_ARGS: case PC_CMD: snprintf(out, n, "%s", p->cmd); break;
    case PC_PCPU: snprintf(out, n, "%.1f", proc_pcpu(c, p)); break;
    case PC_PMEM: snprintf(out, n, "%.1f", proc_pmem(c, p)); break;
    case PC_STAT: snprintf(out, n, "%s", p->stat); break;
    case PC_TTY: snprintf(out, n, "%s", p->tty); break;
    case PC_TIME: proc_time_long(p, out, n); break;
    case PC_ETIME: {
        uint64_t up = hp_persona_uptime(c->persona, c->now_s);
        uint64_t e = up > p->start_uptime_s ? up - p->start_uptime_s : 0;
        if (e >= 86400)
            snprintf(out, n, "%llu-%02u:%02u:%02u", (unsigned long long)(e / 86400), (unsigned)(e / 3600 % 24),
                     (unsigned)(e / 60 % 60), (unsigned)(e % 60));
        else if (e >= 3600)
            snprintf(out, n, "%02u:%02u:%02u", (unsigned)(e / 3600), (unsigned)(e / 60 % 60), (unsigned)(e % 60));
        else
            snprintf(out, n, "%02u:%02u", (unsigned)(e / 60), (unsigned)(e % 60));
        break;
    }
    case PC_VSZ: snprintf(out, n, "%llu", (unsigned long long)p->vsz_kb); break;
    case PC_RSS: snprintf(out, n, "%llu", (unsigned long long)p->rss_kb); break;
    case PC_START: {
        struct tm tm;
        sys_gmtime(proc_start(c, p), &tm);
        strftime(out, n, c->now_s - proc_start(c, p) < 86400 ? "%H:%M:%S" : "%b %d", &tm);
        break;
    }
    case PC_STIME: proc_stime(c, p, out, n); break;
    case PC_NI: snprintf(out, n, "%d", strchr(p->stat, '<') ? -20 : 0); break;
    case PC_PRI: snprintf(out, n, "%d", strchr(p->stat, '<') ? 39 : 19); break;
    }
}

static void ps_custom(struct sh_cmd *c, struct hp_buf *b, const struct ps_fmt *f, const struct hp_proc *p,
                      size_t n, bool headers)
{
    bool any_head = false;
    for (int k = 0; k < f->ncols; k++)
        any_head |= f->head[k];
    for (size_t r = 0; r <= n; r++) {
        if (r == 0 && (!headers || !any_head))
            continue;
        for (int k = 0; k < f->ncols; k++) {
            int w = ps_cols[f->idx[k]].width;
            char cell[512];
            if (r == 0)
                snprintf(cell, sizeof(cell), "%s", !f->head[k] ? "" : f->headtext[k] ? f->headtext[k]
                                                                    : ps_cols[f->idx[k]].head);
            else
                ps_cell(c, &p[r - 1], ps_cols[f->idx[k]].col, cell, sizeof(cell));
            if (k)
                hp_buf_putc(b, ' ');
            if (k == f->ncols - 1 && w < 0)
                hp_buf_puts(b, cell);
            else
                hp_buf_printf(b, w < 0 ? "%-*s" : "%*s", w < 0 ? -w : w, cell);
        }
        hp_buf_putc(b, '\n');
    }
}

/* The command line as ps shows it for the running command. */
static void self_cmdline(const struct sh_cmd *c, char *out, size_t n)
{
    size_t w = 0;
    out[0] = '\0';
    for (int i = 0; i < c->argc && w + 2 < n; i++) {
        int r = snprintf(out + w, n - w, "%s%s", i ? " " : "", c->argv[i]);
        if (r < 0)
            break;
        w += (size_t)r < n - w ? (size_t)r : n - w - 1;
    }
}

static int ps_busybox(struct sh_cmd *c, struct hp_proc *p, size_t n)
{
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] != '-')
            continue;
        for (const char *q = a + 1; *q; q++)
            if (*q != 'w' && *q != 'l' && *q != 'T') {
                struct sys_getopt g = { .badc = *q, .bad = a };
                return sys_usage_bb(c, "ps", &g, "\n\nShow list of processes\n\n\tw\tWide output");
            }
    }
    struct hp_buf b;
    hp_buf_init(&b, PROC_OUT_MAX);
    hp_buf_puts(&b, "  PID USER       VSZ STAT COMMAND\n");
    for (size_t i = 0; i < n; i++) {
        char vsz[32];
        if (p[i].vsz_kb >= 100000)
            snprintf(vsz, sizeof(vsz), "%llum", (unsigned long long)(p[i].vsz_kb / 1024));
        else
            snprintf(vsz, sizeof(vsz), "%llu", (unsigned long long)p[i].vsz_kb);
        hp_buf_printf(&b, "%5u %-8.8s %5s %-4.4s %s\n", p[i].pid, p[i].user, vsz, p[i].stat, p[i].cmd);
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

enum ps_style { PS_PLAIN, PS_EF, PS_AUX, PS_X, PS_E, PS_CUSTOM };

static int cmd_ps(struct sh_cmd *c)
{
    char self[512];
    self_cmdline(c, self, sizeof(self));
    struct hp_proc *p;
    size_t n = sys_procs(c, self, &p);
    if (!p)
        return 1;
    if (c->persona->busybox) {
        int rc = ps_busybox(c, p, n);
        free(p);
        return rc;
    }
    enum ps_style st = PS_PLAIN;
    bool all = false, headers = true, bsd_a = false, bsd_x = false;
    struct ps_fmt f = { 0 };
    char fmtbuf[1024] = "";
    const char *pidsel = NULL, *usersel = NULL, *cmdsel = NULL;
    int rc = 0;
    for (int i = 1; i < c->argc && rc == 0; i++) {
        const char *a = c->argv[i];
        if (!strcmp(a, "--no-headers") || !strcmp(a, "--no-heading")) { headers = false; continue; }
        if (!strcmp(a, "--help")) {
            sh_outs(c, "\nUsage:\n ps [options]\n\n Try 'ps --help <simple|list|output|threads|misc|all>'\n"
                       "  or 'ps --help <s|l|o|t|m|a>'\n for additional help text.\n\nFor more details see ps(1).\n");
            free(p);
            return 0;
        }
        if (!strcmp(a, "--version") || !strcmp(a, "-V") || !strcmp(a, "V")) {
            sh_outs(c, "ps from procps-ng 4.0.2\n");
            free(p);
            return 0;
        }
        if (!strncmp(a, "--sort", 6) || !strncmp(a, "--forest", 8) || !strncmp(a, "--cols", 6) ||
            !strncmp(a, "--width", 7)) {
            if (!strchr(a, '=') && strcmp(a, "--forest") != 0)
                i++;
            continue;
        }
        bool dash = a[0] == '-';
        for (const char *q = a + dash; *q; q++) {
            char ch = *q;
            if (ch == 'o' || ch == 'p' || (ch == 'u' && dash) || ch == 'C' || ch == 'O') {
                const char *arg = q[1] ? q + 1 : i + 1 < c->argc ? c->argv[++i] : NULL;
                if (!arg) {
                    sh_errs(c, "error: list of process IDs must follow -p\n\nUsage:\n ps [options]\n\n"
                               " Try 'ps --help <simple|list|output|threads|misc|all>'\n"
                               "  or 'ps --help <s|l|o|t|m|a>'\n for additional help text.\n\n"
                               "For more details see ps(1).\n");
                    rc = 1;
                    break;
                }
                if (ch == 'o' || ch == 'O') {
                    size_t l = strlen(fmtbuf);
                    snprintf(fmtbuf + l, sizeof(fmtbuf) - l, "%s%s", l ? "," : "", arg);
                    st = PS_CUSTOM;
                } else if (ch == 'p')
                    pidsel = arg;
                else if (ch == 'u')
                    usersel = arg, all = true;
                else
                    cmdsel = arg;
                break;
            }
            switch (ch) {
            case 'e': case 'A': all = true; if (st == PS_PLAIN) st = PS_E; break;
            case 'f': case 'F': case 'l': case 'j': st = PS_EF; break;
            case 'a': if (dash) all = true; else bsd_a = true; break;
            case 'x': bsd_x = true; break;
            case 'u': st = PS_AUX; break;          /* BSD "u": user-oriented format */
            case 'w': case 'c': case 'H': case 'h': case 'T': case 'm': case 'y': case 'N': case 'g': case 'r':
                if (ch == 'h' && !dash)
                    headers = false;
                break;
            default: {
                sh_errf(c, "error: unsupported option (BSD syntax)\n\nUsage:\n ps [options]\n\n"
                           " Try 'ps --help <simple|list|output|threads|misc|all>'\n"
                           "  or 'ps --help <s|l|o|t|m|a>'\n for additional help text.\n\n"
                           "For more details see ps(1).\n");
                rc = 1;
                break;
            }
            }
            if (rc)
                break;
        }
    }
    if (rc) {
        free(p);
        return rc;
    }
    if (st == PS_PLAIN && (bsd_a || bsd_x))
        st = PS_X;
    if (bsd_x || bsd_a || st == PS_AUX)
        all = all || bsd_x || bsd_a;
    /* Selection: the terminal's processes unless all; -p, -u, -C. */
    size_t k = 0;
    const char *tty = sys_tty(c);
    for (size_t i = 0; i < n; i++) {
        bool keep = all || strcmp(p[i].tty, tty) == 0;
        if (st == PS_AUX && !bsd_x && bsd_a && strcmp(p[i].tty, "?") == 0)
            keep = false;
        if (pidsel) {
            char num[16];
            snprintf(num, sizeof(num), "%u", p[i].pid);
            const char *h = strstr(pidsel, num);
            size_t nl = strlen(num);
            keep = h && (h == pidsel || h[-1] == ',' || h[-1] == ' ') && (h[nl] == '\0' || h[nl] == ',' || h[nl] == ' ');
        }
        if (usersel)
            keep = keep && strcmp(p[i].user, usersel) == 0;
        if (cmdsel)
            keep = strcmp(p[i].comm, cmdsel) == 0;
        if (keep)
            p[k++] = p[i];
    }
    n = k;
    struct hp_buf b;
    hp_buf_init(&b, PROC_OUT_MAX);
    char t1[32], t2[32];
    switch (st) {
    case PS_CUSTOM: {
        const char *bad = NULL;
        if (!ps_parse_fmt(&f, fmtbuf, &bad)) {
            sh_errf(c, "error: unknown user-defined format specifier \"%s\"\n\nUsage:\n ps [options]\n\n"
                       " Try 'ps --help <simple|list|output|threads|misc|all>'\n"
                       "  or 'ps --help <s|l|o|t|m|a>'\n for additional help text.\n\n"
                       "For more details see ps(1).\n", bad);
            hp_buf_free(&b);
            free(p);
            return 1;
        }
        ps_custom(c, &b, &f, p, n, headers);
        break;
    }
    case PS_AUX:
        if (headers)
            hp_buf_puts(&b, "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n");
        for (size_t i = 0; i < n; i++) {
            proc_stime(c, &p[i], t1, sizeof(t1));
            proc_time_short(&p[i], t2, sizeof(t2));
            hp_buf_printf(&b, "%-8.8s %7u %4.1f %4.1f %6llu %5llu %-8s %-4s %5s %6s %s\n", p[i].user, p[i].pid,
                          proc_pcpu(c, &p[i]), proc_pmem(c, &p[i]), (unsigned long long)p[i].vsz_kb,
                          (unsigned long long)p[i].rss_kb, p[i].tty, p[i].stat, t1, t2, p[i].cmd);
        }
        break;
    case PS_EF:
        if (headers)
            hp_buf_puts(&b, "UID          PID    PPID  C STIME TTY          TIME CMD\n");
        for (size_t i = 0; i < n; i++) {
            proc_stime(c, &p[i], t1, sizeof(t1));
            proc_time_long(&p[i], t2, sizeof(t2));
            hp_buf_printf(&b, "%-8.8s %7u %7u %2u %-5s %-8s %8s %s\n", p[i].user, p[i].pid, p[i].ppid,
                          (unsigned)proc_pcpu(c, &p[i]), t1, p[i].tty, t2, p[i].cmd);
        }
        break;
    case PS_X:
        if (headers)
            hp_buf_puts(&b, "    PID TTY      STAT   TIME COMMAND\n");
        for (size_t i = 0; i < n; i++) {
            proc_time_short(&p[i], t2, sizeof(t2));
            hp_buf_printf(&b, "%7u %-8s %-4s %6s %s\n", p[i].pid, p[i].tty, p[i].stat, t2, p[i].cmd);
        }
        break;
    case PS_PLAIN: case PS_E:
        if (headers)
            hp_buf_puts(&b, "    PID TTY          TIME CMD\n");
        for (size_t i = 0; i < n; i++) {
            proc_time_long(&p[i], t2, sizeof(t2));
            hp_buf_printf(&b, "%7u %-8s %8s %s\n", p[i].pid, p[i].tty, t2, p[i].comm);
        }
        break;
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    free(p);
    return n ? 0 : 1;
}

/* ==== top ===================================================================== */

static int top_busybox(struct sh_cmd *c, struct hp_proc *p, size_t n)
{
    struct hp_meminfo m;
    unsigned l[3];
    hp_persona_mem(c->persona, c->now_s, &m);
    hp_persona_load(c->persona, c->now_s, l);
    struct hp_buf b;
    hp_buf_init(&b, PROC_OUT_MAX);
    hp_buf_printf(&b, "Mem: %lluK used, %lluK free, %lluK shrd, %lluK buff, %lluK cached\n",
                  (unsigned long long)(m.total - m.free), (unsigned long long)m.free, (unsigned long long)m.shared,
                  (unsigned long long)m.buffers, (unsigned long long)m.cached);
    hp_buf_puts(&b, "CPU:   0% usr   0% sys   0% nic 100% idle   0% io   0% irq   0% sirq\n");
    hp_buf_printf(&b, "Load average: %u.%02u %u.%02u %u.%02u 1/%zu %u\n", l[0] / 100, l[0] % 100, l[1] / 100,
                  l[1] % 100, l[2] / 100, l[2] % 100, n, n ? p[n - 1].pid : 1);
    hp_buf_puts(&b, "  PID  PPID USER     STAT   VSZ %VSZ CPU %CPU COMMAND\n");
    unsigned self = sys_self_pid(c);
    for (size_t i = 0; i < n; i++) {
        unsigned pv = m.total ? (unsigned)(p[i].vsz_kb * 100 / m.total) : 0;
        hp_buf_printf(&b, "%5u %5u %-8.8s %-4.4s %5llu %3u%% %3u %3u%% %s\n", p[i].pid, p[i].ppid, p[i].user,
                      p[i].stat, (unsigned long long)p[i].vsz_kb, pv, 0u, p[i].pid == self ? 1u : 0u, p[i].cmd);
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

static int cmd_top(struct sh_cmd *c)
{
    bool bb = c->persona->busybox;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (!strcmp(a, "-v") || !strcmp(a, "-V") || !strcmp(a, "--version")) {
            if (!bb) {
                sh_outs(c, "top from procps-ng 4.0.2\n");
                return 0;
            }
        }
        if (a[0] == '-' && !bb)
            for (const char *q = a + 1; *q; q++)
                if (!strchr("bcHisSn0123456789dpuUwoOE", *q)) {
                    sh_errf(c, "top: unknown option '%c'\nUsage:\n  top -hv | -bcEeHiOSs1 -d secs -n max -u|U user -p pid(s) -o field -w [cols]\n", *q);
                    return 1;
                }
    }
    struct hp_proc *p;
    size_t n = sys_procs(c, "top", &p);
    if (!p)
        return 1;
    if (bb) {
        int rc = top_busybox(c, p, n);
        free(p);
        return rc;
    }
    struct hp_meminfo m;
    hp_persona_mem(c->persona, c->now_s, &m);
    struct hp_buf b;
    hp_buf_init(&b, PROC_OUT_MAX);
    hp_buf_puts(&b, "top - ");
    size_t at = b.len;
    sys_uptime_line(c, &b);
    if (b.len > at && b.data[at] == ' ')          /* the uptime line's leading blank */
        memmove(b.data + at, b.data + at + 1, --b.len - at);
    size_t running = 1, sleeping = n - 1;
    hp_buf_printf(&b, "\nTasks: %3zu total, %3zu running, %3zu sleeping, %3u stopped, %3u zombie\n", n, running,
                  sleeping, 0u, 0u);
    unsigned l[3];
    hp_persona_load(c->persona, c->now_s, l);
    double sy = l[0] > 400 ? 20.0 : l[0] / 20.0, us = l[0] > 400 ? 30.0 : l[0] / 10.0;
    hp_buf_printf(&b, "%%Cpu(s): %4.1f us, %4.1f sy, %4.1f ni, %4.1f id, %4.1f wa, %4.1f hi, %4.1f si, %4.1f st \n",
                  us, sy, 0.0, 100.0 - us - sy, 0.0, 0.0, 0.0, 0.0);
    uint64_t used = m.total - m.free - m.buffers - m.cached - m.sreclaimable;
    hp_buf_printf(&b, "MiB Mem : %8.1f total, %8.1f free, %8.1f used, %8.1f buff/cache     \n",
                  m.total / 1024.0, m.free / 1024.0, used / 1024.0,
                  (m.buffers + m.cached + m.sreclaimable) / 1024.0);
    hp_buf_printf(&b, "MiB Swap: %8.1f total, %8.1f free, %8.1f used. %8.1f avail Mem \n\n",
                  m.swap_total / 1024.0, m.swap_free / 1024.0, (m.swap_total - m.swap_free) / 1024.0,
                  m.available / 1024.0);
    hp_buf_puts(&b, "    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n");
    /* top itself first (it is the one using the CPU), then by pid */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            bool self = strcmp(p[i].comm, "top") == 0 && p[i].stat[0] == 'R';
            if (self != (pass == 0))
                continue;
            bool hi = strchr(p[i].stat, '<') != NULL;
            uint64_t t = p[i].cpu_ticks;
            char tbuf[32];
            snprintf(tbuf, sizeof(tbuf), "%llu:%02u.%02u", (unsigned long long)(t / 6000), (unsigned)(t / 100 % 60),
                     (unsigned)(t % 100));
            hp_buf_printf(&b, "%7u %-8.8s %3s %3d %7llu %6llu %6llu %c %5.1f %5.1f %9s %s\n", p[i].pid, p[i].user,
                          hi ? "0" : "20", hi ? -20 : 0, (unsigned long long)p[i].vsz_kb,
                          (unsigned long long)p[i].rss_kb, (unsigned long long)(p[i].rss_kb * 7 / 10),
                          p[i].stat[0], self ? 6.2 : 0.0, proc_pmem(c, &p[i]), tbuf, p[i].comm);
        }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    free(p);
    return 0;
}

/* ==== finding processes ========================================================== */

static const char *proc_base(const char *cmd, char *out, size_t n)
{
    size_t len = strcspn(cmd, " ");
    snprintf(out, n, "%.*s", (int)len, cmd);
    char *slash = strrchr(out, '/');
    return slash ? slash + 1 : out;
}

static int cmd_pidof(struct sh_cmd *c)
{
    struct hp_proc *p;
    size_t n = sys_procs(c, NULL, &p);
    struct hp_buf b;
    hp_buf_init(&b, 65536);
    bool single = false;
    for (int a = 1; a < c->argc; a++) {
        const char *name = c->argv[a];
        if (name[0] == '-') {
            single |= strchr(name, 's') != NULL;
            continue;
        }
        /* pidof lists the newest first */
        for (size_t i = n; i-- > 0;) {
            char tmp[256];
            if (strcmp(p[i].comm, name) == 0 || strcmp(proc_base(p[i].cmd, tmp, sizeof(tmp)), name) == 0) {
                hp_buf_printf(&b, "%s%u", b.len ? " " : "", p[i].pid);
                if (single)
                    break;
            }
        }
    }
    free(p);
    if (b.len)
        hp_buf_putc(&b, '\n');
    sh_out(c, b.data, b.len);
    int rc = b.len ? 0 : 1;
    hp_buf_free(&b);
    return rc;
}

/* pgrep/pkill: a plain substring stands in for the regex (what bots pass
 * is a name: pkill -9 xmrig, pgrep -f kdevtmpfsi). */
static bool proc_match(const struct hp_proc *p, const char *pat, bool full, bool exact)
{
    const char *subject = full ? p->cmd : p->comm;
    if (exact)
        return strcmp(subject, pat) == 0;
    const char *pp = pat;
    bool anchor = pp[0] == '^';
    if (anchor)
        pp++;
    size_t pl = strlen(pp);
    bool end = pl && pp[pl - 1] == '$';
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%.*s", (int)(end ? pl - 1 : pl), pp);
    if (anchor && end)
        return strcmp(subject, tmp) == 0;
    if (anchor)
        return strncmp(subject, tmp, strlen(tmp)) == 0;
    const char *h = strstr(subject, tmp);
    if (end)
        return h && strlen(h) == strlen(tmp);
    return h != NULL;
}

static int pgrep_common(struct sh_cmd *c, bool kill)
{
    bool full = false, exact = false, list = false, listfull = false, count = false;
    const char *pat = NULL, *sig = NULL;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] != '-' || !a[1]) {
            if (!pat)
                pat = a;
            continue;
        }
        if (kill && ((a[1] >= '0' && a[1] <= '9') || (a[1] >= 'A' && a[1] <= 'Z'))) {
            sig = a + 1;
            continue;
        }
        for (const char *q = a + 1; *q; q++) {
            switch (*q) {
            case 'f': full = true; break;
            case 'x': exact = true; break;
            case 'l': list = true; break;
            case 'a': listfull = true; break;
            case 'c': count = true; break;
            case 'u': case 'U': case 'P': case 'g': case 't': case 's':
                if (!q[1])
                    i++;
                q += strlen(q) - 1;
                break;
            case 'n': case 'o': case 'i': case 'v': case 'e': break;
            case '-': q += strlen(q) - 1; break;
            default:
                sh_errf(c, "%s: invalid option -- '%c'\n\nUsage:\n %s [options] <pattern>\n\nFor more details see %s(1).\n",
                        kill ? "pkill" : "pgrep", *q, kill ? "pkill" : "pgrep", kill ? "pkill" : "pgrep");
                return 2;
            }
        }
    }
    (void)sig;
    if (!pat) {
        const char *prog = kill ? "pkill" : "pgrep";
        if (c->persona->busybox)
            return sys_usage_bb(c, prog, NULL, "[-flnovx] [-s SID|-P PPID|PATTERN]");
        sh_errf(c, "%s: no matching criteria specified\nTry `%s --help' for more information.\n", prog, prog);
        return 2;
    }
    struct hp_proc *p;
    size_t n = sys_procs(c, NULL, &p);
    struct hp_buf b;
    hp_buf_init(&b, 65536);
    unsigned hits = 0;
    bool logout = false;
    for (size_t i = 0; i < n; i++) {
        if (!proc_match(&p[i], pat, full, exact))
            continue;
        hits++;
        if (kill) {
            if (c->sess && p[i].pid == c->sess->shell_pid)
                logout = true;
            continue;
        }
        if (count)
            continue;
        if (listfull)
            hp_buf_printf(&b, "%u %s\n", p[i].pid, p[i].cmd);
        else if (list)
            hp_buf_printf(&b, "%u %s\n", p[i].pid, p[i].comm);
        else
            hp_buf_printf(&b, "%u\n", p[i].pid);
    }
    if (count)
        hp_buf_printf(&b, "%u\n", hits);
    free(p);
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    if (logout)
        sh_logout(c, 0);
    return hits ? 0 : 1;
}

static int cmd_pgrep(struct sh_cmd *c) { return pgrep_common(c, false); }
static int cmd_pkill(struct sh_cmd *c) { return pgrep_common(c, true); }

static int cmd_killall(struct sh_cmd *c)
{
    bool bb = c->persona->busybox, any = false;
    int rc = 0;
    struct hp_proc *p;
    size_t n = sys_procs(c, NULL, &p);
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] == '-')
            continue;
        any = true;
        bool hit = false;
        for (size_t k = 0; k < n; k++)
            hit |= strcmp(p[k].comm, a) == 0;
        if (!hit) {
            if (bb)
                sh_errf(c, "killall: %s: no process killed\n", a);
            else
                sh_errf(c, "%s: no process found\n", a);
            rc = 1;
        }
    }
    free(p);
    if (!any) {
        if (bb)
            return sys_usage_bb(c, "killall", NULL, "[-l] [-q] [-SIG] PROCESS_NAME...");
        sh_errs(c, "Usage: killall [OPTION]... [--] NAME...\n       killall -l, --list\n       killall -V, --version\n");
        return 1;
    }
    return rc;
}

/* ==== kill ========================================================================== */

static const char *const sig_names[32] = {
    NULL, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
    "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU",
    "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
};

static void sig_name(int s, char *out, size_t n)
{
    if (s > 0 && s < 32)
        snprintf(out, n, "%s", sig_names[s]);
    else if (s == 34)
        snprintf(out, n, "RTMIN");
    else if (s > 34 && s <= 49)
        snprintf(out, n, "RTMIN+%d", s - 34);
    else if (s >= 50 && s < 64)
        snprintf(out, n, "RTMAX-%d", 64 - s);
    else if (s == 64)
        snprintf(out, n, "RTMAX");
    else
        out[0] = '\0';
}

/* A signal by number or name (with or without SIG); -1 when unknown. */
static int sig_parse(const char *s)
{
    long v;
    if (sh_parse_long(s, &v))
        return v >= 0 && v <= 64 ? (int)v : -1;
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (int k = 1; k <= 64; k++) {
        char n[16];
        sig_name(k, n, sizeof(n));
        if (n[0] && strcasecmp(n, s) == 0)
            return k;
    }
    return -1;
}

static void kill_prefix(struct sh_cmd *c)
{
    sh_errs(c, c->persona->busybox ? "sh: " : "-bash: kill: ");
}

static int kill_list(struct sh_cmd *c, const char *which)
{
    char n[16];
    if (which) {
        int s = sig_parse(which);
        long v;
        if (sh_parse_long(which, &v) && v > 128)
            s = (int)(v - 128);
        if (s <= 0) {
            kill_prefix(c);
            sh_errf(c, "%s: invalid signal specification\n", which);
            return 1;
        }
        sig_name(s, n, sizeof(n));
        if (sh_parse_long(which, &v))
            sh_outf(c, "%s\n", n);
        else
            sh_outf(c, "%d\n", s);
        return 0;
    }
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    if (c->persona->busybox) {
        for (int s = 1; s < 32; s++)
            hp_buf_printf(&b, "%d) %s\n", s, sig_names[s]);
    } else {
        int col = 0;
        for (int s = 1; s <= 64; s++) {
            if (s == 32 || s == 33)
                continue;
            sig_name(s, n, sizeof(n));
            hp_buf_printf(&b, "%2d) SIG%s", s, n);
            if (++col < 5)
                hp_buf_putc(&b, '\t');
            else {
                col = 0;
                hp_buf_putc(&b, '\n');
            }
        }
        if (col)
            hp_buf_putc(&b, '\n');
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

static int cmd_kill(struct sh_cmd *c)
{
    int sig = 15, i = 1;
    bool bb = c->persona->busybox;
    if (c->argc < 2) {
        if (bb)
            return sys_usage_bb(c, "kill", NULL, "[-l] [-SIG] PID...");
        kill_prefix(c);
        sh_errs(c, "usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n");
        return 2;
    }
    const char *a = c->argv[1];
    if (!strcmp(a, "-l") || !strcmp(a, "-L"))
        return kill_list(c, c->argc > 2 ? c->argv[2] : NULL);
    if (!strcmp(a, "-s") || !strcmp(a, "-n")) {
        if (c->argc < 3) {
            kill_prefix(c);
            sh_errf(c, "%s: option requires an argument\n", a);
            return 2;
        }
        sig = sig_parse(c->argv[2]);
        if (sig < 0) {
            kill_prefix(c);
            sh_errf(c, "%s: invalid signal specification\n", c->argv[2]);
            return 1;
        }
        i = 3;
    } else if (a[0] == '-' && a[1] && strcmp(a, "--") != 0) {
        sig = sig_parse(a + 1);
        if (sig < 0) {
            kill_prefix(c);
            sh_errf(c, "%s: invalid signal specification\n", a + 1);
            return 1;
        }
        i = 2;
    } else if (!strcmp(a, "--"))
        i = 2;
    if (i >= c->argc) {
        kill_prefix(c);
        sh_errs(c, "usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n");
        return 2;
    }
    struct hp_proc *p;
    size_t n = sys_procs(c, NULL, &p);
    int rc = 0;
    bool logout = false;
    unsigned shell = c->sess ? c->sess->shell_pid : 0;
    for (; i < c->argc; i++) {
        long v;
        if (!sh_parse_long(c->argv[i], &v) && !(c->argv[i][0] == '%')) {
            kill_prefix(c);
            sh_errf(c, "%s: arguments must be process or job IDs\n", c->argv[i]);
            rc = 1;
            continue;
        }
        if (c->argv[i][0] == '%') {
            kill_prefix(c);
            sh_errf(c, "%s: no such job\n", c->argv[i]);
            rc = 1;
            continue;
        }
        bool found = v == 0 || v == -1;
        const struct hp_proc *hit = NULL;
        for (size_t k = 0; k < n && !found; k++)
            if ((long)p[k].pid == v || (v < 0 && (long)p[k].pid == -v)) {
                found = true;
                hit = &p[k];
            }
        if (!found) {
            if (bb)
                sh_errf(c, "sh: can't kill pid %s: No such process\n", c->argv[i]);
            else {
                kill_prefix(c);
                sh_errf(c, "(%s) - No such process\n", c->argv[i]);
            }
            rc = 1;
            continue;
        }
        if (hit && c->uid != 0 && strcmp(hit->user, c->user ? c->user : "") != 0) {
            if (bb)
                sh_errf(c, "sh: can't kill pid %s: Operation not permitted\n", c->argv[i]);
            else {
                kill_prefix(c);
                sh_errf(c, "(%s) - Operation not permitted\n", c->argv[i]);
            }
            rc = 1;
            continue;
        }
        /* An interactive shell ignores TERM and INT; KILL and HUP end it,
         * and so does killing its sshd/telnetd parent. */
        if (hit && ((hit->pid == shell && (sig == 9 || sig == 1)) ||
                    (shell && hit->pid + 2 == shell && sig != 0)))
            logout = true;
    }
    free(p);
    if (logout)
        sh_logout(c, 128 + sig);
    return rc;
}

/* ==== running other commands ======================================================= */

/* Does argv[0] name a program this shell would find? */
static bool prog_exists(struct sh_cmd *c, const char *name)
{
    char path[4096];
    return sh_which(c, name, path, sizeof(path)) == 0;
}

static int cmd_env(struct sh_cmd *c)
{
    int i = 1;
    bool ignore = false, nul = false;
    for (; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (!strcmp(a, "-i") || !strcmp(a, "-") || !strcmp(a, "--ignore-environment"))
            ignore = true;
        else if (!strcmp(a, "-0") || !strcmp(a, "--null"))
            nul = true;
        else if (!strcmp(a, "-u") && i + 1 < c->argc)
            i++;
        else if (!strncmp(a, "-u", 2) || !strncmp(a, "--unset=", 8))
            ;
        else if (!strcmp(a, "--")) {
            i++;
            break;
        } else if (!strcmp(a, "--version")) {
            sh_outs(c, "env (GNU coreutils) 9.1\n");
            return 0;
        } else if (a[0] == '-' && a[1] && !c->persona->busybox) {
            struct sys_getopt g;
            sys_getopt_init(&g, c->argc - i + 1, c->argv + i - 1, false);
            sys_getopt(&g, "", NULL);
            return sys_usage_gnu(c, "env", &g, 125);
        } else
            break;
    }
    int first_assign = i;
    while (i < c->argc && strchr(c->argv[i], '=') && c->argv[i][0] != '=')
        i++;
    if (i >= c->argc) {
        struct hp_buf b;
        hp_buf_init(&b, 1u << 20);
        if (!ignore)
            sh_environ(c, &b);
        for (int k = first_assign; k < i; k++)
            hp_buf_printf(&b, "%s\n", c->argv[k]);
        if (nul)
            for (size_t k = 0; k < b.len; k++)
                if (b.data[k] == '\n')
                    b.data[k] = '\0';
        sh_out(c, b.data, b.len);
        hp_buf_free(&b);
        return 0;
    }
    if (!prog_exists(c, c->argv[i])) {
        if (c->persona->busybox)
            sh_errf(c, "env: can't execute '%s': No such file or directory\n", c->argv[i]);
        else
            sh_errf(c, "env: \xe2\x80\x98%s\xe2\x80\x99: No such file or directory\n", c->argv[i]);
        return 127;
    }
    return sh_run_argv(c, c->argc - i, c->argv + i);
}

static int cmd_printenv(struct sh_cmd *c)
{
    if (c->argc < 2) {
        struct hp_buf b;
        hp_buf_init(&b, 1u << 20);
        sh_environ(c, &b);
        sh_out(c, b.data, b.len);
        hp_buf_free(&b);
        return 0;
    }
    int rc = 0;
    for (int i = 1; i < c->argc; i++) {
        if (c->argv[i][0] == '-')
            continue;
        const char *v = sh_getenv(c, c->argv[i]);
        if (v)
            sh_outf(c, "%s\n", v);
        else
            rc = 1;
    }
    return rc;
}

/* A wrapper that runs argv[i..]: GNU's "failed to run command" when the
 * program is missing, else its status. */
static int run_wrapped(struct sh_cmd *c, const char *prog, int i, int notfound_rc)
{
    if (!prog_exists(c, c->argv[i])) {
        if (c->persona->busybox)
            sh_errf(c, "%s: can't execute '%s': No such file or directory\n", prog, c->argv[i]);
        else
            sh_errf(c, "%s: failed to run command \xe2\x80\x98%s\xe2\x80\x99: No such file or directory\n", prog,
                    c->argv[i]);
        return notfound_rc;
    }
    return sh_run_argv(c, c->argc - i, c->argv + i);
}

static int cmd_nohup(struct sh_cmd *c)
{
    int i = 1;
    if (i < c->argc && !strcmp(c->argv[i], "--"))
        i++;
    if (i >= c->argc)
        return c->persona->busybox ? sys_usage_bb(c, "nohup", NULL, "PROG ARGS\n\nRun PROG immune to hangups, with output to a non-tty")
                                   : sys_missing_operand(c, "nohup", 125);
    if (c->out_tty) {
        char path[4096];
        if (sh_path(c, "nohup.out", path, sizeof(path)) == 0 && c->fs)
            sh_vfs_write(c->fs, path, "", 0, SH_O_CREAT | SH_O_APPEND, 0600);
        if (c->persona->busybox)
            sh_errs(c, "nohup: appending output to nohup.out\n");
        else
            sh_errs(c, c->in_tty ? "nohup: ignoring input and appending output to 'nohup.out'\n"
                                 : "nohup: appending output to 'nohup.out'\n");
    } else if (c->in_tty && !c->persona->busybox) {
        sh_errs(c, "nohup: ignoring input\n");
    }
    return run_wrapped(c, "nohup", i, 127);
}

static int cmd_timeout(struct sh_cmd *c)
{
    int i = 1;
    while (i < c->argc && c->argv[i][0] == '-' && c->argv[i][1]) {
        const char *a = c->argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if ((!strcmp(a, "-s") || !strcmp(a, "-k") || !strcmp(a, "--signal") || !strcmp(a, "--kill-after")) &&
            i + 1 < c->argc)
            i++;
        i++;
    }
    if (i + 1 >= c->argc) {
        if (c->persona->busybox)
            return sys_usage_bb(c, "timeout", NULL, "[-s SIG] [-k KILL_SECS] SECS PROG ARGS");
        if (i >= c->argc)
            return sys_missing_operand(c, "timeout", 125);
        sh_errf(c, "timeout: missing operand after \xe2\x80\x98%s\xe2\x80\x99\n", c->argv[i]);
        return sys_usage_gnu(c, "timeout", NULL, 125);
    }
    char *end;
    double d = strtod(c->argv[i], &end);
    if (end == c->argv[i] || d < 0 || (*end && (!strchr("smhd", *end) || end[1]))) {
        sh_errf(c, "timeout: invalid time interval \xe2\x80\x98%s\xe2\x80\x99\n", c->argv[i]);
        return sys_usage_gnu(c, "timeout", NULL, 125);
    }
    return run_wrapped(c, "timeout", i + 1, 127);
}

static int cmd_nice(struct sh_cmd *c)
{
    int i = 1;
    if (i < c->argc && !strcmp(c->argv[i], "-n") && i + 1 < c->argc)
        i += 2;
    else if (i < c->argc && c->argv[i][0] == '-' && c->argv[i][1] && strcmp(c->argv[i], "--") != 0)
        i++;
    if (i < c->argc && !strcmp(c->argv[i], "--"))
        i++;
    if (i >= c->argc) {
        sh_outs(c, "0\n");
        return 0;
    }
    return run_wrapped(c, "nice", i, 127);
}

static int cmd_setsid(struct sh_cmd *c)
{
    int i = 1;
    while (i < c->argc && c->argv[i][0] == '-')
        i++;
    if (i >= c->argc) {
        if (c->persona->busybox)
            return sys_usage_bb(c, "setsid", NULL, "[-c] PROG ARGS");
        sh_errs(c, "setsid: no command specified\nTry 'setsid --help' for more information.\n");
        return 1;
    }
    if (!prog_exists(c, c->argv[i])) {
        sh_errf(c, "setsid: failed to execute %s: No such file or directory\n", c->argv[i]);
        return 1;
    }
    return sh_run_argv(c, c->argc - i, c->argv + i);
}

static int cmd_watch(struct sh_cmd *c)
{
    int i = 1;
    while (i < c->argc && c->argv[i][0] == '-') {
        const char *a = c->argv[i];
        if ((!strcmp(a, "-n") || !strcmp(a, "--interval") || !strcmp(a, "-d")) && i + 1 < c->argc && a[1] == 'n')
            i++;
        i++;
    }
    if (i >= c->argc) {
        sh_errs(c, "\nUsage:\n watch [options] command\n\nFor more details see watch(1).\n");
        return 1;
    }
    /* One round: the command's output (the attacker gets bored or hits ^C). */
    struct hp_buf cmd;
    hp_buf_init(&cmd, 65536);
    for (int k = i; k < c->argc; k++)
        hp_buf_printf(&cmd, "%s%s", k > i ? " " : "", c->argv[k]);
    int rc = sh_run_script(c, cmd.data, cmd.len, "sh", 0, NULL);
    hp_buf_free(&cmd);
    return rc;
}

/* sudo: root runs the command; others are asked a password nobody knows. */
static int cmd_sudo(struct sh_cmd *c)
{
    int i = 1;
    bool login_shell = false, list = false;
    for (; i < c->argc && c->argv[i][0] == '-'; i++) {
        const char *a = c->argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            sh_outs(c, "Sudo version 1.9.13p3\nSudoers policy plugin version 1.9.13p3\nSudoers file grammar version 50\n"
                       "Sudoers I/O plugin version 1.9.13p3\nSudoers audit plugin version 1.9.13p3\n");
            return 0;
        }
        if (!strcmp(a, "-u") || !strcmp(a, "-g") || !strcmp(a, "-p") || !strcmp(a, "-C") || !strcmp(a, "-h") ||
            !strcmp(a, "-U") || !strcmp(a, "-D") || !strcmp(a, "-r") || !strcmp(a, "-t")) {
            i++;
            continue;
        }
        if (strchr(a, 'i') || strchr(a, 's'))
            login_shell = true;
        if (strchr(a, 'l'))
            list = true;
    }
    const char *user = c->user ? c->user : "root";
    if (c->uid != 0) {
        if (c->in_tty) {
            for (int k = 0; k < 3; k++)
                sh_errf(c, "[sudo] password for %s: \n%s", user, k < 2 ? "Sorry, try again.\n" : "");
            sh_errs(c, "sudo: 3 incorrect password attempts\n");
        } else {
            sh_errs(c, "sudo: a terminal is required to read the password; either use the -S option to read from "
                       "standard input or configure an askpass helper\nsudo: a password is required\n");
        }
        return 1;
    }
    if (list) {
        sh_outf(c, "Matching Defaults entries for root on %s:\n    env_reset, mail_badpass,\n"
                   "    secure_path=/usr/local/sbin\\:/usr/local/bin\\:/usr/sbin\\:/usr/bin\\:/sbin\\:/bin,\n"
                   "    use_pty\n\nUser root may run the following commands on %s:\n    (ALL : ALL) ALL\n",
                c->persona->hostname, c->persona->hostname);
        return 0;
    }
    if (i >= c->argc) {
        if (login_shell)
            return 0;             /* a root shell in the root shell: nothing changes */
        sh_errs(c, "usage: sudo -h | -K | -k | -V\n"
                   "usage: sudo -v [-ABkNnS] [-g group] [-h host] [-p prompt] [-u user]\n"
                   "usage: sudo -l [-ABkNnS] [-g group] [-h host] [-p prompt] [-U user]\n"
                   "            [-u user] [command [arg ...]]\n"
                   "usage: sudo [-ABbEHkNnPS] [-r role] [-t type] [-C num] [-D directory]\n"
                   "            [-g group] [-h host] [-p prompt] [-R directory] [-T timeout]\n"
                   "            [-u user] [VAR=value] [-i | -s] [command [arg ...]]\n"
                   "usage: sudo -e [-ABkNnS] [-r role] [-t type] [-C num] [-D directory]\n"
                   "            [-g group] [-h host] [-p prompt] [-R directory] [-T timeout]\n"
                   "            [-u user] file ...\n");
        return 1;
    }
    if (!prog_exists(c, c->argv[i])) {
        sh_errf(c, "sudo: %s: command not found\n", c->argv[i]);
        return 1;
    }
    return sh_run_argv(c, c->argc - i, c->argv + i);
}

static int cmd_su(struct sh_cmd *c)
{
    const char *cmd = NULL;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if ((!strcmp(a, "-c") || !strcmp(a, "--command")) && i + 1 < c->argc)
            cmd = c->argv[++i];
        else if (!strncmp(a, "--command=", 10))
            cmd = a + 10;
        else if (!strcmp(a, "-s") || !strcmp(a, "--shell"))
            i++;
    }
    if (c->uid != 0) {
        if (c->persona->busybox) {
            sh_errs(c, "Password: \nsu: incorrect password\n");
            return 1;
        }
        sh_errs(c, "Password: \nsu: Authentication failure\n");
        return 1;
    }
    if (!cmd)
        return 0;                 /* root to any user: a shell we do not model */
    return sh_run_script(c, (const uint8_t *)cmd, strlen(cmd), c->persona->busybox ? "sh" : "bash", 0, NULL);
}

/* ==== shell built-ins ============================================================ */

static int cmd_ulimit(struct sh_cmd *c)
{
    bool bb = c->persona->busybox;
    uint64_t sigs = c->persona->mem_kb / 128;
    char opt = 'f';
    const char *val = NULL;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] == '-' && a[1]) {
            for (const char *q = a + 1; *q; q++) {
                if (!strchr("aHSRcdefilmnpqrstuvxwP", *q)) {
                    if (bb)
                        sh_errf(c, "-sh: ulimit: invalid option -- '%c'\n", *q);
                    else
                        sh_errf(c, "-bash: ulimit: -%c: invalid option\n"
                                   "ulimit: usage: ulimit [-SHabcdefiklmnpqrstuvxPRT] [limit]\n", *q);
                    return 2;
                }
                if (*q != 'H' && *q != 'S')
                    opt = *q;
            }
        } else
            val = a;
    }
    if (val) {
        long v;
        if (strcmp(val, "unlimited") != 0 && strcmp(val, "hard") != 0 && strcmp(val, "soft") != 0 &&
            !sh_parse_long(val, &v)) {
            sh_errf(c, bb ? "-sh: ulimit: %s: bad number\n" : "-bash: ulimit: %s: invalid number\n", val);
            return 1;
        }
        if (c->uid != 0 && strcmp(val, "unlimited") == 0 && strchr("nu", opt)) {
            sh_errf(c, bb ? "-sh: ulimit: error setting limit (Operation not permitted)\n"
                          : "-bash: ulimit: %s: cannot modify limit: Operation not permitted\n",
                    opt == 'n' ? "open files" : "max user processes");
            return 1;
        }
        char key[16];
        snprintf(key, sizeof(key), "ulimit.%c", opt);
        sh_state_set(c, key, val);    /* root raises soft and hard: later queries show it */
        return 0;
    }
    char nfiles[32];
    const char *setn = sh_state_get(c, "ulimit.n");
    snprintf(nfiles, sizeof(nfiles), "%s", setn ? setn : "1024");
    if (opt != 'a') {
        char key[16];
        snprintf(key, sizeof(key), "ulimit.%c", opt);
        const char *set = sh_state_get(c, key);
        if (set) {
            sh_outf(c, "%s\n", set);
            return 0;
        }
    }
    struct hp_buf b;
    hp_buf_init(&b, 8192);
    if (opt == 'a' && bb) {
        hp_buf_printf(&b, "-f: file size (blocks)             unlimited\n-t: cpu time (seconds)             unlimited\n"
                          "-d: data seg size (kb)             unlimited\n-s: stack size (kb)                8192\n"
                          "-c: core file size (blocks)        0\n-m: resident set size (kb)         unlimited\n"
                          "-l: locked memory (kb)             64\n-p: processes                      %llu\n"
                          "-n: file descriptors               %s\n-v: address space (kb)             unlimited\n"
                          "-w: locks                          unlimited\n-e: scheduling priority            0\n"
                          "-r: real-time priority             0\n", (unsigned long long)sigs, nfiles);
    } else if (opt == 'a') {
        hp_buf_printf(&b, "real-time non-blocking time  (microseconds, -R) unlimited\n"
                          "core file size              (blocks, -c) 0\n"
                          "data seg size               (kbytes, -d) unlimited\n"
                          "scheduling priority                 (-e) 0\n"
                          "file size                   (blocks, -f) unlimited\n"
                          "pending signals                     (-i) %llu\n"
                          "max locked memory           (kbytes, -l) %llu\n"
                          "max memory size             (kbytes, -m) unlimited\n"
                          "open files                          (-n) %s\n"
                          "pipe size                (512 bytes, -p) 8\n"
                          "POSIX message queues         (bytes, -q) 819200\n"
                          "real-time priority                  (-r) 0\n"
                          "stack size                  (kbytes, -s) 8192\n"
                          "cpu time                   (seconds, -t) unlimited\n"
                          "max user processes                  (-u) %llu\n"
                          "virtual memory              (kbytes, -v) unlimited\n"
                          "file locks                          (-x) unlimited\n",
                      (unsigned long long)sigs, (unsigned long long)(c->persona->mem_kb / 8), nfiles,
                      (unsigned long long)sigs);
    } else {
        switch (opt) {
        case 'n': hp_buf_puts(&b, "1024\n"); break;
        case 'u': case 'i': hp_buf_printf(&b, "%llu\n", (unsigned long long)sigs); break;
        case 's': hp_buf_puts(&b, "8192\n"); break;
        case 'c': case 'e': case 'r': hp_buf_puts(&b, "0\n"); break;
        case 'p': hp_buf_puts(&b, "8\n"); break;
        case 'l': hp_buf_printf(&b, "%llu\n", (unsigned long long)(bb ? 64 : c->persona->mem_kb / 8)); break;
        case 'q': hp_buf_puts(&b, "819200\n"); break;
        default: hp_buf_puts(&b, "unlimited\n"); break;
        }
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

static int cmd_history(struct sh_cmd *c)
{
    const char *const *lines;
    size_t n = sh_history(c, &lines);
    if (c->argc > 1 && (!strcmp(c->argv[1], "-c") || !strcmp(c->argv[1], "-w") || !strcmp(c->argv[1], "-a") ||
                        !strcmp(c->argv[1], "-r") || !strcmp(c->argv[1], "-d")))
        return 0;
    size_t from = 0;
    long last;
    if (c->argc > 1 && sh_parse_long(c->argv[1], &last) && last >= 0 && (size_t)last < n)
        from = n - (size_t)last;
    else if (c->argc > 1 && c->argv[1][0] != '-' && !sh_parse_long(c->argv[1], &last)) {
        sh_errf(c, "-bash: history: %s: numeric argument required\n", c->argv[1]);
        return 1;
    }
    struct hp_buf b;
    hp_buf_init(&b, 1u << 20);
    for (size_t i = from; i < n; i++)
        hp_buf_printf(&b, c->persona->busybox ? "%4zu %s\n" : "%5zu  %s\n", i + 1, lines[i]);
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

/* ==== power ====================================================================== */

static int cmd_reboot(struct sh_cmd *c)
{
    const char *name = argv0_base(c)[0] ? argv0_base(c) : c->applet ? c->applet : "reboot";
    bool bb = c->persona->busybox;
    if (!strcmp(name, "init") || !strcmp(name, "telinit")) {
        if (c->argc < 2) {
            sh_errs(c, bb ? "init: must be run as PID 1\n" : "Too few arguments.\n");
            return 1;
        }
        if (strcmp(c->argv[1], "0") != 0 && strcmp(c->argv[1], "6") != 0)
            return 0;
    }
    if (c->uid != 0) {
        if (bb)
            sh_errf(c, "%s: Operation not permitted\n", name);
        else
            sh_errs(c, "Call to Reboot failed: Interactive authentication required.\n");
        return 1;
    }
    if (!strcmp(name, "shutdown") && !bb) {
        bool now = false, cancel = false;
        for (int i = 1; i < c->argc; i++) {
            now |= !strcmp(c->argv[i], "now") || !strcmp(c->argv[i], "+0") || !strcmp(c->argv[i], "0");
            cancel |= !strcmp(c->argv[i], "-c");
        }
        if (cancel)
            return 0;
        if (!now) {
            struct tm tm;
            char when[64];
            sys_gmtime(c->now_s + 60, &tm);
            strftime(when, sizeof(when), "%a %Y-%m-%d %H:%M:%S UTC", &tm);
            sh_outf(c, "Shutdown scheduled for %s, use 'shutdown -c' to cancel.\n", when);
            return 0;
        }
    }
    sh_logout(c, 0);
    return 0;
}

/* Debian's pidof is a link to killall5, and init one to systemd: both act
 * on the name they were called by. */
static int cmd_killall5(struct sh_cmd *c)
{
    if (!strcmp(argv0_base(c), "pidof"))
        return cmd_pidof(c);
    if (c->uid != 0) {
        sh_errs(c, "killall5: Operation not permitted\n");
        return 1;
    }
    return 0;                     /* it spares the caller's own session */
}

static int cmd_systemd(struct sh_cmd *c)
{
    if (!strcmp(argv0_base(c), "init") || !strcmp(argv0_base(c), "telinit"))
        return cmd_reboot(c);
    sh_errs(c, "Trying to run as user instance, but the system has not been booted with systemd.\n");
    return 1;
}

/* ==== busybox ===================================================================== */

static bool applet_has(const struct sh_cmd *c, const char *name)
{
    for (const char *const *a = hp_persona_applets(c->persona); a && *a; a++)
        if (strcmp(*a, name) == 0)
            return true;
    return false;
}

static const char *bb_years(const struct sh_cmd *c)
{
    const char *v = strstr(sys_bb_banner(c), "v1.");
    long minor = v ? strtol(v + 3, NULL, 10) : 31;
    return minor < 17 ? "1998-2009" : minor < 22 ? "1998-2011" : minor < 24 ? "1998-2012" : "1998-2015";
}

static int cmd_busybox(struct sh_cmd *c)
{
    if (c->argc < 2 || !strcmp(c->argv[1], "--help")) {
        struct hp_buf b;
        hp_buf_init(&b, 65536);
        hp_buf_printf(&b, "%s\nBusyBox is copyrighted by many authors between %s.\n"
                          "Licensed under GPLv2. See source distribution for detailed\ncopyright notices.\n\n"
                          "Usage: busybox [function [arguments]...]\n   or: busybox --list[-full]\n"
                          "   or: busybox --install [-s] [DIR]\n   or: function [arguments]...\n\n"
                          "\tBusyBox is a multi-call binary that combines many common Unix\n"
                          "\tutilities into a single executable.  Most people will create a\n"
                          "\tlink to busybox for each function they wish to use and BusyBox\n"
                          "\twill act like whatever it was invoked as.\n\nCurrently defined functions:\n",
                      sys_bb_banner(c), bb_years(c));
        unsigned col = 0, width = 80;
        for (const char *const *a = hp_persona_applets(c->persona); a && *a; a++) {
            unsigned len2 = (unsigned)strlen(*a) + 2;
            if (col >= width - len2) {
                hp_buf_puts(&b, ",\n");
                col = 0;
            }
            if (col == 0) {
                col = 6;
                hp_buf_putc(&b, '\t');
            } else
                hp_buf_puts(&b, ", ");
            hp_buf_puts(&b, *a);
            col += len2;
        }
        hp_buf_puts(&b, "\n\n");
        sh_out(c, b.data, b.len);
        hp_buf_free(&b);
        return 0;
    }
    const char *a = c->argv[1];
    if (!strcmp(a, "--list") || !strcmp(a, "--list-full")) {
        struct hp_buf b, links;
        hp_buf_init(&b, 65536);
        hp_buf_init(&links, 65536);
        if (a[6])
            hp_persona_gen(c->persona, "applet_links", c->now_s, &links);
        if (a[6] && links.len)
            for (size_t i = 0; i < links.len; i++)
                hp_buf_putc(&b, links.data[i] == '/' && (i == 0 || links.data[i - 1] == '\n') ? 0 : links.data[i]);
        for (const char *const *ap = hp_persona_applets(c->persona); !a[6] && ap && *ap; ap++)
            hp_buf_printf(&b, "%s\n", *ap);
        /* --list-full prints the paths without their leading '/' */
        size_t w = 0;
        for (size_t i = 0; i < b.len; i++)
            if (b.data[i])
                b.data[w++] = b.data[i];
        sh_out(c, b.data, w);
        hp_buf_free(&b);
        hp_buf_free(&links);
        return 0;
    }
    if (!strcmp(a, "--install"))
        return 0;
    const char *slash = strrchr(a, '/');
    const char *name = slash ? slash + 1 : a;
    if (!applet_has(c, name)) {
        sh_errf(c, "%s: applet not found\n", a);
        return 127;
    }
    int rc = sh_run_applet(c, name, c->argc - 1, c->argv + 1);
    return rc < 0 ? 0 : rc;
}

const struct sh_cmd_def sh_cmds_proc[] = {
    { "busybox", cmd_busybox, false },
    { "env", cmd_env, false },
    { "halt", cmd_reboot, false },
    { "history", cmd_history, true },
    { "init", cmd_reboot, false },
    { "kill", cmd_kill, true },
    { "killall", cmd_killall, false },
    { "killall5", cmd_killall5, false },
    { "nice", cmd_nice, false },
    { "nohup", cmd_nohup, false },
    { "pgrep", cmd_pgrep, false },
    { "pidof", cmd_pidof, false },
    { "pkill", cmd_pkill, false },
    { "poweroff", cmd_reboot, false },
    { "printenv", cmd_printenv, false },
    { "ps", cmd_ps, false },
    { "reboot", cmd_reboot, false },
    { "setsid", cmd_setsid, false },
    { "shutdown", cmd_reboot, false },
    { "su", cmd_su, false },
    { "systemd", cmd_systemd, false },
    { "sudo", cmd_sudo, false },
    { "telinit", cmd_reboot, false },
    { "timeout", cmd_timeout, false },
    { "top", cmd_top, false },
    { "ulimit", cmd_ulimit, true },
    { "watch", cmd_watch, false },
    { NULL, NULL, false },
};
