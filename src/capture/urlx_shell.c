/*
 * urlx_shell.c - the shell pass of the URL extractor: download tools.
 *
 * Bots send shell: commands joined by ; && || | and newlines, quoted
 * arguments, $(...) and backticks, NAME=VALUE then $NAME, cron lines, ftp
 * scripts built with echo.  This pass is a forgiving tokenizer, not a shell:
 * it splits a layer into commands (at ; & | newline ` ( ) and "$("), each
 * command into words (quotes removed, backslash escapes, redirection targets
 * dropped, $NAME / ${NAME} replaced when NAME was assigned earlier in the same
 * text), skips prefixes (sudo, busybox, nohup, cron time fields, ...) and
 * hands the words of a known tool to its handler, which knows that tool's
 * options and turns its arguments into a URL.
 *
 * A quoted string that looks like a script (it has a blank or a separator)
 * is parsed again as commands, one or two levels deep: this is how
 * sh -c '...', bash -c "...", JSON {"cmd":"wget ..."} and SQL strings are
 * seen.  A for-loop over literal words re-runs the commands of its body that
 * use the loop variable once per word (at most UX_LOOP_VALS).
 *
 * Bounds: commands hold at most UX_WORDS words in a UX_ARENA-byte arena
 * (extra words are dropped, long words truncated - they would not be valid
 * URLs anyway), UX_VARS variables of at most UX_VAL_MAX bytes, values are
 * never re-expanded.  Every byte of a layer is tokenised at most 1 + UX_NEST
 * times, plus loop-body re-parses of commands up to UX_ARENA bytes, at most
 * UX_REPARSE_MAX bytes per scan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "reader.h"
#include "urlx_int.h"

#define UX_WORDS 48
#define UX_ARENA 4096
#define UX_VARS 64
#define UX_NAME_MAX 32
#define UX_VAL_MAX 256
#define UX_LOOP_VALS 8
#define UX_LOOP_VAL_MAX 64
#define UX_NEST 2
#define UX_REPARSE_MAX (256 * 1024)

struct ux_cmd {
    size_t start, end;             /* offsets in the layer */
    int nw;
    size_t woff[UX_WORDS];
    size_t used;
    size_t cur;                    /* offset of the word being built */
    bool inword, drop, redirect, loopref;
    char arena[UX_ARENA];
};

struct ux_var {
    char name[UX_NAME_MAX];
    char val[UX_VAL_MAX + 1];
};

struct ux_shell {
    struct ux_ctx *c;
    const struct ux_layer *L;
    const uint8_t *p;
    size_t n;
    struct ux_var vars[UX_VARS];
    int nvars;
    char loopvar[UX_NAME_MAX];
    char loopval[UX_LOOP_VALS][UX_LOOP_VAL_MAX + 1];
    int nloop, loopcur;
    bool reparse;
    size_t reparse_left;           /* bytes loop bodies may still be re-parsed, per scan */
    char ftp_host[256], ftp_port[8], ftp_user[128], ftp_pass[128];
    size_t emitted;                /* URLs handed to ux_report (the fuzzers' check) */
    struct ux_cmd cmd[UX_NEST + 1];
};

struct ux_shell *ux_shell_new(void)
{
    struct ux_shell *sh = calloc(1, sizeof(struct ux_shell));
    if (sh)
        sh->reparse_left = UX_REPARSE_MAX;
    return sh;
}

void ux_shell_free(struct ux_shell *sh)
{
    free(sh);
}

/* Everything else is set per layer by ux_shell_scan() and per command by
 * ux_cmd_reset(), as it already is between the layers of one scan. */
void ux_shell_rearm(struct ux_shell *sh)
{
    sh->reparse_left = UX_REPARSE_MAX;
}

/* ---- words ------------------------------------------------------------------------ */

static void ux_cmd_reset(struct ux_cmd *cmd, size_t start)
{
    cmd->start = cmd->end = start;
    cmd->nw = 0;
    cmd->used = 0;
    cmd->inword = cmd->drop = cmd->redirect = cmd->loopref = false;
}

static void ux_startword(struct ux_cmd *cmd)
{
    if (!cmd->inword) {
        cmd->inword = true;
        /* no room for another word, or not even for its terminator: the word is dropped */
        cmd->drop = cmd->nw >= UX_WORDS || cmd->used + 1 >= UX_ARENA;
        cmd->cur = cmd->used;
    }
}

static void ux_putc(struct ux_cmd *cmd, char ch)
{
    ux_startword(cmd);
    if (ch == '\0')
        return;                      /* words are C strings */
    if (!cmd->drop && cmd->used + 2 <= UX_ARENA)
        cmd->arena[cmd->used++] = ch;
}

/* n plain bytes of a word at once: what n ux_putc() calls would keep. */
static void ux_putn(struct ux_cmd *cmd, const uint8_t *p, size_t n)
{
    ux_startword(cmd);
    if (cmd->drop || cmd->used + 2 > UX_ARENA)
        return;
    size_t room = UX_ARENA - 1 - cmd->used;
    if (n > room)
        n = room;
    memcpy(cmd->arena + cmd->used, p, n);
    cmd->used += n;
}

static void ux_endword(struct ux_cmd *cmd)
{
    if (!cmd->inword)
        return;
    cmd->inword = false;
    if (cmd->drop || cmd->used >= UX_ARENA)
        return;
    if (cmd->redirect) {           /* "> file": not an argument */
        cmd->redirect = false;
        cmd->used = cmd->cur;
        return;
    }
    cmd->arena[cmd->used++] = '\0';
    cmd->woff[cmd->nw++] = cmd->cur;
}

static const char *ux_w(const struct ux_cmd *cmd, int i)
{
    return (i >= 0 && i < cmd->nw) ? cmd->arena + cmd->woff[i] : "";
}

static bool ux_ident_start(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static bool ux_ident(int ch)
{
    return ux_ident_start(ch) || (ch >= '0' && ch <= '9');
}

/* ---- variables ---------------------------------------------------------------------- */

static const char *ux_lookup(struct ux_shell *sh, struct ux_cmd *cmd, const char *name)
{
    if (sh->nloop > 0 && strcmp(name, sh->loopvar) == 0) {
        cmd->loopref = true;
        return sh->loopval[sh->loopcur];
    }
    for (int i = 0; i < sh->nvars; i++)
        if (strcmp(sh->vars[i].name, name) == 0)
            return sh->vars[i].val;
    return NULL;
}

static void ux_setvar(struct ux_shell *sh, const char *name, size_t nlen, const char *val)
{
    if (nlen == 0 || nlen >= UX_NAME_MAX || strlen(val) > UX_VAL_MAX)
        return;
    struct ux_var *v = NULL;
    for (int i = 0; i < sh->nvars && !v; i++)
        if (strlen(sh->vars[i].name) == nlen && memcmp(sh->vars[i].name, name, nlen) == 0)
            v = &sh->vars[i];
    if (!v) {
        if (sh->nvars >= UX_VARS)
            return;
        v = &sh->vars[sh->nvars++];
        memcpy(v->name, name, nlen);
        v->name[nlen] = '\0';
    }
    snprintf(v->val, sizeof(v->val), "%s", val);
}

/* "NAME=VALUE" -> length of NAME, 0 if the word is not an assignment. */
static size_t ux_assign_len(const char *w)
{
    if (!ux_ident_start((uint8_t)w[0]))
        return 0;
    size_t i = 1;
    while (ux_ident((uint8_t)w[i]))
        i++;
    return w[i] == '=' ? i : 0;
}

/* $NAME or ${NAME} at the reader: substitute a known variable, else keep the text. */
static void ux_expand(struct ux_shell *sh, struct ux_cmd *cmd, struct hp_rd *r)
{
    char name[UX_NAME_MAX];
    size_t k = 0;
    bool brace = hp_rd_peek_u8(r, 1) == '{';
    size_t at = brace ? 2 : 1;
    int ch = hp_rd_peek_u8(r, at);
    if (ux_ident_start(ch)) {
        while (k + 1 < sizeof(name) && ux_ident(ch = hp_rd_peek_u8(r, at + k))) {
            name[k] = (char)ch;
            k++;
        }
        name[k] = '\0';
        bool ok = !ux_ident(hp_rd_peek_u8(r, at + k)) && (!brace || hp_rd_peek_u8(r, at + k) == '}');
        const char *v = ok ? ux_lookup(sh, cmd, name) : NULL;
        if (v) {
            hp_rd_skip(r, at + k + (brace ? 1 : 0));
            for (; *v; v++)
                ux_putc(cmd, *v);
            return;
        }
    }
    ux_putc(cmd, '$');
    hp_rd_skip(r, 1);
}

/* ---- tokenizer ---------------------------------------------------------------------- */

static void ux_parse_script(struct ux_shell *sh, size_t base, size_t len, int depth, bool nest);

/* Worth parsing a quoted string as commands: it has a blank or a separator. */
static bool ux_scriptish(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == ' ' || p[i] == '\t' || p[i] == ';' || p[i] == '\n' || p[i] == '|')
            return true;
    return false;
}

/* A quoted string: 'q' is the quote at the reader.  The content (escapes and
 * $NAME honoured inside "...") becomes part of the current word. */
static void ux_quoted(struct ux_shell *sh, struct ux_cmd *cmd, struct hp_rd *r,
                      size_t base, int depth, bool nest)
{
    int q = hp_rd_peek_u8(r, 0);
    hp_rd_skip(r, 1);
    size_t qs = base + hp_rd_pos(r);
    ux_startword(cmd);                       /* "" is a word too */
    int ch;
    while ((ch = hp_rd_peek_u8(r, 0)) >= 0 && ch != q) {
        if (q == '"' && ch == '\\' && hp_rd_peek_u8(r, 1) >= 0 &&
            strchr("\"\\$`", hp_rd_peek_u8(r, 1))) {
            ux_putc(cmd, (char)hp_rd_peek_u8(r, 1));
            hp_rd_skip(r, 2);
        } else if (q == '"' && ch == '$' && hp_rd_peek_u8(r, 1) != '(') {
            ux_expand(sh, cmd, r);
        } else {
            ux_putc(cmd, (char)ch);
            hp_rd_skip(r, 1);
        }
    }
    size_t qe = base + hp_rd_pos(r);
    hp_rd_skip(r, 1);                        /* the closing quote, if any */
    if (nest && depth < UX_NEST && ux_scriptish(sh->p + qs, qe - qs))
        ux_parse_script(sh, qs, qe - qs, depth + 1, nest);
}

/* Length of an XML tag without attributes at the reader ("<a>", "</x:Y>",
 * "<?xml?>"), 0 if it is not one (a shell redirection "<file"). */
static size_t ux_xml_tag(const struct hp_rd *r)
{
    int ch = hp_rd_peek_u8(r, 1);
    if (!(ux_ident_start(ch) || ch == '/' || ch == '?' || ch == '!'))
        return 0;
    for (size_t k = 2; k < 64; k++) {
        ch = hp_rd_peek_u8(r, k);
        if (ch == '>')
            return k + 1;
        if (ch < 0 || ch <= ' ' || ch == '<' || ch == '"' || ch == '\'' || ch == ';' || ch == '|')
            return 0;
    }
    return 0;
}

/* Bytes the tokenizer acts on; a run of any others is part of a word and is
 * copied at once (most of an HTTP request is such runs).  NUL ends a command
 * like a newline does: strchr() in the separator test matches it. */
static const uint8_t ux_special[256] = {
    [0] = 1, [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [';'] = 1, ['&'] = 1,
    ['|'] = 1, ['`'] = 1, ['('] = 1, [')'] = 1, ['<'] = 1, ['>'] = 1, ['\''] = 1,
    ['"'] = 1, ['\\'] = 1, ['$'] = 1,
};

/* One command from the reader into cmd; false when the reader is exhausted
 * without a word. */
static bool ux_parse_cmd(struct ux_shell *sh, struct ux_cmd *cmd, struct hp_rd *r,
                         size_t base, int depth, bool nest)
{
    ux_cmd_reset(cmd, base + hp_rd_pos(r));
    int ch;
    while ((ch = hp_rd_peek_u8(r, 0)) >= 0) {
        if (ch == ' ' || ch == '\t') {
            ux_endword(cmd);
            hp_rd_skip(r, 1);
        } else if (!ux_special[ch]) {
            size_t run = hp_rd_span(r, ux_special);
            ux_putn(cmd, hp_rd_ptr(r), run);
            hp_rd_skip(r, run);
        } else if (strchr("\n\r;&|`()", ch) || (ch == '$' && hp_rd_peek_u8(r, 1) == '(')) {
            ux_endword(cmd);
            hp_rd_skip(r, ch == '$' ? 2 : 1);
            cmd->redirect = false;
            if (cmd->nw > 0)
                break;
            ux_cmd_reset(cmd, base + hp_rd_pos(r));
        } else if (ch == '<' && ux_xml_tag(r)) {
            ux_endword(cmd);                 /* <tag> ends a command, like ';' */
            hp_rd_skip(r, ux_xml_tag(r));
            cmd->redirect = false;
            if (cmd->nw > 0)
                break;
            ux_cmd_reset(cmd, base + hp_rd_pos(r));
        } else if (ch == '>' || ch == '<') {
            ux_endword(cmd);
            while ((ch = hp_rd_peek_u8(r, 0)) == '>' || ch == '<')
                hp_rd_skip(r, 1);
            if (ch == '&') {                 /* >&2: no target word */
                hp_rd_skip(r, 1);
                while ((ch = hp_rd_peek_u8(r, 0)) >= '0' && ch <= '9')
                    hp_rd_skip(r, 1);
            } else {
                cmd->redirect = true;
            }
        } else if (ch == '\'' || ch == '"') {
            ux_quoted(sh, cmd, r, base, depth, nest);
        } else if (ch == '\\') {
            int nx = hp_rd_peek_u8(r, 1);
            if (nx >= 0 && nx != '\n')
                ux_putc(cmd, (char)nx);
            hp_rd_skip(r, nx >= 0 ? 2 : 1);
        } else if (ch == '$') {
            ux_expand(sh, cmd, r);
        } else {
            ux_putc(cmd, (char)ch);
            hp_rd_skip(r, 1);
        }
    }
    ux_endword(cmd);
    cmd->end = base + hp_rd_pos(r);
    return cmd->nw > 0;
}

/* ---- tools ------------------------------------------------------------------------------ */

static void ux_emit(struct ux_shell *sh, const struct ux_cmd *cmd, const char *how,
                    const char *url, const char *defscheme)
{
    sh->emitted++;
    ux_report(sh->c, sh->L, cmd->start, url, strlen(url), defscheme, how);
}

/* scheme://[user[:pass]@]host[:port]/path, from tool arguments. */
static void ux_emit_parts(struct ux_shell *sh, const struct ux_cmd *cmd, const char *how,
                          const char *scheme, const char *user, const char *pass,
                          const char *host, const char *port, const char *path)
{
    char u[HP_URLX_URL_MAX + 1];
    if (!host || !*host || strchr(host, '/') || strchr(host, '@'))
        return;
    while (path && *path == '/')
        path++;
    int l = snprintf(u, sizeof(u), "%s://%s%s%s%s%s%s%s/%s", scheme,
                     user && *user ? user : "", user && *user && pass && *pass ? ":" : "",
                     user && *user && pass && *pass ? pass : "", user && *user ? "@" : "",
                     host, port && *port ? ":" : "", port && *port ? port : "", path ? path : "");
    if (l > 0 && (size_t)l < sizeof(u))
        ux_emit(sh, cmd, how, u, scheme);
}

static bool ux_digits(const char *w)
{
    size_t n = strspn(w, "0123456789");
    return n > 0 && n <= 5 && w[n] == '\0';
}

/* w is one of list.  The first byte is compared inline: nearly every word
 * of a request differs there, and a strcmp call per entry was a third of
 * the shell pass over a plain HTTP request. */
static bool ux_in(const char *w, const char *const *list)
{
    for (; *list; list++)
        if ((*list)[0] == w[0] && strcmp(w, *list) == 0)
            return true;
    return false;
}

/* Long options of wget and curl that take a separate value. */
static const char *const ux_long_arg[] = {
    "output-document", "output-file", "append-output", "directory-prefix", "user-agent",
    "header", "tries", "timeout", "user", "password", "post-data", "post-file", "referer",
    "execute", "input-file", "bind-address", "wait", "quota", "level", "load-cookies",
    "save-cookies", "output", "data", "data-binary", "data-raw", "data-urlencode", "request",
    "max-time", "proxy", "cookie", "cookie-jar", "upload-file", "form", "write-out", "config",
    "range", "retry", "connect-timeout", "limit-rate", "interface", "resolve", "cacert",
    "cert", "key", "ca-certificate", "certificate", "private-key", "http-user",
    "http-password", "ftp-user", "ftp-password", "proxy-user", "dump-header", "max-redirs",
    "retry-delay", "local-port", NULL,
};

/* An option word at j; returns how many following words it consumes. */
static int ux_option(const char *w, const char *short_arg)
{
    if (w[1] == '-')
        return (!strchr(w, '=') && ux_in(w + 2, ux_long_arg)) ? 1 : 0;
    for (size_t k = 1; w[k]; k++)
        if (strchr(short_arg, w[k]))
            return w[k + 1] ? 0 : 1;        /* -Ofile carries its value */
    return 0;
}

static void ux_wget(struct ux_shell *sh, const struct ux_cmd *cmd, int i)
{
    bool g = false;
    for (int j = i + 1; j < cmd->nw; j++)
        g |= strcmp(ux_w(cmd, j), "-g") == 0;
    const char *host = NULL, *remote = NULL, *local = NULL;
    for (int j = i + 1; j < cmd->nw; j++) {
        const char *w = ux_w(cmd, j);
        if (w[0] == '-' && w[1]) {
            if (g && (!strcmp(w, "-g") || !strcmp(w, "-r") || !strcmp(w, "-l"))) {
                const char **dst = w[1] == 'g' ? &host : w[1] == 'r' ? &remote : &local;
                if (j + 1 < cmd->nw)
                    *dst = ux_w(cmd, ++j);
                continue;
            }
            j += ux_option(w, "OoaPUetTwQiBl");
            continue;
        }
        ux_emit(sh, cmd, "wget", w, "http");
    }
    if (g && host && (remote || local))
        ux_emit_parts(sh, cmd, "busybox-wget-g", "tftp", NULL, NULL, host, NULL, remote ? remote : local);
}

static void ux_curl(struct ux_shell *sh, const struct ux_cmd *cmd, int i)
{
    for (int j = i + 1; j < cmd->nw; j++) {
        const char *w = ux_w(cmd, j);
        if (!strcmp(w, "--url")) {
            if (j + 1 < cmd->nw)
                ux_emit(sh, cmd, "curl", ux_w(cmd, ++j), "http");
        } else if (w[0] == '-' && w[1]) {
            j += ux_option(w, "oudHAXemxbcTFwKrYyzECQUtDP");
        } else {
            ux_emit(sh, cmd, "curl", w, "http");
        }
    }
}

/* busybox tftp -g -r REMOTE [-l LOCAL] HOST [PORT]; tftp HOST [PORT] -c get FILE;
 * Windows tftp -i HOST GET FILE. */
static void ux_tftp(struct ux_shell *sh, const struct ux_cmd *cmd, int i)
{
    const char *host = NULL, *port = NULL, *remote = NULL, *local = NULL;
    bool get = false, put = false;
    for (int j = i + 1; j < cmd->nw; j++) {
        const char *w = ux_w(cmd, j);
        const char *nx = ux_w(cmd, j + 1);
        if (!strcmp(w, "-r") || !strcmp(w, "-l")) {
            *(w[1] == 'r' ? &remote : &local) = nx;
            j++;
        } else if (!strcmp(w, "-b") || !strcmp(w, "-m")) {
            j++;
        } else if (!strcmp(w, "-g")) {
            get = true;
        } else if (!strcmp(w, "-p")) {
            put = true;
        } else if (w[0] == '-' && w[1] == 'c' && !w[2]) {
            if (!strcasecmp(nx, "get") && j + 2 < cmd->nw) {
                remote = ux_w(cmd, j + 2);
                get = true;
            }
            j += 2;
        } else if (w[0] == '-') {
            continue;
        } else if (host && !strcasecmp(w, "get") && j + 1 < cmd->nw) {
            remote = ux_w(cmd, ++j);
            get = true;
        } else if (host && !strcasecmp(w, "put")) {
            put = true;
        } else if (!host) {
            host = w;
        } else if (!port && ux_digits(w)) {
            port = w;
        }
    }
    if (put && !get)
        return;                              /* an upload */
    if (host && (remote || local))
        ux_emit_parts(sh, cmd, "tftp", "tftp", NULL, NULL, host, port, remote ? remote : local);
}

/* ftpget [-c -v] [-u USER] [-p PASS] [-P PORT] HOST LOCAL [REMOTE] */
static void ux_ftpget(struct ux_shell *sh, const struct ux_cmd *cmd, int i)
{
    const char *user = NULL, *pass = NULL, *port = NULL, *pos[3] = { NULL, NULL, NULL };
    int np = 0;
    for (int j = i + 1; j < cmd->nw; j++) {
        const char *w = ux_w(cmd, j);
        if (!strcmp(w, "-u") || !strcmp(w, "-p") || !strcmp(w, "-P")) {
            const char *v = ux_w(cmd, ++j);
            *(w[1] == 'u' ? &user : w[1] == 'p' ? &pass : &port) = v;
        } else if (w[0] == '-' && w[1]) {
            continue;
        } else if (np < 3) {
            pos[np++] = w;
        }
    }
    if (np >= 2)
        ux_emit_parts(sh, cmd, "ftpget", "ftp", user, pass, pos[0], port && ux_digits(port) ? port : NULL,
                      np == 3 ? pos[2] : pos[1]);
}

/* nc [options] HOST PORT: a raw TCP stream (tcp://HOST:PORT). */
static void ux_nc(struct ux_shell *sh, const struct ux_cmd *cmd, int i)
{
    const char *host = NULL;
    for (int j = i + 1; j < cmd->nw; j++) {
        const char *w = ux_w(cmd, j);
        if (w[0] == '-' && w[1]) {
            j += ux_option(w, "wpsqieIcxXOWTgGP");
        } else if (!host) {
            host = w;
        } else {
            if (ux_digits(w))
                ux_emit_parts(sh, cmd, "nc", "tcp", NULL, NULL, host, w, NULL);
            return;
        }
    }
}

/* ftp scripts: "echo open HOST [PORT] > f; echo user U P >> f; echo get FILE >> f"
 * or the same lines in an "ftp -n <<EOF" here-document. */
static void ux_ftp_script(struct ux_shell *sh, const struct ux_cmd *cmd, int i)
{
    int k = i;
    if (!strcmp(ux_w(cmd, k), "echo"))
        for (k++; k < cmd->nw && ux_w(cmd, k)[0] == '-'; k++)
            ;
    const char *verb = ux_w(cmd, k), *a1 = ux_w(cmd, k + 1), *a2 = ux_w(cmd, k + 2);
    if (!strcasecmp(verb, "open") && *a1) {
        snprintf(sh->ftp_host, sizeof(sh->ftp_host), "%s", a1);
        snprintf(sh->ftp_port, sizeof(sh->ftp_port), "%s", ux_digits(a2) ? a2 : "");
        sh->ftp_user[0] = sh->ftp_pass[0] = '\0';
    } else if (!strcasecmp(verb, "user") && *a1) {
        snprintf(sh->ftp_user, sizeof(sh->ftp_user), "%s", a1);
        snprintf(sh->ftp_pass, sizeof(sh->ftp_pass), "%s", a2);
    } else if ((!strcasecmp(verb, "get") || !strcasecmp(verb, "mget") || !strcasecmp(verb, "recv")) &&
               *a1 && sh->ftp_host[0]) {
        ux_emit_parts(sh, cmd, "ftp-script", "ftp", sh->ftp_user, sh->ftp_pass, sh->ftp_host,
                      sh->ftp_port, a1);
    }
}

/* ---- commands ------------------------------------------------------------------------- */

/* A cron time field: digits, '*', '/', ',', '-' with a digit or a star. */
static bool ux_cron_field(const char *w)
{
    return *w && strspn(w, "0123456789*/,-") == strlen(w) && strpbrk(w, "0123456789*");
}

/* "for NAME in WORDS": remember up to UX_LOOP_VALS words (split at blanks). */
static void ux_for(struct ux_shell *sh, const struct ux_cmd *cmd, int i)
{
    const char *name = ux_w(cmd, i + 1);
    sh->nloop = 0;
    if (strcmp(ux_w(cmd, i + 2), "in") != 0 || ux_assign_len(name) != 0 ||
        !ux_ident_start((uint8_t)name[0]) || strlen(name) >= UX_NAME_MAX)
        return;
    for (const char *s = name; *s; s++)
        if (!ux_ident((uint8_t)*s))
            return;
    snprintf(sh->loopvar, sizeof(sh->loopvar), "%s", name);
    for (int j = i + 3; j < cmd->nw && sh->nloop < UX_LOOP_VALS; j++) {
        const char *w = ux_w(cmd, j);
        while (*w && sh->nloop < UX_LOOP_VALS) {
            size_t l = strcspn(w, " \t\n");
            if (l > 0 && l <= UX_LOOP_VAL_MAX) {
                memcpy(sh->loopval[sh->nloop], w, l);
                sh->loopval[sh->nloop++][l] = '\0';
            }
            w += l;
            w += strspn(w, " \t\n");
        }
    }
    sh->loopcur = 0;
}

static const char *const ux_prefixes[] = {
    "sudo", "nohup", "busybox", "exec", "command", "then", "do", "else", "time", "env",
    "nice", "!", "{", "if", "while", "until", "eval", "xargs", "setsid", NULL,
};

/* The command name of a word: basename, and for HTTP form fields
 * ("cmd=wget", "vars[1][]=wget") the value after the last '='. */
static const char *ux_cmdname(const char *w)
{
    const char *v = strrchr(w, '=') ? strrchr(w, '=') + 1 : w;
    return strrchr(v, '/') ? strrchr(v, '/') + 1 : v;
}

static bool ux_is_tool(const char *b)
{
    static const char *const tools[] = { "wget", "curl", "tftp", "ftpget", "nc", "netcat", "ncat", NULL };
    return ux_in(b, tools);
}

/* export NAME=VALUE ... (and local, readonly, declare) */
static void ux_export(struct ux_shell *sh, const struct ux_cmd *cmd, int i)
{
    for (int j = i + 1; j < cmd->nw; j++) {
        size_t al = ux_assign_len(ux_w(cmd, j));
        if (al)
            ux_setvar(sh, ux_w(cmd, j), al, ux_w(cmd, j) + al + 1);
    }
}

static void ux_done(struct ux_shell *sh, const struct ux_cmd *cmd, int i)
{
    (void)cmd;
    (void)i;
    sh->nloop = 0;
}

/* The commands this pass acts on, by name (ftp script words in any case). */
static const struct {
    const char *name;
    bool caseless;
    void (*fn)(struct ux_shell *sh, const struct ux_cmd *cmd, int i);
} ux_cmds[] = {
    { "export", false, ux_export }, { "local", false, ux_export },  { "readonly", false, ux_export },
    { "declare", false, ux_export }, { "for", false, ux_for },      { "done", false, ux_done },
    { "wget", false, ux_wget },      { "curl", false, ux_curl },    { "tftp", false, ux_tftp },
    { "ftpget", false, ux_ftpget },  { "nc", false, ux_nc },        { "netcat", false, ux_nc },
    { "ncat", false, ux_nc },        { "echo", false, ux_ftp_script }, { "open", true, ux_ftp_script },
    { "user", true, ux_ftp_script }, { "get", true, ux_ftp_script }, { "mget", true, ux_ftp_script },
    { "recv", true, ux_ftp_script },
};

static void ux_handle(struct ux_shell *sh, const struct ux_cmd *cmd)
{
    int i = 0;
    for (int guard = 0; guard < 16 && i < cmd->nw; guard++) {
        const char *w = ux_w(cmd, i);
        size_t al = ux_assign_len(w);
        const char *b = strrchr(w, '/') ? strrchr(w, '/') + 1 : w;
        if (al && ux_is_tool(ux_cmdname(w))) {
            ux_setvar(sh, w, al, w + al + 1);
            break;                           /* cmd=wget http://...: a form field */
        } else if (al) {
            ux_setvar(sh, w, al, w + al + 1);
            i++;
        } else if (ux_in(b, ux_prefixes)) {
            i++;
        } else if (!strcmp(b, "timeout")) {
            i += 2;
        } else if (ux_cron_field(w) && cmd->nw - i >= 6 && ux_cron_field(ux_w(cmd, i + 1)) &&
                   ux_cron_field(ux_w(cmd, i + 2)) && ux_cron_field(ux_w(cmd, i + 3)) &&
                   ux_cron_field(ux_w(cmd, i + 4))) {
            i += 5;
            if (!strcmp(ux_w(cmd, i), "root"))
                i++;
        } else if (w[0] == '@' && ux_ident_start((uint8_t)w[1])) {
            i++;                             /* @reboot */
        } else {
            break;
        }
    }
    if (i >= cmd->nw)
        return;
    const char *b = ux_cmdname(ux_w(cmd, i));
    for (size_t k = 0; k < sizeof(ux_cmds) / sizeof(ux_cmds[0]); k++) {
        const char *n = ux_cmds[k].name;
        if ((n[0] | 0x20) != (b[0] | 0x20))
            continue;                        /* most words of a request end here */
        if (ux_cmds[k].caseless ? strcasecmp(b, n) == 0 : strcmp(b, n) == 0) {
            ux_cmds[k].fn(sh, cmd, i);
            return;
        }
    }
}

/* Parse and handle every command of layer bytes [base, base+len). */
static void ux_parse_script(struct ux_shell *sh, size_t base, size_t len, int depth, bool nest)
{
    struct hp_rd r;
    struct ux_cmd *cmd = &sh->cmd[depth];
    hp_rd_init(&r, sh->p + base, len);
    while (hp_rd_left(&r) > 0) {
        if (!ux_parse_cmd(sh, cmd, &r, base, depth, nest))
            break;
        ux_handle(sh, cmd);
        if (!cmd->loopref || sh->nloop < 2 || sh->reparse)
            continue;
        /* A loop body command using the loop variable: once per loop word.
         * Only short commands, and a bounded number of bytes per scan. */
        struct ux_cmd *rc = &sh->cmd[UX_NEST];
        size_t s = cmd->start, e = cmd->end;
        size_t cost = (e - s) * (size_t)(sh->nloop - 1);
        if (e - s > UX_ARENA || cost > sh->reparse_left)
            continue;
        sh->reparse_left -= cost;
        sh->reparse = true;
        for (int k = 1; k < sh->nloop; k++) {
            struct hp_rd rr;
            sh->loopcur = k;
            hp_rd_init(&rr, sh->p + s, e - s);
            if (ux_parse_cmd(sh, rc, &rr, s, UX_NEST, false))
                ux_handle(sh, rc);
        }
        sh->loopcur = 0;
        sh->reparse = false;
    }
}

/*
 * Whether the pass could find anything in p[0..n): only a command it knows
 * yields a URL (a download tool, or an ftp script, which needs its "open"),
 * so a layer without one of those names is not worth tokenising.  Most
 * request heads are such layers (a browser's User-Agent and Accept lines),
 * and tokenising them was most of the cost of scanning a request.  The test
 * errs one way: a name can also be written across quotes (w'g'et, "n"c), so
 * quotes are left out of the comparison, and a layer with a '$' (a variable
 * could spell the name) or a backslash (escapes, line continuations) is
 * always tokenised.  "nc" counts only as a word of its own (a command name
 * cannot have a letter or digit next to it).
 */
static bool ux_alnum_byte(uint8_t c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static bool ux_alnum_at(const uint8_t *p, size_t n, size_t i)
{
    return i < n && ux_alnum_byte(p[i]);
}

/* The same test over the bytes with quotes left out, one byte at a time
 * (its list of names must stay that of ux_shell_may_find(): test_urlx's
 * test_shell_skip_every_name sends each name through both). */
static bool ux_shell_may_find_quoted(const uint8_t *p, size_t n)
{
    uint64_t w = 0, lw = 0;            /* the last 8 bytes, quotes left out; lower-cased */
    bool nc = false;                   /* "nc" just seen with no letter or digit before it */
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        if (ch == '\'' || ch == '"')
            continue;
        if (nc && !ux_alnum_byte(ch))
            return true;
        uint8_t before = (uint8_t)(w >> 8);    /* the byte before the last one */
        w = (w << 8) | ch;
        lw = (lw << 8) | (uint8_t)(ch | ((ch >= 'A' && ch <= 'Z') ? 0x20 : 0));
        uint32_t w4 = (uint32_t)w;
        if (w4 == 0x77676574u || w4 == 0x6375726cu || w4 == 0x74667470u ||   /* wget curl tftp */
            w4 == 0x6e636174u || (uint32_t)lw == 0x6f70656eu ||             /* ncat, open (any case) */
            (w & 0xffffffffffffu) == 0x667470676574u ||                      /* ftpget */
            (w & 0xffffffffffffu) == 0x6e6574636174u)                        /* netcat */
            return true;
        nc = (uint16_t)w == 0x6e63u && !ux_alnum_byte(before);
    }
    return nc;
}

/*
 * Whether the pass could find anything in p[0..n): only a command it knows
 * yields a URL (a download tool, or an ftp script, which needs its "open"),
 * so a layer without one of those names is not worth tokenising.  Most
 * request heads are such layers (a browser's User-Agent and Accept lines),
 * and tokenising them was most of the cost of scanning a request.  The test
 * errs one way: a name can also be written across quotes (w'g'et, "n"c), so
 * then quotes are left out of the comparison, and a layer with a '$' (a
 * variable could spell the name) or a backslash (escapes, line
 * continuations) is always tokenised.  "nc" counts only as a word of its own
 * (a command name cannot have a letter or digit next to it).
 */
static bool ux_shell_may_find(const uint8_t *p, size_t n)
{
    if (memchr(p, '$', n) || memchr(p, '\\', n))
        return true;
    if (memchr(p, '\'', n) || memchr(p, '"', n))
        return ux_shell_may_find_quoted(p, n);
    for (size_t i = 0; i + 2 <= n; i++) {
        size_t left = n - i;
        const uint8_t *q = p + i;
        switch (*q) {
        case 'w':
            if (left >= 4 && memcmp(q, "wget", 4) == 0)
                return true;
            break;
        case 'c':
            if (left >= 4 && memcmp(q, "curl", 4) == 0)
                return true;
            break;
        case 't':
            if (left >= 4 && memcmp(q, "tftp", 4) == 0)
                return true;
            break;
        case 'f':
            if (left >= 6 && memcmp(q, "ftpget", 6) == 0)
                return true;
            break;
        case 'n':
            if ((left >= 4 && memcmp(q, "ncat", 4) == 0) || (left >= 6 && memcmp(q, "netcat", 6) == 0) ||
                (q[1] == 'c' && (i == 0 || !ux_alnum_byte(q[-1])) && !ux_alnum_at(q, left, 2)))
                return true;
            break;
        case 'o':
        case 'O':
            if (left >= 4 && (q[1] | 0x20) == 'p' && (q[2] | 0x20) == 'e' && (q[3] | 0x20) == 'n')
                return true;
            break;
        default:
            break;
        }
    }
    return false;
}

void ux_shell_scan(struct ux_ctx *c, struct ux_shell *sh, const struct ux_layer *L,
                   const uint8_t *p, size_t n)
{
#ifndef HP_FUZZING
    if (!ux_shell_may_find(p, n))
        return;
#endif
    sh->c = c;
    sh->L = L;
    sh->p = p;
    sh->n = n;
    sh->nvars = 0;
    sh->nloop = sh->loopcur = 0;
    sh->reparse = false;
    sh->ftp_host[0] = sh->ftp_port[0] = sh->ftp_user[0] = sh->ftp_pass[0] = '\0';
    sh->emitted = 0;
    ux_parse_script(sh, 0, n, 0, true);
#ifdef HP_FUZZING
    if (sh->emitted && !ux_shell_may_find(p, n))
        abort();                       /* the shortcut would have lost a URL */
#endif
}
