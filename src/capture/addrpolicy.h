/*
 * addrpolicy.h - which addresses the downloader may connect to.
 *
 * hanipo fetches what attackers point at, so an attacker can point it at
 * anything: the operator's own network, the cloud metadata service, the
 * sensor itself.  Every connection the downloader opens (the first one,
 * every redirect, every FTP data connection, every TFTP socket) is checked
 * here at connect time, after DNS resolution, so neither a name that
 * resolves to 10.0.0.1 nor a redirect to 127.0.0.1 gets through.
 *
 * Refused unless an allow range of the configuration covers the address:
 *   IPv4  0/8 "this network", 10/8, 100.64/10 (carrier-grade NAT), 127/8,
 *         169.254/16 (link-local, cloud metadata), 172.16/12, 192.0.0/24,
 *         192.0.2/24, 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24,
 *         224/4 multicast, 240/4 reserved and broadcast
 *   IPv6  ::, ::1, fc00::/7 unique-local, fe80::/10 link-local, ff00::/8
 *         multicast, 2001:db8::/32, ::ffff:0:0:0/96 (SIIT-translated), and
 *         64:ff9b::/96, ::ffff:0:0/96 and 2002::/16 by the IPv4 address they embed
 *   and every address of the sensor's own interfaces (hp_addrpol_add_own).
 * The allow list ("[capture] allow", CIDR ranges) wins over all of these:
 * tests allow 127.0.0.1/32.
 */
#ifndef HP_ADDRPOLICY_H
#define HP_ADDRPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct hp_cidr {
    uint8_t addr[16];          /* IPv4 as ::ffff:a.b.c.d */
    unsigned bits;             /* prefix length over the 128-bit form */
};

struct hp_addrpol {
    struct hp_cidr *allow;
    size_t nallow;
    struct hp_cidr *own;       /* the sensor's addresses, /128 each */
    size_t nown;
};

/* Parse "127.0.0.1/32 10.0.0.0/8, ::1" (space or comma separated; a bare
 * address is a single host).  Returns 0, or -1 with a message in err. */
int hp_addrpol_parse(const char *list, struct hp_cidr **out, size_t *n, char *err, size_t errlen);

/* Whether the 128-bit address a (IPv4 as ::ffff:a.b.c.d) lies in c. */
bool hp_cidr_contains(const struct hp_cidr *c, const uint8_t a[16]);

/* Build a policy from the allow list (NULL: none).  Returns 0 / -1. */
int hp_addrpol_init(struct hp_addrpol *p, const char *allow, char *err, size_t errlen);
/* Add the addresses of every local interface (getifaddrs) as refused. */
void hp_addrpol_add_own(struct hp_addrpol *p);
void hp_addrpol_free(struct hp_addrpol *p);

/* May we connect to sa?  When refused, *why is a static reason
 * ("loopback", "private", "link-local", "multicast", "cgnat", "reserved",
 * "own-address", "unsupported-family"). */
bool hp_addrpol_allows(const struct hp_addrpol *p, const struct sockaddr *sa, socklen_t len,
                       const char **why);

/* The static label of an address of the deny tables above ("private",
 * "loopback", "link-local", "cgnat", "multicast", "reserved", "site-local"),
 * NULL for a public address: used by the GeoIP enrichment, which does not
 * look such addresses up.  'a' is the 128-bit form (IPv4 as ::ffff:a.b.c.d);
 * hp_addr_special takes text and says "invalid" when it is no address. */
const char *hp_addr_special16(const uint8_t a[16]);
const char *hp_addr_special(const char *ip);

#endif
