/*
 * payloadclass.h - attack class and CVE of the raw bytes the trap records.
 *
 * The web engine classifies HTTP (webclass.h); everything else that reaches
 * a catch-all port (Java wire protocols, message brokers, raw shell
 * commands, UDP amplification probes, Log4Shell strings sprayed at every
 * port) is matched here against the YARA rules of data/trap/exploits.yar,
 * compiled into the binary with the capture pipeline's family rules.  Each rule's metas give its attack classes
 * (the HTTP classifier's vocabulary), its CVEs and a name; a chunk gets the
 * union over every rule that matched, so reports rank the CVEs fired at
 * the trap with those fired at the web engine.
 *
 * YARA is a library made for exactly this (byte patterns, hex strings with
 * wildcards, offsets, integer reads), already linked for the capture
 * pipeline's family names; its scanner is bounded (a timeout, a cap on
 * matches per string) and reads nothing outside the buffer it is given.
 */
#ifndef HP_PAYLOADCLASS_H
#define HP_PAYLOADCLASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HP_PAYLOADCLASS_MAX 8

struct hp_payloadclass {
    const char *classes[HP_PAYLOADCLASS_MAX]; size_t nclasses;   /* distinct, static strings */
    const char *cves[HP_PAYLOADCLASS_MAX]; size_t ncves;          /* distinct, valid until shutdown */
    const char *rules[HP_PAYLOADCLASS_MAX]; size_t nrules;        /* identifiers of the rules that matched */
    /* The first matching rule (in file order) that has a "reply" or
     * "reply_hex" meta: the bytes the real service answers to this message,
     * so that the client goes on to its next step (the T3 handshake's HELO,
     * AJP's CPong).  NULL when none. */
    const uint8_t *reply; size_t reply_len;
    const char *reply_rule;
};

/* Take the sensor's YARA rule set (src/capture/yararules.h; compiled now if
 * it is not yet, with the site directory extra_dir, which may be NULL) and
 * check its "trap" rules, before the sandbox.  Returns 0, or -1 with a
 * message in err.  A no-op when already initialised. */
int hp_payloadclass_init(const char *extra_dir, char *err, size_t errlen);

/* Compile rules from a YARA source instead, a set of their own (tests;
 * replaces the current set). */
int hp_payloadclass_init_text(const char *text, char *err, size_t errlen);

/* Match p[0..n); out is fully overwritten (empty without init).  Call from
 * one thread (the network thread). */
void hp_payloadclass_scan(const uint8_t *p, size_t n, struct hp_payloadclass *out);

/* Number of compiled rules (0 when not initialised). */
size_t hp_payloadclass_nrules(void);

/* Whether any compiled rule has a "reply" meta. */
bool hp_payloadclass_has_replies(void);

void hp_payloadclass_shutdown(void);

#endif
