/*
 * http_gzip.c - nginx's gzip filter for its own site (see http_gzip.h).
 *
 * The answers compressed are a handful of fixed pages, so the last few
 * results are kept (compared whole on a hit): a scanner fleet asking for
 * the welcome page with Go's default headers costs one deflate per page,
 * not one per request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include "http_gzip.h"
#include "reader.h"

#define GZ_MIN_LENGTH 20          /* gzip_min_length */
#define GZ_MAX_BODY (64 * 1024)   /* larger pages are sent as they are (none is) */
#define GZ_KEPT 4

struct gz_kept {
    size_t in_len, out_len;
    uint8_t *in, *out;             /* one allocation: the page, then its gzip stream */
};

static struct gz_kept kept[GZ_KEPT];
static unsigned kept_next;

/* ---- the request ------------------------------------------------------------------ */

/* "q=..." after ';' (blanks allowed): true when the value is above zero. */
static bool gz_quality(struct hp_rd *r)
{
    while (hp_rd_peek_u8(r, 0) == ' ')
        hp_rd_skip(r, 1);
    int q = hp_rd_u8(r) | 0x20, eq = hp_rd_u8(r);
    if (!hp_rd_ok(r) || q != 'q' || eq != '=')
        return false;
    bool above = false, digits = false;
    for (int c = hp_rd_peek_u8(r, 0); c >= 0 && c != ',' && c != ' '; c = hp_rd_peek_u8(r, 0)) {
        hp_rd_skip(r, 1);
        if (c >= '0' && c <= '9') {
            digits = true;
            above |= c != '0';
        } else if (c != '.') {
            return false;
        }
    }
    return digits && above;
}

/* The token "gzip" in an Accept-Encoding value, as ngx_http_gzip_accept_encoding reads it. */
static bool gz_accepts(struct hp_bytes val)
{
    size_t i = 0;
    for (;; i++) {
        while (i + 4 <= val.n && strncasecmp((const char *)val.p + i, "gzip", 4) != 0)
            i++;
        if (i + 4 > val.n)
            return false;
        if (i == 0 || val.p[i - 1] == ',' || val.p[i - 1] == ' ')
            break;
    }
    struct hp_rd r;
    hp_rd_init(&r, val.p + i + 4, val.n - i - 4);
    while (hp_rd_left(&r)) {
        uint8_t c = hp_rd_u8(&r);
        if (c == ',')
            return true;
        if (c == ';')
            return gz_quality(&r);
        if (c != ' ')
            return false;
    }
    return true;
}

bool hp_http_gzip_accepted(const struct hp_http_view *v, int major, int minor)
{
    if (major < 1 || (major == 1 && minor < 1) || hp_http_view_header(v, "Via"))
        return false;
    const struct hp_http_hdr *ae = hp_http_view_header(v, "Accept-Encoding");   /* the first one */
    return ae && gz_accepts(ae->value);
}

/* ---- the answer ------------------------------------------------------------------- */

/* Deflate as nginx does: level 1, gzip wrapper, window and memory level
 * shrunk while the body fits a smaller window (ngx_http_gzip_filter_memory). */
static bool gz_deflate(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
    int wbits = MAX_WBITS, memlevel = MAX_MEM_LEVEL - 1;
    while ((long)n < (1L << (wbits - 1)) - 262) {
        wbits--;
        memlevel--;
    }
    if (memlevel < 1)
        memlevel = 1;
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 1, Z_DEFLATED, wbits + 16, memlevel, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *outlen = cap - z.avail_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END;
}

static const struct gz_kept *gz_compressed(const uint8_t *in, size_t n)
{
    for (unsigned i = 0; i < GZ_KEPT; i++)
        if (kept[i].in && kept[i].in_len == n && memcmp(kept[i].in, in, n) == 0)
            return &kept[i];
    size_t cap = deflateBound(NULL, (uLong)n) + 32;      /* + the gzip wrapper's header and trailer */
    uint8_t *mem = malloc(n + cap);
    size_t out_len = 0;
    if (!mem || !gz_deflate(in, n, mem + n, cap, &out_len)) {
        free(mem);
        return NULL;
    }
    struct gz_kept *k = &kept[kept_next];
    kept_next = (kept_next + 1) % GZ_KEPT;
    free(k->in);
    memcpy(mem, in, n);
    *k = (struct gz_kept){ n, out_len, mem, mem + n };
    return k;
}

static bool gz_is(const uint8_t *line, size_t n, const char *name)
{
    size_t l = strlen(name);
    return n > l && line[l] == ':' && strncasecmp((const char *)line, name, l) == 0;
}

/* Headers as nginx's gzip filter leaves them; false if the type is not text/html. */
static bool gz_headers(struct hp_buf *hdrs)
{
    struct hp_buf out;
    struct hp_rd r;
    const uint8_t *line;
    size_t n;
    bool html = false;
    hp_buf_init(&out, hdrs->cap);
    hp_rd_init(&r, hdrs->data, hdrs->len);
    while (hp_rd_line(&r, hdrs->len, &line, &n)) {
        if (gz_is(line, n, "Content-Type")) {
            size_t v = 13;
            while (v < n && line[v] == ' ')
                v++;
            html = n - v >= 9 && strncasecmp((const char *)line + v, "text/html", 9) == 0 &&
                   (n - v == 9 || line[v + 9] == ';');
        }
        if (gz_is(line, n, "Accept-Ranges") || gz_is(line, n, "Content-Length"))
            continue;
        if (gz_is(line, n, "ETag")) {
            size_t v = 5;
            while (v < n && line[v] == ' ')
                v++;
            if (v < n && line[v] == '"') {        /* ngx_http_weak_etag */
                hp_buf_put(&out, "ETag: W/", 8);
                hp_buf_put(&out, line + v, n - v);
                hp_buf_put(&out, "\r\n", 2);
                continue;
            }
        }
        hp_buf_put(&out, line, n);
        hp_buf_put(&out, "\r\n", 2);
    }
    hp_buf_puts(&out, "Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n");
    bool ok = html && hp_buf_ok(&out);
    if (ok) {
        hp_buf_reset(hdrs);
        hp_buf_put(hdrs, out.data, out.len);
    }
    hp_buf_free(&out);
    return ok && hp_buf_ok(hdrs);
}

void hp_http_gzip(int status, struct hp_buf *hdrs, struct hp_buf *body)
{
    if ((status != 200 && status != 403 && status != 404) || body->len < GZ_MIN_LENGTH || body->len > GZ_MAX_BODY)
        return;
    const struct gz_kept *k = gz_compressed(body->data, body->len);
    if (!k || !gz_headers(hdrs))
        return;
    char size[24];
    int sn = snprintf(size, sizeof(size), "%zx\r\n", k->out_len);
    hp_buf_reset(body);
    hp_buf_put(body, size, (size_t)sn);
    hp_buf_put(body, k->out, k->out_len);
    hp_buf_puts(body, "\r\n0\r\n\r\n");
}
