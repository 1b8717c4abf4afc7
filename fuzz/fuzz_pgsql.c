/*
 * fuzz_pgsql.c - libFuzzer harness for the PostgreSQL look-alike's session
 * engine (src/proto/pgsql.c, pgsql_ext.c): startup packets, SSL/GSS/cancel
 * codes, the parameter list, password messages, simple queries split into
 * statements, the extended protocol (Parse/Bind/Describe/Execute/Sync/Close/
 * Flush: parameters substituted, statements and portals kept within bounds).
 *
 * Byte 0 picks cleartext or MD5 and accept_after 0 or 1; the rest is the
 * client's stream fed in data-driven chunks.  Checked: never more consumed
 * than given, and the answer is a well-formed sequence of typed messages
 * (after the single-byte 'N' answers to SSL/GSS requests), or the 2.0
 * format's "unsupported frontend protocol" error.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "event.h"
#include "../src/proto/pgsql.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hp_evctx ctx = { .session = "000000000002", .protocol = "postgresql", .service = "f",
                               .transport = "tcp", .src_ip = "192.0.2.1", .dst_ip = "192.0.2.2",
                               .src_port = 1, .dst_port = 5432 };

/* skip: the 'N' bytes answering SSL/GSS requests, which come before anything else. */
static void check_messages(const struct hp_buf *out, size_t skip)
{
    size_t off = 0;
    for (; off < skip && off < out->len; off++)
        CHECK(out->data[off] == 'N');
    static const char v2[] = "EFATAL:  unsupported frontend protocol ";
    if (out->len - off > sizeof(v2) && memcmp(out->data + off, v2, sizeof(v2) - 1) == 0) {
        CHECK(out->data[out->len - 2] == '\n' && out->data[out->len - 1] == '\0');   /* 2.0 format, the last */
        return;
    }
    while (off < out->len) {
        CHECK(off + 5 <= out->len);
        uint32_t len = (uint32_t)out->data[off + 1] << 24 | (uint32_t)out->data[off + 2] << 16 |
                       (uint32_t)out->data[off + 3] << 8 | out->data[off + 4];
        CHECK(len >= 4);
        off += 1 + len;
    }
    CHECK(off == out->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct hp_pg_conf cf = { 0 };
    hp_pg_conf_version(&cf, data[0] & 4 ? (data[0] & 8 ? "15.18 (Debian 15.18-0+deb12u1)" : "15.1 (Debian 15.1-1.pgdg110+1)")
                                      : "12.12 (Ubuntu 12.12-0ubuntu0.20.04.1)");
    cf.md5 = data[0] & 1;
    cf.accept_after = (data[0] >> 1) & 1;
    cf.max_query = 1 << 16;
    hp_pg_sources_reset();
    struct hp_pg_sess s;
    hp_pg_sess_init(&s, &cf, &ctx);
    const uint8_t *p = data + 1;
    size_t left = size - 1, pending = 0, step = 0;
    while (left > 0 && !s.closing) {
        size_t chunk = 1 + (p[0] * 5u + step++) % 89;
        if (chunk > left)
            chunk = left;
        pending += chunk;
        left -= chunk;
        size_t used = hp_pg_input(&s, p, pending);
        CHECK(used <= pending);
        p += used;
        pending -= used;
        check_messages(&s.out, s.ssl_requests);
        CHECK(s.sendable <= s.out.len);
    }
    hp_pg_sess_free(&s);
    free(cf.version);
    return 0;
}
