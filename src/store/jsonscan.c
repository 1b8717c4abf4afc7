/*
 * jsonscan.c - top-level member lookup and string decoding for event JSON.
 * See jsonscan.h.  Every byte is read through struct hp_rd; the value
 * skipper recurses at most HP_JSCAN_DEPTH levels.
 */
#include <stdint.h>
#include <string.h>
#include "jsonscan.h"
#include "reader.h"
#include "util.h"

static void ws(struct hp_rd *r)
{
    for (;;) {
        int c = hp_rd_peek_u8(r, 0);
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        hp_rd_skip(r, 1);
    }
}

static bool expect(struct hp_rd *r, char c)
{
    return hp_rd_left(r) > 0 && hp_rd_u8(r) == (uint8_t)c;
}

/* Four hex digits after "\u"; -1 if they are not. */
static long hex4(struct hp_rd *r)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hp_rd_left(r) ? hp_hexval(hp_rd_u8(r)) : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The bytes that end a plain run inside a JSON string: the closing quote,
 * a backslash, and the control characters a string may not hold. */
static const uint8_t str_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ['"'] = 1, ['\\'] = 1,
};

static bool skip_string(struct hp_rd *r)
{
    if (!expect(r, '"'))
        return false;
    while (hp_rd_left(r)) {
        hp_rd_skip(r, hp_rd_span(r, str_stop));     /* a plain run at once */
        if (!hp_rd_left(r))
            return false;
        uint8_t c = hp_rd_u8(r);
        if (c == '"')
            return true;
        if (c < 0x20)
            return false;
        if (c != '\\')
            continue;
        if (!hp_rd_left(r))
            return false;
        c = hp_rd_u8(r);
        if (c == 'u') {
            if (hex4(r) < 0)
                return false;
        } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
            return false;
        }
    }
    return false;
}

static bool skip_number(struct hp_rd *r)
{
    size_t n = 0;
    for (;;) {
        int c = hp_rd_peek_u8(r, 0);
        if (c < 0 || !((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'))
            return n > 0;
        hp_rd_skip(r, 1);
        n++;
    }
}

static bool skip_word(struct hp_rd *r, const char *w)
{
    if (!hp_rd_starts_with_str(r, w))
        return false;
    return hp_rd_skip(r, strlen(w));
}

static enum hp_jtype skip_value(struct hp_rd *r, int depth);

/* After the opening bracket: members or elements up to the closing one. */
static bool skip_container(struct hp_rd *r, int depth, bool object)
{
    char close = object ? '}' : ']';
    ws(r);
    if (hp_rd_peek_u8(r, 0) == close)
        return hp_rd_skip(r, 1);
    for (;;) {
        ws(r);
        if (object) {
            if (!skip_string(r))
                return false;
            ws(r);
            if (!expect(r, ':'))
                return false;
        }
        if (skip_value(r, depth + 1) == HP_J_NONE)
            return false;
        ws(r);
        if (!hp_rd_left(r))
            return false;
        uint8_t c = hp_rd_u8(r);
        if (c == (uint8_t)close)
            return true;
        if (c != ',')
            return false;
    }
}

/* Skip one value (after optional white space); its type, or NONE if malformed. */
static enum hp_jtype skip_value(struct hp_rd *r, int depth)
{
    if (depth > HP_JSCAN_DEPTH)
        return HP_J_NONE;
    ws(r);
    switch (hp_rd_peek_u8(r, 0)) {
    case '"':
        return skip_string(r) ? HP_J_STR : HP_J_NONE;
    case '{':
        hp_rd_skip(r, 1);
        return skip_container(r, depth, true) ? HP_J_OBJ : HP_J_NONE;
    case '[':
        hp_rd_skip(r, 1);
        return skip_container(r, depth, false) ? HP_J_ARR : HP_J_NONE;
    case 't':
        return skip_word(r, "true") ? HP_J_TRUE : HP_J_NONE;
    case 'f':
        return skip_word(r, "false") ? HP_J_FALSE : HP_J_NONE;
    case 'n':
        return skip_word(r, "null") ? HP_J_NULL : HP_J_NONE;
    default:
        return skip_number(r) ? HP_J_NUM : HP_J_NONE;
    }
}

/* Skip one value and describe it. */
static bool take_value(struct hp_rd *r, struct hp_jval *v)
{
    ws(r);
    const char *start = (const char *)hp_rd_ptr(r);
    size_t p0 = hp_rd_pos(r);
    v->type = skip_value(r, 1);
    v->p = start;
    v->n = hp_rd_pos(r) - p0;
    return v->type != HP_J_NONE && hp_rd_ok(r);
}

static void match(const char *key, size_t klen, const struct hp_jval *v, const char *const *names,
                  size_t nnames, struct hp_jval *vals)
{
    for (size_t i = 0; i < nnames; i++) {
        if (vals[i].type == HP_J_NONE && (klen ? names[i][0] == key[0] : !names[i][0]) &&
            strnlen(names[i], klen + 1) == klen && memcmp(names[i], key, klen) == 0) {
            vals[i] = *v;
            return;
        }
    }
}

static int members(struct hp_rd *r, const char *const *names, size_t nnames, struct hp_jval *vals)
{
    ws(r);
    if (!expect(r, '{'))
        return -1;
    ws(r);
    if (hp_rd_peek_u8(r, 0) == '}') {
        hp_rd_skip(r, 1);
    } else {
        for (;;) {
            ws(r);
            const char *key = (const char *)hp_rd_ptr(r) + 1;
            size_t k0 = hp_rd_pos(r);
            if (!skip_string(r))
                return -1;
            size_t klen = hp_rd_pos(r) - k0 - 2;
            ws(r);
            struct hp_jval v;
            if (!expect(r, ':') || !take_value(r, &v))
                return -1;
            match(key, klen, &v, names, nnames, vals);
            ws(r);
            if (!hp_rd_left(r))
                return -1;
            uint8_t c = hp_rd_u8(r);
            if (c == '}')
                break;
            if (c != ',')
                return -1;
        }
    }
    ws(r);
    return hp_rd_ok(r) && hp_rd_left(r) == 0 ? 0 : -1;
}

int hp_jscan_members(const char *json, size_t len, const char *const *names, size_t nnames,
                     struct hp_jval *vals)
{
    struct hp_rd r;
    memset(vals, 0, nnames * sizeof(*vals));
    hp_rd_init(&r, json, len);
    if (members(&r, names, nnames, vals) == 0)
        return 0;
    memset(vals, 0, nnames * sizeof(*vals));
    return -1;
}

int hp_jscan_members_at(const char *json, size_t len, const uint32_t *keys, size_t nkeys,
                        const char *const *names, size_t nnames, struct hp_jval *vals)
{
    size_t nlen[16], found = 0;
    memset(vals, 0, nnames * sizeof(*vals));
    if (nnames > 16)
        return -1;                      /* callers want a handful */
    for (size_t i = 0; i < nnames; i++)
        nlen[i] = strlen(names[i]);
    for (size_t k = 0; k < nkeys && found < nnames; k++) {
        struct hp_rd r;
        hp_rd_init(&r, json, len);
        if (!hp_rd_skip(&r, keys[k]) || hp_rd_u8(&r) != '"')
            goto bad;
        /* A wanted name is the key's text up to its closing quote: compared
         * in place, so an unwanted key is never parsed (a key with escapes
         * cannot equal a plain name: its '\\' sits where the quote should). */
        const uint8_t *key = hp_rd_ptr(&r);
        size_t left = hp_rd_left(&r), i;
        for (i = 0; i < nnames; i++)
            if (vals[i].type == HP_J_NONE && left > nlen[i] && (!nlen[i] || key[0] == (uint8_t)names[i][0]) &&
                key[nlen[i]] == '"' && memcmp(key, names[i], nlen[i]) == 0)
                break;
        if (i == nnames)
            continue;                   /* not wanted (or wanted and seen): its value is never read */
        hp_rd_skip(&r, nlen[i] + 1);
        ws(&r);
        if (!expect(&r, ':') || !take_value(&r, &vals[i]))
            goto bad;
        found++;
    }
    return 0;
bad:
    memset(vals, 0, nnames * sizeof(*vals));
    return -1;
}

/* UTF-8 for a code point; 0 if it does not fit in room. */
static size_t put_utf8(char *o, size_t room, unsigned long cp)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xC0 | (cp >> 6));
        b[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xE0 | (cp >> 12));
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xF0 | (cp >> 18));
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (n > room)
        return 0;
    memcpy(o, b, n);
    return n;
}

/* The code point of an escape (after the backslash); -1 if malformed. */
static long unescape(struct hp_rd *r)
{
    if (!hp_rd_left(r))
        return -1;
    uint8_t c = hp_rd_u8(r);
    switch (c) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case '"': case '\\': case '/': return c;
    case 'u': break;
    default: return -1;
    }
    long cp = hex4(r);
    if (cp < 0xD800 || cp > 0xDFFF)
        return cp;
    if (cp >= 0xDC00 || !hp_rd_starts_with_str(r, "\\u"))
        return 0xFFFD;                          /* lone surrogate */
    struct hp_rd save = *r;
    hp_rd_skip(r, 2);
    long lo = hex4(r);
    if (lo < 0xDC00 || lo > 0xDFFF) {
        *r = save;                              /* the next escape stands on its own */
        return 0xFFFD;
    }
    return 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
}

size_t hp_jscan_str(const struct hp_jval *v, char *out, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return 0;
    out[0] = '\0';
    if (v->type != HP_J_STR || v->n < 2)
        return 0;
    struct hp_rd r;
    hp_rd_init(&r, v->p + 1, v->n - 2);
    while (hp_rd_left(&r)) {
        uint8_t c = hp_rd_u8(&r);
        size_t w;
        if (c != '\\') {
            if (n + 1 >= cap)
                break;
            out[n] = (char)c;
            w = 1;
        } else {
            long cp = unescape(&r);
            if (cp < 0)
                break;
            w = put_utf8(out + n, cap - 1 - n, (unsigned long)cp);
            if (!w)
                break;
        }
        n += w;
    }
    out[n] = '\0';
    return n;
}

bool hp_jscan_is_int(const struct hp_jval *v)
{
    if (v->type != HP_J_NUM || v->n == 0 || v->n > 20)
        return false;
    for (size_t i = 0; i < v->n; i++) {
        char c = v->p[i];
        if (!(c >= '0' && c <= '9') && !(c == '-' && i == 0 && v->n > 1))
            return false;
    }
    return true;
}

bool hp_jscan_elem(const struct hp_jval *arr, size_t *pos, struct hp_jval *el)
{
    struct hp_rd r;
    if (arr->type != HP_J_ARR)
        return false;
    hp_rd_init(&r, arr->p, arr->n);
    if (!hp_rd_skip(&r, *pos))
        return false;
    ws(&r);
    if (!hp_rd_left(&r))
        return false;
    uint8_t c = hp_rd_u8(&r);
    if (c != (*pos == 0 ? '[' : ','))
        return false;
    ws(&r);
    if (*pos == 0 && hp_rd_peek_u8(&r, 0) == ']')
        return false;
    if (!take_value(&r, el))
        return false;
    *pos = hp_rd_pos(&r);
    return true;
}
