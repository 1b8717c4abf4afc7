/*
 * fuzz_knowledge.c - libFuzzer harness for src/intel/knowledge.c.
 *
 * The knowledge files are ours, but the parser is strict hand-written C
 * (in-place splitting and unescaping), and the lookups take peer bytes.
 * Byte 0 picks the file kind; the rest is, at once:
 *
 * 1. a knowledge file's text for hp_knowledge_check (must not crash; an
 *    error message always says FILE:LINE),
 * 2. a login split at its first NUL into user and password for
 *    hp_knowledge_cred; a hit must be consistent (vendor non-empty, at most
 *    HP_KN_MAX_NAMES botnets, the match kind explained by the lookup order:
 *    a "user" hit means no pair entry, a "password" hit neither),
 * 3. a CVE id and a port for hp_knowledge_cve / hp_knowledge_port.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "intel/knowledge.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cred(const char *u, size_t ul, const char *p, size_t pl)
{
    const struct hp_cred_info *ci = hp_knowledge_cred(u, ul, p, pl);
    if (!ci)
        return;
    CHECK(ci->vendor && ci->vendor[0]);
    CHECK(ci->nbotnets <= HP_KN_MAX_NAMES);
    for (size_t i = 0; i < ci->nbotnets; i++)
        CHECK(ci->botnets[i] && ci->botnets[i][0]);
    if (ci->match == HP_CRED_USER)
        CHECK(ul > 0);
    if (ci->match == HP_CRED_PASS)
        CHECK(pl > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = { "credentials.tsv", "ports.tsv", "cves.tsv" };
    char err[256];

    if (size < 1 || size > 65536)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    err[0] = '\0';
    if (hp_knowledge_check(names[data[0] % 3], text, len, err, sizeof(err)) != 0)
        CHECK(strstr(err, ".tsv:") != NULL);

    const char *nul = memchr(text, '\0', len);
    size_t ul = nul ? (size_t)(nul - text) : len;
    check_cred(text, ul, nul ? nul + 1 : "", nul ? len - ul - 1 : 0);

    char id[48];
    size_t n = len < sizeof(id) - 1 ? len : sizeof(id) - 1;
    memcpy(id, text, n);
    id[n] = '\0';
    const struct hp_cve_info *cve = hp_knowledge_cve(id);
    if (cve)
        CHECK(strncmp(cve->id, "CVE-", 4) == 0 && cve->product[0] && cve->name[0]);

    if (len >= 2) {
        const struct hp_port_info *pi = hp_knowledge_port((uint16_t)(data[1] << 8 | (len > 2 ? data[2] : 0)),
                                                          data[0] & 4 ? "udp" : data[0] & 8 ? NULL : "tcp");
        if (pi)
            CHECK(pi->port != 0 && pi->service[0] && pi->ncampaigns <= HP_KN_MAX_NAMES);
    }
    return 0;
}
