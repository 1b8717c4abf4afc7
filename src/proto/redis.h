/*
 * redis.h - the Redis emulation (src/proto/redis.c), split so that unit
 * tests and the fuzzer can drive the parser and a whole session without a
 * socket.
 *
 *   hp_redis_parse     one command from the input (RESP2 multibulk or an
 *                      inline line), with the real server's error texts;
 *                      hp_redis_parse_next the same across reads
 *   hp_redis_sess_*    a connection's state: feed it input, read the reply
 *                      bytes from 'out', stop when it says close
 */
#ifndef HP_REDIS_H
#define HP_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "event.h"
#include "reader.h"

#define HP_REDIS_MAX_ARGS    1024           /* arguments of one command */
#define HP_REDIS_MAX_BULK    (512 * 1024)   /* one bulk string */
#define HP_REDIS_MAX_CMD     (1024 * 1024)  /* one whole command */
#define HP_REDIS_INLINE_MAX  (64 * 1024)    /* the real server's PROTO_INLINE_MAX_SIZE */

/* Where hp_redis_parse_next stopped in a command that is not complete, so
 * that the next read goes on from there: re-read from its start, a command
 * trickled in a byte per read cost its count lines (up to 1024) per byte. */
struct hp_redis_part {
    bool started;                            /* the multibulk count is read */
    long long n;                             /* that count */
    size_t done;                             /* arguments complete */
    long long bl;                            /* the next one's length, -1: its line not read */
    size_t off;                              /* input offset of what is not read yet */
    size_t scan;                             /* bytes from off known to hold no line end */
    size_t total;                            /* bytes of the arguments complete */
    size_t seen;                             /* input length at the last call */
    bool nul;                                /* waiting on a NUL before a line end (for good) */
    size_t argo[HP_REDIS_MAX_ARGS];          /* argument offsets in the input */
};

struct hp_redis_cmd {
    size_t argc;
    const uint8_t *argv[HP_REDIS_MAX_ARGS];  /* into the input or into scratch */
    size_t argl[HP_REDIS_MAX_ARGS];
    bool is_inline;
    struct hp_buf scratch;                   /* unescaped inline arguments */
    struct hp_redis_part part;
};

/*
 * Parse one command at the reader's position.  Returns 1 with the reader
 * advanced past it (argc may be 0: an empty line or "*0", which the server
 * skips), 0 when more input is needed (nothing consumed), or -1 on a
 * protocol error with "Protocol error: ..." in err (the server replies
 * "-ERR " err and closes).  argv points into the reader's buffer or into
 * cmd->scratch: valid until the next call.
 */
int hp_redis_parse(struct hp_rd *in, struct hp_redis_cmd *cmd, char *err, size_t errlen);
/* The same, going on where the last call on cmd stopped when it returned 0:
 * the input must then be the same unread bytes with more after them (as
 * the core keeps what a read left); a shorter one starts over.  What was
 * read is not read again, so a command costs its length however it is cut. */
int hp_redis_parse_next(struct hp_rd *in, struct hp_redis_cmd *cmd, char *err, size_t errlen);
void hp_redis_cmd_free(struct hp_redis_cmd *cmd);

/* The claimed server (drawn per sensor; tests set it). */
int hp_redis_set_version(const char *version);   /* "7.0.15"; -1 if not x.y.z */
const char *hp_redis_version(void);

struct hp_redis_conf {
    char *version;            /* configured claim; NULL: the sensor's identity */
    char *requirepass;        /* NULL: no password, like a default install */
    char *data_dir;           /* uploads stored here; NULL: hash and report only */
    uint16_t port;            /* tcp_port in INFO */
};

struct hp_redis_sess;

struct hp_redis_sess *hp_redis_sess_new(const struct hp_redis_conf *conf, const struct hp_evctx *ctx,
                                        const char *peer);
void hp_redis_sess_free(struct hp_redis_sess *s);
/* Consume complete commands from in, append replies to out.  Returns true
 * when the connection must be closed once out is sent (QUIT, protocol error). */
bool hp_redis_feed(struct hp_redis_sess *s, struct hp_rd *in, struct hp_buf *out);

#endif
