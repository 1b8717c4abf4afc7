/*
 * tests/hooks/debughook.c - the test binary's hooks (replaces src/core/debughook.c).
 *
 * Kept out of src/ on purpose: the sensor's own sources never start a
 * program.  The test binary (make build/debug-hooks/hanipo: the release
 * objects with this file in place of src/core/debughook.c) lets the
 * integration suite prove claims about the running sensor that cannot be
 * seen from outside:
 *
 *   SIGUSR2   hp_debug_try_spawn(): try to replace the process image with
 *             /bin/true, as an exploited protocol module would, and log what
 *             the kernel answered.  The seccomp filter (privs.c) must refuse
 *             it with EPERM; had it succeeded, the sensor would be gone, which
 *             the test notices too.  Before that, the sandbox probes
 *             (hp_debug_sandbox_probes): a file created outside data_dir
 *             (Landlock: EACCES), getpriority and personality (outside the
 *             seccomp allowlist: EPERM), mount and ptrace (EPERM); each logs
 *             "debug hook: WHAT returned RC errno=NAME".
 *
 * The hook runs on the network thread from the event loop (a libevent signal
 * event, not an async handler), i.e. exactly where protocol parsers run.
 *
 *   HANIPO_TEST_STARTUP_PAUSE_MS  hp_debug_hook_started() sleeps that long
 *             between the end of start-up (ports listening) and the signal
 *             events, so a test can stop the sensor in that window.
 */
#include "debughook.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "log.h"

static struct event *hp_debug_usr2;

static void hp_debug_report(const char *what, long rc, int e)
{
    const char *name = e ? strerrorname_np(e) : "0";
    hp_warn("debug hook: %s returned %ld errno=%s (%s)", what, rc, name ? name : "?", e ? strerror(e) : "ok");
}

#if defined(__SANITIZE_ADDRESS__)
#define HP_DEBUG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HP_DEBUG_ASAN 1
#endif
#endif

/*
 * The sandbox probes (sandbox.c), each what an exploited module would try.
 * Every one of them succeeds without the sandbox for the unprivileged user
 * the test runs as, except mount (which needs a capability: the filter is
 * then a second wall).
 */
static void hp_debug_sandbox_probes(void)
{
    char path[128];
    long rc;
    /* write outside data_dir: /tmp is world-writable, only Landlock stops it */
    snprintf(path, sizeof(path), "/tmp/hanipo-sandbox-probe-%ld", (long)getpid());
    errno = 0;
    rc = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int e = errno;
    if (rc >= 0) {
        close((int)rc);
        unlink(path);
    }
    hp_debug_report("open(/tmp/hanipo-sandbox-probe, O_CREAT|O_WRONLY)", rc, e);
    /* outside the seccomp allowlist: both succeed for any process without the filter */
    errno = 0;
    rc = syscall(SYS_getpriority, PRIO_PROCESS, 0);
    hp_debug_report("getpriority", rc, errno);
    errno = 0;
    rc = syscall(SYS_personality, 0xffffffffUL);
    hp_debug_report("personality", rc, errno);
    errno = 0;
    rc = mount("none", "/tmp", "tmpfs", 0, NULL);
    hp_debug_report("mount", rc, errno);
#ifndef HP_DEBUG_ASAN
    /* PTRACE_TRACEME succeeds for anyone without the filter */
    errno = 0;
    rc = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    hp_debug_report("ptrace", rc, errno);
#else
    hp_warn("debug hook: ptrace skipped (sanitizer build: LeakSanitizer needs it)");
#endif
}

static void hp_debug_try_spawn(evutil_socket_t sig, short what, void *arg)
{
    char *const argv[] = { (char *)"/bin/true", NULL };
    char *const envp[] = { NULL };
    hp_debug_sandbox_probes();
    errno = 0;
    int rc = execve("/bin/true", argv, envp);
    int e = errno;
    const char *name = strerrorname_np(e);
    hp_warn("debug hook: execve /bin/true returned %d errno=%s (%s)", rc, name ? name : "?", strerror(e));
}

void hp_debug_hooks_install(struct event_base *base)
{
    hp_debug_usr2 = evsignal_new(base, SIGUSR2, hp_debug_try_spawn, NULL);
    if (!hp_debug_usr2 || evsignal_add(hp_debug_usr2, NULL) != 0) {
        hp_error("debug hook: cannot arm SIGUSR2");
        return;
    }
    hp_warn("debug hooks armed (test build): SIGUSR2 tries to start /bin/true");
}

void hp_debug_hooks_free(void)
{
    if (hp_debug_usr2)
        event_free(hp_debug_usr2);
    hp_debug_usr2 = NULL;
}

void hp_debug_hook_started(void)
{
    const char *v = getenv("HANIPO_TEST_STARTUP_PAUSE_MS");
    long ms = v ? strtol(v, NULL, 10) : 0;
    if (ms <= 0 || ms > 60000)
        return;
    hp_warn("debug hook: start-up pauses %ld ms before the signal events", ms);
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
