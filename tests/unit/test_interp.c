/*
 * test_interp.c - unit tests for the shell language (src/shell/parse.c,
 * interp.c, cmd_shell.c): an input line (or lines, fed one by one as the
 * shell does) -> exact output and exit status, on the Debian (bash) and
 * busybox (ash) personalities, over the session's fake file system.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "buf.h"
#include "shell/cmd.h"
#include "shell/interp.h"
#include "shell/parse.h"
#include "shell/persona.h"
#include "shell/vfs.h"
#include "util.h"

struct cap {
    char out[65536];
    size_t len;
    int failed;
    int downloads;
    int pauses;
    int64_t first_pause_ms;        /* how long the first pause lasts (time given to others) */
};

static void w(void *arg, const void *d, size_t n)
{
    struct cap *c = arg;
    if (c->len + n < sizeof(c->out)) {
        memcpy(c->out + c->len, d, n);
        c->len += n;
        c->out[c->len] = '\0';
    }
}

static void failed(void *arg, const void *cmd, size_t n)
{
    (void)cmd, (void)n;
    ((struct cap *)arg)->failed++;
}

static int download(void *arg, const char *tool, const char *url, const char *dest, struct hp_buf *body)
{
    (void)tool, (void)url, (void)dest, (void)body;
    ((struct cap *)arg)->downloads++;
    return SH_FETCH_UNREACHABLE;
}

/* The shell's pause (interp.h): count it, and let the first one last a while. */
static int64_t pause_cb(void *arg)
{
    struct cap *c = arg;
    int64_t ms = c->pauses++ == 0 ? c->first_pause_ms : 0;
    if (ms)
        nanosleep(&(struct timespec){ ms / 1000, (ms % 1000) * 1000000 }, NULL);
    return ms;
}

static struct hp_interp *mk(struct cap *c, const char *persona)
{
    memset(c, 0, sizeof(*c));
    struct hp_interp_sys sys = { .user = "root", .host = "box", .kernel_release = "x", .kernel_version = "y",
                                 .machine = "x86_64", .persona = hp_persona_get(persona) };
    struct hp_interp_io io = { .write = w, .failed = failed, .fetch = download, .arg = c };
    return hp_interp_new(&sys, &io);
}

/* Run the lines (separated by '\n', fed one at a time) and compare. */
static void check(const char *persona, enum hp_interp_mode mode, const char *text, const char *want, int status)
{
    struct cap c;
    struct hp_interp *it = mk(&c, persona);
    const char *p = text;
    unsigned line = 1;
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (!hp_interp_line(it, mode, line++, (const uint8_t *)p, n) || !nl)
            break;
        p = nl + 1;
    }
    if (strcmp(c.out, want) != 0)
        fprintf(stderr, "input: %s\noutput: [%s]\nwanted: [%s]\n", text, c.out, want);
    assert_string_equal(c.out, want);
    assert_int_equal(hp_interp_status(it), status);
    hp_interp_free(it);
}

#define BASH(t, o, s) check("debian", HP_INTERP_INTERACTIVE, t, o, s)
#define ASH(t, o, s) check("busybox", HP_INTERP_INTERACTIVE, t, o, s)
#define EXEC(t, o, s) check("debian", HP_INTERP_EXEC, t, o, s)

static void test_basics(void **state)
{
    (void)state;
    BASH("echo a b  c", "a b c\n", 0);
    BASH("false; echo $?", "1\n", 0);
    BASH("true && echo y || echo n; false && echo y || echo n", "y\nn\n", 0);
    BASH("X=5; echo ${X} ${#X} ${Y:-d} ${X:+p} \"$X\" '$X'", "5 1 d p 5 $X\n", 0);
    BASH("V=abc.tar.gz; echo ${V%.*} ${V%%.*} ${V#*.} ${V##*.} ${V/a/X} ${V//a/X}",
         "abc.tar abc tar.gz gz Xbc.tar.gz Xbc.tXr.gz\n", 0);
    BASH("echo $((1+2*3)) $(( (1+2)*3 )) $((7/2)) $((7%3)) $((1<2 && 2>1))", "7 9 3 1 1\n", 0);
    BASH("i=0; i=$((i+1)); echo $i", "1\n", 0);
    BASH("echo $'a\\tb'", "a\tb\n", 0);
    BASH("echo ~ ~/x", "/root /root/x\n", 0);
    BASH("nosuch", "-bash: nosuch: command not found\n", 127);
    ASH("nosuch", "-sh: nosuch: not found\n", 127);
    EXEC("nosuch", "bash: line 1: nosuch: command not found\n", 127);
}

static void test_substitution(void **state)
{
    (void)state;
    BASH("for i in $(echo a b c); do echo \"<$i>\"; done", "<a>\n<b>\n<c>\n", 0);
    BASH("x=$(echo hi; echo there); echo \"$x\"", "hi\nthere\n", 0);
    BASH("echo `echo back`", "back\n", 0);
    BASH("echo \"$(echo \"$(echo nested)\")\"", "nested\n", 0);
    BASH("set -- a 'b c' d; echo $#; for x in \"$@\"; do echo $x; done", "3\na\nb c\nd\n", 0);
    BASH("IFS=:; x=a:b:c; for i in $x; do echo $i; done", "a\nb\nc\n", 0);
}

static void test_control(void **state)
{
    (void)state;
    BASH("if false; then echo a; elif true; then echo b; else echo c; fi", "b\n", 0);
    BASH("i=0; while [ $i -lt 3 ]; do echo $i; i=$((i+1)); done", "0\n1\n2\n", 0);
    BASH("for i in 1 2 3 4; do [ $i = 3 ] && break; echo $i; done", "1\n2\n", 0);
    BASH("for i in 1 2 3; do [ $i = 2 ] && continue; echo $i; done", "1\n3\n", 0);
    BASH("case abc in a*) echo A;; *) echo B;; esac", "A\n", 0);
    BASH("f() { echo \"f:$1:$#\"; return 3; }; f x y; echo $?", "f:x:2\n3\n", 0);
    BASH("function g { local v=in; echo $v; }; v=out; g; echo $v", "in\nout\n", 0);
    BASH("(cd /tmp; X=1); echo \"$X\"; pwd", "\n/root\n", 0);
    BASH("{ echo a; echo b; } | while read l; do echo \"[$l]\"; done", "[a]\n[b]\n", 0);
    BASH("while true; do :; done", "", 130);
    BASH("[[ abc == a* ]] && echo m", "m\n", 0);
    BASH("eval 'echo ev'", "ev\n", 0);
}

static void test_multiline(void **state)
{
    (void)state;
    BASH("if true\nthen\necho yes\nfi", "yes\n", 0);
    BASH("while read l; do echo \"$l\"; done <<EOF\nhello $HOME\nEOF", "hello /root\n", 0);
    BASH("while read a b; do echo \"$b-$a\"; done <<'E'\n1 2\n3 4\nE", "2-1\n4-3\n", 0);
    BASH("echo 'open\nquote'", "open\nquote\n", 0);
    BASH("echo a |\necho b", "b\n", 0);
    BASH("echo a; fi", "-bash: syntax error near unexpected token `fi'\n", 2);
    ASH("echo a; fi", "-sh: syntax error: unexpected \"fi\"\n", 2);
    EXEC("echo a; fi", "bash: -c: line 1: syntax error near unexpected token `fi'\n"
                       "bash: -c: line 1: `echo a; fi'\n", 2);

    struct cap c;
    struct hp_interp *it = mk(&c, "debian");
    assert_true(hp_interp_line(it, HP_INTERP_INTERACTIVE, 0, (const uint8_t *)"for i in 1 2", 12));
    assert_true(hp_interp_incomplete(it));
    assert_true(hp_interp_line(it, HP_INTERP_INTERACTIVE, 0, (const uint8_t *)"do echo $i; done", 16));
    assert_false(hp_interp_incomplete(it));
    assert_string_equal(c.out, "1\n2\n");
    hp_interp_free(it);
}

static void test_files(void **state)
{
    (void)state;
    /* redirection failures in each shell's words (bash, dash as Debian's sh, busybox ash) */
    BASH("cat < /nonexist; echo a > /nonexistdir/x",
         "-bash: /nonexist: No such file or directory\n-bash: /nonexistdir/x: No such file or directory\n", 1);
    BASH("sh -c 'cat < /nonexist; echo a > /nonexistdir/x'",
         "sh: 1: cannot open /nonexist: No such file\nsh: 1: cannot create /nonexistdir/x: Directory nonexistent\n", 2);
    ASH("cat < /nonexist; echo a > /nonexistdir/x; echo a > /etc/passwd",
        "-sh: can't open /nonexist: no such file\n-sh: can't create /nonexistdir/x: nonexistent directory\n"
        "-sh: can't create /etc/passwd: Read-only file system\n", 1);
    BASH("cd /tmp; echo hello > f; echo more >> f; while read l; do echo \"<$l>\"; done < f",
         "<hello>\n<more>\n", 0);
    BASH("echo x > /tmp/g1; echo x > /tmp/g2; echo /tmp/g*", "/tmp/g1 /tmp/g2\n", 0);
    BASH("echo /tmp/nomatch*", "/tmp/nomatch*\n", 0);
    BASH("test -f /etc/passwd && echo f; [ -d /tmp ] && echo d; [ -e /nope ] || echo n", "f\nd\nn\n", 0);
    BASH("echo x > /nodir/f", "-bash: /nodir/f: No such file or directory\n", 1);
    BASH("cat < /nope", "-bash: /nope: No such file or directory\n", 1);
    BASH("cd /nope", "-bash: cd: /nope: No such file or directory\n", 1);
    ASH("cd /nope", "-sh: cd: can't cd to /nope: No such file or directory\n", 2);
    BASH("printf 'echo sourced $1\\n' > /tmp/s.sh; . /tmp/s.sh arg", "sourced arg\n", 0);
    BASH("printf 'echo in script\\n' > /tmp/s2; chmod +x /tmp/s2 2>/dev/null; sh /tmp/s2", "in script\n", 0);
    BASH("echo 'echo piped' | sh", "piped\n", 0);
    BASH("sh -c 'echo $0 $1' n a1", "n a1\n", 0);
    BASH("echo hi > /tmp/nx; /tmp/nx", "-bash: /tmp/nx: Permission denied\n", 126);
}

static void test_printf_echo(void **state)
{
    (void)state;
    BASH("printf '%s-%d\\n' a 1 b 2", "a-1\nb-2\n", 0);
    BASH("printf '%5s|%-3s|%x|%o|%c|%%\\n' ab c 255 8 xyz", "   ab|c  |ff|10|x|%\n", 0);
    BASH("printf '\\x41\\102\\n'", "AB\n", 0);
    BASH("echo -ne '\\x7fELF' | od -c 2>/dev/null; echo -e 'a\\nb'",
         "0000000 177   E   L   F\n0000004\na\nb\n", 0);
    BASH("echo -n a; echo b", "ab\n", 0);
}

static void test_parse_bounds(void **state)
{
    (void)state;
    /* deep nesting is an error, not a crash */
    char deep[4096];
    size_t o = 0;
    for (int i = 0; i < 500; i++)
        deep[o++] = '(';
    deep[o] = '\0';
    struct sh_parse p;
    struct sh_parse_opts opt = { .bash = true, .final = true };
    sh_parse(deep, o, 0, &opt, &p);
    assert_int_equal(p.status, SH_PARSE_ERROR);
    assert_true(sh_pattern_match("a*b?c", 5, "axxbyc", 6, false));
    assert_false(sh_pattern_match("a*b", 3, "axxc", 4, false));
    assert_true(sh_pattern_match("[!x]*", 5, "yz", 2, false));
}

/* A line that interprets for long pauses every IT_SLICE_MS for the other
 * sessions, and the time paused does not count against its budget. */
static void test_pause_slices(void **state)
{
    (void)state;
    struct cap c;
    struct hp_interp *it = mk(&c, "debian");
    struct hp_interp_io io = { .write = w, .failed = failed, .fetch = download, .pause = pause_cb, .arg = &c };
    hp_interp_free(it);
    struct hp_interp_sys sys = { .user = "root", .host = "box", .kernel_release = "x", .kernel_version = "y",
                                 .machine = "x86_64", .persona = hp_persona_get("debian") };
    it = hp_interp_new(&sys, &io);

    const char *quick = "echo hi";
    assert_true(hp_interp_line(it, HP_INTERP_EXEC, 1, (const uint8_t *)quick, strlen(quick)));
    assert_int_equal(c.pauses, 0);

    /* 1.1 s given to others at the first pause: past the line's 1 s budget
     * if it counted, and the loop would stop with 130 before the echo. */
    c.first_pause_ms = 1100;
    c.len = 0;
    c.out[0] = '\0';
    const char *loop = "s=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; s=$s$s$s; i=0; "
                       "while [ $i -lt 600 ]; do i=$((i+1)); x=${s//x/yy}; done; echo $i";
    assert_true(hp_interp_line(it, HP_INTERP_EXEC, 1, (const uint8_t *)loop, strlen(loop)));
    assert_true(c.pauses >= 2);          /* about 75 ms of work (200 ms under ASan) */
    assert_string_equal(c.out, "600\n");
    assert_int_equal(hp_interp_status(it), 0);

    /* sed's own loop pauses too (a branch forever, no regex, no shell
     * step), and stops when the line's time is up although each step costs
     * as much as the line is long (5M steps of y/// on 20000 bytes would take
     * a minute). */
    int before = c.pauses;
    c.len = 0;
    const char *sed = "printf '%020000d\\n' 0 | sed ':a;y/0/1/;y/1/0/;ba'; echo after";
    int64_t t0 = hp_mono_ms();
    assert_true(hp_interp_line(it, HP_INTERP_EXEC, 1, (const uint8_t *)sed, strlen(sed)));
    assert_true(c.pauses > before + 10);
    assert_true(hp_mono_ms() - t0 < 5000);
    assert_int_equal(hp_interp_status(it), 130);
    assert_null(strstr(c.out, "after"));

    /* so does seq's: 100,000 numbers of 300 digits each (1e300 + 1 is
     * 1e300) took 0.7 s in one go, two of them past the line's second */
    c.first_pause_ms = 0;
    before = c.pauses;
    const char *seq = "seq 1e300 1e300 >/dev/null";
    assert_true(hp_interp_line(it, HP_INTERP_EXEC, 1, (const uint8_t *)seq, strlen(seq)));
    assert_true(c.pauses > before + 10);
    hp_interp_free(it);
}

/* A glob's listing counts each name it lists against the line's steps: a
 * directory of 4,000 files and 4 links to itself, walked 5 links deep,
 * lists 341 directories (1.4 million names).  Counted one step a listing,
 * the walk went on (the clock read every 1,024 listings, 0.7 s apart with
 * long names); now the line stops at its step bound, before the echo. */
static void test_glob_listing_steps(void **state)
{
    (void)state;
    struct cap c;
    struct hp_interp *it = mk(&c, "debian");
    const char *mkdir = "mkdir /tmp/d; cd /tmp/d; for i in $(seq 4000); do touch f$i; done; "
                        "for i in 1 2 3 4; do ln -s /tmp/d l$i; done; echo made";
    const char *small = "set -- /tmp/d/l*/l*/f1; echo $#";
    const char *big = "echo /tmp/d/l*/l*/l*/l*/l*/x; echo after";
    assert_true(hp_interp_line(it, HP_INTERP_INTERACTIVE, 1, (const uint8_t *)mkdir, strlen(mkdir)));
    assert_string_equal(c.out, "made\n");
    c.len = 0;
    c.out[0] = '\0';
    assert_true(hp_interp_line(it, HP_INTERP_INTERACTIVE, 2, (const uint8_t *)small, strlen(small)));
    assert_string_equal(c.out, "16\n");           /* 5 listings: well within */
    c.len = 0;
    c.out[0] = '\0';
    assert_true(hp_interp_line(it, HP_INTERP_INTERACTIVE, 3, (const uint8_t *)big, strlen(big)));
    assert_string_equal(c.out, "");
    assert_int_equal(hp_interp_status(it), 130);
    hp_interp_free(it);
}

/* An open construct is parsed again from its start at each line; the bytes
 * parsed again are bounded (IT_REPARSE_MAX), so a construct held open over
 * thousands of lines is dropped as a full pending buffer is, while an
 * 80-line here-document of base64 still runs. */
static void test_reparse_bound(void **state)
{
    (void)state;
    struct cap c;
    struct hp_interp *it = mk(&c, "debian");
    const char *open_if = "if true; then";
    assert_true(hp_interp_line(it, HP_INTERP_INTERACTIVE, 1, (const uint8_t *)open_if, strlen(open_if)));
    int line;
    for (line = 2; line < 3000 && hp_interp_incomplete(it); line++)
        assert_true(hp_interp_line(it, HP_INTERP_INTERACTIVE, (unsigned)line, (const uint8_t *)":", 1));
    assert_false(hp_interp_incomplete(it));
    assert_true(line > 500 && line < 1000);    /* 256 KiB: n lines of 2 bytes parse n^2 bytes */
    assert_string_equal(c.out, "-bash: xmalloc: cannot allocate memory\n");
    assert_int_equal(hp_interp_status(it), 2);
    c.len = 0;
    assert_true(hp_interp_line(it, HP_INTERP_INTERACTIVE, (unsigned)line, (const uint8_t *)"echo ok", 7));
    assert_string_equal(c.out, "ok\n");
    hp_interp_free(it);

    /* A here-document body is not parsed again at each line (only its
     * delimiter can end it): an uploaded script of 5000 base64 lines (380 KB,
     * 1.4 GB of parsing if each line parsed it all again) runs whole. */
    it = mk(&c, "debian");
    const char *cat = "cat <<EOF | wc -l";
    assert_true(hp_interp_line(it, HP_INTERP_INTERACTIVE, 1, (const uint8_t *)cat, strlen(cat)));
    char b64[77];
    memset(b64, 'Q', 76);
    b64[76] = '\0';
    for (line = 2; line < 5002; line++)
        assert_true(hp_interp_line(it, HP_INTERP_INTERACTIVE, (unsigned)line, (const uint8_t *)b64, 76));
    assert_true(hp_interp_incomplete(it));
    assert_true(hp_interp_line(it, HP_INTERP_INTERACTIVE, (unsigned)line, (const uint8_t *)" EOF", 4));
    assert_true(hp_interp_incomplete(it));        /* not the delimiter: a body line */
    assert_true(hp_interp_line(it, HP_INTERP_INTERACTIVE, (unsigned)line, (const uint8_t *)"EOF", 3));
    assert_false(hp_interp_incomplete(it));
    assert_string_equal(c.out, "5001\n");
    hp_interp_free(it);

    /* <<- strips leading tabs, inside a compound command left open after it */
    c.len = 0;
    it = mk(&c, "debian");
    static const char *const lines[] = { "if true; then cat <<-'END' | wc -c", "\tab", "\t\tEND", "fi" };
    for (size_t i = 0; i < 4; i++) {
        assert_true(hp_interp_line(it, HP_INTERP_INTERACTIVE, (unsigned)i + 1, (const uint8_t *)lines[i],
                                   strlen(lines[i])));
        assert_int_equal(hp_interp_incomplete(it), i < 3);
    }
    assert_string_equal(c.out, "3\n");
    hp_interp_free(it);
}

/* The lines of one packet share a time slice (hp_interp_turn): short lines
 * fed back to back pause for the other sessions too, although none of them
 * lasts IT_SLICE_MS (a packet of 32,000 "a" lines held the thread 240 ms). */
static void test_pause_across_lines(void **state)
{
    (void)state;
    struct cap c;
    memset(&c, 0, sizeof(c));
    struct hp_interp_io io = { .write = w, .failed = failed, .fetch = download, .pause = pause_cb, .arg = &c };
    struct hp_interp_sys sys = { .user = "root", .host = "box", .kernel_release = "x", .kernel_version = "y",
                                 .machine = "x86_64", .persona = hp_persona_get("debian") };
    struct hp_interp *it = hp_interp_new(&sys, &io);
    const char *line = "i=0; while [ $i -lt 20 ]; do i=$((i+1)); done";
    int64_t t0 = hp_mono_ms(), longest = 0;
    hp_interp_turn(it);
    for (int k = 0; k < 2000 && c.pauses == 0; k++) {
        int64_t l0 = hp_mono_ms();
        assert_true(hp_interp_line(it, HP_INTERP_EXEC, 1, (const uint8_t *)line, strlen(line)));
        if (hp_mono_ms() - l0 > longest)
            longest = hp_mono_ms() - l0;
    }
    assert_true(longest < 10);                 /* no line alone used a slice */
    assert_true(c.pauses >= 1);                /* yet they paused, about 10 ms in */
    assert_true(hp_mono_ms() - t0 >= 10);
    hp_interp_free(it);
}

/* A text of many commands parsed one after another (a script, sh -c):
 * sh_parse_advance counts the lines once, and the line numbers are those
 * counted from the start: a here-document's body, a quoted newline and the
 * error after 3,000 lines all land on the same line as before. */
static void test_parse_line_numbers(void **state)
{
    (void)state;
    struct hp_buf t;
    hp_buf_init(&t, 1 << 20);
    hp_buf_puts(&t, "cat <<E\nx\ny\nE\necho 'a\nb'\n");          /* lines 1-6 */
    for (int i = 0; i < 3000; i++)
        hp_buf_puts(&t, i % 2 ? "true\n" : "true; true\n");         /* lines 7-3006 */
    hp_buf_puts(&t, "fi\n");                                          /* line 3007 */
    const char *text = (const char *)t.data;
    for (int advance = 0; advance < 2; advance++) {
        struct sh_parse_opts o = { .bash = true, .final = true, .first_line = 2 };
        size_t pos = 0;
        int cmds = 0;
        struct sh_parse p;
        for (;;) {
            enum sh_parse_status st = sh_parse(text, t.len, pos, &o, &p);
            if (st != SH_PARSE_OK)
                break;
            sh_arena_unref(p.arena);
            cmds++;
            pos = p.end;
            if (advance)
                sh_parse_advance(&o, text, pos);
        }
        assert_int_equal(p.status, SH_PARSE_ERROR);
        assert_string_equal(p.tok, "fi");
        assert_int_equal(p.line, 3008);              /* first_line 2: text[0] is line 2 */
        assert_int_equal(cmds, 3002);
    }
    hp_buf_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basics),
        cmocka_unit_test(test_substitution),
        cmocka_unit_test(test_control),
        cmocka_unit_test(test_multiline),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_printf_echo),
        cmocka_unit_test(test_parse_bounds),
        cmocka_unit_test(test_parse_line_numbers),
        cmocka_unit_test(test_pause_slices),
        cmocka_unit_test(test_reparse_bound),
        cmocka_unit_test(test_glob_listing_steps),
        cmocka_unit_test(test_pause_across_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
