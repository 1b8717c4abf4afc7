/*
 * fetch.h - the downloader: libcurl's multi interface on our event loop.
 *
 * One transfer = one URL (http, https, ftp, tftp), its redirects included.
 * The body streams into a temporary file in the payloads directory while
 * SHA-256, SHA-1 and MD5 are computed on the fly, so a 20 MB download costs
 * no 20 MB of memory and is hashed by the time it ends.  Every socket curl
 * opens goes through the address policy (addrpolicy.h) first.  Nothing here
 * blocks the network thread: curl's sockets and timers are libevent events,
 * and names are resolved by curl's resolver thread.
 *
 * Bounds: max_bytes per body (the transfer is cut when passed, and refused
 * up front when the server announces a longer one), timeout_ms for the
 * whole transfer, 5 redirects, connect within 15 s.  Retries, queueing and
 * concurrency caps belong to the caller (capture.c).
 */
#ifndef HP_FETCH_H
#define HP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct hp_addrpol;

#define HP_FETCH_TMP_LEN 32
#define CURL_ERROR_SIZE_HP 256         /* = CURL_ERROR_SIZE, without including curl.h */

struct hp_fetch_opts {
    const char *url;              /* http, https, ftp or tftp */
    const char *user_agent;       /* HTTP User-Agent (the tool the attacker used) */
    uint64_t max_bytes;
    uint64_t timeout_ms;
};

struct hp_fetch_result {
    bool ok;
    bool transient;               /* worth retrying (timeouts, resets, 5xx) */
    const char *reason;           /* when !ok: "refused_address", "too_large", "timeout", "dns",
                                   * "connect", "not_found", "http_error", "redirects",
                                   * "disk", "error" */
    char error[CURL_ERROR_SIZE_HP]; /* curl's message when !ok */
    char refused_ip[46];          /* refused_address: the address and */
    const char *refused_why;      /* addrpolicy's reason */
    long status;                  /* last HTTP/FTP/TFTP response code, 0 when none */
    uint64_t size;                /* bytes received (or announced, for too_large) */
    char tmpname[HP_FETCH_TMP_LEN]; /* ok: the body, in the payloads directory */
    uint8_t sha256[32], sha1[20], md5[16];
    char final_url[512];          /* after redirects ("" when unknown) */
    int64_t duration_ms;
};

typedef void (*hp_fetch_done)(void *arg, const struct hp_fetch_result *r);

/* Set up on the loop thread before the sandbox.  payloads_fd: the
 * directory the bodies go to (kept, not owned).  Returns 0 / -1. */
int hp_fetch_init(struct event_base *base, const struct hp_addrpol *pol, int payloads_fd,
                  char *err, size_t errlen);
/* Start a transfer; done is called exactly once, later, on the loop thread
 * (never from inside hp_fetch_start).  Returns 0, or -1 when it could not
 * start (done is not called). */
int hp_fetch_start(const struct hp_fetch_opts *o, hp_fetch_done done, void *arg);
/* Transfers running now. */
unsigned hp_fetch_running(void);
/* Abort every transfer (their done callbacks run with reason "shutdown") and clean up. */
void hp_fetch_shutdown(void);

#endif
