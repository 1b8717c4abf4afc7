/*
 * fuzz_scp.c - libFuzzer harness for the SCP emulation (src/proto/sshfile.c):
 * the exec command-line recogniser and the sink / source state machines.
 *
 * Byte 0 is a control byte:
 *   bits 0-2  which command line (scp -t DIR / FILE / -r -p / -d / "-f", ...)
 *   bit 3     small max_file / max_total (truncation paths)
 *   bits 4-7  seed of the chunk sizes
 * Byte 1..k (up to the first NUL, at most 200 bytes) when the command index
 * is 7: a command line of the fuzzer's own, given to hp_scp_sink_new()
 * (which may refuse it).  The rest is what the client sends on the channel,
 * fed once whole and once in pseudo-random chunks (1 to 32 bytes), then EOF:
 * both runs must write the same bytes, emit the same events and exit with
 * the same status.  Checked on the way: the sink only ever writes "\0" acks
 * and "\1scp: ...\n" messages, nothing after the exit callback, the exit
 * callback once, every event valid, safe JSON.
 *
 * HP_FUZZING: the payload store writes nothing.  Seeds: fuzz/corpus/scp/
 * (what "scp -O", "scp -O -r -p" and "scp -O host:file ." send).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "event.h"
#include "proto/sshfile.h"
#include "../tests/unit/json_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct run {
    struct hp_buf out;
    int exits;
    int status;
    int events;
};

static void f_write(void *io, const void *p, size_t n)
{
    struct run *r = io;
    const uint8_t *b = p;
    CHECK(r->exits == 0);
    CHECK(n >= 1);
    if (n == 1) {
        CHECK(b[0] == 0);                              /* an ack */
    } else {
        CHECK(b[0] == 1 && memcmp(b + 1, "scp: ", 5) == 0 && b[n - 1] == '\n');
    }
    CHECK(hp_buf_put(&r->out, p, n));
}

static void f_exit(void *io, int status)
{
    struct run *r = io;
    r->exits++;
    CHECK(r->exits == 1);
    CHECK(status == 0 || status == 1);
    r->status = status;
}

static void f_event(struct hp_event *e, void *arg)
{
    struct run *r = arg;
    CHECK(jc_valid(e->json, e->json_len));
    CHECK(jc_safe_text(e->json, e->json_len));
    r->events++;
    hp_event_unref(e);
}

static const char *const cmds[7] = {
    "scp -t /tmp/", "scp -t /tmp/payload", "scp -r -p -t .", "scp -v -d -t -- /var/tmp",
    "scp -f /etc/passwd /root/x/", "scp -rt ~/", "scp -t a b",
};

/* Returns false when the command line is not an scp command. */
static bool run(struct run *r, uint8_t ctl, const char *cmd, const uint8_t *p, size_t n, bool chunked)
{
    struct hp_sshfile_params prm = {
        .data_dir = "/nonexistent-fuzz",
        .username = "root",
        .write = f_write,
        .exit = f_exit,
        .io = r,
        .event_hook = f_event,
        .event_arg = r,
        .now = 1700000000,
        .max_file = (ctl & 8) ? 100 : 0,
        .max_total = (ctl & 8) ? 250 : 0,
    };
    memset(r, 0, sizeof(*r));
    hp_buf_init(&r->out, 64u << 20);
    struct hp_sshfile *f = hp_scp_sink_new(&prm, cmd);
    if (!f)
        return false;
    hp_sshfile_start(f);
    if (!chunked) {
        hp_sshfile_input(f, p, n);
    } else {
        uint32_t x = 0x85ebca6bu ^ (uint32_t)(ctl >> 4) * 2654435761u;
        size_t off = 0;
        while (off < n) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            size_t k = 1 + x % 32;
            if (k > n - off)
                k = n - off;
            hp_sshfile_input(f, p + off, k);
            off += k;
        }
    }
    hp_sshfile_eof(f);
    CHECK(r->exits == 1);
    hp_sshfile_input(f, p, n);
    hp_sshfile_free(f);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    char own[201];
    const char *cmd;
    if ((ctl & 7) == 7) {
        size_t k = 0;
        while (k < n && k < 200 && p[k])
            k++;
        memcpy(own, p, k);
        own[k] = '\0';
        cmd = own;
        p += k < n ? k + 1 : k;
        n -= k < n ? k + 1 : k;
    } else {
        cmd = cmds[ctl & 7];
    }
    struct run a, b;
    bool ok = run(&a, ctl, cmd, p, n, false);
    bool ok2 = run(&b, ctl, cmd, p, n, true);
    CHECK(ok == ok2);
    if (ok) {
        CHECK(a.out.len == b.out.len);
        CHECK(a.out.len == 0 || memcmp(a.out.data, b.out.data, a.out.len) == 0);
        CHECK(a.events == b.events);
        CHECK(a.status == b.status);
    }
    hp_buf_free(&a.out);
    hp_buf_free(&b.out);
    return 0;
}
