/*
 * cmd_text.h - helpers shared by the text programs (cmd_text.c, cmd_sed.c,
 * cmd_awk.c, cmd_textutil.c, cmd_dump.c); internal to them.
 *
 * Every text program reads whole inputs (a file through the vfs, or the
 * command's stdin), walks them line by line and writes through a buffered
 * writer, so these three things live here once.  Regular expressions are
 * glibc's (what grep, sed and mawk use on Debian, near enough), behind a
 * guard: attacker patterns are bounded in size and repetition, and
 * matching stops once the command has spent its time budget, because
 * glibc's matcher is polynomial, and exponential with back-references.
 */
#ifndef HP_CMD_TEXT_H
#define HP_CMD_TEXT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cmd.h"
#include "buf.h"

/* ---- buffered output ----------------------------------------------------------- */

struct txt_out {
    struct sh_cmd *c;
    struct hp_buf b;
};

void txt_out_init(struct txt_out *o, struct sh_cmd *c);
void txt_put(struct txt_out *o, const void *p, size_t n);
void txt_putc(struct txt_out *o, char ch);
void txt_puts(struct txt_out *o, const char *s);
void txt_printf(struct txt_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Flush what is buffered (before writing to stderr, so the order holds). */
void txt_flush(struct txt_out *o);
void txt_out_done(struct txt_out *o);

/* ---- inputs ---------------------------------------------------------------------- */

/* The whole of operand name ("-" or NULL: stdin, consumed by the first
 * read) into data and len; the bytes stay valid until the next call with the
 * same hp_buf or its hp_buf_free.  0 or a negative errno (-EISDIR...). */
int txt_load(struct sh_cmd *c, const char *name, bool *stdin_used, struct hp_buf *b,
             const uint8_t **data, size_t *len);

/* The next line of [*pos, len): its start and length without the '\n';
 * false at the end.  *nl tells whether it had one. */
bool txt_line(const uint8_t *d, size_t len, size_t *pos, const uint8_t **line, size_t *n, bool *nl);

/* GNU's locale quotes around s (‘s’), as coreutils' quote() prints in a
 * UTF-8 locale. */
#define TXT_LQ "\xe2\x80\x98"
#define TXT_RQ "\xe2\x80\x99"

/* ---- guarded regular expressions ------------------------------------------------- */

#define TXT_RE_MAX 4096          /* bytes of one pattern */

struct txt_re {
    regex_t re;
    bool ok;
    unsigned backrefs;            /* \1..\9 in the pattern: matching is exponential */
};

/* Compile pat (len bytes, may hold NUL: refused) with cflags; 0 or a regcomp
 * error code, with the message in err (regerror's, or "Regular expression
 * too big" / "Invalid back reference" for what the guard refuses). */
int txt_re_comp(struct txt_re *r, const char *pat, size_t len, int cflags, char *err, size_t errlen);
/* Match within [s+from, s+len) with REG_STARTEND; the offsets in m are from s.
 * Returns 0 on a match, REG_NOMATCH otherwise (also once out of time). */
int txt_re_exec(struct txt_re *r, const uint8_t *s, size_t len, size_t from, size_t nm,
                regmatch_t *m, int eflags);
void txt_re_free(struct txt_re *r);
/* Start the time budget of one command's matching (at most what is left of its line's). */
void txt_re_budget(const struct sh_cmd *c);
/* What is left of it (ns; -1: none running), and the same restored after a
 * pause of the line, during which other sessions' commands set their own. */
int64_t txt_re_left(void);
void txt_re_set_left(int64_t left_ns);

/* ---- small tools (cmd_textutil.c; shared with cmd_dump.c) ------------------------ */

bool tu_bb(const struct sh_cmd *c);                     /* busybox-style messages */
/* "PROG: NAME: error" (GNU quotef, busybox fopen_or_warn) or, bb_xfopen on
 * busybox, "PROG: can't open 'NAME': error". */
void tu_ferr(struct sh_cmd *c, const char *prog, const char *name, int err, bool bb_xfopen);
/* A count or offset as GNU tools take them (0x.., suffixes b k m g). */
bool tu_size(const char *s, uint64_t *out);
/* Every operand (or stdin) appended to all, a newline added to unterminated
 * ones when addnl; failures reported with tu_ferr when quote, else as
 * "PROG: NAME: error" with NAME as given.  0 or 1. */
int tu_cat(struct sh_cmd *c, const char *prog, char **ops, int nops, struct hp_buf *all, bool addnl, bool quote);

/* The lines of a loaded text, without their '\n'. */
struct tu_lines {
    const uint8_t **p;
    size_t *n;
    size_t count;
    bool last_nl;                 /* the text ended with a newline (or was empty) */
};
/* false when there are more than max lines (or no memory). */
bool tu_split(const uint8_t *d, size_t len, size_t max, struct tu_lines *l);
void tu_lines_free(struct tu_lines *l);

#endif
