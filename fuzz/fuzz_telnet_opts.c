/*
 * fuzz_telnet.c - libFuzzer harness for the Telnet front-end: the option
 * parser (src/proto/telnet_opts.c) and the whole session engine of
 * src/proto/telnet.c (negotiation, login, fail delay, timeouts, the shell
 * hand-over) driven without sockets.
 *
 * Byte 0 picks a configuration (busybox or linux personality, delays,
 * accept_after); the rest is used three ways:
 *
 * 1. Chunking invariance: the input is fed to a parser whole and again in
 *    chunks of pseudo-random sizes (1 to 16 bytes); the data, the bytes sent
 *    back, the commands, the subnegotiations (each at most HP_TN_SB_MAX) and
 *    the option changes must be identical.  Every subnegotiation also goes
 *    through the NAWS / TTYPE / NEW-ENVIRON decoders.
 * 2. Output round trip: the input without CR, written with hp_tn_write and
 *    parsed again, gives back exactly the input and nothing else.
 * 3. A session: the input is a program for a fake connection.  Each step is
 *    a control byte: feed the next 1-32 bytes, advance the fake clock (and
 *    fire the module timer when it is due, or spuriously), half-close, or
 *    feed everything left.  Checked: nothing is sent after the session asked
 *    to close, the timer is never armed beyond the longest configured delay,
 *    what the server sends is a well-formed Telnet stream (a client-side
 *    parser reads it), and after hp_tn_session_close nothing leaks.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "config.h"
#include "event.h"
#include "proto.h"
#include "reader.h"
#include "../src/proto/telnet_opts.h"
#include "../src/shell/shell.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* ---- a recording parser ---------------------------------------------------------- */

struct rec {
    struct hp_buf data, sent, cmds, sbs, opts;
};

static void r_data(void *a, const uint8_t *p, size_t n)
{
    CHECK(n > 0);
    hp_buf_put(&((struct rec *)a)->data, p, n);
}

static void r_send(void *a, const uint8_t *p, size_t n)
{
    hp_buf_put(&((struct rec *)a)->sent, p, n);
}

static void r_cmd(void *a, uint8_t c)
{
    CHECK(c >= HP_TN_EOF && c != HP_TN_SB && c != HP_TN_SE && c < HP_TN_WILL);
    hp_buf_putc(&((struct rec *)a)->cmds, c);
}

static void env_cb(void *arg, int kind, const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen,
                   bool has_value)
{
    size_t *total = arg;
    CHECK(kind == HP_TNE_VAR || kind == HP_TNE_USERVAR);
    CHECK(nlen < HP_TN_SB_MAX && vlen < HP_TN_SB_MAX);
    CHECK(has_value || vlen == 0);
    /* touch every byte (ASan checks the ranges) */
    for (size_t i = 0; i < nlen; i++)
        *total += name[i];
    for (size_t i = 0; i < vlen; i++)
        *total += value[i];
}

static void r_sb(void *a, uint8_t opt, const uint8_t *p, size_t n)
{
    struct rec *r = a;
    CHECK(n <= HP_TN_SB_MAX);
    uint8_t hdr[3] = { opt, (uint8_t)(n >> 8), (uint8_t)n };
    hp_buf_put(&r->sbs, hdr, 3);
    hp_buf_put(&r->sbs, p, n);
    unsigned w, h;
    const uint8_t *name;
    size_t len, total = 0;
    if (hp_tn_naws(p, n, &w, &h))
        CHECK(n >= 4 && w == (unsigned)(p[0] << 8 | p[1]) && h == (unsigned)(p[2] << 8 | p[3]));
    if (hp_tn_ttype_is(p, n, &name, &len)) {
        CHECK(n >= 1 && p[0] == HP_TNQ_IS && len == n - 1);
        for (size_t i = 0; i < len; i++)
            total += name[i];
    }
    int k = hp_tn_environ(p, n, env_cb, &total);
    CHECK(k >= -1 && k <= (int)n);
    (void)total;
}

static void r_opt(void *a, bool local, uint8_t opt, bool on)
{
    uint8_t b[3] = { local, opt, on };
    hp_buf_put(&((struct rec *)a)->opts, b, 3);
}

static const struct hp_tn_cb rec_cb = { r_data, r_send, r_cmd, r_sb, r_opt };

static void rec_init(struct rec *r, struct hp_tn *t)
{
    hp_buf_init(&r->data, 1 << 22);
    hp_buf_init(&r->sent, 1 << 22);
    hp_buf_init(&r->cmds, 1 << 22);
    hp_buf_init(&r->sbs, 1 << 22);
    hp_buf_init(&r->opts, 1 << 22);
    hp_tn_init(t, &rec_cb, r);
    static const uint8_t remote[] = { HP_TNO_BINARY, HP_TNO_SGA, HP_TNO_TTYPE, HP_TNO_NAWS, HP_TNO_NEW_ENVIRON };
    for (size_t i = 0; i < sizeof(remote); i++)
        hp_tn_allow(t, false, remote[i]);
    hp_tn_allow(t, true, HP_TNO_ECHO);
    hp_tn_allow(t, true, HP_TNO_SGA);
    hp_tn_allow(t, true, HP_TNO_BINARY);
}

static void rec_free(struct rec *r)
{
    hp_buf_free(&r->data);
    hp_buf_free(&r->sent);
    hp_buf_free(&r->cmds);
    hp_buf_free(&r->sbs);
    hp_buf_free(&r->opts);
}

static bool same(const struct hp_buf *a, const struct hp_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void feed(struct hp_tn *t, const uint8_t *p, size_t n)
{
    struct hp_rd rd;
    hp_rd_init(&rd, p, n);
    hp_tn_feed(t, &rd);
    CHECK(hp_rd_left(&rd) == 0 && hp_rd_ok(&rd));
}

static void parser_invariance(const uint8_t *p, size_t n)
{
    struct hp_tn t1, t2;
    struct rec r1, r2;
    rec_init(&r1, &t1);
    rec_init(&r2, &t2);
    feed(&t1, p, n);
    uint32_t x = 2166136261u;
    for (size_t i = 0; i < n && i < 64; i++)
        x = (x ^ p[i]) * 16777619u;
    size_t i = 0;
    while (i < n) {
        x = x * 1103515245u + 12345u;
        size_t step = 1 + (x >> 16) % 16;
        if (step > n - i)
            step = n - i;
        feed(&t2, p + i, step);
        i += step;
    }
    CHECK(same(&r1.data, &r2.data));
    CHECK(same(&r1.sent, &r2.sent));
    CHECK(same(&r1.cmds, &r2.cmds));
    CHECK(same(&r1.sbs, &r2.sbs));
    CHECK(same(&r1.opts, &r2.opts));
    CHECK(t1.refused == t2.refused && t1.sb_discarded == t2.sb_discarded);
    /* Answers are 3-byte IAC sequences only. */
    CHECK(r1.sent.len % 3 == 0);
    for (size_t k = 0; k < r1.sent.len; k += 3)
        CHECK(r1.sent.data[k] == HP_TN_IAC && r1.sent.data[k + 1] >= HP_TN_WILL);
    rec_free(&r1);
    rec_free(&r2);
}

static void write_roundtrip(const uint8_t *p, size_t n)
{
    struct hp_tn w, rd;
    struct rec rw, rr;
    struct hp_buf x;
    hp_buf_init(&x, 1 << 22);
    for (size_t i = 0; i < n; i++)
        if (p[i] != '\r')
            hp_buf_putc(&x, p[i]);
    rec_init(&rw, &w);
    rec_init(&rr, &rd);
    hp_tn_write(&w, x.data ? x.data : (const uint8_t *)"", x.len);
    feed(&rd, rw.sent.data ? rw.sent.data : (const uint8_t *)"", rw.sent.len);
    CHECK(same(&rr.data, &x));
    CHECK(rr.sent.len == 0 && rr.cmds.len == 0 && rr.sbs.len == 0 && rr.opts.len == 0);
    rec_free(&rw);
    rec_free(&rr);
    hp_buf_free(&x);
}

/* ---- the session engine ---------------------------------------------------------------- */

static const char fuzz_cfg[] =
    "[sensor]\nname = fuzz\n"
    "[service bb]\nprotocol = telnet\ntcp_ports = 2323\nhostname = fuzzbox\nrecord = false\n"
    "accept_after = 3\nmax_auth_tries = 5\nauth_fail_delay = 1s\nlogin_timeout = 20s\n"
    "[service lx]\nprotocol = telnet\ntcp_ports = 2324\npersonality = linux\nrecord = false\n"
    "accept_after = 2\nauth_fail_delay = 0\nnegotiation_timeout = 2s\nlogin_timeout = 30s\n"
    "[service bb0]\nprotocol = telnet\ntcp_ports = 2325\nrecord = false\nauth_fail_delay = 0\n"
    "[service lx1]\nprotocol = telnet\ntcp_ports = 2326\npersonality = linux\nrecord = false\n"
    "auth_fail_delay = 3s\nissue = \\xff\\r\\n\n"
    "[output jsonl]\n";

static struct hp_config *cfg;
#define MAX_DELAY_MS 60000        /* the longest timer any of the services can ask for */

struct fconn {
    struct hp_buf out;
    bool closed;
    bool armed;
    int64_t now, due;
    uint64_t timer;
};

static int f_send(void *a, const void *p, size_t n)
{
    struct fconn *f = a;
    CHECK(!f->closed);
    CHECK(n > 0);
    hp_buf_put(&f->out, p, n);
    return 0;
}

static void f_close(void *a, const char *reason)
{
    struct fconn *f = a;
    CHECK(!f->closed);
    CHECK(reason && *reason);
    f->closed = true;
}

static void f_timer(void *a, uint64_t ms)
{
    struct fconn *f = a;
    CHECK(ms <= MAX_DELAY_MS);
    f->armed = ms > 0;
    f->due = f->now + (int64_t)ms;
}

static int64_t f_now(void *a)
{
    return ((struct fconn *)a)->now;
}

static const struct hp_tn_io fio = { f_send, f_close, f_timer, f_now };

static void drop_event(struct hp_event *ev, void *arg)
{
    (void)arg;
    hp_event_unref(ev);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512];
    (void)argc;
    (void)argv;
    cfg = hp_config_load_string(fuzz_cfg, "fuzz.ini", err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "fuzz_telnet: %s\n", err);
        abort();
    }
    for (size_t i = 0; i < cfg->nservices; i++) {
        struct hp_service_cfg *s = &cfg->services[i];
        if (s->proto->start(s, cfg, err, sizeof(err)) != 0) {
            fprintf(stderr, "fuzz_telnet: start: %s\n", err);
            abort();
        }
    }
    hp_event_set_sensor("fuzz");
    hp_shell_set_event_hook(drop_event, NULL);
    return 0;
}

static void session(uint8_t sel, const uint8_t *p, size_t n)
{
    struct hp_evctx ctx;
    struct fconn f;
    memset(&ctx, 0, sizeof(ctx));
    memset(&f, 0, sizeof(f));
    strcpy(ctx.session, "0123456789ab");
    ctx.protocol = "telnet";
    ctx.service = "fuzz";
    ctx.transport = "tcp";
    strcpy(ctx.src_ip, "192.0.2.1");
    strcpy(ctx.dst_ip, "192.0.2.2");
    hp_buf_init(&f.out, 1 << 24);
    f.now = 1000;
    void *s = calloc(1, hp_tn_session_size());
    CHECK(s);
    hp_tn_session_open(s, &cfg->services[sel % cfg->nservices], &ctx, &fio, &f);

    size_t i = 0;
    while (i < n && !f.closed) {
        uint8_t op = p[i++];
        switch (op & 7) {
        case 0: case 1: case 2: case 3: case 4: {
            size_t k = (size_t)(op >> 3) + 1;
            if (k > n - i)
                k = n - i;
            struct hp_rd rd;
            hp_rd_init(&rd, p + i, k);
            hp_tn_session_input(s, &rd);
            CHECK(hp_rd_left(&rd) == 0);
            i += k;
            break;
        }
        case 5:                         /* time passes */
            f.now += (int64_t)(op >> 3) * 400;
            if (f.armed && f.now >= f.due) {
                f.armed = false;
                hp_tn_session_timer(s);
            } else if (op & 0x80) {
                hp_tn_session_timer(s); /* a timer that fires early must do no harm */
            }
            break;
        case 6:
            hp_tn_session_eof(s);
            break;
        case 7: {
            struct hp_rd rd;
            hp_rd_init(&rd, p + i, n - i);
            hp_tn_session_input(s, &rd);
            CHECK(hp_rd_left(&rd) == 0);
            i = n;
            break;
        }
        }
        CHECK(hp_tn_session_closed(s) == f.closed);
    }
    /* Let every pending delay run out, as the event loop would. */
    for (int k = 0; k < 8 && f.armed && !f.closed; k++) {
        f.now = f.due;
        f.armed = false;
        hp_tn_session_timer(s);
    }
    hp_tn_session_close(s);
    free(s);

    /* What the server sent parses as a Telnet stream. */
    struct hp_tn t;
    struct rec r;
    rec_init(&r, &t);
    feed(&t, f.out.data ? f.out.data : (const uint8_t *)"", f.out.len);
    rec_free(&r);
    hp_buf_free(&f.out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    parser_invariance(data + 1, size - 1);
    write_roundtrip(data + 1, size - 1);
    session(sel, data + 1, size - 1);
    return 0;
}
