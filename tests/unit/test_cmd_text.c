/*
 * test_cmd_text.c - unit tests for the text programs (src/shell/cmd_text.c,
 * cmd_awk.c): argv + stdin + files -> exact stdout, stderr and status, on
 * the Debian (GNU) and busybox personalities.  Programs run with the light
 * fixture of cmd_fixture.h (a fake interpreter) over a real session file system,
 * plus a few pipelines end to end through hp_interp_line.
 */
#include "cmd_fixture.h"
#include "cpu_time.h"

static struct sh_vfs *deb, *bb;

#define RUN(fs, p, in, out, err, rc, ...) \
    fxl_runv(fs, p, "/root", in, 0, out, err, rc, (const char *const[]){ __VA_ARGS__, NULL })
#define DEB(in, out, err, rc, ...) RUN(deb, "debian", in, out, err, rc, __VA_ARGS__)
#define BB(in, out, err, rc, ...) RUN(bb, "busybox", in, out, err, rc, __VA_ARGS__)

static int setup(void **state)
{
    (void)state;
    fxl_open_pair(&deb, &bb);
    fx_vfs_put(deb, "/root/a.txt", "alpha one\nBeta two\ngamma three\nalphabet\n", 0644);
    fx_vfs_put(deb, "/root/b.txt", "beta\nalpha\n", 0644);
    fx_vfs_put(bb, "/tmp/a.txt", "alpha one\nBeta two\ngamma three\nalphabet\n", 0644);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fxl_close_pair(deb, bb);
    return 0;
}

/* ---- grep ---- */

/* One regexec on a long line cost the square of its length ('[a-z]+c' on
 * 100 KB of 'a': 16 s, beyond the 250 ms regex budget, holding the event
 * loop); it is searched in windows now, with the budget checked between
 * them.  What the windows must not lose: a match far into the line, one
 * that must run from the line's start to its real end. */
static void test_grep_long_line(void **state)
{
    (void)state;
    size_t n = 100 * 1024;
    char *line = malloc(n + 2);
    assert_non_null(line);
    memset(line, 'a', n);
    line[n] = '\n';
    line[n + 1] = '\0';
    double t0 = test_cpu_s();
    DEB(line, "", "", 1, "grep", "-E", "[a-z]+c");
    assert_true(test_cpu_s() - t0 < 2.5);          /* 0.25 s budget; unbounded it ran 16 s */
    DEB(line, "1\n", "", 0, "grep", "-c", "a$");
    DEB(line, "1\n", "", 0, "grep", "-c", "-E", "^(a|b)+$");
    line[n - 5000] = 'c';
    DEB(line, "1\n", "", 0, "grep", "-c", "-E", "a(b|c)");
    DEB(line, "ac\n", "", 0, "grep", "-o", "ac");
    /* A match that starts in a window's second half and runs past its end
     * is found whole in the next window, not cut. */
    char *want = malloc(3002);
    assert_non_null(want);
    memset(line, 'x', n);
    memset(line + 5000, 'b', 3000);
    memset(want, 'b', 3000);
    strcpy(want + 3000, "\n");
    DEB(line, want, "", 0, "grep", "-o", "-E", "b+");
    free(want);
    free(line);
}

static void test_grep(void **state)
{
    (void)state;
    const char *cpu = "processor\t: 0\nmodel name\t: Intel\nprocessor\t: 1\nmodel name\t: Intel\n";
    DEB(cpu, "model name\t: Intel\nmodel name\t: Intel\n", "", 0, "grep", "name");
    DEB(cpu, "2\n", "", 0, "grep", "-c", "name");
    DEB(cpu, "", "", 1, "grep", "nothing");
    DEB(cpu, "", "", 0, "grep", "-q", "proc");
    DEB("", "", "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n", 2,
        "grep");
    DEB("", "", "grep: invalid option -- 'k'\nUsage: grep [OPTION]... PATTERNS [FILE]...\n"
                "Try 'grep --help' for more information.\n", 2, "grep", "-k", "x");
    DEB(NULL, "alpha one\nalphabet\n", "", 0, "grep", "alpha", "a.txt");
    DEB(NULL, "a.txt:alpha one\na.txt:alphabet\nb.txt:alpha\n", "", 0, "grep", "alpha", "a.txt", "b.txt");
    DEB(NULL, "alpha one\n", "", 0, "grep", "-w", "alpha", "a.txt");
    DEB(NULL, "alpha\n", "", 0, "grep", "-x", "alpha", "b.txt");
    DEB(NULL, "1:alpha one\n2:Beta two\n4:alphabet\n", "", 0, "grep", "-n", "-i", "-e", "alpha", "-e", "beta", "a.txt");
    DEB(NULL, "gamma three\n", "", 0, "grep", "-v", "-E", "alpha|Beta", "a.txt");
    DEB(NULL, "alpha\nalpha\n", "", 0, "grep", "-o", "alpha", "a.txt");
    DEB(NULL, "a.txt\n", "", 0, "grep", "-l", "gamma", "a.txt", "b.txt");
    DEB(NULL, "", "grep: nope: No such file or directory\n", 2, "grep", "x", "nope");
    DEB(NULL, "", "", 2, "grep", "-s", "x", "nope");
    DEB(NULL, "", "grep: Unmatched [, [^, [:, [., or [=\n", 2, "grep", "[a", "a.txt");
    DEB(NULL, "", "grep: /etc: Is a directory\n", 2, "grep", "x", "/etc");
    DEB("a.b\naxb\n", "a.b\n", "", 0, "fgrep", "a.b");
    DEB("ab\naab\n", "aab\n", "", 0, "egrep", "a{2}");
    /* Repetitions copy their operand in glibc's regcomp: stacked ones double
     * it each time ("a+++...+" asked for gigabytes).  Refused at once; the
     * usual repetitions still work. */
    char stacked[64] = "(a";
    memset(stacked + 2, '+', 40);
    strcpy(stacked + 42, "|b)");
    DEB("ab\n", "", "grep: Regular expression too big\n", 2, "grep", "-E", stacked);
    DEB("ab\n", "", "grep: Regular expression too big\n", 2, "grep", "-E", "((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+");
    DEB("1.2.3.4\nx\n", "1.2.3.4\n", "", 0, "grep", "-E", "^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$");
    DEB("ababccc\nac\n", "ababccc\n", "", 0, "grep", "-E", "(ab)+c+");
    DEB("aab\nab\n", "aab\n", "", 0, "grep", "a\\{2\\}");
    DEB("xxy\nxy\n", "xxy\n", "", 0, "grep", "-E", "x{2,3}y");
    DEB("a{\n", "a{\n", "", 0, "grep", "a{");
    /* an interval's bound ends at its '}': a later ",99999" is text */
    DEB("aab,99999\n", "aab,99999\n", "", 0, "grep", "a\\{2\\}b,99999");
    assert_int_equal(sh_vfs_write(deb, "/root/bin.dat", "x\0y\n", 4, SH_O_CREAT, 0644), 4);
    DEB(NULL, "", "grep: bin.dat: binary file matches\n", 0, "grep", "x", "bin.dat");
    BB(NULL, "alpha one\nalphabet\n", "", 0, "grep", "alpha", "/tmp/a.txt");
    BB(NULL, "", "grep: /nope: No such file or directory\n", 2, "grep", "x", "/nope");
}

/* ---- sed ---- */

static void test_sed(void **state)
{
    (void)state;
    DEB("hello world\n", "hexlo world\n", "", 0, "sed", "s/l/x/");
    DEB("hello world\n", "hexxo worxd\n", "", 0, "sed", "s/l/x/g");
    DEB("hello world\n", "helxo world\n", "", 0, "sed", "s/l/x/2");
    DEB("abc\n", "-a-b-c-\n", "", 0, "sed", "s/x*/-/g");
    DEB("baaac\n", "xbxcx\n", "", 0, "sed", "s/a*/x/g");
    DEB("a b\n", "b a\n", "", 0, "sed", "-E", "s/(a) (b)/\\2 \\1/");
    DEB("a b\n", "[a b]\n", "", 0, "sed", "s|.*|[&]|");
    DEB("Foo\n", "FOO\n", "", 0, "sed", "s/foo/\\U&/I");
    DEB("1\n2\n3\n4\n", "1\n4\n", "", 0, "sed", "2,3d");
    DEB("1\n2\n3\n4\n", "2\n3\n", "", 0, "sed", "-n", "2,3p");
    DEB("1\n2\n3\n4\n", "4\n", "", 0, "sed", "-n", "$p");
    DEB("1\n2\n3\n4\n", "1\n2\n", "", 0, "sed", "2q");
    DEB("a\nb\nc\n", "b\nc\n", "", 0, "sed", "-n", "/b/,/c/p");
    DEB("a\nb\n", "a\nX\nb\nX\n", "", 0, "sed", "a X");
    DEB("a\nb\n", "X\na\nb\n", "", 0, "sed", "1i\\\nX");
    DEB("a\nb\n", "a\nY\n", "", 0, "sed", "-e", "2c Y");
    DEB("abc\n", "xyz\n", "", 0, "sed", "y/abc/xyz/");
    DEB("a", "b", "", 0, "sed", "s/a/b/");
    DEB("a", "a\na", "", 0, "sed", "p");
    DEB("a\nb\nc\n", "c\nb\na\n", "", 0, "sed", "-n", "1!G;h;$p");
    DEB("a\nb\n", "a b\n", "", 0, "sed", ":a;N;$!ba;s/\\n/ /g");
    DEB("x\n", "", "sed: -e expression #1, char 5: unterminated `s' command\n", 1, "sed", "s/a/b");
    DEB("x\n", "", "sed: -e expression #1, char 1: unknown command: `k'\n", 1, "sed", "k");
    DEB("x\n", "", "sed: -e expression #1, char 7: unknown option to `s'\n", 1, "sed", "s/a/b/k");
    DEB(NULL, "", "sed: can't read nope: No such file or directory\n", 2, "sed", "p", "nope");
    DEB(NULL, "alpha one\n", "", 0, "sed", "-n", "1p", "a.txt");
    fx_vfs_put(deb, "/root/conf", "PermitRootLogin no\nPort 22\n", 0644);
    DEB(NULL, "", "", 0, "sed", "-i", "s/PermitRootLogin no/PermitRootLogin yes/", "conf");
    char *t = fx_vfs_get(deb, "/root/conf");
    assert_string_equal(t, "PermitRootLogin yes\nPort 22\n");
    free(t);
    DEB(NULL, "", "", 0, "sed", "-i.bak", "/Port/d", "/root/conf");
    t = fx_vfs_get(deb, "/root/conf.bak");
    assert_string_equal(t, "PermitRootLogin yes\nPort 22\n");
    free(t);
    t = fx_vfs_get(deb, "/root/conf");
    assert_string_equal(t, "PermitRootLogin yes\n");
    free(t);
    BB("x\n", "y\n", "", 0, "sed", "s/x/y/");
}

/* ---- awk ---- */

static void test_awk(void **state)
{
    (void)state;
    const char *free_m = "               total        used        free      shared  buff/cache   available\n"
                         "Mem:            3915         512        2801           1         861        3403\n"
                         "Swap:              0           0           0\n";
    DEB(free_m, "3915 512 2801 1 861 3403\n", "", 0, "awk", "/Mem/ {print $2 ,$3, $4, $5, $6, $7}");
    DEB(free_m, "512\n", "", 0, "awk", "FNR == 2 {print $3;}");
    DEB(free_m, "13.08%\n", "", 0, "awk", "NR==2{printf \"%.2f%%\\n\", $3*100/$2}");
    DEB("1\n2\n3\n", "6\n", "", 0, "awk", "{s+=$1} END {print s}");
    DEB(NULL, "root\n", "", 0, "awk", "-F:", "NR==1{print $1}", "/etc/passwd");
    DEB("a b c\n", "c\n3\n", "", 0, "awk", "{print $NF; print NF}");
    DEB("a b c\n", "b\n", "", 0, "awk", "{print $(NF-1)}");
    DEB("", "hello 3\n", "", 0, "awk", "BEGIN { x = \"hello\"; print x, length(x) - 2 }");
    DEB("", "5\n", "", 0, "awk", "-v", "n=5", "BEGIN{print n}");
    DEB("hello world\n", "HELLO\nell\n3\n", "", 0, "awk",
        "{print toupper($1); print substr($1,2,3); print index($0, \"llo\")}");
    DEB("a:b:c\n", "3 b\n", "", 0, "awk", "{n=split($0, p, \":\"); print n, p[2]}");
    DEB("foo foo\n", "bar bar 2\n", "", 0, "awk", "{n=gsub(/foo/,\"bar\"); print $0, n}");
    DEB("", "1 2 3 \n", "", 0, "awk", "BEGIN{for(i=1;i<=3;i++) printf \"%d \", i; print \"\"}");
    DEB("", "big\n", "", 0, "awk", "BEGIN{x=10; if (x > 5) print \"big\"; else print \"small\"}");
    DEB("10\n9\n", "10\n", "", 0, "awk", "$1 > 9");
    DEB("a b\n", "a-b\n", "", 0, "awk", "BEGIN{OFS=\"-\"}{$1=$1; print}");
    DEB("x\ny\nx\n", "x 2\ny 1\n", "", 0, "awk", "{c[$1]++} END {for (k in c) print k, c[k]}");
    DEB("", "2\n", "", 0, "awk", "BEGIN{print int(2.7)}");
    DEB("", "0.333333\n", "", 0, "awk", "BEGIN{print 1/3}");
    DEB("", "", "mawk: line 1: syntax error at or near }\n", 2, "awk", "{print $1 +}");
    DEB("", "", "mawk: cannot open nope (No such file or directory)\n", 2, "awk", "{print}", "nope");
    DEB("", "", "mawk: division by zero\n", 2, "awk", "BEGIN{print 1/0}");
    DEB("", "", "", 0, "awk", "BEGIN{while(1) x++}");
    BB(free_m, "3915\n", "", 0, "awk", "/Mem/{print $2}");
}

/* ---- the small filters ---- */

static void test_filters(void **state)
{
    (void)state;
    DEB("aGVsbG8=\n", "hello", "", 0, "base64", "-d");
    DEB("hello", "aGVsbG8=\n", "", 0, "base64");
    DEB("", "", "", 0, "base64");
    DEB("x!\n", "", "base64: invalid input\n", 1, "base64", "-d");
    DEB("0123456789012345678901234567890123456789012345678901234567",
        "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2\nNw==\n", "", 0, "base64");
    DEB("hello", "aGVs\nbG8=\n", "", 0, "base64", "-w", "4");
    DEB("root:x:0:0\n", "root\n", "", 0, "cut", "-d:", "-f1");
    DEB("a:b:c:d\n", "b:c\n", "", 0, "cut", "-d", ":", "-f", "2-3");
    DEB("abcdef\n", "bcd\n", "", 0, "cut", "-c2-4");
    DEB("a b\n", "", "cut: you must specify a list of bytes, characters, or fields\n"
                      "Try 'cut --help' for more information.\n", 1, "cut");
    DEB("Hello\n", "HELLO\n", "", 0, "tr", "a-z", "A-Z");
    DEB("Hello\n", "HELLO\n", "", 0, "tr", "[:lower:]", "[:upper:]");
    DEB("a  b   c\n", "a b c\n", "", 0, "tr", "-s", " ");
    DEB("a1b2\n", "ab\n", "", 0, "tr", "-d", "[:digit:]");
    DEB("a1b2\n", "12", "", 0, "tr", "-cd", "0-9");
    DEB("a b\n", "a\nb\n", "", 0, "tr", " ", "\\n");
    DEB("x", "", "tr: missing operand\nTry 'tr --help' for more information.\n", 1, "tr");
    DEB("b\na\nc\na\n", "a\na\nb\nc\n", "", 0, "sort");
    DEB("b\na\nc\na\n", "c\nb\na\n", "", 0, "sort", "-ru");
    DEB("10\n9\n100\n", "9\n10\n100\n", "", 0, "sort", "-n");
    DEB("x 3\ny 1\nz 2\n", "y 1\nz 2\nx 3\n", "", 0, "sort", "-k2", "-n");
    DEB("a:3\nb:1\n", "b:1\na:3\n", "", 0, "sort", "-t:", "-k2,2n");
    DEB("1K\n2M\n3\n", "3\n1K\n2M\n", "", 0, "sort", "-h");
    DEB("a\na\nb\nc\nc\n", "a\nb\nc\n", "", 0, "uniq");
    DEB("a\na\nb\n", "      2 a\n      1 b\n", "", 0, "uniq", "-c");
    DEB("a\na\nb\n", "a\n", "", 0, "uniq", "-d");
    DEB("a\na\nb\n", "b\n", "", 0, "uniq", "-u");
    DEB("", "1\n2\n3\n", "", 0, "seq", "3");
    DEB("", "2,4,6\n", "", 0, "seq", "-s", ",", "2", "2", "6");
    DEB("", "08\n09\n10\n", "", 0, "seq", "-w", "8", "10");
    DEB("", "", "seq: missing operand\nTry 'seq --help' for more information.\n", 1, "seq");
    DEB("abc\n", "cba\n", "", 0, "rev");
    DEB("data\n", "data\n", "", 0, "tee", "/tmp/t1");
    char *t = fx_vfs_get(deb, "/tmp/t1");
    assert_string_equal(t, "data\n");
    free(t);
    DEB("more\n", "more\n", "", 0, "tee", "-a", "/tmp/t1");
    t = fx_vfs_get(deb, "/tmp/t1");
    assert_string_equal(t, "data\nmore\n");
    free(t);
    BB("aGVsbG8=", "hello", "", 0, "base64", "-d");
}

/* ---- end to end, through the interpreter ---- */

static void e2e(const char *persona, const char *line, const char *want)
{
    fx_e2e(persona, HP_INTERP_INTERACTIVE, line, want);
}

static void test_pipelines(void **state)
{
    (void)state;
    e2e("debian", "echo aGVsbG8= | base64 -d", "hello");
    e2e("debian", "echo 'a b c' | awk '{print $2}' | tr a-z A-Z", "B\n");
    e2e("debian", "printf 'x\\ny\\nx\\n' | sort | uniq -c | sort -rn | head -1", "      2 x\n");
    e2e("debian", "echo hello | sed 's/hello/bye/'", "bye\n");
    e2e("debian", "grep -c root /etc/passwd", "1\n");
    e2e("debian", "awk -F: '$3 == 0 {print $1}' /etc/passwd", "root\n");
    e2e("busybox", "echo aGVsbG8= | base64 -d", "hello");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_grep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grep_long_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_awk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelines, setup, teardown),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    hp_persona_reset();
    return r;
}
