/*
 * pgsql.c - a PostgreSQL server look-alike that collects credentials.
 *
 * Startup: SSLRequest and GSSENCRequest are refused with 'N' (as a server
 * without ssl does), CancelRequest closes, a StartupMessage 3.0 gives the
 * user, database, application_name and the other parameters; a protocol
 * the server does not speak gets the real FATAL 0A000 "unsupported
 * frontend protocol" with postmaster.c's file/line/routine fields, a
 * newer 3.x minor a NegotiateProtocolVersion.  nmap -sV identifies
 * PostgreSQL by exactly that error (its SMB probe reads as protocol
 * 65363.19778), and the line number names the release: the per-sensor
 * version is drawn from releases whose line nmap knows, and kept in the
 * identity file as "postgresql_version".
 *
 * Authentication: AuthenticationCleartextPassword (default) or, with
 * `auth = md5`, AuthenticationMD5Password with a random salt.  The
 * PasswordMessage becomes one login event: the plaintext, or for MD5 the
 * response as "$postgres$<user>*<salt hex>*<md5 hex>" (hashcat mode 11100).
 * A failure is answered with the server's FATAL 28P01 "password
 * authentication failed for user" (auth.c, auth_failed) and the connection
 * closed.  The accept_after-th attempt of a source succeeds (then only the
 * same user and password do), as in mysql.c; the session then gets
 * AuthenticationOk, the ParameterStatus set of a real server, BackendKeyData
 * and ReadyForQuery.
 *
 * After login: simple Query messages are split into statements, each one
 * a command.input event; SELECT version()/current_user/... get a row,
 * data and DDL statements their CommandComplete tag, COPY ... PROGRAM (the
 * classic CVE-2019-9193 dropper) a pgsql.copy_program event and URLs in any
 * statement go to the capture pipeline; anything else gets a syntax error,
 * which (as the server parses the whole string first) fails the Query.
 * The extended protocol (Parse, Bind, Describe, Execute, ...) runs the
 * same statements: pgsql_ext.c.
 *
 * The replies follow what PostgreSQL 15.18 (Debian 12) was seen to send to
 * the same bytes: field order and source lines, the checks of the password
 * message, the errors that close without a word, the notices of the
 * cmd_exec dropper's DROP TABLE IF EXISTS.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "capture/capture.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "identity.h"
#include "intel/knowledge.h"
#include "login_gate.h"
#include "pgsql.h"
#include "pgsql_int.h"
#include "proto.h"
#include "reader.h"
#include "shell/shell.h"
#include "util.h"

enum { S_STARTUP, S_PASSWORD, S_READY, S_DONE };

#define PG_SSL_CODE    80877103u
#define PG_GSS_CODE    80877104u
#define PG_CANCEL_CODE 80877102u
#define PG_STARTUP_MAX 10000          /* MAX_STARTUP_PACKET_LENGTH */
#define PG_PASSWORD_MAX 1000           /* kept for the login decision */
#define PG_AUTH_MAX    65535          /* PG_MAX_AUTH_TOKEN_LENGTH: a longer 'p' closes */
#define PG_STMTS_MAX   64             /* answered per Query message, as mysql.c's multi-statements */
#define PG_CONN_STMTS  1000           /* per connection, as mssql.c's batches; then it is closed */
#define PG_EV_INPUT    65536          /* statement text kept in its command.input event */
#define PG_SEND_BUF    8192           /* PqSendBuffer: extended answers held past it go out */

/* ---- identity ------------------------------------------------------------------------ */

struct pg_release {
    const char *version;
    bool drawn;                   /* one of the releases a sensor draws its version from */
    struct hp_pg_lines ln;
};

/* Releases whose postmaster.c line nmap's probes know (drawn); the other
 * lines follow the offsets seen on 15.18, the one release measured whole. */
#define PG_REL(v, pm, auth) { v, true, { pm, pm + 100, pm + 160, auth, auth + 400, auth + 421, auth + 439, 1176, 5228, 446, 948, 1164, 207, 1304, 595 } }

static const struct pg_release pg_releases[] = {
    PG_REL("10.22 (Ubuntu 10.22-0ubuntu0.18.04.1)", 2099, 333),
    PG_REL("11.17 (Debian 11.17-0+deb10u1)", 2050, 333),
    PG_REL("12.12 (Ubuntu 12.12-0ubuntu0.20.04.1)", 2119, 333),
    PG_REL("12.11 (Debian 12.11-1.pgdg110+1)", 2119, 333),
    PG_REL("13.8 (Debian 13.8-0+deb11u1)", 2133, 335),
    PG_REL("13.7 (Debian 13.7-1.pgdg110+1)", 2133, 335),
    PG_REL("14.5 (Ubuntu 14.5-0ubuntu0.22.04.1)", 2138, 335),
    PG_REL("14.4 (Debian 14.4-1.pgdg110+1)", 2138, 335),
    PG_REL("15.1 (Debian 15.1-1.pgdg110+1)", 2194, 326),
    /* Debian 12's, measured against the real server; nmap does not know
     * its line, so it is only used when a service sets this version. */
    { "15.18 (Debian 15.18-0+deb12u1)", false, { 2222, 2334, 2351, 334, 718, 739, 757, 1188, 5734, 446, 948, 1164, 207, 1304, 595 } },
};

/* The release a version string names: the same major.minor, else the same major. */
static const struct pg_release *pg_release_of(const char *version)
{
    size_t vl = strcspn(version, " ");
    const struct pg_release *major = NULL;
    for (size_t i = 0; i < HP_ARRAY_LEN(pg_releases); i++) {
        const char *rv = pg_releases[i].version;
        if (strcspn(rv, " ") == vl && strncmp(rv, version, vl) == 0)
            return &pg_releases[i];
        if (!major && strtoul(rv, NULL, 10) == strtoul(version, NULL, 10))
            major = &pg_releases[i];
    }
    return major;
}

void hp_pg_conf_version(struct hp_pg_conf *cf, const char *version)
{
    free(cf->version);
    cf->version = hp_xstrdup(version);
    cf->major = (unsigned)strtoul(version, NULL, 10);
    const struct pg_release *r = pg_release_of(version);
    cf->ln = r ? r->ln : pg_releases[6].ln;       /* an unknown major: 14's lines */
}

void hp_pg_identity(struct hp_pg_conf *cf)
{
    if (cf->version)
        return;
    const char *v = hp_identity_get("postgresql_version");
    if (!v || !*v || strlen(v) > 80) {
        size_t k = hp_random_u64() % HP_ARRAY_LEN(pg_releases);
        while (!pg_releases[k].drawn)
            k = (k + 1) % HP_ARRAY_LEN(pg_releases);
        v = pg_releases[k].version;
        hp_identity_set("postgresql_version", v);
    }
    hp_pg_conf_version(cf, v);
}

/* ---- messages ----------------------------------------------------------------------- */

/* Start a typed message; its length is patched by msg_end. */
size_t hp_pg_msg_begin(struct hp_pg_sess *s, char type)
{
    hp_buf_putc(&s->out, (uint8_t)type);
    size_t at = s->out.len;
    hp_buf_put_u32be(&s->out, 0);
    return at;
}

void hp_pg_msg_end(struct hp_pg_sess *s, size_t at)
{
    if (!hp_buf_ok(&s->out) || at + 4 > s->out.len)
        return;
    uint32_t len = (uint32_t)(s->out.len - at);
    s->out.data[at] = (uint8_t)(len >> 24);
    s->out.data[at + 1] = (uint8_t)(len >> 16);
    s->out.data[at + 2] = (uint8_t)(len >> 8);
    s->out.data[at + 3] = (uint8_t)len;
}

static void put_cstr(struct hp_buf *b, const char *str)
{
    hp_buf_put(b, str, strlen(str) + 1);
}

/* ErrorResponse ('E') or NoticeResponse ('N') with the fields a real
 * server sends, in its order: S V C M [P] F L R (pos 0: no P). */
static void pg_report_fields(struct hp_pg_sess *s, char type, const char *sev, const char *code, const char *msg,
                             const char *detail, unsigned pos, const char *file, unsigned line, const char *routine)
{
    size_t at = hp_pg_msg_begin(s, type);
    hp_buf_putc(&s->out, 'S');
    put_cstr(&s->out, sev);
    if (s->cf->major >= 10) {           /* 'V' (non-localized severity) since 9.6 */
        hp_buf_putc(&s->out, 'V');
        put_cstr(&s->out, sev);
    }
    hp_buf_putc(&s->out, 'C');
    put_cstr(&s->out, code);
    hp_buf_putc(&s->out, 'M');
    put_cstr(&s->out, msg);
    if (detail) {
        hp_buf_putc(&s->out, 'D');
        put_cstr(&s->out, detail);
    }
    char num[16];
    if (pos) {
        snprintf(num, sizeof(num), "%u", pos);
        hp_buf_putc(&s->out, 'P');
        put_cstr(&s->out, num);
    }
    snprintf(num, sizeof(num), "%u", line);
    hp_buf_putc(&s->out, 'F');
    put_cstr(&s->out, file);
    hp_buf_putc(&s->out, 'L');
    put_cstr(&s->out, num);
    hp_buf_putc(&s->out, 'R');
    put_cstr(&s->out, routine);
    hp_buf_putc(&s->out, 0);
    hp_pg_msg_end(s, at);
}

void hp_pg_report(struct hp_pg_sess *s, char type, const char *sev, const char *code, const char *msg,
                  unsigned pos, const char *file, unsigned line, const char *routine)
{
    pg_report_fields(s, type, sev, code, msg, NULL, pos, file, line, routine);
}

/* An ERROR with a DETAIL field (D, after M). */
static void pg_error_detail(struct hp_pg_sess *s, const char *code, const char *msg, const char *detail,
                            const char *file, unsigned line, const char *routine)
{
    pg_report_fields(s, 'E', "ERROR", code, msg, detail, 0, file, line, routine);
}

static void pg_error(struct hp_pg_sess *s, const char *sev, const char *code, const char *msg,
                     const char *file, unsigned line, const char *routine)
{
    hp_pg_report(s, 'E', sev, code, msg, 0, file, line, routine);
}

static void pg_fatal(struct hp_pg_sess *s, const char *code, const char *msg, const char *file,
                     unsigned line, const char *routine, const char *reason)
{
    pg_error(s, "FATAL", code, msg, file, line, routine);
    s->closing = true;
    s->close_reason = reason;
    s->state = S_DONE;
}

static void pg_param_status(struct hp_pg_sess *s, const char *k, const char *v)
{
    size_t at = hp_pg_msg_begin(s, 'S');
    put_cstr(&s->out, k);
    put_cstr(&s->out, v);
    hp_pg_msg_end(s, at);
}

void hp_pg_ready(struct hp_pg_sess *s)
{
    size_t at = hp_pg_msg_begin(s, 'Z');
    hp_buf_putc(&s->out, (uint8_t)s->txn);   /* pgsql_txn.c */
    hp_pg_msg_end(s, at);
}

/* ---- who gets in (login_gate.h: per source, the Nth attempt, then only that pair) ---- */

_Static_assert(HP_PG_NAME_MAX <= HP_LOGIN_USER_MAX && PG_PASSWORD_MAX <= HP_LOGIN_PASS_MAX,
               "the gate keeps whole user names and passwords");

static struct hp_login_gate pg_gate;

void hp_pg_sources_reset(void)
{
    hp_login_gate_reset(&pg_gate);
}

/* 'pass' is the cleartext password, or the MD5 response (which cannot be
 * compared with an earlier one: under md5 the user alone decides). */
static bool pg_decide(struct hp_pg_sess *s, const char *pass)
{
    const struct hp_login_src *e;
    size_t plen = strlen(pass);
    enum hp_login_verdict v = hp_login_gate_try(&pg_gate, s->ctx->src_ip, s->cf->accept_after, s->user, pass, plen, &e);
    if (v != HP_LOGIN_KNOWN)
        return v == HP_LOGIN_ACCEPT;
    return strcmp(e->user, s->user) == 0 &&
           (s->cf->md5 || (e->pass_known && e->plen == plen && memcmp(e->pass, pass, plen) == 0));
}

/* ---- startup --------------------------------------------------------------------------- */

void hp_pg_sess_init(struct hp_pg_sess *s, const struct hp_pg_conf *cf, const struct hp_evctx *ctx)
{
    memset(s, 0, sizeof(*s));
    s->cf = cf;
    s->ctx = ctx;
    hp_buf_init(&s->out, 4u << 20);
    hp_random_bytes(s->salt, sizeof(s->salt));
    s->pid = 1000 + (uint32_t)(hp_random_u64() % 3000000);
    s->key = (uint32_t)hp_random_u64();
    s->txn = 'I';
    s->table_oid0 = 16384 + 40 + (uint32_t)(hp_random_u64() % 400);
    s->copy_table = -1;
    hp_buf_init(&s->copy_rows, HP_PG_COPY_MAX);
}

void hp_pg_sess_free(struct hp_pg_sess *s)
{
    hp_pg_ext_free(s);
    hp_buf_free(&s->out);
    hp_buf_free(&s->copy_rows);
}

/* A C string from the reader into out (cut at outlen-1); false if unterminated. */
static bool rd_cstr(struct hp_rd *r, char *out, size_t outlen, const uint8_t **raw, size_t *rawlen)
{
    long z = hp_rd_find(r, "", 1);
    if (z < 0)
        return false;
    const uint8_t *p = hp_rd_bytes(r, (size_t)z);
    hp_rd_skip(r, 1);
    if (raw) {
        *raw = p;
        *rawlen = (size_t)z;
    }
    if (out) {
        size_t n = (size_t)z < outlen - 1 ? (size_t)z : outlen - 1;
        memcpy(out, p, n);
        out[n] = '\0';
    }
    return hp_rd_ok(r);
}

/* Below protocol 3 (but not 0.0, taken for "not yet known") the server
 * answers in the 2.0 format: 'E' and the text, no length, no fields
 * (seen on 15.18 for 0.1, 1.0, 2.0, 2.5). */
static void pg_unsupported(struct hp_pg_sess *s, uint32_t code)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "unsupported frontend protocol %u.%u: server supports %s to 3.0",
             code >> 16, code & 0xffff, s->cf->major >= 14 ? "3.0" : "2.0");
    if (code != 0 && (code >> 16) < 3) {
        hp_buf_putc(&s->out, 'E');
        hp_buf_puts(&s->out, "FATAL:  ");
        hp_buf_puts(&s->out, msg);
        hp_buf_put(&s->out, "\n", 2);
        s->closing = true;
        s->close_reason = "bad_protocol";
        s->state = S_DONE;
        return;
    }
    pg_fatal(s, "0A000", msg, "postmaster.c", s->cf->ln.pm, "ProcessStartupPacket", "bad_protocol");
}

static void pg_ask_password(struct hp_pg_sess *s)
{
    size_t at = hp_pg_msg_begin(s, 'R');
    if (s->cf->md5) {
        hp_buf_put_u32be(&s->out, 5);
        hp_buf_put(&s->out, s->salt, 4);
    } else {
        hp_buf_put_u32be(&s->out, 3);
    }
    hp_pg_msg_end(s, at);
    s->state = S_PASSWORD;
}

/* StartupMessage parameters: name/value C strings up to an empty name. */
static bool pg_params(struct hp_pg_sess *s, struct hp_rd *r)
{
    for (int i = 0; i < 256 && hp_rd_left(r) > 0; i++) {
        const uint8_t *k, *v;
        size_t kl, vl;
        if (!rd_cstr(r, NULL, 0, &k, &kl))
            return false;
        if (kl == 0)
            return true;
        if (!rd_cstr(r, NULL, 0, &v, &vl))
            return false;
        char *dst = NULL;
        if (kl == 4 && memcmp(k, "user", 4) == 0)
            dst = s->user;
        else if (kl == 8 && memcmp(k, "database", 8) == 0)
            dst = s->db;
        else if (kl == 16 && memcmp(k, "application_name", 16) == 0)
            dst = s->app;
        if (dst) {
            size_t n = vl < HP_PG_NAME_MAX ? vl : HP_PG_NAME_MAX;
            memcpy(dst, v, n);
            dst[n] = '\0';
        }
        if (s->params_len + kl + vl + 2 <= HP_PG_PARAMS_MAX) {   /* all of them, for the event */
            memcpy(s->params + s->params_len, k, kl + 1);
            s->params_len += kl + 1;
            memcpy(s->params + s->params_len, v, vl + 1);
            s->params_len += vl + 1;
        }
    }
    return hp_rd_left(r) == 0;
}

static void ev_params(struct hp_ev *ev, const struct hp_pg_sess *s)
{
    struct hp_rd r;
    hp_rd_init(&r, s->params, s->params_len);
    hp_ev_obj_begin(ev, "params");
    while (hp_rd_left(&r)) {
        const uint8_t *k, *v;
        size_t kl, vl;
        if (!rd_cstr(&r, NULL, 0, &k, &kl) || !rd_cstr(&r, NULL, 0, &v, &vl) || kl > 64)
            break;
        char key[65];
        memcpy(key, k, kl);
        key[kl] = '\0';
        hp_ev_bytes(ev, key, v, vl);
    }
    hp_ev_obj_end(ev);
}

/* NegotiateProtocolVersion (3.0 and the _pq_. options it does not know)
 * when the client asked for a newer minor or sent any _pq_. option. */
static void pg_negotiate(struct hp_pg_sess *s, struct hp_rd *body)
{
    size_t at = s->out.len, nat = 0;
    uint32_t n = 0;
    for (;;) {
        const uint8_t *k, *v;
        size_t kl, vl;
        if (!rd_cstr(body, NULL, 0, &k, &kl) || kl == 0 || !rd_cstr(body, NULL, 0, &v, &vl))
            break;
        if (kl < 5 || memcmp(k, "_pq_.", 5) != 0)
            continue;
        if (n++ == 0) {
            at = hp_pg_msg_begin(s, 'v');
            hp_buf_put_u32be(&s->out, 3u << 16);
            nat = s->out.len;
            hp_buf_put_u32be(&s->out, 0);
        }
        hp_buf_put(&s->out, k, kl + 1);
    }
    if (n == 0 && s->proto_minor > 0) {
        at = hp_pg_msg_begin(s, 'v');
        hp_buf_put_u32be(&s->out, 3u << 16);
        hp_buf_put_u32be(&s->out, 0);
    }
    if (n && hp_buf_ok(&s->out)) {
        s->out.data[nat] = (uint8_t)(n >> 24);
        s->out.data[nat + 1] = (uint8_t)(n >> 16);
        s->out.data[nat + 2] = (uint8_t)(n >> 8);
        s->out.data[nat + 3] = (uint8_t)n;
    }
    if (n || s->proto_minor > 0)
        hp_pg_msg_end(s, at);
}

static void pg_startup(struct hp_pg_sess *s, struct hp_rd *r)
{
    uint32_t code = hp_rd_u32be(r);
    unsigned bit = code == PG_SSL_CODE ? 1 : code == PG_GSS_CODE ? 2 : 0;
    if (bit && !(s->negotiated & bit)) {  /* once each; a repeat is an unknown protocol */
        s->negotiated |= bit;
        s->ssl_requests++;
        hp_buf_putc(&s->out, 'N');
        return;
    }
    if (code == PG_CANCEL_CODE) {
        s->closing = true;
        s->close_reason = "cancel";
        return;
    }
    if ((code >> 16) != 3) {
        pg_unsupported(s, code);
        return;
    }
    struct hp_rd body = *r;
    if (!pg_params(s, r)) {
        pg_fatal(s, "08P01", "invalid startup packet layout: expected terminator as last byte",
                 "postmaster.c", s->cf->ln.layout, "ProcessStartupPacket", "bad_startup");
        return;
    }
    s->proto_minor = code & 0xffff;
    if (!s->user[0]) {
        pg_fatal(s, "28000", "no PostgreSQL user name specified in startup packet", "postmaster.c",
                 s->cf->ln.nouser, "ProcessStartupPacket", "bad_startup");
        return;
    }
    if (!s->db[0])
        snprintf(s->db, sizeof(s->db), "%s", s->user);
    pg_negotiate(s, &body);
    pg_ask_password(s);
}

/* ---- the password ---------------------------------------------------------------------- */

static void pg_login_event(struct hp_pg_sess *s, bool ok, const uint8_t *pw, size_t plen)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, ok ? "login.success" : "login.failed");
    hp_ev_str(&ev, "username", s->user);
    if (s->cf->md5) {
        char salt[9], h[HP_PG_NAME_MAX + 64];
        static const char hx[] = "0123456789abcdef";
        for (int i = 0; i < 4; i++) {
            salt[2 * i] = hx[s->salt[i] >> 4];
            salt[2 * i + 1] = hx[s->salt[i] & 15];
        }
        salt[8] = '\0';
        bool wellformed = plen == 35 && memcmp(pw, "md5", 3) == 0;
        snprintf(h, sizeof(h), "$postgres$%s*%s*%.*s", s->user, salt, wellformed ? 32 : 0,
                 wellformed ? (const char *)pw + 3 : "");
        hp_ev_str(&ev, "method", "md5");
        if (wellformed) {
            hp_ev_str(&ev, "hash", h);
            hp_ev_str(&ev, "hash_format", "hashcat:11100");
        } else {
            hp_ev_bytes(&ev, "password", pw, plen);   /* a client that ignored the salt */
        }
        hp_ev_str(&ev, "salt", salt);
    } else {
        hp_ev_bytes(&ev, "password", pw, plen);
        hp_ev_str(&ev, "method", "cleartext");
        hp_knowledge_ev_cred(&ev, s->user, strlen(s->user), pw, plen);
    }
    hp_ev_str(&ev, "database", s->db);
    if (s->app[0])
        hp_ev_str(&ev, "client_app", s->app);
    hp_ev_str(&ev, "server_version", s->cf->version);
    ev_params(&ev, s);
    hp_ev_emit(&ev);
}

/* A fresh cluster's databases (template0 takes no connections). */
static bool pg_db_exists(const char *db)
{
    return strcmp(db, "postgres") == 0 || strcmp(db, "template1") == 0;
}

/* AuthenticationOk; then, as InitPostgres, a database the cluster lacks
 * ends the session (15.18: R 0, FATAL 3D000, close), else the
 * ParameterStatus set, BackendKeyData and ReadyForQuery. */
static void pg_welcome(struct hp_pg_sess *s)
{
    size_t at = hp_pg_msg_begin(s, 'R');
    hp_buf_put_u32be(&s->out, 0);              /* AuthenticationOk */
    hp_pg_msg_end(s, at);
    if (!pg_db_exists(s->db)) {
        char msg[HP_PG_NAME_MAX + 40];
        snprintf(msg, sizeof(msg), "database \"%s\" does not exist", s->db);
        pg_fatal(s, "3D000", msg, "postinit.c", s->cf->ln.no_db, "InitPostgres", "no_database");
        return;
    }
    char ver[96];
    snprintf(ver, sizeof(ver), "%s", s->cf->version);
    pg_param_status(s, "application_name", s->app);
    pg_param_status(s, "client_encoding", "UTF8");
    pg_param_status(s, "DateStyle", "ISO, MDY");
    if (s->cf->major >= 14)
        pg_param_status(s, "default_transaction_read_only", "off");
    if (s->cf->major >= 14)
        pg_param_status(s, "in_hot_standby", "off");
    pg_param_status(s, "integer_datetimes", "on");
    pg_param_status(s, "IntervalStyle", "postgres");
    pg_param_status(s, "is_superuser", "on");
    pg_param_status(s, "server_encoding", "UTF8");
    pg_param_status(s, "server_version", ver);
    pg_param_status(s, "session_authorization", s->user);
    pg_param_status(s, "standard_conforming_strings", "on");
    pg_param_status(s, "TimeZone", "Etc/UTC");
    at = hp_pg_msg_begin(s, 'K');
    hp_buf_put_u32be(&s->out, s->pid);
    hp_buf_put_u32be(&s->out, s->key);
    hp_pg_msg_end(s, at);
    hp_pg_ready(s);
    s->state = S_READY;
}

/* A PasswordMessage ('p', its type checked by pg_type_ok).  As
 * recv_password_packet(): the body must be one C string, and an empty one
 * is refused before any password check; both still logged. */
static void pg_password(struct hp_pg_sess *s, struct hp_rd *r)
{
    size_t n = hp_rd_left(r);
    const uint8_t *pw = hp_rd_bytes(r, n);
    const uint8_t *nul = n ? memchr(pw, '\0', n) : NULL;
    bool sized = nul && (size_t)(nul - pw) == n - 1;
    if (nul)                            /* the server takes the C string */
        n = (size_t)(nul - pw);
    if (!sized || n == 0) {
        pg_login_event(s, false, pw, n);
        if (!sized)
            pg_fatal(s, "08P01", "invalid password packet size", "auth.c", s->cf->ln.pw_size,
                     "recv_password_packet", "protocol_error");
        else
            pg_fatal(s, "28P01", "empty password returned by client", "auth.c", s->cf->ln.pw_empty,
                     "recv_password_packet", "auth_failed");
        return;
    }
    char pass[PG_PASSWORD_MAX + 1];
    size_t k = n < PG_PASSWORD_MAX ? n : PG_PASSWORD_MAX;
    memcpy(pass, pw, k);
    pass[k] = '\0';
    bool ok = pg_decide(s, pass);
    pg_login_event(s, ok, pw, n);
    if (ok) {
        pg_welcome(s);
        return;
    }
    char msg[HP_PG_NAME_MAX + 64];
    snprintf(msg, sizeof(msg), "password authentication failed for user \"%s\"", s->user);
    pg_fatal(s, "28P01", msg, "auth.c", s->cf->ln.auth, "auth_failed", "auth_failed");
}

/* ---- after login: simple queries ------------------------------------------------------------ */

/* The types 15.18 gives the answers: version() text, current_user and
 * current_database() name, an integer literal int4. */
#define PG_TEXT(n) ((struct pg_col){ n, 25, 0xffff })
#define PG_NAME(n) ((struct pg_col){ n, 19, 64 })
#define PG_INT4(n) ((struct pg_col){ n, 23, 4 })

/* One column; of a table (its OID, the column's number) or of none (0, 0). */
static void pg_row_desc_of(struct hp_pg_sess *s, struct pg_col c, uint32_t table, uint16_t attnum)
{
    size_t at = hp_pg_msg_begin(s, 'T');
    hp_buf_put_u16be(&s->out, 1);
    put_cstr(&s->out, c.name);
    hp_buf_put_u32be(&s->out, table);          /* table oid */
    hp_buf_put_u16be(&s->out, attnum);         /* column */
    hp_buf_put_u32be(&s->out, c.oid);
    hp_buf_put_u16be(&s->out, c.len);
    hp_buf_put_u32be(&s->out, 0xffffffffu);    /* typmod -1 */
    hp_buf_put_u16be(&s->out, 0);              /* text format */
    hp_pg_msg_end(s, at);
}

static void pg_row_desc(struct hp_pg_sess *s, struct pg_col c)
{
    pg_row_desc_of(s, c, 0, 0);
}

static void pg_complete(struct hp_pg_sess *s, const char *tag)
{
    size_t at = hp_pg_msg_begin(s, 'C');
    put_cstr(&s->out, tag);
    hp_pg_msg_end(s, at);
}

static void pg_one_row(struct hp_pg_sess *s, struct pg_col c, const char *val, size_t vlen, const char *tag)
{
    pg_row_desc(s, c);
    size_t at = hp_pg_msg_begin(s, 'D');
    hp_buf_put_u16be(&s->out, 1);
    hp_buf_put_u32be(&s->out, val ? (uint32_t)vlen : 0xffffffffu);   /* NULL: length -1 */
    if (val)
        hp_buf_put(&s->out, val, vlen);
    hp_pg_msg_end(s, at);
    pg_complete(s, tag);
}

static bool has_word(const char *low, const char *w)
{
    return strstr(low, w) != NULL;
}

/* Where the program of COPY ... PROGRAM stands in stmt: [*off, *end), inside
 * its quotes when quoted (doubled quotes still doubled); false without one. */
static bool pg_program_span(const char *stmt, size_t n, const char *low, size_t *offp, size_t *endp)
{
    const char *p = strstr(low, "program");
    if (!p)
        return false;
    size_t off = (size_t)(p - low) + 7;
    while (off < n && stmt[off] == ' ')
        off++;
    size_t end = off;
    while (end < n && !isspace((unsigned char)stmt[end]))   /* unquoted: a word ($1 of a Parse) */
        end++;
    if (off < n && (stmt[off] == '\'' || stmt[off] == '"')) {
        end = off + 1;
        while (end < n && !(stmt[end] == stmt[off] && !(end + 1 < n && stmt[end + 1] == stmt[off])))
            end += (stmt[end] == stmt[off]) ? 2 : 1;
        off++;
    }
    *offp = off;
    *endp = end > off && end <= n ? end : off;
    return true;
}

static void pg_copy_program(struct hp_pg_sess *s, const char *stmt, size_t n, const char *low)
{
    size_t off, end;
    if (!pg_program_span(stmt, n, low, &off, &end))
        return;
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "pgsql.copy_program");
    hp_ev_bytes(&ev, "program", stmt + off, end - off);
    hp_ev_str(&ev, "direction", has_word(low, " to program") ? "to" : "from");
    hp_ev_strings(&ev, "attack_classes", (const char *[]){ "rce" }, 1);
    hp_ev_strings(&ev, "cves", (const char *[]){ "CVE-2019-9193" }, 1);
    hp_ev_emit(&ev);
}

/* A statement's first words, lower case ("" when it does not start with a letter). */
struct pg_words {
    char low[512];                /* its first 511 bytes, lower case, blanks as ' ' */
    char verb[32], obj[32];
};

static void pg_words(struct pg_words *w, const char *stmt, size_t n)
{
    size_t k = n < sizeof(w->low) - 1 ? n : sizeof(w->low) - 1;
    for (size_t i = 0; i < k; i++)
        w->low[i] = isspace((unsigned char)stmt[i]) ? ' ' : (char)tolower((unsigned char)stmt[i]);
    w->low[k] = '\0';
    w->verb[0] = w->obj[0] = '\0';
    sscanf(w->low, "%31[a-z_] %31[a-z_0-9]", w->verb, w->obj);
}

static const char *const pg_simple[] = { "set", "begin", "commit", "rollback", "grant", "revoke", "reset",
                                         "discard", "listen", "notify", "vacuum", "analyze", "checkpoint",
                                         "do" };

/* A statement the grammar takes (the rest are syntax errors: the server
 * parses the whole Query first and runs none of it then). */
static bool pg_known(const char *verb)
{
    static const char *const other[] = { "select", "show", "create", "drop", "alter", "insert", "update",
                                         "delete", "copy", "truncate", "start", "end", "abort", "savepoint",
                                         "release" };
    for (size_t i = 0; i < HP_ARRAY_LEN(pg_simple); i++)
        if (strcmp(verb, pg_simple[i]) == 0)
            return true;
    for (size_t i = 0; i < HP_ARRAY_LEN(other); i++)
        if (strcmp(verb, other[i]) == 0)
            return true;
    return false;
}

static void pg_upper_tag(char *tag)
{
    for (char *p = tag; *p; p++)
        *p = (char)toupper((unsigned char)*p);
}

/* ---- SHOW: the parameters bots read, as a packaged server has them ---- */

static void pg_guc_paths(const struct hp_pg_sess *s, const char *name, char *out, size_t outlen)
{
    bool docker = strstr(s->cf->version, "pgdg") != NULL;   /* the postgres image's layout */
    const char *file = strcmp(name, "config_file") == 0 ? "postgresql.conf"
                       : strcmp(name, "hba_file") == 0  ? "pg_hba.conf"
                       : strcmp(name, "ident_file") == 0 ? "pg_ident.conf" : NULL;
    if (docker)
        snprintf(out, outlen, "/var/lib/postgresql/data%s%s", file ? "/" : "", file ? file : "");
    else if (file)
        snprintf(out, outlen, "/etc/postgresql/%u/main/%s", s->cf->major, file);
    else
        snprintf(out, outlen, "/var/lib/postgresql/%u/main", s->cf->major);
}

/* The value of a parameter (its canonical name in *canon), NULL if unknown. */
static const char *pg_guc(const struct hp_pg_sess *s, const char *name, const char **canon, char *tmp,
                          size_t tmplen)
{
    static const char *const fixed[][2] = {
        { "client_encoding", "UTF8" }, { "server_encoding", "UTF8" }, { "DateStyle", "ISO, MDY" },
        { "TimeZone", "Etc/UTC" }, { "is_superuser", "on" }, { "integer_datetimes", "on" },
        { "IntervalStyle", "postgres" }, { "standard_conforming_strings", "on" },
        { "listen_addresses", "*" }, { "port", "5432" }, { "max_connections", "100" }, { "ssl", "off" },
        { "shared_buffers", "128MB" }, { "work_mem", "4MB" }, { "log_directory", "log" },
        { "unix_socket_directories", "/var/run/postgresql" }, { "transaction_isolation", "read committed" },
        { "search_path", "\"$user\", public" },
    };
    static const char *const paths[] = { "data_directory", "config_file", "hba_file", "ident_file" };
    for (size_t i = 0; i < HP_ARRAY_LEN(fixed); i++)
        if (strcasecmp(name, fixed[i][0]) == 0)
            return *canon = fixed[i][0], fixed[i][1];
    for (size_t i = 0; i < HP_ARRAY_LEN(paths); i++)
        if (strcmp(name, paths[i]) == 0) {
            pg_guc_paths(s, paths[i], tmp, tmplen);
            return *canon = paths[i], tmp;
        }
    if (strcmp(name, "server_version") == 0)
        return *canon = "server_version", s->cf->version;
    if (strcmp(name, "server_version_num") == 0) {
        const char *dot = strchr(s->cf->version, '.');
        snprintf(tmp, tmplen, "%u%04lu", s->cf->major, dot ? strtoul(dot + 1, NULL, 10) % 10000 : 0);
        return *canon = "server_version_num", tmp;
    }
    if (strcmp(name, "password_encryption") == 0)   /* scram-sha-256 the default since 14 */
        return *canon = "password_encryption", s->cf->major >= 14 ? "scram-sha-256" : "md5";
    if (strcmp(name, "session_authorization") == 0)
        return *canon = "session_authorization", s->user;
    if (strcmp(name, "application_name") == 0)
        return *canon = "application_name", s->app;
    return NULL;
}

static bool pg_show(struct hp_pg_sess *s, const char *obj)
{
    char tmp[256];
    const char *canon, *v = pg_guc(s, obj, &canon, tmp, sizeof(tmp));
    if (v) {
        pg_one_row(s, PG_TEXT(canon), v, strlen(v), "SHOW");
        return true;
    }
    snprintf(tmp, sizeof(tmp), "unrecognized configuration parameter \"%s\"", obj);
    /* 15 reports it from find_option(), older releases from GetConfigOptionByName() */
    hp_pg_report(s, 'E', "ERROR", "42704", tmp, 0, "guc.c", s->cf->ln.guc,
                 s->cf->major >= 15 ? "find_option" : "GetConfigOptionByName");
    return false;
}

/* ---- the tables a session made (the CVE-2019-9193 dropper's cmd_exec) ---- */

/* The table name after "create table [if not exists]" / "drop table [if exists]". */
static bool pg_table_name(const char *low, char *name, size_t namelen, bool *if_x)
{
    const char *p = strstr(low, " table ");
    if (!p)
        return false;
    p += 7;
    while (*p == ' ')
        p++;
    *if_x = false;
    if (strncmp(p, "if not exists ", 14) == 0 || strncmp(p, "if exists ", 10) == 0) {
        *if_x = true;
        p = strstr(p, "exists ") + 7;
        while (*p == ' ')
            p++;
    }
    size_t n = 0;
    if (*p == '"')
        p++;
    while (n < namelen - 1 && (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '$'))
        n++;
    memcpy(name, p, n);
    name[n] = '\0';
    return n > 0;
}

static int pg_table_find(const struct hp_pg_sess *s, const char *name)
{
    for (unsigned i = 0; i < s->ntables; i++)
        if (strcmp(s->tables[i], name) == 0)
            return (int)i;
    return -1;
}

/* The first column a CREATE TABLE names: "create table t(cmd_output text)"
 * gives "cmd_output"; "" when there is none to read. */
static const char *pg_first_column(const char *low)
{
    static char col[HP_PG_TABLE_NAME];
    const char *p = strchr(low, '(');
    size_t n = 0;
    if (p) {
        p++;
        while (*p == ' ')
            p++;
        if (*p == '"')
            p++;
        while (n < sizeof(col) - 1 && (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '$'))
            n++;
        memcpy(col, p, n);
    }
    col[n] = '\0';
    return col;
}

/* A table the session now has (at most HP_PG_TABLES: then it is not kept); its index or -1. */
static int pg_table_add(struct hp_pg_sess *s, const char *name, const char *column)
{
    if (s->ntables >= HP_PG_TABLES)
        return -1;
    snprintf(s->tables[s->ntables], HP_PG_TABLE_NAME, "%s", name);
    snprintf(s->columns[s->ntables], HP_PG_TABLE_NAME, "%s", column[0] ? column : "cmd_output");
    return (int)s->ntables++;
}

/* The table at index at is dropped (the last takes its place), and its rows with it. */
static void pg_table_drop(struct hp_pg_sess *s, int at)
{
    if (s->copy_table == at) {
        s->copy_table = -1;
        hp_buf_reset(&s->copy_rows);
        s->copy_nrows = 0;
    }
    if ((unsigned)at != --s->ntables) {
        memcpy(s->tables[at], s->tables[s->ntables], HP_PG_TABLE_NAME);
        memcpy(s->columns[at], s->columns[s->ntables], HP_PG_TABLE_NAME);
        if (s->copy_table == (int)s->ntables)
            s->copy_table = at;
    }
}

/* CREATE TABLE / DROP TABLE against the session's tables, with 15.18's
 * errors and notices; false after an error. */
static bool pg_table_ddl(struct hp_pg_sess *s, const struct pg_words *w)
{
    char name[HP_PG_TABLE_NAME], msg[160];
    bool if_x;
    if (!pg_table_name(w->low, name, sizeof(name), &if_x))
        return true;
    int at = pg_table_find(s, name);
    if (strcmp(w->verb, "create") == 0) {
        if (at >= 0 && !if_x) {
            snprintf(msg, sizeof(msg), "relation \"%s\" already exists", name);
            hp_pg_report(s, 'E', "ERROR", "42P07", msg, 0, "heap.c", s->cf->ln.dup_table, "heap_create_with_catalog");
            return false;
        }
        if (at >= 0) {
            snprintf(msg, sizeof(msg), "relation \"%s\" already exists, skipping", name);
            hp_pg_report(s, 'N', "NOTICE", "42P07", msg, 0, "parse_utilcmd.c", s->cf->ln.dup_skip,
                         "transformCreateStmt");
        } else {
            pg_table_add(s, name, pg_first_column(w->low));
        }
        return true;
    }
    if (at >= 0) {
        pg_table_drop(s, at);
        return true;
    }
    snprintf(msg, sizeof(msg), "table \"%s\" does not exist%s", name, if_x ? ", skipping" : "");
    hp_pg_report(s, if_x ? 'N' : 'E', if_x ? "NOTICE" : "ERROR", if_x ? "00000" : "42P01", msg, 0, "tablecmds.c",
                 s->cf->ln.no_table + (if_x ? 6 : 0), "DropErrorMsgNonExistent");
    return if_x;
}

/* ---- statements ---- */

/* version()'s compiler: the gcc of the distribution the package is built
 * on (deb12 measured on 15.18; the others as those packages print it). */
static const char *pg_compiler(const char *version)
{
    static const char *const cc[][2] = {
        { "deb12", "gcc (Debian 12.2.0-14+deb12u1) 12.2.0" },
        { "deb10", "gcc (Debian 8.3.0-6) 8.3.0" },
        { "22.04", "gcc (Ubuntu 11.2.0-19ubuntu1) 11.2.0" },
        { "18.04", "gcc (Ubuntu 7.5.0-3ubuntu1~18.04) 7.5.0" },
        { "Ubuntu", "gcc (Ubuntu 9.4.0-1ubuntu1~20.04.1) 9.4.0" },
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(cc); i++)
        if (strstr(version, cc[i][0]))
            return cc[i][1];
    return "gcc (Debian 10.2.1-6) 10.2.1 20210110";   /* deb11 and the pgdg110 images */
}


/* The type a cast names ("int", "integer", "int4" ...), as a column; false if not one of those. */
bool hp_pg_cast_type(const char *name, size_t n, struct pg_col *c)
{
    static const struct { const char *name; struct pg_col col; } types[] = {
        { "int", { "int4", 23, 4 } }, { "integer", { "int4", 23, 4 } }, { "int4", { "int4", 23, 4 } },
        { "bigint", { "int8", 20, 8 } }, { "int8", { "int8", 20, 8 } }, { "text", { "text", 25, 0xffff } },
        { "varchar", { "varchar", 1043, 0xffff } },
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(types); i++)
        if (strlen(types[i].name) == n && strncasecmp(types[i].name, name, n) == 0) {
            *c = types[i].col;
            return true;
        }
    return false;
}

/* SELECT <literal>::<type> (what a bound "$1::int" becomes): a column named
 * after the type, 15.18's; an integer type only takes an integer. */
static bool pg_select_cast(struct hp_pg_sess *s, const char *v, const char *e)
{
    const char *colons = NULL;
    for (const char *p = v; p + 1 < e; p++)
        if (p[0] == ':' && p[1] == ':')
            colons = p;
    struct pg_col c;
    if (!colons || !hp_pg_cast_type(colons + 2, (size_t)(e - colons - 2), &c))
        return false;
    const char *a = v, *b = colons;
    if (b - a >= 2 && *a == '\'' && b[-1] == '\'') {
        a++;
        b--;
    }
    if (memchr(a, '\'', (size_t)(b - a)))
        return false;
    size_t k = (size_t)(b - a), d = k && *a == '-' ? 1 : 0;
    while (d < k && isdigit((unsigned char)a[d]))
        d++;
    if (c.oid != 25 && c.oid != 1043 && (d != k || k == 0 || k > 19))
        return false;
    pg_one_row(s, c, a, k, "SELECT 1");
    return true;
}

/* ---- COPY ... FROM PROGRAM: what the program prints, as the table's rows ---- */

/* The table named after " from " (or after "copy "): its index, -1 if the session has none such. */
static int pg_table_after(const struct hp_pg_sess *s, const char *low, const char *word)
{
    const char *p = strstr(low, word);
    char name[HP_PG_TABLE_NAME];
    size_t n = 0;
    if (!p)
        return -1;
    p += strlen(word);
    while (*p == ' ')
        p++;
    if (*p == '"')
        p++;
    if (strncmp(p, "public.", 7) == 0)
        p += 7;
    while (n < sizeof(name) - 1 && (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '$'))
        n++;
    memcpy(name, p, n);
    name[n] = '\0';
    return n ? pg_table_find(s, name) : -1;
}

/* COPY t FROM PROGRAM 'cmd' (CVE-2019-9193): the server runs cmd through
 * /bin/sh as its own user and stores each line it prints as a row; the
 * dropper then reads them back with SELECT.  Here cmd goes through the
 * emulated shell, never run (shell.h hp_shell_oneshot: user postgres, no
 * downloads - the query's URLs already went to the capture pipeline).  A
 * table the session did not create is taken as there (a bot that made it
 * in an earlier connection).  A failing program is ERROR 38000, as
 * ClosePipeFromProgram reports it; over the one-shot rate, "COPY 0". */
static bool pg_copy_from_program(struct hp_pg_sess *s, const char *stmt, size_t n, const struct pg_words *w)
{
    size_t off, end;
    if (!has_word(w->low, " from program") || !pg_program_span(stmt, n, w->low, &off, &end))
        return false;
    int t = pg_table_after(s, w->low, "copy ");
    if (t < 0)
        t = pg_table_add(s, w->obj, "");
    char cmd[4096], tag[32];
    size_t k = 0;
    for (size_t i = off; i < end && k < sizeof(cmd) - 1; i++) {
        cmd[k++] = stmt[i];
        if ((stmt[i] == '\'' || stmt[i] == '"') && i + 1 < end && stmt[i + 1] == stmt[i])
            i++;                                   /* a doubled quote is one */
    }
    cmd[k] = '\0';
    struct hp_buf out;
    hp_buf_init(&out, HP_PG_COPY_MAX);
    int status = 0;
    if (hp_shell_oneshot_allowed()) {
        char daemon[640];                          /* the backend's process title */
        snprintf(daemon, sizeof(daemon), "postgres: %u/main: %s %s %s(%u) COPY", s->cf->major, s->user, s->db,
                 s->ctx->src_ip, (unsigned)s->ctx->src_port);
        struct hp_shell_oneshot o = { .user = "postgres", .cwd = "/var/lib/postgresql", .out_max = HP_PG_COPY_MAX,
                                      .daemon = daemon };
        status = hp_shell_oneshot(&o, cmd, k, &out);
    }
    if (status != 0) {
        char msg[4200], detail[64];
        snprintf(msg, sizeof(msg), "program \"%s\" failed", cmd);
        if (status == 127)
            snprintf(detail, sizeof(detail), "command not found");
        else
            snprintf(detail, sizeof(detail), "child process exited with exit code %d", status);
        pg_error_detail(s, "38000", msg, detail, "copyfrom.c", 1622, "ClosePipeFromProgram");
        hp_buf_free(&out);
        return false;
    }
    unsigned rows = 0;
    for (size_t i = 0; i < out.len; i++)
        rows += out.data[i] == '\n' || i + 1 == out.len;
    if (t >= 0) {                                  /* the rows COPY appends, up to the cap */
        if (s->copy_table != t) {
            hp_buf_reset(&s->copy_rows);
            s->copy_nrows = 0;
        }
        s->copy_table = t;
        if (out.len && out.data[out.len - 1] != '\n')
            hp_buf_putc(&out, '\n');
        if (s->copy_rows.len + out.len <= s->copy_rows.cap) {
            hp_buf_put(&s->copy_rows, out.data, out.len);
            s->copy_nrows += rows;
        }
    }
    hp_buf_free(&out);
    snprintf(tag, sizeof(tag), "COPY %u", rows);
    pg_complete(s, tag);
    return true;
}

/* SELECT ... FROM a table of the session: its column, and the rows COPY put in it. */
static bool pg_select_table(struct hp_pg_sess *s, const char *low)
{
    int t = pg_table_after(s, low, " from ");
    if (t < 0)
        return false;
    struct pg_col c = PG_TEXT(s->columns[t]);
    pg_row_desc_of(s, c, s->table_oid0 + 4 * (uint32_t)t, 1);
    unsigned rows = 0;
    if (s->copy_table == t && s->copy_rows.len) {
        const uint8_t *p = s->copy_rows.data, *e = p + s->copy_rows.len;
        while (p < e) {
            const uint8_t *nl = memchr(p, '\n', (size_t)(e - p));
            size_t len = nl ? (size_t)(nl - p) : (size_t)(e - p);
            size_t at = hp_pg_msg_begin(s, 'D');
            hp_buf_put_u16be(&s->out, 1);
            hp_buf_put_u32be(&s->out, (uint32_t)len);
            hp_buf_put(&s->out, p, len);
            hp_pg_msg_end(s, at);
            rows++;
            p += len + 1;
        }
    }
    char tag[32];
    snprintf(tag, sizeof(tag), "SELECT %u", rows);
    pg_complete(s, tag);
    return true;
}

static void pg_select(struct hp_pg_sess *s, const char *stmt, size_t n, const struct pg_words *w)
{
    const char *low = w->low;
    char tmp[256];
    if (has_word(low, "version()")) {
        snprintf(tmp, sizeof(tmp), "PostgreSQL %s on x86_64-pc-linux-gnu, compiled by %s, 64-bit",
                 s->cf->version, pg_compiler(s->cf->version));
        pg_one_row(s, PG_TEXT("version"), tmp, strlen(tmp), "SELECT 1");
    } else if (has_word(low, "current_database()")) {
        pg_one_row(s, PG_NAME("current_database"), s->db, strlen(s->db), "SELECT 1");
    } else if (has_word(low, " from ") && pg_select_table(s, low)) {
        /* done: a table of the session */
    } else if (has_word(low, " from ")) {
        pg_row_desc(s, PG_TEXT("cmd_output"));     /* the table a COPY ... PROGRAM filled earlier */
        pg_complete(s, "SELECT 0");
    } else if (has_word(low, "current_user") || has_word(low, "session_user") || has_word(low, " user")) {
        const char *col = has_word(low, "session_user") ? "session_user"
                          : has_word(low, "current_user") ? "current_user" : "user";
        pg_one_row(s, PG_NAME(col), s->user, strlen(s->user), "SELECT 1");
    } else {
        const char *v = stmt + 6, *e = stmt + n;
        while (v < e && isspace((unsigned char)*v))
            v++;
        if (pg_select_cast(s, v, e))
            return;
        size_t d = (v < e && *v == '-') ? 1 : 0;
        while (v + d < e && isdigit((unsigned char)v[d]))
            d++;
        if (d && v + d == e && isdigit((unsigned char)e[-1]) && d < 11) {
            pg_one_row(s, PG_INT4("?column?"), v, d, "SELECT 1");
        } else if (e - v >= 2 && *v == '\'' && e[-1] == '\'') {     /* a string literal: its text */
            size_t k = 0;
            for (const char *p = v + 1; p < e - 1 && k < sizeof(tmp); p++) {
                tmp[k++] = *p;
                if (*p == '\'' && p + 1 < e - 1 && p[1] == '\'')
                    p++;
            }
            pg_one_row(s, PG_TEXT("?column?"), tmp, k, "SELECT 1");
        } else if (e - v == 4 && strncasecmp(v, "null", 4) == 0) {   /* a bound NULL parameter too */
            pg_one_row(s, PG_TEXT("?column?"), NULL, 0, "SELECT 1");
        } else {
            snprintf(tmp, sizeof(tmp), "%.*s", (int)(e - v), v);
            pg_one_row(s, PG_TEXT("?column?"), tmp, strlen(tmp), "SELECT 1");
        }
    }
}

/* The answer to one statement the grammar takes; false after an error
 * (the rest of the Query is not run). */
static bool pg_answer(struct hp_pg_sess *s, const char *stmt, size_t n, const struct pg_words *w)
{
    char tag[80];
    bool ok;
    if (hp_pg_txn_stmt(s, w->verb, w->low, &ok))
        return ok;
    if (strcmp(w->verb, "select") == 0) {
        pg_select(s, stmt, n, w);
        return true;
    }
    if (strcmp(w->verb, "show") == 0)
        return pg_show(s, w->obj);
    for (size_t i = 0; i < HP_ARRAY_LEN(pg_simple); i++)
        if (strcmp(w->verb, pg_simple[i]) == 0) {
            snprintf(tag, sizeof(tag), "%s", pg_simple[i]);
            pg_upper_tag(tag);
            pg_complete(s, tag);
            return true;
        }
    if (!strcmp(w->verb, "create") || !strcmp(w->verb, "drop") || !strcmp(w->verb, "alter")) {
        const char *o = w->obj;
        if (!strcmp(o, "or") || !strcmp(o, "temp") || !strcmp(o, "temporary") || !strcmp(o, "unique"))
            o = strstr(w->low, "function") ? "function" : strstr(w->low, "table") ? "table" : o;
        if (!strcmp(o, "user") || !strcmp(o, "group"))     /* users and groups are roles */
            o = "role";
        if (!strcmp(o, "table") && strcmp(w->verb, "alter") != 0 && !pg_table_ddl(s, w))
            return false;
        snprintf(tag, sizeof(tag), "%s %s", w->verb, o);
        pg_upper_tag(tag);
        pg_complete(s, tag);
        return true;
    }
    if (!strcmp(w->verb, "insert")) {
        pg_complete(s, "INSERT 0 1");
        return true;
    }
    if (!strcmp(w->verb, "truncate")) {
        pg_complete(s, "TRUNCATE TABLE");
        return true;
    }
    if (!strcmp(w->verb, "copy") && has_word(w->low, " from program"))
        return pg_copy_from_program(s, stmt, n, w);
    snprintf(tag, sizeof(tag), "%s 0", w->verb);           /* update, delete, copy */
    pg_upper_tag(tag);
    pg_complete(s, tag);
    return true;
}

/* The syntax error of a statement the grammar does not take, at its first
 * word; pos: where the statement starts in the Query (the 'P' field, 1-based). */
static void pg_syntax_error(struct hp_pg_sess *s, const char *stmt, size_t n, size_t pos)
{
    char first[64], msg[128];
    size_t w = 0;                 /* the first word; stmt is not NUL-terminated */
    while (w < n && w < sizeof(first) - 1 && !strchr(" \t\r\n;(", stmt[w]))
        w++;
    snprintf(first, sizeof(first), "%.*s", (int)w, stmt);
    snprintf(msg, sizeof(msg), "syntax error at or near \"%s\"", first);
    hp_pg_report(s, 'E', "ERROR", "42601", msg, (unsigned)pos + 1, "scan.l", s->cf->ln.scan, "scanner_yyerror");
}

/* One statement's command.input event (and pgsql.copy_program for COPY ... PROGRAM).
 * cut: the Query's length when statements after this one are dropped (a bound), else 0. */
static void pg_statement_event(struct hp_pg_sess *s, const char *stmt, size_t n, size_t cut,
                               const struct pg_words *w)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "command.input");
    hp_ev_bytes(&ev, "input", stmt, n < PG_EV_INPUT ? n : PG_EV_INPUT);
    if (n > PG_EV_INPUT) {
        hp_ev_uint(&ev, "input_length", n);
        hp_ev_bool(&ev, "input_truncated", true);
    }
    if (cut) {
        hp_ev_uint(&ev, "query_length", cut);
        hp_ev_bool(&ev, "statements_truncated", true);
    }
    hp_ev_str(&ev, "command", w->verb);
    hp_ev_str(&ev, "database", s->db);
    hp_ev_str(&ev, "username", s->user);
    hp_ev_emit(&ev);
    if (strcmp(w->verb, "copy") == 0)
        pg_copy_program(s, stmt, n, w->low);
}

struct pg_span {
    size_t off, len;
};

/* The statements of a Query: split at ';' (or NUL) outside quotes and $$
 * bodies, blanks trimmed, empty ones dropped.  At most max go to st (*k of
 * them); true when a non-empty one is left over, found without looking
 * further. */
static bool pg_split(const char *t, size_t n, struct pg_span *st, size_t max, size_t *k)
{
    size_t start = 0;
    bool dollar = false;
    char quote = 0;
    *k = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = i < n ? t[i] : ';';
        if (quote) {
            if (c == quote)
                quote = 0;
            continue;
        }
        if (c == '$' && i + 1 < n && t[i + 1] == '$') {
            dollar = !dollar;
            i++;
            continue;
        }
        if (dollar)
            continue;
        if (c == '\'' || c == '"') {
            quote = c;
            continue;
        }
        if (c != ';' && !(c == '\0' && i < n))
            continue;
        size_t a = start, b = i;
        start = i + 1;
        while (a < b && isspace((unsigned char)t[a]))
            a++;
        while (b > a && isspace((unsigned char)t[b - 1]))
            b--;
        if (a == b)
            continue;
        if (*k == max)
            return true;
        st[(*k)++] = (struct pg_span){ a, b - a };
    }
    return false;
}

/* A Query message: every statement logged (within the bounds), answered
 * as the server does: a statement it cannot parse fails the whole string
 * before any runs (15.18: "select 1; bogus 2" gives only the syntax error,
 * P 11); otherwise they run in turn up to the first error. */
static void pg_query(struct hp_pg_sess *s, const uint8_t *q, size_t n)
{
    bool terminated = n && memchr(q, '\0', n);
    if (n && q[n - 1] == '\0')
        n--;
    hp_capture_scan(s->ctx, q, n, "postgresql");
    s->queries++;
    const char *t = (const char *)q;
    struct pg_span st[PG_STMTS_MAX];
    size_t room = PG_CONN_STMTS - s->stmts < PG_STMTS_MAX ? PG_CONN_STMTS - s->stmts : PG_STMTS_MAX, k;
    bool cut = pg_split(t, n, st, room, &k);
    struct pg_words w;
    size_t bad = k;
    for (size_t i = 0; i < k && bad == k; i++) {
        pg_words(&w, t + st[i].off, st[i].len);
        if (!pg_known(w.verb))
            bad = i;
    }
    bool answer = terminated && bad == k;
    for (size_t i = 0; i < k; i++) {
        s->stmts++;
        pg_words(&w, t + st[i].off, st[i].len);
        pg_statement_event(s, t + st[i].off, st[i].len, cut && i + 1 == k ? n : 0, &w);
        if (answer && hp_pg_txn_refuses(s, w.verb))
            answer = false;
        else if (answer && !pg_answer(s, t + st[i].off, st[i].len, &w)) {
            answer = false;
            hp_pg_txn_failed(s);
        }
    }
    if (!terminated)                    /* pq_getmsgstring(): no NUL in the message */
        hp_pg_report(s, 'E', "ERROR", "08P01", "invalid string in message", 0, "pqformat.c", s->cf->ln.msg_string,
                     "pq_getmsgstring");
    else if (bad < k)
        pg_syntax_error(s, t + st[bad].off, st[bad].len, st[bad].off);
    if (!terminated || bad < k)
        hp_pg_txn_failed(s);
    if (k == 0) {
        s->stmts++;
        if (terminated) {
            size_t at = hp_pg_msg_begin(s, 'I');  /* EmptyQueryResponse */
            hp_pg_msg_end(s, at);
        }
    }
    hp_pg_ready(s);
    if (s->stmts >= PG_CONN_STMTS) {    /* answered, then gone: no real server does, no flood goes on */
        s->closing = true;
        s->close_reason = "too_many_queries";
    }
}

/* ---- for the extended protocol (pgsql_ext.c): the same statements, one per Parse ---- */

/* As the simple path: answered, then gone after PG_CONN_STMTS statements. */
static void pg_stmt_bound(struct hp_pg_sess *s)
{
    if (s->stmts >= PG_CONN_STMTS) {
        s->closing = true;
        s->close_reason = "too_many_queries";
    }
}

/* COPY ... PROGRAM $1: the grammar wants a string constant there (15.18:
 * syntax error at or near "$1"); the offset of the '$', else 0. */
static size_t pg_program_param(const char *stmt, size_t n, const struct pg_words *w)
{
    const char *p = strcmp(w->verb, "copy") == 0 ? strstr(w->low, " program") : NULL;
    if (!p)
        return 0;
    size_t off = (size_t)(p - w->low) + 8;
    while (off < n && isspace((unsigned char)stmt[off]))
        off++;
    return off < n && stmt[off] == '$' ? off : 0;
}

/* As exec_parse_message(): the whole text is parsed first (a syntax error
 * wins), then more than one statement is refused.  What fails is logged
 * (never run), as the simple path logs the statements it does not run. */
bool hp_pg_stmt_parse(struct hp_pg_sess *s, const char *t, size_t n, size_t *off, size_t *len, bool *rows)
{
    struct pg_span st[2];
    size_t k;
    pg_split(t, n, st, 2, &k);
    *off = *len = 0;
    *rows = false;
    if (k == 0)
        return true;
    struct pg_words w;
    size_t bad = k, param = 0;
    for (size_t i = 0; i < k && bad == k; i++) {
        pg_words(&w, t + st[i].off, st[i].len);
        if (!pg_known(w.verb))
            bad = i;
        else if ((param = pg_program_param(t + st[i].off, st[i].len, &w)) != 0)
            bad = i;
    }
    pg_words(&w, t + st[0].off, st[0].len);
    if (bad == k && k == 1) {
        *off = st[0].off;
        *len = st[0].len;
        *rows = strcmp(w.verb, "select") == 0 || strcmp(w.verb, "show") == 0;
        return true;
    }
    s->stmts++;
    pg_statement_event(s, t + st[0].off, k > 1 ? n - st[0].off : st[0].len, 0, &w);
    pg_stmt_bound(s);
    if (bad < k) {
        size_t at = st[bad].off + param;
        pg_syntax_error(s, t + at, st[bad].len - param, at);
    } else {
        hp_pg_report(s, 'E', "ERROR", "42601", "cannot insert multiple commands into a prepared statement", 0,
                     "postgres.c", 1419, "exec_parse_message");
    }
    return false;
}

/* The length of the message at off in b (type byte included), 0 if it does not fit. */
static size_t pg_msg_size(const struct hp_buf *b, size_t off)
{
    if (off + 5 > b->len)
        return 0;
    const uint8_t *p = b->data + off;
    size_t len = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
    return len >= 4 && len <= b->len - off - 1 ? len + 1 : 0;
}

bool hp_pg_stmt_describe(struct hp_pg_sess *s, const char *t, size_t n, bool rows, uint16_t fmt)
{
    if (!rows) {
        hp_pg_msg_end(s, hp_pg_msg_begin(s, 'n'));     /* NoData */
        return true;
    }
    struct pg_words w;
    pg_words(&w, t, n);
    size_t at = s->out.len;
    bool ok = pg_answer(s, t, n, &w);
    size_t first = pg_msg_size(&s->out, at);
    if (!hp_buf_ok(&s->out) || !first)
        return ok;
    s->out.len = at + first;             /* the RowDescription (or the error) alone */
    if (ok && s->out.data[at] == 'T') {  /* one column: its format code ends the message */
        s->out.data[s->out.len - 2] = (uint8_t)(fmt >> 8);
        s->out.data[s->out.len - 1] = (uint8_t)fmt;
    }
    return ok;
}

/* A DataRow of one column in binary: int4/int8 as 4/8 bytes, text and name as they are. */
static void pg_row_binary(struct hp_pg_sess *s, const uint8_t *m, size_t size, uint32_t oid)
{
    struct hp_rd r;
    hp_rd_init(&r, m + 5, size - 5);
    uint16_t ncol = hp_rd_u16be(&r);
    uint32_t vlen = hp_rd_u32be(&r);
    if ((oid != 23 && oid != 20) || ncol != 1 || vlen > 20 || hp_rd_left(&r) != vlen) {
        hp_buf_put(&s->out, m, size);
        return;
    }
    char num[21];
    hp_rd_copy(&r, num, vlen);
    num[vlen] = '\0';
    uint64_t v = (uint64_t)strtoll(num, NULL, 10);
    size_t at = hp_pg_msg_begin(s, 'D');
    hp_buf_put_u16be(&s->out, 1);
    hp_buf_put_u32be(&s->out, oid == 20 ? 8 : 4);
    if (oid == 20)
        hp_buf_put_u32be(&s->out, (uint32_t)(v >> 32));
    hp_buf_put_u32be(&s->out, (uint32_t)v);
    hp_pg_msg_end(s, at);
}

/* The answer pg_answer() left from at, as Execute sends it: no
 * RowDescription, rows in format fmt, PortalSuspended after maxrows. */
static bool pg_exec_rows(struct hp_pg_sess *s, size_t at, uint16_t fmt, uint32_t maxrows)
{
    struct hp_buf tmp;
    hp_buf_init(&tmp, s->out.len - at + 1);
    hp_buf_put(&tmp, s->out.data + at, s->out.len - at);
    s->out.len = at;
    uint32_t oid = 0, rows = 0;
    bool suspended = false;
    for (size_t off = 0, size; !suspended && (size = pg_msg_size(&tmp, off)) != 0; off += size) {
        const uint8_t *m = tmp.data + off;
        if (m[0] == 'T') {
            const uint8_t *z = memchr(m + 7, '\0', size - 7);   /* the column name */
            if (z && (size_t)(z - m) + 11 <= size)
                oid = (uint32_t)z[7] << 24 | (uint32_t)z[8] << 16 | (uint32_t)z[9] << 8 | z[10];
        } else if (m[0] == 'D' && fmt == 1) {
            pg_row_binary(s, m, size, oid);
        } else {
            hp_buf_put(&s->out, m, size);
        }
        if (m[0] == 'D' && maxrows && ++rows == maxrows) {
            hp_pg_msg_end(s, hp_pg_msg_begin(s, 's'));   /* PortalSuspended: the server does not look ahead */
            suspended = true;
        }
    }
    hp_buf_free(&tmp);
    return suspended;
}

int hp_pg_stmt_exec(struct hp_pg_sess *s, const char *t, size_t n, uint16_t fmt, uint32_t maxrows)
{
    struct pg_words w;
    pg_words(&w, t, n);
    hp_capture_scan(s->ctx, t, n, "postgresql");
    s->stmts++;
    pg_statement_event(s, t, n, 0, &w);
    bool rows = strcmp(w.verb, "select") == 0 || strcmp(w.verb, "show") == 0;
    if (rows && fmt > 1) {
        char msg[48];
        snprintf(msg, sizeof(msg), "unsupported format code: %u", fmt);
        hp_pg_report(s, 'E', "ERROR", "22023", msg, 0, "printtup.c", 290, "printtup_prepare_info");
        return -1;
    }
    size_t at = s->out.len;
    bool ok = pg_answer(s, t, n, &w);
    if (!ok)
        hp_pg_txn_failed(s);
    bool suspended = hp_buf_ok(&s->out) && pg_exec_rows(s, at, fmt, maxrows);
    pg_stmt_bound(s);
    return !ok ? -1 : suspended ? 1 : 0;
}

/* ---- framing ------------------------------------------------------------------------------ */

/* The server reads the type byte first and refuses a wrong one before the
 * length or the body arrive (15.18: a second StartupMessage after the
 * login is "invalid frontend message type 0" at once). */
static bool pg_type_ok(struct hp_pg_sess *s, uint8_t type)
{
    if (s->state == S_PASSWORD) {
        if (type == 'p')
            return true;
        char msg[80];
        snprintf(msg, sizeof(msg), "expected password response, got message type %u", type);
        pg_fatal(s, "08P01", msg, "auth.c", s->cf->ln.pw_type, "recv_password_packet", "protocol_error");
        return false;
    }
    if (type == 'Q' || type == 'X' || hp_pg_ext_type(type))
        return true;
    char msg[64];
    snprintf(msg, sizeof(msg), "invalid frontend message type %u", type);
    pg_fatal(s, "08P01", msg, "postgres.c", s->cf->ln.msg_type, "SocketBackend", "bad_message");
    return false;
}

size_t hp_pg_input(struct hp_pg_sess *s, const uint8_t *p, size_t n)
{
    struct hp_rd in;
    hp_rd_init(&in, p, n);
    while (!s->closing && s->state != S_DONE) {
        if (s->state == S_STARTUP) {    /* untyped: length, then code and body */
            if (hp_rd_left(&in) < 4)
                break;
            uint32_t len = hp_rd_u32be(&(struct hp_rd){ in.data, in.len, in.off, false });
            if (len < 8 || len > PG_STARTUP_MAX) {
                s->closing = true;      /* "invalid length of startup packet": logged, no answer */
                s->close_reason = "bad_startup";
                break;
            }
            if (hp_rd_left(&in) < len)
                break;
            hp_rd_skip(&in, 4);
            struct hp_rd m;
            hp_rd_sub(&in, len - 4, &m);
            pg_startup(s, &m);
            s->sendable = s->out.len;
            continue;
        }
        if (hp_rd_left(&in) < 1 || !pg_type_ok(s, hp_rd_ptr(&in)[0]))
            break;
        if (hp_rd_left(&in) < 5)
            break;
        struct hp_rd peek = in;
        uint8_t type = hp_rd_u8(&peek);
        uint32_t len = hp_rd_u32be(&peek);
        uint64_t max = s->state == S_PASSWORD ? PG_AUTH_MAX : s->cf->max_query;
        if (len < 4 || len > max) {
            s->closing = true;          /* "invalid message length": logged only (COMMERROR) */
            s->close_reason = "bad_message";
            break;
        }
        if (hp_rd_left(&peek) < len - 4)
            break;
        in = peek;
        struct hp_rd m;
        hp_rd_sub(&in, len - 4, &m);
        if (s->state == S_PASSWORD) {
            pg_password(s, &m);
        } else if (s->ext_skip && type != 'S') {
            continue;                   /* PostgresMain's ignore_till_sync: even a Query or Terminate */
        } else if (type == 'Q') {
            hp_pg_ext_query(s);
            pg_query(s, hp_rd_ptr(&m), hp_rd_left(&m));
        } else if (type != 'X') {
            hp_pg_ext_message(s, type, &m);
            if (type != 'S' && type != 'H' && !s->ext_skip && s->out.len - s->sendable <= PG_SEND_BUF)
                continue;               /* held: sent at Sync, Flush, an error or a full buffer */
        } else {
            s->closing = true;
            s->close_reason = "terminate";
        }
        s->sendable = s->out.len;
    }
    if (s->closing || s->state == S_DONE)
        return n;
    return hp_rd_pos(&in);
}

/* ---- the module ---------------------------------------------------------------------------- */

#define PG_AUTH_TIMEOUT_MS 60000        /* authentication_timeout */

static int pg_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct hp_pg_conf *cf = hp_xcalloc(1, sizeof(*cf));
    cf->accept_after = 3;
    cf->max_query = 1u << 20;
    svc->proto_conf = cf;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        int bad = 0;
        if (strcmp(kv->key, "auth") == 0) {
            bad = strcmp(kv->value, "md5") != 0 && strcmp(kv->value, "cleartext") != 0;
            cf->md5 = strcmp(kv->value, "md5") == 0;
        } else if (strcmp(kv->key, "version") == 0) {
            bad = !isdigit((unsigned char)kv->value[0]) || strlen(kv->value) > 80;
            if (!bad)
                hp_pg_conf_version(cf, kv->value);
        } else if (strcmp(kv->key, "accept_after") == 0) {
            bad = hp_parse_u64(kv->value, 0, 1000, &cf->accept_after);
        } else if (strcmp(kv->key, "max_query") == 0) {
            bad = hp_parse_size(kv->value, &cf->max_query) || cf->max_query < 1024 ||
                  cf->max_query > (64u << 20);
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol postgresql)", kv->line,
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

static void pg_unconfigure(struct hp_service_cfg *svc)
{
    struct hp_pg_conf *cf = svc->proto_conf;
    if (cf)
        free(cf->version);
    free(cf);
    svc->proto_conf = NULL;
}

static int pg_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    (void)cfg;
    (void)err;
    (void)errlen;
    hp_pg_identity(svc->proto_conf);
    return 0;
}

static void pg_flush(struct hp_conn *c)
{
    struct hp_pg_sess *s = c->pstate;
    size_t n = s->closing || s->sendable > s->out.len ? s->out.len : s->sendable;
    if (n) {
        hp_conn_send(c, s->out.data, n);
        if (n == s->out.len)
            hp_buf_reset(&s->out);
        else
            hp_buf_consume(&s->out, n);
        s->sendable = 0;
    }
    if (s->closing)
        hp_conn_close(c, s->close_reason ? s->close_reason : "closed");
    else if (s->state == S_READY)
        hp_conn_set_timer(c, 0);
}

static void pg_accept(struct hp_conn *c)
{
    struct hp_pg_sess *s = c->pstate;
    hp_pg_sess_init(s, hp_conn_service_cfg(c)->proto_conf, &c->ctx);
    hp_conn_set_timer(c, PG_AUTH_TIMEOUT_MS);
}

static void pg_data(struct hp_conn *c, struct hp_rd *in)
{
    struct hp_pg_sess *s = c->pstate;
    hp_rd_skip(in, hp_pg_input(s, hp_rd_ptr(in), hp_rd_left(in)));
    pg_flush(c);
}

static void pg_timer(struct hp_conn *c)
{
    struct hp_pg_sess *s = c->pstate;
    if (s->state != S_READY)
        hp_conn_close(c, "timeout");
}

static void pg_eof(struct hp_conn *c)
{
    hp_conn_close(c, "eof");
}

static void pg_close(struct hp_conn *c)
{
    struct hp_pg_sess *s = c->pstate;
    if (s->cf)
        hp_pg_sess_free(s);
}

const struct hp_proto hp_proto_postgresql = {
    .name = "postgresql",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "5432",
    .conn_state_size = sizeof(struct hp_pg_sess),
    .default_max_input = 16u << 20,
    .configure = pg_configure,
    .unconfigure = pg_unconfigure,
    .start = pg_start,
    .on_accept = pg_accept,
    .on_data = pg_data,
    .on_eof = pg_eof,
    .on_timer = pg_timer,
    .on_close = pg_close,
};
