/*
 * ami.h - the Asterisk Manager Interface front-end's parser and session
 * machine, exposed for the unit tests and the fuzzer; the protocol module
 * (hp_proto_ami, name "asterisk_ami") drives it from the connection
 * callbacks.  See ami.c for the design and docs/ami.md.
 */
#ifndef HP_PROTO_AMI_H
#define HP_PROTO_AMI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "reader.h"

struct hp_ev;
struct hp_evctx;

#define HP_AMI_LINE_MAX 1024       /* Asterisk's header line buffer; longer lines are dropped */
#define HP_AMI_HDR_MAX 128         /* AST_MAX_MANHEADERS: more headers are ignored */
#define HP_AMI_OUT_MAX (64 * 1024) /* answers of one input */
#define HP_AMI_ACCEPT_MAX 16

/* One action: its header lines, pointing into the input. */
struct hp_ami_hdr {
    const uint8_t *key, *val;
    size_t klen, vlen;
};

struct hp_ami_msg {
    struct hp_ami_hdr h[HP_AMI_HDR_MAX];
    size_t n;
    size_t dropped;                /* lines over HP_AMI_LINE_MAX, or headers over the cap */
    const uint8_t *raw;            /* the whole action as sent, blank line excluded */
    size_t rawlen;
};

/*
 * Take one action (header lines up to a blank line) from the reader.
 * Returns 1 and fills m (the reader advanced past the blank line), or 0 when
 * the action is not complete yet (nothing consumed).  Lines end in "\n",
 * an optional "\r" before it is stripped.  A line longer than
 * HP_AMI_LINE_MAX is dropped as Asterisk does; more than HP_AMI_HDR_MAX
 * headers are counted but not kept.  *hint (0 at first) remembers how far
 * an incomplete action was already scanned, so input arriving in many small
 * pieces costs linear time.  An incomplete action longer than max bytes
 * returns -1 (the caller closes).
 */
int hp_ami_parse(struct hp_rd *in, struct hp_ami_msg *m, size_t max, size_t *hint);
/* A header's value (case-insensitive key), leading blanks skipped; NULL when absent. */
const uint8_t *hp_ami_get(const struct hp_ami_msg *m, const char *key, size_t *len);

/* An Asterisk release and the manager version it announces. */
struct hp_ami_pers {
    const char *asterisk;          /* "16.2.1" */
    const char *ami;               /* "5.0.1" */
    bool new_command;              /* Asterisk 14+: Command output as "Output:" headers */
};

struct hp_ami_conf {
    const struct hp_ami_pers *pers;   /* NULL until start(): the identity's */
    char *accept[HP_AMI_ACCEPT_MAX];  /* "user:secret" pairs that log in; "*" accepts anything */
    size_t naccept;
    uint64_t auth_fail_delay_ms;      /* Asterisk sleeps 1 s before "Authentication failed" */
    uint64_t auth_timeout_ms;         /* an unauthenticated session is closed after this (0: never) */
    char *hostname;                   /* SystemName; NULL: the sensor's */
};

typedef int (*hp_ami_emit_fn)(struct hp_ev *ev);
typedef size_t (*hp_ami_scan_fn)(const struct hp_evctx *ctx, const void *data, size_t len, const char *found_in);

enum hp_ami_state { HP_AMI_OPEN, HP_AMI_FAILWAIT, HP_AMI_DONE };

struct hp_ami_sess {
    const struct hp_ami_conf *cf;
    const struct hp_ami_pers *pers;
    const struct hp_evctx *ctx;
    hp_ami_emit_fn emit;           /* NULL: hp_ev_emit */
    hp_ami_scan_fn scan;           /* NULL: hp_capture_scan */
    enum hp_ami_state state;
    bool authed;
    char user[64];
    char challenge[24];            /* "" until Action: Challenge */
    char fail_id[128];             /* ActionID of the login being failed */
    uint64_t actions;
    size_t hint;                   /* hp_ami_parse's scan position */
    struct hp_buf out;             /* to send after each step */
    const char *close_reason;      /* non-NULL: close after sending out */
    bool timer_change;             /* the caller (re)arms its timer with timer_ms (0: cancel) */
    uint64_t timer_ms;
};

/* The releases a sensor is drawn from. */
const struct hp_ami_pers *hp_ami_pers_all(size_t *n);
const struct hp_ami_pers *hp_ami_pers_find(const char *asterisk_version);

/* Defaults of a service's configuration (accept admin:amp111, 1 s delay, 30 s timeout). */
void hp_ami_conf_init(struct hp_ami_conf *cf);
void hp_ami_conf_free(struct hp_ami_conf *cf);

/* Start a session: the banner goes to s->out; a timer may be requested. */
void hp_ami_open(struct hp_ami_sess *s, const struct hp_ami_conf *cf, const struct hp_evctx *ctx,
                 hp_ami_emit_fn emit, hp_ami_scan_fn scan);
/* Handle the complete actions in the reader (advanced past them). */
void hp_ami_input(struct hp_ami_sess *s, struct hp_rd *in);
/* The timer asked for fired: finish a failed login, or the auth timeout. */
void hp_ami_timer(struct hp_ami_sess *s);
void hp_ami_free(struct hp_ami_sess *s);

#endif
