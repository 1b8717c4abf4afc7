/*
 * test_cmd_misc.c - unit tests for the archive tools (src/shell/cmd_archive.c)
 * and the miscellaneous programs (src/shell/cmd_misc.c).
 *
 * Programs run through the fake interpreter of cmd_sys_fixture.h with a
 * real vfs; exact stdout, stderr and status of the real tools are checked
 * (GNU tar 1.34, gzip 1.12, bzip2 1.0.8, xz 5.4.1, coreutils 9.1,
 * util-linux 2.38, OpenSSH 9.2, OpenSSL 3.0; busybox where it differs).
 * Archives made here are read back here, and gzip/openssl outputs are
 * compared with values from the real tools.  The end of the file runs the
 * same through hp_interp_line.
 */
#include "cmd_sys_fixture.h"
#include <zlib.h>
#include "shell/interp.h"

#define assert_prefix(s, p) assert_true(strncmp((s), (p), strlen(p)) == 0)

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
