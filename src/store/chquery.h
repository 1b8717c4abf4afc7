/*
 * chquery.h - a small read-only client for ClickHouse's HTTP interface, for
 * `hanipo report --store clickhouse://...` (src/cli/report_clickhouse.c).
 *
 * A query is POSTed as the request body and answered in TabSeparated: one
 * row per line, cells separated by TAB, with \t \n \\ \0 ... escapes inside
 * cells and \N for NULL.  That format exists unchanged in every ClickHouse
 * release since 2016 (Debian 12's 18.16 included) and, unlike JSON output,
 * gives back the exact bytes of attacker strings that are not UTF-8.
 *
 * The response comes from the network and is treated as hostile: the parser
 * (hp_chq_parse_tsv) reads it only through struct hp_rd, bounds the number
 * of columns and the size of the whole answer, and is fuzzed on its own
 * (fuzz/fuzz_chquery.c).
 */
#ifndef HP_STORE_CHQUERY_H
#define HP_STORE_CHQUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define HP_CHQ_MAX_COLS 16
#define HP_CHQ_MAX_RESPONSE (64u << 20)     /* bytes of one answer; reports are top-N rows */

/* clickhouse://[user[:password]@]host[:port]/database[?secure=1]
 * clickhouse+https://...  (port default 8123, 8443 with TLS; database default "hanipo") */
struct hp_chq_url {
    bool https;
    char user[128], password[256];
    char host[256];
    uint16_t port;
    char database[128];
};

/* One cell of a row: unescaped bytes (s[n] == '\0'), s == NULL for \N (NULL). */
struct hp_chq_cell {
    const char *s;
    size_t n;
};

/* Called per row; a non-zero return stops the parse and becomes its result. */
typedef int (*hp_chq_row_fn)(void *arg, size_t ncols, const struct hp_chq_cell *cells);

/* Parse a store URL.  Returns 0, or -1 with err set (user and password are never quoted in it). */
int hp_chq_parse_url(const char *url, struct hp_chq_url *u, char *err, size_t errlen);

/* Parse a TabSeparated answer: every line is one row of at most HP_CHQ_MAX_COLS cells.
 * Returns 0, the callback's non-zero value, or -1 on a malformed answer (bad escape,
 * too many columns, no final newline). */
int hp_chq_parse_tsv(const void *data, size_t len, hp_chq_row_fn fn, void *arg);

/* Append s as a ClickHouse string literal: quoted, every byte that is not a letter,
 * digit or one of " .:-_/@" written as \xHH, so no input can end the literal. */
void hp_chq_quote(struct hp_buf *b, const char *s, size_t n);

struct hp_chq;

/* A connection (libcurl handle, kept alive between queries).  NULL with err set. */
struct hp_chq *hp_chq_open(const struct hp_chq_url *u, long timeout_ms, char *err, size_t errlen);
void hp_chq_close(struct hp_chq *c);
/* Run one SELECT (" FORMAT TabSeparated" is appended) and hand every row to fn.
 * Returns 0, the callback's value, or -1 with err set (the server's message, cut). */
int hp_chq_query(struct hp_chq *c, const char *sql, hp_chq_row_fn fn, void *arg, char *err, size_t errlen);

#endif
