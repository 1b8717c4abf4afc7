/*
 * capture.c - the payload pipeline (see capture.h for the picture).
 *
 * Network-thread state is a table of URL entries.  An entry is created by
 * the first request for a URL and lives on for the de-duplication window
 * after it is done, so the same URL asked for again (by the same bot a
 * second later, by the next bot of the botnet, by a mined script) is
 * answered from it instead of fetched again: "every URL requested exactly
 * once" per window.  Each request, first or repeated, is a waiter on its
 * entry and produces exactly one event when the entry is done; a waiter
 * that stops waiting (session gone, wait limit) stays as a silent one so
 * its event still goes out.
 *
 * The disk and CPU work (rename into place, libmagic, YARA, SQLite index,
 * quota eviction, mining scripts for URLs) is done by one worker thread;
 * jobs go to it through a mutex-protected list and come back through a
 * second list and a pipe the event loop watches.  The worker never touches
 * entries, waiters or events: it only fills in its job.
 */
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include "addrpolicy.h"
#include "buf.h"
#include "capture.h"
#include "config.h"
#include "fetch.h"
#include "index.h"
#include "log.h"
#include "output.h"
#include "urlx.h"
#include "util.h"

#define URL_BUCKETS     4096
#define URL_TABLE_MAX   65536         /* entries kept (the window's memory bound) */
#define BUDGET_SLOTS    4096
#define HOST_SLOTS      1024
#define HOST_WINDOW_MS  (60 * 60 * 1000)  /* per_host counts new downloads per host per hour */
#define HOST_MAX        255
#define MINED_MAX       HP_URLX_MAX   /* URLs taken from one payload */
#define MINE_BYTES      (1u << 20)    /* bytes of a payload mined for URLs */
#define FOUND_IN_MAX    80
#define FAILED_WINDOW_MS (5 * 60 * 1000) /* a failed URL is tried again after this (at most the window) */
#define WAITERS_MAX     65536         /* waiters of all entries (each holds its event until done) */
#define UPLOAD_BACKLOG  4096          /* worker jobs waiting, past which uploads are not classified */

struct url_ent;

struct hp_capture_wait {
    struct url_ent *u;
    hp_capture_cb cb;                 /* NULL: silent (event only) */
    void (*emit)(void *arg, struct hp_event *e);
    void *arg;
    struct hp_evctx ctx;
    bool has_ctx;
    bool joined;                      /* not the request that started the transfer */
    char tool[24];
    char found_in[FOUND_IN_MAX];
    char decoded[16];
    unsigned depth;                   /* mined requests: how deep, and the payload they came from */
    char parent[65];
    char *destfile;
    struct event *timeout;
    struct hp_capture_wait *next;
};

enum url_state { U_QUEUED, U_RUNNING, U_RETRY, U_WORKER, U_DONE };

struct url_ent {
    char *url;
    uint32_t hash;
    enum url_state state;
    unsigned attempts;
    unsigned depth;                   /* 0: asked for directly; n: mined from a depth n-1 payload */
    char parent[65];                  /* mined: the payload it was found in */
    char tool[24];
    int64_t done_ms;
    /* outcome */
    bool ok;
    const char *reason;
    char error[256];
    char refused_ip[46];
    const char *refused_why;
    long status;
    char sha256[65];
    uint64_t size;
    struct hp_classify cls;
    struct hp_capture_wait *waiters;
    bool busy;                        /* its waiters are being answered: not swept */
    struct event *retry;
    struct url_ent *hnext;            /* hash chain */
    struct url_ent *qnext;            /* waiting for a transfer slot */
};

enum job_kind { JOB_DOWNLOAD, JOB_UPLOAD };

struct job {
    enum job_kind kind;
    struct url_ent *u;                /* download: back-reference, used on the loop thread only */
    /* in */
    char tmpname[HP_FETCH_TMP_LEN];
    char sha256[65];
    uint8_t sha1[20], md5[16];
    bool have_digests;
    uint64_t size;
    int64_t ts_us;
    char *url;                        /* download: the URL; upload: NULL */
    char how[24];
    char *filename;
    struct hp_evctx ctx;
    bool has_ctx;
    unsigned depth;
    /* out */
    bool stored;
    bool is_new;
    struct hp_classify cls;
    char (*evicted)[65];
    uint64_t *evicted_size;
    size_t nevicted;
    char **mined;
    size_t nmined;
    struct job *next;
};

struct budget {
    char session[HP_SESSION_ID_LEN + 1];
    unsigned used;
    int64_t last_ms;
};

struct host_budget {
    char host[HOST_MAX + 1];
    unsigned used;
    int64_t since_ms;             /* start of the host's hour */
};

static struct {
    bool started;
    struct hp_capture_cfg cfg;
    struct hp_addrpol pol;
    char *data_dir;
    int payloads_fd;
    struct event_base *base;
    struct url_ent *buckets[URL_BUCKETS];
    size_t nurls;
    struct url_ent *qhead, *qtail;
    unsigned queued, running;
    struct budget budgets[BUDGET_SLOTS];
    struct host_budget hosts[HOST_SLOTS];
    uint32_t host_seed;           /* keys the host slots: no chosen collisions */
    uint64_t url_seed;            /* keys the URL table and a scan's seen list (url_hash) */
    struct event *sweep;
    /* worker */
    pthread_t th;
    bool th_up;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *todo_head, *todo_tail;
    size_t ntodo;
    struct job *done_head, *done_tail;
    bool stopping;
    int pipefd[2];
    struct event *pipe_ev;
    struct hp_index *ix;
    struct hp_capture_stats st;
    size_t nwaiters;
    int64_t last_shed_log_ms;
    int64_t last_backlog_log_ms;
    bool stopping_loop;
} C = { .payloads_fd = -1, .pipefd = { -1, -1 } };

static void pump(void);
static void pump_soon(void);

/* ---- small helpers ---------------------------------------------------------------- */

/* FNV-1a over s, from h (2166136261 for the plain hash; a random seed keys it). */
static uint32_t fnv1a_from(uint32_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static uint32_t fnv1a(const char *s)
{
    return fnv1a_from(2166136261u, s);
}

/*
 * The hash of a URL, for the table's buckets and a scan's seen list.
 * Keyed per process: with a hash anyone can compute (plain FNV-1a), an
 * attacker lines thousands of URLs up in one bucket so that every new one
 * walks all the others, or writes a decoy whose hash equals his real
 * download's so that one scan takes the download for a repeat and drops it.
 */
static uint32_t url_hash(const char *url)
{
    return (uint32_t)XXH3_64bits_withSeed(url, strlen(url), C.url_seed);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static const char *user_agent(const char *tool)
{
    if (tool && strcmp(tool, "curl") == 0)
        return "curl/7.88.1";
    if (tool && strcmp(tool, "wget") == 0)
        return "Wget/1.21.3";
    return "Wget";                    /* busybox wget: what IoT droppers run */
}

static void copy_str(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : "");
}

/* ---- events ----------------------------------------------------------------------- */

static void put_cls(struct hp_ev *ev, const struct hp_classify *c)
{
    hp_ev_str(ev, "type", c->type);
    hp_ev_str(ev, "mime", c->mime);
    hp_ev_str(ev, "kind", c->kind);
    if (c->elf_arch[0]) {
        hp_ev_str(ev, "elf_arch", c->elf_arch);
        hp_ev_int(ev, "elf_bits", c->elf_bits);
        hp_ev_str(ev, "elf_endian", c->elf_endian);
    }
    if (c->interpreter[0])
        hp_ev_str(ev, "interpreter", c->interpreter);
    hp_ev_str(ev, "family", c->family[0] ? c->family : "unknown");
    if (c->rule[0])
        hp_ev_str(ev, "rule", c->rule);
}

/* The event of one request: session.file_download or .failed. */
struct req_meta {                     /* what one request adds to its event */
    const char *tool, *found_in, *decoded, *destfile;
    unsigned depth;
    const char *parent;
};

static struct hp_event *build_event(const struct hp_evctx *ctx, const char *url, const struct req_meta *m,
                                    const struct hp_capture_result *r, const struct url_ent *u)
{
    const char *tool = m->tool, *found_in = m->found_in, *decoded = m->decoded, *destfile = m->destfile;
    struct hp_ev ev;
    hp_ev_begin(&ev, ctx, r->ok ? "session.file_download" : "session.file_download.failed");
    hp_ev_str(&ev, "url", url);
    hp_ev_str(&ev, "found_in", found_in);
    if (decoded && decoded[0] && strcmp(decoded, "plain") != 0)
        hp_ev_str(&ev, "decoded", decoded);
    if (tool && tool[0])
        hp_ev_str(&ev, "tool", tool);
    if (destfile)
        hp_ev_str(&ev, "destfile", destfile);
    if (r->ok) {
        char out[80];
        hp_ev_str(&ev, "outcome", r->cached ? "cached" : "fetched");
        hp_ev_str(&ev, "shasum", r->sha256);
        snprintf(out, sizeof(out), "payloads/%s", r->sha256);
        hp_ev_str(&ev, "outfile", out);
        hp_ev_uint(&ev, "size", r->size);
        if (r->cls)
            put_cls(&ev, r->cls);
    } else {
        hp_ev_str(&ev, "reason", r->reason);
        if (r->error && r->error[0])
            hp_ev_str(&ev, "error", r->error);
        if (u && u->refused_ip[0]) {
            hp_ev_str(&ev, "refused_ip", u->refused_ip);
            if (u->refused_why)
                hp_ev_str(&ev, "refused_why", u->refused_why);
        }
        if (r->size)
            hp_ev_uint(&ev, "size", r->size);
        if (r->cached)
            hp_ev_bool(&ev, "cached", true);
    }
    if (r->status)
        hp_ev_int(&ev, "status", r->status);
    if (m->depth) {
        hp_ev_int(&ev, "depth", m->depth);
        hp_ev_str(&ev, "parent", m->parent ? m->parent : "");
    }
    return hp_ev_finish(&ev);
}

static void deliver_event(struct hp_event *e, void (*emit)(void *, struct hp_event *), void *arg)
{
    if (!e)
        return;
    if (emit)
        emit(arg, e);
    else
        hp_output_publish(e);
}

/* Depth and parent of the request being made (mined URLs; 0/NULL otherwise). */
static unsigned req_depth;
static const char *req_parent;

static struct req_meta req_meta_of(const struct hp_capture_req *req)
{
    return (struct req_meta){ req->tool, req->found_in, req->decoded, req->destfile, req_depth, req_parent };
}

/* A request answered at once, without an entry (refusals before any transfer). */
static struct hp_capture_wait *answer_now(const struct hp_capture_req *req, const char *url,
                                          const char *reason, struct hp_capture_result *now)
{
    struct hp_capture_result r = { .url = url, .ok = false, .reason = reason };
    struct req_meta m = req_meta_of(req);
    deliver_event(build_event(req->ctx, url, &m, &r, NULL), req->emit, req->arg);
    if (now)
        *now = r;
    return NULL;
}

static void payload_event(const struct job *j)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, j->has_ctx ? &j->ctx : NULL, "payload.new");
    hp_ev_str(&ev, "shasum", j->sha256);
    hp_ev_uint(&ev, "size", j->size);
    if (j->url)
        hp_ev_str(&ev, "url", j->url);
    hp_ev_str(&ev, "how", j->how);
    if (j->filename)
        hp_ev_str(&ev, "filename", j->filename);
    put_cls(&ev, &j->cls);
    hp_ev_emit(&ev);
}

static void evicted_event(const char *sha, uint64_t size)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, NULL, "payload.evicted");
    hp_ev_str(&ev, "shasum", sha);
    hp_ev_uint(&ev, "size", size);
    hp_ev_str(&ev, "reason", "quota");
    hp_ev_uint(&ev, "quota", C.cfg.quota);
    hp_ev_emit(&ev);
}

/* ---- session budgets ------------------------------------------------------------------ */

/* Count one download against a session; false when its budget is spent. */
static bool budget_take(const struct hp_evctx *ctx)
{
    if (!ctx || !ctx->session[0] || !C.cfg.per_session)
        return true;
    uint32_t h = fnv1a(ctx->session) % BUDGET_SLOTS;
    struct budget *victim = NULL;
    for (unsigned i = 0; i < 8; i++) {
        struct budget *b = &C.budgets[(h + i) % BUDGET_SLOTS];
        if (strcmp(b->session, ctx->session) == 0) {
            b->last_ms = hp_mono_ms();
            if (b->used >= C.cfg.per_session)
                return false;
            b->used++;
            return true;
        }
        if (!victim || b->last_ms < victim->last_ms)
            victim = b;
    }
    copy_str(victim->session, sizeof(victim->session), ctx->session);
    victim->used = 1;
    victim->last_ms = hp_mono_ms();
    return true;
}

/*
 * Count one new download against the URL's host; false when the host has had
 * per_host of them this hour.  Whoever writes a URL into a request or a
 * session decides what the sensor fetches: without a bound per host, a bot
 * could make every sensor of a fleet send a third party as many distinct
 * requests as it likes.  A botnet's payload server serves one file per CPU
 * architecture (a dozen or so); per_host (32) leaves room for that.  The
 * slots are keyed with a random seed, so an attacker cannot choose host
 * names that evict a host's count.
 */
static bool host_take(const char *url)
{
    if (!C.cfg.per_host)
        return true;
    const char *a = strstr(url, "://");
    if (!a)
        return true;
    a += 3;
    size_t alen = strcspn(a, "/?#");
    const char *at = memchr(a, '@', alen);
    if (at) {
        alen -= (size_t)(at + 1 - a);
        a = at + 1;
    }
    size_t hlen = a[0] == '[' ? strcspn(a, "]") + 1 : strcspn(a, ":/?#");
    if (hlen > alen)
        hlen = alen;
    char host[HOST_MAX + 1];
    snprintf(host, sizeof(host), "%.*s", (int)hlen, a);
    uint32_t h = fnv1a_from(C.host_seed, host);
    int64_t now = hp_mono_ms();
    struct host_budget *victim = NULL;
    for (unsigned i = 0; i < 8; i++) {
        struct host_budget *b = &C.hosts[(h + i) % HOST_SLOTS];
        if (b->host[0] && strcmp(b->host, host) == 0) {
            if (now - b->since_ms >= HOST_WINDOW_MS) {
                b->since_ms = now;
                b->used = 0;
            }
            if (b->used >= C.cfg.per_host)
                return false;
            if (++b->used == C.cfg.per_host)
                hp_info("capture: %s had %llu new downloads this hour ([capture] per_host): its further URLs "
                        "are logged, not fetched (reason host_limit)", host, (unsigned long long)C.cfg.per_host);
            return true;
        }
        if (!victim || b->since_ms < victim->since_ms)
            victim = b;
    }
    copy_str(victim->host, sizeof(victim->host), host);
    victim->used = 1;
    victim->since_ms = now;
    return true;
}

/* ---- the URL table ------------------------------------------------------------------------ */

static struct url_ent *ent_find(const char *url, uint32_t h)
{
    for (struct url_ent *u = C.buckets[h % URL_BUCKETS]; u; u = u->hnext)
        if (u->hash == h && strcmp(u->url, url) == 0)
            return u;
    return NULL;
}

static void ent_free(struct url_ent *u)
{
    struct url_ent **pp = &C.buckets[u->hash % URL_BUCKETS];
    for (; *pp; pp = &(*pp)->hnext)
        if (*pp == u) {
            *pp = u->hnext;
            break;
        }
    if (u->retry)
        event_free(u->retry);
    free(u->url);
    free(u);
    C.nurls--;
}

/* A finished entry older than its window (shorter for failures: the
 * server may be back) is forgotten; the next request fetches again. */
static bool ent_expired(const struct url_ent *u, int64_t now)
{
    if (u->state != U_DONE || u->waiters || u->busy)
        return false;
    int64_t window = (int64_t)C.cfg.dedup_window_ms;
    if (!u->ok && window > FAILED_WINDOW_MS)
        window = FAILED_WINDOW_MS;
    return now - u->done_ms >= window;
}

/* Forget finished entries older than the window (all of them when all). */
static void sweep_entries(bool all)
{
    int64_t now = hp_mono_ms();
    for (size_t b = 0; b < URL_BUCKETS; b++) {
        struct url_ent *u = C.buckets[b];
        while (u) {
            struct url_ent *next = u->hnext;
            if (all || ent_expired(u, now))
                ent_free(u);
            u = next;
        }
    }
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    sweep_entries(false);
}

static struct url_ent *ent_new(const char *url, uint32_t h, const char *tool, unsigned depth,
                               const char *parent)
{
    if (C.nurls >= URL_TABLE_MAX)
        sweep_entries(false);
    if (C.nurls >= URL_TABLE_MAX)
        return NULL;
    struct url_ent *u = calloc(1, sizeof(*u));
    if (!u || !(u->url = strdup(url))) {
        free(u);
        return NULL;
    }
    u->hash = h;
    u->depth = depth;
    copy_str(u->parent, sizeof(u->parent), parent);
    copy_str(u->tool, sizeof(u->tool), tool);
    u->hnext = C.buckets[h % URL_BUCKETS];
    C.buckets[h % URL_BUCKETS] = u;
    C.nurls++;
    return u;
}

static void result_of(const struct url_ent *u, bool cached, struct hp_capture_result *r)
{
    memset(r, 0, sizeof(*r));
    r->url = u->url;
    r->ok = u->ok;
    r->cached = cached;
    r->reason = u->ok ? NULL : u->reason;
    r->error = u->error;
    r->status = u->status;
    r->size = u->size;
    if (u->ok) {
        memcpy(r->sha256, u->sha256, sizeof(r->sha256));
        r->cls = &u->cls;
    }
}

static void waiter_free(struct hp_capture_wait *w)
{
    if (w->timeout)
        event_free(w->timeout);
    free(w->destfile);
    free(w);
    C.nwaiters--;
}

/* The entry is done: every waiter gets its event, then its callback. */
static void ent_finish(struct url_ent *u)
{
    u->state = U_DONE;
    u->done_ms = hp_mono_ms();
    if (u->ok)
        C.st.fetched++;
    else
        C.st.failed++;
    struct hp_capture_wait *w = u->waiters;
    u->waiters = NULL;
    u->busy = true;
    while (w) {
        struct hp_capture_wait *next = w->next;
        struct hp_capture_result r;
        result_of(u, w->joined, &r);
        struct req_meta m = { w->tool, w->found_in, w->decoded, w->destfile, w->depth, w->parent };
        deliver_event(build_event(w->has_ctx ? &w->ctx : NULL, u->url, &m, &r, u), w->emit, w->arg);
        if (w->cb)
            w->cb(w->arg, &r);
        waiter_free(w);
        w = next;
    }
    u->busy = false;
}

static void ent_fail(struct url_ent *u, const char *reason, const char *error)
{
    u->ok = false;
    u->reason = reason;
    copy_str(u->error, sizeof(u->error), error);
    ent_finish(u);
}

/* A waiter that stops waiting keeps its place, silently: its event still goes out. */
static void waiter_silence(struct hp_capture_wait *w)
{
    w->cb = NULL;
    w->emit = NULL;
    w->arg = NULL;
    if (w->timeout) {
        event_free(w->timeout);
        w->timeout = NULL;
    }
}

static void on_wait_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct hp_capture_wait *w = arg;
    (void)fd;
    (void)what;
    hp_capture_cb cb = w->cb;
    void *cbarg = w->arg;
    waiter_silence(w);
    struct hp_capture_result r = { .url = w->u->url, .ok = false, .reason = "timeout",
                                   .error = "still downloading when the command gave up" };
    if (cb)
        cb(cbarg, &r);
}

void hp_capture_cancel(struct hp_capture_wait *w)
{
    if (w)
        waiter_silence(w);
}

static struct hp_capture_wait *waiter_add(struct url_ent *u, const struct hp_capture_req *req, bool joined)
{
    struct hp_capture_wait *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    C.nwaiters++;
    w->u = u;
    w->cb = req->cb;
    w->emit = req->emit;
    w->arg = req->arg;
    w->joined = joined;
    if (req->ctx) {
        w->ctx = *req->ctx;
        w->has_ctx = true;
    }
    copy_str(w->tool, sizeof(w->tool), req->tool);
    copy_str(w->found_in, sizeof(w->found_in), req->found_in);
    copy_str(w->decoded, sizeof(w->decoded), req->decoded);
    w->depth = req_depth;
    copy_str(w->parent, sizeof(w->parent), req_parent);
    w->destfile = req->destfile ? strdup(req->destfile) : NULL;
    uint64_t wait = req->wait_ms ? req->wait_ms : C.cfg.shell_wait_ms;
    if (req->cb && wait) {
        struct timeval tv = { (time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000 };
        w->timeout = evtimer_new(C.base, on_wait_timeout, w);
        if (w->timeout)
            evtimer_add(w->timeout, &tv);
    }
    w->next = u->waiters;
    u->waiters = w;
    return w;
}

/* ---- transfers ------------------------------------------------------------------------------ */

static void worker_submit(struct job *j);

static void on_fetched(void *arg, const struct hp_fetch_result *r)
{
    struct url_ent *u = arg;
    C.running--;
    u->status = r->status;
    if (!r->ok && r->transient && u->attempts <= C.cfg.retries && !C.stopping_loop) {
        uint64_t delay = C.cfg.retry_delay_ms << (u->attempts - 1);
        struct timeval tv = { (time_t)(delay / 1000), (suseconds_t)(delay % 1000) * 1000 };
        u->state = U_RETRY;
        hp_debug("capture: %s: %s, retry %u in %llu ms", u->url, r->reason, u->attempts,
                 (unsigned long long)delay);
        evtimer_add(u->retry, &tv);
        pump();
        return;
    }
    if (!r->ok) {
        u->size = r->size;
        if (r->refused_ip[0]) {
            copy_str(u->refused_ip, sizeof(u->refused_ip), r->refused_ip);
            u->refused_why = r->refused_why;
            C.st.refused++;
        }
        ent_fail(u, r->reason, r->error);
        pump();
        return;
    }
    struct job *j = calloc(1, sizeof(*j));
    if (!j) {
        unlinkat(C.payloads_fd, r->tmpname, 0);
        ent_fail(u, "store", "out of memory");
        pump();
        return;
    }
    j->kind = JOB_DOWNLOAD;
    j->u = u;
    memcpy(j->tmpname, r->tmpname, sizeof(j->tmpname));
    hex(r->sha256, 32, j->sha256);
    memcpy(j->sha1, r->sha1, sizeof(j->sha1));
    memcpy(j->md5, r->md5, sizeof(j->md5));
    j->have_digests = true;
    j->size = r->size;
    j->ts_us = hp_now_us();
    j->url = strdup(u->url);
    copy_str(j->how, sizeof(j->how), u->depth ? "mined" : u->tool);
    j->depth = u->depth;
    /* the first waiter's session names the source in the index */
    for (struct hp_capture_wait *w = u->waiters; w; w = w->next)
        if (w->has_ctx) {
            j->ctx = w->ctx;
            j->has_ctx = true;
        }
    u->state = U_WORKER;
    worker_submit(j);
    pump();
}

static void transfer_start(struct url_ent *u)
{
    struct hp_fetch_opts o = {
        .url = u->url, .user_agent = user_agent(u->tool),
        .max_bytes = C.cfg.max_size, .timeout_ms = C.cfg.timeout_ms,
    };
    u->attempts++;
    if (hp_output_disk_low()) {
        ent_fail(u, "disk_low", "free disk space is below [sensor] disk_floor");
        return;
    }
    if (hp_fetch_start(&o, on_fetched, u) != 0) {
        ent_fail(u, "store", "cannot create a temporary file in the payloads directory");
        return;
    }
    u->state = U_RUNNING;
    C.running++;
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    struct url_ent *u = arg;
    (void)fd;
    (void)what;
    u->state = U_QUEUED;
    u->qnext = NULL;
    if (C.qtail)
        C.qtail->qnext = u;
    else
        C.qhead = u;
    C.qtail = u;
    C.queued++;
    pump();
}

static struct event *pump_ev;

static void on_pump(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    pump();
}

static void pump_soon(void)
{
    if (pump_ev)
        event_active(pump_ev, EV_TIMEOUT, 0);
}

/* Start queued transfers while there are free slots. */
static void pump(void)
{
    while (C.qhead && C.running < C.cfg.concurrency && !C.stopping_loop) {
        struct url_ent *u = C.qhead;
        C.qhead = u->qnext;
        if (!C.qhead)
            C.qtail = NULL;
        u->qnext = NULL;
        C.queued--;
        transfer_start(u);
    }
}

/* ---- requests ------------------------------------------------------------------------------- */

/* A request that does not wait: its answer comes later, as an event. */
static struct hp_capture_wait *pending(const struct url_ent *u, struct hp_capture_result *now)
{
    if (now)
        *now = (struct hp_capture_result){ .url = u->url, .ok = false, .reason = "pending" };
    return NULL;
}

/* Queue a new entry with its first waiter; the transfer starts from the
 * loop (pump_soon), so no callback ever runs inside hp_capture_fetch. */
static struct hp_capture_wait *request_start(struct url_ent *u, const struct hp_capture_req *req,
                                             struct hp_capture_result *now)
{
    u->retry = evtimer_new(C.base, on_retry, u);
    struct hp_capture_wait *w = waiter_add(u, req, false);
    u->state = U_QUEUED;
    if (C.qtail)
        C.qtail->qnext = u;
    else
        C.qhead = u;
    C.qtail = u;
    C.queued++;
    pump_soon();
    return req->cb ? w : pending(u, now);
}

struct hp_capture_wait *hp_capture_fetch(const struct hp_capture_req *req, struct hp_capture_result *now)
{
    char url[HP_URLX_URL_MAX + 1];
    C.st.requested++;
    const char *raw = req->url ? req->url : "";
    if (hp_urlx_normalize(raw, strlen(raw), "http", url, sizeof(url)) != 0)
        return answer_now(req, raw, "bad_url", now);
    if (strncmp(url, "tcp://", 6) == 0)
        return answer_now(req, url, "unsupported_scheme", now);
    if (!C.started)
        return answer_now(req, url, "not_started", now);
    if (!C.cfg.fetch)
        return answer_now(req, url, "disabled", now);
    if (req->log_only)
        return answer_now(req, url, "udp_unverified", now);
    uint32_t h = url_hash(url);
    struct url_ent *u = ent_find(url, h);
    if (u && ent_expired(u, hp_mono_ms())) {
        ent_free(u);
        u = NULL;
    }
    if (u && u->state == U_DONE) {
        struct hp_capture_result r;
        C.st.cached++;
        result_of(u, true, &r);
        struct req_meta m = req_meta_of(req);
        deliver_event(build_event(req->ctx, u->url, &m, &r, u),
                      req->emit, req->arg);
        if (now)
            *now = r;
        return NULL;
    }
    /* A transfer the attacker's server keeps slow lasts minutes; every
     * request for its URL meanwhile would hold its event in memory until
     * then.  Past the bound they are shed at once, as a full queue is. */
    if (u && C.nwaiters >= WAITERS_MAX) {
        C.st.shed++;
        return answer_now(req, url, "queue_full", now);
    }
    if (u) {
        C.st.cached++;
        struct hp_capture_wait *w = waiter_add(u, req, true);
        return req->cb ? w : pending(u, now);
    }
    if (C.queued >= C.cfg.queue && C.running >= C.cfg.concurrency) {
        C.st.shed++;
        if (hp_mono_ms() - C.last_shed_log_ms > 10000) {
            C.last_shed_log_ms = hp_mono_ms();
            hp_warn("capture: download queue full (%u queued): refusing new URLs (counted as shed)",
                    C.queued);
        }
        return answer_now(req, url, "queue_full", now);
    }
    if (hp_output_disk_low())
        return answer_now(req, url, "disk_low", now);
    if (!budget_take(req->ctx))
        return answer_now(req, url, "session_limit", now);
    if (!host_take(url))
        return answer_now(req, url, "host_limit", now);
    u = ent_new(url, h, req->tool, req_depth, req_parent);
    if (!u)
        return answer_now(req, url, "queue_full", now);
    return request_start(u, req, now);
}

/* ---- scanning text for URLs ----------------------------------------------------------------- */

struct scan_ctx {
    const struct hp_evctx *ctx;
    const char *found_in;
    size_t n;
    bool tools_only;               /* literal URLs ("how" url) are not requested */
    size_t nseen;
    uint32_t seen[2 * HP_URLX_MAX];  /* url_hash() of the URLs requested by this scan */
};

/* True the first time a URL comes up in this scan (a request's two parts). */
static bool scan_first(struct scan_ctx *sc, const char *url)
{
    uint32_t h = url_hash(url);
    for (size_t i = 0; i < sc->nseen; i++)
        if (sc->seen[i] == h)
            return false;
    if (sc->nseen < sizeof(sc->seen) / sizeof(sc->seen[0]))
        sc->seen[sc->nseen++] = h;
    return true;
}

static void on_scanned(void *arg, const char *url, const char *how, const char *layer)
{
    struct scan_ctx *sc = arg;
    if ((sc->tools_only && strcmp(how, "url") == 0) || !scan_first(sc, url))
        return;
    char where[FOUND_IN_MAX];
    snprintf(where, sizeof(where), "%s", sc->found_in);
    struct hp_capture_req req = { .url = url, .tool = how, .found_in = where, .decoded = layer,
                                  .ctx = sc->ctx,
                                  .log_only = sc->ctx && sc->ctx->transport &&
                                              strcmp(sc->ctx->transport, "udp") == 0 };
    struct hp_capture_result now;
    hp_capture_fetch(&req, &now);
    sc->n++;
}

size_t hp_capture_scan(const struct hp_evctx *ctx, const void *data, size_t len, const char *found_in)
{
    struct scan_ctx sc = { .ctx = ctx, .found_in = found_in ? found_in : "data" };
    if (len > MINE_BYTES)
        len = MINE_BYTES;
    hp_urlx_scan(data, len, on_scanned, &sc);
    return sc.n;
}

size_t hp_capture_scan_request(const struct hp_evctx *ctx, const void *head, size_t head_len,
                               const void *app, size_t app_len, const char *found_in)
{
    struct scan_ctx sc = { .ctx = ctx, .found_in = found_in ? found_in : "data" };
    hp_urlx_scan(app, app_len < MINE_BYTES ? app_len : MINE_BYTES, on_scanned, &sc);
    sc.tools_only = true;
    hp_urlx_scan(head, head_len < MINE_BYTES ? head_len : MINE_BYTES, on_scanned, &sc);
    return sc.n;
}

/* URLs mined from a stored payload, one level deeper than it. */
static void fetch_mined(const struct job *j)
{
    char where[FOUND_IN_MAX];
    snprintf(where, sizeof(where), "payload");
    for (size_t i = 0; i < j->nmined; i++) {
        struct hp_capture_req req = { .url = j->mined[i], .tool = "mined", .found_in = where,
                                      .ctx = j->has_ctx ? &j->ctx : NULL };
        struct hp_capture_result now;
        req_depth = j->depth + 1;
        req_parent = j->sha256;
        hp_capture_fetch(&req, &now);
        req_depth = 0;
        req_parent = NULL;
    }
}

/* ---- the worker ------------------------------------------------------------------------------ */

static void worker_submit(struct job *j)
{
    pthread_mutex_lock(&C.mu);
    j->next = NULL;
    if (C.todo_tail)
        C.todo_tail->next = j;
    else
        C.todo_head = j;
    C.todo_tail = j;
    C.ntodo++;
    pthread_cond_signal(&C.cv);
    pthread_mutex_unlock(&C.mu);
}

/* Map a stored payload read-only; returns NULL for an empty or missing file. */
static const uint8_t *map_payload(const char *sha, size_t *len)
{
    int fd = openat(C.payloads_fd, sha, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    *len = 0;
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
        close(fd);
        return NULL;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return NULL;
    *len = (size_t)st.st_size;
    return p;
}

/* Uploads arrive with their SHA-256 only: the index also wants SHA-1 and MD5. */
static void digests_of(const uint8_t *p, size_t n, struct job *j)
{
    unsigned len;
    EVP_Digest(n ? p : (const uint8_t *)"", n, j->sha1, &len, EVP_sha1(), NULL);
    EVP_Digest(n ? p : (const uint8_t *)"", n, j->md5, &len, EVP_md5(), NULL);
    j->have_digests = true;
}

struct mine_ctx {
    struct job *j;
};

static void on_mined(void *arg, const char *url, const char *how, const char *layer)
{
    struct job *j = ((struct mine_ctx *)arg)->j;
    (void)how;
    (void)layer;
    if (j->nmined >= MINED_MAX)
        return;
    char **grown = realloc(j->mined, (j->nmined + 1) * sizeof(*grown));
    if (!grown)
        return;
    j->mined = grown;
    if ((j->mined[j->nmined] = strdup(url)))
        j->nmined++;
}

/* Keep the store under its quota, least recently seen first, never the newcomer. */
static void enforce_quota(struct job *j)
{
    for (unsigned guard = 0; guard < 10000 && hp_index_stored_bytes(C.ix) > C.cfg.quota; guard++) {
        char sha[65];
        uint64_t size;
        if (hp_index_oldest(C.ix, sha, &size) != 0 || strcmp(sha, j->sha256) == 0)
            break;
        unlinkat(C.payloads_fd, sha, 0);
        hp_index_mark_evicted(C.ix, sha);
        char (*ev)[65] = realloc(j->evicted, (j->nevicted + 1) * sizeof(*ev));
        uint64_t *evs = realloc(j->evicted_size, (j->nevicted + 1) * sizeof(*evs));
        if (ev)
            j->evicted = ev;
        if (evs)
            j->evicted_size = evs;
        if (!ev || !evs)
            break;
        memcpy(j->evicted[j->nevicted], sha, 65);
        j->evicted_size[j->nevicted] = size;
        j->nevicted++;
    }
}

/* Put the body in place under its hash (a download), classify, index, mine. */
static void worker_do(struct job *j)
{
    if (j->kind == JOB_DOWNLOAD) {
        struct stat st;
        if (fstatat(C.payloads_fd, j->sha256, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            unlinkat(C.payloads_fd, j->tmpname, 0);       /* same bytes already kept */
        else if (renameat(C.payloads_fd, j->tmpname, C.payloads_fd, j->sha256) != 0) {
            unlinkat(C.payloads_fd, j->tmpname, 0);
            return;                                       /* stored stays false */
        }
    }
    j->stored = true;
    size_t len = 0;
    const uint8_t *p = map_payload(j->sha256, &len);
    if (!j->have_digests)
        digests_of(p, len, j);
    hp_classify_buf(p ? p : (const uint8_t *)"", len, &j->cls);
    if (j->depth < C.cfg.depth && p &&
        (strcmp(j->cls.kind, "script") == 0 || strcmp(j->cls.kind, "text") == 0)) {
        struct mine_ctx mc = { j };
        hp_urlx_scan(p, len < MINE_BYTES ? len : MINE_BYTES, on_mined, &mc);
    }
    if (p)
        munmap((void *)p, len);
    if (!C.ix)
        return;
    struct hp_payload_meta m = {
        .size = j->size, .ts_us = j->ts_us, .url = j->url,
        .session = j->has_ctx ? j->ctx.session : NULL, .protocol = j->has_ctx ? j->ctx.protocol : NULL,
        .src_ip = j->has_ctx ? j->ctx.src_ip : NULL, .how = j->how,
        .type = j->cls.type, .mime = j->cls.mime, .kind = j->cls.kind, .elf_arch = j->cls.elf_arch,
        .elf_endian = j->cls.elf_endian, .interpreter = j->cls.interpreter, .family = j->cls.family,
        .rule = j->cls.rule, .elf_bits = j->cls.elf_bits,
    };
    memcpy(m.sha256, j->sha256, 65);
    hex(j->sha1, 20, m.sha1);
    hex(j->md5, 16, m.md5);
    if (hp_index_record(C.ix, &m, &j->is_new) != 0)
        hp_warn("capture: cannot record payload %s in the index", j->sha256);
    else if (j->is_new)
        enforce_quota(j);
}

static void *worker_main(void *arg)
{
    (void)arg;
    hp_thread_name("capture");
    pthread_mutex_lock(&C.mu);
    for (;;) {
        while (!C.todo_head && !C.stopping)
            pthread_cond_wait(&C.cv, &C.mu);
        struct job *j = C.todo_head;
        if (!j)
            break;                                        /* stopping, nothing left */
        C.todo_head = j->next;
        if (!C.todo_head)
            C.todo_tail = NULL;
        C.ntodo--;
        pthread_mutex_unlock(&C.mu);
        worker_do(j);
        pthread_mutex_lock(&C.mu);
        j->next = NULL;
        if (C.done_tail)
            C.done_tail->next = j;
        else
            C.done_head = j;
        C.done_tail = j;
        if (C.pipefd[1] >= 0) {
            ssize_t w = write(C.pipefd[1], "j", 1);       /* full pipe: a wake-up is pending anyway */
            (void)w;
        }
    }
    pthread_mutex_unlock(&C.mu);
    return NULL;
}

static void job_free(struct job *j)
{
    for (size_t i = 0; i < j->nmined; i++)
        free(j->mined[i]);
    free(j->mined);
    free(j->evicted);
    free(j->evicted_size);
    free(j->url);
    free(j->filename);
    free(j);
}

/* Back on the loop: events, waiters, mined URLs. */
static void job_done(struct job *j)
{
    for (size_t i = 0; i < j->nevicted; i++) {
        evicted_event(j->evicted[i], j->evicted_size[i]);
        C.st.evicted++;
    }
    if (j->is_new) {
        C.st.stored_new++;
        payload_event(j);
    }
    if (j->kind == JOB_DOWNLOAD && j->u) {
        struct url_ent *u = j->u;
        u->size = j->size;
        u->cls = j->cls;
        memcpy(u->sha256, j->sha256, sizeof(u->sha256));
        if (j->stored) {
            u->ok = true;
            ent_finish(u);
        } else {
            ent_fail(u, "store", "cannot move the download into the payloads directory");
        }
    }
    fetch_mined(j);
    job_free(j);
}

static void on_pipe(evutil_socket_t fd, short what, void *arg)
{
    char buf[256];
    (void)what;
    (void)arg;
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    pthread_mutex_lock(&C.mu);
    struct job *j = C.done_head;
    C.done_head = C.done_tail = NULL;
    pthread_mutex_unlock(&C.mu);
    while (j) {
        struct job *next = j->next;
        job_done(j);
        j = next;
    }
}

/* ---- uploads, reading back ----------------------------------------------------------------- */

/*
 * Peers send files faster than the worker classifies and indexes them (an
 * HTTP request carries 64 file parts, the same bytes each time cost no
 * disk), and every job waits in memory.  Past UPLOAD_BACKLOG waiting jobs
 * an upload stays stored and reported (session.file_upload) but is not
 * classified, indexed or mined.  Downloads are bounded by the URL table.
 */
static bool upload_backlog_full(void)
{
    pthread_mutex_lock(&C.mu);
    bool full = C.ntodo >= UPLOAD_BACKLOG;
    pthread_mutex_unlock(&C.mu);
    if (full && hp_mono_ms() - C.last_backlog_log_ms > 10000) {
        C.last_backlog_log_ms = hp_mono_ms();
        hp_warn("capture: %d payloads wait for classification: uploads are kept but not indexed",
                UPLOAD_BACKLOG);
    }
    return full;
}

void hp_capture_upload(const struct hp_evctx *ctx, const char *sha256, uint64_t size, const char *how,
                       const char *filename)
{
    if (!C.started || !sha256 || strlen(sha256) != 64 || upload_backlog_full())
        return;
    struct job *j = calloc(1, sizeof(*j));
    if (!j)
        return;
    j->kind = JOB_UPLOAD;
    memcpy(j->sha256, sha256, 65);
    j->size = size;
    j->ts_us = hp_now_us();
    copy_str(j->how, sizeof(j->how), how);
    j->filename = filename ? strndup(filename, 1024) : NULL;
    if (ctx) {
        j->ctx = *ctx;
        j->has_ctx = true;
    }
    worker_submit(j);
}

int hp_capture_read(const char *sha256, struct hp_buf *out, size_t max)
{
    if (C.payloads_fd < 0 || !sha256 || strlen(sha256) != 64 || strchr(sha256, '/'))
        return -1;
    int fd = openat(C.payloads_fd, sha256, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    uint8_t chunk[65536];
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        size_t room = max > out->len ? max - out->len : 0;
        hp_buf_put(out, chunk, (size_t)n < room ? (size_t)n : room);
        if ((size_t)n > room)
            break;
    }
    close(fd);
    return rc;
}

/* ---- start and stop ------------------------------------------------------------------------ */

static int open_payloads_dir(const char *data_dir)
{
    int dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    if (mkdirat(dfd, "payloads", 0750) != 0 && errno != EEXIST) {
        close(dfd);
        return -1;
    }
    int pfd = openat(dfd, "payloads", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(dfd);
    return pfd;
}

/* Temporary files of a run that died are garbage. */
static void remove_stale_tmp(void)
{
    int fd = dup(C.payloads_fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    for (struct dirent *de; (de = readdir(d));)
        if (strncmp(de->d_name, ".dl-", 4) == 0 || strncmp(de->d_name, ".tmp-", 5) == 0)
            unlinkat(C.payloads_fd, de->d_name, 0);
    closedir(d);
}

int hp_capture_start(const struct hp_config *cfg, struct event_base *base, char *err, size_t errlen)
{
    C.cfg = cfg->capture;
    C.cfg.allow = NULL;
    C.cfg.yara_rules = NULL;
    C.stopping = C.stopping_loop = false;     /* started again after a stop (unit tests) */
    C.base = base;
    C.host_seed = (uint32_t)hp_random_u64() | 1;
    C.url_seed = hp_random_u64();
    if (hp_addrpol_init(&C.pol, cfg->capture.allow, err, errlen) != 0)
        return -1;
    hp_addrpol_add_own(&C.pol);
    C.data_dir = hp_xstrdup(cfg->data_dir);
    C.payloads_fd = open_payloads_dir(cfg->data_dir);
    if (C.payloads_fd < 0) {
        snprintf(err, errlen, "[capture]: cannot open %s/payloads: %s", cfg->data_dir, strerror(errno));
        return -1;
    }
    remove_stale_tmp();
    if (hp_classify_init(cfg->capture.yara_rules, err, errlen) != 0)
        return -1;
    C.ix = hp_index_open(cfg->data_dir, false, err, errlen);
    if (!C.ix)
        return -1;
    if (hp_fetch_init(base, &C.pol, C.payloads_fd, err, errlen) != 0)
        return -1;
    if (pipe2(C.pipefd, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(err, errlen, "[capture]: pipe: %s", strerror(errno));
        return -1;
    }
    pthread_mutex_init(&C.mu, NULL);
    pthread_cond_init(&C.cv, NULL);
    C.pipe_ev = event_new(base, C.pipefd[0], EV_READ | EV_PERSIST, on_pipe, NULL);
    pump_ev = event_new(base, -1, 0, on_pump, NULL);
    C.sweep = event_new(base, -1, EV_PERSIST, on_sweep, NULL);
    struct timeval minute = { 60, 0 };
    if (!C.pipe_ev || !pump_ev || !C.sweep || event_add(C.pipe_ev, NULL) != 0 ||
        event_add(C.sweep, &minute) != 0 || pthread_create(&C.th, NULL, worker_main, NULL) != 0) {
        snprintf(err, errlen, "[capture]: cannot start the capture worker");
        return -1;
    }
    C.th_up = true;
    C.started = true;
    hp_info("capture: %s, max %llu bytes per file, quota %llu bytes, %llu at a time",
            C.cfg.fetch ? "downloads on" : "downloads off (URLs are logged)",
            (unsigned long long)C.cfg.max_size, (unsigned long long)C.cfg.quota,
            (unsigned long long)C.cfg.concurrency);
    return 0;
}

void hp_capture_stop(void)
{
    if (!C.started && C.payloads_fd < 0)
        return;
    C.stopping_loop = true;
    /* queued entries never start: they fail now, with their events */
    while (C.qhead) {
        struct url_ent *u = C.qhead;
        C.qhead = u->qnext;
        C.queued--;
        ent_fail(u, "shutdown", "sensor stopping");
    }
    C.qtail = NULL;
    hp_fetch_shutdown();                      /* running ones fail through on_fetched */
    for (size_t b = 0; b < URL_BUCKETS; b++)
        for (struct url_ent *u = C.buckets[b]; u; u = u->hnext)
            if (u->state == U_RETRY) {
                evtimer_del(u->retry);
                ent_fail(u, "shutdown", "sensor stopping");
            }
    if (C.th_up) {
        pthread_mutex_lock(&C.mu);
        C.stopping = true;
        pthread_cond_signal(&C.cv);
        pthread_mutex_unlock(&C.mu);
        pthread_join(C.th, NULL);
        C.th_up = false;
        C.started = false;                    /* mined URLs found now are not fetched */
        on_pipe(C.pipefd[0], EV_READ, NULL);  /* what the worker finished last */
    }
    C.started = false;
    sweep_entries(true);
    for (size_t b = 0; b < URL_BUCKETS; b++)   /* entries still at the worker were answered above */
        while (C.buckets[b])
            ent_free(C.buckets[b]);
    if (C.pipe_ev)
        event_free(C.pipe_ev);
    if (pump_ev)
        event_free(pump_ev);
    if (C.sweep)
        event_free(C.sweep);
    C.pipe_ev = pump_ev = C.sweep = NULL;
    for (int i = 0; i < 2; i++)
        if (C.pipefd[i] >= 0)
            close(C.pipefd[i]);
    C.pipefd[0] = C.pipefd[1] = -1;
    hp_index_close(C.ix);
    C.ix = NULL;
    hp_classify_shutdown();
    hp_addrpol_free(&C.pol);
    if (C.payloads_fd >= 0)
        close(C.payloads_fd);
    C.payloads_fd = -1;
    free(C.data_dir);
    C.data_dir = NULL;
}

void hp_capture_get_stats(struct hp_capture_stats *st)
{
    *st = C.st;
    st->running = C.running;
    st->queued = C.queued;
}
