/*
 * adb.c - Android Debug Bridge over TCP (adbd on 5555, no authentication),
 * the way exposed Android TV boxes answer it.
 *
 * Connection.  The client's CNXN ("host::features=...") is answered with a
 * CNXN carrying the device banner of this sensor's device personality
 * (adb.h: one of several real TV boxes, drawn once and kept in the identity
 * file as adb_device).  Version and max payload are the minimum of the
 * client's and the device's, as adbd negotiates them; below version
 * 0x01000001 every message carries (and must carry) the byte-sum checksum.
 * No AUTH is ever asked: most devices found on the Internet have none.
 * A header with a wrong magic, an oversized length or a bad checksum ends
 * the connection, as adbd does; messages other than CNXN before the
 * handshake are ignored.
 *
 * Streams.  OPEN names a service; the device answers OKAY (its local id,
 * the client's id) or CLSE for a service it refuses.  Our output to a
 * stream goes out as WRTE messages of at most max payload bytes, one at a
 * time: the next one waits for the client's OKAY (adb's classic flow
 * control).  Each WRTE the client sends is acknowledged with OKAY at once.
 * At most ADB_STREAMS_MAX streams are open together and ADB_OPENS_MAX are
 * opened per connection.
 *
 * Services.
 *   shell:CMD, exec:CMD, shell,v2,...:CMD  one command line through the
 *       emulated shell (shell.h), output back, then CLSE (v2: with the exit
 *       packet carrying the status first).
 *   shell:, shell,v2,pty:  an interactive shell on a pty; raw without a
 *       command reads stdin as a script (adb shell < file).
 *   sync:  push/pull/ls/stat: SEND stores the file (hp_upload_record,
 *       detail "adb", capped at max_file) and writes it into the source's
 *       fake file tree (see vfs.h) so a later `chmod 755 x; ./x` finds it;
 *       STAT/STA2/LST2/LIST/LIS2 answer from that file system; RECV sends
 *       a file that exists in it.
 *   reboot:, usb:, tcpip:  answered, then the connection drops as the
 *       device restarts; root:, unroot:, remount:, disable-verity:
 *       answered with adbd's messages.  Port forwarding (tcp:, local*:),
 *       reverse:, jdwp, framebuffer: and abb: are refused with CLSE:
 *       nothing ever connects anywhere.
 *
 * The shell is the busybox personality (there is no Android image), named
 * "localhost" like Android's kernel; the sensor writes /system/bin/getprop
 * (a small script answering from the device personality) and /data/local/tmp
 * into the source's file system overlay before the first shell or sync.
 *
 * Shells may outlive their stream for a moment (a line suspended on a
 * download): they are reached through a small link cleared when the stream
 * closes, and freed outside their own callbacks (reap()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "adb.h"
#include "buf.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "identity.h"
#include "proto.h"
#include "util.h"
#include "../capture/upload.h"
#include "../shell/persona.h"
#include "../shell/shell.h"
#include "../shell/vfs.h"

#define ADB_STREAMS_MAX 8
#define ADB_OPENS_MAX 256
#define ADB_CNXN_MAX 8
#define ADB_OUT_MAX (1024u * 1024u)      /* pending output per stream; more is dropped */
#define ADB_OUT_SLACK (256u * 1024u)     /* written output kept at the front of out before it is dropped */
#define ADB_SYNC_EVENTS_MAX 32           /* adb.sync events per stream */
#define ADB_DEAD_MAX 16
#define ADB_FILE_MAX_DEFAULT (16u << 20)
#define ADB_RECV_MAX (960u << 10)       /* a pulled file must fit the stream's output cap */
#define ADB_PATH_MAX 1024

struct adb_conf {
    const struct hp_adb_device *dev;
    char *personality;
    char *hostname;
    bool root;                    /* adbd runs as root (userdebug TV box firmware) */
    bool getprop;
    uint64_t max_file;
    char *data_dir;
};

struct adb_sess;

struct adb_shlink {
    struct adb_stream *st;        /* NULL once the stream is gone */
    struct hp_shell *sh;
};

struct adb_stream {
    struct adb_sess *s;
    uint32_t local, remote;       /* local 0: slot free */
    enum hp_adb_svc_kind kind;
    bool v2;
    bool inflight;                /* a WRTE waits for its OKAY */
    bool close_after;             /* CLSE once the output is written */
    struct adb_shlink *link;
    struct hp_buf in;             /* reassembly of the stream's bytes (sync, v2 packets) */
    struct hp_buf out;
    size_t out_sent;              /* bytes at the front of out already written */
    uint64_t dropped;
    /* sync */
    bool sending;
    char *send_path;
    unsigned send_mode;
    struct hp_buf file;
    uint64_t file_size;
    unsigned sync_events;
};

struct adb_sess {
    struct hp_conn *c;
    const struct adb_conf *cf;
    bool online;
    bool closed;
    unsigned cnxns, opens;
    uint32_t version, max_payload;
    struct adb_stream st[ADB_STREAMS_MAX];
    struct adb_shlink *dead[ADB_DEAD_MAX];
    size_t ndead;
    struct sh_vfs *fs;
    bool fs_ready;
};

/* adbd numbers its sockets from 1 for the life of the daemon. */
static uint32_t adb_next_id;

/* ---- configuration -------------------------------------------------------------------- */

static void adb_unconfigure(struct hp_service_cfg *svc)
{
    struct adb_conf *ac = svc->proto_conf;
    if (ac) {
        free(ac->personality);
        free(ac->hostname);
        free(ac->data_dir);
    }
    free(ac);
    svc->proto_conf = NULL;
}

static int adb_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct adb_conf *ac = hp_xcalloc(1, sizeof(*ac));
    ac->personality = hp_xstrdup("busybox");
    ac->root = true;
    ac->getprop = true;
    ac->max_file = ADB_FILE_MAX_DEFAULT;
    svc->proto_conf = ac;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        int bad = 0, b;
        if (strcmp(kv->key, "device") == 0) {
            ac->dev = hp_adb_device_find(kv->value);
            bad = !ac->dev;
        } else if (strcmp(kv->key, "personality") == 0) {
            bad = !hp_persona_get(kv->value);
            free(ac->personality);
            ac->personality = hp_xstrdup(kv->value);
        } else if (strcmp(kv->key, "hostname") == 0) {
            bad = kv->value[0] == '\0' || strlen(kv->value) > 63 || strpbrk(kv->value, " /\t\\") != NULL;
            free(ac->hostname);
            ac->hostname = hp_xstrdup(kv->value);
        } else if (strcmp(kv->key, "root") == 0) {
            bad = hp_parse_bool(kv->value, &b);
            ac->root = !bad && b;
        } else if (strcmp(kv->key, "getprop") == 0) {
            bad = hp_parse_bool(kv->value, &b);
            ac->getprop = !bad && b;
        } else if (strcmp(kv->key, "max_file") == 0) {
            bad = hp_parse_size(kv->value, &ac->max_file) || ac->max_file < 1024 || ac->max_file > (256u << 20);
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol adb)", kv->line, kv->key,
                     svc->name);
            adb_unconfigure(svc);
            return -1;
        }
        if (bad) {
            snprintf(err, errlen, "%d: [service %s]: bad value for %s: '%s'", kv->line, svc->name, kv->key,
                     kv->value);
            adb_unconfigure(svc);
            return -1;
        }
    }
    return 0;
}

/* The sensor's device: kept in the identity file, drawn on first start. */
static const struct hp_adb_device *adb_identity_device(void)
{
    const struct hp_adb_device *d = hp_adb_device_find(hp_identity_get("adb_device"));
    if (d)
        return d;
    size_t n;
    const struct hp_adb_device *all = hp_adb_devices(&n);
    d = &all[hp_random_u64() % n];
    hp_identity_set("adb_device", d->name);
    return d;
}

static int adb_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct adb_conf *ac = svc->proto_conf;
    const struct hp_adb_device *d = adb_identity_device();
    if (!ac->dev)
        ac->dev = d;
    free(ac->data_dir);
    ac->data_dir = hp_xstrdup(cfg->data_dir);
    hp_persona_get(ac->personality);  /* drawn now: the identity file shows it from the start */
    sh_vfs_configure(cfg->shell_persist_ms / 1000, cfg->shell_source_bytes, cfg->shell_total_bytes);
    if (!adb_next_id)
        adb_next_id = 1 + (uint32_t)(hp_random_u64() % 4000);
    return 0;
}

/* ---- messages out --------------------------------------------------------------------- */

static void send_msg(struct adb_sess *s, uint32_t cmd, uint32_t a0, uint32_t a1, const void *data, size_t len)
{
    struct hp_buf b;
    hp_buf_init(&b, HP_ADB_HDR_LEN + len + 16);
    hp_adb_msg_build(&b, cmd, a0, a1, data, len, s->version < HP_ADB_VERSION_SKIP);
    hp_conn_send(s->c, b.data, b.len);
    hp_buf_free(&b);
}

/* ---- shells, freed outside their callbacks ---------------------------------------------- */

static void reap(struct adb_sess *s)
{
    while (s->ndead > 0) {
        struct adb_shlink *l = s->dead[--s->ndead];
        hp_shell_free(l->sh);
        free(l);
    }
}

static void bury(struct adb_sess *s, struct adb_shlink *l)
{
    l->st = NULL;
    if (s->ndead == ADB_DEAD_MAX)   /* cannot happen with ADB_STREAMS_MAX streams; leak rather than free in use */
        return;
    s->dead[s->ndead++] = l;
}

/* ---- streams ------------------------------------------------------------------------------ */

static struct adb_stream *stream_find(struct adb_sess *s, uint32_t local)
{
    for (size_t i = 0; local && i < ADB_STREAMS_MAX; i++)
        if (s->st[i].local == local)
            return &s->st[i];
    return NULL;
}

static void sync_finish_send(struct adb_stream *st, bool complete);

/* Forget a stream (after sending CLSE if we close it). */
static void stream_close(struct adb_stream *st, bool send_clse)
{
    struct adb_sess *s = st->s;
    if (!st->local)
        return;
    if (send_clse && !s->closed)
        send_msg(s, HP_ADB_CLSE, st->local, st->remote, NULL, 0);
    if (st->sending)
        sync_finish_send(st, false);
    struct adb_shlink *l = st->link;
    hp_buf_free(&st->in);
    hp_buf_free(&st->out);
    hp_buf_free(&st->file);
    free(st->send_path);
    memset(st, 0, sizeof(*st));
    if (l)
        bury(s, l);
}

/* n more bytes of out were written.  They leave the buffer when all of it
 * is written, or once they are many or most of it: moving the rest to the
 * front after every WRTE (256 bytes, if the client asks for that) copied up
 * to a megabyte per 24-byte OKAY. */
static void out_written(struct adb_stream *st, size_t n)
{
    st->out_sent += n;
    if (st->out_sent == st->out.len) {
        hp_buf_reset(&st->out);
        st->out_sent = 0;
    } else if (st->out_sent >= ADB_OUT_SLACK || st->out_sent * 2 >= st->out.len) {
        hp_buf_consume(&st->out, st->out_sent);
        st->out_sent = 0;
    }
}

/* Write what is pending, one WRTE per OKAY; CLSE when done and asked to. */
static void pump(struct adb_stream *st)
{
    struct adb_sess *s = st->s;
    if (!st->local || s->closed)
        return;
    size_t left = st->out.len - st->out_sent;
    if (!st->inflight && left > 0) {
        size_t n = left < s->max_payload ? left : s->max_payload;
        send_msg(s, HP_ADB_WRTE, st->local, st->remote, st->out.data + st->out_sent, n);
        out_written(st, n);
        st->inflight = true;
    }
    if (!st->inflight && st->out.len == 0 && st->close_after)
        stream_close(st, true);
}

static bool out_room(struct adb_stream *st, size_t n)
{
    if (st->out.len - st->out_sent + n <= ADB_OUT_MAX)
        return true;
    st->dropped += n;
    return false;
}

/* Bytes of the service to the client: raw, or as a v2 packet of type id. */
static void stream_out(struct adb_stream *st, uint8_t id, const void *p, size_t n)
{
    if (!st->local)
        return;
    if (st->v2) {
        const uint8_t *b = p;
        while (n > 0 || id == HP_ADB_SH_EXIT) {
            size_t k = n < 16384 ? n : 16384;
            if (out_room(st, k + 5))
                hp_adb_sh2_build(&st->out, id, b, k);
            b += k;
            n -= k;
            if (id == HP_ADB_SH_EXIT)
                break;
        }
    } else if (out_room(st, n)) {
        hp_buf_put(&st->out, p, n);
    }
    pump(st);
}

static void stream_outs(struct adb_stream *st, const char *text)
{
    stream_out(st, HP_ADB_SH_STDOUT, text, strlen(text));
}

static struct adb_stream *stream_new(struct adb_sess *s, uint32_t remote, const struct hp_adb_service *sv)
{
    for (size_t i = 0; i < ADB_STREAMS_MAX; i++) {
        struct adb_stream *st = &s->st[i];
        if (st->local)
            continue;
        memset(st, 0, sizeof(*st));
        st->s = s;
        st->local = adb_next_id++;
        if (!st->local)
            st->local = adb_next_id++;
        st->remote = remote;
        st->kind = sv->kind;
        st->v2 = sv->v2;
        hp_buf_init(&st->in, HP_ADB_PAYLOAD_MAX + HP_ADB_SH_PACKET_MAX + 64);
        hp_buf_init(&st->out, ADB_OUT_MAX + ADB_OUT_SLACK + 64);
        return st;
    }
    return NULL;
}

/* Feed stream bytes to a unit parser (sync, v2 packets).  The pending
 * bytes are taken out of the stream first: the parser may close the
 * stream (which frees its buffers) in the middle.  What it leaves goes
 * back as the same buffer, less only the units it used: copying the rest
 * into a new one made every WRTE cost all that was pending (a 256 KiB v2
 * packet, or up to the buffer's cap on a sync stream that failed or got
 * QUIT and waits for its last OKAY) - quadratic in one-byte WRTEs. */
typedef void (*adb_units_fn)(struct adb_stream *st, struct hp_rd *r);

static void stream_feed(struct adb_stream *st, const uint8_t *p, size_t n, adb_units_fn fn)
{
    uint32_t local = st->local;
    struct hp_buf work = st->in;
    hp_buf_init(&st->in, work.cap);
    if (!hp_buf_put(&work, p, n)) {
        hp_buf_free(&work);
        stream_close(st, true);
        return;
    }
    struct hp_rd r;
    hp_rd_init(&r, work.data, work.len);
    fn(st, &r);
    if (st->local != local || hp_rd_left(&r) == 0) {
        hp_buf_free(&work);
        return;
    }
    hp_buf_consume(&work, hp_rd_pos(&r));
    hp_buf_free(&st->in);
    st->in = work;
}

/* ---- the device's file system ----------------------------------------------------------- */

/* /system/bin/getprop as a script answering from the device personality. */
static void getprop_script(const struct hp_adb_device *d, struct hp_buf *out)
{
    struct hp_buf all;
    hp_buf_init(&all, 64 * 1024);
    hp_adb_getprop(d, NULL, &all);
    hp_buf_puts(out, "#!/system/bin/sh\ncase \"$1\" in\n\"\") cat <<'EOP'\n");
    hp_buf_put(out, all.data, all.len);
    hp_buf_puts(out, "EOP\n;;\n");
    const char *line = hp_buf_cstr(&all);
    while (line && *line == '[') {
        const char *ke = strstr(line, "]: [");
        const char *nl = strchr(line, '\n');
        if (!ke || !nl)
            break;
        hp_buf_printf(out, "%.*s) echo '%.*s' ;;\n", (int)(ke - line - 1), line + 1, (int)(nl - ke - 5), ke + 4);
        line = nl + 1;
    }
    hp_buf_puts(out, "*) echo ;;\nesac\n");
    hp_buf_free(&all);
}

static void mkdirs(struct sh_vfs *fs, const char *path, unsigned mode)
{
    char p[ADB_PATH_MAX];
    snprintf(p, sizeof(p), "%s", path);
    for (char *q = p + 1; *q; q++)
        if (*q == '/') {
            *q = '\0';
            sh_vfs_mkdir(fs, p, 0755);
            *q = '/';
        }
    sh_vfs_mkdir(fs, p, mode);
}

/* The source's view of the device, with Android's paths added once. */
static struct sh_vfs *adb_fs(struct adb_sess *s)
{
    if (!s->fs) {
        const struct hp_persona *pe = hp_persona_get(s->cf->personality);
        struct sh_vfs_params vp = { .persona = pe, .source = s->c->ctx.src_ip, .uid = 0, .gid = 0 };
        s->fs = pe ? sh_vfs_open(&vp) : NULL;
    }
    if (!s->fs || s->fs_ready)
        return s->fs;
    s->fs_ready = true;
    /* Android's writable /data lives on the image's tmpfs (/var), its
     * read-only /system beside the image's own root */
    struct sh_stat st;
    if (sh_vfs_stat(s->fs, "/data", false, &st) != 0) {
        mkdirs(s->fs, "/var/data/local/tmp", 0771);
        mkdirs(s->fs, "/var/data/media/0", 0770);
        sh_vfs_symlink_system(s->fs, "/var/data", "/data");
        sh_vfs_symlink_system(s->fs, "/data/media/0", "/sdcard");
    }
    if (sh_vfs_stat(s->fs, "/system/bin", false, &st) != 0) {
        sh_vfs_mkdir_system(s->fs, "/system", 0755);
        sh_vfs_mkdir_system(s->fs, "/system/bin", 0755);
        sh_vfs_symlink_system(s->fs, "/bin/busybox", "/system/bin/sh");
    }
    if (s->cf->getprop && sh_vfs_stat(s->fs, "/system/bin/getprop", false, &st) != 0) {
        struct hp_buf b;
        hp_buf_init(&b, 64 * 1024);
        getprop_script(s->cf->dev, &b);
        sh_vfs_write(s->fs, "/system/bin/getprop", b.data, b.len, SH_O_CREAT | SH_O_TRUNC | SH_O_SYSTEM, 0755);
        sh_vfs_symlink_system(s->fs, "/system/bin/getprop", "/sbin/getprop");
        hp_buf_free(&b);
    }
    return s->fs;
}

/* ---- shell services -------------------------------------------------------------------- */

static void term_write(void *io, const void *p, size_t n)
{
    struct adb_shlink *l = io;
    if (l->st)
        stream_out(l->st, HP_ADB_SH_STDOUT, p, n);
}

static void term_exit(void *io, int status)
{
    struct adb_shlink *l = io;
    struct adb_stream *st = l->st;
    if (!st)
        return;
    if (st->v2) {
        uint8_t b = (uint8_t)status;
        stream_out(st, HP_ADB_SH_EXIT, &b, 1);
    }
    st->close_after = true;
    pump(st);                     /* may close the stream: nothing after this */
}

static void shell_start(struct adb_stream *st, const struct hp_adb_service *sv)
{
    struct adb_sess *s = st->s;
    const struct adb_conf *cf = s->cf;
    bool has_cmd = sv->arg_len > 0;
    bool pty = sv->kind == HP_ADB_SVC_SHELL &&
               (sv->pty == HP_ADB_PTY_PTY || (sv->pty == HP_ADB_PTY_AUTO && !has_cmd));
    char term[64] = "";
    if (sv->term)
        snprintf(term, sizeof(term), "%.*s", (int)(sv->term_len < 63 ? sv->term_len : 63), (const char *)sv->term);
    for (char *q = term; *q; q++)
        if ((unsigned char)*q < 0x21 || (unsigned char)*q > 0x7e)
            *q = '?';
    adb_fs(s);
    struct adb_shlink *l = hp_xcalloc(1, sizeof(*l));
    l->st = st;
    st->link = l;
    struct hp_shell_params p = {
        .ctx = &s->c->ctx,
        .username = cf->root ? "root" : "shell",
        .hostname = cf->hostname,
        .interactive = pty && !has_cmd,
        .width = 80,
        .height = 24,
        .term = { term_write, term_exit, l },
        .term_type = term[0] ? term : NULL,
        .motd = "",
        .personality = cf->personality,
        .data_dir = cf->data_dir,
    };
    l->sh = hp_shell_new(&p);
    if (!l->sh) {
        stream_close(st, true);
        return;
    }
    struct hp_shell *sh = l->sh;
    if (has_cmd)
        hp_shell_exec(sh, (const char *)sv->arg, sv->arg_len);   /* may end the stream */
    else
        hp_shell_start(sh);
}

/* "24x80,0x0": rows x cols of a v2 window-size packet. */
static void shell_window(struct hp_shell *sh, const uint8_t *p, size_t n)
{
    char b[64];
    unsigned rows, cols;
    snprintf(b, sizeof(b), "%.*s", (int)(n < 63 ? n : 63), (const char *)p);
    if (sscanf(b, "%ux%u", &rows, &cols) == 2 && rows > 0 && rows < 1000 && cols > 0 && cols < 1000)
        hp_shell_resize(sh, cols, rows);
}

static void shell_units(struct adb_stream *st, struct hp_rd *r)
{
    struct adb_shlink *l = st->link;
    while (l && l->st == st) {
        uint8_t id;
        const uint8_t *data;
        uint32_t len;
        int rc = hp_adb_sh2_parse(r, &id, &data, &len);
        if (rc == HP_ADB_PARTIAL)
            return;
        if (rc == HP_ADB_BAD) {
            stream_close(st, true);
            return;
        }
        if (id == HP_ADB_SH_STDIN)
            hp_shell_input(l->sh, data, len);
        else if (id == HP_ADB_SH_CLOSE_STDIN)
            hp_shell_eof(l->sh);
        else if (id == HP_ADB_SH_WINDOW)
            shell_window(l->sh, data, len);
    }
}

static void shell_input(struct adb_stream *st, const uint8_t *p, size_t n)
{
    struct adb_shlink *l = st->link;
    if (!l || !l->sh)
        return;
    if (st->v2)
        stream_feed(st, p, n, shell_units);
    else
        hp_shell_input(l->sh, p, n);
}

/* ---- sync: push, pull, stat, ls ------------------------------------------------------------ */

static void put32(struct hp_buf *b, uint32_t v)
{
    uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    hp_buf_put(b, x, 4);
}

static void put64(struct hp_buf *b, uint64_t v)
{
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}

static void sync_fail(struct adb_stream *st, const char *msg)
{
    struct hp_buf b;
    hp_buf_init(&b, 512);
    put32(&b, HP_ADB_ID('F', 'A', 'I', 'L'));
    put32(&b, (uint32_t)strlen(msg));
    hp_buf_puts(&b, msg);
    stream_out(st, 0, b.data, b.len);
    hp_buf_free(&b);
    st->close_after = true;
    pump(st);
}

static void sync_event(struct adb_stream *st, const char *op, const char *path, int err)
{
    if (st->sync_events >= ADB_SYNC_EVENTS_MAX)
        return;
    st->sync_events++;
    struct hp_ev ev;
    hp_ev_begin(&ev, &st->s->c->ctx, "adb.sync");
    hp_ev_str(&ev, "op", op);
    hp_ev_str(&ev, "path", path);
    if (err)
        hp_ev_str(&ev, "error", strerror(err));
    hp_ev_emit(&ev);
}

/* The request's path as an absolute C string; false for NUL bytes or overlong. */
static bool sync_path(const struct hp_adb_sync_unit *u, char *out, size_t outlen)
{
    char raw[HP_ADB_SYNC_PATH_MAX + 1];
    if (memchr(u->data, '\0', u->arg) || u->arg == 0)
        return false;
    memcpy(raw, u->data, u->arg);
    raw[u->arg] = '\0';
    return sh_vfs_abspath("/", raw, out, outlen) == 0;
}

static uint32_t st_mode(const struct sh_stat *st)
{
    static const uint32_t fmt[] = { 0100000, 0040000, 0120000, 0020000, 0060000, 0010000, 0140000 };
    return fmt[st->type] | (st->mode & 07777);
}

/* STAT (v1, 16 bytes) or STA2/LST2 (v2, 72 bytes). */
static void sync_stat(struct adb_stream *st, uint32_t id, const char *path)
{
    struct sh_vfs *fs = adb_fs(st->s);
    struct sh_stat sb;
    bool v1 = id == HP_ADB_ID('S', 'T', 'A', 'T');
    int r = fs ? sh_vfs_stat(fs, path, id != HP_ADB_ID('L', 'S', 'T', '2'), &sb) : -ENOENT;
    struct hp_buf b;
    hp_buf_init(&b, 128);
    put32(&b, id);
    if (v1) {
        put32(&b, r == 0 ? st_mode(&sb) : 0);
        put32(&b, r == 0 ? (uint32_t)sb.size : 0);
        put32(&b, r == 0 ? (uint32_t)sb.mtime : 0);
    } else if (r != 0) {
        put32(&b, (uint32_t)-r);
        for (int i = 0; i < 64 / 4; i++)
            put32(&b, 0);
    } else {
        put32(&b, 0);
        put64(&b, 0xfd00);            /* dev */
        put64(&b, sb.ino);
        put32(&b, st_mode(&sb));
        put32(&b, sb.nlink);
        put32(&b, sb.uid);
        put32(&b, sb.gid);
        put64(&b, sb.size);
        put64(&b, (uint64_t)sb.mtime);
        put64(&b, (uint64_t)sb.mtime);
        put64(&b, (uint64_t)sb.mtime);
    }
    stream_out(st, 0, b.data, b.len);
    hp_buf_free(&b);
    sync_event(st, v1 ? "stat" : "stat_v2", path, r == 0 ? 0 : -r);
}

struct list_ctx {
    struct hp_buf *b;
    bool v2;
    unsigned n;
};

static void dent(struct list_ctx *lc, const char *name, const struct sh_stat *sb)
{
    size_t nl = strlen(name);
    if (!lc->v2) {
        put32(lc->b, HP_ADB_ID('D', 'E', 'N', 'T'));
        put32(lc->b, st_mode(sb));
        put32(lc->b, (uint32_t)sb->size);
        put32(lc->b, (uint32_t)sb->mtime);
    } else {
        put32(lc->b, HP_ADB_ID('D', 'N', 'T', '2'));
        put32(lc->b, 0);
        put64(lc->b, 0xfd00);
        put64(lc->b, sb->ino);
        put32(lc->b, st_mode(sb));
        put32(lc->b, sb->nlink);
        put32(lc->b, sb->uid);
        put32(lc->b, sb->gid);
        put64(lc->b, sb->size);
        put64(lc->b, (uint64_t)sb->mtime);
        put64(lc->b, (uint64_t)sb->mtime);
        put64(lc->b, (uint64_t)sb->mtime);
    }
    put32(lc->b, (uint32_t)nl);
    hp_buf_put(lc->b, name, nl);
}

static int list_cb(void *arg, const char *name, const struct sh_stat *sb)
{
    struct list_ctx *lc = arg;
    dent(lc, name, sb);
    return ++lc->n >= 2000;
}

/* LIST / LIS2: ".", "..", the entries, then DONE (nothing but DONE when the
 * directory cannot be opened, as adbd does). */
static void sync_list(struct adb_stream *st, uint32_t id, const char *path)
{
    struct sh_vfs *fs = adb_fs(st->s);
    struct hp_buf b;
    hp_buf_init(&b, 4u << 20);
    struct list_ctx lc = { &b, id == HP_ADB_ID('L', 'I', 'S', '2'), 0 };
    struct sh_stat sb, up;
    int r = fs ? sh_vfs_stat(fs, path, true, &sb) : -ENOENT;
    if (r == 0 && sb.type != SH_FT_DIR)
        r = -ENOTDIR;
    if (r == 0) {
        char parent[ADB_PATH_MAX];
        dent(&lc, ".", &sb);
        if (sh_vfs_abspath(path, "..", parent, sizeof(parent)) == 0 && sh_vfs_stat(fs, parent, true, &up) == 0)
            dent(&lc, "..", &up);
        sh_vfs_list(fs, path, list_cb, &lc);
    }
    put32(&b, HP_ADB_ID('D', 'O', 'N', 'E'));
    for (int i = 0; i < (lc.v2 ? 72 : 16) / 4; i++)
        put32(&b, 0);
    stream_out(st, 0, b.data, b.len);
    hp_buf_free(&b);
    sync_event(st, lc.v2 ? "list_v2" : "list", path, r == 0 ? 0 : -r);
}

/* RECV: the file in DATA chunks, then DONE; FAIL when it cannot be read. */
static void sync_recv(struct adb_stream *st, const char *path)
{
    struct sh_vfs *fs = adb_fs(st->s);
    struct sh_stat sb;
    int r = fs ? sh_vfs_stat(fs, path, true, &sb) : -ENOENT;
    if (r == 0 && sb.type == SH_FT_DIR)
        r = -EISDIR;
    struct hp_buf data;
    hp_buf_init(&data, ADB_RECV_MAX);
    if (r == 0) {
        long n = sh_vfs_read(fs, path, 0, ADB_RECV_MAX, &data);
        r = n < 0 ? (int)n : 0;
    }
    sync_event(st, "recv", path, r == 0 ? 0 : -r);
    if (r != 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "open failed: %s", strerror(-r));
        hp_buf_free(&data);
        sync_fail(st, msg);
        return;
    }
    struct hp_buf b;
    hp_buf_init(&b, ADB_RECV_MAX + ADB_RECV_MAX / 1024 + 64);
    for (size_t off = 0; off < data.len; off += HP_ADB_SYNC_DATA_MAX) {
        size_t k = data.len - off < HP_ADB_SYNC_DATA_MAX ? data.len - off : HP_ADB_SYNC_DATA_MAX;
        put32(&b, HP_ADB_ID('D', 'A', 'T', 'A'));
        put32(&b, (uint32_t)k);
        hp_buf_put(&b, data.data + off, k);
    }
    put32(&b, HP_ADB_ID('D', 'O', 'N', 'E'));
    put32(&b, 0);
    stream_out(st, 0, b.data, b.len);
    hp_buf_free(&b);
    hp_buf_free(&data);
}

/* SEND "path,mode": DATA chunks follow until DONE. */
static void sync_send_begin(struct adb_stream *st, const struct hp_adb_sync_unit *u)
{
    const uint8_t *comma = NULL;
    for (size_t i = u->arg; i > 0; i--)
        if (u->data[i - 1] == ',') {
            comma = u->data + i - 1;
            break;
        }
    char path[ADB_PATH_MAX], modes[16] = "";
    struct hp_adb_sync_unit pu = *u;
    if (comma) {
        pu.arg = (uint32_t)(comma - u->data);
        size_t ml = u->arg - pu.arg - 1;
        snprintf(modes, sizeof(modes), "%.*s", (int)(ml < 15 ? ml : 15), (const char *)comma + 1);
    }
    if (!comma || !sync_path(&pu, path, sizeof(path))) {
        sync_fail(st, comma ? "invalid path" : "missing , in ID_SEND");
        return;
    }
    st->sending = true;
    st->send_path = hp_xstrdup(path);
    st->send_mode = (unsigned)strtoul(modes, NULL, 10) & 07777;
    if (!st->send_mode)
        st->send_mode = 0644;
    st->file_size = 0;
    hp_buf_init(&st->file, (size_t)st->s->cf->max_file);
}

static void sync_data(struct adb_stream *st, const struct hp_adb_sync_unit *u)
{
    st->file_size += u->arg;
    size_t room = st->file.cap - st->file.len;
    hp_buf_put(&st->file, u->data, u->arg < room ? u->arg : room);
}

/* The pushed file is complete (DONE) or cut by the end of the stream:
 * stored and reported, and put where the client wanted it. */
static void sync_finish_send(struct adb_stream *st, bool complete)
{
    struct adb_sess *s = st->s;
    st->sending = false;
    char sha[HP_SHA256_HEX_LEN + 1] = "";
    struct hp_upload_info ui = { .data_dir = s->cf->data_dir, .filename = st->send_path,
                                 .filename_len = strlen(st->send_path), .detail = "adb",
                                 .size = st->file_size };
    if (complete || st->file_size > 0)
        hp_upload_record(&s->c->ctx, &ui, st->file.data, st->file.len, sha);
    struct sh_vfs *fs = complete ? adb_fs(s) : NULL;
    if (fs) {
        char parent[ADB_PATH_MAX];
        if (sh_vfs_abspath(st->send_path, "..", parent, sizeof(parent)) == 0)
            mkdirs(fs, parent, 0771);
        /* the capture pipeline has it already: not captured again by the vfs */
        sh_vfs_write(fs, st->send_path, st->file.data, st->file.len, SH_O_CREAT | SH_O_TRUNC | SH_O_FETCHED,
                     st->send_mode);
    }
    hp_buf_free(&st->file);
    free(st->send_path);
    st->send_path = NULL;
}

static void sync_units(struct adb_stream *st, struct hp_rd *r)
{
    uint32_t local = st->local;
    while (st->local == local && !st->close_after) {
        struct hp_adb_sync_unit u;
        int rc = hp_adb_sync_parse(r, &u);
        if (rc == HP_ADB_PARTIAL)
            return;
        if (rc == HP_ADB_BAD) {
            char msg[64];
            snprintf(msg, sizeof(msg), "unknown command %08x", u.id);
            sync_fail(st, msg);
            return;
        }
        char path[ADB_PATH_MAX];
        if (st->sending) {
            if (u.id == HP_ADB_ID('D', 'A', 'T', 'A')) {
                sync_data(st, &u);
            } else if (u.id == HP_ADB_ID('D', 'O', 'N', 'E')) {
                sync_finish_send(st, true);
                struct hp_buf b;
                hp_buf_init(&b, 16);
                put32(&b, HP_ADB_ID('O', 'K', 'A', 'Y'));
                put32(&b, 0);
                stream_out(st, 0, b.data, b.len);
                hp_buf_free(&b);
            } else {
                sync_finish_send(st, false);
                sync_fail(st, "invalid data message");
            }
            continue;
        }
        switch (u.id) {
        case HP_ADB_ID('Q', 'U', 'I', 'T'):
            st->close_after = true;
            pump(st);
            return;
        case HP_ADB_ID('D', 'A', 'T', 'A'): case HP_ADB_ID('D', 'O', 'N', 'E'):
            sync_fail(st, "unknown command");
            return;
        case HP_ADB_ID('S', 'E', 'N', 'D'):
            sync_send_begin(st, &u);
            continue;
        default:
            break;
        }
        if (!sync_path(&u, path, sizeof(path))) {
            sync_fail(st, "invalid path");
            return;
        }
        if (u.id == HP_ADB_ID('R', 'E', 'C', 'V'))
            sync_recv(st, path);
        else if (u.id == HP_ADB_ID('L', 'I', 'S', 'T') || u.id == HP_ADB_ID('L', 'I', 'S', '2'))
            sync_list(st, u.id, path);
        else
            sync_stat(st, u.id, path);
    }
}

/* ---- connection and services -------------------------------------------------------------- */

static void ev_connect(struct adb_sess *s, const struct hp_adb_msg *m)
{
    struct hp_ev ev;
    char v[16];
    hp_ev_begin(&ev, &s->c->ctx, "adb.connect");
    snprintf(v, sizeof(v), "0x%08x", m->arg0);
    hp_ev_str(&ev, "version", v);
    hp_ev_uint(&ev, "max_payload", m->arg1);
    size_t n = m->len;
    while (n > 0 && m->data[n - 1] == '\0')
        n--;
    hp_ev_bytes(&ev, "banner", m->data, n);
    const uint8_t *f = NULL;
    for (size_t i = 0; i + 9 <= n; i++)
        if (memcmp(m->data + i, "features=", 9) == 0) {
            f = m->data + i + 9;
            break;
        }
    if (f) {
        size_t fl = 0;
        while (f + fl < m->data + n && f[fl] != ';')
            fl++;
        hp_ev_bytes(&ev, "features", f, fl);
    }
    hp_ev_str(&ev, "device", s->cf->dev->name);
    hp_ev_emit(&ev);
}

static void on_cnxn(struct adb_sess *s, const struct hp_adb_msg *m)
{
    if (++s->cnxns > ADB_CNXN_MAX) {
        hp_conn_close(s->c, "too_many_cnxn");
        return;
    }
    ev_connect(s, m);
    const struct hp_adb_device *d = s->cf->dev;
    /* a new CNXN restarts the transport: every stream goes */
    for (size_t i = 0; i < ADB_STREAMS_MAX; i++)
        if (s->st[i].local) {
            struct adb_shlink *l = s->st[i].link;
            stream_close(&s->st[i], false);
            if (l && l->sh)
                hp_shell_eof(l->sh);
        }
    uint32_t version = m->arg0 < d->version ? m->arg0 : d->version;
    uint32_t maxp = m->arg1 < d->max_payload ? m->arg1 : d->max_payload;
    if (version < HP_ADB_VERSION_MIN)
        version = HP_ADB_VERSION_MIN;
    if (maxp < 256)
        maxp = 256;
    struct hp_buf b;
    hp_buf_init(&b, 1024);
    hp_adb_banner(d, &b);
    s->version = version;         /* adbd answers after adopting it: no checksum from 0x01000001 on */
    struct hp_buf msg;
    hp_buf_init(&msg, 2048);
    hp_adb_msg_build(&msg, HP_ADB_CNXN, version, maxp, b.data, b.len, version < HP_ADB_VERSION_SKIP);
    hp_conn_send(s->c, msg.data, msg.len);
    hp_buf_free(&msg);
    hp_buf_free(&b);
    s->max_payload = maxp;
    s->online = true;
}

static void ev_open(struct adb_sess *s, const struct hp_adb_msg *m, const struct hp_adb_service *sv, uint32_t local)
{
    struct hp_ev ev;
    size_t n = m->len;
    while (n > 0 && m->data[n - 1] == '\0')
        n--;
    hp_ev_begin(&ev, &s->c->ctx, "adb.open");
    hp_ev_bytes(&ev, "service", m->data, n);
    hp_ev_str(&ev, "kind", hp_adb_service_kind_name(sv->kind));
    if (sv->kind == HP_ADB_SVC_SHELL || sv->kind == HP_ADB_SVC_EXEC) {
        if (sv->v2)
            hp_ev_bool(&ev, "shell_v2", true);
        hp_ev_bytes(&ev, "command", sv->arg ? sv->arg : (const uint8_t *)"", sv->arg_len);
    }
    hp_ev_bool(&ev, "accepted", local != 0);
    hp_ev_emit(&ev);
}

/* A service answered with a message, then closed. */
static void say_and_close(struct adb_stream *st, const char *text)
{
    stream_outs(st, text);
    st->close_after = true;
    pump(st);
}

/* The device restarts (reboot, usb, tcpip, unroot): the connection drops. */
static void restart(struct adb_stream *st, const char *text, const char *reason)
{
    struct adb_sess *s = st->s;
    if (text && text[0])
        stream_outs(st, text);
    hp_conn_close(s->c, reason);
}

static void on_open(struct adb_sess *s, const struct hp_adb_msg *m)
{
    if (!s->online || m->arg0 == 0)
        return;                   /* adbd ignores streams before the handshake */
    if (++s->opens > ADB_OPENS_MAX) {
        hp_conn_close(s->c, "too_many_streams");
        return;
    }
    struct hp_adb_service sv;
    hp_adb_service_parse(m->data, m->len, &sv);
    bool served = sv.kind != HP_ADB_SVC_OTHER && sv.kind != HP_ADB_SVC_FORWARD &&
                  sv.kind != HP_ADB_SVC_REVERSE && sv.kind != HP_ADB_SVC_FRAMEBUFFER &&
                  sv.kind != HP_ADB_SVC_JDWP && sv.kind != HP_ADB_SVC_ABB;
    if (sv.kind == HP_ADB_SVC_SHELL && sv.v2 && !strstr(s->cf->dev->features ? s->cf->dev->features : "", "shell_v2"))
        served = false;
    struct adb_stream *st = served ? stream_new(s, m->arg0, &sv) : NULL;
    ev_open(s, m, &sv, st ? st->local : 0);
    if (!st) {
        send_msg(s, HP_ADB_CLSE, 0, m->arg0, NULL, 0);
        return;
    }
    send_msg(s, HP_ADB_OKAY, st->local, st->remote, NULL, 0);
    char text[96];
    switch (sv.kind) {
    case HP_ADB_SVC_SHELL: case HP_ADB_SVC_EXEC:
        shell_start(st, &sv);
        break;
    case HP_ADB_SVC_SYNC:
        adb_fs(s);
        break;
    case HP_ADB_SVC_REBOOT:
        restart(st, "", "reboot");
        break;
    case HP_ADB_SVC_USB:
        restart(st, "restarting in USB mode\n", "usb");
        break;
    case HP_ADB_SVC_TCPIP: {
        char num[16];
        snprintf(num, sizeof(num), "%.*s", (int)(sv.arg_len < 15 ? sv.arg_len : 15), sv.arg ? (const char *)sv.arg : "");
        unsigned long port = strtoul(num, NULL, 10);
        snprintf(text, sizeof(text), "restarting in TCP mode port: %lu\n", port > 65535 ? 0 : port);
        restart(st, text, "tcpip");
        break;
    }
    case HP_ADB_SVC_ROOT:
        say_and_close(st, s->cf->root ? "adbd is already running as root\n"
                                      : "adbd cannot run as root in production builds\n");
        break;
    case HP_ADB_SVC_UNROOT:
        if (s->cf->root)
            restart(st, "restarting adbd as non root\n", "unroot");
        else
            say_and_close(st, "adbd not running as root\n");
        break;
    case HP_ADB_SVC_REMOUNT:
        say_and_close(st, s->cf->root ? "remount succeeded\n" : "Not running as root. Try \"adb root\" first.\n");
        break;
    case HP_ADB_SVC_DISABLE_VERITY:
        say_and_close(st, "verity not enabled - ENG build\n");
        break;
    default:
        stream_close(st, true);
        break;
    }
}

static void on_wrte(struct adb_sess *s, const struct hp_adb_msg *m)
{
    struct adb_stream *st = stream_find(s, m->arg1);
    if (!st || st->remote != m->arg0)
        return;
    send_msg(s, HP_ADB_OKAY, st->local, st->remote, NULL, 0);   /* before the answers it causes */
    if (st->kind == HP_ADB_SVC_SYNC)
        stream_feed(st, m->data, m->len, sync_units);
    else if (st->link)
        shell_input(st, m->data, m->len);
}

static void on_okay(struct adb_sess *s, const struct hp_adb_msg *m)
{
    struct adb_stream *st = stream_find(s, m->arg1);
    if (!st || st->remote != m->arg0)
        return;
    st->inflight = false;
    pump(st);
}

static void on_clse(struct adb_sess *s, const struct hp_adb_msg *m)
{
    struct adb_stream *st = stream_find(s, m->arg1);
    if (!st || (m->arg0 && st->remote != m->arg0))
        return;
    struct adb_shlink *l = st->link;
    stream_close(st, false);
    if (l && l->sh)
        hp_shell_eof(l->sh);      /* a last line without newline still runs (and is logged) */
}

/* ---- the protocol module --------------------------------------------------------------------- */

static void handle(struct adb_sess *s, const struct hp_adb_msg *m)
{
    switch (m->cmd) {
    case HP_ADB_CNXN: on_cnxn(s, m); break;
    case HP_ADB_OPEN: on_open(s, m); break;
    case HP_ADB_WRTE: if (s->online) on_wrte(s, m); break;
    case HP_ADB_OKAY: if (s->online) on_okay(s, m); break;
    case HP_ADB_CLSE: if (s->online) on_clse(s, m); break;
    default: break;               /* AUTH, STLS, SYNC: never asked for, ignored */
    }
}

static void adb_accept(struct hp_conn *c)
{
    struct adb_sess *s = c->pstate;
    s->c = c;
    s->cf = hp_conn_service_cfg(c)->proto_conf;
    s->version = HP_ADB_VERSION_MIN;
    s->max_payload = s->cf->dev->max_payload;
}

static void adb_data(struct hp_conn *c, struct hp_rd *in)
{
    struct adb_sess *s = c->pstate;
    reap(s);
    while (!s->closed && !(c->flags & HP_CONN_CLOSING)) {
        struct hp_adb_msg m;
        enum hp_adb_msg_err e;
        uint32_t maxp = s->online ? s->max_payload : HP_ADB_PAYLOAD_MAX;
        int rc = hp_adb_msg_parse(in, maxp, s->version < HP_ADB_VERSION_SKIP, &m, &e);
        if (rc == HP_ADB_PARTIAL)
            break;
        if (rc == HP_ADB_BAD) {
            hp_conn_close(c, e == HP_ADB_E_MAGIC ? "bad_magic" : e == HP_ADB_E_LENGTH ? "bad_length" : "bad_checksum");
            break;
        }
        handle(s, &m);
        reap(s);
    }
}

static void adb_close(struct hp_conn *c)
{
    struct adb_sess *s = c->pstate;
    if (!s->cf)
        return;
    s->closed = true;
    for (size_t i = 0; i < ADB_STREAMS_MAX; i++)
        if (s->st[i].local)
            stream_close(&s->st[i], false);
    reap(s);                      /* the shells capture what they still hold */
    if (s->fs)
        sh_vfs_close(s->fs);
    s->fs = NULL;
}

const struct hp_proto hp_proto_adb = {
    .name = "adb",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "5555",
    .conn_state_size = sizeof(struct adb_sess),
    .default_max_input = 64u << 20,
    .configure = adb_configure,
    .unconfigure = adb_unconfigure,
    .start = adb_start,
    .on_accept = adb_accept,
    .on_data = adb_data,
    .on_close = adb_close,
};
