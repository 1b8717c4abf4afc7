/*
 * fuzz_http_memo.c - libFuzzer harness for the memo of request verdicts
 * (src/proto/http_memo.c), checked against deciding afresh.
 *
 * Input: two control bytes, then the bytes of one request as a client sends
 * them.  ctl[0] is the local port's low byte (port 8000 + it), ctl[1]'s low
 * bit the TLS flag.  The request is parsed as src/proto/http.c parses it,
 * its view built, and its verdict decided afresh: the built-in
 * classification rules and response rules, as the engine runs them.
 *   - The memo lives across inputs (8 slots, so slots are taken over): when
 *     it holds a verdict for this request, that verdict must be the one
 *     just decided, class for class, CVE for CVE, command byte for byte,
 *     the same response rule.  A key that let two different requests meet
 *     would fail here.
 *   - The same bytes parsed again in another buffer must find the verdict
 *     just kept (unless the key was too long to keep).
 * Seeds: fuzz/corpus/http_memo/ (requests and exploits of the HTTP corpus
 * with control bytes; pairs differing in one field).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "intel/webclass.h"
#include "proto/http_memo.h"
#include "proto/http_parse.h"
#include "proto/http_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static struct hp_http_memo *memo;
static struct hp_webrules *rules;

static void same_verdict(const struct hp_http_verdict *a, const struct hp_http_verdict *b)
{
    CHECK(a->resp == b->resp);
    CHECK(a->wc.nclasses == b->wc.nclasses && a->wc.ncves == b->wc.ncves && a->wc.nrules == b->wc.nrules);
    for (size_t i = 0; i < a->wc.nclasses; i++)
        CHECK(strcmp(a->wc.classes[i], b->wc.classes[i]) == 0);
    for (size_t i = 0; i < a->wc.ncves; i++)
        CHECK(strcmp(a->wc.cves[i], b->wc.cves[i]) == 0);
    for (size_t i = 0; i < a->wc.nrules; i++)
        CHECK(strcmp(a->wc.rules[i], b->wc.rules[i]) == 0);
    CHECK((a->wc.owasp_iot == NULL) == (b->wc.owasp_iot == NULL));
    CHECK(!a->wc.owasp_iot || strcmp(a->wc.owasp_iot, b->wc.owasp_iot) == 0);
    CHECK(a->wc.commands_len == b->wc.commands_len);
    CHECK(memcmp(a->wc.commands, b->wc.commands, a->wc.commands_len + 1) == 0);
}

/* Parse one request from a private copy of in; false when it is not one whole request. */
static int parse(const uint8_t *in, size_t n, uint8_t **copy, struct hp_http_parser *p, struct hp_http_req *req)
{
    *copy = malloc(n ? n : 1);
    CHECK(*copy);
    if (n)
        memcpy(*copy, in, n);
    int status = 0;
    size_t used = 0;
    return hp_http_parse(p, *copy, n, req, &status, &used) == HP_HTTP_DONE && used == req->raw_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!memo) {
        char err[256];
        CHECK(hp_webclass_init(err, sizeof(err)) == 0);
        rules = hp_webrules_builtin(err, sizeof(err));
        CHECK(rules);
        memo = hp_http_memo_new(8);
    }
    if (size < 3)
        return 0;
    uint16_t port = (uint16_t)(8000 + data[0]);
    bool tls = data[1] & 1;
    data += 2, size -= 2;

    static struct hp_http_memo_key k, k2;
    static struct hp_http_verdict fresh;
    struct hp_http_parser *p = hp_http_parser_new(65536), *p2 = hp_http_parser_new(65536);
    struct hp_http_req *req = malloc(sizeof(*req)), *req2 = malloc(sizeof(*req2));
    uint8_t *copy = NULL, *copy2 = NULL;
    struct hp_buf scratch, scratch2;
    CHECK(p && p2 && req && req2);
    hp_buf_init(&scratch, 1 << 20);
    hp_buf_init(&scratch2, 1 << 20);
    if (parse(data, size, &copy, p, req)) {
        struct hp_http_view v;
        hp_http_view_build(req, port, tls, &scratch, &v);
        hp_webclass_classify(&v, &fresh.wc);
        fresh.resp = hp_webrules_match(rules, &v);
        fresh.no_urls = true;
        hp_http_memo_key(&k, memo, &v, copy, req->raw_len);
        const struct hp_http_verdict *kept = hp_http_memo_get(memo, &k);
        if (kept)
            same_verdict(kept, &fresh);
        hp_http_memo_put(memo, &k, &fresh);

        CHECK(parse(data, size, &copy2, p2, req2));
        struct hp_http_view v2;
        hp_http_view_build(req2, port, tls, &scratch2, &v2);
        hp_http_memo_key(&k2, memo, &v2, copy2, req2->raw_len);
        CHECK(k2.ok == k.ok);
        kept = hp_http_memo_get(memo, &k2);
        CHECK(k.ok ? kept != NULL : kept == NULL);
        if (kept)
            same_verdict(kept, &fresh);
    }
    hp_buf_free(&scratch);
    hp_buf_free(&scratch2);
    hp_http_parser_free(p);
    hp_http_parser_free(p2);
    free(req);
    free(req2);
    free(copy);
    free(copy2);
    return 0;
}
