/*
 * redir.c - redirections for the interpreter (interp.c).
 *
 * Redirections read and write the session's fake file system of vfs.h,
 * never a real file.  A command's redirections are applied in order on top
 * of the streams it inherits (struct iox): an output redirection makes the
 * descriptor a sink naming a vfs path (created or truncated when opened,
 * then appended to by each write), /dev/null discards, /dev/stdout and
 * /dev/stderr alias the current streams; an input redirection, a
 * here-document or a here-string becomes an in-memory stdin (struct input).
 * Only descriptors 0-2 are tracked: "2>&3" is accepted and discards.
 *
 * Everything the redirections hold (buffers, paths) lives in the caller's
 * struct held until the command is done (rd_held_free).  Messages are the
 * shell's own ("-bash: x: No such file or directory").
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interp_int.h"
#include "util.h"

/* ---- redirections -------------------------------------------------------------------------- */

void rd_held_free(struct held *h)
{
    for (unsigned i = 0; i < h->nb; i++)
        hp_buf_free(&h->bufs[i]);
    for (unsigned i = 0; i < h->np; i++)
        free(h->paths[i]);
}

static struct input *held_input(struct held *h, struct hp_buf **buf)
{
    if (h->nb >= 4)
        return NULL;
    *buf = &h->bufs[h->nb];
    hp_buf_init(*buf, SH_PARSE_HEREDOC + IT_VAL_MAX);
    struct input *in = &h->ins[h->nb++];
    memset(in, 0, sizeof(*in));
    return in;
}

static const char *held_path(struct held *h, const char *p)
{
    if (h->np >= 8)
        return NULL;
    return h->paths[h->np++] = hp_xstrdup(p);
}

/* bash: "WORD: strerror"; busybox ash: "can't open WORD: no such file" or
 * "can't create WORD: nonexistent directory" (its own words for ENOENT and
 * ENOTDIR, strerror for the rest, as ash.c's errmsg() does); dash, its
 * ancestor: "cannot open WORD: No such file", "... Directory nonexistent". */
static void redir_error(struct hp_interp *it, struct iox *io, const char *word, int err, bool creating)
{
    if (err < 0)
        err = -err;
    if (it_is_bashlike(it)) {
        it_shell_err(it, io, "%s: %s", word, sh_strerror(err));
        return;
    }
    bool dash = it->style == ST_DASH;     /* Debian's sh: "cannot open X: No such file" */
    const char *why = err == ENOENT || err == ENOTDIR
                          ? (creating ? (dash ? "Directory nonexistent" : "nonexistent directory")
                                      : (dash ? "No such file" : "no such file"))
                          : sh_strerror(err);
    it_shell_err(it, io, "%s %s %s: %s", dash ? "cannot" : "can't", creating ? "create" : "open", word, why);
}

/* Open a file for output: 0 or -errno. */
static int open_out(struct hp_interp *it, const char *abs, bool append)
{
    struct sh_stat st;
    if (sh_vfs_stat(it->fs, abs, true, &st) == 0 && st.type == SH_FT_DIR)
        return -EISDIR;
    long r = sh_vfs_write(it->fs, abs, "", 0, SH_O_CREAT | (append ? SH_O_APPEND : SH_O_TRUNC),
                          0666 & ~it->umask);
    return r < 0 ? (int)r : 0;
}

/* Apply redirections on top of base into io; false (message printed) on error. */
bool rd_apply(struct hp_interp *it, const struct sh_redir *r, struct iox *io, struct held *h)
{
    for (; r; r = r->next) {
        if (!it_step(it, 1))
            return false;
        int fd = r->fd;
        if (r->kind == SH_R_HEREDOC || r->kind == SH_R_HERESTR) {
            struct hp_buf *buf;
            struct input *in = held_input(h, &buf);
            if (!in)
                continue;
            if (r->kind == SH_R_HEREDOC) {
                ex_heredoc(it, io, r, buf);
            } else {
                size_t l;
                char *s = ex_string(it, io, r->word->text, r->word->len, false, &l, NULL);
                if (s)
                    hp_buf_put(buf, s, l);
                hp_buf_putc(buf, '\n');
                free(s);
            }
            in->data = buf->data;
            in->len = buf->len;
            if (fd == 0)
                io->in = in;
            continue;
        }
        size_t wl;
        bool err = false;
        char *word = ex_string(it, io, r->word->text, r->word->len, false, &wl, &err);
        if (!word || err) {
            free(word);
            return false;
        }
        if (r->kind == SH_R_DUPOUT || r->kind == SH_R_DUPIN) {
            if ((wl == 1 && (word[0] >= '0' && word[0] <= '2')) || (wl == 1 && word[0] == '-')) {
                if (fd >= 1 && fd <= 2)
                    io->fd[fd] = word[0] == '-' ? (struct sink){ .kind = K_NULL } : word[0] == '0'
                                 ? (struct sink){ .kind = K_NULL } : io->fd[word[0] - '0'];
                free(word);
                continue;
            }
            if (wl > 0 && word[0] >= '0' && word[0] <= '9' && strspn(word, "0123456789") == wl) {
                if (fd >= 1 && fd <= 2)
                    io->fd[fd].kind = K_NULL;
                free(word);
                continue;                   /* 2>&3: a descriptor we do not track */
            }
            if (r->kind == SH_R_DUPIN) {
                it_shell_err(it, io, "%s: ambiguous redirect", word);
                free(word);
                return false;
            }
        }
        if (wl == 0) {
            it_shell_err(it, io, ": No such file or directory");
            free(word);
            return false;
        }
        char abs[IT_PATH_MAX];
        if (sh_vfs_abspath(it->cwd, word, abs, sizeof(abs)) != 0) {
            redir_error(it, io, word, ENAMETOOLONG, r->kind != SH_R_IN);
            free(word);
            return false;
        }
        bool out = r->kind != SH_R_IN;
        if (r->kind == SH_R_IN || r->kind == SH_R_RDWR) {
            struct hp_buf *buf;
            struct input *in = held_input(h, &buf);
            long rr = -ENOENT;
            if (r->kind == SH_R_RDWR)
                open_out(it, abs, true);
            if (in) {
                rr = sh_vfs_read(it->fs, abs, 0, IT_PIPE_MAX, buf);
                in->data = buf->data;
                in->len = buf->len;
            }
            if (rr < 0) {
                redir_error(it, io, word, (int)-rr, false);
                free(word);
                return false;
            }
            if (fd == 0)
                io->in = in;
            out = false;
        }
        if (out) {
            struct sink s = { .kind = K_FILE };
            if (strcmp(abs, "/dev/null") == 0) {
                s.kind = K_NULL;
            } else if (strcmp(abs, "/dev/stdout") == 0 || strcmp(abs, "/dev/stderr") == 0) {
                s = io->fd[abs[5 + 4] == 'o' ? 1 : 2];
            } else {
                bool append = r->kind == SH_R_APPEND || r->kind == SH_R_ALLAPP;
                int e = open_out(it, abs, append);
                if (e < 0) {
                    redir_error(it, io, word, e, true);
                    free(word);
                    return false;
                }
                s.path = held_path(h, abs);
                if (!s.path)
                    s.kind = K_NULL;
            }
            if (r->kind == SH_R_ALL || r->kind == SH_R_ALLAPP || (r->kind == SH_R_DUPOUT && fd == 1)) {
                io->fd[1] = io->fd[2] = s;
            } else if (fd >= 1 && fd <= 2) {
                io->fd[fd] = s;
            }
        }
        free(word);
    }
    return true;
}
