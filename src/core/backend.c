/*
 * backend.c - backend keys, refusal rules, per-source budget and the
 * non-blocking connect of high-interaction services.  See backend.h.
 *
 * The refusal tables (own interface addresses, dashboard address,
 * management ranges) are built once per configuration load, before
 * privileges are dropped, and kept in one static: the connect-time check
 * then needs no system call the sandbox might refuse.  The address classes
 * come from capture/addrpolicy.c (one table of special ranges for the
 * downloader, GeoIP and this), so private ranges are judged the same
 * everywhere; here only "private" and "cgnat" are allowed.
 *
 * The budget is a fixed open-addressing table (service, source, day) ->
 * count: bounded memory whatever the number of sources; when it is full,
 * new sources are refused proxying (they fall back), never admitted blind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "backend.h"
#include "config.h"
#include "util.h"
#include "capture/addrpolicy.h"

/* ---- refusal tables ----------------------------------------------------------- */

static struct {
    struct hp_cidr *own;          /* interface addresses at load */
    size_t nown;
    struct hp_cidr *mgmt;         /* [sensor] management */
    size_t nmgmt;
    uint8_t dash[16];             /* dashboard address (when enabled and not a wildcard) */
    bool have_dash;
} R;

static void sa_to16(const struct sockaddr *sa, uint8_t a[16])
{
    memset(a, 0, 16);
    if (sa->sa_family == AF_INET) {
        a[10] = a[11] = 0xff;
        memcpy(a + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else {
        memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    }
}

static void tables_own(void)
{
    struct ifaddrs *ifs = NULL;
    free(R.own);
    R.own = NULL;
    R.nown = 0;
    if (getifaddrs(&ifs) != 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
            continue;
        struct hp_cidr *g = realloc(R.own, (R.nown + 1) * sizeof(*R.own));
        if (!g)
            break;
        R.own = g;
        sa_to16(i->ifa_addr, R.own[R.nown].addr);
        R.own[R.nown].bits = 128;
        R.nown++;
    }
    freeifaddrs(ifs);
}

bool hp_backend_addr_allowed(const struct sockaddr *sa, socklen_t len, const char **why)
{
    uint8_t a[16];
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    if (!((sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) ||
          (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)))) {
        *why = "unsupported-family";
        return false;
    }
    sa_to16(sa, a);
    static const uint8_t zero[16];
    static const uint8_t v4zero[16] = { [10] = 0xff, [11] = 0xff };
    if (memcmp(a, zero, 16) == 0 || memcmp(a, v4zero, 16) == 0) {
        *why = "unspecified";            /* connect(0.0.0.0) reaches the sensor itself */
        return false;
    }
    const char *cls = hp_addr_special16(a);
    if (cls && strcmp(cls, "private") != 0 && strcmp(cls, "cgnat") != 0) {
        *why = cls;                      /* loopback, link-local, multicast, site-local, reserved */
        return false;
    }
    for (size_t i = 0; i < R.nown; i++)
        if (hp_cidr_contains(&R.own[i], a)) {
            *why = "own-address";
            return false;
        }
    if (R.have_dash && memcmp(a, R.dash, 16) == 0) {
        *why = "dashboard";
        return false;
    }
    for (size_t i = 0; i < R.nmgmt; i++)
        if (hp_cidr_contains(&R.mgmt[i], a)) {
            *why = "management";
            return false;
        }
    return true;
}

/* ---- keys ------------------------------------------------------------------------ */

static const char *const backend_keys[] = {
    "backend", "backend_timeout", "backend_budget", "backend_user", "backend_password",
    "backend_max_bytes", "backend_xff", NULL,
};

bool hp_backend_is_key(const char *key)
{
    for (const char *const *k = backend_keys; *k; k++)
        if (strcmp(*k, key) == 0)
            return true;
    return false;
}

int hp_backend_parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
                          char *err, size_t errlen)
{
    char host[256];
    const char *colon, *hs = spec;
    size_t hl;
    if (spec[0] == '[') {
        const char *rb = strchr(spec, ']');
        if (!rb || rb[1] != ':') {
            snprintf(err, errlen, "'%s': expected [IPV6]:PORT", spec);
            return -1;
        }
        hs = spec + 1;
        hl = (size_t)(rb - hs);
        colon = rb + 1;
    } else {
        colon = strrchr(spec, ':');
        if (!colon || strchr(spec, ':') != colon) {
            snprintf(err, errlen, "'%s': expected HOST:PORT (an IPv6 address in brackets)", spec);
            return -1;
        }
        hl = (size_t)(colon - spec);
    }
    uint64_t port;
    if (hl == 0 || hl >= sizeof(host) || hp_parse_u64(colon + 1, 1, 65535, &port) != 0) {
        snprintf(err, errlen, "'%s': expected HOST:PORT with a port from 1 to 65535", spec);
        return -1;
    }
    memcpy(host, hs, hl);
    host[hl] = '\0';
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res = NULL;
    hints.ai_family = spec[0] == '[' ? AF_INET6 : AF_UNSPEC;
#ifdef HP_FUZZING
    hints.ai_flags |= AI_NUMERICHOST;              /* no DNS from a fuzzer (fuzz_config, fuzz_backend) */
#endif
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "'%s': cannot resolve '%s': %s", spec, host, gai_strerror(rc));
        return -1;
    }
    memset(ss, 0, sizeof(*ss));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static struct hp_backend_cfg *backend_get(struct hp_service_cfg *svc)
{
    if (!svc->backend) {
        svc->backend = hp_xcalloc(1, sizeof(*svc->backend));
        svc->backend->connect_timeout_ms = HP_BACKEND_DEFAULT_TIMEOUT_MS;
        svc->backend->budget = HP_BACKEND_DEFAULT_BUDGET;
        svc->backend->max_bytes = HP_BACKEND_DEFAULT_MAX_BYTES;
    }
    return svc->backend;
}

int hp_backend_key(struct hp_service_cfg *svc, const char *k, const char *v, int line,
                   char *err, size_t errlen)
{
    struct hp_backend_cfg *b = backend_get(svc);
    if (strcmp(k, "backend") == 0) {
        if (hp_backend_parse_addr(v, &b->addr, &b->addrlen, err, errlen) != 0)
            return -1;
        free(b->spec);
        b->spec = hp_xstrdup(v);
        b->line = line;
    } else if (strcmp(k, "backend_timeout") == 0) {
        if (hp_parse_duration_ms(v, &b->connect_timeout_ms) != 0 || b->connect_timeout_ms < 10 ||
            b->connect_timeout_ms > 60000) {
            snprintf(err, errlen, "backend_timeout: expected a duration from 10ms to 60s, got '%s'", v);
            return -1;
        }
    } else if (strcmp(k, "backend_budget") == 0) {
        if (hp_parse_u64(v, 0, 1000000, &b->budget) != 0) {
            snprintf(err, errlen, "backend_budget: expected a whole number from 0 to 1000000, got '%s'", v);
            return -1;
        }
    } else if (strcmp(k, "backend_max_bytes") == 0) {
        if (hp_parse_size(v, &b->max_bytes) != 0 || b->max_bytes > (1ull << 30)) {
            snprintf(err, errlen, "backend_max_bytes: expected a size up to 1G such as 64K or 1M, got '%s'", v);
            return -1;
        }
    } else if (strcmp(k, "backend_xff") == 0) {
        int x;
        if (hp_parse_bool(v, &x) != 0) {
            snprintf(err, errlen, "backend_xff: expected true or false, got '%s'", v);
            return -1;
        }
        b->xff = x;
    } else if (strcmp(k, "backend_user") == 0 || strcmp(k, "backend_password") == 0) {
        char **dst = k[8] == 'u' ? &b->user : &b->password;
        if (strlen(v) > 255) {
            snprintf(err, errlen, "%s: at most 255 characters", k);
            return -1;
        }
        free(*dst);
        *dst = hp_xstrdup(v);
    } else {
        snprintf(err, errlen, "unknown backend key '%s'", k);
        return -1;
    }
    return 0;
}

void hp_backend_free(struct hp_backend_cfg *b)
{
    if (!b)
        return;
    free(b->spec);
    free(b->user);
    if (b->password)
        memset(b->password, 0, strlen(b->password));
    free(b->password);
    free(b);
}

int hp_backend_finish(struct hp_config *cfg, char *err, size_t errlen, int *line)
{
    char msg[200];
    free(R.mgmt);
    R.mgmt = NULL;
    R.nmgmt = 0;
    R.have_dash = false;
    if (cfg->management && hp_addrpol_parse(cfg->management, &R.mgmt, &R.nmgmt, msg, sizeof(msg)) != 0) {
        snprintf(err, errlen, "management: %s", msg);
        *line = 0;
        return -1;
    }
    bool any = false;
    for (size_t i = 0; i < cfg->nservices; i++)
        any |= cfg->services[i].backend != NULL;
    if (!any)
        return 0;
    if (cfg->dashboard.enabled) {
        struct sockaddr_storage ss;
        socklen_t l;
        char spec[300];
        snprintf(spec, sizeof(spec), strchr(cfg->dashboard.bind, ':') ? "[%s]:1" : "%s:1", cfg->dashboard.bind);
        if (hp_backend_parse_addr(spec, &ss, &l, msg, sizeof(msg)) == 0) {
            sa_to16((struct sockaddr *)&ss, R.dash);
            R.have_dash = true;
        }
    }
    tables_own();
    for (size_t i = 0; i < cfg->nservices; i++) {
        struct hp_service_cfg *s = &cfg->services[i];
        const char *why;
        if (!s->backend)
            continue;
        if (!s->backend->spec) {
            *line = s->line;
            snprintf(err, errlen, "[service %s]: backend_* keys without 'backend = HOST:PORT'", s->name);
            return -1;
        }
        if (!s->ntcp) {
            *line = s->backend->line;
            snprintf(err, errlen, "[service %s]: backend needs tcp_ports (UDP is never proxied)", s->name);
            return -1;
        }
        if (!hp_backend_addr_allowed((struct sockaddr *)&s->backend->addr, s->backend->addrlen, &why)) {
            *line = s->backend->line;
            snprintf(err, errlen, "[service %s]: backend %s refused: %s address (hanipo never proxies to "
                     "loopback, link-local, multicast, reserved, its own, the dashboard's or management "
                     "addresses)", s->name, s->backend->spec, why);
            return -1;
        }
    }
    return 0;
}

/* ---- budget ------------------------------------------------------------------------ */

#define BUDGET_SLOTS 8192            /* sources tracked per day, all services */
#define BUDGET_PROBE 32

struct budget_ent {
    uint64_t svc;                 /* hash of the service name; 0 = free */
    uint8_t addr[16];
    uint32_t day;
    uint32_t count;
};
static struct budget_ent budget[BUDGET_SLOTS];

void hp_backend_reset_budgets(void)
{
    memset(budget, 0, sizeof(budget));
}

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* Count one session; false when the budget is spent (or the table has no room). */
static bool budget_take(const char *svc, const uint8_t addr[16], uint64_t limit)
{
    uint64_t sh = fnv(svc, strlen(svc), 14695981039346656037ull) | 1;
    uint32_t day = (uint32_t)(hp_now_us() / 86400000000ll);
    uint64_t h = fnv(addr, 16, sh);
    struct budget_ent *freeslot = NULL;
    for (unsigned i = 0; i < BUDGET_PROBE; i++) {
        struct budget_ent *e = &budget[(h + i) % BUDGET_SLOTS];
        if (e->svc == sh && e->day == day && memcmp(e->addr, addr, 16) == 0) {
            if (e->count >= limit)
                return false;
            e->count++;
            return true;
        }
        if (!freeslot && (e->svc == 0 || e->day != day))
            freeslot = e;                   /* yesterday's entries are free again */
    }
    if (!freeslot)
        return false;
    freeslot->svc = sh;
    memcpy(freeslot->addr, addr, 16);
    freeslot->day = day;
    freeslot->count = 1;
    return limit >= 1;
}

bool hp_backend_admit(const struct hp_service_cfg *svc, const struct sockaddr_storage *src, const char **why)
{
    const struct hp_backend_cfg *b = svc->backend;
    *why = NULL;
    if (!b || !b->spec) {
        *why = "no-backend";
        return false;
    }
    const char *r;
    if (!hp_backend_addr_allowed((const struct sockaddr *)&b->addr, b->addrlen, &r)) {
        *why = "refused";
        return false;
    }
    if (b->budget) {
        uint8_t a[16];
        sa_to16((const struct sockaddr *)src, a);
        if (!budget_take(svc->name, a, b->budget)) {
            *why = "budget";
            return false;
        }
    }
    return true;
}

int hp_backend_connect(const struct hp_backend_cfg *b, const char **why)
{
    const char *r;
    *why = NULL;
    if (!hp_backend_addr_allowed((const struct sockaddr *)&b->addr, b->addrlen, &r)) {
        *why = "refused";
        errno = EACCES;
        return -1;
    }
    int fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *why = "socket";
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)&b->addr, b->addrlen) != 0 && errno != EINPROGRESS) {
        int e = errno;
        *why = e == ECONNREFUSED ? "connect-refused" : "connect-error";
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}
