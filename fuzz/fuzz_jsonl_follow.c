/*
 * fuzz_jsonl_follow.c - libFuzzer harness for the SQLite store's reading of
 * the JSONL files (src/store/jsonl_follow.c).
 *
 * The input is the bytes of a day file as a torn write or a hand edit might
 * leave it.  Each line of it goes through hp_jsonl_row(), which must either
 * refuse it or give columns that are NUL-terminated inside their buffers,
 * ports in 0..65535 or -1, and a timestamp that formats back to the same
 * text.  The bytes are also written to a day file (the first input byte
 * decides where it is cut into two days) and followed: every line returned
 * lies inside what was written, holds no newline, and they come in order;
 * the place after the last one is never past the end of its file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util.h"
#include "store/jsonl_follow.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static char dir[64];

static void check_row(const char *line, size_t len)
{
    struct hp_jsonl_row r;
    if (hp_jsonl_row(line, len, &r) != 0)
        return;
    CHECK(memchr(r.eventid, '\0', sizeof(r.eventid)) && r.eventid[0]);
    CHECK(memchr(r.session, '\0', sizeof(r.session)));
    CHECK(memchr(r.protocol, '\0', sizeof(r.protocol)));
    CHECK(memchr(r.src_ip, '\0', sizeof(r.src_ip)));
    CHECK(r.src_port >= -1 && r.src_port <= 65535 && r.dst_port >= -1 && r.dst_port <= 65535);
    char ts[40];
    CHECK(hp_fmt_iso8601(r.ts_us, ts, sizeof(ts)) == 27 || r.ts_us > 253402300799LL * 1000000);
}

static void write_file(const char *day, const uint8_t *p, size_t n)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/f-%s.jsonl", dir, day);
    FILE *f = fopen(path, "wb");
    CHECK(f);
    if (n)
        CHECK(fwrite(p, 1, n, f) == n);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/hp-fuzz-follow-XXXXXX");
        CHECK(mkdtemp(dir));
    }
    for (size_t at = 0; at < size;) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - data) : size;
        check_row((const char *)data + at, end - at);
        at = end + 1;
    }
    size_t cut = size ? data[0] * size / 256 : 0;
    write_file("2026-12-05", data, cut);
    write_file("2026-12-06", data + cut, size - cut);
    struct hp_jsonl_pos pos = { "", 0 };
    struct hp_jsonl_follow *f = hp_jsonl_follow_new(dir, "f", &pos);
    CHECK(f);
    const char *line;
    size_t len, seen = 0;
    int r;
    for (int i = 0; i < 100000 && (r = hp_jsonl_follow_next(f, &line, &len)) != 0; i++) {
        CHECK(r == 1);
        CHECK(!memchr(line, '\n', len));
        /* each line is bytes of the input, after the ones before */
        const uint8_t *src = memmem(data + seen, size - seen, line, len);
        CHECK(src || len == 0);
        if (src)
            seen = (size_t)(src - data) + len;
        check_row(line, len);
    }
    hp_jsonl_follow_tell(f, &pos);
    CHECK(pos.off <= (strcmp(pos.day, "2026-12-06") == 0 ? size - cut : cut));
    hp_jsonl_follow_free(f);
    return 0;
}
