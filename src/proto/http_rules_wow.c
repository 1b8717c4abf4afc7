/*
 * http_rules_wow.c - import of WOWHoneypot match-and-response rules.
 *
 * WOWHoneypot (github.com/morihisa/WOWHoneypot) keeps its rules in
 * art/mrrules.xml:
 *
 *   <mrrs version='0.2'>
 *     <mrr>
 *       <meta><mrrid>1001</mrrid><enable>True</enable><note>...</note></meta>
 *       <trigger>                      all must match (re.search):
 *         <method>GET</method>         exact method (the first one counts)
 *         <uri>/login</uri>            regex on the raw request-target; repeatable
 *         <header>regex</header>       regex on all headers as "Name: value" lines
 *         <body>regex</body>           regex on the body; an empty body never matches
 *       </trigger>
 *       <response>
 *         <status>200</status>         default 200
 *         <header><name>N</name><value>V</value></header>   repeatable
 *         <body><![CDATA[text]]></body> or <body filename="post.html"></body>
 *       </response>
 *     </mrr>
 *   </mrrs>
 *
 * Body files are read from the art directory and stripped of surrounding
 * white space, as WOWHoneypot does; rules are tried highest mrrid first, and
 * a missing Content-Type becomes text/html.  Each imported rule gets the id
 * "wow-MRRID" and the tag "wowhoneypot".
 *
 * The XML is parsed by a small bounded parser into a tree (elements,
 * attributes, text and CDATA, the five predefined entities and character
 * references; comments, processing instructions and DOCTYPE are skipped):
 * the format needs nothing more and libxml2 would be a new dependency.
 * Depth, element count and sizes are capped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "proto/http_rules_int.h"

#define X_MAX_DEPTH 16
#define X_MAX_NODES 200000
#define X_MAX_NAME  64

struct xnode {
    char name[X_MAX_NAME];
    struct hp_buf text;            /* character data and CDATA, entities decoded */
    char *filename;                /* the filename="" attribute, if any */
    size_t line;
    struct xnode *child, *last, *next;
};

struct xparse {
    const char *s;
    size_t n, i;
    size_t line, line_pos;         /* line of position line_pos (counted lazily) */
    size_t nodes;
    const char *name;
    char *err;
    size_t errlen;
};

static size_t x_line(struct xparse *x)
{
    for (; x->line_pos < x->i && x->line_pos < x->n; x->line_pos++)
        if (x->s[x->line_pos] == '\n')
            x->line++;
    return x->line;
}

static void xerr(struct xparse *x, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void xerr(struct xparse *x, size_t line, const char *fmt, ...)
{
    if (!x->err || x->errlen == 0 || x->err[0])
        return;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(x->err, x->errlen, "%s:%zu: %s", x->name, line ? line : x_line(x), msg);
}

static void x_free(struct xnode *nd)
{
    while (nd) {
        struct xnode *next = nd->next;
        x_free(nd->child);
        hp_buf_free(&nd->text);
        free(nd->filename);
        free(nd);
        nd = next;
    }
}

static bool x_starts(const struct xparse *x, const char *lit)
{
    size_t l = strlen(lit);
    return x->n - x->i >= l && memcmp(x->s + x->i, lit, l) == 0;
}

/* Skip to just past the terminator; false at end of input. */
static bool x_skip_past(struct xparse *x, const char *term)
{
    size_t l = strlen(term);
    const char *hit = x->i < x->n ? memmem(x->s + x->i, x->n - x->i, term, l) : NULL;
    if (!hit)
        return false;
    x->i = (size_t)(hit - x->s) + l;
    return true;
}

static bool x_namechar(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.' || c == ':';
}

static size_t x_name(struct xparse *x, char *out)
{
    size_t k = 0;
    while (x->i < x->n && x_namechar((unsigned char)x->s[x->i])) {
        if (k + 1 < X_MAX_NAME)
            out[k++] = x->s[x->i];
        x->i++;
    }
    out[k] = '\0';
    return k;
}

static void x_ws(struct xparse *x)
{
    while (x->i < x->n && strchr(" \t\r\n", x->s[x->i]) && x->s[x->i])
        x->i++;
}

static void put_utf8(struct hp_buf *b, unsigned long cp)
{
    if (cp < 0x80) {
        hp_buf_putc(b, (uint8_t)cp);
    } else if (cp < 0x800) {
        hp_buf_putc(b, (uint8_t)(0xc0 | (cp >> 6)));
        hp_buf_putc(b, (uint8_t)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        hp_buf_putc(b, (uint8_t)(0xe0 | (cp >> 12)));
        hp_buf_putc(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        hp_buf_putc(b, (uint8_t)(0x80 | (cp & 0x3f)));
    } else {
        hp_buf_putc(b, (uint8_t)(0xf0 | (cp >> 18)));
        hp_buf_putc(b, (uint8_t)(0x80 | ((cp >> 12) & 0x3f)));
        hp_buf_putc(b, (uint8_t)(0x80 | ((cp >> 6) & 0x3f)));
        hp_buf_putc(b, (uint8_t)(0x80 | (cp & 0x3f)));
    }
}

/* Append s[0..n) to b with entities decoded; false on a bad entity. */
static bool x_decode(struct hp_buf *b, const char *s, size_t n)
{
    static const struct { const char *e; char c; } ents[] = {
        { "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "quot", '"' }, { "apos", '\'' },
    };
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '&') {
            hp_buf_putc(b, (uint8_t)s[i]);
            continue;
        }
        const char *semi = memchr(s + i, ';', n - i < 12 ? n - i : 12);
        if (!semi)
            return false;
        const char *e = s + i + 1;
        size_t el = (size_t)(semi - e);
        bool done = false;
        for (size_t k = 0; !done && k < sizeof(ents) / sizeof(ents[0]); k++) {
            if (el == strlen(ents[k].e) && memcmp(e, ents[k].e, el) == 0) {
                hp_buf_putc(b, (uint8_t)ents[k].c);
                done = true;
            }
        }
        if (!done && el >= 2 && e[0] == '#') {
            bool hex = e[1] == 'x' || e[1] == 'X';
            unsigned long cp = 0;
            size_t k = hex ? 2 : 1;
            if (k == el)
                return false;
            for (; k < el; k++) {
                int c = (unsigned char)e[k], d;
                if (c >= '0' && c <= '9')
                    d = c - '0';
                else if (hex && (c | 32) >= 'a' && (c | 32) <= 'f')
                    d = (c | 32) - 'a' + 10;
                else
                    return false;
                cp = cp * (hex ? 16 : 10) + (unsigned long)d;
                if (cp > 0x10ffff)
                    return false;
            }
            if (cp == 0)
                return false;
            put_utf8(b, cp);
            done = true;
        }
        if (!done)
            return false;
        i = (size_t)(semi - s);
    }
    return true;
}

/* Attributes up to '>' or "/>"; keeps filename="...".  Returns 1 for an
 * empty element, 0 for an open one, -1 on error. */
static int x_attrs(struct xparse *x, struct xnode *nd)
{
    for (;;) {
        x_ws(x);
        if (x_starts(x, "/>")) {
            x->i += 2;
            return 1;
        }
        if (x_starts(x, ">")) {
            x->i++;
            return 0;
        }
        char an[X_MAX_NAME];
        if (x_name(x, an) == 0) {
            xerr(x, 0, "bad attribute in <%s>", nd->name);
            return -1;
        }
        x_ws(x);
        if (!x_starts(x, "=")) {
            xerr(x, 0, "attribute %s without value", an);
            return -1;
        }
        x->i++;
        x_ws(x);
        char q = x->i < x->n ? x->s[x->i] : 0;
        if (q != '"' && q != '\'') {
            xerr(x, 0, "attribute %s: value must be quoted", an);
            return -1;
        }
        x->i++;
        const char *end = memchr(x->s + x->i, q, x->n - x->i);
        if (!end) {
            xerr(x, 0, "unterminated attribute %s", an);
            return -1;
        }
        if (strcmp(an, "filename") == 0) {
            struct hp_buf v;
            hp_buf_init(&v, 1024);
            bool ok = x_decode(&v, x->s + x->i, (size_t)(end - x->s - x->i)) && hp_buf_ok(&v);
            free(nd->filename);
            nd->filename = ok ? strdup(hp_buf_cstr(&v)) : NULL;
            hp_buf_free(&v);
            if (!nd->filename) {
                xerr(x, 0, "bad filename attribute");
                return -1;
            }
        }
        x->i = (size_t)(end - x->s) + 1;
    }
}

static struct xnode *x_new(struct xparse *x, struct xnode *parent)
{
    if (++x->nodes > X_MAX_NODES) {
        xerr(x, 0, "too many elements");
        return NULL;
    }
    struct xnode *nd = calloc(1, sizeof(*nd));
    if (!nd) {
        xerr(x, 0, "out of memory");
        return NULL;
    }
    hp_buf_init(&nd->text, WR_MAX_BODY);
    nd->line = x_line(x);
    if (parent->last)
        parent->last->next = nd;
    else
        parent->child = nd;
    parent->last = nd;
    return nd;
}

/* Content of parent up to its end tag (or the end of input for the document). */
static int x_content(struct xparse *x, struct xnode *parent, int depth)
{
    while (x->i < x->n) {
        if (x_starts(x, "<![CDATA[")) {
            x->i += 9;
            size_t start = x->i;
            if (!x_skip_past(x, "]]>")) {
                xerr(x, 0, "unterminated CDATA");
                return -1;
            }
            hp_buf_put(&parent->text, x->s + start, x->i - 3 - start);
        } else if (x_starts(x, "<!--")) {
            if (!x_skip_past(x, "-->")) {
                xerr(x, 0, "unterminated comment");
                return -1;
            }
        } else if (x_starts(x, "<?") || x_starts(x, "<!")) {
            if (!x_skip_past(x, ">")) {
                xerr(x, 0, "unterminated declaration");
                return -1;
            }
        } else if (x_starts(x, "</")) {
            char nm[X_MAX_NAME];
            x->i += 2;
            x_name(x, nm);
            x_ws(x);
            if (depth == 0 || strcmp(nm, parent->name) != 0 || !x_starts(x, ">")) {
                xerr(x, 0, "unexpected </%s>", nm);
                return -1;
            }
            x->i++;
            return 0;
        } else if (x_starts(x, "<")) {
            if (depth >= X_MAX_DEPTH) {
                xerr(x, 0, "elements nested too deep");
                return -1;
            }
            x->i++;
            struct xnode *nd = x_new(x, parent);
            if (!nd)
                return -1;
            if (x_name(x, nd->name) == 0) {
                xerr(x, 0, "bad element name");
                return -1;
            }
            int e = x_attrs(x, nd);
            if (e < 0 || (e == 0 && x_content(x, nd, depth + 1) != 0))
                return -1;
        } else {
            const char *lt = memchr(x->s + x->i, '<', x->n - x->i);
            size_t end = lt ? (size_t)(lt - x->s) : x->n;
            if (!x_decode(&parent->text, x->s + x->i, end - x->i)) {
                xerr(x, 0, "bad entity reference");
                return -1;
            }
            x->i = end;
        }
        if (!hp_buf_ok(&parent->text)) {
            xerr(x, 0, "text too long");
            return -1;
        }
    }
    if (depth > 0) {
        xerr(x, parent->line, "<%s> not closed", parent->name);
        return -1;
    }
    return 0;
}

static const struct xnode *x_find(const struct xnode *nd, const char *name)
{
    for (const struct xnode *c = nd ? nd->child : NULL; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* Text of an element without surrounding white space (for numbers, flags). */
static bool x_trimmed(const struct xnode *nd, char *out, size_t outlen)
{
    if (!nd)
        return false;
    const char *s = (const char *)nd->text.data;
    size_t n = nd->text.len;
    while (n && strchr(" \t\r\n", *s) && *s)
        s++, n--;
    while (n && strchr(" \t\r\n", s[n - 1]) && s[n - 1])
        n--;
    if (n >= outlen || (n && memchr(s, '\0', n)))
        return false;
    if (n)
        memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* ---- XML tree -> rules -------------------------------------------------- */

struct wow_ctx {
    struct xparse *x;
    const char *dir;               /* art directory for filename bodies */
};

static int wow_cond(struct wr_rule *ru, enum wr_subject subj, const struct xnode *nd, struct xparse *x)
{
    char msg[256];
    if (nd->text.len == 0) {
        xerr(x, nd->line, "<%s> must not be empty", nd->name);
        return -1;
    }
    if (ru->nconds >= WR_MAX_CONDS) {
        xerr(x, nd->line, "too many triggers (max %d)", WR_MAX_CONDS);
        return -1;
    }
    pcre2_code *re = wr_compile((const char *)nd->text.data, nd->text.len, &ru->conds[ru->nconds].lit, msg,
                                sizeof(msg));
    if (!re) {
        xerr(x, nd->line, "%s", msg);
        return -1;
    }
    ru->conds[ru->nconds].subj = subj;
    ru->conds[ru->nconds].re = re;
    ru->nconds++;
    return 0;
}

static int wow_trigger(struct wr_rule *ru, const struct xnode *t, struct xparse *x)
{
    bool any = false;
    const struct xnode *m = x_find(t, "method");
    if (m && m->text.len) {
        char meth[64];
        if (!x_trimmed(m, meth, sizeof(meth)) || !meth[0] || strpbrk(meth, " \t\r\n")) {
            xerr(x, m->line, "bad <method>");
            return -1;
        }
        ru->methods = strdup(meth);
        if (!ru->methods)
            return -1;
        any = true;
    }
    for (const struct xnode *c = t->child; c; c = c->next) {
        enum wr_subject subj;
        if (strcmp(c->name, "uri") == 0)
            subj = WR_TARGET;
        else if (strcmp(c->name, "header") == 0)
            subj = WR_HEADERS;
        else if (strcmp(c->name, "body") == 0)
            subj = WR_RAWBODY;
        else
            continue;      /* WOWHoneypot ignores unknown tags (its own sample has <mothod>) */
        if (wow_cond(ru, subj, c, x) != 0)
            return -1;
        any = true;
    }
    if (!any) {
        xerr(x, t->line, "no trigger");
        return -1;
    }
    return 0;
}

static bool hdr_value_ok(const char *v)
{
    return !strpbrk(v, "\r\n");
}

static int wow_response(struct wr_rule *ru, const struct xnode *r, struct wow_ctx *c)
{
    struct xparse *x = c->x;
    char tmp[4096];
    const struct xnode *st = x_find(r, "status");
    ru->resp.status = 200;
    if (st) {
        char *end = tmp;
        tmp[0] = '\0';
        long v = x_trimmed(st, tmp, sizeof(tmp)) ? strtol(tmp, &end, 10) : 0;
        if (!tmp[0] || *end || v < 100 || v > 599) {
            xerr(x, st->line, "status must be 100..599");
            return -1;
        }
        ru->resp.status = (int)v;
    }
    struct hp_buf h;
    hp_buf_init(&h, WR_MAX_HEADERS);
    bool ctype = false;
    for (const struct xnode *hd = r->child; hd; hd = hd->next) {
        if (strcmp(hd->name, "header") != 0)
            continue;
        char name[128];
        const struct xnode *nn = x_find(hd, "name"), *vv = x_find(hd, "value");
        if (!x_trimmed(nn, name, sizeof(name)) || !name[0] || strpbrk(name, " \t\r\n:") ||
            !x_trimmed(vv, tmp, sizeof(tmp)) || !hdr_value_ok(tmp)) {
            xerr(x, hd->line, "response <header> needs <name> and a one-line <value>");
            hp_buf_free(&h);
            return -1;
        }
        ctype |= strcasecmp(name, "Content-Type") == 0;
        hp_buf_printf(&h, "%s: %s\r\n", name, tmp);
    }
    if (!ctype)
        hp_buf_puts(&h, "Content-Type: text/html\r\n");
    if (!hp_buf_ok(&h)) {
        xerr(x, r->line, "response headers too long");
        hp_buf_free(&h);
        return -1;
    }
    ru->headers = strdup(hp_buf_cstr(&h));
    hp_buf_free(&h);
    if (!ru->headers)
        return -1;

    const struct xnode *b = x_find(r, "body");
    if (!b) {
        xerr(x, r->line, "response <body> required");
        return -1;
    }
    if (b->text.len) {
        ru->body = malloc(b->text.len);
        if (!ru->body)
            return -1;
        memcpy(ru->body, b->text.data, b->text.len);
        ru->body_len = b->text.len;
        return 0;
    }
    if (!b->filename || !b->filename[0] || strstr(b->filename, "..") || b->filename[0] == '/') {
        xerr(x, b->line, "<body> needs text or a plain filename=\"...\"");
        return -1;
    }
    char path[4096], msg[512];
    size_t len;
    snprintf(path, sizeof(path), "%s/%s", c->dir, b->filename);
    char *data = wr_read_file(path, WR_MAX_BODY, &len, msg, sizeof(msg));
    if (!data) {
        xerr(x, b->line, "%s", msg);
        return -1;
    }
    /* WOWHoneypot strips the file's surrounding white space. */
    size_t s = 0;
    while (s < len && strchr(" \t\r\n\v\f", data[s]) && data[s])
        s++;
    while (len > s && strchr(" \t\r\n\v\f", data[len - 1]) && data[len - 1])
        len--;
    memmove(data, data + s, len - s);
    ru->body = (uint8_t *)data;
    ru->body_len = len - s;
    return 0;
}

struct wow_rule {
    long mrrid;
    struct wr_rule ru;
};

/* One <mrr>: 1 when added to out, 0 when disabled, -1 on error. */
static int wow_mrr(const struct xnode *mrr, struct wow_ctx *c, struct wow_rule *out)
{
    struct xparse *x = c->x;
    char tmp[64], *end = tmp;
    const struct xnode *meta = x_find(mrr, "meta"), *trig = x_find(mrr, "trigger"), *resp = x_find(mrr, "response");
    if (!meta || !trig || !resp) {
        xerr(x, mrr->line, "<mrr> needs <meta>, <trigger> and <response>");
        return -1;
    }
    if (!x_trimmed(x_find(meta, "enable"), tmp, sizeof(tmp))) {
        xerr(x, meta->line, "<enable> is required");
        return -1;
    }
    if (strcmp(tmp, "True") != 0)
        return 0;
    const struct xnode *idn = x_find(meta, "mrrid");
    long id = x_trimmed(idn, tmp, sizeof(tmp)) && tmp[0] ? strtol(tmp, &end, 10) : -1;
    if (id < 0 || *end || id < 1000 || id > 65535) {
        xerr(x, idn ? idn->line : meta->line, "<mrrid> must be an integer 1000..65535");
        return -1;
    }
    memset(out, 0, sizeof(*out));
    out->mrrid = id;
    char rid[32];
    snprintf(rid, sizeof(rid), "wow-%ld", id);
    out->ru.id = strdup(rid);
    out->ru.tags = strdup("wowhoneypot");
    if (!out->ru.id || !out->ru.tags || wow_trigger(&out->ru, trig, x) != 0 || wow_response(&out->ru, resp, c) != 0) {
        xerr(x, mrr->line, "out of memory");
        wr_rule_clear(&out->ru);
        return -1;
    }
    wr_rule_seal(&out->ru);
    return 1;
}

static int by_mrrid_desc(const void *a, const void *b)
{
    long x = ((const struct wow_rule *)a)->mrrid, y = ((const struct wow_rule *)b)->mrrid;
    return x < y ? 1 : x > y ? -1 : 0;
}

int hp_webrules_add_wow_text(struct hp_webrules *r, const char *xml, size_t len, const char *name,
                             const char *mrrdata_dir, char *err, size_t errlen)
{
    struct xparse x = { .s = xml ? xml : "", .n = xml ? len : 0, .line = 1, .name = name ? name : "mrrules.xml",
                        .err = err, .errlen = errlen };
    struct wow_ctx c = { .x = &x, .dir = mrrdata_dir ? mrrdata_dir : "." };
    struct xnode doc;
    struct wow_rule *rules = NULL;
    size_t n = 0;
    int rc = -1;
    if (err && errlen)
        err[0] = '\0';
    memset(&doc, 0, sizeof(doc));
    hp_buf_init(&doc.text, WR_MAX_FILE);
    if (!r || len > WR_MAX_FILE) {
        xerr(&x, 1, "no rule set or file too big");
        goto out;
    }
    if (x_content(&x, &doc, 0) != 0)
        goto out;
    const struct xnode *root = doc.child;
    if (!root || strcmp(root->name, "mrrs") != 0 || root->next) {
        xerr(&x, 1, "the root element must be <mrrs>");
        goto out;
    }
    size_t cap = 0;
    for (const struct xnode *m = root->child; m; m = m->next)
        cap += strcmp(m->name, "mrr") == 0;
    if (cap == 0) {
        xerr(&x, root->line, "no <mrr> in <mrrs>");
        goto out;
    }
    rules = calloc(cap, sizeof(*rules));
    if (!rules) {
        xerr(&x, 1, "out of memory");
        goto out;
    }
    for (const struct xnode *m = root->child; m; m = m->next) {
        if (strcmp(m->name, "mrr") != 0)
            continue;
        int k = wow_mrr(m, &c, &rules[n]);
        if (k < 0)
            goto out;
        if (k == 0)
            continue;
        n++;
        bool dup = wr_has_id(r, rules[n - 1].ru.id);
        for (size_t j = 0; !dup && j + 1 < n; j++)
            dup = rules[j].mrrid == rules[n - 1].mrrid;
        if (dup) {
            xerr(&x, m->line, "duplicate mrrid %ld", rules[n - 1].mrrid);
            goto out;
        }
    }
    qsort(rules, n, sizeof(*rules), by_mrrid_desc);
    struct wr_rule *flat = n ? calloc(n, sizeof(*flat)) : NULL;
    if (n && !flat) {
        xerr(&x, 1, "out of memory");
        goto out;
    }
    for (size_t j = 0; j < n; j++)
        flat[j] = rules[j].ru;
    if (n && wr_set_insert(r, 0, flat, n) != 0) {
        free(flat);
        xerr(&x, 1, "too many rules (max %d)", WR_MAX_RULES);
        goto out;
    }
    free(flat);
    rc = (int)n;
    n = 0;                          /* now owned by the set */
out:
    for (size_t j = 0; j < n; j++)
        wr_rule_clear(&rules[j].ru);
    free(rules);
    x_free(doc.child);
    hp_buf_free(&doc.text);
    if (rc < 0 && err && errlen && !err[0])
        snprintf(err, errlen, "%s:1: out of memory", x.name);
    return rc;
}

int hp_webrules_add_wow(struct hp_webrules *r, const char *xml_path, const char *mrrdata_dir, char *err, size_t errlen)
{
    char msg[512], dir[4096];
    size_t len;
    char *text = wr_read_file(xml_path, WR_MAX_FILE, &len, msg, sizeof(msg));
    if (!text) {
        snprintf(err, errlen, "%s:0: %s", xml_path, msg);
        return -1;
    }
    if (!mrrdata_dir) {
        const char *slash = strrchr(xml_path, '/');
        snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - xml_path) : 1, slash ? xml_path : ".");
        mrrdata_dir = dir[0] ? dir : "/";
    }
    int rc = hp_webrules_add_wow_text(r, text, len, xml_path, mrrdata_dir, err, errlen);
    free(text);
    return rc;
}
