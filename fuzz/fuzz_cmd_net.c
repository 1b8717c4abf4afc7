/*
 * fuzz_cmd_net.c - libFuzzer harness for the URL and host:port parsing of
 * the download programs (src/shell/cmd_net.c) and for the programs
 * themselves.
 *
 * Byte 0 picks the target:
 *   0  sys_url_parse on the rest: a parsed URL must format and parse back to
 *      the same fields (what sh_fetch logs is what the tool would fetch);
 *   1  sys_hostport_parse and sys_host_is_ip: results stay inside their
 *      buffers and a parsed port is 1-65535;
 *   2+ a download program (wget, curl, tftp, ftpget, nc, ping, ssh) on the
 *      Debian or busybox personality (bit 3) with the rest split on
 *      newlines into argv (at most 16 words); byte 0 bits 4-6 pick the
 *      fetch result, and an OK fetch returns a body of the input's length.
 *      Every URL handed to sh_fetch must parse, and every program returns a
 *      status in 0-255.
 * Memory is bounded by the programs' own caps; LeakSanitizer checks that
 * every buffer is released.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "shell/cmd.h"
#include "shell/cmd_sys.h"
#include "shell/persona.h"
#include "shell/vfs.h"
#include "buf.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_url(const char *s)
{
    struct sys_url u, v;
    char out[4096];
    if (sys_url_parse(s, "http", &u) != SYS_URL_OK)
        return;
    CHECK(u.host[0] && u.path[0] == '/');
    sys_url_format(&u, out, sizeof(out));
    CHECK(sys_url_parse(out, "ftp", &v) == SYS_URL_OK);
    CHECK(!strcmp(u.scheme, v.scheme) && !strcmp(u.host, v.host) && u.port == v.port && !strcmp(u.path, v.path));
    CHECK(!strcmp(u.user, v.user) && !strcmp(u.pass, v.pass) && u.ipv6 == v.ipv6);
}

struct fz {
    struct sh_cmd_ops ops;
    enum sh_fetch_result result;
    size_t body_len;
};

static struct fz fz;

static void fz_write(struct sh_cmd *c, int fd, const void *d, size_t n) { (void)c; (void)fd; (void)d; (void)n; }

static enum sh_fetch_result fz_fetch(struct sh_cmd *c, const char *tool, const char *url, const char *dest,
                                     struct hp_buf *body)
{
    struct sys_url u;
    (void)c; (void)tool; (void)dest;
    /* tcp:// of nc carries host:port only; all others are full URLs */
    CHECK(sys_url_parse(url, "http", &u) == SYS_URL_OK);
    if (fz.result == SH_FETCH_OK)
        for (size_t i = 0; i < fz.body_len; i++)
            hp_buf_putc(body, (uint8_t)i);
    return fz.result;
}

static void run_program(const uint8_t *data, size_t size)
{
    static const char *const progs[] = { "wget", "curl", "tftp", "ftpget", "nc", "ping", "ssh", "ftpput" };
    const struct hp_persona *p = hp_persona_get(data[0] & 8 ? "busybox" : "debian");
    CHECK(p);
    char *text = malloc(size + 1);
    CHECK(text);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    char *argv[18];
    int argc = 0;
    argv[argc++] = (char *)progs[(data[0] >> 1 & 3) | (data[0] & 0x80 ? 4 : 0)];
    for (char *save = NULL, *t = strtok_r(text, "\n", &save); t && argc < 17; t = strtok_r(NULL, "\n", &save))
        argv[argc++] = t;
    argv[argc] = NULL;
    fz.ops = (struct sh_cmd_ops){ .write = fz_write, .fetch = fz_fetch };
    fz.result = (enum sh_fetch_result)((data[0] >> 4) & 7) % 5;
    fz.body_len = size;
    struct sh_session sess = { .client_ip = "198.51.100.9", .local_ip = "10.1.0.7", .tty = "pts/0",
                               .login_s = 1700000000, .shell_pid = 4000, .protocol = "ssh" };
    struct sh_vfs_params vp = { .persona = p, .uid = 0, .gid = 0, .user = "root", .home = "/root" };
    struct sh_cmd c = { .ops = &fz.ops, .argc = argc, .argv = argv, .applet = argv[0], .persona = p,
                        .fs = sh_vfs_open(&vp), .sess = &sess, .cwd = "/tmp", .uid = 0, .gid = 0, .user = "root",
                        .home = "/root", .now_s = 1700000100, .in_tty = true, .out_tty = (data[0] & 1) != 0,
                        .width = 80 };
    const struct sh_cmd_def *d = sh_cmd_find(argv[0]);
    CHECK(d);
    int st = d->fn(&c);
    CHECK(st >= 0 && st <= 255);
    if (c.fs)
        sh_vfs_close(c.fs);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    if (data[0] < 2) {
        char *s = malloc(size);
        CHECK(s);
        memcpy(s, data + 1, size - 1);
        s[size - 1] = '\0';
        if (data[0] == 0) {
            check_url(s);
        } else {
            char host[64];
            unsigned port = 0;
            if (sys_hostport_parse(s, host, sizeof(host), &port))
                CHECK(port >= 1 && port <= 65535 && strlen(host) < sizeof(host));
            (void)sys_host_is_ip(s, false);
            (void)sys_host_is_ip(s, true);
        }
        free(s);
        return 0;
    }
    run_program(data, size);
    return 0;
}
