/*
 * test_telnet_opts.c - unit tests for the Telnet parser and option
 * negotiation (src/proto/telnet_opts.c) and the session engine
 * (src/proto/telnet.c) driven without sockets.
 *
 * Parser: IAC IAC as data 0xFF, CR LF / CR NUL to CR (and not in BINARY
 * mode), the exact bytes of every RFC 1143 answer (agree, refuse once, never
 * answer an answer, requests and the queue bit, TIMING-MARK), NAWS with an
 * IAC-escaped 255 and 65535, TTYPE IS, NEW-ENVIRON IS/INFO with VAR, USERVAR,
 * VALUE and ESC, commands, stray and malformed IAC sequences, SB of exactly
 * the cap and over it (discarded whole, the stream goes on), a malformed SB
 * end, every test stream fed whole, byte by byte and in random chunks with
 * identical results, and the output side (IAC doubling, CR NUL across writes).
 *
 * Engine: the exact bytes each personality sends up to the login prompt, the
 * linux personality holding its prompt until the client has answered,
 * login echo / password without echo / "Login incorrect" / the close after
 * max_auth_tries, the fail delay and login timeout on the module timer
 * (with a fake clock), typeahead during the delay, ^C at the prompt, and the
 * configuration keys and their errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "event.h"
#include "proto.h"
#include "reader.h"
#include "proto/telnet_opts.h"

/* ---- a recording parser --------------------------------------------------------- */

struct rec {
    struct hp_buf data, sent, cmds;
    struct { uint8_t opt; size_t n; uint8_t b[HP_TN_SB_MAX]; } sb[16];
    int nsb;
    struct { bool local; uint8_t opt; bool on; } opts[32];
    int nopts;
};

static void r_data(void *a, const uint8_t *p, size_t n) { hp_buf_put(&((struct rec *)a)->data, p, n); }
static void r_send(void *a, const uint8_t *p, size_t n) { hp_buf_put(&((struct rec *)a)->sent, p, n); }
static void r_cmd(void *a, uint8_t c) { hp_buf_putc(&((struct rec *)a)->cmds, c); }

static void r_sb(void *a, uint8_t opt, const uint8_t *p, size_t n)
{
    struct rec *r = a;
    assert_true(n <= HP_TN_SB_MAX);
    if (r->nsb < 16) {
        r->sb[r->nsb].opt = opt;
        r->sb[r->nsb].n = n;
        memcpy(r->sb[r->nsb].b, p, n);
        r->nsb++;
    }
}

static void r_opt(void *a, bool local, uint8_t opt, bool on)
{
    struct rec *r = a;
    if (r->nopts < 32) {
        r->opts[r->nopts].local = local;
        r->opts[r->nopts].opt = opt;
        r->opts[r->nopts].on = on;
        r->nopts++;
    }
}

static const struct hp_tn_cb rec_cb = { r_data, r_send, r_cmd, r_sb, r_opt };

static void rec_init(struct rec *r, struct hp_tn *t)
{
    memset(r, 0, sizeof(*r));
    hp_buf_init(&r->data, 1 << 20);
    hp_buf_init(&r->sent, 1 << 20);
    hp_buf_init(&r->cmds, 4096);
    hp_tn_init(t, &rec_cb, r);
}

static void rec_free(struct rec *r)
{
    hp_buf_free(&r->data);
    hp_buf_free(&r->sent);
    hp_buf_free(&r->cmds);
}

static void rec_clear(struct rec *r)
{
    hp_buf_reset(&r->data);
    hp_buf_reset(&r->sent);
    hp_buf_reset(&r->cmds);
    r->nsb = r->nopts = 0;
}

static void feed(struct hp_tn *t, const void *p, size_t n)
{
    struct hp_rd rd;
    hp_rd_init(&rd, p, n);
    hp_tn_feed(t, &rd);
    assert_int_equal(hp_rd_left(&rd), 0);
}

#define FEED(t, lit) feed((t), (lit), sizeof(lit) - 1)

static void assert_bytes(const struct hp_buf *b, const void *expect, size_t n)
{
    if (b->len != n || (n && memcmp(b->data, expect, n) != 0)) {
        char got[512], want[512];
        size_t k = 0;
        for (size_t i = 0; i < b->len && k + 5 < sizeof(got); i++)
            k += (size_t)snprintf(got + k, sizeof(got) - k, "%02x ", b->data[i]);
        got[k] = '\0';
        k = 0;
        for (size_t i = 0; i < n && k + 5 < sizeof(want); i++)
            k += (size_t)snprintf(want + k, sizeof(want) - k, "%02x ", ((const uint8_t *)expect)[i]);
        want[k] = '\0';
        fail_msg("bytes differ:\n  got  %s\n  want %s", got, want);
    }
}

#define ASSERT_BYTES(b, lit) assert_bytes((b), (lit), sizeof(lit) - 1)

/* ---- data ---------------------------------------------------------------------------- */

static void test_iac_iac(void **state)
{
    struct hp_tn t;
    struct rec r;
    rec_init(&r, &t);
    FEED(&t, "a\xff\xff" "b\xff\xff\xff\xff");
    ASSERT_BYTES(&r.data, "a\xff" "b\xff\xff");
    assert_int_equal(r.sent.len, 0);
    rec_free(&r);
}

static void test_cr_handling(void **state)
{
    struct hp_tn t;
    struct rec r;
    rec_init(&r, &t);
    FEED(&t, "ab\r\ncd\r\0ef\rgh\n\r\r\n");
    ASSERT_BYTES(&r.data, "ab\rcd\ref\rgh\n\r\r");
    rec_clear(&r);
    /* split right after the CR */
    FEED(&t, "x\r");
    FEED(&t, "\n");
    FEED(&t, "y\r");
    FEED(&t, "\0");
    FEED(&t, "z\r");
    FEED(&t, "\xff\xff");
    ASSERT_BYTES(&r.data, "x\ry\rz\r\xff");
    rec_free(&r);

    /* BINARY from the peer: CR is data like any other byte */
    rec_init(&r, &t);
    hp_tn_allow(&t, false, HP_TNO_BINARY);
    FEED(&t, "\xff\xfb\x00" "a\r\nb\r\0");
    ASSERT_BYTES(&r.sent, "\xff\xfd\x00");
    ASSERT_BYTES(&r.data, "a\r\nb\r\0");
    rec_free(&r);
}

/* ---- negotiation ------------------------------------------------------------------ */

static void test_agree_and_no_echo_of_answers(void **state)
{
    struct hp_tn t;
    struct rec r;
    rec_init(&r, &t);
    hp_tn_allow(&t, false, HP_TNO_NAWS);
    hp_tn_allow(&t, true, HP_TNO_SGA);
    FEED(&t, "\xff\xfb\x1f");                   /* WILL NAWS */
    ASSERT_BYTES(&r.sent, "\xff\xfd\x1f");      /* DO NAWS */
    assert_int_equal(r.nopts, 1);
    assert_false(r.opts[0].local);
    assert_int_equal(r.opts[0].opt, HP_TNO_NAWS);
    assert_true(r.opts[0].on);
    assert_true(hp_tn_enabled(&t, false, HP_TNO_NAWS));
    rec_clear(&r);
    FEED(&t, "\xff\xfb\x1f");                   /* again: already on, not answered */
    assert_int_equal(r.sent.len, 0);
    assert_int_equal(r.nopts, 0);
    FEED(&t, "\xff\xfc\x1f");                   /* WONT NAWS: acknowledged with DONT */
    ASSERT_BYTES(&r.sent, "\xff\xfe\x1f");
    assert_int_equal(r.nopts, 1);
    assert_false(r.opts[0].on);
    rec_clear(&r);
    FEED(&t, "\xff\xfc\x1f\xff\xfe\x1f");       /* WONT / DONT when off: silence */
    assert_int_equal(r.sent.len, 0);
    FEED(&t, "\xff\xfd\x03");                   /* DO SGA */
    ASSERT_BYTES(&r.sent, "\xff\xfb\x03");
    assert_true(hp_tn_enabled(&t, true, HP_TNO_SGA));
    rec_clear(&r);
    FEED(&t, "\xff\xfe\x03");                   /* DONT SGA */
    ASSERT_BYTES(&r.sent, "\xff\xfc\x03");
    assert_false(hp_tn_enabled(&t, true, HP_TNO_SGA));
    assert_int_equal(t.refused, 0);
    rec_free(&r);
}

static void test_unknown_refused_once(void **state)
{
    struct hp_tn t;
    struct rec r;
    rec_init(&r, &t);
    FEED(&t, "\xff\xfd\x63");                   /* DO 99 */
    ASSERT_BYTES(&r.sent, "\xff\xfc\x63");      /* WONT 99 */
    rec_clear(&r);
    FEED(&t, "\xff\xfb\x63");                   /* WILL 99 */
    ASSERT_BYTES(&r.sent, "\xff\xfe\x63");      /* DONT 99 */
    rec_clear(&r);
    /* the peer's answers to our refusals are not answered */
    FEED(&t, "\xff\xfc\x63\xff\xfe\x63");
    assert_int_equal(r.sent.len, 0);
    assert_int_equal(t.refused, 2);
    assert_int_equal(r.nopts, 0);
    /* options that are never agreed: ENCRYPT, AUTH, LINEMODE, option 255 */
    FEED(&t, "\xff\xfb\x26\xff\xfd\x25\xff\xfb\x22\xff\xfd\xff");
    ASSERT_BYTES(&r.sent, "\xff\xfe\x26\xff\xfc\x25\xff\xfe\x22\xff\xfc\xff");
    assert_int_equal(hp_tn_state(&t, false, HP_TNO_ENCRYPT), HP_TNS_NO);
    rec_free(&r);
}

/* busybox telnetd answers nothing: quiet mode takes what it allows, ignores the rest */
static void test_quiet(void **state)
{
    struct hp_tn t;
    struct rec r;
    rec_init(&r, &t);
    t.quiet = true;
    hp_tn_allow(&t, false, HP_TNO_NAWS);
    FEED(&t, "\xff\xfb\x22\xff\xfd\x63\xff\xfb\x1f\xff\xfd\x06\xff\xfc\x1f\xff\xfb\x18");
    assert_int_equal(r.sent.len, 0);
    assert_int_equal(t.refused, 3);             /* LINEMODE, 99, TTYPE */
    assert_int_equal(r.nopts, 2);               /* NAWS on, then off */
    assert_true(r.opts[0].on);
    assert_false(r.opts[1].on);
    /* our own requests and their answers work as usual */
    assert_true(hp_tn_request(&t, true, HP_TNO_ECHO, true));
    ASSERT_BYTES(&r.sent, "\xff\xfb\x01");
    FEED(&t, "\xff\xfd\x01");
    assert_true(hp_tn_enabled(&t, true, HP_TNO_ECHO));
    assert_int_equal(r.sent.len, 3);
    rec_free(&r);
}

static void test_requests(void **state)
{
    struct hp_tn t;
    struct rec r;
    rec_init(&r, &t);
    assert_true(hp_tn_request(&t, false, HP_TNO_TTYPE, true));
    ASSERT_BYTES(&r.sent, "\xff\xfd\x18");
    assert_true(hp_tn_pending(&t, false, HP_TNO_TTYPE));
    assert_false(hp_tn_request(&t, false, HP_TNO_TTYPE, true));   /* pending: nothing more */
    assert_int_equal(r.sent.len, 3);
    rec_clear(&r);
    FEED(&t, "\xff\xfb\x18");                   /* WILL TTYPE answers our DO: no reply */
    assert_int_equal(r.sent.len, 0);
    assert_true(hp_tn_enabled(&t, false, HP_TNO_TTYPE));
    assert_int_equal(r.nopts, 1);
    assert_true(r.opts[0].on);
    rec_clear(&r);

    /* WILL ECHO refused by DONT: off, no reply */
    assert_true(hp_tn_request(&t, true, HP_TNO_ECHO, true));
    ASSERT_BYTES(&r.sent, "\xff\xfb\x01");
    rec_clear(&r);
    FEED(&t, "\xff\xfe\x01");
    assert_int_equal(r.sent.len, 0);
    assert_int_equal(hp_tn_state(&t, true, HP_TNO_ECHO), HP_TNS_NO);
    assert_int_equal(r.nopts, 1);
    assert_false(r.opts[0].on);
    rec_clear(&r);

    /* change of mind while pending (queue bit): DO, then "no" before the answer */
    assert_true(hp_tn_request(&t, false, HP_TNO_NAWS, true));
    assert_false(hp_tn_request(&t, false, HP_TNO_NAWS, false));
    ASSERT_BYTES(&r.sent, "\xff\xfd\x1f");
    rec_clear(&r);
    FEED(&t, "\xff\xfb\x1f");                   /* WILL arrives: we now say DONT */
    ASSERT_BYTES(&r.sent, "\xff\xfe\x1f");
    assert_int_equal(hp_tn_state(&t, false, HP_TNO_NAWS), HP_TNS_WANTNO);
    rec_clear(&r);
    FEED(&t, "\xff\xfc\x1f");
    assert_int_equal(r.sent.len, 0);
    assert_int_equal(hp_tn_state(&t, false, HP_TNO_NAWS), HP_TNS_NO);

    /* disable an enabled option: DONT, then the WONT is not answered */
    rec_clear(&r);
    assert_true(hp_tn_request(&t, false, HP_TNO_TTYPE, false));
    ASSERT_BYTES(&r.sent, "\xff\xfe\x18");
    rec_clear(&r);
    FEED(&t, "\xff\xfc\x18");
    assert_int_equal(r.sent.len, 0);
    assert_int_equal(hp_tn_state(&t, false, HP_TNO_TTYPE), HP_TNS_NO);
    rec_free(&r);
}

static void test_timing_mark(void **state)
{
    struct hp_tn t;
    struct rec r;
    rec_init(&r, &t);
    FEED(&t, "ab\xff\xfd\x06" "cd\xff\xfd\x06\xff\xfe\x06\xff\xfb\x06");
    ASSERT_BYTES(&r.sent, "\xff\xfb\x06\xff\xfb\x06");
    ASSERT_BYTES(&r.data, "abcd");
    assert_int_equal(hp_tn_state(&t, true, HP_TNO_TM), HP_TNS_NO);
    rec_free(&r);
}

static void test_commands_and_junk(void **state)
{
    struct hp_tn t;
    struct rec r;
    rec_init(&r, &t);
    /* NOP, AYT, IP, stray SE, IAC + non-command, GA, EOR, BRK */
    FEED(&t, "a\xff\xf1" "b\xff\xf6\xff\xf4\xff\xf0" "c\xff" "Ad\xff\xf9\xff\xef\xff\xf3" "e");
    ASSERT_BYTES(&r.data, "abcde");
    ASSERT_BYTES(&r.cmds, "\xf1\xf6\xf4\xf9\xef\xf3");
    assert_int_equal(r.sent.len, 0);
    rec_free(&r);
}

/* ---- subnegotiations ---------------------------------------------------------------- */

static void test_naws(void **state)
{
    struct hp_tn t;
    struct rec r;
    unsigned w, h;
    rec_init(&r, &t);
    FEED(&t, "\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0");
    assert_int_equal(r.nsb, 1);
    assert_int_equal(r.sb[0].opt, HP_TNO_NAWS);
    assert_true(hp_tn_naws(r.sb[0].b, r.sb[0].n, &w, &h));
    assert_int_equal(w, 80);
    assert_int_equal(h, 24);
    /* width 255 must be sent as IAC IAC */
    FEED(&t, "\xff\xfa\x1f\x00\xff\xff\x00\x30\xff\xf0");
    assert_int_equal(r.nsb, 2);
    assert_int_equal(r.sb[1].n, 4);
    assert_true(hp_tn_naws(r.sb[1].b, r.sb[1].n, &w, &h));
    assert_int_equal(w, 255);
    assert_int_equal(h, 48);
    /* 65535 x 65535 */
    FEED(&t, "\xff\xfa\x1f\xff\xff\xff\xff\xff\xff\xff\xff\xff\xf0");
    assert_true(hp_tn_naws(r.sb[2].b, r.sb[2].n, &w, &h));
    assert_int_equal(w, 65535);
    assert_int_equal(h, 65535);
    /* too short */
    FEED(&t, "\xff\xfa\x1f\x00\x50\x00\xff\xf0");
    assert_false(hp_tn_naws(r.sb[3].b, r.sb[3].n, &w, &h));
    assert_int_equal(r.data.len, 0);
    rec_free(&r);
}

static void test_ttype(void **state)
{
    struct hp_tn t;
    struct rec r;
    const uint8_t *name;
    size_t len;
    rec_init(&r, &t);
    FEED(&t, "\xff\xfa\x18\x00XTERM-256COLOR\xff\xf0\xff\xfa\x18\x01\xff\xf0\xff\xfa\x18\x00\xff\xf0");
    assert_int_equal(r.nsb, 3);
    assert_true(hp_tn_ttype_is(r.sb[0].b, r.sb[0].n, &name, &len));
    assert_int_equal(len, 14);
    assert_memory_equal(name, "XTERM-256COLOR", 14);
    assert_false(hp_tn_ttype_is(r.sb[1].b, r.sb[1].n, &name, &len));    /* SEND */
    assert_true(hp_tn_ttype_is(r.sb[2].b, r.sb[2].n, &name, &len));     /* empty IS */
    assert_int_equal(len, 0);
    assert_false(hp_tn_ttype_is(r.sb[0].b, 0, &name, &len));
    rec_free(&r);
}

struct envrec {
    int n;
    int kind[8];
    char name[8][64], value[8][64];
    size_t nl[8], vl[8];
    bool has[8];
};

static void env_cb(void *a, int kind, const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen,
                   bool has_value)
{
    struct envrec *e = a;
    assert_true(e->n < 8);
    assert_true(nlen < 64 && vlen < 64);
    e->kind[e->n] = kind;
    memcpy(e->name[e->n], name, nlen);
    memcpy(e->value[e->n], value, vlen);
    e->nl[e->n] = nlen;
    e->vl[e->n] = vlen;
    e->has[e->n] = has_value;
    e->n++;
}

static void test_new_environ(void **state)
{
    struct hp_tn t;
    struct rec r;
    struct envrec e;
    rec_init(&r, &t);
    /* IS: VAR USER = "-f root"; USERVAR X = "a" ESC VAR "b" ESC ESC; VAR DISPLAY (no value);
     * VAR "L" with an IAC IAC inside the value */
    FEED(&t, "\xff\xfa\x27\x00"
             "\x00USER\x01-f root"
             "\x03X\x01" "a\x02\x00" "b\x02\x02"
             "\x00" "DISPLAY"
             "\x00L\x01v\xff\xffw"
             "\xff\xf0");
    assert_int_equal(r.nsb, 1);
    memset(&e, 0, sizeof(e));
    assert_int_equal(hp_tn_environ(r.sb[0].b, r.sb[0].n, env_cb, &e), 4);
    assert_int_equal(e.kind[0], HP_TNE_VAR);
    assert_int_equal(e.nl[0], 4);
    assert_memory_equal(e.name[0], "USER", 4);
    assert_true(e.has[0]);
    assert_int_equal(e.vl[0], 7);
    assert_memory_equal(e.value[0], "-f root", 7);
    assert_int_equal(e.kind[1], HP_TNE_USERVAR);
    assert_int_equal(e.nl[1], 1);
    assert_int_equal(e.vl[1], 4);
    assert_memory_equal(e.value[1], "a\x00" "b\x02", 4);
    assert_int_equal(e.kind[2], HP_TNE_VAR);
    assert_memory_equal(e.name[2], "DISPLAY", 7);
    assert_false(e.has[2]);
    assert_int_equal(e.vl[2], 0);
    assert_int_equal(e.vl[3], 3);
    assert_memory_equal(e.value[3], "v\xffw", 3);

    /* INFO, garbage before the first VAR, an escaped VAR inside a name, empty name, ESC at the end */
    static const uint8_t info[] = { 2, 'z', 'z', 1, 'q', 0, 'A', 2, 0, 'B', 1, 'x', 0, 1, 'v', 3, 'C', 2 };
    memset(&e, 0, sizeof(e));
    assert_int_equal(hp_tn_environ(info, sizeof(info), env_cb, &e), 3);
    assert_int_equal(e.nl[0], 3);
    assert_memory_equal(e.name[0], "A\x00" "B", 3);
    assert_memory_equal(e.value[0], "x", 1);
    assert_int_equal(e.nl[1], 0);
    assert_true(e.has[1]);
    assert_memory_equal(e.value[1], "v", 1);
    assert_int_equal(e.kind[2], HP_TNE_USERVAR);
    assert_int_equal(e.nl[2], 1);

    /* SEND from a client, and nothing at all, are not variables */
    static const uint8_t send[] = { 1, 0, 'U' };
    assert_int_equal(hp_tn_environ(send, sizeof(send), env_cb, &e), -1);
    assert_int_equal(hp_tn_environ(send, 0, env_cb, &e), -1);
    static const uint8_t is_only[] = { 0 };
    assert_int_equal(hp_tn_environ(is_only, 1, env_cb, &e), 0);
    rec_free(&r);
}

static void test_sb_limits(void **state)
{
    struct hp_tn t;
    struct rec r;
    uint8_t buf[2 * HP_TN_SB_MAX + 64];
    rec_init(&r, &t);
    /* exactly the cap: delivered */
    size_t k = 0;
    buf[k++] = 0xff; buf[k++] = 0xfa; buf[k++] = 0x27;
    memset(buf + k, 'a', HP_TN_SB_MAX);
    k += HP_TN_SB_MAX;
    buf[k++] = 0xff; buf[k++] = 0xf0;
    feed(&t, buf, k);
    assert_int_equal(r.nsb, 1);
    assert_int_equal(r.sb[0].n, HP_TN_SB_MAX);
    /* one byte more (an escaped IAC): discarded whole, the stream goes on */
    k = 0;
    buf[k++] = 0xff; buf[k++] = 0xfa; buf[k++] = 0x18;
    memset(buf + k, 'b', HP_TN_SB_MAX);
    k += HP_TN_SB_MAX;
    buf[k++] = 0xff; buf[k++] = 0xff;
    buf[k++] = 0xff; buf[k++] = 0xf0;
    memcpy(buf + k, "ok", 2);
    k += 2;
    feed(&t, buf, k);
    assert_int_equal(r.nsb, 1);
    assert_int_equal(t.sb_discarded, 1);
    ASSERT_BYTES(&r.data, "ok");
    /* a huge one, in pieces */
    FEED(&t, "\xff\xfa\x1f");
    for (int i = 0; i < 100; i++)
        feed(&t, buf + 3, HP_TN_SB_MAX);
    FEED(&t, "\xff\xf0" "!");
    assert_int_equal(r.nsb, 1);
    assert_int_equal(t.sb_discarded, 2);
    ASSERT_BYTES(&r.data, "ok!");
    rec_free(&r);
}

static void test_sb_malformed_end(void **state)
{
    struct hp_tn t;
    struct rec r;
    rec_init(&r, &t);
    hp_tn_allow(&t, false, HP_TNO_NAWS);
    /* IAC WILL inside an SB ends the SB and is a command */
    FEED(&t, "\xff\xfa\x18\x00vt\xff\xfb\x1f" "x");
    assert_int_equal(r.nsb, 1);
    assert_int_equal(r.sb[0].n, 3);
    assert_memory_equal(r.sb[0].b, "\x00vt", 3);
    ASSERT_BYTES(&r.sent, "\xff\xfd\x1f");
    ASSERT_BYTES(&r.data, "x");
    /* IAC <non-command> inside an SB: SB ends, the pair is dropped */
    FEED(&t, "\xff\xfa\x18\x00q\xff" "Ay");
    assert_int_equal(r.nsb, 2);
    ASSERT_BYTES(&r.data, "xy");
    /* SB with no option byte before the stream ends, then resumed */
    FEED(&t, "\xff\xfa");
    FEED(&t, "\x1f");
    FEED(&t, "\x00\x10\x00");
    FEED(&t, "\x10\xff");
    FEED(&t, "\xf0z");
    assert_int_equal(r.nsb, 3);
    assert_int_equal(r.sb[2].opt, HP_TNO_NAWS);
    assert_int_equal(r.sb[2].n, 4);
    ASSERT_BYTES(&r.data, "xyz");
    rec_free(&r);
}

/* The same stream fed whole, byte by byte and in random chunks gives the same results. */
static void run_chunked(const uint8_t *s, size_t n, unsigned mode, unsigned seed, struct rec *r)
{
    struct hp_tn t;
    rec_init(r, &t);
    hp_tn_allow(&t, false, HP_TNO_NAWS);
    hp_tn_allow(&t, false, HP_TNO_TTYPE);
    hp_tn_allow(&t, true, HP_TNO_ECHO);
    srand(seed);
    size_t i = 0;
    while (i < n) {
        size_t step = mode == 0 ? n - i : mode == 1 ? 1 : 1 + (size_t)rand() % 7;
        if (step > n - i)
            step = n - i;
        feed(&t, s + i, step);
        i += step;
    }
}

static void test_split_feeds(void **state)
{
    static const uint8_t stream[] =
        "\xff\xfb\x1f\xff\xfa\x1f\x00\xff\xff\x00\x19\xff\xf0"      /* WILL NAWS, NAWS 255x25 */
        "root\r\n\xff\xfd\x01pass\r\0"                               /* DO ECHO */
        "\xff\xfb\x18\xff\xfa\x18\x00vt100\xff\xf0"                  /* WILL TTYPE, IS vt100 */
        "\xff\xfd\x63\xff\xfc\x63\xff\xff\xff\xf6x\r"                /* DO 99, WONT 99, 0xff, AYT */
        "\xff\xfa\x27\x00\x00USER\x01\xff\xff\xff\xf0" "end\r\n";
    struct rec whole, r;
    run_chunked(stream, sizeof(stream) - 1, 0, 0, &whole);
    ASSERT_BYTES(&whole.data, "root\rpass\r\xffx\rend\r");
    ASSERT_BYTES(&whole.sent, "\xff\xfd\x1f\xff\xfb\x01\xff\xfd\x18\xff\xfc\x63");
    ASSERT_BYTES(&whole.cmds, "\xf6");
    assert_int_equal(whole.nsb, 3);
    for (unsigned mode = 1; mode <= 2; mode++) {
        for (unsigned seed = 1; seed <= (mode == 1 ? 1u : 50u); seed++) {
            run_chunked(stream, sizeof(stream) - 1, mode, seed, &r);
            assert_bytes(&r.data, whole.data.data, whole.data.len);
            assert_bytes(&r.sent, whole.sent.data, whole.sent.len);
            assert_bytes(&r.cmds, whole.cmds.data, whole.cmds.len);
            assert_int_equal(r.nsb, whole.nsb);
            for (int i = 0; i < r.nsb; i++) {
                assert_int_equal(r.sb[i].opt, whole.sb[i].opt);
                assert_int_equal(r.sb[i].n, whole.sb[i].n);
                assert_memory_equal(r.sb[i].b, whole.sb[i].b, r.sb[i].n);
            }
            rec_free(&r);
        }
    }
    rec_free(&whole);
}

/* ---- output ---------------------------------------------------------------------- */

static void test_write_and_send_sb(void **state)
{
    struct hp_tn t;
    struct rec r;
    rec_init(&r, &t);
    hp_tn_write(&t, "a\xff" "b\rc\r\n", 7);
    ASSERT_BYTES(&r.sent, "a\xff\xff" "b\r\0c\r\n");
    rec_clear(&r);
    hp_tn_write(&t, "x\r", 2);
    hp_tn_write(&t, "y", 1);
    hp_tn_write(&t, "\r", 1);
    hp_tn_write(&t, "\n", 1);
    ASSERT_BYTES(&r.sent, "x\r\0y\r\n");
    rec_clear(&r);
    t.cr_nul = false;                           /* busybox: only IAC is doubled */
    hp_tn_write(&t, "\r\r\n\xff\r", 5);
    ASSERT_BYTES(&r.sent, "\r\r\n\xff\xff\r");
    t.cr_nul = true;
    t.out_cr = false;
    rec_clear(&r);
    static const uint8_t sendq[] = { HP_TNQ_SEND };
    hp_tn_send_sb(&t, HP_TNO_TTYPE, sendq, 1);
    ASSERT_BYTES(&r.sent, "\xff\xfa\x18\x01\xff\xf0");
    rec_clear(&r);
    static const uint8_t naws[] = { 0, 255, 0, 24 };
    hp_tn_send_sb(&t, HP_TNO_NAWS, naws, 4);
    ASSERT_BYTES(&r.sent, "\xff\xfa\x1f\x00\xff\xff\x00\x18\xff\xf0");
    rec_clear(&r);
    /* BINARY on our side: CR goes out as it is */
    hp_tn_allow(&t, true, HP_TNO_BINARY);
    FEED(&t, "\xff\xfd\x00");
    rec_clear(&r);
    hp_tn_write(&t, "p\rq", 3);
    ASSERT_BYTES(&r.sent, "p\rq");
    /* a long write is cut into several sends without losing anything */
    rec_clear(&r);
    uint8_t big[5000];
    memset(big, 0xff, sizeof(big));
    hp_tn_write(&t, big, sizeof(big));
    assert_int_equal(r.sent.len, 10000);
    rec_free(&r);
}

/* ---- the session engine ------------------------------------------------------------ */

struct fakeconn {
    struct hp_buf out;
    const char *closed;
    uint64_t timer;
    int64_t now;
};

static int f_send(void *a, const void *p, size_t n)
{
    struct fakeconn *f = a;
    if (f->closed)
        return -1;
    hp_buf_put(&f->out, p, n);
    return 0;
}

static void f_close(void *a, const char *reason) { ((struct fakeconn *)a)->closed = reason; }
static void f_timer(void *a, uint64_t ms) { ((struct fakeconn *)a)->timer = ms; }
static int64_t f_now(void *a) { return ((struct fakeconn *)a)->now; }

static const struct hp_tn_io fake_io = { f_send, f_close, f_timer, f_now };

struct eng {
    struct hp_config *cfg;
    struct hp_evctx ctx;
    struct fakeconn f;
    void *sess;
    char userdb[64];
};

/* A session of a telnet service configured with the given keys (and a userdb accepting root/good). */
static void eng_open(struct eng *e, const char *keys)
{
    char err[512], text[2048];
    memset(e, 0, sizeof(*e));
    strcpy(e->userdb, "/tmp/hp-test-userdb-XXXXXX");
    int fd = mkstemp(e->userdb);
    assert_true(fd >= 0);
    static const char rules[] = "root:x:good\n";
    assert_int_equal(write(fd, rules, sizeof(rules) - 1), (ssize_t)(sizeof(rules) - 1));
    close(fd);
    snprintf(text, sizeof(text),
             "[service t]\nprotocol = telnet\ntcp_ports = 2323\nhostname = testbox\nrecord = false\n"
             "userdb = %s\nauth_fail_delay = 0\n%s\n[output jsonl]\n", e->userdb, keys);
    e->cfg = hp_config_load_string(text, "t.ini", err, sizeof(err));
    if (!e->cfg)
        fail_msg("config: %s", err);
    struct hp_service_cfg *svc = &e->cfg->services[0];
    assert_int_equal(svc->proto->start(svc, e->cfg, err, sizeof(err)), 0);
    strcpy(e->ctx.session, "0123456789ab");
    e->ctx.protocol = "telnet";
    e->ctx.service = "t";
    e->ctx.transport = "tcp";
    hp_buf_init(&e->f.out, 1 << 20);
    e->f.now = 1000000;
    e->sess = calloc(1, hp_tn_session_size());
    hp_tn_session_open(e->sess, svc, &e->ctx, &fake_io, &e->f);
}

static void eng_close(struct eng *e)
{
    hp_tn_session_close(e->sess);
    free(e->sess);
    struct hp_service_cfg *svc = &e->cfg->services[0];
    svc->proto->stop(svc);
    hp_config_free(e->cfg);
    hp_buf_free(&e->f.out);
    unlink(e->userdb);
}

static void eng_in(struct eng *e, const void *p, size_t n)
{
    struct hp_rd rd;
    hp_rd_init(&rd, p, n);
    hp_tn_session_input(e->sess, &rd);
    assert_int_equal(hp_rd_left(&rd), 0);
}

#define IN(e, lit) eng_in((e), (lit), sizeof(lit) - 1)
#define OUT_IS(e, lit) do { ASSERT_BYTES(&(e)->f.out, lit); hp_buf_reset(&(e)->f.out); } while (0)

static void test_engine_busybox_greeting_and_login(void **state)
{
    struct eng e;
    eng_open(&e, "");
    OUT_IS(&e, "\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03\r\r\ntestbox login: ");
    assert_null(e.f.closed);
    assert_int_equal(e.f.timer, 60000);               /* login_timeout */
    /* the client's answers: nothing to say back */
    IN(&e, "\xff\xfc\x01\xff\xfb\x1f\xff\xfd\x01\xff\xfd\x03\xff\xfa\x1f\x00\x64\x00\x1e\xff\xf0");
    OUT_IS(&e, "");
    /* nor to its own requests: busybox telnetd never answers (hydra relies on it);
     * a DONT ECHO does not stop the pty's echo either */
    IN(&e, "\xff\xfb\x22\xff\xfb\x18\xff\xfd\x63\xff\xfd\x06\xff\xfe\x03\xff\xfe\x01");
    OUT_IS(&e, "");
    /* typed name is echoed, with erase */
    IN(&e, "  rooot\x7f");
    OUT_IS(&e, "  rooot\b \b");
    IN(&e, "\r\0");
    OUT_IS(&e, "\r\nPassword: ");
    IN(&e, "bad\r\n");                                 /* no echo */
    OUT_IS(&e, "\r\nLogin incorrect\r\ntestbox login: ");
    IN(&e, "root\r\nbad2\r\n");                        /* typeahead in one segment */
    OUT_IS(&e, "root\r\nPassword: \r\nLogin incorrect\r\ntestbox login: ");
    IN(&e, "\x03");                                    /* ^C: new prompt, no attempt */
    OUT_IS(&e, "^C\r\ntestbox login: ");
    IN(&e, "\r\n");                                    /* empty name: asked again */
    OUT_IS(&e, "\r\ntestbox login: ");
    IN(&e, "admin\r\n\xff\xf6" "x\r\n");               /* AYT in the middle */
    OUT_IS(&e, "admin\r\nPassword: \r\n[Yes]\r\n\r\nLogin incorrect\r\n");
    assert_string_equal(e.f.closed, "max_auth_tries");
    assert_true(hp_tn_session_closed(e.sess));
    IN(&e, "more\r\n");                                /* ignored once closed */
    OUT_IS(&e, "");
    eng_close(&e);
}

static void test_engine_linux_negotiation(void **state)
{
    struct eng e;
    eng_open(&e, "personality = linux\n");
    OUT_IS(&e, "\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27");
    assert_int_equal(e.f.timer, 10000);               /* negotiation_timeout first */
    IN(&e, "\xff\xfb\x18\xff\xfc\x20");               /* two of four answers: still waiting */
    OUT_IS(&e, "");
    IN(&e, "\xff\xfc\x23\xff\xfb\x27");
    OUT_IS(&e, "\xff\xfa\x27\x01\xff\xf0\xff\xfa\x18\x01\xff\xf0"
               "\xff\xfb\x03\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x05\xff\xfd\x21\xff\xfb\x01"
               "Debian GNU/Linux 12\r\ntestbox login: ");
    assert_int_equal(e.f.timer, 60000 - 0);
    /* client: WONT ECHO, WILL NAWS + size, DO SGA, DONT STATUS, WONT LFLOW, DO ECHO, IS ... */
    IN(&e, "\xff\xfc\x01\xff\xfb\x1f\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0\xff\xfd\x03\xff\xfe\x05"
           "\xff\xfc\x21\xff\xfd\x01\xff\xfa\x18\x00XTERM\xff\xf0\xff\xfa\x27\x00\x00USER\x01root\xff\xf0");
    OUT_IS(&e, "");
    IN(&e, "root\r\0wrong\r\0");
    OUT_IS(&e, "root\r\nPassword: \r\n\r\nLogin incorrect\r\ntestbox login: ");
    /* a client WILL ECHO (answer to a DO ECHO we did not send again) is refused */
    IN(&e, "\xff\xfb\x01");
    OUT_IS(&e, "\xff\xfe\x01");
    /* IAC EC erases, IAC IP interrupts (linux only) */
    IN(&e, "ab\xff\xf7" "c\xff\xf4");
    OUT_IS(&e, "ab\b \bc^C\r\ntestbox login: ");
    eng_close(&e);
}

static void test_engine_linux_silent_client(void **state)
{
    struct eng e;
    eng_open(&e, "personality = linux\nnegotiation_timeout = 3s\n");
    OUT_IS(&e, "\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27");
    assert_int_equal(e.f.timer, 3000);
    e.f.now += 3000;
    hp_tn_session_timer(e.sess);
    OUT_IS(&e, "\xff\xfb\x03\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x05\xff\xfd\x21\xff\xfb\x01"
               "Debian GNU/Linux 12\r\ntestbox login: ");
    eng_close(&e);

    /* a client that just types: its text is the user name */
    eng_open(&e, "personality = linux\nissue = Welcome\\r\\n\n");
    hp_buf_reset(&e.f.out);
    IN(&e, "root\r\n");
    OUT_IS(&e, "\xff\xfb\x03\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x05\xff\xfd\x21\xff\xfb\x01"
               "Welcome\r\ntestbox login: root\r\nPassword: ");
    eng_close(&e);
}

static void test_engine_delay_and_timeout(void **state)
{
    struct eng e;
    eng_open(&e, "auth_fail_delay = 2s\nlogin_timeout = 30s\nmax_auth_tries = 2\n");
    hp_buf_reset(&e.f.out);
    assert_int_equal(e.f.timer, 30000);
    IN(&e, "root\r\nbad\r\n");
    OUT_IS(&e, "root\r\nPassword: \r\n");
    assert_int_equal(e.f.timer, 2000);
    /* typed during the delay: kept, echoed only once login reads it */
    e.f.now += 500;
    IN(&e, "root\r\n");
    OUT_IS(&e, "");
    e.f.now += 1000;
    hp_tn_session_timer(e.sess);                      /* early (timer skew): nothing yet */
    OUT_IS(&e, "");
    assert_int_equal(e.f.timer, 500);
    e.f.now += 500;
    hp_tn_session_timer(e.sess);
    OUT_IS(&e, "Login incorrect\r\ntestbox login: root\r\nPassword: ");
    assert_int_equal(e.f.timer, 30000 - 2000);
    e.f.now += 28000;
    hp_tn_session_timer(e.sess);
    OUT_IS(&e, "\r\nLogin timed out after 30 seconds\r\n");
    assert_string_equal(e.f.closed, "login_timeout");
    eng_close(&e);

    /* half-close during the delay: the answer still comes, then the close */
    eng_open(&e, "auth_fail_delay = 1s\n");
    hp_buf_reset(&e.f.out);
    IN(&e, "root\r\nbad\r\n");
    hp_tn_session_eof(e.sess);
    assert_null(e.f.closed);
    e.f.now += 1000;
    hp_tn_session_timer(e.sess);
    assert_string_equal(e.f.closed, "eof");
    OUT_IS(&e, "root\r\nPassword: \r\nLogin incorrect\r\ntestbox login: ");
    eng_close(&e);
}

static void test_engine_linux_max_tries_text(void **state)
{
    struct eng e;
    eng_open(&e, "personality = linux\nmax_auth_tries = 1\n");
    IN(&e, "\xff\xfc\x18\xff\xfc\x20\xff\xfc\x23\xff\xfc\x27");
    hp_buf_reset(&e.f.out);
    IN(&e, "\xff\xfe\x01");                          /* DONT ECHO: telnetd stops echoing */
    IN(&e, "guest\r\n\r\n");
    OUT_IS(&e, "Password: \r\n\r\nLogin incorrect\r\nMaximum number of tries exceeded (1)\r\n");
    assert_string_equal(e.f.closed, "max_auth_tries");
    eng_close(&e);
}

/* ---- configuration --------------------------------------------------------------- */

static void cfg_err(const char *keys, const char *expect)
{
    char err[512], text[1024];
    snprintf(text, sizeof(text), "[service t]\nprotocol = telnet\ntcp_ports = 2323\n%s\n[output jsonl]\n", keys);
    struct hp_config *c = hp_config_load_string(text, "t.ini", err, sizeof(err));
    if (c) {
        hp_config_free(c);
        fail_msg("loaded although it should fail with: %s", expect);
    }
    assert_string_equal(err, expect);
}

static void test_config(void **state)
{
    char err[512];
    struct hp_config *c = hp_config_load_string(
        "[service t]\nprotocol = telnet\ntcp_ports = 2323\npersonality = linux\nhostname = nas-01.lan\n"
        "issue = \\r\\nhi\\r\\n\nuserdb = /nonexistent\naccept_after = 2\nmax_auth_tries = 5\n"
        "auth_fail_delay = 0\nlogin_timeout = 2m\nnegotiation_timeout = 500ms\nrecord = no\n"
        "record_max = 64K\n[output jsonl]\n", "t.ini", err, sizeof(err));
    if (!c)
        fail_msg("%s", err);
    struct hp_service_cfg *svc = &c->services[0];
    /* a missing user database is found at start, not at load */
    assert_int_equal(svc->proto->start(svc, c, err, sizeof(err)), -1);
    hp_config_free(c);
    cfg_err("personality = windows", "t.ini:4: [service t]: bad value for personality: 'windows'");
    cfg_err("hostname = a b", "t.ini:4: [service t]: bad value for hostname: 'a b'");
    cfg_err("hostname = x/y", "t.ini:4: [service t]: bad value for hostname: 'x/y'");
    cfg_err("max_auth_tries = 0", "t.ini:4: [service t]: bad value for max_auth_tries: '0'");
    cfg_err("auth_fail_delay = 2min", "t.ini:4: [service t]: bad value for auth_fail_delay: '2min'");
    cfg_err("accept_after = -1", "t.ini:4: [service t]: bad value for accept_after: '-1'");
    cfg_err("record = maybe", "t.ini:4: [service t]: bad value for record: 'maybe'");
    cfg_err("record_max = 10", "t.ini:4: [service t]: bad value for record_max: '10'");
    cfg_err("negotiation_timeout = 0", "t.ini:4: [service t]: bad value for negotiation_timeout: '0'");
    cfg_err("banner = x", "t.ini:4: unknown key 'banner' in [service t] (protocol telnet)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iac_iac),
        cmocka_unit_test(test_cr_handling),
        cmocka_unit_test(test_agree_and_no_echo_of_answers),
        cmocka_unit_test(test_unknown_refused_once),
        cmocka_unit_test(test_quiet),
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_timing_mark),
        cmocka_unit_test(test_commands_and_junk),
        cmocka_unit_test(test_naws),
        cmocka_unit_test(test_ttype),
        cmocka_unit_test(test_new_environ),
        cmocka_unit_test(test_sb_limits),
        cmocka_unit_test(test_sb_malformed_end),
        cmocka_unit_test(test_split_feeds),
        cmocka_unit_test(test_write_and_send_sb),
        cmocka_unit_test(test_engine_busybox_greeting_and_login),
        cmocka_unit_test(test_engine_linux_negotiation),
        cmocka_unit_test(test_engine_linux_silent_client),
        cmocka_unit_test(test_engine_delay_and_timeout),
        cmocka_unit_test(test_engine_linux_max_tries_text),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
