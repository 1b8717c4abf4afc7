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
 * statement go to the capture pipeline; anything else gets a syntax error.
 * The extended protocol (Parse/Bind) is refused with a FATAL 08P01.
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
#include "proto.h"
#include "reader.h"
#include "util.h"

enum { S_STARTUP, S_PASSWORD, S_READY, S_DONE };

#define PG_SSL_CODE    80877103u
#define PG_GSS_CODE    80877104u
#define PG_CANCEL_CODE 80877102u
#define PG_STARTUP_MAX 10000          /* MAX_STARTUP_PACKET_LENGTH */
#define PG_PASSWORD_MAX 1000
#define PG_STMTS_MAX   64             /* answered per Query message, as mysql.c's multi-statements */
#define PG_CONN_STMTS  1000           /* per connection, as mssql.c's batches; then it is closed */
#define PG_EV_INPUT    65536          /* statement text kept in its command.input event */

/* ---- identity ------------------------------------------------------------------------ */

struct pg_release {
    const char *version;
    unsigned pm_line, auth_line;
};

/* Lines of postmaster.c's ProcessStartupPacket error as nmap's probes know them. */
static const struct pg_release pg_releases[] = {
    { "10.22 (Ubuntu 10.22-0ubuntu0.18.04.1)", 2099, 333 },
    { "11.17 (Debian 11.17-0+deb10u1)", 2050, 333 },
    { "12.12 (Ubuntu 12.12-0ubuntu0.20.04.1)", 2119, 333 },
    { "12.11 (Debian 12.11-1.pgdg110+1)", 2119, 333 },
    { "13.8 (Debian 13.8-0+deb11u1)", 2133, 335 },
    { "13.7 (Debian 13.7-1.pgdg110+1)", 2133, 335 },
    { "14.5 (Ubuntu 14.5-0ubuntu0.22.04.1)", 2138, 335 },
    { "14.4 (Debian 14.4-1.pgdg110+1)", 2138, 335 },
    { "15.1 (Debian 15.1-1.pgdg110+1)", 2194, 326 },
};

void hp_pg_conf_version(struct hp_pg_conf *cf, const char *version)
{
    free(cf->version);
    cf->version = hp_xstrdup(version);
    cf->major = (unsigned)strtoul(version, NULL, 10);
    cf->pm_line = 2138;
    cf->auth_line = 335;
    for (size_t i = 0; i < HP_ARRAY_LEN(pg_releases); i++)
        if ((unsigned)strtoul(pg_releases[i].version, NULL, 10) == cf->major) {
            cf->pm_line = pg_releases[i].pm_line;
            cf->auth_line = pg_releases[i].auth_line;
            break;
        }
}

void hp_pg_identity(struct hp_pg_conf *cf)
{
    if (cf->version)
        return;
    const char *v = hp_identity_get("postgresql_version");
    if (!v || !*v || strlen(v) > 80) {
        v = pg_releases[hp_random_u64() % HP_ARRAY_LEN(pg_releases)].version;
        hp_identity_set("postgresql_version", v);
    }
    hp_pg_conf_version(cf, v);
}

/* ---- messages ----------------------------------------------------------------------- */

/* Start a typed message; its length is patched by msg_end. */
static size_t msg_begin(struct hp_pg_sess *s, char type)
{
    hp_buf_putc(&s->out, (uint8_t)type);
    size_t at = s->out.len;
    hp_buf_put_u32be(&s->out, 0);
    return at;
}

static void msg_end(struct hp_pg_sess *s, size_t at)
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

/* ErrorResponse with the fields a real server sends. */
static void pg_error(struct hp_pg_sess *s, const char *sev, const char *code, const char *msg,
                     const char *file, unsigned line, const char *routine)
{
    size_t at = msg_begin(s, 'E');
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
    char ln[16];
    snprintf(ln, sizeof(ln), "%u", line);
    hp_buf_putc(&s->out, 'F');
    put_cstr(&s->out, file);
    hp_buf_putc(&s->out, 'L');
    put_cstr(&s->out, ln);
    hp_buf_putc(&s->out, 'R');
    put_cstr(&s->out, routine);
    hp_buf_putc(&s->out, 0);
    msg_end(s, at);
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
    size_t at = msg_begin(s, 'S');
    put_cstr(&s->out, k);
    put_cstr(&s->out, v);
    msg_end(s, at);
}

static void pg_ready(struct hp_pg_sess *s)
{
    size_t at = msg_begin(s, 'Z');
    hp_buf_putc(&s->out, 'I');
    msg_end(s, at);
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
}

void hp_pg_sess_free(struct hp_pg_sess *s)
{
    hp_buf_free(&s->out);
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

static void pg_unsupported(struct hp_pg_sess *s, uint32_t code)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "unsupported frontend protocol %u.%u: server supports %s to 3.0",
             code >> 16, code & 0xffff, s->cf->major >= 14 ? "3.0" : "2.0");
    pg_fatal(s, "0A000", msg, "postmaster.c", s->cf->pm_line, "ProcessStartupPacket", "bad_protocol");
}

static void pg_ask_password(struct hp_pg_sess *s)
{
    size_t at = msg_begin(s, 'R');
    if (s->cf->md5) {
        hp_buf_put_u32be(&s->out, 5);
        hp_buf_put(&s->out, s->salt, 4);
    } else {
        hp_buf_put_u32be(&s->out, 3);
    }
    msg_end(s, at);
    s->state = S_PASSWORD;
}

/* StartupMessage parameters: name/value C strings up to an empty name. */
static bool pg_params(struct hp_pg_sess *s, struct hp_rd *r)
{
    size_t unknown = 0;
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
        if (kl > 5 && memcmp(k, "_pq_.", 5) == 0)
            unknown++;
        if (s->params_len + kl + vl + 2 <= HP_PG_PARAMS_MAX) {   /* all of them, for the event */
            memcpy(s->params + s->params_len, k, kl + 1);
            s->params_len += kl + 1;
            memcpy(s->params + s->params_len, v, vl + 1);
            s->params_len += vl + 1;
        }
    }
    (void)unknown;
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

static void pg_startup(struct hp_pg_sess *s, struct hp_rd *r)
{
    uint32_t code = hp_rd_u32be(r);
    if (code == PG_SSL_CODE || code == PG_GSS_CODE) {
        if (++s->ssl_requests > 2) {
            s->closing = true;
            s->close_reason = "bad_startup";
            return;
        }
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
    if (!pg_params(s, r)) {
        pg_fatal(s, "08P01", "invalid startup packet layout: expected terminator as last byte",
                 "postmaster.c", s->cf->pm_line + 100, "ProcessStartupPacket", "bad_startup");
        return;
    }
    s->proto_minor = code & 0xffff;
    if (!s->user[0]) {
        pg_fatal(s, "28000", "no PostgreSQL user name specified in startup packet", "postmaster.c",
                 s->cf->pm_line + 160, "ProcessStartupPacket", "bad_startup");
        return;
    }
    if (!s->db[0])
        snprintf(s->db, sizeof(s->db), "%s", s->user);
    if (s->proto_minor > 0) {           /* NegotiateProtocolVersion: we speak 3.0 */
        size_t at = msg_begin(s, 'v');
        hp_buf_put_u32be(&s->out, 3u << 16);
        hp_buf_put_u32be(&s->out, 0);
        msg_end(s, at);
    }
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

static void pg_welcome(struct hp_pg_sess *s)
{
    size_t at = msg_begin(s, 'R');
    hp_buf_put_u32be(&s->out, 0);              /* AuthenticationOk */
    msg_end(s, at);
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
    at = msg_begin(s, 'K');
    hp_buf_put_u32be(&s->out, s->pid);
    hp_buf_put_u32be(&s->out, s->key);
    msg_end(s, at);
    pg_ready(s);
    s->state = S_READY;
}

static void pg_password(struct hp_pg_sess *s, uint8_t type, struct hp_rd *r)
{
    if (type != 'p') {
        char msg[80];
        snprintf(msg, sizeof(msg), "expected password response, got message type %u", type);
        pg_fatal(s, "08P01", msg, "auth.c", s->cf->auth_line + 400, "recv_password_packet", "protocol_error");
        return;
    }
    size_t n = hp_rd_left(r);
    const uint8_t *pw = hp_rd_bytes(r, n);
    if (n && pw[n - 1] == '\0')
        n--;
    if (memchr(pw, '\0', n))           /* the server takes the C string */
        n = (size_t)((const uint8_t *)memchr(pw, '\0', n) - pw);
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
    pg_fatal(s, "28P01", msg, "auth.c", s->cf->auth_line, "auth_failed", "auth_failed");
}

/* ---- after login: simple queries ------------------------------------------------------------ */

static void pg_row_desc(struct hp_pg_sess *s, size_t n, const char *const *names)
{
    size_t at = msg_begin(s, 'T');
    hp_buf_put_u16be(&s->out, (unsigned)n);
    for (size_t i = 0; i < n; i++) {
        put_cstr(&s->out, names[i]);
        hp_buf_put_u32be(&s->out, 0);          /* table oid */
        hp_buf_put_u16be(&s->out, 0);          /* column */
        hp_buf_put_u32be(&s->out, 25);         /* text */
        hp_buf_put_u16be(&s->out, 0xffff);     /* typlen -1 */
        hp_buf_put_u32be(&s->out, 0xffffffffu);
        hp_buf_put_u16be(&s->out, 0);          /* text format */
    }
    msg_end(s, at);
}

static void pg_complete(struct hp_pg_sess *s, const char *tag)
{
    size_t at = msg_begin(s, 'C');
    put_cstr(&s->out, tag);
    msg_end(s, at);
}

static void pg_one_row(struct hp_pg_sess *s, const char *col, const char *val)
{
    pg_row_desc(s, 1, &col);
    size_t at = msg_begin(s, 'D');
    hp_buf_put_u16be(&s->out, 1);
    hp_buf_put_u32be(&s->out, (uint32_t)strlen(val));
    hp_buf_puts(&s->out, val);
    msg_end(s, at);
    pg_complete(s, "SELECT 1");
}

static bool has_word(const char *low, const char *w)
{
    return strstr(low, w) != NULL;
}

static void pg_copy_program(struct hp_pg_sess *s, const char *stmt, size_t n, const char *low)
{
    const char *p = strstr(low, "program");
    if (!p)
        return;
    size_t off = (size_t)(p - low) + 7;
    while (off < n && stmt[off] == ' ')
        off++;
    size_t end = off;
    if (off < n && (stmt[off] == '\'' || stmt[off] == '"')) {
        end = off + 1;
        while (end < n && !(stmt[end] == stmt[off] && !(end + 1 < n && stmt[end + 1] == stmt[off])))
            end += (stmt[end] == stmt[off]) ? 2 : 1;
        off++;
    }
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "pgsql.copy_program");
    hp_ev_bytes(&ev, "program", stmt + off, end > off && end <= n ? end - off : 0);
    hp_ev_str(&ev, "direction", has_word(low, " to program") ? "to" : "from");
    hp_ev_strings(&ev, "attack_classes", (const char *[]){ "rce" }, 1);
    hp_ev_strings(&ev, "cves", (const char *[]){ "CVE-2019-9193" }, 1);
    hp_ev_emit(&ev);
}

/* One statement (not empty); false after an error (the rest of the string is skipped).
 * cut: the Query's length when statements after this one are dropped (a bound), else 0. */
static bool pg_statement(struct hp_pg_sess *s, const char *stmt, size_t n, size_t cut)
{
    char low[512], verb[32] = "", obj[32] = "";
    size_t k = n < sizeof(low) - 1 ? n : sizeof(low) - 1;
    for (size_t i = 0; i < k; i++)
        low[i] = isspace((unsigned char)stmt[i]) ? ' ' : (char)tolower((unsigned char)stmt[i]);
    low[k] = '\0';
    sscanf(low, "%31[a-z_] %31[a-z_]", verb, obj);
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
    hp_ev_str(&ev, "command", verb);
    hp_ev_str(&ev, "database", s->db);
    hp_ev_str(&ev, "username", s->user);
    hp_ev_emit(&ev);
    char tag[80], tmp[256];
    if (strcmp(verb, "select") == 0) {
        if (has_word(low, "version()")) {
            const char *cc = strstr(s->cf->version, "Ubuntu") ? "gcc (Ubuntu 9.4.0-1ubuntu1~20.04.1) 9.4.0"
                                                                : "gcc (Debian 10.2.1-6) 10.2.1 20210110";
            snprintf(tmp, sizeof(tmp), "PostgreSQL %s on x86_64-pc-linux-gnu, compiled by %s, 64-bit",
                     s->cf->version, cc);
            pg_one_row(s, "version", tmp);
        } else if (has_word(low, "current_database()")) {
            pg_one_row(s, "current_database", s->db);
        } else if (has_word(low, " from ")) {
            const char *cols[1] = { "cmd_output" };  /* the table a COPY ... PROGRAM filled */
            pg_row_desc(s, 1, cols);
            pg_complete(s, "SELECT 0");
        } else if (has_word(low, "current_user") || has_word(low, "session_user") || has_word(low, " user")) {
            pg_one_row(s, "current_user", s->user);
        } else {
            const char *v = stmt + 6;
            while (v < stmt + n && *v == ' ')
                v++;
            snprintf(tmp, sizeof(tmp), "%.*s", (int)(stmt + n - v), v);
            pg_one_row(s, "?column?", tmp);
        }
        return true;
    }
    if (strcmp(verb, "show") == 0) {
        if (strcmp(obj, "server_version") == 0) {
            pg_one_row(s, "server_version", s->cf->version);
            return true;
        }
        snprintf(tmp, sizeof(tmp), "unrecognized configuration parameter \"%s\"", obj);
        pg_error(s, "ERROR", "42704", tmp, "guc.c", 5228, "GetConfigOptionByName");
        return false;
    }
    static const char *const simple[] = { "set", "begin", "commit", "rollback", "grant", "revoke", "reset",
                                          "discard", "listen", "notify", "vacuum", "analyze", "checkpoint" };
    for (size_t i = 0; i < HP_ARRAY_LEN(simple); i++)
        if (strcmp(verb, simple[i]) == 0) {
            snprintf(tag, sizeof(tag), "%s", simple[i]);
            for (char *p = tag; *p; p++)
                *p = (char)toupper((unsigned char)*p);
            pg_complete(s, tag);
            return true;
        }
    if (!strcmp(verb, "create") || !strcmp(verb, "drop") || !strcmp(verb, "alter")) {
        const char *o = obj;
        if (!strcmp(obj, "or") || !strcmp(obj, "temp") || !strcmp(obj, "temporary") || !strcmp(obj, "unique"))
            o = strstr(low, "function") ? "function" : strstr(low, "table") ? "table" : obj;
        snprintf(tag, sizeof(tag), "%s %s", verb, o);
        for (char *p = tag; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        pg_complete(s, tag);
        return true;
    }
    if (!strcmp(verb, "insert")) {
        pg_complete(s, "INSERT 0 1");
        return true;
    }
    if (!strcmp(verb, "update") || !strcmp(verb, "delete") || !strcmp(verb, "copy")) {
        if (!strcmp(verb, "copy"))
            pg_copy_program(s, stmt, n, low);
        snprintf(tag, sizeof(tag), "%s 0", verb);
        for (char *p = tag; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        pg_complete(s, tag);
        return true;
    }
    if (!strcmp(verb, "truncate")) {
        pg_complete(s, "TRUNCATE TABLE");
        return true;
    }
    char first[64];
    size_t w = 0;                 /* the first word; stmt is not NUL-terminated */
    while (w < n && w < sizeof(first) - 1 && !strchr(" \t\r\n;(", stmt[w]))
        w++;
    snprintf(first, sizeof(first), "%.*s", (int)w, stmt);
    snprintf(tmp, sizeof(tmp), "syntax error at or near \"%s\"", first);
    pg_error(s, "ERROR", "42601", tmp, "scan.l", 1176, "scanner_yyerror");
    return false;
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

/* A Query message: its statements answered in turn, within the bounds. */
static void pg_query(struct hp_pg_sess *s, const uint8_t *q, size_t n)
{
    if (n && q[n - 1] == '\0')
        n--;
    hp_capture_scan(s->ctx, q, n, "postgresql");
    s->queries++;
    const char *t = (const char *)q;
    struct pg_span st[PG_STMTS_MAX];
    size_t room = PG_CONN_STMTS - s->stmts < PG_STMTS_MAX ? PG_CONN_STMTS - s->stmts : PG_STMTS_MAX, k;
    bool cut = pg_split(t, n, st, room, &k);
    for (size_t i = 0; i < k; i++) {
        s->stmts++;
        if (!pg_statement(s, t + st[i].off, st[i].len, cut && i + 1 == k ? n : 0))
            break;
    }
    if (k == 0) {
        s->stmts++;
        size_t at = msg_begin(s, 'I');  /* EmptyQueryResponse */
        msg_end(s, at);
    }
    pg_ready(s);
    if (s->stmts >= PG_CONN_STMTS) {    /* answered, then gone: no real server does, no flood goes on */
        s->closing = true;
        s->close_reason = "too_many_queries";
    }
}

/* ---- framing ------------------------------------------------------------------------------ */

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
            continue;
        }
        if (hp_rd_left(&in) < 5)
            break;
        struct hp_rd peek = in;
        uint8_t type = hp_rd_u8(&peek);
        uint32_t len = hp_rd_u32be(&peek);
        uint64_t max = s->state == S_PASSWORD ? PG_PASSWORD_MAX + 4 : s->cf->max_query;
        if (len < 4 || len > max) {
            pg_fatal(s, "08P01", "invalid message length", "pqcomm.c", 1532, "pq_getmessage", "bad_message");
            break;
        }
        if (hp_rd_left(&peek) < len - 4)
            break;
        in = peek;
        struct hp_rd m;
        hp_rd_sub(&in, len - 4, &m);
        if (s->state == S_PASSWORD) {
            pg_password(s, type, &m);
        } else if (type == 'Q') {
            pg_query(s, hp_rd_ptr(&m), hp_rd_left(&m));
        } else if (type == 'X') {
            s->closing = true;
            s->close_reason = "terminate";
        } else {
            char msg[64];
            snprintf(msg, sizeof(msg), "invalid frontend message type %u", type);
            pg_fatal(s, "08P01", msg, "postgres.c", 4620, "PostgresMain", "bad_message");
        }
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
    if (s->out.len) {
        hp_conn_send(c, s->out.data, s->out.len);
        hp_buf_reset(&s->out);
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
