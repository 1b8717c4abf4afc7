/*
 * clickhouse.h - the rows and batch records of the ClickHouse output
 * (clickhouse.c), exposed for the unit tests, the fuzz harness and the
 * ingest bench.  The table they go to is created by `hanipo clickhouse init`
 * (src/cli/clickhouse.c); its columns are documented in docs/fleet.md.
 */
#ifndef HP_CLICKHOUSE_H
#define HP_CLICKHOUSE_H

#include <stddef.h>
#include <stdint.h>

struct hp_buf;
struct hp_event;

/* One row for an event, in ClickHouse's RowBinary format (the table's column order). */
void hp_ch_row(struct hp_buf *b, const struct hp_event *e, const char *sensor, const char *uid,
               const char *batch);

/* A batch record as stored in the spool; body points into the record. */
struct hp_ch_batch {
    char id[64];
    char sensor[128];
    uint32_t rows;
    const char *body;
    size_t body_len;
};
/* 0, or -1 if the bytes are not a well-formed batch record. */
int hp_ch_batch_parse(const void *p, size_t n, struct hp_ch_batch *out);

#endif
