/*
 * oneshot.c - a command text through the emulated shell, for its output
 * alone.  See shell.h (hp_shell_oneshot).
 *
 * Some services show what an injected command printed in their answer: a
 * kubelet's /run, a router's command.php, ThinkPHP handing a query to PHP's
 * system function.  Scanners that check an exploit before they use it look
 * for that output (uid=, a marker they echoed, the sum of an expr), so an
 * answer that carries it makes them go on to their next step.
 *
 * Nothing is executed: the text goes through the SSH shell's interpreter
 * (interp.h) over a private overlay of the personality's file system,
 * thrown away afterwards, so one request cannot leave files for the next or
 * for the source's SSH sessions.  No program fetches anything (wget and
 * curl fail to connect): the web engine already hands every URL it finds to
 * the capture pipeline.  Standard error is dropped, as a web server sends it
 * to its error log.  Each line has a small interpreting budget, the whole
 * text two of them and 32 lines, the output a cap, and all callers
 * together a rate (hp_shell_oneshot_allowed).
 */
#include <stdio.h>
#include <string.h>
#include "buf.h"
#include "log.h"
#include "sensor.h"
#include "util.h"
#include "interp.h"
#include "persona.h"
#include "shell.h"

/* Runs per second over every source and service, and in a burst: each may
 * interpret for line_ms per line, so an attacker repeating an injection
 * cannot make the network thread interpret for more than a small share of
 * its time.  Past it the caller answers as if the command printed nothing,
 * counted in sensor.stats (shell_oneshot_shed) with a log line a minute. */
#define ONESHOT_RATE  5
#define ONESHOT_BURST 10
/* Lines of one text that run, and its whole time in lines' budgets: a
 * text of many lines does not multiply the budget. */
#define ONESHOT_LINES      32
#define ONESHOT_LINES_TIME 2

bool hp_shell_oneshot_allowed(void)
{
    static int64_t last_ms;
    static double tokens = ONESHOT_BURST;
    int64_t now = hp_mono_ms();
    if (last_ms)
        tokens += (double)(now - last_ms) * ONESHOT_RATE / 1000.0;
    last_ms = now;
    if (tokens > ONESHOT_BURST)
        tokens = ONESHOT_BURST;
    if (tokens >= 1.0) {
        tokens -= 1.0;
        return true;
    }
    static struct hp_ratelimit rl;
    uint64_t k;
    hp_sensor.n.oneshot_shed++;
    if ((k = hp_ratelimit_ok(&rl, 60000)))
        hp_warn("shell: one-shot commands over %d per second: %llu answer(s) left without their output",
                ONESHOT_RATE, (unsigned long long)k);
    return false;
}

struct oneshot {
    struct hp_buf *out;
    size_t cap;
};

static void os_write(void *arg, const void *data, size_t len)
{
    struct oneshot *o = arg;
    size_t room = o->cap > o->out->len ? o->cap - o->out->len : 0;
    hp_buf_put(o->out, data, len < room ? len : room);
}

static void os_discard(void *arg, const void *data, size_t len)
{
    (void)arg, (void)data, (void)len;
}

int hp_shell_oneshot(const struct hp_shell_oneshot *p, const char *text, size_t len, struct hp_buf *out)
{
    const struct hp_persona *persona = hp_persona_get(p->personality ? p->personality : "debian");
    struct oneshot o = { .out = out, .cap = out->len + (p->out_max ? p->out_max : HP_SHELL_ONESHOT_OUT) };
    char shcmd[256];                      /* ps shows the shell as a popen call starts it */
    snprintf(shcmd, sizeof(shcmd), "sh -c %.*s", (int)(len < 200 ? len : 200), text);
    for (char *q = shcmd; *q; q++)
        if (*q == '\n' || (unsigned char)*q < 0x20)
            *q = ' ';
    struct hp_interp_sys sys = {
        .user = p->user,
        .persona = persona,
        .protocol = "http",
        .daemon = p->daemon ? p->daemon : "",
        .shell_cmd = shcmd,
        .line_ms = p->line_ms ? p->line_ms : HP_SHELL_ONESHOT_MS,
    };
    struct hp_interp_io io = { .write = os_write, .write_err = os_discard, .arg = &o };
    struct hp_interp *it = hp_interp_new(&sys, &io);
    char cd[300];
    int cn = p->cwd ? snprintf(cd, sizeof(cd), "cd '%s'", p->cwd) : -1;
    if (cn > 0 && (size_t)cn < sizeof(cd) && !strchr(p->cwd, '\'')) {
        size_t cap = o.cap;               /* where the service runs, quietly: no room for output */
        o.cap = out->len;
        hp_interp_line(it, HP_INTERP_EXEC, 1, (const uint8_t *)cd, (size_t)cn);
        o.cap = cap;
    }
    bool go_on = true;
    unsigned lineno = 0;
    int64_t until = hp_mono_ms() + (int64_t)sys.line_ms * ONESHOT_LINES_TIME;
    while (go_on && len && lineno < ONESHOT_LINES && hp_mono_ms() < until) {   /* as bash -c reads its string */
        const char *nl = memchr(text, '\n', len);
        size_t n = nl ? (size_t)(nl - text) : len;
        go_on = hp_interp_line(it, HP_INTERP_EXEC, ++lineno, (const uint8_t *)text, n);
        text += nl ? n + 1 : n;
        len -= nl ? n + 1 : n;
    }
    if (go_on)
        hp_interp_eof(it, HP_INTERP_EXEC);
    int status = hp_interp_status(it);
    hp_interp_free(it);
    return status;
}
