/*
 * test_userdb.c - unit tests for the credential rules (src/shell/userdb.c).
 *
 * Covers the Cowrie format: literal rules, '*' for user and password, '!'
 * refusals (also "!*" and a bare "!" for the empty password), /regex/ and
 * /regex/i in either field (unanchored search, "//" matches all), first
 * match wins in both orders, passwords containing ':' (only the first two
 * colons split), peer bytes with NUL and non-UTF-8 compared by length,
 * comments, blank lines, CRLF and trailing blanks, the 1 KiB line limit and
 * the 10,000 rule limit, every error message with its FILE:LINE, loading
 * from a file (and a missing one), the built-in default rules, the shipped
 * data/userdb.example, and a catastrophic-backtracking pattern that must
 * end quickly as "no match".  Every database is freed (ASan checks leaks).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "shell/userdb.h"

/* ---- helpers ------------------------------------------------------------- */

static struct hp_userdb *parse_ok(const char *text)
{
    char err[256] = "";
    struct hp_userdb *db = hp_userdb_parse(text, "t.db", err, sizeof(err));
    if (!db)
        fail_msg("unexpected error: %s", err);
    return db;
}

/* Parsing must fail with a message that starts with expect. */
static void parse_err(const char *text, const char *expect)
{
    char err[256];
    memset(err, 'X', sizeof(err));
    struct hp_userdb *db = hp_userdb_parse(text, "t.db", err, sizeof(err));
    if (db) {
        hp_userdb_free(db);
        fail_msg("parsed although it should fail with: %s", expect);
    }
    assert_non_null(memchr(err, '\0', sizeof(err)));
    if (strncmp(err, expect, strlen(expect)) != 0)
        fail_msg("error \"%s\" does not start with \"%s\"", err, expect);
}

static bool ok(const struct hp_userdb *db, const char *user, const char *pass)
{
    return hp_userdb_check(db, user, strlen(user), pass, strlen(pass));
}

/* ---- tests --------------------------------------------------------------- */

static void test_literal(void **state)
{
    (void)state;
    struct hp_userdb *db = parse_ok("root:x:secret\nadmin:x:admin123\n");
    assert_true(ok(db, "root", "secret"));
    assert_true(ok(db, "admin", "admin123"));
    assert_false(ok(db, "root", "secre"));
    assert_false(ok(db, "root", "secrets"));
    assert_false(ok(db, "root", "SECRET"));
    assert_false(ok(db, "admin", "secret"));
    assert_false(ok(db, "Root", "secret"));
    assert_false(ok(db, "nobody", ""));
    hp_userdb_free(db);
}

static void test_wildcard(void **state)
{
    (void)state;
    struct hp_userdb *db = parse_ok("*:x:letmein\noracle:x:*\n");
    assert_true(ok(db, "anyone", "letmein"));
    assert_true(ok(db, "", "letmein"));
    assert_true(ok(db, "oracle", "whatever"));
    assert_true(ok(db, "oracle", ""));
    assert_false(ok(db, "anyone", "other"));
    hp_userdb_free(db);

    db = parse_ok("*:x:*\n");
    assert_true(ok(db, "x", "y"));
    assert_true(ok(db, "", ""));
    hp_userdb_free(db);
}

static void test_negation(void **state)
{
    (void)state;
    struct hp_userdb *db = parse_ok("root:x:!123456\nroot:x:!\nroot:x:*\n");
    assert_false(ok(db, "root", "123456"));
    assert_false(ok(db, "root", ""));            /* bare '!' refuses the empty password */
    assert_true(ok(db, "root", "1234567"));
    assert_true(ok(db, "root", "!123456"));      /* the '!' is syntax, not part of the password */
    hp_userdb_free(db);

    db = parse_ok("guest:x:!*\n*:x:*\n");
    assert_false(ok(db, "guest", "anything"));
    assert_true(ok(db, "other", "anything"));
    hp_userdb_free(db);
}

static void test_first_match(void **state)
{
    (void)state;
    /* the refusal after the wildcard never decides */
    struct hp_userdb *db = parse_ok("root:x:*\nroot:x:!123456\n");
    assert_true(ok(db, "root", "123456"));
    hp_userdb_free(db);
    /* and before it, it does */
    db = parse_ok("root:x:!123456\nroot:x:*\n");
    assert_false(ok(db, "root", "123456"));
    hp_userdb_free(db);
    /* a rule for another user does not stop the search */
    db = parse_ok("admin:x:!pw\n*:x:pw\n");
    assert_false(ok(db, "admin", "pw"));
    assert_true(ok(db, "root", "pw"));
    hp_userdb_free(db);
    /* no match refuses */
    db = parse_ok("root:x:a\n");
    assert_false(ok(db, "root", "b"));
    hp_userdb_free(db);
    db = parse_ok("");
    assert_false(ok(db, "root", "root"));
    hp_userdb_free(db);
}

static void test_regex(void **state)
{
    (void)state;
    struct hp_userdb *db = parse_ok(
        "root:x:!/honeypot/i\n"
        "root:x:/^pa+ss$/\n"
        "/^adm/:x:*\n"
        "/^ops$/i:x:/^[0-9]{4}$/\n"
        "web:x://\n");
    assert_false(ok(db, "root", "my-HoneyPot-1"));     /* unanchored, caseless */
    assert_true(ok(db, "root", "paaass"));
    assert_false(ok(db, "root", "xpass"));
    assert_false(ok(db, "root", "PASS"));               /* no /i: case matters */
    assert_true(ok(db, "admin", "x"));
    assert_true(ok(db, "administrator", ""));
    assert_false(ok(db, "sysadm", "x"));
    assert_true(ok(db, "OPS", "1234"));
    assert_false(ok(db, "ops", "12345"));
    assert_true(ok(db, "web", "anything"));             /* empty pattern matches */
    assert_true(ok(db, "web", ""));
    hp_userdb_free(db);

    /* "/" alone and "/x" are literals, not patterns */
    db = parse_ok("a:x:/\nb:x:/x\nc:x:/i\n");
    assert_true(ok(db, "a", "/"));
    assert_true(ok(db, "b", "/x"));
    assert_true(ok(db, "c", "/i"));
    assert_false(ok(db, "b", "x"));
    hp_userdb_free(db);
}

static void test_colon_in_password(void **state)
{
    (void)state;
    struct hp_userdb *db = parse_ok("root:x:a:b::c\nuser::p:q\n");
    assert_true(ok(db, "root", "a:b::c"));
    assert_false(ok(db, "root", "a"));
    assert_false(ok(db, "root", "a:b"));
    assert_true(ok(db, "user", "p:q"));                /* empty middle field */
    hp_userdb_free(db);

    db = parse_ok("root:x:!/:/\nroot:x:*\n");
    assert_false(ok(db, "root", "has:colon"));
    assert_true(ok(db, "root", "nocolon"));
    hp_userdb_free(db);
}

static void test_nul_bytes(void **state)
{
    (void)state;
    struct hp_userdb *db = parse_ok(
        "root:x:ab\n"
        "root:x:!/\\x00/\n"
        "root:x:*\n"
        "/^u\\x00v$/:x:/^\\xff\\xfe$/\n");
    /* lengths count: "ab\0cd" is not "ab" */
    assert_false(hp_userdb_check(db, "root", 4, "ab\0cd", 5));
    assert_true(hp_userdb_check(db, "root", 4, "ab", 2));
    assert_true(hp_userdb_check(db, "root", 4, "abc", 3));
    /* a user "root\0x" is not root */
    assert_false(hp_userdb_check(db, "root\0x", 6, "ab", 2));
    assert_true(hp_userdb_check(db, "u\0v", 3, "\xff\xfe", 2));     /* not UTF-8: bytes */
    assert_false(hp_userdb_check(db, "u\0v", 3, "\xff", 1));
    /* NULL with length 0 is the empty string */
    assert_false(hp_userdb_check(db, NULL, 0, NULL, 0));
    assert_false(hp_userdb_check(NULL, "root", 4, "ab", 2));
    hp_userdb_free(db);
}

static void test_comments_and_blanks(void **state)
{
    (void)state;
    struct hp_userdb *db = parse_ok(
        "# a comment\r\n"
        "\r\n"
        "   \t\n"
        "  # indented comment\n"
        "  root:x:pw  \r\n"
        "admin:x:#notacomment\n"
        "last:x:nolf");
    assert_true(ok(db, "root", "pw"));                   /* leading/trailing blanks and CR gone */
    assert_false(ok(db, "root", "pw  "));
    assert_true(ok(db, "admin", "#notacomment"));
    assert_true(ok(db, "last", "nolf"));
    hp_userdb_free(db);
}

static void test_errors(void **state)
{
    (void)state;
    parse_err("root:x:a\n\nroot\n", "t.db:3: expected user:x:password");
    parse_err("root:x\n", "t.db:1: expected user:x:password");
    parse_err("# c\n:x:pw\n", "t.db:2: empty user name (use * for any user)");
    parse_err("root:x:a\nroot:x:/(/\n", "t.db:2: invalid regex in password: ");
    parse_err("/[/:x:a\n", "t.db:1: invalid regex in user name: ");
    parse_err("root:x:!/a{2,1}/i\n", "t.db:1: invalid regex in password: ");

    /* 1024 bytes is the longest line; the CR of a CRLF does not count */
    char *line = malloc(3000);
    memset(line, 'a', 3000);
    memcpy(line, "root:x:", 7);
    memcpy(line + 1024, "\r\n", 3);
    struct hp_userdb *db = parse_ok(line);
    hp_userdb_free(db);
    memcpy(line + 1024, "b\nroot:x:a\n", 12);
    parse_err(line, "t.db:1: line longer than 1024 bytes");
    char text[4000];
    snprintf(text, sizeof(text), "#\n#\n%.1100s\n", line);
    parse_err(text, "t.db:3: line longer than 1024 bytes");
    free(line);
}

static void test_error_buffer(void **state)
{
    (void)state;
    char err[8];
    memset(err, 'X', sizeof(err));
    assert_null(hp_userdb_parse("bad\n", "a-long-file-name.db", err, sizeof(err)));
    assert_string_equal(err, "a-long-");
    /* NULL or zero-sized buffers are allowed */
    assert_null(hp_userdb_parse("bad\n", "t.db", NULL, 0));
    assert_null(hp_userdb_parse("bad\n", "t.db", err, 0));
}

static void test_rule_limit(void **state)
{
    (void)state;
    size_t n = 10001;
    char *text = malloc(n * 16 + 1), *p = text;
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "u%zu:x:p%zu\n", i, i);
    parse_err(text, "t.db:10001: more than 10000 rules");
    /* exactly 10,000 (plus comments, which do not count) is fine */
    p = text;
    p += sprintf(p, "# header\n");
    for (size_t i = 0; i < 10000; i++)
        p += sprintf(p, "u%zu:x:p%zu\n", i, i);
    struct hp_userdb *db = parse_ok(text);
    assert_true(ok(db, "u9999", "p9999"));
    assert_false(ok(db, "u9999", "p9998"));
    hp_userdb_free(db);
    free(text);
}

static void test_defaults(void **state)
{
    (void)state;
    char err[256] = "";
    const char *paths[] = { NULL, "" };
    for (int k = 0; k < 2; k++) {
        struct hp_userdb *db = hp_userdb_load(paths[k], err, sizeof(err));
        assert_non_null(db);
        assert_true(ok(db, "root", "root"));
        assert_true(ok(db, "root", "123456"));
        assert_true(ok(db, "root", "P@ssw0rd!"));
        assert_true(ok(db, "root", "correct horse battery staple"));
        assert_true(ok(db, "root", "p\xc3\xa4ss"));                    /* UTF-8 is typed by people */
        assert_false(ok(db, "root", ""));                              /* sshd refuses it */
        assert_false(ok(db, "root", "honeypot"));
        assert_false(ok(db, "root", "IsThisACowrie?"));
        assert_false(ok(db, "root", "kippo"));
        assert_false(ok(db, "root", "tab\there"));                      /* control characters */
        assert_false(hp_userdb_check(db, "root", 4, "a\0b", 3));
        assert_false(ok(db, "root", "del\x7f"));
        assert_false(ok(db, "admin", "admin"));                        /* only root */
        assert_false(ok(db, "ubnt", "ubnt"));
        assert_false(ok(db, "", "x"));
        hp_userdb_free(db);
    }
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/hp_userdb_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "# file\nalice:x:wonder:land\nbob:x:/^b0b$/\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char err[512] = "";
    struct hp_userdb *db = hp_userdb_load(path, err, sizeof(err));
    assert_non_null(db);
    assert_true(ok(db, "alice", "wonder:land"));
    assert_true(ok(db, "bob", "b0b"));
    assert_false(ok(db, "root", "x"));
    hp_userdb_free(db);

    /* errors name the file */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "ok:x:1\nbroken\n", 14), 14);
    close(fd);
    assert_null(hp_userdb_load(path, err, sizeof(err)));
    char expect[600];
    snprintf(expect, sizeof(expect), "%s:2: expected user:x:password", path);
    assert_string_equal(err, expect);
    /* a NUL byte in a file is an error, not a silent cut */
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "a:x:b\0c\n", 8), 8);
    close(fd);
    assert_null(hp_userdb_load(path, err, sizeof(err)));
    snprintf(expect, sizeof(expect), "%s:1: NUL byte in line", path);
    assert_string_equal(err, expect);
    unlink(path);

    assert_null(hp_userdb_load("/nonexistent/userdb.txt", err, sizeof(err)));
    assert_string_equal(err, "/nonexistent/userdb.txt: cannot open: No such file or directory");
    assert_null(hp_userdb_load("/tmp", err, sizeof(err)));
    assert_string_equal(err, "/tmp: not a regular file");
}

static void test_example_file(void **state)
{
    (void)state;
    char err[512] = "";
    if (access("data/userdb.example", R_OK) != 0)
        skip();                 /* run from elsewhere than the source tree */
    struct hp_userdb *db = hp_userdb_load("data/userdb.example", err, sizeof(err));
    if (!db)
        fail_msg("data/userdb.example: %s", err);
    assert_true(ok(db, "root", "toor"));
    assert_false(ok(db, "root", ""));
    assert_false(ok(db, "root", "honeypot"));
    hp_userdb_free(db);
}

/* /(a+)+$/ against "aaaa...b" backtracks exponentially without a limit. */
static void test_backtracking_limit(void **state)
{
    (void)state;
    struct hp_userdb *db = parse_ok("root:x:!/^(a+)+$/\nroot:x:*\n");
    char pass[64];
    memset(pass, 'a', sizeof(pass) - 2);
    pass[sizeof(pass) - 2] = 'b';
    pass[sizeof(pass) - 1] = '\0';
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_true(ok(db, "root", pass));          /* limit hit = rule does not apply */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs < 2.0);
    assert_false(ok(db, "root", "aaaa"));       /* a real match still refuses */
    hp_userdb_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),
        cmocka_unit_test(test_wildcard),
        cmocka_unit_test(test_negation),
        cmocka_unit_test(test_first_match),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_colon_in_password),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_comments_and_blanks),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_buffer),
        cmocka_unit_test(test_rule_limit),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_example_file),
        cmocka_unit_test(test_backtracking_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
