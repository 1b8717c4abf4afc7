/*
 * knowledge.h - facts the sensor annotates events with: default credentials
 * (which device they belong to, which botnets try them), ports (service and
 * campaigns) and CVEs (product and short name).
 *
 * The facts are plain text under data/knowledge/ (credentials.tsv, ports.tsv,
 * cves.tsv; format and sources in docs/knowledge.md), compiled in with
 * .incbin and parsed once into hash tables.  hp_knowledge_init() parses them
 * and reports the first malformed line; the lookups initialise lazily too
 * (so tests and tools need no set-up) and return NULL when the tables could
 * not be built.  Everything returned lives as long as the process and is
 * read-only: lookups are thread-safe.
 */
#ifndef HP_KNOWLEDGE_H
#define HP_KNOWLEDGE_H

#include <stddef.h>
#include <stdint.h>

struct hp_ev;

#define HP_KN_MAX_NAMES 8       /* botnets per credential, campaigns per port */
#define HP_KN_MAX_FIELD 256     /* longest user or password that can match */

/* Which kind of entry answered a credential lookup. */
enum hp_cred_match {
    HP_CRED_PAIR,               /* user and password */
    HP_CRED_USER,               /* "user<TAB>*": the user with any password */
    HP_CRED_PASS,               /* "*<TAB>password": the password with any user */
};

struct hp_cred_info {
    const char *vendor;         /* vendor/device text */
    const char *botnets[HP_KN_MAX_NAMES];
    size_t nbotnets;            /* 0 for "-" */
    enum hp_cred_match match;
};

struct hp_port_info {
    uint16_t port;
    const char *proto;          /* "tcp" or "udp" */
    const char *service;
    const char *campaigns[HP_KN_MAX_NAMES];
    size_t ncampaigns;
};

struct hp_cve_info {
    const char *id;             /* upper case, "CVE-2017-17215" */
    const char *product;
    const char *name;
};

struct hp_knowledge_stats {
    size_t cred_lines, creds;   /* data lines parsed, distinct keys kept */
    size_t port_lines, ports;
    size_t cve_lines, cves;
};

/* Parse the embedded files once.  0, or -1 with "FILE:LINE: reason" in err
 * (every later call returns the same answer). */
int hp_knowledge_init(char *err, size_t errlen);

/* The entry for a login: exact pair first, then the user with any password,
 * then the password with any user.  user/pass are raw bytes (may hold NULs);
 * case-sensitive.  NULL when unknown. */
const struct hp_cred_info *hp_knowledge_cred(const char *user, size_t ulen, const char *pass, size_t plen);

/* proto "tcp"/"udp" (case-insensitive), or NULL for tcp then udp. */
const struct hp_port_info *hp_knowledge_port(uint16_t port, const char *proto);

/* "CVE-YYYY-N", case-insensitive.  NULL when unknown. */
const struct hp_cve_info *hp_knowledge_cve(const char *cve);

/* Add "cred_device", "cred_botnets" (array) and "cred_match" ("pair", "user",
 * "password") to an event being built, when the credentials are known. */
void hp_knowledge_ev_cred(struct hp_ev *ev, const void *user, size_t ulen, const void *pass, size_t plen);

void hp_knowledge_get_stats(struct hp_knowledge_stats *st);

/* Parse one file's text (name: "credentials.tsv", "ports.tsv" or "cves.tsv")
 * into a scratch table and throw it away: 0, or -1 with "NAME:LINE: reason".
 * For tests and for checking an edited file before a rebuild. */
int hp_knowledge_check(const char *name, const char *text, size_t len, char *err, size_t errlen);

#endif
