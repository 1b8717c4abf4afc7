/*
 * payloadclass.c - the trap's exploit recognition: YARA rules on raw bytes.
 *
 * data/trap/exploits.yar is embedded with the family rules
 * (src/capture/yaradata.c) and compiled with them into the sensor's one
 * YARA rule set (src/capture/yararules.h: libyara keeps about 7 MB per
 * compiled set), under the namespace "trap"; hp_payloadclass_init() takes
 * that set, before the sandbox, and reads only its "trap" rules, and a scan
 * ignores what the other rules match.  Initialisation also checks every
 * rule's metas: a class outside the shared vocabulary (webclass.h), a
 * malformed CVE id or a missing name is an error at start-up, never a
 * silently empty field later.  The checked metas are kept per rule, so a
 * match costs a pointer lookup, not a parse.
 *
 * Scanning is YARA's own: fast mode (each string is looked for until it is
 * found once), a one-second timeout, and whatever matched before a timeout
 * or an error is kept.  One scan of a short chunk costs about 2.7 us, most
 * of it libyara evaluating every rule's condition of the shared set; the
 * trap sees the same probe bytes over and over (a scanner sends one probe
 * to every address), so verdicts on chunks of up to PC_MEMO_BYTES are kept
 * in a small direct-mapped table keyed by the bytes themselves (compared
 * whole, so no crafted collision borrows a verdict), as the web engine keeps
 * its verdicts (src/proto/http_memo.c).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <yara.h>

#include "capture/yararules.h"
#include "intel/payloadclass.h"
#include "intel/webclass.h"
#include "util.h"

#define PC_MAX_RULES 256
#define PC_SCAN_TIMEOUT_S 1
#define PC_REPLY_MAX 4096         /* a handshake's answer, not a file */
#define PC_MEMO_SLOTS 64          /* verdicts kept (a power of two) */
#define PC_MEMO_BYTES 1024        /* longest chunk whose verdict is kept */

/* One kept verdict: the chunk's bytes and what the rules said of them. */
struct pc_memo {
    uint64_t hash;
    size_t len;
    uint8_t bytes[PC_MEMO_BYTES];
    struct hp_payloadclass result;
};

/* What one rule's metas say, checked at compile time. */
struct pc_rule {
    const YR_RULE *rule;
    const char *classes[HP_PAYLOADCLASS_MAX];
    size_t nclasses;
    char *cves[HP_PAYLOADCLASS_MAX];
    size_t ncves;
    uint8_t *reply;               /* the "reply" or "reply_hex" meta's bytes, or NULL */
    size_t reply_len;
};

static struct {
    YR_RULES *rules;
    YR_SCANNER *scanner;          /* one, reused (a scanner per scan cost 0.5 us more) */
    bool shared;                  /* the sensor's set (yararules.h), else our own (tests) */
    struct pc_rule *info;
    size_t ninfo;
    struct pc_memo *memo;         /* PC_MEMO_SLOTS, allocated with the rules */
    uint64_t memo_seed;           /* per process: a peer cannot aim at one slot */
} pc;

struct pc_err {
    char *err;
    size_t errlen;
    bool set;
};

__attribute__((format(printf, 2, 3)))
static void pc_fail(struct pc_err *e, const char *fmt, ...)
{
    if (e->set || !e->err || !e->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->err, e->errlen, fmt, ap);
    va_end(ap);
    e->set = true;
}

static void pc_compile_cb(int level, const char *file, int line, const YR_RULE *rule, const char *msg,
                          void *user)
{
    (void)file;
    (void)rule;
    if (level != YARA_ERROR_LEVEL_ERROR)
        return;
    pc_fail(user, "data/trap/exploits.yar:%d: %s", line, msg ? msg : "error");
}

/* The next space-separated word of *s into w (at most wlen-1 bytes); false at the end. */
static bool pc_word(const char **s, char *w, size_t wlen)
{
    const char *p = *s;
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, " ");
    if (!n)
        return false;
    snprintf(w, wlen, "%.*s", (int)n, p);
    *s = p + n;
    return true;
}

/* hex digits (blanks between bytes allowed) into a new buffer; -1 if malformed or empty. */
static int pc_unhex(const char *h, uint8_t **out, size_t *outlen)
{
    size_t n = 0, cap = strlen(h) / 2 + 1;
    uint8_t *b = malloc(cap);
    if (!b)
        return -1;
    for (const char *p = h; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        int hi = hp_hexval((unsigned char)p[0]), lo = p[1] ? hp_hexval((unsigned char)p[1]) : -1;
        if (hi < 0 || lo < 0 || n == cap) {
            free(b);
            return -1;
        }
        b[n++] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }
    if (!n) {
        free(b);
        return -1;
    }
    *out = b;
    *outlen = n;
    return 0;
}

/* The rule's reply: "reply" (text; YARA's escapes, no NUL) or "reply_hex" (any bytes). */
static int pc_rule_reply(const YR_RULE *rule, struct pc_rule *r, const char *text, const char *hex,
                         struct pc_err *e)
{
    if (text && hex)
        return pc_fail(e, "rule %s: reply and reply_hex both given", rule->identifier), -1;
    if (hex && pc_unhex(hex, &r->reply, &r->reply_len) != 0)
        return pc_fail(e, "rule %s: reply_hex is not hex bytes", rule->identifier), -1;
    if (text && text[0]) {
        r->reply_len = strlen(text);
        if (!(r->reply = malloc(r->reply_len)))
            return pc_fail(e, "out of memory"), -1;
        memcpy(r->reply, text, r->reply_len);
    }
    if (r->reply_len > PC_REPLY_MAX)
        return pc_fail(e, "rule %s: reply longer than %d bytes", rule->identifier, PC_REPLY_MAX), -1;
    return 0;
}

/* Check one rule's metas into r. */
static int pc_rule_metas(const YR_RULE *rule, struct pc_rule *r, struct pc_err *e)
{
    const YR_META *meta;
    const char *cls = NULL, *cve = NULL, *name = NULL, *reply = NULL, *reply_hex = NULL;
    r->rule = rule;
    yr_rule_metas_foreach(rule, meta) {
        if (meta->type != META_TYPE_STRING)
            continue;
        if (strcmp(meta->identifier, "class") == 0)
            cls = meta->string;
        else if (strcmp(meta->identifier, "cve") == 0)
            cve = meta->string;
        else if (strcmp(meta->identifier, "name") == 0)
            name = meta->string;
        else if (strcmp(meta->identifier, "reply") == 0)
            reply = meta->string;
        else if (strcmp(meta->identifier, "reply_hex") == 0)
            reply_hex = meta->string;
    }
    if (pc_rule_reply(rule, r, reply, reply_hex, e) != 0)
        return -1;
    if (!cls || !cve || !name || !name[0])
        return pc_fail(e, "rule %s: needs the metas class, cve and name", rule->identifier), -1;
    char w[64];
    while (pc_word(&cls, w, sizeof(w))) {
        const char *c = hp_webclass_class_name(w);
        if (!c)
            return pc_fail(e, "rule %s: unknown class '%s'", rule->identifier, w), -1;
        if (r->nclasses == HP_PAYLOADCLASS_MAX)
            return pc_fail(e, "rule %s: too many classes", rule->identifier), -1;
        r->classes[r->nclasses++] = c;
    }
    if (!r->nclasses)
        return pc_fail(e, "rule %s: no class", rule->identifier), -1;
    while (pc_word(&cve, w, sizeof(w))) {
        if (!hp_webclass_valid_cve(w))
            return pc_fail(e, "rule %s: bad CVE id '%s'", rule->identifier, w), -1;
        if (r->ncves == HP_PAYLOADCLASS_MAX)
            return pc_fail(e, "rule %s: too many CVEs", rule->identifier), -1;
        if (!(r->cves[r->ncves++] = strdup(w)))
            return pc_fail(e, "out of memory"), -1;
    }
    return 0;
}

static int pc_index(struct pc_err *e)
{
    const YR_RULE *rule;
    if (!(pc.memo = calloc(PC_MEMO_SLOTS, sizeof(*pc.memo))))
        return pc_fail(e, "out of memory"), -1;
    pc.memo_seed = hp_random_u64();
    if (yr_scanner_create(pc.rules, &pc.scanner) != ERROR_SUCCESS)
        return pc_fail(e, "yr_scanner_create failed"), -1;
    /* Without NO_TRYCATCH libyara installs and removes SIGBUS/SIGSEGV handlers
     * around every scan (for memory-mapped files that shrink): two sigaction
     * calls that were 2 us of a 2.5 us scan.  We scan our own heap buffers. */
    yr_scanner_set_flags(pc.scanner, SCAN_FLAGS_FAST_MODE | SCAN_FLAGS_NO_TRYCATCH);
    yr_scanner_set_timeout(pc.scanner, PC_SCAN_TIMEOUT_S);
    pc.info = calloc(PC_MAX_RULES, sizeof(*pc.info));
    if (!pc.info)
        return pc_fail(e, "out of memory"), -1;
    yr_rules_foreach(pc.rules, rule) {
        if (!hp_yara_in_ns(rule, HP_YARA_NS_TRAP))
            continue;                 /* the capture pipeline's family rules */
        if (pc.ninfo == PC_MAX_RULES)
            return pc_fail(e, "more than %d rules", PC_MAX_RULES), -1;
        if (pc_rule_metas(rule, &pc.info[pc.ninfo++], e) != 0)
            return -1;
    }
    return 0;
}

int hp_payloadclass_init_text(const char *text, char *err, size_t errlen)
{
    struct pc_err e = { err, errlen, false };
    YR_COMPILER *comp = NULL;
    if (err && errlen)
        err[0] = '\0';
    hp_payloadclass_shutdown();
    if (yr_initialize() != ERROR_SUCCESS) {
        pc_fail(&e, "yr_initialize failed");
        return -1;
    }
    if (yr_compiler_create(&comp) != ERROR_SUCCESS) {
        pc_fail(&e, "yr_compiler_create failed");
        yr_finalize();
        return -1;
    }
    yr_compiler_set_callback(comp, pc_compile_cb, &e);
    if (yr_compiler_add_string(comp, text, HP_YARA_NS_TRAP) != 0 ||
        yr_compiler_get_rules(comp, &pc.rules) != ERROR_SUCCESS) {
        pc_fail(&e, "data/trap/exploits.yar: compilation failed");
        yr_compiler_destroy(comp);
        yr_finalize();
        return -1;
    }
    yr_compiler_destroy(comp);
    if (pc_index(&e) != 0) {
        hp_payloadclass_shutdown();
        return -1;
    }
    return 0;
}

int hp_payloadclass_init(const char *extra_dir, char *err, size_t errlen)
{
    struct pc_err e = { err, errlen, false };
    if (pc.rules)
        return 0;
    if (!(pc.rules = hp_yara_acquire(extra_dir, err, errlen)))
        return -1;
    pc.shared = true;
    if (pc_index(&e) != 0) {
        hp_payloadclass_shutdown();
        return -1;
    }
    return 0;
}

size_t hp_payloadclass_nrules(void)
{
    return pc.rules ? pc.ninfo : 0;
}

bool hp_payloadclass_has_replies(void)
{
    for (size_t i = 0; i < pc.ninfo; i++)
        if (pc.info[i].reply)
            return true;
    return false;
}

void hp_payloadclass_shutdown(void)
{
    for (size_t i = 0; i < pc.ninfo; i++) {
        for (size_t k = 0; k < pc.info[i].ncves; k++)
            free(pc.info[i].cves[k]);
        free(pc.info[i].reply);
    }
    free(pc.info);
    pc.info = NULL;
    free(pc.memo);
    pc.memo = NULL;
    pc.ninfo = 0;
    if (pc.scanner)
        yr_scanner_destroy(pc.scanner);
    pc.scanner = NULL;
    if (pc.rules && pc.shared) {
        hp_yara_release();
    } else if (pc.rules) {
        yr_rules_destroy(pc.rules);
        yr_finalize();                /* counted by libyara, with the shared set's */
    }
    pc.rules = NULL;
    pc.shared = false;
}

static int pc_scan_cb(YR_SCAN_CONTEXT *ctx, int message, void *message_data, void *user)
{
    (void)ctx;
    struct hp_payloadclass *out = user;
    if (message != CALLBACK_MSG_RULE_MATCHING)
        return CALLBACK_CONTINUE;
    const YR_RULE *rule = message_data;
    for (size_t i = 0; i < pc.ninfo; i++) {
        const struct pc_rule *r = &pc.info[i];
        if (r->rule != rule)
            continue;
        hp_strset_add(out->rules, &out->nrules, HP_PAYLOADCLASS_MAX, rule->identifier);
        for (size_t k = 0; k < r->nclasses; k++)
            hp_strset_add(out->classes, &out->nclasses, HP_PAYLOADCLASS_MAX, r->classes[k]);
        for (size_t k = 0; k < r->ncves; k++)
            hp_strset_add(out->cves, &out->ncves, HP_PAYLOADCLASS_MAX, r->cves[k]);
        if (r->reply && !out->reply) {
            out->reply = r->reply;
            out->reply_len = r->reply_len;
            out->reply_rule = rule->identifier;
        }
        break;
    }
    return CALLBACK_CONTINUE;
}

void hp_payloadclass_scan(const uint8_t *p, size_t n, struct hp_payloadclass *out)
{
    memset(out, 0, sizeof(*out));
    if (!pc.scanner || n == 0)
        return;
    struct pc_memo *m = NULL;
    uint64_t h = 0;
    if (n <= PC_MEMO_BYTES) {
        h = XXH3_64bits_withSeed(p, n, pc.memo_seed);
        m = &pc.memo[h & (PC_MEMO_SLOTS - 1)];
        if (m->len == n && m->hash == h && memcmp(m->bytes, p, n) == 0) {
            *out = m->result;         /* the same bytes: the same verdict */
            return;
        }
    }
    /* A timeout or an error keeps whatever matched before it. */
    yr_scanner_set_callback(pc.scanner, pc_scan_cb, out);
    (void)yr_scanner_scan_mem(pc.scanner, p, n);
    if (m) {
        m->hash = h;
        m->len = n;
        memcpy(m->bytes, p, n);
        m->result = *out;             /* its strings live as long as the rules */
    }
}
