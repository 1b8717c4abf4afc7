/*
 * fuzz_tlsfp.c - libFuzzer harness for the TLS hello fingerprints.
 *
 * Input: two control bytes (a cut point, little-endian), then the bytes
 * from the start of one direction of a TCP stream.  Both parsers run on
 * the whole input and on the prefix up to the cut:
 *   - results are -1, 0 or 1, every string is terminated inside its array,
 *     hashes are 32 hex digits and a JA4 has its fixed 36-character shape;
 *   - a stream's prefix can only say "need more" or agree with the whole:
 *     a decided prefix (1 or -1) must give the same answer and the same
 *     fingerprints as the full input, since more bytes never change what
 *     the first hello was.
 * Invariant violations abort(), so they are crashes like ASan reports.
 * Seeds: fuzz/corpus/tlsfp/ (ClientHellos and ServerHellos taken from the
 * FoxIO captures and from local curl / openssl / chromium captures).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "intel/tlsfp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* n lowercase hex digits at s (what follows is the caller's business) */
static void check_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        CHECK((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'));
}

static void check_client(const struct hp_tls_hello *h)
{
    CHECK(memchr(h->ja3_string, 0, sizeof(h->ja3_string)));
    CHECK(memchr(h->sni, 0, sizeof(h->sni)));
    CHECK(memchr(h->alpn, 0, sizeof(h->alpn)));
    CHECK(memchr(h->versions, 0, sizeof(h->versions)));
    CHECK(strlen(h->ja3) == 32);
    check_hex(h->ja3, 32);
    CHECK(strlen(h->ja4) == 36 && h->ja4[0] == 't' && h->ja4[10] == '_' && h->ja4[23] == '_');
    check_hex(h->ja4 + 11, 12);
    check_hex(h->ja4 + 24, 12);
    CHECK(h->ja3_truncated == (strlen(h->ja3_string) == sizeof(h->ja3_string) - 1));
}

static void check_server(const struct hp_tls_server_hello *s)
{
    CHECK(memchr(s->ja3s_string, 0, sizeof(s->ja3s_string)));
    CHECK(strlen(s->ja3s) == 32);
    check_hex(s->ja3s, 32);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hp_tls_hello full, part;
    struct hp_tls_server_hello sfull, spart;

    if (size < 2)
        return 0;
    size_t cut = (size_t)(data[0] | (data[1] << 8));
    data += 2;
    size -= 2;
    if (cut > size)
        cut = size;

    int rf = hp_tls_client_hello(data, size, &full);
    int rp = hp_tls_client_hello(data, cut, &part);
    CHECK(rf >= -1 && rf <= 1 && rp >= -1 && rp <= 1);
    if (rf == 1)
        check_client(&full);
    if (rp != 0)
        CHECK(rp == rf);
    if (rp == 1)
        CHECK(memcmp(&part, &full, sizeof(full)) == 0);

    /* the span of the hello's records: inside the input, and the same hello */
    size_t span = (size_t)-1;
    int rs = hp_tls_client_hello_span(data, size, &part, &span);
    CHECK(rs == rf);
    if (rs == 1)
        CHECK(span >= 9 && span <= size && memcmp(&part, &full, sizeof(full)) == 0);

    rf = hp_tls_server_hello(data, size, &sfull);
    rp = hp_tls_server_hello(data, cut, &spart);
    CHECK(rf >= -1 && rf <= 1 && rp >= -1 && rp <= 1);
    if (rf == 1)
        check_server(&sfull);
    if (rp != 0)
        CHECK(rp == rf);
    if (rp == 1)
        CHECK(memcmp(&spart, &sfull, sizeof(sfull)) == 0);

    char alpn[3];
    hp_ja4_alpn(data, size > 300 ? 300 : size, alpn);
    CHECK(strlen(alpn) == 2);
    return 0;
}
