/*
 * fuzz_smb_common.h - shared driver of the SMB engine harnesses
 * (fuzz_smb1.c, fuzz_smb2.c).
 *
 * The input is a sequence of messages, each a 2-byte little-endian length
 * and that many bytes, fed in order to one struct hp_smb (as NBSS payloads).
 * Before them a canned prelude (negotiate, NTLM login, tree connect to
 * IPC$ and to a disk share, a pipe and a file opened) puts the engine in an
 * authenticated state, so the fuzzer reaches file, pipe and transaction
 * code without having to invent an NTLMSSP exchange.  Invariants: no
 * crash, no leak, replies stay within the output cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "event.h"
#include "proto/smb.h"

static const struct hp_evctx fz_ctx = { .session = "000000000001", .protocol = "smb", .service = "smb",
                                        .transport = "tcp" };

static void fz_p16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void fz_p32(uint8_t *p, uint32_t v) { fz_p16(p, (uint16_t)v); fz_p16(p + 2, (uint16_t)(v >> 16)); }

static size_t fz_ntlm(uint8_t *p, int type)
{
    memset(p, 0, 120);
    memcpy(p, "NTLMSSP", 8);
    fz_p32(p + 8, (uint32_t)type);
    if (type == 1) {
        fz_p32(p + 12, 0x00088207u);
        return 32;
    }
    size_t at = 64;
    static const size_t lens[6] = { 24, 24, 2, 2, 2, 0 };
    for (int i = 0; i < 6; i++) {
        fz_p16(p + 12 + 8 * i, (uint16_t)lens[i]);
        fz_p16(p + 14 + 8 * i, (uint16_t)lens[i]);
        fz_p32(p + 16 + 8 * i, (uint32_t)at);
        memset(p + at, 'a' + i, lens[i]);
        at += lens[i];
    }
    fz_p32(p + 60, 0x00008201u);
    return at;
}

static void fz_feed(struct hp_smb *s, const uint8_t *m, size_t n, struct hp_buf *out)
{
    hp_buf_reset(out);
    (void)hp_smb_input(s, m, n, out);
}

static int fz_run(const uint8_t *data, size_t size, void (*prelude)(struct hp_smb *, struct hp_buf *))
{
    struct hp_smb_opts o = { NULL, 64 * 1024 };
    struct hp_smb *s = hp_smb_new(&fz_ctx, &o);
    struct hp_buf out;
    hp_buf_init(&out, 4u * 1024 * 1024);
    if (size && (data[0] & 1)) {
        prelude(s, &out);
        data++;
        size--;
    }
    for (int k = 0; k < 256 && size >= 2; k++) {
        size_t n = (size_t)(data[0] | data[1] << 8);
        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        uint8_t *m = malloc(n ? n : 1);              /* exact size: ASan sees overreads */
        memcpy(m, data, n);
        hp_buf_reset(&out);
        int rc = hp_smb_input(s, m, n, &out);
        free(m);
        data += n;
        size -= n;
        if (out.len > 4u * 1024 * 1024)
            abort();
        if (rc != 0)
            break;
    }
    hp_buf_free(&out);
    hp_smb_free(s);
    return 0;
}
