/*
 * telnet_opts.c - Telnet stream parser and RFC 1143 option negotiation.
 * See telnet_opts.h.
 *
 * The parser is a byte-level state machine; every state survives the end
 * of a feed, so a peer may cut a sequence anywhere.  What netkit/BSD
 * telnetd does with malformed input is followed where it matters:
 *   - IAC followed by a byte that is not a command: both dropped;
 *   - IAC SE outside a subnegotiation: ignored;
 *   - inside a subnegotiation, IAC followed by anything but IAC or SE ends
 *     the subnegotiation (what was collected is delivered) and the byte is
 *     taken as the command after IAC;
 *   - a subnegotiation longer than HP_TN_SB_MAX is consumed up to its
 *     IAC SE and discarded whole (a decoder never sees a cut one).
 */
#include <string.h>
#include "telnet_opts.h"

enum { ST_DATA, ST_IAC, ST_OPT, ST_SBOPT, ST_SB, ST_SBIAC };

/* q[] layout: bits 0-1 our state, bit 2 our queue (OPPOSITE); bits 3-4 and 5 the peer's. */
#define QSHIFT(local) ((local) ? 0 : 3)

static int qstate(const struct hp_tn *t, bool local, uint8_t opt)
{
    return (t->q[opt] >> QSHIFT(local)) & 3;
}

static bool qqueue(const struct hp_tn *t, bool local, uint8_t opt)
{
    return (t->q[opt] >> (QSHIFT(local) + 2)) & 1;
}

static void qset(struct hp_tn *t, bool local, uint8_t opt, int state, bool opposite)
{
    unsigned sh = QSHIFT(local);
    unsigned v = t->q[opt] & ~(7u << sh);
    v |= ((unsigned)state | (opposite ? 4u : 0u)) << sh;
    t->q[opt] = (uint8_t)v;
}

static bool allowed(const struct hp_tn *t, bool local, uint8_t opt)
{
    const uint32_t *set = local ? t->ok_local : t->ok_remote;
    return (set[opt >> 5] >> (opt & 31)) & 1;
}

void hp_tn_init(struct hp_tn *t, const struct hp_tn_cb *cb, void *arg)
{
    memset(t, 0, sizeof(*t));
    t->cb = cb;
    t->arg = arg;
    t->st = ST_DATA;
    t->cr_nul = true;
}

void hp_tn_allow(struct hp_tn *t, bool local, uint8_t opt)
{
    uint32_t *set = local ? t->ok_local : t->ok_remote;
    set[opt >> 5] |= 1u << (opt & 31);
}

int hp_tn_state(const struct hp_tn *t, bool local, uint8_t opt)
{
    return qstate(t, local, opt);
}

static void send3(struct hp_tn *t, uint8_t verb, uint8_t opt)
{
    uint8_t b[3] = { HP_TN_IAC, verb, opt };
    if (t->cb->send)
        t->cb->send(t->arg, b, sizeof(b));
}

static void notify(struct hp_tn *t, bool local, uint8_t opt, bool enabled)
{
    if (t->cb->opt)
        t->cb->opt(t->arg, local, opt, enabled);
}

/* The verbs that ask for (pos) or refuse (neg) an option on the given side. */
static uint8_t verb_for(bool local, bool enable)
{
    if (local)
        return enable ? HP_TN_WILL : HP_TN_WONT;
    return enable ? HP_TN_DO : HP_TN_DONT;
}

/*
 * The peer said it wants the option enabled on the given side: WILL (about
 * its side, local = false) or DO (about ours, local = true).  RFC 1143 §7.
 */
static void got_yes(struct hp_tn *t, bool local, uint8_t opt)
{
    switch (qstate(t, local, opt)) {
    case HP_TNS_NO:
        if (allowed(t, local, opt)) {
            qset(t, local, opt, HP_TNS_YES, false);
            if (!t->quiet)
                send3(t, verb_for(local, true), opt);
            notify(t, local, opt, true);
        } else {
            t->refused++;
            if (!t->quiet)
                send3(t, verb_for(local, false), opt);
        }
        break;
    case HP_TNS_YES:
        break;                                  /* already: an answer is not answered */
    case HP_TNS_WANTNO:
        if (qqueue(t, local, opt)) {            /* we had queued a re-enable: take it */
            qset(t, local, opt, HP_TNS_YES, false);
            notify(t, local, opt, true);
        } else {                                /* "DONT answered by WILL": peer is wrong */
            qset(t, local, opt, HP_TNS_NO, false);
            notify(t, local, opt, false);
        }
        break;
    case HP_TNS_WANTYES:
        if (qqueue(t, local, opt)) {            /* we changed our mind meanwhile */
            qset(t, local, opt, HP_TNS_WANTNO, false);
            send3(t, verb_for(local, false), opt);
        } else {
            qset(t, local, opt, HP_TNS_YES, false);
            notify(t, local, opt, true);
        }
        break;
    }
}

/* WONT (peer's side) or DONT (ours). */
static void got_no(struct hp_tn *t, bool local, uint8_t opt)
{
    switch (qstate(t, local, opt)) {
    case HP_TNS_NO:
        break;
    case HP_TNS_YES:
        qset(t, local, opt, HP_TNS_NO, false);
        if (!t->quiet)
            send3(t, verb_for(local, false), opt);
        notify(t, local, opt, false);
        break;
    case HP_TNS_WANTNO:
        if (qqueue(t, local, opt)) {
            qset(t, local, opt, HP_TNS_WANTYES, false);
            send3(t, verb_for(local, true), opt);
        } else {
            qset(t, local, opt, HP_TNS_NO, false);
            notify(t, local, opt, false);
        }
        break;
    case HP_TNS_WANTYES:
        qset(t, local, opt, HP_TNS_NO, false);
        notify(t, local, opt, false);          /* refused */
        break;
    }
}

bool hp_tn_request(struct hp_tn *t, bool local, uint8_t opt, bool enable)
{
    int s = qstate(t, local, opt);
    bool queued = qqueue(t, local, opt);
    if (enable) {
        switch (s) {
        case HP_TNS_NO:
            qset(t, local, opt, HP_TNS_WANTYES, false);
            send3(t, verb_for(local, true), opt);
            return true;
        case HP_TNS_WANTNO:
            if (!queued)
                qset(t, local, opt, HP_TNS_WANTNO, true);
            return false;
        case HP_TNS_WANTYES:
            if (queued)
                qset(t, local, opt, HP_TNS_WANTYES, false);
            return false;
        default:
            return false;
        }
    }
    switch (s) {
    case HP_TNS_YES:
        qset(t, local, opt, HP_TNS_WANTNO, false);
        send3(t, verb_for(local, false), opt);
        return true;
    case HP_TNS_WANTNO:
        if (queued)
            qset(t, local, opt, HP_TNS_WANTNO, false);
        return false;
    case HP_TNS_WANTYES:
        if (!queued)
            qset(t, local, opt, HP_TNS_WANTYES, true);
        return false;
    default:
        return false;
    }
}

static void negotiate(struct hp_tn *t, uint8_t verb, uint8_t opt)
{
    if (opt == HP_TNO_TM) {
        /* TIMING-MARK (RFC 860) is a one-shot mark, not a state: answer DO TM
         * with WILL TM once everything before it was processed (which it
         * is), leave the state alone, and ignore the rest, as telnetd does. */
        if (verb == HP_TN_DO && !t->quiet)
            send3(t, HP_TN_WILL, opt);
        return;
    }
    switch (verb) {
    case HP_TN_WILL: got_yes(t, false, opt); break;
    case HP_TN_WONT: got_no(t, false, opt); break;
    case HP_TN_DO:   got_yes(t, true, opt); break;
    case HP_TN_DONT: got_no(t, true, opt); break;
    }
}

static void sb_put(struct hp_tn *t, const uint8_t *p, size_t n)
{
    if (t->sb_overflow)
        return;
    if (n > (size_t)(HP_TN_SB_MAX - t->sb_len)) {
        t->sb_overflow = true;
        return;
    }
    memcpy(t->sb + t->sb_len, p, n);
    t->sb_len = (uint16_t)(t->sb_len + n);
}

static void sb_done(struct hp_tn *t)
{
    if (t->sb_overflow)
        t->sb_discarded++;
    else if (t->cb->sb)
        t->cb->sb(t->arg, t->sb_opt, t->sb, t->sb_len);
    t->sb_len = 0;
    t->sb_overflow = false;
}

static void deliver(struct hp_tn *t, const uint8_t *p, size_t n)
{
    if (n && t->cb->data)
        t->cb->data(t->arg, p, n);
}

void hp_tn_feed(struct hp_tn *t, struct hp_rd *in)
{
    while (hp_rd_left(in) > 0) {
        switch (t->st) {
        case ST_DATA: {
            if (t->cr) {
                int c = hp_rd_peek_u8(in, 0);
                t->cr = false;
                if (c == '\n' || c == 0) {
                    hp_rd_skip(in, 1);
                    continue;
                }
            }
            /* The longest run of plain data, ending at IAC or just after a CR. */
            const uint8_t *p = hp_rd_ptr(in);
            size_t left = hp_rd_left(in), k = 0;
            bool crmode = !hp_tn_enabled(t, false, HP_TNO_BINARY);
            while (k < left && p[k] != HP_TN_IAC && !(crmode && p[k] == '\r'))
                k++;
            if (k < left && p[k] == '\r') {
                k++;
                t->cr = true;
                deliver(t, p, k);
                hp_rd_skip(in, k);
            } else if (k < left) {           /* IAC */
                deliver(t, p, k);
                hp_rd_skip(in, k + 1);
                t->st = ST_IAC;
            } else {
                deliver(t, p, k);
                hp_rd_skip(in, k);
            }
            break;
        }
        case ST_IAC: {
            uint8_t c = hp_rd_u8(in);
            t->st = ST_DATA;
            if (c == HP_TN_IAC) {
                static const uint8_t ff = 0xff;
                deliver(t, &ff, 1);
            } else if (c >= HP_TN_WILL && c <= HP_TN_DONT) {
                t->verb = c;
                t->st = ST_OPT;
            } else if (c == HP_TN_SB) {
                t->st = ST_SBOPT;
            } else if (c == HP_TN_SE) {
                /* stray SE: ignored */
            } else if (c >= HP_TN_EOF) {
                if (t->cb->cmd)
                    t->cb->cmd(t->arg, c);
            }
            /* below 236: not a command, dropped */
            break;
        }
        case ST_OPT: {
            uint8_t opt = hp_rd_u8(in);
            t->st = ST_DATA;
            negotiate(t, t->verb, opt);
            break;
        }
        case ST_SBOPT:
            t->sb_opt = hp_rd_u8(in);
            t->sb_len = 0;
            t->sb_overflow = false;
            t->st = ST_SB;
            break;
        case ST_SB: {
            const uint8_t *p = hp_rd_ptr(in);
            size_t left = hp_rd_left(in), k = 0;
            while (k < left && p[k] != HP_TN_IAC)
                k++;
            sb_put(t, p, k);
            if (k < left) {
                hp_rd_skip(in, k + 1);
                t->st = ST_SBIAC;
            } else {
                hp_rd_skip(in, k);
            }
            break;
        }
        case ST_SBIAC: {
            int c = hp_rd_peek_u8(in, 0);
            if (c == HP_TN_IAC) {
                static const uint8_t ff = 0xff;
                hp_rd_skip(in, 1);
                sb_put(t, &ff, 1);
                t->st = ST_SB;
            } else if (c == HP_TN_SE) {
                hp_rd_skip(in, 1);
                sb_done(t);
                t->st = ST_DATA;
            } else {
                /* Malformed: end the subnegotiation here and read the byte
                 * as the command after IAC (not consumed yet). */
                sb_done(t);
                t->st = ST_IAC;
            }
            break;
        }
        default:
            t->st = ST_DATA;
            break;
        }
    }
}

void hp_tn_send_sb(struct hp_tn *t, uint8_t opt, const uint8_t *p, size_t n)
{
    uint8_t b[2 * HP_TN_SB_MAX + 8];
    size_t k = 0;
    b[k++] = HP_TN_IAC;
    b[k++] = HP_TN_SB;
    b[k++] = opt;
    if (opt == HP_TN_IAC)
        b[k++] = HP_TN_IAC;
    for (size_t i = 0; i < n && i < HP_TN_SB_MAX; i++) {
        b[k++] = p[i];
        if (p[i] == HP_TN_IAC)
            b[k++] = HP_TN_IAC;
    }
    b[k++] = HP_TN_IAC;
    b[k++] = HP_TN_SE;
    if (t->cb->send)
        t->cb->send(t->arg, b, k);
}

void hp_tn_write(struct hp_tn *t, const void *data, size_t n)
{
    const uint8_t *p = data;
    uint8_t b[2048];
    size_t k = 0;
    bool raw = !t->cr_nul || hp_tn_enabled(t, true, HP_TNO_BINARY);
    for (size_t i = 0; i < n; i++) {
        if (k + 3 > sizeof(b)) {
            if (t->cb->send)
                t->cb->send(t->arg, b, k);
            k = 0;
        }
        uint8_t c = p[i];
        if (t->out_cr && !raw && c != '\n')
            b[k++] = '\0';                      /* bare CR goes out as CR NUL */
        t->out_cr = c == '\r';
        b[k++] = c;
        if (c == HP_TN_IAC)
            b[k++] = HP_TN_IAC;
    }
    if (k && t->cb->send)
        t->cb->send(t->arg, b, k);
}

/* ---- decoders ----------------------------------------------------------------------- */

bool hp_tn_naws(const uint8_t *sb, size_t n, unsigned *width, unsigned *height)
{
    struct hp_rd r;
    hp_rd_init(&r, sb, n);
    uint16_t w = hp_rd_u16be(&r);
    uint16_t h = hp_rd_u16be(&r);
    if (!hp_rd_ok(&r))
        return false;
    *width = w;
    *height = h;
    return true;
}

bool hp_tn_ttype_is(const uint8_t *sb, size_t n, const uint8_t **name, size_t *len)
{
    struct hp_rd r;
    hp_rd_init(&r, sb, n);
    if (hp_rd_u8(&r) != HP_TNQ_IS || !hp_rd_ok(&r))
        return false;
    *len = hp_rd_left(&r);
    *name = hp_rd_bytes(&r, *len);
    return *name != NULL || *len == 0;
}

int hp_tn_environ(const uint8_t *sb, size_t n, hp_tn_env_fn fn, void *arg)
{
    struct hp_rd r;
    uint8_t name[HP_TN_SB_MAX], value[HP_TN_SB_MAX];
    if (n > HP_TN_SB_MAX)               /* what cb->sb delivers never is */
        n = HP_TN_SB_MAX;
    hp_rd_init(&r, sb, n);
    uint8_t q = hp_rd_u8(&r);
    if (!hp_rd_ok(&r) || (q != HP_TNQ_IS && q != HP_TNQ_INFO))
        return -1;
    int count = 0;
    /* Anything before the first VAR/USERVAR is not a variable: skip it. */
    while (hp_rd_left(&r) > 0) {
        int c = hp_rd_peek_u8(&r, 0);
        if (c == HP_TNE_VAR || c == HP_TNE_USERVAR)
            break;
        hp_rd_skip(&r, 1);
        if (c == HP_TNE_ESC)
            hp_rd_skip(&r, hp_rd_left(&r) ? 1 : 0);
    }
    while (hp_rd_left(&r) > 0) {
        int kind = hp_rd_u8(&r);                /* VAR or USERVAR (see the loops) */
        size_t nl = 0, vl = 0;
        bool has_value = false, in_value = false;
        while (hp_rd_left(&r) > 0) {
            int c = hp_rd_peek_u8(&r, 0);
            if (c == HP_TNE_VAR || c == HP_TNE_USERVAR)
                break;                          /* next variable */
            hp_rd_skip(&r, 1);
            if (c == HP_TNE_VALUE && !in_value) {
                in_value = has_value = true;
                continue;
            }
            if (c == HP_TNE_ESC) {
                if (hp_rd_left(&r) == 0)
                    break;                      /* ESC at the very end: nothing to escape */
                c = hp_rd_u8(&r);
            }
            /* A second VALUE inside a value is taken literally. */
            if (in_value)
                value[vl++] = (uint8_t)c;
            else
                name[nl++] = (uint8_t)c;
        }
        count++;
        if (fn)
            fn(arg, kind, name, nl, value, vl, has_value);
    }
    return count;
}
