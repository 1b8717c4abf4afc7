/*
 * urlx.c - hp_urlx_scan(): every URL an attacker points at, in any text.
 *
 * Design.  The input is scanned as a tree of layers: the "plain" text (with
 * HTML entities and JSON "\/" escapes undone), and, up to three levels deep,
 * the text revealed by each decoding attackers use: ${IFS} -> space, \xHH /
 * \NNN escapes, %XX / '+' URL encoding, and base64 runs.  Every layer gets
 * two passes:
 *
 *   - the shell pass (urlx_shell.c) parses it as shell-ish commands and turns
 *     download tools (wget, curl, tftp, ftpget, nc, ftp scripts) and their
 *     arguments into URLs, with simple NAME=VALUE substitution;
 *   - the literal pass (here) finds "scheme://..." text, and credits it to a
 *     download keyword seen shortly before (DownloadFile, certutil,
 *     bitsadmin, urlretrieve, ...), else to "url".
 *
 * Findings are normalised (hp_urlx_normalize) and kept in a table of at most
 * HP_URLX_MAX distinct URLs (the first one seen of each; a tool's "how"
 * replaces a bare "url").  At the end they are reported sorted by where they
 * appear in the input.
 *
 * Bounds.  Each pass is linear in its layer.  Decoded layers never grow, a
 * budget caps the decoded bytes of the whole scan at a small multiple of the
 * input, base64 runs are decoded only between 16 bytes and 64 KiB and at most
 * 32 per layer, and at most UX_LAYERS layers are visited.  So the total work
 * is O(n * small constant) whatever the input; nothing recurses on input
 * structure except the fixed-depth layer tree.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "reader.h"
#include "urlx_int.h"

#define UX_DEPTH 3                 /* decoding layers below plain */
#define UX_LAYERS 128              /* layers visited per scan */
#define UX_B64_MIN 16
#define UX_B64_MAX (64 * 1024)
#define UX_B64_RUNS 32             /* base64 runs decoded per layer */
#define UX_KW_WINDOW 512           /* keyword -> URL distance */

struct ux_rec {
    uint64_t hash;
    uint64_t key;                  /* position in the input, for ordering */
    uint32_t seq;
    const char *how;
    const char *layer;
    char url[HP_URLX_URL_MAX + 1];
};

struct ux_ctx {
    struct ux_rec rec[HP_URLX_MAX];
    size_t nrec;
    uint32_t seq;
    size_t budget;                 /* decoded bytes still allowed */
    int layers_left;
    struct ux_shell *sh;
};

static uint64_t ux_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static uint64_t ux_key(const struct ux_layer *L, size_t pos)
{
    for (; L && L->parent; L = L->parent)
        if (L->fixed)
            pos = L->fixed_pos;
    return pos;
}

void ux_report(struct ux_ctx *c, const struct ux_layer *L, size_t pos,
               const char *raw, size_t len, const char *defscheme, const char *how)
{
    char url[HP_URLX_URL_MAX + 1];
    if (hp_urlx_normalize(raw, len, defscheme, url, sizeof(url)) != 0)
        return;
    if (strncmp(url, "tcp:", 4) == 0 && strcmp(how, "nc") != 0)
        return;                         /* raw streams only for nc */
    uint64_t h = ux_hash(url);
    for (size_t i = 0; i < c->nrec; i++) {
        struct ux_rec *r = &c->rec[i];
        if (r->hash == h && strcmp(r->url, url) == 0) {
            uint64_t key = ux_key(L, pos);
            if (key < r->key)
                r->key = key;           /* order: where it first appears */
            if (strcmp(r->how, "url") == 0 && strcmp(how, "url") != 0) {
                r->how = how;           /* tool intent is more informative */
                r->layer = L->name;
            }
            return;
        }
    }
    if (c->nrec >= HP_URLX_MAX)
        return;
    struct ux_rec *r = &c->rec[c->nrec++];
    r->hash = h;
    r->key = ux_key(L, pos);
    r->seq = c->seq++;
    r->how = how;
    r->layer = L->name;
    memcpy(r->url, url, strlen(url) + 1);
}

/* ---- download keywords ------------------------------------------------------ */

static const struct { const char *kw; const char *how; } ux_kws[] = {
    { "downloadfile", "powershell" }, { "downloadstring", "powershell" },
    { "downloaddata", "powershell" }, { "invoke-webrequest", "powershell" },
    { "invoke-restmethod", "powershell" }, { "iwr ", "powershell" },
    { "start-bitstransfer", "powershell" }, { "net.webclient", "powershell" },
    { "certutil", "certutil" }, { "bitsadmin", "bitsadmin" },
    { "getstore", "perl" }, { "lwp::", "perl" }, { "http::tiny", "perl" },
    { "urlretrieve", "python" }, { "urllib", "python" }, { "requests.get", "python" },
    { "file_get_contents", "php" }, { "curl_exec", "php" },
};

static bool ux_alnum(uint8_t c)
{
    c = ux_lc(c);
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool ux_kw_at(const uint8_t *p, size_t n, size_t i, const char *kw)
{
    size_t l = strlen(kw);
    if (n - i < l)
        return false;
    for (size_t k = 0; k < l; k++)
        if (ux_lc(p[i + k]) != (uint8_t)kw[k])
            return false;
    return true;
}

/* First letters of the keywords, both cases. */
static const uint8_t ux_kw_first[256] = {
    ['d'] = 1, ['i'] = 1, ['n'] = 1, ['s'] = 1, ['c'] = 1, ['b'] = 1, ['g'] = 1, ['l'] = 1,
    ['u'] = 1, ['r'] = 1, ['f'] = 1, ['h'] = 1, ['D'] = 1, ['I'] = 1, ['N'] = 1, ['S'] = 1,
    ['C'] = 1, ['B'] = 1, ['G'] = 1, ['L'] = 1, ['U'] = 1, ['R'] = 1, ['F'] = 1, ['H'] = 1,
};

/* Next keyword at or after from (at a word start); returns n when none. */
static size_t ux_kw_next(const uint8_t *p, size_t n, size_t from, const char **how)
{
    for (size_t i = from; i < n; i++) {
        if (!ux_kw_first[p[i]] || (i > 0 && ux_alnum(p[i - 1])))
            continue;
        uint8_t c = ux_lc(p[i]);
        for (size_t k = 0; k < sizeof(ux_kws) / sizeof(ux_kws[0]); k++)
            if ((uint8_t)ux_kws[k].kw[0] == c && ux_kw_at(p, n, i, ux_kws[k].kw)) {
                *how = ux_kws[k].how;
                return i;
            }
    }
    return n;
}

struct ux_kwstate {
    bool started;                  /* next is valid (found when the first URL is) */
    size_t next;                   /* next keyword position, n when none */
    const char *next_how;
    size_t last;
    const char *last_how;          /* NULL when none pending */
};

/* The "how" for a literal URL at s: the last unused keyword within the window. */
static const char *ux_kw_how(struct ux_kwstate *k, const uint8_t *p, size_t n, size_t s)
{
    if (!k->started) {
        k->started = true;
        k->next = ux_kw_next(p, n, 0, &k->next_how);
    }
    while (k->next < s) {
        k->last = k->next;
        k->last_how = k->next_how;
        k->next = ux_kw_next(p, n, k->next + 1, &k->next_how);
    }
    if (k->last_how && s - k->last <= UX_KW_WINDOW) {
        const char *how = k->last_how;
        k->last_how = NULL;
        return how;
    }
    return "url";
}

/* ---- literal URLs -------------------------------------------------------------- */

/* Scheme ending at k ("://" at p[k]); its length, 0 if none of the four. */
static size_t ux_scheme_before(const uint8_t *p, size_t k)
{
    static const char *const sch[] = { "https", "http", "tftp", "ftp" };
    for (size_t i = 0; i < 4; i++) {
        size_t l = strlen(sch[i]);
        if (k >= l && ux_kw_at(p, k, k - l, sch[i]))
            return l;
    }
    return 0;
}

/* Bytes a URL cannot hold raw (RFC 3986 wants them encoded) that attacker
 * text puts right after one: quotes, shell operators, and the braces of
 * template languages ("{.exec|http://h/s.exe.}" in HFS). */
static bool ux_url_stop(uint8_t c)
{
    return c <= 0x20 || c == 0x7f || strchr("\"'<>|&`\\;{}", c) != NULL;
}

/* '+', an encoded blank (%20 %09 %0A %0D) or an encoded shell or quoting
 * character (%3B ; %7C | %60 ` %00 %5C backslash %22 " %27 ' %3C < %3E >): in
 * attacker text this is a URL-encoded command line around the URL
 * ("wget+http://h/x+-O+-", "http://h/x%3Bsh"), so the URL ends there; the
 * urldecode layer sees the real command.  An encoded '&' does not end it:
 * "?u=http://h/x?a=1%26b=2" keeps its own query. */
static bool ux_enc_stop(const uint8_t *p, size_t n, size_t i)
{
    static const char *const stops[] = { "20", "09", "0a", "0d", "3b", "7c", "60", "00", "5c", "22", "27",
                                         "3c", "3e" };
    if (p[i] == '+')
        return true;
    if (p[i] != '%' || n - i < 3)
        return false;
    uint8_t a = p[i + 1], b = ux_lc(p[i + 2]);
    for (size_t k = 0; k < sizeof(stops) / sizeof(stops[0]); k++)
        if (a == (uint8_t)stops[k][0] && b == (uint8_t)stops[k][1])
            return true;
    return false;
}

/* End of the URL text starting at s: stops at a terminator or at an unbalanced
 * ')' (the end of $(...)); scans at most HP_URLX_URL_MAX + 1 bytes. */
static size_t ux_url_end(const uint8_t *p, size_t n, size_t s)
{
    /* A quoted URL runs to its closing quote, blanks included, as the shell
     * would pass it ("http://h/a b" is fetched as /a%20b). */
    if (s > 0 && (p[s - 1] == '"' || p[s - 1] == '\'')) {
        for (size_t q = s; q < n && q - s <= HP_URLX_URL_MAX; q++) {
            if (p[q] == p[s - 1])
                return q;
            if ((p[q] < 0x20 && p[q] != '\t') || strchr("<>|&`\\;", p[q]))
                break;
        }
    }
    size_t e = s;
    int depth = 0;
    while (e < n && e - s <= HP_URLX_URL_MAX) {
        uint8_t c = p[e];
        if (ux_url_stop(c) || ux_enc_stop(p, n, e))
            break;
        if (c == '(')
            depth++;
        else if (c == ')' && depth-- == 0)
            break;
        e++;
    }
    if (e - s > HP_URLX_URL_MAX)
        return e;                       /* too long: the caller skips it whole */
    /* Trailing sentence/quoting punctuation; a ')' only when unbalanced. */
    long open = 0;
    for (size_t i = s; i < e; i++)
        open += p[i] == '(' ? 1 : p[i] == ')' ? -1 : 0;
    while (e > s && p[e - 1] != 0 && strchr(").,;:'\"!?]}", p[e - 1])) {
        if (p[e - 1] == ')') {
            if (open >= 0)
                break;
            open++;
        }
        e--;
    }
    return e;
}

/* "$NAME" or "${": a shell template ("http://h/$a", "x${IFS}-O"), not a URL
 * yet; the shell pass or the ifs layer sees the real one.  The caller
 * includes the byte after the URL, since '{' ends one. */
static bool ux_has_shell_var(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '$' && (p[i + 1] == '{' || p[i + 1] == '_' || (ux_lc(p[i + 1]) >= 'a' && ux_lc(p[i + 1]) <= 'z')))
            return true;
    return false;
}

static bool ux_xml_name_char(uint8_t c)
{
    return ux_alnum(c) || c == '_' || c == '-' || c == '.' || c == ':';
}

/* Does the attribute name p[0..n) name a vocabulary?  xmlns, xmlns:P, and
 * (any prefix) encodingStyle, schemaLocation, noNamespaceSchemaLocation,
 * XML Signature's Algorithm (SAML exploits carry several) and WS-Security's
 * Type, ValueType and EncodingType (a UsernameToken's password type). */
static bool ux_vocabulary_attr(const uint8_t *p, size_t n)
{
    static const char *const local[] = { "encodingstyle", "schemalocation", "nonamespaceschemalocation",
                                         "algorithm", "type", "valuetype", "encodingtype" };
    if (n >= 5 && ux_kw_at(p, n, 0, "xmlns") && (n == 5 || p[5] == ':'))
        return true;
    size_t b = n;
    while (b > 0 && p[b - 1] != ':')
        b--;
    for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
        if (n - b == strlen(local[i]) && ux_kw_at(p, n, b, local[i]))
            return true;
    return false;
}

/*
 * Is the URL starting at s the value of an XML attribute that names a
 * vocabulary (xmlns="http://schemas.xmlsoap.org/soap/envelope/",
 * s:encodingStyle="...", xsi:schemaLocation="NS URL")?  Such a URL
 * identifies a namespace, nothing is fetched from it: every SOAP exploit
 * carries two, and requesting them would only make the sensor visit W3C and
 * xmlsoap.org.  Looks back from s to the value's opening quote (a JSON \"
 * counts), then '=', then the name.  The look-back stops at lo, the end of
 * the previous URL candidate, so the scan stays linear: reaching it inside
 * the same value (no quote, '<', '>', '=' or newline between) gives the
 * previous URL's answer (lo_vocab), as in schemaLocation's "NS1 URL1 NS2
 * URL2".
 */
static bool ux_vocabulary_value(const uint8_t *p, size_t s, size_t lo, bool lo_vocab)
{
    size_t q = s;
    while (q > lo && p[q - 1] != '"' && p[q - 1] != '\'')
        if (strchr("<>=\n", p[--q]))
            return false;
    if (q <= lo)
        return lo_vocab;
    size_t e = q - 1;                   /* the quote */
    if (e > 0 && p[e - 1] == '\\')
        e--;
    while (e > 0 && (p[e - 1] == ' ' || p[e - 1] == '\t'))
        e--;
    if (e == 0 || p[e - 1] != '=')
        return false;
    e--;
    while (e > 0 && (p[e - 1] == ' ' || p[e - 1] == '\t'))
        e--;
    size_t b = e;
    while (b > 0 && e - b < 64 && ux_xml_name_char(p[b - 1]))
        b--;
    return b < e && ux_vocabulary_attr(p + b, e - b);
}

/*
 * Is the URL p[s..e) the whole text of a WS-Addressing or WS-Management
 * header element (<a:To>, <a:Action>, <a:Address>, <w:ResourceURI>)?  Those
 * name the endpoint, the reply role and the operation of a SOAP message, as a
 * namespace does: OMIGOD's /wsman exploit carries four, one of them the
 * sensor's own address.  Judged by the closing tag right after the URL (a
 * bounded look-ahead: the scan stays linear); element text elsewhere counts.
 */
static bool ux_wsa_element(const uint8_t *p, size_t n, size_t s, size_t e)
{
    static const char *const names[] = { "To", "Action", "Address", "ResourceURI" };
    if (s == 0 || p[s - 1] != '>' || e + 2 >= n || p[e] != '<' || p[e + 1] != '/')
        return false;
    size_t b = e + 2, q = b;
    while (q < n && q - b < 64 && ux_xml_name_char(p[q]))
        q++;
    if (q >= n || p[q] != '>')
        return false;
    size_t l = q;
    while (l > b && p[l - 1] != ':')
        l--;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (q - l == strlen(names[i]) && memcmp(p + l, names[i], q - l) == 0)
            return true;
    return false;
}

static void ux_literal_scan(struct ux_ctx *c, const struct ux_layer *L, const uint8_t *p, size_t n)
{
    struct hp_rd r;
    struct ux_kwstate kw = { false, 0, NULL, 0, NULL };
    size_t lo = 0;                      /* end of the previous candidate */
    bool lo_vocab = false;
    hp_rd_init(&r, p, n);
    for (;;) {
        long f = hp_rd_find(&r, "://", 3);
        if (f < 0)
            break;
        size_t k = hp_rd_pos(&r) + (size_t)f;
        size_t sl = ux_scheme_before(p, k);
        if (!sl) {
            hp_rd_skip(&r, (size_t)f + 3);
            continue;
        }
        size_t s = k - sl;
        size_t e = ux_url_end(p, n, s);
        bool vocab = ux_vocabulary_value(p, s, lo, lo_vocab);
        lo = e > lo ? e : lo;
        lo_vocab = vocab;
        if (e - s <= HP_URLX_URL_MAX && !ux_has_shell_var(p + s, (e < n ? e + 1 : e) - s) && !vocab &&
            !ux_wsa_element(p, n, s, e)) {
            ux_report(c, L, s, (const char *)p + s, e - s, NULL, ux_kw_how(&kw, p, n, s));
            /* One URL nested in this one's query (a redirect parameter). */
            struct hp_rd in;
            hp_rd_init(&in, p + k + 3, e - k - 3);
            long g = hp_rd_find(&in, "://", 3);
            if (g >= 0) {
                size_t k2 = k + 3 + (size_t)g;
                size_t sl2 = ux_scheme_before(p, k2);
                if (sl2 && k2 - sl2 > k + 3)
                    ux_report(c, L, k2 - sl2, (const char *)p + k2 - sl2, e - (k2 - sl2), NULL, "url");
            }
        }
        size_t next = e > k + 3 ? e : k + 3;
        hp_rd_skip(&r, next - hp_rd_pos(&r));
    }
}

/* ---- layers ------------------------------------------------------------------------ */

static bool ux_take_budget(struct ux_ctx *c, size_t n)
{
    if (n > c->budget)
        return false;
    c->budget -= n;
    return true;
}

static void ux_layer_scan(struct ux_ctx *c, const struct ux_layer *parent, const char *name,
                          size_t fixed_pos, const uint8_t *p, size_t n);

/* Decode the whole layer with dec and scan the result as a child layer. */
static void ux_child_whole(struct ux_ctx *c, const struct ux_layer *L, const char *name,
                           bool (*dec)(const uint8_t *, size_t, struct hp_buf *),
                           const uint8_t *p, size_t n)
{
    struct hp_buf b;
    hp_buf_init(&b, n);
    if (c->budget >= n && dec(p, n, &b) && b.len > 0 && ux_take_budget(c, b.len))
        ux_layer_scan(c, L, name, (size_t)-1, b.data, b.len);
    hp_buf_free(&b);
}

/* UTF-16LE ASCII (every odd byte 0, as PowerShell -EncodedCommand) -> ASCII, in place. */
static void ux_utf16_squash(struct hp_buf *b)
{
    size_t zeros = 0, half = b->len / 2;
    if (half < 8)
        return;
    for (size_t i = 0; i < half; i++)
        zeros += b->data[2 * i + 1] == 0;
    if (zeros * 10 < half * 9)
        return;
    for (size_t i = 0; i < half; i++)
        b->data[i] = b->data[2 * i];
    b->len = half;
}

static void ux_children_b64(struct ux_ctx *c, const struct ux_layer *L, const uint8_t *p, size_t n)
{
    struct hp_buf b;
    size_t pos = 0, s, l;
    hp_buf_init(&b, UX_B64_MAX);
    for (int runs = 0; runs < UX_B64_RUNS && ux_b64_run(p, n, &pos, UX_B64_MIN, UX_B64_MAX, &s, &l); runs++) {
        if (!ux_take_budget(c, l))
            break;
        if (!ux_dec_b64(p + s, l, &b))
            continue;
        ux_utf16_squash(&b);            /* powershell -EncodedCommand */
        if (ux_mostly_text(b.data, b.len))
            ux_layer_scan(c, L, "base64", s, b.data, b.len);
    }
    hp_buf_free(&b);
}

/* fixed_pos == (size_t)-1: a whole-text decoding (positions map in place). */
static void ux_layer_scan(struct ux_ctx *c, const struct ux_layer *parent, const char *name,
                          size_t fixed_pos, const uint8_t *p, size_t n)
{
    if (c->layers_left <= 0 || n == 0)
        return;
    c->layers_left--;
    struct ux_layer L = { parent, fixed_pos != (size_t)-1, fixed_pos, name, 0 };
    if (parent) {
        L.depth = parent->depth + 1;
        if (parent->parent)
            L.name = parent->name;      /* report the outermost decoding */
    }
    /* Entities and JSON escapes are undone in place of the layer itself. */
    struct hp_buf eb;
    hp_buf_init(&eb, n);
    if (c->budget >= n && ux_dec_entity(p, n, &eb) && ux_take_budget(c, eb.len)) {
        p = eb.data;
        n = eb.len;
    }
    ux_shell_scan(c, c->sh, &L, p, n);
    ux_literal_scan(c, &L, p, n);
    if (L.depth < UX_DEPTH) {
        /* Transport encoding first: it is the outermost wrapper. */
        ux_child_whole(c, &L, "urldecode", ux_dec_url, p, n);
        ux_child_whole(c, &L, "ifs", ux_dec_ifs, p, n);
        ux_child_whole(c, &L, "hex", ux_dec_hex, p, n);
        ux_children_b64(c, &L, p, n);
    }
    hp_buf_free(&eb);
}

/*
 * The scanner's state is 160 KiB (the records and the shell pass's tables).
 * Every HTTP request is scanned, and allocating and zeroing that much per
 * request cost more than scanning a plain request, so each thread keeps one
 * between scans (freed when the thread ends).  A scan takes it out of the
 * slot while it runs, so a scan started from inside a callback gets its own.
 */
static pthread_key_t ux_spare_key;
static pthread_once_t ux_spare_once = PTHREAD_ONCE_INIT;

static void ux_ctx_free(void *p)
{
    struct ux_ctx *c = p;
    if (c) {
        ux_shell_free(c->sh);
        free(c);
    }
}

static void ux_spare_init(void)
{
    pthread_key_create(&ux_spare_key, ux_ctx_free);
}

static struct ux_ctx *ux_ctx_take(void)
{
    pthread_once(&ux_spare_once, ux_spare_init);
    struct ux_ctx *c = pthread_getspecific(ux_spare_key);
    if (c) {
        pthread_setspecific(ux_spare_key, NULL);
        ux_shell_rearm(c->sh);
        return c;
    }
    /* Not calloc: rec[] is 130 KiB and each record is written whole when it is added. */
    c = malloc(sizeof(*c));
    if (!c)
        return NULL;
    c->sh = ux_shell_new();
    if (!c->sh) {
        free(c);
        return NULL;
    }
    return c;
}

static void ux_ctx_give_back(struct ux_ctx *c)
{
    if (pthread_getspecific(ux_spare_key) || pthread_setspecific(ux_spare_key, c) != 0)
        ux_ctx_free(c);
}

size_t hp_urlx_scan(const void *data, size_t len, hp_urlx_fn fn, void *arg)
{
    if (!data || len == 0 || !fn)
        return 0;
    struct ux_ctx *c = ux_ctx_take();
    if (!c)
        return 0;
    c->nrec = 0;
    c->seq = 0;
    c->budget = 4 * len + 256 * 1024;
    c->layers_left = UX_LAYERS;
    ux_layer_scan(c, NULL, "plain", (size_t)-1, data, len);

    /* Order of appearance; insertion sort of at most HP_URLX_MAX indexes. */
    size_t idx[HP_URLX_MAX];
    for (size_t i = 0; i < c->nrec; i++) {
        size_t j = i;
        while (j > 0 && (c->rec[idx[j - 1]].key > c->rec[i].key ||
                         (c->rec[idx[j - 1]].key == c->rec[i].key && c->rec[idx[j - 1]].seq > c->rec[i].seq))) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    size_t n = c->nrec;
    for (size_t i = 0; i < n; i++)
        fn(arg, c->rec[idx[i]].url, c->rec[idx[i]].how, c->rec[idx[i]].layer);
    ux_ctx_give_back(c);
    return n;
}
