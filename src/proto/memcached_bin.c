/*
 * memcached_bin.c - memcached's binary protocol, answered as 1.6.18 does.
 *
 * memcached 1.6 negotiates the protocol by default (binding_protocol
 * auto-negotiate): a connection whose first byte is 0x80 is binary for good
 * (memcached.c decides).  Framing: a 24-byte request header (magic 0x80,
 * opcode, key length, extras length, total body length, opaque, CAS), then
 * extras, key and value; answers carry magic 0x81 and the same opcode and
 * opaque.  The header, extras and key (at most 24 + 255 + 250 bytes) are read
 * through the reader once complete; a value is taken as it arrives, as the
 * ASCII data blocks are, within the same item size rule and pending-data
 * budget (memcached.c).
 *
 * Served: get getq getk getkq, set add replace append prepend (and their
 * quiet forms; set with a CAS is a cas), delete, incr decr (with initial
 * value and expiry), touch gat gatq gatk gatkq, flush, noop, version, stat
 * (general, settings, items, slabs, sizes, reset), quit.
 *
 * Refused as the server's dispatch_bin_command refuses: lengths that do not
 * fit the opcode get "Invalid arguments" and the connection closes; an
 * unknown opcode (SASL too: the server runs without it) gets "Unknown
 * command" once its body is skipped; a value over item_size_max gets "Too
 * large." once skipped; a bad magic closes without a word (and the answers
 * of that read are dropped, as the server closes before writing them).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "event.h"
#include "memcached_int.h"
#include "reader.h"
#include "util.h"

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

void mc_bin_error(struct hp_mc_sess *s, uint8_t op, uint16_t st, uint32_t opaque)
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
        mc_stats_general(&o);
    else if (strcmp(key, "settings") == 0)
        mc_stats_settings(s, &o);
    else if (strcmp(key, "items") == 0)
        mc_stats_items(&o);
    else if (strcmp(key, "slabs") == 0)
        mc_stats_slabs(&o);
    else if (strcmp(key, "sizes") == 0)
        hp_buf_puts(&o, "STAT sizes_status disabled\r\n");
    else if (strcmp(key, "reset") != 0) {
        hp_buf_free(&o);
        mc_bin_error(s, r->op, BIN_ENOENT, r->opaque);
        return;
    }
    /* "reset" writes nothing: o.data is still NULL, and NULL + 0 is undefined */
    const char *p = (const char *)o.data, *end = o.len ? p + o.len : p;
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
    mc_db.cmd_get += r->base != OP_TOUCH;
    if (touch)
        mc_db.cmd_touch++;
    if (!it) {
        mc_db.get_misses += r->base != OP_TOUCH;
        if (touch)
            mc_db.touch_misses++;
        if (r->quiet)
            return;
        if (with_key)
            bin_resp(s, r->op, BIN_ENOENT, r->opaque, 0, NULL, 0, key, strlen(key), NULL, 0);
        else
            mc_bin_error(s, r->op, BIN_ENOENT, r->opaque);
        return;
    }
    if (touch) {
        mc_db.touch_hits++;
        it->expires = mc_expires((int32_t)((uint32_t)ext[0] << 24 | (uint32_t)ext[1] << 16 | ext[2] << 8 | ext[3]));
    }
    mc_db.get_hits += r->base != OP_TOUCH;
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
        incr ? mc_db.incr_misses++ : mc_db.decr_misses++;
        mc_bin_error(s, r->op, BIN_ENOENT, r->opaque);
        return;
    }
    if (!it) {
        cur = initial;
        incr ? mc_db.incr_misses++ : mc_db.decr_misses++;
        int n = snprintf(num, sizeof(num), "%" PRIu64, cur);
        mc_put(NULL, key, 0, (int32_t)exp, (const uint8_t *)num, (size_t)n);
    } else if (!mc_item_number(it, &cur)) {
        mc_bin_error(s, r->op, BIN_DELTA_BADVAL, r->opaque);
        return;
    } else {
        incr ? mc_db.incr_hits++ : mc_db.decr_hits++;
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
        mc_db.too_large++;
        s->bin_status = BIN_E2BIG;
        mc_swallow(s, vlen, "E2BIG");
        if (vlen == 0)
            mc_bin_error(s, r->op, BIN_E2BIG, r->opaque);
        return;
    }
    if (!mc_blk_take(s, vlen)) {
        s->bin_status = BIN_ENOMEM;
        mc_swallow(s, vlen, "ENOMEM");
        if (vlen == 0)
            mc_bin_error(s, r->op, BIN_ENOMEM, r->opaque);
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
void mc_bin_stored(struct hp_mc_sess *s, const char *answer)
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
        mc_bin_error(s, s->bin_op, st, s->bin_opaque);
        return;
    }
    if (s->noreply)
        return;
    const struct mc_item *it = mc_find(s->key);
    bin_resp(s, s->bin_op, BIN_OK, s->bin_opaque, it ? it->cas : 0, NULL, 0, NULL, 0, NULL, 0);
}

/* One request; false when more input is needed or the connection closes. */
bool mc_bin_request(struct hp_mc_sess *s, struct hp_rd *in)
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
        /* this request's bytes only: recording all the read had (up to 1 KiB)
         * made every 24-byte unknown request log the next 1 KiB again */
        uint64_t own = (uint64_t)BIN_HDR + r.bodylen;
        bin_event(s, &r, hp_rd_ptr(in), hp_rd_left(in) < own ? hp_rd_left(in) : (size_t)own, NULL);
        hp_rd_skip(in, BIN_HDR);
        s->bin_op = r.op;
        s->bin_opaque = r.opaque;
        s->bin_status = BIN_UNKNOWN;
        mc_swallow(s, r.bodylen, "UNKNOWN");
        if (r.bodylen == 0)
            mc_bin_error(s, r.op, BIN_UNKNOWN, r.opaque);
        return true;
    }
    if (!bin_valid(&r)) {
        bin_event(s, &r, hp_rd_ptr(in), hp_rd_left(in), NULL);
        hp_rd_skip(in, hp_rd_left(in));
        mc_bin_error(s, r.op, BIN_EINVAL, r.opaque);
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
        mc_db.cmd_flush++;
        hp_mc_store_reset();
        if (!r.quiet)
            bin_resp(s, r.op, BIN_OK, r.opaque, 0, NULL, 0, NULL, 0, NULL, 0);
    } else if (b == OP_DELETE) {
        struct mc_item *it = mc_find(key);
        if (it) {
            mc_db.delete_hits++;
            mc_drop(it);
            if (!r.quiet)
                bin_resp(s, r.op, BIN_OK, r.opaque, 0, NULL, 0, NULL, 0, NULL, 0);
        } else {
            mc_db.delete_misses++;
            mc_bin_error(s, r.op, BIN_ENOENT, r.opaque);
        }
    } else if (b == OP_INCR || b == OP_DECR) {
        bin_arith(s, &r, key, ext);
    } else if (b == OP_STAT) {
        bin_stats(s, &r, key);
    }
    return true;
}
