/*
 * fuzz_webclass.c - libFuzzer harness for the HTTP attack classifier
 * (src/intel/webclass.c with the built-in data/http/classify.rules).
 *
 * Input: two bytes of local port, then view fields separated by 0xFF:
 * method, target, path, query, dpath, dquery, body, dbody, then header
 * name/value pairs (at most 32 headers); missing fields are empty.  Fields
 * point straight into the fuzzer's buffer (not NUL-terminated), as the real
 * view points into the parser's.  The result must obey its contract: at most
 * HP_WEBCLASS_MAX classes/CVEs/rules, classes from the documented set and
 * distinct, commands NUL-terminated with commands_len == strlen and below the
 * cap, owasp_iot NULL or I1..I10; classifying the same view again gives the
 * same result (no state leaks between requests).
 * Seeds: fuzz/corpus/webclass/ (exploit corpus requests split into fields).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "intel/webclass.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define NFIX 8
#define MAXH 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const classes[] = {
    "scanner", "recon", "brute-force", "path-traversal", "lfi", "rfi", "sqli", "command-injection",
    "rce", "webshell", "deserialization", "jndi", "crypto-rpc", "xss", "ssrf", "info-leak", NULL,
};

static int known_class(const char *c)
{
    for (size_t i = 0; classes[i]; i++)
        if (strcmp(classes[i], c) == 0)
            return 1;
    return 0;
}

static void check(const struct hp_webclass *w)
{
    CHECK(w->nclasses <= HP_WEBCLASS_MAX && w->ncves <= HP_WEBCLASS_MAX && w->nrules <= HP_WEBCLASS_MAX);
    for (size_t i = 0; i < w->nclasses; i++) {
        CHECK(known_class(w->classes[i]));
        for (size_t j = i + 1; j < w->nclasses; j++)
            CHECK(strcmp(w->classes[i], w->classes[j]) != 0);
    }
    for (size_t i = 0; i < w->ncves; i++)
        CHECK(strncmp(w->cves[i], "CVE-", 4) == 0);
    for (size_t i = 0; i < w->nrules; i++)
        CHECK(w->rules[i] && w->rules[i][0]);
    CHECK(w->commands_len < sizeof(w->commands));
    CHECK(w->commands[w->commands_len] == '\0' && strlen(w->commands) == w->commands_len);
    if (w->owasp_iot)
        CHECK(w->owasp_iot[0] == 'I' && strlen(w->owasp_iot) <= 3);
    CHECK((w->nclasses == 0) == (w->nrules == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        char err[256];
        CHECK(hp_webclass_init(err, sizeof(err)) == 0);
        ready = 1;
    }
    if (size < 2)
        return 0;
    struct hp_http_view v;
    memset(&v, 0, sizeof(v));
    v.local_port = (uint16_t)(data[0] << 8 | data[1]);
    struct hp_bytes f[NFIX + 2 * MAXH];
    memset(f, 0, sizeof(f));
    size_t nf = 0, start = 2;
    for (size_t i = 2; i <= size && nf < sizeof(f) / sizeof(f[0]); i++) {
        if (i == size || data[i] == 0xff) {
            f[nf].p = data + start;
            f[nf].n = i - start;
            nf++;
            start = i + 1;
        }
    }
    v.method = f[0], v.target = f[1], v.path = f[2], v.query = f[3];
    v.dpath = f[4], v.dquery = f[5], v.body = f[6], v.dbody = f[7];
    v.version = (struct hp_bytes){ (const uint8_t *)"HTTP/1.1", 8 };
    struct hp_http_hdr h[MAXH];
    size_t nh = 0;
    for (size_t i = NFIX; i + 1 < nf && nh < MAXH; i += 2, nh++) {
        h[nh].name = f[i];
        h[nh].value = f[i + 1];
    }
    v.headers = h;
    v.nheaders = nh;
    v.tls = size & 1;

    static struct hp_webclass a, b;
    hp_webclass_classify(&v, &a);
    check(&a);
    hp_webclass_classify(&v, &b);
    CHECK(a.nclasses == b.nclasses && a.ncves == b.ncves && a.nrules == b.nrules);
    CHECK(a.commands_len == b.commands_len && memcmp(a.commands, b.commands, a.commands_len) == 0);
    for (size_t i = 0; i < a.nrules; i++)
        CHECK(a.rules[i] == b.rules[i]);
    return 0;
}
