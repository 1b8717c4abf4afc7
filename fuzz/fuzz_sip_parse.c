/*
 * fuzz_sip_parse.c - the SIP parser and response builder of
 * src/proto/sip_parse.c, called directly (fuzz_sip.c drives the module;
 * this harness checks what sip_parse.h promises).
 *
 * Byte 0: bit 0 stream (TCP framing) or datagram, bits 1-2 the reply level,
 * bit 3 whether the reply fills in rport/received, the rest a small output
 * size.  The remaining bytes are parsed with sip_parse (several messages in
 * a stream) and for every message:
 *   sip_parse        OK consumes what it says (datagram: everything); every
 *                    header value lies in the message's arena; the body lies
 *                    in the input, is Content-Length long on a stream and at
 *                    most that in a datagram; MORE and BAD consume nothing,
 *                    and MORE only on a stream
 *   sip_digest_parse on Authorization / Proxy-Authorization: every field lies
 *                    inside the value; sip_hashcat gives a NUL-terminated
 *                    line of exactly 15 '*'-separated fields, or 0
 *   sip_uri_user / sip_addr_uri   bounded, NUL-terminated, inside their input
 *   sip_build_reply  at the chosen level and a small and a large cap: the
 *                    length is below the cap, the reply is a SIP response
 *                    ending in an empty line; parsed back (when its lines fit
 *                    the parser's limits) it has our status, the same
 *                    From/Call-ID/CSeq/Via count and Content-Length 0
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "reader.h"
#include "proto/sip_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static struct sip_msg msg, back;    /* 8 KiB arenas: static, not on the stack */
static char reply[SIP_HEAD_MAX * 2];

static void check_in_arena(const struct sip_msg *m, struct sip_str s)
{
    if (!s.p)
        return;
    CHECK(s.p >= m->arena && s.p + s.n <= m->arena + m->arena_used);
}

static bool same(struct sip_str a, struct sip_str b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static void check_msg(const struct sip_msg *m)
{
    CHECK(m->arena_used <= SIP_ARENA && m->nvia <= SIP_VIA_MAX);
    const struct sip_str all[] = { m->line, m->method, m->uri, m->version, m->from, m->to, m->call_id,
                                   m->cseq, m->contact, m->user_agent, m->authorization,
                                   m->proxy_authorization, m->content_type, m->max_forwards };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        check_in_arena(m, all[i]);
    for (size_t i = 0; i < m->nvia; i++)
        check_in_arena(m, m->via[i]);
    CHECK(m->line.p && m->line.n > 0);
    if (m->response)
        CHECK(m->status >= 100 && m->status <= 999);
    else
        CHECK(m->method.n > 0 && m->uri.n > 0 && m->version.n >= 4);
}

static void check_digest(struct sip_str v, size_t small)
{
    struct sip_digest d;
    if (!v.p || !sip_digest_parse(v, &d))
        return;
    const struct sip_str f[] = { d.username, d.realm, d.nonce, d.uri, d.response, d.algorithm,
                                 d.cnonce, d.nc, d.qop, d.opaque };
    CHECK(d.username.p && d.response.p);
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        if (f[i].p)
            CHECK(f[i].p >= v.p && f[i].p + f[i].n <= v.p + v.n);
    char line[4096];
    size_t sizes[2] = { sizeof(line), small };
    for (int k = 0; k < 2; k++) {
        memset(line, 'x', sizeof(line));
        size_t n = sip_hashcat(&d, "REGISTER", "192.0.2.2", "203.0.113.7", line, sizes[k]);
        if (n == 0)
            continue;
        CHECK(n < sizes[k] && line[n] == '\0' && strlen(line) == n);
        CHECK(memcmp(line, "$sip$*", 6) == 0);
        size_t stars = 0;
        for (size_t i = 0; i < n; i++) {
            CHECK((unsigned char)line[i] >= 0x20 && line[i] != 0x7f);
            stars += line[i] == '*';
        }
        CHECK(stars == 14);
    }
}

static void check_uris(const struct sip_msg *m, size_t small)
{
    char user[256];
    const struct sip_str vals[] = { m->uri, m->from, m->to, m->contact };
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        struct sip_str u = i == 0 ? vals[i] : sip_addr_uri(vals[i]);
        if (i > 0 && vals[i].p)
            CHECK(u.p >= vals[i].p && u.p + u.n <= vals[i].p + vals[i].n);
        size_t sizes[2] = { sizeof(user), small };
        for (int k = 0; k < 2; k++) {
            memset(user, 'x', sizeof(user));
            sip_uri_user(u, user, sizes[k]);
            size_t n = strnlen(user, sizes[k]);
            CHECK(n < sizes[k]);
            if (n)
                CHECK(u.p && memmem(u.p, u.n, user, n) != NULL);
        }
    }
    sip_scanner(m->user_agent);
}

/* Each line of the reply fits the parser's line limit. */
static bool lines_fit(const char *p, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\n') {
            if (i - start >= SIP_LINE_MAX)
                return false;
            start = i + 1;
        }
    return n - start < SIP_LINE_MAX;
}

static void check_reply(const struct sip_msg *m, int level, bool addr, size_t small)
{
    struct sip_reply rp = {
        .code = 401, .reason = "Unauthorized", .server = "FPBX-16.0.40(18.20.0)",
        .allow = "INVITE, ACK, CANCEL, OPTIONS, BYE, REGISTER", .supported = "replaces, timer",
        .accept = "application/sdp", .contact = "<sip:192.0.2.2:5060>", .auth_header = "WWW-Authenticate",
        .auth_value = "Digest realm=\"asterisk\",nonce=\"1a2b3c4d\",algorithm=MD5",
        .auth_short = "Digest realm=\"asterisk\",nonce=\"1a2b3c4d\"", .to_tag = "as5f3e2a1b",
        .src_ip = addr ? "203.0.113.7" : NULL, .src_port = 5062,
    };
    size_t n = sip_build_reply(m, &rp, level, reply, small);
    CHECK(n < small || (n == 0 && small == 0));
    n = sip_build_reply(m, &rp, level, reply, sizeof(reply));
    if (n == 0)
        return;
    CHECK(n < sizeof(reply));
    CHECK(n > 12 && memcmp(reply, "SIP/2.0 401 ", 12) == 0 && memcmp(reply + n - 4, "\r\n\r\n", 4) == 0);
    if (n >= SIP_HEAD_MAX || !lines_fit(reply, n))
        return;
    struct hp_rd r;
    hp_rd_init(&r, reply, n);
    CHECK(sip_parse(&r, false, &back) == SIP_OK);
    CHECK(back.response && back.status == 401 && back.has_content_length && back.content_length == 0);
    CHECK(back.nvia == m->nvia);
    for (size_t i = (level < 3 && addr) ? 1 : 0; i < m->nvia; i++)
        CHECK(same(back.via[i], m->via[i]));
    CHECK(!m->from.p || same(back.from, m->from));
    CHECK(!m->call_id.p || same(back.call_id, m->call_id));
    CHECK(!m->cseq.p || same(back.cseq, m->cseq));
    CHECK(!m->to.p || (back.to.n >= m->to.n && memcmp(back.to.p, m->to.p, m->to.n) == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool stream = data[0] & 1;
    int level = (data[0] >> 1) & 3;
    bool addr = (data[0] >> 3) & 1;
    size_t small = (size_t)(data[0] >> 4) * 24;     /* 0..360 */
    struct hp_rd r;
    hp_rd_init(&r, data + 1, size - 1);
    for (int i = 0; i < 16 && hp_rd_left(&r); i++) {
        size_t before = hp_rd_pos(&r);
        int rc = sip_parse(&r, stream, &msg);
        if (rc != SIP_OK) {
            CHECK(hp_rd_pos(&r) == before && hp_rd_ok(&r));
            CHECK(rc == SIP_BAD || (rc == SIP_MORE && stream));
            break;
        }
        CHECK(hp_rd_pos(&r) > before);
        if (!stream)
            CHECK(hp_rd_left(&r) == 0);
        check_msg(&msg);
        if (msg.body_len)
            CHECK(msg.body >= data + 1 + before && msg.body + msg.body_len <= data + 1 + hp_rd_pos(&r));
        if (stream)
            CHECK(msg.body_len == (msg.has_content_length ? msg.content_length : 0));
        else if (msg.has_content_length)
            CHECK(msg.body_len <= msg.content_length);
        check_digest(msg.authorization, small);
        check_digest(msg.proxy_authorization, small);
        check_uris(&msg, small ? small : 1);
        check_reply(&msg, level, addr, small);
    }
    return 0;
}
