/*
 * shell.h - the hand-over between a login front-end and the emulated shell.
 *
 * SSH (a channel with a pty shell or an exec request), Telnet (after login),
 * and later ADB and HTTP command injection all hand the attacker to a struct
 * hp_shell.  The front-end supplies a terminal: a function that sends bytes
 * to the client and one that ends the session with an exit status.  The
 * shell owns everything after that: line editing for interactive sessions
 * (echo, backspace, ^C, ^D), the prompt, interpreting each command line, and
 * the command.input / command.failed events.  Nothing is ever executed.
 *
 * Behind it: interp.c (a POSIX-sh subset), vfs.c (the per-source
 * copy-on-write file system), persona.c (who the machine is) and the
 * programs in cmd_*.c.
 */
#ifndef HP_SHELL_H
#define HP_SHELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_evctx;
struct hp_shell;

struct hp_term {
    /* Bytes to the client (already in terminal form: "\r\n" line ends when
     * interactive).  The shell never blocks on it. */
    void (*write)(void *io, const void *data, size_t len);
    /* The shell is done (exit, logout, ^D, end of an exec command). */
    void (*exit)(void *io, int status);
    void *io;
    /* Standard error of a shell that is not interactive, kept apart from
     * write (in order: write's bytes so far are sent first); NULL: merged. */
    void (*write_err)(void *io, const void *data, size_t len);
};

struct hp_shell_params {
    const struct hp_evctx *ctx;   /* event context of the session (outlives the shell); NULL: events without session fields */
    const char *username;
    const char *hostname;         /* for the prompt; NULL: the personality's (persona.h), which
                                   * uname, hostname and /etc/hostname always show */
    bool interactive;             /* pty shell (line editing, prompt) vs. exec / no pty */
    unsigned width, height;       /* terminal size when interactive (clamped to HP_SHELL_*_MAX) */
    struct hp_term term;
    /* Added fields; all zero gives sensible behaviour. */
    const char *term_type;        /* TERM of the pty request / Telnet TTYPE; NULL: a capable
                                   * terminal (bash's bracketed-paste sequences are sent);
                                   * "dumb": plain echo, no escape sequences */
    const char *motd;             /* login banner; NULL: Debian's (uname line + /etc/motd);
                                   * "": none; otherwise this text ("\n" line ends) */
    const char *last_login_from;  /* adds "Last login: DATE from X"; NULL: no such line */
    int64_t last_login_us;        /* DATE (UTC); 0: a random time in the last two days */
    const char *personality;      /* "debian" (default) or "busybox": see persona.h */
    const char *data_dir;         /* files the attacker creates are stored in DATA_DIR/payloads
                                   * (session.file_upload); NULL: hashed and logged only */
    const char *tty;              /* "pts/0" (default when interactive or pty) */
    bool pty;                     /* an exec on a terminal (ssh -t host cmd): ls lays out columns,
                                   * tty names it; without one stdout is a pipe */
};

struct hp_shell *hp_shell_new(const struct hp_shell_params *p);
/* Interactive: print the banner/prompt.  Exec: nothing. */
void hp_shell_start(struct hp_shell *sh);
/* Raw input from the client (keystrokes for an interactive shell, stdin data otherwise). */
void hp_shell_input(struct hp_shell *sh, const uint8_t *data, size_t len);
/* Run one command line (ssh exec request, or a line fed by the front-end), then exit. */
void hp_shell_exec(struct hp_shell *sh, const char *cmdline, size_t len);
/* The client closed its input (EOF on the channel). */
void hp_shell_eof(struct hp_shell *sh);
/* The terminal size the shell takes from the client, at most this (a
 * client may announce 65535 x 65535; the programs' layout work grows with
 * the width). */
#define HP_SHELL_COLS_MAX 512     /* HP_INTERP_COLS_MAX */
#define HP_SHELL_ROWS_MAX 256
void hp_shell_resize(struct hp_shell *sh, unsigned width, unsigned height);
void hp_shell_free(struct hp_shell *sh);

/* The exit callback may free the shell: it is always the shell's last action.
 * The write callback must not. */

/*
 * One command text (lines of "bash -c" script) through the interpreter, for
 * what it prints on standard output, appended to out (oneshot.c): for a web
 * answer that shows an injected command's output.  Synchronous: no fetch,
 * no pause; every line stops after line_ms of interpreting, the text after
 * 2 x line_ms or 32 lines.  Nothing is kept: a private overlay, no events.
 * Returns the exit status.
 */
#define HP_SHELL_ONESHOT_MS  20           /* interpreting time of one line, by default */
#define HP_SHELL_ONESHOT_OUT (16 * 1024)  /* output kept, by default */
struct hp_buf;
struct hp_shell_oneshot {
    const char *personality;      /* "debian" (NULL) or "busybox" (persona.h) */
    const char *user;             /* who runs it: NULL root; "www-data" and the like take the
                                   * machine's account for that name */
    const char *cwd;              /* the directory it runs in (a service's data directory);
                                   * NULL: the user's home */
    const char *daemon;           /* the service's process as ps shows it, the shell's parent
                                   * ("/usr/bin/redis-server *:6379"); NULL: none */
    unsigned line_ms;             /* 0: HP_SHELL_ONESHOT_MS */
    size_t out_max;               /* 0: HP_SHELL_ONESHOT_OUT */
};
int hp_shell_oneshot(const struct hp_shell_oneshot *p, const char *text, size_t len, struct hp_buf *out);
/* Whether a one-shot may run now: 5 a second, a burst of 10, over every
 * caller; false is counted (sensor.stats shell_oneshot_shed) and logged. */
bool hp_shell_oneshot_allowed(void);

struct hp_event;
/* Tests and fuzzers: every event a shell builds (command.input,
 * command.failed) goes to fn instead of the outputs; fn owns the reference
 * (hp_event_unref).  NULL restores.  Process-wide, not synchronised: set it
 * before shells run. */
void hp_shell_set_event_hook(void (*fn)(struct hp_event *ev, void *arg), void *arg);

#endif
