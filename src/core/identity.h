/*
 * identity.h - the sensor's generated identity.
 *
 * Nothing that names a machine is fixed in the repository: host names (and,
 * as protocols need them, other per-sensor facts) are drawn at first start
 * from realistic patterns and kept in DATA_DIR/identity, so they stay the
 * same across restarts and differ between sensors.
 */
#ifndef HP_IDENTITY_H
#define HP_IDENTITY_H

#include <stddef.h>

/* Load DATA_DIR/identity, creating it on first start.  0 or -1 with err. */
int hp_identity_load(const char *data_dir, char *err, size_t errlen);
/* A value of the identity ("hostname", ...); NULL before hp_identity_load. */
const char *hp_identity_get(const char *key);
/* Add or change a fact and rewrite the file (when one was loaded), so that a
 * value drawn later (e.g. a personality's host name) stays the same across
 * restarts and the operator can see and edit it.  0, or -1 if the file
 * could not be written (the value is kept in memory). */
int hp_identity_set(const char *key, const char *value);

#endif
