/*
 * fuzz_tlsterm.c - libFuzzer harness for TLS termination (src/proto/tlsterm.c).
 *
 * Whatever a client sends to a TLS port goes through OpenSSL behind memory
 * BIOs: the harness is that client.  The sensor's certificate is made once
 * in a temporary data directory.  Input: ctl byte (where to cut the stream
 * in two feeds), then the bytes.  Invariants: feed returns -1, 0 or 1; a
 * failure names its reason; plaintext never passes its cap; what we send
 * stays bounded; nothing leaks (ASan).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "buf.h"
#include "proto/tlsterm.h"
#include "fuzz_tls_identity.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void init_once(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    fuzz_tls_identity("fuzz_tlsterm");
}

static int feed(struct hp_tlsterm *t, const uint8_t *p, size_t n, struct hp_buf *plain, struct hp_buf *wire)
{
    const char *why = NULL;
    int r = hp_tlsterm_feed(t, p, n, plain, wire, &why);
    CHECK(r >= -1 && r <= 1);
    CHECK(r != -1 || why != NULL);
    CHECK(plain->len <= plain->cap);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 256 * 1024)
        return 0;
    init_once();
    size_t cut = size > 1 ? (size_t)data[0] * (size - 1) / 255 : 0;
    data++;
    size--;
    struct hp_tlsterm *t = hp_tlsterm_new();
    CHECK(t != NULL);
    if (cut & 1)
        hp_tlsterm_as_nginx(t);     /* the web server's ALPN and SNI callbacks */
    struct hp_buf plain, wire;
    hp_buf_init(&plain, 4096);
    hp_buf_init(&wire, 1u << 20);
    int r = feed(t, data, cut, &plain, &wire);
    if (r == 0)
        r = feed(t, data + cut, size - cut, &plain, &wire);
    if (r == 0 && hp_tlsterm_done(t))
        hp_tlsterm_write(t, "HTTP/1.1 200 OK\r\n\r\n", 19, &wire);
    hp_tlsterm_close(t, &wire);
    hp_buf_free(&plain);
    hp_buf_free(&wire);
    hp_tlsterm_free(t);
    return 0;
}
