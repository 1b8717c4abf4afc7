/*
 * fetch.c - libcurl multi interface driven by libevent (see fetch.h).
 *
 * The glue is curl's documented "multi_socket" pattern: curl tells us which
 * sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to call it back
 * (CURLMOPT_TIMERFUNCTION); we turn those into libevent events and call
 * curl_multi_socket_action() when they fire, then collect finished
 * transfers with curl_multi_info_read().
 *
 * Safety settings of every transfer:
 *   - CURLOPT_OPENSOCKETFUNCTION checks each address curl is about to
 *     connect to against the policy: the first hop, every redirect, FTP
 *     data connections, TFTP's socket;
 *   - protocols limited to http/https/ftp/tftp (redirects: http/https/ftp),
 *     no proxy from the environment, no cookies, no netrc;
 *   - certificates are not verified (malware hosts rarely have valid ones;
 *     we are a client fetching evidence, not trusting it);
 *   - the body goes to an O_EXCL|O_NOFOLLOW temporary file, mode 0400;
 *   - TFTP's UDP socket only receives from the address asked: libcurl
 *     takes DATA from any source (before 8.17 at every block, from 8.17 on
 *     the first) and ACKs the first sender, so a third party racing the server
 *     would plant its file under the URL and have the sensor talk to an
 *     address the policy never checked.  A socket filter in the kernel drops
 *     every datagram from another address (RFC 1350: the server answers
 *     from a new port, but from the address we sent to).
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "addrpolicy.h"
#include "fetch.h"
#include "log.h"
#include "output.h"
#include "util.h"

struct xfer {
    CURL *easy;
    hp_fetch_done done;
    void *arg;
    int fd;                       /* temporary file */
    EVP_MD_CTX *md[3];            /* sha256, sha1, md5 */
    uint64_t max_bytes;
    struct hp_fetch_result r;
    bool cut;                     /* the body passed max_bytes */
    bool disk_error;
    bool refused;
    bool shutdown;                /* aborted because the sensor stops */
    int64_t started_ms;
    char errbuf[CURL_ERROR_SIZE];
    struct xfer *next;
};

struct sockwatch {
    struct event *ev;
    curl_socket_t fd;
};

static struct {
    struct event_base *base;
    const struct hp_addrpol *pol;
    int payloads_fd;
    CURLM *multi;
    struct event *timer;
    struct xfer *all;
    unsigned running;
} F = { .payloads_fd = -1 };

/* ---- body and address callbacks -------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb;
    if (x->r.size + n > x->max_bytes) {
        x->cut = true;
        x->r.size += n;
        return 0;                 /* CURLE_WRITE_ERROR ends the transfer */
    }
    const uint8_t *b = (const uint8_t *)p;
    size_t left = n;
    while (left > 0) {
        ssize_t w = write(x->fd, b, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            x->disk_error = true;
            return 0;
        }
        b += w;
        left -= (size_t)w;
    }
    for (int i = 0; i < 3; i++)
        EVP_DigestUpdate(x->md[i], p, n);
    x->r.size += n;
    return n;
}

static void addr_text(const struct sockaddr *sa, char *out, size_t outlen)
{
    const void *a = sa->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr
                                              : (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    if (!inet_ntop(sa->sa_family, a, out, (socklen_t)outlen))
        snprintf(out, outlen, "?");
}

/* Classic BPF on a UDP socket: accept a datagram only if its IP source
 * address is the one of sa (the kernel reads the IP header at SKF_NET_OFF). */
static int pin_udp_source(int fd, const struct sockaddr *sa)
{
    struct sock_filter prog[10];
    unsigned n = 0, words, off;
    uint32_t w[4];
    if (sa->sa_family == AF_INET) {
        memcpy(w, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        words = 1;
        off = 12;                                 /* IPv4 source address */
    } else if (sa->sa_family == AF_INET6) {
        memcpy(w, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        words = 4;
        off = 8;                                  /* IPv6 source address */
    } else {
        return -1;
    }
    for (unsigned i = 0; i < words; i++) {
        /* A mismatch jumps to the final "drop"; BPF loads are big-endian. */
        prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + off + 4 * i);
        prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(w[i]), 0,
                                                 (uint8_t)(2 * (words - i) - 1));
    }
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffffffffu);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
    struct sock_fprog fp = { .len = (unsigned short)n, .filter = prog };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp));
}

static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct xfer *x = arg;
    const char *why = NULL;
    (void)purpose;
    if (!hp_addrpol_allows(F.pol, &a->addr, a->addrlen, &why)) {
        x->refused = true;
        x->r.refused_why = why;
        addr_text(&a->addr, x->r.refused_ip, sizeof(x->r.refused_ip));
        return CURL_SOCKET_BAD;
    }
    curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    /* UDP is TFTP (the only datagram protocol allowed); no filter, no transfer. */
    if (fd >= 0 && a->socktype == SOCK_DGRAM && pin_udp_source(fd, &a->addr) != 0) {
        close(fd);
        return CURL_SOCKET_BAD;
    }
    return fd;
}

/* ---- libevent glue ------------------------------------------------------------------ */

static void check_done(void);

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running = 0;
    (void)arg;
    curl_multi_socket_action(F.multi, fd, flags, &running);
    check_done();
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    int running = 0;
    (void)fd;
    (void)what;
    (void)arg;
    curl_multi_socket_action(F.multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done();
}

static int curl_timer_cb(CURLM *m, long timeout_ms, void *arg)
{
    (void)m;
    (void)arg;
    if (timeout_ms < 0) {
        evtimer_del(F.timer);
        return 0;
    }
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    evtimer_add(F.timer, &tv);
    return 0;
}

static int curl_socket_cb(CURL *e, curl_socket_t s, int what, void *arg, void *sockp)
{
    struct sockwatch *w = sockp;
    (void)e;
    (void)arg;
    if (what == CURL_POLL_REMOVE) {
        if (w) {
            event_free(w->ev);
            free(w);
            curl_multi_assign(F.multi, s, NULL);
        }
        return 0;
    }
    short kind = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    if (!w) {
        w = calloc(1, sizeof(*w));
        if (!w)
            return -1;
        w->fd = s;
        curl_multi_assign(F.multi, s, w);
    } else {
        event_free(w->ev);
    }
    w->ev = event_new(F.base, s, kind, on_socket_event, NULL);
    if (!w->ev)
        return -1;
    event_add(w->ev, NULL);
    return 0;
}

/* ---- finishing a transfer -------------------------------------------------------------- */

static void classify_failure(struct xfer *x, CURLcode rc)
{
    struct hp_fetch_result *r = &x->r;
    r->ok = false;
    snprintf(r->error, sizeof(r->error), "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
    if (x->shutdown) {
        r->reason = "shutdown";
    } else if (x->refused) {
        r->reason = "refused_address";
    } else if (x->cut || rc == CURLE_FILESIZE_EXCEEDED) {
        r->reason = "too_large";
    } else if (x->disk_error) {
        r->reason = "disk";
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        r->reason = "timeout";
        r->transient = true;
    } else if (rc == CURLE_COULDNT_RESOLVE_HOST) {
        r->reason = "dns";
        r->transient = true;
    } else if (rc == CURLE_COULDNT_CONNECT) {
        r->reason = "connect";
        r->transient = true;
    } else if (rc == CURLE_REMOTE_FILE_NOT_FOUND || rc == CURLE_TFTP_NOTFOUND ||
               (rc == CURLE_HTTP_RETURNED_ERROR && (r->status == 404 || r->status == 410))) {
        r->reason = "not_found";
    } else if (rc == CURLE_HTTP_RETURNED_ERROR) {
        r->reason = "http_error";
        r->transient = r->status >= 500 || r->status == 429;
    } else if (rc == CURLE_TOO_MANY_REDIRECTS) {
        r->reason = "redirects";
    } else {
        r->reason = "error";
        r->transient = rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_PARTIAL_FILE ||
                       rc == CURLE_GOT_NOTHING || rc == CURLE_SSL_CONNECT_ERROR;
    }
}

static void xfer_unlink(struct xfer *x)
{
    for (struct xfer **pp = &F.all; *pp; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            return;
        }
}

static void xfer_free(struct xfer *x)
{
    for (int i = 0; i < 3; i++)
        EVP_MD_CTX_free(x->md[i]);
    if (x->fd >= 0)
        close(x->fd);
    free(x);
}

static void xfer_finish(struct xfer *x, CURLcode rc)
{
    struct hp_fetch_result *r = &x->r;
    long code = 0;
    char *eff = NULL;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &eff);
    r->status = code;
    if (eff)
        snprintf(r->final_url, sizeof(r->final_url), "%s", eff);
    if (rc == CURLE_FILESIZE_EXCEEDED) {
        curl_off_t cl = -1;
        curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        if (cl > 0)
            r->size = (uint64_t)cl;
    }
    r->duration_ms = hp_mono_ms() - x->started_ms;
    if (rc == CURLE_OK && !x->cut && !x->disk_error && !x->refused) {
        unsigned len;
        r->ok = true;
        EVP_DigestFinal_ex(x->md[0], r->sha256, &len);
        EVP_DigestFinal_ex(x->md[1], r->sha1, &len);
        EVP_DigestFinal_ex(x->md[2], r->md5, &len);
    } else {
        classify_failure(x, rc);
        unlinkat(F.payloads_fd, r->tmpname, 0);
        r->tmpname[0] = '\0';
    }
    curl_multi_remove_handle(F.multi, x->easy);
    curl_easy_cleanup(x->easy);
    x->easy = NULL;
    xfer_unlink(x);
    F.running--;
    hp_fetch_done done = x->done;
    void *arg = x->arg;
    struct hp_fetch_result copy = *r;
    xfer_free(x);
    done(arg, &copy);
}

static void check_done(void)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(F.multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = NULL;
        CURLcode rc = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x)
            xfer_finish(x, rc);
    }
}

/* ---- starting ------------------------------------------------------------------------------ */

static int open_tmp(struct xfer *x)
{
    char rnd[17];
    hp_random_hex(rnd, 16);
    snprintf(x->r.tmpname, sizeof(x->r.tmpname), ".dl-%s", rnd);
    x->fd = openat(F.payloads_fd, x->r.tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
    return x->fd < 0 ? -1 : 0;
}

static void set_options(struct xfer *x, const struct hp_fetch_opts *o)
{
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, o->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,ftp,tftp");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https,ftp");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(e, CURLOPT_FTP_SKIP_PASV_IP, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 15000L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
    curl_easy_setopt(e, CURLOPT_USERAGENT, o->user_agent ? o->user_agent : "Wget/1.21.3");
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL);      /* the bytes as served */
}

int hp_fetch_start(const struct hp_fetch_opts *o, hp_fetch_done done, void *arg)
{
    if (!F.multi || !o->url)
        return -1;
    struct xfer *x = calloc(1, sizeof(*x));
    if (!x)
        return -1;
    x->fd = -1;
    x->done = done;
    x->arg = arg;
    x->max_bytes = o->max_bytes;
    x->started_ms = hp_mono_ms();
    for (int i = 0; i < 3; i++)
        x->md[i] = EVP_MD_CTX_new();
    if (!x->md[0] || !x->md[1] || !x->md[2] || !EVP_DigestInit_ex(x->md[0], EVP_sha256(), NULL) ||
        !EVP_DigestInit_ex(x->md[1], EVP_sha1(), NULL) || !EVP_DigestInit_ex(x->md[2], EVP_md5(), NULL) ||
        open_tmp(x) != 0 || !(x->easy = curl_easy_init())) {
        if (x->r.tmpname[0] && x->fd >= 0)
            unlinkat(F.payloads_fd, x->r.tmpname, 0);
        xfer_free(x);
        return -1;
    }
    set_options(x, o);
    if (curl_multi_add_handle(F.multi, x->easy) != CURLM_OK) {
        curl_easy_cleanup(x->easy);
        unlinkat(F.payloads_fd, x->r.tmpname, 0);
        xfer_free(x);
        return -1;
    }
    x->next = F.all;
    F.all = x;
    F.running++;
    return 0;
}

unsigned hp_fetch_running(void)
{
    return F.running;
}

int hp_fetch_init(struct event_base *base, const struct hp_addrpol *pol, int payloads_fd,
                  char *err, size_t errlen)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "libcurl initialisation failed");
        return -1;
    }
    F.base = base;
    F.pol = pol;
    F.payloads_fd = payloads_fd;
    F.multi = curl_multi_init();
    F.timer = evtimer_new(base, on_timer, NULL);
    if (!F.multi || !F.timer) {
        snprintf(err, errlen, "cannot create the downloader");
        return -1;
    }
    curl_multi_setopt(F.multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
    curl_multi_setopt(F.multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
    return 0;
}

void hp_fetch_shutdown(void)
{
    while (F.all) {
        struct xfer *x = F.all;
        x->shutdown = true;
        snprintf(x->errbuf, sizeof(x->errbuf), "sensor stopping");
        xfer_finish(x, CURLE_ABORTED_BY_CALLBACK);
    }
    if (F.multi)
        curl_multi_cleanup(F.multi);
    if (F.timer)
        event_free(F.timer);
    F.multi = NULL;
    F.timer = NULL;
    curl_global_cleanup();
}
