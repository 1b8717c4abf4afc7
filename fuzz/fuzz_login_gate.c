/*
 * fuzz_login_gate.c - libFuzzer harness for the per-source login gate
 * (src/proto/login_gate.c), as MySQL and PostgreSQL drive it.
 *
 * Input: byte 0 is accept_after (0..7); then records of [source byte,
 * user length, user, password length, password] (lengths one byte each,
 * cut at the input's end).  Sources are drawn from 600 addresses, more than
 * the gate remembers, so slots get recycled.  A shadow model per address
 * counts attempts; checks: REFUSE until the accept_after-th attempt of a
 * source (never with accept_after 0), then exactly one ACCEPT, then KNOWN
 * with the remembered user and password of that ACCEPT - unless the
 * source's slot was recycled, after which the model starts it over.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/login_gate.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define NSRC 600

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hp_login_gate gate;

struct model { uint64_t attempts; bool accepted; char user[64]; uint8_t pass[256]; size_t plen; };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct model m[NSRC];
    if (size < 1)
        return 0;
    uint64_t after = data[0] % 8;
    hp_login_gate_reset(&gate);
    memset(m, 0, sizeof(m));
    size_t i = 1;
    while (i < size) {
        unsigned src = (unsigned)data[i] * NSRC / 256;
        i++;
        if (i < size)
            src = (src + data[i] % 3) % NSRC;
        size_t ul = i < size ? data[i++] % 64 : 0;
        ul = ul < size - i ? ul : size - i;
        char user[64];
        for (size_t k = 0; k < ul; k++)
            user[k] = data[i + k] ? (char)data[i + k] : 'x';
        user[ul] = '\0';
        i += ul;
        size_t pl = i < size ? data[i++] : 0;
        pl = pl < size - i ? pl : size - i;
        const uint8_t *pass = data + i;
        i += pl;
        char ip[HP_IPSTR_LEN];
        snprintf(ip, sizeof(ip), "10.0.%u.%u", src / 256, src % 256);

        /* Was this source's slot recycled?  Then the gate forgot it. */
        bool present = false;
        for (size_t s = 0; s < HP_LOGIN_GATE_SRCS; s++)
            present |= strcmp(gate.src[s].ip, ip) == 0;
        if (!present)
            memset(&m[src], 0, sizeof(m[src]));

        const struct hp_login_src *prev = NULL;
        enum hp_login_verdict v = hp_login_gate_try(&gate, ip, after, user, pass, pl, &prev);
        CHECK(prev != NULL && strcmp(prev->ip, ip) == 0);
        struct model *e = &m[src];
        if (e->accepted) {
            CHECK(v == HP_LOGIN_KNOWN);
            CHECK(strcmp(prev->user, e->user) == 0);
            CHECK(prev->pass_known && prev->plen == e->plen && memcmp(prev->pass, e->pass, e->plen) == 0);
            continue;
        }
        e->attempts++;
        if (!after || e->attempts < after) {
            CHECK(v == HP_LOGIN_REFUSE);
            continue;
        }
        CHECK(v == HP_LOGIN_ACCEPT);
        e->accepted = true;
        snprintf(e->user, sizeof(e->user), "%s", user);
        memcpy(e->pass, pass, pl);
        e->plen = pl;
    }
    return 0;
}
