/*
 * test_flowfp.c - the capture flow table behind `hanipo fingerprint`
 * (src/intel/flowfp.c): link layers and encapsulations, TCP reassembly, and
 * the JSON line per flow.
 *
 * One ClientHello (the JA3 README's vector: ja3 ada70206e40642a3e4461f35503241d5,
 * SNI example.com) is carried in frames built here under every link type and
 * tunnel the decoder knows, cut into segments that arrive out of order and
 * twice, and each time the flow's line must carry its JA3 and addresses.  The
 * integration tests (cases_fp.py) compare whole captures with tshark.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <malloc.h>
#include <pcap/dlt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intel/flowfp.h"
#include "unhex.h"
#include "cpu_time.h"
#include "quic_vectors.h"

#define JA3 "ada70206e40642a3e4461f35503241d5"

struct wb {
    uint8_t b[4096];
    size_t n;
};

static void w8(struct wb *w, unsigned v) { w->b[w->n++] = (uint8_t)v; }
static void w16(struct wb *w, unsigned v) { w8(w, v >> 8); w8(w, v & 0xff); }
static void w32(struct wb *w, uint32_t v) { w16(w, v >> 16); w16(w, v & 0xffff); }
static void wbytes(struct wb *w, const void *p, size_t n) { if (n) memcpy(w->b + w->n, p, n); w->n += n; }

/* The JA3 README's ClientHello as one TLS record. */
static size_t hello(uint8_t *out)
{
    static const unsigned c[] = { 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4 };
    static const uint8_t exts[] = { 0, 0, 0, 16, 0, 14, 0, 0, 11, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',
                                    0, 10, 0, 8, 0, 6, 0, 23, 0, 24, 0, 25,
                                    0, 11, 0, 2, 1, 0 };
    struct wb w = { .n = 0 };
    uint8_t random[32] = { 0 };

    w8(&w, 22); w16(&w, 0x0301); w16(&w, 0);           /* record, length later */
    w8(&w, 1); w8(&w, 0); w16(&w, 0);                   /* ClientHello, length later */
    w16(&w, 769);
    wbytes(&w, random, 32);
    w8(&w, 0);                                          /* session id */
    w16(&w, 2 * 12);
    for (size_t i = 0; i < 12; i++)
        w16(&w, c[i]);
    w8(&w, 1); w8(&w, 0);                               /* compression: null */
    w16(&w, sizeof(exts));
    wbytes(&w, exts, sizeof(exts));
    size_t rec = w.n - 5, hs = w.n - 9;
    w.b[3] = (uint8_t)(rec >> 8), w.b[4] = (uint8_t)rec;
    w.b[7] = (uint8_t)(hs >> 8), w.b[8] = (uint8_t)hs;
    memcpy(out, w.b, w.n);
    return w.n;
}

/* What goes in front of the IP packet. */
enum wrap { W_ETHER, W_VLAN_MPLS, W_PPPOE, W_IPIP, W_6IN4, W_SLL, W_SLL2, W_NULL, W_RAW, W_MPLS_NO_BOTTOM };

static void ipv4(struct wb *w, uint8_t proto, size_t payload, uint8_t last)
{
    w8(w, 0x45); w8(w, 0); w16(w, (unsigned)(20 + payload)); w32(w, 0);
    w8(w, 64); w8(w, proto); w16(w, 0);
    w8(w, 192); w8(w, 0); w8(w, 2); w8(w, last);          /* 192.0.2.last -> 198.51.100.7 */
    w8(w, 198); w8(w, 51); w8(w, 100); w8(w, 7);
}

static void ipv6(struct wb *w, uint8_t proto, size_t payload, uint8_t last)
{
    static const uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };
    uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0 };
    src[15] = last;
    w32(w, 0x60000000u); w16(w, (unsigned)payload); w8(w, proto); w8(w, 64);
    wbytes(w, src, 16);
    wbytes(w, dst, 16);
}

/* One TCP segment from the client (port 40001 -> 443) in the given wrapping. */
static size_t frame(uint8_t *out, enum wrap wr, uint32_t seq, uint8_t flags, const uint8_t *p, size_t n)
{
    static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
    struct wb w = { .n = 0 };
    bool v6 = wr == W_PPPOE || wr == W_6IN4 || wr == W_NULL;
    size_t tcp = 20 + n, ip = (v6 ? 40 : 20) + tcp;

    switch (wr) {
    case W_ETHER: case W_IPIP: case W_6IN4:
        wbytes(&w, macs, 12); w16(&w, 0x0800);
        break;
    case W_VLAN_MPLS: case W_MPLS_NO_BOTTOM:
        wbytes(&w, macs, 12); w16(&w, 0x8100); w16(&w, 42); w16(&w, 0x8847);
        w32(&w, (100u << 12) | 64);                          /* a label */
        w32(&w, (200u << 12) | (wr == W_MPLS_NO_BOTTOM ? 0 : 0x100) | 64);
        break;
    case W_PPPOE:
        wbytes(&w, macs, 12); w16(&w, 0x8864);
        w8(&w, 0x11); w8(&w, 0); w16(&w, 0x1234); w16(&w, (unsigned)(ip + 2)); w16(&w, 0x0057);
        break;
    case W_SLL:
        w16(&w, 0); w16(&w, 1); w16(&w, 6); wbytes(&w, macs, 6); w16(&w, 0); w16(&w, 0x0800);
        break;
    case W_SLL2:
        w16(&w, 0x0800); w16(&w, 0); w32(&w, 1); w16(&w, 1); w8(&w, 0); w8(&w, 6); wbytes(&w, macs, 6); w16(&w, 0);
        break;
    case W_NULL:
        w8(&w, 30); w8(&w, 0); w8(&w, 0); w8(&w, 0);         /* AF_INET6 (macOS), little-endian */
        break;
    case W_RAW:
        break;
    }
    if (wr == W_IPIP)
        ipv4(&w, 4, ip, 254);                               /* the tunnel's outer header */
    else if (wr == W_6IN4)
        ipv4(&w, 41, ip, 254);
    if (v6)
        ipv6(&w, 6, tcp, 1);
    else
        ipv4(&w, 6, tcp, 1);
    w16(&w, 40001); w16(&w, 443); w32(&w, seq); w32(&w, 0);
    w8(&w, 5 << 4); w8(&w, flags); w16(&w, 65535); w16(&w, 0); w16(&w, 0);
    wbytes(&w, p, n);
    memcpy(out, w.b, w.n);
    return w.n;
}

static int linktype_of(enum wrap wr)
{
    switch (wr) {
    case W_SLL: return DLT_LINUX_SLL;
    case W_SLL2: return DLT_LINUX_SLL2;
    case W_NULL: return DLT_NULL;
    case W_RAW: return DLT_RAW;
    default: return DLT_EN10MB;
    }
}

/* What hp_flowfp_finish prints for c, as a string (caller frees); c is freed. */
static char *finish(struct hp_flowfp *c)
{
    char *out = NULL;
    size_t outlen = 0;
    FILE *mem = open_memstream(&out, &outlen);

    assert_non_null(mem);
    hp_flowfp_finish(c, mem);
    fclose(mem);
    return out;
}

/* Feed the hello in the given segment order (offsets into the hello), and
 * return what hp_flowfp_finish printed (caller frees). */
static char *run(enum wrap wr, const size_t *cuts, size_t ncuts)
{
    uint8_t h[1024], f[2048];
    size_t hn = hello(h);
    struct hp_flowfp *c = hp_flowfp_new(linktype_of(wr));

    assert_non_null(c);
    hp_flowfp_packet(c, f, frame(f, wr, 999, 0x02, NULL, 0));              /* SYN */
    for (size_t i = 0; i < ncuts; i++) {
        size_t at = cuts[i], end = hn;
        for (size_t j = 0; j < ncuts; j++)                                  /* next cut above */
            if (cuts[j] > at && cuts[j] < end)
                end = cuts[j];
        hp_flowfp_packet(c, f, frame(f, wr, 1000 + (uint32_t)at, 0x18, h + at, end - at));
    }
    return finish(c);
}

static void expect_ja3(const char *out, const char *src, const char *dst)
{
    assert_non_null(strstr(out, "\"ja3\":\"" JA3 "\""));
    assert_non_null(strstr(out, "\"sni\":\"example.com\""));
    assert_non_null(strstr(out, src));
    assert_non_null(strstr(out, dst));
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);       /* one line */
}

static void test_link_layers_and_tunnels(void **state)
{
    static const size_t whole[] = { 0 };
    static const struct {
        enum wrap wr;
        const char *src, *dst;
    } cases[] = {
        { W_ETHER, "\"src\":\"192.0.2.1:40001\"", "\"dst\":\"198.51.100.7:443\"" },
        { W_VLAN_MPLS, "\"src\":\"192.0.2.1:40001\"", "\"dst\":\"198.51.100.7:443\"" },
        { W_PPPOE, "\"src\":\"[2001:db8::1]:40001\"", "\"dst\":\"[2001:db8::7]:443\"" },
        { W_IPIP, "\"src\":\"192.0.2.1:40001\"", "\"dst\":\"198.51.100.7:443\"" },
        { W_6IN4, "\"src\":\"[2001:db8::1]:40001\"", "\"dst\":\"[2001:db8::7]:443\"" },
        { W_SLL, "\"src\":\"192.0.2.1:40001\"", "\"dst\":\"198.51.100.7:443\"" },
        { W_SLL2, "\"src\":\"192.0.2.1:40001\"", "\"dst\":\"198.51.100.7:443\"" },
        { W_NULL, "\"src\":\"[2001:db8::1]:40001\"", "\"dst\":\"[2001:db8::7]:443\"" },
        { W_RAW, "\"src\":\"192.0.2.1:40001\"", "\"dst\":\"198.51.100.7:443\"" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = run(cases[i].wr, whole, 1);
        expect_ja3(out, cases[i].src, cases[i].dst);
        free(out);
    }
}

/* A label stack without its bottom label is not followed into garbage. */
static void test_mpls_without_bottom(void **state)
{
    static const size_t whole[] = { 0 };
    (void)state;
    char *out = run(W_MPLS_NO_BOTTOM, whole, 1);
    assert_string_equal(out, "");
    free(out);
}

/* Segments out of order, one of them twice and one overlapping: the same hello. */
static void test_reassembly(void **state)
{
    static const size_t order[] = { 60, 0, 30, 30, 45 };
    (void)state;
    char *out = run(W_ETHER, order, sizeof(order) / sizeof(order[0]));
    expect_ja3(out, "\"src\":\"192.0.2.1:40001\"", "\"dst\":\"198.51.100.7:443\"");
    free(out);
}

/* Frames cut short anywhere give no line and no crash. */
static void test_truncated_frames(void **state)
{
    uint8_t h[1024], f[2048];
    size_t hn = hello(h);
    (void)state;
    for (int wr = W_ETHER; wr <= W_RAW; wr++) {
        size_t fn = frame(f, (enum wrap)wr, 1000, 0x18, h, hn);
        for (size_t cut = 0; cut < fn - hn; cut++) {
            struct hp_flowfp *c = hp_flowfp_new(linktype_of((enum wrap)wr));
            assert_non_null(c);
            hp_flowfp_packet(c, f, cut);
            char *out = finish(c);
            assert_string_equal(out, "");
            free(out);
        }
    }
}

/* One UDP datagram 192.0.2.1:sport -> 198.51.100.7:443, raw IPv4. */
static size_t udp_frame(uint8_t *out, uint16_t sport, const uint8_t *p, size_t n)
{
    struct wb w = { .n = 0 };
    ipv4(&w, 17, 8 + n, 1);
    w16(&w, sport); w16(&w, 443); w16(&w, (unsigned)(8 + n)); w16(&w, 0);
    wbytes(&w, p, n);
    memcpy(out, w.b, w.n);
    return w.n;
}

/* Heap bytes in use (glibc). */
static size_t heap_used(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

#define MANY_FLOWS 2000

/* A flow's undecided direction holds what it sent, not a whole hello's
 * worth: 2000 flows of one 5-byte TLS record header each held 16 KiB apiece
 * (33 MB from a capture of 150 KB). */
static void test_memory_follows_data(void **state)
{
    static const uint8_t rec[] = { 22, 3, 1, 2, 0 };      /* a handshake record of 512 bytes to come */
    uint8_t f[2048];
    (void)state;
    size_t before = heap_used();
    struct hp_flowfp *c = hp_flowfp_new(DLT_RAW);
    assert_non_null(c);
    for (unsigned i = 0; i < MANY_FLOWS; i++) {
        size_t fn = frame(f, W_RAW, 1000, 0x18, rec, sizeof(rec));
        f[20] = (uint8_t)((20000 + i) >> 8), f[21] = (uint8_t)(20000 + i);   /* the TCP source port */
        hp_flowfp_packet(c, f, fn);
    }
    assert_true(heap_used() - before < MANY_FLOWS * 2048);
    char *out = finish(c);
    assert_string_equal(out, "");
    free(out);
}

/* QUIC: a side's CRYPTO stream is freed once its hello is in.  The server
 * of a honeypot capture never answers; 2000 fingerprinted clients kept
 * both sides' streams (37 KB) each to the end. */
static void test_quic_state_freed(void **state)
{
    static uint8_t d[2048];
    uint8_t f[4096];
    size_t dn = unhex(QUIC_GOOGLE, d, sizeof(d));
    (void)state;
    size_t before = heap_used();
    struct hp_flowfp *c = hp_flowfp_new(DLT_RAW);
    assert_non_null(c);
    for (unsigned i = 0; i < MANY_FLOWS; i++)
        hp_flowfp_packet(c, f, udp_frame(f, (uint16_t)(20000 + i), d, dn));
    assert_true(heap_used() - before < MANY_FLOWS * 8192);       /* the flow and its hello: 3.5 KB */
    char *out = finish(c);
    assert_non_null(strstr(out, "\"src\":\"192.0.2.1:21999\",\"dst\":\"198.51.100.7:443\",\"transport\":\"quic\""));
    assert_non_null(strstr(out, "\"ja4\":\"q13d0310h3_55b375c5d22e_cd85d2d88918\""));
    size_t lines = 0;
    for (const char *p = out; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, MANY_FLOWS);
    free(out);
}

/* Clients whose hello never completes (one Initial that does not even
 * authenticate) hold a stream each, but no more than FP_QUIC_HELD (4096)
 * at once: 4196 of them took 37 KB apiece. */
static void test_quic_held_bound(void **state)
{
    static const uint8_t junk[29] = { 0xc0, 0, 0, 0, 1, 0, 0, 0, 20, [9] = 0x41 };
    uint8_t f[2048];
    const unsigned n = 4096 + 100;
    (void)state;
    size_t before = heap_used();
    struct hp_flowfp *c = hp_flowfp_new(DLT_RAW);
    assert_non_null(c);
    for (unsigned i = 0; i < n; i++)
        hp_flowfp_packet(c, f, udp_frame(f, (uint16_t)(10000 + i), junk, sizeof(junk)));
    assert_true(heap_used() - before < (size_t)n * 20480);
    char *out = finish(c);
    assert_string_equal(out, "");
    free(out);
}

/* A bare SYN src:sport -> 198.51.100.7:443, raw IPv4. */
static size_t syn_frame(uint8_t *out, const uint8_t src[4], uint16_t sport)
{
    static const uint8_t dst[4] = { 198, 51, 100, 7 };
    struct wb w = { .n = 0 };
    w8(&w, 0x45); w8(&w, 0); w16(&w, 40); w32(&w, 0);
    w8(&w, 64); w8(&w, 6); w16(&w, 0);
    wbytes(&w, src, 4);
    wbytes(&w, dst, 4);
    w16(&w, sport); w16(&w, 443); w32(&w, 1); w32(&w, 0);
    w8(&w, 5 << 4); w8(&w, 0x02); w16(&w, 65535); w16(&w, 0); w16(&w, 0);
    memcpy(out, w.b, w.n);
    return w.n;
}

/* One FNV-1a step of the flow table's former, unkeyed hash, in the 16 low
 * bits that picked the bucket (they depend on nothing above them). */
static uint16_t fnv16(uint16_t h, uint8_t b)
{
    return (uint16_t)((uint32_t)(h ^ b) * 16777619u);
}

/*
 * Spoofed SYNs (a capture of a honeypot holds any number) whose 4-tuples
 * all fell in one of the 65536 buckets: the bucket was the low 16 bits of
 * an unkeyed FNV-1a, so for every source address one source port or so
 * puts a flow in any chosen bucket.  30000 such flows cost 450 million
 * chain steps (each a lookup walks the whole chain); with a per-table
 * random basis they spread out.
 */
static void test_flow_table_collisions(void **state)
{
    enum { WANT = 30000 };
    static uint8_t src[WANT][4];
    static uint16_t sport[WANT];
    const uint16_t p16 = (uint16_t)16777619u, target = 0x1234;   /* the state after the source port */
    uint8_t f[128];
    (void)state;
    uint16_t pinv = p16;                      /* p16's inverse mod 2^16 (Newton) */
    for (int i = 0; i < 4; i++)
        pinv = (uint16_t)((uint32_t)pinv * (2u - (uint32_t)p16 * pinv));
    const uint16_t pre = (uint16_t)((uint32_t)target * pinv);   /* what the last byte must turn into target */
    /* the state after the fixed start (family AF_INET, TCP) */
    const uint16_t h0 = (uint16_t)(((2166136261u ^ 2) * 16777619u) ^ 6);
    unsigned found = 0;
    for (unsigned ab = 0; ab < 65536 && found < WANT; ab++) {
        const uint8_t ip[4] = { 10, 0, (uint8_t)(ab >> 8), (uint8_t)ab };   /* below 198.51.100.7: side a */
        uint16_t h = h0;
        for (int i = 0; i < 16; i++)
            h = fnv16(h, i < 4 ? ip[i] : 0);
        for (unsigned hi = 0; hi < 256 && found < WANT; hi++) {
            uint16_t mid = fnv16(h, (uint8_t)hi);
            if ((mid ^ pre) >> 8)
                continue;                     /* no low byte reaches the target */
            memcpy(src[found], ip, 4);
            sport[found] = (uint16_t)(hi << 8 | ((mid ^ pre) & 0xff));
            assert_int_equal(fnv16(mid, (uint8_t)sport[found]), target);
            found++;
        }
    }
    assert_int_equal(found, WANT);
    struct hp_flowfp *c = hp_flowfp_new(DLT_RAW);
    assert_non_null(c);
    double t0 = 1e3 * test_cpu_s();
    for (unsigned i = 0; i < WANT; i++)
        hp_flowfp_packet(c, f, syn_frame(f, src[i], sport[i]));
    assert_true(1e3 * test_cpu_s() - t0 < 300.0);
    char *out = finish(c);
    assert_string_equal(out, "");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_layers_and_tunnels),
        cmocka_unit_test(test_mpls_without_bottom),
        cmocka_unit_test(test_reassembly),
        cmocka_unit_test(test_truncated_frames),
        cmocka_unit_test(test_memory_follows_data),
        cmocka_unit_test(test_quic_state_freed),
        cmocka_unit_test(test_quic_held_bound),
        cmocka_unit_test(test_flow_table_collisions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
