/*
 * mssql.c - protocol module "mssql": Microsoft SQL Server's TDS on 1433.
 *
 * A connection goes through the phases a real client drives:
 *
 *   PRELOGIN (0x12)  -> our PRELOGIN answer: the per-sensor SQL Server
 *                       version (identity key "mssql_version") and
 *                       ENCRYPT_NOT_SUP, so the LOGIN7 that follows comes in
 *                       clear.  A client that insists on encryption
 *                       (ENCRYPT_ON/REQ) disconnects by itself then, exactly
 *                       as against a server without a certificate; we log
 *                       what it asked for (mssql.prelogin).
 *   LOGIN7 (0x10)    -> user, de-obfuscated password, host, app, server,
 *                       library, database: one login event per attempt.
 *                       With integrated security the SSPI blob is NTLM:
 *                       NEGOTIATE answered by a CHALLENGE in an SSPI token,
 *                       the AUTHENTICATE (packet 0x11) logged as a hashcat
 *                       line and always refused.
 *   LOGIN (0x02)     -> the TDS 4.2 login record of old tools (hydra).
 *   refused          -> ERROR 18456 "Login failed for user '...'." + DONE
 *   accepted         -> LOGINACK with ENVCHANGEs, like a real server, per
 *                       the service's userdb (default: sa with any
 *                       non-empty password) or accept_after N
 *   SQL batch (0x01) -> command.input; @@version answered, xp_cmdshell
 *                       gets an empty "output" result and its command
 *                       goes to the capture pipeline's URL extractor;
 *                       anything else an empty DONE.
 *
 * TDS messages may span packets (status bit EOM); they are reassembled
 * into a buffer capped at MS_MSG_MAX, and every field is read through the
 * hp_rd reader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "buf.h"
#include "capture/capture.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "identity.h"
#include "login.h"
#include "mssql.h"
#include "ntlm.h"
#include "proto.h"
#include "reader.h"
#include "shell/userdb.h"
#include "util.h"

#define MS_MSG_MAX       (1024 * 1024)   /* one reassembled TDS message */
#define MS_PKT_OUT       4096            /* our packet size */
#define MS_MAX_ATTEMPTS  64              /* logins per connection */
#define MS_MAX_BATCHES   1000
#define MS_SQL_MAX       (64 * 1024)     /* batch text kept in an event */
#define MS_IDLE_MS       (120 * 1000)

enum { TDS_BATCH = 0x01, TDS_LOGIN42 = 0x02, TDS_RPC = 0x03, TDS_REPLY = 0x04, TDS_ATTN = 0x06,
       TDS_LOGIN7 = 0x10, TDS_SSPI = 0x11, TDS_PRELOGIN = 0x12 };

enum { ST_START, ST_SSPI, ST_READY };

struct ms_conf {
    char *userdb_path;
    struct hp_userdb *userdb;
    uint64_t accept_after;
    char *version;                 /* "15.0.4298.1"; NULL: the sensor identity's */
};

struct ms_conn {
    struct hp_buf msg;             /* message being reassembled */
    uint8_t msg_type;
    int state;
    bool closing;
    uint8_t pkt_id;
    uint32_t tds_version;
    unsigned attempts, batches;
    uint8_t chal[8];               /* NTLM server challenge sent */
    struct hp_mssql_login *pending;   /* the LOGIN7 of an SSPI exchange */
    char database[HP_MSSQL_STR_MAX];
};

/* Real builds: version, product year, update label, KB, build date. */
struct ms_version {
    const char *ver;
    const char *year;
    const char *label;
    const char *date;
};

static const struct ms_version ms_versions[] = {
    { "11.0.7001.0", "2012", "SP4", "Oct 20 2017 17:58:43" },
    { "11.0.7507.2", "2012", "SP4-GDR) (KB4583465", "Nov  1 2020 00:48:37" },
    { "13.0.5026.0", "2016", "SP2", "Mar 18 2018 09:11:49" },
    { "13.0.6300.2", "2016", "SP3", "Aug  7 2021 01:20:37" },
    { "13.0.6435.1", "2016", "SP3-GDR) (KB5021129", "Jan 10 2023 18:59:32" },
    { "14.0.1000.169", "2017", "RTM", "Aug 22 2017 17:04:49" },
    { "14.0.3456.2", "2017", "RTM-CU31) (KB5016884", "Sep  2 2022 11:01:50" },
    { "15.0.2000.5", "2019", "RTM", "Sep 24 2019 13:48:23" },
    { "15.0.4298.1", "2019", "RTM-CU19) (KB5023049", "Jan 27 2023 16:44:09" },
    { "15.0.4355.3", "2019", "RTM-CU22) (KB5027702", "Jan 27 2024 16:44:09" },
};

static const char ms_default_users[] =
    "# mssql built-in rules: sa with any sane password\n"
    "sa:x:!/^$/\n"
    "sa:x:!/honeypot|cowrie|kippo|hanipo/i\n"
    "sa:x:!/[\\x00-\\x1f\\x7f]/\n"
    "sa:x:*\n";

/* ---- parsers (exported for tests and fuzzing) -------------------------------------- */

int hp_mssql_parse_prelogin(const uint8_t *p, size_t n, struct hp_mssql_prelogin *out)
{
    struct hp_rd r;
    memset(out, 0, sizeof(*out));
    out->encryption = -1;
    hp_rd_init(&r, p, n);
    for (unsigned i = 0; i < 32; i++) {
        uint8_t tok = hp_rd_u8(&r);
        if (!hp_rd_ok(&r))
            return -1;
        if (tok == 0xff)
            return 0;
        uint16_t off = hp_rd_u16be(&r), len = hp_rd_u16be(&r);
        struct hp_rd all, v;
        hp_rd_init(&all, p, n);
        if (!hp_rd_ok(&r) || !hp_rd_skip(&all, off) || !hp_rd_sub(&all, len, &v))
            return -1;
        out->noptions++;
        switch (tok) {
        case 0:
            if (len >= 6) {
                out->has_version = true;
                out->major = hp_rd_u8(&v);
                out->minor = hp_rd_u8(&v);
                out->build = hp_rd_u16be(&v);
                out->subbuild = hp_rd_u16be(&v);
            }
            break;
        case 1:
            if (len >= 1)
                out->encryption = hp_rd_u8(&v);
            break;
        case 2: {
            size_t k = 0;
            while (hp_rd_left(&v) && k + 1 < sizeof(out->instance)) {
                uint8_t ch = hp_rd_u8(&v);
                if (!ch)
                    break;
                out->instance[k++] = (char)ch;
            }
            out->instance[k] = '\0';
            break;
        }
        case 3:
            out->has_threadid = true;
            break;
        case 4:
            out->has_mars = true;
            break;
        case 6:
            out->has_fedauth = true;
            break;
        default:
            break;
        }
    }
    return -1;
}

void hp_mssql_deobfuscate(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i] ^ 0xa5;
        p[i] = (uint8_t)((b << 4) | (b >> 4));
    }
}

/* One (offset, length-in-characters) string of LOGIN7 as UTF-8. */
static bool login_str(struct hp_rd *hdr, const uint8_t *p, size_t n, char *out, size_t outlen, bool password,
                      size_t *rawlen)
{
    uint16_t off = hp_rd_u16le(hdr), chars = hp_rd_u16le(hdr);
    struct hp_rd all, v;
    out[0] = '\0';
    if (!hp_rd_ok(hdr))
        return false;
    if (!chars)
        return true;
    hp_rd_init(&all, p, n);
    if (!hp_rd_skip(&all, off) || !hp_rd_sub(&all, (size_t)chars * 2, &v))
        return false;
    if (!password) {
        hp_utf16le_to_utf8(hp_rd_ptr(&v), hp_rd_left(&v), out, outlen);
        return true;
    }
    uint8_t tmp[1024];
    size_t k = hp_rd_left(&v) < sizeof(tmp) ? hp_rd_left(&v) : sizeof(tmp);
    memcpy(tmp, hp_rd_ptr(&v), k);
    hp_mssql_deobfuscate(tmp, k);
    size_t len = hp_utf16le_to_utf8(tmp, k, out, outlen);
    if (rawlen)
        *rawlen = len;
    return true;
}

int hp_mssql_parse_login7(const uint8_t *p, size_t n, struct hp_mssql_login *out)
{
    struct hp_rd r;
    char unused[8];
    memset(out, 0, sizeof(*out));
    hp_rd_init(&r, p, n);
    uint32_t total = hp_rd_u32le(&r);
    out->tds_version = hp_rd_u32le(&r);
    out->packet_size = hp_rd_u32le(&r);
    hp_rd_u32le(&r);               /* client program version */
    out->client_pid = hp_rd_u32le(&r);
    hp_rd_u32le(&r);               /* connection id */
    hp_rd_u8(&r);                  /* option flags 1 */
    uint8_t flags2 = hp_rd_u8(&r);
    hp_rd_u8(&r);                  /* type flags */
    hp_rd_u8(&r);                  /* option flags 3 */
    hp_rd_u32le(&r);               /* time zone */
    hp_rd_u32le(&r);               /* LCID */
    if (!hp_rd_ok(&r) || total < 36 || total > n + 0x10000)
        return -1;
    out->integrated = (flags2 & 0x80) != 0;
    if (!login_str(&r, p, n, out->host, sizeof(out->host), false, NULL) ||
        !login_str(&r, p, n, out->user, sizeof(out->user), false, NULL) ||
        !login_str(&r, p, n, out->password, sizeof(out->password), true, &out->password_len) ||
        !login_str(&r, p, n, out->app, sizeof(out->app), false, NULL) ||
        !login_str(&r, p, n, out->server, sizeof(out->server), false, NULL))
        return -1;
    hp_rd_skip(&r, 4);             /* extension / unused */
    if (!login_str(&r, p, n, out->library, sizeof(out->library), false, NULL) ||
        !login_str(&r, p, n, out->language, sizeof(out->language), false, NULL) ||
        !login_str(&r, p, n, out->database, sizeof(out->database), false, NULL))
        return -1;
    (void)unused;
    hp_rd_skip(&r, 6);             /* client MAC */
    uint16_t ib = hp_rd_u16le(&r), cb = hp_rd_u16le(&r);
    if (!hp_rd_ok(&r))
        return out->integrated ? -1 : 0;   /* very old layouts stop earlier */
    if (cb) {
        struct hp_rd all, v;
        hp_rd_init(&all, p, n);
        if (!hp_rd_skip(&all, ib) || !hp_rd_sub(&all, cb, &v))
            return -1;
        out->sspi = hp_rd_ptr(&v);
        out->sspi_len = hp_rd_left(&v);
    }
    return 0;
}

/* A fixed TDS 4.2 field: 30 bytes and a length byte. */
static void login42_str(struct hp_rd *r, char *out, size_t outlen, size_t *len)
{
    const uint8_t *f = hp_rd_bytes(r, 30);
    uint8_t l = hp_rd_u8(r);
    size_t k = 0;
    if (f && l <= 30)
        for (; k < l && k + 1 < outlen; k++)
            out[k] = (char)f[k];
    out[k] = '\0';
    if (len)
        *len = k;
}

int hp_mssql_parse_login42(const uint8_t *p, size_t n, struct hp_mssql_login *out)
{
    struct hp_rd r;
    memset(out, 0, sizeof(*out));
    hp_rd_init(&r, p, n);
    login42_str(&r, out->host, sizeof(out->host), NULL);
    login42_str(&r, out->user, sizeof(out->user), NULL);
    login42_str(&r, out->password, sizeof(out->password), &out->password_len);
    if (!hp_rd_ok(&r))
        return -1;
    out->tds_version = 0x04020000;
    return 0;
}

size_t hp_mssql_batch_text(const uint8_t *p, size_t n, bool tds72, char *out, size_t outlen)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    if (tds72 && n >= 4) {
        /* ALL_HEADERS: its total length first; text never starts like that */
        uint32_t total = hp_rd_u32le(&r);
        if (total < 4 || total > 4096 || total > n) {
            hp_rd_init(&r, p, n);
        } else {
            hp_rd_init(&r, p, n);
            hp_rd_skip(&r, total);
        }
    }
    return hp_utf16le_to_utf8(hp_rd_ptr(&r), hp_rd_left(&r), out, outlen);
}

size_t hp_mssql_xp_cmdshell(const char *sql, size_t n, char *out, size_t outlen)
{
    static const char kw[] = "xp_cmdshell";
    const size_t kl = sizeof(kw) - 1;
    if (!outlen)
        return 0;
    out[0] = '\0';
    for (size_t i = 0; i + kl <= n; i++) {
        if (strncasecmp(sql + i, kw, kl) != 0)
            continue;
        size_t j = i + kl;
        while (j < n && (sql[j] == ' ' || sql[j] == '\t' || sql[j] == '\r' || sql[j] == '\n' || sql[j] == '(' ||
                         sql[j] == '@' || (j + 1 < n && (sql[j] == 'N' || sql[j] == 'n') && sql[j + 1] == '\'')))
            j++;
        if (j >= n || sql[j] != '\'') {
            /* "@command_string = '...'" form */
            const char *eq = memchr(sql + i + kl, '\'', n - i - kl);
            if (!eq)
                return 0;       /* no quote after this one: none after any later one either */
            j = (size_t)(eq - sql);
        }
        size_t k = 0;
        for (j++; j < n && k + 1 < outlen; j++) {
            if (sql[j] == '\'') {
                if (j + 1 < n && sql[j + 1] == '\'') {
                    out[k++] = '\'';
                    j++;
                    continue;
                }
                break;
            }
            out[k++] = sql[j];
        }
        out[k] = '\0';
        return k;
    }
    return 0;
}

/* ---- configuration and identity ------------------------------------------------------ */

static int ms_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct ms_conf *mc = hp_xcalloc(1, sizeof(*mc));
    svc->proto_conf = mc;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        int bad = 0;
        unsigned a, b, c2, d;
        if (strcmp(kv->key, "userdb") == 0) {
            free(mc->userdb_path);
            mc->userdb_path = hp_xstrdup(kv->value);
        } else if (strcmp(kv->key, "accept_after") == 0) {
            bad = hp_parse_u64(kv->value, 0, 1000, &mc->accept_after);
        } else if (strcmp(kv->key, "version") == 0) {
            bad = sscanf(kv->value, "%u.%u.%u.%u", &a, &b, &c2, &d) != 4 || a > 255 || b > 255 || c2 > 65535 ||
                  d > 65535;
            free(mc->version);
            mc->version = hp_xstrdup(kv->value);
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol mssql)", kv->line, kv->key,
                     svc->name);
            return -1;
        }
        if (bad) {
            snprintf(err, errlen, "%d: [service %s]: bad value for %s: '%s'", kv->line, svc->name, kv->key,
                     kv->value);
            return -1;
        }
    }
    return 0;
}

static void ms_unconfigure(struct hp_service_cfg *svc)
{
    struct ms_conf *mc = svc->proto_conf;
    if (mc) {
        free(mc->userdb_path);
        free(mc->version);
        hp_userdb_free(mc->userdb);
    }
    free(mc);
    svc->proto_conf = NULL;
}

/* The sensor's SQL Server build, drawn once and kept in the identity; an
 * operator's own a.b.c.d there is used as it stands. */
static const char *ms_identity_version(void)
{
    const char *v = hp_identity_get("mssql_version");
    unsigned a, b, c, d;
    if (v && sscanf(v, "%u.%u.%u.%u", &a, &b, &c, &d) == 4 && a < 256 && b < 256 && c < 65536 && d < 65536)
        return v;
    const char *pick = ms_versions[hp_random_u64() % HP_ARRAY_LEN(ms_versions)].ver;
    hp_identity_set("mssql_version", pick);
    return pick;
}

static int ms_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct ms_conf *mc = svc->proto_conf;
    (void)cfg;
    if (!mc->userdb) {
        if (mc->userdb_path && *mc->userdb_path)
            mc->userdb = hp_userdb_load(mc->userdb_path, err, errlen);
        else
            mc->userdb = hp_userdb_parse(ms_default_users, "mssql built-in userdb", err, errlen);
        if (!mc->userdb)
            return -1;
    }
    if (!mc->version)
        mc->version = hp_xstrdup(ms_identity_version());
    struct hp_ntlm_identity id;
    hp_ntlm_identity(&id);         /* drawn now, so restarts keep it */
    return 0;
}

static void ms_stop(struct hp_service_cfg *svc)
{
    (void)svc;
}

static const struct ms_conf *conf_of(const struct hp_conn *c)
{
    return hp_conn_service_cfg(c)->proto_conf;
}

struct ms_ver4 {
    unsigned major, minor, build, sub;
};

static struct ms_ver4 ms_ver_of(const struct hp_conn *c)
{
    struct ms_ver4 v = { 15, 0, 2000, 5 };
    const struct ms_conf *mc = conf_of(c);
    if (mc && mc->version)
        sscanf(mc->version, "%u.%u.%u.%u", &v.major, &v.minor, &v.build, &v.sub);
    return v;
}

/* ---- TDS output --------------------------------------------------------------------- */

static void put16le(struct hp_buf *b, uint16_t v)
{
    uint8_t w[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    hp_buf_put(b, w, 2);
}

static void put32le(struct hp_buf *b, uint32_t v)
{
    uint8_t w[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    hp_buf_put(b, w, 4);
}

static void put_bvarchar(struct hp_buf *b, const char *s)
{
    struct hp_buf u;
    hp_buf_init(&u, 512);
    hp_utf8_to_utf16le(&u, s, strlen(s));
    hp_buf_putc(b, (uint8_t)(u.len / 2));
    hp_buf_put(b, u.data ? u.data : (const uint8_t *)"", u.len);
    hp_buf_free(&u);
}

static void put_usvarchar(struct hp_buf *b, const char *s)
{
    struct hp_buf u;
    hp_buf_init(&u, 16384);
    hp_utf8_to_utf16le(&u, s, strlen(s));
    put16le(b, (uint16_t)(u.len / 2));
    hp_buf_put(b, u.data ? u.data : (const uint8_t *)"", u.len);
    hp_buf_free(&u);
}

/* Patch the u16 length of a token that started at 'at' (token byte there). */
static void tok_len(struct hp_buf *b, size_t at)
{
    size_t len = b->len - at - 3;
    if (hp_buf_ok(b) && b->len >= at + 3) {
        b->data[at + 1] = (uint8_t)len;
        b->data[at + 2] = (uint8_t)(len >> 8);
    }
}

/* ERROR (0xAA) or INFO (0xAB). */
static void tok_msg(struct hp_buf *b, bool error, uint32_t number, uint8_t state, uint8_t cls, const char *msg,
                    const char *server, bool tds72)
{
    size_t at = b->len;
    hp_buf_putc(b, error ? 0xaa : 0xab);
    put16le(b, 0);
    put32le(b, number);
    hp_buf_putc(b, state);
    hp_buf_putc(b, cls);
    put_usvarchar(b, msg);
    put_bvarchar(b, server);
    put_bvarchar(b, "");
    if (tds72)
        put32le(b, 1);
    else
        put16le(b, 1);
    tok_len(b, at);
}

static void tok_env(struct hp_buf *b, uint8_t type, const char *nv, const char *ov)
{
    size_t at = b->len;
    hp_buf_putc(b, 0xe3);
    put16le(b, 0);
    hp_buf_putc(b, type);
    put_bvarchar(b, nv);
    put_bvarchar(b, ov);
    tok_len(b, at);
}

static const uint8_t ms_collation[5] = { 0x09, 0x04, 0xd0, 0x00, 0x34 };   /* SQL_Latin1_General_CP1_CI_AS */

static void tok_env_collation(struct hp_buf *b)
{
    size_t at = b->len;
    hp_buf_putc(b, 0xe3);
    put16le(b, 0);
    hp_buf_putc(b, 7);
    hp_buf_putc(b, 5);
    hp_buf_put(b, ms_collation, 5);
    hp_buf_putc(b, 0);
    tok_len(b, at);
}

static void tok_done(struct hp_buf *b, uint16_t status, uint16_t cmd, uint64_t rows, bool tds72)
{
    hp_buf_putc(b, 0xfd);
    put16le(b, status);
    put16le(b, cmd);
    put32le(b, (uint32_t)rows);
    if (tds72)
        put32le(b, (uint32_t)(rows >> 32));
}

static void tok_loginack(struct hp_buf *b, uint32_t tdsver, struct ms_ver4 v)
{
    size_t at = b->len;
    hp_buf_putc(b, 0xad);
    put16le(b, 0);
    hp_buf_putc(b, 1);             /* SQL_TSQL */
    uint8_t tv[4] = { (uint8_t)(tdsver >> 24), (uint8_t)(tdsver >> 16), (uint8_t)(tdsver >> 8), (uint8_t)tdsver };
    hp_buf_put(b, tv, 4);
    /* the real server pads its name with two NUL characters */
    static const char name[] = "Microsoft SQL Server";
    hp_buf_putc(b, (uint8_t)(sizeof(name) - 1 + 2));
    for (size_t i = 0; i < sizeof(name) - 1; i++)
        put16le(b, (uint8_t)name[i]);
    put16le(b, 0);
    put16le(b, 0);
    uint8_t pv[4] = { (uint8_t)v.major, (uint8_t)v.minor, (uint8_t)(v.build >> 8), (uint8_t)v.build };
    hp_buf_put(b, pv, 4);
    tok_len(b, at);
}

/* A one-column NVARCHAR result (NULL values allowed) and its DONE. */
static void tok_result(struct hp_buf *b, const char *col, const char *const *vals, size_t n, bool tds72)
{
    hp_buf_putc(b, 0x81);
    put16le(b, 1);
    if (tds72)
        put32le(b, 0);
    else
        put16le(b, 0);
    put16le(b, 0x0001);            /* nullable */
    hp_buf_putc(b, 0xe7);          /* NVARCHAR */
    put16le(b, 8000);
    hp_buf_put(b, ms_collation, 5);
    put_bvarchar(b, col);
    for (size_t i = 0; i < n; i++) {
        hp_buf_putc(b, 0xd1);
        if (!vals[i]) {
            put16le(b, 0xffff);
            continue;
        }
        struct hp_buf u;
        hp_buf_init(&u, 8000);
        hp_utf8_to_utf16le(&u, vals[i], strlen(vals[i]));
        put16le(b, (uint16_t)u.len);
        hp_buf_put(b, u.data ? u.data : (const uint8_t *)"", u.len);
        hp_buf_free(&u);
    }
    tok_done(b, 0x0010, 0xc1, n, tds72);
}

/* Send a message as packets of MS_PKT_OUT bytes, EOM on the last. */
static void ms_send(struct hp_conn *c, uint8_t type, const struct hp_buf *payload)
{
    struct ms_conn *m = c->pstate;
    size_t off = 0, total = payload->len;
    const size_t room = MS_PKT_OUT - 8;
    m->pkt_id = 0;                 /* numbered from 1 in each message */
    do {
        size_t k = total - off < room ? total - off : room;
        bool last = off + k == total;
        uint8_t h[8] = { type, last ? 1 : 0, (uint8_t)((k + 8) >> 8), (uint8_t)(k + 8), 0, 0, ++m->pkt_id, 0 };
        if (m->state != ST_START)
            h[5] = 0x33;           /* a server process id once logged in / logging in */
        hp_conn_send(c, h, 8);
        if (k)
            hp_conn_send(c, payload->data + off, k);
        off += k;
    } while (off < total);
}

/* ---- events ----------------------------------------------------------------------------- */

static const char *enc_name(int e)
{
    switch (e) {
    case 0: return "off";
    case 1: return "on";
    case 2: return "not_supported";
    case 3: return "required";
    default: return "absent";
    }
}

static void ev_prelogin(struct hp_conn *c, const struct hp_mssql_prelogin *pl)
{
    struct hp_ev ev;
    char ver[32];
    hp_ev_begin(&ev, &c->ctx, "mssql.prelogin");
    if (pl->has_version) {
        snprintf(ver, sizeof(ver), "%u.%u.%u.%u", pl->major, pl->minor, pl->build, pl->subbuild);
        hp_ev_str(&ev, "client_version", ver);
    }
    hp_ev_str(&ev, "encryption", enc_name(pl->encryption));
    if (pl->instance[0])
        hp_ev_bytes(&ev, "instance", pl->instance, strlen(pl->instance));
    hp_ev_bool(&ev, "mars", pl->has_mars);
    hp_ev_emit(&ev);
}

static void ev_login_fields(struct hp_ev *ev, const struct hp_mssql_login *l)
{
    char tv[16];
    if (l->host[0])
        hp_ev_bytes(ev, "client_host", l->host, strlen(l->host));
    if (l->app[0])
        hp_ev_bytes(ev, "client_app", l->app, strlen(l->app));
    if (l->server[0])
        hp_ev_bytes(ev, "server_name", l->server, strlen(l->server));
    if (l->library[0])
        hp_ev_bytes(ev, "library", l->library, strlen(l->library));
    if (l->database[0])
        hp_ev_bytes(ev, "database", l->database, strlen(l->database));
    if (l->language[0])
        hp_ev_bytes(ev, "language", l->language, strlen(l->language));
    snprintf(tv, sizeof(tv), "0x%08x", (unsigned)l->tds_version);
    hp_ev_str(ev, "tds_version", tv);
}

static void ev_login(struct hp_conn *c, const struct hp_mssql_login *l, bool ok)
{
    struct ms_conn *m = c->pstate;
    const struct hp_login lg = { l->user, strlen(l->user), l->password, l->password_len, "sql", m->attempts };
    struct hp_ev ev;
    hp_login_ev_begin(&ev, &c->ctx, ok, &lg);
    ev_login_fields(&ev, l);
    hp_login_ev_emit(&ev, &lg);
}

static void ev_login_ntlm(struct hp_conn *c, const struct hp_mssql_login *l, const struct hp_ntlm_auth *a)
{
    struct ms_conn *m = c->pstate;
    struct hp_ev ev;
    hp_ntlm_ev_login(&ev, &c->ctx, a, m->chal);
    hp_ev_uint(&ev, "attempt", m->attempts);
    if (l)
        ev_login_fields(&ev, l);
    hp_ev_emit(&ev);
}

/* ---- answers ------------------------------------------------------------------------------ */

static bool is_tds72(const struct ms_conn *m)
{
    return m->tds_version >= 0x72000000u || (m->tds_version & 0xff) >= 0x72;
}

static void reply_prelogin(struct hp_conn *c, const struct hp_mssql_prelogin *pl)
{
    struct ms_ver4 v = ms_ver_of(c);
    struct pl_opt { uint8_t tok; uint16_t len; uint8_t data[6]; } opt[6];
    size_t n = 0;
    opt[n++] = (struct pl_opt){ 0, 6, { (uint8_t)v.major, (uint8_t)v.minor, (uint8_t)(v.build >> 8),
                                          (uint8_t)v.build, 0, 0 } };
    opt[n++] = (struct pl_opt){ 1, 1, { 2 } };            /* ENCRYPT_NOT_SUP */
    opt[n++] = (struct pl_opt){ 2, 1, { 0 } };            /* instance accepted */
    opt[n++] = (struct pl_opt){ 3, 0, { 0 } };            /* thread id: empty in answers */
    if (pl->has_mars)
        opt[n++] = (struct pl_opt){ 4, 1, { 0 } };
    if (pl->has_fedauth)
        opt[n++] = (struct pl_opt){ 6, 1, { 0 } };
    struct hp_buf b;
    hp_buf_init(&b, 256);
    uint16_t off = (uint16_t)(n * 5 + 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t h[5] = { opt[i].tok, (uint8_t)(off >> 8), (uint8_t)off, 0, (uint8_t)opt[i].len };
        hp_buf_put(&b, h, 5);
        off = (uint16_t)(off + opt[i].len);
    }
    hp_buf_putc(&b, 0xff);
    for (size_t i = 0; i < n; i++)
        hp_buf_put(&b, opt[i].data, opt[i].len);
    ms_send(c, TDS_REPLY, &b);
    hp_buf_free(&b);
}

static void reply_login_failed(struct hp_conn *c, const char *user)
{
    struct ms_conn *m = c->pstate;
    struct hp_ntlm_identity id;
    char msg[HP_MSSQL_STR_MAX + 64];
    hp_ntlm_identity(&id);
    snprintf(msg, sizeof(msg), "Login failed for user '%s'.", user);
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    tok_msg(&b, true, 18456, 1, 14, msg, id.nb_computer, is_tds72(m));
    tok_done(&b, 0x0002, 0, 0, is_tds72(m));
    ms_send(c, TDS_REPLY, &b);
    hp_buf_free(&b);
}

static void reply_login_ok(struct hp_conn *c, const struct hp_mssql_login *l)
{
    struct ms_conn *m = c->pstate;
    struct hp_ntlm_identity id;
    hp_ntlm_identity(&id);
    bool t72 = is_tds72(m);
    const char *db = l->database[0] ? l->database : "master";
    snprintf(m->database, sizeof(m->database), "%s", db);
    char msg[HP_MSSQL_STR_MAX + 64];
    struct hp_buf b;
    hp_buf_init(&b, 4096);
    tok_env(&b, 1, m->database, "master");
    snprintf(msg, sizeof(msg), "Changed database context to '%s'.", m->database);
    tok_msg(&b, false, 5701, 2, 0, msg, id.nb_computer, t72);
    if (t72)
        tok_env_collation(&b);
    tok_env(&b, 2, "us_english", "");
    tok_msg(&b, false, 5703, 1, 0, "Changed language setting to us_english.", id.nb_computer, t72);
    uint32_t tv = m->tds_version > 0x74000004u ? 0x74000004u : m->tds_version;
    if (m->tds_version == 0x04020000)
        tv = 0x04020000;
    tok_loginack(&b, tv, ms_ver_of(c));
    char ps[16];
    uint32_t psz = l->packet_size >= 512 && l->packet_size <= 32767 ? l->packet_size : 4096;
    snprintf(ps, sizeof(ps), "%u", (unsigned)psz);
    tok_env(&b, 4, ps, ps);
    tok_done(&b, 0, 0, 0, t72);
    ms_send(c, TDS_REPLY, &b);
    hp_buf_free(&b);
}

static void fail_and_close(struct hp_conn *c, const char *user, const char *reason)
{
    struct ms_conn *m = c->pstate;
    reply_login_failed(c, user);
    m->closing = true;
    hp_conn_close(c, reason);
}

/* LOGIN7 with integrated security: the SSPI blob should be NTLM. */
static void login_sspi(struct hp_conn *c, const struct hp_mssql_login *l)
{
    struct ms_conn *m = c->pstate;
    long at = hp_ntlm_find(l->sspi, l->sspi_len);
    struct hp_ntlm_negotiate neg;
    if (at < 0 || hp_ntlm_parse_negotiate(l->sspi + at, l->sspi_len - (size_t)at, &neg) != 0) {
        struct hp_ev ev;           /* Kerberos or garbage: nothing to answer with */
        hp_ev_begin(&ev, &c->ctx, "login.failed");
        hp_ev_str(&ev, "username", "");
        hp_ev_str(&ev, "method", "sspi");
        hp_ev_uint(&ev, "attempt", m->attempts);
        ev_login_fields(&ev, l);
        hp_ev_emit(&ev);
        fail_and_close(c, "", "mssql_sspi_unsupported");
        return;
    }
    struct hp_ntlm_identity id;
    struct hp_buf ch, b;
    hp_ntlm_identity(&id);
    hp_random_bytes(m->chal, sizeof(m->chal));
    hp_buf_init(&ch, 4096);
    hp_buf_init(&b, 8192);
    hp_ntlm_build_challenge(&id, neg.flags, m->chal, hp_now_us(), &ch);
    struct hp_buf *tok = &ch, wrapped;
    hp_buf_init(&wrapped, 8192);
    if (at > 0) {                  /* SPNEGO in, SPNEGO out */
        hp_spnego_wrap_ntlm(ch.data, ch.len, &wrapped);
        tok = &wrapped;
    }
    hp_buf_putc(&b, 0xed);
    put16le(&b, (uint16_t)tok->len);
    hp_buf_put(&b, tok->data, tok->len);
    ms_send(c, TDS_REPLY, &b);
    hp_buf_free(&ch);
    hp_buf_free(&wrapped);
    hp_buf_free(&b);
    free(m->pending);
    m->pending = hp_xcalloc(1, sizeof(*m->pending));
    *m->pending = *l;
    m->pending->sspi = NULL;       /* pointed into the message buffer */
    m->pending->sspi_len = 0;
    m->state = ST_SSPI;
}

static void on_sspi(struct hp_conn *c, const uint8_t *p, size_t n)
{
    struct ms_conn *m = c->pstate;
    long at = hp_ntlm_find(p, n);
    struct hp_ntlm_auth a;
    if (at < 0 || hp_ntlm_parse_authenticate(p + at, n - (size_t)at, &a) != 0) {
        fail_and_close(c, "", "mssql_bad_sspi");
        return;
    }
    ev_login_ntlm(c, m->pending, &a);
    char who[2 * HP_NTLM_NAME_MAX + 2];
    snprintf(who, sizeof(who), "%s%s%s", a.domain, a.domain[0] ? "\\" : "", a.user);
    fail_and_close(c, who, "login_failed");
}

static void on_login(struct hp_conn *c, const uint8_t *p, size_t n, bool tds42)
{
    struct ms_conn *m = c->pstate;
    const struct ms_conf *mc = conf_of(c);
    struct hp_mssql_login *l = hp_xcalloc(1, sizeof(*l));
    int r = tds42 ? hp_mssql_parse_login42(p, n, l) : hp_mssql_parse_login7(p, n, l);
    if (r != 0) {
        free(l);
        m->closing = true;
        hp_conn_close(c, "mssql_bad_login");   /* the real server just drops it */
        return;
    }
    m->tds_version = l->tds_version;
    if (++m->attempts > MS_MAX_ATTEMPTS) {
        free(l);
        m->closing = true;
        hp_conn_close(c, "too_many_attempts");
        return;
    }
    if (l->integrated && l->sspi_len) {
        login_sspi(c, l);
        free(l);
        return;
    }
    bool ok = (mc->userdb && hp_userdb_check(mc->userdb, l->user, strlen(l->user), l->password, l->password_len)) ||
              hp_login_nth(m->attempts, mc->accept_after);
    ev_login(c, l, ok);
    if (ok) {
        reply_login_ok(c, l);
        m->state = ST_READY;
    } else {
        fail_and_close(c, l->user, "login_failed");
    }
    free(l);
}

static void ev_command(struct hp_conn *c, const char *sql, size_t n, const char *verb)
{
    struct ms_conn *m = c->pstate;
    struct hp_ev ev;
    hp_ev_begin(&ev, &c->ctx, "command.input");
    hp_ev_bytes(&ev, "input", sql, n);
    if (m->database[0])
        hp_ev_str(&ev, "database", m->database);
    if (verb)
        hp_ev_str(&ev, "command", verb);
    hp_ev_emit(&ev);
}

static void version_text(const struct hp_conn *c, char *out, size_t outlen)
{
    static const char *const years[] = { "2012", "2014", "2016", "2017", "2019", "2022" };
    const struct ms_conf *mc = conf_of(c);
    struct ms_ver4 v4 = ms_ver_of(c);
    struct ms_version v = { NULL, "2019", "RTM", "Sep 24 2019 13:48:23" };
    if (v4.major >= 11 && v4.major <= 16)
        v.year = years[v4.major - 11];
    for (size_t i = 0; mc && mc->version && i < HP_ARRAY_LEN(ms_versions); i++)
        if (strcmp(mc->version, ms_versions[i].ver) == 0)
            v = ms_versions[i];
    char ver[48];
    snprintf(ver, sizeof(ver), "%u.%u.%u.%u", v4.major, v4.minor, v4.build, v4.sub);
    struct hp_ntlm_identity id;
    hp_ntlm_identity(&id);
    const char *os = id.os_build >= 20348 ? "2022" : id.os_build >= 17763 ? "2019" : "2016";
    snprintf(out, outlen,
             "Microsoft SQL Server %s (%s) - %s (X64) \n\t%s \n\tCopyright (C) %s Microsoft Corporation\n"
             "\tStandard Edition (64-bit) on Windows Server %s Standard %u.%u <X64> (Build %u: ) (Hypervisor)\n",
             v.year, v.label, ver, v.date, v.year, os, id.os_major, id.os_minor, id.os_build);
}

static void on_batch(struct hp_conn *c, const uint8_t *p, size_t n)
{
    struct ms_conn *m = c->pstate;
    bool t72 = is_tds72(m);
    char *sql = malloc(MS_SQL_MAX);
    char cmd[4096];
    if (!sql) {
        hp_conn_close(c, "oom");
        return;
    }
    size_t len = hp_mssql_batch_text(p, n, t72, sql, MS_SQL_MAX);
    size_t clen = hp_mssql_xp_cmdshell(sql, len, cmd, sizeof(cmd));
    ev_command(c, sql, len, clen ? "xp_cmdshell" : NULL);
    struct hp_buf b;
    hp_buf_init(&b, 64 * 1024);
    if (clen) {
        hp_capture_scan(&c->ctx, cmd, clen, "mssql");
        const char *rows[1] = { NULL };
        tok_result(&b, "output", rows, 1, t72);
    } else if (strcasestr(sql, "@@version")) {
        char vt[512];
        version_text(c, vt, sizeof(vt));
        const char *rows[1] = { vt };
        tok_result(&b, "", rows, 1, t72);
    } else {
        tok_done(&b, 0, 0, 0, t72);
    }
    ms_send(c, TDS_REPLY, &b);
    hp_buf_free(&b);
    free(sql);
}

/* One complete message. */
static void dispatch(struct hp_conn *c, uint8_t type, const uint8_t *p, size_t n)
{
    struct ms_conn *m = c->pstate;
    if (type == TDS_PRELOGIN && m->state == ST_START) {
        struct hp_mssql_prelogin pl;
        if (hp_mssql_parse_prelogin(p, n, &pl) != 0) {
            m->closing = true;
            hp_conn_close(c, "mssql_bad_prelogin");
            return;
        }
        ev_prelogin(c, &pl);
        reply_prelogin(c, &pl);
    } else if ((type == TDS_LOGIN7 || type == TDS_LOGIN42) && m->state == ST_START) {
        on_login(c, p, n, type == TDS_LOGIN42);
    } else if (type == TDS_SSPI && m->state == ST_SSPI) {
        on_sspi(c, p, n);
    } else if (type == TDS_BATCH && m->state == ST_READY) {
        if (++m->batches > MS_MAX_BATCHES) {
            m->closing = true;
            hp_conn_close(c, "too_many_batches");
            return;
        }
        on_batch(c, p, n);
    } else if ((type == TDS_ATTN || type == TDS_RPC) && m->state == ST_READY) {
        struct hp_buf b;
        hp_buf_init(&b, 64);
        tok_done(&b, type == TDS_ATTN ? 0x0020 : 0, 0, 0, is_tds72(m));
        ms_send(c, TDS_REPLY, &b);
        hp_buf_free(&b);
    } else {
        m->closing = true;         /* out of sequence: the server drops the connection */
        hp_conn_close(c, "mssql_protocol_error");
    }
}

/* ---- module callbacks ----------------------------------------------------------------------- */

/* Packet types the server takes in a phase; anything else is dropped at
 * once, as SQL Server does (and scanners' probes get a quick answer). */
static bool ms_known_type(int state, uint8_t t)
{
    if (state == ST_START)
        return t == TDS_PRELOGIN || t == TDS_LOGIN7 || t == TDS_LOGIN42;
    if (state == ST_SSPI)
        return t == TDS_SSPI;
    return t == TDS_BATCH || t == TDS_RPC || t == TDS_ATTN || t == 0x0e;
}

static void ms_accept(struct hp_conn *c)
{
    struct ms_conn *m = c->pstate;
    hp_buf_init(&m->msg, MS_MSG_MAX);
    hp_conn_set_timer(c, MS_IDLE_MS);
}

static void ms_data(struct hp_conn *c, struct hp_rd *in)
{
    struct ms_conn *m = c->pstate;
    for (int guard = 0; guard < 4096 && !m->closing; guard++) {
        uint8_t h[8];
        int t = hp_rd_peek_u8(in, 0), st = hp_rd_peek_u8(in, 1);
        if (t >= 0 && !ms_known_type(m->state, (uint8_t)t)) {
            m->closing = true;     /* not TDS: the server drops such clients at once */
            hp_conn_close(c, "mssql_not_tds");
            return;
        }
        if (st > 0x1f) {
            m->closing = true;
            hp_conn_close(c, "mssql_bad_packet");
            return;
        }
        if (!hp_rd_peek(in, 0, h, 8))
            return;
        size_t plen = ((size_t)h[2] << 8) | h[3];
        if (plen < 8) {
            m->closing = true;
            hp_conn_close(c, "mssql_bad_packet");
            return;
        }
        if (hp_rd_left(in) < plen)
            return;                /* wait for the whole packet */
        hp_rd_skip(in, 8);
        const uint8_t *body = hp_rd_bytes(in, plen - 8);
        if (m->msg.len && h[0] != m->msg_type) {
            m->closing = true;
            hp_conn_close(c, "mssql_bad_packet");
            return;
        }
        m->msg_type = h[0];
        if (!hp_buf_put(&m->msg, body, plen - 8)) {
            m->closing = true;
            hp_conn_close(c, "mssql_message_too_large");
            return;
        }
        if (!(h[1] & 0x01))
            continue;              /* more packets of this message follow */
        hp_conn_set_timer(c, MS_IDLE_MS);
        dispatch(c, m->msg_type, m->msg.data ? m->msg.data : (const uint8_t *)"", m->msg.len);
        hp_buf_reset(&m->msg);
    }
}

static void ms_eof(struct hp_conn *c)
{
    hp_conn_close(c, "eof");
}

static void ms_timer(struct hp_conn *c)
{
    hp_conn_close(c, "idle");
}

static void ms_close(struct hp_conn *c)
{
    struct ms_conn *m = c->pstate;
    if (!m)
        return;
    hp_buf_free(&m->msg);
    free(m->pending);
    m->pending = NULL;
}

const struct hp_proto hp_proto_mssql = {
    .name = "mssql",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "1433",
    .conn_state_size = sizeof(struct ms_conn),
    .default_max_input = 16ull << 20,
    .configure = ms_configure,
    .unconfigure = ms_unconfigure,
    .start = ms_start,
    .stop = ms_stop,
    .on_accept = ms_accept,
    .on_data = ms_data,
    .on_eof = ms_eof,
    .on_timer = ms_timer,
    .on_close = ms_close,
};
