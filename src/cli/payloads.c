/*
 * payloads.c - `hanipo payloads [-c CONFIG] [list|show SHA|search TEXT]`.
 *
 *   list              newest first (last_seen DESC); --all adds evicted ones,
 *                     -n N limits (default 50, 0 = no limit), --json one
 *                     object per line
 *   show SHA          one payload (full sha256 or a unique prefix of >= 8 hex
 *                     digits): every field, every arrival, the file's path
 *   search TEXT       hashes starting with TEXT, or url/family/type/rule
 *                     containing it; output as list (evicted ones included:
 *                     the record is what the operator is looking for)
 *
 * The index is opened read-only (the sensor may be writing it: WAL lets us
 * read a consistent snapshot meanwhile).  Everything read from it may be
 * attacker-made: TEXT goes into LIKE patterns only as a bound parameter with
 * %, _ and \ escaped; text for the terminal goes through hp_term_escape;
 * JSON through hp_json_str (plus "<key>_b64" when that is lossy).
 */
#include <getopt.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "buf.h"
#include "capture/index.h"
#include "config.h"
#include "json.h"
#include "payloads.h"
#include "term.h"
#include "util.h"

#define PL_DEFAULT_LIMIT 50
#define PL_JSON_CAP (64u << 20)     /* one JSON line; attacker URLs are capped long before */

struct pl_opts {
    const char *config;
    const char *sub;                /* list, show, search */
    const char *arg;                /* SHA or TEXT */
    bool all, json;
    sqlite3_int64 limit;            /* -1: none */
};

/* Columns of every payload query (pl_row_* index them by these numbers). */
enum { C_SHA256, C_SHA1, C_MD5, C_SIZE, C_FIRST, C_LAST, C_TYPE, C_MIME, C_KIND, C_ARCH,
       C_BITS, C_ENDIAN, C_INTERP, C_FAMILY, C_RULE, C_SEEN, C_STORED, C_URL };

#define PL_SELECT \
    "SELECT sha256, sha1, md5, size, first_seen, last_seen, type, mime, kind, elf_arch," \
    " elf_bits, elf_endian, interpreter, family, rule, seen, stored," \
    " (SELECT url FROM sources s WHERE s.sha256 = p.sha256 AND s.url IS NOT NULL AND s.url <> ''" \
    "  ORDER BY s.ts, s.rowid LIMIT 1)" \
    " FROM payloads p "

static void pl_usage(FILE *f)
{
    fprintf(f,
            "usage: hanipo payloads [-c FILE] [list] [--all] [-n N] [--json]\n"
            "       hanipo payloads [-c FILE] show SHA [--json]\n"
            "       hanipo payloads [-c FILE] search TEXT [-n N] [--json]\n"
            "\n"
            "  list         payloads newest first (--all: also evicted ones; -n: at most N, default 50,\n"
            "               0 = all; --json: one JSON object per line)\n"
            "  show SHA     everything about one payload (full sha256 or a unique prefix of >= 8 hex digits)\n"
            "  search TEXT  payloads whose sha256/sha1/md5 starts with TEXT or whose url, family, type\n"
            "               or rule contains it\n"
            "\n"
            "Exit status: 0 ok, 1 not found or no index yet, 64 usage error, 78 configuration error.\n");
}

static int pl_parse_args(int argc, char **argv, struct pl_opts *o)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "all", no_argument, NULL, 'a' },
        { "json", no_argument, NULL, 'j' },
        { "limit", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t n;
    int ch;
    o->limit = PL_DEFAULT_LIMIT;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:n:ah", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': o->config = optarg; break;
        case 'a': o->all = true; break;
        case 'j': o->json = true; break;
        case 'n':
            if (hp_parse_u64(optarg, 0, 1000000000, &n)) {
                fprintf(stderr, "hanipo payloads: -n wants a number (0 = no limit)\n");
                return EX_USAGE;
            }
            o->limit = n ? (sqlite3_int64)n : -1;
            break;
        case 'h': pl_usage(stdout); exit(0);
        default: pl_usage(stderr); return EX_USAGE;
        }
    }
    o->sub = optind < argc ? argv[optind++] : "list";
    bool wants_arg = strcmp(o->sub, "show") == 0 || strcmp(o->sub, "search") == 0;
    if (!wants_arg && strcmp(o->sub, "list") != 0) {
        fprintf(stderr, "hanipo payloads: unknown subcommand (list, show SHA, search TEXT)\n");
        return EX_USAGE;
    }
    if (wants_arg) {
        if (optind >= argc || !argv[optind][0]) {
            fprintf(stderr, "hanipo payloads: %s needs an argument\n", o->sub);
            return EX_USAGE;
        }
        o->arg = argv[optind++];
    }
    if (optind < argc) {
        fprintf(stderr, "hanipo payloads: unexpected argument\n");
        return EX_USAGE;
    }
    return 0;
}

/* ---- values out of a row ------------------------------------------------ */

/* Text of a column ("" for NULL) and its length. */
static const char *pl_text(sqlite3_stmt *st, int col, size_t *len)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    int n = sqlite3_column_bytes(st, col);
    *len = s && n > 0 ? (size_t)n : 0;
    return s ? s : "";
}

/* "YYYY-MM-DD HH:MM:SS" (UTC) of microseconds since the epoch. */
static void pl_fmt_time(int64_t us, char out[32])
{
    int64_t sec = us / 1000000 - (us % 1000000 < 0);
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(out, 32, "?");
}

/* Print a hostile column for the terminal: whole, or cut to max bytes with "...". */
static void pl_put_term(sqlite3_stmt *st, int col, size_t max)
{
    size_t n;
    const char *s = pl_text(st, col, &n);
    size_t cap = (max && max < n ? max : n) * 4 + 1;
    char *out = malloc(cap);
    if (!out)
        return;
    size_t done = hp_term_escape(s, n, out, cap);
    fputs(out, stdout);
    if (done < n)
        fputs("...", stdout);
    free(out);
}

/* Same into a fixed buffer (short table cells). */
static void pl_cell(const char *s, size_t n, char *out, size_t outlen)
{
    if (!n) {
        snprintf(out, outlen, "-");
        return;
    }
    size_t done = hp_term_escape(s, n, out, outlen - 3);
    if (done < n)
        strcat(out, "...");
}

/* "elf/arm", "script/sh": the kind, then the architecture or the interpreter. */
static void pl_kind_arch(sqlite3_stmt *st, char *out, size_t outlen)
{
    size_t nk, na, ni;
    const char *k = pl_text(st, C_KIND, &nk), *a = pl_text(st, C_ARCH, &na);
    const char *i = pl_text(st, C_INTERP, &ni);
    const char *sub = na ? a : i;
    size_t ns = na ? na : ni;
    /* The interpreter is a path from a shebang: its last component says enough. */
    const char *slash = ns ? memrchr(sub, '/', ns) : NULL;
    if (slash && (size_t)(slash - sub) + 1 < ns) {
        ns -= (size_t)(slash - sub) + 1;
        sub = slash + 1;
    }
    char kbuf[64], sbuf[64];
    pl_cell(k, nk, kbuf, sizeof(kbuf));
    if (!ns) {
        snprintf(out, outlen, "%s", kbuf);
        return;
    }
    pl_cell(sub, ns, sbuf, sizeof(sbuf));
    snprintf(out, outlen, "%s/%s", kbuf, sbuf);
}

/* ---- JSON ----------------------------------------------------------------- */

/* ,"key":"text" (null for NULL); when the text is not lossless (bytes that are
 * not UTF-8), also ,"key_b64":"..." with the exact bytes. */
static void pl_json_kv(struct hp_buf *b, const char *key, sqlite3_stmt *st, int col)
{
    hp_buf_printf(b, ",\"%s\":", key);
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        hp_buf_puts(b, "null");
        return;
    }
    size_t n;
    const char *s = pl_text(st, col, &n);
    if (!hp_json_str(b, s, n)) {
        hp_buf_printf(b, ",\"%s_b64\":", key);
        hp_json_b64(b, s, n);
    }
}

static void pl_json_time(struct hp_buf *b, const char *key, sqlite3_stmt *st, int col)
{
    char iso[64];
    hp_fmt_iso8601(sqlite3_column_int64(st, col), iso, sizeof(iso));
    hp_buf_printf(b, ",\"%s\":\"%s\"", key, iso);
}

/* The payload columns of a PL_SELECT row, without the closing brace. */
static void pl_json_payload(struct hp_buf *b, sqlite3_stmt *st)
{
    hp_buf_puts(b, "{\"sha256\":");
    size_t n;
    const char *sha = pl_text(st, C_SHA256, &n);
    hp_json_str(b, sha, n);
    pl_json_kv(b, "sha1", st, C_SHA1);
    pl_json_kv(b, "md5", st, C_MD5);
    hp_buf_printf(b, ",\"size\":%lld", (long long)sqlite3_column_int64(st, C_SIZE));
    pl_json_time(b, "first_seen", st, C_FIRST);
    pl_json_time(b, "last_seen", st, C_LAST);
    pl_json_kv(b, "type", st, C_TYPE);
    pl_json_kv(b, "mime", st, C_MIME);
    pl_json_kv(b, "kind", st, C_KIND);
    pl_json_kv(b, "elf_arch", st, C_ARCH);
    hp_buf_printf(b, ",\"elf_bits\":%d", sqlite3_column_int(st, C_BITS));
    pl_json_kv(b, "elf_endian", st, C_ENDIAN);
    pl_json_kv(b, "interpreter", st, C_INTERP);
    pl_json_kv(b, "family", st, C_FAMILY);
    pl_json_kv(b, "rule", st, C_RULE);
    hp_buf_printf(b, ",\"seen\":%lld,\"stored\":%s", (long long)sqlite3_column_int64(st, C_SEEN),
                  sqlite3_column_int(st, C_STORED) ? "true" : "false");
    pl_json_kv(b, "url", st, C_URL);
}

/* Write the buffer as one line; an over-long object is reported, not cut. */
static void pl_json_flush(struct hp_buf *b)
{
    if (hp_buf_ok(b)) {
        hp_buf_putc(b, '\n');
        fwrite(b->data, 1, b->len, stdout);
    } else {
        fprintf(stderr, "hanipo payloads: a record is too large for JSON output, skipped\n");
    }
    hp_buf_reset(b);
}

/* ---- list / search ------------------------------------------------------- */

static void pl_list_header(bool state)
{
    printf("%-19s  %-16s  %10s  %-20s  %-16s  %s%s\n", "LAST SEEN (UTC)", "SHA256", "SIZE",
           "KIND/ARCH", "FAMILY", state ? "STATE    " : "", "FIRST URL");
}

static void pl_list_row(sqlite3_stmt *st, bool state)
{
    char when[32], ka[160], fam[80];
    size_t nsha, nf;
    const char *sha = pl_text(st, C_SHA256, &nsha);
    const char *f = pl_text(st, C_FAMILY, &nf);
    pl_fmt_time(sqlite3_column_int64(st, C_LAST), when);
    pl_kind_arch(st, ka, sizeof(ka));
    pl_cell(f, nf, fam, sizeof(fam));
    /* sha256 is checked hex on the way in, but this file could come from anywhere. */
    char shabuf[80];
    pl_cell(sha, nsha < 16 ? nsha : 16, shabuf, sizeof(shabuf));
    printf("%-19s  %-16s  %10lld  %-20s  %-16s  ", when, shabuf,
           (long long)sqlite3_column_int64(st, C_SIZE), ka, fam);
    if (state)
        printf("%-9s", sqlite3_column_int(st, C_STORED) ? "stored" : "evicted");
    if (sqlite3_column_type(st, C_URL) == SQLITE_NULL)
        fputs("-", stdout);
    else
        pl_put_term(st, C_URL, 120);
    fputc('\n', stdout);
}

/* Print every row of a PL_SELECT statement; returns the number printed. */
static long pl_print_rows(sqlite3_stmt *st, const struct pl_opts *o, bool state, int *err)
{
    struct hp_buf b;
    long rows = 0;
    int rc;
    hp_buf_init(&b, PL_JSON_CAP);
    if (!o->json)
        pl_list_header(state);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rows++;
        if (o->json) {
            pl_json_payload(&b, st);
            hp_buf_putc(&b, '}');
            pl_json_flush(&b);
        } else {
            pl_list_row(st, state);
        }
    }
    *err = rc != SQLITE_DONE;
    hp_buf_free(&b);
    return rows;
}

static int pl_query_error(sqlite3 *db)
{
    fprintf(stderr, "hanipo payloads: query failed: %s\n", sqlite3_errmsg(db));
    return 1;
}

static int pl_list(sqlite3 *db, const struct pl_opts *o)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, PL_SELECT "WHERE (?1 OR stored = 1) ORDER BY last_seen DESC, sha256 LIMIT ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return pl_query_error(db);
    sqlite3_bind_int(st, 1, o->all);
    sqlite3_bind_int64(st, 2, o->limit);
    int err;
    pl_print_rows(st, o, o->all, &err);
    sqlite3_finalize(st);
    return err ? pl_query_error(db) : 0;
}

/* TEXT with LIKE's wildcards (and the escape character) escaped by '\', between pre and post. */
static char *pl_like_pattern(const char *text, const char *pre, const char *post)
{
    size_t n = strlen(text);
    char *p = malloc(2 * n + 3);
    if (!p)
        return NULL;
    size_t j = 0;
    if (*pre)
        p[j++] = *pre;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '%' || text[i] == '_' || text[i] == '\\')
            p[j++] = '\\';
        p[j++] = text[i];
    }
    if (*post)
        p[j++] = *post;
    p[j] = '\0';
    return p;
}

static int pl_search(sqlite3 *db, const struct pl_opts *o)
{
    static const char sql[] = PL_SELECT
        "WHERE sha256 LIKE ?1 ESCAPE '\\' OR sha1 LIKE ?1 ESCAPE '\\' OR md5 LIKE ?1 ESCAPE '\\'"
        " OR family LIKE ?2 ESCAPE '\\' OR type LIKE ?2 ESCAPE '\\' OR rule LIKE ?2 ESCAPE '\\'"
        " OR EXISTS(SELECT 1 FROM sources s2 WHERE s2.sha256 = p.sha256 AND s2.url LIKE ?2 ESCAPE '\\')"
        " ORDER BY last_seen DESC, sha256 LIMIT ?3";
    char *prefix = pl_like_pattern(o->arg, "", "%"), *contains = pl_like_pattern(o->arg, "%", "%");
    sqlite3_stmt *st = NULL;
    int ret = 1;
    if (!prefix || !contains || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        ret = pl_query_error(db);
        goto out;
    }
    sqlite3_bind_text(st, 1, prefix, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, contains, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, o->limit);
    int err;
    long rows = pl_print_rows(st, o, true, &err);
    if (err)
        ret = pl_query_error(db);
    else if (rows == 0)
        fprintf(stderr, "hanipo payloads: nothing matches\n");
    else
        ret = 0;
out:
    sqlite3_finalize(st);
    free(prefix);
    free(contains);
    return ret;
}

/* ---- show ----------------------------------------------------------------- */

/* SHA must be 8..64 hex digits; lowercased into out.  0 or -1. */
static int pl_sha_prefix(const char *s, char out[65])
{
    size_t n = strlen(s);
    if (n < 8 || n > 64)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return -1;
        out[i] = c;
    }
    out[n] = '\0';
    return 0;
}

static void pl_show_field(sqlite3_stmt *st, const char *label, int col)
{
    printf("%-12s ", label);
    if (sqlite3_column_type(st, col) == SQLITE_NULL || sqlite3_column_bytes(st, col) == 0)
        fputs("-", stdout);
    else
        pl_put_term(st, col, 0);
    fputc('\n', stdout);
}

static void pl_show_text(sqlite3_stmt *st, const char *data_dir, const char *sha)
{
    char when[32];
    static const struct { const char *label; int col; } fields[] = {
        { "sha256:", C_SHA256 }, { "sha1:", C_SHA1 }, { "md5:", C_MD5 }, { "type:", C_TYPE },
        { "mime:", C_MIME }, { "kind:", C_KIND }, { "elf_arch:", C_ARCH }, { "elf_bits:", C_BITS },
        { "elf_endian:", C_ENDIAN }, { "interpreter:", C_INTERP }, { "family:", C_FAMILY },
        { "rule:", C_RULE },
    };
    for (size_t i = 0; i < HP_ARRAY_LEN(fields); i++)
        pl_show_field(st, fields[i].label, fields[i].col);
    printf("%-12s %lld\n", "size:", (long long)sqlite3_column_int64(st, C_SIZE));
    pl_fmt_time(sqlite3_column_int64(st, C_FIRST), when);
    printf("%-12s %s UTC\n", "first_seen:", when);
    pl_fmt_time(sqlite3_column_int64(st, C_LAST), when);
    printf("%-12s %s UTC\n", "last_seen:", when);
    printf("%-12s %lld\n", "seen:", (long long)sqlite3_column_int64(st, C_SEEN));
    if (sqlite3_column_int(st, C_STORED)) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/payloads/%s", data_dir, sha);
        char esc[4 * sizeof(path) + 1];
        hp_term_escape(path, strlen(path), esc, sizeof(esc));
        printf("%-12s %s%s\n", "file:", esc, access(path, F_OK) == 0 ? "" : " (missing)");
    } else {
        printf("%-12s (evicted)\n", "file:");
    }
}

static void pl_source_text(sqlite3_stmt *src)
{
    char when[32];
    pl_fmt_time(sqlite3_column_int64(src, 0), when);
    printf("  %s  ", when);
    static const char *const labels[] = { NULL, "how=", " url=", " session=", " protocol=", " src_ip=" };
    for (int c = 1; c <= 5; c++) {
        fputs(labels[c], stdout);
        if (sqlite3_column_type(src, c) == SQLITE_NULL)
            fputs("-", stdout);
        else
            pl_put_term(src, c, 0);
    }
    fputc('\n', stdout);
}

static void pl_source_json(struct hp_buf *b, sqlite3_stmt *src, bool first)
{
    char iso[64];
    hp_fmt_iso8601(sqlite3_column_int64(src, 0), iso, sizeof(iso));
    hp_buf_printf(b, "%s{\"ts\":\"%s\"", first ? "" : ",", iso);
    pl_json_kv(b, "how", src, 1);
    pl_json_kv(b, "url", src, 2);
    pl_json_kv(b, "session", src, 3);
    pl_json_kv(b, "protocol", src, 4);
    pl_json_kv(b, "src_ip", src, 5);
    hp_buf_putc(b, '}');
}

/* Every arrival of one payload, oldest first. */
static int pl_show_sources(sqlite3 *db, const char *sha, const struct pl_opts *o, struct hp_buf *b)
{
    sqlite3_stmt *src;
    if (sqlite3_prepare_v2(db, "SELECT ts, how, url, session, protocol, src_ip FROM sources"
                               " WHERE sha256 = ?1 ORDER BY ts, rowid", -1, &src, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(src, 1, sha, -1, SQLITE_TRANSIENT);
    if (o->json)
        hp_buf_puts(b, ",\"sources\":[");
    else
        printf("sources:\n");
    int rc;
    bool first = true;
    while ((rc = sqlite3_step(src)) == SQLITE_ROW) {
        if (o->json)
            pl_source_json(b, src, first);
        else
            pl_source_text(src);
        first = false;
    }
    if (o->json)
        hp_buf_puts(b, "]");
    sqlite3_finalize(src);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int pl_show(sqlite3 *db, const char *data_dir, const struct pl_opts *o)
{
    char prefix[66], sha[65];
    if (pl_sha_prefix(o->arg, prefix)) {
        fprintf(stderr, "hanipo payloads: show wants a sha256 or a prefix of at least 8 hex digits\n");
        return EX_USAGE;
    }
    strcat(prefix, "%");        /* hex only: no LIKE wildcard to escape */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, PL_SELECT "WHERE sha256 LIKE ?1 ORDER BY sha256 LIMIT 2", -1, &st, NULL) != SQLITE_OK)
        return pl_query_error(db);
    sqlite3_bind_text(st, 1, prefix, -1, SQLITE_TRANSIENT);
    int ret = 1;
    size_t n;
    if (sqlite3_step(st) != SQLITE_ROW) {
        fprintf(stderr, "hanipo payloads: no payload %s\n", o->arg);   /* checked hex */
        goto out;
    }
    const char *s = pl_text(st, C_SHA256, &n);
    if (n != 64 || !hp_index_sha256_ok(s)) {
        fprintf(stderr, "hanipo payloads: malformed sha256 in the index\n");
        goto out;
    }
    memcpy(sha, s, 65);
    if (sqlite3_step(st) == SQLITE_ROW) {
        sqlite3_reset(st);
        fprintf(stderr, "hanipo payloads: prefix %s is ambiguous (try more digits or 'search')\n", o->arg);
        goto out;
    }
    sqlite3_reset(st);          /* the row is gone: step again for the values */
    if (sqlite3_step(st) != SQLITE_ROW)
        goto out;
    struct hp_buf b;
    hp_buf_init(&b, PL_JSON_CAP);
    if (o->json)
        pl_json_payload(&b, st);
    else
        pl_show_text(st, data_dir, sha);
    if (pl_show_sources(db, sha, o, &b) == 0) {
        ret = 0;
        if (o->json) {
            hp_buf_putc(&b, '}');
            pl_json_flush(&b);
        }
    } else {
        pl_query_error(db);
    }
    hp_buf_free(&b);
out:
    sqlite3_finalize(st);
    return ret;
}

/* ---- entry ------------------------------------------------------------------ */

static int pl_run(const struct pl_opts *o, const char *data_dir)
{
    char path[4200], esc[4 * sizeof(path) + 1];
    snprintf(path, sizeof(path), "%s/%s", data_dir, HP_INDEX_FILE);
    hp_term_escape(path, strlen(path), esc, sizeof(esc));
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "hanipo payloads: no payloads recorded yet (%s missing)\n", esc);
        return 1;
    }
    char err[512];
    struct hp_index *ix = hp_index_open(data_dir, true, err, sizeof(err));
    if (!ix) {
        hp_term_escape(err, strlen(err), esc, sizeof(esc));
        fprintf(stderr, "hanipo payloads: %s\n", esc);
        return 1;
    }
    sqlite3 *db = hp_index_db(ix);
    int ret;
    if (strcmp(o->sub, "show") == 0)
        ret = pl_show(db, data_dir, o);
    else if (strcmp(o->sub, "search") == 0)
        ret = pl_search(db, o);
    else
        ret = pl_list(db, o);
    hp_index_close(ix);
    if (fflush(stdout) != 0 && ret == 0)
        ret = 1;
    return ret;
}

int hp_cli_payloads(int argc, char **argv, const char *default_config)
{
    struct pl_opts o;
    memset(&o, 0, sizeof(o));
    int rc = pl_parse_args(argc, argv, &o);
    if (rc)
        return rc;
    char err[1024];
    struct hp_config *cfg = hp_config_load(o.config ? o.config : default_config, err, sizeof(err));
    if (!cfg) {
        fprintf(stderr, "hanipo: %s\n", err);
        return EX_CONFIG;
    }
    rc = pl_run(&o, cfg->data_dir);
    hp_config_free(cfg);
    return rc;
}
