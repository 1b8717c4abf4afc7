/*
 * ntlm.c - NTLMSSP parsing and building (MS-NLMP).  See ntlm.h.
 *
 * Messages are small and self-describing: a fixed header with "security
 * buffers" (u16 length, u16 max length, u32 offset from the start of the
 * message) pointing into a payload.  Every such buffer is resolved with
 * ntlm_field(), which carves a sub-reader at the offset and refuses any
 * length that runs past the message, so hostile offsets cannot reach
 * memory outside it.
 *
 * The CHALLENGE we send imitates a Windows Server 2016-2022 answering an
 * ordinary client: the flags it would select, its target name, the
 * AV pairs (NetBIOS and DNS names, a timestamp) and its version block.
 */
#include <stdio.h>
#include <string.h>
#include "event.h"
#include "identity.h"
#include "ntlm.h"
#include "reader.h"
#include "util.h"

static const uint8_t ntlm_sig[8] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0 };

int hp_ntlm_type(const uint8_t *p, size_t n)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    if (!hp_rd_starts_with(&r, ntlm_sig, sizeof(ntlm_sig)))
        return 0;
    hp_rd_skip(&r, 8);
    uint32_t t = hp_rd_u32le(&r);
    if (!hp_rd_ok(&r) || t < 1 || t > 3)
        return 0;
    return (int)t;
}

/* ---- text ----------------------------------------------------------------------- */

static size_t utf8_put(char *out, size_t outlen, size_t o, uint32_t cp)
{
    uint8_t tmp[4];
    size_t k;
    if (cp < 0x80) {
        tmp[0] = (uint8_t)cp;
        k = 1;
    } else if (cp < 0x800) {
        tmp[0] = (uint8_t)(0xc0 | (cp >> 6));
        tmp[1] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 2;
    } else if (cp < 0x10000) {
        tmp[0] = (uint8_t)(0xe0 | (cp >> 12));
        tmp[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        tmp[2] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 3;
    } else {
        tmp[0] = (uint8_t)(0xf0 | (cp >> 18));
        tmp[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        tmp[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        tmp[3] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 4;
    }
    if (o + k >= outlen)
        return 0;                  /* does not fit: stop whole characters only */
    memcpy(out + o, tmp, k);
    return k;
}

size_t hp_utf16le_to_utf8(const uint8_t *p, size_t n, char *out, size_t outlen)
{
    struct hp_rd r;
    size_t o = 0;
    if (!outlen)
        return 0;
    hp_rd_init(&r, p, n);
    while (hp_rd_left(&r) >= 2) {
        uint32_t cp = hp_rd_u16le(&r);
        if (cp == 0)
            break;
        if (cp >= 0xd800 && cp < 0xdc00) {
            int lo = hp_rd_left(&r) >= 2 ? (hp_rd_peek_u8(&r, 0) | (hp_rd_peek_u8(&r, 1) << 8)) : -1;
            if (lo >= 0xdc00 && lo < 0xe000) {
                hp_rd_skip(&r, 2);
                cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
            } else {
                cp = 0xfffd;
            }
        } else if (cp >= 0xdc00 && cp < 0xe000) {
            cp = 0xfffd;
        }
        size_t k = utf8_put(out, outlen, o, cp);
        if (!k)
            break;
        o += k;
    }
    out[o] = '\0';
    return o;
}

/* One code point of UTF-8 at s[*i] (invalid bytes: U+FFFD, one byte). */
static uint32_t utf8_next(const uint8_t *s, size_t n, size_t *i)
{
    uint8_t c = s[*i];
    size_t need = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 9;
    if (need == 0) {
        (*i)++;
        return c;
    }
    if (need == 9 || need > n - *i - 1) {
        (*i)++;
        return 0xfffd;
    }
    uint32_t cp = c & (0x3f >> need);
    for (size_t k = 1; k <= need; k++) {
        if ((s[*i + k] & 0xc0) != 0x80) {
            (*i)++;
            return 0xfffd;
        }
        cp = (cp << 6) | (s[*i + k] & 0x3f);
    }
    *i += need + 1;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
        return 0xfffd;
    return cp;
}

bool hp_utf8_to_utf16le(struct hp_buf *b, const char *s, size_t n)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0;
    while (i < n) {
        uint32_t cp = utf8_next(u, n, &i);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            uint16_t hi = (uint16_t)(0xd800 + (cp >> 10)), lo = (uint16_t)(0xdc00 + (cp & 0x3ff));
            uint8_t w[4] = { (uint8_t)hi, (uint8_t)(hi >> 8), (uint8_t)lo, (uint8_t)(lo >> 8) };
            hp_buf_put(b, w, 4);
        } else {
            uint8_t w[2] = { (uint8_t)cp, (uint8_t)(cp >> 8) };
            hp_buf_put(b, w, 2);
        }
    }
    return hp_buf_ok(b);
}

/* ---- parsing -------------------------------------------------------------------- */

/* Resolve the security buffer whose header is at the reader's position. */
static bool ntlm_field(struct hp_rd *hdr, const uint8_t *msg, size_t n, struct hp_rd *field)
{
    uint16_t len = hp_rd_u16le(hdr);
    hp_rd_u16le(hdr);              /* MaxLen: informational */
    uint32_t off = hp_rd_u32le(hdr);
    struct hp_rd all;
    hp_rd_init(&all, msg, n);
    if (!hp_rd_ok(hdr) || len == 0) {
        hp_rd_init(field, NULL, 0);
        return hp_rd_ok(hdr);
    }
    hp_rd_skip(&all, off);
    return hp_rd_sub(&all, len, field);
}

/* A name field as UTF-8: UTF-16LE when Unicode was negotiated, else OEM bytes. */
static void ntlm_name(struct hp_rd *f, bool unicode, char *out, size_t outlen)
{
    size_t n = hp_rd_left(f);
    const uint8_t *p = hp_rd_ptr(f);
    if (unicode) {
        hp_utf16le_to_utf8(p, n, out, outlen);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < outlen && p[i]; i++)
        out[k++] = (char)p[i];
    out[k] = '\0';
}

int hp_ntlm_parse_negotiate(const uint8_t *p, size_t n, struct hp_ntlm_negotiate *out)
{
    memset(out, 0, sizeof(*out));
    if (hp_ntlm_type(p, n) != HP_NTLM_NEGOTIATE)
        return -1;
    struct hp_rd r, dom, ws;
    hp_rd_init(&r, p, n);
    hp_rd_skip(&r, 12);
    out->flags = hp_rd_u32le(&r);
    if (!hp_rd_ok(&r))
        return -1;
    if (hp_rd_left(&r) < 16)       /* old clients stop after the flags */
        return 0;
    if (!ntlm_field(&r, p, n, &dom) || !ntlm_field(&r, p, n, &ws))
        return -1;
    /* These two are OEM strings whatever the flags say (MS-NLMP 2.2.1.1). */
    ntlm_name(&dom, false, out->domain, sizeof(out->domain));
    ntlm_name(&ws, false, out->workstation, sizeof(out->workstation));
    if ((out->flags & HP_NTLM_NEG_VERSION) && hp_rd_left(&r) >= 8) {
        out->has_version = true;
        out->os_major = hp_rd_u8(&r);
        out->os_minor = hp_rd_u8(&r);
        out->os_build = hp_rd_u16le(&r);
    }
    return 0;
}

int hp_ntlm_parse_authenticate(const uint8_t *p, size_t n, struct hp_ntlm_auth *out)
{
    memset(out, 0, sizeof(*out));
    if (hp_ntlm_type(p, n) != HP_NTLM_AUTHENTICATE)
        return -1;
    struct hp_rd r, lm, nt, dom, user, ws, key;
    hp_rd_init(&r, p, n);
    hp_rd_skip(&r, 12);
    if (!ntlm_field(&r, p, n, &lm) || !ntlm_field(&r, p, n, &nt) || !ntlm_field(&r, p, n, &dom) ||
        !ntlm_field(&r, p, n, &user) || !ntlm_field(&r, p, n, &ws))
        return -1;
    out->flags = HP_NTLM_NEG_UNICODE;            /* pre-flags layout: assume Unicode */
    if (hp_rd_left(&r) >= 12) {
        if (!ntlm_field(&r, p, n, &key))
            return -1;
        out->flags = hp_rd_u32le(&r);
    }
    bool uni = (out->flags & HP_NTLM_NEG_UNICODE) != 0;
    ntlm_name(&user, uni, out->user, sizeof(out->user));
    ntlm_name(&dom, uni, out->domain, sizeof(out->domain));
    ntlm_name(&ws, uni, out->workstation, sizeof(out->workstation));
    out->lm = hp_rd_ptr(&lm);
    out->lm_len = hp_rd_left(&lm);
    out->nt = hp_rd_ptr(&nt);
    out->nt_len = hp_rd_left(&nt);
    out->anonymous = out->user[0] == '\0' && out->nt_len == 0;
    return 0;
}

static size_t hex_put(char *out, size_t o, const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[o++] = hx[p[i] >> 4];
        out[o++] = hx[p[i] & 15];
    }
    return o;
}

size_t hp_ntlm_hashcat(const struct hp_ntlm_auth *a, const uint8_t chal[8], char *out, size_t outlen,
                       const char **format)
{
    *format = NULL;
    if (outlen)
        out[0] = '\0';
    if (a->anonymous || a->nt_len < 24)
        return 0;
    size_t head = strlen(a->user) + strlen(a->domain) + 4;
    if (a->nt_len == 24) {
        const uint8_t *lm = a->lm_len == 24 ? a->lm : a->nt;   /* no LM: Windows repeats NT */
        if (head + 48 + 1 + 48 + 1 + 16 + 1 > outlen)
            return 0;
        size_t o = (size_t)snprintf(out, outlen, "%s::%s:", a->user, a->domain);
        o = hex_put(out, o, lm, 24);
        out[o++] = ':';
        o = hex_put(out, o, a->nt, 24);
        out[o++] = ':';
        o = hex_put(out, o, chal, 8);
        out[o] = '\0';
        *format = "hashcat:5500";
        return o;
    }
    if (a->nt_len < 16 + 28 || head + 16 + 1 + 32 + 1 + 2 * (a->nt_len - 16) + 1 > outlen)
        return 0;                  /* not an NTLMv2 response, or too big to be one */
    size_t o = (size_t)snprintf(out, outlen, "%s::%s:", a->user, a->domain);
    o = hex_put(out, o, chal, 8);
    out[o++] = ':';
    o = hex_put(out, o, a->nt, 16);
    out[o++] = ':';
    o = hex_put(out, o, a->nt + 16, a->nt_len - 16);
    out[o] = '\0';
    *format = "hashcat:5600";
    return o;
}

/* Every field a module logs of an AUTHENTICATE; the workstation is logged
 * even when empty, so that the event has the same fields every time. */
void hp_ntlm_ev_login(struct hp_ev *ev, const struct hp_evctx *ctx, const struct hp_ntlm_auth *a,
                      const uint8_t chal[8])
{
    char line[HP_NTLM_HASHCAT_MAX];
    const char *fmt = NULL;
    size_t n = hp_ntlm_hashcat(a, chal, line, sizeof(line), &fmt);
    hp_ev_begin(ev, ctx, "login.failed");
    hp_ev_bytes(ev, "username", a->user, strlen(a->user));
    hp_ev_bytes(ev, "domain", a->domain, strlen(a->domain));
    hp_ev_bytes(ev, "workstation", a->workstation, strlen(a->workstation));
    hp_ev_str(ev, "method", "ntlm");
    if (n) {
        hp_ev_str(ev, "hash", line);
        hp_ev_str(ev, "hash_format", fmt);
    }
    hp_ev_bool(ev, "anonymous", a->anonymous);
}

/* ---- the per-sensor Windows identity --------------------------------------------- */

static unsigned rnd(unsigned n)
{
    return (unsigned)(hp_random_u64() % n);
}

/* Names of the kind found on Internet-facing Windows servers: the setup
 * default WIN-XXXXXXXXXXX, role names (SQL01, SRV-DB02), desktops. */
static void draw_computer(char *out, size_t len)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static const char *const roles[] = { "SQL", "DB", "SRV", "APP", "WEB", "FS", "TS", "RDS", "ERP", "ACC",
                                         "SQLSRV", "DBSRV", "HV", "BACKUP", "SAGE" };
    char rand11[12];
    for (int i = 0; i < 11; i++)
        rand11[i] = alnum[rnd(36)];
    rand11[11] = '\0';
    switch (rnd(4)) {
    case 0:
    case 1:
        snprintf(out, len, "WIN-%s", rand11);
        break;
    case 2:
        snprintf(out, len, "%s%s%02u", roles[rnd(HP_ARRAY_LEN(roles))], rnd(2) ? "-" : "", 1 + rnd(12));
        break;
    default:
        snprintf(out, len, "DESKTOP-%.7s", rand11);
        break;
    }
}

static void draw_domain(char *nb, size_t nblen, char *dns, size_t dnslen)
{
    static const char *const labels[] = { "corp", "office", "hq", "ad", "intranet", "dom", "acct", "main",
                                          "company", "int", "buero", "domain" };
    static const char *const tlds[] = { "local", "lan", "int", "loc", "local", "local" };
    if (rnd(5) < 3) {              /* most exposed servers are standalone */
        snprintf(nb, nblen, "WORKGROUP");
        dns[0] = '\0';
        return;
    }
    const char *l = labels[rnd(HP_ARRAY_LEN(labels))];
    snprintf(dns, dnslen, "%s.%s", l, tlds[rnd(HP_ARRAY_LEN(tlds))]);
    size_t k = 0;
    for (; l[k] && k + 1 < nblen && k < 15; k++)
        nb[k] = (char)(l[k] >= 'a' && l[k] <= 'z' ? l[k] - 32 : l[k]);
    nb[k] = '\0';
}

static void upper_copy(char *dst, size_t dlen, const char *src, size_t max)
{
    size_t k = 0;
    for (; src[k] && k + 1 < dlen && k < max; k++)
        dst[k] = (char)(src[k] >= 'a' && src[k] <= 'z' ? src[k] - 32 : src[k]);
    dst[k] = '\0';
}

static void lower_copy(char *dst, size_t dlen, const char *src)
{
    size_t k = 0;
    for (; src[k] && k + 1 < dlen; k++)
        dst[k] = (char)(src[k] >= 'A' && src[k] <= 'Z' ? src[k] + 32 : src[k]);
    dst[k] = '\0';
}

void hp_ntlm_identity(struct hp_ntlm_identity *id)
{
    static const char *const builds[] = { "10.0.14393", "10.0.17763", "10.0.17763", "10.0.20348" };
    char tmp[128], dns[96];
    memset(id, 0, sizeof(*id));
    const char *host = hp_identity_get("windows_hostname");
    if (!host || !*host) {
        draw_computer(tmp, sizeof(tmp));
        hp_identity_set("windows_hostname", tmp);
        host = hp_identity_get("windows_hostname");
        if (!host)
            host = "WIN-3KQ7L2M9XVD";          /* no identity loaded (unit tests) */
    }
    const char *dom = hp_identity_get("windows_domain");
    const char *dnsd = hp_identity_get("windows_dns_domain");
    if (!dom || !*dom) {
        draw_domain(tmp, sizeof(tmp), dns, sizeof(dns));
        hp_identity_set("windows_domain", tmp);
        hp_identity_set("windows_dns_domain", dns[0] ? dns : "-");
        dom = hp_identity_get("windows_domain");
        dnsd = hp_identity_get("windows_dns_domain");
        if (!dom) {
            dom = "WORKGROUP";
            dnsd = "-";
        }
    }
    const char *build = hp_identity_get("windows_build");
    if (!build || !*build) {
        hp_identity_set("windows_build", builds[rnd(HP_ARRAY_LEN(builds))]);
        build = hp_identity_get("windows_build");
        if (!build)
            build = "10.0.17763";
    }
    unsigned maj = 10, min = 0, bld = 17763;
    if (sscanf(build, "%u.%u.%u", &maj, &min, &bld) != 3 || maj > 255 || min > 255 || bld > 65535) {
        maj = 10;
        min = 0;
        bld = 17763;
    }
    id->os_major = (uint8_t)maj;
    id->os_minor = (uint8_t)min;
    id->os_build = (uint16_t)bld;
    upper_copy(id->nb_computer, sizeof(id->nb_computer), host, 15);
    id->joined = strcmp(dom, "WORKGROUP") != 0 && dnsd && strcmp(dnsd, "-") != 0 && *dnsd;
    if (id->joined) {
        upper_copy(id->nb_domain, sizeof(id->nb_domain), dom, 15);
        lower_copy(id->dns_domain, sizeof(id->dns_domain), dnsd);
        char lc[16];
        lower_copy(lc, sizeof(lc), id->nb_computer);
        snprintf(id->dns_computer, sizeof(id->dns_computer), "%s.%s", lc, id->dns_domain);
    } else {
        /* a workgroup server names itself everywhere */
        snprintf(id->nb_domain, sizeof(id->nb_domain), "%s", id->nb_computer);
        snprintf(id->dns_domain, sizeof(id->dns_domain), "%s", id->nb_computer);
        snprintf(id->dns_computer, sizeof(id->dns_computer), "%s", id->nb_computer);
    }
}

/* ---- CHALLENGE ------------------------------------------------------------------ */

static void put16(struct hp_buf *b, uint16_t v)
{
    uint8_t w[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    hp_buf_put(b, w, 2);
}

static void put32(struct hp_buf *b, uint32_t v)
{
    uint8_t w[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    hp_buf_put(b, w, 4);
}

static void av_str(struct hp_buf *b, uint16_t id, const char *s)
{
    struct hp_buf tmp;
    hp_buf_init(&tmp, 512);
    hp_utf8_to_utf16le(&tmp, s, strlen(s));
    put16(b, id);
    put16(b, (uint16_t)tmp.len);
    hp_buf_put(b, tmp.data, tmp.len);
    hp_buf_free(&tmp);
}

/* The flags a Windows server answers with, given the client's. */
static uint32_t challenge_flags(const struct hp_ntlm_identity *id, uint32_t cf)
{
    uint32_t f = HP_NTLM_REQUEST_TARGET | HP_NTLM_NEG_NTLM | HP_NTLM_NEG_ALWAYS_SIGN | HP_NTLM_NEG_TARGET_INFO |
                 HP_NTLM_NEG_VERSION;
    f |= (cf & HP_NTLM_NEG_UNICODE) || !(cf & HP_NTLM_NEG_OEM) ? HP_NTLM_NEG_UNICODE : HP_NTLM_NEG_OEM;
    f |= id->joined ? HP_NTLM_TARGET_TYPE_DOMAIN : HP_NTLM_TARGET_TYPE_SERVER;
    f |= cf & (HP_NTLM_NEG_SIGN | HP_NTLM_NEG_SEAL | HP_NTLM_NEG_128 | HP_NTLM_NEG_56 | HP_NTLM_NEG_KEY_EXCH);
    if (cf & HP_NTLM_NEG_EXT_SESSIONSEC)
        f |= HP_NTLM_NEG_EXT_SESSIONSEC;
    else
        f |= cf & HP_NTLM_NEG_LM_KEY;
    return f;
}

int hp_ntlm_build_challenge(const struct hp_ntlm_identity *id, uint32_t cflags, const uint8_t chal[8],
                            int64_t now_us, struct hp_buf *out)
{
    uint32_t f = challenge_flags(id, cflags);
    struct hp_buf target, info;
    hp_buf_init(&target, 256);
    hp_buf_init(&info, 2048);
    const char *tname = id->joined ? id->nb_domain : id->nb_computer;
    if (f & HP_NTLM_NEG_UNICODE)
        hp_utf8_to_utf16le(&target, tname, strlen(tname));
    else
        hp_buf_puts(&target, tname);
    av_str(&info, 2, id->nb_domain);
    av_str(&info, 1, id->nb_computer);
    av_str(&info, 4, id->dns_domain);
    av_str(&info, 3, id->dns_computer);
    if (id->joined)
        av_str(&info, 5, id->dns_domain);
    uint64_t ft = (uint64_t)(now_us > 0 ? now_us : 0) * 10u + 116444736000000000ull;
    put16(&info, 7);
    put16(&info, 8);
    put32(&info, (uint32_t)ft);
    put32(&info, (uint32_t)(ft >> 32));
    put32(&info, 0);               /* MsvAvEOL */

    const uint32_t hdr = 56;
    size_t start = out->len;
    hp_buf_put(out, ntlm_sig, sizeof(ntlm_sig));
    put32(out, HP_NTLM_CHALLENGE);
    put16(out, (uint16_t)target.len);
    put16(out, (uint16_t)target.len);
    put32(out, hdr);
    put32(out, f);
    hp_buf_put(out, chal, 8);
    put32(out, 0);
    put32(out, 0);
    put16(out, (uint16_t)info.len);
    put16(out, (uint16_t)info.len);
    put32(out, hdr + (uint32_t)target.len);
    uint8_t ver[8] = { id->os_major, id->os_minor, (uint8_t)id->os_build, (uint8_t)(id->os_build >> 8), 0, 0, 0,
                       0x0f };
    hp_buf_put(out, ver, sizeof(ver));
    hp_buf_put(out, target.data ? target.data : (const uint8_t *)"", target.len);
    hp_buf_put(out, info.data, info.len);
    bool ok = hp_buf_ok(&target) && hp_buf_ok(&info) && hp_buf_ok(out) && out->len - start == hdr + target.len + info.len;
    hp_buf_free(&target);
    hp_buf_free(&info);
    return ok ? 0 : -1;
}

/* ---- wrappers ------------------------------------------------------------------- */

long hp_ntlm_find(const uint8_t *p, size_t n)
{
    struct hp_rd r;
    hp_rd_init(&r, p, n);
    long at = hp_rd_find(&r, ntlm_sig, sizeof(ntlm_sig));
    if (at < 0 || hp_ntlm_type(p + at, n - (size_t)at) == 0)
        return -1;
    return at;
}

void hp_der_len(struct hp_buf *out, size_t len)
{
    if (len < 0x80) {
        hp_buf_putc(out, (uint8_t)len);
    } else if (len < 0x100) {
        hp_buf_putc(out, 0x81);
        hp_buf_putc(out, (uint8_t)len);
    } else if (len < 0x10000) {
        hp_buf_putc(out, 0x82);
        hp_buf_putc(out, (uint8_t)(len >> 8));
        hp_buf_putc(out, (uint8_t)len);
    } else {
        hp_buf_putc(out, 0x83);
        hp_buf_putc(out, (uint8_t)(len >> 16));
        hp_buf_putc(out, (uint8_t)(len >> 8));
        hp_buf_putc(out, (uint8_t)len);
    }
}

/* Bytes a DER header for 'len' takes. */
static size_t der_hdr(size_t len)
{
    return len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : 5;
}

int hp_spnego_wrap_ntlm(const uint8_t *msg, size_t n, struct hp_buf *out)
{
    static const uint8_t state[] = { 0xa0, 0x03, 0x0a, 0x01, 0x01 };      /* accept-incomplete */
    static const uint8_t mech[] = { 0xa1, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01,
                                    0x82, 0x37, 0x02, 0x02, 0x0a };       /* NTLMSSP OID */
    size_t octets = der_hdr(n) + n;                  /* OCTET STRING */
    size_t tok = der_hdr(octets) + octets;           /* [2] responseToken */
    size_t seq = sizeof(state) + sizeof(mech) + tok;
    hp_buf_putc(out, 0xa1);
    hp_der_len(out, der_hdr(seq) + seq);
    hp_buf_putc(out, 0x30);
    hp_der_len(out, seq);
    hp_buf_put(out, state, sizeof(state));
    hp_buf_put(out, mech, sizeof(mech));
    hp_buf_putc(out, 0xa2);
    hp_der_len(out, octets);
    hp_buf_putc(out, 0x04);
    hp_der_len(out, n);
    hp_buf_put(out, msg, n);
    return hp_buf_ok(out) ? 0 : -1;
}
