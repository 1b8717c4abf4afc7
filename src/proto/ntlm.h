/*
 * ntlm.h - NTLMSSP (MS-NLMP) messages for the Windows-flavoured modules
 * (MSSQL SSPI logins, RDP CredSSP, later SMB).
 *
 * Protocol-neutral: callers hand in the raw NTLMSSP message bytes (already
 * taken out of their TDS / SPNEGO / SMB wrapping) and get parsed fields or
 * an encoded CHALLENGE back.  Nothing here talks to a connection.
 *
 *   NEGOTIATE     -> flags, optional domain / workstation
 *   CHALLENGE     <- built from the per-sensor Windows identity (computer
 *                    and domain names, OS build), a random server challenge
 *                    and an AV-pair list with MsvAvTimestamp
 *   AUTHENTICATE  -> user, domain, workstation (UTF-8), LM/NT responses,
 *                    formatted as a hashcat line: NetNTLMv2 (mode 5600)
 *                    "user::domain:challenge:ntproofstr:blob" or NetNTLMv1
 *                    (mode 5500) "user::domain:lm:nt:challenge".
 *
 * All parsing goes through the hp_rd reader; every offset/length pair
 * (a "security buffer") is checked against the message before use.
 */
#ifndef HP_NTLM_H
#define HP_NTLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define HP_NTLM_NEGOTIATE    1
#define HP_NTLM_CHALLENGE    2
#define HP_NTLM_AUTHENTICATE 3

/* NegotiateFlags (MS-NLMP 2.2.2.5) used here. */
#define HP_NTLM_NEG_UNICODE          0x00000001u
#define HP_NTLM_NEG_OEM              0x00000002u
#define HP_NTLM_REQUEST_TARGET       0x00000004u
#define HP_NTLM_NEG_SIGN             0x00000010u
#define HP_NTLM_NEG_SEAL             0x00000020u
#define HP_NTLM_NEG_LM_KEY           0x00000080u
#define HP_NTLM_NEG_NTLM             0x00000200u
#define HP_NTLM_NEG_ANONYMOUS        0x00000800u
#define HP_NTLM_NEG_ALWAYS_SIGN      0x00008000u
#define HP_NTLM_TARGET_TYPE_DOMAIN   0x00010000u
#define HP_NTLM_TARGET_TYPE_SERVER   0x00020000u
#define HP_NTLM_NEG_EXT_SESSIONSEC   0x00080000u
#define HP_NTLM_NEG_TARGET_INFO      0x00800000u
#define HP_NTLM_NEG_VERSION          0x02000000u
#define HP_NTLM_NEG_128              0x20000000u
#define HP_NTLM_NEG_KEY_EXCH         0x40000000u
#define HP_NTLM_NEG_56               0x80000000u

#define HP_NTLM_NAME_MAX 256          /* UTF-8 bytes kept of a user/domain/host name */
#define HP_NTLM_HASHCAT_MAX 4096      /* a hashcat line (the NTLMv2 blob is capped to fit) */

/* Which message an NTLMSSP buffer holds (0 when it is not NTLMSSP). */
int hp_ntlm_type(const uint8_t *p, size_t n);

struct hp_ntlm_negotiate {
    uint32_t flags;
    char domain[HP_NTLM_NAME_MAX];      /* "" when absent */
    char workstation[HP_NTLM_NAME_MAX];
    bool has_version;
    uint8_t os_major, os_minor;
    uint16_t os_build;
};

/* 0, or -1 when the bytes are not a well-formed NEGOTIATE_MESSAGE. */
int hp_ntlm_parse_negotiate(const uint8_t *p, size_t n, struct hp_ntlm_negotiate *out);

/* The server's Windows identity, as CHALLENGE messages (and other
 * protocols: SQL Server's instance name, RDP's certificate) present it. */
struct hp_ntlm_identity {
    char nb_computer[16];               /* NetBIOS computer name, upper case, <= 15 */
    char nb_domain[16];                 /* NetBIOS domain (= computer name in a workgroup) */
    char dns_computer[128];             /* host or host.domain */
    char dns_domain[96];                /* domain DNS name (= computer name in a workgroup) */
    bool joined;                        /* domain member (else a workgroup server) */
    uint8_t os_major, os_minor;
    uint16_t os_build;
};

/*
 * The per-sensor identity: drawn once and persisted through hp_identity
 * ("windows_hostname", "windows_domain", "windows_dns_domain", "windows_build"),
 * so MSSQL, RDP and SMB on one sensor name the same machine.
 */
void hp_ntlm_identity(struct hp_ntlm_identity *id);

/*
 * Append a CHALLENGE_MESSAGE answering client flags 'cflags' (as a Windows
 * server would select them) with server challenge 'chal' and timestamp
 * 'now_us' (microseconds since the Unix epoch, converted to FILETIME).
 * Returns 0, or -1 if 'out' is full.
 */
int hp_ntlm_build_challenge(const struct hp_ntlm_identity *id, uint32_t cflags, const uint8_t chal[8],
                            int64_t now_us, struct hp_buf *out);

struct hp_ntlm_auth {
    uint32_t flags;
    char user[HP_NTLM_NAME_MAX];
    char domain[HP_NTLM_NAME_MAX];
    char workstation[HP_NTLM_NAME_MAX];
    const uint8_t *lm;                  /* point into the parsed message */
    size_t lm_len;
    const uint8_t *nt;
    size_t nt_len;
    bool anonymous;                     /* empty user and NT response */
};

/* 0, or -1 when not a well-formed AUTHENTICATE_MESSAGE.  'out' borrows
 * the lm / nt pointers from p. */
int hp_ntlm_parse_authenticate(const uint8_t *p, size_t n, struct hp_ntlm_auth *out);

/*
 * The hashcat line for an AUTHENTICATE answered to server challenge 'chal'.
 * *format is set to "hashcat:5600" (NTLMv2, NT response > 24 bytes) or
 * "hashcat:5500" (NTLMv1, 24-byte responses).  Returns the line length, or
 * 0 when there is nothing to crack (anonymous, odd response sizes).
 */
size_t hp_ntlm_hashcat(const struct hp_ntlm_auth *a, const uint8_t chal[8], char *out, size_t outlen,
                       const char **format);

/*
 * Begin the login.failed event of an AUTHENTICATE answered to challenge
 * 'chal' (every NTLM login fails: no account is known): username, domain,
 * workstation, method "ntlm", hash and hash_format (when there is a line
 * to crack) and anonymous.  The module adds its own fields and emits.
 * Shared by MSSQL and RDP so that both log the same event.
 */
struct hp_ev;
struct hp_evctx;
void hp_ntlm_ev_login(struct hp_ev *ev, const struct hp_evctx *ctx, const struct hp_ntlm_auth *a,
                      const uint8_t chal[8]);

/* Where an NTLMSSP message starts inside a wrapper (SPNEGO / GSS-API
 * token, or the raw message itself): its offset, or -1. */
long hp_ntlm_find(const uint8_t *p, size_t n);
/* Append a SPNEGO negTokenResp (accept-incomplete, mech NTLMSSP) carrying
 * an NTLM message, for clients that wrapped their NEGOTIATE in SPNEGO.
 * 0, or -1 when out is full. */
int hp_spnego_wrap_ntlm(const uint8_t *msg, size_t n, struct hp_buf *out);
/* Append a DER length. */
void hp_der_len(struct hp_buf *out, size_t len);

/* UTF-16LE to UTF-8 (invalid surrogates become U+FFFD, NUL stops), at most
 * outlen - 1 bytes, always NUL-terminated.  Returns the length written.
 * Shared by TDS and other UTF-16 protocols. */
size_t hp_utf16le_to_utf8(const uint8_t *p, size_t n, char *out, size_t outlen);
/* ASCII/UTF-8 to UTF-16LE appended to b (non-ASCII code points encoded
 * properly, invalid UTF-8 bytes as U+FFFD).  false when b is full. */
bool hp_utf8_to_utf16le(struct hp_buf *b, const char *s, size_t n);

#endif
