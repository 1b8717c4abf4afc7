/*
 * privs.h - dropping root and locking the process down after start-up.
 */
#ifndef HP_PRIVS_H
#define HP_PRIVS_H

#include <stddef.h>

/* Create the data directory if needed; check that 'user' exists when root. */
int hp_privs_prepare_dir(const char *dir, const char *user, char *err, size_t errlen);
/* When root: hand the data directory (and the files opened in it so far) to
 * 'user', then switch to 'user' for good.  Always: set no_new_privs.  0 or -1. */
int hp_privs_drop(const char *user, const char *data_dir, char *err, size_t errlen);

#endif
