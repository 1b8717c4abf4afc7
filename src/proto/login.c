/*
 * login.c - one login attempt as the password-taking modules log it (see
 * login.h).  The event layout is documented in docs/events.md.
 */
#include "login.h"
#include "intel/knowledge.h"

bool hp_login_nth(uint64_t attempt, uint64_t accept_after)
{
    return accept_after && attempt >= accept_after;
}

void hp_login_ev_begin(struct hp_ev *ev, const struct hp_evctx *ctx, bool ok, const struct hp_login *l)
{
    hp_ev_begin(ev, ctx, ok ? "login.success" : "login.failed");
    hp_ev_bytes(ev, "username", l->user, l->ulen);
    hp_ev_bytes(ev, "password", l->pass, l->plen);
    hp_ev_str(ev, "method", l->method);
    hp_ev_uint(ev, "attempt", l->attempt);
}

int hp_login_ev_emit(struct hp_ev *ev, const struct hp_login *l)
{
    hp_knowledge_ev_cred(ev, l->user, l->ulen, l->pass, l->plen);
    return hp_ev_emit(ev);
}
