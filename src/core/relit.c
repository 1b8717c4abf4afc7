/*
 * relit.c - literals one of which every match of a regular expression contains (relit.h).
 *
 * A pattern is a list of alternatives; an alternative is a sequence of
 * items.  Any match of a sequence contains each item that must occur, in
 * order, so a run of plain literal bytes between two other items is a
 * substring of every match of it, and so is, for a group the sequence
 * cannot skip, some literal of that group's own set.  Each candidate of a
 * sequence is a set (one run: a set of one); the sequence keeps its best
 * (longest shortest member, then fewest members).  Alternatives give the
 * union of their sets, and nothing at all if one of them has none.
 *
 * The reader understands just enough PCRE2 syntax to know where runs and
 * groups start and end, and gives up (no set) wherever a wrong guess could
 * cost a match:
 *
 *   - (*VERB) anywhere ((*ACCEPT) ends a match early), (?x) extended mode
 *     anywhere (white space and # stop being literal), (?#comments) (a
 *     quantifier after one applies to the item before it), \Q...\E, POSIX
 *     classes inside a class, and every escape that takes an argument
 *     (\p{L}, \g1, \k<n>, \N{U+..}, \cX, \1..., \x{41} and a \x with one
 *     hex digit) but \xHH with two, which is the byte HH;
 *   - more than HP_RELIT_ALTS literals in a set;
 *   - a pattern in UTF or UCP mode (the caller says).
 *
 * What ends a run without giving up: a group, a class, '.', '^', '$', an
 * escape such as \d or \b, and quantifiers.  A quantifier that allows zero
 * ('?', '*', any '{') also takes back the byte before it, or drops the
 * group before it; '+' keeps it (a quantifier after a group stepped over
 * takes back the byte before that group too).  Escaped punctuation (\.
 * \/ \$) is literal.  Groups looked into: capturing, (?:, (?>, (?|, named,
 * and (?flags:; lookarounds, conditionals and option settings are only
 * stepped over.
 *
 * hp_relit_in() looks for one byte of each literal with memchr (a non-letter
 * when there is one, else both cases of a letter) and compares the rest
 * without regard to case.
 */
#include <string.h>
#include "relit.h"
#include "util.h"

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
    size_t n;
    bool bad;                      /* gave up: no set */
};

/* One sequence being read: its current run and its best candidate so far. */
struct rl_seq {
    uint8_t cur[HP_RELIT_MAX];
    size_t curn, runlen;           /* runlen: the run's real length (cur keeps its head) */
    bool last_lit;                 /* the item just read was a literal byte */
    struct hp_relit best;
};

/* How good a set is: its shortest literal, then fewer literals. */
static int rl_score(const struct hp_relit *s)
{
    if (!s->nalt)
        return 0;
    int min = HP_RELIT_MAX;
    for (int i = 0; i < s->nalt; i++)
        if (s->alt[i].n < min)
            min = s->alt[i].n;
    return min * 16 - s->nalt;
}

static void rl_offer(struct rl_seq *q, const struct hp_relit *cand)
{
    if (rl_score(cand) > rl_score(&q->best))
        q->best = *cand;
}

static void rl_end_run(struct rl_seq *q)
{
    if (q->curn) {
        struct hp_relit one = { .nalt = 1 };
        one.alt[0].n = (uint8_t)q->curn;
        memcpy(one.alt[0].lit, q->cur, q->curn);
        rl_offer(q, &one);
    }
    q->curn = q->runlen = 0;
    q->last_lit = false;
}

static void rl_add(struct rl_seq *q, uint8_t c)
{
    if (q->curn < HP_RELIT_MAX)
        q->cur[q->curn++] = rl_lower(c);
    q->runlen++;
    q->last_lit = true;
}

/* A quantifier that allows zero: the byte before it is optional. */
static void rl_optional_last(struct rl_seq *q)
{
    if (q->last_lit && q->runlen == q->curn && q->curn > 0)
        q->curn--;
    rl_end_run(q);
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
        /* a comment: a quantifier after it applies to what stands before it,
         * a group or another comment's neighbour - not worth following */
        if (i + 2 < n && p[i + 2] == '#')
            return true;
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

/*
 * The length of the escape at p[0] ('\\') inside a class, or 0 when it is
 * not known.  An escape with an argument can swallow a '\\' or a ']'
 * ("[\\c\\]" is one member, control-backslash, and the ']' ends it), so
 * its length has to be right for the class's end to be found.
 */
static size_t rl_class_escape_len(const uint8_t *p, size_t n)
{
    if (n < 2)
        return 0;
    uint8_t e = p[1];
    if (!rl_alnum(e) || strchr("dDwWsShHvVnrtfeab", e))
        return 2;                  /* \] \\ \- ..., a class escape, a control byte */
    if (e == 'x' && n >= 4 && hp_hexval(p[2]) >= 0 && hp_hexval(p[3]) >= 0)
        return 4;                  /* \xHH */
    if (e == 'c' && n >= 3 && p[2] >= 0x20 && p[2] < 0x7f)
        return 3;                  /* \cX: X is any printable byte, '\\' and ']' included */
    return 0;                      /* \x{..}, \xH, \o{..}, octal, \p{..}, \N{..}, ... */
}

/* The index after the class starting at i ('['). */
static size_t rl_skip_class(struct rl *s, size_t i, size_t end)
{
    i++;
    if (i < end && s->p[i] == '^')
        i++;
    if (i < end && s->p[i] == ']')
        i++;                       /* a leading ']' is a member */
    while (i < end) {
        uint8_t c = s->p[i];
        if (c == '\\') {
            size_t el = rl_class_escape_len(s->p + i, end - i);
            if (!el) {
                s->bad = true;     /* where the class ends is not known */
                return end;
            }
            i += el;
        } else if (c == '[' && i + 1 < end && (s->p[i + 1] == ':' || s->p[i + 1] == '.' || s->p[i + 1] == '=')) {
            break;                 /* [:alpha:] has its own ']' */
        } else if (c == ']') {
            return i + 1;
        } else {
            i++;
        }
    }
    s->bad = true;
    return end;
}

/* The index of the ')' closing the group that starts at i ('('). */
static size_t rl_group_close(struct rl *s, size_t i, size_t end)
{
    int depth = 0;
    while (i < end && !s->bad) {
        uint8_t c = s->p[i];
        if (c == '\\') {
            i += 2;
        } else if (c == '[') {
            i = rl_skip_class(s, i, end);
        } else {
            if (c == '(')
                depth++;
            else if (c == ')' && --depth == 0)
                return i;
            i++;
        }
    }
    s->bad = true;
    return end;
}

/* Where the content of the group at i starts, for the groups whose content a
 * match must go through; 0 for those it need not (lookarounds, comments,
 * conditionals, option settings, recursion). */
static size_t rl_group_body(const struct rl *s, size_t i, size_t close)
{
    const uint8_t *p = s->p;
    if (i + 1 >= close || p[i + 1] != '?')
        return i + 1;                                  /* capturing */
    size_t j = i + 2;
    if (j >= close)
        return 0;
    if (p[j] == ':' || p[j] == '>' || p[j] == '|')
        return j + 1;
    if ((p[j] == '<' && j + 1 < close && p[j + 1] != '=' && p[j + 1] != '!') ||
        (p[j] == 'P' && j + 1 < close && p[j + 1] == '<') || p[j] == '\'') {
        uint8_t endc = p[j] == '\'' ? '\'' : '>';
        for (size_t k = j + 1; k < close; k++)
            if (p[k] == endc)
                return k + 1;                          /* named */
        return 0;
    }
    for (; j < close; j++) {                           /* (?flags: */
        if (p[j] == ':')
            return j + 1;
        if (!((p[j] >= 'a' && p[j] <= 'z') || (p[j] >= 'A' && p[j] <= 'Z') || p[j] == '-' || p[j] == '^'))
            return 0;
    }
    return 0;
}

static struct hp_relit rl_alts(struct rl *s, size_t i, size_t end, int depth);

/* An escape at *i: a literal byte, a break, or give up. */
static void rl_escape(struct rl *s, struct rl_seq *q, size_t *i, size_t end)
{
    if (*i + 1 >= end) {
        s->bad = true;
        return;
    }
    uint8_t e = s->p[*i + 1];
    if (e == 'x') {                /* \xHH, two hex digits: that byte (\xH, \x{..}: give up) */
        int hi = *i + 3 < end ? hp_hexval(s->p[*i + 2]) : -1, lo = hi >= 0 ? hp_hexval(s->p[*i + 3]) : -1;
        if (lo < 0) {
            s->bad = true;
            return;
        }
        rl_add(q, (uint8_t)(hi * 16 + lo));
        *i += 4;
        return;
    }
    *i += 2;
    if (!rl_alnum(e))
        rl_add(q, e);              /* \. \/ \$ \\ ...: the byte itself */
    else if (strchr("dDwWsShHvVRXCbBAzZGKntrfea", e))
        rl_end_run(q);             /* a class of bytes, an assertion, a control byte */
    else
        s->bad = true;             /* takes an argument, or a back reference */
}

/* '{' at *i: what it applies to is optional; a quantifier's digits are not literal. */
static void rl_brace(struct rl *s, struct rl_seq *q, size_t *i, size_t end)
{
    rl_optional_last(q);
    size_t j = *i + 1;
    while (j < end && ((s->p[j] >= '0' && s->p[j] <= '9') || s->p[j] == ',' || s->p[j] == ' '))
        j++;
    *i = j < end && s->p[j] == '}' ? j + 1 : *i + 1;
}

/* A group at *i: its set is a candidate unless a quantifier lets the match skip it. */
static void rl_group(struct rl *s, struct rl_seq *q, size_t *i, size_t end, int depth)
{
    size_t close = rl_group_close(s, *i, end);
    if (s->bad)
        return;
    size_t body = rl_group_body(s, *i, close);
    size_t after = close + 1;
    bool optional = after < end && (s->p[after] == '?' || s->p[after] == '*' || s->p[after] == '{');
    /* Whatever is stepped over (a lookaround, an option setting) is taken
     * to be, when a quantifier follows it (comments: rl_unsafe). */
    if (!body && optional)
        rl_optional_last(q);
    else
        rl_end_run(q);
    if (body && !optional && depth < 8) {
        struct hp_relit g = rl_alts(s, body, close, depth + 1);
        if (s->bad)
            return;
        rl_offer(q, &g);
    }
    *i = after;
}

/* The best set of the sequence p[i..end) (no top-level '|' in it). */
static struct hp_relit rl_seq(struct rl *s, size_t i, size_t end, int depth)
{
    struct rl_seq q;
    memset(&q, 0, sizeof(q));
    while (i < end && !s->bad) {
        switch (s->p[i]) {
        case '\\': rl_escape(s, &q, &i, end); break;
        case '[': rl_end_run(&q); i = rl_skip_class(s, i, end); break;
        case '(': rl_group(s, &q, &i, end, depth); break;
        case ')': s->bad = true; break;
        case '?': case '*': rl_optional_last(&q); i++; break;
        case '+': rl_end_run(&q); i++; break;
        case '{': rl_brace(s, &q, &i, end); break;
        case '.': case '^': case '$': rl_end_run(&q); i++; break;
        default: rl_add(&q, s->p[i]); i++; break;
        }
    }
    rl_end_run(&q);
    return q.best;
}

/* The set of the alternatives p[i..end): the union of theirs, or none. */
static struct hp_relit rl_alts(struct rl *s, size_t i, size_t end, int depth)
{
    struct hp_relit all = { .nalt = 0 }, none = { .nalt = 0 };
    size_t start = i;
    while (!s->bad) {
        /* the end of this alternative: a '|' outside groups and classes */
        size_t j = start;
        while (j < end && s->p[j] != '|' && !s->bad) {
            if (s->p[j] == '\\')
                j += 2;
            else if (s->p[j] == '[')
                j = rl_skip_class(s, j, end);
            else if (s->p[j] == '(')
                j = rl_group_close(s, j, end) + 1;
            else
                j++;
        }
        if (s->bad || j > end)
            return none;
        struct hp_relit one = rl_seq(s, start, j, depth);
        if (s->bad || !one.nalt || all.nalt + one.nalt > HP_RELIT_ALTS)
            return none;
        memcpy(&all.alt[all.nalt], one.alt, one.nalt * sizeof(one.alt[0]));
        all.nalt = (uint8_t)(all.nalt + one.nalt);
        if (j >= end)
            return all;
        start = j + 1;
    }
    return none;
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
    struct rl s = { (const uint8_t *)pat, len, false };
    struct hp_relit set = rl_alts(&s, 0, len, 0);
    if (s.bad)
        return;
    *l = set;
    l->minlen = l->nalt ? HP_RELIT_MAX : 0;
    for (int i = 0; i < l->nalt; i++) {
        l->alt[i].anchor = rl_anchor(l->alt[i].lit, l->alt[i].n);
        if (l->alt[i].n < l->minlen)
            l->minlen = l->alt[i].n;
    }
}

static bool rl_ieq(const uint8_t *p, const uint8_t *lit, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rl_lower(p[i]) != lit[i])
            return false;
    return true;
}

static bool rl_one_in(const struct hp_relit_one *l, const uint8_t *p, size_t n)
{
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

bool hp_relit_search(const struct hp_relit *l, const uint8_t *p, size_t n)
{
    if (l->nalt == 0)
        return true;
    for (int i = 0; i < l->nalt; i++)
        if (rl_one_in(&l->alt[i], p, n))
            return true;
    return false;
}
