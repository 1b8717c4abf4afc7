/*
 * ftp_parse.c - command lines, PORT/EPRT and listing lines for the FTP
 * module.  See ftp_parse.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "buf.h"
#include "ftp_parse.h"
#include "reader.h"
#include "shell/vfs.h"

void ftp_cmd_split(const uint8_t *line, size_t len, struct ftp_cmd *out)
{
    struct hp_rd r;
    size_t n = 0;
    memset(out, 0, sizeof(*out));
    hp_rd_init(&r, line, len);
    /* Leading blanks are skipped like vsftpd's str_split_char on the first space */
    while (hp_rd_left(&r) && hp_rd_peek_u8(&r, 0) == ' ')
        hp_rd_skip(&r, 1);
    out->verb_raw = hp_rd_ptr(&r);
    while (hp_rd_left(&r)) {
        int ch = hp_rd_peek_u8(&r, 0);
        if (ch == ' ')
            break;
        hp_rd_skip(&r, 1);
        if (n + 1 < FTP_VERB_MAX)
            out->verb[n++] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
        else
            out->verb_cut = true;
    }
    out->verb[n] = '\0';
    out->verb_rawlen = (size_t)(hp_rd_ptr(&r) - out->verb_raw);
    if (hp_rd_left(&r) && hp_rd_peek_u8(&r, 0) == ' ')
        hp_rd_skip(&r, 1);
    out->arglen = hp_rd_left(&r);
    out->arg = out->arglen ? hp_rd_ptr(&r) : NULL;
}

/* A decimal number of at most maxdigits digits; -1 when none. */
static long rd_num(struct hp_rd *r, int maxdigits)
{
    long v = 0;
    int d = 0;
    while (hp_rd_left(r) && d < maxdigits) {
        int ch = hp_rd_peek_u8(r, 0);
        if (ch < '0' || ch > '9')
            break;
        v = v * 10 + (ch - '0');
        d++;
        hp_rd_skip(r, 1);
    }
    return d ? v : -1;
}

int ftp_parse_port(const uint8_t *arg, size_t len, struct sockaddr_storage *ss)
{
    struct hp_rd r;
    long v[6];
    hp_rd_init(&r, arg, len);
    for (int i = 0; i < 6; i++) {
        while (hp_rd_left(&r) && hp_rd_peek_u8(&r, 0) == ' ')
            hp_rd_skip(&r, 1);
        v[i] = rd_num(&r, 3);
        if (v[i] < 0 || v[i] > 255)
            return -1;
        if (i < 5 && hp_rd_u8(&r) != ',')
            return -1;
    }
    while (hp_rd_left(&r) && (hp_rd_peek_u8(&r, 0) == ' ' || hp_rd_peek_u8(&r, 0) == '\t'))
        hp_rd_skip(&r, 1);
    if (!hp_rd_ok(&r) || hp_rd_left(&r))
        return -1;
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    memset(ss, 0, sizeof(*ss));
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl((uint32_t)(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]));
    in->sin_port = htons((uint16_t)(v[4] << 8 | v[5]));
    return 0;
}

int ftp_parse_eprt(const uint8_t *arg, size_t len, struct sockaddr_storage *ss)
{
    struct hp_rd r;
    char addr[INET6_ADDRSTRLEN + 1];
    hp_rd_init(&r, arg, len);
    int d = hp_rd_u8(&r);
    if (!hp_rd_ok(&r) || d < 33 || d > 126)
        return -1;
    long af = rd_num(&r, 1);
    if (hp_rd_u8(&r) != d || af < 0)
        return -1;
    long end = hp_rd_find(&r, &(uint8_t){ (uint8_t)d }, 1);
    if (end <= 0 || (size_t)end >= sizeof(addr))
        return -1;
    hp_rd_copy(&r, addr, (size_t)end);
    addr[end] = '\0';
    hp_rd_skip(&r, 1);
    long port = rd_num(&r, 5);
    if (hp_rd_u8(&r) != d || !hp_rd_ok(&r) || port < 1 || port > 65535)
        return -1;
    memset(ss, 0, sizeof(*ss));
    if (af == 1) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        if (inet_pton(AF_INET, addr, &in->sin_addr) != 1)
            return -1;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        return 0;
    }
    if (af == 2) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, addr, &in6->sin6_addr) != 1)
            return -1;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        return 0;
    }
    return -2;
}

bool ftp_ipv4_of(const struct sockaddr_storage *ss, uint32_t *ip)
{
    if (ss->ss_family == AF_INET) {
        *ip = ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
        return true;
    }
    if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            *ip = (uint32_t)a->s6_addr[12] << 24 | (uint32_t)a->s6_addr[13] << 16 |
                  (uint32_t)a->s6_addr[14] << 8 | a->s6_addr[15];
            return true;
        }
    }
    return false;
}

bool ftp_same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    uint32_t x = 0, y = 0;
    bool a4 = ftp_ipv4_of(a, &x), b4 = ftp_ipv4_of(b, &y);
    if (a4 || b4)
        return a4 && b4 && x == y;
    if (a->ss_family != AF_INET6 || b->ss_family != AF_INET6)
        return false;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr,
                  sizeof(struct in6_addr)) == 0;
}

static char type_char(enum sh_ftype t)
{
    switch (t) {
    case SH_FT_DIR: return 'd';
    case SH_FT_LNK: return 'l';
    case SH_FT_CHR: return 'c';
    case SH_FT_BLK: return 'b';
    case SH_FT_FIFO: return 'p';
    case SH_FT_SOCK: return 's';
    default: return '-';
    }
}

/* "drwxr-xr-x" with setuid/setgid/sticky letters, as ls prints it. */
static void mode_str(const struct sh_stat *st, char out[11])
{
    static const char rwx[] = "rwxrwxrwx";
    unsigned m = st->mode;
    out[0] = type_char(st->type);
    for (int i = 0; i < 9; i++)
        out[1 + i] = (m & (0400u >> i)) ? rwx[i] : '-';
    if (m & 04000)
        out[3] = (m & 0100) ? 's' : 'S';
    if (m & 02000)
        out[6] = (m & 010) ? 's' : 'S';
    if (m & 01000)
        out[9] = (m & 01) ? 't' : 'T';
    out[10] = '\0';
}

static void utc_tm(int64_t t, struct tm *tm)
{
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, tm))
        memset(tm, 0, sizeof(*tm));
}

bool ftp_list_line(struct hp_buf *out, enum ftp_list_style style, const char *name,
                   const struct sh_stat *st, const char *owner, const char *group, int64_t now_s)
{
    static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    utc_tm(st->mtime, &tm);
    if (style == FTP_LIST_DOS) {
        int h = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
        if (st->type == SH_FT_DIR)
            return hp_buf_printf(out, "%02d-%02d-%02d  %02d:%02d%s       <DIR>          %s\r\n", tm.tm_mon + 1,
                                 tm.tm_mday, tm.tm_year % 100, h, tm.tm_min, tm.tm_hour < 12 ? "AM" : "PM", name);
        return hp_buf_printf(out, "%02d-%02d-%02d  %02d:%02d%s %20llu %s\r\n", tm.tm_mon + 1, tm.tm_mday,
                             tm.tm_year % 100, h, tm.tm_min, tm.tm_hour < 12 ? "AM" : "PM",
                             (unsigned long long)st->size, name);
    }
    char mode[11], when[32], ubuf[16], gbuf[16];
    mode_str(st, mode);
    int mi = tm.tm_mon >= 0 && tm.tm_mon < 12 ? tm.tm_mon : 0;
    /* ls: the time of day for files younger than six months, the year otherwise */
    if (st->mtime > now_s - 182 * 86400 && st->mtime <= now_s + 3600)
        snprintf(when, sizeof(when), style == FTP_LIST_UNIX_IDS ? "%s %02d %02d:%02d" : "%s %2d %02d:%02d",
                 mon[mi], tm.tm_mday, tm.tm_hour, tm.tm_min);
    else
        snprintf(when, sizeof(when), style == FTP_LIST_UNIX_IDS ? "%s %02d  %d" : "%s %2d  %d", mon[mi],
                 tm.tm_mday, tm.tm_year + 1900);
    snprintf(ubuf, sizeof(ubuf), "%u", st->uid);
    snprintf(gbuf, sizeof(gbuf), "%u", st->gid);
    if (style == FTP_LIST_UNIX_IDS || !owner)
        owner = ubuf;
    if (style == FTP_LIST_UNIX_IDS || !group)
        group = gbuf;
    if (style == FTP_LIST_UNIX_IDS)        /* vsftpd's "%s %4d %-8s %-8s %8llu %s %s" */
        return hp_buf_printf(out, "%s %4u %-8s %-8s %8llu %s %s\r\n", mode, st->nlink, owner, group,
                             (unsigned long long)st->size, when, name);
    return hp_buf_printf(out, "%s %3u %-8s %-8s %8llu %s %s\r\n", mode, st->nlink, owner, group,
                         (unsigned long long)st->size, when, name);
}

void ftp_mdtm(int64_t t, char *out, size_t outlen)
{
    struct tm tm;
    utc_tm(t, &tm);
    snprintf(out, outlen, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool ftp_mlsd_line(struct hp_buf *out, const char *name, const struct sh_stat *st)
{
    char t[20];
    ftp_mdtm(st->mtime, t, sizeof(t));
    const char *type = st->type == SH_FT_DIR ? "dir" : st->type == SH_FT_REG ? "file" : "OS.unix=special";
    return hp_buf_printf(out, "type=%s;size=%llu;modify=%s;UNIX.mode=%04o;UNIX.uid=%u;UNIX.gid=%u; %s\r\n",
                         type, (unsigned long long)st->size, t, st->mode & 07777, st->uid, st->gid, name);
}

bool ftp_arg_path(const uint8_t *arg, size_t len, char *out, size_t outlen)
{
    struct hp_rd r;
    size_t n = 0;
    if (outlen == 0)
        return false;
    hp_rd_init(&r, arg, len);
    while (hp_rd_left(&r) && n + 1 < outlen && n < FTP_ARG_MAX) {
        uint8_t ch = hp_rd_u8(&r);
        if (ch < 0x20 || ch == 0x7f)
            return false;
        out[n++] = (char)ch;
    }
    out[n] = '\0';
    return true;
}
