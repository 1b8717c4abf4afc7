/*
 * sshsniff.c - the SSH identification line and first KEXINIT of one
 * direction, and the HASSH / HASSHServer fingerprints.  See sshsniff.h.
 *
 * Design.  The sniffer is a small state machine fed the raw bytes of one
 * direction in whatever fragments the network delivered them:
 *
 *   VERSION  lines up to the first one starting with "SSH-" (RFC 4253 4.2:
 *            a server may send other lines first).  Lines are collected in
 *            s->buf one at a time and dropped once judged; the whole phase
 *            may take at most HP_SSH_BANNER_MAX bytes.
 *   KEXINIT  the first binary packet (RFC 4253 6: uint32 packet_length,
 *            byte padding_length, payload, padding; no MAC before NEWKEYS).
 *            The header is checked as soon as its bytes are in, so a lying
 *            length or a packet that is not a KEXINIT fails without waiting
 *            for, or buffering, the body.
 *   DONE / FAILED   terminal; later bytes are not looked at.
 *
 * Each step takes from the input only the bytes the current item still
 * needs, so one feed may carry the version, the KEXINIT and more, and the
 * buffer never holds more than one line or one packet (both capped).  All
 * peer bytes are read through hp_rd.
 *
 * Leniency: the sniffer fingerprints what the peer sent, it does not
 * enforce the protocol (libssh does that).  So padding shorter than 4
 * bytes, a packet not a multiple of 8 and bytes after the KEXINIT's
 * reserved field are accepted; what cannot be framed or parsed fails.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "reader.h"
#include "sshsniff.h"

#define SSH_MSG_KEXINIT 20
/* byte 20, cookie, 10 empty name-lists, boolean, reserved */
#define KEXINIT_MIN (1 + 16 + 10 * 4 + 1 + 4)
/* uint32 packet_length, byte padding_length, the message byte */
#define PACKET_HEAD 6

/* ---- KEXINIT payload ---------------------------------------------------- */

int hp_kexinit_parse(const uint8_t *payload, size_t len, struct hp_kexinit *k)
{
    /* RFC 4253 7.1 order of the name-lists */
    struct hp_namelist *lists[10] = {
        &k->kex, &k->hostkey, &k->enc_cs, &k->enc_sc, &k->mac_cs,
        &k->mac_sc, &k->comp_cs, &k->comp_sc, &k->lang_cs, &k->lang_sc,
    };
    struct hp_rd r, sub;

    memset(k, 0, sizeof(*k));
    hp_rd_init(&r, payload, len);
    if (hp_rd_u8(&r) != SSH_MSG_KEXINIT)
        goto bad;
    hp_rd_copy(&r, k->cookie, sizeof(k->cookie));
    for (size_t i = 0; i < 10; i++) {
        hp_rd_sub32be(&r, &sub);
        lists[i]->p = hp_rd_ptr(&sub);
        lists[i]->len = hp_rd_left(&sub);
    }
    k->first_kex_follows = hp_rd_u8(&r) != 0;   /* any non-zero is TRUE (RFC 4251 5) */
    (void)hp_rd_u32be(&r);                       /* reserved */
    if (hp_rd_ok(&r))
        return 0;
bad:
    /* no half-filled result pointing at a payload the caller will discard */
    memset(k, 0, sizeof(*k));
    return -1;
}

/* ---- HASSH ---------------------------------------------------------------- */

/* One piece of the algorithms string, to the buffer and the digest. */
static void hassh_emit(struct hp_buf *algos, EVP_MD_CTX *md, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (algos)
        hp_buf_put(algos, p, n);
    if (md)
        EVP_DigestUpdate(md, p, n);
}

/* Finish the digest as lowercase hex; "" if anything failed. */
static void hassh_hex(EVP_MD_CTX *md, char md5hex[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    md5hex[0] = '\0';
    if (!md || !EVP_DigestFinal_ex(md, d, &n) || n != 16)
        return;
    for (unsigned int i = 0; i < n; i++) {
        md5hex[2 * i] = hex[d[i] >> 4];
        md5hex[2 * i + 1] = hex[d[i] & 15];
    }
    md5hex[32] = '\0';
}

void hp_hassh(const struct hp_kexinit *k, bool server, struct hp_buf *algos, char md5hex[33])
{
    /* salesforce/hassh: kex;enc;mac;comp of the sender's own direction */
    const struct hp_namelist *parts[4] = {
        &k->kex,
        server ? &k->enc_sc : &k->enc_cs,
        server ? &k->mac_sc : &k->mac_cs,
        server ? &k->comp_sc : &k->comp_cs,
    };
    EVP_MD_CTX *md = md5hex ? EVP_MD_CTX_new() : NULL;

    if (md && !EVP_DigestInit_ex(md, EVP_md5(), NULL)) {
        EVP_MD_CTX_free(md);            /* e.g. MD5 not offered by the provider */
        md = NULL;
    }
    if (algos)
        hp_buf_reset(algos);
    for (size_t i = 0; i < 4; i++) {
        if (i)
            hassh_emit(algos, md, ";", 1);
        hassh_emit(algos, md, parts[i]->p, parts[i]->len);
    }
    if (md5hex)
        hassh_hex(md, md5hex);
    EVP_MD_CTX_free(md);
}

/* ---- sniffer: common -------------------------------------------------------- */

void hp_sshsniff_init(struct hp_sshsniff *s)
{
    memset(s, 0, sizeof(*s));
    s->state = HP_SNIFF_VERSION;
    hp_buf_init(&s->buf, HP_SSH_SNIFF_BUF_MAX);
}

void hp_sshsniff_free(struct hp_sshsniff *s)
{
    hp_buf_free(&s->buf);
    free(s->kexinit);
    hp_sshsniff_init(s);            /* safe to free twice or to reuse */
}

/* Terminal failure: release the buffer at once, the peer may keep sending.
 * The version, if seen, is kept: it is still worth logging. */
static void sniff_fail(struct hp_sshsniff *s)
{
    s->state = HP_SNIFF_FAILED;
    hp_buf_free(&s->buf);
}

/* Move n input bytes into the buffer; false (and FAILED) if that fails. */
static bool sniff_take(struct hp_sshsniff *s, struct hp_rd *in, size_t n)
{
    const uint8_t *p = hp_rd_bytes(in, n);
    if (!p || !hp_buf_put(&s->buf, p, n)) {
        sniff_fail(s);
        return false;
    }
    return true;
}

/* ---- sniffer: identification line --------------------------------------- */

/* "SSH-1.x-..." other than 1.99 is SSH-1, which has no KEXINIT to wait for. */
static bool version_is_ssh1(const struct hp_sshsniff *s)
{
    return s->version_len >= 6 && !memcmp(s->version, "SSH-1.", 6) &&
           !(s->version_len >= 9 && !memcmp(s->version + 6, "99-", 3));
}

/* A complete line is in the buffer: keep it if it is the identification. */
static int version_line(struct hp_sshsniff *s)
{
    struct hp_rd r;
    const uint8_t *line;
    size_t n;

    hp_rd_init(&r, s->buf.data, s->buf.len);
    if (!hp_rd_line(&r, s->buf.len, &line, &n) || n < 4 || memcmp(line, "SSH-", 4)) {
        hp_buf_reset(&s->buf);      /* a pre-banner line: drop it */
        return 0;
    }
    s->version_len = n < HP_SSH_VERSION_MAX ? n : HP_SSH_VERSION_MAX;
    memcpy(s->version, line, s->version_len);
    s->version[s->version_len] = '\0';
    hp_buf_reset(&s->buf);
    s->state = HP_SNIFF_KEXINIT;
    if (version_is_ssh1(s))
        sniff_fail(s);
    return HP_SNIFF_GOT_VERSION;
}

/* Take input up to the end of the current line, within the banner budget. */
static int feed_version(struct hp_sshsniff *s, struct hp_rd *in)
{
    size_t room = HP_SSH_BANNER_MAX - s->banner_bytes;
    size_t avail = hp_rd_left(in);
    size_t window = avail < room ? avail : room;
    struct hp_rd win;
    long nl;

    /* search only as far as the budget allows, not the whole input */
    hp_rd_init(&win, hp_rd_ptr(in), window);
    nl = hp_rd_find(&win, "\n", 1);
    if (nl < 0 && avail >= room) {
        sniff_fail(s);              /* no line end within the budget */
        return 0;
    }
    size_t take = nl < 0 ? window : (size_t)nl + 1;
    s->banner_bytes += take;
    if (!sniff_take(s, in, take) || nl < 0)
        return 0;
    return version_line(s);
}

/* ---- sniffer: first binary packet --------------------------------------- */

/* Check as much of the packet header as has arrived: -1 if it cannot
 * frame a KEXINIT. */
static int packet_head_check(const struct hp_buf *b)
{
    struct hp_rd r;
    uint32_t plen = 0;

    hp_rd_init(&r, b->data, b->len);
    if (b->len >= 4) {
        plen = hp_rd_u32be(&r);
        if (plen < 1 + KEXINIT_MIN || plen > HP_SSH_PACKET_MAX)
            return -1;
    }
    if (b->len >= 5 && hp_rd_u8(&r) > plen - 1 - KEXINIT_MIN)
        return -1;                  /* padding leaves no room for a KEXINIT */
    if (b->len >= 6 && hp_rd_u8(&r) != SSH_MSG_KEXINIT)
        return -1;
    return 0;
}

/* Total bytes the buffer must hold: the header, then the whole packet. */
static size_t packet_goal(const struct hp_buf *b)
{
    struct hp_rd r;

    if (b->len < PACKET_HEAD)
        return PACKET_HEAD;
    hp_rd_init(&r, b->data, b->len);
    return 4 + (size_t)hp_rd_u32be(&r);      /* checked by packet_head_check */
}

/* The whole packet is buffered: copy the payload out and parse it. */
static int packet_done(struct hp_sshsniff *s)
{
    struct hp_rd r;

    hp_rd_init(&r, s->buf.data, s->buf.len);
    size_t plen = hp_rd_u32be(&r);
    size_t pad = hp_rd_u8(&r);
    size_t n = plen - 1 - pad;               /* >= KEXINIT_MIN, see the head check */
    const uint8_t *payload = hp_rd_bytes(&r, n);

    s->kexinit = payload ? malloc(n) : NULL;
    if (!s->kexinit) {
        sniff_fail(s);
        return 0;
    }
    memcpy(s->kexinit, payload, n);
    s->kexinit_len = n;
    hp_buf_free(&s->buf);                    /* nothing more will be buffered */
    if (hp_kexinit_parse(s->kexinit, n, &s->kex) < 0) {
        free(s->kexinit);
        s->kexinit = NULL;
        s->kexinit_len = 0;
        s->state = HP_SNIFF_FAILED;
        return 0;
    }
    s->state = HP_SNIFF_DONE;
    return HP_SNIFF_GOT_KEXINIT;
}

static int feed_packet(struct hp_sshsniff *s, struct hp_rd *in)
{
    size_t want = packet_goal(&s->buf) - s->buf.len;
    size_t avail = hp_rd_left(in);

    if (!sniff_take(s, in, want < avail ? want : avail))
        return 0;
    if (packet_head_check(&s->buf) < 0) {
        sniff_fail(s);
        return 0;
    }
    if (s->buf.len >= PACKET_HEAD && s->buf.len == packet_goal(&s->buf))
        return packet_done(s);
    return 0;
}

/* ---- sniffer: entry --------------------------------------------------------- */

int hp_sshsniff_feed(struct hp_sshsniff *s, const uint8_t *data, size_t len)
{
    struct hp_rd in;
    int got = 0;

    hp_rd_init(&in, data, len);
    /* every step consumes input or ends in a terminal state */
    while (hp_rd_left(&in) > 0) {
        if (s->state == HP_SNIFF_VERSION)
            got |= feed_version(s, &in);
        else if (s->state == HP_SNIFF_KEXINIT)
            got |= feed_packet(s, &in);
        else
            break;
    }
    s->consumed += hp_rd_pos(&in);
    return got;
}

/* ---- the server's judgement of a client identification line -------------- */

const char *hp_ssh_ident_refusal(const uint8_t *l, size_t n, const char **reason)
{
    static const char invalid[] = "Invalid SSH identification string.\r\n";
    static const char mismatch[] = "Protocol major versions differ.\r\n";
    struct hp_rd r;
    unsigned major = 0, minor = 0;
    size_t digits;
    if (n && l[n - 1] == '\n')
        n--;
    if (n && l[n - 1] == '\r')
        n--;
    *reason = "ssh_bad_version";
    hp_rd_init(&r, l, n);
    if (!hp_rd_starts_with(&r, "SSH-", 4) || memchr(l, 0, n))
        return invalid;
    hp_rd_skip(&r, 4);
    for (digits = 0; hp_rd_peek_u8(&r, 0) >= '0' && hp_rd_peek_u8(&r, 0) <= '9' && digits < 6; digits++)
        major = major * 10 + (unsigned)(hp_rd_u8(&r) - '0');
    if (!digits || hp_rd_u8(&r) != '.' || !hp_rd_ok(&r))
        return invalid;
    for (digits = 0; hp_rd_peek_u8(&r, 0) >= '0' && hp_rd_peek_u8(&r, 0) <= '9' && digits < 6; digits++)
        minor = minor * 10 + (unsigned)(hp_rd_u8(&r) - '0');
    if (!digits || hp_rd_u8(&r) != '-' || !hp_rd_ok(&r) || hp_rd_left(&r) == 0)
        return invalid;
    if (major == 2 || (major == 1 && minor == 99))
        return NULL;
    *reason = "ssh_protocol_mismatch";
    return mismatch;
}

enum hp_ssh_ident hp_ssh_ident_scan(const uint8_t *p, size_t n, size_t *len)
{
    struct hp_rd r;
    size_t kept = 0;                  /* bytes sshd keeps in the line: all but '\r' */
    bool want_nl = false;
    hp_rd_init(&r, p, n);
    while (hp_rd_left(&r) > 0) {
        uint8_t c = hp_rd_u8(&r);
        if (c == '\r') {
            want_nl = true;
            continue;
        }
        *len = hp_rd_pos(&r);
        if (c == '\n')
            return HP_SSH_IDENT_LINE;
        if (c == 0 || want_nl || ++kept > HP_SSH_BANNER_MAX)
            return HP_SSH_IDENT_BAD;
    }
    *len = 0;
    return HP_SSH_IDENT_MORE;
}
