/*
 * classify.c - payload type and family (see classify.h for the design).
 *
 * The pure parts (shebang, shell-text guess, ELF header, PE signature) read
 * the payload through the bounds-checked hp_rd reader and look only at a
 * bounded prefix, so their cost does not grow with the payload.  libmagic
 * sees the first CL_MAGIC_MAX bytes; YARA scans the whole buffer in fast
 * mode with a timeout, and its callback only compares rule metadata.
 *
 * Nothing here allocates per call: results go into the caller's struct,
 * truncated to the field sizes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <magic.h>
#include <yara.h>

#include "capture/classify.h"
#include "capture/elf.h"
#include "capture/yararules.h"
#include "reader.h"

#define CL_MAGIC_MAX      (1024 * 1024)  /* bytes libmagic sees */
#define CL_TEXT_PREFIX    (64 * 1024)    /* bytes the text / shell heuristics see */
#define CL_SHEBANG_MAX    256            /* longest shebang line we parse */
#define CL_SHEBANG_TOKENS 8
#define CL_SHELL_SEGMENTS 4096           /* command segments examined at most */
#define CL_SCAN_TIMEOUT   5              /* seconds, YARA */
#define CL_PRIO_DEFAULT   5              /* site rules without a priority meta */

static magic_t cl_magic_desc;            /* description cookie */
static magic_t cl_magic_mime;            /* MIME-type cookie */
static YR_RULES *cl_rules;               /* the shared set (yararules.h) */

/* Copy at most n bytes of src (not necessarily NUL-terminated) into dst
 * of size dstlen, always terminating. */
static void cl_copy(char *dst, size_t dstlen, const char *src, size_t n)
{
    if (dstlen == 0)
        return;
    if (n >= dstlen)
        n = dstlen - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void cl_copy_str(char *dst, size_t dstlen, const char *src)
{
    cl_copy(dst, dstlen, src ? src : "", src ? strlen(src) : 0);
}

/* ---- shebang --------------------------------------------------------- */

static bool cl_is_blank(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static bool cl_is_name_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '+' || c == '-';
}

struct cl_token {
    const uint8_t *p;
    size_t n;
};

/* Split a line at blanks into at most max tokens; returns their number. */
static size_t cl_tokenize(const uint8_t *line, size_t len, struct cl_token *tok, size_t max)
{
    size_t nt = 0, i = 0;

    while (i < len && nt < max) {
        while (i < len && cl_is_blank(line[i]))
            i++;
        if (i == len)
            break;
        size_t start = i;
        while (i < len && !cl_is_blank(line[i]))
            i++;
        tok[nt].p = line + start;
        tok[nt].n = i - start;
        nt++;
    }
    return nt;
}

/* The part of a token after its last '/'. */
static struct cl_token cl_basename(struct cl_token t)
{
    for (size_t i = t.n; i > 0; i--) {
        if (t.p[i - 1] == '/') {
            t.p += i;
            t.n -= i;
            break;
        }
    }
    return t;
}

static bool cl_token_is(struct cl_token t, const char *s)
{
    return t.n == strlen(s) && memcmp(t.p, s, t.n) == 0;
}

bool hp_classify_shebang(const void *data, size_t len, char *out, size_t outlen)
{
    struct hp_rd r;
    const uint8_t *line;
    size_t ll;
    struct cl_token tok[CL_SHEBANG_TOKENS];

    if (outlen)
        out[0] = '\0';
    hp_rd_init(&r, data, len);
    if (!hp_rd_starts_with_str(&r, "#!"))
        return false;
    hp_rd_skip(&r, 2);
    if (!hp_rd_line(&r, CL_SHEBANG_MAX, &line, &ll)) {
        /* A one-line file without a newline is still a shebang. */
        if (hp_rd_left(&r) > CL_SHEBANG_MAX)
            return false;
        ll = hp_rd_left(&r);
        line = hp_rd_ptr(&r);
        if (ll && line[ll - 1] == '\r')
            ll--;
    }
    size_t nt = cl_tokenize(line, ll, tok, CL_SHEBANG_TOKENS);
    if (nt == 0)
        return false;
    struct cl_token prog = cl_basename(tok[0]);
    size_t i = 1;
    if (cl_token_is(prog, "env")) {
        /* "#!/usr/bin/env -S perl -w": skip options and VAR=value. */
        while (i < nt && (tok[i].p[0] == '-' || memchr(tok[i].p, '=', tok[i].n)))
            i++;
        if (i == nt)
            return false;
        prog = cl_basename(tok[i]);
    } else if (cl_token_is(prog, "busybox") && nt > 1) {
        prog = cl_basename(tok[1]);
    }
    size_t n = 0;
    while (n < prog.n && cl_is_name_char(prog.p[n]))
        n++;
    if (n == 0 || outlen < 2)       /* no room for even one character */
        return false;
    cl_copy(out, outlen, (const char *)prog.p, n);
    return true;
}

/* ---- text and shell heuristics ---------------------------------------- */

/* Text: no NUL and at most 1 in 20 other control bytes (ESC colour codes
 * and the odd form feed are common in bot scripts) in the first
 * CL_TEXT_PREFIX bytes.  Bytes >= 0x80 pass, for UTF-8. */
static bool cl_looks_text(const uint8_t *p, size_t len)
{
    size_t n = len < CL_TEXT_PREFIX ? len : CL_TEXT_PREFIX, bad = 0;

    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == 0)
            return false;
        if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f)
            bad++;
    }
    return bad * 20 <= n;
}

/* Commands that open a segment of a typical attacker shell script. */
static const char *const cl_shell_words[] = {
    "cd", "wget", "curl", "tftp", "ftpget", "chmod", "rm", "echo", "cat", "busybox",
    "sh", "bash", "nohup", "mkdir", "cp", "mv", "export", "kill", "pkill", "killall",
    "crontab", "ulimit", "history", "uname", "ps", "grep", "sleep", "exit", "if",
    "then", "fi", "for", "do", "done", "while", "else", "sed", "awk", "chattr",
    "useradd", "passwd", "ln", "touch", "iptables", "service", "systemctl", "unset",
    "nproc", "enable", "system", "shell", "tar", "dd", "base64", "setsid", "exec",
};

static bool cl_is_shell_word(const uint8_t *w, size_t n)
{
    struct cl_token t = { w, n };

    if (n >= 2 && w[0] == '.' && w[1] == '/')   /* running something just fetched */
        return true;
    t = cl_basename(t);
    for (size_t i = 0; i < sizeof(cl_shell_words) / sizeof(cl_shell_words[0]); i++)
        if (cl_token_is(t, cl_shell_words[i]))
            return true;
    return false;
}

static bool cl_is_separator(uint8_t c)
{
    return c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '`';
}

bool hp_classify_looks_shell(const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t n = len < CL_TEXT_PREFIX ? len : CL_TEXT_PREFIX;
    size_t segments = 0, hits = 0, i = 0;

    if (!cl_looks_text(p, len))
        return false;
    while (i < n && segments < CL_SHELL_SEGMENTS) {
        while (i < n && (cl_is_blank(p[i]) || cl_is_separator(p[i]) || p[i] == '\r'))
            i++;
        if (i == n)
            break;
        if (p[i] == '#') {                      /* comment: up to the end of the line */
            while (i < n && p[i] != '\n')
                i++;
            continue;
        }
        size_t w = i;
        while (i < n && !cl_is_blank(p[i]) && !cl_is_separator(p[i]) && p[i] != '\r')
            i++;
        segments++;
        if (cl_is_shell_word(p + w, i - w))
            hits++;
        while (i < n && !cl_is_separator(p[i]))  /* the rest of the command */
            i++;
    }
    return hits >= 3 && hits * 2 >= segments;
}

/* ---- PE --------------------------------------------------------------- */

/* "MZ" and, at the offset the DOS header gives, "PE\0\0". */
static bool cl_is_pe(const uint8_t *p, size_t len)
{
    struct hp_rd r;
    uint8_t sig[4];

    hp_rd_init(&r, p, len);
    if (!hp_rd_starts_with_str(&r, "MZ") || !hp_rd_skip(&r, 0x3c))
        return false;
    uint32_t lfanew = hp_rd_u32le(&r);
    hp_rd_init(&r, p, len);
    return hp_rd_peek(&r, lfanew, sig, sizeof(sig)) && memcmp(sig, "PE\0\0", 4) == 0;
}

/* ---- libmagic --------------------------------------------------------- */

static const char *const cl_archive_mimes[] = {
    "application/zip", "application/gzip", "application/x-gzip", "application/x-tar",
    "application/x-xz", "application/x-bzip2", "application/x-7z-compressed",
    "application/x-rar", "application/vnd.rar", "application/x-lzma", "application/zstd",
    "application/x-cpio", "application/x-compress", "application/java-archive",
    "application/x-archive", "application/x-lzip", "application/x-lz4",
};

static bool cl_is_archive_mime(const char *mime)
{
    for (size_t i = 0; i < sizeof(cl_archive_mimes) / sizeof(cl_archive_mimes[0]); i++)
        if (strcmp(mime, cl_archive_mimes[i]) == 0)
            return true;
    return false;
}

static void cl_magic(const uint8_t *p, size_t len, struct hp_classify *out)
{
    size_t n = len < CL_MAGIC_MAX ? len : CL_MAGIC_MAX;
    const char *s;

    if (cl_magic_desc && (s = magic_buffer(cl_magic_desc, p, n)) != NULL)
        cl_copy_str(out->type, sizeof(out->type), s);
    if (cl_magic_mime && (s = magic_buffer(cl_magic_mime, p, n)) != NULL)
        cl_copy_str(out->mime, sizeof(out->mime), s);
}

/* libmagic's own limits, set explicitly: its defaults differ between
 * versions (bytes_max went from 1 MiB to 7 MiB), and every file it sees is
 * an attacker's.  Tighter than the 5.4x defaults (indir 50, name 50, phnum
 * 2048, shnum 32768, notes 256, regex 8192), still above what the stock
 * magic database needs; the ELF limits bound libmagic's section walk if a
 * future path hands it a descriptor (our own elf.c reads the header). */
static const struct {
    int param;
    size_t value;
} cl_magic_params[] = {
    { MAGIC_PARAM_INDIR_MAX, 20 },              /* nested indirect offsets */
    { MAGIC_PARAM_NAME_MAX, 40 },               /* nested "use" of named rules */
    { MAGIC_PARAM_ELF_PHNUM_MAX, 128 },
    { MAGIC_PARAM_ELF_SHNUM_MAX, 1024 },
    { MAGIC_PARAM_ELF_NOTES_MAX, 64 },
    { MAGIC_PARAM_REGEX_MAX, 4096 },            /* bytes one regex test scans */
    { MAGIC_PARAM_BYTES_MAX, CL_MAGIC_MAX },    /* bytes of the file considered */
#ifdef MAGIC_PARAM_ENCODING_MAX
    { MAGIC_PARAM_ENCODING_MAX, 64 * 1024 },    /* bytes the text-encoding guess reads */
#endif
};

static int cl_magic_bound(magic_t m, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(cl_magic_params) / sizeof(cl_magic_params[0]); i++) {
        size_t v = cl_magic_params[i].value;
        if (magic_setparam(m, cl_magic_params[i].param, &v) != 0) {
            snprintf(err, errlen, "magic_setparam(%d): refused", cl_magic_params[i].param);
            return -1;
        }
    }
    return 0;
}

int hp_classify_magic_param(int param, size_t *value)
{
    size_t a = 0, b = 0;
    if (!cl_magic_desc || !cl_magic_mime || magic_getparam(cl_magic_desc, param, &a) != 0 ||
        magic_getparam(cl_magic_mime, param, &b) != 0 || a != b)
        return -1;
    *value = a;
    return 0;
}

static magic_t cl_magic_open(int flags, char *err, size_t errlen)
{
    magic_t m = magic_open(flags);

    if (!m) {
        snprintf(err, errlen, "magic_open: %s", strerror(errno));
        return NULL;
    }
    /* A libmagic that refuses a bound would run unbounded on hostile files: no libmagic then. */
    if (cl_magic_bound(m, err, errlen) != 0) {
        magic_close(m);
        return NULL;
    }
    if (magic_load(m, NULL) != 0) {
        snprintf(err, errlen, "magic_load: %s", magic_error(m) ? magic_error(m) : "failed");
        magic_close(m);
        return NULL;
    }
    return m;
}

/* ---- YARA ------------------------------------------------------------- */

struct cl_match {
    bool found;
    int64_t prio;
    char family[32];
    char rule[64];
};

static void cl_rule_meta(const YR_RULE *rule, const char **family, int64_t *prio)
{
    const YR_META *meta;

    *family = NULL;
    *prio = CL_PRIO_DEFAULT;
    yr_rule_metas_foreach(rule, meta) {
        if (strcmp(meta->identifier, "family") == 0 && meta->type == META_TYPE_STRING)
            *family = meta->string;
        else if (strcmp(meta->identifier, "priority") == 0 && meta->type == META_TYPE_INTEGER)
            *prio = meta->integer;
    }
}

static int cl_scan_cb(YR_SCAN_CONTEXT *ctx, int message, void *message_data, void *user)
{
    struct cl_match *m = user;

    /* the trap's exploit rules share the set (yararules.h): not families */
    if (message == CALLBACK_MSG_RULE_MATCHING && !hp_yara_in_ns(message_data, HP_YARA_NS_TRAP)) {
        const YR_RULE *rule = message_data;
        const char *family;
        int64_t prio;
        cl_rule_meta(rule, &family, &prio);
        /* Strictly greater: on a tie the first match (rule order) stays. */
        if (!m->found || prio > m->prio) {
            m->found = true;
            m->prio = prio;
            cl_copy_str(m->rule, sizeof(m->rule), rule->identifier);
            cl_copy_str(m->family, sizeof(m->family), family ? family : rule->identifier);
        }
    }
    /* CALLBACK_MSG_TOO_MANY_MATCHES included: drop that string, go on. */
    return CALLBACK_CONTINUE;
}

static void cl_yara(const uint8_t *p, size_t len, struct hp_classify *out)
{
    struct cl_match m = { 0 };

    if (!cl_rules)
        return;
    /* A timeout or an error keeps whatever matched before it. */
    (void)yr_rules_scan_mem(cl_rules, p, len, SCAN_FLAGS_FAST_MODE, cl_scan_cb, &m,
                            CL_SCAN_TIMEOUT);
    if (m.found) {
        cl_copy_str(out->family, sizeof(out->family), m.family);
        cl_copy_str(out->rule, sizeof(out->rule), m.rule);
    }
}

/* ---- API -------------------------------------------------------------- */

int hp_classify_init(const char *extra_dir, char *err, size_t errlen)
{
    char scratch[256];

    if (!err || errlen == 0) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    err[0] = '\0';
    hp_classify_shutdown();
    /* No look inside compressed data: that path may run decompressors on
     * hostile bytes and is not needed to name the outer type. */
    if (!(cl_magic_desc = cl_magic_open(MAGIC_NONE | MAGIC_NO_CHECK_COMPRESS, err, errlen)) ||
        !(cl_magic_mime = cl_magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS, err, errlen)))
        goto fail;
    if (!(cl_rules = hp_yara_acquire(extra_dir, err, errlen)))
        goto fail;
    return 0;
fail:
    hp_classify_shutdown();
    return -1;
}

void hp_classify_shutdown(void)
{
    if (cl_rules) {
        hp_yara_release();
        cl_rules = NULL;
    }
    if (cl_magic_desc) {
        magic_close(cl_magic_desc);
        cl_magic_desc = NULL;
    }
    if (cl_magic_mime) {
        magic_close(cl_magic_mime);
        cl_magic_mime = NULL;
    }
}

/* kind and the ELF / script fields, from our own parsers and the MIME type. */
static void cl_kind(const uint8_t *p, size_t len, struct hp_classify *out)
{
    struct hp_elf_info elf;
    const char *kind;

    if (len == 0) {
        kind = "empty";
    } else if (hp_elf_parse(p, len, &elf)) {
        kind = "elf";
        cl_copy_str(out->elf_arch, sizeof(out->elf_arch), elf.arch);
        out->elf_bits = elf.bits;
        cl_copy_str(out->elf_endian, sizeof(out->elf_endian), elf.big_endian ? "big" : "little");
    } else if (hp_classify_shebang(p, len, out->interpreter, sizeof(out->interpreter))) {
        kind = "script";
    } else if (cl_is_pe(p, len)) {
        kind = "pe";
    } else if (cl_is_archive_mime(out->mime)) {
        kind = "archive";
    } else if (hp_classify_looks_shell(p, len)) {
        kind = "script";
        cl_copy_str(out->interpreter, sizeof(out->interpreter), "sh");
    } else if (strncmp(out->mime, "text/", 5) == 0 || cl_looks_text(p, len)) {
        kind = "text";
    } else {
        kind = "data";
    }
    cl_copy_str(out->kind, sizeof(out->kind), kind);
}

void hp_classify_buf(const void *data, size_t len, struct hp_classify *out)
{
    static const uint8_t none[1];
    const uint8_t *p = data ? data : none;

    memset(out, 0, sizeof(*out));
    if (!data)
        len = 0;
    cl_copy_str(out->family, sizeof(out->family), "unknown");
    cl_magic(p, len, out);
    cl_kind(p, len, out);
    if (len)
        cl_yara(p, len, out);
}
