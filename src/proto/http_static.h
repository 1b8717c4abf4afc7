/*
 * http_static.h - nginx's static-file answers to conditional and range
 * requests, for the rules that stand for nginx's own site (`static`).
 *
 * A scanner or fingerprinting tool that asks the welcome page for a byte
 * range, or revalidates it with the ETag it was given, gets from nginx a
 * 206 (one range, or multipart/byteranges), a 416, or a 304.  A honeypot
 * that always answers 200 with the whole page differs from the server its
 * banner names.  hp_http_static() applies, to a 200 answer already
 * rendered, what nginx 1.22's not_modified and range filters do
 * (ngx_http_not_modified_filter_module.c, ngx_http_range_filter_module.c):
 *
 *   - If-Modified-Since (the same instant as Last-Modified: nginx's
 *     `if_modified_since exact`) and If-None-Match ("*" or a list holding
 *     the ETag, weak comparison): 304 with Last-Modified and ETag only;
 *   - otherwise Range "bytes=..." (If-Range, when present, must name the
 *     ETag or the Last-Modified date): one satisfiable range -> 206 with
 *     Content-Range; several -> 206 multipart/byteranges with nginx's
 *     boundary (a counter per process, twenty digits); none satisfiable or
 *     a malformed set -> 416 with nginx's page and "Content-Range: bytes
 *     N-total"; ranges that add up to more than the page -> the whole page.
 *
 * Every value read is attacker text: the header values go through the
 * bounds-checked reader, numbers are capped before they can overflow, and
 * the output stays within the buffers' caps.
 */
#ifndef HP_HTTP_STATIC_H
#define HP_HTTP_STATIC_H

#include "buf.h"
#include "intel/httpview.h"

/*
 * v: the request; *status: the answer's status (only a 200 is changed);
 * hdrs: its rendered "Name: value\r\n" lines (ETag, Last-Modified,
 * Content-Type, Accept-Ranges as the rule wrote them), rewritten in place;
 * body: its body, replaced by the part(s) asked for; server: for the 416
 * page's signature line (NULL: none); gzip: the answer will be gzipped
 * (http_gzip.h), so a Range is not served (nginx's range filter declines).
 */
void hp_http_static(const struct hp_http_view *v, int *status, struct hp_buf *hdrs, struct hp_buf *body,
                    const char *server, bool gzip);

#endif
