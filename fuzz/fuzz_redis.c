/*
 * fuzz_redis.c - the Redis emulation (src/proto/redis.c) on hostile input:
 * the RESP / inline parser and a whole session (every command handler, the
 * keyspace, CONFIG, SAVE's file, INFO), fed in pieces as it would arrive.
 * The first byte picks the claimed version and whether a password is set.
 * Invariants: the parser never consumes more than it was given and never
 * claims a command from a prefix it rejected; fed in pieces (keeping its
 * place across reads, hp_redis_parse_next) it cuts the same commands with
 * the same arguments as parsing the whole input at once; nothing crashes
 * or leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "event.h"
#include "reader.h"
#include "proto/redis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const versions[] = {"5.0.14", "6.0.16", "6.2.14", "7.0.15"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    data++, size--;
    hp_redis_set_version(versions[sel & 3]);
    struct hp_redis_conf conf = {.version = (char *)versions[sel & 3],
                                 .requirepass = (sel & 4) ? (char *)"pw" : NULL, .port = 6379};
    struct hp_evctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.protocol = "redis";
    struct hp_redis_sess *s = hp_redis_sess_new(&conf, &ctx, "192.0.2.1:1234");
    struct hp_buf in, out;
    hp_buf_init(&in, 8 * 1024 * 1024);
    hp_buf_init(&out, 16 * 1024 * 1024);
    size_t chunk = 1 + (sel >> 3) * 7;
    for (size_t off = 0; off < size;) {
        size_t n = size - off < chunk ? size - off : chunk;
        hp_buf_put(&in, data + off, n);
        off += n;
        struct hp_rd r;
        hp_rd_init(&r, in.data, in.len);
        hp_buf_reset(&out);
        bool closed = hp_redis_feed(s, &r, &out);
        if (hp_rd_pos(&r) > in.len)
            abort();
        hp_buf_consume(&in, hp_rd_pos(&r));
        if (closed)
            break;
    }
    hp_redis_sess_free(s);
    /* the parser alone on the whole input */
    static struct hp_redis_cmd cmd;
    struct hp_rd r;
    hp_rd_init(&r, data, size);
    char err[128];
    for (int i = 0; i < 10000; i++) {
        size_t before = hp_rd_pos(&r);
        int rc = hp_redis_parse(&r, &cmd, err, sizeof(err));
        if (rc <= 0 || hp_rd_pos(&r) == before)
            break;
    }
    /* the same input in pieces: the same commands, the same bytes */
    static struct hp_redis_cmd piece;
    piece.part.seen = 0;                        /* not the input the last run waited on */
    size_t whole_at = 0, fed = 0;
    struct hp_rd w;
    hp_rd_init(&w, data, size);
    for (int i = 0; i < 10000; i++) {
        size_t before = hp_rd_pos(&w);
        int rc = hp_redis_parse(&w, &cmd, err, sizeof(err));
        int rp;
        struct hp_rd p;
        do {                                    /* more bytes until the pieces give an answer */
            fed = fed + chunk < size ? fed + chunk : size;
            hp_rd_init(&p, data + whole_at, fed - whole_at);
            rp = hp_redis_parse_next(&p, &piece, err, sizeof(err));
        } while (rp == 0 && fed < size);
        if ((rc > 0) != (rp > 0) || (rc < 0) != (rp < 0))
            abort();
        if (rc <= 0 || hp_rd_pos(&w) == before)
            break;
        if (piece.argc != cmd.argc || before + hp_rd_pos(&p) != hp_rd_pos(&w))
            abort();
        for (size_t a = 0; a < cmd.argc; a++)
            if (piece.argl[a] != cmd.argl[a] || memcmp(piece.argv[a], cmd.argv[a], cmd.argl[a]) != 0)
                abort();
        whole_at = hp_rd_pos(&w);
        if (fed < whole_at)
            fed = whole_at;
    }
    hp_buf_free(&in);
    hp_buf_free(&out);
    return 0;
}
