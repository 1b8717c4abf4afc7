/*
 * fuzz_interp.c - libFuzzer harness for the shell interpreter
 * (src/shell/interp.c, parse.c, the emulated programs, the vfs).
 *
 * Input: byte 0 picks the personality (debian/busybox), the mode and the
 * user; the rest is split into lines fed one by one through
 * hp_interp_line, as the shell does.  The line bounds (commands, steps,
 * output, nesting) must keep every input fast and memory bounded; output
 * and events go to a null sink that only checks their arguments.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "shell/interp.h"
#include "shell/persona.h"
#include "shell/vfs.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static size_t total;

static void w(void *arg, const void *d, size_t n)
{
    (void)arg;
    CHECK(d != NULL && n > 0);
    total += n;
}

static void failed(void *arg, const void *cmd, size_t n)
{
    (void)arg, (void)cmd, (void)n;
}

static void command(void *arg, int argc, char *const *argv)
{
    (void)arg;
    CHECK(argc > 0 && argv[argc] == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 16384)
        return 0;
    static const enum hp_interp_mode modes[] = { HP_INTERP_INTERACTIVE, HP_INTERP_SCRIPT, HP_INTERP_EXEC,
                                                 HP_INTERP_INTERACTIVE };
    struct hp_interp_sys sys = { .user = data[0] & 4 ? "pi" : "root", .host = "fz", .kernel_release = "r",
                                 .kernel_version = "v", .machine = "x86_64",
                                 .persona = hp_persona_get(data[0] & 1 && !getenv("FUZZ_DEBIAN_ONLY")
                                                           ? "busybox" : "debian") };
    struct hp_interp_io io = { .write = w, .failed = failed, .command = command };
    struct hp_interp *it = hp_interp_new(&sys, &io);
    enum hp_interp_mode mode = modes[(data[0] >> 1) & 3];
    const uint8_t *p = data + 1, *end = data + size;
    unsigned line = 1;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (!hp_interp_line(it, mode, line++, p, n))
            break;
        p = nl ? nl + 1 : end;
    }
    hp_interp_free(it);
    sh_vfs_reset();
    return 0;
}
