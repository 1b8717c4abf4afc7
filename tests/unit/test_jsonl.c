/*
 * test_jsonl.c - unit tests for the JSON-lines store (src/store/jsonl.c).
 *
 * One file per UTC day: a batch whose events straddle midnight (the last
 * microsecond of a day, the first of the next, noon, and the last
 * microsecond of that day again) is written to two files, each event whole
 * on its own line, in order, and nothing else in either file.  A second
 * batch of the first day, after the store has moved on, goes back to that
 * day's file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "event.h"
#include "output.h"

extern const struct hp_output_ops hp_output_jsonl;

#define DAY_US (86400LL * 1000000)
#define T_20261205 (1796428800LL * 1000000)     /* 2026-12-05T00:00:00Z */

static struct hp_event *event_at(int64_t ts_us, const char *tag)
{
    struct hp_ev ev;
    hp_ev_begin_at(&ev, NULL, "test.event", ts_us);
    hp_ev_str(&ev, "tag", tag);
    return hp_ev_finish(&ev);
}

/* The "tag" members of a file's lines, space-separated; each line must be one whole event. */
static void tags_of(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    out[0] = '\0';
    if (!f)
        return;
    char line[4096];
    while (fgets(line, sizeof(line), f)) {
        size_t n = strlen(line);
        assert_true(n > 2 && line[0] == '{' && line[n - 1] == '\n' && line[n - 2] == '}');
        const char *t = strstr(line, "\"tag\":\"");
        assert_non_null(t);
        t += 7;
        size_t tl = strcspn(t, "\"");
        size_t o = strlen(out);
        snprintf(out + o, cap - o, "%s%.*s", o ? " " : "", (int)tl, t);
    }
    fclose(f);
}

static void test_jsonl_day_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/hanipo-test-jsonl.XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct hp_config cfg;
    struct hp_output_cfg oc;
    memset(&cfg, 0, sizeof(cfg));
    memset(&oc, 0, sizeof(oc));
    cfg.path = "test.ini";
    cfg.data_dir = dir;
    oc.name = "jsonl";
    oc.enabled = true;
    void *st = NULL;
    char err[256];
    assert_int_equal(hp_output_jsonl.open(&st, &cfg, &oc, err, sizeof(err)), 0);

    struct hp_event *evs[4] = {
        event_at(T_20261205 + DAY_US - 1, "a"),             /* 2026-12-05T23:59:59.999999Z */
        event_at(T_20261205 + DAY_US, "b"),                 /* 2026-12-06T00:00:00.000000Z */
        event_at(T_20261205 + DAY_US + DAY_US / 2, "c"),
        event_at(T_20261205 + 2 * DAY_US - 1, "d"),
    };
    assert_int_equal(hp_output_jsonl.write(st, evs, 4), 0);
    struct hp_event *late[1] = { event_at(T_20261205 + 5, "e") };   /* the first day again */
    assert_int_equal(hp_output_jsonl.write(st, late, 1), 0);
    hp_output_jsonl.close(st);

    char p5[256], p6[256], tags[256];
    snprintf(p5, sizeof(p5), "%s/log/events-2026-12-05.jsonl", dir);
    snprintf(p6, sizeof(p6), "%s/log/events-2026-12-06.jsonl", dir);
    tags_of(p5, tags, sizeof(tags));
    assert_string_equal(tags, "a e");
    tags_of(p6, tags, sizeof(tags));
    assert_string_equal(tags, "b c d");

    for (int i = 0; i < 4; i++)
        hp_event_unref(evs[i]);
    hp_event_unref(late[0]);
    unlink(p5);
    unlink(p6);
    char logdir[256];
    snprintf(logdir, sizeof(logdir), "%s/log", dir);
    rmdir(logdir);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_day_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
