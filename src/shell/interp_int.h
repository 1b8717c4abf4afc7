/*
 * interp_int.h - what the interpreter's files share; internal to them
 * (interp.c, expand.c, redir.c, builtin.c).
 *
 * The interpreter is one object (struct hp_interp) split by idea: interp.c
 * runs trees and owns the state, expand.c expands words, redir.c applies
 * redirections, builtin.c has the shell's built-ins.  This header holds the
 * state they all touch, the bounds, and the few functions one file calls in
 * another, each prefixed by its file: it_ (interp.c), ex_ (expand.c), rd_
 * (redir.c), bi_ (builtin.c).  Everything else stays static to its file.
 */
#ifndef HP_INTERP_INT_H
#define HP_INTERP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "interp.h"
#include "parse.h"
#include "cmd.h"
#include "vfs.h"
#include "buf.h"

/* ---- bounds (all attacker-controlled; see interp.c) ------------------------------- */

#define IT_CMDS_MAX      10000
#define IT_STEPS_MAX     1000000
#define IT_LINE_MS       1000      /* interpreting time of one line (pauses excluded) */
#define IT_SLICE_MS      10        /* then the line pauses for the other sessions (io.pause) */
#define IT_LOOP_MAX      10000
#define IT_DEPTH_MAX     64
#define IT_OUT_MAX       (1u << 20)
#define IT_PIPE_MAX      (1u << 20)
#define IT_VARS_MAX      256
#define IT_VAL_MAX       (64u << 10)
#define IT_ARGS_MAX      4096
#define IT_ARGBYTES_MAX  (1u << 20)
#define IT_GLOB_MAX      4096
#define IT_PENDING_MAX   (1u << 20)
/* Bytes parsed again while a construct stays open.  An open construct is
 * parsed from its start at each new line, so N lines cost N^2/2 bytes of
 * parsing: "if true; then" and 8000 lines of "a" took the network thread
 * 20 s (release).  Past 256 KiB (~20 ms at the slowest shape found) the
 * construct is dropped as when pending is full.  A here-document body is
 * not parsed again at each line (only its delimiter can end it), so an
 * uploaded script of any length up to IT_PENDING_MAX runs. */
#define IT_REPARSE_MAX   (256u << 10)
#define IT_HIST_MAX      500
#define IT_FUNCS_MAX     256
#define IT_ALIAS_MAX     64
#define IT_PATH_MAX      4096
#define IT_SCOPES_MAX    (2 * IT_DEPTH_MAX + 8)

/* ---- state ------------------------------------------------------------------ */

struct var {
    char *name;
    char *val;
    size_t len;
    bool exported;
};

struct func {
    char *name;
    struct sh_node *body;
    struct sh_arena *arena;
};

/* One entry of the undo journal: the value name had before a subshell or a
 * function's "local" changed it. */
struct undo {
    char *name;
    char *val;
    size_t len;
    bool had, exported;
};

struct scope {
    bool sub;                     /* subshell (everything rolls back) or function (locals) */
    size_t undo_start;
};

/* A command's standard input: shared so "while read" walks through it. */
struct input {
    const uint8_t *data;
    size_t len, pos;
};

enum sink_kind { K_TERM, K_BUF, K_NULL, K_FILE };

struct sink {
    enum sink_kind kind;
    struct hp_buf *buf;
    const char *path;
    int term_fd;                  /* K_TERM: the terminal stream it is, 1 or 2 (2>&1 copies 1) */
};

struct iox {
    struct sink fd[3];
    struct input *in;             /* NULL: the terminal (reads see EOF) */
};

/* How messages are prefixed (who is talking). */
enum style { ST_BASH_I, ST_BASH_SCRIPT, ST_BASH_C, ST_DASH, ST_ASH, ST_ASH_C };

struct hp_interp {
    struct hp_interp_io io;
    const struct hp_persona *persona;
    struct sh_vfs *fs;
    struct sh_session sess;
    char *user, *host, *home, *cwd, *client_ip, *local_ip, *tty, *protocol;
    unsigned uid, gid;
    unsigned width, height;       /* terminal columns and rows (hp_interp_set_size) */
    bool bash;                    /* the login shell is bash (else busybox ash) */

    struct var *vars;
    size_t nvars;
    /* grown on demand: an idle session holds only what it used (10,000 idle ones) */
    struct func *funcs;
    size_t nfuncs, capfuncs;
    char **alias_name, **alias_val;
    size_t nalias, capalias;
    struct undo *undo;
    size_t nundo, capundo;
    struct scope *scopes;
    size_t nscopes, capscopes;

    char **pos;                   /* $1.. */
    int npos;
    char *arg0;                   /* $0 */

    int status;
    bool ended;                   /* the session is over */
    bool exiting;                 /* exit ran: unwind to the shell (or subshell) level */
    int exit_status;
    bool logout_req;
    int brk, cont;                /* pending break / continue levels */
    bool returning;
    unsigned loops;               /* loops around the current point (break's bound) */
    unsigned fdepth;              /* functions, eval, source, substitutions */

    enum style style;
    unsigned lineno;              /* line of the command for messages */
    const char *cur_text;         /* the text being run (syntax error echo) */
    size_t cur_len;
    unsigned cur_first;

    unsigned long ncmds, steps;
    int64_t deadline_ms;          /* the line stops (status 130) past this monotonic time */
    unsigned line_ms;             /* interpreting time of one line (hp_interp_sys) */
    char *daemon, *shell_cmd;     /* a one-shot's process view (hp_interp_sys) */
    int64_t slice_ms;             /* when the line last took the CPU (start or pause) */
    size_t out_bytes;
    bool abort;                   /* a bound was hit: stop the line */

    struct hp_buf pending;
    char **state;                 /* programs' session facts (sh_state_*): "key\0value", grown */
    size_t nstate, capstate;
    unsigned pending_line;
    size_t reparsed;              /* bytes parsed again since the open construct began */
    char wait_delim[64];          /* the open construct is a here-document ending at this line ("": other) */
    bool wait_strip;
    bool incomplete;

    char **hist;
    size_t nhist, caphist;

    unsigned pid, lastbg, jobs;
    unsigned umask;
    int64_t now_s;
    struct iox *cur_io;           /* the streams of the program running now (cmd ops) */
    struct sh_arena *cur_arena;   /* arena of the tree being run (function definitions keep it) */
    const struct sh_node *cur_simple; /* the simple command running (its source for command.failed) */
};

/* ---- interp.c --------------------------------------------------------------- */

/* Make room for one more element in a grown array (doubling, from 8). */
bool it_grow(void **arr, size_t *cap, size_t n, size_t elem, size_t max);

/* output: to a stream of io (1 or 2); the shell's own messages */
void it_io_put(struct hp_interp *it, struct iox *io, int fd, const void *p, size_t n);
void it_io_puts(struct hp_interp *it, struct iox *io, int fd, const char *s);
void it_io_printf(struct hp_interp *it, struct iox *io, int fd, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void it_shell_err(struct hp_interp *it, struct iox *io, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool it_is_bashlike(const struct hp_interp *it);

/* variables (set/unset journal in a subshell) and positional parameters */
struct var *it_var_find(struct hp_interp *it, const char *name);
const char *it_var_get(struct hp_interp *it, const char *name);
void it_var_set(struct hp_interp *it, const char *name, const char *val, size_t len);
void it_var_sets(struct hp_interp *it, const char *name, const char *val);
void it_var_unset(struct hp_interp *it, const char *name);
bool it_name_valid(const char *s, size_t n);
void it_undo_note(struct hp_interp *it, size_t k, const char *name);
void it_undo_guard(struct hp_interp *it, const char *name);
bool it_scope_push(struct hp_interp *it, bool sub);
void it_scope_pop(struct hp_interp *it);
void it_pos_free(char **pos, int n);
char **it_pos_dup(char *const *argv, int argc);
void it_pos_set(struct hp_interp *it, char *const *argv, int argc);

/* the line's step budget: false once a bound was hit */
bool it_step(struct hp_interp *it, unsigned long n);

/* running text and commands */
int it_run_text(struct hp_interp *it, const char *text, size_t len, bool final, unsigned first_line,
                struct iox *io);
int it_dispatch(struct hp_interp *it, int argc, char **argv, struct iox *io, bool funcs);
int it_path_lookup(struct hp_interp *it, const char *name, char *out, size_t outlen, struct sh_stat *st);
struct func *it_func_find(struct hp_interp *it, const char *name);
void it_func_remove(struct hp_interp *it, const char *name);

/* ---- expand.c --------------------------------------------------------------- */

/* The result of expanding words: argv-style strings. */
struct strv {
    char **v;
    size_t *l;
    size_t n, cap, bytes;
    bool full;
};

void ex_strv_add(struct strv *sv, const char *s, size_t len);
void ex_strv_free(struct strv *sv);

/* One word as one string (pattern: quoted glob characters escaped), as fields
 * (split and globbed, added to out), a here-document body; $IFS; $(( )). */
char *ex_string(struct hp_interp *it, struct iox *io, const char *s, size_t n, bool pattern,
                size_t *outlen, bool *err);
bool ex_fields(struct hp_interp *it, struct iox *io, const char *s, size_t n, struct strv *out);
void ex_heredoc(struct hp_interp *it, struct iox *io, const struct sh_redir *r, struct hp_buf *out);
const char *ex_ifs(struct hp_interp *it);
bool ex_arith(struct hp_interp *it, struct iox *io, const char *s, size_t n, long long *out);

/* ---- redir.c ---------------------------------------------------------------- */

/* Memory a command's redirections hold until it is done. */
struct held {
    struct hp_buf bufs[4];
    struct input ins[4];
    char *paths[8];
    unsigned nb, np;
};

/* Apply r on top of io; false (message printed) on error. */
bool rd_apply(struct hp_interp *it, const struct sh_redir *r, struct iox *io, struct held *h);
void rd_held_free(struct held *h);

/* ---- builtin.c -------------------------------------------------------------- */

struct builtin {
    const char *name;
    int (*fn)(struct hp_interp *it, int argc, char **argv, struct iox *io);
};

/* The built-in called name, or NULL. */
const struct builtin *bi_find(const char *name);

#endif
