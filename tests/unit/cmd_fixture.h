/*
 * cmd_fixture.h - the fake interpreter the programs' unit tests share
 * (test_cmd_fs.c, test_cmd_text.c, test_cmd_textutil.c, test_cmd_misc.c,
 * test_cmd_sys.c, test_cmd_net.c).  Header-only, static functions, as
 * json_check.h.
 *
 * The programs only talk to the shell through struct sh_cmd_ops (cmd.h),
 * so a test builds a struct sh_cmd by hand.  Three ways in:
 *
 *   struct fx (fx_new, fx_run, fx_out, fx_err, fx_file): a whole session.
 *       argv split on blanks (no quoting), stdin from a string, stdout and
 *       stderr captured apart, a real vfs over the personality's base
 *       image, and a fetch whose result and body the test chooses.
 *   the light fixture (fxl_*): the test owns the vfs and fills in a
 *       struct sh_cmd itself; the streams land in fxl_out and fxl_err, and
 *       fxl_runv compares them with what the test wants.
 *   fx_e2e: one line through the real interpreter (hp_interp_line).
 *
 * Sub-commands (sudo, env, xargs, busybox APPLET) run through sh_cmd_find
 * like the interpreter would.
 */
#ifndef CMD_FIXTURE_H
#define CMD_FIXTURE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "shell/cmd.h"
#include "shell/interp.h"
#include "shell/persona.h"
#include "shell/vfs.h"
#include "buf.h"

/* Not every test uses every helper. */
#define FX_FN static inline __attribute__((unused))
#define FX_VAR static __attribute__((unused))

#define assert_prefix(s, p) assert_true(strncmp((s), (p), strlen(p)) == 0)

#define FX_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define FX_MAX_ARGS 64
#define FX_MAX_FETCH 8

struct fx {
    struct sh_cmd c;
    struct sh_cmd_ops ops;
    struct sh_session sess;
    struct hp_buf out, err;
    char line[4096];
    char *argv[FX_MAX_ARGS + 1];
    /* fake shell state */
    int logouts, logout_status;
    char script[4096];
    int scripts;
    const char *history[8];
    size_t nhistory;
    /* fetch */
    enum sh_fetch_result fetch_result;
    const char *fetch_body;
    size_t fetch_len;
    char fetch_url[FX_MAX_FETCH][1024];
    char fetch_dest[FX_MAX_FETCH][1024];
    char fetch_tool[FX_MAX_FETCH][32];
    int nfetch;
    /* events */
    char ev_id[8][64], ev_key[8][64], ev_val[8][512];
    int nev;
};

FX_FN struct fx *fx_of(struct sh_cmd *c)
{
    return (struct fx *)((char *)c->ops - offsetof(struct fx, ops));
}

FX_FN void fx_write(struct sh_cmd *c, int fd, const void *data, size_t len)
{
    struct fx *f = fx_of(c);
    hp_buf_put(fd == 1 ? &f->out : &f->err, data, len);
}

FX_FN const char *fx_getenv(struct sh_cmd *c, const char *name)
{
    if (!strcmp(name, "HOME"))
        return c->home;
    if (!strcmp(name, "USER"))
        return c->user;
    if (!strcmp(name, "PATH"))
        return FX_PATH;
    return NULL;
}

FX_FN void fx_environ(struct sh_cmd *c, struct hp_buf *out)
{
    hp_buf_printf(out, "SHELL=/bin/bash\nPWD=%s\nLOGNAME=%s\nHOME=%s\nLANG=C.UTF-8\nUSER=%s\n"
                       "PATH=" FX_PATH "\n",
                  c->cwd, c->user, c->home, c->user);
}

FX_FN int fx_which(struct sh_cmd *c, const char *name, char *out, size_t outlen)
{
    const char *b = strrchr(name, '/');
    if (!sh_cmd_find(b ? b + 1 : name))
        return -2;
    snprintf(out, outlen, "/usr/bin/%s", b ? b + 1 : name);
    return 0;
}

/* A sub-command as the shell runs it: looked up by its base name, "command
 * not found" on stderr and 127 when there is none; no_stdin: the program
 * reads nothing (xargs' children). */
FX_FN int fx_sub(struct sh_cmd *c, int argc, char **argv, bool no_stdin)
{
    const char *b = strrchr(argv[0], '/');
    const struct sh_cmd_def *d = sh_cmd_find(b ? b + 1 : argv[0]);
    if (!d) {
        char msg[256];
        int n = snprintf(msg, sizeof(msg), "-bash: %s: command not found\n", argv[0]);
        c->ops->write(c, 2, msg, (size_t)n);
        return 127;
    }
    struct sh_cmd sub = *c;
    sub.argc = argc;
    sub.argv = argv;
    sub.applet = d->name;
    if (no_stdin) {
        sub.in = NULL;
        sub.in_len = 0;
    }
    return d->fn(&sub);
}

FX_FN int fx_run_argv(struct sh_cmd *c, int argc, char **argv) { return fx_sub(c, argc, argv, false); }

FX_FN int fx_run_script(struct sh_cmd *c, const uint8_t *text, size_t len, const char *name, int argc,
                         char **argv)
{
    struct fx *f = fx_of(c);
    snprintf(f->script, sizeof(f->script), "%.*s", (int)len, (const char *)text);
    f->scripts++;
    return 0;
}

FX_FN void fx_logout(struct sh_cmd *c, int status)
{
    struct fx *f = fx_of(c);
    f->logouts++;
    f->logout_status = status;
}

FX_FN size_t fx_history(struct sh_cmd *c, const char *const **lines)
{
    struct fx *f = fx_of(c);
    *lines = f->history;
    return f->nhistory;
}

FX_FN enum sh_fetch_result fx_fetch(struct sh_cmd *c, const char *tool, const char *url, const char *dest,
                                     struct hp_buf *body)
{
    struct fx *f = fx_of(c);
    if (f->nfetch < FX_MAX_FETCH) {
        snprintf(f->fetch_url[f->nfetch], sizeof(f->fetch_url[0]), "%s", url);
        snprintf(f->fetch_dest[f->nfetch], sizeof(f->fetch_dest[0]), "%s", dest ? dest : "(stdout)");
        snprintf(f->fetch_tool[f->nfetch], sizeof(f->fetch_tool[0]), "%s", tool);
        f->nfetch++;
    }
    if (f->fetch_result == SH_FETCH_OK && f->fetch_body)
        hp_buf_put(body, f->fetch_body, f->fetch_len);
    return f->fetch_result;
}

FX_FN void fx_event(struct sh_cmd *c, const char *eventid, const char *key, const char *value)
{
    struct fx *f = fx_of(c);
    if (f->nev < 8) {
        snprintf(f->ev_id[f->nev], 64, "%s", eventid);
        snprintf(f->ev_key[f->nev], 64, "%s", key);
        snprintf(f->ev_val[f->nev], 512, "%s", value);
        f->nev++;
    }
}

/* A fixture on personality pname ("debian", "busybox"), user root or not. */
FX_FN struct fx *fx_new(const char *pname, bool root)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->ops = (struct sh_cmd_ops){ .write = fx_write, .getenv = fx_getenv, .environ = fx_environ,
                                  .which = fx_which, .run_argv = fx_run_argv, .run_script = fx_run_script,
                                  .logout = fx_logout, .history = fx_history, .fetch = fx_fetch,
                                  .event = fx_event };
    hp_buf_init(&f->out, 4u << 20);
    hp_buf_init(&f->err, 4u << 20);
    const struct hp_persona *p = hp_persona_get(pname);
    assert_non_null(p);
    f->sess = (struct sh_session){ .client_ip = "203.0.113.7", .local_ip = "10.20.0.5", .tty = "pts/0",
                                   .login_s = p->boot_time + 3 * 86400 + 7322 - 61, .shell_pid = 2345,
                                   .protocol = p->busybox ? "telnet" : "ssh" };
    const char *user = root ? "root" : p->busybox ? "admin" : "alice";
    const char *home = root ? "/root" : p->busybox ? "/home/admin" : "/home/alice";
    struct sh_vfs_params vp = { .persona = p, .source = NULL, .uid = root ? 0 : 1000, .gid = root ? 0 : 1000,
                                .user = user, .home = home };
    f->c = (struct sh_cmd){ .ops = &f->ops, .persona = p, .fs = sh_vfs_open(&vp), .sess = &f->sess,
                            .cwd = home, .uid = root ? 0 : 1000, .gid = root ? 0 : 1000, .user = user,
                            .home = home, .now_s = p->boot_time + 3 * 86400 + 7322, .in_tty = true, .out_tty = true, .width = 80 };
    f->fetch_result = SH_FETCH_UNREACHABLE;
    sh_vfs_test_clock(f->c.now_s);   /* /proc files and commands read the same clock */
    return f;
}

FX_FN void fx_free(struct fx *f)
{
    sh_vfs_test_clock(0);
    if (f->c.fs)
        sh_vfs_close(f->c.fs);
    hp_buf_free(&f->out);
    hp_buf_free(&f->err);
    free(f);
}

/* Split line in place on blanks into argv (at most max words, NULL-terminated); the count. */
FX_FN int fx_split(char *line, char **argv, int max)
{
    int argc = 0;
    for (char *save = NULL, *t = strtok_r(line, " ", &save); t && argc < max; t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    argv[argc] = NULL;
    return argc;
}

/* Run "prog args..." (blank-separated) as the program applet (NULL: prog's
 * own; Debian's links: reboot -> systemctl), with stdin text (NULL: the
 * terminal). */
FX_FN int fx_run_as(struct fx *f, const char *applet, const char *line, const char *in)
{
    hp_buf_reset(&f->out);
    hp_buf_reset(&f->err);
    snprintf(f->line, sizeof(f->line), "%s", line);
    int argc = fx_split(f->line, f->argv, FX_MAX_ARGS);
    const struct sh_cmd_def *d = sh_cmd_find(applet ? applet : f->argv[0]);
    assert_non_null(d);
    f->c.argc = argc;
    f->c.argv = f->argv;
    f->c.applet = applet ? applet : d->name;
    f->c.in = (const uint8_t *)in;
    f->c.in_len = in ? strlen(in) : 0;
    f->c.in_tty = in == NULL;
    int st = d->fn(&f->c);
    hp_buf_cstr(&f->out);
    hp_buf_cstr(&f->err);
    if (getenv("FX_SHOW"))
        fprintf(stderr, "$ %s  [%d]\n%s---stderr---\n%s=========\n", line, st, (char *)f->out.data,
                (char *)f->err.data);
    return st;
}

FX_FN int fx_run(struct fx *f, const char *line, const char *in) { return fx_run_as(f, NULL, line, in); }

FX_FN const char *fx_out(struct fx *f) { return f->out.data ? (const char *)f->out.data : ""; }
FX_FN const char *fx_err(struct fx *f) { return f->err.data ? (const char *)f->err.data : ""; }

/* The contents of a vfs file (static buffer), NULL if missing. */
FX_FN const char *fx_file(struct fx *f, const char *path)
{
    static struct hp_buf b;
    hp_buf_free(&b);
    hp_buf_init(&b, 8u << 20);
    if (sh_vfs_read(f->c.fs, path, 0, 0, &b) < 0)
        return NULL;
    return hp_buf_cstr(&b);
}


/* ---- the light fixture: the test owns the vfs and the struct sh_cmd ---------------------------- */

FX_VAR struct hp_buf fxl_out, fxl_err;

FX_FN void fxl_write(struct sh_cmd *c, int fd, const void *d, size_t n)
{
    hp_buf_put(fd == 1 ? &fxl_out : &fxl_err, d, n);
}

/* The shell's lookup: an executable regular file in a PATH directory. */
FX_FN int fxl_which(struct sh_cmd *c, const char *name, char *out, size_t n)
{
    static const char *const dirs[] = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin",
                                         "/sbin", "/bin" };
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        struct sh_stat st;
        snprintf(out, n, "%s/%s", dirs[i], name);
        if (c->fs && sh_vfs_stat(c->fs, out, true, &st) == 0 && st.type == SH_FT_REG && (st.mode & 0111))
            return 0;
    }
    return -ENOENT;
}

FX_FN int fxl_run_argv(struct sh_cmd *c, int argc, char **argv) { return fx_sub(c, argc, argv, true); }

FX_VAR const struct sh_cmd_ops fxl_ops = { .write = fxl_write, .getenv = fx_getenv, .which = fxl_which,
                                           .run_argv = fxl_run_argv };

/* The two stream buffers: open in the group's setup, close in its teardown. */
FX_FN void fxl_open(void)
{
    hp_buf_init(&fxl_out, 16u << 20);
    hp_buf_init(&fxl_err, 1u << 20);
}

FX_FN void fxl_close(void)
{
    hp_buf_free(&fxl_out);
    hp_buf_free(&fxl_err);
}

/* A root session's vfs on the personality. */
FX_FN struct sh_vfs *fxl_vfs(const char *persona)
{
    struct sh_vfs_params p = { .persona = hp_persona_get(persona), .source = NULL, .uid = 0, .gid = 0,
                               .user = "root", .home = "/root", .shell_pid = 4321 };
    struct sh_vfs *v = sh_vfs_open(&p);
    assert_non_null(v);
    return v;
}

/* A fresh start with the stream buffers and a root vfs on Debian and on busybox. */
FX_FN void fxl_open_pair(struct sh_vfs **deb, struct sh_vfs **bb)
{
    sh_vfs_reset();
    fxl_open();
    *deb = fxl_vfs("debian");
    *bb = fxl_vfs("busybox");
}

FX_FN void fxl_close_pair(struct sh_vfs *deb, struct sh_vfs *bb)
{
    sh_vfs_close(deb);
    sh_vfs_close(bb);
    sh_vfs_reset();
    fxl_close();
}

/* Run argv (argc words) with the rest of the command from tmpl; fxl_out and
 * fxl_err hold the streams (NUL-terminated), the status is returned. */
FX_FN int fxl_exec(const struct sh_cmd *tmpl, int argc, char **argv)
{
    const struct sh_cmd_def *d = sh_cmd_find(argv[0]);
    assert_non_null(d);
    struct sh_cmd c = *tmpl;
    c.ops = &fxl_ops;
    c.argc = argc;
    c.argv = argv;
    c.applet = d->name;
    hp_buf_reset(&fxl_out);
    hp_buf_reset(&fxl_err);
    int rc = d->fn(&c);
    hp_buf_cstr(&fxl_out);
    hp_buf_cstr(&fxl_err);
    return rc;
}

/* Run argv (NULL-terminated) as root in cwd over fs with stdin in (in_len
 * bytes; 0: strlen), compare stdout, stderr and status. */
FX_FN void fxl_runv(struct sh_vfs *fs, const char *persona, const char *cwd, const char *in, size_t in_len,
                    const char *want_out, const char *want_err, int want_rc, const char *const *argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    struct sh_session sess = { .client_ip = "1.2.3.4", .tty = "pts/0", .shell_pid = 4321, .protocol = "ssh" };
    struct sh_cmd c = { .in = (const uint8_t *)in, .in_len = in_len ? in_len : in ? strlen(in) : 0, .width = 80,
                        .persona = hp_persona_get(persona), .fs = fs, .sess = &sess, .cwd = cwd,
                        .user = "root", .home = "/root", .now_s = 1700000000 };
    int rc = fxl_exec(&c, argc, (char **)argv);
    const char *o = (const char *)fxl_out.data, *e = (const char *)fxl_err.data;
    if (strcmp(o, want_out) != 0 || strcmp(e, want_err) != 0 || rc != want_rc) {
        fprintf(stderr, "argv:");
        for (int k = 0; k < argc; k++)
            fprintf(stderr, " [%s]", argv[k]);
        fprintf(stderr, "\nstdout: [%s]\nwanted: [%s]\nstderr: [%s]\nwanted: [%s]\nstatus %d wanted %d\n",
                o, want_out, e, want_err, rc, want_rc);
    }
    assert_string_equal(o, want_out);
    assert_string_equal(e, want_err);
    assert_int_equal(rc, want_rc);
}

/* Write text to path (created or truncated, mode). */
FX_FN void fx_vfs_put(struct sh_vfs *fs, const char *path, const char *text, unsigned mode)
{
    assert_true(sh_vfs_write(fs, path, text, strlen(text), SH_O_CREAT | SH_O_TRUNC, mode) >= 0);
}

/* The contents of path (malloc'd, the caller frees), NULL if missing. */
FX_FN char *fx_vfs_get(struct sh_vfs *fs, const char *path)
{
    struct hp_buf b;
    hp_buf_init(&b, 1u << 20);
    if (sh_vfs_read(fs, path, 0, 0, &b) < 0) {
        hp_buf_free(&b);
        return NULL;
    }
    char *s = strdup(hp_buf_cstr(&b));
    hp_buf_free(&b);
    return s;
}

/* ---- end to end: a line through the real interpreter ------------------------------------------ */

FX_FN void fx_e2e_write(void *arg, const void *d, size_t n) { hp_buf_put(arg, d, n); }

/* Run line as root on persona in mode (HP_INTERP_SCRIPT, _INTERACTIVE); the output must be want. */
FX_FN void fx_e2e(const char *persona, enum hp_interp_mode mode, const char *line, const char *want)
{
    struct hp_buf out;
    hp_buf_init(&out, 1u << 20);
    struct hp_interp_sys sys = { .user = "root", .host = "box", .kernel_release = "x", .kernel_version = "y",
                                 .machine = "x86_64", .persona = hp_persona_get(persona) };
    struct hp_interp_io io = { .write = fx_e2e_write, .arg = &out };
    struct hp_interp *it = hp_interp_new(&sys, &io);
    assert_non_null(it);
    hp_interp_line(it, mode, 1, (const uint8_t *)line, strlen(line));
    const char *o = hp_buf_cstr(&out);
    if (strcmp(o, want) != 0)
        fprintf(stderr, "line: %s\noutput: [%s]\nwanted: [%s]\n", line, o, want);
    assert_string_equal(o, want);
    hp_interp_free(it);
    hp_buf_free(&out);
}

#endif
