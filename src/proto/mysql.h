/*
 * mysql.h - the MySQL / MariaDB front-end (src/proto/mysql.c, mysql_query.c,
 * mysql_stmt.c, mysql_zip.c).
 *
 * The session engine works on byte buffers, not on sockets, so unit tests
 * and the fuzzer drive it exactly as the module glue does: hp_my_greet()
 * queues the server greeting, hp_my_input() takes what the client sent and
 * returns how much of it was consumed (whole packets only), and what the
 * server answers is appended to s->out; s->closing asks the glue to close
 * once out is flushed.  Events go to the outputs through s->ctx.
 */
#ifndef HP_MYSQL_H
#define HP_MYSQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "event.h"

enum hp_my_flavor { HP_MY_57, HP_MY_80, HP_MY_MARIADB };

/* Capability flags (include/mysql_com.h). */
#define MY_CLIENT_LONG_PASSWORD     0x00000001u
#define MY_CLIENT_CONNECT_WITH_DB   0x00000008u
#define MY_CLIENT_COMPRESS          0x00000020u
#define MY_CLIENT_PROTOCOL_41       0x00000200u
#define MY_CLIENT_SSL               0x00000800u
#define MY_CLIENT_SECURE_CONNECTION 0x00008000u
#define MY_CLIENT_MULTI_STATEMENTS  0x00010000u
#define MY_CLIENT_PLUGIN_AUTH       0x00080000u
#define MY_CLIENT_CONNECT_ATTRS     0x00100000u
#define MY_CLIENT_PLUGIN_AUTH_LENENC 0x00200000u
#define MY_CLIENT_SESSION_TRACK     0x00800000u
#define MY_CLIENT_DEPRECATE_EOF     0x01000000u
#define MY_CLIENT_MYSQL             0x00000001u   /* MariaDB's name for LONG_PASSWORD: clear = extended caps follow */
/* MariaDB's extended capabilities (the upper 32 bits, in the greeting's filler). */
#define MY_MARIADB_EXTENDED_METADATA 0x08u
#define MY_MARIADB_CACHE_METADATA    0x10u

#define HP_MY_NAME_MAX   256      /* user / database / plugin names kept */
#define HP_MY_ATTRS_MAX  4096     /* connection attributes kept (raw) */
#define HP_MY_VARS_MAX   8        /* user variables (@x) remembered */
#define HP_MY_DBS_MAX    16       /* databases created in one session */
#define HP_MY_STMTS_MAX  64       /* prepared statements per connection (the server: 16382 in all) */
#define HP_MY_STMT_PARAMS 1024    /* placeholders per statement (the protocol's limit: 65535) */
#define HP_MY_LONG_FILES 4        /* long data and cursor rows kept per connection, in max_packet units */
#define HP_MY_DUMP_FILES 4        /* INTO DUMPFILE bytes stored per session, in max_packet units */

struct hp_my_conf {
    char *version;                /* what the greeting says ("5.5.5-10.11.6-MariaDB-0+deb12u1") */
    enum hp_my_flavor flavor;
    char *comment;                /* @@version_comment */
    char *hostname;               /* @@hostname; NULL: the sensor's identity */
    char *data_dir;               /* uploads (INTO DUMPFILE) go to DATA_DIR/payloads */
    bool clear_password;          /* ask for mysql_clear_password to learn the password */
    uint64_t accept_after;        /* a source's Nth attempt logs in (0: never) */
    uint64_t max_packet;          /* largest client packet accepted */
    uint64_t max_auth;            /* attempts per connection (COM_CHANGE_USER) */
};

struct hp_my_var {
    char name[64];
    struct hp_buf val;
};

struct hp_my_sess {
    const struct hp_my_conf *cf;
    const struct hp_evctx *ctx;
    struct hp_buf out;            /* bytes to send */
    bool closing;
    const char *close_reason;
    int state;
    uint8_t seq;                  /* sequence id of the next packet sent */
    uint8_t scramble[20];
    uint32_t conn_id;
    uint32_t server_caps, client_caps;
    uint32_t server_ext, client_ext;  /* MariaDB extended capabilities (client_ext: what it asked for) */
    uint8_t client_charset;
    char user[HP_MY_NAME_MAX + 1];
    size_t user_len;
    char db[HP_MY_NAME_MAX + 1];
    char plugin[64];              /* the client's auth plugin */
    uint8_t resp[64];             /* its scramble response */
    size_t resp_len;
    uint8_t attrs[HP_MY_ATTRS_MAX];
    size_t attrs_len;
    char client_app[128];         /* program_name, else _client_name */
    bool attempt_open;            /* asked for the clear password: the event waits for the answer */
    bool logged_in;
    char pw_hash[42];             /* "*<SHA1(SHA1(pw)) hex>" of the password that logged in, "" if unknown */
    unsigned attempts;
    uint64_t queries;
    bool more;                    /* statements follow in this COM_QUERY (SERVER_MORE_RESULTS_EXISTS) */
    bool no_index_cols_only;      /* SHOW STATUS: only the EOF after the columns says NO_INDEX_USED */
    bool no_index;                /* the result came from a scan (SERVER_QUERY_NO_INDEX_USED, MariaDB SHOW) */
    bool failed;                  /* an ERR was sent for the current statement */
    /* What INTO DUMPFILE may write: user variables and the last blob INSERTed. */
    struct hp_my_var vars[HP_MY_VARS_MAX];
    struct hp_buf last_blob;
    uint64_t dumped;              /* INTO DUMPFILE/OUTFILE bytes stored (HP_MY_DUMP_FILES budget) */
    char dbs[HP_MY_DBS_MAX][65];
    unsigned ndbs;
    char udfs[HP_MY_DBS_MAX][65];
    char udf_ret[HP_MY_DBS_MAX];       /* what each returns: 's' string, 'i' integer, 'r' real */
    unsigned nudfs;
    /* The compressed protocol (mysql_zip.c), on after the login when both sides set CLIENT_COMPRESS. */
    bool compress;
    uint8_t zseq;                 /* compressed sequence id of the next packet sent */
    uint32_t znet;                /* mysqld's net buffer: 16 KiB, grown to the largest packet read */
    struct hp_buf zin;            /* inflated bytes not yet a whole packet (bounded by max_packet) */
    /* Prepared statements (mysql_stmt.c). */
    struct hp_my_stmt *stmts;     /* HP_MY_STMTS_MAX slots, allocated on the first PREPARE */
    uint32_t stmt_next;           /* the last statement id given */
    uint64_t long_total;          /* long data and cursor rows kept (HP_MY_LONG_FILES budget) */
    bool dry;                     /* a PREPARE trying its statement: no capture scan */
};

/* Pick (first start) or read back the sensor's server version. */
void hp_my_identity(struct hp_my_conf *cf);
/* Fill a configuration from a version string (flavor, comment). */
void hp_my_conf_version(struct hp_my_conf *cf, const char *version);

void hp_my_sess_init(struct hp_my_sess *s, const struct hp_my_conf *cf, const struct hp_evctx *ctx);
void hp_my_sess_free(struct hp_my_sess *s);
void hp_my_greet(struct hp_my_sess *s);
size_t hp_my_input(struct hp_my_sess *s, const uint8_t *p, size_t n);
/* The peer went away: a pending attempt is logged with what is known. */
void hp_my_gone(struct hp_my_sess *s);
/* Forget every source's attempt count (tests). */
void hp_my_sources_reset(void);

/* ---- shared by mysql.c, mysql_query.c, mysql_stmt.c and mysql_zip.c ---- */
/* The first whole plain packet of p[0..n) answered without its sequence id
 * (the compressed framing's id zseq counts); returns the bytes used. */
size_t hp_my_plain(struct hp_my_sess *s, const uint8_t *p, size_t n, uint8_t zseq);
/* Compressed packets in, as hp_my_input. */
size_t hp_my_zip_input(struct hp_my_sess *s, const uint8_t *p, size_t n);
/* s->out from mark on (plain packets) framed as compressed packets. */
void hp_my_zip_wrap(struct hp_my_sess *s, size_t mark);
void hp_my_pkt(struct hp_my_sess *s, const void *p, size_t n);
void hp_my_ok(struct hp_my_sess *s, uint64_t affected, const char *info);
void hp_my_err(struct hp_my_sess *s, unsigned code, const char *state, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void hp_my_eof(struct hp_my_sess *s);
void hp_my_put_lenenc(struct hp_buf *b, uint64_t v);
void hp_my_put_lenstr(struct hp_buf *b, const void *p, size_t n);
/* A result set of text columns: names[ncols]; rows[nrows][ncols] (NULL value: SQL NULL). */
void hp_my_resultset(struct hp_my_sess *s, size_t ncols, const char *const *names,
                     size_t nrows, const char *const *cells);

/* What a MariaDB column definition says about one column (MySQL flavours
 * keep their plain text columns).  A zeroed one is a nullable text column
 * as wide as its longest value. */
#define MY_TYPE_LONG      0x03
#define MY_TYPE_NULL      0x06
#define MY_TYPE_LONGLONG  0x08
#define MY_TYPE_DATE      0x0a
#define MY_TYPE_DATETIME  0x0c
#define MY_TYPE_LONG_BLOB 0xfb
#define MY_TYPE_VAR_STRING 0xfd
#define MY_FLAG_NOT_NULL  0x0001
#define MY_FLAG_UNSIGNED  0x0020
#define MY_FLAG_BINARY    0x0080
#define MY_FLAG_NO_DEFAULT 0x1000
struct hp_my_col {
    uint8_t type;                 /* MY_TYPE_*; 0: VAR_STRING in the connection's charset */
    uint16_t flags;               /* MY_FLAG_* (BINARY: charset "binary", lengths in bytes) */
    uint32_t chars;               /* display width in characters; 0: the longest value */
    const char *table, *org_name; /* an information_schema column (SHOW ...), else NULL */
};
void hp_my_resultset_cols(struct hp_my_sess *s, size_t ncols, const char *const *names,
                          const struct hp_my_col *cols, size_t nrows, const char *const *cells);
/* SHOW PROCESSLIST / COM_PROCESS_INFO: this connection's row, command `cmd`,
 * Info the statement (NULL: SQL NULL). */
void hp_my_processlist(struct hp_my_sess *s, const char *cmd, const char *info, size_t infolen);
/* The server's @@name (without "@@"), NULL if unknown. */
const char *hp_my_variable(const struct hp_my_sess *s, const char *name, char *tmp, size_t tmplen);
size_t hp_my_nvariables(void);
const char *hp_my_variable_name(size_t i);
/* KILL / COM_PROCESS_KILL of thread id (query: KILL QUERY). */
void hp_my_kill(struct hp_my_sess *s, uint64_t id, bool query);
/* Answer one COM_QUERY. */
void hp_my_query(struct hp_my_sess *s, const uint8_t *q, size_t n);
/* Bytes per character of a collation id. */
unsigned hp_my_mbmaxlen(uint8_t cs);
/* A command.input event for a command's text. */
void hp_my_command_event(struct hp_my_sess *s, const char *verb, const void *text, size_t n);
/* COM_STMT_PREPARE .. COM_STMT_FETCH (mysql_stmt.c): cmd and its payload. */
void hp_my_stmt_command(struct hp_my_sess *s, uint8_t cmd, const uint8_t *p, size_t n);
/* Close every prepared statement (COM_RESET_CONNECTION, the end of the session). */
void hp_my_stmt_free(struct hp_my_sess *s);
/* Decode a literal expression (0x.., X'..', unhex('..'), '..', concat(..), @var).
 * Returns true and fills out; false when it is not a literal we know. */
bool hp_my_literal(const struct hp_my_sess *s, const char *p, size_t n, struct hp_buf *out);

#endif
