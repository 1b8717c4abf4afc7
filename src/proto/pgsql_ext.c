/*
 * pgsql_ext.c - the extended query protocol of the PostgreSQL look-alike
 * (pgsql.c): Parse, Bind, Describe, Execute, Sync, Close, Flush.
 *
 * pgx (Go), JDBC, psycopg 3 and node-postgres speak it by default once
 * logged in: refused, their droppers (COPY ... FROM PROGRAM, CREATE TABLE
 * cmd_exec, lo_export) never came.  A Parse takes one statement, checked
 * as the simple path checks it; Bind substitutes its $n parameters as SQL
 * literals (binary ones: integers and booleans decoded, text types as
 * they are, anything else as a '\x..' hex string), and Execute runs the
 * result through the simple path's statement logic, one command.input
 * event (and pgsql.copy_program, URLs) per run.
 *
 * The answers are what PostgreSQL 15.18 (Debian 12) sent for the same
 * bytes: ParseComplete, BindComplete, ParameterDescription (the declared
 * types, else text), RowDescription or NoData, rows in text or binary,
 * PortalSuspended after Execute's row limit (the server does not look
 * ahead), CloseComplete; the errors of exec_*_message with their 15.18
 * source lines; and after any error every message up to Sync discarded,
 * even a Query or a Terminate.  Portals end at Sync (no transaction is
 * kept open), the unnamed statement at the next unnamed Parse or Query.
 *
 * Bounds: PG_EXT_SLOTS statements and as many portals (a new one drops
 * the oldest), names cut to NAMEDATALEN - 1, parameters per statement
 * PG_EXT_PARAMS, the texts kept PG_EXT_BUDGET times max_query, the kept
 * texts re-read PG_EXT_WORK times max_query, and PG_EXT_MSGS messages per
 * connection.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pgsql_int.h"
#include "util.h"

#define PG_EXT_SLOTS  32
#define PG_EXT_NAME   64          /* NAMEDATALEN */
#define PG_EXT_PARAMS 256
#define PG_EXT_BUDGET 4
#define PG_EXT_MSGS   20000
#define PG_EXT_WORK   16          /* kept text re-read (Bind, Describe, Execute): x max_query per connection */

struct pg_entry {                 /* a prepared statement or a portal */
    bool used;
    bool rows;                    /* it returns rows */
    char name[PG_EXT_NAME];
    char *text;                   /* one statement, trimmed (a portal's: parameters substituted) */
    size_t len;
    uint64_t seq;                 /* creation order: the oldest goes first */
    uint16_t nparams;             /* a statement's, and their types */
    uint32_t *oids;
    uint16_t fmt;                 /* a portal's: result format */
    uint8_t run;                  /* a portal's: 0 not run, 1 suspended, 2 done */
};

struct hp_pg_ext {
    struct pg_entry stmt[PG_EXT_SLOTS], portal[PG_EXT_SLOTS];
    size_t bytes;                 /* texts kept */
    uint64_t seq;
    unsigned msgs;
    uint64_t work;                /* bytes of kept text re-read so far */
};

bool hp_pg_ext_type(uint8_t type)
{
    return type && strchr("PBDESCH", type) != NULL;
}

/* ---- statements and portals ---- */

static void ext_drop(struct hp_pg_ext *x, struct pg_entry *e)
{
    if (!e->used)
        return;
    x->bytes -= e->len;
    free(e->text);
    free(e->oids);
    e->used = false;
    e->text = NULL;
    e->oids = NULL;
    e->len = 0;
}

static struct pg_entry *ext_find(struct pg_entry *tab, const char *name)
{
    for (size_t i = 0; i < PG_EXT_SLOTS; i++)
        if (tab[i].used && strcmp(tab[i].name, name) == 0)
            return &tab[i];
    return NULL;
}

static struct pg_entry *ext_oldest(struct pg_entry *tab)
{
    struct pg_entry *o = NULL;
    for (size_t i = 0; i < PG_EXT_SLOTS; i++)
        if (tab[i].used && (!o || tab[i].seq < o->seq))
            o = &tab[i];
    return o;
}

/* A free entry of tab for a text of len bytes, dropping the oldest ones
 * (of tab when it is full, of either table while the texts are over budget). */
static struct pg_entry *ext_slot(struct hp_pg_sess *s, struct pg_entry *tab, const char *name, size_t len)
{
    struct hp_pg_ext *x = s->ext;
    size_t budget = (size_t)s->cf->max_query * PG_EXT_BUDGET;
    struct pg_entry *e = NULL;
    for (size_t i = 0; i < PG_EXT_SLOTS && !e; i++)
        if (!tab[i].used)
            e = &tab[i];
    if (!e)
        ext_drop(x, e = ext_oldest(tab));
    while (x->bytes + len > budget && x->bytes) {
        struct pg_entry *a = ext_oldest(x->stmt), *b = ext_oldest(x->portal);
        ext_drop(x, !b || (a && a->seq < b->seq) ? a : b);
    }
    memset(e, 0, sizeof(*e));
    e->used = true;
    snprintf(e->name, sizeof(e->name), "%s", name);
    e->seq = ++x->seq;
    e->len = len;
    e->text = hp_xcalloc(1, len + 1);
    x->bytes += len;
    return e;
}

static void ext_drop_portals(struct hp_pg_ext *x)
{
    for (size_t i = 0; i < PG_EXT_SLOTS; i++)
        ext_drop(x, &x->portal[i]);
}

void hp_pg_ext_query(struct hp_pg_sess *s)
{
    if (!s->ext)
        return;
    struct pg_entry *e = ext_find(s->ext->stmt, "");
    if (e)
        ext_drop(s->ext, e);
    ext_drop_portals(s->ext);
}

void hp_pg_ext_free(struct hp_pg_sess *s)
{
    if (!s->ext)
        return;
    for (size_t i = 0; i < PG_EXT_SLOTS; i++) {
        ext_drop(s->ext, &s->ext->stmt[i]);
        ext_drop(s->ext, &s->ext->portal[i]);
    }
    free(s->ext);
    s->ext = NULL;
}

/* A Bind, Describe or Execute of a few bytes re-reads a kept text of up to
 * max_query: without a bound, a 1 MiB statement bound and executed in a
 * loop costs a MiB of work per 30 bytes received.  Past PG_EXT_WORK x
 * max_query the connection is closed; false then. */
static bool ext_charge(struct hp_pg_sess *s, size_t n)
{
    s->ext->work += n;
    if (s->ext->work <= (uint64_t)s->cf->max_query * PG_EXT_WORK)
        return true;
    s->closing = true;
    s->close_reason = "too_many_queries";
    return false;
}

/* ---- errors (15.18's lines) ---- */

static void ext_error(struct hp_pg_sess *s, const char *code, const char *msg, const char *file, unsigned line,
                      const char *routine)
{
    hp_pg_report(s, 'E', "ERROR", code, msg, 0, file, line, routine);
    s->ext_skip = true;
    hp_pg_txn_failed(s);
}

/* The message body ran short, had bytes left over, or a string without its NUL. */
static void ext_bad_body(struct hp_pg_sess *s, const struct hp_rd *r)
{
    if (!hp_rd_ok(r))
        ext_error(s, "08P01", "insufficient data left in message", "pqformat.c", 533, "pq_copymsgbytes");
    else
        ext_error(s, "08P01", "invalid message format", "pqformat.c", 640, "pq_getmsgend");
}

/* A C string of the body (cut to outlen - 1); false after the error. */
static bool ext_cstr(struct hp_pg_sess *s, struct hp_rd *r, char *out, size_t outlen, const char **raw,
                     size_t *rawlen)
{
    long z = hp_rd_find(r, "", 1);
    if (z < 0) {
        ext_error(s, "08P01", "invalid string in message", "pqformat.c", 595, "pq_getmsgstring");
        return false;
    }
    const char *p = (const char *)hp_rd_bytes(r, (size_t)z);
    hp_rd_skip(r, 1);
    if (out)
        snprintf(out, outlen, "%.*s", (int)((size_t)z < outlen ? (size_t)z : outlen - 1), p);
    if (raw) {
        *raw = p;
        *rawlen = (size_t)z;
    }
    return true;
}

static struct pg_entry *ext_stmt(struct hp_pg_sess *s, const char *name, unsigned line, const char *routine)
{
    struct pg_entry *e = ext_find(s->ext->stmt, name);
    if (e)
        return e;
    char msg[PG_EXT_NAME + 48];
    if (!*name)
        ext_error(s, "26000", "unnamed prepared statement does not exist", "postgres.c", line, routine);
    else {
        snprintf(msg, sizeof(msg), "prepared statement \"%s\" does not exist", name);
        ext_error(s, "26000", msg, "prepare.c", 451, "FetchPreparedStatement");
    }
    return NULL;
}

static struct pg_entry *ext_portal(struct hp_pg_sess *s, const char *name, unsigned line, const char *routine)
{
    struct pg_entry *e = ext_find(s->ext->portal, name);
    if (!e) {
        char msg[PG_EXT_NAME + 32];
        snprintf(msg, sizeof(msg), "portal \"%s\" does not exist", name);
        ext_error(s, "34000", msg, "postgres.c", line, routine);
    }
    return e;
}

/* ---- parameters ---- */

struct ext_scan {
    const char *t;
    size_t n, i;
    char quote;
    bool dollar;
};

/* The next $n outside quotes and $$ bodies (as pg_split reads them): n,
 * with *at and *len its place in the text; 0 at the end. */
static unsigned ext_next_param(struct ext_scan *sc, size_t *at, size_t *len)
{
    for (; sc->i < sc->n; sc->i++) {
        char c = sc->t[sc->i];
        if (sc->quote) {
            sc->quote = c == sc->quote ? 0 : sc->quote;
        } else if (c == '$' && sc->i + 1 < sc->n && sc->t[sc->i + 1] == '$') {
            sc->dollar = !sc->dollar;
            sc->i++;
        } else if (sc->dollar) {
            continue;
        } else if (c == '\'' || c == '"') {
            sc->quote = c;
        } else if (c == '$' && sc->i + 1 < sc->n && sc->t[sc->i + 1] >= '0' && sc->t[sc->i + 1] <= '9' &&
                   !(sc->i && (isalnum((unsigned char)sc->t[sc->i - 1]) || sc->t[sc->i - 1] == '_'))) {
            size_t j = sc->i + 1;
            unsigned v = 0;
            for (; j < sc->n && sc->t[j] >= '0' && sc->t[j] <= '9'; j++)
                v = v > 100000 ? v : v * 10 + (unsigned)(sc->t[j] - '0');
            *at = sc->i;
            *len = j - sc->i;
            sc->i = j;
            return v ? v : PG_EXT_PARAMS + 1;    /* $0: no such parameter either */
        }
    }
    return 0;
}

static bool ext_numeric_oid(uint32_t oid)
{
    return oid == 20 || oid == 21 || oid == 23 || oid == 26 || oid == 700 || oid == 701 || oid == 1700;
}

static bool ext_text_oid(uint32_t oid)
{
    return oid == 0 || oid == 25 || oid == 19 || oid == 18 || oid == 1042 || oid == 1043 || oid == 114;
}

/* A plain number (what a numeric parameter may be written as unquoted). */
static bool ext_is_number(const uint8_t *v, size_t n)
{
    size_t i = n && v[0] == '-' ? 1 : 0, digits = 0, dots = 0;
    for (; i < n; i++) {
        if (v[i] >= '0' && v[i] <= '9')
            digits++;
        else if (v[i] == '.' && !dots)
            dots++;
        else
            return false;
    }
    return digits > 0 && n <= 40;
}

static int64_t ext_be(const uint8_t *v, size_t n)
{
    uint64_t u = 0;
    for (size_t i = 0; i < n; i++)
        u = u << 8 | v[i];
    if (n < 8 && (u >> (8 * n - 1)) & 1)     /* sign-extend */
        u |= ~(uint64_t)0 << (8 * n);
    return (int64_t)u;
}

/* One parameter as the SQL literal it stands for (len < 0: NULL). */
static void ext_literal(struct hp_buf *b, const uint8_t *v, int64_t len, bool binary, uint32_t oid)
{
    size_t n = len < 0 ? 0 : (size_t)len;
    if (len < 0) {
        hp_buf_puts(b, "NULL");
    } else if (!binary && ext_numeric_oid(oid) && ext_is_number(v, n)) {
        hp_buf_put(b, v, n);
    } else if (binary && ((oid == 23 && n == 4) || (oid == 20 && n == 8) || (oid == 21 && n == 2))) {
        hp_buf_printf(b, "%lld", (long long)ext_be(v, n));
    } else if (binary && oid == 16 && n == 1) {
        hp_buf_puts(b, v[0] ? "true" : "false");
    } else if ((!binary || ext_text_oid(oid)) && !memchr(v, '\0', n)) {
        hp_buf_putc(b, '\'');
        for (size_t i = 0; i < n; i++) {
            if (v[i] == '\'')
                hp_buf_putc(b, '\'');
            hp_buf_putc(b, v[i]);
        }
        hp_buf_putc(b, '\'');
    } else {                                  /* recorded as bytea's hex form */
        static const char hx[] = "0123456789abcdef";
        hp_buf_puts(b, "'\\x");
        for (size_t i = 0; i < n; i++) {
            hp_buf_putc(b, (uint8_t)hx[v[i] >> 4]);
            hp_buf_putc(b, (uint8_t)hx[v[i] & 15]);
        }
        hp_buf_putc(b, '\'');
    }
}

struct ext_val {
    const uint8_t *p;
    int64_t len;                  /* -1: NULL */
    bool binary;
};

/* The statement with its $n replaced: vals given (Bind), or placeholders
 * of the declared types (Describe of a statement). */
static void ext_subst(struct hp_buf *b, const struct pg_entry *st, const struct ext_val *vals)
{
    struct ext_scan sc = { st->text, st->len, 0, 0, false };
    size_t at, len, from = 0;
    unsigned k;
    while ((k = ext_next_param(&sc, &at, &len)) != 0) {
        if (k > st->nparams)
            continue;
        if (!hp_buf_ok(b))
            return;                       /* cut: a parameter used many times stops at the cap */
        hp_buf_put(b, st->text + from, at - from);
        from = at + len;
        uint32_t oid = st->oids[k - 1];
        if (vals)
            ext_literal(b, vals[k - 1].p, vals[k - 1].len, vals[k - 1].binary, oid);
        else
            hp_buf_puts(b, ext_numeric_oid(oid) ? "0" : "''");
    }
    hp_buf_put(b, st->text + from, st->len - from);
}

/* ---- the messages ---- */

/* The type a cast right after a parameter gives it ("$1::int"), else 0. */
static uint32_t ext_cast_oid(const char *t, size_t n, size_t i)
{
    if (i + 2 > n || t[i] != ':' || t[i + 1] != ':')
        return 0;
    size_t j = i + 2;
    while (j < n && (isalnum((unsigned char)t[j]) || t[j] == '_'))
        j++;
    struct pg_col c;
    return hp_pg_cast_type(t + i + 2, j - i - 2, &c) ? c.oid : 0;
}

/* The statement's parameters: the declared types, else what a cast says,
 * else text; false after the error (too many, or one neither declared nor
 * used). */
static bool ext_param_types(struct hp_pg_sess *s, uint32_t *oids, unsigned *nparams, const char *t, size_t n,
                            unsigned declared)
{
    uint8_t used[PG_EXT_PARAMS + 1] = { 0 };
    struct ext_scan sc = { t, n, 0, 0, false };
    size_t at, len;
    unsigned k, max = declared;
    for (unsigned i = declared; i < PG_EXT_PARAMS; i++)
        oids[i] = 0;
    while ((k = ext_next_param(&sc, &at, &len)) != 0) {
        if (k > PG_EXT_PARAMS) {
            ext_error(s, "54000", "too many parameters", "postgres.c", 711, "pg_analyze_and_rewrite_varparams");
            return false;
        }
        if (!oids[k - 1])
            oids[k - 1] = ext_cast_oid(t, n, at + len);
        used[k] = 1;
        max = k > max ? k : max;
    }
    for (unsigned i = 0; i < max; i++) {
        if (oids[i] == 0 && !used[i + 1]) {
            char msg[64];
            snprintf(msg, sizeof(msg), "could not determine data type of parameter $%u", i + 1);
            ext_error(s, "42P18", msg, "postgres.c", 711, "pg_analyze_and_rewrite_varparams");
            return false;
        }
        if (oids[i] == 0)
            oids[i] = 25;                     /* unknown: resolved as text */
    }
    *nparams = max;
    return true;
}

static void ext_parse(struct hp_pg_sess *s, struct hp_rd *r)
{
    char name[PG_EXT_NAME];
    const char *t;
    size_t n, off, len;
    bool rows;
    if (!ext_cstr(s, r, name, sizeof(name), NULL, NULL) || !ext_cstr(s, r, NULL, 0, &t, &n))
        return;
    unsigned declared = hp_rd_u16be(r);
    uint32_t oids[PG_EXT_PARAMS];
    for (unsigned i = 0; i < declared && hp_rd_ok(r); i++) {
        uint32_t oid = hp_rd_u32be(r);
        if (i < PG_EXT_PARAMS)
            oids[i] = oid;
    }
    if (!hp_rd_ok(r) || hp_rd_left(r)) {
        ext_bad_body(s, r);
        return;
    }
    if (!*name) {                             /* the unnamed statement is replaced */
        struct pg_entry *old = ext_find(s->ext->stmt, "");
        if (old)
            ext_drop(s->ext, old);
    }
    if (!hp_pg_stmt_parse(s, t, n, &off, &len, &rows)) {
        s->ext_skip = true;
        hp_pg_txn_failed(s);
        return;
    }
    unsigned nparams;
    if (declared > PG_EXT_PARAMS || !ext_param_types(s, oids, &nparams, t + off, len, declared)) {
        if (!s->ext_skip)
            ext_error(s, "54000", "too many parameters", "postgres.c", 711, "pg_analyze_and_rewrite_varparams");
        return;
    }
    if (*name && ext_find(s->ext->stmt, name)) {
        char msg[PG_EXT_NAME + 48];
        snprintf(msg, sizeof(msg), "prepared statement \"%s\" already exists", name);
        ext_error(s, "42P05", msg, "prepare.c", 412, "StorePreparedStatement");
        return;
    }
    struct pg_entry *e = ext_slot(s, s->ext->stmt, name, len);
    memcpy(e->text, t + off, len);
    e->text[len] = '\0';
    e->rows = rows;
    e->nparams = (uint16_t)nparams;
    e->oids = hp_xcalloc(nparams + 1, sizeof(uint32_t));
    memcpy(e->oids, oids, sizeof(uint32_t) * nparams);
    hp_pg_msg_end(s, hp_pg_msg_begin(s, '1'));
}

/* Bind's format codes: none (text), one for all, or one each. */
static bool ext_formats(struct hp_rd *r, uint16_t *codes, unsigned *count, unsigned max)
{
    *count = hp_rd_u16be(r);
    for (unsigned i = 0; i < *count && hp_rd_ok(r); i++) {
        uint16_t f = hp_rd_u16be(r);
        if (i < max)
            codes[i] = f;
    }
    return hp_rd_ok(r);
}

static bool ext_bind_params(struct hp_pg_sess *s, struct hp_rd *r, const struct pg_entry *st,
                            struct ext_val *vals, const uint16_t *pf, unsigned npf)
{
    char msg[PG_EXT_NAME + 96];
    unsigned nv = hp_rd_u16be(r);
    if (!hp_rd_ok(r)) {
        ext_bad_body(s, r);
        return false;
    }
    if (npf > 1 && npf != nv) {
        snprintf(msg, sizeof(msg), "bind message has %u parameter formats but %u parameters", npf, nv);
        ext_error(s, "08P01", msg, "postgres.c", 1668, "exec_bind_message");
        return false;
    }
    if (nv != st->nparams) {
        snprintf(msg, sizeof(msg), "bind message supplies %u parameters, but prepared statement \"%s\" requires %u",
                 nv, st->name, st->nparams);
        ext_error(s, "08P01", msg, "postgres.c", 1674, "exec_bind_message");
        return false;
    }
    for (unsigned i = 0; i < nv && hp_rd_ok(r); i++) {
        uint32_t len = hp_rd_u32be(r);
        vals[i].len = len == 0xffffffffu ? -1 : (int64_t)len;
        vals[i].p = len == 0xffffffffu ? NULL : hp_rd_bytes(r, len);
        vals[i].binary = (npf == 1 ? pf[0] : npf ? pf[i] : 0) == 1;
    }
    return true;
}

static void ext_bind(struct hp_pg_sess *s, struct hp_rd *r)
{
    char portal[PG_EXT_NAME], name[PG_EXT_NAME], msg[96];
    if (!ext_cstr(s, r, portal, sizeof(portal), NULL, NULL) || !ext_cstr(s, r, name, sizeof(name), NULL, NULL))
        return;
    const struct pg_entry *st = ext_stmt(s, name, 1616, "exec_bind_message");
    if (!st || !ext_charge(s, st->len))
        return;
    uint16_t pf[PG_EXT_PARAMS], rf[2] = { 0, 0 };
    unsigned npf, nrf;
    struct ext_val vals[PG_EXT_PARAMS];
    if (!ext_formats(r, pf, &npf, PG_EXT_PARAMS)) {
        ext_bad_body(s, r);
        return;
    }
    if (!ext_bind_params(s, r, st, vals, pf, npf))
        return;
    if (*portal && ext_find(s->ext->portal, portal)) {
        snprintf(msg, sizeof(msg), "cursor \"%s\" already exists", portal);
        ext_error(s, "42P03", msg, "portalmem.c", 186, "CreatePortal");
        return;
    }
    if (!ext_formats(r, rf, &nrf, 2) || hp_rd_left(r)) {
        ext_bad_body(s, r);
        return;
    }
    if (st->rows && nrf > 1) {
        snprintf(msg, sizeof(msg), "bind message has %u result formats but query has 1 columns", nrf);
        ext_error(s, "08P01", msg, "pquery.c", 639, "PortalSetResultFormat");
        return;
    }
    struct hp_buf b;
    hp_buf_init(&b, st->len + 8 + (size_t)s->cf->max_query * 3);
    ext_subst(&b, st, vals);
    struct pg_entry *old = ext_find(s->ext->portal, portal);   /* the unnamed one, replaced */
    if (old)
        ext_drop(s->ext, old);
    struct pg_entry *e = ext_slot(s, s->ext->portal, portal, b.len);
    if (b.len)                                      /* an empty statement: no buffer at all */
        memcpy(e->text, b.data, b.len);
    e->rows = st->rows;
    e->fmt = rf[0];
    hp_buf_free(&b);
    hp_pg_msg_end(s, hp_pg_msg_begin(s, '2'));
}

/* Describe of a statement: ParameterDescription, then its row (text format) or NoData. */
static void ext_describe_stmt(struct hp_pg_sess *s, const char *name)
{
    const struct pg_entry *st = ext_stmt(s, name, 2586, "exec_describe_statement_message");
    if (!st || !ext_charge(s, st->len))
        return;
    size_t at = hp_pg_msg_begin(s, 't');
    hp_buf_put_u16be(&s->out, st->nparams);
    for (unsigned i = 0; i < st->nparams; i++)
        hp_buf_put_u32be(&s->out, st->oids[i]);
    hp_pg_msg_end(s, at);
    struct hp_buf b;
    hp_buf_init(&b, st->len + 2u * st->nparams + 1);
    ext_subst(&b, st, NULL);
    if (!hp_pg_stmt_describe(s, (const char *)b.data, b.len, st->rows, 0)) {
        s->ext_skip = true;
        hp_pg_txn_failed(s);
    }
    hp_buf_free(&b);
}

static void ext_describe(struct hp_pg_sess *s, struct hp_rd *r)
{
    char name[PG_EXT_NAME];
    uint8_t kind = hp_rd_u8(r);
    if (!ext_cstr(s, r, name, sizeof(name), NULL, NULL))
        return;
    if (!hp_rd_ok(r) || hp_rd_left(r)) {
        ext_bad_body(s, r);
    } else if (kind == 'S') {
        ext_describe_stmt(s, name);
    } else if (kind == 'P') {
        const struct pg_entry *p = ext_portal(s, name, 2669, "exec_describe_portal_message");
        if (p && ext_charge(s, p->len) && !hp_pg_stmt_describe(s, p->text, p->len, p->rows, p->fmt)) {
            s->ext_skip = true;
            hp_pg_txn_failed(s);
        }
    } else {
        char msg[48];
        snprintf(msg, sizeof(msg), "invalid DESCRIBE message subtype %u", kind);
        ext_error(s, "08P01", msg, "postgres.c", 4821, "PostgresMain");
    }
}

static void ext_execute(struct hp_pg_sess *s, struct hp_rd *r)
{
    char name[PG_EXT_NAME], msg[PG_EXT_NAME + 32];
    if (!ext_cstr(s, r, name, sizeof(name), NULL, NULL))
        return;
    uint32_t maxrows = hp_rd_u32be(r);
    if (!hp_rd_ok(r) || hp_rd_left(r)) {
        ext_bad_body(s, r);
        return;
    }
    struct pg_entry *p = ext_portal(s, name, 2071, "exec_execute_message");
    if (!p || !ext_charge(s, p->len))
        return;
    if (p->len == 0) {
        hp_pg_msg_end(s, hp_pg_msg_begin(s, 'I'));   /* EmptyQueryResponse */
    } else if (p->run && p->rows) {                  /* nothing left to fetch */
        size_t at = hp_pg_msg_begin(s, 'C');
        hp_buf_put(&s->out, "SELECT 0", 9);
        hp_pg_msg_end(s, at);
        p->run = 2;
    } else if (p->run) {
        snprintf(msg, sizeof(msg), "portal \"%s\" cannot be run", name);
        ext_error(s, "55000", msg, "portalmem.c", 400, "MarkPortalActive");
    } else {
        int res = hp_pg_stmt_exec(s, p->text, p->len, p->fmt, maxrows);
        if (res < 0)
            s->ext_skip = true;                 /* hp_pg_stmt_exec failed the block */
        p->run = res == 1 ? 1 : 2;
    }
}

static void ext_close(struct hp_pg_sess *s, struct hp_rd *r)
{
    char name[PG_EXT_NAME];
    uint8_t kind = hp_rd_u8(r);
    if (!ext_cstr(s, r, name, sizeof(name), NULL, NULL))
        return;
    if (!hp_rd_ok(r) || hp_rd_left(r)) {
        ext_bad_body(s, r);
        return;
    }
    if (kind != 'S' && kind != 'P') {
        char msg[48];
        snprintf(msg, sizeof(msg), "invalid CLOSE message subtype %u", kind);
        ext_error(s, "08P01", msg, "postgres.c", 4786, "PostgresMain");
        return;
    }
    struct pg_entry *e = ext_find(kind == 'S' ? s->ext->stmt : s->ext->portal, name);
    if (e)                                           /* closing what does not exist is no error */
        ext_drop(s->ext, e);
    hp_pg_msg_end(s, hp_pg_msg_begin(s, '3'));
}

void hp_pg_ext_message(struct hp_pg_sess *s, uint8_t type, struct hp_rd *m)
{
    if (!s->ext)
        s->ext = hp_xcalloc(1, sizeof(*s->ext));
    if (++s->ext->msgs > PG_EXT_MSGS) {             /* no client needs this many; no flood goes on */
        s->closing = true;
        s->close_reason = "too_many_queries";
        return;
    }
    switch (type) {
    case 'P': ext_parse(s, m); break;
    case 'B': ext_bind(s, m); break;
    case 'D': ext_describe(s, m); break;
    case 'E': ext_execute(s, m); break;
    case 'C': ext_close(s, m); break;
    case 'S':
        s->ext_skip = false;
        ext_drop_portals(s->ext);                   /* the implicit transaction ends */
        hp_pg_ready(s);
        break;
    default:                                        /* Flush: everything is sent at once anyway */
        break;
    }
}
