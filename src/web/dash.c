/*
 * dash.c - the dashboard's HTTP server: thread, listener, authentication,
 * static files and dispatch to the views.  See dash.h and docs/api.md.
 *
 * Thread model: hp_dash_start() (main thread, before privileges are
 * dropped) binds the socket, reads or creates the token, loads the vendored
 * files and the TLS certificate, then starts one thread that runs its own
 * event_base.  Everything after that happens on that thread: requests, the
 * read-only SQLite connection (opened at the first API call), the live
 * feed.  hp_dash_stop() wakes the thread through a pipe, joins it and frees.
 *
 * Authentication: a 256-bit token (DATA_DIR/dashboard.token, 0600, created
 * at first start and logged once) as "Authorization: Bearer", or a login
 * form taking the token or the configured password, which sets a random
 * session cookie (HttpOnly, SameSite=Strict, Secure with TLS; 12 h).  Every
 * page and /api/ call needs one of them; only the login page and its style
 * sheet are public.  Failed logins are limited to 10 a minute.
 *
 * Store: the sensor's SQLite store, or with [dashboard] store =
 * clickhouse://... a fleet's ClickHouse table (dash_ch.c), queried over HTTP
 * from this thread only, so a slow ClickHouse delays the dashboard, never
 * the honeypot.  `hanipo dashboard --store ...` runs this same server
 * without a sensor (hp_dash_serve).
 *
 * Every response carries nosniff, no-store and a Content-Security-Policy
 * without inline script, so even a rendering bug in the front end cannot
 * run attacker-supplied markup as code.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"
#include "event.h"
#include "log.h"
#include "proto/tlsterm.h"
#include "store/hll.h"
#include "util.h"
#include "web/dash.h"
#include "web/dash_int.h"

#define LOGINS_MAX 64
#define LOGIN_TTL_MS (12LL * 3600 * 1000)
#define FAILS_PER_MINUTE 10
#define QUERY_BUDGET_MS 5000
#define COOKIE "hanipo_session"
/* Open dashboard connections: the 32 live feeds and a few browsers' views.  Without a cap, a
 * client opening thousands of idle ones would take the file descriptors the sensor needs. */
#define CONNS_MAX 64
/* Seconds a connection may sit without a byte either way: twice the live feed's heartbeat. */
#define IDLE_TIMEOUT_S 30

/* 'wasm-unsafe-eval' lets asciinema-player compile its terminal emulator
 * (WebAssembly); it does not allow eval() or inline script. */
static const char *const csp =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

struct vendor_file {
    const char *name, *type;
    char *data;
    size_t len;
};

struct dash_conn {
    struct bufferevent *bev;
    struct dash_conn *next;
};

struct dash {
    struct event_base *base;
    struct evhttp *http;
    struct event *wake_ev;
    int wake[2];
    pthread_t thread;
    char token[65];
    char *password;
    bool tls;
    SSL_CTX *ssl;
    char data_dir[PATH_MAX];
    char db_path[PATH_MAX];
    sqlite3 *db;
    struct hp_dch *ch;            /* a fleet store; NULL: SQLite */
    int64_t query_deadline_ms;
    struct { char id[65]; int64_t expires_ms; } logins[LOGINS_MAX];
    unsigned fails;
    int64_t fail_window_ms;
    struct hp_dash_stream *stream;
    struct vendor_file vendor[4];
    uint64_t requests;
    struct evconnlistener *listener;
    struct event *sweep_ev;       /* conn_sweep, every 250 ms */
    struct dash_conn *conns;      /* every open connection's bufferevent, referenced */
    int nconns;
};

static struct dash *dash;

/* ---- start-up pieces (main thread) ------------------------------------------------------ */

static int load_token(struct dash *d, char *err, size_t errlen, bool retry)
{
    char path[PATH_MAX + 32], buf[80];
    snprintf(path, sizeof(path), "%s/dashboard.token", d->data_dir);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        if (!hp_dapi_is_hex(buf, 64)) {
            snprintf(err, errlen, "dashboard: %s is not 64 hex digits (delete it to make a new token)", path);
            return -1;
        }
        memcpy(d->token, buf, 65);
        return 0;
    }
    if (errno != ENOENT) {
        snprintf(err, errlen, "dashboard: cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    /* Written whole under a temporary name, then linked into place: a
     * reader (a script, another start) never sees an empty or partial
     * token, a crash never leaves one behind, and of two starts at once
     * the second finds the first's token (link fails with EEXIST). */
    char tmp[PATH_MAX + 48];
    snprintf(tmp, sizeof(tmp), "%s/.dashboard.token.%ld", d->data_dir, (long)getpid());
    hp_random_hex(d->token, 64);
    d->token[64] = '\0';
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool written = fd >= 0 && write(fd, d->token, 64) == 64 && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    int werr = errno;
    if (fd >= 0)
        close(fd);
    int linked = written ? link(tmp, path) : -1;
    int lerr = errno;
    unlink(tmp);
    if (!written) {
        snprintf(err, errlen, "dashboard: cannot write %s: %s", tmp, strerror(werr));
        return -1;
    }
    if (linked != 0 && lerr == EEXIST && retry)
        return load_token(d, err, errlen, false);     /* another start made it meanwhile */
    if (linked != 0) {
        snprintf(err, errlen, "dashboard: cannot create %s: %s", path, strerror(lerr));
        return -1;
    }
    /* shown once; afterwards only the file (0600) has it */
    hp_warn("dashboard: new access token (stored in %s): %s", path, d->token);
    return 0;
}

static void load_vendor(struct dash *d, const char *dir)
{
    static const struct { const char *name, *type; } files[] = {
        { "echarts.min.js", "text/javascript; charset=utf-8" },
        { "asciinema-player.min.js", "text/javascript; charset=utf-8" },
        { "asciinema-player.css", "text/css; charset=utf-8" },
        { "world.geo.json", "application/json" },
    };
    for (size_t i = 0; i < 4; i++) {
        char path[PATH_MAX + 64];
        struct stat sb;
        snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
        d->vendor[i].name = files[i].name;
        d->vendor[i].type = files[i].type;
        FILE *f = fopen(path, "rb");
        if (!f || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > (32 << 20)) {
            hp_warn("dashboard: %s missing (run tools/webdeps.sh): charts or replays are off", path);
            if (f)
                fclose(f);
            continue;
        }
        d->vendor[i].data = malloc((size_t)sb.st_size + 1);
        if (d->vendor[i].data && fread(d->vendor[i].data, 1, (size_t)sb.st_size, f) == (size_t)sb.st_size)
            d->vendor[i].len = (size_t)sb.st_size;
        fclose(f);
    }
}

static int load_tls(struct dash *d, char *err, size_t errlen)
{
    char crt[PATH_MAX + 32], key[PATH_MAX + 32];
    struct stat sb;
    snprintf(crt, sizeof(crt), "%s/tls/server.crt", d->data_dir);
    snprintf(key, sizeof(key), "%s/tls/server.key", d->data_dir);
    /* the sensor's certificate: made by the TLS terminator at first start if no service did yet */
    if (stat(crt, &sb) != 0 && hp_tlsterm_init(d->data_dir, err, errlen) != 0)
        return -1;
    d->ssl = SSL_CTX_new(TLS_server_method());
    if (!d->ssl || SSL_CTX_set_min_proto_version(d->ssl, TLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate_chain_file(d->ssl, crt) != 1 ||
        SSL_CTX_use_PrivateKey_file(d->ssl, key, SSL_FILETYPE_PEM) != 1) {
        snprintf(err, errlen, "dashboard: cannot load %s / %s: %s", crt, key,
                 ERR_reason_error_string(ERR_get_error()));
        return -1;
    }
    return 0;
}

static struct bufferevent *ssl_bev(struct event_base *base, void *arg)
{
    struct dash *d = arg;
    SSL *ssl = SSL_new(d->ssl);
    if (!ssl)
        return NULL;
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

/* The connection cap.  libevent 2.1 has no evhttp_set_max_connections (2.2 has), and a
 * connection that sends no request reaches no callback of ours, so the count is kept on the
 * bufferevents: conn_bev, evhttp's bevcb, runs for every accepted connection and takes a
 * reference on its bufferevent; conn_sweep finds those evhttp has freed (bufferevent_free
 * clears the callbacks, and evhttp always sets an event callback) and drops the reference,
 * which closes the socket.  At CONNS_MAX the listener stops accepting: further clients wait
 * in the kernel's backlog, holding none of the sensor's descriptors. */
static struct bufferevent *conn_bev(struct event_base *base, void *arg)
{
    struct dash *d = arg;
    struct bufferevent *bev = d->ssl ? ssl_bev(base, d) : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev)
        return NULL;
    struct dash_conn *c = hp_xcalloc(1, sizeof(*c));
    bufferevent_incref(bev);
    c->bev = bev;
    c->next = d->conns;
    d->conns = c;
    if (++d->nconns >= CONNS_MAX)
        evconnlistener_disable(d->listener);
    return bev;
}

static void conn_sweep(evutil_socket_t fd, short what, void *arg)
{
    struct dash *d = arg;
    for (struct dash_conn **p = &d->conns, *c; (c = *p); ) {
        bufferevent_event_cb eventcb;
        bufferevent_getcb(c->bev, NULL, NULL, &eventcb, NULL);
        if (eventcb) {
            p = &c->next;
            continue;
        }
        *p = c->next;
        bufferevent_decref(c->bev);
        free(c);
        if (d->nconns-- == CONNS_MAX)
            evconnlistener_enable(d->listener);
    }
}

/* The store the [output sqlite] writes ("" when there is none). */
static void find_store(struct dash *d, const struct hp_config *cfg)
{
    d->db_path[0] = '\0';
    for (size_t i = 0; i < cfg->noutputs; i++) {
        const struct hp_output_cfg *o = &cfg->outputs[i];
        if (!o->enabled || strcmp(o->name, "sqlite") != 0)
            continue;
        const struct hp_kv *p = hp_kv_find(o->opts, "path");
        if (p && p->value[0])
            snprintf(d->db_path, sizeof(d->db_path), "%s", p->value);
        else
            snprintf(d->db_path, sizeof(d->db_path), "%s/hanipo.sqlite", cfg->data_dir);
    }
}

/* ---- responses -------------------------------------------------------------------------- */

static void common_headers(struct evhttp_request *req, const char *type)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", type);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "Content-Security-Policy", csp);
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    evhttp_add_header(h, "Cross-Origin-Resource-Policy", "same-origin");
    evhttp_add_header(h, "Cross-Origin-Opener-Policy", "same-origin");
}

static void send_bytes(struct evhttp_request *req, int code, const char *type, const void *data, size_t len)
{
    struct evbuffer *b = evbuffer_new();
    common_headers(req, type);
    evbuffer_add(b, data, len);
    evhttp_send_reply(req, code, code == 200 ? "OK" : "Error", b);
    evbuffer_free(b);
}

static void send_json(struct evhttp_request *req, int code, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s) {
        static const char oops[] = "{\"error\":\"cannot encode the answer\"}";
        send_bytes(req, 500, "application/json", oops, sizeof(oops) - 1);
        return;
    }
    send_bytes(req, code, "application/json", s, strlen(s));
    free(s);
}

static void send_error(struct evhttp_request *req, int code, const char *msg)
{
    send_json(req, code, json_pack("{s:s, s:i}", "error", msg, "status", code));
}

/* ---- authentication ----------------------------------------------------------------------- */

static bool secret_eq(const char *given, size_t glen, const char *want)
{
    size_t wlen = strlen(want);
    return wlen && glen == wlen && CRYPTO_memcmp(given, want, wlen) == 0;
}

static bool cookie_ok(struct dash *d, const char *cookies)
{
    const char *p = cookies;
    int64_t now = hp_mono_ms();
    for (int guard = 0; p && *p && guard < 50; guard++) {
        p += strspn(p, " ;");
        if (strncmp(p, COOKIE "=", sizeof(COOKIE)) == 0) {
            const char *v = p + sizeof(COOKIE);
            if (strspn(v, "0123456789abcdef") != 64)
                return false;
            for (size_t i = 0; i < LOGINS_MAX; i++)
                if (d->logins[i].expires_ms > now && CRYPTO_memcmp(d->logins[i].id, v, 64) == 0)
                    return true;
            return false;
        }
        p = strchr(p, ';');
    }
    return false;
}

static bool authorized(struct dash *d, struct evhttp_request *req)
{
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    const char *a = evhttp_find_header(h, "Authorization");
    if (a && strncasecmp(a, "Bearer ", 7) == 0)
        return secret_eq(a + 7, strlen(a + 7), d->token);
    const char *c = evhttp_find_header(h, "Cookie");
    return c && cookie_ok(d, c);
}

/* Too many failed logins this minute? */
static bool login_throttled(struct dash *d)
{
    int64_t now = hp_mono_ms();
    if (now - d->fail_window_ms > 60000) {
        d->fail_window_ms = now;
        d->fails = 0;
    }
    return d->fails >= FAILS_PER_MINUTE;
}

static void redirect(struct evhttp_request *req, const char *to, const char *cookie)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    common_headers(req, "text/plain; charset=utf-8");
    evhttp_add_header(h, "Location", to);
    if (cookie)
        evhttp_add_header(h, "Set-Cookie", cookie);
    evhttp_send_reply(req, 303, "See Other", NULL);
}

/* POST /login: form field "secret" = the token or the password. */
static void do_login(struct dash *d, struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    char body[1100], secret[1100];
    if (login_throttled(d)) {
        send_error(req, 429, "too many failed logins, wait a minute");
        return;
    }
    if (n >= sizeof(body)) {
        send_error(req, 413, "too long");
        return;
    }
    evbuffer_copyout(in, body, n);
    body[n] = '\0';
    bool ok = false;
    if (strncmp(body, "secret=", 7) == 0 && hp_dq_unescape(body + 7, n - 7, secret, sizeof(secret)) == 0) {
        size_t sl = strlen(secret);
        ok = secret_eq(secret, sl, d->token) || (d->password && secret_eq(secret, sl, d->password));
    }
    if (!ok) {
        d->fails++;
        hp_warn("dashboard: failed login");
        redirect(req, "/login?failed=1", NULL);
        return;
    }
    /* a free (or the oldest) slot */
    size_t slot = 0;
    for (size_t i = 0; i < LOGINS_MAX; i++)
        if (d->logins[i].expires_ms < d->logins[slot].expires_ms)
            slot = i;
    hp_random_hex(d->logins[slot].id, 64);
    d->logins[slot].id[64] = '\0';
    d->logins[slot].expires_ms = hp_mono_ms() + LOGIN_TTL_MS;
    char cookie[200];
    snprintf(cookie, sizeof(cookie), COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
             d->logins[slot].id, LOGIN_TTL_MS / 1000, d->tls ? "; Secure" : "");
    redirect(req, "/", cookie);
}

static void do_logout(struct dash *d, struct evhttp_request *req)
{
    const char *c = evhttp_find_header(evhttp_request_get_input_headers(req), "Cookie");
    const char *p = c ? strstr(c, COOKIE "=") : NULL;
    if (p && strspn(p + sizeof(COOKIE), "0123456789abcdef") == 64)
        for (size_t i = 0; i < LOGINS_MAX; i++)
            if (CRYPTO_memcmp(d->logins[i].id, p + sizeof(COOKIE), 64) == 0)
                d->logins[i].expires_ms = 0;
    redirect(req, "/login", COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
}

/* ---- the store ------------------------------------------------------------------------------ */

/* Long queries are cut off so one heavy view cannot hold the dashboard. */
static int progress_cb(void *arg)
{
    struct dash *d = arg;
    return hp_mono_ms() > d->query_deadline_ms;
}

static sqlite3 *store(struct dash *d)
{
    if (d->db || !d->db_path[0])
        return d->db;
    if (sqlite3_open_v2(d->db_path, &d->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        hp_warn("dashboard: cannot open %s: %s", d->db_path, sqlite3_errmsg(d->db));
        sqlite3_close(d->db);
        d->db = NULL;
        return NULL;
    }
    sqlite3_busy_timeout(d->db, 2000);
    hp_hll_register(d->db);                       /* hll_count() of the roll-ups' source sketches */
    sqlite3_exec(d->db, "PRAGMA query_only=1; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;", NULL, NULL,
                 NULL);
    sqlite3_progress_handler(d->db, 10000, progress_cb, d);
    return d->db;
}

/* ---- /api/ -------------------------------------------------------------------------------- */

static void api_status(struct dash *d, struct evhttp_request *req)
{
    uint64_t clients, dring, dslow, sent;
    hp_stream_stats(d->stream, &clients, &dring, &dslow, &sent);
    json_t *sensors = NULL;
    if (d->ch) {
        int status;
        char err[256];
        sensors = hp_dch_sensor_list(d->ch, &status, err, sizeof(err));
    }
    json_t *o = json_pack("{s:s, s:s, s:b, s:I, s:{s:I, s:I, s:I, s:I}}", "version", HP_VERSION, "sensor",
                          hp_event_sensor(), "store", d->ch ? sensors != NULL : store(d) != NULL,
                          "requests", (json_int_t)d->requests,
                          "stream", "clients", (json_int_t)clients, "dropped_queue", (json_int_t)dring,
                          "dropped_slow_client", (json_int_t)dslow, "sent", (json_int_t)sent);
    json_t *vend = json_object();
    for (size_t i = 0; i < 4; i++)
        json_object_set_new(vend, d->vendor[i].name, json_boolean(d->vendor[i].len > 0));
    json_object_set_new(o, "assets", vend);
    /* a fleet: the front end offers a sensor selector */
    json_object_set_new(o, "fleet", json_boolean(d->ch != NULL));
    if (d->ch)
        json_object_set_new(o, "sensors", sensors ? sensors : json_array());
    send_json(req, 200, o);
}

/* The live feed carries attacker text like every view: the same headers.  A HEAD gets the
 * head a GET would (503 when the slots are full) but no slot: it would hold one as long as its
 * connection stays open, while libevent sends it no event. */
static void api_stream(struct dash *d, struct evhttp_request *req)
{
    common_headers(req, "text/event-stream; charset=utf-8");
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD && !hp_stream_full(d->stream)) {
        evhttp_send_reply(req, 200, "OK", NULL);
        return;
    }
    if (!hp_stream_attach(d->stream, req)) {
        evhttp_clear_headers(evhttp_request_get_output_headers(req));
        send_error(req, 503, "too many live-feed clients");
    }
}

static void api(struct dash *d, struct evhttp_request *req, const char *path, const char *query)
{
    char err[512];
    struct hp_dq q;
    int status = 200;
    if (hp_dq_parse(query, hp_now_us(), &q, err, sizeof(err)) != 0) {
        send_error(req, 400, err);
        return;
    }
    if (strcmp(path, "status") == 0) {
        api_status(d, req);
        return;
    }
    if (strcmp(path, "stream") == 0) {
        api_stream(d, req);
        return;
    }
    struct hp_dapi_env env = { store(d), d->data_dir };
    d->query_deadline_ms = hp_mono_ms() + QUERY_BUDGET_MS;
    size_t pl = strlen(path), len;
    if (d->ch && !(pl == 8 + 64 + 4 && strncmp(path, "payload/", 8) == 0)) {
        if (pl == 8 + 12 + 5 && strncmp(path, "session/", 8) == 0 && strcmp(path + 20, "/cast") == 0) {
            send_error(req, 404, "recordings stay on the sensor that made them");
            return;
        }
        json_t *o = hp_dch_view(d->ch, d->data_dir, path, &q, &status, err, sizeof(err));
        if (o)
            send_json(req, 200, o);
        else
            send_error(req, status, err);
        return;
    }
    if (pl == 8 + 12 + 5 && strncmp(path, "session/", 8) == 0 && strcmp(path + 20, "/cast") == 0) {
        char id[13];
        memcpy(id, path + 8, 12);
        id[12] = '\0';
        char *cast = hp_dapi_cast(&env, id, &q, &len, &status, err, sizeof(err));
        if (cast)
            send_bytes(req, 200, "application/x-asciicast", cast, len);
        else
            send_error(req, status, err);
        free(cast);
        return;
    }
    if (pl == 8 + 64 + 4 && strncmp(path, "payload/", 8) == 0 && strcmp(path + 72, "/zip") == 0) {
        char sha[65], disp[120];
        memcpy(sha, path + 8, 64);
        sha[64] = '\0';
        unsigned char *zip = hp_dapi_payload_zip(&env, sha, &len, &status, err, sizeof(err));
        if (!zip) {
            send_error(req, status, err);
            return;
        }
        snprintf(disp, sizeof(disp), "attachment; filename=\"%s.zip\"", sha);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Disposition", disp);
        send_bytes(req, 200, "application/zip", zip, len);
        free(zip);
        return;
    }
    json_t *o = hp_dapi_view(&env, path, &q, &status, err, sizeof(err));
    if (o)
        send_json(req, 200, o);
    else
        send_error(req, status, err);
}

/* ---- static files ------------------------------------------------------------------------------ */

static bool serve_static(struct dash *d, struct evhttp_request *req, const char *path, bool authed)
{
    const struct hp_asset *a = hp_asset_find(path);
    if (a && (a->public || authed)) {
        send_bytes(req, 200, a->type, a->data, a->len);
        return true;
    }
    if (authed && strncmp(path, "/vendor/", 8) == 0)
        for (size_t i = 0; i < 4; i++)
            if (d->vendor[i].len && strcmp(path + 8, d->vendor[i].name) == 0) {
                send_bytes(req, 200, d->vendor[i].type, d->vendor[i].data, d->vendor[i].len);
                return true;
            }
    return false;
}

static void send_login_page(struct evhttp_request *req, int code)
{
    const struct hp_asset *a = hp_asset_find("/login");
    send_bytes(req, code, a->type, a->data, a->len);
}

static void handle(struct evhttp_request *req, void *arg)
{
    struct dash *d = arg;
    d->requests++;
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *path = u ? evhttp_uri_get_path(u) : NULL;
    const char *query = u ? evhttp_uri_get_query(u) : NULL;
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    if (!path || path[0] != '/' || strlen(path) > 200) {
        send_error(req, 400, "bad path");
        return;
    }
    if (m == EVHTTP_REQ_POST) {
        if (strcmp(path, "/login") == 0)
            do_login(d, req);
        else if (strcmp(path, "/logout") == 0)
            do_logout(d, req);
        else
            send_error(req, 405, "method not allowed");
        return;
    }
    bool authed = authorized(d, req);
    if (strncmp(path, "/api/", 5) == 0) {
        if (!authed) {
            evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                              "Bearer realm=\"hanipo\"");
            send_error(req, 401, "authentication required: Authorization: Bearer TOKEN, or log in");
            return;
        }
        api(d, req, path + 5, query);
        return;
    }
    if (strcmp(path, "/login") == 0) {
        send_login_page(req, 200);
        return;
    }
    if (serve_static(d, req, path, authed))
        return;
    if (!authed)
        send_login_page(req, 401);
    else
        send_error(req, 404, "not found");
}

/* ---- thread, start, stop ------------------------------------------------------------------------ */

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
    struct dash *d = arg;
    event_base_loopbreak(d->base);
}

static void *dash_main(void *arg)
{
    struct dash *d = arg;
    hp_thread_name("dashboard");
    event_base_dispatch(d->base);
    return NULL;
}

static void dash_free(struct dash *d)
{
    if (d->stream)
        hp_stream_free(d->stream);
    if (d->http)
        evhttp_free(d->http);
    if (d->sweep_ev)
        event_free(d->sweep_ev);
    while (d->conns) {                          /* all freed by evhttp_free: close them */
        struct dash_conn *c = d->conns;
        d->conns = c->next;
        bufferevent_decref(c->bev);
        free(c);
    }
    if (d->wake_ev)
        event_free(d->wake_ev);
    if (d->base)
        event_base_free(d->base);
    for (int i = 0; i < 2; i++)
        if (d->wake[i] >= 0)
            close(d->wake[i]);
    if (d->ssl)
        SSL_CTX_free(d->ssl);
    sqlite3_close(d->db);
    hp_dch_free(d->ch);
    for (size_t i = 0; i < 4; i++)
        free(d->vendor[i].data);
    if (d->password)
        OPENSSL_cleanse(d->password, strlen(d->password));
    free(d->password);
    OPENSSL_cleanse(d->token, sizeof(d->token));
    free(d);
}

static int dash_setup(struct dash *d, const struct hp_config *cfg, char *err, size_t errlen)
{
    const struct hp_dashboard_cfg *dc = &cfg->dashboard;
    snprintf(d->data_dir, sizeof(d->data_dir), "%s", cfg->data_dir);
    find_store(d, cfg);
    if (dc->store && !(d->ch = hp_dch_new(dc->store, cfg->report.sensor_country, err, errlen)))
        return -1;
    d->password = dc->password && dc->password[0] ? hp_xstrdup(dc->password) : NULL;
    d->tls = dc->tls;
    if (load_token(d, err, errlen, true) != 0 || (d->tls && load_tls(d, err, errlen) != 0))
        return -1;
    load_vendor(d, dc->assets);
    if (pipe2(d->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "dashboard: pipe: %s", strerror(errno));
        return -1;
    }
    d->base = event_base_new();
    d->http = d->base ? evhttp_new(d->base) : NULL;
    if (!d->http) {
        snprintf(err, errlen, "dashboard: cannot create the HTTP server");
        return -1;
    }
    d->wake_ev = event_new(d->base, d->wake[0], EV_READ, wake_cb, d);
    event_add(d->wake_ev, NULL);
    evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
    evhttp_set_max_headers_size(d->http, 16384);
    evhttp_set_max_body_size(d->http, 4096);
    evhttp_set_timeout(d->http, IDLE_TIMEOUT_S);
    evhttp_set_gencb(d->http, handle, d);
    evhttp_set_bevcb(d->http, conn_bev, d);
    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(d->http, dc->bind, dc->port);
    if (!bound) {
        snprintf(err, errlen, "dashboard: cannot listen on %s port %u: %s", dc->bind, dc->port, strerror(errno));
        return -1;
    }
    d->listener = evhttp_bound_socket_get_listener(bound);
    d->sweep_ev = event_new(d->base, -1, EV_PERSIST, conn_sweep, d);
    struct timeval tv = { 0, 250000 };
    event_add(d->sweep_ev, &tv);
    d->stream = hp_stream_new(d->base);
    return 0;
}

int hp_dash_start(const struct hp_config *cfg, char *err, size_t errlen)
{
    if (!cfg->dashboard.enabled || dash)
        return 0;
    struct dash *d = hp_xcalloc(1, sizeof(*d));
    d->wake[0] = d->wake[1] = -1;
    if (dash_setup(d, cfg, err, errlen) != 0) {
        dash_free(d);
        return -1;
    }
    if (pthread_create(&d->thread, NULL, dash_main, d) != 0) {
        snprintf(err, errlen, "dashboard: cannot start its thread");
        dash_free(d);
        return -1;
    }
    dash = d;
    const char *b = cfg->dashboard.bind;
    hp_info("dashboard on %s://%s%s%s:%u/", d->tls ? "https" : "http", strchr(b, ':') ? "[" : "", b,
            strchr(b, ':') ? "]" : "", cfg->dashboard.port);
    return 0;
}

void hp_dash_stop(void)
{
    struct dash *d = dash;
    if (!d)
        return;
    if (write(d->wake[1], "x", 1) != 1)
        hp_warn("dashboard: cannot wake its thread");
    pthread_join(d->thread, NULL);
    dash = NULL;
    dash_free(d);
}
