/*
 * cmd.c - the program registry and the calls every emulated program uses.
 * See cmd.h.
 *
 * The registry is the union of the per-family tables (one line each
 * below); lookups go through a sorted index built on first use, so adding
 * a family touches its own file and one line here.  The sh_* calls are thin
 * wrappers over the interpreter's struct sh_cmd_ops, which keeps programs
 * testable with a fake interpreter.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "buf.h"

extern const struct sh_cmd_def sh_cmds_shell[];
extern const struct sh_cmd_def sh_cmds_fs[];
extern const struct sh_cmd_def sh_cmds_fs2[];
extern const struct sh_cmd_def sh_cmds_text[];
extern const struct sh_cmd_def sh_cmds_sed[];
extern const struct sh_cmd_def sh_cmds_textutil[];
extern const struct sh_cmd_def sh_cmds_dump[];
extern const struct sh_cmd_def sh_cmds_awk[];
extern const struct sh_cmd_def sh_cmds_sys[];
extern const struct sh_cmd_def sh_cmds_net[];
extern const struct sh_cmd_def sh_cmds_proc[];
extern const struct sh_cmd_def sh_cmds_admin[];
extern const struct sh_cmd_def sh_cmds_hw[];
extern const struct sh_cmd_def sh_cmds_netinfo[];
extern const struct sh_cmd_def sh_cmds_script[];
extern const struct sh_cmd_def sh_cmds_archive[];
extern const struct sh_cmd_def sh_cmds_misc[];

static const struct sh_cmd_def *const families[] = {
    sh_cmds_shell,                /* cmd_shell.c: echo, printf, test, ... (also built-ins) */
    sh_cmds_fs,                   /* cmd_fs.c:    ls, cat, cp, mv, rm, ... */
    sh_cmds_fs2,                  /* cmd_fs2.c:   chmod, ln, dd, find, stat, md5sum, ... */
    sh_cmds_text,                 /* cmd_text.c:  grep, cut, sort, base64, ... */
    sh_cmds_sed,                  /* cmd_sed.c:   sed */
    sh_cmds_textutil,             /* cmd_textutil.c: xargs, nl, fold, tac, paste, comm, ... */
    sh_cmds_dump,                 /* cmd_dump.c:  od, hexdump, xxd, cmp, diff */
    sh_cmds_awk,                  /* cmd_awk.c:   awk (mawk, busybox awk) */
    sh_cmds_sys,                  /* cmd_sys.c:   uname, id, w, uptime, date, hostname, ... */
    sh_cmds_net,                  /* cmd_net.c:   wget, curl, tftp, ftpget, nc, ssh, ... */
    sh_cmds_proc,                 /* cmd_proc.c:  ps, top, kill, sudo, env, busybox, ... */
    sh_cmds_admin,                /* cmd_admin.c: crontab, passwd, useradd, apt, systemctl, iptables */
    sh_cmds_hw,                   /* cmd_hw.c:    free, df, mount, nproc, lscpu, dmesg, ... */
    sh_cmds_netinfo,              /* cmd_netinfo.c: ifconfig, ip, netstat, ss, ping, ... */
    sh_cmds_script,               /* cmd_script.c: python3, perl, chattr, sysctl, ... */
    sh_cmds_archive,              /* cmd_archive.c: tar, gzip, gunzip, zcat, bzip2, xz */
    sh_cmds_misc,                 /* cmd_misc.c:  expr, getent, lsblk, ssh-keygen, openssl, ... */
};

#define CMD_MAX 1024

static const struct sh_cmd_def *index_defs[CMD_MAX];
static const char *index_names[CMD_MAX + 1];
static size_t index_n;
static int index_built;

static int def_cmp(const void *a, const void *b)
{
    const struct sh_cmd_def *x = *(const struct sh_cmd_def *const *)a;
    const struct sh_cmd_def *y = *(const struct sh_cmd_def *const *)b;
    return strcmp(x->name, y->name);
}

/* Sorted, first definition of a name wins (families are listed by priority). */
static void index_build(void)
{
    if (index_built)
        return;
    index_built = 1;
    for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
        for (const struct sh_cmd_def *d = families[f]; d->name; d++)
            if (index_n < CMD_MAX)
                index_defs[index_n++] = d;
    qsort(index_defs, index_n, sizeof(index_defs[0]), def_cmp);
    size_t w = 0;
    for (size_t i = 0; i < index_n; i++)
        if (w == 0 || strcmp(index_defs[w - 1]->name, index_defs[i]->name) != 0)
            index_defs[w++] = index_defs[i];
    index_n = w;
    for (size_t i = 0; i < index_n; i++)
        index_names[i] = index_defs[i]->name;
    index_names[index_n] = NULL;
}

const struct sh_cmd_def *sh_cmd_find(const char *name)
{
    index_build();
    size_t lo = 0, hi = index_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(name, index_defs[mid]->name);
        if (r == 0)
            return index_defs[mid];
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *const *sh_cmd_names(void)
{
    index_build();
    return index_names;
}

/* ---- output ------------------------------------------------------------------ */

void sh_out(struct sh_cmd *c, const void *data, size_t len)
{
    if (len && c->ops && c->ops->write)
        c->ops->write(c, 1, data, len);
}

void sh_err(struct sh_cmd *c, const void *data, size_t len)
{
    if (len && c->ops && c->ops->write)
        c->ops->write(c, 2, data, len);
}

void sh_outs(struct sh_cmd *c, const char *s) { sh_out(c, s, strlen(s)); }
void sh_errs(struct sh_cmd *c, const char *s) { sh_err(c, s, strlen(s)); }

static void vfmt(struct sh_cmd *c, int fd, const char *prefix, const char *fmt, va_list ap,
                 const char *suffix)
{
    struct hp_buf b;
    hp_buf_init(&b, 256 * 1024);
    if (prefix)
        hp_buf_puts(&b, prefix);
    hp_buf_vprintf(&b, fmt, ap);
    if (suffix)
        hp_buf_puts(&b, suffix);
    if (fd == 1)
        sh_out(c, b.data, b.len);
    else
        sh_err(c, b.data, b.len);
    hp_buf_free(&b);
}

void sh_outf(struct sh_cmd *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfmt(c, 1, NULL, fmt, ap, NULL);
    va_end(ap);
}

void sh_errf(struct sh_cmd *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfmt(c, 2, NULL, fmt, ap, NULL);
    va_end(ap);
}

/* The name a tool prints for itself: coreutils use their own name whatever
 * the path ("/bin/ls" says "ls:"), busybox applets the applet name. */
static const char *prog_name(const struct sh_cmd *c)
{
    if (c->applet && c->applet[0])
        return c->applet;
    const char *a0 = c->argc > 0 && c->argv[0] ? c->argv[0] : "sh";
    const char *slash = strrchr(a0, '/');
    return slash ? slash + 1 : a0;
}

void sh_errmsg(struct sh_cmd *c, const char *fmt, ...)
{
    char prefix[300];
    snprintf(prefix, sizeof(prefix), "%s: ", prog_name(c));
    va_list ap;
    va_start(ap, fmt);
    vfmt(c, 2, prefix, fmt, ap, "\n");
    va_end(ap);
}

/* ---- the shell around the program ------------------------------------------------ */

const char *sh_getenv(struct sh_cmd *c, const char *name)
{
    return c->ops && c->ops->getenv ? c->ops->getenv(c, name) : NULL;
}

void sh_setenv(struct sh_cmd *c, const char *name, const char *value)
{
    if (c->ops && c->ops->setenv)
        c->ops->setenv(c, name, value);
}

void sh_environ(struct sh_cmd *c, struct hp_buf *out)
{
    if (c->ops && c->ops->environ)
        c->ops->environ(c, out);
}

int sh_path(struct sh_cmd *c, const char *arg, char *out, size_t outlen)
{
    return sh_vfs_abspath(c->cwd ? c->cwd : "/", arg, out, outlen);
}

int sh_which(struct sh_cmd *c, const char *name, char *out, size_t outlen)
{
    return c->ops && c->ops->which ? c->ops->which(c, name, out, outlen) : -ENOENT;
}

int sh_run_argv(struct sh_cmd *c, int argc, char **argv)
{
    return c->ops && c->ops->run_argv ? c->ops->run_argv(c, argc, argv) : 127;
}

int sh_run_script(struct sh_cmd *c, const uint8_t *text, size_t len, const char *name,
                  int argc, char **argv)
{
    return c->ops && c->ops->run_script ? c->ops->run_script(c, text, len, name, argc, argv) : 0;
}

int sh_run_applet(struct sh_cmd *c, const char *applet, int argc, char **argv)
{
    const struct sh_cmd_def *d = sh_cmd_find(applet);
    if (!d)
        return -1;
    struct sh_cmd sub = *c;
    sub.argc = argc;
    sub.argv = argv;
    sub.applet = d->name;
    return d->fn(&sub);
}

void sh_logout(struct sh_cmd *c, int status)
{
    if (c->ops && c->ops->logout)
        c->ops->logout(c, status);
}

size_t sh_history(struct sh_cmd *c, const char *const **lines)
{
    if (c->ops && c->ops->history)
        return c->ops->history(c, lines);
    *lines = NULL;
    return 0;
}

enum sh_fetch_result sh_fetch(struct sh_cmd *c, const char *tool, const char *url, const char *dest,
                              struct hp_buf *body)
{
    if (c->ops && c->ops->fetch)
        return c->ops->fetch(c, tool, url, dest, body);
    return SH_FETCH_UNREACHABLE;
}

const char *sh_state_get(struct sh_cmd *c, const char *key)
{
    return c->ops && c->ops->state_get ? c->ops->state_get(c, key) : NULL;
}

void sh_state_set(struct sh_cmd *c, const char *key, const char *value)
{
    if (c->ops && c->ops->state_set)
        c->ops->state_set(c, key, value);
}

void sh_event(struct sh_cmd *c, const char *eventid, const char *key, const char *value)
{
    if (c->ops && c->ops->event)
        c->ops->event(c, eventid, key, value);
}

/* ---- helpers ---------------------------------------------------------------------- */

bool sh_parse_long(const char *s, long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

const char *sh_strerror(int err)
{
    if (err < 0)
        err = -err;
    return strerror(err);
}
