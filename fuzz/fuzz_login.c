/*
 * fuzz_login.c - libFuzzer harness for the shared login event (src/proto/login.c).
 *
 * Input: byte 0 picks success/failure and the attempt number, the rest is
 * split at the first NUL into a user name and a password, peer bytes as
 * every password-taking module passes them (any bytes, no terminator).
 * The event is built as hp_login_ev_emit() builds it (known-credential
 * fields included) and frozen instead of published.  Checks: the JSON
 * parses, eventid matches, and username/password round-trip exactly: as
 * text when it is lossless UTF-8, else through the "<key>_b64" companion.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "intel/knowledge.h"
#include "proto/login.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool b64_equals(const char *b64, const uint8_t *want, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = strlen(b64), k = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len && b64[i] != '='; i++) {
        const char *p = strchr(tab, b64[i]);
        CHECK(p && *p);
        acc = acc << 6 | (uint32_t)(p - tab);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (k >= n || want[k] != (uint8_t)(acc >> bits))
                return false;
            k++;
        }
    }
    return k == n;
}

static void check_field(json_t *doc, const char *key, const uint8_t *p, size_t n)
{
    char k64[32];
    snprintf(k64, sizeof(k64), "%s_b64", key);
    json_t *b = json_object_get(doc, k64);
    if (b) {
        CHECK(json_is_string(b) && b64_equals(json_string_value(b), p, n));
        return;
    }
    json_t *v = json_object_get(doc, key);
    CHECK(json_is_string(v) && json_string_length(v) == n && memcmp(json_string_value(v), p, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    bool ok = data[0] & 1;
    const uint8_t *rest = data + 1;
    size_t n = size - 1;
    const uint8_t *nul = memchr(rest, 0, n);
    size_t ulen = nul ? (size_t)(nul - rest) : n;
    struct hp_login l = {
        .user = rest, .ulen = ulen,
        .pass = nul ? nul + 1 : rest + n, .plen = nul ? n - ulen - 1 : 0,
        .method = "plain", .attempt = (uint64_t)(data[0] >> 1) + 1,
    };
    struct hp_evctx ctx = { .session = "0123456789ab", .protocol = "ftp", .service = "ftp", .transport = "tcp",
                            .src_ip = "192.0.2.1", .dst_ip = "198.51.100.1", .src_port = 40000, .dst_port = 21 };
    struct hp_ev ev;
    hp_login_ev_begin(&ev, &ctx, ok, &l);
    hp_knowledge_ev_cred(&ev, l.user, l.ulen, l.pass, l.plen);    /* as hp_login_ev_emit */
    struct hp_event *e = hp_ev_finish(&ev);
    json_t *doc = json_loadb(e->json, e->json_len, JSON_ALLOW_NUL, NULL);
    CHECK(json_is_object(doc));
    CHECK(strcmp(json_string_value(json_object_get(doc, "eventid")), ok ? "login.success" : "login.failed") == 0);
    CHECK(json_integer_value(json_object_get(doc, "attempt")) == (json_int_t)l.attempt);
    if (!json_is_true(json_object_get(doc, "truncated"))) {
        check_field(doc, "username", l.user, l.ulen);
        check_field(doc, "password", l.pass, l.plen);
    }
    json_decref(doc);
    hp_event_unref(e);
    return 0;
}
