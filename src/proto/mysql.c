/*
 * mysql.c - a MySQL / MariaDB server look-alike that collects credentials
 * and the first statements of whoever logs in.
 *
 * Identity: the server version is drawn once per sensor from real release
 * strings (MySQL 5.7.x and 8.0.x as Debian/Ubuntu/Oracle packages ship
 * them, MariaDB 10.x with its "5.5.5-" handshake prefix) and kept in the
 * identity file as "mysql_version"; the flavour decides the capability
 * flags, the default charset, @@version_comment and the wording of errors.
 * A configured `version` overrides the draw.
 *
 * Handshake: protocol v10, a fresh 20-byte scramble (printable-ish as
 * mysqld's generate_user_salt makes it), a connection id counting up from
 * a random start, CLIENT_SSL never announced (the mariadb client then does
 * not try TLS), mysql_native_password as the announced plugin.
 *
 * Credentials: the HandshakeResponse41 (or 320) gives the user name,
 * database, client attributes and the scramble response.  When the client
 * speaks CLIENT_PLUGIN_AUTH we answer with an AuthSwitchRequest to
 * mysql_clear_password and log the plaintext it sends back; a client that
 * refuses (libmysqlclient without --enable-cleartext-plugin just closes)
 * is logged with its scramble response as a crackable hash,
 * "$mysqlna$<salt hex>*<response hex>" (hashcat mode 11200).  One
 * login.failed / login.success per attempt.
 *
 * Who gets in: per source address (a small table, oldest entry recycled),
 * the accept_after-th attempt succeeds and its user/password is
 * remembered; later attempts from that source succeed only with the same
 * user and password (a native-password scramble is checked against the
 * remembered plaintext), like a real server with one weak account.  This
 * lets brute-forcers "find" a password and go on to their queries.
 *
 * Commands after login: COM_QUERY (mysql_query.c), COM_INIT_DB, COM_PING,
 * COM_QUIT, COM_FIELD_LIST, COM_STATISTICS, COM_CHANGE_USER (a new login
 * attempt), COM_RESET_CONNECTION, COM_PROCESS_KILL; after the login a client
 * that set CLIENT_COMPRESS is read and answered through mysql_zip.c; anything
 * else gets the server's
 * "Unknown command".  Every packet is framed through hp_rd; packets above
 * max_packet get ER_NET_PACKET_TOO_LARGE and the connection is closed, as
 * mysqld does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>
#include "config.h"
#include "conn.h"
#include "event.h"
#include "identity.h"
#include "intel/knowledge.h"
#include "login_gate.h"
#include "mysql.h"
#include "proto.h"
#include "reader.h"
#include "util.h"

enum { S_GREETED, S_SWITCH, S_CMD, S_DONE };

#define MY_HDR 4

/* ---- identity --------------------------------------------------------------------- */

static const char *const my_versions[] = {
    "5.7.42-0ubuntu0.18.04.1", "5.7.44", "5.7.43-log", "5.7.40-0ubuntu0.18.04.1",
    "8.0.35-0ubuntu0.22.04.1", "8.0.36-0ubuntu0.20.04.1", "8.0.34", "8.0.33", "8.0.36",
    "8.0.37-0ubuntu0.22.04.3", "8.0.39-0ubuntu0.22.04.1",
    "5.5.5-10.11.6-MariaDB-0+deb12u1", "5.5.5-10.5.23-MariaDB-0+deb11u1",
    "5.5.5-10.6.16-MariaDB-0ubuntu0.22.04.1", "5.5.5-10.3.39-MariaDB-0+deb10u2",
    "5.5.5-10.6.18-MariaDB", "5.5.5-10.11.8-MariaDB-0ubuntu0.24.04.1",
};

void hp_my_conf_version(struct hp_my_conf *cf, const char *version)
{
    free(cf->version);
    free(cf->comment);
    cf->version = hp_xstrdup(version);
    const char *comment;
    if (strstr(version, "MariaDB")) {
        cf->flavor = HP_MY_MARIADB;
        if (strstr(version, "deb12"))
            comment = "Debian 12";
        else if (strstr(version, "deb11"))
            comment = "Debian 11";
        else if (strstr(version, "deb10"))
            comment = "Debian 10";
        else if (strstr(version, "ubuntu"))
            comment = "Ubuntu 22.04";
        else
            comment = "MariaDB Server";
    } else {
        cf->flavor = strncmp(version, "8.", 2) == 0 ? HP_MY_80 : HP_MY_57;
        comment = strstr(version, "ubuntu") ? "(Ubuntu)" : "MySQL Community Server - GPL";
        if (strstr(version, "-log") && cf->flavor == HP_MY_57)
            comment = "MySQL Community Server (GPL)";
    }
    cf->comment = hp_xstrdup(comment);
}

void hp_my_identity(struct hp_my_conf *cf)
{
    if (cf->version)
        return;
    const char *v = hp_identity_get("mysql_version");
    if (!v || !*v || strlen(v) > 60) {
        v = my_versions[hp_random_u64() % HP_ARRAY_LEN(my_versions)];
        hp_identity_set("mysql_version", v);
    }
    hp_my_conf_version(cf, v);
}

/* ---- packets ---------------------------------------------------------------------- */

void hp_my_put_lenenc(struct hp_buf *b, uint64_t v)
{
    uint8_t t[9];
    size_t n;
    if (v < 251) {
        t[0] = (uint8_t)v;
        n = 1;
    } else if (v < 0x10000) {
        t[0] = 0xfc;
        n = 3;
    } else if (v < 0x1000000) {
        t[0] = 0xfd;
        n = 4;
    } else {
        t[0] = 0xfe;
        n = 9;
    }
    for (size_t i = 1; i < n; i++)
        t[i] = (uint8_t)(v >> (8 * (i - 1)));
    hp_buf_put(b, t, n);
}

void hp_my_put_lenstr(struct hp_buf *b, const void *p, size_t n)
{
    hp_my_put_lenenc(b, n);
    hp_buf_put(b, p, n);
}

/* One packet with the next sequence id; payloads we build stay far below 16 MiB. */
void hp_my_pkt(struct hp_my_sess *s, const void *p, size_t n)
{
    uint8_t h[4] = { (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), s->seq++ };
    hp_buf_put(&s->out, h, 4);
    hp_buf_put(&s->out, p, n);
}

static void put_u16(struct hp_buf *b, unsigned v)
{
    uint8_t t[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    hp_buf_put(b, t, 2);
}

static void put_u32(struct hp_buf *b, uint32_t v)
{
    uint8_t t[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    hp_buf_put(b, t, 4);
}

#define MY_STATUS_AUTOCOMMIT 0x0002u
#define MY_STATUS_MORE_RESULTS 0x0008u

#define MY_STATUS_NO_INDEX_USED 0x0020u

static unsigned my_status(const struct hp_my_sess *s)
{
    return MY_STATUS_AUTOCOMMIT | (s->more ? MY_STATUS_MORE_RESULTS : 0) |
           (s->no_index ? MY_STATUS_NO_INDEX_USED : 0);
}

void hp_my_ok(struct hp_my_sess *s, uint64_t affected, const char *info)
{
    struct hp_buf b;
    hp_buf_init(&b, 1024);
    hp_buf_putc(&b, 0x00);
    hp_my_put_lenenc(&b, affected);
    hp_my_put_lenenc(&b, 0);
    put_u16(&b, my_status(s));
    put_u16(&b, 0);
    if (info && *info) {
        if (s->client_caps & s->server_caps & MY_CLIENT_SESSION_TRACK)
            hp_my_put_lenstr(&b, info, strlen(info));
        else
            hp_buf_puts(&b, info);
    }
    hp_my_pkt(s, b.data, b.len);
    hp_buf_free(&b);
}

void hp_my_err(struct hp_my_sess *s, unsigned code, const char *state, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->failed = true;
    struct hp_buf b;
    hp_buf_init(&b, 1024);
    hp_buf_putc(&b, 0xff);
    put_u16(&b, code);
    if (s->client_caps & MY_CLIENT_PROTOCOL_41) {
        hp_buf_putc(&b, '#');
        hp_buf_put(&b, state, 5);
    }
    hp_buf_puts(&b, msg);
    hp_my_pkt(s, b.data, b.len);
    hp_buf_free(&b);
}

void hp_my_eof(struct hp_my_sess *s)
{
    uint8_t p[5] = { 0xfe, 0, 0, (uint8_t)my_status(s), 0 };
    hp_my_pkt(s, p, sizeof(p));
}

/* Bytes per character of a collation id: the utf8mb4 and utf8mb3 ones, else one. */
unsigned hp_my_mbmaxlen(uint8_t cs)
{
    if (cs == 45 || cs == 46 || (cs >= 224 && cs <= 247) || cs == 255)
        return 4;
    if (cs == 33 || cs == 83 || (cs >= 192 && cs <= 215))
        return 3;
    return 1;
}

/* One column definition's fixed part: charset, length, type, flags, decimals.
 * MariaDB 10.11.19 (select @@version, version(), user(), 'abc', 123, now(),
 * @@port ...): text in the connection's charset, width x mbmaxlen, nullable
 * unless a literal or version(), decimals 39; numbers and dates "binary",
 * decimals 0.  MySQL flavours: utf8 / utf8mb4 text at least 64 wide, NOT_NULL. */
static void my_col_fixed(const struct hp_my_sess *s, struct hp_buf *b, const struct hp_my_col *col, size_t w)
{
    if (s->cf->flavor != HP_MY_MARIADB) {
        unsigned cs = s->cf->flavor == HP_MY_80 ? 0xff : 0x21;
        put_u16(b, cs);
        put_u32(b, (uint32_t)((w < 64 ? 64 : w) * (cs == 0xff ? 4 : 3)));
        hp_buf_putc(b, MY_TYPE_VAR_STRING);
        put_u16(b, MY_FLAG_NOT_NULL);
        hp_buf_putc(b, 0x1f);
        return;
    }
    static const struct hp_my_col plain;
    if (!col)
        col = &plain;
    uint8_t type = col->type ? col->type : MY_TYPE_VAR_STRING;
    bool binary = (col->flags & MY_FLAG_BINARY) != 0;
    uint8_t cs = binary ? 63 : s->client_charset ? s->client_charset : 45;
    uint64_t len = (uint64_t)(col->chars ? col->chars : w) * (binary ? 1 : hp_my_mbmaxlen(cs));
    bool text = (type == MY_TYPE_VAR_STRING || type == MY_TYPE_LONG_BLOB) && !col->table;
    put_u16(b, cs);
    put_u32(b, len > 0xffffffffu ? 0xffffffffu : (uint32_t)len);
    hp_buf_putc(b, type);
    put_u16(b, col->flags);
    hp_buf_putc(b, text ? 39 : 0);
}

void hp_my_resultset(struct hp_my_sess *s, size_t ncols, const char *const *names,
                     size_t nrows, const char *const *cells)
{
    hp_my_resultset_cols(s, ncols, names, NULL, nrows, cells);
}

/* Column definitions, rows and the end of a text result set; with
 * CLIENT_DEPRECATE_EOF the EOF after the columns goes and the end is an OK
 * packet with an 0xfe header. */
void hp_my_resultset_cols(struct hp_my_sess *s, size_t ncols, const char *const *names,
                          const struct hp_my_col *cols, size_t nrows, const char *const *cells)
{
    bool deprecate_eof = (s->client_caps & s->server_caps & MY_CLIENT_DEPRECATE_EOF) != 0;
    uint32_t ext = s->client_ext & s->server_ext;
    struct hp_buf b;
    hp_buf_init(&b, 1 << 20);
    hp_my_put_lenenc(&b, ncols);
    if (ext & MY_MARIADB_CACHE_METADATA)
        hp_buf_putc(&b, 0x01);          /* "metadata follows" */
    hp_my_pkt(s, b.data, b.len);
    for (size_t c = 0; c < ncols; c++) {
        size_t w = 0;
        for (size_t r = 0; r < nrows; r++)
            if (cells[r * ncols + c] && strlen(cells[r * ncols + c]) > w)
                w = strlen(cells[r * ncols + c]);
        hp_buf_reset(&b);
        const struct hp_my_col *col = cols && s->cf->flavor == HP_MY_MARIADB ? &cols[c] : NULL;
        const char *schema = col && col->table ? "information_schema" : "";
        const char *table = col && col->table ? col->table : "";
        const char *org = col && col->org_name ? col->org_name : "";
        hp_my_put_lenstr(&b, "def", 3);
        hp_my_put_lenstr(&b, schema, strlen(schema));
        hp_my_put_lenstr(&b, table, strlen(table));
        hp_my_put_lenstr(&b, table, strlen(table));
        hp_my_put_lenstr(&b, names[c], strlen(names[c]));
        hp_my_put_lenstr(&b, org, strlen(org));
        if (ext & MY_MARIADB_EXTENDED_METADATA)
            hp_my_put_lenstr(&b, "", 0);        /* no type/format information */
        hp_buf_putc(&b, 0x0c);
        my_col_fixed(s, &b, col, w);
        put_u16(&b, 0);
        hp_my_pkt(s, b.data, b.len);
    }
    if (!deprecate_eof)
        hp_my_eof(s);
    if (s->no_index_cols_only)
        s->no_index = false;
    for (size_t r = 0; r < nrows; r++) {
        hp_buf_reset(&b);
        for (size_t c = 0; c < ncols; c++) {
            const char *v = cells[r * ncols + c];
            if (v)
                hp_my_put_lenstr(&b, v, strlen(v));
            else
                hp_buf_putc(&b, 0xfb);
        }
        hp_my_pkt(s, b.data, b.len);
    }
    if (deprecate_eof) {
        uint8_t p[7] = { 0xfe, 0, 0, (uint8_t)my_status(s), 0, 0, 0 };
        hp_my_pkt(s, p, sizeof(p));
    } else {
        hp_my_eof(s);
    }
    s->no_index = false;
    hp_buf_free(&b);
}

/* ---- greeting ----------------------------------------------------------------------- */

static uint32_t my_next_conn_id;

/* Capabilities each flavour announces, CLIENT_SSL left out (no TLS here) and
 * CLIENT_QUERY_ATTRIBUTES / MFA too (they change COM_QUERY's layout). */
static uint32_t my_server_caps(enum hp_my_flavor f)
{
    switch (f) {
    case HP_MY_57:
        return 0x81fff7ffu;
    case HP_MY_80:
        return 0xc7fff7ffu;
    default:
        return 0x81bff7feu;     /* MariaDB: CLIENT_MYSQL bit clear, extended caps follow */
    }
}

/* MariaDB's major * 100 + minor from "5.5.5-10.11.19-MariaDB...", 0 if unreadable. */
static unsigned my_maria_release(const char *v)
{
    if (strncmp(v, "5.5.5-", 6) == 0)
        v += 6;
    char *end;
    unsigned long major = strtoul(v, &end, 10);
    if (end == v || *end != '.' || major > 99)
        return 0;
    unsigned long minor = strtoul(end + 1, NULL, 10);
    return (unsigned)(major * 100 + (minor < 100 ? minor : 99));
}

/* From 10.6 MariaDB adds CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS and announces
 * PROGRESS, STMT_BULK_OPERATIONS, EXTENDED_METADATA and CACHE_METADATA
 * (0x1d; COM_MULTI is gone): the greeting of 10.11.19 (Debian 12).  Older
 * releases keep the flags they had (not observed here). */
static void my_maria_caps(const struct hp_my_conf *cf, uint32_t *caps, uint32_t *ext)
{
    if (my_maria_release(cf->version) >= 1006) {
        *caps |= 0x00400000u;
        *ext = 0x1du;
    } else {
        *ext = 0x07u;                   /* PROGRESS, COM_MULTI, STMT_BULK_OPERATIONS */
    }
}

static uint8_t my_server_charset(enum hp_my_flavor f)
{
    return f == HP_MY_80 ? 0xff : f == HP_MY_MARIADB ? 0x2d : 0x08;
}

void hp_my_sess_init(struct hp_my_sess *s, const struct hp_my_conf *cf, const struct hp_evctx *ctx)
{
    memset(s, 0, sizeof(*s));
    s->cf = cf;
    s->ctx = ctx;
    hp_buf_init(&s->out, 8u << 20);
    hp_buf_init(&s->last_blob, cf->max_packet);
    hp_buf_init(&s->zin, 2 * cf->max_packet + 2 * MY_HDR);   /* a partial packet and one body's worth */
    s->znet = 16384;
    for (size_t i = 0; i < HP_MY_VARS_MAX; i++)
        hp_buf_init(&s->vars[i].val, cf->max_packet);
    if (my_next_conn_id == 0)
        my_next_conn_id = 8 + (uint32_t)(hp_random_u64() % 4000);
    s->conn_id = my_next_conn_id++;
    if (my_next_conn_id > 0xfffff0)
        my_next_conn_id = 8;
    s->server_caps = my_server_caps(cf->flavor);
    if (cf->flavor == HP_MY_MARIADB)
        my_maria_caps(cf, &s->server_caps, &s->server_ext);
    s->client_caps = MY_CLIENT_PROTOCOL_41;     /* errors carry a SQL state until the client says otherwise */
    hp_random_bytes(s->scramble, sizeof(s->scramble));
    for (size_t i = 0; i < sizeof(s->scramble); i++) {      /* as generate_user_salt does */
        s->scramble[i] &= 0x7f;
        if (s->scramble[i] == '\0' || s->scramble[i] == '$')
            s->scramble[i]++;
    }
}

void hp_my_sess_free(struct hp_my_sess *s)
{
    hp_buf_free(&s->out);
    hp_buf_free(&s->last_blob);
    hp_buf_free(&s->zin);
    hp_my_stmt_free(s);
    for (size_t i = 0; i < HP_MY_VARS_MAX; i++)
        hp_buf_free(&s->vars[i].val);
}

void hp_my_greet(struct hp_my_sess *s)
{
    struct hp_buf b;
    hp_buf_init(&b, 512);
    hp_buf_putc(&b, 10);
    hp_buf_put(&b, s->cf->version, strlen(s->cf->version) + 1);
    put_u32(&b, s->conn_id);
    hp_buf_put(&b, s->scramble, 8);
    hp_buf_putc(&b, 0);
    put_u16(&b, s->server_caps & 0xffff);
    hp_buf_putc(&b, my_server_charset(s->cf->flavor));
    put_u16(&b, MY_STATUS_AUTOCOMMIT);
    put_u16(&b, s->server_caps >> 16);
    hp_buf_putc(&b, 21);
    static const uint8_t zero[10];
    if (s->cf->flavor == HP_MY_MARIADB) {
        hp_buf_put(&b, zero, 6);
        put_u32(&b, s->server_ext);
    } else {
        hp_buf_put(&b, zero, 10);
    }
    hp_buf_put(&b, s->scramble + 8, 12);
    hp_buf_putc(&b, 0);
    hp_buf_put(&b, "mysql_native_password", sizeof("mysql_native_password"));
    s->seq = 0;
    hp_my_pkt(s, b.data, b.len);
    hp_buf_free(&b);
    s->state = S_GREETED;
}

/* ---- who gets in (login_gate.h: per source, the Nth attempt, then only that pair) ---- */

_Static_assert(HP_MY_NAME_MAX <= HP_LOGIN_USER_MAX && HP_MY_NAME_MAX <= HP_LOGIN_PASS_MAX,
               "the gate keeps whole user names and passwords");

static struct hp_login_gate my_gate;

void hp_my_sources_reset(void)
{
    hp_login_gate_reset(&my_gate);
}

/* mysql_native_password: SHA1(pw) XOR SHA1(scramble . SHA1(SHA1(pw))). */
static bool my_native_matches(const uint8_t scramble[20], const char *pw, size_t plen,
                              const uint8_t *resp, size_t rlen)
{
    if (rlen != 20)
        return false;
    uint8_t h1[20], h2[20], h3[20], cat[40];
    SHA1((const uint8_t *)pw, plen, h1);
    SHA1(h1, 20, h2);
    memcpy(cat, scramble, 20);
    memcpy(cat + 20, h2, 20);
    SHA1(cat, 40, h3);
    for (size_t i = 0; i < 20; i++)
        if ((uint8_t)(h1[i] ^ h3[i]) != resp[i])
            return false;
    return true;
}

/* A source once in is let in again with the same user and a password that
 * matches the remembered one: compared in clear, or through the scramble
 * for a native-password client.  A password not known in clear (or longer
 * than a name) was not remembered: then the user alone decides. */
static bool my_decide(struct hp_my_sess *s, const char *pass, size_t plen, bool pass_known)
{
    const struct hp_login_src *e;
    const char *keep = pass_known && plen <= HP_MY_NAME_MAX ? pass : NULL;
    enum hp_login_verdict v = hp_login_gate_try(&my_gate, s->ctx->src_ip, s->cf->accept_after, s->user, keep,
                                                plen, &e);
    if (v != HP_LOGIN_KNOWN)
        return v == HP_LOGIN_ACCEPT;
    if (strcmp(e->user, s->user) != 0)
        return false;
    if (pass_known && e->pass_known)
        return plen == e->plen && memcmp(pass, e->pass, plen) == 0;
    if (e->pass_known)
        return my_native_matches(s->scramble, (const char *)e->pass, e->plen, s->resp, s->resp_len);
    return true;
}

/* ---- the client's handshake response ------------------------------------------------- */

/* A NUL-terminated string of at most max bytes kept (longer: cut, still consumed). */
static bool rd_cstr(struct hp_rd *r, char *out, size_t outlen)
{
    long z = hp_rd_find(r, "", 1);
    if (z < 0) {                        /* unterminated at the end of the packet: take the rest */
        z = (long)hp_rd_left(r);
        if (!hp_rd_ok(r))
            return false;
    }
    const uint8_t *p = hp_rd_bytes(r, (size_t)z);
    if (!p)
        return false;
    hp_rd_skip(r, hp_rd_left(r) ? 1 : 0);
    size_t n = (size_t)z < outlen - 1 ? (size_t)z : outlen - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    for (size_t i = 0; i < n; i++)      /* names are logged as text */
        if (out[i] == '\0')
            out[i] = '?';
    return true;
}

static uint64_t rd_lenenc(struct hp_rd *r)
{
    uint8_t t = hp_rd_u8(r);
    if (t < 0xfb)
        return t;
    if (t == 0xfc)
        return hp_rd_u16le(r);
    if (t == 0xfd) {
        uint32_t v = hp_rd_u16le(r);
        return v | ((uint32_t)hp_rd_u8(r) << 16);
    }
    if (t == 0xfe)
        return hp_rd_u64le(r);
    hp_rd_bytes(r, hp_rd_left(r) + 1);  /* 0xfb / 0xff: not a length; set the error */
    return 0;
}

static void my_keep_resp(struct hp_my_sess *s, const uint8_t *p, size_t n)
{
    s->resp_len = n < sizeof(s->resp) ? n : sizeof(s->resp);
    if (p && s->resp_len)
        memcpy(s->resp, p, s->resp_len);
}

/* Attributes: lenenc total, then lenenc key / value pairs; kept raw (bounded)
 * and parsed again when an event is written. */
static void my_keep_attrs(struct hp_my_sess *s, struct hp_rd *r)
{
    uint64_t total = rd_lenenc(r);
    struct hp_rd sub;
    if (!hp_rd_ok(r) || total > hp_rd_left(r) || !hp_rd_sub(r, (size_t)total, &sub))
        return;
    size_t n = hp_rd_left(&sub) < HP_MY_ATTRS_MAX ? hp_rd_left(&sub) : HP_MY_ATTRS_MAX;
    memcpy(s->attrs, hp_rd_ptr(&sub), n);
    s->attrs_len = n;
    struct hp_rd a;
    hp_rd_init(&a, s->attrs, s->attrs_len);
    for (int i = 0; i < 64 && hp_rd_left(&a); i++) {
        uint64_t kl = rd_lenenc(&a);
        const uint8_t *k = hp_rd_bytes(&a, kl <= hp_rd_left(&a) ? (size_t)kl : SIZE_MAX);
        uint64_t vl = rd_lenenc(&a);
        const uint8_t *v = hp_rd_bytes(&a, vl <= hp_rd_left(&a) ? (size_t)vl : SIZE_MAX);
        if (!k || !v)
            break;
        bool prog = kl == 12 && memcmp(k, "program_name", 12) == 0;
        bool name = kl == 12 && memcmp(k, "_client_name", 12) == 0;
        if ((prog || (name && !s->client_app[0])) && vl < sizeof(s->client_app)) {
            memcpy(s->client_app, v, (size_t)vl);
            s->client_app[vl] = '\0';
        }
    }
}

/* HandshakeResponse41 / 320 (and COM_CHANGE_USER when change is true).
 * 0: parsed; 1: an SSLRequest; -1: malformed. */
static int my_parse_response(struct hp_my_sess *s, struct hp_rd *r, bool change)
{
    s->db[0] = s->plugin[0] = '\0';
    s->resp_len = 0;
    if (!change) {
        if (hp_rd_left(r) < 4)
            return -1;
        uint32_t caps = hp_rd_u16le(r);
        s->client_caps = caps;          /* mysqld's errors follow these bits even when the rest is bad */
        if (caps & MY_CLIENT_PROTOCOL_41) {
            caps = (uint32_t)caps | ((uint32_t)hp_rd_u16le(r) << 16);
            hp_rd_u32le(r);                 /* max packet */
            s->client_charset = hp_rd_u8(r);
            hp_rd_skip(r, 19);
            uint32_t ext = hp_rd_u32le(r);  /* a MariaDB client's extended caps, when CLIENT_MYSQL is clear */
            if (!hp_rd_ok(r))
                return -1;
            s->client_ext = (caps & MY_CLIENT_MYSQL) ? 0 : ext;
            s->client_caps = caps;
            if (hp_rd_left(r) == 0)
                return (caps & MY_CLIENT_SSL) ? 1 : -1;
        } else {
            hp_rd_skip(r, 3);               /* 320: u16 caps, u24 max packet */
            s->client_caps = caps;
            if (!rd_cstr(r, s->user, sizeof(s->user)))
                return -1;
            s->user_len = strlen(s->user);
            long z = hp_rd_find(r, "", 1);
            size_t n = z < 0 ? hp_rd_left(r) : (size_t)z;
            my_keep_resp(s, hp_rd_bytes(r, n), n);
            hp_rd_skip(r, z < 0 ? 0 : 1);
            if (caps & MY_CLIENT_CONNECT_WITH_DB)
                rd_cstr(r, s->db, sizeof(s->db));
            snprintf(s->plugin, sizeof(s->plugin), "mysql_old_password");
            return hp_rd_ok(r) ? 0 : -1;
        }
    }
    if (!rd_cstr(r, s->user, sizeof(s->user)))
        return -1;
    s->user_len = strlen(s->user);
    uint64_t rl;
    if (!change && (s->client_caps & MY_CLIENT_PLUGIN_AUTH_LENENC))
        rl = rd_lenenc(r);
    else if (s->client_caps & MY_CLIENT_SECURE_CONNECTION)
        rl = hp_rd_u8(r);
    else {
        long z = hp_rd_find(r, "", 1);
        rl = z < 0 ? hp_rd_left(r) : (uint64_t)z;
    }
    if (!hp_rd_ok(r) || rl > hp_rd_left(r))
        return -1;
    my_keep_resp(s, hp_rd_bytes(r, (size_t)rl), (size_t)rl);
    if (!(s->client_caps & (MY_CLIENT_SECURE_CONNECTION | MY_CLIENT_PLUGIN_AUTH_LENENC)))
        hp_rd_skip(r, hp_rd_left(r) ? 1 : 0);
    if ((change || (s->client_caps & MY_CLIENT_CONNECT_WITH_DB)) && hp_rd_left(r))
        rd_cstr(r, s->db, sizeof(s->db));
    if (change && hp_rd_left(r) >= 2)
        s->client_charset = (uint8_t)hp_rd_u16le(r);
    if ((s->client_caps & MY_CLIENT_PLUGIN_AUTH) && hp_rd_left(r))
        rd_cstr(r, s->plugin, sizeof(s->plugin));
    if ((s->client_caps & MY_CLIENT_CONNECT_ATTRS) && hp_rd_left(r))
        my_keep_attrs(s, r);
    return hp_rd_ok(r) ? 0 : -1;
}

/* ---- login ----------------------------------------------------------------------------- */

static void ev_attrs(struct hp_ev *ev, const struct hp_my_sess *s)
{
    if (!s->attrs_len)
        return;
    struct hp_rd a;
    hp_rd_init(&a, s->attrs, s->attrs_len);
    hp_ev_obj_begin(ev, "client_attrs");
    for (int i = 0; i < 64 && hp_rd_left(&a); i++) {
        uint64_t kl = rd_lenenc(&a);
        const uint8_t *k = hp_rd_bytes(&a, kl <= hp_rd_left(&a) ? (size_t)kl : SIZE_MAX);
        uint64_t vl = rd_lenenc(&a);
        const uint8_t *v = hp_rd_bytes(&a, vl <= hp_rd_left(&a) ? (size_t)vl : SIZE_MAX);
        if (!k || !v || kl == 0 || kl > 64)
            break;
        char key[65];
        memcpy(key, k, (size_t)kl);
        key[kl] = '\0';
        for (size_t j = 0; j < kl; j++)
            if (key[j] == '\0')
                key[j] = '?';
        hp_ev_bytes(ev, key, v, (size_t)vl);
    }
    hp_ev_obj_end(ev);
}

static void my_login_event(struct hp_my_sess *s, bool ok, const uint8_t *pass, size_t plen,
                           bool pass_known)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, ok ? "login.success" : "login.failed");
    hp_ev_bytes(&ev, "username", s->user, s->user_len);
    if (pass_known)
        hp_ev_bytes(&ev, "password", pass, plen);
    hp_ev_str(&ev, "method", pass_known ? "mysql_clear_password" : s->plugin[0] ? s->plugin
                                                                             : "mysql_native_password");
    if (s->plugin[0])
        hp_ev_str(&ev, "client_plugin", s->plugin);
    if (!pass_known && s->resp_len) {
        char hex[2 * 64 + 1], salt[41], h[256];
        hp_hex(s->resp, s->resp_len, hex);
        hp_hex(s->scramble, 20, salt);
        bool native = s->resp_len == 20 && (!s->plugin[0] || strcmp(s->plugin, "mysql_native_password") == 0);
        if (native) {
            snprintf(h, sizeof(h), "$mysqlna$%s*%s", salt, hex);
            hp_ev_str(&ev, "hash", h);
            hp_ev_str(&ev, "hash_format", "hashcat:11200");
        } else {
            hp_ev_str(&ev, "hash", hex);
            hp_ev_str(&ev, "salt", salt);
            hp_ev_str(&ev, "hash_format", s->plugin[0] ? s->plugin : "unknown");
        }
    }
    hp_ev_bool(&ev, "password_empty", pass_known ? plen == 0 : s->resp_len == 0);
    if (s->db[0])
        hp_ev_str(&ev, "database", s->db);
    if (s->client_app[0])
        hp_ev_str(&ev, "client_app", s->client_app);
    hp_ev_uint(&ev, "attempt", s->attempts);
    hp_ev_str(&ev, "server_version", s->cf->version);
    ev_attrs(&ev, s);
    if (pass_known)
        hp_knowledge_ev_cred(&ev, s->user, s->user_len, pass, plen);
    hp_ev_emit(&ev);
}

/* "*" + HEX(SHA1(SHA1(pw))), as mysql.user and SHOW GRANTS show it; empty
 * when the password is not known in clear. */
static void my_keep_pw_hash(struct hp_my_sess *s, const uint8_t *pass, size_t plen, bool pass_known)
{
    s->pw_hash[0] = '\0';
    if (!pass_known || plen == 0)
        return;
    uint8_t h1[20], h2[20];
    SHA1(pass, plen, h1);
    SHA1(h1, 20, h2);
    s->pw_hash[0] = '*';
    hp_hex(h2, 20, s->pw_hash + 1);
    for (char *c = s->pw_hash + 1; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
}

/* mysqld cuts a user name at USERNAME_CHAR_LENGTH (128) characters: the
 * bytes of that many UTF-8 characters (the event keeps the whole name). */
static size_t my_user_shown(const struct hp_my_sess *s)
{
    size_t chars = 0, i = 0;
    for (; i < s->user_len; i++)
        if (((uint8_t)s->user[i] & 0xc0) != 0x80 && chars++ == 128)
            break;
    return i;
}

static void my_attempt_done(struct hp_my_sess *s, const uint8_t *pass, size_t plen, bool pass_known)
{
    s->attempt_open = false;
    s->attempts++;
    bool ok = my_decide(s, (const char *)pass, plen, pass_known);
    my_login_event(s, ok, pass, plen, pass_known);
    if (ok) {
        s->logged_in = true;
        my_keep_pw_hash(s, pass, plen, pass_known);
        s->state = S_CMD;
        if (s->db[0] && s->ndbs < HP_MY_DBS_MAX && strlen(s->db) < sizeof(s->dbs[0]))
            snprintf(s->dbs[s->ndbs++], sizeof(s->dbs[0]), "%s", s->db);   /* whatever it asks for exists */
        hp_my_ok(s, 0, NULL);
        if (s->client_caps & s->server_caps & MY_CLIENT_COMPRESS)
            s->compress = true;         /* from the packet after this OK on, as mysqld */
        return;
    }
    bool with_pw = pass_known ? plen > 0 : s->resp_len > 0;
    hp_my_err(s, 1045, "28000", "Access denied for user '%.*s'@'%s' (using password: %s)",
              (int)my_user_shown(s), s->user, s->ctx->src_ip, with_pw ? "YES" : "NO");
    s->state = S_DONE;
    s->closing = true;
    s->close_reason = "auth_failed";
}

/* A client without CLIENT_SECURE_CONNECTION (a 3.20 / 4.0 response) cannot
 * do mysql_native_password: MariaDB 10.11.19 answers ER_NOT_SUPPORTED_AUTH_MODE
 * (SQL state only with PROTOCOL_41) and closes.  The attempt is logged with
 * its old-style scramble all the same. */
static void my_refuse_old_client(struct hp_my_sess *s)
{
    s->attempts++;
    my_login_event(s, false, NULL, 0, false);
    hp_my_err(s, 1251, "08004", "Client does not support authentication protocol requested by server; "
              "consider upgrading MariaDB client");
    s->state = S_DONE;
    s->closing = true;
    s->close_reason = "auth_failed";
}

/* After a response with a scramble: switch to the clear-text plugin when the
 * client can follow, else decide on what we have. */
static void my_after_response(struct hp_my_sess *s)
{
    if (strcmp(s->plugin, "mysql_clear_password") == 0) {
        size_t n = s->resp_len;
        if (n && s->resp[n - 1] == '\0')
            n--;
        my_attempt_done(s, s->resp, n, true);
        return;
    }
    if (s->cf->clear_password && (s->client_caps & MY_CLIENT_PLUGIN_AUTH)) {
        static const char sw[] = "\xfemysql_clear_password";
        hp_my_pkt(s, sw, sizeof(sw));   /* with its NUL */
        s->attempt_open = true;
        s->state = S_SWITCH;
        return;
    }
    my_attempt_done(s, NULL, 0, false);
}

void hp_my_gone(struct hp_my_sess *s)
{
    if (s->attempt_open)
        my_attempt_done(s, NULL, 0, false);
    s->state = S_DONE;
}

/* ---- commands ---------------------------------------------------------------------------- */

void hp_my_command_event(struct hp_my_sess *s, const char *verb, const void *text, size_t n)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "command.input");
    hp_ev_bytes(&ev, "input", text, n < 65536 ? n : 65536);
    if (n > 65536) {
        hp_ev_uint(&ev, "input_length", n);
        hp_ev_bool(&ev, "input_truncated", true);
    }
    hp_ev_str(&ev, "command", verb);
    if (s->db[0])
        hp_ev_str(&ev, "database", s->db);
    hp_ev_bytes(&ev, "username", s->user, s->user_len);
    hp_ev_emit(&ev);
}

static void my_init_db(struct hp_my_sess *s, const uint8_t *p, size_t n)
{
    char name[HP_MY_NAME_MAX + 1];
    size_t k = n < HP_MY_NAME_MAX ? n : HP_MY_NAME_MAX;
    memcpy(name, p, k);
    name[k] = '\0';
    hp_my_command_event(s, "COM_INIT_DB", p, n);
    char q[HP_MY_NAME_MAX + 8];
    snprintf(q, sizeof(q), "USE `%s`", name);
    hp_my_query(s, (const uint8_t *)q, strlen(q));
}

static void my_statistics(struct hp_my_sess *s)
{
    char t[256];
    uint64_t up = 86400 * 12 + hp_random_u64() % 86400, q = up / 7 + s->queries;
    /* MariaDB 10.11.19's line has no "Flush tables"; the average is Questions / Uptime in both. */
    snprintf(t, sizeof(t), "Uptime: %llu  Threads: 2  Questions: %llu  Slow queries: 0  Opens: 143  "
             "%sOpen tables: 62  Queries per second avg: %.3f",
             (unsigned long long)up, (unsigned long long)q,
             s->cf->flavor == HP_MY_MARIADB ? "" : "Flush tables: 3  ", (double)q / (double)up);
    hp_my_pkt(s, t, strlen(t));
}

/* mysqld reads the id with uint4korr whatever the length: a short payload
 * reads on into its buffer (10.11.19: "\x0c" alone kills 16777216, "\x0c\x05\0"
 * 16777221: the bytes past the end read 0, 0, 0, 1). */
static void my_process_kill(struct hp_my_sess *s, const uint8_t *p, size_t n)
{
    static const uint8_t past[4] = { 0, 0, 0, 1 };
    uint32_t id = 0;
    for (size_t i = 0; i < 4; i++)
        id |= (uint32_t)(i < n ? p[i] : past[i]) << (8 * i);
    hp_my_kill(s, id, false);
}

static void my_change_user(struct hp_my_sess *s, struct hp_rd *r)
{
    if (s->attempts >= s->cf->max_auth || my_parse_response(s, r, true) < 0) {
        hp_my_err(s, 1043, "08S01", "Bad handshake");
        s->closing = true;
        s->close_reason = "bad_handshake";
        s->state = S_DONE;
        return;
    }
    s->logged_in = false;
    hp_my_stmt_free(s);                 /* a new user starts without prepared statements */
    my_after_response(s);
}

static void my_command(struct hp_my_sess *s, struct hp_rd *r)
{
    uint8_t cmd = hp_rd_u8(r);
    const uint8_t *p = hp_rd_ptr(r);
    size_t n = hp_rd_left(r);
    switch (cmd) {
    case 0x01:                          /* COM_QUIT */
        s->closing = true;
        s->close_reason = "quit";
        s->state = S_DONE;
        return;
    case 0x02:
        my_init_db(s, p, n);
        return;
    case 0x03:
        s->queries++;
        hp_my_command_event(s, "COM_QUERY", p, n);
        hp_my_query(s, p, n);
        return;
    case 0x04:                          /* COM_FIELD_LIST: no columns */
        hp_my_eof(s);
        return;
    case 0x09:
        my_statistics(s);
        return;
    case 0x0a:                          /* COM_PROCESS_INFO: SHOW PROCESSLIST's answer */
        hp_my_processlist(s, "Processlist", NULL, 0);
        return;
    case 0x0c:                          /* COM_PROCESS_KILL: a 4-byte id */
        hp_my_command_event(s, "COM_PROCESS_KILL", p, n);
        my_process_kill(s, p, n);
        return;
    case 0x1f:                          /* COM_RESET_CONNECTION: prepared statements go too */
        hp_my_stmt_free(s);
        hp_my_ok(s, 0, NULL);
        return;
    case 0x0e:                          /* COM_PING */
        hp_my_ok(s, 0, NULL);
        return;
    case 0x11:
        my_change_user(s, r);
        return;
    case 0x16: case 0x17: case 0x18:    /* COM_STMT_PREPARE, _EXECUTE, _SEND_LONG_DATA */
    case 0x19: case 0x1a: case 0x1c:    /* COM_STMT_CLOSE, _RESET, _FETCH */
        hp_my_stmt_command(s, cmd, p, n);
        return;
    case 0x1b:                          /* COM_SET_OPTION */
        hp_my_eof(s);
        return;
    default:
        hp_my_err(s, 1047, "08S01", "Unknown command");
        return;
    }
}

/* One whole packet (payload in r) with its sequence id. */
static void my_packet(struct hp_my_sess *s, struct hp_rd *r, uint8_t seq)
{
    s->seq = (uint8_t)(seq + 1);
    switch (s->state) {
    case S_GREETED: {
        int rc = my_parse_response(s, r, false);
        if (rc != 0) {
            hp_my_err(s, 1043, "08S01", "Bad handshake");
            s->closing = true;
            s->close_reason = rc > 0 ? "ssl_request" : "bad_handshake";
            s->state = S_DONE;
            return;
        }
        if (s->cf->flavor == HP_MY_MARIADB && !(s->client_caps & MY_CLIENT_SECURE_CONNECTION)) {
            my_refuse_old_client(s);
            return;
        }
        my_after_response(s);
        return;
    }
    case S_SWITCH: {
        size_t n = hp_rd_left(r);
        const uint8_t *p = hp_rd_bytes(r, n);
        if (n && p[n - 1] == '\0')
            n--;
        my_attempt_done(s, p, n, true);
        return;
    }
    case S_CMD:
        my_command(s, r);
        return;
    default:
        return;
    }
}

/* mysqld reads the header first and wants the sequence id it expects next
 * (1 for the handshake response, the switch's + 1, 0 for a command); any
 * other gets ER_NET_PACKETS_OUT_OF_ORDER with that id and the connection
 * closes.  HTTP, a COM_* before the login, a second handshake response
 * after it all land here on MariaDB 10.11.19, not on "Bad handshake". */
static bool my_seq_ok(struct hp_my_sess *s, uint8_t seq)
{
    uint8_t want = s->state == S_CMD ? 0 : s->seq;
    if (seq == want)
        return true;
    if (s->attempt_open) {              /* the switch answered out of order: logged with what is known */
        size_t keep = s->out.len;
        hp_my_gone(s);
        s->out.len = keep;              /* ... but its verdict is not what mysqld says */
    }
    s->seq = want;
    hp_my_err(s, 1156, "08S01", "Got packets out of order");
    s->closing = true;
    s->close_reason = "out_of_order";
    s->state = S_DONE;
    return false;
}

static void my_too_large(struct hp_my_sess *s, uint8_t seq)
{
    s->seq = (uint8_t)(seq + 1);
    hp_my_err(s, 1153, "08S01", "Got a packet bigger than 'max_allowed_packet' bytes");
    s->closing = true;
    s->close_reason = "packet_too_large";
    s->state = S_DONE;
}

size_t hp_my_input(struct hp_my_sess *s, const uint8_t *p, size_t n)
{
    if (s->compress)
        return hp_my_zip_input(s, p, n);
    struct hp_rd in;
    hp_rd_init(&in, p, n);
    while (!s->closing && s->state != S_DONE && hp_rd_left(&in) >= MY_HDR) {
        const uint8_t *h = hp_rd_ptr(&in);
        size_t len = (size_t)h[0] | ((size_t)h[1] << 8) | ((size_t)h[2] << 16);
        if (!my_seq_ok(s, h[3]))
            return n;
        if (len > s->cf->max_packet || len == 0xffffff) {
            my_too_large(s, h[3]);
            return n;
        }
        if (hp_rd_left(&in) < MY_HDR + len)
            break;
        hp_rd_skip(&in, MY_HDR);
        struct hp_rd pkt;
        hp_rd_sub(&in, len, &pkt);
        my_packet(s, &pkt, h[3]);
        if (s->compress && !s->closing) {   /* the login's OK went: what follows is compressed */
            size_t used = hp_rd_pos(&in);
            return used + hp_my_zip_input(s, p + used, n - used);
        }
    }
    if (s->closing || s->state == S_DONE)
        return n;                       /* what follows a final answer is dropped */
    return hp_rd_pos(&in);
}

/* Inside compressed packets mysqld does not look at the plain packets'
 * sequence ids (10.11.19: a ping with id 3 is answered with id 1); the
 * answer counts on from the compressed id. */
size_t hp_my_plain(struct hp_my_sess *s, const uint8_t *p, size_t n, uint8_t zseq)
{
    struct hp_rd in;
    hp_rd_init(&in, p, n);
    if (s->closing || s->state == S_DONE || n < MY_HDR)
        return 0;
    size_t len = (size_t)p[0] | ((size_t)p[1] << 8) | ((size_t)p[2] << 16);
    if (len > s->cf->max_packet || len == 0xffffff) {
        my_too_large(s, zseq);
        return n;
    }
    if (n < MY_HDR + len)
        return 0;
    hp_rd_skip(&in, MY_HDR);
    struct hp_rd pkt;
    hp_rd_sub(&in, len, &pkt);
    my_packet(s, &pkt, zseq);
    return MY_HDR + len;
}

/* ---- the module ----------------------------------------------------------------------------- */

#define MY_CONNECT_TIMEOUT_MS 10000     /* mysqld's connect_timeout */

static int my_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct hp_my_conf *cf = hp_xcalloc(1, sizeof(*cf));
    cf->clear_password = true;
    cf->accept_after = 3;
    cf->max_packet = 4u << 20;
    cf->max_auth = 8;
    svc->proto_conf = cf;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        int bad = 0, b = 0;
        if (strcmp(kv->key, "version") == 0) {
            bad = !*kv->value || strlen(kv->value) > 60 || strchr(kv->value, ' ') != NULL;
            if (!bad)
                hp_my_conf_version(cf, kv->value);
        } else if (strcmp(kv->key, "clear_password") == 0) {
            bad = hp_parse_bool(kv->value, &b);
            cf->clear_password = !bad && b;
        } else if (strcmp(kv->key, "accept_after") == 0) {
            bad = hp_parse_u64(kv->value, 0, 1000, &cf->accept_after);
        } else if (strcmp(kv->key, "max_packet") == 0) {
            bad = hp_parse_size(kv->value, &cf->max_packet) || cf->max_packet < 1024 ||
                  cf->max_packet > (16u << 20) - 2;
        } else if (strcmp(kv->key, "max_auth") == 0) {
            bad = hp_parse_u64(kv->value, 1, 64, &cf->max_auth);
        } else if (strcmp(kv->key, "hostname") == 0) {
            free(cf->hostname);
            cf->hostname = hp_xstrdup(kv->value);
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol mysql)", kv->line,
                     kv->key, svc->name);
            return -1;
        }
        if (bad) {
            snprintf(err, errlen, "%d: [service %s]: bad value for %s: '%s'", kv->line, svc->name,
                     kv->key, kv->value);
            return -1;
        }
    }
    return 0;
}

static void my_unconfigure(struct hp_service_cfg *svc)
{
    struct hp_my_conf *cf = svc->proto_conf;
    if (cf) {
        free(cf->version);
        free(cf->comment);
        free(cf->hostname);
        free(cf->data_dir);
    }
    free(cf);
    svc->proto_conf = NULL;
}

static int my_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct hp_my_conf *cf = svc->proto_conf;
    (void)err;
    (void)errlen;
    hp_my_identity(cf);
    free(cf->data_dir);
    cf->data_dir = cfg->data_dir ? hp_xstrdup(cfg->data_dir) : NULL;
    return 0;
}

static void my_flush(struct hp_conn *c)
{
    struct hp_my_sess *s = c->pstate;
    if (s->out.len) {
        hp_conn_send(c, s->out.data, s->out.len);
        hp_buf_reset(&s->out);
    }
    if (s->closing)
        hp_conn_close(c, s->close_reason ? s->close_reason : "closed");
    else if (s->state == S_CMD)
        hp_conn_set_timer(c, 0);
}

static void my_accept(struct hp_conn *c)
{
    struct hp_my_sess *s = c->pstate;
    hp_my_sess_init(s, hp_conn_service_cfg(c)->proto_conf, &c->ctx);
    hp_my_greet(s);
    hp_conn_set_timer(c, MY_CONNECT_TIMEOUT_MS);
    my_flush(c);
}

static void my_data(struct hp_conn *c, struct hp_rd *in)
{
    struct hp_my_sess *s = c->pstate;
    size_t used = hp_my_input(s, hp_rd_ptr(in), hp_rd_left(in));
    hp_rd_skip(in, used);
    my_flush(c);
}

static void my_timer(struct hp_conn *c)
{
    struct hp_my_sess *s = c->pstate;
    if (s->state == S_CMD)
        return;
    hp_my_gone(s);
    hp_buf_reset(&s->out);              /* mysqld just drops a client that is too slow */
    hp_conn_close(c, "timeout");
}

static void my_eof(struct hp_conn *c)
{
    struct hp_my_sess *s = c->pstate;
    hp_my_gone(s);
    hp_buf_reset(&s->out);
    hp_conn_close(c, "eof");
}

static void my_close(struct hp_conn *c)
{
    struct hp_my_sess *s = c->pstate;
    if (!s->cf)
        return;                         /* never accepted (handed over) */
    hp_my_gone(s);
    hp_my_sess_free(s);
}

const struct hp_proto hp_proto_mysql = {
    .name = "mysql",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "3306",
    .conn_state_size = sizeof(struct hp_my_sess),
    .default_max_input = 64u << 20,
    .configure = my_configure,
    .unconfigure = my_unconfigure,
    .start = my_start,
    .on_accept = my_accept,
    .on_data = my_data,
    .on_eof = my_eof,
    .on_timer = my_timer,
    .on_close = my_close,
};
