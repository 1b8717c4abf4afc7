/*
 * cmd_fs.h - helpers shared by the file programs (cmd_fs.c, cmd_fs2.c);
 * internal to them.  Messages follow GNU coreutils or busybox depending
 * on the personality (fs_bb), so every program words errors the same way.
 */
#ifndef HP_CMD_FS_H
#define HP_CMD_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cmd.h"

struct hp_buf;
struct sys_getopt;

#define FS_OUT_MAX   (8u << 20)  /* one program's buffered output */
#define FS_PATH_MAX  4096
#define FS_DEPTH_MAX 32          /* recursion of -R, cp -r, rm -r, find, du */
#define FS_WALK_MAX  20000       /* entries visited by one command */
#define FS_DD_MAX    (8u << 20)  /* bytes one dd copies */
#define FS_UMASK     022         /* the shells' umask (new files 0644, dirs 0755) */

/* A list of names (directory entries, paths), malloc'd. */
struct fs_names {
    char **v;
    size_t n, cap;
};
/* sh_vfs_list callback appending name; stops at FS_WALK_MAX. */
int fs_names_fn(void *arg, const char *name, const struct sh_stat *st);
void fs_names_free(struct fs_names *l);

bool fs_bb(const struct sh_cmd *c);                     /* busybox-style messages */
const char *fs_prog(const struct sh_cmd *c);            /* the name the tool prints */
void fs_quote(struct hp_buf *b, const char *s);         /* GNU 'name' quoting */
/* "PROG: WHAT 'path': strerror" (GNU) / "PROG: BBWHAT 'path': ..." (busybox;
 * bbwhat NULL: "PROG: path: ...", "": "PROG: 'path': ..."); err 0: no strerror. */
void fs_perr(struct sh_cmd *c, const char *what, const char *bbwhat, const char *path, int err);
/* GNU "PROG: msg" + "Try 'PROG --help'..." / busybox usage; returns 1. */
int fs_usage(struct sh_cmd *c, const char *gnu_msg, const char *bb_usage);
int fs_badopt(struct sh_cmd *c, const struct sys_getopt *g, const char *bb_usage);
int fs_abs(struct sh_cmd *c, const char *arg, char *out);              /* out: FS_PATH_MAX */
int fs_slurp(struct sh_cmd *c, const char *arg, struct hp_buf *out);   /* "-"/NULL: stdin */
const char *fs_base(const char *p);
int fs_join(char *out, const char *dir, const char *name);            /* out: FS_PATH_MAX */
void fs_modestr(const struct sh_stat *st, char out[11]);
uint64_t fs_blocks_k(const struct sh_stat *st);
void fs_human(uint64_t v, char *out, size_t n);
void fs_owner(struct sh_cmd *c, unsigned uid, unsigned gid, bool numeric, char *u, char *g, size_t n);
/* The final destination of src for cp/mv/ln (inside dst when into). */
int fs_dest(const char *dst, const char *shown_dir, bool into, const char *src, char *out, char *shown);
/* chmod modes: octal or symbolic, applied to old. */
bool fs_mode_parse(const char *s, unsigned old, bool isdir, unsigned *out);

#endif
