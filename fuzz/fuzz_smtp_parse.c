/*
 * fuzz_smtp_parse.c - every function of src/proto/smtp_parse.c, called
 * directly on the input (fuzz_smtp.c drives the same parsers line by line
 * the way the module does; this harness checks what each one promises).
 *
 * Byte 0 picks a small output size (so the "does not fit" paths run too);
 * the rest is one command line / base64 text / message, fed to:
 *   smtp_cmd_split    the verb is NUL-terminated, upper-case, without blanks,
 *                     and equals the line's first word when not cut; the
 *                     argument is a suffix of the line
 *   smtp_parse_path   FROM:/TO: with a full and a tiny address buffer: the
 *                     address fits, has no control byte, parameters lie in
 *                     the argument; a small buffer never accepts what a big
 *                     one refused
 *   smtp_b64_decode   the length fits the buffer; round trips both ways with
 *                     smtp_b64_encode: decode(encode(x)) == x for the input,
 *                     and re-encoding decoded canonical text gives the text
 *   smtp_auth_plain   the three pieces lie in the input and, with the two
 *                     NULs, cover it exactly
 *   smtp_data_line    the dot-unstuffed line is the line minus one leading dot
 *   smtp_header       the value is NUL-terminated within the buffer, also
 *                     for a 1-byte buffer
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/smtp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_cmd(const uint8_t *line, size_t len)
{
    struct smtp_cmd c;
    smtp_cmd_split(line, len, &c);
    size_t vl = strnlen(c.verb, sizeof(c.verb));
    CHECK(vl < sizeof(c.verb));
    size_t i = 0;
    while (i < len && line[i] == ' ')
        i++;
    for (size_t k = 0; k < vl; k++) {
        CHECK(c.verb[k] != ' ' && c.verb[k] != '\t' && !(c.verb[k] >= 'a' && c.verb[k] <= 'z'));
        uint8_t ch = line[i + k];
        CHECK((uint8_t)c.verb[k] == (ch >= 'a' && ch <= 'z' ? ch - 32 : ch));
    }
    size_t w = 0;                  /* the first word: up to a blank */
    while (i + w < len && line[i + w] != ' ' && line[i + w] != '\t')
        w++;
    CHECK(c.verb_cut == (w >= SMTP_VERB_MAX));
    for (size_t k = 0; k < w && k + 1 < SMTP_VERB_MAX; k++) {
        uint8_t ch = line[i + k];
        CHECK((uint8_t)c.verb[k] == (ch >= 'a' && ch <= 'z' ? ch - 32 : ch));
    }
    if (c.arg)
        CHECK(c.arglen > 0 && c.arg >= line && c.arg + c.arglen == line + len);
    else
        CHECK(c.arglen == 0);
}

static void check_addr(const char *a, size_t cap)
{
    size_t n = strnlen(a, cap);
    CHECK(n < cap && n <= SMTP_ADDR_MAX);
    for (size_t i = 0; i < n; i++)
        CHECK((unsigned char)a[i] >= 0x20 && a[i] != 0x7f);
}

static void check_path(const uint8_t *arg, size_t len, const char *kw, size_t small)
{
    char big[SMTP_ADDR_MAX + 1], tiny[SMTP_ADDR_MAX + 1];
    const uint8_t *params = NULL;
    size_t plen = 0;
    int rb = smtp_parse_path(arg, len, kw, big, sizeof(big), &params, &plen);
    if (rb == 0) {
        check_addr(big, sizeof(big));
        if (params)
            CHECK(plen > 0 && params >= arg && params + plen == arg + len);
        smtp_addr_domain(big);
        CHECK(smtp_domain_eq(big, big));
    } else {
        CHECK(rb == -1);
    }
    int rs = smtp_parse_path(arg, len, kw, tiny, small, NULL, NULL);
    if (rs == 0) {
        CHECK(rb == 0);
        check_addr(tiny, small);
        CHECK(strcmp(tiny, big) == 0);
    }
}

static void check_b64(const uint8_t *in, size_t n, size_t small)
{
    static uint8_t dec[8192], dec2[8192];
    static char enc[12000];
    long k = smtp_b64_decode(in, n, dec, sizeof(dec));
    CHECK(k >= -1 && k <= (long)sizeof(dec));
    if (k >= 0) {
        /* decoded text re-encodes to itself when it was canonical padded base64 */
        CHECK(smtp_b64_encode(dec, (size_t)k, enc, sizeof(enc)));
        size_t el = strlen(enc);
        CHECK(el == ((size_t)k + 2) / 3 * 4);
        CHECK(smtp_b64_decode((const uint8_t *)enc, el, dec2, sizeof(dec2)) == k);
        CHECK(memcmp(dec, dec2, (size_t)k) == 0);
        if (n % 4 == 0 && n > 1 && el == n)
            CHECK(memcmp(enc, in, n) == 0 || memchr(in, '=', n));
        long s = smtp_b64_decode(in, n, dec2, small);    /* too small: refused, else the same */
        CHECK(s == ((size_t)k <= small ? k : -1));
        CHECK(s < 0 || memcmp(dec, dec2, (size_t)s) == 0);
    }
    /* the other way: any bytes survive encode + decode */
    size_t m = n < 6000 ? n : 6000;
    CHECK(smtp_b64_encode(in, m, enc, sizeof(enc)));
    CHECK(strlen(enc) == (m + 2) / 3 * 4);
    CHECK(smtp_b64_decode((const uint8_t *)enc, strlen(enc), dec, sizeof(dec)) == (long)m);
    CHECK(memcmp(dec, in, m) == 0);
    /* and a buffer one byte short is refused, never overrun */
    CHECK(!smtp_b64_encode(in, m, enc, (m + 2) / 3 * 4));
}

static void check_plain(const uint8_t *in, size_t n)
{
    struct smtp_plain p;
    size_t nuls = 0;
    for (size_t i = 0; i < n; i++)
        nuls += in[i] == 0;
    bool ok = smtp_auth_plain(in, n, &p);
    CHECK(ok == (nuls == 2));
    if (ok) {
        CHECK(p.authzid == in && p.user == in + p.authzidlen + 1 && p.pass == p.user + p.userlen + 1);
        CHECK(p.authzidlen + p.userlen + p.passlen + 2 == n);
        CHECK(!memchr(p.user, 0, p.userlen) && !memchr(p.pass, 0, p.passlen));
    }
}

static void check_data_line(const uint8_t *line, size_t len)
{
    const uint8_t *o = NULL;
    size_t on = 0;
    if (smtp_data_line(line, len, &o, &on)) {
        CHECK(len == 1 && line[0] == '.');
        return;
    }
    if (len && line[0] == '.')
        CHECK(o == line + 1 && on == len - 1);
    else
        CHECK(o == line && on == len);
}

static void check_header(const uint8_t *msg, size_t n, size_t small)
{
    static const char *const names[] = { "Subject", "From", "X-Mailer", "Message-ID" };
    char out[512];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        memset(out, 'x', sizeof(out));
        bool found = smtp_header(msg, n, names[i], out, small);
        CHECK(strnlen(out, small) < small);
        if (!found)
            CHECK(out[0] == '\0');
    }
    CHECK(!smtp_header(msg, n, "Subject", out, 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t small = 1 + data[0] % 64;          /* 1..64 */
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    check_cmd(p, n);
    struct smtp_cmd c;
    smtp_cmd_split(p, n, &c);
    check_path(c.arg, c.arglen, "FROM:", small);
    check_path(c.arg, c.arglen, "TO:", small);
    check_path(p, n, "FROM:", small);
    check_b64(p, n, small);
    check_plain(p, n);
    check_data_line(p, n);
    check_header(p, n, small);
    return 0;
}
