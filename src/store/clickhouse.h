/*
 * clickhouse.h - the rows and batch records of the ClickHouse output
 * (clickhouse.c), exposed for the unit tests, the fuzz harness and the
 * ingest bench.  The table they go to is created by `hanipo clickhouse init`
 * (src/cli/clickhouse.c); its columns are documented in docs/fleet.md.
 */
#ifndef HP_CLICKHOUSE_H
#define HP_CLICKHOUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_buf;
struct hp_event;

/* One row for an event, in ClickHouse's RowBinary format (the table's column order). */
void hp_ch_row(struct hp_buf *b, const struct hp_event *e, const char *sensor, const char *uid,
               const char *batch);

/* The hot columns' values for the event, after hp_ch_row() (table with the hot
 * columns as DEFAULT columns, store/chschema.h).  scratch: a buffer of at least
 * HP_EVENT_MAX bytes' capacity, for decoding. */
void hp_ch_row_hot(struct hp_buf *b, const struct hp_event *e, struct hp_buf *scratch);

/* The column list of an INSERT of rows without (hot false) or with the hot values. */
const char *hp_ch_columns(bool hot);

/* Batch record versions: rows of hp_ch_row(), or hp_ch_row() + hp_ch_row_hot(). */
#define HP_CH_REC_BASE 1
#define HP_CH_REC_HOT 2

/* A batch record as stored in the spool; body points into the record. */
struct hp_ch_batch {
    uint8_t version;   /* HP_CH_REC_BASE or HP_CH_REC_HOT */
    char id[64];
    char sensor[128];
    uint32_t rows;
    const char *body;
    size_t body_len;
};
/* 0, or -1 if the bytes are not a well-formed batch record. */
int hp_ch_batch_parse(const void *p, size_t n, struct hp_ch_batch *out);

#endif
