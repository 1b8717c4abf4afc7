/*
 * relit.c - a literal that every match of a regular expression contains (relit.h).
 *
 * The pattern is read as a sequence of items at its top level.  Any match
 * contains each item that must occur once, in order, so a run of plain
 * literal bytes between two other items is a substring of every match.  The
 * reader understands just enough PCRE2 syntax to know where such runs start
 * and end, and gives up (no literal) wherever a wrong guess could cost a
 * match:
 *
 *   - a '|' at the top level (each alternative would need its own literal);
 *   - (*VERB) anywhere ((*ACCEPT) ends a match early), (?x) extended mode
 *     anywhere (white space and # stop being literal), \Q...\E, POSIX
 *     classes inside a class, and every escape that takes an argument
 *     (\x41, \p{L}, \g1, \k<n>, \N{U+..}, \cX, \1...);
 *   - a pattern in UTF or UCP mode (the caller says).
 *
 * What ends a run without giving up: a group (skipped whole, whatever is in
 * it), a class, '.', '^', '$', an escape such as \d or \b, and quantifiers.
 * A quantifier that allows zero ('?', '*', any '{') also takes back the byte
 * before it; '+' keeps it.  Escaped punctuation (\. \/ \$) is literal.
 *
 * Of the runs, the longest is kept (its first HP_RELIT_MAX bytes), folded to
 * lower case.  hp_relit_in() looks for one byte of it with memchr (a
 * non-letter when there is one, else both cases of a letter) and compares
 * the rest without regard to case.
 */
#include <string.h>
#include "relit.h"

static uint8_t rl_lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static uint8_t rl_upper(uint8_t c)
{
    return c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c;
}

static bool rl_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

struct rl {
    const uint8_t *p;
    size_t n, i;
    bool bad;                      /* gave up: no literal */
    uint8_t cur[HP_RELIT_MAX], best[HP_RELIT_MAX];
    size_t curn, runlen, bestn;    /* runlen: the run's real length (cur keeps its head) */
    bool last_lit;                 /* the item just read was a literal byte */
};

static void rl_end_run(struct rl *s)
{
    if (s->curn > s->bestn) {
        memcpy(s->best, s->cur, s->curn);
        s->bestn = s->curn;
    }
    s->curn = s->runlen = 0;
    s->last_lit = false;
}

static void rl_add(struct rl *s, uint8_t c)
{
    if (s->curn < HP_RELIT_MAX)
        s->cur[s->curn++] = rl_lower(c);
    s->runlen++;
    s->last_lit = true;
}

/* A quantifier that allows zero: the byte before it is optional. */
static void rl_optional_last(struct rl *s)
{
    if (s->last_lit && s->runlen == s->curn && s->curn > 0)
        s->curn--;
    rl_end_run(s);
}

/* The constructs relit.c gives up on, wherever they are. */
static bool rl_unsafe(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] == '\\' && (p[i + 1] == 'Q' || p[i + 1] == 'E'))
            return true;
        if (p[i] != '(')
            continue;
        if (p[i + 1] == '*')
            return true;
        if (p[i + 1] != '?')
            continue;
        /* (?flags) or (?flags: ... : extended mode if the flags have an x */
        for (size_t j = i + 2; j < n && p[j] != ')' && p[j] != ':'; j++) {
            if (p[j] == 'x')
                return true;
            if (!((p[j] >= 'a' && p[j] <= 'z') || (p[j] >= 'A' && p[j] <= 'Z') || p[j] == '-' || p[j] == '^'))
                break;
        }
    }
    return false;
}

/* Skip a class starting at s->i ('['). */
static void rl_skip_class(struct rl *s)
{
    size_t i = s->i + 1;
    if (i < s->n && s->p[i] == '^')
        i++;
    if (i < s->n && s->p[i] == ']')
        i++;                       /* a leading ']' is a member */
    while (i < s->n) {
        uint8_t c = s->p[i];
        if (c == '\\') {
            i += 2;
        } else if (c == '[' && i + 1 < s->n && (s->p[i + 1] == ':' || s->p[i + 1] == '.' || s->p[i + 1] == '=')) {
            s->bad = true;         /* [:alpha:] has its own ']' */
            return;
        } else if (c == ']') {
            s->i = i + 1;
            return;
        } else {
            i++;
        }
    }
    s->bad = true;
}

/* Skip a group starting at s->i ('('), with whatever is nested in it. */
static void rl_skip_group(struct rl *s)
{
    int depth = 0;
    while (s->i < s->n && !s->bad) {
        uint8_t c = s->p[s->i];
        if (c == '\\') {
            s->i += 2;
        } else if (c == '[') {
            rl_skip_class(s);
        } else {
            s->i++;
            if (c == '(')
                depth++;
            else if (c == ')' && --depth == 0)
                return;
        }
    }
    s->bad = true;
}

/* An escape at s->i: a literal byte, a break, or give up. */
static void rl_escape(struct rl *s)
{
    if (s->i + 1 >= s->n) {
        s->bad = true;
        return;
    }
    uint8_t e = s->p[s->i + 1];
    s->i += 2;
    if (!rl_alnum(e)) {
        rl_add(s, e);              /* \. \/ \$ \\ ...: the byte itself */
    } else if (strchr("dDwWsShHvVRXCbBAzZGKntrfea", e)) {
        rl_end_run(s);             /* a class of bytes, an assertion, a control byte */
    } else {
        s->bad = true;             /* takes an argument, or a back reference */
    }
}

/* '{' at s->i: the byte before is optional; the quantifier's digits are not literal. */
static void rl_brace(struct rl *s)
{
    rl_optional_last(s);
    size_t j = s->i + 1;
    while (j < s->n && ((s->p[j] >= '0' && s->p[j] <= '9') || s->p[j] == ',' || s->p[j] == ' '))
        j++;
    s->i = j < s->n && s->p[j] == '}' ? j + 1 : s->i + 1;
}

static void rl_item(struct rl *s)
{
    uint8_t c = s->p[s->i];
    switch (c) {
    case '\\': rl_escape(s); break;
    case '[': rl_end_run(s); rl_skip_class(s); break;
    case '(': rl_end_run(s); rl_skip_group(s); break;
    case '|': case ')': s->bad = true; break;
    case '?': case '*': rl_optional_last(s); s->i++; break;
    case '+': rl_end_run(s); s->i++; break;
    case '{': rl_brace(s); break;
    case '.': case '^': case '$': rl_end_run(s); s->i++; break;
    default: rl_add(s, c); s->i++; break;
    }
}

/* The byte to look for first: a non-letter (one memchr) if the literal has
 * one, preferring those that are rare in requests. */
static uint8_t rl_anchor(const uint8_t *lit, size_t n)
{
    static const char common[] = " /.-_=&?:,;0123456789";
    size_t best = 0;
    int best_score = 99;
    for (size_t i = 0; i < n; i++) {
        int score = (lit[i] >= 'a' && lit[i] <= 'z') ? 3 : strchr(common, lit[i]) ? 2 : 1;
        if (score < best_score) {
            best_score = score;
            best = i;
        }
    }
    return (uint8_t)best;
}

void hp_relit_from_pattern(struct hp_relit *l, const char *pat, size_t len, bool utf)
{
    memset(l, 0, sizeof(*l));
    if (utf || !pat || rl_unsafe((const uint8_t *)pat, len))
        return;
    struct rl s;
    memset(&s, 0, sizeof(s));
    s.p = (const uint8_t *)pat;
    s.n = len;
    while (s.i < s.n && !s.bad)
        rl_item(&s);
    if (s.bad)
        return;
    rl_end_run(&s);
    memcpy(l->lit, s.best, s.bestn);
    l->n = (uint8_t)s.bestn;
    l->anchor = rl_anchor(l->lit, l->n);
}

static bool rl_ieq(const uint8_t *p, const uint8_t *lit, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rl_lower(p[i]) != lit[i])
            return false;
    return true;
}

bool hp_relit_in(const struct hp_relit *l, const uint8_t *p, size_t n)
{
    if (l->n == 0)
        return true;
    if (n < l->n)
        return false;
    /* Start positions 0..n-l->n; the anchor byte of start k is at base[k]. */
    size_t span = n - l->n + 1;
    const uint8_t *base = p + l->anchor;
    uint8_t lo = l->lit[l->anchor], up = rl_upper(lo);
    const uint8_t *nl = memchr(base, lo, span);
    const uint8_t *nu = up != lo ? memchr(base, up, span) : NULL;
    while (nl || nu) {
        const uint8_t *hit = !nu || (nl && nl < nu) ? nl : nu;
        size_t k = (size_t)(hit - base);
        if (rl_ieq(p + k, l->lit, l->n))
            return true;
        size_t rest = span - k - 1;
        if (hit == nl)
            nl = rest ? memchr(hit + 1, lo, rest) : NULL;
        else
            nu = rest ? memchr(hit + 1, up, rest) : NULL;
    }
    return false;
}
