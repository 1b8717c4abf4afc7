/*
 * fuzz_http_style.c - libFuzzer harness for the answers in other servers'
 * manner (src/proto/http_style.c): the refusals that read the refused
 * request (Python's request-line words, its version and repr(), the
 * others' status mapping) and the answers that split and reorder a rule's
 * header lines.
 *
 * Input: first byte picks the style and the refused status; the rest is the
 * refused request, and also (up to its first NUL) a rule's header block.
 * Checks: every answer is a status line, CRLF-separated header lines without
 * stray CR/LF, a blank line, then the body (Python's HTTP/0.9 answer: the
 * page alone); a repr() quotes no raw control byte into a status line.
 * Seeds: fuzz/corpus/http_style/ (the RTSP probe, bad versions, four-word
 * lines, quotes and control bytes, header blocks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "proto/http_parse.h"
#include "proto/http_style.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A head: "HTTP/1.x NNN reason\r\n", then "Name: value\r\n" lines, then "\r\n". */
static void check_head(const struct hp_buf *b)
{
    const char *s = (const char *)b->data;
    size_t n = b->len;
    if (n >= 15 && memcmp(s, "<!DOCTYPE HTML>", 15) == 0)
        return;                               /* Python's HTTP/0.9 answer: the page alone */
    if (n == 0)
        return;                               /* Python's silence before a request line */
    CHECK(n >= 17 && (memcmp(s, "HTTP/1.1 ", 9) == 0 || memcmp(s, "HTTP/1.0 ", 9) == 0));
    size_t i = 0;
    for (;;) {
        const char *eol = memchr(s + i, '\n', n - i);
        CHECK(eol != NULL);
        size_t e = (size_t)(eol - s);
        CHECK(e > i && s[e - 1] == '\r');
        for (size_t k = i; k < e - 1; k++)
            CHECK(s[k] != '\r' && s[k] != '\0');
        if (e - i == 1)
            return;                           /* the blank line: the head is whole */
        if (i > 0)
            CHECK(memchr(s + i, ':', e - i) != NULL);
        i = e + 1;
        CHECK(i < n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int statuses[] = { 400, 413, 414, HP_HTTP_HEADER_TOO_LARGE, 500, 501, 505 };
    if (size < 1)
        return 0;
    enum hp_http_style st = (enum hp_http_style)(data[0] % 6);
    int status = statuses[(data[0] >> 3) % (sizeof(statuses) / sizeof(statuses[0]))];
    const uint8_t *raw = data + 1;
    size_t n = size - 1;
    struct hp_buf out;
    hp_buf_init(&out, 1 << 20);
    hp_http_style_refusal(&out, st, status, raw, n, (data[0] & 0x80) ? "SimpleHTTP/0.6 Python/3.11.2" : NULL);
    check_head(&out);
    hp_buf_reset(&out);
    /* The same bytes as a rule's header block (rules hold no NUL, nor a
     * bare CR: the rule loader refuses them). */
    char *hdrs = malloc(n + 1);
    CHECK(hdrs != NULL);
    size_t k = 0;
    for (size_t i = 0; i < n && raw[i]; i++)
        if (raw[i] != '\r')
            hdrs[k++] = (char)raw[i];
    hdrs[k] = '\0';
    struct hp_bytes method = { raw, n < 16 ? n : 16 };
    int code = 100 + (int)((data[0] * 7u) % 500);
    hp_http_style_response(&out, st, code, data[0] & 1, method, hdrs, raw, n, (data[0] & 2) != 0,
                           (data[0] & 4) != 0);
    CHECK(out.len > 0);
    free(hdrs);
    hp_buf_free(&out);
    return 0;
}
