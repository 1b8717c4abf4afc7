/*
 * memcached.h - the memcached session: ASCII, meta and binary (memcached*.c).
 *
 * The session machine is separate from the connection so that the unit
 * tests and the fuzz harness drive it with plain buffers: hp_mc_open()
 * with an output callback, then hp_mc_input() with whatever arrived.
 */
#ifndef HP_PROTO_MEMCACHED_H
#define HP_PROTO_MEMCACHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "reader.h"

struct hp_ev;
struct hp_evctx;

#define HP_MC_KEY_MAX 250               /* memcached's KEY_MAX_LENGTH */
#define HP_MC_LINE_MAX 2048             /* a command line longer than this is refused */
#define HP_MC_ITEM_MAX (1024 * 1024)    /* item_size_max: a longer value is refused */

typedef int (*hp_mc_emit_fn)(struct hp_ev *ev);
/* Returns 0, or -1 when the peer will get nothing more (hp_conn_send's answer). */
typedef int (*hp_mc_out_fn)(void *arg, const void *data, size_t len);

struct hp_mc_sess {
    const struct hp_evctx *ctx;
    hp_mc_emit_fn emit;                 /* NULL: hp_ev_emit */
    hp_mc_out_fn out;
    void *out_arg;
    /* a storage command waiting for its data block */
    bool want_data;
    bool noreply;
    char cmd[8];
    char key[HP_MC_KEY_MAX + 1];
    uint32_t flags;
    int64_t exptime;
    uint64_t bytes;
    uint64_t cas;
    uint64_t swallow;                   /* bytes of a refused data block still to discard */
    const char *swallow_msg;            /* answered once they are (NULL: nothing) */
    uint8_t *blk;                       /* the data block as it arrives (bytes + 2), kept here and */
    size_t blk_len;                     /* not in the core's input, which holds 128 KiB at most */
    size_t scanned;                     /* bytes of the pending line already searched for its LF */
    bool binary;                        /* the first byte was 0x80: the binary protocol */
    bool meta;                          /* the data block is an `ms` one (HD/NS/EX/NF answers) */
    char meta_ret[96];                  /* the O and k flags an `ms` answer echoes */
    bool watching;                      /* after `watch`: nothing more is answered */
    uint8_t bin_op;                     /* a binary storage request waiting for its value */
    uint32_t bin_opaque;
    uint16_t bin_status;                /* answered once a swallowed body is gone */
    uint64_t commands;
    uint8_t *pend;                      /* answers of this read, written at its end */
    size_t pend_len;
    const char *close_reason;           /* set: the server closes the connection */
};

/* The sensor's memcached (version drawn at first start and kept in the identity). */
void hp_mc_identity_init(const char *configured_version);
const char *hp_mc_version(void);
/* Forget every item (tests, fuzzing). */
void hp_mc_store_reset(void);

void hp_mc_open(struct hp_mc_sess *s, const struct hp_evctx *ctx, hp_mc_emit_fn emit, hp_mc_out_fn out, void *arg);
/* Answer every complete command in the reader (advanced past what was used;
 * an incomplete line or data block stays unread). */
void hp_mc_input(struct hp_mc_sess *s, struct hp_rd *in);
/* Free what the session holds (its pending answers). */
void hp_mc_close(struct hp_mc_sess *s);

#endif
