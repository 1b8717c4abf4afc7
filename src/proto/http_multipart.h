/*
 * http_multipart.h - the parts of a multipart/form-data body (RFC 7578).
 *
 * Web shells, miner scripts and implants arrive as file fields of upload
 * forms (WordPress plugin and theme uploads, ThinkPHP, Struts, Tomcat's
 * manager deploy, router firmware pages).  The HTTP module hands every
 * part that names a filename to the payload store, so the file is kept by
 * SHA-256 whether hanipo answered the request or relayed it to a backend.
 *
 * Pure code over the body bytes through the hp_rd reader; nothing is
 * copied, the spans point into the body.  Lenient as servers are (LF-only
 * lines, a missing final boundary ends the last part at the body's end);
 * bounded: at most HP_MP_PARTS_MAX parts, headers of a part within
 * HP_MP_HEAD_MAX bytes.
 */
#ifndef HP_HTTP_MULTIPART_H
#define HP_HTTP_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "intel/httpview.h"

#define HP_MP_BOUNDARY_MAX 200          /* RFC 2046 says 70; clients send longer */
#define HP_MP_PARTS_MAX 64
#define HP_MP_HEAD_MAX 8192

struct hp_mp_part {
    struct hp_bytes name;               /* form field name (unquoted), may be empty */
    struct hp_bytes filename;           /* n == 0 and has_filename false: a plain field */
    bool has_filename;
    struct hp_bytes content_type;       /* the part's Content-Type, may be empty */
    struct hp_bytes data;               /* the part's content */
};

/* The boundary of a Content-Type value "multipart/form-data; boundary=..."
 * (quoted or not); false when it is not multipart or has no usable boundary. */
bool hp_mp_boundary(struct hp_bytes content_type, struct hp_bytes *boundary);

/* Call cb for each part of body (at most HP_MP_PARTS_MAX); returns the
 * number of parts seen.  cb returns false to stop. */
size_t hp_mp_parse(struct hp_bytes body, struct hp_bytes boundary,
                   bool (*cb)(void *arg, const struct hp_mp_part *part), void *arg);

#endif
