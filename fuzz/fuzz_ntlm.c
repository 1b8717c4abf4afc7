/*
 * fuzz_ntlm.c - NTLMSSP parsing (src/proto/ntlm.c): NEGOTIATE and
 * AUTHENTICATE as a raw message and found inside a wrapper (SPNEGO), the
 * hashcat line built from whatever parsed, and UTF-16 conversion.
 * Invariants: names are NUL-terminated within their arrays, response
 * pointers stay inside the input, a hashcat line fits its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/ntlm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t chal[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    long at = hp_ntlm_find(data, size);
    const uint8_t *p = at >= 0 ? data + at : data;
    size_t n = at >= 0 ? size - (size_t)at : size;
    struct hp_ntlm_negotiate neg;
    if (hp_ntlm_parse_negotiate(p, n, &neg) == 0 &&
        (strlen(neg.domain) >= sizeof(neg.domain) || strlen(neg.workstation) >= sizeof(neg.workstation)))
        abort();
    struct hp_ntlm_auth a;
    if (hp_ntlm_parse_authenticate(p, n, &a) == 0) {
        if ((a.nt_len && (a.nt < p || a.nt + a.nt_len > p + n)) || (a.lm_len && (a.lm < p || a.lm + a.lm_len > p + n)))
            abort();
        char line[HP_NTLM_HASHCAT_MAX];
        const char *fmt;
        size_t k = hp_ntlm_hashcat(&a, chal, line, sizeof(line), &fmt);
        if (k >= sizeof(line) || (k && strlen(line) != k))
            abort();
    }
    char out[64];
    if (hp_utf16le_to_utf8(data, size, out, sizeof(out)) >= sizeof(out))
        abort();
    return 0;
}
