/*
 * cmd_sys.h - helpers shared by the system and network programs
 * (cmd_sys.c, cmd_hw.c, cmd_proc.c, cmd_admin.c, cmd_script.c, cmd_net.c,
 * cmd_netinfo.c); internal to them.
 *
 * The programs all need the same few things: a getopt that behaves like
 * glibc's (bundles, permuted operands, long options with '=') so usage
 * errors read like the real tools', the usage messages of GNU and busybox
 * tools, the machine's process list with the session's own processes added,
 * and the uptime line that uptime, w and top share.  Keeping them here makes
 * every program say the same thing about the machine.
 */
#ifndef HP_CMD_SYS_H
#define HP_CMD_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "cmd.h"

struct hp_buf;

/* ---- options ------------------------------------------------------------------ */

#define SYS_OPERANDS_MAX 256      /* operands kept; more are dropped (attacker-sized) */

struct sys_longopt {
    const char *name;             /* without "--" */
    int has_arg;                  /* 0 none, 1 required, 2 optional ("--x=y" only) */
    int val;
};

struct sys_getopt {
    int argc;
    char **argv;
    int idx;                      /* next argv element */
    int sub;                      /* position inside a short-option bundle */
    bool posix;                   /* stop at the first operand (busybox, env, sudo) */
    const char *optarg;
    const char *bad;              /* offending element ("--foo" or the bundle) */
    char badc;                    /* offending short option */
    bool badlong;                 /* bad is an unknown or ambiguous long option */
    bool missing;                 /* an argument was missing */
    bool longarg_extra;           /* "--help=x": option does not take an argument */
    char *operands[SYS_OPERANDS_MAX];
    int noperands;
    int rest;                     /* posix mode: index of the first operand (argc if none) */
};

void sys_getopt_init(struct sys_getopt *g, int argc, char **argv, bool posix);
/* Next option: the short option character or the long option's val; -1
 * when done; '?' for an unknown option, ':' for a missing argument (the
 * details are in g for sys_usage_*). */
int sys_getopt(struct sys_getopt *g, const char *shorts, const struct sys_longopt *longs);

/* GNU: "PROG: invalid option -- 'x'" (or the long/missing variants) and
 * "Try 'PROG --help' for more information."; returns rc. */
int sys_usage_gnu(struct sh_cmd *c, const char *prog, const struct sys_getopt *g, int rc);
/* The getopt error line alone ("PROG: invalid option -- 'x'" ...). */
void sys_getopt_msg(struct sh_cmd *c, const char *prog, const struct sys_getopt *g);
/* GNU coreutils' --version text and the tail of its --help text. */
void sys_gnu_version(struct sh_cmd *c, const char *prog, const char *authors);
void sys_gnu_help_tail(struct sh_cmd *c, const char *prog);
/* GNU: "PROG: extra operand 'x'" + Try line; returns rc. */
int sys_extra_operand(struct sh_cmd *c, const char *prog, const char *arg, int rc);
/* GNU: "PROG: missing operand" + Try line; returns rc. */
int sys_missing_operand(struct sh_cmd *c, const char *prog, int rc);
/* Busybox: the option error (if any) then the banner and usage on stderr,
 * as bb_show_usage does; returns 1 (0 for --help). */
int sys_usage_bb(struct sh_cmd *c, const char *applet, const struct sys_getopt *g, const char *usage);

/* ---- the machine ---------------------------------------------------------------- */

/* Broken-down UTC time of the line's clock (the machines run on UTC). */
void sys_gmtime(int64_t t, struct tm *tm);
/* " 14:03:11 up 3 days,  2:11,  1 user,  load average: 0.00, 0.01, 0.00"
 * (procps; busybox drops the user count), without the newline. */
void sys_uptime_line(struct sh_cmd *c, struct hp_buf *out);
/* The session's tty, "pts/0" when unknown. */
const char *sys_tty(const struct sh_cmd *c);
const char *sys_client_ip(const struct sh_cmd *c);
const char *sys_local_ip(const struct sh_cmd *c);
/* The pid the current command runs as: grows with each command line. */
unsigned sys_self_pid(struct sh_cmd *c);

/* The machine's processes plus the session's (sshd/telnetd child, the
 * login shell) and, when self_cmd is not NULL, the running command itself,
 * sorted by pid.  Returns the count; *out is malloc'd (free it). */
size_t sys_procs(struct sh_cmd *c, const char *self_cmd, struct hp_proc **out);

/* Bytes of a whole vfs file into out (NUL-terminated through hp_buf_cstr);
 * 0 or a negative errno. */
int sys_read_file(struct sh_cmd *c, const char *path, struct hp_buf *out);
/* Write (create/truncate) a vfs file; 0 or a negative errno. */
int sys_write_file(struct sh_cmd *c, const char *path, const void *data, size_t len, unsigned mode);

/* ---- addresses (cmd_net.c; fuzzed by fuzz/fuzz_cmd_net.c) ----------------------- */

struct sys_url {
    char scheme[16];              /* lower case: "http", "https", "ftp", "tftp" */
    char user[512], pass[512];
    bool has_user, has_pass;
    char host[256];               /* without the brackets of an IPv6 literal */
    bool ipv6;                    /* host was [..] */
    unsigned port;                /* the URL's, or the scheme's default */
    bool has_port;
    char path[2048];              /* "/..." with query; "/" when empty */
};

enum sys_url_err { SYS_URL_OK, SYS_URL_BAD_PORT, SYS_URL_NO_HOST, SYS_URL_BAD_SCHEME, SYS_URL_TOO_LONG };

/* Parse url as wget/curl do ("host/path" means http://host/path).  Never
 * reads past the NUL, never writes past the fields. */
enum sys_url_err sys_url_parse(const char *url, const char *default_scheme, struct sys_url *u);
/* Rebuild the canonical URL (scheme://[user[:pass]@]host[:port]/path). */
void sys_url_format(const struct sys_url *u, char *out, size_t n);
/* A dotted-quad IPv4 address (or an IPv6 literal when ipv6): true when the
 * host needs no name resolution. */
bool sys_host_is_ip(const char *host, bool ipv6);
/* "host:port" or "host port" split; false when the port is missing or bad. */
bool sys_hostport_parse(const char *s, char *host, size_t hn, unsigned *port);

/* The busybox banner "BusyBox v1.31.1 (...) multi-call binary." */
const char *sys_bb_banner(const struct sh_cmd *c);

#endif
