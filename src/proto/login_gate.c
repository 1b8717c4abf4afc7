/*
 * login_gate.c - per-source login gate shared by MySQL and PostgreSQL (see
 * login_gate.h).  A linear scan of 512 slots per login attempt: attempts
 * are rare next to packets, and the scan also finds the slot to recycle.
 */
#include <stdio.h>
#include <string.h>
#include "login_gate.h"
#include "util.h"

void hp_login_gate_reset(struct hp_login_gate *g)
{
    memset(g, 0, sizeof(*g));
}

/* The source's slot, or the least recently seen one, cleared for it. */
static struct hp_login_src *gate_slot(struct hp_login_gate *g, const char *ip)
{
    struct hp_login_src *old = &g->src[0];
    for (size_t i = 0; i < HP_LOGIN_GATE_SRCS; i++) {
        if (g->src[i].ip[0] && strcmp(g->src[i].ip, ip) == 0)
            return &g->src[i];
        if (g->src[i].last_ms < old->last_ms)
            old = &g->src[i];
    }
    memset(old, 0, sizeof(*old));
    snprintf(old->ip, sizeof(old->ip), "%s", ip);
    return old;
}

enum hp_login_verdict hp_login_gate_try(struct hp_login_gate *g, const char *ip, uint64_t accept_after,
                                        const char *user, const void *pass, size_t plen,
                                        const struct hp_login_src **prev)
{
    struct hp_login_src *e = gate_slot(g, ip);
    e->last_ms = hp_mono_ms();
    *prev = e;
    if (e->accepted)
        return HP_LOGIN_KNOWN;
    e->attempts++;
    if (!accept_after || e->attempts < accept_after)
        return HP_LOGIN_REFUSE;
    e->accepted = true;
    snprintf(e->user, sizeof(e->user), "%s", user);
    e->pass_known = pass && plen <= HP_LOGIN_PASS_MAX;
    if (e->pass_known) {
        memcpy(e->pass, pass, plen);
        e->plen = plen;
    }
    return HP_LOGIN_ACCEPT;
}
