/*
 * test_sshfile.c - unit tests for the SCP sink/source and the SFTP server
 * (src/proto/sshfile.c).
 *
 * A fake channel records every byte written and the exit calls; an event
 * hook collects session.file_upload / client.sftp events (checked with
 * json_check.h).  Uploads go to a temporary data_dir, and the stored
 * payloads are read back and hashed independently (OpenSSL).  Expected
 * bytes are written out from the protocol descriptions (OpenSSH scp.c's
 * sink, draft-ietf-secsh-filexfer-02 and sftp-server.c), not produced by the
 * code under test.
 *
 * SFTP: INIT -> VERSION 3 with OpenSSH 9's extensions, REALPATH ("", ".",
 * relative, "..", links), limits@openssh.com, STAT/LSTAT of directories,
 * links, uploads and missing paths, OPEN/WRITE/CLOSE with exact replies and
 * the stored file's SHA-256, out-of-order writes with holes, APPEND,
 * FSETSTAT size, READ back, OPENDIR/READDIR/CLOSE with long names, MKDIR /
 * RMDIR / REMOVE / RENAME, unknown requests, EOF and free with open handles.
 * Hostile: requests before INIT, lying string lengths, a 2 GiB packet
 * length, 100 OPENs (16 handles), writes past max_file and max_total and at
 * offsets near 2^64, empty names, "/../" names, NUL inside and at the end of
 * names, bogus handles, overlong paths, and a whole session cut at every
 * split point and fed byte by byte (same output, same events).
 * SCP: which exec command lines are scp, the sink's C/D/E/T records with
 * their acks, -r and -p, client error responses, bad modes, sizes and
 * names (with "/", "..", empty, NUL), garbage first records, the source's
 * "No such file or directory", caps, EOF inside data, split points.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <cmocka.h>

#include "proto/sshfile.h"
#include "event.h"
#include "json_check.h"

#define NOW 1700000000
#define MAX_EVENTS 256

/* ---- fake channel and events ------------------------------------------------------------ */

struct fake {
    uint8_t *out;
    size_t len, alloc;
    int exits;
    int status;
    char *ev[MAX_EVENTS];
    size_t evlen[MAX_EVENTS];
    int nev;
};

static char data_dir[64];

static void fake_write(void *io, const void *data, size_t len)
{
    struct fake *f = io;
    assert_int_equal(f->exits, 0);              /* nothing after the exit */
    if (f->len + len > f->alloc) {
        f->alloc = (f->len + len) * 2 + 64;
        f->out = realloc(f->out, f->alloc);
        assert_non_null(f->out);
    }
    memcpy(f->out + f->len, data, len);
    f->len += len;
}

static void fake_exit(void *io, int status)
{
    struct fake *f = io;
    f->exits++;
    f->status = status;
}

static void fake_event(struct hp_event *e, void *arg)
{
    struct fake *f = arg;
    assert_true(f->nev < MAX_EVENTS);
    assert_true(jc_valid(e->json, e->json_len));
    f->ev[f->nev] = malloc(e->json_len + 1);
    memcpy(f->ev[f->nev], e->json, e->json_len);
    f->ev[f->nev][e->json_len] = '\0';
    f->evlen[f->nev] = e->json_len;
    f->nev++;
    hp_event_unref(e);
}

static void fake_reset(struct fake *f)
{
    free(f->out);
    for (int i = 0; i < f->nev; i++)
        free(f->ev[i]);
    memset(f, 0, sizeof(*f));
}

static struct hp_sshfile_params params(struct fake *f)
{
    struct hp_sshfile_params p = {
        .ctx = NULL,
        .data_dir = data_dir,
        .username = "root",
        .write = fake_write,
        .exit = fake_exit,
        .io = f,
        .event_hook = fake_event,
        .event_arg = f,
        .now = NOW,
    };
    return p;
}

/* Take the recorded output and compare it. */
static void expect_out(struct fake *f, const void *want, size_t wantlen)
{
    if (f->len != wantlen || memcmp(f->out, want, wantlen) != 0) {
        fprintf(stderr, "output (%zu bytes):", f->len);
        for (size_t i = 0; i < f->len; i++)
            fprintf(stderr, " %02x", f->out[i]);
        fprintf(stderr, "\nwanted (%zu bytes):", wantlen);
        for (size_t i = 0; i < wantlen; i++)
            fprintf(stderr, " %02x", ((const uint8_t *)want)[i]);
        fprintf(stderr, "\n");
        fail();
    }
    f->len = 0;
}
#define EXPECT_STR(f, s) expect_out((f), (s), sizeof(s) - 1)

/* The value of a top-level member of event i (strings decoded), malloc'd; NULL when absent. */
static char *ev_get(struct fake *f, int i, const char *key)
{
    struct jc_member m[64];
    int n = jc_members(f->ev[i], f->evlen[i], m, 64);
    assert_true(n >= 0);
    const struct jc_member *mk = jc_find(m, n, key);
    if (!mk)
        return NULL;
    if (mk->val[0] == '"') {
        size_t ol = 0;
        uint8_t *d = jc_decode_str(mk->val, mk->vlen, &ol);
        assert_non_null(d);
        char *v = malloc(ol + 1);
        memcpy(v, d, ol);
        v[ol] = '\0';
        free(d);
        return v;
    }
    char *v = malloc(mk->vlen + 1);
    memcpy(v, mk->val, mk->vlen);
    v[mk->vlen] = '\0';
    return v;
}

static void expect_ev(struct fake *f, int i, const char *key, const char *want)
{
    assert_true(i < f->nev);
    char *v = ev_get(f, i, key);
    if (!want) {
        assert_null(v);
        return;
    }
    if (!v || strcmp(v, want) != 0) {
        fprintf(stderr, "event %d %s: got %s, wanted %s\n%s\n", i, key, v ? v : "(none)", want, f->ev[i]);
        fail();
    }
    free(v);
}

static int count_events(struct fake *f, const char *eventid)
{
    int n = 0;
    for (int i = 0; i < f->nev; i++) {
        char *v = ev_get(f, i, "eventid");
        n += v && strcmp(v, eventid) == 0;
        free(v);
    }
    return n;
}

/* Index of the k-th event with this id, or -1. */
static int find_event(struct fake *f, const char *eventid, int k)
{
    for (int i = 0; i < f->nev; i++) {
        char *v = ev_get(f, i, "eventid");
        bool hit = v && strcmp(v, eventid) == 0;
        free(v);
        if (hit && k-- == 0)
            return i;
    }
    return -1;
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int ml = 0;
    assert_true(EVP_Digest(n ? p : "", n, md, &ml, EVP_sha256(), NULL));
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

/* The stored payload for sha must exist, be 0400 and hold exactly want. */
static void expect_stored(const char *sha, const void *want, size_t wantlen)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/payloads/%s", data_dir, sha);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0400);
    assert_int_equal((size_t)st.st_size, wantlen);
    uint8_t *buf = malloc(wantlen + 1);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, wantlen + 1), (ssize_t)wantlen);
    close(fd);
    assert_memory_equal(buf, want, wantlen);
    free(buf);
}

/* An upload event: filename, size, shasum of want, outfile, detail; truncated when stored < size. */
static void expect_upload(struct fake *f, int i, const char *filename, uint64_t size, const void *want,
                          size_t wantlen, const char *detail)
{
    char sha[65], buf[128];
    sha256_hex(want, wantlen, sha);
    expect_ev(f, i, "eventid", "session.file_upload");
    expect_ev(f, i, "filename", filename);
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)size);
    expect_ev(f, i, "size", buf);
    expect_ev(f, i, "shasum", sha);
    snprintf(buf, sizeof(buf), "payloads/%s", sha);
    expect_ev(f, i, "outfile", buf);
    expect_ev(f, i, "protocol_detail", detail);
    if (size != wantlen) {
        expect_ev(f, i, "truncated", "true");
        snprintf(buf, sizeof(buf), "%zu", wantlen);
        expect_ev(f, i, "stored_size", buf);
    } else {
        expect_ev(f, i, "truncated", NULL);
    }
    expect_stored(sha, want, wantlen);
}

/* ---- SFTP packet building ------------------------------------------------------------------- */

struct pk {
    uint8_t b[300000];
    size_t len;
    size_t start;
};

static void pk_u8(struct pk *p, uint8_t v) { p->b[p->len++] = v; }
static void pk_u32(struct pk *p, uint32_t v)
{
    pk_u8(p, (uint8_t)(v >> 24)); pk_u8(p, (uint8_t)(v >> 16)); pk_u8(p, (uint8_t)(v >> 8)); pk_u8(p, (uint8_t)v);
}
static void pk_u64(struct pk *p, uint64_t v) { pk_u32(p, (uint32_t)(v >> 32)); pk_u32(p, (uint32_t)v); }
static void pk_strn(struct pk *p, const void *s, size_t n) { pk_u32(p, (uint32_t)n); memcpy(p->b + p->len, s, n); p->len += n; }
static void pk_str(struct pk *p, const char *s) { pk_strn(p, s, strlen(s)); }
/* Start a packet: the length is patched by pk_end. */
static void pk_begin(struct pk *p, uint8_t type) { p->start = p->len; pk_u32(p, 0); pk_u8(p, type); }
static void pk_end(struct pk *p)
{
    uint32_t n = (uint32_t)(p->len - p->start - 4);
    p->b[p->start] = (uint8_t)(n >> 24); p->b[p->start + 1] = (uint8_t)(n >> 16);
    p->b[p->start + 2] = (uint8_t)(n >> 8); p->b[p->start + 3] = (uint8_t)n;
}

static struct pk *pk_new(void)
{
    struct pk *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    return p;
}

enum { INIT = 1, VERSION = 2, OPEN = 3, CLOSE = 4, READ = 5, WRITE = 6, LSTAT = 7, FSTAT = 8, SETSTAT = 9,
       FSETSTAT = 10, OPENDIR = 11, READDIR = 12, REMOVE = 13, MKDIR = 14, RMDIR = 15, REALPATH = 16,
       STAT = 17, RENAME = 18, READLINK = 19, SYMLINK = 20, STATUS = 101, HANDLE = 102, DATA = 103,
       NAME = 104, ATTRS = 105, EXTENDED = 200, EXTENDED_REPLY = 201 };

static void req_init(struct pk *p) { pk_begin(p, INIT); pk_u32(p, 3); pk_end(p); }
static void req_path(struct pk *p, uint8_t type, uint32_t id, const char *path)
{
    pk_begin(p, type); pk_u32(p, id); pk_str(p, path); pk_end(p);
}
static void req_open(struct pk *p, uint32_t id, const char *path, uint32_t flags, int perm)
{
    pk_begin(p, OPEN); pk_u32(p, id); pk_str(p, path); pk_u32(p, flags);
    if (perm >= 0) { pk_u32(p, 4); pk_u32(p, (uint32_t)perm); } else { pk_u32(p, 0); }
    pk_end(p);
}
static void req_handle(struct pk *p, uint8_t type, uint32_t id, uint32_t h)
{
    uint8_t hb[4] = { (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h };
    pk_begin(p, type); pk_u32(p, id); pk_strn(p, hb, 4); pk_end(p);
}
static void req_write(struct pk *p, uint32_t id, uint32_t h, uint64_t off, const void *d, size_t n)
{
    uint8_t hb[4] = { (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h };
    pk_begin(p, WRITE); pk_u32(p, id); pk_strn(p, hb, 4); pk_u64(p, off); pk_strn(p, d, n); pk_end(p);
}

/* Expected replies. */
static void rep_status(struct pk *p, uint32_t id, uint32_t code)
{
    static const char *const msg[] = { "Success", "End of file", "No such file", "Permission denied", "Failure",
                                       "Bad message", "No connection", "Connection lost", "Operation unsupported" };
    pk_begin(p, STATUS); pk_u32(p, id); pk_u32(p, code); pk_str(p, msg[code]); pk_str(p, ""); pk_end(p);
}
static void rep_handle(struct pk *p, uint32_t id, uint32_t h)
{
    uint8_t hb[4] = { (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h };
    pk_begin(p, HANDLE); pk_u32(p, id); pk_strn(p, hb, 4); pk_end(p);
}
static void rep_name1(struct pk *p, uint32_t id, const char *name)
{
    pk_begin(p, NAME); pk_u32(p, id); pk_u32(p, 1); pk_str(p, name); pk_str(p, name); pk_u32(p, 0); pk_end(p);
}
static void rep_attrs(struct pk *p, uint32_t id, uint64_t size, uint32_t uid, uint32_t perm, uint32_t mtime)
{
    pk_begin(p, ATTRS); pk_u32(p, id); pk_u32(p, 0xf); pk_u64(p, size); pk_u32(p, uid); pk_u32(p, uid);
    pk_u32(p, perm); pk_u32(p, mtime); pk_u32(p, mtime); pk_end(p);
}

static void feed(struct hp_sshfile *s, const struct pk *p) { hp_sshfile_input(s, p->b, p->len); }

static void expect_pk(struct fake *f, struct pk *want)
{
    expect_out(f, want->b, want->len);
    want->len = 0;
}

/* A started SFTP server with INIT done and its VERSION consumed. */
static struct hp_sshfile *sftp_ready(struct fake *f, struct hp_sshfile_params *p)
{
    struct hp_sshfile *s = hp_sftp_new(p);
    assert_non_null(s);
    hp_sshfile_start(s);
    struct pk *q = pk_new();
    req_init(q);
    feed(s, q);
    assert_true(f->len > 9);
    f->len = 0;
    free(q);
    return s;
}

/* ---- SFTP tests --------------------------------------------------------------------------------- */

static void test_sftp_init_version(void **state)
{
    struct fake f = { 0 };
    struct hp_sshfile_params p = params(&f);
    struct hp_sshfile *s = hp_sftp_new(&p);
    hp_sshfile_start(s);
    assert_int_equal(f.len, 0);                       /* the server waits for INIT */
    struct pk *q = pk_new(), *w = pk_new();
    req_init(q);
    feed(s, q);
    /* SSH_FXP_VERSION, version 3, then OpenSSH 9.2's sftp-server extension pairs in its order. */
    pk_begin(w, VERSION);
    pk_u32(w, 3);
    static const char *const ext[] = {
        "posix-rename@openssh.com", "1", "statvfs@openssh.com", "2", "fstatvfs@openssh.com", "2",
        "hardlink@openssh.com", "1", "fsync@openssh.com", "1", "lsetstat@openssh.com", "1",
        "limits@openssh.com", "1", "expand-path@openssh.com", "1", "copy-data", "1", "home-directory", "1",
        "users-groups-by-id@openssh.com", "1",
    };
    for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
        pk_str(w, ext[i]);
    pk_end(w);
    expect_pk(&f, w);

    /* limits@openssh.com: sftp-server's four uint64 values. */
    q->len = 0;
    pk_begin(q, EXTENDED); pk_u32(q, 7); pk_str(q, "limits@openssh.com"); pk_end(q);
    feed(s, q);
    pk_begin(w, EXTENDED_REPLY); pk_u32(w, 7);
    pk_u64(w, 262144); pk_u64(w, 261120); pk_u64(w, 261120); pk_u64(w, 1019);
    pk_end(w);
    expect_pk(&f, w);

    /* Unknown extension: OP_UNSUPPORTED; unknown packet type: no reply at all. */
    q->len = 0;
    pk_begin(q, EXTENDED); pk_u32(q, 8); pk_str(q, "nonsense@example.com"); pk_end(q);
    pk_begin(q, 99); pk_u32(q, 9); pk_str(q, "x"); pk_end(q);
    feed(s, q);
    rep_status(w, 8, 8);
    expect_pk(&f, w);

    /* EOF: exit status 0 (sftp-server's "read eof"). */
    hp_sshfile_eof(s);
    assert_int_equal(f.exits, 1);
    assert_int_equal(f.status, 0);
    assert_true(hp_sshfile_done(s));
    feed(s, q);                                       /* ignored */
    assert_int_equal(f.len, 0);
    hp_sshfile_free(s);
    free(q);
    free(w);
    fake_reset(&f);
}

static void test_sftp_realpath(void **state)
{
    struct fake f = { 0 };
    struct hp_sshfile_params p = params(&f);
    struct hp_sshfile *s = sftp_ready(&f, &p);
    struct pk *q = pk_new(), *w = pk_new();
    static const struct { const char *in, *out; } cases[] = {
        { ".", "/root" },
        { "", "/root" },
        { "up.bin", "/root/up.bin" },
        { "/tmp/", "/tmp" },
        { "/tmp//x/./y/", "/tmp/x/y" },
        { "../..", "/" },
        { "/..", "/" },
        { "/tmp/../../../etc/passwd", "/etc/passwd" },
        { "a/../../tmp", "/tmp" },
        { "/bin", "/usr/bin" },
        { "/sbin/init", "/usr/sbin/init" },
        { "/binx", "/binx" },
        { "/var/run/sshd", "/run/sshd" },
        { "/usr/local/man", "/usr/local/share/man" },
        { "/tmp/evil\x01name", "/tmp/evil\x01name" },
        { "name\0", "/root/name" },               /* one trailing NUL is dropped, as sshbuf_get_cstring */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        q->len = 0;
        pk_begin(q, REALPATH);
        pk_u32(q, (uint32_t)i + 1);
        pk_strn(q, cases[i].in, strlen(cases[i].in) + (strcmp(cases[i].in, "name") == 0));
        pk_end(q);
        feed(s, q);
        rep_name1(w, (uint32_t)i + 1, cases[i].out);
        expect_pk(&f, w);
    }
    /* expand-path@openssh.com and home-directory. */
    static const struct { const char *in, *out; } exp[] = {
        { "~", "/root" }, { "~/x/../y", "/root/y" }, { "~root/.ssh", "/root/.ssh" }, { "", "/root" }, { "/var//tmp", "/var/tmp" },
    };
    for (size_t i = 0; i < sizeof(exp) / sizeof(exp[0]); i++) {
        q->len = 0;
        pk_begin(q, EXTENDED); pk_u32(q, 50 + (uint32_t)i); pk_str(q, "expand-path@openssh.com"); pk_str(q, exp[i].in);
        pk_end(q);
        feed(s, q);
        rep_name1(w, 50 + (uint32_t)i, exp[i].out);
        expect_pk(&f, w);
    }
    q->len = 0;
    pk_begin(q, EXTENDED); pk_u32(q, 60); pk_str(q, "expand-path@openssh.com"); pk_str(q, "~nosuchuser/x"); pk_end(q);
    feed(s, q);
    pk_begin(w, STATUS); pk_u32(w, 60); pk_u32(w, 2); pk_str(w, "no such user"); pk_str(w, ""); pk_end(w);
    expect_pk(&f, w);
    q->len = 0;
    pk_begin(q, EXTENDED); pk_u32(q, 61); pk_str(q, "home-directory"); pk_str(q, "root"); pk_end(q);
    pk_begin(q, EXTENDED); pk_u32(q, 62); pk_str(q, "home-directory"); pk_str(q, "nobody2"); pk_end(q);
    feed(s, q);
    rep_name1(w, 61, "/root");
    rep_status(w, 62, 4);
    expect_pk(&f, w);
    /* A path longer than PATH_MAX: ENAMETOOLONG -> BAD_MESSAGE; a component over NAME_MAX too. */
    char *longp = malloc(5000);
    memset(longp, 'a', 4999);
    longp[0] = '/';
    longp[4999] = '\0';
    q->len = 0;
    req_path(q, REALPATH, 70, longp);
    longp[300] = '\0';
    req_path(q, STAT, 71, longp);
    feed(s, q);
    rep_status(w, 70, 5);
    rep_status(w, 71, 5);
    expect_pk(&f, w);
    free(longp);
    /* Each path request is logged as client.sftp. */
    int i0 = find_event(&f, "client.sftp", 0);
    assert_true(i0 >= 0);
    expect_ev(&f, i0, "op", "realpath");
    expect_ev(&f, i0, "path", ".");
    hp_sshfile_free(s);
    free(q);
    free(w);
    fake_reset(&f);
}

static void test_sftp_stat(void **state)
{
    struct fake f = { 0 };
    struct hp_sshfile_params p = params(&f);
    struct hp_sshfile *s = sftp_ready(&f, &p);
    struct pk *q = pk_new(), *w = pk_new();
    req_path(q, STAT, 1, "/tmp");
    req_path(q, LSTAT, 2, "/tmp/");
    req_path(q, STAT, 3, "/root");
    req_path(q, STAT, 4, ".");
    req_path(q, STAT, 5, "/nonexistent");
    req_path(q, STAT, 6, "");
    req_path(q, LSTAT, 7, "/bin");
    req_path(q, STAT, 8, "/dev/shm");
    req_path(q, STAT, 9, "/var/tmp");
    req_path(q, STAT, 10, "/");
    feed(s, q);
    rep_attrs(w, 1, 4096, 0, 041777, NOW - 5400);
    rep_attrs(w, 2, 4096, 0, 041777, NOW - 5400);
    rep_attrs(w, 3, 4096, 0, 040700, NOW - 9 * 86400);
    rep_attrs(w, 4, 4096, 0, 040700, NOW - 9 * 86400);
    rep_status(w, 5, 2);
    rep_status(w, 6, 2);
    rep_attrs(w, 7, 7, 0, 0120777, NOW - 41 * 86400);
    rep_attrs(w, 8, 40, 0, 041777, NOW - 2 * 86400 - 3990);
    rep_attrs(w, 9, 4096, 0, 041777, NOW - 2 * 86400 - 3700);
    rep_attrs(w, 10, 4096, 0, 040755, NOW - 41 * 86400);
    expect_pk(&f, w);
    /* READLINK of a link and of a directory; SETSTAT of a missing path. */
    q->len = 0;
    req_path(q, READLINK, 11, "/lib64");
    req_path(q, READLINK, 12, "/tmp");
    req_path(q, READLINK, 15, "/var/run");
    req_path(q, STAT, 16, "/var/lock");
    req_path(q, STAT, 17, "/usr/local/bin/");
    pk_begin(q, SETSTAT); pk_u32(q, 13); pk_str(q, "/nope"); pk_u32(q, 4); pk_u32(q, 0755); pk_end(q);
    pk_begin(q, SETSTAT); pk_u32(q, 14); pk_str(q, "/tmp"); pk_u32(q, 4); pk_u32(q, 01777); pk_end(q);
    feed(s, q);
    rep_name1(w, 11, "usr/lib64");
    rep_status(w, 12, 5);
    rep_name1(w, 15, "/run");
    rep_attrs(w, 16, 60, 0, 041777, NOW - 2 * 86400 - 4000 + 90);
    rep_attrs(w, 17, 4096, 0, 040755, NOW - 41 * 86400);
    rep_status(w, 13, 2);
    rep_status(w, 14, 0);
    expect_pk(&f, w);
    hp_sshfile_free(s);
    free(q);
    free(w);
    fake_reset(&f);
}

static void test_sftp_upload(void **state)
{
    struct fake f = { 0 };
    struct hp_sshfile_params p = params(&f);
    struct hp_sshfile *s = sftp_ready(&f, &p);
    struct pk *q = pk_new(), *w = pk_new();
    /* What OpenSSH's sftp "put" sends: OPEN WRITE|CREAT|TRUNC with the permissions, WRITEs, CLOSE. */
    req_open(q, 1, "/tmp/x.sh", 0x02 | 0x08 | 0x10, 0644);
    feed(s, q);
    rep_handle(w, 1, 0);
    expect_pk(&f, w);
    q->len = 0;
    req_write(q, 2, 0, 0, "hello ", 6);
    req_write(q, 3, 0, 6, "world", 5);
    feed(s, q);
    rep_status(w, 2, 0);
    rep_status(w, 3, 0);
    expect_pk(&f, w);
    /* While open: FSTAT and STAT see the file. */
    q->len = 0;
    req_handle(q, FSTAT, 4, 0);
    req_path(q, STAT, 5, "/tmp/x.sh");
    feed(s, q);
    rep_attrs(w, 4, 11, 0, 0100644, NOW);
    rep_attrs(w, 5, 11, 0, 0100644, NOW);
    expect_pk(&f, w);
    assert_int_equal(count_events(&f, "session.file_upload"), 0);
    q->len = 0;
    req_handle(q, CLOSE, 6, 0);
    feed(s, q);
    rep_status(w, 6, 0);
    expect_pk(&f, w);
    int ev = find_event(&f, "session.file_upload", 0);
    assert_true(ev >= 0);
    expect_upload(&f, ev, "/tmp/x.sh", 11, "hello world", 11, "sftp");
    int op = find_event(&f, "client.sftp", 0);
    expect_ev(&f, op, "op", "open");
    expect_ev(&f, op, "path", "/tmp/x.sh");
    expect_ev(&f, op, "flags", "WRITE,CREATE,TRUNCATE");

    /* The handle is gone; the file stays visible; reading it back gives the bytes. */
    q->len = 0;
    req_write(q, 7, 0, 0, "x", 1);
    req_handle(q, CLOSE, 8, 0);
    req_path(q, LSTAT, 9, "/tmp/x.sh");
    req_open(q, 10, "/tmp/x.sh", 0x01, -1);
    feed(s, q);
    rep_status(w, 7, 4);
    rep_status(w, 8, 2);
    rep_attrs(w, 9, 11, 0, 0100644, NOW);
    rep_handle(w, 10, 0);
    expect_pk(&f, w);
    q->len = 0;
    pk_begin(q, READ); pk_u32(q, 11); pk_strn(q, "\0\0\0\0", 4); pk_u64(q, 6); pk_u32(q, 100); pk_end(q);
    pk_begin(q, READ); pk_u32(q, 12); pk_strn(q, "\0\0\0\0", 4); pk_u64(q, 11); pk_u32(q, 100); pk_end(q);
    req_write(q, 13, 0, 0, "x", 1);                  /* a read-only handle: EBADF */
    req_handle(q, CLOSE, 14, 0);
    feed(s, q);
    pk_begin(w, DATA); pk_u32(w, 11); pk_str(w, "world"); pk_end(w);
    rep_status(w, 12, 1);
    rep_status(w, 13, 2);
    rep_status(w, 14, 0);
    expect_pk(&f, w);
    assert_int_equal(count_events(&f, "session.file_upload"), 1);

    /* Out of order, with a hole: offset 10 first, then 0..3; holes are zeros. */
    q->len = 0;
    req_open(q, 20, "relative.bin", 0x02 | 0x08, -1);
    req_write(q, 21, 0, 10, "TAIL", 4);
    req_write(q, 22, 0, 0, "HEAD", 4);
    req_handle(q, CLOSE, 23, 0);
    feed(s, q);
    rep_handle(w, 20, 0);
    rep_status(w, 21, 0);
    rep_status(w, 22, 0);
    rep_status(w, 23, 0);
    expect_pk(&f, w);
    static const uint8_t holey[14] = { 'H', 'E', 'A', 'D', 0, 0, 0, 0, 0, 0, 'T', 'A', 'I', 'L' };
    expect_upload(&f, find_event(&f, "session.file_upload", 1), "relative.bin", 14, holey, 14, "sftp");
    q->len = 0;
    req_path(q, STAT, 24, "/root/relative.bin");     /* 0666 & ~022 when no permissions were sent */
    feed(s, q);
    rep_attrs(w, 24, 14, 0, 0100644, NOW);
    expect_pk(&f, w);

    /* APPEND ignores offsets; FSETSTAT size truncates. */
    q->len = 0;
    req_open(q, 30, "/tmp/app", 0x02 | 0x04 | 0x08, 0600);
    req_write(q, 31, 0, 999, "abc", 3);
    req_write(q, 32, 0, 0, "def", 3);
    pk_begin(q, FSETSTAT); pk_u32(q, 33); pk_strn(q, "\0\0\0\0", 4); pk_u32(q, 1); pk_u64(q, 5); pk_end(q);
    req_handle(q, CLOSE, 34, 0);
    feed(s, q);
    rep_handle(w, 30, 0);
    rep_status(w, 31, 0);
    rep_status(w, 32, 0);
    rep_status(w, 33, 0);
    rep_status(w, 34, 0);
    expect_pk(&f, w);
    expect_upload(&f, find_event(&f, "session.file_upload", 2), "/tmp/app", 5, "abcde", 5, "sftp");

    /* Opening a directory for writing, a missing file for reading, EXCL on an existing file. */
    q->len = 0;
    req_open(q, 40, "/tmp", 0x02 | 0x08, -1);
    req_open(q, 41, "/etc/shadow", 0x01, -1);
    req_open(q, 42, "/tmp/x.sh", 0x02 | 0x08 | 0x20, -1);
    req_open(q, 43, "/tmp/new", 0x02, -1);             /* no CREAT */
    req_open(q, 44, "", 0x02 | 0x08, -1);
    feed(s, q);
    rep_status(w, 40, 4);
    rep_status(w, 41, 2);
    rep_status(w, 42, 4);
    rep_status(w, 43, 2);
    rep_status(w, 44, 2);
    expect_pk(&f, w);
    hp_sshfile_free(s);
    assert_int_equal(count_events(&f, "session.file_upload"), 3);
    assert_int_equal(f.exits, 0);
    free(q);
    free(w);
    fake_reset(&f);
}

static void test_sftp_dirs(void **state)
{
    struct fake f = { 0 };
    struct hp_sshfile_params p = params(&f);
    struct hp_sshfile *s = sftp_ready(&f, &p);
    struct pk *q = pk_new(), *w = pk_new();
    /* MKDIR, an upload in it, listing, RENAME, REMOVE, RMDIR. */
    pk_begin(q, MKDIR); pk_u32(q, 1); pk_str(q, "/tmp/.x"); pk_u32(q, 4); pk_u32(q, 0755); pk_end(q);
    pk_begin(q, MKDIR); pk_u32(q, 2); pk_str(q, "/tmp/.x"); pk_u32(q, 0); pk_end(q);
    pk_begin(q, MKDIR); pk_u32(q, 3); pk_str(q, "/nope/a"); pk_u32(q, 0); pk_end(q);
    req_open(q, 4, "/tmp/.x/bot", 0x1a, 0700);
    req_write(q, 5, 0, 0, "ELF", 3);
    req_handle(q, CLOSE, 6, 0);
    req_path(q, OPENDIR, 7, "/tmp/.x");
    feed(s, q);
    rep_status(w, 1, 0);
    rep_status(w, 2, 4);
    rep_status(w, 3, 2);
    rep_handle(w, 4, 0);
    rep_status(w, 5, 0);
    rep_status(w, 6, 0);
    rep_handle(w, 7, 0);
    expect_pk(&f, w);
    q->len = 0;
    req_handle(q, READDIR, 8, 0);
    req_handle(q, READDIR, 9, 0);
    req_handle(q, CLOSE, 10, 0);
    feed(s, q);
    /* ".", "..", "bot" with ls -l long names (Nov 14 2023 22:13 UTC is NOW). */
    pk_begin(w, NAME); pk_u32(w, 8); pk_u32(w, 3);
    pk_str(w, "."); pk_str(w, "drwxr-xr-x    2 root     root         4096 Nov 14 22:13 .");
    pk_u32(w, 0xf); pk_u64(w, 4096); pk_u32(w, 0); pk_u32(w, 0); pk_u32(w, 040755); pk_u32(w, NOW); pk_u32(w, NOW);
    pk_str(w, ".."); pk_str(w, "drwxrwxrwt    8 root     root         4096 Nov 14 20:43 ..");
    pk_u32(w, 0xf); pk_u64(w, 4096); pk_u32(w, 0); pk_u32(w, 0); pk_u32(w, 041777); pk_u32(w, NOW - 5400);
    pk_u32(w, NOW - 5400);
    pk_str(w, "bot"); pk_str(w, "-rwx------    1 root     root            3 Nov 14 22:13 bot");
    pk_u32(w, 0xf); pk_u64(w, 3); pk_u32(w, 0); pk_u32(w, 0); pk_u32(w, 0100700); pk_u32(w, NOW); pk_u32(w, NOW);
    pk_end(w);
    rep_status(w, 9, 1);
    rep_status(w, 10, 0);
    expect_pk(&f, w);

    q->len = 0;
    pk_begin(q, RENAME); pk_u32(q, 11); pk_str(q, "/tmp/.x/bot"); pk_str(q, "/tmp/.x/kworker"); pk_end(q);
    req_path(q, STAT, 12, "/tmp/.x/bot");
    req_path(q, STAT, 13, "/tmp/.x/kworker");
    req_path(q, RMDIR, 14, "/tmp/.x");              /* not empty */
    req_path(q, REMOVE, 15, "/tmp/.x/kworker");
    req_path(q, REMOVE, 16, "/tmp/.x/kworker");
    req_path(q, RMDIR, 17, "/tmp/.x");
    req_path(q, RMDIR, 18, "/tmp");                 /* a static directory: busy */
    req_path(q, REMOVE, 19, "/tmp");
    pk_begin(q, SYMLINK); pk_u32(q, 20); pk_str(q, "/tmp/a"); pk_str(q, "/tmp/b"); pk_end(q);
    req_path(q, OPENDIR, 21, "/tmp/nothing");
    req_handle(q, READDIR, 22, 5);                  /* never opened */
    feed(s, q);
    rep_status(w, 11, 0);
    rep_status(w, 12, 2);
    rep_attrs(w, 13, 3, 0, 0100700, NOW);
    rep_status(w, 14, 4);
    rep_status(w, 15, 0);
    rep_status(w, 16, 2);
    rep_status(w, 17, 0);
    rep_status(w, 18, 4);
    rep_status(w, 19, 4);
    rep_status(w, 20, 0);
    rep_status(w, 21, 2);
    rep_status(w, 22, 4);
    expect_pk(&f, w);

    /* The root listing starts with ".", ".." and holds the usual top-level names. */
    q->len = 0;
    req_path(q, OPENDIR, 30, "/");
    req_handle(q, READDIR, 31, 0);
    feed(s, q);
    assert_true(f.len > 200);
    assert_int_equal(f.out[4], HANDLE);
    assert_int_equal(f.out[17 + 4], NAME);           /* after HANDLE: 4 + 1 + 4 + 4 + 4 bytes */
    assert_non_null(memmem(f.out, f.len, "\0\0\0\x04root", 8));
    assert_non_null(memmem(f.out, f.len, "\0\0\0\x03tmp", 7));
    assert_non_null(memmem(f.out, f.len, "lrwxrwxrwx    1 root     root            7", 42));
    f.len = 0;
    /* users-groups-by-id: uid 0 and an unknown one. */
    q->len = 0;
    pk_begin(q, EXTENDED); pk_u32(q, 40); pk_str(q, "users-groups-by-id@openssh.com");
    pk_strn(q, "\0\0\0\0\0\0\x03\xe9", 8); pk_strn(q, "\0\0\0\0", 4); pk_end(q);
    feed(s, q);
    pk_begin(w, EXTENDED_REPLY); pk_u32(w, 40);
    pk_strn(w, "\0\0\0\x04root\0\0\0\0", 12); pk_strn(w, "\0\0\0\x04root", 8); pk_end(w);
    expect_pk(&f, w);
    /* statvfs: eleven uint64s for an existing path, NO_SUCH_FILE otherwise. */
    q->len = 0;
    pk_begin(q, EXTENDED); pk_u32(q, 41); pk_str(q, "statvfs@openssh.com"); pk_str(q, "/tmp"); pk_end(q);
    pk_begin(q, EXTENDED); pk_u32(q, 42); pk_str(q, "statvfs@openssh.com"); pk_str(q, "/x/y"); pk_end(q);
    feed(s, q);
    assert_int_equal(f.len, 4 + 1 + 4 + 11 * 8 + 4 + 1 + 4 + 4 + 4 + 12 + 4);
    assert_memory_equal(f.out, "\0\0\0\x5d\xc9\0\0\0\x29\0\0\0\0\0\0\x10\0", 17);  /* f_bsize 4096 */
    assert_int_equal(f.out[97 + 4], STATUS);
    assert_int_equal(f.out[97 + 12], 2);
    f.len = 0;
    /* An extended request missing its fields is fatal. */
    q->len = 0;
    req_path(q, EXTENDED, 43, "statvfs@openssh.com");
    feed(s, q);
    assert_int_equal(f.exits, 1);
    assert_int_equal(f.status, 255);
    assert_int_equal(f.len, 0);
    hp_sshfile_free(s);
    free(q);
    free(w);
    fake_reset(&f);
}

/* A packet-level hostile input must end the server with status want and no reply. */
static void expect_fatal(const struct pk *q, int want)
{
    struct fake f = { 0 };
    struct hp_sshfile_params p = params(&f);
    struct hp_sshfile *s = sftp_ready(&f, &p);
    feed(s, q);
    assert_int_equal(f.exits, 1);
    assert_int_equal(f.status, want);
    assert_int_equal(f.len, 0);
    hp_sshfile_free(s);
    fake_reset(&f);
}

static void test_sftp_hostile_packets(void **state)
{
    struct pk *q = pk_new();
    /* A 2 GiB length: sftp-server exits 11 at once, without waiting for the bytes. */
    pk_u32(q, 0x7fffffff);
    pk_u8(q, OPEN);
    expect_fatal(q, 11);
    q->len = 0;
    pk_u32(q, 256 * 1024 + 1);
    expect_fatal(q, 11);
    /* Lying string length (longer than the packet). */
    q->len = 0;
    pk_begin(q, OPEN); pk_u32(q, 1); pk_u32(q, 1000); pk_u8(q, 'a'); pk_end(q);
    expect_fatal(q, 255);
    q->len = 0;
    pk_begin(q, STAT); pk_u32(q, 1); pk_u32(q, 0xffffffff); pk_end(q);
    expect_fatal(q, 255);
    /* Length 0 and a packet too short for its id. */
    q->len = 0;
    pk_u32(q, 0);
    expect_fatal(q, 255);
    q->len = 0;
    pk_begin(q, STAT); pk_u8(q, 0); pk_end(q);
    expect_fatal(q, 255);
    /* NUL inside a name (sshbuf_get_cstring refuses it). */
    q->len = 0;
    pk_begin(q, OPEN); pk_u32(q, 1); pk_strn(q, "/tmp/a\0b", 8); pk_u32(q, 0x1a); pk_u32(q, 0); pk_end(q);
    expect_fatal(q, 255);
    /* Attributes running past the packet; an extended-attribute count that lies. */
    q->len = 0;
    pk_begin(q, OPEN); pk_u32(q, 1); pk_str(q, "/tmp/a"); pk_u32(q, 0x1a); pk_u32(q, 0xf); pk_u32(q, 1); pk_end(q);
    expect_fatal(q, 255);
    q->len = 0;
    pk_begin(q, MKDIR); pk_u32(q, 1); pk_str(q, "/tmp/a"); pk_u32(q, 0x80000000); pk_u32(q, 0xffffffff); pk_end(q);
    expect_fatal(q, 255);
    /* WRITE whose data length lies. */
    q->len = 0;
    pk_begin(q, WRITE); pk_u32(q, 1); pk_strn(q, "\0\0\0\0", 4); pk_u64(q, 0); pk_u32(q, 50); pk_end(q);
    expect_fatal(q, 255);
    /* users-groups-by-id with a partial uid. */
    q->len = 0;
    pk_begin(q, EXTENDED); pk_u32(q, 1); pk_str(q, "users-groups-by-id@openssh.com"); pk_strn(q, "\0\0\0", 3);
    pk_strn(q, "", 0); pk_end(q);
    expect_fatal(q, 255);

    /* Requests before INIT are fatal. */
    struct fake f = { 0 };
    struct hp_sshfile_params p = params(&f);
    struct hp_sshfile *s = hp_sftp_new(&p);
    q->len = 0;
    req_path(q, STAT, 1, "/");
    feed(s, q);
    assert_int_equal(f.exits, 1);
    assert_int_equal(f.status, 255);
    assert_int_equal(f.len, 0);
    hp_sshfile_free(s);
    fake_reset(&f);

    /* Trailing garbage inside a packet is ignored; bogus handles answer as sftp-server does. */
    s = sftp_ready(&f, &p);
    struct pk *w = pk_new();
    q->len = 0;
    pk_begin(q, STAT); pk_u32(q, 1); pk_str(q, "/tmp"); pk_str(q, "trailing junk"); pk_end(q);
    pk_begin(q, CLOSE); pk_u32(q, 2); pk_strn(q, "\0\0\0\0\0", 5); pk_end(q);
    pk_begin(q, CLOSE); pk_u32(q, 3); pk_strn(q, "", 0); pk_end(q);
    req_handle(q, CLOSE, 4, 0xffffffff);
    req_write(q, 5, 7, 0, "x", 1);
    pk_begin(q, READ); pk_u32(q, 6); pk_strn(q, "\0\0\0\x0f", 4); pk_u64(q, 0); pk_u32(q, 1); pk_end(q);
    req_handle(q, FSTAT, 7, 3);
    pk_begin(q, EXTENDED); pk_u32(q, 8); pk_str(q, "fsync@openssh.com"); pk_strn(q, "\0\0\0\x01", 4); pk_end(q);
    feed(s, q);
    rep_attrs(w, 1, 4096, 0, 041777, NOW - 5400);
    rep_status(w, 2, 2);
    rep_status(w, 3, 2);
    rep_status(w, 4, 2);
    rep_status(w, 5, 4);
    rep_status(w, 6, 4);
    rep_status(w, 7, 4);
    rep_status(w, 8, 2);
    expect_pk(&f, w);
    assert_int_equal(f.exits, 0);
    hp_sshfile_free(s);
    fake_reset(&f);
    free(q);
    free(w);
}

static void test_sftp_handles_and_caps(void **state)
{
    struct fake f = { 0 };
    struct hp_sshfile_params p = params(&f);
    p.max_file = 16;
    p.max_total = 40;
    struct hp_sshfile *s = sftp_ready(&f, &p);
    struct pk *q = pk_new(), *w = pk_new();
    /* 100 OPENs: 16 handles, then FAILURE. */
    for (uint32_t i = 0; i < 100; i++) {
        char name[32];
        snprintf(name, sizeof(name), "/tmp/f%u", i);
        req_open(q, i, name, 0x1a, -1);
    }
    feed(s, q);
    for (uint32_t i = 0; i < 100; i++) {
        if (i < 16)
            rep_handle(w, i, i);
        else
            rep_status(w, i, 4);
    }
    expect_pk(&f, w);
    /* Handle 0: 20 bytes, only 16 kept.  Handle 1: 16 more fit max_total (40), then 8 of handle 2. */
    q->len = 0;
    req_write(q, 200, 0, 0, "0123456789abcdefghij", 20);
    req_write(q, 201, 1, 0, "ABCDEFGHIJKLMNOP", 16);
    req_write(q, 202, 2, 0, "qrstuvwxyz", 10);
    req_write(q, 203, 3, 0, "never", 5);
    req_write(q, 204, 4, UINT64_MAX - 1, "wrap", 4); /* offset + length wraps around 2^64 */
    req_write(q, 205, 5, 1ull << 62, "far", 3);
    req_write(q, 206, 6, 0, "", 0);
    feed(s, q);
    for (uint32_t i = 200; i <= 206; i++)
        rep_status(w, i, 0);                          /* every write is acknowledged */
    expect_pk(&f, w);
    q->len = 0;
    for (uint32_t i = 0; i < 7; i++)
        req_handle(q, CLOSE, 300 + i, i);
    feed(s, q);
    for (uint32_t i = 0; i < 7; i++)
        rep_status(w, 300 + i, 0);
    expect_pk(&f, w);
    expect_upload(&f, find_event(&f, "session.file_upload", 0), "/tmp/f0", 20, "0123456789abcdef", 16, "sftp");
    expect_upload(&f, find_event(&f, "session.file_upload", 1), "/tmp/f1", 16, "ABCDEFGHIJKLMNOP", 16, "sftp");
    expect_upload(&f, find_event(&f, "session.file_upload", 2), "/tmp/f2", 10, "qrstuvwx", 8, "sftp");
    expect_upload(&f, find_event(&f, "session.file_upload", 3), "/tmp/f3", 5, "", 0, "sftp");
    int e4 = find_event(&f, "session.file_upload", 4);
    expect_ev(&f, e4, "size", "18446744073709551615");
    expect_ev(&f, e4, "truncated", "true");
    int e5 = find_event(&f, "session.file_upload", 5);
    expect_ev(&f, e5, "size", "4611686018427387907");
    expect_ev(&f, e5, "stored_size", "0");
    expect_upload(&f, find_event(&f, "session.file_upload", 6), "/tmp/f6", 0, "", 0, "sftp");
    /* Handles left open are stored at EOF (exit 0); the remaining 9 were never written. */
    assert_int_equal(count_events(&f, "session.file_upload"), 7);
    hp_sshfile_eof(s);
    assert_int_equal(f.exits, 1);
    assert_int_equal(f.status, 0);
    assert_int_equal(count_events(&f, "session.file_upload"), 16);
    hp_sshfile_free(s);
    assert_int_equal(count_events(&f, "session.file_upload"), 16);
    fake_reset(&f);

    /* free() without EOF (connection dropped) also stores an open file. */
    s = sftp_ready(&f, &p);
    q->len = 0;
    req_open(q, 1, "/dev/shm/x", 0x1a, -1);
    req_write(q, 2, 0, 0, "part", 4);
    feed(s, q);
    hp_sshfile_free(s);
    assert_int_equal(f.exits, 0);
    expect_upload(&f, find_event(&f, "session.file_upload", 0), "/dev/shm/x", 4, "part", 4, "sftp");
    fake_reset(&f);
    free(q);
    free(w);
}

/* A whole session: every way TCP could cut it must give the same bytes and events. */
static void build_session(struct pk *q)
{
    req_init(q);
    req_path(q, REALPATH, 1, ".");
    pk_begin(q, EXTENDED); pk_u32(q, 2); pk_str(q, "limits@openssh.com"); pk_end(q);
    req_path(q, STAT, 3, "/tmp/");
    req_open(q, 4, "/tmp/../tmp/split.bin", 0x1a, 0755);
    uint8_t data[300];
    for (int i = 0; i < 300; i++)
        data[i] = (uint8_t)(i * 7);
    req_write(q, 5, 0, 0, data, 300);
    req_write(q, 6, 0, 300, "end", 3);
    req_handle(q, CLOSE, 7, 0);
    req_path(q, OPENDIR, 8, "/tmp");
    req_handle(q, READDIR, 9, 0);
    req_handle(q, READDIR, 10, 0);
    req_handle(q, CLOSE, 11, 0);
}

static void run_split(const struct pk *q, size_t cut, bool bytewise, struct fake *f)
{
    struct hp_sshfile_params p = params(f);
    struct hp_sshfile *s = hp_sftp_new(&p);
    hp_sshfile_start(s);
    if (bytewise) {
        for (size_t i = 0; i < q->len; i++)
            hp_sshfile_input(s, q->b + i, 1);
    } else {
        hp_sshfile_input(s, q->b, cut);
        hp_sshfile_input(s, q->b + cut, q->len - cut);
    }
    hp_sshfile_eof(s);
    hp_sshfile_free(s);
}

static void test_sftp_split_points(void **state)
{
    struct pk *q = pk_new();
    build_session(q);
    struct fake ref = { 0 };
    run_split(q, q->len, false, &ref);
    assert_int_equal(ref.exits, 1);
    assert_int_equal(ref.status, 0);
    assert_int_equal(count_events(&ref, "session.file_upload"), 1);
    uint8_t data[303];
    for (int i = 0; i < 300; i++)
        data[i] = (uint8_t)(i * 7);
    memcpy(data + 300, "end", 3);
    expect_upload(&ref, find_event(&ref, "session.file_upload", 0), "/tmp/../tmp/split.bin", 303, data, 303, "sftp");
    for (size_t cut = 0; cut <= q->len; cut++) {
        struct fake f = { 0 };
        run_split(q, cut, false, &f);
        assert_int_equal(f.len, ref.len);
        assert_memory_equal(f.out, ref.out, ref.len);
        assert_int_equal(f.nev, ref.nev);
        assert_int_equal(count_events(&f, "session.file_upload"), 1);
        fake_reset(&f);
    }
    struct fake f = { 0 };
    run_split(q, 0, true, &f);
    assert_int_equal(f.len, ref.len);
    assert_memory_equal(f.out, ref.out, ref.len);
    fake_reset(&f);
    /* Cut short: every prefix ends cleanly (EOF = exit 0, an open file is still stored). */
    for (size_t cut = 0; cut < q->len; cut += 7) {
        struct fake g = { 0 };
        struct hp_sshfile_params p = params(&g);
        struct hp_sshfile *s = hp_sftp_new(&p);
        hp_sshfile_input(s, q->b, cut);
        hp_sshfile_eof(s);
        assert_int_equal(g.exits, 1);
        assert_int_equal(g.status, 0);
        hp_sshfile_free(s);
        fake_reset(&g);
    }
    fake_reset(&ref);
    free(q);
}

/* ---- SCP tests ---------------------------------------------------------------------------------- */

static struct hp_sshfile *scp(struct fake *f, const char *cmd)
{
    struct hp_sshfile_params p = params(f);
    return hp_scp_sink_new(&p, cmd);
}

static void in(struct hp_sshfile *s, const char *str, size_t n)
{
    hp_sshfile_input(s, str, n);
}
#define IN(s, str) in((s), (str), sizeof(str) - 1)

static void test_scp_cmdline(void **state)
{
    struct fake f = { 0 };
    static const char *const yes[] = {
        "scp -t /tmp/", "scp -t .", "scp -v -t /tmp", "scp -r -p -d -t -- -dash", "/usr/bin/scp -t x",
        "scp -pt /tmp", "scp -f /etc/passwd", "scp -l 100 -t /tmp", "scp  -t  '/tmp/a b'", "scp -t \"/tmp/q\"",
        "scp -t", "scp -t a b",
    };
    static const char *const no[] = {
        "ls -la", "scp", "scp /etc/passwd root@1.2.3.4:", "scp -t /tmp; rm -rf /", "scp -t /tmp && id",
        "scp -t $(id)", "scp -t `id`", "scp -t /tmp | sh", "scp -t /tmp > x", "scp -Z -t /tmp", "scp -t '/tmp",
        "scpx -t /tmp", "sh -c 'scp -t /tmp'", "", "scp -l", "scp -t /tmp/*", "echo scp -t /tmp",
    };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        struct hp_sshfile *s = scp(&f, yes[i]);
        if (!s)
            fprintf(stderr, "not recognised: %s\n", yes[i]);
        assert_non_null(s);
        hp_sshfile_free(s);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        struct hp_sshfile *s = scp(&f, no[i]);
        if (s)
            fprintf(stderr, "wrongly recognised: %s\n", no[i]);
        assert_null(s);
    }
    assert_null(scp(&f, NULL));
    assert_int_equal(f.len, 0);
    fake_reset(&f);
}

static void test_scp_sink(void **state)
{
    struct fake f = { 0 };
    struct hp_sshfile *s = scp(&f, "scp -t /tmp/");
    assert_int_equal(f.len, 0);                       /* nothing before start */
    hp_sshfile_start(s);
    expect_out(&f, "", 1);                            /* the sink's opening "\0" */
    IN(s, "C0755 5 a.sh\n");
    expect_out(&f, "", 1);
    IN(s, "hel");
    IN(s, "lo");
    assert_int_equal(f.len, 0);
    IN(s, "\0");
    expect_out(&f, "", 1);
    expect_upload(&f, 0, "/tmp/a.sh", 5, "hello", 5, "scp");
    /* A second file in one chunk with the next header. */
    IN(s, "C0644 3 b\nxyz\0C0600 0 empty\n\0");
    expect_out(&f, "\0\0\0\0", 4);
    expect_upload(&f, 1, "/tmp/b", 3, "xyz", 3, "scp");
    expect_upload(&f, 2, "/tmp/empty", 0, "", 0, "scp");
    hp_sshfile_eof(s);
    assert_int_equal(f.exits, 1);
    assert_int_equal(f.status, 0);
    hp_sshfile_free(s);
    fake_reset(&f);

    /* Input before start starts the sink (the "\0" goes first); a file target. */
    s = scp(&f, "scp -t /tmp/payload");
    IN(s, "C0644 2 ignored.name\nhi\0");
    expect_out(&f, "\0\0\0", 3);
    expect_upload(&f, 0, "/tmp/payload", 2, "hi", 2, "scp");
    /* "E" at the top level ends the sink. */
    IN(s, "E\n");
    expect_out(&f, "", 1);
    assert_int_equal(f.exits, 1);
    assert_int_equal(f.status, 0);
    hp_sshfile_free(s);
    fake_reset(&f);
}

static void test_scp_recursive(void **state)
{
    struct fake f = { 0 };
    struct hp_sshfile *s = scp(&f, "scp -r -p -t .");
    hp_sshfile_start(s);
    expect_out(&f, "", 1);
    IN(s, "T1700000000 0 1700000001 0\n");
    expect_out(&f, "", 1);
    IN(s, "D0755 0 kit\n");
    expect_out(&f, "", 1);
    IN(s, "T1700000000 123456 1700000001 999999\nC0700 4 run\nELF!\0");
    expect_out(&f, "\0\0\0", 3);
    IN(s, "D0700 0 sub\nC0600 1 k\nK\0E\nE\n");
    expect_out(&f, "\0\0\0\0\0", 5);
    expect_upload(&f, 0, "./kit/run", 4, "ELF!", 4, "scp");
    expect_upload(&f, 1, "./kit/sub/k", 1, "K", 1, "scp");
    assert_int_equal(f.exits, 0);
    hp_sshfile_eof(s);
    assert_int_equal(f.exits, 1);
    assert_int_equal(f.status, 0);
    hp_sshfile_free(s);
    fake_reset(&f);

    /* A directory without -r is a protocol error. */
    s = scp(&f, "scp -t /tmp");
    hp_sshfile_start(s);
    IN(s, "D0755 0 kit\n");
    EXPECT_STR(&f, "\0\1scp: protocol error: received directory without -r\n");
    assert_int_equal(f.exits, 1);
    assert_int_equal(f.status, 1);
    hp_sshfile_free(s);
    fake_reset(&f);
}

/* One header record on a fresh "scp -t /tmp" sink: the output after the opening "\0" and the exit status (-1: none). */
static void expect_record(const char *rec, size_t n, const char *want, size_t wantlen, int status)
{
    struct fake f = { 0 };
    struct hp_sshfile *s = scp(&f, "scp -t /tmp");
    hp_sshfile_start(s);
    expect_out(&f, "", 1);
    hp_sshfile_input(s, rec, n);
    expect_out(&f, want, wantlen);
    if (status < 0) {
        assert_int_equal(f.exits, 0);
    } else {
        assert_int_equal(f.exits, 1);
        assert_int_equal(f.status, status);
    }
    hp_sshfile_free(s);
    fake_reset(&f);
}
#define REC(rec, want, st) expect_record((rec), sizeof(rec) - 1, (want), sizeof(want) - 1, (st))

static void test_scp_hostile(void **state)
{
    REC("C0644 1 ../x\n", "\1scp: error: unexpected filename: ../x\n", 1);
    REC("C0644 1 ..\n", "\1scp: error: unexpected filename: ..\n", 1);
    REC("C0644 1 \n", "\1scp: error: unexpected filename: \n", 1);
    REC("C0644 1 a/b\n", "\1scp: error: unexpected filename: a/b\n", 1);
    REC("C0644 1 \0evil\n", "\1scp: error: unexpected filename: \n", 1);
    REC("C06x4 1 a\n", "\1scp: protocol error: bad mode\n", 1);
    REC("C064 1 a\n", "\1scp: protocol error: bad mode\n", 1);
    REC("C06444 1 a\n", "\1scp: protocol error: mode not delimited\n", 1);
    REC("C0644 x a\n", "\1scp: protocol error: size not present\n", 1);
    REC("C0644 -1 a\n", "\1scp: protocol error: size not present\n", 1);
    REC("C0644 12a\n", "\1scp: protocol error: size not delimited\n", 1);
    REC("C0644 99999999999999999999999 a\n", "\1scp: protocol error: size out of range\n", 1);
    REC("C0644 9223372036854775808 a\n", "\1scp: protocol error: size out of range\n", 1);
    REC("\n", "\1scp: protocol error: unexpected <newline>\n", 1);
    REC("No match.\n", "\1scp: No match.\n", 1);
    REC("T1 0 2\n", "\1scp: protocol error: atime.sec not delimited\n", 1);
    REC("T1 1000000 2 0\n", "\1scp: protocol error: mtime.usec not delimited\n", 1);
    REC("Tx\n", "\1scp: protocol error: mtime.sec not present\n", 1);
    REC("T1 0 2 0\nX\n", "\0\1scp: protocol error: expected control record\n", 1);
    REC("\2fatal\n", "", 1);
    REC("\1warning\n", "", -1);
    REC("C0644 0 a\0b\n", "\0", -1);                   /* the name ends at the NUL: "a" */
    /* Name over NAME_MAX: refused like open(2), the sink goes on. */
    char rec[400];
    int n = snprintf(rec, sizeof(rec), "C0644 1 %0300d\n", 7);
    char want[400];
    int wn = snprintf(want, sizeof(want), "\1scp: /tmp/%0300d: File name too long\n", 7);
    expect_record(rec, (size_t)n, want, (size_t)wn, -1);
    /* A header line longer than 8 KiB. */
    char *big = malloc(9000);
    memset(big, 'C', 9000);
    expect_record(big, 9000, "\1scp: protocol error: header line too long\n",
                  sizeof("\1scp: protocol error: header line too long\n") - 1, 1);
    free(big);

    /* The name with a NUL is stored under the part before the NUL. */
    struct fake f = { 0 };
    struct hp_sshfile *s = scp(&f, "scp -t /tmp");
    IN(s, "C0644 1 a\0b/../../x\nZ\0");
    expect_out(&f, "\0\0\0", 3);
    expect_upload(&f, 0, "/tmp/a", 1, "Z", 1, "scp");
    /* The client reports an error after the data: the file is kept, the sink acks, errors give status 1. */
    IN(s, "C0644 2 c\nQQ\1scp: read error\n");
    expect_out(&f, "\0\0", 2);
    expect_upload(&f, 1, "/tmp/c", 2, "QQ", 2, "scp");
    hp_sshfile_eof(s);
    assert_int_equal(f.status, 1);
    hp_sshfile_free(s);
    fake_reset(&f);

    /* Ambiguous target. */
    s = scp(&f, "scp -t a b");
    hp_sshfile_start(s);
    EXPECT_STR(&f, "\1scp: ambiguous target\n");
    assert_int_equal(f.status, 1);
    hp_sshfile_free(s);
    fake_reset(&f);
    s = scp(&f, "scp -t");
    hp_sshfile_start(s);
    EXPECT_STR(&f, "\1scp: ambiguous target\n");
    hp_sshfile_free(s);
    fake_reset(&f);

    /* EOF inside the data: the part is captured as truncated; "Broken pipe"; status 1. */
    s = scp(&f, "scp -t /tmp/");
    IN(s, "C0644 10 part\n12345");
    hp_sshfile_eof(s);
    EXPECT_STR(&f, "\0\0\1scp: Broken pipe\n");
    assert_int_equal(f.status, 1);
    int e = find_event(&f, "session.file_upload", 0);
    expect_ev(&f, e, "size", "5");
    expect_ev(&f, e, "truncated", "true");
    hp_sshfile_free(s);
    fake_reset(&f);
    /* EOF inside a header line. */
    s = scp(&f, "scp -t /tmp/");
    IN(s, "C0644 10");
    hp_sshfile_eof(s);
    EXPECT_STR(&f, "\0\1scp: protocol error: lost connection\n");
    hp_sshfile_free(s);
    fake_reset(&f);
    /* EOF before the client's status byte: the data is complete, lostconn: status 1. */
    s = scp(&f, "scp -t /tmp/");
    IN(s, "C0644 2 full\nok");
    hp_sshfile_eof(s);
    expect_upload(&f, 0, "/tmp/full", 2, "ok", 2, "scp");
    assert_int_equal(f.status, 1);
    hp_sshfile_free(s);
    fake_reset(&f);
    /* free() inside the data (connection dropped). */
    s = scp(&f, "scp -t /tmp/");
    IN(s, "C0644 10 gone\nabc");
    hp_sshfile_free(s);
    e = find_event(&f, "session.file_upload", 0);
    expect_ev(&f, e, "size", "3");
    expect_ev(&f, e, "truncated", "true");
    fake_reset(&f);
}

static void test_scp_caps(void **state)
{
    struct fake f = { 0 };
    struct hp_sshfile_params p = params(&f);
    p.max_file = 4;
    p.max_total = 6;
    struct hp_sshfile *s = hp_scp_sink_new(&p, "scp -t /tmp");
    IN(s, "C0644 10 one\n0123456789\0C0644 10 two\nabcdefghij\0C0644 3 three\nxyz\0");
    expect_out(&f, "\0\0\0\0\0\0\0", 7);
    expect_upload(&f, 0, "/tmp/one", 10, "0123", 4, "scp");
    expect_upload(&f, 1, "/tmp/two", 10, "ab", 2, "scp");
    expect_upload(&f, 2, "/tmp/three", 3, "", 0, "scp");
    hp_sshfile_free(s);
    fake_reset(&f);
}

static void test_scp_source(void **state)
{
    struct fake f = { 0 };
    struct hp_sshfile *s = scp(&f, "scp -f /etc/passwd /root/.ssh/");
    hp_sshfile_start(s);
    assert_int_equal(f.len, 0);                       /* the source waits for the client's "\0" */
    IN(s, "\0");
    EXPECT_STR(&f, "\1scp: /etc/passwd: No such file or directory\n\1scp: /root/.ssh: No such file or directory\n");
    assert_int_equal(f.exits, 1);
    assert_int_equal(f.status, 1);
    IN(s, "\0");
    assert_int_equal(f.len, 0);
    hp_sshfile_free(s);
    fake_reset(&f);
    s = scp(&f, "scp -f x");
    IN(s, "\2bye\n");
    assert_int_equal(f.len, 0);
    assert_int_equal(f.status, 1);
    hp_sshfile_free(s);
    fake_reset(&f);
    s = scp(&f, "scp -f x");
    hp_sshfile_eof(s);
    assert_int_equal(f.status, 1);
    hp_sshfile_free(s);
    fake_reset(&f);
}

static void test_scp_split_points(void **state)
{
    static const char sess[] = "T1 0 2 0\nC0644 6 one\nabcdef\0D0755 0 d\nC0600 3 two\n\0\x01\xff\0E\nC0644 0 z\n\0";
    const size_t n = sizeof(sess) - 1;
    struct fake ref = { 0 };
    struct hp_sshfile *s = scp(&ref, "scp -r -t /var/tmp");
    in(s, sess, n);
    hp_sshfile_eof(s);
    hp_sshfile_free(s);
    assert_int_equal(ref.status, 0);
    assert_int_equal(count_events(&ref, "session.file_upload"), 3);
    expect_upload(&ref, 1, "/var/tmp/d/two", 3, "\0\x01\xff", 3, "scp");
    for (size_t cut = 0; cut <= n; cut++) {
        struct fake f = { 0 };
        s = scp(&f, "scp -r -t /var/tmp");
        in(s, sess, cut);
        in(s, sess + cut, n - cut);
        hp_sshfile_eof(s);
        hp_sshfile_free(s);
        assert_int_equal(f.len, ref.len);
        assert_memory_equal(f.out, ref.out, ref.len);
        assert_int_equal(f.nev, ref.nev);
        assert_int_equal(f.status, 0);
        fake_reset(&f);
    }
    struct fake f = { 0 };
    s = scp(&f, "scp -r -t /var/tmp");
    for (size_t i = 0; i < n; i++)
        in(s, sess + i, 1);
    hp_sshfile_eof(s);
    hp_sshfile_free(s);
    assert_int_equal(f.len, ref.len);
    assert_memory_equal(f.out, ref.out, ref.len);
    fake_reset(&f);
    fake_reset(&ref);
}

/* ---- setup ------------------------------------------------------------------------------------------ */

static int make_dir(void **state)
{
    snprintf(data_dir, sizeof(data_dir), "/tmp/hp-test-sshfile-XXXXXX");
    return mkdtemp(data_dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/payloads", data_dir);
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.' && (!de->d_name[1] || de->d_name[1] == '.'))
                continue;
            char p2[512];
            snprintf(p2, sizeof(p2), "%s/%s", path, de->d_name);
            unlink(p2);
        }
        closedir(d);
        rmdir(path);
    }
    return rmdir(data_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sftp_init_version),
        cmocka_unit_test(test_sftp_realpath),
        cmocka_unit_test(test_sftp_stat),
        cmocka_unit_test(test_sftp_upload),
        cmocka_unit_test(test_sftp_dirs),
        cmocka_unit_test(test_sftp_hostile_packets),
        cmocka_unit_test(test_sftp_handles_and_caps),
        cmocka_unit_test(test_sftp_split_points),
        cmocka_unit_test(test_scp_cmdline),
        cmocka_unit_test(test_scp_sink),
        cmocka_unit_test(test_scp_recursive),
        cmocka_unit_test(test_scp_hostile),
        cmocka_unit_test(test_scp_caps),
        cmocka_unit_test(test_scp_source),
        cmocka_unit_test(test_scp_split_points),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
