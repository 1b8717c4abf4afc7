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

/* Parse a KEXINIT payload (starting with the message byte 20).  0 or -1. */
int hp_kexinit_parse(const uint8_t *payload, size_t len, struct hp_kexinit *k);

/* The HASSH algorithms string ("kex;enc;mac;comp") into b, and its MD5 in hex
 * (33 bytes).  server = true uses the server-to-client lists (HASSHServer). */
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
};

void hp_sshsniff_init(struct hp_sshsniff *s);
void hp_sshsniff_free(struct hp_sshsniff *s);
/* Feed bytes.  Returns a bitmask of what became complete with these bytes. */
enum { HP_SNIFF_GOT_VERSION = 1, HP_SNIFF_GOT_KEXINIT = 2 };
int hp_sshsniff_feed(struct hp_sshsniff *s, const uint8_t *data, size_t len);

#endif
