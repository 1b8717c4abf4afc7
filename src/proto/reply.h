/*
 * reply.h - reply lines of the text protocols (FTP, SMTP) from templates.
 *
 * A template is our own text in which "{0}", "{1}" and "{2}" stand for up
 * to three arguments.  Arguments are peer text at times (a user name, a
 * HELO host): their control bytes and DEL are written as '?', so that no
 * argument can end the line or smuggle in a reply line of its own.  The
 * line is cut to fit the buffer and always ends in CRLF.
 */
#ifndef HP_REPLY_H
#define HP_REPLY_H

#include <stddef.h>

#define HP_REPLY_MAX 4096             /* a reply line, CRLF included */

/* Fill out (any size) from tmpl with the arguments a0..a2 (NULL:
 * empty).  Returns the length written, CRLF included (not NUL-terminated);
 * 0 if outlen < 2. */
size_t hp_reply_line(char *out, size_t outlen, const char *tmpl, const char *a0, const char *a1, const char *a2);

#endif
