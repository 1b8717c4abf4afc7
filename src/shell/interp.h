/*
 * interp.h - the command interpreter behind the shell (internal to src/shell/).
 *
 * shell.c owns the terminal side (line editing, prompt, events, exit); this
 * interface is what it asks of an interpreter: run one line, say whether the
 * shell goes on, tell the last status and the prompt.  The interpreter is a
 * POSIX-sh subset (bash and busybox ash flavours, see persona.h) over the
 * fake file system of vfs.h; programs are C functions (cmd.h).
 *
 * Lines that leave a construct open (if/for/while/case without its end, a
 * here-document, an open quote, a trailing '|' or '&&' or '\') are kept
 * and completed by the next lines, as bash does with its PS2 prompt:
 * hp_interp_incomplete() tells the shell to prompt "> ".
 */
#ifndef HP_INTERP_H
#define HP_INTERP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hp_buf;

/* How bash was started, which changes its messages:
 *   INTERACTIVE  login shell on a pty      "-bash: foo: command not found"
 *   SCRIPT       login shell reading stdin "-bash: line 3: foo: command not found"
 *   EXEC         bash -c 'command'         "bash: line 1: foo: command not found" */
enum hp_interp_mode { HP_INTERP_INTERACTIVE, HP_INTERP_SCRIPT, HP_INTERP_EXEC };

struct hp_interp_io {
    /* Output of the commands, "\n" line ends: stdout, and stderr too when
     * write_err is NULL (a pty shows both on one terminal). */
    void (*write)(void *arg, const void *data, size_t len);
    /* A command was not found: its source text (for command.failed). */
    void (*failed)(void *arg, const void *cmd, size_t len);
    /* Every simple command run (after expansion), for the structured argv
     * of command.input; may be NULL. */
    void (*command)(void *arg, int argc, char *const *argv);
    /* A file the attacker created (vfs.h capture); may be NULL. */
    void (*captured)(void *arg, const char *path, const uint8_t *data, size_t len);
    /* A program asks for a URL (cmd.h sh_fetch): fetch it into body (at
     * most what the capture pipeline allows) and say how it went.  It may
     * take seconds: the shell suspends the line meanwhile (fiber.h), and
     * that wait does not count against the line's wall-time budget.  NULL:
     * every fetch is SH_FETCH_UNREACHABLE. */
    int (*fetch)(void *arg, const char *tool, const char *url, const char *dest, struct hp_buf *body);
    /* Any other event a program reports (sh_event); may be NULL. */
    void (*event)(void *arg, const char *eventid, const char *key, const char *value);
    void *arg;
    /* Standard error kept apart (ssh host 'cmd' without a pty: OpenSSH sends it as
     * extended data); NULL: it goes to write. */
    void (*write_err)(void *arg, const void *data, size_t len);
    /* The line has had the CPU for a time slice: let the event loop serve
     * other sessions, then come back (on a fiber, as fetch does).  Returns
     * the milliseconds paused, which do not count against the line's
     * budget.  NULL: the line runs to its end without a pause. */
    int64_t (*pause)(void *arg);
    /* Optional: true while the sensor's event outputs are close to full
     * (output.h hp_output_pressing): a line then pauses at its next pause
     * point whatever its slice, so a session working through a backlog of
     * commands waits for the stores instead of having its events shed. */
    bool (*hold)(void *arg);
};

/* What the machine says about itself; all strings non-NULL, copied. */
struct hp_interp_sys {
    const char *user;
    const char *host;             /* full host name; the prompt shows it up to the first '.' */
    const char *kernel_release;   /* uname -r */
    const char *kernel_version;   /* uname -v */
    const char *machine;          /* uname -m */
    const char *term;             /* $TERM, NULL: unset */
    const char *ip;               /* hostname -I: the address the client connected to, or NULL */
    /* Added for the full shell; NULL/0 gives a private Debian machine. */
    const struct hp_persona *persona; /* NULL: hp_persona_get("debian") */
    const char *client_ip;        /* overlay key (vfs.h) and w/who FROM; NULL: private overlay */
    const char *tty;              /* "pts/0" on a pty, NULL otherwise */
    const char *protocol;         /* "ssh" / "telnet" */
    unsigned width;               /* terminal columns, 0: 80; at most HP_INTERP_COLS_MAX */
    unsigned height;              /* terminal rows, 0: 24; at most HP_INTERP_ROWS_MAX */
    const char *daemon;           /* a one-shot: the service process ps shows ("" none), NULL: a login */
    const char *shell_cmd;        /* a one-shot: "sh -c TEXT" as ps shows the shell */
    unsigned line_ms;             /* interpreting time of one line, 0: the shell's (1 s); a
                                   * one-shot run for a web answer gets far less (shell.h) */
};

/* The widest terminal the programs lay out for (ls's columns try up to a
 * third as many columns as the line is wide, each a pass over the names):
 * a client may announce 65535 columns (Telnet NAWS, SSH pty-req), real
 * terminals have a few hundred. */
#define HP_INTERP_COLS_MAX 512
#define HP_INTERP_ROWS_MAX 256

struct hp_interp;
struct hp_persona;

struct hp_interp *hp_interp_new(const struct hp_interp_sys *sys, const struct hp_interp_io *io);
/* Run one line (no newline in it; NUL and any other byte allowed).  lineno
 * counts from 1 for SCRIPT and EXEC messages.  Returns false when the shell
 * ends (exit, logout, or a syntax error outside an interactive shell). */
bool hp_interp_line(struct hp_interp *it, enum hp_interp_mode mode, unsigned lineno,
                    const uint8_t *line, size_t len);
/* The event loop has just given the caller the CPU: the time slice after
 * which a line pauses (io.pause) counts from now.  hp_interp_line does not
 * restart it, so the lines of one packet share a slice: 1 MiB of short
 * commands would otherwise run back to back, 7 us each, for seconds. */
void hp_interp_turn(struct hp_interp *it);
/* The last line left a construct open: the shell prompts PS2 ("> "). */
bool hp_interp_incomplete(const struct hp_interp *it);
/* End of input (exec string done, EOF on a script's stdin): an open
 * construct is now bash's "syntax error: unexpected end of file" (and an
 * open here-document ends at it).  Returns false when the shell ends. */
bool hp_interp_eof(struct hp_interp *it, enum hp_interp_mode mode);
/* $?: the status of the last command (the exit status once the shell ended). */
int hp_interp_status(const struct hp_interp *it);
void hp_interp_set_status(struct hp_interp *it, int status);   /* e.g. 130 after ^C */
/* The client resized its terminal (SSH window-change, Telnet NAWS): what
 * ls lays out for and stty size says from the next command on; 0: default. */
void hp_interp_set_size(struct hp_interp *it, unsigned width, unsigned height);
/* The session is closing: the running line stops at its next check, as if
 * its wall time were up. */
void hp_interp_abort(struct hp_interp *it);
/* PS1 of Debian's root/user .bashrc: "user@host:~# " (NUL-terminated). */
size_t hp_interp_prompt(const struct hp_interp *it, char *out, size_t outlen);
/* Closes the session's file system view (what is still dirty is captured
 * through io.captured first). */
void hp_interp_free(struct hp_interp *it);

#endif
