/*
 * clickhouse_conn.c - settings of, and queries to, a ClickHouse server.  See
 * clickhouse_conn.h.
 *
 * One connection is one libcurl easy handle, reused for every query so the
 * TCP (and TLS) session stays open between batches.  A handle is used by one
 * thread only.  The server's reply is read into a bounded buffer: on an error
 * ClickHouse puts its exception text there, which goes (shortened, made
 * printable) into the error message.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "clickhouse_conn.h"
#include "config.h"
#include "log.h"
#include "util.h"

#define RESP_MAX (1024 * 1024)

const char *const hp_ch_cfg_keys[] = {
    "url", "database", "table", "user", "password", "password_file", "tls_ca", "tls_verify",
    "timeout", "batch_size", "batch_delay", "spool_dir", "spool_max", "spool_fsync", NULL,
};

struct hp_ch_conn {
    CURL *curl;
    const struct hp_ch_cfg *c;
    struct hp_buf url;
};

bool hp_ch_ident_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 100 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static int read_password_file(struct hp_ch_cfg *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(c->password, 1, sizeof(c->password) - 1, f);
    fclose(f);
    c->password[n] = 0;
    while (n > 0 && (c->password[n - 1] == '\n' || c->password[n - 1] == '\r'))
        c->password[--n] = 0;
    return 0;
}

static int cfg_key(struct hp_ch_cfg *c, const char *k, const char *v, bool read_files)
{
    int b;
    uint64_t u;
    if (strcmp(k, "url") == 0) {
        if ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) ||
            strlen(v) >= sizeof(c->url) || strchr(v, '?'))
            return -1;
        snprintf(c->url, sizeof(c->url), "%s", v);
        size_t n = strlen(c->url);
        while (n > 8 && c->url[n - 1] == '/')
            c->url[--n] = 0;
    } else if (strcmp(k, "database") == 0 || strcmp(k, "table") == 0) {
        if (!hp_ch_ident_ok(v))
            return -1;
        snprintf(k[0] == 'd' ? c->database : c->table, sizeof(c->table), "%s", v);
    } else if (strcmp(k, "user") == 0 && strlen(v) < sizeof(c->user)) {
        snprintf(c->user, sizeof(c->user), "%s", v);
    } else if (strcmp(k, "password") == 0 && strlen(v) < sizeof(c->password)) {
        snprintf(c->password, sizeof(c->password), "%s", v);
    } else if (strcmp(k, "password_file") == 0) {
        return read_files ? read_password_file(c, v) : (v[0] ? 0 : -1);
    } else if (strcmp(k, "tls_ca") == 0 && strlen(v) < sizeof(c->tls_ca)) {
        snprintf(c->tls_ca, sizeof(c->tls_ca), "%s", v);
    } else if (strcmp(k, "tls_verify") == 0 && hp_parse_bool(v, &b) == 0) {
        c->tls_verify = b;
    } else if (strcmp(k, "timeout") == 0 && hp_parse_duration_ms(v, &u) == 0 && u >= 100 &&
               u <= 600000) {
        c->timeout_ms = u;
    } else if (strcmp(k, "batch_size") == 0 && hp_parse_u64(v, 1, 1000000, &u) == 0) {
        c->batch_rows = u;
    } else if (strcmp(k, "batch_delay") == 0 && hp_parse_duration_ms(v, &u) == 0 && u <= 60000) {
        c->batch_delay_ms = u;
    } else if (strcmp(k, "spool_dir") == 0 && v[0] && strlen(v) < sizeof(c->spool_dir)) {
        snprintf(c->spool_dir, sizeof(c->spool_dir), "%s", v);
    } else if (strcmp(k, "spool_max") == 0 && hp_parse_size(v, &u) == 0 && u >= 16u * 1024 * 1024) {
        c->spool_max = u;
    } else if (strcmp(k, "spool_fsync") == 0 && hp_parse_bool(v, &b) == 0) {
        c->spool_fsync = b;
    } else {
        return -1;
    }
    return 0;
}

int hp_ch_cfg_parse(struct hp_ch_cfg *c, const struct hp_config *cfg, const struct hp_output_cfg *ocfg,
                    bool read_files, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->url, sizeof(c->url), "http://127.0.0.1:8123");
    snprintf(c->database, sizeof(c->database), "hanipo");
    snprintf(c->table, sizeof(c->table), "events");
    snprintf(c->user, sizeof(c->user), "default");
    c->tls_verify = true;
    c->timeout_ms = 10000;
    c->batch_rows = 100000;
    c->batch_delay_ms = 500;
    snprintf(c->spool_dir, sizeof(c->spool_dir), "%s/spool/clickhouse", cfg->data_dir);
    c->spool_max = 1024ull * 1024 * 1024;
    for (const struct hp_kv *kv = ocfg ? ocfg->opts : NULL; kv; kv = kv->next) {
        if (cfg_key(c, kv->key, kv->value, read_files) != 0) {
            const char *why = strcmp(kv->key, "password_file") == 0 ? strerror(errno)
                            : strcmp(kv->key, "spool_max") == 0 ? "at least 16M"
                            : strcmp(kv->key, "url") == 0 ? "http://HOST:PORT or https://HOST:PORT"
                            : "see docs/config.md";
            snprintf(err, errlen, "%s:%d: [output clickhouse]: bad value for %s: '%s' (%s)", cfg->path,
                     kv->line, kv->key, strcmp(kv->key, "password") == 0 ? "..." : kv->value, why);
            return -1;
        }
    }
    return 0;
}

struct hp_ch_conn *hp_ch_conn_new(const struct hp_ch_cfg *c)
{
    struct hp_ch_conn *k = hp_xcalloc(1, sizeof(*k));
    k->c = c;
    k->curl = curl_easy_init();
    if (!k->curl) {
        free(k);
        return NULL;
    }
    hp_buf_init(&k->url, 64 * 1024);
    return k;
}

void hp_ch_conn_free(struct hp_ch_conn *k)
{
    if (!k)
        return;
    curl_easy_cleanup(k->curl);
    hp_buf_free(&k->url);
    free(k);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct hp_buf *b = arg;
    size_t len = size * n;
    if (b && b->len + len <= RESP_MAX)
        hp_buf_put(b, p, len);
    return len;   /* a longer reply is cut, not an error */
}

void hp_ch_sql_str(struct hp_buf *b, const char *s, size_t n)
{
    hp_buf_putc(b, '\'');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'' || s[i] == '\\')
            hp_buf_putc(b, '\\');
        hp_buf_putc(b, (uint8_t)s[i]);
    }
    hp_buf_putc(b, '\'');
}

/* The server's message, first line, printable, shortened. */
static void reply_reason(const struct hp_buf *r, long code, char *err, size_t errlen)
{
    char esc[300];
    size_t n = r->len;
    const char *nl = n ? memchr(r->data, '\n', n) : NULL;
    if (nl)
        n = (size_t)(nl - (const char *)r->data);
    hp_log_escape(r->data, n > 200 ? 200 : n, esc, sizeof(esc));
    snprintf(err, errlen, "HTTP %ld: %s", code, esc);
}

int hp_ch_query(struct hp_ch_conn *k, const char *sql, const char *settings, const void *body,
                size_t len, struct hp_buf *resp, char *err, size_t errlen)
{
    CURL *e = k->curl;
    struct hp_buf mine;
    hp_buf_init(&mine, RESP_MAX);
    struct hp_buf *r = resp ? resp : &mine;
    hp_buf_reset(r);
    /* A statement with data (INSERT) goes in the URL, the data in the body;
     * one without goes in the body, so no URL length limit applies to it
     * (an IN list of a few thousand batch ids). */
    hp_buf_reset(&k->url);
    if (body) {
        char *q = curl_easy_escape(e, sql, 0);
        hp_buf_printf(&k->url, "%s/?query=%s%s", k->c->url, q ? q : "", settings ? settings : "");
        curl_free(q);
    } else {
        hp_buf_printf(&k->url, "%s/?%s", k->c->url, settings && settings[0] == '&' ? settings + 1 : "");
        body = sql;
        len = strlen(sql);
    }
    if (!hp_buf_ok(&k->url)) {
        snprintf(err, errlen, "statement too long");
        hp_buf_free(&mine);
        return -1;
    }
    curl_easy_reset(e);
    curl_easy_setopt(e, CURLOPT_URL, hp_buf_cstr(&k->url));
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, (const char *)body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_USERNAME, k->c->user);
    curl_easy_setopt(e, CURLOPT_PASSWORD, k->c->password);
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(k->c->timeout_ms < 5000 ? k->c->timeout_ms : 5000));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)k->c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, k->c->tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, k->c->tls_verify ? 2L : 0L);
    if (k->c->tls_ca[0])
        curl_easy_setopt(e, CURLOPT_CAINFO, k->c->tls_ca);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    /* No "Expect: 100-continue" round trip before each batch. */
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    CURLcode rc = curl_easy_perform(e);
    curl_slist_free_all(h);
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    int ret = 0;
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", curl_easy_strerror(rc));
        ret = -1;
    } else if (code != 200) {
        reply_reason(r, code, err, errlen);
        ret = -1;
    }
    hp_buf_free(&mine);
    return ret;
}
