/*
 * test_fetch.c - unit tests for the downloader (src/capture/fetch.c) against
 * servers on the loopback, on a real event loop.
 *
 * TFTP's reply may come from any port of the server (RFC 1350), but only
 * from the address asked: a third party at 127.0.0.2 that answers the RRQ
 * first (it saw the request, or sprayed the client's ports) must not get
 * its bytes stored under the URL, nor an ACK from the sensor.  The server
 * at 127.0.0.1 answers 200 ms later from a port of its own; its file is the
 * one that arrives.  libcurl alone takes the first DATA from anyone.  Over
 * IPv6 (::1, no second loopback address for a third party) the server's
 * reply still gets through the filter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>

#include "capture/addrpolicy.h"
#include "capture/fetch.h"

static const char genuine[] = "#!/bin/sh\necho genuine\n";
static const char injected[] = "#!/bin/sh\necho planted by a third party\n";

struct tftp_race {
    struct event_base *base;
    int srv, tid, inj;                 /* port asked, server's reply port, third party */
    struct sockaddr_storage client;
    struct event *on_rrq, *later, *guard;
    bool done;
    struct hp_fetch_result r;
};

static int udp_on(const char *ip)
{
    if (strchr(ip, ':')) {
        struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
        int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(inet_pton(AF_INET6, ip, &a6.sin6_addr), 1);
        assert_int_equal(bind(fd, (struct sockaddr *)&a6, sizeof(a6)), 0);
        return fd;
    }
    struct sockaddr_in a = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static uint16_t port_of(int fd)
{
    struct sockaddr_in6 a;            /* sin_port and sin6_port share their place */
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin6_port);
}

/* DATA block 1, shorter than 512 bytes: the whole file. */
static void send_data1(int fd, const struct sockaddr_storage *to, const char *body)
{
    socklen_t tolen = to->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    uint8_t pkt[512];
    size_t n = strlen(body);
    memcpy(pkt, "\x00\x03\x00\x01", 4);
    memcpy(pkt + 4, body, n);
    assert_int_equal(sendto(fd, pkt, 4 + n, 0, (const struct sockaddr *)to, tolen), (ssize_t)(4 + n));
}

static void server_answers(evutil_socket_t fd, short what, void *arg)
{
    struct tftp_race *t = arg;
    send_data1(t->tid, &t->client, genuine);
}

static void rrq_arrives(evutil_socket_t fd, short what, void *arg)
{
    struct tftp_race *t = arg;
    uint8_t buf[600];
    socklen_t len = sizeof(t->client);
    assert_true(recvfrom(t->srv, buf, sizeof(buf), 0, (struct sockaddr *)&t->client, &len) > 4);
    if (t->inj >= 0)
        send_data1(t->inj, &t->client, injected);      /* the race: first, from elsewhere */
    struct timeval tv = { 0, 200 * 1000 };
    evtimer_add(t->later, &tv);
}

static void fetched(void *arg, const struct hp_fetch_result *r)
{
    struct tftp_race *t = arg;
    t->r = *r;
    t->done = true;
    event_base_loopbreak(t->base);
}

static void give_up(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopbreak(((struct tftp_race *)arg)->base);
}

/* Fetch tftp://server/bins.sh, a third party at inject_ip (NULL: none) racing the server. */
static void tftp_race(const char *server_ip, const char *inject_ip)
{
    struct tftp_race t = { .base = event_base_new(), .inj = -1 };
    assert_non_null(t.base);
    char dir[] = "/tmp/hp-test-fetch-XXXXXX", err[256];
    assert_non_null(mkdtemp(dir));
    int pfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(pfd >= 0);
    struct hp_addrpol pol;
    assert_int_equal(hp_addrpol_init(&pol, "127.0.0.0/8 ::1", err, sizeof(err)), 0);
    assert_int_equal(hp_fetch_init(t.base, &pol, pfd, err, sizeof(err)), 0);

    t.srv = udp_on(server_ip);
    t.tid = udp_on(server_ip);
    if (inject_ip)
        t.inj = udp_on(inject_ip);
    t.on_rrq = event_new(t.base, t.srv, EV_READ, rrq_arrives, &t);
    t.later = evtimer_new(t.base, server_answers, &t);
    t.guard = evtimer_new(t.base, give_up, &t);
    event_add(t.on_rrq, NULL);
    struct timeval ten = { 10, 0 };
    evtimer_add(t.guard, &ten);

    char url[96];
    bool v6 = strchr(server_ip, ':') != NULL;
    snprintf(url, sizeof(url), "tftp://%s%s%s:%u/bins.sh", v6 ? "[" : "", server_ip, v6 ? "]" : "",
             port_of(t.srv));
    struct hp_fetch_opts o = { .url = url, .max_bytes = 1 << 20, .timeout_ms = 8000 };
    assert_int_equal(hp_fetch_start(&o, fetched, &t), 0);
    event_base_dispatch(t.base);

    assert_true(t.done);
    assert_true(t.r.ok);
    assert_int_equal(t.r.size, strlen(genuine));        /* not the planted file */
    char got[128] = "";
    int fd = openat(pfd, t.r.tmpname, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_true(read(fd, got, sizeof(got) - 1) >= 0);
    close(fd);
    assert_string_equal(got, genuine);
    uint8_t ack[16];
    if (t.inj >= 0) {
        assert_int_equal(recv(t.inj, ack, sizeof(ack), MSG_DONTWAIT), -1);   /* no ACK to the third party */
        assert_int_equal(errno, EAGAIN);
        close(t.inj);
    }

    unlinkat(pfd, t.r.tmpname, 0);
    hp_fetch_shutdown();
    event_free(t.on_rrq);
    event_free(t.later);
    event_free(t.guard);
    close(t.srv);
    close(t.tid);
    close(pfd);
    rmdir(dir);
    hp_addrpol_free(&pol);
    event_base_free(t.base);
}

static void test_tftp_reply_only_from_the_server(void **state)
{
    tftp_race("127.0.0.1", "127.0.0.2");
}

static void test_tftp_ipv6_server_gets_through(void **state)
{
    /* a machine (or container) without IPv6 has no ::1 to test on */
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    bool v6 = fd >= 0 && bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0;
    if (fd >= 0)
        close(fd);
    if (!v6)
        skip();
    tftp_race("::1", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tftp_reply_only_from_the_server),
        cmocka_unit_test(test_tftp_ipv6_server_gets_through),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
