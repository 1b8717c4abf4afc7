/*
 * sshsniff.h - read one direction of an SSH connection far enough for
 * fingerprints: the identification line and the first KEXINIT.
 *
 * Both are sent in the clear before any key exchange.  The sniffer is fed the
 * raw bytes of one direction as they pass (the SSH front-end proxies them to
 * libssh), buffers at most what the two messages need (capped), and reports
 * when each is complete.  HASSH / HASSHServer follow the salesforce/hassh
 * definition: MD5 of "kex;enc;mac;comp" with the client-to-server lists for
 * the client and the server-to-client lists for the server.
 */
#ifndef HP_SSHSNIFF_H
#define HP_SSHSNIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define HP_SSH_VERSION_MAX 255
/* Limits on what a peer can make the sniffer hold (see sshsniff.c). */
#define HP_SSH_BANNER_MAX 8192      /* pre-banner lines + identification line */
#define HP_SSH_PACKET_MAX 35000     /* RFC 4253 6.1 packet_length limit */
#define HP_SSH_SNIFF_BUF_MAX (40 * 1024)

/* A name-list as it came (peer bytes, not NUL-terminated; points into the KEXINIT). */
struct hp_namelist {
    const uint8_t *p;
    size_t len;
};

struct hp_kexinit {
    uint8_t cookie[16];
    struct hp_namelist kex, hostkey, enc_cs, enc_sc, mac_cs, mac_sc, comp_cs, comp_sc, lang_cs, lang_sc;
    bool first_kex_follows;
};

/* Parse a KEXINIT payload (starting with the message byte 20).  0 or -1 (and
 * *k zeroed).  Bytes after the reserved field are ignored. */
int hp_kexinit_parse(const uint8_t *payload, size_t len, struct hp_kexinit *k);

/* The HASSH algorithms string ("kex;enc;mac;comp") into b, and its MD5 in hex
 * (33 bytes).  server = true uses the server-to-client lists (HASSHServer).
 * b's previous content is replaced; if b's cap is too small it is left
 * partial with hp_buf_ok(b) false, but the MD5 is still of the whole string.
 * Either output may be NULL.  md5hex is "" if the MD5 is unavailable. */
void hp_hassh(const struct hp_kexinit *k, bool server, struct hp_buf *algos, char md5hex[33]);

enum hp_sniff_state { HP_SNIFF_VERSION, HP_SNIFF_KEXINIT, HP_SNIFF_DONE, HP_SNIFF_FAILED };

struct hp_sshsniff {
    enum hp_sniff_state state;
    struct hp_buf buf;            /* bytes not yet parsed (capped) */
    char version[HP_SSH_VERSION_MAX + 1];   /* identification line without CR LF (peer bytes) */
    size_t version_len;
    uint8_t *kexinit;             /* copy of the KEXINIT payload once complete */
    size_t kexinit_len;
    struct hp_kexinit kex;        /* parsed, pointing into kexinit */
    size_t banner_bytes;          /* taken so far in state VERSION (capped) */
    uint64_t consumed;            /* stream bytes taken so far; once DONE, where the
                                     packet after the KEXINIT starts */
};

void hp_sshsniff_init(struct hp_sshsniff *s);
void hp_sshsniff_free(struct hp_sshsniff *s);
/* Feed bytes.  Returns a bitmask of what became complete with these bytes.
 * Once DONE or FAILED, further bytes are ignored (and return 0). */
enum { HP_SNIFF_GOT_VERSION = 1, HP_SNIFF_GOT_KEXINIT = 2 };
int hp_sshsniff_feed(struct hp_sshsniff *s, const uint8_t *data, size_t len);

/*
 * What sshd says to a client identification line l[0..n) (its CR LF may be
 * included) that it refuses, as OpenSSH 9's kex_exchange_identification
 * does on the server side; NULL for a good line.  The line must read
 * "SSH-<major>.<minor>-<something>" without NUL ("Invalid SSH identification
 * string.\r\n" otherwise), for protocol 2.0 or the compatible 1.99
 * ("Protocol major versions differ.\r\n" otherwise).  *reason: a close
 * reason for session.closed.  n == 0 (a line too long) is invalid.
 */
const char *hp_ssh_ident_refusal(const uint8_t *l, size_t n, const char **reason);

/*
 * How far sshd 9 reads a client's first line before it judges it: it reads
 * byte by byte (kex_exchange_identification), skips '\r' but then wants
 * '\n', and refuses at once a NUL, any other byte after a '\r', or a line
 * longer than HP_SSH_BANNER_MAX.  So a TLS ClientHello or other binary
 * probe is refused on its first bad byte, without waiting for a newline.
 * HP_SSH_IDENT_LINE: the line ends at *len (its '\n' included), to be
 * judged by hp_ssh_ident_refusal; HP_SSH_IDENT_BAD: refused after *len
 * bytes read; HP_SSH_IDENT_MORE: no verdict yet (*len 0).
 */
enum hp_ssh_ident { HP_SSH_IDENT_MORE, HP_SSH_IDENT_LINE, HP_SSH_IDENT_BAD };
enum hp_ssh_ident hp_ssh_ident_scan(const uint8_t *p, size_t n, size_t *len);

#endif
