/*
 * mysql_query.c - what the MySQL look-alike answers to COM_QUERY.
 *
 * Not a SQL engine: a statement is normalised (comments dropped, except
 * the body of MySQL's executable comments, slash-star-bang-version, whitespace
 * collapsed, case kept) and recognised by its first keywords.  Answers are
 * the ones bots look for and a real server of the claimed flavour gives:
 *
 *   SELECT expressions without FROM  one row: version(), @@variables, user(),
 *                                    database(), now(), literals, @user vars,
 *                                    UDFs created (sys_eval / sys_exec: the emulated
 *                                    shell's output / status, never run)
 *   SELECT ... FROM table            ER_NO_SUCH_TABLE (1146) / 1046 without a database
 *   SELECT ... INTO DUMPFILE/OUTFILE the bytes written (hex literal, unhex(),
 *                                    from_base64(), concat(), a @variable or the
 *                                    last blob INSERTed) are kept as an upload
 *   SHOW DATABASES/TABLES/VARIABLES [LIKE]/STATUS/GRANTS/PROCESSLIST/WARNINGS
 *   USE, CREATE/DROP DATABASE        a per-session list of databases
 *   CREATE FUNCTION ... SONAME       mysql.udf event, OK
 *   SET @x = literal                 remembered for a later INTO DUMPFILE
 *   other data/admin statements      OK packet
 *   anything else                    ER_PARSE_ERROR (1064) with the real wording
 *
 * URLs anywhere in a statement go to the capture pipeline.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include "capture/capture.h"
#include "capture/upload.h"
#include "identity.h"
#include "mysql.h"
#include "shell/shell.h"
#include "util.h"

#define MQ_MAX_COLS 64
#define MQ_LIT_DEPTH 8

struct span {
    const char *p;
    size_t n;
};

/* ---- server variables -------------------------------------------------------------- */

struct mq_var {
    const char *name;
    const char *v57, *v80, *vmaria;   /* NULL: computed */
};

static const struct mq_var mq_vars[] = {
    { "autocommit", "ON", "ON", "ON" },
    { "basedir", "/usr/", "/usr/", "/usr" },
    { "character_set_client", "utf8", "utf8mb4", "utf8mb4" },
    { "character_set_connection", "utf8", "utf8mb4", "utf8mb4" },
    { "character_set_database", "latin1", "utf8mb4", "utf8mb4" },
    { "character_set_results", "utf8", "utf8mb4", "utf8mb4" },
    { "character_set_server", "latin1", "utf8mb4", "utf8mb4" },
    { "character_set_system", "utf8", "utf8mb3", "utf8mb3" },
    { "collation_connection", "utf8_general_ci", "utf8mb4_0900_ai_ci", "utf8mb4_general_ci" },
    { "collation_server", "latin1_swedish_ci", "utf8mb4_0900_ai_ci", "utf8mb4_general_ci" },
    { "datadir", "/var/lib/mysql/", "/var/lib/mysql/", "/var/lib/mysql/" },
    { "default_authentication_plugin", "mysql_native_password", "mysql_native_password", NULL },
    { "general_log", "OFF", "OFF", "OFF" },
    { "have_ssl", "DISABLED", "DISABLED", "DISABLED" },
    { "hostname", NULL, NULL, NULL },
    { "init_connect", "", "", "" },
    { "interactive_timeout", "28800", "28800", "28800" },
    { "license", "GPL", "GPL", "GPL" },
    { "local_infile", "ON", "OFF", "ON" },
    { "log_bin", "OFF", "ON", "OFF" },
    { "lower_case_table_names", "0", "0", "0" },
    { "max_allowed_packet", "4194304", "67108864", "16777216" },
    { "max_connections", "151", "151", "151" },
    { "net_write_timeout", "60", "60", "60" },
    { "performance_schema", "ON", "ON", "OFF" },
    { "pid_file", "/var/run/mysqld/mysqld.pid", "/var/run/mysqld/mysqld.pid", "/run/mysqld/mysqld.pid" },
    { "plugin_dir", "/usr/lib/mysql/plugin/", "/usr/lib/mysql/plugin/", "/usr/lib/mysql/plugin/" },
    { "port", NULL, NULL, NULL },
    { "protocol_version", "10", "10", "10" },
    { "secure_file_priv", "", "", "" },
    { "server_id", "1", "1", "1" },
    { "socket", "/var/run/mysqld/mysqld.sock", "/var/run/mysqld/mysqld.sock", "/run/mysqld/mysqld.sock" },
    { "sql_mode",
      "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
      "NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION",
      "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
      "NO_ENGINE_SUBSTITUTION",
      "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION" },
    { "system_time_zone", "UTC", "UTC", "UTC" },
    { "time_zone", "SYSTEM", "SYSTEM", "SYSTEM" },
    { "tmpdir", "/tmp", "/tmp", "/tmp" },
    { "transaction_isolation", "REPEATABLE-READ", "REPEATABLE-READ", "REPEATABLE-READ" },
    { "tx_isolation", "REPEATABLE-READ", NULL, "REPEATABLE-READ" },
    { "version", NULL, NULL, NULL },
    { "version_comment", NULL, NULL, NULL },
    { "version_compile_machine", "x86_64", "x86_64", "x86_64" },
    { "version_compile_os", "Linux", "Linux", "debian-linux-gnu" },
    { "wait_timeout", "28800", "28800", "28800" },
};

size_t hp_my_nvariables(void)
{
    return HP_ARRAY_LEN(mq_vars);
}

const char *hp_my_variable_name(size_t i)
{
    return i < HP_ARRAY_LEN(mq_vars) ? mq_vars[i].name : NULL;
}

/* The version as SELECT version() shows it: MariaDB without its "5.5.5-" prefix. */
static const char *mq_version(const struct hp_my_sess *s)
{
    const char *v = s->cf->version;
    if (s->cf->flavor == HP_MY_MARIADB && strncmp(v, "5.5.5-", 6) == 0)
        v += 6;
    return v;
}

const char *hp_my_variable(const struct hp_my_sess *s, const char *name, char *tmp, size_t tmplen)
{
    if (strncasecmp(name, "global.", 7) == 0)
        name += 7;
    else if (strncasecmp(name, "session.", 8) == 0)
        name += 8;
    else if (strncasecmp(name, "local.", 6) == 0)
        name += 6;
    for (size_t i = 0; i < HP_ARRAY_LEN(mq_vars); i++) {
        const struct mq_var *v = &mq_vars[i];
        if (strcasecmp(v->name, name) != 0)
            continue;
        const char *val = s->cf->flavor == HP_MY_57 ? v->v57 : s->cf->flavor == HP_MY_80 ? v->v80 : v->vmaria;
        if (val)
            return val;
        if (strcmp(v->name, "version") == 0)
            return mq_version(s);
        if (strcmp(v->name, "version_comment") == 0)
            return s->cf->comment;
        if (strcmp(v->name, "port") == 0) {
            snprintf(tmp, tmplen, "%u", s->ctx->dst_port ? s->ctx->dst_port : 3306);
            return tmp;
        }
        if (strcmp(v->name, "hostname") == 0) {
            const char *h = s->cf->hostname ? s->cf->hostname : hp_identity_get("hostname");
            return h ? h : "db01";
        }
        return NULL;                    /* not a variable of this flavour */
    }
    return NULL;
}

/* ---- text helpers ---------------------------------------------------------------------- */

/* Normalise into out (n + 1 bytes): see the top of the file.  Returns the length. */
static size_t mq_norm(const uint8_t *q, size_t n, char *out)
{
    size_t o = 0, i = 0;
    bool cond = false;                  /* inside an executable comment */
    while (i < n) {
        uint8_t c = q[i];
        if (c == '\'' || c == '"' || c == '`') {
            size_t j = i + 1;
            out[o++] = (char)c;
            while (j < n) {
                out[o++] = (char)q[j];
                if (q[j] == '\\' && c != '`' && j + 1 < n) {
                    out[o++] = (char)q[j + 1];
                    j += 2;
                    continue;
                }
                if (q[j] == c) {
                    if (j + 1 < n && q[j + 1] == c) {
                        out[o++] = (char)c;
                        j += 2;
                        continue;
                    }
                    break;
                }
                j++;
            }
            i = j + 1;
            continue;
        }
        if (c == '/' && i + 2 < n && q[i + 1] == '*' && q[i + 2] == '!') {
            i += 3;
            while (i < n && isdigit(q[i]))
                i++;
            cond = true;
            c = ' ';
        } else if (c == '/' && i + 1 < n && q[i + 1] == '*') {
            i += 2;
            while (i + 1 < n && !(q[i] == '*' && q[i + 1] == '/'))
                i++;
            i += 2;
            c = ' ';
        } else if (cond && c == '*' && i + 1 < n && q[i + 1] == '/') {
            cond = false;
            i += 2;
            c = ' ';
        } else if (c == '#' || (c == '-' && i + 2 < n && q[i + 1] == '-' && isspace(q[i + 2]))) {
            while (i < n && q[i] != '\n')
                i++;
            c = ' ';
        } else {
            i++;
        }
        if (isspace(c) || c == 0) {
            if (o && out[o - 1] != ' ')
                out[o++] = ' ';
            continue;
        }
        out[o++] = (char)c;
    }
    while (o && (out[o - 1] == ' ' || out[o - 1] == ';'))
        o--;
    out[o] = '\0';
    return o;
}

static struct span trim(const char *p, size_t n)
{
    while (n && isspace((unsigned char)*p)) {
        p++;
        n--;
    }
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    return (struct span){ p, n };
}

/* Whether p starts with the keyword (case-insensitive, then a word boundary). */
static bool iskw(const char *p, size_t n, const char *kw)
{
    size_t k = strlen(kw);
    if (n < k || strncasecmp(p, kw, k) != 0)
        return false;
    return n == k || !(isalnum((unsigned char)p[k]) || p[k] == '_');
}

/* Skip a keyword and the space after it; false if it is not there. */
static bool eat(struct span *s, const char *kw)
{
    if (!iskw(s->p, s->n, kw))
        return false;
    size_t k = strlen(kw);
    s->p += k;
    s->n -= k;
    *s = trim(s->p, s->n);
    return true;
}

/* Offset of a keyword at parenthesis depth 0 outside quotes (last one if last), or -1. */
static long find_kw(const char *p, size_t n, const char *kw, bool last)
{
    int depth = 0;
    long found = -1;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\'' || c == '"' || c == '`') {
            for (i++; i < n && p[i] != c; i++)
                if (p[i] == '\\' && c != '`')
                    i++;
            continue;
        }
        if (c == '(')
            depth++;
        else if (c == ')')
            depth--;
        else if (depth == 0 && (i == 0 || p[i - 1] == ' ' || p[i - 1] == ')') && iskw(p + i, n - i, kw)) {
            found = (long)i;
            if (!last)
                return found;
        }
    }
    return found;
}

/* Split at top-level commas. */
static size_t split_commas(const char *p, size_t n, struct span *out, size_t max)
{
    size_t k = 0, start = 0;
    int depth = 0;
    for (size_t i = 0; i <= n && k < max; i++) {
        if (i == n || (p[i] == ',' && depth == 0)) {
            out[k++] = trim(p + start, i - start);
            start = i + 1;
            continue;
        }
        char c = p[i];
        if (c == '\'' || c == '"' || c == '`') {
            for (i++; i < n && p[i] != c; i++)
                if (p[i] == '\\' && c != '`')
                    i++;
            if (i >= n)
                i = n - 1;      /* unterminated: the last part runs to the end (the loop's i++ reaches n) */
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            depth--;
        }
    }
    return k;
}

/* An identifier or quoted name into out (unquoted, at most outlen-1 bytes). */
static void name_of(struct span s, char *out, size_t outlen)
{
    s = trim(s.p, s.n);
    if (s.n >= 2 && (s.p[0] == '`' || s.p[0] == '\'' || s.p[0] == '"') && s.p[s.n - 1] == s.p[0]) {
        s.p++;
        s.n -= 2;
    } else {
        size_t k = 0;
        while (k < s.n && s.p[k] != ' ' && s.p[k] != ';' && s.p[k] != '(' && s.p[k] != ',')
            k++;
        s.n = k;
    }
    size_t k = s.n < outlen - 1 ? s.n : outlen - 1;
    memcpy(out, s.p, k);
    out[k] = '\0';
    for (size_t i = 0; i < k; i++)
        if (out[i] == '`' || (unsigned char)out[i] < 0x20)
            out[i] = '?';
}

/* SQL LIKE: % and _, case-insensitive, \ escapes; the classic one-star
 * backtracking match, O(len(s) * len(pat)) at worst. */
static bool like(const char *s, const char *pat)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        char pc = *pat;
        bool esc = pc == '\\' && pat[1];
        if (!esc && pc == '%') {
            star = ++pat;
            resume = s;
            continue;
        }
        char want = esc ? pat[1] : pc;
        if (pc && ((!esc && pc == '_') || tolower((unsigned char)want) == tolower((unsigned char)*s))) {
            pat += esc ? 2 : 1;
            s++;
            continue;
        }
        if (!star)
            return false;
        pat = star;
        s = ++resume;
    }
    while (*pat == '%')
        pat++;
    return *pat == '\0';
}

/* ---- literals ------------------------------------------------------------------------- */

static bool put_hex(const char *p, size_t n, struct hp_buf *out)
{
    size_t i = 0;
    if (n % 2) {                        /* MySQL pads an odd hex literal with a leading 0 */
        if (hp_hexval(p[0]) < 0)
            return false;
        hp_buf_putc(out, (uint8_t)hp_hexval(p[0]));
        i = 1;
    }
    for (; i + 1 < n + 1 && i < n; i += 2) {
        int a = hp_hexval(p[i]), b = hp_hexval(p[i + 1]);
        if (a < 0 || b < 0)
            return false;
        hp_buf_putc(out, (uint8_t)(a << 4 | b));
    }
    return hp_buf_ok(out);
}

/* A quoted string's content with MySQL's escapes. */
static bool put_quoted(struct span s, struct hp_buf *out)
{
    if (s.n < 2 || (s.p[0] != '\'' && s.p[0] != '"') || s.p[s.n - 1] != s.p[0])
        return false;
    char q = s.p[0];
    for (size_t i = 1; i + 1 < s.n; i++) {
        char c = s.p[i];
        if (c == '\\' && i + 2 < s.n) {
            c = s.p[++i];
            switch (c) {
            case '0': c = '\0'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'Z': c = 0x1a; break;
            default: break;
            }
        } else if (c == q && i + 2 < s.n && s.p[i + 1] == q) {
            i++;
        }
        hp_buf_putc(out, (uint8_t)c);
    }
    return hp_buf_ok(out);
}

/* The argument list of name(...) when s is exactly such a call. */
static bool call_args(struct span s, const char *name, struct span *args)
{
    size_t k = strlen(name);
    if (s.n < k + 2 || strncasecmp(s.p, name, k) != 0)
        return false;
    struct span r = trim(s.p + k, s.n - k);
    if (r.n < 2 || r.p[0] != '(' || r.p[r.n - 1] != ')')
        return false;
    *args = trim(r.p + 1, r.n - 2);
    return true;
}

static const struct hp_my_var *find_var(const struct hp_my_sess *s, struct span name)
{
    for (size_t i = 0; i < HP_MY_VARS_MAX; i++)
        if (s->vars[i].name[0] && strlen(s->vars[i].name) == name.n &&
            strncasecmp(s->vars[i].name, name.p, name.n) == 0)
            return &s->vars[i];
    return NULL;
}

static bool literal(const struct hp_my_sess *s, struct span e, struct hp_buf *out, int depth)
{
    struct span a;
    e = trim(e.p, e.n);
    if (depth > MQ_LIT_DEPTH || e.n == 0)
        return false;
    if (iskw(e.p, e.n, "binary") || iskw(e.p, e.n, "_binary"))
        return literal(s, (struct span){ e.p + 7 - (e.p[0] != '_'), e.n - 7 + (e.p[0] != '_') }, out, depth + 1);
    if (e.n > 2 && e.p[0] == '0' && (e.p[1] == 'x' || e.p[1] == 'X'))
        return put_hex(e.p + 2, e.n - 2, out);
    if (e.n >= 3 && (e.p[0] == 'x' || e.p[0] == 'X') && e.p[1] == '\'' && e.p[e.n - 1] == '\'')
        return put_hex(e.p + 2, e.n - 3, out);
    if (e.p[0] == '\'' || e.p[0] == '"')
        return put_quoted(e, out);
    if (e.p[0] == '@' && e.n > 1 && e.p[1] != '@') {
        const struct hp_my_var *v = find_var(s, (struct span){ e.p + 1, e.n - 1 });
        return v && hp_buf_put(out, v->val.data, v->val.len);
    }
    if (call_args(e, "unhex", &a)) {
        struct hp_buf t;
        hp_buf_init(&t, out->cap);
        bool ok = literal(s, a, &t, depth + 1) && put_hex((const char *)t.data, t.len, out);
        hp_buf_free(&t);
        return ok;
    }
    if (call_args(e, "from_base64", &a)) {
        struct hp_buf t;
        hp_buf_init(&t, out->cap);
        bool ok = literal(s, a, &t, depth + 1);
        size_t k = 0;                   /* drop whitespace, which MySQL ignores */
        for (size_t i = 0; ok && i < t.len; i++)
            if (!isspace(t.data[i]))
                t.data[k++] = t.data[i];
        t.len = k;
        if (ok && k % 4 == 0 && k > 0 && hp_buf_reserve(out, k)) {
            int m = EVP_DecodeBlock(out->data + out->len, t.data, (int)k);
            ok = m >= 0;
            if (ok) {
                size_t pad = (t.data[k - 1] == '=') + (k > 1 && t.data[k - 2] == '=');
                out->len += (size_t)m - pad;
            }
        } else {
            ok = ok && k == 0;
        }
        hp_buf_free(&t);
        return ok;
    }
    if (call_args(e, "concat", &a)) {
        struct span parts[64];
        size_t np = split_commas(a.p, a.n, parts, HP_ARRAY_LEN(parts));
        for (size_t i = 0; i < np; i++)
            if (!literal(s, parts[i], out, depth + 1))
                return false;
        return true;
    }
    if (call_args(e, "char", &a)) {
        struct span parts[256];
        size_t np = split_commas(a.p, a.n, parts, HP_ARRAY_LEN(parts));
        for (size_t i = 0; i < np; i++) {
            char num[16];
            size_t k = parts[i].n < 15 ? parts[i].n : 15;
            memcpy(num, parts[i].p, k);
            num[k] = '\0';
            char *end;
            unsigned long v = strtoul(num, &end, 10);
            if (end == num || *end)
                return false;
            hp_buf_putc(out, (uint8_t)v);
        }
        return hp_buf_ok(out);
    }
    return false;
}

bool hp_my_literal(const struct hp_my_sess *s, const char *p, size_t n, struct hp_buf *out)
{
    return literal(s, (struct span){ p, n }, out, 0);
}

/* ---- errors worded like the server's -------------------------------------------------------- */

static void err_parse(struct hp_my_sess *s, struct span near)
{
    char t[81];
    size_t k = near.n < 80 ? near.n : 80;
    memcpy(t, near.p, k);
    t[k] = '\0';
    for (size_t i = 0; i < k; i++)
        if (t[i] == '\0')
            t[i] = ' ';
    hp_my_err(s, 1064, "42000",
              "You have an error in your SQL syntax; check the manual that corresponds to your %s server "
              "version for the right syntax to use near '%s' at line 1",
              s->cf->flavor == HP_MY_MARIADB ? "MariaDB" : "MySQL", t);
}

static bool need_db(struct hp_my_sess *s)
{
    if (s->db[0])
        return true;
    hp_my_err(s, 1046, "3D000", "No database selected");
    return false;
}

static void err_no_table(struct hp_my_sess *s, struct span table)
{
    char name[130];
    name_of(table, name, sizeof(name));
    const char *dot = strchr(name, '.');
    if (!dot && !need_db(s))
        return;
    char full[HP_MY_NAME_MAX + 140];
    if (dot)
        snprintf(full, sizeof(full), "%s", name);
    else
        snprintf(full, sizeof(full), "%.*s.%s", HP_MY_NAME_MAX, s->db, name);
    for (char *p = full; *p; p++)       /* `db`.`t` -> db.t */
        if (*p == '`' || *p == '?')
            memmove(p, p + 1, strlen(p));
    hp_my_err(s, 1146, "42S02", "Table '%s' doesn't exist", full);
}

/* ---- databases ------------------------------------------------------------------------ */

static const char *const mq_sysdbs[] = { "information_schema", "mysql", "performance_schema", "sys" };

static bool db_exists(const struct hp_my_sess *s, const char *name)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(mq_sysdbs); i++)
        if (strcasecmp(mq_sysdbs[i], name) == 0)
            return true;
    for (unsigned i = 0; i < s->ndbs; i++)
        if (strcmp(s->dbs[i], name) == 0)
            return true;
    return false;
}

static void st_use(struct hp_my_sess *s, struct span rest)
{
    char name[65];
    name_of(rest, name, sizeof(name));
    if (!name[0]) {
        err_parse(s, rest);
        return;
    }
    if (!db_exists(s, name)) {
        hp_my_err(s, 1049, "42000", "Unknown database '%s'", name);
        return;
    }
    snprintf(s->db, sizeof(s->db), "%s", name);
    hp_my_ok(s, 0, NULL);
}

static void st_create_db(struct hp_my_sess *s, struct span rest)
{
    bool ifnot = eat(&rest, "if") && eat(&rest, "not") && eat(&rest, "exists");
    char name[65];
    name_of(rest, name, sizeof(name));
    if (db_exists(s, name)) {
        if (ifnot) {
            hp_my_ok(s, 0, NULL);
            return;
        }
        hp_my_err(s, 1007, "HY000", "Can't create database '%s'; database exists", name);
        return;
    }
    if (s->ndbs < HP_MY_DBS_MAX && name[0])
        snprintf(s->dbs[s->ndbs++], sizeof(s->dbs[0]), "%s", name);
    hp_my_ok(s, 1, NULL);
}

static void st_drop_db(struct hp_my_sess *s, struct span rest)
{
    bool ifex = eat(&rest, "if") && eat(&rest, "exists");
    char name[65];
    name_of(rest, name, sizeof(name));
    for (unsigned i = 0; i < s->ndbs; i++)
        if (strcmp(s->dbs[i], name) == 0) {
            memmove(s->dbs[i], s->dbs[i + 1], (size_t)(s->ndbs - i - 1) * sizeof(s->dbs[0]));
            s->ndbs--;
            if (strcmp(s->db, name) == 0)
                s->db[0] = '\0';
            hp_my_ok(s, 0, NULL);
            return;
        }
    if (db_exists(s, name) || ifex) {   /* the system schemas "go" too: bots wipe before the ransom note */
        hp_my_ok(s, 0, NULL);
        return;
    }
    hp_my_err(s, 1008, "HY000", "Can't drop database '%s'; database doesn't exist", name);
}

/* ---- SHOW ------------------------------------------------------------------------------ */

/* LIKE 'pattern' after a SHOW; pat empty when absent. */
static void like_pat(struct span rest, char *pat, size_t patlen)
{
    pat[0] = '\0';
    long at = find_kw(rest.p, rest.n, "like", false);
    if (at < 0)
        return;
    struct span p = trim(rest.p + at + 4, rest.n - (size_t)at - 4);
    struct hp_buf b;
    hp_buf_init(&b, patlen - 1);
    if (put_quoted(p, &b) && b.len) {        /* LIKE '' leaves b without a buffer */
        memcpy(pat, b.data, b.len);
        pat[b.len] = '\0';
    }
    hp_buf_free(&b);
}

/* SHOW reads an information_schema table: MariaDB 10.11.19 names it and the
 * column in the definitions (NOT_NULL | NO_DEFAULT_VALUE, decimals 0) and
 * marks the end with SERVER_QUERY_NO_INDEX_USED. */
static void show_result(struct hp_my_sess *s, const char *table, size_t ncols, const char *const *names,
                        const char *const *org, const uint32_t *chars, size_t nrows, const char *const *cells)
{
    struct hp_my_col cols[2];
    for (size_t i = 0; i < ncols && i < 2; i++)
        cols[i] = (struct hp_my_col){ 0, MY_FLAG_NOT_NULL | MY_FLAG_NO_DEFAULT, chars[i], table, org[i] };
    s->no_index = s->cf->flavor == HP_MY_MARIADB;
    hp_my_resultset_cols(s, ncols, names, cols, nrows, cells);
    s->no_index_cols_only = false;
}

static void show_list(struct hp_my_sess *s, const char *col, const char *const *items, size_t n,
                      const char *pat, const char *table, const char *org, uint32_t chars)
{
    const char *rows[HP_MY_DBS_MAX + 64];
    size_t k = 0;
    for (size_t i = 0; i < n && k < HP_ARRAY_LEN(rows); i++)
        if (!pat[0] || like(items[i], pat))
            rows[k++] = items[i];
    const char *names[1] = { col }, *orgs[1] = { org };
    show_result(s, table, 1, names, orgs, &chars, k, rows);
}

static const char *const mq_var_org[2] = { "VARIABLE_NAME", "VARIABLE_VALUE" };
static const uint32_t mq_var_chars[2] = { 64, 4096 };

static void show_databases(struct hp_my_sess *s, struct span rest)
{
    char pat[128];
    like_pat(rest, pat, sizeof(pat));
    const char *items[HP_ARRAY_LEN(mq_sysdbs) + HP_MY_DBS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < HP_ARRAY_LEN(mq_sysdbs); i++)
        items[n++] = mq_sysdbs[i];
    for (unsigned i = 0; i < s->ndbs; i++)
        items[n++] = s->dbs[i];
    char col[140];
    snprintf(col, sizeof(col), pat[0] ? "Database (%s)" : "Database", pat);
    show_list(s, col, items, n, pat, "SCHEMATA", "SCHEMA_NAME", 64);
}

static void show_tables(struct hp_my_sess *s, struct span rest)
{
    static const char *const mysql_tables[] = { "columns_priv", "db", "func", "general_log", "help_topic",
                                                "plugin", "proc", "procs_priv", "slow_log", "tables_priv",
                                                "time_zone", "user" };
    static const char *const maria_tables[] = {     /* SHOW TABLES FROM mysql, MariaDB 10.11.19 */
        "column_stats", "columns_priv", "db", "event", "func", "general_log", "global_priv", "gtid_slave_pos",
        "help_category", "help_keyword", "help_relation", "help_topic", "index_stats", "innodb_index_stats",
        "innodb_table_stats", "plugin", "proc", "procs_priv", "proxies_priv", "roles_mapping", "servers",
        "slow_log", "table_stats", "tables_priv", "time_zone", "time_zone_leap_second", "time_zone_name",
        "time_zone_transition", "time_zone_transition_type", "transaction_registry", "user" };
    bool maria = s->cf->flavor == HP_MY_MARIADB;
    char db[65];
    long from = find_kw(rest.p, rest.n, "from", false);
    if (from < 0)
        from = find_kw(rest.p, rest.n, "in", false);
    if (from >= 0) {
        struct span d = trim(rest.p + from, rest.n - (size_t)from);
        if (!eat(&d, "from"))
            eat(&d, "in");
        name_of(d, db, sizeof(db));
    } else {
        if (!need_db(s))
            return;
        snprintf(db, sizeof(db), "%.64s", s->db);
    }
    if (!db_exists(s, db)) {
        hp_my_err(s, 1049, "42000", "Unknown database '%s'", db);
        return;
    }
    char pat[128], col[200];
    like_pat(rest, pat, sizeof(pat));
    snprintf(col, sizeof(col), "Tables_in_%s", db);
    bool m = strcasecmp(db, "mysql") == 0;
    size_t nt = maria ? HP_ARRAY_LEN(maria_tables) : HP_ARRAY_LEN(mysql_tables);
    show_list(s, col, maria ? maria_tables : mysql_tables, m ? nt : 0, pat, "TABLE_NAMES", "TABLE_NAME", 73);
}

static void show_variables(struct hp_my_sess *s, struct span rest)
{
    char pat[128], tmp[64];
    like_pat(rest, pat, sizeof(pat));
    const char *cells[2 * HP_ARRAY_LEN(mq_vars)];
    char ports[8];
    size_t k = 0;
    for (size_t i = 0; i < HP_ARRAY_LEN(mq_vars); i++) {
        const char *v = hp_my_variable(s, mq_vars[i].name, tmp, sizeof(tmp));
        if (!v || (pat[0] && !like(mq_vars[i].name, pat)))
            continue;
        if (v == tmp) {                 /* only "port" is formatted into tmp */
            memcpy(ports, tmp, sizeof(ports) - 1);
            ports[sizeof(ports) - 1] = '\0';
            v = ports;
        }
        cells[2 * k] = mq_vars[i].name;
        cells[2 * k + 1] = v;
        k++;
    }
    const char *names[2] = { "Variable_name", "Value" };
    /* MariaDB 10.11.19 names SESSION_VARIABLES for SHOW GLOBAL VARIABLES too */
    show_result(s, "SESSION_VARIABLES", 2, names, mq_var_org, mq_var_chars, k, cells);
}

static void show_status(struct hp_my_sess *s, struct span rest)
{
    char pat[128], up[24], q[24], th[8];
    like_pat(rest, pat, sizeof(pat));
    uint64_t uptime = 1000000 + (uint64_t)(hp_now_us() / 1000000 % 1000000);
    snprintf(up, sizeof(up), "%llu", (unsigned long long)uptime);
    snprintf(q, sizeof(q), "%llu", (unsigned long long)(uptime / 5 + s->queries));
    snprintf(th, sizeof(th), "%u", 2u);
    const char *all[] = { "Aborted_clients", "3", "Aborted_connects", "41", "Connections", "1832",
                          "Queries", q, "Threads_connected", th, "Threads_running", "1", "Uptime", up };
    const char *cells[HP_ARRAY_LEN(all)];
    size_t k = 0;
    for (size_t i = 0; i < HP_ARRAY_LEN(all); i += 2)
        if (!pat[0] || like(all[i], pat)) {
            cells[2 * k] = all[i];
            cells[2 * k + 1] = all[i + 1];
            k++;
        }
    const char *names[2] = { "Variable_name", "Value" };
    /* MariaDB 10.11.19 names SESSION_STATUS for GLOBAL too; the status after the rows lost NO_INDEX_USED */
    s->no_index_cols_only = true;
    show_result(s, "SESSION_STATUS", 2, names, mq_var_org, mq_var_chars, k, cells);
}

/* MariaDB adds a Progress column; Info is the statement as it came (mysqld
 * keeps the client's case), at most 100 characters as SHOW PROCESSLIST cuts it. */
void hp_my_processlist(struct hp_my_sess *s, const char *cmd, const char *info, size_t infolen)
{
    char id[16], host[80], text[101];
    snprintf(id, sizeof(id), "%u", s->conn_id);
    snprintf(host, sizeof(host), "%s:%u", s->ctx->src_ip, s->ctx->src_port);
    if (info)
        snprintf(text, sizeof(text), "%.*s", (int)(infolen < 100 ? infolen : 100), info);
    const char *names[9] = { "Id", "User", "Host", "db", "Command", "Time", "State", "Info", "Progress" };
    const char *cells[9] = { id, s->user, host, s->db[0] ? s->db : NULL, cmd, "0", "starting",
                             info ? text : NULL, "0.000" };
    hp_my_resultset(s, s->cf->flavor == HP_MY_MARIADB ? 9 : 8, names, 1, cells);
}

static void st_show(struct hp_my_sess *s, struct span q, struct span rest)
{
    struct span r = rest;
    eat(&r, "full");
    if (!eat(&r, "global"))
        eat(&r, "session");
    if (eat(&r, "databases") || eat(&r, "schemas")) {
        show_databases(s, r);
    } else if (eat(&r, "tables")) {
        show_tables(s, r);
    } else if (eat(&r, "variables")) {
        show_variables(s, r);
    } else if (eat(&r, "status")) {
        show_status(s, r);
    } else if (eat(&r, "grants")) {
        char col[300], row[400], pw[80] = "";
        snprintf(col, sizeof(col), "Grants for %s@%%", s->user);
        if (s->cf->flavor == HP_MY_MARIADB) {      /* MariaDB 10.11.19: backticks, the password's hash */
            if (s->pw_hash[0])
                snprintf(pw, sizeof(pw), " IDENTIFIED BY PASSWORD '%s'", s->pw_hash);
            snprintf(row, sizeof(row), "GRANT ALL PRIVILEGES ON *.* TO `%s`@`%%`%s WITH GRANT OPTION", s->user, pw);
        } else {
            snprintf(row, sizeof(row), "GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%' WITH GRANT OPTION", s->user);
        }
        const char *names[1] = { col }, *cells[1] = { row };
        hp_my_resultset(s, 1, names, 1, cells);
    } else if (eat(&r, "processlist")) {
        hp_my_processlist(s, "Query", q.p, q.n);
    } else if (eat(&r, "warnings") || eat(&r, "errors")) {
        const char *names[3] = { "Level", "Code", "Message" };
        hp_my_resultset(s, 3, names, 0, NULL);
    } else if (eat(&r, "engines")) {
        const char *names[6] = { "Engine", "Support", "Comment", "Transactions", "XA", "Savepoints" };
        const char *cells[6] = { "InnoDB", "DEFAULT", "Supports transactions, row-level locking, and foreign keys",
                                 "YES", "YES", "YES" };
        hp_my_resultset(s, 6, names, 1, cells);
    } else if (eat(&r, "create") || eat(&r, "columns") || eat(&r, "fields") || eat(&r, "index") ||
               eat(&r, "keys")) {
        eat(&r, "table");
        eat(&r, "from");
        err_no_table(s, r);
    } else if (eat(&r, "master") || eat(&r, "slave") || eat(&r, "replica") || eat(&r, "binary") ||
               eat(&r, "plugins") || eat(&r, "triggers") || eat(&r, "events") || eat(&r, "procedure") ||
               eat(&r, "function")) {
        const char *names[1] = { "Name" };
        hp_my_resultset(s, 1, names, 0, NULL);
    } else {
        err_parse(s, rest.n ? rest : q);
    }
}

/* ---- SELECT ------------------------------------------------------------------------------ */

static bool is_ident(struct span e)
{
    if (!e.n)
        return false;
    for (size_t i = 0; i < e.n; i++)
        if (!(isalnum((unsigned char)e.p[i]) || e.p[i] == '_' || e.p[i] == '$' || e.p[i] == '.'))
            return false;
    return !isdigit((unsigned char)e.p[0]);
}

static bool is_number(struct span e)
{
    size_t i = (e.n && (e.p[0] == '-' || e.p[0] == '+')) ? 1 : 0;
    if (i == e.n)
        return false;
    for (; i < e.n; i++)
        if (!isdigit((unsigned char)e.p[i]) && e.p[i] != '.')
            return false;
    return true;
}

/* The UDF a call names (its index), or -1. */
static int udf_of(const struct hp_my_sess *s, struct span e)
{
    for (unsigned i = 0; i < s->nudfs; i++) {
        size_t k = strlen(s->udfs[i]);
        if (e.n > k && strncasecmp(e.p, s->udfs[i], k) == 0 && (e.p[k] == '(' || e.p[k] == ' '))
            return (int)i;
    }
    return -1;
}

/*
 * A call of a UDF the session created: lib_mysqludf_sys's sys_eval('cmd')
 * returns what cmd prints, sys_exec('cmd') its exit status (and the other
 * droppers' cmdshell / shell / do_system the same by their RETURNS type).
 * The server would run cmd as user mysql through /bin/sh; here it goes
 * through the emulated shell (shell.h hp_shell_oneshot: never run, no
 * downloads - the statement's URLs already went to the capture pipeline).
 * An argument that is not a literal the look-alike can evaluate, a real
 * return type or the one-shot rate passed gives NULL, as before.
 */
static bool udf_call(struct hp_my_sess *s, struct span e, int u, struct hp_buf *v, bool *null, struct hp_my_col *col)
{
    const char *open = memchr(e.p, '(', e.n);
    *null = true;
    if (!open || e.p[e.n - 1] != ')' || s->udf_ret[u] == 'r')
        return true;
    struct hp_buf arg;
    hp_buf_init(&arg, 4096);
    bool ok = literal(s, (struct span){ open + 1, (size_t)(e.p + e.n - 1 - (open + 1)) }, &arg, 0) &&
              hp_shell_oneshot_allowed();
    if (ok) {
        struct hp_shell_oneshot o = { .user = "mysql", .cwd = "/var/lib/mysql",
                                      .daemon = s->cf->flavor == HP_MY_MARIADB ? "/usr/sbin/mariadbd" : "/usr/sbin/mysqld" };
        struct hp_buf out;
        hp_buf_init(&out, HP_SHELL_ONESHOT_OUT);
        int st = hp_shell_oneshot(&o, (const char *)arg.data, arg.len, &out);
        *null = false;
        if (s->udf_ret[u] == 'i') {
            hp_buf_printf(v, "%d", st);
            *col = (struct hp_my_col){ MY_TYPE_LONGLONG, MY_FLAG_BINARY, 21 };
        } else {
            hp_buf_put(v, out.data, out.len);
            *col = (struct hp_my_col){ MY_TYPE_VAR_STRING, 0, 255 };
        }
        hp_buf_free(&out);
    }
    hp_buf_free(&arg);
    return true;
}

/* A system variable's column as MariaDB 10.11.19 selects it: numbers are
 * BIGINT UNSIGNED 21 wide, ON/OFF switches 1/0 (SHOW VARIABLES keeps ON/OFF),
 * the rest text as wide as the value. */
static void mq_sysvar_col(const struct hp_my_sess *s, const char **val, struct hp_my_col *col)
{
    if (s->cf->flavor != HP_MY_MARIADB)
        return;
    const char *v = *val;
    if (strcmp(v, "ON") == 0 || strcmp(v, "OFF") == 0) {
        *val = v[1] == 'N' ? "1" : "0";
        *col = (struct hp_my_col){ MY_TYPE_LONGLONG, MY_FLAG_BINARY, 1 };
        return;
    }
    size_t i = 0;
    while (isdigit((unsigned char)v[i]))
        i++;
    if (i && !v[i])
        *col = (struct hp_my_col){ MY_TYPE_LONGLONG, MY_FLAG_UNSIGNED | MY_FLAG_BINARY, 21 };
}

/* Value of one select expression into v (a C string; *null for SQL NULL).
 * Returns false after sending an error. */
static bool eval(struct hp_my_sess *s, struct span e, struct hp_buf *v, bool *null, struct hp_my_col *col)
{
    char low[96], tmp[64];
    size_t k = 0;
    *null = false;
    for (size_t i = 0; i < e.n && k < sizeof(low) - 1; i++)
        if (e.p[i] != ' ')
            low[k++] = (char)tolower((unsigned char)e.p[i]);
    low[k] = '\0';
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    if (strcmp(low, "version()") == 0) {
        hp_buf_puts(v, mq_version(s));
        col->flags = MY_FLAG_NOT_NULL;
    } else if (strncmp(low, "@@", 2) == 0) {
        const char *val = hp_my_variable(s, low + 2, tmp, sizeof(tmp));
        if (!val) {
            hp_my_err(s, 1193, "HY000", "Unknown system variable '%s'", low + 2);
            return false;
        }
        /* MariaDB 10.11.19 selects an unset secure_file_priv as NULL (SHOW VARIABLES: '') */
        const char *bare = strrchr(low, '.') ? strrchr(low, '.') + 1 : low + 2;
        *null = s->cf->flavor == HP_MY_MARIADB && !*val && strcmp(bare, "secure_file_priv") == 0;
        mq_sysvar_col(s, &val, col);
        hp_buf_puts(v, val);
    } else if (!strcmp(low, "user()") || !strcmp(low, "session_user()") || !strcmp(low, "system_user()")) {
        hp_buf_printf(v, "%s@%s", s->user, s->ctx->src_ip);
        col->chars = 384;               /* USERNAME_CHAR_LENGTH + HOSTNAME_LENGTH + 1 */
    } else if (!strcmp(low, "current_user()") || !strcmp(low, "current_user")) {
        hp_buf_printf(v, "%s@%%", s->user);
        col->chars = 384;
    } else if (!strcmp(low, "database()") || !strcmp(low, "schema()")) {
        *null = !s->db[0];
        hp_buf_puts(v, s->db);
        col->chars = 64;
    } else if (!strcmp(low, "connection_id()")) {
        hp_buf_printf(v, "%u", s->conn_id);
        *col = (struct hp_my_col){ MY_TYPE_LONG, MY_FLAG_NOT_NULL | MY_FLAG_UNSIGNED | MY_FLAG_BINARY, 10 };
    } else if (!strcmp(low, "now()") || !strcmp(low, "sysdate()") || !strncmp(low, "current_timestamp", 17) ||
               !strcmp(low, "localtime()") || !strcmp(low, "utc_timestamp()")) {
        hp_buf_printf(v, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                      tm.tm_hour, tm.tm_min, tm.tm_sec);
        *col = (struct hp_my_col){ MY_TYPE_DATETIME, MY_FLAG_NOT_NULL | MY_FLAG_BINARY, 19 };
    } else if (!strcmp(low, "curdate()") || !strncmp(low, "current_date", 12)) {
        hp_buf_printf(v, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        *col = (struct hp_my_col){ MY_TYPE_DATE, MY_FLAG_NOT_NULL | MY_FLAG_BINARY, 10 };
    } else if (!strcmp(low, "uuid()")) {
        char h[33];
        hp_random_hex(h, 32);
        hp_buf_printf(v, "%.8s-%.4s-11ef-%.4s-%.12s", h, h + 8, h + 16, h + 20);
    } else if (!strcmp(low, "rand()")) {
        hp_buf_printf(v, "0.%015llu", (unsigned long long)(hp_random_u64() % 1000000000000000ull));
    } else if (!strcmp(low, "last_insert_id()") || !strcmp(low, "found_rows()") || !strncmp(low, "sleep(", 6) ||
               !strncmp(low, "benchmark(", 10)) {
        hp_buf_puts(v, "0");
    } else if (!strcmp(low, "row_count()")) {
        hp_buf_puts(v, "-1");
    } else if (!strcmp(low, "null")) {
        *null = true;
        *col = (struct hp_my_col){ MY_TYPE_NULL, MY_FLAG_BINARY, 0 };
    } else if (udf_of(s, e) >= 0) {
        udf_call(s, e, udf_of(s, e), v, null, col);
    } else if (!strncmp(low, "load_file(", 10)) {
        *null = true;                   /* load_file: secure_file_priv / no such file */
        if (low[0] == 'l')
            *col = (struct hp_my_col){ MY_TYPE_LONG_BLOB, MY_FLAG_BINARY, 1u << 24 };
    } else if (is_number(e)) {
        hp_buf_put(v, e.p, e.n);
        if (!memchr(e.p, '.', e.n) && e.n <= 20)    /* integers: INT up to 9 characters, then BIGINT */
            *col = (struct hp_my_col){ e.n <= 9 ? MY_TYPE_LONG : MY_TYPE_LONGLONG,
                                       MY_FLAG_NOT_NULL | MY_FLAG_BINARY, (uint32_t)e.n };
    } else if (e.n && (e.p[0] == '\'' || e.p[0] == '"' || e.p[0] == '@' || e.p[0] == '0' ||
                       iskw(e.p, e.n, "concat") || iskw(e.p, e.n, "unhex") || iskw(e.p, e.n, "char") ||
                       iskw(e.p, e.n, "from_base64") || iskw(e.p, e.n, "x"))) {
        if (!literal(s, e, v, 0))
            *null = true;
        else if (e.p[0] == '\'' || e.p[0] == '"')
            col->flags = MY_FLAG_NOT_NULL;      /* a string literal */
    } else if (is_ident(e)) {
        if (s->cf->flavor == HP_MY_MARIADB)    /* 10.11.19: the name as typed, cut at 192, in 'SELECT' */
            hp_my_err(s, 1054, "42S22", "Unknown column '%.*s' in 'SELECT'", (int)(e.n < 192 ? e.n : 192), e.p);
        else
            hp_my_err(s, 1054, "42S22", "Unknown column '%.64s' in 'field list'", low);
        return false;
    } else {
        const char *paren = memchr(e.p, '(', e.n);
        if (paren && is_ident((struct span){ e.p, (size_t)(paren - e.p) })) {
            if (!need_db(s))
                return false;
            hp_my_err(s, 1305, "42000", "FUNCTION %s.%.*s does not exist", s->db, (int)(paren - e.p), e.p);
            return false;
        }
        hp_buf_put(v, e.p, e.n);        /* arithmetic and the like: echoed */
    }
    return true;
}

/* Top-level tokens of an expression (split at spaces outside quotes and
 * parentheses); returns how many, at most max. */
static size_t expr_tokens(struct span e, struct span *tok, size_t max)
{
    size_t k = 0, start = 0;
    int depth = 0;
    for (size_t i = 0; i <= e.n && k < max; i++) {
        if (i == e.n || (e.p[i] == ' ' && depth == 0)) {
            if (i > start)
                tok[k++] = (struct span){ e.p + start, i - start };
            start = i + 1;
            continue;
        }
        char c = e.p[i];
        if (c == '\'' || c == '"' || c == '`') {
            for (i++; i < e.n && e.p[i] != c; i++)
                if (e.p[i] == '\\' && c != '`')
                    i++;
            if (i >= e.n)
                i = e.n - 1;
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            depth--;
        }
    }
    return k;
}

/* Words that make a run of tokens an expression, not "operand alias". */
static const char *const mq_expr_words[] = {
    "all", "and", "as", "between", "binary", "case", "collate", "distinct", "distinctrow", "div", "else",
    "end", "escape", "exists", "false", "from", "high_priority", "in", "interval", "is", "like", "member",
    "mod", "not", "null", "or", "over", "regexp", "rlike", "sounds", "straight_join", "then", "true",
    "unknown", "when", "xor",
};

/* An operand on its own: a name, number, literal, call, variable or star,
 * no operator outside its quotes and parentheses, not a keyword. */
static bool simple_token(struct span t)
{
    char c = t.p[0];
    if (!(isalnum((unsigned char)c) || c == '_' || c == '$' || c == '@' || c == '\'' || c == '"' || c == '`' ||
          (t.n == 1 && c == '*')))
        return false;
    if (strncasecmp(t.p, "sql_", 4) == 0)
        return false;
    for (size_t i = 0; i < HP_ARRAY_LEN(mq_expr_words); i++)
        if (t.n == strlen(mq_expr_words[i]) && strncasecmp(t.p, mq_expr_words[i], t.n) == 0)
            return false;
    int depth = 0;
    for (size_t i = 0; i < t.n; i++) {
        char d = t.p[i];
        if (d == '\'' || d == '"' || d == '`') {
            for (i++; i < t.n && t.p[i] != d; i++)
                if (t.p[i] == '\\' && d != '`')
                    i++;
        } else if (d == '(') {
            depth++;
        } else if (d == ')') {
            depth--;
        } else if (depth == 0 && strchr("+-/=<>!%&|^~:", d) && !(i == 0 && c == '@')) {
            return false;
        }
    }
    return true;
}

/* "expr alias" without AS, and what the grammar refuses: a star with an
 * alias ("select * frm users": near 'frm users'), a number as an alias, a
 * third operand ("select 1 frm users": near 'users').  Only runs of plain
 * operands are judged; anything with an operator or keyword is left alone.
 * Returns where a syntax error starts (NULL: none) and sets *e and alias. */
static const char *implicit_alias(struct span *e, char *alias, size_t alen)
{
    struct span tok[4];
    size_t n = expr_tokens(*e, tok, 4);
    if (n < 2)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!simple_token(tok[i]))
            return NULL;
    bool star = tok[0].p[tok[0].n - 1] == '*';
    char c = tok[1].p[0];
    if (star || isdigit((unsigned char)c) || c == '@')
        return tok[1].p;
    if (n > 2)
        return tok[2].p;
    name_of(tok[1], alias, alen);
    *e = tok[0];
    return NULL;
}

/* The column header of an expression: its alias, else its text.  *bad:
 * where a syntax error starts, NULL if none. */
static struct span split_alias(struct span e, char *alias, size_t alen, const char **bad)
{
    alias[0] = '\0';
    *bad = NULL;
    long as = find_kw(e.p, e.n, "as", true);
    if (as > 0) {
        struct span a = trim(e.p + as + 2, e.n - (size_t)as - 2), tok[2];
        if (expr_tokens(a, tok, 2) > 1)
            *bad = tok[1].p;            /* "select 1 as a b": near 'b' */
        name_of(a, alias, alen);
        return trim(e.p, (size_t)as);
    }
    *bad = implicit_alias(&e, alias, alen);
    return e;
}

static void st_select_exprs(struct hp_my_sess *s, struct span q, struct span list)
{
    struct span ex[MQ_MAX_COLS];
    size_t n = split_commas(list.p, list.n, ex, MQ_MAX_COLS);
    struct hp_buf vals[MQ_MAX_COLS];
    static char names[MQ_MAX_COLS][256];    /* network thread only */
    const char *nptr[MQ_MAX_COLS];
    const char *cells[MQ_MAX_COLS];
    struct hp_my_col cols[MQ_MAX_COLS];
    bool ok = true;
    size_t done = 0;
    memset(cols, 0, sizeof(cols));
    for (size_t i = 0; i < n; i++) {            /* the parser refuses the statement before anything runs */
        char alias[128];
        const char *bad;
        split_alias(ex[i], alias, sizeof(alias), &bad);
        if (i && ex[i].n && ex[i].p[0] == '*')
            bad = ex[i].p;              /* a bare star only leads the list */
        if (bad) {
            err_parse(s, (struct span){ bad, (size_t)(q.p + q.n - bad) });
            return;
        }
    }
    for (size_t i = 0; i < n; i++, done++) {
        char alias[128];
        const char *bad;
        struct span e = split_alias(ex[i], alias, sizeof(alias), &bad);
        hp_buf_init(&vals[i], 1 << 20);
        bool null;
        if (!eval(s, e, &vals[i], &null, &cols[i])) {
            hp_buf_free(&vals[i]);
            ok = false;
            break;
        }
        const char *nm = alias[0] ? alias : e.p;
        size_t nl = alias[0] ? strlen(alias) : e.n;
        if (!alias[0] && !null && e.n && (e.p[0] == '\'' || e.p[0] == '"')) {
            nm = hp_buf_cstr(&vals[i]);         /* a string literal is headed by its value, not its quotes */
            nl = strlen(nm);
        } else if (!alias[0] && cols[i].type == MY_TYPE_NULL) {
            nm = "NULL";                        /* as the item prints itself, whatever the case typed */
            nl = 4;
        }
        nl = nl < 255 ? nl : 255;
        memcpy(names[i], nm, nl);
        names[i][nl] = '\0';
        nptr[i] = names[i];
        cells[i] = null ? NULL : hp_buf_cstr(&vals[i]);
    }
    if (ok && n)
        hp_my_resultset_cols(s, n, nptr, cols, 1, cells);
    for (size_t i = 0; i < done; i++)
        hp_buf_free(&vals[i]);
}

static void ev_file_write(struct hp_my_sess *s, const char *mode, const char *path, const char *source,
                          const struct hp_buf *data, bool decoded, bool stored, const char *sha)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "mysql.file_write");
    hp_ev_str(&ev, "path", path);
    hp_ev_str(&ev, "mode", mode);
    hp_ev_str(&ev, "source", source);
    hp_ev_bool(&ev, "decoded", decoded);
    if (decoded) {
        hp_ev_uint(&ev, "size", data->len);
        if (sha)
            hp_ev_str(&ev, "sha256", sha);
        if (!stored)
            hp_ev_bool(&ev, "not_stored", true);
    }
    hp_ev_emit(&ev);
}

/* SELECT <expr> [FROM t] INTO DUMPFILE|OUTFILE '<path>': keep the bytes. */
static void st_into_file(struct hp_my_sess *s, struct span sel, long into)
{
    struct span tail = trim(sel.p + into, sel.n - (size_t)into);
    eat(&tail, "into");
    bool dump = eat(&tail, "dumpfile");
    if (!dump)
        eat(&tail, "outfile");
    struct hp_buf pathb, data;
    hp_buf_init(&pathb, 1024);
    hp_buf_init(&data, s->cf->max_packet);
    long q = -1;
    for (size_t i = 0; i < tail.n; i++)
        if (tail.p[i] == '\'' || tail.p[i] == '"') {
            q = (long)i;
            break;
        }
    if (q >= 0) {                       /* the quoted path: up to its closing quote */
        const char *e = memchr(tail.p + q + 1, tail.p[q], tail.n - (size_t)q - 1);
        size_t len = e ? (size_t)(e - tail.p) - (size_t)q + 1 : tail.n - (size_t)q;
        put_quoted((struct span){ tail.p + q, len }, &pathb);
    }
    const char *path = hp_buf_cstr(&pathb);
    struct span what = trim(sel.p, (size_t)into);
    long from = find_kw(what.p, what.n, "from", false);
    const char *source = "literal";
    bool decoded;
    if (from >= 0) {
        source = "table";
        decoded = s->last_blob.len > 0 && hp_buf_put(&data, s->last_blob.data, s->last_blob.len);
    } else {
        if (what.n && what.p[0] == '@')
            source = "variable";
        decoded = literal(s, what, &data, 0);
    }
    if (decoded && !dump)
        hp_buf_putc(&data, '\n');       /* OUTFILE ends each row with a newline */
    char sha[HP_SHA256_HEX_LEN + 1] = "";
    /* The bytes come from variables, not from this statement: a batch of
     * 64 "SELECT concat(@a,'n') INTO DUMPFILE" wrote 64 x max_packet of new
     * payloads per packet.  Past the session's budget: reported, not stored. */
    uint64_t budget = HP_MY_DUMP_FILES * s->cf->max_packet;
    bool store = decoded && s->dumped <= budget && data.len <= budget - s->dumped;
    if (store) {
        s->dumped += data.len;
        struct hp_upload_info u = { .data_dir = s->cf->data_dir, .filename = path, .filename_len = pathb.len,
                                    .detail = "mysql", .size = data.len };
        hp_upload_record(s->ctx, &u, data.data, data.len, sha);
    }
    ev_file_write(s, dump ? "dumpfile" : "outfile", path, source, &data, decoded, store, sha[0] ? sha : NULL);
    hp_my_ok(s, 1, NULL);
    hp_buf_free(&pathb);
    hp_buf_free(&data);
}

static void st_select(struct hp_my_sess *s, struct span q, struct span rest)
{
    long into = find_kw(rest.p, rest.n, "into", true);
    if (into >= 0) {
        struct span t = trim(rest.p + into + 4, rest.n - (size_t)into - 4);
        if (iskw(t.p, t.n, "dumpfile") || iskw(t.p, t.n, "outfile")) {
            st_into_file(s, rest, into);
            return;
        }
    }
    long lim = find_kw(rest.p, rest.n, "limit", true);
    if (lim >= 0)
        rest = trim(rest.p, (size_t)lim);
    long from = find_kw(rest.p, rest.n, "from", false);
    if (from >= 0) {
        struct span t = trim(rest.p + from + 4, rest.n - (size_t)from - 4);
        if ((t.n > 6 && strncasecmp(t.p, "mysql.", 6) == 0) ||
            (t.n > 19 && strncasecmp(t.p, "information_schema.", 19) == 0) ||
            (t.n > 19 && strncasecmp(t.p, "performance_schema.", 19) == 0)) {
            struct span ex[MQ_MAX_COLS];        /* system tables exist: an empty answer */
            size_t n = split_commas(rest.p, (size_t)from, ex, MQ_MAX_COLS);
            static char names[MQ_MAX_COLS][256];
            const char *nptr[MQ_MAX_COLS];
            for (size_t i = 0; i < n; i++) {
                char alias[128];
                const char *bad;
                struct span e = split_alias(ex[i], alias, sizeof(alias), &bad);
                snprintf(names[i], sizeof(names[i]), "%.*s", alias[0] ? (int)strlen(alias) : (int)e.n,
                         alias[0] ? alias : e.p);
                nptr[i] = names[i];
            }
            hp_my_resultset(s, n, nptr, 0, NULL);
            return;
        }
        if (!iskw(t.p, t.n, "dual")) {
            err_no_table(s, t);
            return;
        }
        rest = trim(rest.p, (size_t)from);
    }
    if (!rest.n) {
        err_parse(s, q);
        return;
    }
    st_select_exprs(s, q, rest);
}

/* ---- statements that change things ---------------------------------------------------------- */

/* CREATE [AGGREGATE] FUNCTION [IF NOT EXISTS] name RETURNS type SONAME 'lib' */
static void st_create_function(struct hp_my_sess *s, struct span q, struct span rest)
{
    if (eat(&rest, "if") && eat(&rest, "not"))
        eat(&rest, "exists");
    char name[65], ret[32] = "", lib[256] = "";
    name_of(rest, name, sizeof(name));
    long r = find_kw(rest.p, rest.n, "returns", false);
    long so = find_kw(rest.p, rest.n, "soname", false);
    if (!name[0] || r < 0 || so < 0) {
        err_parse(s, q);
        return;
    }
    name_of((struct span){ rest.p + r + 7, rest.n - (size_t)r - 7 }, ret, sizeof(ret));
    struct hp_buf b;
    hp_buf_init(&b, sizeof(lib) - 1);
    struct span l = trim(rest.p + so + 6, rest.n - (size_t)so - 6);
    if (!put_quoted(l, &b))
        name_of(l, lib, sizeof(lib));
    else
        snprintf(lib, sizeof(lib), "%s", hp_buf_cstr(&b));
    hp_buf_free(&b);
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "mysql.udf");
    hp_ev_str(&ev, "function", name);
    hp_ev_str(&ev, "returns", ret);
    hp_ev_str(&ev, "library", lib);
    hp_ev_emit(&ev);
    if (s->nudfs < HP_MY_DBS_MAX) {
        s->udf_ret[s->nudfs] = !strncasecmp(ret, "int", 3) ? 'i' : !strncasecmp(ret, "real", 4) ||
                               !strncasecmp(ret, "decimal", 7) ? 'r' : 's';
        snprintf(s->udfs[s->nudfs++], sizeof(s->udfs[0]), "%s", name);
    }
    hp_my_ok(s, 0, NULL);
}

/* Bytes the user variables and the INSERTed blob hold, but's own excepted.
 * Together they stay within max_packet: each one alone is capped there,
 * but a concat() of a variable with itself reaches that cap in a few short
 * statements, and nine buffers at the cap per connection is what a handful
 * of connections could make the sensor hold. */
static size_t held_besides(const struct hp_my_sess *s, const struct hp_buf *but)
{
    size_t n = &s->last_blob == but ? 0 : s->last_blob.len;
    for (size_t i = 0; i < HP_MY_VARS_MAX; i++)
        if (&s->vars[i].val != but)
            n += s->vars[i].val.len;
    return n;
}

static bool fits_budget(const struct hp_my_sess *s, const struct hp_buf *dst, size_t len)
{
    size_t others = held_besides(s, dst);
    return others <= s->cf->max_packet && len <= s->cf->max_packet - others;
}

/* SET @name = literal [, ...]: remembered for INTO DUMPFILE; any SET is OK. */
static void st_set(struct hp_my_sess *s, struct span rest)
{
    struct span parts[16];
    size_t n = split_commas(rest.p, rest.n, parts, HP_ARRAY_LEN(parts));
    for (size_t i = 0; i < n; i++) {
        struct span a = parts[i];
        if (!a.n || a.p[0] != '@' || (a.n > 1 && a.p[1] == '@'))
            continue;
        const char *eq = memchr(a.p, '=', a.n);
        if (!eq)
            continue;
        struct span nm = trim(a.p + 1, (size_t)(eq - a.p) - 1);
        if (nm.n && nm.p[nm.n - 1] == ':')
            nm.n--;
        if (!nm.n || nm.n >= sizeof(s->vars[0].name))
            continue;
        struct hp_my_var *v = (struct hp_my_var *)find_var(s, nm);
        for (size_t j = 0; !v && j < HP_MY_VARS_MAX; j++)
            if (!s->vars[j].name[0])
                v = &s->vars[j];
        if (!v)
            v = &s->vars[HP_MY_VARS_MAX - 1];
        struct hp_buf t;
        hp_buf_init(&t, s->cf->max_packet);
        if (literal(s, (struct span){ eq + 1, (size_t)(a.p + a.n - eq - 1) }, &t, 0) &&
            fits_budget(s, &v->val, t.len)) {
            memcpy(v->name, nm.p, nm.n);
            v->name[nm.n] = '\0';
            hp_buf_reset(&v->val);
            hp_buf_put(&v->val, t.data, t.len);
        }
        hp_buf_free(&t);
    }
    hp_my_ok(s, 0, NULL);
}

/* INSERT ... VALUES (literal, ...): the first decodable value is kept for a
 * later SELECT ... FROM t INTO DUMPFILE (the classic UDF dropper). */
static void st_insert(struct hp_my_sess *s, struct span rest)
{
    long v = find_kw(rest.p, rest.n, "values", false);
    if (v < 0)
        v = find_kw(rest.p, rest.n, "value", false);
    uint64_t rows = 1;
    if (v >= 0) {
        struct span t = trim(rest.p + v, rest.n - (size_t)v);
        if (!eat(&t, "values"))
            eat(&t, "value");
        if (t.n > 2 && t.p[0] == '(') {
            const char *close = t.p + t.n - 1;
            while (close > t.p && *close != ')')
                close--;
            struct span vals[8];
            size_t n = split_commas(t.p + 1, (size_t)(close - t.p) - (close > t.p ? 1 : 0), vals, 8);
            for (size_t i = 0; i < n; i++) {
                struct hp_buf tmp;
                hp_buf_init(&tmp, s->cf->max_packet);
                if (literal(s, vals[i], &tmp, 0) && tmp.len >= 16 && fits_budget(s, &s->last_blob, tmp.len)) {
                    hp_buf_reset(&s->last_blob);
                    hp_buf_put(&s->last_blob, tmp.data, tmp.len);
                    hp_buf_free(&tmp);
                    break;
                }
                hp_buf_free(&tmp);
            }
        }
    }
    hp_my_ok(s, rows, NULL);
}

/* ---- KILL ------------------------------------------------------------------------------------ */

/* KILL [HARD|SOFT] [CONNECTION|QUERY [ID]] n and COM_PROCESS_KILL: no other
 * thread is ours to kill.  MariaDB 10.11.19: "Unknown thread id: n" (1094);
 * its own id ends the connection with 1927 (KILL QUERY: 1317, kept open).
 * MySQL says 1094 too; its own id is left as it was (an OK). */
void hp_my_kill(struct hp_my_sess *s, uint64_t id, bool query)
{
    if (id == s->conn_id && s->cf->flavor == HP_MY_MARIADB) {
        if (query) {
            hp_my_err(s, 1317, "70100", "Query execution was interrupted");
            return;
        }
        hp_my_err(s, 1927, "70100", "Connection was killed");
        s->closing = true;
        s->close_reason = "killed";
        return;
    }
    if (id == s->conn_id) {
        hp_my_ok(s, 0, NULL);
        return;
    }
    hp_my_err(s, 1094, "HY000", "Unknown thread id: %llu", (unsigned long long)id);
}

static void st_kill(struct hp_my_sess *s, struct span rest)
{
    struct span r = rest;
    if (!eat(&r, "hard"))
        eat(&r, "soft");
    if (eat(&r, "user")) {
        if (r.n)
            hp_my_ok(s, 0, NULL);
        else
            err_parse(s, r);
        return;
    }
    bool query = false, qid = false;
    if (!eat(&r, "connection") && eat(&r, "query")) {
        query = true;
        qid = eat(&r, "id");
    }
    size_t k = 0;
    if (r.n && (r.p[0] == '\'' || r.p[0] == '"')) {
        const char *e = memchr(r.p + 1, r.p[0], r.n - 1);
        k = e ? (size_t)(e - r.p) + 1 : r.n;
    } else {
        while (k < r.n && r.p[k] != ' ')
            k++;
    }
    struct span id = { r.p, k }, after = trim(r.p + k, r.n - k);
    if (!id.n || after.n) {
        err_parse(s, after.n ? after : id);
        return;
    }
    if (is_ident(id)) {
        char nm[65];
        name_of(id, nm, sizeof(nm));
        hp_my_err(s, 1054, "42S22", "Unknown column '%s' in 'KILL'", nm);
        return;
    }
    char num[32];
    struct span v = id;
    if (v.n >= 2 && (v.p[0] == '\'' || v.p[0] == '"')) {
        v.p++;
        v.n -= 2;
    }
    snprintf(num, sizeof(num), "%.*s", (int)(v.n < 31 ? v.n : 31), v.p);
    uint64_t n = num[0] == '-' ? (uint64_t)strtoll(num, NULL, 10) : strtoull(num, NULL, 10);
    if (qid) {
        hp_my_err(s, 1957, "HY000", "Unknown query id: %llu", (unsigned long long)n);
        return;
    }
    hp_my_kill(s, n, query);
}

/* ---- the dispatcher -------------------------------------------------------------------------- */

static const char *const mq_ok_verbs[] = {
    "alter", "analyze", "begin", "call", "change", "check", "commit", "create", "deallocate", "delete",
    "do", "drop", "execute", "flush", "grant", "handler", "install", "load", "lock", "optimize",
    "prepare", "purge", "release", "rename", "repair", "replace", "reset", "revoke", "rollback",
    "savepoint", "start", "stop", "truncate", "uninstall", "unlock", "update", "xa",
};

static void dispatch(struct hp_my_sess *s, struct span q)
{
    struct span r = q;
    if (!q.n) {
        hp_my_err(s, 1065, "42000", "Query was empty");
        return;
    }
    if (eat(&r, "select")) {
        st_select(s, q, r);
    } else if (eat(&r, "show")) {
        st_show(s, q, r);
    } else if (eat(&r, "use")) {
        st_use(s, r);
    } else if (eat(&r, "set")) {
        st_set(s, r);
    } else if (eat(&r, "insert")) {
        st_insert(s, r);
    } else if (eat(&r, "kill")) {
        st_kill(s, r);
    } else if (eat(&r, "desc") || eat(&r, "describe") || eat(&r, "explain")) {
        err_no_table(s, r);
    } else if (iskw(q.p, q.n, "create") || iskw(q.p, q.n, "drop")) {
        bool create = eat(&r, "create");
        if (!create)
            eat(&r, "drop");
        struct span t = r;
        if (eat(&t, "database") || eat(&t, "schema")) {
            if (create)
                st_create_db(s, t);
            else
                st_drop_db(s, t);
            return;
        }
        eat(&t, "aggregate");
        if (create && eat(&t, "function") && find_kw(t.p, t.n, "soname", false) >= 0) {
            st_create_function(s, q, t);
            return;
        }
        hp_my_ok(s, 0, NULL);
    } else {
        for (size_t i = 0; i < HP_ARRAY_LEN(mq_ok_verbs); i++)
            if (iskw(q.p, q.n, mq_ok_verbs[i])) {
                hp_my_ok(s, 0, NULL);
                return;
            }
        err_parse(s, q);
    }
}

void hp_my_query(struct hp_my_sess *s, const uint8_t *q, size_t n)
{
    if (!s->dry)
        hp_capture_scan(s->ctx, q, n, "mysql");
    char *t = malloc(n + 1);
    if (!t) {
        hp_my_err(s, 1041, "HY000", "Out of memory.");
        return;
    }
    size_t k = mq_norm(q, n, t);
    if (!(s->client_caps & MY_CLIENT_MULTI_STATEMENTS)) {
        dispatch(s, (struct span){ t, k });
        free(t);
        return;
    }
    /* Multi-statements: each statement its own answer, all but the last with
     * SERVER_MORE_RESULTS_EXISTS; an error ends the batch, as in mysqld. */
    struct span st[64];
    size_t ns = 0, start = 0;
    for (size_t i = 0; i <= k && ns < HP_ARRAY_LEN(st); i++) {
        if (i < k && (t[i] == '\'' || t[i] == '"' || t[i] == '`')) {
            char c = t[i];
            for (i++; i < k && t[i] != c; i++)
                if (t[i] == '\\' && c != '`')
                    i++;
            if (i < k)
                continue;
            i = k;      /* unterminated: the statement runs to the end and is still answered */
        }
        if (i < k && t[i] != ';')
            continue;
        struct span one = trim(t + start, i - start);
        if (one.n || ns == 0)
            st[ns++] = one;
        start = i + 1;
    }
    for (size_t i = 0; i < ns; i++) {
        s->more = i + 1 < ns;
        s->failed = false;
        dispatch(s, st[i]);
        if (s->failed)
            break;
    }
    s->more = false;
    free(t);
}
