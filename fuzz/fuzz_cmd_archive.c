/*
 * fuzz_cmd_archive.c - libFuzzer harness for the archive readers
 * (src/shell/cmd_archive.c) and expr (src/shell/cmd_misc.c).
 *
 * Input: byte 0 picks the program and personality; the rest is the
 * program's stdin (tar -t/-x, gunzip -c, xz -dc, bzip2 -dc) or, for expr,
 * NUL-separated arguments.  The vfs is a private overlay on the real base
 * image, so extraction writes somewhere real; output goes nowhere.  What
 * is checked: no crash, no sanitizer report, bounded memory (the programs'
 * own caps: libFuzzer's -rss_limit_mb watches).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "shell/cmd.h"
#include "shell/persona.h"
#include "shell/vfs.h"

static void fz_write(struct sh_cmd *c, int fd, const void *d, size_t n) { (void)c, (void)fd, (void)d, (void)n; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const progs[][6] = {
        { "tar", "tvf", "-", NULL }, { "tar", "xvf", "-", "-C", "/tmp", NULL }, { "gunzip", "-c", NULL },
        { "xz", "-dc", NULL }, { "bzip2", "-dc", NULL }, { "tar", "xzf", "-", NULL }, { "expr", NULL },
    };
    unsigned k = data[0] % 7;
    const struct hp_persona *p = hp_persona_get(data[0] & 0x80 ? "busybox" : "debian");
    struct sh_vfs_params vp = { .persona = p, .user = "root", .home = "/root" };
    struct sh_cmd_ops ops = { .write = fz_write };
    struct sh_cmd c = { .ops = &ops, .persona = p, .fs = sh_vfs_open(&vp), .cwd = "/root", .user = "root",
                        .home = "/root", .now_s = 1700000000, .width = 80 };
    char *argv[72];
    int argc = 0;
    for (; progs[k][argc]; argc++)
        argv[argc] = (char *)progs[k][argc];
    char *copy = NULL;
    if (k == 6) {
        copy = malloc(size);
        memcpy(copy, data + 1, size - 1);
        copy[size - 1] = '\0';
        for (size_t i = 0; i < size - 1 && argc < 70;) {
            argv[argc++] = copy + i;
            i += strlen(copy + i) + 1;
        }
    } else {
        c.in = data + 1;
        c.in_len = size - 1;
    }
    argv[argc] = NULL;
    const struct sh_cmd_def *d = sh_cmd_find(argv[0]);
    c.argc = argc;
    c.argv = argv;
    c.applet = d->name;
    d->fn(&c);
    sh_vfs_close(c.fs);
    free(copy);
    return 0;
}
