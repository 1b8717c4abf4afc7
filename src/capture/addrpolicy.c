/*
 * addrpolicy.c - connect-time address checks for the downloader (see
 * addrpolicy.h).
 *
 * Everything is compared in the 128-bit IPv6 form, IPv4 mapped to
 * ::ffff:a.b.c.d, so one table serves both families.  IPv6 forms that
 * carry an IPv4 address (mapped, NAT64 64:ff9b::/96, 6to4 2002::/16) are
 * judged by the IPv4 address inside: [::ffff:127.0.0.1] is loopback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addrpolicy.h"

struct deny_range {
    const char *cidr;
    const char *why;
};

static const struct deny_range deny_v4[] = {
    { "0.0.0.0/8", "reserved" },        { "10.0.0.0/8", "private" },
    { "100.64.0.0/10", "cgnat" },       { "127.0.0.0/8", "loopback" },
    { "169.254.0.0/16", "link-local" }, { "172.16.0.0/12", "private" },
    { "192.0.0.0/24", "reserved" },     { "192.0.2.0/24", "reserved" },
    { "192.168.0.0/16", "private" },    { "198.18.0.0/15", "reserved" },
    { "198.51.100.0/24", "reserved" },  { "203.0.113.0/24", "reserved" },
    { "224.0.0.0/4", "multicast" },     { "240.0.0.0/4", "reserved" },
};

static const struct deny_range deny_v6[] = {
    { "::/128", "reserved" },           { "::1/128", "loopback" },
    { "fc00::/7", "private" },          { "fe80::/10", "link-local" },
    { "fec0::/10", "site-local" },      { "ff00::/8", "multicast" },
    { "2001:db8::/32", "reserved" },    { "100::/64", "reserved" },
    { "2001::/32", "reserved" },        /* Teredo: a tunnel to an address we cannot judge */
    { "64:ff9b:1::/48", "reserved" },   /* local-use NAT64 */
    { "::ffff:0:0:0/96", "reserved" },  /* SIIT IPv4-translated (::ffff:0:0/96, mapped, is judged as IPv4) */
    { "::/96", "reserved" },            /* IPv4-compatible (deprecated) */
};

static void v4_to_16(const void *v4, uint8_t out[16])
{
    memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    memcpy(out + 12, v4, 4);
}

bool hp_cidr_contains(const struct hp_cidr *c, const uint8_t a[16])
{
    unsigned full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(a, c->addr, full) != 0)
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (c->addr[full] & mask);
}

/* One "ADDR[/BITS]" token. */
static int parse_one(const char *tok, struct hp_cidr *c)
{
    char buf[64];
    size_t n = strlen(tok);
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, tok, n + 1);
    char *slash = strchr(buf, '/');
    long bits = -1;
    if (slash) {
        *slash = '\0';
        char *end;
        errno = 0;
        bits = strtol(slash + 1, &end, 10);
        if (errno || end == slash + 1 || *end || bits < 0)
            return -1;
    }
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, buf, &a4) == 1) {
        if (bits > 32)
            return -1;
        v4_to_16(&a4, c->addr);
        c->bits = 96 + (unsigned)(bits < 0 ? 32 : bits);
    } else if (inet_pton(AF_INET6, buf, &a6) == 1) {
        if (bits > 128)
            return -1;
        memcpy(c->addr, &a6, 16);
        c->bits = (unsigned)(bits < 0 ? 128 : bits);
    } else {
        return -1;
    }
    return 0;
}

int hp_addrpol_parse(const char *list, struct hp_cidr **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (!list)
        return 0;
    char *copy = strdup(list);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
        struct hp_cidr c;
        if (parse_one(tok, &c) != 0) {
            snprintf(err, errlen, "'%s' is not an address or CIDR range", tok);
            free(copy);
            free(*out);
            *out = NULL;
            *n = 0;
            return -1;
        }
        struct hp_cidr *grown = realloc(*out, (*n + 1) * sizeof(**out));
        if (!grown) {
            snprintf(err, errlen, "out of memory");
            free(copy);
            return -1;
        }
        *out = grown;
        (*out)[(*n)++] = c;
    }
    free(copy);
    return 0;
}

int hp_addrpol_init(struct hp_addrpol *p, const char *allow, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    return hp_addrpol_parse(allow, &p->allow, &p->nallow, err, errlen);
}

static void add_own(struct hp_addrpol *p, const uint8_t a[16])
{
    struct hp_cidr *grown = realloc(p->own, (p->nown + 1) * sizeof(*p->own));
    if (!grown)
        return;
    p->own = grown;
    memcpy(p->own[p->nown].addr, a, 16);
    p->own[p->nown].bits = 128;
    p->nown++;
}

void hp_addrpol_add_own(struct hp_addrpol *p)
{
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        uint8_t a[16];
        if (!i->ifa_addr)
            continue;
        if (i->ifa_addr->sa_family == AF_INET)
            v4_to_16(&((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, a);
        else if (i->ifa_addr->sa_family == AF_INET6)
            memcpy(a, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, 16);
        else
            continue;
        add_own(p, a);
    }
    freeifaddrs(ifs);
}

void hp_addrpol_free(struct hp_addrpol *p)
{
    free(p->allow);
    free(p->own);
    memset(p, 0, sizeof(*p));
}

/* The tables above as ranges, parsed once: every event's source is judged
 * against them (geo.c), and a public address is tested against all. */
#define DENY_V4_N (sizeof(deny_v4) / sizeof(deny_v4[0]))
#define DENY_V6_N (sizeof(deny_v6) / sizeof(deny_v6[0]))
static struct hp_cidr deny_v4_cidr[DENY_V4_N], deny_v6_cidr[DENY_V6_N];
static pthread_once_t deny_once = PTHREAD_ONCE_INIT;

static void deny_parse(void)
{
    for (size_t i = 0; i < DENY_V4_N; i++)
        if (parse_one(deny_v4[i].cidr, &deny_v4_cidr[i]) != 0)
            abort();                         /* a typo in the table above */
    for (size_t i = 0; i < DENY_V6_N; i++)
        if (parse_one(deny_v6[i].cidr, &deny_v6_cidr[i]) != 0)
            abort();
}

/* The address a stands for: itself, or the IPv4 address (as ::ffff:a.b.c.d,
 * in v4) that a mapped, NAT64 or 6to4 form carries.  *is_v4 says which. */
static const uint8_t *judged_form(const uint8_t a[16], uint8_t v4[16], bool *is_v4)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
    *is_v4 = true;
    if (memcmp(a, mapped, 12) == 0)
        return a;
    if (memcmp(a, nat64, 12) == 0) {
        v4_to_16(a + 12, v4);
        return v4;
    }
    if (a[0] == 0x20 && a[1] == 0x02) {
        v4_to_16(a + 2, v4);                 /* 6to4: 2002:AABB:CCDD:: */
        return v4;
    }
    *is_v4 = false;
    return a;
}

static const char *deny_reason(const uint8_t a[16])
{
    uint8_t v4[16];
    bool is_v4;
    const uint8_t *probe = judged_form(a, v4, &is_v4);
    pthread_once(&deny_once, deny_parse);
    const struct deny_range *t = is_v4 ? deny_v4 : deny_v6;
    const struct hp_cidr *c = is_v4 ? deny_v4_cidr : deny_v6_cidr;
    size_t n = is_v4 ? DENY_V4_N : DENY_V6_N;
    for (size_t i = 0; i < n; i++)
        if (hp_cidr_contains(&c[i], probe))
            return t[i].why;
    return NULL;
}

const char *hp_addr_special16(const uint8_t a[16])
{
    return deny_reason(a);
}

const char *hp_addr_special(const char *ip)
{
    struct hp_cidr c;
    if (!ip || strchr(ip, '/') || parse_one(ip, &c) != 0)
        return "invalid";
    return deny_reason(c.addr);
}

bool hp_addrpol_allows(const struct hp_addrpol *p, const struct sockaddr *sa, socklen_t len,
                       const char **why)
{
    uint8_t a[16];
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        v4_to_16(&((const struct sockaddr_in *)(const void *)sa)->sin_addr, a);
    } else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    } else {
        *why = "unsupported-family";
        return false;
    }
    for (size_t i = 0; i < p->nallow; i++)
        if (hp_cidr_contains(&p->allow[i], a))
            return true;
    /* the sensor itself, also behind a NAT64 or 6to4 spelling of its IPv4 address */
    uint8_t v4[16];
    bool is_v4;
    const uint8_t *inner = judged_form(a, v4, &is_v4);
    for (size_t i = 0; i < p->nown; i++)
        if (hp_cidr_contains(&p->own[i], a) || hp_cidr_contains(&p->own[i], inner)) {
            *why = "own-address";
            return false;
        }
    *why = deny_reason(a);
    return *why == NULL;
}
