/*
 * sshfile.h - file transfers over an SSH session channel: the SCP sink
 * ("scp -t", what "scp -O file host:" runs) and an SFTP version 3 server
 * (the "sftp" subsystem, used by sftp(1) and by OpenSSH 9's scp).
 *
 * Everything an attacker uploads is captured, never executed: each
 * completed file is put in the content-addressed store (capture/store.h) and
 * reported as session.file_upload.  The emulation answers like OpenSSH's own
 * scp sink and sftp-server (same messages, status codes, exit statuses), on
 * top of a small fake file system: a few well-known directories plus what
 * the client uploads or creates during the session.
 *
 * The front-end (ssh.c) owns the channel and supplies two callbacks: write
 * bytes to the channel, and end the channel with an exit status (exit-status
 * request, EOF, close).  The object never blocks and never touches the
 * network itself.
 *
 * Life cycle: create with hp_scp_sink_new() / hp_sftp_new() (no output yet,
 * so it may be done inside a libssh request callback), hp_sshfile_start()
 * once the request has been answered (the SCP sink sends its first "\0"; a
 * call to hp_sshfile_input() before that starts it implicitly), then input /
 * eof as the channel delivers them.  The exit callback is called at most
 * once; afterwards every entry point is a no-op.  hp_sshfile_free() stores
 * and reports files still open (an SFTP client that vanished mid-upload).
 * The callbacks must not free the object.
 */
#ifndef HP_SSHFILE_H
#define HP_SSHFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_evctx;
struct hp_event;
struct hp_sshfile;

#define HP_SSHFILE_MAX_FILE_DEFAULT  (8u * 1024 * 1024)    /* bytes kept per file */
#define HP_SSHFILE_MAX_TOTAL_DEFAULT (64u * 1024 * 1024)   /* bytes kept per channel */

struct hp_sshfile_params {
    const struct hp_evctx *ctx;   /* events' session fields; outlives the object */
    const char *data_dir;         /* payloads go to DATA_DIR/payloads/ (copied) */
    const char *username;         /* logged-in user (home directory, owner); NULL: root */
    size_t max_file;              /* 0: HP_SSHFILE_MAX_FILE_DEFAULT; bytes beyond are read and dropped */
    size_t max_total;             /* 0: HP_SSHFILE_MAX_TOTAL_DEFAULT */
    void (*write)(void *io, const void *data, size_t len);
    void (*exit)(void *io, int status);
    void *io;
    /* Tests and fuzzers: events go to event_hook (which owns the reference)
     * instead of the outputs; now, when non-zero, replaces the clock (Unix
     * seconds) used for the fake file times. */
    void (*event_hook)(struct hp_event *ev, void *arg);
    void *event_arg;
    int64_t now;
};

/*
 * An SCP endpoint for an exec request, or NULL when cmdline is not a plain
 * "scp ... -t TARGET" (sink: the client uploads) or "scp ... -f PATH..."
 * (source: the client downloads; always answered "No such file or
 * directory").  Command lines with shell syntax (";", "|", "&", "$",
 * redirections, globs; plain quotes are fine) are left to the shell.
 */
struct hp_sshfile *hp_scp_sink_new(const struct hp_sshfile_params *p, const char *cmdline);
/* An SFTP server for the "sftp" subsystem. */
struct hp_sshfile *hp_sftp_new(const struct hp_sshfile_params *p);

void hp_sshfile_start(struct hp_sshfile *f);
void hp_sshfile_input(struct hp_sshfile *f, const void *data, size_t len);
void hp_sshfile_eof(struct hp_sshfile *f);
/* True once the exit callback has been called. */
bool hp_sshfile_done(const struct hp_sshfile *f);
void hp_sshfile_free(struct hp_sshfile *f);

#endif
