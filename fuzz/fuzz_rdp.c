/*
 * fuzz_rdp.c - the parsers of the rdp module (src/proto/rdp.c): the TPKT /
 * X.224 Connection Request with its cookie and negotiation request, on
 * every prefix as it would arrive in pieces, and the CredSSP TSRequest DER.
 * Invariants: a request never claims more bytes than there are, the
 * negoToken lies inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/rdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hp_rdp_cr cr;
    for (size_t n = 0; n <= size; n += 1 + n / 4) {
        long r = hp_rdp_parse_cr(data, n, &cr);
        if (r > (long)n || strlen(cr.cookie) >= sizeof(cr.cookie))
            abort();
    }
    long len = hp_rdp_tsreq_len(data, size);
    if (len > (long)size)
        abort();
    struct hp_rdp_tsreq ts;
    if (hp_rdp_parse_tsreq(data, size, &ts) == 0 && ts.token_len &&
        (ts.token < data || ts.token + ts.token_len > data + size))
        abort();
    return 0;
}
