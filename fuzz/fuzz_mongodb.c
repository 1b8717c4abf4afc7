/*
 * fuzz_mongodb.c - the MongoDB emulation (src/proto/mongodb.c) on hostile
 * input: the wire framing, OP_MSG sections, OP_QUERY, the BSON reader and
 * validator, the JSON rendering for events and every command handler,
 * through a whole session fed in pieces.  The first byte picks the claimed
 * version and the piece size.  The input is also run through the BSON
 * functions directly.  Invariants: nothing is consumed beyond the input, a
 * document the validator accepts can be rendered; no crash, no leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "event.h"
#include "reader.h"
#include "proto/mongodb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const versions[] = {"4.4.29", "5.0.26", "6.0.14", "4.4.18"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    data++, size--;
    hp_mongo_set_version(versions[sel & 3]);
    struct hp_mongo_conf conf = {.version = (char *)versions[sel & 3], .port = 27017};
    struct hp_evctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.protocol = "mongodb";
    struct hp_mongo_sess *s = hp_mongo_sess_new(&conf, &ctx);
    struct hp_buf in, out;
    hp_buf_init(&in, 16 * 1024 * 1024);
    hp_buf_init(&out, 64 * 1024 * 1024);
    size_t chunk = 1 + (size_t)(sel >> 2) * 13;
    for (size_t off = 0; off < size;) {
        size_t n = size - off < chunk ? size - off : chunk;
        hp_buf_put(&in, data + off, n);
        off += n;
        struct hp_rd r;
        hp_rd_init(&r, in.data, in.len);
        hp_buf_reset(&out);
        bool closed = hp_mongo_feed(s, &r, &out);
        if (hp_rd_pos(&r) > in.len)
            abort();
        hp_buf_consume(&in, hp_rd_pos(&r));
        if (closed)
            break;
    }
    hp_mongo_sess_end(s);
    hp_mongo_sess_free(s);
    if (hp_bson_valid(data, size, HP_MONGO_MAX_DEPTH)) {
        struct hp_buf j;
        hp_buf_init(&j, 1024 * 1024);
        hp_bson_json(data, size, &j, HP_MONGO_MAX_DEPTH);
        hp_buf_free(&j);
    }
    hp_buf_free(&in);
    hp_buf_free(&out);
    return 0;
}
