/*
 * http_proxy.h - the pure part of the HTTP engine's proxy mode: what goes
 * to the backend and what comes back from it.  No I/O (http.c owns the
 * sockets); fuzzed by fuzz/fuzz_http_proxy.c.
 *
 * Every request goes to the backend on a connection of its own with
 * "Connection: close": the response then ends at the backend's EOF
 * whatever its framing, so no response body is ever parsed, and responses
 * of pipelined requests cannot mix (the next request is read only after
 * the previous response is complete).  Only the response head is parsed:
 * for its status (logged) and its framing, which decides whether the
 * client's connection can stay open.
 */
#ifndef HP_HTTP_PROXY_H
#define HP_HTTP_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/buf.h"
#include "http_parse.h"

#define HP_HTTP_RESP_HEAD_MAX (64 * 1024)   /* backend response head; more -> 502 */

struct hp_http_resp_head {
    int status;                    /* 100..999 */
    bool has_length;               /* Content-Length given (valid, one value) */
    uint64_t length;
    bool chunked;                  /* Transfer-Encoding ends in chunked */
    size_t head_len;               /* status line + headers + blank line */
};

/* Parse a response head at the start of p.  Returns 1 (head complete, *h
 * set), 0 (need more bytes), -1 (not an HTTP/1.x response head, or longer
 * than HP_HTTP_RESP_HEAD_MAX). */
int hp_http_resp_head_parse(const uint8_t *p, size_t n, struct hp_http_resp_head *h);

/* The head for the client: the backend's status line and headers minus the
 * hop-by-hop ones (Connection, Keep-Alive, Proxy-Connection), plus
 * "Connection: keep-alive" or "close".  p/head_len as parsed above. */
void hp_http_resp_head_rewrite(const uint8_t *p, size_t head_len, bool keep, struct hp_buf *out);

/* Does a response with this head and request method carry no body (1xx,
 * 204, 304, HEAD)? */
bool hp_http_resp_bodyless(const struct hp_http_resp_head *h, bool head_request);

/*
 * The request as sent to the backend: request line and headers as the
 * client sent them except Connection, Keep-Alive, Proxy-Connection, TE,
 * Upgrade, Expect, Transfer-Encoding and Content-Length; then
 * "Content-Length" of the kept (de-chunked) body when there is one,
 * "X-Forwarded-For: xff" when xff is not NULL, "Connection: close" when
 * for_backend (else the client's Connection header is kept, for re-parsing
 * a copy), a blank line and the body.
 */
void hp_http_px_request(const struct hp_http_req *req, const char *xff, bool for_backend, struct hp_buf *out);

#endif
