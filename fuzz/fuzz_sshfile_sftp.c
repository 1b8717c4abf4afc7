/*
 * fuzz_sftp.c - libFuzzer harness for the SFTP v3 server (src/proto/sshfile.c).
 *
 * Byte 0 is a control byte:
 *   bit 0     prepend an SSH_FXP_INIT packet (so most inputs get past INIT)
 *   bit 1     caps: 1 MiB / 4 MiB, or 4096 / 10000 bytes (truncation paths)
 *   bit 2     log in as "admin" (home /home/admin) instead of root
 *   bits 3-7  seed of the chunk sizes
 * The rest is what the client sends on the channel.  It is fed once whole
 * and once in pseudo-random chunks (1 to 64 bytes), then EOF; both runs must
 * write exactly the same bytes, emit the same number of events and end with
 * the same exit status: the server's behaviour must not depend on how TCP
 * cut the stream.  Checked on the way: every write is exactly one
 * well-formed reply packet (length field = bytes - 4, at most 256 KiB, a
 * reply type), nothing is written after the exit callback, which is called
 * at most once, and every event is valid, safe JSON.
 *
 * Built with HP_FUZZING the payload store hashes but writes nothing, so the
 * harness needs no directory.  Seeds: fuzz/corpus/sftp/ (sessions of
 * OpenSSH's sftp and scp clients: init, realpath, limits, stat, open, write,
 * close, opendir/readdir, and a few hostile packets).
 */
#include "fuzz_sshfile_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void f_write(void *io, const void *p, size_t n)
{
    struct run *r = io;
    const uint8_t *b = p;
    CHECK(r->exits == 0);
    CHECK(n >= 5 && n <= 4 + 256 * 1024);
    uint32_t len = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
    CHECK(len == n - 4);
    uint8_t t = b[4];
    CHECK(t == 2 || (t >= 101 && t <= 105) || t == 201);
    CHECK(hp_buf_put(&r->out, p, n));
}

static void f_exit(void *io, int status)
{
    struct run *r = io;
    r->exits++;
    CHECK(r->exits == 1);
    r->status = status;
}

static void run(struct run *r, uint8_t ctl, const uint8_t *p, size_t n, bool chunked)
{
    static const uint8_t init[] = { 0, 0, 0, 5, 1, 0, 0, 0, 3 };
    struct hp_sshfile_params prm = run_begin(r, f_write, f_exit);
    prm.username = (ctl & 4) ? "admin" : "root";
    prm.max_file = (ctl & 2) ? 4096 : 1u << 20;         /* not the 8 MiB default: exec speed */
    prm.max_total = (ctl & 2) ? 10000 : 4u << 20;
    struct hp_sshfile *f = hp_sftp_new(&prm);
    CHECK(f);
    hp_sshfile_start(f);
    if (ctl & 1)
        hp_sshfile_input(f, init, sizeof(init));
    feed(f, p, n, chunked, 0x9e3779b9u ^ (uint32_t)(ctl >> 3) * 2654435761u, 64);
    hp_sshfile_eof(f);
    CHECK(r->exits == 1);
    CHECK(hp_sshfile_done(f));
    hp_sshfile_input(f, p, n);                         /* ignored after the exit */
    hp_sshfile_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    struct run a, b;
    run(&a, ctl, data + 1, size - 1, false);
    run(&b, ctl, data + 1, size - 1, true);
    check_same(&a, &b);
    hp_buf_free(&a.out);
    hp_buf_free(&b.out);
    return 0;
}
