/*
 * http_static.c - nginx's conditional and range answers for static pages
 * (see http_static.h).  Each step below follows the nginx 1.22 function it
 * is named after; the comparisons in tests/integration/cases_http.py run
 * the same requests against Debian's nginx.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "reader.h"
#include "http_parse.h"
#include "http_static.h"
#include "util.h"

#define HS_MAX_RANGES 1024         /* more parts than that: the whole page */
#define HS_NUM_MAX 1000000000000000ull   /* a range bound beyond it: unsatisfiable (nginx: off_t overflow) */

struct hs_range {
    uint64_t start, end;           /* [start, end) */
};

enum hs_ranges { HS_OK, HS_DECLINED, HS_UNSATISFIABLE };

/* ---- the answer's own headers ------------------------------------------------ */

/* The value of header name in the rendered lines, without CR LF; {NULL, 0} when absent. */
static struct hp_bytes hs_header(const struct hp_buf *hdrs, const char *name)
{
    size_t nl = strlen(name);
    struct hp_rd r;
    const uint8_t *line;
    size_t n;
    hp_rd_init(&r, hdrs->data, hdrs->len);
    while (hp_rd_line(&r, hdrs->len, &line, &n)) {
        if (n > nl && line[nl] == ':' && strncasecmp((const char *)line, name, nl) == 0) {
            size_t v = nl + 1;
            while (v < n && line[v] == ' ')
                v++;
            return (struct hp_bytes){ line + v, n - v };
        }
    }
    return (struct hp_bytes){ NULL, 0 };
}

/* Keep only the lines keep() accepts (a rendered block is at most 64 KiB). */
static void hs_filter_headers(struct hp_buf *hdrs, bool (*keep)(const uint8_t *line, size_t n))
{
    struct hp_buf out;
    struct hp_rd r;
    const uint8_t *line;
    size_t n;
    hp_buf_init(&out, hdrs->cap);
    hp_rd_init(&r, hdrs->data, hdrs->len);
    while (hp_rd_line(&r, hdrs->len, &line, &n)) {
        if (keep(line, n)) {
            hp_buf_put(&out, line, n);
            hp_buf_put(&out, "\r\n", 2);
        }
    }
    hp_buf_reset(hdrs);
    hp_buf_put(hdrs, out.data, out.len);
    hp_buf_free(&out);
}

static bool hs_is(const uint8_t *line, size_t n, const char *name)
{
    size_t nl = strlen(name);
    return n > nl && line[nl] == ':' && strncasecmp((const char *)line, name, nl) == 0;
}

static bool hs_keep_validators(const uint8_t *line, size_t n)
{
    return hs_is(line, n, "Last-Modified") || hs_is(line, n, "ETag");
}

static bool hs_drop_ranges(const uint8_t *line, size_t n)
{
    return !hs_is(line, n, "Accept-Ranges");
}

static bool hs_drop_ranges_and_type(const uint8_t *line, size_t n)
{
    return !hs_is(line, n, "Accept-Ranges") && !hs_is(line, n, "Content-Type");
}

/* An HTTP date (any of the three forms) as a time, -1 when it is none. */
static time_t hs_time(struct hp_bytes b)
{
    char s[64];
    if (!b.p || b.n == 0 || b.n >= sizeof(s))
        return -1;
    memcpy(s, b.p, b.n);
    s[b.n] = '\0';
    return curl_getdate(s, NULL);
}

/* ---- ngx_http_not_modified_filter_module ------------------------------------- */

/* ngx_http_test_if_match: does the list name the ETag ("*" names any)? */
static bool hs_if_match(struct hp_bytes list, struct hp_bytes etag, bool weak)
{
    const uint8_t *p = list.p, *end = list.p + list.n;
    if (list.n == 1 && p[0] == '*')
        return true;
    if (!etag.p)
        return false;
    while (p < end) {
        if (weak && end - p > 2 && p[0] == 'W' && p[1] == '/')
            p += 2;
        if (etag.n > (size_t)(end - p))
            return false;
        if (memcmp(p, etag.p, etag.n) == 0) {
            p += etag.n;
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            if (p == end || *p == ',')
                return true;
        }
        while (p < end && *p != ',')
            p++;
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
    }
    return false;
}

/* 0: not decided here; else the status nginx answers (304 or 412). */
static int hs_not_modified(const struct hp_http_view *v, const struct hp_buf *hdrs)
{
    const struct hp_http_hdr *ius = hp_http_view_header(v, "If-Unmodified-Since");
    const struct hp_http_hdr *im = hp_http_view_header(v, "If-Match");
    const struct hp_http_hdr *ims = hp_http_view_header(v, "If-Modified-Since");
    const struct hp_http_hdr *inm = hp_http_view_header(v, "If-None-Match");
    if (!ius && !im && !ims && !inm)
        return 0;                  /* most requests: the page's date is not parsed */
    struct hp_bytes etag = hs_header(hdrs, "ETag");
    time_t lm = hs_time(hs_header(hdrs, "Last-Modified"));
    if (ius && (lm == -1 || hs_time(ius->value) < lm))
        return 412;
    if (im && !hs_if_match(im->value, etag, false))
        return 412;
    if (!ims && !inm)
        return 0;
    if (ims && (lm == -1 || hs_time(ims->value) != lm))
        return 0;                                /* modified (nginx's "exact" test) */
    if (inm && !hs_if_match(inm->value, etag, true))
        return 0;
    return 304;
}

/* ---- ngx_http_range_filter_module --------------------------------------------- */

static void hs_spaces(struct hp_rd *r)
{
    while (hp_rd_peek_u8(r, 0) == ' ')
        hp_rd_skip(r, 1);
}

static bool hs_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* A decimal number (at least one digit); false past HS_NUM_MAX. */
static bool hs_number(struct hp_rd *r, uint64_t *v)
{
    *v = 0;
    while (hs_digit(hp_rd_peek_u8(r, 0))) {
        if (*v >= HS_NUM_MAX)
            return false;
        *v = *v * 10 + (uint64_t)(hp_rd_u8(r) - '0');
    }
    return true;
}

/* ngx_http_range_parse, on the value after "bytes=". */
static enum hs_ranges hs_parse(struct hp_bytes set, uint64_t len, struct hs_range *out, size_t *n)
{
    struct hp_rd r;
    uint64_t size = 0;
    hp_rd_init(&r, set.p, set.n);
    *n = 0;
    for (;;) {
        uint64_t start = 0, end = 0;
        bool suffix = false;
        hs_spaces(&r);
        if (hp_rd_peek_u8(&r, 0) != '-') {
            if (!hs_digit(hp_rd_peek_u8(&r, 0)) || !hs_number(&r, &start))
                return HS_UNSATISFIABLE;
            hs_spaces(&r);
            if (hp_rd_peek_u8(&r, 0) != '-')
                return HS_UNSATISFIABLE;
            hp_rd_skip(&r, 1);
            hs_spaces(&r);
            int c = hp_rd_peek_u8(&r, 0);
            if (c == ',' || c < 0) {
                end = len;
                goto found;
            }
        } else {
            suffix = true;
            hp_rd_skip(&r, 1);
        }
        if (!hs_digit(hp_rd_peek_u8(&r, 0)) || !hs_number(&r, &end))
            return HS_UNSATISFIABLE;
        hs_spaces(&r);
        if (hp_rd_peek_u8(&r, 0) != ',' && hp_rd_peek_u8(&r, 0) >= 0)
            return HS_UNSATISFIABLE;
        if (suffix) {
            start = end < len ? len - end : 0;
            end = len - 1;
        }
        end = end >= len ? len : end + 1;
    found:
        if (start < end) {
            if (*n == HS_MAX_RANGES)
                return HS_DECLINED;
            out[(*n)++] = (struct hs_range){ start, end };
            size += end - start;                 /* each part is within len: no overflow */
        } else if (start == 0) {
            return HS_DECLINED;
        }
        if (hp_rd_peek_u8(&r, 0) != ',')
            break;
        hp_rd_skip(&r, 1);
    }
    if (*n == 0)
        return HS_UNSATISFIABLE;
    if (size > len)
        return HS_DECLINED;                      /* overlapping parts (the "Apache Killer") */
    return HS_OK;
}

static void hs_put_u64(struct hp_buf *b, uint64_t v)
{
    char num[24];
    hp_buf_put(b, num, hp_fmt_u64(v, num));
}

static void hs_put_range(struct hp_buf *b, const struct hs_range *r, uint64_t len)
{
    hp_buf_puts(b, "bytes ");
    hs_put_u64(b, r->start);
    hp_buf_putc(b, '-');
    hs_put_u64(b, r->end - 1);
    hp_buf_putc(b, '/');
    hs_put_u64(b, len);
}

/* ngx_http_range_singlepart_header / _body */
static void hs_single(const struct hs_range *r, struct hp_buf *hdrs, struct hp_buf *body)
{
    uint64_t len = body->len;
    hs_filter_headers(hdrs, hs_drop_ranges);
    hp_buf_puts(hdrs, "Content-Range: ");
    hs_put_range(hdrs, r, len);
    hp_buf_puts(hdrs, "\r\n");
    memmove(body->data, body->data + r->start, r->end - r->start);
    body->len = r->end - r->start;
}

/* ngx_http_range_multipart_header / _body; the boundary is nginx's temp
 * number, which its worker counts up from 1. */
static void hs_multi(const struct hs_range *r, size_t n, struct hp_buf *hdrs, struct hp_buf *body)
{
    static _Atomic unsigned long long counter;
    char boundary[32];
    snprintf(boundary, sizeof(boundary), "%020llu", ++counter);
    struct hp_bytes ct = hs_header(hdrs, "Content-Type");
    struct hp_buf type, out;
    hp_buf_init(&type, 1024);
    if (ct.p)
        hp_buf_put(&type, ct.p, ct.n);
    hp_buf_init(&out, body->cap);
    uint64_t len = body->len;
    for (size_t i = 0; i < n; i++) {
        hp_buf_puts(&out, "\r\n--");
        hp_buf_puts(&out, boundary);
        if (type.len) {
            hp_buf_puts(&out, "\r\nContent-Type: ");
            hp_buf_put(&out, type.data, type.len);
        }
        hp_buf_puts(&out, "\r\nContent-Range: ");
        hs_put_range(&out, &r[i], len);
        hp_buf_puts(&out, "\r\n\r\n");
        hp_buf_put(&out, body->data + r[i].start, r[i].end - r[i].start);
    }
    hp_buf_puts(&out, "\r\n--");
    hp_buf_puts(&out, boundary);
    hp_buf_puts(&out, "--\r\n");
    hs_filter_headers(hdrs, hs_drop_ranges_and_type);
    struct hp_buf rest;
    hp_buf_init(&rest, hdrs->cap);
    hp_buf_put(&rest, hdrs->data, hdrs->len);
    hp_buf_reset(hdrs);
    hp_buf_puts(hdrs, "Content-Type: multipart/byteranges; boundary=");
    hp_buf_puts(hdrs, boundary);
    hp_buf_puts(hdrs, "\r\n");
    hp_buf_put(hdrs, rest.data, rest.len);
    hp_buf_reset(body);
    hp_buf_put(body, out.data, out.len);
    hp_buf_free(&rest);
    hp_buf_free(&out);
    hp_buf_free(&type);
}

/* The If-Range condition: absent, or naming this ETag or date. */
static bool hs_if_range(const struct hp_http_view *v, const struct hp_buf *hdrs)
{
    const struct hp_http_hdr *ir = hp_http_view_header(v, "If-Range");
    if (!ir)
        return true;
    if (ir->value.n >= 2 && ir->value.p[ir->value.n - 1] == '"') {
        struct hp_bytes etag = hs_header(hdrs, "ETag");
        return etag.p && etag.n == ir->value.n && memcmp(etag.p, ir->value.p, etag.n) == 0;
    }
    time_t lm = hs_time(hs_header(hdrs, "Last-Modified"));
    return lm != -1 && hs_time(ir->value) == lm;
}

/* An error page of nginx's in place of the answer. */
static void hs_error(int status, const char *server, struct hp_buf *hdrs, struct hp_buf *body)
{
    char page[1024];
    hp_buf_reset(hdrs);
    hp_buf_puts(hdrs, "Content-Type: text/html\r\n");
    hp_buf_reset(body);
    hp_buf_put(body, page, hp_http_error_page(status, server, page, sizeof(page)));
}

void hp_http_static(const struct hp_http_view *v, int *status, struct hp_buf *hdrs, struct hp_buf *body,
                    const char *server, bool gzip)
{
    if (*status != 200 || v->version.n == 0)
        return;
    int nm = hs_not_modified(v, hdrs);
    if (nm == 304) {
        *status = 304;
        hs_filter_headers(hdrs, hs_keep_validators);
        hp_buf_reset(body);
        return;
    }
    if (nm == 412) {
        *status = 412;
        hs_error(412, server, hdrs, body);
        return;
    }
    const struct hp_http_hdr *rh = hp_http_view_header(v, "Range");
    if (gzip || !rh || rh->value.n < 7 || strncasecmp((const char *)rh->value.p, "bytes=", 6) != 0 || !hs_if_range(v, hdrs))
        return;
    static _Thread_local struct hs_range ranges[HS_MAX_RANGES];
    size_t n = 0;
    uint64_t len = body->len;
    switch (hs_parse((struct hp_bytes){ rh->value.p + 6, rh->value.n - 6 }, len, ranges, &n)) {
    case HS_DECLINED:
        return;
    case HS_UNSATISFIABLE:
        *status = 416;
        hs_error(416, server, hdrs, body);
        hp_buf_puts(hdrs, "Content-Range: bytes */");
        hs_put_u64(hdrs, len);
        hp_buf_puts(hdrs, "\r\n");
        return;
    case HS_OK:
        *status = 206;
        if (n == 1)
            hs_single(&ranges[0], hdrs, body);
        else
            hs_multi(ranges, n, hdrs, body);
        return;
    }
}
