/*
 * fuzz_smb1.c - the SMB1 side of the SMB engine (src/proto/smb1.c:
 * negotiate, session setup, trees, NT create / read / write, TRANS, TRANS2
 * with the DoublePulsar reassembly, NT_TRANS).  Input format and prelude:
 * fuzz_smb_common.h.  The prelude negotiates NT LM 0.12 with extended
 * security, logs in with NTLMSSP and connects IPC$ (TID 1) and Users (TID 2).
 */
#include "fuzz_smb_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t s1m(uint8_t *m, uint8_t cmd, uint16_t tid, const uint8_t *w, size_t wl, const uint8_t *d, size_t dl)
{
    memset(m, 0, 32);
    memcpy(m, "\xffSMB", 4);
    m[4] = cmd;
    fz_p16(m + 10, 0x4801);
    fz_p16(m + 24, tid);
    m[32] = (uint8_t)(wl / 2);
    if (wl)
        memcpy(m + 33, w, wl);
    fz_p16(m + 33 + wl, (uint16_t)dl);
    if (dl)
        memcpy(m + 35 + wl, d, dl);
    return 35 + wl + dl;
}

static void prelude1(struct hp_smb *s, struct hp_buf *out)
{
    uint8_t m[512], w[32], d[200];
    static const uint8_t dial[] = "\x02NT LM 0.12";
    fz_feed(s, m, s1m(m, 0x72, 0, NULL, 0, dial, sizeof(dial)), out);
    for (int t = 1; t <= 3; t += 2) {
        memset(w, 0, 24);
        w[0] = 0xff;
        size_t tl = fz_ntlm(d, t);
        fz_p16(w + 14, (uint16_t)tl);
        fz_feed(s, m, s1m(m, 0x73, 0, w, 24, d, tl), out);
    }
    memset(w, 0, 8);
    w[0] = 0xff;
    w[6] = 1;
    static const uint8_t ipc[] = "\0\\\\h\\IPC$\0?????", users[] = "\0\\\\h\\Users\0?????";
    fz_feed(s, m, s1m(m, 0x75, 0, w, 8, ipc, sizeof(ipc)), out);
    fz_feed(s, m, s1m(m, 0x75, 0, w, 8, users, sizeof(users)), out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(data, size, prelude1);
}
