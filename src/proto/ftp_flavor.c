/*
 * ftp_flavor.c - what the FTP module knows of each product it claims to be
 * (vsftpd, ProFTPD, Pure-FTPd, the Microsoft FTP Service): reply texts,
 * banners, which verbs each knows and answers before login, and the
 * commands a product answers its own way (STAT, SITE, OPTS, EPSV...).
 * ftp.c runs the session and asks here whenever the products differ.
 *
 * The answers were taken from the real servers (Debian 12's vsftpd 3.0.3
 * and proftpd-core 1.3.8) by sending both the same bytes.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include "ftp_int.h"
#include "sensor.h"
#include "reply.h"
#include "util.h"

/* ---- the products ---- */

static const char *const vsftpd_versions[] = { "3.0.2", "3.0.3", "3.0.3", "3.0.5", NULL };
static const char *const proftpd_versions[] = { "1.3.5b", "1.3.5e", "1.3.6", "1.3.6c", "1.3.7a", "1.3.8", NULL };
static const char *const pure_versions[] = { "1.0.49", "1.0.50", NULL };
static const char *const ms_versions[] = { "8.5", "10.0", NULL };

static const struct ftp_flavour flavours[] = {
    { .name = "vsftpd", .versions = vsftpd_versions, .list = FTP_LIST_UNIX_IDS, .mlsd = false,
      .syst = "215 UNIX Type: L8",
      .feat = "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n211 End",
      .help = "214-The following commands are recognized.\r\n ABOR ACCT ALLO APPE CDUP CWD  DELE EPRT EPSV FEAT HELP LIST MDTM MKD\r\n"
              " MODE NLST NOOP OPTS PASS PASV PORT PWD  QUIT REIN REST RETR RMD  RNFR\r\n"
              " RNTO SITE SIZE SMNT STAT STOR STOU STRU SYST TYPE USER XCUP XCWD XMKD\r\n XPWD XRMD\r\n214 Help OK.",
      .user_ok = "331 Please specify the password.", .anon_ok = "331 Please specify the password.",
      .login_ok = "230 Login successful.", .anon_login = "230 Login successful.",
      .login_bad = "530 Login incorrect.", .need_login = "530 Please login with USER and PASS.",
      .unknown = "500 Unknown command.", .pwd = "257 \"{0}\" is the current directory",
      .cwd_ok = "250 Directory successfully changed.", .cwd_bad = "550 Failed to change directory.",
      .type_i = "200 Switching to Binary mode.", .type_a = "200 Switching to ASCII mode.",
      .type_bad = "500 Unrecognised TYPE command.",
      .pasv = "227 Entering Passive Mode ({0}).", .epsv = "229 Entering Extended Passive Mode (|||{0}|)",
      .port_ok = "200 {0} command successful. Consider using PASV.", .port_bad = "500 Illegal {0} command.",
      .no_data = "425 Use PORT or PASV first.", .data_fail = "425 Failed to establish connection.",
      .list_150 = "150 Here comes the directory listing.", .list_226 = "226 Directory send OK.",
      .retr_150 = "150 Opening BINARY mode data connection for {0} ({1} bytes).",
      .xfer_226 = "226 Transfer complete.", .stor_150 = "150 Ok to send data.",
      .no_file = "550 Failed to open file.", .no_write = "553 Could not create file.",
      .dele_ok = "250 Delete operation successful.", .mkd_ok = "257 \"{0}\" created",
      .rmd_ok = "250 Remove directory operation successful.", .rnfr_ok = "350 Ready for RNTO.",
      .rnto_ok = "250 Rename successful.", .rnfr_need = "503 RNFR required first.",
      .noop = "200 NOOP ok.", .quit = "221 Goodbye.", .too_many = "530 Login incorrect.",
      .eprt_ok = "200 EPRT command successful. Consider using EPSV.", .vsftpd = true },
    { .name = "proftpd", .versions = proftpd_versions, .list = FTP_LIST_UNIX_NAMES, .mlsd = true,
      .syst = "215 UNIX Type: L8",
      /* Debian 12's proftpd-core 1.3.8 with its default modules (no mod_tls) */
      .feat = "211-Features:\r\n CLNT\r\n CSID\r\n EPRT\r\n EPSV\r\n HOST\r\n LANG C.UTF-8*\r\n MDTM\r\n"
              " MFF modify;UNIX.group;UNIX.mode;\r\n MFMT\r\n"
              " MLST modify*;perm*;size*;type*;unique*;UNIX.group*;UNIX.groupname*;UNIX.mode*;UNIX.owner*;UNIX.ownername*;\r\n"
              " RANG STREAM\r\n REST STREAM\r\n SITE COPY\r\n SITE MKDIR\r\n SITE RMDIR\r\n SITE SYMLINK\r\n SITE UTIME\r\n"
              " SIZE\r\n TVFS\r\n UTF8\r\n211 End",
      .help = "214-The following commands are recognized (* =>'s unimplemented):\r\n"
              " CWD     XCWD    CDUP    XCUP    SMNT*   QUIT    PORT    PASV    \r\n"
              " EPRT    EPSV    ALLO    RNFR    RNTO    DELE    MDTM    RMD     \r\n"
              " XRMD    MKD     XMKD    PWD     XPWD    SIZE    SYST    HELP    \r\n"
              " NOOP    FEAT    OPTS    HOST    CLNT    AUTH*   CCC*    CONF*   \r\n"
              " ENC*    MIC*    PBSZ*   PROT*   TYPE    STRU    MODE    RETR    \r\n"
              " STOR    STOU    APPE    REST    ABOR    RANG    USER    PASS    \r\n"
              " ACCT*   REIN*   LIST    NLST    STAT    SITE    MLSD    MLST    \r\n214 Direct comments to root@{0}",
      .user_ok = "331 Password required for {0}", .anon_ok = "331 Anonymous login ok, send your complete email address as your password",
      .login_ok = "230 User {0} logged in", .anon_login = "230 Anonymous access granted, restrictions apply",
      .login_bad = "530 Login incorrect.", .need_login = "530 Please login with USER and PASS",
      .unknown = "500 {0} not understood", .pwd = "257 \"{0}\" is the current directory",
      .cwd_ok = "250 {1} command successful", .cwd_bad = "550 {1}: No such file or directory",
      .type_i = "200 Type set to I", .type_a = "200 Type set to A", .type_bad = "504 TYPE not implemented for '{0}' parameter",
      .pasv = "227 Entering Passive Mode ({0}).", .epsv = "229 Entering Extended Passive Mode (|||{0}|)",
      .port_ok = "200 {0} command successful", .port_bad = "500 Illegal {0} command",
      .no_data = "425 Unable to build data connection: Connection refused",
      .data_fail = "425 Unable to build data connection: Connection timed out",
      .list_150 = "150 Opening ASCII mode data connection for file list", .list_226 = "226 Transfer complete",
      .retr_150 = "150 Opening BINARY mode data connection for {0} ({1} bytes)", .xfer_226 = "226 Transfer complete",
      .stor_150 = "150 Opening BINARY mode data connection for {0}", .no_file = "550 {0}: No such file or directory",
      .no_write = "550 {0}: Permission denied", .dele_ok = "250 DELE command successful",
      .mkd_ok = "257 \"{0}\" - Directory successfully created", .rmd_ok = "250 RMD command successful",
      .rnfr_ok = "350 File or directory exists, ready for destination name", .rnto_ok = "250 Rename successful",
      .rnfr_need = "503 Bad sequence of commands", .noop = "200 NOOP command successful", .quit = "221 Goodbye.",
      .too_many = "530 Login incorrect.", .proftpd = true },
    { .name = "pure-ftpd", .versions = pure_versions, .list = FTP_LIST_UNIX_NAMES, .mlsd = true,
      .syst = "215 UNIX Type: L8",
      .feat = "211-Extensions supported:\r\n EPRT\r\n IDLE\r\n MDTM\r\n SIZE\r\n MFMT\r\n REST STREAM\r\n"
              " MLST type*;size*;sizd*;modify*;UNIX.mode*;UNIX.uid*;UNIX.gid*;unique*;\r\n MLSD\r\n PRET\r\n"
              " UTF8\r\n TVFS\r\n ESTA\r\n PASV\r\n EPSV\r\n ESTP\r\n211 End.",
      .help = "214-The following SITE commands are recognized\r\n ALIAS\r\n CHMOD\r\n IDLE\r\n UTIME\r\n"
              "214 Pure-FTPd - http://pureftpd.org/",
      .user_ok = "331 User {0} OK. Password required", .anon_ok = "331 Any password will work",
      .login_ok = "230 OK. Current directory is {1}", .anon_login = "230 Anonymous user logged in",
      .login_bad = "530 Login authentication failed", .need_login = "530 You aren't logged in",
      .unknown = "500 Unknown command", .pwd = "257 \"{0}\" is your current location",
      .cwd_ok = "250 OK. Current directory is {0}", .cwd_bad = "550 Can't change directory to {0}: No such file or directory",
      .type_i = "200 TYPE is now 8-bit binary", .type_a = "200 TYPE is now ASCII", .type_bad = "504 Unknown TYPE: {0}",
      .pasv = "227 Entering Passive Mode ({0})", .epsv = "229 Extended Passive mode OK (|||{0}|)",
      .port_ok = "200 PORT command successful", .port_bad = "500 I won't open a connection to that address",
      .no_data = "425 No data connection", .data_fail = "425 Could not open data connection",
      .list_150 = "150 Accepted data connection", .list_226 = "226-Options: -l \r\n226 {0} matches total",
      .retr_150 = "150-Accepted data connection\r\n150 {2} kbytes to download",
      .xfer_226 = "226-File successfully transferred\r\n226 0.000 seconds (measured here), 0.00 Mbytes per second",
      .stor_150 = "150 Accepted data connection", .no_file = "550 Can't open {0}: No such file or directory",
      .no_write = "553 Can't open that file: Permission denied", .dele_ok = "250 Deleted {0}",
      .mkd_ok = "257 \"{0}\" : The directory was successfully created", .rmd_ok = "250 The directory was successfully removed",
      .rnfr_ok = "350 RNFR accepted - file exists, ready for destination", .rnto_ok = "250 File successfully renamed or moved",
      .rnfr_need = "503 Need RNFR before RNTO", .noop = "200 Zzz...",
      .quit = "221-Goodbye. You uploaded {0} and downloaded {1} kbytes.\r\n221 Logout.",
      .too_many = "421 Too many authentication failures" },
    { .name = "microsoft", .versions = ms_versions, .list = FTP_LIST_DOS, .mlsd = true,
      .syst = "215 Windows_NT",
      .feat = "211-Extended features supported:\r\n LANG EN*\r\n UTF8\r\n HOST\r\n SIZE\r\n MDTM\r\n REST STREAM\r\n211 END",
      .help = "214-The following commands are recognized (* ==>'s unimplemented).\r\n"
              "    ABOR\r\n    ACCT\r\n    ADAT *\r\n    ALLO\r\n    APPE\r\n    AUTH\r\n    CCC\r\n    CDUP\r\n"
              "    CWD\r\n    DELE\r\n    ENC *\r\n    EPRT\r\n    EPSV\r\n    FEAT\r\n    HELP\r\n    HOST\r\n"
              "    LANG\r\n    LIST\r\n    MDTM\r\n    MIC *\r\n    MKD\r\n    MLSD\r\n    MLST\r\n    MODE\r\n"
              "    NLST\r\n    NOOP\r\n    OPTS\r\n    PASS\r\n    PASV\r\n    PBSZ\r\n    PORT\r\n    PROT\r\n"
              "    PWD\r\n    QUIT\r\n    REIN\r\n    REST\r\n    RETR\r\n    RMD\r\n    RNFR\r\n    RNTO\r\n"
              "    SITE\r\n    SIZE\r\n    SMNT\r\n    STAT\r\n    STOR\r\n    STOU\r\n    STRU\r\n    SYST\r\n"
              "    TYPE\r\n    USER\r\n    XCUP\r\n    XCWD\r\n    XMKD\r\n    XPWD\r\n    XRMD\r\n214 HELP command successful.",
      .user_ok = "331 Password required", .anon_ok = "331 Anonymous access allowed, send identity (e-mail name) as password.",
      .login_ok = "230 User logged in.", .anon_login = "230 User logged in.",
      .login_bad = "530 User cannot log in.", .need_login = "530 Please login with USER and PASS.",
      .unknown = "500 Command not understood.", .pwd = "257 \"{0}\" is current directory.",
      .cwd_ok = "250 CWD command successful.", .cwd_bad = "550 The system cannot find the file specified. ",
      .type_i = "200 Type set to I.", .type_a = "200 Type set to A.", .type_bad = "504 Command not implemented for that parameter.",
      .pasv = "227 Entering Passive Mode ({0}).", .epsv = "229 Entering Extended Passive Mode (|||{0}|)",
      .port_ok = "200 {0} command successful.", .port_bad = "501 Server cannot accept argument.",
      .no_data = "425 Can't open data connection.", .data_fail = "425 Can't open data connection.",
      .list_150 = "150 Opening ASCII mode data connection.", .list_226 = "226 Transfer complete.",
      .retr_150 = "150 Opening BINARY mode data connection.", .xfer_226 = "226 Transfer complete.",
      .stor_150 = "150 Opening BINARY mode data connection.", .no_file = "550 The system cannot find the file specified. ",
      .no_write = "550 Access is denied. ", .dele_ok = "250 DELE command successful.",
      .mkd_ok = "257 \"{0}\" directory created.", .rmd_ok = "250 RMD command successful.",
      .rnfr_ok = "350 Requested file action pending further information.", .rnto_ok = "250 RNTO command successful.",
      .rnfr_need = "503 Bad sequence of commands.", .noop = "200 NOOP command successful.", .quit = "221 Goodbye.",
      .too_many = "530 User cannot log in." },
};

const struct ftp_flavour *ftp_flavour_named(const char *name)
{
    for (size_t i = 0; name && i < HP_ARRAY_LEN(flavours); i++)
        if (strcasecmp(flavours[i].name, name) == 0)
            return &flavours[i];
    return NULL;
}

const struct ftp_flavour *ftp_flavour_at(size_t i)
{
    return i < HP_ARRAY_LEN(flavours) ? &flavours[i] : NULL;
}

void ftp_banner(struct ftp_sess *s)
{
    const struct ftp_conf *cf = s->cf;
    const char *fl = cf->fl->name;
    if (strcmp(fl, "vsftpd") == 0) {
        ftp_say(s, "220 (vsFTPd {0})", cf->version, NULL, NULL);
    } else if (strcmp(fl, "proftpd") == 0) {
        char ip[HP_IPSTR_LEN + 8];
        struct sockaddr_storage local;
        socklen_t ll = sizeof(local);
        bool v6 = getsockname(s->c->fd, (struct sockaddr *)&local, &ll) == 0 && local.ss_family == AF_INET6;
        snprintf(ip, sizeof(ip), "%s%s", v6 && !strchr(s->c->ctx.dst_ip, ':') ? "::ffff:" : "", s->c->ctx.dst_ip);
        /* Debian 12's 1.3.8 no longer names its version (ServerIdent's default) */
        if (strncmp(cf->version, "1.3.8", 5) == 0)
            ftp_say(s, "220 ProFTPD Server (Debian) [{0}]", ip, NULL, NULL);
        else
            ftp_say(s, "220 ProFTPD {0} Server (Debian) [{1}]", cf->version, ip, NULL);
    } else if (strcmp(fl, "pure-ftpd") == 0) {
        char tm[8], port[8], users[8];
        time_t now = (time_t)(hp_now_us() / 1000000);
        struct tm t;
        localtime_r(&now, &t);
        snprintf(tm, sizeof(tm), "%02d:%02d", t.tm_hour, t.tm_min);
        snprintf(port, sizeof(port), "%u", s->c->ctx.dst_port);
        snprintf(users, sizeof(users), "%llu", (unsigned long long)(s->c->svc ? s->c->svc->active : 1));
        ftp_say(s, "220---------- Welcome to Pure-FTPd [privsep] ----------\r\n"
               "220-You are user number {0} of 50 allowed.\r\n"
               "220-Local time is now {1}. Server port: {2}.\r\n"
               "220-IPv6 connections are also welcome on this server.\r\n"
               "220 You will be disconnected after 15 minutes of inactivity.", users, tm, port);
    } else {
        ftp_say0(s, "220 Microsoft FTP Service");
    }
}

/* ---- before login ---- */

/* The verbs Debian's ProFTPD 1.3.8 knows (its HELP list and the FEAT
 * extensions; AUTH, PBSZ, PROT... need mod_tls, which is not loaded):
 * anything else is "500 X not understood", before login too. */
static bool proftpd_knows(const char *verb)
{
    static const char *const known[] = {
        "CWD", "XCWD", "CDUP", "XCUP", "SMNT", "QUIT", "PORT", "PASV", "EPRT", "EPSV", "ALLO", "RNFR", "RNTO",
        "DELE", "MDTM", "RMD", "XRMD", "MKD", "XMKD", "PWD", "XPWD", "SIZE", "SYST", "HELP", "NOOP", "FEAT",
        "OPTS", "HOST", "CLNT", "TYPE", "STRU", "MODE", "RETR", "STOR", "STOU", "APPE", "REST", "ABOR", "RANG",
        "USER", "PASS", "ACCT", "REIN", "LIST", "NLST", "STAT", "SITE", "MLSD", "MLST", "MFMT", "MFF", "CSID",
        "LANG",
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(known); i++)
        if (strcmp(verb, known[i]) == 0)
            return true;
    return false;
}

bool ftp_prelogin_ok(const struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    if (ftp_is(cmd, "USER") || ftp_is(cmd, "PASS") || ftp_is(cmd, "QUIT") || ftp_is(cmd, "FEAT") || ftp_is(cmd, "OPTS"))
        return true;
    if (s->cf->fl->proftpd && (ftp_is(cmd, "TYPE") || !proftpd_knows(cmd->verb)))
        return true;                    /* TYPE works before login; unknown verbs are 500 */
    /* vsftpd answers everything else with 530 before login; the others know a few more */
    return strcmp(s->cf->fl->name, "vsftpd") != 0 &&
           (ftp_is(cmd, "SYST") || ftp_is(cmd, "HELP") || ftp_is(cmd, "NOOP"));
}

/* ---- vsftpd ---- */

/* vsftpd's str_octal_to_uint: octal digits up to the first other byte. */
static unsigned octal_of(const uint8_t *p, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++)
        v = (v << 3 | (unsigned)(p[i] - '0')) & 07777;
    return v;
}

/* SITE CHMOD MODE PATH, in the session's overlay. */
static void vsftpd_chmod(struct ftp_sess *s, const struct ftp_cmd *sub)
{
    char virt[FTP_PATH_MAX], real[FTP_PATH_MAX];
    const uint8_t *sp = sub->arg ? memchr(sub->arg, ' ', sub->arglen) : NULL;
    if (!sp || sp + 1 == sub->arg + sub->arglen) {
        ftp_say0(s, "500 SITE CHMOD needs 2 arguments.");
        return;
    }
    size_t mlen = (size_t)(sp - sub->arg);
    const uint8_t *path = sp + 1;
    size_t plen = sub->arglen - mlen - 1;
    if (ftp_resolve(s, path, plen, virt, real) && s->fs && sh_vfs_chmod(s->fs, real, octal_of(sub->arg, mlen) & 0777) == 0)
        ftp_say0(s, "200 SITE CHMOD command ok.");
    else
        ftp_say0(s, "550 SITE CHMOD command failed.");
}

/* vsftpd's EPSV argument: 1, or 2 on an IPv6 control connection (atoi). */
static bool vsftpd_epsv_ok(const struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    char n[8];
    snprintf(n, sizeof(n), "%.*s", (int)(cmd->arglen < 7 ? cmd->arglen : 7), (const char *)cmd->arg);
    int v = atoi(n);
    return v == 1 || (v == 2 && s->c->peer.ss_family == AF_INET6);
}

/* vsftpd's STAT without argument: the session's status block (postlogin.c handle_stat). */
static void vsftpd_stat(struct ftp_sess *s)
{
    char name[FTP_USER_MAX + 1], count[24];
    snprintf(name, sizeof(name), "%.*s", (int)s->userlen, (const char *)s->user);
    snprintf(count, sizeof(count), "%llu", (unsigned long long)(s->c->svc ? s->c->svc->active : 1));
    ftp_say(s, "211-FTP server status:\r\n     Connected to {0}\r\n     Logged in as {1}", s->c->ctx.src_ip,
        s->anon ? "ftp" : name, NULL);
    ftp_say0(s, s->binary ? "     TYPE: BINARY" : "     TYPE: ASCII");
    ftp_say(s, "     No session bandwidth limit\r\n     Session timeout in seconds is 300\r\n"
           "     Control connection is plain text\r\n     Data connections will be plain text\r\n"
           "     At session startup, client count was {0}\r\n     vsFTPd {1} - secure, fast, stable\r\n"
           "211 End of status", count, s->cf->version, NULL);
}

/* vsftpd's STAT with a path: the LIST of it (dot entries included) on the
 * control connection; a missing path is an empty list. */
static void vsftpd_stat_path(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    char virt[FTP_PATH_MAX], real[FTP_PATH_MAX];
    const uint8_t *p;
    size_t n;
    bool all;
    unsigned count = 0;
    struct hp_buf b;
    ftp_list_args(cmd, &all, &p, &n);
    hp_buf_init(&b, FTP_LIST_MAX);
    if (!ftp_resolve(s, p, n, virt, real) || ftp_build_list(s, XK_LIST, real, true, &b, &count) < 0)
        hp_buf_reset(&b);
    ftp_say0(s, "213-Status follows:");
    hp_conn_send(s->c, b.data, b.len);
    ftp_say0(s, "213 End of status");
    hp_buf_free(&b);
}

/* vsftpd's SITE (local users; anonymous ones get 550): CHMOD, UMASK, HELP. */
static void vsftpd_site(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    struct ftp_cmd sub;
    char t[16];
    if (s->anon) {
        ftp_say0(s, "550 Permission denied.");
        return;
    }
    ftp_cmd_split(cmd->arg ? cmd->arg : (const uint8_t *)"", cmd->arglen, &sub);
    if (ftp_is(&sub, "HELP")) {
        ftp_say0(s, "214 CHMOD UMASK HELP");
    } else if (ftp_is(&sub, "UMASK")) {
        if (sub.arglen) {
            s->umask = octal_of(sub.arg, sub.arglen) & 0777;
            snprintf(t, sizeof(t), "%s%o", s->umask ? "0" : "", s->umask);
            ftp_say(s, "200 UMASK set to {0}", t, NULL, NULL);
        } else {
            snprintf(t, sizeof(t), "%s%o", s->umask ? "0" : "", s->umask);
            ftp_say(s, "200 Your current UMASK is {0}", t, NULL, NULL);
        }
    } else if (ftp_is(&sub, "CHMOD")) {
        vsftpd_chmod(s, &sub);
    } else {
        ftp_say0(s, "500 Unknown SITE command.");
    }
}

/* Commands vsftpd answers itself after login; false: the common code does. */
bool ftp_vsftpd_cmd(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    char v[FTP_VERB_MAX + 24];
    if (ftp_is(cmd, "STAT") && cmd->arglen == 0)
        vsftpd_stat(s);
    else if (ftp_is(cmd, "STAT"))
        vsftpd_stat_path(s, cmd);
    else if (ftp_is(cmd, "SITE"))
        vsftpd_site(s, cmd);
    else if (ftp_is(cmd, "ACCT") || ftp_is(cmd, "REIN") || ftp_is(cmd, "SMNT")) {
        snprintf(v, sizeof(v), "502 %s not implemented.", cmd->verb);
        ftp_say0(s, v);
    } else if (ftp_is(cmd, "PBSZ") || ftp_is(cmd, "PROT"))
        ftp_say0(s, "550 Permission denied.");          /* known commands refused without ssl_enable */
    else if (ftp_is(cmd, "EPSV") && cmd->arglen && !ftp_arg_is(cmd, "ALL") && !vsftpd_epsv_ok(s, cmd))
        ftp_say0(s, "522 Bad network protocol.");
    else
        return false;
    return true;
}

/* vsftpd's vsf_sysutil_a_to_filesize_t: all digits and at most 15 of them,
 * else 0 ("REST -5" is 0, not a wrapped 2^64-5). */
uint64_t ftp_vsftpd_filesize(const uint8_t *arg, size_t len)
{
    uint64_t v = 0;
    if (len > 15)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (arg[i] < '0' || arg[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(arg[i] - '0');
    }
    return v;
}

/* vsftpd reads a line of up to 4096 bytes (its '\n' included) whole and
 * answers it once; a longer one gets "500 Input line too long." and ends the
 * session (recorded all the same).  false: stop, wait for more input. */
bool ftp_vsftpd_line(struct ftp_sess *s, struct hp_rd *r)
{
    const uint8_t *line;
    size_t len;
    struct ftp_cmd cmd;
    if (hp_rd_line(r, FTP_VSFTPD_LINE_MAX, &line, &len)) {
        ftp_line(s, line, len);
        return true;
    }
    if (hp_rd_left(r) < FTP_VSFTPD_LINE_MAX)
        return false;
    line = hp_rd_bytes(r, FTP_VSFTPD_LINE_MAX);
    ftp_cmd_split(line, FTP_VSFTPD_LINE_MAX, &cmd);
    ftp_ev_command(s, line, FTP_VSFTPD_LINE_MAX, cmd.verb);
    ftp_say0(s, "500 Input line too long.");
    ftp_finish(s, "line_too_long");
    hp_rd_skip(r, hp_rd_left(r));
    return false;
}

/* ---- ProFTPD ---- */

/* 1.3.8 answers a line of up to 4100 bytes (CRLF aside); a longer one gets
 * no reply at all, the session goes on, unless it runs past ~16000 bytes:
 * then the connection ends.  Recorded all the same (its first bytes).
 * false: stop, wait for more input. */
bool ftp_proftpd_line(struct ftp_sess *s, struct hp_rd *r)
{
    const uint8_t *line;
    size_t len;
    struct ftp_cmd cmd;
    if (s->dropping) {
        const uint8_t *nl = memchr(hp_rd_ptr(r), '\n', hp_rd_left(r));
        size_t n = nl ? (size_t)(nl - hp_rd_ptr(r)) + 1 : hp_rd_left(r);
        hp_rd_skip(r, n);
        s->dropped += n;
        if (s->dropped > FTP_PROFTPD_DROP_MAX) {
            ftp_finish(s, "line_too_long");
            return false;
        }
        s->dropping = nl == NULL;
        return nl != NULL;
    }
    if (hp_rd_line(r, FTP_PROFTPD_LINE_MAX, &line, &len)) {
        ftp_line(s, line, len);
        return true;
    }
    if (hp_rd_left(r) < FTP_PROFTPD_LINE_MAX)
        return false;
    line = hp_rd_bytes(r, FTP_PROFTPD_LINE_MAX);
    ftp_cmd_split(line, FTP_PROFTPD_LINE_MAX, &cmd);
    ftp_ev_command(s, line, FTP_PROFTPD_LINE_MAX, cmd.verb);
    s->dropping = true;
    s->dropped = FTP_PROFTPD_LINE_MAX;
    return true;
}

/* ProFTPD's STAT without argument (Debian: ServerName "Debian"). */
static void proftpd_stat(struct ftp_sess *s)
{
    char name[FTP_USER_MAX + 1];
    snprintf(name, sizeof(name), "%.*s", (int)s->userlen, (const char *)s->user);
    ftp_say(s, "211-Status of 'Debian'\r\n Connected from {0} ({0})\r\n Logged in as {1}", s->c->ctx.src_ip,
        s->anon ? "ftp" : name, NULL);
    ftp_say0(s, s->binary ? " TYPE: BINARY, STRUcture: File, Mode: Stream" : " TYPE: ASCII, STRUcture: File, Mode: Stream");
    ftp_say0(s, " No data connection\r\n211 End of status");
}

/* ProFTPD's STAT PATH: the listing on the control connection, each line
 * indented by a blank: 212 for a directory, 213 for a file, 450 if missing. */
static void proftpd_stat_path(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    char virt[FTP_PATH_MAX], real[FTP_PATH_MAX], arg[FTP_ARG_MAX + 1];
    const uint8_t *p, *line;
    size_t n, len;
    bool all;
    unsigned count = 0;
    struct sh_stat st;
    struct hp_buf b;
    ftp_list_args(cmd, &all, &p, &n);
    if (!ftp_arg_path(p, n, arg, sizeof(arg)) || !ftp_resolve(s, p, n, virt, real) || !s->fs ||
        sh_vfs_stat(s->fs, real, true, &st) < 0) {
        ftp_say(s, "450 {0}: No such file or directory", arg, NULL, NULL);
        return;
    }
    const char *code = st.type == SH_FT_DIR ? "212" : "213";
    hp_buf_init(&b, FTP_LIST_MAX);
    ftp_build_list(s, XK_LIST, real, true, &b, &count);
    ftp_say(s, "{0}-Status of {1}:", code, arg[0] ? arg : ".", NULL);
    struct hp_rd r;
    hp_rd_init(&r, b.data, b.len);
    while (hp_rd_line(&r, FTP_LIST_MAX, &line, &len)) {
        char out[FTP_PATH_MAX + 128];
        int k = snprintf(out, sizeof(out), " %.*s\r\n", (int)len, (const char *)line);
        hp_conn_send(s->c, out, k > 0 && (size_t)k < sizeof(out) ? (size_t)k : 0);
    }
    ftp_say(s, "{0} End of status", code, NULL, NULL);
    hp_buf_free(&b);
}

/* ProFTPD's "displayable" command in its "'X' not understood" replies: the
 * verb as parsed (upper case, uncut), then the argument as sent. */
static void proftpd_display(const struct ftp_cmd *cmd, char *out, size_t outlen)
{
    size_t n = 0;
    for (size_t i = 0; i < cmd->verb_rawlen && n + 1 < outlen; i++) {
        uint8_t ch = cmd->verb_raw[i];
        out[n++] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
    }
    out[n] = '\0';
    if (cmd->arglen)
        snprintf(out + n, outlen - n, " %.*s", (int)(cmd->arglen < FTP_ARG_MAX ? cmd->arglen : FTP_ARG_MAX),
                 (const char *)cmd->arg);
}

/* The argument as sent, as a C string (cut at FTP_ARG_MAX). */
static void proftpd_arg(const struct ftp_cmd *cmd, char *out, size_t outlen)
{
    snprintf(out, outlen, "%.*s", (int)(cmd->arglen < FTP_ARG_MAX ? cmd->arglen : FTP_ARG_MAX),
             cmd->arg ? (const char *)cmd->arg : "");
}

/* Words of the argument, as ProFTPD's argv counts them (blank-separated). */
static unsigned proftpd_words(const struct ftp_cmd *cmd)
{
    unsigned n = 0;
    for (size_t i = 0; i < cmd->arglen; i++)
        n += cmd->arg[i] != ' ' && (i == 0 || cmd->arg[i - 1] == ' ');
    return n;
}

/* "{code} '{display}' {text}": ProFTPD's answer to a command it cannot use. */
static void proftpd_not(struct ftp_sess *s, const struct ftp_cmd *cmd, const char *code, const char *text)
{
    char d[HP_REPLY_MAX];
    proftpd_display(cmd, d, sizeof(d));
    ftp_say(s, "{0} '{1}' {2}", code, d, text);
}

/* The argument count each logged-in handler of 1.3.8 checks first:
 * NEED: none is "501 Invalid number of parameters"; NONE: any is;
 * ONE: exactly one word (PORT, EPRT).  DISP: none is "500 'X' not understood". */
enum { PA_NEED = 1, PA_NONE, PA_ONE, PA_DISP };

static int proftpd_argrule(const char *verb)
{
    static const struct { const char *verb; int rule; } rules[] = {
        { "CWD", PA_NEED }, { "XCWD", PA_NEED }, { "RNFR", PA_NEED }, { "RNTO", PA_NEED }, { "DELE", PA_NEED },
        { "MDTM", PA_NEED }, { "RMD", PA_NEED }, { "XRMD", PA_NEED }, { "MKD", PA_NEED }, { "XMKD", PA_NEED },
        { "SIZE", PA_NEED }, { "MFMT", PA_NEED }, { "MFF", PA_NEED }, { "CDUP", PA_NONE }, { "XCUP", PA_NONE },
        { "PWD", PA_NONE }, { "XPWD", PA_NONE }, { "FEAT", PA_NONE }, { "PASV", PA_NONE }, { "PORT", PA_ONE },
        { "EPRT", PA_ONE }, { "RETR", PA_DISP }, { "STOR", PA_DISP }, { "APPE", PA_DISP }, { "RANG", PA_DISP },
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(rules); i++)
        if (strcmp(verb, rules[i].verb) == 0)
            return rules[i].rule;
    return 0;
}

static bool proftpd_args_bad(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    unsigned w = proftpd_words(cmd);
    int rule = proftpd_argrule(cmd->verb);
    if ((rule == PA_NEED && w == 0) || (rule == PA_NONE && w > 0) || (rule == PA_ONE && w != 1))
        ftp_say0(s, "501 Invalid number of parameters");
    else if ((rule == PA_DISP && w == 0) || ftp_is(cmd, "RANG") || (ftp_is(cmd, "REST") && w != 1) ||
             (ftp_is(cmd, "TYPE") && (w == 0 || w > 2)) || ((ftp_is(cmd, "STOU") || ftp_is(cmd, "ABOR")) && w))
        proftpd_not(s, cmd, "500", "not understood");
    else if ((ftp_is(cmd, "MODE") || ftp_is(cmd, "STRU")) && w != 1)
        proftpd_not(s, cmd, "501", "not understood");
    else if (ftp_is(cmd, "ALLO") && w == 0)
        proftpd_not(s, cmd, "504", "not understood");
    else
        return false;
    return true;
}

/* TYPE: "A", "I" or "L <size>" (any case, any second word after A/I),
 * echoed as sent; anything else is 504 naming the first word. */
static void proftpd_type(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    char a[FTP_ARG_MAX + 1];
    proftpd_arg(cmd, a, sizeof(a));
    size_t w1 = strcspn(a, " ");
    bool second = a[w1] == ' ';
    int t = w1 == 1 ? a[0] & ~0x20 : 0;
    a[w1] = '\0';
    if (t == 'A' || t == 'I' || (t == 'L' && second)) {
        s->binary = t != 'A';
        ftp_say(s, "200 Type set to {0}", a, NULL, NULL);
    } else {
        ftp_say(s, "504 TYPE not implemented for '{0}' parameter", a, NULL, NULL);
    }
}

/* MODE S, STRU F and ALLO (a number: 200 for a local user, 202 in the
 * anonymous chroot, where the free space is not looked up). */
static void proftpd_mode(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    bool mode = ftp_is(cmd, "MODE");
    if ((cmd->arg[0] | 0x20) == (mode ? 's' : 'f'))
        ftp_say0(s, mode ? "200 Mode set to S" : "200 Structure set to F");
    else
        proftpd_not(s, cmd, "504", mode ? "unsupported transfer mode" : "unsupported structure type");
}

static void proftpd_allo(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    char a[FTP_ARG_MAX + 1], *end;
    proftpd_arg(cmd, a, sizeof(a));
    size_t w1 = strcspn(a, " ");
    char c = a[w1];
    a[w1] = '\0';
    (void)strtoll(a, &end, 10);
    bool bad = end == a || *end != '\0';
    a[w1] = c;
    if (bad)
        ftp_say(s, "504 {0}: Invalid ALLO argument", a, NULL, NULL);
    else
        ftp_say0(s, s->anon ? "202 No storage allocation necessary" : "200 ALLO command successful");
}

/* REST: digits only, and not in ASCII mode. */
static void proftpd_rest(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    char n[24];
    bool digits = cmd->arglen <= 19;
    for (size_t i = 0; digits && i < cmd->arglen; i++)
        digits = cmd->arg[i] >= '0' && cmd->arg[i] <= '9';
    if (!digits) {
        ftp_say0(s, "501 REST requires a value greater than or equal to 0");
        return;
    }
    if (!s->binary) {
        ftp_say0(s, "501 REST: Resuming transfers not allowed in ASCII mode");
        return;
    }
    snprintf(n, sizeof(n), "%.*s", (int)cmd->arglen, (const char *)cmd->arg);
    s->rest = strtoull(n, NULL, 10);
    snprintf(n, sizeof(n), "%llu", (unsigned long long)s->rest);
    ftp_say(s, "350 Restarting at {0}. Send STORE or RETRIEVE to initiate transfer", n, NULL, NULL);
}

/* SIZE (not in ASCII mode) and MDTM, with errors naming the argument as sent. */
static void proftpd_size(struct ftp_sess *s, const struct ftp_cmd *cmd, bool mdtm)
{
    char virt[FTP_PATH_MAX], real[FTP_PATH_MAX], a[FTP_ARG_MAX + 1], t[32];
    struct sh_stat st;
    proftpd_arg(cmd, a, sizeof(a));
    if (!mdtm && !s->binary) {
        ftp_say0(s, "550 SIZE not allowed in ASCII mode");
        return;
    }
    if (!ftp_resolve(s, cmd->arg, cmd->arglen, virt, real) || !s->fs || sh_vfs_stat(s->fs, real, true, &st) < 0) {
        ftp_say(s, "550 {0}: No such file or directory", a, NULL, NULL);
        return;
    }
    if (!mdtm && st.type != SH_FT_REG) {
        ftp_say(s, "550 {0}: not a regular file", a, NULL, NULL);
        return;
    }
    if (mdtm)
        ftp_mdtm(st.mtime, t, sizeof(t));
    else
        snprintf(t, sizeof(t), "%llu", (unsigned long long)st.size);
    ftp_say(s, "213 {0}", t, NULL, NULL);
}

/* EPSV ALL, then PASV/PORT/EPRT refused; EPSV with an unknown protocol number. */
static bool proftpd_epsv(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    if (ftp_is(cmd, "EPSV") && ftp_arg_is(cmd, "ALL")) {
        s->epsv_all = true;
        ftp_say0(s, "200 EPSV ALL command successful");
    } else if (ftp_is(cmd, "EPSV") && cmd->arglen && cmd->arg[0] >= '0' && cmd->arg[0] <= '9' &&
               !ftp_arg_is(cmd, "1") && !ftp_arg_is(cmd, "2")) {
        ftp_say0(s, "522 Network protocol not supported, use (1,2)");
    } else if (s->epsv_all && (ftp_is(cmd, "PASV") || ftp_is(cmd, "PORT") || ftp_is(cmd, "EPRT"))) {
        ftp_say(s, "500 Illegal {0} command, EPSV ALL in effect", cmd->verb, NULL, NULL);
    } else {
        return false;
    }
    return true;
}

/* USER and PASS once logged in: the same local name again is welcomed
 * again, any other (anonymous included) refused. */
static void proftpd_relogin(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    char name[FTP_USER_MAX + 1];
    bool same = !s->anon && cmd->arglen > 0 && cmd->arglen == s->userlen &&
                memcmp(cmd->arg, s->user, s->userlen) == 0;
    if (ftp_is(cmd, "PASS")) {
        ftp_say0(s, "503 You are already logged in");
    } else if (same) {
        snprintf(name, sizeof(name), "%.*s", (int)s->userlen, (const char *)s->user);
        ftp_say(s, s->cf->fl->login_ok, name, NULL, NULL);
    } else {
        ftp_say0(s, "501 Reauthentication not supported");
    }
}

/* Debian's welcome.msg (DisplayLogin, as in its example <Anonymous> block),
 * the 230- lines before "Anonymous access granted". */
void ftp_proftpd_welcome(struct ftp_sess *s)
{
    char name[FTP_USER_MAX + 1], tm[40];
    time_t now = (time_t)(hp_now_us() / 1000000);
    struct tm t;
    localtime_r(&now, &t);
    strftime(tm, sizeof(tm), "%a %b %d %H:%M:%S %Y", &t);
    snprintf(name, sizeof(name), "%.*s", (int)s->userlen, (const char *)s->user);
    ftp_say(s, "230-Welcome, archive user {0}@{1} !\r\n \r\n The local time is: {2}\r\n ", name,
            s->c->ctx.src_ip, tm);
    ftp_say(s, " This is an experimental FTP server.  If you have any unusual problems,\r\n"
               " please report them via e-mail to <root@{0}>.\r\n ", s->c->ctx.dst_ip, NULL, NULL);
}

/* ---- ProFTPD's SITE (mod_site, mod_copy, mod_quotatab, mod_ratio) ---- */

static const char proftpd_site_help[] =
    "214-The following SITE commands are recognized (* =>'s unimplemented)\r\n CPFR <sp> pathname\r\n"
    " CPTO <sp> pathname\r\n UTIME <sp> YYYYMMDDhhmm[ss] <sp> path\r\n SYMLINK <sp> source <sp> destination\r\n"
    " RMDIR <sp> path\r\n MKDIR <sp> path\r\n The following SITE extensions are recognized:\r\n"
    " RATIO -- show all ratios in effect\r\n QUOTA\r\n HELP\r\n CHGRP\r\n CHMOD\r\n214 Direct comments to root@{0}";

/* SITE CHMOD MODE PATH (the path may hold blanks). */
static void proftpd_chmod(struct ftp_sess *s, const struct ftp_cmd *site, const struct ftp_cmd *sub)
{
    char mode[16], path[FTP_ARG_MAX + 1], virt[FTP_PATH_MAX], real[FTP_PATH_MAX], *end;
    char d[HP_REPLY_MAX];
    struct sh_stat st;
    const uint8_t *sp = sub->arg ? memchr(sub->arg, ' ', sub->arglen) : NULL;
    if (!sp || proftpd_words(sub) < 2) {
        proftpd_display(site, d, sizeof(d));
        ftp_say(s, "500-'{0}' not understood\r\n500 SITE not understood", d, NULL, NULL);
        return;
    }
    size_t mlen = (size_t)(sp - sub->arg);
    snprintf(mode, sizeof(mode), "%.*s", (int)(mlen < 15 ? mlen : 15), (const char *)sub->arg);
    snprintf(path, sizeof(path), "%.*s", (int)(sub->arglen - mlen - 1), (const char *)sp + 1);
    bool found = ftp_resolve(s, sp + 1, sub->arglen - mlen - 1, virt, real) && s->fs &&
                 sh_vfs_stat(s->fs, real, true, &st) == 0;
    if (s->anon && found) {                          /* Debian's <Limit WRITE> DenyAll */
        proftpd_arg(site, d, sizeof(d));
        ftp_say(s, "550 {0}: Permission denied", d, NULL, NULL);
        return;
    }
    unsigned long m = strtoul(mode, &end, 8);
    if (end == mode || *end != '\0' || mlen > 15) {
        ftp_say(s, "550 '{0}': invalid mode", mode, NULL, NULL);
        return;
    }
    if (!found || sh_vfs_chmod(s->fs, real, (unsigned)m & 07777) != 0)
        ftp_say(s, "550 {0}: No such file or directory", path, NULL, NULL);
    else
        ftp_say0(s, "200 SITE CHMOD command successful");
}

/* mod_copy's CPFR/CPTO (CVE-2015-3306's probe): 1.3.8 wants a login first,
 * then copies like the user would.  The copy is made in the session's
 * overlay (capped as a download is). */
static void proftpd_copy(struct ftp_sess *s, const struct ftp_cmd *site, const struct ftp_cmd *sub)
{
    char virt[FTP_PATH_MAX], real[FTP_PATH_MAX], d[HP_REPLY_MAX];
    struct sh_stat st;
    bool cpfr = ftp_is(sub, "CPFR");
    if (sub->arglen == 0) {
        proftpd_display(site, d, sizeof(d));
        ftp_say(s, cpfr ? "500 '{0}' not understood" : "500 '{0}' not understood\r\n503 Bad sequence of commands", d,
                NULL, NULL);
        return;
    }
    if (!cpfr && s->anon && s->have_cpfr) {         /* Debian's <Limit WRITE> DenyAll */
        s->have_cpfr = false;
        ftp_resolve(s, sub->arg, sub->arglen, virt, real);
        ftp_say(s, "550 {0}: Operation not permitted", virt, NULL, NULL);
        return;
    }
    if (!cpfr && !s->have_cpfr) {
        ftp_say0(s, "503-Bad sequence of commands\r\n503 Bad sequence of commands");
        return;
    }
    if (!s->logged_in) {
        ftp_say0(s, s->cf->fl->need_login);
        return;
    }
    bool ok = ftp_resolve(s, sub->arg, sub->arglen, virt, real) && s->fs;
    if (cpfr) {
        s->have_cpfr = ok && sh_vfs_stat(s->fs, real, true, &st) == 0;
        if (s->have_cpfr) {
            snprintf(s->cpfr, sizeof(s->cpfr), "%s", real);
            ftp_say0(s, "350 File or directory exists, ready for destination name");
        } else {
            ftp_say(s, "550 {0}: No such file or directory", virt, NULL, NULL);
        }
        return;
    }
    s->have_cpfr = false;
    if (ok && sh_vfs_stat(s->fs, real, true, &st) == 0 && st.type == SH_FT_DIR) {
        ftp_say0(s, "550 CPTO: Is a directory");
        return;
    }
    struct hp_buf b;
    hp_buf_init(&b, FTP_COPY_MAX);
    ok = ok && sh_vfs_stat(s->fs, s->cpfr, true, &st) == 0 && st.type == SH_FT_REG &&
         sh_vfs_read(s->fs, s->cpfr, 0, FTP_COPY_MAX, &b) >= 0 &&
         sh_vfs_write(s->fs, real, b.data, b.len, SH_O_CREAT | SH_O_TRUNC, st.mode & 0777) >= 0;
    hp_buf_free(&b);
    ftp_say0(s, ok ? "250 Copy successful" : "550 CPTO: Permission denied");
}

/* An unknown SITE command: its word upper-cased, uncut. */
static void proftpd_site_unknown(struct ftp_sess *s, const struct ftp_cmd *sub)
{
    char d[HP_REPLY_MAX];
    struct ftp_cmd word = *sub;
    word.arglen = 0;
    proftpd_display(&word, d, sizeof(d));
    ftp_say(s, "500 'SITE {0}' not understood", d, NULL, NULL);
}

/* SITE before and after login: HELP needs none, CPTO without CPFR is 503
 * twice, CHMOD's login refusal comes twice too (mod_site then mod_core). */
static void proftpd_site(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    struct ftp_cmd sub;
    if (cmd->arglen == 0) {
        ftp_say0(s, "500 'SITE' requires parameters");
        return;
    }
    ftp_cmd_split(cmd->arg, cmd->arglen, &sub);
    bool in = s->logged_in;
    if (ftp_is(&sub, "HELP"))
        ftp_say(s, proftpd_site_help, s->c->ctx.dst_ip, NULL, NULL);
    else if (ftp_is(&sub, "CPFR") || ftp_is(&sub, "CPTO"))
        proftpd_copy(s, cmd, &sub);
    else if (ftp_is(&sub, "CHMOD") && !in && proftpd_words(&sub) >= 2)
        ftp_say0(s, "530 Please login with USER and PASS\r\n530 Please login with USER and PASS");
    else if (ftp_is(&sub, "CHMOD"))
        proftpd_chmod(s, cmd, &sub);
    else if (!in && (ftp_is(&sub, "QUOTA") || ftp_is(&sub, "RATIO")))
        ftp_say0(s, s->cf->fl->need_login);
    else if (ftp_is(&sub, "QUOTA"))
        ftp_say0(s, "202 No quotas in effect");
    else if (ftp_is(&sub, "RATIO"))
        ftp_say0(s, "214 Current Ratio: ( -0/0 +0/0 (0 0 0 0) = 0/0 )");
    else
        proftpd_site_unknown(s, &sub);
}

/* Another protocol's first words (an HTTP request, an SMTP client, an SSH
 * banner: scanners trying every port) end a 1.3.8 session at once, without
 * a reply, logged in or not.  The verb as sent: "get" is just unknown. */
static bool proftpd_foreign(const struct ftp_cmd *cmd)
{
    static const char *const verbs[] = { "GET", "POST", "HEAD", "PUT", "CONNECT", "OPTIONS", "DELETE", "PATCH",
                                         "HELO", "EHLO", "MAIL", "RCPT", "DATA" };
    size_t n = cmd->verb_rawlen;
    if (n >= 4 && memcmp(cmd->verb_raw, "SSH-", 4) == 0)
        return true;
    for (size_t i = 0; i < HP_ARRAY_LEN(verbs); i++)
        if (strlen(verbs[i]) == n && memcmp(cmd->verb_raw, verbs[i], n) == 0)
            return true;
    return false;
}

/* A verb 1.3.8 does not know, before login too: named whole, upper-cased
 * ("500 XYZZYABCDEFGHIJKL not understood", not cut at 7 letters). */
static void proftpd_unknown(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    char d[HP_REPLY_MAX];
    struct ftp_cmd word = *cmd;
    word.arglen = 0;
    proftpd_display(&word, d, sizeof(d));
    ftp_say(s, "500 {0} not understood", d, NULL, NULL);
}

/* HELP VERB: 1.3.8's syntax line of a verb in its HELP list, any case;
 * "HELP SITE" lists mod_site's extensions; other verbs are 502. */
static bool proftpd_help(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    static const char *const syntax[] = {
        "CWD <sp> pathname",
        "XCWD <sp> pathname",
        "CDUP (up one directory)",
        "XCUP (up one directory)",
        "SMNT is not implemented",
        "QUIT (close control connection)",
        "PORT <sp> h1,h2,h3,h4,p1,p2",
        "PASV (returns address/port)",
        "EPRT <sp> |proto|addr|port|",
        "EPSV (returns port |||port|)",
        "ALLO <sp> size",
        "RNFR <sp> pathname",
        "RNTO <sp> pathname",
        "DELE <sp> pathname",
        "MDTM <sp> pathname",
        "RMD <sp> pathname",
        "XRMD <sp> pathname",
        "MKD <sp> pathname",
        "XMKD <sp> pathname",
        "PWD (returns current working directory)",
        "XPWD (returns current working directory)",
        "SIZE <sp> pathname",
        "SYST (returns system type)",
        "HELP [<sp> command]",
        "NOOP (no operation)",
        "FEAT (returns feature list)",
        "OPTS <sp> command [<sp> options]",
        "HOST <cp> hostname",
        "CLNT <cp> client-info",
        "AUTH <sp> base64-data",
        "CCC (clears protection level)",
        "CONF <sp> base64-data",
        "ENC <sp> base64-data",
        "MIC <sp> base64-data",
        "PBSZ <sp> protection buffer size",
        "PROT <sp> protection code",
        "TYPE <sp> type-code (A, I, L 7, L 8)",
        "STRU is not implemented (always F)",
        "MODE is not implemented (always S)",
        "RETR <sp> pathname",
        "STOR <sp> pathname",
        "STOU (store unique filename)",
        "APPE <sp> pathname",
        "REST <sp> byte-count",
        "ABOR (abort current operation)",
        "RANG <sp> start-point <sp> end-point",
        "USER <sp> username",
        "PASS <sp> password",
        "ACCT is not implemented",
        "REIN is not implemented",
        "LIST [<sp> pathname]",
        "NLST [<sp> (pathname)]",
        "STAT [<sp> pathname]",
        "MLSD [<sp> pathname]",
        "MLST [<sp> pathname]",
        "CWD <sp> pathname\r\n', False, 0.08085012435913086)]",
    };
    struct ftp_cmd word;
    char d[HP_REPLY_MAX];
    if (!ftp_is(cmd, "HELP") || cmd->arglen == 0)
        return false;
    ftp_cmd_split(cmd->arg, cmd->arglen, &word);
    size_t vl = strlen(word.verb);
    if (ftp_is(&word, "SITE") && word.arglen == 0) {
        ftp_say0(s, "214-HELP\r\n CHGRP\r\n214 CHMOD");
        return true;
    }
    for (size_t i = 0; !word.verb_cut && !ftp_is(&word, "SITE") && i < HP_ARRAY_LEN(syntax); i++)
        if (strncmp(syntax[i], word.verb, vl) == 0 && syntax[i][vl] == ' ') {
            ftp_say(s, "214 Syntax: {0}", syntax[i], NULL, NULL);
            return true;
        }
    if (ftp_is(&word, "SITE")) {                   /* mod_site looks the rest up as "SITE SITE ..." */
        proftpd_arg(cmd, d, sizeof(d));
        ftp_say(s, "502 Unknown command 'SITE {0}'", d, NULL, NULL);
        return true;
    }
    word.arglen = 0;
    proftpd_display(&word, d, sizeof(d));
    ftp_say(s, "502 Unknown command '{0}'", d, NULL, NULL);
    return true;
}

/* Commands 1.3.8 answers its own way once logged in. */
static bool proftpd_session_cmd(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    if (proftpd_args_bad(s, cmd) || proftpd_epsv(s, cmd))
        return true;
    if (ftp_is(cmd, "USER") || ftp_is(cmd, "PASS"))
        proftpd_relogin(s, cmd);
    else if (ftp_is(cmd, "MODE") || ftp_is(cmd, "STRU"))
        proftpd_mode(s, cmd);
    else if (ftp_is(cmd, "ALLO"))
        proftpd_allo(s, cmd);
    else if (ftp_is(cmd, "ABOR"))
        ftp_say0(s, "226 Abort successful");
    else if (ftp_is(cmd, "REST"))
        proftpd_rest(s, cmd);
    else if (ftp_is(cmd, "SIZE") || ftp_is(cmd, "MDTM"))
        proftpd_size(s, cmd, ftp_is(cmd, "MDTM"));
    else
        return false;
    return true;
}

/* ProFTPD's own answers: a blank line, USER without a name, STAT (after
 * login), CLNT, HOST, ACCT, REIN, which need no login, and SMNT (502 after login). */
bool ftp_proftpd_cmd(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    char v[FTP_VERB_MAX + 32], a[FTP_ARG_MAX + 1];
    snprintf(a, sizeof(a), "%.*s", (int)(cmd->arglen < FTP_ARG_MAX ? cmd->arglen : FTP_ARG_MAX),
             cmd->arg ? (const char *)cmd->arg : "");
    if (proftpd_foreign(cmd))
        ftp_finish(s, "foreign_protocol");
    else if (cmd->verb[0] && (cmd->verb_cut || !proftpd_knows(cmd->verb)))
        proftpd_unknown(s, cmd);
    else if (ftp_is(cmd, "SITE"))
        proftpd_site(s, cmd);
    else if (proftpd_help(s, cmd))
        return true;
    else if (ftp_is(cmd, "TYPE") && !proftpd_args_bad(s, cmd))
        proftpd_type(s, cmd);
    else if (ftp_is(cmd, "TYPE") || (s->logged_in && proftpd_session_cmd(s, cmd)))
        return true;
    else if (cmd->verb[0] == '\0')
        ftp_say0(s, "500 Invalid command: try being more creative");
    else if (ftp_is(cmd, "STAT") && s->logged_in && cmd->arglen == 0)
        proftpd_stat(s);                  /* nmap ftp-syst */
    else if (ftp_is(cmd, "STAT") && s->logged_in)
        proftpd_stat_path(s, cmd);
    else if (ftp_is(cmd, "USER") && cmd->arglen == 0)
        ftp_say0(s, "500 USER: command requires a parameter");
    else if (ftp_is(cmd, "CLNT"))
        ftp_say0(s, "200 OK");
    else if (ftp_is(cmd, "HOST") && cmd->arglen == 0)
        ftp_say0(s, "500 'HOST' not understood");
    else if (ftp_is(cmd, "HOST") && strcmp(a, s->c->ctx.dst_ip) == 0)
        ftp_say0(s, "220 HOST command successful");
    else if (ftp_is(cmd, "HOST"))
        ftp_say(s, "504 {0}: Unknown hostname provided", a, NULL, NULL);
    else if (ftp_is(cmd, "ACCT") || ftp_is(cmd, "REIN") || (ftp_is(cmd, "SMNT") && s->logged_in)) {
        snprintf(v, sizeof(v), "502 %s command not implemented", cmd->verb);
        ftp_say0(s, v);
    } else
        return false;
    return true;
}

/* ProFTPD 1.3.8's OPTS: "UTF8 ON|OFF" (any case), other options not understood. */
static void proftpd_opts(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    char t[FTP_ARG_MAX + 1];
    snprintf(t, sizeof(t), "%.*s", (int)(cmd->arglen < FTP_ARG_MAX ? cmd->arglen : FTP_ARG_MAX),
             cmd->arg ? (const char *)cmd->arg : "");
    if (cmd->arglen == 0)
        ftp_say0(s, "501 Invalid number of parameters");
    else if (ftp_arg_is(cmd, "UTF8 ON") || ftp_arg_is(cmd, "UTF8 OFF"))
        ftp_say0(s, ftp_arg_is(cmd, "UTF8 ON") ? "200 UTF8 set to on" : "200 UTF8 set to off");
    else if (cmd->arglen >= 4 && strncasecmp(t, "UTF8", 4) == 0)
        ftp_say(s, "501 'OPTS {0}' not understood", t, NULL, NULL);
    else
        ftp_say(s, "500 OPTS {0} not understood", t, NULL, NULL);
}

/* ---- all ---- */

/* OPTS: vsftpd knows "UTF8 ON" only (any case), before and after login. */
void ftp_opts(struct ftp_sess *s, const struct ftp_cmd *cmd)
{
    const struct ftp_flavour *fl = s->cf->fl;
    if (fl->list == FTP_LIST_DOS)
        ftp_say0(s, "200 OPTS UTF8 command successful - UTF8 encoding now ON.");
    else if (fl->proftpd)
        proftpd_opts(s, cmd);
    else if (fl->vsftpd && !ftp_arg_is(cmd, "UTF8 ON"))
        ftp_say0(s, "501 Option not understood.");
    else
        ftp_say0(s, "200 Always in UTF8 mode.");
}
