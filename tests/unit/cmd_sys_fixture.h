/*
 * cmd_sys_fixture.h - a fake interpreter for the system and network
 * programs' unit tests (test_cmd_sys.c, test_cmd_net.c).
 *
 * The programs only talk to the shell through struct sh_cmd_ops (cmd.h),
 * so a test builds a struct sh_cmd by hand: argv split on blanks (no
 * quoting: tests use NUL-free plain words, or pass argv directly), stdin
 * from a string, stdout and stderr captured apart, a real vfs over the
 * personality's base image, and a fetch whose result and body the test
 * chooses.  Sub-commands (sudo, env, busybox APPLET) run through
 * sh_cmd_find like the interpreter would.
 */
#ifndef CMD_SYS_FIXTURE_H
#define CMD_SYS_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "shell/cmd.h"
#include "shell/persona.h"
#include "shell/vfs.h"
#include "buf.h"

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

static struct fx *fx_of(struct sh_cmd *c)
{
    return (struct fx *)((char *)c->ops - offsetof(struct fx, ops));
}

static void fx_write(struct sh_cmd *c, int fd, const void *data, size_t len)
{
    struct fx *f = fx_of(c);
    hp_buf_put(fd == 1 ? &f->out : &f->err, data, len);
}

static const char *fx_getenv(struct sh_cmd *c, const char *name)
{
    if (!strcmp(name, "HOME"))
        return c->home;
    if (!strcmp(name, "USER"))
        return c->user;
    if (!strcmp(name, "PATH"))
        return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    return NULL;
}

static void fx_environ(struct sh_cmd *c, struct hp_buf *out)
{
    hp_buf_printf(out, "SHELL=/bin/bash\nPWD=%s\nLOGNAME=%s\nHOME=%s\nLANG=C.UTF-8\nUSER=%s\n"
                       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n",
                  c->cwd, c->user, c->home, c->user);
}

static int fx_which(struct sh_cmd *c, const char *name, char *out, size_t outlen)
{
    const char *b = strrchr(name, '/');
    if (!sh_cmd_find(b ? b + 1 : name))
        return -2;
    snprintf(out, outlen, "/usr/bin/%s", b ? b + 1 : name);
    return 0;
}

static int fx_run_argv(struct sh_cmd *c, int argc, char **argv)
{
    const char *b = strrchr(argv[0], '/');
    const struct sh_cmd_def *d = sh_cmd_find(b ? b + 1 : argv[0]);
    if (!d) {
        hp_buf_printf(&fx_of(c)->err, "-bash: %s: command not found\n", argv[0]);
        return 127;
    }
    struct sh_cmd sub = *c;
    sub.argc = argc;
    sub.argv = argv;
    sub.applet = d->name;
    return d->fn(&sub);
}

static int fx_run_script(struct sh_cmd *c, const uint8_t *text, size_t len, const char *name, int argc,
                         char **argv)
{
    struct fx *f = fx_of(c);
    snprintf(f->script, sizeof(f->script), "%.*s", (int)len, (const char *)text);
    f->scripts++;
    return 0;
}

static void fx_logout(struct sh_cmd *c, int status)
{
    struct fx *f = fx_of(c);
    f->logouts++;
    f->logout_status = status;
}

static size_t fx_history(struct sh_cmd *c, const char *const **lines)
{
    struct fx *f = fx_of(c);
    *lines = f->history;
    return f->nhistory;
}

static enum sh_fetch_result fx_fetch(struct sh_cmd *c, const char *tool, const char *url, const char *dest,
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

static void fx_event(struct sh_cmd *c, const char *eventid, const char *key, const char *value)
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
static struct fx *fx_new(const char *pname, bool root)
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

static void fx_free(struct fx *f)
{
    sh_vfs_test_clock(0);
    if (f->c.fs)
        sh_vfs_close(f->c.fs);
    hp_buf_free(&f->out);
    hp_buf_free(&f->err);
    free(f);
}

/* Run "prog args..." (blank-separated) with stdin text (NULL: the terminal). */
static int fx_run(struct fx *f, const char *line, const char *in)
{
    hp_buf_reset(&f->out);
    hp_buf_reset(&f->err);
    snprintf(f->line, sizeof(f->line), "%s", line);
    int argc = 0;
    for (char *save = NULL, *t = strtok_r(f->line, " ", &save); t && argc < FX_MAX_ARGS; t = strtok_r(NULL, " ", &save))
        f->argv[argc++] = t;
    f->argv[argc] = NULL;
    const struct sh_cmd_def *d = sh_cmd_find(f->argv[0]);
    assert_non_null(d);
    f->c.argc = argc;
    f->c.argv = f->argv;
    f->c.applet = d->name;
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

static const char *fx_out(struct fx *f) { return f->out.data ? (const char *)f->out.data : ""; }
static const char *fx_err(struct fx *f) { return f->err.data ? (const char *)f->err.data : ""; }

/* The contents of a vfs file (static buffer), NULL if missing. */
static const char *fx_file(struct fx *f, const char *path)
{
    static struct hp_buf b;
    hp_buf_free(&b);
    hp_buf_init(&b, 8u << 20);
    if (sh_vfs_read(f->c.fs, path, 0, 0, &b) < 0)
        return NULL;
    return hp_buf_cstr(&b);
}

#endif
