/*
 * syslog.c - [output syslog]: every event as an RFC 5424 message to a SIEM.
 *
 * Transports: udp (RFC 5426, one message per datagram), tcp (RFC 6587,
 * octet counting by default, 'framing = lf' for receivers that want
 * newline-terminated messages) and tls (RFC 5425: TCP + TLS, octet
 * counting, OpenSSL, server certificate checked against the system CAs or
 * 'ca_file', optional client certificate).  The format is in syslog_fmt.c.
 *
 * The connection is made and used by the writer thread only.  While it is
 * down write() returns -1: output.c keeps the batch and retries it, the
 * queue fills, and the sensor stops accepting (back-pressure) instead of
 * dropping anything.  Before each batch the socket is polled for a hang-up
 * from the receiver (a syslog server never sends us data), so a receiver
 * that went away while we were idle is noticed before the batch is written
 * into a dead connection.  A batch that fails part-way resumes at the first
 * message not fully handed to the kernel.  Syslog has no acknowledgements:
 * what sat in the kernel's send buffer when the receiver crashed is lost
 * with it; the JSONL stays the record of truth (docs/outputs.md).
 *
 * Connecting is retried by every write (output.c backs off to 2 s) and, when
 * idle, by tick() with its own back-off (0.5 s doubling to 30 s), so
 * `hanipo status` shows the link come back without waiting for an event.
 * Socket timeouts (5 s) bound how long a stuck receiver holds the writer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "buf.h"
#include "config.h"
#include "event.h"
#include "log.h"
#include "output.h"
#include "syslog.h"
#include "util.h"

#define SL_IO_TIMEOUT_S 5
#define SL_CHUNK (256 * 1024)          /* bytes per send() on a stream */
#define SL_BACKOFF_MIN_MS 500
#define SL_BACKOFF_MAX_MS 30000

enum sl_transport { SL_UDP, SL_TCP, SL_TLS };

struct sl {
    struct hp_syslog_fmt fmt;
    enum sl_transport transport;
    char host[256];
    char port[8];
    char server_name[256];        /* checked against the certificate */
    char ca_file[1024], cert_file[1024], key_file[1024];
    bool verify;
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
    struct hp_buf out;            /* framed messages of the chunk being sent */
    /* A batch that failed part-way resumes at this event. */
    const struct hp_event *resume_batch;
    size_t resume_at;
    int64_t next_connect_ms;
    int64_t backoff_ms;
    struct hp_ratelimit err_rl;
    /* read by `hanipo status` from another thread */
    _Atomic bool connected;
    _Atomic int64_t last_ok_us;
    _Atomic uint64_t errors;
};

static void sl_err(struct sl *s, const char *fmt, const char *detail)
{
    atomic_fetch_add(&s->errors, 1);
    uint64_t n = hp_ratelimit_ok(&s->err_rl, 10000);
    if (n)
        hp_error("syslog %s:%s: %s: %s (events kept, will retry; %llu error(s) since last report)",
                 s->host, s->port, fmt, detail, (unsigned long long)n);
}

/* ---- options ---------------------------------------------------------- */

static int sl_opt_one(struct sl *s, const struct hp_kv *kv)
{
    const char *k = kv->key, *v = kv->value;
    uint64_t u;
    int b;
    if (strcmp(k, "host") == 0 && v[0] && strlen(v) < sizeof(s->host))
        snprintf(s->host, sizeof(s->host), "%s", v);
    else if (strcmp(k, "port") == 0 && hp_parse_u64(v, 1, 65535, &u) == 0)
        snprintf(s->port, sizeof(s->port), "%llu", (unsigned long long)u);
    else if (strcmp(k, "transport") == 0 && strcmp(v, "udp") == 0)
        s->transport = SL_UDP;
    else if (strcmp(k, "transport") == 0 && strcmp(v, "tcp") == 0)
        s->transport = SL_TCP;
    else if (strcmp(k, "transport") == 0 && strcmp(v, "tls") == 0)
        s->transport = SL_TLS;
    else if (strcmp(k, "framing") == 0 && (strcmp(v, "octet") == 0 || strcmp(v, "lf") == 0))
        s->fmt.octet_count = strcmp(v, "octet") == 0;
    else if (strcmp(k, "facility") == 0 && hp_syslog_facility(v, &s->fmt.facility) == 0)
        ;
    else if (strcmp(k, "hostname") == 0 && v[0])
        hp_syslog_sanitize(v, s->fmt.hostname, sizeof(s->fmt.hostname));
    else if (strcmp(k, "app_name") == 0 && v[0])
        hp_syslog_sanitize(v, s->fmt.app_name, sizeof(s->fmt.app_name));
    else if (strcmp(k, "udp_max") == 0 && hp_parse_size(v, &u) == 0 && u >= 480 && u <= 65000)
        s->fmt.udp_max = (size_t)u;
    else if (strcmp(k, "ca_file") == 0 && strlen(v) < sizeof(s->ca_file))
        snprintf(s->ca_file, sizeof(s->ca_file), "%s", v);
    else if (strcmp(k, "cert_file") == 0 && strlen(v) < sizeof(s->cert_file))
        snprintf(s->cert_file, sizeof(s->cert_file), "%s", v);
    else if (strcmp(k, "key_file") == 0 && strlen(v) < sizeof(s->key_file))
        snprintf(s->key_file, sizeof(s->key_file), "%s", v);
    else if (strcmp(k, "server_name") == 0 && v[0] && strlen(v) < sizeof(s->server_name))
        snprintf(s->server_name, sizeof(s->server_name), "%s", v);
    else if (strcmp(k, "tls_verify") == 0 && hp_parse_bool(v, &b) == 0)
        s->verify = b;
    else
        return -1;
    return 0;
}

static int sl_opt(struct sl *s, const struct hp_config *cfg, const struct hp_output_cfg *oc,
                  char *err, size_t errlen)
{
    s->transport = SL_TCP;
    s->fmt.octet_count = true;
    s->fmt.facility = 16;                             /* local0 */
    s->fmt.udp_max = 8192;                            /* rsyslog's default message size */
    s->verify = true;
    hp_syslog_sanitize(cfg->sensor_name ? cfg->sensor_name : "", s->fmt.hostname, sizeof(s->fmt.hostname));
    snprintf(s->fmt.app_name, sizeof(s->fmt.app_name), "hanipo");
    snprintf(s->fmt.procid, sizeof(s->fmt.procid), "%ld", (long)getpid());
    for (const struct hp_kv *kv = oc->opts; kv; kv = kv->next) {
        if (sl_opt_one(s, kv) != 0) {
            snprintf(err, errlen, "%s:%d: [output syslog]: bad value for %s: '%s'", cfg->path, kv->line,
                     kv->key, kv->value);
            return -1;
        }
    }
    if (!s->host[0]) {
        snprintf(err, errlen, "%s:%d: [output syslog]: 'host' is required", cfg->path, oc->line);
        return -1;
    }
    if (!s->port[0])
        snprintf(s->port, sizeof(s->port), "%s", s->transport == SL_TLS ? "6514" : "514");
    if (!s->server_name[0])
        snprintf(s->server_name, sizeof(s->server_name), "%s", s->host);
    s->fmt.udp = s->transport == SL_UDP;
    if (s->transport == SL_TLS)
        s->fmt.octet_count = true;                    /* RFC 5425 */
    if (!s->cert_file[0] != !s->key_file[0]) {
        snprintf(err, errlen, "%s:%d: [output syslog]: cert_file and key_file go together", cfg->path, oc->line);
        return -1;
    }
    return 0;
}

static int sl_check(const struct hp_config *cfg, const struct hp_output_cfg *oc, char *err, size_t errlen)
{
    struct sl s;
    memset(&s, 0, sizeof(s));
    return sl_opt(&s, cfg, oc, err, errlen);
}

/* ---- TLS context (at open: files are read before privileges are dropped) ---- */

static int sl_tls_ctx(struct sl *s, char *err, size_t errlen)
{
    s->ctx = SSL_CTX_new(TLS_client_method());
    if (!s->ctx)
        goto fail;
    SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
    if (s->verify) {
        SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
        int ok = s->ca_file[0] ? SSL_CTX_load_verify_locations(s->ctx, s->ca_file, NULL)
                               : SSL_CTX_set_default_verify_paths(s->ctx);
        if (ok != 1)
            goto fail;
    }
    if (s->cert_file[0] && (SSL_CTX_use_certificate_chain_file(s->ctx, s->cert_file) != 1 ||
                            SSL_CTX_use_PrivateKey_file(s->ctx, s->key_file, SSL_FILETYPE_PEM) != 1))
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "[output syslog]: TLS setup: %s", ERR_reason_error_string(ERR_get_error()));
    return -1;
}

/* ---- connection --------------------------------------------------------- */

static void sl_disconnect(struct sl *s)
{
    if (s->ssl) {
        SSL_free(s->ssl);
        s->ssl = NULL;
    }
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    atomic_store(&s->connected, false);
}

static int sl_tls_handshake(struct sl *s)
{
    s->ssl = SSL_new(s->ctx);
    if (!s->ssl)
        return -1;
    struct in6_addr a6;
    struct in_addr a4;
    bool is_ip = inet_pton(AF_INET, s->server_name, &a4) == 1 || inet_pton(AF_INET6, s->server_name, &a6) == 1;
    if (!is_ip)
        SSL_set_tlsext_host_name(s->ssl, s->server_name);
    if (s->verify) {
        X509_VERIFY_PARAM *p = SSL_get0_param(s->ssl);
        if ((is_ip ? X509_VERIFY_PARAM_set1_ip_asc(p, s->server_name)
                   : X509_VERIFY_PARAM_set1_host(p, s->server_name, 0)) != 1)
            return -1;
    }
    SSL_set_fd(s->ssl, s->fd);
    if (SSL_connect(s->ssl) != 1) {
        long vr = SSL_get_verify_result(s->ssl);
        sl_err(s, "TLS handshake failed",
               vr != X509_V_OK ? X509_verify_cert_error_string(vr) : ERR_reason_error_string(ERR_get_error()));
        return -1;
    }
    return 0;
}

static int sl_socket(struct sl *s, const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    struct timeval tv = { SL_IO_TIMEOUT_S, 0 };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));  /* bounds connect() too */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int sl_connect(struct sl *s)
{
    struct addrinfo hints = { .ai_socktype = s->transport == SL_UDP ? SOCK_DGRAM : SOCK_STREAM };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(s->host, s->port, &hints, &res);
    if (rc != 0) {
        sl_err(s, "cannot resolve", gai_strerror(rc));
        return -1;
    }
    int e = 0;
    for (struct addrinfo *ai = res; ai && s->fd < 0; ai = ai->ai_next) {
        s->fd = sl_socket(s, ai);
        e = errno;
    }
    freeaddrinfo(res);
    if (s->fd < 0) {
        sl_err(s, "cannot connect", strerror(e));
        return -1;
    }
    if (s->transport == SL_TLS && sl_tls_handshake(s) != 0) {
        sl_disconnect(s);
        return -1;
    }
    atomic_store(&s->connected, true);
    s->backoff_ms = SL_BACKOFF_MIN_MS;
    hp_info("syslog: connected to %s:%s (%s)", s->host, s->port,
            s->transport == SL_UDP ? "udp" : s->transport == SL_TCP ? "tcp" : "tls");
    return 0;
}

/* A receiver never sends; a readable or hung-up stream means it closed or reset. */
static bool sl_peer_gone(struct sl *s)
{
    if (s->transport == SL_UDP)
        return false;
    struct pollfd p = { .fd = s->fd, .events = POLLRDHUP };
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static int sl_ensure(struct sl *s)
{
    if (s->fd >= 0 && sl_peer_gone(s)) {
        hp_warn("syslog: %s:%s closed the connection; reconnecting", s->host, s->port);
        sl_disconnect(s);
    }
    return s->fd >= 0 ? 0 : sl_connect(s);
}

/* ---- sending ------------------------------------------------------------ */

static int sl_send_all(struct sl *s, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w;
        if (s->ssl) {
            int r = SSL_write(s->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
            w = r > 0 ? r : -1;
        } else {
            w = send(s->fd, p, n, MSG_NOSIGNAL);
        }
        if (w < 0 && errno == EINTR && !s->ssl)
            continue;
        if (w <= 0) {
            sl_err(s, "send failed", w < 0 ? strerror(errno) : "no progress");
            sl_disconnect(s);
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* UDP: one datagram per event.  Returns the index of the first event not sent. */
static size_t sl_send_udp(struct sl *s, struct hp_event *const *evs, size_t i, size_t n)
{
    for (; i < n; i++) {
        hp_buf_reset(&s->out);
        if (!hp_syslog_message(&s->fmt, evs[i], &s->out) ||
            send(s->fd, s->out.data, s->out.len, MSG_NOSIGNAL) != (ssize_t)s->out.len) {
            sl_err(s, "send failed", strerror(errno));
            sl_disconnect(s);
            break;
        }
    }
    return i;
}

/* Streams: messages gathered into chunks of about SL_CHUNK bytes. */
static size_t sl_send_stream(struct sl *s, struct hp_event *const *evs, size_t i, size_t n)
{
    while (i < n) {
        size_t k = i;
        hp_buf_reset(&s->out);
        for (size_t mark = 0; k < n && (k == i || s->out.len < SL_CHUNK); k++) {
            mark = s->out.len;
            if (!hp_syslog_message(&s->fmt, evs[k], &s->out)) {
                s->out.len = mark;              /* never send half a message */
                break;
            }
        }
        if (k == i || sl_send_all(s, s->out.data, s->out.len) != 0)
            break;
        i = k;
    }
    return i;
}

static int sl_write(void *state, struct hp_event *const *evs, size_t n)
{
    struct sl *s = state;
    size_t i = (n && evs[0] == s->resume_batch) ? s->resume_at : 0;
    s->resume_batch = NULL;
    if (sl_ensure(s) != 0)
        goto partial;
    i = s->transport == SL_UDP ? sl_send_udp(s, evs, i, n) : sl_send_stream(s, evs, i, n);
    if (i < n)
        goto partial;
    atomic_store(&s->last_ok_us, hp_now_us());
    return 0;
partial:
    s->resume_batch = evs[0];
    s->resume_at = i;
    return -1;
}

static void sl_tick(void *state, int64_t now_us)
{
    struct sl *s = state;
    int64_t now = hp_mono_ms();
    if (s->fd >= 0 && sl_peer_gone(s)) {
        hp_warn("syslog: %s:%s closed the connection; reconnecting", s->host, s->port);
        sl_disconnect(s);
    }
    if (s->fd >= 0 || now < s->next_connect_ms)
        return;
    if (sl_connect(s) != 0) {
        s->next_connect_ms = now + s->backoff_ms;
        s->backoff_ms = s->backoff_ms * 2 > SL_BACKOFF_MAX_MS ? SL_BACKOFF_MAX_MS : s->backoff_ms * 2;
    }
}

static int sl_open(void **state, const struct hp_config *cfg, const struct hp_output_cfg *oc,
                   char *err, size_t errlen)
{
    struct sl *s = hp_xcalloc(1, sizeof(*s));
    s->fd = -1;
    s->backoff_ms = SL_BACKOFF_MIN_MS;
    hp_buf_init(&s->out, HP_EVENT_MAX + SL_CHUNK + 4096);
    if (sl_opt(s, cfg, oc, err, errlen) != 0 || (s->transport == SL_TLS && sl_tls_ctx(s, err, errlen) != 0)) {
        if (s->ctx)
            SSL_CTX_free(s->ctx);
        hp_buf_free(&s->out);
        free(s);
        return -1;
    }
    /* Not connecting here: a receiver that is down must not stop the sensor;
     * the first tick or write connects and the queue holds events meanwhile. */
    *state = s;
    return 0;
}

static void sl_close(void *state)
{
    struct sl *s = state;
    if (s->ssl)
        SSL_shutdown(s->ssl);
    sl_disconnect(s);
    if (s->ctx)
        SSL_CTX_free(s->ctx);
    hp_buf_free(&s->out);
    free(s);
}

static void sl_status(void *state, struct hp_buf *out)
{
    struct sl *s = state;
    hp_buf_printf(out, "\"connected\":%s,\"last_ok_us\":%lld,\"transport_errors\":%llu,",
                  atomic_load(&s->connected) ? "true" : "false", (long long)atomic_load(&s->last_ok_us),
                  (unsigned long long)atomic_load(&s->errors));
}

static const char *const sl_keys[] = {
    "host", "port", "transport", "framing", "facility", "hostname", "app_name", "udp_max",
    "ca_file", "cert_file", "key_file", "server_name", "tls_verify", NULL,
};

const struct hp_output_ops hp_output_syslog = {
    .name = "syslog",
    .keys = sl_keys,
    .check = sl_check,
    .batch_delay_ms = 5,      /* a few events per send(), still far inside a second */
    .open = sl_open,
    .write = sl_write,
    .tick = sl_tick,
    .close = sl_close,
    .status = sl_status,
};
