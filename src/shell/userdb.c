/*
 * userdb.c - Cowrie-format credential rules.  See userdb.h.
 *
 * A file is parsed once into an array of rules; each rule has a matcher for
 * the user and one for the password (any / literal bytes / compiled PCRE2
 * pattern) and a 'refuse' flag from the password's '!' prefix.  Checking a
 * login walks the rules in order and the first rule whose two matchers both
 * match decides.  Everything is compared as bytes with explicit lengths,
 * because the peer's user name and password may contain NUL or any other
 * byte; patterns are compiled without PCRE2_UTF for the same reason (a
 * non-UTF-8 subject must still be matchable, "." is one byte).
 *
 * Line syntax ("user:x:password"): the line is cut at its first and second
 * ':' only, so a password may itself contain ':'.  Leading and trailing
 * blanks and a CR are stripped (a password that ends with a blank needs a
 * regex); blank lines and lines whose first non-blank is '#' are comments.
 * A field is a regex when it is at least two bytes, starts with '/' and ends
 * with '/' or "/i"; regexes search (unanchored), like Cowrie's re.search.
 *
 * Patterns come from the operator but subjects from the peer, so a badly
 * written pattern like /(a+)+$/ must not let a long password burn the CPU:
 * every match runs under a match and depth limit, and a match that hits a
 * limit counts as "no match" (the rule does not apply).
 *
 * Limits: 10,000 rules, lines of at most 1 KiB, files of at most 16 MiB.
 *
 * The built-in rules (no file configured) and why:
 *   - only root is accepted: bots overwhelmingly try root, and a box that
 *     lets in every user name ("oracle", "ubnt", "test" ...) with any
 *     password is a honeypot tell;
 *   - the empty password is refused: OpenSSH refuses it by default
 *     (PermitEmptyPasswords no), so accepting it gives the sensor away;
 *   - passwords naming honeypots are refused: checkers log in with
 *     "honeypot", "cowrie" ... to see whether anything is accepted;
 *   - passwords with control characters are refused: nobody types them,
 *     but a probe sends them to see whether the box accepts garbage;
 *   - Cowrie's own default refusals (root/root, root/123456) are NOT copied:
 *     scanners test exactly that pair of answers to recognise Cowrie.
 * Operators who want more variety (refusing a random share, letting in the
 * Nth attempt) use a file plus the front-end's accept_after.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "userdb.h"
#include "reader.h"

#define USERDB_MAX_RULES 10000
#define USERDB_MAX_LINE  1024
#define USERDB_MAX_FILE  (16u * 1024 * 1024)
/* Backtracking budget per pattern match: plenty for any sane credential
 * pattern, a few milliseconds at worst for a pathological one. */
#define USERDB_MATCH_LIMIT 100000
#define USERDB_DEPTH_LIMIT 1000

static const char default_rules[] =
    "# built-in rules: see the top of src/shell/userdb.c\n"
    "root:x:!/^$/\n"
    "root:x:!/honeypot|cowrie|kippo|hanipo/i\n"
    "root:x:!/[\\x00-\\x1f\\x7f]/\n"
    "root:x:*\n";

enum match_kind { M_ANY, M_LITERAL, M_REGEX };

struct matcher {
    enum match_kind kind;
    char *lit;                /* M_LITERAL: the bytes (NUL-terminated copy) */
    size_t litlen;
    pcre2_code *re;           /* M_REGEX */
};

struct rule {
    struct matcher user, pass;
    bool refuse;              /* the password had a '!' prefix */
};

struct hp_userdb {
    struct rule *rules;
    size_t n;
    size_t alloc;
    pcre2_match_context *mctx; /* limits; read-only after creation, so shareable */
};

/* ---- parsing --------------------------------------------------------------- */

struct parse {
    const char *name;
    unsigned line;
    char *err;
    size_t errlen;
};

static void perr(const struct parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void perr(const struct parse *ps, const char *fmt, ...)
{
    if (!ps->err || ps->errlen == 0)
        return;
    int n = snprintf(ps->err, ps->errlen, "%s:%u: ", ps->name, ps->line);
    if (n < 0 || (size_t)n >= ps->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static void matcher_free(struct matcher *m)
{
    free(m->lit);
    pcre2_code_free(m->re);
    memset(m, 0, sizeof(*m));
}

/* Whether a field is written as /regex/ or /regex/i; sets the pattern span. */
static bool is_regex(const char *f, size_t n, size_t *plen, bool *icase)
{
    if (n >= 2 && f[0] == '/' && f[n - 1] == '/') {
        *plen = n - 2;
        *icase = false;
        return true;
    }
    if (n >= 3 && f[0] == '/' && f[n - 2] == '/' && f[n - 1] == 'i') {
        *plen = n - 3;
        *icase = true;
        return true;
    }
    return false;
}

static int compile_regex(struct matcher *m, const char *pat, size_t plen, bool icase,
                         const struct parse *ps, const char *what)
{
    int ec;
    PCRE2_SIZE eoff;
    uint32_t opts = icase ? PCRE2_CASELESS : 0;
    m->re = pcre2_compile((PCRE2_SPTR)pat, plen, opts, &ec, &eoff, NULL);
    if (!m->re) {
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0)
            snprintf((char *)msg, sizeof(msg), "error %d", ec);
        perr(ps, "invalid regex in %s: %s at offset %zu", what, (const char *)msg, (size_t)eoff);
        return -1;
    }
    m->kind = M_REGEX;
    return 0;
}

static int matcher_init(struct matcher *m, const char *f, size_t n,
                        const struct parse *ps, const char *what)
{
    size_t plen;
    bool icase;
    memset(m, 0, sizeof(*m));
    if (n == 1 && f[0] == '*') {
        m->kind = M_ANY;
        return 0;
    }
    if (is_regex(f, n, &plen, &icase))
        return compile_regex(m, f + 1, plen, icase, ps, what);
    m->kind = M_LITERAL;
    m->lit = malloc(n + 1);
    if (!m->lit) {
        perr(ps, "out of memory");
        return -1;
    }
    memcpy(m->lit, f, n);
    m->lit[n] = '\0';
    m->litlen = n;
    return 0;
}

static bool is_blank(uint8_t c) { return c == ' ' || c == '\t'; }

/* Strip leading and trailing blanks. */
static void trim(const uint8_t **p, size_t *n)
{
    while (*n > 0 && is_blank((*p)[*n - 1]))
        (*n)--;
    while (*n > 0 && is_blank(**p)) {
        (*p)++;
        (*n)--;
    }
}

static int add_rule(struct hp_userdb *db, const struct rule *r, const struct parse *ps)
{
    if (db->n == USERDB_MAX_RULES) {
        perr(ps, "more than %d rules", USERDB_MAX_RULES);
        return -1;
    }
    if (db->n == db->alloc) {
        size_t na = db->alloc ? db->alloc * 2 : 16;
        struct rule *nr = realloc(db->rules, na * sizeof(*nr));
        if (!nr) {
            perr(ps, "out of memory");
            return -1;
        }
        db->rules = nr;
        db->alloc = na;
    }
    db->rules[db->n++] = *r;
    return 0;
}

/* One non-comment line "user:x:password". */
static int parse_rule(struct hp_userdb *db, const uint8_t *p, size_t n, const struct parse *ps)
{
    const uint8_t *c1 = memchr(p, ':', n);
    const uint8_t *c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - p)) : NULL;
    if (!c2) {
        perr(ps, "expected user:x:password");
        return -1;
    }
    size_t ulen = (size_t)(c1 - p);
    const char *pw = (const char *)c2 + 1;
    size_t pwlen = n - (size_t)(c2 + 1 - p);
    if (ulen == 0) {
        perr(ps, "empty user name (use * for any user)");
        return -1;
    }
    struct rule r = { .refuse = false };
    if (pwlen > 0 && pw[0] == '!') {
        r.refuse = true;
        pw++;
        pwlen--;
    }
    if (matcher_init(&r.user, (const char *)p, ulen, ps, "user name") < 0)
        return -1;
    if (matcher_init(&r.pass, pw, pwlen, ps, "password") < 0 || add_rule(db, &r, ps) < 0) {
        matcher_free(&r.user);
        matcher_free(&r.pass);
        return -1;
    }
    return 0;
}

/* Next line of the text (without its LF); false at the end. */
static bool next_line(struct hp_rd *r, const uint8_t **line, size_t *len)
{
    if (hp_rd_left(r) == 0)
        return false;
    long nl = hp_rd_find(r, "\n", 1);
    size_t n = nl < 0 ? hp_rd_left(r) : (size_t)nl;
    *line = hp_rd_bytes(r, n);
    *len = n;
    if (nl >= 0)
        hp_rd_skip(r, 1);
    return true;
}

static int parse_text(struct hp_userdb *db, const char *text, size_t len, struct parse *ps)
{
    struct hp_rd r;
    const uint8_t *line;
    size_t n;
    hp_rd_init(&r, text, len);
    while (next_line(&r, &line, &n)) {
        ps->line++;
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n > USERDB_MAX_LINE) {
            perr(ps, "line longer than %d bytes", USERDB_MAX_LINE);
            return -1;
        }
        trim(&line, &n);
        if (n == 0 || line[0] == '#')
            continue;
        if (memchr(line, '\0', n)) {
            perr(ps, "NUL byte in line");
            return -1;
        }
        if (parse_rule(db, line, n, ps) < 0)
            return -1;
    }
    return 0;
}

static struct hp_userdb *userdb_new(void)
{
    struct hp_userdb *db = calloc(1, sizeof(*db));
    if (!db)
        return NULL;
    db->mctx = pcre2_match_context_create(NULL);
    if (!db->mctx) {
        free(db);
        return NULL;
    }
    pcre2_set_match_limit(db->mctx, USERDB_MATCH_LIMIT);
    pcre2_set_depth_limit(db->mctx, USERDB_DEPTH_LIMIT);
    return db;
}

static struct hp_userdb *parse_buf(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
    struct parse ps = { .name = name ? name : "userdb", .line = 0, .err = err, .errlen = errlen };
    struct hp_userdb *db = userdb_new();
    if (!db) {
        perr(&ps, "out of memory");
        return NULL;
    }
    if (parse_text(db, text, len, &ps) < 0) {
        hp_userdb_free(db);
        return NULL;
    }
    return db;
}

struct hp_userdb *hp_userdb_parse(const char *text, const char *name, char *err, size_t errlen)
{
    if (!text)
        text = "";
    return parse_buf(text, strlen(text), name, err, errlen);
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rbe");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    const char *why = NULL;
    char *buf = NULL;
    size_t n = 0;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode))
        why = "not a regular file";
    else if ((uint64_t)st.st_size > USERDB_MAX_FILE)
        why = "file larger than 16 MiB";
    else if (!(buf = malloc((size_t)st.st_size + 1)))
        why = "out of memory";
    else if ((n = fread(buf, 1, (size_t)st.st_size, f)) != (size_t)st.st_size || ferror(f))
        why = "read error";
    fclose(f);
    if (why) {
        snprintf(err, errlen, "%s: %s", path, why);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

struct hp_userdb *hp_userdb_load(const char *path, char *err, size_t errlen)
{
    if (!path || !path[0])
        return hp_userdb_parse(default_rules, "built-in userdb", err, errlen);
    size_t len;
    char *text = read_file(path, &len, err, errlen);
    if (!text)
        return NULL;
    struct hp_userdb *db = parse_buf(text, len, path, err, errlen);
    free(text);
    return db;
}

void hp_userdb_free(struct hp_userdb *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->n; i++) {
        matcher_free(&db->rules[i].user);
        matcher_free(&db->rules[i].pass);
    }
    free(db->rules);
    pcre2_match_context_free(db->mctx);
    free(db);
}

/* ---- checking -------------------------------------------------------------- */

static bool matcher_match(const struct matcher *m, const char *s, size_t n,
                          pcre2_match_data *md, pcre2_match_context *mctx)
{
    switch (m->kind) {
    case M_ANY:
        return true;
    case M_LITERAL:
        return n == m->litlen && (n == 0 || memcmp(s, m->lit, n) == 0);
    case M_REGEX:
        /* Negative results (no match, limit hit, error) all mean "does not apply". */
        return pcre2_match(m->re, (PCRE2_SPTR)(n ? s : ""), n, 0, 0, md, mctx) >= 0;
    }
    return false;
}

bool hp_userdb_check(const struct hp_userdb *db, const char *user, size_t ulen,
                     const char *pass, size_t plen)
{
    if (!db)
        return false;
    if (!user)
        ulen = 0;
    if (!pass)
        plen = 0;
    /* One match block per call: the db is shared between threads. */
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (!md)
        return false;
    bool ok = false;
    for (size_t i = 0; i < db->n; i++) {
        const struct rule *r = &db->rules[i];
        if (matcher_match(&r->user, user, ulen, md, db->mctx) &&
            matcher_match(&r->pass, pass, plen, md, db->mctx)) {
            ok = !r->refuse;
            break;
        }
    }
    pcre2_match_data_free(md);
    return ok;
}
