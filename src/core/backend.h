/*
 * backend.h - high-interaction mode: a real service behind a hanipo service.
 *
 * Any [service X] section may name a backend ("backend = HOST:PORT").  The
 * core parses the backend keys itself (like bind or tcp_ports), so protocol
 * modules never see them, and keeps them in svc->backend (NULL when the
 * service has no backend).  With a backend, the service proxies: the TCP
 * relay (relay.c) for most protocols, the HTTP engine forwards requests
 * after logging them, SSH opens its own session to the backend.
 *
 * Refusal: hanipo never proxies to loopback, unspecified, link-local (cloud
 * metadata), multicast or reserved addresses, to an address of the sensor's
 * own interfaces, to the dashboard's address, or into "[sensor] management"
 * (the operator's management networks).  Private ranges are allowed: that is
 * where backends live.  The check runs at config load (the sensor refuses to
 * start) and again before every connect.
 *
 * Budget: a source gets at most backend_budget proxied sessions per service
 * and UTC day; past that, and whenever the backend cannot be reached, the
 * service falls back to its own low-interaction module.
 */
#ifndef HP_BACKEND_H
#define HP_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct hp_service_cfg;
struct hp_config;

#define HP_BACKEND_DEFAULT_TIMEOUT_MS 2000
#define HP_BACKEND_DEFAULT_BUDGET 50
#define HP_BACKEND_DEFAULT_MAX_BYTES (1024 * 1024)

struct hp_backend_cfg {
    char *spec;                       /* as written: "10.0.0.5:80", "[fd00::5]:22", "db.lan:3306" */
    struct sockaddr_storage addr;     /* resolved once at load */
    socklen_t addrlen;
    uint64_t connect_timeout_ms;      /* backend_timeout */
    uint64_t budget;                  /* proxied sessions per source, service and day; 0 unlimited */
    uint64_t max_bytes;               /* transcript bytes recorded per session (both directions) */
    char *user, *password;            /* backend_user / backend_password (SSH) */
    bool xff;                         /* backend_xff: HTTP adds X-Forwarded-For */
    int line;                         /* of the backend key, for messages */
};

/* Config parsing (config.c): a backend* key of a service.  Returns 0, or -1
 * with a message (without FILE:LINE) in err. */
int hp_backend_key(struct hp_service_cfg *svc, const char *key, const char *value, int line,
                   char *err, size_t errlen);
/* Is key one of the backend keys? */
bool hp_backend_is_key(const char *key);
/* Whole-file check once every section is read: backend keys without a
 * backend, and the refusal rules (management, dashboard, own addresses).
 * Also installs the refusal tables used at connect time.  Returns 0 or -1
 * with "message" in err and the offending line in *line. */
int hp_backend_finish(struct hp_config *cfg, char *err, size_t errlen, int *line);
void hp_backend_free(struct hp_backend_cfg *b);

/* Parse "HOST:PORT" / "[V6]:PORT" (a name is resolved with getaddrinfo). */
int hp_backend_parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
                          char *err, size_t errlen);
/* The refusal rules alone; *why is a static reason ("loopback", "link-local",
 * "multicast", "unspecified", "reserved", "own-address", "dashboard",
 * "management"). */
bool hp_backend_addr_allowed(const struct sockaddr *sa, socklen_t len, const char **why);

/* budget + refusal check for a new session from src; false -> fall back, *why static text
 * ("budget", "refused:<reason>" forms are static strings too).  Counts the session when true. */
bool hp_backend_admit(const struct hp_service_cfg *svc, const struct sockaddr_storage *src, const char **why);
/* non-blocking connect started; fd or -1 (errno); refusal re-checked */
int hp_backend_connect(const struct hp_backend_cfg *b, const char **why);

/* Forget all budget counters (tests). */
void hp_backend_reset_budgets(void);

#endif
