/*
 * fuzz_smb_spnego.c - the SPNEGO (DER) walk of SMB session setup
 * (hp_smb_spnego_token), the NTLMSSP parsers on the token it finds, and
 * the PE locator used on DoublePulsar payloads.  Invariants: the token lies
 * inside the input; a PE offset leaves room for its header.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/ntlm.h"
#include "proto/smb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *tok;
    size_t tl;
    if (hp_smb_spnego_token(data, size, &tok, &tl) == 0) {
        if (tok < data || tl > size || tok + tl > data + size)
            abort();
        struct hp_ntlm_negotiate neg;
        (void)hp_ntlm_parse_negotiate(tok, tl, &neg);
        struct hp_ntlm_auth a;
        if (hp_ntlm_parse_authenticate(tok, tl, &a) == 0) {
            static const uint8_t chal[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
            char line[HP_NTLM_HASHCAT_MAX];
            const char *fmt;
            if (hp_ntlm_hashcat(&a, chal, line, sizeof(line), &fmt) >= sizeof(line))
                abort();
        }
    }
    long pe = hp_smb_find_pe(data, size);
    if (pe >= 0 && (size_t)pe + 64 > size)
        abort();
    return 0;
}
