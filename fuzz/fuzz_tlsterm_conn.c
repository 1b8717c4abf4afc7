/*
 * fuzz_tlsterm_conn.c - libFuzzer harness for TLS over a connection
 * (src/proto/tlsterm_conn.c), as http.c, rdp.c and smtp.c use it.
 *
 * Input: byte 0 says where to cut the rest in two flights; the rest is
 * what a client sends first.  A connection is faked around one end of a
 * socketpair (the harness drains the other end, as the client would read).
 * Steps, as the modules take them: the ClientHello fingerprint on every
 * prefix (hp_tlsterm_conn_hello), then both flights fed through the
 * handshake (hp_tlsterm_conn_feed), then an encrypted reply and
 * close_notify (a no-op before the handshake is done).  Checks: a hello is only "wait for
 * more" while the input is shorter than HP_TLS_HELLO_MAX, and once seen it
 * stays seen; a failed feed says why; decrypted bytes stay within the
 * plaintext buffer's cap; everything sent reaches the peer end (no
 * output left queued on a connection nobody closed).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/buffer.h>
#include "conn.h"
#include "intel/tlsfp.h"
#include "proto/tlsterm_conn.h"
#include "fuzz_tls_identity.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int peer_fd = -1;
static struct hp_conn conn;

static void init_once(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    fuzz_tls_identity("fuzz_tlsterm_conn");
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    int big = 4 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    conn.fd = sv[0];
    peer_fd = sv[1];
    snprintf(conn.ctx.session, sizeof(conn.ctx.session), "0123456789ab");
    conn.ctx.protocol = "http";
    conn.ctx.service = "web";
    conn.ctx.transport = "tcp";
    snprintf(conn.ctx.src_ip, sizeof(conn.ctx.src_ip), "192.0.2.7");
    snprintf(conn.ctx.dst_ip, sizeof(conn.ctx.dst_ip), "198.51.100.1");
}

static void drain(void)
{
    char buf[65536];
    while (read(peer_fd, buf, sizeof(buf)) > 0)
        ;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 128 * 1024)
        return 0;
    init_once();
    size_t cut = size > 1 ? (size_t)data[0] * (size - 1) / 255 : 0;
    data++;
    size--;

    struct hp_tlsconn_hello st = { 0 };
    for (size_t n = 0; n <= size; n += 1 + n / 3) {
        struct hp_rd r;
        hp_rd_init(&r, data, n);
        bool was = st.seen;
        bool done = hp_tlsterm_conn_hello(&conn, &r, &st);
        CHECK(done || n < HP_TLS_HELLO_MAX);
        CHECK(!was || (st.seen && done));
        CHECK(done == st.seen);
    }

    struct hp_tlsterm *t = hp_tlsterm_new();
    CHECK(t != NULL);
    struct hp_buf plain;
    hp_buf_init(&plain, 16384);
    const char *why = NULL;
    int r = hp_tlsterm_conn_feed(&conn, t, data, cut, &plain, 1u << 20, &why);
    CHECK(r != -1 || why != NULL);
    drain();
    if (r != -1) {
        r = hp_tlsterm_conn_feed(&conn, t, data + cut, size - cut, &plain, 1u << 20, &why);
        CHECK(r != -1 || why != NULL);
        drain();
    }
    CHECK(plain.len <= plain.cap);
    /* A reply and close_notify, as the modules send them (nothing is
     * encrypted before the handshake is done). */
    hp_tlsterm_conn_send(&conn, t, "HTTP/1.1 200 OK\r\n\r\n", 19);
    hp_tlsterm_conn_bye(&conn, t);
    drain();
    /* Sent whole: nothing left queued (the socket buffer holds a flight). */
    CHECK(!conn.out || evbuffer_get_length(conn.out) == 0);
    hp_buf_free(&plain);
    hp_tlsterm_free(t);
    return 0;
}
