/*
 * parse.h - the shell grammar: attacker bytes to a syntax tree (parse.c).
 *
 * A POSIX sh subset with the bash extensions bots use: lists (; & newline),
 * and-or (&& ||), pipelines (| |& !), simple commands with assignments and
 * redirections (here-documents and here-strings too), if/while/until/for/
 * case, { } and ( ), function definitions, [[ ... ]] (bash) and comments.
 *
 * Words are kept as their source text (quotes and all): interp.c expands
 * them when the command runs, so "false; echo $?" sees the new status and
 * $(...) is parsed only when it is about to run.  The parser still has to
 * know where a word ends, so it scans quotes, ${...}, $(...), $((...)) and
 * backquotes with the same rules expansion uses.
 *
 * One call parses one "complete command" (a list up to a newline at top
 * level, with the here-document bodies that follow it), so a script runs
 * command by command as bash does and a syntax error on line 5 comes after
 * lines 1-4 have run.  Input that stops inside a construct gives
 * SH_PARSE_MORE: the interactive shell keeps the text and prompts PS2.
 *
 * Everything the tree points to lives in one reference-counted arena (a
 * function keeps the arena of its definition alive).  Bounds: nesting
 * depth SH_PARSE_DEPTH, SH_PARSE_TOKENS tokens and SH_PARSE_ARENA bytes per
 * parse; a here-document is at most SH_PARSE_HEREDOC bytes.
 */
#ifndef HP_SH_PARSE_H
#define HP_SH_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SH_PARSE_DEPTH   64
#define SH_PARSE_TOKENS  65536
#define SH_PARSE_ARENA   (8u << 20)
#define SH_PARSE_HEREDOC (1u << 20)

struct sh_word {
    char *text;                   /* source text, NUL-terminated (may hold NULs: use len) */
    size_t len;
    bool assign;                  /* NAME=value before the command name */
    struct sh_word *next;
};

enum sh_redir_kind {
    SH_R_IN,          /* <  */
    SH_R_OUT,         /* >  */
    SH_R_APPEND,      /* >> */
    SH_R_CLOBBER,     /* >| */
    SH_R_RDWR,        /* <> */
    SH_R_DUPIN,       /* <& */
    SH_R_DUPOUT,      /* >& */
    SH_R_HEREDOC,     /* << and <<- */
    SH_R_HERESTR,     /* <<< */
    SH_R_ALL,         /* &> */
    SH_R_ALLAPP,      /* &>> */
};

struct sh_redir {
    enum sh_redir_kind kind;
    int fd;                       /* the descriptor redirected */
    struct sh_word *word;         /* target (or here-document delimiter) */
    char *body;                   /* here-document text */
    size_t body_len;
    bool quoted;                  /* here-document delimiter was quoted: no expansion */
    bool strip;                   /* <<-: leading tabs removed */
    struct sh_redir *next;
};

enum sh_node_kind {
    SH_N_LIST,        /* body: items linked by next, each with SH_F_ASYNC or not */
    SH_N_ANDOR,       /* body: pipelines; each after the first has SH_F_AND or SH_F_OR */
    SH_N_PIPE,        /* body: commands; SH_F_BANG; SH_F_PIPEERR per stage for |& */
    SH_N_SIMPLE,      /* words (assignments first), redirs */
    SH_N_IF,          /* cond, body, alt (else part: a list or another SH_N_IF) */
    SH_N_WHILE,       /* cond, body */
    SH_N_UNTIL,       /* cond, body */
    SH_N_FOR,         /* name, words (the list; SH_F_NOIN: "$@"), body */
    SH_N_CASE,        /* words: the subject; body: SH_N_CASEITEM list */
    SH_N_CASEITEM,    /* words: the patterns; body (may be NULL) */
    SH_N_BRACE,       /* body */
    SH_N_SUBSHELL,    /* body */
    SH_N_FUNC,        /* name, body (a compound command) */
    SH_N_DBRACK,      /* [[ ... ]]: words between the brackets */
};

#define SH_F_ASYNC   0x1
#define SH_F_AND     0x2
#define SH_F_OR      0x4
#define SH_F_BANG    0x8
#define SH_F_NOIN    0x10
#define SH_F_PIPEERR 0x20

struct sh_node {
    enum sh_node_kind kind;
    int flags;
    unsigned line;                /* line of its first token, from 1 */
    struct sh_node *next;
    struct sh_node *body, *cond, *alt;
    struct sh_word *words;
    struct sh_redir *redirs;      /* simple and compound commands */
    char *name;                   /* SH_N_FOR variable, SH_N_FUNC name */
    const char *src;              /* SH_N_FUNC: its source text (for type), NUL-terminated */
};

struct sh_arena;

enum sh_parse_status { SH_PARSE_OK, SH_PARSE_EMPTY, SH_PARSE_MORE, SH_PARSE_ERROR };

struct sh_parse {
    enum sh_parse_status status;
    struct sh_node *root;         /* SH_PARSE_OK: a SH_N_LIST */
    struct sh_arena *arena;       /* owner of root (sh_arena_unref); NULL unless OK */
    size_t end;                   /* offset after what was parsed (OK / EMPTY) */
    unsigned line;                /* line of the error, from 1 */
    char tok[64];                 /* SH_PARSE_ERROR: the unexpected token ("fi", "newline", "end of file")
                                   * or a message when msg is set */
    bool eof;                     /* the error is an unexpected end of file */
    bool msg;                     /* tok is a whole message ("unexpected EOF while looking for ...") */
    /* SH_PARSE_MORE inside a here-document body: only a line equal to
     * more_delim (after leading tabs when more_strip) can end it, so a
     * caller adding lines need not parse again for any other line.  ""
     * for every other open construct (or a delimiter longer than this). */
    char more_delim[64];
    bool more_strip;
};

struct sh_parse_opts {
    bool bash;                    /* [[ ]], function, |&, &>, <<<, $'...' */
    bool final;                   /* no more input will come: end of file is an error, not MORE */
    unsigned first_line;          /* line number of text[0] (1 if 0) */
    size_t known_pos;             /* with known_line: text[known_pos] is on that line (sh_parse_advance) */
    unsigned known_line;
};

/* Parse one complete command of text[pos..len).  Returns p->status. */
enum sh_parse_status sh_parse(const char *text, size_t len, size_t pos,
                              const struct sh_parse_opts *o, struct sh_parse *p);

/* The next sh_parse of text starts at pos or after: count its lines up to pos
 * once.  Without it each sh_parse counts them from text[0], and a text of
 * many short lines parsed command after command took time quadratic in its
 * size (64 KiB of "a" lines: 350 ms). */
void sh_parse_advance(struct sh_parse_opts *o, const char *text, size_t pos);

void sh_arena_ref(struct sh_arena *a);
void sh_arena_unref(struct sh_arena *a);

/* The end of a word-level construct starting at s[0] ('$(' '${' '`' '\'' '"' "$'" '$(('):
 * the offset just after it, 0 if unterminated.  Shared with expansion. */
size_t sh_scan_construct(const char *s, size_t n, bool bash);

/* Pattern matching as the shell does it (case, ${V#p}, globbing, [[ == ]]):
 * * ? [...] [!...] and backslash.  Bounded work (no exponential backtracking). */
bool sh_pattern_match(const char *pat, size_t plen, const char *s, size_t slen, bool pathname);

#endif
