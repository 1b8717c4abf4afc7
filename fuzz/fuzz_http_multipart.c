/*
 * fuzz_http_multipart.c - multipart/form-data parsing (src/proto/http_multipart.c).
 * Input: a Content-Type line, a newline, then the body.  Invariants: every
 * span a part reports lies inside the input, parts never overlap and come in
 * order, and there are at most HP_MP_PARTS_MAX of them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proto/http_multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *lo, *hi, *last_end;

static void inside(struct hp_bytes b)
{
    if (b.n && (b.p < lo || b.p + b.n > hi))
        abort();
}

static bool check(void *arg, const struct hp_mp_part *p)
{
    inside(p->name);
    inside(p->filename);
    inside(p->content_type);
    inside(p->data);
    if (p->data.n && p->data.p < last_end)
        abort();
    if (p->data.n)
        last_end = p->data.p + p->data.n;
    (*(size_t *)arg)++;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl)
        return 0;
    /* copy so that reads past the end are caught by ASan */
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct hp_bytes ct = { buf, (size_t)(nl - data) }, body = { buf + ct.n + 1, size - ct.n - 1 }, b;
    lo = buf;
    hi = buf + size;
    last_end = body.p;
    if (hp_mp_boundary(ct, &b)) {
        inside(b);
        size_t n = 0;
        size_t got = hp_mp_parse(body, b, check, &n);
        if (got != n || got > HP_MP_PARTS_MAX)
            abort();
    }
    free(buf);
    return 0;
}
