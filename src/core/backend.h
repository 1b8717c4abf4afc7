/*
 * backend.h - SHIM (branch sshproxy) of the proxy branch's backend API, so
 * the SSH proxy mode builds before that branch is merged.  Replaced by the
 * real file at merge: only the declarations below are relied upon.
 */
#ifndef HP_BACKEND_H
#define HP_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct hp_service_cfg;

struct hp_backend_cfg {
    char *spec;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    uint64_t connect_timeout_ms, budget, max_bytes;
    char *user, *password;
};

bool hp_backend_admit(const struct hp_service_cfg *svc, const struct sockaddr_storage *src, const char **why);
int hp_backend_connect(const struct hp_backend_cfg *b, const char **why);
/* shim only: parse one backend* key into svc->backend; 1 handled, 0 not ours, -1 bad value */
int hp_backend_shim_key(struct hp_service_cfg *svc, const char *k, const char *v);
void hp_backend_shim_free(struct hp_backend_cfg *b);

#endif
