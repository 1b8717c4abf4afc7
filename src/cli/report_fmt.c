/*
 * report_fmt.c - the writers of `hanipo report` (see report.h): terminal
 * tables, JSON, CSV and Markdown, all from the same model.
 *
 * Every string in the model may come from an attacker.  Each writer escapes
 * for its own medium and nothing else:
 *   text      hp_term_escape (controls, ESC, bidi overrides -> \xNN), then
 *             aligned in display columns (CJK counts two) and cut with "...";
 *   JSON      hp_json_str (lossless or "<key>_b64" alongside);
 *   CSV       hp_term_escape but for backslashes (a CSV is printed on the
 *             terminal as often as it is opened), RFC 4180 quoting, and a
 *             leading ' before = + - @ so that a spreadsheet never evaluates
 *             an attacker's formula;
 *   Markdown  hp_term_escape first (no raw newline or control can end a
 *             row), then a backslash before every character Markdown, kramdown
 *             or HTML gives a meaning to, | included, and before the : and . of
 *             URLs (no autolink).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "json.h"
#include "report.h"
#include "term.h"

#define RF_MD_CELL 300              /* input bytes shown per Markdown cell */
#define RF_MIN_COL 10               /* a shrunk text column keeps this many columns */

static const char *rf_title(const struct rp_section *s, const struct rp_opts *o)
{
    return o->ja ? s->ja : s->en;
}

static const char *rf_head(const struct rp_col *c, const struct rp_opts *o)
{
    return o->ja ? c->ja : c->en;
}

static void rf_time(int64_t us, char *out, size_t len)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- display width ------------------------------------------------------------------ */

/* Decode one UTF-8 sequence of already-valid text; returns its length. */
static size_t rf_utf8(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) { *cp = s[0]; return 1; }
    if (s[0] < 0xE0) { *cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F); return 2; }
    if (s[0] < 0xF0) {
        *cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
        return 3;
    }
    *cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 | (uint32_t)(s[2] & 0x3F) << 6 |
          (s[3] & 0x3F);
    return 4;
}

/* East Asian wide and fullwidth ranges (the ones headings and attackers use). */
static int rf_cpwidth(uint32_t c)
{
    if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF && c != 0x303F) ||
        (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) ||
        (c >= 0xFF00 && c <= 0xFF60) || (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1FAFF) ||
        (c >= 0x20000 && c <= 0x3FFFD))
        return 2;
    if (c >= 0x300 && c <= 0x36F)
        return 0;                   /* combining diacritics */
    return 1;
}

static size_t rf_width(const char *s)
{
    size_t w = 0;
    uint32_t cp;
    for (const unsigned char *p = (const unsigned char *)s; *p; ) {
        p += rf_utf8(p, &cp);
        w += (size_t)rf_cpwidth(cp);
    }
    return w;
}

/* Bytes of s that fit in w display columns; their width in *used. */
static size_t rf_fit(const char *s, size_t w, size_t *used)
{
    uint32_t cp;
    const unsigned char *p = (const unsigned char *)s;
    *used = 0;
    while (*p) {
        size_t len = rf_utf8(p, &cp);
        size_t cw = (size_t)rf_cpwidth(cp);
        if (*used + cw > w)
            break;
        *used += cw;
        p += len;
    }
    return (size_t)(p - (const unsigned char *)s);
}

/* ---- terminal ------------------------------------------------------------------------- */

/* A cell as it appears on the terminal (malloc'ed, escaped). */
static char *rf_text_cell(const struct rp_section *s, const struct rp_cell *c, int col)
{
    char *out;
    if (s->cols[col].numeric) {
        out = malloc(24);
        if (out)
            snprintf(out, 24, "%lld", (long long)c->num);
    } else if (!c->s) {
        out = strdup("-");
    } else {
        out = malloc(4 * c->n + 1);
        if (out)
            hp_term_escape(c->s, c->n, out, 4 * c->n + 1);
    }
    if (!out)
        abort();
    return out;
}

static void rf_pad(struct hp_buf *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hp_buf_putc(b, ' ');
}

static void rf_text_put(struct hp_buf *b, const char *s, size_t w, int right, int last)
{
    size_t sw = rf_width(s), used;
    if (sw > w) {
        size_t dots = w >= 3 ? 3 : 0;
        hp_buf_put(b, s, rf_fit(s, w - dots, &used));
        hp_buf_put(b, "...", dots);
        if (!last)
            rf_pad(b, w - dots - used);
        return;
    }
    if (right)
        rf_pad(b, w - sw);
    hp_buf_puts(b, s);
    if (!right && !last)
        rf_pad(b, w - sw);
}

/* Column widths: natural, then the widest text column shrinks until the row fits. */
static void rf_layout(const struct rp_section *s, char **cells, const struct rp_opts *o, size_t *w)
{
    size_t total = 2;
    for (int c = 0; c < s->ncols; c++) {
        w[c] = rf_width(rf_head(&s->cols[c], o));
        for (size_t r = 0; r < s->nrows; r++) {
            size_t cw = rf_width(cells[r * (size_t)s->ncols + (size_t)c]);
            if (cw > w[c])
                w[c] = cw;
        }
        total += w[c] + (c ? 2 : 0);
    }
    size_t width = o->width > 20 ? (size_t)o->width : 100;
    while (total > width) {
        int widest = -1;
        for (int c = 0; c < s->ncols; c++)
            if (!s->cols[c].numeric && w[c] > RF_MIN_COL && (widest < 0 || w[c] > w[widest]))
                widest = c;
        if (widest < 0)
            break;                  /* numbers are never cut: let the line wrap */
        size_t step = total - width, room = w[widest] - RF_MIN_COL, next = 0;
        if (step > room)
            step = room;
        /* no lower than the next widest text column at once, so the cut is shared */
        for (int c = 0; c < s->ncols; c++)
            if (c != widest && !s->cols[c].numeric && w[c] > next)
                next = w[c];
        if (next > RF_MIN_COL && w[widest] >= next && step > w[widest] - next)
            step = w[widest] - next > 0 ? w[widest] - next : 1;
        w[widest] -= step;
        total -= step;
    }
}

static void rf_text_section(struct hp_buf *b, const struct rp_section *s, const struct rp_opts *o)
{
    const char *title = rf_title(s, o);
    size_t n = s->nrows * (size_t)s->ncols, w[RP_MAX_COLS];
    hp_buf_printf(b, "%s\n", title);
    for (size_t i = rf_width(title); i > 0; i--)
        hp_buf_putc(b, '=');
    hp_buf_putc(b, '\n');
    if (s->nrows == 0) {
        hp_buf_puts(b, o->ja ? "  (なし)\n\n" : "  (none)\n\n");
        return;
    }
    char **cells = calloc(n ? n : 1, sizeof(*cells));
    if (!cells)
        abort();
    for (size_t i = 0; i < n; i++)
        cells[i] = rf_text_cell(s, &s->cells[i], (int)(i % (size_t)s->ncols));
    rf_layout(s, cells, o, w);
    for (int c = 0; c < s->ncols; c++) {
        hp_buf_puts(b, "  ");
        rf_text_put(b, rf_head(&s->cols[c], o), w[c], s->cols[c].numeric, c == s->ncols - 1);
    }
    hp_buf_putc(b, '\n');
    for (size_t r = 0; r < s->nrows; r++) {
        for (int c = 0; c < s->ncols; c++) {
            hp_buf_puts(b, "  ");
            rf_text_put(b, cells[r * (size_t)s->ncols + (size_t)c], w[c], s->cols[c].numeric,
                        c == s->ncols - 1);
        }
        hp_buf_putc(b, '\n');
    }
    hp_buf_putc(b, '\n');
    for (size_t i = 0; i < n; i++)
        free(cells[i]);
    free(cells);
}

static void rf_text(const struct rp_report *r, const struct rp_opts *o, struct hp_buf *b)
{
    char since[32], until[32];
    rf_time(r->since_us, since, sizeof(since));
    rf_time(r->until_us, until, sizeof(until));
    hp_buf_printf(b, "%s %s .. %s (UTC)%s\n\n", o->ja ? "hanipo レポート" : "hanipo report", since, until,
                  o->mask ? (o->ja ? " IPアドレスは一部伏せ字" : " IPs masked") : "");
    for (size_t i = 0; i < r->nsections; i++)
        rf_text_section(b, &r->sections[i], o);
}

/* ---- JSON ----------------------------------------------------------------------------- */

static void rf_json_cell(struct hp_buf *b, const struct rp_section *s, const struct rp_cell *c, int col)
{
    const char *key = s->cols[col].key;
    hp_json_str(b, key, strlen(key));
    hp_buf_putc(b, ':');
    if (s->cols[col].numeric) {
        hp_buf_printf(b, "%lld", (long long)c->num);
        return;
    }
    if (!c->s) {
        hp_buf_puts(b, "null");
        return;
    }
    if (!hp_json_str(b, c->s, c->n)) {
        /* not valid UTF-8 or not lossless: the exact bytes too */
        hp_buf_printf(b, ",\"%s_b64\":", key);
        hp_json_b64(b, c->s, c->n);
    }
}

static void rf_json(const struct rp_report *r, const struct rp_opts *o, struct hp_buf *b)
{
    char since[32], until[32];
    rf_time(r->since_us, since, sizeof(since));
    rf_time(r->until_us, until, sizeof(until));
    hp_buf_printf(b, "{\"since\":\"%s\",\"until\":\"%s\",\"timezone\":\"UTC\",\"masked\":%s,\"sections\":[",
                  since, until, o->mask ? "true" : "false");
    for (size_t i = 0; i < r->nsections; i++) {
        const struct rp_section *s = &r->sections[i];
        const char *title = rf_title(s, o);
        hp_buf_printf(b, "%s\n{\"id\":\"%s\",\"title\":", i ? "," : "", s->id);
        hp_json_str(b, title, strlen(title));
        hp_buf_puts(b, ",\"columns\":[");
        for (int c = 0; c < s->ncols; c++) {
            const char *h = rf_head(&s->cols[c], o);
            hp_buf_printf(b, "%s{\"key\":\"%s\",\"title\":", c ? "," : "", s->cols[c].key);
            hp_json_str(b, h, strlen(h));
            hp_buf_putc(b, '}');
        }
        hp_buf_puts(b, "],\"rows\":[");
        for (size_t row = 0; row < s->nrows; row++) {
            hp_buf_puts(b, row ? ",{" : "{");
            for (int c = 0; c < s->ncols; c++) {
                if (c)
                    hp_buf_putc(b, ',');
                rf_json_cell(b, s, rp_cell_at(s, row, c), c);
            }
            hp_buf_putc(b, '}');
        }
        hp_buf_puts(b, "]}");
    }
    hp_buf_puts(b, "]}\n");
}

/* ---- CSV ------------------------------------------------------------------------------ */

/* Terminal-safe text (hp_term_escape), except that a backslash stays one, as
 * in the abuse files: malloc'ed, its length in *len.  A backslash is never
 * inside a UTF-8 sequence, so cutting there splits no character. */
static char *rf_csv_safe(const char *s, size_t n, size_t *len)
{
    char *out = malloc(4 * n + 1);
    size_t o = 0;
    if (!out)
        abort();
    for (size_t i = 0; i < n; ) {
        const char *bs = memchr(s + i, '\\', n - i);
        size_t run = bs ? (size_t)(bs - (s + i)) : n - i;
        hp_term_escape(s + i, run, out + o, 4 * run + 1);
        o += strlen(out + o);
        i += run;
        if (bs) {
            out[o++] = '\\';
            i++;
        }
    }
    out[o] = '\0';
    *len = o;
    return out;
}

static int rf_csv_formula_char(char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@';
}

/* Does a spreadsheet that splits this row at ';' (the list separator of German, French, ...
 * locales) start a cell at s[i] with a formula?  Our quotes are mid-cell there, so they do not
 * make it text; a cell opening with quotes or spaces before the = is read as one too. */
static int rf_csv_semi_formula(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == '"' || s[i] == ' '))
        i++;
    return i < n && rf_csv_formula_char(s[i]);
}

/* One field: no control character is left (TAB, CR and LF included), so TAB-separated imports
 * split nothing; , " and ; quote; a formula character opening the field, or a cell a ';'
 * import splits off, gets a ' before it so the spreadsheet keeps it text. */
static void rf_csv_field(struct hp_buf *b, const char *raw, size_t rawn)
{
    size_t n;
    char *s = rf_csv_safe(raw, rawn, &n);
    int formula = n > 0 && rf_csv_formula_char(s[0]);
    int quote = formula || (n > 0 && (s[0] == ' ' || s[n - 1] == ' '));
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == ';';
    if (!quote) {
        hp_buf_put(b, s, n);
        free(s);
        return;
    }
    hp_buf_putc(b, '"');
    if (formula)
        hp_buf_putc(b, '\'');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            hp_buf_putc(b, '"');
        hp_buf_putc(b, (uint8_t)s[i]);
        if (s[i] == ';' && rf_csv_semi_formula(s, n, i + 1))
            hp_buf_putc(b, '\'');
    }
    hp_buf_putc(b, '"');
    free(s);
}

/* One block per section: a heading row "section,<keys>", its rows, a blank line. */
static void rf_csv(const struct rp_report *r, const struct rp_opts *o, struct hp_buf *b)
{
    for (size_t i = 0; i < r->nsections; i++) {
        const struct rp_section *s = &r->sections[i];
        hp_buf_puts(b, i ? "\r\nsection" : "section");
        for (int c = 0; c < s->ncols; c++)
            hp_buf_printf(b, ",%s", s->cols[c].key);
        hp_buf_puts(b, "\r\n");
        for (size_t row = 0; row < s->nrows; row++) {
            hp_buf_puts(b, s->id);
            for (int c = 0; c < s->ncols; c++) {
                const struct rp_cell *cell = rp_cell_at(s, row, c);
                hp_buf_putc(b, ',');
                if (s->cols[c].numeric)
                    hp_buf_printf(b, "%lld", (long long)cell->num);
                else if (cell->s)
                    rf_csv_field(b, cell->s, cell->n);
            }
            hp_buf_puts(b, "\r\n");
        }
    }
}

/* ---- Markdown ------------------------------------------------------------------------- */

/* Characters some Markdown dialect gives a meaning to: CommonMark/GFM (emphasis, code, links,
 * HTML, tables), kramdown, what Jekyll and GitHub Pages use ({::nomarkdown}...{:/} passes its
 * text raw, where \< is no escape; $$ is math), and GFM's autolinks (http:// and www. would
 * make an attacker's malware URL a live link).  Each is escapable in all of them. */
#define RF_MD_SPECIAL "\\|*_`<>[]&~#!{}$:."

static void rf_md_text(struct hp_buf *b, const char *s, size_t n)
{
    size_t shown = n > RF_MD_CELL ? RF_MD_CELL : n;
    char esc[4 * RF_MD_CELL + 1];
    size_t done = hp_term_escape(s, shown, esc, sizeof(esc));
    for (const char *p = esc; *p; p++) {
        if (strchr(RF_MD_SPECIAL, *p))
            hp_buf_putc(b, '\\');
        hp_buf_putc(b, (uint8_t)*p);
    }
    if (done < n)
        hp_buf_puts(b, "...");
}

static void rf_md(const struct rp_report *r, const struct rp_opts *o, struct hp_buf *b)
{
    char since[32], until[32];
    rf_time(r->since_us, since, sizeof(since));
    rf_time(r->until_us, until, sizeof(until));
    hp_buf_printf(b, "# %s %s .. %s (UTC)\n", o->ja ? "hanipo レポート" : "hanipo report", since, until);
    if (o->mask)
        hp_buf_puts(b, o->ja ? "\nIPアドレスは一部を伏せ字にしています。\n" : "\nIP addresses are masked.\n");
    for (size_t i = 0; i < r->nsections; i++) {
        const struct rp_section *s = &r->sections[i];
        hp_buf_printf(b, "\n## %s\n\n", rf_title(s, o));
        if (s->nrows == 0) {
            hp_buf_puts(b, o->ja ? "(なし)\n" : "(none)\n");
            continue;
        }
        for (int c = 0; c < s->ncols; c++)
            hp_buf_printf(b, "| %s ", rf_head(&s->cols[c], o));
        hp_buf_puts(b, "|\n");
        for (int c = 0; c < s->ncols; c++)
            hp_buf_puts(b, s->cols[c].numeric ? "| ---: " : "| --- ");
        hp_buf_puts(b, "|\n");
        for (size_t row = 0; row < s->nrows; row++) {
            for (int c = 0; c < s->ncols; c++) {
                const struct rp_cell *cell = rp_cell_at(s, row, c);
                hp_buf_puts(b, "| ");
                if (s->cols[c].numeric)
                    hp_buf_printf(b, "%lld", (long long)cell->num);
                else if (cell->s)
                    rf_md_text(b, cell->s, cell->n);
                else
                    hp_buf_puts(b, "-");
                hp_buf_putc(b, ' ');
            }
            hp_buf_puts(b, "|\n");
        }
    }
}

void hp_report_write(const struct rp_report *r, const struct rp_opts *o, struct hp_buf *out)
{
    switch (o->fmt) {
    case RP_JSON: rf_json(r, o, out); break;
    case RP_CSV: rf_csv(r, o, out); break;
    case RP_MD: rf_md(r, o, out); break;
    case RP_HTML: hp_report_html(r, o, out); break;
    default: rf_text(r, o, out); break;
    }
}
