/*
 * sshproxy.h - SSH proxy mode: hanipo's own SSH client session to a real
 * sshd (the service's backend), behind the SSH front-end (ssh.c).
 *
 * ssh.c terminates the attacker's SSH connection as always (credentials,
 * HASSH, login policy).  After a successful login it creates one
 * hp_sshproxy, which connects to the backend and logs in with the
 * configured backend credentials - all without blocking: the TCP connect,
 * key exchange and authentication run as libssh non-blocking calls
 * re-entered from the event loop whenever the backend socket is ready, and
 * a timer bounds them (backend_timeout).  Once it is ready, every session
 * channel the attacker opens gets a backend channel (hp_sshproxy_chan)
 * that replays its requests (pty with size, shell, exec, sftp) and relays
 * bytes both ways; the backend's exit status or signal ends the client's
 * channel.  When the backend cannot be reached or logged into, the proxy
 * says so with proxy.fallback and ssh.c serves the session with the
 * emulation instead.
 *
 * What is logged, as the emulation logs it: each command line typed on a
 * pty (reconstructed from the keystrokes by the shell's line discipline),
 * each line of a pty-less shell's input, each exec command, as
 * command.input; URLs in them go to the capture pipeline; files uploaded
 * with scp (legacy protocol) or sftp are captured (session.file_upload)
 * from the client's side of the stream, while the backend gets them too.
 *
 * Events (fields as the core's TCP relay has them): proxy.connect (result
 * "ok" or why not, connect_ms), proxy.fallback (backend, reason, fallback
 * "ssh"), proxy.closed (bytes each way, reason) and proxy.hostkey.
 *
 * Bounds: bytes waiting for the backend's window per channel
 * (SSHPROXY_TOBK_MAX, the channel is cut past it), input held while the
 * backend connects (ssh.c, 1 MiB), connect + login time (backend_timeout).
 * The backend's max_bytes caps the TCP relay's transcript; SSH records no
 * transcript but the asciicast (record_max), so it does not apply here.
 */
#ifndef HP_SSHPROXY_H
#define HP_SSHPROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_evctx;
struct hp_backend_cfg;
struct hp_sshproxy;
struct hp_sshproxy_chan;

enum hp_sshproxy_state { HP_SSHPROXY_CONNECTING, HP_SSHPROXY_READY, HP_SSHPROXY_FAILED };

struct hp_sshproxy_params {
    const struct hp_evctx *ctx;           /* outlives the object */
    const struct hp_backend_cfg *backend; /* outlives the object */
    const char *data_dir;                 /* captured uploads go to DATA_DIR/payloads */
    char *hostkey_seen;                   /* per service: last backend host key fingerprint logged */
    size_t hostkey_seen_len;
    /* Called once when the state leaves CONNECTING (from the event loop, never
     * from inside a call into this module); must not free the proxy. */
    void (*on_state)(void *arg, enum hp_sshproxy_state st);
    void *arg;
};

/* Starts connecting.  NULL (after proxy.fallback) when that fails at once. */
struct hp_sshproxy *hp_sshproxy_new(const struct hp_sshproxy_params *p);
enum hp_sshproxy_state hp_sshproxy_state(const struct hp_sshproxy *px);
/* Back-pressure: stop reading the backend while the client is behind
 * (its channel output queue is long); the backend's TCP window then stops
 * the backend.  Resumed with paused false. */
void hp_sshproxy_pause(struct hp_sshproxy *px, bool paused);
bool hp_sshproxy_paused(const struct hp_sshproxy *px);
void hp_sshproxy_free(struct hp_sshproxy *px);

enum hp_sshproxy_kind { HP_SSHPROXY_SHELL, HP_SSHPROXY_EXEC, HP_SSHPROXY_SFTP };

struct hp_sshproxy_chan_params {
    enum hp_sshproxy_kind kind;
    const char *command;                  /* EXEC */
    bool pty;
    const char *term;
    unsigned width, height;
    const char *username;                 /* the attacker's login name (sshfile's home directory) */
    /* Backend output for the client; stderr: extended data. */
    void (*write)(void *io, const void *data, size_t len, bool is_stderr);
    /* The backend ended the channel: exit status, or signal name (sig != NULL). */
    void (*exit)(void *io, int status, const char *sig);
    /* The client bytes waiting for the backend fell below SSHPROXY_TOBK_LOW
     * (called after each flush that leaves them there; may be NULL). */
    void (*drained)(void *io);
    void *io;
};

/* A backend channel for a client channel; the proxy must be READY. */
struct hp_sshproxy_chan *hp_sshproxy_chan_new(struct hp_sshproxy *px, const struct hp_sshproxy_chan_params *p);
void hp_sshproxy_chan_input(struct hp_sshproxy_chan *pc, const void *data, size_t len);
/* Client bytes not yet written to the backend (the caller stops taking more
 * input above a threshold and resumes on drained()). */
size_t hp_sshproxy_chan_backlog(const struct hp_sshproxy_chan *pc);
#define SSHPROXY_TOBK_LOW (1u << 20)
void hp_sshproxy_chan_eof(struct hp_sshproxy_chan *pc);
void hp_sshproxy_chan_resize(struct hp_sshproxy_chan *pc, unsigned width, unsigned height);
void hp_sshproxy_chan_free(struct hp_sshproxy_chan *pc);

#endif
