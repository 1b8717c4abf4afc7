/*
 * pgsql.h - the PostgreSQL front-end (src/proto/pgsql.c).
 *
 * Like mysql.h, the session engine works on buffers: hp_pg_input() takes
 * the client's bytes and returns how many were consumed (whole messages
 * only), answers are appended to s->out and s->closing asks the glue to
 * close after flushing.
 */
#ifndef HP_PGSQL_H
#define HP_PGSQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "event.h"

#define HP_PG_NAME_MAX   256
#define HP_PG_PARAMS_MAX 2048     /* startup parameters kept (raw) */
#define HP_PG_TABLES     16       /* tables a session created, remembered */
#define HP_PG_TABLE_NAME 64       /* NAMEDATALEN */
#define HP_PG_SAVEPOINTS 8        /* savepoints of a block, remembered (pgsql_txn.c) */
#define HP_PG_SAVEPOINT_NAME 64
#define HP_PG_COPY_MAX   (16 * 1024)   /* bytes of program output a table keeps */

struct hp_pg_conf {
    char *version;                /* server_version ("14.5 (Ubuntu 14.5-0ubuntu0.22.04.1)") */
    unsigned major;               /* 10, 11, ... */
    struct hp_pg_lines {          /* source lines of the errors the release sends */
        unsigned pm;              /* postmaster.c: unsupported frontend protocol */
        unsigned layout, nouser;  /* postmaster.c: bad startup layout, no user name */
        unsigned auth;            /* auth.c: auth_failed() */
        unsigned pw_type, pw_size, pw_empty;   /* auth.c: recv_password_packet() */
        unsigned scan, guc;       /* scan.l: syntax error; guc.c: unknown parameter */
        unsigned msg_type;        /* postgres.c: invalid frontend message type */
        unsigned no_db;           /* postinit.c: database does not exist */
        unsigned dup_table, dup_skip;   /* heap.c / parse_utilcmd.c: relation already exists */
        unsigned no_table;        /* tablecmds.c: DROP of a missing table (+6: IF EXISTS notice) */
        unsigned msg_string;      /* pqformat.c: a Query without its NUL */
    } ln;
    bool md5;                     /* AuthenticationMD5Password instead of cleartext */
    uint64_t accept_after;        /* a source's Nth attempt logs in (0: never) */
    uint64_t max_query;           /* largest message accepted after login */
};

struct hp_pg_sess {
    const struct hp_pg_conf *cf;
    const struct hp_evctx *ctx;
    struct hp_buf out;
    bool closing;
    const char *close_reason;
    int state;
    unsigned ssl_requests;        /* 'N' answers sent (SSLRequest, GSSENCRequest: one each) */
    unsigned negotiated;          /* PG_SSL_CODE / PG_GSS_CODE seen: bit 0 / bit 1 */
    uint8_t salt[4];
    char user[HP_PG_NAME_MAX + 1];
    char db[HP_PG_NAME_MAX + 1];
    char app[HP_PG_NAME_MAX + 1];
    uint8_t params[HP_PG_PARAMS_MAX];
    size_t params_len;
    unsigned proto_minor;
    uint32_t pid, key;
    uint64_t queries;
    unsigned stmts;               /* statements answered (an empty query counts one) */
    char tables[HP_PG_TABLES][HP_PG_TABLE_NAME];   /* CREATE TABLE'd, for DROP's answers */
    char columns[HP_PG_TABLES][HP_PG_TABLE_NAME];  /* each one's first column */
    uint32_t table_oid0;          /* the first table's OID (16384 and up, per session) */
    int copy_table;               /* the table COPY ... FROM PROGRAM filled last, -1: none */
    struct hp_buf copy_rows;      /* its rows: what the program printed, one a line */
    unsigned copy_nrows;
    unsigned ntables;
    struct hp_pg_ext *ext;        /* extended protocol: statements and portals (pgsql_ext.c), lazily */
    bool ext_skip;                /* after an error there: every message up to Sync is discarded */
    char txn;                     /* ReadyForQuery's status: 'I' idle, 'T' in a block, 'E' failed block */
    char savepoints[HP_PG_SAVEPOINTS][HP_PG_SAVEPOINT_NAME];   /* of the open block, oldest first */
    unsigned nsavepoints;
    size_t sendable;              /* bytes of out to send now (extended answers wait for Sync/Flush) */
};

/* Pick (first start) or read back the sensor's server version. */
void hp_pg_identity(struct hp_pg_conf *cf);
/* Set version, major and the source line numbers from a version string. */
void hp_pg_conf_version(struct hp_pg_conf *cf, const char *version);

void hp_pg_sess_init(struct hp_pg_sess *s, const struct hp_pg_conf *cf, const struct hp_evctx *ctx);
void hp_pg_sess_free(struct hp_pg_sess *s);
size_t hp_pg_input(struct hp_pg_sess *s, const uint8_t *p, size_t n);
void hp_pg_sources_reset(void);

#endif
