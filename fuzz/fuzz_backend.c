/*
 * fuzz_backend.c - libFuzzer harness for src/core/backend.c: the backend
 * keys of a service and the refusal rules.
 *
 * Input: one control byte picking a key (backend, backend_timeout,
 * backend_budget, backend_max_bytes, backend_xff, backend_user,
 * backend_password), then the value text (NUL bytes cut it, as inih would).
 * hp_backend_key must either fail with a message or store the value; a parsed
 * address is an AF_INET/AF_INET6 sockaddr of the stated length, and the
 * refusal check answers for it without reading past it (and always refuses
 * loopback).  Built with HP_FUZZING the parser never asks DNS.
 * Seeds: fuzz/corpus/fuzz_backend/.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const keys[] = {
        "backend", "backend_timeout", "backend_budget", "backend_max_bytes", "backend_xff",
        "backend_user", "backend_password",
    };
    if (size < 1 || size > 4096)
        return 0;
    char *v = malloc(size);
    memcpy(v, data + 1, size - 1);
    v[size - 1] = '\0';
    struct hp_service_cfg svc = { .name = "fz" };
    char err[256] = "";
    const char *key = keys[data[0] % (sizeof(keys) / sizeof(keys[0]))];
    int r = hp_backend_key(&svc, key, v, 1, err, sizeof(err));
    CHECK(svc.backend != NULL);
    if (r != 0) {
        CHECK(err[0] != '\0');
    } else if (strcmp(key, "backend") == 0) {
        const struct hp_backend_cfg *b = svc.backend;
        CHECK(b->spec && strcmp(b->spec, v) == 0);
        CHECK((b->addr.ss_family == AF_INET && b->addrlen == sizeof(struct sockaddr_in)) ||
              (b->addr.ss_family == AF_INET6 && b->addrlen == sizeof(struct sockaddr_in6)));
        const char *why = NULL;
        bool ok = hp_backend_addr_allowed((const struct sockaddr *)&b->addr, b->addrlen, &why);
        CHECK(ok == (why == NULL));
        if (b->addr.ss_family == AF_INET &&
            (ntohl(((const struct sockaddr_in *)&b->addr)->sin_addr.s_addr) >> 24) == 127)
            CHECK(!ok);
    }
    hp_backend_free(svc.backend);
    free(v);
    return 0;
}
