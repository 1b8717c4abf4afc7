/*
 * chquery.c - ClickHouse HTTP queries for the fleet report (see chquery.h).
 *
 * Design: one libcurl easy handle per report (so the TCP/TLS connection is
 * reused by its two dozen queries); the query is the POST body, the database
 * and wait_end_of_query=1 go in the URL.  wait_end_of_query makes the
 * server buffer the answer, so an error found while computing it comes back
 * as an HTTP error status instead of text appended to a 200 answer that
 * would otherwise parse as rows.  Credentials go as HTTP basic auth, which
 * 18.16 and current releases accept.
 *
 * The answer is collected into a bounded buffer (HP_CHQ_MAX_RESPONSE) and
 * then parsed as a whole by hp_chq_parse_tsv(), through struct hp_rd.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "chquery.h"
#include "reader.h"
#include "util.h"

/* ---- URL ----------------------------------------------------------------------- */

/* Copy [s, s+n) percent-decoded into out (NUL-terminated). -1 if it does not fit or has NUL. */
static int chq_pct(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int h = i + 1 < n ? hp_hexval(s[i + 1]) : -1, l = i + 2 < n ? hp_hexval(s[i + 2]) : -1;
            if (h < 0 || l < 0)
                return -1;
            c = h * 16 + l;
            i += 2;
        }
        if (c == 0 || o + 1 >= outlen)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

static int chq_fail(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "store URL: %s (want clickhouse://[user[:password]@]host[:port]/database)", what);
    return -1;
}

int hp_chq_parse_url(const char *url, struct hp_chq_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof(*u));
    const char *p;
    if (strncmp(url, "clickhouse://", 13) == 0 || strncmp(url, "clickhouse+http://", 18) == 0) {
        p = strstr(url, "://") + 3;
    } else if (strncmp(url, "clickhouse+https://", 19) == 0) {
        p = url + 19;
        u->https = true;
    } else {
        return chq_fail(err, errlen, "unknown scheme");
    }
    const char *end = p + strcspn(p, "/?#");
    const char *at = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '@')
            at = q;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        size_t ulen = (size_t)((colon ? colon : at) - p);
        if (chq_pct(p, ulen, u->user, sizeof(u->user)) != 0)
            return chq_fail(err, errlen, "bad user name");
        if (colon && chq_pct(colon + 1, (size_t)(at - colon - 1), u->password, sizeof(u->password)) != 0)
            return chq_fail(err, errlen, "bad password");
        p = at + 1;
    }
    const char *hend, *portp = NULL;
    if (*p == '[') {
        hend = memchr(p, ']', (size_t)(end - p));
        if (!hend)
            return chq_fail(err, errlen, "unclosed [");
        hend++;
        if (hend < end && *hend == ':')
            portp = hend + 1;
        else if (hend != end)
            return chq_fail(err, errlen, "junk after ]");
    } else {
        hend = memchr(p, ':', (size_t)(end - p));
        if (hend)
            portp = hend + 1;
        else
            hend = end;
    }
    size_t hlen = (size_t)(hend - p);
    if (hlen == 0 || hlen >= sizeof(u->host))
        return chq_fail(err, errlen, "no host or too long");
    for (size_t i = 0; i < hlen; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
              strchr("-.:[]_", p[i])))
            return chq_fail(err, errlen, "bad character in host");
    memcpy(u->host, p, hlen);
    u->port = u->https ? 8443 : 8123;
    if (portp) {
        unsigned long v = 0;
        if (portp == end)
            return chq_fail(err, errlen, "empty port");
        for (const char *q = portp; q < end; q++) {
            if (*q < '0' || *q > '9' || (v = v * 10 + (unsigned long)(*q - '0')) > 65535)
                return chq_fail(err, errlen, "bad port");
        }
        if (v == 0)
            return chq_fail(err, errlen, "bad port");
        u->port = (uint16_t)v;
    }
    snprintf(u->database, sizeof(u->database), "hanipo");
    p = end;
    if (*p == '/') {
        p++;
        size_t dlen = strcspn(p, "?#");
        if (dlen) {
            if (dlen >= sizeof(u->database))
                return chq_fail(err, errlen, "database name too long");
            for (size_t i = 0; i < dlen; i++)
                if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
                      (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
                    return chq_fail(err, errlen, "a database name is letters, digits and '_'");
            memcpy(u->database, p, dlen);
            u->database[dlen] = '\0';
        }
        p += dlen;
    }
    if (*p == '?') {
        p++;
        while (*p && *p != '#') {
            size_t n = strcspn(p, "&#");
            if (n == 8 && strncmp(p, "secure=1", 8) == 0) {
                u->https = true;
                if (!portp)
                    u->port = 8443;
            } else if (!(n == 8 && strncmp(p, "secure=0", 8) == 0)) {
                return chq_fail(err, errlen, "unknown parameter (only secure=0|1)");
            }
            p += n;
            if (*p == '&')
                p++;
        }
    }
    if (*p)
        return chq_fail(err, errlen, "junk at the end");
    return 0;
}

/* ---- TabSeparated ---------------------------------------------------------------- */

/* Unescape one cell [s, s+n) into out (capacity >= n + 1). Returns its length or -1. */
static long chq_unescape(const uint8_t *s, size_t n, char *out)
{
    struct hp_rd r;
    size_t o = 0;
    hp_rd_init(&r, s, n);
    while (hp_rd_left(&r)) {
        uint8_t c = hp_rd_u8(&r);
        if (c != '\\') {
            out[o++] = (char)c;
            continue;
        }
        if (!hp_rd_left(&r))
            return -1;
        c = hp_rd_u8(&r);
        switch (c) {
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'r': out[o++] = '\r'; break;
        case 'n': out[o++] = '\n'; break;
        case 't': out[o++] = '\t'; break;
        case '0': out[o++] = '\0'; break;
        case 'a': out[o++] = '\a'; break;
        case 'v': out[o++] = '\v'; break;
        case 'x': {
            const uint8_t *h = hp_rd_bytes(&r, 2);
            int hi = h ? hp_hexval(h[0]) : -1, lo = h ? hp_hexval(h[1]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            out[o++] = (char)(hi * 16 + lo);
            break;
        }
        default: out[o++] = (char)c; break;    /* \\ \' \" and any other: the byte itself */
        }
    }
    out[o] = '\0';
    return (long)o;
}

int hp_chq_parse_tsv(const void *data, size_t len, hp_chq_row_fn fn, void *arg)
{
    struct hp_rd r;
    struct hp_chq_cell cells[HP_CHQ_MAX_COLS];
    hp_rd_init(&r, data, len);
    while (hp_rd_left(&r)) {
        long nl = hp_rd_find(&r, "\n", 1);
        if (nl < 0)
            return -1;                      /* a cut answer: never show half a row */
        struct hp_rd line;
        hp_rd_sub(&r, (size_t)nl, &line);
        hp_rd_skip(&r, 1);
        /* unescaped cells are never longer than the line: one scratch buffer per row */
        char *scratch = malloc((size_t)nl + HP_CHQ_MAX_COLS + 1);
        if (!scratch)
            return -1;
        size_t ncols = 0, used = 0;
        int rc = 0;
        for (;;) {
            long tab = hp_rd_find(&line, "\t", 1);
            size_t n = tab < 0 ? hp_rd_left(&line) : (size_t)tab;
            const uint8_t *s = hp_rd_bytes(&line, n);
            if (ncols == HP_CHQ_MAX_COLS) {
                rc = -1;
                break;
            }
            if (n == 2 && s[0] == '\\' && s[1] == 'N') {
                cells[ncols++] = (struct hp_chq_cell){ NULL, 0 };
            } else {
                long k = chq_unescape(s ? s : (const uint8_t *)"", n, scratch + used);
                if (k < 0) {
                    rc = -1;
                    break;
                }
                cells[ncols++] = (struct hp_chq_cell){ scratch + used, (size_t)k };
                used += (size_t)k + 1;
            }
            if (tab < 0)
                break;
            hp_rd_skip(&line, 1);
        }
        if (rc == 0)
            rc = fn(arg, ncols, cells);
        free(scratch);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void hp_chq_quote(struct hp_buf *b, const char *s, size_t n)
{
    hp_buf_putc(b, '\'');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr(" .:-_/@", c)))
            hp_buf_putc(b, c);
        else
            hp_buf_printf(b, "\\x%02X", c);
    }
    hp_buf_putc(b, '\'');
}

/* ---- HTTP ----------------------------------------------------------------------- */

struct hp_chq {
    CURL *curl;
    char url[512];
    struct hp_buf resp;
};

static size_t chq_write(char *p, size_t size, size_t nmemb, void *arg)
{
    struct hp_buf *b = arg;
    size_t n = size * nmemb;
    if (!hp_buf_put(b, p, n))
        return 0;                           /* over HP_CHQ_MAX_RESPONSE: abort the transfer */
    return n;
}

struct hp_chq *hp_chq_open(const struct hp_chq_url *u, long timeout_ms, char *err, size_t errlen)
{
    static int inited;
    if (!inited++)
        curl_global_init(CURL_GLOBAL_DEFAULT);
    struct hp_chq *c = hp_xcalloc(1, sizeof(*c));
    c->curl = curl_easy_init();
    if (!c->curl) {
        snprintf(err, errlen, "cannot start libcurl");
        free(c);
        return NULL;
    }
    snprintf(c->url, sizeof(c->url), "%s://%s:%u/?database=%s&wait_end_of_query=1", u->https ? "https" : "http",
             u->host, (unsigned)u->port, u->database);
    hp_buf_init(&c->resp, HP_CHQ_MAX_RESPONSE);
    curl_easy_setopt(c->curl, CURLOPT_URL, c->url);
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, chq_write);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->resp);
    curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, "");
    if (u->user[0] || u->password[0]) {
        curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c->curl, CURLOPT_USERNAME, u->user[0] ? u->user : "default");
        curl_easy_setopt(c->curl, CURLOPT_PASSWORD, u->password);
    }
    return c;
}

void hp_chq_close(struct hp_chq *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    hp_buf_free(&c->resp);
    free(c);
}

/* The server's error text as one printable line (it may quote the query, i.e. attacker data). */
static void chq_errtext(const struct hp_buf *b, char *err, size_t errlen, const char *prefix)
{
    size_t o = (size_t)snprintf(err, errlen, "%s", prefix);
    for (size_t i = 0; i < b->len && o + 1 < errlen && i < 400; i++) {
        unsigned char ch = b->data[i];
        err[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : ' ';
    }
    if (o < errlen)
        err[o] = '\0';
}

int hp_chq_query(struct hp_chq *c, const char *sql, hp_chq_row_fn fn, void *arg, char *err, size_t errlen)
{
    struct hp_buf q;
    hp_buf_init(&q, 1 << 20);
    hp_buf_printf(&q, "%s FORMAT TabSeparated", sql);
    if (!hp_buf_ok(&q)) {
        hp_buf_free(&q);
        snprintf(err, errlen, "query too long");
        return -1;
    }
    hp_buf_reset(&c->resp);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, (const char *)q.data);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)q.len);
    CURLcode cc = curl_easy_perform(c->curl);
    hp_buf_free(&q);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
    long status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        if (cc == CURLE_WRITE_ERROR && !hp_buf_ok(&c->resp))
            snprintf(err, errlen, "answer larger than %u bytes", HP_CHQ_MAX_RESPONSE);
        else
            snprintf(err, errlen, "%s: %s", c->url, curl_easy_strerror(cc));
        return -1;
    }
    if (status != 200) {
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "ClickHouse HTTP %ld: ", status);
        chq_errtext(&c->resp, err, errlen, prefix);
        return -1;
    }
    int rc = hp_chq_parse_tsv(c->resp.data, c->resp.len, fn, arg);
    if (rc == -1)
        snprintf(err, errlen, "malformed TabSeparated answer from ClickHouse");
    return rc;
}
