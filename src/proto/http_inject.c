/*
 * http_inject.c - the commands an exploit injects, through the emulated
 * shell's parser (src/shell/parse.c), never run.
 *
 * The classifier (src/intel/webclass.c) cuts the command text out of a
 * request ("$(wget ...)" in a SOAP field, Cmd of a Docker container); this
 * turns it into the argv of each simple command, as the shell would see
 * them before expansion, for the operator and for reports.  Droppers nest:
 * a substitution that is the whole command is opened, and so is the script
 * of "sh -c '...'" (bash, ash, dash, busybox sh), quotes taken off.  Words
 * stay as written (no expansion: nothing here evaluates attacker text).
 */
#include <stdbool.h>
#include <string.h>
#include "event.h"
#include "http_inject.h"
#include "shell/parse.h"

static void injected_text(struct hp_ev *ev, const char *text, size_t len, unsigned *left, int depth);

/* A word that is a whole command substitution: $(...) or `...`. */
static bool substitution(const struct sh_word *w, const char **inner, size_t *n)
{
    if (w->len >= 3 && w->text[0] == '$' && w->text[1] == '(' && w->text[w->len - 1] == ')') {
        *inner = w->text + 2;
        *n = w->len - 3;
        return true;
    }
    if (w->len >= 2 && w->text[0] == '`' && w->text[w->len - 1] == '`') {
        *inner = w->text + 1;
        *n = w->len - 2;
        return true;
    }
    return false;
}

/* The script of "sh -c 'SCRIPT'" (bash, ash, dash, "busybox sh" too), with its
 * one layer of quotes taken off into buf: droppers wrap their commands so. */
static bool shell_c_script(const struct sh_node *n, char *buf, size_t cap, size_t *len)
{
    const struct sh_word *w = n->words;
    if (w && strcmp(w->text, "busybox") == 0)
        w = w->next;
    if (!w)
        return false;
    const char *base = strrchr(w->text, '/') ? strrchr(w->text, '/') + 1 : w->text;
    if (strcmp(base, "sh") && strcmp(base, "bash") && strcmp(base, "ash") && strcmp(base, "dash"))
        return false;
    for (w = w->next; w && w->text[0] == '-' && strcmp(w->text, "-c"); w = w->next)
        ;                                   /* -e, -x ... before -c */
    if (!w || strcmp(w->text, "-c") != 0 || !w->next)
        return false;
    const char *t = w->next->text;
    size_t tl = w->next->len, o = 0;
    char q = tl >= 2 && (t[0] == '\'' || t[0] == '"') && t[tl - 1] == t[0] ? t[0] : 0;
    size_t from = q ? 1 : 0, to = q ? tl - 1 : tl;
    for (size_t i = from; i < to && o + 1 < cap; i++) {
        if (q == '"' && t[i] == '\\' && i + 1 < to && strchr("\"\\$`", t[i + 1]))
            i++;                            /* \" \\ \$ \` inside double quotes */
        buf[o++] = t[i];
    }
    buf[o] = '\0';
    *len = o;
    return o > 0;
}

static void injected_node(struct hp_ev *ev, const struct sh_node *n, unsigned *left, int depth)
{
    for (; n && *left > 0 && depth < 16; n = n->next) {
        if (n->kind != SH_N_SIMPLE) {
            injected_node(ev, n->cond, left, depth + 1);
            injected_node(ev, n->body, left, depth + 1);
            injected_node(ev, n->alt, left, depth + 1);
            continue;
        }
        const char *inner;
        size_t in;
        if (n->words && !n->words->next && substitution(n->words, &inner, &in)) {
            injected_text(ev, inner, in, left, depth + 1);    /* $(wget ...) as the whole command */
            continue;
        }
        (*left)--;
        hp_ev_arr_begin(ev, NULL);
        for (const struct sh_word *w = n->words; w; w = w->next)
            if (!w->assign)
                hp_ev_elem_str(ev, w->text);
        hp_ev_arr_end(ev);
        char script[2048];
        size_t sl;
        if (depth < 8 && shell_c_script(n, script, sizeof(script), &sl))
            injected_text(ev, script, sl, left, depth + 1);     /* then what sh -c runs */
    }
}

static void injected_text(struct hp_ev *ev, const char *text, size_t len, unsigned *left, int depth)
{
    struct sh_parse_opts o = { .bash = true, .final = true };
    size_t pos = 0;
    for (int guard = 0; pos < len && *left > 0 && guard < 64 && depth < 16; guard++) {
        struct sh_parse p;
        enum sh_parse_status st = sh_parse(text, len, pos, &o, &p);
        if (st == SH_PARSE_OK) {
            injected_node(ev, p.root, left, depth);
            sh_arena_unref(p.arena);
        }
        if ((st != SH_PARSE_OK && st != SH_PARSE_EMPTY) || p.end <= pos)
            break;
        pos = p.end;
        sh_parse_advance(&o, text, pos);
    }
}

void hp_http_injected(struct hp_ev *ev, const char *text, size_t len)
{
    unsigned left = HP_HTTP_INJECTED_MAX;
    injected_text(ev, text, len, &left, 0);
}
