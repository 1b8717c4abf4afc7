/*
 * mod_fixture.h - a protocol module driven as the core drives it, over a
 * socketpair (test_adb.c, test_smtp.c).  Header-only, static functions, as
 * cmd_fixture.h.
 *
 * mod_open loads a one-service configuration, finds the module and calls
 * its on_accept with a connection whose socket's other end (peer) is the
 * client's.  mod_feed gives client bytes as conn.c does: appended to what
 * the module left unread, offered whole, what it used dropped from the
 * front.  mod_recv reads what the module sent; mod_close ends it all.
 */
#ifndef MOD_FIXTURE_H
#define MOD_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "buf.h"
#include "config.h"
#include "conn.h"
#include "proto.h"
#include "reader.h"
#include "sensor.h"

struct mod {
    struct hp_config *cfg;
    struct hp_service svc;
    struct hp_conn c;
    const struct hp_proto *p;
    struct hp_buf in;             /* what the core keeps between reads */
    int peer;                     /* the client's end: what the module sends */
};

/* service: the [service NAME] section's body ("protocol = smtp\n..."); the
 * events' protocol field is protocol. */
static void mod_open(struct mod *m, const char *protocol, const char *service)
{
    char err[256], ini[2048];
    int sp[2];
    memset(m, 0, sizeof(*m));
    snprintf(ini, sizeof(ini), "[sensor]\nname = t\ndata_dir = /tmp\n[output jsonl]\nenabled = true\n"
             "[service s]\n%s", service);
    m->cfg = hp_config_load_string(ini, "t.ini", err, sizeof(err));
    assert_non_null(m->cfg);
    m->p = hp_proto_find(protocol);
    assert_non_null(m->p);
    m->svc.cfg = &m->cfg->services[0];
    m->svc.proto = m->p;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    m->c.fd = sp[0];
    m->peer = sp[1];
    m->c.svc = &m->svc;
    m->c.proto = m->p;
    m->c.pstate = calloc(1, m->p->conn_state_size);
    snprintf(m->c.ctx.session, sizeof(m->c.ctx.session), "0123456789ab");
    m->c.ctx.protocol = protocol;
    hp_buf_init(&m->in, 4 << 20);
    m->p->on_accept(&m->c);
}

static void mod_feed(struct mod *m, const void *p, size_t n)
{
    assert_true(hp_buf_put(&m->in, p, n));
    struct hp_rd r;
    hp_rd_init(&r, m->in.data, m->in.len);
    m->p->on_data(&m->c, &r);
    hp_buf_consume(&m->in, hp_rd_pos(&r));
}

/* What the module has sent so far: its length, the first cap bytes in ans
 * (NULL: counted only). */
static size_t mod_recv(struct mod *m, uint8_t *ans, size_t cap)
{
    size_t got = 0;
    uint8_t tmp[65536];
    ssize_t k;
    while ((k = recv(m->peer, tmp, sizeof(tmp), MSG_DONTWAIT)) > 0) {
        size_t take = (size_t)k < cap - got ? (size_t)k : cap - got;
        if (ans)
            memcpy(ans + got, tmp, take);
        got += take;
    }
    return got;
}

static void mod_close(struct mod *m)
{
    mod_recv(m, NULL, SIZE_MAX);
    m->p->on_close(&m->c);
    free(m->c.pstate);
    close(m->c.fd);
    close(m->peer);
    hp_buf_free(&m->in);
    hp_config_free(m->cfg);
}

#endif
