/*
 * json.c - JSON string escaping and base64 for hostile bytes.  See json.h.
 *
 * UTF-8 validation follows RFC 3629 (the table in its section 4): overlong
 * forms, surrogates and code points above U+10FFFF are invalid, and each
 * invalid byte becomes one U+FFFD.  Escaping covers everything JSON requires
 * plus DEL, U+2028/U+2029, the C1 controls and the bidirectional overrides,
 * so the output is also safe inside a JavaScript string and harmless on a
 * terminal.
 */
#include <string.h>
#include <openssl/evp.h>
#include "json.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if s[0] starts none. */
static size_t utf8_seq_len(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0;              /* overlong */
        if (c == 0xED && s[1] >= 0xA0)
            return 0;              /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90)
            return 0;              /* overlong */
        if (c == 0xF4 && s[1] >= 0x90)
            return 0;              /* > U+10FFFF */
        return 4;
    }
    return 0;
}

bool hp_utf8_valid(const void *data, size_t n)
{
    const uint8_t *s = data;
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = utf8_seq_len(s + i, n - i);
        if (!l)
            return false;
        i += l;
    }
    return true;
}

static const char hexdig[] = "0123456789abcdef";

static void put_u_escape(struct hp_buf *b, unsigned cp)
{
    char e[6] = { '\\', 'u', hexdig[(cp >> 12) & 15], hexdig[(cp >> 8) & 15],
                  hexdig[(cp >> 4) & 15], hexdig[cp & 15] };
    hp_buf_put(b, e, 6);
}

/*
 * The code point of the valid l-byte sequence at s if it is written as \uXXXX
 * although JSON allows it raw, else 0: U+2028/U+2029 (newlines to JavaScript
 * and some line splitters), the C1 controls U+0080-U+009F (U+009B is a CSI,
 * U+009D an OSC to a terminal that decodes UTF-8 first) and the bidirectional
 * marks, embeddings, overrides and isolates that reorder what a reader sees
 * (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069), as term.h lists them:
 * the files stay safe to read on a terminal, and the text decodes the same.
 */
static unsigned escaped_cp(const uint8_t *s, size_t l)
{
    if (l == 2 && s[0] == 0xC2 && s[1] <= 0x9F)
        return s[1];
    if (l == 2 && s[0] == 0xD8 && s[1] == 0x9C)
        return 0x061C;
    if (l != 3 || s[0] != 0xE2)
        return 0;
    unsigned cp = 0x2000 | (unsigned)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    bool hit = (cp >= 0x200E && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
    return hit ? cp : 0;
}

/*
 * Whether any of the eight bytes in w must be looked at one by one: below
 * 0x20, 0x7F and above, '"' or '\\'.  The usual "has a byte less than"
 * tests: each may also flag a byte above a true hit (a borrow), never one
 * alone, so a zero answer is exact.  Events are mostly plain ASCII; this
 * passes it eight bytes at a time.
 */
static inline uint64_t word_needs_look(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t quote = w ^ (ones * '"'), bslash = w ^ (ones * '\\'), del = w ^ (ones * 0x7F);
    uint64_t hits = (w - ones * 0x20) & ~w;            /* bytes below 0x20 */
    hits |= (quote - ones) & ~quote;                   /* '"' */
    hits |= (bslash - ones) & ~bslash;                 /* '\\' */
    hits |= (del - ones) & ~del;                       /* DEL */
    return (hits | w) & high;                          /* w: bytes of 0x80 and above */
}

/* 1 for the bytes JSON carries as they are: printable ASCII but '"' and '\\'. */
#define ONES16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
static const uint8_t json_plain[256] = {
    [0x20] = 1, 1, 0 /* '"' */, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    [0x30] = ONES16, ONES16,
    [0x50] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* '\\' */, 1, 1, 1,
    [0x60] = ONES16,
    [0x70] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* DEL */,
};

/* How many leading bytes of s JSON carries as they are. */
static size_t plain_prefix(const uint8_t *s, size_t n)
{
    size_t i = 0;
    for (uint64_t w; n - i >= 8; i += 8) {
        memcpy(&w, s + i, 8);
        if (word_needs_look(w))
            break;
    }
    while (i < n && json_plain[s[i]])
        i++;
    return i;
}

bool hp_json_str(struct hp_buf *b, const void *data, size_t n)
{
    const uint8_t *s = data;
    bool lossless = true;
    size_t i = plain_prefix(s, n), run = 0;   /* run: start of bytes that need no escaping */

    if (i == n && n + 2 > n && hp_buf_reserve(b, n + 2)) {
        /* The usual case, a plain string: one copy between its quotes. */
        uint8_t *o = b->data + b->len;
        o[0] = '"';
        if (n)
            memcpy(o + 1, s, n);
        o[n + 1] = '"';
        b->len += n + 2;
        return true;
    }
    hp_buf_putc(b, '"');
    while (i < n) {
        if (n - i >= 8) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!word_needs_look(w)) {
                i += 8;
                continue;
            }
        }
        uint8_t c = s[i];
        if (json_plain[c]) {
            i++;
            continue;
        }
        hp_buf_put(b, s + run, i - run);
        if (c < 0x80) {
            switch (c) {
            case '"':  hp_buf_put(b, "\\\"", 2); break;
            case '\\': hp_buf_put(b, "\\\\", 2); break;
            case '\n': hp_buf_put(b, "\\n", 2); break;
            case '\r': hp_buf_put(b, "\\r", 2); break;
            case '\t': hp_buf_put(b, "\\t", 2); break;
            default:   put_u_escape(b, c); break;   /* other controls, NUL, DEL */
            }
            i++;
        } else {
            size_t l = utf8_seq_len(s + i, n - i);
            unsigned e;
            if (l == 0) {
                put_u_escape(b, 0xFFFD);
                lossless = false;
                i++;
            } else if ((e = escaped_cp(s + i, l)) != 0) {
                put_u_escape(b, e);
                i += l;
            } else {
                hp_buf_put(b, s + i, l);
                i += l;
            }
        }
        run = i;
    }
    hp_buf_put(b, s + run, i - run);
    hp_buf_putc(b, '"');
    return lossless;
}

void hp_b64_put(struct hp_buf *b, const void *data, size_t n)
{
    /* EVP_EncodeBlock takes an int length; feed 48 KiB blocks (multiple of 3). */
    const uint8_t *s = data;
    while (n > 0) {
        size_t chunk = n > 49152 ? 49152 : n;
        size_t out = 4 * ((chunk + 2) / 3);
        if (!hp_buf_reserve(b, out))
            return;
        EVP_EncodeBlock(b->data + b->len, s, (int)chunk);
        b->len += out;
        s += chunk;
        n -= chunk;
    }
}

void hp_json_b64(struct hp_buf *b, const void *s, size_t n)
{
    hp_buf_putc(b, '"');
    hp_b64_put(b, s, n);
    hp_buf_putc(b, '"');
}
