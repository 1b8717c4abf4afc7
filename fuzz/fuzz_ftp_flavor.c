/*
 * fuzz_ftp_flavor.c - the FTP module's whole control session (src/proto/
 * ftp.c) as each product answers it (src/proto/ftp_flavor.c: vsftpd,
 * ProFTPD, Pure-FTPd, Microsoft FTP), driven as the core drives it: a
 * connection over a socketpair, on_accept, then on_data with what the
 * module left unread plus the next line, as tests/unit/mod_fixture.h does.
 *
 * Byte 0: bits 0-1 the product; bits 2-3 where the session starts: before
 * login, logged in anonymously, logged in as a named user, or logged in
 * after a wrong password whose delayed 530 the harness fires; bits 4-5 the
 * bytes the line is fed in (whole, or 1, 7 or 61 at a time).  The rest is
 * command lines split at '\n', each sent with CRLF; a line starting with
 * 0xfe fires the module's timer first (the failed-login delay: fired here,
 * never waited for).  After every piece: the timer is fired when the
 * module waits on it, as the event loop would.  Checked after every line:
 * whatever was answered ends in CRLF, no reply line is longer than
 * HP_REPLY_MAX (and nothing at all longer than a listing's bound), and
 * every non-empty line taken while the session neither waited nor closed
 * left exactly one command.input event (at least one when it is longer
 * than the product reads as one line: FTP_LINE_MAX, or vsftpd's 4096).
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "buf.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "output.h"
#include "proto.h"
#include "reader.h"
#include "sensor.h"
#include "proto/reply.h"
#include "../src/proto/ftp_int.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned n_inputs;

static void tap(struct hp_event *e, void *arg)
{
    (void)arg;
    if (strstr(e->json, "\"eventid\":\"command.input\""))
        n_inputs++;
}

struct mod {
    struct hp_service svc;
    struct hp_conn c;
    const struct hp_proto *p;
    struct hp_buf in;
    int peer;
};

static struct hp_config *cfgs[4][2];           /* product x accept_after 1 or 2 */

static void init(void)
{
    hp_sensor.base = event_base_new();
    hp_output_set_tap(tap, NULL);
    for (size_t i = 0; i < 4; i++)
        for (size_t a = 0; a < 2; a++) {
            char ini[1024], err[256];
            const struct ftp_flavour *fl = ftp_flavour_at(i);
            snprintf(ini, sizeof(ini), "[sensor]\nname = t\ndata_dir = /tmp\n[output jsonl]\nenabled = true\n"
                     "[service s]\nprotocol = ftp\nserver = %s\nversion = %s\naccept_after = %zu\n"
                     "anonymous = yes\nmax_auth_tries = 3\n", fl->name, fl->versions[0], a + 1);
            cfgs[i][a] = hp_config_load_string(ini, "f.ini", err, sizeof(err));
            CHECK(cfgs[i][a]);
        }
}

/* What the module sent since the last look: it ends in CRLF and its lines are bounded. */
static void check_replies(struct mod *m)
{
    static uint8_t got[FTP_LIST_MAX + 65536];
    size_t n = 0;
    ssize_t k;
    while ((k = recv(m->peer, got + n, sizeof(got) - n, MSG_DONTWAIT)) > 0)
        n += (size_t)k;
    CHECK(n < sizeof(got));
    if (n == 0)
        return;
    CHECK(n >= 2 && got[n - 2] == '\r' && got[n - 1] == '\n');
    size_t start = 0;
    for (size_t i = 0; i < n; i++)
        if (got[i] == '\n') {
            CHECK(i + 1 - start <= HP_REPLY_MAX);
            start = i + 1;
        }
}

static struct ftp_sess *sess(struct mod *m)
{
    return m->c.pstate;
}

/* One piece of client bytes, as conn.c gives it; then the delayed 530 if due. */
static void feed(struct mod *m, const void *p, size_t n)
{
    if (m->c.flags & HP_CONN_CLOSING)
        return;
    CHECK(hp_buf_put(&m->in, p, n));
    struct hp_rd r;
    hp_rd_init(&r, m->in.data, m->in.len);
    m->p->on_data(&m->c, &r);
    CHECK(hp_rd_pos(&r) <= m->in.len);
    hp_buf_consume(&m->in, hp_rd_pos(&r));
}

static void fire(struct mod *m)
{
    if (m->c.flags & HP_CONN_CLOSING)
        return;
    m->p->on_timer(&m->c);
    feed(m, "", 0);                        /* the core offers the waiting input again */
}

static bool open_mod(struct mod *m, size_t prod, size_t accept)
{
    int sp[2];
    memset(m, 0, sizeof(*m));
    m->p = hp_proto_find("ftp");
    CHECK(m->p);
    m->svc.cfg = &cfgs[prod][accept]->services[0];
    m->svc.proto = m->p;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0)
        return false;
    int big = 4 << 20;
    setsockopt(sp[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    setsockopt(sp[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    m->c.fd = sp[0];
    m->peer = sp[1];
    m->c.svc = &m->svc;
    m->c.proto = m->p;
    m->c.pstate = calloc(1, m->p->conn_state_size);
    m->c.ev_read = event_new(hp_sensor.base, -1, 0, NULL, NULL);
    m->c.busy++;                            /* the harness owns the connection: hp_conn_close never frees it */
    snprintf(m->c.ctx.session, sizeof(m->c.ctx.session), "0123456789ab");
    m->c.ctx.protocol = "ftp";
    hp_buf_init(&m->in, 1u << 20);
    m->p->on_accept(&m->c);
    return true;
}

static void close_mod(struct mod *m)
{
    check_replies(m);
    m->p->on_close(&m->c);
    free(m->c.pstate);
    if (m->c.ev_timer)
        event_free(m->c.ev_timer);
    event_free(m->c.ev_read);
    close(m->c.fd);
    close(m->peer);
    hp_buf_free(&m->in);
}

/* A line fed in pieces of step bytes (0: whole), CRLF added. */
static void line(struct mod *m, const uint8_t *p, size_t n, size_t step)
{
    uint8_t *l = malloc(n + 2);
    memcpy(l, p, n);
    memcpy(l + n, "\r\n", 2);
    size_t len = n + 2;
    for (size_t off = 0; off < len;) {
        size_t k = step && len - off > step ? step : len - off;
        feed(m, l + off, k);
        off += k;
        if (sess(m)->fail_wait)
            fire(m);
    }
    free(l);
}

/* Does the module see a command in this line (ftp_line's trimming)? */
static bool has_command(const uint8_t *p, size_t n)
{
    while (n && (p[0] >= 0xf0 || p[0] == 0))
        p++, n--;
    while (n && p[n - 1] == '\r')
        n--;
    return n > 0;
}

static void login(struct mod *m, unsigned how)
{
    static const char *const scripts[] = { "", "USER anonymous\nPASS a@b\n", "USER root\nPASS toor\n",
                                           "USER admin\nPASS x\nUSER admin\nPASS admin\n" };
    const char *sc = scripts[how];
    while (*sc) {
        const char *nl = strchr(sc, '\n');
        line(m, (const uint8_t *)sc, (size_t)(nl - sc), 0);
        sc = nl + 1;
    }
    check_replies(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool inited;
    if (!inited) {
        init();
        inited = true;
    }
    if (size < 1)
        return 0;
    static const size_t steps[] = { 0, 1, 7, 61 };
    size_t prod = data[0] & 3, how = (data[0] >> 2) & 3, step = steps[(data[0] >> 4) & 3];
    struct mod m;
    if (!open_mod(&m, prod, how == 3 ? 1 : 0))
        return 0;
    check_replies(&m);
    login(&m, (unsigned)how);
    if (how && !(m.c.flags & HP_CONN_CLOSING))
        CHECK(sess(&m)->logged_in);
    const struct ftp_flavour *fl = ftp_flavour_at(prod);
    size_t cut = fl->vsftpd || fl->proftpd ? FTP_VSFTPD_LINE_MAX - 8 : FTP_LINE_MAX - 2;
    for (size_t i = 1; i < size && !(m.c.flags & HP_CONN_CLOSING);) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t end = nl ? (size_t)(nl - data) : size;
        const uint8_t *p = data + i;
        size_t n = end - i;
        i = end + 1;
        if (n && p[0] == 0xfe) {
            if (sess(&m)->fail_wait)
                fire(&m);
            p++, n--;
        }
        bool quiet = sess(&m)->waiting || sess(&m)->closing || m.in.len > 0;
        unsigned before = n_inputs;
        line(&m, p, n, step);
        if (!quiet && has_command(p, n))   /* a line over the product's limit may be cut in several */
            CHECK(n < cut ? n_inputs - before == 1 : n_inputs - before >= 1);
        check_replies(&m);
    }
    close_mod(&m);
    return 0;
}
