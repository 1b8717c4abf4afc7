/*
 * memcached.c - a memcached server's ASCII protocol on TCP 11211.
 *
 * Exposed memcached servers are probed for two reasons: `stats` (is this a
 * reflector for UDP amplification, how much memory does it hold) and the
 * data (`get` of session keys, `set` of a large value to reflect later,
 * `flush_all` by vandals).  The module answers as memcached 1.6/1.5 does on
 * a fresh Debian or Ubuntu host, with a small in-memory store so a `set`
 * followed by `get` behaves, and records every command.
 *
 *   storage    set add replace append prepend cas: the data block is waited
 *              for (bounded by HP_MC_ITEM_MAX, a longer one is refused with
 *              SERVER_ERROR and discarded as memcached does); noreply honoured
 *   retrieval  get gets gat gats; delete incr decr touch; flush_all
 *   other      stats (general, settings, items, slabs, conns), version,
 *              verbosity, quit, shutdown (refused as without -A); anything
 *              else is "ERROR"; a line over 2048 bytes is refused and the
 *              connection closed, as memcached does
 *
 * The store is one per sensor, shared by every connection as the real
 * server's is, and bounded (MC_ITEMS items, MC_BYTES bytes of values; the
 * oldest item goes first).  Expiry follows memcached: 0 never, up to 30
 * days relative seconds, beyond that a Unix time, negative immediately.
 *
 * Events: command.input for every command (input, command, key), and
 * memcached.store for every value received (command, key, flags, exptime,
 * bytes, sha256, a preview); values are mined for URLs like every other
 * payload.  The binary protocol (first byte 0x80) is logged and closed.
 *
 * UDP: memcached >= 1.5.6 ships with UDP off, and a reflector is what the
 * attacker wants, so the module answers nothing over UDP; datagrams on a
 * configured udp port are recorded (command.input with the frame header's
 * request id) and never answered.
 *
 * The version (and the fake process's pid and start time, for `stats`) is
 * drawn at first start and kept in the identity file.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>
#include "buf.h"
#include "capture/capture.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "identity.h"
#include "memcached.h"
#include "proto.h"
#include "util.h"

#define MC_ITEMS 256
#define MC_BYTES (4u << 20)
#define MC_MAX_TOKENS 24
#define MC_PREVIEW 256
#define MC_REL_MAX 2592000              /* 30 days: larger exptimes are Unix times */

/* ---- identity ---------------------------------------------------------------------- */

static const char *const mc_versions[] = { "1.6.18", "1.6.14", "1.6.21", "1.6.9", NULL };

static struct {
    char version[16];
    uint32_t pid;
    int64_t started;                    /* Unix time the fake process started */
} mc_id;

static bool mc_version_ok(const char *v)
{
    unsigned a, b, c;
    int n = 0;
    return v && strlen(v) < sizeof(mc_id.version) && sscanf(v, "%u.%u.%u%n", &a, &b, &c, &n) == 3 &&
           v[n] == '\0' && a >= 1 && a <= 9;
}

void hp_mc_identity_init(const char *configured)
{
    char v[16] = "";
    if (mc_version_ok(configured))
        snprintf(v, sizeof(v), "%s", configured);
    const char *kept = hp_identity_get("memcached_server");
    hp_identity_product("memcached_server", "memcached_version", "memcached", kept ? "memcached" : NULL,
                        mc_versions, v, sizeof(v));
    snprintf(mc_id.version, sizeof(mc_id.version), "%s", mc_version_ok(v) ? v : mc_versions[0]);
    const char *p = hp_identity_get("memcached_pid"), *t = hp_identity_get("memcached_started");
    uint64_t pid = 0, started = 0;
    if (!p || hp_parse_u64(p, 300, 4000000, &pid) != 0) {
        char s[24];
        pid = 300 + hp_random_u64() % 30000;
        snprintf(s, sizeof(s), "%" PRIu64, pid);
        hp_identity_set("memcached_pid", s);
    }
    if (!t || hp_parse_u64(t, 1000000000, 4000000000u, &started) != 0) {
        char s[24];
        started = (uint64_t)(hp_now_us() / 1000000) - 86400 * (3 + hp_random_u64() % 60) - hp_random_u64() % 86400;
        snprintf(s, sizeof(s), "%" PRIu64, started);
        hp_identity_set("memcached_started", s);
    }
    mc_id.pid = (uint32_t)pid;
    mc_id.started = (int64_t)started;
}

const char *hp_mc_version(void)
{
    return mc_id.version[0] ? mc_id.version : mc_versions[0];
}

/* ---- the store ------------------------------------------------------------------------ */

struct mc_item {
    bool used;
    char key[HP_MC_KEY_MAX + 1];
    uint32_t flags;
    int64_t expires;                    /* Unix seconds, 0: never */
    uint64_t cas;
    uint64_t seq;                       /* age: the smallest goes first when full */
    uint8_t *val;                       /* the allocation; the value is at val + off */
    size_t off;
    size_t len;
    size_t cap;                         /* bytes allocated at val (room on both sides of the value) */
};

static struct {
    struct mc_item items[MC_ITEMS];
    size_t bytes, count;
    uint64_t seq, cas;
    uint64_t cmd_get, cmd_set, cmd_touch, cmd_flush, get_hits, get_misses, get_expired, delete_hits,
        delete_misses, incr_hits, incr_misses, decr_hits, decr_misses, cas_hits, cas_misses, cas_badval,
        touch_hits, touch_misses, total_items, curr_conns, total_conns, too_large;
} mc;

static int64_t mc_now(void)
{
    return hp_now_us() / 1000000;
}

static void mc_drop(struct mc_item *it)
{
    mc.bytes -= it->len;
    mc.count--;
    free(it->val);
    memset(it, 0, sizeof(*it));
}

void hp_mc_store_reset(void)
{
    for (size_t i = 0; i < MC_ITEMS; i++)
        if (mc.items[i].used)
            mc_drop(&mc.items[i]);
}

static struct mc_item *mc_find(const char *key)
{
    int64_t now = mc_now();
    for (size_t i = 0; i < MC_ITEMS; i++) {
        struct mc_item *it = &mc.items[i];
        if (!it->used || strcmp(it->key, key) != 0)
            continue;
        if (it->expires && it->expires <= now) {
            mc.get_expired++;
            mc_drop(it);
            return NULL;
        }
        return it;
    }
    return NULL;
}

static int64_t mc_expires(int64_t exptime)
{
    if (exptime == 0)
        return 0;
    if (exptime < 0)
        return 1;                       /* already expired */
    return exptime <= MC_REL_MAX ? mc_now() + exptime : exptime;
}

/* Make room for len more bytes and one more item (oldest first); a free slot or NULL. */
static struct mc_item *mc_room(size_t len, const struct mc_item *keep)
{
    for (;;) {
        struct mc_item *free_slot = NULL, *oldest = NULL;
        for (size_t i = 0; i < MC_ITEMS; i++) {
            struct mc_item *it = &mc.items[i];
            if (!it->used) {
                if (!free_slot)
                    free_slot = it;
            } else if (it != keep && (!oldest || it->seq < oldest->seq)) {
                oldest = it;
            }
        }
        if (free_slot && mc.bytes + len <= MC_BYTES)
            return free_slot;
        if (!oldest)
            return NULL;
        mc_drop(oldest);
    }
}

/* Set key's value (a fresh copy of data); false when it cannot be kept. */
static bool mc_put(struct mc_item *it, const char *key, uint32_t flags, int64_t exptime, const uint8_t *data,
                   size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return false;
    memcpy(copy, data, len);
    if (it) {
        mc.bytes -= it->len;
        free(it->val);
    } else {
        it = mc_room(len, NULL);
        if (!it) {
            free(copy);
            return false;
        }
        it->used = true;
        snprintf(it->key, sizeof(it->key), "%s", key);
        mc.count++;
    }
    if (mc.bytes + len > MC_BYTES)
        mc_room(len, it);
    it->val = copy;
    it->off = 0;
    it->len = len;
    it->cap = len ? len : 1;
    mc.bytes += len;
    it->flags = flags;
    it->expires = mc_expires(exptime);
    it->cas = ++mc.cas;
    it->seq = ++mc.seq;
    mc.total_items++;
    return true;
}

/* ---- output --------------------------------------------------------------------------- */

/* Answers are gathered and written once per read, as memcached does: a
 * client (or nmap) that sent two commands in one packet gets both answers
 * in one. */
#define MC_PEND_MAX (256u * 1024)

/* Hand bytes to the peer.  Once that fails (the connection is closing: its
 * output overflowed), the rest of the read is not answered: every further
 * "get" of big items would build megabytes for nobody. */
static void mc_write(struct hp_mc_sess *s, const void *data, size_t len)
{
    if (s->out(s->out_arg, data, len) < 0 && !s->close_reason)
        s->close_reason = "output_overflow";
}

static void mc_flush(struct hp_mc_sess *s)
{
    if (s->pend_len)
        mc_write(s, s->pend, s->pend_len);
    s->pend_len = 0;
}

static void mc_out(struct hp_mc_sess *s, const void *data, size_t len)
{
    if (s->pend_len + len > MC_PEND_MAX)
        mc_flush(s);
    if (len > MC_PEND_MAX) {
        mc_write(s, data, len);
        return;
    }
    if (!s->pend) {
        s->pend = malloc(MC_PEND_MAX);
        if (!s->pend) {
            mc_write(s, data, len);
            return;
        }
    }
    memcpy(s->pend + s->pend_len, data, len);
    s->pend_len += len;
}

static void mc_send(struct hp_mc_sess *s, const struct hp_buf *b)
{
    if (b->len)
        mc_out(s, b->data, b->len);
}

static void mc_line(struct hp_mc_sess *s, const char *text)
{
    if (s->noreply)
        return;
    char line[128];
    int n = snprintf(line, sizeof(line), "%s\r\n", text);
    mc_out(s, line, (size_t)n);
}

static void mc_emit(struct hp_mc_sess *s, struct hp_ev *ev)
{
    if (s->emit)
        s->emit(ev);
    else
        hp_ev_emit(ev);
}

/* ---- commands ------------------------------------------------------------------------- */

struct mc_tok {
    const char *p;
    size_t n;
};

static bool tok_is(const struct mc_tok *t, const char *word)
{
    return t->n == strlen(word) && memcmp(t->p, word, t->n) == 0;
}

static bool tok_u64(const struct mc_tok *t, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (t->n == 0 || t->n > 20)
        return false;
    for (size_t i = 0; i < t->n; i++) {
        if (t->p[i] < '0' || t->p[i] > '9')
            return false;
        uint64_t d = (uint64_t)(t->p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

static bool tok_i64(const struct mc_tok *t, int64_t *out)
{
    uint64_t v;
    if (t->n > 1 && t->p[0] == '-') {
        struct mc_tok rest = { t->p + 1, t->n - 1 };
        if (!tok_u64(&rest, INT64_MAX, &v))
            return false;
        *out = -(int64_t)v;
        return true;
    }
    if (!tok_u64(t, INT64_MAX, &v))
        return false;
    *out = (int64_t)v;
    return true;
}

static bool tok_key(const struct mc_tok *t, char out[HP_MC_KEY_MAX + 1])
{
    if (t->n == 0 || t->n > HP_MC_KEY_MAX)
        return false;
    for (size_t i = 0; i < t->n; i++)
        if ((unsigned char)t->p[i] <= ' ' || t->p[i] == 0x7f)
            return false;
    memcpy(out, t->p, t->n);
    out[t->n] = '\0';
    return true;
}

static void ev_command(struct hp_mc_sess *s, const uint8_t *line, size_t n, const struct mc_tok *tok,
                       size_t ntok)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "command.input");
    hp_ev_bytes(&ev, "input", line, n > 1024 ? 1024 : n);
    if (ntok > 0)
        hp_ev_bytes(&ev, "command", tok[0].p, tok[0].n > 32 ? 32 : tok[0].n);
    /* the (first) key of the commands that take one; gat/gats put the exptime first */
    static const char *const keyed[] = { "get", "gets", "set", "add", "replace", "append", "prepend", "cas",
                                         "delete", "incr", "decr", "touch" };
    size_t at = 0;
    for (size_t i = 0; ntok > 0 && i < HP_ARRAY_LEN(keyed) && !at; i++)
        if (tok_is(&tok[0], keyed[i]))
            at = 1;
    if (ntok > 0 && (tok_is(&tok[0], "gat") || tok_is(&tok[0], "gats")))
        at = 2;
    if (at && ntok > at)
        hp_ev_bytes(&ev, "key", tok[at].p, tok[at].n > HP_MC_KEY_MAX ? HP_MC_KEY_MAX : tok[at].n);
    else if (ntok > 1)
        hp_ev_bytes(&ev, "args", tok[1].p, tok[1].n > 64 ? 64 : tok[1].n);
    mc_emit(s, &ev);
}

static void cmd_get(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok, bool with_cas, bool touch)
{
    size_t first = touch ? 2 : 1;
    int64_t exptime = 0;
    if (ntok <= first || (touch && !tok_i64(&tok[1], &exptime))) {
        mc_line(s, ntok <= first ? "ERROR" : "CLIENT_ERROR invalid exptime argument");
        return;
    }
    struct hp_buf out;
    hp_buf_init(&out, 8u << 20);
    for (size_t i = first; i < ntok; i++) {
        char key[HP_MC_KEY_MAX + 1];
        if (!tok_key(&tok[i], key)) {
            hp_buf_free(&out);
            mc_line(s, "CLIENT_ERROR bad command line format");
            return;
        }
        mc.cmd_get++;
        if (touch)
            mc.cmd_touch++;
        struct mc_item *it = mc_find(key);
        if (!it) {
            mc.get_misses++;
            if (touch)
                mc.touch_misses++;
            continue;
        }
        mc.get_hits++;
        if (touch) {
            mc.touch_hits++;
            it->expires = mc_expires(exptime);
        }
        hp_buf_printf(&out, "VALUE %s %" PRIu32 " %zu", it->key, it->flags, it->len);
        if (with_cas)
            hp_buf_printf(&out, " %" PRIu64, it->cas);
        hp_buf_puts(&out, "\r\n");
        hp_buf_put(&out, it->val + it->off, it->len);
        hp_buf_puts(&out, "\r\n");
    }
    hp_buf_puts(&out, "END\r\n");
    mc_send(s, &out);
    hp_buf_free(&out);
}

/* set/add/replace/append/prepend/cas KEY FLAGS EXPTIME BYTES [CAS] [noreply] */
static void cmd_store_head(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    bool is_cas = tok_is(&tok[0], "cas");
    size_t need = is_cas ? 6 : 5;
    uint64_t flags, bytes, cas = 0;
    int64_t exptime;
    char key[HP_MC_KEY_MAX + 1];
    if (ntok < need || ntok > need + 1) {
        mc_line(s, "ERROR");
        return;
    }
    bool ok = tok_key(&tok[1], key) && tok_u64(&tok[2], UINT32_MAX, &flags) && tok_i64(&tok[3], &exptime) &&
              tok_u64(&tok[4], INT32_MAX, &bytes) && (!is_cas || tok_u64(&tok[5], UINT64_MAX, &cas));
    if (!ok) {
        mc_line(s, "CLIENT_ERROR bad command line format");
        return;
    }
    s->noreply = ntok == need + 1 && tok_is(&tok[need], "noreply");
    if (bytes > HP_MC_ITEM_MAX) {
        /* memcached refuses it, swallows the data block (+ CRLF), then answers */
        mc.too_large++;
        s->swallow = bytes + 2;
        return;
    }
    snprintf(s->cmd, sizeof(s->cmd), "%.*s", (int)tok[0].n, tok[0].p);
    memcpy(s->key, key, sizeof(key));
    s->flags = (uint32_t)flags;
    s->exptime = exptime;
    s->bytes = bytes;
    s->cas = cas;
    s->want_data = true;
}

static void ev_store(struct hp_mc_sess *s, const uint8_t *data, size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char hex[2 * SHA256_DIGEST_LENGTH + 1];
    SHA256(data, len, md);
    for (size_t i = 0; i < sizeof(md); i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "memcached.store");
    hp_ev_str(&ev, "command", s->cmd);
    hp_ev_str(&ev, "key", s->key);
    hp_ev_uint(&ev, "flags", s->flags);
    hp_ev_int(&ev, "exptime", s->exptime);
    hp_ev_uint(&ev, "bytes", len);
    hp_ev_str(&ev, "sha256", hex);
    hp_ev_bytes(&ev, "preview", data, len > MC_PREVIEW ? MC_PREVIEW : len);
    mc_emit(s, &ev);
    if (s->ctx)
        hp_capture_scan(s->ctx, data, len, "memcached");
}

/* Put the value in an allocation of cap bytes with the room this join
 * leaves split evenly before and after it (the new bytes' place kept on
 * their side), so that a run of appends or prepends writes into room
 * instead of moving the value. */
static bool mc_regap(struct mc_item *it, size_t cap, size_t add, bool append)
{
    size_t room = cap - it->len - add, at = room / 2 + (append ? 0 : add);
    uint8_t *v = cap == it->cap ? it->val : malloc(cap);
    if (!v)
        return false;
    memmove(v + at, it->val + it->off, it->len);
    if (v != it->val) {
        free(it->val);
        it->val = v;
        it->cap = cap;
    }
    it->off = at;
    return true;
}

/* append / prepend in place, with room kept on both sides of the value and
 * the allocation growing by doubling: joining into a fresh copy made every
 * one-byte append of a 1 MiB item copy it twice, and moving the value up
 * for every prepend (even of 0 bytes) cost 13 us per 20-byte command.  A
 * value is moved when one side runs out of room, which halves what is left
 * (or doubles the allocation).  Flags and expiry stay, as memcached keeps
 * them.  The caller keeps it->len + len within HP_MC_ITEM_MAX. */
static bool mc_join(struct mc_item *it, const uint8_t *data, size_t len, bool append)
{
    size_t n = it->len + len;
    if (append ? it->off + n > it->cap : it->off < len) {
        size_t cap = n * 2 < HP_MC_ITEM_MAX ? n * 2 : HP_MC_ITEM_MAX;
        if (!mc_regap(it, cap > it->cap ? cap : it->cap, len, append))
            return false;
    }
    if (append) {
        memcpy(it->val + it->off + it->len, data, len);
    } else {
        it->off -= len;
        memcpy(it->val + it->off, data, len);
    }
    it->len = n;
    mc.bytes += len;
    it->cas = ++mc.cas;
    it->seq = ++mc.seq;
    mc.total_items++;
    if (mc.bytes > MC_BYTES)
        mc_room(0, it);                 /* older items go, this one stays */
    return true;
}

static void store_data(struct hp_mc_sess *s, const uint8_t *data, size_t len)
{
    ev_store(s, data, len);
    mc.cmd_set++;
    struct mc_item *it = mc_find(s->key);
    const char *c = s->cmd;
    const char *answer = "STORED";
    if (strcmp(c, "add") == 0 && it) {
        answer = "NOT_STORED";
    } else if ((strcmp(c, "replace") == 0 || strcmp(c, "append") == 0 || strcmp(c, "prepend") == 0) && !it) {
        answer = "NOT_STORED";
    } else if (strcmp(c, "cas") == 0 && !it) {
        mc.cas_misses++;
        answer = "NOT_FOUND";
    } else if (strcmp(c, "cas") == 0 && it->cas != s->cas) {
        mc.cas_badval++;
        answer = "EXISTS";
    } else if (strcmp(c, "append") == 0 || strcmp(c, "prepend") == 0) {
        if (it->len + len > HP_MC_ITEM_MAX || !mc_join(it, data, len, c[0] == 'a'))
            answer = "SERVER_ERROR out of memory storing object";
    } else {
        if (strcmp(c, "cas") == 0)
            mc.cas_hits++;
        if (!mc_put(it, s->key, s->flags, s->exptime, data, len))
            answer = "SERVER_ERROR out of memory storing object";
    }
    mc_line(s, answer);
}

static void cmd_delete(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    char key[HP_MC_KEY_MAX + 1];
    s->noreply = ntok >= 3 && tok_is(&tok[ntok - 1], "noreply");
    if (ntok < 2 || ntok > 4 || !tok_key(&tok[1], key)) {
        mc_line(s, ntok < 2 ? "ERROR" : "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]");
        return;
    }
    struct mc_item *it = mc_find(key);
    if (it) {
        mc.delete_hits++;
        mc_drop(it);
    } else {
        mc.delete_misses++;
    }
    mc_line(s, it ? "DELETED" : "NOT_FOUND");
}

static void cmd_arith(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok, bool incr)
{
    char key[HP_MC_KEY_MAX + 1];
    uint64_t delta, cur = 0;
    s->noreply = ntok == 4 && tok_is(&tok[3], "noreply");
    if (ntok < 3 || ntok > 4 || !tok_key(&tok[1], key)) {
        mc_line(s, "ERROR");
        return;
    }
    if (!tok_u64(&tok[2], UINT64_MAX, &delta)) {
        mc_line(s, "CLIENT_ERROR invalid numeric delta argument");
        return;
    }
    struct mc_item *it = mc_find(key);
    if (!it) {
        incr ? mc.incr_misses++ : mc.decr_misses++;
        mc_line(s, "NOT_FOUND");
        return;
    }
    struct mc_tok v = { (const char *)it->val + it->off, it->len };
    while (v.n > 1 && v.p[v.n - 1] == ' ')
        v.n--;                                  /* a decr's padding */
    if (!tok_u64(&v, UINT64_MAX, &cur)) {
        mc_line(s, "CLIENT_ERROR cannot increment or decrement non-numeric value");
        return;
    }
    incr ? mc.incr_hits++ : mc.decr_hits++;
    cur = incr ? cur + delta : (delta > cur ? 0 : cur - delta);   /* incr wraps at 2^64 as memcached's */
    char num[24], stored[24];
    int n = snprintf(num, sizeof(num), "%" PRIu64, cur);
    /* a decr that shortens the number is padded with blanks to the old length, as memcached does */
    size_t len = !incr && (size_t)n < it->len ? it->len : (size_t)n;
    memset(stored, ' ', sizeof(stored));
    memcpy(stored, num, (size_t)n);
    int64_t keep_exp = it->expires;
    if (mc_put(it, key, it->flags, 0, (const uint8_t *)stored, len))
        it->expires = keep_exp;
    mc_line(s, num);
}

static void cmd_touch(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    char key[HP_MC_KEY_MAX + 1];
    int64_t exptime;
    s->noreply = ntok == 4 && tok_is(&tok[3], "noreply");
    if (ntok < 3 || ntok > 4 || !tok_key(&tok[1], key) || !tok_i64(&tok[2], &exptime)) {
        mc_line(s, "ERROR");
        return;
    }
    mc.cmd_touch++;
    struct mc_item *it = mc_find(key);
    if (it) {
        mc.touch_hits++;
        it->expires = mc_expires(exptime);
    } else {
        mc.touch_misses++;
    }
    mc_line(s, it ? "TOUCHED" : "NOT_FOUND");
}

static void stats_general(struct hp_buf *o)
{
    int64_t now = mc_now(), up = now - mc_id.started;
    if (up < 1)
        up = 1;
    uint64_t base_conns = (uint64_t)up / 97 + 11;
    hp_buf_printf(o, "STAT pid %" PRIu32 "\r\nSTAT uptime %" PRId64 "\r\nSTAT time %" PRId64 "\r\n", mc_id.pid,
                  up, now);
    hp_buf_printf(o, "STAT version %s\r\nSTAT libevent 2.1.12-stable\r\nSTAT pointer_size 64\r\n", hp_mc_version());
    hp_buf_printf(o, "STAT rusage_user %" PRId64 ".%06d\r\nSTAT rusage_system %" PRId64 ".%06d\r\n", up / 2900,
                  (int)(up * 37 % 1000000), up / 2100, (int)(up * 53 % 1000000));
    hp_buf_printf(o, "STAT max_connections 1024\r\nSTAT curr_connections %" PRIu64 "\r\n"
                  "STAT total_connections %" PRIu64 "\r\nSTAT rejected_connections 0\r\n"
                  "STAT connection_structures %" PRIu64 "\r\nSTAT response_obj_oom 0\r\n"
                  "STAT response_obj_count 1\r\nSTAT response_obj_bytes 65536\r\nSTAT read_buf_count 8\r\n"
                  "STAT read_buf_bytes 131072\r\nSTAT read_buf_bytes_free 49152\r\nSTAT read_buf_oom 0\r\n"
                  "STAT reserved_fds 20\r\n",
                  mc.curr_conns, base_conns + mc.total_conns, mc.curr_conns + 1);
    hp_buf_printf(o, "STAT cmd_get %" PRIu64 "\r\nSTAT cmd_set %" PRIu64 "\r\nSTAT cmd_flush %" PRIu64 "\r\n"
                  "STAT cmd_touch %" PRIu64 "\r\nSTAT cmd_meta 0\r\nSTAT get_hits %" PRIu64 "\r\n"
                  "STAT get_misses %" PRIu64 "\r\nSTAT get_expired %" PRIu64 "\r\nSTAT get_flushed 0\r\n"
                  "STAT delete_misses %" PRIu64 "\r\nSTAT delete_hits %" PRIu64 "\r\n"
                  "STAT incr_misses %" PRIu64 "\r\nSTAT incr_hits %" PRIu64 "\r\n"
                  "STAT decr_misses %" PRIu64 "\r\nSTAT decr_hits %" PRIu64 "\r\n"
                  "STAT cas_misses %" PRIu64 "\r\nSTAT cas_hits %" PRIu64 "\r\nSTAT cas_badval %" PRIu64 "\r\n"
                  "STAT touch_hits %" PRIu64 "\r\nSTAT touch_misses %" PRIu64 "\r\n",
                  mc.cmd_get, mc.cmd_set, mc.cmd_flush, mc.cmd_touch, mc.get_hits, mc.get_misses, mc.get_expired,
                  mc.delete_misses, mc.delete_hits, mc.incr_misses, mc.incr_hits, mc.decr_misses, mc.decr_hits,
                  mc.cas_misses, mc.cas_hits, mc.cas_badval, mc.touch_hits, mc.touch_misses);
    hp_buf_printf(o, "STAT store_too_large %" PRIu64 "\r\nSTAT store_no_memory 0\r\nSTAT auth_cmds 0\r\n"
                  "STAT auth_errors 0\r\nSTAT bytes_read %" PRIu64 "\r\nSTAT bytes_written %" PRIu64 "\r\n"
                  "STAT limit_maxbytes 67108864\r\nSTAT accepting_conns 1\r\nSTAT listen_disabled_num 0\r\n"
                  "STAT time_in_listen_disabled_us 0\r\nSTAT threads 4\r\nSTAT conn_yields 0\r\n"
                  "STAT hash_power_level 16\r\nSTAT hash_bytes 524288\r\nSTAT hash_is_expanding 0\r\n",
                  mc.too_large, base_conns * 31, base_conns * 1187);
    hp_buf_puts(o, "STAT slab_reassign_rescues 0\r\nSTAT slab_reassign_chunk_rescues 0\r\n"
                   "STAT slab_reassign_evictions_nomem 0\r\nSTAT slab_reassign_inline_reclaim 0\r\n"
                   "STAT slab_reassign_busy_items 0\r\nSTAT slab_reassign_busy_deletes 0\r\n"
                   "STAT slab_reassign_running 0\r\nSTAT slabs_moved 0\r\nSTAT lru_crawler_running 0\r\n");
    hp_buf_printf(o, "STAT lru_crawler_starts %" PRId64 "\r\nSTAT lru_maintainer_juggles %" PRId64 "\r\n"
                  "STAT malloc_fails 0\r\nSTAT log_worker_dropped 0\r\nSTAT log_worker_written 0\r\n"
                  "STAT log_watcher_skipped 0\r\nSTAT log_watcher_sent 0\r\nSTAT log_watchers 0\r\n"
                  "STAT unexpected_napi_ids 0\r\nSTAT round_robin_fallback 0\r\n",
                  up / 3600 + 1, up * 5 + 17);
    hp_buf_printf(o, "STAT bytes %zu\r\nSTAT curr_items %zu\r\nSTAT total_items %" PRIu64 "\r\n"
                  "STAT slab_global_page_pool 0\r\nSTAT expired_unfetched 0\r\nSTAT evicted_unfetched 0\r\n"
                  "STAT evicted_active 0\r\nSTAT evictions 0\r\nSTAT reclaimed 0\r\nSTAT crawler_reclaimed 0\r\n"
                  "STAT crawler_items_checked 0\r\nSTAT lrutail_reflocked 0\r\nSTAT moves_to_cold 0\r\n"
                  "STAT moves_to_warm 0\r\nSTAT moves_within_lru 0\r\nSTAT direct_reclaims 0\r\n"
                  "STAT lru_bumps_dropped 0\r\n",
                  mc.bytes + mc.count * 56, mc.count, mc.total_items);
}

/* `stats settings` of memcached 1.6.18 started without -l (listening everywhere). */
static const char mc_settings[] =
    "STAT inter NULL\r\nSTAT verbosity 0\r\nSTAT oldest 0\r\nSTAT evictions on\r\nSTAT domain_socket NULL\r\n"
    "STAT umask 700\r\nSTAT shutdown_command no\r\nSTAT growth_factor 1.25\r\nSTAT chunk_size 48\r\n"
    "STAT num_threads 4\r\nSTAT num_threads_per_udp 4\r\nSTAT stat_key_prefix :\r\nSTAT detail_enabled no\r\n"
    "STAT reqs_per_event 20\r\nSTAT cas_enabled yes\r\nSTAT tcp_backlog 1024\r\n"
    "STAT binding_protocol auto-negotiate\r\nSTAT auth_enabled_sasl no\r\nSTAT auth_enabled_ascii no\r\n"
    "STAT item_size_max 1048576\r\nSTAT maxconns_fast yes\r\nSTAT hashpower_init 0\r\nSTAT slab_reassign yes\r\n"
    "STAT slab_automove 1\r\nSTAT slab_automove_ratio 0.80\r\nSTAT slab_automove_window 30\r\n"
    "STAT slab_chunk_max 524288\r\nSTAT lru_crawler yes\r\nSTAT lru_crawler_sleep 100\r\n"
    "STAT lru_crawler_tocrawl 0\r\nSTAT tail_repair_time 0\r\nSTAT flush_enabled yes\r\nSTAT dump_enabled yes\r\n"
    "STAT hash_algorithm murmur3\r\nSTAT lru_maintainer_thread yes\r\nSTAT lru_segmented yes\r\n"
    "STAT hot_lru_pct 20\r\nSTAT warm_lru_pct 40\r\nSTAT hot_max_factor 0.20\r\nSTAT warm_max_factor 2.00\r\n"
    "STAT temp_lru no\r\nSTAT temporary_ttl 61\r\nSTAT idle_timeout 0\r\nSTAT watcher_logbuf_size 262144\r\n"
    "STAT worker_logbuf_size 65536\r\nSTAT read_buf_mem_limit 0\r\nSTAT track_sizes no\r\n"
    "STAT inline_ascii_response no\r\nSTAT ext_item_size 512\r\nSTAT ext_item_age 4294967295\r\n"
    "STAT ext_low_ttl 0\r\nSTAT ext_recache_rate 2000\r\nSTAT ext_wbuf_size 4194304\r\nSTAT ext_compact_under 0\r\n"
    "STAT ext_drop_under 0\r\nSTAT ext_max_sleep 1000000\r\nSTAT ext_max_frag 0.80\r\n"
    "STAT slab_automove_freeratio 0.010\r\nSTAT ext_drop_unread no\r\nSTAT ssl_enabled no\r\n"
    "STAT ssl_chain_cert (null)\r\nSTAT ssl_key (null)\r\nSTAT ssl_verify_mode 0\r\nSTAT ssl_keyformat 1\r\n"
    "STAT ssl_ciphers NULL\r\nSTAT ssl_ca_cert NULL\r\nSTAT ssl_wbuf_size 16384\r\nSTAT ssl_session_cache no\r\n"
    "STAT ssl_kernel_tls no\r\nSTAT ssl_min_version tlsv1.2\r\nSTAT num_napi_ids (null)\r\n"
    "STAT memory_file (null)\r\n";

static void stats_items(struct hp_buf *o)
{
    if (!mc.count)
        return;
    static const char *const zero[] = { "evicted", "evicted_nonzero", "evicted_time", "outofmemory",
                                        "tailrepairs", "reclaimed", "expired_unfetched", "evicted_unfetched",
                                        "evicted_active", "crawler_reclaimed", "crawler_items_checked",
                                        "lrutail_reflocked", "moves_to_cold", "moves_to_warm",
                                        "moves_within_lru", "direct_reclaims" };
    hp_buf_printf(o, "STAT items:1:number %zu\r\nSTAT items:1:number_hot %zu\r\nSTAT items:1:number_warm 0\r\n"
                  "STAT items:1:number_cold 0\r\nSTAT items:1:age_hot 0\r\nSTAT items:1:age_warm 0\r\n"
                  "STAT items:1:age 0\r\nSTAT items:1:mem_requested %zu\r\n",
                  mc.count, mc.count, mc.bytes + mc.count * 56);
    for (size_t i = 0; i < HP_ARRAY_LEN(zero); i++)
        hp_buf_printf(o, "STAT items:1:%s 0\r\n", zero[i]);
    hp_buf_printf(o, "STAT items:1:hits_to_hot %" PRIu64 "\r\nSTAT items:1:hits_to_warm 0\r\n"
                  "STAT items:1:hits_to_cold 0\r\nSTAT items:1:hits_to_temp 0\r\n", mc.get_hits);
}

static void stats_slabs(struct hp_buf *o)
{
    if (mc.total_items)                          /* a slab page, once taken, stays */
        hp_buf_printf(o, "STAT 1:chunk_size 96\r\nSTAT 1:chunks_per_page 10922\r\nSTAT 1:total_pages 1\r\n"
                      "STAT 1:total_chunks 10922\r\nSTAT 1:used_chunks %zu\r\nSTAT 1:free_chunks %zu\r\n"
                      "STAT 1:free_chunks_end 0\r\nSTAT 1:get_hits %" PRIu64 "\r\nSTAT 1:cmd_set %" PRIu64 "\r\n"
                      "STAT 1:delete_hits %" PRIu64 "\r\nSTAT 1:incr_hits %" PRIu64 "\r\nSTAT 1:decr_hits %" PRIu64
                      "\r\nSTAT 1:cas_hits %" PRIu64 "\r\nSTAT 1:cas_badval %" PRIu64 "\r\n"
                      "STAT 1:touch_hits %" PRIu64 "\r\n",
                      mc.count, 10922 - mc.count, mc.get_hits, mc.cmd_set, mc.delete_hits, mc.incr_hits,
                      mc.decr_hits, mc.cas_hits, mc.cas_badval, mc.touch_hits);
    hp_buf_printf(o, "STAT active_slabs %d\r\nSTAT total_malloced %d\r\n", mc.total_items ? 1 : 0,
                  mc.total_items ? 1048576 : 0);
}

static void cmd_stats(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    struct hp_buf o;
    hp_buf_init(&o, 64 * 1024);
    if (ntok == 1) {
        stats_general(&o);
    } else if (tok_is(&tok[1], "settings")) {
        /* the port the client reached (the real one behind an nftables redirect) */
        hp_buf_printf(&o, "STAT maxbytes 67108864\r\nSTAT maxconns 1024\r\nSTAT tcpport %u\r\nSTAT udpport 0\r\n",
                      s->ctx && s->ctx->dst_port ? s->ctx->dst_port : 11211);
        hp_buf_puts(&o, mc_settings);
    } else if (tok_is(&tok[1], "items")) {
        stats_items(&o);
    } else if (tok_is(&tok[1], "slabs")) {
        stats_slabs(&o);
    } else if (tok_is(&tok[1], "conns")) {
        hp_buf_printf(&o, "STAT 26:addr tcp:0.0.0.0:%u\r\nSTAT 26:state conn_listening\r\n",
                      s->ctx && s->ctx->dst_port ? s->ctx->dst_port : 11211);
        if (s->ctx)
            hp_buf_printf(&o, "STAT 31:addr tcp:%s:%u\r\nSTAT 31:listen_addr tcp:%s:%u\r\n"
                          "STAT 31:state conn_parse_cmd\r\nSTAT 31:secs_since_last_cmd 0\r\n",
                          s->ctx->src_ip, s->ctx->src_port, s->ctx->dst_ip, s->ctx->dst_port);
    } else if (tok_is(&tok[1], "reset") || tok_is(&tok[1], "detail")) {
        hp_buf_free(&o);
        mc_line(s, tok[1].p[0] == 'r' ? "RESET" : "OK");
        return;
    } else {
        hp_buf_free(&o);
        mc_line(s, "ERROR");
        return;
    }
    hp_buf_puts(&o, "END\r\n");
    mc_send(s, &o);
    hp_buf_free(&o);
}

static void command(struct hp_mc_sess *s, const uint8_t *line, size_t n)
{
    struct mc_tok tok[MC_MAX_TOKENS];
    size_t ntok = 0;
    for (size_t i = 0; i < n && ntok < MC_MAX_TOKENS;) {
        while (i < n && line[i] == ' ')
            i++;
        size_t st = i;
        while (i < n && line[i] != ' ')
            i++;
        if (i > st)
            tok[ntok++] = (struct mc_tok){ (const char *)line + st, i - st };
    }
    s->commands++;
    s->noreply = false;
    ev_command(s, line, n, tok, ntok);
    if (ntok == 0) {
        mc_line(s, "ERROR");
        return;
    }
    const struct mc_tok *c = &tok[0];
    if (tok_is(c, "get") || tok_is(c, "gets"))
        cmd_get(s, tok, ntok, c->n == 4, false);
    else if (tok_is(c, "gat") || tok_is(c, "gats"))
        cmd_get(s, tok, ntok, c->n == 4, true);
    else if (tok_is(c, "set") || tok_is(c, "add") || tok_is(c, "replace") || tok_is(c, "append") ||
             tok_is(c, "prepend") || tok_is(c, "cas"))
        cmd_store_head(s, tok, ntok);
    else if (tok_is(c, "delete"))
        cmd_delete(s, tok, ntok);
    else if (tok_is(c, "incr") || tok_is(c, "decr"))
        cmd_arith(s, tok, ntok, c->p[0] == 'i');
    else if (tok_is(c, "touch"))
        cmd_touch(s, tok, ntok);
    else if (tok_is(c, "stats"))
        cmd_stats(s, tok, ntok);
    else if (tok_is(c, "version")) {
        char v[48];
        snprintf(v, sizeof(v), "VERSION %s", hp_mc_version());
        mc_line(s, v);
    } else if (tok_is(c, "flush_all")) {
        s->noreply = ntok > 1 && tok_is(&tok[ntok - 1], "noreply");
        mc.cmd_flush++;
        hp_mc_store_reset();
        mc_line(s, "OK");
    } else if (tok_is(c, "verbosity")) {
        s->noreply = ntok > 2 && tok_is(&tok[ntok - 1], "noreply");
        mc_line(s, ntok >= 2 ? "OK" : "ERROR");
    } else if (tok_is(c, "quit")) {
        s->close_reason = "memcached_quit";
    } else if (tok_is(c, "shutdown")) {
        mc_line(s, "ERROR: shutdown not enabled");
    } else if (tok_is(c, "mn")) {
        mc_line(s, "MN");
    } else {
        mc_line(s, "ERROR");
    }
}

/* ---- the session ------------------------------------------------------------------------ */

void hp_mc_open(struct hp_mc_sess *s, const struct hp_evctx *ctx, hp_mc_emit_fn emit, hp_mc_out_fn out, void *arg)
{
    memset(s, 0, sizeof(*s));
    s->ctx = ctx;
    s->emit = emit;
    s->out = out;
    s->out_arg = arg;
}

static void mc_input(struct hp_mc_sess *s, struct hp_rd *in);

static void binary_request(struct hp_mc_sess *s, struct hp_rd *in)
{
    struct hp_ev ev;
    size_t n = hp_rd_left(in);
    hp_ev_begin(&ev, s->ctx, "command.input");
    hp_ev_bytes(&ev, "input", hp_rd_ptr(in), n > 1024 ? 1024 : n);
    hp_ev_str(&ev, "command", "binary");
    mc_emit(s, &ev);
    hp_rd_skip(in, n);
    s->close_reason = "memcached_binary";
}

void hp_mc_close(struct hp_mc_sess *s)
{
    free(s->pend);
    s->pend = NULL;
    s->pend_len = 0;
}

void hp_mc_input(struct hp_mc_sess *s, struct hp_rd *in)
{
    mc_input(s, in);
    mc_flush(s);
}

static void mc_input(struct hp_mc_sess *s, struct hp_rd *in)
{
    while (hp_rd_left(in) > 0 && !s->close_reason) {
        if (s->swallow) {
            size_t k = hp_rd_left(in) < s->swallow ? hp_rd_left(in) : (size_t)s->swallow;
            hp_rd_skip(in, k);
            s->swallow -= k;
            if (s->swallow == 0)
                mc_line(s, "SERVER_ERROR object too large for cache");
            continue;
        }
        if (s->want_data) {
            if (hp_rd_left(in) < s->bytes + 2)
                return;                         /* the core keeps it buffered */
            const uint8_t *data = hp_rd_bytes(in, (size_t)s->bytes);
            const uint8_t *end = hp_rd_bytes(in, 2);
            s->want_data = false;
            if (!data || !end)
                return;
            if (end[0] != '\r' || end[1] != '\n') {
                mc_line(s, "CLIENT_ERROR bad data chunk");   /* silent under noreply, as memcached */
                continue;
            }
            store_data(s, data, (size_t)s->bytes);
            continue;
        }
        if (s->commands == 0 && hp_rd_peek_u8(in, 0) == 0x80) {
            binary_request(s, in);
            return;
        }
        long nl = hp_rd_find(in, "\n", 1);
        if (nl < 0) {
            if (hp_rd_left(in) > HP_MC_LINE_MAX) {
                s->noreply = false;
                mc_line(s, "CLIENT_ERROR line too long");
                hp_rd_skip(in, hp_rd_left(in));
                s->close_reason = "memcached_line_too_long";
            }
            return;
        }
        const uint8_t *line = hp_rd_bytes(in, (size_t)nl + 1);
        size_t n = (size_t)nl;
        if (!line)
            return;
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n > HP_MC_LINE_MAX) {
            s->noreply = false;
            mc_line(s, "CLIENT_ERROR line too long");
            s->close_reason = "memcached_line_too_long";
            return;
        }
        command(s, line, n);
    }
}

/* ---- the protocol module ---------------------------------------------------------------- */

struct mc_conf {
    char *version;
};

static int mc_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct mc_conf *mcf = hp_xcalloc(1, sizeof(*mcf));
    svc->proto_conf = mcf;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        if (strcmp(kv->key, "version") == 0 && mc_version_ok(kv->value)) {
            free(mcf->version);
            mcf->version = hp_xstrdup(kv->value);
        } else if (strcmp(kv->key, "version") == 0) {
            snprintf(err, errlen, "%d: [service %s]: bad value for version: '%s' (e.g. 1.6.18)", kv->line,
                     svc->name, kv->value);
            return -1;
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol memcached)", kv->line, kv->key,
                     svc->name);
            return -1;
        }
    }
    return 0;
}

static void mc_unconfigure(struct hp_service_cfg *svc)
{
    struct mc_conf *mcf = svc->proto_conf;
    if (mcf)
        free(mcf->version);
    free(mcf);
    svc->proto_conf = NULL;
}

static int mc_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    const struct mc_conf *mcf = svc->proto_conf;
    hp_mc_identity_init(mcf ? mcf->version : NULL);
    return 0;
}

static void mc_stop(struct hp_service_cfg *svc)
{
    hp_mc_store_reset();
}

static int mc_conn_send(void *arg, const void *data, size_t len)
{
    return hp_conn_send(arg, data, len);
}

static void mc_accept(struct hp_conn *c)
{
    mc.curr_conns++;
    mc.total_conns++;
    hp_mc_open(c->pstate, &c->ctx, NULL, mc_conn_send, c);
}

static void mc_data(struct hp_conn *c, struct hp_rd *in)
{
    struct hp_mc_sess *s = c->pstate;
    hp_mc_input(s, in);
    if (s->close_reason)
        hp_conn_close(c, s->close_reason);
}

static void mc_close(struct hp_conn *c)
{
    hp_mc_close(c->pstate);
    if (mc.curr_conns)
        mc.curr_conns--;
}

/* UDP: recorded, never answered (see the top of the file). */
static void mc_datagram(struct hp_udp_peer *p, const uint8_t *data, size_t len)
{
    struct hp_rd rd;
    hp_rd_init(&rd, data, len);
    uint16_t req_id = hp_rd_u16be(&rd);
    hp_rd_skip(&rd, 6);
    struct hp_ev ev;
    hp_ev_begin(&ev, &p->ctx, "command.input");
    if (hp_rd_ok(&rd)) {
        size_t n = hp_rd_left(&rd);
        const uint8_t *cmd = hp_rd_ptr(&rd);
        size_t w = 0;
        while (w < n && w < 32 && cmd[w] != ' ' && cmd[w] != '\r' && cmd[w] != '\n')
            w++;
        hp_ev_bytes(&ev, "input", cmd, n > 1024 ? 1024 : n);
        hp_ev_bytes(&ev, "command", cmd, w);
        hp_ev_uint(&ev, "request_id", req_id);
    } else {
        hp_ev_bytes(&ev, "input", data, len);
        hp_ev_bool(&ev, "malformed", true);
    }
    hp_ev_uint(&ev, "size", len);
    hp_ev_emit(&ev);
}

const struct hp_proto hp_proto_memcached = {
    .name = "memcached",
    .transports = HP_TRANSPORT_TCP | HP_TRANSPORT_UDP,
    .default_tcp_ports = "11211",
    .conn_state_size = sizeof(struct hp_mc_sess),
    .default_max_input = 4u << 20,
    .configure = mc_configure,
    .unconfigure = mc_unconfigure,
    .start = mc_start,
    .stop = mc_stop,
    .on_accept = mc_accept,
    .on_data = mc_data,
    .on_close = mc_close,
    .on_datagram = mc_datagram,
};
