/*
 * webclass.c - attack classification of HTTP requests by data-driven rules.
 *
 * The rules are data/http/classify.rules, embedded verbatim with the
 * assembler's .incbin like src/shell/fsdata.c embeds the shell images, so the
 * sensor needs no file at run time and the rules stay a readable text (the
 * format is documented at the top of that file and in docs/http.md).  They
 * are parsed and compiled once by hp_webclass_init(), before the sandbox,
 * with PCRE2's JIT when available (the interpreter otherwise) and match,
 * depth and heap limits so a hostile request cannot make a pattern run away.
 *
 * Classifying a request builds, once, the texts the rules look at: the view's
 * fields plus four synthetic ones ("headers", "input", "any", "request"), and for
 * each text lazily a normalised variant in which ${IFS}, $IFS, ${IFS%??},
 * $IFS$9-style empty positionals and tabs become spaces, backslash-newline
 * disappears and %XX is undone once more (the view already undid it once or
 * twice).  A condition holds when its pattern matches either variant, so
 * "wget${IFS}http://x" and "wget%2520http://x" both match "wget\s+http".
 * Every rule whose conditions all hold contributes; "cmd" lines of matching
 * rules then pull the injected shell command text out (the highest-numbered
 * capture group that took part, or the whole match) into out->commands for the lead's URL extractor and shell
 * parser.  Nothing here executes or interprets a command.
 *
 * Every loop is bounded by the length of a view field (which the parser
 * caps) or by a fixed constant, and every output is capped.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/litset.h"
#include "core/reader.h"
#include "core/relit.h"
#include "intel/webclass.h"
#include "util.h"

/* ---- the embedded rules ------------------------------------------------- */

extern const char hp_wcrules[], hp_wcrules_end[];

__asm__(
    "  .pushsection .rodata\n"
    "  .balign 16\n"
    "  .globl hp_wcrules\n  .hidden hp_wcrules\n"
    "  .globl hp_wcrules_end\n  .hidden hp_wcrules_end\n"
    "hp_wcrules:\n"
    "  .incbin \"data/http/classify.rules\"\n"
    "hp_wcrules_end:\n"
    "  .byte 0\n"
    "  .popsection\n");

/* ---- limits ------------------------------------------------------------- */

#define WC_MATCH_LIMIT 200000     /* backtracking steps per pcre2_match */
#define WC_DEPTH_LIMIT 2000       /* interpreter only */
#define WC_HEAP_LIMIT  (8 * 1024) /* KiB, interpreter only */
#define WC_JIT_STACK   (256 * 1024)
#define WC_MAX_RULES   1024
#define WC_MAX_CONDS   8          /* conditions per rule */
#define WC_MAX_CMDS    8          /* cmd lines per rule */
#define WC_MAX_RCLASS  4          /* classes per rule */
#define WC_MAX_RCVE    8          /* CVEs per rule */
#define WC_CMD_HITS    16         /* matches taken per cmd line */
#define WC_LINE_MAX    4096
/* Body bytes a rule reads.  Every rule scans the body texts ("body", "input",
 * "any", "request") in linear time, but a request naming every rule's
 * literals makes all of them scan it: about 180 ms of the network thread
 * for a 1 MiB body (the default max_body), 25 ms at this cap.  The event's
 * raw request keeps the same 64 KiB, so a verdict is always about bytes
 * the operator can read. */
#define WC_BODY_MAX    (64 * 1024)
#define WC_RULE_WORDS  (WC_MAX_RULES / 64)

/* The attack classes: a rule names one of these and the result points here,
 * so out->classes are static strings comparable by pointer. */
static const char *const wc_classes[] = {
    "scanner", "recon", "brute-force", "path-traversal", "lfi", "rfi", "sqli",
    "command-injection", "rce", "webshell", "deserialization", "jndi", "crypto-rpc",
    "xss", "ssrf", "info-leak",
};
#define WC_NCLASSES (sizeof(wc_classes) / sizeof(wc_classes[0]))

static const char *const wc_owasp[] = { "I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", "I9", "I10" };

/* Fields a condition can look at.  The synthetic ones (WF_HEADERS, WF_ANY,
 * WF_REQUEST) are built per request from the view. */
enum wc_field {
    WF_METHOD, WF_TARGET, WF_PATH, WF_QUERY, WF_DPATH, WF_DQUERY, WF_BODY, WF_DBODY,
    WF_PORT, WF_HEADERS, WF_INPUT, WF_ANY, WF_REQUEST, WF_NFIXED, /* one text each */
    WF_HEADER = WF_NFIXED,                               /* header NAME: each such header */
};

static const char *const wc_field_names[WF_NFIXED] = {
    "method", "target", "path", "query", "dpath", "dquery", "body", "dbody",
    "port", "headers", "input", "any", "request",
};

struct wc_cond {
    enum wc_field field;
    char *hname;              /* WF_HEADER: the header name */
    bool neg;                 /* "not": holds when the pattern matches nowhere */
    bool jit;                 /* JIT-compiled: pcre2_jit_match, less per-call overhead */
    pcre2_code *re;
    uint8_t need[2];          /* bytes any match contains (either ASCII case), from PCRE2 */
    uint8_t nneed;
    struct hp_relit lit;      /* a literal any match contains (relit.h) */
    int16_t lid[HP_RELIT_ALTS]; /* lit's literals in their field's litset */
};

struct wc_rule {
    char *id;
    char *name;
    const char *classes[WC_MAX_RCLASS];
    size_t nclasses;
    char *cves[WC_MAX_RCVE];
    size_t ncves;
    const char *owasp;
    struct wc_cond conds[WC_MAX_CONDS];
    size_t nconds;
    struct wc_cond cmds[WC_MAX_CMDS];
    size_t ncmds;
    bool fallback;            /* cmd lines only when no other rule found a command */
};

static struct {
    struct wc_rule *rules;
    size_t nrules;
    pcre2_match_context *mctx;      /* limits; JIT on the machine stack (fast) */
    pcre2_match_context *mctx_big;  /* the same with a heap JIT stack, for a retry */
    pcre2_jit_stack *jstack;
    pcre2_match_data *md;
    /* Every condition's literals, one set per field (header values share
     * one): a text is scanned once for all of them (litset.h).  NULL where
     * no condition on the field has literals; lits_ok false when a set could
     * not be built, and each condition then looks for its own literals. */
    struct hp_litset *lits[WF_NFIXED + 1];
    bool lits_ok;             /* lits and gates in use */
    bool lits_built;          /* lits and gates built (lits_ok may be switched off) */
    /* Which rules a literal lets in (lits_ok only).  A rule's gate is the
     * positive condition with the longest shortest literal (the first of
     * equals), the one most texts lack: the rule cannot match unless
     * the gate's text holds one of them, so a request is checked against
     * the rules its texts' literals name, plus the rules without a gate,
     * instead of against all of them.  gate[f] lists, for each literal id
     * of lits[f], the rules it gates (gate_at[f][id] .. gate_at[f][id+1]). */
    uint32_t *gate_at[WF_NFIXED + 1];
    uint16_t *gate[WF_NFIXED + 1];
    uint64_t gated_on[WF_NFIXED + 1][WC_RULE_WORDS];  /* rules gated on each field */
    bool gates_on[WF_NFIXED + 1];                      /* some rule is gated on the field */
    uint64_t ungated[WC_RULE_WORDS];                   /* rules without a gate */
    const char *gate_hname[WC_MAX_RULES];              /* header names gates look at */
    size_t ngate_hname;
    bool ready;
} wc;

/* ---- rule parsing ------------------------------------------------------- */

struct wc_parse {
    size_t line;
    char *err;
    size_t errlen;
};

static void wc_perr(const struct wc_parse *ps, const char *msg, const char *arg)
{
    if (ps->err && ps->errlen)
        snprintf(ps->err, ps->errlen, "classify.rules:%zu: %s%s%s", ps->line, msg,
                 arg ? ": " : "", arg ? arg : "");
}

static void wc_cond_free(struct wc_cond *c)
{
    pcre2_code_free(c->re);
    free(c->hname);
    memset(c, 0, sizeof(*c));
}

static void wc_rule_free(struct wc_rule *r)
{
    free(r->id);
    free(r->name);
    for (size_t i = 0; i < r->ncves; i++)
        free(r->cves[i]);
    for (size_t i = 0; i < r->nconds; i++)
        wc_cond_free(&r->conds[i]);
    for (size_t i = 0; i < r->ncmds; i++)
        wc_cond_free(&r->cmds[i]);
    memset(r, 0, sizeof(*r));
}

static void wc_free_all(void)
{
    for (size_t i = 0; i < wc.nrules; i++)
        wc_rule_free(&wc.rules[i]);
    free(wc.rules);
    pcre2_match_data_free(wc.md);
    pcre2_jit_stack_free(wc.jstack);
    pcre2_match_context_free(wc.mctx);
    pcre2_match_context_free(wc.mctx_big);
    for (size_t i = 0; i < sizeof(wc.lits) / sizeof(wc.lits[0]); i++) {
        hp_litset_free(wc.lits[i]);
        free(wc.gate_at[i]);
        free(wc.gate[i]);
    }
    memset(&wc, 0, sizeof(wc));
}

/* Next blank-separated word of s (advanced past it); NULL at end of line. */
static char *wc_word(char **s)
{
    char *p = *s;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return NULL;
    char *w = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    if (*p)
        *p++ = '\0';
    *s = p;
    return w;
}

static char *wc_rest(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

const char *hp_webclass_class_name(const char *name)
{
    for (size_t i = 0; i < WC_NCLASSES; i++)
        if (strcmp(wc_classes[i], name) == 0)
            return wc_classes[i];
    return NULL;
}

bool hp_webclass_valid_cve(const char *s)
{
    size_t n = strlen(s);
    if (n < 13 || n > 20 || strncmp(s, "CVE-", 4) != 0)
        return false;
    for (size_t i = 4; i < n; i++)
        if (!(isdigit((unsigned char)s[i]) || (i == 8 && s[i] == '-')))
            return false;
    return s[8] == '-';
}

/*
 * What every match contains: the bytes PCRE2 knows (the first code unit when
 * it is fixed, and the last literal one) and the longest literal of the
 * pattern's top level (relit.h).  A text without them cannot match, and
 * testing that costs far less than a call into PCRE2, which most of the
 * rules' conditions would otherwise make on every request only to fail.
 * Patterns are byte patterns matched caselessly with the C tables, so a
 * letter is looked for in both cases; a pattern that turns on UTF or UCP
 * itself ((*UTF)) folds beyond ASCII and gets no such test.
 */
static void wc_need_bytes(struct wc_cond *c, const char *pat)
{
    uint32_t opts = 0, type, unit;
    c->nneed = 0;
    if (pcre2_pattern_info(c->re, PCRE2_INFO_ALLOPTIONS, &opts) != 0 || (opts & (PCRE2_UTF | PCRE2_UCP)))
        return;
    hp_relit_from_pattern(&c->lit, pat, strlen(pat), false);
    if (pcre2_pattern_info(c->re, PCRE2_INFO_FIRSTCODETYPE, &type) == 0 && type == 1 &&
        pcre2_pattern_info(c->re, PCRE2_INFO_FIRSTCODEUNIT, &unit) == 0 && unit < 256)
        c->need[c->nneed++] = (uint8_t)unit;
    if (pcre2_pattern_info(c->re, PCRE2_INFO_LASTCODETYPE, &type) == 0 && type == 1 &&
        pcre2_pattern_info(c->re, PCRE2_INFO_LASTCODEUNIT, &unit) == 0 && unit < 256)
        c->need[c->nneed++] = (uint8_t)unit;
}

/* Whether p[0..n) has byte b, in either case when it is an ASCII letter
 * (the C tables PCRE2 matches with fold ASCII only). */
static bool wc_has_byte(const uint8_t *p, size_t n, uint8_t b)
{
    if (n == 0)
        return false;
    uint8_t lo = b >= 'A' && b <= 'Z' ? (uint8_t)(b + 32) : b;
    uint8_t up = lo >= 'a' && lo <= 'z' ? (uint8_t)(lo - 32) : lo;
    return memchr(p, lo, n) || (up != lo && memchr(p, up, n));
}

/* Compile "FIELD PATTERN" or "header NAME PATTERN" into c.  Patterns are
 * caseless unless they say (?-i); they see raw bytes (no UTF checking). */
static int wc_cond_parse(struct wc_cond *c, char *s, bool neg, const struct wc_parse *ps)
{
    memset(c, 0, sizeof(*c));
    c->neg = neg;
    char *f = wc_word(&s);
    if (!f)
        return wc_perr(ps, "missing field", NULL), -1;
    if (strcmp(f, "header") == 0) {
        char *h = wc_word(&s);
        if (!h)
            return wc_perr(ps, "missing header name", NULL), -1;
        c->field = WF_HEADER;
        if (!(c->hname = strdup(h)))
            return wc_perr(ps, "out of memory", NULL), -1;
    } else {
        size_t i;
        for (i = 0; i < WF_NFIXED; i++)
            if (strcmp(f, wc_field_names[i]) == 0)
                break;
        if (i == WF_NFIXED)
            return wc_perr(ps, "unknown field", f), -1;
        c->field = (enum wc_field)i;
    }
    char *pat = wc_rest(s);
    if (!*pat)
        return wc_perr(ps, "missing pattern", NULL), -1;
    int ec;
    PCRE2_SIZE eoff;
    c->re = pcre2_compile((PCRE2_SPTR)pat, strlen(pat), PCRE2_CASELESS, &ec, &eoff, NULL);
    if (!c->re) {
        char msg[200];
        PCRE2_UCHAR pm[160];
        if (pcre2_get_error_message(ec, pm, sizeof(pm)) < 0)
            snprintf((char *)pm, sizeof(pm), "error %d", ec);
        snprintf(msg, sizeof(msg), "%s at offset %zu", (const char *)pm, (size_t)eoff);
        return wc_perr(ps, "bad pattern", msg), -1;
    }
    /* JIT failure (no executable memory) is not an error: the interpreter runs it. */
    c->jit = pcre2_jit_compile(c->re, PCRE2_JIT_COMPLETE) == 0;
    wc_need_bytes(c, pat);
    return 0;
}

static int wc_rule_check(const struct wc_rule *r, const struct wc_parse *ps)
{
    if (!r->nconds)
        return wc_perr(ps, "rule without match condition", r->id), -1;
    if (!r->nclasses)
        return wc_perr(ps, "rule without class", r->id), -1;
    for (size_t i = 0; i < r->nconds; i++)
        if (!r->conds[i].neg)
            return 0;
    return wc_perr(ps, "rule with only 'not' conditions", r->id), -1;
}

/* One keyword line of the current rule r. */
static int wc_line(struct wc_rule *r, char *kw, char *s, const struct wc_parse *ps)
{
    char *w;
    if (strcmp(kw, "class") == 0) {
        while ((w = wc_word(&s))) {
            const char *c = hp_webclass_class_name(w);
            if (!c)
                return wc_perr(ps, "unknown class", w), -1;
            if (r->nclasses == WC_MAX_RCLASS)
                return wc_perr(ps, "too many classes", NULL), -1;
            r->classes[r->nclasses++] = c;
        }
    } else if (strcmp(kw, "cve") == 0) {
        while ((w = wc_word(&s))) {
            if (!hp_webclass_valid_cve(w))
                return wc_perr(ps, "bad CVE id", w), -1;
            if (r->ncves == WC_MAX_RCVE)
                return wc_perr(ps, "too many CVEs", NULL), -1;
            if (!(r->cves[r->ncves++] = strdup(w)))
                return wc_perr(ps, "out of memory", NULL), -1;
        }
    } else if (strcmp(kw, "owasp_iot") == 0 || strcmp(kw, "owasp") == 0) {
        w = wc_word(&s);
        for (size_t i = 0; w && i < sizeof(wc_owasp) / sizeof(wc_owasp[0]); i++)
            if (strcmp(w, wc_owasp[i]) == 0)
                r->owasp = wc_owasp[i];
        if (!r->owasp)
            return wc_perr(ps, "owasp_iot must be I1..I10", w), -1;
    } else if (strcmp(kw, "name") == 0) {
        free(r->name);
        if (!(r->name = strdup(wc_rest(s))))
            return wc_perr(ps, "out of memory", NULL), -1;
    } else if (strcmp(kw, "match") == 0 || strcmp(kw, "not") == 0) {
        if (r->nconds == WC_MAX_CONDS)
            return wc_perr(ps, "too many conditions", NULL), -1;
        if (wc_cond_parse(&r->conds[r->nconds], s, kw[0] == 'n', ps) < 0)
            return -1;
        r->nconds++;
    } else if (strcmp(kw, "fallback") == 0) {
        r->fallback = true;
    } else if (strcmp(kw, "cmd") == 0) {
        if (r->ncmds == WC_MAX_CMDS)
            return wc_perr(ps, "too many cmd lines", NULL), -1;
        if (wc_cond_parse(&r->cmds[r->ncmds], s, false, ps) < 0)
            return -1;
        r->ncmds++;
    } else {
        return wc_perr(ps, "unknown keyword", kw), -1;
    }
    return 0;
}

static bool wc_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (!n || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && !strchr("-_.", id[i]))
            return false;
    return true;
}

static int wc_new_rule(char *s, const struct wc_parse *ps)
{
    char *id = wc_word(&s);
    if (!id || !wc_id_ok(id))
        return wc_perr(ps, "bad rule id", id), -1;
    for (size_t i = 0; i < wc.nrules; i++)
        if (strcmp(wc.rules[i].id, id) == 0)
            return wc_perr(ps, "duplicate rule id", id), -1;
    if (wc.nrules == WC_MAX_RULES)
        return wc_perr(ps, "too many rules", NULL), -1;
    struct wc_rule *r = &wc.rules[wc.nrules];
    memset(r, 0, sizeof(*r));
    if (!(r->id = strdup(id)))
        return wc_perr(ps, "out of memory", NULL), -1;
    wc.nrules++;
    return 0;
}

static int wc_parse_text(const char *text, size_t len, char *err, size_t errlen)
{
    struct wc_parse ps = { .line = 0, .err = err, .errlen = errlen };
    struct hp_rd rd;
    char buf[WC_LINE_MAX];
    hp_rd_init(&rd, text, len);
    while (hp_rd_left(&rd) > 0) {
        const uint8_t *l;
        size_t ln;
        ps.line++;
        if (!hp_rd_line(&rd, WC_LINE_MAX, &l, &ln)) {
            /* last line without '\n', or a line too long */
            ln = hp_rd_left(&rd);
            if (ln >= WC_LINE_MAX)
                return wc_perr(&ps, "line too long", NULL), -1;
            l = hp_rd_bytes(&rd, ln);
        }
        if (ln >= sizeof(buf) || memchr(l, '\0', ln))
            return wc_perr(&ps, "line too long or has a NUL", NULL), -1;
        memcpy(buf, l, ln);
        while (ln && (buf[ln - 1] == ' ' || buf[ln - 1] == '\t' || buf[ln - 1] == '\r'))
            ln--;
        buf[ln] = '\0';
        char *s = buf, *kw = wc_word(&s);
        if (!kw || kw[0] == '#')
            continue;
        if (strcmp(kw, "rule") == 0) {
            if (wc.nrules && wc_rule_check(&wc.rules[wc.nrules - 1], &ps) < 0)
                return -1;
            if (wc_new_rule(s, &ps) < 0)
                return -1;
            continue;
        }
        if (!wc.nrules)
            return wc_perr(&ps, "keyword before the first rule", kw), -1;
        if (wc_line(&wc.rules[wc.nrules - 1], kw, s, &ps) < 0)
            return -1;
    }
    if (wc.nrules && wc_rule_check(&wc.rules[wc.nrules - 1], &ps) < 0)
        return -1;
    return 0;
}

static void wc_bit_set(uint64_t *w, size_t i)
{
    w[i >> 6] |= (uint64_t)1 << (i & 63);
}

/*
 * The rule's gate (see wc.gate), or NULL.  Any positive condition with
 * literals would do; the longest shortest literal lets in the fewest
 * requests: "match method ^(?:GET|HEAD)$" written before "match dpath
 * ^/h2-console" must not make every GET a candidate.
 */
static const struct wc_cond *wc_rule_gate(const struct wc_rule *r)
{
    const struct wc_cond *best = NULL;
    for (size_t k = 0; k < r->nconds; k++)
        if (!r->conds[k].neg && r->conds[k].lit.nalt && (!best || r->conds[k].lit.minlen > best->lit.minlen))
            best = &r->conds[k];
    return best;
}

static void wc_gate_hname_add(const char *name)
{
    for (size_t i = 0; i < wc.ngate_hname; i++)
        if (strcasecmp(wc.gate_hname[i], name) == 0)
            return;
    wc.gate_hname[wc.ngate_hname++] = name;
}

/* Index the rules by their gates' literals: count, then fill. */
static int wc_gates_build(void)
{
    const size_t nf = sizeof(wc.lits) / sizeof(wc.lits[0]);
    for (size_t f = 0; f < nf; f++) {
        size_t nl = hp_litset_count(wc.lits[f]);
        if (nl && !(wc.gate_at[f] = calloc(nl + 1, sizeof(*wc.gate_at[f]))))
            return -1;
    }
    for (size_t i = 0; i < wc.nrules; i++) {
        const struct wc_cond *g = wc_rule_gate(&wc.rules[i]);
        if (!g) {
            wc_bit_set(wc.ungated, i);
            continue;
        }
        wc_bit_set(wc.gated_on[g->field], i);
        wc.gates_on[g->field] = true;
        if (g->field == WF_HEADER)
            wc_gate_hname_add(g->hname);
        for (uint8_t a = 0; a < g->lit.nalt; a++)
            wc.gate_at[g->field][g->lid[a] + 1]++;
    }
    for (size_t f = 0; f < nf; f++) {
        size_t nl = hp_litset_count(wc.lits[f]);
        if (!nl)
            continue;
        for (size_t id = 0; id < nl; id++)
            wc.gate_at[f][id + 1] += wc.gate_at[f][id];
        if (!(wc.gate[f] = calloc(wc.gate_at[f][nl] + 1, sizeof(*wc.gate[f]))))
            return -1;
    }
    uint32_t *fill[WF_NFIXED + 1] = { 0 };
    for (size_t f = 0; f < nf; f++) {
        size_t nl = hp_litset_count(wc.lits[f]);
        if (nl && !(fill[f] = calloc(nl, sizeof(*fill[f])))) {
            for (size_t k = 0; k < f; k++)
                free(fill[k]);
            return -1;
        }
    }
    for (size_t i = 0; i < wc.nrules; i++) {
        const struct wc_cond *g = wc_rule_gate(&wc.rules[i]);
        for (uint8_t a = 0; g && a < g->lit.nalt; a++) {
            int16_t id = g->lid[a];
            wc.gate[g->field][wc.gate_at[g->field][id] + fill[g->field][id]++] = (uint16_t)i;
        }
    }
    for (size_t f = 0; f < nf; f++)
        free(fill[f]);
    return 0;
}

/* Put every condition's literals into its field's set and build the sets.
 * Failing here costs speed only: lits_ok stays false and the conditions
 * look for their literals one by one, as before the sets existed. */
static void wc_lits_build(void)
{
    bool ok = true;
    for (size_t i = 0; i < wc.nrules && ok; i++) {
        for (size_t k = 0; k < wc.rules[i].nconds && ok; k++) {
            struct wc_cond *cd = &wc.rules[i].conds[k];
            struct hp_litset **set = &wc.lits[cd->field];
            if (cd->lit.nalt && !*set && !(*set = hp_litset_new()))
                ok = false;
            for (uint8_t a = 0; a < cd->lit.nalt && ok; a++) {
                int id = hp_litset_add(*set, cd->lit.alt[a].lit, cd->lit.alt[a].n);
                ok = id >= 0 && id <= INT16_MAX;
                cd->lid[a] = (int16_t)id;
            }
        }
    }
    for (size_t f = 0; f < sizeof(wc.lits) / sizeof(wc.lits[0]) && ok; f++)
        ok = !wc.lits[f] || hp_litset_compile(wc.lits[f]) == 0;
    wc.lits_built = wc.lits_ok = ok && wc_gates_build() == 0;
}

int hp_webclass_init_text(const char *text, size_t len, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    hp_webclass_shutdown();
    wc.rules = calloc(WC_MAX_RULES, sizeof(*wc.rules));
    wc.mctx = pcre2_match_context_create(NULL);
    wc.mctx_big = pcre2_match_context_create(NULL);
    wc.jstack = pcre2_jit_stack_create(32 * 1024, WC_JIT_STACK, NULL);
    wc.md = pcre2_match_data_create(10, NULL);
    if (!wc.rules || !wc.mctx || !wc.mctx_big || !wc.jstack || !wc.md) {
        wc_free_all();
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return -1;
    }
    pcre2_match_context *ctx[2] = { wc.mctx, wc.mctx_big };
    for (int i = 0; i < 2; i++) {
        pcre2_set_match_limit(ctx[i], WC_MATCH_LIMIT);
        pcre2_set_depth_limit(ctx[i], WC_DEPTH_LIMIT);
        pcre2_set_heap_limit(ctx[i], WC_HEAP_LIMIT);
    }
    /* An assigned JIT stack costs ~300 cycles per match, so the first try
     * uses PCRE2's 32 KiB on the machine stack; only a match that runs out
     * of it is retried with the heap stack. */
    pcre2_jit_stack_assign(wc.mctx_big, NULL, wc.jstack);
    if (wc_parse_text(text, len, err, errlen) < 0) {
        wc_free_all();
        return -1;
    }
    wc_lits_build();
    wc.ready = true;
    return 0;
}

int hp_webclass_init(char *err, size_t errlen)
{
    if (wc.ready)
        return 0;
    return hp_webclass_init_text(hp_wcrules, (size_t)(hp_wcrules_end - hp_wcrules), err, errlen);
}

size_t hp_webclass_nrules(void)
{
    return wc.ready ? wc.nrules : 0;
}

bool hp_webclass_litsets(void)
{
    return wc.ready && wc.lits_ok;
}

void hp_webclass_use_litsets(bool on)
{
    wc.lits_ok = on && wc.lits_built;
}

void hp_webclass_shutdown(void)
{
    wc_free_all();
}

/* ---- classification ----------------------------------------------------- */

/* One text a rule can look at, with its normalised variant made on demand. */
struct wc_text {
    const uint8_t *p;
    size_t n;
    uint8_t *np;              /* arena space of n bytes for the variant */
    size_t nn;
    bool normed;              /* np/nn computed */
    bool differs;             /* the variant is not the same bytes */
    struct hp_litset *set;    /* the literals of the text's field (wc.lits), or NULL */
    uint64_t *hits[2];        /* of set, those in p / np: arena space, NULL when not scanned */
    bool scanned[2];          /* hits[] filled (or the scan failed and hits[] is NULL) */
};

struct wc_ctx {
    const struct hp_http_view *v;
    struct wc_text f[WF_NFIXED];
    struct wc_text *hdr;      /* one per header value */
    size_t nhdr;
    uint8_t *arena;
    size_t used, cap;
    char port[8];
};

static bool wc_at(const uint8_t *p, size_t n, size_t i, const char *lit)
{
    size_t l = strlen(lit);
    return n - i >= l && memcmp(p + i, lit, l) == 0;
}

/* The normalised variant: out has room for n bytes (it never grows). */
static size_t wc_normalize(const uint8_t *p, size_t n, uint8_t *out)
{
    size_t o = 0, i = 0;
    bool after_ifs = false;
    while (i < n) {
        size_t skip = 0;
        if (p[i] != '$' && p[i] != '\\' && p[i] != '%' && p[i] != '\t') {
            out[o++] = p[i++];      /* the common byte: nothing to undo */
            after_ifs = false;
            continue;
        }
        if (p[i] == '$')
            skip = wc_at(p, n, i, "${IFS%??}") ? 9 : wc_at(p, n, i, "${IFS}") ? 6 : wc_at(p, n, i, "$IFS") ? 4 : 0;
        if (skip) {
            out[o++] = ' ';
            i += skip;
            after_ifs = true;
            continue;
        }
        /* "$IFS$9": the empty positional only separates IFS from the next word */
        if (after_ifs && p[i] == '$' && i + 1 < n && p[i + 1] >= '0' && p[i + 1] <= '9') {
            i += 2;
            continue;
        }
        after_ifs = false;
        if (p[i] == '\\' && i + 1 < n && p[i + 1] == '\n') {
            i += 2;
        } else if (p[i] == '\\' && i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') {
            i += 3;
        } else if (p[i] == '%' && i + 2 < n && hp_hexval(p[i + 1]) >= 0 && hp_hexval(p[i + 2]) >= 0) {
            out[o++] = (uint8_t)(hp_hexval(p[i + 1]) * 16 + hp_hexval(p[i + 2]));
            i += 3;
        } else {
            out[o++] = p[i] == '\t' ? ' ' : p[i];
            i++;
        }
    }
    return o;
}

static void wc_text_norm(struct wc_text *t)
{
    if (t->normed)
        return;
    t->normed = true;
    if (!t->np || !t->n)
        return;
    /* most texts have nothing to undo: four SIMD scans beat a byte-wise copy */
    if (!memchr(t->p, '$', t->n) && !memchr(t->p, '%', t->n) && !memchr(t->p, '\\', t->n) &&
        !memchr(t->p, '\t', t->n))
        return;
    t->nn = wc_normalize(t->p, t->n, t->np);
    t->differs = t->nn != t->n || memcmp(t->np, t->p, t->n) != 0;
}

static uint8_t *wc_alloc(struct wc_ctx *c, size_t n)
{
    if (c->cap - c->used < n)
        return NULL;
    uint8_t *p = c->arena + c->used;
    c->used += n;
    return p;
}

/* Arena room for a text's two hit sets of its field's literals (8-aligned;
 * wc_ctx_build counted it in). */
static void wc_text_hits(struct wc_ctx *c, struct wc_text *t, struct hp_litset *set)
{
    size_t words = wc.lits_ok ? hp_litset_words(set) : 0;
    t->set = set;
    if (!words)
        return;
    c->used = (c->used + 7) & ~(size_t)7;
    uint8_t *p = wc_alloc(c, 2 * words * sizeof(uint64_t));
    if (!p)
        return;
    t->hits[0] = (uint64_t *)(void *)p;
    t->hits[1] = t->hits[0] + words;
}

/* Arena bytes the hit sets of a request's texts take (wc_text_hits). */
static size_t wc_hits_room(size_t nheaders)
{
    if (!wc.lits_ok)
        return 0;
    size_t words = 0;
    for (size_t f = 0; f < WF_NFIXED; f++)
        words += hp_litset_words(wc.lits[f]) + 1;
    words += nheaders * (hp_litset_words(wc.lits[WF_HEADER]) + 1);
    return 2 * words * sizeof(uint64_t) + 8;
}

static void wc_put(uint8_t *dst, size_t *o, const void *src, size_t n)
{
    if (n)
        memcpy(dst + *o, src, n);
    *o += n;
}

static void wc_text_set(struct wc_ctx *c, struct wc_text *t, struct hp_litset *set, const void *p, size_t n)
{
    t->p = n ? p : (const uint8_t *)"";
    t->n = n;
    t->np = wc_alloc(c, n);
    wc_text_hits(c, t, set);
}

/* Lay out the synthetic texts; returns false when out of memory. */
static bool wc_ctx_build(struct wc_ctx *c, const struct hp_http_view *v)
{
    size_t hl = 0, vals = 0;
    for (size_t i = 0; i < v->nheaders; i++) {
        hl += v->headers[i].name.n + v->headers[i].value.n + 3;
        vals += v->headers[i].value.n;
    }
    size_t fixed = v->method.n + v->target.n + v->path.n + v->query.n + v->dpath.n + v->dquery.n +
                   v->body.n + v->dbody.n + sizeof(c->port);
    size_t in = v->dpath.n + v->dquery.n + v->dbody.n + 2;
    size_t any = in + 1 + hl;
    size_t req = v->method.n + v->dpath.n + v->dquery.n + v->version.n + 6 + hl + v->dbody.n;
    /* every text once, then room for each one's variant */
    c->cap = 2 * (fixed + vals + hl + in + any + req) + 64 + wc_hits_room(v->nheaders);
    c->arena = malloc(c->cap);
    c->hdr = calloc(v->nheaders ? v->nheaders : 1, sizeof(*c->hdr));
    if (!c->arena || !c->hdr)
        return false;
    c->nhdr = v->nheaders;

    char *pp = c->port + sizeof(c->port) - 1;   /* decimal, right to left */
    unsigned port = v->local_port;
    *pp = '\0';
    do {
        *--pp = (char)('0' + port % 10);
        port /= 10;
    } while (port);
    memmove(c->port, pp, strlen(pp) + 1);
    const struct hp_bytes *src[] = { &v->method, &v->target, &v->path, &v->query,
                                     &v->dpath, &v->dquery, &v->body, &v->dbody };
    for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++)
        wc_text_set(c, &c->f[i], wc.lits[i], src[i]->p, src[i]->n);
    wc_text_set(c, &c->f[WF_PORT], wc.lits[WF_PORT], c->port, strlen(c->port));
    for (size_t i = 0; i < v->nheaders; i++)
        wc_text_set(c, &c->hdr[i], wc.lits[WF_HEADER], v->headers[i].value.p, v->headers[i].value.n);

    size_t o = 0;
    uint8_t *h = wc_alloc(c, hl);
    for (size_t i = 0; i < v->nheaders; i++) {
        wc_put(h, &o, v->headers[i].name.p, v->headers[i].name.n);
        wc_put(h, &o, ": ", 2);
        wc_put(h, &o, v->headers[i].value.p, v->headers[i].value.n);
        wc_put(h, &o, "\n", 1);
    }
    wc_text_set(c, &c->f[WF_HEADERS], wc.lits[WF_HEADERS], h, o);

    uint8_t *a = wc_alloc(c, any);
    o = 0;
    wc_put(a, &o, v->dpath.p, v->dpath.n);
    wc_put(a, &o, "\n", 1);
    wc_put(a, &o, v->dquery.p, v->dquery.n);
    wc_put(a, &o, "\n", 1);
    wc_put(a, &o, v->dbody.p, v->dbody.n);
    wc_text_set(c, &c->f[WF_INPUT], wc.lits[WF_INPUT], a, o);    /* "input" is the head of "any" */
    wc_put(a, &o, "\n", 1);
    wc_put(a, &o, h, hl);
    wc_text_set(c, &c->f[WF_ANY], wc.lits[WF_ANY], a, o);

    uint8_t *r = wc_alloc(c, req);
    o = 0;
    wc_put(r, &o, v->method.p, v->method.n);
    wc_put(r, &o, " ", 1);
    wc_put(r, &o, v->dpath.p, v->dpath.n);
    if (v->query.n || v->dquery.n) {
        wc_put(r, &o, "?", 1);
        wc_put(r, &o, v->dquery.p, v->dquery.n);
    }
    wc_put(r, &o, " ", 1);
    wc_put(r, &o, v->version.p, v->version.n);
    wc_put(r, &o, "\n", 1);
    wc_put(r, &o, h, hl);
    wc_put(r, &o, "\n", 1);
    wc_put(r, &o, v->dbody.p, v->dbody.n);
    wc_text_set(c, &c->f[WF_REQUEST], wc.lits[WF_REQUEST], r, o);
    return true;
}

/* One match attempt from start; PCRE2's result code. */
static int wc_exec(const pcre2_code *re, bool jit, const uint8_t *p, size_t n, size_t start)
{
    if (!jit)
        return pcre2_match(re, (PCRE2_SPTR)p, n, start, 0, wc.md, wc.mctx);
    int rc = pcre2_jit_match(re, (PCRE2_SPTR)p, n, start, 0, wc.md, wc.mctx);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
        rc = pcre2_jit_match(re, (PCRE2_SPTR)p, n, start, 0, wc.md, wc.mctx_big);
    return rc;
}

/* Whether the text (its normalised variant when norm) may hold one of the
 * literals every match of cd contains: false means PCRE2 would say no. */
/* The literals of the text's field that the text (its normalised variant
 * when norm) holds, scanned at the first asking; NULL when there is no set
 * or the scan failed (the caller then looks for literals one by one). */
static const uint64_t *wc_text_hits_of(struct wc_text *t, bool norm)
{
    if (!t->scanned[norm]) {
        t->scanned[norm] = true;
        if (t->hits[norm] &&
            !hp_litset_scan(t->set, norm ? t->np : t->p, norm ? t->nn : t->n, t->hits[norm]))
            t->hits[norm] = NULL;
    }
    return t->hits[norm];
}

static bool wc_lits_in(const struct wc_cond *cd, struct wc_text *t, bool norm)
{
    const uint8_t *p = norm ? t->np : t->p;
    size_t n = norm ? t->nn : t->n;
    if (cd->lit.nalt == 0)
        return true;
    if (n < cd->lit.minlen)
        return false;
    const uint64_t *h = wc_text_hits_of(t, norm);
    if (!h)
        return hp_relit_search(&cd->lit, p, n);
    bool in = false;
    for (uint8_t a = 0; a < cd->lit.nalt && !in; a++)
        in = hp_litset_hit(h, cd->lid[a]);
#ifdef HP_FUZZING
    if (in != hp_relit_search(&cd->lit, p, n))
        abort();                            /* the set must answer as the literals one by one */
#endif
    return in;
}

/* PCRE2 would say no: the text lacks a byte or the literal every match has. */
static bool wc_cannot_match(const struct wc_cond *cd, struct wc_text *t, bool norm)
{
    if (!wc_lits_in(cd, t, norm))
        return true;                        /* the more telling test first */
    const uint8_t *p = norm ? t->np : t->p;
    size_t n = norm ? t->nn : t->n;
    for (uint8_t i = 0; i < cd->nneed; i++)
        if (!wc_has_byte(p, n, cd->need[i]))
            return true;
    return false;
}

static bool wc_re(const struct wc_cond *cd, struct wc_text *t, bool norm)
{
    const uint8_t *p = norm ? t->np : t->p;
    size_t n = norm ? t->nn : t->n;
    if (wc_cannot_match(cd, t, norm)) {
#ifdef HP_FUZZING
        if (wc_exec(cd->re, cd->jit, p, n, 0) >= 0)
            abort();                        /* the fuzzers check the shortcuts against PCRE2 */
#endif
        return false;
    }
    return wc_exec(cd->re, cd->jit, p, n, 0) >= 0;
}

static bool wc_text_match(struct wc_text *t, const struct wc_cond *cd)
{
    if (wc_re(cd, t, false))
        return true;
    wc_text_norm(t);
    return t->differs && wc_re(cd, t, true);
}

static bool wc_hname_is(const struct hp_http_hdr *h, const char *name)
{
    size_t n = strlen(name);
    return h->name.n == n && strncasecmp((const char *)h->name.p, name, n) == 0;
}

static bool wc_cond_holds(struct wc_ctx *c, const struct wc_cond *cd)
{
    bool hit = false;
    if (cd->field == WF_HEADER) {
        for (size_t i = 0; i < c->nhdr && !hit; i++)
            if (wc_hname_is(&c->v->headers[i], cd->hname))
                hit = wc_text_match(&c->hdr[i], cd);
    } else {
        hit = wc_text_match(&c->f[cd->field], cd);
    }
    return cd->neg ? !hit : hit;
}

/* ---- results ------------------------------------------------------------ */

/* Append one command line (trimmed; control bytes as spaces), unless it is
 * already there; truncated to what is left of out->commands. */
static void wc_add_cmd(struct hp_webclass *out, const uint8_t *p, size_t n)
{
    while (n && isspace(*p))
        p++, n--;
    while (n && isspace(p[n - 1]))
        n--;
    if (!n)
        return;
    char line[sizeof(out->commands)];
    size_t ln = 0;
    for (size_t i = 0; i < n && ln < sizeof(line) - 1; i++)
        line[ln++] = (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n') || p[i] == 0x7f ? ' ' : (char)p[i];
    line[ln] = '\0';
    /* dedup against the lines already there */
    const char *s = out->commands, *end = out->commands + out->commands_len;
    while (s < end) {
        const char *e = memchr(s, '\n', (size_t)(end - s));
        size_t sl = e ? (size_t)(e - s) : (size_t)(end - s);
        if (sl == ln && memcmp(s, line, ln) == 0)
            return;
        s += sl + 1;
    }
    size_t room = sizeof(out->commands) - 1 - out->commands_len;
    if (out->commands_len) {
        if (room < 2)
            return;
        out->commands[out->commands_len++] = '\n';
        room--;
    }
    if (ln > room)
        ln = room;
    memcpy(out->commands + out->commands_len, line, ln);
    out->commands_len += ln;
    out->commands[out->commands_len] = '\0';
}

/* Every match of a cmd pattern in one text: the highest-numbered capture
 * group that took part (so "(['"])(.*?)\1" yields the quoted text), else the
 * whole match.  Returns the number of hits. */
static size_t wc_extract_in(const struct wc_cond *cd, const uint8_t *p, size_t n, struct hp_webclass *out)
{
    size_t start = 0, hits = 0;
    while (hits < WC_CMD_HITS && start <= n) {
        int rc = wc_exec(cd->re, cd->jit, p, n, start);
        if (rc < 0)
            break;
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(wc.md);
        size_t g = rc > 0 ? (size_t)rc - 1 : 0;
        while (g > 0 && ov[2 * g] == PCRE2_UNSET)
            g--;
        if (ov[2 * g] <= ov[2 * g + 1] && ov[2 * g + 1] <= n)
            wc_add_cmd(out, p + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
        hits++;
        if (ov[1] > n || ov[1] < start)
            break;
        start = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
    }
    return hits;
}

/* The normalised variant first (that is what a shell would run); the decoded
 * text when the variant has nothing. */
static void wc_extract_text(struct wc_text *t, const struct wc_cond *cd, struct hp_webclass *out)
{
    wc_text_norm(t);
    if (t->differs && wc_extract_in(cd, t->np, t->nn, out))
        return;
    wc_extract_in(cd, t->p, t->n, out);
}

static void wc_extract(struct wc_ctx *c, const struct wc_cond *cd, struct hp_webclass *out)
{
    if (cd->field != WF_HEADER) {
        wc_extract_text(&c->f[cd->field], cd, out);
        return;
    }
    for (size_t i = 0; i < c->nhdr; i++)
        if (wc_hname_is(&c->v->headers[i], cd->hname))
            wc_extract_text(&c->hdr[i], cd, out);
}

static void wc_apply(struct wc_ctx *c, const struct wc_rule *r, struct hp_webclass *out)
{
    for (size_t i = 0; i < r->nclasses; i++)
        hp_strset_add(out->classes, &out->nclasses, HP_WEBCLASS_MAX, r->classes[i]);
    for (size_t i = 0; i < r->ncves; i++)
        hp_strset_add(out->cves, &out->ncves, HP_WEBCLASS_MAX, r->cves[i]);
    if (!out->owasp_iot && r->owasp)
        out->owasp_iot = r->owasp;
    if (out->nrules < HP_WEBCLASS_MAX)
        out->rules[out->nrules++] = r->id;
    if (r->fallback)
        return;
    for (size_t i = 0; i < r->ncmds; i++)
        wc_extract(c, &r->cmds[i], out);
}

/* The generic extractors ("fallback" rules) are cruder than the exploit-
 * specific ones; they run only when those found nothing, so one injection
 * is not reported twice in slightly different cuts. */
static void wc_fallback(struct wc_ctx *c, const uint64_t *matched, struct hp_webclass *out)
{
    if (out->commands_len)
        return;
    for (size_t w = 0; w < WC_RULE_WORDS; w++) {
        for (uint64_t bits = matched[w]; bits; bits &= bits - 1) {
            const struct wc_rule *r = &wc.rules[w * 64 + (size_t)__builtin_ctzll(bits)];
            for (size_t k = 0; r->fallback && k < r->ncmds; k++)
                wc_extract(c, &r->cmds[k], out);
        }
    }
}

/* Let in the rules gated on field f whose literals text t holds (in either
 * variant); all of them when the text could not be scanned. */
static void wc_gate_text(struct wc_text *t, size_t f, uint64_t *cand)
{
    for (int norm = 0; norm < 2; norm++) {
        if (norm) {
            wc_text_norm(t);
            if (!t->differs)
                return;
        }
        const uint64_t *h = wc_text_hits_of(t, norm);
        if (!h) {
            for (size_t w = 0; w < WC_RULE_WORDS; w++)
                cand[w] |= wc.gated_on[f][w];
            return;
        }
        for (size_t w = 0, nw = hp_litset_words(t->set); w < nw; w++) {
            for (uint64_t bits = h[w]; bits; bits &= bits - 1) {
                size_t id = w * 64 + (size_t)__builtin_ctzll(bits);
                for (uint32_t k = wc.gate_at[f][id]; k < wc.gate_at[f][id + 1]; k++)
                    wc_bit_set(cand, wc.gate[f][k]);
            }
        }
    }
}

static bool wc_gate_hname_is(const struct hp_http_hdr *h)
{
    for (size_t i = 0; i < wc.ngate_hname; i++)
        if (wc_hname_is(h, wc.gate_hname[i]))
            return true;
    return false;
}

/* The rules this request could match: a superset, never fewer. */
static void wc_candidates(struct wc_ctx *c, uint64_t *cand)
{
    if (!wc.lits_ok) {
        memset(cand, 0xff, WC_RULE_WORDS * sizeof(*cand));
        return;
    }
    memcpy(cand, wc.ungated, WC_RULE_WORDS * sizeof(*cand));
    for (size_t f = 0; f < WF_NFIXED; f++)
        if (wc.gates_on[f])
            wc_gate_text(&c->f[f], f, cand);
    if (wc.gates_on[WF_HEADER])
        for (size_t i = 0; i < c->nhdr; i++)
            if (wc_gate_hname_is(&c->v->headers[i]))
                wc_gate_text(&c->hdr[i], WF_HEADER, cand);
}

static bool wc_rule_holds(struct wc_ctx *c, const struct wc_rule *r)
{
    size_t k = 0;
    while (k < r->nconds && wc_cond_holds(c, &r->conds[k]))
        k++;
    return k == r->nconds;
}

/* In fuzzing builds: no rule left out by wc_candidates() matches. */
static void wc_check_left_out(struct wc_ctx *c, const uint64_t *cand)
{
#ifdef HP_FUZZING
    for (size_t i = 0; i < wc.nrules; i++)
        if (!((cand[i >> 6] >> (i & 63)) & 1) && wc_rule_holds(c, &wc.rules[i]))
            abort();
#else
    (void)c;
    (void)cand;
#endif
}

/* The view with its bodies cut to WC_BODY_MAX (v itself when they fit). */
static const struct hp_http_view *wc_view_capped(const struct hp_http_view *v, struct hp_http_view *tmp)
{
    if (v->body.n <= WC_BODY_MAX && v->dbody.n <= WC_BODY_MAX)
        return v;
    *tmp = *v;
    if (tmp->body.n > WC_BODY_MAX)
        tmp->body.n = WC_BODY_MAX;
    if (tmp->dbody.n > WC_BODY_MAX)
        tmp->dbody.n = WC_BODY_MAX;
    return tmp;
}

size_t hp_webclass_candidates(const struct hp_http_view *v, const char **ids, size_t max)
{
    size_t n = 0;
    if (!wc.ready || !v)
        return 0;
    struct hp_http_view capped;
    v = wc_view_capped(v, &capped);
    struct wc_ctx c;
    memset(&c, 0, sizeof(c));
    c.v = v;
    uint64_t cand[WC_RULE_WORDS];
    if (wc_ctx_build(&c, v)) {
        wc_candidates(&c, cand);
        for (size_t i = 0; i < wc.nrules; i++)
            if ((cand[i >> 6] >> (i & 63)) & 1) {
                if (n < max)
                    ids[n] = wc.rules[i].id;
                n++;
            }
    }
    free(c.arena);
    free(c.hdr);
    return n;
}

void hp_webclass_classify(const struct hp_http_view *v, struct hp_webclass *out)
{
    memset(out, 0, sizeof(*out));
    if (!wc.ready || !v)
        return;
    struct hp_http_view capped;
    v = wc_view_capped(v, &capped);
    struct wc_ctx c;
    memset(&c, 0, sizeof(c));
    c.v = v;
    uint64_t cand[WC_RULE_WORDS], matched[WC_RULE_WORDS] = { 0 };
    if (wc_ctx_build(&c, v)) {
        wc_candidates(&c, cand);
        wc_check_left_out(&c, cand);
        /* rules in file order: the first one's OWASP category wins */
        for (size_t w = 0; w < WC_RULE_WORDS; w++) {
            for (uint64_t bits = cand[w]; bits; bits &= bits - 1) {
                size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
                if (i >= wc.nrules || !wc_rule_holds(&c, &wc.rules[i]))
                    continue;
                wc_bit_set(matched, i);
                wc_apply(&c, &wc.rules[i], out);
            }
        }
        wc_fallback(&c, matched, out);
    }
    free(c.arena);
    free(c.hdr);
}
