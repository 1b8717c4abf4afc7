/*
 * http_style.h - answers in the manner of servers other than nginx.
 *
 * The web engine answers as nginx by default: http_parse.c writes nginx's
 * status line, header order and error pages.  The per-port personalities of
 * data/http/responses.rules stand for products that are not nginx: Go's
 * net/http (the Docker daemon, the kubelet, geth, MinIO), Netty under
 * Elasticsearch, Oracle WebLogic, Python's http.server.  Their bodies were
 * right, but the form around them was nginx's, and so was the answer to a
 * request the parser refuses: nmap -sV, whose RTSPRequest probe is such a
 * request, named nginx on every one of those ports.
 *
 * A rule's `style NAME` gives its answers that server's form (status line
 * version, header order and names, which of Date, Content-Length and
 * Connection it sends), and a request refused on a port whose rules carry a
 * style gets that server's refusal instead of nginx's 400 page.  For the
 * embedded servers of routers and cameras (GoAhead, JAWS, libupnp, a TR-069
 * agent), whose exact refusals are not on record, `style plain` keeps the
 * rule's own Server header and answers a refused request with a terse page
 * under that header, rather than nginx's page naming nginx.  What each
 * style writes is taken from the servers' sources and captures (Go's
 * net/http server.go, Elasticsearch's Netty4HttpResponse, Python's
 * http.server) and from nmap's service probes for WebLogic.
 */
#ifndef HP_HTTP_STYLE_H
#define HP_HTTP_STYLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "intel/httpview.h"

enum hp_http_style {
    HP_HTTP_STYLE_NGINX = 0,      /* the default: http_parse.c's hp_http_response */
    HP_HTTP_STYLE_GO,             /* Go's net/http */
    HP_HTTP_STYLE_NETTY,          /* Elasticsearch 7 on Netty 4 */
    HP_HTTP_STYLE_WEBLOGIC,       /* Oracle WebLogic Server */
    HP_HTTP_STYLE_PYTHON,         /* Python 3's http.server (SimpleHTTP) */
    HP_HTTP_STYLE_PLAIN,          /* an embedded server whose refusal is not on record: the
                                   * rule's Server header first, and a terse 400 of its own */
};

/* The style named by the n bytes at name ("nginx", "go", ...), or -1. */
int hp_http_style_parse(const char *name, size_t n);
const char *hp_http_style_name(enum hp_http_style s);

/* Whether a connection stays open after an answer in style s that nginx's
 * rules would keep open (Python's http.server speaks HTTP/1.0 and closes). */
bool hp_http_style_keeps(enum hp_http_style s, bool keep_alive);

/*
 * An answer in style s (not HP_HTTP_STYLE_NGINX): status line, the rule's
 * header lines ("Name: value\r\n"...) and the headers the server adds, in
 * its order, then the body (not for HEAD: head_only, nor 1xx/204/304).
 * req_minor is the request's HTTP/1.x minor version: Go, Netty answer an
 * HTTP/1.0 request with an HTTP/1.0 status line.  method is the request's:
 * Python's 501 names it (its page is then written here, not the rule's).
 */
void hp_http_style_response(struct hp_buf *out, enum hp_http_style s, int status, int req_minor,
                            struct hp_bytes method,
                            const char *headers, const void *body, size_t body_len, bool keep_alive,
                            bool head_only);

/*
 * What the server of style s sends to a request it cannot parse (status:
 * the parser's refusal, 400, 414, 501, ...), then closes.  raw is the
 * refused request as received: Python's and Elasticsearch's answers quote a
 * part of it (escaped).  server is the Server header of the port's rule
 * (Python's answer names itself), or NULL.
 */
void hp_http_style_refusal(struct hp_buf *out, enum hp_http_style s, int status, const uint8_t *raw,
                           size_t raw_len, const char *server);

/*
 * Whether the server of style s refuses a request the parser accepted,
 * writing its answer to out if so (the connection then closes).  Go's
 * net/http refuses an HTTP/1.1 request without a Host header ("400 Bad
 * Request: missing required Host header"), which nmap's docker probe is;
 * nginx refuses it too, but through req->nginx_status.  The others serve it.
 */
struct hp_http_req;
bool hp_http_style_refuses(struct hp_buf *out, enum hp_http_style s, const struct hp_http_req *req);

#endif
