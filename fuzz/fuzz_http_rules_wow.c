/*
 * fuzz_http_rules_wow.c - libFuzzer harness for the WOWHoneypot rule importer
 * (src/proto/http_rules_wow.c: a small bounded XML parser).
 *
 * Input: an mrrules.xml as an operator (or anyone who can write the file)
 * might supply.  It is imported into an empty rule set; on success one fixed
 * request is matched and rendered, so the imported triggers and bodies are
 * used; on failure there is a message, NUL-terminated.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "proto/http_rules.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static struct hp_bytes B(const char *s)
{
    return (struct hp_bytes){ (const uint8_t *)s, strlen(s) };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    if (size > 200000)
        return 0;
    struct hp_webrules *r = hp_webrules_load_text("", 0, "empty", NULL, err, sizeof(err));
    CHECK(r != NULL);
    memset(err, 'x', sizeof(err));
    if (hp_webrules_add_wow_text(r, (const char *)data, size, "mrrules.xml", "/nonexistent", err,
                                 sizeof(err)) < 0) {          /* >= 0: the rules imported */
        CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
        hp_webrules_free(r);
        return 0;
    }
    struct hp_http_hdr hdrs[2] = { { B("Host"), B("example") }, { B("User-Agent"), B("Mozilla/5.0") } };
    struct hp_http_view v = {
        .method = B("POST"), .target = B("/wp-login.php?x=1"), .path = B("/wp-login.php"),
        .query = B("x=1"), .dpath = B("/wp-login.php"), .dquery = B("x=1"), .version = B("HTTP/1.1"),
        .headers = hdrs, .nheaders = 2, .body = B("log=admin&pwd=x"), .dbody = B("log=admin&pwd=x"),
        .local_port = 80,
    };
    const struct hp_webresp *resp = hp_webrules_match(r, &v);
    if (resp) {
        struct hp_buf h, b;
        hp_buf_init(&h, 1u << 20);
        hp_buf_init(&b, 8u << 20);
        hp_webresp_render(resp, &v, "nginx", &h, &b);
        CHECK(resp->status >= 100 && resp->status <= 999);
        hp_buf_free(&h);
        hp_buf_free(&b);
    }
    hp_webrules_free(r);
    return 0;
}
