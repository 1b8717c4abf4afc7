/*
 * debughook.h - test-only hooks into a running sensor (see debughook.c).
 */
#ifndef HP_DEBUGHOOK_H
#define HP_DEBUGHOOK_H

struct event_base;

/* Arm the hooks on the event loop (after the sandbox is on).  In the release
 * build (src/core/debughook.c) both do nothing; the test binary links
 * tests/hooks/debughook.c instead. */
void hp_debug_hooks_install(struct event_base *base);
void hp_debug_hooks_free(void);
/* Called once start-up is done (ports bound, user dropped, sandbox on) and
 * before the signal events exist: the test binary can wait here so a test
 * sends SIGTERM in that window. */
void hp_debug_hook_started(void);

#endif
