/*
 * ftp_int.h - what ftp.c (the session) and ftp_flavor.c (the products)
 * share: the personality table's row, the service's settings, one
 * connection's state, and the few helpers each side calls in the other.
 * Internal to the FTP module.
 */
#ifndef HP_FTP_INT_H
#define HP_FTP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include "buf.h"
#include "conn.h"
#include "ftp_data.h"
#include "ftp_parse.h"
#include "reader.h"
#include "shell/vfs.h"

#define FTP_VSFTPD_LINE_MAX 4096         /* vsftpd's VSFTP_MAX_COMMAND_LINE, '\n' included */
#define FTP_LIST_MAX      (1u << 20)     /* bytes of one directory listing */
#define FTP_PROFTPD_LINE_MAX 4102        /* 1.3.8 answers lines of 4100 bytes and CRLF */
#define FTP_PROFTPD_DROP_MAX 16000       /* longer ones are dropped unanswered, up to about this */
#define FTP_COPY_MAX      (16u << 20)    /* bytes of one SITE CPFR/CPTO copy */
#define FTP_FAIL_DELAY_AUTO UINT64_MAX   /* vsftpd's delay_failed_login + PAM's, none for the others */

/* Reply texts: "{0}", "{1}"... are replaced by the arguments (no printf formats
 * built at run time). */
struct ftp_flavour {
    const char *name;             /* identity value of ftp_server */
    const char *const *versions;
    enum ftp_list_style list;
    bool mlsd;
    const char *syst, *feat, *help;
    const char *user_ok, *anon_ok, *login_ok, *anon_login, *login_bad, *need_login, *unknown;
    const char *pwd, *cwd_ok, *cwd_bad, *type_i, *type_a, *type_bad;
    const char *pasv, *epsv, *port_ok, *port_bad, *no_data, *data_fail;
    const char *list_150, *list_226, *retr_150, *xfer_226, *stor_150, *no_file, *no_write;
    const char *dele_ok, *mkd_ok, *rmd_ok, *rnfr_ok, *rnto_ok, *rnfr_need, *noop, *quit, *too_many;
    const char *eprt_ok;          /* NULL: port_ok */
    bool proftpd;                 /* ProFTPD's command table (unknown verbs, what works before login) */
    bool vsftpd;                  /* vsftpd 3.0.x answers where the products differ (OPTS, SITE, STAT, EPRT...) */
};

struct ftp_conf {
    const struct ftp_flavour *fl;     /* NULL until start(): the identity's */
    char version[32];
    char *personality;                /* shell personality whose file system is shown */
    char *data_dir;
    char *pasv_address;               /* IPv4 announced in 227 replies (NAT); NULL: the local address */
    uint16_t pasv_min, pasv_max;
    uint64_t max_capture;
    uint64_t accept_after;            /* 0: named users never get in */
    uint64_t max_auth_tries;
    uint64_t data_timeout_ms;
    uint64_t fail_delay_ms;           /* before a 530 for a wrong password; FTP_FAIL_DELAY_AUTO: the product's */
    bool anonymous;
    bool active;                      /* PORT/EPRT to the client's own address allowed */
};

#define FTP_PATH_MAX 1024
#define FTP_USER_MAX 128

enum ftp_xkind { XK_NONE, XK_LIST, XK_NLST, XK_MLSD, XK_RETR, XK_STOR, XK_APPE };

struct ftp_sess {
    struct hp_conn *c;
    const struct ftp_conf *cf;
    struct ftp_data *data;
    struct sh_vfs *fs;
    uint8_t user[FTP_USER_MAX];   /* as sent (bytes) */
    size_t userlen;
    bool have_user, logged_in, anon, closing, binary;
    bool waiting;                 /* a transfer runs: later commands wait, as on a real server */
    bool in_data;                 /* inside on_data (its reader owns the input) */
    bool have_rnfr;
    bool fail_wait;               /* a wrong password's 530 waits for the timer */
    unsigned attempts, fails, ncmds, nrefused;
    char root[32];                /* "" or the chroot (anonymous, Microsoft) */
    char cwd[FTP_PATH_MAX];       /* as the client sees it */
    char rnfr[FTP_PATH_MAX];      /* real path */
    enum ftp_xkind xkind;
    char xvirt[FTP_PATH_MAX];     /* path of the running transfer, as the client sees it */
    char xreal[FTP_PATH_MAX];
    uint64_t up_bytes, down_bytes;
    uint64_t rest;                /* REST offset for the next RETR */
    unsigned xcount;              /* entries of the listing being sent */
    unsigned umask;               /* SITE UMASK (vsftpd: shown only) */
    bool epsv_all;                /* ProFTPD: EPSV ALL sent, PASV/PORT/EPRT refused */
    bool dropping;                /* ProFTPD: inside an over-long line, skipped to its '\n' */
    size_t dropped;
    bool have_cpfr;               /* ProFTPD: SITE CPFR done, for SITE CPTO */
    char cpfr[FTP_PATH_MAX];      /* its real path */
};

static inline bool ftp_is(const struct ftp_cmd *cmd, const char *v)
{
    return strcmp(cmd->verb, v) == 0;
}

/* The argument is text (any case), exactly. */
static inline bool ftp_arg_is(const struct ftp_cmd *cmd, const char *text)
{
    size_t n = strlen(text);
    return cmd->arglen == n && strncasecmp((const char *)cmd->arg, text, n) == 0;
}

/* ---- ftp.c: the session ---- */

/* A reply from a template (reply.h: "{0}".."{2}" become the arguments). */
void ftp_say(struct ftp_sess *s, const char *tmpl, const char *a0, const char *a1, const char *a2);
void ftp_say0(struct ftp_sess *s, const char *tmpl);
void ftp_finish(struct ftp_sess *s, const char *reason);
void ftp_ev_command(struct ftp_sess *s, const uint8_t *line, size_t len, const char *verb);
/* One command line (without its '\n'): recorded, then answered. */
void ftp_line(struct ftp_sess *s, const uint8_t *line, size_t len);
bool ftp_resolve(struct ftp_sess *s, const uint8_t *arg, size_t alen, char *virt, char *real);
int ftp_build_list(struct ftp_sess *s, enum ftp_xkind kind, const char *real, bool all, struct hp_buf *out,
                   unsigned *count);
void ftp_list_args(const struct ftp_cmd *cmd, bool *all, const uint8_t **path, size_t *plen);

/* ---- ftp_flavor.c: the products ---- */

/* The product named name (any case), or NULL. */
const struct ftp_flavour *ftp_flavour_named(const char *name);
/* The i-th product of the table (0: vsftpd, 1: ProFTPD, 2: Pure-FTPd, 3: Microsoft). */
const struct ftp_flavour *ftp_flavour_at(size_t i);
void ftp_banner(struct ftp_sess *s);
/* The command may be answered before login. */
bool ftp_prelogin_ok(const struct ftp_sess *s, const struct ftp_cmd *cmd);
/* Commands a product answers its own way; false: the common code does. */
bool ftp_proftpd_cmd(struct ftp_sess *s, const struct ftp_cmd *cmd);
bool ftp_vsftpd_cmd(struct ftp_sess *s, const struct ftp_cmd *cmd);
/* The 230- lines of Debian's welcome.msg for an anonymous ProFTPD login. */
void ftp_proftpd_welcome(struct ftp_sess *s);
void ftp_opts(struct ftp_sess *s, const struct ftp_cmd *cmd);
uint64_t ftp_vsftpd_filesize(const uint8_t *arg, size_t len);
bool ftp_vsftpd_line(struct ftp_sess *s, struct hp_rd *r);
bool ftp_proftpd_line(struct ftp_sess *s, struct hp_rd *r);

#endif
