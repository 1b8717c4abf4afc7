/*
 * mysql_stmt.c - prepared statements (COM_STMT_PREPARE, _EXECUTE,
 * _SEND_LONG_DATA, _CLOSE, _RESET, _FETCH) as MariaDB 10.11.19 answers them.
 *
 * Bots written in Go (go-sql-driver prepares whenever a query has
 * arguments), JDBC with useServerPrepStmts and mysql.connector with
 * prepared=True stop before their payload when the server refuses these, so
 * they are emulated on top of the text path (mysql_query.c):
 *
 * - PREPARE counts the '?' outside quotes and comments, tries a SELECT-like
 *   statement on the text path with NULL for each (s->dry: nothing is
 *   scanned, a statement that could write is never tried) and answers its
 *   error, or the PREPARE OK, a definition per parameter (the NULL column
 *   MariaDB sends for each '?') and the text path's column definitions,
 *   with their EOFs unless CLIENT_DEPRECATE_EOF.
 * - EXECUTE decodes the binary parameters through the bounded reader (a
 *   string whose length runs past the packet is empty, as on the server),
 *   puts them into the statement as quoted, escaped literals, logs the
 *   result as command.input COM_STMT_EXECUTE, runs it on the text path
 *   (which raises the same derived events as COM_QUERY) and rewrites the
 *   answer's rows into the binary row format.  With a cursor the rows wait
 *   for COM_STMT_FETCH, as MariaDB (which supports cursors) does.
 * - SEND_LONG_DATA appends to a parameter, no reply; CLOSE, no reply;
 *   RESET forgets long data and the cursor, OK.
 *
 * Bounds: HP_MY_STMTS_MAX statements per connection (then the server's 1461),
 * HP_MY_STMT_PARAMS placeholders per statement (then 1390), long data
 * max_packet per statement; long data and the rows cursors hold
 * HP_MY_LONG_FILES x max_packet per connection (the rest is dropped).  Every pass over
 * peer bytes is linear.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mysql.h"
#include "reader.h"

#define ST_STATUS_AUTOCOMMIT 0x0002u
#define ST_STATUS_MORE_RESULTS 0x0008u
#define ST_STATUS_CURSOR_EXISTS 0x0040u
#define ST_STATUS_LAST_ROW_SENT 0x0080u
#define ST_BUF_MAX ((size_t)1 << 28)    /* working buffers: their inputs bound them far below */

/* What a column of a prepared statement shows. */
enum { ST_QCOL_NONE, ST_QCOL_BARE /* ? */, ST_QCOL_ALIAS /* ? AS name */ };

struct hp_my_stmt {
    uint32_t id;                  /* 0: a free slot */
    char *sql;
    size_t sqllen;
    uint16_t nparams;
    size_t ncols;
    uint8_t *qcol;                /* ncols: ST_QCOL_* */
    uint8_t *types;               /* 2 per parameter, from the last EXECUTE that bound them */
    bool bound;
    struct hp_buf *longd;         /* nparams, on the first SEND_LONG_DATA */
    bool *has_long;
    uint64_t long_len;
    struct hp_buf cursor;         /* [u32 length][payload] binary rows waiting for FETCH */
    size_t cursor_off;
    bool cursor_open;
};

/* What EXECUTE decoded for one parameter. */
struct st_val {
    uint8_t type;
    bool uns, null;
    size_t len;                   /* string bytes (column widths) */
    size_t off, n;                /* its literal in the rendered buffer */
    const uint8_t *raw;           /* its binary value as sent (a '?' column's value) */
    size_t rawlen;
    bool lenenc;                  /* raw is a string's bytes: length-encoded in a row */
};

static void st_put_u16(struct hp_buf *b, unsigned v)
{
    uint8_t t[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    hp_buf_put(b, t, 2);
}

static void st_put_u32(struct hp_buf *b, uint32_t v)
{
    uint8_t t[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    hp_buf_put(b, t, 4);
}

static bool st_deprecate_eof(const struct hp_my_sess *s)
{
    return (s->client_caps & s->server_caps & MY_CLIENT_DEPRECATE_EOF) != 0;
}

static bool st_ext_meta(const struct hp_my_sess *s)
{
    return (s->client_ext & s->server_ext & MY_MARIADB_EXTENDED_METADATA) != 0;
}

/* ---- statements ----------------------------------------------------------------------- */

static void st_forget_long(struct hp_my_sess *s, struct hp_my_stmt *st)
{
    if (st->longd)
        for (size_t i = 0; i < st->nparams; i++) {
            hp_buf_free(&st->longd[i]);
            st->has_long[i] = false;
        }
    s->long_total -= st->long_len < s->long_total ? st->long_len : s->long_total;
    st->long_len = 0;
}

static void st_close_cursor(struct hp_my_sess *s, struct hp_my_stmt *st)
{
    s->long_total -= st->cursor.len < s->long_total ? st->cursor.len : s->long_total;
    hp_buf_free(&st->cursor);
    st->cursor_off = 0;
    st->cursor_open = false;
}

static void st_drop(struct hp_my_sess *s, struct hp_my_stmt *st)
{
    st_forget_long(s, st);
    st_close_cursor(s, st);
    free(st->longd);
    free(st->has_long);
    free(st->sql);
    free(st->qcol);
    free(st->types);
    memset(st, 0, sizeof(*st));
}

void hp_my_stmt_free(struct hp_my_sess *s)
{
    if (!s->stmts)
        return;
    for (size_t i = 0; i < HP_MY_STMTS_MAX; i++)
        if (s->stmts[i].id)
            st_drop(s, &s->stmts[i]);
    free(s->stmts);
    s->stmts = NULL;
    s->long_total = 0;
}

static struct hp_my_stmt *st_find(struct hp_my_sess *s, uint32_t id)
{
    if (!s->stmts || !id)
        return NULL;
    for (size_t i = 0; i < HP_MY_STMTS_MAX; i++)
        if (s->stmts[i].id == id)
            return &s->stmts[i];
    return NULL;
}

static struct hp_my_stmt *st_free_slot(struct hp_my_sess *s)
{
    if (!s->stmts)
        s->stmts = calloc(HP_MY_STMTS_MAX, sizeof(*s->stmts));
    if (!s->stmts)
        return NULL;
    for (size_t i = 0; i < HP_MY_STMTS_MAX; i++)
        if (!s->stmts[i].id)
            return &s->stmts[i];
    return NULL;
}

/* ---- placeholders --------------------------------------------------------------------- */

/* The next `want` ('?', ';') at or after i outside quotes and comments, n if none. */
static size_t st_next_char(const uint8_t *q, size_t n, size_t i, uint8_t want)
{
    while (i < n) {
        uint8_t c = q[i];
        if (c == want)
            return i;
        if (c == '\'' || c == '"' || c == '`') {
            for (i++; i < n && q[i] != c; i++)
                if (q[i] == '\\' && c != '`')
                    i++;
            i++;
        } else if (c == '#' || (c == '-' && i + 2 < n && q[i + 1] == '-' && (q[i + 2] == ' ' || q[i + 2] == '\t'))) {
            while (i < n && q[i] != '\n')
                i++;
        } else if (c == '/' && i + 2 < n && q[i + 1] == '*' && q[i + 2] != '!') {
            for (i += 2; i + 1 < n && !(q[i] == '*' && q[i + 1] == '/'); i++)
                ;
            i += 2;
        } else {
            i++;
        }
    }
    return n;
}

static size_t st_next_mark(const uint8_t *q, size_t n, size_t i)
{
    return st_next_char(q, n, i, '?');
}

static size_t st_count_marks(const uint8_t *q, size_t n, size_t max)
{
    size_t k = 0;
    for (size_t i = st_next_mark(q, n, 0); i < n && k <= max; i = st_next_mark(q, n, i + 1))
        k++;
    return k;
}

/* The statement with each '?' replaced by vals[k]'s literal (lit holds them). */
static void st_substitute(const struct hp_my_stmt *st, const struct st_val *vals,
                          const struct hp_buf *lit, struct hp_buf *out)
{
    const uint8_t *q = (const uint8_t *)st->sql;
    size_t from = 0, k = 0;
    for (size_t i = st_next_mark(q, st->sqllen, 0); i < st->sqllen; i = st_next_mark(q, st->sqllen, i + 1)) {
        hp_buf_put(out, q + from, i - from);
        if (k < st->nparams && vals)
            hp_buf_put(out, lit->data + vals[k].off, vals[k].n);
        else
            hp_buf_puts(out, "NULL");
        k++;
        from = i + 1;
    }
    hp_buf_put(out, q + from, st->sqllen - from);
}

/* ---- column definitions ------------------------------------------------------------------ */

/* A column definition's name (field 5), false if it is not one. */
static bool st_col_name(const uint8_t *p, size_t n, const uint8_t **name, size_t *nlen)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    for (int f = 0; f < 5; f++) {
        uint8_t l = hp_rd_u8(&r);
        if (l >= 0xfb)
            return false;               /* our own names stay short */
        const uint8_t *v = hp_rd_bytes(&r, l);
        if (f == 4 && v) {
            *name = v;
            *nlen = l;
        }
    }
    return hp_rd_ok(&r);
}

/* Type and flags of a column definition (after its 6 or 7 strings). */
static bool st_col_type(const struct hp_my_sess *s, const uint8_t *p, size_t n, uint8_t *type, uint16_t *flags)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    int strs = st_ext_meta(s) ? 7 : 6;
    for (int f = 0; f < strs; f++) {
        uint8_t l = hp_rd_u8(&r);
        if (l >= 0xfb)
            return false;
        hp_rd_skip(&r, l);
    }
    hp_rd_skip(&r, 1 + 2 + 4);          /* 0x0c, charset, length */
    *type = hp_rd_u8(&r);
    *flags = hp_rd_u16le(&r);
    return hp_rd_ok(&r);
}

/* Digits after the point of a decimal sent as text (its column's decimals). */
static uint8_t st_decimals(const struct st_val *v)
{
    const uint8_t *dot = v->raw ? memchr(v->raw, '.', v->rawlen) : NULL;
    size_t d = dot ? v->rawlen - (size_t)(dot + 1 - v->raw) : 0;
    return (uint8_t)(d > 38 ? 38 : d);
}

/* Width and decimals MariaDB gives a '?' of a fixed-size type; false for the others. */
static bool st_fixed_width(uint8_t *type, uint32_t *len, uint8_t *dec)
{
    static const struct { uint8_t type, len, dec; } w[] = {
        { 0x01, 4, 0 }, { 0x02, 6, 0 }, { 0x03, 11, 0 }, { 0x09, 9, 0 }, { 0x08, 21, 0 },
        { 0x0d, 4, 0 }, { 0x04, 23, 31 }, { 0x05, 23, 31 }, { 0x0a, 10, 0 }, { 0x0c, 19, 0 },
        { 0x07, 19, 0 }, { 0x0b, 23, 0 },
    };
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
        if (w[i].type == *type) {
            *len = w[i].len;
            *dec = w[i].dec;
            if (*type == 0x07)
                *type = 0x0c;           /* a TIMESTAMP value is a DATETIME column */
            return true;
        }
    return false;
}

/* A '?' column: named "?" (or its alias), with the type, width and flags MariaDB gives the
 * parameter's value (v NULL: at PREPARE, a NULL column); under a cursor
 * its org_name is "?" too and BINARY goes. */
static void st_param_def(const struct hp_my_sess *s, const struct st_val *v, const uint8_t *name, size_t nlen,
                         bool cursor, struct hp_buf *b)
{
    hp_my_put_lenstr(b, "def", 3);
    for (int f = 0; f < 3; f++)
        hp_my_put_lenstr(b, "", 0);
    if (name)
        hp_my_put_lenstr(b, name, nlen);
    else
        hp_my_put_lenstr(b, "?", 1);
    hp_my_put_lenstr(b, "?", cursor ? 1 : 0);
    if (st_ext_meta(s))
        hp_my_put_lenstr(b, "", 0);
    hp_buf_putc(b, 0x0c);
    uint8_t type = v ? v->type : MY_TYPE_NULL, dec = 0;
    uint8_t ccs = s->client_charset ? s->client_charset : 45;
    uint16_t cs = 63, flags = 0x0080;
    uint32_t len = 0;
    if (v && !v->null) {
        flags = 0x0081 | (v->uns ? MY_FLAG_UNSIGNED : 0);
        if (st_fixed_width(&type, &len, &dec)) {
            /* numbers and dates: binary */
        } else if (type >= 0xf9 && type <= 0xfc) {     /* blobs: binary bytes */
            len = (uint32_t)v->len;
            dec = 39;
        } else if (type == 0x00 || type == 0xf6) {     /* decimals: the text, a sign's room */
            len = (uint32_t)v->len + 1;
            dec = st_decimals(v);
        } else {                        /* strings: in the connection's charset */
            cs = ccs;
            len = (uint32_t)(v->len * hp_my_mbmaxlen(ccs));
            type = type == 0xfe ? 0xfe : MY_TYPE_VAR_STRING;
            flags = MY_FLAG_NOT_NULL;
            dec = 39;
        }
    }
    if (cursor)
        flags &= (uint16_t)~MY_FLAG_BINARY;
    st_put_u16(b, cs);
    st_put_u32(b, len);
    hp_buf_putc(b, type);
    st_put_u16(b, flags);
    hp_buf_putc(b, dec);
    st_put_u16(b, 0);
}

static void st_eof(struct hp_my_sess *s, unsigned status)
{
    uint8_t p[7] = { 0xfe, 0, 0, (uint8_t)status, (uint8_t)(status >> 8), 0, 0 };
    hp_my_pkt(s, p, st_deprecate_eof(s) ? 7 : 5);
}

/* ---- PREPARE ------------------------------------------------------------------------------ */

static bool st_kw(const uint8_t *p, size_t n, const char *kw)
{
    size_t k = strlen(kw);
    if (n < k || strncasecmp((const char *)p, kw, k) != 0)
        return false;
    return n == k || !((p[k] | 0x20) >= 'a' && (p[k] | 0x20) <= 'z') ;
}

/* Verbs whose text path changes the session (or writes, or closes it). */
static const char *const st_writers[] = {
    "set", "use", "create", "drop", "insert", "replace", "update", "delete", "kill", "load",
    "alter", "rename", "grant", "revoke", "truncate", "call", "do", "handler", "install",
    "change", "reset", "purge", "prepare", "execute", "deallocate",
};

/* Whether trying the statement on the text path cannot change anything:
 * not one of st_writers, no INTO.  Trying the others (a
 * SELECT, SHOW, a typo) gives their columns or their error at PREPARE, as
 * the server's parser does. */
static bool st_readonly(const uint8_t *q, size_t n)
{
    size_t i = 0;
    while (i < n && (q[i] == ' ' || q[i] == '\t' || q[i] == '\r' || q[i] == '\n' || q[i] == '('))
        i++;
    for (size_t k = 0; k < sizeof(st_writers) / sizeof(st_writers[0]); k++)
        if (st_kw(q + i, n - i, st_writers[k]))
            return false;
    for (size_t j = 0; j + 4 <= n; j++)
        if (st_kw(q + j, n - j, "into") && (j == 0 || !((q[j - 1] | 0x20) >= 'a' && (q[j - 1] | 0x20) <= 'z')))
            return false;
    return true;                        /* a second statement was refused by st_multi */
}

static bool st_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The parser's 1064 near what follows a ';': one statement per PREPARE. */
static bool st_multi(struct hp_my_sess *s, const uint8_t *q, size_t n)
{
    size_t i = st_next_char(q, n, 0, ';');
    if (i >= n)
        return false;
    for (i++; i < n && st_space(q[i]); i++)
        ;
    if (i >= n)
        return false;
    char t[81];
    size_t k = n - i < 80 ? n - i : 80;
    memcpy(t, q + i, k);
    t[k] = '\0';
    for (size_t j = 0; j < k; j++)
        if (t[j] == '\0')
            t[j] = ' ';
    hp_my_err(s, 1064, "42000",
              "You have an error in your SQL syntax; check the manual that corresponds to your %s server "
              "version for the right syntax to use near '%s' at line 1",
              s->cf->flavor == HP_MY_MARIADB ? "MariaDB" : "MySQL", t);
    return true;
}

/* INSERT, REPLACE, UPDATE, DELETE of a table without a database: the
 * server's 1046 at PREPARE (the text path is not tried on writers). */
static bool st_no_db(struct hp_my_sess *s, const uint8_t *q, size_t n)
{
    static const char *const verbs[] = { "insert", "replace", "update", "delete" };
    static const char *const skip[] = { "into", "ignore", "low_priority", "delayed", "high_priority", "quick", "from" };
    size_t i = 0;
    bool writer = false;
    while (i < n && st_space(q[i]))
        i++;
    for (size_t k = 0; k < sizeof(verbs) / sizeof(verbs[0]) && !writer; k++)
        writer = st_kw(q + i, n - i, verbs[k]);
    if (s->db[0] || !writer)
        return false;
    for (int tok = 0; i < n && tok < 8; tok++) {
        while (i < n && !st_space(q[i]))
            i++;
        while (i < n && st_space(q[i]))
            i++;
        bool kw = false;
        for (size_t k = 0; k < sizeof(skip) / sizeof(skip[0]) && !kw; k++)
            kw = st_kw(q + i, n - i, skip[k]);
        if (kw)
            continue;
        for (size_t j = i; j < n && !st_space(q[j]) && q[j] != '('; j++)
            if (q[j] == '.')
                return false;
        if (i >= n)
            return false;
        hp_my_err(s, 1046, "3D000", "No database selected");
        return true;
    }
    return false;
}

/* The text path's answer to the statement with NULL parameters: false and
 * its ERR left in s->out, else the column definitions in cols as
 * [u32 length][payload]. */
static bool st_try(struct hp_my_sess *s, struct hp_my_stmt *st, struct hp_buf *cols)
{
    if (!st_readonly((const uint8_t *)st->sql, st->sqllen))
        return true;
    struct hp_buf q;
    hp_buf_init(&q, ST_BUF_MAX);
    st_substitute(st, NULL, NULL, &q);
    size_t mark = s->out.len;
    uint8_t seq = s->seq;
    bool more = s->more;
    s->dry = true;
    s->failed = false;
    hp_my_query(s, q.data, q.len);
    s->dry = false;
    s->more = more;
    hp_buf_free(&q);
    struct hp_rd r;
    hp_rd_init(&r, s->out.data + mark, s->out.len - mark);
    uint32_t len = hp_rd_u32le(&r) & 0xffffff;
    struct hp_rd pkt;
    if (!hp_rd_sub(&r, len, &pkt) || len == 0) {
        s->out.len = mark;
        s->seq = seq;
        return true;
    }
    uint8_t first = hp_rd_peek_u8(&pkt, 0) < 0 ? 0 : (uint8_t)hp_rd_peek_u8(&pkt, 0);
    if (first == 0xff) {
        s->out.len = mark + 4 + len;    /* its ERR is the answer */
        s->seq = (uint8_t)(seq + 1);
        return false;
    }
    if (first != 0x00) {
        uint64_t ncols = first < 0xfb ? first : 0;
        if (first == 0xfc)
            ncols = hp_rd_peek_u8(&pkt, 1) | (unsigned)hp_rd_peek_u8(&pkt, 2) << 8;
        for (uint64_t c = 0; c < ncols; c++) {
            uint32_t l = hp_rd_u32le(&r) & 0xffffff;
            const uint8_t *p = hp_rd_bytes(&r, l);
            if (!p)
                break;
            st_put_u32(cols, l);
            hp_buf_put(cols, p, l);
        }
    }
    s->out.len = mark;
    s->seq = seq;
    s->failed = false;
    return true;
}

/* Which columns kept by st_try show a parameter (st->qcol): a bare "NULL"
 * one is a '?', a NULL-typed one with another name an aliased '?'. */
static void st_mark_cols(const struct hp_my_sess *s, struct hp_my_stmt *st, const struct hp_buf *cols)
{
    struct hp_rd r;
    hp_rd_init(&r, cols->data, cols->len);
    for (size_t c = 0, q = 0; c < st->ncols && q < st->nparams && hp_rd_left(&r) >= 4; c++) {
        uint32_t l = hp_rd_u32le(&r);
        const uint8_t *p = hp_rd_bytes(&r, l), *name = NULL;
        size_t nlen = 0;
        uint8_t type = 0;
        uint16_t flags = 0;
        if (!p)
            break;
        if (st_col_name(p, l, &name, &nlen) && nlen == 4 && memcmp(name, "NULL", 4) == 0)
            st->qcol[c] = ST_QCOL_BARE;
        else if (st_col_type(s, p, l, &type, &flags) && type == MY_TYPE_NULL)
            st->qcol[c] = ST_QCOL_ALIAS;
        q += st->qcol[c] != ST_QCOL_NONE;
    }
}

/* The parameters' definitions: a '?' shown as an aliased column is named
 * after it (MariaDB names the parameter by its item), the others "?". */
static void st_send_params(struct hp_my_sess *s, const struct hp_my_stmt *st, const struct hp_buf *cols)
{
    struct hp_rd r;
    hp_rd_init(&r, cols->data, cols->len);
    struct hp_buf b;
    hp_buf_init(&b, 1 << 16);
    size_t c = 0;
    for (size_t i = 0; i < st->nparams; i++) {
        const uint8_t *name = NULL, *p = NULL;
        size_t nlen = 0;
        uint32_t l = 0;
        while (c < st->ncols && hp_rd_left(&r) >= 4) {
            l = hp_rd_u32le(&r);
            p = hp_rd_bytes(&r, l);
            if (st->qcol[c++] != ST_QCOL_NONE)
                break;
            p = NULL;
        }
        if (p && st->qcol[c - 1] == ST_QCOL_ALIAS && !st_col_name(p, l, &name, &nlen))
            name = NULL;
        hp_buf_reset(&b);
        st_param_def(s, NULL, name, nlen, false, &b);
        hp_my_pkt(s, b.data, b.len);
    }
    hp_buf_free(&b);
}

/* The column definitions kept by st_try, a bare '?' as its parameter's. */
static void st_send_cols(struct hp_my_sess *s, const struct hp_my_stmt *st, const struct hp_buf *cols)
{
    struct hp_rd r;
    hp_rd_init(&r, cols->data, cols->len);
    struct hp_buf b;
    hp_buf_init(&b, 1 << 16);
    for (size_t c = 0; c < st->ncols && hp_rd_left(&r) >= 4; c++) {
        uint32_t l = hp_rd_u32le(&r);
        const uint8_t *p = hp_rd_bytes(&r, l);
        if (!p)
            break;
        if (st->qcol[c] == ST_QCOL_BARE) {
            hp_buf_reset(&b);
            st_param_def(s, NULL, NULL, 0, false, &b);
            hp_my_pkt(s, b.data, b.len);
        } else {
            hp_my_pkt(s, p, l);
        }
    }
    hp_buf_free(&b);
}

static size_t st_ncols(const struct hp_buf *cols)
{
    struct hp_rd r;
    size_t n = 0;
    hp_rd_init(&r, cols->data, cols->len);
    while (hp_rd_left(&r) >= 4 && hp_rd_skip(&r, hp_rd_u32le(&r)))
        n++;
    return n;
}

static void st_prepare(struct hp_my_sess *s, const uint8_t *p, size_t n)
{
    hp_my_command_event(s, "COM_STMT_PREPARE", p, n);
    size_t np = st_count_marks(p, n, HP_MY_STMT_PARAMS);
    if (np > HP_MY_STMT_PARAMS) {
        hp_my_err(s, 1390, "HY000", "Prepared statement contains too many placeholders");
        return;
    }
    if (st_multi(s, p, n) || st_no_db(s, p, n))
        return;
    struct hp_my_stmt *st = st_free_slot(s);
    if (!st) {
        hp_my_err(s, 1461, "42000", "Can't create more than max_prepared_stmt_count statements (current value: 16382)");
        return;
    }
    st->sql = malloc(n + 1);
    if (!st->sql) {
        hp_my_err(s, 1041, "HY000", "Out of memory.");
        return;
    }
    memcpy(st->sql, p, n);
    st->sqllen = n;
    st->nparams = (uint16_t)np;
    struct hp_buf cols;
    hp_buf_init(&cols, ST_BUF_MAX);
    if (!st_try(s, st, &cols)) {
        hp_buf_free(&cols);
        st_drop(s, st);
        return;
    }
    st->ncols = st_ncols(&cols);
    st->qcol = calloc(st->ncols ? st->ncols : 1, 1);
    if (!st->qcol) {
        hp_buf_free(&cols);
        st_drop(s, st);
        hp_my_err(s, 1041, "HY000", "Out of memory.");
        return;
    }
    st_mark_cols(s, st, &cols);
    st->id = ++s->stmt_next ? s->stmt_next : ++s->stmt_next;
    struct hp_buf b;
    hp_buf_init(&b, 64);
    hp_buf_putc(&b, 0x00);
    st_put_u32(&b, st->id);
    st_put_u16(&b, (unsigned)(st->ncols > 0xffff ? 0xffff : st->ncols));
    st_put_u16(&b, st->nparams);
    hp_buf_putc(&b, 0x00);
    st_put_u16(&b, 0);                  /* warnings */
    hp_my_pkt(s, b.data, b.len);
    st_send_params(s, st, &cols);
    if (np && !st_deprecate_eof(s))
        st_eof(s, ST_STATUS_AUTOCOMMIT);
    st_send_cols(s, st, &cols);
    if (st->ncols && !st_deprecate_eof(s))
        st_eof(s, ST_STATUS_AUTOCOMMIT);
    hp_buf_free(&b);
    hp_buf_free(&cols);
}

/* ---- EXECUTE: the parameters ----------------------------------------------------------- */

/* A length-encoded integer (0 when cut short). */
static uint64_t st_rd_lenint(struct hp_rd *r)
{
    uint8_t c = hp_rd_u8(r);
    uint64_t v = c;
    if (c == 0xfc)
        v = hp_rd_u16le(r);
    else if (c == 0xfd)
        v = hp_rd_u16le(r) | (uint64_t)hp_rd_u8(r) << 16;
    else if (c == 0xfe)
        v = hp_rd_u64le(r);
    else if (c == 0xfb)
        v = 0;
    return hp_rd_ok(r) ? v : 0;
}

/* A length-encoded length; one that runs past the packet reads as 0 and
 * ends the packet (the server takes such a value as an empty string). */
static size_t st_rd_lenenc(struct hp_rd *r)
{
    uint64_t v = st_rd_lenint(r);
    if (!hp_rd_ok(r) || v > hp_rd_left(r)) {
        hp_rd_skip(r, hp_rd_left(r));
        return 0;
    }
    return (size_t)v;
}

/* A string literal: quoted, with the escapes the text path decodes. */
static void st_put_quoted(struct hp_buf *b, const uint8_t *p, size_t n)
{
    hp_buf_putc(b, '\'');
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\'' || p[i] == '\\') {
            hp_buf_putc(b, '\\');
            hp_buf_putc(b, p[i]);
        } else if (p[i] == 0) {
            hp_buf_put(b, "\\0", 2);
        } else {
            hp_buf_putc(b, p[i]);
        }
    }
    hp_buf_putc(b, '\'');
}

/* A time's fraction, if any, and the closing quote. */
static void st_put_micro(struct hp_buf *b, uint32_t us)
{
    if (us)
        hp_buf_printf(b, ".%06lu", (unsigned long)(us % 1000000));
    hp_buf_putc(b, '\'');
}

/* MYSQL_TIME in the binary protocol: a length byte, then as many of its
 * fields as the length says (DATE / DATETIME / TIMESTAMP; TIME). */
static void st_put_time(struct hp_buf *b, struct hp_rd *r, bool time)
{
    struct hp_rd v;
    if (!hp_rd_sub8(r, &v)) {
        hp_buf_puts(b, "NULL");
        return;
    }
    if (time) {
        uint8_t neg = hp_rd_u8(&v);
        uint32_t days = hp_rd_u32le(&v);
        unsigned h = hp_rd_u8(&v), m = hp_rd_u8(&v), sec = hp_rd_u8(&v);
        uint32_t us = hp_rd_u32le(&v);
        hp_buf_printf(b, "'%s%lu:%02u:%02u", neg ? "-" : "", (unsigned long)days * 24 + h, m, sec);
        st_put_micro(b, us);
        return;
    }
    unsigned y = hp_rd_u16le(&v), mo = hp_rd_u8(&v), d = hp_rd_u8(&v);
    unsigned h = hp_rd_u8(&v), mi = hp_rd_u8(&v), sec = hp_rd_u8(&v);
    uint32_t us = hp_rd_u32le(&v);
    hp_buf_printf(b, "'%04u-%02u-%02u", y, mo, d);
    if (hp_rd_pos(&v) > 4)
        hp_buf_printf(b, " %02u:%02u:%02u", h, mi, sec);
    st_put_micro(b, us);
}

static void st_put_double(struct hp_buf *b, double d, int digits)
{
    if (isnan(d) || isinf(d))
        hp_buf_puts(b, "NULL");
    else
        hp_buf_printf(b, "%.*g", digits, d);
}

/* One non-NULL parameter's value from r as a literal in lit. */
static void st_put_value(struct hp_buf *lit, struct hp_rd *r, struct st_val *v)
{
    uint64_t u;
    int64_t i;
    switch (v->type) {
    case 0x01:
        u = hp_rd_u8(r);
        i = (int8_t)u;
        break;
    case 0x02: case 0x0d:
        u = hp_rd_u16le(r);
        i = (int16_t)u;
        break;
    case 0x03: case 0x09:
        u = hp_rd_u32le(r);
        i = (int32_t)u;
        break;
    case 0x08:
        u = hp_rd_u64le(r);
        i = (int64_t)u;
        break;
    case 0x04: {
        uint32_t w = hp_rd_u32le(r);
        float f;
        memcpy(&f, &w, 4);
        st_put_double(lit, f, 9);
        return;
    }
    case 0x05: {
        uint64_t w = hp_rd_u64le(r);
        double d;
        memcpy(&d, &w, 8);
        st_put_double(lit, d, 17);
        return;
    }
    case 0x06:
        hp_buf_puts(lit, "NULL");
        v->null = true;
        return;
    case 0x07: case 0x0a: case 0x0c:
        st_put_time(lit, r, false);
        return;
    case 0x0b:
        st_put_time(lit, r, true);
        return;
    default: {
        size_t n = st_rd_lenenc(r);
        const uint8_t *p = hp_rd_bytes(r, n);
        v->len = n;
        v->raw = p ? p : (const uint8_t *)"";
        v->rawlen = p ? n : 0;
        v->lenenc = true;
        st_put_quoted(lit, p ? p : (const uint8_t *)"", p ? n : 0);
        return;
    }
    }
    if (v->uns)
        hp_buf_printf(lit, "%llu", (unsigned long long)u);
    else
        hp_buf_printf(lit, "%lld", (long long)i);
}

/* Null bitmap, new-params-bound flag, types and values into vals / lit.
 * False when the packet is too short for its bitmap and types or no types
 * were ever bound (the server's 1210). */
static bool st_bind(struct hp_my_stmt *st, struct hp_rd *r, struct st_val *vals, struct hp_buf *lit)
{
    size_t np = st->nparams;
    const uint8_t *nulls = hp_rd_bytes(r, (np + 7) / 8);
    uint8_t bound = hp_rd_u8(r);
    if (!nulls || !hp_rd_ok(r))
        return false;
    if (bound) {
        const uint8_t *t = hp_rd_bytes(r, 2 * np);
        if (!t)
            return false;
        memcpy(st->types, t, 2 * np);
        st->bound = true;
    } else if (!st->bound) {
        return false;
    }
    for (size_t k = 0; k < np; k++) {
        struct st_val *v = &vals[k];
        v->type = st->types[2 * k];
        v->uns = (st->types[2 * k + 1] & 0x80) != 0;
        v->off = lit->len;
        if (nulls[k / 8] & (1u << (k % 8))) {
            v->null = true;
            hp_buf_puts(lit, "NULL");
        } else if (st->has_long && st->has_long[k]) {
            v->len = v->rawlen = st->longd[k].len;
            v->raw = st->longd[k].data ? st->longd[k].data : (const uint8_t *)"";
            v->lenenc = true;
            st_put_quoted(lit, v->raw, v->rawlen);
        } else {
            size_t at = hp_rd_pos(r);
            const uint8_t *start = hp_rd_ptr(r);
            st_put_value(lit, r, v);
            if (!v->lenenc && hp_rd_ok(r)) {
                v->raw = start;
                v->rawlen = hp_rd_pos(r) - at;
            }
        }
        v->n = lit->len - v->off;
    }
    return true;
}

/* ---- EXECUTE: the answer in the binary row format ------------------------------------------- */

/* A text value (at most 63 bytes matter for numbers and dates) as a C string. */
static void st_cstr(char *t, size_t tl, const uint8_t *p, size_t n)
{
    size_t k = n < tl - 1 ? n : tl - 1;
    memcpy(t, p, k);
    t[k] = '\0';
}

static void st_put_le(struct hp_buf *b, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hp_buf_putc(b, (uint8_t)(v >> (8 * i)));
}

static void st_bin_date(struct hp_buf *b, const char *t, uint8_t type)
{
    unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    char frac[8] = "";
    if (type == 0x0b) {
        bool neg = t[0] == '-';
        sscanf(t + neg, "%u:%u:%u.%6[0-9]", &h, &mi, &sec, frac);
        unsigned long us = strtoul(frac, NULL, 10);
        for (size_t i = strlen(frac); i < 6; i++)
            us *= 10;
        if (!h && !mi && !sec && !us) {
            hp_buf_putc(b, 0);
            return;
        }
        hp_buf_putc(b, us ? 12 : 8);
        hp_buf_putc(b, neg);
        st_put_le(b, h / 24, 4);
        hp_buf_putc(b, (uint8_t)(h % 24));
        hp_buf_putc(b, (uint8_t)mi);
        hp_buf_putc(b, (uint8_t)sec);
        if (us)
            st_put_le(b, us, 4);
        return;
    }
    sscanf(t, "%u-%u-%u %u:%u:%u.%6[0-9]", &y, &mo, &d, &h, &mi, &sec, frac);
    unsigned long us = strtoul(frac, NULL, 10);
    for (size_t i = strlen(frac); i < 6 && frac[0]; i++)
        us *= 10;
    uint8_t len = us ? 11 : (h || mi || sec) ? 7 : (y || mo || d) ? 4 : 0;
    hp_buf_putc(b, len);
    if (len >= 4) {
        st_put_le(b, y, 2);
        hp_buf_putc(b, (uint8_t)mo);
        hp_buf_putc(b, (uint8_t)d);
    }
    if (len >= 7) {
        hp_buf_putc(b, (uint8_t)h);
        hp_buf_putc(b, (uint8_t)mi);
        hp_buf_putc(b, (uint8_t)sec);
    }
    if (len == 11)
        st_put_le(b, us, 4);
}

/* One text value as its column type's binary value. */
static void st_bin_value(struct hp_buf *b, const uint8_t *p, size_t n, uint8_t type, bool uns)
{
    char t[64];
    st_cstr(t, sizeof(t), p, n);
    int64_t i = uns ? (int64_t)strtoull(t, NULL, 10) : strtoll(t, NULL, 10);
    switch (type) {
    case 0x01: st_put_le(b, (uint64_t)i, 1); return;
    case 0x02: case 0x0d: st_put_le(b, (uint64_t)i, 2); return;
    case 0x03: case 0x09: st_put_le(b, (uint64_t)i, 4); return;
    case 0x08: st_put_le(b, (uint64_t)i, 8); return;
    case 0x04: {
        float f = strtof(t, NULL);
        uint32_t w;
        memcpy(&w, &f, 4);
        st_put_le(b, w, 4);
        return;
    }
    case 0x05: {
        double d = strtod(t, NULL);
        uint64_t w;
        memcpy(&w, &d, 8);
        st_put_le(b, w, 8);
        return;
    }
    case 0x07: case 0x0a: case 0x0c: case 0x0b:
        st_bin_date(b, t, type);
        return;
    default:
        hp_my_put_lenstr(b, p, n);
        return;
    }
}

/* The rewriting of one answer, packet by packet. */
struct st_conv {
    struct hp_my_sess *s;
    struct hp_my_stmt *st;
    const struct st_val *vals;
    bool cursor;
    int state;                    /* 0 first packet, 1 columns, 2 their EOF, 3 rows, 4 done */
    size_t ncols, col, q;
    uint8_t *types;
    uint16_t *flags;
    int *qmap;                    /* per column: the parameter a '?' column shows, else -1 */
    struct hp_buf out;            /* the new packets */
    uint8_t seq;
};

static void st_conv_pkt(struct st_conv *cv, const void *p, size_t n)
{
    uint8_t h[4] = { (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), cv->seq++ };
    hp_buf_put(&cv->out, h, 4);
    hp_buf_put(&cv->out, p, n);
}

static void st_conv_first(struct st_conv *cv, const uint8_t *p, size_t n)
{
    st_conv_pkt(cv, p, n);
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    if (p[0] == 0x00 || p[0] == 0xff || p[0] == 0xfe) {
        hp_rd_skip(&r, 1);
        st_rd_lenint(&r);               /* affected rows, last insert id */
        st_rd_lenint(&r);
        bool more = p[0] == 0x00 && (hp_rd_u16le(&r) & ST_STATUS_MORE_RESULTS) && hp_rd_ok(&r);
        cv->state = more ? 0 : 4;
        return;
    }
    cv->ncols = (size_t)st_rd_lenint(&r);
    if (cv->ncols > 4096)
        cv->ncols = 0;                  /* the text path never sends as many */
    free(cv->types);
    free(cv->flags);
    free(cv->qmap);
    cv->types = calloc(cv->ncols + 1, 1);
    cv->flags = calloc(cv->ncols + 1, sizeof(uint16_t));
    cv->qmap = malloc((cv->ncols + 1) * sizeof(int));
    for (size_t c = 0; cv->qmap && c < cv->ncols; c++)
        cv->qmap[c] = -1;
    cv->col = cv->q = 0;
    cv->state = cv->types && cv->flags && cv->qmap ? (cv->ncols ? 1 : 3) : 4;
}

static void st_conv_col(struct st_conv *cv, const uint8_t *p, size_t n)
{
    struct hp_my_stmt *st = cv->st;
    size_t c = cv->col++;
    if (c < st->ncols && st->qcol && st->qcol[c] && cv->q < st->nparams) {
        struct hp_buf b;
        hp_buf_init(&b, 1024);
        const uint8_t *name = NULL;
        size_t nlen = 0;
        if (st->qcol[c] == ST_QCOL_ALIAS && !st_col_name(p, n, &name, &nlen))
            name = NULL;
        cv->qmap[c] = (int)cv->q;
        st_param_def(cv->s, &cv->vals[cv->q++], name, nlen, cv->cursor, &b);
        st_conv_pkt(cv, b.data, b.len);
        st_col_type(cv->s, b.data, b.len, &cv->types[c], &cv->flags[c]);
        hp_buf_free(&b);
    } else {
        st_conv_pkt(cv, p, n);
        st_col_type(cv->s, p, n, &cv->types[c], &cv->flags[c]);
    }
    if (cv->col == cv->ncols) {
        cv->state = st_deprecate_eof(cv->s) ? 3 : 2;
        if (cv->cursor) {               /* the rows wait for COM_STMT_FETCH */
            uint8_t e[7] = { 0xfe, 0, 0, ST_STATUS_AUTOCOMMIT | ST_STATUS_CURSOR_EXISTS, 0, 0, 0 };
            st_conv_pkt(cv, e, st_deprecate_eof(cv->s) ? 7 : 5);
            st_close_cursor(cv->s, st);
            hp_buf_init(&st->cursor, ST_BUF_MAX);
            st->cursor_open = true;
        }
    }
}

/* A text row (length-encoded values, 0xfb for NULL) as a binary one: 0x00,
 * the null bitmap (offset 2), the values; a '?' column's value is the
 * parameter as it was sent. */
static void st_bin_row(const struct st_conv *cv, struct hp_rd *r, struct hp_buf *b)
{
    hp_buf_putc(b, 0x00);
    size_t bm = b->len, nb = (cv->ncols + 2 + 7) / 8;
    for (size_t i = 0; i < nb; i++)
        hp_buf_putc(b, 0);
    for (size_t c = 0; c < cv->ncols; c++) {
        bool null = hp_rd_peek_u8(r, 0) == 0xfb;
        const uint8_t *p = NULL;
        size_t n = 0;
        if (null)
            hp_rd_skip(r, 1);
        else
            n = st_rd_lenenc(r), p = hp_rd_bytes(r, n);
        const struct st_val *v = cv->qmap[c] >= 0 ? &cv->vals[cv->qmap[c]] : NULL;
        if (null || cv->types[c] == MY_TYPE_NULL || (v && v->null)) {
            if (b->len > bm + (c + 2) / 8)
                b->data[bm + (c + 2) / 8] |= (uint8_t)(1u << ((c + 2) % 8));
        } else if (v && v->raw && v->lenenc) {
            hp_my_put_lenstr(b, v->raw, v->rawlen);
        } else if (v && v->raw) {
            hp_buf_put(b, v->raw, v->rawlen);
        } else {
            st_bin_value(b, p ? p : (const uint8_t *)"", p ? n : 0, cv->types[c],
                         (cv->flags[c] & MY_FLAG_UNSIGNED) != 0);
        }
    }
}

static void st_conv_rows(struct st_conv *cv, const uint8_t *p, size_t n)
{
    if (p[0] == 0xff || (p[0] == 0xfe && n < 9)) {
        bool more = p[0] == 0xfe && n >= 5 && (p[3] & ST_STATUS_MORE_RESULTS);
        if (!cv->cursor)
            st_conv_pkt(cv, p, n);
        cv->state = more ? 0 : 4;
        return;
    }
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    struct hp_buf b;
    hp_buf_init(&b, ST_BUF_MAX);
    st_bin_row(cv, &r, &b);
    if (cv->cursor) {
        struct hp_my_sess *s = cv->s;
        if (s->long_total + 4 + b.len <= HP_MY_LONG_FILES * s->cf->max_packet) {
            st_put_u32(&cv->st->cursor, (uint32_t)b.len);
            hp_buf_put(&cv->st->cursor, b.data, b.len);
            s->long_total += 4 + b.len;
        }
    } else {
        st_conv_pkt(cv, b.data, b.len);
    }
    hp_buf_free(&b);
}

/* s->out from mark (the text path's answer) rewritten for the binary protocol. */
static void st_binary(struct hp_my_sess *s, struct hp_my_stmt *st, const struct st_val *vals, size_t mark, bool cursor)
{
    struct st_conv cv = { .s = s, .st = st, .vals = vals, .cursor = cursor };
    hp_buf_init(&cv.out, ST_BUF_MAX);
    struct hp_rd r;
    hp_rd_init(&r, s->out.data + mark, s->out.len - mark);
    cv.seq = (uint8_t)hp_rd_peek_u8(&r, 3);
    while (hp_rd_left(&r) >= 4 && cv.state != 4) {
        uint32_t len = hp_rd_u32le(&r) & 0xffffff;
        const uint8_t *p = hp_rd_bytes(&r, len);
        if (!p || !len)
            break;
        switch (cv.state) {
        case 0: st_conv_first(&cv, p, len); break;
        case 1: st_conv_col(&cv, p, len); break;
        case 2: if (!cv.cursor) st_conv_pkt(&cv, p, len); cv.state = 3; break;
        default: st_conv_rows(&cv, p, len); break;
        }
    }
    s->out.len = mark;
    hp_buf_put(&s->out, cv.out.data, cv.out.len);
    s->seq = cv.seq;
    hp_buf_free(&cv.out);
    free(cv.types);
    free(cv.flags);
    free(cv.qmap);
}

/* ---- the commands ------------------------------------------------------------------------ */

static void st_unknown(struct hp_my_sess *s, uint32_t id, const char *where)
{
    hp_my_err(s, 1243, "HY000", "Unknown prepared statement handler (%lu) given to %s", (unsigned long)id, where);
}

static void st_execute(struct hp_my_sess *s, const uint8_t *p, size_t n)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    uint32_t id = hp_rd_u32le(&r);
    struct hp_my_stmt *st = st_find(s, id);
    if (!st) {
        st_unknown(s, id, "mysqld_stmt_execute");
        return;
    }
    uint8_t flags = hp_rd_u8(&r);
    hp_rd_u32le(&r);                    /* iteration count: always 1 */
    st_close_cursor(s, st);             /* a new execution closes the last one's cursor */
    if (!st->types && st->nparams)
        st->types = calloc(st->nparams, 2);
    struct st_val *vals = calloc(st->nparams ? st->nparams : 1, sizeof(*vals));
    struct hp_buf lit, q;
    hp_buf_init(&lit, ST_BUF_MAX);
    hp_buf_init(&q, ST_BUF_MAX);
    if (!vals || (st->nparams && (!st->types || !st_bind(st, &r, vals, &lit)))) {
        hp_my_err(s, 1210, "HY000", "Incorrect arguments to mysqld_stmt_execute");
    } else {
        st_substitute(st, vals, &lit, &q);
        s->queries++;
        hp_my_command_event(s, "COM_STMT_EXECUTE", q.data, q.len);
        size_t mark = s->out.len;
        hp_my_query(s, q.data, q.len);
        st_binary(s, st, vals, mark, (flags & 0x01) != 0);
    }
    st_forget_long(s, st);              /* long data serves one EXECUTE */
    hp_buf_free(&lit);
    hp_buf_free(&q);
    free(vals);
}

/* No reply, whatever happens; what does not fit the budgets is dropped. */
static void st_long_data(struct hp_my_sess *s, const uint8_t *p, size_t n)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    struct hp_my_stmt *st = st_find(s, hp_rd_u32le(&r));
    uint16_t k = hp_rd_u16le(&r);
    if (!st || !hp_rd_ok(&r) || k >= st->nparams)
        return;
    if (!st->longd) {
        st->longd = calloc(st->nparams, sizeof(*st->longd));
        st->has_long = calloc(st->nparams, sizeof(bool));
        if (!st->longd || !st->has_long) {
            free(st->longd);
            free(st->has_long);
            st->longd = NULL;
            st->has_long = NULL;
            return;
        }
    }
    st->has_long[k] = true;
    size_t m = hp_rd_left(&r);
    if (st->long_len + m > s->cf->max_packet || s->long_total + m > HP_MY_LONG_FILES * s->cf->max_packet)
        return;
    if (!st->longd[k].cap)
        hp_buf_init(&st->longd[k], s->cf->max_packet);
    if (hp_buf_put(&st->longd[k], hp_rd_ptr(&r), m)) {
        st->long_len += m;
        s->long_total += m;
    }
}

static void st_reset(struct hp_my_sess *s, const uint8_t *p, size_t n)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    uint32_t id = hp_rd_u32le(&r);
    struct hp_my_stmt *st = st_find(s, id);
    if (!st) {
        st_unknown(s, id, "mysqld_stmt_reset");
        return;
    }
    st_forget_long(s, st);
    st_close_cursor(s, st);
    hp_my_ok(s, 0, NULL);
}

/* Up to the asked number of the cursor's rows, then an EOF saying whether
 * rows remain (CURSOR_EXISTS) or the last went (LAST_ROW_SENT, cursor closed). */
static void st_fetch(struct hp_my_sess *s, const uint8_t *p, size_t n)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    uint32_t id = hp_rd_u32le(&r);
    uint32_t rows = hp_rd_u32le(&r);
    struct hp_my_stmt *st = st_find(s, id);
    if (!st) {
        st_unknown(s, id, "mysqld_stmt_fetch");
        return;
    }
    if (!st->cursor_open) {
        hp_my_err(s, 1421, "HY000", "The statement (%lu) has no open cursor.", (unsigned long)id);
        return;
    }
    struct hp_rd c;
    hp_rd_init(&c, st->cursor.data, st->cursor.len);
    hp_rd_skip(&c, st->cursor_off);
    for (uint32_t i = 0; i < rows && hp_rd_left(&c) >= 4; i++) {
        uint32_t l = hp_rd_u32le(&c);
        const uint8_t *row = hp_rd_bytes(&c, l);
        if (!row)
            break;
        hp_my_pkt(s, row, l);
    }
    st->cursor_off = hp_rd_pos(&c);
    if (hp_rd_left(&c) >= 4) {
        st_eof(s, ST_STATUS_AUTOCOMMIT | ST_STATUS_CURSOR_EXISTS);
        return;
    }
    st_eof(s, ST_STATUS_AUTOCOMMIT | ST_STATUS_LAST_ROW_SENT);
    st_close_cursor(s, st);
}

void hp_my_stmt_command(struct hp_my_sess *s, uint8_t cmd, const uint8_t *p, size_t n)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    switch (cmd) {
    case 0x16:
        st_prepare(s, p, n);
        return;
    case 0x17:
        st_execute(s, p, n);
        return;
    case 0x18:
        st_long_data(s, p, n);
        return;
    case 0x19: {                        /* COM_STMT_CLOSE: no reply */
        struct hp_my_stmt *st = st_find(s, hp_rd_u32le(&r));
        if (st)
            st_drop(s, st);
        return;
    }
    case 0x1a:
        st_reset(s, p, n);
        return;
    default:
        st_fetch(s, p, n);
        return;
    }
}
