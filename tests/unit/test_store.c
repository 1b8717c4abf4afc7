/*
 * test_store.c - unit tests for the content-addressed payload store
 * (src/capture/store.c).
 *
 * hp_sha256_hex against the FIPS 180-2 vectors ("", "abc", the 448-bit
 * message, a million 'a's); hp_store_put into a fresh temporary data_dir:
 * payloads/ created 0750, the file named by its hash with mode 0400 and the
 * exact bytes, an empty payload, a second put of the same bytes (kept, not
 * rewritten), no temporary files left behind; hostile layouts: payloads/ a
 * symlink to another directory (refused, nothing written there), a symlink
 * planted under the hash name (replaced by the real file, its target
 * untouched), payloads/ a regular file, a missing data_dir.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture/store.h"
#include "output.h"

#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static char dir[64];

static void path_of(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", dir, rel);
}

/* Remove everything below dir (two levels are enough here). */
static void wipe(const char *d, bool self)
{
    DIR *dp = opendir(d);
    if (dp) {
        struct dirent *de;
        while ((de = readdir(dp)) != NULL) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char p[512];
            snprintf(p, sizeof(p), "%s/%s", d, de->d_name);
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                wipe(p, true);
            else
                unlink(p);
        }
        closedir(dp);
    }
    if (self)
        rmdir(d);
}

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/hp-test-store-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    wipe(dir, true);
    return 0;
}

static int count_entries(const char *d)
{
    DIR *dp = opendir(d);
    int n = 0;
    assert_non_null(dp);
    struct dirent *de;
    while ((de = readdir(dp)) != NULL)
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    closedir(dp);
    return n;
}

static void expect_file(const char *sha, const void *want, size_t n)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/payloads/%s", dir, sha);
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0400);
    assert_int_equal((size_t)st.st_size, n);
    char *buf = malloc(n + 1);
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, n + 1), (ssize_t)n);
    close(fd);
    assert_memory_equal(buf, want, n);
    free(buf);
}

static void test_sha256_vectors(void **state)
{
    char hex[65];
    assert_int_equal(hp_sha256_hex("", 0, hex), 0);
    assert_string_equal(hex, SHA_EMPTY);
    assert_int_equal(hp_sha256_hex(NULL, 0, hex), 0);
    assert_string_equal(hex, SHA_EMPTY);
    assert_int_equal(hp_sha256_hex("abc", 3, hex), 0);
    assert_string_equal(hex, SHA_ABC);
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_int_equal(hp_sha256_hex(m, strlen(m), hex), 0);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *mil = malloc(1000000);
    memset(mil, 'a', 1000000);
    assert_int_equal(hp_sha256_hex(mil, 1000000, hex), 0);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(mil);
}

static void test_put(void **state)
{
    char sha[65], p[256];
    assert_int_equal(hp_store_put(dir, "abc", 3, sha), 0);
    assert_string_equal(sha, SHA_ABC);
    expect_file(SHA_ABC, "abc", 3);
    path_of(p, sizeof(p), "payloads");
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777 & ~0022, 0750 & ~0022);   /* 0750 minus the umask */

    /* The same bytes again: kept as they are (same inode). */
    snprintf(p, sizeof(p), "%s/payloads/%s", dir, SHA_ABC);
    struct stat st1, st2;
    assert_int_equal(lstat(p, &st1), 0);
    memset(sha, 'x', 64);
    assert_int_equal(hp_store_put(dir, "abc", 3, sha), 0);
    assert_string_equal(sha, SHA_ABC);
    assert_int_equal(lstat(p, &st2), 0);
    assert_int_equal(st1.st_ino, st2.st_ino);

    /* Empty payload; binary payload with NULs. */
    assert_int_equal(hp_store_put(dir, NULL, 0, sha), 0);
    assert_string_equal(sha, SHA_EMPTY);
    expect_file(SHA_EMPTY, "", 0);
    uint8_t bin[70000];
    for (size_t i = 0; i < sizeof(bin); i++)
        bin[i] = (uint8_t)(i * 31 + (i >> 8));
    assert_int_equal(hp_store_put(dir, bin, sizeof(bin), sha), 0);
    expect_file(sha, bin, sizeof(bin));

    /* Exactly three files, no temporaries. */
    path_of(p, sizeof(p), "payloads");
    assert_int_equal(count_entries(p), 3);
    wipe(dir, false);
}

/* Below [sensor] disk_floor nothing is written: the hash still comes back. */
static void test_disk_floor(void **state)
{
    char sha[65], p[256];
    hp_output_note_disk(true);
    errno = 0;
    assert_int_equal(hp_store_put(dir, "abc", 3, sha), -1);
    assert_int_equal(errno, ENOSPC);
    assert_string_equal(sha, SHA_ABC);
    snprintf(p, sizeof(p), "%s/payloads/%s", dir, SHA_ABC);
    assert_int_equal(access(p, F_OK), -1);
    hp_output_note_disk(false);
    assert_int_equal(hp_store_put(dir, "abc", 3, sha), 0);
    expect_file(SHA_ABC, "abc", 3);
    wipe(dir, false);
}

static void test_hostile_layouts(void **state)
{
    char sha[65], p[256], other[256];
    struct stat st;

    /* payloads/ is a symlink to another directory: refused, nothing lands there. */
    path_of(other, sizeof(other), "elsewhere");
    assert_int_equal(mkdir(other, 0700), 0);
    path_of(p, sizeof(p), "payloads");
    assert_int_equal(symlink(other, p), 0);
    assert_int_equal(hp_store_put(dir, "abc", 3, sha), -1);
    assert_string_equal(sha, SHA_ABC);                /* the hash is still computed */
    assert_int_equal(count_entries(other), 0);
    wipe(dir, false);

    /* A symlink planted under the hash name: replaced by the file, the target untouched. */
    path_of(p, sizeof(p), "payloads");
    assert_int_equal(mkdir(p, 0750), 0);
    path_of(other, sizeof(other), "victim");
    int fd = open(other, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "precious", 8), 8);
    close(fd);
    snprintf(p, sizeof(p), "%s/payloads/%s", dir, SHA_ABC);
    assert_int_equal(symlink(other, p), 0);
    assert_int_equal(hp_store_put(dir, "abc", 3, sha), 0);
    expect_file(SHA_ABC, "abc", 3);
    assert_int_equal(lstat(other, &st), 0);
    assert_int_equal(st.st_size, 8);
    wipe(dir, false);

    /* payloads is a regular file. */
    path_of(p, sizeof(p), "payloads");
    fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(hp_store_put(dir, "abc", 3, sha), -1);
    wipe(dir, false);

    /* data_dir missing. */
    char missing[300];
    snprintf(missing, sizeof(missing), "%s/does/not/exist", dir);
    assert_int_equal(hp_store_put(missing, "abc", 3, sha), -1);
    assert_int_equal(count_entries(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_put),
        cmocka_unit_test(test_disk_floor),
        cmocka_unit_test(test_hostile_layouts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
