/*
 * fuzz_smb2.c - the SMB2 side of the SMB engine (src/proto/smb2.c, and the
 * srvsvc DCE/RPC and SPNEGO code it calls).  Input format and prelude:
 * fuzz_smb_common.h.  The prelude negotiates 2.0.2, logs in with NTLMSSP
 * and connects IPC$ (tree 1) and Users (tree 2); FileId 1 is srvsvc.
 */
#include "fuzz_smb_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t s2h(uint8_t *m, uint16_t cmd, uint32_t tid)
{
    memset(m, 0, 64);
    memcpy(m, "\xfeSMB", 4);
    fz_p16(m + 4, 64);
    fz_p16(m + 12, cmd);
    fz_p32(m + 36, tid);
    return 64;
}

static size_t s2tree(uint8_t *m, const char *path)
{
    size_t n = s2h(m, 3, 0);
    memset(m + n, 0, 8);
    fz_p16(m + n, 9);
    fz_p16(m + n + 4, 72);
    size_t k = 0;
    for (; path[k]; k++) {
        m[72 + 2 * k] = (uint8_t)path[k];
        m[73 + 2 * k] = 0;
    }
    fz_p16(m + n + 6, (uint16_t)(2 * k));
    return 72 + 2 * k;
}

static void prelude2(struct hp_smb *s, struct hp_buf *out)
{
    uint8_t m[512];
    size_t n = s2h(m, 0, 0);
    memset(m + n, 0, 38);
    fz_p16(m + n, 36);
    fz_p16(m + n + 2, 1);
    fz_p16(m + n + 36, 0x0202);
    fz_feed(s, m, n + 38, out);
    for (int t = 1; t <= 3; t += 2) {
        n = s2h(m, 1, 0);
        memset(m + n, 0, 24);
        fz_p16(m + n, 25);
        fz_p16(m + n + 12, 88);
        size_t tl = fz_ntlm(m + 88, t);
        fz_p16(m + n + 14, (uint16_t)tl);
        fz_feed(s, m, 88 + tl, out);
    }
    fz_feed(s, m, s2tree(m, "\\\\h\\IPC$"), out);
    fz_feed(s, m, s2tree(m, "\\\\h\\Users"), out);
    n = s2h(m, 5, 1);
    memset(m + n, 0, 56);
    fz_p16(m + n, 57);
    fz_p32(m + n + 36, 1);
    fz_p16(m + n + 44, 120);
    fz_p16(m + n + 46, 12);
    memcpy(m + 120, "s\0r\0v\0s\0v\0c\0", 12);
    fz_feed(s, m, 132, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_run(data, size, prelude2);
}
