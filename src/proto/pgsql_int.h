/*
 * pgsql_int.h - what the PostgreSQL module's two halves share: pgsql.c
 * (startup, login, simple queries, the statements it understands) and
 * pgsql_ext.c (the extended query protocol, which runs those same
 * statements).  Not for other modules.
 */
#ifndef HP_PGSQL_INT_H
#define HP_PGSQL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pgsql.h"
#include "reader.h"

/* ---- pgsql.c ---- */

struct pg_col {                   /* a result column */
    const char *name;
    uint32_t oid;                 /* its type */
    uint16_t len;                 /* the type's length, 0xffff: variable */
};

/* The column a cast to the type name (n bytes) makes: int/integer/int4,
 * bigint/int8, text, varchar; false for another. */
bool hp_pg_cast_type(const char *name, size_t n, struct pg_col *c);

/* Start a typed message in s->out; hp_pg_msg_end patches its length. */
size_t hp_pg_msg_begin(struct hp_pg_sess *s, char type);
void hp_pg_msg_end(struct hp_pg_sess *s, size_t at);
/* ErrorResponse ('E') or NoticeResponse ('N'), the fields in the server's order (pos 0: no P). */
void hp_pg_report(struct hp_pg_sess *s, char type, const char *sev, const char *code, const char *msg,
                  unsigned pos, const char *file, unsigned line, const char *routine);
void hp_pg_ready(struct hp_pg_sess *s);

/* Parse of a statement text: one statement or none (*span: it, trimmed;
 * *rows: it returns rows).  False after its ErrorResponse (more than one
 * statement, a syntax error), which also logs it as command.input. */
bool hp_pg_stmt_parse(struct hp_pg_sess *s, const char *t, size_t n, size_t *off, size_t *len, bool *rows);
/* The RowDescription of a statement with format code fmt, or NoData; false after an error. */
bool hp_pg_stmt_describe(struct hp_pg_sess *s, const char *t, size_t n, bool rows, uint16_t fmt);
/* Execute: the statement's events (command.input, pgsql.copy_program,
 * URLs), then its answer without RowDescription, the row in format fmt,
 * cut after maxrows (0: all).  -1 after an error, 1 when suspended, else 0. */
int hp_pg_stmt_exec(struct hp_pg_sess *s, const char *t, size_t n, uint16_t fmt, uint32_t maxrows);

/* ---- pgsql_txn.c ---- */

/* BEGIN, START TRANSACTION, COMMIT/END, ROLLBACK/ABORT, SAVEPOINT, RELEASE,
 * ROLLBACK TO (verb and low as pgsql.c splits a statement): answered, the
 * block's state kept; false for any other statement.  *ok is false after
 * an ErrorResponse. */
bool hp_pg_txn_stmt(struct hp_pg_sess *s, const char *verb, const char *low, bool *ok);
/* A statement that ends a block (COMMIT, END, ROLLBACK, ABORT). */
bool hp_pg_txn_ends(const char *verb);
/* In a failed block everything but its end is refused (ERROR 25P02, sent
 * here): true when this statement is. */
bool hp_pg_txn_refuses(struct hp_pg_sess *s, const char *verb);
/* A statement failed: an open block is now a failed one. */
void hp_pg_txn_failed(struct hp_pg_sess *s);

/* ---- pgsql_ext.c ---- */

/* Parse, Bind, Describe, Execute, Sync, Close, Flush. */
bool hp_pg_ext_type(uint8_t type);
/* One of those messages (its body in m). */
void hp_pg_ext_message(struct hp_pg_sess *s, uint8_t type, struct hp_rd *m);
/* A simple Query: it drops the unnamed statement and the portals. */
void hp_pg_ext_query(struct hp_pg_sess *s);
void hp_pg_ext_free(struct hp_pg_sess *s);

#endif
