/*
 * clickhouse_conn.h - settings of, and queries to, a ClickHouse server over HTTP.
 *
 * Shared by the [output clickhouse] writer (clickhouse.c) and `hanipo
 * clickhouse init` (src/cli/clickhouse.c): both read the same keys of the
 * [output clickhouse] section, so the table the sensor writes is the table
 * init created.  Queries go to ClickHouse's HTTP interface with libcurl: the
 * statement in the URL's query parameter, the data (if any) as the POST body,
 * credentials as HTTP basic auth (understood by every ClickHouse release
 * since 2016, unlike the X-ClickHouse-* headers).
 */
#ifndef HP_CLICKHOUSE_CONN_H
#define HP_CLICKHOUSE_CONN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_buf;
struct hp_config;
struct hp_output_cfg;

struct hp_ch_cfg {
    char url[512];            /* http(s)://host:port, no trailing slash */
    char database[128];       /* identifiers: [A-Za-z_][A-Za-z0-9_]* */
    char table[128];
    char user[128];
    char password[256];
    char tls_ca[PATH_MAX];    /* "" system store */
    bool tls_verify;
    uint64_t timeout_ms;
    uint64_t batch_rows;      /* at most this many rows per INSERT */
    uint64_t batch_delay_ms;  /* gather spooled batches this long before an INSERT */
    char spool_dir[PATH_MAX];
    uint64_t spool_max;       /* bytes */
    bool spool_fsync;
};

/* Defaults, then the section's keys; password_file is read only when
 * read_files (check() does no I/O).  0 or -1 with "FILE:LINE: ..." in err.
 * ocfg may be NULL (defaults only). */
int hp_ch_cfg_parse(struct hp_ch_cfg *c, const struct hp_config *cfg, const struct hp_output_cfg *ocfg,
                    bool read_files, char *err, size_t errlen);
extern const char *const hp_ch_cfg_keys[];

struct hp_ch_conn;
struct hp_ch_conn *hp_ch_conn_new(const struct hp_ch_cfg *c);
void hp_ch_conn_free(struct hp_ch_conn *k);

/*
 * Run one statement; body (may be NULL) is sent as data after it (INSERT
 * ... FORMAT rows).  'settings' is appended to the URL ("&name=value...", may
 * be NULL).  The reply body goes to resp (may be NULL).  Returns 0 when the
 * server answered 200; -1 otherwise, with the reason (curl error or the
 * server's message, shortened) in err.
 */
int hp_ch_query(struct hp_ch_conn *k, const char *sql, const char *settings, const void *body,
                size_t len, struct hp_buf *resp, char *err, size_t errlen);

/* Append s as a single-quoted SQL string literal. */
void hp_ch_sql_str(struct hp_buf *b, const char *s, size_t n);
/* Whether s is a plain identifier ([A-Za-z_][A-Za-z0-9_]*, at most 100 bytes). */
bool hp_ch_ident_ok(const char *s);

#endif
