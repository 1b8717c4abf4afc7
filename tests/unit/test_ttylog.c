/*
 * test_ttylog.c - unit tests for the asciicast v2 recorder (src/shell/ttylog.c).
 *
 * Every file written is read back and checked line by line with the
 * independent JSON reader of json_check.h: the header is one object with
 * version 2, width, height (defaults 80x24), an integer timestamp and env
 * (SHELL, TERM when given, escaped when hostile); each event is exactly
 * [seconds with 6 decimals, "o"|"i"|"r", "text"], times never go back, no
 * raw control byte or U+2028/9 in any line, and the decoded texts of a
 * direction concatenate to the bytes written.  Also: a UTF-8 character
 * split across writes is kept whole, invalid bytes become U+FFFD, an
 * unfinished character at close becomes U+FFFD, large writes are split into
 * lines, the size cap (notice line, nothing after it, file within the cap),
 * resize events, the return value of close (the file size) and its path,
 * unsafe session names, an existing file, nested directories created.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "shell/ttylog.h"
#include "json_check.h"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/hp_ttylog_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- reading a cast back ---------------------------------------------------------- */

struct cast {
    char *text;
    size_t len;
    /* header */
    long width, height;
    bool have_term;
    uint8_t term[512];
    size_t term_len;
    /* events */
    int nev;
    double t[4096];
    char kind[4096];
    uint8_t *data[4096];
    size_t dlen[4096];
};

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static long member_int(const struct jc_member *m, int n, const char *key)
{
    const struct jc_member *v = jc_find(m, n, key);
    assert_non_null(v);
    char tmp[32];
    assert_true(v->vlen < sizeof(tmp));
    memcpy(tmp, v->val, v->vlen);
    tmp[v->vlen] = '\0';
    char *end;
    long r = strtol(tmp, &end, 10);
    assert_true(*end == '\0');                  /* an integer */
    return r;
}

static void parse_header(struct cast *c, const char *line, size_t n)
{
    struct jc_member m[16], env[8];
    assert_true(jc_valid(line, n));
    int k = jc_members(line, n, m, 16);
    assert_int_equal(k, 5);
    assert_string_equal(m[0].key, "version");
    assert_int_equal(member_int(m, k, "version"), 2);
    c->width = member_int(m, k, "width");
    c->height = member_int(m, k, "height");
    long ts = member_int(m, k, "timestamp");
    assert_true(ts > 1600000000L);
    const struct jc_member *e = jc_find(m, k, "env");
    assert_non_null(e);
    int ke = jc_members(e->val, e->vlen, env, 8);
    assert_true(ke >= 1);
    const struct jc_member *sh = jc_find(env, ke, "SHELL");
    assert_non_null(sh);
    assert_int_equal(sh->vlen, 11);
    assert_memory_equal(sh->val, "\"/bin/bash\"", 11);
    const struct jc_member *term = jc_find(env, ke, "TERM");
    c->have_term = term != NULL;
    if (term) {
        uint8_t *t = jc_decode_str(term->val, term->vlen, &c->term_len);
        assert_non_null(t);
        assert_true(c->term_len < sizeof(c->term));
        memcpy(c->term, t, c->term_len);
        free(t);
    }
}

/* [12.345678, "o", "text"] exactly as written; times must not go back. */
static void parse_event(struct cast *c, const char *line, size_t n)
{
    assert_true(jc_valid(line, n));
    assert_true(c->nev < 4096);
    struct jc j = { (const uint8_t *)line, (const uint8_t *)line + n, 0 };
    assert_int_equal(*j.p, '[');
    j.p++;
    const char *num = (const char *)j.p;
    assert_true(jc_number(&j));
    const char *dot = memchr(num, '.', (size_t)((const char *)j.p - num));
    assert_non_null(dot);
    assert_int_equal((const char *)j.p - dot - 1, 6);      /* 6 decimals */
    double t = strtod(num, NULL);
    assert_true(c->nev == 0 || t >= c->t[c->nev - 1]);
    assert_memory_equal(j.p, ", \"", 3);
    j.p += 3;
    char kind = (char)*j.p;
    assert_true(kind == 'o' || kind == 'i' || kind == 'r');
    assert_memory_equal(j.p + 1, "\", ", 3);
    j.p += 4;
    const uint8_t *s = j.p;
    assert_true(jc_string(&j, NULL, NULL));
    assert_memory_equal(j.p, "]", 1);
    assert_true(j.p + 1 == j.end);
    size_t dl;
    uint8_t *d = jc_decode_str((const char *)s, (size_t)(j.p - s), &dl);
    assert_non_null(d);
    c->t[c->nev] = t;
    c->kind[c->nev] = kind;
    c->data[c->nev] = d;
    c->dlen[c->nev] = dl;
    c->nev++;
}

static void load_cast(struct cast *c, const char *path)
{
    memset(c, 0, sizeof(*c));
    c->text = slurp(path, &c->len);
    assert_true(c->len > 0);
    assert_int_equal(c->text[c->len - 1], '\n');
    size_t start = 0;
    bool header = true;
    while (start < c->len) {
        char *nl = memchr(c->text + start, '\n', c->len - start);
        assert_non_null(nl);
        size_t n = (size_t)(nl - (c->text + start));
        assert_true(n > 0);
        assert_true(jc_safe_text(c->text + start, n));   /* nothing but "\n" ends a line */
        if (header)
            parse_header(c, c->text + start, n);
        else
            parse_event(c, c->text + start, n);
        header = false;
        start += n + 1;
    }
}

static void free_cast(struct cast *c)
{
    for (int i = 0; i < c->nev; i++)
        free(c->data[i]);
    free(c->text);
}

/* The decoded texts of one kind, concatenated. */
static size_t joined(const struct cast *c, char kind, uint8_t *out, size_t max)
{
    size_t n = 0;
    for (int i = 0; i < c->nev; i++) {
        if (c->kind[i] != kind)
            continue;
        assert_true(n + c->dlen[i] <= max);
        memcpy(out + n, c->data[i], c->dlen[i]);
        n += c->dlen[i];
    }
    return n;
}

static char *cast_path(const char *session)
{
    static char p[256];
    snprintf(p, sizeof(p), "%s/%s.cast", tmpdir, session);
    return p;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

/* ---- tests --------------------------------------------------------------------------- */

static void test_basic(void **state)
{
    (void)state;
    struct hp_ttylog *t = hp_ttylog_open(tmpdir, "0123456789ab", 120, 40, "xterm-256color", 0);
    assert_non_null(t);
    hp_ttylog_write(t, 'o', "root@box:~# ", 12);
    hp_ttylog_write(t, 'i', "l", 1);
    hp_ttylog_write(t, 'i', "s\r", 2);
    hp_ttylog_write(t, 'o', "ls\r\n\x1b[0m\"q\"\\ \t\x7f\0end", 19);
    hp_ttylog_resize(t, 100, 30);
    hp_ttylog_write(t, 'x', "ignored", 7);      /* only 'o' and 'i' */
    hp_ttylog_write(t, 'o', "", 0);              /* nothing */
    hp_ttylog_write(t, 'o', "\xe2\x80\xa8|\xe2\x80\xa9", 7);    /* U+2028, U+2029 escaped */
    char *path = NULL;
    uint64_t size = hp_ttylog_close(t, &path);
    assert_non_null(path);
    assert_string_equal(path, cast_path("0123456789ab"));
    assert_int_equal(size, file_size(path));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);

    struct cast c;
    load_cast(&c, path);
    assert_int_equal(c.width, 120);
    assert_int_equal(c.height, 40);
    assert_true(c.have_term);
    assert_int_equal(c.term_len, 14);
    assert_memory_equal(c.term, "xterm-256color", 14);
    assert_int_equal(c.nev, 6);
    assert_int_equal(c.kind[0], 'o');
    assert_int_equal(c.kind[1], 'i');
    assert_int_equal(c.kind[4], 'r');
    assert_int_equal(c.dlen[4], 6);
    assert_memory_equal(c.data[4], "100x30", 6);
    uint8_t buf[256];
    size_t n = joined(&c, 'o', buf, sizeof(buf));
    assert_int_equal(n, 12 + 19 + 7);
    assert_memory_equal(buf, "root@box:~# ls\r\n\x1b[0m\"q\"\\ \t\x7f\0end\xe2\x80\xa8|\xe2\x80\xa9", n);
    n = joined(&c, 'i', buf, sizeof(buf));
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "ls\r", 3);
    assert_true(c.t[0] >= 0.0 && c.t[0] < 60.0);
    free_cast(&c);
    free(path);
}

static void test_header_defaults(void **state)
{
    (void)state;
    struct hp_ttylog *t = hp_ttylog_open(tmpdir, "hdr1", 0, 0, NULL, 0);
    assert_non_null(t);
    uint64_t size = hp_ttylog_close(t, NULL);
    assert_int_equal(size, file_size(cast_path("hdr1")));
    struct cast c;
    load_cast(&c, cast_path("hdr1"));
    assert_int_equal(c.width, 80);
    assert_int_equal(c.height, 24);
    assert_false(c.have_term);
    assert_int_equal(c.nev, 0);
    free_cast(&c);

    /* a peer-chosen TERM is data: escaped, lossy bytes replaced */
    t = hp_ttylog_open(tmpdir, "hdr2", 80, 24, "x\"}\n\x1b\xff", 0);
    assert_non_null(t);
    hp_ttylog_close(t, NULL);
    load_cast(&c, cast_path("hdr2"));
    assert_int_equal(c.term_len, 8);
    assert_memory_equal(c.term, "x\"}\n\x1b\xef\xbf\xbd", 8);
    free_cast(&c);

    /* a client's 65535 x 65535 is recorded as the 512 x 256 the shell lays out for */
    t = hp_ttylog_open(tmpdir, "hdr3", 65535, 65535, NULL, 0);
    assert_non_null(t);
    hp_ttylog_resize(t, 70000, 30);
    hp_ttylog_close(t, NULL);
    load_cast(&c, cast_path("hdr3"));
    assert_int_equal(c.width, 512);
    assert_int_equal(c.height, 256);
    free_cast(&c);
    size_t tlen;
    char *text = slurp(cast_path("hdr3"), &tlen);
    assert_non_null(strstr(text, "\"r\", \"512x30\"]"));
    free(text);
}

static void test_utf8(void **state)
{
    (void)state;
    struct hp_ttylog *t = hp_ttylog_open(tmpdir, "utf8", 80, 24, "xterm", 0);
    hp_ttylog_write(t, 'o', "caf\xc3", 4);       /* é split across two writes */
    hp_ttylog_write(t, 'i', "\xe2\x82", 2);      /* the other direction has its own tail */
    hp_ttylog_write(t, 'o', "\xa9!", 2);
    hp_ttylog_write(t, 'i', "\xac", 1);          /* € */
    hp_ttylog_write(t, 'o', "\xff\xc3(", 3);     /* invalid: one U+FFFD per byte */
    hp_ttylog_write(t, 'o', "\xf0\x9f", 2);      /* unfinished at close */
    hp_ttylog_close(t, NULL);
    struct cast c;
    load_cast(&c, cast_path("utf8"));
    uint8_t buf[256];
    size_t n = joined(&c, 'o', buf, sizeof(buf));
    const char want[] = "caf\xc3\xa9!\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd";
    assert_int_equal(n, sizeof(want) - 1);
    assert_memory_equal(buf, want, n);
    n = joined(&c, 'i', buf, sizeof(buf));
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "\xe2\x82\xac", 3);
    free_cast(&c);
}

static void test_large_write(void **state)
{
    (void)state;
    size_t n = 200 * 1024 + 7;
    uint8_t *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i % 7 == 0 ? '\n' : 'a' + i % 26);
    data[65536 - 1] = 0xc3;                     /* a character across the 64 KiB split */
    data[65536] = 0xa9;
    struct hp_ttylog *t = hp_ttylog_open(tmpdir, "large", 80, 24, "xterm", 0);
    hp_ttylog_write(t, 'o', data, n);
    uint64_t size = hp_ttylog_close(t, NULL);
    assert_int_equal(size, file_size(cast_path("large")));
    struct cast c;
    load_cast(&c, cast_path("large"));
    assert_true(c.nev >= 4);
    uint8_t *buf = malloc(n);
    assert_int_equal(joined(&c, 'o', buf, n), n);
    assert_memory_equal(buf, data, n);
    free(buf);
    free(data);
    free_cast(&c);
}

static void test_cap(void **state)
{
    (void)state;
    struct hp_ttylog *t = hp_ttylog_open(tmpdir, "cap", 80, 24, "xterm", 1000);
    char chunk[50];
    memset(chunk, 'z', sizeof(chunk));
    for (int i = 0; i < 100; i++)
        hp_ttylog_write(t, i % 2 ? 'o' : 'i', chunk, sizeof(chunk));
    hp_ttylog_resize(t, 1, 1);                  /* after the cap: nothing */
    uint64_t size = hp_ttylog_close(t, NULL);
    assert_int_equal(size, file_size(cast_path("cap")));
    assert_true(size <= 1000);
    assert_true(size > 700);                    /* it did record up to near the cap */
    struct cast c;
    load_cast(&c, cast_path("cap"));
    assert_true(c.nev >= 2);
    int last = c.nev - 1;
    assert_int_equal(c.kind[last], 'o');
    assert_non_null(memmem(c.data[last], c.dlen[last], "recording stopped: size limit of 1000 bytes", 43));
    for (int i = 0; i < last; i++)
        assert_int_equal(c.dlen[i], 50);
    free_cast(&c);

    /* a single chunk larger than the whole cap */
    t = hp_ttylog_open(tmpdir, "cap2", 80, 24, NULL, 300);
    uint8_t big[4096];
    memset(big, 'q', sizeof(big));
    hp_ttylog_write(t, 'o', big, sizeof(big));
    hp_ttylog_write(t, 'o', "x", 1);
    size = hp_ttylog_close(t, NULL);
    assert_true(size <= 300);
    load_cast(&c, cast_path("cap2"));
    assert_int_equal(c.nev, 1);
    free_cast(&c);
}

static void test_names_and_dirs(void **state)
{
    (void)state;
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/a/b/c", tmpdir);
    struct hp_ttylog *t = hp_ttylog_open(dir, "s1", 80, 24, NULL, 0);
    assert_non_null(t);                         /* missing directories are created */
    char *path;
    hp_ttylog_close(t, &path);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0750);
    assert_int_equal(access(path, R_OK), 0);
    /* the same session again: refused, the recording is not overwritten */
    assert_null(hp_ttylog_open(dir, "s1", 80, 24, NULL, 0));
    free(path);

    const char *bad[] = { "", "..", ".hidden", "../escape", "a/b", "a b", "x\n", NULL };
    for (int i = 0; i < 7; i++)
        assert_null(hp_ttylog_open(tmpdir, bad[i], 80, 24, NULL, 0));
    assert_null(hp_ttylog_open(tmpdir, NULL, 80, 24, NULL, 0));
    assert_null(hp_ttylog_open(NULL, "s", 80, 24, NULL, 0));
    assert_null(hp_ttylog_open("", "s", 80, 24, NULL, 0));
    assert_null(hp_ttylog_open("/proc/nonexistent/x", "s", 80, 24, NULL, 0));

    /* NULL recorder: no-ops */
    hp_ttylog_write(NULL, 'o', "x", 1);
    hp_ttylog_resize(NULL, 1, 1);
    path = (char *)"untouched";
    assert_int_equal(hp_ttylog_close(NULL, &path), 0);
    assert_null(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_header_defaults),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_large_write),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_names_and_dirs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
