/*
 * memcached.c - a memcached server on TCP 11211: the module, the connection
 * and the ASCII commands.
 *
 * Exposed memcached servers are probed for two reasons: `stats` (is this a
 * reflector for UDP amplification, how much memory does it hold) and the
 * data (`get` of session keys, `set` of a large value to reflect later,
 * `flush_all` by vandals).  The module answers as memcached 1.6.18 does on a
 * fresh Debian host (numbers and limits found by a differential run against
 * the Debian package, tests/unit/test_memcached.c), with a small in-memory
 * store so a `set` followed by `get` behaves, and records every command.
 *
 * The files:
 *   memcached.c        this: the descriptor, the fake process's identity,
 *                      the session (one read's answers gathered and written
 *                      once), line framing, the ASCII commands and their
 *                      data blocks
 *   memcached_store.c  the items (one store per sensor, bounded, oldest out)
 *   memcached_stats.c  stats and its sub-commands, cachedump, metadump
 *   memcached_bin.c    the binary protocol (first byte 0x80)
 *   memcached_meta.c   the meta commands (mn mg ms md ma me)
 *
 * ASCII commands:
 *   storage    set add replace append prepend cas, then the data block;
 *              noreply honoured (its own line's errors included)
 *   retrieval  get gets gat gats (every key of a multiget); delete incr decr
 *              touch; flush_all
 *   other      stats ..., lru_crawler metadump, version, verbosity, quit,
 *              shutdown (refused as without -A), watch and the admin
 *              commands cache_memlimit / slabs / lru; anything else "ERROR"
 *
 * Item size: memcached counts its item header, CAS, key, value, CRLF and
 * flags against item_size_max (1 MiB), so the largest value kept is 1 MiB
 * less 59 bytes and the key; a larger one is read and discarded, then
 * answered "SERVER_ERROR object too large for cache" (binary: "Too large.";
 * an ASCII set also drops the key's old value); an append or prepend that
 * would pass it is refused once its block is in.
 *
 * Data blocks (ASCII, ms, binary values) are taken from the reader as they
 * arrive into a block of their own, not left in the core's input (128 KiB at
 * most).  All connections' blocks together stay within 16 MiB (MC_PENDING_MAX):
 * a block that would pass it is swallowed and answered as the server answers
 * one it cannot allocate ("SERVER_ERROR out of memory storing object",
 * binary "Out of memory").  The block is released when it is stored or
 * refused (bad chunk) and when the connection closes mid-block.
 *
 * Closed without a word, as the server does: a line whose last word starts
 * "HTTP/" (web scanners), a line with no LF in its first 2048 bytes unless it
 * is a multiget (which waits; its LF is searched in new bytes only), a binary
 * request with a bad magic (that read's answers dropped), ASCII quit; closed
 * after the answer: a binary request with invalid lengths ("Invalid
 * arguments"), binary quit.
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
#include "memcached_int.h"
#include "proto.h"
#include "util.h"

#define MC_PREVIEW 256
/* Bytes of one get/gets/gat answer: memcached streams any number of values;
 * the sensor builds the answer whole, so it leaves out what would pass this. */
#define MC_GET_OUT_MAX (8u << 20)

/* ---- identity ---------------------------------------------------------------------- */

static const char *const mc_versions[] = { "1.6.18", "1.6.14", "1.6.21", "1.6.9", NULL };

struct mc_ident mc_id;

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

void mc_send(struct hp_mc_sess *s, const struct hp_buf *b)
{
    if (b->len)
        mc_out(s, b->data, b->len);
}

void mc_line(struct hp_mc_sess *s, const char *text)
{
    if (s->noreply)
        return;
    char line[160];
    int n = snprintf(line, sizeof(line), "%.155s\r\n", text);   /* callers' lines are shorter */
    mc_out(s, line, (size_t)n);
}

void mc_emit(struct hp_mc_sess *s, struct hp_ev *ev)
{
    if (s->emit)
        s->emit(ev);
    else
        hp_ev_emit(ev);
}

/* ---- commands ------------------------------------------------------------------------- */

bool mc_tok_is(const struct mc_tok *t, const char *word)
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
bool mc_strtoull(const char *b, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(b, &end, 10);
    if (errno == ERANGE || !mc_num_end(b, end) || ((long long)v < 0 && memchr(b, '-', (size_t)(end - b))))
        return false;
    *out = v;
    return true;
}

bool mc_tok_u64(const struct mc_tok *t, uint64_t *out)
{
    char b[64];
    return mc_cstr(t, b, sizeof(b)) && mc_strtoull(b, out);
}

/* safe_strtoul: the unsigned long cut to 32 bits */
bool mc_tok_u32(const struct mc_tok *t, uint32_t *out)
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
bool mc_tok_i32(const struct mc_tok *t, int32_t *out)
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
bool mc_tok_key(const struct mc_tok *t, char out[HP_MC_KEY_MAX + 1])
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
        if (mc_tok_is(&tok[0], keyed[i]))
            at = 1;
    if (ntok > 0 && (mc_tok_is(&tok[0], "gat") || mc_tok_is(&tok[0], "gats")))
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
        if (!mc_tok_i32(&t, &exptime)) {
            mc_line(s, "CLIENT_ERROR invalid exptime argument");
            return;
        }
    }
    struct hp_buf out;
    hp_buf_init(&out, MC_GET_OUT_MAX);
    while (mc_next_tok(line, n, &at, &t)) {
        char key[HP_MC_KEY_MAX + 1];
        if (!mc_tok_key(&t, key)) {
            hp_buf_free(&out);
            mc_line(s, "CLIENT_ERROR bad command line format");
            return;
        }
        mc_db.cmd_get++;
        if (touch)
            mc_db.cmd_touch++;
        struct mc_item *it = mc_find(key);
        if (!it) {
            mc_db.get_misses++;
            if (touch)
                mc_db.touch_misses++;
            continue;
        }
        mc_db.get_hits++;
        it->atime = mc_now();
        it->fetched = true;
        if (touch) {
            mc_db.touch_hits++;
            it->expires = mc_expires(exptime);
        }
        /* The answer is bounded (MC_GET_OUT_MAX): values that would pass
         * it are left out, whole, so the client still gets a well-formed
         * answer ending in END (they look like misses). */
        char head[HP_MC_KEY_MAX + 96];
        int hn = snprintf(head, sizeof(head), "VALUE %s %" PRIu32 " %zu", it->key, it->flags, it->len);
        if (hn < 0 || out.len + (size_t)hn + 24 + it->len + 2 + 5 > out.cap)
            continue;
        hp_buf_put(&out, head, (size_t)hn);
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


/* Discard the next n bytes, then answer msg (as the server swallows). */
void mc_swallow(struct hp_mc_sess *s, uint64_t n, const char *msg)
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
bool mc_blk_take(struct hp_mc_sess *s, uint64_t bytes)
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
    bool is_cas = mc_tok_is(&tok[0], "cas");
    size_t need = is_cas ? 6 : 5;
    uint32_t flags;
    int32_t exptime, bytes;
    uint64_t cas = 0;
    char key[HP_MC_KEY_MAX + 1];
    if (ntok < need || ntok > need + 1) {
        mc_line(s, "ERROR");
        return;
    }
    s->noreply = mc_tok_is(&tok[ntok - 1], "noreply");
    bool ok = mc_tok_key(&tok[1], key) && mc_tok_u32(&tok[2], &flags) && mc_tok_i32(&tok[3], &exptime) &&
              mc_tok_i32(&tok[4], &bytes) && (!is_cas || mc_tok_u64(&tok[5], &cas)) && bytes >= 0 &&
              bytes <= INT_MAX - 2;
    if (!ok) {
        mc_line(s, "CLIENT_ERROR bad command line format");
        return;
    }
    if (mc_item_total(tok[1].n, flags, (uint64_t)bytes) > HP_MC_ITEM_MAX) {
        /* memcached refuses it, swallows the data block (+ CRLF), then
         * answers; a set also drops the key's old value */
        mc_db.too_large++;
        if (mc_tok_is(&tok[0], "set")) {
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

static void store_data(struct hp_mc_sess *s, const uint8_t *data, size_t len)
{
    ev_store(s, data, len);
    mc_db.cmd_set++;
    struct mc_item *it = mc_find(s->key);
    const char *c = s->cmd;
    const char *answer = "STORED";
    if (strcmp(c, "add") == 0 && it) {
        answer = "NOT_STORED";
    } else if ((strcmp(c, "replace") == 0 || strcmp(c, "append") == 0 || strcmp(c, "prepend") == 0) && !it) {
        answer = "NOT_STORED";
    } else if (strcmp(c, "cas") == 0 && !it) {
        mc_db.cas_misses++;
        answer = "NOT_FOUND";
    } else if (strcmp(c, "cas") == 0 && it->cas != s->cas) {
        mc_db.cas_badval++;
        answer = "EXISTS";
    } else if (strcmp(c, "append") == 0 || strcmp(c, "prepend") == 0) {
        if (mc_item_total(strlen(it->key), it->flags, it->len + len) > HP_MC_ITEM_MAX ||
            !mc_join(it, data, len, c[0] == 'a'))
            answer = "SERVER_ERROR out of memory storing object";
    } else {
        if (strcmp(c, "cas") == 0)
            mc_db.cas_hits++;
        if (!mc_put(it, s->key, s->flags, s->exptime, data, len))
            answer = "SERVER_ERROR out of memory storing object";
    }
    if (s->binary)
        mc_bin_stored(s, answer);
    else if (s->meta)
        mc_meta_stored(s, answer);
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
        bool zero = mc_tok_is(&tok[2], "0");
        s->noreply = mc_tok_is(&tok[ntok - 1], "noreply");
        if (!(ntok == 3 && (zero || s->noreply)) && !(ntok == 4 && zero && s->noreply)) {
            mc_line(s, "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]");
            return;
        }
    }
    if (!mc_tok_key(&tok[1], key)) {
        mc_line(s, "CLIENT_ERROR bad command line format");
        return;
    }
    struct mc_item *it = mc_find(key);
    if (it) {
        mc_db.delete_hits++;
        mc_drop(it);
    } else {
        mc_db.delete_misses++;
    }
    mc_line(s, it ? "DELETED" : "NOT_FOUND");
}

static void cmd_arith(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok, bool incr)
{
    char key[HP_MC_KEY_MAX + 1];
    uint64_t delta, cur = 0;
    if (ntok < 3 || ntok > 4) {
        mc_line(s, "ERROR");
        return;
    }
    s->noreply = mc_tok_is(&tok[ntok - 1], "noreply");
    if (!mc_tok_key(&tok[1], key)) {
        mc_line(s, "CLIENT_ERROR bad command line format");
        return;
    }
    if (!mc_tok_u64(&tok[2], &delta)) {
        mc_line(s, "CLIENT_ERROR invalid numeric delta argument");
        return;
    }
    struct mc_item *it = mc_find(key);
    if (!it) {
        incr ? mc_db.incr_misses++ : mc_db.decr_misses++;
        mc_line(s, "NOT_FOUND");
        return;
    }
    if (!mc_item_number(it, &cur)) {
        mc_line(s, "CLIENT_ERROR cannot increment or decrement non-numeric value");
        return;
    }
    incr ? mc_db.incr_hits++ : mc_db.decr_hits++;
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
    s->noreply = mc_tok_is(&tok[ntok - 1], "noreply");
    if (!mc_tok_key(&tok[1], key)) {
        mc_line(s, "CLIENT_ERROR bad command line format");
        return;
    }
    if (!mc_tok_i32(&tok[2], &exptime)) {
        mc_line(s, "CLIENT_ERROR invalid exptime argument");
        return;
    }
    mc_db.cmd_touch++;
    struct mc_item *it = mc_find(key);
    if (it) {
        mc_db.touch_hits++;
        it->expires = mc_expires(exptime);
        it->atime = mc_now();
    } else {
        mc_db.touch_misses++;
    }
    mc_line(s, it ? "TOUCHED" : "NOT_FOUND");
}

/* flush_all [delay] [noreply]: the store is emptied at once (a delay is not kept) */
static void cmd_flush(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    int32_t delay = 0;
    if (ntok > 3) {
        mc_line(s, "ERROR");
        return;
    }
    s->noreply = mc_tok_is(&tok[ntok - 1], "noreply");
    if (ntok > (s->noreply ? 2u : 1u) && !mc_tok_i32(&tok[1], &delay)) {
        mc_line(s, "CLIENT_ERROR invalid exptime argument");
        return;
    }
    mc_db.cmd_flush++;
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
    s->noreply = mc_tok_is(&tok[ntok - 1], "noreply");
    if (!mc_tok_u32(&tok[1], &level)) {
        mc_line(s, "CLIENT_ERROR bad command line format");
        return;
    }
    mc_db.verbosity = level > 2 ? 2 : level;       /* MAX_VERBOSITY_LEVEL */
    mc_line(s, "OK");
}

/* The admin commands a fresh server takes (cache_memlimit, slabs, lru),
 * answered as it does; nothing changes here. */
static void cmd_admin(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    uint32_t a, b;
    if (mc_tok_is(&tok[0], "cache_memlimit")) {
        if (ntok != 2 && ntok != 3) {
            mc_line(s, "ERROR");
            return;
        }
        s->noreply = mc_tok_is(&tok[ntok - 1], "noreply");
        if (!mc_tok_u32(&tok[1], &a))
            mc_line(s, "ERROR");
        else
            mc_line(s, a < 8 ? "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m" : "OK");
    } else if (mc_tok_is(&tok[0], "slabs") && ntok == 4 && mc_tok_is(&tok[1], "reassign")) {
        if (!mc_tok_u32(&tok[2], &a) || !mc_tok_u32(&tok[3], &b))
            mc_line(s, "CLIENT_ERROR bad command line format");
        else
            mc_line(s, a == b ? "SAME src and dst class are identical" : "NOSPARE source class has no spare pages");
    } else if (mc_tok_is(&tok[0], "slabs") && ntok >= 3 && mc_tok_is(&tok[1], "automove")) {
        mc_line(s, mc_tok_u32(&tok[2], &a) && a <= 2 ? "OK" : "ERROR");
    } else if (mc_tok_is(&tok[0], "lru") && ntok == 3 && mc_tok_is(&tok[1], "mode") &&
               (mc_tok_is(&tok[2], "flat") || mc_tok_is(&tok[2], "segmented"))) {
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
        mc_meta_command(s, tok, ntok);
    else if (mc_tok_is(c, "get") || mc_tok_is(c, "gets") || mc_tok_is(c, "gat") || mc_tok_is(c, "gats"))
        ntok < 2 ? mc_line(s, "ERROR") : cmd_get(s, line, n, c->n == 4, c->p[1] == 'a');
    else if (mc_tok_is(c, "set") || mc_tok_is(c, "add") || mc_tok_is(c, "replace") || mc_tok_is(c, "append") ||
             mc_tok_is(c, "prepend") || mc_tok_is(c, "cas"))
        cmd_store_head(s, tok, ntok);
    else if (mc_tok_is(c, "delete"))
        cmd_delete(s, tok, ntok);
    else if (mc_tok_is(c, "incr") || mc_tok_is(c, "decr"))
        cmd_arith(s, tok, ntok, c->p[0] == 'i');
    else if (mc_tok_is(c, "touch"))
        cmd_touch(s, tok, ntok);
    else if (mc_tok_is(c, "stats"))
        mc_cmd_stats(s, tok, ntok);
    else if (mc_tok_is(c, "version")) {
        char v[48];
        snprintf(v, sizeof(v), "VERSION %s", hp_mc_version());
        mc_line(s, v);
    } else if (mc_tok_is(c, "flush_all")) {
        cmd_flush(s, tok, ntok);
    } else if (mc_tok_is(c, "verbosity")) {
        cmd_verbosity(s, tok, ntok);
    } else if (mc_tok_is(c, "quit")) {
        s->close_reason = "memcached_quit";
    } else if (mc_tok_is(c, "shutdown")) {
        mc_line(s, "ERROR: shutdown not enabled");
    } else if (mc_tok_is(c, "lru_crawler")) {
        mc_cmd_lru_crawler(s, tok, ntok);
    } else if (mc_tok_is(c, "cache_memlimit") || mc_tok_is(c, "slabs") || mc_tok_is(c, "lru")) {
        cmd_admin(s, tok, ntok);
    } else if (mc_tok_is(c, "watch")) {
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
                s->binary ? mc_bin_error(s, s->bin_op, s->bin_status, s->bin_opaque) : mc_line(s, s->swallow_msg);
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
            if (!mc_bin_request(s, in))
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
    mc_db.curr_conns++;
    mc_db.total_conns++;
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
    if (mc_db.curr_conns)
        mc_db.curr_conns--;
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
