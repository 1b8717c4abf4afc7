/*
 * http_parse.h - HTTP/1.x request parser, response writer, view builder.
 *
 * Pure code: no I/O, no event loop.  The HTTP module (src/proto/http.c) feeds
 * the bytes a connection received; the parser answers NEED_MORE, DONE (one
 * request) or ERROR (the status a server would answer).  The grammar follows
 * what Debian 12's nginx 1.22 accepts, loosened where a honeypot wants to see
 * more (any token method, any target bytes but SP/CTL, any header name byte
 * but SP/CTL/':'), see http_parse.c for the exact rules.
 *
 * Calling convention (the caller keeps an input buffer per connection):
 *
 *     st = hp_http_parse(p, buf, len, &req, &status, &used);
 *     drop the first 'used' bytes of buf, whatever st is;
 *     NEED_MORE: read more and call again (with what is left in buf);
 *     DONE:      handle req (its pointers are valid until the next call);
 *                call again at once: buf may hold pipelined requests;
 *     ERROR:     answer 'status' and close (nginx closes after these).
 *
 * While the head (request line + headers) is incomplete, NEED_MORE consumes
 * nothing: the caller accumulates up to HP_HTTP_HEAD_MAX bytes.  Once the head
 * is complete but the body is not, the parser copies the head and absorbs the
 * body as it arrives (NEED_MORE with used > 0): a body never has to fit in the
 * caller's buffer; at most max_body bytes of it are kept, the rest is counted
 * and dropped.  A request that arrives whole in one call is parsed without any
 * copy (a Content-Length body points into the caller's data).
 */
#ifndef HP_HTTP_PARSE_H
#define HP_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <stdint.h>

#include "core/buf.h"
#include "intel/httpview.h"

#define HP_HTTP_MAX_HEADERS 100
#define HP_HTTP_HEAD_MAX (64 * 1024)           /* request line + headers: more -> HP_HTTP_HEADER_TOO_LARGE */
#define HP_HTTP_URI_MAX (16 * 1024)            /* request-target: more -> 414 */
/* nginx's internal status for a head its buffers cannot hold: sent as 400
 * with the page "Request Header Or Cookie Too Large" (hp_http_response and
 * hp_http_error_page do both). */
#define HP_HTTP_HEADER_TOO_LARGE 494
#define HP_HTTP_BODY_ABS_MAX (64 * 1024 * 1024) /* declared/chunked body: more -> 413 */

struct hp_http_parser; /* per connection; holds the saved head and the de-chunk buffer */

/* max_body: body bytes kept per request (more is read, counted and dropped). */
struct hp_http_parser *hp_http_parser_new(size_t max_body);
void hp_http_parser_free(struct hp_http_parser *p);
/* Forget any request in progress (e.g. after an ERROR or on reuse). */
void hp_http_parser_reset(struct hp_http_parser *p);

struct hp_http_req {
    struct hp_bytes method, target, version; /* version "HTTP/1.1"; "" for HTTP/0.9 "GET /" */
    int major, minor;                        /* 0.9 -> 0,9 */
    struct hp_http_hdr headers[HP_HTTP_MAX_HEADERS];
    size_t nheaders;
    bool headers_truncated;                  /* more than HP_HTTP_MAX_HEADERS: the rest ignored */
    struct hp_bytes body;                    /* de-chunked, at most max_body bytes kept */
    uint64_t body_len;                       /* the full (de-chunked) body length as sent */
    bool body_truncated;                     /* body_len > body.n */
    bool chunked, keep_alive, expect_continue;
    /* Status nginx 1.22 would answer instead of serving the request, 0 when
     * none: 414 for a request line over 8 KiB, HP_HTTP_HEADER_TOO_LARGE for
     * a header line over 8 KiB or a head nginx's buffers cannot hold, 400
     * for an HTTP/1.1 request without Host, 405 for CONNECT and TRACE (the
     * first that applies).  These are DONE, not ERROR, so the body is still
     * read and can be analysed; the module decides whether to mimic nginx. */
    int nginx_status;
    size_t raw_len;                          /* bytes of input this request used (head + body as on the wire,
                                              * over all calls) */
    size_t head_len;                         /* bytes of request line + headers + CRLFCRLF (with leading
                                              * empty lines) */
};

enum hp_http_status { HP_HTTP_NEED_MORE, HP_HTTP_DONE, HP_HTTP_ERROR };

/*
 * Parse one request from the start of data (see the calling convention above).
 * *used: bytes of data the caller must drop: NEED_MORE 0 while the head is
 * incomplete, else what was absorbed; DONE the rest of this request (== raw_len
 * when it came in one call); ERROR len.  *http_status (ERROR only): 400 bad
 * syntax, 413 body beyond HP_HTTP_BODY_ABS_MAX, 414 target > HP_HTTP_URI_MAX,
 * HP_HTTP_HEADER_TOO_LARGE head > HP_HTTP_HEAD_MAX, 501 unknown Transfer-Encoding, 505 version,
 * 500 out of memory; the parser is then reset.  req is only meaningful on DONE
 * (it is scratch space otherwise).  While the head is incomplete the caller
 * must pass the same bytes again, extended (the parser resumes validation
 * where it stopped).
 */
enum hp_http_status hp_http_parse(struct hp_http_parser *p, const uint8_t *data, size_t len,
                                  struct hp_http_req *req, int *http_status, size_t *used);

/* True once, when a request whose head carried "Expect: 100-continue" waits for
 * its body: the module then sends "HTTP/1.1 100 Continue\r\n\r\n".  Never for a
 * request nginx refuses whatever its body (nginx_status): that answer comes at once. */
bool hp_http_parser_want_continue(struct hp_http_parser *p);
/* The request whose body is being absorbed (head parsed, body.n bytes kept so
 * far), or NULL: lets the module record a request cut off by a disconnect. */
const struct hp_http_req *hp_http_parser_pending(struct hp_http_parser *p);

/*
 * Response writer: status line, Server (NULL: none), Date (IMF-fixdate, now),
 * Content-Type when extra_headers has one (nginx's order), Content-Length
 * (not for 1xx/204/304), Connection: keep-alive/close, the other extra header
 * lines ("Name: value\r\n"..., may be NULL), a blank line, then the body
 * (not for HEAD: head_only, nor for 1xx/204/304).
 */
void hp_http_response(struct hp_buf *out, int status, const char *server, const char *extra_headers,
                      const void *body, size_t body_len, bool keep_alive, bool head_only);
/* nginx's reason phrase ("OK", "Not Found", "Not Allowed"...); "" when unknown. */
const char *hp_http_reason(int status);
/* t as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), without the locale;
 * the length written (at most outlen - 1). */
size_t hp_http_fmt_date(time_t t, char *out, size_t outlen);
/* nginx-like error page body for status, with "<hr><center>SERVER</center>"
 * (no such line when server is NULL).  Writes at most outlen-1 bytes and a NUL;
 * returns the bytes written. */
size_t hp_http_error_page(int status, const char *server, char *out, size_t outlen);

/*
 * The path as nginx resolves it before looking for a file (the view's
 * npath): cut at a raw '#', escapes decoded (a decoded '/' separates, a
 * decoded '.' counts as a dot), empty segments merged, "." dropped, ".."
 * removing the segment before it.  False where nginx answers 400: a bad or
 * %00 escape, a ".." above the root.  out holds n + 1 bytes; *olen is set
 * on success (at least "/").
 */
bool hp_http_ngx_path(const uint8_t *p, size_t n, uint8_t *out, size_t *olen);

/* Whether nginx answers req without a status line and headers: an HTTP/0.9
 * line ("GET /", no version) that its request line parser takes whole.  A
 * line it refuses on the way ("get /", "GET *", "GET http://x") has its
 * 400 with a head. */
bool hp_http_ngx_headless(const struct hp_http_req *req);

/* The same for the first line of raw, a request the parser refused (an
 * HTTP/0.9 line but GET: nginx's 400 is the page alone). */
bool hp_http_ngx_headless_line(const uint8_t *raw, size_t n);

/* Whether nginx has refused the incomplete request line p[0..n) already: it
 * reads a line byte by byte and answers 400 at the first byte it refuses
 * (a method not of A-Z _ -, a target neither '/' nor a scheme: "xyz", "GET *"). */
bool hp_http_ngx_refuses_start(const uint8_t *p, size_t n);

/* Whether nginx answers the request in raw[0..n) (refused or not) with a head
 * alone: its method is HEAD (read before whatever made it refuse). */
bool hp_http_ngx_head_only(const uint8_t *raw, size_t n);

/*
 * Build the analysers' view of a parsed request.  scratch is reset and holds
 * the decoded copies (do not append to it while the view is in use); a field
 * whose decoded copy does not fit is left raw.  Decoding: %XX -> byte (invalid
 * escapes kept), once more when the result still contains a valid %XX (double
 * encoding), '+' -> ' ' in the query and in x-www-form-urlencoded bodies.  An
 * absolute-form target ("http://host/x?y") has path "/x".
 */
void hp_http_view_build(const struct hp_http_req *req, uint16_t local_port, bool tls, struct hp_buf *scratch,
                        struct hp_http_view *v);

/*
 * The pieces of a request the parser refused, for its analysis only (never
 * to answer it): the request line split at its first blank (the method) and
 * at a final " HTTP/d.d" (the version), all between being the target,
 * blanks included, as the embedded servers that take such lines read them
 * (exploits for them put shell commands with spaces in the URL); then the
 * lines holding a ':' up to an empty line as headers (others skipped); then
 * the rest as the body.  Pointers point into raw.  False when there is no
 * method and target to split.
 */
bool hp_http_parse_loose(const uint8_t *raw, size_t len, struct hp_http_req *req);

/* Sniffing for the trap's hand-over (false when unsure): a known method token
 * then ' ' (GET POST HEAD PUT DELETE OPTIONS PATCH CONNECT TRACE, WebDAV
 * methods, PRI for the h2 preface, GENA's SUBSCRIBE UNSUBSCRIBE NOTIFY, PURGE
 * DEBUG TRACK; the first 8 bytes decide) whose request-target, where the bytes
 * reach it, is not a sip:/sips: URI (SIP over TCP stays with the trap); or a
 * TLS handshake record carrying a ClientHello (0x16 0x03 0x00-0x04, length,
 * handshake type 1), or an SSLv2-format ClientHello (length with the high
 * bit, type 1, version 0x0002 or 0x0300-0x0304; 5 bytes decide). */
bool hp_http_sniff(const uint8_t *data, size_t len);
bool hp_tls_sniff(const uint8_t *data, size_t len);

#endif
