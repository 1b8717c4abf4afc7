/*
 * shell.c - the emulated login shell behind SSH and Telnet.  See shell.h.
 *
 * Three ways in, one interpreter (interp.c) behind them:
 *
 *   interactive  keystrokes -> line editing (linedisc.c) -> one line at a
 *                time; the login banner and prompt, ^C, ^D, ^L as bash
 *                5.2 shows them on Debian 12 (checked on a real pty);
 *   exec         one command string (ssh host 'cmd'), "bash -c" semantics,
 *                then exit with its status;
 *   script       no pty but a shell (ssh host < file): stdin is read line by
 *                line as a login bash reads a script, and EOF ends it.
 *
 * Output: the interpreter writes "\n"; on a pty it passes through ONLCR
 * ("\n" -> "\r\n") like a tty would.  Bytes are gathered per call and sent
 * to term.write in one piece (16 KiB at most at a time).
 *
 * Events: command.input for every line that is not blank (the exec string
 * as one event), with "input" (the exact bytes) and "commands" (the argv
 * of every simple command the line ran, after expansion: 64 at most, then
 * "commands_truncated").  Because the argv are known only once the line has
 * run, the event is built afterwards but stamped with the time the line
 * arrived, and every event the line caused meanwhile (command.failed for a
 * command that was not found, session.file_download for a URL a program
 * asked for, session.file_upload for a file the attacker wrote, see vfs.h)
 * is held and published right after it, so a reader sees cause before
 * effect.  Files still unsaved when the session ends are captured then.
 *
 * Multi-line constructs (if ... fi, here-documents, open quotes) are
 * completed over several lines with bash's PS2 prompt "> "; blank lines
 * inside them are passed on, since they belong to a here-document.
 *
 * Life cycle: when the shell ends it calls term.exit exactly once and as its
 * very last action, because the front-end may free the shell in there.
 * After that every entry point is a no-op until hp_shell_free.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <event2/event.h>
#include "shell.h"
#include "interp.h"
#include "persona.h"
#include "../capture/capture.h"
#include "../capture/store.h"
#include "cmd.h"
#include "fiber.h"
#include "linedisc.h"
#include "buf.h"
#include "event.h"
#include "output.h"
#include "reader.h"
#include "sensor.h"
#include "util.h"

#define SHELL_FLUSH_AT     (16 * 1024)
#define SHELL_SCRIPT_LINE  (64 * 1024)    /* stdin lines in script mode */
#define SHELL_NAME_MAX     255            /* user and host names kept */
#define SHELL_ARGV_MAX     64             /* simple commands listed in one command.input */
#define SHELL_ARGV_BYTES   (16 * 1024)    /* bytes of argv kept for one command.input */
#define SHELL_PENDING_MAX  256            /* events held during one line; more are published at once */
#define SHELL_INQ_MAX      (1024 * 1024)  /* input held while a line waits for a download */
#define SHELL_BODY_MAX     (32u << 20)    /* downloaded bytes handed to the fake file system */

/* bash 5.2 turns bracketed paste on before each prompt and off after Enter. */
#define BP_ON  "\x1b[?2004h"
#define BP_OFF "\x1b[?2004l\r"

struct hp_shell {
    struct hp_term term;
    const struct hp_evctx *ctx;
    bool interactive;           /* a login shell on a pty */
    bool onlcr;                 /* output through a pty's ONLCR: interactive, or an exec on a pty */
    bool fancy;                 /* bash on a terminal that is not "dumb" */
    unsigned width, height;
    struct hp_interp *it;
    struct hp_ld ld;            /* interactive line editing */
    struct hp_buf out;          /* output gathered during one call */
    struct hp_buf script;       /* script mode: the incomplete stdin line */
    bool script_over;           /* that line passed the cap: drop until LF */
    unsigned script_lineno;
    bool done;                  /* the shell has ended; term.exit is (being) called */
    int status;
    /* banner */
    char *motd;
    char *last_from;
    int64_t last_us;
    /* the line being run: its command.input is built once it is done */
    char *data_dir;             /* where created files are stored; NULL: not stored */
    bool in_line;
    int64_t line_us;            /* when the line arrived */
    struct hp_buf argv;         /* NUL-terminated words of the line's simple commands */
    uint16_t argc[SHELL_ARGV_MAX];
    size_t ncmds;
    bool argv_truncated;
    struct hp_event **pending;  /* grown on demand (idle sessions stay small) */
    size_t npending, cappending;
    /* Work runs on a fiber so that a download can suspend a line (fiber.h):
     * input that arrives meanwhile waits in inq, as in a tty's buffer. */
    struct hp_fiber *fiber;     /* non-NULL while work is suspended */
    struct hp_buf inq;
    bool inq_overflow;          /* bytes were dropped from a full inq */
    char *exec;                 /* an exec request not yet run */
    size_t exec_len;
    bool eof_pending;           /* the client's EOF, after what is queued */
    bool suspended;             /* the fiber waits for a download */
    bool paused;                /* the fiber gave the other sessions their turn (io_pause) */
    struct event *resume_ev;    /* continues a paused fiber; made on first use */
    bool cancelled;             /* the session is going away: nothing waits any more */
    struct hp_capture_wait *wait;
    struct {                    /* what the awaited download came to */
        bool ok;
        char reason[32];
        char sha256[65];
    } got;
};

/* ---- events ----------------------------------------------------------------- */

static void (*event_hook)(struct hp_event *, void *);
static void *event_hook_arg;

void hp_shell_set_event_hook(void (*fn)(struct hp_event *ev, void *arg), void *arg)
{
    event_hook = fn;
    event_hook_arg = arg;
}

/* Hand a finished event to the test hook or the outputs. */
static void publish(struct hp_event *e)
{
    if (!e)
        return;
    if (event_hook)
        event_hook(e, event_hook_arg);
    else
        hp_output_publish(e);
}

/* An event caused by the running line waits for the line's command.input. */
static void hold_event(struct hp_shell *sh, struct hp_event *e)
{
    if (!e)
        return;
    if (sh->in_line && sh->npending == sh->cappending && sh->cappending < SHELL_PENDING_MAX) {
        size_t nc = sh->cappending ? sh->cappending * 2 : 8;
        struct hp_event **np = realloc(sh->pending, nc * sizeof(*np));
        if (np) {
            sh->pending = np;
            sh->cappending = nc;
        }
    }
    if (sh->in_line && sh->npending < sh->cappending)
        sh->pending[sh->npending++] = e;
    else
        publish(e);             /* more than a line may hold: out of order rather than lost */
}

static void finish_event(struct hp_shell *sh, struct hp_ev *ev)
{
    hold_event(sh, hp_ev_finish(ev));
}

/* The line's command.input with the argv of what it ran, then what it caused. */
static void line_done(struct hp_shell *sh, const void *p, size_t n)
{
    struct hp_ev ev;
    hp_ev_begin_at(&ev, sh->ctx, "command.input", sh->line_us);
    hp_ev_bytes(&ev, "input", p, n);
    hp_ev_arr_begin(&ev, "commands");
    const char *w = (const char *)sh->argv.data;
    for (size_t i = 0; i < sh->ncmds; i++) {
        hp_ev_arr_begin(&ev, NULL);
        for (unsigned a = 0; a < sh->argc[i]; a++) {
            hp_ev_elem_str(&ev, w);
            w += strlen(w) + 1;
        }
        hp_ev_arr_end(&ev);
    }
    hp_ev_arr_end(&ev);
    if (sh->argv_truncated)
        hp_ev_bool(&ev, "commands_truncated", true);
    publish(hp_ev_finish(&ev));
    for (size_t i = 0; i < sh->npending; i++)
        publish(sh->pending[i]);
    sh->npending = 0;
    sh->ncmds = 0;
    sh->argv_truncated = false;
    hp_buf_reset(&sh->argv);
    sh->in_line = false;
}

static void line_begin(struct hp_shell *sh)
{
    sh->in_line = true;
    sh->line_us = hp_now_us();
}

static bool blank(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\r\n\v\f", p[i]) || !p[i])
            return false;
    return true;
}

/* ---- output ----------------------------------------------------------------- */

static void flush(struct hp_shell *sh)
{
    if (sh->out.len && sh->term.write)
        sh->term.write(sh->term.io, sh->out.data, sh->out.len);
    hp_buf_reset(&sh->out);
}

static void raw_out(struct hp_shell *sh, const void *p, size_t n)
{
    if (sh->out.len + n > SHELL_FLUSH_AT)
        flush(sh);
    if (n >= SHELL_FLUSH_AT) {
        if (sh->term.write)
            sh->term.write(sh->term.io, p, n);
        return;
    }
    hp_buf_put(&sh->out, p, n);
}

static void raw_puts(struct hp_shell *sh, const char *s) { raw_out(sh, s, strlen(s)); }

/* What a program writes: ONLCR on a pty. */
static void cooked_out(struct hp_shell *sh, const void *data, size_t n)
{
    const uint8_t *p = data;
    if (!sh->onlcr) {
        raw_out(sh, p, n);
        return;
    }
    while (n > 0) {
        const uint8_t *nl = memchr(p, '\n', n);
        size_t seg = nl ? (size_t)(nl - p) : n;
        raw_out(sh, p, seg);
        if (!nl)
            break;
        raw_out(sh, "\r\n", 2);
        p += seg + 1;
        n -= seg + 1;
    }
}

static void io_write(void *arg, const void *p, size_t n) { cooked_out(arg, p, n); }

/* stderr of a non-interactive shell whose front-end keeps it apart: stdout
 * buffered so far goes first, so that the client sees them in order. */
static void io_write_err(void *arg, const void *p, size_t n)
{
    struct hp_shell *sh = arg;
    flush(sh);
    if (sh->term.write_err)
        sh->term.write_err(sh->term.io, p, n);
}

static void io_failed(void *arg, const void *p, size_t n)
{
    struct hp_shell *sh = arg;
    struct hp_ev ev;
    hp_ev_begin(&ev, sh->ctx, "command.failed");
    hp_ev_bytes(&ev, "input", p, n);
    finish_event(sh, &ev);
}

/* Keep the argv of a simple command for the line's command.input. */
static void io_command(void *arg, int argc, char *const *argv)
{
    struct hp_shell *sh = arg;
    if (sh->ncmds == SHELL_ARGV_MAX) {
        sh->argv_truncated = true;
        return;
    }
    size_t need = 0;
    for (int i = 0; i < argc; i++)
        need += strlen(argv[i]) + 1;
    if (argc > UINT16_MAX || sh->argv.len + need > SHELL_ARGV_BYTES) {
        sh->argv_truncated = true;
        return;
    }
    for (int i = 0; i < argc; i++)
        hp_buf_put(&sh->argv, argv[i], strlen(argv[i]) + 1);
    sh->argc[sh->ncmds++] = (uint16_t)argc;
}

/* A file the attacker wrote: stored by SHA-256 like an scp upload. */
static void io_captured(void *arg, const char *path, const uint8_t *data, size_t len)
{
    struct hp_shell *sh = arg;
    char sha[HP_SHA256_HEX_LEN + 1] = "";
    bool stored = false;
    if (sh->data_dir)
        stored = hp_store_put(sh->data_dir, data, len, sha) == 0;
    else
        hp_sha256_hex(data, len, sha);
    struct hp_ev ev;
    hp_ev_begin(&ev, sh->ctx, "session.file_upload");
    hp_ev_str(&ev, "filename", path);
    hp_ev_uint(&ev, "size", len);
    hp_ev_str(&ev, "shasum", sha);
    if (stored) {
        char out[16 + HP_SHA256_HEX_LEN];
        snprintf(out, sizeof(out), "payloads/%s", sha);
        hp_ev_str(&ev, "outfile", out);
        hp_capture_upload(sh->ctx, sha, len, "shell", path);
    } else if (sh->data_dir) {
        hp_ev_bool(&ev, "store_failed", true);
    }
    hp_ev_str(&ev, "protocol_detail", "shell");
    finish_event(sh, &ev);
}

/* ---- downloads ---------------------------------------------------------------------- */

/* The capture pipeline's event about a download of this line. */
static void on_capture_event(void *arg, struct hp_event *e)
{
    hold_event(arg, e);
}

static void note_result(struct hp_shell *sh, const struct hp_capture_result *r)
{
    sh->got.ok = r->ok;
    snprintf(sh->got.reason, sizeof(sh->got.reason), "%s", r->reason ? r->reason : "");
    snprintf(sh->got.sha256, sizeof(sh->got.sha256), "%s", r->ok ? r->sha256 : "");
}

static void after_switch(struct hp_shell *sh, bool finished);

/* The awaited download is done (or the wait gave up): continue the line. */
static void on_fetch_done(void *arg, const struct hp_capture_result *r)
{
    struct hp_shell *sh = arg;
    note_result(sh, r);
    sh->wait = NULL;
    if (sh->suspended && sh->fiber)
        after_switch(sh, hp_fiber_resume(sh->fiber));
}

static enum sh_fetch_result fetch_outcome(struct hp_shell *sh, struct hp_buf *body)
{
    const char *why = sh->got.reason;
    if (sh->got.ok)
        return body && hp_capture_read(sh->got.sha256, body, SHELL_BODY_MAX) != 0 ? SH_FETCH_UNREACHABLE
                                                                                  : SH_FETCH_OK;
    if (strcmp(why, "not_found") == 0 || strcmp(why, "http_error") == 0)
        return SH_FETCH_NOT_FOUND;
    if (strcmp(why, "connect") == 0 || strcmp(why, "refused_address") == 0)
        return SH_FETCH_REFUSED;
    if (strcmp(why, "bad_url") == 0 || strcmp(why, "unsupported_scheme") == 0)
        return SH_FETCH_BAD_URL;
    return SH_FETCH_UNREACHABLE;
}

/* A program of the line asks for a URL: hand it to the capture pipeline and,
 * on a fiber, wait for the outcome while the event loop goes on. */
static int io_fetch(void *arg, const char *tool, const char *url, const char *dest, struct hp_buf *body)
{
    struct hp_shell *sh = arg;
    bool can_wait = !sh->cancelled && hp_fiber_self() && sh->fiber == hp_fiber_self();
    struct hp_capture_req req = {
        .url = url, .tool = tool, .found_in = "shell", .destfile = dest, .ctx = sh->ctx,
        .cb = can_wait ? on_fetch_done : NULL, .emit = on_capture_event, .arg = sh,
    };
    struct hp_capture_result now;
    memset(&sh->got, 0, sizeof(sh->got));
    struct hp_capture_wait *w = hp_capture_fetch(&req, &now);
    if (!w) {
        if (!can_wait && !now.reason && !now.ok)
            now.reason = "unreachable";
        note_result(sh, &now);
        return fetch_outcome(sh, body);
    }
    sh->wait = w;
    sh->suspended = true;
    flush(sh);                  /* "Connecting to ..." shows while we wait */
    hp_fiber_yield();
    sh->suspended = false;
    return fetch_outcome(sh, body);
}

/* The next turn of the event loop after a pause: continue the line. */
static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct hp_shell *sh = arg;
    if (sh->paused && sh->fiber)
        after_switch(sh, hp_fiber_resume(sh->fiber));
}

/* The line has used its time slice (interp.h pause): let the event loop
 * serve what is ready (a zero timer runs after the I/O it finds ready) and
 * continue the line then.  Without an event loop (tests, fuzzers) or a
 * fiber of its own, the line goes on at once. */
static int64_t io_pause(void *arg)
{
    struct hp_shell *sh = arg;
    if (sh->cancelled || !hp_sensor.base || !hp_fiber_self() || sh->fiber != hp_fiber_self())
        return 0;
    if (!sh->resume_ev && !(sh->resume_ev = evtimer_new(hp_sensor.base, on_resume, sh)))
        return 0;
    /* while the outputs press, come back a little later, not at once */
    struct timeval when = { 0, hp_output_pressing() ? 20000 : 0 };
    int64_t t0 = hp_mono_ms();
    if (evtimer_add(sh->resume_ev, &when) != 0)
        return 0;
    sh->paused = true;
    flush(sh);                  /* what the line printed so far shows meanwhile */
    hp_fiber_yield();
    sh->paused = false;
    return hp_mono_ms() - t0;
}

static bool io_hold(void *arg)
{
    (void)arg;
    return hp_output_pressing();
}

static void io_event(void *arg, const char *eventid, const char *key, const char *value)
{
    struct hp_shell *sh = arg;
    struct hp_ev ev;
    hp_ev_begin(&ev, sh->ctx, eventid);
    if (key)
        hp_ev_str(&ev, key, value);
    finish_event(sh, &ev);
}
static void ld_echo(void *arg, const void *p, size_t n) { raw_out(arg, p, n); }

/* ---- identity and banner -------------------------------------------------------- */

static const char debian_motd[] =
    "\n"
    "The programs included with the Debian GNU/Linux system are free software;\n"
    "the exact distribution terms for each program are described in the\n"
    "individual files in /usr/share/doc/*/copyright.\n"
    "\n"
    "Debian GNU/Linux comes with ABSOLUTELY NO WARRANTY, to the extent\n"
    "permitted by applicable law.\n";

static char *copy_name(const char *s, const char *dflt)
{
    s = s && s[0] ? s : dflt;
    return strndup(s, SHELL_NAME_MAX);
}

/* Debian's default banner: "uname -snrvm" (update-motd.d/10-uname) + /etc/motd. */
static char *default_motd(const struct hp_interp_sys *sys)
{
    size_t n = strlen(sys->host) + strlen(sys->kernel_release) + strlen(sys->kernel_version) +
               strlen(sys->machine) + sizeof(debian_motd) + 16;
    char *m = hp_xcalloc(1, n);
    snprintf(m, n, "Linux %s %s %s %s\n%s", sys->host, sys->kernel_release, sys->kernel_version,
             sys->machine, debian_motd);
    return m;
}

/* Printed once; the texts are freed right after (sessions stay small). */
static void print_banner(struct hp_shell *sh)
{
    if (sh->motd)
        cooked_out(sh, sh->motd, strlen(sh->motd));
    free(sh->motd);
    sh->motd = NULL;
    if (!sh->last_from)
        return;
    int64_t us = sh->last_us ? sh->last_us
                             : hp_now_us() - (int64_t)(3600 + hp_random_u64() % (2 * 86400)) * 1000000;
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    char when[64], line[512];
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", &tm);
    int n = snprintf(line, sizeof(line), "Last login: %s from %s\n", when, sh->last_from);
    if (n > 0)
        cooked_out(sh, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    free(sh->last_from);
    sh->last_from = NULL;
}

static void prompt(struct hp_shell *sh)
{
    char p[8192];
    size_t n = hp_interp_incomplete(sh->it) ? (size_t)snprintf(p, sizeof(p), "> ")
                                            : hp_interp_prompt(sh->it, p, sizeof(p));
    if (sh->fancy)
        raw_puts(sh, BP_ON);
    raw_out(sh, p, n);
}

/* ---- life cycle ------------------------------------------------------------------ */

/* A client's terminal dimension, bounded (shell.h HP_SHELL_*_MAX). */
_Static_assert(HP_SHELL_COLS_MAX == HP_INTERP_COLS_MAX, "one column bound for the shell and its programs");
_Static_assert(HP_SHELL_ROWS_MAX == HP_INTERP_ROWS_MAX, "one row bound for the shell and its programs");
static unsigned shell_clamp(unsigned v, unsigned max)
{
    return v > max ? max : v;
}

struct hp_shell *hp_shell_new(const struct hp_shell_params *p)
{
    if (!p)
        return NULL;
    const struct hp_persona *pe = hp_persona_get(p->personality ? p->personality : "debian");
    if (!pe)
        return NULL;
    struct hp_shell *sh = hp_xcalloc(1, sizeof(*sh));
    char *user = copy_name(p->username, "root");
    char *host = copy_name(p->hostname, pe->hostname);
    const char *ip = p->ctx && p->ctx->dst_ip[0] && strcmp(p->ctx->dst_ip, "unknown") != 0 ? p->ctx->dst_ip : NULL;
    const char *client = p->ctx && p->ctx->src_ip[0] && strcmp(p->ctx->src_ip, "unknown") != 0 ? p->ctx->src_ip : NULL;
    struct hp_interp_sys sys = {
        .user = user, .host = host,
        .kernel_release = pe->kernel_release,
        .kernel_version = pe->kernel_version,
        .machine = pe->machine,
        .term = p->term_type,
        .ip = ip,
        .persona = pe,
        .client_ip = client,
        .tty = p->interactive || p->pty ? (p->tty ? p->tty : "pts/0") : NULL,
        .protocol = p->ctx ? p->ctx->protocol : NULL,
        .width = shell_clamp(p->width, HP_SHELL_COLS_MAX),
        .height = shell_clamp(p->height, HP_SHELL_ROWS_MAX),
    };
    struct hp_interp_io io = {
        .write = io_write, .failed = io_failed, .command = io_command, .captured = io_captured,
        .fetch = io_fetch, .event = io_event, .pause = io_pause, .hold = io_hold, .arg = sh,
        .write_err = !p->interactive && p->term.write_err ? io_write_err : NULL,
    };
    sh->term = p->term;
    sh->ctx = p->ctx;
    sh->onlcr = p->interactive || p->pty;
    sh->interactive = p->interactive;
    /* bash's readline on a capable terminal (bracketed paste); busybox ash
     * sends no such sequences */
    sh->fancy = !(p->term_type && strcmp(p->term_type, "dumb") == 0) && !pe->busybox;
    sh->width = shell_clamp(p->width, HP_SHELL_COLS_MAX);
    sh->height = shell_clamp(p->height, HP_SHELL_ROWS_MAX);
    sh->data_dir = p->data_dir ? hp_xstrdup(p->data_dir) : NULL;
    hp_buf_init(&sh->argv, SHELL_ARGV_BYTES);
    sh->it = hp_interp_new(&sys, &io);
    hp_buf_init(&sh->out, 2 * SHELL_FLUSH_AT);
    hp_buf_init(&sh->script, SHELL_SCRIPT_LINE);
    hp_buf_init(&sh->inq, SHELL_INQ_MAX);
    if (sh->interactive)
        hp_ld_init(&sh->ld, sh->fancy, ld_echo, sh);
    /* Debian's login prints the uname line and its motd; busybox devices
     * rarely have an /etc/motd. */
    const char *dflt_motd = pe->busybox ? "" : NULL;
    const char *motd = p->motd ? p->motd : dflt_motd;
    sh->motd = !motd ? default_motd(&sys) : motd[0] ? hp_xstrdup(motd) : NULL;
    sh->last_from = p->last_login_from ? strndup(p->last_login_from, SHELL_NAME_MAX) : NULL;
    sh->last_us = p->last_login_us;
    free(user);
    free(host);
    return sh;
}

static void cancel_work(struct hp_shell *sh);

void hp_shell_free(struct hp_shell *sh)
{
    if (!sh)
        return;
    cancel_work(sh);
    if (sh->resume_ev)
        event_free(sh->resume_ev);
    sh->in_line = false;
    hp_interp_free(sh->it);       /* may capture files: events go out at once */
    for (size_t i = 0; i < sh->npending; i++)
        hp_event_unref(sh->pending[i]);
    free(sh->pending);
    hp_buf_free(&sh->argv);
    free(sh->data_dir);
    hp_ld_free(&sh->ld);
    hp_buf_free(&sh->out);
    hp_buf_free(&sh->script);
    hp_buf_free(&sh->inq);
    free(sh->exec);
    free(sh->motd);
    free(sh->last_from);
    free(sh);
}

/* Flush, and if the shell has ended, call term.exit: nothing may touch sh after. */
static void settle(struct hp_shell *sh)
{
    flush(sh);
    if (!sh->done)
        return;
    struct hp_term t = sh->term;
    int status = sh->status;
    sh->term.exit = NULL;       /* exactly once */
    if (t.exit)
        t.exit(t.io, status);
}

static void end(struct hp_shell *sh)
{
    sh->done = true;
    sh->status = hp_interp_status(sh->it);
}

/* Run one line in a mode; ends the shell if the interpreter says so. */
static void run(struct hp_shell *sh, enum hp_interp_mode mode, unsigned lineno, const uint8_t *p, size_t n)
{
    if (!hp_interp_line(sh->it, mode, lineno, p, n))
        end(sh);
}

/* A line typed or read: blank ones matter only inside an open construct
 * (a here-document body); every other one is run and reported. */
static void run_reported(struct hp_shell *sh, enum hp_interp_mode mode, unsigned lineno,
                         const uint8_t *p, size_t n)
{
    bool is_blank = blank(p, n);
    if (is_blank && !hp_interp_incomplete(sh->it))
        return;
    if (is_blank) {
        run(sh, mode, lineno, p, n);
        return;
    }
    line_begin(sh);
    run(sh, mode, lineno, p, n);
    line_done(sh, p, n);
}

void hp_shell_start(struct hp_shell *sh)
{
    if (!sh || sh->done || !sh->interactive)
        return;
    print_banner(sh);
    prompt(sh);
    settle(sh);
}

/* ---- interactive ------------------------------------------------------------------ */

static void on_line(struct hp_shell *sh)
{
    size_t n;
    const uint8_t *line = hp_ld_line(&sh->ld, &n);
    if (sh->fancy)
        raw_puts(sh, BP_OFF);
    run_reported(sh, HP_INTERP_INTERACTIVE, 0, line, n);
    if (!sh->done)
        prompt(sh);
}

static void on_intr(struct hp_shell *sh)
{
    raw_puts(sh, sh->fancy ? BP_OFF BP_ON BP_OFF "\r\n" : "\r\n");
    hp_interp_set_status(sh->it, 130);
    prompt(sh);
}

/* ^D on an empty line: a login bash says "logout" and exits with $?. */
static void on_eof_key(struct hp_shell *sh)
{
    raw_puts(sh, sh->fancy ? BP_OFF "\r\nlogout\r\n" : "logout\r\n");
    end(sh);
}

static void on_clear(struct hp_shell *sh)
{
    raw_puts(sh, sh->fancy ? "\x1b[H\x1b[2J" : "\r\n");
    char p[8192];
    raw_out(sh, p, hp_interp_prompt(sh->it, p, sizeof(p)));
    hp_ld_redraw(&sh->ld);
}

static void interactive_input(struct hp_shell *sh, const uint8_t *data, size_t len)
{
    while (len > 0 && !sh->done && !sh->cancelled) {
        size_t used;
        enum hp_ld_event ev = hp_ld_feed(&sh->ld, data, len, &used);
        data += used;
        len -= used;
        switch (ev) {
        case HP_LD_LINE: on_line(sh); break;
        case HP_LD_INTR: on_intr(sh); break;
        case HP_LD_EOF: on_eof_key(sh); break;
        case HP_LD_CLEAR: on_clear(sh); break;
        case HP_LD_NONE: break;
        }
    }
}

/* ---- script (stdin without a pty) ------------------------------------------------- */

static void script_line(struct hp_shell *sh)
{
    const uint8_t *p = sh->script.data;
    size_t n = sh->script.len;
    sh->script_lineno++;
    run_reported(sh, HP_INTERP_SCRIPT, sh->script_lineno, p, n);
    hp_buf_reset(&sh->script);
    sh->script_over = false;
}

static void script_input(struct hp_shell *sh, const uint8_t *data, size_t len)
{
    struct hp_rd r;
    hp_rd_init(&r, data, len);
    while (hp_rd_left(&r) > 0 && !sh->done && !sh->cancelled) {
        long nl = hp_rd_find(&r, "\n", 1);
        size_t n = nl < 0 ? hp_rd_left(&r) : (size_t)nl;
        const uint8_t *p = hp_rd_bytes(&r, n);
        size_t room = sh->script.cap - sh->script.len;
        if (!sh->script_over)
            hp_buf_put(&sh->script, p, n < room ? n : room);
        if (n > room)
            sh->script_over = true;     /* the rest of an overlong line is dropped */
        if (nl < 0)
            break;
        hp_rd_skip(&r, 1);
        script_line(sh);
    }
}

/* ---- the work loop, on a fiber ------------------------------------------------------- */

static void exec_now(struct hp_shell *sh, const uint8_t *p, size_t len)
{
    bool report = !blank(p, len);
    if (report)
        line_begin(sh);
    struct hp_rd r;
    hp_rd_init(&r, p, len);
    for (unsigned lineno = 1; hp_rd_left(&r) > 0 && !sh->done && !sh->cancelled; lineno++) {
        long nl = hp_rd_find(&r, "\n", 1);
        size_t n = nl < 0 ? hp_rd_left(&r) : (size_t)nl;
        const uint8_t *line = hp_rd_bytes(&r, n);
        hp_rd_skip(&r, nl < 0 ? 0 : 1);
        run(sh, HP_INTERP_EXEC, lineno, line, n);
    }
    if (!sh->done && !hp_interp_eof(sh->it, HP_INTERP_EXEC))
        end(sh);
    if (report)
        line_done(sh, p, len);
    end(sh);
}

static void eof_now(struct hp_shell *sh)
{
    if (!sh->interactive && (sh->script.len > 0 || sh->script_over))
        script_line(sh);        /* a last line without a newline still runs */
    if (!sh->done && !sh->interactive)
        hp_interp_eof(sh->it, HP_INTERP_SCRIPT);   /* an open construct is an error now */
    end(sh);
}

/* Everything queued, in order: the exec command, input, then EOF.  Input
 * that arrives while a line waits is taken by the next turn of the loop. */
static void work(void *arg)
{
    struct hp_shell *sh = arg;
    hp_interp_turn(sh->it);     /* the lines below share one slice: a packet of short lines pauses too */
    while (!sh->done && !sh->cancelled) {
        if (sh->exec) {
            char *cmd = sh->exec;
            sh->exec = NULL;
            exec_now(sh, (const uint8_t *)cmd, sh->exec_len);
            free(cmd);
        } else if (sh->inq.len > 0) {
            struct hp_buf chunk = sh->inq;
            hp_buf_init(&sh->inq, SHELL_INQ_MAX);
            if (sh->interactive)
                interactive_input(sh, chunk.data, chunk.len);
            else
                script_input(sh, chunk.data, chunk.len);
            hp_buf_free(&chunk);
        } else if (sh->eof_pending) {
            sh->eof_pending = false;
            eof_now(sh);
        } else {
            break;
        }
    }
}

static bool has_work(const struct hp_shell *sh)
{
    return !sh->done && (sh->exec || sh->inq.len > 0 || sh->eof_pending);
}

/* After the fiber returned or yielded.  Finished: the shell may end here
 * (settle calls term.exit, which may free sh). */
static void after_switch(struct hp_shell *sh, bool finished)
{
    if (!finished) {
        flush(sh);
        return;
    }
    hp_fiber_put(sh->fiber);
    sh->fiber = NULL;
    if (has_work(sh) && !sh->cancelled) {
        struct hp_fiber *f = hp_fiber_get();     /* what came in during the last turn */
        if (f) {
            sh->fiber = f;
            after_switch(sh, hp_fiber_start(f, work, sh));
            return;
        }
    }
    settle(sh);
}

/* Run the queued work unless a suspended line is in the way. */
static void pump(struct hp_shell *sh)
{
    if (sh->fiber || sh->cancelled)
        return;
    struct hp_fiber *f = hp_fiber_get();
    if (!f) {                   /* no stack: run here; downloads cannot wait */
        work(sh);
        settle(sh);
        return;
    }
    sh->fiber = f;
    after_switch(sh, hp_fiber_start(f, work, sh));
}

/* The session is going away with a line suspended: the wait ends (the
 * download goes on and is still logged), the line runs to its end at once
 * with its deadline passed, and its events are published. */
static void cancel_work(struct hp_shell *sh)
{
    sh->cancelled = true;
    sh->term.write = NULL;
    sh->term.write_err = NULL;
    sh->term.exit = NULL;
    if (sh->resume_ev)
        evtimer_del(sh->resume_ev);
    if (!sh->fiber)
        return;
    hp_capture_cancel(sh->wait);
    sh->wait = NULL;
    memset(&sh->got, 0, sizeof(sh->got));
    snprintf(sh->got.reason, sizeof(sh->got.reason), "cancelled");
    hp_interp_abort(sh->it);
    for (int i = 0; i < 1000 && !hp_fiber_resume(sh->fiber); i++)
        ;
    hp_fiber_put(sh->fiber);
    sh->fiber = NULL;
}

void hp_shell_input(struct hp_shell *sh, const uint8_t *data, size_t len)
{
    if (!sh || sh->done || !data || sh->cancelled)
        return;
    if (!hp_buf_put(&sh->inq, data, len)) {
        size_t room = sh->inq.cap - sh->inq.len;
        hp_buf_put(&sh->inq, data, room);
        sh->inq_overflow = true;        /* a tty's buffer overflows the same way */
    }
    pump(sh);
}

/* ---- exec and end of input ---------------------------------------------------------- */

void hp_shell_exec(struct hp_shell *sh, const char *cmdline, size_t len)
{
    if (!sh || sh->done || sh->cancelled || sh->exec)
        return;
    if (!cmdline)
        len = 0;
    sh->exec = malloc(len + 1);
    if (!sh->exec)
        return;
    if (len)
        memcpy(sh->exec, cmdline, len);
    sh->exec[len] = '\0';
    sh->exec_len = len;
    pump(sh);
}

void hp_shell_eof(struct hp_shell *sh)
{
    if (!sh || sh->done || sh->cancelled)
        return;
    sh->eof_pending = true;
    pump(sh);
}

void hp_shell_resize(struct hp_shell *sh, unsigned width, unsigned height)
{
    if (!sh)
        return;
    sh->width = shell_clamp(width, HP_SHELL_COLS_MAX);
    sh->height = shell_clamp(height, HP_SHELL_ROWS_MAX);
    hp_interp_set_size(sh->it, sh->width, sh->height);
}
