/*
 * login_gate.h - who gets in, per source address: the accept_after-th
 * attempt of a source succeeds and its user / password pair is remembered;
 * from then on that source is let in only with the same pair, like a real
 * server with one weak account (MySQL, PostgreSQL).
 *
 * Each module keeps its own gate (a static struct hp_login_gate): a source
 * that got into MySQL has not got into PostgreSQL.  A gate holds
 * HP_LOGIN_GATE_SRCS sources; when full, the one seen least recently is
 * forgotten (it starts counting again).  The memory is fixed: about
 * 700 KiB of zeroed static storage per gate (pages never touched stay
 * unallocated).
 *
 * What "the same pair" means after acceptance is the module's call (a
 * challenge-response client never sends its password in clear), so
 * hp_login_gate_try hands back the remembered pair for the module to
 * compare.
 */
#ifndef HP_LOGIN_GATE_H
#define HP_LOGIN_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "event.h"

#define HP_LOGIN_GATE_SRCS 512        /* sources remembered per gate */
#define HP_LOGIN_USER_MAX  256        /* bytes of a user name kept */
#define HP_LOGIN_PASS_MAX  1000       /* bytes of a password kept */

struct hp_login_src {
    char ip[HP_IPSTR_LEN];            /* "" when the slot is free */
    uint64_t attempts;                /* counted until accepted */
    bool accepted;
    bool pass_known;                  /* pass holds the accepted password */
    char user[HP_LOGIN_USER_MAX + 1];
    uint8_t pass[HP_LOGIN_PASS_MAX];
    size_t plen;
    int64_t last_ms;                  /* monotonic, for recycling */
};

struct hp_login_gate {
    struct hp_login_src src[HP_LOGIN_GATE_SRCS];
};

enum hp_login_verdict {
    HP_LOGIN_REFUSE,                  /* not yet the accept_after-th attempt (or accept_after 0) */
    HP_LOGIN_ACCEPT,                  /* this attempt is the one: the pair is now remembered */
    HP_LOGIN_KNOWN,                   /* accepted before: compare with *prev */
};

/* Forget every source (tests, fuzzers). */
void hp_login_gate_reset(struct hp_login_gate *g);

/*
 * One attempt from 'ip' as 'user' (a C string, cut to HP_LOGIN_USER_MAX)
 * with 'pass' (NULL when the password is not known in clear, as with a
 * hashed response; a password over HP_LOGIN_PASS_MAX is kept as unknown).
 * On HP_LOGIN_KNOWN, *prev is the source's record: the module decides
 * whether this attempt matches it.
 */
enum hp_login_verdict hp_login_gate_try(struct hp_login_gate *g, const char *ip, uint64_t accept_after,
                                        const char *user, const void *pass, size_t plen,
                                        const struct hp_login_src **prev);

#endif
