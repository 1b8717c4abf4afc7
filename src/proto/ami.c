/*
 * ami.c - an Asterisk Manager Interface (AMI, port 5038) look-alike.
 *
 * The sensor claims one Asterisk release (drawn per sensor from a realistic
 * set, kept in the identity file as ami_asterisk_version) and greets with its
 * manager version, "Asterisk Call Manager/5.0.1\r\n".  Actions are blocks of
 * "Key: Value" lines ended by a blank line; each one is answered the way
 * manager.c of that release answers it:
 *
 *   - before a login only Login, Challenge and Logoff are allowed, anything
 *     else gets "Permission denied" (the session stays open);
 *   - Login with Username/Secret, or AuthType MD5 with Key = md5(challenge +
 *     secret) after Action: Challenge.  A failed login is answered after
 *     auth_fail_delay (Asterisk sleeps 1 s) with "Authentication failed" and
 *     the connection is closed, as the real server does;
 *   - after a login: Ping, CoreSettings, CoreStatus, ListCommands, Events,
 *     Status, SIPpeers, Command (CLI commands answered from a small table;
 *     Asterisk 14+ format "Output:" lines, older "Response: Follows" ...
 *     "--END COMMAND--"), Originate (validated like manager.c, then "queued"
 *     - nothing is ever dialled), GetConfig/UpdateConfig, Logoff.
 *
 * Which credentials log in: the service's accept list (default
 * "admin:amp111", FreePBX's historical manager password, which the toll-fraud
 * bots try first); "*" accepts anything.  Logging in is what makes a bot go
 * on to its Originate and Command actions, which are the point.
 *
 * Every action is a command.input event (input: the action as sent; for
 * Command, the CLI command), every value of every action goes to the
 * capture pipeline's URL extractor, logins are login.success/login.failed
 * and Originate attempts ami.originate.  Bounds: lines over 1024 bytes are
 * dropped and headers over 128 ignored (as Asterisk does), an incomplete
 * action may not exceed 64 KiB, answers are capped by an hp_buf.
 *
 * The parser and the session machine (struct hp_ami_sess, ami.h) do not know
 * about connections, so the unit tests and the fuzzer drive them directly;
 * the module at the end only passes bytes and arms the timer.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "ami.h"
#include "capture/capture.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "identity.h"
#include "intel/knowledge.h"
#include "proto.h"
#include "util.h"

#define AMI_PENDING_MAX (64 * 1024)   /* an incomplete action */

/* ---- releases ----------------------------------------------------------------------- */

/* Asterisk release, the manager version it announces (AMI_VERSION in
 * main/manager.c of that branch), and when 14 changed the Command output. */
static const struct hp_ami_pers ami_pers[] = {
    { "1.8.32.3", "1.1", false },
    { "11.25.3", "1.3", false },
    { "13.38.3", "2.10.6", false },
    { "16.2.1", "5.0.1", true },
    { "16.30.0", "5.0.4", true },
    { "18.9.0", "7.0.1", true },
    { "18.20.0", "7.0.3", true },
    { "20.5.2", "9.0.0", true },
};

const struct hp_ami_pers *hp_ami_pers_all(size_t *n)
{
    *n = HP_ARRAY_LEN(ami_pers);
    return ami_pers;
}

const struct hp_ami_pers *hp_ami_pers_find(const char *v)
{
    for (size_t i = 0; i < HP_ARRAY_LEN(ami_pers); i++)
        if (strcmp(ami_pers[i].asterisk, v) == 0)
            return &ami_pers[i];
    return NULL;
}

/* The release of the same major version as the sensor's SIP service claims
 * ("Asterisk PBX 18.20.2", "FPBX-16.0.40.7(18.20.0)"), so that one box does
 * not show two Asterisk releases; NULL when SIP claims none. */
static const struct hp_ami_pers *ami_pers_like_sip(void)
{
    const char *sip = hp_identity_get("sip_server");
    const char *v = NULL;
    if (sip && strncmp(sip, "Asterisk PBX ", 13) == 0)
        v = sip + 13;
    else if (sip && strncmp(sip, "FPBX-", 5) == 0 && strchr(sip, '('))
        v = strchr(sip, '(') + 1;
    if (!v)
        return NULL;
    int major = atoi(v);
    const struct hp_ami_pers *found = NULL;
    for (size_t i = 0; i < HP_ARRAY_LEN(ami_pers); i++)
        if (atoi(ami_pers[i].asterisk) == major)
            found = &ami_pers[i];            /* the newest of that branch */
    return found;
}

static const struct hp_ami_pers *ami_pers_identity(void)
{
    const char *kept = hp_identity_get("ami_asterisk_version");
    const struct hp_ami_pers *p = kept ? hp_ami_pers_find(kept) : NULL;
    if (!p && !(p = ami_pers_like_sip())) {
        p = &ami_pers[hp_random_u64() % HP_ARRAY_LEN(ami_pers)];
        hp_identity_set("ami_asterisk_version", p->asterisk);
    }
    return p;
}

void hp_ami_conf_init(struct hp_ami_conf *cf)
{
    memset(cf, 0, sizeof(*cf));
    cf->accept[cf->naccept++] = hp_xstrdup("admin:amp111");
    cf->auth_fail_delay_ms = 1000;
    cf->auth_timeout_ms = 30000;
}

void hp_ami_conf_free(struct hp_ami_conf *cf)
{
    for (size_t i = 0; i < cf->naccept; i++)
        free(cf->accept[i]);
    cf->naccept = 0;
    free(cf->hostname);
    cf->hostname = NULL;
}

/* ---- the parser --------------------------------------------------------------------- */

static size_t ami_linelen(const uint8_t *p, const uint8_t *nl)
{
    size_t n = (size_t)(nl - p);
    return n && p[n - 1] == '\r' ? n - 1 : n;
}

static void ami_add_line(struct hp_ami_msg *m, const uint8_t *p, size_t n)
{
    if (n > HP_AMI_LINE_MAX || m->n >= HP_AMI_HDR_MAX) {
        m->dropped++;
        return;
    }
    struct hp_ami_hdr *h = &m->h[m->n++];
    const uint8_t *colon = memchr(p, ':', n);
    h->key = p;
    h->klen = colon ? (size_t)(colon - p) : n;
    h->val = NULL;
    h->vlen = 0;
    if (colon) {
        const uint8_t *v = colon + 1, *e = p + n;
        while (v < e && (*v == ' ' || *v == '\t'))
            v++;
        h->val = v;
        h->vlen = (size_t)(e - v);
    }
}

int hp_ami_parse(struct hp_rd *in, struct hp_ami_msg *m, size_t max, size_t *hint)
{
    const uint8_t *p = hp_rd_ptr(in);
    size_t n = hp_rd_left(in), off = *hint <= n ? *hint : 0, blank = 0, end = 0;
    bool found = false;
    while (off < n) {              /* find the blank line, from where the last call stopped */
        const uint8_t *nl = memchr(p + off, '\n', n - off);
        if (!nl)
            break;
        size_t next = (size_t)(nl - p) + 1;
        if (ami_linelen(p + off, nl) == 0) {
            blank = off;
            end = next;
            found = true;
            break;
        }
        off = next;
    }
    if (!found) {
        *hint = off;
        return n > max ? -1 : 0;
    }
    *hint = 0;
    m->n = 0;
    m->dropped = 0;
    m->raw = p;
    m->rawlen = blank;
    for (size_t o = 0; o < blank;) {
        const uint8_t *nl = memchr(p + o, '\n', blank - o);   /* found: blank follows a line end */
        if (!nl)
            break;
        ami_add_line(m, p + o, ami_linelen(p + o, nl));
        o = (size_t)(nl - p) + 1;
    }
    if (m->rawlen && p[m->rawlen - 1] == '\n')                /* raw without its last line end */
        m->rawlen -= m->rawlen >= 2 && p[m->rawlen - 2] == '\r' ? 2 : 1;
    hp_rd_skip(in, end);
    return 1;
}

const uint8_t *hp_ami_get(const struct hp_ami_msg *m, const char *key, size_t *len)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < m->n; i++) {
        const struct hp_ami_hdr *h = &m->h[i];
        if (h->val && h->klen == kl && strncasecmp((const char *)h->key, key, kl) == 0) {
            *len = h->vlen;
            return h->val;
        }
    }
    *len = 0;
    return NULL;
}

/* ---- answers ------------------------------------------------------------------------ */

static void ami_emit(struct hp_ami_sess *s, struct hp_ev *ev)
{
    if (s->emit)
        s->emit(ev);
    else
        hp_ev_emit(ev);
}

static bool ami_is(const uint8_t *v, size_t n, const char *word)
{
    return v && n == strlen(word) && strncasecmp((const char *)v, word, n) == 0;
}

/* "Response: X" and the ActionID the client gave, as astman_send_response_full() starts. */
static void ami_start(struct hp_ami_sess *s, const struct hp_ami_msg *m, const char *resp)
{
    size_t idl;
    const uint8_t *id = m ? hp_ami_get(m, "ActionID", &idl) : NULL;
    hp_buf_printf(&s->out, "Response: %s\r\n", resp);
    if (id && idl) {
        hp_buf_puts(&s->out, "ActionID: ");
        hp_buf_put(&s->out, id, idl);
        hp_buf_puts(&s->out, "\r\n");
    }
}

static void ami_reply(struct hp_ami_sess *s, const struct hp_ami_msg *m, const char *resp, const char *msg)
{
    ami_start(s, m, resp);
    hp_buf_printf(&s->out, "Message: %s\r\n\r\n", msg);
}

/* When "Asterisk" started and last reloaded: drawn once per process, days ago. */
static int64_t ami_boot_s, ami_reload_s;

static void ami_clock(void)
{
    if (ami_boot_s)
        return;
    int64_t now = hp_now_us() / 1000000;
    uint64_t r = hp_random_u64();
    ami_boot_s = now - 86400 * (int64_t)(2 + r % 40) - (int64_t)(r >> 8) % 86400;
    ami_reload_s = ami_boot_s + (int64_t)((r >> 24) % (uint64_t)(now - ami_boot_s));
}

static void ami_datetime(int64_t t, char *date, char *tod)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(date, 16, "%Y-%m-%d", &tm);
    strftime(tod, 16, "%H:%M:%S", &tm);
}

static const char *ami_hostname(const struct hp_ami_sess *s)
{
    const char *h = s->cf && s->cf->hostname ? s->cf->hostname : hp_identity_get("hostname");
    return h ? h : "pbx";
}

/* The AMI "FullyBooted" event a session with events on gets after its login. */
static void ami_fully_booted(struct hp_ami_sess *s)
{
    ami_clock();
    int64_t now = hp_now_us() / 1000000;
    hp_buf_puts(&s->out, "Event: FullyBooted\r\nPrivilege: system,all\r\n");
    if (strncmp(s->pers->ami, "1.", 2) != 0)     /* Asterisk 12+ */
        hp_buf_printf(&s->out, "Uptime: %lld\r\nLastReload: %lld\r\n", (long long)(now - ami_boot_s),
                      (long long)(now - ami_reload_s));
    hp_buf_puts(&s->out, "Status: Fully Booted\r\n\r\n");
}

/* ---- events ------------------------------------------------------------------------- */

static void ami_ev_input(struct hp_ami_sess *s, const char *action, const void *input, size_t n)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "command.input");
    hp_ev_bytes(&ev, "input", input, n);
    hp_ev_str(&ev, "action", action);
    hp_ev_bool(&ev, "authenticated", s->authed);
    ami_emit(s, &ev);
}

/* md5(challenge + secret) in lower-case hex, as manager.c computes the Key. */
static void ami_md5_key(const char *challenge, const void *secret, size_t slen, char out[33])
{
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md && EVP_DigestInit_ex(md, EVP_md5(), NULL) && EVP_DigestUpdate(md, challenge, strlen(challenge)) &&
        EVP_DigestUpdate(md, secret, slen) && EVP_DigestFinal_ex(md, d, &dl) && dl == 16)
        hp_hex(d, 16, out);
    else
        out[0] = '\0';
    EVP_MD_CTX_free(md);
}

/* ---- login -------------------------------------------------------------------------- */

/* Does the accept list let this user in?  For MD5 logins the key is checked
 * against every listed secret of the user (the secret found is returned). */
static bool ami_accepts(const struct hp_ami_sess *s, const uint8_t *u, size_t ul, const uint8_t *secret,
                        size_t sl, const uint8_t *key, size_t kl, const char **found, size_t *foundlen)
{
    *found = NULL;
    for (size_t i = 0; s->cf && i < s->cf->naccept; i++) {
        const char *a = s->cf->accept[i];
        if (strcmp(a, "*") == 0)
            return true;
        const char *colon = strchr(a, ':');
        if (!colon || (size_t)(colon - a) != ul || memcmp(a, u, ul) != 0)
            continue;
        const char *sec = colon + 1;
        size_t secl = strlen(sec);
        if (!key && secret && sl == secl && memcmp(sec, secret, sl) == 0)
            return true;
        if (key && s->challenge[0] && kl == 32) {
            char want[33];
            ami_md5_key(s->challenge, sec, secl, want);
            if (strncasecmp(want, (const char *)key, 32) == 0) {
                *found = sec;
                *foundlen = secl;
                return true;
            }
        }
    }
    return false;
}

static void ami_ev_login(struct hp_ami_sess *s, bool ok, const uint8_t *u, size_t ul, const uint8_t *pass,
                         size_t pl, const uint8_t *key, size_t kl)
{
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, ok ? "login.success" : "login.failed");
    hp_ev_bytes(&ev, "username", u ? u : (const uint8_t *)"", ul);
    if (pass)
        hp_ev_bytes(&ev, "password", pass, pl);
    hp_ev_str(&ev, "method", key ? "ami_md5" : "ami");
    if (key) {
        /* hashcat 20 is md5($salt.$pass): the hash is KEY:CHALLENGE. */
        char hash[HP_AMI_LINE_MAX + 40];
        snprintf(hash, sizeof(hash), "%.*s:%s", (int)(kl < 64 ? kl : 64), (const char *)key, s->challenge);
        hp_ev_str(&ev, "challenge", s->challenge);
        hp_ev_bytes(&ev, "hash", hash, strlen(hash));
        hp_ev_str(&ev, "hash_format", "hashcat:20");
    }
    hp_ev_str(&ev, "asterisk_version", s->pers->asterisk);
    if (pass)
        hp_knowledge_ev_cred(&ev, u ? u : (const uint8_t *)"", ul, pass, pl);
    ami_emit(s, &ev);
}

static void ami_login(struct hp_ami_sess *s, const struct hp_ami_msg *m)
{
    if (s->authed) {
        ami_reply(s, m, "Success", "Already authenticated");
        return;
    }
    size_t ul, sl, tl, kl;
    const uint8_t *u = hp_ami_get(m, "Username", &ul);
    const uint8_t *sec = hp_ami_get(m, "Secret", &sl);
    const uint8_t *type = hp_ami_get(m, "AuthType", &tl);
    const uint8_t *key = hp_ami_get(m, "Key", &kl);
    bool md5 = ami_is(type, tl, "MD5");
    if (!md5)
        key = NULL;
    const char *found = NULL;
    size_t foundlen = 0;
    bool ok = u && ul && ami_accepts(s, u, ul, sec, sl, key, kl, &found, &foundlen);
    if (md5 && !key)               /* MD5 without a key: what it sent is all there is */
        md5 = false;
    ami_ev_login(s, ok, u, ul, found ? (const uint8_t *)found : md5 ? NULL : sec,
                 found ? foundlen : sl, md5 ? key : NULL, kl);
    if (ok) {
        s->authed = true;
        snprintf(s->user, sizeof(s->user), "%.*s", (int)(ul < 63 ? ul : 63), (const char *)u);
        s->timer_change = true;    /* no more auth timeout */
        s->timer_ms = 0;
        ami_reply(s, m, "Success", "Authentication accepted");
        ami_fully_booted(s);
        return;
    }
    size_t idl;
    const uint8_t *id = hp_ami_get(m, "ActionID", &idl);
    snprintf(s->fail_id, sizeof(s->fail_id), "%.*s", (int)(id ? (idl < 127 ? idl : 127) : 0),
             id ? (const char *)id : "");
    s->state = HP_AMI_FAILWAIT;
    s->timer_change = true;
    s->timer_ms = s->cf ? s->cf->auth_fail_delay_ms : 0;
    if (s->timer_ms == 0)
        hp_ami_timer(s);
}

static void ami_challenge(struct hp_ami_sess *s, const struct hp_ami_msg *m)
{
    size_t tl;
    const uint8_t *type = hp_ami_get(m, "AuthType", &tl);
    if (!ami_is(type, tl, "MD5")) {
        ami_reply(s, m, "Error", "Must specify AuthType");
        return;
    }
    if (!s->challenge[0])          /* ast_random(): 0 .. 2^31-1, in decimal */
        snprintf(s->challenge, sizeof(s->challenge), "%ld", (long)(hp_random_u64() & 0x7fffffff));
    ami_start(s, m, "Success");
    hp_buf_printf(&s->out, "Challenge: %s\r\n\r\n", s->challenge);
}

/* ---- CLI commands ------------------------------------------------------------------- */

/* Output of the CLI commands bots run through Action: Command, "\n"-separated.
 * "@V" is replaced by the Asterisk version, "@H" by the host name. */
static const struct {
    const char *cmd;
    const char *out;
} ami_cli[] = {
    { "core show version", "Asterisk @V built by mockbuild \\@ @H on a x86_64 running Linux" },
    { "show version", "Asterisk @V built by mockbuild \\@ @H on a x86_64 running Linux" },
    { "core show channels", "Channel              Location             State   Application(Data)             \n"
                            "0 active channels\n0 active calls\n0 calls processed" },
    { "core show calls", "0 active calls\n0 calls processed" },
    { "sip show peers", "Name/username             Host                                    Dyn Forcerport Comedia"
                        "    ACL Port     Status      Description                      \n"
                        "0 sip peers [Monitored: 0 online, 0 offline Unmonitored: 0 online, 0 offline]" },
    { "sip show users", "Username                   Secret           Accountcode      Def.Context      ACL  Forcerport" },
    { "sip show registry", "Host                                    dnsmgr Username       Refresh State"
                           "                Reg.Time                 \n0 SIP registrations." },
    { "pjsip show endpoints", "\n Endpoint:  <Endpoint/CID.....................................>  <State.....>"
                              "  <Channels.>\n==========================================================="
                              "=============================\n\nNo objects found.\n" },
    { "pjsip show registrations", "No objects found." },
    { "iax2 show peers", "Name/Username    Host                 Mask             Port          Status    "
                         "Description                     \n0 iax2 peers [0 online, 0 offline, 0 unmonitored]" },
    { "dialplan show", "[ Context 'default' created by 'pbx_config' ]\n  'i' =>            1. Verbose(1,Invalid)"
                       "   [extensions.conf:12]\n\n-= 1 extension (1 priority) in 1 context. =-" },
    { "core show hints", "There are no registered dialplan hints" },
    { "database show", "0 results found." },
};

static void ami_subst(const struct hp_ami_sess *s, const char *t, struct hp_buf *o)
{
    for (; *t; t++) {
        if (t[0] == '\\' && t[1]) {
            hp_buf_putc(o, (uint8_t)*++t);
        } else if (t[0] == '@' && t[1] == 'V') {
            hp_buf_puts(o, s->pers->asterisk);
            t++;
        } else if (t[0] == '@' && t[1] == 'H') {
            hp_buf_puts(o, ami_hostname(s));
            t++;
        } else {
            hp_buf_putc(o, (uint8_t)*t);
        }
    }
}

static void ami_cli_output(struct hp_ami_sess *s, const uint8_t *cmd, size_t n, struct hp_buf *o)
{
    while (n && (cmd[n - 1] == ' ' || cmd[n - 1] == '\t'))
        n--;
    for (size_t i = 0; i < HP_ARRAY_LEN(ami_cli); i++) {
        if (strlen(ami_cli[i].cmd) == n && strncasecmp(ami_cli[i].cmd, (const char *)cmd, n) == 0) {
            ami_subst(s, ami_cli[i].out, o);
            return;
        }
    }
    if (n >= 16 && strncasecmp((const char *)cmd, "core show uptime", 16) == 0) {
        ami_clock();
        int64_t now = hp_now_us() / 1000000, up = now - ami_boot_s, rl = now - ami_reload_s;
        hp_buf_printf(o, "System uptime: %lld days, %lld hours, %lld minutes, %lld seconds\n"
                         "Last reload: %lld days, %lld hours, %lld minutes, %lld seconds",
                      (long long)(up / 86400), (long long)(up / 3600 % 24), (long long)(up / 60 % 60),
                      (long long)(up % 60), (long long)(rl / 86400), (long long)(rl / 3600 % 24),
                      (long long)(rl / 60 % 60), (long long)(rl % 60));
        return;
    }
    hp_buf_puts(o, "No such command '");
    hp_buf_put(o, cmd, n);
    hp_buf_puts(o, "' (type 'core show help ");
    hp_buf_put(o, cmd, n);
    hp_buf_puts(o, "' for other possible commands)");
}

/* manager.c's check_blacklist(): what Action: Command refuses. */
static bool ami_cli_blacklisted(const uint8_t *cmd, size_t n)
{
    static const char *const bl[] = { "module load", "module unload", "restart gracefully" };
    char norm[64];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof(norm); i++) {
        if (cmd[i] == ' ' || cmd[i] == '\t') {
            if (k && norm[k - 1] != ' ')
                norm[k++] = ' ';
        } else {
            norm[k++] = (char)cmd[i];
        }
    }
    norm[k] = '\0';
    for (size_t i = 0; i < HP_ARRAY_LEN(bl); i++)
        if (strncasecmp(norm, bl[i], strlen(bl[i])) == 0)
            return true;
    return false;
}

static void ami_command(struct hp_ami_sess *s, const struct hp_ami_msg *m, const uint8_t *cmd, size_t n)
{
    if (!cmd || !n) {
        ami_reply(s, m, "Error", "No command provided");
        return;
    }
    if (ami_cli_blacklisted(cmd, n)) {
        ami_reply(s, m, "Error", "Command blacklisted");
        return;
    }
    struct hp_buf o;
    hp_buf_init(&o, 8192);
    ami_cli_output(s, cmd, n, &o);
    if (!s->pers->new_command) {   /* Asterisk <= 13 */
        ami_start(s, m, "Follows");
        hp_buf_puts(&s->out, "Privilege: Command\r\n");
        hp_buf_put(&s->out, o.data, o.len);
        hp_buf_puts(&s->out, "\n--END COMMAND--\r\n\r\n");
    } else {                       /* 14+: one Output header per line */
        ami_start(s, m, "Success");
        hp_buf_puts(&s->out, "Message: Command output follows\r\n");
        size_t a = 0;
        for (size_t i = 0; i <= o.len; i++) {
            if (i == o.len || o.data[i] == '\n') {
                hp_buf_puts(&s->out, "Output: ");
                hp_buf_put(&s->out, o.data + a, i - a);
                hp_buf_puts(&s->out, "\r\n");
                a = i + 1;
            }
        }
        hp_buf_puts(&s->out, "\r\n");
    }
    hp_buf_free(&o);
}

/* ---- Originate ---------------------------------------------------------------------- */

static bool ami_numeric(const uint8_t *v, size_t n)
{
    size_t i = 0;
    if (n && (v[0] == '-' || v[0] == '+'))
        i++;
    if (i >= n)
        return false;
    for (; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return false;
    return true;
}

/* Validated in manager.c's order; the first error is the answer. */
static const char *ami_originate_check(const struct hp_ami_msg *m, bool *ok)
{
    size_t l;
    const uint8_t *v;
    *ok = false;
    if (!(v = hp_ami_get(m, "Channel", &l)) || !l)
        return "Channel not specified";
    if (!memchr(v, '/', l))
        return "Invalid channel";
    const uint8_t *pr = hp_ami_get(m, "Priority", &l);
    if (pr && l && !ami_numeric(pr, l))
        return "Invalid priority";
    if ((v = hp_ami_get(m, "Timeout", &l)) && l && !ami_numeric(v, l))
        return "Invalid timeout";
    size_t al, el, cl, yl;
    const uint8_t *app = hp_ami_get(m, "Application", &al);
    const uint8_t *async = hp_ami_get(m, "Async", &yl);
    bool is_async = ami_is(async, yl, "true") || ami_is(async, yl, "yes") || ami_is(async, yl, "1") ||
                    ami_is(async, yl, "on");
    if (!is_async && !(app && al)) {
        const uint8_t *ex = hp_ami_get(m, "Exten", &el), *ctx = hp_ami_get(m, "Context", &cl);
        if (!ex || !el || !ctx || !cl || !pr)
            return "Originate with 'Exten' requires 'Context' and 'Priority'";
    }
    *ok = true;
    return "Originate successfully queued";
}

static void ami_originate(struct hp_ami_sess *s, const struct hp_ami_msg *m)
{
    static const char *const keys[][2] = {
        { "Channel", "channel" }, { "Exten", "exten" }, { "Context", "context" },
        { "Priority", "priority" }, { "Application", "application" }, { "Data", "data" },
        { "CallerID", "callerid" }, { "Timeout", "timeout" }, { "Variable", "variable" },
        { "Account", "account" }, { "Async", "async" },
    };
    bool ok;
    const char *res = ami_originate_check(m, &ok);
    struct hp_ev ev;
    hp_ev_begin(&ev, s->ctx, "ami.originate");
    for (size_t i = 0; i < HP_ARRAY_LEN(keys); i++) {
        size_t l;
        const uint8_t *v = hp_ami_get(m, keys[i][0], &l);
        if (v)
            hp_ev_bytes(&ev, keys[i][1], v, l);
    }
    hp_ev_str(&ev, "result", res);
    ami_emit(s, &ev);
    ami_reply(s, m, ok ? "Success" : "Error", res);
}

/* ---- the other actions -------------------------------------------------------------- */

static const char *const ami_actions[][2] = {
    { "WaitEvent", "Wait for an event to occur." }, { "DevicestateList", "List the current known device states." },
    { "PresenceStateList", "List the current known presence states." }, { "QueueReset", "Reset queue statistics." },
    { "QueueStatus", "Show queue status." }, { "Hangup", "Hangup channel." }, { "Status", "List channel status." },
    { "Setvar", "Sets a channel variable or function value." }, { "Getvar", "Gets a channel variable or function value." },
    { "GetConfig", "Retrieve configuration." }, { "GetConfigJSON", "Retrieve configuration (JSON format)." },
    { "UpdateConfig", "Update basic configuration." }, { "CreateConfig", "Creates an empty file in the configuration directory." },
    { "ListCategories", "List categories in configuration file." }, { "Redirect", "Redirect (transfer) a call." },
    { "Atxfer", "Attended transfer." }, { "Originate", "Originate a call." }, { "Command", "Execute Asterisk CLI Command." },
    { "ExtensionState", "Check Extension Status." }, { "Ping", "Keepalive command." },
    { "Events", "Control Event Flow." }, { "CoreSettings", "Show PBX core settings (version etc)." },
    { "CoreStatus", "Show PBX core status variables." }, { "Reload", "Send a reload event." },
    { "CoreShowChannels", "List currently active channels." }, { "ModuleLoad", "Module management." },
    { "ListCommands", "List available manager commands." }, { "Logoff", "Logoff Manager." },
    { "Login", "Login Manager." }, { "Challenge", "Generate Challenge for MD5 Auth." },
    { "SIPpeers", "List SIP peers (text format)." }, { "SIPshowpeer", "show SIP peer (text format)." },
    { "PJSIPShowEndpoints", "Lists PJSIP endpoints." }, { "DBGet", "Get DB Entry." }, { "DBPut", "Put DB entry." },
};

static void ami_list_commands(struct hp_ami_sess *s, const struct hp_ami_msg *m)
{
    ami_start(s, m, "Success");
    for (size_t i = 0; i < HP_ARRAY_LEN(ami_actions); i++)
        hp_buf_printf(&s->out, "%s: %s (Priv: %s)\r\n", ami_actions[i][0], ami_actions[i][1],
                      strcmp(ami_actions[i][0], "Ping") == 0 || strcmp(ami_actions[i][0], "Login") == 0 ||
                      strcmp(ami_actions[i][0], "Logoff") == 0 || strcmp(ami_actions[i][0], "Challenge") == 0 ||
                      strcmp(ami_actions[i][0], "WaitEvent") == 0 ? "<none>" : "system,all");
    hp_buf_puts(&s->out, "\r\n");
}

static void ami_core_settings(struct hp_ami_sess *s, const struct hp_ami_msg *m)
{
    ami_start(s, m, "Success");
    hp_buf_printf(&s->out, "AMIversion: %s\r\nAsteriskVersion: %s\r\nSystemName: %s\r\nCoreMaxCalls: 0\r\n"
                  "CoreMaxLoadAvg: 0.000000\r\nCoreRunUser: asterisk\r\nCoreRunGroup: asterisk\r\n"
                  "CoreMaxFilehandles: 0\r\nCoreRealTimeEnabled: No\r\nCoreCDRenabled: Yes\r\n"
                  "CoreHTTPenabled: No\r\n\r\n", s->pers->ami, s->pers->asterisk, ami_hostname(s));
}

static void ami_core_status(struct hp_ami_sess *s, const struct hp_ami_msg *m)
{
    char sd[16], st[16], rd[16], rt[16];
    ami_clock();
    ami_datetime(ami_boot_s, sd, st);
    ami_datetime(ami_reload_s, rd, rt);
    ami_start(s, m, "Success");
    hp_buf_printf(&s->out, "CoreStartupDate: %s\r\nCoreStartupTime: %s\r\nCoreReloadDate: %s\r\n"
                  "CoreReloadTime: %s\r\nCoreCurrentCalls: 0\r\n\r\n", sd, st, rd, rt);
}

static void ami_ping(struct hp_ami_sess *s, const struct hp_ami_msg *m)
{
    int64_t now = hp_now_us();
    ami_start(s, m, "Success");
    hp_buf_printf(&s->out, "Ping: Pong\r\nTimestamp: %lld.%06lld\r\n\r\n", (long long)(now / 1000000),
                  (long long)(now % 1000000));
}

/* An empty list: the start response and the completion event. */
static void ami_empty_list(struct hp_ami_sess *s, const struct hp_ami_msg *m, const char *msg, const char *done,
                           bool items)
{
    ami_start(s, m, "Success");
    hp_buf_printf(&s->out, "EventList: start\r\nMessage: %s\r\n\r\nEvent: %s\r\n", msg, done);
    size_t idl;
    const uint8_t *id = hp_ami_get(m, "ActionID", &idl);
    if (id && idl) {
        hp_buf_puts(&s->out, "ActionID: ");
        hp_buf_put(&s->out, id, idl);
        hp_buf_puts(&s->out, "\r\n");
    }
    hp_buf_printf(&s->out, "EventList: Complete\r\nListItems: 0\r\n%s\r\n", items ? "Items: 0\r\n" : "");
}

/* ---- dispatch ----------------------------------------------------------------------- */

static void ami_other(struct hp_ami_sess *s, const struct hp_ami_msg *m, const uint8_t *act, size_t al)
{
    size_t l;
    const uint8_t *v;
    if (ami_is(act, al, "Ping")) {
        ami_ping(s, m);
    } else if (ami_is(act, al, "CoreSettings")) {
        ami_core_settings(s, m);
    } else if (ami_is(act, al, "CoreStatus")) {
        ami_core_status(s, m);
    } else if (ami_is(act, al, "ListCommands")) {
        ami_list_commands(s, m);
    } else if (ami_is(act, al, "Command")) {
        v = hp_ami_get(m, "Command", &l);
        ami_command(s, m, v, l);
    } else if (ami_is(act, al, "Originate")) {
        ami_originate(s, m);
    } else if (ami_is(act, al, "Events")) {
        v = hp_ami_get(m, "EventMask", &l);
        ami_start(s, m, "Success");
        hp_buf_printf(&s->out, "Events: %s\r\n\r\n", ami_is(v, l, "off") || ami_is(v, l, "no") ? "Off" : "On");
    } else if (ami_is(act, al, "Status") || ami_is(act, al, "CoreShowChannels")) {
        ami_empty_list(s, m, "Channel status will follow",
                       ami_is(act, al, "Status") ? "StatusComplete" : "CoreShowChannelsComplete", true);
    } else if (ami_is(act, al, "SIPpeers")) {
        ami_empty_list(s, m, "Peer status list will follow", "PeerlistComplete", false);
    } else if (ami_is(act, al, "GetConfig") || ami_is(act, al, "GetConfigJSON")) {
        v = hp_ami_get(m, "Filename", &l);
        ami_reply(s, m, "Error", v && l ? "Config file not found" : "Filename not specified");
    } else if (ami_is(act, al, "UpdateConfig")) {
        const uint8_t *src = hp_ami_get(m, "SrcFilename", &l);
        size_t dl;
        const uint8_t *dst = hp_ami_get(m, "DstFilename", &dl);
        if (!src || !l || !dst || !dl) {
            ami_reply(s, m, "Error", "Filename not specified");
        } else {
            ami_start(s, m, "Success");
            hp_buf_puts(&s->out, "\r\n");
        }
    } else if (ami_is(act, al, "Reload")) {
        ami_reply(s, m, "Success", "Module Reloaded");
    } else {
        ami_start(s, m, "Error");
        hp_buf_puts(&s->out, "Message: Invalid/unknown command: ");
        hp_buf_put(&s->out, act, al);
        hp_buf_puts(&s->out, ". Use Action: ListCommands to show available commands.\r\n\r\n");
    }
}

static void ami_action(struct hp_ami_sess *s, const struct hp_ami_msg *m)
{
    size_t al, cl;
    const uint8_t *act = hp_ami_get(m, "Action", &al);
    s->actions++;
    char name[64];
    snprintf(name, sizeof(name), "%.*s", (int)(act ? (al < 63 ? al : 63) : 0), act ? (const char *)act : "");
    const uint8_t *cmd = ami_is(act, al, "Command") ? hp_ami_get(m, "Command", &cl) : NULL;
    if (cmd)
        ami_ev_input(s, name, cmd, cl);
    else
        ami_ev_input(s, name, m->raw, m->rawlen);
    if (m->rawlen) {
        if (s->scan)
            s->scan(s->ctx, m->raw, m->rawlen, "asterisk_ami");
        else
            hp_capture_scan(s->ctx, m->raw, m->rawlen, "asterisk_ami");
    }
    if (!act || !al) {
        ami_reply(s, m, "Error", "Missing action in request");
    } else if (ami_is(act, al, "Login")) {
        ami_login(s, m);
    } else if (ami_is(act, al, "Logoff")) {
        ami_reply(s, m, "Goodbye", "Thanks for all the fish.");
        s->state = HP_AMI_DONE;
        s->close_reason = "ami_logoff";
    } else if (ami_is(act, al, "Challenge")) {
        ami_challenge(s, m);
    } else if (!s->authed) {
        ami_reply(s, m, "Error", "Permission denied");
    } else {
        ami_other(s, m, act, al);
    }
}

void hp_ami_input(struct hp_ami_sess *s, struct hp_rd *in)
{
    /* Stop at half the output cap: the caller sends and calls again. */
    while (s->state == HP_AMI_OPEN && !s->close_reason && s->out.len < HP_AMI_OUT_MAX / 2) {
        struct hp_ami_msg m;
        int r = hp_ami_parse(in, &m, AMI_PENDING_MAX, &s->hint);
        if (r == 0)
            return;
        if (r < 0) {
            s->state = HP_AMI_DONE;
            s->close_reason = "ami_action_too_long";
            return;
        }
        ami_action(s, &m);
    }
}

void hp_ami_timer(struct hp_ami_sess *s)
{
    if (s->state == HP_AMI_FAILWAIT) {
        hp_buf_puts(&s->out, "Response: Error\r\n");
        if (s->fail_id[0])
            hp_buf_printf(&s->out, "ActionID: %s\r\n", s->fail_id);
        hp_buf_puts(&s->out, "Message: Authentication failed\r\n\r\n");
        s->state = HP_AMI_DONE;
        s->close_reason = "ami_auth_failed";
    } else if (s->state == HP_AMI_OPEN && !s->authed) {
        s->state = HP_AMI_DONE;    /* Asterisk's authtimeout: closed without a word */
        s->close_reason = "ami_auth_timeout";
    }
}

void hp_ami_open(struct hp_ami_sess *s, const struct hp_ami_conf *cf, const struct hp_evctx *ctx,
                 hp_ami_emit_fn emit, hp_ami_scan_fn scan)
{
    memset(s, 0, sizeof(*s));
    s->cf = cf;
    s->pers = cf && cf->pers ? cf->pers : &ami_pers[3];
    s->ctx = ctx;
    s->emit = emit;
    s->scan = scan;
    s->state = HP_AMI_OPEN;
    hp_buf_init(&s->out, HP_AMI_OUT_MAX);
    hp_buf_printf(&s->out, "Asterisk Call Manager/%s\r\n", s->pers->ami);
    if (cf && cf->auth_timeout_ms) {
        s->timer_change = true;
        s->timer_ms = cf->auth_timeout_ms;
    }
}

void hp_ami_free(struct hp_ami_sess *s)
{
    hp_buf_free(&s->out);
}

/* ---- the protocol module ------------------------------------------------------------ */

static int ami_set_accept(struct hp_ami_conf *cf, const char *v)
{
    hp_ami_conf_free(cf);          /* the list replaces the default (hostname is set after) */
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, " \t,");
        if (!n)
            break;
        if (cf->naccept >= HP_AMI_ACCEPT_MAX || n > 200 || (!(n == 1 && *p == '*') && !memchr(p, ':', n)))
            return -1;
        char *e = hp_xcalloc(1, n + 1);
        memcpy(e, p, n);
        cf->accept[cf->naccept++] = e;
        p += n;
    }
    return 0;
}

static void ami_unconfigure(struct hp_service_cfg *svc)
{
    struct hp_ami_conf *cf = svc->proto_conf;
    if (cf)
        hp_ami_conf_free(cf);
    free(cf);
    svc->proto_conf = NULL;
}

static int ami_configure(struct hp_service_cfg *svc, char *err, size_t errlen)
{
    struct hp_ami_conf *cf = hp_xcalloc(1, sizeof(*cf));
    hp_ami_conf_init(cf);
    svc->proto_conf = cf;
    char *host = NULL;
    for (const struct hp_kv *kv = svc->opts; kv; kv = kv->next) {
        int bad = 0;
        if (strcmp(kv->key, "version") == 0) {
            cf->pers = hp_ami_pers_find(kv->value);
            bad = !cf->pers;
        } else if (strcmp(kv->key, "accept") == 0) {
            bad = ami_set_accept(cf, kv->value);
        } else if (strcmp(kv->key, "auth_fail_delay") == 0) {
            bad = hp_parse_duration_ms(kv->value, &cf->auth_fail_delay_ms) || cf->auth_fail_delay_ms > 60000;
        } else if (strcmp(kv->key, "auth_timeout") == 0) {
            bad = hp_parse_duration_ms(kv->value, &cf->auth_timeout_ms) ||
                  cf->auth_timeout_ms > 24ull * 3600 * 1000;
        } else if (strcmp(kv->key, "hostname") == 0) {
            bad = !kv->value[0] || strlen(kv->value) > 253 || strpbrk(kv->value, " \t\r\n");
            if (!bad) {
                free(host);
                host = hp_xstrdup(kv->value);
            }
        } else {
            snprintf(err, errlen, "%d: unknown key '%s' in [service %s] (protocol asterisk_ami)", kv->line,
                     kv->key, svc->name);
            free(host);
            ami_unconfigure(svc);
            return -1;
        }
        if (bad) {
            snprintf(err, errlen, "%d: [service %s]: bad value for %s: '%s'", kv->line, svc->name, kv->key,
                     kv->value);
            free(host);
            ami_unconfigure(svc);
            return -1;
        }
    }
    cf->hostname = host;
    return 0;
}

static int ami_start_svc(struct hp_service_cfg *svc, const struct hp_config *cfg, char *err, size_t errlen)
{
    struct hp_ami_conf *cf = svc->proto_conf;
    if (!cf->pers)
        cf->pers = ami_pers_identity();
    return 0;
}

static void ami_flush(struct hp_conn *c, struct hp_ami_sess *s)
{
    if (s->out.len)
        hp_conn_send(c, s->out.data, s->out.len);
    hp_buf_reset(&s->out);
    if (s->timer_change) {
        s->timer_change = false;
        hp_conn_set_timer(c, s->timer_ms);
    }
    if (s->close_reason)
        hp_conn_close(c, s->close_reason);
}

static void ami_accept(struct hp_conn *c)
{
    struct hp_ami_sess *s = c->pstate;
    hp_ami_open(s, hp_conn_service_cfg(c)->proto_conf, &c->ctx, NULL, NULL);
    ami_flush(c, s);
}

static void ami_data(struct hp_conn *c, struct hp_rd *in)
{
    struct hp_ami_sess *s = c->pstate;
    for (int i = 0; i < 4096; i++) {
        size_t before = hp_rd_pos(in);
        hp_ami_input(s, in);
        bool full = s->out.len >= HP_AMI_OUT_MAX / 2;
        ami_flush(c, s);
        if (!full || s->close_reason || hp_rd_pos(in) == before)
            break;
    }
}

static void ami_timer(struct hp_conn *c)
{
    struct hp_ami_sess *s = c->pstate;
    hp_ami_timer(s);
    ami_flush(c, s);
}

static void ami_close(struct hp_conn *c)
{
    hp_ami_free(c->pstate);
}

const struct hp_proto hp_proto_ami = {
    .name = "asterisk_ami",
    .transports = HP_TRANSPORT_TCP,
    .default_tcp_ports = "5038",
    .conn_state_size = sizeof(struct hp_ami_sess),
    .default_max_input = 1024 * 1024,
    .configure = ami_configure,
    .unconfigure = ami_unconfigure,
    .start = ami_start_svc,
    .on_accept = ami_accept,
    .on_data = ami_data,
    .on_timer = ami_timer,
    .on_close = ami_close,
};
