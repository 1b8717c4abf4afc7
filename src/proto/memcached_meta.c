/*
 * memcached_meta.c - the meta commands of memcached 1.6: mn mg ms md ma me.
 *
 * Newer clients (and scanners checking for 1.6) speak them.  Each is a
 * command, a key and single-letter flags; answered as 1.6.18 does:
 *
 *   mn         MN
 *   mg         EN on a miss (nothing under q), else HD or VA <len> (v) with
 *              the flags asked echoed in order: O(opaque) k(key) s(size)
 *              f(flags) t(ttl) c(cas); T<ttl> touches
 *   ms         ms KEY BYTES, then the data block as a set's: T F C and
 *              M<mode> (E add, A append, P prepend, R replace; else set);
 *              answered HD NS EX NF (HD silent under q)
 *   md         HD or NF (HD silent under q)
 *   ma         incr (MD/M-: decr) by D<delta>, default 1; HD, NF or VA (v)
 *   me         the item's metadata line, or EN
 *
 * A flag given twice is refused before anything is done, as the server
 * refuses it ("CLIENT_ERROR duplicate flag"; md and ma: "CLIENT_ERROR invalid
 * or duplicate flag"; ms swallows its data block first); other flags are
 * taken and ignored.  The data block of ms and its limits are memcached.c's
 * (the same item size rule and pending-data budget).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "memcached_int.h"
#include "util.h"

/* An `ms` answer: HD NS EX NF with the flags it echoes (q: no HD) */
void mc_meta_stored(struct hp_mc_sess *s, const char *answer)
{
    static const char *const map[][2] = { { "STORED", "HD" }, { "NOT_STORED", "NS" }, { "EXISTS", "EX" },
                                          { "NOT_FOUND", "NF" } };
    s->meta = false;
    for (size_t i = 0; i < HP_ARRAY_LEN(map); i++) {
        if (strcmp(answer, map[i][0]) != 0)
            continue;
        if (i > 0)
            s->noreply = false;
        char line[128];
        snprintf(line, sizeof(line), "%s%s", map[i][1], s->meta_ret);
        mc_line(s, line);
        return;
    }
    s->noreply = false;
    mc_line(s, answer);
}

/* ---- the meta protocol (1.6: mn mg ms md ma me) ---------------------------------- */

/* Append the flags mg/md/ma/ms echo, in the order asked: O(opaque) k(key),
 * and for a hit s(size) f(flags) t(ttl) c(cas). */
static void meta_flags(struct hp_buf *o, const struct mc_tok *tok, size_t ntok, const struct mc_item *it)
{
    int64_t now = mc_now();
    for (size_t i = 2; i < ntok; i++) {
        const struct mc_tok *f = &tok[i];
        switch (f->p[0]) {
        case 'O':
            hp_buf_printf(o, " %.*s", (int)(f->n > 33 ? 33 : f->n), f->p);
            break;
        case 'k':
            hp_buf_printf(o, " k%.*s", (int)tok[1].n, tok[1].p);
            break;
        case 's':
            if (it)
                hp_buf_printf(o, " s%zu", it->len);
            break;
        case 'f':
            if (it)
                hp_buf_printf(o, " f%" PRIu32, it->flags);
            break;
        case 't':
            if (it)
                hp_buf_printf(o, " t%" PRId64, it->expires ? it->expires - now : -1);
            break;
        case 'c':
            if (it)
                hp_buf_printf(o, " c%" PRIu64, it->cas);
            break;
        default:
            break;
        }
    }
}

/* memcached (_meta_flag_preparse) refuses a flag given twice, or one whose
 * first byte is past 126, before it answers: the flags echoed are then one
 * of each.  Taking repeats let "md <250-byte key> k k k k k" overrun the
 * 1 KiB answer, which went out cut and without its CRLF. */
static bool meta_repeated(const struct mc_tok *tok, size_t ntok, size_t from)
{
    bool seen[127] = { false };
    for (size_t i = from; i < ntok; i++) {
        uint8_t o = (uint8_t)tok[i].p[0];
        if (o >= 127 || seen[o])
            return true;
        seen[o] = true;
    }
    return false;
}

static bool meta_has(const struct mc_tok *tok, size_t ntok, char flag)
{
    for (size_t i = 2; i < ntok; i++)
        if (tok[i].p[0] == flag)
            return true;
    return false;
}

/* The value of a flag such as T30 or D5, false when absent or not a number. */
static bool meta_num(const struct mc_tok *tok, size_t ntok, char flag, int64_t *v)
{
    for (size_t i = 2; i < ntok; i++) {
        if (tok[i].p[0] != flag)
            continue;
        struct mc_tok t = { tok[i].p + 1, tok[i].n - 1 };
        uint64_t u;
        int32_t x;
        if (flag == 'D' || flag == 'J') {
            if (!mc_tok_u64(&t, &u))
                return false;
            *v = (int64_t)u;
        } else {
            if (!mc_tok_i32(&t, &x))
                return false;
            *v = x;
        }
        return true;
    }
    return false;
}

static void meta_get(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok, const char *key)
{
    struct mc_item *it = mc_find(key);
    mc_db.cmd_get++;
    if (!it) {
        mc_db.get_misses++;
        if (!meta_has(tok, ntok, 'q'))
            mc_line(s, "EN");
        return;
    }
    mc_db.get_hits++;
    int64_t ttl;
    if (meta_num(tok, ntok, 'T', &ttl))
        it->expires = mc_expires(ttl);
    struct hp_buf o;
    hp_buf_init(&o, HP_MC_ITEM_MAX + 1024);
    bool v = meta_has(tok, ntok, 'v');
    if (v)
        hp_buf_printf(&o, "VA %zu", it->len);
    else
        hp_buf_puts(&o, "HD");
    meta_flags(&o, tok, ntok, it);
    hp_buf_puts(&o, "\r\n");
    if (v) {
        hp_buf_put(&o, it->val + it->off, it->len);
        hp_buf_puts(&o, "\r\n");
    }
    it->atime = mc_now();
    it->fetched = true;
    mc_send(s, &o);
    hp_buf_free(&o);
}

static void meta_answer(struct hp_mc_sess *s, const char *word, const struct mc_tok *tok, size_t ntok,
                        const struct mc_item *it)
{
    struct hp_buf o;
    hp_buf_init(&o, 1024);
    hp_buf_puts(&o, word);
    meta_flags(&o, tok, ntok, it);
    hp_buf_puts(&o, "\r\n");
    mc_send(s, &o);
    hp_buf_free(&o);
}

static void meta_delete(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok, const char *key)
{
    struct mc_item *it = mc_find(key);
    if (it) {
        mc_db.delete_hits++;
        mc_drop(it);
    } else {
        mc_db.delete_misses++;
    }
    if (it && meta_has(tok, ntok, 'q'))
        return;
    meta_answer(s, it ? "HD" : "NF", tok, ntok, NULL);
}

/* ma KEY [D<delta>] [MI|MD] [v] ...: incr by default */
static void meta_arith(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok, const char *key)
{
    int64_t delta = 1;
    if (meta_has(tok, ntok, 'D') && !meta_num(tok, ntok, 'D', &delta)) {
        mc_line(s, "CLIENT_ERROR invalid numeric delta argument");
        return;
    }
    bool incr = true;
    for (size_t i = 2; i < ntok; i++)
        if (tok[i].p[0] == 'M' && tok[i].n > 1)
            incr = !strchr("Dd-", tok[i].p[1]);
    struct mc_item *it = mc_find(key);
    uint64_t cur;
    if (!it) {
        incr ? mc_db.incr_misses++ : mc_db.decr_misses++;
        meta_answer(s, "NF", tok, ntok, NULL);
        return;
    }
    if (!mc_item_number(it, &cur)) {
        mc_line(s, "CLIENT_ERROR cannot increment or decrement non-numeric value");
        return;
    }
    incr ? mc_db.incr_hits++ : mc_db.decr_hits++;
    cur = incr ? cur + (uint64_t)delta : ((uint64_t)delta > cur ? 0 : cur - (uint64_t)delta);
    char num[24];
    int n = mc_arith_store(it, key, cur, num);
    if (!meta_has(tok, ntok, 'v')) {
        if (!meta_has(tok, ntok, 'q'))
            meta_answer(s, "HD", tok, ntok, it);
        return;
    }
    struct hp_buf o;
    hp_buf_init(&o, 1024);
    hp_buf_printf(&o, "VA %d", n);
    meta_flags(&o, tok, ntok, it);
    hp_buf_printf(&o, "\r\n%s\r\n", num);
    mc_send(s, &o);
    hp_buf_free(&o);
}

/* ms KEY BYTES [T<ttl>] [F<flags>] [M<mode>] [C<cas>] [q] [O..] [k]: the data block follows */
static void meta_set(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok, const char *key)
{
    int32_t bytes;
    int64_t ttl = 0, flags = 0, cas = 0;
    if (ntok < 3 || !mc_tok_i32(&tok[2], &bytes) || bytes < 0 || bytes > INT_MAX - 2) {
        mc_line(s, "CLIENT_ERROR bad command line format");
        return;
    }
    if (meta_repeated(tok, ntok, 3)) {                 /* the data block is swallowed, as the server does */
        mc_swallow(s, (uint64_t)bytes + 2, "CLIENT_ERROR duplicate flag");
        return;
    }
    meta_num(tok, ntok, 'T', &ttl);
    meta_num(tok, ntok, 'F', &flags);
    const char *cmd = meta_num(tok, ntok, 'C', &cas) ? "cas" : "set";
    for (size_t i = 3; i < ntok; i++) {
        if (tok[i].p[0] != 'M' || tok[i].n < 2)
            continue;
        char m = tok[i].p[1];
        cmd = strchr("Ee", m) ? "add" : strchr("Aa", m) ? "append" : strchr("Pp", m) ? "prepend" :
              strchr("Rr", m) ? "replace" : cmd;
    }
    if (mc_item_total(tok[1].n, (uint32_t)flags, (uint64_t)bytes) > HP_MC_ITEM_MAX) {
        mc_db.too_large++;
        mc_swallow(s, (uint64_t)bytes + 2, "SERVER_ERROR object too large for cache");
        return;
    }
    if (!mc_blk_take(s, (uint64_t)bytes)) {
        mc_swallow(s, (uint64_t)bytes + 2, "SERVER_ERROR out of memory storing object");
        return;
    }
    struct hp_buf o;
    hp_buf_init(&o, sizeof(s->meta_ret));
    struct mc_tok sub[MC_MAX_TOKENS];
    size_t nsub = 0;
    for (size_t i = 0; i < ntok; i++)                  /* tokens past the byte count */
        if (i < 2 || i > 2)
            sub[nsub++] = tok[i];
    meta_flags(&o, sub, nsub, NULL);
    snprintf(s->meta_ret, sizeof(s->meta_ret), "%.*s", (int)o.len, o.len ? (const char *)o.data : "");
    hp_buf_free(&o);
    snprintf(s->cmd, sizeof(s->cmd), "%s", cmd);
    memcpy(s->key, key, strlen(key) + 1);
    s->flags = (uint32_t)flags;
    s->exptime = ttl;
    s->cas = (uint64_t)cas;
    s->noreply = meta_has(sub, nsub, 'q');
    s->meta = true;
    s->want_data = true;
}

/* me KEY: the item's metadata, as the debug command prints it */
static void meta_debug(struct hp_mc_sess *s, const char *key)
{
    struct mc_item *it = mc_find(key);
    if (!it) {
        mc_line(s, "EN");
        return;
    }
    struct hp_buf o;
    hp_buf_init(&o, 1024);
    uint64_t total = mc_item_total(strlen(key), it->flags, it->len);
    hp_buf_printf(&o, "ME %s exp=%" PRId64 " la=%" PRId64 " cas=%" PRIu64 " fetch=%s cls=%u size=%" PRIu64 "\r\n",
                  key, it->expires ? it->expires - mc_now() : -1, mc_now() - it->atime, it->cas,
                  it->fetched ? "yes" : "no", mc_slab_class(total), total);
    mc_send(s, &o);
    hp_buf_free(&o);
}

void mc_meta_command(struct hp_mc_sess *s, const struct mc_tok *tok, size_t ntok)
{
    char key[HP_MC_KEY_MAX + 1];
    char op = tok[0].p[1];
    if (op == 'n') {
        mc_line(s, "MN");
        return;
    }
    if (!strchr("gsdae", op) || ntok < 2) {
        mc_line(s, "ERROR");
        return;
    }
    if (!mc_tok_key(&tok[1], key)) {
        mc_line(s, "CLIENT_ERROR bad command line format");
        return;
    }
    if (op != 's' && op != 'e' && meta_repeated(tok, ntok, 2)) {
        mc_line(s, op == 'g' ? "CLIENT_ERROR duplicate flag" : "CLIENT_ERROR invalid or duplicate flag");
        return;
    }
    if (op == 'g')
        meta_get(s, tok, ntok, key);
    else if (op == 's')
        meta_set(s, tok, ntok, key);
    else if (op == 'd')
        meta_delete(s, tok, ntok, key);
    else if (op == 'a')
        meta_arith(s, tok, ntok, key);
    else
        meta_debug(s, key);
}
