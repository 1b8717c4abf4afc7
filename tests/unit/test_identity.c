/*
 * test_identity.c - unit tests for hp_identity_product (src/core/identity.c):
 * the product version FTP and SMTP present, kept in DATA_DIR/identity.
 *
 * What an operator sees: the identity file gains <proto>_server and
 * <proto>_version on first start, a kept version is presented again, a
 * product forced by the configuration gets the same version on every start
 * without the file changing, and a configured version wins.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "identity.h"

static const char *const versions[] = { "1.0", "2.0", "3.0", "4.0", "5.0", "6.0", "7.0", "8.0", NULL };
static char dir[] = "/tmp/hp-identity-XXXXXX";
static char path[128];

/* Start from an identity file holding exactly 'lines'. */
static void load(const char *lines)
{
    char err[256];
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(lines, f);
    fclose(f);
    assert_int_equal(hp_identity_load(dir, err, sizeof(err)), 0);
}

/* Whether the identity file has this exact line. */
static bool file_has(const char *line)
{
    char buf[512];
    bool found = false;
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (!found && fgets(buf, sizeof(buf), f)) {
        buf[strcspn(buf, "\n")] = '\0';
        found = strcmp(buf, line) == 0;
    }
    fclose(f);
    return found;
}

static bool listed(const char *v)
{
    for (size_t i = 0; versions[i]; i++)
        if (strcmp(versions[i], v) == 0)
            return true;
    return false;
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/identity", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static void test_drawn_now_is_kept(void **state)
{
    (void)state;
    char v[16] = "";
    load("hostname=web01\n");
    hp_identity_product("ftp_server", "ftp_version", "vsftpd", NULL, versions, v, sizeof(v));
    assert_true(listed(v));
    assert_string_equal(hp_identity_get("ftp_server"), "vsftpd");
    assert_string_equal(hp_identity_get("ftp_version"), v);
    char line[64];
    snprintf(line, sizeof(line), "ftp_version=%s", v);
    assert_true(file_has("ftp_server=vsftpd"));
    assert_true(file_has(line));
}

static void test_kept_version_presented_again(void **state)
{
    (void)state;
    char v[16] = "";
    load("hostname=web01\nsmtp_server=postfix\nsmtp_version=9.9-kept\n");
    hp_identity_product("smtp_server", "smtp_version", "Postfix", "postfix", versions, v, sizeof(v));
    assert_string_equal(v, "9.9-kept");       /* even one not in the list: the file is the operator's */

    /* a kept version that does not fit is replaced by one of the list */
    char small[4] = "";
    hp_identity_product("smtp_server", "smtp_version", "postfix", "postfix", versions, small, sizeof(small));
    assert_true(listed(small));

    /* the product kept without its version: a version is drawn and written */
    load("hostname=web01\nsmtp_server=exim\n");
    char w[16] = "";
    hp_identity_product("smtp_server", "smtp_version", "exim", hp_identity_get("smtp_server"), versions, w,
                        sizeof(w));
    assert_true(listed(w));
    assert_string_equal(hp_identity_get("smtp_version"), w);
}

static void test_forced_product_is_stable(void **state)
{
    (void)state;
    char a[16] = "", b[16] = "";
    load("hostname=mail7.example.net\nftp_server=vsftpd\nftp_version=3.0.3\n");
    hp_identity_product("ftp_server", "ftp_version", "ProFTPD", "vsftpd", versions, a, sizeof(a));
    assert_true(listed(a));
    hp_identity_product("ftp_server", "ftp_version", "ProFTPD", "vsftpd", versions, b, sizeof(b));
    assert_string_equal(a, b);                /* the same on every start */
    assert_string_equal(hp_identity_get("ftp_server"), "vsftpd");   /* the identity is left alone */
    assert_string_equal(hp_identity_get("ftp_version"), "3.0.3");
    assert_true(file_has("ftp_version=3.0.3"));

    /* picked by the host name: some other host name picks another version */
    bool differs = false;
    for (int i = 0; i < 16 && !differs; i++) {
        char host[64], c[16] = "";
        snprintf(host, sizeof(host), "hostname=h%d\nftp_server=vsftpd\n", i);
        load(host);
        hp_identity_product("ftp_server", "ftp_version", "ProFTPD", "vsftpd", versions, c, sizeof(c));
        differs = strcmp(c, a) != 0;
    }
    assert_true(differs);
}

static void test_configured_version_wins(void **state)
{
    (void)state;
    char v[16] = "0.1-conf";
    load("hostname=web01\n");
    hp_identity_product("ftp_server", "ftp_version", "vsftpd", NULL, versions, v, sizeof(v));
    assert_string_equal(v, "0.1-conf");
    assert_true(file_has("ftp_version=0.1-conf"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drawn_now_is_kept),
        cmocka_unit_test(test_kept_version_presented_again),
        cmocka_unit_test(test_forced_product_is_stable),
        cmocka_unit_test(test_configured_version_wins),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
