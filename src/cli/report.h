/*
 * report.h - `hanipo report`: rankings and tallies over a time range of the
 * SQLite event store, for the operator's terminal or a blog post.
 *
 * The report is computed first into an in-memory model (sections of rows of
 * cells, report.c) and then rendered by one writer per format (report_fmt.c),
 * so the numbers are the same whatever the output, and the tests check the
 * model and each writer separately.
 */
#ifndef HP_CLI_REPORT_H
#define HP_CLI_REPORT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "buf.h"

enum rp_format { RP_TEXT, RP_JSON, RP_CSV, RP_MD, RP_HTML };

#define RP_MAX_COLS 8

struct rp_opts {
    int64_t since_us, until_us;     /* [since, until), microseconds since the epoch (UTC) */
    int top;                        /* rows per ranking */
    enum rp_format fmt;
    bool ja;                        /* Japanese titles and headings */
    bool mask;                      /* --mask-ips */
    int width;                      /* terminal width for RP_TEXT */
    bool progress;                  /* allow the stderr progress line */
    bool no_rollup;                 /* --no-rollup: always read the events table */
    const char *store;              /* --store / [report] store: NULL = the SQLite store */
    const char *sensors;            /* --sensor, comma list (ClickHouse only); NULL = every sensor */
    const char *sensor_country;     /* [report] sensor_country "NAME:CC ..." (ClickHouse only) */
};

/* One cell: bytes as read from the store (attacker-made, may hold NUL), or a number. */
struct rp_cell {
    char *s;                        /* NULL: no value (SQL NULL) */
    size_t n;
    int64_t num;
};

struct rp_col {
    const char *key;                /* JSON key / CSV heading */
    const char *en, *ja;            /* headings */
    bool numeric;
};

struct rp_section {
    const char *id;
    const char *en, *ja;            /* titles */
    int ncols;
    struct rp_col cols[RP_MAX_COLS];
    size_t nrows;
    struct rp_cell *cells;          /* nrows * ncols */
};

struct rp_report {
    int64_t since_us, until_us;
    size_t nsections;
    struct rp_section *sections;
};

/* Compute every section from an open events database. Returns 0, or -1 with err set. */
int hp_report_build(sqlite3 *db, const struct rp_opts *o, struct rp_report *r, char *err, size_t errlen);
void hp_report_free(struct rp_report *r);
/* The section with this id, or NULL. */
const struct rp_section *hp_report_section(const struct rp_report *r, const char *id);
static inline const struct rp_cell *rp_cell_at(const struct rp_section *s, size_t row, int col)
{
    return &s->cells[row * (size_t)s->ncols + (size_t)col];
}

/* The model's building blocks, for backends other than SQLite (report_clickhouse.c):
 * section i (< hp_report_ndefs()) gets the id, titles and columns of the SQLite
 * report; hp_report_row_finish applies the same post-processing (per-day series,
 * names, --mask-ips). */
size_t hp_report_ndefs(void);
void hp_report_section_init(struct rp_section *sec, size_t i);
struct rp_cell *hp_report_row_add(struct rp_section *sec);
void hp_report_cell_set(struct rp_cell *c, const void *s, size_t n);
void hp_report_row_finish(const struct rp_section *sec, size_t i, struct rp_cell *row, const struct rp_opts *o);

/* The same sections from a ClickHouse store (o->store = clickhouse://...), plus the
 * per-sensor ones; o->sensors filters. Returns 0, or -1 with err set. */
int hp_report_build_clickhouse(const struct rp_opts *o, struct rp_report *r, char *err, size_t errlen);

/* Render the model in o->fmt into out (report_fmt.c). */
void hp_report_write(const struct rp_report *r, const struct rp_opts *o, struct hp_buf *out);
/* The --html page: tables and SVG charts (report_html.c). */
void hp_report_html(const struct rp_report *r, const struct rp_opts *o, struct hp_buf *out);

/* --abuse DIR (report_abuse.c): one text file per source ASN in dir (created
 * 0750 if missing) with every address of the range, its counts and sample
 * events; a line per file goes to summary (may be NULL). Returns 0 or -1. */
int hp_report_abuse(sqlite3 *db, const struct rp_opts *o, const char *dir, FILE *summary, char *err,
                    size_t errlen);

/* IP masking (report.c): an address keeps its /16 (IPv4) or /32 (IPv6);
 * hp_report_mask_text masks every IPv4 literal inside free text. Both write a
 * NUL-terminated result into out (outlen >= n + 1 is always enough) and return
 * its length, which counts the NULs an attacker's text may hold. */
size_t hp_report_mask_ip(const char *ip, size_t n, char *out, size_t outlen);
size_t hp_report_mask_text(const char *s, size_t n, char *out, size_t outlen);

/* Parse YYYY-MM-DD[THH:MM[:SS]][Z] (UTC) into microseconds. Returns 0 or -1. */
int hp_report_parse_time(const char *s, int64_t *us);

/* argv[0] is "report". Returns the exit status (0, 1, 64, 78). */
/* The roll-up twin of a section's query (report_rollup.c), NULL if none, and
 * whether the roll-ups can answer this range of this store. */
enum rp_rollup { RP_ROLLUP_NONE, RP_ROLLUP_HOUR, RP_ROLLUP_DAY };
const char *hp_report_rollup_sql(const char *id, enum rp_rollup how);
enum rp_rollup hp_report_rollup_usable(sqlite3 *db, const struct rp_opts *o);

int hp_cli_report(int argc, char **argv, const char *default_config);

#endif
