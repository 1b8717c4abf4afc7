/*
 * test_spool.c - the disk spool of the ClickHouse output (src/store/spool.c)
 * and its batch records (src/store/clickhouse.c): append, read ahead,
 * acknowledge, replay after a restart, torn tails, the size bound.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "buf.h"
#include "event.h"
#include "reader.h"
#include "store/clickhouse.h"
#include "store/chschema.h"
#include "store/spool.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/hp-test-spool-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    for (struct dirent *de; d && (de = readdir(d));) {
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    return 0;
}

static struct hp_spool *open_spool(uint64_t max)
{
    struct hp_spool *s = NULL;
    char err[256];
    assert_int_equal(hp_spool_open(&s, dir, max, false, err, sizeof(err)), 0);
    return s;
}

static void append_n(struct hp_spool *s, int from, int to)
{
    char rec[64];
    for (int i = from; i < to; i++) {
        int n = snprintf(rec, sizeof(rec), "record %d", i);
        assert_int_equal(hp_spool_append(s, rec, (size_t)n), 0);
    }
}

/* Read ahead k records and check they are from..from+k-1; returns the byte sum. */
static uint64_t expect_next(struct hp_spool *s, int from, int k)
{
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    uint64_t bytes = 0;
    for (int i = from; i < from + k; i++) {
        size_t reclen;
        char want[64];
        snprintf(want, sizeof(want), "record %d", i);
        assert_int_equal(hp_spool_next(s, &b, &reclen), 1);
        assert_int_equal(b.len, strlen(want));
        assert_memory_equal(b.data, want, b.len);
        assert_int_equal(reclen, HP_SPOOL_HDR + strlen(want));
        bytes += reclen;
    }
    hp_buf_free(&b);
    return bytes;
}

static int next_rc(struct hp_spool *s)
{
    struct hp_buf b;
    size_t reclen;
    hp_buf_init(&b, 1 << 20);
    int rc = hp_spool_next(s, &b, &reclen);
    hp_buf_free(&b);
    return rc;
}

/* Records come back in order; read-ahead is repeatable until acknowledged. */
static void test_order_and_ack(void **state)
{
    (void)state;
    struct hp_spool *s = open_spool(64u << 20);
    append_n(s, 0, 10);
    uint64_t bytes, recs;
    hp_spool_backlog(s, &bytes, &recs);
    assert_int_equal(recs, 10);
    hp_spool_rewind(s);
    uint64_t b3 = expect_next(s, 0, 3);
    hp_spool_rewind(s);                      /* a failed INSERT: the same records again */
    assert_int_equal(expect_next(s, 0, 3), b3);
    assert_int_equal(hp_spool_ack(s, b3, 3), 0);
    hp_spool_rewind(s);
    expect_next(s, 3, 7);
    assert_int_equal(next_rc(s), 0);
    hp_spool_backlog(s, &bytes, &recs);
    assert_int_equal(recs, 7);
    hp_spool_close(s);
}

/* A restart replays what was not acknowledged, from the saved position. */
static void test_replay_after_restart(void **state)
{
    (void)state;
    struct hp_spool *s = open_spool(64u << 20);
    append_n(s, 0, 5);
    hp_spool_rewind(s);
    hp_spool_ack(s, expect_next(s, 0, 2), 2);
    hp_spool_close(s);                      /* like kill -9: nothing flushed on purpose */
    s = open_spool(64u << 20);
    uint64_t bytes, recs;
    hp_spool_backlog(s, &bytes, &recs);
    assert_int_equal(recs, 3);
    append_n(s, 5, 7);
    hp_spool_rewind(s);
    expect_next(s, 2, 5);
    assert_int_equal(next_rc(s), 0);
    hp_spool_close(s);
}

static void newest_segment(char *path, size_t cap)
{
    DIR *d = opendir(dir);
    char best[300] = "";
    for (struct dirent *de; (de = readdir(d));)
        if (strncmp(de->d_name, "seg-", 4) == 0 && strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof(best), "%s", de->d_name);
    closedir(d);
    snprintf(path, cap, "%s/%s", dir, best);
}

/* A record cut short (kill -9 mid-write) is dropped at replay; later appends are readable. */
static void test_torn_tail(void **state)
{
    (void)state;
    struct hp_spool *s = open_spool(64u << 20);
    append_n(s, 0, 3);
    hp_spool_close(s);
    char path[400];
    newest_segment(path, sizeof(path));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    off_t whole = st.st_size;
    /* Half a record: a header and part of the payload. */
    uint8_t hdr[HP_SPOOL_HDR];
    hp_spool_header(hdr, "record 3 is long", 16);
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(write(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr));
    assert_true(write(fd, "record", 6) == 6);
    close(fd);
    s = open_spool(64u << 20);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, whole);     /* the fragment is gone */
    append_n(s, 3, 5);
    hp_spool_rewind(s);
    expect_next(s, 0, 5);
    assert_int_equal(next_rc(s), 0);
    hp_spool_close(s);

    /* A flipped byte in the last record: the CRC catches it. */
    fd = open(path, O_RDWR);
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(pwrite(fd, "X", 1, st.st_size - 1) == 1);
    close(fd);
    s = open_spool(64u << 20);
    hp_spool_rewind(s);
    expect_next(s, 0, 4);
    assert_int_equal(next_rc(s), 0);
    hp_spool_close(s);
}

/* The bound: appends fail with ENOSPC once full; acknowledging frees room. */
static void test_limit(void **state)
{
    (void)state;
    uint64_t max = 256 * 1024;
    struct hp_spool *s = open_spool(max);
    static char big[10000];
    memset(big, 'x', sizeof(big));
    int n = 0;
    while (hp_spool_append(s, big, sizeof(big)) == 0)
        n++;
    assert_int_equal(errno, ENOSPC);
    assert_true((uint64_t)n * (sizeof(big) + HP_SPOOL_HDR) <= max);
    assert_true((uint64_t)(n + 1) * (sizeof(big) + HP_SPOOL_HDR) > max);
    /* Acknowledge everything: whole segments are deleted, room comes back. */
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    hp_spool_rewind(s);
    uint64_t bytes = 0;
    size_t reclen;
    for (int i = 0; i < n; i++) {
        assert_int_equal(hp_spool_next(s, &b, &reclen), 1);
        bytes += reclen;
    }
    hp_buf_free(&b);
    hp_spool_ack(s, bytes, (uint64_t)n);
    int again = 0;
    while (hp_spool_append(s, big, sizeof(big)) == 0)
        again++;
    /* All but the last segment's worth (segments are at least 64 KiB): it stays until a newer one exists. */
    assert_true(again >= n - (int)(64 * 1024 / sizeof(big)) - 1);
    assert_int_equal(hp_spool_append(s, big, 300 * 1024) == -1 && errno == EMSGSIZE, 1);
    hp_spool_close(s);
}

/* Records parse only when whole and intact. */
static void test_parse(void **state)
{
    (void)state;
    uint8_t rec[HP_SPOOL_HDR + 5];
    hp_spool_header(rec, "hello", 5);
    memcpy(rec + HP_SPOOL_HDR, "hello", 5);
    for (size_t cut = 0; cut <= sizeof(rec); cut++) {
        struct hp_rd r;
        const uint8_t *p;
        size_t n;
        hp_rd_init(&r, rec, cut);
        int rc = hp_spool_parse(&r, &p, &n);
        assert_int_equal(rc, cut == 0 ? 0 : cut == sizeof(rec) ? 1 : -1);
        if (rc == 1)
            assert_memory_equal(p, "hello", 5);
    }
}

/* A row: the columns from the header, the event JSON as a string, in RowBinary. */
static void test_row_and_batch(void **state)
{
    (void)state;
    const char *json = "{\"eventid\":\"x\",\"cmd\":\"a\\\"b\\\\c\\n\"}";
    size_t jl = strlen(json);
    struct hp_event *e = calloc(1, sizeof(*e) + jl + 1);
    memcpy(e->json, json, jl);
    e->json_len = jl;
    e->h.ts_us = 1733356800123456;
    e->h.eventid = "x";
    snprintf(e->h.session, sizeof(e->h.session), "0123456789ab");
    snprintf(e->h.protocol, sizeof(e->h.protocol), "telnet");
    snprintf(e->h.src_ip, sizeof(e->h.src_ip), "192.0.2.1");
    e->h.src_port = 4444;
    e->h.dst_port = 23;
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    hp_ch_row(&b, e, "se\"n", "u-1", "b-1");
    /* RowBinary in the table's column order: Int64, Date (days), Strings with a LEB128 length. */
    struct hp_rd r;
    hp_rd_init(&r, b.data, b.len);
    assert_int_equal((int64_t)hp_rd_u64le(&r), 1733356800123456);
    assert_int_equal(hp_rd_u16le(&r), 20062);                  /* 2024-12-05 */
    const char *want[] = { "se\"n", "u-1", "x", "0123456789ab", "telnet", "192.0.2.1" };
    for (size_t i = 0; i < 6; i++) {
        size_t n = hp_rd_u8(&r);
        assert_int_equal(n, strlen(want[i]));
        assert_memory_equal(hp_rd_bytes(&r, n), want[i], n);
    }
    assert_int_equal(hp_rd_u16le(&r), 4444);
    assert_int_equal(hp_rd_u16le(&r), 23);
    assert_int_equal(hp_rd_u8(&r), 3);
    assert_memory_equal(hp_rd_bytes(&r, 3), "b-1", 3);
    assert_int_equal(hp_rd_u8(&r), jl);                      /* < 128: one length byte */
    assert_memory_equal(hp_rd_bytes(&r, jl), json, jl);      /* the JSON as it is, no escaping */
    assert_true(hp_rd_ok(&r) && hp_rd_left(&r) == 0);
    /* A long string takes a multi-byte length: 300 = 0xac 0x02. */
    char big[301];
    memset(big, 'a', 300);
    big[300] = 0;
    hp_buf_reset(&b);
    hp_ch_row(&b, e, big, "u", "b");                          /* sensor name of 300 bytes */
    assert_int_equal(b.data[10], 0xac);
    assert_int_equal(b.data[11], 0x02);

    /* Batch records: well-formed ones parse, ids with SQL-unsafe characters do not. */
    uint8_t rec[64] = { 1, 3, 'a', '-', '1', 2, 's', '1', 2, 0, 0, 0, '{', '}' };
    struct hp_ch_batch bt;
    assert_int_equal(hp_ch_batch_parse(rec, 14, &bt), 0);
    assert_string_equal(bt.id, "a-1");
    assert_string_equal(bt.sensor, "s1");
    assert_int_equal(bt.rows, 2);
    assert_int_equal(bt.body_len, 2);
    rec[3] = '\'';
    assert_int_equal(hp_ch_batch_parse(rec, 14, &bt), -1);
    rec[3] = '-';
    assert_int_equal(hp_ch_batch_parse(rec, 9, &bt), -1);    /* rows cut off */
    assert_int_equal(hp_ch_batch_parse(rec, 14, &bt), 0);
    assert_int_equal(bt.version, HP_CH_REC_BASE);
    rec[0] = HP_CH_REC_HOT;                                   /* rows with the hot values */
    assert_int_equal(hp_ch_batch_parse(rec, 14, &bt), 0);
    assert_int_equal(bt.version, HP_CH_REC_HOT);
    rec[0] = 3;                                               /* a layout we do not know */
    assert_int_equal(hp_ch_batch_parse(rec, 14, &bt), -1);
    hp_buf_free(&b);
    free(e);
}

static struct hp_event *json_event(const char *json)
{
    size_t jl = strlen(json);
    struct hp_event *e = calloc(1, sizeof(*e) + jl + 1);
    memcpy(e->json, json, jl);
    e->json_len = jl;
    return e;
}

/* One Nullable(String) from r: NULL gives NULL, else the string in out. */
static const char *rd_nullable_str(struct hp_rd *r, char *out, size_t cap)
{
    if (hp_rd_u8(r))
        return NULL;
    size_t n = hp_rd_u8(r);                                   /* the test's strings are < 128 bytes */
    assert_true(n < cap);
    memcpy(out, hp_rd_bytes(r, n), n);
    out[n] = 0;
    return out;
}

/* The hot columns' values in the table's order (store/chschema.c), as the
 * DEFAULT expressions give them: strings decoded, NULL when absent, "" for a
 * member that is no string, the lists' string elements, top-level members only. */
static void test_row_hot(void **state)
{
    (void)state;
    struct hp_event *e = json_event(
        "{\"eventid\":\"login.failed\",\"nested\":{\"uri\":\"no\"},\"username\":\"r\\\"o\\\\ot\\u00e9\","
        "\"password\":5,\"src_asn\":64500,\"src_cc\":\"NL\",\"attack_classes\":[\"rce\",7,\"scanner\"],"
        "\"cves\":\"CVE-2021-44228\",\"cred_botnets\":[\"mirai\",\"gafgyt\"]}");
    struct hp_buf b, scratch;
    hp_buf_init(&b, 1 << 20);
    hp_buf_init(&scratch, HP_EVENT_MAX + 1);
    hp_ch_row_hot(&b, e, &scratch);
    struct hp_rd r;
    hp_rd_init(&r, b.data, b.len);
    char v[128];
    for (size_t i = 0; i < hp_chs_ncols; i++) {
        const char *name = hp_chs_cols[i].name;
        if (strcmp(name, "src_asn") == 0) {
            assert_int_equal(hp_rd_u8(&r), 0);
            assert_int_equal((int64_t)hp_rd_u64le(&r), 64500);
        } else if (hp_chs_cols[i].kind == HP_CHS_LIST) {
            size_t n = hp_rd_u8(&r);
            const char *want[2] = { NULL, NULL };
            if (strcmp(name, "attack_classes") == 0)
                want[0] = "rce", want[1] = "scanner";
            else if (strcmp(name, "cves") == 0)
                want[0] = "CVE-2021-44228";           /* a lone string: a list of one */
            assert_int_equal(n, (want[0] != NULL) + (want[1] != NULL));
            for (size_t k = 0; k < n; k++) {
                size_t len = hp_rd_u8(&r);
                assert_int_equal(len, strlen(want[k]));
                assert_memory_equal(hp_rd_bytes(&r, len), want[k], len);
            }
        } else {
            const char *got = rd_nullable_str(&r, v, sizeof(v));
            const char *want = strcmp(name, "username") == 0       ? "r\"o\\ot\xc3\xa9"
                               : strcmp(name, "password") == 0     ? ""
                               : strcmp(name, "src_cc") == 0       ? "NL"
                               : strcmp(name, "cred_botnets") == 0 ? "mirai, gafgyt"
                                                                   : NULL;
            if (!want)
                assert_null(got);                     /* absent; a nested "uri" does not count */
            else {
                assert_non_null(got);
                assert_string_equal(got, want);
            }
        }
    }
    assert_true(hp_rd_ok(&r) && hp_rd_left(&r) == 0);
    /* Not JSON: every column NULL or empty, never a read past the input. */
    struct hp_event *bad = json_event("{\"username\":\"ro");
    hp_buf_reset(&b);
    hp_ch_row_hot(&b, bad, &scratch);
    hp_rd_init(&r, b.data, b.len);
    for (size_t i = 0; i < hp_chs_ncols; i++)
        assert_int_equal(hp_rd_u8(&r), hp_chs_cols[i].kind == HP_CHS_LIST ? 0 : 1);
    assert_true(hp_rd_ok(&r) && hp_rd_left(&r) == 0);
    /* The column list names the hot columns after data, in the table's order. */
    assert_string_equal(hp_ch_columns(false),
                        "ts, day, sensor, uid, eventid, session, protocol, src_ip, src_port, dst_port, batch, data");
    assert_non_null(strstr(hp_ch_columns(true), "batch, data, username, password, input, url,"));
    assert_non_null(strstr(hp_ch_columns(true), ", cves, owasp_iot"));
    hp_buf_free(&b);
    hp_buf_free(&scratch);
    free(e);
    free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_and_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_row_and_batch),
        cmocka_unit_test(test_row_hot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
