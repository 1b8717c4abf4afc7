/*
 * sshproxy.c - SSH proxy mode: the backend client session.  See sshproxy.h.
 *
 * Design: one libssh client session per proxied connection, in libssh's
 * non-blocking mode on a socket we connected ourselves (SSH_OPTIONS_FD), so
 * no call ever waits: px_step() re-enters whatever call is pending
 * (ssh_connect, ssh_userauth_password, then per channel
 * ssh_channel_open_session and the requests) each time libevent says the
 * backend socket is readable or writable, and each call that answers
 * SSH_AGAIN is simply repeated later.  Once logged in, the session is polled
 * through an ssh_event and the backend's data, EOF, exit status and close
 * arrive as channel callbacks.  A timer bounds everything up to the login.
 *
 * Client -> backend bytes wait in a per-channel buffer until the backend
 * channel is open and its window allows; the same bytes are observed on the
 * way (line discipline for commands, scp sink / sftp tap for uploads).
 * Backend -> client bytes go straight to ssh.c, which queues them within
 * the client's window and pauses us (hp_sshproxy_pause: no polling at all,
 * so TCP holds the backend back) while that queue is long.
 */
#include <errno.h>
#include <event2/event.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "backend.h"
#include "buf.h"
#include "event.h"
#include "log.h"
#include "sensor.h"
#include "util.h"
#include "../capture/capture.h"
#include "../shell/linedisc.h"
#include "sshfile.h"
#include "sshproxy.h"
#include "sshproxy_sftp.h"

#define SSHPROXY_TOBK_MAX   (8u << 20)    /* client bytes waiting for the backend, per channel */
#define SSHPROXY_LINE_MAX   4096          /* pty-less shell input line kept for command.input */
#define SSHPROXY_MAX_CHANS  8

enum px_phase { PX_TCP, PX_KEX, PX_AUTH, PX_READY, PX_FAILED };

struct hp_sshproxy {
    struct hp_sshproxy_params p;
    enum px_phase phase;
    int fd;
    bool fd_given;                        /* libssh owns (and closes) the socket */
    ssh_session s;
    ssh_event sev;
    struct event *ev_rd, *ev_wr, *ev_to;
    uint64_t to_backend, from_backend;    /* channel bytes relayed */
    int64_t start_ms;
    bool dead;                            /* backend session lost after login */
    bool closed_logged;
    bool paused;                          /* the client is behind: ev_rd is off */
    struct hp_sshproxy_chan *chans[SSHPROXY_MAX_CHANS];
};

enum pc_phase { PC_OPEN, PC_PTY, PC_REQ, PC_RUN, PC_DONE };

struct hp_sshproxy_chan {
    struct hp_sshproxy *px;
    struct hp_sshproxy_chan_params p;
    char *command, *term;
    enum pc_phase phase;
    ssh_channel ch;
    struct ssh_channel_callbacks_struct cb;
    struct hp_buf tobk;                   /* client bytes not yet written to the backend */
    bool eof_in, eof_sent;
    int exit_status;
    char *exit_signal;
    bool exited;                          /* p.exit was called */
    /* observers of the client's bytes */
    bool ld_on;
    struct hp_ld ld;                      /* pty shell: keystrokes -> lines */
    struct hp_buf line;                   /* pty-less shell: stdin lines */
    struct hp_sshfile *scp;               /* "scp -t": a shadow sink that only captures */
    struct hp_sftptap *sftp;              /* sftp: uploads seen in the request stream */
};

static void px_step(struct hp_sshproxy *px);

/* ---- events ------------------------------------------------------------------------ */

static void px_fallback(struct hp_sshproxy *px, const char *reason)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, px->p.ctx, "proxy.fallback");
    hp_ev_str(&ev, "backend", px->p.backend->spec ? px->p.backend->spec : "");
    hp_ev_str(&ev, "reason", reason);
    hp_ev_str(&ev, "fallback", "ssh");    /* the module that serves instead (as the TCP relay says) */
    hp_ev_emit(&ev);
}

/* proxy.connect, as the TCP relay reports it: result "ok" or why not. */
static void px_ev_connect(struct hp_sshproxy *px, const char *result)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, px->p.ctx, "proxy.connect");
    hp_ev_str(&ev, "backend", px->p.backend->spec ? px->p.backend->spec : "");
    hp_ev_str(&ev, "result", result);
    int64_t ms = hp_mono_ms() - px->start_ms;
    hp_ev_uint(&ev, "connect_ms", ms > 0 ? (uint64_t)ms : 0);
    hp_ev_str(&ev, "protocol_detail", "ssh");
    hp_ev_emit(&ev);
}

/* proxy.closed once per proxied session: at its end, or when the backend is lost. */
static void px_ev_closed(struct hp_sshproxy *px, const char *reason)
{
    if (px->closed_logged)
        return;
    px->closed_logged = true;
    struct hp_ev ev;
    hp_ev_begin(&ev, px->p.ctx, "proxy.closed");
    hp_ev_str(&ev, "backend", px->p.backend->spec ? px->p.backend->spec : "");
    hp_ev_uint(&ev, "bytes_to_backend", px->to_backend);
    hp_ev_uint(&ev, "bytes_from_backend", px->from_backend);
    hp_ev_str(&ev, "reason", reason);
    hp_ev_emit(&ev);
}

/* The backend's host key is accepted as it is (it is the operator's machine);
 * its fingerprint is logged once per service, and again if it changes. */
static void px_log_hostkey(struct hp_sshproxy *px)
{
    ssh_key key = NULL;
    unsigned char *hash = NULL;
    size_t hlen = 0;
    if (ssh_get_server_publickey(px->s, &key) != SSH_OK)
        return;
    if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == SSH_OK) {
        char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
        if (fp && px->p.hostkey_seen && strncmp(px->p.hostkey_seen, fp, px->p.hostkey_seen_len) != 0) {
            snprintf(px->p.hostkey_seen, px->p.hostkey_seen_len, "%s", fp);
            hp_info("ssh proxy: backend %s host key %s %s", px->p.backend->spec,
                    ssh_key_type_to_char(ssh_key_type(key)), fp);
            struct hp_ev ev;
            hp_ev_begin(&ev, px->p.ctx, "proxy.hostkey");
            hp_ev_str(&ev, "backend", px->p.backend->spec);
            hp_ev_str(&ev, "key_type", ssh_key_type_to_char(ssh_key_type(key)));
            hp_ev_str(&ev, "fingerprint", fp);
            hp_ev_emit(&ev);
        }
        ssh_string_free_char(fp);
        ssh_clean_pubkey_hash(&hash);
    }
    ssh_key_free(key);
}

static void px_command(struct hp_sshproxy_chan *pc, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n && strchr(" \t\r\n", b[n - 1]) && b[n - 1])
        n--;
    size_t i = 0;
    while (i < n && (b[i] == ' ' || b[i] == '\t'))
        i++;
    if (i == n)
        return;                       /* blank lines are not commands (as in the emulation) */
    struct hp_ev ev;
    hp_ev_begin(&ev, pc->px->p.ctx, "command.input");
    hp_ev_bytes(&ev, "input", b, n);
    hp_ev_bool(&ev, "proxied", true);
    hp_ev_emit(&ev);
    hp_capture_scan(pc->px->p.ctx, b, n, "ssh-proxy");
}

/* ---- session life ------------------------------------------------------------------ */

static void px_arm(struct hp_sshproxy *px)
{
    if (px->phase == PX_FAILED || px->dead || px->paused)
        return;
    bool want_wr = px->phase == PX_TCP || (px->s && (ssh_get_poll_flags(px->s) & SSH_WRITE_PENDING));
    if (want_wr)
        event_add(px->ev_wr, NULL);
}

static void chan_end(struct hp_sshproxy_chan *pc, int status, const char *sig)
{
    if (pc->exited)
        return;
    pc->exited = true;
    pc->phase = PC_DONE;
    pc->p.exit(pc->p.io, status, sig);
}

static void px_fail(struct hp_sshproxy *px, const char *reason)
{
    enum px_phase was = px->phase;
    px->phase = PX_FAILED;
    event_del(px->ev_rd);
    event_del(px->ev_wr);
    event_del(px->ev_to);
    if (was != PX_READY) {
        hp_info("ssh proxy: %s: backend %s: %s%s%s", px->p.ctx->session, px->p.backend->spec, reason,
                px->s ? ": " : "", px->s ? ssh_get_error(px->s) : "");
        px_ev_connect(px, reason);
        px_fallback(px, reason);
        px->p.on_state(px->p.arg, HP_SSHPROXY_FAILED);
        return;
    }
    /* Lost after login: the channels end as sshd's would when killed. */
    px->dead = true;
    px_ev_closed(px, reason);
    for (int i = 0; i < SSHPROXY_MAX_CHANS; i++)
        if (px->chans[i])
            chan_end(px->chans[i], 255, NULL);
}

static void px_tcp_done(struct hp_sshproxy *px)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(px->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err) {
        px_fail(px, err == ECONNREFUSED ? "connect-refused" : "connect-error");
        return;
    }
    px->phase = PX_KEX;
}

static void chan_step(struct hp_sshproxy_chan *pc);

static void px_login_done(struct hp_sshproxy *px)
{
    px->phase = PX_READY;
    event_del(px->ev_to);
    px->sev = ssh_event_new();
    if (!px->sev || ssh_event_add_session(px->sev, px->s) != SSH_OK) {
        px->phase = PX_AUTH;              /* still a failure before use: fall back */
        px_fail(px, "resource-error");
        return;
    }
    px_ev_connect(px, "ok");
    px->p.on_state(px->p.arg, HP_SSHPROXY_READY);
}

static void px_step(struct hp_sshproxy *px)
{
    int rc;
    switch (px->phase) {
    case PX_TCP:
        return;                       /* px_tcp_done on writability */
    case PX_KEX:
        px->fd_given = true;
        rc = ssh_connect(px->s);
        if (rc == SSH_AGAIN)
            break;
        if (rc != SSH_OK) {
            px_fail(px, "ssh-error");
            return;
        }
        px_log_hostkey(px);
        px->phase = PX_AUTH;
        /* fall through */
    case PX_AUTH:
        rc = ssh_userauth_password(px->s, NULL, px->p.backend->password ? px->p.backend->password : "");
        if (rc == SSH_AUTH_AGAIN)
            break;
        if (rc != SSH_AUTH_SUCCESS) {
            px_fail(px, rc == SSH_AUTH_ERROR ? "ssh-error" : "auth-failed");
            return;
        }
        px_login_done(px);
        return;
    case PX_READY:
        if (px->dead)
            return;
        rc = ssh_event_dopoll(px->sev, 0);
        if (rc == SSH_ERROR || (ssh_get_status(px->s) & (SSH_CLOSED | SSH_CLOSED_ERROR))) {
            px_fail(px, "backend-closed");
            return;
        }
        for (int i = 0; i < SSHPROXY_MAX_CHANS; i++)
            if (px->chans[i])
                chan_step(px->chans[i]);
        break;
    case PX_FAILED:
        return;
    }
    px_arm(px);
}

static void px_io_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hp_sshproxy *px = arg;
    if (px->paused)
        return;                       /* polling would read the backend too: wait for the resume */
    if (px->phase == PX_TCP && (what & EV_WRITE))
        px_tcp_done(px);
    px_step(px);
}

static void px_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hp_sshproxy *px = arg;
    if (px->phase != PX_READY && px->phase != PX_FAILED)
        px_fail(px, "connect-timeout");
}

struct hp_sshproxy *hp_sshproxy_new(const struct hp_sshproxy_params *p)
{
    struct hp_sshproxy *px = hp_xcalloc(1, sizeof(*px));
    const char *why = NULL;
    px->p = *p;
    px->start_ms = hp_mono_ms();
    px->fd = hp_backend_connect(p->backend, &why);
    if (px->fd < 0) {
        px_ev_connect(px, why ? why : "connect-error");
        px_fallback(px, why ? why : "connect-error");
        free(px);
        return NULL;
    }
    evutil_make_socket_nonblocking(px->fd);
    px->s = ssh_new();
    long tmo = 10;
    bool no = false;
    int verb = SSH_LOG_NOLOG;
    socket_t sfd = px->fd;
    if (!px->s || ssh_options_set(px->s, SSH_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
        ssh_options_set(px->s, SSH_OPTIONS_LOG_VERBOSITY, &verb) != SSH_OK ||
        ssh_options_set(px->s, SSH_OPTIONS_HOST, "backend") != SSH_OK ||
        ssh_options_set(px->s, SSH_OPTIONS_USER, p->backend->user ? p->backend->user : "root") != SSH_OK ||
        ssh_options_set(px->s, SSH_OPTIONS_TIMEOUT, &tmo) != SSH_OK ||
        ssh_options_set(px->s, SSH_OPTIONS_FD, &sfd) != SSH_OK) {
        px_fallback(px, "resource-error");
        if (px->s)
            ssh_free(px->s);
        close(px->fd);
        free(px);
        return NULL;
    }
    ssh_set_blocking(px->s, 0);
    px->ev_rd = event_new(hp_sensor.base, px->fd, EV_READ | EV_PERSIST, px_io_cb, px);
    px->ev_wr = event_new(hp_sensor.base, px->fd, EV_WRITE, px_io_cb, px);
    px->ev_to = evtimer_new(hp_sensor.base, px_timeout_cb, px);
    uint64_t ms = p->backend->connect_timeout_ms ? p->backend->connect_timeout_ms : 5000;
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
    event_add(px->ev_to, &tv);
    event_add(px->ev_rd, NULL);
    px->phase = PX_TCP;
    px_arm(px);                       /* writable = connected (or failed: SO_ERROR) */
    return px;
}

void hp_sshproxy_pause(struct hp_sshproxy *px, bool paused)
{
    if (!px || px->paused == paused || px->phase != PX_READY || px->dead)
        return;
    px->paused = paused;
    if (paused) {
        event_del(px->ev_rd);
        event_del(px->ev_wr);
        return;
    }
    event_add(px->ev_rd, NULL);
    px_step(px);                      /* what libssh already read is delivered now */
}

bool hp_sshproxy_paused(const struct hp_sshproxy *px)
{
    return px && px->paused;
}

enum hp_sshproxy_state hp_sshproxy_state(const struct hp_sshproxy *px)
{
    if (!px || px->phase == PX_FAILED)
        return HP_SSHPROXY_FAILED;
    return px->phase == PX_READY ? HP_SSHPROXY_READY : HP_SSHPROXY_CONNECTING;
}

void hp_sshproxy_free(struct hp_sshproxy *px)
{
    if (!px)
        return;
    for (int i = 0; i < SSHPROXY_MAX_CHANS; i++)
        if (px->chans[i])
            hp_sshproxy_chan_free(px->chans[i]);
    if (px->ev_rd)
        event_free(px->ev_rd);
    if (px->ev_wr)
        event_free(px->ev_wr);
    if (px->ev_to)
        event_free(px->ev_to);
    if (px->sev) {
        ssh_event_remove_session(px->sev, px->s);
        ssh_event_free(px->sev);
    }
    if (px->phase == PX_READY)
        px_ev_closed(px, "closed");
    if (px->s) {
        if (px->phase == PX_READY && !px->dead)
            ssh_disconnect(px->s);
        ssh_free(px->s);              /* closes the socket once ssh_connect took it */
    }
    if (!px->fd_given && px->fd >= 0)
        close(px->fd);
    free(px);
}

/* ---- channels ---------------------------------------------------------------------- */

static int bk_data(ssh_session s, ssh_channel c, void *data, uint32_t len, int is_stderr, void *ud)
{
    struct hp_sshproxy_chan *pc = ud;
    struct hp_sshproxy *px = pc->px;
    if (pc->sftp)
        hp_sftptap_server(pc->sftp, data, len);
    px->from_backend += len;
    if (!pc->exited)
        pc->p.write(pc->p.io, data, len, is_stderr != 0);
    return (int)len;
}

static void bk_exit_status(ssh_session s, ssh_channel c, int status, void *ud)
{
    struct hp_sshproxy_chan *pc = ud;
    pc->exit_status = status;
}

static void bk_exit_signal(ssh_session s, ssh_channel c, const char *sig, int core, const char *msg,
                           const char *lang, void *ud)
{
    struct hp_sshproxy_chan *pc = ud;
    free(pc->exit_signal);
    pc->exit_signal = hp_xstrdup(sig ? sig : "KILL");
}

static void bk_close(ssh_session s, ssh_channel c, void *ud)
{
    struct hp_sshproxy_chan *pc = ud;
    chan_end(pc, pc->exit_status, pc->exit_signal);
}

/* Write what the backend's window allows, then the client's EOF behind it. */
static void chan_flush(struct hp_sshproxy_chan *pc)
{
    while (pc->tobk.len > 0) {
        uint32_t n = pc->tobk.len > 32768 ? 32768 : (uint32_t)pc->tobk.len;
        int w = ssh_channel_write(pc->ch, pc->tobk.data, n);
        if (w < 0) {
            chan_end(pc, 255, NULL);
            return;
        }
        if (w == 0)
            return;                   /* window closed: an adjust brings us back */
        hp_buf_consume(&pc->tobk, (size_t)w);
        pc->px->to_backend += (uint64_t)w;
    }
    if (pc->eof_in && !pc->eof_sent) {
        pc->eof_sent = true;
        ssh_channel_send_eof(pc->ch);
    }
    if (pc->tobk.len < SSHPROXY_TOBK_LOW && pc->p.drained && !pc->exited)
        pc->p.drained(pc->p.io);
}

static void chan_step(struct hp_sshproxy_chan *pc)
{
    struct hp_sshproxy *px = pc->px;
    int rc = SSH_OK;
    if (pc->exited || px->phase != PX_READY || px->dead)
        return;
    switch (pc->phase) {
    case PC_OPEN:
        rc = ssh_channel_open_session(pc->ch);
        if (rc != SSH_OK)
            break;
        pc->phase = pc->p.pty ? PC_PTY : PC_REQ;
        if (pc->phase == PC_REQ)
            goto req;
        /* fall through */
    case PC_PTY:
        rc = ssh_channel_request_pty_size(pc->ch, pc->term, (int)pc->p.width, (int)pc->p.height);
        if (rc != SSH_OK)
            break;
        pc->phase = PC_REQ;
        /* fall through */
    case PC_REQ:
    req:
        if (pc->p.kind == HP_SSHPROXY_SHELL)
            rc = ssh_channel_request_shell(pc->ch);
        else if (pc->p.kind == HP_SSHPROXY_EXEC)
            rc = ssh_channel_request_exec(pc->ch, pc->command);
        else
            rc = ssh_channel_request_subsystem(pc->ch, "sftp");
        if (rc != SSH_OK)
            break;
        pc->phase = PC_RUN;
        /* fall through */
    case PC_RUN:
        chan_flush(pc);
        break;
    case PC_DONE:
        break;
    }
    if (rc == SSH_ERROR) {
        hp_info("ssh proxy: %s: backend channel refused: %s", px->p.ctx->session, ssh_get_error(px->s));
        chan_end(pc, 255, NULL);
    }
}

static void ld_echo(void *arg, const void *data, size_t len)
{
    (void)arg, (void)data, (void)len;     /* the backend's shell echoes, not us */
}

static void file_write_null(void *io, const void *data, size_t len)
{
    (void)io, (void)data, (void)len;      /* the backend answers the client */
}

static void file_exit_null(void *io, int status)
{
    (void)io, (void)status;
}

struct hp_sshproxy_chan *hp_sshproxy_chan_new(struct hp_sshproxy *px, const struct hp_sshproxy_chan_params *p)
{
    int slot = -1;
    for (int i = 0; i < SSHPROXY_MAX_CHANS && slot < 0; i++)
        if (!px->chans[i])
            slot = i;
    if (slot < 0 || px->phase != PX_READY || px->dead)
        return NULL;
    ssh_channel ch = ssh_channel_new(px->s);
    if (!ch)
        return NULL;
    struct hp_sshproxy_chan *pc = hp_xcalloc(1, sizeof(*pc));
    pc->px = px;
    pc->p = *p;
    pc->ch = ch;
    pc->command = p->command ? hp_xstrdup(p->command) : NULL;
    pc->term = hp_xstrdup(p->term && p->term[0] ? p->term : "xterm");
    pc->p.command = pc->command;
    pc->p.term = pc->term;
    if (!pc->p.width || pc->p.width > 9999)
        pc->p.width = 80;
    if (!pc->p.height || pc->p.height > 9999)
        pc->p.height = 24;
    hp_buf_init(&pc->tobk, SSHPROXY_TOBK_MAX);
    hp_buf_init(&pc->line, SSHPROXY_LINE_MAX);
    pc->cb.userdata = pc;
    pc->cb.channel_data_function = bk_data;
    pc->cb.channel_exit_status_function = bk_exit_status;
    pc->cb.channel_exit_signal_function = bk_exit_signal;
    pc->cb.channel_close_function = bk_close;
    ssh_callbacks_init(&pc->cb);
    ssh_set_channel_callbacks(ch, &pc->cb);
    px->chans[slot] = pc;

    struct hp_sshfile_params fp = {
        .ctx = px->p.ctx,
        .data_dir = px->p.data_dir,
        .username = p->username,
        .write = file_write_null,
        .exit = file_exit_null,
        .io = pc,
    };
    if (p->kind == HP_SSHPROXY_EXEC) {
        px_command(pc, pc->command, strlen(pc->command));
        pc->scp = hp_scp_sink_new(&fp, pc->command);   /* NULL unless "scp -t/-f" */
        if (pc->scp)
            hp_sshfile_start(pc->scp);
    } else if (p->kind == HP_SSHPROXY_SFTP) {
        pc->sftp = hp_sftptap_new(px->p.ctx, px->p.data_dir);
    } else if (p->pty) {
        hp_ld_init(&pc->ld, strcmp(pc->term, "dumb") != 0, ld_echo, pc);
        pc->ld_on = true;
    }
    chan_step(pc);
    px_arm(px);
    return pc;
}

/* A pty shell's keystrokes, read as bash's readline would: one event per line. */
static void observe_pty(struct hp_sshproxy_chan *pc, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t used = 0;
        enum hp_ld_event e = hp_ld_feed(&pc->ld, p, n, &used);
        if (e == HP_LD_LINE) {
            size_t len;
            const uint8_t *l = hp_ld_line(&pc->ld, &len);
            px_command(pc, l, len);
        }
        if (used == 0 && e == HP_LD_NONE)
            break;
        p += used;
        n -= used;
    }
}

/* A pty-less shell reads a script from stdin: each line is a command. */
static void observe_lines(struct hp_sshproxy_chan *pc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            px_command(pc, pc->line.data, pc->line.len);
            hp_buf_reset(&pc->line);
        } else if (!hp_buf_putc(&pc->line, p[i])) {
            pc->line.full = false;        /* an over-long line is kept cut */
        }
    }
}

void hp_sshproxy_chan_input(struct hp_sshproxy_chan *pc, const void *data, size_t len)
{
    if (!pc || pc->exited || !len)
        return;
    if (pc->ld_on)
        observe_pty(pc, data, len);
    else if (pc->p.kind == HP_SSHPROXY_SHELL)
        observe_lines(pc, data, len);
    if (pc->scp)
        hp_sshfile_input(pc->scp, data, len);
    if (pc->sftp)
        hp_sftptap_client(pc->sftp, data, len);
    if (!hp_buf_put(&pc->tobk, data, len)) {
        hp_warn("ssh proxy: %s: backend does not read; channel cut", pc->px->p.ctx->session);
        chan_end(pc, 255, NULL);
        return;
    }
    chan_step(pc);
    px_arm(pc->px);
}

size_t hp_sshproxy_chan_backlog(const struct hp_sshproxy_chan *pc)
{
    return pc ? pc->tobk.len : 0;
}

void hp_sshproxy_chan_eof(struct hp_sshproxy_chan *pc)
{
    if (!pc || pc->eof_in)
        return;
    pc->eof_in = true;
    if (pc->p.kind == HP_SSHPROXY_SHELL && !pc->ld_on && pc->line.len)
        px_command(pc, pc->line.data, pc->line.len);
    hp_buf_reset(&pc->line);
    if (pc->scp)
        hp_sshfile_eof(pc->scp);
    chan_step(pc);
    px_arm(pc->px);
}

void hp_sshproxy_chan_resize(struct hp_sshproxy_chan *pc, unsigned width, unsigned height)
{
    if (!pc || pc->exited || pc->phase != PC_RUN)
        return;
    ssh_channel_change_pty_size(pc->ch, (int)width, (int)height);
    px_arm(pc->px);
}

void hp_sshproxy_chan_free(struct hp_sshproxy_chan *pc)
{
    if (!pc)
        return;
    struct hp_sshproxy *px = pc->px;
    for (int i = 0; i < SSHPROXY_MAX_CHANS; i++)
        if (px->chans[i] == pc)
            px->chans[i] = NULL;
    if (pc->ch) {
        if (!px->dead && px->phase == PX_READY && ssh_channel_is_open(pc->ch))
            ssh_channel_close(pc->ch);
        ssh_channel_free(pc->ch);
    }
    if (pc->ld_on)
        hp_ld_free(&pc->ld);
    hp_sshfile_free(pc->scp);             /* stores a file still open */
    hp_sftptap_free(pc->sftp);
    hp_buf_free(&pc->tobk);
    hp_buf_free(&pc->line);
    free(pc->exit_signal);
    free(pc->command);
    free(pc->term);
    free(pc);
    px_arm(px);
}
