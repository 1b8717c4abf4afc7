/*
 * fuzz_cmd_text.c - libFuzzer harness for the text programs' mini-languages
 * (src/shell/cmd_text.c sed, tr, grep, cut, sort; src/shell/cmd_awk.c awk)
 * and the guarded regular expressions they share.
 *
 * Input: byte 0 picks the program and its options; the bytes up to the
 * first NUL are the script / pattern / set (argv[1..]), the rest is stdin.
 * The programs run with a fake interpreter (output counted, never kept)
 * over a private session file system, so sed w, awk print > and sed -i hit
 * the vfs.  They must not crash, leak or hang: sed and awk bound their own
 * steps, regex matching has a time budget (libFuzzer's -timeout watches).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "shell/cmd.h"
#include "shell/persona.h"
#include "shell/vfs.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static size_t out_bytes;

static void f_write(struct sh_cmd *c, int fd, const void *d, size_t n)
{
    (void)c;
    CHECK(fd == 1 || fd == 2);
    CHECK(d != NULL || n == 0);
    out_bytes += n;
}

static int f_run_script(struct sh_cmd *c, const uint8_t *t, size_t n, const char *name, int argc, char **argv)
{
    (void)c, (void)t, (void)n, (void)name, (void)argc, (void)argv;
    return 0;
}

static const struct sh_cmd_ops f_ops = { .write = f_write, .run_script = f_run_script };

static const char *const progs[][3] = {
    { "sed", NULL, NULL }, { "sed", "-n", NULL }, { "sed", "-E", NULL }, { "awk", NULL, NULL },
    { "awk", "-F:", NULL }, { "tr", NULL, NULL }, { "tr", "-d", NULL }, { "grep", NULL, NULL },
    { "grep", "-E", NULL }, { "grep", "-o", NULL }, { "cut", "-f", NULL }, { "sort", "-k", NULL },
    { "tr", "-s", NULL }, { "grep", "-wF", NULL }, { "base64", "-d", NULL }, { "uniq", "-c", NULL },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sh_vfs *fs[2];
    if (size < 1)
        return 0;
    int bb = data[0] >> 7 & 1;
    if (!fs[bb]) {
        struct sh_vfs_params p = { .persona = hp_persona_get(bb ? "busybox" : "debian"), .uid = 0,
                                   .user = "root", .home = "/root", .shell_pid = 100 };
        fs[bb] = sh_vfs_open(&p);
        CHECK(fs[bb]);
    }
    const char *const *pg = progs[data[0] % (sizeof(progs) / sizeof(progs[0]))];
    const uint8_t *nul = memchr(data + 1, '\0', size - 1);
    size_t slen = nul ? (size_t)(nul - (data + 1)) : size - 1;
    char *script = malloc(slen + 1);
    CHECK(script);
    memcpy(script, data + 1, slen);
    script[slen] = '\0';
    /* tr takes two sets: split the script at its first newline */
    char *second = NULL;
    if (strcmp(pg[0], "tr") == 0 && (second = strchr(script, '\n')) != NULL)
        *second++ = '\0';
    char *argv[6];
    int argc = 0;
    for (int k = 0; k < 3 && pg[k]; k++)
        argv[argc++] = (char *)pg[k];
    argv[argc++] = script;
    if (second)
        argv[argc++] = second;
    argv[argc] = NULL;
    const struct sh_cmd_def *d = sh_cmd_find(pg[0]);
    CHECK(d);
    const uint8_t *in = nul ? nul + 1 : NULL;
    size_t in_len = nul ? size - (size_t)(nul + 1 - data) : 0;
    struct sh_cmd c = { .ops = &f_ops, .argc = argc, .argv = argv, .applet = d->name, .in = in,
                        .in_len = in_len, .width = 80, .persona = hp_persona_get(bb ? "busybox" : "debian"),
                        .fs = fs[bb], .cwd = "/root", .user = "root", .home = "/root", .now_s = 1700000000 };
    int rc = d->fn(&c);
    CHECK(rc >= 0 && rc <= 255);
    free(script);
    return 0;
}
