/*
 * fuzz_reply.c - libFuzzer harness for reply templates (src/proto/reply.c).
 *
 * Input: byte 0 chooses the output size (0..255, or HP_REPLY_MAX when 255),
 * the rest is split at NUL bytes into a template (control bytes in it are
 * made printable: templates are ours) and up to three peer-controlled
 * arguments.  Checks: the line never exceeds the buffer, ends in exactly one
 * CRLF, and nothing an argument carries can end it early (no CR, LF or other
 * control byte before the final CRLF).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/reply.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 16384)
        return 0;
    size_t outlen = data[0] == 255 ? HP_REPLY_MAX : data[0];
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    char *parts[4] = { text, NULL, NULL, NULL };
    size_t k = 1;
    for (size_t i = 0; i + 1 < size && k < 4; i++)
        if (text[i] == '\0')
            parts[k++] = text + i + 1;
    for (char *p = parts[0]; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '.';
    char *out = malloc(outlen ? outlen : 1);
    size_t n = hp_reply_line(out, outlen, parts[0], parts[1], parts[2], parts[3]);
    CHECK(n <= outlen);
    if (outlen >= 2) {
        CHECK(n >= 2 && out[n - 2] == '\r' && out[n - 1] == '\n');
        for (size_t i = 0; i + 2 < n; i++)
            CHECK((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
    } else {
        CHECK(n == 0);
    }
    free(out);
    free(text);
    return 0;
}
