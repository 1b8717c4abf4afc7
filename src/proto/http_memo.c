/*
 * http_memo.c - a direct-mapped table of recent verdicts (http_memo.h).
 *
 * The key lays out everything a verdict depends on, each variable-length
 * part preceded by its length so that "ab"+"c" and "a"+"bc" differ: the
 * port, the TLS flag, the raw bytes, and the view's fields (the rule set is
 * the memo's own).  The raw bytes alone would not do: a request that
 * came over several reads is rebuilt from its parsed fields (a chunked body
 * arrives de-chunked), so the same raw text can stand for another view; the
 * view alone would not do either, since the URL extractor also reads the
 * raw text.  Both together fix the verdict.
 *
 * A slot holds one verdict; a new one replaces it.  The hash is XXH3
 * (libxxhash) with a seed drawn per memo, so a peer cannot aim its requests
 * at one slot; at worst it makes the engine decide again, which is what it
 * does without the memo.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "http_memo.h"
#include "util.h"

struct memo_slot {
    uint64_t hash;
    size_t len;
    uint8_t *key;                        /* len bytes */
    struct hp_http_verdict vd;
};

struct hp_http_memo {
    size_t mask;                         /* slots - 1 */
    uint64_t seed;
    uint64_t hits, misses;
    struct memo_slot **slot;             /* allocated on first use */
};

struct hp_http_memo *hp_http_memo_new(size_t nslots)
{
    size_t n = 1;
    while (n < nslots && n < ((size_t)1 << 20))
        n <<= 1;
    struct hp_http_memo *m = hp_xcalloc(1, sizeof(*m));
    m->slot = hp_xcalloc(n, sizeof(*m->slot));
    m->mask = n - 1;
    m->seed = hp_random_u64();
    return m;
}

void hp_http_memo_free(struct hp_http_memo *m)
{
    if (!m)
        return;
    for (size_t i = 0; i <= m->mask; i++)
        if (m->slot[i]) {
            free(m->slot[i]->key);
            free(m->slot[i]);
        }
    free(m->slot);
    free(m);
}

static void key_put(struct hp_http_memo_key *k, const void *p, size_t n)
{
    if (!k->ok || n > sizeof(k->buf) - k->len) {
        k->ok = false;
        return;
    }
    if (n)
        memcpy(k->buf + k->len, p, n);
    k->len += n;
}

static void key_field(struct hp_http_memo_key *k, const void *p, size_t n)
{
    uint32_t len = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    key_put(k, &len, sizeof(len));
    key_put(k, p, n);
}

void hp_http_memo_key(struct hp_http_memo_key *k, const struct hp_http_memo *m, const struct hp_http_view *v,
                      const uint8_t *raw, size_t raw_len)
{
    k->ok = m != NULL;                  /* no memo: every request is decided */
    k->len = 0;
    k->hash = 0;
    uint8_t tls = v->tls;
    key_put(k, &v->local_port, sizeof(v->local_port));
    key_put(k, &tls, 1);
    key_field(k, raw, raw_len);
    const struct hp_bytes *f[] = { &v->method, &v->target, &v->version, &v->body };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        key_field(k, f[i]->p, f[i]->n);
    uint32_t nh = (uint32_t)v->nheaders;
    key_put(k, &nh, sizeof(nh));
    for (size_t i = 0; i < v->nheaders && k->ok; i++) {
        key_field(k, v->headers[i].name.p, v->headers[i].name.n);
        key_field(k, v->headers[i].value.p, v->headers[i].value.n);
    }
    if (k->ok)
        k->hash = XXH3_64bits_withSeed(k->buf, k->len, m->seed);
}

const struct hp_http_verdict *hp_http_memo_get(struct hp_http_memo *m, const struct hp_http_memo_key *k)
{
    if (!m)
        return NULL;
    const struct memo_slot *s = k->ok ? m->slot[k->hash & m->mask] : NULL;
    if (s && s->hash == k->hash && s->len == k->len && memcmp(s->key, k->buf, k->len) == 0) {
        m->hits++;
        return &s->vd;
    }
    m->misses++;
    return NULL;
}

void hp_http_memo_put(struct hp_http_memo *m, const struct hp_http_memo_key *k, const struct hp_http_verdict *vd)
{
    if (!m || !k->ok)
        return;
    struct memo_slot **sp = &m->slot[k->hash & m->mask];
    if (!*sp)
        *sp = hp_xcalloc(1, sizeof(**sp));
    struct memo_slot *s = *sp;
    if (s->len != k->len || !s->key) {
        free(s->key);
        s->key = hp_xcalloc(1, k->len ? k->len : 1);
    }
    memcpy(s->key, k->buf, k->len);
    s->len = k->len;
    s->hash = k->hash;
    /* the classification's command buffer is large and mostly empty */
    s->vd.resp = vd->resp;
    s->vd.no_urls = vd->no_urls;
    memcpy(&s->vd.wc, &vd->wc, offsetof(struct hp_webclass, commands));
    memcpy(s->vd.wc.commands, vd->wc.commands, vd->wc.commands_len + 1);
    s->vd.wc.commands_len = vd->wc.commands_len;
}

void hp_http_memo_stats(const struct hp_http_memo *m, uint64_t *hits, uint64_t *misses)
{
    *hits = m->hits;
    *misses = m->misses;
}
