/*
 * fuzz_tls_identity.h - the TLS harnesses' server identity: hp_tlsterm_init()
 * generates a certificate and key into a temporary data directory, and once
 * they are loaded into the SSL_CTX the files go again, so a smoke run (one
 * start per job and harness) leaves nothing behind in /tmp.
 */
#ifndef HP_FUZZ_TLS_IDENTITY_H
#define HP_FUZZ_TLS_IDENTITY_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "proto/tlsterm.h"

static inline void fuzz_tls_identity(const char *harness)
{
    char dir[] = "/tmp/hanipo-fuzz-tls-XXXXXX";
    char err[512], path[sizeof(dir) + 32];
    static const char *const made[] = { "tls/server.crt", "tls/server.key", "tls" };
    if (!mkdtemp(dir) || hp_tlsterm_init(dir, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: no TLS identity: %s\n", harness, err);
        abort();
    }
    for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, made[i]);
        if (remove(path) != 0)
            abort();
    }
    if (rmdir(dir) != 0)
        abort();
}

#endif
