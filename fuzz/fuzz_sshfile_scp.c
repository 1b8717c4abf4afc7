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
#include "fuzz_sshfile_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

static const char *const cmds[7] = {
    "scp -t /tmp/", "scp -t /tmp/payload", "scp -r -p -t .", "scp -v -d -t -- /var/tmp",
    "scp -f /etc/passwd /root/x/", "scp -rt ~/", "scp -t a b",
};

/* Returns false when the command line is not an scp command. */
static bool run(struct run *r, uint8_t ctl, const char *cmd, const uint8_t *p, size_t n, bool chunked)
{
    struct hp_sshfile_params prm = run_begin(r, f_write, f_exit);
    prm.max_file = (ctl & 8) ? 100 : 0;
    prm.max_total = (ctl & 8) ? 250 : 0;
    struct hp_sshfile *f = hp_scp_sink_new(&prm, cmd);
    if (!f)
        return false;
    hp_sshfile_start(f);
    feed(f, p, n, chunked, 0x85ebca6bu ^ (uint32_t)(ctl >> 4) * 2654435761u, 32);
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
    if (ok)
        check_same(&a, &b);
    hp_buf_free(&a.out);
    hp_buf_free(&b.out);
    return 0;
}
