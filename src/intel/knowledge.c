/*
 * knowledge.c - credential, port and CVE facts, compiled in.
 *
 * data/knowledge/{credentials,ports,cves}.tsv are embedded verbatim with the
 * assembler's .incbin (as fpnames.c and yaradata.c do), so the sensor needs
 * no data file at run time and the facts stay reviewable text with their
 * sources in the comments.  Parsing happens once (pthread_once): each file
 * is copied, split in place into lines and TAB-separated fields, escapes are
 * undone in place (never longer than the source), and the entries go into
 * one array per file plus an open-addressing hash table of indexes.  Unlike
 * the fingerprint lists, a malformed line is an error, reported as
 * FILE:LINE by hp_knowledge_init(): these files are written by hand, and a
 * silently dropped line would be a silently missing annotation.
 *
 * The only peer data seen here are the looked-up credentials; they are
 * hashed and compared with their lengths (they may hold NULs), never copied
 * or indexed, and anything longer than HP_KN_MAX_FIELD cannot match.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "event.h"
#include "intel/knowledge.h"
#include "util.h"

extern const char hp_kn_creds[], hp_kn_creds_end[];
extern const char hp_kn_ports[], hp_kn_ports_end[];
extern const char hp_kn_cves[], hp_kn_cves_end[];

#define KN_INCBIN(sym, file)                                          \
    "  .balign 16\n"                                                  \
    "  .globl " sym "\n  .hidden " sym "\n"                           \
    "  .globl " sym "_end\n  .hidden " sym "_end\n"                   \
    sym ":\n"                                                         \
    "  .incbin \"" file "\"\n"                                        \
    sym "_end:\n"                                                     \
    "  .byte 0\n"

__asm__("  .pushsection .rodata\n"
        KN_INCBIN("hp_kn_creds", "data/knowledge/credentials.tsv")
        KN_INCBIN("hp_kn_ports", "data/knowledge/ports.tsv")
        KN_INCBIN("hp_kn_cves", "data/knowledge/cves.tsv")
        "  .popsection\n");

enum kn_file { KN_CREDS, KN_PORTS, KN_CVES, KN_NFILES };

static const char *const kn_names[KN_NFILES] = { "credentials.tsv", "ports.tsv", "cves.tsv" };
static const int kn_nfields[KN_NFILES] = { 4, 4, 3 };

#define KN_CVE_MAX 31           /* "CVE-YYYY-" plus a generous sequence number */

struct kn_cred {
    const char *user, *pass;
    size_t ulen, plen;
    struct hp_cred_info info;
};

/* One loaded (or scratch) database. */
struct kn_db {
    char *text[KN_NFILES];      /* split copies every string points into */
    struct kn_cred *creds;
    struct hp_port_info *ports;
    struct hp_cve_info *cves;
    size_t n[KN_NFILES];        /* entries kept (distinct keys) */
    size_t lines[KN_NFILES];    /* data lines parsed */
    uint32_t *slots[KN_NFILES]; /* entry index + 1; 0 = empty */
    size_t mask[KN_NFILES];
};

/* Where the parser is, for error messages. */
struct kn_pos {
    const char *file;
    size_t line;
    char *err;
    size_t errlen;
};

static struct kn_db kn_db;
static pthread_once_t kn_once = PTHREAD_ONCE_INIT;
static int kn_status = -1;
static char kn_err[256] = "knowledge tables not loaded";

static int kn_fail(struct kn_pos *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int kn_fail(struct kn_pos *p, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (p->err && p->errlen)
        snprintf(p->err, p->errlen, "%s:%zu: %s", p->file, p->line, msg);
    return -1;
}

/* ---- hashing ---------------------------------------------------------------------- */

static uint64_t kn_fnv(uint64_t h, const void *s, size_t n)
{
    const uint8_t *p = s;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t kn_cred_hash(enum hp_cred_match m, const char *u, size_t ul, const char *p, size_t pl)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)m;
    h = kn_fnv(h, &ul, sizeof(ul));         /* the length keeps "ab"+"c" apart from "a"+"bc" */
    h = kn_fnv(h, u, ul);
    return kn_fnv(h, p, pl);
}

static uint64_t kn_port_hash(uint32_t key)
{
    return kn_fnv(1469598103934665603ull, &key, sizeof(key));
}

static uint64_t kn_cve_hash(const char *id)
{
    return kn_fnv(1469598103934665603ull, id, strlen(id));
}

static bool kn_cred_eq(const struct kn_cred *c, enum hp_cred_match m, const char *u, size_t ul, const char *p,
                       size_t pl)
{
    return c->info.match == m && c->ulen == ul && c->plen == pl && memcmp(c->user, u, ul) == 0 &&
           memcmp(c->pass, p, pl) == 0;
}

static uint32_t kn_port_key(uint16_t port, const char *proto)
{
    return (uint32_t)port << 1 | (proto[0] == 'u');
}

/* ---- field parsing ---------------------------------------------------------------- */

/* Undo \t \n \r \\ \* \xHH in place; the result is NUL-terminated and *len
 * is its length (\x00 is allowed only where allow_nul: user and password). */
static int kn_unescape(struct kn_pos *pos, char *s, size_t *len, bool allow_nul)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r != '\\') {
            *w++ = *r;
            continue;
        }
        switch (*++r) {
        case 't': *w++ = '\t'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        case '\\': *w++ = '\\'; break;
        case '*': *w++ = '*'; break;
        case 'x': {
            int hi = hp_hexval((unsigned char)r[1]), lo = hi < 0 ? -1 : hp_hexval((unsigned char)r[2]);
            if (lo < 0)
                return kn_fail(pos, "bad \\x escape");
            if (hi == 0 && lo == 0 && !allow_nul)
                return kn_fail(pos, "\\x00 is allowed only in a user or password");
            *w++ = (char)(hi << 4 | lo);
            r += 2;
            break;
        }
        default:
            return kn_fail(pos, "bad escape \\%c", *r ? *r : '0');
        }
    }
    *w = '\0';
    *len = (size_t)(w - s);
    return 0;
}

/* A text field: unescaped, non-empty. */
static int kn_text(struct kn_pos *pos, char *s, const char *what)
{
    size_t n;
    if (kn_unescape(pos, s, &n, false) != 0)
        return -1;
    return n ? 0 : kn_fail(pos, "empty %s", what);
}

/* "-" or a comma list of lowercase names, split in place. */
static int kn_names_list(struct kn_pos *pos, char *s, const char **out, size_t *n)
{
    *n = 0;
    if (strcmp(s, "-") == 0)
        return 0;
    for (char *name = s;;) {
        char *comma = strchr(name, ',');
        if (comma)
            *comma = '\0';
        if (!*name)
            return kn_fail(pos, "empty name in list");
        for (const char *c = name; *c; c++)
            if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || strchr("._-", *c)))
                return kn_fail(pos, "name '%s': use [a-z0-9._-]", name);
        if (*n == HP_KN_MAX_NAMES)
            return kn_fail(pos, "more than %d names", HP_KN_MAX_NAMES);
        out[(*n)++] = name;
        if (!comma)
            return 0;
        name = comma + 1;
    }
}

/* ---- the three kinds of lines --------------------------------------------------- */

static int kn_parse_cred(struct kn_pos *pos, char **f, struct kn_cred *c)
{
    bool any_user = strcmp(f[0], "*") == 0, any_pass = strcmp(f[1], "*") == 0;

    memset(c, 0, sizeof(*c));
    if (any_user && any_pass)
        return kn_fail(pos, "user and password cannot both be '*'");
    c->info.match = any_pass ? HP_CRED_USER : any_user ? HP_CRED_PASS : HP_CRED_PAIR;
    if (any_user)
        f[0][0] = '\0';
    if (any_pass)
        f[1][0] = '\0';
    if ((!any_user && kn_unescape(pos, f[0], &c->ulen, true) != 0) ||
        (!any_pass && kn_unescape(pos, f[1], &c->plen, true) != 0))
        return -1;
    if (c->ulen > HP_KN_MAX_FIELD || c->plen > HP_KN_MAX_FIELD)
        return kn_fail(pos, "user or password longer than %d bytes", HP_KN_MAX_FIELD);
    if (c->info.match == HP_CRED_USER && c->ulen == 0)
        return kn_fail(pos, "'*' password needs a user");     /* "" + any would match too much */
    if (c->info.match == HP_CRED_PASS && c->plen == 0)
        return kn_fail(pos, "'*' user needs a password");
    c->user = f[0];
    c->pass = f[1];
    if (kn_text(pos, f[2], "vendor/device") != 0)
        return -1;
    c->info.vendor = f[2];
    return kn_names_list(pos, f[3], c->info.botnets, &c->info.nbotnets);
}

static int kn_parse_port(struct kn_pos *pos, char **f, struct hp_port_info *p)
{
    char *end;
    unsigned long port;

    memset(p, 0, sizeof(*p));
    if (!isdigit((unsigned char)f[0][0]))
        return kn_fail(pos, "port '%s' is not a number", f[0]);
    port = strtoul(f[0], &end, 10);
    if (*end || port == 0 || port > 65535)
        return kn_fail(pos, "port '%s' is not in 1..65535", f[0]);
    if (strcmp(f[1], "tcp") != 0 && strcmp(f[1], "udp") != 0)
        return kn_fail(pos, "proto '%s': tcp or udp", f[1]);
    p->port = (uint16_t)port;
    p->proto = f[1][0] == 't' ? "tcp" : "udp";
    if (kn_text(pos, f[2], "service") != 0)
        return -1;
    p->service = f[2];
    return kn_names_list(pos, f[3], p->campaigns, &p->ncampaigns);
}

/* CVE-YYYY-NNNN with at least four digits in the sequence; upper-cased in place. */
static bool kn_cve_id_ok(char *id)
{
    size_t n = strlen(id), i;
    if (n < 13 || n > KN_CVE_MAX)
        return false;
    for (i = 0; i < n; i++)
        id[i] = (char)toupper((unsigned char)id[i]);
    if (strncmp(id, "CVE-", 4) != 0 || id[8] != '-')
        return false;
    for (i = 4; i < n; i++)
        if (i != 8 && !isdigit((unsigned char)id[i]))
            return false;
    return true;
}

static int kn_parse_cve(struct kn_pos *pos, char **f, struct hp_cve_info *c)
{
    if (!kn_cve_id_ok(f[0]))
        return kn_fail(pos, "'%s' is not a CVE id (CVE-YYYY-NNNN)", f[0]);
    if (kn_text(pos, f[1], "product") != 0 || kn_text(pos, f[2], "short name") != 0)
        return -1;
    c->id = f[0];
    c->product = f[1];
    c->name = f[2];
    return 0;
}

/* ---- tables ------------------------------------------------------------------------ */

/* Index of the entry with the same key as entry i, or i itself once inserted;
 * SIZE_MAX only if the table is full (it never is: slots >= 2 * lines). */
static size_t kn_find_slot(const struct kn_db *db, enum kn_file k, uint64_t h, size_t i, bool insert)
{
    for (size_t probe = 0, s = (size_t)h & db->mask[k]; probe <= db->mask[k]; probe++, s = (s + 1) & db->mask[k]) {
        uint32_t v = db->slots[k][s];
        if (v == 0) {
            if (insert)
                db->slots[k][s] = (uint32_t)(i + 1);
            return i;
        }
        size_t j = v - 1;
        bool same;
        if (k == KN_CREDS) {
            const struct kn_cred *a = &db->creds[i];
            same = kn_cred_eq(&db->creds[j], a->info.match, a->user, a->ulen, a->pass, a->plen);
        } else if (k == KN_PORTS) {
            same = db->ports[j].port == db->ports[i].port && db->ports[j].proto == db->ports[i].proto;
        } else {
            same = strcmp(db->cves[j].id, db->cves[i].id) == 0;
        }
        if (same)
            return j;
    }
    return SIZE_MAX;
}

static uint64_t kn_entry_hash(const struct kn_db *db, enum kn_file k, size_t i)
{
    if (k == KN_CREDS) {
        const struct kn_cred *c = &db->creds[i];
        return kn_cred_hash(c->info.match, c->user, c->ulen, c->pass, c->plen);
    }
    if (k == KN_PORTS)
        return kn_port_hash(kn_port_key(db->ports[i].port, db->ports[i].proto));
    return kn_cve_hash(db->cves[i].id);
}

/* Parse one line's fields into entry n of file k; keep it if its key is new. */
static int kn_add_line(struct kn_db *db, enum kn_file k, struct kn_pos *pos, char **f)
{
    size_t i = db->n[k];
    int rc = k == KN_CREDS ? kn_parse_cred(pos, f, &db->creds[i])
           : k == KN_PORTS ? kn_parse_port(pos, f, &db->ports[i])
           : kn_parse_cve(pos, f, &db->cves[i]);
    if (rc != 0)
        return -1;
    db->lines[k]++;
    size_t at = kn_find_slot(db, k, kn_entry_hash(db, k, i), i, true);
    if (at == SIZE_MAX)
        return kn_fail(pos, "table full");
    if (at == i)
        db->n[k]++;             /* a repeated key: the first line wins */
    return 0;
}

/* Split a line at TABs into exactly want fields. */
static int kn_split(struct kn_pos *pos, char *line, char **f, int want)
{
    int n = 0;
    for (char *s = line;; n++) {
        char *tab = strchr(s, '\t');
        if (n < want)
            f[n] = s;
        if (!tab) {
            n++;
            break;
        }
        *tab = '\0';
        s = tab + 1;
    }
    if (n != want)
        return kn_fail(pos, "%d TAB-separated fields, expected %d", n, want);
    return 0;
}

static size_t kn_count_lines(const char *s, size_t len)
{
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += s[i] == '\n';
    return n;
}

/* Copy text into db->text[k], allocate its arrays and load every line. */
static int kn_load(struct kn_db *db, enum kn_file k, const char *start, size_t len, char *err, size_t errlen)
{
    struct kn_pos pos = { kn_names[k], 0, err, errlen };
    size_t lines = kn_count_lines(start, len), slots = 16;
    size_t esz = k == KN_CREDS ? sizeof(struct kn_cred) : k == KN_PORTS ? sizeof(struct hp_port_info)
                                                                       : sizeof(struct hp_cve_info);
    void *arr;
    char *text, *line, *next;

    while (slots < 2 * lines)
        slots *= 2;
    text = malloc(len + 1);
    arr = calloc(lines, esz);
    db->slots[k] = calloc(slots, sizeof(uint32_t));
    db->text[k] = text;
    if (k == KN_CREDS)
        db->creds = arr;
    else if (k == KN_PORTS)
        db->ports = arr;
    else
        db->cves = arr;
    if (!text || !arr || !db->slots[k])
        return kn_fail(&pos, "out of memory");
    db->mask[k] = slots - 1;
    memcpy(text, start, len);
    text[len] = '\0';
    if (memchr(text, '\0', len))
        return kn_fail(&pos, "NUL byte in the file");
    for (line = text; line; line = next) {
        char *f[4];
        size_t n;
        pos.line++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        n = strlen(line);
        if (n && line[n - 1] == '\r')
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        if (kn_split(&pos, line, f, kn_nfields[k]) != 0 || kn_add_line(db, k, &pos, f) != 0)
            return -1;
    }
    return 0;
}

static void kn_free(struct kn_db *db)
{
    for (int k = 0; k < KN_NFILES; k++) {
        free(db->text[k]);
        free(db->slots[k]);
    }
    free(db->creds);
    free(db->ports);
    free(db->cves);
    memset(db, 0, sizeof(*db));
}

static void kn_init_once(void)
{
    static const struct { const char *s, *e; } files[KN_NFILES] = {
        [KN_CREDS] = { hp_kn_creds, hp_kn_creds_end },
        [KN_PORTS] = { hp_kn_ports, hp_kn_ports_end },
        [KN_CVES] = { hp_kn_cves, hp_kn_cves_end },
    };
    for (int k = 0; k < KN_NFILES; k++) {
        if (kn_load(&kn_db, (enum kn_file)k, files[k].s, (size_t)(files[k].e - files[k].s), kn_err,
                    sizeof(kn_err)) != 0) {
            kn_free(&kn_db);    /* all or nothing: lookups then answer NULL */
            return;
        }
    }
    kn_err[0] = '\0';
    kn_status = 0;
}

static bool kn_ready(void)
{
    pthread_once(&kn_once, kn_init_once);
    return kn_status == 0;
}

/* ---- public API ----------------------------------------------------------------- */

int hp_knowledge_init(char *err, size_t errlen)
{
    if (kn_ready())
        return 0;
    if (err && errlen)
        snprintf(err, errlen, "knowledge: %s", kn_err);
    return -1;
}

static const struct hp_cred_info *kn_cred_lookup(enum hp_cred_match m, const char *u, size_t ul, const char *p,
                                                 size_t pl)
{
    const struct kn_db *db = &kn_db;
    uint64_t h = kn_cred_hash(m, u, ul, p, pl);
    for (size_t probe = 0, s = (size_t)h & db->mask[KN_CREDS]; probe <= db->mask[KN_CREDS];
         probe++, s = (s + 1) & db->mask[KN_CREDS]) {
        uint32_t v = db->slots[KN_CREDS][s];
        if (v == 0)
            return NULL;
        if (kn_cred_eq(&db->creds[v - 1], m, u, ul, p, pl))
            return &db->creds[v - 1].info;
    }
    return NULL;
}

const struct hp_cred_info *hp_knowledge_cred(const char *user, size_t ulen, const char *pass, size_t plen)
{
    const struct hp_cred_info *ci;

    if (!kn_ready() || ulen > HP_KN_MAX_FIELD || plen > HP_KN_MAX_FIELD)
        return NULL;
    if (!user)
        ulen = 0, user = "";
    if (!pass)
        plen = 0, pass = "";
    if ((ci = kn_cred_lookup(HP_CRED_PAIR, user, ulen, pass, plen)) != NULL)
        return ci;
    if (ulen && (ci = kn_cred_lookup(HP_CRED_USER, user, ulen, "", 0)) != NULL)
        return ci;
    if (plen && (ci = kn_cred_lookup(HP_CRED_PASS, "", 0, pass, plen)) != NULL)
        return ci;
    return NULL;
}

static const struct hp_port_info *kn_port_lookup(uint16_t port, const char *proto)
{
    const struct kn_db *db = &kn_db;
    uint64_t h = kn_port_hash(kn_port_key(port, proto));
    for (size_t probe = 0, s = (size_t)h & db->mask[KN_PORTS]; probe <= db->mask[KN_PORTS];
         probe++, s = (s + 1) & db->mask[KN_PORTS]) {
        uint32_t v = db->slots[KN_PORTS][s];
        if (v == 0)
            return NULL;
        const struct hp_port_info *pi = &db->ports[v - 1];
        if (pi->port == port && pi->proto[0] == proto[0])
            return pi;
    }
    return NULL;
}

const struct hp_port_info *hp_knowledge_port(uint16_t port, const char *proto)
{
    const struct hp_port_info *pi;

    if (!kn_ready())
        return NULL;
    if (!proto)
        return (pi = kn_port_lookup(port, "tcp")) != NULL ? pi : kn_port_lookup(port, "udp");
    if (strcasecmp(proto, "tcp") == 0)
        return kn_port_lookup(port, "tcp");
    if (strcasecmp(proto, "udp") == 0)
        return kn_port_lookup(port, "udp");
    return NULL;
}

const struct hp_cve_info *hp_knowledge_cve(const char *cve)
{
    char id[KN_CVE_MAX + 1];
    size_t n;
    const struct kn_db *db = &kn_db;

    if (!cve || !kn_ready() || (n = strlen(cve)) > KN_CVE_MAX)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        id[i] = (char)toupper((unsigned char)cve[i]);
    uint64_t h = kn_cve_hash(id);
    for (size_t probe = 0, s = (size_t)h & db->mask[KN_CVES]; probe <= db->mask[KN_CVES];
         probe++, s = (s + 1) & db->mask[KN_CVES]) {
        uint32_t v = db->slots[KN_CVES][s];
        if (v == 0)
            return NULL;
        if (strcmp(db->cves[v - 1].id, id) == 0)
            return &db->cves[v - 1];
    }
    return NULL;
}

void hp_knowledge_ev_cred(struct hp_ev *ev, const void *user, size_t ulen, const void *pass, size_t plen)
{
    static const char *const match[] = { [HP_CRED_PAIR] = "pair", [HP_CRED_USER] = "user",
                                         [HP_CRED_PASS] = "password" };
    const struct hp_cred_info *ci = hp_knowledge_cred(user, ulen, pass, plen);

    if (!ci)
        return;
    hp_ev_str(ev, "cred_device", ci->vendor);
    hp_ev_arr_begin(ev, "cred_botnets");
    for (size_t i = 0; i < ci->nbotnets; i++)
        hp_ev_elem_str(ev, ci->botnets[i]);
    hp_ev_arr_end(ev);
    hp_ev_str(ev, "cred_match", match[ci->match]);
}

void hp_knowledge_get_stats(struct hp_knowledge_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (!kn_ready())
        return;
    st->cred_lines = kn_db.lines[KN_CREDS];
    st->creds = kn_db.n[KN_CREDS];
    st->port_lines = kn_db.lines[KN_PORTS];
    st->ports = kn_db.n[KN_PORTS];
    st->cve_lines = kn_db.lines[KN_CVES];
    st->cves = kn_db.n[KN_CVES];
}

int hp_knowledge_check(const char *name, const char *text, size_t len, char *err, size_t errlen)
{
    struct kn_db scratch = { 0 };
    int k, rc;

    for (k = 0; k < KN_NFILES && (!name || strcmp(name, kn_names[k]) != 0); k++)
        ;
    if (k == KN_NFILES) {
        if (err && errlen)
            snprintf(err, errlen, "%s: not a knowledge file name", name ? name : "(null)");
        return -1;
    }
    rc = kn_load(&scratch, (enum kn_file)k, text ? text : "", text ? len : 0, err, errlen);
    kn_free(&scratch);
    return rc;
}
