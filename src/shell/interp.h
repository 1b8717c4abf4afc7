/*
 * interp.h - the command interpreter behind the shell (internal to src/shell/).
 *
 * shell.c owns the terminal side (line editing, prompt, events, exit); this
 * interface is what it asks of an interpreter: run one line, say whether the
 * shell goes on, tell the last status and the prompt.  The current
 * interpreter (interp.c) is deliberately small: words, quotes, $VAR,
 * ';' '&&' '||' '|' '&', redirections, and a handful of built-ins; issue 4
 * replaces it with a POSIX-sh subset over a fake file system behind the same
 * functions.
 */
#ifndef HP_INTERP_H
#define HP_INTERP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How bash was started, which changes its messages:
 *   INTERACTIVE  login shell on a pty      "-bash: foo: command not found"
 *   SCRIPT       login shell reading stdin "-bash: line 3: foo: command not found"
 *   EXEC         bash -c 'command'         "bash: line 1: foo: command not found" */
enum hp_interp_mode { HP_INTERP_INTERACTIVE, HP_INTERP_SCRIPT, HP_INTERP_EXEC };

struct hp_interp_io {
    /* Output of the commands (stdout and stderr alike), "\n" line ends. */
    void (*write)(void *arg, const void *data, size_t len);
    /* A command was not found: its source text (for command.failed). */
    void (*failed)(void *arg, const void *cmd, size_t len);
    void *arg;
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
};

struct hp_interp;

struct hp_interp *hp_interp_new(const struct hp_interp_sys *sys, const struct hp_interp_io *io);
/* Run one line (no newline in it; NUL and any other byte allowed).  lineno
 * counts from 1 for SCRIPT and EXEC messages.  Returns false when the shell
 * ends (exit, logout, or a syntax error outside an interactive shell). */
bool hp_interp_line(struct hp_interp *it, enum hp_interp_mode mode, unsigned lineno,
                    const uint8_t *line, size_t len);
/* $?: the status of the last command (the exit status once the shell ended). */
int hp_interp_status(const struct hp_interp *it);
void hp_interp_set_status(struct hp_interp *it, int status);   /* e.g. 130 after ^C */
/* PS1 of Debian's root/user .bashrc: "user@host:~# " (NUL-terminated). */
size_t hp_interp_prompt(const struct hp_interp *it, char *out, size_t outlen);
void hp_interp_free(struct hp_interp *it);

#endif
