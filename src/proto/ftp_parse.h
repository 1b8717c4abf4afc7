/*
 * ftp_parse.h - the pure parts of the FTP module (src/proto/ftp.c): command
 * lines, PORT/EPRT addresses and directory listing lines, kept apart from
 * the sockets so that unit tests and the fuzzer reach them directly.
 *
 * Everything that reads peer bytes goes through the hp_rd reader and every
 * output is an hp_buf with a cap, so a hostile line can neither read past
 * its end nor make an answer grow without bound.
 */
#ifndef HP_FTP_PARSE_H
#define HP_FTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct hp_buf;
struct sh_stat;

#define FTP_LINE_MAX   1024    /* longest command line (vsftpd: VSFTP_MAX_COMMAND_LINE 4096; we cut shorter) */
#define FTP_VERB_MAX   8       /* verbs are 3-4 letters; longer is "unknown" */
#define FTP_ARG_MAX    512     /* path arguments are cut here */

/* One command line split as servers do: the verb is everything up to the
 * first space (upper-cased, at most FTP_VERB_MAX-1 bytes, longer verbs are
 * cut and flagged), the argument the rest of the line after one space,
 * trailing blanks kept (filenames may end in spaces). */
struct ftp_cmd {
    char verb[FTP_VERB_MAX];
    bool verb_cut;             /* the verb was longer than FTP_VERB_MAX-1 */
    const uint8_t *verb_raw;   /* the whole verb as sent (ProFTPD echoes it uncut), in the line */
    size_t verb_rawlen;
    const uint8_t *arg;        /* points into the line */
    size_t arglen;
};

/* Split line[0..len) (without CRLF).  Never fails: an empty line gives an
 * empty verb. */
void ftp_cmd_split(const uint8_t *line, size_t len, struct ftp_cmd *out);

/* "h1,h2,h3,h4,p1,p2" (PORT): IPv4 address and port.  0, or -1 when malformed
 * (a value over 255, missing fields, junk). */
int ftp_parse_port(const uint8_t *arg, size_t len, struct sockaddr_storage *ss);
/* "|1|1.2.3.4|5282|" or "|2|::1|5282|" (EPRT, RFC 2428; any delimiter in
 * 33..126).  0, -1 malformed, -2 unsupported address family (522). */
int ftp_parse_eprt(const uint8_t *arg, size_t len, struct sockaddr_storage *ss);

/* True if a and b hold the same IP address (IPv4-mapped IPv6 equals IPv4). */
bool ftp_same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* The IPv4 address of ss (plain or IPv4-mapped) in host order; false if none. */
bool ftp_ipv4_of(const struct sockaddr_storage *ss, uint32_t *ip);

/* Listing styles of the personalities. */
enum ftp_list_style {
    FTP_LIST_UNIX_IDS,         /* vsftpd: numeric owner and group */
    FTP_LIST_UNIX_NAMES,       /* ProFTPD, Pure-FTPd: names */
    FTP_LIST_DOS,              /* Microsoft FTP Service: "01-02-24  10:15AM  <DIR>  name" */
};

/* One LIST line for name (CRLF appended).  owner/group may be NULL (ids are
 * printed).  now_s decides between "Mon dd HH:MM" and "Mon dd  YYYY". */
bool ftp_list_line(struct hp_buf *out, enum ftp_list_style style, const char *name,
                   const struct sh_stat *st, const char *owner, const char *group, int64_t now_s);
/* One MLSD line (RFC 3659 facts, CRLF appended). */
bool ftp_mlsd_line(struct hp_buf *out, const char *name, const struct sh_stat *st);
/* "YYYYMMDDHHMMSS" of t (UTC) into out (>= 15 bytes). */
void ftp_mdtm(int64_t t, char *out, size_t outlen);

/* A path argument as a C string: NULs and control bytes refused (false),
 * cut at FTP_ARG_MAX.  Real servers refuse such names too. */
bool ftp_arg_path(const uint8_t *arg, size_t len, char *out, size_t outlen);

#endif
