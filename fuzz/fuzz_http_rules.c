/*
 * fuzz_http_rules.c - libFuzzer harness for the HTTP response rules
 * (src/proto/http_rules.c, http_rules_wow.c).
 *
 * The first byte picks what the input drives:
 *   0 mod 3: a request view matched against the built-in rule set and its
 *            response rendered;
 *   1 mod 3: the input is cut in half: the first half is rule text (a user
 *            rule file, regexes included, so pathological patterns meet
 *            hostile subjects under the match limits), the second half a
 *            request view matched against it;
 *   2 mod 3: the rest is WOWHoneypot XML imported into a small set, then a
 *            view from the same bytes is matched.
 * A view is built from NUL-separated fields: method, target, header lines
 * ("Name: value" separated by '\n'), body; two bytes before them give the
 * local port; the body is also the view's injected commands ({{shell_output}}).
 * Parse errors must be NUL-terminated and read "NAME:LINE: ...".
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/http_parse.h"
#include "proto/http_rules.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define MAXH 32

struct fview {
    struct hp_http_view v;
    struct hp_http_hdr h[MAXH];
};

static struct hp_bytes field(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *s = *p;
    const uint8_t *z = s < end ? memchr(s, 0, (size_t)(end - s)) : NULL;
    const uint8_t *e = z ? z : end;
    *p = z ? z + 1 : end;
    return (struct hp_bytes){ s, (size_t)(e - s) };
}

static void build_view(struct fview *f, const uint8_t *p, size_t n)
{
    const uint8_t *end = p + n;
    memset(f, 0, sizeof(*f));
    if (n >= 2) {
        f->v.local_port = (uint16_t)(p[0] << 8 | p[1]);
        p += 2;
    }
    f->v.method = field(&p, end);
    f->v.target = field(&p, end);
    const uint8_t *q = f->v.target.n ? memchr(f->v.target.p, '?', f->v.target.n) : NULL;
    f->v.path = f->v.target;
    if (q) {
        f->v.path.n = (size_t)(q - f->v.target.p);
        f->v.query = (struct hp_bytes){ q + 1, f->v.target.n - f->v.path.n - 1 };
    }
    f->v.dpath = f->v.path;
    f->v.dquery = f->v.query;
    static uint8_t npath[65536 + 1];
    size_t nl = 0;
    if (f->v.path.n < sizeof(npath) && hp_http_ngx_path(f->v.path.p, f->v.path.n, npath, &nl)) {
        if (nl == 0 || nl > f->v.path.n + 1 || npath[0] != '/')
            abort();                       /* the resolved path: "/" at least, never longer */
        f->v.npath = (struct hp_bytes){ npath, nl };
    }
    struct hp_bytes hb = field(&p, end);
    size_t nh = 0;
    for (size_t i = 0; i < hb.n && nh < MAXH;) {
        const uint8_t *nl = memchr(hb.p + i, '\n', hb.n - i);
        size_t ll = nl ? (size_t)(nl - hb.p) - i : hb.n - i;
        const uint8_t *c = memchr(hb.p + i, ':', ll);
        size_t nn = c ? (size_t)(c - hb.p) - i : ll;
        f->h[nh].name = (struct hp_bytes){ hb.p + i, nn };
        f->h[nh].value = c ? (struct hp_bytes){ c + 1, ll - nn - 1 } : (struct hp_bytes){ NULL, 0 };
        nh++;
        i += ll + 1;
    }
    f->v.headers = f->h;
    f->v.nheaders = nh;
    f->v.body = (struct hp_bytes){ p, (size_t)(end - p) };
    f->v.dbody = f->v.body;
    f->v.injected = f->v.body;             /* {{shell_output}}: the body as injected commands */
    f->v.version = (struct hp_bytes){ (const uint8_t *)"HTTP/1.1", 8 };
}

static void check_err(const char *err, size_t errlen, const char *prefix)
{
    CHECK(memchr(err, '\0', errlen) != NULL);
    CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
    const char *s = err + strlen(prefix);
    char *e;
    long line = strtol(s, &e, 10);
    CHECK(e > s && line >= 0 && e[0] == ':' && e[1] == ' ');
}

static void match_render(const struct hp_webrules *r, const uint8_t *p, size_t n)
{
    struct fview f;
    build_view(&f, p, n);
    const struct hp_webresp *resp = hp_webrules_match(r, &f.v);
    const struct hp_webresp *again = hp_webrules_match(r, &f.v);
    CHECK(resp == again);
    if (!resp)
        return;
    CHECK(resp->id && resp->headers && resp->tags && resp->status >= 100 && resp->status <= 599);
    struct hp_buf h, b;
    hp_buf_init(&h, 1 << 20);
    hp_buf_init(&b, 1 << 20);
    hp_webresp_render(resp, &f.v, "nginx", &h, &b);
    /* Templates never inject a line break into headers. */
    size_t crlf = 0, lf = 0;
    for (size_t i = 0; i < h.len; i++) {
        lf += h.data[i] == '\n';
        crlf += h.data[i] == '\n' && i > 0 && h.data[i - 1] == '\r';
    }
    size_t raw_lf = 0;
    for (const char *s = resp->headers; *s; s++)
        raw_lf += *s == '\n';
    CHECK(lf == raw_lf && crlf == lf);
    hp_buf_free(&h);
    hp_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hp_webrules *builtin;
    char err[512];
    if (!builtin) {
        builtin = hp_webrules_builtin(err, sizeof(err));
        CHECK(builtin != NULL);
    }
    if (size == 0 || size > 200000)
        return 0;
    uint8_t mode = data[0] % 3;
    data++;
    size--;
    if (mode == 0) {
        match_render(builtin, data, size);
        return 0;
    }
    if (mode == 1) {
        size_t half = size / 2;
        struct hp_webrules *r = hp_webrules_load_text((const char *)data, half, "fuzz.rules", "/nonexistent",
                                                      err, sizeof(err));
        if (!r) {
            check_err(err, sizeof(err), "fuzz.rules:");
            return 0;
        }
        match_render(r, data + half, size - half);
        hp_webrules_free(r);
        return 0;
    }
    struct hp_webrules *r = hp_webrules_load_text("rule d\nend\n", 11, "d", NULL, err, sizeof(err));
    CHECK(r != NULL);
    int n = hp_webrules_add_wow_text(r, (const char *)data, size, "fuzz.xml", "/nonexistent", err, sizeof(err));
    if (n < 0) {
        check_err(err, sizeof(err), "fuzz.xml:");
        CHECK(hp_webrules_count(r) == 1);
    } else {
        CHECK(hp_webrules_count(r) == 1 + (size_t)n);
        match_render(r, data, size);
    }
    hp_webrules_free(r);
    return 0;
}
