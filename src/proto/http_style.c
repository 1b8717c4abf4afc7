/*
 * http_style.c - answers in the manner of servers other than nginx.  See
 * http_style.h for why.
 *
 * Each style is a status line rule, an order for the headers the server adds
 * around the rule's own, and a refusal.  The header lines of a rule are
 * written as they are (a rule for Elasticsearch writes `content-type` in
 * lower case, as Elasticsearch does); only Go sorts them, as its header map
 * is written in key order.  No style frames a body in chunks: the rules that
 * carry one have whole bodies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "http_parse.h"
#include "intel/httpview.h"
#include "http_style.h"
#include "util.h"

static const char *const style_names[] = {
    [HP_HTTP_STYLE_NGINX] = "nginx",
    [HP_HTTP_STYLE_GO] = "go",
    [HP_HTTP_STYLE_NETTY] = "netty",
    [HP_HTTP_STYLE_WEBLOGIC] = "weblogic",
    [HP_HTTP_STYLE_PYTHON] = "python",
    [HP_HTTP_STYLE_PLAIN] = "plain",
};

int hp_http_style_parse(const char *name, size_t n)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(style_names); i++)
        if (strlen(style_names[i]) == n && memcmp(style_names[i], name, n) == 0)
            return (int)i;
    return -1;
}

const char *hp_http_style_name(enum hp_http_style s)
{
    return (size_t)s < HP_ARRAY_LEN(style_names) ? style_names[s] : "nginx";
}

bool hp_http_style_keeps(enum hp_http_style s, bool keep_alive)
{
    return keep_alive && s != HP_HTTP_STYLE_PYTHON;
}

/* RFC 9110's reason phrases, which Go's StatusText, Netty, WebLogic and
 * Python all use; nginx's differ for a few ("Moved Temporarily", "Not
 * Allowed"). */
static const char *std_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Request Entity Too Large";
    case 414: return "Request URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Requested Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return hp_http_reason(status);
    }
}

static bool bodyless(int status)
{
    return status < 200 || status == 204 || status == 304;
}

static void put_status(struct hp_buf *out, const char *version, int status, const char *reason)
{
    char num[24];
    hp_buf_puts(out, version);
    hp_buf_putc(out, ' ');
    hp_buf_put(out, num, hp_fmt_u64((uint64_t)(status < 0 ? 0 : status), num));
    hp_buf_putc(out, ' ');
    hp_buf_puts(out, reason);
    hp_buf_puts(out, "\r\n");
}

static void put_header(struct hp_buf *out, const char *name, const char *value)
{
    hp_buf_puts(out, name);
    hp_buf_puts(out, ": ");
    hp_buf_puts(out, value);
    hp_buf_puts(out, "\r\n");
}

static void put_length(struct hp_buf *out, const char *name, size_t n)
{
    char num[24];
    hp_buf_puts(out, name);
    hp_buf_puts(out, ": ");
    hp_buf_put(out, num, hp_fmt_u64(n, num));
    hp_buf_puts(out, "\r\n");
}

static void put_date(struct hp_buf *out)
{
    char date[64];
    hp_http_fmt_date(time(NULL), date, sizeof(date));
    put_header(out, "Date", date);
}

/* ---- a rule's header lines ------------------------------------------------ */

#define STYLE_MAX_LINES 64

struct line {
    const char *p;
    size_t n;
    size_t at;                    /* its place in the rule: qsort is not stable */
};

struct lines {
    size_t n;
    struct line l[STYLE_MAX_LINES];
};

/* Split "Name: value\r\n"... into lines (without their line end); lines past
 * STYLE_MAX_LINES are dropped (a rule holds a few). */
static void lines_read(struct lines *ls, const char *s)
{
    ls->n = 0;
    while (s && *s && ls->n < STYLE_MAX_LINES) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        size_t k = n;
        if (k && s[k - 1] == '\r')
            k--;
        if (k) {
            ls->l[ls->n].p = s;
            ls->l[ls->n].n = k;
            ls->l[ls->n].at = ls->n;
            ls->n++;
        }
        s += nl ? n + 1 : n;
    }
}

static bool line_is(const char *p, size_t n, const char *name)
{
    size_t k = strlen(name);
    return n > k && p[k] == ':' && strncasecmp(p, name, k) == 0;
}

/* A header value (after its colon) without its leading blanks, as a C
 * string in out ("" when it does not fit). */
static void header_copy(const char *v, size_t n, char *out, size_t outlen)
{
    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    if (n >= outlen)
        n = 0;
    memcpy(out, v, n);
    out[n] = '\0';
}

static size_t name_len(const char *p, size_t n)
{
    const char *c = memchr(p, ':', n);
    return c ? (size_t)(c - p) : n;
}

static int cmp_names(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    size_t xn = name_len(x->p, x->n), yn = name_len(y->p, y->n);
    int c = strncasecmp(x->p, y->p, xn < yn ? xn : yn);
    if (c == 0)
        c = (xn > yn) - (xn < yn);
    return c ? c : (x->at > y->at) - (x->at < y->at);   /* one name's values in the rule's order */
}

/* Write the lines in order, leaving out those named skip (NULL: none). */
static void lines_put(struct hp_buf *out, const struct lines *ls, const char *skip)
{
    for (size_t i = 0; i < ls->n; i++) {
        if (skip && line_is(ls->l[i].p, ls->l[i].n, skip))
            continue;
        hp_buf_put(out, ls->l[i].p, ls->l[i].n);
        hp_buf_puts(out, "\r\n");
    }
}

static void put_body(struct hp_buf *out, int status, const void *body, size_t len, bool head_only)
{
    hp_buf_puts(out, "\r\n");
    if (!head_only && !bodyless(status))
        hp_buf_put(out, body, len);
}

/* ---- answers ---------------------------------------------------------------- */

static void python_unsupported(struct hp_buf *out, const struct lines *ls, struct hp_bytes method);

/*
 * Go's net/http: the handler's headers in key order, then what the server
 * adds (extraHeader.Write: Connection, Date, Content-Length); an HTTP/1.0
 * request gets an HTTP/1.0 status line, "Connection: keep-alive" when it
 * asked for it, and no "Connection: close".
 */
static void go_response(struct hp_buf *out, int status, int minor, struct lines *ls, const void *body,
                        size_t len, bool keep, bool head_only)
{
    put_status(out, minor >= 1 ? "HTTP/1.1" : "HTTP/1.0", status, std_reason(status));
    qsort(ls->l, ls->n, sizeof(ls->l[0]), cmp_names);
    lines_put(out, ls, NULL);
    if (minor >= 1 && !keep)
        put_header(out, "Connection", "close");
    else if (minor < 1 && keep)
        put_header(out, "Connection", "keep-alive");
    put_date(out);
    if (!bodyless(status))
        put_length(out, "Content-Length", len);
    put_body(out, status, body, len, head_only);
}

/* Elasticsearch on Netty: the request's version echoed, the rule's headers
 * (Elasticsearch's own names), a lower-case content-length, no Date. */
static void netty_response(struct hp_buf *out, int status, int minor, const struct lines *ls,
                           const void *body, size_t len, bool head_only)
{
    put_status(out, minor >= 1 ? "HTTP/1.1" : "HTTP/1.0", status, std_reason(status));
    lines_put(out, ls, NULL);
    put_length(out, "content-length", len);
    put_body(out, status, body, len, head_only);
}

/* WebLogic: HTTP/1.1 always, then Connection, Date, Content-Length before
 * the application's headers (nmap's match for its admin server's 404). */
static void weblogic_response(struct hp_buf *out, int status, const struct lines *ls, const void *body,
                              size_t len, bool keep, bool head_only)
{
    put_status(out, "HTTP/1.1", status, std_reason(status));
    if (!keep)
        put_header(out, "Connection", "close");
    put_date(out);
    if (!bodyless(status))
        put_length(out, "Content-Length", len);
    lines_put(out, ls, NULL);
    put_body(out, status, body, len, head_only);
}

/* Python's http.server: HTTP/1.0 always; send_response() writes Server and
 * Date, send_error() adds "Connection: close", then the handler's headers
 * with Content-Length last. */
static void python_response(struct hp_buf *out, int status, const struct lines *ls, const void *body,
                            size_t len, bool head_only)
{
    /* SimpleHTTPRequestHandler's only error is send_error(404, "File not found"). */
    put_status(out, "HTTP/1.0", status, status == 404 ? "File not found" : std_reason(status));
    for (size_t i = 0; i < ls->n; i++)
        if (line_is(ls->l[i].p, ls->l[i].n, "Server")) {
            hp_buf_put(out, ls->l[i].p, ls->l[i].n);
            hp_buf_puts(out, "\r\n");
        }
    put_date(out);
    if (status >= 400)
        put_header(out, "Connection", "close");
    lines_put(out, ls, "Server");
    if (!bodyless(status))
        put_length(out, "Content-Length", len);
    put_body(out, status, body, len, head_only);
}

/* An embedded server: nginx's frame (http_parse.c), with the rule's Server
 * header where a server puts it, first. */
static void plain_response(struct hp_buf *out, int status, const struct lines *ls, const void *body, size_t len,
                           bool keep, bool head_only)
{
    char server[256] = "";
    struct hp_buf rest;
    hp_buf_init(&rest, 64 * 1024);
    for (size_t i = 0; i < ls->n; i++) {
        if (line_is(ls->l[i].p, ls->l[i].n, "Server")) {
            header_copy(ls->l[i].p + 7, ls->l[i].n - 7, server, sizeof(server));
            continue;
        }
        hp_buf_put(&rest, ls->l[i].p, ls->l[i].n);
        hp_buf_puts(&rest, "\r\n");
    }
    hp_http_response(out, status, server[0] ? server : NULL, hp_buf_cstr(&rest), body, len, keep, head_only);
    hp_buf_free(&rest);
}

void hp_http_style_response(struct hp_buf *out, enum hp_http_style s, int status, int req_minor,
                            struct hp_bytes method, const char *headers, const void *body, size_t body_len, bool keep_alive,
                            bool head_only)
{
    struct lines ls;
    lines_read(&ls, headers);
    switch (s) {
    case HP_HTTP_STYLE_GO:
        go_response(out, status, req_minor, &ls, body, body_len, keep_alive, head_only);
        break;
    case HP_HTTP_STYLE_NETTY:
        netty_response(out, status, req_minor, &ls, body, body_len, head_only);
        break;
    case HP_HTTP_STYLE_WEBLOGIC:
        weblogic_response(out, status, &ls, body, body_len, keep_alive, head_only);
        break;
    case HP_HTTP_STYLE_PYTHON:
        if (status == 501)
            python_unsupported(out, &ls, method);
        else
            python_response(out, status, &ls, body, body_len, head_only);
        break;
    case HP_HTTP_STYLE_PLAIN:
        plain_response(out, status, &ls, body, body_len, keep_alive, head_only);
        break;
    case HP_HTTP_STYLE_NGINX:
    default:
        hp_http_response(out, status, NULL, headers, body, body_len, keep_alive, head_only);
        break;
    }
}

/* ---- refusals ----------------------------------------------------------------- */

/* The request line of raw (up to its first CR or LF), leading empty lines skipped. */
static void request_line(const uint8_t *raw, size_t n, const uint8_t **p, size_t *len)
{
    size_t i = 0;
    while (i < n && (raw[i] == '\r' || raw[i] == '\n'))
        i++;
    size_t j = i;
    while (j < n && raw[j] != '\r' && raw[j] != '\n')
        j++;
    *p = raw + i;
    *len = j - i;
}

/* The blank-separated words of a line, as Python's str.split() finds them:
 * how many, the first and the last. */
static size_t split_words(const uint8_t *p, size_t n, struct hp_bytes *first, struct hp_bytes *last)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\v' || p[i] == '\f'))
            i++;
        if (i == n)
            break;
        size_t j = i;
        while (j < n && p[j] != ' ' && p[j] != '\t' && p[j] != '\v' && p[j] != '\f')
            j++;
        *last = (struct hp_bytes){ p + i, j - i };
        if (k++ == 0)
            *first = *last;
        i = j;
    }
    return k;
}

/* Python's repr() of a str decoded from ISO-8859-1, at most max bytes of it
 * ("..." after a cut one): quotes as repr chooses them, backslash escapes
 * for what is not printable ASCII. */
static void put_pyrepr(struct hp_buf *out, const uint8_t *p, size_t n, size_t max)
{
    static const char hx[] = "0123456789abcdef";
    bool sq = memchr(p, '\'', n) != NULL, dq = memchr(p, '"', n) != NULL;
    char q = sq && !dq ? '"' : '\'';
    hp_buf_putc(out, q);
    for (size_t i = 0; i < n && i < max; i++) {
        uint8_t c = p[i];
        if (c == '\\' || c == (uint8_t)q) {
            hp_buf_putc(out, '\\');
            hp_buf_putc(out, (char)c);
        } else if (c == '\t' || c == '\r' || c == '\n') {
            hp_buf_putc(out, '\\');
            hp_buf_putc(out, c == '\t' ? 't' : c == '\r' ? 'r' : 'n');
        } else if (c >= 0x20 && c < 0x7f) {
            hp_buf_putc(out, (char)c);
        } else {
            char e[4] = { '\\', 'x', hx[c >> 4], hx[c & 15] };
            hp_buf_put(out, e, 4);
        }
    }
    hp_buf_putc(out, q);
}

/* HTML-escape as Python's html.escape(s, quote=False): & < > only. */
static void put_html(struct hp_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': hp_buf_puts(out, "&amp;"); break;
        case '<': hp_buf_puts(out, "&lt;"); break;
        case '>': hp_buf_puts(out, "&gt;"); break;
        default: hp_buf_putc(out, s[i]); break;
        }
    }
}

/* Go's answer to a request it cannot read (server.go, c.serve). */
static void go_refusal(struct hp_buf *out, int status)
{
    static const char hdrs[] = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n";
    const char *line;
    switch (status) {
    case 414:
    case HP_HTTP_HEADER_TOO_LARGE:
        line = "431 Request Header Fields Too Large";
        break;
    case 501:
        hp_buf_puts(out, "HTTP/1.1 501 Not Implemented");
        hp_buf_puts(out, hdrs);
        hp_buf_puts(out, "Unsupported transfer encoding");
        return;
    case 505:
        line = "505 HTTP Version Not Supported: unsupported protocol version";
        break;
    default:
        line = "400 Bad Request";
        break;
    }
    hp_buf_puts(out, "HTTP/1.1 ");
    hp_buf_puts(out, line);
    hp_buf_puts(out, hdrs);
    hp_buf_puts(out, line);
}

/* Whether the head has a Host header line (Go checks its presence, not its value). */
static bool has_host(const struct hp_http_req *req)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (req->headers[i].name.n == 4 && strncasecmp((const char *)req->headers[i].name.p, "Host", 4) == 0)
            return true;
    return false;
}

bool hp_http_style_refuses(struct hp_buf *out, enum hp_http_style s, const struct hp_http_req *req)
{
    /* net/http's readRequest: ProtoAtLeast(1, 1), no Host, not CONNECT */
    if (s != HP_HTTP_STYLE_GO || req->major != 1 || req->minor < 1 || has_host(req) ||
        (req->method.n == 7 && memcmp(req->method.p, "CONNECT", 7) == 0))
        return false;
    static const char line[] = "400 Bad Request: missing required Host header";
    hp_buf_puts(out, "HTTP/1.1 ");
    hp_buf_puts(out, line);
    hp_buf_puts(out, "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n");
    hp_buf_puts(out, line);
    return true;
}

/* Elasticsearch's error object for a request Netty could not decode. */
static void netty_refusal(struct hp_buf *out, int status)
{
    const char *type = "illegal_argument_exception", *reason = "invalid HTTP request";
    if (status == 414 || status == HP_HTTP_HEADER_TOO_LARGE) {
        type = "too_long_frame_exception";
        reason = status == 414 ? "An HTTP line is larger than 4096 bytes." : "HTTP header is larger than 8192 bytes.";
    }
    char body[512];
    int n = snprintf(body, sizeof(body),
                     "{\"error\":{\"root_cause\":[{\"type\":\"%s\",\"reason\":\"%s\"}],\"type\":\"%s\","
                     "\"reason\":\"%s\"},\"status\":400}",
                     type, reason, type, reason);
    if (n < 0 || (size_t)n >= sizeof(body))
        n = 0;
    hp_buf_puts(out, "HTTP/1.1 400 Bad Request\r\nX-elastic-product: Elasticsearch\r\n"
                     "content-type: application/json; charset=UTF-8\r\n");
    put_length(out, "content-length", (size_t)n);
    hp_buf_puts(out, "\r\n");
    hp_buf_put(out, body, (size_t)n);
}

/* WebLogic's error page: the same frame for every status, with the text of
 * RFC 2068's section on it (its 404 is data/http/files/weblogic-404.html). */
static void weblogic_refusal(struct hp_buf *out, int status)
{
    const char *sec = "10.4.1 400 Bad Request", *title = "400--Bad Request",
               *text = "The request could not be understood by the server due to malformed syntax. "
                       "The client SHOULD NOT repeat the request without modifications.";
    if (status == 414) {
        sec = "10.4.15 414 Request-URI Too Long";
        title = "414--Request-URI Too Long";
        text = "The server is refusing to service the request because the Request-URI is longer than the "
               "server is willing to interpret.";
    } else if (status == 501) {
        sec = "10.5.2 501 Not Implemented";
        title = "501--Not Implemented";
        text = "The server does not support the functionality required to fulfill the request.";
    }
    char page[2048];
    int n = snprintf(page, sizeof(page),
                     "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.0 Draft//EN\">\n<HTML>\n<HEAD>\n"
                     "<TITLE>Error %s</TITLE>\n</HEAD>\n<BODY bgcolor=\"white\">\n"
                     "<FONT FACE=Helvetica><BR CLEAR=all>\n"
                     "<TABLE border=0 cellspacing=5><TR><TD><BR CLEAR=all>\n"
                     "<FONT FACE=\"Helvetica\" COLOR=\"black\" SIZE=\"3\"><H2>Error %s</H2>\n"
                     "</FONT></TD></TR>\n</TABLE>\n"
                     "<TABLE border=0 width=100%% cellpadding=10><TR><TD VALIGN=top WIDTH=100%% BGCOLOR=white>"
                     "<FONT FACE=\"Courier New\"><FONT FACE=\"Helvetica\" SIZE=\"3\"><H3>From RFC 2068 "
                     "<i>Hypertext Transfer Protocol -- HTTP/1.1</i>:</H3>\n"
                     "</FONT><FONT FACE=\"Helvetica\" SIZE=\"3\"><H4>%s</H4>\n"
                     "</FONT><P><FONT FACE=\"Courier New\">%s</FONT></P>\n"
                     "</FONT></TD></TR>\n</TABLE>\n\n</BODY>\n</HTML>\n",
                     title, title, sec, text);
    if (n < 0 || (size_t)n >= sizeof(page))
        n = 0;
    int code = status == 414 || status == 501 ? status : 400;
    struct lines ls;
    lines_read(&ls, "Content-Type: text/html; charset=UTF-8\r\n");
    weblogic_response(out, code, &ls, page, (size_t)n, false, false);
}

/* Python's send_error(): DEFAULT_ERROR_MESSAGE with the message escaped;
 * bare: request_version is still "HTTP/0.9", so the page goes alone. */
static void python_error(struct hp_buf *out, int code, const char *m, const char *explain, const char *server,
                         bool bare)
{
    char num[24];
    struct hp_buf page;
    hp_buf_init(&page, 8192);
    hp_buf_puts(&page, "<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n"
                       "        <title>Error response</title>\n    </head>\n    <body>\n"
                       "        <h1>Error response</h1>\n        <p>Error code: ");
    hp_buf_put(&page, num, hp_fmt_u64((uint64_t)code, num));
    hp_buf_puts(&page, "</p>\n        <p>Message: ");
    put_html(&page, m, strlen(m));
    hp_buf_puts(&page, ".</p>\n        <p>Error code explanation: ");
    hp_buf_put(&page, num, hp_fmt_u64((uint64_t)code, num));
    hp_buf_puts(&page, " - ");
    hp_buf_puts(&page, explain);
    hp_buf_puts(&page, ".</p>\n    </body>\n</html>\n");
    if (!bare) {
        put_status(out, "HTTP/1.0", code, m);
        if (server)
            put_header(out, "Server", server);
        put_date(out);
        put_header(out, "Connection", "close");
        put_header(out, "Content-Type", "text/html;charset=utf-8");
        put_length(out, "Content-Length", page.len);
        hp_buf_puts(out, "\r\n");
    }
    hp_buf_put(out, page.data, page.len);
    hp_buf_free(&page);
}

/* A method SimpleHTTPRequestHandler has no do_METHOD for:
 * send_error(501, "Unsupported method (%r)"). */
static void python_unsupported(struct hp_buf *out, const struct lines *ls, struct hp_bytes method)
{
    char server[256] = "";
    for (size_t i = 0; i < ls->n; i++)
        if (line_is(ls->l[i].p, ls->l[i].n, "Server"))
            header_copy(ls->l[i].p + 7, ls->l[i].n - 7, server, sizeof(server));
    struct hp_buf msg;
    hp_buf_init(&msg, 4096);
    hp_buf_puts(&msg, "Unsupported method (");
    put_pyrepr(&msg, method.p, method.n, 256);
    hp_buf_putc(&msg, ')');
    python_error(out, 501, hp_buf_cstr(&msg), "Server does not support this operation", server[0] ? server : NULL,
                 false);
    hp_buf_free(&msg);
}

/* The version of a request line's last word as Python's parse_request()
 * reads it: 10 * major + minor for "HTTP/M.N" (digits only, at most 10
 * each), -1 when it is not one. */
static int py_version(struct hp_bytes w)
{
    if (w.n < 8 || memcmp(w.p, "HTTP/", 5) != 0)
        return -1;
    const uint8_t *p = w.p + 5, *end = w.p + w.n, *dot = memchr(p, '.', (size_t)(end - p));
    if (!dot || dot == p || dot + 1 == end || memchr(dot + 1, '.', (size_t)(end - dot - 1)) ||
        dot - p > 10 || end - dot - 1 > 10)
        return -1;
    long major = 0, minor = 0;
    for (const uint8_t *q = p; q < dot; q++) {
        if (*q < '0' || *q > '9')
            return -1;
        major = major * 10 + (*q - '0');
    }
    for (const uint8_t *q = dot + 1; q < end; q++) {
        if (*q < '0' || *q > '9')
            return -1;
        minor = minor * 10 + (*q - '0');
    }
    return major >= 2 ? 20 : (int)(major * 10 + (minor > 9 ? 9 : minor));
}

/* Python's http.server: parse_request()'s message for the request line, in
 * the status line and in its error page (DEFAULT_ERROR_MESSAGE). */
static void python_refusal(struct hp_buf *out, int status, const uint8_t *raw, size_t raw_len, const char *server)
{
    const uint8_t *line;
    size_t len;
    struct hp_bytes first = { NULL, 0 }, last = { NULL, 0 };
    request_line(raw, raw_len, &line, &len);
    size_t nw = split_words(line, len, &first, &last);
    if (nw == 0)
        return;                               /* parse_request() closes without a word */
    struct hp_buf msg;
    hp_buf_init(&msg, 4096);
    int code = 400, ver = nw >= 3 ? py_version(last) : -1;
    /* Until the version is read, request_version is "HTTP/0.9" and
     * send_error() sends the page alone, without status line or headers. */
    bool bare = ver < 0 || ver >= 20;
    const char *explain = "Bad request syntax or unsupported method";
    if (nw >= 3 && ver < 0) {
        hp_buf_puts(&msg, "Bad request version (");
        put_pyrepr(&msg, last.p, last.n, 256);
        hp_buf_putc(&msg, ')');
    } else if (ver >= 20) {
        code = 505;
        hp_buf_puts(&msg, "Invalid HTTP version (");
        hp_buf_put(&msg, last.p + 5, last.n - 5);
        hp_buf_putc(&msg, ')');
        explain = "Cannot fulfill request";
    } else if (nw == 2 && !(first.n == 3 && memcmp(first.p, "GET", 3) == 0)) {
        hp_buf_puts(&msg, "Bad HTTP/0.9 request type (");
        put_pyrepr(&msg, first.p, first.n, 256);
        hp_buf_putc(&msg, ')');
    } else if (nw == 3 && status == 414) {
        code = 414;                           /* parse_request's answer to a line over 64 KiB */
        hp_buf_puts(&msg, "Request-URI Too Long");
        explain = "URI is too long";
    } else if (nw == 3 && status == HP_HTTP_HEADER_TOO_LARGE) {
        code = 431;                           /* parse_headers' answer to a header line over 64 KiB */
        hp_buf_puts(&msg, "Line too long");
        explain = "The server is unwilling to process the request because its header fields are too large";
    } else {
        hp_buf_puts(&msg, "Bad request syntax (");
        put_pyrepr(&msg, line, len, 256);
        hp_buf_putc(&msg, ')');
    }
    const char *srv = server && server[0] ? server : NULL;
    python_error(out, code, hp_buf_cstr(&msg), explain, srv, bare);
    hp_buf_free(&msg);
}

/* An embedded server's terse page, in libupnp's words, under its own name. */
static void plain_refusal(struct hp_buf *out, int status, const char *server)
{
    int code = status == 414 || status == 501 || status == 505 ? status : 400;
    char page[128];
    int n = snprintf(page, sizeof(page), "<html><body><h1>%d %s</h1></body></html>", code, std_reason(code));
    if (n < 0 || (size_t)n >= sizeof(page))
        n = 0;
    hp_http_response(out, code, server && server[0] ? server : NULL, "Content-Type: text/html\r\n", page,
                     (size_t)n, false, false);
}

void hp_http_style_refusal(struct hp_buf *out, enum hp_http_style s, int status, const uint8_t *raw,
                           size_t raw_len, const char *server)
{
    switch (s) {
    case HP_HTTP_STYLE_GO:
        go_refusal(out, status);
        break;
    case HP_HTTP_STYLE_NETTY:
        netty_refusal(out, status);
        break;
    case HP_HTTP_STYLE_WEBLOGIC:
        weblogic_refusal(out, status);
        break;
    case HP_HTTP_STYLE_PYTHON:
        python_refusal(out, status, raw, raw_len, server);
        break;
    case HP_HTTP_STYLE_PLAIN:
        plain_refusal(out, status, server);
        break;
    case HP_HTTP_STYLE_NGINX:
    default: {
        char page[1024];
        size_t n = hp_http_error_page(status, server, page, sizeof(page));
        hp_http_response(out, status, server, "Content-Type: text/html\r\n", page, n, false, false);
        break;
    }
    }
}
