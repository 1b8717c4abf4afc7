/*
 * chschema.h - the "hot" columns of the fleet's ClickHouse table: event
 * fields that reports and the dashboard group by, stored as columns once,
 * at INSERT, instead of parsing the JSON of every row for every query
 * (issue 12: a fleet report over 10 M events took 252 s when each section
 * ran visitParamExtract* over `data`).  They are DEFAULT columns: the
 * sensors send the values (store/clickhouse.c, hp_ch_row_hot()); an INSERT
 * without them gets them computed from `data` by the expressions below.
 *
 * One table describes them; four users share it:
 *   - `hanipo clickhouse init` creates them with the table, adds the
 *     missing ones to a table made by an older release and turns its
 *     MATERIALIZED ones into DEFAULT ones (ALTER TABLE ... ADD / MODIFY
 *     COLUMN: 18.16 has no IF NOT EXISTS there, so it asks system.columns);
 *   - the ClickHouse output computes the values for every row it sends;
 *   - the fleet report and the dashboard write a field as @J{name} in their
 *     SQL; hp_chs_field() gives the column's name when the table has it and
 *     the very expression the column's DEFAULT is when it does not,
 *     so an old table gives the same answers, only slower.
 *
 * The expressions are those the report used before: NULL when the JSON has
 * no such member (as SQLite's json_extract), so NULLS FIRST orderings and
 * "absent vs. empty" stay as they were.
 */
#ifndef HP_STORE_CHSCHEMA_H
#define HP_STORE_CHSCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

struct hp_chq;

enum hp_chs_kind {
    HP_CHS_STR,        /* Nullable(String): visitParamExtractString, NULL when absent */
    HP_CHS_INT,        /* Nullable(Int64): visitParamExtractInt, NULL when absent */
    HP_CHS_LIST,       /* Array(String): the string elements of a JSON list (or a string) */
    HP_CHS_JOINED,     /* Nullable(String): a list's elements joined with ", ", NULL when absent */
};

struct hp_chs_col {
    const char *name;  /* the column's name = the JSON member's name */
    enum hp_chs_kind kind;
};

extern const struct hp_chs_col hp_chs_cols[];
extern const size_t hp_chs_ncols;

/* Bit i set: the table has hp_chs_cols[i]. */
typedef uint32_t hp_chs_have;
#define HP_CHS_ALL ((hp_chs_have)((1ULL << 22) - 1))

/* The index of a hot column, or -1. */
int hp_chs_index(const char *name, size_t n);

/* Append the column's type ("Nullable(String)") and its expression over `data`. */
void hp_chs_type(struct hp_buf *b, const struct hp_chs_col *c);
void hp_chs_expr(struct hp_buf *b, const struct hp_chs_col *c);

/* Append the field name[0..n): the column if have says the table has it, else its expression.
 * false for a name that is not a hot column (nothing appended). */
bool hp_chs_field(struct hp_buf *b, const char *name, size_t n, hp_chs_have have);

/* Which hot columns database.table has (from system.columns).  0, or -1 with err. */
int hp_chs_detect(struct hp_chq *c, const char *database, const char *table, hp_chs_have *have, char *err,
                  size_t errlen);

#define HP_CHS_MAX_SENSORS 256

/* The sensor's country as SQL, from [report] sensor_country "NAME:CC NAME:CC ...":
 * nullIf(transform(sensor, [names], [ccs], ''), ''), or a NULL String when map is empty.
 * Every name and code goes through hp_chq_quote().  0, or -1 with err. */
int hp_chs_sensor_country(const char *map, struct hp_buf *b, char *err, size_t errlen);

#endif
