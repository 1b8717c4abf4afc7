/*
 * event.c - the event builder.  See event.h.
 *
 * The builder writes JSON text straight into a per-thread scratch buffer
 * capped at HP_EVENT_MAX; hp_ev_emit() copies the finished text into one
 * right-sized allocation (struct hp_event with the JSON as a flexible array)
 * and hands it to the outputs.  Each field is appended atomically: if it does
 * not fit, the buffer is rolled back to before the field and the event is
 * marked truncated, so the JSON stays well-formed whatever the peer sent.
 */
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "json.h"
#include "output.h"
#include "util.h"

/* Room kept free for closing brackets and the "truncated" flag. */
#define EV_RESERVE 64

static char sensor_name[128] = "hanipo";
static char run_id[17];
static _Atomic uint64_t event_seq;
static _Thread_local struct hp_buf scratch;
static _Thread_local bool scratch_busy;

void hp_event_set_sensor(const char *name)
{
    snprintf(sensor_name, sizeof(sensor_name), "%s", name);
}

const char *hp_event_sensor(void)
{
    return sensor_name;
}

const char *hp_event_run_id(void)
{
    if (!run_id[0])
        hp_random_hex(run_id, 16);
    return run_id;
}

struct hp_event *hp_event_ref(struct hp_event *e)
{
    atomic_fetch_add_explicit((_Atomic int *)&e->refs, 1, memory_order_relaxed);
    return e;
}

void hp_event_unref(struct hp_event *e)
{
    if (e && atomic_fetch_sub_explicit((_Atomic int *)&e->refs, 1, memory_order_acq_rel) == 1)
        free(e);
}

/* ---- field plumbing -------------------------------------------------- */

/* A top-level member's key starts at off: note it in the key index. */
static void key_index_add(struct hp_ev *ev, size_t off)
{
    if (ev->nkeys < HP_EV_KEYS)
        ev->keys[ev->nkeys] = (uint32_t)off;
    ev->nkeys++;
}

/* Start a field: comma and key.  Returns the rollback point. */
static size_t field_begin(struct hp_ev *ev, const char *key)
{
    struct hp_buf *b = ev->b;
    if (ev->skip)
        b->full = true;      /* field_end() will drop it */
    size_t mark = b->len;
    ev->key_at = ev->depth == 0 && key ? mark + ev->need_comma[0] : SIZE_MAX;
    if (ev->need_comma[ev->depth])
        hp_buf_putc(b, ',');
    if (key) {
        /* Keys are our own identifiers, or peer-derived ones already checked by the caller. */
        hp_json_str(b, key, strlen(key));
        hp_buf_putc(b, ':');
    }
    return mark;
}

/* Finish a field: keep it, or roll back if it did not fit. */
static bool field_end(struct hp_ev *ev, size_t mark)
{
    struct hp_buf *b = ev->b;
    if (ev->skip) {
        b->len = mark;
        b->full = false;
        return false;
    }
    if (!b->full && b->len <= b->cap - EV_RESERVE) {
        ev->need_comma[ev->depth] = true;
        if (ev->key_at != SIZE_MAX)
            key_index_add(ev, ev->key_at);
        return true;
    }
    b->len = mark;
    b->full = false;
    ev->truncated = true;
    return false;
}

/* A common field, written by hp_ev_begin_at in a fixed order into an empty
 * buffer far below its cap (so never refused): the key is a literal with its
 * quotes, colon and leading comma, which spares escaping the same dozen keys
 * in every event. */
static void put_common(struct hp_ev *ev, const char *lit, size_t litlen, const char *val)
{
    key_index_add(ev, ev->b->len + 1);     /* after the '{' or ',' the literal starts with */
    hp_buf_put(ev->b, lit, litlen);
    hp_json_str(ev->b, val, strlen(val));
}

static void put_common_uint(struct hp_ev *ev, const char *lit, size_t litlen, uint64_t v)
{
    char num[24];
    key_index_add(ev, ev->b->len + 1);
    hp_buf_put(ev->b, lit, litlen);
    hp_buf_put(ev->b, num, hp_fmt_u64(v, num));
}

#define COMMON_STR(ev, lit, val) put_common(ev, lit, sizeof(lit) - 1, val)
#define COMMON_UINT(ev, lit, v) put_common_uint(ev, lit, sizeof(lit) - 1, v)

/*
 * The context's members ("session" .. "dst_port") are the same in every
 * event of a connection, so their rendering is kept per thread with its key
 * offsets and copied when a later context has the same values.  A busy
 * sensor interleaves the events of many connections (64 keep-alive clients
 * take turns), so a thread keeps EV_CTX_SLOTS renderings, one per slot
 * picked by the session id; two sessions that share a slot take turns in
 * it.  Comparing the values, not the pointer, keeps it right when a module
 * changes its context (the trap handing over, a redirected port).
 */
#define EV_CTX_KEYS 8
#define EV_CTX_SLOTS 64
struct ev_ctx_cache {
    bool valid;
    char session[HP_SESSION_ID_LEN + 1];
    char protocol[24], service[64], transport[8];
    bool has_protocol, has_service, has_transport;
    char src_ip[HP_IPSTR_LEN], dst_ip[HP_IPSTR_LEN];
    uint16_t src_port, dst_port;
    char text[640];                /* the rendered members, each after its comma */
    size_t len;
    uint32_t keys[EV_CTX_KEYS];    /* offsets of their keys in text (after each comma) */
    size_t nkeys;
};
static _Thread_local struct ev_ctx_cache *ctx_caches;   /* EV_CTX_SLOTS, allocated on first use */

/* The slot of a session id (random hex, so its first bytes will do); NULL without memory. */
static struct ev_ctx_cache *ctx_cache_slot(const char *session)
{
    if (!ctx_caches && !(ctx_caches = calloc(EV_CTX_SLOTS, sizeof(*ctx_caches))))
        return NULL;
    unsigned h = 0;
    for (size_t i = 0; i < 8 && session[i]; i++)
        h = h * 31 + (unsigned char)session[i];
    return &ctx_caches[h % EV_CTX_SLOTS];
}

/* Copy a context string into the cache; false if it does not fit (then no cache). */
static bool cache_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap);
    if (n == cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* The same for an optional one: NULL is kept apart from "". */
static bool cache_opt(char *dst, size_t cap, bool *has, const char *src)
{
    *has = src != NULL;
    return cache_str(dst, cap, src ? src : "");
}

static bool same_str(const char *cached, bool has, const char *s)
{
    return has ? s && strcmp(cached, s) == 0 : s == NULL;
}

static bool ctx_cache_hit(const struct ev_ctx_cache *c, const struct hp_evctx *ctx)
{
    return c->valid && c->src_port == ctx->src_port && c->dst_port == ctx->dst_port &&
           strcmp(c->session, ctx->session) == 0 && strcmp(c->src_ip, ctx->src_ip) == 0 &&
           strcmp(c->dst_ip, ctx->dst_ip) == 0 && same_str(c->protocol, c->has_protocol, ctx->protocol) &&
           same_str(c->service, c->has_service, ctx->service) &&
           same_str(c->transport, c->has_transport, ctx->transport);
}

/* Render ctx's members into ev, then remember them in c when they can be cached. */
static void render_context(struct hp_ev *ev, const struct hp_evctx *ctx, struct ev_ctx_cache *c)
{
    size_t start = ev->b->len, first_key = ev->nkeys;
    COMMON_STR(ev, ",\"session\":", ctx->session);
    if (ctx->protocol)
        COMMON_STR(ev, ",\"protocol\":", ctx->protocol);
    if (ctx->service)
        COMMON_STR(ev, ",\"service\":", ctx->service);
    if (ctx->transport)
        COMMON_STR(ev, ",\"transport\":", ctx->transport);
    COMMON_STR(ev, ",\"src_ip\":", ctx->src_ip);
    COMMON_UINT(ev, ",\"src_port\":", ctx->src_port);
    COMMON_STR(ev, ",\"dst_ip\":", ctx->dst_ip);
    COMMON_UINT(ev, ",\"dst_port\":", ctx->dst_port);

    if (!c)
        return;
    c->valid = false;
    size_t len = ev->b->len - start, nkeys = ev->nkeys - first_key;
    if (nkeys > EV_CTX_KEYS || ev->nkeys > HP_EV_KEYS || len > sizeof(c->text) ||
        !cache_str(c->session, sizeof(c->session), ctx->session) ||
        !cache_opt(c->protocol, sizeof(c->protocol), &c->has_protocol, ctx->protocol) ||
        !cache_opt(c->service, sizeof(c->service), &c->has_service, ctx->service) ||
        !cache_opt(c->transport, sizeof(c->transport), &c->has_transport, ctx->transport) ||
        !cache_str(c->src_ip, sizeof(c->src_ip), ctx->src_ip) ||
        !cache_str(c->dst_ip, sizeof(c->dst_ip), ctx->dst_ip))
        return;
    memcpy(c->text, ev->b->data + start, len);
    c->len = len;
    for (size_t i = 0; i < nkeys; i++)
        c->keys[i] = ev->keys[first_key + i] - (uint32_t)start;
    c->nkeys = nkeys;
    c->src_port = ctx->src_port;
    c->dst_port = ctx->dst_port;
    c->valid = true;
}

/* The context's members: from the cache when ctx has the cached values. */
static void put_context(struct hp_ev *ev, const struct hp_evctx *ctx)
{
    struct ev_ctx_cache *c = ctx_cache_slot(ctx->session);
    if (!c || !ctx_cache_hit(c, ctx) || ev->nkeys + c->nkeys > HP_EV_KEYS) {
        render_context(ev, ctx, c);
        return;
    }
    size_t start = ev->b->len;
    for (size_t i = 0; i < c->nkeys; i++)
        key_index_add(ev, start + c->keys[i]);
    hp_buf_put(ev->b, c->text, c->len);
}

void hp_ev_begin(struct hp_ev *ev, const struct hp_evctx *ctx, const char *eventid)
{
    hp_ev_begin_at(ev, ctx, eventid, 0);
}

void hp_ev_begin_at(struct hp_ev *ev, const struct hp_evctx *ctx, const char *eventid, int64_t ts_us)
{
    char ts[40], uid[48];

    if (scratch_busy)
        abort();           /* one builder per thread: a programming error */
    scratch_busy = true;
    if (scratch.cap == 0)
        hp_buf_init(&scratch, HP_EVENT_MAX);
    hp_buf_reset(&scratch);

    memset(ev, 0, sizeof(*ev));
    ev->b = &scratch;
    ev->meta.ts_us = ts_us > 0 ? ts_us : hp_now_us();
    ev->meta.seq = atomic_fetch_add_explicit(&event_seq, 1, memory_order_relaxed) + 1;
    ev->meta.eventid = eventid;

    hp_fmt_iso8601(ev->meta.ts_us, ts, sizeof(ts));
    memcpy(uid, hp_event_run_id(), 16);
    uid[16] = '-';
    hp_fmt_u64(ev->meta.seq, uid + 17);

    COMMON_STR(ev, "{\"timestamp\":", ts);
    COMMON_STR(ev, ",\"eventid\":", eventid);
    COMMON_STR(ev, ",\"uid\":", uid);
    COMMON_STR(ev, ",\"sensor\":", sensor_name);
    ev->need_comma[0] = true;
    if (!ctx)
        return;
    memcpy(ev->meta.session, ctx->session, sizeof(ev->meta.session));
    if (ctx->protocol) {     /* a module's name: cut to the column's size, without printf's cost */
        size_t pl = strnlen(ctx->protocol, sizeof(ev->meta.protocol) - 1);
        memcpy(ev->meta.protocol, ctx->protocol, pl);
        ev->meta.protocol[pl] = '\0';
    }
    memcpy(ev->meta.src_ip, ctx->src_ip, sizeof(ev->meta.src_ip));
    ev->meta.src_port = ctx->src_port;
    ev->meta.dst_port = ctx->dst_port;
    put_context(ev, ctx);
}

void hp_ev_str(struct hp_ev *ev, const char *key, const char *s)
{
    if (!s) {
        size_t m = field_begin(ev, key);
        hp_buf_puts(ev->b, "null");
        field_end(ev, m);
        return;
    }
    hp_ev_bytes(ev, key, s, strlen(s));
}

void hp_ev_bytes(struct hp_ev *ev, const char *key, const void *s, size_t n)
{
    size_t m = field_begin(ev, key);
    bool lossless = hp_json_str(ev->b, s, n);
    if (!field_end(ev, m) || lossless || !key)
        return;
    /* Not representable as JSON text: keep the raw bytes beside it. */
    char k2[256];
    int kl = snprintf(k2, sizeof(k2), "%s_b64", key);
    if (kl < 0 || (size_t)kl >= sizeof(k2))
        return;                       /* keys are short identifiers; never cut one */
    hp_ev_b64(ev, k2, s, n);
}

void hp_ev_b64(struct hp_ev *ev, const char *key, const void *s, size_t n)
{
    size_t m = field_begin(ev, key);
    hp_json_b64(ev->b, s, n);
    field_end(ev, m);
}

void hp_ev_int(struct hp_ev *ev, const char *key, int64_t v)
{
    char num[24];
    size_t m = field_begin(ev, key), n = 0;
    if (v < 0)
        num[n++] = '-';
    n += hp_fmt_u64(v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, num + n);
    hp_buf_put(ev->b, num, n);
    field_end(ev, m);
}

void hp_ev_uint(struct hp_ev *ev, const char *key, uint64_t v)
{
    char num[24];
    size_t m = field_begin(ev, key);
    hp_buf_put(ev->b, num, hp_fmt_u64(v, num));
    field_end(ev, m);
}

/* v >= 0 and below 1e12 as "%.6f" writes it, without printf's exact
 * decimal expansion (about 1,500 instructions): rounded micro-units.  The
 * sixth decimal can differ from printf's on a tie; these are measured times
 * and sizes, where it is noise.  Returns the length. */
static size_t fmt_fixed6(double v, char *out)
{
    uint64_t u = (uint64_t)(v * 1e6 + 0.5);
    size_t n = hp_fmt_u64(u / 1000000, out);
    uint32_t frac = (uint32_t)(u % 1000000);
    out[n++] = '.';
    for (int d = 5; d >= 0; d--, frac /= 10)
        out[n + (size_t)d] = (char)('0' + frac % 10);
    return n + 6;
}

void hp_ev_double(struct hp_ev *ev, const char *key, double v)
{
    char num[40];
    size_t m = field_begin(ev, key);
    if (v != v || v > 1e300 || v < -1e300)
        hp_buf_puts(ev->b, "null");       /* JSON has no NaN/Inf */
    else if (!signbit(v) && v < 1e12)
        hp_buf_put(ev->b, num, fmt_fixed6(v, num));
    else
        hp_buf_printf(ev->b, "%.6f", v);
    field_end(ev, m);
}

void hp_ev_bool(struct hp_ev *ev, const char *key, bool v)
{
    size_t m = field_begin(ev, key);
    hp_buf_puts(ev->b, v ? "true" : "false");
    field_end(ev, m);
}

/* Containers: an opening bracket is only kept if it fits with room to close. */
static void container_begin(struct hp_ev *ev, const char *key, char open)
{
    if (ev->skip) {
        ev->skip++;
        return;
    }
    if (ev->depth + 1 >= HP_EV_MAXDEPTH)
        abort();
    size_t m = field_begin(ev, key);
    hp_buf_putc(ev->b, (uint8_t)open);
    if (!field_end(ev, m)) {
        /* Did not fit: drop the container and everything inside it. */
        ev->skip = 1;
        return;
    }
    ev->depth++;
    ev->need_comma[ev->depth] = false;
    ev->closer[ev->depth] = open == '{' ? '}' : ']';
}

static void container_end(struct hp_ev *ev)
{
    if (ev->skip) {
        ev->skip--;
        return;
    }
    if (ev->depth == 0)
        abort();
    char close = ev->closer[ev->depth];
    ev->depth--;
    /* EV_RESERVE guarantees the closing byte fits. */
    ev->b->full = false;
    hp_buf_putc(ev->b, (uint8_t)close);
}

void hp_ev_obj_begin(struct hp_ev *ev, const char *key) { container_begin(ev, key, '{'); }
void hp_ev_obj_end(struct hp_ev *ev) { container_end(ev); }
void hp_ev_arr_begin(struct hp_ev *ev, const char *key) { container_begin(ev, key, '['); }
void hp_ev_arr_end(struct hp_ev *ev) { container_end(ev); }
void hp_ev_elem_str(struct hp_ev *ev, const char *s) { hp_ev_bytes(ev, NULL, s, strlen(s)); }
void hp_ev_elem_int(struct hp_ev *ev, int64_t v) { hp_ev_int(ev, NULL, v); }

void hp_ev_strings(struct hp_ev *ev, const char *key, const char *const *list, size_t n)
{
    hp_ev_arr_begin(ev, key);
    for (size_t i = 0; i < n; i++)
        hp_ev_elem_str(ev, list[i]);
    hp_ev_arr_end(ev);
}

struct hp_event *hp_ev_finish(struct hp_ev *ev)
{
    struct hp_buf *b = ev->b;
    ev->skip = 0;
    while (ev->depth > 0)
        container_end(ev);
    b->full = false;
    if (ev->truncated) {
        key_index_add(ev, b->len + 1);
        hp_buf_puts(b, ",\"truncated\":true");
    }
    hp_buf_putc(b, '}');

    /* the JSON text, then the key index (4-byte aligned) */
    size_t at = (offsetof(struct hp_event, json) + b->len + 1 + 3) & ~(size_t)3;
    bool indexed = ev->nkeys <= HP_EV_KEYS;
    size_t nkeys = indexed ? ev->nkeys : 0;
    struct hp_event *e = malloc(at + nkeys * sizeof(uint32_t));
    if (e) {
        e->h = ev->meta;
        e->refs = 1;
        e->json_len = b->len;
        memcpy(e->json, b->data, b->len);
        e->json[b->len] = '\0';
        e->keys = NULL;
        e->nkeys = 0;
        if (indexed) {
            uint32_t *keys = (uint32_t *)(void *)((char *)e + at);
            memcpy(keys, ev->keys, nkeys * sizeof(uint32_t));
            e->keys = keys;
            e->nkeys = nkeys;
        }
    }
    scratch_busy = false;
    if (scratch.alloc > 256 * 1024) {     /* do not keep a huge buffer around */
        hp_buf_free(&scratch);
        hp_buf_init(&scratch, HP_EVENT_MAX);
    }
    return e;
}

int hp_ev_emit(struct hp_ev *ev)
{
    struct hp_event *e = hp_ev_finish(ev);
    if (!e)
        return -1;
    return hp_output_publish(e);
}

void hp_ev_abort(struct hp_ev *ev)
{
    scratch_busy = false;
    ev->b = NULL;
}
