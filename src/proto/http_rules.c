/*
 * http_rules.c - HTTP response rules: rule-file parser, matcher, renderer.
 * See http_rules.h; the WOWHoneypot import is in http_rules_wow.c.
 *
 * Rule file format (one directive per line; leading blanks are ignored;
 * blank lines and lines whose first non-blank is '#' are comments):
 *
 *   rule ID                       starts a rule (ID: [A-Za-z0-9._-], unique)
 *     match method M [M...]       method is one of these (exact, case-sensitive)
 *     match port P [P...]         arrived on one of these local ports
 *     match path RE               PCRE2 on the decoded path
 *     match npath RE              ... on the path nginx would look up ("/a/.."
 *                                 is "/"; empty where nginx answers 400)
 *     match server RE             ... on the Server header the service sends
 *                                 (its personality: which nginx, which distro)
 *     match query RE              ... on the decoded query
 *     match body RE               ... on the decoded body
 *     match header NAME RE        ... on the value of any header NAME
 *     match target RE             ... on the raw request-target
 *     match headers RE            ... on all headers as "Name: value\n" lines
 *     match rawbody RE            ... on the raw body (an empty body never matches)
 *     match !KIND ...             negation of a regex condition (an absent
 *                                 header matches "!header NAME .")
 *     status N                    100..599 (default 200)
 *     header Name: value          an extra response header (templates allowed)
 *     body TEXT                   the body is TEXT and "\n"
 *     body <<TAG                  the body is the following lines up to a line
 *                                 that is exactly TAG, each with its "\n"
 *     file NAME                   the body is data/http/files/NAME
 *     chomp                       drop the body's final "\n"
 *     auth basic REALM            Basic auth: the module answers 401 until the
 *                                 request carries Authorization, and logs it
 *     tag WORD [WORD...]          free-text tags for the event
 *     style NAME                  answer in the form of another server than
 *                                 nginx: go, netty, weblogic, python (http_style.h)
 *     static [try_files]          a page (or a missing one) of nginx's own site;
 *                                 try_files: Debian's default site, where a
 *                                 missing page is 404 whatever the method
 *   end
 *
 * All conditions of a rule must hold; a rule with none is a catch-all.  The
 * first matching rule in file order answers.  Regexes take the rest of the
 * line after the keyword (blanks trimmed), are searched unanchored, match
 * bytes (no UTF mode) and take inline options like (?i) or (?s).
 *
 * Headers and bodies may hold templates ({{date}}, {{host}}, {{random_hex:N}},
 * {{jsonrpc_id}}, {{upnp:KEY}} ...), expanded per response by hp_webresp_render; see
 * http_rules.h.
 *
 * Why everything is compiled at load and matched under limits: rules come
 * from the operator but subjects from the attacker, so a careless pattern
 * like (a+)+$ must not let a 64 KiB body burn the CPU.  A match that hits
 * the match or depth limit counts as "no match".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "proto/http_parse.h"
#include "proto/http_rules_int.h"
#include "proto/ssdp.h"
#include "shell/persona.h"
#include "shell/shell.h"
#include "reader.h"
#include "util.h"

/* ---- small helpers ------------------------------------------------------ */

pcre2_code *wr_compile(const char *pat, size_t n, struct hp_relit *lit, char *msg, size_t msglen)
{
    int ec;
    PCRE2_SIZE eoff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, n, 0, &ec, &eoff, NULL);
    if (!re) {
        PCRE2_UCHAR m[160];
        if (pcre2_get_error_message(ec, m, sizeof(m)) < 0)
            snprintf((char *)m, sizeof(m), "error %d", ec);
        snprintf(msg, msglen, "invalid regex: %s at offset %zu", (const char *)m, (size_t)eoff);
        return NULL;
    }
    /* JIT when the platform has it; the interpreter is the fallback. */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    uint32_t opts = 0;
    bool utf = pcre2_pattern_info(re, PCRE2_INFO_ALLOPTIONS, &opts) != 0 || (opts & (PCRE2_UTF | PCRE2_UCP));
    hp_relit_from_pattern(lit, pat, n, utf);
    return re;
}

void wr_rule_clear(struct wr_rule *ru)
{
    for (size_t i = 0; i < ru->nconds; i++) {
        free(ru->conds[i].hname);
        pcre2_code_free(ru->conds[i].re);
    }
    free(ru->id);
    free(ru->methods);
    free(ru->headers);
    free(ru->body);
    free(ru->realm);
    free(ru->tags);
    memset(ru, 0, sizeof(*ru));
}

void wr_rule_seal(struct wr_rule *ru)
{
    ru->resp.id = ru->id ? ru->id : "";
    if (ru->resp.status == 0)
        ru->resp.status = 200;
    ru->resp.headers = ru->headers ? ru->headers : "";
    ru->resp.body = ru->body ? ru->body : (const uint8_t *)"";
    ru->resp.body_len = ru->body_len;
    ru->resp.auth_realm = ru->realm;
    ru->resp.tags = ru->tags ? ru->tags : "";
}

int wr_set_insert(struct hp_webrules *r, size_t at, struct wr_rule *rules, size_t n)
{
    if (n > WR_MAX_RULES || r->n > WR_MAX_RULES - n || at > r->n)
        return -1;
    if (r->n + n > r->alloc) {
        size_t na = r->alloc ? r->alloc : 16;
        while (na < r->n + n)
            na *= 2;
        struct wr_rule *nr = realloc(r->rules, na * sizeof(*nr));
        if (!nr)
            return -1;
        r->rules = nr;
        r->alloc = na;
    }
    memmove(r->rules + at + n, r->rules + at, (r->n - at) * sizeof(*r->rules));
    memcpy(r->rules + at, rules, n * sizeof(*rules));
    r->n += n;
    /* resp points into each rule's own heap fields, so moving the structs is fine. */
    return 0;
}

bool wr_has_id(const struct hp_webrules *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->rules[i].id, id) == 0)
            return true;
    return false;
}

char *wr_read_file(const char *path, size_t max, size_t *len, char *msg, size_t msglen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(msg, msglen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        snprintf(msg, msglen, "%s: not a regular file of at most %zu bytes", path, max);
        close(fd);
        return NULL;
    }
    size_t n = (size_t)st.st_size, got = 0;
    char *buf = malloc(n + 1);
    if (!buf) {
        snprintf(msg, msglen, "out of memory");
        close(fd);
        return NULL;
    }
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    buf[got] = '\0';
    *len = got;
    return buf;
}

static struct hp_webrules *set_new(void)
{
    struct hp_webrules *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->mctx = pcre2_match_context_create(NULL);
    r->md = pcre2_match_data_create(1, NULL);
    if (!r->mctx || !r->md) {
        pcre2_match_context_free(r->mctx);
        pcre2_match_data_free(r->md);
        free(r);
        return NULL;
    }
    pcre2_set_match_limit(r->mctx, WR_MATCH_LIMIT);
    pcre2_set_depth_limit(r->mctx, WR_DEPTH_LIMIT);
    hp_buf_init(&r->scratch, 256 * 1024);
    return r;
}

void hp_webrules_free(struct hp_webrules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        wr_rule_clear(&r->rules[i]);
    free(r->rules);
    pcre2_match_context_free(r->mctx);
    pcre2_match_data_free(r->md);
    hp_buf_free(&r->scratch);
    free(r);
}

size_t hp_webrules_count(const struct hp_webrules *r)
{
    return r ? r->n : 0;
}

/* ---- rule-file parser --------------------------------------------------- */

struct wr_parse {
    const char *name;
    size_t line;
    char *err;
    size_t errlen;
    const char *files_dir;
    bool embedded;             /* `file NAME` from the compiled-in table */
};

static void perr(const struct wr_parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void perr(const struct wr_parse *ps, const char *fmt, ...)
{
    if (!ps->err || ps->errlen == 0)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errlen, "%s:%zu: %s", ps->name, ps->line, msg);
}

static bool is_blank(int c) { return c == ' ' || c == '\t'; }

/* Trim blanks on both sides of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
    while (*n && is_blank((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_blank((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* Split off the first blank-delimited word; the rest is trimmed. */
static void word(const char **s, size_t *n, const char **w, size_t *wn)
{
    trim(s, n);
    size_t i = 0;
    while (i < *n && !is_blank((unsigned char)(*s)[i]))
        i++;
    *w = *s;
    *wn = i;
    *s += i;
    *n -= i;
    trim(s, n);
}

static bool weq(const char *w, size_t wn, const char *lit)
{
    return wn == strlen(lit) && memcmp(w, lit, wn) == 0;
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static bool valid_token(const char *s, size_t n, const char *extra)
{
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr(extra, c)))
            return false;
    }
    return true;
}

/* Append the words of s to the space-separated list *list. */
static int add_words(char **list, const char *s, size_t n, const char *extra, const struct wr_parse *ps,
                     const char *what)
{
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    if (*list)
        hp_buf_puts(&b, *list);
    while (n) {
        const char *w;
        size_t wn;
        word(&s, &n, &w, &wn);
        if (!valid_token(w, wn, extra)) {
            perr(ps, "invalid %s '%.*s'", what, (int)(wn > 64 ? 64 : wn), w);
            hp_buf_free(&b);
            return -1;
        }
        if (b.len)
            hp_buf_putc(&b, ' ');
        hp_buf_put(&b, w, wn);
    }
    if (!hp_buf_ok(&b) || b.len == 0) {
        perr(ps, "%s", b.len ? "list too long" : "empty list");
        hp_buf_free(&b);
        return -1;
    }
    free(*list);
    *list = dupn((const char *)b.data, b.len);
    hp_buf_free(&b);
    return *list ? 0 : -1;
}

static int add_ports(struct wr_rule *ru, const char *s, size_t n, const struct wr_parse *ps)
{
    while (n) {
        const char *w;
        size_t wn;
        word(&s, &n, &w, &wn);
        unsigned long v = 0;
        bool ok = wn > 0 && wn <= 5;
        for (size_t i = 0; ok && i < wn; i++) {
            ok = w[i] >= '0' && w[i] <= '9';
            v = v * 10 + (unsigned long)(w[i] - '0');
        }
        if (!ok || v < 1 || v > 65535) {
            perr(ps, "invalid port '%.*s'", (int)(wn > 16 ? 16 : wn), w);
            return -1;
        }
        if (ru->nports >= WR_MAX_PORTS) {
            perr(ps, "too many ports (max %d)", WR_MAX_PORTS);
            return -1;
        }
        ru->ports[ru->nports++] = (uint16_t)v;
    }
    return 0;
}

static int add_cond(struct wr_rule *ru, const char *s, size_t n, const struct wr_parse *ps)
{
    static const struct { const char *kw; enum wr_subject subj; } kinds[] = {
        { "path", WR_PATH }, { "npath", WR_NPATH }, { "server", WR_SERVER }, { "query", WR_QUERY }, { "header", WR_HEADER }, { "body", WR_BODY },
        { "target", WR_TARGET }, { "headers", WR_HEADERS }, { "rawbody", WR_RAWBODY },
    };
    const char *w;
    size_t wn;
    word(&s, &n, &w, &wn);
    if (weq(w, wn, "method"))
        return add_words(&ru->methods, s, n, "-_.!#$%&'*+^`|~", ps, "method");
    if (weq(w, wn, "port"))
        return add_ports(ru, s, n, ps);
    bool neg = wn > 0 && w[0] == '!';
    if (neg) {
        w++;
        wn--;
    }
    size_t k = 0;
    while (k < sizeof(kinds) / sizeof(kinds[0]) && !weq(w, wn, kinds[k].kw))
        k++;
    if (k == sizeof(kinds) / sizeof(kinds[0])) {
        perr(ps, "unknown condition '%.*s'", (int)(wn > 32 ? 32 : wn), w);
        return -1;
    }
    if (ru->nconds >= WR_MAX_CONDS) {
        perr(ps, "too many conditions (max %d)", WR_MAX_CONDS);
        return -1;
    }
    struct wr_cond *c = &ru->conds[ru->nconds];
    memset(c, 0, sizeof(*c));
    c->subj = kinds[k].subj;
    c->neg = neg;
    if (c->subj == WR_HEADER) {
        const char *h;
        size_t hn;
        word(&s, &n, &h, &hn);
        if (!valid_token(h, hn, "-_.!#$%&'*+^`|~")) {
            perr(ps, "invalid header name '%.*s'", (int)(hn > 64 ? 64 : hn), h);
            return -1;
        }
        c->hname = dupn(h, hn);
    }
    if (n == 0) {
        perr(ps, "missing regex");
        free(c->hname);
        return -1;
    }
    char msg[256];
    c->re = wr_compile(s, n, &c->lit, msg, sizeof(msg));
    if (!c->re) {
        perr(ps, "%s", msg);
        free(c->hname);
        return -1;
    }
    ru->nconds++;
    return 0;
}

static int add_header(struct wr_rule *ru, const char *s, size_t n, const struct wr_parse *ps)
{
    const char *colon = memchr(s, ':', n);
    size_t nl = colon ? (size_t)(colon - s) : 0;
    if (!colon || !valid_token(s, nl, "-_.!#$%&'*+^`|~")) {
        perr(ps, "header must read 'header Name: value'");
        return -1;
    }
    const char *val = colon + 1;
    size_t vn = n - nl - 1;
    trim(&val, &vn);
    for (size_t i = 0; i < vn; i++) {
        if ((unsigned char)val[i] < 0x20 && val[i] != '\t') {
            perr(ps, "control character in header value");
            return -1;
        }
    }
    size_t old = ru->headers ? strlen(ru->headers) : 0;
    if (old + nl + vn + 4 > WR_MAX_HEADERS) {
        perr(ps, "headers too long");
        return -1;
    }
    char *h = realloc(ru->headers, old + nl + vn + 5);
    if (!h)
        return -1;
    /* "EXT:" (UPnP) has an empty value and no blank after the colon. */
    size_t sep = vn ? 2 : 1;
    memcpy(h + old, s, nl);
    memcpy(h + old + nl, ": ", sep);
    memcpy(h + old + nl + sep, val, vn);
    memcpy(h + old + nl + sep + vn, "\r\n", 3);
    ru->headers = h;
    return 0;
}

static int set_body(struct wr_rule *ru, const void *p, size_t n, const struct wr_parse *ps)
{
    if (ru->body) {
        perr(ps, "body given twice");
        return -1;
    }
    ru->body = malloc(n ? n : 1);
    if (!ru->body)
        return -1;
    if (n)
        memcpy(ru->body, p, n);
    ru->body_len = n;
    return 0;
}

static int load_body_file(struct wr_rule *ru, const char *s, size_t n, const struct wr_parse *ps)
{
    if (n == 0 || n > 200 || s[0] == '/' || memchr(s, '\0', n)) {
        perr(ps, "invalid file name");
        return -1;
    }
    char name[256];
    memcpy(name, s, n);
    name[n] = '\0';
    if (strstr(name, "..")) {
        perr(ps, "file name must not contain '..'");
        return -1;
    }
    if (ps->embedded) {
        size_t len;
        const uint8_t *p = hp_httpdata_file(name, &len);
        if (!p) {
            perr(ps, "no embedded file %s", name);
            return -1;
        }
        return set_body(ru, p, len, ps);
    }
    char path[4096], msg[512];
    snprintf(path, sizeof(path), "%s/%s", ps->files_dir ? ps->files_dir : ".", name);
    size_t len;
    char *data = wr_read_file(path, WR_MAX_BODY, &len, msg, sizeof(msg));
    if (!data) {
        perr(ps, "%s", msg);
        return -1;
    }
    int rc = set_body(ru, data, len, ps);
    free(data);
    return rc;
}

/* Read heredoc lines up to the terminator TAG into the rule's body. */
static int read_heredoc(struct wr_rule *ru, struct hp_rd *rd, const char *tag, size_t tn, struct wr_parse *ps)
{
    size_t start = ps->line;
    struct hp_buf b;
    hp_buf_init(&b, WR_MAX_BODY);
    for (;;) {
        const uint8_t *l;
        size_t ln;
        if (hp_rd_left(rd) == 0) {
            ps->line = start;
            perr(ps, "body <<%.*s not terminated", (int)tn, tag);
            hp_buf_free(&b);
            return -1;
        }
        if (!hp_rd_line(rd, hp_rd_left(rd), &l, &ln)) {
            l = hp_rd_ptr(rd);
            ln = hp_rd_left(rd);
            hp_rd_skip(rd, ln);
        }
        ps->line++;
        const char *t = (const char *)l;
        size_t tl = ln;
        trim(&t, &tl);
        if (tl == tn && memcmp(t, tag, tn) == 0)
            break;
        hp_buf_put(&b, l, ln);
        hp_buf_putc(&b, '\n');
    }
    int rc = -1;
    if (!hp_buf_ok(&b))
        perr(ps, "body too long (max %u bytes)", WR_MAX_BODY);
    else
        rc = set_body(ru, b.data, b.len, ps);
    hp_buf_free(&b);
    return rc;
}

/* One directive inside a rule. */
static int directive(struct wr_rule *ru, const char *kw, size_t kn, const char *s, size_t n,
                     struct hp_rd *rd, struct wr_parse *ps)
{
    if (weq(kw, kn, "match"))
        return add_cond(ru, s, n, ps);
    if (weq(kw, kn, "status")) {
        int v = 0;
        bool ok = n == 3;
        for (size_t i = 0; ok && i < n; i++) {
            ok = s[i] >= '0' && s[i] <= '9';
            v = v * 10 + (s[i] - '0');
        }
        if (!ok || v < 100 || v > 599) {
            perr(ps, "status must be 100..599");
            return -1;
        }
        ru->resp.status = v;
        return 0;
    }
    if (weq(kw, kn, "header"))
        return add_header(ru, s, n, ps);
    if (weq(kw, kn, "body")) {
        if (n > 2 && s[0] == '<' && s[1] == '<') {
            if (!valid_token(s + 2, n - 2, "-_.")) {
                perr(ps, "invalid heredoc tag");
                return -1;
            }
            if (ru->body) {
                perr(ps, "body given twice");
                return -1;
            }
            return read_heredoc(ru, rd, s + 2, n - 2, ps);
        }
        char tmp[WR_MAX_HEADERS];
        if (n + 1 > sizeof(tmp)) {
            perr(ps, "inline body too long; use body <<TAG");
            return -1;
        }
        memcpy(tmp, s, n);
        tmp[n] = '\n';
        return set_body(ru, tmp, n + 1, ps);
    }
    if (weq(kw, kn, "file"))
        return load_body_file(ru, s, n, ps);
    if (weq(kw, kn, "chomp")) {
        if (!ru->body) {
            perr(ps, "chomp before body");
            return -1;
        }
        if (ru->body_len && ru->body[ru->body_len - 1] == '\n')
            ru->body_len--;
        return 0;
    }
    if (weq(kw, kn, "auth")) {
        const char *w;
        size_t wn;
        word(&s, &n, &w, &wn);
        if (!weq(w, wn, "basic") || n == 0 || n > 200 || memchr(s, '"', n)) {
            perr(ps, "auth must read 'auth basic REALM' (no '\"' in REALM)");
            return -1;
        }
        free(ru->realm);
        ru->realm = dupn(s, n);
        return ru->realm ? 0 : -1;
    }
    if (weq(kw, kn, "tag"))
        return add_words(&ru->tags, s, n, "-_.:/+=@", ps, "tag");
    if (weq(kw, kn, "style")) {
        int st = hp_http_style_parse(s, n);
        if (st < 0) {
            perr(ps, "style must be one of nginx, go, netty, weblogic, python");
            return -1;
        }
        ru->resp.style = (enum hp_http_style)st;
        return 0;
    }
    if (weq(kw, kn, "static")) {
        if (n && !weq(s, n, "try_files")) {
            perr(ps, "static takes no argument but try_files");
            return -1;
        }
        ru->resp.nginx_static = true;
        ru->resp.nginx_try_files = n > 0;
        return 0;
    }
    perr(ps, "unknown directive '%.*s'", (int)(kn > 32 ? 32 : kn), kw);
    return -1;
}

static int parse_text(struct hp_webrules *r, const char *text, size_t len, struct wr_parse *ps)
{
    struct hp_rd rd;
    struct wr_rule ru;
    bool in = false;
    size_t rule_line = 0;
    memset(&ru, 0, sizeof(ru));
    hp_rd_init(&rd, text, len);
    ps->line = 0;
    if (len > WR_MAX_FILE || memchr(text, '\0', len)) {
        ps->line = 1;
        perr(ps, "%s", len > WR_MAX_FILE ? "file too big" : "NUL byte in rule text");
        return -1;
    }
    while (hp_rd_left(&rd)) {
        const uint8_t *l;
        size_t ln;
        if (!hp_rd_line(&rd, hp_rd_left(&rd), &l, &ln)) {
            l = hp_rd_ptr(&rd);
            ln = hp_rd_left(&rd);
            hp_rd_skip(&rd, ln);
        }
        ps->line++;
        const char *s = (const char *)l, *kw;
        size_t n = ln, kn;
        trim(&s, &n);
        if (n == 0 || s[0] == '#')
            continue;
        word(&s, &n, &kw, &kn);
        if (weq(kw, kn, "rule")) {
            if (in) {
                perr(ps, "rule inside rule %s (missing end?)", ru.id);
                goto fail;
            }
            if (!valid_token(s, n, "-_.")) {
                perr(ps, "invalid rule id");
                goto fail;
            }
            ru.id = dupn(s, n);
            if (!ru.id)
                goto fail;
            if (wr_has_id(r, ru.id)) {
                perr(ps, "duplicate rule id %s", ru.id);
                goto fail;
            }
            in = true;
            rule_line = ps->line;
            continue;
        }
        if (!in) {
            perr(ps, "'%.*s' outside a rule", (int)(kn > 32 ? 32 : kn), kw);
            goto fail;
        }
        if (weq(kw, kn, "end")) {
            if (n) {
                perr(ps, "junk after end");
                goto fail;
            }
            wr_rule_seal(&ru);
            if (wr_set_insert(r, r->n, &ru, 1) != 0) {
                perr(ps, "too many rules (max %d)", WR_MAX_RULES);
                goto fail;
            }
            memset(&ru, 0, sizeof(ru));
            in = false;
            continue;
        }
        if (directive(&ru, kw, kn, s, n, &rd, ps) != 0)
            goto fail;
    }
    if (in) {
        ps->line = rule_line;
        perr(ps, "rule %s has no end", ru.id);
        goto fail;
    }
    return 0;
fail:
    if (ps->err && ps->errlen && ps->err[0] == '\0')
        perr(ps, "out of memory");
    wr_rule_clear(&ru);
    return -1;
}

static struct hp_webrules *load_text(const char *text, size_t len, struct wr_parse *ps)
{
    if (ps->err && ps->errlen)
        ps->err[0] = '\0';
    struct hp_webrules *r = set_new();
    if (!r) {
        perr(ps, "out of memory");
        return NULL;
    }
    if (parse_text(r, text, len, ps) != 0) {
        hp_webrules_free(r);
        return NULL;
    }
    return r;
}

struct hp_webrules *hp_webrules_load_text(const char *text, size_t len, const char *name, const char *files_dir,
                                          char *err, size_t errlen)
{
    struct wr_parse ps = { .name = name ? name : "rules", .err = err, .errlen = errlen, .files_dir = files_dir };
    return load_text(text ? text : "", text ? len : 0, &ps);
}

struct hp_webrules *wr_load_text_embedded(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
    struct wr_parse ps = { .name = name, .err = err, .errlen = errlen, .embedded = true };
    return load_text(text, len, &ps);
}

struct hp_webrules *hp_webrules_load_file(const char *path, const char *files_dir, char *err, size_t errlen)
{
    char msg[512], dir[4096];
    size_t len;
    char *text = wr_read_file(path, WR_MAX_FILE, &len, msg, sizeof(msg));
    if (!text) {
        snprintf(err, errlen, "%s:0: %s", path, msg);
        return NULL;
    }
    if (!files_dir) {
        const char *slash = strrchr(path, '/');
        int dl = slash ? (int)(slash - path) : 1;
        snprintf(dir, sizeof(dir), "%.*s/files", dl, slash ? path : ".");
        files_dir = dir;
    }
    struct hp_webrules *r = hp_webrules_load_text(text, len, path, files_dir, err, errlen);
    free(text);
    return r;
}

struct hp_webrules *hp_webrules_builtin(char *err, size_t errlen)
{
    size_t len;
    const char *text = hp_httpdata_rules(&len);
    return wr_load_text_embedded(text, len, "builtin:responses.rules", err, errlen);
}

/* ---- matching ----------------------------------------------------------- */

static bool bytes_ieq(struct hp_bytes b, const char *s)
{
    size_t n = strlen(s);
    if (b.n != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char a = b.p[i], c = (unsigned char)s[i];
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a + 32);
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        if (a != c)
            return false;
    }
    return true;
}

/* Own lookup rather than hp_http_view_header so this module stands alone. */
static const struct hp_http_hdr *find_header(const struct hp_http_view *v, const char *name)
{
    for (size_t i = 0; v->headers && i < v->nheaders; i++)
        if (bytes_ieq(v->headers[i].name, name))
            return &v->headers[i];
    return NULL;
}

static bool re_match(const struct hp_webrules *r, const struct wr_cond *c, struct hp_bytes b)
{
    const uint8_t *p = b.p && b.n ? b.p : (const uint8_t *)"";
    size_t n = b.p ? b.n : 0;
    /* Most conditions fail on most requests: a memchr for a literal every
     * match contains (relit.h) spares the call into PCRE2. */
    if (!hp_relit_in(&c->lit, p, n)) {
#ifdef HP_FUZZING
        if (pcre2_match(c->re, (PCRE2_SPTR)p, n, 0, 0, r->md, r->mctx) >= 0)
            abort();  /* the fuzzers check the shortcut against PCRE2 */
#endif
        return false;
    }
    int rc = pcre2_match(c->re, (PCRE2_SPTR)p, n, 0, 0, r->md, r->mctx);
    return rc >= 0;   /* no match, a limit or any error: the condition fails */
}

static bool method_in(const char *list, struct hp_bytes m)
{
    const char *s = list;
    while (*s) {
        size_t n = strcspn(s, " ");
        if (n == m.n && memcmp(s, m.p, n) == 0)
            return true;
        s += n;
        while (*s == ' ')
            s++;
    }
    return false;
}

static struct hp_bytes all_headers(const struct hp_webrules *r, const struct hp_http_view *v)
{
    struct hp_buf *b = (struct hp_buf *)&r->scratch;   /* scratch, see http_rules.h */
    hp_buf_reset(b);
    for (size_t i = 0; v->headers && i < v->nheaders; i++) {
        const struct hp_http_hdr *h = &v->headers[i];
        if (h->name.n)
            hp_buf_put(b, h->name.p, h->name.n);
        hp_buf_put(b, ": ", 2);
        if (h->value.n)
            hp_buf_put(b, h->value.p, h->value.n);
        hp_buf_putc(b, '\n');
    }
    return (struct hp_bytes){ b->data, b->len };
}

static bool cond_holds(const struct hp_webrules *r, const struct wr_cond *c, const struct hp_http_view *v)
{
    bool m = false;
    switch (c->subj) {
    case WR_PATH: m = re_match(r, c, v->dpath); break;
    case WR_NPATH: m = re_match(r, c, v->npath); break;
    case WR_SERVER: m = re_match(r, c, v->server); break;
    case WR_QUERY: m = re_match(r, c, v->dquery); break;
    case WR_BODY: m = re_match(r, c, v->dbody); break;
    case WR_TARGET: m = re_match(r, c, v->target); break;
    case WR_RAWBODY: m = v->body.n > 0 && re_match(r, c, v->body); break;
    case WR_HEADERS: m = re_match(r, c, all_headers(r, v)); break;
    case WR_HEADER:
        for (size_t i = 0; !m && v->headers && i < v->nheaders; i++)
            if (bytes_ieq(v->headers[i].name, c->hname))
                m = re_match(r, c, v->headers[i].value);
        break;
    }
    return m != c->neg;
}

static bool rule_matches(const struct hp_webrules *r, const struct wr_rule *ru, const struct hp_http_view *v)
{
    if (ru->methods && !method_in(ru->methods, v->method))
        return false;
    if (ru->nports) {
        size_t i = 0;
        while (i < ru->nports && ru->ports[i] != v->local_port)
            i++;
        if (i == ru->nports)
            return false;
    }
    for (size_t i = 0; i < ru->nconds; i++)
        if (!cond_holds(r, &ru->conds[i], v))
            return false;
    return true;
}

const struct hp_webresp *hp_webrules_match(const struct hp_webrules *r, const struct hp_http_view *v)
{
    if (!r || !v)
        return NULL;
    for (size_t i = 0; i < r->n; i++)
        if (rule_matches(r, &r->rules[i], v))
            return &r->rules[i].resp;
    return NULL;
}

const struct hp_webresp *hp_webrules_port_style(const struct hp_webrules *r, uint16_t port)
{
    for (size_t i = 0; r && i < r->n; i++) {
        const struct wr_rule *ru = &r->rules[i];
        if (ru->resp.style == HP_HTTP_STYLE_NGINX)
            continue;
        for (size_t k = 0; k < ru->nports; k++)
            if (ru->ports[k] == port)
                return &ru->resp;
    }
    return NULL;
}

/* ---- rendering ---------------------------------------------------------- */

static uint8_t g_secret[32];
static bool g_secret_set;

void hp_webrules_set_secret(const void *key, size_t len)
{
    unsigned int dl = 0;
    if (EVP_Digest(key, len, g_secret, &dl, EVP_sha256(), NULL) == 1 && dl == sizeof(g_secret))
        g_secret_set = true;
}

/* n hex digits (or decimal ones, the first not 0, when dec: a JSON number)
 * that depend only on the secret, the rule and the slot, so a fake key in
 * .env reads the same on every fetch (a fresh one each time would give the
 * honeypot away). */
static void put_random(struct hp_buf *out, const char *id, unsigned slot, unsigned n, bool dec)
{
    static const char hx[] = "0123456789abcdef";
    if (!g_secret_set) {
        hp_random_bytes(g_secret, sizeof(g_secret));
        g_secret_set = true;
    }
    for (unsigned blk = 0; n > 0; blk++) {
        uint8_t in[32 + 128 + 9], md[32];
        size_t idn = strlen(id) > 128 ? 128 : strlen(id), k = 0;
        memcpy(in, g_secret, 32);
        k = 32;
        memcpy(in + k, id, idn);
        k += idn;
        in[k++] = 0;
        memcpy(in + k, &slot, 4);
        k += 4;
        memcpy(in + k, &blk, 4);
        k += 4;
        unsigned int dl = 0;
        if (EVP_Digest(in, k, md, &dl, EVP_sha256(), NULL) != 1)
            memset(md, 0x5a, sizeof(md));
        for (unsigned i = 0; i < (dec ? 32u : 64u) && n > 0; i++, n--) {
            if (!dec)
                hp_buf_putc(out, (uint8_t)hx[(md[i / 2] >> (i % 2 ? 0 : 4)) & 15]);
            else if (blk == 0 && i == 0)
                hp_buf_putc(out, (uint8_t)('1' + md[i] % 9));
            else
                hp_buf_putc(out, (uint8_t)('0' + md[i] % 10));
        }
    }
}

/*
 * When the site's files were written: the Last-Modified and ETag of static
 * pages ({{site_modified}}, {{site_etag}}).  Per sensor (the identity keeps
 * it), so sensors do not share an ETag a search engine could group them by.
 */
static int64_t g_site_time;

void hp_webrules_set_site_time(int64_t t)
{
    g_site_time = t;
}

static int64_t site_time(void)
{
    if (g_site_time <= 0)                 /* not set (tests): some months back */
        g_site_time = (int64_t)time(NULL) - 120 * 86400;
    return g_site_time;
}

static void put_http_date(struct hp_buf *out, time_t t)
{
    char d[64];
    hp_buf_put(out, d, hp_http_fmt_date(t, d, sizeof(d)));
}

static void put_date(struct hp_buf *out)
{
    put_http_date(out, time(NULL));
}

static void put_hex(struct hp_buf *out, uint64_t v)
{
    char d[16];
    size_t n = 0;
    do {
        d[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    while (n)
        hp_buf_putc(out, (uint8_t)d[--n]);
}

/* nginx's ETag of a static file: its mtime and its size in hex, quoted
 * (no printf: the welcome page carries it on every answer). */
static void put_site_etag(struct hp_buf *out, size_t body_len)
{
    hp_buf_putc(out, '"');
    put_hex(out, (uint64_t)site_time());
    hp_buf_putc(out, '-');
    put_hex(out, body_len);
    hp_buf_putc(out, '"');
}

/* The site's date, formatted once per site time. */
static void put_site_modified(struct hp_buf *out)
{
    static _Thread_local int64_t done_for;
    static _Thread_local char text[40];
    static _Thread_local size_t len;
    if (done_for != site_time()) {
        struct hp_buf b;
        hp_buf_init(&b, sizeof(text) - 1);
        put_http_date(&b, (time_t)site_time());
        len = hp_buf_ok(&b) ? b.len : 0;
        if (len)
            memcpy(text, b.data, len);
        hp_buf_free(&b);
        done_for = site_time();
    }
    hp_buf_put(out, text, len);
}

/* The Host header if it looks like a host name or address, else "localhost":
 * it is echoed into bodies and headers, so nothing else may pass. */
static void put_host(struct hp_buf *out, const struct hp_http_view *v)
{
    const struct hp_http_hdr *h = find_header(v, "host");
    if (h && h->value.n > 0 && h->value.n <= 255) {
        bool ok = true;
        for (size_t i = 0; ok && i < h->value.n; i++) {
            uint8_t c = h->value.p[i];
            ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
        }
        if (ok) {
            hp_buf_put(out, h->value.p, h->value.n);
            return;
        }
    }
    hp_buf_puts(out, "localhost");
}

/* True if the response headers name an XML or HTML body: a path written into
 * one has its '&' and '\'' escaped, as MinIO's and Jetty's pages do (a raw '&'
 * makes the XML malformed, which no real server sends). */
static bool markup_body(const char *headers)
{
    for (const char *h = headers; h && *h;) {
        const char *eol = strchr(h, '\n');
        size_t n = eol ? (size_t)(eol - h) : strlen(h);
        if (n > 13 && strncasecmp(h, "Content-Type:", 13) == 0) {
            for (size_t i = 13; i + 3 <= n; i++)
                if (strncasecmp(h + i, "xml", 3) == 0 || (i + 4 <= n && strncasecmp(h + i, "html", 4) == 0))
                    return true;
            return false;
        }
        h = eol ? eol + 1 : h + n;
    }
    return false;
}

/* The raw request path if it is plain URL text (it goes into a Location
 * header), else "/".  body_headers: the headers of the body it goes into
 * (NULL for a header), for markup_body. */
static void put_path(struct hp_buf *out, const struct hp_http_view *v, const char *body_headers)
{
    bool ok = v->path.n > 0 && v->path.n <= 1024 && v->path.p[0] == '/';
    bool escape = false;
    for (size_t i = 0; ok && i < v->path.n; i++) {
        uint8_t c = v->path.p[i];
        ok = c > 0x20 && c < 0x7f && c != '"' && c != '<' && c != '>' && c != '\\';
        escape |= c == '&' || c == '\'';
    }
    if (!ok) {
        hp_buf_putc(out, '/');
        return;
    }
    if (!escape || !markup_body(body_headers)) {
        hp_buf_put(out, v->path.p, v->path.n);
        return;
    }
    for (size_t i = 0; i < v->path.n; i++) {
        uint8_t c = v->path.p[i];
        if (c == '&')
            hp_buf_puts(out, "&amp;");
        else if (c == '\'')
            hp_buf_puts(out, "&#39;");
        else
            hp_buf_putc(out, c);
    }
}

static void skip_ws(struct hp_rd *rd)
{
    int c;
    while ((c = hp_rd_peek_u8(rd, 0)) == ' ' || c == '\t' || c == '\r' || c == '\n')
        hp_rd_skip(rd, 1);
}

/* Skip a JSON string (at its opening quote); false if malformed. */
static bool skip_jstring(struct hp_rd *rd)
{
    hp_rd_skip(rd, 1);
    while (hp_rd_left(rd)) {
        uint8_t c = hp_rd_u8(rd);
        if (c == '\\')
            hp_rd_skip(rd, 1);
        else if (c == '"')
            return hp_rd_ok(rd);
        else if (c < 0x20)
            return false;
    }
    return false;
}

/* Skip one JSON value; nesting and length are bounded by the reader. */
static bool skip_jvalue(struct hp_rd *rd)
{
    int c = hp_rd_peek_u8(rd, 0);
    if (c == '"')
        return skip_jstring(rd);
    if (c == '{' || c == '[') {
        unsigned depth = 0;
        while (hp_rd_left(rd)) {
            c = hp_rd_peek_u8(rd, 0);
            if (c == '"') {
                if (!skip_jstring(rd))
                    return false;
                continue;
            }
            hp_rd_skip(rd, 1);
            if (c == '{' || c == '[')
                depth++;
            else if ((c == '}' || c == ']') && --depth == 0)
                return true;
        }
        return false;
    }
    size_t n = 0;
    while ((c = hp_rd_peek_u8(rd, 0)) >= 0 && c != ',' && c != '}' && c != ']' && c != ' ' &&
           c != '\t' && c != '\r' && c != '\n')
        hp_rd_skip(rd, 1), n++;
    return n > 0;
}

/* The "id" member of the (first) JSON-RPC request object as raw JSON, if it
 * is a number, a short string without escapes-to-worry-about, or null. */
static bool jsonrpc_id(struct hp_bytes body, const uint8_t **idp, size_t *idn)
{
    struct hp_rd rd;
    hp_rd_init(&rd, body.p ? body.p : (const uint8_t *)"", body.p ? body.n : 0);
    skip_ws(&rd);
    if (hp_rd_peek_u8(&rd, 0) == '[') {
        hp_rd_skip(&rd, 1);
        skip_ws(&rd);
    }
    if (hp_rd_peek_u8(&rd, 0) != '{')
        return false;
    hp_rd_skip(&rd, 1);
    for (unsigned members = 0; members < 256; members++) {
        skip_ws(&rd);
        if (hp_rd_peek_u8(&rd, 0) != '"')
            return false;
        const uint8_t *k = hp_rd_ptr(&rd);
        if (!skip_jstring(&rd))
            return false;
        bool is_id = hp_rd_ptr(&rd) - k == 4 && memcmp(k, "\"id\"", 4) == 0;
        skip_ws(&rd);
        if (hp_rd_u8(&rd) != ':')
            return false;
        skip_ws(&rd);
        const uint8_t *val = hp_rd_ptr(&rd);
        int first = hp_rd_peek_u8(&rd, 0);
        if (!skip_jvalue(&rd))
            return false;
        size_t vn = (size_t)(hp_rd_ptr(&rd) - val);
        if (is_id) {
            bool ok = vn > 0 && vn <= 128 && first != '{' && first != '[';
            for (size_t i = 0; ok && i < vn; i++)
                ok = val[i] >= 0x20 && val[i] < 0x7f && (first == '"' || strchr("-+.0123456789eEnul", val[i]));
            if (ok) {
                *idp = val;
                *idn = vn;
            }
            return ok;
        }
        skip_ws(&rd);
        if (hp_rd_u8(&rd) != ',')
            return false;
    }
    return false;
}

/* Decimal digits only (not NUL-terminated); 0 when malformed. */
static unsigned parse_small(const char *s, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v;
}

/* {{persona:KEY}}: what the SSH shell's Debian box says of itself, so that a
 * service's banner (Docker's /info, /version) names the same host and kernel. */
static bool put_persona(struct hp_buf *out, const char *key, size_t n)
{
    const struct hp_persona *p = hp_persona_get("debian");
    if (!p)
        return false;
    if (n == 8 && memcmp(key, "hostname", 8) == 0)
        hp_buf_puts(out, p->hostname);
    else if (n == 6 && memcmp(key, "kernel", 6) == 0)
        hp_buf_puts(out, p->kernel_release);
    else if (n == 2 && memcmp(key, "os", 2) == 0)
        hp_buf_puts(out, p->os_name);
    else if (n == 4 && memcmp(key, "cpus", 4) == 0)
        hp_buf_printf(out, "%u", p->cpu_cores);
    else if (n == 9 && memcmp(key, "mem_bytes", 9) == 0)
        hp_buf_printf(out, "%llu", (unsigned long long)p->mem_kb * 1024);
    else
        return false;
    return true;
}

/* {{shell_output}} / {{shell_output:ARG}}: what the request's injected
 * commands print on the emulated machine (shell.h hp_shell_oneshot), never
 * run.  ARG "busybox" is the sensor's router or camera, any other ARG the
 * user on the Debian machine ("www-data" under a PHP site); none: root on
 * the Debian machine.  Empty when the request injects nothing. */
static void put_shell_output(struct hp_buf *out, const struct hp_http_view *v, const char *arg, size_t n)
{
    if (!v->injected.n)
        return;
    if (!hp_shell_oneshot_allowed())
        return;
    char user[33] = "";
    struct hp_shell_oneshot o = { 0 };
    if (n == 7 && memcmp(arg, "busybox", 7) == 0) {
        o.personality = "busybox";
    } else if (n && n < sizeof(user)) {
        memcpy(user, arg, n);
        user[n] = '\0';
        o.user = user;
        if (strcmp(user, "www-data") == 0)       /* ps: the service that ran the command */
            o.daemon = "php-fpm: pool www";
        else if (strcmp(user, "tomcat") == 0)
            o.daemon = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java -Djava.util.logging.config.file=/var/lib/tomcat10/"
                       "conf/logging.properties -Djava.util.logging.manager=org.apache.juli.ClassLoaderLogManager "
                       "-classpath /usr/share/tomcat10/bin/bootstrap.jar:/usr/share/tomcat10/bin/tomcat-juli.jar "
                       "-Dcatalina.base=/var/lib/tomcat10 -Dcatalina.home=/usr/share/tomcat10 -Djava.io.tmpdir=/tmp "
                       "org.apache.catalina.startup.Bootstrap start";
    }
    hp_shell_oneshot(&o, (const char *)v->injected.p, v->injected.n, out);
}

/* "N" or "N:KEY": N digits keyed by (rule, slot), or by KEY alone so that
 * several rules can show the same fake value (an account address). */
static bool random_tpl(const char *a, size_t n, const char *id, unsigned *slot, bool dec, struct hp_buf *out)
{
    const char *colon = memchr(a, ':', n);
    size_t dn = colon ? (size_t)(colon - a) : n;
    unsigned hexn = dn && dn <= 3 ? parse_small(a, dn) : 0;
    if (hexn < 1 || hexn > 128)
        return false;
    if (colon) {
        char key[64];
        size_t kn = n - dn - 1;
        if (kn == 0 || kn >= sizeof(key))
            return false;
        memcpy(key, colon + 1, kn);
        key[kn] = '\0';
        put_random(out, key, 0xffffffffu, hexn, dec);
    } else {
        put_random(out, id, (*slot)++, hexn, dec);
    }
    return true;
}

/* body_headers: the response's headers when s is its body, else NULL (put_path). */
static void render(const char *id, const uint8_t *s, size_t n, const struct hp_http_view *v, const char *server,
                   unsigned *slot, size_t body_len, const char *body_headers, struct hp_buf *out)
{
    size_t i = 0;
    while (i < n) {
        const uint8_t *o = i + 1 < n ? memchr(s + i, '{', n - i - 1) : NULL;
        if (!o) {
            hp_buf_put(out, s + i, n - i);
            return;
        }
        size_t at = (size_t)(o - s);
        hp_buf_put(out, s + i, at - i);
        i = at;
        if (s[at + 1] != '{') {
            hp_buf_putc(out, '{');
            i++;
            continue;
        }
        size_t lim = n - at > 40 ? at + 40 : n, e = at + 2;
        while (e + 1 < lim && !(s[e] == '}' && s[e + 1] == '}'))
            e++;
        if (e + 1 >= lim) {
            hp_buf_put(out, "{{", 2);
            i = at + 2;
            continue;
        }
        const char *name = (const char *)s + at + 2;
        size_t nl = e - at - 2;
        const uint8_t *jid;
        size_t jn;
        if (nl == 4 && memcmp(name, "date", 4) == 0)
            put_date(out);
        else if (nl == 13 && memcmp(name, "site_modified", 13) == 0)
            put_site_modified(out);
        else if (nl == 9 && memcmp(name, "site_etag", 9) == 0)
            put_site_etag(out, body_len);
        else if (nl == 4 && memcmp(name, "host", 4) == 0)
            put_host(out, v);
        else if (nl == 4 && memcmp(name, "path", 4) == 0)
            put_path(out, v, body_headers);
        else if (nl == 6 && memcmp(name, "server", 6) == 0)
            hp_buf_puts(out, server ? server : "nginx");
        else if (nl == 10 && memcmp(name, "jsonrpc_id", 10) == 0) {
            if (jsonrpc_id(v->body, &jid, &jn))
                hp_buf_put(out, jid, jn);
            else
                hp_buf_puts(out, "null");
        } else if (nl > 11 && memcmp(name, "random_hex:", 11) == 0 && random_tpl(name + 11, nl - 11, id, slot, false, out)) {
            /* done */
        } else if (nl > 11 && memcmp(name, "random_dec:", 11) == 0 && random_tpl(name + 11, nl - 11, id, slot, true, out)) {
            /* done */
        } else if (nl > 5 && nl < 5 + 32 && memcmp(name, "upnp:", 5) == 0) {
            char key[32];                /* the per-sensor UPnP device (src/proto/ssdp.h) */
            memcpy(key, name + 5, nl - 5);
            key[nl - 5] = '\0';
            hp_buf_puts(out, hp_upnp_fact(key));
        } else if (nl > 8 && memcmp(name, "persona:", 8) == 0 && put_persona(out, name + 8, nl - 8)) {
            /* done */
        } else if (nl >= 12 && memcmp(name, "shell_output", 12) == 0 && (nl == 12 || name[12] == ':')) {
            if (body_headers)            /* the body only: output has line breaks */
                put_shell_output(out, v, name + 12 + (nl > 12), nl - 12 - (nl > 12));
        } else
            hp_buf_put(out, s + at, e + 2 - at);   /* unknown: verbatim */
        i = e + 2;
    }
}

void hp_webresp_render(const struct hp_webresp *resp, const struct hp_http_view *v, const char *server,
                       struct hp_buf *headers_out, struct hp_buf *body_out)
{
    static const struct hp_http_view empty;
    unsigned slot = 0;
    if (!resp)
        return;
    if (!v)
        v = &empty;
    const uint8_t *h = (const uint8_t *)resp->headers;
    size_t hn = strlen(resp->headers);
    if (headers_out && body_out && strstr(resp->headers, "{{site_etag}}")) {
        /* The ETag needs the body's length: the body first, its random_hex
         * slots numbered after the headers' as always (a dry run counts
         * them, when the headers have any). */
        if (strstr(resp->headers, "{{random_hex:")) {
            struct hp_buf dry;
            hp_buf_init(&dry, headers_out->cap);
            render(resp->id, h, hn, v, server, &slot, 0, NULL, &dry);
            hp_buf_free(&dry);
        }
        size_t before = body_out->len;
        render(resp->id, resp->body, resp->body_len, v, server, &slot, 0, resp->headers, body_out);
        unsigned hslot = 0;
        render(resp->id, h, hn, v, server, &hslot, body_out->len - before, NULL, headers_out);
        return;
    }
    if (headers_out)
        render(resp->id, h, hn, v, server, &slot, 0, NULL, headers_out);
    if (body_out)
        render(resp->id, resp->body, resp->body_len, v, server, &slot, 0, resp->headers, body_out);
}
