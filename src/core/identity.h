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

/*
 * The version of a module's product (FTP server, MTA, ...), kept in the
 * identity beside the product's name as the facts server_key and
 * version_key (e.g. ftp_server, ftp_version), so that a sensor keeps
 * presenting the same software across restarts.
 *
 * 'product' is the name of the product in use; 'kept' the identity's
 * server_key value when the module chose the product from it, NULL when
 * the module drew the product just now.  out (outlen bytes) is the
 * version: when it already holds one (configured) it is left as is.
 *   - the kept product: the kept version (when it fits), else a random one
 *     of 'versions' (NULL-terminated, not empty), written to the identity;
 *   - a product drawn now: a random version; both facts are written;
 *   - a product other than the kept one (forced by the configuration): a
 *     version picked stably from the host name, so that restarts agree
 *     without the identity being rewritten.
 */
void hp_identity_product(const char *server_key, const char *version_key, const char *product, const char *kept,
                         const char *const *versions, char *out, size_t outlen);

#endif
