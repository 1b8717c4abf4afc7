/*
 * fuzz_ftp_data.c - the FTP data channel (src/proto/ftp_data.c) with a real
 * peer on real sockets.
 *
 * Why this shape: ftp_data.c parses no bytes.  What the peer controls is
 * the channel itself: who connects to the passive port (only the control
 * peer's address is taken), when the connection comes relative to the
 * command, how the bytes of an upload are cut into reads, how much it sends
 * against the cap, whether it ends with a FIN or a reset, how fast it reads
 * a download, or whether it never shows up.  So the harness runs the
 * channel on a libevent base (hp_sensor.base, as in the sensor) against a
 * fake control connection and plays the peer itself, byte 0 choosing the
 * scenario and the rest being the file:
 *
 *   bit 0  passive (a TCP listener on 127.0.0.1, the control connection's
 *          local address) or active (the channel connects out)
 *   bit 1  download (ftp_data_send: the peer reads) or upload (ftp_data_recv)
 *   bit 2  passive: first a connection from 127.0.0.2, another address
 *   bit 3  a download's peer stops reading after the first bytes and closes
 *   bit 4  passive: the command comes before the connection
 *   bit 5  nobody connects: the channel must time out
 *   bits 6-7 and byte 1: read/write chunk sizes and the upload cap
 *
 * Checked, as the FTP module relies on it: done() is called exactly once per
 * transfer; an upload ended by the peer's FIN is ok and delivers exactly the
 * first min(cap, size) bytes with total = size; an upload ended by a reset
 * is not ok and delivers a prefix of them; a download delivers every byte,
 * in order, then EOF, with total = size; a connection from another address
 * is refused (refused() with that address, the socket closed) and the right
 * peer still gets in; when nobody connects the channel times out (done(!ok));
 * after a transfer the channel is neither busy nor armed; no descriptor
 * leaks across runs.
 *
 * Sockets: passive runs use TCP on loopback, arranged so that the harness
 * never closes first with a FIN (it resets instead), which leaves no
 * TIME_WAIT sockets and takes no ports on a shared machine: a passive
 * upload always ends with a reset, and the upload ended by a FIN is played
 * in active mode, whose peer is an abstract AF_UNIX listener (the channel's
 * connect/read/write code does not depend on the address family).
 * Thousands of runs per second stay cheap.
 */
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "buf.h"
#include "conn.h"
#include "sensor.h"
#include "proto/ftp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static struct hp_conn conn;          /* the control connection, as ftp.c hands it over */
static int ulisten = -1;             /* the active mode's peer */
static struct sockaddr_storage uaddr;
static int first_free_fd = -1;

static struct {
    int calls;
    bool ok;
    uint8_t *data;
    size_t len;
    uint64_t total;
    int refused;
    struct sockaddr_storage from;
} res;

static void on_done(void *arg, bool ok, const uint8_t *p, size_t n, uint64_t total)
{
    (void)arg;
    res.calls++;
    res.ok = ok;
    free(res.data);
    res.data = n ? malloc(n) : NULL;
    if (n)
        memcpy(res.data, p, n);
    res.len = n;
    res.total = total;
}

static void on_refused(void *arg, const struct sockaddr_storage *from)
{
    (void)arg;
    res.refused++;
    res.from = *from;
}

static const struct ftp_data_ops ops = { on_done, on_refused };

#define LO1 0x7f000001u               /* 127.0.0.1: the control peer */
#define LO2 0x7f000002u               /* 127.0.0.2: someone else */

static struct sockaddr_in v4(uint32_t ip, uint16_t port)
{
    struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port) };
    in.sin_addr.s_addr = htonl(ip);
    return in;
}

static void setup(void)
{
    hp_sensor.base = event_base_new();
    CHECK(hp_sensor.base);
    conn.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in lo = v4(LO1, 0);
    CHECK(conn.fd >= 0 && bind(conn.fd, (struct sockaddr *)&lo, sizeof(lo)) == 0);
    memcpy(&conn.peer, &lo, sizeof(lo));
    /* The channel connects with an address length of sizeof(sockaddr_in6)
     * for a non-IPv4 family: an abstract name filling exactly that. */
    struct sockaddr_un *un = (struct sockaddr_un *)&uaddr;
    un->sun_family = AF_UNIX;
    snprintf(un->sun_path + 1, sizeof(struct sockaddr_in6) - sizeof(sa_family_t) - 1, "hp-fuzz-ftpdata-%d",
             (int)getpid());
    ulisten = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CHECK(ulisten >= 0 && bind(ulisten, (struct sockaddr *)&uaddr, sizeof(struct sockaddr_in6)) == 0);
    CHECK(listen(ulisten, 16) == 0);
}

static void loop_once(bool block)
{
    event_base_loop(hp_sensor.base, EVLOOP_ONCE | (block ? 0 : EVLOOP_NONBLOCK));
}

/* Run the loop until done() was called (the channel's own timer bounds it). */
static void run_until_done(void)
{
    for (int i = 0; i < 100000 && res.calls == 0; i++)
        loop_once(true);
    CHECK(res.calls == 1);
}

/* Close so that no TIME_WAIT stays behind: a reset. */
static void reset_close(int fd)
{
    struct linger l = { 1, 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    close(fd);
}

static bool wait_fd(int fd, short what, int ms)
{
    struct pollfd p = { fd, what, 0 };
    return poll(&p, 1, ms) == 1;
}

static int tcp_connect(uint32_t from, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    struct sockaddr_in src = v4(from, 0), dst = v4(LO1, port);
    CHECK(bind(fd, (struct sockaddr *)&src, sizeof(src)) == 0);
    CHECK(connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == 0);
    return fd;
}

/* The control peer connects to the passive port; the channel accepts it
 * on the next turns of the loop. */
static int passive_connect(uint16_t port)
{
    int fd = tcp_connect(LO1, port);
    loop_once(false);
    loop_once(false);
    return fd;
}

/* An address other than the control peer's connects first: refused, closed. */
static void hijack(uint16_t port)
{
    int h = tcp_connect(LO2, port);
    for (int i = 0; i < 1000 && res.refused == 0; i++)
        loop_once(true);
    CHECK(res.refused == 1 && res.from.ss_family == AF_INET);
    CHECK(((struct sockaddr_in *)&res.from)->sin_addr.s_addr == htonl(LO2));
    char b;
    CHECK(wait_fd(h, POLLIN, 2000) && recv(h, &b, 1, 0) <= 0);   /* closed on it */
    reset_close(h);
}

/* The i-th read or write size: a pattern for the first 64, then large ones
 * (so that a big file cut in bytes does not make a run slow). */
static size_t chunk_of(uint8_t sel, size_t i)
{
    static const size_t sizes[4][4] = { { 1, 7, 3, 2 }, { 512, 1, 4096, 33 }, { 16384, 16384, 16384, 16384 },
                                        { 65536, 65536, 65536, 65536 } };
    return i < 64 ? sizes[sel][i % 4] : 65536;
}

static void upload(int peer, bool passive, uint8_t sel, const uint8_t *p, size_t n, size_t cap)
{
    size_t off = 0;
    for (size_t i = 0; off < n; i++) {
        size_t k = chunk_of(sel, i);
        if (k > n - off)
            k = n - off;
        CHECK(wait_fd(peer, POLLOUT, 2000));
        ssize_t w = send(peer, p + off, k, MSG_NOSIGNAL | MSG_DONTWAIT);
        CHECK(w > 0 || (w < 0 && errno == EAGAIN));
        if (w > 0)
            off += (size_t)w;
        loop_once(false);
        loop_once(false);
    }
    if (passive) {                  /* always a reset on TCP: see the top comment */
        reset_close(peer);
        run_until_done();
        CHECK(!res.ok);
    } else {
        close(peer);                /* AF_UNIX: the end of the upload, a FIN */
        run_until_done();
        CHECK(res.ok && res.total == n);
        CHECK(res.len == (n < cap ? n : cap));
    }
    CHECK(res.len <= cap && res.len <= n && res.total <= n);
    CHECK(res.len == 0 || memcmp(res.data, p, res.len) == 0);
}

static void download(int peer, bool abrupt, uint8_t sel, const uint8_t *p, size_t n)
{
    static uint8_t got[1 << 17];
    size_t have = 0;
    bool eof = false;
    for (size_t i = 0; i < 200000 && !(eof && res.calls); i++) {
        loop_once(false);
        if (eof)
            continue;
        if (abrupt && have > 0)
            break;
        size_t k = chunk_of(sel, i);
        if (k > sizeof(got) - have)
            k = sizeof(got) - have;
        ssize_t r = recv(peer, got + have, k ? k : 1, MSG_DONTWAIT);
        if (r > 0)
            have += (size_t)r;
        else if (r == 0)
            eof = true;
        else if (errno == EAGAIN)
            wait_fd(peer, POLLIN, 1);
        else
            CHECK(0);
        CHECK(have <= n);
    }
    if (abrupt && !eof) {
        reset_close(peer);
        run_until_done();
        CHECK(res.total <= n);
    } else {
        reset_close(peer);
        CHECK(eof && res.calls == 1 && res.ok && have == n && res.total == n);
    }
    CHECK(have == 0 || memcmp(got, p, have) == 0);
    CHECK(res.data == NULL && res.len == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 2 + 65536)
        return 0;
    if (!hp_sensor.base)
        setup();
    uint8_t mode = data[0];
    bool passive = mode & 1, send_mode = mode & 2, hij = mode & 4, abrupt = mode & 8, cmd_first = mode & 16,
         nobody = mode & 32;
    uint8_t sel = mode >> 6;
    size_t cap = (size_t)data[1] * 97;
    const uint8_t *p = data + 2;
    size_t n = size - 2;

    int probe = dup(0);                          /* the lowest free descriptor: no leaks */
    close(probe);
    if (first_free_fd < 0)
        first_free_fd = probe;
    CHECK(probe == first_free_fd);

    memset(&res, 0, sizeof(res));
    struct ftp_data *d = ftp_data_new(&conn, &ops, NULL, nobody ? 1 : 5000);
    CHECK(d && !ftp_data_armed(d) && !ftp_data_busy(d));
    struct hp_buf content;
    hp_buf_init(&content, n ? n : 1);
    CHECK(hp_buf_put(&content, p, n));

    int peer = -1;
    uint16_t port = 0;
    if (passive) {
        struct sockaddr_storage local;
        CHECK(ftp_data_pasv(d, 0, 0, &port, &local) == 0 && port != 0 && ftp_data_armed(d));
        if (hij && !nobody)
            hijack(port);
        if (!nobody && !cmd_first)
            peer = passive_connect(port);
    } else if (!nobody) {
        ftp_data_active(d, &uaddr);
        CHECK(ftp_data_armed(d));
    }
    if (send_mode) {
        ftp_data_send(d, &content);
        CHECK(content.data == NULL && content.len == 0);
    } else {
        ftp_data_recv(d, cap);
    }
    CHECK(ftp_data_busy(d) || res.calls == 1);
    if (nobody) {
        run_until_done();                        /* the 1 ms timer */
        CHECK(!res.ok && res.total == 0 && res.len == 0);
    } else {
        if (passive && peer < 0)
            peer = passive_connect(port);
        if (!passive) {
            CHECK(wait_fd(ulisten, POLLIN, 2000));
            peer = accept4(ulisten, NULL, NULL, SOCK_CLOEXEC);
            CHECK(peer >= 0);
        }
        if (send_mode)
            download(peer, abrupt, sel, p, n);
        else
            upload(peer, passive, sel, p, n, cap);
    }
    CHECK(res.calls == 1 && !ftp_data_busy(d) && !ftp_data_armed(d));
    ftp_data_free(d);
    hp_buf_free(&content);
    free(res.data);
    res.data = NULL;
    return 0;
}
