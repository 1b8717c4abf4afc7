/*
 * fuzz_http_response.c - libFuzzer harness for the response writer
 * (hp_http_response in src/proto/http_parse.c), checked against a plain
 * re-statement of nginx's header order.
 *
 * Input: a status byte (one of a dozen codes), a flag byte (bit 0
 * keep-alive, bit 1 HEAD, bit 2 a Server header, bit 3 a 4-byte body), then
 * the rule's rendered header lines (the text up to the first NUL, as the
 * engine hands it over; rules render request text into them through
 * templates).  The writer reads those lines once and puts them in three
 * places; the harness scans the text three times, as the writer once did,
 * and the two answers must be the same bytes after the Date line:
 * Content-Type, Content-Length, Last-Modified, Location and Transfer-Encoding,
 * Connection, the rest in order, each line ended (a last line without its
 * newline gets "\r\n"), the blank line, then the body when one is sent.
 * A Transfer-Encoding line (a gzipped answer, its body already chunked)
 * replaces Content-Length, and a HEAD answer goes without either.
 * Seeds: fuzz/corpus/http_response/ (header blocks of the shipped rules,
 * more than 64 lines, a last line without newline).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "proto/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static int group_of(const char *line)
{
    if (strncasecmp(line, "Content-Type:", 13) == 0)
        return 0;
    if (strncasecmp(line, "Last-Modified:", 14) == 0 || strncasecmp(line, "Location:", 9) == 0 ||
        strncasecmp(line, "Transfer-Encoding:", 18) == 0)
        return 1;
    return 2;
}

static bool has_te(const char *extra)
{
    for (const char *s = extra; *s;) {
        if (strncasecmp(s, "Transfer-Encoding:", 18) == 0)
            return true;
        const char *nl = strchr(s, '\n');
        s = nl ? nl + 1 : s + strlen(s);
    }
    return false;
}

static void put_group(struct hp_buf *out, const char *extra, int group, bool skip_te)
{
    for (const char *s = extra; *s;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);
        if (group_of(s) == group && !(skip_te && strncasecmp(s, "Transfer-Encoding:", 18) == 0)) {
            hp_buf_put(out, s, n);
            if (!nl)
                hp_buf_puts(out, "\r\n");
        }
        s += n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int statuses[] = { 200, 204, 206, 301, 302, 304, 400, 401, 404, 405, 500, 101 };
    if (size < 2)
        return 0;
    int status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
    bool keep = data[1] & 1, head = data[1] & 2;
    const char *server = (data[1] & 4) ? "nginx/1.22.1" : NULL;
    const char *body = (data[1] & 8) ? "body" : "";
    size_t body_len = strlen(body);
    char *extra = malloc(size - 2 + 1);
    CHECK(extra);
    memcpy(extra, data + 2, size - 2);
    extra[size - 2] = '\0';

    struct hp_buf out, want;
    hp_buf_init(&out, 1 << 20);
    hp_buf_init(&want, 1 << 20);
    hp_http_response(&out, status, server, extra, body, body_len, keep, head);
    CHECK(hp_buf_ok(&out));
    const char *s = hp_buf_cstr(&out);
    CHECK(strncmp(s, "HTTP/1.1 ", 9) == 0);
    const char *date = strstr(s, "\r\nDate: ");
    CHECK(date);
    const char *after = strstr(date + 2, "\r\n");
    CHECK(after);
    after += 2;
    size_t head_len = (size_t)(after - s);

    bool bodyless = status < 200 || status == 204 || status == 304;
    bool chunked = has_te(extra), skip_te = chunked && head;
    put_group(&want, extra, 0, skip_te);
    if (!bodyless && !chunked)
        hp_buf_printf(&want, "Content-Length: %zu\r\n", body_len);
    put_group(&want, extra, 1, skip_te);
    if (status >= 200)
        hp_buf_puts(&want, keep ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    put_group(&want, extra, 2, skip_te);
    hp_buf_puts(&want, "\r\n");
    if (!bodyless && !head)
        hp_buf_put(&want, body, body_len);
    CHECK(hp_buf_ok(&want));
    CHECK(out.len - head_len == want.len);
    CHECK(memcmp(out.data + head_len, want.data, want.len) == 0);

    hp_buf_free(&out);
    hp_buf_free(&want);
    free(extra);
    return 0;
}
