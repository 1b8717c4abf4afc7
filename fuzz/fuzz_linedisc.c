/*
 * fuzz_linedisc.c - libFuzzer harness for the shell's input side
 * (src/shell/linedisc.c, shell.c, interp.c).
 *
 * Input: byte 0 picks the mode (bits 0-1: interactive xterm, interactive
 * dumb, script on stdin, exec) and whether the user is root (bit 2); byte 1
 * is the chunk size (1-256) in which the rest is fed to hp_shell_input, so
 * escape sequences, UTF-8 characters and CR LF pairs get split; exec mode
 * passes the rest as one command string.  Then EOF, then free.  The
 * terminal is a null device that only checks: nothing is written after the
 * exit callback, which runs at most once and with a status 0-255.  Every
 * event must be valid, safe JSON (json_check.h).  Memory is bounded by the
 * shell's own caps: libFuzzer's -rss_limit_mb and LeakSanitizer watch it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "shell/shell.h"
#include "event.h"
#include "../tests/unit/json_check.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct nullterm {
    int exits;
    int status;
    size_t bytes;
};

static void t_write(void *io, const void *data, size_t len)
{
    struct nullterm *t = io;
    CHECK(t->exits == 0);
    CHECK(len > 0 && data != NULL);
    t->bytes += len;
}

static void t_exit(void *io, int status)
{
    struct nullterm *t = io;
    t->exits++;
    t->status = status;
}

static void on_event(struct hp_event *e, void *arg)
{
    (void)arg;
    CHECK(jc_valid(e->json, e->json_len));
    CHECK(jc_safe_text(e->json, e->json_len));
    hp_event_unref(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct hp_evctx ctx = { .session = "0123456789ab", .protocol = "ssh",
                                         .src_ip = "203.0.113.1", .dst_ip = "198.51.100.2" };
    if (size < 2 || size > 64 * 1024)
        return 0;
    hp_shell_set_event_hook(on_event, NULL);
    unsigned mode = data[0] & 3;
    size_t chunk = (size_t)data[1] + 1;
    data += 2;
    size -= 2;

    struct nullterm t = { 0 };
    struct hp_shell_params p = {
        .ctx = &ctx, .username = (data[-2] & 4) ? "admin" : "root", .hostname = "fuzz.example",
        .interactive = mode < 2, .width = 80, .height = 24,
        .term = { t_write, t_exit, &t }, .term_type = mode == 1 ? "dumb" : "xterm",
        .last_login_from = "192.0.2.1",
    };
    struct hp_shell *sh = hp_shell_new(&p);
    CHECK(sh != NULL);
    hp_shell_start(sh);
    if (mode == 3) {
        hp_shell_exec(sh, (const char *)data, size);
        CHECK(t.exits == 1);
    } else {
        for (size_t off = 0; off < size; off += chunk)
            hp_shell_input(sh, data + off, size - off < chunk ? size - off : chunk);
        hp_shell_resize(sh, 132, 43);
        hp_shell_eof(sh);
        CHECK(t.exits == 1);
    }
    CHECK(t.status >= 0 && t.status <= 255);
    hp_shell_eof(sh);                        /* after the end: no-ops */
    hp_shell_input(sh, (const uint8_t *)"x\r", 2);
    CHECK(t.exits == 1);
    hp_shell_free(sh);
    return 0;
}
