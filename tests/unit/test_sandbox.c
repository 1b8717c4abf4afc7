/*
 * test_sandbox.c - unit tests for src/core/sandbox.c: the seccomp allowlist
 * with its argument filters, and the Landlock rules.
 *
 * Each test forks: the filter and the Landlock domain are irreversible, so
 * they are applied in a child, which reports through its exit status (the
 * number of the first failed check, 0 when all held).  The checks are the
 * ones an attacker's code would hit: a call outside the list, a socket family
 * the sensor never uses, a thread with a new user namespace, an ioctl that
 * pushes input into a terminal, a file created outside data_dir; and the
 * sensor's own needs next to them (a TCP socket, a thread, a file in
 * data_dir, reading /etc).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "config.h"
#include "sandbox.h"

static char data_dir[] = "/tmp/hp-sandbox-data-XXXXXX";
static char outside[] = "/tmp/hp-sandbox-out-XXXXXX";

static int run_child(int (*fn)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fn());
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void *thread_fn(void *arg)
{
    return arg;
}

static int strict_syscalls(void)
{
    struct hp_config cfg;
    char err[256];
    memset(&cfg, 0, sizeof(cfg));
    cfg.sandbox = HP_SANDBOX_STRICT;
    cfg.data_dir = data_dir;
    if (hp_sandbox_syscalls(&cfg, err, sizeof(err)) != 0)
        return 1;
    errno = 0;
    if (syscall(SYS_getpriority, PRIO_PROCESS, 0) != -1 || errno != EPERM)
        return 2;                                   /* not on the list */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return 3;                                   /* the sensor's own */
    close(s);
    errno = 0;
    if (socket(AF_PACKET, SOCK_RAW, 0) != -1 || errno != EPERM)
        return 4;                                   /* family filter */
    pthread_t t;
    if (pthread_create(&t, NULL, thread_fn, NULL) != 0 || pthread_join(t, NULL) != 0)
        return 5;                                   /* clone3 -> ENOSYS -> clone */
    errno = 0;
    if (syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0) != -1 || errno != EPERM)
        return 6;                                   /* no namespaces */
    errno = 0;
    char c = 'x';
    if (ioctl(0, TIOCSTI, &c) != -1 || errno != EPERM)
        return 7;                                   /* ioctl filter */
    int avail = 0, p[2];
    if (pipe(p) != 0 || ioctl(p[0], FIONREAD, &avail) != 0)
        return 8;
    errno = 0;
    if (syscall(SYS_execve, "/bin/true", NULL, NULL) != -1 || errno != EPERM)
        return 9;
    errno = 0;
    if (syscall(SYS_personality, 0xffffffffUL) != -1 || errno != EPERM)
        return 10;
    return 0;
}

static void test_strict_syscalls(void **state)
{
    assert_int_equal(run_child(strict_syscalls), 0);
}

static int denylist_syscalls(void)
{
    struct hp_config cfg;
    char err[256];
    memset(&cfg, 0, sizeof(cfg));
    cfg.sandbox = HP_SANDBOX_DENYLIST;
    cfg.data_dir = data_dir;
    if (hp_sandbox_syscalls(&cfg, err, sizeof(err)) != 0)
        return 1;
    if (syscall(SYS_getpriority, PRIO_PROCESS, 0) < 0)
        return 2;                                   /* allowed by the deny-list */
    errno = 0;
    if (syscall(SYS_execve, "/bin/true", NULL, NULL) != -1 || errno != EPERM)
        return 3;
    return 0;
}

static void test_denylist_syscalls(void **state)
{
    assert_int_equal(run_child(denylist_syscalls), 0);
}

static int fs_rules(void)
{
    struct hp_config cfg;
    char err[256], path[256];
    memset(&cfg, 0, sizeof(cfg));
    cfg.sandbox = HP_SANDBOX_STRICT;
    cfg.data_dir = data_dir;
    if (hp_sandbox_fs(&cfg, err, sizeof(err)) != 0)
        return 1;
    /* a file created after the rules, in a directory created after them */
    snprintf(path, sizeof(path), "%s/log", data_dir);
    if (mkdir(path, 0700) != 0)
        return 2;
    snprintf(path, sizeof(path), "%s/log/new.jsonl", data_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, "{}\n", 3) != 3)
        return 3;
    close(fd);
    snprintf(path, sizeof(path), "%s/x", outside);
    errno = 0;
    if (open(path, O_WRONLY | O_CREAT, 0600) != -1 || errno != EACCES)
        return 4;                                   /* outside data_dir */
    fd = open("/etc/passwd", O_RDONLY);
    if (fd < 0)
        return 5;                                   /* reading /etc */
    close(fd);
    errno = 0;
    if (open("/tmp", O_RDONLY | O_DIRECTORY) != -1 || errno != EACCES)
        return 6;                                   /* listing elsewhere */
    return 0;
}

static void test_landlock_rules(void **state)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1UL /* LANDLOCK_CREATE_RULESET_VERSION */);
    if (abi < 1)
        skip();
    assert_int_equal(run_child(fs_rules), 0);
}

static void test_parse(void **state)
{
    enum hp_sandbox_mode m;
    assert_int_equal(hp_sandbox_parse("strict", &m), 0);
    assert_int_equal(m, HP_SANDBOX_STRICT);
    assert_int_equal(hp_sandbox_parse("denylist", &m), 0);
    assert_int_equal(m, HP_SANDBOX_DENYLIST);
    assert_int_equal(hp_sandbox_parse("off", &m), 0);
    assert_int_equal(m, HP_SANDBOX_OFF);
    assert_int_equal(hp_sandbox_parse("STRICT", &m), -1);
    assert_int_equal(hp_sandbox_parse("", &m), -1);
}

#define SVC "[output jsonl]\nenabled = true\n[service t]\nprotocol = trap\nbind = 127.0.0.1\ntcp_ports = 2323\n"

static void test_config_default_and_error(void **state)
{
    char err[256] = "";
    struct hp_config *c = hp_config_load_string("[sensor]\ndata_dir = /tmp/x\n" SVC, "t.ini", err, sizeof(err));
    if (!c)
        fail_msg("%s", err);
    assert_int_equal(c->sandbox, HP_SANDBOX_STRICT);
    hp_config_free(c);
    c = hp_config_load_string("[sensor]\nsandbox = denylist\n" SVC, "t.ini", err, sizeof(err));
    assert_non_null(c);
    assert_int_equal(c->sandbox, HP_SANDBOX_DENYLIST);
    hp_config_free(c);
    c = hp_config_load_string("[sensor]\nsandbox = loose\n" SVC, "t.ini", err, sizeof(err));
    assert_null(c);
    assert_non_null(strstr(err, "sandbox: expected strict, denylist or off"));
}

int main(void)
{
    if (!mkdtemp(data_dir) || !mkdtemp(outside))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_config_default_and_error),
        cmocka_unit_test(test_strict_syscalls),
        cmocka_unit_test(test_denylist_syscalls),
        cmocka_unit_test(test_landlock_rules),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "%s/log/new.jsonl", data_dir);
    unlink(cmd);
    snprintf(cmd, sizeof(cmd), "%s/log", data_dir);
    rmdir(cmd);
    rmdir(data_dir);
    rmdir(outside);
    return rc;
}
