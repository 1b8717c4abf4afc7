/*
 * sandbox.h - seccomp allowlist and Landlock confinement (see sandbox.c).
 */
#ifndef HP_SANDBOX_H
#define HP_SANDBOX_H

#include <stddef.h>

struct hp_config;

enum hp_sandbox_mode {
    HP_SANDBOX_STRICT = 0,        /* Landlock + seccomp allowlist (default) */
    HP_SANDBOX_DENYLIST,          /* seccomp deny-list only */
    HP_SANDBOX_OFF,               /* no filter (no_new_privs and the user drop stay) */
};

/* "strict", "denylist" or "off"; 0 or -1. */
int hp_sandbox_parse(const char *s, enum hp_sandbox_mode *mode);
/* Landlock: call before any thread is started (strict mode only; best
 * effort on kernels without it).  0 or -1 with err. */
int hp_sandbox_fs(const struct hp_config *cfg, char *err, size_t errlen);
/* seccomp for every thread: call after root is dropped.  0 or -1 with err. */
int hp_sandbox_syscalls(const struct hp_config *cfg, char *err, size_t errlen);

#endif
