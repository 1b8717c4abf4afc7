/*
 * ftp.c - protocol module "ftp": an FTP server that takes logins, lists and
 * serves the emulated shell's file system and keeps every upload.
 *
 * This file is the session: settings, login, paths, transfers, the command
 * dispatch and the input loop, the same for every product.
 *
 * Personality: one of vsftpd, ProFTPD, Pure-FTPd and the Microsoft FTP
 * Service, drawn per sensor at first start with a realistic version and
 * kept in the identity file (ftp_server, ftp_version), or forced with the
 * service key "server".  What the products say and do differently (banner,
 * reply texts, SYST, FEAT, listing format, the commands a product lacks or
 * answers its own way) is in ftp_flavor.c, so that nmap -sV and a person at
 * lftp see that product.
 *
 * Logins: anonymous/ftp always get in (anonymous = false refuses them);
 * other names are refused unless accept_after is set (then the Nth password
 * on a connection gets in); max_auth_tries failures close the connection as
 * vsftpd does.  Every PASS is one login.failed / login.success event.
 *
 * After login the session sees the file system of the shell personality
 * (src/shell/vfs.h, personality key, "debian" by default) through the same
 * per-source overlay as SSH and Telnet shells: what a bot uploads by FTP is
 * there when it logs in by SSH from the same address, and the other way
 * round.  Anonymous sessions and every session of the Microsoft personality
 * are confined to /srv/ftp (a chroot, as vsftpd's anon_root and an IIS site
 * are).  STOR/APPE data is stored with hp_upload_record() (payload store,
 * session.file_upload, capture pipeline) up to max_capture bytes, then
 * written into the overlay (SH_O_FETCHED: the capture already has it).
 *
 * Data connections (ftp_data.c): one per session, passive (PASV/EPSV: a
 * listening socket on the control connection's local address that accepts
 * the control peer's address only) or active (PORT/EPRT to the client's own
 * address only: any other address is an FTP bounce, refused with vsftpd's
 * "500 Illegal PORT command." and logged as ftp.bounce_attempt).
 *
 * Every command line is a command.input event.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include "buf.h"
#include "capture/capture.h"
#include "capture/upload.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "ftp_int.h"
#include "identity.h"
#include "login.h"
#include "proto.h"
#include "reply.h"
#include "sensor.h"
#include "shell/persona.h"
#include "shell/vfs.h"
#include "util.h"

#define FTP_MAX_CMDS      4096           /* command lines per connection */
#define FTP_RETR_MAX      (16u << 20)    /* bytes of one downloaded file */
#define FTP_ANON_ROOT     "/srv/ftp"

/* ---- configuration ---------------------------------------------------------------------- */

static int parse_range(const char *v, uint16_t *lo, uint16_t *hi)
{
    unsigned a, b;
    char tail;
    if (sscanf(v, "%u-%u%c", &a, &b, &tail) != 2 || a < 1024 || b > 65535 || a > b)
        return 1;
    *lo = (uint16_t)a;
    *hi = (uint16_t)b;
    return 0;
}

static int conf_key(struct ftp_conf *fc, const struct hp_kv *kv)
{
    int b, bad = 0;
    if (strcmp(kv->key, "server") == 0) {
        fc->fl = ftp_flavour_named(kv->value);
        bad = !fc->fl;
    } else if (strcmp(kv->key, "version") == 0) {
        bad = strlen(kv->value) >= sizeof(fc->version);
        if (!bad)
            snprintf(fc->version, sizeof(fc->version), "%s", kv->value);
    } else if (strcmp(kv->key, "personality") == 0) {
        bad = hp_persona_get(kv->value) == NULL;
        free(fc->personality);
        fc->personality = hp_xstrdup(kv->value);
    } else if (strcmp(kv->key, "pasv_address") == 0) {
        struct in_addr a;
        bad = inet_pton(AF_INET, kv->value, &a) != 1;
        free(fc->pasv_address);
        fc->pasv_address = hp_xstrdup(kv->value);
    } else if (strcmp(kv->key, "pasv_ports") == 0) {
        bad = parse_range(kv->value, &fc->pasv_min, &fc->pasv_max);
    } else if (strcmp(kv->key, "max_capture") == 0) {
        bad = hp_parse_size(kv->value, &fc->max_capture) || fc->max_capture < 1 || fc->max_capture > (256u << 20);
    } else if (strcmp(kv->key, "accept_after") == 0) {
        bad = hp_parse_u64(kv->value, 0, 1000, &fc->accept_after);
    } else if (strcmp(kv->key, "max_auth_tries") == 0) {
        bad = hp_parse_u64(kv->value, 1, 1000, &fc->max_auth_tries);
    } else if (strcmp(kv->key, "data_timeout") == 0) {
        bad = hp_parse_duration_ms(kv->value, &fc->data_timeout_ms) || fc->data_timeout_ms < 100 ||
              fc->data_timeout_ms > 3600000;
    } else if (strcmp(kv->key, "auth_fail_delay") == 0) {
        bad = hp_parse_duration_ms(kv->value, &fc->fail_delay_ms) || fc->fail_delay_ms > 60000;
    } else if (strcmp(kv->key, "anonymous") == 0) {
        bad = hp_parse_bool(kv->value, &b);
        fc->anonymous = !bad && b;
    } else if (strcmp(kv->key, "active") == 0) {
        bad = hp_parse_bool(kv->value, &b);
        fc->active = !bad && b;
    } else {
        return -1;
    }
    return bad ? 1 : 0;
}

static int ftp_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct ftp_conf *fc = hp_xcalloc(1, sizeof(*fc));
    fc->personality = hp_xstrdup("debian");
    fc->max_capture = 20u << 20;
    fc->max_auth_tries = 3;
    fc->data_timeout_ms = 30000;
    fc->fail_delay_ms = FTP_FAIL_DELAY_AUTO;
    fc->anonymous = true;
    fc->active = true;
    svc->proto_conf = fc;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        int r = conf_key(fc, kv);
        if (r < 0) {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol ftp)", kv->line, kv->key, svc->name);
            return -1;
        }
        if (r > 0) {
            snprintf(err, errlen, "%d: [service %s]: bad value for %s: '%s'", kv->line, svc->name, kv->key,
                     kv->value);
            return -1;
        }
    }
    return 0;
}

static void ftp_unconfigure(struct hp_service_cfg *svc)
{
    struct ftp_conf *fc = svc->proto_conf;
    if (fc) {
        free(fc->personality);
        free(fc->data_dir);
        free(fc->pasv_address);
    }
    free(fc);
    svc->proto_conf = NULL;
}

/* The sensor's FTP product and version: drawn at first start and kept in the
 * identity file (ftp_server, ftp_version).  A product forced by the service
 * key "server" that differs from the identity's gets a version picked
 * stably from the host name, so it does not change between restarts either. */
static void pick_identity(struct ftp_conf *fc)
{
    const char *idsrv = hp_identity_get("ftp_server");
    if (!fc->fl)
        fc->fl = ftp_flavour_named(idsrv);
    if (!fc->fl) {
        /* Linux servers far outnumber IIS on port 21: weigh the draw that way */
        static const size_t weights[] = { 0, 0, 0, 1, 1, 2, 3 };
        fc->fl = ftp_flavour_at(weights[hp_random_u64() % HP_ARRAY_LEN(weights)]);
        idsrv = NULL;
    }
    hp_identity_product("ftp_server", "ftp_version", fc->fl->name, idsrv, fc->fl->versions, fc->version,
                        sizeof(fc->version));
}

static int ftp_start(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct ftp_conf *fc = svc->proto_conf;
    free(fc->data_dir);
    fc->data_dir = hp_xstrdup(cfg->data_dir);
    pick_identity(fc);
    hp_persona_get(fc->personality);  /* drawn now: the identity file shows it from the start */
    sh_vfs_configure(cfg->shell_persist_ms / 1000, cfg->shell_source_bytes, cfg->shell_total_bytes);
    return 0;
}

/* ---- session ------------------------------------------------------------------------------ */

static const struct ftp_conf *conf_of(const struct hp_conn *c)
{
    return hp_conn_service_cfg(c)->proto_conf;
}

/* Send a reply from a template (reply.h: "{0}".."{2}" become the arguments,
 * which cannot end the line). */
void ftp_say(struct ftp_sess *s, const char *tmpl, const char *a0, const char *a1, const char *a2)
{
    char out[HP_REPLY_MAX];
    size_t n = hp_reply_line(out, sizeof(out), tmpl, a0, a1, a2);
    hp_conn_send(s->c, out, n);
}

void ftp_say0(struct ftp_sess *s, const char *tmpl)
{
    ftp_say(s, tmpl, NULL, NULL, NULL);
}

void ftp_finish(struct ftp_sess *s, const char *reason)
{
    s->closing = true;
    ftp_data_reset(s->data);
    hp_conn_close(s->c, reason);
}

/* ---- events ------------------------------------------------------------------------------- */

void ftp_ev_command(struct ftp_sess *s, const uint8_t *line, size_t len, const char *verb)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, &s->c->ctx, "command.input");
    hp_ev_bytes(&ev, "input", line, len);
    hp_ev_str(&ev, "command", verb);
    hp_ev_emit(&ev);
}

static void ev_login(struct ftp_sess *s, bool ok, const uint8_t *pass, size_t plen)
{
    const struct hp_login l = { s->user, s->userlen, pass, plen, "plain", s->attempts };
    struct hp_ev ev;
    hp_login_ev_begin(&ev, &s->c->ctx, ok, &l);
    hp_ev_bool(&ev, "anonymous", s->anon);
    hp_ev_str(&ev, "server", s->cf->fl->name);
    hp_login_ev_emit(&ev, &l);
}

static void ev_bounce(struct ftp_sess *s, const char *verb, const struct sockaddr_storage *to, bool parsed)
{
    char ip[HP_IPSTR_LEN] = "";
    struct hp_ev ev;
    hp_ev_begin(&ev, &s->c->ctx, "ftp.bounce_attempt");
    hp_ev_str(&ev, "command", verb);
    if (parsed) {
        const void *a = to->ss_family == AF_INET ? (const void *)&((const struct sockaddr_in *)to)->sin_addr
                                                 : (const void *)&((const struct sockaddr_in6 *)to)->sin6_addr;
        inet_ntop(to->ss_family, a, ip, sizeof(ip));
        hp_ev_str(&ev, "target_ip", ip);
        hp_ev_uint(&ev, "target_port", hp_sockaddr_port(to));
    }
    hp_ev_emit(&ev);
}

static const char *xkind_name(enum ftp_xkind k)
{
    static const char *const names[] = { "", "LIST", "NLST", "MLSD", "RETR", "STOR", "APPE" };
    return names[k];
}

static void ev_transfer(struct ftp_sess *s, bool ok, uint64_t bytes, const char *sha)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, &s->c->ctx, "ftp.transfer");
    hp_ev_str(&ev, "command", xkind_name(s->xkind));
    hp_ev_str(&ev, "path", s->xvirt);
    hp_ev_str(&ev, "direction", s->xkind == XK_STOR || s->xkind == XK_APPE ? "upload" : "download");
    hp_ev_uint(&ev, "bytes", bytes);
    hp_ev_bool(&ev, "complete", ok);
    if (sha)
        hp_ev_str(&ev, "sha256", sha);
    hp_ev_emit(&ev);
}

/* ---- file system ---------------------------------------------------------------------------- */

/* A name the machine could have as an account ([a-z_][a-z0-9_.-]{0,31});
 * anything else logs in under "ftpuser" (the event keeps the real bytes). */
static void account_name(const uint8_t *u, size_t n, char *out, size_t outlen)
{
    bool ok = n > 0 && n < 32 && ((u[0] >= 'a' && u[0] <= 'z') || u[0] == '_');
    for (size_t i = 0; ok && i < n; i++)
        ok = (u[i] >= 'a' && u[i] <= 'z') || (u[i] >= '0' && u[i] <= '9') || u[i] == '_' || u[i] == '.' ||
             u[i] == '-';
    snprintf(out, outlen, "%.*s", ok ? (int)n : 7, ok ? (const char *)u : "ftpuser");
}

static void open_fs(struct ftp_sess *s)
{
    const struct hp_persona *pe = hp_persona_get(s->cf->personality);
    char name[40], home[256];
    account_name(s->user, s->userlen, name, sizeof(name));
    bool chroot = s->anon || s->cf->fl->list == FTP_LIST_DOS;
    bool root = strcmp(name, "root") == 0 || chroot;
    snprintf(home, sizeof(home), "/home/%s", name);
    struct sh_vfs_params vp = { .persona = pe, .source = s->c->ctx.src_ip, .uid = root ? 0 : 1000,
                                .gid = root ? 0 : 1000, .user = root ? NULL : name, .home = root ? NULL : home };
    s->fs = pe ? sh_vfs_open(&vp) : NULL;
    snprintf(s->root, sizeof(s->root), "%s", chroot ? FTP_ANON_ROOT : "");
    snprintf(s->cwd, sizeof(s->cwd), "/");
    if (!s->fs)
        return;
    if (chroot) {
        sh_vfs_mkdir(s->fs, "/srv", 0755);           /* busybox images have no /srv */
        sh_vfs_mkdir(s->fs, FTP_ANON_ROOT, 0755);
    } else {
        unsigned uid, gid;
        sh_vfs_whoami(s->fs, &uid, &gid, home, sizeof(home));
        snprintf(s->cwd, sizeof(s->cwd), "%s", root ? "/root" : home);
    }
}

/* The argument as a path: virt (what the client sees) and real (in the
 * vfs).  false when the argument holds control bytes or is too long. */
bool ftp_resolve(struct ftp_sess *s, const uint8_t *arg, size_t alen, char *virt, char *real)
{
    char raw[FTP_ARG_MAX + 1];
    virt[0] = real[0] = '\0';
    if (!ftp_arg_path(arg, alen, raw, sizeof(raw)))
        return false;
    if (sh_vfs_abspath(s->cwd, raw[0] ? raw : ".", virt, FTP_PATH_MAX) != 0)
        return false;
    /* abspath folds ".." lexically, so a chrooted client cannot climb out */
    int n = snprintf(real, FTP_PATH_MAX, "%s%s", s->root, strcmp(virt, "/") == 0 && s->root[0] ? "" : virt);
    return n > 0 && n < FTP_PATH_MAX;
}

struct list_ctx {
    struct ftp_sess *s;
    struct hp_buf *out;
    enum ftp_xkind kind;
    bool all;
    unsigned count;
    int64_t now;
};

static void list_one(struct list_ctx *lc, const char *name, const struct sh_stat *st)
{
    if (lc->out->len >= FTP_LIST_MAX - 1024)
        return;
    lc->count++;
    if (lc->kind == XK_NLST)
        hp_buf_printf(lc->out, "%s\r\n", name);
    else if (lc->kind == XK_MLSD)
        ftp_mlsd_line(lc->out, name, st);
    else
        ftp_list_line(lc->out, lc->s->cf->fl->list, name, st, sh_vfs_user_name(lc->s->fs, st->uid),
                      sh_vfs_group_name(lc->s->fs, st->gid), lc->now);
}

static int list_cb(void *arg, const char *name, const struct sh_stat *st)
{
    struct list_ctx *lc = arg;
    if (name[0] == '.' && !lc->all && lc->kind != XK_MLSD)
        return 0;
    list_one(lc, name, st);
    return lc->out->len >= FTP_LIST_MAX - 1024;
}

/* The listing of real path into out.  0 or a negative errno. */
int ftp_build_list(struct ftp_sess *s, enum ftp_xkind kind, const char *real, bool all, struct hp_buf *out,
                      unsigned *count)
{
    struct sh_stat st;
    struct list_ctx lc = { .s = s, .out = out, .kind = kind, .all = all, .now = hp_now_us() / 1000000 };
    int r = s->fs ? sh_vfs_stat(s->fs, real, true, &st) : -ENOENT;
    if (r < 0)
        return r;
    if (st.type != SH_FT_DIR) {
        const char *base = strrchr(real, '/');
        list_one(&lc, base ? base + 1 : real, &st);
    } else {
        if (all && (kind == XK_LIST || kind == XK_NLST)) {    /* "NLST -a" too: ".", ".." */
            list_one(&lc, ".", &st);
            struct sh_stat up;
            char parent[FTP_PATH_MAX];
            /* at a chroot's top ".." is the directory itself, as in vsftpd's anon_root */
            bool top = s->root[0] && strcmp(real, s->root) == 0;
            if (top)
                list_one(&lc, "..", &st);
            else if (sh_vfs_abspath(real, "..", parent, sizeof(parent)) == 0 && sh_vfs_stat(s->fs, parent, true, &up) == 0)
                list_one(&lc, "..", &up);
        }
        long n = sh_vfs_list(s->fs, real, list_cb, &lc);
        if (n < 0)
            return (int)n;
    }
    *count = lc.count;
    return 0;
}

/* ---- login -------------------------------------------------------------------------------- */

static bool is_anon_name(const uint8_t *u, size_t n)
{
    return (n == 9 && strncasecmp((const char *)u, "anonymous", 9) == 0) ||
           (n == 3 && strncasecmp((const char *)u, "ftp", 3) == 0);
}

static void cmd_user(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    const struct ftp_flavour *fl = s->cf->fl;
    if (s->logged_in) {
        /* vsftpd's postlogin handle_user: the guest, the same name again, another name */
        bool same = cmd->arglen == s->userlen && (s->userlen == 0 || memcmp(cmd->arg, s->user, s->userlen) == 0);
        if (fl->list == FTP_LIST_DOS)
            ftp_say0(s, "503 Bad sequence of commands.");
        else if (fl->vsftpd && s->anon)
            ftp_say0(s, "530 Can't change from guest user.");
        else if (fl->vsftpd && same)
            ftp_say0(s, "331 Any password will do.");
        else
            ftp_say0(s, "530 Can't change to another user.");
        return;
    }
    s->userlen = cmd->arglen < FTP_USER_MAX ? cmd->arglen : FTP_USER_MAX;
    if (s->userlen)
        memcpy(s->user, cmd->arg, s->userlen);
    /* vsftpd keeps an empty USER as no user at all: the PASS after it gets 503 */
    s->have_user = s->userlen > 0 || !fl->vsftpd;
    s->anon = s->cf->anonymous && is_anon_name(s->user, s->userlen);
    char name[FTP_USER_MAX + 1];
    snprintf(name, sizeof(name), "%.*s", (int)s->userlen, (const char *)s->user);
    ftp_say(s, s->anon ? s->cf->fl->anon_ok : s->cf->fl->user_ok, name, NULL, NULL);
}

/* The wait before a wrong password's 530.  vsftpd 3.0.3 on Debian 12
 * answers after 2.8-3.5 s (delay_failed_login=1 plus pam_unix's ~2 s with
 * its jitter): an instant 530 there is a tell. */
static uint64_t fail_delay(const struct ftp_sess *s)
{
    if (s->cf->fail_delay_ms != FTP_FAIL_DELAY_AUTO)
        return s->cf->fail_delay_ms;
    if (s->cf->fl->vsftpd)
        return 2500 + hp_random_u64() % 1000;
    /* ProFTPD 1.3.8 (mod_delay + pam_unix): 2.0-2.4 s, known user or not */
    return s->cf->fl->proftpd ? 2000 + hp_random_u64() % 450 : 0;
}

/* The 530 of a wrong password; the connection ends after max_auth_tries. */
static void login_failed(struct ftp_sess *s)
{
    if (s->fails >= s->cf->max_auth_tries) {
        ftp_say0(s, s->cf->fl->too_many);
        ftp_finish(s, "max_auth_tries");
        return;
    }
    ftp_say0(s, s->cf->fl->login_bad);
}

static void cmd_pass(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    const struct ftp_flavour *fl = s->cf->fl;
    if (s->logged_in) {
        ftp_say0(s, fl->list == FTP_LIST_DOS ? "503 Bad sequence of commands." : "230 Already logged in.");
        return;
    }
    if (!s->have_user) {
        ftp_say0(s, fl->proftpd ? "503 Login with USER first" : "503 Login with USER first.");
        return;
    }
    s->attempts++;
    bool ok = s->anon || hp_login_nth(s->attempts, s->cf->accept_after);
    ev_login(s, ok, cmd->arg, cmd->arglen);
    if (!ok) {
        s->have_user = false;
        s->fails++;
        uint64_t ms = fail_delay(s);
        if (ms == 0) {
            login_failed(s);
            return;
        }
        /* later commands wait in the input buffer, as behind vsftpd's sleeping process */
        s->fail_wait = s->waiting = true;
        hp_conn_set_timer(s->c, ms);
        return;
    }
    s->logged_in = true;
    open_fs(s);
    char name[FTP_USER_MAX + 1];
    snprintf(name, sizeof(name), "%.*s", (int)s->userlen, (const char *)s->user);
    if (s->anon && fl->proftpd)
        ftp_proftpd_welcome(s);
    ftp_say(s, s->anon ? fl->anon_login : fl->login_ok, name, s->cwd, NULL);
}

/* ---- data channel set-up ------------------------------------------------------------------- */

static void cmd_pasv(struct ftp_sess *s, bool ext)
{
    uint16_t port;
    struct sockaddr_storage local;
    uint32_t ip;
    if (ftp_data_pasv(s->data, s->cf->pasv_min, s->cf->pasv_max, &port, &local) != 0) {
        ftp_say0(s, "425 Could not open passive socket.");
        return;
    }
    if (ext) {
        char p[8];
        snprintf(p, sizeof(p), "%u", port);
        ftp_say(s, s->cf->fl->epsv, p, NULL, NULL);
        return;
    }
    struct in_addr pa;
    if (s->cf->pasv_address && inet_pton(AF_INET, s->cf->pasv_address, &pa) == 1)
        ip = ntohl(pa.s_addr);
    else if (!ftp_ipv4_of(&local, &ip)) {
        ftp_data_reset(s->data);
        ftp_say0(s, "500 Illegal PASV command.");     /* an IPv6 control connection: EPSV only */
        return;
    }
    char t[64];
    snprintf(t, sizeof(t), "%u,%u,%u,%u,%u,%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, port >> 8,
             port & 255);
    ftp_say(s, s->cf->fl->pasv, t, NULL, NULL);
}

/* PORT/EPRT: only to the client's own address and an unprivileged port
 * (vsftpd's port_promiscuous=NO, connect_from_port_20); anything else is a
 * bounce attempt. */
static void cmd_port(struct ftp_sess *s, const struct ftp_cmd *cmd, bool ext)
{
    struct sockaddr_storage to;
    const struct ftp_flavour *fl = s->cf->fl;
    int r = ext ? ftp_parse_eprt(cmd->arg, cmd->arglen, &to) : ftp_parse_port(cmd->arg, cmd->arglen, &to);
    /* vsftpd's handle_eprt: '|' only, family 1 (2 on an IPv6 control connection); anything else
     * is "Bad EPRT protocol", before the bounce check */
    if (ext && fl->vsftpd &&
        (r != 0 || cmd->arg[0] != '|' || (to.ss_family == AF_INET6 && s->c->peer.ss_family != AF_INET6))) {
        ftp_data_reset(s->data);
        ftp_say0(s, "500 Bad EPRT protocol.");
        return;
    }
    if (r == -2) {
        ftp_say0(s, "522 Network protocol not supported, use (1,2)");
        return;
    }
    bool own = r == 0 && ftp_same_ip(&to, &s->c->peer);
    if (r != 0 || !own || hp_sockaddr_port(&to) < 1024 || !s->cf->active) {
        if (r == 0 && !own)
            ev_bounce(s, cmd->verb, &to, true);
        ftp_data_reset(s->data);
        ftp_say(s, fl->port_bad, cmd->verb, NULL, NULL);
        return;
    }
    ftp_data_active(s->data, &to);
    ftp_say(s, ext && fl->eprt_ok ? fl->eprt_ok : fl->port_ok, cmd->verb, NULL, NULL);
}

/* ---- transfers -------------------------------------------------------------------------------- */

static void process_buffered(struct ftp_sess *s);

/* Mode of a new file (0666) or directory (0777): vsftpd applies its umask
 * (local_umask 077: "-rw-------"), the others show the usual 022. */
static unsigned new_mode(const struct ftp_sess *s, unsigned base)
{
    return base & ~(s->cf->fl->vsftpd ? s->umask : 022u);
}

static void xfer_done(void *arg, bool ok, const uint8_t *data, size_t len, uint64_t total)
{
    struct ftp_sess *s = arg;
    const struct ftp_flavour *fl = s->cf->fl;
    char sha[HP_SHA256_HEX_LEN + 1] = "";
    bool up = s->xkind == XK_STOR || s->xkind == XK_APPE;
    s->waiting = false;
    if (up && total > 0) {
        struct hp_upload_info u = { .data_dir = s->cf->data_dir, .filename = s->xvirt,
                                    .filename_len = strlen(s->xvirt), .detail = "ftp", .size = total };
        hp_upload_record(&s->c->ctx, &u, data, len, sha);
        if (s->fs)        /* the capture pipeline has it already: not captured again by the vfs */
            sh_vfs_write(s->fs, s->xreal, data, len,
                         SH_O_CREAT | SH_O_FETCHED | (s->xkind == XK_APPE ? SH_O_APPEND : SH_O_TRUNC), new_mode(s, 0666));
    } else if (up && ok && s->fs) {
        sh_vfs_write(s->fs, s->xreal, "", 0, SH_O_CREAT | SH_O_TRUNC | SH_O_FETCHED, new_mode(s, 0666));
    }
    if (up)
        s->up_bytes += total;
    else
        s->down_bytes += total;
    ev_transfer(s, ok, total, sha[0] ? sha : NULL);
    enum ftp_xkind kind = s->xkind;
    char count[16];
    snprintf(count, sizeof(count), "%u", s->xcount);
    s->xkind = XK_NONE;
    if (ok)
        ftp_say(s, kind == XK_LIST || kind == XK_NLST || kind == XK_MLSD ? fl->list_226 : fl->xfer_226, count, NULL,
            NULL);
    else if (total == 0)
        ftp_say0(s, fl->data_fail);
    else
        ftp_say0(s, "426 Failure writing network stream.");
    process_buffered(s);
}

static void xfer_refused(void *arg, const struct sockaddr_storage *from)
{
    struct ftp_sess *s = arg;
    char ip[HP_IPSTR_LEN] = "";
    if (++s->nrefused > 16)
        return;                     /* a port scan of the passive port: the first few tell enough */
    const void *a = from->ss_family == AF_INET ? (const void *)&((const struct sockaddr_in *)from)->sin_addr
                                               : (const void *)&((const struct sockaddr_in6 *)from)->sin6_addr;
    inet_ntop(from->ss_family, a, ip, sizeof(ip));
    struct hp_ev ev;
    hp_ev_begin(&ev, &s->c->ctx, "ftp.data_refused");
    hp_ev_str(&ev, "from_ip", ip);
    hp_ev_uint(&ev, "from_port", hp_sockaddr_port(from));
    hp_ev_emit(&ev);
}

static const struct ftp_data_ops xfer_ops = { .done = xfer_done, .refused = xfer_refused };

/* LIST/NLST/MLSD arguments: options ("-la") are skipped, "a" shows dot files. */
void ftp_list_args(const struct ftp_cmd *cmd, bool *all, const uint8_t **path, size_t *plen)
{
    const uint8_t *p = cmd->arg;
    size_t n = cmd->arglen;
    *all = false;
    while (n && p[0] == '-') {
        size_t i = 0;
        while (i < n && p[i] != ' ') {
            *all |= p[i] == 'a';
            i++;
        }
        while (i < n && p[i] == ' ')
            i++;
        p += i;
        n -= i;
    }
    *path = p;
    *plen = n;
}

static void cmd_list(struct ftp_sess *s, const struct ftp_cmd *cmd, enum ftp_xkind kind)
{
    const struct ftp_flavour *fl = s->cf->fl;
    bool all;
    const uint8_t *p;
    size_t n;
    if (!ftp_data_armed(s->data)) {
        ftp_say0(s, fl->no_data);
        return;
    }
    ftp_list_args(cmd, &all, &p, &n);
    struct hp_buf out;
    unsigned count = 0;
    hp_buf_init(&out, FTP_LIST_MAX);
    if (!ftp_resolve(s, p, n, s->xvirt, s->xreal) || ftp_build_list(s, kind, s->xreal, all, &out, &count) < 0) {
        hp_buf_reset(&out);          /* vsftpd answers an empty listing for a missing path */
        if (kind == XK_MLSD) {
            hp_buf_free(&out);
            ftp_data_reset(s->data);
            ftp_say(s, fl->no_file, s->xvirt, NULL, NULL);
            return;
        }
    }
    s->xkind = kind;
    s->waiting = true;
    ftp_say0(s, fl->list_150);
    ftp_data_send(s->data, &out);
    hp_buf_free(&out);
    s->xcount = count;
}

static void cmd_retr(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    const struct ftp_flavour *fl = s->cf->fl;
    struct sh_stat st;
    if (!ftp_data_armed(s->data)) {
        ftp_say0(s, fl->no_data);
        return;
    }
    if (!ftp_resolve(s, cmd->arg, cmd->arglen, s->xvirt, s->xreal) || !s->fs ||
        sh_vfs_stat(s->fs, s->xreal, true, &st) < 0 || st.type != SH_FT_REG ||
        sh_vfs_access(s->fs, s->xreal, 4) < 0) {
        ftp_data_reset(s->data);
        ftp_say(s, fl->no_file, s->xvirt, NULL, NULL);
        return;
    }
    struct hp_buf out;
    hp_buf_init(&out, FTP_RETR_MAX);
    sh_vfs_read(s->fs, s->xreal, s->rest, FTP_RETR_MAX, &out);
    s->rest = 0;
    char size[24], kb[24];
    snprintf(size, sizeof(size), "%zu", out.len);
    snprintf(kb, sizeof(kb), "%.1f", (double)out.len / 1024.0);
    const char *base = strrchr(s->xvirt, '/');
    s->xkind = XK_RETR;
    s->waiting = true;
    ftp_say(s, fl->retr_150, base && base[1] ? base + 1 : s->xvirt, size, kb);
    ftp_data_send(s->data, &out);
    hp_buf_free(&out);
}

static void cmd_stor(struct ftp_sess *s, const struct ftp_cmd *cmd, enum ftp_xkind kind)
{
    const struct ftp_flavour *fl = s->cf->fl;
    struct sh_stat st;
    char parent[FTP_PATH_MAX];
    if (!ftp_data_armed(s->data)) {
        ftp_say0(s, fl->no_data);
        return;
    }
    bool ok = ftp_resolve(s, cmd->arg, cmd->arglen, s->xvirt, s->xreal) && cmd->arglen > 0 && s->fs &&
              sh_vfs_abspath(s->xreal, "..", parent, sizeof(parent)) == 0 &&
              sh_vfs_stat(s->fs, parent, true, &st) == 0 && st.type == SH_FT_DIR &&
              sh_vfs_access(s->fs, parent, 2) == 0 &&
              !(sh_vfs_stat(s->fs, s->xreal, true, &st) == 0 && st.type == SH_FT_DIR);
    if (!ok) {
        ftp_data_reset(s->data);
        ftp_say(s, fl->no_write, s->xvirt, NULL, NULL);
        return;
    }
    const char *base = strrchr(s->xvirt, '/');
    s->xkind = kind;
    s->waiting = true;
    ftp_say(s, fl->stor_150, base && base[1] ? base + 1 : s->xvirt, NULL, NULL);
    ftp_data_recv(s->data, (size_t)s->cf->max_capture);
}

/* ---- file commands ---------------------------------------------------------------------------- */

static void cmd_cwd(struct ftp_sess *s, const struct ftp_cmd *cmd, bool up)
{
    char virt[FTP_PATH_MAX], real[FTP_PATH_MAX];
    struct sh_stat st;
    static const uint8_t dotdot[] = "..";
    const uint8_t *a = up ? dotdot : cmd->arg;
    size_t n = up ? 2 : cmd->arglen;
    bool empty = n == 0 && s->cf->fl->vsftpd;      /* vsftpd: chdir("") fails */
    char sent[FTP_ARG_MAX + 1];                    /* ProFTPD names the argument as sent, and the verb */
    snprintf(sent, sizeof(sent), "%.*s", (int)(n < FTP_ARG_MAX ? n : FTP_ARG_MAX), (const char *)a);
    if (empty || !ftp_resolve(s, a, n, virt, real) || !s->fs || sh_vfs_stat(s->fs, real, true, &st) < 0 ||
        st.type != SH_FT_DIR || sh_vfs_access(s->fs, real, 1) < 0) {
        ftp_say(s, s->cf->fl->cwd_bad, virt, sent, NULL);
        return;
    }
    snprintf(s->cwd, sizeof(s->cwd), "%s", virt);
    ftp_say(s, s->cf->fl->cwd_ok, s->cwd, cmd->verb, NULL);
}

/* SIZE and MDTM: regular files only, as vsftpd. */
static void cmd_stat_file(struct ftp_sess *s, const struct ftp_cmd *cmd, bool mdtm)
{
    char virt[FTP_PATH_MAX], real[FTP_PATH_MAX], t[32];
    struct sh_stat st;
    if (!ftp_resolve(s, cmd->arg, cmd->arglen, virt, real) || !s->fs || sh_vfs_stat(s->fs, real, true, &st) < 0 ||
        st.type != SH_FT_REG) {
        ftp_say0(s, mdtm ? "550 Could not get file modification time." : "550 Could not get file size.");
        return;
    }
    if (mdtm)
        ftp_mdtm(st.mtime, t, sizeof(t));
    else
        snprintf(t, sizeof(t), "%llu", (unsigned long long)st.size);
    ftp_say(s, "213 {0}", t, NULL, NULL);
}

/* A refused DELE, MKD, RMD, RNFR or RNTO: ProFTPD names the argument as
 * sent and the error (strerror's text, as it does); the others their own. */
static void fsop_failed(struct ftp_sess *s, const struct ftp_cmd *cmd, int r, const char *own)
{
    char sent[FTP_ARG_MAX + 1];
    if (s->cf->fl->proftpd) {
        snprintf(sent, sizeof(sent), "%.*s", (int)(cmd->arglen < FTP_ARG_MAX ? cmd->arglen : FTP_ARG_MAX),
                 cmd->arg ? (const char *)cmd->arg : "");
        ftp_say(s, "550 {0}: {1}", sent, strerror(r < 0 ? -r : ENOENT), NULL);
    } else {
        ftp_say0(s, own);
    }
}

/* DELE, MKD, RMD, RNFR, RNTO: done in the session's overlay (the shell sees
 * them), answered as the product does; refusals with its error text. */
static void cmd_fsop(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    const struct ftp_flavour *fl = s->cf->fl;
    char virt[FTP_PATH_MAX], real[FTP_PATH_MAX];
    const char *v = cmd->verb;
    bool dos = fl->list == FTP_LIST_DOS;
    bool ok = ftp_resolve(s, cmd->arg, cmd->arglen, virt, real) && cmd->arglen > 0 && s->fs;
    int r = -ENOENT;
    if (strcmp(v, "DELE") == 0) {
        if (ok && (r = sh_vfs_unlink(s->fs, real)) == 0)
            ftp_say(s, fl->dele_ok, virt, NULL, NULL);
        else
            fsop_failed(s, cmd, r, dos ? fl->no_file : "550 Delete operation failed.");
    } else if (strcmp(v, "MKD") == 0 || strcmp(v, "XMKD") == 0) {
        if (ok && (r = sh_vfs_mkdir(s->fs, real, new_mode(s, 0777))) == 0)
            ftp_say(s, fl->mkd_ok, virt, NULL, NULL);
        else
            fsop_failed(s, cmd, r, dos ? fl->no_write : "550 Create directory operation failed.");
    } else if (strcmp(v, "RMD") == 0 || strcmp(v, "XRMD") == 0) {
        if (ok && (r = sh_vfs_rmdir(s->fs, real)) == 0)
            ftp_say0(s, fl->rmd_ok);
        else
            fsop_failed(s, cmd, r, dos ? fl->no_file : "550 Remove directory operation failed.");
    } else if (strcmp(v, "RNFR") == 0) {
        struct sh_stat st;
        s->have_rnfr = ok && (r = sh_vfs_stat(s->fs, real, false, &st)) == 0;
        if (s->have_rnfr) {
            snprintf(s->rnfr, sizeof(s->rnfr), "%s", real);
            ftp_say0(s, fl->rnfr_ok);
        } else {
            fsop_failed(s, cmd, r, dos ? fl->no_file : "550 RNFR command failed.");
        }
    } else {                                          /* RNTO */
        if (!s->have_rnfr) {
            ftp_say0(s, fl->rnfr_need);
            return;
        }
        s->have_rnfr = false;
        if (ok && (r = sh_vfs_rename(s->fs, s->rnfr, real)) == 0)
            ftp_say0(s, fl->rnto_ok);
        else
            fsop_failed(s, cmd, r, dos ? fl->no_write : "550 Rename failed.");
    }
}

static void cmd_type(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    char arg[16];
    snprintf(arg, sizeof(arg), "%.*s", (int)(cmd->arglen < 15 ? cmd->arglen : 15), cmd->arg ? (const char *)cmd->arg : "");
    int t = arg[0] & ~0x20;
    if (t == 'I' || (t == 'L' && strstr(arg, "8"))) {
        s->binary = true;
        ftp_say0(s, s->cf->fl->type_i);
    } else if (t == 'A') {
        s->binary = false;
        ftp_say0(s, s->cf->fl->type_a);
    } else {
        ftp_say(s, s->cf->fl->type_bad, arg, NULL, NULL);
    }
}

static void cmd_mlst(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    char virt[FTP_PATH_MAX], real[FTP_PATH_MAX];
    struct sh_stat st;
    if (!ftp_resolve(s, cmd->arg, cmd->arglen, virt, real) || !s->fs || sh_vfs_stat(s->fs, real, true, &st) < 0) {
        ftp_say(s, s->cf->fl->no_file, virt, NULL, NULL);
        return;
    }
    struct hp_buf b;
    hp_buf_init(&b, 8192);
    hp_buf_printf(&b, "250- Listing %s\r\n ", virt);
    ftp_mlsd_line(&b, virt, &st);
    hp_buf_puts(&b, "250 End\r\n");
    hp_conn_send(s->c, b.data, b.len);
    hp_buf_free(&b);
}

/* ---- dispatch ------------------------------------------------------------------------------ */

/* REST offset: the leading digits (at most 20). */
static uint64_t rest_offset(const uint8_t *arg, size_t len)
{
    char n[24];
    snprintf(n, sizeof(n), "%.*s", (int)(len < 20 ? len : 20), arg ? (const char *)arg : "");
    return strtoull(n, NULL, 10);
}

static void cmd_quit(struct ftp_sess *s)
{
    char up[24], down[24];
    snprintf(up, sizeof(up), "%llu", (unsigned long long)(s->up_bytes / 1024));
    snprintf(down, sizeof(down), "%llu", (unsigned long long)(s->down_bytes / 1024));
    ftp_say(s, s->cf->fl->quit, up, down, NULL);
    ftp_finish(s, "quit");
}

/* Commands that need no file system and no data channel. */
static bool simple_cmd(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    const struct ftp_flavour *fl = s->cf->fl;
    if (ftp_is(cmd, "SYST"))
        ftp_say0(s, fl->syst);
    else if (ftp_is(cmd, "FEAT"))
        ftp_say0(s, fl->feat);
    else if (ftp_is(cmd, "HELP"))
        ftp_say(s, fl->help, s->c->ctx.dst_ip, NULL, NULL);     /* ProFTPD: "Direct comments to root@ADDR" */
    else if (ftp_is(cmd, "NOOP"))
        ftp_say0(s, fl->noop);
    else if (ftp_is(cmd, "OPTS"))
        ftp_opts(s, cmd);
    else if (ftp_is(cmd, "PWD") || ftp_is(cmd, "XPWD"))
        ftp_say(s, fl->pwd, s->cwd, NULL, NULL);
    else if (ftp_is(cmd, "TYPE"))
        cmd_type(s, cmd);
    else if (ftp_is(cmd, "MODE"))
        ftp_say0(s, cmd->arglen == 1 && (cmd->arg[0] | 0x20) == 's' ? "200 Mode set to S." : "504 Bad MODE command.");
    else if (ftp_is(cmd, "STRU"))
        ftp_say0(s, cmd->arglen == 1 && (cmd->arg[0] | 0x20) == 'f' ? "200 Structure set to F." : "504 Bad STRU command.");
    else if (ftp_is(cmd, "ALLO"))
        ftp_say0(s, "202 ALLO command ignored.");
    else if (ftp_is(cmd, "ABOR"))
        ftp_say0(s, "225 No transfer to ABOR.");
    else if (ftp_is(cmd, "REST")) {
        char n[24];
        s->rest = fl->vsftpd ? ftp_vsftpd_filesize(cmd->arg, cmd->arglen) : rest_offset(cmd->arg, cmd->arglen);
        snprintf(n, sizeof(n), "%llu", (unsigned long long)s->rest);
        ftp_say(s, "350 Restart position accepted ({0}).", n, NULL, NULL);
    } else
        return false;
    return true;
}

static void dispatch(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    const struct ftp_flavour *fl = s->cf->fl;
    if (ftp_is(cmd, "QUIT")) {
        cmd_quit(s);
        return;
    }
    if (fl->proftpd && ftp_proftpd_cmd(s, cmd))
        return;
    if (ftp_is(cmd, "USER"))
        cmd_user(s, cmd);
    else if (ftp_is(cmd, "PASS"))
        cmd_pass(s, cmd);
    else if (!s->logged_in && !ftp_prelogin_ok(s, cmd))
        ftp_say(s, fl->need_login, cmd->verb, NULL, NULL);
    else if (fl->vsftpd && ftp_vsftpd_cmd(s, cmd))
        return;
    else if (simple_cmd(s, cmd))
        return;
    else if (ftp_is(cmd, "CWD") || ftp_is(cmd, "XCWD"))
        cmd_cwd(s, cmd, false);
    else if (ftp_is(cmd, "CDUP") || ftp_is(cmd, "XCUP"))
        cmd_cwd(s, cmd, true);
    else if (ftp_is(cmd, "PASV"))
        cmd_pasv(s, false);
    else if (ftp_is(cmd, "EPSV")) {
        if (cmd->arglen == 3 && strncasecmp((const char *)cmd->arg, "ALL", 3) == 0)
            ftp_say0(s, "200 EPSV ALL ok.");
        else
            cmd_pasv(s, true);
    } else if (ftp_is(cmd, "PORT"))
        cmd_port(s, cmd, false);
    else if (ftp_is(cmd, "EPRT"))
        cmd_port(s, cmd, true);
    else if (ftp_is(cmd, "LIST"))
        cmd_list(s, cmd, XK_LIST);
    else if (ftp_is(cmd, "NLST"))
        cmd_list(s, cmd, XK_NLST);
    else if (ftp_is(cmd, "MLSD") && fl->mlsd)
        cmd_list(s, cmd, XK_MLSD);
    else if (ftp_is(cmd, "MLST") && fl->mlsd)
        cmd_mlst(s, cmd);
    else if (ftp_is(cmd, "RETR"))
        cmd_retr(s, cmd);
    else if (ftp_is(cmd, "STOR") || ftp_is(cmd, "STOU"))
        cmd_stor(s, cmd, XK_STOR);
    else if (ftp_is(cmd, "APPE"))
        cmd_stor(s, cmd, XK_APPE);
    else if (ftp_is(cmd, "SIZE"))
        cmd_stat_file(s, cmd, false);
    else if (ftp_is(cmd, "MDTM"))
        cmd_stat_file(s, cmd, true);
    else if (ftp_is(cmd, "DELE") || ftp_is(cmd, "MKD") || ftp_is(cmd, "XMKD") || ftp_is(cmd, "RMD") || ftp_is(cmd, "XRMD") ||
             ftp_is(cmd, "RNFR") || ftp_is(cmd, "RNTO"))
        cmd_fsop(s, cmd);
    else
        ftp_say(s, fl->unknown, cmd->verb, NULL, NULL);
}

void ftp_line(struct ftp_sess *s, const uint8_t *line, size_t len)
{
    struct ftp_cmd cmd;
    /* Telnet IP/DM sent before an urgent ABOR, and stray NULs: not part of the command */
    while (len && (line[0] >= 0xf0 || line[0] == 0)) {
        line++;
        len--;
    }
    while (len && line[len - 1] == '\r')         /* "\r\r\n" from clients that add CR to CRLF */
        len--;
    if (len == 0)
        return;
    ftp_cmd_split(line, len, &cmd);
    /* ProFTPD ends the verb at a tab too ("CWD\t/" is CWD /): split a copy */
    const uint8_t *tab = s->cf->fl->proftpd ? memchr(cmd.verb_raw, '\t', cmd.verb_rawlen) : NULL;
    uint8_t copy[FTP_PROFTPD_LINE_MAX];
    if (tab && len <= sizeof(copy)) {
        memcpy(copy, line, len);
        copy[tab - line] = ' ';
        ftp_cmd_split(copy, len, &cmd);
    }
    ftp_ev_command(s, line, len, cmd.verb);
    if (++s->ncmds > FTP_MAX_CMDS) {
        ftp_say0(s, "421 Too many commands.");
        ftp_finish(s, "max_commands");
        return;
    }
    /* A cut verb (7 bytes) is no known verb: dispatch answers it as unknown, or
     * with 530 before login as vsftpd does.  vsftpd splits at the first space
     * without skipping leading ones: " NOOP" has an empty verb. */
    if (s->cf->fl->vsftpd && line[0] == ' ')
        cmd.verb[0] = '\0';
    if (!(ftp_is(&cmd, "RNTO") || ftp_is(&cmd, "RNFR")))
        s->have_rnfr = false;
    dispatch(s, &cmd);
}

/* Whole lines of p[0..n); returns the bytes used.  Stops while a transfer
 * runs: the rest waits in the core's buffer until it ends. */
static size_t process(struct ftp_sess *s, const uint8_t *p, size_t n)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    while (!s->closing && !s->waiting && hp_rd_left(&r)) {
        const uint8_t *line;
        size_t len;
        if (s->cf->fl->vsftpd || s->cf->fl->proftpd) {
            if (!(s->cf->fl->vsftpd ? ftp_vsftpd_line(s, &r) : ftp_proftpd_line(s, &r)))
                break;
            continue;
        }
        if (!hp_rd_line(&r, FTP_LINE_MAX, &line, &len)) {
            if (hp_rd_left(&r) < FTP_LINE_MAX)
                break;
            /* a line longer than any command: cut and answered like an unknown one */
            line = hp_rd_bytes(&r, FTP_LINE_MAX);
            ftp_line(s, line, FTP_LINE_MAX);
            continue;
        }
        ftp_line(s, line, len);
    }
    return hp_rd_pos(&r);
}

static void process_buffered(struct ftp_sess *s)
{
    size_t have;
    if (s->in_data || s->closing)
        return;                    /* on_data's own loop goes on */
    const uint8_t *p = hp_conn_input(s->c, &have);
    if (have)
        hp_conn_consume(s->c, process(s, p, have));
    if ((s->c->flags & HP_CONN_EOF) && !s->waiting && !s->closing)
        ftp_finish(s, "eof");
}

/* ---- module callbacks ------------------------------------------------------------------------ */

static void ftp_accept(struct hp_conn *c)
{
    struct ftp_sess *s = c->pstate;
    s->c = c;
    s->cf = conf_of(c);
    snprintf(s->cwd, sizeof(s->cwd), "/");
    s->umask = 077;                  /* vsftpd's local_umask default (Debian leaves it commented) */
    if (!s->cf->fl) {
        hp_conn_close(c, "not_started");
        return;
    }
    s->data = ftp_data_new(c, &xfer_ops, s, s->cf->data_timeout_ms);
    if (!s->data) {
        hp_conn_close(c, "no_memory");
        return;
    }
    ftp_banner(s);
}

static void ftp_data_in(struct hp_conn *c, struct hp_rd *in)
{
    struct ftp_sess *s = c->pstate;
    if (s->closing || !s->data) {
        hp_rd_skip(in, hp_rd_left(in));
        return;
    }
    s->in_data = true;
    hp_rd_skip(in, process(s, hp_rd_ptr(in), hp_rd_left(in)));
    s->in_data = false;
}

static void ftp_eof(struct hp_conn *c)
{
    struct ftp_sess *s = c->pstate;
    if (!s->waiting)
        ftp_finish(s, "eof");
}

static void ftp_timer(struct hp_conn *c)
{
    struct ftp_sess *s = c->pstate;
    if (!s->fail_wait || s->closing)
        return;
    s->fail_wait = s->waiting = false;
    login_failed(s);
    process_buffered(s);
}

static void ftp_close(struct hp_conn *c)
{
    struct ftp_sess *s = c->pstate;
    if (!s)
        return;
    ftp_data_free(s->data);
    s->data = NULL;
    if (s->fs)
        sh_vfs_close(s->fs);
    s->fs = NULL;
}

const struct hp_proto hp_proto_ftp = {
    .name = "ftp",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "21",
    .conn_state_size = sizeof(struct ftp_sess),
    .default_max_input = 1u << 20,
    .configure = ftp_configure,
    .unconfigure = ftp_unconfigure,
    .start = ftp_start,
    .on_accept = ftp_accept,
    .on_data = ftp_data_in,
    .on_eof = ftp_eof,
    .on_timer = ftp_timer,
    .on_close = ftp_close,
};
