/*
 * srcmap.h - live connections per source address, for the per-source cap.
 *
 * A small chained hash table keyed by the 16-byte address (IPv4 as
 * v4-mapped).  An entry exists while its source has live connections or
 * refusals not yet reported; so the table is bounded by the global
 * connection cap plus the sources refused in one reporting interval.
 */
#ifndef HP_SRCMAP_H
#define HP_SRCMAP_H

#include <stdint.h>
#include <sys/socket.h>

struct hp_srcent {
    uint8_t addr[16];
    uint32_t active;
    uint64_t refused;         /* refusals not yet reported */
    struct hp_srcent *next;
};

/* Canonical 16-byte key for a socket address (IPv4 -> ::ffff:a.b.c.d). */
void hp_srcmap_key(const struct sockaddr_storage *ss, uint8_t key[16]);
struct hp_srcent *hp_srcmap_get(const uint8_t key[16]);      /* creates */
void hp_srcmap_put(struct hp_srcent *e);                     /* frees when idle */
/* Visit entries with unreported refusals; cb may clear e->refused. */
void hp_srcmap_each_refused(void (*cb)(struct hp_srcent *e, void *arg), void *arg);
size_t hp_srcmap_size(void);

#endif
