/*
 * fuzz_http_login.c - the login readers of a web request (src/proto/http_login.c).
 *
 * The first input byte picks the reader (even: a request body, form or JSON;
 * odd: an Authorization header value), the rest is its input, copied to an
 * allocation of its exact size so ASan sees any read beyond it.  Invariants:
 * a login found has a known kind and fits its buffers; none is found in a
 * body over HP_HTTP_LOGIN_BODY_MAX or a header over 4 KiB.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/http_login.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = size - 1;
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        return 0;
    memcpy(copy, data + 1, n);
    struct hp_http_login l;
    memset(&l, 0, sizeof(l));
    struct hp_bytes in = { copy, n };
    bool ok = data[0] & 1 ? hp_http_login_basic(in, &l) : hp_http_login_body(in, &l);
    if (ok) {
        if (l.ulen > HP_HTTP_LOGIN_MAX || l.plen > HP_HTTP_LOGIN_MAX || !l.kind)
            abort();
        bool kind_ok = data[0] & 1 ? strcmp(l.kind, "basic") == 0
                                   : strcmp(l.kind, "form") == 0 || strcmp(l.kind, "json") == 0 ||
                                     strcmp(l.kind, "wallet") == 0;
        if (!kind_ok)
            abort();
        if ((data[0] & 1) ? n > 4096 : n > HP_HTTP_LOGIN_BODY_MAX)
            abort();
    }
    free(copy);
    return 0;
}
