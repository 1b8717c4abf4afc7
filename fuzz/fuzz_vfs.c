/*
 * fuzz_vfs.c - libFuzzer harness for the fake file system (src/shell/vfs.c)
 * and the personalities' generated files (src/shell/persona.c).
 *
 * The input is a program of vfs operations on attacker-chosen paths and
 * bytes.  Byte 0 picks the personality (bit 0) and the user (bit 1: uid
 * 1000).  Then each operation is: an opcode byte, then its operands; a path
 * is a length byte followed by that many bytes, where a first byte below 16
 * instead picks one of the interesting paths below and the rest is appended
 * (so the fuzzer reaches /proc, /dev, symlinks and deep trees quickly, yet
 * every byte value reaches the lookup code).  Two sessions share one source
 * so sharing, whiteouts and capture interleave; small quotas make -ENOSPC
 * and LRU eviction reachable.  Checks: return values are 0/counts or a
 * negative errno, reads append at most what was asked (or the device cap),
 * every captured file is non-empty and its path absolute, held bytes stay
 * under the total quota, and everything is freed (LeakSanitizer).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "shell/persona.h"
#include "shell/vfs.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define TOTAL_MAX (256u << 10)

static const char *const bases[16] = {
    "/", "/tmp/", "/proc/", "/proc/self/", "/dev/", "/etc/", "/bin/", "/usr/bin/",
    "/var/run/", "/root/", "/tmp/a/b/", "/sys/class/net/", "/home/", "..", "/tmp/l", "",
};

struct in {
    const uint8_t *p;
    size_t n;
};

static unsigned byte(struct in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

/* A path operand into out (NUL-terminated; NUL bytes inside end it early, as a C string would). */
static void path(struct in *in, char *out, size_t outlen)
{
    size_t l = byte(in), o = 0;
    if (l > in->n)
        l = in->n;
    if (l && in->p[0] < 16) {
        const char *b = bases[in->p[0]];
        o = strlen(b);
        memcpy(out, b, o);
        in->p++, in->n--, l--;
    }
    for (size_t i = 0; i < l && o + 1 < outlen; i++)
        out[o++] = (char)in->p[i];
    out[o] = '\0';
    in->p += l;
    in->n -= l;
}

static unsigned captures;

static void on_capture(void *arg, const char *p, const uint8_t *data, size_t len)
{
    (void)arg;
    CHECK(p && p[0] == '/');
    CHECK(data && len > 0 && len <= SH_VFS_FILE_MAX);
    captures++;
}

static int on_entry(void *arg, const char *name, const struct sh_stat *st)
{
    unsigned *n = arg;
    CHECK(name && name[0] && !strchr(name, '/'));
    CHECK(st->type <= SH_FT_SOCK);
    return ++*n > 5000;
}

static bool is_err(long r)
{
    return r == 0 || (r < 0 && r > -4096);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        sh_vfs_configure(3600, 64u << 10, TOTAL_MAX);
        init = true;
    }
    struct in in = { data, size };
    unsigned mode = byte(&in);
    const struct hp_persona *per = hp_persona_get(mode & 1 ? "busybox" : "debian");
    unsigned uid = mode & 2 ? 1000 : 0;
    struct sh_vfs_params prm = { .persona = per, .source = "192.0.2.77", .uid = uid, .gid = uid,
                                 .user = uid ? "u" : "root", .home = uid ? "/home/u" : "/root",
                                 .capture = on_capture };
    sh_vfs_test_clock(1800000000);
    struct sh_vfs *vs[2] = { sh_vfs_open(&prm), sh_vfs_open(&prm) };
    CHECK(vs[0] && vs[1]);
    char a[4200], b[4200];
    struct hp_buf buf;
    hp_buf_init(&buf, 4u << 20);
    for (unsigned steps = 0; in.n && steps < 200; steps++) {
        unsigned op = byte(&in);
        struct sh_vfs *v = vs[op >> 7];
        struct sh_stat st;
        long r = 0;
        path(&in, a, sizeof(a));
        switch (op & 0x1f) {
        case 0: r = sh_vfs_stat(v, a, true, &st); break;
        case 1: r = sh_vfs_stat(v, a, false, &st); break;
        case 2: {
            size_t max = byte(&in) * 64, before = buf.len;
            r = sh_vfs_read(v, a, byte(&in), max, &buf);
            CHECK(r < 0 || (size_t)r == buf.len - before);
            CHECK(r < 0 || (max ? (size_t)r <= max : (size_t)r <= (8u << 20)));
            hp_buf_reset(&buf);
            if (r > 0)
                r = 0;
            break;
        }
        case 3: case 4: {
            size_t l = byte(&in) * (op & 0x20 ? 257 : 1);
            unsigned flags = byte(&in) & 0xf;
            static uint8_t junk[256 * 257];
            size_t take = l < in.n ? l : in.n;
            memcpy(junk, in.p, take);
            memset(junk + take, 'A', l - take);
            in.p += take, in.n -= take;
            r = sh_vfs_write(v, a, junk, l, (int)flags, 0644);
            CHECK(r == (long)l || (r < 0 && r > -4096));
            r = r < 0 ? r : 0;
            break;
        }
        case 5: r = sh_vfs_mkdir(v, a, 0755); break;
        case 6: r = sh_vfs_rmdir(v, a); break;
        case 7: r = sh_vfs_unlink(v, a); break;
        case 8: path(&in, b, sizeof(b)); r = sh_vfs_rename(v, a, b); break;
        case 9: path(&in, b, sizeof(b)); r = sh_vfs_symlink(v, b, a); break;
        case 10: path(&in, b, sizeof(b)); r = sh_vfs_link(v, a, b); break;
        case 11: {
            char out[64];
            r = sh_vfs_readlink(v, a, out, sizeof(out));
            CHECK(r < 0 || (r < 64 && strlen(out) == (size_t)r));
            r = r < 0 ? r : 0;
            break;
        }
        case 12: r = sh_vfs_chmod(v, a, byte(&in) * 17u); break;
        case 13: r = sh_vfs_chown(v, a, byte(&in), byte(&in)); break;
        case 14: r = sh_vfs_utime(v, a, (int64_t)byte(&in) << 20); break;
        case 15: {
            unsigned n = 0;
            r = sh_vfs_list(v, a, on_entry, &n);
            r = r < 0 ? r : 0;
            break;
        }
        case 16: sh_vfs_capture(v, a); break;
        case 17: r = sh_vfs_realpath(v, a, b, sizeof(b)); if (!r) CHECK(b[0] == '/'); break;
        case 18: r = sh_vfs_access(v, a, byte(&in) & 7); break;
        case 19: r = sh_vfs_abspath(a, "../x/./y", b, sizeof(b)); break;
        case 20:                     /* the session ends and another starts */
            sh_vfs_close(vs[op >> 7]);
            vs[op >> 7] = sh_vfs_open(&prm);
            CHECK(vs[op >> 7]);
            break;
        case 21: sh_vfs_user_name(v, byte(&in)); sh_vfs_group_name(v, byte(&in)); break;
        default: r = sh_vfs_stat(v, a, true, &st); break;
        }
        CHECK(is_err(r));
        size_t srcs;
        uint64_t bytes;
        sh_vfs_stats(&srcs, &bytes);
        CHECK(bytes <= TOTAL_MAX && srcs <= 1);
    }
    hp_buf_free(&buf);
    sh_vfs_close(vs[0]);
    sh_vfs_close(vs[1]);
    sh_vfs_test_clock(1800000000 + 100000);      /* past the persistence: forgotten */
    size_t srcs;
    sh_vfs_stats(&srcs, NULL);
    CHECK(srcs == 0);
    return 0;
}
