/*
 * fuzz_trap.c - the trap's parsing of peer bytes: the HTTP request framing
 * that decides when the trap answers (hp_http_request_len), on every prefix
 * of the input as it would arrive in pieces, and the protocol guess made for
 * each chunk it records.  Invariants: a complete request never claims more
 * bytes than there are or than the cap allows (plus headers), and the
 * incremental framing the trap uses (hp_http_request_len_more) answers as
 * hp_http_request_len does, but for 0 in place of -1 while a head is open.
 */
#include <stdint.h>
#include <stdlib.h>
#include "intel/protoguess.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cap = size ? 512 + (size_t)data[0] * 256 : 4096;
    struct hp_http_framing st = { 0, 0 };
    for (size_t n = 0; n <= size; n += 1 + n / 8) {
        long rl = hp_http_request_len(data, n, cap);
        if (rl > (long)n)
            abort();
        long more = hp_http_request_len_more(&st, data, n, cap);
        if (more != rl && !(more == 0 && rl < 0))
            abort();
        struct hp_guess g;
        hp_protoguess(data, n, HP_GUESS_TCP, &g);
    }
    return 0;
}
