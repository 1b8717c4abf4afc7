/*
 * fuzz_sip.c - the SIP parser (src/proto/sip_parse.c) on datagrams and on a
 * stream arriving in pieces, Digest parsing, the hashcat line and every
 * response level built from whatever parsed.  Invariants: the reader never
 * claims more than it was given, a stream parse consumes nothing unless it
 * succeeds, a built response fits its cap and ends with the blank line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/sip_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sip_msg m;

static void use(void)
{
    struct sip_digest d;
    char out[4096];
    struct sip_str a = m.authorization.p ? m.authorization : m.proxy_authorization;
    if (a.p && sip_digest_parse(a, &d)) {
        size_t n = sip_hashcat(&d, "REGISTER", "192.0.2.1", "198.51.100.2", out, sizeof(out));
        if (n >= sizeof(out) || (n && strlen(out) != n))
            abort();
    }
    (void)sip_scanner(m.user_agent);
    char user[64];
    sip_uri_user(sip_addr_uri(m.to), user, sizeof(user));
    sip_uri_user(m.uri, user, sizeof(user));
    struct sip_reply rp = { .code = 401, .reason = "Unauthorized", .server = "Asterisk PBX 18.20.2",
                            .allow = "INVITE", .supported = "timer", .accept = "application/sdp",
                            .contact = "<sip:192.0.2.1:5060>", .auth_header = "WWW-Authenticate",
                            .auth_value = "Digest realm=\"a\", nonce=\"1\"", .auth_short = "Digest nonce=\"1\"",
                            .to_tag = "abc", .src_ip = "198.51.100.2", .src_port = 5060 };
    for (int level = 0; level <= SIP_LEVEL_MAX; level++) {
        size_t cap = 64 + (size_t)level * 700;
        size_t n = sip_build_reply(&m, &rp, level, out, cap);
        if (n >= cap || (n && (n < 4 || memcmp(out + n - 4, "\r\n\r\n", 4) != 0)))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hp_rd r;
    hp_rd_init(&r, data, size);
    if (sip_parse(&r, false, &m) == SIP_OK)
        use();
    for (size_t cut = 0; cut <= size; cut += 1 + size / 4) {
        hp_rd_init(&r, data, cut);
        int rc = sip_parse(&r, true, &m);
        if (hp_rd_pos(&r) > cut || (rc != SIP_OK && hp_rd_pos(&r) != 0))
            abort();
        if (rc == SIP_OK)
            use();
    }
    return 0;
}
