/*
 * fuzz_dash_query.c - libFuzzer harness for the dashboard's query-string
 * parser (src/web/dash_query.c) and its time parser.
 *
 * Input: the query string as a browser or script would send it (NUL bytes
 * end it, as they would in evhttp's parsed URI).  Checked beyond "no crash":
 * an accepted query yields a sane range (from < to, at most 400 days),
 * bounded limit/offset, and text values that are NUL-terminated, within
 * their buffers and valid UTF-8; a rejected one leaves a message.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "web/dash_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *qs = malloc(size + 1);
    if (!qs)
        return 0;
    memcpy(qs, data, size);
    qs[size] = '\0';
    struct hp_dq q;
    char err[200] = "";
    const int64_t now = 1796400000LL * 1000000;
    if (hp_dq_parse(qs, now, &q, err, sizeof(err)) == 0) {
        assert(q.from_us < q.to_us && q.to_us - q.from_us <= HP_DQ_MAX_RANGE_US);
        assert(q.limit >= 1 && q.limit <= HP_DQ_MAX_LIMIT && q.offset <= HP_DQ_MAX_OFFSET);
        const char *texts[] = { q.username, q.password, q.command, q.ip, q.protocol, q.dim, q.cc, q.sensor };
        const size_t caps[] = { sizeof(q.username), sizeof(q.password), sizeof(q.command), sizeof(q.ip),
                                sizeof(q.protocol), sizeof(q.dim), sizeof(q.cc), sizeof(q.sensor) };
        for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
            size_t n = strnlen(texts[i], caps[i]);
            assert(n < caps[i]);
            assert(hp_utf8_valid(texts[i], n));
        }
        if (q.have & HP_DQ_DIM)
            assert(hp_dq_known_dim(q.dim));
        if (q.have & HP_DQ_SENSOR)             /* a fleet's filter: never empty, at most a sensor name */
            assert(q.sensor[0] && strlen(q.sensor) <= HP_DQ_SENSOR_MAX);
    } else {
        assert(err[0]);
    }
    int64_t us;
    (void)hp_dq_parse_time(qs, &us);
    char out[64];
    (void)hp_dq_unescape(qs, size < strlen(qs) ? size : strlen(qs), out, sizeof(out));
    free(qs);
    return 0;
}
