/*
 * cmd.h - what an emulated program sees, and how programs are registered.
 *
 * The interpreter (interp.c) parses and expands a command line, finds the
 * program (a shell built-in, or a file in $PATH whose base-image entry
 * names an applet, see vfs.h), sets up its standard streams and calls the
 * program's function with a struct sh_cmd.  Nothing is ever executed: a
 * program is a C function that reads its arguments and its whole standard
 * input, talks to the fake file system and the personality, writes to
 * stdout/stderr, and returns an exit status.
 *
 * Pipelines run one stage after the other: a stage's stdout is collected
 * (capped) and becomes the next stage's stdin, which is enough for what
 * bots pipe (`cat /proc/cpuinfo | grep name | wc -l`, `echo x | base64 -d
 * | sh`).  A program whose stdin is the terminal sees it empty (EOF).
 *
 * Programs are grouped by family in cmd_<family>.c, each file exporting a
 * table `const struct sh_cmd_def sh_cmds_<family>[]` ended by { NULL }, and
 * listed once in cmd.c.  Messages must be those of the real tool, byte for
 * byte, in the style of the personality: GNU coreutils on the Debian
 * personality (`ls: cannot access 'x': No such file or directory`), busybox
 * on busybox ones (`ls: x: No such file or directory`); c->persona->busybox
 * tells which.  Usage errors too: scanners compare them.
 *
 * Bounds: output written through sh_out/sh_err is capped per command line
 * by the interpreter (the rest is dropped, the line goes on); programs
 * must not loop on attacker-controlled counts without a bound of their own
 * (`yes`, `seq 1 1e9`, `dd count=`, `sleep` never sleeps).
 */
#ifndef HP_CMD_H
#define HP_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "persona.h"
#include "vfs.h"

struct hp_interp;
struct hp_buf;

/* Outcome of sh_fetch (below). */
enum sh_fetch_result { SH_FETCH_OK, SH_FETCH_UNREACHABLE, SH_FETCH_REFUSED, SH_FETCH_NOT_FOUND,
                       SH_FETCH_BAD_URL };

/* The session around the shell, for w, who, last, ifconfig, ps. */
struct sh_session {
    const char *client_ip;        /* the attacker's address ("w" FROM column) */
    const char *local_ip;         /* the address the client connected to (ifconfig, hostname -I) */
    const char *tty;              /* "pts/0"; NULL when not on a pty */
    int64_t login_s;              /* login time, seconds since the epoch */
    unsigned shell_pid;           /* $$ */
    const char *protocol;         /* "ssh" or "telnet" */
    /* A one-shot (shell.h hp_shell_oneshot): not a login.  The service's
     * process ps shows as the shell's parent ("" none), and the shell's own
     * command line ("sh -c TEXT"); NULL for a login session. */
    const char *daemon;
    const char *shell_cmd;
};

struct sh_cmd;

/* What the interpreter provides to a running program; cmd.c's sh_* calls
 * below go through it (tests may supply their own). */
struct sh_cmd_ops {
    void (*write)(struct sh_cmd *c, int fd, const void *data, size_t len);   /* fd 1 or 2 */
    const char *(*getenv)(struct sh_cmd *c, const char *name);
    void (*setenv)(struct sh_cmd *c, const char *name, const char *value);
    void (*environ)(struct sh_cmd *c, struct hp_buf *out);
    int (*which)(struct sh_cmd *c, const char *name, char *out, size_t outlen);
    int (*run_argv)(struct sh_cmd *c, int argc, char **argv);
    int (*run_script)(struct sh_cmd *c, const uint8_t *text, size_t len, const char *name,
                      int argc, char **argv);
    void (*logout)(struct sh_cmd *c, int status);
    size_t (*history)(struct sh_cmd *c, const char *const **lines);
    enum sh_fetch_result (*fetch)(struct sh_cmd *c, const char *tool, const char *url,
                                  const char *dest, struct hp_buf *body);
    void (*event)(struct sh_cmd *c, const char *eventid, const char *key, const char *value);
    const char *(*state_get)(struct sh_cmd *c, const char *key);
    void (*state_set)(struct sh_cmd *c, const char *key, const char *value);
};

struct sh_cmd {
    const struct sh_cmd_ops *ops; /* set by the interpreter; use the sh_* calls below */
    struct hp_interp *it;         /* the interpreter (ops' own argument) */
    int argc;
    char **argv;                  /* argv[0] as typed ("ls", "/bin/ls", "./x"); argv[argc] == NULL */
    const char *applet;           /* the program's table name ("ls"); busybox applets called by
                                   * their link have applet = the link's name */
    const uint8_t *in;            /* all of stdin; may be NULL when in_len is 0 */
    size_t in_len;
    bool in_tty;                  /* stdin is the terminal (so: empty) */
    bool out_tty;                 /* stdout is the terminal (ls columns) */
    unsigned width;               /* terminal columns (80 when unknown, at most 512: interp.h) */
    unsigned height;              /* terminal rows (24 when unknown, at most 256) */
    const struct hp_persona *persona;
    struct sh_vfs *fs;
    const struct sh_session *sess;
    const char *cwd;              /* absolute */
    unsigned uid, gid;            /* 0 for root */
    const char *user;
    const char *home;
    int64_t now_s;                /* wall clock for the whole line (date, ls -l, uptime agree) */
    int64_t deadline_ms;          /* monotonic ms (util.h hp_mono_ms) at which the line stops, 0: none */
};

typedef int (*sh_cmd_fn)(struct sh_cmd *c);

struct sh_cmd_def {
    const char *name;             /* applet name, as in the base image */
    sh_cmd_fn fn;
    bool builtin;                 /* also a shell built-in (kill, ulimit, umask, history):
                                   * found without a file in $PATH */
};

/* ---- output ---------------------------------------------------------------- */
void sh_out(struct sh_cmd *c, const void *data, size_t len);
void sh_err(struct sh_cmd *c, const void *data, size_t len);
void sh_outs(struct sh_cmd *c, const char *s);
void sh_errs(struct sh_cmd *c, const char *s);
void sh_outf(struct sh_cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sh_errf(struct sh_cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "PROG: " + message + "\n" on stderr, PROG being argv[0]'s base name as the
 * real tool prints it (GNU tools print their own name, busybox applets the
 * applet name). */
void sh_errmsg(struct sh_cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the shell around the program ---------------------------------------------- */
/* Variables (exported or not). NULL when unset. */
const char *sh_getenv(struct sh_cmd *c, const char *name);
void sh_setenv(struct sh_cmd *c, const char *name, const char *value);
/* Exported variables as "NAME=value" lines in the order env(1) prints them. */
void sh_environ(struct sh_cmd *c, struct hp_buf *out);
/* cwd-relative path to an absolute one (sh_vfs_abspath); 0 or -ENAMETOOLONG. */
int sh_path(struct sh_cmd *c, const char *arg, char *out, size_t outlen);
/* Find a program as the shell would ($PATH, or a path with a '/').  0 with
 * its path in out, or -ENOENT. */
int sh_which(struct sh_cmd *c, const char *name, char *out, size_t outlen);
/* Run another command with this one's streams (sudo, nohup, timeout, env,
 * xargs, busybox APPLET, nice, su -c): lookup, "not found" message and
 * command.failed event as the shell would do them.  Returns its status. */
int sh_run_argv(struct sh_cmd *c, int argc, char **argv);
/* Run shell text through the interpreter (sh -c, sh FILE, | sh, eval, .):
 * $0 = name, $1.. = argv.  Returns the status. */
int sh_run_script(struct sh_cmd *c, const uint8_t *text, size_t len, const char *name,
                  int argc, char **argv);
/* Call an applet directly by its table name with these arguments (busybox
 * APPLET ...).  -1 when no such applet is implemented. */
int sh_run_applet(struct sh_cmd *c, const char *applet, int argc, char **argv);
/* The session ends once this command line is done (reboot, shutdown, kill -9 $$). */
void sh_logout(struct sh_cmd *c, int status);
/* Commands typed in this session, oldest first (history). */
size_t sh_history(struct sh_cmd *c, const char *const **lines);

/* Facts a program keeps for the rest of the session (ulimit values, firewall
 * rules): not shell variables, so set and env never show them.  Keys are
 * "<program>.<name>"; NULL value removes.  Bounded (64 keys, 4 KiB values). */
const char *sh_state_get(struct sh_cmd *c, const char *key);
void sh_state_set(struct sh_cmd *c, const char *key, const char *value);

/* ---- events ------------------------------------------------------------------ */
/*
 * A download command (wget, curl, tftp, ftpget, nc host port > f, ...)
 * asks for url.  The capture pipeline fetches it safely in the background;
 * until it exists (and when it is disabled) the request is logged as a
 * session.file_download event with the url, the tool and outcome
 * "not_fetched", and the result is SH_FETCH_UNREACHABLE, which the tool
 * reports as a real one reports a server that does not answer.
 * dest is the path the tool would write (NULL: stdout).
 */
enum sh_fetch_result sh_fetch(struct sh_cmd *c, const char *tool, const char *url, const char *dest,
                              struct hp_buf *body);

/* An event about this session with one string field set (and more added
 * through the event builder is not offered on purpose: commands report
 * through these few calls). */
void sh_event(struct sh_cmd *c, const char *eventid, const char *key, const char *value);

/* A program's long loop (sed's and awk's steps, regex matching) calls this
 * now and then: once the line has had the CPU for its time slice, the line
 * pauses there while the event loop serves the other sessions, and comes
 * back.  Another session's line may run meanwhile, so a program holds
 * nothing across the call that another session could change (programs
 * read files into buffers of their own; they never keep vfs pointers).
 * Returns false once the line's time is up: the program stops there, as at
 * its step bound (a step may cost as much as its input is long). */
bool sh_pause_point(void);

/* ---- registry (cmd.c) ------------------------------------------------------------ */
/* The entry for an applet name; NULL if no program of that name is emulated. */
const struct sh_cmd_def *sh_cmd_find(const char *name);
/* Every emulated program name, sorted, NULL-terminated. */
const char *const *sh_cmd_names(void);

/* Helpers shared by programs (cmd.c). */
/* Parse a decimal integer fully; false on junk or overflow. */
bool sh_parse_long(const char *s, long *out);
/* errno -> the message the C library prints ("No such file or directory"). */
const char *sh_strerror(int err);

#endif
