/*
 * listener.c - TCP and UDP listening sockets for every configured service.
 *
 * All sockets are bound before privileges are dropped.  Accepting pauses as
 * a whole (every TCP listener's read event is removed) when the global
 * connection cap is reached or an output queue is congested; a 50 ms timer
 * then checks for recovery.  Pending clients wait in the kernel backlog, so
 * overload slows the sensor down rather than losing connections or events.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "config.h"
#include "conn.h"
#include "log.h"
#include "output.h"
#include "proto.h"
#include "sensor.h"
#include "util.h"

#define ACCEPT_BATCH 64      /* accepts per wake-up, for fairness between listeners */
#define LISTEN_BACKLOG 4096

struct listener {
    struct hp_service *svc;
    int fd;
    bool udp;
    uint16_t port;
    struct sockaddr_storage addr;  /* bound address */
    struct event *ev;
};

static struct hp_service *services;
static size_t nservices;
static struct listener *listeners;
static size_t nlisteners;
static bool paused;
static struct event *resume_timer;
static struct hp_ratelimit pause_rl;

size_t hp_listeners_count(void)
{
    return nlisteners;
}

static void accept_cb(evutil_socket_t fd, short what, void *arg)
{
    struct listener *l = arg;
    for (int i = 0; i < ACCEPT_BATCH && !paused; i++) {
        struct sockaddr_storage peer;
        socklen_t pl = sizeof(peer);
        int cfd = accept4(fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EMFILE || errno == ENFILE) {
                hp_sensor.n.refused_error++;
                if (hp_ratelimit_ok(&pause_rl, 10000))
                    hp_error("accept: out of file descriptors; lower [limits] max_connections "
                             "or raise the fd limit");
            }
            return;
        }
        hp_conn_accept(l->svc, cfd, &peer, &l->addr);
        hp_listeners_check();
    }
}

static void udp_cb(evutil_socket_t fd, short what, void *arg)
{
    struct listener *l = arg;
    hp_udp_datagram(l->svc, fd, l->port);
}

static void set_paused(bool on, const char *why)
{
    if (on == paused)
        return;
    paused = on;
    for (size_t i = 0; i < nlisteners; i++) {
        if (listeners[i].udp)
            continue;
        if (on)
            event_del(listeners[i].ev);
        else
            event_add(listeners[i].ev, NULL);
    }
    if (on) {
        hp_sensor.n.accept_pauses++;
        uint64_t k = hp_ratelimit_ok(&pause_rl, 10000);
        if (k)
            hp_warn("accepting paused: %s (%llu pause(s) since last report)", why, (unsigned long long)k);
        struct timeval tv = { 0, 50000 };
        event_add(resume_timer, &tv);
    }
}

void hp_listeners_check(void)
{
    if (!resume_timer || hp_sensor.stopping)
        return;
    hp_conns_unpark();
    const struct hp_config *cfg = hp_sensor.cfg;
    if (!paused) {
        if (hp_sensor.active >= cfg->max_connections)
            set_paused(true, "global connection cap reached ([limits] max_connections)");
        else if (hp_output_congested())
            set_paused(true, "outputs cannot keep up (event queue above high-water mark)");
        return;
    }
    if (hp_sensor.active < cfg->max_connections && !hp_output_congested())
        set_paused(false, NULL);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
    hp_listeners_check();
    if (paused) {
        struct timeval tv = { 0, 50000 };
        event_add(resume_timer, &tv);
    }
}

#define UDP_RCVBUF (4 * 1024 * 1024)

/* Whether port is in net.ipv4.ip_local_port_range (outgoing connections'
 * source ports), for the hint of a failed bind. */
static bool listener_ephemeral(unsigned port)
{
    unsigned lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
    if (f) {
        if (fscanf(f, "%u %u", &lo, &hi) != 2)
            lo = 32768, hi = 60999;
        fclose(f);
    }
    return port >= lo && port <= hi;
}

static int open_socket(const char *addr, uint16_t port, bool udp, struct sockaddr_storage *bound,
                       char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        sl = sizeof(*in);
    } else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        sl = sizeof(*in6);
    } else {
        snprintf(err, errlen, "bad address %s", addr);
        return -1;
    }
    int fd = socket(ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss.ss_family == AF_INET6)   /* "::" means IPv6 only; list 0.0.0.0 too for IPv4 */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (udp && ss.ss_family == AF_INET)      /* learn each datagram's destination address */
        setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    else if (udp)
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
    /* A burst of datagrams (a scan, a flood) must wait in the kernel rather
     * than be dropped there unseen: a larger receive buffer, beyond
     * rmem_max when started as root (SO_RCVBUFFORCE), else what is allowed. */
    if (udp) {
        int rcv = UDP_RCVBUF;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) != 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    }
    /* Replies are small and interactive (banners, prompts, SSH packets): no
     * Nagle, as in sshd.  Set on the listener, Linux's accepted sockets
     * inherit it: one system call fewer per connection. */
    if (!udp)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || (!udp && listen(fd, LISTEN_BACKLOG) != 0)) {
        int e = errno;
        snprintf(err, errlen, "cannot listen on %s%s%s:%u/%s: %s%s", ss.ss_family == AF_INET6 ? "[" : "",
                 addr, ss.ss_family == AF_INET6 ? "]" : "", port, udp ? "udp" : "tcp", strerror(e),
                 (e == EACCES && port < 1024) ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
                 : (e == EADDRINUSE && !udp && listener_ephemeral(port))
                     ? " (if no other program listens there: the port is in the kernel's ephemeral range, and a"
                       " connection this host made may hold it for a minute; reserve it with"
                       " net.ipv4.ip_local_reserved_ports, docs/deployment.md)"
                     : "");
        close(fd);
        return -1;
    }
    /* No quick ACK for the first bytes a client sends: Linux starts every
     * connection in quick-ACK mode and acknowledges a request at once, in a
     * segment of its own, although the answer follows within microseconds
     * and would carry the ACK.  Off on the listener (accepted sockets
     * inherit it), the ACK waits for the answer or the delayed-ACK timer:
     * one packet fewer per HTTP exchange for both ends to process (8 instead
     * of 9 for a Connection: close request).  A client that sends and waits
     * without an answer gets its ACK 40 ms later, as on any established
     * Linux connection.  After listen(), which resets the ACK state. */
    if (!udp) {
        int zero = 0;
        setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof(zero));
    }
    *bound = ss;
    return fd;
}

static int add_listener(struct hp_service *svc, const char *addr, uint16_t port, bool udp,
                        char *err, size_t errlen)
{
    char msg[256];
    struct sockaddr_storage bound;
    int fd = open_socket(addr, port, udp, &bound, msg, sizeof(msg));
    if (fd < 0) {
        snprintf(err, errlen, "[service %s]: %s", svc->cfg->name, msg);
        return -1;
    }
    struct listener *l = &listeners[nlisteners++];
    l->svc = svc;
    l->fd = fd;
    l->udp = udp;
    l->port = port;
    l->addr = bound;
    l->ev = event_new(hp_sensor.base, fd, EV_READ | EV_PERSIST, udp ? udp_cb : accept_cb, l);
    event_add(l->ev, NULL);
    return 0;
}

int hp_listeners_open(const struct hp_config *cfg, char *err, size_t errlen)
{
    size_t total = 0;
    services = hp_xcalloc(cfg->nservices, sizeof(*services));
    nservices = cfg->nservices;
    for (size_t i = 0; i < cfg->nservices; i++)
        total += cfg->services[i].nbind * (cfg->services[i].ntcp + cfg->services[i].nudp);
    listeners = hp_xcalloc(total, sizeof(*listeners));
    for (size_t i = 0; i < cfg->nservices; i++) {
        const struct hp_service_cfg *sc = &cfg->services[i];
        services[i].cfg = sc;
        services[i].proto = sc->proto;
        for (size_t b = 0; b < sc->nbind; b++) {
            for (size_t p = 0; p < sc->ntcp; p++)
                if (add_listener(&services[i], sc->bind[b], sc->tcp_ports[p], false, err, errlen) != 0)
                    return -1;
            for (size_t p = 0; p < sc->nudp; p++)
                if (add_listener(&services[i], sc->bind[b], sc->udp_ports[p], true, err, errlen) != 0)
                    return -1;
        }
    }
    resume_timer = evtimer_new(hp_sensor.base, resume_cb, NULL);
    return 0;
}

void hp_listeners_close(void)
{
    for (size_t i = 0; i < nlisteners; i++) {
        event_free(listeners[i].ev);
        close(listeners[i].fd);
    }
    free(listeners);
    listeners = NULL;
    nlisteners = 0;
    if (resume_timer)
        event_free(resume_timer);
    resume_timer = NULL;
}

/* Services outlive listeners until the connections using them are gone. */
void hp_services_free(void)
{
    free(services);
    services = NULL;
    nservices = 0;
}
