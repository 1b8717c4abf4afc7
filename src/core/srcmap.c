/*
 * srcmap.c - per-source connection counts.  See srcmap.h.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "srcmap.h"
#include "util.h"

static struct hp_srcent **buckets;
static size_t nbuckets;
static size_t nentries;
static uint64_t hash_key;

static size_t bucket_of(const uint8_t key[16])
{
    /* FNV-1a with a per-process random basis: sources cannot aim for one chain. */
    uint64_t h = 1469598103934665603ull ^ hash_key;
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29)) & (nbuckets - 1);
}

static void grow(void)
{
    size_t nn = nbuckets ? nbuckets * 2 : 1024;
    struct hp_srcent **nb = hp_xcalloc(nn, sizeof(*nb));
    size_t old = nbuckets;
    struct hp_srcent **ob = buckets;
    buckets = nb;
    nbuckets = nn;
    for (size_t i = 0; i < old; i++) {
        for (struct hp_srcent *e = ob[i], *n; e; e = n) {
            n = e->next;
            size_t b = bucket_of(e->addr);
            e->next = buckets[b];
            buckets[b] = e;
        }
    }
    free(ob);
}

void hp_srcmap_key(const struct sockaddr_storage *ss, uint8_t key[16])
{
    memset(key, 0, 16);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &in->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
    }
}

struct hp_srcent *hp_srcmap_get(const uint8_t key[16])
{
    if (!nbuckets) {
        hash_key = hp_random_u64();
        grow();
    }
    size_t b = bucket_of(key);
    for (struct hp_srcent *e = buckets[b]; e; e = e->next)
        if (memcmp(e->addr, key, 16) == 0)
            return e;
    if (nentries >= nbuckets)
        grow(), b = bucket_of(key);
    struct hp_srcent *e = hp_xcalloc(1, sizeof(*e));
    memcpy(e->addr, key, 16);
    e->next = buckets[b];
    buckets[b] = e;
    nentries++;
    return e;
}

void hp_srcmap_put(struct hp_srcent *e)
{
    if (e->active || e->refused)
        return;
    size_t b = bucket_of(e->addr);
    for (struct hp_srcent **pp = &buckets[b]; *pp; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            free(e);
            nentries--;
            return;
        }
    }
}

void hp_srcmap_each_refused(void (*cb)(struct hp_srcent *e, void *arg), void *arg)
{
    for (size_t i = 0; i < nbuckets; i++) {
        for (struct hp_srcent *e = buckets[i], *n; e; e = n) {
            n = e->next;
            if (e->refused) {
                cb(e, arg);
                hp_srcmap_put(e);
            }
        }
    }
}

size_t hp_srcmap_size(void)
{
    return nentries;
}
