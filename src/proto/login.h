/*
 * login.h - one login attempt as the password-taking modules log it.
 *
 * FTP, SMTP, MSSQL, Redis, telnet and SSH all decide an attempt the same
 * way (the accept_after-th attempt of a connection gets in, 0: never) and
 * log it as the same event: login.success or login.failed with username,
 * password, method and attempt, then the module's own fields, then the
 * known-credential fields (hp_knowledge_ev_cred).  This is that code once,
 * so the shared fields cannot drift apart between modules.
 *
 * Usage:
 *     struct hp_login l = { user, ulen, pass, plen, "plain", s->attempts };
 *     struct hp_ev ev;
 *     hp_login_ev_begin(&ev, ctx, ok, &l);
 *     hp_ev_str(&ev, "server", ...);          (module fields)
 *     hp_login_ev_emit(&ev, &l);
 */
#ifndef HP_LOGIN_H
#define HP_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "event.h"

struct hp_login {
    const void *user;          /* peer bytes, need not be NUL-terminated */
    size_t ulen;
    const void *pass;
    size_t plen;
    const char *method;        /* "plain", "sql", ... */
    uint64_t attempt;          /* 1-based, per connection */
};

/* Whether the attempt-th attempt gets in by the accept_after rule: from
 * the accept_after-th on, never when accept_after is 0. */
bool hp_login_nth(uint64_t attempt, uint64_t accept_after);

/* Begin login.success (ok) or login.failed with the shared fields:
 * username, password (bytes: a "_b64" companion when not UTF-8), method,
 * attempt.  The caller may add its own fields, then calls hp_login_ev_emit. */
void hp_login_ev_begin(struct hp_ev *ev, const struct hp_evctx *ctx, bool ok, const struct hp_login *l);

/* Add the known-credential fields (cred_device, cred_botnets, cred_match)
 * when the pair is in the knowledge base, and emit: hp_ev_emit's result. */
int hp_login_ev_emit(struct hp_ev *ev, const struct hp_login *l);

#endif
