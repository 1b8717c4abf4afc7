/*
 * http_proxy.c - request serialisation and response-head parsing for the
 * HTTP engine's proxy mode.  See http_proxy.h.
 *
 * The backend is a real server the operator runs, but one an attacker may
 * have taken over: its bytes are parsed as carefully as a client's, through
 * hp_rd, with every line and the whole head bounded.
 */
#include <string.h>
#include <strings.h>
#include "http_proxy.h"
#include "reader.h"

#define RESP_LINE_MAX 8192

static bool name_is(const uint8_t *p, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp((const char *)p, name, n) == 0;
}

static bool hop_by_hop_resp(const uint8_t *p, size_t n)
{
    return name_is(p, n, "Connection") || name_is(p, n, "Keep-Alive") || name_is(p, n, "Proxy-Connection");
}

static bool parse_status_line(const uint8_t *l, size_t n, int *status)
{
    /* HTTP/1.x SP 3DIGIT [SP reason] */
    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[7] < '0' || l[7] > '9' || l[8] != ' ')
        return false;
    int s = 0;
    for (int i = 9; i < 12; i++) {
        if (l[i] < '0' || l[i] > '9')
            return false;
        s = s * 10 + (l[i] - '0');
    }
    if (s < 100 || (n > 12 && l[12] != ' '))
        return false;
    *status = s;
    return true;
}

/* Trim spaces and tabs both ends. */
static void trim(const uint8_t **p, size_t *n)
{
    while (*n && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
}

static bool parse_length(const uint8_t *v, size_t n, uint64_t *out)
{
    uint64_t x = 0;
    if (n == 0 || n > 18)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return true;
}

static bool ends_chunked(const uint8_t *v, size_t n)
{
    trim(&v, &n);
    return n >= 7 && strncasecmp((const char *)v + n - 7, "chunked", 7) == 0;
}

int hp_http_resp_head_parse(const uint8_t *p, size_t n, struct hp_http_resp_head *h)
{
    struct hp_rd r;
    const uint8_t *l;
    size_t ln;
    bool len_bad = false;
    memset(h, 0, sizeof(*h));
    hp_rd_init(&r, p, n > HP_HTTP_RESP_HEAD_MAX ? HP_HTTP_RESP_HEAD_MAX : n);
    if (!hp_rd_line(&r, RESP_LINE_MAX, &l, &ln))
        return (hp_rd_left(&r) >= RESP_LINE_MAX || n >= HP_HTTP_RESP_HEAD_MAX) ? -1 : 0;
    if (!parse_status_line(l, ln, &h->status))
        return -1;
    for (;;) {
        if (!hp_rd_line(&r, RESP_LINE_MAX, &l, &ln))
            return (hp_rd_left(&r) >= RESP_LINE_MAX || n >= HP_HTTP_RESP_HEAD_MAX) ? -1 : 0;
        if (ln == 0)
            break;
        const uint8_t *colon = memchr(l, ':', ln);
        if (!colon || colon == l)
            return -1;
        size_t nn = (size_t)(colon - l);
        const uint8_t *v = colon + 1;
        size_t vn = ln - nn - 1;
        trim(&v, &vn);
        if (name_is(l, nn, "Content-Length")) {
            uint64_t x = 0;
            if (!parse_length(v, vn, &x) || (h->has_length && x != h->length))
                len_bad = true;
            h->has_length = true;
            h->length = x;
        } else if (name_is(l, nn, "Transfer-Encoding")) {
            h->chunked = ends_chunked(v, vn);
        }
    }
    if (len_bad || h->chunked) {         /* framing the client could misread: close-delimited */
        h->has_length = false;
        h->length = 0;
    }
    h->head_len = hp_rd_pos(&r);
    return 1;
}

bool hp_http_resp_bodyless(const struct hp_http_resp_head *h, bool head_request)
{
    return head_request || (h->status >= 100 && h->status < 200) || h->status == 204 || h->status == 304;
}

void hp_http_resp_head_rewrite(const uint8_t *p, size_t head_len, bool keep, struct hp_buf *out)
{
    struct hp_rd r;
    const uint8_t *l;
    size_t ln;
    bool first = true;
    hp_rd_init(&r, p, head_len);
    while (hp_rd_line(&r, RESP_LINE_MAX, &l, &ln) && ln > 0) {
        if (!first) {
            const uint8_t *colon = memchr(l, ':', ln);
            if (colon && hop_by_hop_resp(l, (size_t)(colon - l)))
                continue;
        }
        first = false;
        hp_buf_put(out, l, ln);
        hp_buf_puts(out, "\r\n");
    }
    hp_buf_puts(out, keep ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
}

static bool hop_by_hop_req(const struct hp_bytes *name, bool for_backend, bool xff)
{
    static const char *const drop[] = {
        "Keep-Alive", "Proxy-Connection", "TE", "Upgrade", "Expect", "Transfer-Encoding", "Content-Length",
    };
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
        if (name_is(name->p, name->n, drop[i]))
            return true;
    if (xff && name_is(name->p, name->n, "X-Forwarded-For"))
        return true;                             /* ours replaces a client's (spoofed) one */
    return for_backend && name_is(name->p, name->n, "Connection");
}

void hp_http_px_request(const struct hp_http_req *req, const char *xff, bool for_backend, struct hp_buf *out)
{
    hp_buf_put(out, req->method.p, req->method.n);
    hp_buf_putc(out, ' ');
    hp_buf_put(out, req->target.p, req->target.n);
    hp_buf_putc(out, ' ');
    if (req->version.n)
        hp_buf_put(out, req->version.p, req->version.n);
    else
        hp_buf_puts(out, "HTTP/1.0");
    hp_buf_puts(out, "\r\n");
    for (size_t i = 0; i < req->nheaders && i < HP_HTTP_MAX_HEADERS; i++) {
        const struct hp_http_hdr *hd = &req->headers[i];
        if (hop_by_hop_req(&hd->name, for_backend, xff != NULL))
            continue;
        hp_buf_put(out, hd->name.p, hd->name.n);
        hp_buf_puts(out, ": ");
        hp_buf_put(out, hd->value.p, hd->value.n);
        hp_buf_puts(out, "\r\n");
    }
    if (req->body.n || req->body_len)
        hp_buf_printf(out, "Content-Length: %zu\r\n", req->body.n);
    if (xff)
        hp_buf_printf(out, "X-Forwarded-For: %s\r\n", xff);
    if (for_backend)
        hp_buf_puts(out, "Connection: close\r\n");
    hp_buf_puts(out, "\r\n");
    hp_buf_put(out, req->body.p, req->body.n);
}
