/*
 * mongodb.c - a MongoDB server, far enough for what exposed MongoDBs get.
 *
 * The traffic is scanners (hello/isMaster, buildInfo, listDatabases),
 * ransom bots (listDatabases, find a little, drop everything, insert a
 * "README" note with a Bitcoin address) and credential tries (SCRAM
 * conversations).  This module speaks the wire protocol: the 16-byte
 * header, OP_MSG (a kind 0 body and kind 1 document sequences, the
 * optional checksum skipped) and the legacy OP_QUERY on "<db>.$cmd" that
 * drivers still use for their first hello, answered with OP_REPLY.
 *
 * BSON is read through hp_rd only: every document is validated once,
 * whole, with nesting capped (HP_MONGO_MAX_DEPTH), before anything looks
 * inside it; a malformed message closes the connection as mongod does.
 * Replies are built with a small BSON writer into a capped hp_buf.
 *
 * Each command is one command.input event ("<name> <JSON of the command>",
 * capped).  Inserted documents are kept per connection (bounded) so that a
 * bot reading back its note finds it, and logged as mongodb.insert.  SCRAM
 * (SHA-1 and SHA-256, also the speculative form inside hello) is carried
 * up to the client's proof and then failed with the real "Authentication
 * failed." error: the username (and the proof, salt and nonces, enough to
 * test guesses offline) is one login.failed per attempt.  PLAIN, which the
 * community server refuses, still gives away a plaintext password.
 *
 * The claimed release (4.4 / 5.0 / 6.0, with its maxWireVersion), the git
 * hash and the application database's name are drawn once per sensor and
 * kept in the identity file.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "config.h"
#include "conn.h"
#include "event.h"
#include "identity.h"
#include "intel/knowledge.h"
#include "mongodb.h"
#include "proto.h"
#include "util.h"

/* ---- BSON reading ----------------------------------------------------------------- */

bool hp_bson_doc(struct hp_rd *r, struct hp_rd *body)
{
    uint8_t lb[4];
    if (!hp_rd_peek(r, 0, lb, 4))
        return false;
    uint32_t len = (uint32_t)lb[0] | (uint32_t)lb[1] << 8 | (uint32_t)lb[2] << 16 | (uint32_t)lb[3] << 24;
    if (len < 5 || len > hp_rd_left(r))
        return false;
    const uint8_t *p = hp_rd_bytes(r, len);
    if (!p || p[len - 1] != 0)
        return false;
    hp_rd_init(body, p + 4, len - 5);
    return true;
}

/* A string value: int32 length (with its NUL), bytes, NUL. */
static bool bs_take_string(struct hp_rd *r)
{
    uint32_t n = hp_rd_u32le(r);
    if (!hp_rd_ok(r) || n < 1)
        return false;
    const uint8_t *p = hp_rd_bytes(r, n);
    return p && p[n - 1] == 0;
}

static bool bs_take_cstring(struct hp_rd *r)
{
    long z = hp_rd_find(r, "", 1);
    return z >= 0 && hp_rd_skip(r, (size_t)z + 1);
}

bool hp_bson_next(struct hp_rd *body, struct hp_bson_el *el)
{
    if (hp_rd_left(body) == 0)
        return false;
    el->type = hp_rd_u8(body);
    long z = hp_rd_find(body, "", 1);
    if (z < 0) {
        body->err = true;
        return false;
    }
    el->name = (const char *)hp_rd_ptr(body);
    el->nlen = (size_t)z;
    hp_rd_skip(body, (size_t)z + 1);
    size_t start = hp_rd_pos(body);
    struct hp_rd sub;
    bool ok;
    switch (el->type) {
    case HP_BSON_DOUBLE: case HP_BSON_DATE: case HP_BSON_TS: case HP_BSON_INT64:
        ok = hp_rd_skip(body, 8);
        break;
    case HP_BSON_STRING: case HP_BSON_CODE: case HP_BSON_SYMBOL:
        ok = bs_take_string(body);
        break;
    case HP_BSON_DOC: case HP_BSON_ARRAY:
        ok = hp_bson_doc(body, &sub);
        break;
    case HP_BSON_BINARY: {
        uint32_t n = hp_rd_u32le(body);
        ok = hp_rd_ok(body) && n <= hp_rd_left(body) && hp_rd_skip(body, (size_t)n + 1);
        break;
    }
    case HP_BSON_UNDEF: case HP_BSON_NULL: case HP_BSON_MINKEY: case HP_BSON_MAXKEY:
        ok = true;
        break;
    case HP_BSON_OID:
        ok = hp_rd_skip(body, 12);
        break;
    case HP_BSON_BOOL:
        ok = hp_rd_skip(body, 1);
        break;
    case HP_BSON_REGEX:
        ok = bs_take_cstring(body) && bs_take_cstring(body);
        break;
    case HP_BSON_DBPTR:
        ok = bs_take_string(body) && hp_rd_skip(body, 12);
        break;
    case HP_BSON_CODEWS: {
        uint32_t n = hp_rd_u32le(body);
        ok = hp_rd_ok(body) && n >= 4 && hp_rd_skip(body, (size_t)n - 4);
        break;
    }
    case HP_BSON_INT32:
        ok = hp_rd_skip(body, 4);
        break;
    case HP_BSON_DEC128:
        ok = hp_rd_skip(body, 16);
        break;
    default:
        ok = false;
        break;
    }
    if (!ok || !hp_rd_ok(body)) {
        body->err = true;
        return false;
    }
    el->val = body->data + start;
    el->vlen = hp_rd_pos(body) - start;
    return true;
}

bool hp_bson_sub(const struct hp_bson_el *el, const uint8_t **doc, size_t *len)
{
    if (el->type != HP_BSON_DOC && el->type != HP_BSON_ARRAY)
        return false;
    *doc = el->val;
    *len = el->vlen;
    return true;
}

bool hp_bson_valid(const uint8_t *doc, size_t len, int depth)
{
    struct hp_rd r, body;
    struct hp_bson_el el;
    hp_rd_init(&r, doc, len);
    if (depth <= 0 || !hp_bson_doc(&r, &body) || hp_rd_left(&r) != 0)
        return false;
    while (hp_bson_next(&body, &el)) {
        const uint8_t *d;
        size_t dl;
        if (hp_bson_sub(&el, &d, &dl) && !hp_bson_valid(d, dl, depth - 1))
            return false;
        if (el.type == HP_BSON_CODEWS) {     /* int32, string, document */
            struct hp_rd c;
            hp_rd_init(&c, el.val, el.vlen);
            hp_rd_skip(&c, 4);
            if (!bs_take_string(&c) || !hp_bson_valid(hp_rd_ptr(&c), hp_rd_left(&c), depth - 1))
                return false;
        }
    }
    return hp_rd_ok(&body);
}

bool hp_bson_find(const uint8_t *doc, size_t len, const char *name, struct hp_bson_el *el)
{
    struct hp_rd r, body;
    hp_rd_init(&r, doc, len);
    if (!hp_bson_doc(&r, &body))
        return false;
    size_t nl = strlen(name);
    while (hp_bson_next(&body, el))
        if (el->nlen == nl && memcmp(el->name, name, nl) == 0)
            return true;
    return false;
}

bool hp_bson_str(const struct hp_bson_el *el, const char **s, size_t *n)
{
    if (el->type != HP_BSON_STRING || el->vlen < 5)
        return false;
    *s = (const char *)el->val + 4;
    *n = el->vlen - 5;
    return true;
}

bool hp_bson_bin(const struct hp_bson_el *el, const uint8_t **p, size_t *n)
{
    if (el->type != HP_BSON_BINARY || el->vlen < 5)
        return false;
    *p = el->val + 5;
    *n = el->vlen - 5;
    return true;
}

static uint64_t bs_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t bs_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

double hp_bson_num(const struct hp_bson_el *el)
{
    switch (el->type) {
    case HP_BSON_DOUBLE: {
        uint64_t v = bs_le64(el->val);
        double d;
        memcpy(&d, &v, sizeof(d));
        return d;
    }
    case HP_BSON_INT32:
        return (double)(int32_t)bs_le32(el->val);
    case HP_BSON_INT64:
        return (double)(int64_t)bs_le64(el->val);
    case HP_BSON_BOOL:
        return el->val[0] ? 1 : 0;
    default:
        return 0;
    }
}

/* ---- BSON as JSON (for events) ------------------------------------------------------ */

static void js_str(struct hp_buf *b, const char *s, size_t n)
{
    hp_buf_putc(b, '"');
    for (size_t i = 0; i < n && hp_buf_ok(b); i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            hp_buf_printf(b, "\\%c", c);
        else if (c == '\n')
            hp_buf_puts(b, "\\n");
        else if (c == '\r')
            hp_buf_puts(b, "\\r");
        else if (c == '\t')
            hp_buf_puts(b, "\\t");
        else if (c < 0x20)
            hp_buf_printf(b, "\\u%04x", c);
        else
            hp_buf_putc(b, c);
    }
    hp_buf_putc(b, '"');
}

static void js_hex(struct hp_buf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hp_buf_printf(b, "%02x", p[i]);
}

static void js_b64(struct hp_buf *b, const uint8_t *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n && hp_buf_ok(b); i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        char o[4] = {tab[v >> 18 & 63], tab[v >> 12 & 63], i + 1 < n ? tab[v >> 6 & 63] : '=', i + 2 < n ? tab[v & 63] : '='};
        hp_buf_put(b, o, 4);
    }
}

static void bs_json(const uint8_t *doc, size_t len, struct hp_buf *b, int depth, bool arr);

static void js_value(const struct hp_bson_el *el, struct hp_buf *b, int depth)
{
    const uint8_t *d;
    size_t dl;
    const char *s;
    size_t sl;
    switch (el->type) {
    case HP_BSON_DOUBLE: {
        double v = hp_bson_num(el);
        if (isnan(v) || isinf(v))
            hp_buf_printf(b, "{\"$numberDouble\":\"%s\"}", isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
        else if (v < 1e15 && v > -1e15 && v == (double)(long long)v)
            hp_buf_printf(b, "%lld.0", (long long)v);
        else
            hp_buf_printf(b, "%.17g", v);
        break;
    }
    case HP_BSON_STRING: case HP_BSON_CODE: case HP_BSON_SYMBOL:
        s = (const char *)el->val + 4;
        sl = el->vlen - 5;
        if (el->type == HP_BSON_CODE)
            hp_buf_puts(b, "{\"$code\":");
        js_str(b, s, sl);
        if (el->type == HP_BSON_CODE)
            hp_buf_putc(b, '}');
        break;
    case HP_BSON_DOC: case HP_BSON_ARRAY:
        hp_bson_sub(el, &d, &dl);
        bs_json(d, dl, b, depth - 1, el->type == HP_BSON_ARRAY);
        break;
    case HP_BSON_BINARY:
        hp_buf_puts(b, "{\"$binary\":{\"base64\":\"");
        js_b64(b, el->val + 5, el->vlen - 5);
        hp_buf_printf(b, "\",\"subType\":\"%02x\"}}", el->val[4]);
        break;
    case HP_BSON_OID:
        hp_buf_puts(b, "{\"$oid\":\"");
        js_hex(b, el->val, 12);
        hp_buf_puts(b, "\"}");
        break;
    case HP_BSON_BOOL:
        hp_buf_puts(b, el->val[0] ? "true" : "false");
        break;
    case HP_BSON_DATE:
        hp_buf_printf(b, "{\"$date\":{\"$numberLong\":\"%" PRId64 "\"}}", (int64_t)bs_le64(el->val));
        break;
    case HP_BSON_NULL:
        hp_buf_puts(b, "null");
        break;
    case HP_BSON_INT32:
        hp_buf_printf(b, "%" PRId32, (int32_t)bs_le32(el->val));
        break;
    case HP_BSON_INT64:
        hp_buf_printf(b, "%" PRId64, (int64_t)bs_le64(el->val));
        break;
    case HP_BSON_TS:
        hp_buf_printf(b, "{\"$timestamp\":{\"t\":%" PRIu32 ",\"i\":%" PRIu32 "}}", bs_le32(el->val + 4),
                      bs_le32(el->val));
        break;
    case HP_BSON_REGEX:
        hp_buf_puts(b, "{\"$regularExpression\":{\"pattern\":");
        js_str(b, (const char *)el->val, strlen((const char *)el->val));
        hp_buf_puts(b, ",\"options\":");
        s = (const char *)el->val + strlen((const char *)el->val) + 1;
        js_str(b, s, strlen(s));
        hp_buf_puts(b, "}}");
        break;
    case HP_BSON_DEC128:
        hp_buf_puts(b, "{\"$numberDecimalBytes\":\"");
        js_hex(b, el->val, 16);
        hp_buf_puts(b, "\"}");
        break;
    case HP_BSON_MINKEY:
        hp_buf_puts(b, "{\"$minKey\":1}");
        break;
    case HP_BSON_MAXKEY:
        hp_buf_puts(b, "{\"$maxKey\":1}");
        break;
    default:
        hp_buf_puts(b, el->type == HP_BSON_UNDEF ? "{\"$undefined\":true}" : "{\"$type\":\"other\"}");
        break;
    }
}

static void bs_json(const uint8_t *doc, size_t len, struct hp_buf *b, int depth, bool arr)
{
    struct hp_rd r, body;
    struct hp_bson_el el;
    hp_rd_init(&r, doc, len);
    if (depth <= 0 || !hp_bson_doc(&r, &body)) {
        hp_buf_puts(b, "{\"$truncated\":true}");
        return;
    }
    bool first = true;
    hp_buf_putc(b, arr ? '[' : '{');
    while (hp_bson_next(&body, &el) && hp_buf_ok(b)) {
        if (!first)
            hp_buf_putc(b, ',');
        first = false;
        if (!arr) {
            js_str(b, el.name, el.nlen);
            hp_buf_putc(b, ':');
        }
        js_value(&el, b, depth);
    }
    hp_buf_putc(b, arr ? ']' : '}');
}

void hp_bson_json(const uint8_t *doc, size_t len, struct hp_buf *b, int depth)
{
    bs_json(doc, len, b, depth, false);
}

/* ---- BSON writing --------------------------------------------------------------------- */

static void bw_u32(struct hp_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    hp_buf_put(b, x, 4);
}

static void bw_u64(struct hp_buf *b, uint64_t v)
{
    bw_u32(b, (uint32_t)v);
    bw_u32(b, (uint32_t)(v >> 32));
}

/* Start a document (returns where its length goes); bw_end closes it. */
static size_t bw_begin(struct hp_buf *b)
{
    size_t at = b->len;
    bw_u32(b, 0);
    return at;
}

static void bw_end(struct hp_buf *b, size_t at)
{
    hp_buf_putc(b, 0);
    if (!hp_buf_ok(b) || at + 4 > b->len)
        return;
    uint32_t n = (uint32_t)(b->len - at);
    b->data[at] = (uint8_t)n;
    b->data[at + 1] = (uint8_t)(n >> 8);
    b->data[at + 2] = (uint8_t)(n >> 16);
    b->data[at + 3] = (uint8_t)(n >> 24);
}

static void bw_key(struct hp_buf *b, uint8_t type, const char *k)
{
    hp_buf_putc(b, type);
    hp_buf_put(b, k, strlen(k) + 1);
}

static void bw_double(struct hp_buf *b, const char *k, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    bw_key(b, HP_BSON_DOUBLE, k);
    bw_u64(b, u);
}

static void bw_strn(struct hp_buf *b, const char *k, const char *s, size_t n)
{
    bw_key(b, HP_BSON_STRING, k);
    bw_u32(b, (uint32_t)n + 1);
    hp_buf_put(b, s, n);
    hp_buf_putc(b, 0);
}

static void bw_str(struct hp_buf *b, const char *k, const char *s)
{
    bw_strn(b, k, s, strlen(s));
}

static void bw_i32(struct hp_buf *b, const char *k, int32_t v)
{
    bw_key(b, HP_BSON_INT32, k);
    bw_u32(b, (uint32_t)v);
}

static void bw_i64(struct hp_buf *b, const char *k, int64_t v)
{
    bw_key(b, HP_BSON_INT64, k);
    bw_u64(b, (uint64_t)v);
}

static void bw_bool(struct hp_buf *b, const char *k, bool v)
{
    bw_key(b, HP_BSON_BOOL, k);
    hp_buf_putc(b, v ? 1 : 0);
}

static void bw_date(struct hp_buf *b, const char *k, int64_t ms)
{
    bw_key(b, HP_BSON_DATE, k);
    bw_u64(b, (uint64_t)ms);
}

static void bw_oid(struct hp_buf *b, const char *k, const uint8_t oid[12])
{
    bw_key(b, HP_BSON_OID, k);
    hp_buf_put(b, oid, 12);
}

static void bw_bin(struct hp_buf *b, const char *k, uint8_t subtype, const void *p, size_t n)
{
    bw_key(b, HP_BSON_BINARY, k);
    bw_u32(b, (uint32_t)n);
    hp_buf_putc(b, subtype);
    hp_buf_put(b, p, n);
}

static size_t bw_sub(struct hp_buf *b, const char *k, bool array)
{
    bw_key(b, array ? HP_BSON_ARRAY : HP_BSON_DOC, k);
    return bw_begin(b);
}

/* A document already in BSON (validated), under key k. */
static void bw_raw_doc(struct hp_buf *b, const char *k, const uint8_t *doc, size_t n)
{
    bw_key(b, HP_BSON_DOC, k);
    hp_buf_put(b, doc, n);
}

/* ---- the claimed server -------------------------------------------------------------- */

struct mg_release {
    const char *version;
    int wire;                       /* maxWireVersion */
    const char *openssl;
    const char *distmod;
};

static const struct mg_release mg_releases[] = {
    {"4.4.18", 9, "OpenSSL 1.1.1f  31 Mar 2020", "ubuntu2004"},
    {"4.4.25", 9, "OpenSSL 1.1.1f  31 Mar 2020", "ubuntu2004"},
    {"4.4.29", 9, "OpenSSL 1.1.1n  15 Mar 2022", "debian11"},
    {"5.0.14", 13, "OpenSSL 1.1.1f  31 Mar 2020", "ubuntu2004"},
    {"5.0.23", 13, "OpenSSL 3.0.2 15 Mar 2022", "ubuntu2204"},
    {"5.0.26", 13, "OpenSSL 1.1.1n  15 Mar 2022", "debian11"},
    {"6.0.5", 17, "OpenSSL 3.0.2 15 Mar 2022", "ubuntu2204"},
    {"6.0.12", 17, "OpenSSL 3.0.2 15 Mar 2022", "ubuntu2204"},
    {"6.0.14", 17, "OpenSSL 1.1.1n  15 Mar 2022", "debian11"},
};

static const char *const mg_appdbs[] = {
    "app", "production", "shop", "crm", "inventory", "users", "webapp", "analytics", "orders", "cms",
    "backend", "prod", "main", "data", "customers",
};

static struct {
    char version[24];
    const struct mg_release *rel;
    char git[41];
    char appdb[32];
    char host[96];
    uint8_t process_id[12];         /* topologyVersion.processId */
    long pid;
    int64_t started_ms;             /* claimed start (before the sensor's) */
    uint64_t conns;
    bool ready;
} mg_id;

int hp_mongo_set_version(const char *version)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(mg_releases); i++)
        if (version && strcmp(mg_releases[i].version, version) == 0) {
            snprintf(mg_id.version, sizeof(mg_id.version), "%s", version);
            mg_id.rel = &mg_releases[i];
            return 0;
        }
    return -1;
}

const char *hp_mongo_version(void)
{
    return mg_id.version;
}

int hp_mongo_max_wire(void)
{
    return mg_id.rel ? mg_id.rel->wire : 0;
}

static bool mg_ge(int maj)
{
    return mg_id.version[0] - '0' >= maj;
}

/* A value of the identity file, or a fresh one drawn and written there. */
static void mg_fact(char *out, size_t len, const char *key, const char *drawn, bool (*ok)(const char *))
{
    const char *v = hp_identity_get(key);
    if (!v || !*v || strlen(v) >= len || (ok && !ok(v))) {
        v = drawn;
        hp_identity_set(key, v);
    }
    snprintf(out, len, "%s", v);
}

static bool mg_known_version(const char *v)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(mg_releases); i++)
        if (strcmp(mg_releases[i].version, v) == 0)
            return true;
    return false;
}

static bool mg_is_name(const char *v)
{
    for (const char *p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return false;
    return true;
}

static bool mg_is_hex40(const char *v)
{
    if (strlen(v) != 40)
        return false;
    for (const char *p = v; *p; p++)
        if (!isxdigit((unsigned char)*p))
            return false;
    return true;
}

static void mg_identity_init(const char *configured)
{
    if (mg_id.ready)
        return;
    char v[24], git[41];
    if (configured && hp_mongo_set_version(configured) == 0) {
        snprintf(v, sizeof(v), "%s", configured);
    } else {
        mg_fact(v, sizeof(v), "mongodb_version", mg_releases[hp_random_u64() % HP_ARRAY_LEN(mg_releases)].version,
                mg_known_version);
        hp_mongo_set_version(v);
    }
    hp_random_hex(git, 40);
    mg_fact(mg_id.git, sizeof(mg_id.git), "mongodb_git_version", git, mg_is_hex40);
    mg_fact(mg_id.appdb, sizeof(mg_id.appdb), "mongodb_appdb", mg_appdbs[hp_random_u64() % HP_ARRAY_LEN(mg_appdbs)],
            mg_is_name);
    const char *h = hp_identity_get("hostname");
    bool hok = h && *h && strlen(h) < 64;
    for (const char *p = h; hok && *p; p++)
        hok = isalnum((unsigned char)*p) || *p == '-' || *p == '.';
    snprintf(mg_id.host, sizeof(mg_id.host), "%s", hok ? h : "localhost");
    hp_random_bytes(mg_id.process_id, sizeof(mg_id.process_id));
    mg_id.pid = 600 + (long)(hp_random_u64() % 4000);
    mg_id.started_ms = hp_now_us() / 1000 - (int64_t)(3600 + hp_random_u64() % (90 * 86400)) * 1000;
    mg_id.conns = 10 + hp_random_u64() % 3000;
    mg_id.ready = true;
}

/* ---- a connection ------------------------------------------------------------------------ */

#define MG_MAX_DOCS      64                 /* inserted documents kept per connection */
#define MG_MAX_DOCBYTES  (256 * 1024)
#define MG_MAX_NS        48                 /* namespaces created or dropped per connection */
#define MG_MAX_SEQ       4                  /* OP_MSG document sequences */
#define MG_MAX_LOGINS    64
#define MG_INPUT_MAX     (16 * 1024)        /* command.input text */
#define MG_INSERT_MAX    (64 * 1024)        /* mongodb.insert documents text */
#define MG_REPLY_MAX     (1024 * 1024)

struct mg_doc {
    char ns[160];
    uint8_t *bson;
    size_t len;
};

/* A namespace ("db" or "db.coll") this connection created or dropped. */
struct mg_ns {
    char name[160];
    bool dropped;
};

struct hp_mongo_sess {
    const struct hp_mongo_conf *conf;
    const struct hp_evctx *ctx;
    struct hp_buf *out;
    int32_t next_id;
    uint64_t conn_id;
    struct mg_doc docs[MG_MAX_DOCS];
    size_t ndocs, docbytes;
    struct mg_ns ns[MG_MAX_NS];
    size_t nns;
    /* SCRAM in progress */
    bool sasl_pending;
    bool sasl_sha1;
    char sasl_db[64];
    char sasl_user[256];
    char client_first_bare[512];
    char server_first[512];
    unsigned logins;
    char app[128];
    char driver[128];
    bool close;
    const char *close_reason;
};

struct hp_mongo_sess *hp_mongo_sess_new(const struct hp_mongo_conf *conf, const struct hp_evctx *ctx)
{
    mg_identity_init(conf ? conf->version : NULL);
    struct hp_mongo_sess *s = hp_xcalloc(1, sizeof(*s));
    s->conf = conf;
    s->ctx = ctx;
    s->next_id = (int32_t)(hp_random_u64() % 100000) + 1000;
    s->conn_id = ++mg_id.conns;
    return s;
}

static void mg_flush_login(struct hp_mongo_sess *s, const char *proof, size_t plen, const char *final_bare);

void hp_mongo_sess_end(struct hp_mongo_sess *s)
{
    if (s && s->sasl_pending)
        mg_flush_login(s, NULL, 0, NULL);
}

void hp_mongo_sess_free(struct hp_mongo_sess *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ndocs; i++)
        free(s->docs[i].bson);
    free(s);
}

/* A parsed command: the body and its document sequences. */
struct mg_cmd {
    const uint8_t *body;
    size_t blen;
    const char *name;
    char db[64];
    bool opquery;
    size_t nseq;
    struct {
        char id[32];
        const uint8_t *p;        /* concatenated documents, each validated */
        size_t n;
    } seq[MG_MAX_SEQ];
};

static bool mg_is(const struct mg_cmd *c, const char *name)
{
    return strcmp(c->name, name) == 0;
}

static bool mg_get(const struct mg_cmd *c, const char *key, struct hp_bson_el *el)
{
    return hp_bson_find(c->body, c->blen, key, el);
}

/* A string field copied out (cut to fit, NULs end it); "" when absent. */
static const char *mg_getstr(const struct mg_cmd *c, const char *key, char *out, size_t len)
{
    struct hp_bson_el el;
    const char *p;
    size_t n;
    out[0] = '\0';
    if (mg_get(c, key, &el) && hp_bson_str(&el, &p, &n))
        snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p);
    return out;
}

/* The command's first field's string value, e.g. the collection of {find: "x"}. */
static const char *mg_arg(const struct mg_cmd *c, char *out, size_t len)
{
    return mg_getstr(c, c->name, out, len);
}

/* Up to max documents of field 'key' (a document sequence or a body array). */
static size_t mg_docs(const struct mg_cmd *c, const char *key, const uint8_t **docs, size_t *lens, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nseq; i++) {
        if (strcmp(c->seq[i].id, key) != 0)
            continue;
        struct hp_rd r, body;
        hp_rd_init(&r, c->seq[i].p, c->seq[i].n);
        while (n < max && hp_rd_left(&r)) {
            const uint8_t *start = hp_rd_ptr(&r);
            if (!hp_bson_doc(&r, &body))
                break;
            docs[n] = start;
            lens[n++] = (size_t)(hp_rd_ptr(&r) - start);
        }
        return n;
    }
    struct hp_bson_el el;
    const uint8_t *a;
    size_t al;
    if (!mg_get(c, key, &el) || el.type != HP_BSON_ARRAY || !hp_bson_sub(&el, &a, &al))
        return 0;
    struct hp_rd r, body;
    hp_rd_init(&r, a, al);
    if (!hp_bson_doc(&r, &body))
        return 0;
    while (n < max && hp_bson_next(&body, &el))
        if (hp_bson_sub(&el, &docs[n], &lens[n]) && el.type == HP_BSON_DOC)
            n++;
    return n;
}

/* ---- events ---- */

static void mg_render(const struct mg_cmd *c, struct hp_buf *t)
{
    hp_bson_json(c->body, c->blen, t, HP_MONGO_MAX_DEPTH);
    for (size_t i = 0; i < c->nseq && hp_buf_ok(t); i++) {
        if (t->len && t->data[t->len - 1] == '}') {
            t->len--;
            if (t->len && t->data[t->len - 1] != '{')
                hp_buf_putc(t, ',');
        }
        hp_buf_printf(t, "\"%s\":[", c->seq[i].id);
        struct hp_rd r, body;
        hp_rd_init(&r, c->seq[i].p, c->seq[i].n);
        bool first = true;
        while (hp_rd_left(&r) && hp_buf_ok(t)) {
            const uint8_t *start = hp_rd_ptr(&r);
            if (!hp_bson_doc(&r, &body))
                break;
            if (!first)
                hp_buf_putc(t, ',');
            first = false;
            hp_bson_json(start, (size_t)(hp_rd_ptr(&r) - start), t, HP_MONGO_MAX_DEPTH);
        }
        hp_buf_puts(t, "]}");
    }
}

static void mg_ev_input(struct hp_mongo_sess *s, const struct mg_cmd *c)
{
    struct hp_buf t;
    hp_buf_init(&t, MG_INPUT_MAX);
    hp_buf_puts(&t, c->name);
    hp_buf_putc(&t, ' ');
    mg_render(c, &t);
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "command.input");
    hp_ev_bytes(&ev, "input", t.data, t.len);
    if (!hp_buf_ok(&t))
        hp_ev_bool(&ev, "input_truncated", true);
    hp_ev_bytes(&ev, "command", c->name, strlen(c->name));
    hp_ev_str(&ev, "database", c->db);
    hp_ev_str(&ev, "op", c->opquery ? "OP_QUERY" : "OP_MSG");
    hp_ev_emit(&ev);
    hp_buf_free(&t);
}

static void mg_ev_login_common(struct hp_mongo_sess *s, struct hp_ev *ev)
{
    hp_ev_str(ev, "database", s->sasl_db);
    if (s->app[0])
        hp_ev_str(ev, "client_app", s->app);
    if (s->driver[0])
        hp_ev_str(ev, "client_driver", s->driver);
    hp_ev_uint(ev, "attempt", s->logins);
}

/* The SCRAM attempt in progress, with what the client proved (if it got
 * that far): enough to test password guesses offline. */
static void mg_flush_login(struct hp_mongo_sess *s, const char *proof, size_t plen, const char *final_bare)
{
    s->sasl_pending = false;
    if (s->logins >= MG_MAX_LOGINS)
        return;
    s->logins++;
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "login.failed");
    hp_ev_str(&ev, "username", s->sasl_user);
    hp_ev_str(&ev, "method", s->sasl_sha1 ? "scram-sha-1" : "scram-sha-256");
    mg_ev_login_common(s, &ev);
    hp_ev_str(&ev, "scram_client_first", s->client_first_bare);
    hp_ev_str(&ev, "scram_server_first", s->server_first);
    if (final_bare)
        hp_ev_str(&ev, "scram_client_final", final_bare);
    if (proof)
        hp_ev_bytes(&ev, "scram_proof", proof, plen);
    hp_ev_emit(&ev);
}

/* ---- replies ---- */

static void mg_ok(struct hp_buf *d)
{
    bw_double(d, "ok", 1.0);
}

static void mg_error(struct hp_buf *d, int code, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void mg_error(struct hp_buf *d, int code, const char *name, const char *fmt, ...)
{
    char m[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof(m), fmt, ap);
    va_end(ap);
    bw_double(d, "ok", 0.0);
    bw_str(d, "errmsg", m);
    bw_i32(d, "code", code);
    bw_str(d, "codeName", name);
}

/* ---- SASL ---- */

static void mg_b64(const uint8_t *p, size_t n, char *out, size_t outlen)
{
    struct hp_buf b;
    hp_buf_init(&b, outlen - 1);
    js_b64(&b, p, n);
    size_t k = hp_buf_ok(&b) ? b.len : 0;
    if (k)
        memcpy(out, b.data, k);
    out[k] = '\0';
    hp_buf_free(&b);
}

/* "n=user,r=nonce" fields of SCRAM text; the value is copied, cut to fit. */
static bool mg_scram_attr(const char *msg, size_t n, char key, char *out, size_t outlen)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if ((i == 0 || msg[i - 1] == ',') && msg[i] == key && msg[i + 1] == '=') {
            size_t j = i + 2, k = 0;
            while (j < n && msg[j] != ',' && k + 1 < outlen) {
                if (key == 'n' && msg[j] == '=' && j + 2 < n && msg[j + 1] == '2' && msg[j + 2] == 'C')
                    out[k++] = ',', j += 3;
                else if (key == 'n' && msg[j] == '=' && j + 2 < n && msg[j + 1] == '3' && msg[j + 2] == 'D')
                    out[k++] = '=', j += 3;
                else
                    out[k++] = msg[j++];
            }
            out[k] = '\0';
            return true;
        }
    }
    out[0] = '\0';
    return false;
}

/* The payload of a sasl command: BinData, or a string from old shells. */
static bool mg_payload(const uint8_t *doc, size_t len, const uint8_t **p, size_t *n)
{
    struct hp_bson_el el;
    if (!hp_bson_find(doc, len, "payload", &el))
        return false;
    if (hp_bson_bin(&el, p, n))
        return true;
    const char *s;
    if (hp_bson_str(&el, &s, n)) {
        *p = (const uint8_t *)s;
        return true;
    }
    return false;
}

/* saslStart (also the one inside hello's speculativeAuthenticate): reply
 * fields go to d.  Returns false when the reply is an error. */
static bool mg_sasl_start(struct hp_mongo_sess *s, const uint8_t *doc, size_t len, const char *db, struct hp_buf *d)
{
    char mech[32] = "";
    struct hp_bson_el el;
    const char *ms;
    size_t ml;
    if (hp_bson_find(doc, len, "mechanism", &el) && hp_bson_str(&el, &ms, &ml))
        snprintf(mech, sizeof(mech), "%.*s", (int)(ml < sizeof(mech) ? ml : sizeof(mech) - 1), ms);
    const uint8_t *pl = NULL;
    size_t pn = 0;
    mg_payload(doc, len, &pl, &pn);
    if (s->sasl_pending)
        mg_flush_login(s, NULL, 0, NULL);
    snprintf(s->sasl_db, sizeof(s->sasl_db), "%s", db);
    if (strcmp(mech, "PLAIN") == 0) {
        /* authzid NUL authcid NUL passwd */
        const uint8_t *z1 = pl ? memchr(pl, 0, pn) : NULL;
        const uint8_t *z2 = z1 ? memchr(z1 + 1, 0, pn - (size_t)(z1 + 1 - pl)) : NULL;
        if (z2 && s->logins < MG_MAX_LOGINS) {
            s->logins++;
            struct hp_ev ev;
            hp_ev_begin(&ev, s->ctx, "login.failed");
            hp_ev_bytes(&ev, "username", z1 + 1, (size_t)(z2 - z1 - 1));
            hp_ev_bytes(&ev, "password", z2 + 1, pn - (size_t)(z2 + 1 - pl));
            hp_ev_str(&ev, "method", "plain");
            mg_ev_login_common(s, &ev);
            hp_knowledge_ev_cred(&ev, z1 + 1, (size_t)(z2 - z1 - 1), z2 + 1, pn - (size_t)(z2 + 1 - pl));
            hp_ev_emit(&ev);
        }
    }
    bool sha1 = strcmp(mech, "SCRAM-SHA-1") == 0;
    if (!sha1 && strcmp(mech, "SCRAM-SHA-256") != 0) {
        mg_error(d, 334, "MechanismUnavailable", "Received authentication for mechanism %s which is not enabled",
                 mech);
        return false;
    }
    /* client-first: gs2 header ("n,," or "y,,", maybe "a=authzid") then the bare message */
    const char *cf = (const char *)pl;
    size_t cn = pl ? pn : 0, i = 0, commas = 0;
    while (i < cn && commas < 2)
        commas += cf[i++] == ',';
    char user[256], nonce[128];
    if (commas < 2 || !mg_scram_attr(cf + i, cn - i, 'n', user, sizeof(user)) ||
        !mg_scram_attr(cf + i, cn - i, 'r', nonce, sizeof(nonce))) {
        mg_error(d, 17, "ProtocolError", "Invalid SCRAM client first message");
        return false;
    }
    s->sasl_pending = true;
    s->sasl_sha1 = sha1;
    snprintf(s->sasl_user, sizeof(s->sasl_user), "%s", user);
    snprintf(s->client_first_bare, sizeof(s->client_first_bare), "%.*s", (int)(cn - i), cf + i);
    /* The salt a real server would have for this user: the same on every try
     * (mongod hides unknown users behind a stable fake salt too). */
    uint8_t md[EVP_MAX_MD_SIZE], rnd[24];
    unsigned mdl = 0;
    char seed[320], salt[64], snonce[40];
    snprintf(seed, sizeof(seed), "%s:%s:%d", mg_id.git, user, sha1);
    EVP_Digest(seed, strlen(seed), md, &mdl, EVP_sha256(), NULL);
    mg_b64(md, sha1 ? 16 : 28, salt, sizeof(salt));
    hp_random_bytes(rnd, sizeof(rnd));
    mg_b64(rnd, sizeof(rnd), snonce, sizeof(snonce));
    snprintf(s->server_first, sizeof(s->server_first), "r=%s%s,s=%s,i=%d", nonce, snonce, salt,
             sha1 ? 10000 : 15000);
    bw_i32(d, "conversationId", 1);
    bw_bool(d, "done", false);
    bw_bin(d, "payload", 0, s->server_first, strlen(s->server_first));
    return true;
}

static void cmd_sasl_start(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    if (mg_sasl_start(s, c->body, c->blen, c->db, d))
        mg_ok(d);
}

static void cmd_sasl_continue(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    if (!s->sasl_pending) {
        mg_error(d, 17, "ProtocolError", "No SASL session state found");
        return;
    }
    const uint8_t *pl = NULL;
    size_t pn = 0;
    char proof[256], bare[600];
    mg_payload(c->body, c->blen, &pl, &pn);
    const char *cf = pl ? (const char *)pl : "";
    bool has = mg_scram_attr(cf, pn, 'p', proof, sizeof(proof));
    const char *pp = NULL;
    for (size_t i = 0; i + 2 < pn; i++)
        if (cf[i] == ',' && cf[i + 1] == 'p' && cf[i + 2] == '=') {
            pp = cf + i;
            break;
        }
    snprintf(bare, sizeof(bare), "%.*s", (int)(pp ? (size_t)(pp - cf) : (pn < 599 ? pn : 599)), cf);
    mg_flush_login(s, has ? proof : NULL, has ? strlen(proof) : 0, bare);
    mg_error(d, 18, "AuthenticationFailed", "Authentication failed.");
}

/* ---- the namespace view ---- */

static const char *const mg_fake_colls[] = {"users", "orders", "sessions", "products"};

static int mg_ns_state(const struct hp_mongo_sess *s, const char *name)
{
    for (size_t i = s->nns; i-- > 0;)
        if (strcmp(s->ns[i].name, name) == 0)
            return s->ns[i].dropped ? 1 : 0;
    return -1;
}

static void mg_ns_note(struct hp_mongo_sess *s, const char *name, bool dropped)
{
    for (size_t i = 0; i < s->nns; i++)
        if (strcmp(s->ns[i].name, name) == 0) {
            s->ns[i].dropped = dropped;
            return;
        }
    size_t i = s->nns < MG_MAX_NS ? s->nns++ : MG_MAX_NS - 1;
    snprintf(s->ns[i].name, sizeof(s->ns[i].name), "%s", name);
    s->ns[i].dropped = dropped;
}

static bool mg_fake_db(const char *db)
{
    return !strcmp(db, "admin") || !strcmp(db, "config") || !strcmp(db, "local") || !strcmp(db, mg_id.appdb);
}

/* The collections a database starts with (NULL-terminated into out). */
static size_t mg_fake_list(const char *db, const char **out, size_t max)
{
    size_t n = 0;
    if (!strcmp(db, mg_id.appdb))
        for (size_t i = 0; i < HP_ARRAY_LEN(mg_fake_colls) && n < max; i++)
            out[n++] = mg_fake_colls[i];
    else if (!strcmp(db, "admin") && n < max)
        out[n++] = "system.version";
    else if (!strcmp(db, "config") && n < max)
        out[n++] = "system.sessions";
    else if (!strcmp(db, "local") && n < max)
        out[n++] = "startup_log";
    return n;
}

static bool mg_coll_exists(const struct hp_mongo_sess *s, const char *db, const char *coll)
{
    char ns[160];
    snprintf(ns, sizeof(ns), "%s.%s", db, coll);
    int st = mg_ns_state(s, ns);
    if (st >= 0)
        return st == 0;
    if (mg_ns_state(s, db) == 1)
        return false;
    const char *f[8];
    size_t n = mg_fake_list(db, f, 8);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(f[i], coll))
            return true;
    return false;
}

static bool mg_db_exists(const struct hp_mongo_sess *s, const char *db)
{
    if (mg_fake_db(db) && mg_ns_state(s, db) != 1)
        return true;
    size_t dl = strlen(db);
    for (size_t i = 0; i < s->nns; i++)
        if (!s->ns[i].dropped && !strncmp(s->ns[i].name, db, dl) && s->ns[i].name[dl] == '.')
            return true;
    return false;
}

static void mg_drop_docs(struct hp_mongo_sess *s, const char *prefix, bool whole_db)
{
    size_t pl = strlen(prefix);
    for (size_t i = s->ndocs; i-- > 0;) {
        const char *ns = s->docs[i].ns;
        if (whole_db ? (strncmp(ns, prefix, pl) == 0 && ns[pl] == '.') : strcmp(ns, prefix) == 0) {
            s->docbytes -= s->docs[i].len;
            free(s->docs[i].bson);
            memmove(&s->docs[i], &s->docs[i + 1], (s->ndocs - i - 1) * sizeof(s->docs[0]));
            s->ndocs--;
        }
    }
}

static void mg_uuid(const char *ns, uint8_t out[16])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned ml = 0;
    char seed[256];
    snprintf(seed, sizeof(seed), "%s/%s", mg_id.git, ns);
    EVP_Digest(seed, strlen(seed), md, &ml, EVP_sha256(), NULL);
    memcpy(out, md, 16);
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

/* ---- commands ---- */

typedef void mg_fn(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d);

static void mg_client_meta(struct hp_mongo_sess *s, const struct mg_cmd *c)
{
    struct hp_bson_el el, e2;
    const uint8_t *cl, *sub;
    size_t cll, subl;
    const char *p, *v;
    size_t n, vn;
    if (!mg_get(c, "client", &el) || !hp_bson_sub(&el, &cl, &cll))
        return;
    if (hp_bson_find(cl, cll, "application", &el) && hp_bson_sub(&el, &sub, &subl) &&
        hp_bson_find(sub, subl, "name", &e2) && hp_bson_str(&e2, &p, &n))
        snprintf(s->app, sizeof(s->app), "%.*s", (int)(n < 127 ? n : 127), p);
    if (hp_bson_find(cl, cll, "driver", &el) && hp_bson_sub(&el, &sub, &subl) &&
        hp_bson_find(sub, subl, "name", &e2) && hp_bson_str(&e2, &p, &n)) {
        if (!(hp_bson_find(sub, subl, "version", &e2) && hp_bson_str(&e2, &v, &vn)))
            v = "", vn = 0;
        snprintf(s->driver, sizeof(s->driver), "%.*s %.*s", (int)(n < 60 ? n : 60), p, (int)(vn < 60 ? vn : 60), v);
    }
}

static void cmd_hello(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    struct hp_bson_el el;
    mg_client_meta(s, c);
    if (mg_get(c, "helloOk", &el) && hp_bson_num(&el) != 0 && mg_ge(5))
        bw_bool(d, "helloOk", true);
    bw_bool(d, mg_is(c, "hello") ? "isWritablePrimary" : "ismaster", true);
    size_t tv = bw_sub(d, "topologyVersion", false);
    bw_oid(d, "processId", mg_id.process_id);
    bw_i64(d, "counter", 0);
    bw_end(d, tv);
    bw_i32(d, "maxBsonObjectSize", 16777216);
    bw_i32(d, "maxMessageSizeBytes", 48000000);
    bw_i32(d, "maxWriteBatchSize", 100000);
    bw_date(d, "localTime", hp_now_us() / 1000);
    bw_i32(d, "logicalSessionTimeoutMinutes", 30);
    bw_i64(d, "connectionId", (int64_t)s->conn_id);
    bw_i32(d, "minWireVersion", 0);
    bw_i32(d, "maxWireVersion", hp_mongo_max_wire());
    bw_bool(d, "readOnly", false);
    if (mg_get(c, "saslSupportedMechs", &el) && el.type == HP_BSON_STRING) {
        size_t a = bw_sub(d, "saslSupportedMechs", true);
        bw_str(d, "0", "SCRAM-SHA-1");
        bw_str(d, "1", "SCRAM-SHA-256");
        bw_end(d, a);
    }
    const uint8_t *sp;
    size_t spl;
    if (mg_get(c, "speculativeAuthenticate", &el) && hp_bson_sub(&el, &sp, &spl) && el.type == HP_BSON_DOC) {
        char db[64] = "admin";
        struct hp_bson_el e2;
        const char *p;
        size_t n;
        if (hp_bson_find(sp, spl, "db", &e2) && hp_bson_str(&e2, &p, &n))
            snprintf(db, sizeof(db), "%.*s", (int)(n < 63 ? n : 63), p);
        struct hp_buf sd;
        hp_buf_init(&sd, 4096);
        size_t at = bw_begin(&sd);
        bool ok = mg_sasl_start(s, sp, spl, db, &sd);
        bw_end(&sd, at);
        if (ok && hp_buf_ok(&sd))              /* a refused one is simply not answered */
            bw_raw_doc(d, "speculativeAuthenticate", sd.data, sd.len);
        hp_buf_free(&sd);
    }
    mg_ok(d);
}

static void cmd_buildinfo(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    int maj = 0, min = 0, pat = 0;
    sscanf(mg_id.version, "%d.%d.%d", &maj, &min, &pat);
    bw_str(d, "version", mg_id.version);
    bw_str(d, "gitVersion", mg_id.git);
    size_t a = bw_sub(d, "modules", true);
    bw_end(d, a);
    bw_str(d, "allocator", "tcmalloc");
    bw_str(d, "javascriptEngine", "mozjs");
    bw_str(d, "sysInfo", "deprecated");
    a = bw_sub(d, "versionArray", true);
    bw_i32(d, "0", maj);
    bw_i32(d, "1", min);
    bw_i32(d, "2", pat);
    bw_i32(d, "3", 0);
    bw_end(d, a);
    a = bw_sub(d, "openssl", false);
    bw_str(d, "running", mg_id.rel->openssl);
    bw_str(d, "compiled", mg_id.rel->openssl);
    bw_end(d, a);
    a = bw_sub(d, "buildEnvironment", false);
    bw_str(d, "distmod", mg_id.rel->distmod);
    bw_str(d, "distarch", "x86_64");
    bw_str(d, "cc", mg_ge(5) ? "/opt/mongodbtoolchain/v3/bin/gcc: gcc (GCC) 8.5.0"
                              : "/opt/mongodbtoolchain/v3/bin/gcc: gcc (GCC) 8.2.0");
    bw_str(d, "ccflags", "-Werror -include mongo/platform/basic.h -fasynchronous-unwind-tables -ggdb -Wall "
                         "-Wsign-compare -Wno-unknown-pragmas -Winvalid-pch -fno-omit-frame-pointer "
                         "-fno-strict-aliasing -O2 -march=sandybridge -mtune=generic -mprefer-vector-width=128 "
                         "-Wno-unused-local-typedefs -Wno-unused-function -Wno-deprecated-declarations "
                         "-Wno-unused-const-variable -Wno-unused-but-set-variable -Wno-missing-braces "
                         "-fstack-protector-strong -fdebug-types-section -Wa,--nocompress-debug-sections "
                         "-fno-builtin-memcmp");
    bw_str(d, "cxx", mg_ge(5) ? "/opt/mongodbtoolchain/v3/bin/g++: g++ (GCC) 8.5.0"
                               : "/opt/mongodbtoolchain/v3/bin/g++: g++ (GCC) 8.2.0");
    bw_str(d, "cxxflags", "-Woverloaded-virtual -Wno-maybe-uninitialized -fsized-deallocation -std=c++17");
    bw_str(d, "linkflags", "-Wl,--fatal-warnings -pthread -Wl,-z,now -fuse-ld=gold -fstack-protector-strong "
                           "-fdebug-types-section -Wl,--no-threads -Wl,--build-id -Wl,--hash-style=gnu "
                           "-Wl,-z,noexecstack -Wl,--warn-execstack -Wl,-z,relro -Wl,--compress-debug-sections=none "
                           "-Wl,-z,origin -Wl,--enable-new-dtags");
    bw_str(d, "target_arch", "x86_64");
    bw_str(d, "target_os", "linux");
    bw_str(d, "cppdefines", "SAFEINT_USE_INTRINSICS 0 PCRE_STATIC NDEBUG _XOPEN_SOURCE 700 _GNU_SOURCE "
                            "_REENTRANT 1 _FORTIFY_SOURCE 2 BOOST_THREAD_VERSION 5 BOOST_THREAD_USES_DATETIME "
                            "BOOST_SYSTEM_NO_DEPRECATED BOOST_MATH_NO_LONG_DOUBLE_MATH_FUNCTIONS "
                            "BOOST_ENABLE_ASSERT_DEBUG_HANDLER BOOST_LOG_NO_SHORTHAND_NAMES BOOST_LOG_USE_NATIVE_SYSLOG "
                            "BOOST_LOG_WITHOUT_THREAD_ATTR ABSL_FORCE_ALIGNED_ACCESS");
    bw_end(d, a);
    bw_i32(d, "bits", 64);
    bw_bool(d, "debug", false);
    bw_i32(d, "maxBsonObjectSize", 16777216);
    a = bw_sub(d, "storageEngines", true);
    if (mg_ge(6)) {
        bw_str(d, "0", "devnull");
        bw_str(d, "1", "wiredTiger");
    } else {
        bw_str(d, "0", "devnull");
        bw_str(d, "1", "ephemeralForTest");
        bw_str(d, "2", "wiredTiger");
    }
    bw_end(d, a);
    mg_ok(d);
}

static void mg_logdate(int64_t ms, char *out, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00", (tm.tm_year + 1900) % 10000, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static void cmd_getlog(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    char which[64];
    mg_arg(c, which, sizeof(which));
    if (!strcmp(which, "*")) {
        size_t a = bw_sub(d, "names", true);
        bw_str(d, "0", "global");
        bw_str(d, "1", "startupWarnings");
        bw_end(d, a);
        mg_ok(d);
        return;
    }
    if (strcmp(which, "startupWarnings") != 0 && strcmp(which, "global") != 0) {
        mg_error(d, 0, "", "no RamLog named: %s", which);
        return;
    }
    char ts[64], line[512];
    mg_logdate(mg_id.started_ms + 1234, ts, sizeof(ts));
    bw_i32(d, "totalLinesWritten", 2);
    size_t a = bw_sub(d, "log", true);
    snprintf(line, sizeof(line), "{\"t\":{\"$date\":\"%s\"},\"s\":\"W\",  \"c\":\"CONTROL\",  \"id\":22120,   "
             "\"ctx\":\"initandlisten\",\"msg\":\"Access control is not enabled for the database. Read and write "
             "access to data and configuration is unrestricted\",\"tags\":[\"startupWarnings\"]}", ts);
    bw_str(d, "0", line);
    snprintf(line, sizeof(line), "{\"t\":{\"$date\":\"%s\"},\"s\":\"W\",  \"c\":\"CONTROL\",  \"id\":22178,   "
             "\"ctx\":\"initandlisten\",\"msg\":\"/sys/kernel/mm/transparent_hugepage/enabled is 'always'. We "
             "suggest setting it to 'never'\",\"tags\":[\"startupWarnings\"]}", ts);
    bw_str(d, "1", line);
    bw_end(d, a);
    mg_ok(d);
}

static int64_t mg_db_size(const struct hp_mongo_sess *s, const char *db)
{
    if (!strcmp(db, "admin"))
        return 40960;
    if (!strcmp(db, "config"))
        return 110592;
    if (!strcmp(db, "local"))
        return 73728;
    if (!strcmp(db, mg_id.appdb) && mg_ns_state(s, db) != 1) {
        uint64_t h = 0;
        for (const char *p = mg_id.git; *p; p++)
            h = h * 31 + (unsigned char)*p;
        return 4096 * (64 + (int64_t)(h & 0x3fff));
    }
    return 8192;
}

static void cmd_listdatabases(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    struct hp_bson_el el;
    bool name_only = mg_get(c, "nameOnly", &el) && hp_bson_num(&el) != 0;
    const char *names[MG_MAX_NS + 4];
    size_t n = 0;
    const char *fake[] = {"admin", "config", "local", mg_id.appdb};
    for (size_t i = 0; i < HP_ARRAY_LEN(fake); i++)
        if (mg_db_exists(s, fake[i]))
            names[n++] = fake[i];
    static char extra[MG_MAX_NS][64];
    for (size_t i = 0; i < s->nns && n < HP_ARRAY_LEN(names); i++) {
        char db[64];
        snprintf(db, sizeof(db), "%.*s", (int)strcspn(s->ns[i].name, "."), s->ns[i].name);
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = !strcmp(names[k], db);
        if (!seen && mg_db_exists(s, db)) {
            snprintf(extra[i], sizeof(extra[i]), "%s", db);
            names[n++] = extra[i];
        }
    }
    int64_t total = 0;
    size_t a = bw_sub(d, "databases", true);
    for (size_t i = 0; i < n; i++) {
        char k[8];
        snprintf(k, sizeof(k), "%zu", i);
        size_t e = bw_sub(d, k, false);
        bw_str(d, "name", names[i]);
        if (!name_only) {
            int64_t sz = mg_db_size(s, names[i]);
            total += sz;
            bw_i64(d, "sizeOnDisk", sz);
            bw_bool(d, "empty", false);
        }
        bw_end(d, e);
    }
    bw_end(d, a);
    if (!name_only) {
        bw_i64(d, "totalSize", total);
        bw_i64(d, "totalSizeMb", total / (1024 * 1024));
    }
    mg_ok(d);
}

static void mg_cursor_begin(struct hp_buf *d, size_t *cur, size_t *batch)
{
    *cur = bw_sub(d, "cursor", false);
    *batch = bw_sub(d, "firstBatch", true);
}

static void mg_cursor_end(struct hp_buf *d, size_t cur, size_t batch, const char *ns)
{
    bw_end(d, batch);
    bw_i64(d, "id", 0);
    bw_str(d, "ns", ns);
    bw_end(d, cur);
}

static void cmd_listcollections(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    struct hp_bson_el el;
    bool name_only = mg_get(c, "nameOnly", &el) && hp_bson_num(&el) != 0;
    const char *names[MG_MAX_NS + 8];
    size_t n = 0;
    if (mg_ns_state(s, c->db) != 1)
        n = mg_fake_list(c->db, names, 8);
    size_t dl = strlen(c->db);
    for (size_t i = 0; i < s->nns && n < HP_ARRAY_LEN(names); i++)
        if (!strncmp(s->ns[i].name, c->db, dl) && s->ns[i].name[dl] == '.')
            names[n++] = s->ns[i].name + dl + 1;
    char ns[160];
    snprintf(ns, sizeof(ns), "%s.$cmd.listCollections", c->db);
    size_t cur, batch, k = 0;
    mg_cursor_begin(d, &cur, &batch);
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = !strcmp(names[j], names[i]);
        if (dup || !mg_coll_exists(s, c->db, names[i]))
            continue;
        char key[8], full[160];
        snprintf(key, sizeof(key), "%zu", k++);
        size_t e = bw_sub(d, key, false);
        bw_str(d, "name", names[i]);
        bw_str(d, "type", "collection");
        if (!name_only) {
            size_t o = bw_sub(d, "options", false);
            bw_end(d, o);
            o = bw_sub(d, "info", false);
            bw_bool(d, "readOnly", false);
            uint8_t u[16];
            snprintf(full, sizeof(full), "%s.%s", c->db, names[i]);
            mg_uuid(full, u);
            bw_bin(d, "uuid", 4, u, 16);
            bw_end(d, o);
            o = bw_sub(d, "idIndex", false);
            bw_i32(d, "v", 2);
            size_t kk = bw_sub(d, "key", false);
            bw_i32(d, "_id", 1);
            bw_end(d, kk);
            bw_str(d, "name", "_id_");
            bw_end(d, o);
        }
        bw_end(d, e);
    }
    mg_cursor_end(d, cur, batch, ns);
    mg_ok(d);
}

static void mg_ns_of(const struct mg_cmd *c, char *ns, size_t len, char *coll, size_t clen)
{
    mg_arg(c, coll, clen);
    snprintf(ns, len, "%s.%s", c->db, coll);
}

static void cmd_find(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    char ns[160], coll[96];
    mg_ns_of(c, ns, sizeof(ns), coll, sizeof(coll));
    struct hp_bson_el el;
    double lim = mg_get(c, "limit", &el) ? hp_bson_num(&el) : 0;
    size_t cur, batch, k = 0;
    mg_cursor_begin(d, &cur, &batch);
    for (size_t i = 0; i < s->ndocs && hp_buf_ok(d); i++) {
        if (strcmp(s->docs[i].ns, ns) != 0)
            continue;
        if (lim > 0 && (double)k >= lim)
            break;
        char key[8];
        snprintf(key, sizeof(key), "%zu", k++);
        bw_raw_doc(d, key, s->docs[i].bson, s->docs[i].len);
    }
    mg_cursor_end(d, cur, batch, ns);
    mg_ok(d);
}

static void cmd_insert(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    char ns[160], coll[96];
    mg_ns_of(c, ns, sizeof(ns), coll, sizeof(coll));
    const uint8_t *docs[1000];
    size_t lens[1000];
    size_t n = mg_docs(c, "documents", docs, lens, HP_ARRAY_LEN(docs));
    struct hp_buf t;
    hp_buf_init(&t, MG_INSERT_MAX);
    hp_buf_putc(&t, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            hp_buf_putc(&t, ',');
        hp_bson_json(docs[i], lens[i], &t, HP_MONGO_MAX_DEPTH);
        if (s->ndocs < MG_MAX_DOCS && s->docbytes + lens[i] <= MG_MAX_DOCBYTES) {
            struct mg_doc *m = &s->docs[s->ndocs++];
            snprintf(m->ns, sizeof(m->ns), "%s", ns);
            m->bson = hp_xcalloc(1, lens[i]);
            memcpy(m->bson, docs[i], lens[i]);
            m->len = lens[i];
            s->docbytes += lens[i];
        }
    }
    hp_buf_putc(&t, ']');
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "mongodb.insert");
    hp_ev_str(&ev, "database", c->db);
    hp_ev_str(&ev, "collection", coll);
    hp_ev_uint(&ev, "count", n);
    hp_ev_bytes(&ev, "documents", t.data, t.len);
    if (!hp_buf_ok(&t))
        hp_ev_bool(&ev, "documents_truncated", true);
    hp_ev_emit(&ev);
    hp_buf_free(&t);
    mg_ns_note(s, c->db, false);
    mg_ns_note(s, ns, false);
    bw_i32(d, "n", (int32_t)n);
    mg_ok(d);
}

static void cmd_delete(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    char ns[160], coll[96];
    mg_ns_of(c, ns, sizeof(ns), coll, sizeof(coll));
    size_t before = s->ndocs;
    mg_drop_docs(s, ns, false);
    bw_i32(d, "n", (int32_t)(before - s->ndocs));
    mg_ok(d);
}

static void cmd_update(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    bw_i32(d, "n", 0);
    bw_i32(d, "nModified", 0);
    mg_ok(d);
}

static void cmd_drop(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    char ns[160], coll[96];
    mg_ns_of(c, ns, sizeof(ns), coll, sizeof(coll));
    if (!mg_coll_exists(s, c->db, coll)) {
        mg_error(d, 26, "NamespaceNotFound", "ns not found");
        return;
    }
    mg_drop_docs(s, ns, false);
    mg_ns_note(s, ns, true);
    bw_i32(d, "nIndexesWas", 1);
    bw_str(d, "ns", ns);
    mg_ok(d);
}

static void cmd_dropdatabase(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    mg_drop_docs(s, c->db, true);
    size_t dl = strlen(c->db);
    for (size_t i = 0; i < s->nns; i++)
        if (!strncmp(s->ns[i].name, c->db, dl) && s->ns[i].name[dl] == '.')
            s->ns[i].dropped = true;
    if (strcmp(c->db, "admin") && strcmp(c->db, "config") && strcmp(c->db, "local"))
        mg_ns_note(s, c->db, true);
    if (!mg_ge(5))
        bw_str(d, "dropped", c->db);
    mg_ok(d);
}

static void cmd_count(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    char ns[160], coll[96];
    mg_ns_of(c, ns, sizeof(ns), coll, sizeof(coll));
    int32_t n = 0;
    for (size_t i = 0; i < s->ndocs; i++)
        n += strcmp(s->docs[i].ns, ns) == 0;
    bw_i32(d, "n", n);
    mg_ok(d);
}

static void cmd_aggregate(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    char ns[160], coll[96];
    mg_ns_of(c, ns, sizeof(ns), coll, sizeof(coll));
    int32_t n = 0;
    for (size_t i = 0; i < s->ndocs; i++)
        n += strcmp(s->docs[i].ns, ns) == 0;
    size_t cur, batch;
    mg_cursor_begin(d, &cur, &batch);
    /* drivers' count_documents(): [{$match}, {$group: {_id: 1, n: {$sum: 1}}}] */
    if (n && memmem(c->body, c->blen, "$group", 7)) {
        size_t e = bw_sub(d, "0", false);
        bw_i32(d, "_id", 1);
        bw_i32(d, "n", n);
        bw_end(d, e);
    }
    mg_cursor_end(d, cur, batch, ns);
    mg_ok(d);
}

/* Minimal, but with "host" and "version" where nmap's probe looks. */
static void cmd_serverstatus(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    int64_t now = hp_now_us() / 1000, up = now - mg_id.started_ms;
    bw_str(d, "host", mg_id.host);
    bw_str(d, "version", mg_id.version);
    bw_str(d, "process", "mongod");
    bw_i64(d, "pid", mg_id.pid);
    bw_double(d, "uptime", (double)(up / 1000));
    bw_i64(d, "uptimeMillis", up);
    bw_i64(d, "uptimeEstimate", up / 1000);
    bw_date(d, "localTime", now);
    size_t a = bw_sub(d, "asserts", false);
    bw_i32(d, "regular", 0);
    bw_i32(d, "warning", 0);
    bw_i32(d, "msg", 0);
    bw_i32(d, "user", (int32_t)(mg_id.conns / 3));
    bw_i32(d, "rollovers", 0);
    bw_end(d, a);
    a = bw_sub(d, "connections", false);
    bw_i32(d, "current", 1);
    bw_i32(d, "available", 838859);
    bw_i32(d, "totalCreated", (int32_t)mg_id.conns);
    bw_i32(d, "active", 1);
    bw_end(d, a);
    a = bw_sub(d, "storageEngine", false);
    bw_str(d, "name", "wiredTiger");
    bw_bool(d, "supportsCommittedReads", true);
    bw_bool(d, "persistent", true);
    bw_end(d, a);
    mg_ok(d);
}

static void cmd_ok(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    mg_ok(d);
}

static void cmd_whatsmyuri(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    char you[80];
    snprintf(you, sizeof(you), "%s:%u", s->ctx ? s->ctx->src_ip : "127.0.0.1", s->ctx ? s->ctx->src_port : 0);
    bw_str(d, "you", you);
    mg_ok(d);
}

static void cmd_cmdlineopts(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    size_t a = bw_sub(d, "argv", true);
    bw_str(d, "0", "/usr/bin/mongod");
    bw_str(d, "1", "--config");
    bw_str(d, "2", "/etc/mongod.conf");
    bw_end(d, a);
    a = bw_sub(d, "parsed", false);
    bw_str(d, "config", "/etc/mongod.conf");
    size_t b = bw_sub(d, "net", false);
    bw_str(d, "bindIp", "0.0.0.0");
    bw_i32(d, "port", 27017);
    bw_end(d, b);
    b = bw_sub(d, "processManagement", false);
    bw_str(d, "timeZoneInfo", "/usr/share/zoneinfo");
    bw_end(d, b);
    b = bw_sub(d, "storage", false);
    bw_str(d, "dbPath", "/var/lib/mongodb");
    bw_end(d, b);
    b = bw_sub(d, "systemLog", false);
    bw_str(d, "destination", "file");
    bw_bool(d, "logAppend", true);
    bw_str(d, "path", "/var/log/mongodb/mongod.log");
    bw_end(d, b);
    bw_end(d, a);
    mg_ok(d);
}

static void cmd_connstatus(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    size_t a = bw_sub(d, "authInfo", false);
    size_t b = bw_sub(d, "authenticatedUsers", true);
    bw_end(d, b);
    b = bw_sub(d, "authenticatedUserRoles", true);
    bw_end(d, b);
    bw_end(d, a);
    mg_ok(d);
}

static void cmd_freemon(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    bw_str(d, "state", "undecided");
    mg_ok(d);
}

static void cmd_getparameter(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    struct hp_bson_el el;
    if (mg_get(c, "featureCompatibilityVersion", &el)) {
        char v[8];
        snprintf(v, sizeof(v), "%.3s", mg_id.version);
        size_t a = bw_sub(d, "featureCompatibilityVersion", false);
        bw_str(d, "version", v);
        bw_end(d, a);
    }
    mg_ok(d);
}

static void cmd_listindexes(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    char ns[160], coll[96];
    mg_ns_of(c, ns, sizeof(ns), coll, sizeof(coll));
    if (!mg_coll_exists(s, c->db, coll)) {
        mg_error(d, 26, "NamespaceNotFound", "ns does not exist: %s", ns);
        return;
    }
    size_t cur, batch;
    mg_cursor_begin(d, &cur, &batch);
    size_t e = bw_sub(d, "0", false);
    bw_i32(d, "v", 2);
    size_t k = bw_sub(d, "key", false);
    bw_i32(d, "_id", 1);
    bw_end(d, k);
    bw_str(d, "name", "_id_");
    bw_end(d, e);
    mg_cursor_end(d, cur, batch, ns);
    mg_ok(d);
}

static void cmd_create(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    char ns[160], coll[96];
    mg_ns_of(c, ns, sizeof(ns), coll, sizeof(coll));
    bool exists = mg_coll_exists(s, c->db, coll);
    if (mg_is(c, "create") && exists) {
        mg_error(d, 48, "NamespaceExists", "Collection %s already exists.", ns);
        return;
    }
    mg_ns_note(s, c->db, false);
    mg_ns_note(s, ns, false);
    if (mg_is(c, "createIndexes")) {
        bw_i32(d, "numIndexesBefore", 1);
        bw_i32(d, "numIndexesAfter", 2);
        bw_bool(d, "createdCollectionAutomatically", !exists);
    }
    mg_ok(d);
}

static void cmd_killcursors(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    static const char *const k[] = {"cursorsKilled", "cursorsNotFound", "cursorsAlive", "cursorsUnknown"};
    for (size_t i = 0; i < HP_ARRAY_LEN(k); i++) {
        size_t a = bw_sub(d, k[i], true);
        bw_end(d, a);
    }
    mg_ok(d);
}

static void cmd_getmore(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    struct hp_bson_el el;
    double v = mg_get(c, "getMore", &el) ? hp_bson_num(&el) : 0;
    long long id = v > -9e18 && v < 9e18 ? (long long)v : 0;
    mg_error(d, 43, "CursorNotFound", "cursor id %lld not found", id);
}

static void cmd_hostinfo(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    size_t a = bw_sub(d, "system", false);
    bw_date(d, "currentTime", hp_now_us() / 1000);
    bw_str(d, "hostname", mg_id.host);
    bw_i32(d, "cpuAddrSize", 64);
    bw_i32(d, "memSizeMB", 7961);
    bw_i32(d, "memLimitMB", 7961);
    bw_i32(d, "numCores", 4);
    bw_str(d, "cpuArch", "x86_64");
    bw_bool(d, "numaEnabled", false);
    bw_end(d, a);
    a = bw_sub(d, "os", false);
    bw_str(d, "type", "Linux");
    bw_str(d, "name", strstr(mg_id.rel->distmod, "debian") ? "PRETTY_NAME=\"Debian GNU/Linux 11 (bullseye)\""
                                                            : "Ubuntu");
    bw_str(d, "version", strstr(mg_id.rel->distmod, "2204") ? "22.04" : strstr(mg_id.rel->distmod, "2004") ? "20.04"
                                                                                                         : "Kernel 5.10.0-28-amd64");
    bw_end(d, a);
    mg_ok(d);
}

static void cmd_currentop(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    size_t a = bw_sub(d, "inprog", true);
    bw_end(d, a);
    mg_ok(d);
}

static void cmd_getlasterror(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    bw_i32(d, "n", 0);
    bw_key(d, HP_BSON_NULL, "err");
    mg_ok(d);
}

static void cmd_replset(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    mg_error(d, 76, "NoReplicationEnabled", "not running with --replSet");
}

struct mg_cmdent {
    const char *name;
    mg_fn *fn;
    int until;                  /* removed in this major version (0: never) */
};

static const struct mg_cmdent mg_cmds[] = {
    {"hello", cmd_hello, 0}, {"isMaster", cmd_hello, 0}, {"ismaster", cmd_hello, 0},
    {"buildInfo", cmd_buildinfo, 0}, {"buildinfo", cmd_buildinfo, 0}, {"getLog", cmd_getlog, 0},
    {"listDatabases", cmd_listdatabases, 0}, {"listCollections", cmd_listcollections, 0},
    {"find", cmd_find, 0}, {"insert", cmd_insert, 0}, {"delete", cmd_delete, 0}, {"update", cmd_update, 0},
    {"drop", cmd_drop, 0}, {"dropDatabase", cmd_dropdatabase, 0}, {"count", cmd_count, 0},
    {"aggregate", cmd_aggregate, 0}, {"serverStatus", cmd_serverstatus, 0},
    {"saslStart", cmd_sasl_start, 0}, {"saslContinue", cmd_sasl_continue, 0},
    {"endSessions", cmd_ok, 0}, {"ping", cmd_ok, 0}, {"logout", cmd_ok, 0}, {"whatsmyuri", cmd_whatsmyuri, 0},
    {"getCmdLineOpts", cmd_cmdlineopts, 0}, {"connectionStatus", cmd_connstatus, 0},
    {"getFreeMonitoringStatus", cmd_freemon, 0}, {"getParameter", cmd_getparameter, 0},
    {"listIndexes", cmd_listindexes, 0}, {"create", cmd_create, 0}, {"createIndexes", cmd_create, 0},
    {"killCursors", cmd_killcursors, 0}, {"getMore", cmd_getmore, 0}, {"hostInfo", cmd_hostinfo, 0},
    {"currentOp", cmd_currentop, 0}, {"getLastError", cmd_getlasterror, 6}, {"getlasterror", cmd_getlasterror, 6},
    {"replSetGetStatus", cmd_replset, 0}, {"replSetGetConfig", cmd_replset, 0},
};

/* ---- messages ---------------------------------------------------------------------------- */

enum { MG_OP_REPLY = 1, MG_OP_QUERY = 2004, MG_OP_MSG = 2013 };

static const struct mg_cmdent *mg_lookup(const char *name)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(mg_cmds); i++)
        if (strcmp(mg_cmds[i].name, name) == 0 && !(mg_cmds[i].until && mg_ge(mg_cmds[i].until)))
            return &mg_cmds[i];
    return NULL;
}

/* Run one command; its reply document is appended to d. */
static void mg_run(struct hp_mongo_sess *s, struct mg_cmd *c, struct hp_buf *d)
{
    mg_ev_input(s, c);
    const struct mg_cmdent *e = mg_lookup(c->name);
    size_t at = bw_begin(d);
    bool hello = e && e->fn == cmd_hello;
    if (c->opquery && mg_ge(6) && !hello)
        mg_error(d, 352, "UnsupportedOpQueryCommand",
                 "Unsupported OP_QUERY command: %s. The client driver may require an upgrade. For more details "
                 "see https://dochub.mongodb.org/core/legacy-opcode-removal", c->name);
    else if (!c->db[0])
        mg_error(d, 40571, "Location40571", "OP_MSG requests require a $db argument");
    else if (!e)
        mg_error(d, 59, "CommandNotFound", "no such command: '%s'", c->name);
    else
        e->fn(s, c, d);
    bw_end(d, at);
}

/* The command's name (first field) and $db; false for an empty body. */
static bool mg_cmd_init(struct mg_cmd *c, const uint8_t *doc, size_t len)
{
    struct hp_rd r, body;
    struct hp_bson_el el;
    c->body = doc;
    c->blen = len;
    hp_rd_init(&r, doc, len);
    if (!hp_bson_doc(&r, &body) || !hp_bson_next(&body, &el))
        return false;
    c->name = el.name;
    if (!c->opquery)
        mg_getstr(c, "$db", c->db, sizeof(c->db));
    return true;
}

static void mg_header(struct hp_buf *out, uint32_t len, int32_t id, int32_t to, int32_t op)
{
    bw_u32(out, len);
    bw_u32(out, (uint32_t)id);
    bw_u32(out, (uint32_t)to);
    bw_u32(out, (uint32_t)op);
}

/* OP_MSG: flagBits, sections (kind 0 body, kind 1 sequences), optional CRC-32C. */
static bool mg_opmsg(struct hp_mongo_sess *s, struct hp_rd *m, int32_t reqid, struct hp_buf *out)
{
    uint32_t flags = hp_rd_u32le(m);
    if (!hp_rd_ok(m) || (flags & 0xfffcu) != 0)       /* unknown required bits */
        return false;
    struct hp_rd secs;
    size_t left = hp_rd_left(m);
    if ((flags & 1u) && left < 4)
        return false;
    hp_rd_sub(m, (flags & 1u) ? left - 4 : left, &secs);   /* the checksum is not verified */
    struct mg_cmd c;
    memset(&c, 0, sizeof(c));
    const uint8_t *body = NULL;
    size_t blen = 0;
    while (hp_rd_left(&secs)) {
        uint8_t kind = hp_rd_u8(&secs);
        const uint8_t *start = hp_rd_ptr(&secs);
        struct hp_rd b;
        if (kind == 0) {
            if (body || !hp_bson_doc(&secs, &b))
                return false;
            body = start;
            blen = (size_t)(hp_rd_ptr(&secs) - start);
            if (!hp_bson_valid(body, blen, HP_MONGO_MAX_DEPTH))
                return false;
        } else if (kind == 1) {
            uint32_t sz = hp_rd_u32le(&secs);
            struct hp_rd q;
            if (!hp_rd_ok(&secs) || sz < 4 || !hp_rd_sub(&secs, sz - 4, &q) || c.nseq >= MG_MAX_SEQ)
                return false;
            long z = hp_rd_find(&q, "", 1);
            if (z < 0 || (size_t)z >= sizeof(c.seq[0].id))
                return false;
            memcpy(c.seq[c.nseq].id, hp_rd_ptr(&q), (size_t)z + 1);
            hp_rd_skip(&q, (size_t)z + 1);
            c.seq[c.nseq].p = hp_rd_ptr(&q);
            c.seq[c.nseq].n = hp_rd_left(&q);
            while (hp_rd_left(&q)) {
                const uint8_t *d0 = hp_rd_ptr(&q);
                if (!hp_bson_doc(&q, &b) || !hp_bson_valid(d0, (size_t)(hp_rd_ptr(&q) - d0), HP_MONGO_MAX_DEPTH))
                    return false;
            }
            c.nseq++;
        } else {
            return false;
        }
    }
    if (!body || !hp_rd_ok(&secs) || !mg_cmd_init(&c, body, blen))
        return false;
    struct hp_buf d;
    hp_buf_init(&d, MG_REPLY_MAX);
    mg_run(s, &c, &d);
    if (!(flags & 2u) && hp_buf_ok(&d)) {            /* moreToCome: no reply */
        mg_header(out, (uint32_t)(16 + 4 + 1 + d.len), s->next_id++, reqid, MG_OP_MSG);
        bw_u32(out, 0);
        hp_buf_putc(out, 0);
        hp_buf_put(out, d.data, d.len);
    }
    hp_buf_free(&d);
    return true;
}

/* OP_QUERY: commands on "<db>.$cmd" (drivers' first hello; old shells and
 * scanners), answered with OP_REPLY. */
static bool mg_opquery(struct hp_mongo_sess *s, struct hp_rd *m, int32_t reqid, struct hp_buf *out)
{
    hp_rd_u32le(m);                                   /* flags */
    long z = hp_rd_find(m, "", 1);
    if (z < 0)
        return false;
    char coll[200];
    snprintf(coll, sizeof(coll), "%.*s", (int)((size_t)z < sizeof(coll) ? (size_t)z : sizeof(coll) - 1),
             (const char *)hp_rd_ptr(m));
    hp_rd_skip(m, (size_t)z + 1);
    hp_rd_u32le(m);                                   /* numberToSkip */
    hp_rd_u32le(m);                                   /* numberToReturn */
    const uint8_t *q = hp_rd_ptr(m);
    struct hp_rd b;
    if (!hp_rd_ok(m) || !hp_bson_doc(m, &b))
        return false;
    size_t ql = (size_t)(hp_rd_ptr(m) - q);
    if (!hp_bson_valid(q, ql, HP_MONGO_MAX_DEPTH))
        return false;
    struct mg_cmd c;
    memset(&c, 0, sizeof(c));
    c.opquery = true;
    struct hp_bson_el el;
    hp_rd_init(&b, q, ql);
    struct hp_rd body;
    const uint8_t *inner;
    size_t il;
    if (hp_bson_doc(&b, &body) && hp_bson_next(&body, &el) && el.type == HP_BSON_DOC &&
        (!strcmp(el.name, "$query") || !strcmp(el.name, "query")) && hp_bson_sub(&el, &inner, &il)) {
        q = inner;
        ql = il;
    }
    char *dot = strchr(coll, '.');
    bool is_cmd = dot && !strcmp(dot, ".$cmd");
    if (dot)
        *dot = '\0';
    snprintf(c.db, sizeof(c.db), "%.63s", coll[0] ? coll : "admin");
    struct hp_buf d;
    hp_buf_init(&d, MG_REPLY_MAX);
    uint32_t rflags = 8, nret = 1;                    /* AwaitCapable */
    if (is_cmd && mg_cmd_init(&c, q, ql)) {
        mg_run(s, &c, &d);
    } else {
        c.body = q;
        c.blen = ql;
        c.name = "find";
        mg_ev_input(s, &c);
        if (mg_ge(6)) {
            size_t at = bw_begin(&d);
            bw_str(&d, "$err", "Unsupported OP_QUERY command: find. The client driver may require an upgrade. "
                               "For more details see https://dochub.mongodb.org/core/legacy-opcode-removal");
            bw_i32(&d, "code", 5739101);
            bw_double(&d, "ok", 0.0);
            bw_end(&d, at);
            rflags |= 2;                              /* QueryFailure */
        } else {
            nret = 0;
        }
    }
    if (hp_buf_ok(&d)) {
        mg_header(out, (uint32_t)(16 + 20 + d.len), s->next_id++, reqid, MG_OP_REPLY);
        bw_u32(out, rflags);
        bw_u64(out, 0);
        bw_u32(out, 0);
        bw_u32(out, nret);
        hp_buf_put(out, d.data, d.len);
    }
    hp_buf_free(&d);
    return true;
}

static const char mg_http_reply[] =
    "HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 84\r\n\r\n"
    "It looks like you are trying to access MongoDB over HTTP on the native driver port.\n";

bool hp_mongo_feed(struct hp_mongo_sess *s, struct hp_rd *in, struct hp_buf *out)
{
    s->out = out;
    while (!s->close && hp_rd_left(in) >= 4) {
        if (hp_rd_starts_with_str(in, "GET ")) {      /* mongod answers HTTP on its port with this */
            hp_buf_puts(out, mg_http_reply);
            s->close = true;
            s->close_reason = "http";
            break;
        }
        uint8_t lb[4];
        hp_rd_peek(in, 0, lb, 4);
        uint32_t len = bs_le32(lb);
        if (len < 16 || len > HP_MONGO_MAX_MSG) {
            s->close = true;
            s->close_reason = "bad_message";
            break;
        }
        if (hp_rd_left(in) < len)
            break;
        struct hp_rd m;
        hp_rd_sub(in, len, &m);
        hp_rd_skip(&m, 4);
        int32_t reqid = (int32_t)hp_rd_u32le(&m);
        hp_rd_u32le(&m);                              /* responseTo */
        int32_t op = (int32_t)hp_rd_u32le(&m);
        bool ok = op == MG_OP_MSG ? mg_opmsg(s, &m, reqid, out) : op == MG_OP_QUERY ? mg_opquery(s, &m, reqid, out)
                                                                                   : false;
        if (!ok) {
            s->close = true;
            s->close_reason = "bad_message";
        }
    }
    return s->close;
}

/* ---- the protocol module ----------------------------------------------------------------- */

struct mg_conn {
    struct hp_mongo_sess *s;
};

static int mg_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct hp_mongo_conf *mc = hp_xcalloc(1, sizeof(*mc));
    svc->proto_conf = mc;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        if (strcmp(kv->key, "version") == 0) {
            if (!mg_known_version(kv->value)) {
                snprintf(err, errlen, "%d: [service %s]: bad value for version: '%s' (one of the releases in "
                         "docs/mongodb.md)", kv->line, svc->name, kv->value);
                return -1;
            }
            free(mc->version);
            mc->version = hp_xstrdup(kv->value);
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol mongodb)", kv->line, kv->key,
                     svc->name);
            return -1;
        }
    }
    mc->port = svc->ntcp ? svc->tcp_ports[0] : 27017;
    return 0;
}

static void mg_unconfigure(struct hp_service_cfg *svc)
{
    struct hp_mongo_conf *mc = svc->proto_conf;
    if (mc)
        free(mc->version);
    free(mc);
    svc->proto_conf = NULL;
}

static int mg_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    const struct hp_mongo_conf *mc = svc->proto_conf;
    mg_identity_init(mc->version);    /* drawn now: the identity file shows it from the start */
    return 0;
}

static void mg_accept(struct hp_conn *c)
{
    struct mg_conn *mc = c->pstate;
    mc->s = hp_mongo_sess_new(hp_conn_service_cfg(c)->proto_conf, &c->ctx);
}

static void mg_data(struct hp_conn *c, struct hp_rd *in)
{
    struct mg_conn *mc = c->pstate;
    if (!mc->s)
        return;
    struct hp_buf out;
    hp_buf_init(&out, 4 * MG_REPLY_MAX);
    bool close = hp_mongo_feed(mc->s, in, &out);
    if (!hp_buf_ok(&out)) {
        hp_conn_close(c, "output_overflow");
    } else {
        if (out.len)
            hp_conn_send(c, out.data, out.len);
        if (close)
            hp_conn_close(c, mc->s->close_reason ? mc->s->close_reason : "closed");
    }
    hp_buf_free(&out);
}

static void mg_eof(struct hp_conn *c)
{
    hp_conn_close(c, "eof");
}

static void mg_close(struct hp_conn *c)
{
    struct mg_conn *mc = c->pstate;
    hp_mongo_sess_end(mc->s);
    hp_mongo_sess_free(mc->s);
    mc->s = NULL;
}

const struct hp_proto hp_proto_mongodb = {
    .name = "mongodb",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "27017",
    .conn_state_size = sizeof(struct mg_conn),
    .default_max_input = 16 * 1024 * 1024,
    .configure = mg_configure,
    .unconfigure = mg_unconfigure,
    .start = mg_start,
    .on_accept = mg_accept,
    .on_data = mg_data,
    .on_eof = mg_eof,
    .on_close = mg_close,
};
