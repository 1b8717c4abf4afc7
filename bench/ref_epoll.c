/* ref_epoll - minimal reference server for bench/trap.sh.
 *
 *   ref_epoll PORT LOGFILE
 *
 * Single-threaded epoll on 127.0.0.1:PORT.  For each connection: read until
 * EOF (the client half-closes after sending), append one JSON line to a
 * stdio-buffered log (flushed at most every 100 ms, and on exit), close.
 * This is the floor a "record what the client sends and log it" server can
 * reach; hanipo's trap is compared against it.  SIGTERM/SIGINT: flush, exit 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define MAX_FD 65536

struct conn {
    int used;
    size_t bytes;
    struct sockaddr_in peer;
};

static struct conn *conns;
static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void)sig; stop = 1; }

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void log_conn(FILE *f, const struct conn *c)
{
    struct timespec ts;
    struct tm tm;
    char ip[INET_ADDRSTRLEN], tbuf[32], line[256];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S", &tm);
    inet_ntop(AF_INET, &c->peer.sin_addr, ip, sizeof ip);
    int n = snprintf(line, sizeof line,
                     "{\"timestamp\":\"%s.%06ldZ\",\"eventid\":\"session.closed\","
                     "\"src_ip\":\"%s\",\"src_port\":%u,\"bytes\":%zu,\"payload_len\":%zu}\n",
                     tbuf, ts.tv_nsec / 1000, ip, (unsigned)ntohs(c->peer.sin_port),
                     c->bytes, c->bytes);
    if (n > 0)
        fwrite(line, 1, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, f);
}

static void finish(int ep, int fd, FILE *logf)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    log_conn(logf, &conns[fd]);
    conns[fd].used = 0;
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PORT LOGFILE\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "ref_epoll: bad port %s\n", argv[1]);
        return 2;
    }
    FILE *logf = fopen(argv[2], "a");
    if (!logf) {
        perror("ref_epoll: fopen");
        return 1;
    }
    setvbuf(logf, NULL, _IOFBF, 1 << 16);

    conns = calloc(MAX_FD, sizeof *conns);
    if (!conns) {
        perror("ref_epoll: calloc");
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) {
        perror("ref_epoll: socket");
        return 1;
    }
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) < 0) {
        perror("ref_epoll: bind");
        return 1;
    }
    if (listen(lfd, 4096) < 0) {
        perror("ref_epoll: listen");
        return 1;
    }

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        perror("ref_epoll: epoll_create1");
        return 1;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = lfd };
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);

    struct epoll_event evs[MAX_EVENTS];
    char buf[16384];
    double last_flush = mono_now();
    int dirty = 0;

    while (!stop) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, dirty ? 100 : -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("ref_epoll: epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                for (;;) {
                    struct sockaddr_in peer;
                    socklen_t plen = sizeof peer;
                    int cfd = accept4(lfd, (struct sockaddr *)&peer, &plen,
                                      SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (cfd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                            continue;
                        break; /* EAGAIN, or EMFILE etc.: retry on next wakeup */
                    }
                    if (cfd >= MAX_FD) {
                        close(cfd);
                        continue;
                    }
                    conns[cfd].used = 1;
                    conns[cfd].bytes = 0;
                    conns[cfd].peer = peer;
                    struct epoll_event cev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = cfd };
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev) < 0) {
                        conns[cfd].used = 0;
                        close(cfd);
                    }
                }
                continue;
            }
            if (!conns[fd].used)
                continue;
            for (;;) {
                ssize_t r = read(fd, buf, sizeof buf);
                if (r > 0) {
                    conns[fd].bytes += (size_t)r;
                    continue;
                }
                if (r < 0 && errno == EINTR)
                    continue;
                if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                    break;
                finish(ep, fd, logf); /* EOF or error (reset) */
                dirty = 1;
                break;
            }
        }
        if (dirty) {
            double now = mono_now();
            if (now - last_flush >= 0.1) {
                fflush(logf);
                last_flush = now;
                dirty = 0;
            }
        }
    }

    for (int fd = 0; fd < MAX_FD; fd++)
        if (conns[fd].used)
            finish(ep, fd, logf);
    fflush(logf);
    fclose(logf);
    close(ep);
    close(lfd);
    free(conns);
    return 0;
}
