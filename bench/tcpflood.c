/* tcpflood - closed-loop TCP connection load client.
 *
 *   tcpflood -h HOST -p PORT -c CONCURRENCY -d SECONDS [-s PAYLOAD_BYTES] [-w WARMUP_SECONDS]
 *            [-S NSRC]
 *
 * Keeps CONCURRENCY connections in flight (one epoll thread).  Each one:
 * non-blocking connect, send the payload, shutdown(SHUT_WR), read until the
 * server closes (EOF), close with SO_LINGER {1,0}, count, start the next.
 *
 * The client sends the first FIN, so its side of every connection ends in
 * TIME_WAIT no matter what SO_LINGER says (the kernel moves FIN_WAIT2 to
 * TIME_WAIT when the server's FIN arrives, before close()).  With one source
 * address the kernel may reuse a (src, dst) port pair only once per
 * net.ipv4.tcp_tw_reuse_delay (1 s), which caps the rate at roughly
 * ip_local_port_range / 2 s (~14k conn/s with the default range) with the
 * client spinning in connect().  -S NSRC binds the sources round-robin to
 * 127.0.0.1 .. 127.0.0.NSRC (all loopback, IP_BIND_ADDRESS_NO_PORT) and so
 * multiplies the port space; default: no bind (the kernel picks 127.0.0.1).
 *
 * Timeline: WARMUP seconds (default 1) are run first and excluded from the
 * rate, then SECONDS are measured.  After that no new connections are
 * started and the in-flight ones are drained (up to the 5 s timeout), so
 * every connection the server may have seen is either completed or an error.
 *
 * Output (one line):
 *   completed=N total_completed=T errors=E seconds=S conns_per_sec=X
 *   refused=.. reset=.. timeout=.. other=..
 * completed/conns_per_sec: measured window only.  total_completed: every
 * completed connection (warmup + window + drain) - what the server logged.
 * Exit status 0 (even with errors), 2 on usage errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONN_TIMEOUT 5.0

enum state { S_IDLE, S_CONNECTING, S_SENDING, S_READING };

struct slot {
    int fd;
    enum state st;
    size_t sent;
    double started;
};

static struct sockaddr_in target;
static char *payload;
static size_t payload_len;
static int efd;
static int active; /* slots with an open socket */
static int nsrc;   /* >0: bind sources round-robin to 127.0.0.1 .. 127.0.0.nsrc */
static unsigned long src_next;

static unsigned long completed_window, completed_total;
static unsigned long err_refused, err_reset, err_timeout, err_other;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s -h HOST -p PORT -c CONCURRENCY -d SECONDS [-s PAYLOAD_BYTES] [-w WARMUP_SECONDS] [-S NSRC] [-k rdp|http]\n",
            argv0);
    exit(2);
}

/*
 * Payload kinds: "rdp" (default) is the probe catch-all ports see most, an
 * X.224 Connection Request with an mstshash cookie, which the trap records
 * without answering, like the reference; "http" is a GET request, which the
 * trap also answers with a 404 (more work than the reference does).
 */
static const char *kind = "rdp";

static void build_payload(size_t n)
{
    static const char http_head[] = "GET /bench HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: tcpflood/1\r\nX-Pad: ";
    static const char rdp_head[] = "\x03\x00\x00\x00\x00\xe0\x00\x00\x00\x00\x00Cookie: mstshash=";
    int rdp = strcmp(kind, "rdp") == 0;
    const char *head = rdp ? rdp_head : http_head;
    size_t hl = rdp ? sizeof rdp_head - 1 : sizeof http_head - 1;
    const char *tail = rdp ? "\r\n\x01\x00\x08\x00\x03\x00\x00\x00" : "\r\n\r\n";
    size_t tl = rdp ? 10 : 4;
    payload = malloc(n ? n : 1);
    if (!payload) {
        perror("tcpflood: malloc");
        exit(1);
    }
    payload_len = n;
    if (n < hl + tl) { /* too small for the full request: truncate it */
        memcpy(payload, head, n < hl ? n : hl);
        for (size_t i = hl; i < n; i++)
            payload[i] = 'a';
        return;
    }
    memcpy(payload, head, hl);
    memset(payload + hl, 'a', n - hl - tl);
    memcpy(payload + n - tl, tail, tl);
    if (rdp && n <= 0xffff) {                  /* TPKT length, X.224 length indicator */
        payload[2] = (char)(n >> 8);
        payload[3] = (char)(n & 0xff);
        payload[4] = (char)(n - 5 > 0xfe ? 0xfe : n - 5);
    }
}

static void slot_close(struct slot *s)
{
    if (s->fd >= 0) {
        struct linger lg = { 1, 0 };
        setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(s->fd); /* also removes it from the epoll set */
        active--;
    }
    s->fd = -1;
    s->st = S_IDLE;
}

static void count_error(int err)
{
    switch (err) {
    case ECONNREFUSED: err_refused++; break;
    case ECONNRESET:
    case EPIPE: err_reset++; break;
    case ETIMEDOUT: err_timeout++; break;
    default: err_other++; break;
    }
}

static void slot_fail(struct slot *s, int err)
{
    count_error(err);
    slot_close(s);
}

static void set_events(struct slot *s, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = s };
    epoll_ctl(efd, EPOLL_CTL_MOD, s->fd, &ev);
}

/* Send what is left of the payload; on completion half-close and read. */
static void slot_send(struct slot *s)
{
    while (s->sent < payload_len) {
        ssize_t w = send(s->fd, payload + s->sent, payload_len - s->sent, MSG_NOSIGNAL);
        if (w > 0) {
            s->sent += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (s->st != S_SENDING) {
                s->st = S_SENDING;
                set_events(s, EPOLLOUT);
            }
            return;
        }
        slot_fail(s, w < 0 ? errno : EPIPE);
        return;
    }
    if (shutdown(s->fd, SHUT_WR) < 0) {
        slot_fail(s, errno);
        return;
    }
    s->st = S_READING;
    set_events(s, EPOLLIN | EPOLLRDHUP);
}

static void slot_start(struct slot *s, double now)
{
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        count_error(errno);
        s->st = S_IDLE;
        return;
    }
    active++;
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (nsrc > 0) {
        struct sockaddr_in src;
        memset(&src, 0, sizeof src);
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(src_next++ % (unsigned long)nsrc));
        setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(s->fd, (struct sockaddr *)&src, sizeof src) < 0) {
            slot_fail(s, errno);
            return;
        }
    }
    s->sent = 0;
    s->started = now;
    s->st = S_CONNECTING;
    struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = s };
    if (epoll_ctl(efd, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
        slot_fail(s, errno);
        return;
    }
    int r = connect(s->fd, (struct sockaddr *)&target, sizeof target);
    if (r == 0) {
        slot_send(s);
    } else if (errno != EINPROGRESS) {
        slot_fail(s, errno);
    }
}

static void slot_event(struct slot *s, uint32_t events, double now, double win_start, double win_end)
{
    if (s->st == S_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof err;
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
            err = errno;
        if (err) {
            slot_fail(s, err);
            return;
        }
        if (events & (EPOLLERR | EPOLLHUP)) {
            slot_fail(s, ECONNRESET);
            return;
        }
        slot_send(s);
        return;
    }
    if (s->st == S_SENDING) {
        if (events & EPOLLERR) {
            int err = 0;
            socklen_t el = sizeof err;
            getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
            slot_fail(s, err ? err : ECONNRESET);
            return;
        }
        slot_send(s);
        return;
    }
    if (s->st == S_READING) {
        char buf[4096];
        for (;;) {
            ssize_t r = read(s->fd, buf, sizeof buf);
            if (r > 0)
                continue; /* whatever the server says is discarded */
            if (r == 0) {
                completed_total++;
                if (now >= win_start && now < win_end)
                    completed_window++;
                slot_close(s);
                return;
            }
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            slot_fail(s, errno);
            return;
        }
    }
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    int port = 0, conc = 0;
    double dur = 0, warm = 1.0;
    long psize = 100;
    int opt;
    while ((opt = getopt(argc, argv, "h:p:c:d:s:w:S:k:")) != -1) {
        switch (opt) {
        case 'h': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'c': conc = atoi(optarg); break;
        case 'd': dur = strtod(optarg, NULL); break;
        case 's': psize = atol(optarg); break;
        case 'w': warm = strtod(optarg, NULL); break;
        case 'S': nsrc = atoi(optarg); break;
        case 'k': kind = optarg; if (strcmp(kind, "rdp") && strcmp(kind, "http")) usage(argv[0]); break;
        default: usage(argv[0]);
        }
    }
    if (optind != argc || port <= 0 || port > 65535 || conc <= 0 || dur <= 0 || psize < 0 || warm < 0 ||
        nsrc < 0 || nsrc > 254)
        usage(argv[0]);

    memset(&target, 0, sizeof target);
    target.sin_family = AF_INET;
    target.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &target.sin_addr) != 1) {
        fprintf(stderr, "tcpflood: bad IPv4 address %s\n", host);
        return 2;
    }
    build_payload((size_t)psize);
    signal(SIGPIPE, SIG_IGN);

    efd = epoll_create1(EPOLL_CLOEXEC);
    if (efd < 0) {
        perror("tcpflood: epoll_create1");
        return 1;
    }
    struct slot *slots = calloc((size_t)conc, sizeof *slots);
    struct epoll_event *evs = calloc((size_t)conc, sizeof *evs);
    if (!slots || !evs) {
        perror("tcpflood: calloc");
        return 1;
    }

    double t0 = now_s();
    double win_start = t0 + warm, win_end = win_start + dur;
    double last_scan = t0;
    for (int i = 0; i < conc; i++) {
        slots[i].fd = -1;
        slot_start(&slots[i], t0);
    }

    int draining = 0;
    double drain_deadline = win_end + CONN_TIMEOUT + 1.0;
    for (;;) {
        int n = epoll_wait(efd, evs, conc, 50);
        if (n < 0 && errno != EINTR) {
            perror("tcpflood: epoll_wait");
            return 1;
        }
        double now = now_s();
        if (!draining && now >= win_end)
            draining = 1;
        for (int i = 0; i < n; i++) {
            struct slot *s = evs[i].data.ptr;
            slot_event(s, evs[i].events, now, win_start, win_end);
            if (s->st == S_IDLE && !draining)
                slot_start(s, now); /* closed loop: replace it at once */
        }

        if (n <= 0 || now - last_scan >= 0.1) {
            /* per-connection timeout; restart slots whose socket() failed */
            last_scan = now;
            for (int i = 0; i < conc; i++) {
                if (slots[i].st != S_IDLE && now - slots[i].started > CONN_TIMEOUT)
                    slot_fail(&slots[i], ETIMEDOUT);
                if (slots[i].st == S_IDLE && !draining)
                    slot_start(&slots[i], now);
            }
        }
        if (draining && (active == 0 || now > drain_deadline))
            break;
    }

    unsigned long errors = err_refused + err_reset + err_timeout + err_other;
    printf("completed=%lu total_completed=%lu errors=%lu seconds=%.3f conns_per_sec=%.1f"
           " refused=%lu reset=%lu timeout=%lu other=%lu\n",
           completed_window, completed_total, errors, dur, (double)completed_window / dur,
           err_refused, err_reset, err_timeout, err_other);
    free(slots);
    free(evs);
    free(payload);
    close(efd);
    return 0;
}
