/*
 * http_memo.h - the analysis of a request the sensor has seen before, reused.
 *
 * Scanners and worms send one request, byte for byte, to every address they
 * reach: a sensor gets the same zgrab "GET /", the same Mozi HG532 exploit,
 * thousands of times a day from as many sources.  What the HTTP engine
 * decides about a request - its attack classes, CVEs and injected commands
 * (webclass.h), the response rule that answers it (http_rules.h), whether
 * its text holds a download URL - is a function of the request's bytes, the
 * port and TLS flag it came with, and the service's rule set.  Deciding
 * costs some 30,000 instructions (every classification rule, the response
 * rules, the URL extractor); finding an earlier decision costs a hash and a
 * compare of the request.
 *
 * The key is those inputs themselves (http_memo.c lays them out), compared
 * in full: a hash collision is a miss, never another request's verdict.
 * Effects are never reused: every request still gets its event, its
 * credentials and uploads, and a request whose text held URLs is scanned
 * again, because the capture pipeline records each find per session.
 *
 * A memo serves one rule set (a service's configuration owns one) and one
 * thread (the network thread, like webclass).
 */
#ifndef HP_HTTP_MEMO_H
#define HP_HTTP_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "intel/httpview.h"
#include "intel/webclass.h"

struct hp_webresp;

/* Keys longer than this are not kept: big requests are rarer and vary more. */
#define HP_HTTP_MEMO_KEY_MAX 4096

/* What the engine decided about one request. */
struct hp_http_verdict {
    struct hp_webclass wc;               /* classification */
    const struct hp_webresp *resp;       /* the rule that answers it; NULL: the default page */
    bool no_urls;                        /* its text held no URL for the capture pipeline */
};

/* The inputs a verdict depends on, laid out for lookup (built on the stack). */
struct hp_http_memo_key {
    bool ok;                             /* false: too long to keep, decide afresh */
    size_t len;
    uint64_t hash;
    uint8_t buf[HP_HTTP_MEMO_KEY_MAX];
};

struct hp_http_memo;

/* A memo of nslots verdicts (rounded up to a power of two, at least 1).  The
 * functions below take a NULL memo as one that never remembers. */
struct hp_http_memo *hp_http_memo_new(size_t nslots);
void hp_http_memo_free(struct hp_http_memo *m);

/* The key of one request: v is its view, raw its bytes as received (the URL extractor reads them). */
void hp_http_memo_key(struct hp_http_memo_key *k, const struct hp_http_memo *m, const struct hp_http_view *v,
                      const uint8_t *raw, size_t raw_len);

/* The verdict kept for exactly this key, or NULL.  Valid until the next put. */
const struct hp_http_verdict *hp_http_memo_get(struct hp_http_memo *m, const struct hp_http_memo_key *k);

/* Keep a verdict for this key (replacing what its slot held); no-op when !k->ok. */
void hp_http_memo_put(struct hp_http_memo *m, const struct hp_http_memo_key *k, const struct hp_http_verdict *vd);

/* Lookups that found a verdict, and those that did not. */
void hp_http_memo_stats(const struct hp_http_memo *m, uint64_t *hits, uint64_t *misses);

#endif
