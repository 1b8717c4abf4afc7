/*
 * sshflood.c - SSH load client for bench/ssh.sh (libssh, blocking, forked workers).
 *
 *   sshflood -p PORT -m cycle -w WORKERS -d SECONDS [-u USER] [-P PASS] [-c CMD]
 *       full cycles: connect, key exchange, password login, exec CMD, read to EOF, disconnect
 *   sshflood -p PORT -m fail  -w WORKERS -d SECONDS
 *       failed logins: connect, then wrong passwords until the server disconnects
 *   sshflood -p PORT -m idle  -n SESSIONS [-P PASS] -d SECONDS
 *       open SESSIONS logged-in sessions with a pty shell, hold them SECONDS, close
 *
 * Prints one key=value line: mode, ok (cycles / attempts / sessions), errors, seconds, rate.
 * Only talks to 127.0.0.1.
 */
#include <libssh/libssh.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int port = 2222;
static const char *user = "root", *pass = "bench", *cmd = "uname -a";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static ssh_session open_session(void)
{
    ssh_session s = ssh_new();
    int verbosity = SSH_LOG_NOLOG;
    long timeout = 10;
    ssh_options_set(s, SSH_OPTIONS_HOST, "127.0.0.1");
    ssh_options_set(s, SSH_OPTIONS_PORT, &port);
    ssh_options_set(s, SSH_OPTIONS_USER, user);
    ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &(int){ 0 });
    ssh_options_set(s, SSH_OPTIONS_NODELAY, &(int){ 1 });     /* as OpenSSH's client does */
    if (ssh_connect(s) != SSH_OK) {
        ssh_free(s);
        return NULL;
    }
    return s;
}

static int one_cycle(void)
{
    ssh_session s = open_session();
    if (!s)
        return -1;
    int ok = -1;
    if (ssh_userauth_password(s, NULL, pass) == SSH_AUTH_SUCCESS) {
        ssh_channel ch = ssh_channel_new(s);
        if (ch && ssh_channel_open_session(ch) == SSH_OK && ssh_channel_request_exec(ch, cmd) == SSH_OK) {
            char buf[4096];
            int n, total = 0;
            while ((n = ssh_channel_read(ch, buf, sizeof(buf), 0)) > 0)
                total += n;
            ok = total > 0 ? 0 : -1;
            ssh_channel_close(ch);
        }
        if (ch)
            ssh_channel_free(ch);
    }
    ssh_disconnect(s);
    ssh_free(s);
    return ok;
}

/* Wrong passwords until the server gives up on us; returns attempts made. */
static int fail_cycle(void)
{
    ssh_session s = open_session();
    if (!s)
        return -1;
    int n = 0;
    for (int i = 0; i < 100; i++) {
        int rc = ssh_userauth_password(s, NULL, "wrong-password");
        if (rc == SSH_AUTH_SUCCESS || rc == SSH_AUTH_ERROR)
            break;
        n++;
    }
    ssh_disconnect(s);
    ssh_free(s);
    return n;
}

static void run_workers(const char *mode, int workers, double secs)
{
    long *shared = mmap(NULL, 2 * sizeof(long) * (size_t)workers, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    double t0 = now();
    for (int w = 0; w < workers; w++) {
        if (fork() == 0) {
            long ok = 0, err = 0;
            while (now() - t0 < secs) {
                int r = strcmp(mode, "fail") == 0 ? fail_cycle() : one_cycle();
                if (r < 0)
                    err++;
                else
                    ok += strcmp(mode, "fail") == 0 ? r : 1;
            }
            shared[2 * w] = ok;
            shared[2 * w + 1] = err;
            _exit(0);
        }
    }
    while (wait(NULL) > 0)
        ;
    double el = now() - t0;
    long ok = 0, err = 0;
    for (int w = 0; w < workers; w++) {
        ok += shared[2 * w];
        err += shared[2 * w + 1];
    }
    printf("mode=%s ok=%ld errors=%ld seconds=%.3f rate=%.1f\n", mode, ok, err, el, ok / el);
}

/* Hold n logged-in pty sessions open (in one process, sequentially opened). */
static void run_idle(int n, double secs)
{
    ssh_session *ss = calloc((size_t)n, sizeof(*ss));
    ssh_channel *cs = calloc((size_t)n, sizeof(*cs));
    int ok = 0, err = 0;
    for (int i = 0; i < n; i++) {
        ss[i] = open_session();
        if (!ss[i] || ssh_userauth_password(ss[i], NULL, pass) != SSH_AUTH_SUCCESS) {
            err++;
            continue;
        }
        cs[i] = ssh_channel_new(ss[i]);
        if (ssh_channel_open_session(cs[i]) != SSH_OK || ssh_channel_request_pty(cs[i]) != SSH_OK ||
            ssh_channel_request_shell(cs[i]) != SSH_OK) {
            err++;
            continue;
        }
        ok++;
    }
    printf("mode=idle ok=%d errors=%d ready=1\n", ok, err);
    fflush(stdout);
    sleep((unsigned)secs);
    for (int i = 0; i < n; i++) {
        if (ss[i]) {
            ssh_disconnect(ss[i]);
            ssh_free(ss[i]);
        }
    }
}

int main(int argc, char **argv)
{
    const char *mode = "cycle";
    int workers = 8, n = 1000, opt;
    double secs = 5;
    while ((opt = getopt(argc, argv, "p:m:w:d:n:u:P:c:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'm': mode = optarg; break;
        case 'w': workers = atoi(optarg); break;
        case 'd': secs = atof(optarg); break;
        case 'n': n = atoi(optarg); break;
        case 'u': user = optarg; break;
        case 'P': pass = optarg; break;
        case 'c': cmd = optarg; break;
        default:
            fprintf(stderr, "usage: sshflood -p PORT -m cycle|fail|idle [-w WORKERS] [-d SECONDS] [-n SESSIONS]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    ssh_init();
    if (strcmp(mode, "idle") == 0)
        run_idle(n, secs);
    else
        run_workers(mode, workers, secs);
    ssh_finalize();
    return 0;
}
