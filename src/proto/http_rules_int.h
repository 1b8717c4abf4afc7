/*
 * http_rules_int.h - internals shared by the HTTP response rule files
 * (http_rules.c: rule-file parser, matcher, renderer; http_rules_wow.c:
 * WOWHoneypot XML import; http_rulesdata.c: the embedded copy).
 */
#ifndef HP_HTTP_RULES_INT_H
#define HP_HTTP_RULES_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include "core/relit.h"
#include "proto/http_rules.h"

#define WR_MAX_RULES   10000
#define WR_MAX_CONDS   32
#define WR_MAX_PORTS   64
#define WR_MAX_FILE    (16u * 1024 * 1024)
#define WR_MAX_BODY    (4u * 1024 * 1024)
#define WR_MAX_HEADERS (16u * 1024)
/* Backtracking budget per regex match: far more than any sane rule needs
 * on a 64 KiB subject, a few milliseconds at worst for a pathological one. */
#define WR_MATCH_LIMIT 200000
#define WR_DEPTH_LIMIT 2000

enum wr_subject {
    WR_PATH,        /* decoded path */
    WR_NPATH,       /* the path as nginx resolves it */
    WR_SERVER,      /* the service's own Server header (its personality) */
    WR_QUERY,       /* decoded query */
    WR_HEADER,      /* value of each header named hname (any one matching) */
    WR_BODY,        /* decoded body */
    WR_TARGET,      /* raw request-target (WOWHoneypot's uri) */
    WR_HEADERS,     /* all headers as "Name: value\n" lines (WOWHoneypot's header) */
    WR_RAWBODY      /* raw body, must be non-empty (WOWHoneypot's body) */
};

struct wr_cond {
    enum wr_subject subj;
    bool neg;                  /* condition holds when the regex does NOT match */
    char *hname;               /* WR_HEADER only */
    pcre2_code *re;
    struct hp_relit lit;       /* a literal every match contains (relit.h) */
};

struct wr_rule {
    struct hp_webresp resp;    /* points into the owned fields below */
    char *id;
    char *methods;             /* space separated list; NULL: any */
    uint16_t ports[WR_MAX_PORTS];
    size_t nports;             /* 0: any */
    struct wr_cond conds[WR_MAX_CONDS];
    size_t nconds;
    char *headers;
    uint8_t *body;
    size_t body_len;
    char *realm;
    char *tags;
};

struct hp_webrules {
    struct wr_rule *rules;
    size_t n, alloc;
    pcre2_match_context *mctx;
    pcre2_match_data *md;      /* scratch, see the thread note in http_rules.h */
    struct hp_buf scratch;     /* WR_HEADERS subject */
};

/* Compile pat; on error a message into msg and NULL. */
pcre2_code *wr_compile(const char *pat, size_t n, struct hp_relit *lit, char *msg, size_t msglen);
void wr_rule_clear(struct wr_rule *ru);
/* Point ru->resp at the owned fields (after they are final). */
void wr_rule_seal(struct wr_rule *ru);
/* Insert n rules at position at (taking ownership); -1 if the set would be too big. */
int wr_set_insert(struct hp_webrules *r, size_t at, struct wr_rule *rules, size_t n);
bool wr_has_id(const struct hp_webrules *r, const char *id);
/* Read a whole file (at most max bytes, NUL appended); NULL with errno-ish message. */
char *wr_read_file(const char *path, size_t max, size_t *len, char *msg, size_t msglen);

/* Embedded data (http_rulesdata.c). */
const char *hp_httpdata_rules(size_t *len);
const uint8_t *hp_httpdata_file(const char *name, size_t *len);

/* Builtin loader: file resolver that reads from the embedded table. */
struct hp_webrules *wr_load_text_embedded(const char *text, size_t len, const char *name, char *err, size_t errlen);

#endif
