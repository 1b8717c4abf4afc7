/*
 * http_multipart.c - multipart/form-data parts (see http_multipart.h).
 *
 * A body is: anything, then "--B" line, part headers, an empty line, the
 * content up to CRLF "--B", then "--" (the end) or a line break and the
 * next part.  Every step is a search in the reader's unread bytes, so no
 * offset is ever taken from the peer's data without the reader checking it.
 */
#include <string.h>
#include <strings.h>
#include "reader.h"
#include "http_multipart.h"

static bool ci_prefix(const uint8_t *p, size_t n, const char *word)
{
    size_t w = strlen(word);
    return n >= w && strncasecmp((const char *)p, word, w) == 0;
}

bool hp_mp_boundary(struct hp_bytes ct, struct hp_bytes *boundary)
{
    if (!ct.p || !ci_prefix(ct.p, ct.n, "multipart/form-data"))
        return false;
    for (size_t i = 19; i + 9 <= ct.n; i++) {
        if (!ci_prefix(ct.p + i, ct.n - i, "boundary=") || (ct.p[i - 1] != ';' && ct.p[i - 1] != ' ' &&
                                                            ct.p[i - 1] != '\t'))
            continue;
        const uint8_t *b = ct.p + i + 9;
        size_t n = ct.n - i - 9;
        if (n && b[0] == '"') {
            const uint8_t *q = memchr(b + 1, '"', n - 1);
            if (!q)
                return false;
            n = (size_t)(q - b - 1);
            b++;
        } else {
            size_t k = 0;
            while (k < n && b[k] != ';' && b[k] != ' ' && b[k] != '\t')
                k++;
            n = k;
        }
        if (n == 0 || n > HP_MP_BOUNDARY_MAX)
            return false;
        boundary->p = b;
        boundary->n = n;
        return true;
    }
    return false;
}

/* The value of a Content-Disposition parameter (name / filename): quoted
 * (up to the closing quote; a backslash escapes the next byte) or a token. */
static bool disp_param(const uint8_t *p, size_t n, const char *key, struct hp_bytes *out)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 1 <= n; i++) {
        if (!ci_prefix(p + i, n - i, key) || p[i + kl] != '=')
            continue;
        if (i > 0 && p[i - 1] != ';' && p[i - 1] != ' ' && p[i - 1] != '\t')
            continue;                            /* "filename" inside "xfilename=" */
        size_t v = i + kl + 1;
        if (v < n && p[v] == '"') {
            size_t e = v + 1;
            while (e < n && p[e] != '"')
                e += (p[e] == '\\' && e + 1 < n) ? 2 : 1;
            out->p = p + v + 1;
            out->n = (e < n ? e : n) - v - 1;
        } else {
            size_t e = v;
            while (e < n && p[e] != ';' && p[e] != ' ' && p[e] != '\t')
                e++;
            out->p = p + v;
            out->n = e - v;
        }
        return true;
    }
    return false;
}

/* Read a part's header lines up to the empty line. */
static bool part_headers(struct hp_rd *rd, struct hp_mp_part *part)
{
    for (size_t seen = 0;;) {
        const uint8_t *line;
        size_t n;
        size_t before = hp_rd_pos(rd);
        if (!hp_rd_line(rd, HP_MP_HEAD_MAX, &line, &n))
            return false;
        seen += hp_rd_pos(rd) - before;
        if (seen > HP_MP_HEAD_MAX)
            return false;
        if (n == 0)
            return true;
        if (ci_prefix(line, n, "content-disposition:")) {
            disp_param(line + 20, n - 20, "name", &part->name);
            part->has_filename = disp_param(line + 20, n - 20, "filename", &part->filename);
        } else if (ci_prefix(line, n, "content-type:")) {
            size_t k = 13;
            while (k < n && (line[k] == ' ' || line[k] == '\t'))
                k++;
            part->content_type.p = line + k;
            part->content_type.n = n - k;
        }
    }
}

size_t hp_mp_parse(struct hp_bytes body, struct hp_bytes boundary,
                   bool (*cb)(void *arg, const struct hp_mp_part *part), void *arg)
{
    uint8_t delim[HP_MP_BOUNDARY_MAX + 4];
    if (!body.p || boundary.n == 0 || boundary.n > HP_MP_BOUNDARY_MAX)
        return 0;
    delim[0] = '-';
    delim[1] = '-';
    memcpy(delim + 2, boundary.p, boundary.n);
    size_t dn = boundary.n + 2;
    struct hp_rd rd;
    hp_rd_init(&rd, body.p, body.n);
    long at = hp_rd_find(&rd, delim, dn);          /* the first delimiter ends the preamble */
    if (at < 0)
        return 0;
    hp_rd_skip(&rd, (size_t)at + dn);
    size_t nparts = 0;
    while (nparts < HP_MP_PARTS_MAX && hp_rd_left(&rd) > 0) {
        if (hp_rd_starts_with_str(&rd, "--"))
            break;                                 /* the close delimiter */
        const uint8_t *rest;
        size_t rn;
        if (!hp_rd_line(&rd, HP_MP_HEAD_MAX, &rest, &rn))   /* transport padding after the delimiter */
            break;
        struct hp_mp_part part;
        memset(&part, 0, sizeof(part));
        if (!part_headers(&rd, &part))
            break;
        long end = hp_rd_find(&rd, delim, dn);
        size_t len = end < 0 ? hp_rd_left(&rd) : (size_t)end;
        part.data.p = hp_rd_ptr(&rd);
        part.data.n = len;
        /* the line break before the delimiter belongs to it */
        if (end >= 0 && part.data.n > 0 && part.data.p[part.data.n - 1] == '\n') {
            part.data.n--;
            if (part.data.n > 0 && part.data.p[part.data.n - 1] == '\r')
                part.data.n--;
        }
        nparts++;
        if (!cb(arg, &part))
            break;
        if (end < 0)
            break;
        hp_rd_skip(&rd, len + dn);
    }
    return nparts;
}
