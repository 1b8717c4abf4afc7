/*
 * term.c - terminal-safe rendering of hostile strings (see term.h).
 *
 * The input is walked one unit at a time: either one complete, valid UTF-8
 * sequence (copied, unless it encodes a dangerous code point) or one byte
 * (escaped).  A unit is written whole or not at all, so truncation never
 * leaves half a character or half an escape on the screen.
 */
#include <stdbool.h>
#include <stdint.h>
#include "term.h"

/* Length of the valid UTF-8 sequence at s (strict: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0; its code point in *cp. */
static size_t term_utf8_seq(const uint8_t *s, size_t n, uint32_t *cp)
{
    uint8_t c = s[0];
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;       /* allowed range of the second byte */
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        *cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        *cp = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;       /* overlong */
        if (c == 0xED) hi = 0x9F;       /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        *cp = c & 0x07;
        if (c == 0xF0) lo = 0x90;       /* overlong */
        if (c == 0xF4) hi = 0x8F;       /* above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    return len;
}

/* Valid code points a terminal or a reader could be fooled by. */
static bool term_cp_dangerous(uint32_t cp)
{
    return cp < 0x20 || cp == '\\' || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C ||
           (cp >= 0x200E && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

size_t hp_term_escape(const void *data, size_t n, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *s = data;
    size_t i = 0, j = 0;
    if (!outlen)
        return 0;
    while (i < n) {
        uint32_t cp = 0;
        size_t len = term_utf8_seq(s + i, n - i, &cp);
        if (len && !term_cp_dangerous(cp)) {
            if (j + len >= outlen)
                break;
            for (size_t k = 0; k < len; k++)
                out[j++] = (char)s[i + k];
            i += len;
            continue;
        }
        /* Escape the whole dangerous sequence, or the one invalid byte. */
        size_t nb = len ? len : 1;
        if (j + 4 * nb >= outlen)
            break;
        for (size_t k = 0; k < nb; k++) {
            uint8_t c = s[i + k];
            out[j++] = '\\';
            out[j++] = 'x';
            out[j++] = hex[c >> 4];
            out[j++] = hex[c & 15];
        }
        i += nb;
    }
    out[j] = '\0';
    return i;
}
