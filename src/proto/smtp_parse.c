/*
 * smtp_parse.c - SMTP command parsing helpers.  See smtp_parse.h.
 */
#include <string.h>
#include <strings.h>
#include "reader.h"
#include "smtp_parse.h"

void smtp_cmd_split(const uint8_t *line, size_t len, struct smtp_cmd *out)
{
    struct hp_rd r;
    size_t n = 0;
    memset(out, 0, sizeof(*out));
    hp_rd_init(&r, line, len);
    while (hp_rd_left(&r) && hp_rd_peek_u8(&r, 0) == ' ')
        hp_rd_skip(&r, 1);
    while (hp_rd_left(&r)) {
        int ch = hp_rd_peek_u8(&r, 0);
        if (ch == ' ' || ch == '\t')
            break;
        hp_rd_skip(&r, 1);
        if (n + 1 < SMTP_VERB_MAX)
            out->verb[n++] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
        else
            out->verb_cut = true;
    }
    out->verb[n] = '\0';
    while (hp_rd_left(&r) && (hp_rd_peek_u8(&r, 0) == ' ' || hp_rd_peek_u8(&r, 0) == '\t'))
        hp_rd_skip(&r, 1);
    out->arglen = hp_rd_left(&r);
    out->arg = out->arglen ? hp_rd_ptr(&r) : NULL;
}

bool smtp_line(struct hp_rd *r, size_t max, size_t *seen, const uint8_t **line, size_t *len)
{
    size_t left = hp_rd_left(r), scan = left < max ? left : max;
    size_t from = *seen <= scan ? *seen : 0;
    struct hp_rd t = *r;
    const uint8_t *l;
    size_t n;
    hp_rd_skip(&t, from);
    if (!hp_rd_line(&t, scan - from, &l, &n)) {
        *seen = scan;
        return false;
    }
    *seen = 0;                      /* the line again from its start: its bytes once more, not the input's */
    return hp_rd_line(r, hp_rd_pos(&t) - hp_rd_pos(r), line, len);
}

static void skip_blanks(struct hp_rd *r)
{
    while (hp_rd_left(r) && (hp_rd_peek_u8(r, 0) == ' ' || hp_rd_peek_u8(r, 0) == '\t'))
        hp_rd_skip(r, 1);
}

int smtp_parse_path(const uint8_t *arg, size_t len, const char *kw, char *addr, size_t addrlen,
                    const uint8_t **params, size_t *paramslen)
{
    struct hp_rd r;
    size_t kl = strlen(kw), n = 0;
    hp_rd_init(&r, arg, len);
    if (addrlen == 0 || hp_rd_left(&r) < kl || strncasecmp((const char *)hp_rd_ptr(&r), kw, kl) != 0)
        return -1;
    hp_rd_skip(&r, kl);
    skip_blanks(&r);
    bool angle = hp_rd_left(&r) && hp_rd_peek_u8(&r, 0) == '<';
    if (angle)
        hp_rd_skip(&r, 1);
    /* a source route "@a,@b:" before the mailbox is obsolete and ignored */
    if (angle && hp_rd_left(&r) && hp_rd_peek_u8(&r, 0) == '@') {
        long colon = hp_rd_find(&r, ":", 1);
        long close = hp_rd_find(&r, ">", 1);
        if (colon > 0 && (close < 0 || colon < close))
            hp_rd_skip(&r, (size_t)colon + 1);
    }
    bool closed = false, quoted = false;
    while (hp_rd_left(&r)) {
        int ch = hp_rd_peek_u8(&r, 0);
        if (ch == '"')
            quoted = !quoted;
        if (!quoted && angle && ch == '>') {
            hp_rd_skip(&r, 1);
            closed = true;
            break;
        }
        if (!quoted && !angle && (ch == ' ' || ch == '\t'))
            break;
        if (!quoted && (ch == ' ' || ch == '\t'))
            return -1;                      /* "<a b@c>": a blank only in a quoted local part */
        if (ch < 0x20 || ch == 0x7f || (!quoted && ch == '<'))
            return -1;
        if (n + 1 >= addrlen || n >= SMTP_ADDR_MAX)
            return -1;
        addr[n++] = (char)ch;
        hp_rd_skip(&r, 1);
    }
    addr[n] = '\0';
    if ((angle && !closed) || (!angle && n == 0) || quoted || (n && addr[n - 1] == '@'))
        return -1;                          /* "<a@>", "<@>": a domain must follow the @ */
    skip_blanks(&r);
    if (params) {
        *params = hp_rd_left(&r) ? hp_rd_ptr(&r) : NULL;
        *paramslen = hp_rd_left(&r);
    }
    return 0;
}

const char *smtp_addr_domain(const char *addr)
{
    const char *at = strrchr(addr, '@');
    return at && at[1] ? at + 1 : NULL;
}

bool smtp_domain_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la && a[la - 1] == '.')
        la--;
    if (lb && b[lb - 1] == '.')
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

static int b64_val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

long smtp_b64_decode(const uint8_t *in, size_t n, uint8_t *out, size_t outlen)
{
    struct hp_rd r;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    bool pad = false;
    hp_rd_init(&r, in, n);
    if (n == 1 && in[0] == '=')
        return 0;
    while (hp_rd_left(&r)) {
        int c = hp_rd_u8(&r);
        if (c == '=') {
            pad = true;
            continue;
        }
        int v = b64_val(c);
        if (v < 0 || pad)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= outlen)
                return -1;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return (long)o;
}

bool smtp_b64_encode(const void *data, size_t n, char *out, size_t outlen)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const uint8_t *p = data;
    size_t need = (n + 2) / 3 * 4 + 1, o = 0;
    if (outlen < need)
        return false;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
    return true;
}

bool smtp_auth_plain(const uint8_t *dec, size_t n, struct smtp_plain *out)
{
    const uint8_t *z1 = memchr(dec, 0, n);
    if (!z1)
        return false;
    size_t rest = n - (size_t)(z1 - dec) - 1;
    const uint8_t *z2 = memchr(z1 + 1, 0, rest);
    if (!z2 || memchr(z2 + 1, 0, n - (size_t)(z2 - dec) - 1))
        return false;
    out->authzid = dec;
    out->authzidlen = (size_t)(z1 - dec);
    out->user = z1 + 1;
    out->userlen = (size_t)(z2 - z1 - 1);
    out->pass = z2 + 1;
    out->passlen = n - (size_t)(z2 - dec) - 1;
    return true;
}

bool smtp_data_line(const uint8_t *line, size_t len, const uint8_t **out, size_t *outlen)
{
    if (len == 1 && line[0] == '.')
        return true;
    if (len >= 1 && line[0] == '.') {
        *out = line + 1;
        *outlen = len - 1;
    } else {
        *out = line;
        *outlen = len;
    }
    return false;
}

bool smtp_header(const uint8_t *msg, size_t n, const char *name, char *out, size_t outlen)
{
    struct hp_rd r;
    size_t nl = strlen(name), o = 0;
    bool in = false, found = false;
    if (outlen == 0)
        return false;
    hp_rd_init(&r, msg, n);
    for (unsigned lines = 0; lines < 10000 && hp_rd_left(&r); lines++) {
        const uint8_t *line;
        size_t len;
        if (!hp_rd_line(&r, hp_rd_left(&r), &line, &len)) {
            line = hp_rd_ptr(&r);          /* last line without a newline */
            len = hp_rd_left(&r);
            hp_rd_skip(&r, len);
        }
        if (len == 0)
            break;                          /* end of the header section */
        bool cont = line[0] == ' ' || line[0] == '\t';
        if (in && cont) {
            for (size_t i = 0; i < len && o + 1 < outlen; i++)
                out[o++] = line[i] == '\t' ? ' ' : (char)line[i];
            continue;
        }
        if (in)
            break;
        if (!found && !cont && len > nl && line[nl] == ':' && strncasecmp((const char *)line, name, nl) == 0) {
            size_t i = nl + 1;
            while (i < len && (line[i] == ' ' || line[i] == '\t'))
                i++;
            for (; i < len && o + 1 < outlen; i++)
                out[o++] = (char)line[i];
            in = found = true;
        }
    }
    out[o] = '\0';
    return found;
}
