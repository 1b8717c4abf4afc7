/*
 * urlx_decode.c - the decodings attackers wrap commands in.
 *
 * Each decoder is one linear pass over a layer's text.  A cheap first look
 * decides whether there is anything to decode at all, so clean text costs no
 * allocation; the decoded text is never longer than its input, so the output
 * buffer is reserved once (cap = input length) and written in place.  The
 * caller (urlx.c) bounds how many layers are decoded and how many bytes in all.
 */
#include <stdint.h>
#include <string.h>
#include "urlx_int.h"

static int ux_hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = ux_lc(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static bool ux_isoct(uint8_t c) { return c >= '0' && c <= '7'; }

/* Reserve n bytes of output; NULL on failure. */
static uint8_t *ux_outbuf(struct hp_buf *out, size_t n)
{
    hp_buf_reset(out);
    if (n == 0 || !hp_buf_reserve(out, n))
        return NULL;
    return out->data;
}

/* ---- HTML entities and JSON escapes ("plain") ----------------------------- */

static const struct { const char *name; uint8_t c; } ux_ents[] = {
    { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' }, { "apos;", '\'' },
};

/* Length of an entity starting at p[i] ('&'), its byte in *c; 0 if none. */
static size_t ux_entity_at(const uint8_t *p, size_t n, size_t i, uint8_t *c)
{
    for (size_t k = 0; k < sizeof(ux_ents) / sizeof(ux_ents[0]); k++) {
        size_t l = strlen(ux_ents[k].name);
        if (n - i - 1 >= l && memcmp(p + i + 1, ux_ents[k].name, l) == 0) {
            *c = ux_ents[k].c;
            return l + 1;
        }
    }
    if (n - i < 4 || p[i + 1] != '#')
        return 0;
    size_t j = i + 2;
    int base = 10;
    if (j < n && (p[j] == 'x' || p[j] == 'X')) {
        base = 16;
        j++;
    }
    unsigned v = 0;
    size_t d = 0;
    while (j < n && d < 6) {
        int h = ux_hexval(p[j]);
        if (h < 0 || h >= base)
            break;
        v = v * (unsigned)base + (unsigned)h;
        j++, d++;
    }
    if (d == 0 || j >= n || p[j] != ';' || v == 0 || v >= 0x80)
        return 0;
    *c = (uint8_t)v;
    return j + 1 - i;
}

/* JSON "\/" and "\u00XX" (ASCII only) at p[i] ('\\'); 0 if none. */
static size_t ux_json_at(const uint8_t *p, size_t n, size_t i, uint8_t *c)
{
    if (n - i >= 2 && p[i + 1] == '/') {
        *c = '/';
        return 2;
    }
    if (n - i >= 6 && p[i + 1] == 'u' && p[i + 2] == '0' && p[i + 3] == '0' &&
        ux_hexval(p[i + 4]) >= 0 && ux_hexval(p[i + 5]) >= 0) {
        int v = ux_hexval(p[i + 4]) * 16 + ux_hexval(p[i + 5]);
        if (v > 0 && v < 0x80) {
            *c = (uint8_t)v;
            return 6;
        }
    }
    return 0;
}

/* Index of the first a or b in p[from..n), or n.  Most texts have neither:
 * two SIMD searches instead of a loop over every byte.  The callers walk
 * from left to right, so where a and b were last found is kept (nx): a
 * search again from the next b would read on to the far a (or the end)
 * once per b: a scan of 64 KiB of '%' with no '+' took 55 ms, now 2. */
struct ux_next2 {
    size_t a, b;                  /* next index of each at or after the last from; n: none */
    bool known;
};

static size_t ux_find(const uint8_t *p, size_t n, size_t from, uint8_t c)
{
    const uint8_t *x = memchr(p + from, c, n - from);
    return x ? (size_t)(x - p) : n;
}

static size_t ux_next_of2(const uint8_t *p, size_t n, size_t from, uint8_t a, uint8_t b, struct ux_next2 *nx)
{
    if (from >= n)
        return n;
    if (!nx->known || nx->a < from)
        nx->a = ux_find(p, n, from, a);
    if (!nx->known || nx->b < from)
        nx->b = a == b ? nx->a : ux_find(p, n, from, b);
    nx->known = true;
    return nx->a < nx->b ? nx->a : nx->b;
}

static size_t ux_plain_at(const uint8_t *p, size_t n, size_t i, uint8_t *c)
{
    if (p[i] == '&')
        return ux_entity_at(p, n, i, c);
    if (p[i] == '\\')
        return ux_json_at(p, n, i, c);
    return 0;
}

bool ux_dec_entity(const uint8_t *p, size_t n, struct hp_buf *out)
{
    struct ux_next2 nx = { 0 };
    size_t first = ux_next_of2(p, n, 0, '&', '\\', &nx);
    uint8_t c;
    while (first < n && !ux_plain_at(p, n, first, &c))
        first = ux_next_of2(p, n, first + 1, '&', '\\', &nx);
    if (first >= n)
        return false;
    uint8_t *o = ux_outbuf(out, n);
    if (!o)
        return false;
    memcpy(o, p, first);
    size_t w = first;
    for (size_t i = first; i < n;) {
        size_t l = (p[i] == '&' || p[i] == '\\') ? ux_plain_at(p, n, i, &c) : 0;
        if (l) {
            o[w++] = c;
            i += l;
        } else {
            o[w++] = p[i++];
        }
    }
    out->len = w;
    return true;
}

/* ---- %XX and '+' ------------------------------------------------------------ */

bool ux_dec_url(const uint8_t *p, size_t n, struct hp_buf *out)
{
    bool any = false;
    struct ux_next2 nx = { 0 };
    for (size_t i = ux_next_of2(p, n, 0, '+', '%', &nx); i < n && !any; i = ux_next_of2(p, n, i + 1, '+', '%', &nx))
        any = p[i] == '+' || (n - i >= 3 && ux_hexval(p[i + 1]) >= 0 && ux_hexval(p[i + 2]) >= 0);
    if (!any)
        return false;
    uint8_t *o = ux_outbuf(out, n);
    if (!o)
        return false;
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        if (p[i] == '%' && n - i >= 3 && ux_hexval(p[i + 1]) >= 0 && ux_hexval(p[i + 2]) >= 0) {
            o[w++] = (uint8_t)(ux_hexval(p[i + 1]) * 16 + ux_hexval(p[i + 2]));
            i += 3;
        } else {
            o[w++] = p[i] == '+' ? ' ' : p[i];
            i++;
        }
    }
    out->len = w;
    return true;
}

/* ---- ${IFS} and friends ----------------------------------------------------- */

/* Length of an IFS expansion at p[i] ('$'): $IFS, ${IFS}, ${IFS%??}, ${IFS:0:1}. */
static size_t ux_ifs_at(const uint8_t *p, size_t n, size_t i)
{
    if (n - i >= 4 && memcmp(p + i, "$IFS", 4) == 0) {
        uint8_t c = n - i > 4 ? p[i + 4] : ' ';
        bool ident = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        return ident ? 0 : 4;
    }
    if (n - i >= 6 && memcmp(p + i, "${IFS", 5) == 0) {
        for (size_t j = i + 5; j < n && j < i + 16; j++)
            if (p[j] == '}')
                return j + 1 - i;
    }
    return 0;
}

bool ux_dec_ifs(const uint8_t *p, size_t n, struct hp_buf *out)
{
    struct ux_next2 nx = { 0 };
    size_t first = ux_next_of2(p, n, 0, '$', '$', &nx);
    while (first < n && !ux_ifs_at(p, n, first))
        first = ux_next_of2(p, n, first + 1, '$', '$', &nx);
    if (first >= n)
        return false;
    uint8_t *o = ux_outbuf(out, n);
    if (!o)
        return false;
    memcpy(o, p, first);
    size_t w = first;
    for (size_t i = first; i < n;) {
        size_t l = p[i] == '$' ? ux_ifs_at(p, n, i) : 0;
        if (l) {
            o[w++] = ' ';
            i += l;
        } else {
            o[w++] = p[i++];
        }
    }
    out->len = w;
    return true;
}

/* ---- \xHH, \NNN (echo -e, printf, $'...') ---------------------------------- */

/* Length of an escape at p[i] ('\\'), its byte in *c; 0 if none. */
static size_t ux_hex_at(const uint8_t *p, size_t n, size_t i, uint8_t *c)
{
    if (n - i < 2)
        return 0;
    uint8_t e = p[i + 1];
    if (e == 'x' && n - i >= 3 && ux_hexval(p[i + 2]) >= 0) {
        int v = ux_hexval(p[i + 2]);
        size_t l = 3;
        if (n - i >= 4 && ux_hexval(p[i + 3]) >= 0) {
            v = v * 16 + ux_hexval(p[i + 3]);
            l = 4;
        }
        *c = (uint8_t)v;
        return l;
    }
    if (ux_isoct(e)) {
        unsigned v = 0;
        size_t j = i + 1;
        while (j < n && j < i + 4 && ux_isoct(p[j]))
            v = v * 8 + (unsigned)(p[j++] - '0');
        *c = (uint8_t)v;
        return j - i;
    }
    switch (e) {
    case 'n': *c = '\n'; return 2;
    case 't': *c = '\t'; return 2;
    case 'r': *c = '\r'; return 2;
    case '\\': *c = '\\'; return 2;
    default: return 0;
    }
}

bool ux_dec_hex(const uint8_t *p, size_t n, struct hp_buf *out)
{
    /* Only \x or octal escapes make this a "hex" layer; \n alone does not. */
    size_t first = n;
    struct ux_next2 nx = { 0 };
    for (size_t i = ux_next_of2(p, n, 0, '\\', '\\', &nx); i + 2 < n; i = ux_next_of2(p, n, i + 1, '\\', '\\', &nx))
        if ((p[i + 1] == 'x' && ux_hexval(p[i + 2]) >= 0) || (ux_isoct(p[i + 1]) && ux_isoct(p[i + 2]))) {
            first = i;
            break;
        }
    if (first == n)
        return false;
    uint8_t *o = ux_outbuf(out, n);
    if (!o)
        return false;
    size_t w = 0;
    uint8_t c;
    for (size_t i = 0; i < n;) {
        size_t l = p[i] == '\\' ? ux_hex_at(p, n, i, &c) : 0;
        if (l) {
            o[w++] = c;
            i += l;
        } else {
            o[w++] = p[i++];
        }
    }
    out->len = w;
    return true;
}

/* ---- base64 runs ------------------------------------------------------------- */

/* Base64 digit values, -1 for other bytes: a table, because the run finder
 * looks up every byte of every layer. */
static const int8_t ux_b64tab[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

static int ux_b64val(uint8_t c)
{
    return ux_b64tab[c] - 1;       /* stored + 1 so that the zero fill means "not base64" */
}

/* Runs are maximal; a run with only one letter case is a path or a word
 * ("/usr/local/bin/busybox"), not base64 of text, and is passed over. */
bool ux_b64_run(const uint8_t *p, size_t n, size_t *pos, size_t min, size_t max,
                size_t *start, size_t *rlen)
{
    size_t i = *pos;
    while (i < n) {
        while (i < n && ux_b64val(p[i]) < 0)
            i++;
        size_t s = i;
        bool up = false, low = false;
        while (i < n && ux_b64val(p[i]) >= 0) {
            up |= p[i] >= 'A' && p[i] <= 'Z';
            low |= p[i] >= 'a' && p[i] <= 'z';
            i++;
        }
        size_t l = i - s;
        while (i < n && p[i] == '=' && i - s < l + 2)
            i++;
        if (l >= min && l <= max && up && low) {
            *pos = i;
            *start = s;
            *rlen = l;
            return true;
        }
    }
    *pos = n;
    return false;
}

bool ux_dec_b64(const uint8_t *p, size_t n, struct hp_buf *out)
{
    uint8_t *o = ux_outbuf(out, n);
    if (!o)
        return false;
    size_t w = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = ux_b64val(p[i]);
        if (v < 0)
            break;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[w++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    out->len = w;
    return w > 0;
}

/* At least 8 bytes, 90% of them printable ASCII or tab/CR/LF. */
bool ux_mostly_text(const uint8_t *p, size_t n)
{
    if (n < 8)
        return false;
    size_t good = 0;
    for (size_t i = 0; i < n; i++)
        good += (p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\n' || p[i] == '\r' || p[i] == '\t';
    return good * 10 >= n * 9;
}
