/*
 * httpview.h - one HTTP request as every analyser sees it.
 *
 * The HTTP module (src/proto/http.c) parses a request (src/proto/http_parse.h)
 * and builds this view once; the response rules (src/proto/http_rules.h), the
 * attack classifier (src/intel/webclass.h) and the event all read it.  Raw
 * fields are the bytes as received; decoded fields have %XX undone (twice when
 * the request was double-encoded: %252e -> %2e -> '.'), '+' as space in the
 * query and in form bodies, so rules match what the target application would
 * see.  Nothing is NUL-terminated: every field is a (pointer, length) pair that
 * may contain any byte, NUL included.  The view borrows memory from the parser
 * and a scratch buffer; it is valid until the next request.
 */
#ifndef HP_HTTPVIEW_H
#define HP_HTTPVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_bytes {
    const uint8_t *p;
    size_t n;
};

struct hp_http_hdr {
    struct hp_bytes name;          /* as received (compare case-insensitively) */
    struct hp_bytes value;         /* leading/trailing blanks removed */
};

struct hp_http_view {
    struct hp_bytes method;        /* "GET" */
    struct hp_bytes target;        /* request-target as received: "/a%20b?x=1" or "http://h/x" */
    struct hp_bytes path;          /* raw path part of target (no query) */
    struct hp_bytes query;         /* raw query (without '?'), n == 0 when none */
    struct hp_bytes dpath;         /* decoded path */
    struct hp_bytes npath;         /* the path nginx would look up (decoded, dot segments
                                    * applied, slashes merged); n == 0 where nginx says 400 */
    struct hp_bytes dquery;        /* decoded query ('+' -> ' ') */
    struct hp_bytes version;       /* "HTTP/1.1"; "HTTP/0.9" style requests: "" */
    const struct hp_http_hdr *headers;
    size_t nheaders;
    struct hp_bytes body;          /* de-chunked body as received, capped */
    struct hp_bytes dbody;         /* decoded body when form-urlencoded (else == body) */
    uint16_t local_port;           /* the port it arrived on */
    struct hp_bytes server;        /* the Server header the service answers with ("" if none) */
    bool tls;                      /* came inside TLS */
    struct hp_bytes injected;      /* the classifier's injected command lines (webclass.h
                                    * commands), for {{shell_output}}; n == 0 when none */
};

/* First header named name (case-insensitive), or NULL. */
const struct hp_http_hdr *hp_http_view_header(const struct hp_http_view *v, const char *name);

#endif
