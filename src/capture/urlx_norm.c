/*
 * urlx_norm.c - hp_urlx_normalize(): one canonical spelling per URL.
 *
 * The extractor finds the same download spelled many ways ("1.2.3.4/x",
 * "HTTP://1.2.3.4:80/x", a wget argument with a space in it); dedup and the
 * downloader need one form.  We follow what wget/curl would fetch: the scheme
 * defaults to http, scheme and host are case-folded, default ports and the
 * fragment are dropped, and path/query bytes are kept verbatim except the
 * ones that cannot travel in a request line (space, controls, >= 0x80), which
 * are percent-encoded.  Existing %XX escapes are left alone, so normalising a
 * normalised URL gives it back unchanged (the fuzzer checks this).
 *
 * Hosts are strict: DNS names of letters, digits, '-' and '.' with at least
 * one dot ("localhost" excepted), dotted-quad IPv4 (an all-numeric host must
 * be one), or a bracketed IPv6 literal.  Anything else is not a URL.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "urlx.h"

struct ux_out {
    char *p;
    size_t len, cap;       /* cap excludes the NUL */
    bool err;
};

static void ux_putc(struct ux_out *o, char c)
{
    if (o->len >= o->cap) {
        o->err = true;
        return;
    }
    o->p[o->len++] = c;
}

static void ux_putn(struct ux_out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && !o->err; i++)
        ux_putc(o, s[i]);
}

/* Path, query and userinfo bytes: verbatim, except what a request line cannot carry. */
static void ux_put_enc(struct ux_out *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n && !o->err; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c <= 0x20 || c >= 0x7f) {
            ux_putc(o, '%');
            ux_putc(o, hex[c >> 4]);
            ux_putc(o, hex[c & 15]);
        } else {
            ux_putc(o, (char)c);
        }
    }
}

static char ux_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static bool ux_ieq(const char *a, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n != m)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ux_lower(a[i]) != lit[i])
            return false;
    return true;
}

/* Known scheme -> its default port, or -1 when unknown (0: no default). */
static long ux_scheme_port(const char *s, size_t n, const char **canon)
{
    static const struct { const char *name; long port; } tab[] = {
        { "http", 80 }, { "https", 443 }, { "ftp", 21 }, { "tftp", 69 }, { "tcp", 0 },
    };
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (ux_ieq(s, n, tab[i].name)) {
            *canon = tab[i].name;
            return tab[i].port;
        }
    return -1;
}

static bool ux_is_digit(char c) { return c >= '0' && c <= '9'; }
static bool ux_is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* Dotted quad with each part 0..255 and at most 3 digits. */
static bool ux_ipv4(const char *h, size_t n)
{
    int parts = 0;
    size_t i = 0;
    while (i < n) {
        size_t d = 0;
        unsigned v = 0;
        while (i < n && ux_is_digit(h[i]) && d < 4) {
            v = v * 10 + (unsigned)(h[i] - '0');
            i++, d++;
        }
        if (d == 0 || d > 3 || v > 255)
            return false;
        parts++;
        if (i == n)
            break;
        if (h[i] != '.' || parts == 4)
            return false;
        i++;
        if (i == n)
            return false;
    }
    return parts == 4;
}

static bool ux_host_ok(const char *h, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    if (h[0] == '[') {
        if (n < 4 || h[n - 1] != ']')
            return false;
        for (size_t i = 1; i + 1 < n; i++) {
            char c = h[i];
            if (!ux_is_digit(c) && !(ux_lower(c) >= 'a' && ux_lower(c) <= 'f') && c != ':' && c != '.')
                return false;
        }
        return memchr(h, ':', n) != NULL;
    }
    bool alpha = false, dot = false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (c == '.') {
            if (label == 0)
                return false;           /* empty label: ".x", "a..b", "x." */
            dot = true;
            label = 0;
            continue;
        }
        if (!ux_is_digit(c) && !ux_is_alpha(c) && c != '-')
            return false;
        if (c != '-' && !ux_is_digit(c))
            alpha = true;
        if (++label > 63)
            return false;
    }
    if (label == 0)
        return false;
    if (!alpha && !memchr(h, '-', n))
        return ux_ipv4(h, n);
    if (ux_ieq(h, n, "localhost"))
        return true;
    return dot && alpha;
}

/* Port text -> number; -1 when empty (means default), -2 when bad. */
static long ux_port(const char *p, size_t n)
{
    if (n == 0)
        return -1;
    if (n > 5)
        return -2;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ux_is_digit(p[i]))
            return -2;
        v = v * 10 + (p[i] - '0');
    }
    return (v >= 1 && v <= 65535) ? v : -2;
}

int hp_urlx_normalize(const char *in, size_t len, const char *default_scheme, char *out, size_t outlen)
{
    if (!in || !out || outlen == 0)
        return -1;
    out[0] = '\0';
    if (len > HP_URLX_URL_MAX)
        return -1;
    struct ux_out o = { out, 0, outlen - 1, false };
    if (o.cap > HP_URLX_URL_MAX)
        o.cap = HP_URLX_URL_MAX;

    /* Scheme: letters then "://" near the start; otherwise the default. */
    const char *canon = NULL;
    long defport;
    size_t i = 0;
    while (i < len && i < 8 && ux_is_alpha(in[i]))
        i++;
    if (i > 0 && i + 3 <= len && memcmp(in + i, "://", 3) == 0) {
        defport = ux_scheme_port(in, i, &canon);
        i += 3;
    } else {
        const char *ds = default_scheme ? default_scheme : "http";
        defport = ux_scheme_port(ds, strlen(ds), &canon);
        i = 0;
    }
    if (defport < 0)
        return -1;

    /* Authority: up to the first '/', '?' or '#'. */
    size_t a = i;
    while (i < len && in[i] != '/' && in[i] != '?' && in[i] != '#')
        i++;
    size_t aend = i;
    size_t hs = a;
    for (size_t k = a; k < aend; k++)
        if (in[k] == '@')
            hs = k + 1;                 /* the last '@' ends the userinfo */
    size_t he = hs;
    if (he < aend && in[he] == '[') {
        while (he < aend && in[he] != ']')
            he++;
        if (he == aend)
            return -1;
        he++;
    } else {
        while (he < aend && in[he] != ':')
            he++;
    }
    long port = -1;
    if (he < aend) {
        if (in[he] != ':')
            return -1;
        port = ux_port(in + he + 1, aend - he - 1);
        if (port == -2)
            return -1;
    }
    if (!ux_host_ok(in + hs, he - hs))
        return -1;
    if (port < 0 && defport == 0)
        return -1;                      /* tcp:// needs an explicit port */
    if (port > 0 && port == defport)
        port = -1;

    ux_putn(&o, canon, strlen(canon));
    ux_putn(&o, "://", 3);
    if (hs > a) {
        for (size_t k = a; k + 1 < hs; k++)
            if (in[k] == '\0' || (!ux_is_alpha(in[k]) && !ux_is_digit(in[k]) &&
                                  !strchr("-._~!$&'()*+,;=:%", in[k])))
                return -1;              /* RFC 3986 userinfo only: no parser confusion (strchr
                                         * finds the NUL terminator: a NUL would cut the URL) */
        ux_putn(&o, in + a, hs - a);
    }
    for (size_t k = hs; k < he; k++)
        ux_putc(&o, ux_lower(in[k]));
    if (port > 0) {
        char pb[8];
        int pn = 0;
        char tmp[8];
        long v = port;
        while (v > 0 && pn < 6) {
            tmp[pn++] = (char)('0' + v % 10);
            v /= 10;
        }
        for (int k = 0; k < pn; k++)
            pb[k] = tmp[pn - 1 - k];
        ux_putc(&o, ':');
        ux_putn(&o, pb, (size_t)pn);
    }
    /* Path and query, fragment dropped. */
    size_t pe = i;
    while (pe < len && in[pe] != '#')
        pe++;
    if (defport == 0) {                 /* tcp://host:port, a stream: no path */
        if (pe - i > 1 || (pe > i && in[i] != '/'))
            return -1;
        if (o.err)
            return -1;
        out[o.len] = '\0';
        return 0;
    }
    if (i == pe || in[i] != '/')
        ux_putc(&o, '/');
    ux_put_enc(&o, in + i, pe - i);
    if (o.err)
        return -1;
    out[o.len] = '\0';
    return 0;
}
