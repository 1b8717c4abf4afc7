/*
 * fuzz_ftp_parse.c - the peer-facing parsers of src/proto/ftp_parse.c,
 * called directly on one command line (fuzz_ftp.c cuts a stream into lines
 * and also runs the LIST/MLSD builders; this harness checks the parsers
 * against what ftp_parse.h promises).
 *
 * Byte 0 picks a small output size; the rest is one line (without CRLF):
 *   ftp_cmd_split   the verb is the first word upper-cased, NUL-terminated,
 *                   cut (and flagged) at FTP_VERB_MAX-1; the argument is the
 *                   rest of the line after one space
 *   ftp_parse_port  accepted exactly when an independent reading of
 *                   "h1,h2,h3,h4,p1,p2" (decimal, at most 3 digits, <= 255,
 *                   blanks before each number, trailing blanks) accepts it,
 *                   and gives the same address and port
 *   ftp_parse_eprt  round trip: the address printed back with inet_ntop as
 *                   "|af|addr|port|" parses to the same sockaddr; -2 only
 *                   for an unknown family digit
 *   ftp_same_ip / ftp_ipv4_of   reflexive; agree with the PORT numbers
 *   ftp_arg_path    refuses exactly when a control byte lies in the part it
 *                   keeps; otherwise a NUL-terminated prefix of the argument
 *                   cut at FTP_ARG_MAX and the buffer size
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proto/ftp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_split(const uint8_t *line, size_t len, struct ftp_cmd *c)
{
    ftp_cmd_split(line, len, c);
    size_t i = 0, w = 0;
    while (i < len && line[i] == ' ')
        i++;
    while (i + w < len && line[i + w] != ' ')
        w++;
    CHECK(c->verb_cut == (w >= FTP_VERB_MAX));
    size_t kept = w < FTP_VERB_MAX ? w : FTP_VERB_MAX - 1;
    for (size_t k = 0; k < kept; k++) {
        uint8_t ch = line[i + k];
        CHECK((uint8_t)c->verb[k] == (ch >= 'a' && ch <= 'z' ? ch - 32 : ch));
    }
    CHECK(c->verb[kept] == '\0');
    size_t a = i + w + (i + w < len);          /* one space after the verb */
    CHECK(c->arglen == len - a);
    CHECK(c->arglen ? c->arg == line + a : c->arg == NULL);
}

/* PORT as RFC 959 writes it, read independently of the parser. */
static bool ref_port(const uint8_t *p, size_t n, long v[6])
{
    size_t i = 0;
    for (int f = 0; f < 6; f++) {
        while (i < n && p[i] == ' ')
            i++;
        int d = 0;
        v[f] = 0;
        while (i < n && d < 3 && p[i] >= '0' && p[i] <= '9') {
            v[f] = v[f] * 10 + (p[i++] - '0');
            d++;
        }
        if (d == 0 || v[f] > 255)
            return false;
        if (f < 5 && (i >= n || p[i++] != ','))
            return false;
    }
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i == n;
}

static void check_port(const uint8_t *arg, size_t len)
{
    struct sockaddr_storage ss;
    long v[6];
    int rc = ftp_parse_port(arg, len, &ss);
    bool want = ref_port(arg, len, v);
    CHECK((rc == 0) == want);
    if (rc != 0) {
        CHECK(rc == -1);
        return;
    }
    const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
    uint32_t ip = 0;
    CHECK(ss.ss_family == AF_INET);
    CHECK(ntohl(in->sin_addr.s_addr) == (uint32_t)(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]));
    CHECK(ntohs(in->sin_port) == (v[4] << 8 | v[5]));
    CHECK(ftp_ipv4_of(&ss, &ip) && ip == ntohl(in->sin_addr.s_addr));
    CHECK(ftp_same_ip(&ss, &ss));
    /* the same address as an IPv4-mapped IPv6 one is the same IP */
    struct sockaddr_storage m6;
    memset(&m6, 0, sizeof(m6));
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&m6;
    s6->sin6_family = AF_INET6;
    s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&s6->sin6_addr.s6_addr[12], &in->sin_addr, 4);
    CHECK(ftp_same_ip(&ss, &m6) && ftp_same_ip(&m6, &ss));
}

static void check_eprt(const uint8_t *arg, size_t len)
{
    struct sockaddr_storage ss, again;
    int rc = ftp_parse_eprt(arg, len, &ss);
    CHECK(rc == 0 || rc == -1 || rc == -2);
    if (rc == -2)
        CHECK(len >= 3 && arg[1] != '1' && arg[1] != '2');
    if (rc != 0)
        return;
    char addr[INET6_ADDRSTRLEN], line[96];
    unsigned port;
    int af;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        CHECK(inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr)));
        port = ntohs(in->sin_port);
        af = 1;
    } else {
        CHECK(ss.ss_family == AF_INET6);
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        CHECK(inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr)));
        port = ntohs(in6->sin6_port);
        af = 2;
    }
    CHECK(port >= 1);
    int n = snprintf(line, sizeof(line), "|%d|%s|%u|", af, addr, port);
    CHECK(ftp_parse_eprt((const uint8_t *)line, (size_t)n, &again) == 0);
    CHECK(memcmp(&ss, &again, sizeof(ss)) == 0);
    CHECK(ftp_same_ip(&ss, &again));
}

static void check_path(const uint8_t *arg, size_t len, size_t small)
{
    char big[FTP_ARG_MAX + 16], tiny[FTP_ARG_MAX + 16];
    size_t sizes[2] = { sizeof(big), small };
    char *outs[2] = { big, tiny };
    for (int k = 0; k < 2; k++) {
        size_t keep = len;
        if (keep > FTP_ARG_MAX)
            keep = FTP_ARG_MAX;
        if (keep > sizes[k] - 1)
            keep = sizes[k] - 1;
        bool bad = false;
        for (size_t i = 0; i < keep; i++)
            bad |= arg[i] < 0x20 || arg[i] == 0x7f;
        memset(outs[k], 'x', sizes[k]);
        bool ok = ftp_arg_path(arg, len, outs[k], sizes[k]);
        CHECK(ok == !bad);
        if (ok)
            CHECK(strnlen(outs[k], sizes[k]) == keep && (keep == 0 || memcmp(outs[k], arg, keep) == 0));
    }
    CHECK(!ftp_arg_path(arg, len, big, 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FTP_LINE_MAX + 1)
        return 0;
    size_t small = 1 + data[0] % 40;
    const uint8_t *line = data + 1;
    size_t len = size - 1;
    struct ftp_cmd c;
    check_split(line, len, &c);
    check_port(c.arg, c.arglen);
    check_port(line, len);
    check_eprt(c.arg, c.arglen);
    check_eprt(line, len);
    check_path(c.arg, c.arglen, small);
    return 0;
}
