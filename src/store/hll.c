/*
 * hll.c - mergeable distinct counts (see hll.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hll.h"
#include "util.h"

uint64_t hp_hll_hash(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    /* splitmix64's finaliser: FNV alone leaves the top bits poorly mixed. */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

static void to_dense(struct hp_hll *s);

static void dense_add(struct hp_hll *s, uint64_t h)
{
    uint32_t idx = (uint32_t)(h >> (64 - HP_HLL_P));
    uint64_t rest = h << HP_HLL_P;
    uint8_t rho = rest ? (uint8_t)(__builtin_clzll(rest) + 1) : (uint8_t)(64 - HP_HLL_P + 1);
    if (rho > s->reg[idx])
        s->reg[idx] = rho;
}

void hp_hll_add_hash(struct hp_hll *s, uint64_t h)
{
    if (s->dense) {
        dense_add(s, h);
        return;
    }
    for (uint16_t i = 0; i < s->n; i++)
        if (s->h[i] == h)
            return;
    if (s->n == HP_HLL_SPARSE_MAX) {
        to_dense(s);
        dense_add(s, h);
        return;
    }
    if (!s->h)
        s->h = hp_xcalloc(HP_HLL_SPARSE_MAX, sizeof(*s->h));
    s->h[s->n++] = h;
}

static void to_dense(struct hp_hll *s)
{
    s->reg = hp_xcalloc(HP_HLL_REGS, 1);
    s->dense = 1;
    for (uint16_t i = 0; i < s->n; i++)
        dense_add(s, s->h[i]);
    free(s->h);
    s->h = NULL;
    s->n = 0;
}

void hp_hll_add(struct hp_hll *s, const void *data, size_t len)
{
    hp_hll_add_hash(s, hp_hll_hash(data, len));
}

void hp_hll_merge_blob(struct hp_hll *s, const void *blob, size_t len)
{
    const uint8_t *b = blob;
    if (len >= 1 && b[0] == 'S' && (len - 1) % 8 == 0 && (len - 1) / 8 <= HP_HLL_SPARSE_MAX) {
        for (size_t i = 1; i + 8 <= len; i += 8) {
            uint64_t h;
            memcpy(&h, b + i, 8);
            hp_hll_add_hash(s, h);
        }
    } else if (len == 1 + HP_HLL_REGS && b[0] == 'D') {
        if (!s->dense)
            to_dense(s);
        for (size_t i = 0; i < HP_HLL_REGS; i++)
            if (b[1 + i] > s->reg[i])
                s->reg[i] = b[1 + i];
    }
}

uint64_t hp_hll_count(const struct hp_hll *s)
{
    if (!s->dense)
        return s->n;
    double m = HP_HLL_REGS, sum = 0;
    unsigned zeros = 0;
    for (size_t i = 0; i < HP_HLL_REGS; i++) {
        sum += ldexp(1.0, -(int)s->reg[i]);
        zeros += s->reg[i] == 0;
    }
    double est = (0.7213 / (1.0 + 1.079 / m)) * m * m / sum;
    if (est <= 2.5 * m && zeros)
        est = m * log(m / zeros);        /* linear counting for the small range */
    return (uint64_t)(est + 0.5);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

size_t hp_hll_blob(const struct hp_hll *s, uint8_t *out)
{
    if (s->dense) {
        out[0] = 'D';
        memcpy(out + 1, s->reg, HP_HLL_REGS);
        return 1 + HP_HLL_REGS;
    }
    if (!s->n)
        return 0;
    qsort(s->h, s->n, sizeof(*s->h), cmp_u64);   /* same set, same bytes */
    out[0] = 'S';
    memcpy(out + 1, s->h, (size_t)s->n * 8);
    return 1 + (size_t)s->n * 8;
}

void hp_hll_free(struct hp_hll *s)
{
    free(s->h);
    free(s->reg);
    memset(s, 0, sizeof(*s));
}

/* ---- SQL functions ------------------------------------------------------------------ */

static void merge_value(struct hp_hll *s, sqlite3_value *v)
{
    if (sqlite3_value_type(v) == SQLITE_BLOB)
        hp_hll_merge_blob(s, sqlite3_value_blob(v), (size_t)sqlite3_value_bytes(v));
}

static void result_blob(sqlite3_context *ctx, struct hp_hll *s)
{
    uint8_t buf[1 + HP_HLL_REGS];
    size_t n = hp_hll_blob(s, buf);
    if (n)
        sqlite3_result_blob(ctx, buf, (int)n, SQLITE_TRANSIENT);
    else
        sqlite3_result_null(ctx);
}

static void sql_union(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct hp_hll s = { 0 };
    for (int i = 0; i < argc; i++)
        merge_value(&s, argv[i]);
    result_blob(ctx, &s);
    hp_hll_free(&s);
}

static void agg_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct hp_hll *s = sqlite3_aggregate_context(ctx, sizeof(*s));
    if (s && argc == 1)
        merge_value(s, argv[0]);
}

static void agg_merge_final(sqlite3_context *ctx)
{
    struct hp_hll *s = sqlite3_aggregate_context(ctx, 0);
    if (!s) {
        sqlite3_result_null(ctx);
        return;
    }
    result_blob(ctx, s);
    hp_hll_free(s);
}

static void agg_count_final(sqlite3_context *ctx)
{
    struct hp_hll *s = sqlite3_aggregate_context(ctx, 0);
    sqlite3_result_int64(ctx, s ? (sqlite3_int64)hp_hll_count(s) : 0);
    if (s)
        hp_hll_free(s);
}

int hp_hll_register(sqlite3 *db)
{
    int f = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
    if (sqlite3_create_function(db, "hll_union", 2, f, NULL, sql_union, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(db, "hll_merge", 1, f, NULL, NULL, agg_step, agg_merge_final) != SQLITE_OK ||
        sqlite3_create_function(db, "hll_count", 1, f, NULL, NULL, agg_step, agg_count_final) != SQLITE_OK)
        return -1;
    return 0;
}
