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
 *             the test notices too.
 *
 * The hook runs on the network thread from the event loop (a libevent signal
 * event, not an async handler), i.e. exactly where protocol parsers run.
 */
#include "debughook.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "log.h"

static struct event *hp_debug_usr2;

static void hp_debug_try_spawn(evutil_socket_t sig, short what, void *arg)
{
    char *const argv[] = { (char *)"/bin/true", NULL };
    char *const envp[] = { NULL };
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

