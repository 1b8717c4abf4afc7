/*
 * capture.h - the payload pipeline every protocol feeds.
 *
 *   URL found (shell wget/curl/tftp/ftpget, an exploit body, a mined script)
 *     -> hp_capture_fetch: policy checks, per-URL de-duplication window,
 *        per-session budget, queue, concurrency cap          (network thread)
 *     -> fetch.c: libcurl on the event loop, body to a temporary file,
 *        hashes on the fly, retries with back-off on transient failures
 *     -> worker thread: file renamed to payloads/<sha256>, libmagic, ELF
 *        header, YARA family, index record, quota eviction, scripts mined
 *        for more URLs (depth-limited)
 *     -> network thread: session.file_download / session.file_download.failed,
 *        payload.new, payload.evicted; waiters (an emulated wget) resumed.
 *
 * Files attackers upload (scp, sftp, files written in the shell) are stored
 * by their front-end (store.h) and handed over with hp_capture_upload() for
 * the same classification, index and mining.
 *
 * Everything here runs on the network thread except the worker.  Without
 * hp_capture_start() (unit tests, fuzzers, `fetch = false`) requests are
 * answered at once with reason "not_started" / "disabled", and still logged.
 */
#ifndef HP_CAPTURE_H
#define HP_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "classify.h"
#include "event.h"

struct event_base;
struct hp_config;
struct hp_buf;

/* What became of one requested URL. */
struct hp_capture_result {
    const char *url;
    bool ok;
    bool cached;                  /* answered from the de-duplication window or a joined transfer */
    const char *reason;           /* !ok: "pending" (no waiter: the event comes later), "disabled",
                                   * "udp_unverified", "not_started", "bad_url", "unsupported_scheme",
                                   * "session_limit", "queue_full", "refused_address", "too_large",
                                   * "timeout", "dns", "connect", "not_found", "http_error",
                                   * "redirects", "disk", "disk_low", "store", "error", "shutdown" */
    const char *error;            /* detail (curl's message), may be NULL */
    long status;                  /* last HTTP/FTP/TFTP code, 0 when none */
    char sha256[65];
    uint64_t size;
    const struct hp_classify *cls; /* ok: type and family */
};

typedef void (*hp_capture_cb)(void *arg, const struct hp_capture_result *r);

struct hp_capture_req {
    const char *url;              /* as the attacker wrote it; normalised here */
    const char *tool;             /* "wget", "curl", "tftp", "ftpget", "busybox-wget", ... (User-Agent) */
    const char *found_in;         /* where the URL came from: "shell", "trap", "http", "payload" ... */
    bool log_only;                /* log the URL, never fetch it (a UDP source may be spoofed:
                                   * we must not become anyone's remote downloader) */
    const char *decoded;          /* the encoding it was hidden in ("urldecode", "base64", "hex",
                                   * "ifs", ...; urlx.h), NULL: none */
    const char *destfile;         /* shell: where the tool writes it; NULL otherwise */
    const struct hp_evctx *ctx;   /* the session (copied); NULL: sensor-wide */
    /* The caller waits: cb gets the result once (on the loop thread), and the
     * event about it goes to emit (the caller orders it among its own events)
     * instead of the outputs.  Both may be NULL. */
    hp_capture_cb cb;
    void (*emit)(void *arg, struct hp_event *e);
    void *arg;
    uint64_t wait_ms;             /* give up waiting after this long (0: [capture] shell_wait) */
};

struct hp_capture_wait;

/* Ask for a URL.  Returns NULL when the answer is known now: *now is filled
 * (its strings valid until the next capture call) and the event has been
 * emitted; cb is not called.  Otherwise returns a handle and cb will be
 * called exactly once, unless hp_capture_cancel() comes first. */
struct hp_capture_wait *hp_capture_fetch(const struct hp_capture_req *req, struct hp_capture_result *now);
/* The waiter goes away (its session closed): the download goes on and its
 * event goes to the outputs. */
void hp_capture_cancel(struct hp_capture_wait *w);

/* Find every URL in data (hp_urlx_scan) and fetch each one (no waiter);
 * found_in says where ("trap", "http", ...).  Data from a UDP datagram is
 * only logged (reason "udp_unverified"): its source address may be forged.
 * Returns the number of URLs. */
size_t hp_capture_scan(const struct hp_evctx *ctx, const void *data, size_t len, const char *found_in);
/* The same for a request of an HTTP-like protocol, in two parts: app is what
 * the application reads (path, query, body, the commands an exploit
 * injects), where any URL counts; head is the request line and headers,
 * where only a URL a download tool asks for counts (a Shellshock
 * User-Agent's wget).  A literal URL in a head is the client's own (Referer,
 * Origin, a crawler's "+http://.../bot.html") or a proxy probe's target:
 * fetching it would fetch pages for anyone who writes them there.  A URL in
 * both parts is requested once. */
size_t hp_capture_scan_request(const struct hp_evctx *ctx, const void *head, size_t head_len,
                               const void *app, size_t app_len, const char *found_in);

/* A file an attacker uploaded, already stored as payloads/<sha256>: classify,
 * index and mine it.  how: "scp", "sftp", "shell", ... */
void hp_capture_upload(const struct hp_evctx *ctx, const char *sha256, uint64_t size, const char *how,
                       const char *filename);

/* Read a stored payload (at most max bytes) into out.  Returns 0 / -1. */
int hp_capture_read(const char *sha256, struct hp_buf *out, size_t max);

/* Start (before the sandbox; loads libmagic and the YARA rules) and stop. */
int hp_capture_start(const struct hp_config *cfg, struct event_base *base, char *err, size_t errlen);
void hp_capture_stop(void);

/* Counters for sensor.stats. */
struct hp_capture_stats {
    uint64_t requested, fetched, failed, cached, refused, shed, stored_new, evicted;
    unsigned running, queued;
};
void hp_capture_get_stats(struct hp_capture_stats *st);

#endif
