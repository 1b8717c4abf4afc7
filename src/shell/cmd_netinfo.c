/*
 * cmd_netinfo.c - the machine's own network: ifconfig, ip, route, arp,
 * netstat, ss, and the reachability probes ping and nslookup.
 *
 * The interface carries the address the client connected to
 * (c->sess->local_ip) when it is a real one, otherwise one drawn from the
 * personality's seed on its LAN; the gateway is .1 of that /24; counters
 * come from /proc/net/dev and listening ports from /proc/net/tcp as
 * persona.c generates them, so every program here and the /proc files
 * agree.  The box is offline in the same way as for the download programs
 * (cmd_net.c): names do not resolve, only the machine's own addresses
 * answer a ping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cmd_sys.h"
#include "buf.h"

/* ==== the machine's network ============================================================ */

struct net_facts {
    char addr[64];                /* interface address */
    char net[64], gw[64], bcast[64];
    uint8_t gwmac[6];
    unsigned long long rx_bytes, rx_pkts, tx_bytes, tx_pkts, rx_drop;
    unsigned long long lo_bytes, lo_pkts;
};

static bool is_loopback_or_any(const char *a)
{
    return !a || !a[0] || !strncmp(a, "127.", 4) || !strcmp(a, "0.0.0.0") || strchr(a, ':');
}

static void net_facts(struct sh_cmd *c, struct net_facts *f)
{
    const struct hp_persona *p = c->persona;
    memset(f, 0, sizeof(*f));
    const char *local = c->sess ? c->sess->local_ip : NULL;
    if (!is_loopback_or_any(local) && sys_host_is_ip(local, false))
        snprintf(f->addr, sizeof(f->addr), "%s", local);
    else if (p->busybox)
        snprintf(f->addr, sizeof(f->addr), "192.168.1.%u", 10 + (unsigned)(p->seed % 200));
    else
        snprintf(f->addr, sizeof(f->addr), "10.%u.0.%u", (unsigned)(uint8_t)(p->seed >> 24),
                 10 + (unsigned)(p->seed % 200));
    unsigned a, b, cc, d;
    if (sscanf(f->addr, "%u.%u.%u.%u", &a, &b, &cc, &d) != 4)
        a = 10, b = 0, cc = 0, d = 5;
    snprintf(f->net, sizeof(f->net), "%u.%u.%u.0", a, b, cc);
    snprintf(f->gw, sizeof(f->gw), "%u.%u.%u.1", a, b, cc);
    snprintf(f->bcast, sizeof(f->bcast), "%u.%u.%u.255", a, b, cc);
    uint64_t s = p->seed * 0x9e3779b97f4a7c15ull;
    f->gwmac[0] = p->busybox ? 0x00 : 0x52;
    f->gwmac[1] = p->busybox ? 0x1e : 0x54;
    for (int i = 2; i < 6; i++)
        f->gwmac[i] = (uint8_t)(s >> (8 * i));
    /* counters from /proc/net/dev */
    struct hp_buf dev;
    hp_buf_init(&dev, 65536);
    hp_persona_gen(p, "net_dev", c->now_s, &dev);
    const char *t = hp_buf_cstr(&dev);
    for (const char *l = t; l && *l;) {
        const char *colon = strchr(l, ':'), *eol = strchr(l, '\n');
        if (colon && (!eol || colon < eol)) {
            const char *n = l;
            while (*n == ' ')
                n++;
            unsigned long long v[16] = { 0 };
            int k = sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                           &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
            if (k == 10 && !strncmp(n, "lo:", 3)) {
                f->lo_bytes = v[0];
                f->lo_pkts = v[1];
            } else if (k == 10 && (size_t)(colon - n) == strlen(p->ifname) && !strncmp(n, p->ifname, strlen(p->ifname))) {
                f->rx_bytes = v[0];
                f->rx_pkts = v[1];
                f->rx_drop = v[3];
                f->tx_bytes = v[8];
                f->tx_pkts = v[9];
            }
        }
        l = eol ? eol + 1 : NULL;
    }
    hp_buf_free(&dev);
}

static void mac_str(const uint8_t m[6], bool upper, char out[18])
{
    snprintf(out, 18, upper ? "%02X:%02X:%02X:%02X:%02X:%02X" : "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
             m[3], m[4], m[5]);
}

/* fe80:: address from the MAC (EUI-64). */
static void link_local(const uint8_t m[6], char out[40])
{
    snprintf(out, 40, "fe80::%x:%x:%x:%x", ((m[0] ^ 2) << 8) | m[1], (m[2] << 8) | 0xff, 0xfe00 | m[3],
             (m[4] << 8) | m[5]);
}

static void human_bytes(unsigned long long v, char *out, size_t n)
{
    static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double d = (double)v;
    int i = 0;
    while (d >= 1024.0 && i < 4) {
        d /= 1024.0;
        i++;
    }
    if (i == 0)
        snprintf(out, n, "%llu.0 B", v);
    else
        snprintf(out, n, "%.1f %s", d, u[i]);
}

static int cmd_ifconfig(struct sh_cmd *c)
{
    const struct hp_persona *p = c->persona;
    struct net_facts f;
    net_facts(c, &f);
    char mac[18], ll[40], h1[32], h2[32];
    mac_str(p->mac, p->busybox, mac);
    link_local(p->mac, ll);
    const char *only = NULL;
    for (int i = 1; i < c->argc; i++) {
        if (c->argv[i][0] == '-')
            continue;
        only = c->argv[i];
        if (i + 1 < c->argc) {         /* ifconfig eth0 up / 1.2.3.4 ... */
            if (c->uid != 0) {
                sh_errs(c, p->busybox ? "ifconfig: SIOCSIFFLAGS: Operation not permitted\n"
                                      : "SIOCSIFFLAGS: Operation not permitted\n");
                return 1;
            }
            return 0;
        }
    }
    if (only && strcmp(only, "lo") != 0 && strcmp(only, p->ifname) != 0) {
        if (p->busybox)
            sh_errf(c, "ifconfig: %s: error fetching interface information: Device not found\n", only);
        else
            sh_errf(c, "%s: error fetching interface information: Device not found\n", only);
        return 1;
    }
    struct hp_buf b;
    hp_buf_init(&b, 16384);
    bool eth = !only || strcmp(only, p->ifname) == 0, lo = !only || strcmp(only, "lo") == 0;
    if (p->busybox) {
        if (eth) {
            human_bytes(f.rx_bytes, h1, sizeof(h1));
            human_bytes(f.tx_bytes, h2, sizeof(h2));
            hp_buf_printf(&b, "%-10sLink encap:Ethernet  HWaddr %s  \n"
                              "          inet addr:%s  Bcast:%s  Mask:255.255.255.0\n"
                              "          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1\n"
                              "          RX packets:%llu errors:0 dropped:%llu overruns:0 frame:0\n"
                              "          TX packets:%llu errors:0 dropped:0 overruns:0 carrier:0\n"
                              "          collisions:0 txqueuelen:1000 \n"
                              "          RX bytes:%llu (%s)  TX bytes:%llu (%s)\n\n",
                          p->ifname, mac, f.addr, f.bcast, f.rx_pkts, f.rx_drop, f.tx_pkts, f.rx_bytes, h1,
                          f.tx_bytes, h2);
        }
        if (lo) {
            human_bytes(f.lo_bytes, h1, sizeof(h1));
            hp_buf_printf(&b, "lo        Link encap:Local Loopback  \n"
                              "          inet addr:127.0.0.1  Mask:255.0.0.0\n"
                              "          UP LOOPBACK RUNNING  MTU:65536  Metric:1\n"
                              "          RX packets:%llu errors:0 dropped:0 overruns:0 frame:0\n"
                              "          TX packets:%llu errors:0 dropped:0 overruns:0 carrier:0\n"
                              "          collisions:0 txqueuelen:0 \n"
                              "          RX bytes:%llu (%s)  TX bytes:%llu (%s)\n\n",
                          f.lo_pkts, f.lo_pkts, f.lo_bytes, h1, f.lo_bytes, h1);
        }
    } else {
        if (eth) {
            human_bytes(f.rx_bytes, h1, sizeof(h1));
            human_bytes(f.tx_bytes, h2, sizeof(h2));
            hp_buf_printf(&b, "%s: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500\n"
                              "        inet %s  netmask 255.255.255.0  broadcast %s\n"
                              "        inet6 %s  prefixlen 64  scopeid 0x20<link>\n"
                              "        ether %s  txqueuelen 1000  (Ethernet)\n"
                              "        RX packets %llu  bytes %llu (%s)\n"
                              "        RX errors 0  dropped %llu  overruns 0  frame 0\n"
                              "        TX packets %llu  bytes %llu (%s)\n"
                              "        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0\n\n",
                          p->ifname, f.addr, f.bcast, ll, mac, f.rx_pkts, f.rx_bytes, h1, f.rx_drop, f.tx_pkts,
                          f.tx_bytes, h2);
        }
        if (lo) {
            human_bytes(f.lo_bytes, h1, sizeof(h1));
            hp_buf_printf(&b, "lo: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536\n"
                              "        inet 127.0.0.1  netmask 255.0.0.0\n"
                              "        inet6 ::1  prefixlen 128  scopeid 0x10<host>\n"
                              "        loop  txqueuelen 1000  (Local Loopback)\n"
                              "        RX packets %llu  bytes %llu (%s)\n"
                              "        RX errors 0  dropped 0  overruns 0  frame 0\n"
                              "        TX packets %llu  bytes %llu (%s)\n"
                              "        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0\n\n",
                          f.lo_pkts, f.lo_bytes, h1, f.lo_pkts, f.lo_bytes, h1);
        }
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

static void ip_addr(struct sh_cmd *c, struct hp_buf *b, bool addrs, const char *dev)
{
    const struct hp_persona *p = c->persona;
    struct net_facts f;
    net_facts(c, &f);
    char mac[18], ll[40];
    mac_str(p->mac, false, mac);
    link_local(p->mac, ll);
    if (!dev || !strcmp(dev, "lo")) {
        hp_buf_puts(b, "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN "
                       "mode DEFAULT group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n");
        if (addrs) {
            hp_buf_puts(b, "    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n"
                           "    inet6 ::1/128 scope host \n       valid_lft forever preferred_lft forever\n");
        }
    }
    if (!dev || !strcmp(dev, p->ifname)) {
        hp_buf_printf(b, "2: %s: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc %s state UP mode DEFAULT group default qlen 1000\n"
                         "    link/ether %s brd ff:ff:ff:ff:ff:ff\n",
                      p->ifname, p->busybox ? "pfifo_fast" : "fq_codel", mac);
        if (addrs)
            hp_buf_printf(b, "    inet %s/24 brd %s scope global %s%s\n       valid_lft %s preferred_lft %s\n"
                             "    inet6 %s/64 scope link \n       valid_lft forever preferred_lft forever\n",
                          f.addr, f.bcast, p->busybox ? "" : "dynamic ", p->ifname,
                          p->busybox ? "forever" : "", p->busybox ? "forever" : "", ll);
    }
}

/* "mode DEFAULT " appears in ip link, not in ip addr; remove it there. */
static void strip_mode(struct hp_buf *b)
{
    const char *needle = "mode DEFAULT ";
    size_t nl = strlen(needle), w = 0;
    for (size_t i = 0; i < b->len;) {
        if (i + nl <= b->len && !memcmp(b->data + i, needle, nl)) {
            i += nl;
            continue;
        }
        b->data[w++] = b->data[i++];
    }
    b->len = w;
}

/* valid_lft of a DHCP lease counts down with the clock. */
static void fix_lft(struct sh_cmd *c, struct hp_buf *b)
{
    char lft[32];
    snprintf(lft, sizeof(lft), "%usec", 86400 - (unsigned)(c->now_s % 86400));
    struct hp_buf o;
    hp_buf_init(&o, b->cap);
    const char *pat = "valid_lft  preferred_lft \n";
    size_t pl = strlen(pat);
    for (size_t i = 0; i < b->len;) {
        if (i + pl <= b->len && !memcmp(b->data + i, pat, pl)) {
            hp_buf_printf(&o, "valid_lft %s preferred_lft %s\n", lft, lft);
            i += pl;
            continue;
        }
        hp_buf_putc(&o, b->data[i++]);
    }
    hp_buf_free(b);
    *b = o;
}

static int cmd_ip(struct sh_cmd *c)
{
    const struct hp_persona *p = c->persona;
    int i = 1;
    while (i < c->argc && c->argv[i][0] == '-' && c->argv[i][1] != '\0') {
        if (!strcmp(c->argv[i], "-V") || !strcmp(c->argv[i], "-Version")) {
            sh_outs(c, p->busybox ? "ip utility, iproute2-ss100519\n" : "ip utility, iproute2-6.1.0, libbpf 1.1.0\n");
            return 0;
        }
        i++;
    }
    if (i >= c->argc) {
        sh_errs(c, "Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n"
                   "       ip [ -force ] -batch filename\n"
                   "where  OBJECT := { address | addrlabel | amt | fou | help | ila | ioam | l2tp | link |\n"
                   "                   macsec | maddress | monitor | mptcp | mroute | mrule |\n"
                   "                   neighbor | neighbour | netconf | netns | nexthop | ntable |\n"
                   "                   ntbl | route | rule | sr | tap | tcpmetrics |\n"
                   "                   token | tunnel | tuntap | vrf | xfrm }\n");
        return 255;
    }
    const char *obj = c->argv[i];
    const char *verb = i + 1 < c->argc ? c->argv[i + 1] : "show";
    const char *dev = NULL;
    for (int k = i + 1; k + 1 < c->argc; k++)
        if (!strcmp(c->argv[k], "dev"))
            dev = c->argv[k + 1];
    if (strcmp(verb, "show") && strcmp(verb, "list") && strcmp(verb, "ls") && strcmp(verb, "s") &&
        strcmp(verb, "sh") && strcmp(verb, "dev") && strcmp(verb, "l")) {
        if (c->uid != 0) {
            sh_errs(c, "RTNETLINK answers: Operation not permitted\n");
            return 2;
        }
        return 0;                 /* root changing the network: accepted, not modelled */
    }
    if (dev && strcmp(dev, "lo") && strcmp(dev, p->ifname)) {
        sh_errf(c, "Device \"%s\" does not exist.\n", dev);
        return 1;
    }
    struct hp_buf b;
    hp_buf_init(&b, 16384);
    struct net_facts f;
    net_facts(c, &f);
    size_t ol = strlen(obj);
    if (ol && !strncmp("address", obj, ol)) {
        ip_addr(c, &b, true, dev);
        strip_mode(&b);
        fix_lft(c, &b);
    } else if (ol && !strncmp("link", obj, ol)) {
        ip_addr(c, &b, false, dev);
    } else if (ol && (!strncmp("route", obj, ol) || !strcmp(obj, "r"))) {
        if (p->busybox)
            hp_buf_printf(&b, "default via %s dev %s \n%s/24 dev %s scope link  src %s \n", f.gw, p->ifname, f.net,
                          p->ifname, f.addr);
        else
            hp_buf_printf(&b, "default via %s dev %s \n%s/24 dev %s proto kernel scope link src %s \n", f.gw,
                          p->ifname, f.net, p->ifname, f.addr);
    } else if (ol && (!strncmp("neighbour", obj, ol) || !strncmp("neighbor", obj, ol))) {
        char gm[18];
        mac_str(f.gwmac, false, gm);
        hp_buf_printf(&b, "%s dev %s lladdr %s REACHABLE\n", f.gw, p->ifname, gm);
    } else if (!strcmp(obj, "help")) {
        hp_buf_free(&b);
        char *argv[2] = { "ip", NULL };
        struct sh_cmd sub = *c;
        sub.argc = 1;
        sub.argv = argv;
        return cmd_ip(&sub);
    } else {
        hp_buf_free(&b);
        sh_errf(c, "Object \"%s\" is unknown, try \"ip help\".\n", obj);
        return 255;
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

static int cmd_route(struct sh_cmd *c)
{
    struct net_facts f;
    net_facts(c, &f);
    bool numeric = false;
    for (int i = 1; i < c->argc; i++) {
        if (!strcmp(c->argv[i], "add") || !strcmp(c->argv[i], "del")) {
            if (c->uid != 0) {
                sh_errs(c, "SIOCADDRT: Operation not permitted\n");
                return 7;
            }
            return 0;
        }
        numeric |= c->argv[i][0] == '-' && strchr(c->argv[i], 'n');
    }
    sh_outf(c, "Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"
               "%-15s %-15s 0.0.0.0         UG    0      0        0 %s\n"
               "%-15s 0.0.0.0         255.255.255.0   U     0      0        0 %s\n",
            numeric ? "0.0.0.0" : "default", f.gw, c->persona->ifname, f.net, c->persona->ifname);
    return 0;
}

static int cmd_arp(struct sh_cmd *c)
{
    struct net_facts f;
    net_facts(c, &f);
    char gm[18];
    mac_str(f.gwmac, false, gm);
    bool bsd = c->persona->busybox;
    for (int i = 1; i < c->argc; i++)
        if (!strcmp(c->argv[i], "-a"))
            bsd = true;
    if (bsd)
        sh_outf(c, "? (%s) at %s [ether]  on %s\n", f.gw, gm, c->persona->ifname);
    else
        sh_outf(c, "Address                  HWtype  HWaddress           Flags Mask            Iface\n"
                   "%-24s ether   %-19s C                     %s\n", f.gw, gm, c->persona->ifname);
    return 0;
}

/* ==== sockets: netstat and ss ======================================================= */

struct listener {
    unsigned port, pid;
    const char *comm;
    const char *cmd;
};

/* Listening TCP ports from /proc/net/tcp, each with the process behind it. */
static size_t listeners(struct sh_cmd *c, struct listener *out, size_t max)
{
    struct hp_buf t;
    hp_buf_init(&t, 65536);
    hp_persona_gen(c->persona, "net_tcp", c->now_s, &t);
    const char *s = hp_buf_cstr(&t);
    const struct hp_proc *p;
    size_t np = hp_persona_procs(c->persona, &p);
    size_t n = 0;
    for (const char *l = strchr(s, '\n'); l && *++l && n < max; l = strchr(l, '\n')) {
        unsigned sl, port;
        if (sscanf(l, " %u: %*8x:%4x", &sl, &port) != 2)
            continue;
        out[n].port = port;
        out[n].pid = 0;
        out[n].comm = "-";
        out[n].cmd = "-";
        static const struct { unsigned port; const char *const comms[6]; } who[] = {
            { 22, { "sshd", "dropbear", NULL } },
            { 23, { "telnetd", "utelnetd", NULL } },
            { 80, { "boa", "goahead", "uhttpd", "httpd", "lighttpd", "nginx" } },
        };
        for (size_t w = 0; w < sizeof(who) / sizeof(who[0]); w++) {
            if (who[w].port != port)
                continue;
            for (size_t k = 0; k < np && !out[n].pid; k++)
                for (size_t m = 0; m < 6 && who[w].comms[m]; m++)
                    if (!strcmp(p[k].comm, who[w].comms[m])) {
                        out[n].pid = p[k].pid;
                        out[n].comm = p[k].comm;
                        out[n].cmd = p[k].cmd;
                        break;
                    }
        }
        if (!out[n].pid && np) {          /* the device's application (34567 on DVRs) */
            out[n].pid = p[np - 2 < np ? np - 2 : 0].pid;
            out[n].comm = p[np - 2 < np ? np - 2 : 0].comm;
            out[n].cmd = p[np - 2 < np ? np - 2 : 0].cmd;
        }
        n++;
    }
    hp_buf_free(&t);
    return n;
}

static unsigned session_port(const struct sh_cmd *c)
{
    return c->sess && c->sess->protocol && !strcmp(c->sess->protocol, "telnet") ? 23 : 22;
}

static unsigned client_port(const struct sh_cmd *c)
{
    unsigned pid = c->sess ? c->sess->shell_pid : 1000;
    return 32768 + (pid * 7919u) % 28000;
}

/* net-tools' PID/Program name: pid/argv[0] (its base name when it is a
 * path; a process title such as "sshd: root@pts/0" as is), 20 columns. */
static void netstat_prog(unsigned pid, const char *cmd, char *out, size_t n)
{
    char first[256];
    if (cmd[0] == '/') {
        size_t l = strcspn(cmd, " ");
        snprintf(first, sizeof(first), "%.*s", (int)l, cmd);
        const char *slash = strrchr(first, '/');
        memmove(first, slash + 1, strlen(slash + 1) + 1);
    } else
        snprintf(first, sizeof(first), "%s", cmd);
    snprintf(out, n, "%u/%.20s", pid, first);
    if (strlen(out) > 20)
        out[20] = '\0';
}

static int cmd_netstat(struct sh_cmd *c)
{
    bool all = false, listen = false, prog = false, tcp = false, udp = false, route = false, unix_ = false;
    bool bb = c->persona->busybox;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] != '-')
            continue;
        if (!strcmp(a, "--tcp")) { tcp = true; continue; }
        if (!strcmp(a, "--udp")) { udp = true; continue; }
        if (!strcmp(a, "--listening")) { listen = true; continue; }
        if (!strcmp(a, "--all")) { all = true; continue; }
        if (!strcmp(a, "--program")) { prog = true; continue; }
        for (const char *q = a + 1; *q; q++) {
            switch (*q) {
            case 'a': all = true; break;
            case 'l': listen = true; break;
            case 'p': prog = true; break;
            case 't': tcp = true; break;
            case 'u': udp = true; break;
            case 'r': route = true; break;
            case 'x': unix_ = true; break;
            case 'n': case 'e': case 'W': case 'w': case 'c': case 'v': case '4': case '6': break;
            default:
                if (bb)
                    return sys_usage_bb(c, "netstat", &(struct sys_getopt){ .badc = *q, .bad = a },
                                        "[-ral] [-tuwx] [-enWp]\n\nDisplay networking information");
                sh_errf(c, "netstat: invalid option -- '%c'\n", *q);
                sh_errs(c, "usage: netstat [-vWeenNcCF] [<Af>] -r         netstat {-V|--version|-h|--help}\n");
                return 1;
            }
        }
    }
    if (route) {
        struct net_facts f;
        net_facts(c, &f);
        sh_outf(c, "Kernel IP routing table\nDestination     Gateway         Genmask         Flags   MSS Window  irtt Iface\n"
                   "0.0.0.0         %-15s 0.0.0.0         UG        0 0          0 %s\n"
                   "%-15s 0.0.0.0         255.255.255.0   U         0 0          0 %s\n",
                f.gw, c->persona->ifname, f.net, c->persona->ifname);
        return 0;
    }
    if (!tcp && !udp && !unix_)
        tcp = udp = unix_ = true;
    struct listener ls[8];
    size_t nl = listeners(c, ls, 8);
    struct hp_buf b;
    hp_buf_init(&b, 65536);
    hp_buf_printf(&b, "Active Internet connections (%s)\n", listen ? "only servers" : all ? "servers and established" : "w/o servers");
    hp_buf_printf(&b, "Proto Recv-Q Send-Q Local Address           Foreign Address         State      %s\n",
                  prog ? " PID/Program name    " : "");
    char la[128], fa[128], pc[128];
    if (tcp && (listen || all)) {
        for (size_t i = 0; i < nl; i++) {
            snprintf(la, sizeof(la), "0.0.0.0:%u", ls[i].port);
            netstat_prog(ls[i].pid, ls[i].cmd, pc, sizeof(pc));
            hp_buf_printf(&b, "tcp        0      0 %-23s %-23s %-11s%s%s\n", la, "0.0.0.0:*", "LISTEN",
                          prog ? " " : "", prog ? pc : "");
            if (!bb && ls[i].port == 22) {
                snprintf(la, sizeof(la), ":::%u", ls[i].port);
                hp_buf_printf(&b, "tcp6       0      0 %-23s %-23s %-11s%s%s\n", la, ":::*", "LISTEN",
                              prog ? " " : "", prog ? pc : "");
            }
        }
    }
    if (tcp && !listen) {
        struct net_facts f;
        net_facts(c, &f);
        snprintf(la, sizeof(la), "%s:%u", f.addr, session_port(c));
        snprintf(fa, sizeof(fa), "%s:%u", sys_client_ip(c), client_port(c));
        unsigned spid = c->sess && c->sess->shell_pid > 2 ? c->sess->shell_pid - 2 : 0;
        char title[64];
        snprintf(title, sizeof(title), "sshd: %s@%s", c->user ? c->user : "root", sys_tty(c));
        netstat_prog(spid, bb ? "telnetd" : title, pc, sizeof(pc));
        hp_buf_printf(&b, "tcp        0     %s %-23s %-23s %-11s%s%s\n", bb ? " 0" : "36", la, fa, "ESTABLISHED",
                      prog ? " " : "", prog ? pc : "");
    }
    if (udp && (listen || all) && !bb) {
        const struct hp_proc *p;
        size_t np = hp_persona_procs(c->persona, &p);
        unsigned dpid = 0;
        for (size_t k = 0; k < np; k++)
            if (!strcmp(p[k].comm, "dhclient"))
                dpid = p[k].pid;
        netstat_prog(dpid, "/sbin/dhclient", pc, sizeof(pc));
        hp_buf_printf(&b, "udp        0      0 %-23s %-23s %-11s%s%s\n", "0.0.0.0:68", "0.0.0.0:*", "",
                      prog ? " " : "", prog ? pc : "");
    }
    if (unix_ && !tcp && !udp) {
        hp_buf_printf(&b, "Active UNIX domain sockets (%s)\nProto RefCnt Flags       Type       State         I-Node   Path\n",
                      listen ? "only servers" : "servers and established");
        hp_buf_puts(&b, "unix  2      [ ACC ]     STREAM     LISTENING     13021    /run/systemd/private\n"
                        "unix  2      [ ACC ]     STREAM     LISTENING     13842    /run/dbus/system_bus_socket\n");
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

/* One ss row: the address right-aligned under "Local Address", the port
 * left-aligned under "Port", as iproute2 lays them out. */
static void ss_row(struct hp_buf *b, bool netid, const char *proto, const char *state, const char *sendq,
                   const char *la, const char *lp, const char *pa, const char *pp, const char *process)
{
    if (netid)
        hp_buf_printf(b, "%-5s ", proto);
    hp_buf_printf(b, "%-6s %-6s %-6s %13s:%-4s %12s:%-4s %s\n", state, "0", sendq, la, lp, pa, pp, process);
}

static int cmd_ss(struct sh_cmd *c)
{
    bool listen = false, all = false, prog = false, udp = false, tcp = false;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] != '-' || a[1] == '-')
            continue;
        for (const char *q = a + 1; *q; q++) {
            switch (*q) {
            case 'l': listen = true; break;
            case 'a': all = true; break;
            case 'p': prog = true; break;
            case 'u': udp = true; break;
            case 't': tcp = true; break;
            default: break;
            }
        }
    }
    bool netid = !(tcp ^ udp);
    if (!tcp && !udp)
        tcp = udp = true;
    struct listener ls[8];
    size_t nl = listeners(c, ls, 8);
    struct net_facts f;
    net_facts(c, &f);
    struct hp_buf b;
    hp_buf_init(&b, 65536);
    hp_buf_printf(&b, "%sState  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n", netid ? "Netid " : "");
    char users[160], port[16];
    if (udp && (listen || all)) {
        const struct hp_proc *p;
        size_t np = hp_persona_procs(c->persona, &p);
        unsigned dpid = 0;
        for (size_t k = 0; k < np; k++)
            if (!strcmp(p[k].comm, "dhclient"))
                dpid = p[k].pid;
        snprintf(users, sizeof(users), "users:((\"dhclient\",pid=%u,fd=7))", dpid);
        if (dpid)
            ss_row(&b, netid, "udp", "UNCONN", "0", "0.0.0.0", "68", "0.0.0.0", "*", prog ? users : "");
    }
    if (tcp && (listen || all))
        for (size_t i = 0; i < nl; i++) {
            snprintf(users, sizeof(users), "users:((\"%s\",pid=%u,fd=3))", ls[i].comm, ls[i].pid);
            snprintf(port, sizeof(port), "%u", ls[i].port);
            ss_row(&b, netid, "tcp", "LISTEN", "128", "0.0.0.0", port, "0.0.0.0", "*", prog ? users : "");
            if (!c->persona->busybox && ls[i].port == 22) {
                snprintf(users, sizeof(users), "users:((\"%s\",pid=%u,fd=4))", ls[i].comm, ls[i].pid);
                ss_row(&b, netid, "tcp", "LISTEN", "128", "[::]", port, "[::]", "*", prog ? users : "");
            }
        }
    if (tcp && !listen) {
        char lp[16], pp[16];
        snprintf(lp, sizeof(lp), "%u", session_port(c));
        snprintf(pp, sizeof(pp), "%u", client_port(c));
        unsigned spid = c->sess && c->sess->shell_pid > 2 ? c->sess->shell_pid - 2 : 0;
        snprintf(users, sizeof(users), "users:((\"sshd\",pid=%u,fd=4),(\"sshd\",pid=%u,fd=4))", spid, spid);
        ss_row(&b, netid, "tcp", "ESTAB", "36", f.addr, lp, sys_client_ip(c), pp, prog ? users : "");
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return 0;
}

/* ---- ping, nslookup ---------------------------------------------------------------------- */

static bool local_address(struct sh_cmd *c, const char *h)
{
    struct net_facts f;
    net_facts(c, &f);
    return !strncmp(h, "127.", 4) || !strcasecmp(h, "localhost") || !strcmp(h, f.addr) ||
           (c->sess && c->sess->local_ip && !strcmp(h, c->sess->local_ip));
}

static int cmd_ping(struct sh_cmd *c)
{
    bool bb = c->persona->busybox, quiet = false;
    long count = 4;
    const char *host = NULL;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] == '-' && a[1]) {
            if (!strncmp(a, "-c", 2) && (a[2] || i + 1 < c->argc)) {
                const char *v = a[2] ? a + 2 : c->argv[++i];
                if (!sh_parse_long(v, &count) || count <= 0) {
                    if (bb)
                        sh_errf(c, "ping: invalid number '%s'\n", v);
                    else
                        sh_errf(c, "ping: invalid argument: '%s': out of range: 1 <= value <= 9223372036854775807\n", v);
                    return 1;
                }
            } else if (!strcmp(a, "-q"))
                quiet = true;
            else if ((!strcmp(a, "-i") || !strcmp(a, "-W") || !strcmp(a, "-w") || !strcmp(a, "-s") ||
                      !strcmp(a, "-t") || !strcmp(a, "-I")) && i + 1 < c->argc)
                i++;
            continue;
        }
        host = a;
    }
    if (!host) {
        if (bb)
            return sys_usage_bb(c, "ping", NULL, "[OPTIONS] HOST\n\nSend ICMP ECHO_REQUEST packets to network hosts");
        sh_errs(c, "ping: usage error: Destination address required\n");
        return 1;
    }
    if (count > 10)
        count = 10;               /* the real one would run on; the session is not kept waiting */
    const char *ip = !strcasecmp(host, "localhost") ? "127.0.0.1" : host;
    if (!sys_host_is_ip(ip, false)) {
        if (bb)
            sh_errf(c, "ping: bad address '%s'\n", host);
        else
            sh_errf(c, "ping: %s: Temporary failure in name resolution\n", host);
        return bb ? 1 : 2;
    }
    bool up = local_address(c, ip);
    struct hp_buf b;
    hp_buf_init(&b, 16384);
    if (bb)
        hp_buf_printf(&b, "PING %s (%s): 56 data bytes\n", host, ip);
    else
        hp_buf_printf(&b, "PING %s (%s) 56(84) bytes of data.\n", host, ip);
    unsigned tmin = 1000000, tmax = 0, tsum = 0;
    uint64_t s = (uint64_t)c->now_s * 2654435761u;
    for (long k = 0; k < count && up; k++) {
        unsigned us = 25 + (unsigned)((s >> (k * 3)) % 40);     /* microseconds */
        tmin = us < tmin ? us : tmin;
        tmax = us > tmax ? us : tmax;
        tsum += us;
        if (quiet)
            continue;
        if (bb)
            hp_buf_printf(&b, "64 bytes from %s: seq=%ld ttl=64 time=0.%03u ms\n", ip, k, us);
        else
            hp_buf_printf(&b, "64 bytes from %s: icmp_seq=%ld ttl=64 time=0.%03u ms\n", ip, k + 1, us);
    }
    long rx = up ? count : 0;
    hp_buf_printf(&b, "\n--- %s ping statistics ---\n", host);
    if (bb) {
        hp_buf_printf(&b, "%ld packets transmitted, %ld packets received, %d%% packet loss\n", count, rx, up ? 0 : 100);
        if (up)
            hp_buf_printf(&b, "round-trip min/avg/max = 0.%03u/0.%03u/0.%03u ms\n", tmin, tsum / (unsigned)count, tmax);
    } else {
        hp_buf_printf(&b, "%ld packets transmitted, %ld received, %d%% packet loss, time %ldms\n", count, rx,
                      up ? 0 : 100, (count - 1) * 1000 + (up ? (long)(s % 50) : (long)(s % 60) + 20));
        if (up)
            hp_buf_printf(&b, "rtt min/avg/max/mdev = 0.%03u/0.%03u/0.%03u/0.%03u ms\n", tmin, tsum / (unsigned)count,
                          tmax, (tmax - tmin) / 2);
        hp_buf_putc(&b, '\n');
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return up ? 0 : 1;
}

static int cmd_nslookup(struct sh_cmd *c)
{
    const char *host = NULL;
    for (int i = 1; i < c->argc; i++)
        if (c->argv[i][0] != '-') {
            host = c->argv[i];
            break;
        }
    if (!host)
        return sys_usage_bb(c, "nslookup", NULL, "[HOST] [SERVER]\n\nQuery the nameserver for the IP address of the given HOST\n"
                                                 "optionally using a specified DNS server");
    sh_outs(c, "Server:    127.0.0.1\nAddress 1: 127.0.0.1 localhost\n\n");
    if (sys_host_is_ip(host, false) || !strcasecmp(host, "localhost")) {
        sh_outf(c, "Name:      %s\nAddress 1: %s\n", host, strcasecmp(host, "localhost") ? host : "127.0.0.1 localhost");
        return 0;
    }
    sh_errf(c, "nslookup: can't resolve '%s'\n", host);
    return 1;
}

const struct sh_cmd_def sh_cmds_netinfo[] = {
    { "arp", cmd_arp, false },
    { "ifconfig", cmd_ifconfig, false },
    { "ip", cmd_ip, false },
    { "netstat", cmd_netstat, false },
    { "nslookup", cmd_nslookup, false },
    { "ping", cmd_ping, false },
    { "route", cmd_route, false },
    { "ss", cmd_ss, false },
    { NULL, NULL, false },
};
