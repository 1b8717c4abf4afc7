/*
 * fuzz_event_json.c - libFuzzer harness for JSON escaping (src/core/json.c) and
 * the event builder (src/core/event.c).
 *
 * 1. The whole input goes through hp_json_str, hp_utf8_valid and hp_b64_put
 *    and is compared with the independent reference in tests/unit/json_check.h:
 *    the output is one valid JSON string without raw controls/DEL/U+2028/9,
 *    C1 controls or bidirectional overrides,
 *    "lossless" equals the reference UTF-8 validity, and the string decodes
 *    to exactly the input (lossless) or to the input with each invalid byte
 *    replaced by U+FFFD; the base64 equals the reference encoding.
 * 2. The input also drives an event: a little program of builder calls
 *    (bytes/str/int/uint/double/bool/b64 fields with fixed or input-derived
 *    keys, nested objects and arrays opened and closed at will, payloads
 *    around HP_EVENT_MAX to hit the limit), then hp_ev_finish.  The JSON must be valid
 *    and safe, no longer than HP_EVENT_MAX, start with the common fields in
 *    order, and every recorded top-level field must be there with exactly the
 *    input bytes (decoded when lossless, its "<key>_b64" when not), unless the
 *    event says "truncated":true, which must then be its last member.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "event.h"
#include "json.h"
#include "../tests/unit/json_check.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct in {
    const uint8_t *p;
    size_t n;
};

static uint8_t take8(struct in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static uint64_t take64(struct in *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | take8(in);
    return v;
}

static const uint8_t *take(struct in *in, size_t want, size_t *got)
{
    const uint8_t *p = in->p;
    *got = want < in->n ? want : in->n;
    in->p += *got;
    in->n -= *got;
    return p;
}

/* ---- part 1: hp_json_str / hp_utf8_valid / base64 against the reference -------- */

static void check_string(const uint8_t *data, size_t size)
{
    /* reference: the text hp_json_str must encode */
    uint8_t *expect = malloc(size * 3 + 1);
    size_t en = 0;
    bool valid = true;
    for (size_t i = 0; i < size;) {
        size_t l = jc_utf8_len(data + i, size - i);
        if (l) {
            memcpy(expect + en, data + i, l);
            en += l;
            i += l;
        } else {
            memcpy(expect + en, "\xef\xbf\xbd", 3);
            en += 3;
            i++;
            valid = false;
        }
    }
    CHECK(hp_utf8_valid(data, size) == valid);

    struct hp_buf b;
    hp_buf_init(&b, 8 * size + 16);
    bool lossless = hp_json_str(&b, data, size);
    CHECK(hp_buf_ok(&b));
    CHECK(lossless == valid);
    CHECK(jc_valid((const char *)b.data, b.len));
    CHECK(jc_safe_text((const char *)b.data, b.len));
    size_t dl;
    uint8_t *dec = jc_decode_str((const char *)b.data, b.len, &dl);
    CHECK(dec != NULL);
    CHECK(dl == en && memcmp(dec, expect, en) == 0);
    free(dec);

    /* the same into a buffer that is too small: refused, nothing overflows */
    if (b.len > 2) {
        struct hp_buf small;
        hp_buf_init(&small, b.len - 1);
        hp_json_str(&small, data, size);
        CHECK(!hp_buf_ok(&small));
        CHECK(small.len <= b.len - 1);
        hp_buf_free(&small);
    }

    hp_buf_reset(&b);
    hp_b64_put(&b, data, size);
    char *ref = jc_b64(data, size);
    CHECK(hp_buf_ok(&b));
    CHECK(b.len == strlen(ref) && memcmp(b.data, ref, b.len) == 0);
    free(ref);
    hp_buf_free(&b);
    free(expect);
}

/* ---- part 2: the event builder ---------------------------------------------------- */

#define MAXREC 64
#define MAXDEPTH (HP_EV_MAXDEPTH - 1)     /* deeper would be a programming error (abort) */

struct rec {
    char key[16];
    const uint8_t *data;
    size_t len;
};

static const char *const fixed_keys[] = { "a", "payload", "x\"y", "tab\tkey", "\xc3\xa9t\xc3\xa9", "k\xff" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256 * 1024)
        return 0;
    check_string(data, size);

    struct in in = { data, size };
    struct hp_evctx ctx;
    struct hp_ev ev;
    struct rec rec[MAXREC];
    uint8_t *bigs[3];
    int nrec = 0, nbig = 0, nfield = 0;
    char stack[16];                    /* 'o' or 'a' per open container, incl. dropped ones */
    int depth = 0;
    uint8_t mode = take8(&in);

    memset(&ctx, 0, sizeof(ctx));
    strcpy(ctx.session, "00112233aabb");
    ctx.protocol = "trap";
    ctx.service = (mode & 2) ? "svc" : NULL;
    ctx.transport = "tcp";
    strcpy(ctx.src_ip, "198.51.100.7");
    strcpy(ctx.dst_ip, "::1");
    ctx.src_port = 40000;
    ctx.dst_port = 23;
    hp_ev_begin(&ev, (mode & 1) ? &ctx : NULL, "fuzz.event");

    int steps = 0;
    while (in.n > 0 && steps++ < 300) {
        uint8_t op = take8(&in);
        bool in_arr = depth > 0 && stack[depth - 1] == 'a';
        bool top = depth == 0;
        char keybuf[80];
        const char *key;
        /* choose the key: none inside arrays, "f<N>" for recorded top-level fields */
        if (in_arr) {
            key = NULL;
        } else if (top) {
            snprintf(keybuf, sizeof(keybuf), "f%d", nfield++);
            key = keybuf;
        } else if (op & 0x80) {
            /* a key from the input, prefixed so that it cannot look like "f<N>" */
            size_t kl;
            const uint8_t *kp = take(&in, take8(&in) % 70, &kl);
            keybuf[0] = 'x';
            memcpy(keybuf + 1, kp, kl);
            keybuf[1 + kl] = '\0';
            key = keybuf;
        } else {
            key = fixed_keys[op % (sizeof(fixed_keys) / sizeof(fixed_keys[0]))];
        }
        const uint8_t *p = NULL;
        size_t n = 0;
        bool record = false;
        switch (op & 0x0f) {
        case 0: case 1:                              /* bytes, short */
            p = take(&in, take8(&in), &n);
            hp_ev_bytes(&ev, key, p, n);
            record = true;
            break;
        case 2: {                                    /* bytes, length from two bytes */
            size_t want = (size_t)take8(&in) << 8;
            want |= take8(&in);
            p = take(&in, want, &n);
            hp_ev_bytes(&ev, key, p, n);
            record = true;
            break;
        }
        case 3: {                                    /* NUL-terminated copy through hp_ev_str */
            const uint8_t *s = take(&in, take8(&in), &n);
            char *c = malloc(n + 1);
            memcpy(c, s, n);
            c[n] = '\0';
            hp_ev_str(&ev, key, c);
            free(c);
            p = s;
            n = strnlen((const char *)s, n);
            record = true;
            break;
        }
        case 4: {                                    /* a big payload: a pattern repeated */
            if (nbig >= 3)
                break;
            size_t pl;
            const uint8_t *pat = take(&in, 1 + take8(&in) % 16, &pl);
            /* 64 B .. 16 KiB; when the mode byte says so the first one is
             * HP_EVENT_MAX +- 2 KiB, around the exact limit (slow: escaping
             * 1 MB takes milliseconds under the sanitizers, so only for a
             * small share of the inputs; 2 MB is in tests/unit/test_json.c) */
            size_t sz = take8(&in);
            size_t total = (mode & 0xf8) == 0xf8 && nbig == 0 ? HP_EVENT_MAX - 2048 + sz * 16 : (sz + 1) * 64;
            if (!pl)
                break;
            uint8_t *big = malloc(total);
            size_t have = pl < total ? pl : total;
            memcpy(big, pat, have);
            while (have < total) {                   /* double the filled prefix */
                size_t k = have < total - have ? have : total - have;
                memcpy(big + have, big, k);
                have += k;
            }
            bigs[nbig++] = big;
            hp_ev_bytes(&ev, key, big, total);
            p = big;
            n = total;
            record = true;
            break;
        }
        case 5:
            hp_ev_int(&ev, key, (int64_t)take64(&in));
            break;
        case 6:
            hp_ev_uint(&ev, key, take64(&in));
            break;
        case 7: {
            uint64_t bits = take64(&in);
            double d;
            memcpy(&d, &bits, sizeof(d));
            hp_ev_double(&ev, key, d);
            break;
        }
        case 8:
            hp_ev_bool(&ev, key, take8(&in) & 1);
            break;
        case 9:
            p = take(&in, take8(&in), &n);
            hp_ev_b64(&ev, key, p, n);
            break;
        case 10:
            hp_ev_str(&ev, key, NULL);
            break;
        case 11: case 12:                            /* open a container */
            if (depth >= MAXDEPTH)
                break;
            if ((op & 0x0f) == 11)
                hp_ev_obj_begin(&ev, key);
            else
                hp_ev_arr_begin(&ev, key);
            stack[depth++] = (op & 0x0f) == 11 ? 'o' : 'a';
            break;
        case 13: case 14:                            /* close one */
            if (depth == 0)
                break;
            if (stack[--depth] == 'o')
                hp_ev_obj_end(&ev);
            else
                hp_ev_arr_end(&ev);
            break;
        default:                                     /* array elements */
            if (!in_arr)
                break;
            if (op & 0x10) {
                hp_ev_elem_int(&ev, (int64_t)take64(&in));
            } else {
                const uint8_t *s = take(&in, take8(&in), &n);
                char *c = malloc(n + 1);
                memcpy(c, s, n);
                c[n] = '\0';
                hp_ev_elem_str(&ev, c);
                free(c);
            }
            break;
        }
        if (record && top && nrec < MAXREC) {
            snprintf(rec[nrec].key, sizeof(rec[nrec].key), "%s", key);
            rec[nrec].data = p;
            rec[nrec].len = n;
            nrec++;
        }
    }
    /* containers left open are closed by hp_ev_finish */
    struct hp_event *e = hp_ev_finish(&ev);
    CHECK(e != NULL);
    CHECK(e->json_len == strlen(e->json));
    CHECK(e->json_len <= HP_EVENT_MAX);
    CHECK(jc_valid(e->json, e->json_len));
    CHECK(jc_safe_text(e->json, e->json_len));

    static struct jc_member m[700];          /* 300 steps x (field + _b64) + common fields */
    int nm = jc_members(e->json, e->json_len, m, (int)(sizeof(m) / sizeof(m[0])));
    CHECK(nm >= 4);
    static const char *const common[] = { "timestamp", "eventid", "uid", "sensor", "session", "protocol",
                                          "service", "transport", "src_ip", "src_port", "dst_ip", "dst_port" };
    int ci = 0;
    for (int i = 0; i < 12; i++) {
        if (!(mode & 1) && i >= 4)
            break;
        if (i == 6 && !(mode & 2))
            continue;                                /* service left NULL */
        CHECK(strcmp(m[ci++].key, common[i]) == 0);
    }
    CHECK(m[1].vlen == 12 && memcmp(m[1].val, "\"fuzz.event\"", 12) == 0);

    const struct jc_member *tr = jc_find(m, nm, "truncated");
    bool truncated = tr != NULL;
    if (truncated) {
        CHECK(tr == &m[nm - 1]);
        CHECK(tr->vlen == 4 && memcmp(tr->val, "true", 4) == 0);
    }
    for (int i = 0; i < nrec; i++) {
        const struct jc_member *f = jc_find(m, nm, rec[i].key);
        if (!f) {
            CHECK(truncated);
            continue;
        }
        size_t dl;
        uint8_t *dec = jc_decode_str(f->val, f->vlen, &dl);
        CHECK(dec != NULL);
        char k2[32];
        snprintf(k2, sizeof(k2), "%s_b64", rec[i].key);
        const struct jc_member *b = jc_find(m, nm, k2);
        if (hp_utf8_valid(rec[i].data, rec[i].len)) {
            CHECK(dl == rec[i].len && (dl == 0 || memcmp(dec, rec[i].data, dl) == 0));
            CHECK(b == NULL);
        } else if (!b) {
            CHECK(truncated);
        } else {
            CHECK(b == f + 1);                       /* right after its field */
            char *ref = jc_b64(rec[i].data, rec[i].len);
            size_t rl = strlen(ref);
            CHECK(b->vlen == rl + 2 && memcmp(b->val + 1, ref, rl) == 0);
            free(ref);
        }
        free(dec);
    }
    hp_event_unref(e);
    for (int i = 0; i < nbig; i++)
        free(bigs[i]);
    return 0;
}
