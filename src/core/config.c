/*
 * config.c - INI configuration loading and validation.  See config.h.
 *
 * inih does the lexing; we feed it through ini_parse_stream() with a reader
 * that counts lines, so every message can name FILE:LINE even though
 * Debian's inih is built without line numbers in the handler.  The first
 * error is kept and loading fails; nothing is half-applied.
 */
#include <arpa/inet.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "config.h"
#include "backend.h"
#include "sandbox.h"
#include "proto.h"
#include "log.h"
#include "output.h"
#include "capture/addrpolicy.h"
#include "intel/geo.h"
#include "store/chquery.h"
#include "util.h"

enum section { SEC_NONE, SEC_SENSOR, SEC_LIMITS, SEC_CAPTURE, SEC_DASHBOARD, SEC_REPORT, SEC_OUTPUT, SEC_SERVICE };

struct parse_state {
    struct hp_config *cfg;
    const char *name;          /* file name for messages */
    int line;                  /* current line (counted by the reader) */
    enum section sec;
    char secname[256];         /* full section text, to detect a new section */
    size_t cur;                /* index of current output/service */
    char *err;
    size_t errlen;
    bool failed;
    bool have_key;             /* a key since the last section header (inih's prev_name) */
    bool no_services;          /* HP_CONFIG_NO_SERVICES: a dashboard-only machine */
    /* reader source */
    FILE *fp;
    const char *text;
    size_t textpos;
};

static int fail(struct parse_state *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parse_state *ps, const char *fmt, ...)
{
    if (ps->failed)
        return 0;
    ps->failed = true;
    int n = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->name, ps->line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < ps->errlen)
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return 0;
}

static void kv_append(struct hp_kv **head, const char *k, const char *v, int line)
{
    struct hp_kv *kv = hp_xcalloc(1, sizeof(*kv));
    kv->key = hp_xstrdup(k);
    kv->value = hp_xstrdup(v);
    kv->line = line;
    while (*head)
        head = &(*head)->next;
    *head = kv;
}

static void kv_free(struct hp_kv *kv)
{
    while (kv) {
        struct hp_kv *n = kv->next;
        free(kv->key);
        free(kv->value);
        free(kv);
        kv = n;
    }
}

const struct hp_kv *hp_kv_find(const struct hp_kv *kv, const char *key)
{
    for (; kv; kv = kv->next)
        if (strcmp(kv->key, key) == 0)
            return kv;
    return NULL;
}

/* ---- value parsers ---------------------------------------------------- */

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

int hp_parse_ports(const char *s, uint16_t **ports, size_t *n, char *err, size_t errlen)
{
    size_t cnt = 0, alloc = 16;
    uint16_t *p = hp_xcalloc(alloc, sizeof(*p));
    char *copy = hp_xstrdup(s), *save = NULL;
    for (char *tok = strtok_r(copy, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
        uint64_t lo, hi;
        char *dash = strchr(tok, '-');
        if (dash)
            *dash = '\0';
        if (hp_parse_u64(tok, 1, 65535, &lo) != 0 ||
            (dash ? hp_parse_u64(dash + 1, 1, 65535, &hi) != 0 : (hi = lo, 0)) || hi < lo) {
            snprintf(err, errlen, "bad port or range '%s%s%s'", tok, dash ? "-" : "", dash ? dash + 1 : "");
            free(copy);
            free(p);
            return -1;
        }
        for (uint64_t v = lo; v <= hi; v++) {
            if (cnt == alloc) {
                alloc *= 2;
                uint16_t *np = realloc(p, alloc * sizeof(*p));
                if (!np)
                    abort();
                p = np;
            }
            p[cnt++] = (uint16_t)v;
        }
    }
    free(copy);
    qsort(p, cnt, sizeof(*p), cmp_u16);
    size_t u = 0;
    for (size_t i = 0; i < cnt; i++)
        if (u == 0 || p[u - 1] != p[i])
            p[u++] = p[i];
    *ports = p;
    *n = u;
    return 0;
}

/* Add ports to a sorted set (continuation lines and repeated keys accumulate). */
static void merge_ports(uint16_t **set, size_t *n, uint16_t *add, size_t nadd)
{
    uint16_t *m = hp_xcalloc(*n + nadd, sizeof(*m));
    size_t i = 0, j = 0, k = 0;
    while (i < *n || j < nadd) {
        uint16_t v = (j >= nadd || (i < *n && (*set)[i] <= add[j])) ? (*set)[i++] : add[j++];
        if (k == 0 || m[k - 1] != v)
            m[k++] = v;
    }
    free(*set);
    free(add);
    *set = m;
    *n = k;
}

static int parse_bind(struct parse_state *ps, struct hp_service_cfg *svc, const char *v)
{
    /* Appends: inih hands continuation lines of a value over as repeated keys. */
    char *copy = hp_xstrdup(v), *save = NULL;
    for (char *tok = strtok_r(copy, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
        unsigned char tmp[16];
        char *addr = tok;
        size_t l = strlen(addr);
        if (addr[0] == '[' && l > 2 && addr[l - 1] == ']') {   /* accept [::1] */
            addr[l - 1] = '\0';
            addr++;
        }
        if (inet_pton(AF_INET, addr, tmp) != 1 && inet_pton(AF_INET6, addr, tmp) != 1) {
            fail(ps, "bind: '%s' is not an IPv4 or IPv6 address", tok);
            free(copy);
            return 0;
        }
        svc->bind = realloc(svc->bind, (svc->nbind + 1) * sizeof(*svc->bind));
        if (!svc->bind)
            abort();
        svc->bind[svc->nbind++] = hp_xstrdup(addr);
    }
    free(copy);
    if (svc->nbind == 0)
        return fail(ps, "bind: no address given");
    return 1;
}

/* ---- sections ----------------------------------------------------------- */

static int set_u64(struct parse_state *ps, const char *key, const char *v, uint64_t min, uint64_t max,
                   uint64_t *out)
{
    if (hp_parse_u64(v, min, max, out) != 0)
        return fail(ps, "%s: expected a whole number from %llu to %llu, got '%s'", key,
                    (unsigned long long)min, (unsigned long long)max, v);
    return 1;
}

static int set_size(struct parse_state *ps, const char *key, const char *v, uint64_t *out)
{
    if (hp_parse_size(v, out) != 0)
        return fail(ps, "%s: expected a size such as 512K, 64M or 2G, got '%s'", key, v);
    return 1;
}

static int set_duration(struct parse_state *ps, const char *key, const char *v, uint64_t *out)
{
    if (hp_parse_duration_ms(v, out) != 0)
        return fail(ps, "%s: expected a duration such as 500ms, 30s, 5m or 1h, got '%s'", key, v);
    return 1;
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = hp_xstrdup(v);
}

/* An address list (docs/config.md: "10.0.0.0/8, 2001:db8::/32, ..."): checked
 * here so a typo stops the start, kept as text for its users to parse. */
static int set_cidr_list(struct parse_state *ps, const char *key, const char *v, char **dst)
{
    struct hp_cidr *r;
    size_t n;
    char msg[200];
    if (hp_addrpol_parse(v, &r, &n, msg, sizeof(msg)) != 0)
        return fail(ps, "%s: %s", key, msg);
    free(r);
    set_str(dst, v);
    return 1;
}

static int sensor_key(struct parse_state *ps, const char *k, const char *v)
{
    struct hp_config *c = ps->cfg;
    if (strcmp(k, "name") == 0) {
        if (!v[0] || strlen(v) > 100)
            return fail(ps, "name: must be 1 to 100 characters");
        set_str(&c->sensor_name, v);
    } else if (strcmp(k, "data_dir") == 0) {
        if (!v[0])
            return fail(ps, "data_dir: must not be empty");
        set_str(&c->data_dir, v);
    } else if (strcmp(k, "user") == 0) {
        set_str(&c->user, v);
    } else if (strcmp(k, "sandbox") == 0) {
        enum hp_sandbox_mode m;
        if (hp_sandbox_parse(v, &m) != 0)
            return fail(ps, "sandbox: expected strict, denylist or off, got '%s'", v);
        c->sandbox = (int)m;
    } else if (strcmp(k, "log_file") == 0) {
        set_str(&c->log_file, v);
    } else if (strcmp(k, "log_level") == 0) {
        enum hp_log_level lvl;
        if (hp_log_parse_level(v, &lvl) != 0)
            return fail(ps, "log_level: expected debug, info, warn or error, got '%s'", v);
        set_str(&c->log_level, v);
    } else if (strcmp(k, "retention_days") == 0) {
        return set_u64(ps, k, v, 0, 36500, &c->retention_days);
    } else if (strcmp(k, "disk_floor") == 0) {
        return set_size(ps, k, v, &c->disk_floor);
    } else if (strcmp(k, "geoip_country") == 0) {
        set_str(&c->geoip_country, v);
    } else if (strcmp(k, "geoip_asn") == 0) {
        set_str(&c->geoip_asn, v);
    } else if (strcmp(k, "geoip_city") == 0) {
        set_str(&c->geoip_city, v);
    } else if (strcmp(k, "management") == 0) {
        return set_cidr_list(ps, k, v, &c->management);
    } else {
        return fail(ps, "unknown key '%s' in [sensor]", k);
    }
    return 1;
}

static int limits_key(struct parse_state *ps, const char *k, const char *v)
{
    struct hp_config *c = ps->cfg;
    if (strcmp(k, "max_connections") == 0)
        return set_u64(ps, k, v, 1, 1000000, &c->max_connections);
    if (strcmp(k, "max_per_source") == 0)
        return set_u64(ps, k, v, 1, 1000000, &c->max_per_source);
    if (strcmp(k, "queue_events") == 0)
        return set_u64(ps, k, v, 16, 10000000, &c->queue_events);
    if (strcmp(k, "queue_bytes") == 0) {
        if (!set_size(ps, k, v, &c->queue_bytes))
            return 0;
        if (c->queue_bytes < 2u * 1024 * 1024)
            return fail(ps, "queue_bytes: must be at least 2M");
        return 1;
    }
    if (strcmp(k, "stats_interval") == 0)
        return set_duration(ps, k, v, &c->stats_interval_ms);
    if (strcmp(k, "shell_persist") == 0)
        return set_duration(ps, k, v, &c->shell_persist_ms);
    if (strcmp(k, "shell_source_bytes") == 0 || strcmp(k, "shell_total_bytes") == 0) {
        uint64_t *dst = k[6] == 's' ? &c->shell_source_bytes : &c->shell_total_bytes;
        if (!set_size(ps, k, v, dst))
            return 0;
        if (*dst < 64 * 1024)
            return fail(ps, "%s: must be at least 64K", k);
        return 1;
    }
    return fail(ps, "unknown key '%s' in [limits]", k);
}

static int capture_key(struct parse_state *ps, const char *k, const char *v)
{
    struct hp_capture_cfg *c = &ps->cfg->capture;
    static const struct { const char *key; char kind; uint64_t min, max; size_t off; } keys[] = {
        { "max_size", 's', 1024, 1ull << 32, offsetof(struct hp_capture_cfg, max_size) },
        { "timeout", 'd', 1000, 3600000, offsetof(struct hp_capture_cfg, timeout_ms) },
        { "concurrency", 'n', 1, 256, offsetof(struct hp_capture_cfg, concurrency) },
        { "queue", 'n', 0, 100000, offsetof(struct hp_capture_cfg, queue) },
        { "dedup_window", 'd', 0, 30ull * 86400000, offsetof(struct hp_capture_cfg, dedup_window_ms) },
        { "retries", 'n', 0, 10, offsetof(struct hp_capture_cfg, retries) },
        { "retry_delay", 'd', 0, 3600000, offsetof(struct hp_capture_cfg, retry_delay_ms) },
        { "quota", 's', 1 << 20, UINT64_MAX, offsetof(struct hp_capture_cfg, quota) },
        { "depth", 'n', 0, 5, offsetof(struct hp_capture_cfg, depth) },
        { "per_session", 'n', 0, 10000, offsetof(struct hp_capture_cfg, per_session) },
        { "per_host", 'n', 0, 100000, offsetof(struct hp_capture_cfg, per_host) },
        { "shell_wait", 'd', 0, 600000, offsetof(struct hp_capture_cfg, shell_wait_ms) },
    };
    if (strcmp(k, "fetch") == 0) {
        int b;
        if (hp_parse_bool(v, &b) != 0)
            return fail(ps, "fetch: expected true or false, got '%s'", v);
        c->fetch = b;
        return 1;
    }
    if (strcmp(k, "allow") == 0)
        return set_cidr_list(ps, k, v, &c->allow);
    if (strcmp(k, "yara_rules") == 0) {
        set_str(&c->yara_rules, v);
        return 1;
    }
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(k, keys[i].key) != 0)
            continue;
        uint64_t *dst = (uint64_t *)(void *)((char *)c + keys[i].off);
        uint64_t val;
        int ok = keys[i].kind == 's' ? set_size(ps, k, v, &val)
               : keys[i].kind == 'd' ? set_duration(ps, k, v, &val)
               : set_u64(ps, k, v, keys[i].min, keys[i].max, &val);
        if (!ok)
            return 0;
        if (val < keys[i].min || val > keys[i].max)
            return fail(ps, "%s: out of range", k);
        *dst = val;
        return 1;
    }
    return fail(ps, "unknown key '%s' in [capture]", k);
}

static int dashboard_key(struct parse_state *ps, const char *k, const char *v)
{
    struct hp_dashboard_cfg *d = &ps->cfg->dashboard;
    int b;
    uint64_t port;
    unsigned char tmp[16];
    if (strcmp(k, "enabled") == 0 || strcmp(k, "tls") == 0) {
        if (hp_parse_bool(v, &b) != 0)
            return fail(ps, "%s: expected true or false, got '%s'", k, v);
        *(k[0] == 'e' ? &d->enabled : &d->tls) = b;
    } else if (strcmp(k, "bind") == 0) {
        if (inet_pton(AF_INET, v, tmp) != 1 && inet_pton(AF_INET6, v, tmp) != 1)
            return fail(ps, "bind: '%s' is not an IPv4 or IPv6 address", v);
        set_str(&d->bind, v);
    } else if (strcmp(k, "port") == 0) {
        if (!set_u64(ps, k, v, 1, 65535, &port))
            return 0;
        d->port = (uint16_t)port;
    } else if (strcmp(k, "password") == 0) {
        if (v[0] && strlen(v) < 8)
            return fail(ps, "password: at least 8 characters (or empty: the token only)");
        set_str(&d->password, v);
    } else if (strcmp(k, "assets") == 0) {
        set_str(&d->assets, v);
    } else if (strcmp(k, "store") == 0) {
        /* the value may hold a password: messages never quote it */
        struct hp_chq_url u;
        char uerr[200];
        if (strcmp(v, "sqlite") != 0 && hp_chq_parse_url(v, &u, uerr, sizeof(uerr)) != 0)
            return fail(ps, "store: 'sqlite' or clickhouse://[user[:password]@]host[:port]/database (%s)", uerr);
        free(d->store);
        d->store = strcmp(v, "sqlite") == 0 ? NULL : hp_xstrdup(v);
    } else {
        return fail(ps, "unknown key '%s' in [dashboard]", k);
    }
    return 1;
}

/* [report] keys are checked for form only; the report checks the store URL when it uses it. */
static int report_key(struct parse_state *ps, const char *k, const char *v)
{
    struct hp_report_cfg *r = &ps->cfg->report;
    if (strcmp(k, "store") == 0) {
        if (strcmp(v, "sqlite") != 0 && strncmp(v, "clickhouse", 10) != 0)
            return fail(ps, "store: 'sqlite' or a clickhouse://... URL, got '%s'", v);
        set_str(&r->store, v);
    } else if (strcmp(k, "sensor_country") == 0) {
        set_str(&r->sensor_country, v);
    } else {
        return fail(ps, "unknown key '%s' in [report]", k);
    }
    return 1;
}

static int service_key(struct parse_state *ps, const char *k, const char *v)
{
    struct hp_service_cfg *s = &ps->cfg->services[ps->cur];
    char msg[200];
    if (strcmp(k, "protocol") == 0) {
        s->proto = hp_proto_find(v);
        if (!s->proto) {
            size_t n;
            const struct hp_proto *const *all = hp_proto_all(&n);
            char known[512] = "";
            for (size_t i = 0; i < n; i++) {
                strncat(known, i ? ", " : "", sizeof(known) - strlen(known) - 1);
                strncat(known, all[i]->name, sizeof(known) - strlen(known) - 1);
            }
            return fail(ps, "protocol: unknown protocol '%s' (known: %s)", v, known);
        }
    } else if (strcmp(k, "bind") == 0) {
        return parse_bind(ps, s, v);
    } else if (strcmp(k, "tcp_ports") == 0 || strcmp(k, "udp_ports") == 0) {
        bool tcp = k[0] == 't';
        uint16_t **pp = tcp ? &s->tcp_ports : &s->udp_ports;
        size_t *np = tcp ? &s->ntcp : &s->nudp;
        uint16_t *add;
        size_t nadd;
        if (hp_parse_ports(v, &add, &nadd, msg, sizeof(msg)) != 0)
            return fail(ps, "%s: %s", k, msg);
        merge_ports(pp, np, add, nadd);
    } else if (strcmp(k, "idle_timeout") == 0) {
        if (!set_duration(ps, k, v, &s->idle_timeout_ms))
            return 0;
        if (s->idle_timeout_ms < 100)
            return fail(ps, "idle_timeout: must be at least 100ms");
    } else if (strcmp(k, "max_duration") == 0) {
        return set_duration(ps, k, v, &s->max_duration_ms);
    } else if (strcmp(k, "udp_answer_window") == 0) {
        return set_duration(ps, k, v, &s->udp_answer_window_ms);
    } else if (strcmp(k, "udp_max_amplification") == 0) {
        char *end;
        double a = strtod(v, &end);
        if (end == v || *end || !(a >= 0.0 && a <= HP_UDP_AMP_CAP))
            return fail(ps, "udp_max_amplification: expected a number from 0 to %.1f, got '%s'", HP_UDP_AMP_CAP, v);
        s->udp_max_amplification = a;
    } else if (strcmp(k, "max_input") == 0) {
        if (!set_size(ps, k, v, &s->max_input))
            return 0;
        s->max_input_set = true;
        if (s->max_input < 1)
            return fail(ps, "max_input: must be at least 1 byte");
    } else if (hp_backend_is_key(k)) {
        /* The core's, like bind: protocol modules never see backend keys. */
        if (hp_backend_key(s, k, v, ps->line, msg, sizeof(msg)) != 0)
            return fail(ps, "%s", msg);
    } else {
        /* Belongs to the protocol; validated by it once the section is complete. */
        kv_append(&s->opts, k, v, ps->line);
    }
    return 1;
}

static int output_key(struct parse_state *ps, const char *k, const char *v)
{
    struct hp_output_cfg *o = &ps->cfg->outputs[ps->cur];
    if (strcmp(k, "enabled") == 0) {
        int b;
        if (hp_parse_bool(v, &b) != 0)
            return fail(ps, "enabled: expected true or false, got '%s'", v);
        o->enabled = b;
        return 1;
    }
    kv_append(&o->opts, k, v, ps->line);
    return 1;
}

static bool valid_instance_name(const char *s)
{
    if (!*s || strlen(s) > 40)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

/* Called when a new section header is seen (first key of it). */
static int begin_section(struct parse_state *ps, const char *section)
{
    struct hp_config *c = ps->cfg;
    snprintf(ps->secname, sizeof(ps->secname), "%s", section);
    if (strcmp(section, "sensor") == 0) {
        ps->sec = SEC_SENSOR;
        return 1;
    }
    if (strcmp(section, "limits") == 0) {
        ps->sec = SEC_LIMITS;
        return 1;
    }
    if (strcmp(section, "capture") == 0) {
        ps->sec = SEC_CAPTURE;
        return 1;
    }
    if (strcmp(section, "report") == 0) {
        ps->sec = SEC_REPORT;
        return 1;
    }
    if (strcmp(section, "dashboard") == 0) {
        ps->sec = SEC_DASHBOARD;
        c->dashboard.line = ps->line;
        return 1;
    }
    const char *sp = strchr(section, ' ');
    if (sp && strncmp(section, "output", (size_t)(sp - section)) == 0 && sp - section == 6) {
        const char *name = sp + 1;
        if (!hp_output_find(name))
            return fail(ps, "[output %s]: unknown output (known: jsonl, sqlite)", name);
        for (size_t i = 0; i < c->noutputs; i++)
            if (strcmp(c->outputs[i].name, name) == 0)
                return fail(ps, "[output %s] appears twice", name);
        c->outputs = realloc(c->outputs, (c->noutputs + 1) * sizeof(*c->outputs));
        if (!c->outputs)
            abort();
        struct hp_output_cfg *o = &c->outputs[c->noutputs];
        memset(o, 0, sizeof(*o));
        o->name = hp_xstrdup(name);
        o->line = ps->line;
        o->enabled = true;
        ps->cur = c->noutputs++;
        ps->sec = SEC_OUTPUT;
        return 1;
    }
    if (sp && sp - section == 7 && strncmp(section, "service", 7) == 0) {
        const char *name = sp + 1;
        if (!valid_instance_name(name))
            return fail(ps, "[service %s]: a service name is 1-40 letters, digits, '-', '_' or '.'", name);
        for (size_t i = 0; i < c->nservices; i++)
            if (strcmp(c->services[i].name, name) == 0)
                return fail(ps, "[service %s] appears twice", name);
        c->services = realloc(c->services, (c->nservices + 1) * sizeof(*c->services));
        if (!c->services)
            abort();
        struct hp_service_cfg *s = &c->services[c->nservices];
        memset(s, 0, sizeof(*s));
        s->name = hp_xstrdup(name);
        s->line = ps->line;
        s->idle_timeout_ms = 60000;
        s->max_duration_ms = 3600000;
        s->max_input = 1024 * 1024;
        s->udp_answer_window_ms = 10000;
        s->udp_max_amplification = 1.0;
        ps->cur = c->nservices++;
        ps->sec = SEC_SERVICE;
        return 1;
    }
    return fail(ps, "unknown section [%s] (expected [sensor], [limits], [capture], [dashboard], [report], [output NAME] or [service NAME])",
                section);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse_state *ps = user;
    ps->have_key = true;
    if (ps->failed)
        return 1;
    if (!section[0])
        return fail(ps, "key '%s' outside of any section", name);
    if (strcmp(section, ps->secname) != 0 || ps->sec == SEC_NONE)
        return fail(ps, "section name [%s] is too long", section);   /* inih truncated it */
    if (!name)                   /* section without keys (inih calls with NULL name) */
        return 1;
    int ok = 1;
    switch (ps->sec) {
    case SEC_SENSOR: ok = sensor_key(ps, name, value); break;
    case SEC_LIMITS: ok = limits_key(ps, name, value); break;
    case SEC_CAPTURE: ok = capture_key(ps, name, value); break;
    case SEC_DASHBOARD: ok = dashboard_key(ps, name, value); break;
    case SEC_REPORT: ok = report_key(ps, name, value); break;
    case SEC_OUTPUT: ok = output_key(ps, name, value); break;
    case SEC_SERVICE: ok = service_key(ps, name, value); break;
    default: break;
    }
    (void)ok;
    return 1;                    /* errors are kept in ps; returning 0 would lose our message */
}

/* inih reader callback: one line at a time, counting lines. */
static char *reader(char *str, int num, void *stream)
{
    struct parse_state *ps = stream;
    bool more;
    if (ps->fp) {
        if (!fgets(str, num, ps->fp))
            return NULL;
        int ch = getc(ps->fp);
        more = ch != EOF;
        if (more)
            ungetc(ch, ps->fp);
    } else {
        if (!ps->text[ps->textpos])
            return NULL;
        int i = 0;
        while (i < num - 1 && ps->text[ps->textpos]) {
            char ch = ps->text[ps->textpos++];
            str[i++] = ch;
            if (ch == '\n')
                break;
        }
        str[i] = '\0';
        more = ps->text[ps->textpos] != '\0';
    }
    ps->line++;
    /* inih would parse the rest of a longer line as a line of its own (a
     * "key = value" at the end of a long comment would take effect) and
     * every later line number would be off: refuse such a line. */
    size_t len = strlen(str);
    if (len == (size_t)num - 1 && str[len - 1] != '\n' && more)
        fail(ps, "line too long (at most %d characters)", num - 2);
    /* Section headers are handled here: inih does not report empty sections.
     * Recognise them as inih does: after a UTF-8 BOM on line 1 and leading
     * white space, but an indented line after a key continues that key's
     * value (e.g. "bind = 127.0.0.1" then "       [::1]"). */
    const char *p = str;
    if (ps->line == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    p += strspn(p, " \t\n\v\f\r");
    bool continuation = ps->have_key && p > str;
    const char *end = strchr(p, ']');
    if (*p == '[' && end && !continuation && !ps->failed) {
        ps->have_key = false;
        char name[256];
        p++;
        size_t n = (size_t)(end - p);   /* as inih takes it: no trimming inside [] */
        if (n >= sizeof(name) || n > 48) {
            fail(ps, "section name is too long");
        } else {
            memcpy(name, p, n);
            name[n] = '\0';
            begin_section(ps, name);
        }
    }
    return str;
}

/* ---- whole-file validation ------------------------------------------------- */

static int finish_service(struct parse_state *ps, struct hp_service_cfg *s)
{
    char msg[512];
    ps->line = s->line;
    if (!s->proto)
        return fail(ps, "[service %s]: 'protocol' is required", s->name);
    if (!s->nbind) {
        s->bind = hp_xcalloc(1, sizeof(*s->bind));
        s->bind[0] = hp_xstrdup("127.0.0.1");
        s->nbind = 1;
    }
    if (!s->max_input_set && s->proto->default_max_input)
        s->max_input = s->proto->default_max_input;
    if (!s->ntcp && !s->nudp) {
        /* "tcp_ports =" with nothing in it leaves an empty array behind */
        free(s->tcp_ports);
        free(s->udp_ports);
        s->tcp_ports = s->udp_ports = NULL;
        if (s->proto->default_tcp_ports && hp_parse_ports(s->proto->default_tcp_ports, &s->tcp_ports, &s->ntcp,
                                                          msg, sizeof(msg)) != 0)
            return fail(ps, "internal: %s", msg);
        if (s->proto->default_udp_ports && hp_parse_ports(s->proto->default_udp_ports, &s->udp_ports, &s->nudp,
                                                          msg, sizeof(msg)) != 0)
            return fail(ps, "internal: %s", msg);
        if (!s->ntcp && !s->nudp)
            return fail(ps, "[service %s]: no tcp_ports or udp_ports given", s->name);
    }
    if (s->ntcp && !(s->proto->transports & HP_TRANSPORT_TCP))
        return fail(ps, "[service %s]: protocol %s does not speak TCP", s->name, s->proto->name);
    if (s->nudp && !(s->proto->transports & HP_TRANSPORT_UDP))
        return fail(ps, "[service %s]: protocol %s does not speak UDP", s->name, s->proto->name);
    if (s->proto->configure) {
        msg[0] = '\0';
        if (s->proto->configure(s, msg, sizeof(msg)) != 0) {
            ps->failed = true;
            snprintf(ps->err, ps->errlen, "%s:%s", ps->name, msg);
            return 0;
        }
    } else if (s->opts) {
        ps->line = s->opts->line;
        return fail(ps, "unknown key '%s' in [service %s] (protocol %s)", s->opts->key, s->name,
                    s->proto->name);
    }
    return 1;
}

static int finish_output(struct parse_state *ps, const struct hp_output_cfg *o)
{
    const struct hp_output_ops *ops = hp_output_find(o->name);
    for (const struct hp_kv *kv = o->opts; kv; kv = kv->next) {
        bool known = false;
        for (const char *const *k = ops->keys; k && *k && !known; k++)
            known = strcmp(*k, kv->key) == 0;
        if (!known) {
            ps->line = kv->line;
            return fail(ps, "unknown key '%s' in [output %s]", kv->key, o->name);
        }
    }
    if (ops->check && ops->check(ps->cfg, o, ps->err, ps->errlen) != 0) {
        ps->failed = true;
        return 0;
    }
    return 1;
}

static int finish(struct parse_state *ps)
{
    struct hp_config *c = ps->cfg;
    for (size_t i = 0; i < c->nservices; i++)
        if (!finish_service(ps, &c->services[i]))
            return 0;
    /* Two services may not listen on the same address, port and transport.
     * For UDP this is the only guard: with SO_REUSEADDR a second bind of the
     * same port succeeds and one of the services never sees a datagram. */
    for (size_t i = 0; i < c->nservices; i++)
        for (size_t j = i + 1; j < c->nservices; j++)
            for (int udp = 0; udp <= 1; udp++) {
                const struct hp_service_cfg *si = &c->services[i], *sj = &c->services[j];
                const uint16_t *pi = udp ? si->udp_ports : si->tcp_ports;
                const uint16_t *pj = udp ? sj->udp_ports : sj->tcp_ports;
                size_t ni = udp ? si->nudp : si->ntcp, nj = udp ? sj->nudp : sj->ntcp;
                /* both lists are sorted: one merge pass finds the lowest common port */
                for (size_t a = 0, b = 0; a < ni && b < nj;) {
                    if (pi[a] < pj[b]) {
                        a++;
                    } else if (pi[a] > pj[b]) {
                        b++;
                    } else {
                        ps->line = sj->line;
                        return fail(ps, "[service %s]: %s port %u is already used by [service %s]",
                                    sj->name, udp ? "udp" : "tcp", pj[b], si->name);
                    }
                }
            }
    /* The dashboard never takes a honeypot's port: attackers would find it there. */
    for (size_t i = 0; c->dashboard.enabled && i < c->nservices; i++)
        for (size_t p = 0; p < c->services[i].ntcp; p++)
            if (c->services[i].tcp_ports[p] == c->dashboard.port) {
                ps->line = c->dashboard.line;
                return fail(ps, "[dashboard]: port %u is used by [service %s]", c->dashboard.port,
                            c->services[i].name);
            }
    {
        char msg[512];
        int line = 0;
        if (hp_backend_finish(c, msg, sizeof(msg), &line) != 0) {
            ps->line = line;
            if (line)
                return fail(ps, "%s", msg);
            snprintf(ps->err, ps->errlen, "%s: %s", ps->name, msg);
            ps->failed = true;
            return 0;
        }
    }
    if (c->nservices == 0 && !ps->no_services) {
        ps->line = 0;
        snprintf(ps->err, ps->errlen, "%s: no [service NAME] section: nothing to listen on", ps->name);
        ps->failed = true;
        return 0;
    }
    size_t enabled = 0;
    for (size_t i = 0; i < c->noutputs; i++) {
        if (!finish_output(ps, &c->outputs[i]))
            return 0;
        enabled += c->outputs[i].enabled;
    }
    if (enabled == 0 && !ps->no_services) {
        snprintf(ps->err, ps->errlen, "%s: no [output NAME] section is enabled: events would go nowhere",
                 ps->name);
        ps->failed = true;
        return 0;
    }
    return 1;
}

static struct hp_config *config_new(const char *name)
{
    struct hp_config *c = hp_xcalloc(1, sizeof(*c));
    char host[256] = "hanipo";
    gethostname(host, sizeof(host) - 1);
    c->path = hp_xstrdup(name);
    c->sensor_name = hp_xstrdup(host);
    c->data_dir = hp_xstrdup("/var/lib/hanipo");
    c->user = hp_xstrdup("nobody");
    c->log_file = hp_xstrdup("");
    c->log_level = hp_xstrdup("info");
    c->retention_days = 30;
    c->disk_floor = 512ull << 20;
    char geo_path[4096];          /* where tools/geoip.sh installs (HANIPO_GEO_DIR moves it) */
    c->geoip_country = hp_xstrdup(hp_geo_default_path("country.mmdb", geo_path, sizeof(geo_path)));
    c->geoip_asn = hp_xstrdup(hp_geo_default_path("asn.bin", geo_path, sizeof(geo_path)));
    c->geoip_city = hp_xstrdup("");
    c->max_connections = 4096;
    c->max_per_source = 64;
    c->queue_events = 65536;
    c->queue_bytes = 64ull << 20;
    c->stats_interval_ms = 60000;
    c->shell_persist_ms = 24ull * 3600 * 1000;
    c->shell_source_bytes = 32ull << 20;
    c->shell_total_bytes = 256ull << 20;
    char web_path[4096];
    const char *wd = getenv("HANIPO_WEBDEPS_DIR");   /* where tools/webdeps.sh installs */
    snprintf(web_path, sizeof(web_path), "%s", wd && wd[0] ? wd : "/var/lib/hanipo/webdeps");
    c->dashboard = (struct hp_dashboard_cfg){
        .enabled = false, .bind = hp_xstrdup("127.0.0.1"), .port = 8787,
        .password = hp_xstrdup(""), .assets = hp_xstrdup(web_path),
    };
    c->capture = (struct hp_capture_cfg){
        .fetch = true, .max_size = 20ull << 20, .timeout_ms = 60000, .concurrency = 8,
        .queue = 256, .dedup_window_ms = 3600000, .retries = 2, .retry_delay_ms = 10000,
        .quota = 2ull << 30, .depth = 2, .per_session = 64, .per_host = 32, .shell_wait_ms = 30000,
    };
    return c;
}

static struct hp_config *load(struct parse_state *ps)
{
    int rc = ini_parse_stream(reader, ps, handler, ps);
    if (rc != 0 && !ps->failed) {
        if (rc < 0) {
            snprintf(ps->err, ps->errlen, "%s: cannot read the file", ps->name);
        } else {
            ps->line = rc;
            fail(ps, "syntax error (expected 'key = value' or '[section]')");
        }
        ps->failed = true;
    }
    if (!ps->failed)
        finish(ps);
    if (ps->failed) {
        hp_config_free(ps->cfg);
        return NULL;
    }
    return ps->cfg;
}

struct hp_config *hp_config_load(const char *path, char *err, size_t errlen)
{
    return hp_config_load_flags(path, 0, err, errlen);
}

struct hp_config *hp_config_load_flags(const char *path, unsigned flags, char *err, size_t errlen)
{
    struct parse_state ps = { .name = path, .err = err, .errlen = errlen,
                              .no_services = flags & HP_CONFIG_NO_SERVICES };
    ps.fp = fopen(path, "r");
    if (!ps.fp) {
        snprintf(err, errlen, "%s: cannot open: %m", path);
        return NULL;
    }
    ps.cfg = config_new(path);
    struct hp_config *c = load(&ps);
    fclose(ps.fp);
    return c;
}

struct hp_config *hp_config_load_string(const char *text, const char *name, char *err, size_t errlen)
{
    return hp_config_load_string_flags(text, name, 0, err, errlen);
}

struct hp_config *hp_config_load_string_flags(const char *text, const char *name, unsigned flags, char *err,
                                              size_t errlen)
{
    struct parse_state ps = { .name = name, .err = err, .errlen = errlen, .text = text,
                              .no_services = flags & HP_CONFIG_NO_SERVICES };
    ps.cfg = config_new(name);
    return load(&ps);
}

void hp_config_free(struct hp_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nservices; i++) {
        struct hp_service_cfg *s = &c->services[i];
        if (s->proto && s->proto->unconfigure)
            s->proto->unconfigure(s);
        for (size_t k = 0; k < s->nbind; k++)
            free(s->bind[k]);
        free(s->bind);
        free(s->tcp_ports);
        free(s->udp_ports);
        kv_free(s->opts);
        hp_backend_free(s->backend);
        free(s->name);
    }
    free(c->services);
    for (size_t i = 0; i < c->noutputs; i++) {
        kv_free(c->outputs[i].opts);
        free(c->outputs[i].name);
    }
    free(c->outputs);
    free(c->path);
    free(c->sensor_name);
    free(c->data_dir);
    free(c->user);
    free(c->log_file);
    free(c->log_level);
    free(c->geoip_country);
    free(c->geoip_asn);
    free(c->geoip_city);
    free(c->management);
    free(c->capture.allow);
    free(c->capture.yara_rules);
    free(c->dashboard.bind);
    free(c->dashboard.password);
    free(c->dashboard.assets);
    free(c->dashboard.store);
    free(c->report.store);
    free(c->report.sensor_country);
    free(c);
}
