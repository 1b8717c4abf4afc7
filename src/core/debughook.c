/*
 * debughook.c - the release build's test hooks: none.
 *
 * The integration suite's test binary (build/debug-hooks/hanipo) links
 * tests/hooks/debughook.c in place of this file; the release binary keeps
 * these empty functions, so no hook can ever be reached in a deployed sensor.
 */
#include "debughook.h"

void hp_debug_hooks_install(struct event_base *base)
{
    (void)base;
}

void hp_debug_hooks_free(void)
{
}

void hp_debug_hook_started(void)
{
}
