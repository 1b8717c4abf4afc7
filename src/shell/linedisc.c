/*
 * linedisc.c - keystrokes to lines, echoing what bash 5.2's readline echoes.
 * See linedisc.h.
 *
 * The echo bytes were taken from a real Debian 12 bash on a pty (TERM=xterm
 * and TERM=dumb), because a scanner that types and compares is exactly what
 * a honeypot must survive:
 *
 *   printable byte      echoed as is (UTF-8 and other bytes >= 0x80 too)
 *   CR, LF, CR LF, CR NUL   "\r\n", the line is complete (the LF/NUL after a
 *                       CR belongs to it: Telnet clients send CR LF / CR NUL)
 *   DEL, ^H             "\b \b" (a multi-byte character on xterm: "\b\x1b[K");
 *                       at the start of the line a bell
 *   ^U / ^W             kill the line / the last word: xterm "\b"*n "\x1b[K",
 *                       dumb "\b \b"*n; on an empty line a bell
 *   ^C                  "^C", the line is dropped (the caller adds the rest)
 *   ^D                  empty line: end of input; otherwise a bell
 *   ^L                  the caller clears the screen and redraws
 *   TAB                 a bell (no completion here)
 *   up/down, ^P/^N      previous/next history line, drawn like readline's
 *                       redisplay: back to the first difference, delete what
 *                       is too much ("\x1b[nP"), write the rest; the line
 *                       being edited is kept and comes back below the newest
 *   other ESC sequences (CSI, SS3, Alt+key) and other control bytes:
 *                       swallowed, nothing echoed
 * Characters count as one column each (wide characters are not measured).
 */
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "linedisc.h"

#define BEL "\a"
#define ESC_MAX 32

enum { E_NONE, E_ESC, E_CSI, E_SS3 };

void hp_ld_init(struct hp_ld *ld, bool fancy, void (*echo)(void *, const void *, size_t), void *arg)
{
    memset(ld, 0, sizeof(*ld));
    ld->fancy = fancy;
    ld->echo = echo;
    ld->arg = arg;
}

static void saved_free(struct hp_ld *ld)
{
    free(ld->saved);
    ld->saved = NULL;
    ld->saved_len = 0;
}

/* Room for n bytes of line; false if n is over the cap or memory is short. */
static bool ld_reserve(struct hp_ld *ld, size_t n)
{
    if (n <= ld->cap)
        return true;
    if (n > HP_LD_LINE_MAX)
        return false;
    size_t c = ld->cap ? ld->cap : 128;
    while (c < n)
        c *= 2;
    if (c > HP_LD_LINE_MAX)
        c = HP_LD_LINE_MAX;
    uint8_t *p = realloc(ld->line, c);
    if (!p)
        return false;
    ld->line = p;
    ld->cap = c;
    return true;
}

void hp_ld_free(struct hp_ld *ld)
{
    free(ld->line);
    ld->line = NULL;
    ld->len = ld->cap = 0;
    for (size_t i = 0; i < ld->nhist; i++)
        free(ld->hist[i]);
    ld->nhist = 0;
    ld->hist_bytes = 0;
    saved_free(ld);
}

static void out(struct hp_ld *ld, const void *p, size_t n)
{
    if (n && ld->echo)
        ld->echo(ld->arg, p, n);
}

static void outs(struct hp_ld *ld, const char *s) { out(ld, s, strlen(s)); }

/* Columns (characters) in line[from, len): bytes that are not UTF-8 continuations. */
static size_t columns(const struct hp_ld *ld, size_t from)
{
    size_t n = 0;
    for (size_t i = from; i < ld->len; i++)
        if ((ld->line[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* Cut the line back to 'keep' bytes and erase what was there on the screen. */
static void erase_to(struct hp_ld *ld, size_t keep)
{
    size_t cols = columns(ld, keep);
    ld->len = keep;
    if (cols == 0)
        return;
    for (size_t i = 0; i < cols; i++)
        outs(ld, ld->fancy ? "\b" : "\b \b");
    if (ld->fancy)
        outs(ld, "\x1b[K");
}

/* Start of the last character: a UTF-8 sequence whose continuation bytes
 * are all there counts as one, any other byte on its own. */
static size_t last_char(const struct hp_ld *ld)
{
    size_t k = ld->len - 1, cont = 0;
    while (cont < 3 && k > 0 && (ld->line[k] & 0xC0) == 0x80) {
        k--;
        cont++;
    }
    uint8_t b = ld->line[k];
    size_t need = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xC2 && b <= 0xDF ? 2 : 0;
    return cont > 0 && need == cont + 1 ? k : ld->len - 1;
}

static void rubout(struct hp_ld *ld)
{
    if (ld->len == 0) {
        outs(ld, BEL);
        return;
    }
    size_t k = last_char(ld);
    bool multi = ld->len - k > 1;
    ld->len = k;
    outs(ld, multi && ld->fancy ? "\b\x1b[K" : "\b \b");
}

/* ^W: back over blanks, then over the word before them. */
static void word_rubout(struct hp_ld *ld)
{
    size_t k = ld->len;
    if (k == 0) {
        outs(ld, BEL);
        return;
    }
    while (k > 0 && (ld->line[k - 1] == ' ' || ld->line[k - 1] == '\t'))
        k--;
    while (k > 0 && ld->line[k - 1] != ' ' && ld->line[k - 1] != '\t')
        k--;
    erase_to(ld, k);
}

static void insert(struct hp_ld *ld, uint8_t c)
{
    if (ld->len == HP_LD_LINE_MAX || !ld_reserve(ld, ld->len + 1))
        return;                 /* full: dropped unechoed */
    ld->line[ld->len++] = c;
    out(ld, &c, 1);
}

static void hist_drop_oldest(struct hp_ld *ld)
{
    free(ld->hist[0]);
    ld->hist_bytes -= ld->hist_len[0];
    memmove(ld->hist, ld->hist + 1, (ld->nhist - 1) * sizeof(ld->hist[0]));
    memmove(ld->hist_len, ld->hist_len + 1, (ld->nhist - 1) * sizeof(ld->hist_len[0]));
    ld->nhist--;
}

static void hist_add(struct hp_ld *ld)
{
    if (ld->len == 0 || ld->len > HP_LD_HIST_BYTES)
        return;
    while (ld->nhist > 0 && (ld->nhist == HP_LD_HIST_MAX || ld->hist_bytes + ld->len > HP_LD_HIST_BYTES))
        hist_drop_oldest(ld);
    uint8_t *copy = malloc(ld->len);
    if (!copy)
        return;
    memcpy(copy, ld->line, ld->len);
    ld->hist[ld->nhist] = copy;
    ld->hist_len[ld->nhist++] = ld->len;
    ld->hist_bytes += ld->len;
}

/* Replace the line with text, redrawing only from the first difference. */
static void replace_line(struct hp_ld *ld, const uint8_t *text, size_t n)
{
    if (!ld_reserve(ld, n))
        return;
    size_t p = 0, lim = ld->len < n ? ld->len : n;
    while (p < lim && ld->line[p] == text[p])
        p++;
    /* do not start in the middle of a character */
    while (p > 0 && ((p < n && (text[p] & 0xC0) == 0x80) || (p < ld->len && (ld->line[p] & 0xC0) == 0x80)))
        p--;
    size_t oldcols = columns(ld, p);
    size_t newcols = 0;
    for (size_t i = p; i < n; i++)
        newcols += (text[i] & 0xC0) != 0x80;
    for (size_t i = 0; i < oldcols; i++)
        outs(ld, ld->fancy ? "\b" : "\b \b");
    if (ld->fancy && newcols == 0 && oldcols > 0) {
        outs(ld, "\x1b[K");
    } else if (ld->fancy && newcols < oldcols) {
        char dch[24];
        snprintf(dch, sizeof(dch), "\x1b[%zuP", oldcols - newcols);
        outs(ld, dch);
    }
    memcpy(ld->line + p, text + p, n - p);
    ld->len = n;
    out(ld, ld->line + p, n - p);
}

/* Up (dir -1) or down (+1) in the history; the line is replaced. */
static void hist_move(struct hp_ld *ld, int dir)
{
    if (ld->nhist == 0)
        return;                 /* readline: no history, no bell */
    if ((dir < 0 && ld->hist_pos == 0) || (dir > 0 && ld->hist_pos >= ld->nhist)) {
        outs(ld, BEL);
        return;
    }
    if (ld->hist_pos == ld->nhist) {
        saved_free(ld);         /* keep the line being edited */
        ld->saved = malloc(ld->len ? ld->len : 1);
        if (ld->saved) {
            memcpy(ld->saved, ld->line, ld->len);
            ld->saved_len = ld->len;
        }
    }
    ld->hist_pos = dir < 0 ? ld->hist_pos - 1 : ld->hist_pos + 1;
    if (ld->hist_pos < ld->nhist)
        replace_line(ld, ld->hist[ld->hist_pos], ld->hist_len[ld->hist_pos]);
    else
        replace_line(ld, ld->saved ? ld->saved : (const uint8_t *)"", ld->saved_len);
}

static enum hp_ld_event end_line(struct hp_ld *ld)
{
    outs(ld, "\r\n");
    hist_add(ld);
    ld->hist_pos = ld->nhist;
    saved_free(ld);
    ld->line_done = true;
    return HP_LD_LINE;
}

/* One byte inside an escape sequence: swallowed; arrows move in the history. */
static void esc_byte(struct hp_ld *ld, uint8_t c)
{
    ld->esc_len++;
    if (ld->esc == E_ESC) {
        ld->esc = c == '[' ? E_CSI : c == 'O' ? E_SS3 : E_NONE;
        return;
    }
    bool final = ld->esc == E_SS3 || (c >= 0x40 && c <= 0x7e);
    if (!final) {
        if (ld->esc_len >= ESC_MAX || c < 0x20)
            ld->esc = E_NONE;   /* not a sequence after all: give up on it */
        return;
    }
    /* "ESC [ A" / "ESC O A" with no parameters: the arrow keys */
    if (ld->esc_len == 2 && (c == 'A' || c == 'B'))
        hist_move(ld, c == 'A' ? -1 : 1);
    ld->esc = E_NONE;
}

static enum hp_ld_event control(struct hp_ld *ld, uint8_t c)
{
    switch (c) {
    case '\r':
        ld->after_cr = true;
        return end_line(ld);
    case '\n':
        return end_line(ld);
    case 0x03:
        outs(ld, "^C");
        ld->len = 0;
        ld->hist_pos = ld->nhist;
        saved_free(ld);
        return HP_LD_INTR;
    case 0x04:
        if (ld->len == 0)
            return HP_LD_EOF;
        outs(ld, BEL);
        break;
    case 0x08: case 0x7f: rubout(ld); break;
    case 0x09: outs(ld, BEL); break;
    case 0x0c: return HP_LD_CLEAR;
    case 0x0e: hist_move(ld, 1); break;
    case 0x10: hist_move(ld, -1); break;
    case 0x15:
        if (ld->len == 0)
            outs(ld, BEL);
        erase_to(ld, 0);
        break;
    case 0x17: word_rubout(ld); break;
    case 0x1b:
        ld->esc = E_ESC;
        ld->esc_len = 0;
        break;
    default:
        break;                  /* other editing keys: cursor moves and the like */
    }
    return HP_LD_NONE;
}

static enum hp_ld_event ld_byte(struct hp_ld *ld, uint8_t c)
{
    bool after_cr = ld->after_cr;
    ld->after_cr = false;
    if (after_cr && (c == '\n' || c == '\0'))
        return HP_LD_NONE;
    if (ld->esc != E_NONE) {
        esc_byte(ld, c);
        return HP_LD_NONE;
    }
    if (c < 0x20 || c == 0x7f)
        return control(ld, c);
    insert(ld, c);
    return HP_LD_NONE;
}

enum hp_ld_event hp_ld_feed(struct hp_ld *ld, const uint8_t *data, size_t len, size_t *used)
{
    if (ld->line_done) {
        ld->len = 0;
        ld->line_done = false;
    }
    size_t i = 0;
    enum hp_ld_event ev = HP_LD_NONE;
    while (i < len && ev == HP_LD_NONE)
        ev = ld_byte(ld, data[i++]);
    *used = i;
    return ev;
}

const uint8_t *hp_ld_line(const struct hp_ld *ld, size_t *len)
{
    *len = ld->line_done ? ld->len : 0;
    return ld->line ? ld->line : (const uint8_t *)"";
}

void hp_ld_redraw(struct hp_ld *ld)
{
    out(ld, ld->line, ld->len);
}
