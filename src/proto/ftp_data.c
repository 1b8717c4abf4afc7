/*
 * ftp_data.c - the FTP data connection.  See ftp_data.h.
 *
 * State: at most one listening socket (passive), one data socket, one
 * timer.  A transfer is a direction plus a buffer: for a send the whole
 * answer (listing or file, already capped by ftp.c), for a receive what
 * the peer sends up to the cap (the rest is read, counted and dropped, so
 * the client sees a normal end of transfer).
 */
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "buf.h"
#include "conn.h"
#include "ftp_data.h"
#include "ftp_parse.h"
#include "sensor.h"
#include "util.h"

#define DATA_CHUNK 16384

enum { X_NONE, X_SEND, X_RECV };

struct ftp_data {
    struct hp_conn *c;
    const struct ftp_data_ops *ops;
    void *arg;
    uint64_t timeout_ms;
    int lfd;                      /* passive listener, -1 */
    struct event *ev_listen;
    int fd;                       /* data connection, -1 */
    struct event *ev_io;
    struct event *ev_timer;
    struct sockaddr_storage active_to;
    bool active_set;
    bool connecting;              /* active connect() in progress */
    int xfer;
    struct hp_buf buf;
    size_t off;
    size_t cap;
    uint64_t total;
};

/* The control connection is kept alive across our callback as conn.c does
 * for its own: while busy, hp_conn_close() only marks it; afterwards a
 * close requested meanwhile is completed (which may free the session and
 * this channel: nothing may touch d after leave()). */
static struct hp_conn *enter(struct ftp_data *d)
{
    d->c->busy++;
    return d->c;
}

static void leave(struct hp_conn *c)
{
    c->busy--;
    if ((c->flags & HP_CONN_CLOSING) && c->busy == 0)
        hp_conn_close(c, c->close_reason);
}

static void close_fd(int *fd, struct event **ev)
{
    if (*ev) {
        event_free(*ev);
        *ev = NULL;
    }
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void arm_timer(struct ftp_data *d)
{
    struct timeval tv = { (time_t)(d->timeout_ms / 1000), (suseconds_t)((d->timeout_ms % 1000) * 1000) };
    evtimer_add(d->ev_timer, &tv);
}

void ftp_data_reset(struct ftp_data *d)
{
    if (!d)
        return;
    close_fd(&d->lfd, &d->ev_listen);
    close_fd(&d->fd, &d->ev_io);
    evtimer_del(d->ev_timer);
    d->active_set = d->connecting = false;
    d->xfer = X_NONE;
    hp_buf_free(&d->buf);
    d->off = d->cap = 0;
    d->total = 0;
}

/* The transfer ended: state cleared first, so done() may start the next one. */
static void finish(struct ftp_data *d, bool ok)
{
    struct hp_buf got = d->buf;
    uint64_t total = d->total;
    int was = d->xfer;
    memset(&d->buf, 0, sizeof(d->buf));
    ftp_data_reset(d);
    if (was != X_NONE && d->ops->done)
        d->ops->done(d->arg, ok, was == X_RECV ? got.data : NULL, was == X_RECV ? got.len : 0, total);
    hp_buf_free(&got);
}

static void progress(struct ftp_data *d)
{
    d->c->last_active_ms = hp_mono_ms();   /* a long transfer keeps the control connection alive */
    arm_timer(d);
}

static void io_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ftp_data *d = arg;
    struct hp_conn *c = enter(d);
    if (d->xfer == X_SEND) {
        size_t left = d->buf.len - d->off;
        ssize_t n = left ? send(fd, d->buf.data + d->off, left, MSG_NOSIGNAL | MSG_DONTWAIT) : 0;
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            finish(d, false);
        } else {
            if (n > 0) {
                d->off += (size_t)n;
                d->total += (uint64_t)n;
                progress(d);
            }
            if (d->off >= d->buf.len)
                finish(d, true);
        }
    } else if (d->xfer == X_RECV) {
        uint8_t tmp[DATA_CHUNK];
        ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
        if (n == 0) {
            finish(d, true);
        } else if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                finish(d, false);
        } else {
            d->total += (uint64_t)n;
            size_t room = d->cap > d->buf.len ? d->cap - d->buf.len : 0;
            if (room)
                hp_buf_put(&d->buf, tmp, (size_t)n < room ? (size_t)n : room);
            progress(d);
        }
    }
    leave(c);
}

/* Both the command and the connection are there: go. */
static void maybe_start(struct ftp_data *d)
{
    if (d->xfer == X_NONE || d->fd < 0 || d->connecting || d->ev_io)
        return;
    short what = (short)((d->xfer == X_SEND ? EV_WRITE : EV_READ) | EV_PERSIST);
    d->ev_io = event_new(hp_sensor.base, d->fd, what, io_cb, d);
    if (!d->ev_io || event_add(d->ev_io, NULL) != 0) {
        finish(d, false);
        return;
    }
    arm_timer(d);
}

static void connect_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ftp_data *d = arg;
    struct hp_conn *c = enter(d);
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        finish(d, false);
    } else {
        event_free(d->ev_io);
        d->ev_io = NULL;
        d->connecting = false;
        maybe_start(d);
    }
    leave(c);
}

static void start_connect(struct ftp_data *d)
{
    struct sockaddr_storage local;
    socklen_t llen = sizeof(local);
    int fd = socket(d->active_to.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        finish(d, false);
        return;
    }
    /* from the address the client talks to, so the reply route is the same */
    if (getsockname(d->c->fd, (struct sockaddr *)&local, &llen) == 0 && local.ss_family == d->active_to.ss_family) {
        if (local.ss_family == AF_INET)
            ((struct sockaddr_in *)&local)->sin_port = 0;
        else
            ((struct sockaddr_in6 *)&local)->sin6_port = 0;
        (void)bind(fd, (struct sockaddr *)&local, llen);
    }
    socklen_t tlen = d->active_to.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    d->fd = fd;
    if (connect(fd, (struct sockaddr *)&d->active_to, tlen) != 0 && errno != EINPROGRESS) {
        finish(d, false);
        return;
    }
    d->connecting = true;
    d->ev_io = event_new(hp_sensor.base, fd, EV_WRITE, connect_cb, d);
    if (!d->ev_io || event_add(d->ev_io, NULL) != 0) {
        finish(d, false);
        return;
    }
    arm_timer(d);
}

static void listen_cb(evutil_socket_t lfd, short what, void *arg)
{
    struct ftp_data *d = arg;
    struct hp_conn *c = enter(d);
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    int fd = accept4(lfd, (struct sockaddr *)&from, &flen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
        if (!ftp_same_ip(&from, &c->peer)) {
            close(fd);                       /* someone else hijacking the port: never theirs */
            if (d->ops->refused)
                d->ops->refused(d->arg, &from);
        } else {
            close_fd(&d->lfd, &d->ev_listen);
            d->fd = fd;
            maybe_start(d);
        }
    }
    leave(c);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ftp_data *d = arg;
    struct hp_conn *c = enter(d);
    if (d->xfer != X_NONE)
        finish(d, false);
    else
        ftp_data_reset(d);                   /* PASV never used: let the port go */
    leave(c);
}

struct ftp_data *ftp_data_new(struct hp_conn *c, const struct ftp_data_ops *ops, void *arg, uint64_t timeout_ms)
{
    struct ftp_data *d = hp_xcalloc(1, sizeof(*d));
    d->c = c;
    d->ops = ops;
    d->arg = arg;
    d->timeout_ms = timeout_ms ? timeout_ms : 30000;
    d->lfd = d->fd = -1;
    d->ev_timer = evtimer_new(hp_sensor.base, timer_cb, d);
    if (!d->ev_timer) {
        free(d);
        return NULL;
    }
    return d;
}

void ftp_data_free(struct ftp_data *d)
{
    if (!d)
        return;
    ftp_data_reset(d);
    event_free(d->ev_timer);
    free(d);
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

int ftp_data_pasv(struct ftp_data *d, uint16_t lo, uint16_t hi, uint16_t *port, struct sockaddr_storage *local)
{
    socklen_t llen = sizeof(*local);
    ftp_data_reset(d);
    if (getsockname(d->c->fd, (struct sockaddr *)local, &llen) != 0)
        return -1;
    int fd = socket(local->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int ok = -1;
    unsigned tries = lo && hi >= lo ? 64 : 1;
    for (unsigned i = 0; i < tries && ok != 0; i++) {
        uint16_t p = lo && hi >= lo ? (uint16_t)(lo + hp_random_u64() % ((uint64_t)hi - lo + 1)) : 0;
        set_port(local, p);
        ok = bind(fd, (struct sockaddr *)local, llen);
    }
    if (ok != 0 || listen(fd, 1) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    llen = sizeof(*local);
    getsockname(fd, (struct sockaddr *)local, &llen);
    d->lfd = fd;
    d->ev_listen = event_new(hp_sensor.base, fd, EV_READ | EV_PERSIST, listen_cb, d);
    if (!d->ev_listen || event_add(d->ev_listen, NULL) != 0) {
        close_fd(&d->lfd, &d->ev_listen);
        errno = ENOMEM;
        return -1;
    }
    *port = hp_sockaddr_port(local);
    arm_timer(d);
    return 0;
}

void ftp_data_active(struct ftp_data *d, const struct sockaddr_storage *to)
{
    ftp_data_reset(d);
    d->active_to = *to;
    d->active_set = true;
}

bool ftp_data_armed(const struct ftp_data *d)
{
    return d && (d->lfd >= 0 || d->fd >= 0 || d->active_set);
}

bool ftp_data_busy(const struct ftp_data *d)
{
    return d && d->xfer != X_NONE;
}

static void begin(struct ftp_data *d)
{
    if (d->fd < 0 && d->active_set) {
        start_connect(d);
        return;
    }
    arm_timer(d);
    maybe_start(d);
}

void ftp_data_send(struct ftp_data *d, struct hp_buf *content)
{
    hp_buf_free(&d->buf);
    d->buf = *content;
    memset(content, 0, sizeof(*content));
    d->off = 0;
    d->total = 0;
    d->xfer = X_SEND;
    begin(d);
}

void ftp_data_recv(struct ftp_data *d, size_t cap)
{
    hp_buf_free(&d->buf);
    hp_buf_init(&d->buf, cap ? cap : 1);
    d->cap = cap;
    d->off = 0;
    d->total = 0;
    d->xfer = X_RECV;
    begin(d);
}
