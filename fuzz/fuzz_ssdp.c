/*
 * fuzz_ssdp.c - the SSDP parser (src/proto/ssdp.c) and the M-SEARCH answer
 * for whatever search target parsed, at every size level.  Invariants:
 * parsed values lie inside the datagram, an answer fits its cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/ssdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(struct ssdp_str s, const uint8_t *data, size_t size)
{
    if (s.p && ((const uint8_t *)s.p < data || (const uint8_t *)s.p + s.n > data + size))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ssdp_msg m;
    if (ssdp_parse(data, size, &m) != 0)
        return 0;
    inside(m.line, data, size);
    inside(m.st, data, size);
    inside(m.location, data, size);
    inside(m.user_agent, data, size);
    if (!m.st.p)
        return 0;
    char out[1024];
    for (int level = 0; level <= SSDP_LEVEL_MAX; level++) {
        size_t cap = 40 + (size_t)level * 300;
        size_t n = ssdp_build_reply(m.st, "http://192.0.2.1:80/rootDesc.xml", level, out, cap);
        if (n >= cap)
            abort();
    }
    return 0;
}
