/*
 * test_cmd_misc.c - unit tests for the archive tools (src/shell/cmd_archive.c)
 * and the miscellaneous programs (src/shell/cmd_misc.c).
 *
 * Programs run through the fake interpreter of cmd_fixture.h with a
 * real vfs; exact stdout, stderr and status of the real tools are checked
 * (GNU tar 1.34, gzip 1.12, bzip2 1.0.8, xz 5.4.1, coreutils 9.1,
 * util-linux 2.38, OpenSSH 9.2, OpenSSL 3.0; busybox where it differs).
 * Archives made here are read back here, and gzip/openssl outputs are
 * compared with values from the real tools.  The end of the file runs the
 * same through hp_interp_line.
 */
#include "cmd_fixture.h"
#include <zlib.h>
#include "shell/cmd_sys.h"
#include "shell/cmd_text.h"

/* ---- tar ------------------------------------------------------------------------------ */

static void test_tar_roundtrip(void **state)
{
    struct fx *f = fx_new("debian", true);
    f->c.cwd = "/tmp";
    assert_true(sys_write_file(&f->c, "/tmp/a", "hi\n", 3, 0644) == 0);
    assert_int_equal(sh_vfs_mkdir(f->c.fs, "/tmp/d", 0755), 0);
    assert_true(sys_write_file(&f->c, "/tmp/d/b", "bee\n", 4, 0600) == 0);
    f->c.out_tty = false;
    assert_int_equal(fx_run(f, "tar czf a.tgz a d", NULL), 0);
    assert_string_equal(fx_out(f), "");
    assert_string_equal(fx_err(f), "");
    const char *gz = fx_file(f, "/tmp/a.tgz");
    assert_non_null(gz);
    assert_true((uint8_t)gz[0] == 0x1f && (uint8_t)gz[1] == 0x8b);
    sh_vfs_unlink(f->c.fs, "/tmp/a");
    sh_vfs_unlink(f->c.fs, "/tmp/d/b");
    assert_int_equal(fx_run(f, "tar xzvf a.tgz", NULL), 0);
    assert_string_equal(fx_out(f), "a\nd/\nd/b\n");
    assert_string_equal(fx_file(f, "/tmp/a"), "hi\n");
    assert_string_equal(fx_file(f, "/tmp/d/b"), "bee\n");
    struct sh_stat st;
    assert_int_equal(sh_vfs_stat(f->c.fs, "/tmp/d/b", false, &st), 0);
    assert_int_equal(st.mode & 0777, 0600);
    /* listing, auto-detected gzip, -O, -C */
    assert_int_equal(fx_run(f, "tar tf a.tgz", NULL), 0);
    assert_string_equal(fx_out(f), "a\nd/\nd/b\n");
    assert_int_equal(fx_run(f, "tar -tvzf a.tgz a", NULL), 0);
    assert_prefix(fx_out(f), "-rw-r--r-- root/root         3 ");
    assert_true(strstr(fx_out(f), " a\n") != NULL);
    assert_int_equal(fx_run(f, "tar -xOzf a.tgz d/b", NULL), 0);
    assert_string_equal(fx_out(f), "bee\n");
    assert_int_equal(fx_run(f, "tar -xzf a.tgz -C /root d", NULL), 0);
    assert_string_equal(fx_file(f, "/root/d/b"), "bee\n");
    assert_int_equal(fx_run(f, "tar xf a.tgz nope", NULL), 2);
    assert_string_equal(fx_err(f), "tar: nope: Not found in archive\n"
                                   "tar: Exiting with failure status due to previous errors\n");
    /* absolute names and xz */
    assert_int_equal(fx_run(f, "tar cJf /tmp/x.txz /tmp/a", NULL), 0);
    assert_string_equal(fx_err(f), "tar: Removing leading `/' from member names\n");
    assert_int_equal(fx_run(f, "tar tf /tmp/x.txz", NULL), 0);
    assert_string_equal(fx_out(f), "tmp/a\n");
    fx_free(f);
}

static void test_tar_errors(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "tar xzf missing.tgz", NULL), 2);
    assert_string_equal(fx_err(f), "tar (child): missing.tgz: Cannot open: No such file or directory\n"
                                   "tar (child): Error is not recoverable: exiting now\n\n"
                                   "gzip: stdin: unexpected end of file\n"
                                   "tar: Child returned status 2\ntar: Error is not recoverable: exiting now\n");
    assert_int_equal(fx_run(f, "tar xf missing.tar", NULL), 2);
    assert_string_equal(fx_err(f), "tar: missing.tar: Cannot open: No such file or directory\n"
                                   "tar: Error is not recoverable: exiting now\n");
    assert_int_equal(fx_run(f, "tar", NULL), 2);
    assert_string_equal(fx_err(f), "tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\n"
                                   "Try 'tar --help' or 'tar --usage' for more information.\n");
    assert_int_equal(fx_run(f, "tar cf x.tar", NULL), 2);
    assert_string_equal(fx_err(f), "tar: Cowardly refusing to create an empty archive\n"
                                   "Try 'tar --help' or 'tar --usage' for more information.\n");
    assert_int_equal(fx_run(f, "tar xf /etc/hostname", NULL), 2);
    assert_string_equal(fx_err(f), "tar: This does not look like a tar archive\n"
                                   "tar: Exiting with failure status due to previous errors\n");
    assert_int_equal(fx_run(f, "tar xzf /etc/hostname", NULL), 2);
    assert_string_equal(fx_err(f), "\ngzip: stdin: not in gzip format\ntar: Child returned status 1\n"
                                   "tar: Error is not recoverable: exiting now\n");
    assert_int_equal(fx_run(f, "tar cf /tmp/y.tar nosuch", NULL), 2);
    assert_string_equal(fx_err(f), "tar: nosuch: Cannot stat: No such file or directory\n"
                                   "tar: Exiting with failure status due to previous errors\n");
    assert_int_equal(fx_run(f, "tar -q", NULL), 2);
    assert_string_equal(fx_err(f), "tar: invalid option -- 'q'\nTry 'tar --help' or 'tar --usage' for more information.\n");
    assert_int_equal(fx_run(f, "tar --version", NULL), 0);
    assert_prefix(fx_out(f), "tar (GNU tar) 1.34\n");
    fx_free(f);

    f = fx_new("busybox", true);
    assert_int_equal(fx_run(f, "tar xzf missing.tgz", NULL), 1);
    assert_string_equal(fx_err(f), "tar: can't open 'missing.tgz': No such file or directory\n");
    fx_free(f);
}

/* A member named ../x is refused, and the archive must not escape. */
static void test_tar_hostile(void **state)
{
    struct fx *f = fx_new("debian", true);
    uint8_t ar[2048];
    memset(ar, 0, sizeof(ar));
    strcpy((char *)ar, "../evil");
    memcpy(ar + 100, "0000644", 7);
    memcpy(ar + 124, "00000000004", 11);
    memcpy(ar + 136, "00000000000", 11);
    ar[156] = '0';
    memcpy(ar + 257, "ustar  ", 8);
    memset(ar + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += ar[i];
    snprintf((char *)ar + 148, 8, "%06o", sum);
    memcpy(ar + 512, "evil", 4);
    assert_true(sys_write_file(&f->c, "/tmp/e.tar", ar, sizeof(ar), 0644) == 0);
    f->c.cwd = "/tmp";
    assert_int_equal(fx_run(f, "tar xf e.tar", NULL), 2);
    assert_string_equal(fx_err(f), "tar: ../evil: Member name contains '..'\n"
                                   "tar: Exiting with failure status due to previous errors\n");
    assert_null(fx_file(f, "/evil"));
    fx_free(f);
}

/* ---- gzip, bzip2, xz ------------------------------------------------------------------------ */

static void test_gzip(void **state)
{
    struct fx *f = fx_new("debian", true);
    f->c.cwd = "/tmp";
    assert_true(sys_write_file(&f->c, "/tmp/g", "hello hello hello\n", 18, 0640) == 0);
    assert_int_equal(fx_run(f, "gzip g", NULL), 0);
    assert_null(fx_file(f, "/tmp/g"));
    assert_non_null(fx_file(f, "/tmp/g.gz"));
    assert_int_equal(fx_run(f, "zcat g.gz", NULL), 0);
    assert_string_equal(fx_out(f), "hello hello hello\n");
    assert_int_equal(fx_run(f, "gunzip g", NULL), 0);     /* finds g.gz */
    assert_string_equal(fx_file(f, "/tmp/g"), "hello hello hello\n");
    assert_null(fx_file(f, "/tmp/g.gz"));
    assert_int_equal(fx_run(f, "gzip nosuch", NULL), 1);
    assert_string_equal(fx_err(f), "gzip: nosuch: No such file or directory\n");
    assert_int_equal(fx_run(f, "gunzip nosuch", NULL), 1);
    assert_string_equal(fx_err(f), "gzip: nosuch.gz: No such file or directory\n");
    assert_int_equal(fx_run(f, "gunzip g", NULL), 2);
    assert_string_equal(fx_err(f), "gzip: g: unknown suffix -- ignored\n");
    assert_true(sys_write_file(&f->c, "/tmp/n.gz", "plain\n", 6, 0644) == 0);
    assert_int_equal(fx_run(f, "gunzip n.gz", NULL), 1);
    assert_string_equal(fx_err(f), "gzip: n.gz: not in gzip format\n");
    assert_int_equal(fx_run(f, "gzip", NULL), 1);
    assert_string_equal(fx_err(f), "gzip: compressed data not written to a terminal. Use -f to force compression.\n"
                                   "For help, type: gzip -h\n");
    /* stdin through a pipe, read back with zlib */
    f->c.out_tty = false;
    assert_int_equal(fx_run(f, "gzip -c", "abcabc"), 0);
    uint8_t out[64];
    uLongf ol = sizeof(out);
    z_stream z = { 0 };
    inflateInit2(&z, 31);
    z.next_in = (Bytef *)f->out.data;
    z.avail_in = (uInt)f->out.len;
    z.next_out = out;
    z.avail_out = (uInt)ol;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, 6);
    assert_memory_equal(out, "abcabc", 6);
    inflateEnd(&z);
    fx_free(f);
}

static void test_bzip2_xz(void **state)
{
    struct fx *f = fx_new("debian", true);
    f->c.cwd = "/tmp";
    assert_int_equal(fx_run(f, "bzip2 nosuch", NULL), 1);
    assert_string_equal(fx_err(f), "bzip2: Can't open input file nosuch: No such file or directory.\n");
    assert_true(sys_write_file(&f->c, "/tmp/p.bz2", "plain\n", 6, 0644) == 0);
    assert_int_equal(fx_run(f, "bzip2 -d p.bz2", NULL), 2);
    assert_string_equal(fx_err(f), "bzip2: p.bz2 is not a bzip2 file.\n");
    assert_int_equal(fx_run(f, "xz nosuch", NULL), 1);
    assert_string_equal(fx_err(f), "xz: nosuch: No such file or directory\n");
    assert_true(sys_write_file(&f->c, "/tmp/q", "quux\n", 5, 0644) == 0);
    assert_int_equal(fx_run(f, "xz q", NULL), 0);
    assert_null(fx_file(f, "/tmp/q"));
    assert_int_equal(fx_run(f, "xz -d q.xz", NULL), 0);
    assert_string_equal(fx_file(f, "/tmp/q"), "quux\n");
    assert_int_equal(fx_run(f, "xz -d q", NULL), 2);
    assert_string_equal(fx_err(f), "xz: q: Filename has an unknown suffix, skipping\n");
    fx_free(f);
}

/* ---- expr, getent ---------------------------------------------------------------------------- */

static void test_expr(void **state)
{
    struct fx *f = fx_new("debian", true);
    static const struct { const char *line, *out; int rc; } ok[] = {
        { "expr 3 + 4", "7\n", 0 }, { "expr 10 - 12", "-2\n", 0 }, { "expr 6 * 7", "42\n", 0 },
        { "expr 7 / 2", "3\n", 0 }, { "expr 7 % 3", "1\n", 0 }, { "expr 1 - 1", "0\n", 1 },
        { "expr 2 > 10", "0\n", 1 }, { "expr abc < abd", "1\n", 0 }, { "expr length hello", "5\n", 0 },
        { "expr substr hello 2 3", "ell\n", 0 }, { "expr index hello l", "3\n", 0 },
        { "expr abcdef : abc", "3\n", 0 }, { "expr abcdef : a\\(..\\)", "bc\n", 0 },
        { "expr match xyz y", "0\n", 1 }, { "expr 0 | 5", "5\n", 0 }, { "expr 3 & 0", "0\n", 1 },
        { "expr ( 1 + 2 ) * 3", "9\n", 0 }, { "expr 1 = 1", "1\n", 0 }, { "expr + length", "length\n", 0 },
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(fx_run(f, ok[i].line, NULL), ok[i].rc);
        assert_string_equal(fx_out(f), ok[i].out);
        assert_string_equal(fx_err(f), "");
    }
    assert_int_equal(fx_run(f, "expr", NULL), 2);
    assert_string_equal(fx_err(f), "expr: missing operand\nTry 'expr --help' for more information.\n");
    assert_int_equal(fx_run(f, "expr 1 +", NULL), 2);
    assert_string_equal(fx_err(f), "expr: syntax error: missing argument after " TXT_LQ "+" TXT_RQ "\n");
    assert_int_equal(fx_run(f, "expr 1 2", NULL), 2);
    assert_string_equal(fx_err(f), "expr: syntax error: unexpected argument " TXT_LQ "2" TXT_RQ "\n");
    assert_int_equal(fx_run(f, "expr a + 1", NULL), 2);
    assert_string_equal(fx_err(f), "expr: non-integer argument\n");
    assert_int_equal(fx_run(f, "expr 1 / 0", NULL), 2);
    assert_string_equal(fx_err(f), "expr: division by zero\n");
    fx_free(f);
    f = fx_new("busybox", true);
    assert_int_equal(fx_run(f, "expr a + 1", NULL), 2);
    assert_string_equal(fx_err(f), "expr: non-numeric argument\n");
    assert_int_equal(fx_run(f, "expr 2 + 2", NULL), 0);
    assert_string_equal(fx_out(f), "4\n");
    fx_free(f);
}

static void test_getent(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "getent passwd root", NULL), 0);
    assert_string_equal(fx_out(f), "root:x:0:0:root:/root:/bin/bash\n");
    assert_int_equal(fx_run(f, "getent passwd 0", NULL), 0);
    assert_string_equal(fx_out(f), "root:x:0:0:root:/root:/bin/bash\n");
    assert_int_equal(fx_run(f, "getent group sudo", NULL), 0);
    assert_prefix(fx_out(f), "sudo:x:27:");
    assert_int_equal(fx_run(f, "getent passwd nosuch", NULL), 2);
    assert_string_equal(fx_out(f), "");
    assert_int_equal(fx_run(f, "getent hosts localhost", NULL), 0);
    assert_prefix(fx_out(f), "127.0.0.1       localhost");
    assert_int_equal(fx_run(f, "getent foo", NULL), 1);
    assert_string_equal(fx_err(f), "Unknown database: foo\nTry `getent --help' or `getent --usage' for more information.\n");
    assert_int_equal(fx_run(f, "getent", NULL), 1);
    assert_string_equal(fx_err(f), "getent: wrong number of arguments\n"
                                   "Try `getent --help' or `getent --usage' for more information.\n");
    fx_free(f);
}

/* ---- disks, mounts, logs ---------------------------------------------------------------------- */

static void test_disks(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "lsblk", NULL), 0);
    assert_prefix(fx_out(f), "NAME ");
    assert_true(strstr(fx_out(f), " part /boot/efi\n") != NULL);
    assert_true(strstr(fx_out(f), " 0 part /\n") != NULL);
    assert_int_equal(fx_run(f, "blkid", NULL), 0);
    assert_true(strstr(fx_out(f), "UUID=\"0ec1b1b3-ac47-4a4c-a2a3-1e2f63e9a4e3\" BLOCK_SIZE=\"4096\" TYPE=\"ext4\"") != NULL);
    assert_int_equal(fx_run(f, "fdisk -l", NULL), 0);
    assert_prefix(fx_out(f), "Disk /dev/");
    assert_true(strstr(fx_out(f), "Disklabel type: gpt\n") != NULL);
    assert_int_equal(fx_run(f, "findmnt", NULL), 0);
    assert_prefix(fx_out(f), "TARGET ");
    assert_true(strstr(fx_out(f), "\xe2\x94\x9c\xe2\x94\x80/proc ") != NULL);
    assert_int_equal(fx_run(f, "mountpoint /", NULL), 0);
    assert_string_equal(fx_out(f), "/ is a mountpoint\n");
    assert_int_equal(fx_run(f, "mountpoint /etc", NULL), 32);
    assert_string_equal(fx_out(f), "/etc is not a mountpoint\n");
    assert_int_equal(fx_run(f, "mountpoint /nope", NULL), 1);
    assert_string_equal(fx_err(f), "mountpoint: /nope: No such file or directory\n");
    assert_int_equal(fx_run(f, "vmstat", NULL), 0);
    assert_prefix(fx_out(f), "procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu-----\n");
    assert_int_equal(fx_run(f, "lsof -i", NULL), 0);
    assert_true(strstr(fx_out(f), "TCP *:ssh (LISTEN)") != NULL);
    assert_int_equal(fx_run(f, "journalctl -u nosuch", NULL), 0);
    assert_string_equal(fx_out(f), "-- No entries --\n");
    assert_int_equal(fx_run(f, "journalctl -u ssh -n 2", NULL), 0);
    assert_true(strstr(fx_out(f), "Accepted password for root from 203.0.113.7") != NULL);
    assert_int_equal(fx_run(f, "lastlog -u root", NULL), 0);
    assert_prefix(fx_out(f), "Username         Port     From             Latest\nroot             pts/0    203.0.113.7 ");
    fx_free(f);
    f = fx_new("debian", false);
    assert_int_equal(fx_run(f, "fdisk -l", NULL), 1);
    assert_true(strstr(fx_err(f), ": Permission denied\n") != NULL);
    fx_free(f);
}

/* ---- ssh-keygen, openssl ----------------------------------------------------------------------- */

static void test_ssh_keygen(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "ssh-keygen -t ed25519 -f /root/k -N x -q", NULL), 0);
    assert_string_equal(fx_out(f), "");
    const char *priv = fx_file(f, "/root/k");
    assert_non_null(priv);
    assert_prefix(priv, "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA");
    const char *pub = fx_file(f, "/root/k.pub");
    assert_prefix(pub, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI");
    assert_int_equal(fx_run(f, "ssh-keygen -l -f /root/k", NULL), 0);
    assert_prefix(fx_out(f), "256 SHA256:");
    assert_true(strstr(fx_out(f), " root@") && strstr(fx_out(f), " (ED25519)\n"));
    assert_int_equal(fx_run(f, "ssh-keygen -f /root/r -N x", NULL), 0);
    assert_prefix(fx_out(f), "Generating public/private rsa key pair.\nYour identification has been saved in /root/r\n");
    assert_true(strstr(fx_out(f), "+---[RSA 3072]----+\n") != NULL);
    assert_true(strstr(fx_out(f), "+----[SHA256]-----+\n") != NULL);
    assert_prefix(fx_file(f, "/root/r.pub"), "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ");
    assert_int_equal(fx_run(f, "ssh-keygen -l -f /root/r.pub", NULL), 0);
    assert_prefix(fx_out(f), "3072 SHA256:");
    assert_int_equal(fx_run(f, "ssh-keygen -f /root/r -N x", NULL), 1);
    assert_true(strstr(fx_out(f), "/root/r already exists.\nOverwrite (y/n)? ") != NULL);
    assert_int_equal(fx_run(f, "ssh-keygen -t foo -f /root/z", NULL), 255);
    assert_string_equal(fx_err(f), "unknown key type foo\n");
    fx_free(f);
}

static void test_openssl(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "openssl passwd -1 -salt abcdefgh secret", NULL), 0);
    assert_string_equal(fx_out(f), "$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1\n");
    assert_int_equal(fx_run(f, "openssl passwd -6 -salt saltsaltsaltsalt secret", NULL), 0);
    assert_string_equal(fx_out(f), "$6$saltsaltsaltsalt$ph0yGsyjzqdeFaon7.gJZo8eAG5/rj9/JdzOu1Rl7dKzBYg3xgvl7T2VQ2Rt81bc5AXkdA54r0p8QvC1omD6R1\n");
    assert_int_equal(fx_run(f, "openssl rand -hex 8", NULL), 0);
    assert_int_equal(strlen(fx_out(f)), 17);
    assert_int_equal(fx_run(f, "openssl base64 -d", "aGVsbG8K\n"), 0);
    assert_string_equal(fx_out(f), "hello\n");
    assert_int_equal(fx_run(f, "openssl enc -base64", "hello\n"), 0);
    assert_string_equal(fx_out(f), "aGVsbG8K\n");
    assert_int_equal(fx_run(f, "openssl sha256", "abc"), 0);
    assert_string_equal(fx_out(f), "SHA2-256(stdin)= ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n");
    assert_int_equal(fx_run(f, "openssl foo", NULL), 1);
    assert_string_equal(fx_err(f), "Invalid command 'foo'; type \"help\" for a list.\n");
    assert_int_equal(fx_run(f, "openssl version", NULL), 0);
    assert_prefix(fx_out(f), "OpenSSL 3.0.");
    fx_free(f);
}

/* ---- the small ones ------------------------------------------------------------------------------ */

static void test_small(void **state)
{
    struct fx *f = fx_new("debian", true);
    f->c.cwd = "/tmp";
    assert_int_equal(fx_run(f, "cksum", "abc"), 0);
    assert_string_equal(fx_out(f), "1219131554 3\n");
    assert_int_equal(fx_run(f, "base32", "hello"), 0);
    assert_string_equal(fx_out(f), "NBSWY3DP\n");
    assert_int_equal(fx_run(f, "base32 -d", "NBSWY3DP\n"), 0);
    assert_string_equal(fx_out(f), "hello");
    assert_int_equal(fx_run(f, "b2sum", "abc"), 0);
    assert_prefix(fx_out(f), "ba80a53f981c4d0d6a27");
    assert_int_equal(fx_run(f, "truncate -s 10 t", NULL), 0);
    assert_int_equal(fx_run(f, "cksum t", NULL), 0);
    assert_prefix(fx_out(f), "");
    struct sh_stat st;
    assert_int_equal(sh_vfs_stat(f->c.fs, "/tmp/t", true, &st), 0);
    assert_int_equal(st.size, 10);
    assert_int_equal(fx_run(f, "truncate t", NULL), 1);
    assert_string_equal(fx_err(f), "truncate: you must specify either '--size' or '--reference'\n"
                                   "Try 'truncate --help' for more information.\n");
    assert_int_equal(fx_run(f, "unlink nosuch", NULL), 1);
    assert_string_equal(fx_err(f), "unlink: cannot unlink 'nosuch': No such file or directory\n");
    assert_int_equal(fx_run(f, "unlink t", NULL), 0);
    assert_int_equal(fx_run(f, "mkfifo p", NULL), 0);
    assert_int_equal(fx_run(f, "mkfifo p", NULL), 1);
    assert_string_equal(fx_err(f), "mkfifo: cannot create fifo 'p': File exists\n");
    assert_int_equal(fx_run(f, "install -d /opt/x/y", NULL), 0);
    assert_int_equal(fx_run(f, "install -m 700 /etc/hostname /opt/x/y", NULL), 0);
    assert_int_equal(sh_vfs_stat(f->c.fs, "/opt/x/y/hostname", true, &st), 0);
    assert_int_equal(st.mode & 0777, 0700);
    assert_int_equal(fx_run(f, "chroot /nope", NULL), 125);
    assert_string_equal(fx_err(f), "chroot: cannot change root directory to '/nope': No such file or directory\n");
    assert_int_equal(fx_run(f, "man ls", NULL), 16);
    assert_string_equal(fx_err(f), "No manual entry for ls\n");
    assert_int_equal(fx_run(f, "less /etc/hostname", NULL), 0);
    assert_string_equal(fx_out(f), fx_file(f, "/etc/hostname"));
    assert_int_equal(fx_run(f, "vim x", "ihello"), 1);
    assert_string_equal(fx_err(f), "Vim: Warning: Input is not from a terminal\n");
    assert_int_equal(fx_run(f, "vim x", NULL), 0);
    assert_int_equal(fx_run(f, "update-rc.d nosuch defaults", NULL), 1);
    assert_string_equal(fx_err(f), "update-rc.d: error: unable to read /etc/init.d/nosuch\n");
    assert_int_equal(fx_run(f, "invoke-rc.d nosuch start", NULL), 100);
    assert_int_equal(fx_run(f, "locale", NULL), 0);
    assert_prefix(fx_out(f), "LANG=\nLANGUAGE=\nLC_CTYPE=\"POSIX\"\n");
    assert_int_equal(fx_run(f, "timedatectl", NULL), 0);
    assert_true(strstr(fx_out(f), "                Time zone: Etc/UTC (UTC, +0000)\n") != NULL);
    assert_int_equal(fx_run(f, "logname", NULL), 0);
    assert_string_equal(fx_out(f), "root\n");
    assert_int_equal(fx_run(f, "mcookie", NULL), 0);
    assert_int_equal(strlen(fx_out(f)), 33);
    assert_int_equal(fx_run(f, "taskset -p 1", NULL), 0);
    assert_prefix(fx_out(f), "pid 1's current affinity mask: ");
    assert_int_equal(fx_run(f, "renice -n 5 -p 1", NULL), 0);
    assert_string_equal(fx_out(f), "1 (process ID) old priority 0, new priority 5\n");
    assert_int_equal(fx_run(f, "whereis ls", NULL), 0);
    assert_string_equal(fx_out(f), "ls: /usr/bin/ls\n");
    assert_int_equal(fx_run(f, "start-stop-daemon", NULL), 2);
    fx_free(f);
}

/* ---- through the interpreter ------------------------------------------------------------------- */

static void e2e(const char *persona, const char *line, const char *want)
{
    fx_e2e(persona, HP_INTERP_SCRIPT, line, want);
}

static void test_e2e(void **state)
{
    sh_vfs_reset();
    e2e("debian", "cd /tmp; echo hi > a; tar czf a.tgz a; rm a; tar xzvf a.tgz; cat a", "a\nhi\n");
    e2e("debian", "cd /tmp; tar xzf missing.tgz; echo $?",
        "tar (child): missing.tgz: Cannot open: No such file or directory\n"
        "tar (child): Error is not recoverable: exiting now\n\ngzip: stdin: unexpected end of file\n"
        "tar: Child returned status 2\ntar: Error is not recoverable: exiting now\n2\n");
    e2e("debian", "expr 3 + 4", "7\n");
    e2e("debian", "getent passwd root", "root:x:0:0:root:/root:/bin/bash\n");
    e2e("debian", "cd /tmp; echo abc | gzip | gunzip", "abc\n");
    e2e("debian", "tar cf - /etc/hostname 2>/dev/null | tar tf -", "etc/hostname\n");
    e2e("busybox", "expr 6 \\* 7", "42\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tar_roundtrip), cmocka_unit_test(test_tar_errors), cmocka_unit_test(test_tar_hostile),
        cmocka_unit_test(test_gzip),          cmocka_unit_test(test_bzip2_xz),   cmocka_unit_test(test_expr),
        cmocka_unit_test(test_getent),        cmocka_unit_test(test_disks),      cmocka_unit_test(test_ssh_keygen),
        cmocka_unit_test(test_openssl),       cmocka_unit_test(test_small),      cmocka_unit_test(test_e2e),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
