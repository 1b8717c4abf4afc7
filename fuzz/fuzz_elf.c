/*
 * fuzz_elf.c - libFuzzer harness for the pure parsers of payload
 * classification: hp_elf_parse (src/capture/elf.c) and the shebang and
 * shell-text heuristics (src/capture/classify.c).  libmagic and YARA are
 * not initialised, so only our own code runs.
 *
 * Checked on every input: an ELF result is consistent with the raw bytes
 * (magic, class, data, header length, e_machine in the file's byte order)
 * and names an architecture; a failed parse leaves the struct empty; the
 * shebang output is NUL-terminated within its buffer, uses only
 * [A-Za-z0-9._+-], is non-empty exactly when the call returns true, and
 * true implies the input starts with "#!".  The output size for the
 * shebang parser comes from the first input byte (0..63) so truncation is
 * exercised too.  The input is the fuzzer's own allocation: any over-read
 * is an ASan report.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "capture/classify.h"
#include "capture/elf.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_elf(const uint8_t *data, size_t size)
{
    struct hp_elf_info info;
    bool ok = hp_elf_parse(data, size, &info);

    CHECK(ok == info.is_elf);
    CHECK(info.arch != NULL);
    if (!ok) {
        CHECK(info.bits == 0 && info.machine == 0 && info.arch[0] == '\0');
        return;
    }
    CHECK(size >= 4 && memcmp(data, "\x7f" "ELF", 4) == 0);
    CHECK((info.bits == 32 && data[4] == 1 && size >= 52) ||
          (info.bits == 64 && data[4] == 2 && size >= 64));
    CHECK(info.big_endian == (data[5] == 2) && (data[5] == 1 || data[5] == 2));
    uint16_t m = info.big_endian ? (uint16_t)(data[18] << 8 | data[19])
                                 : (uint16_t)(data[19] << 8 | data[18]);
    CHECK(m == info.machine);
    CHECK(strlen(info.arch) > 0 && strlen(info.arch) < 16);
    CHECK(strcmp(info.arch, hp_elf_arch_name(info.machine, info.bits)) == 0);
}

static void check_shebang(const uint8_t *data, size_t size)
{
    char out[64];
    size_t outlen = size ? data[0] % sizeof(out) : 0;

    memset(out, 'Z', sizeof(out));
    if (size)
        data++, size--;
    bool ok = hp_classify_shebang(data, size, out, outlen);
    if (outlen == 0) {
        CHECK(!ok);
        CHECK(out[0] == 'Z');
        return;
    }
    size_t n = strnlen(out, outlen);
    CHECK(n < outlen);
    CHECK(ok == (n > 0));
    for (size_t i = 0; i < n; i++) {
        char c = out[i];
        CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '+' || c == '-');
    }
    if (ok)
        CHECK(size >= 2 && data[0] == '#' && data[1] == '!');
    for (size_t i = outlen; i < sizeof(out); i++)     /* nothing written past outlen */
        CHECK(out[i] == 'Z');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_elf(data, size);
    check_shebang(data, size);
    (void)hp_classify_looks_shell(data, size);
    return 0;
}
