/*
 * fuzz_sshproxy_sftp.c - libFuzzer harness for the SSH proxy's SFTP tap
 * (src/proto/sshproxy_sftp.c): both directions of a relayed sftp channel.
 *
 * Input: records of [direction byte (bit 0: 1 = server -> client)]
 * [length, 16-bit little endian][bytes], until the input ends (a short last
 * record takes what is left).  Each record is fed to the tap as one chunk,
 * so packets are split and joined at the fuzzer's will.  Checked: every
 * event the tap emits (session.file_upload) is valid, safe JSON; at most one
 * event per file the tap could have open (SFTPTAP_FILES at a time) plus one
 * per CLOSE; nothing leaks (ASan's leak check).
 *
 * HP_FUZZING: the payload store writes nothing.  Seeds:
 * fuzz/corpus/sshproxy_sftp/ (an sftp upload as OpenSSH 9's scp sends it,
 * pipelined writes, a refused open).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "output.h"
#include "proto/sshproxy_sftp.h"
#include "../tests/unit/json_check.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t nevents;

static void f_tap(struct hp_event *e, void *arg)
{
    (void)arg;
    CHECK(jc_valid(e->json, e->json_len));
    CHECK(jc_safe_text(e->json, e->json_len));
    CHECK(strstr(e->json, "\"eventid\":\"session.file_upload\"") != NULL);
    nevents++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    static struct hp_evctx ctx;
    if (!init) {
        init = true;
        memcpy(ctx.session, "0123456789ab", 13);
        ctx.protocol = "ssh";
        ctx.transport = "tcp";
        hp_output_set_tap(f_tap, NULL);
    }
    nevents = 0;
    struct hp_sftptap *t = hp_sftptap_new(&ctx, NULL);
    size_t off = 0, records = 0;
    while (off + 3 <= size) {
        bool server = data[off] & 1;
        size_t n = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
        off += 3;
        if (n > size - off)
            n = size - off;
        if (server)
            hp_sftptap_server(t, data + off, n);
        else
            hp_sftptap_client(t, data + off, n);
        off += n;
        records++;
    }
    hp_sftptap_free(t);
    /* a packet is at least 5 bytes, so at most size / 5 closes; plus the files left open (16) */
    CHECK(nevents <= size / 5 + 16);
    return 0;
}
