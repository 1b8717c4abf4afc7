/*
 * ch_ingest.c - drive [output clickhouse] directly, for bench/clickhouse_ingest.sh.
 *
 * Generating 100,000 events/s through the network is not possible on a
 * 2-core machine that also runs ClickHouse, so this driver links
 * build/libhanipo.a and pushes synthetic events through the output's ops
 * exactly as the sensor's writer thread does (write() with batches of up to
 * 2048 events, tick() every 200 ms, close() at the end).  The events are
 * built once by the real event builder (a login.failed-like event of about
 * 450 bytes) and reused with a fresh timestamp and sequence number per push,
 * so every row has its own uid.
 *
 *   ch_ingest rows FILE N            write N rows as the output sends them to a table of
 *                                    `hanipo clickhouse init` (RowBinary, with the hot
 *                                    columns' values), for the clickhouse-client reference
 *   ch_ingest columns                print the column list of those rows (for the INSERT)
 *   ch_ingest run CONFIG RATE SECS   push RATE events/s (0: as fast as write() takes them)
 *                                    for SECS seconds, then wait until ClickHouse acknowledged
 *                                    all; prints "events=... push_s=... total_s=... eps=...
 *                                    lat_p50_ms=... lat_p99_ms=... lat_max_ms=..."
 *
 * Latency is measured per event from its push to the moment the output's
 * status reports it acknowledged by ClickHouse (polled every 5 ms).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "buf.h"
#include "config.h"
#include "event.h"
#include "output.h"
#include "store/clickhouse.h"
#include "util.h"

#define POOL 4096
#define BATCH 2048

static struct hp_event *pool[POOL];

static void build_pool(void)
{
    hp_event_set_sensor("bench");
    struct hp_evctx ctx = { .protocol = "ssh", .service = "ssh", .transport = "tcp", .dst_port = 22 };
    for (int i = 0; i < POOL; i++) {
        snprintf(ctx.session, sizeof(ctx.session), "%012x", i);
        snprintf(ctx.src_ip, sizeof(ctx.src_ip), "198.51.%d.%d", (i >> 8) & 255, i & 255);
        ctx.src_port = (uint16_t)(40000 + i);
        struct hp_ev ev;
        hp_ev_begin(&ev, &ctx, "login.failed");
        hp_ev_str(&ev, "username", i % 3 ? "root" : "admin");
        hp_ev_str(&ev, "password", i % 2 ? "123456" : "P@ss\"w0rd\\");
        hp_ev_str(&ev, "client_version", "SSH-2.0-Go");
        hp_ev_str(&ev, "hassh", "4e066189c3bbeec38c99b1855113733a");
        hp_ev_int(&ev, "attempt", i % 7);
        hp_ev_str(&ev, "note", "a synthetic event of the ingest bench, about as long as a real login");
        pool[i] = hp_ev_finish(&ev);
    }
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t seq;

static void stamp(struct hp_event *e)
{
    e->h.ts_us = hp_now_us();
    e->h.seq = ++seq;
}

static int cmd_rows(const char *path, uint64_t n)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    struct hp_buf b, scratch;
    hp_buf_init(&b, 64 << 20);
    hp_buf_init(&scratch, HP_EVENT_MAX + 1);
    for (uint64_t i = 0; i < n; i++) {
        struct hp_event *e = pool[i % POOL];
        stamp(e);
        char uid[48];
        snprintf(uid, sizeof(uid), "%s-%" PRIu64, hp_event_run_id(), e->h.seq);
        hp_ch_row(&b, e, "reference", uid, "ref-0");
        hp_ch_row_hot(&b, e, &scratch);
        if (b.len > (32 << 20) || i + 1 == n) {
            fwrite(b.data, 1, b.len, f);
            hp_buf_reset(&b);
        }
    }
    hp_buf_free(&b);
    hp_buf_free(&scratch);
    return fclose(f) != 0;
}

static uint64_t shipped(const struct hp_output_ops *ops, void *st)
{
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    ops->status(st, &b);
    const char *p = strstr(hp_buf_cstr(&b), "\"shipped\":");
    uint64_t v = p ? strtoull(p + 10, NULL, 10) : 0;
    hp_buf_free(&b);
    return v;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmd_run(const char *conf, double rate, double secs)
{
    char err[1024];
    struct hp_config *cfg = hp_config_load(conf, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "ch_ingest: %s\n", err);
        return 1;
    }
    const struct hp_output_cfg *oc = NULL;
    for (size_t i = 0; i < cfg->noutputs; i++)
        if (strcmp(cfg->outputs[i].name, "clickhouse") == 0)
            oc = &cfg->outputs[i];
    const struct hp_output_ops *ops = hp_output_find("clickhouse");
    void *st;
    if (!oc || ops->open(&st, cfg, oc, err, sizeof(err)) != 0) {
        fprintf(stderr, "ch_ingest: %s\n", oc ? err : "no [output clickhouse]");
        return 1;
    }
    size_t cap = (size_t)(rate > 0 ? rate * secs * 1.1 + BATCH : 20e6);
    int64_t *pushed_at = calloc(cap, sizeof(*pushed_at));
    int64_t *lat = calloc(cap, sizeof(*lat));
    struct hp_event *batch[BATCH];
    uint64_t n = 0, acked = 0;
    int64_t t0 = mono_us(), next_tick = t0, end = t0 + (int64_t)(secs * 1e6);
    size_t nlat = 0;
    for (;;) {
        int64_t now = mono_us();
        /* Acknowledged so far: each acknowledged event's latency. */
        uint64_t a = shipped(ops, st);
        for (; acked < a && acked < n; acked++)
            lat[nlat++] = now - pushed_at[acked];
        if (now >= end && acked >= n)
            break;
        if (now >= end && now - end > 120 * 1000000LL) {
            fprintf(stderr, "ch_ingest: %" PRIu64 " events not acknowledged after 120 s\n", n - acked);
            break;
        }
        if (now >= next_tick) {
            ops->tick(st, hp_now_us());
            next_tick = now + 200000;
        }
        uint64_t due = rate > 0 ? (uint64_t)((double)(now - t0) * rate / 1e6) : n + BATCH;
        if (now < end && due > n && n < cap - BATCH) {
            size_t k = due - n > BATCH ? BATCH : (size_t)(due - n);
            for (size_t i = 0; i < k; i++) {
                batch[i] = pool[(n + i) % POOL];
                stamp(batch[i]);
                pushed_at[n + i] = now;
            }
            while (ops->write(st, batch, k) != 0)   /* spool full: the sensor would wait too */
                nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
            n += k;
            continue;
        }
        nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
    }
    int64_t t_end = mono_us();
    ops->close(st);
    qsort(lat, nlat, sizeof(*lat), cmp_i64);
    printf("events=%" PRIu64 " push_s=%.3f total_s=%.3f eps=%.0f lat_p50_ms=%.1f lat_p99_ms=%.1f lat_max_ms=%.1f\n",
           n, secs, (t_end - t0) / 1e6, n / ((t_end - t0) / 1e6),
           nlat ? lat[nlat / 2] / 1e3 : 0.0, nlat ? lat[nlat * 99 / 100] / 1e3 : 0.0,
           nlat ? lat[nlat - 1] / 1e3 : 0.0);
    free(pushed_at);
    free(lat);
    hp_config_free(cfg);
    return acked >= n ? 0 : 1;
}

int main(int argc, char **argv)
{
    build_pool();
    if (argc == 4 && strcmp(argv[1], "rows") == 0)
        return cmd_rows(argv[2], strtoull(argv[3], NULL, 10));
    if (argc == 2 && strcmp(argv[1], "columns") == 0)
        return puts(hp_ch_columns(true)) < 0;
    if (argc == 5 && strcmp(argv[1], "run") == 0)
        return cmd_run(argv[2], atof(argv[3]), atof(argv[4]));
    fprintf(stderr, "usage: ch_ingest rows FILE N | ch_ingest columns | ch_ingest run CONFIG RATE SECS\n");
    return 64;
}
