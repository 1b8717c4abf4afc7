/*
 * sshproxy_sftp.c - SFTP uploads seen on a proxied channel.  See sshproxy_sftp.h.
 *
 * Each direction is cut into packets (uint32 length, type, request id) in
 * its own bounded buffer and read through hp_rd; every length comes from
 * the peer, so nothing is trusted: a packet over SFTPTAP_PKT_MAX or one that
 * does not parse turns the tap off for the rest of the channel (the relay
 * itself is not affected).  Files are kept in memory up to the per-file cap,
 * written at the offsets the client gives (holes are zeros, as on disk).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "event.h"
#include "reader.h"
#include "util.h"
#include "../capture/upload.h"
#include "sshfile.h"
#include "sshproxy_sftp.h"

#define SFTPTAP_PKT_MAX     (512u * 1024)  /* OpenSSH's sftp-server refuses more than 256 KiB */
#define SFTPTAP_FILES       16
#define SFTPTAP_PENDING     16
#define SFTPTAP_NAME_MAX    4096
#define SFTPTAP_HANDLE_MAX  256

enum {
    FXP_OPEN = 3, FXP_CLOSE = 4, FXP_WRITE = 6,
    FXP_STATUS = 101, FXP_HANDLE = 102,
    FXF_WRITE = 0x02,
};

struct tap_file {
    bool used;
    uint8_t handle[SFTPTAP_HANDLE_MAX];
    size_t handle_len;
    char *name;
    size_t name_len;
    uint8_t *data;
    size_t len, cap;                  /* cap grows up to max_file */
    uint64_t size;                    /* highest offset written, kept or not */
};

struct tap_pending {
    bool used;
    uint32_t id;
    char *name;
    size_t name_len;
};

struct hp_sftptap {
    const struct hp_evctx *ctx;
    char *data_dir;
    bool off;
    struct hp_buf dir[2];             /* 0: client -> server, 1: server -> client */
    struct tap_file files[SFTPTAP_FILES];
    struct tap_pending pending[SFTPTAP_PENDING];
    size_t max_file;
    uint64_t total_kept, max_total;
};

struct hp_sftptap *hp_sftptap_new(const struct hp_evctx *ctx, const char *data_dir)
{
    struct hp_sftptap *t = hp_xcalloc(1, sizeof(*t));
    t->ctx = ctx;
    t->data_dir = data_dir ? hp_xstrdup(data_dir) : NULL;
    t->max_file = HP_SSHFILE_MAX_FILE_DEFAULT;
    t->max_total = HP_SSHFILE_MAX_TOTAL_DEFAULT;
    hp_buf_init(&t->dir[0], SFTPTAP_PKT_MAX + 4);
    hp_buf_init(&t->dir[1], SFTPTAP_PKT_MAX + 4);
    return t;
}

static void file_record(struct hp_sftptap *t, struct tap_file *f)
{
    struct hp_upload_info u = {
        .data_dir = t->data_dir,
        .filename = f->name,
        .filename_len = f->name_len,
        .detail = "sftp",
        .size = f->size,
    };
    hp_upload_record(t->ctx, &u, f->data ? f->data : (const uint8_t *)"", f->len, NULL);
    free(f->name);
    free(f->data);
    memset(f, 0, sizeof(*f));
}

static struct tap_file *file_find(struct hp_sftptap *t, const uint8_t *h, size_t hlen)
{
    for (int i = 0; i < SFTPTAP_FILES; i++)
        if (t->files[i].used && t->files[i].handle_len == hlen && memcmp(t->files[i].handle, h, hlen) == 0)
            return &t->files[i];
    return NULL;
}

static void file_write(struct hp_sftptap *t, struct tap_file *f, uint64_t off, const uint8_t *p, size_t n)
{
    if (off > UINT64_MAX - n)
        return;
    if (off + n > f->size)
        f->size = off + n;
    if (off >= t->max_file || n == 0)
        return;
    size_t keep = n;
    if (off + keep > t->max_file)
        keep = t->max_file - (size_t)off;
    size_t end = (size_t)off + keep;
    if (end > f->len) {
        uint64_t grow = end - f->len;
        if (t->total_kept + grow > t->max_total)
            return;                   /* the channel's cap: counted in size, not kept */
        if (end > f->cap) {
            size_t cap = f->cap ? f->cap : 64 * 1024;
            while (cap < end)
                cap *= 2;
            if (cap > t->max_file)
                cap = t->max_file;
            uint8_t *nd = realloc(f->data, cap);
            if (!nd)
                return;
            f->data = nd;
            f->cap = cap;
        }
        memset(f->data + f->len, 0, end - f->len);
        t->total_kept += grow;
        f->len = end;
    }
    memcpy(f->data + off, p, keep);
}

static char *dup_bytes(const uint8_t *p, size_t n)
{
    char *s = hp_xcalloc(n + 1, 1);
    memcpy(s, p, n);
    return s;
}

/* One client packet (after its length). false: malformed. */
static bool client_packet(struct hp_sftptap *t, struct hp_rd *rd)
{
    uint8_t type = hp_rd_u8(rd);
    if (type != FXP_OPEN && type != FXP_WRITE && type != FXP_CLOSE)
        return hp_rd_ok(rd);
    uint32_t id = hp_rd_u32be(rd);
    struct hp_rd s;
    if (!hp_rd_sub32be(rd, &s))
        return false;
    if (type == FXP_OPEN) {
        uint32_t flags = hp_rd_u32be(rd);
        if (!hp_rd_ok(rd))
            return false;
        if (!(flags & FXF_WRITE) || hp_rd_left(&s) > SFTPTAP_NAME_MAX)
            return true;
        for (int i = 0; i < SFTPTAP_PENDING; i++) {
            struct tap_pending *pd = &t->pending[i];
            if (!pd->used) {
                pd->used = true;
                pd->id = id;
                pd->name_len = hp_rd_left(&s);
                pd->name = dup_bytes(hp_rd_ptr(&s), pd->name_len);
                return true;
            }
        }
        return true;                  /* too many at once: this one is not captured */
    }
    struct tap_file *f = file_find(t, hp_rd_ptr(&s), hp_rd_left(&s));
    if (type == FXP_CLOSE) {
        if (f)
            file_record(t, f);
        return true;
    }
    uint64_t off = hp_rd_u64be(rd);
    struct hp_rd d;
    if (!hp_rd_sub32be(rd, &d))
        return false;
    if (f)
        file_write(t, f, off, hp_rd_ptr(&d), hp_rd_left(&d));
    return true;
}

/* One server packet: HANDLE binds a pending OPEN; STATUS refuses it. */
static bool server_packet(struct hp_sftptap *t, struct hp_rd *rd)
{
    uint8_t type = hp_rd_u8(rd);
    if (type != FXP_HANDLE && type != FXP_STATUS)
        return hp_rd_ok(rd);
    uint32_t id = hp_rd_u32be(rd);
    if (!hp_rd_ok(rd))
        return false;
    struct tap_pending *pd = NULL;
    for (int i = 0; i < SFTPTAP_PENDING && !pd; i++)
        if (t->pending[i].used && t->pending[i].id == id)
            pd = &t->pending[i];
    if (!pd)
        return true;
    struct hp_rd h;
    if (type == FXP_HANDLE && hp_rd_sub32be(rd, &h) && hp_rd_left(&h) <= SFTPTAP_HANDLE_MAX &&
        !file_find(t, hp_rd_ptr(&h), hp_rd_left(&h))) {
        for (int i = 0; i < SFTPTAP_FILES; i++) {
            struct tap_file *f = &t->files[i];
            if (f->used)
                continue;
            f->used = true;
            f->handle_len = hp_rd_left(&h);
            memcpy(f->handle, hp_rd_ptr(&h), f->handle_len);
            f->name = pd->name;
            f->name_len = pd->name_len;
            pd->name = NULL;
            break;
        }
    }
    free(pd->name);
    memset(pd, 0, sizeof(*pd));
    return true;
}

static void feed(struct hp_sftptap *t, int which, const uint8_t *p, size_t n)
{
    struct hp_buf *b = &t->dir[which];
    while (!t->off && n > 0) {
        size_t room = b->cap - b->len;
        size_t take = n < room ? n : room;
        hp_buf_put(b, p, take);
        p += take;
        n -= take;
        size_t used = 0;
        for (;;) {
            struct hp_rd rd, pkt;
            hp_rd_init(&rd, b->data + used, b->len - used);
            if (hp_rd_left(&rd) < 4)
                break;
            uint32_t plen = hp_rd_u32be(&rd);
            if (plen == 0 || plen > SFTPTAP_PKT_MAX) {
                t->off = true;
                return;
            }
            if (!hp_rd_sub(&rd, plen, &pkt))
                break;                /* incomplete */
            bool ok = which == 0 ? client_packet(t, &pkt) : server_packet(t, &pkt);
            if (!ok) {
                t->off = true;
                return;
            }
            used += 4 + (size_t)plen;
        }
        hp_buf_consume(b, used);
        if (take == 0 && used == 0) {
            t->off = true;            /* cannot happen with cap > PKT_MAX; be safe */
            return;
        }
    }
}

void hp_sftptap_client(struct hp_sftptap *t, const void *data, size_t len)
{
    if (t)
        feed(t, 0, data, len);
}

void hp_sftptap_server(struct hp_sftptap *t, const void *data, size_t len)
{
    if (t)
        feed(t, 1, data, len);
}

void hp_sftptap_free(struct hp_sftptap *t)
{
    if (!t)
        return;
    for (int i = 0; i < SFTPTAP_FILES; i++)
        if (t->files[i].used)
            file_record(t, &t->files[i]);   /* a client that vanished mid-upload */
    for (int i = 0; i < SFTPTAP_PENDING; i++)
        free(t->pending[i].name);
    hp_buf_free(&t->dir[0]);
    hp_buf_free(&t->dir[1]);
    free(t->data_dir);
    free(t);
}
