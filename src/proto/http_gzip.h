/*
 * http_gzip.h - nginx's gzip filter for the rules that stand for its own
 * site (`static`), as Debian's and Ubuntu's packaged nginx.conf turn it on
 * (`gzip on;`, the other gzip settings at their defaults).
 *
 * Go's net/http, python-requests, curl --compressed and every browser send
 * "Accept-Encoding: gzip"; a packaged nginx answers them with a gzipped,
 * chunked welcome page (and 404 page) and a weak ETag.  A honeypot that
 * answers them as it answers wrk differs from the server its banner names.
 * What ngx_http_gzip_filter_module does with its defaults, as observed
 * against Debian's nginx 1.22 (tests/integration/cases_http.py compares):
 *
 *   - only for HTTP/1.1 and later (gzip_http_version 1.1), when the first
 *     Accept-Encoding header names "gzip" (any case, as a whole token) with
 *     no q or a q above 0, and without a Via header (gzip_proxied off);
 *   - only for status 200, 403 and 404, text/html, 20 bytes or more;
 *   - the body is deflated at level 1 with zlib's gzip wrapper, the window
 *     and memory level shrunk to the body's size as nginx shrinks them, and
 *     sent as one chunk; Content-Length and Accept-Ranges are dropped, the
 *     ETag made weak, Transfer-Encoding and Content-Encoding added;
 *   - a gzipped answer is never a byte range (nginx's range filter then
 *     declines), but a revalidation still gets its 304 first.
 */
#ifndef HP_HTTP_GZIP_H
#define HP_HTTP_GZIP_H

#include <stdbool.h>
#include "buf.h"
#include "intel/httpview.h"

/* Would nginx gzip its answer to this request (major.minor its version)? */
bool hp_http_gzip_accepted(const struct hp_http_view *v, int major, int minor);

/* Gzip a rendered answer in place when status and type allow: hdrs are its
 * "Name: value\r\n" lines, body its bytes (replaced by the chunked gzip
 * stream).  Unchanged when not applicable or when compression fails. */
void hp_http_gzip(int status, struct hp_buf *hdrs, struct hp_buf *body);

#endif
