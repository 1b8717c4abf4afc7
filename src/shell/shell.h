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
 * The interpreter behind it is src/shell/ (issue 4 grows it into a full
 * POSIX-sh subset with a fake filesystem); this interface stays.
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
};

struct hp_shell_params {
    const struct hp_evctx *ctx;   /* event context of the session (outlives the shell) */
    const char *username;
    const char *hostname;         /* the sensor's generated host name */
    bool interactive;             /* pty shell (line editing, prompt) vs. exec / no pty */
    unsigned width, height;       /* terminal size when interactive */
    struct hp_term term;
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
void hp_shell_resize(struct hp_shell *sh, unsigned width, unsigned height);
void hp_shell_free(struct hp_shell *sh);

#endif
