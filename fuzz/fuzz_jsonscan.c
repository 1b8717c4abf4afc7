/*
 * fuzz_jsonscan.c - libFuzzer harness for the event JSON scanner (src/store/jsonscan.c).
 *
 * The input is the JSON text.  The scanner looks up a fixed set of member
 * names (those the roll-ups read, plus "" and names that only differ in
 * length) and decodes every string it finds, each list element, and every
 * value through the small buffers the roll-ups use.  Whatever the input,
 * nothing may be read outside it (the fuzzer's own allocation, so ASan
 * sees any over-read) and every decode must stay inside its buffer.
 *
 * It is also a differential test against jansson: when jansson accepts the
 * input as an object without duplicate keys, the scanner must accept it too,
 * find exactly the members jansson has, and decode each string member to
 * the same bytes (up to the buffer size).
 *
 * The key index (hp_jscan_members_at, event.h): with the offsets of the
 * top-level keys of a well-formed object it finds exactly what the scan
 * finds; with offsets taken from the input bytes it reads nothing outside.
 *
 * The same input, as an event's JSON, also goes through the ClickHouse
 * output's hot values (hp_ch_row_hot(), built on the scanner): the RowBinary
 * it appends must walk back column by column to exactly its length.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "event.h"
#include "reader.h"
#include "store/chschema.h"
#include "store/clickhouse.h"
#include "store/jsonscan.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const char *const names[] = {
    "username", "password", "cves", "ja3", "", "a", "ab", "input", "src_asn", "user_agent",
};
#define NN (sizeof(names) / sizeof(names[0]))

static void decode_all(const struct hp_jval *v, size_t cap)
{
    char *out = malloc(cap);
    size_t n = hp_jscan_str(v, out, cap);
    CHECK(n < cap && out[n] == '\0');
    hp_jscan_is_int(v);
    size_t pos = 0;
    struct hp_jval el;
    for (int i = 0; i < 1000 && hp_jscan_elem(v, &pos, &el); i++) {
        CHECK(el.p >= v->p && el.p + el.n <= v->p + v->n);
        n = hp_jscan_str(&el, out, cap);
        CHECK(n < cap);
    }
    free(out);
}

/* Deepest bracket nesting of valid JSON text (strings skipped). */
static int nesting(const char *t, size_t n)
{
    int depth = 0, max = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '"') {
            for (i++; i < n && t[i] != '"'; i++)
                if (t[i] == '\\')
                    i++;
        } else if (t[i] == '{' || t[i] == '[') {
            if (++depth > max)
                max = depth;
        } else if (t[i] == '}' || t[i] == ']') {
            depth--;
        }
    }
    return max;
}

/* True if the text has the member name written without escapes. */
static bool written_plain(const char *t, size_t n, const char *name)
{
    char quoted[32];
    int k = snprintf(quoted, sizeof(quoted), "\"%s\"", name);
    return memmem(t, n, quoted, (size_t)k) != NULL;
}

static uint64_t rd_leb(struct hp_rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b = hp_rd_u8(r);
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    return v;
}

static void check_hot_row(const uint8_t *data, size_t size)
{
    if (size > HP_EVENT_MAX)
        return;
    struct hp_event *e = calloc(1, sizeof(*e) + size + 1);
    memcpy(e->json, data, size);
    e->json_len = size;
    struct hp_buf b, scratch;
    hp_buf_init(&b, 4 * size + 4096);
    hp_buf_init(&scratch, HP_EVENT_MAX + 1);
    hp_ch_row_hot(&b, e, &scratch);
    CHECK(hp_buf_ok(&b));
    struct hp_rd r;
    hp_rd_init(&r, b.data, b.len);
    for (size_t i = 0; i < hp_chs_ncols; i++) {
        if (hp_chs_cols[i].kind == HP_CHS_LIST) {
            for (uint64_t k = rd_leb(&r); k > 0 && hp_rd_ok(&r); k--)
                hp_rd_skip(&r, rd_leb(&r));
        } else if (hp_rd_u8(&r) == 0) {
            if (hp_chs_cols[i].kind == HP_CHS_INT)
                hp_rd_skip(&r, 8);
            else
                hp_rd_skip(&r, rd_leb(&r));
        }
    }
    CHECK(hp_rd_ok(&r) && hp_rd_left(&r) == 0);
    hp_buf_free(&b);
    hp_buf_free(&scratch);
    free(e);
}

/* The offsets of the top-level keys of a well-formed object, as the event
 * builder's key index has them (event.h); 0 when there are more than cap. */
static size_t top_keys(const char *t, size_t n, uint32_t *keys, size_t cap)
{
    size_t nk = 0;
    int depth = 0;
    bool expect_key = false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (c == '"') {
            if (depth == 1 && expect_key) {
                if (nk == cap)
                    return 0;
                keys[nk++] = (uint32_t)i;
            }
            expect_key = false;
            for (i++; i < n && t[i] != '"'; i++)
                if (t[i] == '\\')
                    i++;
        } else if (c == '{' || c == '[') {
            expect_key = ++depth == 1;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == ',') {
            expect_key = depth == 1;
        }
    }
    return nk;
}

/* The key index gives what the scan gives; offsets that lead nowhere are
 * refused without a read outside the text. */
static void check_key_index(const char *text, size_t size, int rc, const struct hp_jval *vals)
{
    struct hp_jval v2[NN];
    uint32_t keys[256];
    size_t nk = rc == 0 ? top_keys(text, size, keys, 256) : 0;
    if (nk) {
        CHECK(hp_jscan_members_at(text, size, keys, nk, names, NN, v2) == 0);
        for (size_t i = 0; i < NN; i++)
            CHECK(v2[i].type == vals[i].type && v2[i].p == vals[i].p && v2[i].n == vals[i].n);
    }
    uint32_t odd[4] = { 0 };
    for (size_t i = 0; i < 4 && i < size; i++)
        odd[i] = (uint32_t)((uint8_t)text[i] * 7u + (uint32_t)i);
    if (hp_jscan_members_at(text, size, odd, 4, names, NN, v2) == 0)
        for (size_t i = 0; i < NN; i++)
            CHECK(v2[i].type == HP_J_NONE || (v2[i].p >= text && v2[i].p + v2[i].n <= text + size));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_hot_row(data, size);
    struct hp_jval vals[NN];
    const char *text = (const char *)data;
    int rc = hp_jscan_members(text, size, names, NN, vals);
    for (size_t i = 0; i < NN; i++) {
        if (vals[i].type == HP_J_NONE)
            continue;
        CHECK(rc == 0);
        CHECK(vals[i].p >= text && vals[i].p + vals[i].n <= text + size);
        decode_all(&vals[i], 1);
        decode_all(&vals[i], 5);
        decode_all(&vals[i], 1100);
    }
    check_key_index(text, size, rc, vals);

    json_t *doc = json_loadb(text, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    /* Keys are matched as written (our builder never escapes one), nesting is
     * limited, and jansson stops at a raw NUL byte (JSON never has one), so
     * inputs with any of these are not compared. */
    if (json_is_object(doc) && nesting(text, size) <= HP_JSCAN_DEPTH && !memchr(text, 0, size)) {
        CHECK(rc == 0);
        for (size_t i = 0; i < NN; i++) {
            json_t *j = json_object_get(doc, names[i]);
            if (vals[i].type != HP_J_NONE)
                CHECK(j != NULL);
            else if (j && written_plain(text, size, names[i]))
                abort();
            if (vals[i].type == HP_J_NONE)
                continue;
            if (!json_is_string(j))
                continue;
            CHECK(vals[i].type == HP_J_STR);
            char out[1100];
            size_t n = hp_jscan_str(&vals[i], out, sizeof(out));
            size_t jn = json_string_length(j);
            CHECK(n == jn || (jn >= sizeof(out) - 4 && n >= sizeof(out) - 4));
            CHECK(memcmp(out, json_string_value(j), n) == 0);
        }
    }
    json_decref(doc);
    return 0;
}
