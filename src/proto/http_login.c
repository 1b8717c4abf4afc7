/*
 * http_login.c - the login a web request carries: Basic header, form, JSON,
 * wallet unlock.
 *
 * See http_login.h for what counts.  The form reader walks the body field by
 * field through the bounds-checked reader (reader.h) and %XX/+ decodes names
 * and values into fixed buffers (hp_pct_decode, util.h); the JSON readers use
 * the store's allocation-free scanner (store/jsonscan.h), which looks at one
 * object's own members (the body's, then those of a wrapping member's value)
 * and rejects anything that is not one well-formed object.  Nothing here
 * allocates, and no output is longer than its buffer.
 */
#include <limits.h>
#include <openssl/evp.h>
#include <string.h>
#include <strings.h>
#include "http_login.h"
#include "reader.h"
#include "store/jsonscan.h"
#include "util.h"

#define FORM_FIELDS_MAX 256            /* fields of a form looked at */
#define FORM_NAME_MAX   64             /* a decoded field name longer than this is no login field */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]) - 1)   /* names in a NULL-terminated list */

/* Field names, compared case-insensitively, most telling first: a user name ... */
static const char *const form_users[] = { "log", "username", "user", "login", "pma_username", "j_username",
                                          "email", "uname", "userid", "user_name", "name", NULL };
/* ... and a password (pwd: WordPress; psd: Realtek's Boa formLogin; credential and
 * secretkey: FortiGate's SSL VPN and admin /logincheck). */
static const char *const form_passes[] = { "pwd", "password", "pass", "passwd", "pma_password", "j_password",
                                           "pswd", "user_password", "psw", "psd", "credential", "secretkey",
                                           NULL };

/* JSON member names, exact (JSON APIs keep one spelling; these are the ones login APIs use). */
static const char *const json_users[] = { "username", "user", "login", "email", "userName", "Username",
                                          "UserName", "user_name", "loginName", "account", "name", NULL };
static const char *const json_passes[] = { "password", "Password", "passwd", "pass", "pwd", "passWord",
                                           "user_password", NULL };
/* Members a login object may be wrapped in (login_json), and how many array elements are looked at. */
static const char *const json_wraps[] = { "params", "user", "data", "auth", "credentials", "login", "body", NULL };
#define JSON_ELEMS_MAX 8

bool hp_http_login_basic(struct hp_bytes a, struct hp_http_login *out)
{
    if (a.n < 7 || a.n > 4096 || strncasecmp((const char *)a.p, "Basic ", 6) != 0)
        return false;
    uint8_t dec[3072 + 4];                      /* 4096 base64 characters decode to 3072 bytes */
    size_t n = a.n - 6;
    const uint8_t *b64 = a.p + 6;
    while (n && *b64 == ' ')
        b64++, n--;
    while (n && (b64[n - 1] == ' ' || b64[n - 1] == '\t'))
        n--;
    int len = EVP_DecodeBlock(dec, b64, (int)n);
    if (len < 0)
        return false;
    for (size_t pad = n; pad > 0 && b64[pad - 1] == '=' && len > 0; pad--)
        len--;                                  /* EVP_DecodeBlock counts the padding as data */
    const uint8_t *colon = memchr(dec, ':', (size_t)len);
    if (!colon)
        return false;
    size_t ulen = (size_t)(colon - dec), plen = (size_t)(dec + len - colon - 1);
    out->kind = "basic";
    out->ulen = ulen < sizeof(out->user) ? ulen : sizeof(out->user);
    memcpy(out->user, dec, out->ulen);
    out->plen = plen < sizeof(out->pass) ? plen : sizeof(out->pass);
    memcpy(out->pass, colon + 1, out->plen);
    return true;
}

/* The place of k among names (earlier = more telling), or -1. */
static int name_rank(const uint8_t *k, size_t kn, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == kn && strncasecmp((const char *)k, names[i], kn) == 0)
            return i;
    return -1;
}

/*
 * A form's user and password fields.  Where a form has several user-like
 * fields the most telling name wins, not the first: H2's console posts its
 * saved-setting "name" before "user", a sign-up form "email" before
 * "username".  Among fields of one name the first counts.
 */
static bool login_form(struct hp_bytes body, struct hp_http_login *out)
{
    int urank = INT_MAX, prank = INT_MAX;
    struct hp_rd r;
    hp_rd_init(&r, body.p, body.n);
    for (unsigned fields = 0; hp_rd_left(&r) > 0 && fields < FORM_FIELDS_MAX && (urank | prank) != 0; fields++) {
        long amp = hp_rd_find(&r, "&", 1);
        size_t flen = amp < 0 ? hp_rd_left(&r) : (size_t)amp;
        const uint8_t *f = hp_rd_bytes(&r, flen);
        hp_rd_skip(&r, amp < 0 ? 0 : 1);
        const uint8_t *eq = f ? memchr(f, '=', flen) : NULL;
        if (!eq)
            continue;
        uint8_t key[FORM_NAME_MAX];
        size_t kn = hp_pct_decode(f, (size_t)(eq - f), true, key, sizeof(key));
        const uint8_t *val = eq + 1;
        size_t vn = flen - (size_t)(eq - f) - 1;
        int ur = name_rank(key, kn, form_users), pr = name_rank(key, kn, form_passes);
        if (ur >= 0 && ur < urank) {
            out->ulen = hp_pct_decode(val, vn, true, out->user, sizeof(out->user));
            urank = ur;
        } else if (pr >= 0 && pr < prank) {
            out->plen = hp_pct_decode(val, vn, true, out->pass, sizeof(out->pass));
            prank = pr;
        }
    }
    out->kind = "form";
    return urank != INT_MAX && prank != INT_MAX;
}

/* The first of names[] present as a string or a number, decoded into out (cut at cap). */
static bool json_pick(const struct hp_jval *vals, size_t n, uint8_t *out, size_t cap, size_t *len)
{
    for (size_t i = 0; i < n; i++) {
        if (vals[i].type == HP_J_STR) {
            char tmp[HP_HTTP_LOGIN_MAX + 1];     /* hp_jscan_str adds a NUL */
            size_t got = hp_jscan_str(&vals[i], tmp, sizeof(tmp));
            *len = got < cap ? got : cap;
            memcpy(out, tmp, *len);
            return true;
        }
        if (vals[i].type == HP_J_NUM) {         /* {"password":123456} */
            *len = vals[i].n < cap ? vals[i].n : cap;
            memcpy(out, vals[i].p, *len);
            return true;
        }
    }
    return false;
}

/* One object's own members: true when it holds both a user and a password field. */
static bool login_json_object(const char *p, size_t n, struct hp_http_login *out)
{
    struct hp_jval users[NELEM(json_users)], passes[NELEM(json_passes)];
    if (hp_jscan_members(p, n, json_users, NELEM(json_users), users) != 0 ||
        hp_jscan_members(p, n, json_passes, NELEM(json_passes), passes) != 0)
        return false;
    return json_pick(users, NELEM(json_users), out->user, sizeof(out->user), &out->ulen) &&
           json_pick(passes, NELEM(json_passes), out->pass, sizeof(out->pass), &out->plen);
}

/*
 * geth's personal_unlockAccount: params [account, passphrase, seconds].  Bots
 * sweep port 8545 guessing the passphrase of the node's wallet (the accounts
 * eth_accounts listed) to send its ether away; the guess is their password.
 */
static bool wallet_unlock(const char *p, size_t n, struct hp_http_login *out)
{
    static const char *const names[] = { "method", "params", NULL };
    static const char unlock[] = "personal_unlockAccount";
    struct hp_jval v[NELEM(names)], account, passphrase;
    char method[sizeof(unlock) + 1];
    size_t pos = 0;
    if (hp_jscan_members(p, n, names, NELEM(names), v) != 0 || v[1].type != HP_J_ARR ||
        hp_jscan_str(&v[0], method, sizeof(method)) != sizeof(unlock) - 1 || strcmp(method, unlock) != 0)
        return false;
    if (!hp_jscan_elem(&v[1], &pos, &account) || !hp_jscan_elem(&v[1], &pos, &passphrase))
        return false;
    out->kind = "wallet";
    return json_pick(&account, 1, out->user, sizeof(out->user), &out->ulen) &&
           json_pick(&passphrase, 1, out->pass, sizeof(out->pass), &out->plen);
}

/*
 * The body's own members, else one level down in a member named as login
 * APIs wrap theirs: JSON-RPC's "params" (Zabbix user.login; an array for
 * OpenWrt's ubus session login, whose last element is the object), Rails'
 * {"user":{...}}, {"data":{...}}, {"auth":{...}}.  Deeper wrapping is not read.
 */
static bool login_json(struct hp_bytes body, struct hp_http_login *out)
{
    const char *p = (const char *)body.p;
    struct hp_jval wraps[NELEM(json_wraps)];
    if (wallet_unlock(p, body.n, out))
        return true;
    out->kind = "json";
    if (login_json_object(p, body.n, out))
        return true;
    if (hp_jscan_members(p, body.n, json_wraps, NELEM(json_wraps), wraps) != 0)
        return false;
    for (size_t i = 0; i < NELEM(json_wraps); i++) {
        if (wraps[i].type == HP_J_OBJ && login_json_object(wraps[i].p, wraps[i].n, out))
            return true;
        struct hp_jval el;
        for (size_t pos = 0, k = 0; wraps[i].type == HP_J_ARR && k < JSON_ELEMS_MAX &&
                                    hp_jscan_elem(&wraps[i], &pos, &el); k++)
            if (el.type == HP_J_OBJ && login_json_object(el.p, el.n, out))
                return true;
    }
    return false;
}

bool hp_http_login_body(struct hp_bytes body, struct hp_http_login *out)
{
    if (body.n == 0 || body.n > HP_HTTP_LOGIN_BODY_MAX)
        return false;
    struct hp_rd r;
    hp_rd_init(&r, body.p, body.n);
    int c = hp_rd_peek_u8(&r, 0);
    for (size_t i = 0; c == ' ' || c == '\t' || c == '\r' || c == '\n'; c = hp_rd_peek_u8(&r, ++i))
        ;
    return c == '{' ? login_json(body, out) : login_form(body, out);
}
