/*
 * fuzz_flowfp.c - libFuzzer harness for the capture flow table of
 * `hanipo fingerprint` (src/intel/flowfp.c): frame decoding, TCP
 * reassembly, and the TLS / SSH / QUIC / DTLS analysers behind them.
 *
 * Input: one mode byte, then records.
 *   - Mode even, "frames": the next byte picks a link type (Ethernet,
 *     Linux cooked v1/v2, BSD loopback both ways, raw IP under its three
 *     numbers, DLT_IPV4/IPV6), then each record is a 16-bit big-endian
 *     length and that many bytes of frame.  This reaches the link, IP,
 *     tunnel (GRE, VXLAN, Geneve) and transport headers.
 *   - Mode odd, "flows": the harness builds the headers itself (Ethernet,
 *     IPv4 or IPv6 by the mode's second bit, TCP or UDP) around fuzzed
 *     payloads, so the reassembly and the analysers see real streams.  Each
 *     record is a control byte, a 16-bit big-endian length and the payload.
 *     Control bits 0-1: one of four flows; bit 2: the server's direction;
 *     bit 3: UDP; bits 4-5: the segment's sequence number is in order, a
 *     retransmission (back by the payload's length), or ahead by a
 *     gap; bit 6: SYN; bit 7: RST.
 * The output goes to /dev/null; the flow table is freed at the end, so
 * LeakSanitizer sees whatever a path forgets.
 * Seeds: fuzz/corpus/flowfp/ (tools/gen-flowfp-seeds.py: the TLS, QUIC,
 * DTLS and SSH flows of the shared FoxIO captures as "flows" records, and
 * frames of each link type).
 */
#include <pcap/dlt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "intel/flowfp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAME 2048

static const int linktypes[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP,
                                 12, 14, 101, DLT_IPV4, DLT_IPV6 };

static FILE *devnull(void)
{
    static FILE *f;
    if (!f)
        f = fopen("/dev/null", "w");
    return f;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

static void frames(struct hp_flowfp *c, const uint8_t *p, size_t n)
{
    while (n >= 2) {
        size_t len = (size_t)p[0] << 8 | p[1];
        p += 2;
        n -= 2;
        if (len > n)
            len = n;
        hp_flowfp_packet(c, p, len);
        p += len;
        n -= len;
    }
}

/* Next sequence number of each direction of each flow. */
struct flowseq {
    uint32_t next[4][2];
};

static size_t build(uint8_t *f, bool v6, uint8_t ctl, struct flowseq *sq, const uint8_t *pay, size_t plen)
{
    int flow = ctl & 3, srv = (ctl >> 2) & 1;
    bool udp = ctl & 8;
    size_t l4 = udp ? 8 : 20, off = 14, ipl = v6 ? 40 : 20;
    uint16_t cport = (uint16_t)(40000 + flow), sport = udp ? 443 : (flow & 1) ? 22 : 443;
    uint8_t cip = (uint8_t)(10 + flow);

    memset(f, 0, 14 + ipl + l4);
    put16(f + 12, v6 ? 0x86dd : 0x0800);
    if (v6) {
        f[off] = 0x60;
        put16(f + off + 4, (unsigned)(l4 + plen));
        f[off + 6] = udp ? 17 : 6;
        f[off + 7] = 64;
        f[off + 8 + 15] = srv ? 1 : cip;         /* src ::cip or ::1 */
        f[off + 24 + 15] = srv ? cip : 1;
    } else {
        f[off] = 0x45;
        put16(f + off + 2, (unsigned)(ipl + l4 + plen));
        f[off + 8] = 64;
        f[off + 9] = udp ? 17 : 6;
        f[off + 12] = 10, f[off + 15] = srv ? 1 : cip;
        f[off + 16] = 10, f[off + 19] = srv ? cip : 1;
    }
    uint8_t *t = f + off + ipl;
    put16(t, srv ? sport : cport);
    put16(t + 2, srv ? cport : sport);
    if (udp) {
        put16(t + 4, (unsigned)(8 + plen));
    } else {
        uint32_t *next = &sq->next[flow][srv];
        uint32_t seq = *next;
        switch ((ctl >> 4) & 3) {
        case 1: seq -= (uint32_t)plen; break;                   /* retransmission */
        case 2: seq += (uint32_t)plen + 1; break;               /* ahead of a gap */
        case 3: seq += 0x80000000u; break;                      /* far away */
        }
        bool syn = ctl & 0x40;
        put32(t + 4, seq);
        t[12] = 5 << 4;
        t[13] = (uint8_t)((syn ? 0x02 : 0x18) | (srv && syn ? 0x10 : 0) | (ctl & 0x80 ? 0x04 : 0));
        if (((ctl >> 4) & 3) == 0)
            *next = seq + (uint32_t)plen + (syn ? 1 : 0);
    }
    memcpy(f + off + ipl + l4, pay, plen);
    return off + ipl + l4 + plen;
}

static void flows(struct hp_flowfp *c, bool v6, const uint8_t *p, size_t n)
{
    static uint8_t frame[14 + 40 + 20 + MAX_FRAME];
    struct flowseq sq;

    for (int i = 0; i < 4; i++)
        sq.next[i][0] = 1000u * (uint32_t)(i + 1), sq.next[i][1] = 0xfffff000u + (uint32_t)i;
    while (n >= 3) {
        uint8_t ctl = p[0];
        size_t len = (size_t)p[1] << 8 | p[2];
        p += 3;
        n -= 3;
        if (len > n)
            len = n;
        if (len > MAX_FRAME)
            len = MAX_FRAME;
        hp_flowfp_packet(c, frame, build(frame, v6, ctl, &sq, p, len));
        p += len;
        n -= len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t mode = data[0];
    struct hp_flowfp *c;
    if (mode & 1) {
        if (!(c = hp_flowfp_new(DLT_EN10MB)))
            return 0;
        flows(c, mode & 2, data + 1, size - 1);
    } else {
        if (!(c = hp_flowfp_new(linktypes[data[1] % (sizeof(linktypes) / sizeof(linktypes[0]))])))
            return 0;
        frames(c, data + 2, size - 2);
    }
    hp_flowfp_finish(c, devnull());
    return 0;
}
