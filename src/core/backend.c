/*
 * backend.c - SHIM (branch sshproxy) of the proxy branch's backend module:
 * parses backend = HOST:PORT (numeric addresses), backend_user,
 * backend_password, backend_timeout; admits every source; connects with a
 * non-blocking socket.  Replaced by the real module at merge.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "backend.h"
#include "config.h"
#include "util.h"

int hp_backend_shim_key(struct hp_service_cfg *svc, const char *k, const char *v)
{
    if (strncmp(k, "backend", 7) != 0)
        return 0;
    if (!svc->backend) {
        svc->backend = hp_xcalloc(1, sizeof(*svc->backend));
        svc->backend->connect_timeout_ms = 5000;
    }
    struct hp_backend_cfg *b = svc->backend;
    if (strcmp(k, "backend") == 0) {
        const char *colon = strrchr(v, ':');
        char host[128];
        if (!colon || (size_t)(colon - v) >= sizeof(host))
            return -1;
        memcpy(host, v, (size_t)(colon - v));
        host[colon - v] = '\0';
        int port = atoi(colon + 1);
        if (port <= 0 || port > 65535)
            return -1;
        struct sockaddr_in *sin = (struct sockaddr_in *)&b->addr;
        memset(&b->addr, 0, sizeof(b->addr));
        if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
            return -1;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        b->addrlen = sizeof(*sin);
        free(b->spec);
        b->spec = hp_xstrdup(v);
    } else if (strcmp(k, "backend_user") == 0) {
        free(b->user);
        b->user = hp_xstrdup(v);
    } else if (strcmp(k, "backend_password") == 0) {
        free(b->password);
        b->password = hp_xstrdup(v);
    } else if (strcmp(k, "backend_timeout") == 0) {
        return hp_parse_duration_ms(v, &b->connect_timeout_ms) ? -1 : 1;
    } else if (strcmp(k, "backend_budget") == 0) {
        return hp_parse_u64(v, 0, UINT64_MAX, &b->budget) ? -1 : 1;
    } else {
        return 0;
    }
    return 1;
}

void hp_backend_shim_free(struct hp_backend_cfg *b)
{
    if (!b)
        return;
    free(b->spec);
    free(b->user);
    free(b->password);
    free(b);
}

bool hp_backend_admit(const struct hp_service_cfg *svc, const struct sockaddr_storage *src, const char **why)
{
    (void)src;
    if (!svc->backend || !svc->backend->spec) {
        *why = "no_backend";
        return false;
    }
    return true;
}

int hp_backend_connect(const struct hp_backend_cfg *b, const char **why)
{
    int fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *why = "socket";
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)&b->addr, b->addrlen) != 0 && errno != EINPROGRESS) {
        *why = errno == ECONNREFUSED ? "refused" : "unreachable";
        close(fd);
        return -1;
    }
    return fd;
}
