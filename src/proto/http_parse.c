/*
 * http_parse.c - HTTP/1.x request parser, response writer, view builder.
 *
 * Design.  A request is parsed in two phases.  The head (leading empty lines,
 * request line, header lines, blank line) is parsed from the caller's buffer
 * each time the caller has more bytes, consuming nothing until it is complete;
 * every byte seen is validated at once, so junk is answered 400 after its
 * first bad byte rather than after 64 KiB.  Lines come from hp_rd_line() (a
 * memchr), and each line is validated by index inside the slice the reader
 * returned.  Once the head is complete the body is fed through a small state
 * machine (Content-Length countdown, or chunk-size line / chunk data / CRLF /
 * trailers) which can stop at any byte; when the body is not all there the
 * head is copied into the parser (its pointers rebased) and the caller drops
 * what was absorbed, so bodies never need to fit in the caller's buffer.
 *
 * Grammar, after nginx 1.22 (ngx_http_parse.c, ngx_http_request.c):
 *  - CR and LF before the request line are skipped; LF alone ends any line.
 *  - method: 1+ token chars (nginx wants A-Z _ -: we keep more to see more,
 *    and report the 400 nginx sends in nginx_status; nginx sets no length);
 *    then one or more SP; target: 1+ bytes other than SP, CTL and DEL (bytes
 *    >= 0x80 kept; nginx 1.21.1+ also rejects SP/CTL); then SP+ "HTTP/"
 *    major "." minor SP* EOL.  Major > 1 -> 505 (nginx checks as digits
 *    arrive, so HTTP/2.0 and HTTP/10.1 are 505), a major starting with 0
 *    (HTTP/0.9, HTTP/01.1) -> 400, a minor over 999 -> 400 (nginx refuses a
 *    digit after 99, so 1.999 passes).
 *  - "GET /" with no version is HTTP/0.9: no headers, never keep-alive; any
 *    other method is nginx's 400 (nginx_status), answered without a head.
 *  - header: name of bytes other than SP/CTL/DEL/':' (nginx ignores odd names;
 *    we keep them), ':' , value with SP trimmed (a tab stays); a name alone
 *    is a header with an empty value; NUL in the value, or a CR followed by
 *    anything but CRs and the LF -> 400; a line starting with SP/HT
 *    (obs-fold) -> 400.  A Host nginx's validate_host refuses -> nginx 400;
 *    over 1000 header lines -> nginx's "too large" 400.
 *  - duplicate Host, Content-Length or Transfer-Encoding -> 400; then, as in
 *    nginx, a 1.1 request without Host is 400 before its framing is looked
 *    at; Content-Length not all digits or over INT64_MAX -> 400, > 64 MiB
 *    -> 413; Transfer-Encoding with HTTP/1.0
 *    -> 400, other than "chunked" -> 501, together with Content-Length -> 400
 *    (nginx 1.21.1+ refuses the smuggling-prone combination outright rather
 *    than letting chunked win; we do the same).
 *  - keep-alive: 1.1 unless a Connection header contains "close", 1.0 only if
 *    one contains "keep-alive" (nginx's substring match; the last header wins).
 *  - Expect: exactly "100-continue" (case-insensitive), HTTP/1.1 only.
 *  - chunks: hex size (at least one digit, overflow -> 400), optional SP/HT/';'
 *    extension up to EOL (lines up to 4 KiB), data, CRLF or LF; after the 0
 *    chunk trailer lines are skipped up to a blank line (64 KiB at most).
 * nginx answers 400 to a 1.1 request without Host, 405 to TRACE and to a
 * CONNECT with an absolute URI (CONNECT host:port is 400: not a URI to it);
 * those are reported in req->nginx_status so the body can still be analysed.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/reader.h"
#include "proto/http_parse.h"
#include "util.h"

#define HTTP_METHOD_MAX 32
/* Longer than any valid request line (method, a target of HP_HTTP_URI_MAX,
 * version, some blanks): 414, as nginx answers.  A request line still
 * coming is validated anew on each read, so this bounds what a trickled one
 * costs (only blank runs could make it longer). */
#define HTTP_REQLINE_MAX (HP_HTTP_URI_MAX + 1024)
#define HTTP_CHUNK_LINE_MAX 4096
#define HTTP_TRAILER_MAX (64 * 1024)

enum http_state {
    ST_HEAD,        /* no request in progress */
    ST_BODY_CL,     /* Content-Length bytes remain */
    ST_CHUNK_SIZE,  /* expecting a chunk-size line */
    ST_CHUNK_DATA,  /* chunk data bytes remain */
    ST_CHUNK_CRLF,  /* expecting the CRLF after chunk data */
    ST_TRAILER,     /* after the last chunk: trailer lines until a blank one */
};

struct hp_http_parser {
    size_t max_body;
    enum http_state state;
    bool in_progress;        /* p->req holds a head whose body is being absorbed */
    bool want_continue;
    struct hp_http_req req;  /* the pending request, pointers into p->head */
    uint8_t *head;           /* saved head of the pending request */
    uint8_t *body;           /* kept body bytes */
    size_t body_n, body_alloc;
    uint64_t remaining;      /* Content-Length or chunk bytes still to come */
    uint64_t body_total;     /* body bytes seen (de-chunked) */
    uint64_t wire;           /* bytes of this request absorbed in earlier calls */
    size_t trailer_bytes;
    size_t head_seen;        /* input length at the last incomplete-head parse */
    bool head_in_headers;    /* ... which had seen the whole request line */
    size_t line_start;       /* ... and where its partial last line starts */
    size_t lead;             /* ... the CR/LF bytes before its request line */
    size_t part_checked;     /* bytes of that partial header line validated */
    size_t part_value;       /* ... where its value starts, 0 before its ':' */
};

/* ---- character classes -------------------------------------------------- */

static bool http_is_tchar(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool http_bytes_ieq(struct hp_bytes b, const char *s)
{
    size_t n = strlen(s);
    return b.n == n && strncasecmp((const char *)b.p, s, n) == 0;
}

/* Case-insensitive substring test, bounded by the value's length. */
static bool http_bytes_icontains(struct hp_bytes b, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; n <= b.n && i <= b.n - n; i++)
        if (strncasecmp((const char *)b.p + i, s, n) == 0)
            return true;
    return false;
}

/* ---- parser lifetime ----------------------------------------------------- */

struct hp_http_parser *hp_http_parser_new(size_t max_body)
{
    struct hp_http_parser *p = calloc(1, sizeof(*p));
    if (p)
        p->max_body = max_body;
    return p;
}

void hp_http_parser_reset(struct hp_http_parser *p)
{
    free(p->head);
    p->head = NULL;
    p->state = ST_HEAD;
    p->in_progress = false;
    p->want_continue = false;
    p->body_n = 0;
    p->remaining = 0;
    p->body_total = 0;
    p->wire = 0;
    p->trailer_bytes = 0;
    p->head_seen = 0;
    p->head_in_headers = false;
    p->line_start = 0;
    p->lead = 0;
    p->part_checked = 0;
    p->part_value = 0;
}

void hp_http_parser_free(struct hp_http_parser *p)
{
    if (!p)
        return;
    hp_http_parser_reset(p);
    free(p->body);
    free(p);
}

bool hp_http_parser_want_continue(struct hp_http_parser *p)
{
    bool w = p->in_progress && p->want_continue;
    p->want_continue = false;
    return w;
}

const struct hp_http_req *hp_http_parser_pending(struct hp_http_parser *p)
{
    if (!p->in_progress)
        return NULL;
    p->req.body.p = p->body;
    p->req.body.n = p->body_n;
    p->req.body_len = p->body_total;
    p->req.body_truncated = p->body_total > p->body_n;
    return &p->req;
}

/* ---- the head -------------------------------------------------------------- */

enum { PR_OK, PR_MORE, PR_ERR };

static struct hp_bytes http_bytes(const uint8_t *p, size_t n)
{
    struct hp_bytes b = { p, n };
    return b;
}

/* Skip SP from i; returns the new index. */
static size_t http_skip_sp(const uint8_t *l, size_t n, size_t i)
{
    while (i < n && l[i] == ' ')
        i++;
    return i;
}

/* "HTTP/" major "." minor SP* from l[i]: PR_OK with the line fully used. */
static int http_parse_version(const uint8_t *l, size_t n, size_t i, bool complete, struct hp_http_req *req,
                              int *status)
{
    static const char proto[] = "HTTP/";
    size_t v0 = i;
    for (size_t k = 0; k < 5; k++, i++) {
        if (i == n)
            return complete ? (*status = 400, PR_ERR) : PR_MORE;
        if (l[i] != (uint8_t)proto[k])
            return *status = 400, PR_ERR;
    }
    int major = 0, minor = 0, nd = 0;
    if (i < n && l[i] == '0')
        return *status = 400, PR_ERR;      /* nginx wants 1-9 first: HTTP/0.9, HTTP/01.1 are 400 */
    for (; i < n && l[i] >= '0' && l[i] <= '9'; i++, nd++) {
        major = major * 10 + (l[i] - '0');
        if (major > 1)
            return *status = 505, PR_ERR;  /* as nginx: HTTP/2.0, HTTP/10.1 */
    }
    if (i == n)
        return complete ? (*status = 400, PR_ERR) : PR_MORE;
    if (nd == 0 || l[i] != '.')
        return *status = 400, PR_ERR;
    i++;
    nd = 0;
    for (; i < n && l[i] >= '0' && l[i] <= '9'; i++, nd++) {
        if (minor > 99)                    /* nginx checks before it adds the digit: 1.999 passes */
            return *status = 400, PR_ERR;
        minor = minor * 10 + (l[i] - '0');
    }
    size_t vend = i;
    i = http_skip_sp(l, n, i);
    if (i < n)
        return *status = 400, PR_ERR;
    if (!complete)
        return PR_MORE;
    if (nd == 0)
        return *status = 400, PR_ERR;
    req->version = http_bytes(l + v0, vend - v0);
    req->major = major;
    req->minor = minor;
    return PR_OK;
}

static bool http_ngx_method(struct hp_bytes m);
static bool http_ngx_target(const struct hp_http_req *req, bool v09);

/*
 * Validate a request line (complete: the whole line, EOL stripped; else the
 * bytes received so far) and fill req's method/target/version.
 */
static int http_reqline_fields(const uint8_t *l, size_t n, bool complete, struct hp_http_req *req, int *status)
{
    size_t i = 0;
    while (i < n && http_is_tchar(l[i]))
        i++;                               /* nginx sets no length: HTTP_REQLINE_MAX bounds it */
    if (i == n)
        return complete ? (*status = 400, PR_ERR) : PR_MORE;
    if (i == 0 || l[i] != ' ')
        return *status = 400, PR_ERR;
    req->method = http_bytes(l, i);
    i = http_skip_sp(l, n, i);
    if (i == n)
        return complete ? (*status = 400, PR_ERR) : PR_MORE;
    size_t t0 = i;
    while (i < n && l[i] > ' ' && l[i] != 0x7f)
        i++;
    if (i - t0 > HP_HTTP_URI_MAX)
        return *status = 414, PR_ERR;
    if (i < n && l[i] != ' ')
        return *status = 400, PR_ERR;  /* CTL in the target */
    req->target = http_bytes(l + t0, i - t0);
    i = http_skip_sp(l, n, i);
    if (i == n && !complete)
        return PR_MORE;
    if (i == n) {
        /* HTTP/0.9: "GET /" and nothing else. */
        req->version = http_bytes(l + n, 0);
        req->major = 0;
        req->minor = 9;
    } else {
        int rc = http_parse_version(l, n, i, complete, req, status);
        /* nginx reads the line in order: a method or target it refuses is
         * 400 before the version is looked at ("PRI * HTTP/2.0", h2c's preface) */
        if (rc == PR_ERR && *status == 505 && (!http_ngx_method(req->method) || !http_ngx_target(req, false)))
            *status = 400;
        if (rc != PR_OK)
            return rc;
    }
    if (req->major == 0 && !http_bytes_ieq(req->method, "GET"))
        return *status = 400, PR_ERR;      /* without a head from nginx: hp_http_ngx_headless_line */
    return PR_OK;
}

/* The same, but a line over HTTP_REQLINE_MAX is 414 once its first
 * HTTP_REQLINE_MAX bytes are found valid: only those are looked at, so the
 * answer does not depend on where the reads cut the line. */
static int http_parse_reqline(const uint8_t *l, size_t n, bool complete, struct hp_http_req *req, int *status)
{
    if (n <= HTTP_REQLINE_MAX)
        return http_reqline_fields(l, n, complete, req, status);
    if (http_reqline_fields(l, HTTP_REQLINE_MAX, false, req, status) == PR_ERR)
        return PR_ERR;
    return *status = 414, PR_ERR;
}

/* nginx ends a header line at LF after any run of CRs ("A: b\r\r\n" is
 * "b"); a CR followed by anything else is 400.  Whether v[0..n) has one. */
static bool http_bad_cr(const uint8_t *v, size_t n)
{
    for (const uint8_t *q = n ? memchr(v, '\r', n) : NULL; q; q = memchr(q + 1, '\r', (size_t)(v + n - q - 1)))
        if (q + 1 < v + n && q[1] != '\r')
            return true;
    return false;
}

/* Validate a header line (complete or the bytes so far) into h. */
static int http_parse_header(const uint8_t *l, size_t n, bool complete, struct hp_http_hdr *h, int *status)
{
    while (complete && n > 1 && l[0] != '\r' && l[n - 1] == '\r')
        n--;
    if (n == 0)
        return complete ? PR_OK : PR_MORE;
    if (l[0] == ' ' || l[0] == '\t')
        return *status = 400, PR_ERR;  /* obs-fold */
    size_t i = 0;
    while (i < n && l[i] > ' ' && l[i] != 0x7f && l[i] != ':')
        i++;
    if (i == n && !complete)
        return PR_MORE;
    if (i == 0 || (i < n && l[i] != ':'))
        return *status = 400, PR_ERR;  /* empty name, SP or CTL in the name */
    /* a name alone ("X-A") is nginx's header with an empty value */
    size_t v = i < n ? i + 1 : n;
    if (memchr(l + v, '\0', n - v) || http_bad_cr(l + v, n - v))
        return *status = 400, PR_ERR;
    if (!complete)
        return PR_MORE;
    /* nginx trims SP only: a tab stays in the value ("Content-Length: 3\t" is 400) */
    while (v < n && l[v] == ' ')
        v++;
    size_t e = n;
    while (e > v && l[e - 1] == ' ')
        e--;
    h->name = http_bytes(l, i);
    h->value = http_bytes(l + v, e - v);
    return PR_OK;
}

/* A partial line: the bytes left in r, without its trailing CRs (an LF may
 * follow them; what follows decides, http_bad_cr). */
static void http_partial(const struct hp_rd *r, const uint8_t **l, size_t *n)
{
    *l = hp_rd_ptr(r);
    *n = hp_rd_left(r);
    while (*n > 0 && (*l)[*n - 1] == '\r')
        (*n)--;
}

/* The head is incomplete: junk already seen is an error, else wait (or, past
 * HP_HTTP_HEAD_MAX, what nginx says of a head its buffers cannot hold). */
static int http_head_incomplete(int rc, size_t len, int *status)
{
    if (rc == PR_ERR)
        return PR_ERR;
    if (len >= HP_HTTP_HEAD_MAX)
        return *status = HP_HTTP_HEADER_TOO_LARGE, PR_ERR;
    return PR_MORE;
}

/* What the framing and connection headers said (all of them, kept or not). */
struct http_sem {
    int nhost, ncl, nte;
    struct hp_bytes cl, te;
    int conn;              /* 0 none, 1 close, 2 keep-alive: the last Connection header */
    bool expect;
    bool reqline_done;     /* the request line was complete */
    size_t partial_at;     /* head incomplete: where its last, partial line starts */
    size_t lead;           /* the CR/LF bytes before the request line */
};

/* ngx_http_validate_host: no empty name (after a port or one trailing dot
 * is dropped), no "..", no '/', NUL, blank or control byte. */
static bool http_ngx_host_ok(struct hp_bytes h)
{
    size_t dot = h.n, len = h.n;
    int state = 0;                      /* 0 the name, 1 an IPv6 literal, 2 the port */
    for (size_t i = 0; i < h.n; i++) {
        uint8_t c = h.p[i];
        if (c == '.') {
            if (dot + 1 == i)
                return false;
            dot = i;
        } else if (c == ':') {
            if (state == 0) {
                len = i;
                state = 2;
            }
        } else if (c == '[') {
            if (i == 0)
                state = 1;
        } else if (c == ']') {
            if (state == 1) {
                len = i + 1;
                state = 2;
            }
        } else if (c == '/' || c <= ' ' || c == 0x7f) {
            return false;
        }
    }
    if (len > 0 && dot == len - 1)
        len--;
    return len > 0;
}

static void http_sem_note(struct http_sem *s, const struct hp_http_hdr *h)
{
    if (http_bytes_ieq(h->name, "Host")) {
        s->nhost++;
    } else if (http_bytes_ieq(h->name, "Content-Length")) {
        s->ncl++;
        s->cl = h->value;
    } else if (http_bytes_ieq(h->name, "Transfer-Encoding")) {
        s->nte++;
        s->te = h->value;
    } else if (http_bytes_ieq(h->name, "Connection")) {
        if (http_bytes_icontains(h->value, "close"))
            s->conn = 1;
        else if (http_bytes_icontains(h->value, "keep-alive"))
            s->conn = 2;
    } else if (http_bytes_ieq(h->name, "Expect")) {
        s->expect = http_bytes_ieq(h->value, "100-continue");
    }
}

/*
 * What nginx 1.22 answers for a head its buffers cannot hold.  It reads a
 * head into a 1 KiB buffer (client_header_buffer_size) and, each time that
 * one is full, moves the line in progress into the next of at most four
 * 8 KiB buffers (large_client_header_buffers 4 8k); a line never spans two.
 * A request line that fits none is 414, any other shortage 400 with the
 * page "Request Header Or Cookie Too Large" (nginx's internal status 494).
 * hanipo reads heads up to HP_HTTP_HEAD_MAX to record them, and reports in
 * nginx_status what nginx would have answered.
 */
#define NGX_FIRST_BUF 1024
#define NGX_LARGE_BUF 8192
#define NGX_LARGE_BUFS 4
/* Debian's nginx 1.22 refuses a head of more than 1000 header lines, as it
 * refuses one too large (measured: 1000 one-byte headers pass, 1001 not) */
#define NGX_MAX_HEADERS 1000

struct http_ngx_bufs {
    size_t cap, used;
    int nlarge;
};

/* One line of len bytes (with its EOL) into the buffers; nginx's status when it does not fit. */
static int http_ngx_fit(struct http_ngx_bufs *b, size_t len, bool reqline)
{
    if (b->used + len <= b->cap) {
        b->used += len;
        return 0;
    }
    if (len > NGX_LARGE_BUF)
        return reqline ? 414 : HP_HTTP_HEADER_TOO_LARGE;
    if (b->nlarge == NGX_LARGE_BUFS)
        return HP_HTTP_HEADER_TOO_LARGE;
    b->nlarge++;
    b->cap = NGX_LARGE_BUF;
    b->used = len;
    return 0;
}

/* nginx takes only A-Z, '_' and '-' in a method ("get" is 400). */
static bool http_ngx_method(struct hp_bytes m)
{
    for (size_t i = 0; i < m.n; i++)
        if ((m.p[i] < 'A' || m.p[i] > 'Z') && m.p[i] != '_' && m.p[i] != '-')
            return false;
    return true;
}

/* The host of an absolute URI as nginx's request line parser reads it
 * (sw_host_start .. sw_port): a name of letters, digits, '.' and '-' or a
 * bracketed literal, an optional port, then '/', '?' or the end; else 400
 * ("http://u@x/", "http://x#a", "http://x%20y/").  *host: the authority. */
static bool http_ngx_authority(const uint8_t *t, size_t n, struct hp_bytes *host)
{
    size_t i = 0;
    if (i < n && t[i] == '[') {
        while (++i < n && t[i] != ']')
            if (!isalnum(t[i]) && !strchr(":-._~!$&'()*+,;=", t[i]))
                return false;
        if (i++ == n)
            return false;
    } else {
        while (i < n && (isalnum(t[i]) || t[i] == '.' || t[i] == '-'))
            i++;
    }
    if (i < n && t[i] == ':')
        while (++i < n && isdigit(t[i]))
            ;
    *host = http_bytes(t, i);
    return i == n || t[i] == '/' || t[i] == '?';
}

/* A target as nginx's request line parser reads it: -1 refused, 0 a path,
 * 1 an absolute URI (scheme "://" and an authority as above), 2 the same
 * ending with its authority (nginx wants a blank after it: "GET http://x"
 * with no version is 400).  *host: the URI's host part, if any. */
static int http_ngx_target_syntax(struct hp_bytes tg, struct hp_bytes *host)
{
    const uint8_t *t = tg.p;
    size_t n = tg.n, i = 0;
    *host = http_bytes(NULL, 0);
    for (size_t k = 0; k < n; k++)
        if (t[k] <= ' ' || t[k] == 0x7f)
            return -1;                 /* nginx 1.21.1+ */
    if (n == 0 || t[0] == '/')
        return 0;
    while (i < n && (((t[i] | 0x20) >= 'a' && (t[i] | 0x20) <= 'z') ||
                     (i > 0 && ((t[i] >= '0' && t[i] <= '9') || t[i] == '+' || t[i] == '-' || t[i] == '.'))))
        i++;
    if (i == 0 || n - i < 3 || memcmp(t + i, "://", 3) || !http_ngx_authority(t + i + 3, n - i - 3, host))
        return -1;
    return host->p + host->n == t + n ? 2 : 1;
}

/* nginx takes a target that is a path or an absolute URI whose host
 * ngx_http_validate_host takes; "*", "index.html" and CONNECT's
 * "host:port" are 400 (its URI parser wants "//" after the scheme's ':',
 * whatever the method).  v09: the line has no version. */
static bool http_ngx_target(const struct hp_http_req *req, bool v09)
{
    struct hp_bytes host;
    int rc = http_ngx_target_syntax(req->target, &host);
    if (rc < 0 || (rc == 2 && v09))
        return false;
    return rc == 0 || http_ngx_host_ok(host);
}

/* See http_parse.h. */
bool hp_http_ngx_refuses_start(const uint8_t *p, size_t n)
{
    size_t i = 0, m;
    if (n > 256)
        n = 256;                       /* called on each read of a line: O(1), the parser judges the rest */
    while (i < n && (p[i] == '\r' || p[i] == '\n'))
        i++;
    for (m = i; i < n && ((p[i] >= 'A' && p[i] <= 'Z') || p[i] == '_' || p[i] == '-'); i++)
        ;
    if (i == n)
        return false;
    if (i == m || p[i] != ' ')
        return true;                   /* a method byte nginx refuses */
    while (i < n && p[i] == ' ')
        i++;
    return i < n && p[i] != '/' && !isalpha(p[i]);   /* a target neither a path nor a scheme */
}

/* See http_parse.h. */
bool hp_http_ngx_head_only(const uint8_t *raw, size_t n)
{
    size_t i = 0;
    while (i < n && (raw[i] == '\r' || raw[i] == '\n'))
        i++;
    return n - i >= 5 && !memcmp(raw + i, "HEAD ", 5);
}

/* A line of method and target alone that nginx's parser reads to its end. */
static bool http_ngx_09(struct hp_bytes method, struct hp_bytes target)
{
    struct hp_bytes host;
    int rc = http_ngx_target_syntax(target, &host);
    return method.n && http_ngx_method(method) && (rc == 0 || rc == 1);
}

/* See http_parse.h. */
bool hp_http_ngx_headless(const struct hp_http_req *req)
{
    return req->version.n == 0 && http_ngx_09(req->method, req->target);
}

/* See http_parse.h. */
bool hp_http_ngx_headless_line(const uint8_t *raw, size_t n)
{
    size_t i = 0, m0, t0;
    while (i < n && (raw[i] == '\r' || raw[i] == '\n'))
        i++;
    for (m0 = i; i < n && raw[i] != ' ' && raw[i] != '\r' && raw[i] != '\n'; i++)
        ;
    struct hp_bytes method = http_bytes(raw + m0, i - m0);
    i = http_skip_sp(raw, n, i);
    for (t0 = i; i < n && raw[i] != ' ' && raw[i] != '\r' && raw[i] != '\n'; i++)
        ;
    struct hp_bytes target = http_bytes(raw + t0, i - t0);
    i = http_skip_sp(raw, n, i);
    if (i < n && raw[i] == '\r')
        i++;
    return i < n && raw[i] == '\n' && target.n && http_ngx_09(method, target);
}

/* See http_parse.h (ngx_http_parse_complex_uri's rules, merge_slashes on). */
bool hp_http_ngx_path(const uint8_t *p, size_t n, uint8_t *out, size_t *olen)
{
    size_t o = 0, seg;
    out[o++] = '/';
    seg = o;
    for (size_t i = 0; i <= n; i++) {
        int c = i < n ? p[i] : -1;
        if (c == '#')
            c = -1;                              /* nginx stops at a fragment */
        if (c == '%') {
            int hi = i + 1 < n ? hp_hexval(p[i + 1]) : -1, lo = i + 2 < n ? hp_hexval(p[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi | lo) == 0)
                return false;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c != '/' && c != -1) {
            out[o++] = (uint8_t)c;
            continue;
        }
        size_t len = o - seg;                    /* a segment ends */
        if (len == 2 && out[seg] == '.' && out[seg + 1] == '.') {
            if (seg == 1)
                return false;                    /* above the root */
            o = seg - 1;
            while (out[o - 1] != '/')
                o--;
        } else if (len == 1 && out[seg] == '.') {
            o = seg;
        } else if (len > 0 && c == '/') {
            out[o++] = '/';
        }
        seg = o;
        if (c == -1)
            break;
    }
    *olen = o;
    return true;
}

static void http_split_target(struct hp_bytes t, struct hp_bytes *path, struct hp_bytes *query);

/* nginx's 400 for a path it cannot resolve (hp_http_ngx_path). */
static bool http_ngx_path_ok(const struct hp_http_req *req)
{
    static _Thread_local uint8_t out[HP_HTTP_URI_MAX + 2];
    struct hp_bytes path, query;
    size_t olen;
    http_split_target(req->target, &path, &query);
    return path.n > HP_HTTP_URI_MAX || hp_http_ngx_path(path.p, path.n, out, &olen);
}

static void http_ngx_note(struct hp_http_req *req, struct http_ngx_bufs *b, size_t len, bool reqline)
{
    int st = http_ngx_fit(b, len, reqline);
    if (st && !req->nginx_status)
        req->nginx_status = st;
}

/* Request line and header lines, up to and including the blank line. */
static int http_parse_lines(const uint8_t *data, size_t len, size_t lead, struct hp_http_req *req,
                            struct http_sem *sem, int *status)
{
    struct hp_rd r;
    const uint8_t *l;
    size_t n;
    hp_rd_init(&r, data, len < HP_HTTP_HEAD_MAX ? len : HP_HTTP_HEAD_MAX);
    if (lead <= hp_rd_left(&r))
        hp_rd_skip(&r, lead);                /* CR/LF an earlier call skipped: not again */
    for (int c = hp_rd_peek_u8(&r, 0); c == '\r' || c == '\n'; c = hp_rd_peek_u8(&r, 0))
        hp_rd_skip(&r, 1);
    sem->lead = hp_rd_pos(&r);
    struct http_ngx_bufs nb = { NGX_FIRST_BUF, hp_rd_pos(&r), 0 };
    size_t at = hp_rd_pos(&r);
    if (!hp_rd_line(&r, hp_rd_left(&r), &l, &n)) {
        http_partial(&r, &l, &n);
        return http_head_incomplete(http_parse_reqline(l, n, false, req, status), len, status);
    }
    int rc = http_parse_reqline(l, n, true, req, status);
    if (rc != PR_OK)
        return rc;
    sem->reqline_done = true;
    if (!http_ngx_method(req->method) || !http_ngx_target(req, req->major == 0) || !http_ngx_path_ok(req))
        req->nginx_status = 400;             /* nginx reads no further */
    http_ngx_note(req, &nb, hp_rd_pos(&r) - at, true);
    if (req->major == 0) {
        req->head_len = hp_rd_pos(&r);
        return PR_OK;
    }
    size_t nlines = 0;
    for (;;) {
        struct hp_http_hdr dummy;
        struct hp_http_hdr *h = req->nheaders < HP_HTTP_MAX_HEADERS ? &req->headers[req->nheaders] : &dummy;
        at = hp_rd_pos(&r);
        if (!hp_rd_line(&r, hp_rd_left(&r), &l, &n)) {
            sem->partial_at = hp_rd_pos(&r);
            http_partial(&r, &l, &n);
            return http_head_incomplete(http_parse_header(l, n, false, h, status), len, status);
        }
        http_ngx_note(req, &nb, hp_rd_pos(&r) - at, false);
        if (n == 0)
            break;
        if (++nlines > NGX_MAX_HEADERS && !req->nginx_status)
            req->nginx_status = HP_HTTP_HEADER_TOO_LARGE;   /* whatever their size */
        if (http_parse_header(l, n, true, h, status) != PR_OK)
            return PR_ERR;
        http_sem_note(sem, h);
        if (http_bytes_ieq(h->name, "Host") && !http_ngx_host_ok(h->value) && !req->nginx_status)
            req->nginx_status = 400;         /* nginx checks a Host as it reads it */
        if (h == &dummy)
            req->headers_truncated = true;
        else
            req->nheaders++;
    }
    req->head_len = hp_rd_pos(&r);
    return PR_OK;
}

/* Content-Length and Transfer-Encoding as nginx reads them. */
static int http_framing(struct hp_http_req *req, const struct http_sem *s, bool v11, uint64_t *cl, int *status)
{
    if (s->ncl) {
        if (s->cl.n == 0)
            return *status = 400, PR_ERR;
        for (size_t i = 0; i < s->cl.n; i++) {
            uint8_t c = s->cl.p[i];
            /* ngx_atoof: an off_t, over INT64_MAX is 400 (not 413) */
            if (c < '0' || c > '9' || *cl > (uint64_t)(INT64_MAX - (c - '0')) / 10)
                return *status = 400, PR_ERR;
            *cl = *cl * 10 + (uint64_t)(c - '0');
        }
    }
    if (s->nte) {
        if (!v11)
            return *status = 400, PR_ERR;
        if (!http_bytes_ieq(s->te, "chunked"))
            return *status = 501, PR_ERR;
        if (s->ncl)
            return *status = 400, PR_ERR;
        req->chunked = true;
    }
    if (*cl > HP_HTTP_BODY_ABS_MAX)
        return *status = 413, PR_ERR;
    return PR_OK;
}

/* Framing and connection semantics of a parsed head, in nginx's order. */
static int http_check_head(struct hp_http_req *req, const struct http_sem *s, uint64_t *cl, int *status)
{
    bool v11 = req->major == 1 && req->minor >= 1;
    *cl = 0;
    if (s->nhost > 1 || s->ncl > 1 || s->nte > 1)
        return *status = 400, PR_ERR;  /* "client sent duplicate header line" */
    /* nginx's order: a head too large is refused while it is read, a
     * missing Host once it is, TRACE after that. */
    if (v11 && s->nhost == 0 && !req->nginx_status)
        req->nginx_status = 400;
    if (http_framing(req, s, v11, cl, status) != PR_OK) {
        /* nginx has answered by then: what it answered, not the framing's error */
        if (req->nginx_status)
            *status = req->nginx_status;
        return PR_ERR;
    }
    if (req->major == 1)
        req->keep_alive = v11 ? s->conn != 1 : s->conn == 2;
    req->expect_continue = v11 && s->expect;
    if (((req->method.n == 7 && !memcmp(req->method.p, "CONNECT", 7)) ||
         (req->method.n == 5 && !memcmp(req->method.p, "TRACE", 5))) && !req->nginx_status)
        req->nginx_status = 405;
    return PR_OK;
}

/* ---- the body ---------------------------------------------------------------- */

/* Count n body bytes and keep what fits under max_body. */
static void http_keep(struct hp_http_parser *p, const uint8_t *b, size_t n)
{
    p->body_total += n;
    size_t room = p->max_body - p->body_n;
    size_t k = n < room ? n : room;
    if (k == 0)
        return;
    if (p->body_n + k > p->body_alloc) {
        size_t na = p->body_alloc ? p->body_alloc * 2 : 4096;
        if (na < p->body_n + k)
            na = p->body_n + k;
        if (na > p->max_body)
            na = p->max_body;
        uint8_t *nb = realloc(p->body, na);
        if (!nb)
            return;  /* out of memory: counted, not kept */
        p->body = nb;
        p->body_alloc = na;
    }
    memcpy(p->body + p->body_n, b, k);
    p->body_n += k;
}

/* Take up to p->remaining bytes of body data. */
static void http_take_data(struct hp_http_parser *p, struct hp_rd *r)
{
    size_t left = hp_rd_left(r);
    size_t n = p->remaining < left ? (size_t)p->remaining : left;
    const uint8_t *b = hp_rd_bytes(r, n);
    if (b)
        http_keep(p, b, n);
    p->remaining -= n;
}

/* A chunk-size line: hex digits, then an optional extension. */
static int http_chunk_size(struct hp_http_parser *p, struct hp_rd *r, int *status)
{
    const uint8_t *l;
    size_t n;
    if (!hp_rd_line(r, HTTP_CHUNK_LINE_MAX, &l, &n)) {
        int c = hp_rd_peek_u8(r, 0);
        if (hp_rd_left(r) >= HTTP_CHUNK_LINE_MAX || (c >= 0 && hp_hexval((uint8_t)c) < 0))
            return *status = 400, PR_ERR;
        return PR_MORE;
    }
    uint64_t size = 0;
    size_t i = 0;
    for (; i < n && hp_hexval(l[i]) >= 0; i++) {
        if (size > (UINT64_MAX >> 4))
            return *status = 400, PR_ERR;
        size = (size << 4) | (uint64_t)hp_hexval(l[i]);
    }
    if (i == 0 || (i < n && l[i] != ' ' && l[i] != '\t' && l[i] != ';'))
        return *status = 400, PR_ERR;
    if (size == 0) {
        p->state = ST_TRAILER;
        return PR_OK;
    }
    if (size > HP_HTTP_BODY_ABS_MAX - p->body_total)
        return *status = 413, PR_ERR;
    p->remaining = size;
    p->state = ST_CHUNK_DATA;
    return PR_OK;
}

/* CRLF or LF after chunk data. */
static int http_chunk_crlf(struct hp_http_parser *p, struct hp_rd *r, int *status)
{
    int c = hp_rd_peek_u8(r, 0);
    if (c < 0)
        return PR_MORE;
    if (c == '\r') {
        int c2 = hp_rd_peek_u8(r, 1);
        if (c2 < 0)
            return PR_MORE;
        if (c2 != '\n')
            return *status = 400, PR_ERR;
        hp_rd_skip(r, 1);
    } else if (c != '\n') {
        return *status = 400, PR_ERR;
    }
    hp_rd_skip(r, 1);
    p->state = ST_CHUNK_SIZE;
    return PR_OK;
}

/* Trailer lines (ignored) up to a blank line. */
static int http_trailer(struct hp_http_parser *p, struct hp_rd *r, int *status)
{
    const uint8_t *l;
    size_t n;
    size_t room = HTTP_TRAILER_MAX - p->trailer_bytes;
    if (!hp_rd_line(r, room, &l, &n))
        return hp_rd_left(r) >= room ? (*status = 400, PR_ERR) : PR_MORE;
    if (n == 0) {
        p->state = ST_HEAD;
        return PR_OK;
    }
    p->trailer_bytes += n + 1;
    return PR_OK;
}

/*
 * Absorb body bytes from r.  PR_OK: the body is complete (state back to
 * ST_HEAD); PR_MORE: r is exhausted or holds only part of a line, its
 * position is what was absorbed.  Each step consumes at least one byte or
 * returns, so the loop is bounded by the input.
 */
static int http_body_feed(struct hp_http_parser *p, struct hp_rd *r, int *status)
{
    for (;;) {
        int rc = PR_OK;
        switch (p->state) {
        case ST_HEAD:
            return PR_OK;
        case ST_BODY_CL:
            if (p->remaining == 0) {
                p->state = ST_HEAD;
                return PR_OK;
            }
            if (hp_rd_left(r) == 0)
                return PR_MORE;
            http_take_data(p, r);
            break;
        case ST_CHUNK_SIZE:
            rc = http_chunk_size(p, r, status);
            break;
        case ST_CHUNK_DATA:
            if (hp_rd_left(r) == 0)
                return PR_MORE;
            http_take_data(p, r);
            if (p->remaining == 0)
                p->state = ST_CHUNK_CRLF;
            break;
        case ST_CHUNK_CRLF:
            rc = http_chunk_crlf(p, r, status);
            break;
        case ST_TRAILER:
            rc = http_trailer(p, r, status);
            break;
        }
        if (rc != PR_OK)
            return rc;
    }
}

/* ---- the request ---------------------------------------------------------------- */

static void http_rebase(struct hp_bytes *b, const uint8_t *from, uint8_t *to)
{
    if (b->p)
        b->p = to + (b->p - from);
}

/* The body is not all here: keep a copy of the head, pointers rebased onto it. */
static bool http_save_head(struct hp_http_parser *p, const uint8_t *data, const struct hp_http_req *req)
{
    p->head = malloc(req->head_len ? req->head_len : 1);
    if (!p->head)
        return false;
    memcpy(p->head, data, req->head_len);
    p->req = *req;
    http_rebase(&p->req.method, data, p->head);
    http_rebase(&p->req.target, data, p->head);
    http_rebase(&p->req.version, data, p->head);
    for (size_t i = 0; i < p->req.nheaders; i++) {
        http_rebase(&p->req.headers[i].name, data, p->head);
        http_rebase(&p->req.headers[i].value, data, p->head);
    }
    p->in_progress = true;
    /* nginx's refusals (no Host, TRACE, ...) come at once, never after a 100 */
    p->want_continue = req->expect_continue && !req->nginx_status;
    return true;
}

/*
 * The partial header line l[0..n) as http_parse_header(..., false) judges
 * it, looking only at the bytes an earlier call for the same line did not
 * (those cannot change): a 60 KiB line trickled a byte at a time costs
 * O(n) in all, not O(n) per byte.  The trailing CR http_partial() leaves
 * out is looked at when its next byte has come.
 */
static int http_partial_header(struct hp_http_parser *p, const uint8_t *l, size_t n, int *status)
{
    size_t i = p->part_checked;
    if (n == 0 || i >= n)
        return PR_MORE;
    if (i == 0 && (l[0] == ' ' || l[0] == '\t'))
        return *status = 400, PR_ERR;  /* obs-fold */
    if (!p->part_value) {
        while (i < n && l[i] > ' ' && l[i] != 0x7f && l[i] != ':')
            i++;
        if (i == n) {
            p->part_checked = n;
            return PR_MORE;
        }
        if (i == 0 || l[i] != ':')
            return *status = 400, PR_ERR;  /* empty name, SP or CTL in the name */
        p->part_value = ++i;
    }
    if (memchr(l + i, '\0', n - i) || http_bad_cr(l + i, n - i))
        return *status = 400, PR_ERR;
    p->part_checked = n;
    return PR_MORE;
}

/*
 * The head is still incomplete and the caller added bytes: the complete lines
 * before p->line_start were validated by an earlier call and cannot change,
 * so validate only from there on, and of a partial line only its new bytes
 * (http_partial_header): a head sent in tiny pieces is not re-parsed whole
 * for each.  PR_OK means the blank line arrived: the caller then parses the
 * head in full, once.
 */
static int http_resume_headers(struct hp_http_parser *p, const uint8_t *data, size_t len, int *status)
{
    struct hp_rd r;
    struct hp_http_hdr h;
    const uint8_t *l;
    size_t n;
    hp_rd_init(&r, data + p->line_start, len - p->line_start);
    for (;;) {
        size_t at = hp_rd_pos(&r);
        if (!hp_rd_line(&r, hp_rd_left(&r), &l, &n)) {
            http_partial(&r, &l, &n);
            if (at > 0)
                p->part_checked = p->part_value = 0;   /* another line: from its start */
            int rc = http_partial_header(p, l, n, status);
            if (rc == PR_MORE) {
                p->line_start += at;
                p->head_seen = len;
            }
            return rc;
        }
        if (n == 0)
            return PR_OK;
        if (http_parse_header(l, n, true, &h, status) != PR_OK)
            return PR_ERR;
    }
}

/* Zero a request but its header array (3 KiB nobody reads past nheaders). */
static void http_req_clear(struct hp_http_req *req)
{
    size_t h = offsetof(struct hp_http_req, headers), t = offsetof(struct hp_http_req, nheaders);
    memset(req, 0, h);
    memset((uint8_t *)req + t, 0, sizeof(*req) - t);
}

/* Parse a head from data; PR_OK leaves the body state machine ready. */
static int http_start(struct hp_http_parser *p, const uint8_t *data, size_t len, struct hp_http_req *req,
                      int *status)
{
    if (p->head_seen && p->head_in_headers && len > p->head_seen && len < HP_HTTP_HEAD_MAX) {
        int rc = http_resume_headers(p, data, len, status);
        if (rc != PR_OK)
            return rc;
    }
    struct http_sem sem;
    memset(&sem, 0, sizeof(sem));
    http_req_clear(req);
    int rc = http_parse_lines(data, len, p->head_seen ? p->lead : 0, req, &sem, status);
    if (rc == PR_MORE) {
        p->head_seen = len;
        p->head_in_headers = sem.reqline_done;
        p->line_start = sem.partial_at;
        p->lead = sem.lead;
        p->part_checked = p->part_value = 0;
    }
    if (rc != PR_OK)
        return rc;
    uint64_t cl;
    if (http_check_head(req, &sem, &cl, status) != PR_OK)
        return PR_ERR;
    p->head_seen = 0;
    p->body_n = 0;
    p->body_total = 0;
    p->trailer_bytes = 0;
    p->wire = 0;
    p->remaining = cl;
    p->state = req->chunked ? ST_CHUNK_SIZE : ST_BODY_CL;
    return PR_OK;
}

enum hp_http_status hp_http_parse(struct hp_http_parser *p, const uint8_t *data, size_t len,
                                  struct hp_http_req *req, int *http_status, size_t *used)
{
    struct hp_rd r;
    bool fresh = !p->in_progress;
    size_t head_len = 0;
    int rc;
    *used = 0;
    *http_status = 0;
    if (fresh) {
        free(p->head);  /* the previous request's saved head */
        p->head = NULL;
        rc = http_start(p, data, len, req, http_status);
        if (rc == PR_MORE)
            return HP_HTTP_NEED_MORE;
        if (rc == PR_ERR)
            goto error;
        head_len = req->head_len;
        if (!req->chunked && p->remaining <= len - head_len) {
            /* Whole request here: the body is used in place. */
            size_t n = (size_t)p->remaining;
            req->body = http_bytes(data + head_len, n < p->max_body ? n : p->max_body);
            req->body_len = n;
            req->body_truncated = n > p->max_body;
            req->raw_len = head_len + n;
            p->state = ST_HEAD;
            *used = req->raw_len;
            return HP_HTTP_DONE;
        }
        hp_rd_init(&r, data + head_len, len - head_len);
    } else {
        hp_rd_init(&r, data, len);
    }
    rc = http_body_feed(p, &r, http_status);
    if (rc == PR_ERR)
        goto error;
    size_t absorbed = head_len + hp_rd_pos(&r);
    if (rc == PR_MORE) {
        if (fresh && !http_save_head(p, data, req)) {
            *http_status = 500;
            goto error;
        }
        p->wire += absorbed;
        *used = absorbed;
        return HP_HTTP_NEED_MORE;
    }
    if (!fresh)
        *req = p->req;
    req->body = http_bytes(p->body, p->body_n);
    req->body_len = p->body_total;
    req->body_truncated = p->body_total > p->body_n;
    req->raw_len = (size_t)(p->wire + absorbed);
    *used = absorbed;
    /* The saved head is freed at the next call: req points into it. */
    p->in_progress = false;
    p->wire = 0;
    return HP_HTTP_DONE;

error:
    hp_http_parser_reset(p);
    *used = len;
    return HP_HTTP_ERROR;
}

/* ---- responses ------------------------------------------------------------------ */

struct http_reason {
    int status;
    const char *text;
};

/* nginx's status lines (ngx_http_header_filter_module.c), plus a few it lacks. */
static const struct http_reason http_reasons[] = {
    { 100, "Continue" }, { 101, "Switching Protocols" },
    { 200, "OK" }, { 201, "Created" }, { 202, "Accepted" }, { 204, "No Content" }, { 206, "Partial Content" },
    { 207, "Multi-Status" },
    { 301, "Moved Permanently" }, { 302, "Moved Temporarily" }, { 303, "See Other" }, { 304, "Not Modified" },
    { 307, "Temporary Redirect" }, { 308, "Permanent Redirect" },
    { 400, "Bad Request" }, { 401, "Unauthorized" }, { 402, "Payment Required" }, { 403, "Forbidden" },
    { 404, "Not Found" }, { 405, "Not Allowed" }, { 406, "Not Acceptable" }, { 408, "Request Time-out" },
    { 409, "Conflict" }, { 410, "Gone" }, { 411, "Length Required" }, { 412, "Precondition Failed" },
    { 413, "Request Entity Too Large" }, { 414, "Request-URI Too Large" }, { 415, "Unsupported Media Type" },
    { 416, "Requested Range Not Satisfiable" }, { 421, "Misdirected Request" }, { 429, "Too Many Requests" },
    { 431, "Request Header Fields Too Large" }, { HP_HTTP_HEADER_TOO_LARGE, "Bad Request" },
    { 500, "Internal Server Error" }, { 501, "Not Implemented" }, { 502, "Bad Gateway" },
    { 503, "Service Temporarily Unavailable" }, { 504, "Gateway Time-out" },
    { 505, "HTTP Version Not Supported" }, { 507, "Insufficient Storage" },
};

const char *hp_http_reason(int status)
{
    for (size_t i = 0; i < sizeof(http_reasons) / sizeof(http_reasons[0]); i++)
        if (http_reasons[i].status == status)
            return http_reasons[i].text;
    return "";
}

size_t hp_http_fmt_date(time_t t, char *out, size_t outlen)
{
    static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        memset(&tm, 0, sizeof(tm));
    int n = snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[(unsigned)tm.tm_wday % 7],
                     tm.tm_mday, mo[(unsigned)tm.tm_mon % 12], (tm.tm_year + 1900) % 10000, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
    return n < 0 ? 0 : (size_t)n < outlen ? (size_t)n : outlen - 1;
}

/* Now as an HTTP date, formatted once a second per thread (as nginx caches
 * its): every answer has one. */
static const char *http_date(void)
{
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[64];
    time_t now = time(NULL);
    if (now != cached_sec) {
        hp_http_fmt_date(now, cached, sizeof(cached));
        cached_sec = now;
    }
    return cached;
}

/* Where nginx's header filter puts a header: 0 Content-Type (before
 * Content-Length), 1 Last-Modified and Location (after it, before
 * Connection), 2 the rest (after Connection, in the rule's order). */
static int http_extra_group(const char *line)
{
    switch (line[0] | 0x20) {             /* one letter first: most headers are none of these */
    case 'c':
        return strncasecmp(line, "Content-Type:", 13) == 0 ? 0 : 2;
    case 'l':
        return strncasecmp(line, "Last-Modified:", 14) == 0 || strncasecmp(line, "Location:", 9) == 0 ? 1 : 2;
    case 't':                             /* a gzipped answer's (http_gzip.c), where nginx puts it */
        return strncasecmp(line, "Transfer-Encoding:", 18) == 0 ? 1 : 2;
    default:
        return 2;
    }
}

/* The rule's header lines, each with its group, read once for the three places they go. */
#define HTTP_EXTRA_LINES 64

struct http_extra {
    size_t n;
    bool chunked;                         /* a Transfer-Encoding line: the body is framed already */
    bool more;                            /* lines past HTTP_EXTRA_LINES: not listed, all group 2 */
    const char *rest;
    struct { const char *p; size_t n; int group; bool nl; } line[HTTP_EXTRA_LINES];
};

static bool http_is_te(const char *line)
{
    return (line[0] | 0x20) == 't' && strncasecmp(line, "Transfer-Encoding:", 18) == 0;
}

static void http_extra_read(struct http_extra *x, const char *extra)
{
    const char *s = extra;
    x->n = 0;
    x->more = false;
    x->chunked = false;
    while (s && *s) {
        if (x->n == HTTP_EXTRA_LINES) {
            x->more = true;
            x->rest = s;
            for (; *s; s++)                   /* the rare long block: its lines are read once more */
                if ((s == x->rest || s[-1] == '\n') && http_is_te(s))
                    x->chunked = true;
            return;
        }
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);
        x->line[x->n].p = s;
        x->line[x->n].n = n;
        x->line[x->n].nl = nl != NULL;
        x->line[x->n].group = http_extra_group(s);
        x->chunked |= http_is_te(s);
        x->n++;
        s += n;
    }
}

static void http_put_line(struct hp_buf *out, const char *s, size_t n, bool nl)
{
    hp_buf_put(out, s, n);
    if (!nl)
        hp_buf_puts(out, "\r\n");
}

/* skip_te: a header-only answer goes without Transfer-Encoding (nginx's
 * chunked filter passes those by), and without a length either. */
static void http_put_extra(struct hp_buf *out, const struct http_extra *x, int group, bool skip_te)
{
    for (size_t i = 0; i < x->n; i++)
        if (x->line[i].group == group && !(skip_te && http_is_te(x->line[i].p)))
            http_put_line(out, x->line[i].p, x->line[i].n, x->line[i].nl);
    for (const char *s = x->more ? x->rest : NULL; s && *s;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);
        if (http_extra_group(s) == group && !(skip_te && http_is_te(s)))
            http_put_line(out, s, n, nl != NULL);
        s += n;
    }
}

void hp_http_response(struct hp_buf *out, int status, const char *server, const char *extra_headers,
                      const void *body, size_t body_len, bool keep_alive, bool head_only)
{
    const char *date = http_date();
    bool bodyless = status < 200 || status == 204 || status == 304;
    char num[24];
    struct http_extra x;
    http_extra_read(&x, extra_headers);
    /* Appends, not printf: this runs for every answer the sensor gives. */
    hp_buf_puts(out, "HTTP/1.1 ");
    if (status == HP_HTTP_HEADER_TOO_LARGE)
        status = 400;                     /* nginx's own code for it; on the wire a 400 */
    if (status >= 0)
        hp_buf_put(out, num, hp_fmt_u64((uint64_t)status, num));
    else
        hp_buf_printf(out, "%d", status);
    hp_buf_putc(out, ' ');
    hp_buf_puts(out, hp_http_reason(status));
    hp_buf_puts(out, "\r\n");
    if (server) {
        hp_buf_puts(out, "Server: ");
        hp_buf_puts(out, server);
        hp_buf_puts(out, "\r\n");
    }
    hp_buf_puts(out, "Date: ");
    hp_buf_puts(out, date);
    hp_buf_puts(out, "\r\n");
    bool skip_te = x.chunked && head_only;
    http_put_extra(out, &x, 0, skip_te);
    if (!bodyless && !x.chunked) {
        hp_buf_puts(out, "Content-Length: ");
        hp_buf_put(out, num, hp_fmt_u64(body_len, num));
        hp_buf_puts(out, "\r\n");
    }
    http_put_extra(out, &x, 1, skip_te);
    if (status >= 200)
        hp_buf_puts(out, keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    http_put_extra(out, &x, 2, skip_te);
    hp_buf_puts(out, "\r\n");
    if (!bodyless && !head_only && body_len)
        hp_buf_put(out, body, body_len);
}

size_t hp_http_error_page(int status, const char *server, char *out, size_t outlen)
{
    const char *title = hp_http_reason(status);
    if (status == 302)
        title = "Found";  /* nginx's 302 page says Found, its status line Moved Temporarily */
    if (outlen == 0)
        return 0;
    int n;
    if (status == HP_HTTP_HEADER_TOO_LARGE)
        n = snprintf(out, outlen,
                     "<html>\r\n<head><title>400 Request Header Or Cookie Too Large</title></head>\r\n<body>\r\n"
                     "<center><h1>400 Bad Request</h1></center>\r\n"
                     "<center>Request Header Or Cookie Too Large</center>\r\n%s%s%s</body>\r\n</html>\r\n",
                     server ? "<hr><center>" : "", server ? server : "", server ? "</center>\r\n" : "");
    else
        n = snprintf(out, outlen,
                     "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n"
                     "<center><h1>%d %s</h1></center>\r\n%s%s%s</body>\r\n</html>\r\n",
                     status, title, status, title, server ? "<hr><center>" : "", server ? server : "",
                     server ? "</center>\r\n" : "");
    if (n < 0)
        return out[0] = '\0', 0;
    return (size_t)n < outlen ? (size_t)n : outlen - 1;
}

/* ---- the analysers' view ------------------------------------------------------- */

const struct hp_http_hdr *hp_http_view_header(const struct hp_http_view *v, const char *name)
{
    for (size_t i = 0; i < v->nheaders; i++)
        if (http_bytes_ieq(v->headers[i].name, name))
            return &v->headers[i];
    return NULL;
}

/* Does b hold a valid %XX escape? */
static bool http_has_escape(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i + 2 < n; i++)
        if (b[i] == '%' && hp_hexval(b[i + 1]) >= 0 && hp_hexval(b[i + 2]) >= 0)
            return true;
    return false;
}

/* One %XX pass over r into out ('+' -> ' ' when plus). */
static void http_unescape(struct hp_rd *r, bool plus, struct hp_buf *out)
{
    while (hp_rd_left(r) > 0) {
        uint8_t c = hp_rd_u8(r);
        int h1 = hp_rd_peek_u8(r, 0), h2 = hp_rd_peek_u8(r, 1);
        if (c == '%' && h1 >= 0 && h2 >= 0 && hp_hexval((uint8_t)h1) >= 0 && hp_hexval((uint8_t)h2) >= 0) {
            c = (uint8_t)(hp_hexval((uint8_t)h1) << 4 | hp_hexval((uint8_t)h2));
            hp_rd_skip(r, 2);
        } else if (c == '+' && plus) {
            c = ' ';
        }
        hp_buf_putc(out, c);
    }
}

/* Decode in into scratch at *off, *len bytes; false when it did not fit. */
static bool http_decode(struct hp_bytes in, bool plus, struct hp_buf *scratch, size_t *off, size_t *len)
{
    struct hp_rd r;
    *off = scratch->len;
    if (!hp_buf_ok(scratch) || !hp_buf_reserve(scratch, in.n)) {
        return false;
    }
    hp_rd_init(&r, in.p, in.n);
    http_unescape(&r, plus, scratch);
    if (!hp_buf_ok(scratch))
        return false;
    *len = scratch->len - *off;
    if (http_has_escape(scratch->data + *off, *len)) {
        *len = hp_pct_decode(scratch->data + *off, *len, false, scratch->data + *off, *len);   /* second pass, in place */
        scratch->len = *off + *len;
    }
    return true;
}

/* Split the target into path and query; absolute-form loses scheme://authority. */
static void http_split_target(struct hp_bytes t, struct hp_bytes *path, struct hp_bytes *query)
{
    struct hp_rd r;
    hp_rd_init(&r, t.p, t.n);
    long q = hp_rd_find(&r, "?", 1);
    size_t plen = q < 0 ? t.n : (size_t)q;
    *query = q < 0 ? http_bytes(t.p + t.n, 0) : http_bytes(t.p + plen + 1, t.n - plen - 1);
    *path = http_bytes(t.p, plen);
    if (plen > 0 && t.p[0] != '/') {
        struct hp_rd pr;
        hp_rd_init(&pr, t.p, plen);
        long s = hp_rd_find(&pr, "://", 3);
        if (s > 0 && s <= 16) {
            hp_rd_skip(&pr, (size_t)s + 3);
            long slash = hp_rd_find(&pr, "/", 1);
            size_t from = slash < 0 ? plen : (size_t)s + 3 + (size_t)slash;
            *path = http_bytes(t.p + from, plen - from);
        }
    }
}

/* ---- the pieces of a refused request ----------------------------------------------------- */

#define LOOSE_TOKEN "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~"

static bool loose_blank(uint8_t b)
{
    return b == ' ' || b == '\t';
}

/* Trim blanks at both ends of p[0..n). */
static struct hp_bytes loose_trim(const uint8_t *p, size_t n)
{
    while (n && loose_blank(p[0]))
        p++, n--;
    while (n && loose_blank(p[n - 1]))
        n--;
    return (struct hp_bytes){ p, n };
}

/* The line the reader is at: up to LF (CR stripped), or all that is left. */
static void loose_line(struct hp_rd *r, const uint8_t **l, size_t *n)
{
    if (hp_rd_line(r, hp_rd_left(r), l, n))
        return;
    *n = hp_rd_left(r);
    *l = hp_rd_bytes(r, *n);
}

/* Split a request line: method, then the target up to a final " HTTP/d.d". */
static bool loose_request_line(const uint8_t *l, size_t n, struct hp_http_req *req)
{
    size_t m = 0;
    for (; m < n && !loose_blank(l[m]); m++)
        if (l[m] == '\0' || !strchr(LOOSE_TOKEN, l[m]))
            return false;                 /* a method is a token, not binary junk */
    if (m == 0 || m > HTTP_METHOD_MAX || m == n)
        return false;
    struct hp_bytes rest = loose_trim(l + m, n - m);
    const uint8_t *t = rest.p;
    size_t tn = rest.n;
    if (tn >= 10 && t[tn - 9] == ' ' && memcmp(t + tn - 8, "HTTP/", 5) == 0 && isdigit(t[tn - 3]) &&
        t[tn - 2] == '.' && isdigit(t[tn - 1])) {
        req->version = (struct hp_bytes){ t + tn - 8, 8 };
        req->major = t[tn - 3] - '0';
        req->minor = t[tn - 1] - '0';
        tn -= 9;
    }
    req->method = (struct hp_bytes){ l, m };
    req->target = loose_trim(t, tn);
    return req->target.n > 0;
}

bool hp_http_parse_loose(const uint8_t *raw, size_t len, struct hp_http_req *req)
{
    memset(req, 0, sizeof(*req));
    struct hp_rd r;
    hp_rd_init(&r, raw, len);
    for (int c = hp_rd_peek_u8(&r, 0); c == '\r' || c == '\n'; c = hp_rd_peek_u8(&r, 0))
        hp_rd_skip(&r, 1);
    const uint8_t *l;
    size_t n;
    loose_line(&r, &l, &n);
    if (!hp_rd_ok(&r) || !loose_request_line(l, n, req))
        return false;
    while (hp_rd_left(&r)) {
        loose_line(&r, &l, &n);
        if (n == 0)
            break;                        /* the empty line: the body follows */
        const uint8_t *colon = memchr(l, ':', n);
        if (!colon)
            continue;                     /* not a header: skipped */
        if (req->nheaders == HP_HTTP_MAX_HEADERS) {
            req->headers_truncated = true;
            continue;
        }
        struct hp_http_hdr *h = &req->headers[req->nheaders++];
        h->name = loose_trim(l, (size_t)(colon - l));
        h->value = loose_trim(colon + 1, n - (size_t)(colon - l) - 1);
    }
    req->body = (struct hp_bytes){ hp_rd_ptr(&r), hp_rd_left(&r) };
    req->body_len = req->body.n;
    req->raw_len = len;
    req->head_len = len - req->body.n;
    return true;
}

void hp_http_view_build(const struct hp_http_req *req, uint16_t local_port, bool tls, struct hp_buf *scratch,
                        struct hp_http_view *v)
{
    memset(v, 0, sizeof(*v));
    v->method = req->method;
    v->target = req->target;
    v->version = req->version;
    v->headers = req->headers;
    v->nheaders = req->nheaders;
    v->body = req->body;
    v->local_port = local_port;
    v->tls = tls;
    http_split_target(req->target, &v->path, &v->query);
    v->dpath = v->path;
    v->dquery = v->query;
    v->dbody = v->body;

    const struct hp_http_hdr *ct = hp_http_view_header(v, "Content-Type");
    static const char form[] = "application/x-www-form-urlencoded";
    bool isform = ct && ct->value.n >= sizeof(form) - 1 &&
                  strncasecmp((const char *)ct->value.p, form, sizeof(form) - 1) == 0;
    size_t po = 0, pl = 0, qo = 0, ql = 0, bo = 0, bl = 0;
    hp_buf_reset(scratch);
    bool okp = http_decode(v->path, false, scratch, &po, &pl);
    bool okq = okp && http_decode(v->query, true, scratch, &qo, &ql);
    bool okb = okq && isform && http_decode(v->body, true, scratch, &bo, &bl);
    /* the path nginx would look up */
    size_t no = scratch->len, nl = 0;
    bool okn = hp_buf_reserve(scratch, v->path.n + 1) &&
               hp_http_ngx_path(v->path.p, v->path.n, scratch->data + no, &nl);
    if (okn)
        scratch->len += nl;
    /* Pointers only now: the appends above may have moved scratch's memory. */
    if (okp)
        v->dpath = http_bytes(scratch->data + po, pl);
    if (okq)
        v->dquery = http_bytes(scratch->data + qo, ql);
    if (okb)
        v->dbody = http_bytes(scratch->data + bo, bl);
    if (okn)
        v->npath = http_bytes(scratch->data + no, nl);
}

/* ---- sniffing -------------------------------------------------------------- */

/* SIP shares OPTIONS, SUBSCRIBE and NOTIFY with HTTP; its request-target is
 * a sip: or sips: URI (RFC 3261), which no HTTP request has. */
static bool sniff_sip_target(const uint8_t *data, size_t len, size_t method_len)
{
    struct hp_rd r;
    uint8_t t[5];
    hp_rd_init(&r, data, len);
    if (!hp_rd_skip(&r, method_len))
        return false;
    size_t k = 0;
    while (k < sizeof(t) && hp_rd_left(&r))
        t[k++] = (uint8_t)tolower(hp_rd_u8(&r));
    return (k >= 4 && memcmp(t, "sip:", 4) == 0) || (k == 5 && memcmp(t, "sips:", 5) == 0);
}

bool hp_http_sniff(const uint8_t *data, size_t len)
{
    static const char *const methods[] = {
        "GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ",
        "PROPFIND ", "PROPPATCH ", "MKCOL ", "COPY ", "MOVE ", "LOCK ", "UNLOCK ", "SEARCH ",
        "REPORT ", "MKCALENDAR ", "MKACTIVITY ", "CHECKOUT ", "MERGE ", "PRI ",
        /* UPnP's GENA (router exploits: D-Link gena.cgi), cache purges, IIS verb probes */
        "SUBSCRIBE ", "UNSUBSCRIBE ", "NOTIFY ", "PURGE ", "DEBUG ", "TRACK ",
    };
    struct hp_rd r;
    hp_rd_init(&r, data, len);
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        size_t n = strlen(methods[i]);
        if (hp_rd_starts_with(&r, methods[i], n < 8 ? n : 8))
            return !sniff_sip_target(data, len, n);
    }
    return false;
}

/* An SSLv2-format ClientHello (old scanners and SSL checkers still send
 * one): a 2-byte length with the high bit set, message type 1, and version
 * 0x0002 (SSLv2) or 0x0300-0x0304 (a TLS client that can fall back).
 * nginx hands it to OpenSSL, which answers with an alert. */
static bool tls_sniff_v2(struct hp_rd *r)
{
    uint16_t reclen = hp_rd_u16be(r);
    uint8_t type = hp_rd_u8(r), major = hp_rd_u8(r), minor = hp_rd_u8(r);
    return hp_rd_ok(r) && (reclen & 0x8000) && (reclen & 0x7fff) >= 9 && type == 1 &&
           ((major == 0 && minor == 2) || (major == 3 && minor <= 4));
}

bool hp_tls_sniff(const uint8_t *data, size_t len)
{
    struct hp_rd r;
    hp_rd_init(&r, data, len);
    if (hp_rd_peek_u8(&r, 0) & 0x80)
        return tls_sniff_v2(&r);
    uint8_t type = hp_rd_u8(&r), major = hp_rd_u8(&r), minor = hp_rd_u8(&r);
    uint16_t reclen = hp_rd_u16be(&r);
    uint8_t hs = hp_rd_u8(&r);
    return hp_rd_ok(&r) && type == 0x16 && major == 3 && minor <= 4 && reclen >= 4 && reclen <= 16384 + 2048 &&
           hs == 1;
}
