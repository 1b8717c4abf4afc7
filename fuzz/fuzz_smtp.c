/*
 * fuzz_smtp.c - the SMTP module's parsing of peer bytes (src/proto/smtp_parse.c):
 * the input is cut into lines as the module does; each line is split into a
 * command, its argument parsed as a MAIL FROM and a RCPT TO path, base64-
 * decoded and split as AUTH PLAIN, and checked as a DATA line; the whole
 * input is searched for headers as a message.  Invariants: addresses are
 * NUL-terminated within their buffer without control bytes, decoded lengths
 * fit their buffer, AUTH PLAIN pieces lie inside the decoded bytes.  The
 * input offered again and again as it grows by data-driven chunks (as the
 * module gets it) is cut by smtp_line, which searches only the new bytes,
 * into exactly the lines hp_rd_line finds in it whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "reader.h"
#include "proto/smtp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_addr(const char *a)
{
    size_t n = strlen(a);
    if (n > SMTP_ADDR_MAX)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)a[i] < 0x20)
            abort();
}

static void check_trickled_lines(const uint8_t *data, size_t size)
{
    struct hp_rd whole;
    size_t seen = 0, base = 0, have = 0;
    hp_rd_init(&whole, data, size);
    while (have < size) {
        have += 1 + data[have] % 13;
        if (have > size)
            have = size;
        struct hp_rd r;
        const uint8_t *l, *w;
        size_t n, wn;
        hp_rd_init(&r, data + base, have - base);
        while (smtp_line(&r, SMTP_LINE_MAX, &seen, &l, &n))
            if (!hp_rd_line(&whole, SMTP_LINE_MAX, &w, &wn) || w != l || wn != n)
                abort();
        base += hp_rd_pos(&r);
        if (have - base >= SMTP_LINE_MAX) {       /* no line end within the limit: a piece is taken */
            seen = 0;
            base += SMTP_LINE_MAX;
            hp_rd_skip(&whole, SMTP_LINE_MAX);
        }
        if (hp_rd_pos(&whole) != base)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_trickled_lines(data, size);
    struct hp_rd r;
    hp_rd_init(&r, data, size);
    for (int i = 0; i < 256 && hp_rd_left(&r); i++) {
        const uint8_t *line;
        size_t len;
        if (!hp_rd_line(&r, SMTP_LINE_MAX, &line, &len)) {
            len = hp_rd_left(&r) < SMTP_LINE_MAX ? hp_rd_left(&r) : SMTP_LINE_MAX;
            line = hp_rd_bytes(&r, len);
        }
        struct smtp_cmd c;
        smtp_cmd_split(line, len, &c);
        if (c.arg && (c.arg < line || c.arg + c.arglen > line + len))
            abort();
        char addr[SMTP_ADDR_MAX + 1];
        const uint8_t *params;
        size_t plen;
        if (smtp_parse_path(c.arg, c.arglen, "FROM:", addr, sizeof(addr), &params, &plen) == 0) {
            check_addr(addr);
            if (params && (params < c.arg || params + plen > c.arg + c.arglen))
                abort();
            smtp_addr_domain(addr);
        }
        if (smtp_parse_path(c.arg, c.arglen, "TO:", addr, sizeof(addr), NULL, NULL) == 0)
            check_addr(addr);
        uint8_t dec[2048];
        long n = smtp_b64_decode(line, len, dec, sizeof(dec));
        if (n > (long)sizeof(dec))
            abort();
        if (n >= 0) {
            struct smtp_plain p;
            if (smtp_auth_plain(dec, (size_t)n, &p) &&
                (p.pass + p.passlen > dec + n || p.user + p.userlen > dec + n))
                abort();
            char enc[4096];
            smtp_b64_encode(dec, (size_t)n, enc, sizeof(enc));
        }
        const uint8_t *o;
        size_t on;
        if (!smtp_data_line(line, len, &o, &on) && (o < line || o + on > line + len))
            abort();
    }
    char out[256];
    smtp_header(data, size, "Subject", out, sizeof(out));
    if (strlen(out) >= sizeof(out))
        abort();
    return 0;
}
