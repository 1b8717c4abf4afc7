/*
 * cmd_script.c - script interpreters (python3, perl) and small system
 * knobs (chattr, lsattr, sysctl, swapon/swapoff, logger).
 *
 * Scripts given to python3 and perl are logged as command.script events and
 * never run: literal prints are echoed, imports of modules a minimal Debian
 * lacks fail with the interpreter's own message, socket connects and URL
 * fetches fail as on the offline box (see cmd_net.c), and every URL a
 * script names is handed to sh_fetch like a download.  chattr and lsattr
 * accept what an attacker does to lock its files; the attributes are not
 * kept (lsattr shows the extent flag of an ext4 file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd_sys.h"
#include "buf.h"

#define ADMIN_FILE_MAX (1u << 20)

/* ==== interpreters =================================================================== */

/* Every http(s)/ftp URL in the code is asked for, as the script would. */
static void script_urls(struct sh_cmd *c, const char *tool, const char *code, size_t len)
{
    struct hp_buf body;
    hp_buf_init(&body, 1);
    int found = 0;
    for (size_t i = 0; i + 7 < len && found < 8; i++) {
        if (strncmp(code + i, "http://", 7) != 0 && strncmp(code + i, "https://", 8) != 0 &&
            strncmp(code + i, "ftp://", 6) != 0)
            continue;
        size_t e = i;
        while (e < len && code[e] > ' ' && !strchr("'\"`)];,", code[e]))
            e++;
        char url[1024];
        snprintf(url, sizeof(url), "%.*s", (int)(e - i), code + i);
        sh_fetch(c, tool, url, NULL, &body);
        found++;
        i = e;
    }
    hp_buf_free(&body);
}

static const char *const py_stdlib[] = {
    "os", "sys", "socket", "subprocess", "pty", "time", "base64", "urllib", "urllib.request", "urllib2",
    "json", "re", "random", "threading", "hashlib", "platform", "struct", "zlib", "ssl", "http.client",
    "select", "signal", "string", "binascii", "shutil", "tempfile", "ctypes", "getpass", "math", "codecs",
    "marshal", "io", "multiprocessing", "fcntl", "stat", "urllib.parse", "datetime", "uuid", "telnetlib",
};

/* A Python literal string at s ('...' or "..."), copied without its quotes. */
static size_t py_literal(const char *s, size_t n, char *out, size_t outn)
{
    if (n < 2 || (s[0] != '\'' && s[0] != '"'))
        return 0;
    const char *e = memchr(s + 1, s[0], n - 1);
    if (!e || memchr(s + 1, '\\', (size_t)(e - s - 1)))
        return 0;
    snprintf(out, outn, "%.*s", (int)(e - s - 1), s + 1);
    return (size_t)(e - s) + 1;
}

static int run_python(struct sh_cmd *c, const char *code, size_t len, const char *where)
{
    sh_event(c, "command.script", "code", code);
    script_urls(c, "python3", code, len);
    struct hp_buf out;
    hp_buf_init(&out, 65536);
    int lineno = 1, rc = 0;
    /* statements separated by ';' or newlines */
    for (size_t i = 0; i < len && rc == 0;) {
        size_t e = i;
        while (e < len && code[e] != ';' && code[e] != '\n')
            e++;
        const char *s = code + i;
        size_t sl = e - i;
        while (sl && (*s == ' ' || *s == '\t'))
            s++, sl--;
        while (sl && (s[sl - 1] == ' ' || s[sl - 1] == '\t' || s[sl - 1] == '\r'))
            sl--;
        char lit[512];
        if (sl > 7 && !strncmp(s, "print(", 6) && s[sl - 1] == ')' && py_literal(s + 6, sl - 7, lit, sizeof(lit)) == sl - 7) {
            hp_buf_printf(&out, "%s\n", lit);
        } else if (sl > 7 && (!strncmp(s, "import ", 7) || !strncmp(s, "from ", 5))) {
            char mods[256];
            snprintf(mods, sizeof(mods), "%.*s", (int)sl - (s[0] == 'i' ? 7 : 5), s + (s[0] == 'i' ? 7 : 5));
            for (char *save = NULL, *m = strtok_r(mods, ", ", &save); m; m = strtok_r(NULL, ", ", &save)) {
                if (!strcmp(m, "import") || !strcmp(m, "as"))
                    break;
                bool ok = false;
                for (size_t k = 0; k < sizeof(py_stdlib) / sizeof(py_stdlib[0]) && !ok; k++)
                    ok = !strcmp(py_stdlib[k], m) || (!strncmp(py_stdlib[k], m, strlen(py_stdlib[k])) && m[strlen(py_stdlib[k])] == '.');
                if (!ok) {
                    char top[128];
                    snprintf(top, sizeof(top), "%.*s", (int)strcspn(m, "."), m);
                    sh_out(c, out.data, out.len);
                    out.len = 0;
                    sh_errf(c, "Traceback (most recent call last):\n  File \"%s\", line %d, in <module>\n"
                               "ModuleNotFoundError: No module named '%s'\n", where, lineno, top);
                    rc = 1;
                }
                if (s[0] == 'f')
                    break;
            }
        } else if (sl && (strstr(s, ".connect(") || strstr(s, "urlopen(") || strstr(s, "urlretrieve(")) &&
                   (size_t)(strstr(s, strstr(s, ".connect(") ? ".connect(" : "url") - s) < sl) {
            sh_out(c, out.data, out.len);
            out.len = 0;
            if (strstr(s, ".connect("))
                sh_errf(c, "Traceback (most recent call last):\n  File \"%s\", line %d, in <module>\n"
                           "ConnectionRefusedError: [Errno 111] Connection refused\n", where, lineno);
            else
                sh_errf(c, "Traceback (most recent call last):\n  File \"%s\", line %d, in <module>\n"
                           "urllib.error.URLError: <urlopen error [Errno -3] Temporary failure in name resolution>\n",
                        where, lineno);
            rc = 1;
        }
        if (e < len && code[e] == '\n')
            lineno++;
        i = e + 1;
    }
    sh_out(c, out.data, out.len);
    hp_buf_free(&out);
    return rc;
}

/* The code of -c / -e, a script file, or stdin; NULL when nothing. */
static int script_source(struct sh_cmd *c, const char *flag, char **code, size_t *len, const char **file, int *rc)
{
    *code = NULL;
    *file = NULL;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (!strcmp(a, flag) || (flag[1] == 'e' && !strcmp(a, "-E"))) {
            if (i + 1 >= c->argc) {
                *rc = 2;
                return -1;
            }
            *code = strdup(c->argv[i + 1]);
            *len = strlen(c->argv[i + 1]);
            return 0;
        }
        if (a[0] == '-' && a[1])
            continue;
        *file = a;
        char path[4096];
        struct hp_buf b;
        hp_buf_init(&b, ADMIN_FILE_MAX);
        int r = sh_path(c, a, path, sizeof(path));
        if (r == 0)
            r = sys_read_file(c, path, &b);
        if (r < 0) {
            hp_buf_free(&b);
            *rc = r;
            return -1;
        }
        *code = strdup(hp_buf_cstr(&b));
        *len = b.len;
        hp_buf_free(&b);
        if (c->fs)
            sh_vfs_capture(c->fs, path);
        return 0;
    }
    if (c->in_len) {
        *code = malloc(c->in_len + 1);
        if (*code) {
            memcpy(*code, c->in, c->in_len);
            (*code)[c->in_len] = '\0';
        }
        *len = c->in_len;
    }
    return 0;
}

static int cmd_python3(struct sh_cmd *c)
{
    for (int i = 1; i < c->argc; i++)
        if (!strcmp(c->argv[i], "-V") || !strcmp(c->argv[i], "--version")) {
            sh_outs(c, "Python 3.11.2\n");
            return 0;
        }
    char *code;
    size_t len = 0;
    const char *file;
    int rc = 0;
    if (script_source(c, "-c", &code, &len, &file, &rc) < 0) {
        if (rc == 2) {
            sh_errs(c, "Argument expected for the -c option\nusage: python3 [option] ... [-c cmd | -m mod | file | -] [arg] ...\n"
                       "Try `python -h' for more information.\n");
            return 2;
        }
        char path[4096];
        sh_path(c, file, path, sizeof(path));
        sh_errf(c, "python3: can't open file '%s': [Errno 2] No such file or directory\n", path);
        return 2;
    }
    if (!code)
        return 0;
    rc = run_python(c, code, strlen(code), file ? file : "<string>");
    free(code);
    return rc;
}

static int cmd_perl(struct sh_cmd *c)
{
    for (int i = 1; i < c->argc; i++)
        if (!strcmp(c->argv[i], "-v") || !strcmp(c->argv[i], "--version")) {
            sh_outs(c, "\nThis is perl 5, version 36, subversion 0 (v5.36.0) built for x86_64-linux-gnu-thread-multi\n"
                       "(with 60 registered patches, see perl -V for more detail)\n\n"
                       "Copyright 1987-2022, Larry Wall\n\n"
                       "Perl may be copied only under the terms of either the Artistic License or the\n"
                       "GNU General Public License, which may be found in the Perl 5 source kit.\n\n"
                       "Complete documentation for Perl, including FAQ lists, should be found on\n"
                       "this system using \"man perl\" or \"perldoc perl\".  If you have access to the\n"
                       "Internet, point your browser at https://www.perl.org/, the Perl Home Page.\n\n");
            return 0;
        }
    char *code;
    size_t len = 0;
    const char *file;
    int rc = 0;
    if (script_source(c, "-e", &code, &len, &file, &rc) < 0) {
        if (rc == 2) {
            sh_errs(c, "No code specified for -e.\n");
            return 29;
        }
        sh_errf(c, "Can't open perl script \"%s\": No such file or directory\n", file);
        return 2;
    }
    if (!code)
        return 0;
    sh_event(c, "command.script", "code", code);
    script_urls(c, "perl", code, strlen(code));
    static const char *const missing[] = { "LWP::Simple", "LWP::UserAgent", "HTTP::Request", "IO::Socket::SSL",
                                           "Net::SSLeay", "LWP", "Crypt::SSLeay", "JSON" };
    const char *where = file ? file : "-e";
    for (size_t k = 0; k < sizeof(missing) / sizeof(missing[0]); k++) {
        char use[64];
        snprintf(use, sizeof(use), "use %s", missing[k]);
        const char *h = strstr(code, use);
        if (h && (h[strlen(use)] == ';' || h[strlen(use)] == ' ' || h[strlen(use)] == '\n' || h[strlen(use)] == 0)) {
            char pm[64];
            size_t w = 0;
            for (const char *q = missing[k]; *q && w < sizeof(pm) - 4; q++) {
                if (q[0] == ':' && q[1] == ':') {
                    pm[w++] = '/';
                    q++;
                } else
                    pm[w++] = *q;
            }
            pm[w] = '\0';
            int line = 1;
            for (const char *q = code; q < h; q++)
                line += *q == '\n';
            sh_errf(c, "Can't locate %s.pm in @INC (you may need to install the %s module) (@INC contains: /etc/perl "
                       "/usr/local/lib/x86_64-linux-gnu/perl/5.36.0 /usr/local/share/perl/5.36.0 "
                       "/usr/lib/x86_64-linux-gnu/perl5/5.36 /usr/share/perl5 /usr/lib/x86_64-linux-gnu/perl-base "
                       "/usr/lib/x86_64-linux-gnu/perl/5.36 /usr/share/perl/5.36 /usr/local/lib/site_perl) at %s line %d.\n"
                       "BEGIN failed--compilation aborted at %s line %d.\n", pm, missing[k], where, line, where, line);
            free(code);
            return 2;
        }
    }
    /* print "literal\n"; statements are echoed; anything else runs quietly. */
    const char *q = code;
    int n = 0;
    while ((q = strstr(q, "print ")) != NULL && n++ < 64) {
        q += 6;
        if (*q != '"' && *q != '\'')
            continue;
        char quote = *q++;
        const char *e = strchr(q, quote);
        if (!e)
            break;
        for (const char *p = q; p < e; p++) {
            if (quote == '"' && p[0] == '\\' && p + 1 < e) {
                char ch = p[1] == 'n' ? '\n' : p[1] == 't' ? '\t' : p[1];
                sh_out(c, &ch, 1);
                p++;
            } else
                sh_out(c, p, 1);
        }
        q = e + 1;
    }
    free(code);
    return 0;
}

/* ==== files and kernel knobs ======================================================= */

static int cmd_chattr(struct sh_cmd *c)
{
    int rc = 0, files = 0;
    bool mode = false;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if ((a[0] == '-' || a[0] == '+' || a[0] == '=') && !files && strspn(a + 1, "aAcCdDeFijmPsStTuxRVf") == strlen(a + 1)) {
            mode = true;
            continue;
        }
        files++;
        char path[4096];
        struct sh_stat st;
        if (sh_path(c, a, path, sizeof(path)) < 0 || !c->fs || sh_vfs_stat(c->fs, path, true, &st) < 0) {
            sh_errf(c, "chattr: No such file or directory while trying to stat %s\n", a);
            rc = 1;
        } else if (c->uid != 0 && st.uid != c->uid) {
            sh_errf(c, "chattr: Operation not permitted while setting flags on %s\n", a);
            rc = 1;
        }
    }
    if (!mode || !files) {
        sh_errs(c, "Usage: chattr [-pRVf] [-+=aAcCdDeijPsStTuFx] [-v version] files...\n");
        return 1;
    }
    return rc;
}

struct lsattr_ctx {
    struct sh_cmd *c;
    const char *dir;
    struct hp_buf *b;
};

static int lsattr_entry(void *arg, const char *name, const struct sh_stat *st)
{
    struct lsattr_ctx *x = arg;
    if (name[0] == '.')
        return 0;
    hp_buf_printf(x->b, "--------------e------- %s/%s\n", x->dir, name);
    return 0;
}

static int cmd_lsattr(struct sh_cmd *c)
{
    bool dflag = false;
    int rc = 0, files = 0;
    struct hp_buf b;
    hp_buf_init(&b, ADMIN_FILE_MAX);
    for (int i = 1; i < c->argc; i++)
        if (c->argv[i][0] == '-' && strchr(c->argv[i], 'd'))
            dflag = true;
    for (int i = 1; i <= c->argc; i++) {
        const char *a = i < c->argc ? c->argv[i] : NULL;
        if (a && a[0] == '-')
            continue;
        if (!a && files)
            break;
        const char *name = a ? a : ".";
        files++;
        char path[4096];
        struct sh_stat st;
        if (sh_path(c, name, path, sizeof(path)) < 0 || !c->fs || sh_vfs_stat(c->fs, path, true, &st) < 0) {
            sh_errf(c, "lsattr: No such file or directory while trying to stat %s\n", name);
            rc = 1;
            continue;
        }
        if (st.type == SH_FT_DIR && !dflag) {
            struct lsattr_ctx x = { c, name, &b };
            sh_vfs_list(c->fs, path, lsattr_entry, &x);
        } else
            hp_buf_printf(&b, "--------------e------- %s\n", name);
        if (!a)
            break;
    }
    sh_out(c, b.data, b.len);
    hp_buf_free(&b);
    return rc;
}

static int cmd_logger(struct sh_cmd *c)
{
    return 0;
}

static int cmd_sysctl(struct sh_cmd *c)
{
    int rc = 0;
    for (int i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] == '-') {
            if (!strcmp(a, "-a") || !strcmp(a, "-A") || !strcmp(a, "--all"))
                sh_outf(c, "kernel.hostname = %s\nkernel.osrelease = %s\nkernel.ostype = Linux\n"
                           "kernel.pid_max = 4194304\nnet.ipv4.ip_forward = 0\nvm.overcommit_memory = 0\nvm.swappiness = 60\n",
                        c->persona->hostname, c->persona->kernel_release);
            continue;
        }
        const char *eq = strchr(a, '=');
        char key[256];
        snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
        char path[512] = "/proc/sys/";
        size_t w = strlen(path);
        for (const char *q = key; *q && w < sizeof(path) - 1; q++)
            path[w++] = *q == '.' ? '/' : *q;
        path[w] = '\0';
        if (eq) {
            if (c->uid != 0) {
                sh_errf(c, "sysctl: permission denied on key \"%s\"\n", key);
                rc = 1;
                continue;
            }
            sh_outf(c, "%s = %s\n", key, eq + 1);
            continue;
        }
        struct hp_buf v;
        hp_buf_init(&v, 65536);
        if (sys_read_file(c, path, &v) < 0) {
            sh_errf(c, "sysctl: cannot stat %s: No such file or directory\n", path);
            rc = 255;
        } else {
            while (v.len && v.data[v.len - 1] == '\n')
                v.len--;
            sh_outf(c, "%s = %.*s\n", key, (int)v.len, (const char *)v.data);
        }
        hp_buf_free(&v);
    }
    return rc;
}

static int cmd_swap(struct sh_cmd *c)
{
    if (c->uid != 0) {
        sh_errf(c, "%s: Not superuser.\n", c->applet ? c->applet : "swapon");
        return 1;
    }
    return 0;
}

const struct sh_cmd_def sh_cmds_script[] = {
    { "chattr", cmd_chattr, false },
    { "logger", cmd_logger, false },
    { "lsattr", cmd_lsattr, false },
    { "perl", cmd_perl, false },
    { "python3", cmd_python3, false },
    { "swapoff", cmd_swap, false },
    { "swapon", cmd_swap, false },
    { "sysctl", cmd_sysctl, false },
    { NULL, NULL, false },
};
