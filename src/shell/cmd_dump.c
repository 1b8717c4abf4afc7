/*
 * cmd_dump.c - looking at bytes and comparing files: od, hexdump, xxd,
 * cmp and diff.
 *
 * Bots use these to look at what they dropped or found (`od -c`, `hexdump
 * -C`, `head -c 20 /bin/ls | od -x`), to drop binaries without a download
 * tool (`echo 7f454c46... | xxd -r -p > x`), and scanners compare their
 * exact layouts, so every column, padding rule and message is the real
 * tool's: GNU coreutils 9.1 od, vim's xxd 2022 and diffutils 3.8 on the
 * Debian personality, busybox od/hexdump/cmp/diff on busybox ones (whose
 * diff always writes unified hunks).  Multi-byte words are read in the
 * machine's byte order (a big-endian MIPS router's od -x differs).
 *
 * Inputs are read whole through cmd_text.h and bounded by the vfs and the
 * pipe; diff's LCS table is quadratic, so it is bounded too (common heads
 * and tails are cut first, then at most ~2000 x 2000 lines), and past the
 * bound diff fails honestly with "memory exhausted" as GNU diff would.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cmd_text.h"
#include "cmd_sys.h"
#include "util.h"

enum { DO_HELP = 256, DO_VERSION };

/* ==== od ========================================================================== */

#define OD_SPECS_MAX 16

struct od_spec {
    char type;                    /* x o d u c a */
    int size;                     /* bytes per field */
    int fw;                       /* field width without the separator */
    int pad;                      /* spaces spread over a block's fields (GNU's alignment) */
};

struct od {
    struct sh_cmd *c;
    struct txt_out out;
    struct od_spec spec[OD_SPECS_MAX];
    int nspec;
    int radix;                    /* 8 10 16, 0: no addresses */
    size_t width;                 /* bytes per line */
    bool dups, big;
};

static int od_fw(char type, int size)
{
    static const int ow[9] = { 0, 3, 6, 0, 11, 0, 0, 0, 22 };
    static const int uw[9] = { 0, 3, 5, 0, 10, 0, 0, 0, 20 };
    static const int dw[9] = { 0, 4, 6, 0, 11, 0, 0, 0, 20 };
    switch (type) {
    case 'x': return size * 2;
    case 'o': return ow[size];
    case 'u': return uw[size];
    case 'd': return dw[size];
    default: return 3;
    }
}

static bool od_add(struct od *od, char type, int size)
{
    if (od->nspec >= OD_SPECS_MAX)
        return true;
    od->spec[od->nspec++] = (struct od_spec){ type, size, od_fw(type, size), 0 };
    return true;
}

/* -t's string: "x1", "o2", "d4", "u1", "c", "a", "xC", "dI"..., several at once. */
static bool od_types(struct od *od, const char *s)
{
    const char *orig = s;
    while (*s) {
        char t = *s++;
        if (t == 'c' || t == 'a') {
            od_add(od, t, 1);
            continue;
        }
        if (!strchr("xodu", t)) {
            sh_errf(od->c, "od: invalid character '%c' in type string " TXT_LQ "%s" TXT_RQ "\n", t, orig);
            return false;
        }
        int size = 4;
        if (*s == 'C' || *s == 'S' || *s == 'I' || *s == 'L') {
            size = *s == 'C' ? 1 : *s == 'S' ? 2 : *s == 'I' ? 4 : 8;
            s++;
        } else if (isdigit((unsigned char)*s)) {
            char *end;
            long v = strtol(s, &end, 10);
            if (v != 1 && v != 2 && v != 4 && v != 8) {
                sh_errf(od->c, "od: invalid type string " TXT_LQ "%s" TXT_RQ ";\nthis system doesn't provide "
                               "a %ld-byte integral type\n", orig, v);
                return false;
            }
            size = (int)v;
            s = end;
        }
        od_add(od, t, size);
        if (*s == 'z')
            s++;
    }
    return true;
}

static uint64_t od_value(const struct od *od, const uint8_t *p, int size)
{
    uint64_t v = 0;
    for (int k = 0; k < size; k++)
        v |= (uint64_t)p[od->big ? k : size - 1 - k] << (8 * (size - 1 - k));
    return v;
}

static void od_field(const struct od *od, const struct od_spec *sp, const uint8_t *p, char *buf, size_t n)
{
    static const char *const names[33] = {
        "nul", "soh", "stx", "etx", "eot", "enq", "ack", "bel", "bs", "ht", "nl", "vt", "ff", "cr", "so",
        "si", "dle", "dc1", "dc2", "dc3", "dc4", "nak", "syn", "etb", "can", "em", "sub", "esc", "fs", "gs",
        "rs", "us", "sp" };
    uint64_t v = od_value(od, p, sp->size);
    int bits = sp->size * 8;
    switch (sp->type) {
    case 'x': snprintf(buf, n, "%0*" PRIx64, sp->fw, v); break;
    case 'o': snprintf(buf, n, "%0*" PRIo64, sp->fw, v); break;
    case 'u': snprintf(buf, n, "%" PRIu64, v); break;
    case 'd': {
        int64_t s = bits < 64 && (v >> (bits - 1)) ? (int64_t)(v - (1ull << bits)) : (int64_t)v;
        snprintf(buf, n, "%" PRId64, s);
        break;
    }
    case 'a': {
        unsigned ch = (unsigned)(v & 0x7f);
        snprintf(buf, n, "%s", ch <= 32 ? names[ch] : ch == 127 ? "del" : (char[]){ (char)ch, 0 });
        break;
    }
    default: {
        static const char esc[] = "\0\\0\a\\a\b\\b\f\\f\n\\n\r\\r\t\\t\v\\v";
        const char *e = NULL;
        for (size_t k = 0; k < sizeof(esc) - 1; k += 3)
            if ((unsigned char)esc[k] == v)
                e = esc + k + 1;
        if (e)
            snprintf(buf, n, "%.2s", e);
        else if (v >= 32 && v < 127)
            snprintf(buf, n, "%c", (int)v);
        else
            snprintf(buf, n, "%03o", (unsigned)v);
    }
    }
}

/* One line of one format: GNU od's print loop (pad spread over the fields). */
static void od_line(struct od *od, const struct od_spec *sp, const uint8_t *blk, size_t nb)
{
    int fields = (int)(od->width / (size_t)sp->size);
    int used = (int)((nb + (size_t)sp->size - 1) / (size_t)sp->size);
    int blank = fields - used, pad_rem = sp->pad;
    for (int i = fields; blank < i; i--) {
        int next_pad = (int)((long)sp->pad * (i - 1) / fields);
        int w = pad_rem - next_pad + sp->fw;
        char buf[64];
        od_field(od, sp, blk + (size_t)(fields - i) * (size_t)sp->size, buf, sizeof(buf));
        txt_printf(&od->out, "%*s", w, buf);
        pad_rem = next_pad;
    }
    txt_putc(&od->out, '\n');
}

static void od_addr(struct od *od, uint64_t a)
{
    if (od->radix == 8)
        txt_printf(&od->out, "%07" PRIo64, a);
    else if (od->radix == 10)
        txt_printf(&od->out, "%07" PRIu64, a);
    else if (od->radix == 16)
        txt_printf(&od->out, "%06" PRIx64, a);
}

static void od_dump(struct od *od, const uint8_t *d, size_t len, uint64_t base)
{
    int wpb = 0;
    for (int i = 0; i < od->nspec; i++) {
        int f = (int)(od->width / (size_t)od->spec[i].size);
        if ((od->spec[i].fw + 1) * f > wpb)
            wpb = (od->spec[i].fw + 1) * f;
    }
    for (int i = 0; i < od->nspec; i++)
        od->spec[i].pad = wpb - od->spec[i].fw * (int)(od->width / (size_t)od->spec[i].size);
    int aw = od->radix == 16 ? 6 : od->radix ? 7 : 0;
    bool star = false;
    uint8_t *blk = calloc(1, od->width);
    for (size_t off = 0; blk && off < len; off += od->width) {
        size_t nb = len - off < od->width ? len - off : od->width;
        if (!od->dups && off && nb == od->width && memcmp(d + off, d + off - od->width, nb) == 0) {
            if (!star)
                txt_puts(&od->out, "*\n");
            star = true;
            continue;
        }
        star = false;
        memset(blk, 0, od->width);
        memcpy(blk, d + off, nb);
        for (int i = 0; i < od->nspec; i++) {
            if (i == 0)
                od_addr(od, base + off);
            else
                txt_printf(&od->out, "%*s", aw, "");
            od_line(od, &od->spec[i], blk, nb);
        }
    }
    free(blk);
    if (od->radix) {
        od_addr(od, base + len);
        txt_putc(&od->out, '\n');
    }
}

/* Inputs of od/hexdump/xxd concatenated, after skip bytes, at most limit. */
static int dump_load(struct sh_cmd *c, const char *prog, char **ops, int nops, struct hp_buf *all)
{
    return tu_cat(c, prog, ops, nops, all, false, true);
}

static int cmd_od(struct sh_cmd *c)
{
    static const struct sys_longopt longs[] = {
        { "address-radix", 1, 'A' }, { "skip-bytes", 1, 'j' }, { "read-bytes", 1, 'N' },
        { "format", 1, 't' }, { "output-duplicates", 0, 'v' }, { "width", 2, 'w' },
        { "endian", 1, 'E' }, { "help", 0, DO_HELP }, { "version", 0, DO_VERSION }, { NULL, 0, 0 },
    };
    bool bb = tu_bb(c);
    struct od od = { .c = c, .radix = 8, .width = 16, .big = c->persona && c->persona->big_endian };
    uint64_t skip = 0, limit = UINT64_MAX, w;
    struct sys_getopt g;
    int o;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "A:j:N:t:vw::abcdfhilosxS:", bb ? NULL : longs)) != -1) {
        switch (o) {
        case 'A':
            if (!strchr("doxn", g.optarg[0]) || g.optarg[0] == '\0' || g.optarg[1]) {
                sh_errf(c, "od: invalid output address radix '%c'; it must be one character from [doxn]\n",
                        g.optarg[0]);
                return 1;
            }
            od.radix = g.optarg[0] == 'd' ? 10 : g.optarg[0] == 'o' ? 8 : g.optarg[0] == 'x' ? 16 : 0;
            break;
        case 'j': case 'N':
            if (!tu_size(g.optarg, o == 'j' ? &skip : &limit)) {
                sh_errf(c, "od: invalid %s argument " TXT_LQ "%s" TXT_RQ "\n",
                        o == 'j' ? "--skip-bytes" : "--read-bytes", g.optarg);
                return 1;
            }
            break;
        case 't':
            if (!od_types(&od, g.optarg))
                return sys_usage_gnu(c, "od", NULL, 1);
            break;
        case 'v': od.dups = true; break;
        case 'w':
            w = 32;
            if (g.optarg && (!tu_size(g.optarg, &w) || w == 0 || w > 4096)) {
                sh_errf(c, "od: invalid --width argument " TXT_LQ "%s" TXT_RQ "\n", g.optarg);
                return 1;
            }
            od.width = (size_t)w;
            break;
        case 'a': od_add(&od, 'a', 1); break;
        case 'b': od_add(&od, 'o', 1); break;
        case 'c': od_add(&od, 'c', 1); break;
        case 'd': od_add(&od, 'u', 2); break;
        case 'i': od_add(&od, 'd', 4); break;
        case 'l': od_add(&od, 'd', 8); break;
        case 'o': od_add(&od, 'o', 2); break;
        case 's': od_add(&od, 'd', 2); break;
        case 'x': case 'h': od_add(&od, 'x', 2); break;
        case 'f': case 'S': case 'E': break;
        case DO_VERSION: sys_gnu_version(c, "od", "Jim Meyering"); return 0;
        case DO_HELP: sh_outs(c, "Usage: od [OPTION]... [FILE]...\n"); sys_gnu_help_tail(c, "od"); return 0;
        default:
            return bb ? sys_usage_bb(c, "od", &g, "[-abcdfhilovxs] [-t TYPE] [-A RADIX] [-N SIZE] [-j SKIP] "
                                                  "[-S MINSTR] [-w WIDTH] [--] [FILE]...\n\nPrint FILEs (or stdin) "
                                                  "unambiguously, as octal bytes by default")
                      : sys_usage_gnu(c, "od", &g, 1);
        }
    }
    if (od.nspec == 0)
        od_add(&od, 'o', 2);
    for (int i = 0; i < od.nspec; i++)
        if (od.width % (size_t)od.spec[i].size) {
            sh_errf(c, "od: invalid --width argument " TXT_LQ "%zu" TXT_RQ "\n", od.width);
            return 1;
        }
    struct hp_buf all;
    hp_buf_init(&all, SH_VFS_FILE_MAX * 2);
    int rc = dump_load(c, "od", g.operands, g.noperands, &all);
    if (skip > all.len) {
        sh_errs(c, "od: cannot skip past end of combined input\n");
        hp_buf_free(&all);
        return 1;
    }
    size_t len = all.len - (size_t)skip;
    if (limit < len)
        len = (size_t)limit;
    txt_out_init(&od.out, c);
    od_dump(&od, all.data ? all.data + skip : (const uint8_t *)"", len, skip);
    txt_out_done(&od.out);
    hp_buf_free(&all);
    return rc;
}

/* ==== hexdump (busybox) =========================================================== */

/* The two formats bots use: the default (8 words a line, host order) and
 * -C (canonical).  Units past the end print as blanks, as BSD hexdump's
 * bpad() does, so lines keep their width. */
static void hexdump_line(struct txt_out *o, const uint8_t *p, size_t nb, uint64_t addr, bool canon, bool big)
{
    if (canon) {
        txt_printf(o, "%08" PRIx64 "  ", addr);
        for (size_t k = 0; k < 16; k++) {
            if (k < nb)
                txt_printf(o, "%02x ", p[k]);
            else
                txt_puts(o, "   ");
            if (k == 7)
                txt_putc(o, ' ');
        }
        txt_puts(o, " |");
        for (size_t k = 0; k < nb; k++)
            txt_putc(o, p[k] >= 0x20 && p[k] < 0x7f ? (char)p[k] : '.');
        txt_puts(o, "|\n");
        return;
    }
    txt_printf(o, "%07" PRIx64 " ", addr);
    for (size_t k = 0; k < 16; k += 2) {
        if (k < nb) {
            unsigned lo = p[k], hi = k + 1 < nb ? p[k + 1] : 0;
            txt_printf(o, "%04x ", big ? (lo << 8) | hi : (hi << 8) | lo);
        } else
            txt_puts(o, "     ");
    }
    txt_putc(o, '\n');
}

static int cmd_hexdump(struct sh_cmd *c)
{
    bool canon = false, dups = false;
    uint64_t skip = 0, limit = UINT64_MAX;
    struct sys_getopt g;
    int o;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, "bcCdoxve:f:n:s:R", NULL)) != -1) {
        switch (o) {
        case 'C': canon = true; break;
        case 'v': dups = true; break;
        case 'n': case 's':
            if (!tu_size(g.optarg, o == 'n' ? &limit : &skip)) {
                sh_errf(c, "hexdump: invalid number '%s'\n", g.optarg);
                return 1;
            }
            break;
        case 'b': case 'c': case 'd': case 'o': case 'x': case 'e': case 'f': case 'R': break;
        default:
            return sys_usage_bb(c, "hexdump", &g, "[-bcCdefnosvx] [FILE]...\n\nDisplay FILEs (or stdin) in a "
                                                  "user specified format\n\n"
                                                  "\t-b\t\t1-byte octal display\n\t-c\t\t1-byte character display\n"
                                                  "\t-d\t\t2-byte decimal display\n\t-o\t\t2-byte octal display\n"
                                                  "\t-x\t\t2-byte hex display\n\t-C\t\thex+ASCII 16 bytes per line\n"
                                                  "\t-v\t\tShow all (no dup folding)\n"
                                                  "\t-e FORMAT_STR\tExample: '16/1 \"%02x|\"\"\\n\"'\n"
                                                  "\t-f FORMAT_FILE\n\t-n LENGTH\tShow only first LENGTH bytes\n"
                                                  "\t-s OFFSET\tSkip OFFSET bytes");
        }
    }
    struct hp_buf all;
    hp_buf_init(&all, SH_VFS_FILE_MAX * 2);
    int rc = dump_load(c, "hexdump", g.operands, g.noperands, &all);
    size_t start = skip < all.len ? (size_t)skip : all.len;
    size_t len = all.len - start;
    if (limit < len)
        len = (size_t)limit;
    const uint8_t *d = all.data ? all.data + start : (const uint8_t *)"";
    struct txt_out out;
    txt_out_init(&out, c);
    bool star = false;
    bool big = c->persona && c->persona->big_endian;
    for (size_t off = 0; off < len; off += 16) {
        size_t nb = len - off < 16 ? len - off : 16;
        if (!dups && off && nb == 16 && memcmp(d + off, d + off - 16, 16) == 0) {
            if (!star)
                txt_puts(&out, "*\n");
            star = true;
            continue;
        }
        star = false;
        hexdump_line(&out, d + off, nb, start + off, canon, big);
    }
    if (len)
        txt_printf(&out, canon ? "%08zx\n" : "%07zx\n", start + len);
    txt_out_done(&out);
    hp_buf_free(&all);
    return rc;
}

/* ==== xxd ========================================================================= */

/* -r: plain hex (-p: every digit pair, anything else skipped), or a dump
 * ("ADDR: hex hex  text": bytes placed at ADDR, the text column ignored). */
static void xxd_reverse(const uint8_t *d, size_t len, bool plain, struct hp_buf *out)
{
    if (plain) {
        int hi = -1;
        for (size_t i = 0; i < len; i++) {
            int v = hp_hexval(d[i]);
            if (v < 0)
                continue;
            if (hi < 0)
                hi = v;
            else {
                hp_buf_putc(out, (uint8_t)(hi << 4 | v));
                hi = -1;
            }
        }
        return;
    }
    size_t pos = 0, n;
    const uint8_t *l;
    bool nl;
    while (txt_line(d, len, &pos, &l, &n, &nl) && hp_buf_ok(out)) {
        size_t i = 0;
        uint64_t addr = 0;
        while (i < n && hp_hexval(l[i]) >= 0 && addr < SH_VFS_FILE_MAX)
            addr = addr * 16 + (uint64_t)hp_hexval(l[i++]);
        if (i == 0 || i >= n || l[i] != ':')
            continue;
        i++;
        if (addr > SH_VFS_FILE_MAX)
            break;
        while (out->len < addr && hp_buf_ok(out))
            hp_buf_putc(out, 0);
        if (out->len > addr)
            out->len = (size_t)addr;  /* a later line rewrites from its address */
        int spaces = 0, hi = -1;
        for (; i < n && spaces < 2; i++) {
            int v = hp_hexval(l[i]);
            if (v < 0) {
                spaces = l[i] == ' ' ? spaces + 1 : 2;
                continue;
            }
            spaces = 0;
            if (hi < 0)
                hi = v;
            else {
                hp_buf_putc(out, (uint8_t)(hi << 4 | v));
                hi = -1;
            }
        }
    }
}

static const char xxd_usage[] =
    "Usage:\n       xxd [options] [infile [outfile]]\n    or\n"
    "       xxd -r [-s [-]offset] [-c cols] [-ps] [infile [outfile]]\nOptions:\n"
    "    -a          toggle autoskip: A single '*' replaces nul-lines. Default off.\n"
    "    -b          binary digit dump (incompatible with -ps,-i,-r). Default hex.\n"
    "    -C          capitalize variable names in C include file style (-i).\n"
    "    -c cols     format <cols> octets per line. Default 16 (-i: 12, -ps: 30).\n"
    "    -E          show characters in EBCDIC. Default ASCII.\n"
    "    -e          little-endian dump (incompatible with -ps,-i,-r).\n"
    "    -g bytes    number of octets per group in normal output. Default 2 (-e: 4).\n"
    "    -h          print this summary.\n"
    "    -i          output in C include file style.\n"
    "    -l len      stop after <len> octets.\n"
    "    -n name     set the variable name used in C include output (-i).\n"
    "    -o off      add <off> to the displayed file position.\n"
    "    -ps         output in postscript plain hexdump style.\n"
    "    -r          reverse operation: convert (or patch) hexdump into binary.\n"
    "    -r -s off   revert with <off> added to file positions found in hexdump.\n"
    "    -d          show offset in decimal instead of hex.\n"
    "    -s [+][-]seek  start at <seek> bytes abs. (or +: rel.) infile offset.\n"
    "    -u          use upper case hex letters.\n"
    "    -v          show version: \"xxd 2022-01-14 by Juergen Weigert et al.\".\n";

static void xxd_dump(struct txt_out *o, const uint8_t *d, size_t len, uint64_t base, long cols, long grp,
                     bool plain, bool upper)
{
    const char *hx = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    if (plain) {
        for (size_t i = 0; i < len; i++) {
            txt_putc(o, hx[d[i] >> 4]);
            txt_putc(o, hx[d[i] & 15]);
            if ((i + 1) % (size_t)cols == 0 || i + 1 == len)
                txt_putc(o, '\n');
        }
        return;
    }
    size_t hexw = (size_t)cols * 2 + (grp ? (size_t)(cols + grp - 1) / (size_t)grp - 1 : 0);
    char *line = malloc(hexw + 1);
    for (size_t off = 0; line && off < len; off += (size_t)cols) {
        size_t nb = len - off < (size_t)cols ? len - off : (size_t)cols, w = 0;
        memset(line, ' ', hexw);
        for (size_t k = 0; k < nb; k++) {
            line[w++] = hx[d[off + k] >> 4];
            line[w++] = hx[d[off + k] & 15];
            if (grp && (k + 1) % (size_t)grp == 0)
                w++;
        }
        txt_printf(o, "%08" PRIx64 ": ", base + off);
        txt_put(o, line, hexw);
        txt_puts(o, "  ");
        for (size_t k = 0; k < nb; k++)
            txt_putc(o, d[off + k] >= 0x20 && d[off + k] < 0x7f ? (char)d[off + k] : '.');
        txt_putc(o, '\n');
    }
    free(line);
}

static int cmd_xxd(struct sh_cmd *c)
{
    bool plain = false, rev = false, upper = false;
    long cols = 0, grp = 2, seek = 0;
    uint64_t limit = UINT64_MAX;
    int i = 1;
    /* xxd reads its own options (any prefix of the long names; "-ps" is -p) */
    for (; i < c->argc && c->argv[i][0] == '-' && c->argv[i][1]; i++) {
        const char *a = c->argv[i] + 1;
        if (*a == '-' && !a[1]) {
            i++;
            break;
        }
        char opt = *a;
        const char *val = a[1] && strchr("clgs", opt) ? a + 1 : NULL;
        if (strchr("clgs", opt) && !val) {
            if (i + 1 >= c->argc) {
                sh_errs(c, xxd_usage);
                return 1;
            }
            val = c->argv[++i];
        }
        long v = 0;
        if (val && opt != 'l' && !sh_parse_long(val[0] == '+' ? val + 1 : val, &v))
            v = strtol(val, NULL, 0);
        switch (opt) {
        case 'p': plain = true; break;
        case 'r': rev = true; break;
        case 'u': upper = true; break;
        case 'a': case 'd': case 'E': break;
        case 'c': cols = v; break;
        case 'g': grp = v; break;
        case 's': seek = v; break;
        case 'l':
            if (!tu_size(val, &limit))
                limit = 0;
            break;
        case 'v':
            sh_outs(c, "xxd 2022-01-14 by Juergen Weigert et al.\n");
            return 0;
        default:
            sh_errs(c, xxd_usage);
            return 1;
        }
    }
    if (cols < 0 || cols > 256) {
        sh_errs(c, "xxd: invalid number of columns (max. 256).\n");
        return 1;
    }
    if (cols == 0)
        cols = plain ? 30 : 16;
    if (grp < 0 || grp > cols)
        grp = cols;
    const char *inf = i < c->argc ? c->argv[i] : NULL, *outf = i + 1 < c->argc ? c->argv[i + 1] : NULL;
    if (i + 2 < c->argc) {
        sh_errs(c, xxd_usage);
        return 1;
    }
    if (inf && strcmp(inf, "-") == 0)
        inf = NULL;
    struct hp_buf in = { 0 }, res;
    const uint8_t *d;
    size_t n;
    bool used = false;
    int r = txt_load(c, inf ? inf : "-", &used, &in, &d, &n);
    if (r < 0) {
        sh_errf(c, "xxd: %s: %s\n", inf, sh_strerror(r));
        hp_buf_free(&in);
        return 2;
    }
    hp_buf_init(&res, SH_VFS_FILE_MAX * 4);
    if (rev)
        xxd_reverse(d, n, plain, &res);
    else {
        size_t start = seek < 0 ? ((size_t)-seek < n ? n - (size_t)-seek : 0) : (size_t)seek < n ? (size_t)seek : n;
        size_t len = n - start;
        if (limit < len)
            len = (size_t)limit;
        struct txt_out o = { .c = NULL };
        hp_buf_init(&o.b, SH_VFS_FILE_MAX * 4);
        xxd_dump(&o, d + start, len, start, cols, grp, plain, upper);
        hp_buf_put(&res, o.b.data, o.b.len);
        hp_buf_free(&o.b);
    }
    int rc = 0;
    if (outf && strcmp(outf, "-") != 0) {
        char path[4096];
        int w = sh_path(c, outf, path, sizeof(path));
        if (w == 0)
            w = sys_write_file(c, path, res.data ? res.data : (const uint8_t *)"", res.len, 0644);
        if (w < 0) {
            sh_errf(c, "xxd: %s: %s\n", outf, sh_strerror(w));
            rc = 2;
        }
    } else
        sh_out(c, res.data, res.len);
    hp_buf_free(&res);
    hp_buf_free(&in);
    return rc;
}

/* ==== cmp ========================================================================= */

static int cmd_cmp(struct sh_cmd *c)
{
    static const struct sys_longopt longs[] = {
        { "print-bytes", 0, 'b' }, { "ignore-initial", 1, 'i' }, { "verbose", 0, 'l' },
        { "bytes", 1, 'n' }, { "quiet", 0, 's' }, { "silent", 0, 's' },
        { "help", 0, DO_HELP }, { "version", 0, DO_VERSION }, { NULL, 0, 0 },
    };
    bool bb = tu_bb(c), list = false, silent = false;
    uint64_t limit = UINT64_MAX, skip[2] = { 0, 0 };
    struct sys_getopt g;
    int o;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, bb ? "ls" : "bi:ln:s", bb ? NULL : longs)) != -1) {
        switch (o) {
        case 'l': list = true; break;
        case 's': silent = true; break;
        case 'b': break;
        case 'i': case 'n':
            if (!tu_size(g.optarg, o == 'n' ? &limit : &skip[0])) {
                sh_errf(c, "cmp: invalid --%s value " TXT_LQ "%s" TXT_RQ "\n",
                        o == 'n' ? "bytes" : "ignore-initial", g.optarg);
                sh_errs(c, "cmp: Try 'cmp --help' for more information.\n");
                return 2;
            }
            if (o == 'i')
                skip[1] = skip[0];
            break;
        case DO_VERSION:
            sh_outs(c, "cmp (GNU diffutils) 3.8\nCopyright (C) 2021 Free Software Foundation, Inc.\n"
                       "License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\n"
                       "This is free software: you are free to change and redistribute it.\n"
                       "There is NO WARRANTY, to the extent permitted by law.\n\n"
                       "Written by Torbjorn Granlund and David MacKenzie.\n");
            return 0;
        case DO_HELP: sh_outs(c, "Usage: cmp [OPTION]... FILE1 [FILE2 [SKIP1 [SKIP2]]]\n"
                                 "Compare two files byte by byte.\n"); return 0;
        default:
            if (bb) {
                sys_usage_bb(c, "cmp", &g, "[-ls] FILE1 [FILE2]\n\nCompare FILE1 with FILE2 (or stdin)\n\n"
                                           "\t-l\tWrite the byte numbers (decimal) and values (octal)\n"
                                           "\t\tfor all differing bytes\n\t-s\tQuiet");
                return 2;
            }
            sys_getopt_msg(c, "cmp", &g);
            sh_errs(c, "cmp: Try 'cmp --help' for more information.\n");
            return 2;
        }
    }
    if (g.noperands < 1 || g.noperands > (bb ? 2 : 4)) {
        if (bb) {
            sys_usage_bb(c, "cmp", NULL, "[-ls] FILE1 [FILE2]\n\nCompare FILE1 with FILE2 (or stdin)\n\n"
                                         "\t-l\tWrite the byte numbers (decimal) and values (octal)\n"
                                         "\t\tfor all differing bytes\n\t-s\tQuiet");
            return 2;
        }
        if (g.noperands < 1)
            sh_errf(c, "cmp: missing operand after " TXT_LQ "%s" TXT_RQ "\n", c->argv[c->argc - 1]);
        else
            sh_errf(c, "cmp: extra operand " TXT_LQ "%s" TXT_RQ "\n", g.operands[4]);
        sh_errs(c, "cmp: Try 'cmp --help' for more information.\n");
        return 2;
    }
    for (int k = 2; k < g.noperands; k++)
        if (!tu_size(g.operands[k], &skip[k - 2])) {
            sh_errf(c, "cmp: invalid --ignore-initial value " TXT_LQ "%s" TXT_RQ "\n", g.operands[k]);
            sh_errs(c, "cmp: Try 'cmp --help' for more information.\n");
            return 2;
        }
    const char *name[2] = { g.operands[0], g.noperands > 1 ? g.operands[1] : "-" };
    struct hp_buf b[2] = { { 0 }, { 0 } };
    const uint8_t *d[2];
    size_t n[2];
    bool used = false;
    int rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++) {
        int r = txt_load(c, name[k], &used, &b[k], &d[k], &n[k]);
        if (r < 0) {
            tu_ferr(c, "cmp", name[k], r, true);
            rc = 2;
        }
        size_t s = skip[k] < n[k] ? (size_t)skip[k] : n[k];
        d[k] += s;
        n[k] -= s;
    }
    if (rc) {
        hp_buf_free(&b[0]);
        hp_buf_free(&b[1]);
        return rc;
    }
    size_t m = n[0] < n[1] ? n[0] : n[1];
    if (limit < m)
        m = (size_t)limit;
    int width = 1;
    for (size_t v = m; v >= 10; v /= 10)
        width++;
    struct txt_out out;
    txt_out_init(&out, c);
    size_t line = 1, i;
    for (i = 0; i < m; i++) {
        if (d[0][i] != d[1][i]) {
            rc = 1;
            if (silent)
                break;
            if (!list) {
                txt_printf(&out, "%s %s differ: %s %zu, line %zu\n", name[0], name[1], bb ? "char" : "byte",
                           i + 1, line);
                break;
            }
            if (bb)
                txt_printf(&out, "%zu %3o %3o\n", i + 1, d[0][i], d[1][i]);
            else
                txt_printf(&out, "%*zu %3o %3o\n", width, i + 1, d[0][i], d[1][i]);
        }
        line += d[0][i] == '\n';
    }
    txt_out_done(&out);
    bool eof = (rc == 0 || list) && n[0] != n[1] && m < limit && i == m;
    if (eof) {
        rc = 1;
        const char *shorter = n[0] < n[1] ? name[0] : name[1];
        if (silent)
            ;
        else if (bb)
            sh_errf(c, "cmp: EOF on %s\n", shorter);
        else if (m == 0)
            sh_errf(c, "cmp: EOF on %s which is empty\n", shorter);
        else if (list)
            sh_errf(c, "cmp: EOF on %s after byte %zu\n", shorter, m);
        else
            sh_errf(c, "cmp: EOF on %s after byte %zu, line %zu\n", shorter, m,
                    line - (d[0][m - 1] == '\n'));
    }
    hp_buf_free(&b[0]);
    hp_buf_free(&b[1]);
    return rc;
}

/* ==== diff ======================================================================== */

#define DIFF_LINES_MAX 100000            /* lines of one input */
#define DIFF_CELLS_MAX (2001u * 2001u)   /* LCS table, after the common ends are cut */

struct dhunk {
    size_t a0, a1, b0, b1;                /* [a0, a1) of A became [b0, b1) of B */
};

struct diff {
    struct sh_cmd *c;
    struct txt_out out;
    bool bb;
    struct tu_lines l[2];
    const char *name[2];
    bool labelled[2];             /* -L: the label replaces name and time */
    struct dhunk *h;
    size_t nh;
};

static bool diff_eq(const struct diff *df, size_t i, size_t j)
{
    const struct tu_lines *a = &df->l[0], *b = &df->l[1];
    bool ai = i + 1 == a->count && !a->last_nl, bj = j + 1 == b->count && !b->last_nl;
    return a->n[i] == b->n[j] && ai == bj && memcmp(a->p[i], b->p[j], a->n[i]) == 0;
}

/* Hunks from an LCS of the middle (common head and tail cut first); false
 * when the table would be too big. */
static bool diff_compute(struct diff *df)
{
    size_t na = df->l[0].count, nb = df->l[1].count, p = 0, s = 0;
    while (p < na && p < nb && diff_eq(df, p, p))
        p++;
    while (s < na - p && s < nb - p && diff_eq(df, na - 1 - s, nb - 1 - s))
        s++;
    size_t m = na - p - s, n = nb - p - s;
    if ((m + 1) > DIFF_CELLS_MAX / (n + 1))
        return false;
    uint16_t *L = calloc((m + 1) * (n + 1), sizeof(*L));
    df->h = calloc(m + n + 1, sizeof(*df->h));
    if (!L || !df->h) {
        free(L);
        return false;
    }
#define LCS(i, j) L[(i) * (n + 1) + (j)]
    for (size_t i = m; i-- > 0;)
        for (size_t j = n; j-- > 0;)
            LCS(i, j) = diff_eq(df, p + i, p + j) ? (uint16_t)(LCS(i + 1, j + 1) + 1)
                        : LCS(i + 1, j) >= LCS(i, j + 1) ? LCS(i + 1, j) : LCS(i, j + 1);
    size_t i = 0, j = 0;
    while (i < m || j < n) {
        if (i < m && j < n && diff_eq(df, p + i, p + j)) {
            i++, j++;
            continue;
        }
        struct dhunk h = { p + i, p + i, p + j, p + j };
        while ((i < m || j < n) && !(i < m && j < n && diff_eq(df, p + i, p + j))) {
            if (j >= n || (i < m && LCS(i + 1, j) >= LCS(i, j + 1)))
                h.a1 = p + ++i;
            else
                h.b1 = p + ++j;
        }
        df->h[df->nh++] = h;
    }
#undef LCS
    free(L);
    return true;
}

static void diff_text(struct diff *df, int f, size_t k, const char *prefix)
{
    txt_puts(&df->out, prefix);
    txt_put(&df->out, df->l[f].p[k], df->l[f].n[k]);
    txt_putc(&df->out, '\n');
    if (k + 1 == df->l[f].count && !df->l[f].last_nl)
        txt_puts(&df->out, "\\ No newline at end of file\n");
}

static void diff_range(struct diff *df, size_t a, size_t b, char sep)
{
    if (b - a == 1 || (b == a && sep == ','))
        txt_printf(&df->out, "%zu", b == a ? a : b);
    else if (sep == ',')
        txt_printf(&df->out, "%zu,%zu", a + 1, b);
    else if (b == a)
        txt_printf(&df->out, "%zu,0", a);
    else
        txt_printf(&df->out, "%zu,%zu", a + 1, b - a);
}

static void diff_normal(struct diff *df)
{
    for (size_t k = 0; k < df->nh; k++) {
        const struct dhunk *h = &df->h[k];
        char op = h->a0 == h->a1 ? 'a' : h->b0 == h->b1 ? 'd' : 'c';
        diff_range(df, h->a0, h->a1, ',');
        txt_putc(&df->out, op);
        diff_range(df, h->b0, h->b1, ',');
        txt_putc(&df->out, '\n');
        for (size_t i = h->a0; i < h->a1; i++)
            diff_text(df, 0, i, "< ");
        if (op == 'c')
            txt_puts(&df->out, "---\n");
        for (size_t j = h->b0; j < h->b1; j++)
            diff_text(df, 1, j, "> ");
    }
}

static void diff_stamp(struct diff *df, int f, char *out, size_t n)
{
    struct sh_stat st;
    char path[4096];
    int64_t t = df->c->now_s;
    if (strcmp(df->name[f], "-") != 0 && sh_path(df->c, df->name[f], path, sizeof(path)) == 0 && df->c->fs &&
        sh_vfs_stat(df->c->fs, path, true, &st) == 0)
        t = st.mtime;
    struct tm tm;
    sys_gmtime(t, &tm);
    strftime(out, n, "%Y-%m-%d %H:%M:%S.000000000 +0000", &tm);
}

static void diff_unified(struct diff *df, size_t ctx)
{
    char ts[2][64];
    diff_stamp(df, 0, ts[0], sizeof(ts[0]));
    diff_stamp(df, 1, ts[1], sizeof(ts[1]));
    for (int f = 0; f < 2; f++) {
        if (df->bb || df->labelled[f])
            txt_printf(&df->out, "%s %s\n", f ? "+++" : "---", df->name[f]);
        else
            txt_printf(&df->out, "%s %s\t%s\n", f ? "+++" : "---", df->name[f], ts[f]);
    }
    for (size_t k = 0; k < df->nh;) {
        size_t e = k;             /* the hunks of one group: gaps of at most 2 * ctx lines */
        while (e + 1 < df->nh && df->h[e + 1].a0 - df->h[e].a1 <= 2 * ctx)
            e++;
        size_t a0 = df->h[k].a0 > ctx ? df->h[k].a0 - ctx : 0, b0 = df->h[k].b0 > ctx ? df->h[k].b0 - ctx : 0;
        size_t a1 = df->h[e].a1 + ctx < df->l[0].count ? df->h[e].a1 + ctx : df->l[0].count;
        size_t b1 = df->h[e].b1 + ctx < df->l[1].count ? df->h[e].b1 + ctx : df->l[1].count;
        txt_puts(&df->out, "@@ -");
        diff_range(df, a0, a1, ' ');
        txt_puts(&df->out, " +");
        diff_range(df, b0, b1, ' ');
        txt_puts(&df->out, " @@\n");
        size_t i = a0;
        for (size_t q = k; q <= e; q++) {
            for (; i < df->h[q].a0; i++)
                diff_text(df, 0, i, " ");
            for (; i < df->h[q].a1; i++)
                diff_text(df, 0, i, "-");
            for (size_t j = df->h[q].b0; j < df->h[q].b1; j++)
                diff_text(df, 1, j, "+");
        }
        for (; i < a1; i++)
            diff_text(df, 0, i, " ");
        k = e + 1;
    }
}

/* The file to compare for operand k: DIR/base(other) when k names a directory. */
static int diff_open(struct diff *df, int k, char *alt, size_t altn, struct hp_buf *b, bool *used)
{
    struct sh_cmd *c = df->c;
    char path[4096];
    struct sh_stat st;
    const uint8_t *d;
    size_t n;
    if (strcmp(df->name[k], "-") != 0) {
        int r = sh_path(c, df->name[k], path, sizeof(path));
        if (r == 0)
            r = c->fs ? sh_vfs_stat(c->fs, path, true, &st) : -ENOENT;
        if (r < 0)
            return r;
        if (st.type == SH_FT_DIR) {
            const char *o = df->name[1 - k], *slash = strrchr(o, '/');
            size_t l = strlen(df->name[k]);
            snprintf(alt, altn, "%s%s%s", df->name[k], l && df->name[k][l - 1] == '/' ? "" : "/",
                     slash ? slash + 1 : o);
            df->name[k] = alt;
        }
    }
    int r = txt_load(c, df->name[k], used, b, &d, &n);
    if (r < 0)
        return r;
    if (memchr(d, '\0', n))
        return 1;                 /* binary */
    if (!tu_split(d, n, DIFF_LINES_MAX, &df->l[k]))
        return -ENOMEM;
    return 0;
}

static const char diff_bb_usage[] =
    "[-abBdiNqrTstw] [-L LABEL] [-S FILE] [-U LINES] FILE1 FILE2\n\n"
    "Compare files line by line and output the differences between them.\n"
    "This implementation supports unified diffs only.\n\n"
    "\t-a\tTreat all files as text\n\t-b\tIgnore changes in the amount of whitespace\n"
    "\t-B\tIgnore changes whose lines are all blank\n\t-d\tTry hard to find a smaller set of changes\n"
    "\t-i\tIgnore case differences\n\t-L\tUse LABEL instead of the filename in the unified header\n"
    "\t-N\tTreat absent files as empty\n\t-q\tOutput only whether files differ\n"
    "\t-r\tRecurse\n\t-S\tStart with FILE when comparing directories\n"
    "\t-T\tMake tabs line up by prefixing a tab when necessary\n"
    "\t-s\tReport when two files are the same\n\t-t\tExpand tabs to spaces in output\n"
    "\t-U\tOutput LINES lines of context\n\t-w\tIgnore all whitespace";

static int cmd_diff(struct sh_cmd *c)
{
    static const struct sys_longopt longs[] = {
        { "unified", 2, 'U' }, { "brief", 0, 'q' }, { "report-identical-files", 0, 's' },
        { "new-file", 0, 'N' }, { "text", 0, 'a' }, { "recursive", 0, 'r' }, { "label", 1, 'L' },
        { "ignore-case", 0, 'i' }, { "ignore-all-space", 0, 'w' }, { "ignore-space-change", 0, 'b' },
        { "help", 0, DO_HELP }, { "version", 0, DO_VERSION }, { NULL, 0, 0 },
    };
    struct diff df = { .c = c, .bb = tu_bb(c) };
    bool unified = df.bb, brief = false, same = false;
    long ctx = 3;
    const char *label[2] = { NULL, NULL };
    struct sys_getopt g;
    int o;
    sys_getopt_init(&g, c->argc, c->argv, false);
    while ((o = sys_getopt(&g, df.bb ? "abdiL:NqrsS:tTU:wup" : "abBdiL:NqrsS:tTU:wupc", df.bb ? NULL : longs)) != -1) {
        switch (o) {
        case 'u': unified = true; break;
        case 'U':
            unified = true;
            if (g.optarg && (!sh_parse_long(g.optarg, &ctx) || ctx < 0 || ctx > 100000)) {
                sh_errf(c, "diff: invalid context length " TXT_LQ "%s" TXT_RQ "\n", g.optarg);
                sh_errs(c, "diff: Try 'diff --help' for more information.\n");
                return 2;
            }
            break;
        case 'q': brief = true; break;
        case 's': same = true; break;
        case 'L':
            if (label[0])
                label[1] = g.optarg;
            else
                label[0] = g.optarg;
            break;
        case DO_VERSION:
            sh_outs(c, "diff (GNU diffutils) 3.8\nCopyright (C) 2021 Free Software Foundation, Inc.\n"
                       "License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.\n"
                       "This is free software: you are free to change and redistribute it.\n"
                       "There is NO WARRANTY, to the extent permitted by law.\n\n"
                       "Written by Paul Eggert, Mike Haertel, David Hayes,\n"
                       "Richard Stallman, and Len Tower.\n");
            return 0;
        case DO_HELP: sh_outs(c, "Usage: diff [OPTION]... FILES\nCompare FILES line by line.\n"); return 0;
        case '?': case ':':
            if (df.bb)
                return sys_usage_bb(c, "diff", &g, diff_bb_usage);
            sys_getopt_msg(c, "diff", &g);
            sh_errs(c, "diff: Try 'diff --help' for more information.\n");
            return 2;
        default: break;           /* whitespace and case options: compared exactly */
        }
    }
    if (g.noperands != 2) {
        if (df.bb)
            return sys_usage_bb(c, "diff", NULL, diff_bb_usage);
        if (g.noperands > 2)
            sh_errf(c, "diff: extra operand " TXT_LQ "%s" TXT_RQ "\n", g.operands[2]);
        else
            sh_errf(c, "diff: missing operand after " TXT_LQ "%s" TXT_RQ "\n", c->argv[c->argc - 1]);
        sh_errs(c, "diff: Try 'diff --help' for more information.\n");
        return 2;
    }
    df.name[0] = g.operands[0];
    df.name[1] = g.operands[1];
    struct hp_buf b[2] = { { 0 }, { 0 } };
    char alt[2][4200];
    bool used = false, binary = false;
    int rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++) {
        int r = diff_open(&df, k, alt[k], sizeof(alt[k]), &b[k], &used);
        if (r == -ENOMEM) {
            sh_errs(c, df.bb ? "diff: out of memory\n" : "diff: memory exhausted\n");
            rc = df.bb ? 1 : 2;
        } else if (r < 0) {
            if (df.bb)
                sh_errf(c, "diff: can't stat '%s': %s\n", df.name[k], sh_strerror(r));
            else
                sh_errf(c, "diff: %s: %s\n", df.name[k], sh_strerror(r));
            rc = 2;
        }
        binary = binary || r == 1;
    }
    bool differ = rc == 0 && (b[0].len != b[1].len || (b[0].len && memcmp(b[0].data, b[1].data, b[0].len)));
    txt_out_init(&df.out, c);
    if (rc == 0 && differ) {
        rc = 1;
        if (binary && df.bb)
            txt_printf(&df.out, "Files %s and %s differ\n", df.name[0], df.name[1]);
        else if (binary)
            txt_printf(&df.out, "Binary files %s and %s differ\n", df.name[0], df.name[1]);
        else if (brief)
            txt_printf(&df.out, "Files %s and %s differ\n", df.name[0], df.name[1]);
        else if (!diff_compute(&df)) {
            txt_flush(&df.out);
            sh_errs(c, df.bb ? "diff: out of memory\n" : "diff: memory exhausted\n");
            rc = df.bb ? 1 : 2;
        } else {
            const char *shown[2] = { df.name[0], df.name[1] };
            for (int k = 0; k < 2; k++) {
                df.name[k] = label[k] ? label[k] : shown[k];
                df.labelled[k] = label[k] != NULL;
            }
            if (unified)
                diff_unified(&df, (size_t)ctx);
            else
                diff_normal(&df);
        }
    } else if (rc == 0 && same)
        txt_printf(&df.out, "Files %s and %s are identical\n", df.name[0], df.name[1]);
    txt_out_done(&df.out);
    free(df.h);
    for (int k = 0; k < 2; k++) {
        tu_lines_free(&df.l[k]);
        hp_buf_free(&b[k]);
    }
    return rc;
}

/* ==== registry ===================================================================== */

const struct sh_cmd_def sh_cmds_dump[] = {
    { "cmp", cmd_cmp, false },
    { "diff", cmd_diff, false },
    { "hexdump", cmd_hexdump, false },
    { "od", cmd_od, false },
    { "xxd", cmd_xxd, false },
    { NULL, NULL, false },
};
