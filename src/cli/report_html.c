/*
 * report_html.c - `hanipo report --html`: one self-contained HTML file (no
 * script, no external resource) with the report's tables and four SVG
 * charts drawn from the same model: a pie of source countries, bars of
 * destination ports, the daily timeline of connections and a word cloud of
 * usernames and passwords.
 *
 * Attacker text reaches the page only through rh_text(): hp_term_escape
 * first (controls become visible \xNN), then the five HTML-special
 * characters as entities; that is enough for element content and for
 * double-quoted attribute values, the only two places it is written.
 * The charts are laid out with plain arithmetic (fixed estimates of text
 * width), so the file looks the same in every browser and mail client.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "report.h"
#include "term.h"

#define RH_CELL 300                 /* input bytes shown per table cell */
#define RH_W 640                    /* chart width (px) */

static void rh_text(struct hp_buf *b, const char *s, size_t n, size_t max)
{
    size_t shown = n > max ? max : n;
    char *esc = malloc(4 * shown + 1);
    if (!esc)
        abort();
    size_t done = hp_term_escape(s, shown, esc, 4 * shown + 1);
    for (const char *p = esc; *p; p++) {
        switch (*p) {
        case '&': hp_buf_puts(b, "&amp;"); break;
        case '<': hp_buf_puts(b, "&lt;"); break;
        case '>': hp_buf_puts(b, "&gt;"); break;
        case '"': hp_buf_puts(b, "&quot;"); break;
        case '\'': hp_buf_puts(b, "&#39;"); break;
        default: hp_buf_putc(b, (uint8_t)*p);
        }
    }
    if (done < n)
        hp_buf_puts(b, "...");
    free(esc);
}

static void rh_cell(struct hp_buf *b, const struct rp_section *s, size_t row, int col, size_t max)
{
    const struct rp_cell *c = rp_cell_at(s, row, col);
    if (s->cols[col].numeric)
        hp_buf_printf(b, "%lld", (long long)c->num);
    else if (c->s)
        rh_text(b, c->s, c->n, max);
    else
        hp_buf_puts(b, "-");
}

/* A colour per slice/bar: hues spread by the golden angle. */
static int rh_hue(size_t i)
{
    return (int)((i * 137) % 360);
}

static void rh_title(struct hp_buf *b, const char *id, const char *title)
{
    hp_buf_printf(b, "<figure id=\"chart-%s\"><figcaption>%s</figcaption>\n", id, title);
}

/* ---- charts ------------------------------------------------------------------------ */

static void rh_pie(struct hp_buf *b, const struct rp_section *s, const struct rp_opts *o)
{
    int64_t total = 0;
    for (size_t i = 0; i < s->nrows; i++)
        total += rp_cell_at(s, i, 2)->num;
    rh_title(b, "countries", o->ja ? "送信元の国" : "Source countries");
    hp_buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"220\" role=\"img\">\n", RH_W);
    double a = -M_PI / 2, cx = 110, cy = 110, r = 100;
    for (size_t i = 0; total > 0 && i < s->nrows; i++) {
        int64_t n = rp_cell_at(s, i, 2)->num;
        double frac = (double)n / (double)total, a2 = a + frac * 2 * M_PI;
        hp_buf_puts(b, "<g><title>");
        rh_cell(b, s, i, 0, 64);
        hp_buf_printf(b, " %lld</title>", (long long)n);
        if (frac > 0.9999)
            hp_buf_printf(b, "<circle class=\"slice\" cx=\"%.0f\" cy=\"%.0f\" r=\"%.0f\" fill=\"hsl(%d,60%%,55%%)\"/>",
                          cx, cy, r, rh_hue(i));
        else
            hp_buf_printf(b, "<path class=\"slice\" d=\"M%.1f %.1fL%.1f %.1fA%.0f %.0f 0 %d 1 %.1f %.1fZ\" "
                          "fill=\"hsl(%d,60%%,55%%)\"/>", cx, cy, cx + r * cos(a), cy + r * sin(a), r, r,
                          frac > 0.5, cx + r * cos(a2), cy + r * sin(a2), rh_hue(i));
        hp_buf_printf(b, "<rect x=\"240\" y=\"%zu\" width=\"12\" height=\"12\" fill=\"hsl(%d,60%%,55%%)\"/>"
                      "<text x=\"258\" y=\"%zu\">", 10 + i * 20, rh_hue(i), 21 + i * 20);
        rh_cell(b, s, i, 0, 16);
        hp_buf_puts(b, " ");
        rh_cell(b, s, i, 1, 40);
        hp_buf_printf(b, " (%lld, %.1f%%)</text></g>\n", (long long)n, 100.0 * frac);
        a = a2;
    }
    hp_buf_puts(b, "</svg></figure>\n");
}

static void rh_bars(struct hp_buf *b, const struct rp_section *s, const struct rp_opts *o)
{
    int64_t max = 1;
    for (size_t i = 0; i < s->nrows; i++)
        if (rp_cell_at(s, i, 1)->num > max)
            max = rp_cell_at(s, i, 1)->num;
    rh_title(b, "ports", o->ja ? "宛先ポート" : "Destination ports");
    hp_buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%zu\" role=\"img\">\n", RH_W,
                  20 + s->nrows * 22);
    for (size_t i = 0; i < s->nrows; i++) {
        int64_t n = rp_cell_at(s, i, 1)->num;
        double w = 480.0 * (double)n / (double)max;
        hp_buf_printf(b, "<g><text x=\"60\" y=\"%zu\" text-anchor=\"end\">%lld</text>"
                      "<rect class=\"bar\" x=\"66\" y=\"%zu\" width=\"%.1f\" height=\"16\" fill=\"hsl(%d,60%%,55%%)\"/>"
                      "<text x=\"%.1f\" y=\"%zu\">%lld</text></g>\n", 23 + i * 22,
                      (long long)rp_cell_at(s, i, 0)->num, 10 + i * 22, w, rh_hue(i), 72 + w, 23 + i * 22,
                      (long long)n);
    }
    hp_buf_puts(b, "</svg></figure>\n");
}

static void rh_timeline(struct hp_buf *b, const struct rp_section *s, const struct rp_opts *o)
{
    int64_t max = 1;
    for (size_t i = 0; i < s->nrows; i++)
        if (rp_cell_at(s, i, 1)->num > max)
            max = rp_cell_at(s, i, 1)->num;
    rh_title(b, "daily", o->ja ? "日別の接続数" : "Connections per day");
    hp_buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"200\" role=\"img\">\n"
                  "<line x1=\"40\" y1=\"170\" x2=\"%d\" y2=\"170\" stroke=\"#888\"/>"
                  "<text x=\"36\" y=\"24\" text-anchor=\"end\">%lld</text>\n", RH_W, RH_W - 10, (long long)max);
    double step = s->nrows ? (double)(RH_W - 60) / (double)s->nrows : 1;
    for (size_t i = 0; i < s->nrows; i++) {
        int64_t n = rp_cell_at(s, i, 1)->num;
        double h = 150.0 * (double)n / (double)max, x = 44 + step * (double)i;
        hp_buf_printf(b, "<g><title>");
        rh_cell(b, s, i, 0, 16);
        hp_buf_printf(b, " %lld</title><rect class=\"day\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                      "fill=\"#4a7fb5\"/></g>\n", (long long)n, x, 170 - h, step > 3 ? step - 2 : step, h);
        if (i == 0 || i + 1 == s->nrows) {
            hp_buf_printf(b, "<text x=\"%.1f\" y=\"188\" text-anchor=\"%s\">", i ? x + step : x,
                          i ? "end" : "start");
            rh_cell(b, s, i, 0, 16);
            hp_buf_puts(b, "</text>\n");
        }
    }
    hp_buf_puts(b, "</svg></figure>\n");
}

#define RH_CLOUD_CAP (1u << 20)     /* bytes of word cloud: --top 100000 would make ~30 MiB */

/* Where the next word goes: flowed left to right into lines as high as their largest word. */
struct rh_flow {
    double x, y, line;
};

/* One word, whole, in w (reset first): its size from its count, its place from f. */
static void rh_word(struct hp_buf *w, struct rh_flow *f, const struct rp_cell *c, int64_t n, int64_t max,
                    int pw)
{
    double size = 12 + 28 * sqrt((double)n / (double)max);
    size_t len = c->s ? (c->n > 24 ? 27 : c->n) : 1;
    double width = (double)len * size * 0.6 + 14;
    if (f->x + width > RH_W && f->x > 10) {
        f->y += f->line;
        f->x = 10;
        f->line = 0;
    }
    if (size * 1.3 > f->line)
        f->line = size * 1.3;
    hp_buf_reset(w);
    hp_buf_printf(w, "<text class=\"word\" x=\"%.0f\" y=\"%.0f\" style=\"font-size:%.0fpx\" fill=\"%s\">"
                  "<title>%lld</title>", f->x, f->y + size, size, pw ? "#b5534a" : "#4a7fb5", (long long)n);
    if (c->s)
        rh_text(w, c->s, c->n, 24);
    else
        hp_buf_puts(w, "-");
    hp_buf_puts(w, "</text>\n");
    f->x += width;
}

/* Usernames and passwords as words sized by count, flowed into lines.  Words are added whole
 * until RH_CLOUD_CAP (so no tag, entity or UTF-8 sequence is cut and the SVG closes), and the
 * page says how many were left out. */
static void rh_cloud(struct hp_buf *b, const struct rp_section *u, const struct rp_section *p,
                     const struct rp_opts *o)
{
    int64_t max = 1;
    size_t total = 0, shown = 0;
    const struct rp_section *secs[2] = { u, p };
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; secs[k] && i < secs[k]->nrows; i++) {
            total++;
            if (rp_cell_at(secs[k], i, 1)->num > max)
                max = rp_cell_at(secs[k], i, 1)->num;
        }
    rh_title(b, "credentials", o->ja ? "ユーザー名とパスワード" : "Usernames and passwords");
    struct hp_buf words, one;
    hp_buf_init(&words, RH_CLOUD_CAP);
    hp_buf_init(&one, 4096);        /* a word: its tags and at most 24 characters, escaped */
    struct rh_flow f = { 10, 0, 0 }, kept = f;
    int room = 1;
    for (int k = 0; k < 2 && room; k++)
        for (size_t i = 0; secs[k] && i < secs[k]->nrows && room; i++) {
            rh_word(&one, &f, rp_cell_at(secs[k], i, 0), rp_cell_at(secs[k], i, 1)->num, max, k);
            room = hp_buf_ok(&one) && hp_buf_put(&words, one.data, one.len);
            if (room) {
                shown++;
                kept = f;
            }
        }
    hp_buf_free(&one);
    hp_buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" role=\"img\">\n", RH_W,
                  kept.y + kept.line + 10);
    if (words.len)
        hp_buf_put(b, words.data, words.len);
    hp_buf_puts(b, "</svg>");
    if (shown < total && o->ja)
        hp_buf_printf(b, "<p class=\"cut\">%zu 語中 %zu 語のみ表示</p>", total, shown);
    else if (shown < total)
        hp_buf_printf(b, "<p class=\"cut\">%zu of %zu words shown</p>", shown, total);
    hp_buf_puts(b, "</figure>\n");
    hp_buf_free(&words);
}

/* ---- page ---------------------------------------------------------------------------- */

static void rh_table(struct hp_buf *b, const struct rp_section *s, const struct rp_opts *o)
{
    hp_buf_printf(b, "<section id=\"%s\"><h2>%s</h2>\n", s->id, o->ja ? s->ja : s->en);
    if (s->nrows == 0) {
        hp_buf_puts(b, o->ja ? "<p>(なし)</p></section>\n" : "<p>(none)</p></section>\n");
        return;
    }
    hp_buf_puts(b, "<table><thead><tr>");
    for (int c = 0; c < s->ncols; c++)
        hp_buf_printf(b, "<th%s>%s</th>", s->cols[c].numeric ? " class=\"n\"" : "",
                      o->ja ? s->cols[c].ja : s->cols[c].en);
    hp_buf_puts(b, "</tr></thead>\n<tbody>\n");
    for (size_t r = 0; r < s->nrows; r++) {
        hp_buf_puts(b, "<tr>");
        for (int c = 0; c < s->ncols; c++) {
            hp_buf_puts(b, s->cols[c].numeric ? "<td class=\"n\">" : "<td>");
            rh_cell(b, s, r, c, RH_CELL);
            hp_buf_puts(b, "</td>");
        }
        hp_buf_puts(b, "</tr>\n");
    }
    hp_buf_puts(b, "</tbody></table></section>\n");
}

void hp_report_html(const struct rp_report *r, const struct rp_opts *o, struct hp_buf *b)
{
    char since[32], until[32];
    time_t t = (time_t)(r->since_us / 1000000);
    struct tm tm;
    strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    t = (time_t)(r->until_us / 1000000);
    strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    const char *name = o->ja ? "hanipo レポート" : "hanipo report";
    hp_buf_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">\n"
                  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                  "style-src 'unsafe-inline'\">\n<title>%s %s .. %s</title>\n<style>\n"
                  "body{font-family:sans-serif;margin:2em;color:#222}\n"
                  "table{border-collapse:collapse;margin-bottom:1em}\n"
                  "th,td{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top;"
                  "max-width:40em;overflow-wrap:anywhere}\n"
                  ".n{text-align:right}\nfigure{display:inline-block;margin:0 2em 2em 0}\n"
                  "figcaption{font-weight:bold}\nsvg text{font-size:12px}\n"
                  "</style></head><body>\n<h1>%s</h1>\n<p>%s .. %s (UTC)%s</p>\n", o->ja ? "ja" : "en", name,
                  since, until, name, since, until,
                  o->mask ? (o->ja ? " IPアドレスは一部伏せ字" : " IP addresses masked") : "");
    const struct rp_section *s;
    if ((s = hp_report_section(r, "countries")))
        rh_pie(b, s, o);
    if ((s = hp_report_section(r, "ports")))
        rh_bars(b, s, o);
    if ((s = hp_report_section(r, "daily")))
        rh_timeline(b, s, o);
    rh_cloud(b, hp_report_section(r, "usernames"), hp_report_section(r, "passwords"), o);
    for (size_t i = 0; i < r->nsections; i++)
        rh_table(b, &r->sections[i], o);
    hp_buf_puts(b, "</body></html>\n");
}
