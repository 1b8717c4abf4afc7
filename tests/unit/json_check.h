/*
 * json_check.h - an independent, strict JSON reader for tests and fuzzers.
 *
 * Header-only (static functions) so that both tests/unit/test_*.c and
 * fuzz/fuzz_*.c can include it.  It deliberately shares no code with
 * src/core/json.c: UTF-8 is checked by decoding code points and testing their
 * ranges, not with json.c's lead-byte table, so the two can catch each other.
 *
 *   jc_valid()      whole text is exactly one RFC 8259 JSON value (strings
 *                   must be valid UTF-8; lone surrogate escapes are refused)
 *   jc_safe_text()  hanipo's stronger promise: no raw control bytes, DEL,
 *                   U+2028 or U+2029, C1 control or bidirectional override
 *                   anywhere in the text
 *   jc_members()    the top-level object's members in order (key decoded,
 *                   value as a span of the text)
 *   jc_decode_str() a JSON string literal back to the exact bytes it encodes
 *   jc_b64()        reference RFC 4648 base64 (padded)
 */
#ifndef JSON_CHECK_H
#define JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JC_MAXDEPTH 64

/* In fuzzers the checker is the oracle, not the target: no coverage
 * callbacks for it (they would dominate the run time on 1 MB events). */
#if defined(__clang__) && __clang_major__ >= 13
#define JC_FN static inline __attribute__((no_sanitize("coverage")))
#else
#define JC_FN static inline
#endif

struct jc {
    const uint8_t *p, *end;
    int depth;
};

/* Length of the valid UTF-8 encoding at s (1..4), 0 if invalid. */
JC_FN size_t jc_utf8_len(const uint8_t *s, size_t n)
{
    uint32_t cp, min;
    size_t len;
    if (n == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0) { len = 2; cp = s[0] & 0x1F; min = 0x80; }
    else if ((s[0] & 0xF0) == 0xE0) { len = 3; cp = s[0] & 0x0F; min = 0x800; }
    else if ((s[0] & 0xF8) == 0xF0) { len = 4; cp = s[0] & 0x07; min = 0x10000; }
    else return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

JC_FN size_t jc_put_utf8(uint8_t *o, uint32_t cp)
{
    if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) { o[0] = (uint8_t)(0xC0 | (cp >> 6)); o[1] = (uint8_t)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12)); o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F)); return 3;
    }
    o[0] = (uint8_t)(0xF0 | (cp >> 18)); o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

JC_FN void jc_ws(struct jc *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

JC_FN int jc_hex4(const uint8_t *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int d;
        if (p[i] >= '0' && p[i] <= '9') d = p[i] - '0';
        else if (p[i] >= 'a' && p[i] <= 'f') d = p[i] - 'a' + 10;
        else if (p[i] >= 'A' && p[i] <= 'F') d = p[i] - 'A' + 10;
        else return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Parse a string literal at j->p.  If out is not NULL the decoded bytes are
 * written there (at most the literal's own length is ever needed). */
JC_FN bool jc_string(struct jc *j, uint8_t *out, size_t *outlen)
{
    size_t o = 0;
    if (j->p >= j->end || *j->p != '"')
        return false;
    j->p++;
    for (;;) {
        if (j->p >= j->end)
            return false;
        uint8_t c = *j->p;
        if (c == '"') {
            j->p++;
            break;
        }
        if (c < 0x20)
            return false;
        if (c != '\\') {
            size_t l = jc_utf8_len(j->p, (size_t)(j->end - j->p));
            if (!l)
                return false;
            if (out)
                memcpy(out + o, j->p, l);
            o += l;
            j->p += l;
            continue;
        }
        if (j->end - j->p < 2)
            return false;
        uint8_t e = j->p[1];
        uint8_t d;
        j->p += 2;
        switch (e) {
        case '"': d = '"'; break;
        case '\\': d = '\\'; break;
        case '/': d = '/'; break;
        case 'b': d = '\b'; break;
        case 'f': d = '\f'; break;
        case 'n': d = '\n'; break;
        case 'r': d = '\r'; break;
        case 't': d = '\t'; break;
        case 'u': {
            if (j->end - j->p < 4)
                return false;
            int cp = jc_hex4(j->p);
            if (cp < 0)
                return false;
            j->p += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return false;                      /* lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u')
                    return false;                  /* lone high surrogate */
                int lo = jc_hex4(j->p + 2);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return false;
                j->p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            uint8_t tmp[4];
            size_t l = jc_put_utf8(tmp, (uint32_t)cp);
            if (out)
                memcpy(out + o, tmp, l);
            o += l;
            continue;
        }
        default:
            return false;
        }
        if (out)
            out[o] = d;
        o++;
    }
    if (outlen)
        *outlen = o;
    return true;
}

JC_FN bool jc_digits(struct jc *j)
{
    const uint8_t *s = j->p;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return j->p > s;
}

JC_FN bool jc_number(struct jc *j)
{
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p >= j->end)
        return false;
    if (*j->p == '0')
        j->p++;
    else if (!jc_digits(j))
        return false;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (!jc_digits(j))
            return false;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!jc_digits(j))
            return false;
    }
    return true;
}

JC_FN bool jc_lit(struct jc *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
        return false;
    j->p += n;
    return true;
}

JC_FN bool jc_value(struct jc *j);

JC_FN bool jc_container(struct jc *j, bool obj)
{
    uint8_t close = obj ? '}' : ']';
    if (++j->depth > JC_MAXDEPTH)
        return false;
    j->p++;                                        /* '{' or '[' */
    jc_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        j->depth--;
        return true;
    }
    for (;;) {
        jc_ws(j);
        if (obj) {
            if (!jc_string(j, NULL, NULL))
                return false;
            jc_ws(j);
            if (j->p >= j->end || *j->p != ':')
                return false;
            j->p++;
        }
        if (!jc_value(j))
            return false;
        jc_ws(j);
        if (j->p >= j->end)
            return false;
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p != close)
            return false;
        j->p++;
        j->depth--;
        return true;
    }
}

JC_FN bool jc_value(struct jc *j)
{
    jc_ws(j);
    if (j->p >= j->end)
        return false;
    switch (*j->p) {
    case '{': return jc_container(j, true);
    case '[': return jc_container(j, false);
    case '"': return jc_string(j, NULL, NULL);
    case 't': return jc_lit(j, "true");
    case 'f': return jc_lit(j, "false");
    case 'n': return jc_lit(j, "null");
    default: return jc_number(j);
    }
}

/* The whole text is exactly one JSON value (surrounding whitespace allowed). */
JC_FN bool jc_valid(const char *s, size_t n)
{
    struct jc j = { (const uint8_t *)s, (const uint8_t *)s + n, 0 };
    if (!jc_value(&j))
        return false;
    jc_ws(&j);
    return j.p == j.end;
}

/* No raw C0 controls, DEL, U+2028 or U+2029 anywhere in the text, nor what a
 * terminal acts on or reorders: C1 controls U+0080-U+009F, bidirectional
 * controls U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069. */
JC_FN bool jc_safe_text(const char *s, size_t n)
{
    const uint8_t *u = (const uint8_t *)s;
    for (size_t i = 0; i < n; i++) {
        if (u[i] < 0x20 || u[i] == 0x7F)
            return false;
        uint32_t cp = 0;
        if (u[i] >= 0xC0 && u[i] < 0xE0 && i + 1 < n)
            cp = (uint32_t)(u[i] & 0x1F) << 6 | (u[i + 1] & 0x3F);
        else if (u[i] >= 0xE0 && u[i] < 0xF0 && i + 2 < n)
            cp = (uint32_t)(u[i] & 0x0F) << 12 | (uint32_t)(u[i + 1] & 0x3F) << 6 | (u[i + 2] & 0x3F);
        if ((cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
            (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
            return false;
    }
    return true;
}

struct jc_member {
    char key[256];              /* decoded, NUL-terminated (keys with NUL are not expected) */
    size_t keylen;
    const char *val;            /* span of the value in the text */
    size_t vlen;
};

/* Members of the top-level object in order; -1 if the text is not an
 * object or has more than max members or a key longer than 255 bytes.
 * The text must already have passed jc_valid(). */
JC_FN int jc_members(const char *s, size_t n, struct jc_member *m, int max)
{
    struct jc j = { (const uint8_t *)s, (const uint8_t *)s + n, 0 };
    int cnt = 0;
    jc_ws(&j);
    if (j.p >= j.end || *j.p != '{')
        return -1;
    j.p++;
    jc_ws(&j);
    if (*j.p == '}')
        return 0;
    for (;;) {
        if (cnt >= max)
            return -1;
        jc_ws(&j);
        struct jc save = j;
        if (!jc_string(&save, NULL, NULL) || save.p - j.p > 255)
            return -1;
        jc_string(&j, (uint8_t *)m[cnt].key, &m[cnt].keylen);
        m[cnt].key[m[cnt].keylen] = '\0';
        jc_ws(&j);
        j.p++;                                     /* ':' */
        jc_ws(&j);
        m[cnt].val = (const char *)j.p;
        jc_value(&j);
        m[cnt].vlen = (size_t)((const char *)j.p - m[cnt].val);
        cnt++;
        jc_ws(&j);
        if (*j.p == '}')
            return cnt;
        j.p++;                                     /* ',' */
    }
}

JC_FN const struct jc_member *jc_find(const struct jc_member *m, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (strcmp(m[i].key, key) == 0)
            return &m[i];
    return NULL;
}

/* Decode a string literal (the whole span) into a malloc'd buffer; NULL if
 * the span is not exactly one string. */
JC_FN uint8_t *jc_decode_str(const char *val, size_t vlen, size_t *outlen)
{
    struct jc j = { (const uint8_t *)val, (const uint8_t *)val + vlen, 0 };
    uint8_t *out = malloc(vlen + 1);
    if (!out)
        return NULL;
    if (!jc_string(&j, out, outlen) || j.p != j.end) {
        free(out);
        return NULL;
    }
    return out;
}

/* Reference base64 (RFC 4648 section 4, padded) into a malloc'd C string. */
JC_FN char *jc_b64(const void *data, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const uint8_t *s = data;
    char *o = malloc(4 * ((n + 2) / 3) + 1), *q = o;
    if (!o)
        return NULL;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = ((uint32_t)s[i] << 16) | ((uint32_t)s[i + 1] << 8) | s[i + 2];
        *q++ = tab[v >> 18]; *q++ = tab[(v >> 12) & 63]; *q++ = tab[(v >> 6) & 63]; *q++ = tab[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *q++ = tab[v >> 18]; *q++ = tab[(v >> 12) & 63]; *q++ = '='; *q++ = '=';
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)s[i] << 16) | ((uint32_t)s[i + 1] << 8);
        *q++ = tab[v >> 18]; *q++ = tab[(v >> 12) & 63]; *q++ = tab[(v >> 6) & 63]; *q++ = '=';
    }
    *q = '\0';
    return o;
}

#endif
