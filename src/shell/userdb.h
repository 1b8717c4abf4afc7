/*
 * userdb.h - which credentials the emulated system accepts.
 *
 * Cowrie's userdb format, so operators keep their files: one rule per line,
 *     user:x:password
 * where user and password may be '*' (anything), a password may start with
 * '!' (this password is refused), and either may be /regex/ or /regex/i
 * (PCRE2).  The first rule whose user and password both match decides; no
 * match refuses.  '#' starts a comment.
 *
 * The built-in default (no file configured) accepts root with any password
 * except a few that a scanner uses to detect honeypots which accept
 * everything, and refuses other users.  'accept_after N' additionally lets
 * the Nth attempt of a connection in, whatever it is (many bots only try
 * their next step after a success).
 */
#ifndef HP_USERDB_H
#define HP_USERDB_H

#include <stdbool.h>
#include <stddef.h>

struct hp_userdb;

/* path NULL or "": the built-in default rules. NULL on error ("FILE:LINE: ..." in err). */
struct hp_userdb *hp_userdb_load(const char *path, char *err, size_t errlen);
struct hp_userdb *hp_userdb_parse(const char *text, const char *name, char *err, size_t errlen);
void hp_userdb_free(struct hp_userdb *db);

/* Whether user/password (peer bytes, any content; lengths given) may log in. */
bool hp_userdb_check(const struct hp_userdb *db, const char *user, size_t ulen,
                     const char *pass, size_t plen);

#endif
