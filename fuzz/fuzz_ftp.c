/*
 * fuzz_ftp.c - the FTP module's parsing of peer bytes (src/proto/ftp_parse.c):
 * the input is cut into lines as the module does (hp_rd_line, FTP_LINE_MAX),
 * each line split into verb and argument, and the argument run through the
 * PORT and EPRT parsers, the path check and the LIST/MLSD line builders.
 * Invariants: the argument and the uncut verb lie inside the line, a parsed PORT/EPRT address
 * has a known family, a path never holds control bytes, no output exceeds
 * its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "reader.h"
#include "proto/ftp_parse.h"
#include "shell/vfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hp_rd r;
    struct hp_buf out;
    hp_rd_init(&r, data, size);
    hp_buf_init(&out, 8192);
    for (int i = 0; i < 256 && hp_rd_left(&r); i++) {
        const uint8_t *line;
        size_t len;
        if (!hp_rd_line(&r, FTP_LINE_MAX, &line, &len)) {
            len = hp_rd_left(&r) < FTP_LINE_MAX ? hp_rd_left(&r) : FTP_LINE_MAX;
            line = hp_rd_bytes(&r, len);
        }
        struct ftp_cmd c;
        ftp_cmd_split(line, len, &c);
        if (c.arg && (c.arg < line || c.arg + c.arglen > line + len))
            abort();
        if (strlen(c.verb) >= FTP_VERB_MAX)
            abort();
        if (c.verb_raw < line || c.verb_raw + c.verb_rawlen > line + len || c.verb_rawlen < strlen(c.verb) ||
            (c.arg && c.arg < c.verb_raw + c.verb_rawlen))
            abort();
        struct sockaddr_storage ss;
        if (ftp_parse_port(c.arg, c.arglen, &ss) == 0 && ss.ss_family != AF_INET)
            abort();
        if (ftp_parse_eprt(c.arg, c.arglen, &ss) == 0 && ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
            abort();
        char path[FTP_ARG_MAX + 1];
        if (ftp_arg_path(c.arg, c.arglen, path, sizeof(path))) {
            for (const char *p = path; *p; p++)
                if ((unsigned char)*p < 0x20)
                    abort();
            struct sh_stat st = { .type = (enum sh_ftype)(len % 7), .mode = (unsigned)len * 977u,
                                  .uid = (unsigned)len, .size = (uint64_t)len << 20,
                                  .mtime = (int64_t)(len * 2654435761u) - 1000000000 };
            hp_buf_reset(&out);
            ftp_list_line(&out, (enum ftp_list_style)(len % 3), path, &st, len & 1 ? path : NULL, NULL,
                          1764846000);
            ftp_mlsd_line(&out, path, &st);
        }
    }
    hp_buf_free(&out);
    return 0;
}
