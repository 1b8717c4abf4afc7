/*
 * reply.c - reply lines from templates, for FTP and SMTP (see reply.h).
 */
#include "reply.h"

size_t hp_reply_line(char *out, size_t outlen, const char *tmpl, const char *a0, const char *a1, const char *a2)
{
    const char *args[3] = { a0, a1, a2 };
    size_t n = 0;
    if (outlen < 2)
        return 0;                       /* no room even for CRLF */
    for (const char *p = tmpl; *p && n + 3 < outlen; p++) {
        if (p[0] == '{' && p[1] >= '0' && p[1] <= '2' && p[2] == '}') {
            const char *a = args[p[1] - '0'];
            for (; a && *a && n + 3 < outlen; a++)
                out[n++] = (unsigned char)*a < 0x20 || *a == 0x7f ? '?' : *a;
            p += 2;
            continue;
        }
        out[n++] = *p;
    }
    out[n++] = '\r';
    out[n++] = '\n';
    return n;
}
