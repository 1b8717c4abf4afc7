/*
 * test_vfs.c - unit tests for the fake file system (src/shell/vfs.c).
 *
 * Covers: lexical path joining; lookup edge cases ("..", "." at the root,
 * trailing slashes, name and path length limits); symlinks (relative,
 * absolute, chains, loops -> ELOOP, dangling ones created through); the
 * merged-/usr Debian image and the busybox image (applet links, EROFS on
 * the squashfs root, writable /tmp); whiteouts (a removed base file is gone
 * from stat and listing, a re-created one is new); overlay sharing between
 * two sessions of one source and isolation between sources and
 * personalities; persistence expiry with an injected clock; quotas (per
 * file, per source, total with LRU eviction of idle overlays); capture
 * exactly once per dirty file; permissions of a non-root user; /proc and
 * /dev behaviour; rename, link, chmod, readlink; generated files agreeing
 * with hp_persona_mem/uptime; the memory a fresh session costs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "buf.h"
#include "shell/persona.h"
#include "shell/vfs.h"

#define T0 1750000000

struct cap {
    unsigned n;
    char path[256];
    size_t len;
    uint8_t first;
};

static void on_capture(void *arg, const char *path, const uint8_t *data, size_t len)
{
    struct cap *c = arg;
    c->n++;
    snprintf(c->path, sizeof(c->path), "%s", path);
    c->len = len;
    c->first = len ? data[0] : 0;
}

static struct sh_vfs *open_src(const char *persona, const char *source, unsigned uid, struct cap *cap)
{
    struct sh_vfs_params p = {
        .persona = hp_persona_get(persona), .source = source, .uid = uid, .gid = uid,
        .user = uid ? "@" : "root", .home = uid ? "/home/tester" : "/root",
        .capture = cap ? on_capture : NULL, .capture_arg = cap, .shell_pid = 4321,
    };
    struct sh_vfs *v = sh_vfs_open(&p);
    assert_non_null(v);
    return v;
}

static int setup(void **state)
{
    (void)state;
    sh_vfs_reset();
    sh_vfs_configure(3600, 0, 0);
    sh_vfs_test_clock(T0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sh_vfs_reset();
    sh_vfs_test_clock(0);
    return 0;
}

static char *read_all(struct sh_vfs *v, const char *path, long *n)
{
    struct hp_buf b;
    hp_buf_init(&b, 4 << 20);
    *n = sh_vfs_read(v, path, 0, 0, &b);
    char *s = strdup(*n >= 0 ? hp_buf_cstr(&b) : "");
    hp_buf_free(&b);
    return s;
}

static void put(struct sh_vfs *v, const char *path, const char *text, int flags)
{
    assert_int_equal(sh_vfs_write(v, path, text, strlen(text), flags, 0644), (long)strlen(text));
}

/* ---- paths --------------------------------------------------------------------------- */

static void test_abspath(void **state)
{
    (void)state;
    char o[4096];
    assert_int_equal(sh_vfs_abspath("/root", "x", o, sizeof(o)), 0);
    assert_string_equal(o, "/root/x");
    assert_int_equal(sh_vfs_abspath("/root", "../../..", o, sizeof(o)), 0);
    assert_string_equal(o, "/");
    assert_int_equal(sh_vfs_abspath("/a/b", "./c//d/../e/", o, sizeof(o)), 0);
    assert_string_equal(o, "/a/b/c/e");
    assert_int_equal(sh_vfs_abspath("/a", "/x/./y", o, sizeof(o)), 0);
    assert_string_equal(o, "/x/y");
    assert_int_equal(sh_vfs_abspath("/", "", o, sizeof(o)), 0);
    assert_string_equal(o, "/");
    assert_int_equal(sh_vfs_abspath("/", "abc", o, 4), -ENAMETOOLONG);
    char *big = malloc(5000);
    memset(big, 'a', 4999);
    big[4999] = 0;
    assert_int_equal(sh_vfs_abspath("/", big, o, sizeof(o)), -ENAMETOOLONG);
    free(big);
}

static void test_lookup(void **state)
{
    (void)state;
    struct sh_vfs *v = open_src("debian", NULL, 0, NULL);
    struct sh_stat st;
    assert_int_equal(sh_vfs_stat(v, "/", true, &st), 0);
    assert_int_equal(st.type, SH_FT_DIR);
    assert_int_equal(sh_vfs_stat(v, "/..", true, &st), 0);
    assert_int_equal(st.type, SH_FT_DIR);
    assert_int_equal(sh_vfs_stat(v, "/../../etc/./passwd", true, &st), 0);
    assert_int_equal(st.type, SH_FT_REG);
    assert_int_equal(sh_vfs_stat(v, "/etc/passwd/", true, &st), -ENOTDIR);
    assert_int_equal(sh_vfs_stat(v, "/etc/passwd/x", true, &st), -ENOTDIR);
    assert_int_equal(sh_vfs_stat(v, "/nonexistent", true, &st), -ENOENT);
    assert_int_equal(sh_vfs_stat(v, "/nonexistent/x", true, &st), -ENOENT);
    assert_int_equal(sh_vfs_stat(v, "", true, &st), -ENOENT);
    char name[300];
    memset(name, 'n', 256);
    name[0] = '/';
    name[257] = 0;
    memset(name + 1, 'n', 256);
    assert_int_equal(sh_vfs_stat(v, name, true, &st), -ENAMETOOLONG);
    /* merged /usr: /bin is a link, /bin/ls a program with its applet */
    assert_int_equal(sh_vfs_stat(v, "/bin", false, &st), 0);
    assert_int_equal(st.type, SH_FT_LNK);
    assert_int_equal(sh_vfs_stat(v, "/bin/ls", true, &st), 0);
    assert_int_equal(st.type, SH_FT_REG);
    assert_string_equal(st.applet, "ls");
    assert_true(st.size > 100000);
    char rp[4096];
    assert_int_equal(sh_vfs_realpath(v, "/bin/../bin/ls", rp, sizeof(rp)), 0);
    assert_string_equal(rp, "/usr/bin/ls");
    assert_int_equal(sh_vfs_realpath(v, "/usr/bin/awk", rp, sizeof(rp)), 0);
    assert_string_equal(rp, "/usr/bin/mawk");
    assert_int_equal(sh_vfs_stat(v, "/etc/shadow", true, &st), 0);
    assert_int_equal(st.mode, 0640);
    assert_int_equal(sh_vfs_stat(v, "/tmp", true, &st), 0);
    assert_int_equal(st.mode, 01777);
    assert_int_equal(sh_vfs_stat(v, "/root", true, &st), 0);
    assert_int_equal(st.mode, 0700);
    /* ELF header of a program says x86_64 */
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    assert_int_equal(sh_vfs_read(v, "/bin/echo", 0, 64, &b), 64);
    assert_memory_equal(b.data, "\x7f" "ELF\x02\x01\x01", 7);
    assert_int_equal(b.data[18], 62);
    hp_buf_free(&b);
    sh_vfs_close(v);
}

static void test_symlinks(void **state)
{
    (void)state;
    struct sh_vfs *v = open_src("debian", NULL, 0, NULL);
    struct sh_stat st;
    char buf[64];
    assert_int_equal(sh_vfs_symlink(v, "loop2", "/tmp/loop1"), 0);
    assert_int_equal(sh_vfs_symlink(v, "loop1", "/tmp/loop2"), 0);
    assert_int_equal(sh_vfs_stat(v, "/tmp/loop1", true, &st), -ELOOP);
    assert_int_equal(sh_vfs_stat(v, "/tmp/loop1", false, &st), 0);
    assert_int_equal(st.type, SH_FT_LNK);
    assert_int_equal(sh_vfs_readlink(v, "/tmp/loop1", buf, sizeof(buf)), 5);
    assert_string_equal(buf, "loop2");
    assert_int_equal(sh_vfs_readlink(v, "/etc/passwd", buf, sizeof(buf)), -EINVAL);
    assert_int_equal(sh_vfs_symlink(v, "/etc", "/tmp/e"), 0);
    assert_int_equal(sh_vfs_stat(v, "/tmp/e/passwd", true, &st), 0);
    assert_int_equal(sh_vfs_symlink(v, "x", "/tmp/e"), -EEXIST);
    /* a dangling link: writing through it creates its target */
    assert_int_equal(sh_vfs_symlink(v, "target", "/tmp/dangle"), 0);
    assert_int_equal(sh_vfs_stat(v, "/tmp/dangle", true, &st), -ENOENT);
    put(v, "/tmp/dangle", "hi\n", SH_O_CREAT | SH_O_TRUNC);
    assert_int_equal(sh_vfs_stat(v, "/tmp/target", true, &st), 0);
    assert_int_equal(st.size, 3);
    /* chain of 16 links resolves, 17 does not */
    char from[64], to[64];
    for (int i = 0; i < 17; i++) {
        snprintf(from, sizeof(from), "/tmp/c%d", i + 1);
        snprintf(to, sizeof(to), "c%d", i);
        assert_int_equal(sh_vfs_symlink(v, to, from), 0);
    }
    put(v, "/tmp/c0", "x", SH_O_CREAT);
    assert_int_equal(sh_vfs_stat(v, "/tmp/c16", true, &st), 0);
    assert_int_equal(sh_vfs_stat(v, "/tmp/c17", true, &st), -ELOOP);
    /* /proc/self */
    assert_int_equal(sh_vfs_readlink(v, "/proc/self", buf, sizeof(buf)), 4);
    assert_string_equal(buf, "4321");
    assert_int_equal(sh_vfs_readlink(v, "/proc/self/exe", buf, sizeof(buf)), (int)strlen("/usr/bin/bash"));
    assert_string_equal(buf, "/usr/bin/bash");
    sh_vfs_close(v);
}

/* ---- listing and whiteouts ------------------------------------------------------------------ */

struct names {
    char all[8192];
    unsigned n;
};

static int collect_name(void *arg, const char *name, const struct sh_stat *st)
{
    struct names *ns = arg;
    (void)st;
    size_t l = strlen(ns->all);
    snprintf(ns->all + l, sizeof(ns->all) - l, "%s ", name);
    ns->n++;
    return 0;
}

static void test_whiteout(void **state)
{
    (void)state;
    struct sh_vfs *v = open_src("debian", "10.0.0.1", 0, NULL);
    struct names ns = { "", 0 };
    struct sh_stat st;
    assert_true(sh_vfs_list(v, "/etc/ssh", collect_name, &ns) > 0);
    assert_non_null(strstr(ns.all, "sshd_config "));
    assert_int_equal(sh_vfs_unlink(v, "/etc/ssh/sshd_config"), 0);
    assert_int_equal(sh_vfs_stat(v, "/etc/ssh/sshd_config", true, &st), -ENOENT);
    memset(&ns, 0, sizeof(ns));
    sh_vfs_list(v, "/etc/ssh", collect_name, &ns);
    assert_null(strstr(ns.all, "sshd_config "));
    assert_non_null(strstr(ns.all, "ssh_config "));
    assert_int_equal(sh_vfs_unlink(v, "/etc/ssh/sshd_config"), -ENOENT);
    /* re-created: new, empty of the old contents */
    put(v, "/etc/ssh/sshd_config", "Port 2\n", SH_O_CREAT | SH_O_TRUNC);
    long n;
    char *s = read_all(v, "/etc/ssh/sshd_config", &n);
    assert_string_equal(s, "Port 2\n");
    free(s);
    /* rmdir of a non-empty base dir, then of an emptied one, then mkdir: empty */
    assert_int_equal(sh_vfs_rmdir(v, "/etc/cron.daily"), -ENOTEMPTY);
    assert_int_equal(sh_vfs_unlink(v, "/etc/cron.daily"), -EISDIR);
    memset(&ns, 0, sizeof(ns));
    sh_vfs_list(v, "/etc/cron.daily", collect_name, &ns);
    char *names = strdup(ns.all), *save = NULL;
    for (char *t = strtok_r(names, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        char p[256];
        snprintf(p, sizeof(p), "/etc/cron.daily/%s", t);
        assert_int_equal(sh_vfs_unlink(v, p), 0);
    }
    free(names);
    assert_int_equal(sh_vfs_rmdir(v, "/etc/cron.daily"), 0);
    assert_int_equal(sh_vfs_mkdir(v, "/etc/cron.daily", 0755), 0);
    assert_int_equal(sh_vfs_list(v, "/etc/cron.daily", NULL, NULL), 0);
    assert_int_equal(sh_vfs_mkdir(v, "/etc/cron.daily", 0755), -EEXIST);
    assert_int_equal(sh_vfs_rmdir(v, "/"), -EBUSY);
    assert_int_equal(sh_vfs_rmdir(v, "/proc"), -EBUSY);
    assert_int_equal(sh_vfs_mkdir(v, "/nope/x", 0755), -ENOENT);
    assert_int_equal(sh_vfs_mkdir(v, "/etc/passwd/x", 0755), -ENOTDIR);
    sh_vfs_close(v);
}

static void test_list_sorted_proc(void **state)
{
    (void)state;
    struct sh_vfs *v = open_src("debian", NULL, 0, NULL);
    struct names ns = { "", 0 };
    put(v, "/tmp/b", "1", SH_O_CREAT);
    put(v, "/tmp/a", "1", SH_O_CREAT);
    assert_true(sh_vfs_list(v, "/tmp", collect_name, &ns) >= 2);
    assert_non_null(strstr(ns.all, ".ICE-unix "));
    assert_true(strstr(ns.all, "a ") < strstr(ns.all, "b "));
    memset(&ns, 0, sizeof(ns));
    sh_vfs_list(v, "/proc", collect_name, &ns);
    assert_non_null(strstr(ns.all, "1 "));
    assert_non_null(strstr(ns.all, "4321 "));
    assert_non_null(strstr(ns.all, "self "));
    assert_non_null(strstr(ns.all, "cpuinfo "));
    long n;
    char *s = read_all(v, "/proc/1/cmdline", &n);
    assert_true(n > 0);
    free(s);
    assert_int_equal(sh_vfs_list(v, "/etc/passwd", NULL, NULL), -ENOTDIR);
    sh_vfs_close(v);
}

/* ---- overlays ---------------------------------------------------------------------------------- */

static void test_sharing_isolation(void **state)
{
    (void)state;
    struct sh_vfs *a = open_src("debian", "198.51.100.7", 0, NULL);
    struct sh_vfs *b = open_src("debian", "198.51.100.7", 0, NULL);
    struct sh_vfs *c = open_src("debian", "198.51.100.8", 0, NULL);
    struct sh_vfs *d = open_src("busybox", "198.51.100.7", 0, NULL);
    struct sh_stat st;
    put(a, "/tmp/drop", "payload", SH_O_CREAT | SH_O_TRUNC);
    assert_int_equal(sh_vfs_stat(b, "/tmp/drop", true, &st), 0);
    assert_int_equal(st.size, 7);
    assert_int_equal(sh_vfs_stat(c, "/tmp/drop", true, &st), -ENOENT);
    assert_int_equal(sh_vfs_stat(d, "/tmp/drop", true, &st), -ENOENT);
    sh_vfs_close(a);
    sh_vfs_close(b);
    /* comes back within the persistence time: still there */
    sh_vfs_test_clock(T0 + 1000);
    a = open_src("debian", "198.51.100.7", 0, NULL);
    assert_int_equal(sh_vfs_stat(a, "/tmp/drop", true, &st), 0);
    sh_vfs_close(a);
    /* after it: forgotten */
    sh_vfs_test_clock(T0 + 1000 + 3600);
    size_t srcs;
    uint64_t bytes;
    sh_vfs_stats(&srcs, &bytes);
    assert_int_equal(srcs, 2);    /* c and d still open */
    a = open_src("debian", "198.51.100.7", 0, NULL);
    assert_int_equal(sh_vfs_stat(a, "/tmp/drop", true, &st), -ENOENT);
    sh_vfs_close(a);
    sh_vfs_close(c);
    sh_vfs_close(d);
    /* private overlays vanish with their session */
    struct sh_vfs *p = open_src("debian", NULL, 0, NULL);
    put(p, "/tmp/x", "1", SH_O_CREAT);
    sh_vfs_close(p);
    p = open_src("debian", NULL, 0, NULL);
    assert_int_equal(sh_vfs_stat(p, "/tmp/x", true, &st), -ENOENT);
    sh_vfs_close(p);
    /* persist 0: overlays die with their last session */
    sh_vfs_configure(0, 0, 0);
    a = open_src("debian", "203.0.113.1", 0, NULL);
    put(a, "/tmp/y", "1", SH_O_CREAT);
    sh_vfs_close(a);
    a = open_src("debian", "203.0.113.1", 0, NULL);
    assert_int_equal(sh_vfs_stat(a, "/tmp/y", true, &st), -ENOENT);
    sh_vfs_close(a);
}

static void test_quotas(void **state)
{
    (void)state;
    struct sh_vfs *v = open_src("debian", "192.0.2.1", 0, NULL);
    char *big = calloc(1, SH_VFS_FILE_MAX + 1);
    assert_int_equal(sh_vfs_write(v, "/tmp/big", big, SH_VFS_FILE_MAX + 1, SH_O_CREAT, 0644), -ENOSPC);
    assert_int_equal(sh_vfs_write(v, "/tmp/big", big, SH_VFS_FILE_MAX, SH_O_CREAT, 0644), SH_VFS_FILE_MAX);
    assert_int_equal(sh_vfs_write(v, "/tmp/big", "x", 1, SH_O_APPEND, 0644), -ENOSPC);
    /* per source: 32 MiB */
    long r = 0;
    int i;
    for (i = 0; i < 8 && r >= 0; i++) {
        char p[32];
        snprintf(p, sizeof(p), "/tmp/f%d", i);
        r = sh_vfs_write(v, p, big, SH_VFS_FILE_MAX, SH_O_CREAT, 0644);
    }
    assert_int_equal(r, -ENOSPC);
    assert_true(i >= 3 && i <= 4);
    sh_vfs_close(v);
    free(big);
    /* total: idle overlays are evicted, least recently used first */
    sh_vfs_configure(3600, 4096, 2 * 4096);
    char data[3000];
    memset(data, 'a', sizeof(data));
    struct sh_vfs *s1 = open_src("debian", "10.9.0.1", 0, NULL);
    assert_int_equal(sh_vfs_write(s1, "/tmp/a", data, sizeof(data), SH_O_CREAT, 0644), (long)sizeof(data));
    assert_int_equal(sh_vfs_write(s1, "/tmp/b", data, sizeof(data), SH_O_CREAT, 0644), -ENOSPC);
    sh_vfs_close(s1);
    struct sh_vfs *s2 = open_src("debian", "10.9.0.2", 0, NULL);
    assert_int_equal(sh_vfs_write(s2, "/tmp/a", data, sizeof(data), SH_O_CREAT, 0644), (long)sizeof(data));
    sh_vfs_close(s2);
    struct sh_vfs *s3 = open_src("debian", "10.9.0.3", 0, NULL);
    assert_int_equal(sh_vfs_write(s3, "/tmp/a", data, sizeof(data), SH_O_CREAT, 0644), (long)sizeof(data));
    size_t srcs;
    uint64_t bytes;
    sh_vfs_stats(&srcs, &bytes);
    assert_true(bytes <= 2 * 4096);
    assert_true(srcs < 3);        /* 10.9.0.1 was evicted */
    struct sh_stat st;
    s1 = open_src("debian", "10.9.0.1", 0, NULL);
    assert_int_equal(sh_vfs_stat(s1, "/tmp/a", true, &st), -ENOENT);
    sh_vfs_close(s1);
    sh_vfs_close(s3);
}

static void test_capture_once(void **state)
{
    (void)state;
    struct cap cap = { 0 };
    struct sh_vfs *v = open_src("debian", "192.0.2.9", 0, &cap);
    for (int i = 0; i < 100; i++)
        assert_int_equal(sh_vfs_write(v, "/tmp/.x", "\x7f", 1, SH_O_CREAT | SH_O_APPEND, 0644), 1);
    assert_int_equal(cap.n, 0);
    sh_vfs_capture(v, "/tmp/.x");
    assert_int_equal(cap.n, 1);
    assert_int_equal(cap.len, 100);
    assert_string_equal(cap.path, "/tmp/.x");
    sh_vfs_capture(v, "/tmp/.x");  /* not dirty any more */
    assert_int_equal(cap.n, 1);
    /* overwritten while dirty: the old bytes are captured first */
    put(v, "/tmp/y", "AAAA", SH_O_CREAT | SH_O_TRUNC);
    put(v, "/tmp/y", "BB", SH_O_CREAT | SH_O_TRUNC);
    assert_int_equal(cap.n, 2);
    assert_int_equal(cap.first, 'A');
    /* removed while dirty */
    assert_int_equal(sh_vfs_unlink(v, "/tmp/y"), 0);
    assert_int_equal(cap.n, 3);
    assert_int_equal(cap.first, 'B');
    /* moved: captured once, under the new name, at close */
    put(v, "/tmp/z", "ZZ", SH_O_CREAT);
    assert_int_equal(sh_vfs_rename(v, "/tmp/z", "/var/tmp/z2"), 0);
    assert_int_equal(cap.n, 3);
    sh_vfs_close(v);
    assert_int_equal(cap.n, 4);
    assert_string_equal(cap.path, "/var/tmp/z2");
    /* a persisted overlay is not captured again by the next session */
    v = open_src("debian", "192.0.2.9", 0, &cap);
    sh_vfs_close(v);
    assert_int_equal(cap.n, 4);
}

static void test_rename_link_chmod(void **state)
{
    (void)state;
    struct sh_vfs *v = open_src("debian", NULL, 0, NULL);
    struct sh_stat st;
    long n;
    /* copy of a base program keeps its applet until written */
    assert_int_equal(sh_vfs_link(v, "/bin/busybox", "/tmp/bb"), -ENOENT);
    assert_int_equal(sh_vfs_link(v, "/usr/bin/echo", "/tmp/e"), 0);
    assert_int_equal(sh_vfs_stat(v, "/tmp/e", true, &st), 0);
    assert_string_equal(st.applet, "echo");
    put(v, "/tmp/e", "", SH_O_TRUNC);
    assert_int_equal(sh_vfs_stat(v, "/tmp/e", true, &st), 0);
    assert_null(st.applet);
    assert_int_equal(st.size, 0);
    /* rename a tree */
    assert_int_equal(sh_vfs_mkdir(v, "/tmp/d", 0755), 0);
    assert_int_equal(sh_vfs_mkdir(v, "/tmp/d/e", 0755), 0);
    put(v, "/tmp/d/e/f", "deep", SH_O_CREAT);
    assert_int_equal(sh_vfs_rename(v, "/tmp/d", "/tmp/d/e/g"), -EINVAL);
    assert_int_equal(sh_vfs_rename(v, "/tmp/d", "/tmp/m"), 0);
    char *s = read_all(v, "/tmp/m/e/f", &n);
    assert_string_equal(s, "deep");
    free(s);
    assert_int_equal(sh_vfs_stat(v, "/tmp/d", true, &st), -ENOENT);
    /* rename a base file: the base entry is gone, contents intact */
    assert_int_equal(sh_vfs_rename(v, "/etc/motd", "/root/motd"), 0);
    assert_int_equal(sh_vfs_stat(v, "/etc/motd", true, &st), -ENOENT);
    s = read_all(v, "/root/motd", &n);
    assert_non_null(strstr(s, "Debian GNU/Linux"));
    free(s);
    /* across file systems */
    assert_int_equal(sh_vfs_rename(v, "/tmp/m", "/dev/shm/m"), -EXDEV);
    /* chmod / chown of a base file */
    assert_int_equal(sh_vfs_chmod(v, "/etc/hostname", 0777), 0);
    assert_int_equal(sh_vfs_stat(v, "/etc/hostname", true, &st), 0);
    assert_int_equal(st.mode, 0777);
    s = read_all(v, "/etc/hostname", &n);
    assert_int_equal(n, (long)strlen(hp_persona_get("debian")->hostname) + 1);
    free(s);
    assert_int_equal(sh_vfs_chown(v, "/tmp/m", 1000, 1000), 0);
    assert_int_equal(sh_vfs_stat(v, "/tmp/m", true, &st), 0);
    assert_int_equal(st.uid, 1000);
    assert_string_equal(sh_vfs_user_name(v, 0), "root");
    assert_string_equal(sh_vfs_group_name(v, 42), "shadow");
    assert_null(sh_vfs_user_name(v, 4242));
    sh_vfs_close(v);
}

static void test_permissions(void **state)
{
    (void)state;
    struct sh_vfs *v = open_src("debian", NULL, 1000, NULL);
    struct sh_stat st;
    long n;
    char *s = read_all(v, "/etc/shadow", &n);
    free(s);
    assert_int_equal(n, -EACCES);
    assert_int_equal(sh_vfs_stat(v, "/root/.bashrc", true, &st), -EACCES);
    assert_int_equal(sh_vfs_list(v, "/root", NULL, NULL), -EACCES);
    assert_int_equal(sh_vfs_write(v, "/etc/passwd", "x", 1, SH_O_APPEND, 0644), -EACCES);
    assert_int_equal(sh_vfs_write(v, "/etc/newfile", "x", 1, SH_O_CREAT, 0644), -EACCES);
    assert_int_equal(sh_vfs_unlink(v, "/etc/hostname"), -EACCES);
    assert_int_equal(sh_vfs_chmod(v, "/etc/hostname", 0777), -EPERM);
    assert_int_equal(sh_vfs_access(v, "/etc/passwd", 4), 0);
    assert_int_equal(sh_vfs_access(v, "/etc/passwd", 2), -EACCES);
    assert_int_equal(sh_vfs_access(v, "/usr/bin/ls", 1), 0);
    /* home made in the overlay, owned by the user */
    assert_int_equal(sh_vfs_stat(v, "/home/tester", true, &st), 0);
    assert_int_equal(st.uid, 1001);          /* "tester" is added after the image's admin (1000) */
    put(v, "/home/tester/x", "1", SH_O_CREAT);
    put(v, "/tmp/mine", "1", SH_O_CREAT);
    sh_vfs_close(v);
    /* sticky /tmp: root's file cannot be removed by another user */
    struct sh_vfs *r = open_src("debian", "198.18.0.1", 0, NULL);
    put(r, "/tmp/roots", "1", SH_O_CREAT);
    assert_int_equal(sh_vfs_chmod(r, "/tmp/roots", 0666), 0);
    struct sh_vfs *u = open_src("debian", "198.18.0.1", 1000, NULL);
    assert_int_equal(sh_vfs_unlink(u, "/tmp/roots"), -EPERM);
    put(u, "/tmp/roots", "2", SH_O_APPEND);
    sh_vfs_close(u);
    /* root: /proc and /sys stay read-only */
    assert_int_equal(sh_vfs_write(r, "/proc/cpuinfo", "x", 1, SH_O_TRUNC, 0644), -EACCES);
    assert_int_equal(sh_vfs_write(r, "/proc/newfile", "x", 1, SH_O_CREAT, 0644), -ENOENT);
    assert_int_equal(sh_vfs_unlink(r, "/proc/cpuinfo"), -EPERM);
    assert_int_equal(sh_vfs_write(r, "/sys/class/net/lo/mtu", "1", 1, SH_O_TRUNC, 0644), -EACCES);
    assert_int_equal(sh_vfs_chmod(r, "/proc/cpuinfo", 0777), -EPERM);
    /* root: /root is fine */
    assert_int_equal(sh_vfs_stat(r, "/root/.bashrc", true, &st), 0);
    sh_vfs_close(r);
}

static void test_devices(void **state)
{
    (void)state;
    struct sh_vfs *v = open_src("debian", NULL, 0, NULL);
    struct hp_buf b;
    hp_buf_init(&b, 4 << 20);
    assert_int_equal(sh_vfs_read(v, "/dev/null", 0, 0, &b), 0);
    assert_int_equal(sh_vfs_write(v, "/dev/null", "abc", 3, SH_O_CREAT | SH_O_TRUNC, 0644), 3);
    assert_int_equal(sh_vfs_read(v, "/dev/zero", 0, 100, &b), 100);
    assert_int_equal(b.data[50], 0);
    hp_buf_reset(&b);
    assert_int_equal(sh_vfs_read(v, "/dev/zero", 0, 0, &b), SH_VFS_READ_MAX);
    hp_buf_reset(&b);
    assert_int_equal(sh_vfs_read(v, "/dev/urandom", 0, 16, &b), 16);
    struct sh_stat st;
    assert_int_equal(sh_vfs_stat(v, "/dev/null", true, &st), 0);
    assert_int_equal(st.type, SH_FT_CHR);
    assert_int_equal(st.rdev_major, 1);
    assert_int_equal(st.rdev_minor, 3);
    assert_int_equal(sh_vfs_read(v, "/etc", 0, 0, &b), -EISDIR);
    hp_buf_free(&b);
    sh_vfs_close(v);
}

static void test_busybox_image(void **state)
{
    (void)state;
    const struct hp_persona *p = hp_persona_get("busybox");
    struct sh_vfs *v = open_src("busybox", NULL, 0, NULL);
    struct sh_stat st;
    assert_int_equal(sh_vfs_stat(v, "/bin/busybox", true, &st), 0);
    assert_string_equal(st.applet, "busybox");
    assert_int_equal(sh_vfs_stat(v, "/bin/sh", true, &st), 0);
    assert_string_equal(st.applet, "sh");
    assert_int_equal(sh_vfs_stat(v, "/bin/sh", false, &st), 0);
    assert_int_equal(st.type, SH_FT_LNK);
    /* every applet of the personality has its link */
    for (const char *const *a = hp_persona_applets(p); *a; a++) {
        const char *dirs[] = { "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/" };
        bool found = false;
        for (size_t i = 0; i < 4 && !found; i++) {
            char path[128];
            snprintf(path, sizeof(path), "%s%s", dirs[i], *a);
            found = sh_vfs_stat(v, path, true, &st) == 0 && st.applet && !strcmp(st.applet, *a);
        }
        if (!found)
            fail_msg("no link for applet %s", *a);
    }
    /* squashfs root: read-only; /tmp and /var writable */
    assert_int_equal(sh_vfs_write(v, "/bin/x", "1", 1, SH_O_CREAT, 0644), -EROFS);
    assert_int_equal(sh_vfs_mkdir(v, "/etc/x", 0755), -EROFS);
    assert_int_equal(sh_vfs_unlink(v, "/bin/ls"), -EROFS);
    assert_int_equal(sh_vfs_write(v, "/tmp/x", "1", 1, SH_O_CREAT, 0644), 1);
    assert_int_equal(sh_vfs_write(v, "/var/run/x", "1", 1, SH_O_CREAT, 0644), 1);
    /* the ELF header matches the machine */
    struct hp_buf b;
    hp_buf_init(&b, 1 << 16);
    assert_int_equal(sh_vfs_read(v, "/bin/echo", 0, 52, &b), 52);
    assert_int_equal(b.data[4], 1);
    assert_int_equal(b.data[p->big_endian ? 19 : 18], p->elf_machine);
    hp_buf_free(&b);
    assert_int_equal(sh_vfs_stat(v, "/dev/watchdog", true, &st), 0);
    assert_int_equal(sh_vfs_stat(v, "/dev/mtdblock0", true, &st), 0);
    assert_int_equal(st.type, SH_FT_BLK);
    sh_vfs_close(v);
}

static void test_generated(void **state)
{
    (void)state;
    const struct hp_persona *p = hp_persona_get("debian");
    struct sh_vfs *v = open_src("debian", NULL, 0, NULL);
    long n;
    char *s = read_all(v, "/proc/meminfo", &n);
    struct hp_meminfo m;
    hp_persona_mem(p, T0, &m);
    char line[96];
    snprintf(line, sizeof(line), "MemTotal:       %8llu kB\n", (unsigned long long)m.total);
    assert_non_null(strstr(s, line));
    snprintf(line, sizeof(line), "MemFree:        %8llu kB\n", (unsigned long long)m.free);
    assert_non_null(strstr(s, line));
    free(s);
    s = read_all(v, "/proc/uptime", &n);
    assert_int_equal(strtoull(s, NULL, 10), hp_persona_uptime(p, T0));
    free(s);
    s = read_all(v, "/etc/hostname", &n);
    char want[128];
    snprintf(want, sizeof(want), "%s\n", p->hostname);
    assert_string_equal(s, want);
    free(s);
    s = read_all(v, "/proc/version", &n);
    assert_non_null(strstr(s, p->kernel_release));
    free(s);
    s = read_all(v, "/proc/cpuinfo", &n);
    assert_non_null(strstr(s, p->cpu_model));
    free(s);
    s = read_all(v, "/etc/os-release", &n);
    assert_non_null(strstr(s, "VERSION_CODENAME=bookworm"));
    free(s);
    char path[128];
    snprintf(path, sizeof(path), "/sys/class/net/%s/address", p->ifname);
    s = read_all(v, path, &n);
    snprintf(want, sizeof(want), "%02x:%02x:%02x", p->mac[0], p->mac[1], p->mac[2]);
    assert_memory_equal(s, want, 8);
    free(s);
    snprintf(path, sizeof(path), "/boot/vmlinuz-%s", p->kernel_release);
    struct sh_stat st;
    assert_int_equal(sh_vfs_stat(v, path, true, &st), 0);
    assert_int_equal(sh_vfs_stat(v, "/vmlinuz", true, &st), 0);
    s = read_all(v, "/proc/mounts", &n);
    assert_non_null(strstr(s, " / ext4 "));
    free(s);
    sh_vfs_close(v);
}

/* A fresh session from a new source costs a few hundred bytes. */
static void test_session_cost(void **state)
{
    (void)state;
    struct sh_vfs *w = open_src("debian", "warmup", 0, NULL);   /* builds the image */
    sh_vfs_close(w);
    size_t s0, s1;
    uint64_t b0, b1;
    sh_vfs_stats(&s0, &b0);
    struct sh_vfs *v = open_src("debian", "100.64.0.1", 0, NULL);
    sh_vfs_stats(&s1, &b1);
    assert_int_equal(s1, s0 + 1);
    assert_true(b1 - b0 < 1024);
    print_message("fresh overlay: %llu bytes\n", (unsigned long long)(b1 - b0));
    sh_vfs_close(v);
}

static void test_hostile_paths(void **state)
{
    (void)state;
    struct sh_vfs *v = open_src("debian", NULL, 0, NULL);
    struct sh_stat st;
    char *p = malloc(8192);
    /* deep nesting of ".." and long paths */
    strcpy(p, "/");
    for (int i = 0; i < 1000; i++)
        strcat(p, "../");
    assert_int_equal(sh_vfs_stat(v, p, true, &st), 0);
    memset(p, '/', 4095);
    p[4095] = 0;
    assert_int_equal(sh_vfs_stat(v, p, true, &st), 0);
    memset(p, '/', 4096);
    p[4096] = 0;
    assert_int_equal(sh_vfs_stat(v, p, true, &st), -ENAMETOOLONG);
    /* a link whose expansion grows past PATH_MAX */
    memset(p, 'a', 250);
    p[250] = 0;
    char *t = malloc(4096);
    snprintf(t, 4096, "%s/%s/%s/%s/%s/%s/%s/%s/%s/%s/%s/%s/%s/%s/%s/%s", p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p);
    assert_int_equal(sh_vfs_symlink(v, t, "/tmp/long"), 0);
    assert_true(sh_vfs_stat(v, "/tmp/long/x/y/z/w", true, &st) < 0);   /* bounded, no overflow */
    free(t);
    free(p);
    /* many entries: the per-source count limit */
    long r = 0;
    for (int i = 0; i < SH_VFS_NODES_MAX + 10 && r >= 0; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/tmp/n%d", i);
        r = sh_vfs_write(v, path, "", 0, SH_O_CREAT, 0644);
    }
    assert_int_equal(r, -ENOSPC);
    sh_vfs_close(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_abspath, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whiteout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_sorted_proc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sharing_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quotas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_capture_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_link_chmod, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busybox_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_cost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_paths, setup, teardown),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    hp_persona_reset();
    return r;
}
