/*
 * parse.c - the shell grammar (see parse.h).
 *
 * A hand-written recursive-descent parser over a one-token lookahead
 * lexer, as in dash: the lexer only knows words and operators; reserved
 * words (if, then, fi, ...) are recognised by the parser where a command
 * may start, which is what makes "echo fi" an echo and "; fi" an error.
 *
 * Errors unwind with longjmp: every node lives in the parse's arena, so
 * there is nothing to free on the way out, and the grammar functions stay
 * short.  Recursion is bounded by SH_PARSE_DEPTH (counted in the grammar
 * functions and in the word scanner), so hostile nesting ends in an error,
 * never in a stack overflow.
 *
 * Here-documents: a "<<WORD" registers a pending body; when the lexer
 * passes the newline that ends the command line it reads the bodies from
 * the lines that follow.  Input that ends first (no delimiter line yet)
 * is SH_PARSE_MORE, unless the input is final (bash -c, a script file):
 * then, as bash, the body runs to the end of the text.
 */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"

/* ---- arena --------------------------------------------------------------- */

struct sh_block {
    struct sh_block *next;
    size_t used, size;
    max_align_t data[];
};

struct sh_arena {
    unsigned refs;
    size_t total;
    struct sh_block *blocks;
};

static struct sh_arena *arena_new(void)
{
    struct sh_arena *a = calloc(1, sizeof(*a));
    if (a)
        a->refs = 1;
    return a;
}

void sh_arena_ref(struct sh_arena *a)
{
    if (a)
        a->refs++;
}

void sh_arena_unref(struct sh_arena *a)
{
    if (!a || --a->refs > 0)
        return;
    for (struct sh_block *b = a->blocks, *nb; b; b = nb) {
        nb = b->next;
        free(b);
    }
    free(a);
}

/* Zeroed memory from the arena; NULL past SH_PARSE_ARENA. */
static void *arena_alloc(struct sh_arena *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    struct sh_block *b = a->blocks;
    if (!b || b->size - b->used < n) {
        size_t size = n > 16384 ? n : 16384;
        if (a->total + size > SH_PARSE_ARENA)
            return NULL;
        b = malloc(sizeof(*b) + size);
        if (!b)
            return NULL;
        b->next = a->blocks;
        b->used = 0;
        b->size = size;
        a->blocks = b;
        a->total += size;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

/* ---- lexer ---------------------------------------------------------------- */

enum tok_kind {
    T_WORD, T_NEWLINE, T_EOF, T_SEMI, T_DSEMI, T_AMP, T_AND, T_OR, T_PIPE, T_PIPEAMP,
    T_LPAREN, T_RPAREN, T_REDIR,
};

struct tok {
    enum tok_kind kind;
    size_t start, end;            /* source span */
    enum sh_redir_kind rk;
    int fd;                       /* T_REDIR: explicit descriptor or -1 */
    bool strip;                   /* <<- */
    unsigned line;
};

#define PENDING_MAX 64

struct parser {
    const char *s;
    size_t n, i;
    bool bash, final;
    bool dbrack;                  /* inside [[ ]]: operators are words */
    unsigned line;
    unsigned depth;
    unsigned ntok;
    struct sh_arena *a;
    struct tok t;
    bool have;
    struct sh_redir *pending[PENDING_MAX];
    unsigned npending;
    struct sh_parse *out;
    jmp_buf jb;
};

static _Noreturn void fail_more(struct parser *p)
{
    if (p->final) {
        p->out->status = SH_PARSE_ERROR;
        p->out->eof = true;
        p->out->line = p->line + 1;           /* bash counts the missing line */
        strcpy(p->out->tok, "end of file");
    } else {
        p->out->status = SH_PARSE_MORE;
    }
    longjmp(p->jb, 1);
}

static _Noreturn void fail_msg(struct parser *p, const char *msg)
{
    p->out->status = SH_PARSE_ERROR;
    p->out->msg = true;
    p->out->line = p->line;
    strncpy(p->out->tok, msg, sizeof(p->out->tok) - 1);
    longjmp(p->jb, 1);
}

/* A syntax error at token t: bash's "near unexpected token `X'". */
static _Noreturn void fail_tok(struct parser *p, const struct tok *t)
{
    if (t->kind == T_EOF)
        fail_more(p);
    p->out->status = SH_PARSE_ERROR;
    p->out->line = t->line;
    if (t->kind == T_NEWLINE) {
        strcpy(p->out->tok, "newline");
    } else {
        size_t n = t->end - t->start;
        if (n >= sizeof(p->out->tok))
            n = sizeof(p->out->tok) - 1;
        memcpy(p->out->tok, p->s + t->start, n);
        p->out->tok[n] = '\0';
    }
    longjmp(p->jb, 1);
}

static void *alloc(struct parser *p, size_t n)
{
    void *m = arena_alloc(p->a, n);
    if (!m)
        fail_msg(p, "xmalloc: cannot allocate memory");
    return m;
}

static char *dup_span(struct parser *p, const char *s, size_t n)
{
    char *d = alloc(p, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }
static bool is_opchar(char c) { return c && strchr(";&|<>()", c) != NULL; }
static bool is_name0(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* ---- word constructs (shared with expansion) ---------------------------------- */

static size_t scan_at(const char *s, size_t n, bool bash, unsigned depth);

/* Scan until the closing character, skipping nested constructs; returns the
 * offset after the closer, 0 if unterminated. */
static size_t scan_until(const char *s, size_t n, size_t i, char close, bool bash, unsigned depth,
                         bool parens, bool backslash_all)
{
    int level = 0;
    while (i < n) {
        char c = s[i];
        if (c == '\\') {
            if (!backslash_all && close == '"' && i + 1 < n && !strchr("$`\"\\\n", s[i + 1])) {
                i++;
                continue;
            }
            i += 2;
            continue;
        }
        if (c == close && level == 0)
            return i + 1;
        if (parens && c == '(')
            level++;
        else if (parens && c == ')')
            level--;
        if ((c == '$' || c == '`' || (close != '"' && close != '`' && (c == '\'' || c == '"')))) {
            size_t e = scan_at(s + i, n - i, bash, depth + 1);
            if (e == 0)
                return 0;
            i += e > 1 ? e : 1;
            continue;
        }
        i++;
    }
    return 0;
}

/* The construct at s[0]: the length it spans, 1 for a plain '$', 0 if unterminated. */
static size_t scan_at(const char *s, size_t n, bool bash, unsigned depth)
{
    if (depth > SH_PARSE_DEPTH || n == 0)
        return 0;
    switch (s[0]) {
    case '\'': {
        const char *e = memchr(s + 1, '\'', n - 1);
        return e ? (size_t)(e - s) + 1 : 0;
    }
    case '"':
        return scan_until(s, n, 1, '"', bash, depth, false, false);
    case '`':
        return scan_until(s, n, 1, '`', bash, depth, false, true);
    case '$':
        if (n < 2)
            return 1;
        if (s[1] == '(')
            return scan_until(s, n, 2, ')', bash, depth, true, true);
        if (s[1] == '{')
            return scan_until(s, n, 2, '}', bash, depth, false, true);
        if (s[1] == '\'' && bash) {
            for (size_t i = 2; i < n; i++) {
                if (s[i] == '\\')
                    i++;
                else if (s[i] == '\'')
                    return i + 1;
            }
            return 0;
        }
        return 1;
    }
    return 1;
}

size_t sh_scan_construct(const char *s, size_t n, bool bash)
{
    return scan_at(s, n, bash, 0);
}

static unsigned count_nl(const char *s, size_t n)
{
    unsigned k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

/* One word from p->i; its end, or fail_more inside an open construct. */
static size_t lex_word_end(struct parser *p)
{
    size_t i = p->i;
    while (i < p->n) {
        char c = p->s[i];
        if (is_blank(c) || c == '\n' || (is_opchar(c) && !(p->dbrack && (c == '<' || c == '>'))))
            break;
        if (c == '\\') {
            if (i + 1 >= p->n)
                fail_more(p);
            i += 2;
            continue;
        }
        if (c == '\'' || c == '"' || c == '`' || c == '$') {
            size_t e = scan_at(p->s + i, p->n - i, p->bash, 0);
            if (e == 0) {
                if (p->final)
                    fail_msg(p, "unexpected EOF while looking for matching quote");
                fail_more(p);
            }
            i += e;
            continue;
        }
        i++;
    }
    return i;
}

/* MORE while reading r's body: say which line could end it (sh_parse.more_delim). */
static _Noreturn void fail_more_heredoc(struct parser *p, const struct sh_redir *r, const char *delim, size_t dl)
{
    if (dl < sizeof(p->out->more_delim)) {
        memcpy(p->out->more_delim, delim, dl + 1);
        p->out->more_strip = r->strip;
    }
    fail_more(p);
}

/* Here-document bodies after the newline at p->i - 1. */
static void read_heredocs(struct parser *p)
{
    for (unsigned k = 0; k < p->npending; k++) {
        struct sh_redir *r = p->pending[k];
        const char *delim = r->word->text;        /* already unquoted */
        size_t dl = strlen(delim);
        size_t bstart = p->i, blen = 0;
        char *body = NULL;
        size_t cap = 0;
        for (;;) {
            if (p->i >= p->n && !p->final) {
                free(body);
                fail_more_heredoc(p, r, delim, dl);
            }
            if (p->i >= p->n)
                break;                                  /* bash: delimited by end-of-file */
            const char *nl = memchr(p->s + p->i, '\n', p->n - p->i);
            size_t e = nl ? (size_t)(nl - p->s) : p->n;
            size_t ls = p->i;
            if (r->strip)
                while (ls < e && p->s[ls] == '\t')
                    ls++;
            bool last = e - ls == dl && memcmp(p->s + ls, delim, dl) == 0;
            if (!last && !nl && !p->final) {
                free(body);
                fail_more_heredoc(p, r, delim, dl);     /* the line may still grow */
            }
            p->i = nl ? e + 1 : e;
            p->line++;
            if (last)
                break;
            size_t add = e - ls + 1;
            if (blen + add > SH_PARSE_HEREDOC) {
                free(body);
                fail_msg(p, "here-document too large");
            }
            if (blen + add > cap) {
                cap = (blen + add) * 2;
                char *nb = realloc(body, cap);
                if (!nb) {
                    free(body);
                    fail_msg(p, "xmalloc: cannot allocate memory");
                }
                body = nb;
            }
            memcpy(body + blen, p->s + ls, e - ls);
            blen += e - ls;
            body[blen++] = '\n';
        }
        (void)bstart;
        r->body = arena_alloc(p->a, blen + 1);
        if (!r->body) {
            free(body);
            fail_msg(p, "xmalloc: cannot allocate memory");
        }
        if (blen)
            memcpy(r->body, body, blen);
        r->body_len = blen;
        free(body);
    }
    p->npending = 0;
}

struct opdef {
    const char *text;
    enum tok_kind kind;
    enum sh_redir_kind rk;
    bool bash_only;
    bool strip;
};

/* Longest first within each leading character. */
static const struct opdef ops[] = {
    { "&&", T_AND, 0, false, false }, { "&>>", T_REDIR, SH_R_ALLAPP, true, false },
    { "&>", T_REDIR, SH_R_ALL, true, false }, { "&", T_AMP, 0, false, false },
    { "||", T_OR, 0, false, false }, { "|&", T_PIPEAMP, 0, true, false }, { "|", T_PIPE, 0, false, false },
    { ";;", T_DSEMI, 0, false, false }, { ";", T_SEMI, 0, false, false },
    { "(", T_LPAREN, 0, false, false }, { ")", T_RPAREN, 0, false, false },
    { "<<<", T_REDIR, SH_R_HERESTR, true, false }, { "<<-", T_REDIR, SH_R_HEREDOC, false, true },
    { "<<", T_REDIR, SH_R_HEREDOC, false, false }, { "<>", T_REDIR, SH_R_RDWR, false, false },
    { "<&", T_REDIR, SH_R_DUPIN, false, false }, { "<", T_REDIR, SH_R_IN, false, false },
    { ">>", T_REDIR, SH_R_APPEND, false, false }, { ">&", T_REDIR, SH_R_DUPOUT, false, false },
    { ">|", T_REDIR, SH_R_CLOBBER, false, false }, { ">", T_REDIR, SH_R_OUT, false, false },
};

static bool lex_op(struct parser *p, struct tok *t, int fd)
{
    for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
        size_t l = strlen(ops[k].text);
        if (ops[k].bash_only && !p->bash)
            continue;
        if (p->n - p->i < l || memcmp(p->s + p->i, ops[k].text, l) != 0)
            continue;
        if (fd >= 0 && ops[k].kind != T_REDIR)
            continue;
        t->kind = ops[k].kind;
        t->rk = ops[k].rk;
        t->strip = ops[k].strip;
        p->i += l;
        t->end = p->i;
        if (p->dbrack && t->kind != T_REDIR && t->kind != T_SEMI && t->kind != T_AMP &&
            t->kind != T_DSEMI && t->kind != T_PIPE && t->kind != T_PIPEAMP)
            t->kind = T_WORD;                   /* [[ a && ( b || c ) ]] */
        return true;
    }
    return false;
}

static void lex(struct parser *p, struct tok *t)
{
    if (++p->ntok > SH_PARSE_TOKENS)
        fail_msg(p, "too many tokens");
    for (;;) {
        while (p->i < p->n && is_blank(p->s[p->i]))
            p->i++;
        if (p->i + 1 < p->n && p->s[p->i] == '\\' && p->s[p->i + 1] == '\n') {
            p->i += 2;                          /* line continuation */
            p->line++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == '#') {
            const char *nl = memchr(p->s + p->i, '\n', p->n - p->i);
            p->i = nl ? (size_t)(nl - p->s) : p->n;
        }
        break;
    }
    memset(t, 0, sizeof(*t));
    t->start = p->i;
    t->line = p->line;
    t->fd = -1;
    if (p->i >= p->n) {
        if (p->npending && !p->final)
            fail_more(p);
        t->kind = T_EOF;
        t->end = p->i;
        return;
    }
    char c = p->s[p->i];
    if (c == '\n') {
        p->i++;
        p->line++;
        t->kind = T_NEWLINE;
        t->end = p->i;
        if (p->npending)
            read_heredocs(p);
        return;
    }
    if (p->dbrack && (c == '<' || c == '>')) {
        /* a comparison inside [[ ]] */
    } else if (is_opchar(c)) {
        lex_op(p, t, -1);
        return;
    }
    if (is_digit(c) && !p->dbrack) {
        size_t j = p->i;
        int v = 0;
        while (j < p->n && is_digit(p->s[j]) && v < 100000)
            v = v * 10 + (p->s[j++] - '0');
        if (j < p->n && (p->s[j] == '<' || p->s[j] == '>')) {
            size_t save = p->i;
            p->i = j;
            if (lex_op(p, t, v)) {
                t->fd = v;
                t->start = save;
                return;
            }
            p->i = save;
        }
    }
    size_t e = lex_word_end(p);
    t->kind = T_WORD;
    t->end = e;
    p->line += count_nl(p->s + p->i, e - p->i);
    p->i = e;
}

static struct tok *peek(struct parser *p)
{
    if (!p->have) {
        lex(p, &p->t);
        p->have = true;
    }
    return &p->t;
}

static void consume(struct parser *p)
{
    peek(p);
    p->have = false;
}

/* The token is the unquoted word w. */
static bool tok_is(struct parser *p, const struct tok *t, const char *w)
{
    size_t l = strlen(w);
    return t->kind == T_WORD && t->end - t->start == l && memcmp(p->s + t->start, w, l) == 0;
}

static bool peek_is(struct parser *p, const char *w)
{
    return tok_is(p, peek(p), w);
}

static void expect(struct parser *p, const char *w)
{
    struct tok *t = peek(p);
    if (!tok_is(p, t, w))
        fail_tok(p, t);
    consume(p);
}

static void linebreak(struct parser *p)
{
    while (peek(p)->kind == T_NEWLINE)
        consume(p);
}

static const char *const closers[] = { "then", "else", "elif", "fi", "do", "done", "esac", "}", NULL };

/* A token that ends a compound list (the construct's next keyword). */
static bool is_closer(struct parser *p, const struct tok *t)
{
    if (t->kind == T_EOF || t->kind == T_RPAREN || t->kind == T_DSEMI)
        return true;
    for (size_t k = 0; closers[k]; k++)
        if (tok_is(p, t, closers[k]))
            return true;
    return false;
}

static struct sh_word *make_word(struct parser *p, const struct tok *t)
{
    struct sh_word *w = alloc(p, sizeof(*w));
    w->len = t->end - t->start;
    w->text = dup_span(p, p->s + t->start, w->len);
    return w;
}

static struct sh_node *make_node(struct parser *p, enum sh_node_kind k, unsigned line)
{
    struct sh_node *nd = alloc(p, sizeof(*nd));
    nd->kind = k;
    nd->line = line;
    return nd;
}

static void enter(struct parser *p)
{
    if (++p->depth > SH_PARSE_DEPTH)
        fail_msg(p, "maximum nesting depth exceeded");
}

/* ---- grammar --------------------------------------------------------------------- */

static struct sh_node *parse_list(struct parser *p, bool top);
static struct sh_node *parse_command(struct parser *p);

static struct sh_node *compound_list(struct parser *p)
{
    linebreak(p);
    struct tok *t = peek(p);
    if (is_closer(p, t) || t->kind == T_NEWLINE)
        fail_tok(p, t);
    return parse_list(p, false);
}

/* Quote removal of a here-document delimiter. */
static void heredoc_delim(struct parser *p, struct sh_redir *r)
{
    struct sh_word *w = r->word;
    char *d = alloc(p, w->len + 1);
    size_t o = 0;
    for (size_t i = 0; i < w->len; i++) {
        char c = w->text[i];
        if (c == '\'' || c == '"') {
            r->quoted = true;
            continue;
        }
        if (c == '\\' && i + 1 < w->len) {
            r->quoted = true;
            c = w->text[++i];
        }
        d[o++] = c;
    }
    d[o] = '\0';
    w->text = d;
    w->len = o;
}

static struct sh_redir *parse_redir(struct parser *p)
{
    struct tok op = *peek(p);
    consume(p);
    struct tok *t = peek(p);
    if (t->kind != T_WORD) {
        if (t->kind == T_EOF) {
            struct tok nl = *t;
            nl.kind = T_NEWLINE;
            fail_tok(p, &nl);
        }
        fail_tok(p, t);
    }
    struct sh_redir *r = alloc(p, sizeof(*r));
    r->kind = op.rk;
    r->strip = op.strip;
    r->word = make_word(p, t);
    consume(p);
    bool in = r->kind == SH_R_IN || r->kind == SH_R_RDWR || r->kind == SH_R_DUPIN ||
              r->kind == SH_R_HEREDOC || r->kind == SH_R_HERESTR;
    r->fd = op.fd >= 0 ? op.fd : in ? 0 : 1;
    if (r->kind == SH_R_HEREDOC) {
        heredoc_delim(p, r);
        if (p->npending >= PENDING_MAX)
            fail_msg(p, "too many here-documents");
        p->pending[p->npending++] = r;
    }
    return r;
}

static bool is_assignment(const char *s, size_t n)
{
    if (n == 0 || !is_name0(s[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        if (s[i] == '=' || (s[i] == '+' && i + 1 < n && s[i + 1] == '='))
            return true;
        if (!is_name0(s[i]) && !is_digit(s[i]))
            return false;
    }
    return false;
}

static void add_redirs(struct parser *p, struct sh_node *nd)
{
    struct sh_redir **tail = &nd->redirs;
    while (*tail)
        tail = &(*tail)->next;
    while (peek(p)->kind == T_REDIR) {
        *tail = parse_redir(p);
        tail = &(*tail)->next;
    }
}

static struct sh_node *parse_funcbody(struct parser *p, struct sh_node *fn)
{
    linebreak(p);
    struct tok *t = peek(p);
    if (!(tok_is(p, t, "{") || t->kind == T_LPAREN || tok_is(p, t, "if") || tok_is(p, t, "while") ||
          tok_is(p, t, "until") || tok_is(p, t, "for") || tok_is(p, t, "case")))
        fail_tok(p, t);
    fn->body = parse_command(p);
    return fn;
}

static struct sh_node *parse_simple(struct parser *p)
{
    struct sh_node *nd = make_node(p, SH_N_SIMPLE, peek(p)->line);
    struct sh_word **wt = &nd->words;
    struct sh_redir **rt = &nd->redirs;
    bool cmd_seen = false;
    for (;;) {
        struct tok *t = peek(p);
        if (t->kind == T_REDIR) {
            *rt = parse_redir(p);
            rt = &(*rt)->next;
        } else if (t->kind == T_WORD) {
            struct sh_word *w = make_word(p, t);
            consume(p);
            if (!cmd_seen && is_assignment(w->text, w->len)) {
                w->assign = true;
            } else if (!cmd_seen && !nd->words && !nd->redirs && peek(p)->kind == T_LPAREN) {
                consume(p);                         /* name ( ) compound-command */
                struct tok *r = peek(p);
                if (r->kind != T_RPAREN)
                    fail_tok(p, r);
                consume(p);
                nd->kind = SH_N_FUNC;
                nd->name = w->text;
                return parse_funcbody(p, nd);
            } else {
                cmd_seen = true;
            }
            *wt = w;
            wt = &w->next;
        } else {
            break;
        }
    }
    return nd;
}

static struct sh_node *parse_if(struct parser *p)
{
    struct sh_node *nd = make_node(p, SH_N_IF, peek(p)->line);
    consume(p);                                     /* if / elif */
    enter(p);
    nd->cond = compound_list(p);
    expect(p, "then");
    nd->body = compound_list(p);
    if (peek_is(p, "elif")) {
        nd->alt = parse_if(p);
        p->depth--;
        return nd;
    }
    if (peek_is(p, "else")) {
        consume(p);
        nd->alt = compound_list(p);
    }
    expect(p, "fi");
    p->depth--;
    return nd;
}

static struct sh_node *parse_loop(struct parser *p, enum sh_node_kind k)
{
    struct sh_node *nd = make_node(p, k, peek(p)->line);
    consume(p);
    nd->cond = compound_list(p);
    expect(p, "do");
    nd->body = compound_list(p);
    expect(p, "done");
    return nd;
}

static bool valid_name(const char *s, size_t n)
{
    if (n == 0 || !is_name0(s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_name0(s[i]) && !is_digit(s[i]))
            return false;
    return true;
}

static struct sh_node *parse_for(struct parser *p)
{
    struct sh_node *nd = make_node(p, SH_N_FOR, peek(p)->line);
    consume(p);
    struct tok *t = peek(p);
    if (t->kind != T_WORD || !valid_name(p->s + t->start, t->end - t->start))
        fail_tok(p, t);
    nd->name = dup_span(p, p->s + t->start, t->end - t->start);
    consume(p);
    linebreak(p);
    if (peek_is(p, "in")) {
        consume(p);
        struct sh_word **wt = &nd->words;
        while (peek(p)->kind == T_WORD) {
            *wt = make_word(p, peek(p));
            wt = &(*wt)->next;
            consume(p);
        }
        t = peek(p);
        if (t->kind != T_SEMI && t->kind != T_NEWLINE)
            fail_tok(p, t);
        consume(p);
    } else {
        nd->flags |= SH_F_NOIN;
        if (peek(p)->kind == T_SEMI)
            consume(p);
    }
    linebreak(p);
    expect(p, "do");
    nd->body = compound_list(p);
    expect(p, "done");
    return nd;
}

static struct sh_node *parse_case(struct parser *p)
{
    struct sh_node *nd = make_node(p, SH_N_CASE, peek(p)->line);
    consume(p);
    struct tok *t = peek(p);
    if (t->kind != T_WORD)
        fail_tok(p, t);
    nd->words = make_word(p, t);
    consume(p);
    linebreak(p);
    expect(p, "in");
    linebreak(p);
    struct sh_node **it = &nd->body;
    while (!peek_is(p, "esac")) {
        struct sh_node *ci = make_node(p, SH_N_CASEITEM, peek(p)->line);
        if (peek(p)->kind == T_LPAREN)
            consume(p);
        struct sh_word **wt = &ci->words;
        for (;;) {
            t = peek(p);
            if (t->kind != T_WORD)
                fail_tok(p, t);
            *wt = make_word(p, t);
            wt = &(*wt)->next;
            consume(p);
            if (peek(p)->kind != T_PIPE)
                break;
            consume(p);
        }
        t = peek(p);
        if (t->kind != T_RPAREN)
            fail_tok(p, t);
        consume(p);
        linebreak(p);
        t = peek(p);
        if (t->kind != T_DSEMI && !tok_is(p, t, "esac"))
            ci->body = parse_list(p, false);
        *it = ci;
        it = &ci->next;
        t = peek(p);
        if (t->kind == T_DSEMI) {
            consume(p);
            linebreak(p);
        } else if (!tok_is(p, t, "esac")) {
            fail_tok(p, t);
        }
    }
    consume(p);
    return nd;
}

static struct sh_node *parse_group(struct parser *p, enum sh_node_kind k)
{
    struct sh_node *nd = make_node(p, k, peek(p)->line);
    consume(p);
    nd->body = compound_list(p);
    if (k == SH_N_BRACE) {
        expect(p, "}");
    } else {
        struct tok *t = peek(p);
        if (t->kind != T_RPAREN)
            fail_tok(p, t);
        consume(p);
    }
    return nd;
}

static struct sh_node *parse_function(struct parser *p)
{
    struct sh_node *nd = make_node(p, SH_N_FUNC, peek(p)->line);
    consume(p);
    struct tok *t = peek(p);
    if (t->kind != T_WORD)
        fail_tok(p, t);
    nd->name = dup_span(p, p->s + t->start, t->end - t->start);
    consume(p);
    if (peek(p)->kind == T_LPAREN) {
        consume(p);
        t = peek(p);
        if (t->kind != T_RPAREN)
            fail_tok(p, t);
        consume(p);
    }
    return parse_funcbody(p, nd);
}

static struct sh_node *parse_dbrack(struct parser *p)
{
    struct sh_node *nd = make_node(p, SH_N_DBRACK, peek(p)->line);
    p->dbrack = true;
    consume(p);
    struct sh_word **wt = &nd->words;
    for (;;) {
        struct tok *t = peek(p);
        if (tok_is(p, t, "]]"))
            break;
        if (t->kind != T_WORD) {
            p->dbrack = false;
            fail_tok(p, t);
        }
        *wt = make_word(p, t);
        wt = &(*wt)->next;
        consume(p);
    }
    p->dbrack = false;
    consume(p);
    return nd;
}

struct kw {
    const char *word;
    struct sh_node *(*fn)(struct parser *p);
    bool bash_only;
};

static struct sh_node *kw_if(struct parser *p) { return parse_if(p); }
static struct sh_node *kw_while(struct parser *p) { return parse_loop(p, SH_N_WHILE); }
static struct sh_node *kw_until(struct parser *p) { return parse_loop(p, SH_N_UNTIL); }
static struct sh_node *kw_brace(struct parser *p) { return parse_group(p, SH_N_BRACE); }

static const struct kw keywords[] = {
    { "if", kw_if, false }, { "while", kw_while, false }, { "until", kw_until, false },
    { "for", parse_for, false }, { "case", parse_case, false }, { "{", kw_brace, false },
    { "function", parse_function, true }, { "[[", parse_dbrack, true },
};

static struct sh_node *parse_command(struct parser *p)
{
    enter(p);
    struct tok *t = peek(p);
    struct sh_node *nd = NULL;
    if (t->kind == T_LPAREN) {
        nd = parse_group(p, SH_N_SUBSHELL);
    } else if (t->kind == T_WORD) {
        for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]) && !nd; k++)
            if ((!keywords[k].bash_only || p->bash) && tok_is(p, t, keywords[k].word))
                nd = keywords[k].fn(p);
        if (!nd && is_closer(p, t))
            fail_tok(p, t);
        if (!nd)
            nd = parse_simple(p);
        else if (nd->kind != SH_N_FUNC)
            add_redirs(p, nd);
    } else if (t->kind == T_REDIR) {
        nd = parse_simple(p);
    } else {
        fail_tok(p, t);
    }
    p->depth--;
    return nd;
}

static struct sh_node *parse_pipeline(struct parser *p)
{
    struct sh_node *nd = make_node(p, SH_N_PIPE, peek(p)->line);
    while (peek_is(p, "!")) {
        consume(p);
        nd->flags ^= SH_F_BANG;
    }
    struct sh_node **tail = &nd->body;
    for (;;) {
        struct sh_node *c = parse_command(p);
        *tail = c;
        tail = &c->next;
        struct tok *t = peek(p);
        if (t->kind != T_PIPE && t->kind != T_PIPEAMP)
            break;
        if (t->kind == T_PIPEAMP)
            c->flags |= SH_F_PIPEERR;
        consume(p);
        linebreak(p);
    }
    return nd;
}

static struct sh_node *parse_andor(struct parser *p)
{
    struct sh_node *nd = make_node(p, SH_N_ANDOR, peek(p)->line);
    struct sh_node **tail = &nd->body;
    int op = 0;
    for (;;) {
        struct sh_node *pl = parse_pipeline(p);
        pl->flags |= op;
        *tail = pl;
        tail = &pl->next;
        struct tok *t = peek(p);
        if (t->kind != T_AND && t->kind != T_OR)
            break;
        op = t->kind == T_AND ? SH_F_AND : SH_F_OR;
        consume(p);
        linebreak(p);
    }
    return nd;
}

static bool can_start(struct parser *p, const struct tok *t)
{
    return (t->kind == T_WORD && !is_closer(p, t)) || t->kind == T_LPAREN || t->kind == T_REDIR;
}

/* top: up to a newline (one complete command); otherwise a compound list
 * (newlines separate, a closing keyword ends it). */
static struct sh_node *parse_list(struct parser *p, bool top)
{
    enter(p);
    struct sh_node *nd = make_node(p, SH_N_LIST, peek(p)->line);
    struct sh_node **tail = &nd->body;
    for (;;) {
        struct sh_node *ao = parse_andor(p);
        *tail = ao;
        tail = &ao->next;
        struct tok *t = peek(p);
        if (t->kind == T_SEMI || t->kind == T_AMP) {
            if (t->kind == T_AMP)
                ao->flags |= SH_F_ASYNC;
            consume(p);
        } else if (t->kind == T_NEWLINE && !top) {
            consume(p);
        } else {
            break;
        }
        if (!top)
            linebreak(p);
        t = peek(p);
        if (!can_start(p, t))
            break;
    }
    p->depth--;
    return nd;
}

void sh_parse_advance(struct sh_parse_opts *o, const char *text, size_t pos)
{
    if (o->known_line && o->known_pos <= pos) {
        o->known_line += count_nl(text + o->known_pos, pos - o->known_pos);
    } else {
        o->known_line = (o->first_line ? o->first_line : 1) + count_nl(text, pos);
    }
    o->known_pos = pos;
}

enum sh_parse_status sh_parse(const char *text, size_t len, size_t pos,
                              const struct sh_parse_opts *o, struct sh_parse *out)
{
    struct parser *p = calloc(1, sizeof(*p));
    memset(out, 0, sizeof(*out));
    if (!p) {
        out->status = SH_PARSE_ERROR;
        strcpy(out->tok, "xmalloc: cannot allocate memory");
        out->msg = true;
        return out->status;
    }
    p->s = text;
    p->n = len;
    p->i = pos;
    p->bash = o->bash;
    p->final = o->final;
    if (o->known_line && o->known_pos <= pos)
        p->line = o->known_line + count_nl(text + o->known_pos, pos - o->known_pos);
    else
        p->line = (o->first_line ? o->first_line : 1) + count_nl(text, pos);
    p->out = out;
    p->a = arena_new();
    if (!p->a) {
        free(p);
        out->status = SH_PARSE_ERROR;
        strcpy(out->tok, "xmalloc: cannot allocate memory");
        out->msg = true;
        return out->status;
    }
    if (setjmp(p->jb) == 0) {
        linebreak(p);
        struct tok *t = peek(p);
        if (t->kind == T_EOF) {
            out->status = SH_PARSE_EMPTY;
            out->end = p->n;
        } else {
            struct sh_node *root = parse_list(p, true);
            t = peek(p);
            if (t->kind != T_NEWLINE && t->kind != T_EOF)
                fail_tok(p, t);
            consume(p);                         /* reads pending here-document bodies */
            out->status = SH_PARSE_OK;
            out->root = root;
            out->end = p->i;
            out->arena = p->a;
            p->a = NULL;
        }
    }
    sh_arena_unref(p->a);
    free(p);
    return out->status;
}

/* ---- patterns ---------------------------------------------------------------------- */

/* A bracket expression at pat[*pi] ('[' already seen at *pi): does c match?
 * *pi moves past it; false with *pi unchanged when it is not a valid bracket. */
static bool bracket(const char *pat, size_t plen, size_t *pi, unsigned char c, bool *valid)
{
    size_t i = *pi + 1;
    bool neg = false, match = false;
    if (i < plen && (pat[i] == '!' || pat[i] == '^')) {
        neg = true;
        i++;
    }
    size_t first = i;
    while (i < plen && (pat[i] != ']' || i == first)) {
        if (pat[i] == '[' && i + 1 < plen && pat[i + 1] == ':') {
            static const char *const cls[] = { "alpha", "digit", "alnum", "space",
                                               "upper", "lower", "xdigit", "punct" };
            const char *e = memchr(pat + i + 2, ']', plen - i - 2);
            if (e && e > pat + i + 2 && e[-1] == ':') {
                size_t nl = (size_t)(e - 1 - (pat + i + 2));
                const char *nm = pat + i + 2;
                for (size_t k = 0; k < sizeof(cls) / sizeof(cls[0]); k++) {
                    if (strlen(cls[k]) != nl || memcmp(cls[k], nm, nl) != 0)
                        continue;
                    bool al = (c | 32) >= 'a' && (c | 32) <= 'z', dg = c >= '0' && c <= '9';
                    bool r = k == 0 ? al : k == 1 ? dg : k == 2 ? al || dg
                           : k == 3 ? (c == ' ' || (c >= 9 && c <= 13))
                           : k == 4 ? c >= 'A' && c <= 'Z' : k == 5 ? c >= 'a' && c <= 'z'
                           : k == 6 ? dg || ((c | 32) >= 'a' && (c | 32) <= 'f')
                           : (c > 32 && c < 127 && !al && !dg);
                    match |= r;
                }
                i = (size_t)(e - pat) + 1;
                continue;
            }
        }
        unsigned char lo = (unsigned char)pat[i];
        if (lo == '\\' && i + 1 < plen)
            lo = (unsigned char)pat[++i];
        unsigned char hi = lo;
        if (i + 2 < plen && pat[i + 1] == '-' && pat[i + 2] != ']') {
            hi = (unsigned char)pat[i + 2];
            if (hi == '\\' && i + 3 < plen)
                hi = (unsigned char)pat[++i + 2];
            i += 2;
        }
        if (c >= lo && c <= hi)
            match = true;
        i++;
    }
    if (i >= plen) {
        *valid = false;
        return false;
    }
    *valid = true;
    *pi = i + 1;
    return match != neg;
}

/* Match one pattern element at pat[*pi] against s[si]; advances *pi. */
static bool match_one(const char *pat, size_t plen, size_t *pi, unsigned char c)
{
    char pc = pat[*pi];
    if (pc == '?') {
        (*pi)++;
        return true;
    }
    if (pc == '[') {
        bool valid;
        size_t save = *pi;
        bool m = bracket(pat, plen, pi, c, &valid);
        if (valid)
            return m;
        *pi = save + 1;
        return c == '[';
    }
    if (pc == '\\' && *pi + 1 < plen)
        pc = pat[++*pi];
    (*pi)++;
    return (unsigned char)pc == c;
}

bool sh_pattern_match(const char *pat, size_t plen, const char *s, size_t slen, bool pathname)
{
    size_t pi = 0, si = 0, star_p = (size_t)-1, star_s = 0;
    if (pathname && slen > 0 && s[0] == '.' && !(plen > 0 && pat[0] == '.'))
        return false;
    while (si < slen) {
        if (pi < plen && pat[pi] == '*') {
            while (pi < plen && pat[pi] == '*')
                pi++;
            star_p = pi;
            star_s = si;
            continue;
        }
        size_t np = pi;
        if (pi < plen && match_one(pat, plen, &np, (unsigned char)s[si])) {
            pi = np;
            si++;
            continue;
        }
        if (star_p == (size_t)-1)
            return false;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < plen && pat[pi] == '*')
        pi++;
    return pi == plen;
}
