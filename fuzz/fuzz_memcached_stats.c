/*
 * fuzz_memcached_stats.c - memcached's stats answers and key listings
 * (src/proto/memcached_stats.c) on a store the input fills.
 *
 * The input is items, each stored with an ASCII set: a control byte (bits
 * 0-1 the expiry: none, 30 days, 2592001 which is a Unix time long past,
 * an hour from now; bit 2 flags; bits 3-7 copies of the item under
 * numbered keys, to fill the store's 256 slots), a key length byte and the
 * key's bytes (blanks and control bytes made 'x', cut at 250 with the
 * copies' suffix), a value length byte.  A 0xff control byte ends the
 * items: what follows is one more line, "stats " and the bytes.  Then
 * every stats sub-command, cachedump and metadump is asked, each alone in
 * a read (again after the extra line, unless that left a data block or
 * watch to take them).  Checked: each answer is whole and ends with its terminator
 * (END, RESET, OK, ERROR or a CLIENT_ERROR line); the lines before END are
 * STAT lines, ITEM lines or metadump's key= lines; cachedump and metadump
 * list exactly the live items (the limit respected); the store's byte and
 * item counts are its items'.
 */
#include <stdio.h>
#include "fuzz_memcached_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool ends_with(const char *term)
{
    size_t n = strlen(term);
    return fmc_out.len >= n && memcmp(fmc_out.data + fmc_out.len - n, term, n) == 0;
}

/* The lines before the final END: each starts with head and ends in eol;
 * returns their count. */
static size_t listing(const char *head, const char *eol)
{
    CHECK(ends_with("END\r\n"));
    const char *o = (const char *)fmc_out.data, *end = o + fmc_out.len - 5;
    size_t k = 0, hl = strlen(head), el = strlen(eol);
    while (o < end) {
        const char *nl = memchr(o, '\n', (size_t)(end - o));
        CHECK(nl && (size_t)(nl + 1 - o) >= hl + el);
        CHECK(memcmp(o, head, hl) == 0 && memcmp(nl + 1 - el, eol, el) == 0);
        o = nl + 1;
        k++;
    }
    return k;
}

static void ask(struct hp_mc_sess *s, const char *line)
{
    hp_buf_reset(&fmc_out);
    fmc_feed(s, (const uint8_t *)line, strlen(line), strlen(line), NULL);
    CHECK(!s->close_reason);
}

static size_t live(void)
{
    static struct mc_item *list[MC_ITEMS];
    return mc_live(list);
}

static void ask_all(struct hp_mc_sess *s)
{
    static const char *const stat_lists[] = { "stats\r\n", "stats settings\r\n", "stats items\r\n",
                                              "stats slabs\r\n", "stats conns\r\n", "stats sizes\r\n",
                                              "stats extstore\r\n", "stats detail dump\r\n" };
    for (size_t i = 0; i < sizeof(stat_lists) / sizeof(stat_lists[0]); i++) {
        ask(s, stat_lists[i]);
        listing("STAT ", "\r\n");
    }
    size_t n = live();
    ask(s, "stats cachedump 1 0\r\n");
    CHECK(listing("ITEM ", " s]\r\n") == n);
    ask(s, "stats cachedump 1 3\r\n");
    CHECK(listing("ITEM ", " s]\r\n") == (n < 3 ? n : 3));
    ask(s, "stats cachedump 2 0\r\n");
    CHECK(listing("ITEM ", " s]\r\n") == 0);
    ask(s, "stats cachedump 64 0\r\n");
    CHECK(ends_with("CLIENT_ERROR Illegal slab id\r\n"));
    ask(s, "lru_crawler metadump all\r\n");
    CHECK(listing("key=", "\n") == n);
    ask(s, "stats detail on\r\n");
    CHECK(ends_with("OK\r\n"));
    ask(s, "lru_crawler crawl all\r\n");
    CHECK(ends_with("OK\r\n"));
    ask(s, "stats reset\r\n");
    CHECK(ends_with("RESET\r\n"));
    ask(s, "stats bogus\r\n");
    CHECK(ends_with("ERROR\r\n"));
}

/* One item (and its copies) as ASCII sets in in; returns the bytes used. */
static size_t item(const uint8_t *p, size_t n, struct hp_buf *in)
{
    static const char *const exps[] = { "0", "2592000", "2592001", "" };
    size_t i = 0;
    uint8_t ctl = p[i++];
    size_t kl = i < n ? p[i++] : 0;
    if (kl > n - i)
        kl = n - i;
    char key[HP_MC_KEY_MAX + 1];
    size_t cut = kl > HP_MC_KEY_MAX - 4 ? HP_MC_KEY_MAX - 4 : kl;
    for (size_t k = 0; k < cut; k++)
        key[k] = p[i + k] > ' ' && p[i + k] != 0x7f ? (char)p[i + k] : 'x';
    key[cut] = '\0';
    if (!cut)
        snprintf(key, sizeof(key), "k");
    i += kl;
    size_t vl = i < n ? p[i++] : 0;
    char exp[24];
    snprintf(exp, sizeof(exp), "%s", exps[ctl & 3]);
    if (!exp[0])
        snprintf(exp, sizeof(exp), "%lld", (long long)mc_now() + 3600);
    for (unsigned c = 0; c <= (unsigned)(ctl >> 3) * 9u; c++) {
        char name[HP_MC_KEY_MAX + 1];
        if (c)
            snprintf(name, sizeof(name), "%s%u", key, c);
        else
            snprintf(name, sizeof(name), "%s", key);
        hp_buf_printf(in, "set %s %u %s %zu\r\n", name, ctl & 4 ? 7u : 0u, exp, vl);
        for (size_t k = 0; k < vl; k++)
            hp_buf_putc(in, (uint8_t)('a' + k % 26));
        hp_buf_puts(in, "\r\n");
    }
    return i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hp_mc_sess s;
    fmc_open(&s);
    struct hp_buf in;
    hp_buf_init(&in, 64u << 20);
    size_t i = 0;
    while (i < size && data[i] != 0xff)
        i += item(data + i, size - i, &in);
    fmc_feed(&s, in.data, in.len, in.len ? in.len : 1, NULL);
    CHECK(!s.close_reason);
    ask_all(&s);
    if (i < size) {
        hp_buf_reset(&in);
        hp_buf_puts(&in, "stats ");
        hp_buf_put(&in, data + i + 1, size - i - 1);
        hp_buf_puts(&in, "\r\n");
        hp_buf_reset(&fmc_out);
        fmc_feed(&s, in.data, in.len, in.len, NULL);
        CHECK(fmc_out.len == 0 || ends_with("\r\n"));
        if (!s.close_reason && !s.want_data && !s.swallow && !s.watching)
            ask_all(&s);                /* unless a data block or watch would take the questions */
    }
    fmc_check_store(true);
    hp_mc_close(&s);
    hp_buf_free(&in);
    return 0;
}
