/*
 * cmd_archive.c - archives and compressors: tar, gzip/gunzip/zcat,
 * bzip2/bunzip2/bzcat, xz/unxz/xzcat.
 *
 * Droppers fetch "x.tgz", unpack it and run what is inside, so tar and
 * gzip really work on the fake file system: gzip streams are inflated and
 * deflated with zlib, tar archives (ustar, GNU long names, pax path
 * records) are parsed and written in GNU format, and what is extracted
 * lands in the overlay (and so is captured like any other file).  Every
 * input is hostile: decompression stops at AR_OUT_MAX bytes, an archive at
 * AR_ENTRIES_MAX members, member names are cleaned as GNU tar does (a
 * leading '/' removed with its message, any '..' refused), and nothing
 * leaves the vfs.  bzip2 and xz have no library here: they answer the
 * common paths (missing file, wrong format, terminal) with the real texts,
 * and xz writes valid .xz files made of stored LZMA2 chunks.
 * Messages: GNU tar 1.34, gzip 1.12, bzip2 1.0.8, xz 5.4.1 on Debian;
 * the busybox applets on busybox personalities.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include "cmd_fs.h"
#include "cmd_sys.h"
#include "buf.h"

#define AR_OUT_MAX     (8u << 20)   /* bytes one decompression or archive may produce */
#define AR_ENTRIES_MAX 1000         /* members read or written by one tar */
#define AR_UMASK       022

/* ==== gzip streams (zlib) ========================================================== */

enum gz_result { GZ_OK, GZ_NOT_GZIP, GZ_EOF, GZ_CORRUPT, GZ_CRC, GZ_TOO_BIG };

static bool gz_magic(const uint8_t *d, size_t n)
{
    return n >= 2 && d[0] == 0x1f && d[1] == 0x8b;
}

/* Inflate every gzip member of [in, in+n) into out (capped at AR_OUT_MAX);
 * trailing zero padding is ignored as gzip does. */
static enum gz_result gz_inflate(const uint8_t *in, size_t n, struct hp_buf *out)
{
    if (!gz_magic(in, n))
        return n == 0 ? GZ_EOF : GZ_NOT_GZIP;
    size_t pos = 0;
    uint8_t chunk[16384];
    for (int member = 0; member < 64 && pos < n; member++) {
        if (member > 0 && !gz_magic(in + pos, n - pos))
            break;                /* trailing garbage: gzip warns; we stop */
        z_stream z;
        memset(&z, 0, sizeof(z));
        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
            return GZ_CORRUPT;
        z.next_in = (Bytef *)(uintptr_t)(in + pos);
        z.avail_in = (uInt)(n - pos > UINT32_MAX ? UINT32_MAX : n - pos);
        int r;
        do {
            z.next_out = chunk;
            z.avail_out = sizeof(chunk);
            r = inflate(&z, Z_NO_FLUSH);
            size_t got = sizeof(chunk) - z.avail_out;
            if (got && (out->len + got > AR_OUT_MAX || !hp_buf_put(out, chunk, got))) {
                inflateEnd(&z);
                return GZ_TOO_BIG;
            }
        } while (r == Z_OK);
        size_t used = (size_t)(z.next_in - (in + pos));
        inflateEnd(&z);
        if (r == Z_BUF_ERROR)
            return GZ_EOF;
        if (r == Z_DATA_ERROR)
            return z.msg && strstr(z.msg, "check") ? GZ_CRC : GZ_CORRUPT;
        if (r != Z_STREAM_END)
            return GZ_CORRUPT;
        pos += used;
    }
    return GZ_OK;
}

/* One gzip member holding data; name (may be NULL) and mtime as gzip stores them. */
static bool gz_deflate(const uint8_t *in, size_t n, const char *name, int64_t mtime, int level,
                       struct hp_buf *out)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    gz_header h;
    memset(&h, 0, sizeof(h));
    h.time = (uLong)(mtime > 0 ? mtime : 0);
    h.os = 3;
    h.name = (Bytef *)(uintptr_t)name;
    deflateSetHeader(&z, &h);
    uLong bound = deflateBound(&z, (uLong)n) + 64 + (name ? strlen(name) : 0);
    if (bound > AR_OUT_MAX + 4096u || !hp_buf_reserve(out, bound)) {
        deflateEnd(&z);
        return false;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out->data + out->len;
    z.avail_out = (uInt)bound;
    int r = deflate(&z, Z_FINISH);
    if (r == Z_STREAM_END)
        out->len += bound - z.avail_out;
    deflateEnd(&z);
    return r == Z_STREAM_END;
}

/* gzip's "-- replaced with" ratio: saved share of the input, one decimal. */
static void gz_ratio(char *out, size_t n, size_t in, size_t outlen)
{
    double r = in ? 100.0 * ((double)in - (double)outlen) / (double)in : 0.0;
    snprintf(out, n, "%5.1f%%", r);
}

/* ==== xz: stored LZMA2 chunks ======================================================== */

static void xz_u32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static size_t xz_varint(uint8_t *p, uint64_t v)
{
    size_t i = 0;
    while (v >= 0x80) {
        p[i++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[i++] = (uint8_t)v;
    return i;
}

static const uint8_t xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };

/* A valid .xz file (CRC32 check) whose one block holds data as stored LZMA2
 * chunks: xz -d and every decoder read it; it is just not smaller. */
static bool xz_store(const uint8_t *d, size_t n, struct hp_buf *out)
{
    uint8_t hdr[12], bh[12], tmp[64];
    memcpy(hdr, xz_magic, 6);
    hdr[6] = 0, hdr[7] = 1;
    xz_u32le(hdr + 8, (uint32_t)crc32(0, hdr + 6, 2));
    /* block header: size 12 bytes, flags (1 filter), LZMA2 id 0x21, props 1, dict 8 MiB */
    memset(bh, 0, sizeof(bh));
    bh[0] = 12 / 4 - 1, bh[1] = 0, bh[2] = 0x21, bh[3] = 1, bh[4] = 18;
    xz_u32le(bh + 8, (uint32_t)crc32(0, bh, 8));
    size_t start = out->len;
    if (!hp_buf_put(out, hdr, 12) || !hp_buf_put(out, bh, 12))
        return false;
    size_t pos = 0;
    for (bool first = true; pos < n; first = false) {
        size_t k = n - pos > 65536 ? 65536 : n - pos;
        uint8_t ch[3] = { first ? 1 : 2, (uint8_t)((k - 1) >> 8), (uint8_t)(k - 1) };
        if (!hp_buf_put(out, ch, 3) || !hp_buf_put(out, d + pos, k))
            return false;
        pos += k;
    }
    if (!hp_buf_putc(out, 0))
        return false;
    size_t unpadded = out->len - start - 12;
    while ((out->len - start) % 4)
        hp_buf_putc(out, 0);
    uint8_t check[4];
    xz_u32le(check, (uint32_t)crc32(0, d, (uInt)n));
    hp_buf_put(out, check, 4);
    unpadded += 4;
    /* index */
    size_t il = 0;
    tmp[il++] = 0;
    il += xz_varint(tmp + il, 1);
    il += xz_varint(tmp + il, unpadded);
    il += xz_varint(tmp + il, n);
    while (il % 4)
        tmp[il++] = 0;
    xz_u32le(tmp + il, (uint32_t)crc32(0, tmp, (uInt)il));
    il += 4;
    hp_buf_put(out, tmp, il);
    /* footer */
    uint8_t ft[12];
    xz_u32le(ft + 4, (uint32_t)(il / 4 - 1));
    ft[8] = 0, ft[9] = 1;
    xz_u32le(ft, (uint32_t)crc32(0, ft + 4, 6));
    ft[10] = 'Y', ft[11] = 'Z';
    return hp_buf_put(out, ft, 12);
}

/* Decode an .xz file made only of stored LZMA2 chunks (what xz_store writes);
 * 0 ok, 1 not xz, 2 anything else (real LZMA: "Compressed data is corrupt"). */
static int xz_unstore(const uint8_t *d, size_t n, struct hp_buf *out)
{
    if (n < 12 || memcmp(d, xz_magic, 6) != 0)
        return 1;
    size_t pos = 12;
    if (pos >= n || d[pos] == 0)
        return 2;
    size_t bhsize = ((size_t)d[pos] + 1) * 4;
    if (pos + bhsize > n)
        return 2;
    pos += bhsize;
    for (int guard = 0; guard < 100000 && pos < n; guard++) {
        uint8_t ctl = d[pos];
        if (ctl == 0)
            return 0;
        if ((ctl != 1 && ctl != 2) || pos + 3 > n)
            return 2;
        size_t k = (((size_t)d[pos + 1] << 8) | d[pos + 2]) + 1;
        if (pos + 3 + k > n || out->len + k > AR_OUT_MAX || !hp_buf_put(out, d + pos + 3, k))
            return 2;
        pos += 3 + k;
    }
    return 2;
}

/* ==== tar: options ==================================================================== */

struct tar_opts {
    char op;                      /* 'c', 'x', 't' (0: none given) */
    char comp;                    /* 0, 'z', 'j', 'J' */
    bool verbose, to_stdout, bb, several_ops;
    const char *file;             /* NULL or "-": stdin / stdout */
    const char *dir;              /* -C */
    long strip;                   /* --strip-components */
    char *ops[SYS_OPERANDS_MAX];  /* files (c) or members (x, t) */
    int nops;
    int status;                   /* 2 once an error was reported */
    bool warned_slash;
};

static int tar_try(struct sh_cmd *c)
{
    sh_errs(c, "Try 'tar --help' or 'tar --usage' for more information.\n");
    return 2;
}

static void tar_version(struct sh_cmd *c)
{
    sh_outs(c, "tar (GNU tar) 1.34\nCopyright (C) 2021 Free Software Foundation, Inc.\n"
               "License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\n"
               "This is free software: you are free to change and redistribute it.\n"
               "There is NO WARRANTY, to the extent permitted by law.\n\n"
               "Written by John Gilmore and Jay Fenlason.\n");
}

/* One option letter; *arg is its argument when it takes one.  1: needs an
 * argument, 0: done, -1: unknown. */
static int tar_letter(struct tar_opts *o, char l, const char *arg)
{
    switch (l) {
    case 'c': case 'x': case 't': case 'r': case 'u':
        if (o->op && o->op != (l == 'r' || l == 'u' ? 'c' : l))
            o->several_ops = true;
        o->op = (l == 'r' || l == 'u') ? 'c' : l;
        return 0;
    case 'z': case 'j': case 'J': o->comp = l; return 0;
    case 'v': o->verbose = true; return 0;
    case 'O': o->to_stdout = true; return 0;
    case 'f': if (!arg) return 1; o->file = arg; return 0;
    case 'C': if (!arg) return 1; o->dir = arg; return 0;
    case 'p': case 'k': case 'm': case 'o': case 'h': case 'P': case 'a': case 'w':
    case 'S': case 'B': case 'i': case 'U': case 'W':
        return 0;
    default: return -1;
    }
}

static bool tar_takes_arg(char l) { return l == 'f' || l == 'C'; }

static const struct { const char *name; char letter; bool arg; } tar_longs[] = {
    { "extract", 'x', false }, { "get", 'x', false }, { "create", 'c', false }, { "list", 't', false },
    { "append", 'r', false }, { "update", 'u', false }, { "gzip", 'z', false }, { "gunzip", 'z', false },
    { "ungzip", 'z', false }, { "bzip2", 'j', false }, { "xz", 'J', false }, { "verbose", 'v', false },
    { "file", 'f', true }, { "directory", 'C', true }, { "to-stdout", 'O', false },
    { "strip-components", 's', true }, { "help", 'H', false }, { "version", 'V', false },
    { "usage", 'H', false }, { "no-same-owner", 0, false }, { "no-same-permissions", 0, false },
    { "same-owner", 0, false }, { "preserve-permissions", 0, false }, { "same-permissions", 0, false },
    { "overwrite", 0, false }, { "keep-old-files", 0, false }, { "absolute-names", 0, false },
    { "numeric-owner", 0, false }, { "auto-compress", 0, false }, { "totals", 0, false },
    { "warning", 0, true }, { "exclude", 0, true }, { "wildcards", 0, false }, { "anchored", 0, false },
    { "no-overwrite-dir", 0, false }, { "touch", 0, false }, { "owner", 0, true }, { "group", 0, true },
    { "mode", 0, true }, { "checkpoint", 0, false }, { "ignore-zeros", 0, false },
};

/* "--name[=value]": 0 done, 'H'/'V' help and version, -1 error (reported). */
static int tar_long(struct sh_cmd *c, struct tar_opts *o, const char *a, int *i)
{
    const char *eq = strchr(a, '=');
    size_t len = eq ? (size_t)(eq - a) : strlen(a);
    for (size_t k = 0; k < sizeof(tar_longs) / sizeof(tar_longs[0]); k++) {
        if (strlen(tar_longs[k].name) != len || strncmp(tar_longs[k].name, a, len) != 0)
            continue;
        const char *val = eq ? eq + 1 : NULL;
        if (tar_longs[k].arg && !val) {
            if (*i + 1 >= c->argc) {
                sh_errf(c, "tar: option '--%s' requires an argument\n", tar_longs[k].name);
                return -1;
            }
            val = c->argv[++*i];
        } else if (!tar_longs[k].arg && val) {
            sh_errf(c, "tar: option '--%s' doesn't allow an argument\n", tar_longs[k].name);
            return -1;
        }
        char l = tar_longs[k].letter;
        if (l == 'H' || l == 'V')
            return l;
        if (l == 's') {
            if (!sh_parse_long(val, &o->strip) || o->strip < 0) {
                sh_errf(c, "tar: Invalid number of elements: '%s'\n", val);   /* argp text */
                return -1;
            }
            return 0;
        }
        if (l)
            tar_letter(o, l, val);
        return 0;
    }
    sh_errf(c, "tar: unrecognized option '--%.*s'\n", (int)len, a);
    return -1;
}

/* Old-style first word ("xzvf a.tgz"), then GNU options and operands in
 * any order.  0 to go on, otherwise the exit status (message printed). */
static int tar_parse(struct sh_cmd *c, struct tar_opts *o)
{
    int i = 1;
    if (c->argc > 1 && c->argv[1][0] != '-' && c->argv[1][0]) {
        for (const char *p = c->argv[1]; *p; p++) {
            const char *arg = NULL;
            if (tar_takes_arg(*p)) {
                if (i + 1 >= c->argc) {
                    sh_errf(c, "tar: option requires an argument -- '%c'\n", *p);
                    return o->bb ? 1 : tar_try(c);
                }
                arg = c->argv[++i];
            }
            if (tar_letter(o, *p, arg) < 0) {
                sh_errf(c, "tar: invalid option -- '%c'\n", *p);
                return o->bb ? 1 : tar_try(c);
            }
        }
        i++;                      /* past the bundle and its arguments */
    }
    bool dashdash = false;
    for (; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (dashdash || a[0] != '-' || !a[1]) {
            if (o->nops < SYS_OPERANDS_MAX)
                o->ops[o->nops++] = c->argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            dashdash = true;
            continue;
        }
        if (a[1] == '-') {
            int r = tar_long(c, o, a + 2, &i);
            if (r == 'V') {
                tar_version(c);
                return -1;
            }
            if (r == 'H') {
                sh_outs(c, "Usage: tar [OPTION...] [FILE]...\nGNU 'tar' saves many files together into a single "
                           "tape or disk archive, and can\nrestore individual files from the archive.\n");
                return -1;
            }
            if (r < 0)
                return o->bb ? 1 : tar_try(c);
            continue;
        }
        for (const char *p = a + 1; *p; p++) {
            const char *arg = NULL;
            if (tar_takes_arg(*p)) {
                if (p[1])
                    arg = p + 1;
                else if (i + 1 < c->argc)
                    arg = c->argv[++i];
                else {
                    sh_errf(c, "tar: option requires an argument -- '%c'\n", *p);
                    return o->bb ? 1 : tar_try(c);
                }
            }
            if (tar_letter(o, *p, arg) < 0) {
                sh_errf(c, "tar: invalid option -- '%c'\n", *p);
                return o->bb ? 1 : tar_try(c);
            }
            if (arg)
                break;
        }
    }
    return 0;
}

/* ==== tar: reading ====================================================================== */

struct tar_member {
    char name[FS_PATH_MAX];
    char link[FS_PATH_MAX];
    char type;                    /* '0' file, '1' hard link, '2' symlink, '5' directory, ... */
    unsigned mode, uid, gid;
    uint64_t size;
    int64_t mtime;
    char uname[33], gname[33];
    const uint8_t *data;
};

/* An octal field (or GNU base-256 when the high bit is set). */
static uint64_t tar_num(const uint8_t *f, size_t n)
{
    uint64_t v = 0;
    if (n && (f[0] & 0x80)) {
        for (size_t i = 1; i < n && i < 9; i++)
            v = (v << 8) | f[i];
        return v;
    }
    size_t i = 0;
    while (i < n && (f[i] == ' ' || f[i] == 0))
        i++;
    for (; i < n && f[i] >= '0' && f[i] <= '7' && v < (UINT64_C(1) << 60); i++)
        v = v * 8 + (uint64_t)(f[i] - '0');
    return v;
}

static bool tar_zero(const uint8_t *h)
{
    for (size_t i = 0; i < 512; i++)
        if (h[i])
            return false;
    return true;
}

static bool tar_zero_tail(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (d[i])
            return false;
    return true;
}

static bool tar_cksum_ok(const uint8_t *h)
{
    unsigned long want = (unsigned long)tar_num(h + 148, 8), u = 0;
    long s = 0;
    for (size_t i = 0; i < 512; i++) {
        unsigned char b = (i >= 148 && i < 156) ? ' ' : h[i];
        u += b;
        s += (signed char)b;
    }
    return u == want || (unsigned long)s == want;
}

static void tar_field(char *out, size_t outlen, const uint8_t *f, size_t n)
{
    size_t k = strnlen((const char *)f, n);
    if (k >= outlen)
        k = outlen - 1;
    memcpy(out, f, k);
    out[k] = '\0';
}

/* The value of key in a pax extended header ("LEN key=value\n" records). */
static void tar_pax(const uint8_t *d, size_t n, const char *key, char *out, size_t outlen)
{
    size_t pos = 0, klen = strlen(key);
    for (int guard = 0; guard < 1000 && pos < n; guard++) {
        size_t len = 0, i = pos;
        while (i < n && d[i] >= '0' && d[i] <= '9' && len < n)
            len = len * 10 + (size_t)(d[i++] - '0');
        if (len == 0 || pos + len > n || i >= n || d[i] != ' ')
            return;
        const uint8_t *rec = d + i + 1;
        size_t rlen = pos + len - (i + 1);
        if (rlen > klen + 1 && memcmp(rec, key, klen) == 0 && rec[klen] == '=') {
            size_t vlen = rlen - klen - 2;             /* minus '=' and '\n' */
            if (vlen >= outlen)
                vlen = outlen - 1;
            memcpy(out, rec + klen + 1, vlen);
            out[vlen] = '\0';
        }
        pos += len;
    }
}

typedef void (*tar_member_fn)(struct sh_cmd *c, struct tar_opts *o, struct tar_member *m, void *arg);

/* Walk the members of an uncompressed archive; false after a fatal format
 * error (reported). */
static bool tar_walk(struct sh_cmd *c, struct tar_opts *o, const uint8_t *d, size_t n, tar_member_fn fn,
                     void *arg)
{
    static struct tar_member m;   /* 8 KiB of names: kept off the stack */
    char longname[FS_PATH_MAX] = "", longlink[FS_PATH_MAX] = "";
    size_t pos = 0;
    int count = 0;
    while (pos + 512 <= n) {
        const uint8_t *h = d + pos;
        if (tar_zero(h))
            return true;
        if (!tar_cksum_ok(h)) {
            if (o->bb)
                sh_errs(c, "tar: invalid tar magic\n");
            else if (count == 0)
                sh_errs(c, "tar: This does not look like a tar archive\n");
            else
                sh_errs(c, "tar: Skipping to next header\n");
            o->status = o->bb ? 1 : 2;
            return false;
        }
        uint64_t size = tar_num(h + 124, 12);
        if (size > n - pos - 512) {
            sh_errs(c, o->bb ? "tar: short read\n" : "tar: Unexpected EOF in archive\n");
            o->status = o->bb ? 1 : 2;
            return false;
        }
        const uint8_t *data = h + 512;
        pos += 512 + (size_t)((size + 511) / 512 * 512);
        if (pos > n)
            pos = n;
        char type = (char)h[156];
        if (type == 'L' || type == 'K') {
            char *dst = type == 'L' ? longname : longlink;
            tar_field(dst, FS_PATH_MAX, data, (size_t)size);
            continue;
        }
        if (type == 'x') {
            tar_pax(data, (size_t)size, "path", longname, sizeof(longname));
            tar_pax(data, (size_t)size, "linkpath", longlink, sizeof(longlink));
            continue;
        }
        if (type == 'g')
            continue;
        if (++count > AR_ENTRIES_MAX) {
            sh_errs(c, "tar: Error is not recoverable: exiting now\n");
            o->status = 2;
            return false;
        }
        memset(&m, 0, sizeof(m));
        if (longname[0]) {
            snprintf(m.name, sizeof(m.name), "%s", longname);
        } else {
            char nm[101], pre[156];
            tar_field(nm, sizeof(nm), h, 100);
            tar_field(pre, sizeof(pre), h + 345, 155);
            bool ustar = memcmp(h + 257, "ustar\0", 6) == 0;    /* POSIX, not GNU's "ustar  " */
            snprintf(m.name, sizeof(m.name), "%s%s%s", ustar && pre[0] ? pre : "",
                     ustar && pre[0] ? "/" : "", nm);
        }
        if (longlink[0])
            snprintf(m.link, sizeof(m.link), "%s", longlink);
        else
            tar_field(m.link, sizeof(m.link), h + 157, 100);
        longname[0] = longlink[0] = '\0';
        m.type = type ? type : '0';
        if (m.type == '7')
            m.type = '0';
        m.mode = (unsigned)tar_num(h + 100, 8) & 07777;
        m.uid = (unsigned)tar_num(h + 108, 8);
        m.gid = (unsigned)tar_num(h + 116, 8);
        m.size = size;
        m.mtime = (int64_t)tar_num(h + 136, 12);
        tar_field(m.uname, sizeof(m.uname), h + 265, 32);
        tar_field(m.gname, sizeof(m.gname), h + 297, 32);
        m.data = data;
        if (m.type == '0' && m.name[0] && m.name[strlen(m.name) - 1] == '/')
            m.type = '5';
        fn(c, o, &m, arg);
    }
    if (count == 0 && pos == 0 && n > 0 && !tar_zero_tail(d, n)) {
        /* shorter than one header and not zeros: GNU tar says what it says of any non-archive */
        sh_errs(c, o->bb ? "tar: short read\n" : "tar: This does not look like a tar archive\n");
        o->status = o->bb ? 1 : 2;
        return false;
    }
    return true;
}

/* GNU tar's name hygiene: leading '/' removed (said once), '..' refused,
 * --strip-components applied.  false: skip the member. */
static bool tar_clean(struct sh_cmd *c, struct tar_opts *o, char *name)
{
    size_t lead = strspn(name, "/");
    if (lead) {
        if (!o->warned_slash)
            sh_errs(c, o->bb ? "tar: removing leading '/' from member names\n"
                             : "tar: Removing leading `/' from member names\n");
        o->warned_slash = true;
        memmove(name, name + lead, strlen(name + lead) + 1);
    }
    for (const char *p = name; *p;) {
        size_t k = strcspn(p, "/");
        if (k == 2 && p[0] == '.' && p[1] == '.') {
            sh_errf(c, o->bb ? "tar: skipping unsafe path: %s\n" : "tar: %s: Member name contains '..'\n", name);
            if (!o->bb)
                o->status = 2;
            return false;
        }
        p += k;
        p += strspn(p, "/");
    }
    for (long s = 0; s < o->strip; s++) {
        char *sl = strchr(name, '/');
        if (!sl)
            return false;
        memmove(name, sl + 1, strlen(sl + 1) + 1);
    }
    return name[0] != '\0';
}

/* ==== tar: listing and extracting ==================================================== */

struct tar_run {
    char base[FS_PATH_MAX];       /* -C directory (absolute) */
    bool *found;                  /* per member operand */
    size_t out_bytes;
};

static bool tar_selected(struct tar_opts *o, struct tar_run *r, const char *name)
{
    if (o->nops == 0)
        return true;
    for (int i = 0; i < o->nops; i++) {
        const char *op = o->ops[i];
        size_t k = strlen(op);
        while (k > 1 && op[k - 1] == '/')
            k--;
        if (strncmp(name, op, k) == 0 && (name[k] == '\0' || name[k] == '/')) {
            r->found[i] = true;
            return true;
        }
    }
    return false;
}

static void tar_modestr(const struct tar_member *m, char out[11])
{
    struct sh_stat st = { .mode = m->mode };
    switch (m->type) {
    case '5': st.type = SH_FT_DIR; break;
    case '2': st.type = SH_FT_LNK; break;
    case '3': st.type = SH_FT_CHR; break;
    case '4': st.type = SH_FT_BLK; break;
    case '6': st.type = SH_FT_FIFO; break;
    default: st.type = SH_FT_REG; break;
    }
    fs_modestr(&st, out);
    if (m->type == '1')
        out[0] = 'h';
}

/* "-rw-r--r-- root/root         3 2024-05-01 10:00 a" (GNU) or busybox's
 * "%9u" size and seconds. */
static void tar_long_line(struct sh_cmd *c, struct tar_opts *o, const struct tar_member *m, const char *name)
{
    char mode[11], owner[80], size[24], date[32];
    tar_modestr(m, mode);
    snprintf(owner, sizeof(owner), "%s/%s", m->uname[0] ? m->uname : "", m->gname[0] ? m->gname : "");
    if (!m->uname[0] || !m->gname[0]) {
        char u[16], g[16];
        snprintf(u, sizeof(u), "%u", m->uid);
        snprintf(g, sizeof(g), "%u", m->gid);
        snprintf(owner, sizeof(owner), "%s/%s", m->uname[0] ? m->uname : u, m->gname[0] ? m->gname : g);
    }
    snprintf(size, sizeof(size), "%llu", (unsigned long long)(m->type == '0' ? m->size : 0));
    struct tm tm;
    sys_gmtime(m->mtime, &tm);
    strftime(date, sizeof(date), o->bb ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", &tm);
    struct hp_buf b;
    hp_buf_init(&b, 3 * FS_PATH_MAX);
    if (o->bb) {
        hp_buf_printf(&b, "%s %s %9s %s %s", mode, owner, size, date, name);
    } else {
        int pad = 19 - (int)strlen(owner) - (int)strlen(size);
        hp_buf_printf(&b, "%s %s %*s%s %s %s", mode, owner, pad > 1 ? pad - 1 : 0, "", size, date, name);
    }
    if (m->type == '2')
        hp_buf_printf(&b, " -> %s", m->link);
    else if (m->type == '1')
        hp_buf_printf(&b, " link to %s", m->link);
    hp_buf_putc(&b, '\n');
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
}

/* mkdir -p of path's parents (and path itself when self). */
static int tar_mkdirs(struct sh_cmd *c, const char *path, bool self)
{
    char p[FS_PATH_MAX];
    snprintf(p, sizeof(p), "%s", path);
    size_t n = strlen(p);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        if (p[i] == '\0' && !self)
            break;
        char save = p[i];
        p[i] = '\0';
        int r = sh_vfs_mkdir(c->fs, p, 0755);
        p[i] = save;
        if (r < 0 && r != -EEXIST)
            return r;
    }
    return 0;
}

static void tar_cant(struct sh_cmd *c, struct tar_opts *o, const char *name, const char *what, int err)
{
    if (o->bb)
        sh_errf(c, "tar: can't %s '%s': %s\n", what[0] == 'C' ? "create" : what, name, sh_strerror(err));
    else
        sh_errf(c, "tar: %s: %s: %s\n", name, what, sh_strerror(err));
    o->status = o->bb ? 1 : 2;
}

static void tar_extract_one(struct sh_cmd *c, struct tar_opts *o, struct tar_member *m, void *arg)
{
    struct tar_run *r = arg;
    if (!tar_clean(c, o, m->name) || !tar_selected(o, r, m->name))
        return;
    if (o->verbose && o->op == 't')
        tar_long_line(c, o, m, m->name);
    else if (o->verbose || o->op == 't')
        sh_outf(c, "%s\n", m->name);
    if (o->op == 't')
        return;
    if (o->to_stdout) {
        if (m->type == '0' && r->out_bytes + m->size <= AR_OUT_MAX) {
            sh_out(c, m->data, (size_t)m->size);
            r->out_bytes += (size_t)m->size;
        }
        return;
    }
    char path[FS_PATH_MAX];
    if (sh_vfs_abspath(r->base, m->name, path, sizeof(path)) < 0)
        return;
    int e = tar_mkdirs(c, path, m->type == '5');
    if (e < 0) {
        tar_cant(c, o, m->name, m->type == '5' ? "Cannot mkdir" : "Cannot open", e);
        return;
    }
    struct sh_stat st;
    bool exists = sh_vfs_stat(c->fs, path, false, &st) == 0;
    switch (m->type) {
    case '5':
        sh_vfs_chmod(c->fs, path, m->mode & (c->uid == 0 ? 07777u : 0777u & ~AR_UMASK));
        break;
    case '0': {
        if (exists && st.type == SH_FT_DIR) {
            tar_cant(c, o, m->name, "Cannot open", EISDIR);
            return;
        }
        if (exists)
            sh_vfs_unlink(c->fs, path);
        unsigned mode = m->mode & (c->uid == 0 ? 07777u : 0777u & ~AR_UMASK);
        long w = sh_vfs_write(c->fs, path, m->data, (size_t)m->size, SH_O_CREAT | SH_O_TRUNC, mode);
        if (w < 0) {
            tar_cant(c, o, m->name, "Cannot open", (int)-w);
            return;
        }
        sh_vfs_chmod(c->fs, path, mode);
        break;
    }
    case '2':
        if (exists)
            sh_vfs_unlink(c->fs, path);
        if ((e = sh_vfs_symlink(c->fs, m->link, path)) < 0) {
            char what[FS_PATH_MAX + 32];
            snprintf(what, sizeof(what), "Cannot create symlink to '%s'", m->link);
            tar_cant(c, o, m->name, what, -e);
        }
        return;
    case '1': {
        char target[FS_PATH_MAX], tp[FS_PATH_MAX];
        snprintf(target, sizeof(target), "%s", m->link);
        if (!tar_clean(c, o, target) || sh_vfs_abspath(r->base, target, tp, sizeof(tp)) < 0)
            return;
        if (exists)
            sh_vfs_unlink(c->fs, path);
        if ((e = sh_vfs_link(c->fs, tp, path)) < 0)
            tar_cant(c, o, m->name, "Cannot hard link", -e);
        return;
    }
    default:                      /* devices and fifos: not made in the sandbox */
        return;
    }
    if (c->uid == 0)
        sh_vfs_chown(c->fs, path, m->uid, m->gid);
    sh_vfs_utime(c->fs, path, m->mtime);
}

/* The decompressor's half of a failed "tar xzf": GNU tar runs gzip as a
 * child, so both speak. */
static int tar_child_fail(struct sh_cmd *c, char comp, const char *gzip_msg, int child_status)
{
    if (comp == 'j')
        sh_errs(c, "bzip2: (stdin) is not a bzip2 file.\n");
    else if (comp == 'J')
        sh_errs(c, "xz: (stdin): File format not recognized\n");
    else
        sh_errf(c, "\ngzip: stdin: %s\n", gzip_msg);
    sh_errf(c, "tar: Child returned status %d\ntar: Error is not recoverable: exiting now\n", child_status);
    return 2;
}

/* The archive's bytes, decompressed, into raw; 0 or the exit status. */
static int tar_input(struct sh_cmd *c, struct tar_opts *o, struct hp_buf *raw)
{
    bool is_stdin = !o->file || !strcmp(o->file, "-");
    struct hp_buf file;
    hp_buf_init(&file, SH_VFS_FILE_MAX);
    if (is_stdin) {
        if (c->in_tty && !o->bb) {
            sh_errs(c, "tar: Refusing to read archive contents from terminal (missing -f option?)\n"
                       "tar: Error is not recoverable: exiting now\n");
            hp_buf_free(&file);
            return 2;
        }
        if (c->in_len)
            hp_buf_put(&file, c->in, c->in_len);
    } else {
        char p[FS_PATH_MAX];
        int e = fs_abs(c, o->file, p);
        if (e == 0) {
            long rr = sh_vfs_read(c->fs, p, 0, 0, &file);
            if (rr < 0)
                e = (int)rr;
        }
        if (e < 0) {
            hp_buf_free(&file);
            if (o->bb) {
                sh_errf(c, "tar: can't open '%s': %s\n", o->file, sh_strerror(e));
                return 1;
            }
            if (o->comp) {
                sh_errf(c, "tar (child): %s: Cannot open: %s\ntar (child): Error is not recoverable: exiting now\n",
                        o->file, sh_strerror(e));
                return tar_child_fail(c, o->comp, "unexpected end of file", 2);
            }
            sh_errf(c, "tar: %s: Cannot open: %s\ntar: Error is not recoverable: exiting now\n", o->file,
                    sh_strerror(e));
            return 2;
        }
    }
    const uint8_t *d = file.data;
    size_t n = file.len;
    char comp = o->comp;
    if (!comp && n >= 2 && gz_magic(d, n)) {
        if (is_stdin && !o->bb) {
            sh_errs(c, "tar: Archive is compressed. Use -z option\ntar: Error is not recoverable: exiting now\n");
            hp_buf_free(&file);
            return 2;
        }
        comp = 'z';
    } else if (!comp && n >= 3 && memcmp(d, "BZh", 3) == 0) {
        comp = 'j';
    } else if (!comp && n >= 6 && memcmp(d, xz_magic, 6) == 0) {
        comp = 'J';
    }
    int rc = 0;
    if (comp == 'z') {
        enum gz_result g = gz_inflate(d, n, raw);
        if (g == GZ_NOT_GZIP)
            rc = o->bb ? (sh_errs(c, "tar: invalid magic\n"), 1) : tar_child_fail(c, 'z', "not in gzip format", 1);
        else if (g == GZ_EOF && raw->len == 0)
            rc = o->bb ? (sh_errs(c, "tar: short read\n"), 1) : tar_child_fail(c, 'z', "unexpected end of file", 1);
        else if (g != GZ_OK && g != GZ_EOF)
            rc = o->bb ? (sh_errs(c, "tar: corrupted data\n"), 1)
                       : tar_child_fail(c, 'z', "invalid compressed data--format violated", 1);
    } else if (comp == 'J') {
        if (xz_unstore(d, n, raw) != 0) {
            rc = o->bb ? (sh_errs(c, "tar: corrupted data\n"), 1) : 2;
            if (!o->bb)
                sh_errs(c, memcmp(d, xz_magic, n < 6 ? n : 6) == 0 && n >= 6
                               ? "xz: (stdin): Compressed data is corrupt\ntar: Child returned status 1\n"
                                 "tar: Error is not recoverable: exiting now\n"
                               : "xz: (stdin): File format not recognized\ntar: Child returned status 1\n"
                                 "tar: Error is not recoverable: exiting now\n");
        }
    } else if (comp == 'j') {
        /* no bzip2 decoder: what bzip2 says of a damaged stream */
        rc = o->bb ? (sh_errs(c, "tar: corrupted data\n"), 1) : 2;
        if (!o->bb) {
            if (n >= 3 && memcmp(d, "BZh", 3) == 0)
                sh_errs(c, "\nbzip2: Data integrity error when decompressing.\n"
                           "\tInput file = (stdin), output file = (stdout)\n\n"
                           "It is possible that the compressed file(s) have become corrupted.\n"
                           "You can use the -tvv option to test integrity of such files.\n\n"
                           "You can use the `bzip2recover' program to attempt to recover\n"
                           "data from undamaged sections of corrupted files.\n\n"
                           "tar: Child returned status 2\ntar: Error is not recoverable: exiting now\n");
            else
                tar_child_fail(c, 'j', NULL, 2);
        }
    } else {
        hp_buf_put(raw, d, n);
    }
    hp_buf_free(&file);
    return rc;
}

static int tar_finish(struct sh_cmd *c, struct tar_opts *o)
{
    if (o->status && !o->bb)
        sh_errs(c, "tar: Exiting with failure status due to previous errors\n");
    return o->status;
}

static int tar_read(struct sh_cmd *c, struct tar_opts *o)
{
    struct tar_run r;
    memset(&r, 0, sizeof(r));
    int e = fs_abs(c, o->dir ? o->dir : ".", r.base);
    struct sh_stat st;
    if (o->dir && o->op == 'x' && !o->to_stdout && (e < 0 || (e = sh_vfs_stat(c->fs, r.base, true, &st)) < 0 ||
                                                    (st.type != SH_FT_DIR && (e = -ENOTDIR)))) {
        if (o->bb)
            sh_errf(c, "tar: can't change directory to '%s': %s\n", o->dir, sh_strerror(e));
        else
            sh_errf(c, "tar: %s: Cannot open: %s\ntar: Error is not recoverable: exiting now\n", o->dir,
                    sh_strerror(e));
        return o->bb ? 1 : 2;
    }
    struct hp_buf raw;
    hp_buf_init(&raw, AR_OUT_MAX);
    int rc = tar_input(c, o, &raw);
    if (rc) {
        hp_buf_free(&raw);
        return rc;
    }
    bool found[SYS_OPERANDS_MAX] = { false };
    r.found = found;
    tar_walk(c, o, raw.data, raw.len, tar_extract_one, &r);
    hp_buf_free(&raw);
    for (int i = 0; i < o->nops; i++) {
        if (found[i])
            continue;
        sh_errf(c, o->bb ? "tar: %s: not found in archive\n" : "tar: %s: Not found in archive\n", o->ops[i]);
        o->status = o->bb ? 1 : 2;
    }
    return tar_finish(c, o);
}

/* ==== tar: creating ====================================================================== */

struct tar_out {
    struct hp_buf ar;
    int entries;
    bool full;
    bool verbose_to_err;          /* the archive goes to stdout: -v lines to stderr */
};

static void tar_octal(uint8_t *f, size_t n, uint64_t v)
{
    char tmp[24];
    snprintf(tmp, sizeof(tmp), "%0*llo", (int)n - 1, (unsigned long long)v);
    memcpy(f, tmp, n - 1);
    f[n - 1] = 0;
}

static void tar_put_header(struct tar_out *t, const char *name, char type, const struct sh_stat *st,
                           uint64_t size, const char *link, const char *uname, const char *gname)
{
    uint8_t h[512];
    if (strlen(name) >= 100) {                      /* GNU long name record */
        size_t n = strlen(name) + 1;
        struct sh_stat z = { .mode = 0 };
        tar_put_header(t, "././@LongLink", 'L', &z, n, "", "root", "root");
        hp_buf_put(&t->ar, name, n);
        static const uint8_t zeros[512];
        hp_buf_put(&t->ar, zeros, (512 - n % 512) % 512);
    }
    memset(h, 0, sizeof(h));
    snprintf((char *)h, 100, "%s", name);
    tar_octal(h + 100, 8, st->mode & 07777);
    tar_octal(h + 108, 8, st->uid);
    tar_octal(h + 116, 8, st->gid);
    tar_octal(h + 124, 12, size);
    tar_octal(h + 136, 12, (uint64_t)(st->mtime > 0 ? st->mtime : 0));
    memset(h + 148, ' ', 8);
    h[156] = (uint8_t)type;
    snprintf((char *)h + 157, 100, "%s", link ? link : "");
    memcpy(h + 257, "ustar  ", 8);                  /* GNU magic + version, with its NUL */
    snprintf((char *)h + 265, 32, "%s", uname);
    snprintf((char *)h + 297, 32, "%s", gname);
    unsigned sum = 0;
    for (size_t i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    h[155] = ' ';
    hp_buf_put(&t->ar, h, sizeof(h));
}

static void tar_add(struct sh_cmd *c, struct tar_opts *o, struct tar_out *t, const char *base, const char *arg,
                    int depth)
{
    if (t->full || depth > FS_DEPTH_MAX)
        return;
    if (++t->entries > AR_ENTRIES_MAX) {
        t->full = true;
        return;
    }
    char path[FS_PATH_MAX];
    struct sh_stat st;
    int e = sh_vfs_abspath(base, arg, path, sizeof(path));
    if (e == 0)
        e = sh_vfs_stat(c->fs, path, false, &st);
    if (e < 0) {
        if (o->bb)
            sh_errf(c, "tar: %s: %s\n", arg, sh_strerror(e));
        else
            sh_errf(c, "tar: %s: Cannot stat: %s\n", arg, sh_strerror(e));
        o->status = o->bb ? 1 : 2;
        return;
    }
    char name[FS_PATH_MAX];
    const char *n = arg + strspn(arg, "/");
    if (n != arg && !o->warned_slash)
        sh_errs(c, o->bb ? "tar: removing leading '/' from member names\n"
                         : "tar: Removing leading `/' from member names\n");
    if (n != arg)
        o->warned_slash = true;
    snprintf(name, sizeof(name) - 1, "%s", *n ? n : ".");
    if (st.type == SH_FT_DIR && name[strlen(name) - 1] != '/')
        strcat(name, "/");
    if (o->verbose) {
        if (t->verbose_to_err)
            sh_errf(c, "%s\n", name);
        else
            sh_outf(c, "%s\n", name);
    }
    char u[64], g[64];
    fs_owner(c, st.uid, st.gid, false, u, g, sizeof(u));
    if (st.type == SH_FT_REG) {
        struct hp_buf data;
        hp_buf_init(&data, SH_VFS_FILE_MAX);
        long r = sh_vfs_read(c->fs, path, 0, 0, &data);
        if (r < 0) {
            sh_errf(c, "tar: %s: Cannot open: %s\n", arg, sh_strerror((int)r));
            o->status = 2;
        } else if (t->ar.len + data.len + 2048 > AR_OUT_MAX) {
            t->full = true;
        } else {
            tar_put_header(t, name, '0', &st, data.len, "", u, g);
            hp_buf_put(&t->ar, data.data, data.len);
            static const uint8_t zeros[512];
            hp_buf_put(&t->ar, zeros, (512 - data.len % 512) % 512);
        }
        hp_buf_free(&data);
    } else if (st.type == SH_FT_LNK) {
        char target[FS_PATH_MAX] = "";
        sh_vfs_readlink(c->fs, path, target, sizeof(target));
        tar_put_header(t, name, '2', &st, 0, target, u, g);
    } else if (st.type == SH_FT_DIR) {
        tar_put_header(t, name, '5', &st, 0, "", u, g);
        struct fs_names l = { 0 };
        sh_vfs_list(c->fs, path, fs_names_fn, &l);
        for (size_t i = 0; i < l.n && !t->full; i++) {
            char sub[FS_PATH_MAX];
            if (fs_join(sub, arg, l.v[i]) == 0)
                tar_add(c, o, t, base, sub, depth + 1);
        }
        fs_names_free(&l);
    } else {
        char type = st.type == SH_FT_CHR ? '3' : st.type == SH_FT_BLK ? '4' : '6';
        if (st.type == SH_FT_SOCK) {
            sh_errf(c, "tar: %s: socket ignored\n", name);
            return;
        }
        tar_put_header(t, name, type, &st, 0, "", u, g);
    }
}

static int tar_create(struct sh_cmd *c, struct tar_opts *o)
{
    if (o->nops == 0) {
        if (o->bb) {
            sh_errs(c, "tar: empty archive\n");
            return 1;
        }
        sh_errs(c, "tar: Cowardly refusing to create an empty archive\n");
        return tar_try(c);
    }
    bool to_stdout = !o->file || !strcmp(o->file, "-");
    if (to_stdout && c->out_tty && !o->bb) {
        sh_errs(c, "tar: Refusing to write archive contents to terminal (missing -f option?)\n"
                   "tar: Error is not recoverable: exiting now\n");
        return 2;
    }
    if (o->comp == 'j' && !o->bb) {
        sh_errs(c, "tar (child): bzip2: Cannot exec: No such file or directory\n"
                   "tar (child): Error is not recoverable: exiting now\n"
                   "tar: Child returned status 2\ntar: Error is not recoverable: exiting now\n");
        return 2;
    }
    char base[FS_PATH_MAX], dest[FS_PATH_MAX] = "";
    if (fs_abs(c, o->dir ? o->dir : ".", base) < 0 || (!to_stdout && fs_abs(c, o->file, dest) < 0))
        return 2;
    struct tar_out t = { .verbose_to_err = to_stdout };
    hp_buf_init(&t.ar, AR_OUT_MAX + 65536);
    for (int i = 0; i < o->nops; i++)
        tar_add(c, o, &t, base, o->ops[i], 0);
    static const uint8_t zeros[1024];
    hp_buf_put(&t.ar, zeros, 1024);
    size_t rec = 10240;           /* GNU tar's record: 20 blocks */
    while (t.ar.len % rec && hp_buf_ok(&t.ar))
        hp_buf_put(&t.ar, zeros, (rec - t.ar.len % rec) > 1024 ? 1024 : rec - t.ar.len % rec);
    struct hp_buf z;
    hp_buf_init(&z, AR_OUT_MAX + 65536);
    const struct hp_buf *final = &t.ar;
    if (o->comp == 'z' || o->comp == 'J') {
        if (o->comp == 'z')
            gz_deflate(t.ar.data, t.ar.len, NULL, 0, 6, &z);
        else
            xz_store(t.ar.data, t.ar.len, &z);
        final = &z;
    }
    int rc = 0;
    if (t.full) {
        sh_errs(c, o->bb ? "tar: write error: No space left on device\n"
                         : "tar: Error is not recoverable: exiting now\n");
        rc = o->bb ? 1 : 2;
    } else if (to_stdout) {
        sh_out(c, final->data, final->len);
    } else {
        long w = sh_vfs_write(c->fs, dest, final->data, final->len, SH_O_CREAT | SH_O_TRUNC, 0644);
        if (w < 0) {
            if (o->bb)
                sh_errf(c, "tar: can't open '%s': %s\n", o->file, sh_strerror((int)w));
            else
                sh_errf(c, "tar: %s: Cannot open: %s\ntar: Error is not recoverable: exiting now\n", o->file,
                        sh_strerror((int)w));
            rc = o->bb ? 1 : 2;
        }
    }
    hp_buf_free(&z);
    hp_buf_free(&t.ar);
    return rc ? rc : tar_finish(c, o);
}

static int cmd_tar(struct sh_cmd *c)
{
    struct tar_opts *o = calloc(1, sizeof(*o));
    if (!o)
        return 2;
    o->bb = fs_bb(c);
    int rc = tar_parse(c, o);
    if (rc == 0) {
        if (o->several_ops && !o->bb) {
            sh_errs(c, "tar: You may not specify more than one '-Acdtrux', '--delete' or  '--test-label' option\n");
            rc = tar_try(c);
        } else if (!o->op) {
            if (o->bb)
                rc = sys_usage_bb(c, "tar", NULL, "c|x|t [-zJjhvO] [-f TARFILE] [-C DIR] [FILE]...\n\n"
                                                  "Create, extract, or list files from a tar file");
            else {
                sh_errs(c, "tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\n");
                rc = tar_try(c);
            }
        } else {
            rc = o->op == 'c' ? tar_create(c, o) : tar_read(c, o);
        }
    } else if (rc < 0) {
        rc = 0;                   /* --help, --version */
    }
    free(o);
    return rc;
}

/* ==== gzip, gunzip, zcat ==================================================================== */

struct gz_opts {
    bool decompress, to_stdout, force, keep, verbose, quiet, test, bb;
    int level;
    int rc;                       /* gzip: an error (1) wins over a warning (2) */
    const char *prog;             /* name in messages: "gzip" (gunzip and zcat are gzip scripts) */
};

static void gz_warn(struct gz_opts *o) { if (o->rc == 0) o->rc = 2; }

static const char *const gz_suffixes[] = { ".gz", "-gz", ".z", "-z", "_z", ".tgz", ".taz", NULL };

/* The suffix gzip -d strips from name, or NULL. */
static const char *gz_suffix(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; gz_suffixes[i]; i++) {
        size_t k = strlen(gz_suffixes[i]);
        if (n > k && strcasecmp(name + n - k, gz_suffixes[i]) == 0)
            return gz_suffixes[i];
    }
    return NULL;
}

/* The message for a failed inflate of `shown`. */
static void gz_report(struct sh_cmd *c, struct gz_opts *o, const char *shown, enum gz_result g)
{
    static const char *const gnu[] = { "", "not in gzip format", "unexpected end of file",
                                       "invalid compressed data--format violated",
                                       "invalid compressed data--crc error", "No space left on device" };
    if (o->bb)
        sh_errf(c, "%s: %s\n", o->prog, g == GZ_NOT_GZIP ? "invalid magic" : g == GZ_EOF ? "short read"
                                                                              : "corrupted data");
    else
        sh_errf(c, "%s: %s: %s\n", o->prog, shown, gnu[g]);
    o->rc = 1;
}

/* stdin to stdout. */
static void gz_stdin(struct sh_cmd *c, struct gz_opts *o)
{
    if (!o->decompress && c->out_tty && !o->force && !o->test) {
        sh_errf(c, "%s: compressed data not written to a terminal. Use -f to force compression.\n%s", o->prog,
                o->bb ? "" : "For help, type: gzip -h\n");
        o->rc = 1;
        return;
    }
    if (o->decompress && c->in_tty && !o->force) {
        sh_errf(c, "%s: compressed data not read from a terminal. Use -f to force decompression.\n%s", o->prog,
                o->bb ? "" : "For help, type: gzip -h\n");
        o->rc = 1;
        return;
    }
    struct hp_buf out;
    hp_buf_init(&out, AR_OUT_MAX + 65536);
    if (o->decompress) {
        enum gz_result g = gz_inflate(c->in, c->in_len, &out);
        if (g == GZ_NOT_GZIP && o->force && o->to_stdout)
            sh_out(c, c->in, c->in_len);
        else if (g != GZ_OK)
            gz_report(c, o, "stdin", g);
        if (!o->test)
            sh_out(c, out.data, out.len);
    } else if (gz_deflate(c->in, c->in_len, NULL, 0, o->level, &out)) {
        sh_out(c, out.data, out.len);
    }
    hp_buf_free(&out);
}

static void gz_file(struct sh_cmd *c, struct gz_opts *o, const char *arg)
{
    char path[FS_PATH_MAX], shown[FS_PATH_MAX], outp[FS_PATH_MAX], outshown[FS_PATH_MAX];
    struct sh_stat st;
    snprintf(shown, sizeof(shown), "%s", arg);
    int e = fs_abs(c, arg, path);
    if (e == 0)
        e = sh_vfs_stat(c->fs, path, true, &st);
    if (e == -ENOENT && o->decompress && !gz_suffix(arg) && strlen(arg) + 4 < sizeof(shown)) {
        snprintf(shown, sizeof(shown), "%s.gz", arg);
        e = fs_abs(c, shown, path);
        if (e == 0)
            e = sh_vfs_stat(c->fs, path, true, &st);
    }
    if (e < 0) {
        if (o->bb)
            sh_errf(c, "%s: can't open '%s': %s\n", o->prog, arg, sh_strerror(e));
        else
            sh_errf(c, "%s: %s: %s\n", o->prog, shown, sh_strerror(e));
        o->rc = 1;
        return;
    }
    if (st.type == SH_FT_DIR) {
        if (!o->quiet)
            sh_errf(c, o->bb ? "%s: %s: Is a directory\n" : "%s: %s is a directory -- ignored\n", o->prog, shown);
        o->bb ? (void)(o->rc = 1) : gz_warn(o);
        return;
    }
    const char *sfx = gz_suffix(shown);
    if (!o->to_stdout && !o->test) {
        if (o->decompress && !sfx) {
            if (!o->quiet)
                sh_errf(c, o->bb ? "%s: %s: unknown suffix - ignored\n" : "%s: %s: unknown suffix -- ignored\n",
                        o->prog, shown);
            gz_warn(o);
            return;
        }
        if (!o->decompress && sfx && !o->force) {
            if (!o->quiet)
                sh_errf(c, "%s: %s already has %s suffix -- unchanged\n", o->prog, shown, sfx);
            gz_warn(o);
            return;
        }
        if (o->decompress) {
            size_t k = strlen(shown) - strlen(sfx);
            snprintf(outshown, sizeof(outshown), "%.*s%s", (int)k, shown,
                     !strcasecmp(sfx, ".tgz") || !strcasecmp(sfx, ".taz") ? ".tar" : "");
        } else if (snprintf(outshown, sizeof(outshown), "%s.gz", shown) >= (int)sizeof(outshown)) {
            sh_errf(c, "%s: %s: File name too long\n", o->prog, shown);
            o->rc = 1;
            return;
        }
        struct sh_stat ost;
        if (fs_abs(c, outshown, outp) < 0)
            return;
        if (sh_vfs_stat(c->fs, outp, false, &ost) == 0 && !o->force) {
            sh_errf(c, o->bb ? "%s: can't open '%s': File exists\n" : "%s: %s already exists;\tnot overwritten\n",
                    o->prog, outshown);
            o->bb ? (void)(o->rc = 1) : gz_warn(o);
            return;
        }
    }
    struct hp_buf in, out;
    hp_buf_init(&in, SH_VFS_FILE_MAX);
    hp_buf_init(&out, AR_OUT_MAX + 65536);
    long r = sh_vfs_read(c->fs, path, 0, 0, &in);
    bool ok = r >= 0;
    if (!ok) {
        sh_errf(c, "%s: %s: %s\n", o->prog, shown, sh_strerror((int)r));
        o->rc = 1;
    } else if (o->decompress) {
        enum gz_result g = gz_inflate(in.data, in.len, &out);
        if (g == GZ_NOT_GZIP && o->force && o->to_stdout) {
            hp_buf_reset(&out);
            hp_buf_put(&out, in.data, in.len);
        } else if (g != GZ_OK) {
            gz_report(c, o, shown, g);
            ok = false;
        }
    } else {
        ok = gz_deflate(in.data, in.len, fs_base(shown), st.mtime, o->level, &out);
        if (!ok) {
            sh_errf(c, "%s: %s: No space left on device\n", o->prog, shown);
            o->rc = 1;
        }
    }
    if (ok && o->to_stdout) {
        sh_out(c, out.data, out.len);
    } else if (ok && !o->test) {
        long w = sh_vfs_write(c->fs, outp, out.data, out.len, SH_O_CREAT | SH_O_TRUNC, st.mode & 07777);
        if (w < 0) {
            sh_errf(c, o->bb ? "%s: can't open '%s': %s\n" : "%s: %s: %s\n", o->prog, outshown,
                    sh_strerror((int)w));
            o->rc = 1;
        } else {
            sh_vfs_chmod(c->fs, outp, st.mode & 07777);
            sh_vfs_utime(c->fs, outp, st.mtime);
            if (!o->keep)
                sh_vfs_unlink(c->fs, path);
            if (o->verbose && !o->bb) {
                char ratio[16];
                gz_ratio(ratio, sizeof(ratio), o->decompress ? out.len : in.len, o->decompress ? in.len : out.len);
                sh_errf(c, "%s:\t%s -- %s %s\n", shown, ratio, o->keep ? "created" : "replaced with", outshown);
            }
        }
    } else if (ok && o->test && o->verbose && !o->bb) {
        sh_errf(c, "%s:\t OK\n", shown);
    }
    hp_buf_free(&in);
    hp_buf_free(&out);
}

static int gz_main(struct sh_cmd *c, bool decompress, bool to_stdout)
{
    struct gz_opts o = { .decompress = decompress, .to_stdout = to_stdout, .bb = fs_bb(c), .level = 6 };
    o.prog = o.bb ? fs_prog(c) : "gzip";
    static const struct sys_longopt longs[] = {
        { "stdout", 0, 'c' }, { "to-stdout", 0, 'c' }, { "decompress", 0, 'd' }, { "uncompress", 0, 'd' },
        { "force", 0, 'f' }, { "help", 0, 'h' }, { "keep", 0, 'k' }, { "list", 0, 'l' },
        { "no-name", 0, 'n' }, { "name", 0, 'N' }, { "quiet", 0, 'q' }, { "recursive", 0, 'r' },
        { "test", 0, 't' }, { "verbose", 0, 'v' }, { "version", 0, 'V' }, { "fast", 0, '1' },
        { "best", 0, '9' }, { "suffix", 1, 'S' }, { "synchronous", 0, 'y' }, { "rsyncable", 0, 'y' },
        { NULL, 0, 0 },
    };
    struct sys_getopt g;
    sys_getopt_init(&g, c->argc, c->argv, false);
    int opt;
    while ((opt = sys_getopt(&g, o.bb ? "cfkdtqvn123456789" : "cdfhklnNqrtvVS:123456789", o.bb ? NULL : longs)) != -1) {
        switch (opt) {
        case 'c': o.to_stdout = true; break;
        case 'd': o.decompress = true; break;
        case 'f': o.force = true; break;
        case 'k': o.keep = true; break;
        case 'q': o.quiet = true; break;
        case 'v': o.verbose = true; break;
        case 't': o.test = o.decompress = true; break;
        case 'n': case 'N': case 'r': case 'S': case 'y': case 'l': break;
        case 'h':
            sh_outs(c, "Usage: gzip [OPTION]... [FILE]...\nCompress or uncompress FILEs (by default, "
                       "compress FILES in-place).\n");
            return 0;
        case 'V':
            sh_outs(c, "gzip 1.12\nCopyright (C) 2018 Free Software Foundation, Inc.\n"
                       "Copyright (C) 1993 Jean-loup Gailly.\nThis is free software.  You may redistribute "
                       "copies of it under the terms of\nthe GNU General Public License "
                       "<https://www.gnu.org/licenses/gpl.html>.\nThere is NO WARRANTY, to the extent "
                       "permitted by law.\n\nWritten by Jean-loup Gailly.\n");
            return 0;
        default:
            if (opt >= '1' && opt <= '9') {
                o.level = opt - '0';
                break;
            }
            if (o.bb)
                return sys_usage_bb(c, fs_prog(c), &g, "[-cfkdt123456789] [FILE]...");
            sys_getopt_msg(c, "gzip", &g);
            sh_errs(c, "Try `gzip --help' for more information.\n");
            return 1;
        }
    }
    if (g.noperands == 0)
        gz_stdin(c, &o);
    for (int i = 0; i < g.noperands; i++) {
        if (!strcmp(g.operands[i], "-"))
            gz_stdin(c, &o);
        else
            gz_file(c, &o, g.operands[i]);
    }
    return o.rc;
}

static int cmd_gzip(struct sh_cmd *c) { return gz_main(c, false, false); }
static int cmd_gunzip(struct sh_cmd *c) { return gz_main(c, true, false); }
static int cmd_zcat(struct sh_cmd *c) { return gz_main(c, true, true); }

/* ==== bzip2 and xz ========================================================================= */

/* What a compressor was asked (flags of bzip2 and xz are alike enough). */
struct cz_opts {
    bool decompress, to_stdout, force, keep, test, bb;
    int rc;
    const char *prog;             /* argv[0]'s name: both tools print it ("bunzip2:", "unxz:") */
};

static void cz_mode(struct sh_cmd *c, struct cz_opts *o, const char *unz, const char *cat)
{
    const char *a0 = c->argc > 0 ? fs_base(c->argv[0]) : "";
    o->bb = fs_bb(c);
    o->prog = o->bb ? fs_prog(c) : a0;
    if (strstr(a0, unz) || strstr(a0, "lzcat"))
        o->decompress = true;
    if (strstr(a0, cat))
        o->decompress = o->to_stdout = true;
}

/* Flags in any order; operands returned in ops.  -1 to stop with o->rc. */
static int cz_flags(struct sh_cmd *c, struct cz_opts *o, char **ops, int max)
{
    int n = 0;
    bool dd = false;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (dd || a[0] != '-' || !a[1]) {
            if (n < max)
                ops[n++] = c->argv[i];
            continue;
        }
        if (!strcmp(a, "--")) { dd = true; continue; }
        if (!strcmp(a, "--stdout")) { o->to_stdout = true; continue; }
        if (!strcmp(a, "--decompress") || !strcmp(a, "--uncompress")) { o->decompress = true; continue; }
        if (!strcmp(a, "--keep")) { o->keep = true; continue; }
        if (!strcmp(a, "--force")) { o->force = true; continue; }
        if (!strcmp(a, "--test")) { o->test = o->decompress = true; continue; }
        if (!strcmp(a, "--compress")) { o->decompress = false; continue; }
        if (a[1] == '-' && (!strcmp(a, "--quiet") || !strcmp(a, "--verbose") || !strcmp(a, "--small") ||
                            !strcmp(a, "--fast") || !strcmp(a, "--best")))
            continue;
        if (a[1] == '-') {
            sh_errf(c, o->bb ? "%s: unrecognized option '%s'\n" : "%s: Bad flag `%s'\n", o->prog, a);
            o->rc = 1;
            return -1;
        }
        for (const char *p = a + 1; *p; p++) {
            switch (*p) {
            case 'd': o->decompress = true; break;
            case 'z': o->decompress = false; break;
            case 'c': o->to_stdout = true; break;
            case 'k': o->keep = true; break;
            case 'f': o->force = true; break;
            case 't': o->test = o->decompress = true; break;
            case 'q': case 'v': case 's': case 'e': case 'T': case 'M':
                break;
            default:
                if (*p >= '0' && *p <= '9')
                    break;
                sh_errf(c, "%s: invalid option -- '%c'\n", o->prog, *p);
                o->rc = 1;
                return -1;
            }
        }
    }
    return n;
}

static bool cz_ends(const char *s, const char *sfx)
{
    size_t n = strlen(s), k = strlen(sfx);
    return n > k && strcmp(s + n - k, sfx) == 0;
}

static void bz_one(struct sh_cmd *c, struct cz_opts *o, const char *arg)
{
    struct hp_buf in;
    hp_buf_init(&in, SH_VFS_FILE_MAX);
    bool is_stdin = !arg;
    const char *shown = arg ? arg : "(stdin)";
    if (is_stdin) {
        if (o->decompress && c->in_tty && !o->bb) {
            sh_errf(c, "%s: I won't read compressed data from a terminal.\n%s: For help, type: `%s --help'.\n",
                    o->prog, o->prog, o->prog);
            o->rc = 1;
            goto done;
        }
        if (!o->decompress && c->out_tty && !o->bb) {
            sh_errf(c, "%s: I won't write compressed data to a terminal.\n%s: For help, type: `%s --help'.\n",
                    o->prog, o->prog, o->prog);
            o->rc = 1;
            goto done;
        }
        hp_buf_put(&in, c->in, c->in_len);
    } else {
        int e = fs_slurp(c, arg, &in);
        if (e < 0) {
            if (o->bb)
                sh_errf(c, "%s: can't open '%s': %s\n", o->prog, arg, sh_strerror(e));
            else
                sh_errf(c, "%s: Can't open input file %s: %s.\n", o->prog, arg, sh_strerror(e));
            o->rc = 1;
            goto done;
        }
    }
    if (!o->decompress) {
        if (!is_stdin && cz_ends(arg, ".bz2") && !o->force) {
            sh_errf(c, "%s: Input file %s already has .bz2 suffix.\n", o->prog, arg);
            goto done;
        }
        /* no bzip2 encoder in the sensor: bzip2's own out-of-memory failure */
        sh_errf(c, "\n%s: couldn't allocate enough memory\n\tInput file = %s, output file = %s%s\n", o->prog,
                shown, is_stdin || o->to_stdout ? "(stdout)" : arg, is_stdin || o->to_stdout ? "" : ".bz2");
        o->rc = 1;
        goto done;
    }
    if (!is_stdin && !o->to_stdout && !o->test && !cz_ends(arg, ".bz2") && !cz_ends(arg, ".bz") &&
        !cz_ends(arg, ".tbz2") && !cz_ends(arg, ".tbz") && !o->bb)
        sh_errf(c, "%s: Can't guess original name for %s -- using %s.out\n", o->prog, arg, arg);
    if (in.len < 3 || memcmp(in.data, "BZh", 3) != 0) {
        if (o->bb)
            sh_errf(c, "%s: invalid magic\n", o->prog);
        else
            sh_errf(c, "%s: %s is not a bzip2 file.\n", o->prog, shown);
        o->rc = o->bb ? 1 : 2;
        goto done;
    }
    if (o->bb)
        sh_errf(c, "%s: corrupted data\n", o->prog);
    else
        sh_errf(c, "\n%s: Data integrity error when decompressing.\n\tInput file = %s, output file = %s\n\n"
                   "It is possible that the compressed file(s) have become corrupted.\n"
                   "You can use the -tvv option to test integrity of such files.\n\n"
                   "You can use the `bzip2recover' program to attempt to recover\n"
                   "data from undamaged sections of corrupted files.\n\n",
                o->prog, shown, is_stdin || o->to_stdout ? "(stdout)" : shown);
    o->rc = o->bb ? 1 : 2;
done:
    hp_buf_free(&in);
}

static int cmd_bzip2(struct sh_cmd *c)
{
    struct cz_opts o = { 0 };
    cz_mode(c, &o, "bunzip2", "bzcat");
    char *ops[SYS_OPERANDS_MAX];
    int n = cz_flags(c, &o, ops, SYS_OPERANDS_MAX);
    if (n < 0)
        return o.rc;
    if (n == 0)
        bz_one(c, &o, NULL);
    for (int i = 0; i < n; i++)
        bz_one(c, &o, strcmp(ops[i], "-") ? ops[i] : NULL);
    return o.rc;
}

static void xz_one(struct sh_cmd *c, struct cz_opts *o, const char *arg)
{
    struct hp_buf in, out;
    hp_buf_init(&in, SH_VFS_FILE_MAX);
    hp_buf_init(&out, AR_OUT_MAX + 65536);
    bool is_stdin = !arg;
    const char *shown = arg ? arg : "(stdin)";
    char path[FS_PATH_MAX], outp[FS_PATH_MAX], outshown[FS_PATH_MAX];
    struct sh_stat st = { .mode = 0644 };
    if (is_stdin) {
        if (c->in_tty && o->decompress && !o->bb) {
            sh_errf(c, "%s: Compressed data cannot be read from a terminal\n", o->prog);
            o->rc = 1;
            goto done;
        }
        if (c->out_tty && !o->decompress && !o->bb) {
            sh_errf(c, "%s: Compressed data cannot be written to a terminal\n", o->prog);
            o->rc = 1;
            goto done;
        }
        hp_buf_put(&in, c->in, c->in_len);
    } else {
        int e = fs_abs(c, arg, path);
        if (e == 0)
            e = sh_vfs_stat(c->fs, path, true, &st);
        if (e == 0 && st.type == SH_FT_DIR) {
            sh_errf(c, o->bb ? "%s: can't open '%s': Is a directory\n" : "%s: %s: Is a directory, skipping\n",
                    o->prog, arg);
            o->rc = o->bb ? 1 : (o->rc ? o->rc : 2);
            goto done;
        }
        if (e == 0) {
            long r = sh_vfs_read(c->fs, path, 0, 0, &in);
            e = r < 0 ? (int)r : 0;
        }
        if (e < 0) {
            sh_errf(c, o->bb ? "%s: can't open '%s': %s\n" : "%s: %s: %s\n", o->prog, arg, sh_strerror(e));
            o->rc = 1;
            goto done;
        }
    }
    bool to_file = !is_stdin && !o->to_stdout && !o->test;
    if (to_file) {
        size_t n = strlen(arg);
        if (o->decompress) {
            size_t k = cz_ends(arg, ".xz") ? 3 : cz_ends(arg, ".lzma") ? 5 : cz_ends(arg, ".txz") ? 4 : 0;
            if (!k) {
                sh_errf(c, o->bb ? "%s: can't open '%s': unknown suffix\n"
                                 : "%s: %s: Filename has an unknown suffix, skipping\n", o->prog, arg);
                o->rc = o->bb ? 1 : (o->rc ? o->rc : 2);
                goto done;
            }
            snprintf(outshown, sizeof(outshown), "%.*s%s", (int)(n - k), arg, k == 4 ? ".tar" : "");
        } else {
            if (cz_ends(arg, ".xz") && !o->force) {
                sh_errf(c, "%s: %s: File already has `.xz' suffix, skipping\n", o->prog, arg);
                o->rc = o->rc ? o->rc : 2;
                goto done;
            }
            snprintf(outshown, sizeof(outshown), "%.*s.xz", (int)(sizeof(outshown) - 4), arg);
        }
        struct sh_stat ost;
        if (fs_abs(c, outshown, outp) < 0)
            goto done;
        if (sh_vfs_stat(c->fs, outp, false, &ost) == 0 && !o->force) {
            sh_errf(c, "%s: %s: File exists\n", o->prog, outshown);
            o->rc = 1;
            goto done;
        }
    }
    if (o->decompress) {
        int r = xz_unstore(in.data, in.len, &out);
        if (r) {
            if (o->bb)
                sh_errf(c, "%s: %s\n", o->prog, r == 1 ? "invalid magic" : "corrupted data");
            else
                sh_errf(c, "%s: %s: %s\n", o->prog, shown,
                        r == 1 ? "File format not recognized" : "Compressed data is corrupt");
            o->rc = 1;
            goto done;
        }
    } else if (!xz_store(in.data, in.len, &out)) {
        sh_errf(c, "%s: %s: Cannot allocate memory\n", o->prog, shown);
        o->rc = 1;
        goto done;
    }
    if (o->test)
        goto done;
    if (!to_file) {
        sh_out(c, out.data, out.len);
        goto done;
    }
    long w = sh_vfs_write(c->fs, outp, out.data, out.len, SH_O_CREAT | SH_O_TRUNC, st.mode & 07777);
    if (w < 0) {
        sh_errf(c, "%s: %s: %s\n", o->prog, outshown, sh_strerror((int)w));
        o->rc = 1;
        goto done;
    }
    sh_vfs_utime(c->fs, outp, st.mtime);
    if (!o->keep)
        sh_vfs_unlink(c->fs, path);
done:
    hp_buf_free(&in);
    hp_buf_free(&out);
}

static int cmd_xz(struct sh_cmd *c)
{
    struct cz_opts o = { 0 };
    cz_mode(c, &o, "unxz", "xzcat");
    char *ops[SYS_OPERANDS_MAX];
    int n = cz_flags(c, &o, ops, SYS_OPERANDS_MAX);
    if (n < 0)
        return o.rc;
    if (n == 0)
        xz_one(c, &o, NULL);
    for (int i = 0; i < n; i++)
        xz_one(c, &o, strcmp(ops[i], "-") ? ops[i] : NULL);
    return o.rc;
}

const struct sh_cmd_def sh_cmds_archive[] = {
    { "tar", cmd_tar, false },
    { "gzip", cmd_gzip, false },
    { "gunzip", cmd_gunzip, false },
    { "zcat", cmd_zcat, false },
    { "uncompress", cmd_gunzip, false },
    { "bzip2", cmd_bzip2, false },
    { "bunzip2", cmd_bzip2, false },
    { "bzcat", cmd_bzip2, false },
    { "xz", cmd_xz, false },
    { "unxz", cmd_xz, false },
    { "xzcat", cmd_xz, false },
    { "lzcat", cmd_xz, false },
    { NULL, NULL, false },
};
