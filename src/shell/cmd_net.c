/*
 * cmd_net.c - the download and connection programs: wget, curl, tftp,
 * ftpget, ftpput, nc, telnet, ssh, scp, and the URL parsing they share
 * (the machine's own network is cmd_netinfo.c).
 *
 * Downloads are the point of most sessions, so every download program
 * builds the URL exactly as the tool would (tftp -> tftp://host:port/file,
 * ftpget -> ftp://user:pass@host/path) and hands it to sh_fetch (cmd.h),
 * which logs it and, once the capture pipeline exists, fetches it safely.
 * The result decides what the tool prints:
 *   SH_FETCH_OK           the body is written through the vfs (0644) and the
 *                         tool's success output shows its real size;
 *   UNREACHABLE, REFUSED  "Connection refused" (the sensor's egress is
 *                         closed: the honest answer of a firewalled box);
 *   NOT_FOUND             the server's 404;
 *   BAD_URL               refused as well: the URL already passed the tool's
 *                         own checks here, so only the pipeline declined it.
 * Host names never resolve unless the fetch succeeded: the emulated box is
 * offline in one consistent way (apt-get update in cmd_admin.c fails the
 * same way), and a name we cannot fetch gets no invented address.
 *
 * Every parser here reads attacker bytes: bounded copies into fixed fields,
 * never an index taken from the input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "cmd_sys.h"
#include "buf.h"

#define NET_BODY_MAX SH_VFS_FILE_MAX

/* ==== URLs ============================================================================ */

static unsigned scheme_port(const char *s)
{
    static const struct { const char *s; unsigned port; } t[] = {
        { "http", 80 }, { "https", 443 }, { "ftp", 21 }, { "ftps", 990 }, { "tftp", 69 },
        { "tcp", 0 }, { "telnet", 23 }, { "ssh", 22 }, { "scp", 22 }, { "sftp", 22 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (!strcmp(t[i].s, s))
            return t[i].port;
    return 0;
}

static bool copy_span(char *out, size_t n, const char *s, size_t len)
{
    if (len >= n)
        return false;
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

enum sys_url_err sys_url_parse(const char *url, const char *default_scheme, struct sys_url *u)
{
    memset(u, 0, sizeof(*u));
    const char *p = url;
    const char *sep = strstr(p, "://");
    if (sep && sep > p && (size_t)(sep - p) < sizeof(u->scheme) && strcspn(p, "/?#@") > (size_t)(sep - p)) {
        for (size_t i = 0; i < (size_t)(sep - p); i++) {
            char ch = p[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '+' ||
                  ch == '-' || ch == '.'))
                return SYS_URL_BAD_SCHEME;
            u->scheme[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
        }
        p = sep + 3;
    } else {
        snprintf(u->scheme, sizeof(u->scheme), "%s", default_scheme);
    }
    size_t alen = strcspn(p, "/?#");
    const char *auth = p, *rest = p + alen;
    /* userinfo: up to the last '@' of the authority */
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (auth[i] == '@')
            at = auth + i;
    if (at) {
        size_t ul = (size_t)(at - auth);
        const char *colon = memchr(auth, ':', ul);
        size_t nl = colon ? (size_t)(colon - auth) : ul;
        if (!copy_span(u->user, sizeof(u->user), auth, nl))
            return SYS_URL_TOO_LONG;
        u->has_user = true;
        if (colon) {
            if (!copy_span(u->pass, sizeof(u->pass), colon + 1, ul - nl - 1))
                return SYS_URL_TOO_LONG;
            u->has_pass = true;
        }
        alen -= ul + 1;
        auth = at + 1;
    }
    const char *hend = auth + alen, *portp = NULL;
    if (alen && auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        if (!close)
            return SYS_URL_NO_HOST;
        if (!copy_span(u->host, sizeof(u->host), auth + 1, (size_t)(close - auth - 1)))
            return SYS_URL_TOO_LONG;
        u->ipv6 = true;
        if (close + 1 < hend) {
            if (close[1] != ':')
                return SYS_URL_NO_HOST;
            portp = close + 2;
        }
    } else {
        const char *colon = memchr(auth, ':', alen);
        size_t hl = colon ? (size_t)(colon - auth) : alen;
        if (!copy_span(u->host, sizeof(u->host), auth, hl))
            return SYS_URL_TOO_LONG;
        if (colon)
            portp = colon + 1;
    }
    if (!u->host[0])
        return SYS_URL_NO_HOST;
    u->port = scheme_port(u->scheme);
    if (portp && portp < hend) {
        unsigned long v = 0;
        for (const char *q = portp; q < hend; q++) {
            if (*q < '0' || *q > '9' || v > 65535)
                return SYS_URL_BAD_PORT;
            v = v * 10 + (unsigned long)(*q - '0');
        }
        if (v == 0 || v > 65535)
            return SYS_URL_BAD_PORT;
        u->port = (unsigned)v;
        u->has_port = true;
    }
    if (!*rest)
        rest = "/";
    /* the same bound whether or not a '/' is put in front (format + parse round-trips) */
    if (strlen(rest) + (rest[0] == '/' ? 0 : 1) >= sizeof(u->path))
        return SYS_URL_TOO_LONG;
    snprintf(u->path, sizeof(u->path), "%s%s", rest[0] == '/' ? "" : "/", rest);
    return SYS_URL_OK;
}

void sys_url_format(const struct sys_url *u, char *out, size_t n)
{
    char port[16] = "";
    if (u->has_port && u->port != scheme_port(u->scheme))
        snprintf(port, sizeof(port), ":%u", u->port);
    snprintf(out, n, "%s://%s%s%s%s%s%s%s%s", u->scheme, u->has_user ? u->user : "", u->has_pass ? ":" : "",
             u->has_pass ? u->pass : "", u->has_user ? "@" : "", u->ipv6 ? "[" : "", u->host, u->ipv6 ? "]" : "",
             port);
    size_t l = strlen(out);
    snprintf(out + l, n > l ? n - l : 0, "%s", u->path);
}

bool sys_host_is_ip(const char *host, bool ipv6)
{
    if (ipv6)
        return strspn(host, "0123456789abcdefABCDEF:.") == strlen(host) && strchr(host, ':');
    int parts = 0;
    const char *p = host;
    while (*p) {
        unsigned v = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(*p++ - '0');
            digits++;
        }
        if (!digits || v > 255)
            return false;
        parts++;
        if (*p == '.' && parts < 4)
            p++;
        else if (*p)
            return false;
    }
    return parts == 4;
}

bool sys_hostport_parse(const char *s, char *host, size_t hn, unsigned *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || strchr(s, ':') != colon)
        return false;
    if (!copy_span(host, hn, s, (size_t)(colon - s)))
        return false;
    long v;
    if (!sh_parse_long(colon + 1, &v) || v <= 0 || v > 65535)
        return false;
    *port = (unsigned)v;
    return true;
}

/* ==== downloads ====================================================================== */

/* A stable display address for a name the capture pipeline did fetch. */
static void fake_resolve(const char *host, char *out, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = host; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    snprintf(out, n, "%u.%u.%u.%u", 23 + (unsigned)(h % 150), (unsigned)(h >> 8 & 0xff), (unsigned)(h >> 16 & 0xff),
             1 + (unsigned)(h >> 24) % 254);
}

/* A host an address lookup could accept: letters, digits, '.', '-', '_'
 * (or an IPv6 literal).  Anything else fails as an unresolvable name and is
 * never put into a URL, so every logged URL parses back the same. */
static bool host_plausible(const char *h)
{
    if (!h[0] || strlen(h) > 253)
        return false;
    if (strchr(h, ':'))
        return sys_host_is_ip(h, true);
    return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == strlen(h);
}

/* Percent-encode what would change a URL's structure (and any byte that is
 * not printable ASCII); keep lists the delimiters that may stay ('/' in a
 * path). */
static void url_escape(char *out, size_t n, const char *s, const char *keep)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t w = 0;
    for (; *s && w + 4 < n; s++) {
        unsigned char ch = (unsigned char)*s;
        bool plain = ch > 0x20 && ch < 0x7f && !strchr(":/?#[]@% ", ch);
        if (plain || (ch && strchr(keep, ch))) {
            out[w++] = (char)ch;
        } else {
            out[w++] = '%';
            out[w++] = hex[ch >> 4];
            out[w++] = hex[ch & 15];
        }
    }
    out[w] = '\0';
}

/* "host" or "[v6]" for a URL. */
static void url_host(char *out, size_t n, const char *h)
{
    snprintf(out, n, strchr(h, ':') ? "[%s]" : "%s", h);
}

static bool host_resolves(const struct sys_url *u)
{
    return sys_host_is_ip(u->host, u->ipv6) || !strcasecmp(u->host, "localhost");
}

static const char *host_addr(const struct sys_url *u, char *buf, size_t n)
{
    if (!strcasecmp(u->host, "localhost"))
        return "127.0.0.1";
    if (sys_host_is_ip(u->host, u->ipv6))
        return u->host;
    fake_resolve(u->host, buf, n);
    return buf;
}

/* Write a downloaded body; 0 or -errno. */
static int save_body(struct sh_cmd *c, const char *path, const struct hp_buf *body, int flags)
{
    if (!c->fs)
        return -EROFS;
    long r = sh_vfs_write(c->fs, path, body->data ? body->data : (const uint8_t *)"", body->len,
                          SH_O_CREAT | SH_O_FETCHED | flags, 0644);
    return r < 0 ? (int)r : 0;
}

static const char *url_basename(const struct sys_url *u, char *out, size_t n)
{
    size_t pl = strcspn(u->path, "?#");
    const char *last = u->path;
    for (size_t i = 0; i < pl; i++)
        if (u->path[i] == '/')
            last = u->path + i + 1;
    snprintf(out, n, "%.*s", (int)(pl - (size_t)(last - u->path)), last);
    return out;
}

static bool vfs_exists(struct sh_cmd *c, const char *path)
{
    struct sh_stat st;
    return c->fs && sh_vfs_stat(c->fs, path, false, &st) == 0;
}

/* ---- GNU wget -------------------------------------------------------------------------- */

struct wget_opts {
    const char *out;              /* -O */
    const char *prefix;           /* -P */
    bool quiet, cont;
};

static void wget_size(unsigned long long n, char *out, size_t len)
{
    if (n < 1024)
        snprintf(out, len, "%llu", n);
    else if (n < 1024 * 1024)
        snprintf(out, len, "%.1fK", n / 1024.0);
    else
        snprintf(out, len, "%.1fM", n / 1048576.0);
}

/* The file a download is saved as: -O's name, else the URL's last path
 * component, else index.html; true when -O - (standard output). */
static bool wget_name(const struct wget_opts *o, const struct sys_url *u, char *name, size_t n)
{
    if (o->out)
        snprintf(name, n, "%s", o->out);
    else {
        url_basename(u, name, n);
        if (!name[0])
            snprintf(name, n, "index.html");
    }
    return o->out && !strcmp(o->out, "-");
}

static int wget_one(struct sh_cmd *c, const char *arg, const struct wget_opts *o, bool out_created)
{
    struct sys_url u;
    char when[64], url[4096], dest[4096], name[1024];
    struct tm tm;
    sys_gmtime(c->now_s, &tm);
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    enum sys_url_err e = sys_url_parse(arg, "http", &u);
    if (e == SYS_URL_OK && strcmp(u.scheme, "http") && strcmp(u.scheme, "https") && strcmp(u.scheme, "ftp"))
        e = SYS_URL_BAD_SCHEME;
    if (e != SYS_URL_OK) {
        if (e == SYS_URL_BAD_SCHEME)
            sh_errf(c, "%s: Unsupported scheme \xe2\x80\x98%s\xe2\x80\x99.\n", arg, u.scheme);
        else if (e == SYS_URL_BAD_PORT)
            sh_errf(c, "%s: Bad port number.\n", arg);
        else
            sh_errf(c, "%s: Invalid host name.\n", arg);
        return 1;
    }
    sys_url_format(&u, url, sizeof(url));
    /* where it goes */
    bool to_stdout = wget_name(o, &u, name, sizeof(name));
    char rel[4096];
    if (!o->out && o->prefix)
        snprintf(rel, sizeof(rel), "%s/%s", o->prefix, name);
    else
        snprintf(rel, sizeof(rel), "%s", name);
    if (!to_stdout && sh_path(c, rel, dest, sizeof(dest)) < 0) {
        sh_errf(c, "%s: File name too long\n", rel);
        return 3;
    }
    if (!o->out && !o->cont && vfs_exists(c, dest)) {     /* wget never overwrites: x.1, x.2 ... */
        char base[4096];
        snprintf(base, sizeof(base), "%s", dest);
        for (int k = 1; k < 100 && vfs_exists(c, dest); k++) {
            snprintf(dest, sizeof(dest), "%.4080s.%d", base, k);
            snprintf(name + strlen(name), 1, "%s", "");
        }
        const char *slash = strrchr(dest, '/');
        snprintf(rel, sizeof(rel), "%s", o->prefix ? dest : slash ? slash + 1 : dest);
    }
    struct hp_buf body;
    hp_buf_init(&body, NET_BODY_MAX);
    enum sh_fetch_result r = sh_fetch(c, "wget", url, to_stdout ? NULL : dest, &body);
    char ipbuf[32];
    const char *ip = host_addr(&u, ipbuf, sizeof(ipbuf));
    bool q = o->quiet;
    if (!q)
        sh_errf(c, "--%s--  %s\n", when, url);
    if (!host_resolves(&u) && r != SH_FETCH_OK) {
        if (!q)
            sh_errf(c, "Resolving %s (%s)... failed: Temporary failure in name resolution.\n", u.host, u.host);
        sh_errf(c, "wget: unable to resolve host address \xe2\x80\x98%s\xe2\x80\x99\n", u.host);
        hp_buf_free(&body);
        return 4;
    }
    if (!q) {
        if (!sys_host_is_ip(u.host, u.ipv6)) {
            sh_errf(c, "Resolving %s (%s)... %s\n", u.host, u.host, ip);
            sh_errf(c, "Connecting to %s (%s)|%s|:%u... ", u.host, u.host, ip, u.port);
        } else
            sh_errf(c, "Connecting to %s%s%s:%u... ", u.ipv6 ? "[" : "", u.host, u.ipv6 ? "]" : "", u.port);
    }
    if (r == SH_FETCH_UNREACHABLE || r == SH_FETCH_REFUSED || r == SH_FETCH_BAD_URL) {
        if (!q)
            sh_errs(c, "failed: Connection refused.\n");
        hp_buf_free(&body);
        return 4;
    }
    if (!q)
        sh_errs(c, "connected.\n");
    bool ftp = !strcmp(u.scheme, "ftp");
    if (r == SH_FETCH_NOT_FOUND) {
        if (!q) {
            if (ftp)
                sh_errf(c, "Logging in as anonymous ... Logged in!\n==> SYST ... done.    ==> PWD ... done.\n"
                           "==> TYPE I ... done.  ==> CWD not needed.\n==> SIZE %s ... done.\n\n"
                           "==> PASV ... done.    ==> RETR %s ... \nNo such file \xe2\x80\x98%s\xe2\x80\x99.\n\n",
                        name, name, name);
            else
                sh_errf(c, "HTTP request sent, awaiting response... 404 Not Found\n%s ERROR 404: Not Found.\n\n", when);
        }
        hp_buf_free(&body);
        return 8;
    }
    /* SH_FETCH_OK */
    unsigned long long n = body.len;
    char sz[32];
    wget_size(n, sz, sizeof(sz));
    if (!q) {
        sh_errs(c, "HTTP request sent, awaiting response... 200 OK\n");
        if (n >= 1024)
            sh_errf(c, "Length: %llu (%s) [application/octet-stream]\n", n, sz);
        else
            sh_errf(c, "Length: %llu [application/octet-stream]\n", n);
        if (to_stdout)
            sh_errs(c, "Saving to: \xe2\x80\x98STDOUT\xe2\x80\x99\n\n");
        else
            sh_errf(c, "Saving to: \xe2\x80\x98%s\xe2\x80\x99\n\n", rel);
    }
    int rc = 0;
    if (to_stdout)
        sh_out(c, body.data, body.len);
    else {
        int w = save_body(c, dest, &body, SH_O_TRUNC);
        if (w < 0) {
            sh_errf(c, "%s: %s\n", rel, sh_strerror(w));
            rc = 3;
        }
    }
    if (!q && rc == 0) {
        char shown[24];
        snprintf(shown, sizeof(shown), "%.18s", to_stdout ? "-" : rel);
        char sizecol[16];
        if (n < 1024)
            snprintf(sizecol, sizeof(sizecol), "%lluB", n);
        else
            snprintf(sizecol, sizeof(sizecol), "%.2fK", n / 1024.0);
        sh_errf(c, "%-19s100%%[===================>] %7s  --.-KB/s    in 0s      \n\n", shown, sizecol);
        sh_errf(c, "%s (%.1f MB/s) - \xe2\x80\x98%s\xe2\x80\x99 saved [%llu/%llu]\n\n", when,
                n ? 10.0 + (double)(n % 900) / 10.0 : 0.0, to_stdout ? "-" : rel, n, n);
    }
    (void)out_created;
    hp_buf_free(&body);
    return rc;
}

/* ---- busybox wget ---------------------------------------------------------------------- */

static int bbwget_one(struct sh_cmd *c, const char *arg, const struct wget_opts *o)
{
    struct sys_url u;
    char url[4096], dest[4096], name[1024];
    enum sys_url_err e = sys_url_parse(arg, "http", &u);
    if (e == SYS_URL_OK && strcmp(u.scheme, "http") && strcmp(u.scheme, "https") && strcmp(u.scheme, "ftp"))
        e = SYS_URL_BAD_SCHEME;
    if (e != SYS_URL_OK) {
        if (e == SYS_URL_BAD_SCHEME)
            sh_errf(c, "wget: not an http or ftp url: %s\n", arg);
        else if (e == SYS_URL_BAD_PORT)
            sh_errf(c, "wget: bad port spec '%s'\n", arg);
        else
            sh_errf(c, "wget: bad address ''\n");
        return 1;
    }
    sys_url_format(&u, url, sizeof(url));
    bool to_stdout = wget_name(o, &u, name, sizeof(name));
    char rel[4096];
    snprintf(rel, sizeof(rel), "%s%s%s", !o->out && o->prefix ? o->prefix : "", !o->out && o->prefix ? "/" : "", name);
    if (!to_stdout && sh_path(c, rel, dest, sizeof(dest)) < 0) {
        sh_errf(c, "wget: can't open '%s': File name too long\n", rel);
        return 1;
    }
    struct hp_buf body;
    hp_buf_init(&body, NET_BODY_MAX);
    enum sh_fetch_result r = sh_fetch(c, "wget", url, to_stdout ? NULL : dest, &body);
    char ipbuf[32];
    const char *ip = host_addr(&u, ipbuf, sizeof(ipbuf));
    if (!host_resolves(&u) && r != SH_FETCH_OK) {
        sh_errf(c, "wget: bad address '%s'\n", u.host);
        hp_buf_free(&body);
        return 1;
    }
    if (!o->quiet)
        sh_errf(c, "Connecting to %s (%s:%u)\n", u.host, ip, u.port);
    if (r != SH_FETCH_OK && r != SH_FETCH_NOT_FOUND) {
        sh_errf(c, "wget: can't connect to remote host (%s): Connection refused\n", ip);
        hp_buf_free(&body);
        return 1;
    }
    if (r == SH_FETCH_NOT_FOUND) {
        sh_errs(c, "wget: server returned error: HTTP/1.1 404 Not Found\n");
        hp_buf_free(&body);
        return 1;
    }
    if (to_stdout) {
        sh_out(c, body.data, body.len);
    } else {
        int w = save_body(c, dest, &body, o->out ? SH_O_TRUNC : SH_O_EXCL);
        if (w < 0) {
            sh_errf(c, "wget: can't open '%s': %s\n", rel, sh_strerror(w));
            hp_buf_free(&body);
            return 1;
        }
    }
    if (!o->quiet) {
        char shown[21];
        snprintf(shown, sizeof(shown), "%.20s", to_stdout ? "-" : name);
        sh_errf(c, "%-20s 100%% |*******************************| %5zu   0:00:00 ETA\n", shown, body.len);
    }
    hp_buf_free(&body);
    return 0;
}

static int cmd_wget(struct sh_cmd *c)
{
    bool bb = c->persona->busybox;
    struct wget_opts o = { 0 };
    struct sys_getopt g;
    static const struct sys_longopt longs[] = {
        { "output-document", 1, 'O' }, { "quiet", 0, 'q' }, { "directory-prefix", 1, 'P' },
        { "continue", 0, 'c' }, { "tries", 1, 't' }, { "no-check-certificate", 0, 'K' },
        { "user-agent", 1, 'U' }, { "timeout", 1, 'T' }, { "output-file", 1, 'o' }, { "background", 0, 'b' },
        { "no-verbose", 0, 'n' }, { "verbose", 0, 'v' }, { "help", 0, 'h' }, { "version", 0, 'V' },
        { "header", 1, 'H' }, { "post-data", 1, 'D' }, { "no-cache", 0, 'N' }, { "spider", 0, 'S' },
        { "retry-connrefused", 0, 'R' }, { "waitretry", 1, 'w' }, { "read-timeout", 1, 'T' },
        { "connect-timeout", 1, 'T' }, { "dns-timeout", 1, 'T' }, { "no-clobber", 0, 'C' },
        { "limit-rate", 1, 'L' }, { "proxy", 1, 'Y' }, { "no-proxy", 0, 'N' }, { "user", 1, 'u' },
        { "password", 1, 'p' }, { "http-user", 1, 'u' }, { "http-password", 1, 'p' }, { "ftp-user", 1, 'u' },
        { "ftp-password", 1, 'p' }, { "quota", 1, 'Q' }, { "referer", 1, 'r' }, { "show-progress", 0, 'G' },
        { NULL, 0, 0 },
    };
    int opt;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((opt = sys_getopt(&g, bb ? "O:qP:cT:t:U:Y:sS" : "O:qP:ct:T:U:o:a:bnvhVNY:S", bb ? longs : longs)) != -1) {
        switch (opt) {
        case 'O': o.out = g.optarg; break;
        case 'q': o.quiet = true; break;
        case 'P': o.prefix = g.optarg; break;
        case 'c': o.cont = true; break;
        case 'h':
            if (!bb) {
                sh_outs(c, "GNU Wget 1.21.3, a non-interactive network retriever.\nUsage: wget [OPTION]... [URL]...\n");
                return 0;
            }
            break;
        case 'V':
            if (!bb) {
                sh_outs(c, "GNU Wget 1.21.3 built on linux-gnu.\n\n-cares +digest -gpgme +https +ipv6 +iri +large-file "
                           "-metalink +nls +ntlm +opie +psl +ssl/gnutls \n");
                return 0;
            }
            break;
        case '?': case ':':
            if (bb)
                return sys_usage_bb(c, "wget", &g, "[-c|--continue] [--spider] [-q|--quiet] [-O|--output-document FILE]\n"
                                                   "\t[--header 'header: value'] [-Y|--proxy on/off] [-P DIR]\n"
                                                   "\t[-S|--server-response] [-U|--user-agent AGENT] [-T SEC] URL...");
            sh_errf(c, "wget: ");
            if (g.missing)
                sh_errf(c, "option requires an argument -- '%c'\n", g.badc);
            else if (g.badlong)
                sh_errf(c, "unrecognized option '%s'\n", g.bad);
            else
                sh_errf(c, "invalid option -- '%c'\n", g.badc);
            sh_errs(c, "Usage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.\n");
            return 2;
        default: break;
        }
    }
    if (g.noperands == 0) {
        if (bb)
            return sys_usage_bb(c, "wget", NULL, "[-c|--continue] [--spider] [-q|--quiet] [-O|--output-document FILE]\n"
                                                 "\t[--header 'header: value'] [-Y|--proxy on/off] [-P DIR]\n"
                                                 "\t[-S|--server-response] [-U|--user-agent AGENT] [-T SEC] URL...");
        sh_errs(c, "wget: missing URL\nUsage: wget [OPTION]... [URL]...\n\nTry `wget --help' for more options.\n");
        return 1;
    }
    int rc = 0;
    bool created = false;
    if (!bb && o.out && strcmp(o.out, "-") != 0) {       /* GNU wget opens -O before connecting */
        char dest[4096];
        if (sh_path(c, o.out, dest, sizeof(dest)) == 0 && c->fs) {
            long w = sh_vfs_write(c->fs, dest, "", 0, SH_O_CREAT | (o.cont ? 0 : SH_O_TRUNC), 0644);
            if (w < 0) {
                sh_errf(c, "%s: %s\n", o.out, sh_strerror((int)w));
                return 3;
            }
            created = true;
        }
    }
    for (int i = 0; i < g.noperands && i < 64; i++) {
        int r = bb ? bbwget_one(c, g.operands[i], &o) : wget_one(c, g.operands[i], &o, created);
        if (r) {
            rc = r;
            if (bb)
                break;
        }
    }
    return rc;
}

/* ---- curl ------------------------------------------------------------------------------ */

static void curl_meter(struct sh_cmd *c, size_t n, bool done)
{
    sh_errs(c, "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
               "                                 Dload  Upload   Total   Spent    Left  Speed\n");
    if (!done) {
        sh_errs(c, "\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0\n");
        return;
    }
    char sz[32];
    if (n < 100000)
        snprintf(sz, sizeof(sz), "%zu", n);
    else
        snprintf(sz, sizeof(sz), "%zuk", n / 1024);
    sh_errf(c, "\r100 %5s  100 %5s    0     0  %5zu      0 --:--:-- --:--:-- --:--:-- %5zu\n", sz, sz, n * 9 % 99999 + 1,
            n * 9 % 99999 + 1);
}

static int cmd_curl(struct sh_cmd *c)
{
    const char *out = NULL, *url_arg = NULL;
    bool remote_name = false, silent = false, show_err = false, fail = false;
    static const char *const with_arg[] = {
        "-o", "--output", "-X", "--request", "-d", "--data", "--data-binary", "--data-raw", "--data-urlencode",
        "-H", "--header", "-A", "--user-agent", "-u", "--user", "-m", "--max-time", "--connect-timeout",
        "-e", "--referer", "-b", "--cookie", "-c", "--cookie-jar", "-x", "--proxy", "-w", "--write-out",
        "-T", "--upload-file", "-F", "--form", "-r", "--range", "-C", "--continue-at", "-E", "--cert",
        "--retry", "--retry-delay", "--max-redirs", "--url", "-U", "--proxy-user", "--resolve", "--interface",
        "--limit-rate", "-K", "--config", "--cacert", "--key", "-Y", "-y", "-z", "-t", "-Q", "--quote",
    };
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] != '-' || !a[1]) {
            if (!url_arg)
                url_arg = a;
            continue;
        }
        bool takes = false;
        for (size_t k = 0; k < sizeof(with_arg) / sizeof(with_arg[0]); k++)
            if (!strcmp(a, with_arg[k]))
                takes = true;
        if (takes) {
            if (i + 1 >= c->argc) {
                sh_errf(c, "curl: option %s: requires parameter\ncurl: try 'curl --help' or 'curl --manual' for more information\n", a);
                return 2;
            }
            const char *v = c->argv[++i];
            if (!strcmp(a, "-o") || !strcmp(a, "--output"))
                out = v;
            else if (!strcmp(a, "--url"))
                url_arg = v;
            continue;
        }
        if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
            sh_outs(c, "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 OpenSSL/3.0.11 zlib/1.2.13 brotli/1.0.9 "
                       "zstd/1.5.4 libidn2/2.3.3 libpsl/0.21.2 (+libidn2/2.3.3) libssh2/1.10.0 nghttp2/1.52.0 "
                       "librtmp/2.3 OpenLDAP/2.5.13\nRelease-Date: 2023-02-20, security patched: 7.88.1-10+deb12u5\n"
                       "Protocols: dict file ftp ftps gopher gophers http https imap imaps ldap ldaps mqtt pop3 pop3s "
                       "rtmp rtsp scp sftp smb smbs smtp smtps telnet tftp\n"
                       "Features: alt-svc AsynchDNS brotli GSS-API HSTS HTTP2 HTTPS-proxy IDN IPv6 Kerberos Largefile "
                       "libz NTLM NTLM_WB PSL SPNEGO SSL threadsafe TLS-SRP UnixSockets zstd\n");
            return 0;
        }
        if (!strcmp(a, "--remote-name") || !strcmp(a, "--silent") || !strcmp(a, "--show-error") ||
            !strcmp(a, "--fail") || !strcmp(a, "--location") || !strcmp(a, "--insecure") ||
            !strcmp(a, "--compressed") || !strcmp(a, "--progress-bar") || !strcmp(a, "--verbose") ||
            !strcmp(a, "--include") || !strcmp(a, "--head") || !strcmp(a, "--ipv4") || !strcmp(a, "--http1.1")) {
            remote_name |= !strcmp(a, "--remote-name");
            silent |= !strcmp(a, "--silent");
            show_err |= !strcmp(a, "--show-error");
            fail |= !strcmp(a, "--fail");
            continue;
        }
        if (a[1] == '-')
            continue;             /* other long options: accepted */
        for (const char *q = a + 1; *q; q++) {
            switch (*q) {
            case 'O': remote_name = true; break;
            case 's': silent = true; break;
            case 'S': show_err = true; break;
            case 'f': fail = true; break;
            case 'o':
                out = q[1] ? q + 1 : i + 1 < c->argc ? c->argv[++i] : NULL;
                q += strlen(q) - 1;
                break;
            case 'L': case 'k': case 'v': case 'i': case 'I': case '#': case '4': case '6': case 'g': case 'N':
            case 'n': case 'j': case 'l': case 'p': case 'q': case 'R': case 'Z': case '0': case '1':
            case '2': case '3':
                break;
            case 'X': case 'd': case 'H': case 'A': case 'u': case 'm': case 'e': case 'b': case 'c': case 'x':
            case 'w': case 'T': case 'F': case 'r': case 'C': case 'E': case 'K':
                if (!q[1])
                    i++;
                q += strlen(q) - 1;
                break;
            default:
                sh_errf(c, "curl: option -%c: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information\n", *q);
                return 2;
            }
        }
    }
    if (!url_arg) {
        sh_errs(c, "curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more information\n");
        return 2;
    }
    struct sys_url u;
    enum sys_url_err e = sys_url_parse(url_arg, "http", &u);
    bool err_visible = !silent || show_err;
    if (e == SYS_URL_BAD_SCHEME || (e == SYS_URL_OK && strcmp(u.scheme, "http") && strcmp(u.scheme, "https") &&
                                    strcmp(u.scheme, "ftp") && strcmp(u.scheme, "tftp") && strcmp(u.scheme, "ftps"))) {
        if (err_visible)
            sh_errf(c, "curl: (1) Protocol \"%s\" not supported or disabled in libcurl\n", u.scheme);
        return 1;
    }
    if (e != SYS_URL_OK) {
        if (err_visible)
            sh_errs(c, "curl: (3) URL using bad/illegal format or missing URL\n");
        return 3;
    }
    char url[4096], dest[4096] = "", name[1024];
    sys_url_format(&u, url, sizeof(url));
    const char *target = out;
    if (!target && remote_name) {
        url_basename(&u, name, sizeof(name));
        if (!name[0]) {
            if (err_visible)
                sh_errs(c, "curl: Remote file name has no length!\ncurl: (23) Failed writing received data to disk/application\n");
            return 23;
        }
        target = name;
    }
    if (target && !strcmp(target, "-"))
        target = NULL;
    if (target && sh_path(c, target, dest, sizeof(dest)) < 0) {
        if (err_visible)
            sh_errs(c, "curl: (23) Failed writing received data to disk/application\n");
        return 23;
    }
    struct hp_buf body;
    hp_buf_init(&body, NET_BODY_MAX);
    enum sh_fetch_result r = sh_fetch(c, "curl", url, target ? dest : NULL, &body);
    bool meter = !silent && (target || !c->out_tty);
    int rc = 0;
    if (!host_resolves(&u) && r != SH_FETCH_OK) {
        if (meter)
            curl_meter(c, 0, false);
        if (err_visible)
            sh_errf(c, "curl: (6) Could not resolve host: %s\n", u.host);
        rc = 6;
    } else if (r == SH_FETCH_NOT_FOUND) {
        if (fail) {
            if (meter)
                curl_meter(c, 0, false);
            if (err_visible)
                sh_errs(c, "curl: (22) The requested URL returned error: 404\n");
            rc = 22;
        } else {
            static const char nf[] = "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
                                     "<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n"
                                     "</body>\r\n</html>\r\n";
            hp_buf_reset(&body);
            hp_buf_put(&body, nf, sizeof(nf) - 1);
            r = SH_FETCH_OK;
        }
    } else if (r != SH_FETCH_OK) {
        if (meter)
            curl_meter(c, 0, false);
        if (err_visible)
            sh_errf(c, "curl: (7) Failed to connect to %s port %u after 0 ms: Couldn't connect to server\n", u.host,
                    u.port);
        rc = 7;
    }
    if (r == SH_FETCH_OK && rc == 0) {
        if (meter)
            curl_meter(c, body.len, true);
        if (target) {
            int w = save_body(c, dest, &body, SH_O_TRUNC);
            if (w < 0) {
                if (err_visible)
                    sh_errf(c, "Warning: Failed to open the file %s: %s\ncurl: (23) Failure writing output to destination\n",
                            target, sh_strerror(w));
                rc = 23;
            }
        } else
            sh_out(c, body.data, body.len);
    }
    hp_buf_free(&body);
    return rc;
}

/* ---- tftp, ftpget, ftpput ---------------------------------------------------------------- */

static int cmd_tftp(struct sh_cmd *c)
{
    bool bb = c->persona->busybox;
    const char *remote = NULL, *local = NULL, *host = NULL, *port = NULL;
    bool get = false, put = false, hpa_get = false;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (!strcmp(a, "-g"))
            get = true;
        else if (!strcmp(a, "-p"))
            put = true;
        else if (!strcmp(a, "-r") && i + 1 < c->argc)
            remote = c->argv[++i];
        else if (!strcmp(a, "-l") && i + 1 < c->argc)
            local = c->argv[++i];
        else if (!strcmp(a, "-b") && i + 1 < c->argc)
            i++;
        else if (!strcmp(a, "-c") && !bb) {
            /* tftp-hpa: tftp HOST -c get FILE [LOCAL] */
            if (i + 2 < c->argc && !strcmp(c->argv[i + 1], "get")) {
                hpa_get = true;
                remote = c->argv[i + 2];
                local = i + 3 < c->argc ? c->argv[i + 3] : NULL;
            }
            break;
        } else if (a[0] == '-' && a[1]) {
            struct sys_getopt g = { .badc = a[1], .bad = a };
            return bb ? sys_usage_bb(c, "tftp", &g, "[OPTIONS] HOST [PORT]\n\nTransfer a file from/to tftp server\n\n"
                                                    "\t-l FILE\tLocal FILE\n\t-r FILE\tRemote FILE\n\t-g\tGet file\n"
                                                    "\t-p\tPut file\n\t-b SIZE\tTransfer blocks of SIZE octets")
                      : (sh_errf(c, "tftp: invalid option -- '%c'\n", a[1]), 1);
        } else if (!host)
            host = a;
        else if (!port)
            port = a;
    }
    if (!host || (bb && (!get && !put)) || (!bb && !hpa_get)) {
        if (bb)
            return sys_usage_bb(c, "tftp", NULL, "[OPTIONS] HOST [PORT]\n\nTransfer a file from/to tftp server\n\n"
                                                 "\t-l FILE\tLocal FILE\n\t-r FILE\tRemote FILE\n\t-g\tGet file\n"
                                                 "\t-p\tPut file\n\t-b SIZE\tTransfer blocks of SIZE octets");
        return 0;                 /* tftp-hpa would start its prompt */
    }
    if (!remote)
        remote = local;
    if (!local && remote) {
        const char *slash = strrchr(remote, '/');
        local = slash ? slash + 1 : remote;
    }
    if (!remote) {
        return sys_usage_bb(c, "tftp", NULL, "[OPTIONS] HOST [PORT]");
    }
    long pv = 69;
    if (port && (!sh_parse_long(port, &pv) || pv <= 0 || pv > 65535)) {
        sh_errf(c, "tftp: bad port '%s'\n", port);
        return 1;
    }
    struct sys_url u = { 0 };
    snprintf(u.scheme, sizeof(u.scheme), "tftp");
    if (strlen(host) >= sizeof(u.host)) {
        sh_errf(c, "tftp: bad address '%s'\n", host);
        return 1;
    }
    snprintf(u.host, sizeof(u.host), "%s", host);
    u.port = (unsigned)pv;
    if (!sys_host_is_ip(u.host, false) && strcasecmp(u.host, "localhost") != 0) {
        if (put)
            sh_errf(c, "tftp: bad address '%s'\n", host);
    }
    if (put) {
        char lp[4096];
        if (sh_path(c, local, lp, sizeof(lp)) < 0 || !vfs_exists(c, lp)) {
            sh_errf(c, "tftp: can't open '%s': No such file or directory\n", local);
            return 1;
        }
        if (c->fs)
            sh_vfs_capture(c->fs, lp);
        sh_errs(c, "tftp: timeout\n");
        return 1;
    }
    char url[4096], dest[4096], hb[300], rp[2000];
    if (!host_plausible(u.host)) {
        sh_errf(c, bb ? "tftp: bad address '%s'\n" : "tftp: %s: Name or service not known\n", host);
        return 1;
    }
    url_host(hb, sizeof(hb), u.host);
    url_escape(rp, sizeof(rp), remote[0] == '/' ? remote + 1 : remote, "/");
    snprintf(url, sizeof(url), "tftp://%s:%u/%s", hb, u.port, rp);
    bool to_stdout = !strcmp(local, "-");
    if (!to_stdout && sh_path(c, local, dest, sizeof(dest)) < 0) {
        sh_errf(c, "tftp: can't open '%s': File name too long\n", local);
        return 1;
    }
    struct hp_buf body;
    hp_buf_init(&body, NET_BODY_MAX);
    enum sh_fetch_result r = sh_fetch(c, "tftp", url, to_stdout ? NULL : dest, &body);
    int rc = 0;
    if (r != SH_FETCH_OK && !sys_host_is_ip(u.host, false) && strcasecmp(u.host, "localhost") != 0) {
        if (bb)
            sh_errf(c, "tftp: bad address '%s'\n", host);
        else
            sh_errf(c, "tftp: %s: Temporary failure in name resolution\n", host);
        rc = 1;
    } else if (r == SH_FETCH_NOT_FOUND) {
        sh_errs(c, bb ? "tftp: server error: (1) File not found\n" : "Error code 1: File not found\n");
        rc = 1;
    } else if (r != SH_FETCH_OK) {
        if (bb) {
            sh_errs(c, "tftp: timeout\n");  /* busybox unlinks the local file it opened */
            rc = 1;
        } else
            sh_outs(c, "Transfer timed out.\n\n");
    } else if (to_stdout) {
        sh_out(c, body.data, body.len);
    } else {
        int w = save_body(c, dest, &body, SH_O_TRUNC);
        if (w < 0) {
            sh_errf(c, "tftp: can't open '%s': %s\n", local, sh_strerror(w));
            rc = 1;
        }
    }
    hp_buf_free(&body);
    return rc;
}

static int ftp_common(struct sh_cmd *c, bool put)
{
    const char *prog = put ? "ftpput" : "ftpget";
    const char *user = NULL, *pass = NULL, *pos[3] = { NULL, NULL, NULL };
    long port = 21;
    int np = 0;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if ((!strcmp(a, "-u") || !strcmp(a, "--username")) && i + 1 < c->argc)
            user = c->argv[++i];
        else if ((!strcmp(a, "-p") || !strcmp(a, "--password")) && i + 1 < c->argc)
            pass = c->argv[++i];
        else if ((!strcmp(a, "-P") || !strcmp(a, "--port")) && i + 1 < c->argc) {
            if (!sh_parse_long(c->argv[++i], &port) || port <= 0 || port > 65535) {
                sh_errf(c, "%s: bad port '%s'\n", prog, c->argv[i]);
                return 1;
            }
        } else if (!strcmp(a, "-v") || !strcmp(a, "-c") || !strcmp(a, "--verbose") || !strcmp(a, "--continue"))
            ;
        else if (np < 3)
            pos[np++] = a;
    }
    if (np < 2)
        return sys_usage_bb(c, prog, NULL, put ? "[OPTIONS] HOST [REMOTE_FILE] LOCAL_FILE" : "[OPTIONS] HOST [LOCAL_FILE] REMOTE_FILE");
    const char *host = pos[0], *local = pos[1], *remote = np > 2 ? pos[2] : pos[1];
    if (put && np == 2)
        local = pos[1], remote = pos[1];
    else if (put)
        remote = pos[1], local = pos[2];
    char url[4096], dest[4096];
    char portbuf[16] = "";
    if (port != 21)
        snprintf(portbuf, sizeof(portbuf), ":%ld", port);
    if (!host_plausible(host)) {
        sh_errf(c, "%s: bad address '%s'\n", prog, host);
        return 1;
    }
    char ue[400], pe[400], hb[300], rp[2000];
    url_escape(ue, sizeof(ue), user ? user : "", "");
    url_escape(pe, sizeof(pe), pass ? pass : "", "");
    url_host(hb, sizeof(hb), host);
    url_escape(rp, sizeof(rp), remote[0] == '/' ? remote + 1 : remote, "/");
    snprintf(url, sizeof(url), "ftp://%s%s%s%s%s%s/%s", ue, user && pass ? ":" : "", user && pass ? pe : "",
             user ? "@" : "", hb, portbuf, rp);
    bool ip = sys_host_is_ip(host, false) || !strcasecmp(host, "localhost");
    if (put) {
        char lp[4096];
        if (sh_path(c, local, lp, sizeof(lp)) < 0 || !vfs_exists(c, lp)) {
            sh_errf(c, "ftpput: can't open '%s': No such file or directory\n", local);
            return 1;
        }
        if (c->fs)
            sh_vfs_capture(c->fs, lp);
        if (!ip)
            sh_errf(c, "ftpput: bad address '%s'\n", host);
        else
            sh_errf(c, "ftpput: can't connect to remote host (%s): Connection refused\n", host);
        return 1;
    }
    bool to_stdout = !strcmp(local, "-");
    if (!to_stdout && sh_path(c, local, dest, sizeof(dest)) < 0) {
        sh_errf(c, "ftpget: can't open '%s': File name too long\n", local);
        return 1;
    }
    struct hp_buf body;
    hp_buf_init(&body, NET_BODY_MAX);
    enum sh_fetch_result r = sh_fetch(c, "ftpget", url, to_stdout ? NULL : dest, &body);
    int rc = 0;
    if (r != SH_FETCH_OK && !ip) {
        sh_errf(c, "ftpget: bad address '%s'\n", host);
        rc = 1;
    } else if (r == SH_FETCH_NOT_FOUND) {
        sh_errf(c, "ftpget: unexpected server response to RETR: 550 Failed to open file.\n");
        rc = 1;
    } else if (r != SH_FETCH_OK) {
        char ipbuf[32];
        struct sys_url u = { 0 };
        snprintf(u.host, sizeof(u.host), "%.255s", host);
        sh_errf(c, "ftpget: can't connect to remote host (%s): Connection refused\n", host_addr(&u, ipbuf, sizeof(ipbuf)));
        rc = 1;
    } else if (to_stdout) {
        sh_out(c, body.data, body.len);
    } else {
        int w = save_body(c, dest, &body, SH_O_TRUNC);
        if (w < 0) {
            sh_errf(c, "ftpget: can't open '%s': %s\n", local, sh_strerror(w));
            rc = 1;
        }
    }
    hp_buf_free(&body);
    return rc;
}

static int cmd_ftpget(struct sh_cmd *c) { return ftp_common(c, false); }
static int cmd_ftpput(struct sh_cmd *c) { return ftp_common(c, true); }

/* ---- nc, telnet, ssh, scp ---------------------------------------------------------------- */

static int cmd_nc(struct sh_cmd *c)
{
    bool bb = c->persona->busybox, listen = false;
    const char *host = NULL, *port = NULL;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] == '-' && a[1]) {
            if (strchr(a, 'l'))
                listen = true;
            if ((strchr(a, 'p') || strchr(a, 'w') || strchr(a, 'e') || strchr(a, 's') || strchr(a, 'i') ||
                 strchr(a, 'q')) && !a[2] && i + 1 < c->argc) {
                if (a[1] == 'p')
                    port = c->argv[i + 1];
                i++;
            }
            continue;
        }
        if (!host)
            host = a;
        else if (!port || listen)
            port = a;
    }
    if (listen) {
        if (c->uid != 0 && port && atoi(port) < 1024 && atoi(port) > 0) {
            sh_errs(c, bb ? "nc: bind: Permission denied\n" : "nc: Permission denied\n");
            return 1;
        }
        return 0;                 /* nobody connects to a listener on the sensor */
    }
    if (!host || !port) {
        if (bb)
            return sys_usage_bb(c, "nc", NULL, "[OPTIONS] HOST PORT  - connect\nnc [OPTIONS] -l -p PORT [HOST] [PORT]  - listen");
        sh_errs(c, "usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n"
                   "\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n"
                   "\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n"
                   "\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n"
                   "\t  [destination] [port]\n");
        return 1;
    }
    long pv;
    if (!sh_parse_long(port, &pv) || pv <= 0 || pv > 65535) {
        sh_errf(c, bb ? "nc: bad port '%s'\n" : "nc: port number invalid: %s\n", port);
        return 1;
    }
    if (!host_plausible(host)) {
        if (bb)
            sh_errf(c, "nc: bad address '%s'\n", host);
        else
            sh_errf(c, "nc: getaddrinfo for host \"%s\" port %ld: Name or service not known\n", host, pv);
        return 1;
    }
    char url[1024], hb[300];
    url_host(hb, sizeof(hb), host);
    snprintf(url, sizeof(url), "tcp://%s:%ld/", hb, pv);
    struct hp_buf body;
    hp_buf_init(&body, NET_BODY_MAX);
    enum sh_fetch_result r = sh_fetch(c, "nc", url, NULL, &body);
    int rc = 0;
    bool ip = sys_host_is_ip(host, false) || !strcasecmp(host, "localhost");
    if (r == SH_FETCH_OK)
        sh_out(c, body.data, body.len);
    else if (!ip) {
        if (bb)
            sh_errf(c, "nc: bad address '%s'\n", host);
        else
            sh_errf(c, "nc: getaddrinfo for host \"%s\" port %ld: Temporary failure in name resolution\n", host, pv);
        rc = 1;
    } else {
        if (bb)
            sh_errf(c, "nc: can't connect to remote host (%s): Connection refused\n", host);
        else
            sh_errf(c, "nc: connect to %s port %ld (tcp) failed: Connection refused\n", host, pv);
        rc = 1;
    }
    hp_buf_free(&body);
    return rc;
}

static int cmd_telnet(struct sh_cmd *c)
{
    const char *host = NULL, *port = "23";
    for (int i = 1; i < c->argc; i++) {
        if (c->argv[i][0] == '-')
            continue;
        if (!host)
            host = c->argv[i];
        else
            port = c->argv[i];
    }
    if (!host)
        return sys_usage_bb(c, "telnet", NULL, "[-a] [-l USER] HOST [PORT]");
    bool ip = sys_host_is_ip(host, false) || !strcasecmp(host, "localhost");
    if (!ip) {
        sh_errf(c, "telnet: bad address '%s'\n", host);
        return 1;
    }
    sh_errf(c, "telnet: can't connect to remote host (%s): Connection refused\n", host);
    (void)port;
    return 1;
}

static int cmd_ssh(struct sh_cmd *c)
{
    const char *host = NULL;
    long port = 22;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] == '-') {
            if (!strcmp(a, "-V")) {
                sh_errs(c, "OpenSSH_9.2p1 Debian-2+deb12u2, OpenSSL 3.0.11 19 Sep 2023\n");
                return 0;
            }
            if (a[1] && strchr("bcDEeFIiJLlmOopQRSWw", a[1]) && !a[2] && i + 1 < c->argc) {
                if (a[1] == 'p')
                    sh_parse_long(c->argv[i + 1], &port);
                i++;
            }
            continue;
        }
        host = a;
        break;
    }
    if (!host) {
        sh_errs(c, "usage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] [-B bind_interface]\n"
                   "           [-b bind_address] [-c cipher_spec] [-D [bind_address:]port]\n"
                   "           [-E log_file] [-e escape_char] [-F configfile] [-I pkcs11]\n"
                   "           [-i identity_file] [-J [user@]host[:port]] [-L address]\n"
                   "           [-l login_name] [-m mac_spec] [-O ctl_cmd] [-o option] [-p port]\n"
                   "           [-Q query_option] [-R address] [-S ctl_path] [-W host:port]\n"
                   "           [-w local_tun[:remote_tun]] destination [command [argument ...]]\n");
        return 255;
    }
    const char *at = strrchr(host, '@');
    const char *h = at ? at + 1 : host;
    if (!sys_host_is_ip(h, false) && strcasecmp(h, "localhost") != 0) {
        sh_errf(c, "ssh: Could not resolve hostname %s: Temporary failure in name resolution\n", h);
        return 255;
    }
    sh_errf(c, "ssh: connect to host %s port %ld: Connection refused\n", h, port);
    return 255;
}

static int cmd_scp(struct sh_cmd *c)
{
    const char *remote = NULL;
    long port = 22;
    int files = 0;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] == '-') {
            if ((!strcmp(a, "-P") || !strcmp(a, "-i") || !strcmp(a, "-o") || !strcmp(a, "-F") || !strcmp(a, "-l") ||
                 !strcmp(a, "-S") || !strcmp(a, "-c") || !strcmp(a, "-J")) && i + 1 < c->argc) {
                if (a[1] == 'P')
                    sh_parse_long(c->argv[i + 1], &port);
                i++;
            }
            continue;
        }
        files++;
        if (strchr(a, ':') && !remote)
            remote = a;
    }
    if (files < 2) {
        sh_errs(c, "usage: scp [-346ABCOpqRrsTv] [-c cipher] [-D sftp_server_path] [-F ssh_config]\n"
                   "           [-i identity_file] [-J destination] [-l limit]\n"
                   "           [-o ssh_option] [-P port] [-S program] source ... target\n");
        return 1;
    }
    if (!remote)
        return 0;
    char host[256];
    const char *at = strchr(remote, '@');
    const char *h = at ? at + 1 : remote;
    snprintf(host, sizeof(host), "%.*s", (int)strcspn(h, ":"), h);
    if (!sys_host_is_ip(host, false) && strcasecmp(host, "localhost") != 0)
        sh_errf(c, "ssh: Could not resolve hostname %s: Temporary failure in name resolution\r\n", host);
    else
        sh_errf(c, "ssh: connect to host %s port %ld: Connection refused\r\n", host, port);
    sh_errs(c, "scp: Connection closed\n");
    return 255;
}

const struct sh_cmd_def sh_cmds_net[] = {
    { "curl", cmd_curl, false },
    { "ftpget", cmd_ftpget, false },
    { "ftpput", cmd_ftpput, false },
    { "nc", cmd_nc, false },
    { "netcat", cmd_nc, false },
    { "scp", cmd_scp, false },
    { "ssh", cmd_ssh, false },
    { "telnet", cmd_telnet, false },
    { "tftp", cmd_tftp, false },
    { "wget", cmd_wget, false },
    { NULL, NULL, false },
};
