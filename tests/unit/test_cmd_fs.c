/*
 * test_cmd_fs.c - unit tests for the file programs (src/shell/cmd_fs.c):
 * argv + stdin + files -> exact stdout, stderr and exit status, on the
 * Debian (GNU coreutils) and busybox personalities, over a real session
 * file system (vfs.c) and the light fixture of cmd_fixture.h (a fake
 * interpreter that collects the two streams).  A few end-to-end lines go through the real
 * interpreter (hp_interp_line) at the end.
 */
#include "cmd_fixture.h"

#define T0 1750000000             /* 2025-06-15 15:06:40 UTC */

static struct sh_vfs *t_fs;
static const struct hp_persona *t_p;
static const char *t_cwd = "/root";
static bool t_tty;

static const struct sh_session t_sess = { .client_ip = "203.0.113.9", .local_ip = "10.0.0.5",
                                          .tty = "pts/0", .login_s = T0 - 60, .shell_pid = 4321,
                                          .protocol = "ssh" };

static void use(const char *persona)
{
    if (t_fs)
        sh_vfs_close(t_fs);
    sh_vfs_reset();
    sh_vfs_configure(0, 0, 0);
    sh_vfs_test_clock(T0);
    t_p = hp_persona_get(persona);
    struct sh_vfs_params p = { .persona = t_p, .source = NULL, .uid = 0, .gid = 0, .user = "root",
                               .home = "/root", .shell_pid = 4321 };
    t_fs = sh_vfs_open(&p);
    assert_non_null(t_fs);
    t_cwd = "/root";
    t_tty = false;
}

/* Run "prog arg ..." (split on spaces; a '|' word ends nothing: no shell
 * here) with stdin; returns the status, fxl_out/fxl_err hold the streams. */
static int run_in(const char *line, const char *in)
{
    char *copy = strdup(line), *argv[64];
    int argc = fx_split(copy, argv, 63);
    struct sh_cmd c = { .in = (const uint8_t *)in, .in_len = in ? strlen(in) : 0, .in_tty = !in,
                        .out_tty = t_tty, .width = 80, .persona = t_p, .fs = t_fs, .sess = &t_sess,
                        .cwd = t_cwd, .uid = 0, .gid = 0, .user = "root", .home = "/root",
                        .now_s = T0 };
    int rc = fxl_exec(&c, argc, argv);
    free(copy);
    return rc;
}

#define CHECK_IN(line, in, out, err, status) do { \
        int rc_ = run_in(line, in); \
        assert_string_equal((const char *)fxl_out.data, out); \
        assert_string_equal((const char *)fxl_err.data, err); \
        assert_int_equal(rc_, status); \
    } while (0)
#define CHECK(line, out, err, status) CHECK_IN(line, NULL, out, err, status)

static void put(const char *path, const char *text, unsigned mode)
{
    fx_vfs_put(t_fs, path, text, mode);
    sh_vfs_utime(t_fs, path, T0 - 3600);
}

static int setup(void **state)
{
    (void)state;
    fxl_open();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (t_fs)
        sh_vfs_close(t_fs);
    t_fs = NULL;
    sh_vfs_reset();
    sh_vfs_test_clock(0);
    fxl_close();
    return 0;
}

/* ---- ls ---------------------------------------------------------------------------------- */

static void test_ls(void **state)
{
    (void)state;
    use("debian");
    sh_vfs_mkdir(t_fs, "/tmp/d", 0755);
    put("/tmp/d/b", "hello\n", 0644);
    put("/tmp/d/a.sh", "#!/bin/sh\n", 0755);
    sh_vfs_utime(t_fs, "/tmp/d", T0 - 3600);
    CHECK("ls /tmp/d", "a.sh\nb\n", "", 0);
    CHECK("ls /nope", "", "ls: cannot access '/nope': No such file or directory\n", 2);
    CHECK("ls -l /tmp/d", "total 8\n-rwxr-xr-x 1 root root 10 Jun 15 14:06 a.sh\n"
                          "-rw-r--r-- 1 root root  6 Jun 15 14:06 b\n", "", 0);
    CHECK("ls -la /tmp/d/b", "-rw-r--r-- 1 root root 6 Jun 15 14:06 /tmp/d/b\n", "", 0);
    CHECK("ls -F /tmp/d", "a.sh*\nb\n", "", 0);
    CHECK("ls -r /tmp/d", "b\na.sh\n", "", 0);
    CHECK("ls -S /tmp/d", "a.sh\nb\n", "", 0);
    CHECK("ls -d /tmp/d", "/tmp/d\n", "", 0);
    CHECK("ls /tmp/d/b /tmp/d", "/tmp/d/b\n\n/tmp/d:\na.sh\nb\n", "", 0);
    CHECK("ls -y", "", "ls: invalid option -- 'y'\nTry 'ls --help' for more information.\n", 2);
    t_tty = true;
    CHECK("ls --color=auto /tmp/d", "\033[0m\033[01;32ma.sh\033[0m  b\n", "", 0);
    t_tty = false;
    CHECK("ls --color=auto /tmp/d", "a.sh\nb\n", "", 0);
    CHECK("ls -R /tmp/d", "/tmp/d:\na.sh\nb\n", "", 0);
    sh_vfs_symlink(t_fs, "b", "/tmp/d/l");
    sh_vfs_utime(t_fs, "/tmp/d", T0 - 3600);
    run_in("ls -l /tmp/d/l", NULL);
    assert_non_null(strstr((char *)fxl_out.data, " /tmp/d/l -> b\n"));
    use("busybox");
    sh_vfs_mkdir(t_fs, "/tmp/d", 0755);
    put("/tmp/d/b", "hello\n", 0644);
    CHECK("ls /nope", "", "ls: /nope: No such file or directory\n", 1);
    CHECK("ls -l /tmp/d", "total 4\n-rw-r--r--    1 root     root             6 Jun 15 14:06 b\n", "", 0);
}


/* ---- cat, head, tail, wc ------------------------------------------------------------------ */

static void test_text_readers(void **state)
{
    (void)state;
    use("debian");
    put("/tmp/f", "one\ntwo\nthree\n", 0644);
    CHECK("cat /tmp/f", "one\ntwo\nthree\n", "", 0);
    CHECK("cat -n /tmp/f", "     1\tone\n     2\ttwo\n     3\tthree\n", "", 0);
    CHECK_IN("cat", "stdin\n", "stdin\n", "", 0);
    CHECK_IN("cat - /tmp/f", "x\n", "x\none\ntwo\nthree\n", "", 0);
    CHECK("cat /nope", "", "cat: /nope: No such file or directory\n", 1);
    CHECK("cat /tmp", "", "cat: /tmp: Is a directory\n", 1);
    CHECK("head -n 1 /tmp/f", "one\n", "", 0);
    CHECK("head -2 /tmp/f", "one\ntwo\n", "", 0);
    CHECK("head -c 5 /tmp/f", "one\nt", "", 0);
    CHECK("head -n -1 /tmp/f", "one\ntwo\n", "", 0);
    CHECK("head /nope", "", "head: cannot open '/nope' for reading: No such file or directory\n", 1);
    CHECK("head -n x /tmp/f", "", "head: invalid number of lines: 'x'\n", 1);
    CHECK("tail -n 1 /tmp/f", "three\n", "", 0);
    CHECK("tail -2 /tmp/f", "two\nthree\n", "", 0);
    CHECK("tail -n +2 /tmp/f", "two\nthree\n", "", 0);
    CHECK("tail +3 /tmp/f", "three\n", "", 0);
    CHECK("tail -c 3 /tmp/f", "ee\n", "", 0);
    CHECK("tail -f /tmp/f", "one\ntwo\nthree\n", "", 0);
    CHECK("head -n 1 /tmp/f /tmp/f", "==> /tmp/f <==\none\n\n==> /tmp/f <==\none\n", "", 0);
    CHECK("wc /tmp/f", " 3  3 14 /tmp/f\n", "", 0);
    CHECK("wc -l /tmp/f", "3 /tmp/f\n", "", 0);
    CHECK_IN("wc -l", "a\nb\n", "2\n", "", 0);
    CHECK_IN("wc", "a b\nc\n", "      2       3       6\n", "", 0);
    CHECK("wc -l /tmp/f /tmp/f", " 3 /tmp/f\n 3 /tmp/f\n 6 total\n", "", 0);
    CHECK("wc /nope", "", "wc: /nope: No such file or directory\n", 1);
    use("busybox");
    put("/tmp/f", "one\ntwo\nthree\n", 0644);
    CHECK("cat /nope", "", "cat: can't open '/nope': No such file or directory\n", 1);
    CHECK("head /nope", "", "head: /nope: No such file or directory\n", 1);
    CHECK("tail /nope", "", "tail: can't open '/nope': No such file or directory\n", 1);
    CHECK("wc /tmp/f", "        3         3        14 /tmp/f\n", "", 0);
    CHECK_IN("wc -l", "a\nb\n", "2\n", "", 0);
}

/* ---- cp, mv, rm, mkdir, rmdir, touch, ln ----------------------------------------------------- */

static void test_mutators(void **state)
{
    (void)state;
    use("debian");
    put("/tmp/f", "data\n", 0755);
    CHECK("cp /tmp/f /tmp/g", "", "", 0);
    CHECK("cat /tmp/g", "data\n", "", 0);
    CHECK("cp /tmp/nope /tmp/g", "", "cp: cannot stat '/tmp/nope': No such file or directory\n", 1);
    CHECK("cp /tmp/f", "", "cp: missing destination file operand after '/tmp/f'\n"
                           "Try 'cp --help' for more information.\n", 1);
    CHECK("cp", "", "cp: missing file operand\nTry 'cp --help' for more information.\n", 1);
    CHECK("mkdir /tmp/d", "", "", 0);
    CHECK("mkdir /tmp/d", "", "mkdir: cannot create directory '/tmp/d': File exists\n", 1);
    CHECK("mkdir -p /tmp/d/e/f", "", "", 0);
    CHECK("cp /tmp/d /tmp/x", "", "cp: -r not specified; omitting directory '/tmp/d'\n", 1);
    CHECK("cp /tmp/f /tmp/g /tmp/d", "", "", 0);
    CHECK("ls /tmp/d", "e\nf\ng\n", "", 0);
    CHECK("cp -r /tmp/d /tmp/d2", "", "", 0);
    CHECK("ls -R /tmp/d2", "/tmp/d2:\ne\nf\ng\n\n/tmp/d2/e:\nf\n\n/tmp/d2/e/f:\n", "", 0);
    CHECK("mv /tmp/g /tmp/h", "", "", 0);
    CHECK("cat /tmp/h", "data\n", "", 0);
    CHECK("mv /tmp/g /tmp/h", "", "mv: cannot stat '/tmp/g': No such file or directory\n", 1);
    CHECK("rm /tmp/h", "", "", 0);
    CHECK("rm /tmp/h", "", "rm: cannot remove '/tmp/h': No such file or directory\n", 1);
    CHECK("rm -f /tmp/h", "", "", 0);
    CHECK("rm /tmp/d", "", "rm: cannot remove '/tmp/d': Is a directory\n", 1);
    CHECK("rm", "", "rm: missing operand\nTry 'rm --help' for more information.\n", 1);
    CHECK("rm -rf /", "", "rm: it is dangerous to operate recursively on '/'\n"
                          "rm: use --no-preserve-root to override this failsafe\n", 1);
    CHECK("rmdir /tmp/d", "", "rmdir: failed to remove '/tmp/d': Directory not empty\n", 1);
    CHECK("rm -rf /tmp/d /tmp/d2", "", "", 0);
    CHECK("ls /tmp/d", "", "ls: cannot access '/tmp/d': No such file or directory\n", 2);
    CHECK("touch /tmp/t", "", "", 0);
    CHECK("ls -l /tmp/t", "-rw-r--r-- 1 root root 0 Jun 15 15:06 /tmp/t\n", "", 0);
    CHECK("touch -t 202401020304 /tmp/t", "", "", 0);
    CHECK("ls -l /tmp/t", "-rw-r--r-- 1 root root 0 Jan  2  2024 /tmp/t\n", "", 0);
    CHECK("touch /nope/x", "", "touch: cannot touch '/nope/x': No such file or directory\n", 1);
    CHECK("ln -s /tmp/f /tmp/l", "", "", 0);
    CHECK("cat /tmp/l", "data\n", "", 0);
    CHECK("ln -s /tmp/f /tmp/l", "", "ln: failed to create symbolic link '/tmp/l': File exists\n", 1);
    CHECK("ln -sf /etc/hostname /tmp/l", "", "", 0);
    CHECK("readlink /tmp/l", "/etc/hostname\n", "", 0);
    CHECK("ln /tmp/nope /tmp/m", "", "ln: failed to access '/tmp/nope': No such file or directory\n", 1);
    CHECK("chmod 600 /tmp/f", "", "", 0);
    CHECK("ls -l /tmp/f", "-rw------- 1 root root 5 Jun 15 14:06 /tmp/f\n", "", 0);
    CHECK("chmod +x /tmp/f", "", "", 0);
    CHECK("ls -l /tmp/f", "-rwx--x--x 1 root root 5 Jun 15 14:06 /tmp/f\n", "", 0);
    CHECK("chmod u-x,go=r /tmp/f", "", "", 0);
    CHECK("ls -l /tmp/f", "-rw-r--r-- 1 root root 5 Jun 15 14:06 /tmp/f\n", "", 0);
    CHECK("chmod -x /tmp/f", "", "", 0);
    CHECK("chmod 777 /tmp/nope", "", "chmod: cannot access '/tmp/nope': No such file or directory\n", 1);
    CHECK("chmod abc /tmp/f", "", "chmod: invalid mode: 'abc'\nTry 'chmod --help' for more information.\n", 1);
    CHECK("chmod 777", "", "chmod: missing operand after '777'\nTry 'chmod --help' for more information.\n", 1);
    CHECK("chown nobody:nogroup /tmp/f", "", "", 0);
    CHECK("ls -l /tmp/f", "-rw-r--r-- 1 nobody nogroup 5 Jun 15 14:06 /tmp/f\n", "", 0);
    CHECK("chown bogus /tmp/f", "", "chown: invalid user: 'bogus'\n", 1);
    use("busybox");
    put("/tmp/f", "data\n", 0644);
    CHECK("rm /tmp/nope", "", "rm: can't remove '/tmp/nope': No such file or directory\n", 1);
    CHECK("mkdir /tmp/d", "", "", 0);
    CHECK("rm /tmp/d", "", "rm: '/tmp/d' is a directory\n", 1);
    CHECK("mkdir /tmp/d", "", "mkdir: can't create directory '/tmp/d': File exists\n", 1);
    CHECK("cp /tmp/nope /tmp/x", "", "cp: can't stat '/tmp/nope': No such file or directory\n", 1);
    CHECK("mv /tmp/nope /tmp/x", "", "mv: can't rename '/tmp/nope': No such file or directory\n", 1);
    CHECK("rmdir /tmp/nope", "", "rmdir: '/tmp/nope': No such file or directory\n", 1);
}

/* ---- the rest: sums, dd, stat, find, du, names, file, which, mktemp ----------------------------- */

static void test_misc(void **state)
{
    (void)state;
    use("debian");
    put("/tmp/f", "hello\n", 0644);
    put("/tmp/a.sh", "#!/bin/sh\necho hi\n", 0755);
    CHECK("md5sum /tmp/f", "b1946ac92492d2347c6235b4d2611184  /tmp/f\n", "", 0);
    CHECK_IN("md5sum", "hello\n", "b1946ac92492d2347c6235b4d2611184  -\n", "", 0);
    CHECK("sha256sum /tmp/f", "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  /tmp/f\n", "", 0);
    CHECK("md5sum /nope", "", "md5sum: /nope: No such file or directory\n", 1);
    put("/tmp/sums", "b1946ac92492d2347c6235b4d2611184  /tmp/f\n", 0644);
    CHECK("md5sum -c /tmp/sums", "/tmp/f: OK\n", "", 0);
    run_in("dd if=/tmp/f of=/tmp/g bs=1 count=3", NULL);
    assert_string_equal((char *)fxl_out.data, "");
    assert_true(strncmp((char *)fxl_err.data, "3+0 records in\n3+0 records out\n3 bytes copied, ", 45) == 0);
    CHECK("cat /tmp/g", "hel", "", 0);
    run_in("dd if=/dev/zero of=/tmp/z bs=1024 count=2", NULL);
    assert_true(strncmp((char *)fxl_err.data, "2+0 records in\n2+0 records out\n2048 bytes (2.0 kB, 2.0 KiB) copied, ", 67) == 0);
    /* empty input into a new file (UBSan: no memcpy from a buffer that was never allocated) */
    run_in("dd if=/dev/null of=/tmp/empty", NULL);
    assert_true(strncmp((char *)fxl_err.data, "0+0 records in\n0+0 records out\n0 bytes copied, ", 47) == 0);
    CHECK("stat -c %s /tmp/empty", "0\n", "", 0);
    CHECK("stat -c %s:%a:%U:%F /tmp/f", "6:644:root:regular file\n", "", 0);
    CHECK("stat /nope", "", "stat: cannot statx '/nope': No such file or directory\n", 1);
    run_in("stat /tmp/f", NULL);
    assert_true(strncmp((char *)fxl_out.data, "  File: /tmp/f\n  Size: 6         \tBlocks: 8          IO Block: 4096   regular file\n", 80) == 0);
    sh_vfs_mkdir(t_fs, "/tmp/d", 0755);
    put("/tmp/d/x.sh", "#!/bin/bash\n", 0755);
    put("/tmp/d/y.txt", "", 0644);
    CHECK("find /tmp/d", "/tmp/d\n/tmp/d/x.sh\n/tmp/d/y.txt\n", "", 0);
    CHECK("find /tmp/d -name *.sh", "/tmp/d/x.sh\n", "", 0);
    CHECK("find /tmp/d -type f -perm -100", "/tmp/d/x.sh\n", "", 0);
    CHECK("find /tmp/d -type d", "/tmp/d\n", "", 0);
    CHECK("find /tmp/d -empty", "/tmp/d/y.txt\n", "", 0);
    CHECK("find /tmp/d ! -name *.sh -type f", "/tmp/d/y.txt\n", "", 0);
    CHECK("find /nope", "", "find: '/nope': No such file or directory\n", 1);
    CHECK("find /tmp/d -bogus", "", "find: unknown predicate `-bogus'\n", 1);
    CHECK("find /tmp/d -name *.txt -exec cat /tmp/f ;", "hello\n", "", 0);
    CHECK("find /tmp/d -name *.txt -delete", "", "", 0);
    CHECK("ls /tmp/d", "x.sh\n", "", 0);
    CHECK("du -s /tmp/d", "8\t/tmp/d\n", "", 0);
    CHECK("basename /a/b/c.sh .sh", "c\n", "", 0);
    CHECK("basename /a/b/", "b\n", "", 0);
    CHECK("basename", "", "basename: missing operand\nTry 'basename --help' for more information.\n", 1);
    CHECK("dirname /a/b/c", "/a/b\n", "", 0);
    CHECK("dirname c", ".\n", "", 0);
    sh_vfs_symlink(t_fs, "/tmp/f", "/tmp/l");
    CHECK("readlink -f /tmp/l", "/tmp/f\n", "", 0);
    CHECK("readlink /tmp/f", "", "", 1);
    CHECK("realpath /tmp/../tmp/l", "/tmp/f\n", "", 0);
    CHECK("realpath /nope/x", "", "realpath: /nope/x: No such file or directory\n", 1);
    CHECK("file /tmp/a.sh", "/tmp/a.sh: POSIX shell script, ASCII text executable\n", "", 0);
    CHECK("file /tmp/f /tmp/d /tmp/d/../d/x.sh", "/tmp/f: ASCII text\n/tmp/d: directory\n"
          "/tmp/d/../d/x.sh: Bourne-Again shell script, ASCII text executable\n", "", 0);
    CHECK("file /tmp/l", "/tmp/l: symbolic link to /tmp/f\n", "", 0);
    CHECK("file /nope", "/nope: cannot open `/nope' (No such file or directory)\n", "", 0);
    static const uint8_t elf[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1, 0, [16] = 2, [18] = 62 };
    assert_true(sh_vfs_write(t_fs, "/tmp/e", elf, sizeof(elf), SH_O_CREAT | SH_O_TRUNC, 0755) > 0);
    CHECK("file /tmp/e", "/tmp/e: ELF 64-bit LSB executable, x86-64, version 1 (SYSV), statically linked, stripped\n",
          "", 0);
    CHECK("which ls", "/usr/bin/ls\n", "", 0);
    CHECK("which nope", "", "", 1);
    run_in("mktemp", NULL);
    assert_true(strncmp((char *)fxl_out.data, "/tmp/tmp.", 9) == 0 && fxl_out.len == 20);
    char made[64];
    snprintf(made, sizeof(made), "%.19s", (char *)fxl_out.data);
    struct sh_stat st;
    assert_int_equal(sh_vfs_stat(t_fs, made, false, &st), 0);
    CHECK("mktemp /tmp/fooXX", "", "mktemp: too few X's in template '/tmp/fooXX'\n", 1);
    use("busybox");
    put("/tmp/f", "hello\n", 0644);
    CHECK("md5sum /nope", "", "md5sum: can't open '/nope': No such file or directory\n", 1);
    CHECK("stat /nope", "", "stat: can't stat '/nope': No such file or directory\n", 1);
    run_in("dd if=/tmp/f of=/tmp/g", NULL);
    assert_true(strncmp((char *)fxl_err.data, "0+1 records in\n0+1 records out\n6 bytes (6B) copied, ", 51) == 0);
}

/* ---- end to end through the interpreter ---------------------------------------------------------- */

static void e2e(const char *persona, const char *line, const char *want)
{
    fx_e2e(persona, HP_INTERP_SCRIPT, line, want);
}

static void test_e2e(void **state)
{
    (void)state;
    if (t_fs)
        sh_vfs_close(t_fs);
    t_fs = NULL;
    sh_vfs_reset();
    e2e("debian", "echo hello | md5sum", "b1946ac92492d2347c6235b4d2611184  -\n");
    e2e("debian", "cd /tmp && echo -n abc > x; wc -c x; cat x | wc -c", "3 x\n3\n");
    e2e("debian", "mkdir -p /tmp/q/r && touch /tmp/q/r/s && ls -R /tmp/q | head -n 2", "/tmp/q:\nr\n");
    e2e("debian", "rm /tmp/none 2>&1; echo $?", "rm: cannot remove '/tmp/none': No such file or directory\n1\n");
    e2e("busybox", "rm /tmp/none 2>&1; echo $?", "rm: can't remove '/tmp/none': No such file or directory\n1\n");
    e2e("debian", "cat /proc/cpuinfo | head -c 10 | wc -c", "10\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ls),
        cmocka_unit_test(test_text_readers),
        cmocka_unit_test(test_mutators),
        cmocka_unit_test(test_misc),
        cmocka_unit_test(test_e2e),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
