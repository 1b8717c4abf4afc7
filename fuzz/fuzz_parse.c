/*
 * fuzz_parse.c - libFuzzer harness for the shell grammar (src/shell/parse.c).
 *
 * Input: byte 0 picks bash/ash and final/line mode; the rest is shell text
 * parsed command by command to its end, as the interpreter does.  Checks:
 * no crash, every parse advances or stops, the arena is released, and the
 * pattern matcher terminates on the same bytes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "shell/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct sh_parse_opts o = { .bash = data[0] & 1, .final = (data[0] & 2) != 0 };
    const char *text = (const char *)data + 1;
    size_t len = size - 1, pos = 0;
    for (int guard = 0; pos < len && guard < 100000; guard++) {
        struct sh_parse p;
        enum sh_parse_status s = sh_parse(text, len, pos, &o, &p);
        if (s != SH_PARSE_OK) {
            if (p.arena)
                abort();
            break;
        }
        sh_arena_unref(p.arena);
        if (p.end <= pos)
            abort();
        pos = p.end;
        sh_parse_advance(&o, text, pos);
    }
    size_t half = len / 2;
    sh_pattern_match(text, half, text + half, len - half, (data[0] & 4) != 0);
    return 0;
}
