/*
 * rollup.c - counting events into the roll-up tables (see rollup.h).
 *
 * Counting happens in two steps.  hp_rollup_add() reads the fields an event
 * contributes (the common ones from its header; for the few event types
 * that feed rankings, the rest from its JSON, read in place by jsonscan.h
 * without building a tree) and adds them to
 * an in-memory hash table keyed by (kind, dimension, bucket, key, member).
 * hp_rollup_flush() then writes each entry with one upsert (an hour's
 * entry with two: the day's row is the sum of its hours', so it is not
 * counted apart).  Bursts collapse:
 * ten thousand connects from one scanner in one batch are one row update per
 * table, which keeps the writer's cost per event low under load.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "hll.h"
#include "jsonscan.h"
#include "rollup.h"
#include "util.h"

/* RU_DAY names the day table's statement: its rows are written from RU_HOUR entries. */
enum ru_kind { RU_TIMELINE, RU_HOUR, RU_DAY, RU_FIRST, RU_LABEL, RU_NKINDS };

struct ru_ent {
    uint64_t hash;            /* 0: empty slot */
    uint8_t kind;
    const char *dim;          /* static string */
    int64_t bucket;           /* minute, hour or day */
    char *key, *mem;          /* mem: unused ("") */
    char *la, *lb;            /* labels */
    size_t klen, mlen;
    int64_t v1, v2, v3;       /* counts, or first/last time */
    struct hp_hll src;        /* distinct sources (hour and day rows) */
};

struct ru_ev;
static struct ru_ev *ru_ev_new(void);

struct hp_rollup {
    struct ru_ent *tab;
    size_t cap, used;
    struct ru_ev *scratch;    /* one event being counted: its members and decode buffers */
    uint64_t seed;            /* random per table: keys are attacker text, collisions must not be craftable offline */
};

const char hp_rollup_schema_sql[] =
    "CREATE TABLE IF NOT EXISTS timeline(minute INTEGER NOT NULL, protocol TEXT NOT NULL,"
    " events INTEGER NOT NULL, connects INTEGER NOT NULL, logins INTEGER NOT NULL,"
    " PRIMARY KEY(minute, protocol)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS rollup(dim TEXT NOT NULL, hour INTEGER NOT NULL, key TEXT NOT NULL,"
    " n INTEGER NOT NULL, ok INTEGER NOT NULL, src BLOB, PRIMARY KEY(dim, hour, key)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS rollup_day(dim TEXT NOT NULL, key TEXT NOT NULL, day INTEGER NOT NULL,"
    " n INTEGER NOT NULL, ok INTEGER NOT NULL, src BLOB, PRIMARY KEY(dim, key, day)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS first_seen(dim TEXT NOT NULL, key TEXT NOT NULL, ts INTEGER NOT NULL,"
    " last INTEGER NOT NULL, PRIMARY KEY(dim, key)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS labels(dim TEXT NOT NULL, key TEXT NOT NULL, a TEXT, b TEXT,"
    " PRIMARY KEY(dim, key)) WITHOUT ROWID;";

/* ---- the in-memory table --------------------------------------------------------- */

struct hp_rollup *hp_rollup_new(void)
{
    struct hp_rollup *r = hp_xcalloc(1, sizeof(*r));
    r->cap = 1024;
    r->tab = hp_xcalloc(r->cap, sizeof(*r->tab));
    r->scratch = ru_ev_new();
    r->seed = hp_random_u64();
    return r;
}

static void ent_clear(struct ru_ent *e)
{
    hp_hll_free(&e->src);
    free(e->key);
    free(e->mem);
    free(e->la);
    free(e->lb);
    memset(e, 0, sizeof(*e));
}

void hp_rollup_reset(struct hp_rollup *r)
{
    for (size_t i = 0; i < r->cap; i++)
        if (r->tab[i].hash)
            ent_clear(&r->tab[i]);
    r->used = 0;
}

void hp_rollup_free(struct hp_rollup *r)
{
    if (!r)
        return;
    hp_rollup_reset(r);
    free(r->tab);
    free(r->scratch);
    free(r);
}

size_t hp_rollup_pending(const struct hp_rollup *r)
{
    return r->used;
}

/* Mix n bytes into h, eight at a time: an entry's key is hashed for every
 * event that counts into it (a dozen times per event), and a byte-wise hash
 * was a tenth of the writer's time.  The hash never leaves this process. */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *s = p;
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 29;
    }
    uint64_t w = (uint64_t)n << 56;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)s[i] << (8 * i);
    h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 32);
}

static size_t cut(size_t n)
{
    return n > HP_ROLLUP_KEY_MAX ? HP_ROLLUP_KEY_MAX : n;
}

static char *dupn(const char *s, size_t n)
{
    char *d = hp_xcalloc(n + 1, 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void grow(struct hp_rollup *r)
{
    size_t ocap = r->cap;
    struct ru_ent *old = r->tab;
    r->cap *= 2;
    r->tab = hp_xcalloc(r->cap, sizeof(*r->tab));
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].hash)
            continue;
        size_t j = old[i].hash & (r->cap - 1);
        while (r->tab[j].hash)
            j = (j + 1) & (r->cap - 1);
        r->tab[j] = old[i];
    }
    free(old);
}

/* The entry for (kind, dim, bucket, key, member), created zeroed if new. */
static struct ru_ent *slot(struct hp_rollup *r, int kind, const char *dim, int64_t bucket,
                           const char *key, size_t klen, const char *mem, size_t mlen)
{
    klen = cut(klen);
    mlen = cut(mlen);
    uint8_t k8 = (uint8_t)kind;
    uint64_t h = mix(r->seed ^ (uint64_t)k8 << 48 ^ (uint64_t)bucket, dim, strlen(dim));
    h = mix(h, key, klen);          /* each part's length is mixed in with its last bytes */
    h = mix(h, mem, mlen);
    if (!h)
        h = 1;
    if ((r->used + 1) * 4 > r->cap * 3)
        grow(r);
    size_t j = h & (r->cap - 1);
    for (;; j = (j + 1) & (r->cap - 1)) {
        struct ru_ent *e = &r->tab[j];
        if (!e->hash)
            break;
        if (e->hash == h && e->kind == k8 && strcmp(e->dim, dim) == 0 && e->bucket == bucket &&
            e->klen == klen && memcmp(e->key, key, klen) == 0 && e->mlen == mlen &&
            memcmp(e->mem, mem, mlen) == 0)
            return e;
    }
    struct ru_ent *e = &r->tab[j];
    e->hash = h;
    e->kind = k8;
    e->dim = dim;
    e->bucket = bucket;
    e->key = dupn(key, klen);
    e->klen = klen;
    e->mem = dupn(mem, mlen);
    e->mlen = mlen;
    r->used++;
    return e;
}

/* ---- what an event contributes --------------------------------------------------- */

/* The members of an event's JSON that feed rankings or labels. */
enum ru_field {
    F_USERNAME, F_PASSWORD, F_INPUT, F_URL, F_SHASUM, F_TYPE, F_FAMILY, F_URI, F_UA, F_CLASSES,
    F_CVES, F_OWASP, F_JA3, F_JA4, F_CLIENT, F_HASSH, F_CC, F_COUNTRY, F_ASN, F_AS_ORG,
    F_CRED_DEVICE, F_CRED_BOTNETS, F_N
};

static const char *const field_names[F_N] = {
    "username", "password", "input", "url", "shasum", "type", "family", "uri", "user_agent",
    "attack_classes", "cves", "owasp_iot", "ja3", "ja4", "client", "hassh", "src_cc", "src_country",
    "src_asn", "src_as_org", "cred_device", "cred_botnets",
};

#define SCRATCH (HP_ROLLUP_KEY_MAX + 8)   /* decoded values are cut to a key's length anyway */

struct ru_ev {
    struct hp_rollup *r;
    int64_t ts, hour;
    const char *src_ip;
    uint64_t src_hash;        /* hp_hll_hash(src_ip), once per event; 0: none */
    struct hp_jval f[F_N];    /* where the wanted members are (jsonscan.h) */
    char buf[3][SCRATCH];     /* a key and its two labels, decoded */
};

static struct ru_ev *ru_ev_new(void)
{
    return hp_xcalloc(1, sizeof(struct ru_ev));
}

/*
 * Count one event for a key of a dimension, in its hour and in its day, and
 * note member (a source address; NULL: none) among the key's distinct ones.
 */
static void add(struct ru_ev *x, const char *dim, const char *key, size_t klen, int64_t n, int64_t ok,
                const char *member)
{
    uint64_t h = member == x->src_ip ? x->src_hash : member && member[0] ? hp_hll_hash(member, strlen(member)) : 0;
    struct ru_ent *e = slot(x->r, RU_HOUR, dim, x->hour, key, klen, "", 0);
    e->v1 += n;
    e->v2 += ok;
    if (h)
        hp_hll_add_hash(&e->src, h);
    /* the day's row is the sum of its hours': hp_rollup_flush() writes both from this entry */
}

static void add_first(struct ru_ev *x, const char *dim, const char *key, size_t klen)
{
    struct ru_ent *e = slot(x->r, RU_FIRST, dim, 0, key, klen, "", 0);
    if (!e->v1 || x->ts < e->v1)
        e->v1 = x->ts;
    if (x->ts > e->v2)
        e->v2 = x->ts;
}

static void set_label(char **dst, const char *v)
{
    if (!v || !v[0])
        return;
    size_t n = cut(strlen(v));
    if (*dst && strncmp(*dst, v, n) == 0 && (*dst)[n] == '\0')
        return;                       /* the same label again (every connect of a source) */
    free(*dst);
    *dst = dupn(v, n);
}

static void add_label(struct ru_ev *x, const char *dim, const char *key, size_t klen, const char *a,
                      const char *b)
{
    if ((!a || !a[0]) && (!b || !b[0]))
        return;
    struct ru_ent *e = slot(x->r, RU_LABEL, dim, 0, key, klen, "", 0);
    set_label(&e->la, a);
    set_label(&e->lb, b);
}

/* A value as text into x->buf[b]: strings decoded, integers in decimal; NULL otherwise. */
static const char *val_text(struct ru_ev *x, const struct hp_jval *v, int b, size_t *len)
{
    *len = 0;
    if (v->type == HP_J_STR) {
        *len = hp_jscan_str(v, x->buf[b], SCRATCH);
        return x->buf[b];
    }
    if (hp_jscan_is_int(v)) {
        memcpy(x->buf[b], v->p, v->n);
        x->buf[b][v->n] = '\0';
        *len = v->n;
        return x->buf[b];
    }
    return NULL;
}

static const char *field(struct ru_ev *x, enum ru_field f, int b, size_t *len)
{
    return val_text(x, &x->f[f], b, len);
}

/* A string member as a label (NULL when absent or not a string). */
static const char *label(struct ru_ev *x, enum ru_field f, int b)
{
    size_t len;
    return x->f[f].type == HP_J_STR ? field(x, f, b, &len) : NULL;
}

/* Count a field's value (or each of the first 64 elements of a list field) with
 * its distinct sources; an absent field counts as "" unless it is a list. */
static void count_field(struct ru_ev *x, const char *dim, enum ru_field f, bool list)
{
    const struct hp_jval *v = &x->f[f];
    size_t len;
    if (v->type == HP_J_ARR) {
        struct hp_jval el;
        size_t pos = 0;
        for (int i = 0; i < 64 && hp_jscan_elem(v, &pos, &el); i++) {
            if (el.type != HP_J_STR)
                continue;
            len = hp_jscan_str(&el, x->buf[0], SCRATCH);
            add(x, dim, x->buf[0], len, 1, 0, x->src_ip);
        }
        return;
    }
    const char *s = field(x, f, 0, &len);
    if (!s && list)
        return;
    if (!s)
        s = "";                   /* counted as "none", as the events table's GROUP BY does */
    add(x, dim, s, len, 1, 0, x->src_ip);
}

/* "a, b, c" from a string or a list of strings (botnet names), into x->buf[b]. */
static const char *join_list(struct ru_ev *x, enum ru_field f, int b)
{
    const struct hp_jval *v = &x->f[f];
    char *out = x->buf[b], el_text[256];
    size_t off = 0, outlen = 512;
    out[0] = '\0';
    if (v->type == HP_J_STR)
        return label(x, f, b);
    struct hp_jval el;
    size_t pos = 0;
    while (off < outlen && hp_jscan_elem(v, &pos, &el)) {
        if (el.type != HP_J_STR)
            continue;
        hp_jscan_str(&el, el_text, sizeof(el_text));
        int k = snprintf(out + off, outlen - off, "%s%s", off ? ", " : "", el_text);
        if (k < 0)
            break;
        off += (size_t)k;
    }
    out[outlen - 1] = '\0';
    return out;
}

/* Raw JSON text of a member, "null" when absent, appended to o (room left: *room). */
static size_t put_raw(char *o, size_t room, const struct hp_jval *v)
{
    const char *p = v->type == HP_J_NONE ? "null" : v->p;
    size_t n = v->type == HP_J_NONE ? 4 : v->n;
    n = n < room ? n : room;
    memcpy(o, p, n);
    return n;
}

/* UTF-8 sequence length from its lead byte (1 for anything else: never split further). */
static size_t utf8_len(uint8_t c)
{
    return c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc0 && c < 0xe0 ? 2 : 1;
}

/* A member's raw JSON text in at most room bytes, still JSON: a string that
 * does not fit is cut before the escape or UTF-8 sequence that would cross
 * the end, and closed; any other value that does not fit is null. */
static size_t put_raw_cut(char *o, size_t room, const struct hp_jval *v)
{
    if (v->type == HP_J_NONE || v->n <= room)
        return put_raw(o, room, v);
    if (v->type != HP_J_STR || room < 2)
        return room >= 4 ? (memcpy(o, "null", 4), 4) : 0;
    const uint8_t *c = (const uint8_t *)v->p + 1;
    size_t avail = v->n - 2, budget = room - 2, i = 0;
    while (i < avail) {
        size_t step = c[i] == '\\' ? (i + 1 < avail && c[i + 1] == 'u' ? 6 : 2) : utf8_len(c[i]);
        if (i + step > budget)
            break;
        i += step;
    }
    o[0] = '"';
    memcpy(o + 1, c, i);
    o[i + 1] = '"';
    return i + 2;
}

/* [user, pass] as compact JSON text, into x->buf[0]: the key of the 'pair'
 * dimensions.  It stays JSON within HP_ROLLUP_KEY_MAX (reports and the
 * dashboard take it apart with json_extract): a long username leaves the
 * password at least half the room, and either is cut as put_raw_cut does. */
static const char *pair_key(struct ru_ev *x, size_t *len)
{
    char *o = x->buf[0];
    const struct hp_jval *u = &x->f[F_USERNAME], *p = &x->f[F_PASSWORD];
    size_t room = HP_ROLLUP_KEY_MAX - 3;              /* [ , ] */
    size_t plen = p->type == HP_J_NONE ? 4 : p->n;
    size_t n = 0;
    o[n++] = '[';
    n += put_raw_cut(o + n, room - (plen < room / 2 ? plen : room / 2), u);
    o[n++] = ',';
    n += put_raw_cut(o + n, HP_ROLLUP_KEY_MAX - 1 - n, p);
    o[n++] = ']';
    o[n] = '\0';
    *len = n;
    return o;
}

static void on_connect(struct ru_ev *x, int dst_port)
{
    char port[16], ccz[8] = "", asnz[32] = "";
    size_t len;
    const char *cc = field(x, F_CC, 0, &len);
    if (cc)
        snprintf(ccz, sizeof(ccz), "%.*s", (int)len, cc);
    const char *asn = field(x, F_ASN, 0, &len);
    if (asn)
        snprintf(asnz, sizeof(asnz), "%.*s", (int)len, asn);
    add(x, "cc", ccz, strlen(ccz), 1, 0, x->src_ip);
    add_label(x, "cc", ccz, strlen(ccz), label(x, F_COUNTRY, 1), NULL);
    add(x, "asn", asnz, strlen(asnz), 1, 0, x->src_ip);
    add_label(x, "asn", asnz, strlen(asnz), label(x, F_AS_ORG, 1), NULL);
    snprintf(port, sizeof(port), "%d", dst_port);
    add(x, "port", port, strlen(port), 1, 0, x->src_ip);
    if (x->src_ip[0]) {
        size_t iplen = strlen(x->src_ip);
        add(x, "ip", x->src_ip, iplen, 1, 0, port);
        add_label(x, "ip", x->src_ip, iplen, ccz, asnz);
    }
}

static void on_login(struct ru_ev *x, bool ok)
{
    size_t len;
    const char *u = field(x, F_USERNAME, 0, &len);
    if (u)
        add(x, "username", u, len, 1, ok, x->src_ip);
    const char *p = field(x, F_PASSWORD, 0, &len);
    if (p)
        add(x, "password", p, len, 1, ok, x->src_ip);
    const char *pk = pair_key(x, &len);
    add(x, "pair", pk, len, 1, ok, NULL);
    add_first(x, "pair", pk, len);
    add_label(x, "pair", pk, len, label(x, F_CRED_DEVICE, 1), join_list(x, F_CRED_BOTNETS, 2));
}

static void on_fingerprint(struct ru_ev *x, const char *name, enum ru_field f)
{
    size_t len;
    const char *v = field(x, f, 0, &len);
    if (!v)
        return;
    add(x, name, v, len, 1, 0, x->src_ip);
    add_first(x, name, v, len);
    add_label(x, name, v, len, label(x, F_CLIENT, 1), NULL);
}

static void on_payload(struct ru_ev *x, bool download)
{
    size_t len;
    if (download) {
        const char *url = field(x, F_URL, 0, &len);
        if (url) {
            add(x, "url", url, len, 1, 1, x->src_ip);       /* ok: fetched */
            add_label(x, "url", url, len, label(x, F_TYPE, 1), label(x, F_SHASUM, 2));
        }
    }
    const char *sha = field(x, F_SHASUM, 0, &len);
    if (!sha)
        return;
    add(x, "sha256", sha, len, download ? 1 : 0, 0, x->src_ip);
    add_first(x, "sha256", sha, len);
    add_label(x, "sha256", sha, len, label(x, F_TYPE, 1), label(x, F_FAMILY, 2));
}

/*
 * The event types whose JSON feeds a ranking, and the members each one's
 * handler below reads: only those are looked for in its JSON (matching a
 * member name against 22 candidates was half the cost of reading it back).
 * A handler that reads a field must have it in its row.
 */
#define RU_WANT_MAX 5
static const struct ru_want {
    const char *id;
    enum ru_field f[RU_WANT_MAX];
    size_t n;
} ru_wants[] = {
    { "session.connect", { F_CC, F_COUNTRY, F_ASN, F_AS_ORG }, 4 },
    { "login.success", { F_USERNAME, F_PASSWORD, F_CRED_DEVICE, F_CRED_BOTNETS }, 4 },
    { "login.failed", { F_USERNAME, F_PASSWORD, F_CRED_DEVICE, F_CRED_BOTNETS }, 4 },
    { "http.credentials", { F_USERNAME, F_PASSWORD }, 2 },
    { "command.input", { F_INPUT, F_CLASSES, F_CVES }, 3 },
    { "session.file_download", { F_URL, F_SHASUM, F_TYPE, F_FAMILY }, 4 },
    { "session.file_download.failed", { F_URL }, 1 },
    { "payload.new", { F_URL, F_SHASUM, F_TYPE, F_FAMILY }, 4 },
    { "http.request", { F_URI, F_UA, F_CLASSES, F_CVES, F_OWASP }, 5 },
    /* the other HP_ATTACK_EVENTS_SQL (event.h): attack classes and CVEs only */
    { "http.bad_request", { F_CLASSES, F_CVES }, 2 },
    { "trap.payload", { F_CLASSES, F_CVES }, 2 },
    { "smb.ms17_010_probe", { F_CLASSES, F_CVES }, 2 },
    { "smb.eternalblue", { F_CLASSES, F_CVES }, 2 },
    { "smb.doublepulsar", { F_CLASSES, F_CVES }, 2 },
    { "redis.eval", { F_CLASSES, F_CVES }, 2 },
    { "pgsql.copy_program", { F_CLASSES, F_CVES }, 2 },
    { "tls.client_hello", { F_JA3, F_JA4, F_CLIENT }, 3 },
    { "client.kex", { F_HASSH, F_CLIENT }, 2 },
};

static const struct ru_want *wants_of(const char *id)
{
    for (size_t i = 0; i < sizeof(ru_wants) / sizeof(ru_wants[0]); i++)
        if (strcmp(id, ru_wants[i].id) == 0)
            return &ru_wants[i];
    return NULL;
}

/* Read the members w names from json into x->f (the others stay absent):
 * through the event's key index when it has one, else by scanning. */
static int read_wanted(struct ru_ev *x, const struct ru_want *w, const char *json, size_t json_len,
                       const uint32_t *keys, size_t nkeys)
{
    const char *names[RU_WANT_MAX];
    struct hp_jval vals[RU_WANT_MAX];
    memset(x->f, 0, sizeof(x->f));
    for (size_t i = 0; i < w->n; i++)
        names[i] = field_names[w->f[i]];
    int rc = keys ? hp_jscan_members_at(json, json_len, keys, nkeys, names, w->n, vals)
                  : hp_jscan_members(json, json_len, names, w->n, vals);
    if (rc != 0)
        return -1;
    for (size_t i = 0; i < w->n; i++)
        x->f[w->f[i]] = vals[i];
    return 0;
}

static void by_type(struct ru_ev *x, const char *id, int dst_port)
{
    if (strcmp(id, "session.connect") == 0) {
        on_connect(x, dst_port);
    } else if (strncmp(id, "login.", 6) == 0) {
        on_login(x, strcmp(id, "login.success") == 0);
    } else if (strcmp(id, "http.credentials") == 0) {
        size_t len;
        const char *pk = pair_key(x, &len);
        add(x, "http_cred", pk, len, 1, 0, x->src_ip);
    } else if (strcmp(id, "command.input") == 0) {
        count_field(x, "command", F_INPUT, false);
        count_field(x, "class", F_CLASSES, true);    /* SMTP's CVE-2024-45519 */
        count_field(x, "cve", F_CVES, true);
    } else if (strcmp(id, "session.file_download") == 0 || strcmp(id, "payload.new") == 0) {
        on_payload(x, id[8] == 'f');
    } else if (strcmp(id, "session.file_download.failed") == 0) {
        /* a URL pointed at but not fetched (refused, dead, fetching off):
         * an attempt of its "url" row, ok (fetched) unchanged */
        size_t len;
        const char *url = field(x, F_URL, 0, &len);
        if (url)
            add(x, "url", url, len, 1, 0, x->src_ip);
    } else if (strcmp(id, "http.request") == 0) {
        count_field(x, "uri", F_URI, false);
        count_field(x, "ua", F_UA, false);
        count_field(x, "class", F_CLASSES, true);
        count_field(x, "cve", F_CVES, true);
        count_field(x, "owasp", F_OWASP, true);
    } else if (strcmp(id, "tls.client_hello") == 0) {
        on_fingerprint(x, "ja3", F_JA3);
        on_fingerprint(x, "ja4", F_JA4);
    } else if (strcmp(id, "client.kex") == 0) {
        on_fingerprint(x, "hassh", F_HASSH);
    } else {
        /* the trap's and the modules' exploit events (ru_wants) */
        count_field(x, "class", F_CLASSES, true);
        count_field(x, "cve", F_CVES, true);
    }
}

static void add_row(struct hp_rollup *r, int64_t ts_us, const char *eventid, const char *protocol,
                    const char *src_ip, int dst_port, const char *json, size_t json_len, const uint32_t *keys,
                    size_t nkeys)
{
    struct ru_ev *x = r->scratch;
    x->r = r;
    x->ts = ts_us;
    x->hour = ts_us / HP_ROLLUP_HOUR_US;
    x->src_ip = src_ip ? src_ip : "";
    x->src_hash = x->src_ip[0] ? hp_hll_hash(x->src_ip, strlen(x->src_ip)) : 0;
    const char *proto = protocol ? protocol : "";
    struct ru_ent *t = slot(r, RU_TIMELINE, "timeline", ts_us / 60000000, proto, strlen(proto), "", 0);
    t->v1++;
    if (strcmp(eventid, "session.connect") == 0)
        t->v2++;
    else if (strncmp(eventid, "login.", 6) == 0)
        t->v3++;
    add(x, "eventid", eventid, strlen(eventid), 1, 0, NULL);
    /* per protocol and over all: events and distinct sources */
    bool connect = strcmp(eventid, "session.connect") == 0;
    add(x, "protocol", proto, strlen(proto), 1, connect, x->src_ip);   /* ok: connections */
    add(x, "all", "", 0, 1, 0, x->src_ip);
    if (connect)
        add(x, "connect", "", 0, 1, 0, x->src_ip);
    if (x->src_ip[0]) {
        add(x, "src", x->src_ip, strlen(x->src_ip), 1, 0, NULL);   /* exact distinct sources */
        add_first(x, "ip", x->src_ip, strlen(x->src_ip));
    }
    const struct ru_want *w = wants_of(eventid);
    if (!w || read_wanted(x, w, json, json_len, keys, nkeys) != 0)
        return;
    by_type(x, eventid, dst_port);
}

void hp_rollup_add_row(struct hp_rollup *r, int64_t ts_us, const char *eventid, const char *protocol,
                       const char *src_ip, int dst_port, const char *json, size_t json_len)
{
    add_row(r, ts_us, eventid, protocol, src_ip, dst_port, json, json_len, NULL, 0);
}

void hp_rollup_add(struct hp_rollup *r, const struct hp_event *e)
{
    add_row(r, e->h.ts_us, e->h.eventid, e->h.protocol[0] ? e->h.protocol : NULL, e->h.src_ip, e->h.dst_port,
            e->json, e->json_len, e->keys, e->nkeys);
}

/* ---- writing ---------------------------------------------------------------------- */

static const char *const upsert_sql[RU_NKINDS] = {
    [RU_TIMELINE] = "INSERT INTO timeline VALUES(?2, ?3, ?5, ?6, ?7) ON CONFLICT(minute, protocol) DO UPDATE"
                    " SET events = events + excluded.events, connects = connects + excluded.connects,"
                    " logins = logins + excluded.logins",
    [RU_HOUR] = "INSERT INTO rollup VALUES(?1, ?2, ?3, ?5, ?6, ?9) ON CONFLICT(dim, hour, key) DO UPDATE"
                " SET n = n + excluded.n, ok = ok + excluded.ok, src = hll_union(src, excluded.src)",
    [RU_DAY] = "INSERT INTO rollup_day VALUES(?1, ?3, ?2, ?5, ?6, ?9) ON CONFLICT(dim, key, day) DO UPDATE"
               " SET n = n + excluded.n, ok = ok + excluded.ok, src = hll_union(src, excluded.src)",
    [RU_FIRST] = "INSERT INTO first_seen VALUES(?1, ?3, ?5, ?6) ON CONFLICT(dim, key) DO UPDATE"
                 " SET ts = min(ts, excluded.ts), last = max(last, excluded.last)",
    [RU_LABEL] = "INSERT INTO labels VALUES(?1, ?3, ?4, ?8) ON CONFLICT(dim, key) DO UPDATE"
                 " SET a = coalesce(excluded.a, a), b = coalesce(excluded.b, b)",
};

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Upsert one entry with st, into the row of bucket (its own, or its hour's day). */
static int flush_one(sqlite3_stmt *st, struct ru_ent *e, int64_t bucket)
{
    uint8_t blob[1 + HP_HLL_REGS];
    sqlite3_bind_text(st, 1, e->dim, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, bucket);
    sqlite3_bind_text(st, 3, e->key, (int)e->klen, SQLITE_STATIC);
    if (e->kind == RU_LABEL) {
        bind_opt(st, 4, e->la);
        bind_opt(st, 8, e->lb);
    } else {
        sqlite3_bind_text(st, 4, e->mem, (int)e->mlen, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 5, e->v1);
    sqlite3_bind_int64(st, 6, e->v2);
    sqlite3_bind_int64(st, 7, e->v3);
    if (e->kind == RU_HOUR) {                /* into its hour's row or its day's */
        size_t n = hp_hll_blob(&e->src, blob);
        if (n)
            sqlite3_bind_blob(st, 9, blob, (int)n, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 9);
    }
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int hp_rollup_flush(struct hp_rollup *r, sqlite3 *db)
{
    sqlite3_stmt *st[RU_NKINDS] = { 0 };
    int rc = 0;
    for (int k = 0; k < RU_NKINDS && rc == 0; k++)
        if (sqlite3_prepare_v2(db, upsert_sql[k], -1, &st[k], NULL) != SQLITE_OK)
            rc = -1;
    for (size_t i = 0; i < r->cap && rc == 0; i++) {
        struct ru_ent *e = &r->tab[i];
        if (!e->hash)
            continue;
        rc = flush_one(st[e->kind], e, e->bucket);
        if (rc == 0 && e->kind == RU_HOUR)   /* counted once, in its hour: the day gets it too */
            rc = flush_one(st[RU_DAY], e, e->bucket / 24);
    }
    for (int k = 0; k < RU_NKINDS; k++)
        sqlite3_finalize(st[k]);
    hp_rollup_reset(r);
    return rc;
}

/* ---- maintenance ------------------------------------------------------------------ */

int hp_rollup_expire(sqlite3 *db, int64_t cutoff_us)
{
    char sql[512];
    long long hour = cutoff_us / HP_ROLLUP_HOUR_US, minute = cutoff_us / 60000000;
    snprintf(sql, sizeof(sql),
             "DELETE FROM timeline WHERE minute < %lld; DELETE FROM rollup WHERE hour < %lld;"
             "DELETE FROM rollup_day WHERE day < %lld; DELETE FROM first_seen WHERE last < %lld;"
             "DELETE FROM labels WHERE dim IN ('ip', 'url', 'pair') AND NOT EXISTS"
             " (SELECT 1 FROM first_seen f WHERE f.dim = labels.dim AND f.key = labels.key)"
             " AND NOT EXISTS (SELECT 1 FROM rollup r WHERE r.dim = labels.dim AND r.key = labels.key);",
             minute, hour, hour / 24, (long long)cutoff_us);
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int exec_err(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
    return -1;
}

int hp_rollup_rebuild(sqlite3 *db, void (*progress)(void *arg, int64_t done, int64_t total), void *arg,
                      char *err, size_t errlen)
{
    /* One long transaction touching pages all over the roll-up tables: give it a
     * cache large enough that they are not written out and read back. */
    if (exec_err(db, "PRAGMA cache_size = -131072; PRAGMA mmap_size = 1073741824", err, errlen) != 0 ||
        exec_err(db, "BEGIN", err, errlen) != 0)
        return -1;
    /* Dropped and made again, so a rebuild also brings older layouts up to date. */
    if (exec_err(db, "DROP TABLE IF EXISTS timeline; DROP TABLE IF EXISTS rollup;"
                     " DROP TABLE IF EXISTS rollup_set; DROP TABLE IF EXISTS rollup_day;"
                     " DROP TABLE IF EXISTS first_seen; DROP TABLE IF EXISTS labels;", err, errlen) != 0 ||
        exec_err(db, hp_rollup_schema_sql, err, errlen) != 0)
        goto fail;
    if (hp_hll_register(db) != 0) {
        snprintf(err, errlen, "sqlite: cannot register the sketch functions");
        goto fail;
    }
    sqlite3_stmt *st = NULL;
    int64_t total = 0, done = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        total = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT ts, eventid, protocol, src_ip, dst_port, data FROM events ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
        goto fail;
    }
    struct hp_rollup *r = hp_rollup_new();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 1);
        const char *data = (const char *)sqlite3_column_text(st, 5);
        if (!id || !data)
            continue;
        hp_rollup_add_row(r, sqlite3_column_int64(st, 0), id, (const char *)sqlite3_column_text(st, 2),
                          (const char *)sqlite3_column_text(st, 3), sqlite3_column_int(st, 4), data,
                          (size_t)sqlite3_column_bytes(st, 5));
        if (++done % 65536 == 0 || hp_rollup_pending(r) > 500000) {
            if (hp_rollup_pending(r) > 200000 && hp_rollup_flush(r, db) != 0)
                break;
            if (progress && done % 65536 == 0)
                progress(arg, done, total);
        }
    }
    sqlite3_finalize(st);
    int frc = hp_rollup_flush(r, db);
    hp_rollup_free(r);
    if (rc != SQLITE_DONE || frc != 0) {
        snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
        goto fail;
    }
    if (exec_err(db, "INSERT OR REPLACE INTO meta VALUES('rollup_complete', '1'); COMMIT", err, errlen) != 0)
        goto fail;
    if (progress)
        progress(arg, done, total);
    return 0;
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}
