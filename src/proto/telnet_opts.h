/*
 * telnet_opts.h - the Telnet byte-stream parser and option negotiation
 * (RFC 854/855), kept apart from the login front-end (telnet.c) so that it
 * can be tested and fuzzed on its own.
 *
 * struct hp_tn turns what the peer sends into
 *   - data bytes (IAC IAC is one 0xFF; CR LF and CR NUL become CR, as
 *     BSD/netkit telnetd hand them to the pty, unless the peer sends BINARY),
 *   - commands (IAC IP, AYT, EC, EL, ...),
 *   - complete subnegotiations (IAC SB opt ... IAC SE, doubled IACs undone,
 *     at most HP_TN_SB_MAX bytes: a longer one is consumed and discarded),
 *   - option negotiation, answered by the RFC 1143 "Q method": an option the
 *     module allowed is agreed to, anything else is refused once, and an
 *     answer is never answered (so two conforming ends cannot loop).  In
 *     quiet mode the peer's requests get no answer at all, as BusyBox
 *     telnetd does.
 * It reads the peer's bytes through hp_rd only, keeps no pointer into them
 * after a call, never allocates, and is resumable at any byte: a sequence
 * split across reads is finished by the next feed.
 *
 * The decoders below read the subnegotiations hanipo logs: NAWS (RFC 1073),
 * TTYPE IS (RFC 1091) and NEW-ENVIRON IS/INFO (RFC 1572).
 *
 * The second half of this header is the session engine of telnet.c (login,
 * shell hand-over) behind a small I/O interface, so that the fuzzer and
 * tests can drive a whole connection without sockets.
 */
#ifndef HP_TELNET_OPTS_H
#define HP_TELNET_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "reader.h"

/* Commands (RFC 854). */
enum {
    HP_TN_EOF = 236, HP_TN_SUSP = 237, HP_TN_ABORT = 238, HP_TN_EOR = 239,
    HP_TN_SE = 240, HP_TN_NOP = 241, HP_TN_DM = 242, HP_TN_BRK = 243, HP_TN_IP = 244,
    HP_TN_AO = 245, HP_TN_AYT = 246, HP_TN_EC = 247, HP_TN_EL = 248, HP_TN_GA = 249,
    HP_TN_SB = 250, HP_TN_WILL = 251, HP_TN_WONT = 252, HP_TN_DO = 253, HP_TN_DONT = 254,
    HP_TN_IAC = 255,
};

/* Options. */
enum {
    HP_TNO_BINARY = 0, HP_TNO_ECHO = 1, HP_TNO_SGA = 3, HP_TNO_STATUS = 5, HP_TNO_TM = 6,
    HP_TNO_TTYPE = 24, HP_TNO_EOR = 25, HP_TNO_NAWS = 31, HP_TNO_TSPEED = 32, HP_TNO_LFLOW = 33,
    HP_TNO_LINEMODE = 34, HP_TNO_XDISPLOC = 35, HP_TNO_OLD_ENVIRON = 36, HP_TNO_AUTH = 37,
    HP_TNO_ENCRYPT = 38, HP_TNO_NEW_ENVIRON = 39,
};

/* Subnegotiation qualifiers and NEW-ENVIRON codes. */
enum { HP_TNQ_IS = 0, HP_TNQ_SEND = 1, HP_TNQ_INFO = 2 };
enum { HP_TNE_VAR = 0, HP_TNE_VALUE = 1, HP_TNE_ESC = 2, HP_TNE_USERVAR = 3 };

/* RFC 1143 option states (per side), as returned by hp_tn_state(). */
enum { HP_TNS_NO = 0, HP_TNS_YES = 1, HP_TNS_WANTNO = 2, HP_TNS_WANTYES = 3 };

#define HP_TN_SB_MAX 512

struct hp_tn_cb {
    /* Data bytes for the application (after IAC and CR processing). */
    void (*data)(void *arg, const uint8_t *p, size_t n);
    /* Bytes to send to the peer (negotiation answers, escaped data). */
    void (*send)(void *arg, const uint8_t *p, size_t n);
    /* A two-byte command: HP_TN_IP, AO, AYT, EC, EL, BRK, DM, NOP, GA, EOR, ... */
    void (*cmd)(void *arg, uint8_t cmd);
    /* A complete subnegotiation of at most HP_TN_SB_MAX bytes (without IAC SB opt / IAC SE). */
    void (*sb)(void *arg, uint8_t opt, const uint8_t *p, size_t n);
    /* An option settled: local = our side (WILL/WONT), otherwise the peer's (DO/DONT). */
    void (*opt)(void *arg, bool local, uint8_t opt, bool enabled);
};

struct hp_tn {
    const struct hp_tn_cb *cb;
    void *arg;
    uint8_t st;                   /* parser state */
    uint8_t verb;                 /* WILL/WONT/DO/DONT waiting for its option byte */
    uint8_t sb_opt;
    bool cr;                      /* last data byte was CR: drop a following LF or NUL */
    bool sb_overflow;
    bool out_cr;                  /* the last byte written was CR (CR NUL across writes) */
    bool cr_nul;                  /* send a bare CR as CR NUL (default; busybox does not) */
    bool quiet;                   /* never answer the peer's requests (busybox telnetd): an
                                   * allowed option it offers is taken as on, anything else
                                   * is ignored; answers to our own requests work as usual */
    uint16_t sb_len;
    uint8_t sb[HP_TN_SB_MAX];
    uint8_t q[256];               /* bits 0-1 our state, bit 2 our queue; bits 3-4 peer's, bit 5 peer's queue */
    uint32_t ok_local[8];         /* options we agree to enable on our side */
    uint32_t ok_remote[8];        /* options we agree the peer enables */
    /* Counters (for tests and diagnostics). */
    uint32_t refused;             /* requests refused */
    uint32_t sb_discarded;        /* subnegotiations over HP_TN_SB_MAX */
};

void hp_tn_init(struct hp_tn *t, const struct hp_tn_cb *cb, void *arg);
/* Agree when the peer asks us to enable opt (local) or offers to enable it (remote). */
void hp_tn_allow(struct hp_tn *t, bool local, uint8_t opt);
/* Consume everything left in the reader. */
void hp_tn_feed(struct hp_tn *t, struct hp_rd *in);
/* Ask for an option to be enabled or disabled (WILL/WONT for local, DO/DONT for
 * the peer) as RFC 1143 says: nothing is sent if the option is already there or
 * a request is pending.  Returns true if a request was sent. */
bool hp_tn_request(struct hp_tn *t, bool local, uint8_t opt, bool enable);
int  hp_tn_state(const struct hp_tn *t, bool local, uint8_t opt);
static inline bool hp_tn_enabled(const struct hp_tn *t, bool local, uint8_t opt)
{
    return hp_tn_state(t, local, opt) == HP_TNS_YES;
}
/* A request of ours is still unanswered. */
static inline bool hp_tn_pending(const struct hp_tn *t, bool local, uint8_t opt)
{
    return hp_tn_state(t, local, opt) >= HP_TNS_WANTNO;
}
/* IAC SB opt <p, IAC doubled> IAC SE. */
void hp_tn_send_sb(struct hp_tn *t, uint8_t opt, const uint8_t *p, size_t n);
/* Application data to the peer: IAC doubled, a CR not followed by LF sent as
 * CR NUL (unless we are in BINARY mode or cr_nul was turned off). */
void hp_tn_write(struct hp_tn *t, const void *data, size_t n);

/* ---- subnegotiation decoders (input: the bytes given to cb->sb) ---------------- */

/* NAWS: width and height (16 bits each; 0 = unknown).  False if too short. */
bool hp_tn_naws(const uint8_t *sb, size_t n, unsigned *width, unsigned *height);
/* TTYPE IS name.  False if not an IS. */
bool hp_tn_ttype_is(const uint8_t *sb, size_t n, const uint8_t **name, size_t *len);
/* NEW-ENVIRON IS or INFO: fn is called for each variable (kind HP_TNE_VAR or
 * HP_TNE_USERVAR; ESC sequences undone; has_value false when no VALUE
 * followed the name).  Returns the number of variables, or -1 if sb is not
 * an IS or INFO. */
typedef void (*hp_tn_env_fn)(void *arg, int kind, const uint8_t *name, size_t nlen,
                             const uint8_t *value, size_t vlen, bool has_value);
int hp_tn_environ(const uint8_t *sb, size_t n, hp_tn_env_fn fn, void *arg);

/* ---- the session engine of telnet.c ------------------------------------------------- */

struct hp_evctx;
struct hp_service_cfg;

/* What a session needs from its connection. */
struct hp_tn_io {
    int  (*send)(void *arg, const void *p, size_t n);   /* 0, or -1: the connection is gone */
    void (*close)(void *arg, const char *reason);
    void (*set_timer)(void *arg, uint64_t ms);   /* one-shot; 0 cancels */
    int64_t (*now_ms)(void *arg);                /* monotonic; NULL: hp_mono_ms() */
};

/* Bytes of per-connection state (the module's conn_state_size). */
size_t hp_tn_session_size(void);
/* sess: hp_tn_session_size() zeroed bytes; svc: configured by hp_proto_telnet
 * (and started, for the user database); ctx outlives the session. */
void hp_tn_session_open(void *sess, const struct hp_service_cfg *svc, const struct hp_evctx *ctx,
                        const struct hp_tn_io *io, void *arg);
void hp_tn_session_input(void *sess, struct hp_rd *in);
void hp_tn_session_timer(void *sess);
void hp_tn_session_eof(void *sess);
/* The connection is going away: frees the shell, closes the recording. */
void hp_tn_session_close(void *sess);
/* True once the session asked its connection to close. */
bool hp_tn_session_closed(const void *sess);

#endif
