/*
 * memcached.c - a memcached server's ASCII and binary protocols on TCP 11211.
 *
 * Exposed memcached servers are probed for two reasons: `stats` (is this a
 * reflector for UDP amplification, how much memory does it hold) and the
 * data (`get` of session keys, `set` of a large value to reflect later,
 * `flush_all` by vandals).  The module answers as memcached 1.6/1.5 does on
 * a fresh Debian or Ubuntu host, with a small in-memory store so a `set`
 * followed by `get` behaves, and records every command.
 *
 *   storage    set add replace append prepend cas: the data block is taken
 *              as it arrives (the core buffers 128 KiB at most; an item over
 *              item_size_max is refused with SERVER_ERROR and discarded as
 *              memcached does); noreply honoured
 *   retrieval  get gets gat gats (every key of a multiget); delete incr decr
 *              touch; flush_all
 *   meta       mn mg ms md ma me
 *   other      stats (general, settings, items, slabs, conns, sizes,
 *              cachedump, detail), lru_crawler metadump, version, verbosity,
 *              quit, shutdown (refused as without -A), watch and the admin
 *              commands; anything else is "ERROR", a line ending in an
 *              "HTTP/" word is closed on; a line with no LF in 2048 bytes
 *              closes the connection, unless it is a multiget
 *   binary     first byte 0x80: the binary protocol, answered as 1.6.18 does
 *
 * Numbers and limits follow memcached 1.6.18, found by a differential run
 * against the Debian package (tests/unit/test_memcached.c).
 *
 * The store is one per sensor, shared by every connection as the real
 * server's is, and bounded (MC_ITEMS items, MC_BYTES bytes of values; the
 * oldest item goes first).  Expiry follows memcached: 0 never, up to 30
 * days relative seconds, beyond that a Unix time, negative immediately.
 *
 * Events: command.input for every command (input, command, key), and
 * memcached.store for every value received (command, key, flags, exptime,
 * bytes, sha256, a preview); values are mined for URLs like every other
 * payload.
 *
 * UDP: memcached >= 1.5.6 ships with UDP off, and a reflector is what the
 * attacker wants, so the module answers nothing over UDP; datagrams on a
 * configured udp port are recorded (command.input with the frame header's
 * request id) and never answered.
 *
 * The version (and the fake process's pid and start time, for `stats`) is
 * drawn at first start and kept in the identity file.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
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
    int64_t atime;                      /* Unix seconds of the last store or hit (metadump's la=) */
    bool fetched;                       /* read since stored (metadump's fetch=) */
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
    unsigned verbosity;                 /* `verbosity N`, shown by `stats settings` as the server's */
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
    it->atime = mc_now();
    it->fetched = false;
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
    char line[160];
    int n = snprintf(line, sizeof(line), "%.155s\r\n", text);   /* callers' lines are shorter */
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

/* memcached reads numbers with strtol/strtoul/strtoull (its safe_strto*):
 * leading blanks, a sign and a trailing blank are taken, a value out of the
 * C type's range is refused, and a "-" is refused only when it makes the
 * unsigned value wrap.  The 32-bit ones then cut the long to 32 bits
 * (flags 4294967297 is 1, a byte count of 4294967297 is 1).  Checked against
 * memcached 1.6.18. */
static bool mc_cstr(const struct mc_tok *t, char *buf, size_t cap)
{
    if (t->n == 0 || t->n >= cap)
        return false;
    memcpy(buf, t->p, t->n);
    buf[t->n] = '\0';
    return true;
}

static bool mc_num_end(const char *s, const char *end)
{
    return end != s && (*end == '\0' || isspace((unsigned char)*end));
}

/* safe_strtoull on a NUL-terminated string */
static bool mc_strtoull(const char *b, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(b, &end, 10);
    if (errno == ERANGE || !mc_num_end(b, end) || ((long long)v < 0 && memchr(b, '-', (size_t)(end - b))))
        return false;
    *out = v;
    return true;
}

static bool tok_u64(const struct mc_tok *t, uint64_t *out)
{
    char b[64];
    return mc_cstr(t, b, sizeof(b)) && mc_strtoull(b, out);
}

/* safe_strtoul: the unsigned long cut to 32 bits */
static bool tok_u32(const struct mc_tok *t, uint32_t *out)
{
    char b[64], *end;
    if (!mc_cstr(t, b, sizeof(b)))
        return false;
    errno = 0;
    unsigned long v = strtoul(b, &end, 10);
    if (errno == ERANGE || !mc_num_end(b, end) || ((long)v < 0 && memchr(b, '-', (size_t)(end - b))))
        return false;
    *out = (uint32_t)v;
    return true;
}

/* safe_strtol: the long cut to 32 bits */
static bool tok_i32(const struct mc_tok *t, int32_t *out)
{
    char b[64], *end;
    if (!mc_cstr(t, b, sizeof(b)))
        return false;
    errno = 0;
    long v = strtol(b, &end, 10);
    if (errno == ERANGE || !mc_num_end(b, end))
        return false;
    *out = (int32_t)(uint32_t)(unsigned long)v;
    return true;
}

/* memcached takes any token of 1..250 bytes as a key (blanks separate
 * tokens; control characters are kept); a NUL would have ended its line. */
static bool tok_key(const struct mc_tok *t, char out[HP_MC_KEY_MAX + 1])
{
    if (t->n == 0 || t->n > HP_MC_KEY_MAX || memchr(t->p, '\0', t->n))
        return false;
    memcpy(out, t->p, t->n);
    out[t->n] = '\0';
    return true;
}

/* The next blank-separated token of line[*at..n), false at the end. */
static bool mc_next_tok(const uint8_t *line, size_t n, size_t *at, struct mc_tok *t)
{
    size_t i = *at;
    while (i < n && line[i] == ' ')
        i++;
    size_t st = i;
    while (i < n && line[i] != ' ')
        i++;
    *at = i;
    *t = (struct mc_tok){ (const char *)line + st, i - st };
    return i > st;
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

/* get/gets/gat/gats: every key of the line, however many (memcached reads a
 * multiget in batches of 24 tokens, so keys past the 24th are answered too). */
static void cmd_get(struct hp_mc_sess *s, const uint8_t *line, size_t n, bool with_cas, bool touch)
{
    struct mc_tok t;
    size_t at = 0;
    int32_t exptime = 0;
    mc_next_tok(line, n, &at, &t);
    if (touch) {
        if (!mc_next_tok(line, n, &at, &t)) {
            mc_line(s, "ERROR");
            return;
        }
        if (!tok_i32(&t, &exptime)) {
            mc_line(s, "CLIENT_ERROR invalid exptime argument");
            return;
        }
    }
    struct hp_buf out;
    hp_buf_init(&out, 8u << 20);
    while (mc_next_tok(line, n, &at, &t)) {
        char key[HP_MC_KEY_MAX + 1];
        if (!tok_key(&t, key)) {
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
        it->atime = mc_now();
        it->fetched = true;
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

/* Data blocks being received by all connections together: each may take
 * up to item_size_max, this bounds their sum (a block that would pass it is
 * refused as the server refuses one it cannot allocate). */
#define MC_PENDING_MAX (16u << 20)
static size_t mc_pending;

/* The size memcached's item of this key and value takes (item header, CAS,
 * key and its NUL, the value and its CRLF, the flags when not 0): an item
 * over item_size_max is "too large", so a value of 1 MiB is refused and the
 * largest one kept is 1 MiB minus 59 bytes and the key (memcached 1.6.18). */
static uint64_t mc_item_total(size_t nkey, uint32_t flags, uint64_t bytes)
{
    return 48 + 8 + nkey + 1 + bytes + 2 + (flags ? 4 : 0);
}

/* Discard the next n bytes, then answer msg (as the server swallows). */
static void mc_swallow(struct hp_mc_sess *s, uint64_t n, const char *msg)
{
    s->swallow = n;
    s->swallow_msg = msg;
}

static void mc_blk_free(struct hp_mc_sess *s)
{
    if (s->blk) {
        mc_pending -= s->bytes + 2;
        free(s->blk);
    }
    s->blk = NULL;
    s->blk_len = 0;
}

/* Room for a data block of bytes (+ CRLF); false when there is none. */
static bool mc_blk_take(struct hp_mc_sess *s, uint64_t bytes)
{
    if (mc_pending + bytes + 2 > MC_PENDING_MAX)
        return false;
    s->blk = malloc((size_t)bytes + 2);
    if (!s->blk)
        return false;
    mc_pending += (size_t)bytes + 2;
    s->bytes = bytes;
    s->blk_len = 0;
    return true;
}

/* set/add/replace/append/prepend/cas KEY FLAGS EXPTIME BYTES [CAS] [noreply],
 * checked in memcached's order (noreply first, so even its errors are silent). */
static void cmd_store_head(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    bool is_cas = tok_is(&tok[0], "cas");
    size_t need = is_cas ? 6 : 5;
    uint32_t flags;
    int32_t exptime, bytes;
    uint64_t cas = 0;
    char key[HP_MC_KEY_MAX + 1];
    if (ntok < need || ntok > need + 1) {
        mc_line(s, "ERROR");
        return;
    }
    s->noreply = tok_is(&tok[ntok - 1], "noreply");
    bool ok = tok_key(&tok[1], key) && tok_u32(&tok[2], &flags) && tok_i32(&tok[3], &exptime) &&
              tok_i32(&tok[4], &bytes) && (!is_cas || tok_u64(&tok[5], &cas)) && bytes >= 0 &&
              bytes <= INT_MAX - 2;
    if (!ok) {
        mc_line(s, "CLIENT_ERROR bad command line format");
        return;
    }
    if (mc_item_total(tok[1].n, flags, (uint64_t)bytes) > HP_MC_ITEM_MAX) {
        /* memcached refuses it, swallows the data block (+ CRLF), then
         * answers; a set also drops the key's old value */
        mc.too_large++;
        if (tok_is(&tok[0], "set")) {
            struct mc_item *old = mc_find(key);
            if (old)
                mc_drop(old);
        }
        mc_swallow(s, (uint64_t)bytes + 2, "SERVER_ERROR object too large for cache");
        return;
    }
    if (!mc_blk_take(s, (uint64_t)bytes)) {
        mc_swallow(s, (uint64_t)bytes + 2, "SERVER_ERROR out of memory storing object");
        return;
    }
    snprintf(s->cmd, sizeof(s->cmd), "%.*s", (int)tok[0].n, tok[0].p);
    memcpy(s->key, key, sizeof(key));
    s->flags = flags;
    s->exptime = exptime;
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

static void bin_stored(struct hp_mc_sess *s, const char *answer);
static void bin_error(struct hp_mc_sess *s, uint8_t op, uint16_t st, uint32_t opaque);

/* An `ms` answer: HD NS EX NF with the flags it echoes (q: no HD) */
static void meta_stored(struct hp_mc_sess *s, const char *answer)
{
    static const char *const map[][2] = { { "STORED", "HD" }, { "NOT_STORED", "NS" }, { "EXISTS", "EX" },
                                          { "NOT_FOUND", "NF" } };
    s->meta = false;
    for (size_t i = 0; i < HP_ARRAY_LEN(map); i++) {
        if (strcmp(answer, map[i][0]) != 0)
            continue;
        if (i > 0)
            s->noreply = false;
        char line[128];
        snprintf(line, sizeof(line), "%s%s", map[i][1], s->meta_ret);
        mc_line(s, line);
        return;
    }
    s->noreply = false;
    mc_line(s, answer);
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
        if (mc_item_total(strlen(it->key), it->flags, it->len + len) > HP_MC_ITEM_MAX ||
            !mc_join(it, data, len, c[0] == 'a'))
            answer = "SERVER_ERROR out of memory storing object";
    } else {
        if (strcmp(c, "cas") == 0)
            mc.cas_hits++;
        if (!mc_put(it, s->key, s->flags, s->exptime, data, len))
            answer = "SERVER_ERROR out of memory storing object";
    }
    if (s->binary)
        bin_stored(s, answer);
    else if (s->meta)
        meta_stored(s, answer);
    else
        mc_line(s, answer);
}

/* delete KEY [0] [noreply]: a hold time other than 0 is refused, as since 1.4 */
static void cmd_delete(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    char key[HP_MC_KEY_MAX + 1];
    if (ntok < 2 || ntok > 4) {
        mc_line(s, "ERROR");
        return;
    }
    if (ntok > 2) {
        bool zero = tok_is(&tok[2], "0");
        s->noreply = tok_is(&tok[ntok - 1], "noreply");
        if (!(ntok == 3 && (zero || s->noreply)) && !(ntok == 4 && zero && s->noreply)) {
            mc_line(s, "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]");
            return;
        }
    }
    if (!tok_key(&tok[1], key)) {
        mc_line(s, "CLIENT_ERROR bad command line format");
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

/* The item's value as memcached's strtoull reads it (leading blanks, a sign,
 * digits, then a blank or the value's end); a value too long to be a number
 * with little padding is not one here. */
static bool mc_item_number(const struct mc_item *it, uint64_t *out)
{
    char b[128];
    if (it->len == 0 || it->len >= sizeof(b))
        return false;
    memcpy(b, it->val + it->off, it->len);
    b[it->len] = '\0';
    return mc_strtoull(b, out);
}

/* Store an incr/decr result (num: its digits; returns their count).  A
 * number no longer than the old value is written over it and padded with
 * blanks to its length (a decr, an incr that wraps, ma), as memcached does. */
static int mc_arith_store(struct mc_item *it, const char *key, uint64_t cur, char num[24])
{
    char stored[128];
    int n = snprintf(num, 24, "%" PRIu64, cur);
    size_t len = (size_t)n <= it->len ? it->len : (size_t)n;
    memset(stored, ' ', sizeof(stored));
    memcpy(stored, num, (size_t)n);
    int64_t keep_exp = it->expires;
    if (mc_put(it, key, it->flags, 0, (const uint8_t *)stored, len))
        it->expires = keep_exp;
    return n;
}

static void cmd_arith(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok, bool incr)
{
    char key[HP_MC_KEY_MAX + 1];
    uint64_t delta, cur = 0;
    if (ntok < 3 || ntok > 4) {
        mc_line(s, "ERROR");
        return;
    }
    s->noreply = tok_is(&tok[ntok - 1], "noreply");
    if (!tok_key(&tok[1], key)) {
        mc_line(s, "CLIENT_ERROR bad command line format");
        return;
    }
    if (!tok_u64(&tok[2], &delta)) {
        mc_line(s, "CLIENT_ERROR invalid numeric delta argument");
        return;
    }
    struct mc_item *it = mc_find(key);
    if (!it) {
        incr ? mc.incr_misses++ : mc.decr_misses++;
        mc_line(s, "NOT_FOUND");
        return;
    }
    if (!mc_item_number(it, &cur)) {
        mc_line(s, "CLIENT_ERROR cannot increment or decrement non-numeric value");
        return;
    }
    incr ? mc.incr_hits++ : mc.decr_hits++;
    cur = incr ? cur + delta : (delta > cur ? 0 : cur - delta);   /* incr wraps at 2^64 as memcached's */
    char num[24];
    mc_arith_store(it, key, cur, num);
    mc_line(s, num);
}

static void cmd_touch(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    char key[HP_MC_KEY_MAX + 1];
    int32_t exptime;
    if (ntok < 3 || ntok > 4) {
        mc_line(s, "ERROR");
        return;
    }
    s->noreply = tok_is(&tok[ntok - 1], "noreply");
    if (!tok_key(&tok[1], key)) {
        mc_line(s, "CLIENT_ERROR bad command line format");
        return;
    }
    if (!tok_i32(&tok[2], &exptime)) {
        mc_line(s, "CLIENT_ERROR invalid exptime argument");
        return;
    }
    mc.cmd_touch++;
    struct mc_item *it = mc_find(key);
    if (it) {
        mc.touch_hits++;
        it->expires = mc_expires(exptime);
        it->atime = mc_now();
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
    "STAT inter NULL\r\n";
static const char mc_settings_rest[] =
    "STAT oldest 0\r\nSTAT evictions on\r\nSTAT domain_socket NULL\r\n"
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
    /* small items leave the hot LRU for the cold one at once in a quiet server */
    hp_buf_printf(o, "STAT items:1:number %zu\r\nSTAT items:1:number_hot 0\r\nSTAT items:1:number_warm 0\r\n"
                  "STAT items:1:number_cold %zu\r\nSTAT items:1:age_hot 0\r\nSTAT items:1:age_warm 0\r\n"
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

static void stats_settings(const struct hp_mc_sess *s, struct hp_buf *o)
{
    /* the port the client reached (the real one behind an nftables redirect) */
    hp_buf_printf(o, "STAT maxbytes 67108864\r\nSTAT maxconns 1024\r\nSTAT tcpport %u\r\nSTAT udpport 0\r\n",
                  s->ctx && s->ctx->dst_port ? s->ctx->dst_port : 11211);
    hp_buf_puts(o, mc_settings);
    hp_buf_printf(o, "STAT verbosity %u\r\n", mc.verbosity);
    hp_buf_puts(o, mc_settings_rest);
}

/* stats detail on|off|dump: no prefix is ever counted here, so the dump is empty */
static void stats_detail(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    if (ntok >= 3 && (tok_is(&tok[2], "on") || tok_is(&tok[2], "off")))
        mc_line(s, "OK");
    else if (ntok >= 3 && tok_is(&tok[2], "dump"))
        mc_line(s, "END");
    else
        mc_line(s, "CLIENT_ERROR usage: stats detail on|off|dump");
}

static int mc_by_seq_desc(const void *a, const void *b)
{
    const struct mc_item *x = *(const struct mc_item *const *)a, *y = *(const struct mc_item *const *)b;
    return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

/* The live items, newest first; returns how many. */
static size_t mc_live(struct mc_item *list[MC_ITEMS])
{
    size_t n = 0;
    int64_t now = mc_now();
    for (size_t i = 0; i < MC_ITEMS; i++) {
        struct mc_item *it = &mc.items[i];
        if (it->used && !(it->expires && it->expires <= now))
            list[n++] = it;
    }
    qsort(list, n, sizeof(list[0]), mc_by_seq_desc);
    return n;
}

/* stats cachedump CLASS LIMIT: what key harvesters (Metasploit's
 * memcached_extractor) list before their gets.  Every item is in class 1
 * here; "ITEM key [bytes b; expiry s]", newest first, limit 0 for all. */
static void stats_cachedump(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok, struct hp_buf *o)
{
    uint32_t id, limit;
    if (ntok < 4) {
        mc_line(s, "CLIENT_ERROR bad command line");
        return;
    }
    if (!tok_u32(&tok[2], &id) || !tok_u32(&tok[3], &limit)) {
        mc_line(s, "CLIENT_ERROR bad command line format");
        return;
    }
    if (id >= 64) {
        mc_line(s, "CLIENT_ERROR Illegal slab id");
        return;
    }
    struct mc_item *list[MC_ITEMS];
    size_t n = id == 1 ? mc_live(list) : 0;
    for (size_t i = 0; i < n && (limit == 0 || i < limit); i++)
        hp_buf_printf(o, "ITEM %s [%zu b; %" PRId64 " s]\r\n", list[i]->key, list[i]->len, list[i]->expires);
    hp_buf_puts(o, "END\r\n");
    mc_send(s, o);
}

static void cmd_stats(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    struct hp_buf o;
    hp_buf_init(&o, 64 * 1024);
    if (ntok == 1) {
        stats_general(&o);
    } else if (tok_is(&tok[1], "settings")) {
        stats_settings(s, &o);
    } else if (tok_is(&tok[1], "items")) {
        stats_items(&o);
    } else if (tok_is(&tok[1], "slabs")) {
        stats_slabs(&o);
    } else if (tok_is(&tok[1], "conns")) {
        /* the listener shows its idle time too (memcached 1.6.18) */
        hp_buf_printf(&o, "STAT 26:addr tcp:0.0.0.0:%u\r\nSTAT 26:state conn_listening\r\n"
                      "STAT 26:secs_since_last_cmd %" PRId64 "\r\n",
                      s->ctx && s->ctx->dst_port ? s->ctx->dst_port : 11211, mc_now() - mc_id.started);
        if (s->ctx)
            hp_buf_printf(&o, "STAT 31:addr tcp:%s:%u\r\nSTAT 31:listen_addr tcp:%s:%u\r\n"
                          "STAT 31:state conn_parse_cmd\r\nSTAT 31:secs_since_last_cmd 0\r\n",
                          s->ctx->src_ip, s->ctx->src_port, s->ctx->dst_ip, s->ctx->dst_port);
    } else if (tok_is(&tok[1], "reset")) {
        hp_buf_free(&o);
        mc_line(s, "RESET");
        return;
    } else if (tok_is(&tok[1], "detail")) {
        hp_buf_free(&o);
        stats_detail(s, tok, ntok);
        return;
    } else if (tok_is(&tok[1], "cachedump")) {
        stats_cachedump(s, tok, ntok, &o);
        hp_buf_free(&o);
        return;
    } else if (tok_is(&tok[1], "sizes")) {
        hp_buf_puts(&o, "STAT sizes_status disabled\r\n");
    } else if (tok_is(&tok[1], "extstore")) {
        /* built with extstore, none configured: nothing to list */
    } else {
        hp_buf_free(&o);
        mc_line(s, "ERROR");
        return;
    }
    hp_buf_puts(&o, "END\r\n");
    mc_send(s, &o);
    hp_buf_free(&o);
}

/* ---- the binary protocol ------------------------------------------------------------ */

/* memcached 1.6 speaks it by default (binding_protocol auto-negotiate): a
 * connection whose first byte is 0x80 is binary for good.  Requests are
 * checked as the server's dispatch_bin_command does: a malformed one gets
 * "Invalid arguments" and the connection closes, an unknown opcode "Unknown
 * command" after its body is skipped (so is SASL, which the server runs
 * without).  Values are received as the ASCII ones (not in the core's input). */
#define BIN_HDR 24

enum {
    BIN_OK = 0, BIN_ENOENT = 1, BIN_EEXISTS = 2, BIN_E2BIG = 3, BIN_EINVAL = 4, BIN_NOT_STORED = 5,
    BIN_DELTA_BADVAL = 6, BIN_UNKNOWN = 0x81, BIN_ENOMEM = 0x82
};

enum {
    OP_GET = 0x00, OP_SET, OP_ADD, OP_REPLACE, OP_DELETE, OP_INCR, OP_DECR, OP_QUIT, OP_FLUSH, OP_GETQ, OP_NOOP,
    OP_VERSION, OP_GETK, OP_GETKQ, OP_APPEND, OP_PREPEND, OP_STAT, OP_TOUCH = 0x1c, OP_GAT, OP_GATQ,
    OP_GATK = 0x23, OP_GATKQ
};

struct bin_req {
    uint8_t op, base, extlen;
    bool quiet;
    uint16_t keylen;
    uint32_t bodylen, opaque;
    uint64_t cas;
};

static const char *bin_errstr(uint16_t st)
{
    switch (st) {
    case BIN_ENOENT: return "Not found";
    case BIN_EEXISTS: return "Data exists for key.";
    case BIN_E2BIG: return "Too large.";
    case BIN_EINVAL: return "Invalid arguments";
    case BIN_NOT_STORED: return "Not stored.";
    case BIN_DELTA_BADVAL: return "Non-numeric server-side value for incr or decr";
    case BIN_ENOMEM: return "Out of memory";
    default: return "Unknown command";
    }
}

static void bin_resp(struct hp_mc_sess *s, uint8_t op, uint16_t status, uint32_t opaque, uint64_t cas,
                     const void *ext, size_t extlen, const void *key, size_t keylen, const void *val, size_t vallen)
{
    struct hp_buf o;
    hp_buf_init(&o, BIN_HDR + extlen + keylen + vallen);
    hp_buf_putc(&o, 0x81);
    hp_buf_putc(&o, op);
    hp_buf_put_u16be(&o, (uint16_t)keylen);
    hp_buf_putc(&o, (uint8_t)extlen);
    hp_buf_putc(&o, 0);
    hp_buf_put_u16be(&o, status);
    hp_buf_put_u32be(&o, (uint32_t)(extlen + keylen + vallen));
    hp_buf_put_u32be(&o, opaque);
    hp_buf_put_u32be(&o, (uint32_t)(cas >> 32));
    hp_buf_put_u32be(&o, (uint32_t)cas);
    if (extlen)
        hp_buf_put(&o, ext, extlen);
    if (keylen)
        hp_buf_put(&o, key, keylen);
    if (vallen)
        hp_buf_put(&o, val, vallen);
    mc_send(s, &o);
    hp_buf_free(&o);
}

static void bin_error(struct hp_mc_sess *s, uint8_t op, uint16_t st, uint32_t opaque)
{
    const char *m = bin_errstr(st);
    bin_resp(s, op, st, opaque, 0, NULL, 0, NULL, 0, m, strlen(m));
}

/* The opcode a quiet one stands for (0xff: not one the server runs) */
static uint8_t bin_base(uint8_t op, bool *quiet)
{
    static const uint8_t quiet_of[][2] = { { 0x09, OP_GET }, { 0x0d, OP_GETK }, { 0x11, OP_SET }, { 0x12, OP_ADD },
                                           { 0x13, OP_REPLACE }, { 0x14, OP_DELETE }, { 0x15, OP_INCR },
                                           { 0x16, OP_DECR }, { 0x17, OP_QUIT }, { 0x18, OP_FLUSH },
                                           { 0x19, OP_APPEND }, { 0x1a, OP_PREPEND }, { OP_GATQ, OP_GAT },
                                           { OP_GATKQ, OP_GATK } };
    *quiet = false;
    for (size_t i = 0; i < HP_ARRAY_LEN(quiet_of); i++)
        if (quiet_of[i][0] == op) {
            *quiet = true;
            return quiet_of[i][1];
        }
    return op <= OP_STAT || op == OP_TOUCH || op == OP_GAT || op == OP_GATK ? op : 0xff;
}

/* The server's length checks per opcode (false: "Invalid arguments", closed) */
static bool bin_valid(const struct bin_req *r)
{
    uint32_t kl = r->keylen, el = r->extlen, bl = r->bodylen;
    if (kl > HP_MC_KEY_MAX || bl < kl + el)
        return false;
    switch (r->base) {
    case OP_VERSION: case OP_NOOP: case OP_QUIT:
        return el == 0 && kl == 0 && bl == 0;
    case OP_FLUSH:
        return kl == 0 && bl == el && (el == 0 || el == 4);
    case OP_SET: case OP_ADD: case OP_REPLACE:
        return el == 8 && kl != 0;
    case OP_GET: case OP_GETK: case OP_DELETE:
        return el == 0 && kl > 0 && bl == kl;
    case OP_INCR: case OP_DECR:
        return kl > 0 && el == 20 && bl == kl + el;
    case OP_APPEND: case OP_PREPEND:
        return kl > 0 && el == 0;
    case OP_STAT:
        return el == 0;
    case OP_TOUCH: case OP_GAT: case OP_GATK:
        return el == 4 && kl != 0 && bl == kl + el;
    default:
        return true;
    }
}

static const char *bin_name(uint8_t base)
{
    static const char *const names[] = { "get", "set", "add", "replace", "delete", "incr", "decr", "quit",
                                         "flush", "getq", "noop", "version", "getk", "getkq", "append",
                                         "prepend", "stat" };
    if (base < HP_ARRAY_LEN(names))
        return names[base];
    return base == OP_TOUCH ? "touch" : base == OP_GAT ? "gat" : base == OP_GATK ? "gatk" : "unknown";
}

static void bin_event(struct hp_mc_sess *s, const struct bin_req *r, const uint8_t *p, size_t n, const char *key)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "command.input");
    hp_ev_bytes(&ev, "input", p, n > 1024 ? 1024 : n);
    hp_ev_str(&ev, "command", bin_name(r->base));
    hp_ev_bool(&ev, "binary", true);
    hp_ev_uint(&ev, "opcode", r->op);
    if (key && *key)
        hp_ev_str(&ev, "key", key);
    mc_emit(s, &ev);
}

/* STAT: each "STAT name value" line of the ASCII answer as its own packet, then an empty one */
static void bin_stats(struct hp_mc_sess *s, const struct bin_req *r, const char *key)
{
    struct hp_buf o;
    hp_buf_init(&o, 64 * 1024);
    if (!*key)
        stats_general(&o);
    else if (strcmp(key, "settings") == 0)
        stats_settings(s, &o);
    else if (strcmp(key, "items") == 0)
        stats_items(&o);
    else if (strcmp(key, "slabs") == 0)
        stats_slabs(&o);
    else if (strcmp(key, "sizes") == 0)
        hp_buf_puts(&o, "STAT sizes_status disabled\r\n");
    else if (strcmp(key, "reset") != 0) {
        hp_buf_free(&o);
        bin_error(s, r->op, BIN_ENOENT, r->opaque);
        return;
    }
    const char *p = (const char *)o.data, *end = p + o.len;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        const char *name = p + 5, *sp = memchr(name, ' ', (size_t)(nl - name));
        if (strncmp(p, "STAT ", 5) == 0 && sp) {
            size_t vlen = (size_t)(nl - 1 - (sp + 1));
            bin_resp(s, r->op, BIN_OK, r->opaque, 0, NULL, 0, name, (size_t)(sp - name), sp + 1, vlen);
        }
        p = nl + 1;
    }
    hp_buf_free(&o);
    bin_resp(s, r->op, BIN_OK, r->opaque, 0, NULL, 0, NULL, 0, NULL, 0);
}

static void bin_get(struct hp_mc_sess *s, const struct bin_req *r, const char *key, const uint8_t *ext)
{
    bool with_key = r->base == OP_GETK || r->base == OP_GATK, touch = r->base >= OP_TOUCH;
    struct mc_item *it = mc_find(key);
    mc.cmd_get += r->base != OP_TOUCH;
    if (touch)
        mc.cmd_touch++;
    if (!it) {
        mc.get_misses += r->base != OP_TOUCH;
        if (touch)
            mc.touch_misses++;
        if (r->quiet)
            return;
        if (with_key)
            bin_resp(s, r->op, BIN_ENOENT, r->opaque, 0, NULL, 0, key, strlen(key), NULL, 0);
        else
            bin_error(s, r->op, BIN_ENOENT, r->opaque);
        return;
    }
    if (touch) {
        mc.touch_hits++;
        it->expires = mc_expires((int32_t)((uint32_t)ext[0] << 24 | (uint32_t)ext[1] << 16 | ext[2] << 8 | ext[3]));
    }
    mc.get_hits += r->base != OP_TOUCH;
    it->atime = mc_now();
    it->fetched = true;
    uint8_t fl[4] = { (uint8_t)(it->flags >> 24), (uint8_t)(it->flags >> 16), (uint8_t)(it->flags >> 8),
                      (uint8_t)it->flags };
    bin_resp(s, r->op, BIN_OK, r->opaque, it->cas, fl, 4, with_key ? key : NULL, with_key ? strlen(key) : 0,
             r->base == OP_TOUCH ? NULL : it->val + it->off, r->base == OP_TOUCH ? 0 : it->len);
}

static uint64_t bin_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void bin_arith(struct hp_mc_sess *s, const struct bin_req *r, const char *key, const uint8_t *ext)
{
    uint64_t delta = bin_u64(ext), initial = bin_u64(ext + 8), cur;
    uint32_t exp = (uint32_t)(bin_u64(ext + 12) & 0xffffffffu);
    bool incr = r->base == OP_INCR;
    struct mc_item *it = mc_find(key);
    char num[24];
    if (!it && exp == 0xffffffffu) {
        incr ? mc.incr_misses++ : mc.decr_misses++;
        bin_error(s, r->op, BIN_ENOENT, r->opaque);
        return;
    }
    if (!it) {
        cur = initial;
        incr ? mc.incr_misses++ : mc.decr_misses++;
        int n = snprintf(num, sizeof(num), "%" PRIu64, cur);
        mc_put(NULL, key, 0, (int32_t)exp, (const uint8_t *)num, (size_t)n);
    } else if (!mc_item_number(it, &cur)) {
        bin_error(s, r->op, BIN_DELTA_BADVAL, r->opaque);
        return;
    } else {
        incr ? mc.incr_hits++ : mc.decr_hits++;
        cur = incr ? cur + delta : (delta > cur ? 0 : cur - delta);
        mc_arith_store(it, key, cur, num);
    }
    it = mc_find(key);
    if (r->quiet)
        return;
    uint8_t v[8];
    for (int i = 0; i < 8; i++)
        v[i] = (uint8_t)(cur >> (56 - 8 * i));
    bin_resp(s, r->op, BIN_OK, r->opaque, it ? it->cas : 0, NULL, 0, NULL, 0, v, 8);
}

/* A storage request's header (extras and key) is in: take the value as it comes */
static void bin_store_head(struct hp_mc_sess *s, const struct bin_req *r, const char *key, const uint8_t *ext)
{
    uint64_t vlen = (uint64_t)r->bodylen - r->keylen - r->extlen;
    uint32_t flags = 0;
    int32_t exptime = 0;
    if (r->extlen == 8) {
        flags = (uint32_t)ext[0] << 24 | (uint32_t)ext[1] << 16 | (uint32_t)ext[2] << 8 | ext[3];
        exptime = (int32_t)((uint32_t)ext[4] << 24 | (uint32_t)ext[5] << 16 | (uint32_t)ext[6] << 8 | ext[7]);
    }
    static const char *const cmds[] = { [OP_SET] = "set", [OP_ADD] = "add", [OP_REPLACE] = "replace",
                                        [OP_APPEND] = "append", [OP_PREPEND] = "prepend" };
    const char *cmd = r->base == OP_SET && r->cas ? "cas" : cmds[r->base];
    s->bin_op = r->op;
    s->bin_opaque = r->opaque;
    s->noreply = r->quiet;
    if (mc_item_total(r->keylen, flags, vlen) > HP_MC_ITEM_MAX) {
        mc.too_large++;
        s->bin_status = BIN_E2BIG;
        mc_swallow(s, vlen, "E2BIG");
        if (vlen == 0)
            bin_error(s, r->op, BIN_E2BIG, r->opaque);
        return;
    }
    if (!mc_blk_take(s, vlen)) {
        s->bin_status = BIN_ENOMEM;
        mc_swallow(s, vlen, "ENOMEM");
        if (vlen == 0)
            bin_error(s, r->op, BIN_ENOMEM, r->opaque);
        return;
    }
    snprintf(s->cmd, sizeof(s->cmd), "%s", cmd);
    snprintf(s->key, sizeof(s->key), "%s", key);
    s->flags = flags;
    s->exptime = exptime;
    s->cas = r->cas;
    s->want_data = true;
}

/* The answer to a binary store once its value is in */
static void bin_stored(struct hp_mc_sess *s, const char *answer)
{
    uint16_t st = BIN_OK;
    if (strcmp(answer, "EXISTS") == 0)
        st = BIN_EEXISTS;
    else if (strcmp(answer, "NOT_FOUND") == 0)
        st = BIN_ENOENT;
    else if (strcmp(answer, "NOT_STORED") == 0)
        st = strcmp(s->cmd, "add") == 0 ? BIN_EEXISTS : strcmp(s->cmd, "replace") == 0 ? BIN_ENOENT : BIN_NOT_STORED;
    else if (strcmp(answer, "STORED") != 0)
        st = BIN_ENOMEM;
    if (st != BIN_OK) {
        bin_error(s, s->bin_op, st, s->bin_opaque);
        return;
    }
    if (s->noreply)
        return;
    const struct mc_item *it = mc_find(s->key);
    bin_resp(s, s->bin_op, BIN_OK, s->bin_opaque, it ? it->cas : 0, NULL, 0, NULL, 0, NULL, 0);
}

/* One request; false when more input is needed or the connection closes. */
static bool bin_request(struct hp_mc_sess *s, struct hp_rd *in)
{
    if (hp_rd_left(in) < BIN_HDR)
        return false;
    struct hp_rd h = *in;
    struct bin_req r;
    uint8_t magic = hp_rd_u8(&h);
    r.op = hp_rd_u8(&h);
    r.keylen = hp_rd_u16be(&h);
    r.extlen = hp_rd_u8(&h);
    hp_rd_skip(&h, 3);
    r.bodylen = hp_rd_u32be(&h);
    r.opaque = hp_rd_u32be(&h);
    r.cas = hp_rd_u64be(&h);
    r.base = bin_base(r.op, &r.quiet);
    s->commands++;
    if (magic != 0x80) {
        /* the server logs "Invalid magic" and closes before writing what
         * this read had answered */
        bin_event(s, &r, hp_rd_ptr(in), hp_rd_left(in), NULL);
        s->pend_len = 0;
        hp_rd_skip(in, hp_rd_left(in));
        s->close_reason = "memcached_binary_magic";
        return false;
    }
    if (r.base == 0xff) {                       /* unknown (SASL too): skip the body, then say so */
        bin_event(s, &r, hp_rd_ptr(in), hp_rd_left(in), NULL);
        hp_rd_skip(in, BIN_HDR);
        s->bin_op = r.op;
        s->bin_opaque = r.opaque;
        s->bin_status = BIN_UNKNOWN;
        mc_swallow(s, r.bodylen, "UNKNOWN");
        if (r.bodylen == 0)
            bin_error(s, r.op, BIN_UNKNOWN, r.opaque);
        return true;
    }
    if (!bin_valid(&r)) {
        bin_event(s, &r, hp_rd_ptr(in), hp_rd_left(in), NULL);
        hp_rd_skip(in, hp_rd_left(in));
        bin_error(s, r.op, BIN_EINVAL, r.opaque);
        s->close_reason = "memcached_binary_invalid";
        return false;
    }
    size_t head = BIN_HDR + r.extlen + r.keylen;   /* at most 24 + 255 + 250 */
    if (hp_rd_left(in) < head)
        return false;
    const uint8_t *p = hp_rd_bytes(in, head);
    if (!p)
        return false;
    const uint8_t *ext = p + BIN_HDR;
    char key[HP_MC_KEY_MAX + 1];
    memcpy(key, ext + r.extlen, r.keylen);
    key[r.keylen] = '\0';
    bin_event(s, &r, p, head, key);
    uint8_t b = r.base;
    if (b == OP_SET || b == OP_ADD || b == OP_REPLACE || b == OP_APPEND || b == OP_PREPEND) {
        bin_store_head(s, &r, key, ext);
    } else if (b == OP_GET || b == OP_GETK || b == OP_TOUCH || b == OP_GAT || b == OP_GATK) {
        bin_get(s, &r, key, ext);
    } else if (b == OP_VERSION) {
        const char *v = hp_mc_version();
        bin_resp(s, r.op, BIN_OK, r.opaque, 0, NULL, 0, NULL, 0, v, strlen(v));
    } else if (b == OP_NOOP) {
        bin_resp(s, r.op, BIN_OK, r.opaque, 0, NULL, 0, NULL, 0, NULL, 0);
    } else if (b == OP_QUIT) {
        if (!r.quiet)
            bin_resp(s, r.op, BIN_OK, r.opaque, 0, NULL, 0, NULL, 0, NULL, 0);
        s->close_reason = "memcached_quit";
        return false;
    } else if (b == OP_FLUSH) {
        mc.cmd_flush++;
        hp_mc_store_reset();
        if (!r.quiet)
            bin_resp(s, r.op, BIN_OK, r.opaque, 0, NULL, 0, NULL, 0, NULL, 0);
    } else if (b == OP_DELETE) {
        struct mc_item *it = mc_find(key);
        if (it) {
            mc.delete_hits++;
            mc_drop(it);
            if (!r.quiet)
                bin_resp(s, r.op, BIN_OK, r.opaque, 0, NULL, 0, NULL, 0, NULL, 0);
        } else {
            mc.delete_misses++;
            bin_error(s, r.op, BIN_ENOENT, r.opaque);
        }
    } else if (b == OP_INCR || b == OP_DECR) {
        bin_arith(s, &r, key, ext);
    } else if (b == OP_STAT) {
        bin_stats(s, &r, key);
    }
    return true;
}

/* The slab class of an item of total bytes: 96, then x1.25 rounded up to 8. */
static unsigned mc_slab_class(uint64_t total)
{
    double size = 96;
    unsigned cls = 1;
    while (size < (double)total && cls < 63) {
        size *= 1.25;
        uint64_t s8 = (uint64_t)size;
        size = (double)(s8 % 8 ? s8 + 8 - s8 % 8 : s8);
        cls++;
    }
    return cls;
}

/* ---- the meta protocol (1.6: mn mg ms md ma me) ---------------------------------- */

/* Append the flags mg/md/ma/ms echo, in the order asked: O(opaque) k(key),
 * and for a hit s(size) f(flags) t(ttl) c(cas). */
static void meta_flags(struct hp_buf *o, const struct mc_tok *tok, size_t ntok, const struct mc_item *it)
{
    int64_t now = mc_now();
    for (size_t i = 2; i < ntok; i++) {
        const struct mc_tok *f = &tok[i];
        switch (f->p[0]) {
        case 'O':
            hp_buf_printf(o, " %.*s", (int)(f->n > 33 ? 33 : f->n), f->p);
            break;
        case 'k':
            hp_buf_printf(o, " k%.*s", (int)tok[1].n, tok[1].p);
            break;
        case 's':
            if (it)
                hp_buf_printf(o, " s%zu", it->len);
            break;
        case 'f':
            if (it)
                hp_buf_printf(o, " f%" PRIu32, it->flags);
            break;
        case 't':
            if (it)
                hp_buf_printf(o, " t%" PRId64, it->expires ? it->expires - now : -1);
            break;
        case 'c':
            if (it)
                hp_buf_printf(o, " c%" PRIu64, it->cas);
            break;
        default:
            break;
        }
    }
}

static bool meta_has(const struct mc_tok *tok, size_t ntok, char flag)
{
    for (size_t i = 2; i < ntok; i++)
        if (tok[i].p[0] == flag)
            return true;
    return false;
}

/* The value of a flag such as T30 or D5, false when absent or not a number. */
static bool meta_num(const struct mc_tok *tok, size_t ntok, char flag, int64_t *v)
{
    for (size_t i = 2; i < ntok; i++) {
        if (tok[i].p[0] != flag)
            continue;
        struct mc_tok t = { tok[i].p + 1, tok[i].n - 1 };
        uint64_t u;
        int32_t x;
        if (flag == 'D' || flag == 'J') {
            if (!tok_u64(&t, &u))
                return false;
            *v = (int64_t)u;
        } else {
            if (!tok_i32(&t, &x))
                return false;
            *v = x;
        }
        return true;
    }
    return false;
}

static void meta_get(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok, const char *key)
{
    struct mc_item *it = mc_find(key);
    mc.cmd_get++;
    if (!it) {
        mc.get_misses++;
        if (!meta_has(tok, ntok, 'q'))
            mc_line(s, "EN");
        return;
    }
    mc.get_hits++;
    int64_t ttl;
    if (meta_num(tok, ntok, 'T', &ttl))
        it->expires = mc_expires(ttl);
    struct hp_buf o;
    hp_buf_init(&o, HP_MC_ITEM_MAX + 1024);
    bool v = meta_has(tok, ntok, 'v');
    if (v)
        hp_buf_printf(&o, "VA %zu", it->len);
    else
        hp_buf_puts(&o, "HD");
    meta_flags(&o, tok, ntok, it);
    hp_buf_puts(&o, "\r\n");
    if (v) {
        hp_buf_put(&o, it->val + it->off, it->len);
        hp_buf_puts(&o, "\r\n");
    }
    it->atime = mc_now();
    it->fetched = true;
    mc_send(s, &o);
    hp_buf_free(&o);
}

static void meta_answer(struct hp_mc_sess *s, const char *word, const struct mc_tok *tok, size_t ntok,
                        const struct mc_item *it)
{
    struct hp_buf o;
    hp_buf_init(&o, 1024);
    hp_buf_puts(&o, word);
    meta_flags(&o, tok, ntok, it);
    hp_buf_puts(&o, "\r\n");
    mc_send(s, &o);
    hp_buf_free(&o);
}

static void meta_delete(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok, const char *key)
{
    struct mc_item *it = mc_find(key);
    if (it) {
        mc.delete_hits++;
        mc_drop(it);
    } else {
        mc.delete_misses++;
    }
    if (it && meta_has(tok, ntok, 'q'))
        return;
    meta_answer(s, it ? "HD" : "NF", tok, ntok, NULL);
}

/* ma KEY [D<delta>] [MI|MD] [v] ...: incr by default */
static void meta_arith(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok, const char *key)
{
    int64_t delta = 1;
    if (meta_has(tok, ntok, 'D') && !meta_num(tok, ntok, 'D', &delta)) {
        mc_line(s, "CLIENT_ERROR invalid numeric delta argument");
        return;
    }
    bool incr = true;
    for (size_t i = 2; i < ntok; i++)
        if (tok[i].p[0] == 'M' && tok[i].n > 1)
            incr = !strchr("Dd-", tok[i].p[1]);
    struct mc_item *it = mc_find(key);
    uint64_t cur;
    if (!it) {
        incr ? mc.incr_misses++ : mc.decr_misses++;
        meta_answer(s, "NF", tok, ntok, NULL);
        return;
    }
    if (!mc_item_number(it, &cur)) {
        mc_line(s, "CLIENT_ERROR cannot increment or decrement non-numeric value");
        return;
    }
    incr ? mc.incr_hits++ : mc.decr_hits++;
    cur = incr ? cur + (uint64_t)delta : ((uint64_t)delta > cur ? 0 : cur - (uint64_t)delta);
    char num[24];
    int n = mc_arith_store(it, key, cur, num);
    if (!meta_has(tok, ntok, 'v')) {
        if (!meta_has(tok, ntok, 'q'))
            meta_answer(s, "HD", tok, ntok, it);
        return;
    }
    struct hp_buf o;
    hp_buf_init(&o, 1024);
    hp_buf_printf(&o, "VA %d", n);
    meta_flags(&o, tok, ntok, it);
    hp_buf_printf(&o, "\r\n%s\r\n", num);
    mc_send(s, &o);
    hp_buf_free(&o);
}

/* ms KEY BYTES [T<ttl>] [F<flags>] [M<mode>] [C<cas>] [q] [O..] [k]: the data block follows */
static void meta_set(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok, const char *key)
{
    int32_t bytes;
    int64_t ttl = 0, flags = 0, cas = 0;
    if (ntok < 3 || !tok_i32(&tok[2], &bytes) || bytes < 0 || bytes > INT_MAX - 2) {
        mc_line(s, "CLIENT_ERROR bad command line format");
        return;
    }
    meta_num(tok, ntok, 'T', &ttl);
    meta_num(tok, ntok, 'F', &flags);
    const char *cmd = meta_num(tok, ntok, 'C', &cas) ? "cas" : "set";
    for (size_t i = 3; i < ntok; i++) {
        if (tok[i].p[0] != 'M' || tok[i].n < 2)
            continue;
        char m = tok[i].p[1];
        cmd = strchr("Ee", m) ? "add" : strchr("Aa", m) ? "append" : strchr("Pp", m) ? "prepend" :
              strchr("Rr", m) ? "replace" : cmd;
    }
    if (mc_item_total(tok[1].n, (uint32_t)flags, (uint64_t)bytes) > HP_MC_ITEM_MAX) {
        mc.too_large++;
        mc_swallow(s, (uint64_t)bytes + 2, "SERVER_ERROR object too large for cache");
        return;
    }
    if (!mc_blk_take(s, (uint64_t)bytes)) {
        mc_swallow(s, (uint64_t)bytes + 2, "SERVER_ERROR out of memory storing object");
        return;
    }
    struct hp_buf o;
    hp_buf_init(&o, sizeof(s->meta_ret));
    struct mc_tok sub[MC_MAX_TOKENS];
    size_t nsub = 0;
    for (size_t i = 0; i < ntok; i++)                  /* tokens past the byte count */
        if (i < 2 || i > 2)
            sub[nsub++] = tok[i];
    meta_flags(&o, sub, nsub, NULL);
    snprintf(s->meta_ret, sizeof(s->meta_ret), "%.*s", (int)o.len, o.len ? (const char *)o.data : "");
    hp_buf_free(&o);
    snprintf(s->cmd, sizeof(s->cmd), "%s", cmd);
    memcpy(s->key, key, strlen(key) + 1);
    s->flags = (uint32_t)flags;
    s->exptime = ttl;
    s->cas = (uint64_t)cas;
    s->noreply = meta_has(sub, nsub, 'q');
    s->meta = true;
    s->want_data = true;
}

/* me KEY: the item's metadata, as the debug command prints it */
static void meta_debug(struct hp_mc_sess *s, const char *key)
{
    struct mc_item *it = mc_find(key);
    if (!it) {
        mc_line(s, "EN");
        return;
    }
    struct hp_buf o;
    hp_buf_init(&o, 1024);
    uint64_t total = mc_item_total(strlen(key), it->flags, it->len);
    hp_buf_printf(&o, "ME %s exp=%" PRId64 " la=%" PRId64 " cas=%" PRIu64 " fetch=%s cls=%u size=%" PRIu64 "\r\n",
                  key, it->expires ? it->expires - mc_now() : -1, mc_now() - it->atime, it->cas,
                  it->fetched ? "yes" : "no", mc_slab_class(total), total);
    mc_send(s, &o);
    hp_buf_free(&o);
}

static void cmd_meta(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    char key[HP_MC_KEY_MAX + 1];
    char op = tok[0].p[1];
    if (op == 'n') {
        mc_line(s, "MN");
        return;
    }
    if (!strchr("gsdae", op) || ntok < 2) {
        mc_line(s, "ERROR");
        return;
    }
    if (!tok_key(&tok[1], key)) {
        mc_line(s, "CLIENT_ERROR bad command line format");
        return;
    }
    if (op == 'g')
        meta_get(s, tok, ntok, key);
    else if (op == 's')
        meta_set(s, tok, ntok, key);
    else if (op == 'd')
        meta_delete(s, tok, ntok, key);
    else if (op == 'a')
        meta_arith(s, tok, ntok, key);
    else
        meta_debug(s, key);
}

/* flush_all [delay] [noreply]: the store is emptied at once (a delay is not kept) */
static void cmd_flush(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    int32_t delay = 0;
    if (ntok > 3) {
        mc_line(s, "ERROR");
        return;
    }
    s->noreply = tok_is(&tok[ntok - 1], "noreply");
    if (ntok > (s->noreply ? 2u : 1u) && !tok_i32(&tok[1], &delay)) {
        mc_line(s, "CLIENT_ERROR invalid exptime argument");
        return;
    }
    mc.cmd_flush++;
    hp_mc_store_reset();
    mc_line(s, "OK");
}

static void cmd_verbosity(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    uint32_t level;
    if (ntok != 2 && ntok != 3) {
        mc_line(s, "ERROR");
        return;
    }
    s->noreply = tok_is(&tok[ntok - 1], "noreply");
    if (!tok_u32(&tok[1], &level)) {
        mc_line(s, "CLIENT_ERROR bad command line format");
        return;
    }
    mc.verbosity = level > 2 ? 2 : level;       /* MAX_VERBOSITY_LEVEL */
    mc_line(s, "OK");
}

/* URL-encode a key as metadump prints it */
static void mc_uriencode(struct hp_buf *o, const char *key)
{
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~')
            hp_buf_printf(o, "%c", *p);
        else
            hp_buf_printf(o, "%%%02X", *p);
    }
}

/* lru_crawler metadump all|CLASSES: the key listing dump tools ask for
 * (memcached-tool dump, key harvesters) since cachedump was capped; oldest
 * first, one "key=... exp= la= cas= fetch= cls= size=" line each. */
static void cmd_lru_crawler(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    if (ntok == 3 && tok_is(&tok[1], "metadump")) {
        if (s->pend_len) {
            mc_line(s, "ERROR cannot pipeline other commands before metadump");
            return;
        }
        struct mc_item *list[MC_ITEMS];
        size_t n = mc_live(list);
        struct hp_buf o;
        hp_buf_init(&o, 256 * 1024);
        for (size_t i = n; i-- > 0;) {
            const struct mc_item *it = list[i];
            hp_buf_puts(&o, "key=");
            mc_uriencode(&o, it->key);
            hp_buf_printf(&o, " exp=%" PRId64 " la=%" PRId64 " cas=%" PRIu64 " fetch=%s cls=%u size=%" PRIu64 "\n",
                          it->expires ? it->expires : -1, it->atime, it->cas, it->fetched ? "yes" : "no",
                          mc_slab_class(mc_item_total(strlen(it->key), it->flags, it->len)),
                          mc_item_total(strlen(it->key), it->flags, it->len));
        }
        hp_buf_puts(&o, "END\r\n");
        mc_send(s, &o);
        hp_buf_free(&o);
    } else if ((ntok == 3 && tok_is(&tok[1], "crawl")) || (ntok == 2 && (tok_is(&tok[1], "enable") ||
                                                                          tok_is(&tok[1], "disable")))) {
        mc_line(s, "OK");
    } else {
        mc_line(s, "ERROR");
    }
}

/* The admin commands a fresh server takes (cache_memlimit, slabs, lru),
 * answered as it does; nothing changes here. */
static void cmd_admin(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    uint32_t a, b;
    if (tok_is(&tok[0], "cache_memlimit")) {
        if (ntok != 2 && ntok != 3) {
            mc_line(s, "ERROR");
            return;
        }
        s->noreply = tok_is(&tok[ntok - 1], "noreply");
        if (!tok_u32(&tok[1], &a))
            mc_line(s, "ERROR");
        else
            mc_line(s, a < 8 ? "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m" : "OK");
    } else if (tok_is(&tok[0], "slabs") && ntok == 4 && tok_is(&tok[1], "reassign")) {
        if (!tok_u32(&tok[2], &a) || !tok_u32(&tok[3], &b))
            mc_line(s, "CLIENT_ERROR bad command line format");
        else
            mc_line(s, a == b ? "SAME src and dst class are identical" : "NOSPARE source class has no spare pages");
    } else if (tok_is(&tok[0], "slabs") && ntok >= 3 && tok_is(&tok[1], "automove")) {
        mc_line(s, tok_u32(&tok[2], &a) && a <= 2 ? "OK" : "ERROR");
    } else if (tok_is(&tok[0], "lru") && ntok == 3 && tok_is(&tok[1], "mode") &&
               (tok_is(&tok[2], "flat") || tok_is(&tok[2], "segmented"))) {
        mc_line(s, "OK");
    } else {
        mc_line(s, "ERROR");
    }
}

/* What memcached does with a command it does not know: a line whose last
 * word starts "HTTP/" (a web client or scanner, or a cross-protocol attack)
 * closes the connection without a word; anything else is "ERROR".  Only
 * reached by commands whose first letter routes nowhere in the server's
 * dispatch (get/set/... families answer ERROR themselves). */
static void cmd_unknown(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    const struct mc_tok *last = &tok[ntok - 1];
    bool family = tok[0].n >= 2 && strchr("gsacidt", tok[0].p[0]);
    if (!family && last->n >= 5 && memcmp(last->p, "HTTP/", 5) == 0) {
        s->close_reason = "memcached_http";
        return;
    }
    mc_line(s, "ERROR");
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
    if (s->watching)
        return;                         /* a `watch` connection only streams logs */
    if (ntok == 0 || tok[0].n < 2) {
        mc_line(s, "ERROR");
        return;
    }
    const struct mc_tok *c = &tok[0];
    if (c->n == 2 && c->p[0] == 'm')
        cmd_meta(s, tok, ntok);
    else if (tok_is(c, "get") || tok_is(c, "gets") || tok_is(c, "gat") || tok_is(c, "gats"))
        ntok < 2 ? mc_line(s, "ERROR") : cmd_get(s, line, n, c->n == 4, c->p[1] == 'a');
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
        cmd_flush(s, tok, ntok);
    } else if (tok_is(c, "verbosity")) {
        cmd_verbosity(s, tok, ntok);
    } else if (tok_is(c, "quit")) {
        s->close_reason = "memcached_quit";
    } else if (tok_is(c, "shutdown")) {
        mc_line(s, "ERROR: shutdown not enabled");
    } else if (tok_is(c, "lru_crawler")) {
        cmd_lru_crawler(s, tok, ntok);
    } else if (tok_is(c, "cache_memlimit") || tok_is(c, "slabs") || tok_is(c, "lru")) {
        cmd_admin(s, tok, ntok);
    } else if (tok_is(c, "watch")) {
        mc_line(s, "OK");               /* then log lines, none of which come here */
        s->watching = true;
    } else {
        cmd_unknown(s, tok, ntok);
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

void hp_mc_close(struct hp_mc_sess *s)
{
    mc_blk_free(s);
    free(s->pend);
    s->pend = NULL;
    s->pend_len = 0;
}

void hp_mc_input(struct hp_mc_sess *s, struct hp_rd *in)
{
    mc_input(s, in);
    mc_flush(s);
}

/* The LF ending the pending line, searched only in what arrived since the
 * last look: a multiget line may grow to the core's input limit one byte per
 * read, and searching it all again each time would be quadratic. */
static long mc_find_lf(struct hp_mc_sess *s, const struct hp_rd *in)
{
    struct hp_rd look = *in;
    size_t from = s->scanned < hp_rd_left(in) ? s->scanned : 0;
    hp_rd_skip(&look, from);
    long nl = hp_rd_find(&look, "\n", 1);
    if (nl >= 0)
        return nl + (long)from;
    s->scanned = hp_rd_left(in);
    return -1;
}

/* Only a multiget may run past 2048 bytes without its LF (memcached:
 * at most 100 leading blanks, then "get " or "gets "). */
static bool mc_multiget(const struct hp_rd *in)
{
    size_t sp = 0;
    while (sp <= 100 && hp_rd_peek_u8(in, sp) == ' ')
        sp++;
    if (sp > 100)
        return false;
    struct hp_rd at = *in;
    hp_rd_skip(&at, sp);
    return hp_rd_starts_with_str(&at, "get ") || hp_rd_starts_with_str(&at, "gets ");
}

static void mc_input(struct hp_mc_sess *s, struct hp_rd *in)
{
    while (hp_rd_left(in) > 0 && !s->close_reason) {
        if (s->swallow) {
            size_t k = hp_rd_left(in) < s->swallow ? hp_rd_left(in) : (size_t)s->swallow;
            hp_rd_skip(in, k);
            s->swallow -= k;
            if (s->swallow == 0 && s->swallow_msg)
                s->binary ? bin_error(s, s->bin_op, s->bin_status, s->bin_opaque) : mc_line(s, s->swallow_msg);
            continue;
        }
        if (s->want_data) {
            /* taken from the reader as it arrives: the core buffers 128 KiB at most */
            size_t need = (size_t)s->bytes + (s->binary ? 0 : 2);
            size_t want = need - s->blk_len, k = hp_rd_left(in) < want ? hp_rd_left(in) : want;
            if (!hp_rd_copy(in, s->blk + s->blk_len, k))
                return;
            s->blk_len += k;
            if (s->blk_len < need)
                return;
            s->want_data = false;
            if (s->binary) {
                store_data(s, s->blk, (size_t)s->bytes);
            } else if (s->blk[s->bytes] != '\r' || s->blk[s->bytes + 1] != '\n') {
                if (s->meta)
                    s->noreply = false;                     /* ms always reports it */
                s->meta = false;
                mc_line(s, "CLIENT_ERROR bad data chunk");   /* silent under noreply, as memcached */
            } else
                store_data(s, s->blk, (size_t)s->bytes);
            mc_blk_free(s);
            continue;
        }
        if (s->commands == 0 && hp_rd_peek_u8(in, 0) == 0x80)
            s->binary = true;           /* the server picks the protocol from the first byte */
        if (s->binary) {
            if (!bin_request(s, in))
                return;
            continue;
        }
        long nl = mc_find_lf(s, in);
        if (nl < 0) {
            if (hp_rd_left(in) > HP_MC_LINE_MAX && !mc_multiget(in)) {
                /* no LF in 2 KiB and not a long multiget: memcached closes without a word */
                hp_rd_skip(in, hp_rd_left(in));
                s->close_reason = "memcached_line_too_long";
            }
            return;
        }
        s->scanned = 0;
        const uint8_t *line = hp_rd_bytes(in, (size_t)nl + 1);
        size_t n = (size_t)nl;
        if (!line)
            return;
        if (n > 0 && line[n - 1] == '\r')
            n--;
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
